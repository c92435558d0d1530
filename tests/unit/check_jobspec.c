/* Unit tests for the "job" object of a run (several files, stdin, args,
 * limits), including frames a hostile peer could send. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "job/jobspec.h"
#include "lib/util.h"

static const struct ft_jobspec_max MAX = { .files = 4, .args = 3 };

static struct json_object *parse(const char *text)
{
	struct json_object *o = json_tokener_parse(text);
	ck_assert_ptr_nonnull(o);
	return o;
}

START_TEST(file_names)
{
	ck_assert(ft_jobspec_file_name_ok("Main.java"));
	ck_assert(ft_jobspec_file_name_ok("_a$1.java"));
	ck_assert(ft_jobspec_file_name_ok("Caf\xc3\xa9.java"));
	ck_assert(!ft_jobspec_file_name_ok(".java"));
	ck_assert(!ft_jobspec_file_name_ok("1Main.java"));
	ck_assert(!ft_jobspec_file_name_ok("../Main.java"));
	ck_assert(!ft_jobspec_file_name_ok("a/Main.java"));
	ck_assert(!ft_jobspec_file_name_ok("Main.jav"));
	ck_assert(!ft_jobspec_file_name_ok("Main.java.txt"));
	ck_assert(!ft_jobspec_file_name_ok("Ma in.java"));
	char longname[FT_JOB_FILE_NAME_MAX + 8];
	memset(longname, 'a', sizeof(longname));
	strcpy(longname + FT_JOB_FILE_NAME_MAX - 5, ".java");
	ck_assert(ft_jobspec_file_name_ok(longname));
	memset(longname, 'a', sizeof(longname));
	strcpy(longname + FT_JOB_FILE_NAME_MAX - 4, ".java");
	ck_assert(!ft_jobspec_file_name_ok(longname));
}
END_TEST

START_TEST(round_trip)
{
	struct ft_job_file files[2] = {
		{ .name = "Main.java", .src = "class Main {}", .len = 13 },
		{ .name = "Util.java", .src = "class Util {}", .len = 13 },
	};
	char *args[] = { "one", "two words" };
	struct ft_jobspec in = {
		.files = files,
		.n_files = 2,
		.input = "line 1\nline 2\n",
		.input_len = 14,
		.args = args,
		.n_args = 2,
		.time_ms = 1500,
		.memory_mb = 128,
		.capture = true,
		.entry = FT_ENTRY_MAIN,
		.prefer_worker = 3,
	};
	struct ft_buf blob = { 0 };
	struct json_object *job = ft_jobspec_encode(&in, &blob);
	ck_assert_uint_eq(blob.len, 26);
	/* Through text, as on the wire. */
	struct json_object *wire = parse(json_object_to_json_string(job));
	json_object_put(job);
	struct ft_jobspec out;
	char err[128];
	ck_assert_int_eq(ft_jobspec_decode(wire, blob.data, blob.len, &MAX, &out, err, sizeof(err)),
			 0);
	ck_assert_uint_eq(out.n_files, 2);
	ck_assert_str_eq(out.files[1].name, "Util.java");
	ck_assert_uint_eq(out.files[1].len, 13);
	ck_assert(memcmp(out.files[1].src, "class Util {}", 13) == 0);
	ck_assert_ptr_eq(out.files[0].src, blob.data);
	ck_assert_uint_eq(out.input_len, 14);
	ck_assert_str_eq(out.input, "line 1\nline 2\n");
	ck_assert_uint_eq(out.n_args, 2);
	ck_assert_str_eq(out.args[1], "two words");
	ck_assert_int_eq(out.time_ms, 1500);
	ck_assert_int_eq(out.memory_mb, 128);
	ck_assert_int_eq(out.cpu_ms, 0);
	ck_assert_int_eq(out.output_bytes, 0);
	ck_assert(out.capture);
	ck_assert_int_eq(out.entry, FT_ENTRY_MAIN);
	ck_assert_int_eq(out.prefer_worker, 3);
	ft_jobspec_free(&out);
	ck_assert_uint_eq(out.n_files, 0);
	json_object_put(wire);
	ft_buf_free(&blob);
}
END_TEST

START_TEST(entry_names)
{
	ck_assert_str_eq(ft_entry_name(FT_ENTRY_AUTO), "auto");
	for (int e = FT_ENTRY_RUN; e <= FT_ENTRY_MAIN; e++)
		ck_assert_int_eq(ft_entry_from_name(ft_entry_name((enum ft_entry)e)), e);
	ck_assert_int_eq(ft_entry_from_name("Main"), -1);
	ck_assert_int_eq(ft_entry_from_name(NULL), -1);
	ck_assert_str_eq(ft_entry_name((enum ft_entry)7), "run");
}
END_TEST

