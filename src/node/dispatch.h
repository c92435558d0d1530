/* The leader's request table and every decision made on it: pure logic, no
 * sockets and no clock of its own (the collect deadline is measured on the
 * caller's "now", in ms), so unit tests drive it with a fake clock and fake
 * workers.  It sends nothing: it calls the caller's ft_dispatch_ops, which
 * leader.c implements with frames and logs.
 *
 * Rules:
 * - A request moves QUEUED -> ASSIGNED (to a worker) -> DONE.  WAITING means
 *   a worker reported it before the gateway (re-)sent it, so there is nothing
 *   to run yet; or it was reassigned before the gateway sent it.
 * - A queued request goes to the least busy worker that is alive, ready (its
 *   inventory is in), reachable and holds fewer than limits.worker_slots +
 *   limits.worker_backlog requests, other than the leader itself, which
 *   works only when nobody else can; one it has not failed on yet, if there
 *   is such a one; or the worker the gateway prefers, if it can take it.
 *   Every assignment counts an attempt.
 * - A worker lost (declared failed, or its connection gone) gives up what it
 *   held: it goes back to the queue, and counts as a failure on that worker,
 *   so that a program that takes its worker down cannot take every worker
 *   down in turn.  A worker that hands a request back because its machinery
 *   failed counts the same; one that hands it back because it is stopping
 *   does not.  A request that failed after limits.run_attempts attempts is
 *   answered by the leader itself, verdict "unavailable".
 * - A new leader first gathers: it dispatches nothing until every live
 *   linked worker has sent its inventory, or the collect timeout passed.
 *   Requests an inventory reports running are awaited; finished ones are
 *   awaited until their RESULT arrives: neither is ever dispatched again.
 * - First answer wins: a later result for the same request is released
 *   unused.  An answer is kept until the gateway acknowledges it; then the
 *   worker that holds it is told to release it, and the ID is remembered
 *   (a ring of the latest), so that a late result for it is released
 *   quietly instead of being taken for news.
 * - A gateway that submits a request already answered gets the kept answer
 *   again, without a run.
 * - Overload: the queue holds at most limits.max_queued_requests; a request
 *   still queued when its gateway gives up on it is dropped, never run.
 *   Oldest first, but while the oldest has waited longer than
 *   limits.queue_lifo_ms, newest first (adaptive LIFO), so that an
 *   overloaded cluster answers clients that still wait. */
#ifndef FT_NODE_DISPATCH_H
#define FT_NODE_DISPATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf/config.h"

enum ft_dispatch_state {
	FT_DISPATCH_WAITING,
	FT_DISPATCH_QUEUED,
	FT_DISPATCH_ASSIGNED,
	FT_DISPATCH_DONE,
};

/* A request as the caller sees it (read-only: the table owns it). */
struct ft_dispatch_req {
	uint64_t id;
	enum ft_dispatch_state state;
	/* What to run (the caller's, freed by ops.drop_work); NULL until the
	 * gateway has sent it, and again once it is answered. */
	void *work;
	int worker;   /* holding worker ID, or -1 */
	int attempts; /* assignments so far */
	/* Once DONE: a worker's answer (the caller's, freed by ops.drop_result)
	 * from from_worker; or, when no worker could run it, result is NULL,
	 * from_worker -1 and unavailable_body the text of the leader's own
	 * "unavailable" answer. */
	void *result;
	int from_worker;
	char *unavailable_body;
};

