/* Unit tests for the body of POST /v1/runs: what is accepted becomes the
 * run's job; everything else is refused with the status and stable code of
 * docs/openapi.yaml and a message saying why. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/run_request.h"
#include "gateway/testset.h"
#include "runner/limits.h"

static struct ft_limits lim;

static void setup(void)
{
	memset(&lim, 0, sizeof(lim));
	lim.run_wall_ms = 30000;
	lim.run_cpu_ms = 10000;
	lim.run_memory_bytes = 256 * FT_MiB;
	lim.max_output_bytes = 1 << 20;
	lim.max_files = 4;
	lim.max_args = 5;
	lim.max_batch_runs = 3;
}

static bool parse(const char *body, struct gw_run_request *q, struct gw_api_error *e)
{
	return gw_run_request_parse(body, strlen(body), &lim, q, e);
}

START_TEST(one_source_with_everything)
{
	struct gw_run_request q;
	struct gw_api_error e;
	ck_assert(parse("{\"source\": \"public class A {}\", \"stdin\": \"in\\u0000put\", "
			"\"args\": [\"x\", \"\"], \"wait\": false, \"limits\": {\"time_ms\": 500, "
			"\"cpu_ms\": 400, \"memory_mb\": 64, \"output_bytes\": 10}}",
			&q, &e));
	ck_assert_str_eq(q.src, "public class A {}");
	ck_assert_uint_eq(q.len, 17);
	ck_assert(!q.wait);
	ck_assert_uint_eq(q.spec.n_files, 0);
	ck_assert_uint_eq(q.spec.input_len, 6);
	ck_assert(memcmp(q.spec.input, "in\0put", 6) == 0);
	ck_assert_uint_eq(q.spec.n_args, 2);
	ck_assert_str_eq(q.spec.args[1], "");
	ck_assert_int_eq(q.spec.time_ms, 500);
	ck_assert_int_eq(q.spec.cpu_ms, 400);
	ck_assert_int_eq(q.spec.memory_mb, 64);
	ck_assert_int_eq(q.spec.output_bytes, 10);
	ck_assert(q.spec.capture);
	/* Main programs too, unless told. */
	ck_assert_int_eq(q.spec.entry, FT_ENTRY_AUTO);
	gw_run_request_free(&q);
	ck_assert_ptr_null(q.root);
	ck_assert(parse("{\"source\": \"x\", \"entry\": \"main\"}", &q, &e));
	ck_assert_int_eq(q.spec.entry, FT_ENTRY_MAIN);
	gw_run_request_free(&q);
	ck_assert(parse("{\"source\": \"x\", \"entry\": \"run\"}", &q, &e));
	ck_assert_int_eq(q.spec.entry, FT_ENTRY_RUN);
	gw_run_request_free(&q);
}
END_TEST

/* "encoding": "base64": the sources and stdin are decoded, whatever the
 * order of the fields. */
START_TEST(base64_sources_and_stdin)
{
	struct gw_run_request q;
	struct gw_api_error e;
	ck_assert(parse("{\"stdin\": \"AP8=\", \"source\": \"Y2xhc3MgQSB7fQ==\", "
			"\"encoding\": \"base64\"}",
			&q, &e));
	ck_assert(q.base64);
	ck_assert_uint_eq(q.len, 10);
	ck_assert(memcmp(q.src, "class A {}", 10) == 0);
	ck_assert_uint_eq(q.spec.input_len, 2);
	ck_assert(memcmp(q.spec.input, "\0\xff", 2) == 0);
	gw_run_request_free(&q);
	ck_assert(parse("{\"files\": {\"B.java\": \"Yg==\", \"A.java\": \"YQ==\"}, \"main\": "
			"\"A.java\", \"encoding\": \"base64\"}",
			&q, &e));
	ck_assert_str_eq(q.spec.files[0].name, "A.java");
	ck_assert_uint_eq(q.spec.files[0].len, 1);
	ck_assert_int_eq(q.spec.files[0].src[0], 'a');
	ck_assert_int_eq(q.spec.files[1].src[0], 'b');
	gw_run_request_free(&q);
	ck_assert(parse("{\"source\": \"YQ==\", \"encoding\": \"utf8\"}", &q, &e));
	ck_assert(!q.base64);
	ck_assert_str_eq(q.src, "YQ==");
	gw_run_request_free(&q);
	ck_assert(!parse("{\"source\": \"YQ=!\", \"encoding\": \"base64\"}", &q, &e));
	ck_assert_str_eq(e.code, "invalid_parameter");
	ck_assert(!parse("{\"source\": \"YQ==\", \"stdin\": \"!\", \"encoding\": \"base64\"}", &q,
			 &e));
	ck_assert_ptr_nonnull(strstr(e.message, "\"stdin\""));
}
END_TEST

