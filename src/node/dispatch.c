#include "node/dispatch.h"

#include <stdlib.h>
#include <string.h>

#include "lib/util.h"

/* Requests whose answer the gateway confirmed, remembered so that a late
 * second result for one (a worker that was paused past its reassignment)
 * is released quietly instead of being taken for news. */
#define DELIVERED_RING 4096
/* Workers a request failed on, remembered to try others first. */
#define FAILED_ON_MAX 8
/* Newest first lasts while a client gave up within this many
 * limits.queue_lifo_ms (2 s at the default 200 ms). */
#define LIFO_ABANDON_WINDOW 10

struct req {
	struct ft_dispatch_req pub;
	struct req *next, *prev;      /* oldest first */
	int failed_on[FAILED_ON_MAX]; /* workers it failed on (machinery or lost) */
	int n_failed;
	int prefer; /* the worker to give it to if it can take it, or 0 */
	/* When the gateway gives up on it (the caller's clock), or 0: a
	 * request still queued then is dropped, never run for nobody. */
	int64_t deadline_ms;
	int64_t queued_ms; /* when the gateway sent it (the latest tick's time) */
};

struct worker {
	int id;
	bool alive;  /* gossip believes it alive */
	bool linked; /* a connection to it exists (connecting or up) */
	bool ready;  /* its inventory has arrived */
	size_t assigned;
};

struct ft_dispatch {
	const struct ft_dispatch_ops *ops;
	void *ud;
	int self_id;
	const struct ft_limits *limits;
	struct worker *workers;
	size_t n_workers;
	size_t rr; /* where the next search for a worker starts */
	struct req *reqs, *tail;
	size_t n_reqs;
	bool collecting;
	bool held; /* ft_dispatch_hold: nothing new is assigned */
	int64_t collect_deadline_ms;
	int64_t now_ms;	      /* the latest ft_dispatch_tick */
	bool lifo;	      /* the newest queued requests go first (standing_queue) */
	int64_t abandoned_ms; /* when a client last left before its answer, or 0 */
	uint64_t delivered[DELIVERED_RING];
	size_t delivered_next;
};

static void dispatch(struct ft_dispatch *d);

static void emit(struct ft_dispatch *d, const struct ft_dispatch_event *ev)
{
	if (d->ops->event)
		d->ops->event(d->ud, ev);
}

/* ---- requests ---- */

static struct req *find_req(const struct ft_dispatch *d, uint64_t id)
{
	for (struct req *r = d->reqs; r; r = r->next)
		if (r->pub.id == id)
			return r;
	return NULL;
}

static struct req *new_req(struct ft_dispatch *d, uint64_t id, enum ft_dispatch_state state)
{
	struct req *r = ft_xcalloc(1, sizeof(*r));
	r->pub.id = id;
	r->pub.state = state;
	r->pub.worker = -1;
	r->prev = d->tail;
	if (d->tail)
		d->tail->next = r;
	else
		d->reqs = r;
	d->tail = r;
	d->n_reqs++;
	return r;
}

static void drop_work(struct ft_dispatch *d, struct req *r)
{
	if (r->pub.work)
		d->ops->drop_work(d->ud, r->pub.work);
	r->pub.work = NULL;
}

static void free_req(struct ft_dispatch *d, struct req *r)
{
	drop_work(d, r);
	if (r->pub.result)
		d->ops->drop_result(d->ud, r->pub.result);
	free(r->pub.unavailable_body);
	free(r);
}

static void drop_req(struct ft_dispatch *d, struct req *r)
{
	if (r->prev)
		r->prev->next = r->next;
	else
		d->reqs = r->next;
	if (r->next)
		r->next->prev = r->prev;
	else
		d->tail = r->prev;
	d->n_reqs--;
	free_req(d, r);
}

static struct worker *find_worker(const struct ft_dispatch *d, int id)
{
	for (size_t i = 0; i < d->n_workers; i++)
		if (d->workers[i].id == id)
			return &d->workers[i];
	return NULL;
}

static void unassign(struct ft_dispatch *d, struct req *r)
{
	struct worker *k = r->pub.worker >= 0 ? find_worker(d, r->pub.worker) : NULL;
	if (k && k->assigned)
		k->assigned--;
	r->pub.worker = -1;
}

/* Back to the queue, or to waiting for the gateway to send it. */
static void requeue(struct req *r)
{
	r->pub.state = r->pub.work ? FT_DISPATCH_QUEUED : FT_DISPATCH_WAITING;
}

