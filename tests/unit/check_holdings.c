#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "conf/config.h"
#include "node/holdings.h"

/* Fixture: two slots, results kept 1000 ms, the first leader of epoch 5. */
#define SLOTS 2
#define KEEP_MS 1000
#define EPOCH 5

#define MAX_EXPIRED 64

static struct ft_limits limits;
static struct ft_holdings *h;
static int works_made, works_dropped, results_made, results_dropped;
static uint64_t expired[MAX_EXPIRED];
static size_t n_expired;

static void fake_drop_work(void *ud, void *p)
{
	works_dropped++;
	free(p);
}

static void fake_drop_result(void *ud, void *p)
{
	results_dropped++;
	free(p);
}

static void fake_expired(void *ud, uint64_t req)
{
	ck_assert_uint_lt(n_expired, MAX_EXPIRED);
	expired[n_expired++] = req;
}

static const struct ft_holdings_ops ops = {
	.drop_work = fake_drop_work,
	.drop_result = fake_drop_result,
	.expired = fake_expired,
};

static void setup(void)
{
	memset(&limits, 0, sizeof limits);
	limits.worker_slots = SLOTS;
	limits.result_keep_ms = KEEP_MS;
	works_made = works_dropped = results_made = results_dropped = 0;
	n_expired = 0;
	h = ft_holdings_new(&limits, &ops, NULL);
	ck_assert(ft_holdings_leader(h, EPOCH));
}

static void teardown(void)
{
	ft_holdings_free(h);
	h = NULL;
	ck_assert_int_eq(works_dropped, works_made);
	ck_assert_int_eq(results_dropped, results_made);
}

static enum ft_assign_outcome assign(uint64_t req, uint64_t epoch)
{
	works_made++;
	return ft_holdings_assign(h, req, epoch, malloc(1));
}

static void *result(void)
{
	results_made++;
	return malloc(1);
}

static uint64_t start(void)
{
	const struct ft_held *j = ft_holdings_start_next(h);
	ck_assert_ptr_nonnull(j);
	ck_assert_int_eq(j->state, FT_HELD_RUNNING);
	return j->req;
}

static void finish(uint64_t req, int64_t now)
{
	const struct ft_held *j = ft_holdings_finished(h, req, result(), now);
	ck_assert_ptr_nonnull(j);
	ck_assert_int_eq(j->state, FT_HELD_DONE);
	ck_assert_int_eq(j->done_at_ms, now);
}

static enum ft_held_state state_of(uint64_t req)
{
	const struct ft_held *j = ft_holdings_find(h, req);
	ck_assert_ptr_nonnull(j);
	return j->state;
}

START_TEST(stale_leader_refused)
{
	ck_assert_uint_eq(ft_holdings_epoch(h), EPOCH);
	ck_assert(!ft_holdings_leader(h, EPOCH - 1));
	ck_assert_uint_eq(ft_holdings_epoch(h), EPOCH);
	ck_assert(ft_holdings_leader(h, EPOCH)); /* the same leader, reconnecting */
	ck_assert(ft_holdings_leader(h, EPOCH + 2));
	ck_assert_uint_eq(ft_holdings_epoch(h), EPOCH + 2);
	ck_assert(!ft_holdings_leader(h, EPOCH));
}
END_TEST

START_TEST(epochs_followed_down_after_zookeeper_lost_its_data)
{
	ck_assert(ft_holdings_leader(h, EPOCH + 100));
	ck_assert(!ft_holdings_leader(h, EPOCH));
	ft_holdings_follow_epoch(h, EPOCH);
	ck_assert_uint_eq(ft_holdings_epoch(h), EPOCH);
	ck_assert(ft_holdings_leader(h, EPOCH));
	ck_assert_int_eq(assign(1, EPOCH), FT_ASSIGN_QUEUED);
	/* Fencing goes on from there. */
	ck_assert(ft_holdings_leader(h, EPOCH + 1));
	ck_assert(!ft_holdings_leader(h, EPOCH));
	ck_assert_int_eq(assign(2, EPOCH), FT_ASSIGN_STALE);
}
END_TEST

