/* The gateway's own metrics (ftgw_*), GET /metrics, and the ring of recent
 * answers the dashboard and GET /v1/recent show. */
#ifndef FT_GATEWAY_METRICS_H
#define FT_GATEWAY_METRICS_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ft_http_req;
struct gw_result;

/* Every outcome the gateway core delivers, once per request (not per
 * waiter): latency_ms from acceptance (0 when answered at once). */
void gw_metrics_answered(const struct gw_result *res, int64_t latency_ms);
/* The response cache was consulted. */
void gw_metrics_cache_lookup(bool hit);
/* A submission was refused: too many pending requests. */
void gw_metrics_overloaded(void);
/* The verdict of an outcome: res->verdict, or for a cached answer (which
 * carries none) the one its status and body show; "unknown" if neither. */
const char *gw_verdict_of(const struct gw_result *res);
/* Recent answers, newest first: {"results": [...], "in_flight": N|null}. */
struct json_object *gw_recent_json(size_t max);

/* GET /metrics: returns true if it handled the request. */
bool gw_metrics_route(struct ft_http_req *r);

#endif
