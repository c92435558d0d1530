/* The gateway's own metrics (ftgw_*), GET /metrics, and the ring of recent
 * answers the dashboard and GET /v1/recent show.  They are fed by the
 * core's hooks (gw_metrics_core_hooks) and registered in the process-wide
 * registry of lib/metrics.h at their first use. */
#ifndef FT_GATEWAY_METRICS_H
#define FT_GATEWAY_METRICS_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

#include "conf/config.h"
#include "gateway/core.h"

struct ft_http_req;
struct gw_metrics;

/* cfg (not owned) lists the workers of ftgw_requests_in_flight. */
struct gw_metrics *gw_metrics_new(const struct ft_config *cfg);
/* The core whose unanswered requests are counted (once, before serving). */
void gw_metrics_set_core(struct gw_metrics *m, const struct gw_core *core);
void gw_metrics_free(struct gw_metrics *m);

/* The core's hooks; their ud is the struct gw_metrics. */
extern const struct gw_core_hooks gw_metrics_core_hooks;

/* Recent answers, newest first: {"results": [...], "in_flight": N|null,
 * "in_flight_by_worker": {...}, "queued": N}.  Caller owns the object. */
struct json_object *gw_recent_json(struct gw_metrics *m, size_t max);

/* A request or connection refused before the APIs (ftgw_http_refused_total):
 * reason host, rate, cors, token, connections or slow. */
void gw_metrics_refused(struct gw_metrics *m, const char *reason);

/* GET /metrics: returns true if it handled the request. */
bool gw_metrics_route(struct gw_metrics *m, struct ft_http_req *r);

#endif
