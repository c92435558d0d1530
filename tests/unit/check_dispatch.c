#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "conf/config.h"
#include "node/dispatch.h"

/* Fixture: we lead as node 3 of {1, 2, 3}; every node alive and linked,
 * gathering from t=0 with a collect timeout of 1000 ms; three attempts. */
#define SELF 3
#define T0 0
#define COLLECT_MS 1000
#define ATTEMPTS 3

enum action_type { ASSIGN = 1, STARTED, ANSWER, RELEASE, CANCEL };

struct action {
	enum action_type type;
	uint64_t id;
	int worker;
	int attempts;
};

#define MAX_LOG 256

static struct action actions[MAX_LOG];
static size_t n_actions;
static struct ft_dispatch_event events[MAX_LOG];
static size_t n_events;

static bool reachable[SELF + 1];
static bool assign_fails;
static int works_made, works_dropped, results_made, results_dropped;

static struct ft_limits limits;
static struct ft_dispatch *d;
static const int nodes[] = { 1, 2, SELF };

static void record(enum action_type type, uint64_t id, int worker, int attempts)
{
	ck_assert_uint_lt(n_actions, MAX_LOG);
	actions[n_actions++] = (struct action){ type, id, worker, attempts };
}

static bool fake_reachable(void *ud, int worker)
{
	return worker >= 0 && worker <= SELF && reachable[worker];
}

static bool fake_assign(void *ud, const struct ft_dispatch_req *r, int worker)
{
	ck_assert_ptr_nonnull(r->work);
	if (assign_fails)
		return false;
	record(ASSIGN, r->id, worker, r->attempts);
	return true;
}

static void fake_started(void *ud, const struct ft_dispatch_req *r)
{
	record(STARTED, r->id, r->worker, r->attempts);
}

static void fake_answer(void *ud, const struct ft_dispatch_req *r)
{
	ck_assert_int_eq(r->state, FT_DISPATCH_DONE);
	ck_assert(r->result != NULL || r->unavailable_body != NULL);
	record(ANSWER, r->id, r->from_worker, r->attempts);
}

static void fake_release(void *ud, int worker, uint64_t id)
{
	record(RELEASE, id, worker, 0);
}

static void fake_cancel(void *ud, int worker, uint64_t id)
{
	record(CANCEL, id, worker, 0);
}

static void fake_event(void *ud, const struct ft_dispatch_event *ev)
{
	ck_assert_uint_lt(n_events, MAX_LOG);
	events[n_events++] = *ev;
}

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

static const struct ft_dispatch_ops ops = {
	.reachable = fake_reachable,
	.assign = fake_assign,
	.started = fake_started,
	.answer = fake_answer,
	.release = fake_release,
	.cancel = fake_cancel,
	.event = fake_event,
	.drop_work = fake_drop_work,
	.drop_result = fake_drop_result,
};

static void clear(void)
{
	n_actions = 0;
	n_events = 0;
}

/* A table for a new leader: every node alive and linked, none ready. */
static struct ft_dispatch *make(void)
{
	const struct ft_dispatch_conf conf = {
		.self_id = SELF,
		.worker_ids = nodes,
		.n_workers = sizeof nodes / sizeof nodes[0],
		.limits = &limits,
	};
	struct ft_dispatch *t = ft_dispatch_new(&conf, &ops, NULL, T0);
	for (size_t i = 0; i < conf.n_workers; i++) {
		ft_dispatch_set_alive(t, nodes[i], true);
		ft_dispatch_link(t, nodes[i], true);
	}
	return t;
}

static void setup(void)
{
	memset(&limits, 0, sizeof limits);
	limits.run_attempts = ATTEMPTS;
	limits.collect_timeout_ms = COLLECT_MS;
	/* Room enough that only the overload tests meet the bounds. */
	limits.worker_slots = 100;
	limits.worker_backlog = 0;
	limits.max_queued_requests = 1000;
	limits.queue_lifo_ms = 0;
	for (int i = 0; i <= SELF; i++)
		reachable[i] = true;
	assign_fails = false;
	works_made = works_dropped = results_made = results_dropped = 0;
	clear();
	d = make();
}

static void teardown(void)
{
	ft_dispatch_free(d);
	d = NULL;
	/* Every payload handed to the table was freed by it, exactly once. */
	ck_assert_int_eq(works_dropped, works_made);
	ck_assert_int_eq(results_dropped, results_made);
}

static void *work(void)
{
	works_made++;
	return malloc(1);
}

static void *result(void)
{
	results_made++;
	return malloc(1);
}

static void submit(uint64_t id)
{
	ft_dispatch_submit(d, id, work());
}

static void answer_from(int worker, uint64_t id)
{
	ft_dispatch_result(d, worker, id, result());
}

static void empty_inventory(int worker)
{
	ft_dispatch_inventory(d, worker, NULL, 0, NULL, 0);
}

/* Every worker's (empty) inventory is in: gathering is over. */
static void gathered(void)
{
	for (size_t i = 0; i < sizeof nodes / sizeof nodes[0]; i++)
		empty_inventory(nodes[i]);
	ck_assert(!ft_dispatch_gathering(d));
	clear();
}

static size_t count(enum action_type type, uint64_t id, int worker)
{
	size_t n = 0;
	for (size_t i = 0; i < n_actions; i++)
		if (actions[i].type == type && actions[i].id == id &&
		    (worker < 0 || actions[i].worker == worker))
			n++;
	return n;
}

static size_t count_events(enum ft_dispatch_event_type type)
{
	size_t n = 0;
	for (size_t i = 0; i < n_events; i++)
		n += events[i].type == type;
	return n;
}

static const struct ft_dispatch_event *find_event(enum ft_dispatch_event_type type)
{
	for (size_t i = 0; i < n_events; i++)
		if (events[i].type == type)
			return &events[i];
	return NULL;
}

