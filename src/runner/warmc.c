/* The warm compiler and its queue (see warmc.h). */
#include "runner/warmc.h"
#include "lib/log.h"
#include "lib/util.h"
#include "runner/javawire.h"
#include "runner/jobdir.h"
#include "runner/launch.h"
#include "runner/warmproto.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/wait.h>
#include <unistd.h>

/* Restarted after this many jobs (bounds any leak), given up after this
 * many consecutive deaths... */
#define SRV_MAX_JOBS 1000
#define SRV_FAILS_MAX 3
/* ...and tried again after this long (the host's shortage may be over). */
#define SRV_RETRY_MS 10000
#define SRV_CPU_SECONDS 3600
/* The largest answer it may give. */
#define SRV_ANSWER_MAX ((size_t)FT_LAUNCH_COMPILE_FSIZE_MAX)

struct ft_warmc {
	struct ft_child_host *h;
	const char *work_dir;
	const struct ft_run_limits *max;
	const struct ft_warmc_ops *ops;
	void *ud;

	pid_t pid; /* 0: not running */
	int in_fd, out_fd;
	int dirfd;
	char *dir;
	int err_fd, status_fd;
	struct ft_cgroup_job *cg;
	sd_event_source *child_src, *in_src, *out_src;
	char *wbuf;
	size_t wlen, woff;
	unsigned char *rbuf;
	size_t rlen, rcap;
	struct ft_warm_job *cur;	     /* the job being compiled, NULL if none */
	struct ft_warm_job *q_head, *q_tail; /* waiting jobs */
	sd_event_source *deadline_src;	     /* cur's compile deadline */
	int served;			     /* jobs answered by this JVM */
	int fails;			     /* consecutive deaths without an answer */
	bool disabled;			     /* given up on since disabled_ms */
	int64_t disabled_ms;
	uid_t uid; /* its sandbox user while it runs */
	bool has_uid;
	uint64_t budget; /* its memory limit */
};

static void send_next(struct ft_warmc *w);

