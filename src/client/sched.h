/* Which of submit's files is sent next, and when a refused one goes again
 * (pure: the caller gives the clock, in seconds, and sends the requests).
 *
 * Rules:
 * - At most max requests are in flight: fewer while the gateway refuses
 *   (a window, as TCP's: a refusal lowers it to the requests still in
 *   flight, the ones the gateway took; every answer that is not a refusal
 *   raises it by 1/window, back up to max).  So a client asking for more
 *   than the gateway holds settles at what it holds, instead of being
 *   refused again and again.
 * - A refused file (503, 429) waits its Retry-After (or, without one, a
 *   back-off doubling from FTCTL_BACKOFF_FIRST_S to FTCTL_BACKOFF_MAX_S),
 *   then goes before any file never sent, oldest first: a file refused
 *   once is not overtaken for ever by newer ones.
 * - A file's tries together last at most timeout_s (--timeout; 0: no
 *   limit): a refusal whose wait would end past that gives the file up. */
#ifndef FTCTL_SCHED_H
#define FTCTL_SCHED_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

/* Retry-After without a value: the back-off doubles from the first. */
#define FTCTL_BACKOFF_FIRST_S 0.5
#define FTCTL_BACKOFF_MAX_S 8.0
/* A Retry-After is obeyed, but not beyond this (a bound on the wait), and
 * not under the floor (no busy loop on "0"). */
#define FTCTL_RETRY_AFTER_MAX_S 60.0
#define FTCTL_RETRY_AFTER_MIN_S 0.05

/* The value of a Retry-After header: delay-seconds or an HTTP-date (now:
 * the current time, for the date).  false if it is neither. */
bool ftctl_parse_retry_after(const char *value, time_t now, double *seconds);

/* How long to wait before try refusals + 1: retry_after_s if it is >= 0
 * (within the bounds above), else the back-off of the refusals-th refusal. */
double ftctl_backoff_s(unsigned refusals, double retry_after_s);

enum ftctl_job_state { FTCTL_JOB_NEW, FTCTL_JOB_SENT, FTCTL_JOB_REFUSED, FTCTL_JOB_DONE };

struct ftctl_job_sched {
	enum ftctl_job_state state;
	unsigned tries;	     /* requests sent */
	double first_s;	     /* when the first was sent */
	double due_s;	     /* REFUSED: when it may go again */
	double last_delay_s; /* REFUSED: the wait it was given */
};

struct ftctl_sched {
	struct ftctl_job_sched *job;
	size_t n;
	size_t max;	  /* requests in flight at most (-P) */
	double window;	  /* in flight allowed now, 1..max */
	size_t in_flight; /* SENT */
	size_t next_new;  /* jobs below this were sent at least once */
	size_t left;	  /* not DONE */
	size_t refusals;  /* in all */
	double timeout_s; /* a job's tries together; 0: no limit */
};

/* n jobs, at most max (>= 1) in flight.  false if out of memory. */
bool ftctl_sched_init(struct ftctl_sched *s, size_t n, size_t max, double timeout_s);
void ftctl_sched_free(struct ftctl_sched *s);

/* The job to send now (it becomes SENT), or -1: the window is full, or
 * nothing is due. */
long ftctl_sched_next(struct ftctl_sched *s, double now);

/* Job i's request had an answer that is not a refusal, or failed: done. */
void ftctl_sched_answered(struct ftctl_sched *s, size_t i);

/* Job i's request was refused; retry_after_s: the answer's Retry-After,
 * < 0 if none.  true: it will go again (REFUSED until due_s); false: its
 * time is up (DONE). */
bool ftctl_sched_refused(struct ftctl_sched *s, size_t i, double now, double retry_after_s);

/* Seconds until a refused job is due and the window has room for it; -1
 * if none is waiting or the window is full (an answer comes first). */
double ftctl_sched_wake_in(const struct ftctl_sched *s, double now);

/* The time left for job i's next request, across all its tries: > 0, or
 * 0 for no limit. */
double ftctl_sched_time_left(const struct ftctl_sched *s, size_t i, double now);

/* The jobs waiting to be sent again. */
size_t ftctl_sched_waiting_retry(const struct ftctl_sched *s);

/* ---- the default of -P ---- */

/* limits.worker_slots' default, for a gateway that does not say its own
 * (GET /v1/limits "worker_slots"). */
#define FTCTL_SLOTS_PER_WORKER 2
/* -P without an answer from the gateway, and the most the default is. */
#define FTCTL_PARALLEL_FALLBACK 4
#define FTCTL_PARALLEL_DEFAULT_MAX 64

/* The free worker slots of the cluster: its workers (the alive followers;
 * the leader alone when there is none) times limits' worker_slots (limits
 * may be NULL: FTCTL_SLOTS_PER_WORKER), less the requests in flight
 * (recent's in_flight; recent may be NULL); at least 1, at most
 * FTCTL_PARALLEL_DEFAULT_MAX.  view NULL: FTCTL_PARALLEL_FALLBACK. */
long ftctl_default_parallel(struct json_object *view, struct json_object *recent,
			    struct json_object *limits);

#endif
