/* Who may use the gateway: the decision, for one request, between letting
 * it through to the APIs and refusing it, from the names and credentials
 * it carries and the gateway's settings (gateway.allowed_hosts,
 * cors_origins, tokens_file, rate_*; struct ft_gw_access_conf).
 *
 * Checks, in this order (the first that fails decides):
 *  1. Host: a Host that gateway.allowed_hosts does not list is refused
 *     (421), whatever else the request carries.
 *  2. Rate: each valid API token has a bucket, and every other request is
 *     charged to its client address's (so that guessing tokens is limited
 *     too); an empty bucket refuses it (429) with the seconds to wait.
 *  3. CORS preflight (OPTIONS with Origin and Access-Control-Request-
 *     Method, when gateway.cors_origins is set): answered here, allowed
 *     (204) for a listed origin, else refused (403).
 *  4. Token: with a tokens file, every path but the open ones needs a
 *     valid "Authorization: Bearer" token (401: none, or a wrong one).
 * The open paths: /cluster (what scripts and load balancers poll until a
 * leader exists), the dashboard's page (/ and /index.html: no data; what
 * it polls needs a token), and /metrics while gateway.metrics_public.
 *
 * Pure: no sockets, no HTTP library, no file, no clock (now_ms is
 * passed).  Unit-tested (tests/unit/check_gwaccess.c); gateway/guard.c
 * feeds it real requests and answers for it. */
#ifndef FT_GATEWAY_ACCESS_H
#define FT_GATEWAY_ACCESS_H

#include <stdbool.h>
#include <stdint.h>

#include "conf/config.h"
#include "gateway/tokens.h"

enum gw_access_outcome {
	GW_ACCESS_PASS,	      /* on to the APIs */
	GW_ACCESS_PREFLIGHT,  /* a CORS preflight of a listed origin: 204 */
	GW_ACCESS_BAD_HOST,   /* 421 */
	GW_ACCESS_RATE,	      /* 429 */
	GW_ACCESS_BAD_ORIGIN, /* a preflight of an origin not listed: 403 */
	GW_ACCESS_NO_TOKEN,   /* 401 */
	GW_ACCESS_BAD_TOKEN,  /* 401 */
};

/* What the decision looks at; NULL for a header the request lacks. */
struct gw_access_req {
	const char *method, *path;
	const char *host;	      /* Host */
	const char *origin;	      /* Origin */
	const char *preflight_method; /* Access-Control-Request-Method */
	const char *authorization;    /* Authorization */
	const char *peer;	      /* the client's address as text */
};

struct gw_access_verdict {
	enum gw_access_outcome outcome;
	/* The request's Origin when gateway.cors_origins lists it (for
	 * Access-Control-Allow-Origin, on any outcome), else NULL. */
	const char *allow_origin;
	int token;	    /* the valid token presented (gw_tokens index), or -1 */
	int retry_after_s;  /* GW_ACCESS_RATE: seconds until a request would pass */
	bool rate_by_token; /* GW_ACCESS_RATE: the token's bucket, not the address's */
};

struct gw_access;

struct gw_access *gw_access_new(void);
void gw_access_free(struct gw_access *a);

/* The tokens in force, owned from now on (the previous are freed).  NULL:
 * none needed; an empty set: needed, and none is valid. */
void gw_access_set_tokens(struct gw_access *a, struct gw_tokens *t);
const struct gw_tokens *gw_access_tokens(const struct gw_access *a);

/* Whether path is answered without a token. */
bool gw_access_open_path(const struct ft_gw_access_conf *conf, const char *path);

/* Decides for req at now_ms under conf (read at each call: a reload
 * applies at once).  tls: served over HTTPS (a Host without a port names
 * 443, else 80). */
void gw_access_check(struct gw_access *a, const struct ft_gw_access_conf *conf, bool tls,
		     const struct gw_access_req *req, int64_t now_ms, struct gw_access_verdict *v);

/* Client addresses with a bucket (bounded by gateway.rate_max_addresses). */
size_t gw_access_addresses(const struct gw_access *a);

#endif
