/* The gateway core (src/gateway/core.c) and the JSON API's run records
 * (src/gateway/runs.c), driven in-process: the test is the clock (every call
 * gets "now"), the leader (a fake link records SUBMITs and ACKs; HELLO,
 * RESULT and STARTED are fed in) and the clients (waiters record what they
 * are told). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/core.h"
#include "gateway/runs.h"
#include "lib/log.h"

#define FIRST_ID 1000
#define TIMEOUT_MS 10000
#define MAX_PENDING 4
#define MAX_SENT 64

/* ---- the fake leader link ---- */

struct sent {
	uint64_t id;
	bool has_job;
	char body[128];
	int64_t ttl_ms;
};

static struct sent submits[MAX_SENT];
static size_t n_submits;
static uint64_t acks[MAX_SENT];
static size_t n_acks;

static void fake_submit(void *ud, uint64_t id, const char *job, const char *body, size_t len,
			int64_t ttl_ms)
{
	ck_assert_ptr_eq(ud, &submits);
	ck_assert_uint_lt(n_submits, MAX_SENT);
	struct sent *s = &submits[n_submits++];
	s->id = id;
	s->has_job = job != NULL;
	s->ttl_ms = ttl_ms;
	ck_assert_int_gt(ttl_ms, 0);
	ck_assert_uint_lt(len, sizeof(s->body));
	memcpy(s->body, body, len);
	s->body[len] = '\0';
}

static void fake_ack(void *ud, uint64_t id)
{
	ck_assert_uint_lt(n_acks, MAX_SENT);
	acks[n_acks++] = id;
}

static uint64_t cancels[MAX_SENT];
static size_t n_cancels;

static void fake_cancel(void *ud, uint64_t id)
{
	ck_assert_uint_lt(n_cancels, MAX_SENT);
	cancels[n_cancels++] = id;
}

static const struct gw_link_ops fake_link = { .send_submit = fake_submit,
					      .send_ack = fake_ack,
					      .send_cancel = fake_cancel };

/* ---- the hooks (metrics) ---- */

static int hook_answered, hook_hits, hook_misses, hook_overloaded;
static int64_t hook_latency;

static void on_answered(void *ud, const struct gw_result *res, int64_t latency_ms)
{
	hook_answered++;
	hook_latency = latency_ms;
}

static void on_cache_lookup(void *ud, bool hit)
{
	if (hit)
		hook_hits++;
	else
		hook_misses++;
}

static void on_overloaded(void *ud)
{
	hook_overloaded++;
}

static const struct gw_core_hooks hooks = {
	.answered = on_answered,
	.cache_lookup = on_cache_lookup,
	.overloaded = on_overloaded,
};

/* ---- clients ---- */

struct waiter {
	int calls;
	uint64_t id;
	unsigned status;
	bool cached;
	char verdict[32];
	char body[512];
	char out[64], err[64];
	bool has_out;
	int attempts; /* from the result's meta, -1 if none */
};

static void done(void *ud, const struct gw_result *r)
{
	struct waiter *w = ud;
	w->calls++;
	w->id = r->id;
	w->status = r->status;
	w->cached = r->cached;
	snprintf(w->verdict, sizeof(w->verdict), "%s", gw_verdict_of(r));
	snprintf(w->body, sizeof(w->body), "%.*s", (int)r->len, r->body ? r->body : "");
	w->has_out = r->out != NULL;
	if (r->out)
		snprintf(w->out, sizeof(w->out), "%.*s", (int)r->out_len, r->out);
	if (r->err)
		snprintf(w->err, sizeof(w->err), "%.*s", (int)r->err_len, r->err);
	struct json_object *v;
	w->attempts = r->meta && json_object_object_get_ex(r->meta, "attempts", &v)
			      ? json_object_get_int(v)
			      : -1;
}

/* ---- fixture ---- */

static struct ft_limits lim;
static struct gw_core *core;

static void setup(void)
{
	ft_log_set_level(LOG_ERR); /* the core's info and warning lines */
	n_submits = n_acks = n_cancels = 0;
	hook_answered = hook_hits = hook_misses = hook_overloaded = 0;
	hook_latency = -1;
	memset(&lim, 0, sizeof(lim));
	lim.request_timeout_ms = TIMEOUT_MS;
	lim.max_pending_requests = MAX_PENDING;
	lim.cache_entries = 16;
	lim.cache_bytes = 1 << 16;
	lim.result_ttl_ms = 5000;
	lim.max_stored_runs = 3;
	struct gw_core_conf c = {
		.limits = &lim,
		.first_id = FIRST_ID,
		.link = &fake_link,
		.link_ud = &submits,
		.hooks = &hooks,
	};
	core = gw_core_new(&c);
	ck_assert_ptr_nonnull(core);
}

static void teardown(void)
{
	gw_core_free(core);
	core = NULL;
}

/* A distinct Java program per name. */
static const char *program(const char *name)
{
	static char buf[4][128];
	static int next;
	char *b = buf[next++ % 4];
	snprintf(b, sizeof(buf[0]), "public class %s { public String run() { return \"x\"; } }",
		 name);
	return b;
}

static enum gw_submit_status submit_job(const char *src, const char *job, const char *key,
					struct waiter *w, int64_t now, uint64_t *id)
{
	struct gw_submission s = {
		.src = src, .len = strlen(src), .main_len = strlen(src), .job = job
	};
	return gw_core_submit(core, now, &s, key, done, w, id);
}

static uint64_t submit(const char *src, const char *key, struct waiter *w, int64_t now)
{
	uint64_t id = 0;
	ck_assert_int_eq(submit_job(src, NULL, key, w, now, &id), GW_SUBMITTED);
	ck_assert_uint_ne(id, 0);
	return id;
}

