/* The warm compiler (issue 7): one long-lived sandboxed "ft.Compiler
 * --server" that compiles jobs one after the other, in memory, and its
 * queue of jobs waiting for it.  It speaks warmproto.h on its stdin and
 * stdout.
 *
 * A job leaves the queue in one of three ways, each told to its owner:
 * compiled (its classes or its compile error), timed out (its compile
 * deadline passed in the compiler, which is then restarted) or handed back
 * (compile it the cold way: the compiler died, misbehaved or could not be
 * started; out of memory too, since a long-lived compiler's heap also
 * holds what earlier jobs left).  The compiler is restarted after
 * SRV_MAX_JOBS jobs (bounds any leak), and after a few deaths in a row it
 * is given up on for a while (then every job is handed back at once). */
#ifndef FT_WARMC_H
#define FT_WARMC_H

#include <stdbool.h>
#include <stddef.h>

#include "runner/child.h"
#include "runner/compiled.h"
#include "runner/limits.h"

/* A job's place in the queue (part of the job). */
struct ft_warm_job {
	struct ft_warm_job *next;
	const char *req; /* the request (ft_warmproto_request), the job's */
	size_t req_len;
	int compile_wall_ms; /* 0: no deadline */
};

struct ft_warmc_ops {
	/* The answer: cc is borrowed (ft_compiled_ref to keep it). */
	void (*compiled)(void *ud, struct ft_warm_job *j, struct ft_compiled *cc);
	/* The job's compile deadline passed in the compiler. */
	void (*timed_out)(void *ud, struct ft_warm_job *j);
	/* Compile the job the cold way. */
	void (*handed_back)(void *ud, struct ft_warm_job *j);
};

struct ft_warmc;

/* max: the runner's configured limits; the compiler gets
 * max->compile_memory_bytes and is restarted when that changes.  Starts
 * the compiler in the background (counted as a failure if it cannot). */
struct ft_warmc *ft_warmc_new(struct ft_child_host *h, const char *work_dir,
			      const struct ft_run_limits *max, const struct ft_warmc_ops *ops,
			      void *ud);
/* Kills the compiler; queued jobs are forgotten (not told). */
void ft_warmc_free(struct ft_warmc *w);

/* False while given up on; after a pause it gets one more chance. */
bool ft_warmc_usable(struct ft_warmc *w);
/* Queues j (its request must stay until j leaves the queue). */
void ft_warmc_enqueue(struct ft_warmc *w, struct ft_warm_job *j);
/* Takes j out of the queue, untold: true; false if the compiler has it
 * now (it is then told as usual) or it is not queued. */
bool ft_warmc_unqueue(struct ft_warmc *w, struct ft_warm_job *j);

#endif
