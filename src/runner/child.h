/* The runner's children: sandboxed processes (sandbox.h) in a cgroup of
 * their own where there is one (cgroup.h), each as a sandbox user of its
 * own (uidpool.h), under rlimits, watched from the event loop.
 *
 * A watched child (struct ft_child) has a wall-clock timer and, while a
 * program runs, a poll of its CPU time; its standard output and error and
 * a run's result channel are pipes the loop drains into buffers of bounded
 * size (never files: a program can take nothing of the node's disk, and
 * no more of its memory than what is kept of each stream).  A limit that
 * trips kills its whole process tree: SIGKILL to bwrap's process group
 * ends its PID namespace (and cgroup.kill on cgroup v2).  When it exits it
 * is reaped with its resource usage (which includes the program's: the
 * program is PID 1 of its namespace and bwrap reaps it) and its cgroup's
 * figures, and its cgroup goes once its last tasks have left.
 *
 * The caller must block SIGCHLD in every thread before creating the
 * sd_event loop (sd_event_add_child requires it). */
#ifndef FT_CHILD_H
#define FT_CHILD_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <systemd/sd-event.h>

#include "runner/cgroup.h"
#include "runner/limits.h"
#include "runner/procusage.h"
#include "runner/sandbox.h"
#include "runner/uidpool.h"

struct ft_cg_grave;

/* What every child of a runner shares. */
struct ft_child_host {
	sd_event *ev;
	struct ft_sandbox *sb;
	struct ft_uidpool *uids; /* sandbox users; NULL unsandboxed */
	struct ft_cgroups *cg;	 /* NULL: no cgroups, rlimits only */
	/* Cgroups of finished children whose tasks are still leaving. */
	struct ft_cg_grave *graves;
	sd_event_source *grave_timer;
};

/* Last chance for the cgroups of killed children, blocking briefly; the
 * rest is cleaned at the next start. */
void ft_child_host_drain(struct ft_child_host *h);

/* Removes a finished child's cgroup now, or as soon as its last tasks
 * (killed, still exiting) have left.  cg may be NULL. */
void ft_child_release_cgroup(struct ft_child_host *h, struct ft_cgroup_job *cg);
/* A cgroup for a child whose program may run tasks tasks (the sandbox's
 * own come on top); NULL with a message. */
struct ft_cgroup_job *ft_child_cgroup_new(struct ft_child_host *h, uint64_t memory, int tasks,
					  char *err, size_t errlen);

/* A sandbox user, claimed once (nothing if *has, or unsandboxed): 0, or
 * -1 with a message in err. */
int ft_child_claim_uid(struct ft_child_host *h, uid_t *uid, bool *has, char *err, size_t errlen);
void ft_child_release_uid(struct ft_child_host *h, uid_t uid, bool *has);

/* No memory cgroup: the JVM's memory is bounded by RLIMIT_AS. */
bool ft_child_memory_by_rlimit(const struct ft_child_host *h);

/* The java binary and the flags every JVM of the runner gets, with the
 * memory flags for budget, into argv (which has room); mem holds the
 * memory flags' text.  Returns how many arguments were written. */
int ft_child_jvm_args(const struct ft_child_host *h, uint64_t budget, char *argv[],
		      char mem[][FT_JVM_ARG_LEN]);
/* RLIMIT_AS for a JVM with this budget (when memory is by rlimit). */
uint64_t ft_child_address_space(uint64_t budget);

/* What a child writes: standard output and error and, for a run, the
 * result channel on fd 3. */
enum ft_child_stream { FT_CHILD_STDOUT, FT_CHILD_STDERR, FT_CHILD_RESULT, FT_CHILD_STREAMS };

/* How much of a stream is kept. */
struct ft_child_keep {
	uint64_t bytes; /* 0: not captured (stdout and stderr go to /dev/null; no fd 3) */
	/* Beyond bytes, the rest is read and dropped; else a stream that
	 * brings more gets the child killed (an output limit). */
	bool truncate;
};

/* One captured stream. */
struct ft_child_output {
	int fd; /* the pipe's read end (non-blocking); -1: none, or at its end */
	sd_event_source *src;
	char *buf; /* NUL-terminated, len bytes: at most keep.bytes + 1 */
	size_t len, cap;
	struct ft_child_keep keep;
	bool over; /* more than keep.bytes came */
};

/* What one child may use. */
struct ft_child_limits {
	uint64_t tmp_bytes;
	rlim_t fsize;
	rlim_t cpu_seconds;
	uint64_t memory; /* cgroup limit (ft_child_spawn) */
	int tasks;	 /* the program's processes + threads */
	rlim_t address_space;
	rlim_t nofile; /* RLIMIT_NOFILE, 0: the daemon's */
	int nice;
	struct ft_child_keep keep[FT_CHILD_STREAMS];
};

/* Starts a sandboxed child: argv in the directory dirfd (at path dir),
 * fds[0..3] as its 0..3 (fds[3] < 0: none), in cg (NULL: none) as uid,
 * with the environment every child gets.  0, or -1 with errno. */
int ft_child_start(const struct ft_child_host *h, int dirfd, const char *dir, const int fds[4],
		   struct ft_cgroup_job *cg, uid_t uid, const struct ft_child_limits *cl,
		   char *const argv[], struct ft_spawned *out);

