/* Judge0 CE's API for Java (judge0.h).  A submission becomes a JSON API
 * run, always in base64 (Judge0 lets a client choose the encoding per
 * request, also when it reads a result back), through the same parser and
 * run service; the JSON API's result becomes Judge0's submission. */
#include "gateway/judge0.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/base64.h"
#include "lib/httpd.h"
#include "lib/util.h"

#define DEFAULT_FIELDS "stdout,time,memory,stderr,token,compile_output,message,status"

static const struct gw_judge0_status statuses[] = {
	{ 1, "In Queue" },
	{ 2, "Processing" },
	{ 3, "Accepted" },
	{ 4, "Wrong Answer" },
	{ 5, "Time Limit Exceeded" },
	{ 6, "Compilation Error" },
	{ 7, "Runtime Error (SIGSEGV)" },
	{ 8, "Runtime Error (SIGXFSZ)" },
	{ 9, "Runtime Error (SIGFPE)" },
	{ 10, "Runtime Error (SIGABRT)" },
	{ 11, "Runtime Error (NZEC)" },
	{ 12, "Runtime Error (Other)" },
	{ 13, "Internal Error" },
	{ 14, "Exec Format Error" },
};

struct gw_judge0_status gw_judge0_status_of(const char *verdict)
{
	static const struct {
		const char *verdict;
		int id;
	} map[] = {
		{ "ok", 3 },
		{ "accepted", 3 },
		{ "wrong_answer", 4 },
		{ "time_limit", 5 },
		{ "compile_error", 6 },
		{ "nonzero_exit", 11 },
		{ "runtime_error", 12 },
		{ "memory_limit", 12 },
		{ "output_limit", 12 },
	};
	int id = 13; /* internal_error, unavailable, timeout, cancelled, unknown */
	for (size_t i = 0; verdict && i < FT_ARRAY_SIZE(map); i++)
		if (strcmp(map[i].verdict, verdict) == 0)
			id = map[i].id;
	return statuses[id - 1];
}

static void respond(struct ft_http_req *r, unsigned status, struct json_object *o)
{
	const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
								  JSON_C_TO_STRING_NOSLASHESCAPE);
	ft_http_add_header(r, "Cache-Control", "no-store");
	ft_http_respond(r, status, "application/json", s, strlen(s));
}

/* Judge0's validation errors: {"field": ["message"]}. */
static void invalid(struct ft_http_req *r, unsigned status, const char *field, const char *msg)
{
	struct json_object *o = json_object_new_object(), *a = json_object_new_array();
	json_object_array_add(a, json_object_new_string(msg));
	json_object_object_add(o, field, a);
	respond(r, status, o);
	json_object_put(o);
}

static void error(struct ft_http_req *r, unsigned status, const char *msg)
{
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "error", json_object_new_string(msg));
	respond(r, status, o);
	json_object_put(o);
}

static bool arg_true(struct ft_http_req *r, const char *name)
{
	const char *v = ft_http_arg(r, name);
	return v && (strcmp(v, "true") == 0 || strcmp(v, "1") == 0);
}

/* ---- from Judge0's submission to a JSON API run ---- */

/* A text field of the submission, as base64 for the run. */
static bool put_b64(struct json_object *body, const char *to, struct json_object *req,
		    const char *from, bool base64_in)
{
	struct json_object *v;
	if (!json_object_object_get_ex(req, from, &v) || json_object_is_type(v, json_type_null))
		return false;
	if (!json_object_is_type(v, json_type_string))
		return false;
	const char *s = json_object_get_string(v);
	size_t n = (size_t)json_object_get_string_len(v);
	if (base64_in) {
		json_object_object_add(body, to, json_object_new_string_len(s, (int)n));
	} else {
		char *e = ft_base64_encode(s, n, NULL);
		json_object_object_add(body, to, json_object_new_string(e));
		free(e);
	}
	return true;
}

/* Judge0's seconds as whole milliseconds, rounded up. */
static int64_t ms_of(double seconds)
{
	double ms = seconds * 1000.0;
	int64_t n = (int64_t)ms;
	return (double)n < ms ? n + 1 : n;
}

static bool number(struct json_object *req, const char *key, double *out)
{
	struct json_object *v;
	if (!json_object_object_get_ex(req, key, &v) ||
	    !(json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double)))
		return false;
	*out = json_object_get_double(v);
	return true;
}