static const struct ft_dispatch_req *req(uint64_t id)
{
	const struct ft_dispatch_req *r = ft_dispatch_find(d, id);
	ck_assert_ptr_nonnull(r);
	return r;
}

static void assert_assigned(uint64_t id, int worker, int attempts)
{
	const struct ft_dispatch_req *r = req(id);
	ck_assert_int_eq(r->state, FT_DISPATCH_ASSIGNED);
	ck_assert_int_eq(r->worker, worker);
	ck_assert_int_eq(r->attempts, attempts);
}

/* ---- cancelling ---- */

START_TEST(cancel_stops_the_worker_and_quiets_its_result)
{
	gathered();
	submit(20);
	assert_assigned(20, 1, 1);
	ft_dispatch_cancel(d, 20);
	ck_assert_uint_eq(count(CANCEL, 20, 1), 1);
	ck_assert_ptr_null(ft_dispatch_find(d, 20));
	ck_assert(ft_dispatch_delivered(d, 20));
	ck_assert_uint_eq(ft_dispatch_assigned(d, 1), 0);
	ck_assert_int_eq(find_event(FT_DISPATCH_EV_CANCELLED)->worker, 1);
	/* The worker's result (verdict cancelled) is released, never answered. */
	clear();
	answer_from(1, 20);
	ck_assert_uint_eq(count(RELEASE, 20, 1), 1);
	ck_assert_uint_eq(count(ANSWER, 20, -1), 0);
	ck_assert_uint_eq(count_events(FT_DISPATCH_EV_LATE), 1);
	/* A second cancel, or one of an unknown request, does nothing. */
	clear();
	ft_dispatch_cancel(d, 20);
	ft_dispatch_cancel(d, 99);
	ck_assert_uint_eq(n_actions, 0);
	ck_assert_uint_eq(n_events, 0);
}
END_TEST

START_TEST(cancel_of_queued_and_answered_requests)
{
	/* Queued (still gathering): nobody to tell, and it never runs. */
	submit(21);
	ft_dispatch_cancel(d, 21);
	ck_assert_int_eq(find_event(FT_DISPATCH_EV_CANCELLED)->worker, -1);
	gathered();
	ck_assert_uint_eq(count(ASSIGN, 21, -1), 0);
	ck_assert_uint_eq(ft_dispatch_count(d), 0);
	/* Answered, not yet acknowledged: the held result is released. */
	submit(22);
	answer_from(1, 22);
	clear();
	ft_dispatch_cancel(d, 22);
	ck_assert_uint_eq(count(RELEASE, 22, 1), 1);
	ck_assert_uint_eq(count(CANCEL, 22, -1), 0);
	ck_assert_ptr_null(ft_dispatch_find(d, 22));
}
END_TEST

/* ---- gathering ---- */

START_TEST(gathering_waits_for_every_inventory)
{
	submit(7);
	ck_assert(ft_dispatch_gathering(d));
	ck_assert_int_eq(req(7)->state, FT_DISPATCH_QUEUED);
	empty_inventory(1);
	empty_inventory(2);
	ck_assert(ft_dispatch_gathering(d));
	ck_assert_uint_eq(count(ASSIGN, 7, -1), 0);
	empty_inventory(SELF);
	ck_assert(!ft_dispatch_gathering(d));
	const struct ft_dispatch_event *ev = find_event(FT_DISPATCH_EV_GATHERED);
	ck_assert_ptr_nonnull(ev);
	ck_assert(!ev->timeout);
	ck_assert_uint_eq(count(ASSIGN, 7, -1), 1);
	assert_assigned(7, 1, 1);
}
END_TEST

START_TEST(collect_timeout_ends_gathering)
{
	ck_assert_int_eq(ft_dispatch_collect_deadline(d), T0 + COLLECT_MS);
	empty_inventory(2);
	submit(7);
	ft_dispatch_tick(d, T0 + COLLECT_MS - 1);
	ck_assert(ft_dispatch_gathering(d));
	ck_assert_uint_eq(count(ASSIGN, 7, -1), 0);
	ft_dispatch_tick(d, T0 + COLLECT_MS);
	ck_assert(!ft_dispatch_gathering(d));
	const struct ft_dispatch_event *ev = find_event(FT_DISPATCH_EV_GATHERED);
	ck_assert_ptr_nonnull(ev);
	ck_assert(ev->timeout);
	/* Only worker 2 is ready: the others' inventories never came. */
	assert_assigned(7, 2, 1);
	/* Once over, gathering does not end twice. */
	clear();
	ft_dispatch_tick(d, T0 + 2 * COLLECT_MS);
	empty_inventory(1);
	ck_assert_uint_eq(count_events(FT_DISPATCH_EV_GATHERED), 0);
}
END_TEST

START_TEST(dead_or_unlinked_workers_are_not_awaited)
{
	ft_dispatch_set_alive(d, 1, false);
	ft_dispatch_link(d, 2, false); /* no connection could be made */
	empty_inventory(SELF);
	ck_assert(!ft_dispatch_gathering(d));
}
END_TEST

START_TEST(inventory_running_is_awaited_not_run_again)
{
	submit(7); /* re-sent by the gateway while gathering */
	const uint64_t running[] = { 7, 8 };
	ft_dispatch_inventory(d, 2, running, 2, NULL, 0);
	/* Running on worker 2: it counts there, without a new attempt. */
	assert_assigned(7, 2, 0);
	ck_assert_int_eq(req(8)->state, FT_DISPATCH_WAITING);
	ck_assert_int_eq(req(8)->worker, 2);
	ck_assert_uint_eq(ft_dispatch_assigned(d, 2), 2);
	ck_assert_uint_eq(count(STARTED, 7, 2), 1);
	ck_assert_uint_eq(count(STARTED, 8, 2), 1);
	const struct ft_dispatch_event *ev = find_event(FT_DISPATCH_EV_WORKER_READY);
	ck_assert_ptr_nonnull(ev);
	ck_assert_int_eq(ev->worker, 2);
	ck_assert_uint_eq(ev->count, 2);
	empty_inventory(1);
	empty_inventory(SELF);
	ck_assert(!ft_dispatch_gathering(d));
	submit(8);
	ck_assert_uint_eq(count(ASSIGN, 7, -1), 0);
	ck_assert_uint_eq(count(ASSIGN, 8, -1), 0);
	/* The gateway that sent 8 again learns where it runs. */
	ck_assert_uint_eq(count(STARTED, 8, 2), 2);
	answer_from(2, 7);
	answer_from(2, 8);
	ck_assert_uint_eq(count(ANSWER, 7, 2), 1);
	ck_assert_uint_eq(count(ANSWER, 8, 2), 1);
	ck_assert_uint_eq(ft_dispatch_assigned(d, 2), 0);
}
END_TEST