START_TEST(stale_epoch_assign_refused)
{
	ck_assert_int_eq(assign(1, EPOCH - 1), FT_ASSIGN_STALE);
	ck_assert_ptr_null(ft_holdings_find(h, 1));
	ck_assert_int_eq(works_dropped, 1);
	ck_assert_ptr_null(ft_holdings_start_next(h));
	/* A newer epoch's assignment is taken; only a leader's HELLO moves
	 * the fence. */
	ck_assert_int_eq(assign(2, EPOCH + 1), FT_ASSIGN_QUEUED);
	ck_assert_uint_eq(ft_holdings_epoch(h), EPOCH);
	ck_assert_int_eq(assign(3, EPOCH), FT_ASSIGN_QUEUED);
	ck_assert_int_eq(state_of(2), FT_HELD_QUEUED);
}
END_TEST

START_TEST(stale_epoch_refused_even_for_a_held_id)
{
	ck_assert_int_eq(assign(1, EPOCH), FT_ASSIGN_QUEUED);
	ck_assert(ft_holdings_leader(h, EPOCH + 1));
	ck_assert_int_eq(assign(1, EPOCH), FT_ASSIGN_STALE);
	ck_assert_int_eq(state_of(1), FT_HELD_QUEUED);
}
END_TEST

START_TEST(runs_start_oldest_first_within_slots)
{
	ck_assert_int_eq(assign(10, EPOCH), FT_ASSIGN_QUEUED);
	ck_assert_int_eq(assign(11, EPOCH), FT_ASSIGN_QUEUED);
	ck_assert_int_eq(assign(12, EPOCH), FT_ASSIGN_QUEUED);
	ck_assert_int_eq(state_of(12), FT_HELD_QUEUED);
	ck_assert_ptr_nonnull(ft_holdings_find(h, 12)->work);
	ck_assert_uint_eq(start(), 10);
	ck_assert_uint_eq(start(), 11);
	ck_assert_uint_eq(ft_holdings_running(h), SLOTS);
	ck_assert_ptr_null(ft_holdings_start_next(h)); /* no free slot */
	finish(11, 50);
	ck_assert_uint_eq(ft_holdings_running(h), 1);
	ck_assert_ptr_null(ft_holdings_find(h, 11)->work);
	ck_assert_int_eq(works_dropped, 1);
	ck_assert_uint_eq(start(), 12);
	ck_assert_ptr_null(ft_holdings_start_next(h)); /* nothing queued */
}
END_TEST

START_TEST(slots_read_at_each_decision)
{
	for (uint64_t id = 1; id <= 4; id++)
		assign(id, EPOCH);
	start();
	start();
	ck_assert_ptr_null(ft_holdings_start_next(h));
	limits.worker_slots = 3; /* a reload raised it */
	ck_assert_uint_eq(start(), 3);
	ck_assert_ptr_null(ft_holdings_start_next(h));
}
END_TEST

START_TEST(known_id_never_runs_twice)
{
	assign(1, EPOCH);
	ck_assert_int_eq(assign(1, EPOCH), FT_ASSIGN_HELD_RUNNING); /* still queued */
	start();
	ck_assert_int_eq(assign(1, EPOCH), FT_ASSIGN_HELD_RUNNING);
	ck_assert_int_eq(assign(1, EPOCH + 1), FT_ASSIGN_HELD_RUNNING); /* a new leader's */
	ck_assert_ptr_null(ft_holdings_start_next(h));
	finish(1, 10);
	ck_assert_int_eq(assign(1, EPOCH + 1), FT_ASSIGN_HELD_DONE);
	ck_assert_ptr_null(ft_holdings_start_next(h));
	ck_assert_int_eq(state_of(1), FT_HELD_DONE);
	/* Every copy but the first was freed at once. */
	ck_assert_int_eq(works_made, 5);
	ck_assert_int_eq(works_dropped, 5);
	ck_assert_uint_eq(ft_holdings_held(h), 1);
}
END_TEST

START_TEST(release_drops_kept_result)
{
	assign(1, EPOCH);
	assign(2, EPOCH);
	start();
	start();
	finish(1, 10);
	ck_assert_uint_eq(ft_holdings_held(h), 1);
	ck_assert(!ft_holdings_release(h, 2)); /* still running: not a result */
	ck_assert_int_eq(state_of(2), FT_HELD_RUNNING);
	ck_assert(ft_holdings_release(h, 1));
	ck_assert_ptr_null(ft_holdings_find(h, 1));
	ck_assert_uint_eq(ft_holdings_held(h), 0);
	ck_assert_int_eq(results_dropped, 1);
	ck_assert(!ft_holdings_release(h, 1));
	ck_assert(!ft_holdings_release(h, 99));
	/* Released, the ID may be assigned again (a new request of a leader
	 * that lost the delivery): the leader's ring keeps it from that. */
	ck_assert_int_eq(assign(1, EPOCH), FT_ASSIGN_QUEUED);
}
END_TEST

