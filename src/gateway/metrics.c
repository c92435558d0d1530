#include "gateway/metrics.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/metrics.h"
#include "lib/util.h"
#include "job/verdict.h"

static const char *const hit_miss[] = { "hit", "miss", NULL };
/* gateway/guard.c's reasons, then lib/httpd.c's (enum ft_http_refusal). */
static const char *const refusals[] = {
	"host", "rate", "cors", "token", "connections", "slow", NULL
};
static const double latency_bounds[] = { 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
					 1,	2.5,  5,     10,   30,	60,   120 };

#define RECENT 64

struct recent {
	uint64_t id;
	const char *verdict; /* a static string */
	unsigned status;
	bool cached;
	int64_t latency_ms;
	int worker, attempts; /* -1 when unknown */
	int64_t time_ms;      /* wall clock of the answer */
};

struct gw_metrics {
	const struct ft_config *cfg;
	const struct gw_core *core;
	/* Registered at the first use, not at start (the order of the
	 * families in GET /metrics depends on it). */
	bool inited;
	struct ft_metric *requests, *latency, *cache, *cached_answers, *in_flight, *refused;
	/* The label values of ftgw_requests_total: every verdict, and "other". */
	const char *verdicts[FT_VERDICT_N + 1];
	struct recent recent[RECENT];
	size_t n_recent, next_recent;
};

/* Per worker, from the gateway's pending requests (see FT_FRAME_STARTED). */
static void collect_in_flight(struct ft_metrics *reg, void *ud)
{
	struct gw_metrics *W = ud;
	size_t queued;
	struct json_object *by = gw_core_in_flight_by_worker(W->core, &queued);
	const struct ft_config *cfg = W->cfg;
	for (size_t i = 0; i < cfg->n_nodes; i++) {
		char id[16];
		snprintf(id, sizeof(id), "%d", cfg->nodes[i].id);
		struct json_object *n;
		ft_metric_set(W->in_flight, id,
			      json_object_object_get_ex(by, id, &n) ? json_object_get_int(n) : 0);
	}
	ft_metric_set(W->in_flight, "none", (double)queued);
	json_object_put(by);
}

static void register_in_flight(struct gw_metrics *W, struct ft_metrics *m)
{
	const struct ft_config *cfg = W->cfg;
	/* The label's values are fixed at registration: every configured node
	 * (a reload that adds nodes needs a restart anyway), and "none". */
	char **values = ft_xcalloc(cfg->n_nodes + 2, sizeof(*values));
	for (size_t i = 0; i < cfg->n_nodes; i++)
		values[i] = ft_xasprintf("%d", cfg->nodes[i].id);
	values[cfg->n_nodes] = ft_xstrdup("none");
	W->in_flight = ft_metrics_gauge(
		m, "ftgw_requests_in_flight",
		"Unanswered requests by the worker the leader assigned them to (none: not on a "
		"worker yet)",
		"worker", (const char *const *)values);
	for (size_t i = 0; i <= cfg->n_nodes; i++)
		free(values[i]);
	free(values);
	ft_metrics_on_collect(m, collect_in_flight, W);
}

static void ensure_init(struct gw_metrics *W)
{
	if (W->inited)
		return;
	W->inited = true;
	size_t n = 0;
	for (int v = 0; v < FT_VERDICT_N; v++)
		if (v != FT_VERDICT_UNKNOWN)
			W->verdicts[n++] = ft_verdict_name((enum ft_verdict)v);
	W->verdicts[n++] = "other";
	W->verdicts[n] = NULL;
	struct ft_metrics *m = ft_metrics_global();
	W->requests = ft_metrics_counter(
		m, "ftgw_requests_total",
		"Requests the gateway answered, by verdict (timeout: no answer in time; "
		"overloaded: refused, too many pending; unavailable: the cluster could not run it)",
		"verdict", W->verdicts);
	W->latency = ft_metrics_histogram(
		m, "ftgw_request_duration_seconds",
		"Time from acceptance to the answer of requests the cluster answered (not cached)",
		NULL, NULL, latency_bounds, FT_ARRAY_SIZE(latency_bounds));
	W->cache = ft_metrics_counter(m, "ftgw_cache_lookups_total",
				      "Response cache lookups by result", "result", hit_miss);
	W->cached_answers = ft_metrics_counter(
		m, "ftgw_cached_answers_total",
		"Answers given without the cluster: response cache hits and Idempotency-Key replays",
		NULL, NULL);
	register_in_flight(W, m);
	W->refused = ft_metrics_counter(
		m, "ftgw_http_refused_total",
		"Requests and connections refused before any API saw them, by reason (host: Host "
		"not in gateway.allowed_hosts; rate: over gateway.rate_per_second; cors: a "
		"preflight of an origin not in gateway.cors_origins; token: no valid API token; "
		"connections: over gateway.max_connections_per_address; slow: no whole request "
		"within limits.connection_timeout_s)",
		"reason", refusals);
}

