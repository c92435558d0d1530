/* The JSON API under /v1 (docs/openapi.yaml): runs (POST /v1/runs, GET
 * /v1/runs/{id}), the cluster, node logs, events and recent answers. */
#ifndef FT_GATEWAY_API_V1_H
#define FT_GATEWAY_API_V1_H

#include <stdbool.h>

#include "conf/config.h"
#include "gateway/cluster.h"
#include "gateway/core.h"
#include "gateway/metrics.h"

struct ft_http_req;
struct gw_api_v1;
struct gw_runsvc;

/* None of the arguments is owned.  Registers the JSON API's metrics. */
struct gw_api_v1 *gw_api_v1_new(struct gw_core *core, const struct ft_config *cfg,
				const struct gw_cluster *cluster, struct gw_metrics *metrics);
/* After the HTTP server is gone (its requests are the runs' waiters). */
void gw_api_v1_free(struct gw_api_v1 *a);

/* The runs it keeps, which the Judge0 and Piston look-alikes share (a
 * run any of them started is a /v1/runs/{id} too). */
struct gw_runsvc *gw_api_v1_runsvc(struct gw_api_v1 *a);
/* The JDK's version ("" if unknown), as GET /v1/runtimes says it. */
const char *gw_api_v1_java_version(const struct gw_api_v1 *a);

/* Returns true if it handled the request (every path under /v1). */
bool gw_api_v1_route(struct gw_api_v1 *a, struct ft_http_req *r);

#endif