START_TEST(result_expires_after_keep_ms)
{
	assign(1, EPOCH);
	assign(2, EPOCH);
	start();
	start();
	finish(1, 100);
	finish(2, 600);
	ck_assert_uint_eq(ft_holdings_expire(h, 100 + KEEP_MS), 0);
	ck_assert_uint_eq(n_expired, 0);
	ck_assert_uint_eq(ft_holdings_expire(h, 100 + KEEP_MS + 1), 1);
	ck_assert_uint_eq(n_expired, 1);
	ck_assert_uint_eq(expired[0], 1);
	ck_assert_ptr_null(ft_holdings_find(h, 1));
	ck_assert_int_eq(state_of(2), FT_HELD_DONE);
	ck_assert_uint_eq(ft_holdings_expire(h, 600 + KEEP_MS + 1), 1);
	ck_assert_uint_eq(expired[1], 2);
	ck_assert_uint_eq(ft_holdings_held(h), 0);
}
END_TEST

START_TEST(expiry_spares_unfinished_work)
{
	assign(1, EPOCH);
	assign(2, EPOCH);
	assign(3, EPOCH);
	start();
	start();
	ck_assert_uint_eq(ft_holdings_expire(h, 1000000), 0);
	ck_assert_int_eq(state_of(1), FT_HELD_RUNNING);
	ck_assert_int_eq(state_of(3), FT_HELD_QUEUED);
	finish(1, 0);
	limits.result_keep_ms = 10; /* read at each sweep */
	ck_assert_uint_eq(ft_holdings_expire(h, 11), 1);
	ck_assert_uint_eq(ft_holdings_running(h), 1);
}
END_TEST

START_TEST(inventory_contents)
{
	struct ft_inventory inv;
	ft_holdings_inventory(h, &inv);
	ck_assert_uint_eq(inv.n_running + inv.n_done, 0);
	ft_inventory_free(&inv);
	for (uint64_t id = 1; id <= 4; id++)
		assign(id, EPOCH);
	start();
	start();
	finish(1, 0);
	start();
	/* 1 done, 2 and 3 running, 4 queued: newest first. */
	ft_holdings_inventory(h, &inv);
	ck_assert_uint_eq(inv.n_running, 3);
	ck_assert_uint_eq(inv.running[0], 4);
	ck_assert_uint_eq(inv.running[1], 3);
	ck_assert_uint_eq(inv.running[2], 2);
	ck_assert_uint_eq(inv.n_done, 1);
	ck_assert_uint_eq(inv.done[0]->req, 1);
	ck_assert_ptr_nonnull(inv.done[0]->result);
	ft_inventory_free(&inv);
	ck_assert_ptr_null(inv.running);
}
END_TEST

START_TEST(stop_hands_back_unfinished)
{
	for (uint64_t id = 1; id <= 3; id++)
		assign(id, EPOCH);
	start();
	finish(1, 0);
	start();
	uint64_t *reqs = NULL;
	size_t n = ft_holdings_hand_back(h, &reqs);
	ck_assert_uint_eq(n, 2);
	ck_assert_uint_eq(reqs[0], 3);
	ck_assert_uint_eq(reqs[1], 2);
	free(reqs);
	/* Still held: the run in progress may finish before the process ends. */
	ck_assert_int_eq(state_of(2), FT_HELD_RUNNING);
	ck_assert_int_eq(state_of(3), FT_HELD_QUEUED);
	ck_assert_int_eq(state_of(1), FT_HELD_DONE);
}
END_TEST

