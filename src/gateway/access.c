#include "gateway/access.h"

#include <stdlib.h>
#include <string.h>

#include "lib/allowlist.h"
#include "lib/tokenbucket.h"
#include "lib/util.h"

struct gw_access {
	struct gw_tokens *tokens; /* NULL: none needed */
	struct ft_bucket_table *by_address, *by_token;
};

struct gw_access *gw_access_new(void)
{
	struct gw_access *a = ft_xcalloc(1, sizeof(*a));
	a->by_address = ft_bucket_table_new();
	a->by_token = ft_bucket_table_new();
	return a;
}

void gw_access_free(struct gw_access *a)
{
	if (!a)
		return;
	gw_tokens_free(a->tokens);
	ft_bucket_table_free(a->by_address);
	ft_bucket_table_free(a->by_token);
	free(a);
}

void gw_access_set_tokens(struct gw_access *a, struct gw_tokens *t)
{
	gw_tokens_free(a->tokens);
	a->tokens = t;
}

const struct gw_tokens *gw_access_tokens(const struct gw_access *a)
{
	return a->tokens;
}

bool gw_access_open_path(const struct ft_gw_access_conf *conf, const char *path)
{
	return strcmp(path, "/cluster") == 0 || strcmp(path, "/") == 0 ||
	       strcmp(path, "/index.html") == 0 ||
	       (conf->metrics_public && strcmp(path, "/metrics") == 0);
}

/* Charges req to its token's bucket or its address's: false if empty. */
static bool within_rate(struct gw_access *a, const struct ft_gw_access_conf *conf,
			const struct gw_access_req *req, int token, int64_t now_ms,
			struct gw_access_verdict *v)
{
	if (conf->rate_per_second <= 0)
		return true;
	int64_t wait_ms = 0;
	bool ok;
	if (token >= 0) {
		size_t n = gw_tokens_count(a->tokens);
		ok = ft_bucket_table_take(a->by_token, gw_tokens_hash(a->tokens, token),
					  GW_TOKEN_HASH_LEN, now_ms, conf->rate_per_second,
					  conf->rate_burst, n, &wait_ms);
	} else {
		const char *peer = req->peer ? req->peer : "?";
		ok = ft_bucket_table_take(a->by_address, peer, strlen(peer), now_ms,
					  conf->rate_per_second, conf->rate_burst,
					  (size_t)conf->rate_max_addresses, &wait_ms);
	}
	if (!ok) {
		v->rate_by_token = token >= 0;
		v->retry_after_s = (int)((wait_ms + 999) / 1000);
		if (v->retry_after_s < 1)
			v->retry_after_s = 1;
	}
	return ok;
}

void gw_access_check(struct gw_access *a, const struct ft_gw_access_conf *conf, bool tls,
		     const struct gw_access_req *req, int64_t now_ms, struct gw_access_verdict *v)
{
	*v = (struct gw_access_verdict){ .outcome = GW_ACCESS_PASS, .token = -1 };
	if (!ft_host_header_allowed(conf->allowed_hosts, req->host, tls ? 443 : 80)) {
		v->outcome = GW_ACCESS_BAD_HOST;
		return;
	}
	if (conf->cors_origins[0] && ft_origin_allowed(conf->cors_origins, req->origin))
		v->allow_origin = req->origin;
	size_t tlen = 0;
	const char *bearer = gw_bearer_token(req->authorization, &tlen);
	if (a->tokens && bearer)
		v->token = gw_tokens_find(a->tokens, bearer, tlen);
	if (!within_rate(a, conf, req, v->token, now_ms, v)) {
		v->outcome = GW_ACCESS_RATE;
		return;
	}
	if (conf->cors_origins[0] && strcmp(req->method, "OPTIONS") == 0 && req->origin &&
	    req->preflight_method) {
		v->outcome = v->allow_origin ? GW_ACCESS_PREFLIGHT : GW_ACCESS_BAD_ORIGIN;
		return;
	}
	if (!a->tokens || gw_access_open_path(conf, req->path))
		return;
	if (!bearer)
		v->outcome = GW_ACCESS_NO_TOKEN;
	else if (v->token < 0)
		v->outcome = GW_ACCESS_BAD_TOKEN;
}

size_t gw_access_addresses(const struct gw_access *a)
{
	return ft_bucket_table_size(a->by_address);
}
