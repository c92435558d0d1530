/* The run service: what every API that runs programs shares (the JSON
 * API, and the Judge0 and Piston look-alikes).  It starts a run from a
 * parsed request (or finds the one an Idempotency-Key names), keeps its
 * record (runs.c) as the one waiter the core knows, hangs the HTTP
 * requests waiting for it off the record (a client that goes away never
 * cancels the run), and makes its result the JSON API's result fields,
 * which the other APIs translate. */
#include "gateway/runsvc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/judge.h"
#include "gateway/testset.h"
#include "job/jobspec.h"
#include "job/verdict.h"
#include "lib/base64.h"
#include "lib/httpd.h"
#include "lib/util.h"

/* An HTTP request waiting for a run. */
struct gw_run_waiter {
	struct gw_run_waiter *next;
	struct ft_http_req *r;
	struct gw_run *run;
	gw_run_answer_fn fn; /* how it is answered */
	void *ud;
};

/* ---- the result fields ---- */

/* A JSON string of p[0..n) with every invalid UTF-8 sequence replaced by
 * U+FFFD, so the answer is always valid JSON whatever the program wrote. */
static struct json_object *utf8_string(const char *p, size_t n)
{
	struct ft_buf b = { 0 };
	size_t i = 0;
	while (i < n) {
		size_t k = ft_utf8_char_len(p + i, n - i);
		if (k) {
			ft_buf_append(&b, p + i, k);
			i += k;
		} else {
			ft_buf_append(&b, "\xEF\xBF\xBD", 3);
			i++;
		}
	}
	struct json_object *o = json_object_new_string_len(b.data ? b.data : "", (int)b.len);
	ft_buf_free(&b);
	return o;
}

/* Compile errors as data: one entry per "Error on line L, column C in F: M". */
static struct json_object *diagnostics(const char *body, size_t len)
{
	static const char head[] = FT_COMPILE_ERROR_HEAD;
	if (len < sizeof(head) - 1 || memcmp(body, head, sizeof(head) - 1) != 0)
		return NULL;
	struct json_object *arr = json_object_new_array();
	const char *p = body, *end = body + len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		char line[2048];
		if (n < sizeof(line)) {
			memcpy(line, p, n);
			line[n] = '\0';
			long ln, col;
			int off = 0;
			if (sscanf(line, "Error on line %ld, column %ld in %n", &ln, &col, &off) ==
				    2 &&
			    off > 0) {
				const char *file = line + off;
				char *colon = strstr(file, ": ");
				if (colon) {
					struct json_object *d = json_object_new_object();
					json_object_object_add(d, "line",
							       json_object_new_int64(ln));
					json_object_object_add(d, "column",
							       json_object_new_int64(col));
					json_object_object_add(
						d, "file",
						utf8_string(file, (size_t)(colon - file)));
					json_object_object_add(
						d, "message",
						utf8_string(colon + 2, strlen(colon + 2)));
					json_object_array_add(arr, d);
				}
			}
		}
		p += n + 1;
	}
	return arr;
}

static struct json_object *meta_field(const struct gw_result *res, const char *key, bool nonneg)
{
	struct json_object *v;
	if (!res->meta || !json_object_object_get_ex(res->meta, key, &v) ||
	    !json_object_is_type(v, json_type_int))
		return NULL;
	int64_t n = json_object_get_int64(v);
	return nonneg && n < 0 ? NULL : json_object_new_int64(n);
}

static struct json_object *meta_bool(const struct gw_result *res, const char *key)
{
	struct json_object *v;
	if (!res->meta || !json_object_object_get_ex(res->meta, key, &v) ||
	    !json_object_is_type(v, json_type_boolean))
		return NULL;
	return json_object_new_boolean(json_object_get_boolean(v));
}

/* The bytes of a result field, as the run asked: base64, or UTF-8 text
 * (then a field whose bytes were not all UTF-8 is named in not_utf8: its
 * text has U+FFFD in their place, and the client knows to ask for base64). */
