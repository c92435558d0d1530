/* ftgw: the gateway.  Serves users over HTTP, assigns request IDs, keeps
 * every unanswered request, and forwards them to the leader ZooKeeper names;
 * when the leader changes it re-sends what is unanswered to the new one. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conf/config.h"
#include "lib/conn.h"
#include "lib/httpd.h"
#include "lib/log.h"
#include "gossip/hblog.h"
#include "lib/metrics.h"
#include "gossip/gossip_metrics.h"
#include "conf/reload.h"
#include "lib/sdnotify.h"
#include "lib/util.h"
#include "election/election.h"
#include "gateway/cache.h"
#include "job/verdict.h"
#include "gateway/gateway.h"
#include "gateway/pending.h"
#include "gossip/gossip.h"
#include "job/javasrc.h"

#ifndef FT_SYSCONFDIR
#define FT_SYSCONFDIR "/etc"
#endif
#define DEFAULT_CONFIG FT_SYSCONFDIR "/ftcluster/ftcluster.yaml"
#define RECONNECT_MS 50
#define RECONNECT_MAX_MS 1000
#define SWEEP_MS 250

enum { EXIT_OK = 0, EXIT_CONFIG = 2, EXIT_USAGE = 64, EXIT_SETUP = 71 };

struct gw {
	sd_event *ev;
	struct ft_config cfg;
	struct ft_conn_limits conn_limits;
	struct ft_httpd *httpd;
	struct ft_gossip *gossip;
	struct ft_election *election;
	struct ft_cache *cache;
	struct ft_cache *idem; /* Idempotency-Key -> answer */
	struct ft_pending pending;
	uint64_t next_id;
	/* link to the leader */
	struct ft_conn *link;
	int link_leader;
	uint64_t link_epoch;
	bool link_ready; /* leader's HELLO arrived */
	uint64_t max_epoch;
	sd_event_source *retry;
	int retry_ms; /* grows while the named leader does not answer */
	sd_event_source *sweep;
	const char *role;
	uint64_t answered, late_ignored;
};

static struct gw G;

static void usage(FILE *to)
{
	fprintf(to,
		"Usage: ftgw [--config FILE] [--check-config]\n"
		"\n"
		"The ftcluster gateway: accepts Java programs over HTTP (POST /compileandrun),\n"
		"forwards them to the cluster leader and answers with their result;\n"
		"GET /cluster shows the cluster; /v1/... is the JSON API (docs/openapi.yaml),\n"
		"/metrics the Prometheus metrics and / a live dashboard.\n"
		"\n"
		"  -c, --config FILE   cluster configuration (default " DEFAULT_CONFIG ")\n"
		"      --check-config  validate the configuration, then exit\n"
		"  -h, --help          show this help\n"
		"  -V, --version       show the version\n");
}

/* ---- answering clients ---- */

static void respond_text(struct ft_http_req *r, unsigned status, const char *msg)
{
	ft_http_add_header(r, "Cached-Response", "false");
	ft_http_respond(r, status, "text/plain; charset=utf-8", msg, strlen(msg));
}

static void answer(struct ft_http_req *r, unsigned status, const char *body, size_t len,
		   bool cached, uint64_t id, const char *verdict)
{
	char idbuf[32];
	ft_http_add_header(r, "Cached-Response", cached ? "true" : "false");
	if (id) {
		snprintf(idbuf, sizeof(idbuf), "%" PRIu64, id);
		ft_http_add_header(r, "X-Request-Id", idbuf);
	}
	if (verdict)
		ft_http_add_header(r, "X-Verdict", verdict);
	ft_http_respond(r, status, "text/plain; charset=utf-8", body, len);
}

void gw_forget(uint64_t id, void *ud)
{
	struct ft_pending_req *p = ft_pending_find(&G.pending, id);
	if (p)
		ft_pending_remove_waiter(p, ud);
}

const struct ft_config *gw_config(void)
{
	return &G.cfg;
}

/* Deliver one outcome to every waiter of p, then drop p. */
static void finish(struct ft_pending_req *p, const struct gw_result *res)
{
	gw_metrics_answered(res, ft_now_ms() - p->created_ms);
	for (size_t i = 0; i < p->n_waiters; i++)
		((gw_done_fn)p->waiters[i].fn)(p->waiters[i].ud, res);
	ft_pending_remove(&G.pending, p);
}

/* ---- answers kept: the response cache and Idempotency-Key replays ---- */

