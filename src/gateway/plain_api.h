/* The contract's plain API: POST /compileandrun (a Java source in, run()'s
 * string out) and GET /cluster (text, or JSON on Accept: application/json). */
#ifndef FT_GATEWAY_PLAIN_API_H
#define FT_GATEWAY_PLAIN_API_H

#include <stdbool.h>

#include "conf/config.h"
#include "gateway/cluster.h"
#include "gateway/core.h"

struct ft_http_req;

/* None of it owned. */
struct gw_plain_api {
	struct gw_core *core;
	const struct ft_config *cfg;
	const struct gw_cluster *cluster;
};

/* Returns true if it handled the request (/compileandrun, /cluster). */
bool gw_plain_api_route(struct gw_plain_api *a, struct ft_http_req *r);

/* The 404 for a path no front end serves. */
void gw_plain_api_not_found(struct ft_http_req *r);

#endif
