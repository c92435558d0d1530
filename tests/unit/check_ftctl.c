/* Unit tests for ftctl's pure parts: option values, help texts, reading
 * the gateway's answers, what is printed for a run and for the cluster,
 * the POST /v1/runs body, finding new lines of a followed log, and
 * submit's scheduling: Retry-After, back-off, the window, the default -P. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/args.h"
#include "client/fields.h"
#include "client/ftctl.h"
#include "client/lines.h"
#include "client/output.h"
#include "client/payload.h"
#include "client/sched.h"
#include "client/usage.h"

/* ---- capturing a stream ---- */

static char *text;
static size_t text_len;

static FILE *capture(void)
{
	FILE *f = open_memstream(&text, &text_len);
	ck_assert_ptr_nonnull(f);
	return f;
}

/* Closes f and checks what was written. */
static void assert_captured(FILE *f, const char *want)
{
	fclose(f);
	ck_assert_str_eq(text, want);
	free(text);
	text = NULL;
}

/* ---- option values ---- */

START_TEST(test_parse_long)
{
	long v = 7;
	ck_assert(ftctl_parse_long("12", 1, &v));
	ck_assert_int_eq(v, 12);
	ck_assert(ftctl_parse_long("0", 0, &v));
	ck_assert_int_eq(v, 0);
	v = 7;
	ck_assert(!ftctl_parse_long("0", 1, &v));
	ck_assert(!ftctl_parse_long("", 0, &v));
	ck_assert(!ftctl_parse_long("12x", 0, &v));
	ck_assert(!ftctl_parse_long("-3", 0, &v));
	ck_assert(!ftctl_parse_long("lots", 1, &v));
	ck_assert_int_eq(v, 7); /* untouched by a refusal */
}
END_TEST

START_TEST(test_parse_seconds)
{
	double s = 0;
	ck_assert(ftctl_parse_seconds("0.25", &s));
	ck_assert(s == 0.25);
	ck_assert(ftctl_parse_seconds("86400", &s));
	ck_assert(ftctl_parse_seconds("1e1", &s));
	ck_assert(s == 10);
	ck_assert(!ftctl_parse_seconds("0", &s));
	ck_assert(!ftctl_parse_seconds("-1", &s));
	ck_assert(!ftctl_parse_seconds("86401", &s));
	ck_assert(!ftctl_parse_seconds("", &s));
	ck_assert(!ftctl_parse_seconds("1s", &s));
	ck_assert(!ftctl_parse_seconds("nan", &s));
	ck_assert(s == 10);
}
END_TEST

START_TEST(test_usage_of)
{
	ck_assert_ptr_eq(ftctl_usage_of("submit"), ftctl_usage_submit);
	ck_assert_ptr_eq(ftctl_usage_of("status"), ftctl_usage_status);
	ck_assert_ptr_eq(ftctl_usage_of("watch"), ftctl_usage_watch);
	ck_assert_ptr_eq(ftctl_usage_of("logs"), ftctl_usage_logs);
	ck_assert_ptr_eq(ftctl_usage_of("get"), ftctl_usage_get);
	ck_assert_ptr_eq(ftctl_usage_of("wait"), ftctl_usage_wait);
	ck_assert_ptr_eq(ftctl_usage_of("cancel"), ftctl_usage_cancel);
	ck_assert_ptr_eq(ftctl_usage_of(""), ftctl_usage_main);
	ck_assert_ptr_eq(ftctl_usage_of("frobnicate"), ftctl_usage_main);
	const char *all[] = { ftctl_usage_main,	 ftctl_usage_submit, ftctl_usage_status,
			      ftctl_usage_watch, ftctl_usage_logs,   ftctl_usage_get,
			      ftctl_usage_wait,	 ftctl_usage_cancel };
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		ck_assert_int_eq(strncmp(all[i], "Usage: ftctl ", 13), 0);
		ck_assert_int_eq(all[i][strlen(all[i]) - 1], '\n');
	}
	ck_assert_ptr_nonnull(strstr(ftctl_usage_main, "(default " FTCTL_DEFAULT_GATEWAY ", or"));
}
END_TEST

/* ---- fields ---- */

START_TEST(test_fields)
{
	struct json_object *o =
		json_tokener_parse("{\"s\": \"x\", \"n\": 5, \"big\": 4294967300, \"z\": null}");
	ck_assert_str_eq(ftctl_jstr(o, "s", "d"), "x");
	ck_assert_str_eq(ftctl_jstr(o, "n", "d"), "5");
	ck_assert_str_eq(ftctl_jstr(o, "z", "d"), "d");
	ck_assert_str_eq(ftctl_jstr(o, "missing", "d"), "d");
	ck_assert_str_eq(ftctl_jstr(NULL, "s", "d"), "d");
	ck_assert(ftctl_jhas(o, "n"));
	ck_assert(!ftctl_jhas(o, "z"));
	ck_assert(!ftctl_jhas(o, "missing"));
	ck_assert(!ftctl_jhas(NULL, "n"));
	ck_assert_int_eq(ftctl_jint(o, "big", -1), 4294967300LL);
	ck_assert_int_eq(ftctl_jint(o, "z", -1), -1);
	ck_assert_int_eq(ftctl_jint(NULL, "n", -2), -2);
	json_object_put(o);
}
END_TEST

/* ---- a run's result ---- */

