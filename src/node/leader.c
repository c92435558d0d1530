/* The leader side of a node: takes requests from the gateway, hands each to
 * a live worker, tracks who holds what, reassigns the work of a failed
 * worker, and gathers finished results - including, on taking over, those
 * workers finished for the previous leader.
 *
 * A request moves QUEUED -> ASSIGNED -> DONE; WAITING means a worker
 * reported it running before the gateway re-sent it (so we have no source
 * yet).  A result is forwarded to the gateway and the assignment dropped
 * only once the gateway acknowledges it; only then is the worker told to
 * release its copy.  First answer for a request ID wins: later ones are
 * released unused. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "lib/metrics.h"
#include "lib/util.h"
#include "job/verdict.h"
#include "node/node.h"

#define RECONNECT_MS 300
/* Requests whose answer the gateway confirmed, remembered so that a late
 * second result for one (a worker that was paused past its reassignment)
 * is released quietly instead of being taken for news. */
#define DELIVERED_RING 4096
/* Workers a request failed on, remembered to try others first. */
#define FAILED_ON_MAX 8

enum req_state { REQ_WAITING, REQ_QUEUED, REQ_ASSIGNED, REQ_DONE };

struct req {
	struct req *next;
	uint64_t id;
	enum req_state state;
	char *src; /* NULL until the gateway has sent it */
	size_t src_len;
	struct json_object *job; /* the JSON API's "job" object, or NULL */
	int worker;		 /* holding worker ID, or -1 */
	int attempts;
	int failed_on[FAILED_ON_MAX]; /* workers it failed on (machinery or lost) */
	int n_failed;
	/* result */
	struct json_object *meta;
	char *body;
	size_t body_len;
	int from_worker;
};

struct wlink {
	struct ft_leader *l;
	int id;
	struct ft_conn *c;
	bool ready; /* its inventory has arrived */
	bool alive; /* gossip believes it alive */
	size_t assigned;
	sd_event_source *retry;
};

struct ft_leader {
	struct ft_node *n;
	uint64_t epoch;
	struct wlink *links; /* one per configured node, self included */
	size_t n_links;
	size_t rr;
	struct ft_conn *gw;
	struct req *reqs, *tail;
	size_t n_reqs;
	bool collecting;
	sd_event_source *collect_timer;
	uint64_t delivered[DELIVERED_RING];
	size_t delivered_next;
};

static void dispatch(struct ft_leader *l);
static void maybe_end_collect(struct ft_leader *l);
static void link_connect(struct wlink *k);

/* ---- requests ---- */

static struct req *find_req(struct ft_leader *l, uint64_t id)
{
	for (struct req *r = l->reqs; r; r = r->next)
		if (r->id == id)
			return r;
	return NULL;
}

static struct req *new_req(struct ft_leader *l, uint64_t id)
{
	struct req *r = ft_xcalloc(1, sizeof(*r));
	r->id = id;
	r->worker = -1;
	if (l->tail)
		l->tail->next = r;
	else
		l->reqs = r;
	l->tail = r;
	l->n_reqs++;
	return r;
}

static void drop_req(struct ft_leader *l, struct req *r)
{
	struct req *prev = NULL;
	for (struct req *x = l->reqs; x; prev = x, x = x->next) {
		if (x != r)
			continue;
		if (prev)
			prev->next = r->next;
		else
			l->reqs = r->next;
		if (l->tail == r)
			l->tail = prev;
		break;
	}
	l->n_reqs--;
	free(r->src);
	json_object_put(r->job);
	free(r->body);
	json_object_put(r->meta);
	free(r);
}

static struct wlink *link_by_id(struct ft_leader *l, int id)
{
	for (size_t i = 0; i < l->n_links; i++)
		if (l->links[i].id == id)
			return &l->links[i];
	return NULL;
}

static void unassign(struct ft_leader *l, struct req *r)
{
	struct wlink *k = r->worker >= 0 ? link_by_id(l, r->worker) : NULL;
	if (k && k->assigned)
		k->assigned--;
	r->worker = -1;
}

