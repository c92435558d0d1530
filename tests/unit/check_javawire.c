/* The shared vocabulary: verdict names and what they mean to the plain
 * API, and the bytes the runner and the Java side exchange, which
 * java/ft/Wire.java must define exactly as src/runner/javawire.h does. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "job/verdict.h"
#include "runner/javawire.h"

START_TEST(verdict_names_round_trip)
{
	for (int v = 0; v < FT_VERDICT_N; v++) {
		const char *name = ft_verdict_name((enum ft_verdict)v);
		ck_assert_int_eq(ft_verdict_from_name(name), v);
	}
	ck_assert_str_eq(ft_verdict_name(FT_VERDICT_COMPILE_ERROR), "compile_error");
	ck_assert_str_eq(ft_verdict_name(FT_VERDICT_UNAVAILABLE), "unavailable");
	ck_assert_str_eq(ft_verdict_name((enum ft_verdict)99), "unknown");
	ck_assert_int_eq(ft_verdict_from_name("OK"), FT_VERDICT_UNKNOWN);
	ck_assert_int_eq(ft_verdict_from_name(NULL), FT_VERDICT_UNKNOWN);
}
END_TEST

START_TEST(verdict_statuses_and_caching)
{
	ck_assert_uint_eq(ft_verdict_http_status(FT_VERDICT_OK), 200);
	ck_assert_uint_eq(ft_verdict_http_status(FT_VERDICT_COMPILE_ERROR), 400);
	ck_assert_uint_eq(ft_verdict_http_status(FT_VERDICT_MEMORY_LIMIT), 400);
	ck_assert_uint_eq(ft_verdict_http_status(FT_VERDICT_INTERNAL_ERROR), 500);
	ck_assert_uint_eq(ft_verdict_http_status(FT_VERDICT_UNAVAILABLE), 503);
	ck_assert_uint_eq(ft_verdict_http_status(FT_VERDICT_TIMEOUT), 503);
	ck_assert(ft_verdict_cacheable(FT_VERDICT_OK));
	ck_assert(ft_verdict_cacheable(FT_VERDICT_COMPILE_ERROR));
	ck_assert(!ft_verdict_cacheable(FT_VERDICT_TIME_LIMIT));
	ck_assert(!ft_verdict_cacheable(FT_VERDICT_UNAVAILABLE));
}
END_TEST

START_TEST(verdicts_of_contract_answers)
{
#define OF(status, body) ft_verdict_of_answer(status, body, strlen(body))
	ck_assert_int_eq(OF(200, "anything"), FT_VERDICT_OK);
	ck_assert_int_eq(OF(400, "Code did not compile:\nError on line 1"),
			 FT_VERDICT_COMPILE_ERROR);
	ck_assert_int_eq(OF(400, FT_NO_CLASS_NAME), FT_VERDICT_COMPILE_ERROR);
	ck_assert_int_eq(OF(400, "Exception thrown by run():\nx"), FT_VERDICT_RUNTIME_ERROR);
	ck_assert_int_eq(OF(400, "Program exited with status 3 before run() returned"),
			 FT_VERDICT_RUNTIME_ERROR);
	ck_assert_int_eq(OF(400, "Time limit exceeded:\n"), FT_VERDICT_TIME_LIMIT);
	ck_assert_int_eq(OF(400, "Memory limit exceeded:\n"), FT_VERDICT_MEMORY_LIMIT);
	ck_assert_int_eq(OF(400, "Output limit exceeded:\n"), FT_VERDICT_OUTPUT_LIMIT);
	ck_assert_int_eq(OF(400, "something else"), FT_VERDICT_UNKNOWN);
	ck_assert_int_eq(OF(500, "Internal error: x"), FT_VERDICT_INTERNAL_ERROR);
	ck_assert_int_eq(OF(503, ""), FT_VERDICT_TIMEOUT);
	ck_assert_int_eq(ft_verdict_of_answer(400, NULL, 5), FT_VERDICT_UNKNOWN);
#undef OF
}
END_TEST

/* "static final char NAME = 'X';", "... int NAME = N;" or "... String
 * NAME = "..." | Wire.OTHER;" in Wire.java, as text. */
static char java[8192];

static void load_java(void)
{
	const char *dir = getenv("srcdir");
	char path[1024];
	snprintf(path, sizeof(path), "%s/java/ft/Wire.java", dir ? dir : ".");
	FILE *f = fopen(path, "r");
	ck_assert_msg(f != NULL, "cannot open %s", path);
	size_t n = fread(java, 1, sizeof(java) - 1, f);
	java[n] = '\0';
	fclose(f);
}