/* The leader's RESULT for id: verdict, body, from worker 2 on its first try. */
static void result_ex(uint64_t id, uint64_t epoch, const char *verdict, const char *blob,
		      size_t blob_len, struct json_object *extra, int64_t now)
{
	struct json_object *m = extra ? extra : json_object_new_object();
	json_object_object_add(m, "req", json_object_new_uint64(id));
	json_object_object_add(m, "epoch", json_object_new_uint64(epoch));
	json_object_object_add(m, "verdict", json_object_new_string(verdict));
	json_object_object_add(m, "worker", json_object_new_int(2));
	if (!json_object_object_get_ex(m, "attempts", NULL))
		json_object_object_add(m, "attempts", json_object_new_int(1));
	struct json_object *a;
	json_object_object_get_ex(m, "attempts", &a);
	struct gw_leader_result r = {
		.id = id,
		.epoch = epoch,
		.verdict = verdict,
		.worker = 2,
		.attempts = json_object_get_int(a),
		.meta = m,
		.blob = blob,
		.blob_len = blob_len,
	};
	gw_core_leader_result(core, now, &r);
	json_object_put(m);
}

static void result(uint64_t id, uint64_t epoch, const char *verdict, const char *body, int64_t now)
{
	result_ex(id, epoch, verdict, body, strlen(body), NULL, now);
}

static void hello(uint64_t epoch)
{
	ck_assert(gw_core_leader_hello(core, 0, 7, epoch));
}

/* ---- the leader link: holding and re-sending ---- */

START_TEST(cancel_answers_waiters_and_tells_the_leader)
{
	struct waiter w1 = { 0 }, w2 = { 0 };
	hello(1);
	uint64_t id = submit(program("Slow"), "key-c", &w1, 0);
	submit(program("Slow"), "key-c", &w2, 0); /* joins it */
	ck_assert(gw_core_cancel(core, 10, id));
	ck_assert_int_eq(w1.calls, 1);
	ck_assert_int_eq(w2.calls, 1);
	ck_assert_str_eq(w1.verdict, "cancelled");
	ck_assert(strncmp(w1.body, "Cancelled:", 10) == 0);
	ck_assert_uint_eq(n_cancels, 1);
	ck_assert_uint_eq(cancels[0], id);
	ck_assert_uint_eq(gw_core_pending(core), 0);
	/* Not pending any more: nothing to cancel. */
	ck_assert(!gw_core_cancel(core, 11, id));
	ck_assert(!gw_core_cancel(core, 11, 424242));
	/* The worker's late result is acknowledged and answers nobody. */
	result(id, 1, "cancelled", "Cancelled:\nstopped", 12);
	ck_assert_int_eq(w1.calls, 1);
	/* The key keeps no answer: a retry submits again. */
	struct waiter w3 = { 0 };
	size_t before = n_submits;
	submit(program("Slow"), "key-c", &w3, 13);
	ck_assert_uint_eq(n_submits, before + 1);
	ck_assert_int_eq(w3.calls, 0);
}
END_TEST

START_TEST(cancel_while_the_link_is_down_is_not_resent)
{
	struct waiter w = { 0 };
	uint64_t id = submit(program("A"), NULL, &w, 0);
	ck_assert(gw_core_cancel(core, 1, id));
	ck_assert_uint_eq(n_cancels, 0); /* no leader to tell */
	hello(2);
	ck_assert_uint_eq(n_submits, 0); /* and no leader ever hears of it */
}
END_TEST

START_TEST(held_without_leader_and_sent_on_hello)
{
	struct waiter w = { 0 };
	uint64_t id = submit(program("A"), NULL, &w, 0);
	ck_assert_uint_eq(id, FIRST_ID);
	ck_assert_uint_eq(n_submits, 0);
	ck_assert_uint_eq(gw_core_pending(core), 1);
	uint64_t epoch = 0;
	ck_assert(!gw_core_link_up(core, &epoch));

	hello(5);
	ck_assert(gw_core_link_up(core, &epoch));
	ck_assert_uint_eq(epoch, 5);
	ck_assert_uint_eq(n_submits, 1);
	ck_assert_uint_eq(submits[0].id, id);
	ck_assert_str_eq(submits[0].body, program("A"));
	ck_assert(!submits[0].has_job);
	ck_assert_int_eq(w.calls, 0);
}
END_TEST

START_TEST(sent_at_once_while_link_up)
{
	struct waiter w1 = { 0 }, w2 = { 0 };
	hello(1);
	uint64_t a = submit(program("A"), NULL, &w1, 0);
	ck_assert_uint_eq(n_submits, 1);
	uint64_t b = submit(program("B"), NULL, &w2, 0);
	ck_assert_uint_eq(n_submits, 2);
	/* IDs in order from first_id. */
	ck_assert_uint_eq(a, FIRST_ID);
	ck_assert_uint_eq(b, FIRST_ID + 1);
	ck_assert_uint_eq(submits[0].id, a);
	ck_assert_uint_eq(submits[1].id, b);
}
END_TEST

START_TEST(new_leader_gets_every_unanswered_request_with_same_ids)
{
	struct waiter w[3] = { 0 };
	hello(5);
	uint64_t ids[3];
	ids[0] = submit(program("A"), NULL, &w[0], 0);
	ids[1] = submit(program("B"), NULL, &w[1], 0);
	ids[2] = submit(program("C"), NULL, &w[2], 0);
	result(ids[1], 5, "ok", "b", 10); /* B is answered before the leader dies */
	ck_assert_int_eq(w[1].calls, 1);
	ck_assert_uint_eq(n_submits, 3);

	gw_core_link_lost(core);
	uint64_t epoch;
	ck_assert(!gw_core_link_up(core, &epoch));
	gw_core_epoch_seen(core, 6);
	hello(6);
	ck_assert_uint_eq(n_submits, 5);
	ck_assert_uint_eq(submits[3].id, ids[0]);
	ck_assert_str_eq(submits[3].body, program("A"));
	ck_assert_uint_eq(submits[4].id, ids[2]);
	ck_assert_str_eq(submits[4].body, program("C"));

	/* And again after the next one. */
	gw_core_link_lost(core);
	hello(9);
	ck_assert_uint_eq(n_submits, 7);
	ck_assert_uint_eq(submits[5].id, ids[0]);
	ck_assert_uint_eq(submits[6].id, ids[2]);
	ck_assert_int_eq(w[0].calls, 0);
	ck_assert_int_eq(w[2].calls, 0);
}
END_TEST