START_TEST(failed_run_no_longer_held)
{
	assign(1, EPOCH);
	assign(2, EPOCH);
	assign(3, EPOCH);
	start();
	start();
	ck_assert(ft_holdings_failed(h, 1));
	ck_assert_ptr_null(ft_holdings_find(h, 1));
	ck_assert_uint_eq(ft_holdings_running(h), 1);
	ck_assert_uint_eq(ft_holdings_held(h), 0);
	ck_assert(!ft_holdings_failed(h, 1));
	ck_assert(!ft_holdings_failed(h, 3)); /* queued, not running */
	ck_assert_uint_eq(start(), 3);
	/* Handed back, it is the leader's: a new assignment runs it here. */
	ck_assert_int_eq(assign(1, EPOCH), FT_ASSIGN_QUEUED);
}
END_TEST

START_TEST(cancel_of_queued_running_and_finished)
{
	assign(1, EPOCH);
	assign(2, EPOCH);
	assign(3, EPOCH);
	start();
	start();
	/* Queued: forgotten at once; a slot never runs it. */
	ck_assert_int_eq(ft_holdings_cancel(h, 3), FT_CANCEL_DROPPED);
	ck_assert_ptr_null(ft_holdings_find(h, 3));
	/* Running: the caller stops it, and its result is still kept. */
	ck_assert_int_eq(ft_holdings_cancel(h, 1), FT_CANCEL_RUNNING);
	ck_assert_int_eq(state_of(1), FT_HELD_RUNNING);
	finish(1, 10);
	ck_assert_int_eq(state_of(1), FT_HELD_DONE);
	/* Finished, or unknown: nothing to do. */
	ck_assert_int_eq(ft_holdings_cancel(h, 1), FT_CANCEL_NONE);
	ck_assert_int_eq(ft_holdings_cancel(h, 77), FT_CANCEL_NONE);
	ck_assert_uint_eq(ft_holdings_running(h), 1);
}
END_TEST

START_TEST(finish_of_unknown_run_ignored)
{
	assign(1, EPOCH);
	ck_assert_ptr_null(ft_holdings_finished(h, 1, result(), 0)); /* not started */
	ck_assert_ptr_null(ft_holdings_finished(h, 9, result(), 0));
	ck_assert_int_eq(results_dropped, 2);
	ck_assert_int_eq(state_of(1), FT_HELD_QUEUED);
	ck_assert_uint_eq(ft_holdings_held(h), 0);
}
END_TEST

START_TEST(many_requests_grow_the_table)
{
	limits.worker_slots = 1000;
	for (uint64_t id = 1; id <= 100; id++)
		ck_assert_int_eq(assign(id, EPOCH), FT_ASSIGN_QUEUED);
	for (uint64_t id = 1; id <= 100; id++)
		ck_assert_uint_eq(start(), id);
	for (uint64_t id = 1; id <= 100; id += 2)
		finish(id, (int64_t)id);
	ck_assert_uint_eq(ft_holdings_held(h), 50);
	ck_assert_uint_eq(ft_holdings_running(h), 50);
	ck_assert_uint_eq(ft_holdings_expire(h, 48 + KEEP_MS), 24); /* 1, 3, ..., 47 */
	ck_assert_uint_eq(expired[0], 47);			    /* newest first */
	ck_assert_ptr_nonnull(ft_holdings_find(h, 49));
	ck_assert_ptr_null(ft_holdings_find(h, 47));
}
END_TEST

static Suite *holdings_suite(void)
{
	Suite *s = suite_create("worker holdings");
	TCase *tc = tcase_create("epochs");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, stale_leader_refused);
	tcase_add_test(tc, epochs_followed_down_after_zookeeper_lost_its_data);
	tcase_add_test(tc, stale_epoch_assign_refused);
	tcase_add_test(tc, stale_epoch_refused_even_for_a_held_id);
	suite_add_tcase(s, tc);

	tc = tcase_create("runs");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, runs_start_oldest_first_within_slots);
	tcase_add_test(tc, slots_read_at_each_decision);
	tcase_add_test(tc, known_id_never_runs_twice);
	tcase_add_test(tc, failed_run_no_longer_held);
	tcase_add_test(tc, cancel_of_queued_running_and_finished);
	tcase_add_test(tc, finish_of_unknown_run_ignored);
	suite_add_tcase(s, tc);

	tc = tcase_create("results");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, release_drops_kept_result);
	tcase_add_test(tc, result_expires_after_keep_ms);
	tcase_add_test(tc, expiry_spares_unfinished_work);
	tcase_add_test(tc, inventory_contents);
	tcase_add_test(tc, stop_hands_back_unfinished);
	tcase_add_test(tc, many_requests_grow_the_table);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(holdings_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
