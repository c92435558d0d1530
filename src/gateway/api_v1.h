/* The JSON API under /v1 (docs/openapi.yaml). */
#ifndef FT_GATEWAY_API_V1_H
#define FT_GATEWAY_API_V1_H

#include <stdbool.h>

struct ft_http_req;

/* Registers the JSON API's metrics. */
void gw_api_v1_init(void);

/* Returns true if it handled the request (every path under /v1). */
bool gw_api_v1_route(struct ft_http_req *r);

#endif
