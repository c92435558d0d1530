/* Compile and run submitted Java programs as sandboxed child processes of
 * the event loop.
 *
 * One job = one private directory under work_dir holding Name.java, the
 * compiled classes/ and the children's output files.  The compile JVM
 * (ft.Compiler) runs first, then the run JVM (ft.Launcher) with the result
 * channel on fd 3.  Each is a child of its own: bubblewrap with the job
 * directory at /job (sandbox.h), in a cgroup of its own where there is one
 * (cgroup.h), under rlimits, with a wall-clock timer per phase and, while
 * the program runs, a poll of its output sizes and CPU time.  A limit that
 * trips kills the child's whole process tree: SIGKILL to bwrap's process
 * group ends its PID namespace (and cgroup.kill on cgroup v2).  The verdict
 * comes from what was observed (verdict.h).
 *
 * The caller must block SIGCHLD in every thread before creating the sd_event
 * loop (sd_event_add_child requires it).  done() must not free the runner's
 * event loop; it may start new jobs and may even free the runner (nothing of
 * the runner is touched after done() returns). */
#include "runner/runner.h"
#include "lib/log.h"
#include "job/jobspec.h"
#include "lib/util.h"
#include "runner/cgroup.h"
#include "runner/classcache.h"
#include "runner/compiled.h"
#include "runner/jobdir.h"
#include "job/javasrc.h"
#include "runner/limits.h"
#include "runner/procusage.h"
#include "runner/sandbox.h"
#include "runner/uidpool.h"
#include "runner/verdict.h"
#include "runner/warmproto.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Simple names longer than this could not be a file name with ".java". */
#define SIMPLE_NAME_MAX (NAME_MAX - 5)
#define CLASS_NAME_MAX 2048
/* The compiler writes class files and diagnostics; this only guards the
 * disk, the user's output limit does not apply to it. */
#define COMPILE_FSIZE_MAX ((rlim_t)64 << 20)
/* The compiler's own threads (javac is single-threaded, the JVM is not). */
#define COMPILE_MAX_TASKS 256
/* Tasks of the sandbox itself (bwrap's monitor and init) on top of the
 * program's limit. */
#define SANDBOX_TASKS 4
/* How often a running program's output files and CPU time are checked: the
 * kernel caps each file (and RLIMIT_CPU the CPU to the second), but a
 * program that keeps printing would otherwise spin on failing writes until
 * the wall limit. */
#define POLL_USEC (100 * 1000)
/* Job cgroups whose tasks are still leaving are retried this often, this
 * many times (then left for the next start's clean-up). */
#define CGROUP_RETRY_USEC (200 * 1000)
#define CGROUP_RETRIES 300
/* The start-up self-test: java -version in the sandbox. */
#define SELFTEST_TIMEOUT_MS 20000
/* A self-test that fails (the host short of processes or memory for a
 * moment) is tried again this often, waiting twice as long each time. */
#define SELFTEST_TRIES 4
#define SELFTEST_RETRY_MS 250

/* Issue 7: pre-started run JVMs kept per runner. */
#define FT_RUNNER_SPARES 1
#define FT_RUNNER_SPARES_MAX 4
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
/* Pre-started JVMs start at a low priority, so that starting them does not
 * slow down the jobs running meanwhile; the handover restores 0. */
#define SPARE_NICE 10
/* The warm compiler: restarted after this many jobs (bounds any leak),
 * given up after this many consecutive deaths. */
#define SRV_MAX_JOBS 1000
#define SRV_FAILS_MAX 3
/* ...and tried again after this long (the host's shortage may be over). */
#define SRV_RETRY_MS 10000
#define SRV_CPU_SECONDS 3600
/* Class cache bounds. */
#define CACHE_ENTRIES 256
#define CACHE_BYTES ((size_t)64 << 20)

enum phase {
	PHASE_NONE, /* result decided before any child ran */
	PHASE_COMPILE,
	PHASE_RUN,
	PHASE_WARM,  /* queued for, or in, the warm compiler */
	PHASE_SPARE, /* a pre-started run JVM waiting for a job */
};

struct job {
	struct ft_runner *r;
	struct job *prev, *next;
	uint64_t id;
	ft_run_done_fn done;
	void *ud;
	struct ft_run_limits lim;

	char *dir; /* absolute path of the private directory */
	int dirfd;
	char fqcn[CLASS_NAME_MAX];
	char simple[SIMPLE_NAME_MAX + 1];

	enum phase phase;
	uid_t uid; /* its sandbox user, claimed for its first child */
	bool has_uid;
	pid_t pid;	 /* current child (bwrap), also its process group; 0 if none */
	int exec_err_fd; /* read end: struct ft_spawn_failure if set-up failed */
	int status_fd;	 /* read end of bwrap's status pipe */
	struct ft_cgroup_job *cg;
	sd_event_source *child_src;
	sd_event_source *timer_src;
	sd_event_source *defer_src;
	sd_event_source *poll_src;
	int watch_fds[3]; /* run phase: stdout, stderr, result, as the child has them */
	bool deadline_passed;
	bool killed_by_timer;
	bool killed_cpu;
	bool killed_output;
	int64_t start_ms;
	int64_t phase_start_ms;
	/* bwrap's status text (its init's pid) for the current child. */
	char status[512];
	size_t status_len;
	/* Without a cgroup: the process tree's use, sampled from /proc. */
	int64_t sample_cpu_ms;
	int64_t sample_peak;

	struct ft_run_result res;

	struct job *cq_next; /* warm compiler queue */
	/* The sources as the warm compiler reads them (warmproto.h); also the
	 * class cache's key.  Dropped once compiled. */
	char *src;
	size_t src_len;
	char **names; /* the files, for a cold compile's command line */
	size_t n_names;
	char *input; /* standard input, or NULL */
	size_t input_len;
	char *args; /* arguments, each NUL-terminated, or NULL */
	size_t args_len;
	bool capture;
	int stdin_fd;		/* PHASE_SPARE: write end of the JVM's stdin */
	int64_t cpu_base_ms;	/* CPU the run JVM used before its job was handed over */
	int spare_cpu_extra_ms; /* RLIMIT_CPU allowance for the JVM's start */
	bool spare_ready;	/* the JVM said it waits for its job */
};

/* The warm compiler: one long-lived sandboxed ft.Compiler --server. */
struct csrv {
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
	struct job *cur;	     /* the job being compiled, NULL if none */
	struct job *q_head, *q_tail; /* waiting jobs */
	int served;		     /* jobs answered by this JVM */
	int fails;		     /* consecutive deaths without an answer */
	bool disabled;		     /* given up on since disabled_ms */
	int64_t disabled_ms;
	uid_t uid; /* its sandbox user while it runs */
	bool has_uid;
	uint64_t budget; /* its memory limit */
};

/* A job cgroup that could not be removed yet. */
struct cg_grave {
	struct cg_grave *next;
	struct ft_cgroup_job *cg;
	int tries;
};

struct ft_runner {
	sd_event *ev;
	char *work_dir;
	struct ft_run_limits max; /* configured: defaults and maxima */
	struct ft_sandbox *sb;
	struct ft_uidpool *uids; /* sandbox users; NULL unsandboxed */
	struct ft_cgroups *cg;	 /* NULL: no cgroups, rlimits only */
	struct cg_grave *graves;
	sd_event_source *grave_timer;
	struct job *jobs;
	size_t active;
	char desc[2048];

	struct csrv srv;
	struct job *spares[FT_RUNNER_SPARES_MAX];
	int n_spares;
	int spare_fails;
	sd_event_source *refill_src;
	struct ft_classcache *cache;
};

static void spare_exited(struct job *s);
static void spare_kill(struct job *s);
static void warm_timeout(struct job *j);
static void warm_forget(struct ft_runner *r, struct job *j);
static void srv_stop(struct ft_runner *r);
static int srv_start(struct ft_runner *r);
static void schedule_refill(struct ft_runner *r, uint64_t usec);

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

static char last_error[1024];

const char *ft_runner_last_error(void)
{
	return last_error;
}

/* ---- cgroups of finished children ---- */

static void arm_grave_timer(struct ft_runner *r)
{
	if (r->grave_timer) {
		if (sd_event_source_set_time_relative(r->grave_timer, CGROUP_RETRY_USEC) >= 0)
			(void)sd_event_source_set_enabled(r->grave_timer, SD_EVENT_ONESHOT);
	}
}