static bool was_delivered(const struct ft_dispatch *d, uint64_t id)
{
	for (size_t i = 0; i < DELIVERED_RING; i++)
		if (d->delivered[i] == id)
			return id != 0;
	return false;
}

/* ---- failures ---- */

/* r failed on worker through no fault of its program: it goes to another
 * worker, unless it was tried limits.run_attempts times; then the client is
 * told the cluster could not run it (503), which a retry may change,
 * instead of waiting for ever or being blamed.  True if r was answered. */
/* The leader's own answer for r (body taken): the gateway says 503 with
 * Retry-After and keeps nothing of it for a retry. */
static void answer_unavailable(struct ft_dispatch *d, struct req *r, char *body,
			       const struct ft_dispatch_event *ev)
{
	r->pub.unavailable_body = body;
	unassign(d, r);
	r->pub.state = FT_DISPATCH_DONE;
	r->pub.from_worker = -1; /* nothing held anywhere to release */
	drop_work(d, r);
	emit(d, ev);
	d->ops->answer(d->ud, &r->pub);
}

static bool failed_on(struct ft_dispatch *d, struct req *r, int worker, const char *why)
{
	if (r->n_failed < FAILED_ON_MAX)
		r->failed_on[r->n_failed++] = worker;
	if (r->pub.attempts < d->limits->run_attempts)
		return false;
	answer_unavailable(d, r,
			   ft_xasprintf("Service unavailable: the cluster could not run this "
					"request (%d attempts; the last, on worker %d: %s); try "
					"again later\n",
					r->pub.attempts, worker, why),
			   &(struct ft_dispatch_event){ .type = FT_DISPATCH_EV_UNAVAILABLE,
							.req = &r->pub,
							.id = r->pub.id,
							.worker = worker,
							.count = (size_t)r->pub.attempts,
							.why = why });
	return true;
}

static bool has_failed_on(const struct req *r, int worker)
{
	for (int i = 0; i < r->n_failed; i++)
		if (r->failed_on[i] == worker)
			return true;
	return false;
}

/* Everything a lost worker held goes back to the queue. */
static void reclaim(struct ft_dispatch *d, struct worker *k, const char *why, bool blame)
{
	size_t n = 0;
	for (struct req *r = d->reqs; r; r = r->next) {
		if (r->pub.worker != k->id || r->pub.state == FT_DISPATCH_DONE)
			continue;
		r->pub.worker = -1;
		requeue(r);
		/* A program that takes its worker down with it must not take
		 * every worker down in turn.  A link that fell silent is no such
		 * sign: charged, a partition of the leader from every worker
		 * would spend all of a request's attempts in one moment. */
		if (!blame) {
			if (r->pub.attempts > 0)
				r->pub.attempts--;
			if (r->n_failed < FAILED_ON_MAX)
				r->failed_on[r->n_failed++] = k->id;
		} else if (failed_on(d, r, k->id, why)) {
			continue;
		}
		n++;
	}
	k->assigned = 0;
	k->ready = false;
	emit(d,
	     &(struct ft_dispatch_event){
		     .type = FT_DISPATCH_EV_RECLAIMED, .worker = k->id, .count = n, .why = why });
}

/* ---- dispatch ---- */

/* A worker holds at most its slots and a short backlog (so that a slot
 * that frees starts the next job at once); the rest waits here, where a
 * request whose client left costs nothing and any worker can take it. */
static bool has_room(const struct ft_dispatch *d, const struct worker *k)
{
	long long cap = (long long)d->limits->worker_slots + d->limits->worker_backlog;
	return (long long)k->assigned < cap;
}

static bool usable(struct ft_dispatch *d, const struct worker *k)
{
	return k->alive && k->ready && d->ops->reachable(d->ud, k->id);
}

/* The least busy live worker with room, not the leader itself unless no
 * other can work at all (full ones are waited for); one r has not failed
 * on yet, if there is such a one.  NULL: r waits. */