/* The leader died: a new table gathers what the workers hold. */
START_TEST(new_leader_gathers_running_and_finished)
{
	const uint64_t running[] = { 10 };
	const uint64_t done[] = { 11 };
	ft_dispatch_inventory(d, 1, running, 1, done, 1);
	empty_inventory(2);
	empty_inventory(SELF);
	ck_assert(!ft_dispatch_gathering(d));
	ck_assert_int_eq(req(10)->state, FT_DISPATCH_WAITING);
	ck_assert_int_eq(req(10)->worker, 1);
	/* Finished: awaited until its RESULT arrives, never dispatched. */
	ck_assert_int_eq(req(11)->state, FT_DISPATCH_WAITING);
	ck_assert_int_eq(req(11)->worker, 1);
	ck_assert_uint_eq(count(STARTED, 11, -1), 0);
	ck_assert_uint_eq(ft_dispatch_assigned(d, 1), 2);
	/* The gateway re-sends both: neither runs again. */
	submit(10);
	submit(11);
	ck_assert_uint_eq(count(ASSIGN, 10, -1), 0);
	ck_assert_uint_eq(count(ASSIGN, 11, -1), 0);
	answer_from(1, 11);
	ck_assert_int_eq(req(11)->state, FT_DISPATCH_DONE);
	ck_assert_ptr_null(req(11)->work);
	ck_assert_uint_eq(count(ANSWER, 11, 1), 1);
	ck_assert_uint_eq(count(ASSIGN, 11, -1), 0);
	ck_assert_uint_eq(count(ASSIGN, 10, -1), 0);
}
END_TEST

START_TEST(resubmit_answered_from_gathered_result)
{
	const uint64_t done[] = { 11 };
	ft_dispatch_inventory(d, 1, NULL, 0, done, 1);
	answer_from(1, 11); /* the RESULT that follows the inventory */
	empty_inventory(2);
	empty_inventory(SELF);
	clear();
	submit(11); /* the gateway's re-sent pending request */
	ck_assert_uint_eq(count(ANSWER, 11, 1), 1);
	ck_assert_uint_eq(count(ASSIGN, 11, -1), 0);
	ck_assert_uint_eq(count_events(FT_DISPATCH_EV_SUBMITTED), 0);
	ck_assert_ptr_null(req(11)->work);
	ck_assert_int_eq(works_dropped, 1);
}
END_TEST

START_TEST(gateway_reconnect_gets_every_unacknowledged_answer)
{
	gathered();
	submit(1);
	submit(2);
	submit(3);
	answer_from(1, 1);
	answer_from(2, 2);
	ft_dispatch_ack(d, 1);
	clear();
	ft_dispatch_resend_answers(d);
	ck_assert_uint_eq(n_actions, 1);
	ck_assert_uint_eq(count(ANSWER, 2, 2), 1);
}
END_TEST

/* ---- choosing a worker ---- */

START_TEST(least_busy_worker_chosen)
{
	gathered();
	submit(1);
	submit(2);
	submit(3);
	submit(4);
	assert_assigned(1, 1, 1);
	assert_assigned(2, 2, 1);
	assert_assigned(3, 1, 1);
	assert_assigned(4, 2, 1);
	ck_assert_uint_eq(ft_dispatch_assigned(d, 1), 2);
	ck_assert_uint_eq(ft_dispatch_assigned(d, 2), 2);
	ck_assert_uint_eq(ft_dispatch_assigned(d, SELF), 0);
	answer_from(2, 2);
	answer_from(2, 4);
	submit(5);
	assert_assigned(5, 2, 1);
	ck_assert_uint_eq(count(STARTED, 5, 2), 1);
	const struct ft_dispatch_event *ev = find_event(FT_DISPATCH_EV_ASSIGNED);
	ck_assert_ptr_nonnull(ev);
	ck_assert_uint_eq(ev->id, 1);
	ck_assert_int_eq(ev->worker, 1);
	ck_assert_uint_eq(ev->count, 1);
}
END_TEST

/* The tests of one program go where its first test compiled it. */
START_TEST(preferred_worker_chosen_however_busy)
{
	gathered();
	for (uint64_t id = 1; id <= 4; id++)
		ft_dispatch_submit_to(d, id, work(), 2, 0);
	for (uint64_t id = 1; id <= 4; id++)
		assert_assigned(id, 2, 1);
	ck_assert_uint_eq(ft_dispatch_assigned(d, 1), 0);
	/* A preferred worker that cannot take it is passed over. */
	reachable[2] = false;
	ft_dispatch_submit_to(d, 5, work(), 2, 0);
	assert_assigned(5, 1, 1);
	reachable[2] = true;
	ft_dispatch_worker_failed(d, 2, "declared failed");
	/* Its requests went elsewhere (not back to it), and new ones too. */
	for (uint64_t id = 1; id <= 4; id++)
		ck_assert_int_ne(req(id)->worker, 2);
	ft_dispatch_submit_to(d, 6, work(), 2, 0);
	ck_assert_int_eq(req(6)->worker, 1);
	/* The leader is not preferred over the others. */
	ft_dispatch_submit_to(d, 7, work(), SELF, 0);
	ck_assert_int_eq(req(7)->worker, 1);
}
END_TEST

