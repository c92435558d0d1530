/* The JSON API under /v1 (documented in docs/openapi.yaml):
 *
 *   POST /v1/runs            submit a run; wait for it (default) or get 202
 *   POST /v1/runs/batch      submit several runs at once: 202 and their ids
 *   GET  /v1/runs?ids=a,b    several runs' status and results
 *   GET  /v1/runs/{id}       a run's status and, once done, its result
 *   DELETE /v1/runs/{id}     cancel it
 *   GET  /v1/cluster         membership and election view
 *   GET  /v1/nodes/{id}/log  307 to the node's heartbeat log endpoint
 *   GET  /v1/events          recent failures, joins and leadership changes
 *   GET  /v1/recent          recent answers (both APIs) and requests in flight
 *
 * Every error is {"error": "<stable code>", "message": "<human text>"}.
 *
 * Runs are started and kept by the run service (runsvc.c), which the
 * Judge0 and Piston look-alikes share; request bodies are parsed by
 * run_request.c. */
#include "gateway/api_v1.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/httpd.h"
#include "lib/metrics.h"
#include "lib/util.h"
#include "gateway/discovery.h"
#include "gateway/metrics.h"
#include "gateway/run_request.h"
#include "gateway/runs.h"
#include "gateway/runsvc.h"

#define MAX_TAIL 1000000
#define RECENT_DEFAULT 20
#define RECENT_MAX 64

struct gw_api_v1 {
	struct gw_core *core;
	const struct ft_config *cfg;
	const struct gw_cluster *cluster;
	struct gw_metrics *metrics;
	struct gw_runsvc sv;   /* the runs */
	char java_version[64]; /* of paths.java, read at start */
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
	return (double)a->sv.runs.count;
}

struct gw_api_v1 *gw_api_v1_new(struct gw_core *core, const struct ft_config *cfg,
				const struct gw_cluster *cluster, struct gw_metrics *metrics)
{
	struct gw_api_v1 *a = ft_xcalloc(1, sizeof(*a));
	a->core = core;
	a->cfg = cfg;
	a->cluster = cluster;
	a->metrics = metrics;
	gw_runsvc_init(&a->sv, core, cfg);
	gw_java_version(cfg->java, a->java_version, sizeof(a->java_version));
	ft_metrics_gauge_fn(
		"ftgw_api_runs_stored",
		"Run records the JSON API keeps (unfinished, and finished within the TTL)",
		runs_stored, a);
	return a;
}

struct gw_runsvc *gw_api_v1_runsvc(struct gw_api_v1 *a)
{
	return &a->sv;
}

const char *gw_api_v1_java_version(const struct gw_api_v1 *a)
{
	return a->java_version;
}

void gw_api_v1_free(struct gw_api_v1 *a)
{
	if (!a)
		return;
	gw_runsvc_clear(&a->sv);
	free(a);
}

/* ---- POST /v1/runs ---- */

static void respond_run(const struct gw_core *core, struct ft_http_req *r, unsigned status,
			const struct gw_run *x)
{
	char loc[64];
	snprintf(loc, sizeof(loc), "/v1/runs/%s", x->id);
	if (status == 202)
		ft_http_add_header(r, "Location", loc);
	struct json_object *o = gw_runsvc_run_json(core, x);
	respond_json(r, status, o);
	json_object_put(o);
}

static void answer_done_run(void *ud, struct ft_http_req *r, const struct gw_run *x)
{
	respond_run(NULL, r, 200, x);
}

/* A body the JSON API may parse: within limits.max_body_bytes, and JSON;
 * else r is answered (413, 415). */
static bool json_body_ok(struct gw_api_v1 *a, struct ft_http_req *r)
{
	if (ft_http_body_too_big(r)) {
		api_error(r, 413, "body_too_large",
			  "Request body too large: the limit is %zu bytes (limits.max_body_bytes)",
			  a->cfg->limits.max_body_bytes);
		return false;
	}
	if (!ft_http_content_type_is(r, "application/json")) {
		api_error(r, 415, "unsupported_media_type",
			  "Content-Type must be application/json");
		return false;
	}
	return true;
}