/* A cache key: a kind byte first, so that no plain source can ever look
 * like a JSON API run (source + job) and share its answer. */
static void cache_key(struct ft_buf *k, const char *src, size_t len, const char *job)
{
	ft_buf_append(k, job ? "J" : "P", 1);
	ft_buf_append(k, src, len);
	if (job) {
		ft_buf_append(k, "", 1);
		ft_buf_append(k, job, strlen(job));
	}
}

/* Splits a result blob into the body and the captured output the meta
 * announces (stdout_bytes, stderr_bytes); without them it is all body. */
static void split_blob(struct gw_result *res, const char *blob, size_t len)
{
	int64_t no = -1, ne = -1;
	struct json_object *v;
	if (res->meta && json_object_object_get_ex(res->meta, "stdout_bytes", &v))
		no = json_object_get_int64(v);
	if (res->meta && json_object_object_get_ex(res->meta, "stderr_bytes", &v))
		ne = json_object_get_int64(v);
	res->body = blob;
	res->len = len;
	if (no < 0 || ne < 0 || (uint64_t)no > len || (uint64_t)ne > len - (uint64_t)no)
		return;
	res->len = len - (size_t)no - (size_t)ne;
	res->out = blob + res->len;
	res->out_len = (size_t)no;
	res->err = res->out + no;
	res->err_len = (size_t)ne;
}

/* Stored: u32 meta length, the meta as JSON text, the result blob. */
static void keep_answer(struct ft_cache *c, const void *key, size_t klen, unsigned status,
			struct json_object *meta, const char *blob, size_t len)
{
	const char *mt = meta ? json_object_to_json_string_ext(meta, JSON_C_TO_STRING_PLAIN) : "";
	size_t ml = strlen(mt);
	struct ft_buf v = { 0 };
	unsigned char hdr[4] = { (unsigned char)(ml >> 24), (unsigned char)(ml >> 16),
				 (unsigned char)(ml >> 8), (unsigned char)ml };
	ft_buf_append(&v, hdr, 4);
	ft_buf_append(&v, mt, ml);
	ft_buf_append(&v, blob, len);
	ft_cache_put(c, key, klen, (int)status, v.data, v.len);
	ft_buf_free(&v);
}

/* A kept answer as a result; the caller puts res->meta. */
static bool kept_answer(struct ft_cache *c, const void *key, size_t klen, struct gw_result *res)
{
	int status;
	const char *v;
	size_t vlen;
	if (!ft_cache_get(c, key, klen, &status, &v, &vlen) || vlen < 4)
		return false;
	const unsigned char *u = (const unsigned char *)v;
	size_t ml = (size_t)u[0] << 24 | (size_t)u[1] << 16 | (size_t)u[2] << 8 | u[3];
	if (ml > vlen - 4)
		return false;
	memset(res, 0, sizeof(*res));
	res->status = (unsigned)status;
	res->cached = true;
	/* The meta text is followed by the blob, not a NUL: parse it by length. */
	if (ml) {
		struct json_tokener *tok = json_tokener_new();
		res->meta = json_tokener_parse_ex(tok, v + 4, (int)ml);
		json_tokener_free(tok);
	}
	struct json_object *vd;
	if (res->meta && json_object_object_get_ex(res->meta, "verdict", &vd))
		res->verdict = json_object_get_string(vd);
	split_blob(res, v + 4 + ml, vlen - 4 - ml);
	return true;
}

/* ---- the leader link ---- */

static void send_submit(struct ft_pending_req *p)
{
	struct json_object *m = json_object_new_object();
	json_object_object_add(m, "req", json_object_new_uint64(p->id));
	if (p->job)
		json_object_object_add(m, "job", json_tokener_parse(p->job));
	ft_conn_send(G.link, FT_FRAME_SUBMIT, m, p->body, p->len);
	json_object_put(m);
}

static void send_ack(uint64_t id)
{
	struct json_object *m = json_object_new_object();
	json_object_object_add(m, "req", json_object_new_uint64(id));
	ft_conn_send(G.link, FT_FRAME_ACK, m, NULL, 0);
	json_object_put(m);
}

