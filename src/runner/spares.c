/* The pool of pre-started run JVMs (see spares.h). */
#include "runner/spares.h"
#include "lib/util.h"
#include "runner/javawire.h"
#include "runner/jobdir.h"
#include "runner/launch.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

/* A pre-started JVM that keeps dying (or failing to start) this often in
 * a row is given up on for a while (jobs then start their own JVM). */
#define SPARE_FAILS_MAX 5
#define SPARE_RETRY_USEC (10 * 1000 * 1000)
/* RLIMIT_CPU of a pre-started JVM also covers its start, which happens
 * before the job's CPU time starts to count. */
#define SPARE_START_CPU_MS 2000
/* Refill delay after a handover, so the new JVM's start does not compete
 * with the job that was just handed over. */
#define REFILL_USEC (30 * 1000)

/* One pre-started JVM waiting for a job. */
struct ft_spare {
	struct ft_spares *pool;
	struct ft_child child;
	char *dir; /* FT_JOBDIR_SPARE... */
	int dirfd;
	int stdin_fd; /* write end of the JVM's stdin (a socket) */
	struct ft_run_limits lim;
	bool ready; /* the JVM said it waits for its job */
};

struct ft_spares {
	struct ft_child_host *h;
	const char *work_dir;
	const struct ft_run_limits *max;
	struct ft_spare *s[FT_SPARES_MAX];
	int n;
	int fails;
	sd_event_source *refill_src;
};

struct ft_spares *ft_spares_new(struct ft_child_host *h, const char *work_dir,
				const struct ft_run_limits *max)
{
	struct ft_spares *p = ft_xcalloc(1, sizeof(*p));
	p->h = h;
	p->work_dir = work_dir;
	p->max = max;
	return p;
}

static void close_if_open(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* Frees the spare; its child must be gone (or moved). */
static void spare_free(struct ft_spare *s)
{
	if (s->dir)
		ft_jobdir_remove(s->dir);
	close_if_open(&s->dirfd);
	free(s->dir);
	free(s);
}

static void spare_kill(struct ft_spare *s)
{
	ft_child_abandon(&s->child);
	close_if_open(&s->stdin_fd);
	ft_child_release(&s->child);
	spare_free(s);
}

void ft_spares_free(struct ft_spares *p)
{
	if (!p)
		return;
	p->refill_src = sd_event_source_unref(p->refill_src);
	while (p->n > 0)
		spare_kill(p->s[--p->n]);
	free(p);
}

static void spare_remove(struct ft_spares *p, struct ft_spare *s)
{
	for (int i = 0; i < p->n; i++) {
		if (p->s[i] == s) {
			p->s[i] = p->s[--p->n];
			return;
		}
	}
}

/* A pre-started JVM ended before it got a job. */
static void spare_exited(void *ud, const siginfo_t *si)
{
	struct ft_spare *s = ud;
	struct ft_spares *p = s->pool;
	ft_child_reap_quietly(&s->child);
	spare_remove(p, s);
	close_if_open(&s->stdin_fd);
	ft_child_release(&s->child);
	spare_free(s);
	p->fails++;
	ft_spares_refill(p, REFILL_USEC);
}

/* Starts one sandboxed "ft.Launcher -" in an empty directory. */
static int spare_start(struct ft_spares *p)
{
	struct ft_spare *s = ft_xcalloc(1, sizeof(*s));
	char err[512];
	int sv[2] = { -1, -1 };
	s->pool = p;
	s->stdin_fd = -1;
	ft_child_init(&s->child, p->h, spare_exited, s);
	ft_run_limits_clamp(p->max, NULL, &s->lim);
	if (ft_jobdir_make(p->work_dir, FT_JOBDIR_SPARE, ft_sandbox_enabled(p->h->sb), &s->dir,
			   &s->dirfd) < 0 ||
	    mkdirat(s->dirfd, FT_JOBDIR_CLASSES, 0755) < 0 ||
	    fchmodat(s->dirfd, FT_JOBDIR_CLASSES, 0755, 0) < 0)
		goto fail;
	/* A socket, so that the JVM can say it is ready (ft.Launcher). */
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		goto fail;
	if (ft_launch_spare(&s->child, s->dirfd, s->dir, &s->lim, sv[0], SPARE_START_CPU_MS, err,
			    sizeof(err)) < 0)
		goto fail;
	close(sv[0]);
	s->stdin_fd = sv[1];
	p->s[p->n++] = s;
	return 0;
fail:
	close_if_open(&sv[0]);
	close_if_open(&sv[1]);
	ft_child_release(&s->child);
	spare_free(s);
	return -1;
}

static int on_refill(sd_event_source *src, uint64_t usec, void *ud)
{
	struct ft_spares *p = ud;
	/* After the pause that follows too many failures: one more try. */
	if (p->fails >= SPARE_FAILS_MAX)
		p->fails = SPARE_FAILS_MAX - 1;
	while (p->n < FT_SPARES) {
		if (spare_start(p) < 0) {
			p->fails++;
			ft_spares_refill(p, REFILL_USEC);
			break;
		}
	}
	return 0;
}

void ft_spares_refill(struct ft_spares *p, uint64_t usec)
{
	if (p->fails >= SPARE_FAILS_MAX)
		usec = SPARE_RETRY_USEC;
	if (!p->refill_src) {
		if (sd_event_add_time_relative(p->h->ev, &p->refill_src, CLOCK_MONOTONIC, usec,
					       1000, on_refill, p) < 0)
			p->refill_src = NULL;
		return;
	}
	if (sd_event_source_set_time_relative(p->refill_src, usec) >= 0)
		(void)sd_event_source_set_enabled(p->refill_src, SD_EVENT_ONESHOT);
}

/* What a pre-started JVM was started with must be what the job gets; the
 * wall time and the output limit are the runner's own checks, applied to
 * whichever JVM runs the job. */
static bool fits(const struct ft_run_limits *s, const struct ft_run_limits *j)
{
	return s->run_cpu_ms == j->run_cpu_ms && s->run_memory_bytes == j->run_memory_bytes &&
	       s->run_max_processes == j->run_max_processes &&
	       s->run_max_file_bytes == j->run_max_file_bytes &&
	       s->run_max_open_files == j->run_max_open_files;
}

/* Started under limits since changed (reload): never fits a new job. */
static bool stale(const struct ft_run_limits *s, const struct ft_run_limits *max)
{
	return s->run_cpu_ms != max->run_cpu_ms || s->run_memory_bytes != max->run_memory_bytes ||
	       s->run_max_processes != max->run_max_processes ||
	       s->run_max_file_bytes != max->run_max_file_bytes ||
	       s->run_max_open_files != max->run_max_open_files ||
	       s->max_output_bytes != max->max_output_bytes;
}

/* A JVM that said it is ready first, else the oldest (furthest on). */
static struct ft_spare *choose(struct ft_spares *p, const struct ft_run_limits *lim)
{
	struct ft_spare *s = NULL;
	for (int i = 0; i < p->n; i++) {
		struct ft_spare *c = p->s[i];
		if (!fits(&c->lim, lim))
			continue;
		if (!c->ready) {
			char b;
			c->ready = recv(c->stdin_fd, &b, 1, MSG_DONTWAIT) == 1 &&
				   b == FT_WIRE_SPARE_READY;
		}
		if (!s || (c->ready && !s->ready) ||
		    (c->ready == s->ready && c->child.started_ms < s->child.started_ms))
			s = c;
	}
	return s;
}

/* Every thread of every process below root (as the daemon sees them) back
 * to nice 0. */
static void renice_tree(pid_t root, int depth)
{
	char path[64];
	if (root <= 1 || depth > 16)
		return;
	snprintf(path, sizeof(path), "/proc/%d/task", (int)root);
	DIR *d = opendir(path);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		int tid = atoi(e->d_name);
		(void)setpriority(PRIO_PROCESS, (id_t)tid, 0);
		char cpath[96];
		snprintf(cpath, sizeof(cpath), "/proc/%d/task/%d/children", (int)root, tid);
		size_t len;
		char *kids = ft_jobdir_read(AT_FDCWD, cpath, 4096, &len);
		if (!kids)
			continue;
		for (char *q = kids, *end; *q; q = end) {
			long k = strtol(q, &end, 10);
			if (end == q)
				break;
			renice_tree((pid_t)k, depth + 1);
		}
		free(kids);
	}
	closedir(d);
}