START_TEST(hello_of_older_epoch_refused)
{
	struct waiter w = { 0 };
	submit(program("A"), NULL, &w, 0);
	gw_core_epoch_seen(core, 8);
	ck_assert(!gw_core_leader_hello(core, 0, 3, 7));
	uint64_t epoch;
	ck_assert(!gw_core_link_up(core, &epoch));
	ck_assert_uint_eq(n_submits, 0);
	/* The same epoch is the current leader's. */
	ck_assert(gw_core_leader_hello(core, 1000, 4, 8));
	ck_assert_uint_eq(n_submits, 1);
	/* With the time the gateway still waits, not its clock. */
	ck_assert_int_eq(submits[0].ttl_ms, TIMEOUT_MS - 1000);
}
END_TEST

START_TEST(nothing_taken_while_link_down)
{
	struct waiter w = { 0 };
	hello(5);
	uint64_t id = submit(program("A"), NULL, &w, 0);
	gw_core_link_lost(core);
	gw_core_leader_started(core, id, 3, 1);
	result(id, 5, "ok", "a", 10);
	ck_assert_uint_eq(n_acks, 0);
	ck_assert_int_eq(w.calls, 0);
	int worker, attempts;
	ck_assert(gw_core_progress(core, id, &worker, &attempts));
	ck_assert_int_eq(worker, -1);
	ck_assert_int_eq(attempts, 0);
	/* A submission waits for the next HELLO. */
	struct waiter w2 = { 0 };
	submit(program("B"), NULL, &w2, 0);
	ck_assert_uint_eq(n_submits, 1);
}
END_TEST

/* ---- results: fencing, exactly once ---- */

START_TEST(result_of_older_epoch_ignored)
{
	struct waiter w = { 0 };
	hello(5);
	uint64_t id = submit(program("A"), NULL, &w, 0);
	gw_core_link_lost(core);
	hello(6);
	result(id, 5, "ok", "from the deposed leader", 10);
	ck_assert_int_eq(w.calls, 0);
	ck_assert_uint_eq(n_acks, 0); /* not even ACKed */
	ck_assert_uint_eq(gw_core_fenced(core), 1);
	ck_assert_uint_eq(gw_core_pending(core), 1);

	result(id, 6, "ok", "from the leader", 20);
	ck_assert_int_eq(w.calls, 1);
	ck_assert_str_eq(w.body, "from the leader");
	ck_assert_uint_eq(n_acks, 1);
	ck_assert_uint_eq(acks[0], id);
	ck_assert_uint_eq(gw_core_answered(core), 1);
}
END_TEST

START_TEST(epoch_named_by_zookeeper_fences_too)
{
	struct waiter w = { 0 };
	hello(5);
	uint64_t id = submit(program("A"), NULL, &w, 0);
	/* ZooKeeper names a newer leadership before the link notices. */
	gw_core_epoch_seen(core, 6);
	result(id, 5, "ok", "a", 10);
	ck_assert_int_eq(w.calls, 0);
	ck_assert_uint_eq(n_acks, 0);
	ck_assert_uint_eq(gw_core_fenced(core), 1);
	/* An older epoch never lowers the fence. */
	gw_core_epoch_seen(core, 4);
	ck_assert(!gw_core_leader_hello(core, 0, 7, 5));
}
END_TEST

START_TEST(epochs_followed_down_after_zookeeper_lost_its_data)
{
	struct waiter w = { 0 };
	hello(900);
	uint64_t id = submit(program("A"), NULL, &w, 0);
	gw_core_link_lost(core);
	/* ZooKeeper came back empty: its new leadership has epoch 20. */
	ck_assert(!gw_core_leader_hello(core, 0, 7, 20));
	gw_core_epoch_follow(core, 20);
	gw_core_epoch_seen(core, 20);
	ck_assert(gw_core_leader_hello(core, 0, 7, 20));
	result(id, 20, "ok", "after the loss", 10);
	ck_assert_int_eq(w.calls, 1);
	ck_assert_str_eq(w.body, "after the loss");
	/* And fencing goes on from there. */
	gw_core_epoch_seen(core, 21);
	ck_assert(!gw_core_leader_hello(core, 0, 7, 20));
}
END_TEST

START_TEST(result_answers_every_waiter_exactly_once)
{
	struct waiter w1 = { 0 }, w2 = { 0 }, w3 = { 0 };
	hello(5);
	uint64_t id = submit(program("A"), "key-1", &w1, 0);
	ck_assert_uint_eq(submit(program("A"), "key-1", &w2, 1), id);
	ck_assert_uint_eq(submit(program("A"), "key-1", &w3, 2), id);
	ck_assert_uint_eq(n_submits, 1);
	result(id, 5, "ok", "hello", 100);
	struct waiter *all[] = { &w1, &w2, &w3 };
	for (size_t i = 0; i < 3; i++) {
		ck_assert_int_eq(all[i]->calls, 1);
		ck_assert_uint_eq(all[i]->id, id);
		ck_assert_uint_eq(all[i]->status, 200);
		ck_assert_str_eq(all[i]->verdict, "ok");
		ck_assert_str_eq(all[i]->body, "hello");
		ck_assert(!all[i]->cached);
	}
	/* Reported once per request, with its latency. */
	ck_assert_int_eq(hook_answered, 1);
	ck_assert_int_eq(hook_latency, 100);
	ck_assert_uint_eq(gw_core_pending(core), 0);
}
END_TEST