/* Why a submission is refused: a field and Judge0's words for it. */
struct refusal {
	char field[32];
	char msg[sizeof(((struct gw_api_error *)0)->message)];
};

static struct json_object *refused(struct refusal *why, const char *field, const char *msg)
{
	snprintf(why->field, sizeof(why->field), "%s", field);
	snprintf(why->msg, sizeof(why->msg), "%s", msg);
	return NULL;
}

/* The JSON API body of one submission; NULL with *why. */
static struct json_object *run_body(struct json_object *req, bool b64, struct refusal *why)
{
	struct json_object *v;
	if (!json_object_is_type(req, json_type_object))
		return refused(why, "submission", "must be a JSON object");
	if (!json_object_object_get_ex(req, "language_id", &v) ||
	    !json_object_is_type(v, json_type_int))
		return refused(why, "language_id", "can't be blank");
	if (json_object_get_int(v) != GW_JUDGE0_JAVA) {
		char msg[96];
		snprintf(msg, sizeof(msg), "language with id %d doesn't exist (Java is %d)",
			 json_object_get_int(v), GW_JUDGE0_JAVA);
		return refused(why, "language_id", msg);
	}
	struct json_object *body = json_object_new_object();
	json_object_object_add(body, "encoding", json_object_new_string("base64"));
	json_object_object_add(body, "entry", json_object_new_string("auto"));
	if (!put_b64(body, "source", req, "source_code", b64)) {
		json_object_put(body);
		return refused(why, "source_code", "can't be blank");
	}
	put_b64(body, "stdin", req, "stdin", b64);
	if (json_object_object_get_ex(req, "callback_url", &v) &&
	    !json_object_is_type(v, json_type_null))
		json_object_object_add(body, "callback_url", json_object_get(v));
	put_b64(body, "expected_output", req, "expected_output", b64);
	if (json_object_object_get_ex(req, "command_line_arguments", &v) &&
	    json_object_is_type(v, json_type_string)) {
		struct json_object *args = json_object_new_array();
		char *copy = ft_xstrdup(json_object_get_string(v)), *save = NULL;
		for (char *t = strtok_r(copy, " \t", &save); t; t = strtok_r(NULL, " \t", &save))
			json_object_array_add(args, json_object_new_string(t));
		free(copy);
		json_object_object_add(body, "args", args);
	}
	struct json_object *lim = json_object_new_object();
	double d;
	if (number(req, "cpu_time_limit", &d) && d > 0)
		json_object_object_add(lim, "cpu_ms", json_object_new_int64(ms_of(d)));
	if (number(req, "wall_time_limit", &d) && d > 0)
		json_object_object_add(lim, "time_ms", json_object_new_int64(ms_of(d)));
	if (number(req, "memory_limit", &d) && d > 0) /* KB */
		json_object_object_add(lim, "memory_mb",
				       json_object_new_int64((int64_t)(d / 1024)));
	if (json_object_object_length(lim) > 0)
		json_object_object_add(body, "limits", lim);
	else
		json_object_put(lim);
	return body;
}

static struct json_object *callback_body(const void *ctx, const struct gw_run *x);
static const struct gw_callback_as judge0_callback = { "PUT", callback_body, NULL };

/* Starts one submission: its run, or NULL with *why (and *status, the
 * HTTP status to refuse it with). */
static struct gw_run *start(struct gw_judge0 *j, struct json_object *req, bool b64,
			    struct refusal *why, unsigned *status)
{
	*status = 422;
	struct json_object *body = run_body(req, b64, why);
	if (!body)
		return NULL;
	const char *text = json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN);
	struct gw_run_request q;
	struct gw_api_error e;
	bool ok = gw_run_request_parse(text, strlen(text), &j->cfg->limits, &q, &e);
	json_object_put(body);
	if (!ok) {
		*status = e.status == 413 ? 413 : 422;
		/* Not one field's fault: Rails, hence Judge0, calls that "base". */
		refused(why, *status == 422 ? "base" : "", e.message);
		return NULL;
	}
	q.callback_as = &judge0_callback;
	bool fresh;
	struct gw_run *x = gw_runsvc_start(j->sv, &q, NULL, &e, &fresh);
	if (!x) {
		*status = e.status;
		refused(why, "", e.message);
	}
	return x;
}

static void refuse(struct ft_http_req *r, unsigned status, const struct refusal *why)
{
	if (status == 503)
		ft_http_add_header(r, "Retry-After", "1");
	if (why->field[0])
		invalid(r, status, why->field, why->msg);
	else
		error(r, status, why->msg);
}