enum ft_dispatch_event_type {
	FT_DISPATCH_EV_SUBMITTED = 1, /* the gateway sent id (not answered from a kept answer) */
	FT_DISPATCH_EV_ASSIGNED,      /* req went to worker, attempt req->attempts */
	FT_DISPATCH_EV_ANSWERED,      /* first answer for req, from worker */
	FT_DISPATCH_EV_LATE,	      /* a result from worker for delivered id: released */
	FT_DISPATCH_EV_HANDED_BACK,   /* worker gave id back (why): it is reassigned */
	FT_DISPATCH_EV_RECLAIMED,     /* count requests of lost worker (why) go elsewhere */
	FT_DISPATCH_EV_UNAVAILABLE,   /* req failed attempts times, the last on worker (why) */
	FT_DISPATCH_EV_WORKER_READY,  /* worker's inventory is in; count held there */
	FT_DISPATCH_EV_GATHERED,      /* gathering ended (timeout: the collect deadline) */
	FT_DISPATCH_EV_CANCELLED,     /* the gateway cancelled id (worker: where it ran, or -1) */
	FT_DISPATCH_EV_EXPIRED,	      /* id waited in the queue past its deadline: dropped */
	FT_DISPATCH_EV_REFUSED,	      /* the queue held count requests: id answered 503 */
	FT_DISPATCH_EV_QUEUE_ORDER,   /* newest first from now on (timeout true), or oldest */
};

struct ft_dispatch_event {
	enum ft_dispatch_event_type type;
	const struct ft_dispatch_req *req; /* NULL for RECLAIMED, WORKER_READY, GATHERED */
	uint64_t id;
	int worker;
	size_t count;
	const char *why;
	bool timeout;
};

/* What the table asks of the caller.  None of them may call back into the
 * table. */
struct ft_dispatch_ops {
	/* Whether a frame can go to worker now (its connection is up). */
	bool (*reachable)(void *ud, int worker);
	/* Send r to worker.  False if it could not be sent: r stays queued. */
	bool (*assign)(void *ud, const struct ft_dispatch_req *r, int worker);
	/* Tell the gateway r runs on r->worker, attempt r->attempts. */
	void (*started)(void *ud, const struct ft_dispatch_req *r);
	/* Forward r's answer (r->state DONE) to the gateway. */
	void (*answer)(void *ud, const struct ft_dispatch_req *r);
	/* Tell worker it may drop its result of id. */
	void (*release)(void *ud, int worker, uint64_t id);
	/* Tell worker to stop running id (its result, when it comes, is
	 * released unused). */
	void (*cancel)(void *ud, int worker, uint64_t id);
	/* Something worth a log line or a metric happened. */
	void (*event)(void *ud, const struct ft_dispatch_event *ev);
	void (*drop_work)(void *ud, void *work);
	void (*drop_result)(void *ud, void *result);
};

struct ft_dispatch_conf {
	int self_id; /* the leader's own node, the worker of last resort */
	/* Every configured node (self included), in configuration order: the
	 * order in which equally busy workers take turns. */
	const int *worker_ids;
	size_t n_workers;
	/* Read at each decision, so a reload applies at once: run_attempts
	 * (the collect timeout is read once, by ft_dispatch_new). */
	const struct ft_limits *limits;
};

struct ft_dispatch;

/* A new table, gathering until every worker's inventory is in or
 * limits.collect_timeout_ms after now_ms.  Every worker starts dead and
 * unlinked.  Never NULL. */
struct ft_dispatch *ft_dispatch_new(const struct ft_dispatch_conf *conf,
				    const struct ft_dispatch_ops *ops, void *ud, int64_t now_ms);
/* Frees every request, with its work and result. */
void ft_dispatch_free(struct ft_dispatch *d);

/* ---- workers ---- */

/* Gossip believes worker alive (true), or was told so at the start. */
void ft_dispatch_set_alive(struct ft_dispatch *d, int worker, bool alive);
/* A new connection to worker is being made (linked), or none could be:
 * either way its inventory is awaited afresh. */
void ft_dispatch_link(struct ft_dispatch *d, int worker, bool linked);
/* Worker's inventory: requests running (or queued) there, and finished
 * there (whose RESULTs follow).  It is ready for work from now on. */
void ft_dispatch_inventory(struct ft_dispatch *d, int worker, const uint64_t *running,
			   size_t n_running, const uint64_t *done, size_t n_done);
