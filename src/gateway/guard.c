#include "gateway/guard.h"

#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/reload.h"
#include "gateway/access.h"
#include "gateway/tokens.h"
#include "lib/log.h"
#include "lib/ratelimit.h"
#include "lib/util.h"

/* What a browser's script may read of an answer, beyond the basics. */
#define EXPOSED_HEADERS                                                                      \
	"Cached-Response, X-Request-Id, X-Verdict, X-Exit-Code, X-Time-Ms, X-Wall-Time-Ms, " \
	"X-Cpu-Time-Ms, X-Memory-Bytes, X-Compile-Cached, Retry-After, Location, "           \
	"WWW-Authenticate"

struct gw_guard {
	const struct ft_config *cfg;
	struct gw_metrics *metrics;
	bool tls;
	struct gw_access *access;
	struct ft_ratelimit log_budget;
};

/* ---- the tokens file ---- */

static void log_loaded(const char *path, const struct gw_tokens *t)
{
	size_t n = gw_tokens_count(t);
	if (n)
		ft_log_notice("gateway.tokens_file %s: %zu API token(s); the API needs one", path,
			      n);
	else
		ft_log_warn("gateway.tokens_file %s lists no token: only the open paths answer",
			    path);
}

static void reload_tokens(void *ud, const struct ft_config *cfg, const struct ft_config_changes *ch)
{
	struct gw_guard *g = ud;
	(void)ch;
	const char *path = cfg->gw_access.tokens_file;
	if (!path[0]) {
		if (gw_access_tokens(g->access))
			ft_log_warn("gateway.tokens_file is no longer set: the API needs no token");
		gw_access_set_tokens(g->access, NULL);
		return;
	}
	char err[512];
	struct gw_tokens *t = gw_tokens_load(path, err, sizeof(err));
	if (t) {
		log_loaded(path, t);
		gw_access_set_tokens(g->access, t);
		return;
	}
	if (gw_access_tokens(g->access)) {
		ft_log_err("gateway.tokens_file: %s; keeping the tokens in force", err);
		return;
	}
	ft_log_err("gateway.tokens_file: %s; no token is valid until it is fixed", err);
	gw_access_set_tokens(g->access, gw_tokens_parse(path, "", 0, err, sizeof(err)));
}

struct gw_guard *gw_guard_new(const struct ft_config *cfg, struct gw_metrics *m, bool tls,
			      char *err, size_t errlen)
{
	struct gw_tokens *t = NULL;
	const char *path = cfg->gw_access.tokens_file;
	if (path[0]) {
		char why[512];
		t = gw_tokens_load(path, why, sizeof(why));
		if (!t) {
			snprintf(err, errlen, "gateway.tokens_file: %s", why);
			return NULL;
		}
		log_loaded(path, t);
	}
	struct gw_guard *g = ft_xcalloc(1, sizeof(*g));
	g->cfg = cfg;
	g->metrics = m;
	g->tls = tls;
	g->access = gw_access_new();
	gw_access_set_tokens(g->access, t);
	ft_conf_on_reload(reload_tokens, g);
	return g;
}

void gw_guard_free(struct gw_guard *g)
{
	if (!g)
		return;
	ft_conf_on_reload_remove(reload_tokens, g);
	gw_access_free(g->access);
	free(g);
}

/* ---- answers ---- */

enum api_family { PLAIN, V1, PISTON, JUDGE0 };