START_TEST(files_with_main_first)
{
	struct gw_run_request q;
	struct gw_api_error e;
	ck_assert(parse(
		"{\"files\": {\"Util.java\": \"class Util {}\", \"Main.java\": \"class M {}\", "
		"\"Other.java\": \"\"}, \"main\": \"Main.java\"}",
		&q, &e));
	ck_assert_ptr_null(q.src);
	ck_assert(q.wait);
	ck_assert_uint_eq(q.spec.n_files, 3);
	ck_assert_str_eq(q.spec.files[0].name, "Main.java");
	ck_assert_str_eq(q.spec.files[1].name, "Util.java");
	ck_assert_str_eq(q.spec.files[2].name, "Other.java");
	ck_assert_uint_eq(q.spec.files[2].len, 0);
	ck_assert(memcmp(q.spec.files[0].src, "class M {}", 10) == 0);
	gw_run_request_free(&q);
	/* Without "main" the order given is kept. */
	ck_assert(parse("{\"files\": {\"B.java\": \"b\", \"A.java\": \"a\"}}", &q, &e));
	ck_assert_str_eq(q.spec.files[0].name, "B.java");
	gw_run_request_free(&q);
}
END_TEST

static const struct {
	const char *body;
	unsigned status;
	const char *code, *says;
} bad[] = {
	{ "", 400, "invalid_json", "not one valid JSON value" },
	{ "not json", 400, "invalid_json", "not one valid JSON value: " },
	{ "{\"source\": \"x\"} trailing", 400, "invalid_json", "not one valid" },
	{ "{\"source\": \"\xff\"}", 400, "invalid_json", "" },
	/* A repeated key: the last one counts. */
	{ "{\"source\": \"x\", \"source\": 1e999999}", 400, "invalid_request", "string" },
	{ "[1, 2]", 400, "invalid_request", "must be a JSON object" },
	{ "{\"source\": 5}", 400, "invalid_request", "\"source\" must be a string" },
	{ "{\"source\": \"a\", \"wait\": \"yes\"}", 400, "invalid_request", "true or false" },
	{ "{\"source\": \"a\", \"stdin\": 1}", 400, "invalid_request", "\"stdin\"" },
	{ "{\"source\": \"a\", \"args\": \"x\"}", 400, "invalid_request", "array of strings" },
	{ "{\"source\": \"a\", \"args\": [\"a\\u0000b\"]}", 400, "invalid_request", "NUL" },
	{ "{\"source\": \"a\", \"args\": [\"1\", \"2\", \"3\", \"4\", \"5\", \"6\"]}", 422,
	  "too_many_args", "at most 5 (limits.max_args)" },
	{ "{\"source\": \"a\", \"limits\": []}", 400, "invalid_request", "must be an object" },
	{ "{\"source\": \"a\", \"limits\": {\"time_ms\": \"1\"}}", 400, "invalid_request",
	  "must be an integer" },
	{ "{\"source\": \"a\", \"limits\": {\"disk\": 1}}", 400, "unknown_field", "limits.disk" },
	{ "{\"source\": \"a\", \"limits\": {\"time_ms\": 0}}", 422, "limit_out_of_range",
	  "between 1 and 30000" },
	{ "{\"source\": \"a\", \"limits\": {\"time_ms\": 30001}}", 422, "limit_out_of_range", "" },
	{ "{\"source\": \"a\", \"limits\": {\"cpu_ms\": 10001}}", 422, "limit_out_of_range",
	  "between 1 and 10000" },
	{ "{\"source\": \"a\", \"limits\": {\"memory_mb\": 63}}", 422, "limit_out_of_range",
	  "between 64 and 256" },
	{ "{\"source\": \"a\", \"limits\": {\"output_bytes\": 1048577}}", 422, "limit_out_of_range",
	  "between 1 and 1048576" },
	{ "{\"source\": \"a\", \"colour\": \"red\"}", 400, "unknown_field", "\"colour\"" },
	{ "{\"source\": \"a\", \"entry\": \"start\"}", 400, "invalid_parameter",
	  "\"entry\" must be" },
	{ "{\"source\": \"a\", \"entry\": 1}", 400, "invalid_parameter", "\"auto\", \"run\"" },
	{ "{\"source\": \"a\", \"files\": {\"A.java\": \"b\"}}", 400, "invalid_request",
	  "either \"source\" or \"files\"" },
	{ "{\"source\": \"a\", \"main\": \"A.java\"}", 400, "invalid_request", "goes with" },
	{ "{\"files\": {\"A.java\": \"a\"}, \"main\": \"B.java\"}", 400, "invalid_request",
	  "not in \"files\"" },
	{ "{\"files\": {\"A.java\": \"a\"}, \"main\": 1}", 400, "invalid_request", "\"main\"" },
	{ "{\"files\": []}", 400, "invalid_request", "file name -> source" },
	{ "{\"files\": {}}", 400, "missing_source", "empty" },
	{ "{\"files\": {\"A.java\": 1}}", 400, "invalid_request", "files.A.java" },
	{ "{\"files\": {\"dir/A.java\": \"b\"}}", 400, "invalid_file_name", "dir/A.java" },
	{ "{\"files\": {\"../A.java\": \"b\"}}", 400, "invalid_file_name", "" },
	{ "{\"files\": {\"A.txt\": \"b\"}}", 400, "invalid_file_name", "" },
	{ "{\"files\": {\"A.java\": \"a\", \"B.java\": \"b\", \"C.java\": \"c\", \"D.java\": \"d\", "
	  "\"E.java\": \"e\"}}",
	  422, "too_many_files", "at most 4 (limits.max_files)" },
	{ "{\"source\": \"a\", \"tests\": []}", 400, "invalid_request", "non-empty array" },
	{ "{\"source\": \"a\", \"tests\": {}}", 400, "invalid_request", "non-empty array" },
	{ "{\"source\": \"a\", \"tests\": [1]}", 400, "invalid_request", "tests[0] must be" },
	{ "{\"source\": \"a\", \"tests\": [{}, {\"stdin\": 2}]}", 400, "invalid_request",
	  "\"tests[1].stdin\" must be a string" },
	{ "{\"source\": \"a\", \"tests\": [{\"in\": \"x\"}]}", 400, "unknown_field",
	  "\"tests[0].in\"" },
	{ "{\"source\": \"a\", \"tests\": [{}, {}, {}, {}]}", 422, "too_many_runs",
	  "at most 3 (limits.max_batch_runs)" },
	{ "{\"source\": \"a\", \"tests\": [{}], \"expected_output\": \"x\"}", 400,
	  "invalid_request", "go in each test" },
	{ "{\"source\": \"YQ==\", \"encoding\": \"base64\", \"tests\": [{\"stdin\": \"!\"}]}", 400,
	  "invalid_parameter", "\"tests[0].stdin\" is not base64" },
	{ "{}", 400, "missing_source", "Send the Java source" },
	{ "{\"source\": \"\"}", 400, "missing_source", "empty" },
};