/* ---- to the gateway ---- */

static void send_result_to_gateway(struct ft_leader *l, const struct req *r)
{
	if (!ft_conn_is_open(l->gw))
		return;
	struct json_object *m = json_object_new_object();
	json_object_object_foreach(r->meta, key, val)
	{
		if (strcmp(key, "epoch") != 0)
			json_object_object_add(m, key, json_object_get(val));
	}
	/* Fencing: the gateway drops answers from leaders older than the
	 * newest it has seen. */
	json_object_object_add(m, "epoch", json_object_new_uint64(l->epoch));
	json_object_object_add(m, "attempts", json_object_new_int(r->attempts));
	ft_conn_send(l->gw, FT_FRAME_RESULT, m, r->body, r->body_len);
	json_object_put(m);
}

/* Tells the gateway which worker runs r now (its run status, the
 * dashboard's requests in flight per worker). */
static void send_started(struct ft_leader *l, const struct req *r)
{
	if (!ft_conn_is_open(l->gw))
		return;
	struct json_object *m = json_object_new_object();
	json_object_object_add(m, "req", json_object_new_uint64(r->id));
	json_object_object_add(m, "worker", json_object_new_int(r->worker));
	json_object_object_add(m, "attempt", json_object_new_int(r->attempts));
	ft_conn_send(l->gw, FT_FRAME_STARTED, m, NULL, 0);
	json_object_put(m);
}

static void send_simple(struct ft_conn *c, int type, uint64_t req)
{
	struct json_object *m = json_object_new_object();
	json_object_object_add(m, "req", json_object_new_uint64(req));
	ft_conn_send(c, type, m, NULL, 0);
	json_object_put(m);
}

/* ---- worker links ---- */

static bool was_delivered(const struct ft_leader *l, uint64_t id)
{
	for (size_t i = 0; i < DELIVERED_RING; i++)
		if (l->delivered[i] == id)
			return id != 0;
	return false;
}

static void on_worker_result(struct ft_leader *l, struct wlink *k, const struct ft_frame *f)
{
	uint64_t id = ft_meta_u64(f, "req", 0);
	struct req *r = find_req(l, id);
	if (!r && was_delivered(l, id)) {
		ft_log_request(
			LOG_INFO, id, "late",
			"request %llu: late result from worker %d released (already answered)",
			(unsigned long long)id, k->id);
		send_simple(k->c, FT_FRAME_RELEASE, id);
		return;
	}
	if (r && r->state == REQ_DONE) {
		/* A second answer (a rerun, or a late one): the first one won. */
		if (r->from_worker != k->id)
			send_simple(k->c, FT_FRAME_RELEASE, id);
		return;
	}
	if (!r)
		r = new_req(l, id);
	if (r->worker >= 0)
		unassign(l, r);
	r->state = REQ_DONE;
	r->from_worker = k->id;
	r->meta = json_object_get(f->meta);
	r->body = ft_xmemdup(f->blob, f->blob_len);
	r->body_len = f->blob_len;
	free(r->src);
	r->src = NULL;
	json_object_put(r->job);
	r->job = NULL;
	ft_log_request(LOG_INFO, id, "result", "request %llu answered by worker %d: %s",
		       (unsigned long long)id, k->id, ft_meta_str(f, "verdict", "?"));
	send_result_to_gateway(l, r);
	dispatch(l);
}

