/* Piston's API v2 for Java (piston.h).  A request becomes a JSON API run
 * (built as that API's body, so it is checked by the same parser), and the
 * JSON API's result becomes Piston's "compile" and "run" stages. */
#include "gateway/piston.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/base64.h"
#include "lib/httpd.h"
#include "lib/util.h"

static void respond(struct ft_http_req *r, unsigned status, struct json_object *o)
{
	const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
								  JSON_C_TO_STRING_NOSLASHESCAPE);
	ft_http_add_header(r, "Cache-Control", "no-store");
	ft_http_respond(r, status, "application/json", s, strlen(s));
}

/* Piston's errors: {"message": "..."}. */
static void fail(struct ft_http_req *r, unsigned status, const char *msg)
{
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "message", json_object_new_string(msg));
	respond(r, status, o);
	json_object_put(o);
}

static const char *str(struct json_object *o, const char *key)
{
	struct json_object *v;
	return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string)
		       ? json_object_get_string(v)
		       : NULL;
}

/* Whether Piston's "version" asks for the JDK we have: "*", the exact
 * version, or a prefix of it at a dot ("17", "17.0"). */
static bool version_matches(const char *want, const char *have)
{
	if (!want || strcmp(want, "*") == 0)
		return true;
	size_t n = strlen(want);
	return strncmp(want, have, n) == 0 && (have[n] == '\0' || have[n] == '.');
}

/* A Piston file's content as base64, for a JSON API run in base64 (so
 * that any bytes pass): utf8 (the default) or base64 content. */
static char *content_b64(struct json_object *file, char *why, size_t whylen)
{
	const char *content = str(file, "content");
	const char *enc = str(file, "encoding");
	if (!content) {
		snprintf(why, whylen, "every file needs a \"content\" string");
		return NULL;
	}
	if (enc && strcmp(enc, "base64") == 0)
		return ft_xstrdup(content);
	if (enc && strcmp(enc, "utf8") != 0) {
		snprintf(why, whylen, "file encoding \"%.32s\" is not supported (utf8, base64)",
			 enc);
		return NULL;
	}
	return ft_base64_encode(content, strlen(content), NULL);
}

static void add_limit(struct json_object *lim, struct json_object *req, const char *from,
		      const char *to, long long div)
{
	struct json_object *v;
	if (!json_object_object_get_ex(req, from, &v) || !json_object_is_type(v, json_type_int))
		return;
	long long n = json_object_get_int64(v);
	if (n <= 0) /* Piston's -1: no limit of its own, the configured one */
		return;
	json_object_object_add(lim, to, json_object_new_int64(n / div > 0 ? n / div : 1));
}

/* The JSON API body for Piston's request, or NULL with why. */
static struct json_object *run_body(struct json_object *req, char *why, size_t whylen)
{
	struct json_object *files;
	if (!json_object_object_get_ex(req, "files", &files) ||
	    !json_object_is_type(files, json_type_array) || json_object_array_length(files) == 0) {
		snprintf(why, whylen, "\"files\" must be an array of at least one file");
		return NULL;
	}
	struct json_object *body = json_object_new_object();
	json_object_object_add(body, "encoding", json_object_new_string("base64"));
	json_object_object_add(body, "entry", json_object_new_string("auto"));
	size_t n = json_object_array_length(files);
	struct json_object *named = json_object_new_object();
	for (size_t i = 0; i < n; i++) {
		struct json_object *f = json_object_array_get_idx(files, i);
		char *b64 = json_object_is_type(f, json_type_object) ? content_b64(f, why, whylen)
								     : NULL;
		if (!b64) {
			if (!json_object_is_type(f, json_type_object))
				snprintf(why, whylen, "every file must be an object");
			json_object_put(named);
			json_object_put(body);
			return NULL;
		}
		const char *name = str(f, "name");
		if (n == 1 && !name) {
			/* One nameless file: named after its public class. */
			json_object_object_add(body, "source", json_object_new_string(b64));
		} else {
			char fallback[32];
			snprintf(fallback, sizeof(fallback), "File%zu.java", i);
			json_object_object_add(named, name ? name : fallback,
					       json_object_new_string(b64));
			if (i == 0)
				json_object_object_add(
					body, "main",
					json_object_new_string(name ? name : fallback));
		}
		free(b64);
	}
	if (json_object_object_length(named) > 0)
		json_object_object_add(body, "files", named);
	else
		json_object_put(named);
	const char *in = str(req, "stdin");
	if (in) {
		char *b64 = ft_base64_encode(in, strlen(in), NULL);
		json_object_object_add(body, "stdin", json_object_new_string(b64));
		free(b64);
	}
	struct json_object *args;
	if (json_object_object_get_ex(req, "args", &args))
		json_object_object_add(body, "args", json_object_get(args));
	struct json_object *lim = json_object_new_object();
	add_limit(lim, req, "run_timeout", "time_ms", 1);
	add_limit(lim, req, "run_cpu_time", "cpu_ms", 1);
	add_limit(lim, req, "run_memory_limit", "memory_mb", 1024 * 1024);
	if (json_object_object_length(lim) > 0)
		json_object_object_add(body, "limits", lim);
	else
		json_object_put(lim);
	return body;
}

