/* Compile and run one submitted Java program, asynchronously, on the
 * daemon's sd-event loop.  The runner never blocks the loop: compile and run
 * are child processes whose exit the loop waits on.
 *
 * Contract (see CONTRACT.md): the class name comes from the source (public
 * class, with its package); the launcher creates an instance with the no-arg
 * constructor and calls `public String run()`; the answer is the string it
 * returned, handed back on a channel of its own (not stdout). */
#ifndef FT_RUNNER_H
#define FT_RUNNER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "job/jobspec.h"
#include "job/verdict.h"

struct ft_run_result {
	enum ft_verdict verdict;
	int exit_code;	 /* of the run JVM; -1 if it never ran or was killed */
	int64_t wall_ms; /* the whole job: compile + run, as the runner saw it */
	int64_t run_ms;	 /* the run phase alone (the program's time); -1 if it never ran */
	int64_t cpu_ms;	 /* CPU time of the run phase (all its processes); -1 if unknown */
	/* Peak memory of the run phase in bytes: the cgroup's peak usage (v1
	 * memory.max_usage_in_bytes, v2 memory.peak), else the largest
	 * process's peak RSS (getrusage of the reaped children); -1 if unknown. */
	int64_t memory_bytes;
	/* The HTTP body of the contract: for OK, exactly the string run()
	 * returned; otherwise an error message, a newline, then the detail
	 * ("Code did not compile:\nError on line 3, column 5 in Foo.java: ...",
	 * "Exception thrown by run():\njava.lang.IllegalStateException: ...\n\tat ...",
	 * "No class name found in code", "Time limit exceeded:\n...").  A limit
	 * that tripped is always described by the runner, never by the program. */
	char *body;
	size_t body_len;
	/* The classes (or the compile error) came from the runner's cache of
	 * earlier compilations of the same source: no compiler ran. */
	bool compile_cached;
	/* The node's machinery failed (sandbox set-up, a JVM that could not
	 * start, no free sandbox uid): nothing of the program ran, or what
	 * happened is not the program's doing.  verdict is internal_error and
	 * body says what failed; another attempt, elsewhere, may succeed. */
	bool transient;
	/* The class was entered (its entry point found, its code started):
	 * as main(String[]) if main_program, else through run(). */
	bool entered;
	bool main_program;
	/* With ft_run_job.capture, once the program ran: what it wrote to
	 * standard output and error, each cut at the output limit; else NULL. */
	char *out, *err;
	size_t out_len, err_len;
};

/* Which mechanism enforces the memory limit. */
enum ft_memory_mode {
	FT_MEMORY_AUTO = 0, /* cgroup v2, else cgroup v1, else rlimit */
	FT_MEMORY_CGROUP2,
	FT_MEMORY_CGROUP1,
	FT_MEMORY_RLIMIT, /* JVM heap flags + RLIMIT_AS, no cgroups */
};

struct ft_runner_conf {
	const char *java;     /* java binary */
	const char *jar;      /* ftcluster.jar: ft.Launcher and ft.Compiler */
	const char *work_dir; /* parent of per-job private directories */
	int wall_ms;	      /* the run phase, wall clock (limits.run_wall_ms) */
	size_t max_output_bytes;

	/* Limits; 0 = the default (limits.h).  They are also the maxima a
	 * request may ask for (ft_runner_start_limits). */
	int compile_wall_ms;	       /* default 30000 */
	int cpu_ms;		       /* run phase CPU time, default 10000 */
	uint64_t memory_bytes;	       /* run phase, default 256 MiB, min 64 MiB */
	uint64_t compile_memory_bytes; /* default 512 MiB, min 64 MiB */
	int max_processes;	       /* run phase processes + threads, default 64, min 24 */
	uint64_t max_file_bytes;       /* largest file a program writes, default 16 MiB */
	int max_open_files;	       /* RLIMIT_NOFILE of a run, default 256, min 32 */

