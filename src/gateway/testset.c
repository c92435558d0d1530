/* The tests of one run (see testset.h). */
#include "gateway/testset.h"

#include <stdlib.h>
#include <string.h>

#include "job/jobspec.h"

struct gw_testset *gw_testset_new(const struct gw_run_request *q)
{
	struct gw_testset *ts = ft_xcalloc(1, sizeof(*ts));
	size_t n = q->n_tests;
	ts->n = n;
	ts->jobs = ft_xcalloc(n, sizeof(*ts->jobs));
	ts->expected = ft_xcalloc(n, sizeof(*ts->expected));
	ts->expected_len = ft_xcalloc(n, sizeof(*ts->expected_len));
	ts->results = ft_xcalloc(n, sizeof(*ts->results));
	ts->req_ids = ft_xcalloc(n, sizeof(*ts->req_ids));
	struct ft_jobspec spec = q->spec;
	for (size_t i = 0; i < n; i++) {
		const struct gw_test_case *t = &q->tests[i];
		spec.input = t->input;
		spec.input_len = t->input_len;
		spec.args = t->args;
		spec.n_args = t->n_args;
		/* The files go into the blob once; every job describes the same. */
		struct ft_buf scratch = { 0 };
		ts->jobs[i] = ft_jobspec_encode(&spec, i == 0 ? &ts->blob : &scratch);
		ft_buf_free(&scratch);
		if (t->expected) {
			ts->expected[i] = ft_xmemdup(t->expected, t->expected_len + 1);
			ts->expected_len[i] = t->expected_len;
		}
	}
	if (q->src)
		ft_buf_append(&ts->blob, q->src, q->len);
	ts->main_len = q->src ? q->len : q->spec.files[0].len;
	return ts;
}

void gw_testset_free(struct gw_testset *ts)
{
	if (!ts)
		return;
	for (size_t i = 0; i < ts->n; i++) {
		json_object_put(ts->jobs[i]);
		free(ts->expected[i]);
		json_object_put(ts->results[i]);
	}
	free(ts->jobs);
	free(ts->expected);
	free(ts->expected_len);
	free(ts->results);
	free(ts->req_ids);
	ft_buf_free(&ts->blob);
	free(ts);
}

char *gw_testset_job_text(const struct gw_testset *ts, size_t i, int prefer)
{
	struct json_object *job = ts->jobs[i];
	if (prefer > 0)
		json_object_object_add(job, "prefer_worker", json_object_new_int(prefer));
	char *text = ft_xstrdup(json_object_to_json_string_ext(
		job, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_object_del(job, "prefer_worker");
	return text;
}

bool gw_testset_runs_rest(const char *first_verdict)
{
	static const char *const ran[] = { "ok",	   "runtime_error", "time_limit",
					   "memory_limit", "output_limit",  "nonzero_exit" };
	for (size_t i = 0; i < FT_ARRAY_SIZE(ran); i++)
		if (strcmp(first_verdict, ran[i]) == 0)
			return true;
	return false;
}

uint64_t gw_testset_hash(const struct gw_run_request *q, uint64_t h)
{
	for (size_t i = 0; i < q->n_tests; i++) {
		const struct gw_test_case *t = &q->tests[i];
		h = ft_fnv1a64(h, &i, sizeof(i));
		if (t->input)
			h = ft_fnv1a64(h ^ 1, t->input, t->input_len);
		for (size_t k = 0; k < t->n_args; k++)
			h = ft_fnv1a64(h ^ 2, t->args[k], strlen(t->args[k]) + 1);
		if (t->expected)
			h = ft_fnv1a64(h ^ 3, t->expected, t->expected_len);
	}
	return h;
}

static bool passed(struct json_object *result)
{
	struct json_object *v;
	const char *verdict =
		json_object_object_get_ex(result, "verdict", &v) ? json_object_get_string(v) : "";
	return strcmp(verdict, "accepted") == 0 || strcmp(verdict, "ok") == 0;
}

struct json_object *gw_testset_result(const struct gw_testset *ts)
{
	size_t deciding = 0, n_passed = 0;
	bool failed = false;
	struct json_object *tests = json_object_new_array();
	for (size_t i = 0; i < ts->n; i++) {
		struct json_object *t = json_object_new_object();
		json_object_object_add(t, "index", json_object_new_int64((int64_t)i));
		json_object_object_foreach(ts->results[i], key, val)
		{
			json_object_object_add(t, key, json_object_get(val));
		}
		json_object_array_add(tests, t);
		if (passed(ts->results[i])) {
			n_passed++;
		} else if (!failed) {
			failed = true;
			deciding = i;
		}
	}
	struct json_object *o = json_object_new_object();
	json_object_object_foreach(ts->results[deciding], key, val)
	{
		json_object_object_add(o, key, json_object_get(val));
	}
	json_object_object_add(o, "tests", tests);
	json_object_object_add(o, "tests_passed", json_object_new_int64((int64_t)n_passed));
	json_object_object_add(o, "failed_test",
			       failed ? json_object_new_int64((int64_t)deciding) : NULL);
	return o;
}