static int result(bool json, long code, const char *err, const char *body, const char *want)
{
	FILE *f = capture();
	struct ftctl_answer a = { .code = code, .err = err, .body = body, .tries = 1 };
	int cls = ftctl_print_result(f, json, "a/Main.java", &a);
	assert_captured(f, want);
	return cls;
}

START_TEST(test_result_text)
{
	ck_assert_int_eq(
		result(false, 200, NULL,
		       "{\"verdict\":\"ok\",\"output\":\"hi\",\"worker\":1,\"time_ms\":12,"
		       "\"attempts\":2,\"stdout\":\"out\\nmore\",\"stderr\":\"\"}",
		       "== a/Main.java: ok (worker 1, 12 ms, 2 attempts)\nhi\n-- stdout --\nout\nmore\n"),
		0);
	/* One attempt is not worth saying; output already ending in \n. */
	ck_assert_int_eq(
		result(false, 200, NULL,
		       "{\"verdict\":\"ok\",\"output\":\"hi\\n\",\"time_ms\":3,\"attempts\":1}",
		       "== a/Main.java: ok (3 ms)\nhi\n"),
		0);
	ck_assert_int_eq(result(false, 200, NULL,
				"{\"verdict\":\"ok\",\"output\":\"\",\"cached\":true,\"worker\":4}",
				"== a/Main.java: ok (cached)\n\n"),
			 0);
	/* Not ok: the error instead of the output, and stderr. */
	ck_assert_int_eq(result(false, 202, NULL,
				"{\"verdict\":\"compile_error\",\"error\":\"Main.java:1: error\","
				"\"output\":\"never shown\",\"stderr\":\"warn\\n\"}",
				"== a/Main.java: compile_error\nMain.java:1: error\n"
				"-- stderr --\nwarn\n"),
			 1);
	ck_assert_int_eq(result(false, 200, NULL, "{}", "== a/Main.java: unknown\n\n"), 1);
}
END_TEST

START_TEST(test_result_errors)
{
	ck_assert_int_eq(result(false, 503, NULL,
				"{\"error\":\"overloaded\",\"message\":\"too busy\"}",
				"== a/Main.java: error: too busy (HTTP 503)\n"),
			 2);
	ck_assert_int_eq(result(false, 500, NULL, "{\"error\":\"x\"}",
				"== a/Main.java: error: unexpected answer (HTTP 500)\n"),
			 2);
	ck_assert_int_eq(result(false, 200, NULL, "<html>",
				"== a/Main.java: error: the answer is not JSON (HTTP 200)\n"),
			 2);
	ck_assert_int_eq(result(false, 200, NULL, "[1]",
				"== a/Main.java: error: unexpected answer (HTTP 200)\n"),
			 2);
	ck_assert_int_eq(result(false, 200, NULL, NULL,
				"== a/Main.java: error: the answer is not JSON (HTTP 200)\n"),
			 2);
	ck_assert_int_eq(result(false, 0, "Could not connect to server", "{\"verdict\":\"ok\"}",
				"== a/Main.java: error: Could not connect to server\n"),
			 2);
	ck_assert_int_eq(result(true, 0, "Timeout was reached", NULL,
				"{\"file\":\"a\\/Main.java\",\"error\":\"unreachable\","
				"\"message\":\"Timeout was reached\"}\n"),
			 2);
	ck_assert_int_eq(result(true, 503, NULL,
				"{\"error\":\"overloaded\",\"message\":\"too busy\"}",
				"{\"file\":\"a\\/Main.java\",\"error\":\"overloaded\","
				"\"message\":\"too busy (HTTP 503)\"}\n"),
			 2);
	ck_assert_int_eq(result(true, 200, NULL, "nope",
				"{\"file\":\"a\\/Main.java\",\"error\":\"bad_answer\","
				"\"message\":\"the answer is not JSON (HTTP 200)\"}\n"),
			 2);
}
END_TEST

START_TEST(test_result_json)
{
	/* "file" first, then the run as the API gave it, slashes as they are. */
	ck_assert_int_eq(result(true, 200, NULL,
				"{\"verdict\":\"ok\",\"output\":\"a/b\",\"worker\":1}",
				"{\"file\":\"a/Main.java\",\"verdict\":\"ok\",\"output\":\"a/b\","
				"\"worker\":1}\n"),
			 0);
	ck_assert_int_eq(result(true, 200, NULL, "{\"verdict\":\"time_limit\"}",
				"{\"file\":\"a/Main.java\",\"verdict\":\"time_limit\"}\n"),
			 1);
}
END_TEST

START_TEST(test_file_error)
{
	FILE *f = capture();
	ftctl_print_file_error(f, false, "x/Y.java", "unreadable", "cannot read the file");
	assert_captured(f, "== x/Y.java: error: cannot read the file\n");
	f = capture();
	ftctl_print_file_error(f, true, "x/Y.java", "not_utf8", "not UTF-8 text");
	assert_captured(f, "{\"file\":\"x\\/Y.java\",\"error\":\"not_utf8\","
			   "\"message\":\"not UTF-8 text\"}\n");
}
END_TEST

START_TEST(test_print_text)
{
	FILE *f = capture();
	ftctl_print_text(f, "a");
	ftctl_print_text(f, "b\n");
	ftctl_print_text(f, "");
	ftctl_print_text(f, "c\n\n");
	assert_captured(f, "a\nb\n\nc\n\n");
}
END_TEST

/* ---- the cluster table ---- */

static const char *age_of(const char *member)
{
	static char buf[32];
	struct json_object *m = json_tokener_parse(member);
	ftctl_fmt_age(buf, sizeof(buf), m);
	json_object_put(m);
	return buf;
}

