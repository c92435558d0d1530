/* From what was observed of a finished run to its verdict, and the body
 * that says it.  Pure logic, unit-tested (tests/unit/check_limits.c,
 * tests/unit/check_verdict_body.c).
 *
 * Policy (docs: the runner's verdicts):
 *  - A limit the runner enforces and that tripped wins over anything the
 *    program said: wall clock or CPU time -> time_limit; stdout, stderr or
 *    the answer over max_output_bytes -> output_limit.
 *  - Then an answer run() returned is ok (even if a process the program
 *    started was killed for memory, or a fork was refused).
 *  - memory_limit: the cgroup's OOM killer acted in the run, or run() threw
 *    java.lang.OutOfMemoryError for heap, metaspace, array size or direct
 *    memory (the heap is sized to fit the memory limit, so heap exhaustion
 *    is the usual way a JVM meets it).  An OutOfMemoryError for "unable to
 *    create native thread" is the process limit, not memory.
 *  - output_limit also when run() failed because a file write hit the file
 *    size limit (EFBIG) or the sandbox's /tmp filled up (ENOSPC).
 *  - runtime_error: an exception from run() or its class, a non-zero exit
 *    before answering, death by a signal.  If the process limit refused a
 *    fork or thread at some point, the body says that limit was reached.
 *  - internal_error: the sandbox or the JVM could not start (never the
 *    program's fault; nothing of the program ran: the channel is empty). */
#ifndef FT_VERDICT_H
#define FT_VERDICT_H

#include <stdbool.h>
#include <stdint.h>

#include "runner/javawire.h"
#include "runner/limits.h"
#include "runner/runner.h"

/* First byte of the result channel (ft.Launcher; javawire.h).  An empty
 * channel means the JVM never got as far as the program's code (the
 * node's failure, not the program's). */
enum ft_chan_tag {
	FT_CHAN_NONE = 0, /* no outcome: the JVM ended before answering */
	FT_CHAN_STARTED = FT_WIRE_RESULT_STARTED,
	FT_CHAN_OK = FT_WIRE_RESULT_OK,
	FT_CHAN_ERROR = FT_WIRE_RESULT_ERROR,
	FT_CHAN_MEMORY = FT_WIRE_RESULT_MEMORY,
	FT_CHAN_THREADS = FT_WIRE_RESULT_THREADS,
	FT_CHAN_FILE = FT_WIRE_RESULT_FILE,
	FT_CHAN_MAIN_STARTED = FT_WIRE_RESULT_MAIN_STARTED,
	FT_CHAN_NO_ENTRY = FT_WIRE_RESULT_NO_ENTRY,
};

/* What HotSpot prints when a native allocation fails (then exits 1). */
#define FT_VM_OOM_BANNER "There is insufficient memory for the Java Runtime Environment to continue"

struct ft_run_facts {
	bool wall_killed;      /* the runner's wall-clock timer killed the run */
	bool cpu_killed;       /* the runner's CPU poll killed the run */
	bool output_killed;    /* the runner's output poll killed the run */
	bool out_over;	       /* stdout longer than max_output_bytes */
	bool err_over;	       /* stderr longer than max_output_bytes */
	bool chan_over;	       /* the answer longer than max_output_bytes */
	bool oom_killed;       /* the memory cgroup's OOM killer acted */
	bool vm_out_of_memory; /* the JVM died for want of native memory (its banner) */
	bool pids_refused;     /* the process limit refused a fork/thread */
	bool sandbox_failed;   /* bwrap or the JVM could not start */
	bool main_program;     /* the program is a main(String[]): its exit status is its outcome */
	int chan_tag;	       /* enum ft_chan_tag */
	/* How the sandbox ended.  bwrap passes the program's exit status on,
	 * and 128 + N for death by signal N (as a shell does). */
	bool exited;	/* false: the sandbox itself died of a signal */
	int status;	/* exit status, or the signal if !exited */
	int64_t cpu_ms; /* -1 if unknown */
	int cpu_limit_ms;
};

enum ft_why {
	FT_WHY_NONE = 0,
	FT_WHY_ANSWER, /* ok: run() returned */
	FT_WHY_WALL,
	FT_WHY_CPU,
	FT_WHY_STDOUT,
	FT_WHY_STDERR,
	FT_WHY_ANSWER_SIZE,
	FT_WHY_FILE, /* file size / tmp space */
	FT_WHY_OOM_KILL,
	FT_WHY_HEAP,	  /* OutOfMemoryError */
	FT_WHY_NATIVE,	  /* the JVM itself found no native memory (RLIMIT_AS) */
	FT_WHY_EXCEPTION, /* the channel's error text is the body */
	FT_WHY_THREADS,	  /* OutOfMemoryError: no more threads */
	FT_WHY_EXIT,	  /* exited with a status before answering */
	FT_WHY_SIGNAL,	  /* killed by a signal before answering */
	FT_WHY_SANDBOX,	  /* could not start */
	FT_WHY_MAIN_DONE, /* ok: main(String[]) ended with status 0; the body is its stdout */
	FT_WHY_MAIN_EXIT, /* main(String[]) ended with a status other than 0 */
};

struct ft_verdict_decision {
	enum ft_verdict verdict;
	enum ft_why why;
	int exit_code;		/* for X-Exit-Code: the status, -1 when killed */
	int signal;		/* FT_WHY_SIGNAL: which */
	bool processes_limited; /* mention that the process limit was hit */
	bool main_program;	/* from the facts: the program was a main(String[]) */
};

void ft_verdict_decide(const struct ft_run_facts *f, struct ft_verdict_decision *d);

/* ---- the bodies (CONTRACT.md): a limit is described by the runner ---- */

/* Whether the body of d quotes what the JVM wrote to standard error. */
bool ft_verdict_body_quotes_stderr(const struct ft_verdict_decision *d);

/* The body for the decided run verdict d under the job's limits lim,
 * malloc'd, *len bytes (an answer may hold NULs).  chan is the result
 * channel's text after its tag byte (chan_len bytes, NUL-terminated,
 * malloc'd): taken over, returned as the body or freed.  vm_stderr: the
 * run's standard error (an excerpt) if ft_verdict_body_quotes_stderr, else
 * unused (may be NULL). */
char *ft_verdict_body(const struct ft_verdict_decision *d, const struct ft_run_limits *lim,
		      char *chan, size_t chan_len, const char *vm_stderr, size_t *len);

/* The compile phase's: its time limit, its memory limit. */
char *ft_verdict_compile_time_body(int compile_wall_ms);
char *ft_verdict_compile_memory_body(uint64_t compile_memory_bytes);
/* "Internal error: what\ndetail". */
char *ft_verdict_internal_body(const char *what, const char *detail);

/* Whether a compiler's output is the contract's compile error. */
bool ft_verdict_is_compile_error(const char *text);
/* Whether a JVM's standard error says it could not even start (bad flag,
 * no memory for the heap, missing jar, no thread for its own start): the
 * node's fault, not the program's.  These messages come before any user
 * code can run. */
bool ft_verdict_jvm_failed_to_start(const char *err);

#endif