static int on_grave_timer(sd_event_source *s, uint64_t usec, void *ud)
{
	struct ft_runner *r = ud;
	struct cg_grave **pp = &r->graves;
	while (*pp) {
		struct cg_grave *g = *pp;
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
	if (r->graves)
		arm_grave_timer(r);
	return 0;
}

/* Removes a finished child's cgroup now, or as soon as its last tasks
 * (killed, still exiting) have left. */
static void release_cgroup(struct ft_runner *r, struct ft_cgroup_job *cg)
{
	if (!cg || ft_cgroup_job_destroy(cg) == 0)
		return;
	struct cg_grave *g = ft_xmalloc(sizeof(*g));
	g->cg = cg;
	g->tries = 0;
	g->next = r->graves;
	r->graves = g;
	if (!r->grave_timer) {
		if (sd_event_add_time_relative(r->ev, &r->grave_timer, CLOCK_MONOTONIC,
					       CGROUP_RETRY_USEC, 10000, on_grave_timer, r) < 0)
			r->grave_timer = NULL;
		else
			(void)sd_event_source_set_enabled(r->grave_timer, SD_EVENT_ONESHOT);
	} else {
		arm_grave_timer(r);
	}
}

/* ---- spawning ---- */

static bool memory_by_rlimit(const struct ft_runner *r)
{
	return !ft_cgroups_has(r->cg, FT_CG_MEMORY);
}

/* What one child may use. */
struct child_limits {
	const char *rw_subdir; /* writable below /job */
	uint64_t tmp_bytes;
	rlim_t fsize;
	rlim_t cpu_seconds;
	uint64_t memory; /* cgroup limit */
	int tasks;	 /* the program's processes + threads */
	rlim_t address_space;
	int nice;
};

static void close_if_open(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static int on_child_exit(sd_event_source *s, const siginfo_t *si, void *ud);
static int on_timeout(sd_event_source *s, uint64_t usec, void *ud);

/* A sandbox user for the job's children, claimed once: 0, or -1 with a
 * message in err. */
static int claim_uid(struct ft_runner *r, uid_t *uid, bool *has, char *err, size_t errlen)
{
	if (!r->uids || *has)
		return 0;
	if (ft_uidpool_claim(r->uids, uid) < 0) {
		snprintf(err, errlen,
			 "no free sandbox uid: the host's nodes hold all of sandbox.uid_count (%s)",
			 strerror(errno));
		return -1;
	}
	*has = true;
	return 0;
}

static void release_uid(struct ft_runner *r, uid_t uid, bool *has)
{
	if (*has)
		ft_uidpool_release(r->uids, uid);
	*has = false;
}

/* Starts one sandboxed child with stdin = /dev/null, stdout/stderr (and the
 * result channel) on files of the job directory.  0, or -1 with a message
 * in err. */
static int spawn_child(struct job *j, char *const argv[], int stdin_fd, const char *out_name,
		       const char *err_name, const char *chan_name, const struct child_limits *cl,
		       char *err, size_t errlen)
{
	struct ft_runner *r = j->r;
	bool watch = chan_name != NULL; /* the run phase keeps its fds to watch sizes */
	int fds[4] = { -1, -1, -1, -1 };
	int cgfds[FT_CG_N];
	struct ft_spawned sp = { -1, -1, -1 };
	int rc = -1;

	if (claim_uid(r, &j->uid, &j->has_uid, err, errlen) < 0)
		return -1;
	fds[0] = stdin_fd >= 0 ? dup(stdin_fd) : open("/dev/null", O_RDONLY | O_CLOEXEC);
	fds[1] = ft_jobdir_open_output(j->dirfd, out_name);
	fds[2] = ft_jobdir_open_output(j->dirfd, err_name);
	if (chan_name) {
		fds[3] = ft_jobdir_open_output(j->dirfd, chan_name);
		/* ft.Launcher reopens it through /proc/self/fd/3, which checks
		 * the file's permissions against the sandbox user. */
		if (fds[3] >= 0 && j->has_uid && fchown(fds[3], j->uid, j->uid) < 0)
			close_if_open(&fds[3]);
	}
	if (fds[0] < 0 || fds[1] < 0 || fds[2] < 0 || (chan_name && fds[3] < 0)) {
		snprintf(err, errlen, "cannot create output files: %s", strerror(errno));
		goto out;
	}
	/* The writable directory (the compiler's classes) is the child's. */
	if (cl->rw_subdir && j->has_uid &&
	    fchownat(j->dirfd, cl->rw_subdir, j->uid, j->uid, AT_SYMLINK_NOFOLLOW) < 0) {
		snprintf(err, errlen, "cannot hand %s to the sandbox user: %s", cl->rw_subdir,
			 strerror(errno));
		goto out;
	}
	if (r->cg) {
		j->cg = ft_cgroup_job_new(r->cg, cl->memory, cl->tasks + SANDBOX_TASKS, err,
					  errlen);
		if (!j->cg)
			goto out;
	}
	struct ft_spawn s = {
		.dirfd = j->dirfd,
		.dir_path = j->dir,
		.rw_subdir = cl->rw_subdir,
		.tmp_bytes = cl->tmp_bytes,
		.fds = { fds[0], fds[1], fds[2], fds[3] },
		.cgroup_fds = cgfds,
		.n_cgroup_fds = j->cg ? ft_cgroup_job_procs_fds(j->cg, cgfds) : 0,
		.fsize = cl->fsize,
		.cpu_seconds = cl->cpu_seconds,
		/* Per uid across the whole system: only when no pids cgroup. */
		.nproc =
			ft_cgroups_has(r->cg, FT_CG_PIDS) ? 0 : (rlim_t)(cl->tasks + SANDBOX_TASKS),
		.address_space = memory_by_rlimit(r) ? cl->address_space : 0,
		.nice = cl->nice,
		.uid = j->uid,
		.gid = j->uid,
		.argv = argv,
		.env = child_env,
	};
	if (ft_sandbox_spawn(r->sb, &s, &sp) < 0) {
		snprintf(err, errlen, "cannot start a child: %s", strerror(errno));
		goto out;
	}
	j->pid = sp.pid;
	j->exec_err_fd = sp.err_fd;
	j->status_fd = sp.status_fd;
	j->phase_start_ms = ft_now_ms();
	j->status_len = 0;
	j->status[0] = '\0';
	j->sample_cpu_ms = j->sample_peak = -1;
	int e = sd_event_add_child(r->ev, &j->child_src, sp.pid, WEXITED, on_child_exit, j);
	if (e < 0) {
		/* Without a watch nobody would reap it: do it now. */
		kill(-sp.pid, SIGKILL);
		(void)waitpid(sp.pid, NULL, 0);
		j->pid = 0;
		close_if_open(&j->exec_err_fd);
		close_if_open(&j->status_fd);
		snprintf(err, errlen, "cannot watch the child: %s", strerror(-e));
		goto out;
	}
	rc = 0;
	if (watch) {
		for (int i = 0; i < 3; i++) {
			j->watch_fds[i] = fds[i + 1];
			fds[i + 1] = -1;
		}
	}
out:
	if (rc < 0 && j->cg) {
		release_cgroup(r, j->cg);
		j->cg = NULL;
	}
	for (int i = 0; i < 4; i++)
		close_if_open(&fds[i]);
	return rc;
}

/* From the clock, not from the loop's cached "now": a spawn takes a while,
 * and the program must get its whole time. */
static uint64_t deadline_usec(int ms)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000 + (uint64_t)ms * 1000;
}

static int arm_timer(struct job *j, int ms)
{
	uint64_t at = deadline_usec(ms);
	j->deadline_passed = false;
	j->killed_by_timer = false;
	if (j->timer_src) {
		int rc = sd_event_source_set_time(j->timer_src, at);
		if (rc >= 0)
			rc = sd_event_source_set_enabled(j->timer_src, SD_EVENT_ONESHOT);
		return rc;
	}
	return sd_event_add_time(j->r->ev, &j->timer_src, CLOCK_MONOTONIC, at, 1000, on_timeout, j);
}

/* The JVM flags both children share, and the memory flags for budget.
 * Returns the number of arguments written to argv (which has room). */
static int jvm_args(const struct ft_runner *r, uint64_t budget, char *argv[],
		    char mem[][FT_JVM_ARG_LEN])
{
	struct ft_jvm_mem m;
	int n = 0;
	argv[n++] = (char *)ft_sandbox_java(r->sb);
	argv[n++] = "-XX:+UseSerialGC";
	argv[n++] = "-XX:TieredStopAtLevel=1";
	argv[n++] = "-XX:-UsePerfData";
	argv[n++] = "-Xshare:auto";
	ft_jvm_mem_plan(budget, memory_by_rlimit(r), &m);
	int nm = ft_jvm_mem_args(&m, mem);
	for (int i = 0; i < nm; i++)
		argv[n++] = mem[i];
	return n;
}

static uint64_t address_space_for(const struct ft_runner *r, uint64_t budget)
{
	struct ft_jvm_mem m;
	ft_jvm_mem_plan(budget, true, &m);
	return m.address_space;
}

static int spawn_compiler(struct job *j, char *err, size_t errlen)
{
	struct ft_runner *r = j->r;
	char mem[FT_JVM_MEM_ARGS_MAX][FT_JVM_ARG_LEN];
	char **argv = ft_xcalloc(16 + FT_JVM_MEM_ARGS_MAX + j->n_names, sizeof(*argv));
	char *tmpdir = ft_xasprintf("-Djava.io.tmpdir=%s",
				    ft_sandbox_enabled(r->sb) ? FT_SANDBOX_TMP : j->dir);
	int n = jvm_args(r, j->lim.compile_memory_bytes, argv, mem);
	argv[n++] = tmpdir;
	argv[n++] = "-cp";
	argv[n++] = (char *)ft_sandbox_jar(r->sb);
	argv[n++] = "ft.Compiler";
	for (size_t i = 0; i < j->n_names; i++)
		argv[n++] = j->names[i];
	argv[n++] = FT_JOBDIR_CLASSES;
	argv[n] = NULL;
	struct child_limits cl = {
		.rw_subdir = FT_JOBDIR_CLASSES,
		.tmp_bytes = 16 * FT_MiB,
		.fsize = COMPILE_FSIZE_MAX,
		.cpu_seconds = ft_cpu_rlimit_seconds(2 * j->lim.compile_wall_ms),
		.memory = j->lim.compile_memory_bytes,
		.tasks = COMPILE_MAX_TASKS,
		.address_space = address_space_for(r, j->lim.compile_memory_bytes),
	};
	j->phase = PHASE_COMPILE;
	int rc = spawn_child(j, argv, -1, FT_JOBDIR_COMPILE_OUT, FT_JOBDIR_COMPILE_ERR, NULL, &cl,
			     err, errlen);
	free(tmpdir);
	free(argv);
	if (rc == 0 && j->lim.compile_wall_ms > 0 && arm_timer(j, j->lim.compile_wall_ms) < 0) {
		snprintf(err, errlen, "cannot arm the compile timer");
		return -1; /* the child is watched: its exit still ends the job */
	}
	return rc;
}

enum { WATCH_OUT, WATCH_ERR, WATCH_RESULT };

/* By the fds the child got: the program may have renamed the files. */
static bool over_limit(struct job *j, int which)
{
	struct stat st;
	int fd = j->watch_fds[which];
	return fd >= 0 && fstat(fd, &st) == 0 && (uint64_t)st.st_size > j->lim.max_output_bytes;
}

/* Kills the current child's whole tree: bwrap's group (its PID namespace
 * dies with it) and, on cgroup v2, every task of the cgroup at once. */
static void kill_child(struct job *j)
{
	if (j->pid > 1)
		(void)kill(-j->pid, SIGKILL);
	if (j->cg)
		(void)ft_cgroup_job_kill(j->cg);
}

/* The root of the program's process tree: bwrap's init in the sandbox,
 * else the JVM itself.  -1 while unknown. */
static pid_t tree_root(struct job *j)
{
	if (!ft_sandbox_enabled(j->r->sb))
		return j->pid;
	ft_sandbox_read_status(j->status_fd, j->status, sizeof(j->status), &j->status_len);
	return ft_sandbox_child_pid(j->status);
}

/* Without cgroup accounting: sample the tree's CPU time and peak RSS. */
static void sample_usage(struct job *j)
{
	pid_t root = tree_root(j);
	if (root <= 1)
		return;
	struct ft_proc_usage u;
	ft_proc_tree_usage(root, &u);
	if (u.processes == 0)
		return;
	if (u.cpu_ms > j->sample_cpu_ms)
		j->sample_cpu_ms = u.cpu_ms;
	if (u.peak_rss > j->sample_peak)
		j->sample_peak = u.peak_rss;
}

static int on_poll(sd_event_source *s, uint64_t usec, void *ud)
{
	struct job *j = ud;
	if (j->pid <= 1)
		return 0;
	if (!ft_cgroups_has(j->r->cg, FT_CG_CPU) || !ft_cgroups_has(j->r->cg, FT_CG_MEMORY)) {
		sample_usage(j);
		if (!ft_cgroups_has(j->r->cg, FT_CG_CPU) && j->lim.run_cpu_ms > 0 &&
		    j->sample_cpu_ms - j->cpu_base_ms >= j->lim.run_cpu_ms) {
			j->killed_cpu = true;
			kill_child(j);
			return 0;
		}
	}
	if (over_limit(j, WATCH_OUT) || over_limit(j, WATCH_ERR) || over_limit(j, WATCH_RESULT)) {
		/* run_done() sees the sizes and reports the limit. */
		j->killed_output = true;
		kill_child(j);
		return 0;
	}
	if (j->cg && j->lim.run_cpu_ms > 0) {
		int64_t ns = ft_cgroup_job_cpu_ns(j->cg);
		if (ns >= 0 && ns / 1000000 - j->cpu_base_ms >= j->lim.run_cpu_ms) {
			j->killed_cpu = true;
			kill_child(j);
			return 0;
		}
	}
	if (sd_event_source_set_time_relative(s, POLL_USEC) >= 0)
		(void)sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
	return 0;
}

/* RLIMIT_FSIZE of a run: the larger of the output and file limits, plus
 * one byte so that "exactly at the limit" is still fine and "over it" is
 * visible as a file longer than the limit. */
static rlim_t run_fsize(const struct ft_run_limits *l)
{
	uint64_t m = l->max_output_bytes > l->run_max_file_bytes ? l->max_output_bytes
								 : l->run_max_file_bytes;
	return (rlim_t)m + 1;
}

static int spawn_launcher_as(struct job *j, const char *fqcn, int stdin_fd, int cpu_extra_ms,
			     char *err, size_t errlen)
{
	struct ft_runner *r = j->r;
	char mem[FT_JVM_MEM_ARGS_MAX][FT_JVM_ARG_LEN];
	char *argv[32];
	char *cp = ft_xasprintf("%s:%s", ft_sandbox_jar(r->sb), FT_JOBDIR_CLASSES);
	/* Temporary files land in the private /tmp (unsandboxed: the job
	 * directory) and go away with it. */
	char *tmpdir = ft_xasprintf("-Djava.io.tmpdir=%s",
				    ft_sandbox_enabled(r->sb) ? FT_SANDBOX_TMP : j->dir);
	int n = jvm_args(r, j->lim.run_memory_bytes, argv, mem);
	argv[n++] = tmpdir;
	argv[n++] = "-cp";
	argv[n++] = cp;
	argv[n++] = "ft.Launcher";
	argv[n++] = (char *)fqcn;
	argv[n] = NULL;
	uint64_t tmp = 2 * j->lim.run_max_file_bytes;
	struct child_limits cl = {
		.rw_subdir = NULL,
		.tmp_bytes = tmp < FT_MiB ? FT_MiB : tmp,
		.fsize = run_fsize(&j->lim),
		.cpu_seconds = ft_cpu_rlimit_seconds(
			j->lim.run_cpu_ms > 0 ? j->lim.run_cpu_ms + cpu_extra_ms : 0),
		.memory = j->lim.run_memory_bytes,
		.tasks = j->lim.run_max_processes,
		.address_space = address_space_for(r, j->lim.run_memory_bytes),
		.nice = stdin_fd >= 0 ? SPARE_NICE : 0,
	};
	j->phase = stdin_fd >= 0 ? PHASE_SPARE : PHASE_RUN;
	j->killed_cpu = j->killed_output = false;
	int rc = spawn_child(j, argv, stdin_fd, FT_JOBDIR_RUN_OUT, FT_JOBDIR_RUN_ERR,
			     FT_JOBDIR_RUN_RESULT, &cl, err, errlen);
	free(cp);
	free(tmpdir);
	if (rc < 0 || stdin_fd >= 0)
		return rc;
	if (j->lim.run_wall_ms > 0 && arm_timer(j, j->lim.run_wall_ms) < 0) {
		snprintf(err, errlen, "cannot arm the run timer");
		kill_child(j); /* its exit ends the job */
		return 0;
	}
	/* Without the poll the kernel's caps still hold; only precision is lost. */
	(void)sd_event_add_time_relative(r->ev, &j->poll_src, CLOCK_MONOTONIC, POLL_USEC,
					 POLL_USEC / 10, on_poll, j);
	return 0;
}

static int spawn_launcher(struct job *j, char *err, size_t errlen)
{
	return spawn_launcher_as(j, j->fqcn, -1, 0, err, errlen);
}

/* ---- delivering results ---- */

static void set_result(struct job *j, enum ft_verdict v, int exit_code, char *body, size_t len)
{
	free(j->res.body);
	j->res.verdict = v;
	j->res.exit_code = exit_code;
	j->res.body = body;
	j->res.body_len = len;
}

static void set_result_str(struct job *j, enum ft_verdict v, int exit_code, char *body)
{
	set_result(j, v, exit_code, body, strlen(body));
}

static void unlink_job(struct job *j)
{
	struct ft_runner *r = j->r;
	if (j->prev)
		j->prev->next = j->next;
	else if (r->jobs == j)
		r->jobs = j->next;
	if (j->next)
		j->next->prev = j->prev;
	j->prev = j->next = NULL;
	r->active--;
}

/* Releases what the job holds except its result; children must be gone. */
static void job_release(struct job *j)
{
	j->child_src = sd_event_source_unref(j->child_src);
	j->timer_src = sd_event_source_unref(j->timer_src);
	j->defer_src = sd_event_source_unref(j->defer_src);
	j->poll_src = sd_event_source_unref(j->poll_src);
	close_if_open(&j->exec_err_fd);
	close_if_open(&j->status_fd);
	for (int i = 0; i < 3; i++)
		close_if_open(&j->watch_fds[i]);
	if (j->cg) {
		release_cgroup(j->r, j->cg);
		j->cg = NULL;
	}
	release_uid(j->r, j->uid, &j->has_uid);
	j->pid = 0;
}

static void job_free(struct job *j)
{
	if (j->dir)
		ft_jobdir_remove(j->dir);
	close_if_open(&j->dirfd);
	free(j->dir);
	free(j->res.body);
	free(j->res.out);
	free(j->res.err);
	free(j->src);
	for (size_t i = 0; i < j->n_names; i++)
		free(j->names[i]);
	free(j->names);
	free(j->input);
	free(j->args);
	free(j);
}

static void deliver(struct job *j)
{
	j->res.wall_ms = ft_now_ms() - j->start_ms;
	job_release(j);
	unlink_job(j);
	j->done(j->ud, j->id, &j->res);
	job_free(j);
}

static int on_deferred(sd_event_source *s, void *ud)
{
	deliver(ud);
	return 0;
}

/* For results known before any child runs: done() is still called from
 * the loop, never from inside ft_runner_start. */
static int deliver_later(struct job *j)
{
	j->timer_src = sd_event_source_unref(j->timer_src);
	int r = sd_event_add_defer(j->r->ev, &j->defer_src, on_deferred, j);
	if (r < 0)
		return r;
	return sd_event_source_set_enabled(j->defer_src, SD_EVENT_ONESHOT);
}

/* ---- verdicts ---- */

static char *describe_status(const siginfo_t *si)
{
	if (si->si_code == CLD_EXITED)
		return ft_xasprintf("exit status %d", si->si_status);
	return ft_xasprintf("signal %d (%s)", si->si_status, strsignal(si->si_status));
}

/* Something failed that no other attempt would change. */
static void internal_error(struct job *j, const char *what, const char *detail)
{
	set_result_str(j, FT_VERDICT_INTERNAL_ERROR, -1, ft_verdict_internal_body(what, detail));
}

/* The node's machinery failed before the program could run: another
 * attempt, on another worker, may well succeed (ft_run_result.transient). */
static void machinery_failed(struct job *j, const char *what, const char *detail)
{
	internal_error(j, what, detail);
	j->res.transient = true;
}

static unsigned long long mib(uint64_t bytes)
{
	return (unsigned long long)(bytes / FT_MiB);
}

/* What the child's set-up wrote before it could exec, if anything. */
static bool setup_failed(struct job *j, struct ft_spawn_failure *f)
{
	memset(f, 0, sizeof(*f));
	bool failed = read(j->exec_err_fd, f, sizeof(*f)) == (ssize_t)sizeof(*f);
	close_if_open(&j->exec_err_fd);
	return failed;
}

/* Compile finished.  Returns true if the job is over (result set). */
static bool compile_done(struct job *j, const siginfo_t *si, bool started,
			 const struct ft_cgroup_stats *cs)
{
	bool exited = si->si_code == CLD_EXITED;
	bool compiled = exited && si->si_status == 0 && started;
	/* A compile that ended right at the deadline leaves no time to run. */
	if (j->killed_by_timer || (j->deadline_passed && compiled)) {
		set_result_str(j, FT_VERDICT_TIME_LIMIT, -1,
			       ft_verdict_compile_time_body(j->lim.compile_wall_ms));
		return true;
	}
	if (!started) {
		char *e = ft_jobdir_excerpt(j->dirfd, FT_JOBDIR_COMPILE_ERR);
		machinery_failed(j, "the sandbox did not start", e);
		free(e);
		return true;
	}
	if (compiled) {
		char err[512];
		j->poll_src = sd_event_source_unref(j->poll_src);
		if (spawn_launcher(j, err, sizeof(err)) == 0)
			return false;
		machinery_failed(j, "could not start the program", err);
		return true;
	}
	if (cs->oom_killed || (exited && si->si_status == FT_WIRE_COMPILER_EXIT_OUT_OF_MEMORY)) {
		set_result_str(j, FT_VERDICT_MEMORY_LIMIT, -1,
			       ft_verdict_compile_memory_body(j->lim.compile_memory_bytes));
		return true;
	}
	if (exited && si->si_status == FT_WIRE_COMPILER_EXIT_ERRORS) {
		size_t len;
		char *out = ft_jobdir_read(j->dirfd, FT_JOBDIR_COMPILE_OUT,
					   (size_t)COMPILE_FSIZE_MAX, &len);
		/* Anything else on stdout means the compiler JVM itself misbehaved. */
		if (out && ft_verdict_is_compile_error(out)) {
			set_result(j, FT_VERDICT_COMPILE_ERROR, -1, out, len);
			return true;
		}
		free(out);
	}
	char *status = describe_status(si);
	char *err = ft_jobdir_excerpt(j->dirfd, FT_JOBDIR_COMPILE_ERR);
	char *what = ft_xasprintf("the compiler failed with %s", status);
	/* A compiler JVM that could not start, or that something outside
	 * killed, says nothing about the source; a javac that crashed on it
	 * would crash again. */
	if (!exited || ft_verdict_jvm_failed_to_start(err))
		machinery_failed(j, what, err);
	else
		internal_error(j, what, err);
	free(what);
	free(err);
	free(status);
	return true;
}

static void run_done(struct job *j, const siginfo_t *si, bool started,
		     const struct ft_cgroup_stats *cs, const struct rusage *ru)
{
	struct ft_run_facts f = {
		.wall_killed = j->killed_by_timer,
		.cpu_killed = j->killed_cpu,
		.output_killed = j->killed_output,
		.out_over = over_limit(j, WATCH_OUT),
		.err_over = over_limit(j, WATCH_ERR),
		.chan_over = over_limit(j, WATCH_RESULT),
		.oom_killed = cs->oom_killed,
		.pids_refused = cs->tasks_refused,
		.exited = si->si_code == CLD_EXITED,
		.status = si->si_status,
		.cpu_ms = -1,
		.cpu_limit_ms = j->lim.run_cpu_ms,
	};
	/* Without a cgroup: the child's resource usage, which includes the
	 * program's when bwrap reaped it (it runs as PID 1, with no reaper in
	 * between), and the samples taken while it ran, for a sandbox that
	 * was killed before bwrap could reap the program. */
	int64_t ru_cpu = -1, ru_peak = -1;
	if (ru) {
		ru_cpu = (int64_t)(ru->ru_utime.tv_sec + ru->ru_stime.tv_sec) * 1000 +
			 (ru->ru_utime.tv_usec + ru->ru_stime.tv_usec) / 1000;
		ru_peak = (int64_t)ru->ru_maxrss * 1024;
	}
	f.cpu_ms = cs->cpu_ns >= 0 ? cs->cpu_ns / 1000000
				   : (ru_cpu > j->sample_cpu_ms ? ru_cpu : j->sample_cpu_ms);
	if (f.cpu_ms >= 0) {
		f.cpu_ms -= j->cpu_base_ms;
		if (f.cpu_ms < 0)
			f.cpu_ms = 0;
	}
	j->res.cpu_ms = f.cpu_ms;
	j->res.memory_bytes = cs->memory_peak >= 0	 ? cs->memory_peak
			      : ru_peak > j->sample_peak ? ru_peak
							 : j->sample_peak;
	j->res.run_ms = ft_now_ms() - j->phase_start_ms;

	size_t len = 0;
	char *chan =
		ft_jobdir_read_fd(j->watch_fds[WATCH_RESULT], j->lim.max_output_bytes + 1, &len);
	/* An empty channel: nothing of the program ran, the JVM (or the
	 * sandbox) failed first. */
	f.sandbox_failed = !started || len == 0;
	if (len > 0) {
		if (chan[0] != FT_CHAN_STARTED)
			f.chan_tag = (unsigned char)chan[0];
		memmove(chan, chan + 1, len); /* also moves the NUL */
		len--;
	}
	struct ft_verdict_decision d;
	ft_verdict_decide(&f, &d);
	char *vm_err = ft_verdict_body_quotes_stderr(&d)
			       ? ft_jobdir_excerpt(j->dirfd, FT_JOBDIR_RUN_ERR)
			       : NULL;
	size_t body_len;
	char *body = ft_verdict_body(&d, &j->lim, chan, len, vm_err, &body_len);
	free(vm_err);
	set_result(j, d.verdict, d.exit_code, body, body_len);
	if (d.why == FT_WHY_SANDBOX)
		j->res.transient = true;
	if (j->capture && started) {
		j->res.out = ft_jobdir_read_fd(j->watch_fds[WATCH_OUT], j->lim.max_output_bytes,
					       &j->res.out_len);
		j->res.err = ft_jobdir_read_fd(j->watch_fds[WATCH_ERR], j->lim.max_output_bytes,
					       &j->res.err_len);
	}
}

static int on_child_exit(sd_event_source *s, const siginfo_t *si, void *ud)
{
	struct job *j = ud;
	struct ft_spawn_failure fail;
	struct ft_cgroup_stats cs = { .cpu_ns = -1, .memory_peak = -1 };
	struct rusage ru;
	bool have_ru = false;
	int status;

	if (j->phase == PHASE_SPARE) {
		spare_exited(j);
		return 0;
	}

	/* bwrap is still a zombie here, so its pid cannot have been reused as
	 * a group id: take down whatever it left in its group, and reap it
	 * ourselves for its resource usage (which includes the program's
	 * when bwrap's init reaped it). */
	if (j->pid > 1) {
		(void)kill(-j->pid, SIGKILL);
		have_ru = wait4(j->pid, &status, WNOHANG, &ru) == j->pid;
	}
	if (j->cg) {
		(void)ft_cgroup_job_kill(j->cg);
		ft_cgroup_job_stats(j->cg, &cs);
		release_cgroup(j->r, j->cg);
		j->cg = NULL;
	}
	ft_sandbox_read_status(j->status_fd, j->status, sizeof(j->status), &j->status_len);
	bool started = !ft_sandbox_enabled(j->r->sb) || ft_sandbox_child_pid(j->status) > 0;
	close_if_open(&j->status_fd);
	j->child_src = sd_event_source_unref(j->child_src);
	j->poll_src = sd_event_source_unref(j->poll_src);
	j->pid = 0;

	bool over = true;
	if (setup_failed(j, &fail)) {
		char *what = ft_xasprintf("could not set up the sandbox (%s)",
					  ft_sandbox_stage_name(fail.stage));
		machinery_failed(j, what, strerror(fail.err));
		free(what);
	} else if (j->phase == PHASE_COMPILE) {
		over = compile_done(j, si, started, &cs);
	} else {
		run_done(j, si, started, &cs, have_ru ? &ru : NULL);
	}
	if (over)
		deliver(j);
	return 0;
}

static int on_timeout(sd_event_source *s, uint64_t usec, void *ud)
{
	struct job *j = ud;
	siginfo_t si;

	j->deadline_passed = true;
	if (j->phase == PHASE_WARM) {
		warm_timeout(j);
		return 0;
	}
	if (j->pid <= 1)
		return 0;
	/* Exited right at the deadline, exit event not dispatched yet: let the
	 * exit decide (it will still see deadline_passed). */
	memset(&si, 0, sizeof(si));
	if (waitid(P_PID, (id_t)j->pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 &&
	    si.si_pid == j->pid)
		return 0;
	j->killed_by_timer = true;
	kill_child(j);
	return 0;
}

/* ---- set-up ---- */

static void fail_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void fail_msg(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(last_error, sizeof(last_error), fmt, ap);
	va_end(ap);
}

/* java -version in the sandbox with the run limits, blocking: proves at
 * start that bwrap, the namespaces, the filter, the cgroups and the JVM
 * flags work together, and measures what a sandboxed JVM start costs. */
static int self_test_once(struct ft_runner *r, int64_t *took_ms)
{
	char *dir = NULL;
	int dirfd = -1, fds[4] = { -1, -1, -1, -1 }, rc = -1;
	struct ft_cgroup_job *cg = NULL;
	struct ft_spawned sp = { -1, -1, -1 };
	char err[512] = "";
	uid_t uid = 0;
	bool has_uid = false;

	if (ft_jobdir_make(r->work_dir, FT_JOBDIR_SELFTEST, ft_sandbox_enabled(r->sb), &dir,
			   &dirfd) < 0) {
		if (!dir) {
			fail_msg("self-test: mkdtemp in %s: %s", r->work_dir, strerror(errno));
			return -1;
		}
		fail_msg("self-test: %s: %s", dir, strerror(errno));
		goto out;
	}
	fds[0] = open("/dev/null", O_RDONLY | O_CLOEXEC);
	fds[1] = ft_jobdir_open_output(dirfd, FT_JOBDIR_RUN_OUT);
	fds[2] = ft_jobdir_open_output(dirfd, FT_JOBDIR_RUN_ERR);
	if (fds[0] < 0 || fds[1] < 0 || fds[2] < 0) {
		fail_msg("self-test: output files: %s", strerror(errno));
		goto out;
	}
	if (claim_uid(r, &uid, &has_uid, err, sizeof(err)) < 0) {
		fail_msg("self-test: %s", err);
		goto out;
	}
	if (r->cg) {
		cg = ft_cgroup_job_new(r->cg, r->max.run_memory_bytes,
				       r->max.run_max_processes + SANDBOX_TASKS, err, sizeof(err));
		if (!cg) {
			fail_msg("self-test: cgroup: %s", err);
			goto out;
		}
	}
	char mem[FT_JVM_MEM_ARGS_MAX][FT_JVM_ARG_LEN];
	char *argv[32];
	int n = jvm_args(r, r->max.run_memory_bytes, argv, mem);
	argv[n++] = "-version";
	argv[n] = NULL;
	int cgfds[FT_CG_N];
	struct ft_spawn s = {
		.dirfd = dirfd,
		.dir_path = dir,
		.tmp_bytes = FT_MiB,
		.fds = { fds[0], fds[1], fds[2], -1 },
		.cgroup_fds = cgfds,
		.n_cgroup_fds = cg ? ft_cgroup_job_procs_fds(cg, cgfds) : 0,
		.fsize = 1 << 20,
		.cpu_seconds = ft_cpu_rlimit_seconds(SELFTEST_TIMEOUT_MS),
		.nproc = ft_cgroups_has(r->cg, FT_CG_PIDS)
				 ? 0
				 : (rlim_t)(r->max.run_max_processes + SANDBOX_TASKS),
		.address_space =
			memory_by_rlimit(r) ? address_space_for(r, r->max.run_memory_bytes) : 0,
		.uid = uid,
		.gid = uid,
		.argv = argv,
		.env = child_env,
	};
	int64_t t0 = ft_now_ms();
	if (ft_sandbox_spawn(r->sb, &s, &sp) < 0) {
		fail_msg("self-test: cannot start a child: %s", strerror(errno));
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
		fail_msg("self-test: java -version in the sandbox took more than %d ms",
			 SELFTEST_TIMEOUT_MS);
		goto out;
	}
	*took_ms = ft_now_ms() - t0;
	struct ft_spawn_failure f;
	if (read(sp.err_fd, &f, sizeof(f)) == (ssize_t)sizeof(f)) {
		fail_msg("self-test: sandbox set-up failed at %s: %s",
			 ft_sandbox_stage_name(f.stage), strerror(f.err));
		goto out;
	}
	char st[512];
	size_t st_len = 0;
	st[0] = '\0';
	ft_sandbox_read_status(sp.status_fd, st, sizeof(st), &st_len);
	bool started = !ft_sandbox_enabled(r->sb) || ft_sandbox_child_pid(st) > 0;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || !started) {
		char *e = ft_jobdir_excerpt(dirfd, FT_JOBDIR_RUN_ERR);
		fail_msg("self-test: java -version in the sandbox failed (status %#x): %s", status,
			 e);
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
	release_uid(r, uid, &has_uid);
	close_if_open(&dirfd);
	ft_jobdir_remove(dir);
	free(dir);
	return rc;
}

/* A node whose host is short of processes or memory for a moment must not
 * give up at once: the self-test is tried again, with growing pauses. */
static int self_test(struct ft_runner *r, int64_t *took_ms)
{
	int wait_ms = SELFTEST_RETRY_MS;
	for (int i = 1;; i++) {
		if (self_test_once(r, took_ms) == 0)
			return 0;
		if (i == SELFTEST_TRIES)
			return -1;
		ft_log_warn("runner: %s (try %d of %d; again in %d ms)", last_error, i,
			    SELFTEST_TRIES, wait_ms);
		nanosleep(&(struct timespec){ wait_ms / 1000, (long)(wait_ms % 1000) * 1000000 },
			  NULL);
		wait_ms *= 2;
	}
}

static void limits_from_conf(struct ft_run_limits *l, const struct ft_runner_conf *conf)
{
	*l = (struct ft_run_limits){
		.compile_wall_ms = conf->compile_wall_ms,
		.run_wall_ms = conf->wall_ms,
		.run_cpu_ms = conf->cpu_ms,
		.run_memory_bytes = conf->memory_bytes,
		.compile_memory_bytes = conf->compile_memory_bytes,
		.run_max_processes = conf->max_processes,
		.run_max_file_bytes = conf->max_file_bytes,
		.max_output_bytes = conf->max_output_bytes,
	};
	ft_run_limits_fill(l);
}

void ft_runner_set_limits(struct ft_runner *r, const struct ft_runner_conf *conf)
{
	limits_from_conf(&r->max, conf);
}

static void describe(struct ft_runner *r, const char *cg_why, int64_t selftest_ms)
{
	char mem[1024];
	const struct ft_run_limits *l = &r->max;
	if (r->cg)
		snprintf(mem, sizeof(mem), "%s", ft_cgroups_describe(r->cg));
	else
		snprintf(mem, sizeof(mem), "JVM heap flags + RLIMIT_AS (no cgroup: %s)", cg_why);
	snprintf(r->desc, sizeof(r->desc),
		 "memory limit by %s; processes by %s; CPU time by %s; sandbox: %s; limits: run "
		 "%d ms wall, %d ms CPU, %llu MiB, %d tasks, files %llu bytes, output %llu bytes; "
		 "compile %d ms wall, %llu MiB; self-test (java -version sandboxed) %" PRId64 " ms",
		 mem,
		 ft_cgroups_has(r->cg, FT_CG_PIDS) ? "the pids cgroup"
						   : "RLIMIT_NPROC (counted per uid)",
		 ft_cgroups_has(r->cg, FT_CG_CPU) ? "cgroup CPU accounting (polled) + RLIMIT_CPU"
						  : "RLIMIT_CPU (whole seconds)",
		 ft_sandbox_describe(r->sb), l->run_wall_ms, l->run_cpu_ms,
		 mib(l->run_memory_bytes), l->run_max_processes,
		 (unsigned long long)l->run_max_file_bytes, (unsigned long long)l->max_output_bytes,
		 l->compile_wall_ms, mib(l->compile_memory_bytes), selftest_ms);
}

static enum ft_cgroup_want cgroup_want(enum ft_memory_mode m)
{
	switch (m) {
	case FT_MEMORY_CGROUP2:
		return FT_CGROUP_V2_ONLY;
	case FT_MEMORY_CGROUP1:
		return FT_CGROUP_V1_ONLY;
	case FT_MEMORY_RLIMIT:
		return FT_CGROUP_OFF;
	default:
		return FT_CGROUP_AUTO;
	}
}

struct ft_runner *ft_runner_new(sd_event *ev, const struct ft_runner_conf *conf)
{
	char err[512] = "", cg_why[512] = "";
	int64_t selftest_ms = -1;
	int saved = EINVAL;

	last_error[0] = '\0';
	struct ft_runner *r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->ev = sd_event_ref(ev);
	limits_from_conf(&r->max, conf);

	r->work_dir = ft_jobdir_absolute(conf->work_dir);
	if (!r->work_dir) {
		saved = errno;
		fail_msg("work directory %s: %s", conf->work_dir, strerror(errno));
		goto fail;
	}
	(void)mkdir(r->work_dir, 0700);
	ft_jobdir_remove_stale(r->work_dir);
	struct ft_sandbox_conf sc = {
		.enabled = !conf->sandbox_disabled,
		.bwrap = conf->bwrap,
	};
	r->sb = ft_sandbox_new(&sc, conf->java, conf->jar, err, sizeof(err));
	if (!r->sb) {
		saved = ENOENT;
		fail_msg("sandbox: %s", err);
		goto fail;
	}
	if (ft_sandbox_enabled(r->sb)) {
		r->uids = ft_uidpool_new(conf->uid_lock_dir ? conf->uid_lock_dir : "",
					 conf->sandbox_uid_first, conf->sandbox_uid_count, err,
					 sizeof(err));
		if (!r->uids) {
			saved = EINVAL;
			fail_msg("sandbox users: %s", err);
			goto fail;
		}
		if (!getpwuid(conf->sandbox_uid_first))
			ft_log_notice(
				"runner: sandbox uids %u-%u are not in the user database; create "
				"them (the package does, with sysusers) so that no other account "
				"is given them",
				conf->sandbox_uid_first,
				conf->sandbox_uid_first + conf->sandbox_uid_count - 1);
	}
	r->cg = ft_cgroups_open(cgroup_want(conf->memory_mode), cg_why, sizeof(cg_why));
	if (!r->cg &&
	    (conf->memory_mode == FT_MEMORY_CGROUP1 || conf->memory_mode == FT_MEMORY_CGROUP2)) {
		saved = ENOTSUP;
		fail_msg("the configured memory mechanism is not available: %s", cg_why);
		goto fail;
	}
	if (self_test(r, &selftest_ms) < 0) {
		saved = EPERM;
		goto fail;
	}
	describe(r, cg_why, selftest_ms);
	r->cache = ft_classcache_new(CACHE_ENTRIES, CACHE_BYTES);
	r->srv.in_fd = r->srv.out_fd = r->srv.err_fd = r->srv.status_fd = r->srv.dirfd = -1;
	/* Issue 7: the warm compiler and the pre-started run JVMs start now,
	 * in the background; jobs fall back to cold JVMs whenever they cannot
	 * be used.  Without a pids cgroup the process limit is RLIMIT_NPROC,
	 * counted per uid on the whole host: safe for JVMs kept waiting only
	 * because every sandbox has a uid of its own, so a waiting JVM counts
	 * against its own limit and nobody else's. */
	if (srv_start(r) < 0)
		r->srv.fails++;
	schedule_refill(r, 0);
	return r;
fail:
	ft_cgroups_close(r->cg);
	ft_uidpool_free(r->uids);
	ft_sandbox_free(r->sb);
	sd_event_unref(r->ev);
	free(r->work_dir);
	free(r);
	errno = saved;
	return NULL;
}

const char *ft_runner_describe(const struct ft_runner *r)
{
	return r->desc;
}

void ft_runner_free(struct ft_runner *r)
{
	if (!r)
		return;
	r->refill_src = sd_event_source_unref(r->refill_src);
	while (r->n_spares > 0) {
		struct job *s = r->spares[--r->n_spares];
		spare_kill(s);
	}
	srv_stop(r);
	free(r->srv.rbuf);
	ft_classcache_free(r->cache);
	while (r->jobs) {
		struct job *j = r->jobs;
		warm_forget(r, j);
		if (j->pid > 1) {
			kill_child(j);
			/* The source reaps the (now dying) child when freed. */
			if (j->child_src)
				(void)sd_event_source_set_child_process_own(j->child_src, 1);
		}
		job_release(j);
		unlink_job(j);
		job_free(j);
	}
	/* Last chance for cgroups of killed children; the rest is cleaned at
	 * the next start. */
	while (r->graves) {
		struct cg_grave *g = r->graves;
		r->graves = g->next;
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
	r->grave_timer = sd_event_source_unref(r->grave_timer);
	ft_cgroups_close(r->cg);
	ft_uidpool_free(r->uids);
	ft_sandbox_free(r->sb);
	sd_event_unref(r->ev);
	free(r->work_dir);
	free(r);
}

size_t ft_runner_active(const struct ft_runner *r)
{
	return r->active;
}

static int make_job_dir(struct job *j, const struct ft_run_job *job)
{
	struct ft_runner *r = j->r;
	if (ft_jobdir_make(r->work_dir, FT_JOBDIR_JOB, ft_sandbox_enabled(r->sb), &j->dir,
			   &j->dirfd) < 0)
		return -1;
	for (size_t i = 0; i < job->n_files; i++)
		if (ft_jobdir_write_file(j->dirfd, j->names[i], job->files[i].src,
					 job->files[i].len) < 0)
			return -1;
	if (ft_jobdir_write_run_inputs(j->dirfd, j->input, j->input_len, j->args, j->args_len) < 0)
		return -1;
	/* A cold compile hands it to its sandbox user (spawn_child). */
	if (mkdirat(j->dirfd, FT_JOBDIR_CLASSES, 0755) < 0)
		return -1;
	return 0;
}

static struct job *job_new(struct ft_runner *r, uint64_t job_id, const struct ft_run_limits *want,
			   ft_run_done_fn done, void *ud)
{
	struct job *j = calloc(1, sizeof(*j));
	if (!j)
		abort();
	j->r = r;
	j->id = job_id;
	j->done = done;
	j->ud = ud;
	ft_run_limits_clamp(&r->max, want, &j->lim);
	j->dirfd = -1;
	j->exec_err_fd = -1;
	j->status_fd = -1;
	for (int i = 0; i < 3; i++)
		j->watch_fds[i] = -1;
	j->start_ms = ft_now_ms();
	j->res.exit_code = -1;
	j->res.run_ms = -1;
	j->res.cpu_ms = -1;
	j->res.memory_bytes = -1;
	j->stdin_fd = -1;
	return j;
}

static void link_job(struct job *j)
{
	struct ft_runner *r = j->r;
	j->next = r->jobs;
	if (r->jobs)
		r->jobs->prev = j;
	r->jobs = j;
	r->active++;
}

/* ---- pre-started run JVMs ---- */

static void schedule_refill(struct ft_runner *r, uint64_t usec);

/* What a pre-started JVM was started with must be what the job gets; the
 * wall time and the output limit are the runner's own checks, applied to
 * whichever JVM runs the job. */
static bool spare_fits(const struct job *s, const struct job *j)
{
	return s->lim.run_cpu_ms == j->lim.run_cpu_ms &&
	       s->lim.run_memory_bytes == j->lim.run_memory_bytes &&
	       s->lim.run_max_processes == j->lim.run_max_processes &&
	       s->lim.run_max_file_bytes == j->lim.run_max_file_bytes &&
	       run_fsize(&s->lim) == run_fsize(&j->lim);
}

static void spare_remove(struct ft_runner *r, struct job *s)
{
	for (int i = 0; i < r->n_spares; i++) {
		if (r->spares[i] == s) {
			r->spares[i] = r->spares[--r->n_spares];
			return;
		}
	}
}

/* Starts one sandboxed "ft.Launcher -" in an empty job directory. */
static int spare_start(struct ft_runner *r)
{
	struct job *s = job_new(r, 0, NULL, NULL, NULL);
	char err[512];
	int p[2] = { -1, -1 };
	if (ft_jobdir_make(r->work_dir, FT_JOBDIR_SPARE, ft_sandbox_enabled(r->sb), &s->dir,
			   &s->dirfd) < 0 ||
	    mkdirat(s->dirfd, FT_JOBDIR_CLASSES, 0755) < 0 ||
	    fchmodat(s->dirfd, FT_JOBDIR_CLASSES, 0755, 0) < 0)
		goto fail;
	/* A socket, so that the JVM can say it is ready (ft.Launcher). */
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, p) < 0)
		goto fail;
	s->spare_cpu_extra_ms = SPARE_START_CPU_MS;
	if (spawn_launcher_as(s, "-", p[0], SPARE_START_CPU_MS, err, sizeof(err)) < 0)
		goto fail;
	close(p[0]);
	s->stdin_fd = p[1];
	r->spares[r->n_spares++] = s;
	return 0;
fail:
	close_if_open(&p[0]);
	close_if_open(&p[1]);
	job_release(s);
	job_free(s);
	return -1;
}

static void spare_kill(struct job *s)
{
	kill_child(s);
	if (s->child_src)
		(void)sd_event_source_set_child_process_own(s->child_src, 1);
	close_if_open(&s->stdin_fd);
	job_release(s);
	job_free(s);
}

/* A pre-started JVM ended before it got a job. */
static void spare_exited(struct job *s)
{
	struct ft_runner *r = s->r;
	if (s->pid > 1) {
		(void)kill(-s->pid, SIGKILL);
		(void)waitpid(s->pid, NULL, WNOHANG);
		s->pid = 0;
	}
	spare_remove(r, s);
	close_if_open(&s->stdin_fd);
	job_release(s);
	job_free(s);
	r->spare_fails++;
	schedule_refill(r, REFILL_USEC);
}

static int on_refill(sd_event_source *src, uint64_t usec, void *ud)
{
	struct ft_runner *r = ud;
	/* After the pause that follows too many failures: one more try. */
	if (r->spare_fails >= SPARE_FAILS_MAX)
		r->spare_fails = SPARE_FAILS_MAX - 1;
	while (r->n_spares < FT_RUNNER_SPARES) {
		if (spare_start(r) < 0) {
			r->spare_fails++;
			schedule_refill(r, REFILL_USEC);
			break;
		}
	}
	return 0;
}

static void schedule_refill(struct ft_runner *r, uint64_t usec)
{
	if (r->spare_fails >= SPARE_FAILS_MAX)
		usec = SPARE_RETRY_USEC;
	if (!r->refill_src) {
		if (sd_event_add_time_relative(r->ev, &r->refill_src, CLOCK_MONOTONIC, usec, 1000,
					       on_refill, r) < 0)
			r->refill_src = NULL;
		return;
	}
	if (sd_event_source_set_time_relative(r->refill_src, usec) >= 0)
		(void)sd_event_source_set_enabled(r->refill_src, SD_EVENT_ONESHOT);
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
		for (char *p = kids, *end; *p; p = end) {
			long k = strtol(p, &end, 10);
			if (end == p)
				break;
			renice_tree((pid_t)k, depth + 1);
		}
		free(kids);
	}
	closedir(d);
}