static struct worker *pick_worker(struct ft_dispatch *d, const struct req *r)
{
	struct worker *best = NULL, *self = NULL, *tried = NULL;
	bool others = false; /* usable workers r has not failed on, full or not */
	/* However busy: its class cache has the program, so r waits for a
	 * place there rather than compile again elsewhere. */
	struct worker *p =
		r->prefer > 0 && r->prefer != d->self_id ? find_worker(d, r->prefer) : NULL;
	if (p && usable(d, p) && !has_failed_on(r, p->id))
		return has_room(d, p) ? p : NULL;
	for (size_t i = 0; i < d->n_workers; i++) {
		struct worker *k = &d->workers[(d->rr + i) % d->n_workers];
		if (!usable(d, k))
			continue;
		bool room = has_room(d, k);
		if (has_failed_on(r, k->id)) {
			if (room && (!tried || k->assigned < tried->assigned))
				tried = k;
			continue;
		}
		/* The leader works only when nobody else can. */
		if (k->id == d->self_id) {
			self = room ? k : NULL;
			continue;
		}
		others = true;
		if (room && (!best || k->assigned < best->assigned))
			best = k;
	}
	if (best)
		d->rr = (size_t)(best - d->workers) + 1;
	if (best || others)
		return best;
	return self ? self : tried;
}

/* Whether any worker could take a request now: when none can, a long
 * queue is not walked in vain. */
static bool any_room(struct ft_dispatch *d)
{
	for (size_t i = 0; i < d->n_workers; i++)
		if (usable(d, &d->workers[i]) && has_room(d, &d->workers[i]))
			return true;
	return false;
}

/* Adaptive LIFO: while the oldest waiting request has waited longer than
 * limits.queue_lifo_ms and clients are giving up, the newest go first.
 * Served oldest first, an overloaded cluster would spend every slot on
 * requests whose clients are about to give up, and answer nobody in time;
 * newest first, those it answers are answered quickly, and the others
 * wait for a slot, their client's patience or their deadline.  Clients
 * that wait patiently are served oldest first however long the queue:
 * newest first would starve the oldest of them, for nothing. */
static bool standing_queue(const struct ft_dispatch *d)
{
	if (d->limits->queue_lifo_ms <= 0 || !d->abandoned_ms ||
	    d->now_ms - d->abandoned_ms > (int64_t)LIFO_ABANDON_WINDOW * d->limits->queue_lifo_ms)
		return false;
	for (const struct req *r = d->reqs; r; r = r->next)
		if (r->pub.state == FT_DISPATCH_QUEUED)
			return d->now_ms - r->queued_ms > d->limits->queue_lifo_ms;
	return false;
}

static void dispatch(struct ft_dispatch *d)
{
	if (d->collecting || d->held)
		return;
	bool lifo = standing_queue(d);
	if (lifo != d->lifo) {
		d->lifo = lifo;
		emit(d, &(struct ft_dispatch_event){ .type = FT_DISPATCH_EV_QUEUE_ORDER,
						     .timeout = lifo });
	}
	for (struct req *r = lifo ? d->tail : d->reqs; r && any_room(d);
	     r = lifo ? r->prev : r->next) {
		if (r->pub.state != FT_DISPATCH_QUEUED)
			continue;
		if (r->deadline_ms && r->deadline_ms <= d->now_ms)
			continue; /* dropped at the next tick */
		struct worker *k = pick_worker(d, r);
		if (!k)
			continue; /* another may go where this one will not */
		if (!d->ops->assign(d->ud, &r->pub, k->id))
			continue;
		r->pub.state = FT_DISPATCH_ASSIGNED;
		r->pub.worker = k->id;
		r->pub.attempts++;
		k->assigned++;
		d->ops->started(d->ud, &r->pub);
		emit(d, &(struct ft_dispatch_event){ .type = FT_DISPATCH_EV_ASSIGNED,
						     .req = &r->pub,
						     .id = r->pub.id,
						     .worker = k->id,
						     .count = (size_t)r->pub.attempts });
	}
}

/* ---- gathering ---- */

static bool collect_finished(const struct ft_dispatch *d)
{
	for (size_t i = 0; i < d->n_workers; i++) {
		const struct worker *k = &d->workers[i];
		if (k->alive && k->linked && !k->ready)
			return false;
	}
	return true;
}

static void end_collect(struct ft_dispatch *d, bool timeout)
{
	d->collecting = false;
	emit(d, &(struct ft_dispatch_event){ .type = FT_DISPATCH_EV_GATHERED, .timeout = timeout });
	dispatch(d);
}

static void maybe_end_collect(struct ft_dispatch *d)
{
	if (d->collecting && collect_finished(d))
		end_collect(d, false);
}

static void forget(struct ft_dispatch *d, struct req *r);

