/* Sandboxed children of the event loop (see child.h). */
#include "runner/child.h"
#include "lib/util.h"
#include "runner/jobdir.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Tasks of the sandbox itself (bwrap's monitor and init) on top of the
 * program's limit. */
#define SANDBOX_TASKS 4
/* How often a running program's CPU time is checked (RLIMIT_CPU caps it
 * only to the second). */
#define POLL_USEC (100 * 1000)
/* A captured stream's buffer starts at this and doubles. */
#define OUTPUT_BUF_MIN 4096
/* Job cgroups whose tasks are still leaving are retried this often, this
 * many times (then left for the next start's clean-up). */
#define CGROUP_RETRY_USEC (200 * 1000)
#define CGROUP_RETRIES 300

/* Children get a fixed, small environment: nothing from the daemon's (no
 * JAVA_TOOL_OPTIONS or CLASSPATH sneaking in), a UTF-8 locale so the JVM
 * can handle non-ASCII class and file names, and few malloc arenas (each
 * reserves 64 MiB of address space, which matters under RLIMIT_AS). */
static char *const child_env[] = {
	"PATH=/usr/local/bin:/usr/bin:/bin",
	"LANG=C.UTF-8",
	"MALLOC_ARENA_MAX=2",
	NULL,
};

/* A job cgroup that could not be removed yet. */
struct ft_cg_grave {
	struct ft_cg_grave *next;
	struct ft_cgroup_job *cg;
	int tries;
};