START_TEST(leader_works_only_when_nobody_else_can)
{
	gathered();
	for (uint64_t id = 1; id <= 5; id++)
		submit(id);
	/* However busy the others are, the leader is not one of them. */
	ck_assert_uint_eq(ft_dispatch_assigned(d, SELF), 0);
	reachable[1] = false;
	ft_dispatch_worker_failed(d, 2, "declared failed");
	/* Worker 2's requests had nowhere to go but the leader. */
	ck_assert_uint_eq(ft_dispatch_assigned(d, SELF), 2);
	submit(6);
	assert_assigned(6, SELF, 1);
	reachable[1] = true;
	submit(7);
	assert_assigned(7, 1, 1);
}
END_TEST

START_TEST(unready_or_unreachable_workers_get_nothing)
{
	ft_dispatch_set_alive(d, 1, false);
	empty_inventory(2);
	empty_inventory(SELF);
	ck_assert(!ft_dispatch_gathering(d));
	reachable[2] = false;
	submit(1);
	assert_assigned(1, SELF, 1);
	/* A new connection to a worker: it is not ready until its inventory. */
	reachable[2] = true;
	ft_dispatch_link(d, 2, true);
	ck_assert(!ft_dispatch_ready(d, 2));
	submit(2);
	assert_assigned(2, SELF, 1);
	empty_inventory(2);
	submit(3);
	assert_assigned(3, 2, 1);
}
END_TEST

START_TEST(unsent_assignment_stays_queued)
{
	gathered();
	assign_fails = true;
	submit(1);
	ck_assert_int_eq(req(1)->state, FT_DISPATCH_QUEUED);
	ck_assert_int_eq(req(1)->attempts, 0);
	ck_assert_int_eq(req(1)->worker, -1);
	ck_assert_uint_eq(count(STARTED, 1, -1), 0);
	ck_assert_uint_eq(ft_dispatch_assigned(d, 1) + ft_dispatch_assigned(d, 2), 0);
	assign_fails = false;
	submit(2);
	ck_assert_int_eq(req(1)->state, FT_DISPATCH_ASSIGNED);
	ck_assert_int_eq(req(2)->state, FT_DISPATCH_ASSIGNED);
}
END_TEST

/* A ZooKeeper blip: held, the table keeps taking requests and answers but
 * assigns nothing, and a lost worker's request waits too; released, the
 * queue goes out at once. */
START_TEST(held_dispatch_assigns_nothing_until_released)
{
	gathered();
	submit(1);
	assert_assigned(1, 1, 1);
	clear();
	ft_dispatch_hold(d, true);
	submit(2);
	ck_assert_int_eq(req(2)->state, FT_DISPATCH_QUEUED);
	answer_from(1, 1);
	ck_assert_uint_eq(count(ANSWER, 1, -1), 1);
	submit(3);
	ft_dispatch_set_alive(d, 1, false);
	ck_assert_uint_eq(count(ASSIGN, 2, -1) + count(ASSIGN, 3, -1), 0);
	ft_dispatch_hold(d, false);
	ck_assert_int_eq(req(2)->state, FT_DISPATCH_ASSIGNED);
	ck_assert_int_eq(req(3)->state, FT_DISPATCH_ASSIGNED);
	ck_assert_int_ne(req(2)->worker, 1);
	ck_assert_int_ne(req(3)->worker, 1);
}
END_TEST

/* ---- lost workers ---- */

START_TEST(worker_dies_holding_work_reassigned)
{
	gathered();
	submit(1);
	assert_assigned(1, 1, 1);
	clear();
	ft_dispatch_worker_failed(d, 1, "declared failed");
	ck_assert(!ft_dispatch_alive(d, 1));
	ck_assert_uint_eq(ft_dispatch_assigned(d, 1), 0);
	const struct ft_dispatch_event *ev = find_event(FT_DISPATCH_EV_RECLAIMED);
	ck_assert_ptr_nonnull(ev);
	ck_assert_int_eq(ev->worker, 1);
	ck_assert_uint_eq(ev->count, 1);
	ck_assert_str_eq(ev->why, "declared failed");
	assert_assigned(1, 2, 2);
	ck_assert_uint_eq(count(ASSIGN, 1, 2), 1);
	ck_assert_uint_eq(count(STARTED, 1, 2), 1);
	ck_assert_int_eq(actions[n_actions - 1].attempts, 2);
}
END_TEST

START_TEST(lost_connection_reassigns_and_awaits_inventory)
{
	gathered();
	submit(1);
	submit(2);
	clear();
	ft_dispatch_link_closed(d, 2, "connection reset");
	ck_assert(!ft_dispatch_ready(d, 2));
	ck_assert(ft_dispatch_alive(d, 2));
	/* Not to worker 2 again, where it failed. */
	assert_assigned(2, 1, 2);
	ck_assert_uint_eq(find_event(FT_DISPATCH_EV_RECLAIMED)->count, 1);
	/* A request the gateway never sent waits for it, wherever it ran. */
	const uint64_t running[] = { 9 };
	ft_dispatch_link(d, 2, true);
	ft_dispatch_inventory(d, 2, running, 1, NULL, 0);
	ft_dispatch_link_closed(d, 2, "connection reset");
	ck_assert_int_eq(req(9)->state, FT_DISPATCH_WAITING);
	ck_assert_int_eq(req(9)->worker, -1);
	submit(9);
	assert_assigned(9, 1, 1);
}
END_TEST

