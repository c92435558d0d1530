/* The gateway core: every request the gateway accepted and has not answered
 * (its ID, its source, its deadline, the clients waiting for it), the
 * answers it keeps (the response cache, Idempotency-Key replays), and what
 * it knows of the leader link that matters to results (is it up, the
 * epochs, fencing, ACKs).
 *
 * Pure: no sockets, no event loop, no HTTP and no clock of its own.  The
 * caller passes the time (now_ms, monotonic) to every call that needs it;
 * the leader link is two callbacks (send SUBMIT, send ACK), and the link's
 * owner tells the core what the leader says (HELLO, RESULT, STARTED) and
 * when the link is lost.  A unit test plays the clock, the leader and the
 * clients (tests/unit/check_gwcore.c).
 *
 * Rules:
 * - Request IDs come from conf.new_id (random in the gateway), or in order
 *   from conf.first_id; never one already pending.  A request is
 *   sent to the leader at once if the link is up (its HELLO came), and
 *   again, with the same ID, after every HELLO until it is answered: that
 *   is how no request is lost with a leader.
 * - Fencing: a result from an epoch below the highest one seen (HELLO or
 *   ZooKeeper) comes from a deposed leader and is ignored, not even ACKed.
 *   Every other result is ACKed; the first for an ID answers each of its
 *   waiters exactly once, a later one (duplicate, late) answers nobody.
 * - Kept answers: ok and compile_error outcomes go to the response cache
 *   (identical submissions are answered from it); every answer but a 503
 *   is kept for the request's Idempotency-Key, so a retry with the key gets
 *   it again without a second run, and a retry while it runs joins it.
 * - A request still unanswered at its deadline (limits.request_timeout_ms
 *   after acceptance) is answered 503 "timeout" and forgotten.
 * - Waiters that go away are dropped; the request itself goes on. */
#ifndef FT_GATEWAY_CORE_H
#define FT_GATEWAY_CORE_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf/config.h"

struct gw_result {
	uint64_t id;	     /* request ID (0 when answered from the cache) */
	unsigned status;     /* status of the plain API: 200, 400, 500 or 503 */
	const char *verdict; /* ok, compile_error, ..., or "timeout" */
	const char *body;    /* contract body: run()'s string or the error text */
	size_t len;
	bool cached;		  /* answered from the gateway's cache */
	struct json_object *meta; /* the worker's result fields, or NULL */
	/* The program's stdout and stderr when the run asked for them
	 * ("capture"), else NULL. */
	const char *out, *err;
	size_t out_len, err_len;
};

/* Called exactly once per submission and waiter. */
typedef void (*gw_done_fn)(void *ud, const struct gw_result *r);

enum gw_submit_status {
	GW_SUBMITTED = 0, /* fn will be called later */
	GW_ANSWERED,	  /* fn was already called (cache, idempotent replay) */
	GW_OVERLOADED,	  /* too many pending requests: fn not called */
	GW_KEY_REUSED,	  /* the Idempotency-Key names another request: fn not called */
};

/* What a front end submits (the caller has validated it): a Java source,
 * or for the JSON API a run's files concatenated, with its "job" object
 * (job/jobspec.h) as JSON text. */
struct gw_submission {
	const char *src;
	size_t len;
	size_t main_len; /* the main file's bytes at the start of src */
	const char *job; /* NULL for a plain request */
	/* Part of a whole admitted earlier under limits.max_pending_requests
	 * (the later tests of a test set): not refused for it now. */
	bool admitted;
};

/* The leader link as the core drives it; called only while the link is up. */
struct gw_link_ops {
	/* SUBMIT: job is the JSON API's job object as text, or NULL. */
	/* ttl_ms: how long the gateway still waits for it (at least 1). */
	void (*send_submit)(void *ud, uint64_t id, const char *job, const char *body, size_t len,
			    int64_t ttl_ms);
	void (*send_ack)(void *ud, uint64_t id);
	/* CANCEL: the leader stops id where it runs, and forgets it. */
	void (*send_cancel)(void *ud, uint64_t id);
};

/* What the core reports as it goes (metrics); any of them may be NULL. */
struct gw_core_hooks {
	/* Every outcome delivered, once per request (not per waiter):
	 * latency_ms from acceptance (0 when answered at once). */
	void (*answered)(void *ud, const struct gw_result *res, int64_t latency_ms);
	/* The response cache was consulted. */
	void (*cache_lookup)(void *ud, bool hit);
	/* A submission was refused: too many pending requests. */
	void (*overloaded)(void *ud);
};

struct gw_core_conf {
	/* Read at each use, so a reload's new limits apply at once:
	 * request_timeout_ms, max_pending_requests; cache_entries and
	 * cache_bytes size the kept answers once, at gw_core_new. */
	const struct ft_limits *limits;
	uint64_t first_id;
	/* Where request IDs come from instead (the gateway: random, so that
	 * nobody can guess another's), or NULL: first_id, first_id + 1, ...
	 * An ID already pending is drawn again. */
	uint64_t (*new_id)(void *ud);
	void *new_id_ud;
	const struct gw_link_ops *link;
	void *link_ud;
	const struct gw_core_hooks *hooks; /* may be NULL */
	void *hooks_ud;
};