/* Hands job j (its classes in cc) to a pre-started JVM.  On success the
 * spare becomes the job (j is freed) and 0 is returned; -1: no spare could
 * take it, j is untouched. */
static int handover(struct job *j, struct ft_compiled *cc)
{
	struct ft_runner *r = j->r;
	struct job *s = NULL;
	/* A JVM that said it is ready first, else the oldest (furthest on). */
	for (int i = 0; i < r->n_spares; i++) {
		struct job *c = r->spares[i];
		if (!spare_fits(c, j))
			continue;
		if (!c->spare_ready) {
			char b;
			c->spare_ready = recv(c->stdin_fd, &b, 1, MSG_DONTWAIT) == 1 &&
					 b == FT_WIRE_SPARE_READY;
		}
		if (!s || (c->spare_ready && !s->spare_ready) ||
		    (c->spare_ready == s->spare_ready && c->phase_start_ms < s->phase_start_ms))
			s = c;
	}
	if (!s) {
		/* Spares started under limits since changed (reload) never fit
		 * the new jobs: replace them. */
		for (int i = 0; i < r->n_spares; i++) {
			struct job *o = r->spares[i];
			if (o->lim.run_cpu_ms != r->max.run_cpu_ms ||
			    o->lim.run_memory_bytes != r->max.run_memory_bytes ||
			    o->lim.run_max_processes != r->max.run_max_processes ||
			    o->lim.run_max_file_bytes != r->max.run_max_file_bytes ||
			    o->lim.max_output_bytes != r->max.max_output_bytes) {
				spare_remove(r, o);
				spare_kill(o);
				i = -1;
			}
		}
		schedule_refill(r, REFILL_USEC);
		return -1;
	}
	spare_remove(r, s);
	r->spare_fails = 0;
	schedule_refill(r, REFILL_USEC);
	char line[CLASS_NAME_MAX + 1];
	int n = snprintf(line, sizeof(line), "%s\n", j->fqcn);
	/* Staging (by path) is over once bwrap reports its init. */
	bool staged = tree_root(s) > 0;
	renice_tree(s->pid, 0);
	if (ft_jobdir_write_classes(s->dirfd, cc) < 0 ||
	    ft_jobdir_write_run_inputs(s->dirfd, j->input, j->input_len, j->args, j->args_len) <
		    0 ||
	    n <= 0 || (size_t)n >= sizeof(line) ||
	    ft_jobdir_write_all(s->stdin_fd, line, (size_t)n) < 0) {
		spare_kill(s);
		return -1;
	}
	close_if_open(&s->stdin_fd);
	/* The directory is the job's now (the sandbox has it bound by inode). */
	char *jobdir = ft_xasprintf("%s/%s%s", r->work_dir, FT_JOBDIR_JOB,
				    s->dir + strlen(r->work_dir) + 1 + strlen(FT_JOBDIR_SPARE));
	/* Unsandboxed, the JVM made its class path absolute at start: keep the name. */
	if (staged && ft_sandbox_enabled(r->sb) && rename(s->dir, jobdir) == 0) {
		free(s->dir);
		s->dir = jobdir;
	} else {
		free(jobdir);
	}
	/* The spare takes over the job's identity. */
	s->id = j->id;
	s->done = j->done;
	s->ud = j->ud;
	s->lim = j->lim;
	memcpy(s->fqcn, j->fqcn, sizeof(s->fqcn));
	memcpy(s->simple, j->simple, sizeof(s->simple));
	s->start_ms = j->start_ms;
	s->res.compile_cached = j->res.compile_cached;
	s->capture = j->capture;
	s->phase = PHASE_RUN;
	s->phase_start_ms = ft_now_ms();
	s->cpu_base_ms = 0;
	if (s->cg && ft_cgroups_has(r->cg, FT_CG_CPU)) {
		int64_t ns = ft_cgroup_job_cpu_ns(s->cg);
		if (ns > 0)
			s->cpu_base_ms = ns / 1000000;
	} else {
		sample_usage(s);
		if (s->sample_cpu_ms > 0)
			s->cpu_base_ms = s->sample_cpu_ms;
	}
	(void)sd_event_source_set_userdata(s->child_src, s);
	link_job(s);
	unlink_job(j);
	job_release(j);
	job_free(j);
	if (s->lim.run_wall_ms > 0 && arm_timer(s, s->lim.run_wall_ms) < 0)
		kill_child(s); /* its exit ends the job */
	(void)sd_event_add_time_relative(r->ev, &s->poll_src, CLOCK_MONOTONIC, POLL_USEC,
					 POLL_USEC / 10, on_poll, s);
	return 0;
}