/* Nobody waits for it any more: the gateway answered its client "timeout"
 * (or will, at the same moment) and would only acknowledge a result. */
static void expire(struct ft_dispatch *d, int64_t now_ms)
{
	struct req *r = d->reqs;
	while (r) {
		struct req *next = r->next;
		if (r->pub.state == FT_DISPATCH_QUEUED && r->deadline_ms &&
		    r->deadline_ms <= now_ms) {
			emit(d, &(struct ft_dispatch_event){ .type = FT_DISPATCH_EV_EXPIRED,
							     .req = &r->pub,
							     .id = r->pub.id,
							     .worker = -1 });
			d->abandoned_ms = now_ms ? now_ms : 1;
			forget(d, r);
		}
		r = next;
	}
}

void ft_dispatch_tick(struct ft_dispatch *d, int64_t now_ms)
{
	d->now_ms = now_ms;
	if (d->collecting && now_ms >= d->collect_deadline_ms)
		end_collect(d, true);
	expire(d, now_ms);
	dispatch(d); /* the queue's order may have turned */
}

void ft_dispatch_hold(struct ft_dispatch *d, bool held)
{
	d->held = held;
	dispatch(d);
}

int64_t ft_dispatch_collect_deadline(const struct ft_dispatch *d)
{
	return d->collect_deadline_ms;
}

/* ---- workers ---- */

void ft_dispatch_set_alive(struct ft_dispatch *d, int worker, bool alive)
{
	struct worker *k = find_worker(d, worker);
	if (k)
		k->alive = alive;
}

void ft_dispatch_link(struct ft_dispatch *d, int worker, bool linked)
{
	struct worker *k = find_worker(d, worker);
	if (!k)
		return;
	k->linked = linked;
	k->ready = false;
}

/* Running there: wait for it, never start it twice. */
static void inventory_running(struct ft_dispatch *d, struct worker *k, uint64_t id)
{
	struct req *r = find_req(d, id);
	if (!r && was_delivered(d, id))
		return; /* its late result will be released */
	if (!r) {
		r = new_req(d, id, FT_DISPATCH_WAITING);
	} else if (r->pub.state == FT_DISPATCH_DONE || r->pub.state == FT_DISPATCH_ASSIGNED) {
		return;
	} else if (r->pub.state == FT_DISPATCH_QUEUED) {
		r->pub.state = FT_DISPATCH_ASSIGNED;
	}
	r->pub.worker = k->id;
	k->assigned++;
	d->ops->started(d->ud, &r->pub);
}

/* Finished there: its RESULT follows on the same connection, perhaps in a
 * later read.  Until it arrives the request must not be dispatched again,
 * or it would run twice. */
static void inventory_done(struct ft_dispatch *d, struct worker *k, uint64_t id)
{
	struct req *r = find_req(d, id);
	if (!r && was_delivered(d, id))
		return; /* its RESULT, which follows, is released */
	if (!r)
		r = new_req(d, id, FT_DISPATCH_WAITING);
	else if (r->pub.state == FT_DISPATCH_DONE || r->pub.state == FT_DISPATCH_ASSIGNED)
		return;
	r->pub.state = FT_DISPATCH_WAITING;
	r->pub.worker = k->id;
	k->assigned++;
}

void ft_dispatch_inventory(struct ft_dispatch *d, int worker, const uint64_t *running,
			   size_t n_running, const uint64_t *done, size_t n_done)
{
	struct worker *k = find_worker(d, worker);
	if (!k)
		return;
	for (size_t i = 0; i < n_running; i++)
		inventory_running(d, k, running[i]);
	for (size_t i = 0; i < n_done; i++)
		inventory_done(d, k, done[i]);
	k->ready = true;
	emit(d, &(struct ft_dispatch_event){ .type = FT_DISPATCH_EV_WORKER_READY,
					     .worker = k->id,
					     .count = k->assigned });
	maybe_end_collect(d);
	dispatch(d);
}

void ft_dispatch_worker_failed(struct ft_dispatch *d, int worker, const char *why)
{
	struct worker *k = find_worker(d, worker);
	if (!k)
		return;
	k->alive = false;
	reclaim(d, k, why, true);
	dispatch(d);
}

static void link_lost(struct ft_dispatch *d, int worker, const char *why, bool blame)
{
	struct worker *k = find_worker(d, worker);
	if (!k)
		return;
	k->linked = false;
	reclaim(d, k, why, blame);
	maybe_end_collect(d);
	dispatch(d);
}

