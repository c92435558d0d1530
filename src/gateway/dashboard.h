/* GET / on the gateway: the live dashboard page. */
#ifndef FT_GATEWAY_DASHBOARD_H
#define FT_GATEWAY_DASHBOARD_H

#include <stdbool.h>

struct ft_http_req;

/* Returns true if it handled the request. */
bool gw_dashboard_route(struct ft_http_req *r);

#endif