/* The job's classes are known: run them, in a pre-started JVM if one fits.
 * The job is linked; on failure its result is set and it is delivered
 * later. */
static void run_compiled(struct job *j, struct ft_compiled *cc)
{
	char err[512];
	if (!cc->ok) {
		set_result(j, FT_VERDICT_COMPILE_ERROR, -1,
			   memcpy(ft_xmalloc(cc->body_len + 1), cc->body, cc->body_len + 1),
			   cc->body_len);
		if (deliver_later(j) < 0)
			deliver(j);
		return;
	}
	if (handover(j, cc) == 0)
		return;
	if (ft_jobdir_write_classes(j->dirfd, cc) < 0) {
		machinery_failed(j, "could not write the compiled classes", strerror(errno));
	} else if (spawn_launcher(j, err, sizeof(err)) == 0) {
		return;
	} else {
		machinery_failed(j, "could not start the program", err);
	}
	if (deliver_later(j) < 0)
		deliver(j);
}

/* ---- the warm compiler ---- */

static void srv_send_next(struct ft_runner *r);

static void srv_stop(struct ft_runner *r)
{
	struct csrv *v = &r->srv;
	if (v->pid > 1) {
		(void)kill(-v->pid, SIGKILL);
		if (v->cg)
			(void)ft_cgroup_job_kill(v->cg);
		if (v->child_src)
			(void)sd_event_source_set_child_process_own(v->child_src, 1);
	}
	v->child_src = sd_event_source_unref(v->child_src);
	v->in_src = sd_event_source_unref(v->in_src);
	v->out_src = sd_event_source_unref(v->out_src);
	close_if_open(&v->in_fd);
	close_if_open(&v->out_fd);
	close_if_open(&v->err_fd);
	close_if_open(&v->status_fd);
	if (v->cg) {
		release_cgroup(r, v->cg);
		v->cg = NULL;
	}
	release_uid(r, v->uid, &v->has_uid);
	if (v->dir)
		ft_jobdir_remove(v->dir);
	close_if_open(&v->dirfd);
	free(v->dir);
	v->dir = NULL;
	free(v->wbuf);
	v->wbuf = NULL;
	v->wlen = v->woff = 0;
	v->rlen = 0;
	v->pid = 0;
	v->served = 0;
}