static void post_run(struct gw_api_v1 *a, struct ft_http_req *r)
{
	if (!json_body_ok(a, r))
		return;
	size_t len;
	const char *body = ft_http_body(r, &len);
	struct gw_run_request q;
	struct gw_api_error e;
	if (!gw_run_request_parse(body, len, &a->cfg->limits, &q, &e)) {
		api_error(r, e.status, e.code, "%s", e.message);
		return;
	}
	bool wait = q.wait, fresh;
	char kb[512];
	struct gw_run *x = gw_runsvc_start(
		&a->sv, &q, ft_http_idempotency_key(r, "v1", kb, sizeof(kb)), &e, &fresh);
	if (!x) {
		if (e.status == 503)
			ft_http_add_header(r, "Retry-After", "1");
		api_error(r, e.status, e.code, "%s", e.message);
		return;
	}
	if (wait)
		gw_runsvc_when_done(x, r, answer_done_run, NULL);
	else
		respond_run(a->core, r, 202, x);
}

/* ---- batches ---- */

/* Frees qs[from..to) (the others are taken or freed already), then qs. */
static void free_requests(struct gw_run_request *qs, size_t from, size_t to)
{
	for (size_t k = from; k < to; k++)
		gw_run_request_free(&qs[k]);
	free(qs);
}

/* The runs of a batch body {"runs": [RunRequest, ...]}, each parsed as
 * POST /v1/runs parses one; NULL (and the request answered) on the first
 * that is refused, so that a batch is taken whole or not at all. */
static struct gw_run_request *parse_batch(struct gw_api_v1 *a, struct ft_http_req *r, size_t *count)
{
	size_t len, max = (size_t)a->cfg->limits.max_batch_runs;
	const char *text = ft_http_body(r, &len);
	struct json_tokener *tok = json_tokener_new();
	struct json_object *root = json_tokener_parse_ex(tok, text, (int)len);
	bool parsed = root && json_tokener_get_error(tok) == json_tokener_success &&
		      json_object_is_type(root, json_type_object);
	json_tokener_free(tok);
	struct json_object *runs = NULL;
	if (!parsed) {
		api_error(r, 400, "invalid_json",
			  "The body must be one JSON object: {\"runs\": [...]}");
		goto fail;
	}
	json_object_object_foreach(root, key, val)
	{
		(void)val;
		if (strcmp(key, "runs") != 0) {
			api_error(r, 400, "unknown_field",
				  "Unknown field \"%.64s\": a batch has only \"runs\"", key);
			goto fail;
		}
	}
	if (!json_object_object_get_ex(root, "runs", &runs) ||
	    !json_object_is_type(runs, json_type_array) || json_object_array_length(runs) == 0) {
		api_error(r, 400, "invalid_request", "\"runs\" must be a non-empty array of runs");
		goto fail;
	}
	size_t n = json_object_array_length(runs);
	if (n > max) {
		api_error(r, 422, "too_many_runs",
			  "%zu runs: a batch may have at most %zu (limits.max_batch_runs)", n, max);
		goto fail;
	}
	struct gw_run_request *qs = ft_xcalloc(n, sizeof(*qs));
	for (size_t i = 0; i < n; i++) {
		const char *one = json_object_to_json_string_ext(json_object_array_get_idx(runs, i),
								 JSON_C_TO_STRING_PLAIN);
		struct gw_api_error e;
		if (!gw_run_request_parse(one, strlen(one), &a->cfg->limits, &qs[i], &e)) {
			api_error(r, e.status, e.code, "runs[%zu]: %s", i, e.message);
			free_requests(qs, 0, i);
			goto fail;
		}
	}
	json_object_put(root);
	*count = n;
	return qs;
fail:
	json_object_put(root);
	return NULL;
}