START_TEST(silent_links_cost_no_attempt)
{
	limits.run_attempts = 2;
	gathered();
	submit(1);
	assert_assigned(1, 1, 1);
	/* The leader cut off from every worker: each link falls silent in
	 * turn, and the request follows them, as a partition is no sign that
	 * it took a worker down. */
	ft_dispatch_link_silent(d, 1, "silent for 3000 ms");
	assert_assigned(1, 2, 1);
	ft_dispatch_link_silent(d, 2, "silent for 3000 ms");
	assert_assigned(1, 3, 1);
	ft_dispatch_link_silent(d, 3, "silent for 3000 ms");
	const struct ft_dispatch_req *r = req(1);
	ck_assert_int_eq(r->state, FT_DISPATCH_QUEUED);
	ck_assert_uint_eq(count(ANSWER, 1, -1), 0);
	/* Worker 1 back: it runs there, still its first attempt. */
	ft_dispatch_link(d, 1, true);
	ft_dispatch_inventory(d, 1, NULL, 0, NULL, 0);
	assert_assigned(1, 1, 1);
}
END_TEST

START_TEST(worker_deaths_bounded_by_run_attempts)
{
	limits.run_attempts = 2;
	gathered();
	submit(1);
	assert_assigned(1, 1, 1);
	ft_dispatch_worker_failed(d, 1, "declared failed");
	assert_assigned(1, 2, 2);
	clear();
	ft_dispatch_link_closed(d, 2, "connection reset");
	const struct ft_dispatch_req *r = req(1);
	ck_assert_int_eq(r->state, FT_DISPATCH_DONE);
	ck_assert_int_eq(r->from_worker, -1);
	ck_assert_uint_eq(count(ANSWER, 1, -1), 1);
	/* Answered, so not reassigned, and not counted as reassigned. */
	ck_assert_uint_eq(find_event(FT_DISPATCH_EV_RECLAIMED)->count, 0);
	ck_assert_uint_eq(count(ASSIGN, 1, -1), 0);
}
END_TEST

/* ---- hand-backs ---- */

START_TEST(failed_hand_back_elsewhere_then_unavailable)
{
	gathered();
	submit(1);
	assert_assigned(1, 1, 1);
	ft_dispatch_handed_back(d, 1, 1, "sandbox: no uid", true);
	assert_assigned(1, 2, 2);
	ft_dispatch_handed_back(d, 2, 1, "sandbox: no uid", true);
	/* Every other worker failed it: the leader's turn. */
	assert_assigned(1, SELF, 3);
	ck_assert_uint_eq(count_events(FT_DISPATCH_EV_HANDED_BACK), 2);
	clear();
	ft_dispatch_handed_back(d, SELF, 1, "jvm: cannot start", true);
	const struct ft_dispatch_req *r = req(1);
	ck_assert_int_eq(r->state, FT_DISPATCH_DONE);
	ck_assert_ptr_null(r->result);
	ck_assert_ptr_null(r->work);
	ck_assert_int_eq(r->worker, -1);
	ck_assert_int_eq(r->attempts, ATTEMPTS);
	ck_assert_str_eq(r->unavailable_body,
			 "Service unavailable: the cluster could not run this request (3 "
			 "attempts; the last, on worker 3: jvm: cannot start); try again later\n");
	const struct ft_dispatch_event *ev = find_event(FT_DISPATCH_EV_UNAVAILABLE);
	ck_assert_ptr_nonnull(ev);
	ck_assert_int_eq(ev->worker, SELF);
	ck_assert_uint_eq(ev->count, ATTEMPTS);
	ck_assert_str_eq(ev->why, "jvm: cannot start");
	ck_assert_uint_eq(count_events(FT_DISPATCH_EV_HANDED_BACK), 0);
	ck_assert_uint_eq(count(ANSWER, 1, -1), 1);
	ck_assert_uint_eq(ft_dispatch_assigned(d, SELF), 0);
	/* Delivered: nothing is held anywhere to release. */
	clear();
	ft_dispatch_ack(d, 1);
	ck_assert_uint_eq(n_actions, 0);
	ck_assert_ptr_null(ft_dispatch_find(d, 1));
}
END_TEST

START_TEST(failed_everywhere_retries_least_busy_tried)
{
	limits.run_attempts = 5;
	gathered();
	submit(1);
	ft_dispatch_handed_back(d, 1, 1, "x", true);
	ft_dispatch_handed_back(d, 2, 1, "x", true);
	ft_dispatch_handed_back(d, SELF, 1, "x", true);
	/* Failed on every worker: one of them tries again, not nobody. */
	ck_assert_int_eq(req(1)->state, FT_DISPATCH_ASSIGNED);
	ck_assert_int_eq(req(1)->attempts, 4);
	submit(2);
	ck_assert_int_ne(req(2)->worker, req(1)->worker);
	const int busy = req(2)->worker;
	ft_dispatch_handed_back(d, req(1)->worker, 1, "x", true);
	ck_assert_int_eq(req(1)->state, FT_DISPATCH_ASSIGNED);
	ck_assert_int_eq(req(1)->attempts, 5);
	/* Of the workers it failed on, one that is idle, not the busy one. */
	ck_assert_int_ne(req(1)->worker, busy);
	ck_assert_uint_eq(ft_dispatch_assigned(d, req(1)->worker), 1);
}
END_TEST

START_TEST(stopping_hand_back_is_not_a_failure)
{
	limits.run_attempts = 1;
	gathered();
	submit(1);
	assert_assigned(1, 1, 1);
	clear();
	ft_dispatch_handed_back(d, 1, 1, "worker stopping", false);
	const struct ft_dispatch_event *ev = find_event(FT_DISPATCH_EV_HANDED_BACK);
	ck_assert_ptr_nonnull(ev);
	ck_assert_uint_eq(ev->id, 1);
	ck_assert_int_eq(ev->worker, 1);
	ck_assert_str_eq(ev->why, "worker stopping");
	ck_assert_uint_eq(count_events(FT_DISPATCH_EV_UNAVAILABLE), 0);
	/* Past run_attempts, yet run again: stopping is nobody's failure. */
	ck_assert_int_eq(req(1)->state, FT_DISPATCH_ASSIGNED);
	ck_assert_int_eq(req(1)->attempts, 2);
	ck_assert_uint_eq(count(ANSWER, 1, -1), 0);
}
END_TEST

