/* Unit tests of the token buckets and their bounded table
 * (lib/tokenbucket.c), on a fake clock. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/tokenbucket.h"

#define T0 5000000

START_TEST(a_new_bucket_is_full_then_refuses)
{
	struct ft_bucket b = { 0 };
	for (int i = 0; i < 5; i++)
		ck_assert_msg(ft_bucket_take(&b, T0, 2, 5, NULL), "request %d", i);
	int64_t wait = -1;
	ck_assert(!ft_bucket_take(&b, T0, 2, 5, &wait));
	/* 2 a second: the next one is there in half a second. */
	ck_assert_int_eq(wait, 500);
}
END_TEST

START_TEST(refills_at_the_rate_and_no_more_than_burst)
{
	struct ft_bucket b = { 0 };
	for (int i = 0; i < 3; i++)
		ck_assert(ft_bucket_take(&b, T0, 10, 3, NULL));
	int64_t wait;
	ck_assert(!ft_bucket_take(&b, T0 + 99, 10, 3, &wait));
	ck_assert_int_eq(wait, 1);
	ck_assert(ft_bucket_take(&b, T0 + 100, 10, 3, NULL));
	ck_assert(!ft_bucket_take(&b, T0 + 100, 10, 3, &wait));
	ck_assert_int_eq(wait, 100);
	/* An hour of quiet fills it to 3, not to 36000. */
	int64_t later = T0 + 3600 * 1000;
	for (int i = 0; i < 3; i++)
		ck_assert(ft_bucket_take(&b, later, 10, 3, NULL));
	ck_assert(!ft_bucket_take(&b, later, 10, 3, NULL));
}
END_TEST

START_TEST(slow_rates_are_exact)
{
	/* 1 a second, burst 1: exactly one per 1000 ms, with no drift over
	 * many periods, and a wait that says when. */
	struct ft_bucket b = { 0 };
	int64_t wait;
	ck_assert(ft_bucket_take(&b, T0, 1, 1, NULL));
	for (int i = 1; i <= 50; i++) {
		ck_assert(!ft_bucket_take(&b, T0 + i * 1000 - 1, 1, 1, &wait));
		ck_assert_int_eq(wait, 1);
		ck_assert_msg(ft_bucket_take(&b, T0 + i * 1000, 1, 1, NULL), "period %d", i);
	}
	ck_assert(!ft_bucket_take(&b, T0 + 50000, 1, 1, &wait));
	ck_assert_int_eq(wait, 1000);
}
END_TEST

START_TEST(high_rates_and_a_clock_going_back)
{
	struct ft_bucket b = { 0 };
	for (int i = 0; i < 1000; i++)
		ck_assert(ft_bucket_take(&b, T0, 1000000, 1000, NULL));
	ck_assert(!ft_bucket_take(&b, T0, 1000000, 1000, NULL));
	/* 1 ms at a million a second: the whole burst again. */
	for (int i = 0; i < 1000; i++)
		ck_assert(ft_bucket_take(&b, T0 + 1, 1000000, 1000, NULL));
	/* Time running backwards refills nothing (and takes nothing). */
	ck_assert(!ft_bucket_take(&b, T0 - 60000, 1000000, 1000, NULL));
	ck_assert(ft_bucket_take(&b, T0 + 2, 1000000, 1000, NULL));
}
END_TEST

START_TEST(a_lower_burst_after_a_reload_applies_at_once)
{
	struct ft_bucket b = { 0 };
	ck_assert(ft_bucket_take(&b, T0, 1, 100, NULL)); /* 99 left */
	ck_assert(ft_bucket_take(&b, T0, 1, 2, NULL));	 /* capped to 2, then 1 left */
	ck_assert(ft_bucket_take(&b, T0, 1, 2, NULL));
	ck_assert(!ft_bucket_take(&b, T0, 1, 2, NULL));
}
END_TEST

