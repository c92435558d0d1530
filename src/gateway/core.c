#include "gateway/core.h"

#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/cache.h"
#include "gateway/pending.h"
#include "job/javasrc.h"
#include "job/verdict.h"
#include "lib/bytes.h"
#include "lib/log.h"
#include "lib/util.h"

struct gw_core {
	const struct ft_limits *lim;
	struct gw_link_ops link;
	void *link_ud;
	struct gw_core_hooks hooks;
	void *hooks_ud;
	struct ft_cache *cache;
	struct ft_cache *idem; /* Idempotency-Key -> answer */
	struct ft_pending pending;
	uint64_t next_id;
	uint64_t (*new_id)(void *ud);
	void *new_id_ud;
	bool link_up; /* the leader's HELLO arrived */
	uint64_t link_epoch;
	uint64_t max_epoch;
	uint64_t answered, fenced, abandoned;
};

struct gw_core *gw_core_new(const struct gw_core_conf *conf)
{
	struct gw_core *c = ft_xcalloc(1, sizeof(*c));
	c->lim = conf->limits;
	c->link = *conf->link;
	c->link_ud = conf->link_ud;
	if (conf->hooks)
		c->hooks = *conf->hooks;
	c->hooks_ud = conf->hooks_ud;
	c->next_id = conf->first_id;
	c->new_id = conf->new_id;
	c->new_id_ud = conf->new_id_ud;
	c->cache = ft_cache_new((size_t)c->lim->cache_entries, c->lim->cache_bytes);
	c->idem = ft_cache_new((size_t)c->lim->cache_entries, c->lim->cache_bytes);
	return c;
}

void gw_core_free(struct gw_core *c)
{
	if (!c)
		return;
	ft_pending_clear(&c->pending);
	ft_cache_free(c->cache);
	ft_cache_free(c->idem);
	free(c);
}

static void report_answered(struct gw_core *c, const struct gw_result *res, int64_t latency_ms)
{
	if (c->hooks.answered)
		c->hooks.answered(c->hooks_ud, res, latency_ms);
}