START_TEST(test_fmt_age)
{
	ck_assert_str_eq(age_of("{}"), "-");
	ck_assert_str_eq(age_of("{\"age_ms\": null}"), "-");
	ck_assert_str_eq(age_of("{\"age_ms\": 0}"), "0.0s");
	ck_assert_str_eq(age_of("{\"age_ms\": 1549}"), "1.5s");
	ck_assert_str_eq(age_of("{\"age_ms\": 59999}"), "60.0s");
	ck_assert_str_eq(age_of("{\"age_ms\": 60000}"), "1m00s");
	ck_assert_str_eq(age_of("{\"age_ms\": 65432}"), "1m05s");
	ck_assert_str_eq(age_of("{\"age_ms\": 7200000}"), "120m00s");
}
END_TEST

static const char view_text[] =
	"{\"cluster\": \"c1\", \"leader\": 1, \"epoch\": 4294967300, \"nodes\": ["
	"{\"id\": 0, \"role\": \"gateway\", \"state\": \"alive\", \"age_ms\": 120,"
	" \"heartbeat\": 5, \"incarnation\": 1700, \"address\": \"127.0.0.1:9000\"},"
	"{\"id\": 1, \"role\": \"leader\", \"age_ms\": 65432, \"heartbeat\": 50,"
	" \"incarnation\": 1701, \"address\": \"127.0.0.1:9001\"},"
	"{\"id\": 2, \"role\": \"follower\", \"state\": \"suspect\", \"heartbeat\": 7}],"
	" \"failed\": [{\"id\": 3, \"role\": \"follower\", \"heartbeat\": 2}]}";

static const char heads[] =
	"ID    ROLE      STATE        AGE  HEARTBEAT     INCARNATION RUNNING  ADDRESS\n";

START_TEST(test_status_table)
{
	struct json_object *view = json_tokener_parse(view_text);
	struct json_object *running = json_tokener_parse("{\"1\": 3, \"0\": 9}");
	FILE *f = capture();
	ftctl_print_cluster_head(f, view);
	ck_assert_int_eq(ftctl_print_members(f, view, running), EXIT_OK);
	assert_captured(
		f,
		"cluster c1: leader 1, epoch 4294967300\n"
		"ID    ROLE      STATE        AGE  HEARTBEAT     INCARNATION RUNNING  ADDRESS\n"
		"0     gateway   alive       0.1s          5            1700       -  127.0.0.1:9000\n"
		"1     leader    alive      1m05s         50            1701       3  127.0.0.1:9001\n"
		"2     follower  suspect        -          7               -       0  -\n"
		"3     follower  failed         -          2               -       0  -\n");
	/* Without GET /v1/recent: "-" for everyone. */
	f = capture();
	ck_assert_int_eq(ftctl_print_members(f, view, NULL), EXIT_OK);
	fclose(f);
	ck_assert_ptr_nonnull(strstr(text, "1701       -  127.0.0.1:9001\n"));
	free(text);
	text = NULL;
	json_object_put(running);
	json_object_put(view);
}
END_TEST

START_TEST(test_status_without_leader)
{
	struct json_object *view = json_tokener_parse(
		"{\"cluster\": \"c1\", \"zookeeper_connected\": false, \"nodes\": []}");
	FILE *f = capture();
	ftctl_print_cluster_head(f, view);
	ck_assert_int_eq(ftctl_print_members(f, view, NULL), EXIT_FAILED_RUN);
	char want[256];
	snprintf(want, sizeof(want), "%s%s",
		 "cluster c1: no leader (the gateway is not connected to ZooKeeper)\n", heads);
	assert_captured(f, want);
	json_object_put(view);
	view = json_tokener_parse("{\"zookeeper_connected\": true, \"leader\": null}");
	f = capture();
	ftctl_print_cluster_head(f, view);
	ck_assert_int_eq(ftctl_print_members(f, view, NULL), EXIT_FAILED_RUN);
	snprintf(want, sizeof(want), "%s%s", "cluster ?: no leader\n", heads);
	assert_captured(f, want);
	json_object_put(view);
}
END_TEST

/* ---- the POST /v1/runs body ---- */

START_TEST(test_payload_plain)
{
	struct ftctl_run_opts o = { 0 };
	char *p = ftctl_run_payload(&o, "dir/Main.java", "class Main {}", 13);
	ck_assert_str_eq(p, "{\"source\":\"class Main {}\",\"wait\":true}");
	free(p);
	/* The length counts, not a NUL. */
	p = ftctl_run_payload(&o, "Main.java", "ab\0cd", 5);
	ck_assert_str_eq(p, "{\"source\":\"ab\\u0000cd\",\"wait\":true}");
	free(p);
}
END_TEST