/* CLOCK_MONOTONIC microseconds ms from now, from the clock, not from the
 * loop's cached "now": a spawn takes a while, and the program must get
 * its whole time. */
uint64_t ft_child_deadline_usec(int ms);

/* ---- watched children ---- */

/* The child exited (still to be reaped: ft_child_reap). */
typedef void (*ft_child_exit_fn)(void *ud, const siginfo_t *si);

/* One child at a time (a job's compile, then its run), with the sandbox
 * user claimed for the first and kept until ft_child_release. */
struct ft_child {
	struct ft_child_host *h;
	ft_child_exit_fn on_exit;
	void *ud;
	uid_t uid;
	bool has_uid;
	pid_t pid;	 /* bwrap, also its process group; 0 if none */
	int exec_err_fd; /* read end: struct ft_spawn_failure if set-up failed */
	int status_fd;	 /* read end of bwrap's status pipe */
	struct ft_cgroup_job *cg;
	sd_event_source *exit_src, *timer_src, *poll_src;
	struct ft_child_output out[FT_CHILD_STREAMS];
	bool deadline_passed; /* the timer fired */
	bool killed_by_timer;
	bool killed_cpu;
	bool killed_output;
	int64_t started_ms;
	/* bwrap's status text (its init's pid). */
	char status[512];
	size_t status_len;
	/* Without a cgroup: the process tree's use, sampled from /proc. */
	int64_t sample_cpu_ms;
	int64_t sample_peak;
	/* CPU time a JVM used before its job was handed over (not the job's). */
	int64_t cpu_base_ms;
	/* The poll's limit. */
	int poll_cpu_ms;
};

void ft_child_init(struct ft_child *c, struct ft_child_host *h, ft_child_exit_fn on_exit, void *ud);
/* After a struct copy to a new place (a pre-started JVM handed to a job):
 * the loop's sources follow it; exits go to on_exit(ud). */
void ft_child_moved(struct ft_child *c, ft_child_exit_fn on_exit, void *ud);

/* Starts argv in the job directory with stdin_fd (< 0: /dev/null) as its
 * stdin, and its stdout, stderr and (if cl->keep[FT_CHILD_RESULT].bytes)
 * result channel on fd 3 captured as cl->keep says, from now until its
 * exit.  Claims the sandbox user, creates the cgroup.  0, or -1 with a
 * message in err. */
int ft_child_spawn(struct ft_child *c, int dirfd, const char *dir, char *const argv[], int stdin_fd,
		   const struct ft_child_limits *cl, char *err, size_t errlen);
/* The wall-clock limit: ms from now the child is killed (unless it
 * exited right at the deadline: its exit decides).  Negative errno. */
int ft_child_arm_timer(struct ft_child *c, int ms);
/* The output limit of a run: stdout and stderr at most max_output bytes
 * each, the answer too (the channel's marks on top); more kills the child
 * (at once, if it wrote more already).  And a poll of the CPU time (cpu_ms,
 * 0: none) until the exit; without it RLIMIT_CPU still holds, only
 * precision is lost. */
void ft_child_start_poll(struct ft_child *c, int cpu_ms, uint64_t max_output);
/* Kills the whole tree: bwrap's group and, on cgroup v2, every task of
 * the cgroup at once. */
void ft_child_kill(struct ft_child *c);
/* The channel's marks before the answer (ft.Launcher: the mark that the
 * program started, then the outcome's tag). */
#define FT_CHILD_RESULT_HEAD 2
/* What was kept of a stream: len bytes, NUL-terminated ("" if none). */
const char *ft_child_output(const struct ft_child *c, enum ft_child_stream s, size_t *len);
/* A copy of at most max bytes of it, NUL-terminated, *len bytes. */
char *ft_child_output_dup(const struct ft_child *c, enum ft_child_stream s, size_t max,
			  size_t *len);
/* Whether a stream brought more than max bytes. */
bool ft_child_over(const struct ft_child *c, enum ft_child_stream s, uint64_t max);
/* The root of the program's process tree: bwrap's init in the sandbox,
 * else the JVM itself.  -1 while unknown. */
pid_t ft_child_tree_root(struct ft_child *c);
/* Without cgroup accounting: sample the tree's CPU time and peak RSS. */
void ft_child_sample(struct ft_child *c);
/* CPU time the child used so far (cgroup, else a sample); 0 if unknown. */
int64_t ft_child_cpu_used_ms(struct ft_child *c);

/* What an exited child left. */
struct ft_child_exit {
	bool started; /* bwrap got as far as starting the command */
	struct ft_cgroup_stats cs;
	struct rusage ru;
	bool have_ru;
	bool setup_failed; /* the child's set-up wrote what failed: */
	struct ft_spawn_failure failure;
};
/* Takes down what the child left in its group and cgroup, reaps it with
 * its resource usage, reads the rest of its output, reads its cgroup's
 * figures and releases the cgroup; the sandbox user stays claimed. */
void ft_child_reap(struct ft_child *c, struct ft_child_exit *x);
/* The same for a child whose end tells nothing. */
void ft_child_reap_quietly(struct ft_child *c);
/* A live child is killed; the loop reaps it once its source goes. */
void ft_child_abandon(struct ft_child *c);
/* Releases everything: sources, descriptors, cgroup, sandbox user.  The
 * child must be gone (reaped or abandoned). */
void ft_child_release(struct ft_child *c);

#endif
