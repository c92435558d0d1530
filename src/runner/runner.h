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

#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-event.h>

enum ft_verdict {
	FT_VERDICT_OK = 0,
	FT_VERDICT_COMPILE_ERROR,
	FT_VERDICT_RUNTIME_ERROR,
	FT_VERDICT_TIME_LIMIT,
	FT_VERDICT_MEMORY_LIMIT,
	FT_VERDICT_OUTPUT_LIMIT,
	FT_VERDICT_INTERNAL_ERROR,
};

const char *ft_verdict_name(enum ft_verdict v);
/* -1 if name is not a verdict name. */
int ft_verdict_from_name(const char *name);

struct ft_run_result {
	enum ft_verdict verdict;
	int exit_code;  /* of the run JVM; -1 if it never ran or was killed */
	int64_t wall_ms;
	/* The HTTP body of the contract: for OK, exactly the string run()
	 * returned; otherwise an error message, a newline, then the detail
	 * ("Code did not compile:\nError on line 3, column 5 in Foo.java: ...",
	 * "Exception thrown by run():\njava.lang.IllegalStateException: ...\n\tat ...",
	 * "No class name found in code", "Time limit exceeded: ..."). */
	char *body;
	size_t body_len;
};

struct ft_runner_conf {
	const char *java;     /* java binary */
	const char *jar;      /* ftcluster.jar: ft.Launcher and ft.Compiler */
	const char *work_dir; /* parent of per-job private directories */
	int wall_ms;          /* compile + run, wall clock */
	size_t max_output_bytes;
};

struct ft_runner;

/* Called exactly once per started job, on the loop thread.  The result is
 * owned by the runner and valid only during the call. */
typedef void (*ft_run_done_fn)(void *ud, uint64_t job_id, const struct ft_run_result *res);

struct ft_runner *ft_runner_new(sd_event *ev, const struct ft_runner_conf *conf);
/* Kills every running job (their callbacks are not called). */
void ft_runner_free(struct ft_runner *r);

/* Start compiling and running src.  0 on success (done will be called
 * later); -1 if the job could not even be started (done is not called). */
int ft_runner_start(struct ft_runner *r, uint64_t job_id, const char *src, size_t len,
		    ft_run_done_fn done, void *ud);

/* Number of jobs currently running. */
size_t ft_runner_active(const struct ft_runner *r);

#endif