START_TEST(test_payload_everything)
{
	const char *args[] = { "x", "y z" };
	const char *with[] = { "lib/Helper.java" };
	const char *with_text[] = { "class Helper {}" };
	size_t with_len[] = { 15 };
	struct ftctl_run_opts o = {
		.args = args,
		.n_args = 2,
		.with = with,
		.with_text = with_text,
		.with_len = with_len,
		.n_with = 1,
		.stdin_text = "in\n",
		.stdin_len = 3,
		.time_limit = 500,
		.memory_limit = 128,
	};
	char *p = ftctl_run_payload(&o, "dir/Main.java", "class Main {}", 13);
	ck_assert_str_eq(p, "{\"files\":{\"Main.java\":\"class Main {}\","
			    "\"Helper.java\":\"class Helper {}\"},\"main\":\"Main.java\","
			    "\"stdin\":\"in\\n\",\"args\":[\"x\",\"y z\"],"
			    "\"limits\":{\"time_ms\":500,\"memory_mb\":128},\"wait\":true}");
	free(p);
	o = (struct ftctl_run_opts){ .memory_limit = 64 };
	p = ftctl_run_payload(&o, "M.java", "", 0);
	ck_assert_str_eq(p, "{\"source\":\"\",\"limits\":{\"memory_mb\":64},\"wait\":true}");
	free(p);
	ck_assert_str_eq(ftctl_base_name("a/b/C.java"), "C.java");
	ck_assert_str_eq(ftctl_base_name("C.java"), "C.java");
}
END_TEST

/* ---- following a log ---- */

static void lines_of(struct ftctl_lines *l, const char *text_in)
{
	ftctl_lines_free(l);
	ftctl_lines_split(text_in, l);
}

START_TEST(test_lines_split)
{
	struct ftctl_lines l = { 0 };
	lines_of(&l, "a\nbb\n\nc");
	ck_assert_uint_eq(l.n, 4);
	ck_assert_str_eq(l.v[1], "bb");
	ck_assert_str_eq(l.v[2], "");
	ck_assert_str_eq(l.v[3], "c");
	lines_of(&l, "a\n");
	ck_assert_uint_eq(l.n, 1);
	lines_of(&l, "");
	ck_assert_uint_eq(l.n, 0);
	ftctl_lines_free(&l);
}
END_TEST

START_TEST(test_lines_resume)
{
	struct ftctl_lines seen = { 0 }, now = { 0 };
	lines_of(&now, "1\n2\n3\n");
	ck_assert_uint_eq(ftctl_lines_resume_at(&now, &seen), 0); /* nothing seen yet */
	ftctl_lines_remember(&seen, &now);
	lines_of(&now, "0\n1\n2\n3\n4\n5\n"); /* more lines, around the ones seen */
	ck_assert_uint_eq(ftctl_lines_resume_at(&now, &seen), 4);
	lines_of(&now, "2\n3\n4\n5\n"); /* the whole block seen must be there */
	ck_assert_uint_eq(ftctl_lines_resume_at(&now, &seen), 0);
	lines_of(&now, "1\n2\n3\n");
	ck_assert_uint_eq(ftctl_lines_resume_at(&now, &seen), 3); /* nothing new */
	lines_of(&now, "9\n8\n");
	ck_assert_uint_eq(ftctl_lines_resume_at(&now, &seen), 0); /* lost: print it all */
	/* Repeated lines: after their last occurrence. */
	lines_of(&now, "x\nx\n");
	ftctl_lines_remember(&seen, &now);
	lines_of(&now, "x\nx\nx\nx\ny\n");
	ck_assert_uint_eq(ftctl_lines_resume_at(&now, &seen), 4);
	ftctl_lines_free(&seen);
	ftctl_lines_free(&now);
}
END_TEST

START_TEST(test_lines_remember_keeps_the_last)
{
	struct ftctl_lines seen = { 0 }, now = { 0 };
	lines_of(&now, "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n");
	ftctl_lines_remember(&seen, &now);
	ck_assert_uint_eq(seen.n, FTCTL_KEEP_LINES);
	ck_assert_str_eq(seen.v[0], "3");
	ck_assert_str_eq(seen.v[FTCTL_KEEP_LINES - 1], "10");
	lines_of(&now, "5\n6\n7\n8\n9\n10\n11\n");
	/* Only 6 of the 8 are there: not found. */
	ck_assert_uint_eq(ftctl_lines_resume_at(&now, &seen), 0);
	lines_of(&now, "3\n4\n5\n6\n7\n8\n9\n10\n11\n");
	ck_assert_uint_eq(ftctl_lines_resume_at(&now, &seen), 8);
	ftctl_lines_free(&seen);
	ftctl_lines_free(&now);
}
END_TEST

/* ---- judging, runs by id, --no-wait ---- */

START_TEST(test_result_judged)
{
	/* accepted succeeds; wrong_answer shows the answer that was judged. */
	ck_assert_int_eq(result(false, 200, NULL,
				"{\"verdict\":\"accepted\",\"output\":\"AB\",\"time_ms\":5}",
				"== a/Main.java: accepted (5 ms)\nAB\n"),
			 FTCTL_OK);
	ck_assert_int_eq(result(false, 200, NULL,
				"{\"verdict\":\"wrong_answer\",\"output\":\"AB\",\"error\":null,"
				"\"entry\":\"main\",\"stdout\":\"AB\"}",
				"== a/Main.java: wrong_answer\nAB\n"),
			 FTCTL_NOT_OK);
	ck_assert(ftctl_verdict_succeeded("ok"));
	ck_assert(ftctl_verdict_succeeded("accepted"));
	ck_assert(!ftctl_verdict_succeeded("wrong_answer"));
	ck_assert(!ftctl_verdict_succeeded("cancelled"));
}
END_TEST