/* A RESULT frame's fields. */
struct gw_leader_result {
	uint64_t id;
	uint64_t epoch;
	const char *verdict; /* "internal_error" when the frame has none */
	int worker;	     /* -1 when the frame has none */
	int attempts;	     /* 0 when the frame has none */
	/* The frame's fields; the core raises "attempts" in it to what it
	 * counted under earlier leaders.  May be NULL. */
	struct json_object *meta;
	const char *blob; /* the body, then captured stdout and stderr */
	size_t blob_len;
};

struct gw_core;

struct gw_core *gw_core_new(const struct gw_core_conf *conf);
/* Drops whatever is pending without answering it (the daemon is stopping). */
void gw_core_free(struct gw_core *c);

/* idem_key may be NULL.  ud identifies the waiter for gw_core_forget.
 * *id_out gets the request ID (0 when answered at once). */
enum gw_submit_status gw_core_submit(struct gw_core *c, int64_t now_ms,
				     const struct gw_submission *s, const char *idem_key,
				     gw_done_fn fn, void *ud, uint64_t *id_out);

/* The waiter ud is gone (client disconnected).  The request goes on while
 * another client waits, or one can come back for it (an Idempotency-Key,
 * a JSON API run); else it is abandoned: dropped, and the leader told to
 * drop it too. */
void gw_core_forget(struct gw_core *c, void *ud);
/* Requests abandoned so, ever. */
uint64_t gw_core_abandoned(const struct gw_core *c);

/* Cancels the unanswered request id: its waiters are answered verdict
 * "cancelled" (a kept answer for nobody), and the leader, if the link is
 * up, is told to stop it (else no leader ever hears of it again: it is not
 * re-sent).  False if id is not pending (answered, or unknown). */
bool gw_core_cancel(struct gw_core *c, int64_t now_ms, uint64_t id);

/* Answer 503 "timeout" to every request whose deadline is past (and tell
 * the leader to drop it). */
void gw_core_expire(struct gw_core *c, int64_t now_ms);
/* A clean stop: every waiting client is answered 503 "unavailable" (sent
 * again, a request with an Idempotency-Key is safe), none is left hanging. */
void gw_core_stop(struct gw_core *c, int64_t now_ms);

/* ---- what the leader link tells the core ---- */

/* ZooKeeper names a leadership of this epoch: results from older ones are
 * fenced off from now on. */
void gw_core_epoch_seen(struct gw_core *c, uint64_t epoch);
/* ZooKeeper lost its data: epochs start again at epoch, lower than the
 * newest seen; results are accepted from links of that epoch on. */
void gw_core_epoch_follow(struct gw_core *c, uint64_t epoch);
/* Leader `leader` said HELLO: false (nothing changes) if its epoch is
 * below the highest seen, and the link must be dropped; else the link is
 * up and every pending request is sent, oldest first. */
bool gw_core_leader_hello(struct gw_core *c, int64_t now_ms, int leader, uint64_t epoch);
/* Ignored while the link is down. */
void gw_core_leader_result(struct gw_core *c, int64_t now_ms, const struct gw_leader_result *r);
/* STARTED: the leader assigned request id to worker (its attempt-th try).
 * Ignored while the link is down. */
void gw_core_leader_started(struct gw_core *c, uint64_t id, int worker, int attempt);
void gw_core_link_lost(struct gw_core *c);
/* Whether the link is up; if so *epoch gets its leader's epoch. */
bool gw_core_link_up(const struct gw_core *c, uint64_t *epoch);

/* ---- reading it ---- */

size_t gw_core_pending(const struct gw_core *c);
/* Requests answered by a leader's result. */
uint64_t gw_core_answered(const struct gw_core *c);
/* Results ignored as coming from a deposed leader. */
uint64_t gw_core_fenced(const struct gw_core *c);

/* Where an unanswered request is: false if the core has no such request
 * (answered, or never submitted); else *worker is the worker the leader
 * said runs it (-1: not assigned yet) and *attempts how often it was
 * assigned. */
bool gw_core_progress(const struct gw_core *c, uint64_t id, int *worker, int *attempts);

/* Unanswered requests by where they are: {"<worker id>": n, ...} for those
 * the leader said are on a worker; *queued gets the others.  Caller owns
 * the object. */
struct json_object *gw_core_in_flight_by_worker(const struct gw_core *c, size_t *queued);

/* The verdict of an outcome: res->verdict, or for a cached answer (which
 * carries none) the one its status and body show; "unknown" if neither. */
const char *gw_verdict_of(const struct gw_result *res);

#endif