START_TEST(second_result_acked_never_answers_again)
{
	struct waiter w = { 0 };
	hello(5);
	uint64_t id = submit(program("A"), NULL, &w, 0);
	result(id, 5, "ok", "first", 10);
	result(id, 5, "runtime_error", "second", 20);
	gw_core_link_lost(core);
	hello(6);
	result(id, 6, "ok", "late, from the new leader", 30);
	ck_assert_int_eq(w.calls, 1);
	ck_assert_str_eq(w.body, "first");
	ck_assert_uint_eq(n_acks, 3);
	for (size_t i = 0; i < n_acks; i++)
		ck_assert_uint_eq(acks[i], id);
	ck_assert_uint_eq(gw_core_answered(core), 1);
	ck_assert_int_eq(hook_answered, 1);
	/* Not re-sent: it is answered. */
	ck_assert_uint_eq(n_submits, 1);
}
END_TEST

START_TEST(result_for_unknown_request_acked)
{
	hello(5);
	result(4242, 5, "ok", "x", 0);
	ck_assert_uint_eq(n_acks, 1);
	ck_assert_uint_eq(acks[0], 4242);
	ck_assert_int_eq(hook_answered, 0);
}
END_TEST

START_TEST(verdicts_become_plain_statuses)
{
	static const struct {
		const char *verdict;
		unsigned status;
	} cases[] = {
		{ "ok", 200 },
		{ "compile_error", 400 },
		{ "runtime_error", 400 },
		{ "time_limit", 400 },
		{ "internal_error", 500 },
		{ "unavailable", 503 },
		{ "no such verdict", 400 },
	};
	hello(5);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct waiter w = { 0 };
		char name[16];
		snprintf(name, sizeof(name), "P%zu", i);
		uint64_t id = submit(program(name), NULL, &w, 0);
		result(id, 5, cases[i].verdict, "body", 1);
		ck_assert_int_eq(w.calls, 1);
		ck_assert_uint_eq(w.status, cases[i].status);
	}
}
END_TEST

START_TEST(attempts_under_earlier_leaders_count)
{
	struct waiter w = { 0 };
	hello(5);
	uint64_t id = submit(program("A"), NULL, &w, 0);
	gw_core_leader_started(core, id, 2, 2);
	gw_core_link_lost(core);
	hello(6);
	/* The new leader found it on a worker and counts one try. */
	result(id, 6, "ok", "a", 10);
	ck_assert_int_eq(w.calls, 1);
	ck_assert_int_eq(w.attempts, 2);
}
END_TEST

START_TEST(captured_output_split_from_body)
{
	struct waiter w = { 0 };
	hello(5);
	uint64_t id = submit(program("A"), NULL, &w, 0);
	struct json_object *m = json_object_new_object();
	json_object_object_add(m, "stdout_bytes", json_object_new_int(3));
	json_object_object_add(m, "stderr_bytes", json_object_new_int(2));
	result_ex(id, 5, "ok", "bodyOUTer", 9, m, 1);
	ck_assert_int_eq(w.calls, 1);
	ck_assert_str_eq(w.body, "body");
	ck_assert(w.has_out);
	ck_assert_str_eq(w.out, "OUT");
	ck_assert_str_eq(w.err, "er");
}
END_TEST

/* ---- Idempotency-Key ---- */

START_TEST(idempotency_retry_gets_kept_answer_without_second_submit)
{
	struct waiter w1 = { 0 }, w2 = { 0 };
	hello(5);
	uint64_t id = submit(program("A"), "key-1", &w1, 0);
	result(id, 5, "runtime_error", "Exception in run()", 10);
	ck_assert_int_eq(w1.calls, 1);

	uint64_t id2 = 99;
	ck_assert_int_eq(submit_job(program("A"), NULL, "key-1", &w2, 20, &id2), GW_ANSWERED);
	ck_assert_uint_eq(id2, 0);
	ck_assert_int_eq(w2.calls, 1);
	ck_assert(w2.cached);
	ck_assert_uint_eq(w2.status, 400);
	ck_assert_str_eq(w2.verdict, "runtime_error");
	ck_assert_str_eq(w2.body, "Exception in run()");
	ck_assert_uint_eq(n_submits, 1);
	ck_assert_uint_eq(gw_core_pending(core), 0);
	/* Answered from the key, before the response cache is asked. */
	ck_assert_int_eq(hook_hits, 0);
	ck_assert_int_eq(hook_misses, 1);
}
END_TEST

START_TEST(idempotency_retry_while_pending_joins)
{
	struct waiter w1 = { 0 }, w2 = { 0 }, other = { 0 };
	uint64_t id = submit(program("A"), "key-1", &w1, 0);
	ck_assert_uint_eq(submit(program("A"), "key-1", &w2, 5), id);
	/* Another key is another request. */
	ck_assert_uint_ne(submit(program("A"), "key-2", &other, 5), id);
	ck_assert_uint_eq(gw_core_pending(core), 2);
	hello(5);
	ck_assert_uint_eq(n_submits, 2);
	result(id, 5, "ok", "a", 10);
	ck_assert_int_eq(w1.calls, 1);
	ck_assert_int_eq(w2.calls, 1);
	ck_assert_int_eq(other.calls, 0);
}
END_TEST

/* A key is bound to its request: another program, or the same with
 * another job, under the same key is refused, never given A's answer. */
START_TEST(key_of_another_request_refused)
{
	struct waiter w1 = { 0 }, w2 = { 0 }, w3 = { 0 };
	uint64_t id2 = 99;
	uint64_t id = submit(program("A"), "key-1", &w1, 0);
	/* While A is pending... */
	ck_assert_int_eq(submit_job(program("B"), NULL, "key-1", &w2, 5, &id2), GW_KEY_REUSED);
	ck_assert_int_eq(submit_job(program("A"), "{\"stdin\":\"x\"}", "key-1", &w2, 5, &id2),
			 GW_KEY_REUSED);
	ck_assert_int_eq(w2.calls, 0);
	ck_assert_uint_eq(gw_core_pending(core), 1);
	hello(5);
	result(id, 5, "ok", "paid=true", 10);
	/* ...and once answered. */
	ck_assert_int_eq(submit_job(program("B"), NULL, "key-1", &w3, 20, &id2), GW_KEY_REUSED);
	ck_assert_int_eq(w3.calls, 0);
	ck_assert_uint_eq(n_submits, 1);
	/* The request it was bound to still gets its answer. */
	ck_assert_int_eq(submit_job(program("A"), NULL, "key-1", &w3, 30, &id2), GW_ANSWERED);
	ck_assert_str_eq(w3.body, "paid=true");
}
END_TEST