static void close_if_open(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* ---- cgroups of finished children ---- */

static void arm_grave_timer(struct ft_child_host *h)
{
	if (h->grave_timer) {
		if (sd_event_source_set_time_relative(h->grave_timer, CGROUP_RETRY_USEC) >= 0)
			(void)sd_event_source_set_enabled(h->grave_timer, SD_EVENT_ONESHOT);
	}
}

static int on_grave_timer(sd_event_source *s, uint64_t usec, void *ud)
{
	struct ft_child_host *h = ud;
	struct ft_cg_grave **pp = &h->graves;
	while (*pp) {
		struct ft_cg_grave *g = *pp;
		bool gone = ft_cgroup_job_destroy(g->cg) == 0;
		if (!gone && ++g->tries >= CGROUP_RETRIES)
			ft_cgroup_job_abandon(g->cg); /* left for the next start */
		if (gone || g->tries >= CGROUP_RETRIES) {
			*pp = g->next;
			free(g);
			continue;
		}
		pp = &g->next;
	}
	if (h->graves)
		arm_grave_timer(h);
	return 0;
}

void ft_child_release_cgroup(struct ft_child_host *h, struct ft_cgroup_job *cg)
{
	if (!cg || ft_cgroup_job_destroy(cg) == 0)
		return;
	struct ft_cg_grave *g = ft_xmalloc(sizeof(*g));
	g->cg = cg;
	g->tries = 0;
	g->next = h->graves;
	h->graves = g;
	if (!h->grave_timer) {
		if (sd_event_add_time_relative(h->ev, &h->grave_timer, CLOCK_MONOTONIC,
					       CGROUP_RETRY_USEC, 10000, on_grave_timer, h) < 0)
			h->grave_timer = NULL;
		else
			(void)sd_event_source_set_enabled(h->grave_timer, SD_EVENT_ONESHOT);
	} else {
		arm_grave_timer(h);
	}
}

void ft_child_host_drain(struct ft_child_host *h)
{
	while (h->graves) {
		struct ft_cg_grave *g = h->graves;
		h->graves = g->next;
		for (int i = 0; i < 20; i++) {
			if (ft_cgroup_job_destroy(g->cg) == 0) {
				g->cg = NULL;
				break;
			}
			nanosleep(&(struct timespec){ 0, 5 * 1000 * 1000 }, NULL);
		}
		if (g->cg)
			ft_cgroup_job_abandon(g->cg);
		free(g);
	}
	h->grave_timer = sd_event_source_unref(h->grave_timer);
}

struct ft_cgroup_job *ft_child_cgroup_new(struct ft_child_host *h, uint64_t memory, int tasks,
					  char *err, size_t errlen)
{
	return ft_cgroup_job_new(h->cg, memory, tasks + SANDBOX_TASKS, err, errlen);
}

/* ---- sandbox users, JVM flags, starting ---- */

int ft_child_claim_uid(struct ft_child_host *h, uid_t *uid, bool *has, char *err, size_t errlen)
{
	if (!h->uids || *has)
		return 0;
	if (ft_uidpool_claim(h->uids, uid) < 0) {
		snprintf(err, errlen,
			 "no free sandbox uid: the host's nodes hold all of sandbox.uid_count (%s)",
			 strerror(errno));
		return -1;
	}
	*has = true;
	return 0;
}

void ft_child_release_uid(struct ft_child_host *h, uid_t uid, bool *has)
{
	if (*has)
		ft_uidpool_release(h->uids, uid);
	*has = false;
}

bool ft_child_memory_by_rlimit(const struct ft_child_host *h)
{
	return !ft_cgroups_has(h->cg, FT_CG_MEMORY);
}

int ft_child_jvm_args(const struct ft_child_host *h, uint64_t budget, char *argv[],
		      char mem[][FT_JVM_ARG_LEN])
{
	struct ft_jvm_mem m;
	int n = 0;
	argv[n++] = (char *)ft_sandbox_java(h->sb);
	argv[n++] = "-XX:+UseSerialGC";
	argv[n++] = "-XX:TieredStopAtLevel=1";
	argv[n++] = "-XX:-UsePerfData";
	argv[n++] = "-Xshare:auto";
	ft_jvm_mem_plan(budget, ft_child_memory_by_rlimit(h), &m);
	int nm = ft_jvm_mem_args(&m, mem);
	for (int i = 0; i < nm; i++)
		argv[n++] = mem[i];
	return n;
}

uint64_t ft_child_address_space(uint64_t budget)
{
	struct ft_jvm_mem m;
	ft_jvm_mem_plan(budget, true, &m);
	return m.address_space;
}

int ft_child_start(const struct ft_child_host *h, int dirfd, const char *dir, const int fds[4],
		   struct ft_cgroup_job *cg, uid_t uid, const struct ft_child_limits *cl,
		   char *const argv[], struct ft_spawned *out)
{
	int cgfds[FT_CG_N];
	struct ft_spawn s = {
		.dirfd = dirfd,
		.dir_path = dir,
		.tmp_bytes = cl->tmp_bytes,
		.fds = { fds[0], fds[1], fds[2], fds[3] },
		.cgroup_fds = cgfds,
		.n_cgroup_fds = cg ? ft_cgroup_job_procs_fds(cg, cgfds) : 0,
		.fsize = cl->fsize,
		.cpu_seconds = cl->cpu_seconds,
		/* Per uid across the whole system: only when no pids cgroup. */
		.nproc =
			ft_cgroups_has(h->cg, FT_CG_PIDS) ? 0 : (rlim_t)(cl->tasks + SANDBOX_TASKS),
		.address_space = ft_child_memory_by_rlimit(h) ? cl->address_space : 0,
		.nofile = cl->nofile,
		.nice = cl->nice,
		.uid = uid,
		.gid = uid,
		.argv = argv,
		.env = child_env,
	};
	return ft_sandbox_spawn(h->sb, &s, out);
}

uint64_t ft_child_deadline_usec(int ms)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000 + (uint64_t)ms * 1000;
}

/* ---- watched children ---- */

void ft_child_init(struct ft_child *c, struct ft_child_host *h, ft_child_exit_fn on_exit, void *ud)
{
	memset(c, 0, sizeof(*c));
	c->h = h;
	c->on_exit = on_exit;
	c->ud = ud;
	c->exec_err_fd = -1;
	c->status_fd = -1;
	for (int i = 0; i < FT_CHILD_STREAMS; i++)
		c->out[i].fd = -1;
}