struct gw_metrics *gw_metrics_new(const struct ft_config *cfg)
{
	struct gw_metrics *W = ft_xcalloc(1, sizeof(*W));
	W->cfg = cfg;
	return W;
}

void gw_metrics_set_core(struct gw_metrics *W, const struct gw_core *core)
{
	W->core = core;
}

void gw_metrics_free(struct gw_metrics *W)
{
	free(W);
}

static int meta_int(const struct gw_result *res, const char *key)
{
	struct json_object *v;
	if (res->meta && json_object_object_get_ex(res->meta, key, &v) &&
	    json_object_is_type(v, json_type_int))
		return json_object_get_int(v);
	return -1;
}

static void answered(void *ud, const struct gw_result *res, int64_t latency_ms)
{
	struct gw_metrics *W = ud;
	ensure_init(W);
	const char *verdict = gw_verdict_of(res);
	ft_metric_inc(W->requests, verdict);
	if (res->cached)
		ft_metric_inc(W->cached_answers, NULL);
	else if (latency_ms >= 0 && res->id)
		ft_metric_observe(W->latency, NULL, (double)latency_ms / 1000.0);
	struct recent *e = &W->recent[W->next_recent];
	*e = (struct recent){
		.id = res->id,
		.verdict = verdict,
		.status = res->status,
		.cached = res->cached,
		.latency_ms = latency_ms,
		.worker = meta_int(res, "worker"),
		.attempts = meta_int(res, "attempts"),
		.time_ms = ft_wall_ms(),
	};
	W->next_recent = (W->next_recent + 1) % RECENT;
	if (W->n_recent < RECENT)
		W->n_recent++;
}

static void cache_lookup(void *ud, bool hit)
{
	struct gw_metrics *W = ud;
	ensure_init(W);
	ft_metric_inc(W->cache, hit ? "hit" : "miss");
}

static void overloaded(void *ud)
{
	struct gw_metrics *W = ud;
	ensure_init(W);
	ft_metric_inc(W->requests, "overloaded");
}

const struct gw_core_hooks gw_metrics_core_hooks = {
	.answered = answered,
	.cache_lookup = cache_lookup,
	.overloaded = overloaded,
};

struct json_object *gw_recent_json(struct gw_metrics *W, size_t max)
{
	ensure_init(W);
	struct json_object *root = json_object_new_object(), *arr = json_object_new_array();
	size_t n = W->n_recent < max ? W->n_recent : max;
	for (size_t i = 0; i < n; i++) {
		const struct recent *e = &W->recent[(W->next_recent + RECENT - 1 - i) % RECENT];
		struct json_object *o = json_object_new_object();
		json_object_object_add(o, "request_id",
				       e->id ? json_object_new_uint64(e->id) : NULL);
		json_object_object_add(o, "verdict", json_object_new_string(e->verdict));
		json_object_object_add(o, "status", json_object_new_int((int)e->status));
		json_object_object_add(o, "cached", json_object_new_boolean(e->cached));
		json_object_object_add(o, "latency_ms", json_object_new_int64(e->latency_ms));
		json_object_object_add(o, "worker",
				       e->worker >= 0 ? json_object_new_int(e->worker) : NULL);
		json_object_object_add(o, "attempts",
				       e->attempts >= 0 ? json_object_new_int(e->attempts) : NULL);
		json_object_object_add(o, "time_ms", json_object_new_int64(e->time_ms));
		json_object_array_add(arr, o);
	}
	json_object_object_add(root, "results", arr);
	double pending =
		ft_metric_get(ft_metrics_find(ft_metrics_global(), "ftgw_pending_requests"), NULL);
	json_object_object_add(root, "in_flight",
			       isnan(pending) ? NULL : json_object_new_int64((int64_t)pending));
	size_t queued;
	json_object_object_add(root, "in_flight_by_worker",
			       gw_core_in_flight_by_worker(W->core, &queued));
	json_object_object_add(root, "queued", json_object_new_uint64(queued));
	return root;
}

void gw_metrics_refused(struct gw_metrics *W, const char *reason)
{
	ensure_init(W);
	ft_metric_inc(W->refused, reason);
}

bool gw_metrics_route(struct gw_metrics *W, struct ft_http_req *r)
{
	ensure_init(W);
	return ft_metrics_route(r);
}