/* Deliver one outcome to every waiter of p, then drop p. */
static void finish(struct gw_core *c, struct ft_pending_req *p, const struct gw_result *res,
		   int64_t now_ms)
{
	report_answered(c, res, now_ms - p->created_ms);
	for (size_t i = 0; i < p->n_waiters; i++)
		((gw_done_fn)p->waiters[i].fn)(p->waiters[i].ud, res);
	ft_pending_remove(&c->pending, p);
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
/* fp: the request's fingerprint, kept first (an Idempotency-Key's
 * answer), or NULL. */
static void keep_answer(struct ft_cache *cache, const void *key, size_t klen,
			const unsigned char *fp, unsigned status, struct json_object *meta,
			const char *blob, size_t len)
{
	const char *mt = meta ? json_object_to_json_string_ext(meta, JSON_C_TO_STRING_PLAIN) : "";
	size_t ml = strlen(mt);
	struct ft_buf v = { 0 };
	if (fp)
		ft_buf_append(&v, fp, GW_FINGERPRINT_LEN);
	unsigned char hdr[4];
	ft_put_be32(hdr, (uint32_t)ml);
	ft_buf_append(&v, hdr, 4);
	ft_buf_append(&v, mt, ml);
	ft_buf_append(&v, blob, len);
	ft_cache_put(cache, key, klen, (int)status, v.data, v.len);
	ft_buf_free(&v);
}

/* A kept answer as a result; the caller puts res->meta. */
/* fp: the fingerprint an Idempotency-Key's answer must have (then
 * *other says it had another), or NULL. */
static bool kept_answer(struct ft_cache *cache, const void *key, size_t klen,
			const unsigned char *fp, bool *other, struct gw_result *res)
{
	int status;
	const char *v;
	size_t vlen;
	if (!ft_cache_get(cache, key, klen, &status, &v, &vlen))
		return false;
	if (fp) {
		if (vlen < GW_FINGERPRINT_LEN)
			return false;
		if (sodium_memcmp(v, fp, GW_FINGERPRINT_LEN) != 0) {
			*other = true;
			return false;
		}
		v += GW_FINGERPRINT_LEN;
		vlen -= GW_FINGERPRINT_LEN;
	}
	if (vlen < 4)
		return false;
	size_t ml = ft_get_be32(v);
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

/* ---- submitting ---- */

static uint64_t next_id(struct gw_core *c)
{
	if (!c->new_id)
		return c->next_id++;
	uint64_t id;
	do
		id = c->new_id(c->new_id_ud);
	while (id == 0 || ft_pending_find(&c->pending, id));
	return id;
}

static void send_submit(struct gw_core *c, const struct ft_pending_req *p, int64_t now_ms)
{
	int64_t ttl = p->deadline_ms - now_ms;
	c->link.send_submit(c->link_ud, p->id, p->job, p->body, p->len, ttl > 0 ? ttl : 1);
}

static void answer_now(struct gw_core *c, gw_done_fn fn, void *ud, struct gw_result *res)
{
	report_answered(c, res, 0);
	fn(ud, res);
}

/* Answered from what was kept under key for the request fp: true if
 * there was something (*other: something for another request). */
static bool answer_kept(struct gw_core *c, struct ft_cache *cache, const void *key, size_t klen,
			const unsigned char *fp, bool *other, gw_done_fn fn, void *ud)
{
	struct gw_result kept;
	if (!kept_answer(cache, key, klen, fp, other, &kept))
		return false;
	answer_now(c, fn, ud, &kept);
	json_object_put(kept.meta);
	return true;
}

enum gw_submit_status gw_core_submit(struct gw_core *c, int64_t now_ms,
				     const struct gw_submission *s, const char *idem_key,
				     gw_done_fn fn, void *ud, uint64_t *id_out)
{
	const char *src = s->src, *job_text = s->job;
	size_t len = s->len;
	*id_out = 0;
	if (idem_key && !*idem_key)
		idem_key = NULL; /* an empty key is no key */
	struct ft_buf k = { 0 };
	cache_key(&k, src, len, job_text);
	/* The key is bound to the whole request: the same key with another
	 * request is refused, never answered with the first one's answer. */
	unsigned char fp[GW_FINGERPRINT_LEN] = { 0 };
	if (idem_key) /* only a keyed request needs one: no SHA-256 per request */
		crypto_hash_sha256(fp, (const unsigned char *)k.data, k.len);
	bool other = false;
	if (idem_key && answer_kept(c, c->idem, idem_key, strlen(idem_key), fp, &other, fn, ud)) {
		ft_buf_free(&k);
		return GW_ANSWERED;
	}
	struct ft_pending_req *p = idem_key ? ft_pending_find_key(&c->pending, idem_key) : NULL;
	if (other || (p && memcmp(p->fp, fp, sizeof(fp)) != 0)) {
		ft_buf_free(&k);
		return GW_KEY_REUSED;
	}
	struct gw_result kept;
	bool hit = kept_answer(c->cache, k.data, k.len, NULL, NULL, &kept);
	ft_buf_free(&k);
	if (c->hooks.cache_lookup)
		c->hooks.cache_lookup(c->hooks_ud, hit);
	if (hit) {
		answer_now(c, fn, ud, &kept);
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
		answer_now(c, fn, ud, &res);
		return GW_ANSWERED;
	}
	if (!p) {
		if (!s->admitted && c->pending.count >= (size_t)c->lim->max_pending_requests) {
			if (c->hooks.overloaded)
				c->hooks.overloaded(c->hooks_ud);
			return GW_OVERLOADED;
		}
		p = ft_pending_add(&c->pending, next_id(c), src, len, job_text, idem_key, now_ms,
				   now_ms + c->lim->request_timeout_ms);
		memcpy(p->fp, fp, sizeof(fp));
		ft_log_request(LOG_DEBUG, p->id, "accepted",
			       "request %" PRIu64 " accepted (%zu bytes, class %s)", p->id, len,
			       cls);
		if (c->link_up)
			send_submit(c, p, now_ms);
	}
	ft_pending_add_waiter(p, (ft_pending_fn)fn, ud);
	*id_out = p->id;
	return GW_SUBMITTED;
}

void gw_core_forget(struct gw_core *c, void *ud)
{
	for (struct ft_pending_req *p = c->pending.head; p; p = p->next) {
		if (!ft_pending_remove_waiter(p, ud))
			continue;
		/* Nobody can ever be given this answer (no client waits, none
		 * can come back for it with a key): the cluster stops working
		 * for nobody, as overload would make it. */
		if (p->n_waiters == 0 && !p->idem_key) {
			ft_log_request(LOG_INFO, p->id, "abandoned",
				       "request %" PRIu64 " abandoned by its client: cancelled",
				       p->id);
			if (c->link_up)
				c->link.send_cancel(c->link_ud, p->id);
			c->abandoned++;
			ft_pending_remove(&c->pending, p);
		}
		return;
	}
}

uint64_t gw_core_abandoned(const struct gw_core *c)
{
	return c->abandoned;
}

bool gw_core_cancel(struct gw_core *c, int64_t now_ms, uint64_t id)
{
	struct ft_pending_req *p = ft_pending_find(&c->pending, id);
	if (!p)
		return false;
	static const char msg[] = "Cancelled:\nThe run was cancelled by its client";
	struct gw_result res = {
		.id = id,
		.status = ft_verdict_http_status(FT_VERDICT_CANCELLED),
		.verdict = ft_verdict_name(FT_VERDICT_CANCELLED),
		.body = msg,
		.len = sizeof(msg) - 1,
	};
	if (c->link_up)
		c->link.send_cancel(c->link_ud, id);
	ft_log_request(LOG_INFO, id, "cancel", "request %" PRIu64 " cancelled by its client", id);
	finish(c, p, &res, now_ms);
	return true;
}

void gw_core_expire(struct gw_core *c, int64_t now_ms)
{
	int timeout_ms = c->lim->request_timeout_ms;
	for (struct ft_pending_req *p = c->pending.head, *next; p; p = next) {
		next = p->next;
		if (now_ms < p->deadline_ms)
			continue;
		char msg[256];
		snprintf(msg, sizeof(msg),
			 "No answer within the request timeout (%d ms): the cluster has no leader "
			 "or is overloaded; try again later\n",
			 timeout_ms);
		struct gw_result res = {
			.id = p->id,
			.status = 503,
			.verdict = ft_verdict_name(FT_VERDICT_TIMEOUT),
			.body = msg,
			.len = strlen(msg),
		};
		ft_log_request(LOG_WARNING, p->id, "timeout",
			       "request %" PRIu64 " timed out after %d ms", p->id, timeout_ms);
		/* Its answer would reach nobody: the leader drops it too. */
		if (c->link_up)
			c->link.send_cancel(c->link_ud, p->id);
		finish(c, p, &res, now_ms);
	}
}

void gw_core_stop(struct gw_core *c, int64_t now_ms)
{
	static const char msg[] = "The gateway is stopping: send the request again (to another "
				  "gateway, or to this one once it is back)\n";
	for (struct ft_pending_req *p = c->pending.head, *next; p; p = next) {
		next = p->next;
		struct gw_result res = {
			.id = p->id,
			.status = 503,
			.verdict = ft_verdict_name(FT_VERDICT_UNAVAILABLE),
			.body = msg,
			.len = sizeof(msg) - 1,
		};
		finish(c, p, &res, now_ms);
	}
}

/* ---- the leader link ---- */

void gw_core_epoch_seen(struct gw_core *c, uint64_t epoch)
{
	if (epoch > c->max_epoch)
		c->max_epoch = epoch;
}

void gw_core_epoch_follow(struct gw_core *c, uint64_t epoch)
{
	c->max_epoch = epoch;
}

bool gw_core_leader_hello(struct gw_core *c, int64_t now_ms, int leader, uint64_t epoch)
{
	if (epoch < c->max_epoch)
		return false;
	c->max_epoch = epoch;
	c->link_epoch = epoch;
	c->link_up = true;
	ft_log_election(LOG_NOTICE, epoch, leader,
			"connected to leader %d (epoch %" PRIu64
			"); re-sending %zu unanswered request(s)",
			leader, epoch, c->pending.count);
	for (struct ft_pending_req *p = c->pending.head; p; p = p->next)
		send_submit(c, p, now_ms);
	return true;
}

void gw_core_leader_result(struct gw_core *c, int64_t now_ms, const struct gw_leader_result *r)
{
	if (!c->link_up)
		return;
	uint64_t id = r->id;
	if (r->epoch < c->max_epoch) {
		/* From a deposed leader: its requests go to the new one. */
		c->fenced++;
		ft_log_request(LOG_WARNING, id, "stale",
			       "ignoring result for request %" PRIu64 " from epoch %" PRIu64
			       " (current %" PRIu64 ")",
			       id, r->epoch, c->max_epoch);
		return;
	}
	c->link.send_ack(c->link_ud, id);
	struct ft_pending_req *p = ft_pending_find(&c->pending, id);
	if (!p)
		return; /* already answered: the first answer won */
	enum ft_verdict v = ft_verdict_from_name(r->verdict);
	unsigned status = ft_verdict_http_status(v);
	/* Attempts under earlier leaders count too (see FT_FRAME_STARTED). */
	if (r->meta && r->attempts < p->attempts)
		json_object_object_add(r->meta, "attempts", json_object_new_int(p->attempts));
	if (ft_verdict_cacheable(v)) {
		struct ft_buf k = { 0 };
		cache_key(&k, p->body, p->len, p->job);
		keep_answer(c->cache, k.data, k.len, NULL, status, r->meta, r->blob, r->blob_len);
		ft_buf_free(&k);
	}
	/* A retry with the key must be able to run it, not get the 503 again. */
	if (p->idem_key && status != 503)
		keep_answer(c->idem, p->idem_key, strlen(p->idem_key), p->fp, status, r->meta,
			    r->blob, r->blob_len);
	struct gw_result res = {
		.id = id,
		.status = status,
		.verdict = r->verdict,
		.meta = r->meta,
	};
	split_blob(&res, r->blob, r->blob_len);
	ft_log_request(LOG_INFO, id, "answered",
		       "request %" PRIu64 " answered: %s by worker %d in %" PRId64 " ms", id,
		       r->verdict, r->worker, now_ms - p->created_ms);
	c->answered++;
	finish(c, p, &res, now_ms);
}

void gw_core_leader_started(struct gw_core *c, uint64_t id, int worker, int attempt)
{
	struct ft_pending_req *p = ft_pending_find(&c->pending, id);
	if (!c->link_up || !p)
		return;
	p->worker = worker;
	/* A new leader that found it running on a worker never assigned it:
	 * the count so far is the gateway's. */
	if (attempt > p->attempts)
		p->attempts = attempt;
}

void gw_core_link_lost(struct gw_core *c)
{
	c->link_up = false;
}

bool gw_core_link_up(const struct gw_core *c, uint64_t *epoch)
{
	if (c->link_up)
		*epoch = c->link_epoch;
	return c->link_up;
}

/* ---- reading it ---- */

size_t gw_core_pending(const struct gw_core *c)
{
	return c->pending.count;
}

uint64_t gw_core_answered(const struct gw_core *c)
{
	return c->answered;
}

uint64_t gw_core_fenced(const struct gw_core *c)
{
	return c->fenced;
}

bool gw_core_progress(const struct gw_core *c, uint64_t id, int *worker, int *attempts)
{
	const struct ft_pending_req *p = ft_pending_find(&c->pending, id);
	if (!p)
		return false;
	*worker = p->worker;
	*attempts = p->attempts;
	return true;
}

struct json_object *gw_core_in_flight_by_worker(const struct gw_core *c, size_t *queued)
{
	struct json_object *o = json_object_new_object();
	*queued = 0;
	for (const struct ft_pending_req *p = c->pending.head; p; p = p->next) {
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

const char *gw_verdict_of(const struct gw_result *res)
{
	if (res->verdict)
		return ft_verdict_name(ft_verdict_from_name(res->verdict));
	return ft_verdict_name(ft_verdict_of_answer(res->status, res->body, res->len));
}