static void srv_disable(struct ft_runner *r)
{
	r->srv.disabled = true;
	r->srv.disabled_ms = ft_now_ms();
	ft_log_warn("runner: the warm compiler failed %d times in a row; compiling cold, trying it "
		    "again in %d s",
		    r->srv.fails, SRV_RETRY_MS / 1000);
}

/* False while given up on; after SRV_RETRY_MS it gets one more chance. */
static bool srv_usable(struct ft_runner *r)
{
	struct csrv *v = &r->srv;
	if (v->disabled && ft_now_ms() - v->disabled_ms >= SRV_RETRY_MS) {
		v->disabled = false;
		v->fails = SRV_FAILS_MAX - 1;
	}
	return !v->disabled;
}

/* The job in the compiler is taken off it: compile it the cold way. */
static void warm_fallback(struct job *j)
{
	char err[512];
	j->timer_src = sd_event_source_unref(j->timer_src);
	free(j->src);
	j->src = NULL;
	if (spawn_compiler(j, err, sizeof(err)) < 0) {
		if (j->pid > 0) {
			kill_child(j);
			machinery_failed(j, "could not start the compiler", err);
		} else {
			machinery_failed(j, "could not start the compiler", err);
			if (deliver_later(j) < 0)
				deliver(j);
		}
	}
}