static void on_result(const struct ft_frame *f)
{
	uint64_t id = ft_meta_u64(f, "req", 0);
	uint64_t epoch = ft_meta_u64(f, "epoch", 0);
	if (epoch < G.max_epoch) {
		/* From a deposed leader: its requests go to the new one. */
		G.late_ignored++;
		ft_log_request(LOG_WARNING, id, "stale",
			       "ignoring result for request %" PRIu64 " from epoch %" PRIu64
			       " (current %" PRIu64 ")",
			       id, epoch, G.max_epoch);
		return;
	}
	send_ack(id);
	struct ft_pending_req *p = ft_pending_find(&G.pending, id);
	if (!p)
		return; /* already answered: the first answer won */
	const char *verdict = ft_meta_str(f, "verdict", "internal_error");
	enum ft_verdict v = ft_verdict_from_name(verdict);
	unsigned status = ft_verdict_http_status(v);
	const char *blob = (const char *)f->blob;
	/* Attempts under earlier leaders count too (see FT_FRAME_STARTED). */
	if (f->meta && ft_meta_int(f, "attempts", 0) < p->attempts)
		json_object_object_add(f->meta, "attempts", json_object_new_int(p->attempts));
	if (ft_verdict_cacheable(v)) {
		struct ft_buf k = { 0 };
		cache_key(&k, p->body, p->len, p->job);
		keep_answer(G.cache, k.data, k.len, status, f->meta, blob, f->blob_len);
		ft_buf_free(&k);
	}
	/* A retry with the key must be able to run it, not get the 503 again. */
	if (p->idem_key && status != 503)
		keep_answer(G.idem, p->idem_key, strlen(p->idem_key), status, f->meta, blob,
			    f->blob_len);
	struct gw_result res = {
		.id = id,
		.status = status,
		.verdict = verdict,
		.meta = f->meta,
	};
	split_blob(&res, blob, f->blob_len);
	ft_log_request(LOG_INFO, id, "answered",
		       "request %" PRIu64 " answered: %s by worker %d in %" PRId64 " ms", id,
		       verdict, (int)ft_meta_int(f, "worker", -1), ft_now_ms() - p->created_ms);
	G.answered++;
	finish(p, &res);
}

static void link_frame(struct ft_conn *c, const struct ft_frame *f, void *ud)
{
	switch (f->type) {
	case FT_FRAME_HELLO: {
		uint64_t epoch = ft_meta_u64(f, "epoch", 0);
		if (epoch < G.max_epoch) {
			ft_conn_close(c, "leader of a stale epoch");
			return;
		}
		G.max_epoch = epoch;
		G.link_epoch = epoch;
		G.link_ready = true;
		G.retry_ms = 0;
		ft_log_election(LOG_NOTICE, epoch, G.link_leader,
				"connected to leader %d (epoch %" PRIu64
				"); re-sending %zu unanswered request(s)",
				G.link_leader, epoch, G.pending.count);
		for (struct ft_pending_req *p = G.pending.head; p; p = p->next)
			send_submit(p);
		break;
	}
	case FT_FRAME_RESULT:
		if (G.link_ready)
			on_result(f);
		break;
	case FT_FRAME_STARTED: {
		struct ft_pending_req *p = ft_pending_find(&G.pending, ft_meta_u64(f, "req", 0));
		if (G.link_ready && p) {
			p->worker = (int)ft_meta_int(f, "worker", -1);
			/* A new leader that found it running on a worker never
			 * assigned it: the count so far is the gateway's. */
			int attempt = (int)ft_meta_int(f, "attempt", 0);
			if (attempt > p->attempts)
				p->attempts = attempt;
		}
		break;
	}
	case FT_FRAME_REJECT:
		ft_log_warn("leader %d refused the gateway: %s", G.link_leader,
			    ft_meta_str(f, "reason", "?"));
		ft_conn_close(c, "refused");
		break;
	default:
		break;
	}
}

static void link_connected(struct ft_conn *c, void *ud)
{
	struct json_object *m = json_object_new_object();
	json_object_object_add(m, "role", json_object_new_string("gateway"));
	json_object_object_add(m, "id", json_object_new_int(FT_GATEWAY_ID));
	ft_conn_send(c, FT_FRAME_HELLO, m, NULL, 0);
	json_object_put(m);
}

static void connect_leader(void);

static int retry_cb(sd_event_source *s, uint64_t usec, void *ud)
{
	G.retry = sd_event_source_disable_unref(G.retry);
	connect_leader();
	return 0;
}