/* A base64 result field back to text (U+FFFD for bytes that are not
 * UTF-8: Piston's JSON has text only). */
static char *text_of(const struct json_object *result, const char *key, size_t *len)
{
	struct json_object *v;
	*len = 0;
	if (!json_object_object_get_ex(result, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return ft_xstrdup("");
	char *raw = ft_base64_decode(json_object_get_string(v),
				     (size_t)json_object_get_string_len(v), len);
	if (!raw)
		return ft_xstrdup("");
	struct ft_buf b = { 0 };
	for (size_t i = 0; i < *len;) {
		size_t k = ft_utf8_char_len(raw + i, *len - i);
		ft_buf_append(&b, k ? raw + i : "\xEF\xBF\xBD", k ? k : 3);
		i += k ? k : 1;
	}
	free(raw);
	ft_buf_append(&b, "", 1);
	*len = b.len - 1;
	return b.data;
}

static struct json_object *stage(const char *out, size_t out_len, const char *err, size_t err_len,
				 struct json_object *code, const char *signal)
{
	struct json_object *s = json_object_new_object();
	json_object_object_add(s, "stdout", json_object_new_string_len(out, (int)out_len));
	json_object_object_add(s, "stderr", json_object_new_string_len(err, (int)err_len));
	json_object_object_add(s, "code", code);
	json_object_object_add(s, "signal", signal ? json_object_new_string(signal) : NULL);
	char *both = ft_xmalloc(out_len + err_len + 1);
	memcpy(both, out, out_len);
	memcpy(both + out_len, err, err_len);
	json_object_object_add(s, "output",
			       json_object_new_string_len(both, (int)(out_len + err_len)));
	free(both);
	return s;
}

static void answer(void *ud, struct ft_http_req *r, const struct gw_run *x)
{
	struct gw_piston *p = ud;
	const struct json_object *res = x->result;
	const char *verdict = str((struct json_object *)res, "verdict");
	if (!verdict || strcmp(verdict, "internal_error") == 0 ||
	    strcmp(verdict, "unavailable") == 0 || strcmp(verdict, "timeout") == 0) {
		size_t n;
		char *msg = text_of(res, "error", &n);
		fail(r, strcmp(verdict ? verdict : "", "internal_error") == 0 ? 500 : 503, msg);
		free(msg);
		return;
	}
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "language", json_object_new_string("java"));
	json_object_object_add(o, "version", json_object_new_string(p->java_version));
	size_t el, ol, sl;
	char *error = text_of(res, "error", &el);
	if (strcmp(verdict, "compile_error") == 0) {
		json_object_object_add(o, "compile",
				       stage("", 0, error, el, json_object_new_int(1), NULL));
		json_object_object_add(o, "run", stage("", 0, "", 0, NULL, NULL));
	} else {
		json_object_object_add(o, "compile",
				       stage("", 0, "", 0, json_object_new_int(0), NULL));
		char *out = text_of(res, "stdout", &ol);
		char *err = text_of(res, "stderr", &sl);
		struct json_object *ec;
		bool killed = strcmp(verdict, "time_limit") == 0 ||
			      strcmp(verdict, "memory_limit") == 0 ||
			      strcmp(verdict, "output_limit") == 0;
		json_object_object_get_ex(res, "exit_code", &ec);
		/* A limit's words go where Piston's clients look: stderr. */
		if (killed && el) {
			char *both = ft_xasprintf("%.*s%s%.*s", (int)sl, err, sl ? "\n" : "",
						  (int)el, error);
			free(err);
			err = both;
			sl = strlen(both);
		}
		json_object_object_add(o, "run",
				       stage(out, ol, err, sl, killed ? NULL : json_object_get(ec),
					     killed ? "SIGKILL" : NULL));
		free(out);
		free(err);
	}
	free(error);
	respond(r, 200, o);
	json_object_put(o);
}

static void execute(struct gw_piston *p, struct ft_http_req *r)
{
	if (ft_http_body_too_big(r)) {
		fail(r, 413, "Request body too large (limits.max_body_bytes)");
		return;
	}
	size_t len;
	const char *text = ft_http_body(r, &len);
	struct json_tokener *tok = json_tokener_new();
	struct json_object *req = json_tokener_parse_ex(tok, text, (int)len);
	bool parsed = req && json_tokener_get_error(tok) == json_tokener_success &&
		      json_object_is_type(req, json_type_object);
	json_tokener_free(tok);
	if (!parsed) {
		json_object_put(req);
		fail(r, 400, "The body must be a JSON object");
		return;
	}
	char why[256] = "";
	const char *lang = str(req, "language"), *version = str(req, "version");
	if (!lang || strcmp(lang, "java") != 0) {
		snprintf(why, sizeof(why), "%.64s-%.32s runtime is unknown", lang ? lang : "",
			 version ? version : "*");
		fail(r, 400, why);
		json_object_put(req);
		return;
	}
	if (!version_matches(version, p->java_version)) {
		snprintf(why, sizeof(why), "java-%.32s runtime is unknown (this is java-%.32s)",
			 version, p->java_version);
		fail(r, 400, why);
		json_object_put(req);
		return;
	}
	struct json_object *body = run_body(req, why, sizeof(why));
	json_object_put(req);
	if (!body) {
		fail(r, 400, why);
		return;
	}
	const char *bt = json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN);
	struct gw_run_request q;
	struct gw_api_error e;
	bool ok = gw_run_request_parse(bt, strlen(bt), &p->cfg->limits, &q, &e);
	json_object_put(body);
	if (!ok) {
		fail(r, 400, e.message);
		return;
	}
	bool fresh;
	struct gw_run *x = gw_runsvc_start(p->sv, &q, NULL, &e, &fresh);
	if (!x) {
		if (e.status == 503)
			ft_http_add_header(r, "Retry-After", "1");
		fail(r, e.status == 503 ? 503 : 400, e.message);
		return;
	}
	gw_runsvc_when_done(x, r, answer, p);
}

