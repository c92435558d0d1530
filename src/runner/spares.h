/* Pre-started run JVMs (issue 7): "ft.Launcher -" sandboxed in an empty
 * directory of its own, waiting for a job.  A job whose classes are known
 * (from the warm compiler or the class cache) takes one if one fits: its
 * classes, input and arguments are written into the JVM's directory, its
 * class name goes to the JVM's stdin, and the job carries on with the JVM
 * as its run child, which saves it a JVM start.
 *
 * The pool keeps FT_SPARES of them, refilled shortly after each handover
 * or death; a JVM that keeps dying (or failing to start) makes the pool
 * pause for a while (jobs then start their own). */
#ifndef FT_SPARES_H
#define FT_SPARES_H

#include <stddef.h>

#include "runner/child.h"
#include "runner/compiled.h"
#include "runner/limits.h"

#define FT_SPARES 1
#define FT_SPARES_MAX 4

struct ft_spares;

/* max: the runner's configured limits, which new JVMs are started with
 * (read again at each start: a reload changes them). */
struct ft_spares *ft_spares_new(struct ft_child_host *h, const char *work_dir,
				const struct ft_run_limits *max);
/* Kills the waiting JVMs. */
void ft_spares_free(struct ft_spares *p);

/* Fills the pool from the loop, usec from now (after a pause if the
 * pool's JVMs kept failing). */
void ft_spares_refill(struct ft_spares *p, uint64_t usec);

/* What a job gives the JVM that runs it. */
struct ft_spare_job {
	const struct ft_run_limits *lim; /* the job's */
	const struct ft_compiled *cc;	 /* its classes */
	const char *fqcn;
	const struct ft_run_inputs *inputs;
};

/* Hands the job to a JVM that was started with the limits it has (the
 * wall time and the output limit, the runner's own checks, may differ).
 * 0: *child is the JVM (copied: call ft_child_moved; no timer or poll
 * yet; its CPU time so far is the base), *dir and *dirfd its directory,
 * now the job's; -1: none could take it (JVMs started under limits since
 * changed are replaced). */
int ft_spares_hand_over(struct ft_spares *p, const struct ft_spare_job *job, struct ft_child *child,
			char **dir, int *dirfd);

#endif