static struct json_object *bytes_field(const char *p, size_t n, bool base64, const char *name,
				       struct json_object *not_utf8)
{
	if (!p)
		return NULL;
	if (base64) {
		size_t len;
		char *e = ft_base64_encode(p, n, &len);
		struct json_object *o = json_object_new_string_len(e, (int)len);
		free(e);
		return o;
	}
	if (!ft_utf8_valid(p, n))
		json_object_array_add(not_utf8, json_object_new_string(name));
	return utf8_string(p, n);
}

/* Judged against expected (expected_len bytes; NULL: not judged). */
static struct json_object *result_fields(const struct gw_result *res, bool base64,
					 const char *expected, size_t expected_len, int compare)
{
	const char *verdict = gw_verdict_of(res);
	bool ok = strcmp(verdict, "ok") == 0;
	const char *body = res->body ? res->body : "";
	/* Judged: the answer (run()'s string, a main program's stdout) against
	 * what was expected. */
	if (ok && expected)
		verdict = ft_verdict_name(gw_output_matches((enum gw_compare)compare, body,
							    res->len, expected, expected_len)
						  ? FT_VERDICT_ACCEPTED
						  : FT_VERDICT_WRONG_ANSWER);
	struct json_object *o = json_object_new_object();
	struct json_object *not_utf8 = json_object_new_array();
	json_object_object_add(o, "verdict", json_object_new_string(verdict));
	json_object_object_add(o, "output",
			       ok ? bytes_field(body, res->len, base64, "output", not_utf8) : NULL);
	json_object_object_add(o, "error",
			       ok ? NULL : bytes_field(body, res->len, base64, "error", not_utf8));
	json_object_object_add(o, "diagnostics",
			       strcmp(verdict, "compile_error") == 0 ? diagnostics(body, res->len)
								     : NULL);
	json_object_object_add(o, "exit_code", meta_field(res, "exit", true));
	/* How the class was run: main(String[]) or run(); null when it never ran. */
	struct json_object *entry = NULL;
	if (res->meta && json_object_object_get_ex(res->meta, "entry", &entry))
		entry = json_object_get(entry);
	json_object_object_add(o, "entry", entry);
	json_object_object_add(o, "time_ms", meta_field(res, "wall_ms", true));
	json_object_object_add(o, "worker", meta_field(res, "worker", true));
	json_object_object_add(o, "attempts", meta_field(res, "attempts", true));
	json_object_object_add(o, "cached", json_object_new_boolean(res->cached));
	json_object_object_add(o, "compile_cached", meta_bool(res, "compile_cached"));
	json_object_object_add(o, "cpu_ms", meta_field(res, "cpu_ms", true));
	json_object_object_add(o, "stdout",
			       bytes_field(res->out, res->out_len, base64, "stdout", not_utf8));
	json_object_object_add(o, "stderr",
			       bytes_field(res->err, res->err_len, base64, "stderr", not_utf8));
	json_object_object_add(o, "encoding", json_object_new_string(base64 ? "base64" : "utf8"));
	json_object_object_add(o, "not_utf8", not_utf8);
	struct json_object *mem = meta_field(res, "memory_bytes", true);
	json_object_object_add(o, "memory_kb",
			       mem ? json_object_new_int64(json_object_get_int64(mem) / 1024)
				   : NULL);
	json_object_put(mem);
	return o;
}