static void on_inventory(struct ft_leader *l, struct wlink *k, const struct ft_frame *f)
{
	struct json_object *running = NULL;
	if (json_object_object_get_ex(f->meta, "running", &running) &&
	    json_object_is_type(running, json_type_array)) {
		size_t n = json_object_array_length(running);
		for (size_t i = 0; i < n; i++) {
			uint64_t id = json_object_get_uint64(json_object_array_get_idx(running, i));
			struct req *r = find_req(l, id);
			if (!r && was_delivered(l, id))
				continue; /* its late result will be released */
			if (!r) {
				r = new_req(l, id);
				r->state = REQ_WAITING;
			} else if (r->state == REQ_DONE || r->state == REQ_ASSIGNED) {
				continue;
			} else if (r->state == REQ_QUEUED) {
				r->state = REQ_ASSIGNED;
			}
			/* It is running there: wait for it, never start it twice. */
			r->worker = k->id;
			k->assigned++;
			send_started(l, r);
		}
	}
	/* Finished there: its RESULT follows on this connection, perhaps in a
	 * later read.  Until it arrives the request must not be dispatched
	 * again, or it would run twice. */
	struct json_object *done = NULL;
	if (json_object_object_get_ex(f->meta, "done", &done) &&
	    json_object_is_type(done, json_type_array)) {
		size_t n = json_object_array_length(done);
		for (size_t i = 0; i < n; i++) {
			uint64_t id = json_object_get_uint64(json_object_array_get_idx(done, i));
			struct req *r = find_req(l, id);
			if (!r && was_delivered(l, id))
				continue; /* its RESULT, which follows, is released */
			if (!r)
				r = new_req(l, id);
			else if (r->state == REQ_DONE || r->state == REQ_ASSIGNED)
				continue;
			r->state = REQ_WAITING;
			r->worker = k->id;
			k->assigned++;
		}
	}
	k->ready = true;
	ft_log_info("leader: worker %d ready (%zu running or finished there)", k->id, k->assigned);
	maybe_end_collect(l);
	dispatch(l);
}

/* r failed on worker k through no fault of its program: it goes to
 * another worker, unless it was tried limits.run_attempts times; then the
 * client is told the cluster could not run it (503), which a retry may
 * change, instead of waiting for ever or being blamed. */
static bool failed_on(struct ft_leader *l, struct req *r, int worker, const char *why)
{
	if (r->n_failed < FAILED_ON_MAX)
		r->failed_on[r->n_failed++] = worker;
	if (r->attempts < l->n->cfg.limits.run_attempts)
		return false;
	char *body = ft_xasprintf("Service unavailable: the cluster could not run this request "
				  "(%d attempts; the last, on worker %d: %s); try again later\n",
				  r->attempts, worker, why);
	unassign(l, r);
	r->state = REQ_DONE;
	r->from_worker = -1; /* nothing held anywhere to release */
	r->meta = json_object_new_object();
	json_object_object_add(r->meta, "req", json_object_new_uint64(r->id));
	json_object_object_add(r->meta, "verdict",
			       json_object_new_string(ft_verdict_name(FT_VERDICT_UNAVAILABLE)));
	json_object_object_add(r->meta, "exit", json_object_new_int(-1));
	r->body = body;
	r->body_len = strlen(body);
	free(r->src);
	r->src = NULL;
	json_object_put(r->job);
	r->job = NULL;
	ft_log_request(LOG_WARNING, r->id, "unavailable",
		       "request %llu failed %d times (last on worker %d: %s); answering 503",
		       (unsigned long long)r->id, r->attempts, worker, why);
	send_result_to_gateway(l, r);
	return true;
}

/* A worker handed one request back: it is stopping (failed false), or its
 * sandbox could not run it (failed true). */
static void give_back(struct ft_leader *l, struct wlink *k, uint64_t id, const char *why,
		      bool failed)
{
	struct req *r = find_req(l, id);
	if (!r || r->state == REQ_DONE || r->worker != k->id)
		return;
	unassign(l, r);
	r->state = r->src ? REQ_QUEUED : REQ_WAITING;
	if (failed && failed_on(l, r, k->id, why)) {
		dispatch(l);
		return;
	}
	ft_metrics_reassigned(1);
	ft_log_notice("leader: worker %d handed back request %llu (%s); reassigning", k->id,
		      (unsigned long long)id, why);
	dispatch(l);
}