START_TEST(hand_back_from_other_than_holder_ignored)
{
	gathered();
	submit(1);
	assert_assigned(1, 1, 1);
	clear();
	ft_dispatch_handed_back(d, 2, 1, "x", true);
	ft_dispatch_handed_back(d, 1, 99, "x", true);
	assert_assigned(1, 1, 1);
	ck_assert_uint_eq(n_actions + n_events, 0);
	answer_from(1, 1);
	ft_dispatch_handed_back(d, 1, 1, "x", true);
	ck_assert_int_eq(req(1)->state, FT_DISPATCH_DONE);
}
END_TEST

START_TEST(run_attempts_read_at_each_decision)
{
	gathered();
	submit(1);
	ft_dispatch_handed_back(d, 1, 1, "x", true);
	ck_assert_int_eq(req(1)->attempts, 2);
	limits.run_attempts = 2; /* a reload lowered it */
	ft_dispatch_handed_back(d, req(1)->worker, 1, "x", true);
	ck_assert_int_eq(req(1)->state, FT_DISPATCH_DONE);
	ck_assert_ptr_nonnull(req(1)->unavailable_body);
}
END_TEST

/* ---- results ---- */

START_TEST(late_result_after_reassignment_first_wins)
{
	gathered();
	submit(1);
	assert_assigned(1, 1, 1);
	ft_dispatch_link_closed(d, 1, "paused past its reassignment");
	assert_assigned(1, 2, 2);
	clear();
	answer_from(2, 1);
	ck_assert_uint_eq(count(ANSWER, 1, 2), 1);
	const struct ft_dispatch_event *ev = find_event(FT_DISPATCH_EV_ANSWERED);
	ck_assert_ptr_nonnull(ev);
	ck_assert_int_eq(ev->worker, 2);
	ck_assert_ptr_eq(ev->req, req(1));
	ck_assert_uint_eq(ft_dispatch_assigned(d, 2), 0);
	clear();
	answer_from(1, 1); /* the paused worker's */
	ck_assert_uint_eq(count(RELEASE, 1, 1), 1);
	ck_assert_uint_eq(count(ANSWER, 1, -1), 0);
	ck_assert_int_eq(req(1)->from_worker, 2);
	ck_assert_int_eq(results_dropped, 1);
	clear();
	ft_dispatch_ack(d, 1);
	ck_assert_uint_eq(count(RELEASE, 1, 2), 1);
	ck_assert_uint_eq(n_actions, 1);
	ck_assert_ptr_null(ft_dispatch_find(d, 1));
	ck_assert(ft_dispatch_delivered(d, 1));
}
END_TEST

START_TEST(duplicate_result_answered_once)
{
	gathered();
	submit(1);
	answer_from(1, 1);
	clear();
	answer_from(1, 1); /* the same worker sent it again (a new leader's inventory) */
	ck_assert_uint_eq(n_actions, 0);
	ck_assert_uint_eq(count_events(FT_DISPATCH_EV_ANSWERED), 0);
	ck_assert_int_eq(results_dropped, 1);
	ck_assert_uint_eq(ft_dispatch_count(d), 1);
}
END_TEST

START_TEST(result_for_delivered_id_released_quietly)
{
	gathered();
	submit(1);
	answer_from(1, 1);
	ft_dispatch_ack(d, 1);
	ck_assert_uint_eq(ft_dispatch_count(d), 0);
	clear();
	answer_from(2, 1);
	ck_assert_uint_eq(ft_dispatch_count(d), 0);
	ck_assert_uint_eq(n_actions, 1);
	ck_assert_uint_eq(count(RELEASE, 1, 2), 1);
	ck_assert_uint_eq(n_events, 1);
	ck_assert_int_eq(events[0].type, FT_DISPATCH_EV_LATE);
	ck_assert_uint_eq(events[0].id, 1);
	ck_assert_int_eq(events[0].worker, 2);
	/* Nor does a new inventory bring it back. */
	const uint64_t ids[] = { 1 };
	ft_dispatch_inventory(d, 2, ids, 1, ids, 1);
	ck_assert_uint_eq(ft_dispatch_count(d), 0);
	ck_assert_uint_eq(ft_dispatch_assigned(d, 2), 0);
}
END_TEST

START_TEST(result_of_unknown_request_kept_for_gateway)
{
	gathered();
	answer_from(2, 42); /* finished for a previous leader, never inventoried */
	const struct ft_dispatch_req *r = req(42);
	ck_assert_int_eq(r->state, FT_DISPATCH_DONE);
	ck_assert_int_eq(r->from_worker, 2);
	ck_assert_ptr_nonnull(r->result);
	ck_assert_uint_eq(count(ANSWER, 42, 2), 1);
	clear();
	ft_dispatch_ack(d, 42);
	ck_assert_uint_eq(count(RELEASE, 42, 2), 1);
	ft_dispatch_ack(d, 42); /* twice: nothing left to release */
	ft_dispatch_ack(d, 43);
	ck_assert_uint_eq(n_actions, 1);
}
END_TEST

START_TEST(any_answer_dispatches_the_queue)
{
	ft_dispatch_set_alive(d, 2, false);
	ft_dispatch_set_alive(d, SELF, false);
	gathered();
	assign_fails = true;
	submit(1);
	submit(2);
	assign_fails = false;
	ck_assert_int_eq(req(2)->state, FT_DISPATCH_QUEUED);
	answer_from(1, 77); /* any event that may free a worker dispatches */
	assert_assigned(1, 1, 1);
	assert_assigned(2, 1, 1);
	ck_assert_uint_eq(ft_dispatch_count(d), 3);
}
END_TEST

/* ---- overload ---- */

/* Slots and backlog bound what a worker holds; the rest waits at the
 * leader, which does not take it for itself while others only are full. */
