/* Unit tests for the per-second event budget (lib/ratelimit.c), on a fake
 * clock. */
#include <check.h>
#include <stdlib.h>

#include "lib/ratelimit.h"

#define T0 1000000

START_TEST(test_budget_within_a_second)
{
	struct ft_ratelimit r = { 0 };
	ck_assert_uint_eq(ft_ratelimit_roll(&r, T0), 0);
	ck_assert(ft_ratelimit_admit(&r, 3));
	ck_assert(ft_ratelimit_admit(&r, 3));
	ck_assert(ft_ratelimit_admit(&r, 3));
	ck_assert(!ft_ratelimit_admit(&r, 3));
	ck_assert(!ft_ratelimit_admit(&r, 3));
	ck_assert_int_eq(r.passed, 3);
	ck_assert_uint_eq(r.suppressed, 2);
}
END_TEST

START_TEST(test_roll_reports_and_resets)
{
	struct ft_ratelimit r = { 0 };
	ft_ratelimit_roll(&r, T0);
	for (int i = 0; i < 5; i++)
		ft_ratelimit_admit(&r, 1);
	/* Not a second yet: nothing changes. */
	ck_assert_uint_eq(ft_ratelimit_roll(&r, T0 + 999), 0);
	ck_assert_uint_eq(r.suppressed, 4);
	ck_assert(!ft_ratelimit_admit(&r, 1));
	/* The second is over: the held-back count, once, and a fresh budget. */
	ck_assert_uint_eq(ft_ratelimit_roll(&r, T0 + 1000), 5);
	ck_assert_uint_eq(ft_ratelimit_roll(&r, T0 + 1001), 0);
	ck_assert(ft_ratelimit_admit(&r, 1));
	ck_assert(!ft_ratelimit_admit(&r, 1));
	/* The new second began at the roll, not at T0 + 2000. */
	ck_assert_uint_eq(ft_ratelimit_roll(&r, T0 + 1999), 0);
	ck_assert_uint_eq(ft_ratelimit_roll(&r, T0 + 2000), 1);
}
END_TEST

START_TEST(test_quiet_second_rolls_to_zero)
{
	struct ft_ratelimit r = { 0 };
	ft_ratelimit_roll(&r, T0);
	ck_assert(ft_ratelimit_admit(&r, 2));
	ck_assert_uint_eq(ft_ratelimit_roll(&r, T0 + 5000), 0);
	ck_assert_int_eq(r.passed, 0);
	ck_assert_int_eq(r.window_ms, T0 + 5000);
}
END_TEST

START_TEST(test_zero_budget_holds_everything_back)
{
	struct ft_ratelimit r = { 0 };
	ft_ratelimit_roll(&r, T0);
	for (int i = 0; i < 7; i++)
		ck_assert(!ft_ratelimit_admit(&r, 0));
	ck_assert_uint_eq(ft_ratelimit_roll(&r, T0 + 1000), 7);
}
END_TEST

static Suite *ratelimit_suite(void)
{
	Suite *s = suite_create("ratelimit");
	TCase *tc = tcase_create("budget");
	tcase_add_test(tc, test_budget_within_a_second);
	tcase_add_test(tc, test_roll_reports_and_resets);
	tcase_add_test(tc, test_quiet_second_rolls_to_zero);
	tcase_add_test(tc, test_zero_budget_holds_everything_back);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(ratelimit_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