/* An empty Idempotency-Key is no key: two such requests are two. */
START_TEST(empty_key_is_no_key)
{
	struct waiter w1 = { 0 }, w2 = { 0 };
	uint64_t a = submit(program("A"), "", &w1, 0);
	uint64_t b = submit(program("B"), "", &w2, 0);
	ck_assert_uint_ne(a, b);
	ck_assert_uint_eq(gw_core_pending(core), 2);
}
END_TEST

static uint64_t scripted_ids[] = { 7, 7, 0, 9 };
static size_t n_scripted;
static uint64_t scripted_id(void *ud)
{
	(void)ud;
	return scripted_ids[n_scripted++ % 4];
}

/* An ID source's repeats and zeros are drawn again, never reused while
 * pending. */
START_TEST(ids_from_the_source_unique_while_pending)
{
	gw_core_free(core);
	struct gw_core_conf cc = {
		.limits = &lim,
		.link = &fake_link,
		.link_ud = &submits,
		.hooks = &hooks,
		.new_id = scripted_id,
	};
	core = gw_core_new(&cc);
	struct waiter w1 = { 0 }, w2 = { 0 };
	ck_assert_uint_eq(submit(program("A"), NULL, &w1, 0), 7);
	ck_assert_uint_eq(submit(program("B"), NULL, &w2, 0), 9);
}
END_TEST

START_TEST(unavailable_not_kept_for_the_key)
{
	struct waiter w1 = { 0 }, w2 = { 0 };
	hello(5);
	uint64_t id = submit(program("A"), "key-1", &w1, 0);
	result(id, 5, "unavailable", "The cluster could not run it", 10);
	ck_assert_uint_eq(w1.status, 503);
	uint64_t id2 = submit(program("A"), "key-1", &w2, 20);
	ck_assert_uint_ne(id2, id);
	ck_assert_uint_eq(n_submits, 2);
	ck_assert_uint_eq(submits[1].id, id2);
	ck_assert_int_eq(w2.calls, 0);
}
END_TEST

START_TEST(timeout_not_kept_for_the_key)
{
	struct waiter w1 = { 0 }, w2 = { 0 };
	uint64_t id = submit(program("A"), "key-1", &w1, 0);
	gw_core_expire(core, TIMEOUT_MS);
	ck_assert_uint_eq(w1.status, 503);
	ck_assert_uint_ne(submit(program("A"), "key-1", &w2, TIMEOUT_MS + 1), id);
	ck_assert_int_eq(w2.calls, 0);
}
END_TEST

/* ---- the response cache ---- */

static void assert_cached_after(const char *verdict, bool kept)
{
	struct waiter w1 = { 0 }, w2 = { 0 };
	hello(5);
	uint64_t id = submit(program("A"), NULL, &w1, 0);
	result(id, 5, verdict, "the answer", 10);
	ck_assert_int_eq(w1.calls, 1);
	uint64_t id2 = 0;
	enum gw_submit_status st = submit_job(program("A"), NULL, NULL, &w2, 20, &id2);
	if (kept) {
		ck_assert_int_eq(st, GW_ANSWERED);
		ck_assert_int_eq(w2.calls, 1);
		ck_assert(w2.cached);
		ck_assert_uint_eq(w2.id, 0);
		ck_assert_uint_eq(w2.status, w1.status);
		ck_assert_str_eq(w2.verdict, verdict);
		ck_assert_str_eq(w2.body, "the answer");
		ck_assert_uint_eq(n_submits, 1);
		ck_assert_int_eq(hook_hits, 1);
	} else {
		ck_assert_int_eq(st, GW_SUBMITTED);
		ck_assert_int_eq(w2.calls, 0);
		ck_assert_uint_eq(n_submits, 2);
		ck_assert_int_eq(hook_hits, 0);
	}
}

START_TEST(cache_keeps_ok)
{
	assert_cached_after("ok", true);
}
END_TEST

START_TEST(cache_keeps_compile_error)
{
	assert_cached_after("compile_error", true);
}
END_TEST

START_TEST(cache_keeps_nothing_else)
{
	static const char *const others[] = { "runtime_error", "time_limit",	 "memory_limit",
					      "output_limit",  "internal_error", "unavailable" };
	assert_cached_after(others[_i], false);
}
END_TEST

START_TEST(cache_tells_plain_from_json_runs)
{
	struct waiter w1 = { 0 }, w2 = { 0 }, w3 = { 0 };
	hello(5);
	uint64_t id = submit(program("A"), NULL, &w1, 0);
	result(id, 5, "ok", "plain", 10);
	uint64_t id2 = 0;
	ck_assert_int_eq(submit_job(program("A"), "{\"args\":[]}", NULL, &w2, 20, &id2),
			 GW_SUBMITTED);
	ck_assert_uint_eq(n_submits, 2);
	ck_assert(submits[1].has_job);
	result(id2, 5, "ok", "json", 30);
	uint64_t id3 = 0;
	ck_assert_int_eq(submit_job(program("A"), "{\"args\":[]}", NULL, &w3, 40, &id3),
			 GW_ANSWERED);
	ck_assert_str_eq(w3.body, "json");
}
END_TEST

START_TEST(no_class_name_answered_at_once)
{
	struct waiter w = { 0 };
	uint64_t id = 7;
	hello(5);
	ck_assert_int_eq(submit_job("class lowercase {}", NULL, NULL, &w, 0, &id), GW_ANSWERED);
	ck_assert_uint_eq(id, 0);
	ck_assert_int_eq(w.calls, 1);
	ck_assert_uint_eq(w.status, 400);
	ck_assert_str_eq(w.verdict, "compile_error");
	ck_assert_str_eq(w.body, "No class name found in code");
	ck_assert_uint_eq(n_submits, 0);
	ck_assert_uint_eq(gw_core_pending(core), 0);
	ck_assert_int_eq(hook_answered, 1);
	ck_assert_int_eq(hook_latency, 0);
}
END_TEST