static void link_closed(struct ft_conn *c, const char *why, void *ud)
{
	if (c != G.link)
		return;
	G.link = NULL;
	G.link_ready = false;
	/* A leader that died keeps its znode until its session expires: back
	 * off meanwhile.  A new leader is reached at once through the
	 * election change, not through this timer. */
	G.retry_ms = G.retry_ms ? G.retry_ms * 2 : RECONNECT_MS;
	if (G.retry_ms > RECONNECT_MAX_MS)
		G.retry_ms = RECONNECT_MAX_MS;
	if (G.retry_ms == RECONNECT_MS)
		ft_log_info("link to leader %d closed: %s", G.link_leader, why);
	if (!G.retry)
		sd_event_add_time_relative(G.ev, &G.retry, CLOCK_MONOTONIC,
					   (uint64_t)G.retry_ms * 1000, 10000, retry_cb, NULL);
}

static const struct ft_conn_ops link_ops = {
	.on_frame = link_frame,
	.on_connected = link_connected,
	.on_close = link_closed,
};

/* Make the link point at the leader ZooKeeper names now. */
static void connect_leader(void)
{
	int leader = ft_election_leader(G.election);
	uint64_t epoch = ft_election_epoch(G.election);
	if (epoch > G.max_epoch)
		G.max_epoch = epoch;
	if (G.link && (G.link_leader != leader || (G.link_ready && G.link_epoch < epoch))) {
		struct ft_conn *old = G.link;
		G.link = NULL;
		G.link_ready = false;
		ft_conn_close(old, "leader changed");
	}
	if (G.link || leader < 0)
		return;
	if (leader != G.link_leader)
		G.retry_ms = 0;
	const struct ft_node_conf *nc = ft_config_node(&G.cfg, leader);
	if (!nc) {
		ft_log_err("leader %d is not in %s", leader, G.cfg.path);
		return;
	}
	G.link_leader = leader;
	G.link = ft_conn_connect(G.ev, &nc->work.sa, &G.conn_limits, &link_ops, NULL);
}

static void set_role(const char *role)
{
	if (strcmp(G.role, role) == 0)
		return;
	ft_hb_switch(G.role, role);
	G.role = role;
}

static void on_election_change(void *ud)
{
	static bool ready;
	if (!ready && ft_election_connected(G.election)) {
		/* Serving HTTP since start; now it also knows the membership. */
		ready = true;
		ft_sd_ready();
	}
	ft_metrics_election(ft_election_leader(G.election), ft_election_epoch(G.election));
	set_role(ft_election_connected(G.election) ? "OBSERVER" : "LOOKING");
	connect_leader();
	ft_sd_status("leader %d, epoch %" PRIu64 "; %zu request(s) pending; %" PRIu64 " answered",
		     ft_election_leader(G.election), ft_election_epoch(G.election), G.pending.count,
		     G.answered);
}

/* ---- deadlines ---- */

static int sweep_cb(sd_event_source *s, uint64_t usec, void *ud)
{
	int64_t now = ft_now_ms();
	for (struct ft_pending_req *p = G.pending.head, *next; p; p = next) {
		next = p->next;
		if (now < p->deadline_ms)
			continue;
		char msg[256];
		snprintf(msg, sizeof(msg),
			 "No answer within the request timeout (%d ms): the cluster has no leader "
			 "or is overloaded; try again later\n",
			 G.cfg.limits.request_timeout_ms);
		struct gw_result res = {
			.id = p->id,
			.status = 503,
			.verdict = ft_verdict_name(FT_VERDICT_TIMEOUT),
			.body = msg,
			.len = strlen(msg),
		};
		ft_log_request(LOG_WARNING, p->id, "timeout",
			       "request %" PRIu64 " timed out after %d ms", p->id,
			       G.cfg.limits.request_timeout_ms);
		finish(p, &res);
	}
	sd_event_source_set_time(s, usec + SWEEP_MS * 1000);
	return 0;
}

/* ---- HTTP ---- */

/* ---- the core: submit, answer from cache, hold until answered ---- */

static void answer_now(gw_done_fn fn, void *ud, struct gw_result *res)
{
	gw_metrics_answered(res, 0);
	fn(ud, res);
}

