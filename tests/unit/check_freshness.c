#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "gossip/freshness.h"

#define SKEW 60000
#define NOW 1764100000000LL

static const int ids[] = { 0, 1, 2, 3, 7, 2, 65535 };
static struct ft_freshness *f;

static void setup(void)
{
	f = ft_freshness_new(ids, sizeof ids / sizeof ids[0]);
	ck_assert_ptr_nonnull(f);
}

static void teardown(void)
{
	ft_freshness_free(f);
	f = NULL;
}

static void assert_state(int id, uint64_t inc, uint64_t ctr)
{
	uint64_t i = 0, c = 0;
	ck_assert(ft_freshness_get(f, id, &i, &c));
	ck_assert_uint_eq(i, inc);
	ck_assert_uint_eq(c, ctr);
}

START_TEST(counters_rise_within_a_life)
{
	ck_assert(!ft_freshness_get(f, 1, NULL, NULL));
	ck_assert_int_eq(ft_freshness_admit(f, 1, 1000, 5), FT_FRESH_OK);
	assert_state(1, 1000, 5);
	/* The same datagram again, and any older one of that life: replays. */
	ck_assert_int_eq(ft_freshness_admit(f, 1, 1000, 5), FT_FRESH_REPLAY);
	ck_assert_int_eq(ft_freshness_admit(f, 1, 1000, 4), FT_FRESH_REPLAY);
	ck_assert_int_eq(ft_freshness_admit(f, 1, 1000, 0), FT_FRESH_REPLAY);
	assert_state(1, 1000, 5);
	/* Gaps are normal: the sender counts what it sends to everyone. */
	ck_assert_int_eq(ft_freshness_admit(f, 1, 1000, 9), FT_FRESH_OK);
	ck_assert_int_eq(ft_freshness_admit(f, 1, 1000, 6), FT_FRESH_REPLAY);
	ck_assert_int_eq(ft_freshness_admit(f, 1, 1000, UINT64_MAX), FT_FRESH_OK);
	ck_assert_int_eq(ft_freshness_admit(f, 1, 1000, UINT64_MAX), FT_FRESH_REPLAY);
	assert_state(1, 1000, UINT64_MAX);
}
END_TEST

START_TEST(check_remembers_nothing)
{
	ck_assert_int_eq(ft_freshness_check(f, 1, 1000, 5), FT_FRESH_OK);
	ck_assert_int_eq(ft_freshness_check(f, 1, 1000, 5), FT_FRESH_OK);
	ck_assert(!ft_freshness_get(f, 1, NULL, NULL));
	ck_assert_int_eq(ft_freshness_admit(f, 1, 1000, 5), FT_FRESH_OK);
	ck_assert_int_eq(ft_freshness_check(f, 1, 1000, 5), FT_FRESH_REPLAY);
	ck_assert_int_eq(ft_freshness_check(f, 1, 999, 6), FT_FRESH_STALE);
	ck_assert_int_eq(ft_freshness_check(f, 1, 1000, 6), FT_FRESH_OK);
	ck_assert_int_eq(ft_freshness_check(f, 4, 1000, 6), FT_FRESH_UNKNOWN);
	assert_state(1, 1000, 5);
}
END_TEST

START_TEST(a_new_life_starts_afresh_and_old_lives_are_stale)
{
	ck_assert_int_eq(ft_freshness_admit(f, 2, 1000, 50), FT_FRESH_OK);
	/* A restart: a higher incarnation, its counter from wherever it is. */
	ck_assert_int_eq(ft_freshness_admit(f, 2, 2000, 1), FT_FRESH_OK);
	assert_state(2, 2000, 1);
	/* The old life, even with a higher counter: stale. */
	ck_assert_int_eq(ft_freshness_admit(f, 2, 1000, 51), FT_FRESH_STALE);
	ck_assert_int_eq(ft_freshness_admit(f, 2, 1999, UINT64_MAX), FT_FRESH_STALE);
	ck_assert_int_eq(ft_freshness_admit(f, 2, 0, 0), FT_FRESH_STALE);
	assert_state(2, 2000, 1);
	ck_assert_int_eq(ft_freshness_admit(f, 2, 2000, 1), FT_FRESH_REPLAY);
	ck_assert_int_eq(ft_freshness_admit(f, 2, 2000, 2), FT_FRESH_OK);
}
END_TEST

START_TEST(senders_are_independent)
{
	ck_assert_int_eq(ft_freshness_admit(f, 1, 1000, 10), FT_FRESH_OK);
	ck_assert_int_eq(ft_freshness_admit(f, 3, 1000, 1), FT_FRESH_OK);
	ck_assert_int_eq(ft_freshness_admit(f, 0, 5, 1), FT_FRESH_OK);
	ck_assert_int_eq(ft_freshness_admit(f, 65535, 5, 1), FT_FRESH_OK);
	assert_state(1, 1000, 10);
	assert_state(3, 1000, 1);
	ck_assert(!ft_freshness_get(f, 7, NULL, NULL));
}
END_TEST

START_TEST(strangers_get_no_slot)
{
	static const int strangers[] = { -1, 4, 6, 8, 65534, 65536, 1 << 30 };
	for (size_t i = 0; i < sizeof strangers / sizeof strangers[0]; i++) {
		for (uint64_t c = 1; c < 100; c++)
			ck_assert_int_eq(ft_freshness_admit(f, strangers[i], c, c),
					 FT_FRESH_UNKNOWN);
		ck_assert(!ft_freshness_get(f, strangers[i], NULL, NULL));
	}
	/* The duplicated ID (2) has one slot: one life seen through either. */
	ck_assert_int_eq(ft_freshness_admit(f, 2, 10, 10), FT_FRESH_OK);
	ck_assert_int_eq(ft_freshness_admit(f, 2, 10, 10), FT_FRESH_REPLAY);
}
END_TEST