struct json_object *gw_runsvc_run_json(const struct gw_core *core, const struct gw_run *x)
{
	static const char *const state_names[] = {
		[GW_RUN_QUEUED] = "queued",
		[GW_RUN_RUNNING] = "running",
		[GW_RUN_DONE] = "done",
	};
	struct json_object *o = json_object_new_object();
	int worker, attempts;
	enum gw_run_state state = gw_run_state(x, core, &worker, &attempts);
	json_object_object_add(o, "id", json_object_new_string(x->id));
	json_object_object_add(o, "status", json_object_new_string(state_names[state]));
	json_object_object_add(o, "request_id",
			       x->req_id ? json_object_new_uint64(x->req_id) : NULL);
	json_object_object_add(o, "submitted_at_ms", json_object_new_int64(x->submitted_wall_ms));
	json_object_object_add(o, "finished_at_ms",
			       x->done ? json_object_new_int64(x->finished_wall_ms) : NULL);
	if (x->done) {
		json_object_object_foreach(x->result, key, val)
		{
			json_object_object_add(o, key, json_object_get(val));
		}
	} else {
		json_object_object_add(o, "worker",
				       worker >= 0 ? json_object_new_int(worker) : NULL);
		json_object_object_add(o, "attempts", json_object_new_int(attempts));
	}
	return o;
}

static void waiter_abandon(void *ud, struct ft_http_req *r)
{
	struct gw_run_waiter *w = ud;
	for (struct gw_run_waiter **p = &w->run->waiters; *p; p = &(*p)->next) {
		if (*p == w) {
			*p = w->next;
			free(w);
			return;
		}
	}
}

static void add_waiter(struct gw_run *x, struct ft_http_req *r, gw_run_answer_fn fn, void *ud)
{
	struct gw_run_waiter *w = ft_xcalloc(1, sizeof(*w));
	w->r = r;
	w->run = x;
	w->fn = fn;
	w->ud = ud;
	w->next = x->waiters;
	x->waiters = w;
	ft_http_set_abandon(r, waiter_abandon, w);
}

/* The core's one callback for the run (a done run's answer does not ask
 * the core). */
/* x is done with result (taken): its record, its callback, its waiters. */
static void finish_run(struct gw_run *x, uint64_t req_id, struct json_object *result)
{
	gw_run_finish(x, ft_now_ms(), ft_wall_ms(), req_id, result);
	if (x->callback_url && x->callbacks) {
		const struct gw_callback_as *as = x->callback_as;
		struct json_object *o = as ? as->body(as->ctx, x) : gw_runsvc_run_json(NULL, x);
		size_t n;
		const char *text = json_object_to_json_string_length(
			o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &n);
		gw_callbacks_post(x->callbacks, as ? as->method : "POST", x->callback_url, x->id,
				  text, n);
		json_object_put(o);
	}
	while (x->waiters) {
		struct gw_run_waiter *w = x->waiters;
		x->waiters = w->next;
		ft_http_set_abandon(w->r, NULL, NULL);
		w->fn(w->ud, w->r, x);
		free(w);
	}
}

static void run_done(void *ud, const struct gw_result *res)
{
	struct gw_run *x = ud;
	finish_run(x, res->id,
		   result_fields(res, x->base64, x->expected, x->expected_len, x->compare));
}

/* api_error's kind of refusal, into err. */
static void refuse(struct gw_api_error *err, unsigned status, const char *code, const char *fmt,
		   ...) __attribute__((format(printf, 4, 5)));
static void refuse(struct gw_api_error *err, unsigned status, const char *code, const char *fmt,
		   ...)
{
	va_list ap;
	err->status = status;
	snprintf(err->code, sizeof(err->code), "%s", code);
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
}

#define KEY_REUSED "This Idempotency-Key was used for a different request"

/* ---- runs with tests (gateway/testset.h) ---- */

/* What the core calls back for one test. */
struct test_child {
	struct gw_runsvc *sv;
	struct gw_run *x;
	size_t i;
};

static void test_done(void *ud, const struct gw_result *res);