void ft_child_moved(struct ft_child *c, ft_child_exit_fn on_exit, void *ud)
{
	c->on_exit = on_exit;
	c->ud = ud;
	if (c->exit_src)
		(void)sd_event_source_set_userdata(c->exit_src, c);
	if (c->timer_src)
		(void)sd_event_source_set_userdata(c->timer_src, c);
	if (c->poll_src)
		(void)sd_event_source_set_userdata(c->poll_src, c);
	for (int i = 0; i < FT_CHILD_STREAMS; i++)
		if (c->out[i].src)
			(void)sd_event_source_set_userdata(c->out[i].src, c);
}

static int on_exit_event(sd_event_source *s, const siginfo_t *si, void *ud)
{
	struct ft_child *c = ud;
	c->on_exit(c->ud, si);
	return 0;
}

/* ---- captured output ---- */

static void output_close(struct ft_child_output *o)
{
	o->src = sd_event_source_unref(o->src);
	close_if_open(&o->fd);
}

static void output_free(struct ft_child_output *o)
{
	output_close(o);
	free(o->buf);
	memset(o, 0, sizeof(*o));
	o->fd = -1;
}

/* Over its keep, and the child killed for it: nothing more is read. */
static bool output_stopped(const struct ft_child_output *o)
{
	return o->over && !o->keep.truncate;
}

static void output_check(struct ft_child *c, struct ft_child_output *o)
{
	if (o->len <= o->keep.bytes && !o->over)
		return;
	o->over = true;
	if (o->keep.truncate)
		return;
	if (o->src)
		(void)sd_event_source_set_enabled(o->src, SD_EVENT_OFF);
	/* The exit sees the sizes and reports the limit. */
	if (c->pid > 1 && !c->killed_output) {
		c->killed_output = true;
		ft_child_kill(c);
	}
}

/* Reads what the pipe holds now: into the buffer up to keep.bytes + 1
 * (one more tells "over"), the rest into the void. */
static void output_read(struct ft_child *c, struct ft_child_output *o)
{
	static char drop[65536];
	while (o->fd >= 0 && !output_stopped(o)) {
		size_t limit = o->keep.bytes + 1;
		char *dst = drop;
		size_t room = sizeof(drop);
		if (o->len < limit) {
			if (o->len == o->cap) {
				size_t cap = o->cap ? o->cap * 2 : OUTPUT_BUF_MIN;
				o->cap = cap < limit ? cap : limit;
				o->buf = ft_xrealloc(o->buf, o->cap + 1);
			}
			dst = o->buf + o->len;
			room = o->cap - o->len;
		}
		ssize_t n = read(o->fd, dst, room);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) { /* every writer is gone */
			output_close(o);
			return;
		}
		if (dst == drop) {
			o->over = true;
		} else {
			o->len += (size_t)n;
			o->buf[o->len] = '\0';
		}
		output_check(c, o);
	}
}

static int on_output(sd_event_source *s, int fd, uint32_t revents, void *ud)
{
	struct ft_child *c = ud;
	for (int i = 0; i < FT_CHILD_STREAMS; i++)
		if (c->out[i].src == s)
			output_read(c, &c->out[i]);
	return 0;
}

const char *ft_child_output(const struct ft_child *c, enum ft_child_stream s, size_t *len)
{
	const struct ft_child_output *o = &c->out[s];
	*len = o->buf ? o->len : 0;
	return o->buf ? o->buf : "";
}

char *ft_child_output_dup(const struct ft_child *c, enum ft_child_stream s, size_t max, size_t *len)
{
	size_t n;
	const char *p = ft_child_output(c, s, &n);
	if (n > max)
		n = max;
	char *copy = ft_xmalloc(n + 1);
	memcpy(copy, p, n);
	copy[n] = '\0';
	*len = n;
	return copy;
}

bool ft_child_over(const struct ft_child *c, enum ft_child_stream s, uint64_t max)
{
	return c->out[s].len > max;
}