static void close_if_open(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* cur leaves the compiler: its deadline goes with it. */
static struct ft_warm_job *take_cur(struct ft_warmc *w)
{
	struct ft_warm_job *j = w->cur;
	w->cur = NULL;
	if (w->deadline_src)
		(void)sd_event_source_set_enabled(w->deadline_src, SD_EVENT_OFF);
	return j;
}

static void srv_stop(struct ft_warmc *w)
{
	if (w->pid > 1) {
		(void)kill(-w->pid, SIGKILL);
		if (w->cg)
			(void)ft_cgroup_job_kill(w->cg);
		if (w->child_src)
			(void)sd_event_source_set_child_process_own(w->child_src, 1);
	}
	w->child_src = sd_event_source_unref(w->child_src);
	w->in_src = sd_event_source_unref(w->in_src);
	w->out_src = sd_event_source_unref(w->out_src);
	close_if_open(&w->in_fd);
	close_if_open(&w->out_fd);
	close_if_open(&w->err_fd);
	close_if_open(&w->status_fd);
	if (w->cg) {
		ft_child_release_cgroup(w->h, w->cg);
		w->cg = NULL;
	}
	ft_child_release_uid(w->h, w->uid, &w->has_uid);
	if (w->dir)
		ft_jobdir_remove(w->dir);
	close_if_open(&w->dirfd);
	free(w->dir);
	w->dir = NULL;
	free(w->wbuf);
	w->wbuf = NULL;
	w->wlen = w->woff = 0;
	w->rlen = 0;
	w->pid = 0;
	w->served = 0;
}

static void srv_disable(struct ft_warmc *w)
{
	w->disabled = true;
	w->disabled_ms = ft_now_ms();
	ft_log_warn("runner: the warm compiler failed %d times in a row; compiling cold, trying it "
		    "again in %d s",
		    w->fails, SRV_RETRY_MS / 1000);
}

bool ft_warmc_usable(struct ft_warmc *w)
{
	if (w->disabled && ft_now_ms() - w->disabled_ms >= SRV_RETRY_MS) {
		w->disabled = false;
		w->fails = SRV_FAILS_MAX - 1;
	}
	return !w->disabled;
}

/* The compiler JVM died or misbehaved: the job in it (if any) is handed
 * back, out of memory too (a long-lived compiler's heap also holds what
 * earlier jobs left, so the cold compiler, with the whole limit for this
 * source alone, gives the verdict). */
static void srv_failed(struct ft_warmc *w, bool oom)
{
	struct ft_warm_job *j = take_cur(w);
	srv_stop(w);
	if (++w->fails >= SRV_FAILS_MAX && !oom)
		srv_disable(w);
	if (j)
		w->ops->handed_back(w->ud, j);
	send_next(w);
}

static int on_srv_exit(sd_event_source *s, const siginfo_t *si, void *ud)
{
	struct ft_warmc *w = ud;
	struct ft_cgroup_stats cs = { .cpu_ns = -1, .memory_peak = -1 };
	if (w->cg)
		ft_cgroup_job_stats(w->cg, &cs);
	if (w->pid > 1) {
		(void)kill(-w->pid, SIGKILL);
		(void)waitpid(w->pid, NULL, WNOHANG);
	}
	w->pid = 0;
	bool oom = cs.oom_killed || (si->si_code == CLD_EXITED &&
				     si->si_status == FT_WIRE_COMPILER_EXIT_OUT_OF_MEMORY);
	srv_failed(w, oom);
	return 0;
}

static int srv_start(struct ft_warmc *w)
{
	const struct ft_child_host *h = w->h;
	int in[2] = { -1, -1 }, out[2] = { -1, -1 }, errf = -1;
	struct ft_spawned sp = { -1, -1, -1 };
	char err[512];
	char mem[FT_JVM_MEM_ARGS_MAX][FT_JVM_ARG_LEN];
	char *argv[32];
	uint64_t budget = w->max->compile_memory_bytes;
	w->budget = budget;

	w->in_fd = w->out_fd = w->err_fd = w->status_fd = w->dirfd = -1;
	if (ft_jobdir_make(w->work_dir, FT_JOBDIR_WARM_COMPILER, ft_sandbox_enabled(h->sb), &w->dir,
			   &w->dirfd) < 0)
		goto fail;
	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0)
		goto fail;
	errf = ft_jobdir_open_output(w->dirfd, FT_JOBDIR_COMPILE_ERR);
	if (errf < 0 || ft_child_claim_uid(w->h, &w->uid, &w->has_uid, err, sizeof(err)) < 0)
		goto fail;
	if (h->cg) {
		w->cg = ft_child_cgroup_new(w->h, budget, FT_LAUNCH_COMPILE_TASKS, err,
					    sizeof(err));
		if (!w->cg)
			goto fail;
	}
	int n = ft_child_jvm_args(h, budget, argv, mem);
	char *tmpdir = ft_xasprintf("-Djava.io.tmpdir=%s",
				    ft_sandbox_enabled(h->sb) ? FT_SANDBOX_TMP : w->dir);
	/* Long-lived and mostly idle: keep the heap no bigger than it needs. */
	argv[n++] = "-XX:MinHeapFreeRatio=10";
	argv[n++] = "-XX:MaxHeapFreeRatio=30";
	argv[n++] = tmpdir;
	argv[n++] = "-cp";
	argv[n++] = (char *)ft_sandbox_jar(h->sb);
	argv[n++] = "ft.Compiler";
	argv[n++] = "--server";
	argv[n] = NULL;
	struct ft_child_limits cl = {
		.tmp_bytes = 16 * FT_MiB,
		.fsize = FT_LAUNCH_COMPILE_FSIZE_MAX,
		.cpu_seconds = SRV_CPU_SECONDS,
		.memory = budget,
		.tasks = FT_LAUNCH_COMPILE_TASKS,
		.address_space = ft_child_address_space(budget),
		.nofile = FT_LAUNCH_COMPILE_OPEN_FILES,
	};
	int fds[4] = { in[0], out[1], errf, -1 };
	int rc = ft_child_start(h, w->dirfd, w->dir, fds, w->cg, w->uid, &cl, argv, &sp);
	free(tmpdir);
	if (rc < 0)
		goto fail;
	w->pid = sp.pid;
	w->err_fd = sp.err_fd;
	w->status_fd = sp.status_fd;
	close(in[0]);
	close(out[1]);
	close(errf);
	in[0] = out[1] = errf = -1;
	w->in_fd = in[1];
	w->out_fd = out[0];
	(void)fcntl(w->in_fd, F_SETFL, O_NONBLOCK);
	(void)fcntl(w->out_fd, F_SETFL, O_NONBLOCK);
	if (sd_event_add_child(h->ev, &w->child_src, w->pid, WEXITED, on_srv_exit, w) < 0) {
		kill(-w->pid, SIGKILL);
		(void)waitpid(w->pid, NULL, 0);
		w->pid = 0;
		goto fail;
	}
	w->rlen = 0;
	w->served = 0;
	return 0;
fail:
	close_if_open(&in[0]);
	close_if_open(&in[1]);
	close_if_open(&out[0]);
	close_if_open(&out[1]);
	close_if_open(&errf);
	srv_stop(w);
	return -1;
}