int ft_spares_hand_over(struct ft_spares *p, const struct ft_spare_job *job, struct ft_child *child,
			char **dir, int *dirfd)
{
	struct ft_spare *s = choose(p, job->lim);
	if (!s) {
		for (int i = 0; i < p->n; i++) {
			struct ft_spare *o = p->s[i];
			if (stale(&o->lim, p->max)) {
				spare_remove(p, o);
				spare_kill(o);
				i = -1;
			}
		}
		ft_spares_refill(p, REFILL_USEC);
		return -1;
	}
	spare_remove(p, s);
	p->fails = 0;
	ft_spares_refill(p, REFILL_USEC);
	char line[FT_CLASS_NAME_MAX + 1];
	int n = snprintf(line, sizeof(line), "%s\n", job->fqcn);
	/* Staging (by path) is over once bwrap reports its init. */
	bool staged = ft_child_tree_root(&s->child) > 0;
	renice_tree(s->child.pid, 0);
	if (ft_jobdir_write_classes(s->dirfd, job->cc) < 0 ||
	    ft_jobdir_write_run_inputs(s->dirfd, job->inputs) < 0 || n <= 0 ||
	    (size_t)n >= sizeof(line) || ft_jobdir_write_all(s->stdin_fd, line, (size_t)n) < 0) {
		spare_kill(s);
		return -1;
	}
	close_if_open(&s->stdin_fd);
	/* The directory is the job's now (the sandbox has it bound by inode). */
	char *jobdir = ft_xasprintf("%s/%s%s", p->work_dir, FT_JOBDIR_JOB,
				    s->dir + strlen(p->work_dir) + 1 + strlen(FT_JOBDIR_SPARE));
	/* Unsandboxed, the JVM made its class path absolute at start: keep the name. */
	if (staged && ft_sandbox_enabled(p->h->sb) && rename(s->dir, jobdir) == 0) {
		free(s->dir);
		s->dir = jobdir;
	} else {
		free(jobdir);
	}
	*child = s->child;
	*dir = s->dir;
	*dirfd = s->dirfd;
	child->started_ms = ft_now_ms();
	child->cpu_base_ms = ft_child_cpu_used_ms(child);
	free(s);
	return 0;
}