START_TEST(the_table_keeps_a_bucket_per_key)
{
	struct ft_bucket_table *t = ft_bucket_table_new();
	int64_t wait;
	ck_assert(ft_bucket_table_take(t, "10.0.0.1", 8, T0, 1, 2, 100, NULL));
	ck_assert(ft_bucket_table_take(t, "10.0.0.1", 8, T0, 1, 2, 100, NULL));
	ck_assert(!ft_bucket_table_take(t, "10.0.0.1", 8, T0, 1, 2, 100, &wait));
	ck_assert_int_eq(wait, 1000);
	/* Another key has its own. */
	ck_assert(ft_bucket_table_take(t, "10.0.0.2", 8, T0, 1, 2, 100, NULL));
	ck_assert_uint_eq(ft_bucket_table_size(t), 2);
	/* Binary keys (a token's hash) with the same prefix differ. */
	unsigned char k1[32] = { 0 }, k2[32] = { 0 };
	k2[31] = 1;
	ck_assert(ft_bucket_table_take(t, k1, 32, T0, 1, 1, 100, NULL));
	ck_assert(!ft_bucket_table_take(t, k1, 32, T0, 1, 1, 100, NULL));
	ck_assert(ft_bucket_table_take(t, k2, 32, T0, 1, 1, 100, NULL));
	ck_assert_uint_eq(ft_bucket_table_size(t), 4);
	ft_bucket_table_free(t);
}
END_TEST

START_TEST(the_table_is_bounded_and_forgets_the_quiet_first)
{
	struct ft_bucket_table *t = ft_bucket_table_new();
	char key[32];
	/* An abuser empties its bucket. */
	ck_assert(ft_bucket_table_take(t, "abuser", 6, T0, 1, 1, 8, NULL));
	/* 1000 others, one request each, the abuser sending between them. */
	for (int i = 0; i < 1000; i++) {
		int n = snprintf(key, sizeof(key), "client-%d", i);
		ck_assert(ft_bucket_table_take(t, key, (size_t)n, T0, 1, 1, 8, NULL));
		ck_assert(!ft_bucket_table_take(t, "abuser", 6, T0, 1, 1, 8, NULL));
		ck_assert_uint_le(ft_bucket_table_size(t), 8);
	}
	ck_assert_uint_eq(ft_bucket_table_size(t), 8);
	/* client-0 was evicted long ago: it starts full again. */
	ck_assert(ft_bucket_table_take(t, "client-0", 8, T0, 1, 1, 8, NULL));
	/* A smaller bound (a reload) shrinks the table at the next new key. */
	ck_assert(ft_bucket_table_take(t, "newcomer", 8, T0, 1, 1, 2, NULL));
	ck_assert_uint_eq(ft_bucket_table_size(t), 2);
	ft_bucket_table_free(t);
}
END_TEST

START_TEST(the_table_grows_past_its_first_slots)
{
	struct ft_bucket_table *t = ft_bucket_table_new();
	char key[32];
	for (int i = 0; i < 5000; i++) {
		int n = snprintf(key, sizeof(key), "k%d", i);
		ck_assert(ft_bucket_table_take(t, key, (size_t)n, T0, 1, 1, 10000, NULL));
	}
	ck_assert_uint_eq(ft_bucket_table_size(t), 5000);
	/* Every one is still found (and empty) after the table grew. */
	for (int i = 0; i < 5000; i++) {
		int n = snprintf(key, sizeof(key), "k%d", i);
		ck_assert_msg(!ft_bucket_table_take(t, key, (size_t)n, T0, 1, 1, 10000, NULL), "%s",
			      key);
	}
	ck_assert_uint_eq(ft_bucket_table_size(t), 5000);
	/* A key longer than FT_BUCKET_KEY_MAX is cut, not overrun. */
	char longkey[200];
	memset(longkey, 'x', sizeof(longkey));
	ck_assert(ft_bucket_table_take(t, longkey, sizeof(longkey), T0, 1, 1, 10000, NULL));
	ck_assert(!ft_bucket_table_take(t, longkey, FT_BUCKET_KEY_MAX, T0, 1, 1, 10000, NULL));
	ft_bucket_table_free(t);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("tokenbucket");
	TCase *tc = tcase_create("bucket");
	tcase_add_test(tc, a_new_bucket_is_full_then_refuses);
	tcase_add_test(tc, refills_at_the_rate_and_no_more_than_burst);
	tcase_add_test(tc, slow_rates_are_exact);
	tcase_add_test(tc, high_rates_and_a_clock_going_back);
	tcase_add_test(tc, a_lower_burst_after_a_reload_applies_at_once);
	suite_add_tcase(s, tc);
	TCase *tt = tcase_create("table");
	tcase_add_test(tt, the_table_keeps_a_bucket_per_key);
	tcase_add_test(tt, the_table_is_bounded_and_forgets_the_quiet_first);
	tcase_add_test(tt, the_table_grows_past_its_first_slots);
	suite_add_tcase(s, tt);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