START_TEST(plain_request_is_all_defaults)
{
	struct ft_jobspec out;
	char err[128];
	ck_assert_int_eq(ft_jobspec_decode(NULL, "x", 1, &MAX, &out, err, sizeof(err)), 0);
	ck_assert_uint_eq(out.n_files, 0);
	ck_assert_ptr_null(out.input);
	ck_assert(!out.capture);
	/* No "entry": run(), the contract's, as before the field existed. */
	ck_assert_int_eq(out.entry, FT_ENTRY_RUN);
	/* An empty spec encodes to an empty object and no blob. */
	struct ft_buf blob = { 0 };
	struct json_object *job = ft_jobspec_encode(&out, &blob);
	ck_assert_str_eq(json_object_to_json_string_ext(job, JSON_C_TO_STRING_PLAIN), "{}");
	ck_assert_uint_eq(blob.len, 0);
	json_object_put(job);
	ft_jobspec_free(&out);
}
END_TEST

/* Each of these must be refused, with a reason, and leave nothing allocated. */
static const struct {
	const char *job;
	size_t blob_len;
	const char *why;
} bad[] = {
	{ "[]", 0, "not an object" },
	{ "{\"files\": {}}", 0, "not an array" },
	{ "{\"files\": []}", 0, "between 1 and 4" },
	{ "{\"files\": [{\"name\": \"A.java\", \"bytes\": 1}, {\"name\": \"B.java\", \"bytes\": 1},"
	  " {\"name\": \"C.java\", \"bytes\": 1}, {\"name\": \"D.java\", \"bytes\": 1},"
	  " {\"name\": \"E.java\", \"bytes\": 1}]}",
	  5, "between 1 and 4" },
	{ "{\"files\": [{\"name\": \"../A.java\", \"bytes\": 4}]}", 4, "not Name.java" },
	{ "{\"files\": [{\"name\": \"A.java\", \"bytes\": 2}, {\"name\": \"A.java\", \"bytes\": 2}]}",
	  4, "twice" },
	{ "{\"files\": [{\"name\": \"A.java\", \"bytes\": 5}]}", 4, "do not fit" },
	{ "{\"files\": [{\"name\": \"A.java\", \"bytes\": -1}]}", 4, "do not fit" },
	{ "{\"files\": [{\"name\": \"A.java\", \"bytes\": 3}]}", 4, "the frame 4" },
	{ "{\"files\": [{\"name\": \"A.java\"}]}", 4, "not {" },
	{ "{\"files\": [\"A.java\"]}", 4, "not {" },
	{ "{\"stdin\": 5}", 4, "not a string" },
	{ "{\"args\": \"a\"}", 4, "not an array" },
	{ "{\"args\": [\"a\", 1]}", 4, "argument 1" },
	{ "{\"args\": [\"a\\u0000b\"]}", 4, "NUL" },
	{ "{\"args\": [\"a\", \"b\", \"c\", \"d\"]}", 4, "at most 3" },
	{ "{\"limits\": []}", 4, "not an object" },
	{ "{\"limits\": {\"time_ms\": -5}}", 4, "non-negative" },
	{ "{\"limits\": {\"time_ms\": \"5\"}}", 4, "non-negative" },
	{ "{\"limits\": {\"time_ms\": 1.5}}", 4, "non-negative" },
	{ "{\"limits\": {\"disk_mb\": 5}}", 4, "unknown limit" },
	{ "{\"capture\": 1}", 4, "not a boolean" },
	{ "{\"entry\": \"start\"}", 4, "not run, auto or main" },
	{ "{\"entry\": 2}", 4, "not run, auto or main" },
	{ "{\"prefer_worker\": 0}", 4, "not a node ID" },
	{ "{\"prefer_worker\": \"2\"}", 4, "not a node ID" },
	{ "{\"prefer_worker\": 65536}", 4, "not a node ID" },
	{ "{\"stdin\": \"x\", \"run_as\": \"root\"}", 4, "unknown job field" },
};

START_TEST(refused)
{
	struct json_object *job = parse(bad[_i].job);
	struct ft_jobspec out;
	char err[128] = "";
	ck_assert_int_eq(
		ft_jobspec_decode(job, "abcde", bad[_i].blob_len, &MAX, &out, err, sizeof(err)),
		-1);
	ck_assert_msg(strstr(err, bad[_i].why), "case %d: \"%s\" lacks \"%s\"", _i, err,
		      bad[_i].why);
	ck_assert_uint_eq(out.n_files, 0);
	ck_assert_ptr_null(out.input);
	ck_assert_ptr_null(out.args);
	json_object_put(job);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("jobspec");
	TCase *tc = tcase_create("jobspec");
	tcase_add_test(tc, file_names);
	tcase_add_test(tc, round_trip);
	tcase_add_test(tc, entry_names);
	tcase_add_test(tc, plain_request_is_all_defaults);
	tcase_add_loop_test(tc, refused, 0, (int)(sizeof(bad) / sizeof(bad[0])));
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
