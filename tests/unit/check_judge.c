/* Judging output (gateway/judge.c): what each comparison forgives. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/judge.h"

static bool match(enum gw_compare c, const char *got, const char *want)
{
	return gw_output_matches(c, got, strlen(got), want, strlen(want));
}

START_TEST(trailing_whitespace_is_forgiven)
{
	enum gw_compare t = GW_COMPARE_TRAILING_WHITESPACE;
	ck_assert(match(t, "3\n", "3"));
	ck_assert(match(t, "1 2 \n3\t\r\n\n\n", "1 2\n3"));
	ck_assert(match(t, "a\r\nb\r\n", "a\nb\n"));
	ck_assert(match(t, "", "\n \n"));
	/* Inside a line, and leading blanks, count. */
	ck_assert(!match(t, "1  2", "1 2"));
	ck_assert(!match(t, " 3", "3"));
	/* Lines count, an empty line inside counts. */
	ck_assert(!match(t, "1\n\n2", "1\n2"));
	ck_assert(!match(t, "1\n2", "1"));
	ck_assert(!match(t, "1", "1\n2"));
	ck_assert(!match(t, "abc", "abd"));
}
END_TEST

START_TEST(exact_is_byte_for_byte)
{
	enum gw_compare e = GW_COMPARE_EXACT;
	ck_assert(match(e, "3\n", "3\n"));
	ck_assert(!match(e, "3\n", "3"));
	ck_assert(match(e, "", ""));
	ck_assert(gw_output_matches(e, "a\0b", 3, "a\0b", 3));
	ck_assert(!gw_output_matches(e, "a\0b", 3, "a\0c", 3));
}
END_TEST

START_TEST(names)
{
	ck_assert_int_eq(gw_compare_from_name("exact"), GW_COMPARE_EXACT);
	ck_assert_int_eq(gw_compare_from_name("trailing_whitespace"),
			 GW_COMPARE_TRAILING_WHITESPACE);
	ck_assert_int_eq(gw_compare_from_name("fuzzy"), -1);
	ck_assert_int_eq(gw_compare_from_name(NULL), -1);
	ck_assert_str_eq(gw_compare_name(GW_COMPARE_EXACT), "exact");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("judge");
	TCase *tc = tcase_create("compare");
	tcase_add_test(tc, trailing_whitespace_is_forgiven);
	tcase_add_test(tc, exact_is_byte_for_byte);
	tcase_add_test(tc, names);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