/* ---- deadlines, overload, waiters ---- */

START_TEST(deadline_answers_503_timeout_and_forgets)
{
	struct waiter w = { 0 };
	hello(5);
	uint64_t id = submit(program("A"), NULL, &w, 1000);
	gw_core_expire(core, 1000 + TIMEOUT_MS - 1);
	ck_assert_int_eq(w.calls, 0);
	gw_core_expire(core, 1000 + TIMEOUT_MS);
	ck_assert_int_eq(w.calls, 1);
	ck_assert_uint_eq(w.id, id);
	ck_assert_uint_eq(w.status, 503);
	ck_assert_str_eq(w.verdict, "timeout");
	ck_assert_ptr_nonnull(strstr(w.body, "No answer within the request timeout (10000 ms)"));
	ck_assert_int_eq(hook_latency, TIMEOUT_MS);
	ck_assert_uint_eq(gw_core_pending(core), 0);
	int worker, attempts;
	ck_assert(!gw_core_progress(core, id, &worker, &attempts));

	/* A result that comes after: ACKed, delivered to nobody, not re-sent. */
	result(id, 5, "ok", "too late", 1000 + TIMEOUT_MS + 5);
	ck_assert_uint_eq(n_acks, 1);
	ck_assert_int_eq(w.calls, 1);
	gw_core_link_lost(core);
	hello(6);
	ck_assert_uint_eq(n_submits, 1);
}
END_TEST

START_TEST(deadline_follows_reloaded_timeout)
{
	struct waiter w1 = { 0 }, w2 = { 0 };
	submit(program("A"), NULL, &w1, 0);
	lim.request_timeout_ms = 100; /* a reload */
	submit(program("B"), NULL, &w2, 0);
	gw_core_expire(core, 100);
	ck_assert_int_eq(w1.calls, 0);
	ck_assert_int_eq(w2.calls, 1);
	ck_assert_ptr_nonnull(strstr(w2.body, "(100 ms)"));
}
END_TEST

START_TEST(overload_refused)
{
	struct waiter w[MAX_PENDING + 1] = { 0 };
	for (int i = 0; i < MAX_PENDING; i++) {
		char name[8];
		snprintf(name, sizeof(name), "P%d", i);
		submit(program(name), i == 0 ? "key-1" : NULL, &w[i], 0);
	}
	uint64_t id = 5;
	ck_assert_int_eq(submit_job(program("Q"), NULL, NULL, &w[MAX_PENDING], 0, &id),
			 GW_OVERLOADED);
	ck_assert_uint_eq(id, 0);
	ck_assert_int_eq(w[MAX_PENDING].calls, 0);
	ck_assert_int_eq(hook_overloaded, 1);
	ck_assert_uint_eq(gw_core_pending(core), MAX_PENDING);
	/* Joining a pending request adds no request. */
	struct waiter again = { 0 };
	ck_assert_int_eq(submit_job(program("P0"), NULL, "key-1", &again, 0, &id), GW_SUBMITTED);
	ck_assert_uint_eq(id, FIRST_ID);
	/* Room again once one is answered. */
	hello(5);
	result(FIRST_ID + 1, 5, "runtime_error", "x", 1);
	ck_assert_int_eq(submit_job(program("Q"), NULL, NULL, &w[MAX_PENDING], 2, &id),
			 GW_SUBMITTED);
}
END_TEST

START_TEST(waiter_gone_request_goes_on)
{
	struct waiter gone = { 0 }, stays = { 0 };
	hello(5);
	uint64_t id = submit(program("A"), "key-1", &gone, 0);
	submit(program("A"), "key-1", &stays, 0);
	gw_core_forget(core, &gone);
	ck_assert_uint_eq(gw_core_pending(core), 1);
	gw_core_link_lost(core);
	hello(6);
	ck_assert_uint_eq(n_submits, 2); /* still re-sent */
	result(id, 6, "ok", "a", 10);
	ck_assert_int_eq(gone.calls, 0);
	ck_assert_int_eq(stays.calls, 1);
	ck_assert_uint_eq(gw_core_answered(core), 1);
}
END_TEST

/* Nobody can be given the answer: the cluster is told to stop working for
 * nobody (overload, issue 14), and a late answer changes nothing. */
START_TEST(last_waiter_gone_without_a_key_is_abandoned)
{
	struct waiter gone = { 0 }, later = { 0 };
	hello(5);
	uint64_t id = submit(program("A"), NULL, &gone, 0);
	gw_core_forget(core, &gone);
	ck_assert_uint_eq(gw_core_pending(core), 0);
	ck_assert_uint_eq(gw_core_abandoned(core), 1);
	ck_assert_uint_eq(n_cancels, 1);
	ck_assert_uint_eq(cancels[0], id);
	result(id, 5, "ok", "late", 10);
	ck_assert_int_eq(gone.calls, 0);
	/* The same program later is run anew, not answered from nobody's run. */
	uint64_t id2;
	ck_assert_int_eq(submit_job(program("A"), NULL, NULL, &later, 20, &id2), GW_SUBMITTED);
	ck_assert_uint_ne(id2, id);
}
END_TEST

/* A deadline passed: the leader is told to drop the request as well. */
START_TEST(timed_out_request_is_cancelled_at_the_leader)
{
	struct waiter w = { 0 };
	hello(5);
	uint64_t id = submit(program("T"), NULL, &w, 0);
	gw_core_expire(core, 1000000);
	ck_assert_int_eq(w.calls, 1);
	ck_assert_uint_eq(n_cancels, 1);
	ck_assert_uint_eq(cancels[0], id);
}
END_TEST

/* ---- STARTED ---- */

