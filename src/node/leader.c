/* The leader side of a node, as IO: the gateway's connection, one link to
 * every live node's worker port, and the frames on them.  What to do with
 * each request - queue, assignment, reassignment, gathering after an
 * election, first answer wins - is decided by the request table
 * (node/dispatch.c); this file turns frames into its calls and its
 * decisions into frames, log lines and metrics. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "lib/metrics.h"
#include "lib/util.h"
#include "job/verdict.h"
#include "node/dispatch.h"
#include "node/node.h"

#define RECONNECT_MS 300

/* What the gateway sent to run: the source (or the job's files) and the
 * JSON API's "job" object, or NULL. */
struct work {
	char *src;
	size_t src_len;
	struct json_object *job;
};

/* A worker's answer, as its RESULT frame carried it. */
struct answer {
	struct json_object *meta;
	char *body;
	size_t body_len;
};

struct wlink {
	struct ft_leader *l;
	int id;
	struct ft_conn *c;
	sd_event_source *retry;
	int64_t heard_ms; /* last byte of its last closed connection, or 0 */
};

struct ft_leader {
	struct ft_node *n;
	uint64_t epoch;
	struct wlink *links; /* one per configured node, self included */
	size_t n_links;
	struct ft_conn *gw;
	struct ft_dispatch *table;
	sd_event_source *tick_timer; /* the collect deadline, then every TICK_MS */
	sd_event_source *lease_timer;
	int64_t cut_off_since_ms; /* 0: reaching its followers */
	int64_t gw_heard_ms;	  /* last byte of the gateway's last closed link, or 0 */
	bool stepped_down;
};

/* How often the lease is checked: often enough to act within a tenth of it. */
#define LEASE_CHECK_MIN_MS 50
/* How late past its deadline a queued request may be dropped. */
#define TICK_MS 100

static void link_connect(struct wlink *k);

static struct wlink *link_by_id(struct ft_leader *l, int id)
{
	for (size_t i = 0; i < l->n_links; i++)
		if (l->links[i].id == id)
			return &l->links[i];
	return NULL;
}

static const char *answer_verdict(const struct answer *a)
{
	const struct ft_frame f = { .meta = a->meta };
	return ft_meta_str(&f, "verdict", "?");
}

/* ---- frames ---- */

static void send_simple(struct ft_conn *c, int type, uint64_t req)
{
	struct json_object *m = json_object_new_object();
	json_object_object_add(m, "req", json_object_new_uint64(req));
	ft_conn_send(c, type, m, NULL, 0);
	json_object_put(m);
}

static void send_result_to_gateway(struct ft_leader *l, const struct ft_dispatch_req *r)
{
	if (!ft_conn_is_open(l->gw))
		return;
	struct json_object *m = json_object_new_object();
	const struct answer *a = r->result;
	if (a) {
		json_object_object_foreach(a->meta, key, val)
		{
			if (strcmp(key, "epoch") != 0)
				json_object_object_add(m, key, json_object_get(val));
		}
	} else {
		/* The leader's own answer: no worker could run it. */
		json_object_object_add(m, "req", json_object_new_uint64(r->id));
		json_object_object_add(
			m, "verdict",
			json_object_new_string(ft_verdict_name(FT_VERDICT_UNAVAILABLE)));
		json_object_object_add(m, "exit", json_object_new_int(-1));
	}
	/* Fencing: the gateway drops answers from leaders older than the
	 * newest it has seen. */
	json_object_object_add(m, "epoch", json_object_new_uint64(l->epoch));
	json_object_object_add(m, "attempts", json_object_new_int(r->attempts));
	const char *body = a ? a->body : r->unavailable_body;
	size_t body_len = a ? a->body_len : strlen(r->unavailable_body);
	ft_conn_send(l->gw, FT_FRAME_RESULT, m, body, body_len);
	json_object_put(m);
}

/* ---- what the request table asks for ---- */

static bool op_reachable(void *ud, int worker)
{
	struct wlink *k = link_by_id(ud, worker);
	return k && ft_conn_is_connected(k->c);
}

static bool op_assign(void *ud, const struct ft_dispatch_req *r, int worker)
{
	struct ft_leader *l = ud;
	struct wlink *k = link_by_id(l, worker);
	const struct work *w = r->work;
	struct json_object *m = json_object_new_object();
	json_object_object_add(m, "req", json_object_new_uint64(r->id));
	json_object_object_add(m, "epoch", json_object_new_uint64(l->epoch));
	if (w->job)
		json_object_object_add(m, "job", json_object_get(w->job));
	bool sent = ft_conn_send(k->c, FT_FRAME_ASSIGN, m, w->src, w->src_len) == 0;
	json_object_put(m);
	return sent;
}