/* ---- from a run to Judge0's submission ---- */

static bool wanted(const char *fields, const char *key)
{
	if (strcmp(fields, "*") == 0)
		return true;
	size_t n = strlen(key);
	for (const char *p = fields; (p = strstr(p, key)) != NULL; p += n)
		if ((p == fields || p[-1] == ',') && (p[n] == ',' || p[n] == '\0'))
			return true;
	return false;
}

/* A result field (base64 in the run) as Judge0 shows it: base64, or text;
 * *bad when its bytes are not UTF-8 (Judge0 then refuses to answer). */
static struct json_object *field(const struct json_object *res, const char *key, bool b64,
				 bool *bad)
{
	struct json_object *v;
	/* Judge0 shows an empty output as null. */
	if (!res || !json_object_object_get_ex(res, key, &v) ||
	    !json_object_is_type(v, json_type_string) || json_object_get_string_len(v) == 0)
		return NULL;
	if (b64)
		return json_object_get(v);
	size_t n;
	char *raw = ft_base64_decode(json_object_get_string(v),
				     (size_t)json_object_get_string_len(v), &n);
	if (!raw)
		return NULL;
	if (!ft_utf8_valid(raw, n))
		*bad = true;
	struct json_object *o = json_object_new_string_len(raw, (int)n);
	free(raw);
	return o;
}

static struct json_object *seconds(const struct json_object *res, const char *key)
{
	struct json_object *v;
	if (!res || !json_object_object_get_ex(res, key, &v) ||
	    !json_object_is_type(v, json_type_int))
		return NULL;
	char buf[32];
	snprintf(buf, sizeof(buf), "%.3f", (double)json_object_get_int64(v) / 1000.0);
	return json_object_new_string(buf);
}

static struct json_object *copy(const struct json_object *res, const char *key)
{
	struct json_object *v;
	return res && json_object_object_get_ex(res, key, &v) ? json_object_get(v) : NULL;
}

/* The submission of x with the fields asked for; NULL with *bad when a
 * text field is not UTF-8 and base64 was not asked for. */
static struct json_object *submission(const struct gw_judge0 *j, const struct gw_run *x, bool b64,
				      const char *fields, bool *bad)
{
	const struct json_object *res = x->done ? x->result : NULL;
	struct json_object *vd;
	const char *verdict = res && json_object_object_get_ex(res, "verdict", &vd)
				      ? json_object_get_string(vd)
				      : NULL;
	struct gw_judge0_status st;
	if (x->done) {
		st = gw_judge0_status_of(verdict);
	} else {
		int worker, attempts;
		st = statuses[gw_run_state(x, j->sv->core, &worker, &attempts) == GW_RUN_RUNNING
				      ? 1
				      : 0];
	}
	bool compile = verdict && strcmp(verdict, "compile_error") == 0;
	bool ok = st.id == 3 || st.id == 4;
	struct json_object *o = json_object_new_object();
	*bad = false;
#define ADD(key, value)                                     \
	do {                                                \
		struct json_object *v_ = (value);           \
		if (wanted(fields, key))                    \
			json_object_object_add(o, key, v_); \
		else                                        \
			json_object_put(v_);                \
	} while (0)
	ADD("token", json_object_new_string(x->id));
	ADD("stdout", field(res, "stdout", b64, bad));
	ADD("stderr", field(res, "stderr", b64, bad));
	ADD("compile_output", compile ? field(res, "error", b64, bad) : NULL);
	ADD("message", res && !ok && !compile ? field(res, "error", b64, bad) : NULL);
	struct json_object *status = json_object_new_object();
	json_object_object_add(status, "id", json_object_new_int(st.id));
	json_object_object_add(status, "description", json_object_new_string(st.description));
	ADD("status", status);
	ADD("status_id", json_object_new_int(st.id));
	ADD("time", seconds(res, "cpu_ms"));
	ADD("wall_time", seconds(res, "time_ms"));
	ADD("memory", copy(res, "memory_kb"));
	ADD("exit_code", copy(res, "exit_code"));
	ADD("language_id", json_object_new_int(GW_JUDGE0_JAVA));
#undef ADD
	if (*bad) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

/* Judge0 PUTs the finished submission to its callback_url, base64-encoded
 * with the default fields (a done run needs no j). */
static struct json_object *callback_body(const void *ctx, const struct gw_run *x)
{
	(void)ctx;
	bool bad;
	return submission(NULL, x, true, DEFAULT_FIELDS, &bad);
}

static void show(struct gw_judge0 *j, struct ft_http_req *r, unsigned status,
		 const struct gw_run *x)
{
	bool bad;
	const char *fields = ft_http_arg(r, "fields");
	struct json_object *o = submission(j, x, arg_true(r, "base64_encoded"),
					   fields ? fields : DEFAULT_FIELDS, &bad);
	if (!o) {
		error(r, 400,
		      "some attributes for this submission cannot be converted to UTF-8, use "
		      "base64_encoded=true");
		return;
	}
	respond(r, status, o);
	json_object_put(o);
}

static void answer_done(void *ud, struct ft_http_req *r, const struct gw_run *x)
{
	show(ud, r, 201, x);
}

/* ---- the requests ---- */

static struct json_object *body_json(struct ft_http_req *r)
{
	size_t len;
	const char *text = ft_http_body(r, &len);
	struct json_tokener *tok = json_tokener_new();
	struct json_object *o = json_tokener_parse_ex(tok, text, (int)len);
	if (json_tokener_get_error(tok) != json_tokener_success) {
		json_object_put(o);
		o = NULL;
	}
	json_tokener_free(tok);
	if (!o)
		error(r, 400, "The body must be JSON");
	return o;
}

static void create(struct gw_judge0 *j, struct ft_http_req *r)
{
	if (ft_http_body_too_big(r)) {
		error(r, 413, "Request body too large (limits.max_body_bytes)");
		return;
	}
	struct json_object *req = body_json(r);
	if (!req)
		return;
	struct refusal why;
	unsigned status;
	struct gw_run *x = start(j, req, arg_true(r, "base64_encoded"), &why, &status);
	json_object_put(req);
	if (!x) {
		refuse(r, status, &why);
		return;
	}
	if (arg_true(r, "wait")) {
		gw_runsvc_when_done(x, r, answer_done, j);
		return;
	}
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "token", json_object_new_string(x->id));
	respond(r, 201, o);
	json_object_put(o);
}