/* The compiler JVM died or misbehaved: the job in it (if any) is retried
 * the cold way, or gets the memory verdict if the JVM ran out of memory. */
static void srv_failed(struct ft_runner *r, bool oom)
{
	struct csrv *v = &r->srv;
	struct job *j = v->cur;
	v->cur = NULL;
	srv_stop(r);
	if (++v->fails >= SRV_FAILS_MAX && !oom)
		srv_disable(r);
	/* Out of memory too: a long-lived compiler's heap also holds what
	 * earlier jobs left, so the cold compiler, with the whole limit for
	 * this source alone, gives the verdict. */
	if (j)
		warm_fallback(j);
	srv_send_next(r);
}

static int on_srv_exit(sd_event_source *s, const siginfo_t *si, void *ud)
{
	struct ft_runner *r = ud;
	struct csrv *v = &r->srv;
	struct ft_cgroup_stats cs = { .cpu_ns = -1, .memory_peak = -1 };
	if (v->cg)
		ft_cgroup_job_stats(v->cg, &cs);
	if (v->pid > 1) {
		(void)kill(-v->pid, SIGKILL);
		(void)waitpid(v->pid, NULL, WNOHANG);
	}
	v->pid = 0;
	bool oom = cs.oom_killed || (si->si_code == CLD_EXITED &&
				     si->si_status == FT_WIRE_COMPILER_EXIT_OUT_OF_MEMORY);
	srv_failed(r, oom);
	return 0;
}