/* Tells the gateway which worker runs r now (its run status, the
 * dashboard's requests in flight per worker). */
static void op_started(void *ud, const struct ft_dispatch_req *r)
{
	struct ft_leader *l = ud;
	if (!ft_conn_is_open(l->gw))
		return;
	struct json_object *m = json_object_new_object();
	json_object_object_add(m, "req", json_object_new_uint64(r->id));
	json_object_object_add(m, "worker", json_object_new_int(r->worker));
	json_object_object_add(m, "attempt", json_object_new_int(r->attempts));
	ft_conn_send(l->gw, FT_FRAME_STARTED, m, NULL, 0);
	json_object_put(m);
}

static void op_answer(void *ud, const struct ft_dispatch_req *r)
{
	send_result_to_gateway(ud, r);
}

static void op_release(void *ud, int worker, uint64_t id)
{
	struct wlink *k = link_by_id(ud, worker);
	if (k && ft_conn_is_open(k->c))
		send_simple(k->c, FT_FRAME_RELEASE, id);
}

static void op_cancel(void *ud, int worker, uint64_t id)
{
	struct wlink *k = link_by_id(ud, worker);
	if (k && ft_conn_is_open(k->c))
		send_simple(k->c, FT_FRAME_CANCEL, id);
}

static void op_event(void *ud, const struct ft_dispatch_event *ev)
{
	struct ft_leader *l = ud;
	unsigned long long id = (unsigned long long)ev->id;
	switch (ev->type) {
	case FT_DISPATCH_EV_SUBMITTED:
		ft_log_request(LOG_DEBUG, ev->id, "submit",
			       "request %llu received from the gateway", id);
		break;
	case FT_DISPATCH_EV_ASSIGNED:
		ft_metrics_assigned();
		ft_log_request(LOG_DEBUG, ev->id, "assign",
			       "request %llu assigned to worker %d (attempt %d)", id, ev->worker,
			       ev->req->attempts);
		break;
	case FT_DISPATCH_EV_ANSWERED:
		ft_log_request(LOG_DEBUG, ev->id, "result",
			       "request %llu answered by worker %d: %s", id, ev->worker,
			       answer_verdict(ev->req->result));
		break;
	case FT_DISPATCH_EV_LATE:
		ft_log_request(
			LOG_INFO, ev->id, "late",
			"request %llu: late result from worker %d released (already answered)", id,
			ev->worker);
		break;
	case FT_DISPATCH_EV_HANDED_BACK:
		ft_metrics_reassigned(1);
		ft_log_notice("leader: worker %d handed back request %llu (%s); reassigning",
			      ev->worker, id, ev->why);
		break;
	case FT_DISPATCH_EV_RECLAIMED:
		ft_metrics_reassigned(ev->count);
		if (ev->count)
			ft_log_notice("leader: reassigning %zu request(s) of worker %d (%s)",
				      ev->count, ev->worker, ev->why);
		break;
	case FT_DISPATCH_EV_UNAVAILABLE:
		ft_log_request(
			LOG_WARNING, ev->id, "unavailable",
			"request %llu failed %d times (last on worker %d: %s); answering 503", id,
			ev->req->attempts, ev->worker, ev->why);
		break;
	case FT_DISPATCH_EV_WORKER_READY:
		ft_log_info("leader: worker %d ready (%zu running or finished there)", ev->worker,
			    ev->count);
		break;
	case FT_DISPATCH_EV_CANCELLED:
		if (ev->worker >= 0)
			ft_log_request(
				LOG_INFO, ev->id, "cancel",
				"request %llu cancelled by the gateway; worker %d told to stop", id,
				ev->worker);
		else
			ft_log_request(LOG_DEBUG, ev->id, "cancel",
				       "request %llu cancelled by the gateway before it ran", id);
		break;
	case FT_DISPATCH_EV_EXPIRED:
		ft_metrics_shed("expired");
		ft_log_request(LOG_NOTICE, ev->id, "expired",
			       "request %llu still queued when its gateway gave up: dropped unrun",
			       id);
		break;
	case FT_DISPATCH_EV_REFUSED:
		ft_metrics_shed("queue_full");
		ft_log_request(LOG_WARNING, ev->id, "queue_full",
			       "request %llu refused: %zu requests already queued "
			       "(limits.max_queued_requests); answering 503",
			       id, ev->count);
		break;
	case FT_DISPATCH_EV_QUEUE_ORDER:
		if (ev->timeout)
			ft_log_notice("leader: requests have waited over %d ms "
				      "(limits.queue_lifo_ms): serving the newest first",
				      l->n->cfg.limits.queue_lifo_ms);
		else
			ft_log_notice("leader: the queue is short again: serving the oldest first");
		break;
	case FT_DISPATCH_EV_GATHERED:
		if (ev->timeout)
			ft_log_info("leader: gathering done (timeout); dispatching");
		else
			ft_log_info("leader: gathered every worker's results; dispatching");
		break;
	}
}