/* Each test a job of its own, the same program in each. */
START_TEST(tests_become_one_job_each)
{
	struct gw_run_request q;
	struct gw_api_error e;
	ck_assert(parse("{\"source\": \"cHVibGljIGNsYXNzIEEge30=\", \"encoding\": \"base64\", "
			"\"tests\": [{\"stdin\": \"MQ==\", \"expected_output\": \"Mg==\"}, "
			"{\"args\": [\"x\"]}]}",
			&q, &e));
	ck_assert_uint_eq(q.n_tests, 2);
	ck_assert_str_eq(q.tests[0].input, "1");
	ck_assert_uint_eq(q.tests[0].expected_len, 1);
	ck_assert(memcmp(q.tests[0].expected, "2", 1) == 0);
	ck_assert_ptr_null(q.tests[1].input);
	ck_assert_ptr_null(q.tests[1].expected);
	ck_assert_uint_eq(q.tests[1].n_args, 1);
	struct gw_testset *ts = gw_testset_new(&q);
	ck_assert_uint_eq(ts->blob.len, 17);
	ck_assert(memcmp(ts->blob.data, "public class A {}", 17) == 0);
	char *j0 = gw_testset_job_text(ts, 0, 0), *j1 = gw_testset_job_text(ts, 1, 3);
	ck_assert_ptr_nonnull(strstr(j0, "\"stdin\":\"1\""));
	ck_assert_ptr_null(strstr(j0, "prefer_worker"));
	ck_assert_ptr_nonnull(strstr(j1, "\"args\":[\"x\"]"));
	ck_assert_ptr_nonnull(strstr(j1, "\"prefer_worker\":3"));
	ck_assert_ptr_null(strstr(j1, "stdin"));
	free(j0);
	free(j1);
	/* The deciding test is the first not passed. */
	ts->results[0] = json_tokener_parse("{\"verdict\": \"accepted\", \"output\": \"2\"}");
	ts->results[1] = json_tokener_parse("{\"verdict\": \"runtime_error\", \"output\": null}");
	struct json_object *r = gw_testset_result(ts);
	ck_assert_str_eq(
		json_object_to_json_string_ext(r, JSON_C_TO_STRING_PLAIN),
		"{\"verdict\":\"runtime_error\",\"output\":null,\"tests\":[{\"index\":0,"
		"\"verdict\":\"accepted\",\"output\":\"2\"},{\"index\":1,\"verdict\":"
		"\"runtime_error\",\"output\":null}],\"tests_passed\":1,\"failed_test\":1}");
	json_object_put(r);
	json_object_put(ts->results[1]);
	ts->results[1] = json_tokener_parse("{\"verdict\": \"ok\"}");
	r = gw_testset_result(ts);
	ck_assert_str_eq(json_object_to_json_string_ext(r, JSON_C_TO_STRING_PLAIN),
			 "{\"verdict\":\"accepted\",\"output\":\"2\",\"tests\":[{\"index\":0,"
			 "\"verdict\":\"accepted\",\"output\":\"2\"},{\"index\":1,\"verdict\":"
			 "\"ok\"}],\"tests_passed\":2,\"failed_test\":null}");
	json_object_put(r);
	gw_testset_free(ts);
	gw_run_request_free(&q);
	/* The others run only if the first ran. */
	ck_assert(gw_testset_runs_rest("ok"));
	ck_assert(gw_testset_runs_rest("time_limit"));
	ck_assert(gw_testset_runs_rest("nonzero_exit"));
	ck_assert(!gw_testset_runs_rest("compile_error"));
	ck_assert(!gw_testset_runs_rest("cancelled"));
	ck_assert(!gw_testset_runs_rest("unavailable"));
}
END_TEST

START_TEST(refused)
{
	struct gw_run_request q;
	struct gw_api_error e;
	memset(&e, 0, sizeof(e));
	ck_assert_msg(!parse(bad[_i].body, &q, &e), "accepted: %s", bad[_i].body);
	ck_assert_uint_eq(e.status, bad[_i].status);
	ck_assert_str_eq(e.code, bad[_i].code);
	ck_assert_msg(strstr(e.message, bad[_i].says), "%s: message \"%s\" lacks \"%s\"",
		      bad[_i].body, e.message, bad[_i].says);
	ck_assert_ptr_null(q.root);
	ck_assert_uint_eq(q.spec.n_files, 0);
	ck_assert_ptr_null(q.spec.input);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("run_request");
	TCase *tc = tcase_create("run_request");
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, one_source_with_everything);
	tcase_add_test(tc, tests_become_one_job_each);
	tcase_add_test(tc, files_with_main_first);
	tcase_add_test(tc, base64_sources_and_stdin);
	tcase_add_loop_test(tc, refused, 0, (int)(sizeof(bad) / sizeof(bad[0])));
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