/* path is prefix, or prefix followed by '/'. */
static bool under(const char *path, const char *prefix)
{
	size_t n = strlen(prefix);
	return strncmp(path, prefix, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

static enum api_family family_of(const char *path)
{
	if (under(path, "/v1"))
		return V1;
	if (under(path, "/api/v2"))
		return PISTON;
	if (under(path, "/submissions") || under(path, "/languages") || under(path, "/statuses"))
		return JUDGE0;
	return PLAIN;
}

/* A name the client sent, fit to be quoted in an answer or a log. */
static void quoted(char *out, size_t len, const char *s)
{
	snprintf(out, len, "%.100s", s ? s : "");
	for (char *c = out; *c; c++)
		if ((unsigned char)*c < 0x20 || (unsigned char)*c >= 0x7f)
			*c = '?';
}

static void refuse(struct ft_http_req *r, unsigned status, const char *code, const char *msg)
{
	ft_http_add_header(r, "Cached-Response", "false");
	enum api_family f = family_of(ft_http_path(r));
	if (f == PLAIN) {
		char *text = ft_xasprintf("%s\n", msg);
		ft_http_respond(r, status, "text/plain; charset=utf-8", text, strlen(text));
		free(text);
		return;
	}
	/* Each API's own error shape: {"error": code, "message"} (this API),
	 * {"message"} (Piston), {"error": message} (Judge0). */
	struct json_object *o = json_object_new_object();
	if (f == V1)
		json_object_object_add(o, "error", json_object_new_string(code));
	json_object_object_add(o, f == JUDGE0 ? "error" : "message", json_object_new_string(msg));
	const char *body = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	ft_http_respond(r, status, "application/json", body, strlen(body));
	json_object_put(o);
}

static void add_cors(const struct gw_guard *g, struct ft_http_req *r, const char *origin)
{
	if (!g->cfg->gw_access.cors_origins[0])
		return;
	/* Answers differ by Origin: caches must keep them apart. */
	ft_http_add_header(r, "Vary", "Origin");
	if (!origin)
		return;
	ft_http_add_header(r, "Access-Control-Allow-Origin", origin);
	ft_http_add_header(r, "Access-Control-Expose-Headers", EXPOSED_HEADERS);
}

static void preflight(struct ft_http_req *r)
{
	ft_http_add_header(r, "Access-Control-Allow-Methods", "GET, HEAD, POST, DELETE, OPTIONS");
	ft_http_add_header(r, "Access-Control-Allow-Headers",
			   "Authorization, Content-Type, Accept, Idempotency-Key");
	ft_http_add_header(r, "Access-Control-Max-Age", "600");
	ft_http_add_header(r, "Cached-Response", "false");
	ft_http_respond(r, 204, NULL, "", 0);
}

static const char *reason_of(enum gw_access_outcome o)
{
	switch (o) {
	case GW_ACCESS_BAD_HOST:
		return "host";
	case GW_ACCESS_RATE:
		return "rate";
	case GW_ACCESS_BAD_ORIGIN:
		return "cors";
	case GW_ACCESS_NO_TOKEN:
	case GW_ACCESS_BAD_TOKEN:
		return "token";
	default:
		return NULL;
	}
}

static void log_refusal(struct gw_guard *g, struct ft_http_req *r, const char *peer,
			const char *what)
{
	uint64_t held = ft_ratelimit_roll(&g->log_budget, ft_now_ms());
	if (held)
		ft_log_notice("http: %" PRIu64 " more request(s) refused, not logged one by one "
			      "(logging.rejected_per_second)",
			      held);
	if (!ft_ratelimit_admit(&g->log_budget, ft_log_rejected_rate()))
		return;
	char path[128];
	quoted(path, sizeof(path), ft_http_path(r));
	ft_log_notice("http: refused %s %s from %s: %s", ft_http_method(r), path, peer, what);
}

bool gw_guard_check(struct gw_guard *g, struct ft_http_req *r)
{
	const struct ft_gw_access_conf *conf = &g->cfg->gw_access;
	char peer[64];
	ft_http_peer(r, peer, sizeof(peer));
	struct gw_access_req req = {
		.method = ft_http_method(r),
		.path = ft_http_path(r),
		.host = ft_http_header(r, "Host"),
		.origin = ft_http_header(r, "Origin"),
		.preflight_method = ft_http_header(r, "Access-Control-Request-Method"),
		.authorization = ft_http_header(r, "Authorization"),
		.peer = peer,
	};
	struct gw_access_verdict v;
	gw_access_check(g->access, conf, g->tls, &req, ft_now_ms(), &v);
	add_cors(g, r, v.allow_origin);
	char msg[512], name[128], what[256], secs[16];
	unsigned status = 0;
	const char *code = NULL;
	switch (v.outcome) {
	case GW_ACCESS_PASS:
		if (v.token >= 0)
			ft_log_debug("http: %s %s with the token '%s'", req.method, req.path,
				     gw_tokens_label(gw_access_tokens(g->access), v.token));
		return false;
	case GW_ACCESS_PREFLIGHT:
		preflight(r);
		return true;
	case GW_ACCESS_BAD_HOST:
		quoted(name, sizeof(name), req.host);
		snprintf(msg, sizeof(msg),
			 "Misdirected request: this gateway does not serve the host '%s' "
			 "(gateway.allowed_hosts)",
			 name);
		snprintf(what, sizeof(what), "Host '%s' is not in gateway.allowed_hosts", name);
		status = 421;
		code = "misdirected_request";
		break;
	case GW_ACCESS_RATE:
		snprintf(secs, sizeof(secs), "%d", v.retry_after_s);
		ft_http_add_header(r, "Retry-After", secs);
		snprintf(msg, sizeof(msg),
			 "Too many requests for this %s: at most %d a second, %d at once "
			 "(gateway.rate_per_second, gateway.rate_burst); try again in %d s",
			 v.rate_by_token ? "API token" : "client address", conf->rate_per_second,
			 conf->rate_burst, v.retry_after_s);
		if (v.rate_by_token)
			snprintf(what, sizeof(what), "over the rate of the token '%s'",
				 gw_tokens_label(gw_access_tokens(g->access), v.token));
		else
			snprintf(what, sizeof(what), "over the rate of its address");
		status = 429;
		code = "too_many_requests";
		break;
	case GW_ACCESS_BAD_ORIGIN:
		quoted(name, sizeof(name), req.origin);
		snprintf(msg, sizeof(msg),
			 "The origin '%s' may not use this API from a browser "
			 "(gateway.cors_origins)",
			 name);
		snprintf(what, sizeof(what), "a preflight of the origin '%s'", name);
		status = 403;
		code = "origin_not_allowed";
		break;
	case GW_ACCESS_NO_TOKEN:
		ft_http_add_header(r, "WWW-Authenticate", "Bearer realm=\"ftcluster\"");
		snprintf(msg, sizeof(msg),
			 "This gateway needs an API token: send the header Authorization: Bearer "
			 "<token>");
		snprintf(what, sizeof(what), "no API token");
		status = 401;
		code = "unauthorized";
		break;
	case GW_ACCESS_BAD_TOKEN:
		ft_http_add_header(r, "WWW-Authenticate",
				   "Bearer realm=\"ftcluster\", error=\"invalid_token\"");
		snprintf(msg, sizeof(msg), "The API token is not valid");
		snprintf(what, sizeof(what), "an API token that is not valid");
		status = 401;
		code = "unauthorized";
		break;
	}
	gw_metrics_refused(g->metrics, reason_of(v.outcome));
	log_refusal(g, r, peer, what);
	refuse(r, status, code, msg);
	return true;
}

void gw_guard_http_refused(void *ud, enum ft_http_refusal why, const char *peer)
{
	struct gw_guard *g = ud;
	(void)peer; /* lib/httpd.c logs them */
	gw_metrics_refused(g->metrics, why == FT_HTTP_DROPPED_SLOW ? "slow" : "connections");
}