static void submit_test(struct gw_runsvc *sv, struct gw_run *x, size_t i, int prefer)
{
	struct gw_testset *ts = x->tests;
	struct test_child *c = &((struct test_child *)ts->ctx)[i];
	*c = (struct test_child){ sv, x, i };
	char *job = gw_testset_job_text(ts, i, prefer);
	struct gw_submission s = {
		.src = ts->blob.data ? ts->blob.data : "",
		.len = ts->blob.len,
		.main_len = ts->main_len,
		.job = job,
		/* The whole set was admitted under the pending limit. */
		.admitted = i > 0,
	};
	uint64_t id = 0;
	enum gw_submit_status st =
		gw_core_submit(sv->core, ft_now_ms(), &s, NULL, test_done, c, &id);
	free(job);
	if (st == GW_SUBMITTED) {
		ts->req_ids[i] = id;
		x->req_id = id; /* the latest: GET shows the set running */
	} else if (st == GW_OVERLOADED) {
		static const char msg[] = "Too many requests in progress "
					  "(limits.max_pending_requests); try again later";
		struct gw_result res = {
			.status = 503, .verdict = "overloaded", .body = msg, .len = sizeof(msg) - 1
		};
		test_done(c, &res);
	}
}

static void finish_tests(struct gw_run *x)
{
	struct gw_testset *ts = x->tests;
	struct json_object *result = gw_testset_result(ts);
	uint64_t first = ts->first_req_id;
	free(ts->ctx);
	gw_testset_free(ts);
	x->tests = NULL;
	finish_run(x, first ? first : x->req_id, result);
}

static void test_done(void *ud, const struct gw_result *res)
{
	struct test_child *c = ud;
	struct gw_run *x = c->x;
	struct gw_testset *ts = x->tests;
	size_t i = c->i;
	ts->req_ids[i] = 0;
	ts->results[i] =
		result_fields(res, x->base64, ts->expected[i], ts->expected_len[i], x->compare);
	ts->n_done++;
	if (i == 0) {
		ts->first_req_id = res->id;
		if (gw_testset_runs_rest(gw_verdict_of(res))) {
			struct json_object *w;
			int prefer = res->meta && json_object_object_get_ex(res->meta, "worker", &w)
					     ? json_object_get_int(w)
					     : 0;
			ts->submitting = true;
			for (size_t j = 1; j < ts->n; j++)
				submit_test(c->sv, x, j, prefer);
			ts->submitting = false;
		} else {
			/* It did not compile, or could not run at all: so would the
			 * others. */
			for (size_t j = 1; j < ts->n; j++) {
				ts->results[j] = json_object_get(ts->results[0]);
				ts->n_done++;
			}
		}
	}
	if (!ts->submitting && ts->n_done == ts->n)
		finish_tests(x);
}

static bool callback_allowed(struct gw_runsvc *sv, const char *url, struct gw_api_error *err)
{
	char why[sizeof(err->message)];
	if (!url)
		return true;
	if (sv->callbacks &&
	    gw_callback_url_check(sv->cfg->callbacks.allowed_hosts, url, why, sizeof(why)) == 0)
		return true;
	refuse(err, 422, "callback_not_allowed", "%s",
	       sv->callbacks ? why : "This gateway makes no callbacks");
	return false;
}

/* The run an Idempotency-Key names (*found), if it may be answered with:
 * NULL if none (or it may be run anew), or when the key was used for
 * another run (then *err says so). */
static struct gw_run *keyed_run(struct gw_runsvc *sv, const char *key, uint64_t hash,
				struct gw_api_error *err, bool *refused)
{
	*refused = false;
	struct gw_run *x = key ? gw_runs_find_key(&sv->runs, key) : NULL;
	if (x && x->done &&
	    (gw_run_verdict_is(x, "unavailable") || gw_run_verdict_is(x, "cancelled") ||
	     gw_run_verdict_is(x, "timeout"))) {
		/* The cluster could not run it then (or not in time: the leader
		 * was told to drop it), or its client stopped it: a retry runs
		 * it anew rather than repeating a non-answer for result_ttl_ms. */
		gw_run_drop_key(x);
		return NULL;
	}
	if (x && x->src_hash != hash) {
		/* Which run that was is the other request's business. */
		refuse(err, 422, "idempotency_key_reused", KEY_REUSED);
		*refused = true;
		return NULL;
	}
	return x;
}