START_TEST(started_updates_worker_and_attempts)
{
	struct waiter w1 = { 0 }, w2 = { 0 }, w3 = { 0 };
	hello(5);
	uint64_t a = submit(program("A"), NULL, &w1, 0);
	uint64_t b = submit(program("B"), NULL, &w2, 0);
	submit(program("C"), NULL, &w3, 0);
	int worker, attempts;
	ck_assert(gw_core_progress(core, a, &worker, &attempts));
	ck_assert_int_eq(worker, -1);
	ck_assert_int_eq(attempts, 0);

	gw_core_leader_started(core, a, 3, 1);
	gw_core_leader_started(core, b, 3, 1);
	ck_assert(gw_core_progress(core, a, &worker, &attempts));
	ck_assert_int_eq(worker, 3);
	ck_assert_int_eq(attempts, 1);
	gw_core_leader_started(core, a, 4, 2);
	ck_assert(gw_core_progress(core, a, &worker, &attempts));
	ck_assert_int_eq(worker, 4);
	ck_assert_int_eq(attempts, 2);
	/* A new leader that found it running counts from 1: the gateway's count stays. */
	gw_core_leader_started(core, a, 4, 1);
	ck_assert(gw_core_progress(core, a, &worker, &attempts));
	ck_assert_int_eq(attempts, 2);

	size_t queued = 9;
	struct json_object *by = gw_core_in_flight_by_worker(core, &queued);
	ck_assert_uint_eq(queued, 1);
	ck_assert_str_eq(json_object_to_json_string_ext(by, JSON_C_TO_STRING_PLAIN),
			 "{\"4\":1,\"3\":1}");
	json_object_put(by);
	/* Unknown requests are no news. */
	gw_core_leader_started(core, 4242, 1, 1);
	ck_assert(!gw_core_progress(core, 4242, &worker, &attempts));
}
END_TEST

/* ---- the JSON API's run records ---- */

static struct gw_runs runs;

static void runs_setup(void)
{
	setup();
	gw_runs_init(&runs, &lim);
}

static void runs_teardown(void)
{
	gw_runs_clear(&runs);
	teardown();
}

static struct json_object *fields(const char *verdict)
{
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "verdict", json_object_new_string(verdict));
	return o;
}

START_TEST(run_ids_unique_and_found)
{
	struct gw_run *a = gw_runs_add(&runs, NULL, 1, 100);
	struct gw_run *b = gw_runs_add(&runs, "k", 2, 200);
	ck_assert_uint_eq(runs.count, 2);
	ck_assert_uint_eq(strlen(a->id), 16);
	ck_assert_uint_eq(strspn(a->id, "0123456789abcdef"), 16);
	ck_assert_str_ne(a->id, b->id);
	ck_assert_ptr_eq(gw_runs_find(&runs, a->id), a);
	ck_assert_ptr_eq(gw_runs_find(&runs, b->id), b);
	ck_assert_ptr_null(gw_runs_find(&runs, "0000000000000000"));
	ck_assert_int_eq(b->submitted_wall_ms, 200);
	ck_assert(!a->done);
}
END_TEST

START_TEST(run_queued_running_done)
{
	struct waiter w = { 0 };
	struct gw_run *x = gw_runs_add(&runs, NULL, 1, 0);
	x->req_id = submit(program("A"), NULL, &w, 0);
	int worker, attempts;
	ck_assert_int_eq(gw_run_state(x, core, &worker, &attempts), GW_RUN_QUEUED);
	ck_assert_int_eq(worker, -1);
	ck_assert_int_eq(attempts, 0);
	hello(5);
	ck_assert_int_eq(gw_run_state(x, core, &worker, &attempts), GW_RUN_QUEUED);
	gw_core_leader_started(core, x->req_id, 3, 1);
	ck_assert_int_eq(gw_run_state(x, core, &worker, &attempts), GW_RUN_RUNNING);
	ck_assert_int_eq(worker, 3);
	ck_assert_int_eq(attempts, 1);
	result(x->req_id, 5, "ok", "a", 10);
	gw_run_finish(x, 10, 5000, w.id, fields("ok"));
	ck_assert_int_eq(gw_run_state(x, core, &worker, &attempts), GW_RUN_DONE);
	ck_assert(x->done);
	ck_assert_int_eq(x->finished_wall_ms, 5000);
	ck_assert(gw_run_verdict_is(x, "ok"));
	ck_assert(!gw_run_verdict_is(x, "unavailable"));
}
END_TEST

START_TEST(run_answered_at_once_takes_request_id)
{
	struct gw_run *x = gw_runs_add(&runs, NULL, 1, 0);
	gw_run_finish(x, 0, 0, 1234, fields("ok"));
	ck_assert_uint_eq(x->req_id, 1234);
	struct gw_run *y = gw_runs_add(&runs, NULL, 1, 0);
	y->req_id = 55;
	gw_run_finish(y, 0, 0, 1234, fields("ok"));
	ck_assert_uint_eq(y->req_id, 55);
}
END_TEST

START_TEST(run_kept_for_ttl_after_done)
{
	struct gw_run *done_run = gw_runs_add(&runs, NULL, 1, 0);
	struct gw_run *open_run = gw_runs_add(&runs, NULL, 2, 0);
	char open_id[17];
	memcpy(open_id, open_run->id, sizeof(open_id));
	char done_id[17];
	memcpy(done_id, done_run->id, sizeof(done_id));
	gw_run_finish(done_run, 1000, 0, 1, fields("ok"));
	gw_runs_sweep(&runs, 1000 + 5000 - 1);
	ck_assert_ptr_nonnull(gw_runs_find(&runs, done_id));
	gw_runs_sweep(&runs, 1000 + 5000);
	ck_assert_ptr_null(gw_runs_find(&runs, done_id));
	/* Unfinished runs stay, however old. */
	gw_runs_sweep(&runs, 1000000);
	ck_assert_ptr_nonnull(gw_runs_find(&runs, open_id));
	ck_assert_uint_eq(runs.count, 1);
}
END_TEST