static void op_drop_work(void *ud, void *p)
{
	struct work *w = p;
	free(w->src);
	json_object_put(w->job);
	free(w);
}

static void op_drop_result(void *ud, void *p)
{
	struct answer *a = p;
	json_object_put(a->meta);
	free(a->body);
	free(a);
}

static const struct ft_dispatch_ops table_ops = {
	.reachable = op_reachable,
	.assign = op_assign,
	.started = op_started,
	.answer = op_answer,
	.release = op_release,
	.cancel = op_cancel,
	.event = op_event,
	.drop_work = op_drop_work,
	.drop_result = op_drop_result,
};

/* ---- worker links ---- */

/* An inventory's list of request IDs; absent or mistyped reads as empty. */
static uint64_t *id_list(const struct ft_frame *f, const char *key, size_t *n)
{
	struct json_object *a = NULL;
	*n = 0;
	if (!json_object_object_get_ex(f->meta, key, &a) ||
	    !json_object_is_type(a, json_type_array))
		return NULL;
	*n = json_object_array_length(a);
	uint64_t *ids = ft_xcalloc(*n ? *n : 1, sizeof(*ids));
	for (size_t i = 0; i < *n; i++)
		ids[i] = json_object_get_uint64(json_object_array_get_idx(a, i));
	return ids;
}

static void on_inventory(struct wlink *k, const struct ft_frame *f)
{
	size_t n_running, n_done;
	uint64_t *running = id_list(f, "running", &n_running);
	uint64_t *done = id_list(f, "done", &n_done);
	ft_dispatch_inventory(k->l->table, k->id, running, n_running, done, n_done);
	free(running);
	free(done);
}

static void on_worker_result(struct wlink *k, const struct ft_frame *f)
{
	struct answer *a = ft_xcalloc(1, sizeof(*a));
	a->meta = json_object_get(f->meta);
	a->body = ft_xmemdup(f->blob, f->blob_len);
	a->body_len = f->blob_len;
	ft_dispatch_result(k->l->table, k->id, ft_meta_u64(f, "req", 0), a);
}