enum gw_submit_status gw_submit(const struct gw_submission *s, const char *idem_key, gw_done_fn fn,
				void *ud, uint64_t *id_out)
{
	const char *src = s->src, *job_text = s->job;
	size_t len = s->len;
	struct gw_result kept;
	*id_out = 0;
	if (idem_key && kept_answer(G.idem, idem_key, strlen(idem_key), &kept)) {
		answer_now(fn, ud, &kept);
		json_object_put(kept.meta);
		return GW_ANSWERED;
	}
	struct ft_buf k = { 0 };
	cache_key(&k, src, len, job_text);
	bool hit = kept_answer(G.cache, k.data, k.len, &kept);
	ft_buf_free(&k);
	gw_metrics_cache_lookup(hit);
	if (hit) {
		answer_now(fn, ud, &kept);
		json_object_put(kept.meta);
		return GW_ANSWERED;
	}
	char cls[256], simple[256];
	if (ft_java_class_name(src, s->main_len, cls, sizeof(cls), simple, sizeof(simple)) < 0) {
		/* Decided here: the same source never has a class name. */
		static const char msg[] = FT_NO_CLASS_NAME;
		struct gw_result res = {
			.status = 400,
			.verdict = ft_verdict_name(FT_VERDICT_COMPILE_ERROR),
			.body = msg,
			.len = sizeof(msg) - 1,
		};
		answer_now(fn, ud, &res);
		return GW_ANSWERED;
	}
	struct ft_pending_req *p = idem_key ? ft_pending_find_key(&G.pending, idem_key) : NULL;
	if (!p) {
		if (G.pending.count >= (size_t)G.cfg.limits.max_pending_requests) {
			gw_metrics_overloaded();
			return GW_OVERLOADED;
		}
		int64_t now = ft_now_ms();
		p = ft_pending_add(&G.pending, G.next_id++, src, len, job_text, idem_key, now,
				   now + G.cfg.limits.request_timeout_ms);
		ft_log_request(LOG_INFO, p->id, "accepted",
			       "request %" PRIu64 " accepted (%zu bytes, class %s)", p->id, len,
			       cls);
		if (G.link_ready)
			send_submit(p);
	}
	ft_pending_add_waiter(p, (ft_pending_fn)fn, ud);
	*id_out = p->id;
	return GW_SUBMITTED;
}

struct json_object *gw_in_flight_by_worker(size_t *queued)
{
	struct json_object *o = json_object_new_object();
	*queued = 0;
	for (const struct ft_pending_req *p = G.pending.head; p; p = p->next) {
		if (p->worker < 0) {
			(*queued)++;
			continue;
		}
		char key[16];
		snprintf(key, sizeof(key), "%d", p->worker);
		struct json_object *n;
		int have = json_object_object_get_ex(o, key, &n) ? json_object_get_int(n) : 0;
		json_object_object_add(o, key, json_object_new_int(have + 1));
	}
	return o;
}

bool gw_request_progress(uint64_t id, int *worker, int *attempts)
{
	const struct ft_pending_req *p = ft_pending_find(&G.pending, id);
	if (!p)
		return false;
	*worker = p->worker;
	*attempts = p->attempts;
	return true;
}

/* ---- the plain API: POST /compileandrun ---- */

static void plain_done(void *ud, const struct gw_result *res)
{
	struct ft_http_req *r = ud;
	/* What the worker measured, for people and scripts (-1: unknown). */
	static const char *const measured[][2] = {
		{ "exit", "X-Exit-Code" },
		{ "run_ms", "X-Time-Ms" },
		{ "wall_ms", "X-Wall-Time-Ms" },
		{ "cpu_ms", "X-Cpu-Time-Ms" },
		{ "memory_bytes", "X-Memory-Bytes" },
	};
	for (size_t i = 0; res->meta && i < FT_ARRAY_SIZE(measured); i++) {
		struct json_object *v;
		char num[24];
		if (!json_object_object_get_ex(res->meta, measured[i][0], &v))
			continue;
		snprintf(num, sizeof(num), "%" PRId64, json_object_get_int64(v));
		ft_http_add_header(r, measured[i][1], num);
	}
	struct json_object *cc;
	if (res->meta && json_object_object_get_ex(res->meta, "compile_cached", &cc))
		ft_http_add_header(r, "X-Compile-Cached",
				   json_object_get_boolean(cc) ? "true" : "false");
	if (res->status == 503)
		ft_http_add_header(r, "Retry-After", "1");
	answer(r, res->status, res->body, res->len, res->cached, res->id, res->verdict);
}

static void plain_abandon(void *ud, struct ft_http_req *r)
{
	for (struct ft_pending_req *p = G.pending.head; p; p = p->next)
		if (ft_pending_remove_waiter(p, r))
			return;
}

