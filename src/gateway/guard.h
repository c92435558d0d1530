/* The gateway's door: every HTTP request goes past it before any API.
 * It asks gateway/access.h whether the request may go on, answers the
 * refusals (421, 429, 403, 401) and CORS preflights (204) in the shape of
 * the API the path belongs to (plain text for the contract's paths, the
 * JSON API's error object under /v1/, Piston's and Judge0's under
 * theirs), adds the CORS headers of a listed origin, counts refusals
 * (ftgw_http_refused_total) and logs them (at most
 * logging.rejected_per_second one by one).
 *
 * It keeps gateway.tokens_file loaded: read at start (a file that cannot
 * be used stops the gateway) and again at every reload (SIGHUP).  A
 * reload whose file cannot be used keeps the tokens in force, and when
 * there were none (the file was newly set) lets no token in until the
 * file is fixed: a mistake never opens the API. */
#ifndef FT_GATEWAY_GUARD_H
#define FT_GATEWAY_GUARD_H

#include <stdbool.h>
#include <stddef.h>

#include "conf/config.h"
#include "gateway/metrics.h"
#include "lib/httpd.h"

struct gw_guard;

/* cfg: the running configuration (read at every request, so reloads
 * apply); tls: the server speaks HTTPS.  NULL with the reason in err when
 * gateway.tokens_file is set and cannot be used. */
struct gw_guard *gw_guard_new(const struct ft_config *cfg, struct gw_metrics *m, bool tls,
			      char *err, size_t errlen);
void gw_guard_free(struct gw_guard *g);

/* True if r was answered here (refused, or a preflight): the APIs must
 * not see it.  Else r goes on, with the CORS headers it needs. */
bool gw_guard_check(struct gw_guard *g, struct ft_http_req *r);

/* lib/httpd.h's ft_http_refused_fn (ud: the guard): counts them. */
void gw_guard_http_refused(void *ud, enum ft_http_refusal why, const char *peer);

#endif