static void create_batch(struct gw_judge0 *j, struct ft_http_req *r)
{
	if (ft_http_body_too_big(r)) {
		error(r, 413, "Request body too large (limits.max_body_bytes)");
		return;
	}
	struct json_object *req = body_json(r), *subs;
	if (!req)
		return;
	if (!json_object_object_get_ex(req, "submissions", &subs) ||
	    !json_object_is_type(subs, json_type_array) || json_object_array_length(subs) == 0 ||
	    json_object_array_length(subs) > (size_t)j->cfg->limits.max_batch_runs) {
		json_object_put(req);
		char msg[96];
		snprintf(msg, sizeof msg,
			 "must be an array of 1 to %d submissions (limits.max_batch_runs)",
			 j->cfg->limits.max_batch_runs);
		invalid(r, 422, "submissions", msg);
		return;
	}
	bool b64 = arg_true(r, "base64_encoded");
	struct json_object *out = json_object_new_array();
	for (size_t i = 0; i < json_object_array_length(subs); i++) {
		/* Each one's refusal is its own entry, as Judge0 does. */
		struct refusal why;
		unsigned status;
		struct gw_run *x = start(j, json_object_array_get_idx(subs, i), b64, &why, &status);
		struct json_object *entry = json_object_new_object();
		if (x) {
			json_object_object_add(entry, "token", json_object_new_string(x->id));
		} else if (why.field[0]) {
			struct json_object *a = json_object_new_array();
			json_object_array_add(a, json_object_new_string(why.msg));
			json_object_object_add(entry, why.field, a);
		} else {
			json_object_object_add(entry, "error", json_object_new_string(why.msg));
		}
		json_object_array_add(out, entry);
	}
	json_object_put(req);
	respond(r, 201, out);
	json_object_put(out);
}