/* Gossip declared worker failed: nothing new for it; what it held goes
 * elsewhere. */
void ft_dispatch_worker_failed(struct ft_dispatch *d, int worker, const char *why);
/* The connection to worker is gone: what it held goes elsewhere. */
void ft_dispatch_link_closed(struct ft_dispatch *d, int worker, const char *why);
/* The same for a link closed because it fell silent (a partition, a pause):
 * nothing shows that its requests took the worker down, so they are not
 * charged an attempt (limits.run_attempts). */
void ft_dispatch_link_silent(struct ft_dispatch *d, int worker, const char *why);
/* A result for id from worker.  The table takes result (it may free it at
 * once: a second answer, or one already delivered). */
void ft_dispatch_result(struct ft_dispatch *d, int worker, uint64_t id, void *result);
/* Worker handed id back: it is stopping (failed false), or its machinery
 * could not run it (failed true, which counts against run_attempts). */
void ft_dispatch_handed_back(struct ft_dispatch *d, int worker, uint64_t id, const char *why,
			     bool failed);

/* ---- the gateway ---- */

/* The gateway sent id, with what to run (the table takes work, and frees
 * it if it already has one). */
void ft_dispatch_submit(struct ft_dispatch *d, uint64_t id, void *work);
/* The same, to worker prefer (0: any) whenever it can take it (alive,
 * ready, reachable, not failed on yet, not the leader), however busy
 * (waiting at the leader for room there); dropped unrun if still queued at deadline_ms (0: never).  A new
 * request that finds limits.max_queued_requests queued is answered
 * "unavailable" at once. */
void ft_dispatch_submit_to(struct ft_dispatch *d, uint64_t id, void *work, int prefer,
			   int64_t deadline_ms);
/* The gateway has id's answer: release it where it is held, forget id. */
void ft_dispatch_ack(struct ft_dispatch *d, uint64_t id);
/* The gateway cancelled id (its client was answered "cancelled"): the
 * worker running it is told to stop, and id is forgotten as if delivered,
 * so that its result, if one still comes, is released quietly. */
void ft_dispatch_cancel(struct ft_dispatch *d, uint64_t id);
/* A gateway (re)connected: every answer it has not acknowledged goes to it
 * again. */
void ft_dispatch_resend_answers(struct ft_dispatch *d);

/* While held (the leader unsure it still leads: ZooKeeper out of reach
 * within its session), nothing new is assigned; requests are still taken
 * in, results still answered, lost workers' requests requeued.  Released,
 * the queue is dispatched at once. */
void ft_dispatch_hold(struct ft_dispatch *d, bool held);

/* ---- time ---- */

/* Ends gathering once now_ms reaches the collect deadline; drops queued
 * requests whose deadline passed.  Called at least every 100 ms or so:
 * nothing expired is assigned after a tick has seen it expire. */
void ft_dispatch_tick(struct ft_dispatch *d, int64_t now_ms);
int64_t ft_dispatch_collect_deadline(const struct ft_dispatch *d);

/* ---- inspection ---- */

bool ft_dispatch_gathering(const struct ft_dispatch *d);
/* Requests in the table (queued, assigned, answered but not acknowledged). */
size_t ft_dispatch_count(const struct ft_dispatch *d);
const struct ft_dispatch_req *ft_dispatch_find(const struct ft_dispatch *d, uint64_t id);
bool ft_dispatch_alive(const struct ft_dispatch *d, int worker);
bool ft_dispatch_ready(const struct ft_dispatch *d, int worker);
/* Requests the table counts as held by worker (its load). */
size_t ft_dispatch_assigned(const struct ft_dispatch *d, int worker);
/* Whether id's answer was acknowledged lately (and so forgotten). */
bool ft_dispatch_delivered(const struct ft_dispatch *d, uint64_t id);

#endif