static void link_frame(struct ft_conn *c, const struct ft_frame *f, void *ud)
{
	struct wlink *k = ud;
	if (!k)
		return; /* link dropped by a leader that is going away */
	switch (f->type) {
	case FT_FRAME_INVENTORY:
		on_inventory(k->l, k, f);
		break;
	case FT_FRAME_RESULT:
		on_worker_result(k->l, k, f);
		break;
	case FT_FRAME_REJECT:
		if (ft_meta_u64(f, "req", 0)) {
			give_back(k->l, k, ft_meta_u64(f, "req", 0), ft_meta_str(f, "reason", "?"),
				  ft_meta_bool(f, "failed", false));
			break;
		}
		ft_log_warn("leader: worker %d refused us: %s", k->id,
			    ft_meta_str(f, "reason", "?"));
		ft_conn_close(c, "refused by worker");
		break;
	default:
		break;
	}
}

static void link_connected(struct ft_conn *c, void *ud)
{
	struct wlink *k = ud;
	if (!k)
		return;
	struct json_object *m = json_object_new_object();
	json_object_object_add(m, "role", json_object_new_string("leader"));
	json_object_object_add(m, "id", json_object_new_int(k->l->n->self->id));
	json_object_object_add(m, "epoch", json_object_new_uint64(k->l->epoch));
	ft_conn_send(c, FT_FRAME_HELLO, m, NULL, 0);
	json_object_put(m);
}

/* Everything a lost worker held goes back to the queue. */
static void reclaim(struct ft_leader *l, struct wlink *k, const char *why)
{
	size_t n = 0;
	for (struct req *r = l->reqs; r; r = r->next) {
		if (r->worker != k->id || r->state == REQ_DONE)
			continue;
		r->worker = -1;
		r->state = r->src ? REQ_QUEUED : REQ_WAITING;
		/* A program that takes its worker down with it must not take
		 * every worker down in turn. */
		if (failed_on(l, r, k->id, why))
			continue;
		n++;
	}
	k->assigned = 0;
	k->ready = false;
	ft_metrics_reassigned(n);
	if (n)
		ft_log_notice("leader: reassigning %zu request(s) of worker %d (%s)", n, k->id,
			      why);
}

static int retry_cb(sd_event_source *s, uint64_t usec, void *ud)
{
	struct wlink *k = ud;
	k->retry = sd_event_source_disable_unref(k->retry);
	if (k->alive && !k->c)
		link_connect(k);
	return 0;
}

static void link_closed(struct ft_conn *c, const char *why, void *ud)
{
	struct wlink *k = ud;
	if (!k)
		return;
	struct ft_leader *l = k->l;
	k->c = NULL;
	reclaim(l, k, why);
	maybe_end_collect(l);
	if (k->alive && !k->retry)
		sd_event_add_time_relative(l->n->ev, &k->retry, CLOCK_MONOTONIC,
					   RECONNECT_MS * 1000, 10000, retry_cb, k);
	dispatch(l);
}

static const struct ft_conn_ops link_ops = {
	.on_frame = link_frame,
	.on_connected = link_connected,
	.on_close = link_closed,
};

static void link_connect(struct wlink *k)
{
	const struct ft_node_conf *nc = ft_config_node(&k->l->n->cfg, k->id);
	k->ready = false;
	k->c = ft_conn_connect(k->l->n->ev, &nc->work.sa, &k->l->n->conn_limits, &link_ops, k);
}

static void link_drop(struct wlink *k)
{
	k->retry = sd_event_source_disable_unref(k->retry);
	if (k->c) {
		/* Detach first: the leader may be going away. */
		ft_conn_set_userdata(k->c, NULL);
		ft_conn_close(k->c, "leader stopping");
		k->c = NULL;
	}
}

/* ---- dispatch ---- */

static bool has_failed_on(const struct req *r, int worker)
{
	for (int i = 0; i < r->n_failed; i++)
		if (r->failed_on[i] == worker)
			return true;
	return false;
}

/* The least busy live worker, not the leader itself unless nobody else
 * can work; one r has not failed on yet, if there is such a one. */