START_TEST(workers_hold_at_most_slots_and_backlog)
{
	limits.worker_slots = 1;
	limits.worker_backlog = 1;
	gathered();
	for (uint64_t id = 1; id <= 6; id++)
		submit(id);
	ck_assert_uint_eq(ft_dispatch_assigned(d, 1), 2);
	ck_assert_uint_eq(ft_dispatch_assigned(d, 2), 2);
	ck_assert_uint_eq(ft_dispatch_assigned(d, SELF), 0);
	ck_assert_int_eq(req(5)->state, FT_DISPATCH_QUEUED);
	ck_assert_int_eq(req(6)->state, FT_DISPATCH_QUEUED);
	/* A slot frees: the oldest waiting request goes there. */
	answer_from(2, 2);
	assert_assigned(5, 2, 1);
	ck_assert_int_eq(req(6)->state, FT_DISPATCH_QUEUED);
	/* A reload that widens the backlog applies at the next decision. */
	limits.worker_backlog = 2;
	answer_from(1, 1);
	ck_assert_int_eq(req(6)->state, FT_DISPATCH_ASSIGNED);
	ck_assert_uint_eq(ft_dispatch_assigned(d, SELF), 0);
	/* A request for the worker that compiled its program waits for room
	 * there, even with room elsewhere. */
	limits.worker_backlog = 1;
	answer_from(2, 5);
	answer_from(2, 4);
	ck_assert_uint_eq(ft_dispatch_assigned(d, 1), 2);
	ck_assert_uint_eq(ft_dispatch_assigned(d, 2), 0);
	ft_dispatch_submit_to(d, 7, work(), 1, 0);
	ck_assert_int_eq(req(7)->state, FT_DISPATCH_QUEUED);
	answer_from(1, 3);
	assert_assigned(7, 1, 1);
	/* With no other worker left, the leader works, within its own bound. */
	ft_dispatch_worker_failed(d, 1, "test");
	ft_dispatch_worker_failed(d, 2, "test");
	ck_assert_uint_eq(ft_dispatch_assigned(d, SELF), 2);
	submit(8);
	ck_assert_int_eq(req(8)->state, FT_DISPATCH_QUEUED);
}
END_TEST

START_TEST(a_waiting_request_does_not_block_the_next)
{
	limits.worker_slots = 1;
	gathered();
	submit(1);
	assert_assigned(1, 1, 1);
	submit(2);
	assert_assigned(2, 2, 1);
	/* 1 fails on worker 1 (machinery): worker 2, untried, is full. */
	ft_dispatch_handed_back(d, 1, 1, "no free uid", true);
	ck_assert_int_eq(req(1)->state, FT_DISPATCH_QUEUED);
	submit(3);
	assert_assigned(3, 1, 1);
}
END_TEST

START_TEST(a_standing_queue_serves_the_newest_first)
{
	limits.worker_slots = 1;
	limits.queue_lifo_ms = 1000;
	gathered();
	submit(1);
	submit(2);
	submit(3); /* queued at t=0 */
	ft_dispatch_tick(d, 600);
	submit(4); /* queued at t=600 */
	ft_dispatch_tick(d, 900);
	/* The oldest waited 900 ms: still oldest first. */
	answer_from(1, 1);
	assert_assigned(3, 1, 1);
	ck_assert_uint_eq(count_events(FT_DISPATCH_EV_QUEUE_ORDER), 0);
	submit(5);
	ft_dispatch_tick(d, 1700);
	/* 4 waited 1100 ms, but every client still waits: oldest first. */
	ck_assert_uint_eq(count_events(FT_DISPATCH_EV_QUEUE_ORDER), 0);
	submit(8);
	ft_dispatch_cancel(d, 8); /* a client gave up */
	submit(6);		  /* queued at t=1700 */
	/* A standing queue, and clients leave it: the newest goes first. */
	answer_from(2, 2);
	assert_assigned(6, 2, 1);
	const struct ft_dispatch_event *ev = find_event(FT_DISPATCH_EV_QUEUE_ORDER);
	ck_assert_ptr_nonnull(ev);
	ck_assert(ev->timeout);
	clear();
	answer_from(1, 3);
	assert_assigned(5, 1, 1);
	/* Only 4 waits, long: it goes next, and the queue turns back once it
	 * is empty. */
	answer_from(2, 6);
	assert_assigned(4, 2, 1);
	submit(7);
	ft_dispatch_tick(d, 1800);
	ev = find_event(FT_DISPATCH_EV_QUEUE_ORDER);
	ck_assert_ptr_nonnull(ev);
	ck_assert(!ev->timeout);
	ck_assert_int_eq(req(7)->state, FT_DISPATCH_QUEUED);
}
END_TEST

START_TEST(newest_first_ends_when_clients_stop_giving_up)
{
	limits.worker_slots = 1;
	limits.queue_lifo_ms = 200;
	gathered();
	submit(1);
	submit(2);
	submit(3);
	submit(4);
	submit(9);
	ft_dispatch_tick(d, 300);
	ft_dispatch_cancel(d, 9);
	submit(5);
	answer_from(1, 1);
	assert_assigned(5, 1, 1); /* standing, clients leave: newest */
	/* 2 s (10 x queue_lifo_ms) later nobody else gave up: the oldest
	 * waiting is not starved any longer. */
	ft_dispatch_tick(d, 2400);
	submit(6);
	answer_from(1, 5);
	assert_assigned(3, 1, 1);
	const struct ft_dispatch_event *ev = NULL;
	for (size_t i = 0; i < n_events; i++)
		if (events[i].type == FT_DISPATCH_EV_QUEUE_ORDER)
			ev = &events[i];
	ck_assert_ptr_nonnull(ev);
	ck_assert(!ev->timeout);
}
END_TEST