static struct gw_run *start_tests(struct gw_runsvc *sv, struct gw_run_request *q, const char *key,
				  struct gw_api_error *err, bool *fresh)
{
	struct gw_run *x = NULL;
	struct gw_testset *ts = gw_testset_new(q);
	char *job0 = gw_testset_job_text(ts, 0, 0);
	uint64_t hash = ft_fnv1a64(FT_FNV1A64_OFFSET_BASIS, ts->blob.data ? ts->blob.data : "",
				   ts->blob.len) ^
			(ft_fnv1a64(FT_FNV1A64_OFFSET_BASIS, job0, strlen(job0)) * 31);
	hash = gw_testset_hash(q, hash) * 4 + (uint64_t)q->base64 * 2 + (uint64_t)q->compare;
	size_t max_frame = sv->cfg->limits.max_frame_bytes;
	size_t need = ts->blob.len + strlen(job0);
	free(job0);
	bool refused;
	if (!callback_allowed(sv, q->callback_url, err))
		goto out;
	if (need + 4096 > max_frame) {
		refuse(err, 413, "body_too_large",
		       "This run is too large to forward (%zu bytes of sources and options; "
		       "limits.max_frame_bytes is %zu)",
		       need, max_frame);
		goto out;
	}
	x = keyed_run(sv, key, hash, err, &refused);
	if (x || refused)
		goto out;
	size_t max = (size_t)sv->cfg->limits.max_pending_requests;
	if (gw_core_pending(sv->core) + ts->n > max) {
		refuse(err, 503, "overloaded",
		       "Too many requests in progress for %zu tests (limits.max_pending_requests "
		       "is %zu); try again later",
		       ts->n, max);
		goto out;
	}
	x = gw_runs_add(&sv->runs, key, hash, ft_wall_ms());
	x->base64 = q->base64;
	x->compare = q->compare;
	x->callback_url = q->callback_url ? ft_xstrdup(q->callback_url) : NULL;
	x->callback_as = q->callback_as;
	x->callbacks = sv->callbacks;
	x->tests = ts;
	ts->ctx = ft_xcalloc(ts->n, sizeof(struct test_child));
	ts = NULL;
	*fresh = true;
	submit_test(sv, x, 0, 0);
out:
	gw_testset_free(ts);
	gw_run_request_free(q);
	return x;
}

void gw_runsvc_cancel(struct gw_runsvc *sv, struct gw_run *x)
{
	int64_t now = ft_now_ms();
	if (!x->tests) {
		(void)gw_core_cancel(sv->core, now, x->req_id);
		return;
	}
	/* Each cancel answers its test at once, and the last one finishes
	 * the set (and frees it). */
	size_t n = x->tests->n;
	uint64_t *ids = ft_xmemdup(x->tests->req_ids, n * sizeof(*ids));
	for (size_t i = 0; i < n && x->tests; i++)
		if (ids[i])
			(void)gw_core_cancel(sv->core, now, ids[i]);
	free(ids);
}

/* ---- starting ---- */