/* *fd: the write end for the child, the read end kept in c->out[s];
 * /dev/null for a stream not captured (fd 3: none, -1).  0, or -1 with
 * errno. */
static int output_open(struct ft_child *c, enum ft_child_stream s, const struct ft_child_keep *k,
		       int *fd)
{
	struct ft_child_output *o = &c->out[s];
	int p[2];
	output_free(o);
	*fd = -1;
	if (k->bytes == 0) {
		if (s != FT_CHILD_RESULT)
			*fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
		return s != FT_CHILD_RESULT && *fd < 0 ? -1 : 0;
	}
	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	/* The sandbox user may reopen it (ft.Launcher's channel through
	 * /proc/self/fd/3, a program's /dev/stdout), which checks the pipe's
	 * owner and mode. */
	if (fcntl(p[0], F_SETFL, O_NONBLOCK) < 0 ||
	    (c->has_uid && fchown(p[1], c->uid, c->uid) < 0)) {
		int e = errno;
		close(p[0]);
		close(p[1]);
		errno = e;
		return -1;
	}
	o->fd = p[0];
	o->keep = *k;
	*fd = p[1];
	return 0;
}

int ft_child_spawn(struct ft_child *c, int dirfd, const char *dir, char *const argv[], int stdin_fd,
		   const struct ft_child_limits *cl, char *err, size_t errlen)
{
	struct ft_child_host *h = c->h;
	int fds[4] = { -1, -1, -1, -1 };
	struct ft_spawned sp = { -1, -1, -1 };
	int rc = -1;

	c->killed_cpu = c->killed_output = false;
	if (ft_child_claim_uid(h, &c->uid, &c->has_uid, err, errlen) < 0)
		return -1;
	fds[0] = stdin_fd >= 0 ? dup(stdin_fd) : open("/dev/null", O_RDONLY | O_CLOEXEC);
	bool failed = fds[0] < 0;
	for (int i = 0; i < FT_CHILD_STREAMS; i++)
		if (!failed &&
		    output_open(c, (enum ft_child_stream)i, &cl->keep[i], &fds[i + 1]) < 0)
			failed = true;
	if (failed) {
		snprintf(err, errlen, "cannot create the output pipes: %s", strerror(errno));
		goto out;
	}
	if (h->cg) {
		c->cg = ft_child_cgroup_new(h, cl->memory, cl->tasks, err, errlen);
		if (!c->cg)
			goto out;
	}
	if (ft_child_start(h, dirfd, dir, fds, c->cg, c->uid, cl, argv, &sp) < 0) {
		snprintf(err, errlen, "cannot start a child: %s", strerror(errno));
		goto out;
	}
	c->pid = sp.pid;
	c->exec_err_fd = sp.err_fd;
	c->status_fd = sp.status_fd;
	c->started_ms = ft_now_ms();
	c->status_len = 0;
	c->status[0] = '\0';
	c->sample_cpu_ms = c->sample_peak = -1;
	int e = sd_event_add_child(h->ev, &c->exit_src, sp.pid, WEXITED, on_exit_event, c);
	for (int i = 0; i < FT_CHILD_STREAMS && e >= 0; i++)
		if (c->out[i].fd >= 0)
			e = sd_event_add_io(h->ev, &c->out[i].src, c->out[i].fd, EPOLLIN, on_output,
					    c);
	if (e < 0) {
		/* Without a watch nobody would reap it: do it now. */
		kill(-sp.pid, SIGKILL);
		(void)waitpid(sp.pid, NULL, 0);
		c->pid = 0;
		c->exit_src = sd_event_source_unref(c->exit_src);
		close_if_open(&c->exec_err_fd);
		close_if_open(&c->status_fd);
		snprintf(err, errlen, "cannot watch the child: %s", strerror(-e));
		goto out;
	}
	rc = 0;
out:
	if (rc < 0) {
		if (c->cg) {
			ft_child_release_cgroup(h, c->cg);
			c->cg = NULL;
		}
		for (int i = 0; i < FT_CHILD_STREAMS; i++)
			output_free(&c->out[i]);
	}
	for (int i = 0; i < 4; i++)
		close_if_open(&fds[i]);
	return rc;
}