void ft_dispatch_link_closed(struct ft_dispatch *d, int worker, const char *why)
{
	link_lost(d, worker, why, true);
}

void ft_dispatch_link_silent(struct ft_dispatch *d, int worker, const char *why)
{
	link_lost(d, worker, why, false);
}

void ft_dispatch_result(struct ft_dispatch *d, int worker, uint64_t id, void *result)
{
	struct req *r = find_req(d, id);
	if (!r && was_delivered(d, id)) {
		emit(d, &(struct ft_dispatch_event){
				.type = FT_DISPATCH_EV_LATE, .id = id, .worker = worker });
		d->ops->release(d->ud, worker, id);
		d->ops->drop_result(d->ud, result);
		return;
	}
	if (r && r->pub.state == FT_DISPATCH_DONE) {
		/* A second answer (a rerun, or a late one): the first one won. */
		if (r->pub.from_worker != worker)
			d->ops->release(d->ud, worker, id);
		d->ops->drop_result(d->ud, result);
		return;
	}
	if (!r)
		r = new_req(d, id, FT_DISPATCH_WAITING);
	if (r->pub.worker >= 0)
		unassign(d, r);
	r->pub.state = FT_DISPATCH_DONE;
	r->pub.from_worker = worker;
	r->pub.result = result;
	drop_work(d, r);
	emit(d,
	     &(struct ft_dispatch_event){
		     .type = FT_DISPATCH_EV_ANSWERED, .req = &r->pub, .id = id, .worker = worker });
	d->ops->answer(d->ud, &r->pub);
	dispatch(d);
}

void ft_dispatch_handed_back(struct ft_dispatch *d, int worker, uint64_t id, const char *why,
			     bool failed)
{
	struct req *r = find_req(d, id);
	if (!r || r->pub.state == FT_DISPATCH_DONE || r->pub.worker != worker)
		return;
	unassign(d, r);
	requeue(r);
	if (failed && failed_on(d, r, worker, why)) {
		dispatch(d);
		return;
	}
	emit(d,
	     &(struct ft_dispatch_event){
		     .type = FT_DISPATCH_EV_HANDED_BACK, .id = id, .worker = worker, .why = why });
	dispatch(d);
}

/* ---- the gateway ---- */

void ft_dispatch_submit(struct ft_dispatch *d, uint64_t id, void *work)
{
	ft_dispatch_submit_to(d, id, work, 0, 0);
}

static size_t queued(const struct ft_dispatch *d)
{
	size_t n = 0;
	for (const struct req *r = d->reqs; r; r = r->next)
		n += r->pub.state == FT_DISPATCH_QUEUED;
	return n;
}

void ft_dispatch_submit_to(struct ft_dispatch *d, uint64_t id, void *work, int prefer,
			   int64_t deadline_ms)
{
	struct req *r = find_req(d, id);
	if (r && r->pub.state == FT_DISPATCH_DONE) {
		/* Answered from a gathered result, not run again. */
		d->ops->answer(d->ud, &r->pub);
		d->ops->drop_work(d->ud, work);
		return;
	}
	if (!r && queued(d) >= (size_t)d->limits->max_queued_requests) {
		r = new_req(d, id, FT_DISPATCH_QUEUED);
		r->pub.work = work;
		answer_unavailable(
			d, r,
			ft_xasprintf(
				"Service unavailable: the cluster's queue is full (%d "
				"requests wait, limits.max_queued_requests); try again later\n",
				d->limits->max_queued_requests),
			&(struct ft_dispatch_event){
				.type = FT_DISPATCH_EV_REFUSED,
				.req = &r->pub,
				.id = id,
				.worker = -1,
				.count = (size_t)d->limits->max_queued_requests });
		return;
	}
	if (!r) {
		r = new_req(d, id, FT_DISPATCH_QUEUED);
		r->queued_ms = d->now_ms;
	}
	r->prefer = prefer;
	r->deadline_ms = deadline_ms;
	if (!r->pub.work)
		r->pub.work = work;
	else
		d->ops->drop_work(d->ud, work);
	if (r->pub.state == FT_DISPATCH_WAITING && r->pub.worker < 0) {
		r->pub.state = FT_DISPATCH_QUEUED;
		r->queued_ms = d->now_ms;
	} else if (r->pub.worker >= 0)
		d->ops->started(d->ud, &r->pub); /* a gateway that reconnected learns it again */
	emit(d, &(struct ft_dispatch_event){ .type = FT_DISPATCH_EV_SUBMITTED, .id = id });
	dispatch(d);
}

