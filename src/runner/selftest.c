/* The start-up self-test (see selftest.h). */
#include "runner/selftest.h"
#include "lib/log.h"
#include "lib/util.h"
#include "runner/jobdir.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SELFTEST_TIMEOUT_MS 20000
/* A self-test that fails is tried again this often, waiting twice as long
 * each time. */
#define SELFTEST_TRIES 4
#define SELFTEST_RETRY_MS 250

static void close_if_open(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static int once(struct ft_child_host *h, const char *work_dir, const struct ft_run_limits *max,
		int64_t *took_ms, char *msg, size_t msglen)
{
	char *dir = NULL;
	int dirfd = -1, fds[4] = { -1, -1, -1, -1 }, rc = -1;
	struct ft_cgroup_job *cg = NULL;
	struct ft_spawned sp = { -1, -1, -1 };
	char err[512] = "";
	uid_t uid = 0;
	bool has_uid = false;

	if (ft_jobdir_make(work_dir, FT_JOBDIR_SELFTEST, ft_sandbox_enabled(h->sb), &dir, &dirfd) <
	    0) {
		if (!dir) {
			ft_set_err(msg, msglen, "self-test: mkdtemp in %s: %s", work_dir,
				   strerror(errno));
			return -1;
		}
		ft_set_err(msg, msglen, "self-test: %s: %s", dir, strerror(errno));
		goto out;
	}
	fds[0] = open("/dev/null", O_RDONLY | O_CLOEXEC);
	fds[1] = ft_jobdir_open_output(dirfd, FT_JOBDIR_RUN_OUT);
	fds[2] = ft_jobdir_open_output(dirfd, FT_JOBDIR_RUN_ERR);
	if (fds[0] < 0 || fds[1] < 0 || fds[2] < 0) {
		ft_set_err(msg, msglen, "self-test: output files: %s", strerror(errno));
		goto out;
	}
	if (ft_child_claim_uid(h, &uid, &has_uid, err, sizeof(err)) < 0) {
		ft_set_err(msg, msglen, "self-test: %s", err);
		goto out;
	}
	if (h->cg) {
		cg = ft_child_cgroup_new(h, max->run_memory_bytes, max->run_max_processes, err,
					 sizeof(err));
		if (!cg) {
			ft_set_err(msg, msglen, "self-test: cgroup: %s", err);
			goto out;
		}
	}
	char mem[FT_JVM_MEM_ARGS_MAX][FT_JVM_ARG_LEN];
	char *argv[32];
	int n = ft_child_jvm_args(h, max->run_memory_bytes, argv, mem);
	argv[n++] = "-version";
	argv[n] = NULL;
	struct ft_child_limits cl = {
		.tmp_bytes = FT_MiB,
		.fsize = 1 << 20,
		.cpu_seconds = ft_cpu_rlimit_seconds(SELFTEST_TIMEOUT_MS),
		.memory = max->run_memory_bytes,
		.tasks = max->run_max_processes,
		.address_space = ft_child_address_space(max->run_memory_bytes),
		.nofile = (rlim_t)max->run_max_open_files,
	};
	int64_t t0 = ft_now_ms();
	if (ft_child_start(h, dirfd, dir, fds, cg, uid, &cl, argv, &sp) < 0) {
		ft_set_err(msg, msglen, "self-test: cannot start a child: %s", strerror(errno));
		goto out;
	}
	int status = 0;
	pid_t w;
	struct timespec tick = { 0, 2 * 1000 * 1000 };
	while ((w = waitpid(sp.pid, &status, WNOHANG)) == 0 &&
	       ft_now_ms() - t0 < SELFTEST_TIMEOUT_MS)
		nanosleep(&tick, NULL);
	if (w == 0) {
		kill(-sp.pid, SIGKILL);
		(void)waitpid(sp.pid, &status, 0);
		ft_set_err(msg, msglen,
			   "self-test: java -version in the sandbox took more than %d ms",
			   SELFTEST_TIMEOUT_MS);
		goto out;
	}
	*took_ms = ft_now_ms() - t0;
	struct ft_spawn_failure f;
	if (read(sp.err_fd, &f, sizeof(f)) == (ssize_t)sizeof(f)) {
		ft_set_err(msg, msglen, "self-test: sandbox set-up failed at %s: %s",
			   ft_sandbox_stage_name(f.stage), strerror(f.err));
		goto out;
	}
	char st[512];
	size_t st_len = 0;
	st[0] = '\0';
	ft_sandbox_read_status(sp.status_fd, st, sizeof(st), &st_len);
	bool started = !ft_sandbox_enabled(h->sb) || ft_sandbox_child_pid(st) > 0;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || !started) {
		char *e = ft_jobdir_excerpt(dirfd, FT_JOBDIR_RUN_ERR);
		ft_set_err(msg, msglen,
			   "self-test: java -version in the sandbox failed (status %#x): %s",
			   status, e);
		free(e);
		goto out;
	}
	rc = 0;
out:
	for (int i = 0; i < 4; i++)
		close_if_open(&fds[i]);
	close_if_open(&sp.err_fd);
	close_if_open(&sp.status_fd);
	if (cg) {
		/* Its tasks are gone (waited for), but may still be leaving. */
		for (int i = 0; i < 50 && cg; i++) {
			if (ft_cgroup_job_destroy(cg) == 0)
				cg = NULL;
			else
				nanosleep(&(struct timespec){ 0, 10 * 1000 * 1000 }, NULL);
		}
		if (cg)
			ft_cgroup_job_abandon(cg);
	}
	ft_child_release_uid(h, uid, &has_uid);
	close_if_open(&dirfd);
	ft_jobdir_remove(dir);
	free(dir);
	return rc;
}

int ft_selftest(struct ft_child_host *h, const char *work_dir, const struct ft_run_limits *max,
		int64_t *took_ms, char *err, size_t errlen)
{
	int wait_ms = SELFTEST_RETRY_MS;
	for (int i = 1;; i++) {
		if (once(h, work_dir, max, took_ms, err, errlen) == 0)
			return 0;
		if (i == SELFTEST_TRIES)
			return -1;
		ft_log_warn("runner: %s (try %d of %d; again in %d ms)", err, i, SELFTEST_TRIES,
			    wait_ms);
		nanosleep(&(struct timespec){ wait_ms / 1000, (long)(wait_ms % 1000) * 1000000 },
			  NULL);
		wait_ms *= 2;
	}
}