static const char *java_value(const char *name)
{
	static char val[256];
	char pat[128];
	snprintf(pat, sizeof(pat), " %s = ", name);
	const char *p = strstr(java, pat);
	if (!p)
		return NULL;
	p += strlen(pat);
	size_t n = strcspn(p, ";");
	snprintf(val, sizeof(val), "%.*s", (int)n, p);
	return val;
}

static int count_java_constants(void)
{
	int n = 0;
	for (const char *p = java; (p = strstr(p, "static final ")) != NULL; p++)
		n++;
	return n;
}

START_TEST(java_side_defines_the_same_bytes)
{
	load_java();
	static const struct {
		const char *name;
		char c;
	} chars[] = {
		{ "RESULT_OK", FT_WIRE_RESULT_OK },
		{ "RESULT_ERROR", FT_WIRE_RESULT_ERROR },
		{ "RESULT_MEMORY", FT_WIRE_RESULT_MEMORY },
		{ "RESULT_THREADS", FT_WIRE_RESULT_THREADS },
		{ "RESULT_FILE", FT_WIRE_RESULT_FILE },
		{ "RESULT_STARTED", FT_WIRE_RESULT_STARTED },
		{ "RESULT_MAIN_STARTED", FT_WIRE_RESULT_MAIN_STARTED },
		{ "RESULT_NO_ENTRY", FT_WIRE_RESULT_NO_ENTRY },
		{ "SPARE_READY", FT_WIRE_SPARE_READY },
		{ "COMPILER_CLASSES", FT_WIRE_COMPILER_CLASSES },
		{ "COMPILER_ERRORS", FT_WIRE_COMPILER_ERRORS },
		{ "COMPILER_OUT_OF_MEMORY", FT_WIRE_COMPILER_OUT_OF_MEMORY },
	};
	static const struct {
		const char *name;
		int v;
	} ints[] = {
		{ "COMPILER_EXIT_OUT_OF_MEMORY", FT_WIRE_COMPILER_EXIT_OUT_OF_MEMORY },
		{ "LAUNCHER_EXIT_NO_CHANNEL", FT_WIRE_LAUNCHER_EXIT_NO_CHANNEL },
		{ "LAUNCHER_EXIT_CHANNEL_WRITE", FT_WIRE_LAUNCHER_EXIT_CHANNEL_WRITE },
		{ "LAUNCHER_EXIT_NO_JOB", FT_WIRE_LAUNCHER_EXIT_NO_JOB },
	};
	char want[256];
	for (size_t i = 0; i < sizeof(chars) / sizeof(chars[0]); i++) {
		const char *v = java_value(chars[i].name);
		snprintf(want, sizeof(want), "'%c'", chars[i].c);
		ck_assert_msg(v && strcmp(v, want) == 0, "Wire.%s is %s, javawire.h has %s",
			      chars[i].name, v ? v : "missing", want);
	}
	for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++) {
		const char *v = java_value(ints[i].name);
		snprintf(want, sizeof(want), "%d", ints[i].v);
		ck_assert_msg(v && strcmp(v, want) == 0, "Wire.%s is %s, javawire.h has %s",
			      ints[i].name, v ? v : "missing", want);
	}
	const char *flags = java_value("COMPILER_FLAGS");
	snprintf(want, sizeof(want), "\"%s\"", FT_WIRE_COMPILER_FLAGS);
	ck_assert_msg(flags && strcmp(flags, want) == 0, "Wire.COMPILER_FLAGS is %s", flags);
	const char *head = java_value("COMPILE_ERROR_HEAD");
	snprintf(want, sizeof(want), "\"%s\"", FT_WIRE_COMPILE_ERROR_HEAD);
	ck_assert_msg(head && strcmp(head, want) == 0, "Wire.COMPILE_ERROR_HEAD is %s", head);
	/* Nothing in Wire.java that the C side does not know. */
	ck_assert_int_eq(count_java_constants(), (int)(sizeof(chars) / sizeof(chars[0]) +
						       sizeof(ints) / sizeof(ints[0]) + 2));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("javawire");
	TCase *tc = tcase_create("vocabulary");
	tcase_add_test(tc, verdict_names_round_trip);
	tcase_add_test(tc, verdict_statuses_and_caching);
	tcase_add_test(tc, verdicts_of_contract_answers);
	tcase_add_test(tc, java_side_defines_the_same_bytes);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
