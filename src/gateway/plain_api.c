#include "gateway/plain_api.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "lib/httpd.h"
#include "lib/util.h"

static void respond_text(struct ft_http_req *r, unsigned status, const char *msg)
{
	ft_http_add_header(r, "Cached-Response", "false");
	ft_http_respond(r, status, "text/plain; charset=utf-8", msg, strlen(msg));
}

static void answer(struct ft_http_req *r, unsigned status, const char *body, size_t len,
		   bool cached, uint64_t id, const char *verdict)
{
	char idbuf[32];
	ft_http_add_header(r, "Cached-Response", cached ? "true" : "false");
	if (id) {
		snprintf(idbuf, sizeof(idbuf), "%" PRIu64, id);
		ft_http_add_header(r, "X-Request-Id", idbuf);
	}
	if (verdict)
		ft_http_add_header(r, "X-Verdict", verdict);
	ft_http_respond(r, status, "text/plain; charset=utf-8", body, len);
}

/* ---- POST /compileandrun ---- */

static void plain_done(void *ud, const struct gw_result *res)
{
	struct ft_http_req *r = ud;
	/* What the worker measured, for people and scripts (-1: unknown). */
	static const char *const measured[][2] = {
		{ "exit", "X-Exit-Code" },
		{ "run_ms", "X-Time-Ms" },
		{ "wall_ms", "X-Wall-Time-Ms" },
		{ "cpu_ms", "X-Cpu-Time-Ms" },
		{ "memory_bytes", "X-Memory-Bytes" },
	};
	for (size_t i = 0; res->meta && i < FT_ARRAY_SIZE(measured); i++) {
		struct json_object *v;
		char num[24];
		if (!json_object_object_get_ex(res->meta, measured[i][0], &v))
			continue;
		snprintf(num, sizeof(num), "%" PRId64, json_object_get_int64(v));
		ft_http_add_header(r, measured[i][1], num);
	}
	struct json_object *cc;
	if (res->meta && json_object_object_get_ex(res->meta, "compile_cached", &cc))
		ft_http_add_header(r, "X-Compile-Cached",
				   json_object_get_boolean(cc) ? "true" : "false");
	if (res->status == 503)
		ft_http_add_header(r, "Retry-After", "1");
	answer(r, res->status, res->body, res->len, res->cached, res->id, res->verdict);
}

static void plain_abandon(void *ud, struct ft_http_req *r)
{
	struct gw_plain_api *a = ud;
	gw_core_forget(a->core, r);
}

static void compile_and_run(struct gw_plain_api *a, struct ft_http_req *r)
{
	if (strcmp(ft_http_method(r), "POST") != 0) {
		ft_http_add_header(r, "Allow", "POST");
		respond_text(r, 405, "Method not allowed: use POST with the Java source as body\n");
		return;
	}
	if (ft_http_body_too_big(r)) {
		char msg[160];
		snprintf(msg, sizeof(msg),
			 "Request body too large: the limit is %zu bytes (limits.max_body_bytes)\n",
			 a->cfg->limits.max_body_bytes);
		respond_text(r, 413, msg);
		return;
	}
	if (!ft_http_content_type_is(r, "text/x-java-source")) {
		respond_text(r, 400, "Content-Type must be text/x-java-source\n");
		return;
	}
	size_t len;
	const char *body = ft_http_body(r, &len);
	if (len == 0) {
		respond_text(r, 400, "Empty body: send the Java source as the request body\n");
		return;
	}
	uint64_t id = 0;
	struct gw_submission s = { .src = body, .len = len, .main_len = len };
	char kb[512];
	const char *key = ft_http_idempotency_key(r, "plain", kb, sizeof(kb));
	switch (gw_core_submit(a->core, ft_now_ms(), &s, key, plain_done, r, &id)) {
	case GW_SUBMITTED:
		ft_http_set_abandon(r, plain_abandon, a);
		break;
	case GW_ANSWERED:
		break;
	case GW_KEY_REUSED:
		respond_text(r, 422, "This Idempotency-Key was used for a different request\n");
		break;
	case GW_OVERLOADED:
		ft_http_add_header(r, "Retry-After", "1");
		respond_text(r, 503,
			     "Too many requests in progress (limits.max_pending_requests); "
			     "try again later\n");
		break;
	}
}

/* ---- GET /cluster ---- */

static void cluster_status(struct gw_plain_api *a, struct ft_http_req *r)
{
	if (strcmp(ft_http_method(r), "GET") != 0) {
		ft_http_add_header(r, "Allow", "GET");
		respond_text(r, 405, "Method not allowed: use GET\n");
		return;
	}
	int leader = gw_cluster_leader(a->cluster);
	const char *accept = ft_http_header(r, "Accept");
	bool json = accept && strstr(accept, "application/json");
	struct ft_buf b = { 0 };
	if (json) {
		struct json_object *view = gw_cluster_json(a->cluster, &leader);
		ft_buf_printf(&b, "%s\n",
			      json_object_to_json_string_ext(view, JSON_C_TO_STRING_PRETTY));
		json_object_put(view);
	} else
		gw_cluster_text(a->cluster, &b, leader);
	ft_http_add_header(r, "Cached-Response", "false");
	ft_http_respond(r, leader >= 0 ? 200 : 503,
			json ? "application/json" : "text/plain; charset=utf-8", b.data, b.len);
	ft_buf_free(&b);
}

bool gw_plain_api_route(struct gw_plain_api *a, struct ft_http_req *r)
{
	const char *path = ft_http_path(r);
	if (strcmp(path, "/compileandrun") == 0)
		compile_and_run(a, r);
	else if (strcmp(path, "/cluster") == 0)
		cluster_status(a, r);
	else
		return false;
	return true;
}

void gw_plain_api_not_found(struct ft_http_req *r)
{
	respond_text(r, 404, "Not found: try POST /compileandrun or GET /cluster\n");
}