START_TEST(queued_past_its_deadline_dropped_unrun)
{
	limits.worker_slots = 1;
	gathered();
	ft_dispatch_submit_to(d, 1, work(), 0, 100);
	ft_dispatch_submit_to(d, 2, work(), 0, 100);
	ft_dispatch_submit_to(d, 3, work(), 0, 500);
	ft_dispatch_submit_to(d, 4, work(), 0, 0);
	assert_assigned(1, 1, 1);
	assert_assigned(2, 2, 1);
	clear();
	/* Running ones are the worker's: the gateway cancels them. */
	ft_dispatch_tick(d, 200);
	assert_assigned(1, 1, 1);
	ck_assert_int_eq(req(3)->state, FT_DISPATCH_QUEUED);
	ck_assert_uint_eq(count_events(FT_DISPATCH_EV_EXPIRED), 0);
	ft_dispatch_tick(d, 500);
	ck_assert_ptr_null(ft_dispatch_find(d, 3));
	ck_assert(ft_dispatch_delivered(d, 3));
	const struct ft_dispatch_event *ev = find_event(FT_DISPATCH_EV_EXPIRED);
	ck_assert_ptr_nonnull(ev);
	ck_assert_uint_eq(ev->id, 3);
	ck_assert_uint_eq(count(ANSWER, 3, -1), 0);
	/* No deadline: waits however long. */
	ft_dispatch_tick(d, 1000000);
	ck_assert_int_eq(req(4)->state, FT_DISPATCH_QUEUED);
	answer_from(1, 1);
	assert_assigned(4, 1, 1);
	ck_assert_uint_eq(count(ASSIGN, 3, -1), 0);
}
END_TEST

START_TEST(a_full_queue_answers_unavailable_at_once)
{
	limits.max_queued_requests = 2;
	gathered();
	ft_dispatch_hold(d, true);
	submit(1);
	submit(2);
	clear();
	submit(3);
	ck_assert_uint_eq(count(ANSWER, 3, -1), 1);
	const struct ft_dispatch_req *r = req(3);
	ck_assert_int_eq(r->state, FT_DISPATCH_DONE);
	ck_assert_int_eq(r->from_worker, -1);
	ck_assert_ptr_nonnull(strstr(r->unavailable_body, "limits.max_queued_requests"));
	const struct ft_dispatch_event *ev = find_event(FT_DISPATCH_EV_REFUSED);
	ck_assert_ptr_nonnull(ev);
	ck_assert_uint_eq(ev->count, 2);
	/* What is already queued is not refused when sent again. */
	submit(2);
	ck_assert_int_eq(req(2)->state, FT_DISPATCH_QUEUED);
	ft_dispatch_ack(d, 3);
	ck_assert_ptr_null(ft_dispatch_find(d, 3));
	ft_dispatch_hold(d, false);
	ck_assert_int_eq(req(1)->state, FT_DISPATCH_ASSIGNED);
	ck_assert_int_eq(req(2)->state, FT_DISPATCH_ASSIGNED);
	ck_assert_uint_eq(count(ASSIGN, 3, -1), 0);
}
END_TEST

static Suite *dispatch_suite(void)
{
	Suite *s = suite_create("leader dispatch");
	TCase *tc = tcase_create("gathering");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, gathering_waits_for_every_inventory);
	tcase_add_test(tc, collect_timeout_ends_gathering);
	tcase_add_test(tc, dead_or_unlinked_workers_are_not_awaited);
	tcase_add_test(tc, inventory_running_is_awaited_not_run_again);
	tcase_add_test(tc, new_leader_gathers_running_and_finished);
	tcase_add_test(tc, resubmit_answered_from_gathered_result);
	tcase_add_test(tc, gateway_reconnect_gets_every_unacknowledged_answer);
	suite_add_tcase(s, tc);

	tc = tcase_create("choice");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, least_busy_worker_chosen);
	tcase_add_test(tc, preferred_worker_chosen_however_busy);
	tcase_add_test(tc, workers_hold_at_most_slots_and_backlog);
	tcase_add_test(tc, a_waiting_request_does_not_block_the_next);
	tcase_add_test(tc, queued_past_its_deadline_dropped_unrun);
	tcase_add_test(tc, a_standing_queue_serves_the_newest_first);
	tcase_add_test(tc, newest_first_ends_when_clients_stop_giving_up);
	tcase_add_test(tc, a_full_queue_answers_unavailable_at_once);
	tcase_add_test(tc, leader_works_only_when_nobody_else_can);
	tcase_add_test(tc, unready_or_unreachable_workers_get_nothing);
	tcase_add_test(tc, unsent_assignment_stays_queued);
	tcase_add_test(tc, held_dispatch_assigns_nothing_until_released);
	suite_add_tcase(s, tc);

	tc = tcase_create("lost workers");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, worker_dies_holding_work_reassigned);
	tcase_add_test(tc, lost_connection_reassigns_and_awaits_inventory);
	tcase_add_test(tc, worker_deaths_bounded_by_run_attempts);
	tcase_add_test(tc, silent_links_cost_no_attempt);
	suite_add_tcase(s, tc);

	tc = tcase_create("hand-backs");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, failed_hand_back_elsewhere_then_unavailable);
	tcase_add_test(tc, failed_everywhere_retries_least_busy_tried);
	tcase_add_test(tc, stopping_hand_back_is_not_a_failure);
	tcase_add_test(tc, hand_back_from_other_than_holder_ignored);
	tcase_add_test(tc, run_attempts_read_at_each_decision);
	suite_add_tcase(s, tc);

	tc = tcase_create("results");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, late_result_after_reassignment_first_wins);
	tcase_add_test(tc, duplicate_result_answered_once);
	tcase_add_test(tc, result_for_delivered_id_released_quietly);
	tcase_add_test(tc, result_of_unknown_request_kept_for_gateway);
	tcase_add_test(tc, any_answer_dispatches_the_queue);
	tcase_add_test(tc, cancel_stops_the_worker_and_quiets_its_result);
	tcase_add_test(tc, cancel_of_queued_and_answered_requests);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(dispatch_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
