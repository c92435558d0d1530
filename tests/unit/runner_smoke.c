/* Runs Java files through the runner on an sd-event loop, for manual
 * checks, timing and integration tests:
 *
 *   runner_smoke JAVA JAR WORKDIR FILE.java... [-- wall_ms [max_output_bytes]]
 *
 * For each file, in order, prints
 *   "verdict=<name> exit=<n> wall_ms=<n> run_ms=<n> cpu_ms=<n> memory_bytes=<n>\n"
 * then the body exactly as the runner produced it, then "\n" if more files
 * follow.  The runner's description of its limits goes to stderr.
 *
 * Optional environment: FT_SMOKE_CPU_MS, FT_SMOKE_MEMORY (bytes),
 * FT_SMOKE_PROCS, FT_SMOKE_FILE (max file bytes), FT_SMOKE_COMPILE_WALL_MS,
 * FT_SMOKE_MEMORY_MODE (auto|cgroup2|cgroup1|rlimit), FT_SMOKE_NO_SANDBOX=1,
 * FT_SMOKE_REPEAT (run each file that many times; prints one line per run
 * and the body of the last), FT_SMOKE_PARALLEL (jobs started at once).
 *
 * Exits 0 whenever every job produced a verdict, 2 on usage or setup errors. */
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
	struct ft_runner *runner;
	char **files;
	int n_files;
	int next; /* next file index to start */
	int repeat;
	int round;
	int parallel;
	int running;
	int got;
	int want;
	int failed;
};

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

static long env_long(const char *name, long def)
{
	const char *v = getenv(name);
	return v && *v ? strtol(v, NULL, 10) : def;
}

static unsigned long long env_ull(const char *name)
{
	const char *v = getenv(name);
	return v && *v ? strtoull(v, NULL, 10) : 0;
}

static int start_next(struct smoke *sm);

static void on_done(void *ud, uint64_t job_id, const struct ft_run_result *res)
{
	struct smoke *sm = ud;
	printf("verdict=%s exit=%d wall_ms=%" PRId64 " run_ms=%" PRId64 " cpu_ms=%" PRId64
	       " memory_bytes=%" PRId64 "\n",
	       ft_verdict_name(res->verdict), res->exit_code, res->wall_ms, res->run_ms,
	       res->cpu_ms, res->memory_bytes);
	if (getenv("FT_SMOKE_SHOW_CACHED"))
		printf("compile_cached=%d\n", res->compile_cached);
	sm->got++;
	sm->running--;
	if (sm->repeat <= 1 || sm->got == sm->want) {
		fwrite(res->body, 1, res->body_len, stdout);
		if (sm->got < sm->want)
			putchar('\n');
	}
	fflush(stdout);
	while (sm->running < sm->parallel && start_next(sm) == 1)
		;
	if (sm->got == sm->want || (sm->running == 0 && sm->failed))
		sd_event_exit(sm->ev, 0);
}

/* 1 if a job was started, 0 if none is left, -1 on failure. */
static int start_next(struct smoke *sm)
{
	if (sm->round >= sm->repeat)
		return 0;
	const char *path = sm->files[sm->next];
	size_t len;
	char *src = slurp(path, &len);
	if (!src) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		sm->failed = 1;
		return -1;
	}
	uint64_t id = (uint64_t)(sm->round * sm->n_files + sm->next + 1);
	if (++sm->next == sm->n_files) {
		sm->next = 0;
		sm->round++;
	}
	int rc = ft_runner_start(sm->runner, id, src, len, on_done, sm);
	free(src);
	if (rc < 0) {
		fprintf(stderr, "ft_runner_start: %s\n", strerror(errno));
		sm->failed = 1;
		return -1;
	}
	sm->running++;
	return 1;
}

int main(int argc, char **argv)
{
	int dashdash = argc;
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--") == 0) {
			dashdash = i;
			break;
		}
	if (dashdash < 5) {
		fprintf(stderr,
			"usage: %s JAVA JAR WORKDIR FILE.java... [-- wall_ms [max_output_bytes]]\n",
			argv[0]);
		return 2;
	}
	const char *mode = getenv("FT_SMOKE_MEMORY_MODE");
	struct ft_runner_conf conf = {
		.java = argv[1],
		.jar = argv[2],
		.work_dir = argv[3],
		.wall_ms = dashdash + 1 < argc ? atoi(argv[dashdash + 1]) : DEFAULT_WALL_MS,
		.max_output_bytes = dashdash + 2 < argc ? strtoull(argv[dashdash + 2], NULL, 10)
							: DEFAULT_MAX_OUTPUT,
		.compile_wall_ms = (int)env_long("FT_SMOKE_COMPILE_WALL_MS", 0),
		.cpu_ms = (int)env_long("FT_SMOKE_CPU_MS", 0),
		.memory_bytes = env_ull("FT_SMOKE_MEMORY"),
		.max_processes = (int)env_long("FT_SMOKE_PROCS", 0),
		.max_file_bytes = env_ull("FT_SMOKE_FILE"),
		.sandbox_disabled = (int)env_long("FT_SMOKE_NO_SANDBOX", 0),
		.memory_mode = !mode || strcmp(mode, "auto") == 0 ? FT_MEMORY_AUTO
			       : strcmp(mode, "cgroup2") == 0	  ? FT_MEMORY_CGROUP2
			       : strcmp(mode, "cgroup1") == 0	  ? FT_MEMORY_CGROUP1
								  : FT_MEMORY_RLIMIT,
	};
	struct smoke sm = {
		.files = argv + 4,
		.n_files = dashdash - 4,
		.repeat = (int)env_long("FT_SMOKE_REPEAT", 1),
		.parallel = (int)env_long("FT_SMOKE_PARALLEL", 1),
	};
	if (sm.repeat < 1)
		sm.repeat = 1;
	if (sm.parallel < 1)
		sm.parallel = 1;
	sm.want = sm.repeat * sm.n_files;

	/* sd_event_add_child needs SIGCHLD blocked before the loop exists. */
	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigprocmask(SIG_BLOCK, &mask, NULL);

	int rc = 2;
	int r = sd_event_new(&sm.ev);
	if (r < 0) {
		fprintf(stderr, "sd_event_new: %s\n", strerror(-r));
		goto out;
	}
	sm.runner = ft_runner_new(sm.ev, &conf);
	if (!sm.runner) {
		fprintf(stderr, "ft_runner_new: %s: %s\n", strerror(errno), ft_runner_last_error());
		goto out;
	}
	fprintf(stderr, "runner: %s\n", ft_runner_describe(sm.runner));
	while (sm.running < sm.parallel && start_next(&sm) == 1)
		;
	if (sm.running == 0)
		goto out;
	r = sd_event_loop(sm.ev);
	if (r < 0)
		fprintf(stderr, "sd_event_loop: %s\n", strerror(-r));
	if (ft_runner_active(sm.runner) != 0)
		fprintf(stderr, "runner still has %zu active jobs\n", ft_runner_active(sm.runner));
	rc = sm.got == sm.want ? 0 : 2;
out:
	ft_runner_free(sm.runner);
	sd_event_unref(sm.ev);
	return rc;
}