static void link_frame(struct ft_conn *c, const struct ft_frame *f, void *ud)
{
	struct wlink *k = ud;
	if (!k)
		return; /* link dropped by a leader that is going away */
	switch (f->type) {
	case FT_FRAME_INVENTORY:
		on_inventory(k, f);
		break;
	case FT_FRAME_RESULT:
		on_worker_result(k, f);
		break;
	case FT_FRAME_REJECT:
		if (ft_meta_u64(f, "req", 0)) {
			ft_dispatch_handed_back(k->l->table, k->id, ft_meta_u64(f, "req", 0),
						ft_meta_str(f, "reason", "?"),
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

static int retry_cb(sd_event_source *s, uint64_t usec, void *ud)
{
	struct wlink *k = ud;
	k->retry = sd_event_source_disable_unref(k->retry);
	if (ft_dispatch_alive(k->l->table, k->id) && !k->c)
		link_connect(k);
	return 0;
}

static void link_closed(struct ft_conn *c, const char *why, void *ud)
{
	struct wlink *k = ud;
	if (!k)
		return;
	struct ft_leader *l = k->l;
	k->heard_ms = ft_conn_last_heard_ms(c);
	k->c = NULL;
	if (ft_conn_went_silent(c))
		ft_dispatch_link_silent(l->table, k->id, why);
	else
		ft_dispatch_link_closed(l->table, k->id, why);
	if (ft_dispatch_alive(l->table, k->id) && !k->retry)
		sd_event_add_time_relative(l->n->ev, &k->retry, CLOCK_MONOTONIC,
					   RECONNECT_MS * 1000, 10000, retry_cb, k);
}

static const struct ft_conn_ops link_ops = {
	.on_frame = link_frame,
	.on_connected = link_connected,
	.on_close = link_closed,
};

static void link_connect(struct wlink *k)
{
	const struct ft_node_conf *nc = ft_config_node(&k->l->n->cfg, k->id);
	k->c = ft_conn_connect(k->l->n->ev, &nc->work.sa, &k->l->n->conn_limits, &link_ops, k);
	ft_dispatch_link(k->l->table, k->id, k->c != NULL);
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

/* A leader serves only while it reaches those it leads: the gateway when
 * gossip says it is alive (gossip also comes by way of other members, so
 * a gateway cut from the leader alone still counts as alive), and more
 * than half of the workers gossip says are alive, itself included.
 * Explains in why what is missing. */
/* False, with why and since when, if the gateway or more than half the
 * live workers are not linked.  The time is when the link that went last
 * was last heard from: its silence started the outage, not the close that
 * limits.link_timeout_ms later noticed it. */
static bool reaches_followers(const struct ft_leader *l, char *why, size_t len, int64_t *since_ms)
{
	const struct ft_membership *tab = ft_gossip_table(l->n->gossip);
	int64_t now = ft_now_ms();
	if (ft_membership_alive(tab, FT_GATEWAY_ID) && !ft_conn_is_open(l->gw)) {
		snprintf(why, len, "the gateway is alive but not linked");
		*since_ms = l->gw_heard_ms ? l->gw_heard_ms : now;
		return false;
	}
	size_t alive = 0, ready = 0;
	int64_t last = 0;
	for (size_t i = 0; i < l->n_links; i++) {
		int id = l->links[i].id;
		if (id != l->n->self->id && !ft_membership_alive(tab, id))
			continue;
		alive++;
		if (ft_dispatch_ready(l->table, id)) {
			ready++;
		} else {
			int64_t heard = l->links[i].heard_ms ? l->links[i].heard_ms : now;
			last = heard > last ? heard : last;
		}
	}
	if (ready * 2 <= alive) {
		snprintf(why, len, "linked to %zu of %zu live workers", ready, alive);
		*since_ms = last ? last : now;
		return false;
	}
	return true;
}

static int lease_cb(sd_event_source *s, uint64_t usec, void *ud)
{
	struct ft_leader *l = ud;
	int lease = l->n->cfg.leader.lease_ms;
	int period = lease / 10 > LEASE_CHECK_MIN_MS ? lease / 10 : LEASE_CHECK_MIN_MS;
	sd_event_source_set_time_relative(s, (uint64_t)period * 1000);
	char why[96];
	int64_t since = 0;
	if (lease <= 0 || l->stepped_down || reaches_followers(l, why, sizeof(why), &since)) {
		if (l->cut_off_since_ms && !l->stepped_down)
			ft_log_info("leader: reaching its followers again");
		l->cut_off_since_ms = 0;
		return 0;
	}
	int64_t now = ft_now_ms();
	if (!l->cut_off_since_ms) {
		l->cut_off_since_ms = since < now ? since : now;
		ft_log_warn("leader: %s (last heard %lld ms ago); stepping down %lld ms after "
			    "that unless it mends (leader.lease_ms)",
			    why, (long long)(now - l->cut_off_since_ms), (long long)lease);
		return 0;
	}
	if (now - l->cut_off_since_ms < lease)
		return 0;
	ft_log_election(LOG_WARNING, l->epoch, l->n->self->id,
			"leader: %s for %lld ms (leader.lease_ms %d): giving leadership of epoch "
			"%llu up",
			why, (long long)(now - l->cut_off_since_ms), lease,
			(unsigned long long)l->epoch);
	l->stepped_down = true;
	ft_node_step_down(l->n);
	return 0;
}

static int tick_cb(sd_event_source *s, uint64_t usec, void *ud)
{
	struct ft_leader *l = ud;
	ft_dispatch_tick(l->table, (int64_t)(usec / 1000));
	sd_event_source_set_time(s, usec + TICK_MS * 1000);
	sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
	return 0;
}

/* ---- gateway side ---- */

void ft_leader_gateway_hello(struct ft_leader *l, struct ft_conn *c, const struct ft_frame *f)
{
	if (l->gw && l->gw != c) {
		/* The gateway gave the old link up first (its silence timer
		 * fired before ours): the old one is dead to it. */
		ft_log_info("leader: the gateway linked again; closing its previous link");
		ft_conn_close(l->gw, "superseded by a new gateway connection");
	}
	l->gw = c;
	struct json_object *m = json_object_new_object();
	json_object_object_add(m, "role", json_object_new_string("leader"));
	json_object_object_add(m, "id", json_object_new_int(l->n->self->id));
	json_object_object_add(m, "epoch", json_object_new_uint64(l->epoch));
	ft_conn_send(c, FT_FRAME_HELLO, m, NULL, 0);
	json_object_put(m);
	/* Results gathered for requests the gateway may already have answered:
	 * its ACKs let the workers release them. */
	ft_dispatch_resend_answers(l->table);
}

static void on_submit(struct ft_leader *l, const struct ft_frame *f)
{
	struct work *w = ft_xcalloc(1, sizeof(*w));
	w->src = ft_xmemdup(f->blob, f->blob_len);
	w->src_len = f->blob_len;
	struct json_object *job, *prefer;
	int prefer_worker = 0;
	if (json_object_object_get_ex(f->meta, "job", &job)) {
		w->job = json_object_get(job);
		if (json_object_object_get_ex(job, "prefer_worker", &prefer) &&
		    json_object_is_type(prefer, json_type_int))
			prefer_worker = json_object_get_int(prefer);
	}
	/* The gateway's time left, not its clock: hosts' clocks differ. */
	int64_t ttl_ms = ft_meta_int(f, "ttl_ms", 0);
	int64_t deadline_ms = ttl_ms > 0 ? ft_now_ms() + ttl_ms : 0;
	ft_dispatch_submit_to(l->table, ft_meta_u64(f, "req", 0), w, prefer_worker, deadline_ms);
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
		ft_dispatch_ack(l->table, ft_meta_u64(f, "req", 0));
	else if (f->type == FT_FRAME_CANCEL)
		ft_dispatch_cancel(l->table, ft_meta_u64(f, "req", 0));
}

void ft_leader_gateway_closed(struct ft_leader *l, struct ft_conn *c)
{
	if (l->gw == c) {
		l->gw_heard_ms = ft_conn_last_heard_ms(c);
		l->gw = NULL;
	}
}

/* ---- membership ---- */

void ft_leader_member_event(struct ft_leader *l, const struct ft_member_event_info *ev)
{
	struct wlink *k = link_by_id(l, ev->peer);
	if (ev->type == FT_EV_SELF_REJOIN || !k)
		return;
	switch (ev->type) {
	case FT_EV_FAILED:
		/* No new work for it, at once; what it held goes elsewhere.  Its
		 * connection belongs to the failed life and is never trusted again. */
		if (k->c)
			ft_conn_close(k->c, "worker declared failed by gossip");
		ft_dispatch_worker_failed(l->table, k->id, "declared failed");
		break;
	case FT_EV_JOINED:
	case FT_EV_REJOINED:
		ft_dispatch_set_alive(l->table, k->id, true);
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
	int *ids = ft_xcalloc(l->n_links ? l->n_links : 1, sizeof(*ids));
	for (size_t i = 0; i < l->n_links; i++)
		ids[i] = n->cfg.nodes[i].id;
	const struct ft_dispatch_conf dc = {
		.self_id = n->self->id,
		.worker_ids = ids,
		.n_workers = l->n_links,
		.limits = &n->cfg.limits,
	};
	/* The loop's clock, which the collect timer runs on too. */
	uint64_t now_us = 0;
	sd_event_now(n->ev, CLOCK_MONOTONIC, &now_us);
	l->table = ft_dispatch_new(&dc, &table_ops, l, (int64_t)(now_us / 1000));
	free(ids);
	const struct ft_membership *tab = ft_gossip_table(n->gossip);
	for (size_t i = 0; i < l->n_links; i++) {
		struct wlink *k = &l->links[i];
		k->l = l;
		k->id = n->cfg.nodes[i].id;
		bool alive = ft_membership_alive(tab, k->id);
		ft_dispatch_set_alive(l->table, k->id, alive);
		if (alive)
			link_connect(k);
	}
	sd_event_add_time(n->ev, &l->tick_timer, CLOCK_MONOTONIC,
			  (uint64_t)ft_dispatch_collect_deadline(l->table) * 1000, 10000, tick_cb,
			  l);
	/* The lease counts from the start: a new leader has its links up long
	 * before it runs out. */
	sd_event_add_time_relative(n->ev, &l->lease_timer, CLOCK_MONOTONIC, 100 * 1000, 10000,
				   lease_cb, l);
	sd_event_source_set_enabled(l->lease_timer, SD_EVENT_ON);
	return l;
}

void ft_leader_hold(struct ft_leader *l, bool held)
{
	ft_dispatch_hold(l->table, held);
}

void ft_leader_free(struct ft_leader *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n_links; i++)
		link_drop(&l->links[i]);
	if (l->gw)
		ft_conn_close(l->gw, "leader stopping");
	sd_event_source_disable_unref(l->tick_timer);
	sd_event_source_disable_unref(l->lease_timer);
	ft_dispatch_free(l->table);
	free(l->links);
	free(l);
}

size_t ft_leader_in_flight(const struct ft_leader *l)
{
	return ft_dispatch_count(l->table);
}

uint64_t ft_leader_epoch(const struct ft_leader *l)
{
	return l->epoch;
}