static void remember_delivered(struct ft_dispatch *d, uint64_t id)
{
	d->delivered[d->delivered_next] = id;
	d->delivered_next = (d->delivered_next + 1) % DELIVERED_RING;
}

void ft_dispatch_ack(struct ft_dispatch *d, uint64_t id)
{
	struct req *r = find_req(d, id);
	if (!r || r->pub.state != FT_DISPATCH_DONE)
		return;
	if (r->pub.from_worker >= 0 && find_worker(d, r->pub.from_worker))
		d->ops->release(d->ud, r->pub.from_worker, id);
	remember_delivered(d, id);
	drop_req(d, r);
}

void ft_dispatch_cancel(struct ft_dispatch *d, uint64_t id)
{
	struct req *r = find_req(d, id);
	if (!r)
		return;
	int worker = r->pub.state == FT_DISPATCH_DONE ? r->pub.from_worker : r->pub.worker;
	if (worker >= 0 && find_worker(d, worker)) {
		if (r->pub.state == FT_DISPATCH_DONE)
			d->ops->release(d->ud, worker, id);
		else
			d->ops->cancel(d->ud, worker, id);
	}
	if (r->pub.state != FT_DISPATCH_DONE)
		d->abandoned_ms = d->now_ms ? d->now_ms : 1;
	struct ft_dispatch_event ev = {
		.type = FT_DISPATCH_EV_CANCELLED, .req = &r->pub, .id = id, .worker = worker
	};
	d->ops->event(d->ud, &ev);
	forget(d, r);
}

/* As if delivered: a result that still comes for it is released quietly. */
static void forget(struct ft_dispatch *d, struct req *r)
{
	unassign(d, r);
	remember_delivered(d, r->pub.id);
	drop_req(d, r);
}

void ft_dispatch_resend_answers(struct ft_dispatch *d)
{
	for (struct req *r = d->reqs; r; r = r->next)
		if (r->pub.state == FT_DISPATCH_DONE)
			d->ops->answer(d->ud, &r->pub);
}

/* ---- life cycle and inspection ---- */

struct ft_dispatch *ft_dispatch_new(const struct ft_dispatch_conf *conf,
				    const struct ft_dispatch_ops *ops, void *ud, int64_t now_ms)
{
	struct ft_dispatch *d = ft_xcalloc(1, sizeof(*d));
	d->ops = ops;
	d->ud = ud;
	d->self_id = conf->self_id;
	d->limits = conf->limits;
	d->n_workers = conf->n_workers;
	d->workers = ft_xcalloc(d->n_workers ? d->n_workers : 1, sizeof(*d->workers));
	for (size_t i = 0; i < d->n_workers; i++)
		d->workers[i].id = conf->worker_ids[i];
	d->collecting = true;
	d->collect_deadline_ms = now_ms + conf->limits->collect_timeout_ms;
	d->now_ms = now_ms;
	return d;
}

void ft_dispatch_free(struct ft_dispatch *d)
{
	if (!d)
		return;
	while (d->reqs) {
		struct req *r = d->reqs;
		d->reqs = r->next;
		free_req(d, r);
	}
	free(d->workers);
	free(d);
}

bool ft_dispatch_gathering(const struct ft_dispatch *d)
{
	return d->collecting;
}

size_t ft_dispatch_count(const struct ft_dispatch *d)
{
	return d->n_reqs;
}

const struct ft_dispatch_req *ft_dispatch_find(const struct ft_dispatch *d, uint64_t id)
{
	const struct req *r = find_req(d, id);
	return r ? &r->pub : NULL;
}

bool ft_dispatch_alive(const struct ft_dispatch *d, int worker)
{
	const struct worker *k = find_worker(d, worker);
	return k && k->alive;
}

bool ft_dispatch_ready(const struct ft_dispatch *d, int worker)
{
	const struct worker *k = find_worker(d, worker);
	return k && k->ready;
}

size_t ft_dispatch_assigned(const struct ft_dispatch *d, int worker)
{
	const struct worker *k = find_worker(d, worker);
	return k ? k->assigned : 0;
}

bool ft_dispatch_delivered(const struct ft_dispatch *d, uint64_t id)
{
	return was_delivered(d, id);
}
