/* The JSON API under /v1 (documented in docs/openapi.yaml):
 *
 *   POST /v1/runs            submit a run; wait for it (default) or get 202
 *   GET  /v1/runs/{id}       a run's status and, once done, its result
 *   GET  /v1/cluster         membership and election view
 *   GET  /v1/nodes/{id}/log  307 to the node's heartbeat log endpoint
 *   GET  /v1/events          recent failures, joins and leadership changes
 *   GET  /v1/recent          recent answers (both APIs) and requests in flight
 *
 * Every error is {"error": "<stable code>", "message": "<human text>"}.
 *
 * A run is one submission to the core (its records: runs.c); the run
 * record is the one waiter the core knows; the HTTP requests waiting for
 * it hang off the record, so a client that goes away never cancels the
 * run.  Request bodies are parsed by run_request.c. */
#include "gateway/api_v1.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/base64.h"
#include "lib/httpd.h"
#include "job/jobspec.h"
#include "job/verdict.h"
#include "lib/metrics.h"
#include "lib/util.h"
#include "gateway/discovery.h"
#include "gateway/judge.h"
#include "gateway/metrics.h"
#include "gateway/run_request.h"
#include "gateway/runs.h"
#include "runner/limits.h"

#define MAX_TAIL 1000000
#define RECENT_DEFAULT 20
#define RECENT_MAX 64

struct gw_api_v1 {
	struct gw_core *core;
	const struct ft_config *cfg;
	const struct gw_cluster *cluster;
	struct gw_metrics *metrics;
	struct gw_runs runs;
	char java_version[64]; /* of paths.java, read at start */
};

/* An HTTP request waiting for a run. */
struct gw_run_waiter {
	struct gw_run_waiter *next;
	struct ft_http_req *r;
	struct gw_run *run;
};

/* ---- responses ---- */

static void respond_json(struct ft_http_req *r, unsigned status, struct json_object *o)
{
	const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
								  JSON_C_TO_STRING_NOSLASHESCAPE);
	size_t len = strlen(s);
	char *body = ft_xmalloc(len + 2);
	memcpy(body, s, len);
	body[len] = '\n';
	ft_http_add_header(r, "Cache-Control", "no-store");
	ft_http_respond(r, status, "application/json", body, len + 1);
	free(body);
}

static void api_error(struct ft_http_req *r, unsigned status, const char *code, const char *fmt,
		      ...) __attribute__((format(printf, 4, 5)));

static void api_error(struct ft_http_req *r, unsigned status, const char *code, const char *fmt,
		      ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "error", json_object_new_string(code));
	json_object_object_add(o, "message", json_object_new_string(msg));
	respond_json(r, status, o);
	json_object_put(o);
}

static bool want_method(struct ft_http_req *r, const char *allow)
{
	const char *m = ft_http_method(r);
	/* allow is "GET" or "POST": exactly one method per resource here. */
	if (strcmp(m, allow) == 0)
		return true;
	ft_http_add_header(r, "Allow", allow);
	api_error(r, 405, "method_not_allowed", "Method %s is not allowed here: use %s", m, allow);
	return false;
}

/* ---- strings ---- */

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

/* Non-negative decimal integer, whole string; false otherwise. */
static bool parse_u64(const char *s, uint64_t *out)
{
	if (!s || !*s || strlen(s) > 19)
		return false;
	uint64_t v = 0;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return false;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	*out = v;
	return true;
}

/* ---- run records ---- */

static double runs_stored(void *ud)
{
	const struct gw_api_v1 *a = ud;
	return (double)a->runs.count;
}

struct gw_api_v1 *gw_api_v1_new(struct gw_core *core, const struct ft_config *cfg,
				const struct gw_cluster *cluster, struct gw_metrics *metrics)
{
	struct gw_api_v1 *a = ft_xcalloc(1, sizeof(*a));
	a->core = core;
	a->cfg = cfg;
	a->cluster = cluster;
	a->metrics = metrics;
	gw_runs_init(&a->runs, &cfg->limits);
	gw_java_version(cfg->java, a->java_version, sizeof(a->java_version));
	ft_metrics_gauge_fn(
		"ftgw_api_runs_stored",
		"Run records the JSON API keeps (unfinished, and finished within the TTL)",
		runs_stored, a);
	return a;
}