struct ft_warmc *ft_warmc_new(struct ft_child_host *h, const char *work_dir,
			      const struct ft_run_limits *max, const struct ft_warmc_ops *ops,
			      void *ud)
{
	struct ft_warmc *w = ft_xcalloc(1, sizeof(*w));
	w->h = h;
	w->work_dir = work_dir;
	w->max = max;
	w->ops = ops;
	w->ud = ud;
	w->in_fd = w->out_fd = w->err_fd = w->status_fd = w->dirfd = -1;
	if (srv_start(w) < 0)
		w->fails++;
	return w;
}

void ft_warmc_free(struct ft_warmc *w)
{
	if (!w)
		return;
	srv_stop(w);
	w->deadline_src = sd_event_source_unref(w->deadline_src);
	free(w->rbuf);
	free(w);
}

static int on_srv_out(sd_event_source *s, int fd, uint32_t revents, void *ud)
{
	struct ft_warmc *w = ud;
	for (;;) {
		if (w->rlen == w->rcap) {
			if (w->rcap >= SRV_ANSWER_MAX) {
				srv_failed(w, false);
				return 0;
			}
			w->rcap = w->rcap ? w->rcap * 2 : 65536;
			w->rbuf = ft_xrealloc(w->rbuf, w->rcap);
		}
		ssize_t n = read(fd, w->rbuf + w->rlen, w->rcap - w->rlen);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n <= 0) { /* EOF: the exit handler deals with it */
			w->out_src = sd_event_source_unref(w->out_src);
			return 0;
		}
		w->rlen += (size_t)n;
	}
	struct ft_compiled *cc;
	size_t used;
	enum ft_warm_answer a = ft_warmproto_parse(w->rbuf, w->rlen, &cc, &used);
	if (a == FT_WARM_NEED_MORE)
		return 0;
	if (a == FT_WARM_MALFORMED || a == FT_WARM_OUT_OF_MEMORY || !w->cur) {
		ft_compiled_unref(cc);
		srv_failed(w, a == FT_WARM_OUT_OF_MEMORY);
		return 0;
	}
	struct ft_warm_job *j = take_cur(w);
	w->rlen = 0;
	w->fails = 0;
	w->served++;
	w->ops->compiled(w->ud, j, cc);
	ft_compiled_unref(cc);
	if (w->served >= SRV_MAX_JOBS && w->pid > 1) {
		/* Retire it: closing its stdin ends it; its exit is not a failure. */
		srv_stop(w);
	}
	send_next(w);
	return 0;
}

