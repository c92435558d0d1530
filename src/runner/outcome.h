/* From an exited child of a job to the job's result: what its exit, its
 * output, its cgroup and the runner's own watch (child.h) say, put into
 * words by verdict.h. */
#ifndef FT_OUTCOME_H
#define FT_OUTCOME_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

#include "runner/child.h"
#include "runner/compiled.h"
#include "runner/limits.h"
#include "runner/runner.h"

/* Sets res's verdict, exit code and body (taken over; the old one goes). */
void ft_outcome_set(struct ft_run_result *res, enum ft_verdict v, int exit_code, char *body,
		    size_t len);
/* An internal error: "Internal error: what\ndetail".  transient: the
 * node's machinery failed before the program could run (another attempt,
 * on another worker, may well succeed); else no attempt would change it. */
void ft_outcome_internal(struct ft_run_result *res, const char *what, const char *detail,
			 bool transient);

/* The compile JVM c (under lim) ended as si says, x from ft_child_reap.
 * True if it answered (on its stdout, as the warm compiler does): *ccp
 * gets the classes or the compile error, a reference of the caller's;
 * else res is the job's result. */
bool ft_outcome_of_compile(const struct ft_child *c, const siginfo_t *si,
			   const struct ft_child_exit *x, const struct ft_run_limits *lim,
			   struct ft_run_result *res, struct ft_compiled **ccp);

/* The run JVM c ended: res gets the verdict, its body, the run's time,
 * CPU time and peak memory and, with capture, what it wrote. */
void ft_outcome_of_run(const struct ft_child *c, const siginfo_t *si, const struct ft_child_exit *x,
		       const struct ft_run_limits *lim, bool capture, struct ft_run_result *res);

#endif