static int srv_start(struct ft_runner *r)
{
	struct csrv *v = &r->srv;
	int in[2] = { -1, -1 }, out[2] = { -1, -1 }, errf = -1;
	int cgfds[FT_CG_N];
	struct ft_spawned sp = { -1, -1, -1 };
	char err[512];
	char mem[FT_JVM_MEM_ARGS_MAX][FT_JVM_ARG_LEN];
	char *argv[32];
	uint64_t budget = r->max.compile_memory_bytes;
	v->budget = budget;

	v->in_fd = v->out_fd = v->err_fd = v->status_fd = v->dirfd = -1;
	if (ft_jobdir_make(r->work_dir, FT_JOBDIR_WARM_COMPILER, ft_sandbox_enabled(r->sb), &v->dir,
			   &v->dirfd) < 0)
		goto fail;
	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0)
		goto fail;
	errf = ft_jobdir_open_output(v->dirfd, FT_JOBDIR_COMPILE_ERR);
	if (errf < 0 || claim_uid(r, &v->uid, &v->has_uid, err, sizeof(err)) < 0)
		goto fail;
	if (r->cg) {
		v->cg = ft_cgroup_job_new(r->cg, budget, COMPILE_MAX_TASKS + SANDBOX_TASKS, err,
					  sizeof(err));
		if (!v->cg)
			goto fail;
	}
	int n = jvm_args(r, budget, argv, mem);
	char *tmpdir = ft_xasprintf("-Djava.io.tmpdir=%s",
				    ft_sandbox_enabled(r->sb) ? FT_SANDBOX_TMP : v->dir);
	/* Long-lived and mostly idle: keep the heap no bigger than it needs. */
	argv[n++] = "-XX:MinHeapFreeRatio=10";
	argv[n++] = "-XX:MaxHeapFreeRatio=30";
	argv[n++] = tmpdir;
	argv[n++] = "-cp";
	argv[n++] = (char *)ft_sandbox_jar(r->sb);
	argv[n++] = "ft.Compiler";
	argv[n++] = "--server";
	argv[n] = NULL;
	struct ft_spawn s = {
		.dirfd = v->dirfd,
		.dir_path = v->dir,
		.rw_subdir = NULL,
		.tmp_bytes = 16 * FT_MiB,
		.fds = { in[0], out[1], errf, -1 },
		.cgroup_fds = cgfds,
		.n_cgroup_fds = v->cg ? ft_cgroup_job_procs_fds(v->cg, cgfds) : 0,
		.fsize = COMPILE_FSIZE_MAX,
		.cpu_seconds = SRV_CPU_SECONDS,
		.nproc = ft_cgroups_has(r->cg, FT_CG_PIDS)
				 ? 0
				 : (rlim_t)(COMPILE_MAX_TASKS + SANDBOX_TASKS),
		.address_space = memory_by_rlimit(r) ? address_space_for(r, budget) : 0,
		.uid = v->uid,
		.gid = v->uid,
		.argv = argv,
		.env = child_env,
	};
	int rc = ft_sandbox_spawn(r->sb, &s, &sp);
	free(tmpdir);
	if (rc < 0)
		goto fail;
	v->pid = sp.pid;
	v->err_fd = sp.err_fd;
	v->status_fd = sp.status_fd;
	close(in[0]);
	close(out[1]);
	close(errf);
	in[0] = out[1] = errf = -1;
	v->in_fd = in[1];
	v->out_fd = out[0];
	(void)fcntl(v->in_fd, F_SETFL, O_NONBLOCK);
	(void)fcntl(v->out_fd, F_SETFL, O_NONBLOCK);
	if (sd_event_add_child(r->ev, &v->child_src, v->pid, WEXITED, on_srv_exit, r) < 0) {
		kill(-v->pid, SIGKILL);
		(void)waitpid(v->pid, NULL, 0);
		v->pid = 0;
		goto fail;
	}
	v->rlen = 0;
	v->served = 0;
	return 0;
fail:
	close_if_open(&in[0]);
	close_if_open(&in[1]);
	close_if_open(&out[0]);
	close_if_open(&out[1]);
	close_if_open(&errf);
	srv_stop(r);
	return -1;
}