static int on_srv_in(sd_event_source *s, int fd, uint32_t revents, void *ud)
{
	struct ft_warmc *w = ud;
	while (w->woff < w->wlen) {
		ssize_t n = write(fd, w->wbuf + w->woff, w->wlen - w->woff);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return 0;
		if (n < 0) {
			srv_failed(w, false);
			return 0;
		}
		w->woff += (size_t)n;
	}
	free(w->wbuf);
	w->wbuf = NULL;
	w->wlen = w->woff = 0;
	w->in_src = sd_event_source_unref(w->in_src);
	return 0;
}

/* The compile deadline of the job in the compiler passed: the compiler is
 * restarted, the job gets the time limit as a cold compile would. */
static int on_deadline(sd_event_source *s, uint64_t usec, void *ud)
{
	struct ft_warmc *w = ud;
	struct ft_warm_job *j = take_cur(w);
	if (!j)
		return 0;
	srv_stop(w);
	w->ops->timed_out(w->ud, j);
	send_next(w);
	return 0;
}

static int arm_deadline(struct ft_warmc *w, int ms)
{
	uint64_t at = ft_child_deadline_usec(ms);
	if (w->deadline_src) {
		int rc = sd_event_source_set_time(w->deadline_src, at);
		if (rc >= 0)
			rc = sd_event_source_set_enabled(w->deadline_src, SD_EVENT_ONESHOT);
		return rc;
	}
	return sd_event_add_time(w->h->ev, &w->deadline_src, CLOCK_MONOTONIC, at, 1000, on_deadline,
				 w);
}

static struct ft_warm_job *pop(struct ft_warmc *w)
{
	struct ft_warm_job *j = w->q_head;
	w->q_head = j->next;
	if (!w->q_head)
		w->q_tail = NULL;
	j->next = NULL;
	return j;
}

/* Sends the next queued job to the compiler (starting it if needed). */
static void send_next(struct ft_warmc *w)
{
	while (!w->cur && w->q_head) {
		if (w->pid > 1 && w->budget != w->max->compile_memory_bytes)
			srv_stop(w); /* limits reloaded: a compiler with the new one */
		if (!ft_warmc_usable(w) || (w->pid <= 1 && srv_start(w) < 0)) {
			if (!w->disabled && ++w->fails >= SRV_FAILS_MAX)
				srv_disable(w);
			w->ops->handed_back(w->ud, pop(w));
			continue;
		}
		struct ft_warm_job *j = pop(w);
		w->wlen = j->req_len;
		w->woff = 0;
		w->wbuf = ft_xmemdup(j->req, j->req_len);
		w->cur = j;
		w->rlen = 0;
		if (j->compile_wall_ms > 0 && arm_deadline(w, j->compile_wall_ms) < 0) {
			srv_failed(w, false);
			continue;
		}
		if (!w->out_src &&
		    sd_event_add_io(w->h->ev, &w->out_src, w->out_fd, EPOLLIN, on_srv_out, w) < 0) {
			srv_failed(w, false);
			continue;
		}
		if (sd_event_add_io(w->h->ev, &w->in_src, w->in_fd, EPOLLOUT, on_srv_in, w) < 0) {
			srv_failed(w, false);
			continue;
		}
	}
}

void ft_warmc_enqueue(struct ft_warmc *w, struct ft_warm_job *j)
{
	j->next = NULL;
	if (w->q_tail)
		w->q_tail->next = j;
	else
		w->q_head = j;
	w->q_tail = j;
	send_next(w);
}

bool ft_warmc_unqueue(struct ft_warmc *w, struct ft_warm_job *j)
{
	struct ft_warm_job *prev = NULL;
	for (struct ft_warm_job *q = w->q_head; q; prev = q, q = q->next) {
		if (q != j)
			continue;
		if (prev)
			prev->next = j->next;
		else
			w->q_head = j->next;
		if (w->q_tail == j)
			w->q_tail = prev;
		j->next = NULL;
		return true;
	}
	return false;
}