static void show_batch(struct gw_judge0 *j, struct ft_http_req *r)
{
	const char *tokens = ft_http_arg(r, "tokens");
	if (!tokens || !*tokens) {
		invalid(r, 422, "tokens", "can't be blank");
		return;
	}
	bool b64 = arg_true(r, "base64_encoded");
	const char *fields = ft_http_arg(r, "fields");
	struct json_object *list = json_object_new_array();
	char *copy_tokens = ft_xstrdup(tokens), *save = NULL;
	size_t n = 0;
	for (char *t = strtok_r(copy_tokens, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		if (++n > (size_t)j->cfg->limits.max_batch_runs) {
			free(copy_tokens);
			json_object_put(list);
			char msg[64];
			snprintf(msg, sizeof msg, "at most %d tokens (limits.max_batch_runs)",
				 j->cfg->limits.max_batch_runs);
			invalid(r, 422, "tokens", msg);
			return;
		}
		struct gw_run *x = gw_runs_find(&j->sv->runs, t);
		bool bad = false;
		struct json_object *o =
			x ? submission(j, x, b64, fields ? fields : DEFAULT_FIELDS, &bad) : NULL;
		if (bad) {
			free(copy_tokens);
			json_object_put(list);
			error(r, 400,
			      "some attributes for this submission cannot be converted to UTF-8, "
			      "use base64_encoded=true");
			return;
		}
		json_object_array_add(list, o); /* null for an unknown token */
	}
	free(copy_tokens);
	struct json_object *out = json_object_new_object();
	json_object_object_add(out, "submissions", list);
	respond(r, 200, out);
	json_object_put(out);
}

static struct json_object *language(const struct gw_judge0 *j, bool details)
{
	char name[96];
	snprintf(name, sizeof(name), "Java (OpenJDK %s)",
		 j->java_version[0] ? j->java_version : "?");
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "id", json_object_new_int(GW_JUDGE0_JAVA));
	json_object_object_add(o, "name", json_object_new_string(name));
	if (details) {
		json_object_object_add(o, "is_archived", json_object_new_boolean(false));
		json_object_object_add(o, "source_file", json_object_new_string("Main.java"));
		json_object_object_add(o, "compile_cmd", json_object_new_string("javac Main.java"));
		json_object_object_add(o, "run_cmd", json_object_new_string("java Main"));
	}
	return o;
}

static bool want_get(struct ft_http_req *r)
{
	if (strcmp(ft_http_method(r), "GET") == 0)
		return true;
	ft_http_add_header(r, "Allow", "GET");
	error(r, 405, "Use GET");
	return false;
}

bool gw_judge0_route(struct gw_judge0 *j, struct ft_http_req *r)
{
	const char *path = ft_http_path(r), *m = ft_http_method(r);
	bool post = strcmp(m, "POST") == 0;
	if (strcmp(path, "/submissions") == 0 || strcmp(path, "/submissions/") == 0) {
		if (post) {
			create(j, r);
		} else {
			ft_http_add_header(r, "Allow", "POST");
			error(r, 405, "Use POST to submit, GET /submissions/{token} to read");
		}
	} else if (strcmp(path, "/submissions/batch") == 0) {
		if (post)
			create_batch(j, r);
		else if (want_get(r))
			show_batch(j, r);
	} else if (strncmp(path, "/submissions/", 13) == 0 && !strchr(path + 13, '/')) {
		if (!want_get(r))
			return true;
		struct gw_run *x = gw_runs_find(&j->sv->runs, path + 13);
		if (x)
			show(j, r, 200, x);
		else
			error(r, 404, "Not Found");
	} else if (strcmp(path, "/languages") == 0 || strcmp(path, "/languages/all") == 0) {
		if (want_get(r)) {
			struct json_object *all = json_object_new_array();
			json_object_array_add(all, language(j, false));
			respond(r, 200, all);
			json_object_put(all);
		}
	} else if (strncmp(path, "/languages/", 11) == 0) {
		if (!want_get(r))
			return true;
		if (atoi(path + 11) == GW_JUDGE0_JAVA && strspn(path + 11, "0123456789") == 2 &&
		    path[13] == '\0') {
			struct json_object *o = language(j, true);
			respond(r, 200, o);
			json_object_put(o);
		} else {
			error(r, 404, "Not Found");
		}
	} else if (strcmp(path, "/statuses") == 0) {
		if (want_get(r)) {
			struct json_object *all = json_object_new_array();
			for (size_t i = 0; i < FT_ARRAY_SIZE(statuses); i++) {
				struct json_object *s = json_object_new_object();
				json_object_object_add(s, "id",
						       json_object_new_int(statuses[i].id));
				json_object_object_add(
					s, "description",
					json_object_new_string(statuses[i].description));
				json_object_array_add(all, s);
			}
			respond(r, 200, all);
			json_object_put(all);
		}
	} else {
		return false;
	}
	return true;
}