	/* Sandbox. */
	int sandbox_disabled; /* 0: sandboxed (default); 1: rlimits only */
	const char *bwrap;    /* NULL: "bwrap" from PATH */
	/* Each sandbox runs as a uid of its own from this range, shared with
	 * the other nodes of the host through lock files in uid_lock_dir
	 * (uidpool.h); its group is the number of its uid. */
	unsigned sandbox_uid_first;
	unsigned sandbox_uid_count;
	const char *uid_lock_dir;
	enum ft_memory_mode memory_mode;
};

struct ft_runner;

/* Called exactly once per started job, on the loop thread.  The result is
 * owned by the runner and valid only during the call. */
typedef void (*ft_run_done_fn)(void *ud, uint64_t job_id, const struct ft_run_result *res);

/* Sets up the sandbox (checks bwrap, builds the seccomp filter, prepares
 * cgroups) and runs one self-test child in it, blocking (~0.1 s).  NULL
 * with errno (and a message for ft_runner_last_error) on failure. */
struct ft_runner *ft_runner_new(sd_event *ev, const struct ft_runner_conf *conf);
/* Why the last ft_runner_new failed (static storage). */
const char *ft_runner_last_error(void);
/* Kills every running job (their callbacks are not called). */
void ft_runner_free(struct ft_runner *r);

/* New limits (the limit fields of conf; the others are ignored) for jobs
 * started from now on, e.g. after a configuration reload.  The sandbox
 * and the memory mechanism stay as they were set up. */
void ft_runner_set_limits(struct ft_runner *r, const struct ft_runner_conf *conf);

/* What enforces the limits, for the daemon to log once at start, e.g.
 * "memory: cgroup v1 (...); sandbox: bubblewrap ...; limits: ...". */
const char *ft_runner_describe(const struct ft_runner *r);

/* Start compiling and running src.  0 on success (done will be called
 * later); -1 if the job could not even be started (done is not called). */
int ft_runner_start(struct ft_runner *r, uint64_t job_id, const char *src, size_t len,
		    ft_run_done_fn done, void *ud);

/* The same with limits for this job: each non-zero field of want lowers
 * the configured one (values above the configured maxima are clamped). */
struct ft_run_limits;
int ft_runner_start_limits(struct ft_runner *r, uint64_t job_id, const char *src, size_t len,
			   const struct ft_run_limits *want, ft_run_done_fn done, void *ud);

struct ft_job_file;

/* A job: several files, standard input, arguments, limits, captured
 * output.  Everything is copied; the caller's memory may go once
 * ft_runner_start_job returns. */
struct ft_run_job {
	/* The sources (job/jobspec.h); files[0]'s public class is run.  A
	 * name is "Main.java" (ft_jobspec_file_name_ok), or NULL in a one-file
	 * job: then the file is named after its public class. */
	const struct ft_job_file *files;
	size_t n_files;
	const char *input; /* the program's standard input; NULL: empty */
	size_t input_len;
	char *const *args; /* for run(String[] args) */
	size_t n_args;
	const struct ft_run_limits *limits; /* NULL: the configured ones */
	enum ft_entry entry; /* how the main file's class is run (FT_ENTRY_RUN: run()) */
	bool capture;	     /* keep stdout and stderr in the result */
};

/* Start a job.  0 on success (done will be called later); -1 with errno if
 * it could not be started (EINVAL: no files or a file name not allowed). */
int ft_runner_start_job(struct ft_runner *r, uint64_t job_id, const struct ft_run_job *job,
			ft_run_done_fn done, void *ud);

/* Cancels job job_id: its child is killed (a compile in the warm
 * compiler is let finish, and not run); done() is then called with verdict
 * cancelled.  0, or -1 with errno ENOENT if no such job is running. */
int ft_runner_cancel(struct ft_runner *r, uint64_t job_id);

/* Number of jobs currently running. */
size_t ft_runner_active(const struct ft_runner *r);

#endif