struct gw_run *gw_runsvc_start(struct gw_runsvc *sv, struct gw_run_request *q, const char *key,
			       struct gw_api_error *err, bool *fresh)
{
	*fresh = false;
	if (key && !*key)
		key = NULL; /* an empty key is no key */
	if (q->n_tests)
		return start_tests(sv, q, key, err, fresh);
	/* What travels: the job object, and the source or the files. */
	struct ft_buf blob = { 0 };
	struct json_object *job = ft_jobspec_encode(&q->spec, &blob);
	if (q->src)
		ft_buf_append(&blob, q->src, q->len);
	size_t main_len = q->src ? q->len : q->spec.files[0].len;
	bool base64 = q->base64;
	char *expected = q->expected ? ft_xmemdup(q->expected, q->expected_len + 1) : NULL;
	size_t expected_len = q->expected_len;
	int compare = q->compare;
	char *callback_url = q->callback_url ? ft_xstrdup(q->callback_url) : NULL;
	const struct gw_callback_as *callback_as = q->callback_as;
	gw_run_request_free(q);
	const char *job_text = json_object_to_json_string_ext(
		job, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	struct gw_run *x = NULL;
	/* The configuration leaves a body's worth of room in a frame (plus
	 * 64 KiB); this only guards against a re-encoding that grew. */
	size_t max_frame = sv->cfg->limits.max_frame_bytes;
	if (blob.len + strlen(job_text) + 4096 > max_frame) {
		refuse(err, 413, "body_too_large",
		       "This run is too large to forward (%zu bytes of sources and %zu of "
		       "options; limits.max_frame_bytes is %zu)",
		       blob.len, strlen(job_text), max_frame);
		goto out;
	}
	uint64_t hash = ft_fnv1a64(FT_FNV1A64_OFFSET_BASIS, blob.data ? blob.data : "", blob.len) ^
			(ft_fnv1a64(FT_FNV1A64_OFFSET_BASIS, job_text, strlen(job_text)) * 31);
	/* The same run asked for in the other encoding, or judged against
	 * another output, is another answer. */
	hash = hash * 2 + base64;
	if (expected)
		hash ^= ft_fnv1a64(FT_FNV1A64_OFFSET_BASIS + (uint64_t)compare, expected,
				   expected_len) *
			7;

	if (!callback_allowed(sv, callback_url, err))
		goto out;
	bool refused;
	x = keyed_run(sv, key, hash, err, &refused);
	if (x || refused)
		goto out;
	x = gw_runs_add(&sv->runs, key, hash, ft_wall_ms());
	x->base64 = base64;
	x->expected = expected;
	x->expected_len = expected_len;
	x->compare = compare;
	x->callback_url = callback_url;
	x->callback_as = callback_as;
	x->callbacks = sv->callbacks;
	expected = NULL;
	callback_url = NULL;
	uint64_t id = 0;
	struct gw_submission s = {
		.src = blob.data ? blob.data : "",
		.len = blob.len,
		.main_len = main_len,
		.job = job_text,
	};
	switch (gw_core_submit(sv->core, ft_now_ms(), &s, key, run_done, x, &id)) {
	case GW_OVERLOADED:
		gw_runs_remove(&sv->runs, x);
		x = NULL;
		refuse(err, 503, "overloaded",
		       "Too many requests in progress (limits.max_pending_requests); try again "
		       "later");
		break;
	case GW_KEY_REUSED:
		gw_runs_remove(&sv->runs, x);
		x = NULL;
		refuse(err, 422, "idempotency_key_reused", KEY_REUSED);
		break;
	case GW_ANSWERED:
		*fresh = true;
		break;
	case GW_SUBMITTED:
		x->req_id = id;
		*fresh = true;
		break;
	}
out:
	free(expected);
	free(callback_url);
	json_object_put(job);
	ft_buf_free(&blob);
	return x;
}

void gw_runsvc_when_done(struct gw_run *x, struct ft_http_req *r, gw_run_answer_fn fn, void *ud)
{
	if (x->done)
		fn(ud, r, x);
	else
		add_waiter(x, r, fn, ud);
}

/* ---- the records ---- */

void gw_runsvc_init(struct gw_runsvc *sv, struct gw_core *core, const struct ft_config *cfg)
{
	sv->core = core;
	sv->cfg = cfg;
	gw_runs_init(&sv->runs, &cfg->limits);
}

void gw_runsvc_clear(struct gw_runsvc *sv)
{
	for (struct gw_run *x = sv->runs.head; x; x = x->next) {
		if (x->tests) {
			free(x->tests->ctx);
			gw_testset_free(x->tests);
			x->tests = NULL;
		}
		while (x->waiters) {
			struct gw_run_waiter *w = x->waiters;
			x->waiters = w->next;
			free(w);
		}
	}
	gw_runs_clear(&sv->runs);
}