static struct wlink *pick_worker(struct ft_leader *l, const struct req *r)
{
	struct wlink *best = NULL, *self = NULL, *tried = NULL;
	for (size_t i = 0; i < l->n_links; i++) {
		struct wlink *k = &l->links[(l->rr + i) % l->n_links];
		if (!k->alive || !k->ready || !ft_conn_is_connected(k->c))
			continue;
		if (has_failed_on(r, k->id)) {
			if (!tried || k->assigned < tried->assigned)
				tried = k;
			continue;
		}
		/* The leader works only when nobody else can. */
		if (k->id == l->n->self->id) {
			self = k;
			continue;
		}
		if (!best || k->assigned < best->assigned)
			best = k;
	}
	if (best)
		l->rr = (size_t)(best - l->links) + 1;
	return best ? best : self ? self : tried;
}

static void dispatch(struct ft_leader *l)
{
	if (l->collecting)
		return;
	for (struct req *r = l->reqs; r; r = r->next) {
		if (r->state != REQ_QUEUED)
			continue;
		struct wlink *k = pick_worker(l, r);
		if (!k)
			return;
		struct json_object *m = json_object_new_object();
		json_object_object_add(m, "req", json_object_new_uint64(r->id));
		json_object_object_add(m, "epoch", json_object_new_uint64(l->epoch));
		if (r->job)
			json_object_object_add(m, "job", json_object_get(r->job));
		if (ft_conn_send(k->c, FT_FRAME_ASSIGN, m, r->src, r->src_len) == 0) {
			r->state = REQ_ASSIGNED;
			r->worker = k->id;
			r->attempts++;
			k->assigned++;
			ft_metrics_assigned();
			send_started(l, r);
			ft_log_request(LOG_INFO, r->id, "assign",
				       "request %llu assigned to worker %d (attempt %d)",
				       (unsigned long long)r->id, k->id, r->attempts);
		}
		json_object_put(m);
	}
}

static bool collect_finished(const struct ft_leader *l)
{
	for (size_t i = 0; i < l->n_links; i++) {
		const struct wlink *k = &l->links[i];
		if (k->alive && k->c && !k->ready)
			return false;
	}
	return true;
}

static int collect_cb(sd_event_source *s, uint64_t usec, void *ud)
{
	struct ft_leader *l = ud;
	if (l->collecting) {
		l->collecting = false;
		ft_log_info("leader: gathering done (timeout); dispatching");
		dispatch(l);
	}
	return 0;
}

static void maybe_end_collect(struct ft_leader *l)
{
	if (l->collecting && collect_finished(l)) {
		l->collecting = false;
		ft_log_info("leader: gathered every worker's results; dispatching");
		dispatch(l);
	}
}

/* ---- gateway side ---- */

void ft_leader_gateway_hello(struct ft_leader *l, struct ft_conn *c, const struct ft_frame *f)
{
	if (l->gw && l->gw != c)
		ft_conn_close(l->gw, "superseded by a new gateway connection");
	l->gw = c;
	struct json_object *m = json_object_new_object();
	json_object_object_add(m, "role", json_object_new_string("leader"));
	json_object_object_add(m, "id", json_object_new_int(l->n->self->id));
	json_object_object_add(m, "epoch", json_object_new_uint64(l->epoch));
	ft_conn_send(c, FT_FRAME_HELLO, m, NULL, 0);
	json_object_put(m);
	/* Results gathered for requests the gateway may already have answered:
	 * its ACKs let the workers release them. */
	for (struct req *r = l->reqs; r; r = r->next)
		if (r->state == REQ_DONE)
			send_result_to_gateway(l, r);
}

static void on_submit(struct ft_leader *l, const struct ft_frame *f)
{
	uint64_t id = ft_meta_u64(f, "req", 0);
	struct req *r = find_req(l, id);
	if (r && r->state == REQ_DONE) {
		/* Answered from a gathered result, not run again. */
		send_result_to_gateway(l, r);
		return;
	}
	if (!r) {
		r = new_req(l, id);
		r->state = REQ_QUEUED;
	}
	if (!r->src) {
		r->src = ft_xmemdup(f->blob, f->blob_len);
		r->src_len = f->blob_len;
		struct json_object *job;
		if (json_object_object_get_ex(f->meta, "job", &job))
			r->job = json_object_get(job);
	}
	if (r->state == REQ_WAITING && r->worker < 0)
		r->state = REQ_QUEUED;
	else if (r->worker >= 0)
		send_started(l, r); /* a gateway that reconnected learns it again */
	ft_log_request(LOG_INFO, id, "submit", "request %llu received from the gateway",
		       (unsigned long long)id);
	dispatch(l);
}