START_TEST(run_records_bounded_oldest_finished_first)
{
	struct gw_run *x[6];
	char ids[6][17];
	for (int i = 0; i < 6; i++) {
		x[i] = gw_runs_add(&runs, NULL, (uint64_t)i, i);
		memcpy(ids[i], x[i]->id, 17);
	}
	/* 0 stays unfinished; 1..5 finish. */
	for (int i = 1; i < 6; i++)
		gw_run_finish(x[i], 10, 10, 1, fields("ok"));
	gw_runs_sweep(&runs, 11);
	ck_assert_uint_eq(runs.count, 3);
	ck_assert_ptr_nonnull(gw_runs_find(&runs, ids[0]));
	ck_assert_ptr_null(gw_runs_find(&runs, ids[1]));
	ck_assert_ptr_null(gw_runs_find(&runs, ids[2]));
	ck_assert_ptr_null(gw_runs_find(&runs, ids[3]));
	ck_assert_ptr_nonnull(gw_runs_find(&runs, ids[4]));
	ck_assert_ptr_nonnull(gw_runs_find(&runs, ids[5]));
}
END_TEST

START_TEST(run_found_by_key_newest_first)
{
	struct gw_run *old = gw_runs_add(&runs, "k", 1, 0);
	struct gw_run *other = gw_runs_add(&runs, "j", 1, 0);
	ck_assert_ptr_eq(gw_runs_find_key(&runs, "k"), old);
	struct gw_run *newer = gw_runs_add(&runs, "k", 2, 0);
	ck_assert_ptr_eq(gw_runs_find_key(&runs, "k"), newer);
	gw_run_drop_key(newer);
	ck_assert_ptr_eq(gw_runs_find_key(&runs, "k"), old);
	gw_run_drop_key(old);
	ck_assert_ptr_null(gw_runs_find_key(&runs, "k"));
	ck_assert_ptr_eq(gw_runs_find_key(&runs, "j"), other);
	gw_runs_remove(&runs, other);
	ck_assert_ptr_null(gw_runs_find_key(&runs, "j"));
	ck_assert_uint_eq(runs.count, 2);
}
END_TEST

static Suite *gwcore_suite(void)
{
	Suite *s = suite_create("gwcore");
	TCase *link = tcase_create("leader link");
	tcase_add_checked_fixture(link, setup, teardown);
	tcase_add_test(link, held_without_leader_and_sent_on_hello);
	tcase_add_test(link, cancel_answers_waiters_and_tells_the_leader);
	tcase_add_test(link, cancel_while_the_link_is_down_is_not_resent);
	tcase_add_test(link, sent_at_once_while_link_up);
	tcase_add_test(link, new_leader_gets_every_unanswered_request_with_same_ids);
	tcase_add_test(link, hello_of_older_epoch_refused);
	tcase_add_test(link, nothing_taken_while_link_down);
	suite_add_tcase(s, link);

	TCase *res = tcase_create("results");
	tcase_add_checked_fixture(res, setup, teardown);
	tcase_add_test(res, result_of_older_epoch_ignored);
	tcase_add_test(res, epoch_named_by_zookeeper_fences_too);
	tcase_add_test(res, epochs_followed_down_after_zookeeper_lost_its_data);
	tcase_add_test(res, result_answers_every_waiter_exactly_once);
	tcase_add_test(res, second_result_acked_never_answers_again);
	tcase_add_test(res, result_for_unknown_request_acked);
	tcase_add_test(res, verdicts_become_plain_statuses);
	tcase_add_test(res, attempts_under_earlier_leaders_count);
	tcase_add_test(res, captured_output_split_from_body);
	suite_add_tcase(s, res);

	TCase *idem = tcase_create("idempotency");
	tcase_add_checked_fixture(idem, setup, teardown);
	tcase_add_test(idem, idempotency_retry_gets_kept_answer_without_second_submit);
	tcase_add_test(idem, idempotency_retry_while_pending_joins);
	tcase_add_test(idem, key_of_another_request_refused);
	tcase_add_test(idem, empty_key_is_no_key);
	tcase_add_test(idem, ids_from_the_source_unique_while_pending);
	tcase_add_test(idem, unavailable_not_kept_for_the_key);
	tcase_add_test(idem, timeout_not_kept_for_the_key);
	suite_add_tcase(s, idem);

	TCase *cache = tcase_create("cache");
	tcase_add_checked_fixture(cache, setup, teardown);
	tcase_add_test(cache, cache_keeps_ok);
	tcase_add_test(cache, cache_keeps_compile_error);
	tcase_add_loop_test(cache, cache_keeps_nothing_else, 0, 6);
	tcase_add_test(cache, cache_tells_plain_from_json_runs);
	tcase_add_test(cache, no_class_name_answered_at_once);
	suite_add_tcase(s, cache);

	TCase *life = tcase_create("deadlines and waiters");
	tcase_add_checked_fixture(life, setup, teardown);
	tcase_add_test(life, deadline_answers_503_timeout_and_forgets);
	tcase_add_test(life, deadline_follows_reloaded_timeout);
	tcase_add_test(life, overload_refused);
	tcase_add_test(life, waiter_gone_request_goes_on);
	tcase_add_test(life, last_waiter_gone_without_a_key_is_abandoned);
	tcase_add_test(life, timed_out_request_is_cancelled_at_the_leader);
	tcase_add_test(life, started_updates_worker_and_attempts);
	suite_add_tcase(s, life);

	TCase *rt = tcase_create("run records");
	tcase_add_checked_fixture(rt, runs_setup, runs_teardown);
	tcase_add_test(rt, run_ids_unique_and_found);
	tcase_add_test(rt, run_queued_running_done);
	tcase_add_test(rt, run_answered_at_once_takes_request_id);
	tcase_add_test(rt, run_kept_for_ttl_after_done);
	tcase_add_test(rt, run_records_bounded_oldest_finished_first);
	tcase_add_test(rt, run_found_by_key_newest_first);
	suite_add_tcase(s, rt);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(gwcore_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
