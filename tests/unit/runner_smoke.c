/* Runs one Java file through the runner on an sd-event loop, for manual
 * checks and integration tests:
 *
 *   runner_smoke JAVA JAR WORKDIR FILE.java [wall_ms [max_output_bytes]]
 *
 * Prints "verdict=<name> exit=<n> wall_ms=<n>\n" and then the body exactly
 * as the runner produced it (no newline added).  Exits 0 whenever a verdict
 * was produced, 2 on usage or setup errors. */
#include "runner/runner.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_WALL_MS 10000
#define DEFAULT_MAX_OUTPUT (1u << 20)

struct smoke {
	sd_event *ev;
	int got;
};

static void on_done(void *ud, uint64_t job_id, const struct ft_run_result *res)
{
	struct smoke *sm = ud;
	printf("verdict=%s exit=%d wall_ms=%" PRId64 "\n", ft_verdict_name(res->verdict),
	       res->exit_code, res->wall_ms);
	fwrite(res->body, 1, res->body_len, stdout);
	fflush(stdout);
	sm->got = 1;
	sd_event_exit(sm->ev, 0);
}

static char *slurp(const char *path, size_t *lenp)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	size_t cap = 1 << 16, len = 0, n;
	char *buf = malloc(cap);
	while (buf && (n = fread(buf + len, 1, cap - len, f)) > 0) {
		len += n;
		if (len == cap) {
			char *nb = realloc(buf, cap *= 2);
			if (!nb)
				free(buf);
			buf = nb;
		}
	}
	fclose(f);
	*lenp = len;
	return buf;
}

int main(int argc, char **argv)
{
	if (argc < 5 || argc > 7) {
		fprintf(stderr, "usage: %s JAVA JAR WORKDIR FILE.java [wall_ms [max_output_bytes]]\n",
			argv[0]);
		return 2;
	}
	struct ft_runner_conf conf = {
		.java = argv[1],
		.jar = argv[2],
		.work_dir = argv[3],
		.wall_ms = argc > 5 ? atoi(argv[5]) : DEFAULT_WALL_MS,
		.max_output_bytes = argc > 6 ? strtoull(argv[6], NULL, 10) : DEFAULT_MAX_OUTPUT,
	};
	size_t len;
	char *src = slurp(argv[4], &len);
	if (!src) {
		fprintf(stderr, "%s: %s\n", argv[4], strerror(errno));
		return 2;
	}

	/* sd_event_add_child needs SIGCHLD blocked before the loop exists. */
	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigprocmask(SIG_BLOCK, &mask, NULL);

	struct smoke sm = {0};
	struct ft_runner *runner = NULL;
	int rc = 2;
	int r = sd_event_new(&sm.ev);
	if (r < 0) {
		fprintf(stderr, "sd_event_new: %s\n", strerror(-r));
		goto out;
	}
	runner = ft_runner_new(sm.ev, &conf);
	if (!runner) {
		fprintf(stderr, "ft_runner_new: %s\n", strerror(errno));
		goto out;
	}
	if (ft_runner_start(runner, 1, src, len, on_done, &sm) < 0) {
		fprintf(stderr, "ft_runner_start: %s\n", strerror(errno));
		goto out;
	}
	r = sd_event_loop(sm.ev);
	if (r < 0)
		fprintf(stderr, "sd_event_loop: %s\n", strerror(-r));
	if (ft_runner_active(runner) != 0)
		fprintf(stderr, "runner still has %zu active jobs\n", ft_runner_active(runner));
	rc = sm.got ? 0 : 2;
out:
	ft_runner_free(runner);
	sd_event_unref(sm.ev);
	free(src);
	return rc;
}