void ft_child_kill(struct ft_child *c)
{
	if (c->pid > 1)
		(void)kill(-c->pid, SIGKILL);
	if (c->cg)
		(void)ft_cgroup_job_kill(c->cg);
}

static int on_timeout(sd_event_source *s, uint64_t usec, void *ud)
{
	struct ft_child *c = ud;
	siginfo_t si;

	c->deadline_passed = true;
	if (c->pid <= 1)
		return 0;
	/* Exited right at the deadline, exit event not dispatched yet: let the
	 * exit decide (it will still see deadline_passed). */
	memset(&si, 0, sizeof(si));
	if (waitid(P_PID, (id_t)c->pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 &&
	    si.si_pid == c->pid)
		return 0;
	c->killed_by_timer = true;
	ft_child_kill(c);
	return 0;
}

int ft_child_arm_timer(struct ft_child *c, int ms)
{
	uint64_t at = ft_child_deadline_usec(ms);
	c->deadline_passed = false;
	c->killed_by_timer = false;
	if (c->timer_src) {
		int rc = sd_event_source_set_time(c->timer_src, at);
		if (rc >= 0)
			rc = sd_event_source_set_enabled(c->timer_src, SD_EVENT_ONESHOT);
		return rc;
	}
	return sd_event_add_time(c->h->ev, &c->timer_src, CLOCK_MONOTONIC, at, 1000, on_timeout, c);
}

pid_t ft_child_tree_root(struct ft_child *c)
{
	if (!ft_sandbox_enabled(c->h->sb))
		return c->pid;
	ft_sandbox_read_status(c->status_fd, c->status, sizeof(c->status), &c->status_len);
	return ft_sandbox_child_pid(c->status);
}

void ft_child_sample(struct ft_child *c)
{
	pid_t root = ft_child_tree_root(c);
	if (root <= 1)
		return;
	struct ft_proc_usage u;
	ft_proc_tree_usage(root, &u);
	if (u.processes == 0)
		return;
	if (u.cpu_ms > c->sample_cpu_ms)
		c->sample_cpu_ms = u.cpu_ms;
	if (u.peak_rss > c->sample_peak)
		c->sample_peak = u.peak_rss;
}

int64_t ft_child_cpu_used_ms(struct ft_child *c)
{
	if (c->cg && ft_cgroups_has(c->h->cg, FT_CG_CPU)) {
		int64_t ns = ft_cgroup_job_cpu_ns(c->cg);
		return ns > 0 ? ns / 1000000 : 0;
	}
	ft_child_sample(c);
	return c->sample_cpu_ms > 0 ? c->sample_cpu_ms : 0;
}

static int on_poll(sd_event_source *s, uint64_t usec, void *ud)
{
	struct ft_child *c = ud;
	const struct ft_cgroups *cg = c->h->cg;
	if (c->pid <= 1)
		return 0;
	if (!ft_cgroups_has(cg, FT_CG_CPU) || !ft_cgroups_has(cg, FT_CG_MEMORY)) {
		ft_child_sample(c);
		if (!ft_cgroups_has(cg, FT_CG_CPU) && c->poll_cpu_ms > 0 &&
		    c->sample_cpu_ms - c->cpu_base_ms >= c->poll_cpu_ms) {
			c->killed_cpu = true;
			ft_child_kill(c);
			return 0;
		}
	}
	if (c->cg && c->poll_cpu_ms > 0) {
		int64_t ns = ft_cgroup_job_cpu_ns(c->cg);
		if (ns >= 0 && ns / 1000000 - c->cpu_base_ms >= c->poll_cpu_ms) {
			c->killed_cpu = true;
			ft_child_kill(c);
			return 0;
		}
	}
	if (sd_event_source_set_time_relative(s, POLL_USEC) >= 0)
		(void)sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
	return 0;
}

void ft_child_start_poll(struct ft_child *c, int cpu_ms, uint64_t max_output)
{
	c->poll_cpu_ms = cpu_ms;
	/* A pre-started JVM was started under the configured limit; the job's
	 * may be lower. */
	for (int i = 0; i < FT_CHILD_STREAMS; i++) {
		struct ft_child_output *o = &c->out[i];
		if (o->keep.bytes == 0)
			continue;
		o->keep.bytes = max_output + (i == FT_CHILD_RESULT ? FT_CHILD_RESULT_HEAD : 0);
		o->keep.truncate = false;
		output_check(c, o);
	}
	(void)sd_event_add_time_relative(c->h->ev, &c->poll_src, CLOCK_MONOTONIC, POLL_USEC,
					 POLL_USEC / 10, on_poll, c);
}

/* ---- the end ---- */

void ft_child_reap(struct ft_child *c, struct ft_child_exit *x)
{
	int status;

	memset(x, 0, sizeof(*x));
	x->cs = (struct ft_cgroup_stats){ .cpu_ns = -1, .memory_peak = -1 };
	/* bwrap is still a zombie here, so its pid cannot have been reused as
	 * a group id: take down whatever it left in its group, and reap it
	 * ourselves for its resource usage (which includes the program's
	 * when bwrap's init reaped it). */
	if (c->pid > 1) {
		(void)kill(-c->pid, SIGKILL);
		x->have_ru = wait4(c->pid, &status, WNOHANG, &x->ru) == c->pid;
	}
	/* What the pipes still hold (the exit may come before their last
	 * data was read); writers that are left cannot hold this up. */
	for (int i = 0; i < FT_CHILD_STREAMS; i++) {
		output_read(c, &c->out[i]);
		output_close(&c->out[i]);
	}
	if (c->cg) {
		(void)ft_cgroup_job_kill(c->cg);
		ft_cgroup_job_stats(c->cg, &x->cs);
		ft_child_release_cgroup(c->h, c->cg);
		c->cg = NULL;
	}
	ft_sandbox_read_status(c->status_fd, c->status, sizeof(c->status), &c->status_len);
	x->started = !ft_sandbox_enabled(c->h->sb) || ft_sandbox_child_pid(c->status) > 0;
	close_if_open(&c->status_fd);
	c->exit_src = sd_event_source_unref(c->exit_src);
	c->poll_src = sd_event_source_unref(c->poll_src);
	c->pid = 0;
	/* What the child's set-up wrote before it could exec, if anything. */
	x->setup_failed = read(c->exec_err_fd, &x->failure, sizeof(x->failure)) ==
			  (ssize_t)sizeof(x->failure);
	if (!x->setup_failed)
		memset(&x->failure, 0, sizeof(x->failure));
	close_if_open(&c->exec_err_fd);
}

void ft_child_reap_quietly(struct ft_child *c)
{
	if (c->pid > 1) {
		(void)kill(-c->pid, SIGKILL);
		(void)waitpid(c->pid, NULL, WNOHANG);
		c->pid = 0;
	}
}

void ft_child_abandon(struct ft_child *c)
{
	if (c->pid <= 1)
		return;
	ft_child_kill(c);
	/* The source reaps the (now dying) child when freed. */
	if (c->exit_src)
		(void)sd_event_source_set_child_process_own(c->exit_src, 1);
}

void ft_child_release(struct ft_child *c)
{
	c->exit_src = sd_event_source_unref(c->exit_src);
	c->timer_src = sd_event_source_unref(c->timer_src);
	c->poll_src = sd_event_source_unref(c->poll_src);
	close_if_open(&c->exec_err_fd);
	close_if_open(&c->status_fd);
	for (int i = 0; i < FT_CHILD_STREAMS; i++)
		output_free(&c->out[i]);
	if (c->cg) {
		ft_child_release_cgroup(c->h, c->cg);
		c->cg = NULL;
	}
	ft_child_release_uid(c->h, c->uid, &c->has_uid);
	c->pid = 0;
}