static void runtimes(struct gw_piston *p, struct ft_http_req *r)
{
	struct json_object *rt = json_object_new_object();
	json_object_object_add(rt, "language", json_object_new_string("java"));
	json_object_object_add(rt, "version", json_object_new_string(p->java_version));
	json_object_object_add(rt, "aliases", json_object_new_array());
	struct json_object *all = json_object_new_array();
	json_object_array_add(all, rt);
	respond(r, 200, all);
	json_object_put(all);
}

static void not_allowed(struct ft_http_req *r, const char *method)
{
	ft_http_add_header(r, "Allow", method);
	char msg[32];
	snprintf(msg, sizeof msg, "Use %s", method);
	fail(r, 405, msg);
}

bool gw_piston_route(struct gw_piston *p, struct ft_http_req *r)
{
	const char *path = ft_http_path(r), *m = ft_http_method(r);
	if (strcmp(path, "/api/v2") != 0 && strncmp(path, "/api/v2/", 8) != 0)
		return false;
	if (strcmp(path, "/api/v2/execute") == 0) {
		if (strcmp(m, "POST") == 0)
			execute(p, r);
		else
			not_allowed(r, "POST");
	} else if (strcmp(path, "/api/v2/runtimes") == 0) {
		if (strcmp(m, "GET") == 0)
			runtimes(p, r);
		else
			not_allowed(r, "GET");
	} else {
		fail(r, 404, "Not found: /api/v2 has /execute and /runtimes (Java only)");
	}
	return true;
}
