/* The body of POST /v1/runs: strict JSON, checked field by field against
 * the configured limits, turned into a run's job (job/jobspec.h).  Pure
 * logic (no HTTP, no gateway state): unit-tested in
 * tests/unit/check_run_request.c, and through the server in
 * tests/integration/test_api.py. */
#include "gateway/run_request.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/judge.h"
#include "lib/base64.h"
#include "lib/util.h"
#include "runner/limits.h"

struct parse {
	const struct ft_limits *lim;
	struct gw_api_error *err;
};

static bool set_error(struct parse *p, unsigned status, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Always false, so that a check can end with "return set_error(...)". */
static bool set_error(struct parse *p, unsigned status, const char *code, const char *fmt, ...)
{
	va_list ap;
	p->err->status = status;
	snprintf(p->err->code, sizeof(p->err->code), "%s", code);
	va_start(ap, fmt);
	vsnprintf(p->err->message, sizeof(p->err->message), fmt, ap);
	va_end(ap);
	return false;
}

static bool int_in(struct json_object *v, int64_t lo, int64_t hi, int64_t *out)
{
	if (!json_object_is_type(v, json_type_int))
		return false;
	errno = 0;
	int64_t n = json_object_get_int64(v);
	*out = n;
	return errno == 0 && n >= lo && n <= hi;
}

size_t gw_run_request_limits(const struct ft_limits *cl, struct gw_run_limit out[GW_RUN_LIMITS])
{
	out[0] = (struct gw_run_limit){ "time_ms", 1, cl->run_wall_ms };
	out[1] = (struct gw_run_limit){ "cpu_ms", 1, cl->run_cpu_ms };
	/* Below this no JVM starts: every run would be an internal error. */
	out[2] = (struct gw_run_limit){ "memory_mb", (int64_t)(FT_MIN_MEMORY / FT_MiB),
					(int64_t)(cl->run_memory_bytes / FT_MiB) };
	out[3] = (struct gw_run_limit){ "output_bytes", 1, (int64_t)cl->max_output_bytes };
	return GW_RUN_LIMITS;
}

/* "limits": known keys, integers within the configured maxima. */
static bool parse_limits(struct parse *p, struct json_object *lim, struct ft_jobspec *spec)
{
	struct gw_run_limit range[GW_RUN_LIMITS];
	gw_run_request_limits(p->lim, range);
	const struct {
		const char *key;
		int64_t min, max;
		int64_t *field;
	} known[] = {
		{ range[0].key, range[0].min, range[0].max, &spec->time_ms },
		{ range[1].key, range[1].min, range[1].max, &spec->cpu_ms },
		{ range[2].key, range[2].min, range[2].max, &spec->memory_mb },
		{ range[3].key, range[3].min, range[3].max, &spec->output_bytes },
	};
	if (!json_object_is_type(lim, json_type_object)) {
		return set_error(p, 400, "invalid_request", "\"limits\" must be an object");
	}
	json_object_object_foreach(lim, key, val)
	{
		size_t i = 0;
		while (i < FT_ARRAY_SIZE(known) && strcmp(known[i].key, key) != 0)
			i++;
		if (i == FT_ARRAY_SIZE(known)) {
			return set_error(p, 400, "unknown_field",
					 "Unknown field \"limits.%s\": known are time_ms, cpu_ms, "
					 "memory_mb, output_bytes",
					 key);
		}
		if (!json_object_is_type(val, json_type_int)) {
			return set_error(p, 400, "invalid_request",
					 "\"limits.%s\" must be an integer", key);
		}
		if (!int_in(val, known[i].min, known[i].max, known[i].field)) {
			return set_error(p, 422, "limit_out_of_range",
					 "\"limits.%s\" must be between %" PRId64 " and %" PRId64
					 " (the configured maximum)",
					 key, known[i].min, known[i].max);
		}
	}
	return true;
}

/* "files": name -> source, at most limits.max_files, names Name.java. */
static bool parse_files(struct parse *p, struct json_object *files, struct ft_jobspec *spec)
{
	size_t max = (size_t)p->lim->max_files;
	if (!json_object_is_type(files, json_type_object)) {
		return set_error(p, 400, "invalid_request",
				 "\"files\" must be an object: file name -> source");
	}
	size_t n = (size_t)json_object_object_length(files);
	if (n == 0) {
		return set_error(p, 400, "missing_source", "\"files\" is empty");
	}
	if (n > max) {
		return set_error(p, 422, "too_many_files",
				 "%zu files: a run may have at most %zu (limits.max_files)", n,
				 max);
	}
	spec->files = ft_xcalloc(n, sizeof(*spec->files));
	json_object_object_foreach(files, name, content)
	{
		if (!ft_jobspec_file_name_ok(name)) {
			return set_error(p, 400, "invalid_file_name",
					 "File name \"%.80s\" is not allowed: use Name.java, a "
					 "Java identifier and no directories",
					 name);
		}
		if (!json_object_is_type(content, json_type_string)) {
			return set_error(p, 400, "invalid_request",
					 "\"files.%s\" must be a string (the source)", name);
		}
		struct ft_job_file *f = &spec->files[spec->n_files++];
		f->name = ft_xstrdup(name);
		f->src = json_object_get_string(content);
		f->len = (size_t)json_object_get_string_len(content);
	}
	return true;
}

/* Puts the file named main first: its public class is the one run. */
static bool put_main_first(struct parse *p, const char *main, struct ft_jobspec *spec)
{
	for (size_t i = 0; i < spec->n_files; i++) {
		if (strcmp(spec->files[i].name, main) == 0) {
			struct ft_job_file t = spec->files[i];
			memmove(spec->files + 1, spec->files, i * sizeof(*spec->files));
			spec->files[0] = t;
			return true;
		}
	}
	return set_error(p, 400, "invalid_request",
			 "\"main\" names %.80s, which is not in \"files\"", main);
}

static bool parse_args(struct parse *p, struct json_object *val, struct ft_jobspec *spec)
{
	size_t max = (size_t)p->lim->max_args;
	bool ok = json_object_is_type(val, json_type_array);
	size_t n = ok ? json_object_array_length(val) : 0;
	for (size_t i = 0; ok && i < n; i++) {
		struct json_object *a = json_object_array_get_idx(val, i);
		ok = json_object_is_type(a, json_type_string) &&
		     strlen(json_object_get_string(a)) == (size_t)json_object_get_string_len(a);
	}
	if (!ok) {
		return set_error(p, 400, "invalid_request",
				 "\"args\" must be an array of strings (without NUL characters)");
	}
	if (n > max) {
		return set_error(p, 422, "too_many_args",
				 "%zu arguments: a run may have at most %zu (limits.max_args)", n,
				 max);
	}
	spec->args = ft_xcalloc(n ? n : 1, sizeof(*spec->args));
	for (size_t i = 0; i < n; i++)
		spec->args[spec->n_args++] =
			ft_xstrdup(json_object_get_string(json_object_array_get_idx(val, i)));
	return true;
}

static bool want_type(struct parse *p, struct json_object *val, json_type t, const char *key,
		      const char *what)
{
	if (json_object_is_type(val, t))
		return true;
	return set_error(p, 400, "invalid_request", "\"%s\" must be %s", key, what);
}

/* One of "tests" (index i) into *t. */
static bool parse_test(struct parse *p, size_t i, struct json_object *val, struct gw_test_case *t)
{
	if (!json_object_is_type(val, json_type_object))
		return set_error(p, 400, "invalid_request",
				 "tests[%zu] must be an object: stdin, args, expected_output", i);
	json_object_object_foreach(val, key, v)
	{
		char label[48];
		snprintf(label, sizeof(label), "tests[%zu].%s", i, key);
		if (strcmp(key, "stdin") == 0) {
			if (!want_type(p, v, json_type_string, label, "a string"))
				return false;
			t->input_len = (size_t)json_object_get_string_len(v);
			t->input = ft_xmemdup(json_object_get_string(v), t->input_len + 1);
		} else if (strcmp(key, "expected_output") == 0) {
			if (!want_type(p, v, json_type_string, label, "a string"))
				return false;
			t->expected = json_object_get_string(v);
			t->expected_len = (size_t)json_object_get_string_len(v);
		} else if (strcmp(key, "args") == 0) {
			struct ft_jobspec s = { 0 };
			bool ok = parse_args(p, v, &s);
			t->args = s.args;
			t->n_args = s.n_args;
			if (!ok)
				return false;
		} else {
			return set_error(p, 400, "unknown_field",
					 "Unknown field \"%s\": a test has stdin, args and "
					 "expected_output",
					 label);
		}
	}
	return true;
}

/* "tests": 1 to limits.max_batch_runs of them. */
static bool parse_tests(struct parse *p, struct json_object *val, struct gw_run_request *q)
{
	size_t n = json_object_is_type(val, json_type_array) ? json_object_array_length(val) : 0;
	if (n == 0)
		return set_error(p, 400, "invalid_request",
				 "\"tests\" must be a non-empty array of tests");
	if (n > (size_t)p->lim->max_batch_runs)
		return set_error(p, 422, "too_many_runs",
				 "%zu tests: a run may have at most %d (limits.max_batch_runs)", n,
				 p->lim->max_batch_runs);
	q->tests = ft_xcalloc(n, sizeof(*q->tests));
	for (size_t i = 0; i < n; i++) {
		q->n_tests = i + 1;
		if (!parse_test(p, i, json_object_array_get_idx(val, i), &q->tests[i]))
			return false;
	}
	return true;
}

/* Parse and validate the request body; on failure answers r and returns false. */
static bool parse_run_req(struct parse *p, struct json_object *root, struct gw_run_request *q)
{
	struct json_object *source = NULL, *files = NULL, *main = NULL;
	q->wait = true;
	q->spec.capture = true;
	/* Beyond the contract's run(): main programs too, unless told. */
	q->spec.entry = FT_ENTRY_AUTO;
	if (!json_object_is_type(root, json_type_object)) {
		return set_error(p, 400, "invalid_request", "The body must be a JSON object");
	}
	json_object_object_foreach(root, key, val)
	{
		bool ok = true;
		if (strcmp(key, "source") == 0) {
			ok = want_type(p, val, json_type_string, key, "a string");
			source = val;
		} else if (strcmp(key, "files") == 0) {
			files = val;
			ok = parse_files(p, val, &q->spec);
		} else if (strcmp(key, "main") == 0) {
			ok = want_type(p, val, json_type_string, key, "a file name of \"files\"");
			main = val;
		} else if (strcmp(key, "wait") == 0) {
			ok = want_type(p, val, json_type_boolean, key, "true or false");
			q->wait = ok && json_object_get_boolean(val);
		} else if (strcmp(key, "stdin") == 0) {
			ok = want_type(p, val, json_type_string, key, "a string");
			if (ok) {
				q->spec.input_len = (size_t)json_object_get_string_len(val);
				q->spec.input = ft_xmemdup(json_object_get_string(val),
							   q->spec.input_len + 1);
			}
		} else if (strcmp(key, "args") == 0) {
			ok = parse_args(p, val, &q->spec);
		} else if (strcmp(key, "limits") == 0) {
			ok = parse_limits(p, val, &q->spec);
		} else if (strcmp(key, "encoding") == 0) {
			const char *v = json_object_is_type(val, json_type_string)
						? json_object_get_string(val)
						: "";
			ok = strcmp(v, "utf8") == 0 || strcmp(v, "base64") == 0 ||
			     set_error(p, 400, "invalid_parameter",
				       "\"encoding\" must be \"utf8\" or \"base64\"");
			q->base64 = ok && strcmp(v, "base64") == 0;
		} else if (strcmp(key, "expected_output") == 0) {
			ok = want_type(p, val, json_type_string, key, "a string");
			if (ok) {
				q->expected = json_object_get_string(val);
				q->expected_len = (size_t)json_object_get_string_len(val);
			}
		} else if (strcmp(key, "compare") == 0) {
			int c = json_object_is_type(val, json_type_string)
					? gw_compare_from_name(json_object_get_string(val))
					: -1;
			ok = c >= 0 || set_error(p, 400, "invalid_parameter",
						 "\"compare\" must be \"trailing_whitespace\" or "
						 "\"exact\"");
			q->compare = ok ? c : 0;
		} else if (strcmp(key, "tests") == 0) {
			ok = parse_tests(p, val, q);
		} else if (strcmp(key, "callback_url") == 0) {
			ok = want_type(p, val, json_type_string, key, "a URL");
			q->callback_url = ok ? json_object_get_string(val) : NULL;
		} else if (strcmp(key, "entry") == 0) {
			int e = json_object_is_type(val, json_type_string)
					? ft_entry_from_name(json_object_get_string(val))
					: -1;
			ok = e >= 0 || set_error(p, 400, "invalid_parameter",
						 "\"entry\" must be \"auto\", \"run\" or \"main\"");
			if (ok)
				q->spec.entry = (enum ft_entry)e;
		} else {
			ok = set_error(p, 400, "unknown_field",
				       "Unknown field \"%s\": known are source, files, main, "
				       "entry, encoding, stdin, args, limits, expected_output, "
				       "compare, tests, callback_url, wait",
				       key);
		}
		if (!ok)
			return false;
	}
	if (source && files) {
		return set_error(p, 400, "invalid_request",
				 "Give either \"source\" or \"files\", not both");
	}
	if (q->n_tests && (q->spec.input || q->spec.n_args || q->expected)) {
		return set_error(p, 400, "invalid_request",
				 "With \"tests\", stdin, args and expected_output go in each test");
	}
	if (main && !files) {
		return set_error(p, 400, "invalid_request", "\"main\" goes with \"files\"");
	}
	if (main && !put_main_first(p, json_object_get_string(main), &q->spec))
		return false;
	if (files)
		return true;
	if (!source) {
		return set_error(p, 400, "missing_source",
				 "Send the Java source in \"source\" (or \"files\")");
	}
	q->src = json_object_get_string(source);
	q->len = (size_t)json_object_get_string_len(source);
	if (q->len == 0) {
		return set_error(p, 400, "missing_source", "\"source\" is empty");
	}
	return true;
}

/* *text (len bytes) base64-decoded in place of itself; what, for the
 * message. */
static bool decode_one(struct parse *p, struct gw_run_request *q, const char **text, size_t *len,
		       const char *what)
{
	size_t n;
	char *d = ft_base64_decode(*text, *len, &n);
	if (!d)
		return set_error(p, 400, "invalid_parameter",
				 "%s is not base64 (\"encoding\": \"base64\")", what);
	q->decoded = ft_xrealloc(q->decoded, (q->n_decoded + 1) * sizeof(*q->decoded));
	q->decoded[q->n_decoded++] = d;
	*text = d;
	*len = n;
	return true;
}

/* With "encoding": "base64": the sources and stdin are bytes now. */
static bool decode_base64(struct parse *p, struct gw_run_request *q)
{
	if (q->src && !decode_one(p, q, &q->src, &q->len, "\"source\""))
		return false;
	for (size_t i = 0; i < q->spec.n_files; i++) {
		struct ft_job_file *f = &q->spec.files[i];
		char what[FT_JOB_FILE_NAME_MAX + 16];
		snprintf(what, sizeof(what), "\"files.%s\"", f->name);
		if (!decode_one(p, q, &f->src, &f->len, what))
			return false;
	}
	if (q->expected && !decode_one(p, q, &q->expected, &q->expected_len, "\"expected_output\""))
		return false;
	for (size_t i = 0; i < q->n_tests; i++) {
		struct gw_test_case *t = &q->tests[i];
		char what[48];
		snprintf(what, sizeof(what), "\"tests[%zu].expected_output\"", i);
		if (t->expected && !decode_one(p, q, &t->expected, &t->expected_len, what))
			return false;
		if (t->input) {
			size_t n;
			char *d = ft_base64_decode(t->input, t->input_len, &n);
			if (!d)
				return set_error(
					p, 400, "invalid_parameter",
					"\"tests[%zu].stdin\" is not base64 (\"encoding\": "
					"\"base64\")",
					i);
			free(t->input);
			t->input = d;
			t->input_len = n;
		}
	}
	if (q->spec.input) {
		size_t n;
		char *d = ft_base64_decode(q->spec.input, q->spec.input_len, &n);
		if (!d)
			return set_error(p, 400, "invalid_parameter",
					 "\"stdin\" is not base64 (\"encoding\": \"base64\")");
		free(q->spec.input);
		q->spec.input = d;
		q->spec.input_len = n;
	}
	if ((q->src && q->len == 0) || (!q->src && q->spec.n_files && q->spec.files[0].len == 0))
		return set_error(p, 400, "missing_source", "The source is empty");
	return true;
}

/* Strict JSON, one value, nothing after it but blanks. */
static struct json_object *parse_json(struct parse *p, const char *body, size_t len)
{
	struct json_tokener *tok = json_tokener_new_ex(64);
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	struct json_object *root = len ? json_tokener_parse_ex(tok, body, (int)len) : NULL;
	enum json_tokener_error jerr = json_tokener_get_error(tok);
	size_t end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	bool trailing = false;
	for (size_t i = end; i < len; i++)
		if (body[i] != ' ' && body[i] != '\n' && body[i] != '\r' && body[i] != '\t')
			trailing = true;
	if (!root || jerr != json_tokener_success || trailing) {
		json_object_put(root);
		set_error(p, 400, "invalid_json", "The body is not one valid JSON value%s%s",
			  len && jerr != json_tokener_success ? ": " : "",
			  len && jerr != json_tokener_success ? json_tokener_error_desc(jerr) : "");
		return NULL;
	}
	return root;
}

bool gw_run_request_parse(const char *body, size_t len, const struct ft_limits *lim,
			  struct gw_run_request *q, struct gw_api_error *err)
{
	struct parse p = { .lim = lim, .err = err };
	memset(q, 0, sizeof(*q));
	if (len > INT32_MAX)
		return set_error(&p, 413, "body_too_large", "The body is over 2 GiB");
	q->root = parse_json(&p, body, len);
	if (!q->root)
		return false;
	if (!parse_run_req(&p, q->root, q) || (q->base64 && !decode_base64(&p, q))) {
		gw_run_request_free(q);
		return false;
	}
	return true;
}

void gw_run_request_free(struct gw_run_request *q)
{
	ft_jobspec_free(&q->spec);
	for (size_t i = 0; i < q->n_tests; i++) {
		free(q->tests[i].input);
		for (size_t k = 0; k < q->tests[i].n_args; k++)
			free(q->tests[i].args[k]);
		free(q->tests[i].args);
	}
	free(q->tests);
	for (size_t i = 0; i < q->n_decoded; i++)
		free(q->decoded[i]);
	free(q->decoded);
	json_object_put(q->root);
	memset(q, 0, sizeof(*q));
}