static void on_ack(struct ft_leader *l, const struct ft_frame *f)
{
	uint64_t id = ft_meta_u64(f, "req", 0);
	struct req *r = find_req(l, id);
	if (!r || r->state != REQ_DONE)
		return;
	struct wlink *k = link_by_id(l, r->from_worker);
	if (k && ft_conn_is_open(k->c))
		send_simple(k->c, FT_FRAME_RELEASE, id);
	l->delivered[l->delivered_next] = id;
	l->delivered_next = (l->delivered_next + 1) % DELIVERED_RING;
	drop_req(l, r);
}

void ft_leader_gateway_frame(struct ft_leader *l, struct ft_conn *c, const struct ft_frame *f)
{
	if (c != l->gw) {
		ft_conn_close(c, "superseded gateway connection");
		return;
	}
	if (f->type == FT_FRAME_SUBMIT)
		on_submit(l, f);
	else if (f->type == FT_FRAME_ACK)
		on_ack(l, f);
}

void ft_leader_gateway_closed(struct ft_leader *l, struct ft_conn *c)
{
	if (l->gw == c)
		l->gw = NULL;
}

/* ---- membership ---- */

void ft_leader_member_event(struct ft_leader *l, const struct ft_member_event_info *ev)
{
	struct wlink *k = link_by_id(l, ev->peer);
	if (ev->type == FT_EV_SELF_REJOIN || !k)
		return;
	switch (ev->type) {
	case FT_EV_FAILED:
		k->alive = false;
		/* No new work for it, at once; what it held goes elsewhere.  Its
		 * connection belongs to the failed life and is never trusted again. */
		if (k->c)
			ft_conn_close(k->c, "worker declared failed by gossip");
		reclaim(l, k, "declared failed");
		dispatch(l);
		break;
	case FT_EV_JOINED:
	case FT_EV_REJOINED:
		k->alive = true;
		if (ev->type == FT_EV_REJOINED && k->c)
			ft_conn_close(k->c, "worker restarted with a new incarnation");
		if (!k->c && !k->retry)
			link_connect(k);
		break;
	default:
		break;
	}
}

/* ---- life cycle ---- */

struct ft_leader *ft_leader_new(struct ft_node *n, uint64_t epoch)
{
	struct ft_leader *l = ft_xcalloc(1, sizeof(*l));
	l->n = n;
	l->epoch = epoch;
	l->n_links = n->cfg.n_nodes;
	l->links = ft_xcalloc(l->n_links, sizeof(*l->links));
	l->collecting = true;
	const struct ft_membership *tab = ft_gossip_table(n->gossip);
	for (size_t i = 0; i < l->n_links; i++) {
		struct wlink *k = &l->links[i];
		k->l = l;
		k->id = n->cfg.nodes[i].id;
		k->alive = ft_membership_alive(tab, k->id);
		if (k->alive)
			link_connect(k);
	}
	sd_event_add_time_relative(n->ev, &l->collect_timer, CLOCK_MONOTONIC,
				   (uint64_t)n->cfg.limits.collect_timeout_ms * 1000, 10000,
				   collect_cb, l);
	return l;
}

void ft_leader_free(struct ft_leader *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n_links; i++)
		link_drop(&l->links[i]);
	if (l->gw)
		ft_conn_close(l->gw, "leader stopping");
	sd_event_source_disable_unref(l->collect_timer);
	while (l->reqs)
		drop_req(l, l->reqs);
	free(l->links);
	free(l);
}

size_t ft_leader_in_flight(const struct ft_leader *l)
{
	return l->n_reqs;
}

uint64_t ft_leader_epoch(const struct ft_leader *l)
{
	return l->epoch;
}