static void post_batch(struct gw_api_v1 *a, struct ft_http_req *r)
{
	if (!json_body_ok(a, r))
		return;
	size_t n;
	struct gw_run_request *qs = parse_batch(a, r, &n);
	if (!qs)
		return;
	/* Taken whole or refused whole: a client never has to find out which
	 * half of its batch was dropped. */
	size_t pending = gw_core_pending(a->core),
	       max = (size_t)a->cfg->limits.max_pending_requests;
	if (pending + n > max) {
		free_requests(qs, 0, n);
		ft_http_add_header(r, "Retry-After", "1");
		api_error(r, 503, "overloaded",
			  "Too many requests in progress for %zu more (%zu of "
			  "limits.max_pending_requests %zu); try again later",
			  n, pending, max);
		return;
	}
	/* A retried batch finds its runs again: item i's key is "KEY#i". */
	char kb[512];
	const char *key = ft_http_idempotency_key(r, "v1", kb, sizeof(kb));
	struct json_object *list = json_object_new_array();
	for (size_t i = 0; i < n; i++) {
		char item_key[600];
		if (key) /* never empty: ft_http_idempotency_key says NULL then */
			snprintf(item_key, sizeof(item_key), "%s#%zu", key, i);
		struct gw_api_error e;
		bool fresh;
		struct gw_run *x =
			gw_runsvc_start(&a->sv, &qs[i], key ? item_key : NULL, &e, &fresh);
		if (!x) {
			/* Only a reused key gets here (capacity was checked); the
			 * runs before it stand, and a retry with the same
			 * batch finds them. */
			free_requests(qs, i + 1, n);
			json_object_put(list);
			api_error(r, e.status, e.code, "runs[%zu]: %s", i, e.message);
			return;
		}
		json_object_array_add(list, gw_runsvc_run_json(a->core, x));
	}
	free(qs);
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "runs", list);
	respond_json(r, 202, o);
	json_object_put(o);
}

/* GET /v1/runs?ids=a,b: each run, or null for one unknown or expired. */
static void get_runs(struct gw_api_v1 *a, struct ft_http_req *r)
{
	const char *ids = ft_http_arg(r, "ids");
	size_t max = (size_t)a->cfg->limits.max_batch_runs;
	if (!ids || !*ids) {
		api_error(r, 400, "invalid_parameter",
			  "GET /v1/runs needs ids=ID,ID,... (at most %zu, limits.max_batch_runs)",
			  max);
		return;
	}
	struct json_object *list = json_object_new_array();
	char *copy = ft_xstrdup(ids), *save = NULL;
	size_t n = 0;
	for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		if (++n > max) {
			free(copy);
			json_object_put(list);
			api_error(r, 422, "too_many_runs",
				  "More than %zu ids: ask for at most %zu at once "
				  "(limits.max_batch_runs)",
				  max, max);
			return;
		}
		struct gw_run *x = gw_runs_find(&a->sv.runs, t);
		json_object_array_add(list, x ? gw_runsvc_run_json(a->core, x) : NULL);
	}
	free(copy);
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "runs", list);
	respond_json(r, 200, o);
	json_object_put(o);
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
	struct gw_run *x = gw_runs_find(&a->sv.runs, id);
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
		gw_runsvc_cancel(&a->sv, x);
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
	gw_runs_sweep(&a->sv.runs, ft_now_ms());
	const char *rest = path + 3;
	char seg[80];
	if (strcmp(rest, "/runs") == 0) {
		const char *m = ft_http_method(r);
		if (strcmp(m, "GET") == 0) {
			get_runs(a, r);
		} else if (strcmp(m, "POST") == 0) {
			post_run(a, r);
		} else {
			ft_http_add_header(r, "Allow", "GET, POST");
			api_error(
				r, 405, "method_not_allowed",
				"Method %s is not allowed here: use POST to run, GET with ids= to "
				"read",
				m);
		}
	} else if (strcmp(rest, "/runs/batch") == 0) {
		if (want_method(r, "POST"))
			post_batch(a, r);
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