static void compile_and_run(struct ft_http_req *r)
{
	if (strcmp(ft_http_method(r), "POST") != 0) {
		ft_http_add_header(r, "Allow", "POST");
		respond_text(r, 405, "Method not allowed: use POST with the Java source as body\n");
		return;
	}
	if (ft_http_body_too_big(r)) {
		char msg[160];
		snprintf(msg, sizeof(msg),
			 "Request body too large: the limit is %zu bytes (limits.max_body_bytes)\n",
			 G.cfg.limits.max_body_bytes);
		respond_text(r, 413, msg);
		return;
	}
	if (!ft_http_content_type_is(r, "text/x-java-source")) {
		respond_text(r, 400, "Content-Type must be text/x-java-source\n");
		return;
	}
	size_t len;
	const char *body = ft_http_body(r, &len);
	if (len == 0) {
		respond_text(r, 400, "Empty body: send the Java source as the request body\n");
		return;
	}
	uint64_t id = 0;
	struct gw_submission s = { .src = body, .len = len, .main_len = len };
	switch (gw_submit(&s, ft_http_header(r, "Idempotency-Key"), plain_done, r, &id)) {
	case GW_SUBMITTED:
		ft_http_set_abandon(r, plain_abandon, NULL);
		break;
	case GW_ANSWERED:
		break;
	case GW_OVERLOADED:
		ft_http_add_header(r, "Retry-After", "1");
		respond_text(r, 503,
			     "Too many requests in progress (limits.max_pending_requests); "
			     "try again later\n");
		break;
	}
}

static const char *role_of(int id, int leader)
{
	if (id == FT_GATEWAY_ID)
		return "OBSERVER";
	return id == leader ? "LEADER" : "FOLLOWER";
}

/* A node is listed unless gossip knows it failed; ZooKeeper registration
 * or a gossip heartbeat makes it known. */
static bool listed(int id, const int *zk, size_t n_zk, const struct ft_member **mem)
{
	*mem = ft_membership_get(ft_gossip_table(G.gossip), id);
	if (*mem && (*mem)->state == FT_MEMBER_FAILED)
		return false;
	if (*mem)
		return true;
	for (size_t i = 0; i < n_zk; i++)
		if (zk[i] == id)
			return true;
	return false;
}

struct json_object *gw_cluster_view(int *leader_out)
{
	int leader = ft_election_leader(G.election);
	*leader_out = leader;
	int zk[FT_MAX_NODES];
	size_t n_zk = ft_election_members(G.election, zk, FT_MAX_NODES);
	struct json_object *root = json_object_new_object();
	json_object_object_add(root, "cluster", json_object_new_string(G.cfg.cluster));
	json_object_object_add(root, "leader", leader >= 0 ? json_object_new_int(leader) : NULL);
	json_object_object_add(root, "epoch",
			       json_object_new_uint64(ft_election_epoch(G.election)));
	json_object_object_add(root, "zookeeper_connected",
			       json_object_new_boolean(ft_election_connected(G.election)));
	struct json_object *nodes = json_object_new_array(), *failed = json_object_new_array();
	int64_t now = ft_now_ms();
	const struct ft_membership *tab = ft_gossip_table(G.gossip);
	for (size_t i = 0; i <= G.cfg.n_nodes; i++) {
		int id = i == 0 ? FT_GATEWAY_ID : G.cfg.nodes[i - 1].id;
		const struct ft_member *m = NULL;
		struct json_object *o = json_object_new_object();
		json_object_object_add(o, "id", json_object_new_int(id));
		bool show = id == FT_GATEWAY_ID || listed(id, zk, n_zk, &m);
		if (id == FT_GATEWAY_ID)
			m = ft_membership_get(tab, id);
		if (m) {
			json_object_object_add(o, "incarnation",
					       json_object_new_uint64(m->incarnation));
			json_object_object_add(o, "heartbeat",
					       json_object_new_uint64(m->heartbeat));
			json_object_object_add(
				o, "age_ms",
				json_object_new_int64(id == FT_GATEWAY_ID ? 0
									  : now - m->last_rise_ms));
		}
		if (!show) {
			if (m && m->state == FT_MEMBER_FAILED) {
				json_object_object_add(o, "state",
						       json_object_new_string("failed"));
				json_object_array_add(failed, o);
			} else {
				json_object_put(o);
			}
			continue;
		}
		json_object_object_add(o, "role", json_object_new_string(role_of(id, leader)));
		json_object_object_add(o, "state", json_object_new_string("alive"));
		if (id == FT_GATEWAY_ID) {
			json_object_object_add(o, "address",
					       json_object_new_string(G.cfg.gw_http.text));
		} else {
			const struct ft_node_conf *nc = &G.cfg.nodes[i - 1];
			char url[160];
			json_object_object_add(o, "address", json_object_new_string(nc->work.text));
			json_object_object_add(o, "gossip",
					       json_object_new_string(nc->gossip.text));
			json_object_object_add(o, "http", json_object_new_string(nc->http.text));
			struct json_object *logs = json_object_new_object();
			snprintf(url, sizeof(url), "http://%s/log/summary", nc->http.text);
			json_object_object_add(logs, "summary", json_object_new_string(url));
			snprintf(url, sizeof(url), "http://%s/log/verbose", nc->http.text);
			json_object_object_add(logs, "verbose", json_object_new_string(url));
			json_object_object_add(o, "logs", logs);
		}
		json_object_array_add(nodes, o);
	}
	json_object_object_add(root, "nodes", nodes);
	json_object_object_add(root, "failed", failed);
	return root;
}