void gw_api_v1_free(struct gw_api_v1 *a)
{
	if (!a)
		return;
	for (struct gw_run *x = a->runs.head; x; x = x->next) {
		while (x->waiters) {
			struct gw_run_waiter *w = x->waiters;
			x->waiters = w->next;
			free(w);
		}
	}
	gw_runs_clear(&a->runs);
	free(a);
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

static struct json_object *result_fields(const struct gw_result *res, const struct gw_run *x)
{
	bool base64 = x->base64;
	const char *verdict = gw_verdict_of(res);
	bool ok = strcmp(verdict, "ok") == 0;
	const char *body = res->body ? res->body : "";
	/* Judged: the answer (run()'s string, a main program's stdout) against
	 * what was expected. */
	if (ok && x->expected)
		verdict = ft_verdict_name(gw_output_matches((enum gw_compare)x->compare, body,
							    res->len, x->expected, x->expected_len)
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

static struct json_object *run_json(const struct gw_core *core, const struct gw_run *x)
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

static void respond_run(const struct gw_core *core, struct ft_http_req *r, unsigned status,
			const struct gw_run *x)
{
	char loc[64];
	snprintf(loc, sizeof(loc), "/v1/runs/%s", x->id);
	if (status == 202)
		ft_http_add_header(r, "Location", loc);
	struct json_object *o = run_json(core, x);
	respond_json(r, status, o);
	json_object_put(o);
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

static void add_waiter(struct gw_run *x, struct ft_http_req *r)
{
	struct gw_run_waiter *w = ft_xcalloc(1, sizeof(*w));
	w->r = r;
	w->run = x;
	w->next = x->waiters;
	x->waiters = w;
	ft_http_set_abandon(r, waiter_abandon, w);
}

/* The core's one callback for the run (a done run's answer does not ask
 * the core). */
static void run_done(void *ud, const struct gw_result *res)
{
	struct gw_run *x = ud;
	gw_run_finish(x, ft_now_ms(), ft_wall_ms(), res->id, result_fields(res, x));
	while (x->waiters) {
		struct gw_run_waiter *w = x->waiters;
		x->waiters = w->next;
		ft_http_set_abandon(w->r, NULL, NULL);
		respond_run(NULL, w->r, 200, x);
		free(w);
	}
}

/* ---- POST /v1/runs ---- */

static void post_run(struct gw_api_v1 *a, struct ft_http_req *r)
{
	if (ft_http_body_too_big(r)) {
		api_error(r, 413, "body_too_large",
			  "Request body too large: the limit is %zu bytes (limits.max_body_bytes)",
			  a->cfg->limits.max_body_bytes);
		return;
	}
	if (!ft_http_content_type_is(r, "application/json")) {
		api_error(r, 415, "unsupported_media_type",
			  "Content-Type must be application/json");
		return;
	}
	size_t len;
	const char *body = ft_http_body(r, &len);
	struct gw_run_request q;
	struct gw_api_error e;
	if (!gw_run_request_parse(body, len, &a->cfg->limits, &q, &e)) {
		api_error(r, e.status, e.code, "%s", e.message);
		return;
	}
	/* What travels: the job object, and the source or the files. */
	struct ft_buf blob = { 0 };
	struct json_object *job = ft_jobspec_encode(&q.spec, &blob);
	if (q.src)
		ft_buf_append(&blob, q.src, q.len);
	size_t main_len = q.src ? q.len : q.spec.files[0].len;
	bool wait = q.wait, base64 = q.base64;
	char *expected = q.expected ? ft_xmemdup(q.expected, q.expected_len + 1) : NULL;
	size_t expected_len = q.expected_len;
	int compare = q.compare;
	gw_run_request_free(&q);
	const char *job_text = json_object_to_json_string_ext(
		job, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	/* The configuration leaves a body's worth of room in a frame (plus
	 * 64 KiB); this only guards against a re-encoding that grew. */
	size_t max_frame = a->cfg->limits.max_frame_bytes;
	if (blob.len + strlen(job_text) + 4096 > max_frame) {
		api_error(r, 413, "body_too_large",
			  "This run is too large to forward (%zu bytes of sources and %zu of "
			  "options; limits.max_frame_bytes is %zu)",
			  blob.len, strlen(job_text), max_frame);
		json_object_put(job);
		ft_buf_free(&blob);
		free(expected);
		return;
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

	const char *key = ft_http_header(r, "Idempotency-Key");
	if (key && !*key)
		key = NULL;
	struct gw_run *x = key ? gw_runs_find_key(&a->runs, key) : NULL;
	if (x && x->done &&
	    (gw_run_verdict_is(x, "unavailable") || gw_run_verdict_is(x, "cancelled"))) {
		/* The cluster could not run it then, or its client stopped it:
		 * a retry runs it anew. */
		gw_run_drop_key(x);
		x = NULL;
	}
	if (x) {
		if (x->src_hash != hash) {
			api_error(r, 422, "idempotency_key_reused",
				  "This Idempotency-Key was used for another run (run %s)", x->id);
		} else if (x->done || !wait) {
			respond_run(a->core, r, x->done && wait ? 200 : 202, x);
		} else {
			add_waiter(x, r);
		}
		goto out;
	}
	x = gw_runs_add(&a->runs, key, hash, ft_wall_ms());
	x->base64 = base64;
	x->expected = expected;
	x->expected_len = expected_len;
	x->compare = compare;
	expected = NULL;
	uint64_t id = 0;
	struct gw_submission s = {
		.src = blob.data ? blob.data : "",
		.len = blob.len,
		.main_len = main_len,
		.job = job_text,
	};
	switch (gw_core_submit(a->core, ft_now_ms(), &s, key, run_done, x, &id)) {
	case GW_OVERLOADED:
		gw_runs_remove(&a->runs, x);
		ft_http_add_header(r, "Retry-After", "1");
		api_error(r, 503, "overloaded",
			  "Too many requests in progress (limits.max_pending_requests); try again "
			  "later");
		break;
	case GW_ANSWERED:
		respond_run(a->core, r, wait ? 200 : 202, x);
		break;
	case GW_SUBMITTED:
		x->req_id = id;
		if (wait)
			add_waiter(x, r);
		else
			respond_run(a->core, r, 202, x);
		break;
	}
out:
	free(expected);
	json_object_put(job);
	ft_buf_free(&blob);
}

/* GET reads the run, DELETE cancels it. */
static void run_resource(struct gw_api_v1 *a, struct ft_http_req *r, const char *id)
{
	const char *m = ft_http_method(r);
	bool del = strcmp(m, "DELETE") == 0;
	if (!del && strcmp(m, "GET") != 0) {
		ft_http_add_header(r, "Allow", "GET, DELETE");
		api_error(r, 405, "method_not_allowed",
			  "Method %s is not allowed here: use GET or DELETE", m);
		return;
	}
	struct gw_run *x = gw_runs_find(&a->runs, id);
	if (!x) {
		api_error(r, 404, "run_not_found",
			  "No run %s: unknown, or its result expired (kept %d s after it finished, "
			  "limits.result_ttl_ms)",
			  id, a->cfg->limits.result_ttl_ms / 1000);
		return;
	}
	if (del && x->done) {
		api_error(r, 409, "run_finished", "Run %s finished before it could be cancelled",
			  id);
		return;
	}
	/* The core answers the run "cancelled" at once (run_done), whatever
	 * the leader and the worker still have to stop. */
	if (del)
		(void)gw_core_cancel(a->core, ft_now_ms(), x->req_id);
	respond_run(a->core, r, 200, x);
}

/* ---- the rest ---- */

static void get_runtimes(struct gw_api_v1 *a, struct ft_http_req *r)
{
	if (!want_method(r, "GET"))
		return;
	struct json_object *o = gw_runtimes_json(a->java_version);
	respond_json(r, 200, o);
	json_object_put(o);
}

static void get_limits(struct gw_api_v1 *a, struct ft_http_req *r)
{
	if (!want_method(r, "GET"))
		return;
	struct json_object *o = gw_limits_json(&a->cfg->limits);
	respond_json(r, 200, o);
	json_object_put(o);
}

static void get_openapi(struct ft_http_req *r)
{
	if (!want_method(r, "GET"))
		return;
	ft_http_respond(r, 200, "application/yaml; charset=utf-8", (const char *)gw_openapi_yaml,
			gw_openapi_yaml_len);
}

static void get_cluster(struct gw_api_v1 *a, struct ft_http_req *r)
{
	if (!want_method(r, "GET"))
		return;
	int leader;
	struct json_object *view = gw_cluster_json(a->cluster, &leader);
	respond_json(r, 200, view);
	json_object_put(view);
}

static void get_node_log(struct gw_api_v1 *a, struct ft_http_req *r, const char *id_text)
{
	if (!want_method(r, "GET"))
		return;
	uint64_t id;
	const struct ft_node_conf *nc = NULL;
	if (parse_u64(id_text, &id) && id <= 65535)
		nc = ft_config_node(a->cfg, (int)id);
	if (!nc) {
		api_error(r, 404, "node_not_found", "No node %s in the cluster's configuration",
			  id_text);
		return;
	}
	const char *kind = ft_http_arg(r, "kind");
	if (!kind)
		kind = "summary";
	if (strcmp(kind, "summary") != 0 && strcmp(kind, "verbose") != 0) {
		api_error(r, 400, "invalid_parameter", "kind must be summary or verbose");
		return;
	}
	const char *tail_text = ft_http_arg(r, "tail");
	uint64_t tail = 0;
	if (tail_text && (!parse_u64(tail_text, &tail) || tail < 1 || tail > MAX_TAIL)) {
		api_error(r, 400, "invalid_parameter", "tail must be an integer from 1 to %d",
			  MAX_TAIL);
		return;
	}
	char url[256];
	if (tail_text)
		snprintf(url, sizeof(url), "http://%s/log/%s?tail=%" PRIu64, nc->http.text, kind,
			 tail);
	else
		snprintf(url, sizeof(url), "http://%s/log/%s", nc->http.text, kind);
	ft_http_add_header(r, "Location", url);
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "location", json_object_new_string(url));
	respond_json(r, 307, o);
	json_object_put(o);
}

static void get_events(struct ft_http_req *r)
{
	if (!want_method(r, "GET"))
		return;
	uint64_t since = 0;
	const char *s = ft_http_arg(r, "since");
	if (s && !parse_u64(s, &since)) {
		api_error(r, 400, "invalid_parameter", "since must be a non-negative integer");
		return;
	}
	struct json_object *o = ft_metrics_events_json(since);
	respond_json(r, 200, o);
	json_object_put(o);
}

static void get_recent(struct gw_api_v1 *a, struct ft_http_req *r)
{
	if (!want_method(r, "GET"))
		return;
	uint64_t limit = RECENT_DEFAULT;
	const char *s = ft_http_arg(r, "limit");
	if (s && (!parse_u64(s, &limit) || limit < 1 || limit > RECENT_MAX)) {
		api_error(r, 400, "invalid_parameter", "limit must be an integer from 1 to %d",
			  RECENT_MAX);
		return;
	}
	struct json_object *o = gw_recent_json(a->metrics, (size_t)limit);
	respond_json(r, 200, o);
	json_object_put(o);
}

/* "/nodes/{id}/log": copies {id} into seg. */
static bool node_log_path(const char *rest, char *seg, size_t cap)
{
	static const char pre[] = "/nodes/";
	if (strncmp(rest, pre, sizeof(pre) - 1) != 0)
		return false;
	const char *id = rest + sizeof(pre) - 1, *slash = strchr(id, '/');
	if (!slash || slash == id || (size_t)(slash - id) >= cap || strcmp(slash, "/log") != 0)
		return false;
	memcpy(seg, id, (size_t)(slash - id));
	seg[slash - id] = '\0';
	return true;
}

bool gw_api_v1_route(struct gw_api_v1 *a, struct ft_http_req *r)
{
	const char *path = ft_http_path(r);
	if (strcmp(path, "/v1") != 0 && strncmp(path, "/v1/", 4) != 0)
		return false;
	gw_runs_sweep(&a->runs, ft_now_ms());
	const char *rest = path + 3;
	char seg[80];
	if (strcmp(rest, "/runs") == 0) {
		if (want_method(r, "POST"))
			post_run(a, r);
	} else if (strncmp(rest, "/runs/", 6) == 0 && rest[6] && !strchr(rest + 6, '/')) {
		run_resource(a, r, rest + 6);
	} else if (strcmp(rest, "/cluster") == 0) {
		get_cluster(a, r);
	} else if (node_log_path(rest, seg, sizeof(seg))) {
		get_node_log(a, r, seg);
	} else if (strcmp(rest, "/events") == 0) {
		get_events(r);
	} else if (strcmp(rest, "/recent") == 0) {
		get_recent(a, r);
	} else if (strcmp(rest, "/runtimes") == 0) {
		get_runtimes(a, r);
	} else if (strcmp(rest, "/limits") == 0) {
		get_limits(a, r);
	} else if (strcmp(rest, "/openapi.yaml") == 0) {
		get_openapi(r);
	} else {
		api_error(r, 404, "not_found",
			  "No such resource %s: see docs/openapi.yaml for the API", path);
	}
	return true;
}