START_TEST(empty_table)
{
	struct ft_freshness *e = ft_freshness_new(NULL, 0);
	ck_assert_ptr_nonnull(e);
	ck_assert_int_eq(ft_freshness_admit(e, 0, 1, 1), FT_FRESH_UNKNOWN);
	ft_freshness_free(e);
	ck_assert_ptr_null(ft_freshness_new(NULL, 3));
	ft_freshness_free(NULL);
}
END_TEST

START_TEST(incarnations_ahead_of_the_clock)
{
	ck_assert(!ft_fresh_in_future(NOW, NOW, SKEW));
	ck_assert(!ft_fresh_in_future(0, NOW, SKEW));
	ck_assert(!ft_fresh_in_future(NOW + SKEW, NOW, SKEW));
	ck_assert(ft_fresh_in_future(NOW + SKEW + 1, NOW, SKEW));
	/* What the forged datagrams of issue 13 claimed. */
	ck_assert(ft_fresh_in_future(UINT64_MAX, NOW, SKEW));
	ck_assert(ft_fresh_in_future(UINT64_MAX, INT64_MAX, SKEW));
	ck_assert(!ft_fresh_in_future((uint64_t)INT64_MAX, INT64_MAX, 0));
	/* A clock before the epoch counts as the epoch; no overflow anywhere. */
	ck_assert(!ft_fresh_in_future(SKEW, -5, SKEW));
	ck_assert(ft_fresh_in_future(SKEW + 1, INT64_MIN, SKEW));
	ck_assert(ft_fresh_in_future(1, 0, 0));
	ck_assert(ft_fresh_in_future(1, 0, -7));
}
END_TEST

START_TEST(datagrams_sent_too_long_ago)
{
	ck_assert(!ft_fresh_too_old(NOW, NOW, SKEW));
	ck_assert(!ft_fresh_too_old(NOW - SKEW, NOW, SKEW));
	ck_assert(ft_fresh_too_old(NOW - SKEW - 1, NOW, SKEW));
	ck_assert(ft_fresh_too_old(0, NOW, SKEW));
	/* Sent "later" than now (the sender's clock is ahead): not old. */
	ck_assert(!ft_fresh_too_old(UINT64_MAX, NOW, SKEW));
	ck_assert(!ft_fresh_too_old(0, -1, SKEW));
	ck_assert(!ft_fresh_too_old(0, SKEW, SKEW));
	ck_assert(ft_fresh_too_old(0, SKEW + 1, SKEW));
}
END_TEST

static void add(struct ft_gossip_msg *m, uint32_t id, uint64_t inc)
{
	m->e[m->n++] = (struct ft_gossip_entry){
		.id = id, .incarnation = inc, .heartbeat = id, .state = FT_MEMBER_ALIVE
	};
}

START_TEST(future_entries_are_dropped_in_place)
{
	static struct ft_gossip_msg m;
	memset(&m, 0, sizeof m);
	add(&m, 1, NOW);
	add(&m, 2, UINT64_MAX);
	add(&m, 3, NOW + SKEW);
	add(&m, 4, NOW + SKEW + 1);
	add(&m, 5, 1);
	ck_assert_uint_eq(ft_fresh_drop_future_entries(&m, NOW, SKEW), 2);
	ck_assert_uint_eq(m.n, 3);
	ck_assert_uint_eq(m.e[0].id, 1);
	ck_assert_uint_eq(m.e[1].id, 3);
	ck_assert_uint_eq(m.e[2].id, 5);
	ck_assert_uint_eq(m.e[1].heartbeat, 3);
	ck_assert_uint_eq(ft_fresh_drop_future_entries(&m, NOW, SKEW), 0);
	ck_assert_uint_eq(m.n, 3);

	/* A full message of future entries empties; a bad count is bounded. */
	memset(&m, 0, sizeof m);
	for (uint32_t i = 0; i < FT_GOSSIP_MAX_ENTRIES; i++)
		add(&m, i, UINT64_MAX - i);
	ck_assert_uint_eq(ft_fresh_drop_future_entries(&m, NOW, SKEW), FT_GOSSIP_MAX_ENTRIES);
	ck_assert_uint_eq(m.n, 0);
	m.n = (size_t)-1;
	ck_assert_uint_le(ft_fresh_drop_future_entries(&m, NOW, SKEW), FT_GOSSIP_MAX_ENTRIES);
	ck_assert_uint_le(m.n, FT_GOSSIP_MAX_ENTRIES);
}
END_TEST

static Suite *freshness_suite(void)
{
	Suite *s = suite_create("gossip freshness");
	TCase *win = tcase_create("replay window");
	tcase_add_checked_fixture(win, setup, teardown);
	tcase_add_test(win, counters_rise_within_a_life);
	tcase_add_test(win, check_remembers_nothing);
	tcase_add_test(win, a_new_life_starts_afresh_and_old_lives_are_stale);
	tcase_add_test(win, senders_are_independent);
	tcase_add_test(win, strangers_get_no_slot);
	tcase_add_test(win, empty_table);
	suite_add_tcase(s, win);

	TCase *clock = tcase_create("clock bounds");
	tcase_add_test(clock, incarnations_ahead_of_the_clock);
	tcase_add_test(clock, datagrams_sent_too_long_ago);
	tcase_add_test(clock, future_entries_are_dropped_in_place);
	suite_add_tcase(s, clock);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(freshness_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