static void cluster_text(struct ft_buf *b, int leader)
{
	int zk[FT_MAX_NODES];
	size_t n_zk = ft_election_members(G.election, zk, FT_MAX_NODES);
	if (leader < 0)
		ft_buf_printf(b, "NO LEADER\n");
	else
		ft_buf_printf(b, "leader %d epoch %" PRIu64 "\n", leader,
			      ft_election_epoch(G.election));
	for (size_t i = G.cfg.n_nodes; i > 0; i--) {
		const struct ft_member *m;
		int id = G.cfg.nodes[i - 1].id;
		if (listed(id, zk, n_zk, &m))
			ft_buf_printf(b, "%d %s\n", id, role_of(id, leader));
	}
	ft_buf_printf(b, "%d %s\n", FT_GATEWAY_ID, role_of(FT_GATEWAY_ID, leader));
}

static void cluster_status(struct ft_http_req *r)
{
	if (strcmp(ft_http_method(r), "GET") != 0) {
		ft_http_add_header(r, "Allow", "GET");
		respond_text(r, 405, "Method not allowed: use GET\n");
		return;
	}
	int leader = ft_election_leader(G.election);
	const char *accept = ft_http_header(r, "Accept");
	bool json = accept && strstr(accept, "application/json");
	struct ft_buf b = { 0 };
	if (json) {
		struct json_object *view = gw_cluster_view(&leader);
		ft_buf_printf(&b, "%s\n",
			      json_object_to_json_string_ext(view, JSON_C_TO_STRING_PRETTY));
		json_object_put(view);
	} else
		cluster_text(&b, leader);
	ft_http_add_header(r, "Cached-Response", "false");
	ft_http_respond(r, leader >= 0 ? 200 : 503,
			json ? "application/json" : "text/plain; charset=utf-8", b.data, b.len);
	ft_buf_free(&b);
}

static void http_handler(void *ud, struct ft_http_req *r)
{
	const char *path = ft_http_path(r);
	if (strcmp(path, "/compileandrun") == 0)
		compile_and_run(r);
	else if (strcmp(path, "/cluster") == 0)
		cluster_status(r);
	else if (gw_api_v1_route(r) || gw_dashboard_route(r) || gw_metrics_route(r))
		return;
	else
		respond_text(r, 404, "Not found: try POST /compileandrun or GET /cluster\n");
}

/* ---- life cycle ---- */

static double pending_count(void *ud)
{
	return (double)G.pending.count;
}

/* Gossip ticks on the loop, and the ZooKeeper client's threads answer. */
static bool healthy(void *ud)
{
	return ft_gossip_ticking(G.gossip, G.cfg.gossip.interval_ms) &&
	       ft_election_responsive(G.election);
}

static int on_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *ud)
{
	ft_log_notice("received signal %u, shutting down", si->ssi_signo);
	ft_sd_stopping();
	sd_event_exit(G.ev, 0);
	return 0;
}