static int on_srv_out(sd_event_source *s, int fd, uint32_t revents, void *ud)
{
	struct ft_runner *r = ud;
	struct csrv *v = &r->srv;
	for (;;) {
		if (v->rlen == v->rcap) {
			if (v->rcap >= (size_t)COMPILE_FSIZE_MAX) {
				srv_failed(r, false);
				return 0;
			}
			v->rcap = v->rcap ? v->rcap * 2 : 65536;
			unsigned char *nb = realloc(v->rbuf, v->rcap);
			if (!nb)
				abort();
			v->rbuf = nb;
		}
		ssize_t n = read(fd, v->rbuf + v->rlen, v->rcap - v->rlen);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n <= 0) { /* EOF: the exit handler deals with it */
			v->out_src = sd_event_source_unref(v->out_src);
			return 0;
		}
		v->rlen += (size_t)n;
	}
	struct ft_compiled *cc;
	size_t used;
	enum ft_warm_answer a = ft_warmproto_parse(v->rbuf, v->rlen, &cc, &used);
	if (a == FT_WARM_NEED_MORE)
		return 0;
	if (a == FT_WARM_MALFORMED || a == FT_WARM_OUT_OF_MEMORY || !v->cur) {
		ft_compiled_unref(cc);
		srv_failed(r, a == FT_WARM_OUT_OF_MEMORY);
		return 0;
	}
	struct job *j = v->cur;
	v->cur = NULL;
	v->rlen = 0;
	v->fails = 0;
	v->served++;
	j->timer_src = sd_event_source_unref(j->timer_src);
	if (j->deadline_passed) {
		ft_compiled_unref(cc);
		set_result_str(j, FT_VERDICT_TIME_LIMIT, -1,
			       ft_verdict_compile_time_body(j->lim.compile_wall_ms));
		if (deliver_later(j) < 0)
			deliver(j);
	} else {
		ft_classcache_put(r->cache, j->src, j->src_len, cc);
		free(j->src);
		j->src = NULL;
		j->phase = PHASE_NONE;
		run_compiled(j, cc);
		ft_compiled_unref(cc);
	}
	if (v->served >= SRV_MAX_JOBS && v->pid > 1) {
		/* Retire it: closing its stdin ends it; its exit is not a failure. */
		srv_stop(r);
	}
	srv_send_next(r);
	return 0;
}

static int on_srv_in(sd_event_source *s, int fd, uint32_t revents, void *ud)
{
	struct ft_runner *r = ud;
	struct csrv *v = &r->srv;
	while (v->woff < v->wlen) {
		ssize_t n = write(fd, v->wbuf + v->woff, v->wlen - v->woff);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return 0;
		if (n < 0) {
			srv_failed(r, false);
			return 0;
		}
		v->woff += (size_t)n;
	}
	free(v->wbuf);
	v->wbuf = NULL;
	v->wlen = v->woff = 0;
	v->in_src = sd_event_source_unref(v->in_src);
	return 0;
}

/* Sends the next queued job to the compiler (starting it if needed). */
static void srv_send_next(struct ft_runner *r)
{
	struct csrv *v = &r->srv;
	while (!v->cur && v->q_head) {
		struct job *j = v->q_head;
		if (v->pid > 1 && v->budget != r->max.compile_memory_bytes)
			srv_stop(r); /* limits reloaded: a compiler with the new one */
		if (!srv_usable(r) || (v->pid <= 1 && srv_start(r) < 0)) {
			if (!v->disabled && ++v->fails >= SRV_FAILS_MAX)
				srv_disable(r);
			v->q_head = j->cq_next;
			if (!v->q_head)
				v->q_tail = NULL;
			j->cq_next = NULL;
			warm_fallback(j);
			continue;
		}
		v->q_head = j->cq_next;
		if (!v->q_head)
			v->q_tail = NULL;
		j->cq_next = NULL;
		v->wlen = j->src_len;
		v->woff = 0;
		v->wbuf = ft_xmemdup(j->src, j->src_len);
		v->cur = j;
		v->rlen = 0;
		if (j->lim.compile_wall_ms > 0 && arm_timer(j, j->lim.compile_wall_ms) < 0) {
			srv_failed(r, false);
			continue;
		}
		if (!v->out_src &&
		    sd_event_add_io(r->ev, &v->out_src, v->out_fd, EPOLLIN, on_srv_out, r) < 0) {
			srv_failed(r, false);
			continue;
		}
		if (sd_event_add_io(r->ev, &v->in_src, v->in_fd, EPOLLOUT, on_srv_in, r) < 0) {
			srv_failed(r, false);
			continue;
		}
	}
}

/* The compile deadline of a job in the warm compiler passed: the compiler
 * is restarted, the job gets the time limit as a cold compile would. */
static void warm_timeout(struct job *j)
{
	struct ft_runner *r = j->r;
	struct csrv *v = &r->srv;
	if (v->cur != j)
		return;
	v->cur = NULL;
	srv_stop(r);
	set_result_str(j, FT_VERDICT_TIME_LIMIT, -1,
		       ft_verdict_compile_time_body(j->lim.compile_wall_ms));
	deliver(j);
	srv_send_next(r);
}

static void warm_enqueue(struct job *j)
{
	struct csrv *v = &j->r->srv;
	j->phase = PHASE_WARM;
	if (v->q_tail)
		v->q_tail->cq_next = j;
	else
		v->q_head = j;
	v->q_tail = j;
	srv_send_next(j->r);
}

/* Removes a job from the compiler queue (runner freed). */
static void warm_forget(struct ft_runner *r, struct job *j)
{
	struct csrv *v = &r->srv;
	if (v->cur == j)
		v->cur = NULL;
	for (struct job **pp = &v->q_head; *pp; pp = &(*pp)->cq_next) {
		if (*pp == j) {
			*pp = j->cq_next;
			break;
		}
	}
	v->q_tail = NULL;
	for (struct job *q = v->q_head; q; q = q->cq_next)
		v->q_tail = q;
}

/* Copies what the job needs beyond its directory: the file names, the
 * sources as one request (warm compiler and cache key), the input and the
 * arguments.  0, or -1 with errno. */
static int take_job(struct job *j, const struct ft_run_job *job)
{
	j->src = ft_warmproto_request(job->files, job->n_files, &j->src_len);
	if (!j->src)
		return -1;
	j->names = ft_xcalloc(job->n_files, sizeof(*j->names));
	for (size_t i = 0; i < job->n_files; i++)
		j->names[j->n_names++] = ft_xstrdup(job->files[i].name);
	if (job->input) {
		j->input = ft_xmemdup(job->input, job->input_len);
		j->input_len = job->input_len;
	}
	if (job->n_args > 0) {
		struct ft_buf b = { 0 };
		for (size_t i = 0; i < job->n_args; i++)
			ft_buf_append(&b, job->args[i], strlen(job->args[i]) + 1);
		j->args = b.data;
		j->args_len = b.len;
	}
	j->capture = job->capture;
	return 0;
}

static bool job_acceptable(const struct ft_run_job *job)
{
	if (job->n_files == 0 || job->n_files > UINT32_MAX / 2)
		return false;
	for (size_t i = 0; i < job->n_files; i++) {
		const char *name = job->files[i].name;
		if (job->files[i].len > UINT32_MAX)
			return false;
		if (name ? !ft_jobspec_file_name_ok(name) : job->n_files > 1)
			return false;
	}
	return true;
}

int ft_runner_start_job(struct ft_runner *r, uint64_t job_id, const struct ft_run_job *job,
			ft_run_done_fn done, void *ud)
{
	if (!job_acceptable(job)) {
		errno = EINVAL;
		return -1;
	}
	struct job *j = job_new(r, job_id, job->limits, done, ud);
	int rc;

	const struct ft_job_file *main_file = &job->files[0];
	if (ft_java_class_name(main_file->src, main_file->len, j->fqcn, sizeof(j->fqcn), j->simple,
			       sizeof(j->simple)) < 0) {
		set_result_str(j, FT_VERDICT_COMPILE_ERROR, -1, ft_xstrdup(FT_NO_CLASS_NAME));
		if ((rc = deliver_later(j)) < 0)
			goto fail_errno;
		link_job(j);
		return 0;
	}
	char own[SIMPLE_NAME_MAX + sizeof(FT_JOBDIR_SRC_SUFFIX)];
	struct ft_job_file named;
	struct ft_run_job with_name;
	if (!main_file->name) {
		snprintf(own, sizeof(own), "%s%s", j->simple, FT_JOBDIR_SRC_SUFFIX);
		named = (struct ft_job_file){ .name = own,
					      .src = main_file->src,
					      .len = main_file->len };
		with_name = *job;
		with_name.files = &named;
		job = &with_name;
	}
	if (take_job(j, job) < 0 || make_job_dir(j, job) < 0) {
		rc = -errno;
		goto fail_errno;
	}
	struct ft_compiled *cc = ft_classcache_get(r->cache, j->src, j->src_len);
	if (cc) {
		j->res.compile_cached = true;
		free(j->src);
		j->src = NULL;
		link_job(j);
		run_compiled(j, cc);
		ft_compiled_unref(cc);
		return 0;
	}
	/* The warm compiler has the configured compile memory limit: a job
	 * asking for less compiles the cold way. */
	if (srv_usable(r) && j->lim.compile_memory_bytes == r->max.compile_memory_bytes) {
		link_job(j);
		warm_enqueue(j);
		return 0;
	}
	char err[512];
	if (spawn_compiler(j, err, sizeof(err)) < 0) {
		if (j->pid > 0) {
			/* Started, but no timer: it must not run unbounded. */
			kill_child(j);
			machinery_failed(j, "could not start the compiler", err);
		} else {
			machinery_failed(j, "could not start the compiler", err);
			if ((rc = deliver_later(j)) < 0)
				goto fail_errno;
		}
	}
	link_job(j);
	return 0;

fail_errno:
	job_release(j);
	job_free(j);
	errno = -rc;
	return -1;
}

int ft_runner_start_limits(struct ft_runner *r, uint64_t job_id, const char *src, size_t len,
			   const struct ft_run_limits *want, ft_run_done_fn done, void *ud)
{
	struct ft_job_file file = { .src = src, .len = len };
	struct ft_run_job job = { .files = &file, .n_files = 1, .limits = want };
	return ft_runner_start_job(r, job_id, &job, done, ud);
}

int ft_runner_start(struct ft_runner *r, uint64_t job_id, const char *src, size_t len,
		    ft_run_done_fn done, void *ud)
{
	return ft_runner_start_limits(r, job_id, src, len, NULL, done, ud);
}