START_TEST(test_result_refused_until_timeout)
{
	FILE *f = capture();
	struct ftctl_answer a = { .code = 503,
				  .body = "{\"error\":\"overloaded\",\"message\":\"too busy\"}",
				  .tries = 7 };
	ck_assert_int_eq(ftctl_print_result(f, false, "P.java", &a), FTCTL_NO_RESULT);
	assert_captured(f, "== P.java: error: refused 7 times until --timeout, last: too busy "
			   "(HTTP 503)\n");
	f = capture();
	ck_assert_int_eq(ftctl_print_result(f, true, "P.java", &a), FTCTL_NO_RESULT);
	assert_captured(f, "{\"file\":\"P.java\",\"error\":\"overloaded\",\"message\":\"refused 7 "
			   "times until --timeout, last: too busy (HTTP 503)\"}\n");
}
END_TEST

static int run_by_id(bool json, long code, const char *body, const char *want)
{
	FILE *f = capture();
	struct ftctl_answer a = { .code = code, .body = body, .tries = 1 };
	int cls = ftctl_print_run(f, json, "00ab", &a);
	assert_captured(f, want);
	return cls;
}

START_TEST(test_print_run_by_id)
{
	ck_assert_int_eq(run_by_id(false, 200, "{\"id\":\"00ab\",\"status\":\"queued\"}",
				   "== 00ab: queued\n"),
			 FTCTL_NOT_DONE);
	ck_assert_int_eq(run_by_id(false, 200,
				   "{\"id\":\"00ab\",\"status\":\"running\",\"worker\":2}",
				   "== 00ab: running (worker 2)\n"),
			 FTCTL_NOT_DONE);
	ck_assert_int_eq(run_by_id(false, 200,
				   "{\"id\":\"00ab\",\"status\":\"done\",\"verdict\":\"ok\","
				   "\"output\":\"hi\",\"worker\":1,\"time_ms\":9}",
				   "== 00ab: ok (worker 1, 9 ms)\nhi\n"),
			 FTCTL_OK);
	ck_assert_int_eq(run_by_id(false, 200,
				   "{\"id\":\"00ab\",\"status\":\"done\",\"verdict\":\"cancelled\","
				   "\"error\":\"Cancelled by its client\"}",
				   "== 00ab: cancelled\nCancelled by its client\n"),
			 FTCTL_NOT_OK);
	/* As JSON: the run as it is, without a "file". */
	ck_assert_int_eq(run_by_id(true, 200, "{\"id\":\"00ab\",\"status\":\"queued\"}",
				   "{\"id\":\"00ab\",\"status\":\"queued\"}\n"),
			 FTCTL_NOT_DONE);
	ck_assert_int_eq(run_by_id(true, 404,
				   "{\"error\":\"run_not_found\",\"message\":\"No run 00ab\"}",
				   "{\"id\":\"00ab\",\"error\":\"run_not_found\","
				   "\"message\":\"No run 00ab (HTTP 404)\"}\n"),
			 FTCTL_NO_RESULT);
	ck_assert_int_eq(run_by_id(false, 404, "{\"error\":\"run_not_found\",\"message\":\"No\"}",
				   "== 00ab: error: No (HTTP 404)\n"),
			 FTCTL_NO_RESULT);
}
END_TEST

static bool pending(long code, const char *err, const char *body)
{
	struct ftctl_answer a = { .code = code, .err = err, .body = body };
	return ftctl_answer_pending(&a);
}

START_TEST(test_answer_pending)
{
	ck_assert(pending(200, NULL, "{\"status\":\"queued\"}"));
	ck_assert(pending(200, NULL, "{\"status\":\"running\"}"));
	ck_assert(!pending(200, NULL, "{\"status\":\"done\"}"));
	ck_assert(!pending(200, NULL, "{}"));
	ck_assert(!pending(404, NULL, "{\"status\":\"queued\"}"));
	ck_assert(!pending(0, "Could not connect", NULL));
	ck_assert(!pending(200, NULL, "nope"));
	ck_assert(!pending(200, NULL, NULL));
}
END_TEST

START_TEST(test_print_accepted)
{
	struct ftctl_answer a = { .code = 202,
				  .body = "{\"id\":\"1f\",\"status\":\"queued\"}",
				  .tries = 1 };
	FILE *f = capture();
	ck_assert_int_eq(ftctl_print_accepted(f, false, "d/A.java", &a), FTCTL_OK);
	assert_captured(f, "1f d/A.java\n");
	f = capture();
	ck_assert_int_eq(ftctl_print_accepted(f, true, "d/A.java", &a), FTCTL_OK);
	assert_captured(f, "{\"file\":\"d/A.java\",\"id\":\"1f\",\"status\":\"queued\"}\n");
	a = (struct ftctl_answer){ .code = 422,
				   .body = "{\"error\":\"too_many_args\",\"message\":\"m\"}" };
	f = capture();
	ck_assert_int_eq(ftctl_print_accepted(f, false, "A.java", &a), FTCTL_NO_RESULT);
	assert_captured(f, "== A.java: error: m (HTTP 422)\n");
}
END_TEST

START_TEST(test_payload_judged_and_not_waiting)
{
	struct ftctl_run_opts o = {
		.expected_text = "AB\n", .expected_len = 3, .compare = "exact", .no_wait = true
	};
	char *p = ftctl_run_payload(&o, "M.java", "x", 1);
	ck_assert_str_eq(p, "{\"source\":\"x\",\"expected_output\":\"AB\\n\",\"compare\":\"exact\","
			    "\"wait\":false}");
	free(p);
	/* An empty expected output is still one. */
	o = (struct ftctl_run_opts){ .expected_text = "", .expected_len = 0 };
	p = ftctl_run_payload(&o, "M.java", "x", 1);
	ck_assert_str_eq(p, "{\"source\":\"x\",\"expected_output\":\"\",\"wait\":true}");
	free(p);
}
END_TEST