static int run(void)
{
	char dir[FT_PATH_MAX + 16];
	snprintf(dir, sizeof(dir), "%s/gateway", G.cfg.log_dir);
	if (ft_log_open("ftgw", FT_GATEWAY_ID, dir, G.cfg.limits.log_file_max_bytes) < 0)
		return EXIT_SETUP;
	ft_log_set_level(ft_log_level_from_name(G.cfg.log_level));
	ft_log_set_rejected_rate(G.cfg.log_rejected_per_second);
	sigset_t ss;
	sigemptyset(&ss);
	sigaddset(&ss, SIGTERM);
	sigaddset(&ss, SIGINT);
	sigaddset(&ss, SIGHUP);
	sigprocmask(SIG_BLOCK, &ss, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (sd_event_default(&G.ev) < 0)
		return EXIT_SETUP;
	sd_event_add_signal(G.ev, NULL, SIGTERM, on_signal, NULL);
	sd_event_add_signal(G.ev, NULL, SIGINT, on_signal, NULL);
	sd_event_add_signal(G.ev, NULL, SIGHUP, ft_reload_on_sighup, &G.cfg);
	G.conn_limits.max_frame_bytes = G.cfg.limits.max_frame_bytes;
	G.conn_limits.max_out_bytes = 64 * G.cfg.limits.max_frame_bytes;
	G.role = "LOOKING";
	G.next_id = (uint64_t)ft_wall_ms() * 1000;
	G.cache = ft_cache_new((size_t)G.cfg.limits.cache_entries, G.cfg.limits.cache_bytes);
	G.idem = ft_cache_new((size_t)G.cfg.limits.cache_entries, G.cfg.limits.cache_bytes);

	struct ft_httpd_conf hc = {
		.addr = G.cfg.gw_http.sa,
		.max_body_bytes = G.cfg.limits.max_body_bytes,
		.max_connections = (unsigned)G.cfg.limits.max_connections,
		.connection_timeout_s = (unsigned)G.cfg.limits.connection_timeout_s,
	};
	G.httpd = ft_httpd_new(G.ev, &hc, http_handler, NULL);
	if (!G.httpd) {
		ft_log_err("cannot serve HTTP on %s: %s", G.cfg.gw_http.text, strerror(errno));
		return EXIT_SETUP;
	}
	G.gossip = ft_gossip_new(G.ev, &G.cfg, FT_GATEWAY_ID, ft_metrics_on_member_event, NULL);
	if (!G.gossip)
		return EXIT_SETUP;
	ft_metrics_init("ftgw", FT_GATEWAY_ID, G.gossip);
	gw_api_v1_init(); /* its metrics exist from the first scrape on */
	ft_metrics_gauge_fn("ftgw_pending_requests",
			    "Requests the gateway accepted and has not answered yet", pending_count,
			    NULL);
	G.election = ft_election_new(G.ev, &G.cfg, FT_GATEWAY_ID, on_election_change, NULL);
	if (!G.election)
		return EXIT_SETUP;
	uint64_t now;
	sd_event_now(G.ev, CLOCK_MONOTONIC, &now);
	sd_event_add_time(G.ev, &G.sweep, CLOCK_MONOTONIC, now + SWEEP_MS * 1000, 50000, sweep_cb,
			  NULL);
	ft_sd_watchdog_start(G.ev, healthy, NULL);
	ft_log_notice("gateway up: http %s, gossip %s, zookeeper %s", G.cfg.gw_http.text,
		      G.cfg.gw_gossip.text, G.cfg.zk_connect);
	int r = sd_event_loop(G.ev);

	ft_election_free(G.election);
	ft_gossip_free(G.gossip);
	ft_httpd_free(G.httpd);
	ft_pending_clear(&G.pending);
	ft_cache_free(G.cache);
	ft_cache_free(G.idem);
	sd_event_source_disable_unref(G.sweep);
	sd_event_source_disable_unref(G.retry);
	sd_event_unref(G.ev);
	ft_metrics_shutdown();
	ft_log_close();
	return r < 0 ? EXIT_SETUP : EXIT_OK;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check-config", no_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	const char *config = DEFAULT_CONFIG;
	bool check = false;
	int o;
	while ((o = getopt_long(argc, argv, "c:hV", opts, NULL)) != -1) {
		switch (o) {
		case 'c':
			config = optarg;
			break;
		case 'C':
			check = true;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		case 'V':
			printf("ftgw %s\n", PACKAGE_VERSION);
			return EXIT_OK;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	char err[512];
	if (ft_config_load(config, &G.cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "ftgw: %s\n", err);
		return EXIT_CONFIG;
	}
	if (check) {
		printf("%s: configuration OK (%zu nodes)\n", config, G.cfg.n_nodes);
		return EXIT_OK;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	return run();
}