/* ---- Retry-After and back-off ---- */

START_TEST(test_retry_after)
{
	double s = -1;
	ck_assert(ftctl_parse_retry_after("1", 0, &s));
	ck_assert(s == 1);
	ck_assert(ftctl_parse_retry_after(" 120\r\n", 0, &s));
	ck_assert(s == 120);
	ck_assert(ftctl_parse_retry_after("0", 0, &s));
	ck_assert(s == 0);
	ck_assert(ftctl_parse_retry_after("99999999999999999999", 0, &s));
	ck_assert(s >= 1e7); /* long, without overflow */
	/* An HTTP-date: the time until then, 0 if past. */
	time_t now = 784111777 - 30; /* Sun, 06 Nov 1994 08:49:37 GMT, less 30 s */
	ck_assert(ftctl_parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", now, &s));
	ck_assert(s == 30);
	ck_assert(ftctl_parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", now + 60, &s));
	ck_assert(s == 0);
	s = 5;
	ck_assert(!ftctl_parse_retry_after("", 0, &s));
	ck_assert(!ftctl_parse_retry_after("   ", 0, &s));
	ck_assert(!ftctl_parse_retry_after(NULL, 0, &s));
	ck_assert(!ftctl_parse_retry_after("-1", 0, &s));
	ck_assert(!ftctl_parse_retry_after("1.5", 0, &s));
	ck_assert(!ftctl_parse_retry_after("soon", 0, &s));
	ck_assert(s == 5); /* untouched by a refusal */
}
END_TEST

START_TEST(test_backoff)
{
	/* Retry-After is obeyed, within its bounds. */
	ck_assert(ftctl_backoff_s(1, 1) == 1);
	ck_assert(ftctl_backoff_s(9, 1) == 1);
	ck_assert(ftctl_backoff_s(1, 0) == FTCTL_RETRY_AFTER_MIN_S);
	ck_assert(ftctl_backoff_s(1, 3600) == FTCTL_RETRY_AFTER_MAX_S);
	/* Without: doubling, up to the most. */
	ck_assert(ftctl_backoff_s(1, -1) == FTCTL_BACKOFF_FIRST_S);
	ck_assert(ftctl_backoff_s(2, -1) == 2 * FTCTL_BACKOFF_FIRST_S);
	ck_assert(ftctl_backoff_s(3, -1) == 4 * FTCTL_BACKOFF_FIRST_S);
	ck_assert(ftctl_backoff_s(0, -1) == FTCTL_BACKOFF_FIRST_S);
	ck_assert(ftctl_backoff_s(100, -1) == FTCTL_BACKOFF_MAX_S);
	ck_assert(ftctl_backoff_s(4000000000u, -1) == FTCTL_BACKOFF_MAX_S);
}
END_TEST

/* ---- the scheduler, on a fake clock ---- */

/* Sends what the scheduler allows at now; returns how many. */
static size_t send_all(struct ftctl_sched *s, double now, long *sent, size_t cap)
{
	size_t k = 0;
	long i;
	while ((i = ftctl_sched_next(s, now)) >= 0) {
		ck_assert_uint_lt(k, cap);
		sent[k++] = i;
		ck_assert_uint_le(s->in_flight, s->max);
	}
	return k;
}

START_TEST(test_sched_bounded_in_order)
{
	struct ftctl_sched s;
	ck_assert(ftctl_sched_init(&s, 5, 2, 0));
	long sent[8];
	ck_assert_uint_eq(send_all(&s, 0, sent, 8), 2);
	ck_assert_int_eq(sent[0], 0);
	ck_assert_int_eq(sent[1], 1);
	ck_assert_int_eq(ftctl_sched_wake_in(&s, 0), -1); /* full: an answer comes first */
	ftctl_sched_answered(&s, 1);
	ck_assert_uint_eq(send_all(&s, 1, sent, 8), 1);
	ck_assert_int_eq(sent[0], 2);
	ftctl_sched_answered(&s, 0);
	ftctl_sched_answered(&s, 2);
	ck_assert_uint_eq(send_all(&s, 2, sent, 8), 2);
	ck_assert_int_eq(sent[0], 3);
	ck_assert_int_eq(sent[1], 4);
	ck_assert_uint_eq(send_all(&s, 3, sent, 8), 0); /* nothing left to send */
	ftctl_sched_answered(&s, 3);
	ftctl_sched_answered(&s, 3); /* twice: no harm */
	ck_assert_uint_eq(s.left, 1);
	ftctl_sched_answered(&s, 4);
	ck_assert_uint_eq(s.left, 0);
	ck_assert_uint_eq(s.in_flight, 0);
	ftctl_sched_free(&s);
}
END_TEST

START_TEST(test_sched_refused_waits_then_goes_first)
{
	struct ftctl_sched s;
	ck_assert(ftctl_sched_init(&s, 10, 4, 0));
	long sent[16];
	ck_assert_uint_eq(send_all(&s, 0, sent, 16), 4);
	/* The gateway holds 2: jobs 2 and 3 are refused. */
	ck_assert(ftctl_sched_refused(&s, 2, 0.1, 1));
	ck_assert(ftctl_sched_refused(&s, 3, 0.1, 1));
	ck_assert(s.window == 2); /* what it held */
	ck_assert_uint_eq(ftctl_sched_waiting_retry(&s), 2);
	ck_assert_uint_eq(s.refusals, 2);
	ck_assert_int_eq(ftctl_sched_wake_in(&s, 0.1), -1); /* window full */
	/* One is answered: room for one, but the refused are not due: a new one. */
	ftctl_sched_answered(&s, 0);
	ck_assert(ftctl_sched_wake_in(&s, 0.5) > 0.59 && ftctl_sched_wake_in(&s, 0.5) < 0.61);
	ck_assert_uint_eq(send_all(&s, 0.5, sent, 16), 1);
	ck_assert_int_eq(sent[0], 4);
	/* After Retry-After, the refused go before new ones, oldest first. */
	ftctl_sched_answered(&s, 1);
	ftctl_sched_answered(&s, 4);
	ck_assert_int_eq(ftctl_sched_wake_in(&s, 1.2), 0);
	/* The three answers opened the window again, by 1/window each: to 3. */
	ck_assert_uint_eq(send_all(&s, 1.2, sent, 16), 3);
	ck_assert_int_eq(sent[0], 2);
	ck_assert_int_eq(sent[1], 3);
	ck_assert_int_eq(sent[2], 5);
	ck_assert_uint_eq(s.job[2].tries, 2);
	ck_assert_uint_eq(ftctl_sched_waiting_retry(&s), 0);
	ftctl_sched_free(&s);
}
END_TEST

START_TEST(test_sched_window_grows_back)
{
	struct ftctl_sched s;
	ck_assert(ftctl_sched_init(&s, 1000, 4, 0));
	long sent[16];
	ck_assert_uint_eq(send_all(&s, 0, sent, 16), 4);
	for (long i = 0; i < 4; i++)
		ck_assert(ftctl_sched_refused(&s, (size_t)i, 0, -1));
	ck_assert(s.window == 1); /* nothing held: one at a time */
	ck_assert_uint_eq(send_all(&s, 0.5, sent, 16), 1);
	ck_assert_int_eq(sent[0], 0);
	/* Each answer adds 1/window: back to the most, never beyond. */
	double now = 1;
	for (int k = 0; k < 40; k++, now += 1) {
		send_all(&s, now, sent, 16);
		for (size_t i = 0; i < s.n; i++)
			if (s.job[i].state == FTCTL_JOB_SENT)
				ftctl_sched_answered(&s, i);
	}
	ck_assert(s.window == 4);
	ck_assert_uint_eq(send_all(&s, now, sent, 16), 4);
	ftctl_sched_free(&s);
}
END_TEST

START_TEST(test_sched_timeout_bounds_the_retries)
{
	struct ftctl_sched s;
	ck_assert(ftctl_sched_init(&s, 1, 1, 10));
	long sent[4];
	ck_assert_uint_eq(send_all(&s, 100, sent, 4), 1);
	ck_assert(ftctl_sched_time_left(&s, 0, 100) == 10);
	ck_assert(ftctl_sched_refused(&s, 0, 101, 1));
	ck_assert_uint_eq(send_all(&s, 101.5, sent, 4), 0); /* not yet */
	ck_assert_uint_eq(send_all(&s, 102, sent, 4), 1);
	ck_assert(ftctl_sched_time_left(&s, 0, 102) == 8); /* across its tries */
	ck_assert(ftctl_sched_refused(&s, 0, 108.5, 1));
	ck_assert_uint_eq(send_all(&s, 109.5, sent, 4), 1);
	/* A wait that would end past first + timeout: given up. */
	ck_assert(!ftctl_sched_refused(&s, 0, 109.6, 1));
	ck_assert_uint_eq(s.left, 0);
	ck_assert_uint_eq(s.job[0].tries, 3);
	ck_assert(ftctl_sched_time_left(&s, 0, 200) > 0); /* never "no limit" */
	ftctl_sched_free(&s);
	/* --timeout 0: no limit, ever. */
	ck_assert(ftctl_sched_init(&s, 1, 1, 0));
	ck_assert_uint_eq(send_all(&s, 0, sent, 4), 1);
	ck_assert(ftctl_sched_refused(&s, 0, 1e6, 30));
	ck_assert(ftctl_sched_time_left(&s, 0, 1e6) == 0);
	ftctl_sched_free(&s);
}
END_TEST

/* A gateway that holds cap requests, each answered after one tick, and
 * refuses the rest with Retry-After: 1 tick: every job is answered, never
 * more than max in flight, and the refusals settle down. */
START_TEST(test_sched_against_a_small_gateway)
{
	enum { N = 200, MAX = 8, CAP = 3 };
	struct ftctl_sched s;
	ck_assert(ftctl_sched_init(&s, N, MAX, 120));
	long held[MAX];
	size_t nheld = 0, answered = 0;
	double now = 0;
	for (int tick = 0; tick < 10000 && s.left > 0; tick++, now += 0.1) {
		/* Last tick's runs are answered. */
		for (size_t k = 0; k < nheld; k++, answered++)
			ftctl_sched_answered(&s, (size_t)held[k]);
		nheld = 0;
		long i;
		while ((i = ftctl_sched_next(&s, now)) >= 0) {
			ck_assert_uint_le(s.in_flight, MAX);
			if (nheld < CAP)
				held[nheld++] = i;
			else
				ck_assert(ftctl_sched_refused(&s, (size_t)i, now, 1));
		}
	}
	ck_assert_uint_eq(s.left, 0);
	ck_assert_uint_eq(answered, N);
	ck_assert_uint_gt(s.refusals, 0);
	/* The window learnt: far fewer refusals than answers. */
	ck_assert_uint_lt(s.refusals, N / 2);
	for (size_t i = 0; i < N; i++)
		ck_assert_int_eq(s.job[i].state, FTCTL_JOB_DONE);
	ftctl_sched_free(&s);
}
END_TEST

/* ---- the default of -P ---- */

static long default_parallel(const char *view_text_in, const char *recent_text)
{
	struct json_object *view = view_text_in ? json_tokener_parse(view_text_in) : NULL;
	struct json_object *recent = recent_text ? json_tokener_parse(recent_text) : NULL;
	long n = ftctl_default_parallel(view, recent, NULL);
	json_object_put(view);
	json_object_put(recent);
	return n;
}

START_TEST(test_default_parallel)
{
	const char *three = "{\"leader\": 3, \"nodes\": [{\"id\": 0, \"role\": \"OBSERVER\"},"
			    "{\"id\": 1, \"role\": \"FOLLOWER\"}, {\"id\": 2, \"role\": "
			    "\"FOLLOWER\"}, {\"id\": 3, \"role\": \"LEADER\"}]}";
	ck_assert_int_eq(default_parallel(three, NULL), 2 * FTCTL_SLOTS_PER_WORKER);
	ck_assert_int_eq(default_parallel(three, "{\"in_flight\": 1}"),
			 2 * FTCTL_SLOTS_PER_WORKER - 1);
	/* The gateway's own limits.worker_slots, when it says it. */
	struct json_object *v = json_tokener_parse(three),
			   *lim = json_tokener_parse("{\"worker_slots\": 5}");
	ck_assert_int_eq(ftctl_default_parallel(v, NULL, lim), 10);
	json_object_put(v);
	json_object_put(lim);
	ck_assert_int_eq(default_parallel(three, "{\"in_flight\": 50}"), 1);
	ck_assert_int_eq(default_parallel(three, "{\"in_flight\": null}"),
			 2 * FTCTL_SLOTS_PER_WORKER);
	/* A leader alone works itself. */
	ck_assert_int_eq(
		default_parallel("{\"leader\": 1, \"nodes\": [{\"role\": \"LEADER\"}]}", NULL),
		FTCTL_SLOTS_PER_WORKER);
	ck_assert_int_eq(default_parallel("{\"leader\": null, \"nodes\": []}", NULL), 1);
	ck_assert_int_eq(default_parallel(NULL, NULL), FTCTL_PARALLEL_FALLBACK);
	ck_assert_int_eq(default_parallel("{\"cluster\": \"x\"}", NULL), FTCTL_PARALLEL_FALLBACK);
	/* Many workers: bounded. */
	char big[8192];
	size_t k = (size_t)snprintf(big, sizeof(big), "{\"leader\": 1, \"nodes\": [");
	for (int i = 0; i < 100; i++)
		k += (size_t)snprintf(big + k, sizeof(big) - k, "%s{\"role\": \"FOLLOWER\"}",
				      i ? "," : "");
	snprintf(big + k, sizeof(big) - k, "]}");
	ck_assert_int_eq(default_parallel(big, NULL), FTCTL_PARALLEL_DEFAULT_MAX);
}
END_TEST

static Suite *ftctl_suite(void)
{
	Suite *s = suite_create("ftctl");
	TCase *tc = tcase_create("args");
	tcase_add_test(tc, test_parse_long);
	tcase_add_test(tc, test_parse_seconds);
	tcase_add_test(tc, test_usage_of);
	tcase_add_test(tc, test_fields);
	suite_add_tcase(s, tc);
	tc = tcase_create("output");
	tcase_add_test(tc, test_result_text);
	tcase_add_test(tc, test_result_errors);
	tcase_add_test(tc, test_result_json);
	tcase_add_test(tc, test_file_error);
	tcase_add_test(tc, test_print_text);
	tcase_add_test(tc, test_fmt_age);
	tcase_add_test(tc, test_status_table);
	tcase_add_test(tc, test_status_without_leader);
	tcase_add_test(tc, test_result_judged);
	tcase_add_test(tc, test_result_refused_until_timeout);
	tcase_add_test(tc, test_print_run_by_id);
	tcase_add_test(tc, test_answer_pending);
	tcase_add_test(tc, test_print_accepted);
	suite_add_tcase(s, tc);
	tc = tcase_create("payload");
	tcase_add_test(tc, test_payload_plain);
	tcase_add_test(tc, test_payload_everything);
	tcase_add_test(tc, test_payload_judged_and_not_waiting);
	suite_add_tcase(s, tc);
	tc = tcase_create("lines");
	tcase_add_test(tc, test_lines_split);
	tcase_add_test(tc, test_lines_resume);
	tcase_add_test(tc, test_lines_remember_keeps_the_last);
	suite_add_tcase(s, tc);
	tc = tcase_create("sched");
	tcase_add_test(tc, test_retry_after);
	tcase_add_test(tc, test_backoff);
	tcase_add_test(tc, test_sched_bounded_in_order);
	tcase_add_test(tc, test_sched_refused_waits_then_goes_first);
	tcase_add_test(tc, test_sched_window_grows_back);
	tcase_add_test(tc, test_sched_timeout_bounds_the_retries);
	tcase_add_test(tc, test_sched_against_a_small_gateway);
	tcase_add_test(tc, test_default_parallel);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(ftctl_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
