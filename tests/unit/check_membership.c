#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "gossip/codec.h"
#include "gossip/membership.h"

/* Snapshots must be valid datagrams: any MAC key will do for that. */
static const struct ft_gossip_key test_key = { .id = { 1, 2, 3, 4, 5, 6, 7, 8 } };

/* Fixture: we are member 1 (incarnation 100) of {0 gateway, 1, 2, 3, 4}. */
#define SELF 1
#define SELF_INC 100
#define FAIL_MS 1000
#define CLEANUP_MS 5000

#define MAX_EVENTS 64

static struct ft_member_event_info events[MAX_EVENTS];
static size_t n_events;
static struct ft_membership *mb;
static struct ft_gossip_msg msg;

static void record(void *ud, const struct ft_member_event_info *ev)
{
	size_t *calls = ud;
	(*calls)++;
	/* Counted always, kept while there is room (bulk tests only count). */
	if (n_events < MAX_EVENTS)
		events[n_events] = *ev;
	n_events++;
}

static size_t calls;
static const int allowed[] = { 0, 1, 2, 3, 4 };

static struct ft_membership *make(const int *ids, size_t n, int cleanup_ms)
{
	struct ft_membership_conf c = {
		.self_id = SELF,
		.self_incarnation = SELF_INC,
		.fail_ms = FAIL_MS,
		.cleanup_ms = cleanup_ms,
		.allowed_ids = ids,
		.n_allowed = n,
	};
	struct ft_membership *m = ft_membership_new(&c, record, &calls);
	ck_assert_ptr_nonnull(m);
	return m;
}

static void setup(void)
{
	n_events = 0;
	calls = 0;
	mb = make(allowed, sizeof allowed / sizeof allowed[0], CLEANUP_MS);
}

static void teardown(void)
{
	ft_membership_free(mb);
	mb = NULL;
}

/* Message builder: from(sender, inc) then entries; the sender's own entry is
 * not implied, exactly like a hand-crafted datagram. */
static struct ft_gossip_msg *from(uint32_t sender, uint64_t inc)
{
	memset(&msg, 0, sizeof msg);
	msg.sender = sender;
	msg.sender_incarnation = inc;
	return &msg;
}

static struct ft_gossip_msg *with(struct ft_gossip_msg *m, uint32_t id, uint64_t inc, uint64_t hb,
				  uint8_t state)
{
	m->e[m->n++] = (struct ft_gossip_entry){
		.id = id, .incarnation = inc, .heartbeat = hb, .state = state
	};
	return m;
}

/* A snapshot-like message: sender's own alive entry first. */
static struct ft_gossip_msg *hello(uint32_t sender, uint64_t inc, uint64_t hb)
{
	return with(from(sender, inc), sender, inc, hb, FT_MEMBER_ALIVE);
}

static enum ft_merge_result merge(struct ft_gossip_msg *m, int64_t now)
{
	return ft_membership_merge(mb, m, now);
}

static void assert_event(size_t i, enum ft_member_event type, int peer, int src, uint64_t inc,
			 int64_t now)
{
	ck_assert_uint_lt(i, n_events);
	ck_assert_uint_lt(i, MAX_EVENTS);
	ck_assert_int_eq(events[i].type, type);
	ck_assert_int_eq(events[i].peer, peer);
	ck_assert_int_eq(events[i].src, src);
	ck_assert_uint_eq(events[i].incarnation, inc);
	ck_assert_int_eq(events[i].now_ms, now);
}

/* Peer 2 (inc 200) joined at t=0 with heartbeat 5, events cleared. */
static void join2(void)
{
	ck_assert_int_eq(merge(hello(2, 200, 5), 0), FT_MERGE_OK);
	n_events = 0;
}

/* Peer 2 declared failed locally at t=FAIL_MS, events cleared. */
static void fail2(void)
{
	join2();
	ft_membership_check(mb, FAIL_MS);
	ck_assert_int_eq(events[0].type, FT_EV_FAILED);
	n_events = 0;
}

/* ---- construction and accessors ---- */

/* Deterministic random source for target selection. */
static uint32_t lcg(void *ud)
{
	uint64_t *s = ud;
	*s = *s * 6364136223846793005ull + 1442695040888963407ull;
	return (uint32_t)(*s >> 33);
}

START_TEST(new_rejects_bad_conf)
{
	struct ft_membership_conf c = { .self_id = 1,
					.fail_ms = 1000,
					.cleanup_ms = 1000,
					.allowed_ids = allowed,
					.n_allowed = 5 };
	struct ft_membership_conf bad = c;
	bad.self_id = 65536;
	ck_assert_ptr_null(ft_membership_new(&bad, NULL, NULL));
	bad = c;
	bad.self_id = -1;
	ck_assert_ptr_null(ft_membership_new(&bad, NULL, NULL));
	bad = c;
	bad.fail_ms = 0;
	ck_assert_ptr_null(ft_membership_new(&bad, NULL, NULL));
	bad = c;
	bad.cleanup_ms = -1;
	ck_assert_ptr_null(ft_membership_new(&bad, NULL, NULL));
	bad = c;
	bad.allowed_ids = NULL;
	ck_assert_ptr_null(ft_membership_new(&bad, NULL, NULL));
	static const int out_of_range[] = { 1, 2, 70000 };
	bad = c;
	bad.allowed_ids = out_of_range;
	bad.n_allowed = 3;
	ck_assert_ptr_null(ft_membership_new(&bad, NULL, NULL));
	ck_assert_ptr_null(ft_membership_new(NULL, NULL, NULL));
	ft_membership_free(NULL);

	/* No callback is fine; duplicates and self in the list are tolerated. */
	static const int dups[] = { 3, 1, 3, 2, 2 };
	c.allowed_ids = dups;
	struct ft_membership *m = ft_membership_new(&c, NULL, NULL);
	ck_assert_ptr_nonnull(m);
	int out[8];
	uint64_t seed = 1;
	size_t n = ft_membership_pick_targets(m, out, 8, lcg, &seed);
	ck_assert_uint_eq(n, 2);
	ck_assert_int_eq(out[0] + out[1], 5);
	ft_membership_free(m);
}
END_TEST

START_TEST(fresh_state)
{
	ck_assert_uint_eq(ft_membership_count(mb), 0);
	ck_assert_ptr_null(ft_membership_at(mb, 0));
	ck_assert_uint_eq(ft_membership_self_incarnation(mb), SELF_INC);
	ck_assert_uint_eq(ft_membership_self_heartbeat(mb), 0);
	const struct ft_member *me = ft_membership_get(mb, SELF);
	ck_assert_ptr_nonnull(me);
	ck_assert_int_eq(me->id, SELF);
	ck_assert_int_eq(me->state, FT_MEMBER_ALIVE);
	ck_assert(ft_membership_alive(mb, SELF));
	ck_assert(!ft_membership_alive(mb, 2));
	ck_assert_ptr_null(ft_membership_get(mb, 2));
	ck_assert_ptr_null(ft_membership_get(mb, 9));
	ck_assert(!ft_membership_life_failed(mb, 2, 200));

	ft_membership_tick(mb, 10);
	ft_membership_tick(mb, 20);
	ck_assert_uint_eq(ft_membership_self_heartbeat(mb), 2);
	ck_assert_uint_eq(ft_membership_get(mb, SELF)->heartbeat, 2);
	ck_assert_uint_eq(n_events, 0);
}
END_TEST

/* ---- join and update ---- */

START_TEST(join)
{
	ck_assert_int_eq(merge(hello(2, 200, 5), 40), FT_MERGE_OK);
	ck_assert_uint_eq(n_events, 1);
	assert_event(0, FT_EV_JOINED, 2, 2, 200, 40);
	ck_assert_uint_eq(events[0].heartbeat, 5);

	const struct ft_member *p = ft_membership_get(mb, 2);
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_eq(p->incarnation, 200);
	ck_assert_uint_eq(p->heartbeat, 5);
	ck_assert_int_eq(p->last_rise_ms, 40);
	ck_assert_int_eq(p->state, FT_MEMBER_ALIVE);
	ck_assert(ft_membership_alive(mb, 2));
	ck_assert_uint_eq(ft_membership_count(mb), 1);
	ck_assert_ptr_eq(ft_membership_at(mb, 0), p);
}
END_TEST

START_TEST(join_second_hand_in_message_order)
{
	struct ft_gossip_msg *m = hello(2, 200, 5);
	with(m, 4, 400, 9, FT_MEMBER_ALIVE);
	with(m, 0, 7, 1, FT_MEMBER_ALIVE);
	ck_assert_int_eq(merge(m, 0), FT_MERGE_OK);
	ck_assert_uint_eq(n_events, 3);
	assert_event(0, FT_EV_JOINED, 2, 2, 200, 0);
	assert_event(1, FT_EV_JOINED, 4, 2, 400, 0);
	assert_event(2, FT_EV_JOINED, 0, 2, 7, 0);

	/* Iteration is in ID order whatever the arrival order. */
	ck_assert_uint_eq(ft_membership_count(mb), 3);
	ck_assert_int_eq(ft_membership_at(mb, 0)->id, 0);
	ck_assert_int_eq(ft_membership_at(mb, 1)->id, 2);
	ck_assert_int_eq(ft_membership_at(mb, 2)->id, 4);
	ck_assert_ptr_null(ft_membership_at(mb, 3));
}
END_TEST

START_TEST(update_only_on_rise)
{
	join2();
	ck_assert_int_eq(merge(hello(2, 200, 6), 300), FT_MERGE_OK);
	ck_assert_uint_eq(n_events, 1);
	assert_event(0, FT_EV_UPDATED, 2, 2, 200, 300);
	ck_assert_uint_eq(events[0].heartbeat, 6);
	ck_assert_int_eq(ft_membership_get(mb, 2)->last_rise_ms, 300);

	/* Equal or lower counters are no news. */
	merge(hello(2, 200, 6), 400);
	merge(hello(2, 200, 3), 500);
	ck_assert_uint_eq(n_events, 1);
	ck_assert_uint_eq(ft_membership_get(mb, 2)->heartbeat, 6);
	ck_assert_int_eq(ft_membership_get(mb, 2)->last_rise_ms, 300);

	/* Second-hand rises count, with the relaying member as source. */
	merge(with(hello(3, 300, 1), 2, 200, 10, FT_MEMBER_ALIVE), 600);
	ck_assert_uint_eq(n_events, 3);
	assert_event(1, FT_EV_JOINED, 3, 3, 300, 600);
	assert_event(2, FT_EV_UPDATED, 2, 3, 200, 600);

	/* An older life's entry is ignored. */
	merge(hello(2, 150, 99), 700);
	ck_assert_uint_eq(n_events, 3);
	ck_assert_uint_eq(ft_membership_get(mb, 2)->incarnation, 200);
}
END_TEST

/* ---- failure detection ---- */

START_TEST(fails_at_fail_ms_exactly)
{
	join2();
	ft_membership_check(mb, FAIL_MS - 1);
	ft_membership_tick(mb, FAIL_MS - 1);
	ck_assert_uint_eq(n_events, 0);
	ck_assert(ft_membership_alive(mb, 2));

	ft_membership_tick(mb, FAIL_MS);
	ck_assert_uint_eq(n_events, 1);
	assert_event(0, FT_EV_FAILED, 2, SELF, 200, FAIL_MS);
	const struct ft_member *p = ft_membership_get(mb, 2);
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(p->state, FT_MEMBER_FAILED);
	ck_assert_int_eq(p->failed_at_ms, FAIL_MS);
	ck_assert(!ft_membership_alive(mb, 2));
	ck_assert(ft_membership_life_failed(mb, 2, 200));
	ck_assert(!ft_membership_life_failed(mb, 2, 201));

	/* Declared once only. */
	ft_membership_check(mb, FAIL_MS + 1);
	ck_assert_uint_eq(n_events, 1);
}
END_TEST

START_TEST(rise_postpones_failure)
{
	join2();
	merge(hello(2, 200, 6), 500);
	ft_membership_check(mb, 500 + FAIL_MS - 1);
	ck_assert_uint_eq(n_events, 1);
	ft_membership_check(mb, 500 + FAIL_MS);
	ck_assert_uint_eq(n_events, 2);
	assert_event(1, FT_EV_FAILED, 2, SELF, 200, 500 + FAIL_MS);
}
END_TEST

START_TEST(clock_going_backwards_fails_nothing)
{
	join2();
	ft_membership_check(mb, -100000);
	ck_assert_uint_eq(n_events, 0);
}
END_TEST

START_TEST(checks_in_id_order)
{
	struct ft_gossip_msg *m = hello(4, 400, 1);
	with(m, 2, 200, 1, FT_MEMBER_ALIVE);
	with(m, 3, 300, 1, FT_MEMBER_ALIVE);
	merge(m, 0);
	n_events = 0;
	ft_membership_check(mb, FAIL_MS);
	ck_assert_uint_eq(n_events, 3);
	assert_event(0, FT_EV_FAILED, 2, SELF, 200, FAIL_MS);
	assert_event(1, FT_EV_FAILED, 3, SELF, 300, FAIL_MS);
	assert_event(2, FT_EV_FAILED, 4, SELF, 400, FAIL_MS);
}
END_TEST

START_TEST(second_hand_failure)
{
	join2();
	merge(hello(3, 300, 1), 0);
	n_events = 0;
	/* Same incarnation as we hold alive: failed, source is the relay. */
	ck_assert_int_eq(merge(with(hello(3, 300, 2), 2, 200, 5, FT_MEMBER_FAILED), 100),
			 FT_MERGE_OK);
	ck_assert_uint_eq(n_events, 2);
	assert_event(0, FT_EV_UPDATED, 3, 3, 300, 100);
	assert_event(1, FT_EV_FAILED, 2, 3, 200, 100);
	ck_assert(!ft_membership_alive(mb, 2));
	ck_assert_int_eq(ft_membership_get(mb, 2)->failed_at_ms, 100);
	ck_assert(ft_membership_life_failed(mb, 2, 200));

	/* Repeated news raises nothing. */
	merge(with(hello(3, 300, 2), 2, 200, 5, FT_MEMBER_FAILED), 200);
	ck_assert_uint_eq(n_events, 2);
}
END_TEST

START_TEST(failed_news_about_older_life_ignored)
{
	join2();
	merge(with(hello(3, 300, 1), 2, 150, 5, FT_MEMBER_FAILED), 100);
	ck_assert_uint_eq(n_events, 1); /* JOINED 3 */
	ck_assert(ft_membership_alive(mb, 2));
	ck_assert(!ft_membership_life_failed(mb, 2, 200));
}
END_TEST

START_TEST(failed_news_about_newer_life)
{
	join2();
	/* 2 restarted (inc 250) and that life failed too, before we heard of it. */
	merge(with(hello(3, 300, 1), 2, 250, 7, FT_MEMBER_FAILED), 100);
	ck_assert_uint_eq(n_events, 2);
	assert_event(1, FT_EV_FAILED, 2, 3, 250, 100);
	const struct ft_member *p = ft_membership_get(mb, 2);
	ck_assert_int_eq(p->state, FT_MEMBER_FAILED);
	ck_assert_uint_eq(p->incarnation, 250);
	ck_assert(ft_membership_life_failed(mb, 2, 200));
	ck_assert(ft_membership_life_failed(mb, 2, 250));

	/* Neither life is believed again. */
	ck_assert_int_eq(merge(hello(2, 200, 50), 200), FT_MERGE_REJECT_FAILED_SENDER);
	ck_assert_int_eq(merge(hello(2, 250, 50), 200), FT_MERGE_REJECT_FAILED_SENDER);
	ck_assert_uint_eq(n_events, 2);
}
END_TEST

START_TEST(failed_news_about_unknown_member)
{
	merge(with(hello(3, 300, 1), 4, 400, 7, FT_MEMBER_FAILED), 0);
	ck_assert_uint_eq(n_events, 1); /* JOINED 3 only */
	ck_assert_ptr_null(ft_membership_get(mb, 4));
	ck_assert(ft_membership_life_failed(mb, 4, 400));

	/* A laggard relaying that life as alive is not believed ... */
	merge(with(hello(2, 200, 1), 4, 400, 8, FT_MEMBER_ALIVE), 10);
	ck_assert_uint_eq(n_events, 2); /* JOINED 2 only */
	ck_assert_ptr_null(ft_membership_get(mb, 4));
	/* ... but a new life is, and it is its first time in the table. */
	merge(hello(4, 401, 1), 20);
	ck_assert_uint_eq(n_events, 3);
	assert_event(2, FT_EV_JOINED, 4, 4, 401, 20);
}
END_TEST

/* ---- cleanup and tombstones ---- */

START_TEST(cleanup_after_cleanup_ms)
{
	fail2();
	/* Failed entries stay (and are gossiped) until cleanup. */
	ft_membership_check(mb, FAIL_MS + CLEANUP_MS - 1);
	ck_assert_uint_eq(n_events, 0);
	ck_assert_uint_eq(ft_membership_count(mb), 1);

	ft_membership_check(mb, FAIL_MS + CLEANUP_MS);
	ck_assert_uint_eq(n_events, 1);
	assert_event(0, FT_EV_CLEANUP, 2, SELF, 200, FAIL_MS + CLEANUP_MS);
	ck_assert_ptr_null(ft_membership_get(mb, 2));
	ck_assert_uint_eq(ft_membership_count(mb), 0);
	ck_assert(!ft_membership_alive(mb, 2));
	ck_assert(ft_membership_life_failed(mb, 2, 200));

	ft_membership_check(mb, 10 * CLEANUP_MS);
	ck_assert_uint_eq(n_events, 1);
}
END_TEST

START_TEST(zero_cleanup_fails_then_cleans)
{
	ft_membership_free(mb);
	mb = make(allowed, 5, 0);
	join2();
	ft_membership_check(mb, FAIL_MS);
	ck_assert_uint_eq(n_events, 2);
	assert_event(0, FT_EV_FAILED, 2, SELF, 200, FAIL_MS);
	assert_event(1, FT_EV_CLEANUP, 2, SELF, 200, FAIL_MS);
}
END_TEST

START_TEST(tombstone_rejects_old_life)
{
	fail2();
	/* Its datagrams are refused whole: nothing in them is believed. */
	struct ft_gossip_msg *m = hello(2, 200, 77);
	with(m, 3, 300, 1, FT_MEMBER_ALIVE);
	ck_assert_int_eq(merge(m, 1100), FT_MERGE_REJECT_FAILED_SENDER);
	ck_assert_int_eq(merge(hello(2, 150, 77), 1100), FT_MERGE_REJECT_FAILED_SENDER);
	ck_assert_uint_eq(n_events, 0);
	ck_assert_ptr_null(ft_membership_get(mb, 3));
	ck_assert_int_eq(ft_membership_get(mb, 2)->state, FT_MEMBER_FAILED);

	/* Relayed as alive by someone else: ignored, not resurrected. */
	merge(with(hello(3, 300, 1), 2, 200, 78, FT_MEMBER_ALIVE), 1200);
	ck_assert_uint_eq(n_events, 1);
	ck_assert_int_eq(ft_membership_get(mb, 2)->state, FT_MEMBER_FAILED);
	ck_assert_uint_eq(ft_membership_get(mb, 2)->heartbeat, 5);

	/* Still so after cleanup. */
	merge(hello(3, 300, 2), FAIL_MS + CLEANUP_MS - 100);
	n_events = 0;
	ft_membership_check(mb, FAIL_MS + CLEANUP_MS);
	ck_assert_int_eq(merge(hello(2, 200, 79), 7000), FT_MERGE_REJECT_FAILED_SENDER);
	merge(with(hello(3, 300, 3), 2, 200, 80, FT_MEMBER_ALIVE), 7000);
	ck_assert_uint_eq(n_events, 2); /* CLEANUP 2, UPDATED 3 */
	assert_event(0, FT_EV_CLEANUP, 2, SELF, 200, FAIL_MS + CLEANUP_MS);
	assert_event(1, FT_EV_UPDATED, 3, 3, 300, 7000);
	ck_assert_ptr_null(ft_membership_get(mb, 2));
}
END_TEST

/* ---- rejoin ---- */

START_TEST(rejoin_before_cleanup)
{
	fail2();
	ck_assert_int_eq(merge(hello(2, 201, 0), 2000), FT_MERGE_OK);
	ck_assert_uint_eq(n_events, 1);
	assert_event(0, FT_EV_REJOINED, 2, 2, 201, 2000);
	const struct ft_member *p = ft_membership_get(mb, 2);
	ck_assert_int_eq(p->state, FT_MEMBER_ALIVE);
	ck_assert_uint_eq(p->heartbeat, 0);
	ck_assert_int_eq(p->last_rise_ms, 2000);
	ck_assert(ft_membership_alive(mb, 2));
	ck_assert(ft_membership_life_failed(mb, 2, 200));
	ck_assert(!ft_membership_life_failed(mb, 2, 201));

	/* The new life is watched from its rejoin time. */
	ft_membership_check(mb, 2000 + FAIL_MS - 1);
	ck_assert_uint_eq(n_events, 1);
	ft_membership_check(mb, 2000 + FAIL_MS);
	assert_event(1, FT_EV_FAILED, 2, SELF, 201, 2000 + FAIL_MS);
}
END_TEST

START_TEST(rejoin_after_cleanup)
{
	fail2();
	ft_membership_check(mb, FAIL_MS + CLEANUP_MS);
	n_events = 0;
	/* Learned second-hand; still a rejoin, since the ID was known. */
	merge(with(hello(3, 300, 1), 2, 900, 4, FT_MEMBER_ALIVE), 8000);
	ck_assert_uint_eq(n_events, 2);
	assert_event(1, FT_EV_REJOINED, 2, 3, 900, 8000);
	ck_assert(ft_membership_alive(mb, 2));
	ck_assert_uint_eq(ft_membership_count(mb), 2);
}
END_TEST

START_TEST(restart_while_alive)
{
	join2();
	/* Restarted faster than fail_ms: the higher incarnation supersedes. */
	merge(hello(2, 210, 0), 300);
	ck_assert_uint_eq(n_events, 1);
	assert_event(0, FT_EV_REJOINED, 2, 2, 210, 300);
	ck_assert_uint_eq(ft_membership_get(mb, 2)->heartbeat, 0);
	/* The old life was superseded, not failed; its late datagrams are stale. */
	ck_assert(!ft_membership_life_failed(mb, 2, 200));
	ck_assert_int_eq(merge(hello(2, 200, 99), 400), FT_MERGE_OK);
	ck_assert_uint_eq(n_events, 1);
	ck_assert_uint_eq(ft_membership_get(mb, 2)->incarnation, 210);
}
END_TEST

/* ---- about ourselves ---- */

START_TEST(self_rejoin_takes_clock_incarnation)
{
	ft_membership_tick(mb, 10);
	merge(with(hello(2, 200, 1), SELF, SELF_INC, 1, FT_MEMBER_FAILED), 5000);
	ck_assert_uint_eq(n_events, 2);
	assert_event(1, FT_EV_SELF_REJOIN, SELF, 2, 5000, 5000);
	ck_assert_uint_eq(ft_membership_self_incarnation(mb), 5000);
	ck_assert_uint_eq(ft_membership_get(mb, SELF)->incarnation, 5000);
	ck_assert(ft_membership_life_failed(mb, SELF, SELF_INC));
	ck_assert(ft_membership_alive(mb, SELF));

	/* The news about the old life is now stale. */
	merge(with(hello(2, 200, 2), SELF, SELF_INC, 1, FT_MEMBER_FAILED), 6000);
	ck_assert_uint_eq(n_events, 3); /* UPDATED 2 only */
	ck_assert_uint_eq(ft_membership_self_incarnation(mb), 5000);

	ft_membership_snapshot(mb, &msg, 6000);
	ck_assert_uint_eq(msg.sender_incarnation, 5000);
	ck_assert_uint_eq(msg.e[0].incarnation, 5000);
}
END_TEST

START_TEST(self_rejoin_at_least_plus_one)
{
	merge(with(hello(2, 200, 1), SELF, SELF_INC, 1, FT_MEMBER_FAILED), 50);
	ck_assert_uint_eq(ft_membership_self_incarnation(mb), SELF_INC + 1);
	assert_event(1, FT_EV_SELF_REJOIN, SELF, 2, SELF_INC + 1, 50);
}
END_TEST

START_TEST(self_entries_otherwise_ignored)
{
	ft_membership_tick(mb, 10);
	struct ft_gossip_msg *m = hello(2, 200, 1);
	with(m, SELF, SELF_INC, 999, FT_MEMBER_ALIVE);
	with(m, SELF + 0, 0, 0, FT_MEMBER_ALIVE); /* duplicate: merge must cope */
	merge(m, 100);
	merge(with(hello(2, 200, 2), SELF, SELF_INC - 1, 1, FT_MEMBER_FAILED), 200);
	merge(with(hello(2, 200, 3), SELF, SELF_INC + 50, 1, FT_MEMBER_ALIVE), 300);
	ck_assert_uint_eq(n_events, 3); /* JOINED 2, UPDATED 2 x2 */
	ck_assert_uint_eq(ft_membership_self_incarnation(mb), SELF_INC);
	ck_assert_uint_eq(ft_membership_self_heartbeat(mb), 1);
	ck_assert_uint_eq(ft_membership_count(mb), 1);
}
END_TEST

START_TEST(self_failed_at_higher_incarnation)
{
	/* Peers failed a life of ours above the current one (e.g. we restarted
	 * with a clock that went backwards): only a still higher one is
	 * accepted by them, so take it. */
	merge(with(hello(2, 200, 1), SELF, SELF_INC + 500, 1, FT_MEMBER_FAILED), 10);
	assert_event(1, FT_EV_SELF_REJOIN, SELF, 2, SELF_INC + 501, 10);
}
END_TEST

START_TEST(failed_sender_still_tells_us_we_failed)
{
	/* Symmetric partition: we failed 2, 2 failed us.  2's datagrams are
	 * refused, but the news that we are failed must get through, or the
	 * two sides would never talk again. */
	fail2();
	struct ft_gossip_msg *m = hello(2, 200, 60);
	with(m, 3, 300, 1, FT_MEMBER_ALIVE);
	with(m, SELF, SELF_INC, 3, FT_MEMBER_FAILED);
	ck_assert_int_eq(merge(m, 3000), FT_MERGE_REJECT_FAILED_SENDER);
	ck_assert_uint_eq(n_events, 1);
	assert_event(0, FT_EV_SELF_REJOIN, SELF, 2, 3000, 3000);
	ck_assert_ptr_null(ft_membership_get(mb, 3));
}
END_TEST

/* ---- rejected senders ---- */

START_TEST(reject_unknown_sender)
{
	ck_assert_int_eq(merge(hello(9, 900, 1), 0), FT_MERGE_REJECT_UNKNOWN_SENDER);
	ck_assert_int_eq(merge(hello(70000, 1, 1), 0), FT_MERGE_REJECT_UNKNOWN_SENDER);
	ck_assert_int_eq(merge(with(hello(9, 900, 1), SELF, SELF_INC, 0, FT_MEMBER_FAILED), 0),
			 FT_MERGE_REJECT_UNKNOWN_SENDER);
	ck_assert_uint_eq(n_events, 0);
	ck_assert_uint_eq(ft_membership_self_incarnation(mb), SELF_INC);

	/* Entries about unconfigured IDs are dropped, the rest is merged. */
	struct ft_gossip_msg *m = hello(2, 200, 1);
	with(m, 9, 900, 1, FT_MEMBER_ALIVE);
	with(m, 65535, 1, 1, FT_MEMBER_ALIVE);
	with(m, 3, 300, 1, FT_MEMBER_ALIVE);
	ck_assert_int_eq(merge(m, 0), FT_MERGE_OK);
	ck_assert_uint_eq(n_events, 2);
	assert_event(1, FT_EV_JOINED, 3, 2, 300, 0);
	ck_assert_ptr_null(ft_membership_get(mb, 9));
}
END_TEST

START_TEST(reject_self_spoof)
{
	struct ft_gossip_msg *m = hello(SELF, SELF_INC, 1000);
	with(m, 2, 200, 1, FT_MEMBER_ALIVE);
	with(m, SELF, SELF_INC, 1, FT_MEMBER_FAILED);
	ck_assert_int_eq(merge(m, 0), FT_MERGE_REJECT_SELF);
	ck_assert_uint_eq(n_events, 0);
	ck_assert_uint_eq(ft_membership_count(mb), 0);
	ck_assert_uint_eq(ft_membership_self_incarnation(mb), SELF_INC);
}
END_TEST

/* ---- snapshot ---- */

START_TEST(snapshot_contents)
{
	ft_membership_snapshot(mb, &msg, 5);
	ck_assert_uint_eq(msg.n, 1);

	struct ft_gossip_msg *m = hello(4, 400, 9);
	with(m, 3, 300, 8, FT_MEMBER_ALIVE);
	with(m, 0, 7, 6, FT_MEMBER_ALIVE);
	merge(m, 0);
	ft_membership_tick(mb, 500);
	merge(hello(4, 400, 10), 600);
	merge(hello(0, 7, 7), 600);
	ft_membership_tick(mb, FAIL_MS); /* 3 fails */
	ft_membership_tick(mb, FAIL_MS + 1);

	ft_membership_snapshot(mb, &msg, 1234);
	ck_assert_uint_eq(msg.sender, SELF);
	ck_assert_uint_eq(msg.sender_incarnation, SELF_INC);
	ck_assert_uint_eq(msg.sent_ms, 1234);
	ck_assert_uint_eq(msg.n, 4);
	static const struct ft_gossip_entry want[] = {
		{ SELF, SELF_INC, 3, FT_MEMBER_ALIVE },
		{ 0, 7, 7, FT_MEMBER_ALIVE },
		{ 3, 300, 8, FT_MEMBER_FAILED },
		{ 4, 400, 10, FT_MEMBER_ALIVE },
	};
	for (size_t i = 0; i < 4; i++) {
		ck_assert_uint_eq(msg.e[i].id, want[i].id);
		ck_assert_uint_eq(msg.e[i].incarnation, want[i].incarnation);
		ck_assert_uint_eq(msg.e[i].heartbeat, want[i].heartbeat);
		ck_assert_uint_eq(msg.e[i].state, want[i].state);
	}

	/* It is a valid datagram. */
	uint8_t buf[FT_GOSSIP_MAX_BYTES];
	ssize_t len = ft_gossip_encode(&msg, &test_key, buf, sizeof buf);
	ck_assert_int_gt(len, 0);
	struct ft_gossip_msg back;
	ck_assert_int_eq(ft_gossip_decode(buf, (size_t)len, &test_key, 1, &back, NULL), 0);

	/* After cleanup the failed entry is no longer sent. */
	ft_membership_check(mb, FAIL_MS + CLEANUP_MS);
	ft_membership_snapshot(mb, &msg, 9999);
	ck_assert_uint_eq(msg.n, 3);
	ck_assert_uint_eq(msg.e[2].id, 4);
}
END_TEST

START_TEST(snapshot_for_tells_target_it_failed)
{
	fail2();
	merge(hello(3, 300, 1), 1100);
	/* Before cleanup the failed entry is in every snapshot anyway. */
	ft_membership_snapshot_for(mb, &msg, 1200, 2);
	ck_assert_uint_eq(msg.n, 3);
	ck_assert_uint_eq(msg.e[1].id, 2);
	ck_assert_uint_eq(msg.e[1].state, FT_MEMBER_FAILED);

	ft_membership_check(mb, FAIL_MS + CLEANUP_MS);
	ft_membership_snapshot_for(mb, &msg, 7000, 2);
	ck_assert_uint_eq(msg.n, 3);
	ck_assert_uint_eq(msg.e[2].id, 2);
	ck_assert_uint_eq(msg.e[2].incarnation, 200);
	ck_assert_uint_eq(msg.e[2].state, FT_MEMBER_FAILED);

	/* Only to that target. */
	ft_membership_snapshot_for(mb, &msg, 7000, 3);
	ck_assert_uint_eq(msg.n, 2);
	ft_membership_snapshot_for(mb, &msg, 7000, 4);
	ck_assert_uint_eq(msg.n, 2);
	ft_membership_snapshot_for(mb, &msg, 7000, 99);
	ck_assert_uint_eq(msg.n, 2);

	/* The cleaned-up member, still running its old life, gets the news. */
	int ids[] = { 0, 1, 2, 3 };
	struct ft_membership_conf c2 = {
		.self_id = 2,
		.self_incarnation = 200,
		.fail_ms = FAIL_MS,
		.cleanup_ms = CLEANUP_MS,
		.allowed_ids = ids,
		.n_allowed = 4,
	};
	struct ft_membership *other = ft_membership_new(&c2, NULL, NULL);
	ck_assert_ptr_nonnull(other);
	ft_membership_snapshot_for(mb, &msg, 7000, 2);
	ck_assert_int_eq(ft_membership_merge(other, &msg, 7000), FT_MERGE_OK);
	ck_assert_uint_eq(ft_membership_self_incarnation(other), 7000);
	ft_membership_free(other);
}
END_TEST

static int *range_ids(int lo, int hi, size_t *n)
{
	int *ids = malloc(sizeof *ids * (size_t)(hi - lo + 1));
	*n = 0;
	for (int id = lo; id <= hi; id++)
		ids[(*n)++] = id;
	return ids;
}

START_TEST(snapshot_larger_than_a_datagram)
{
	/* 256 nodes plus the gateway: one more member than a datagram holds. */
	size_t n_ids;
	int *ids = range_ids(0, 256, &n_ids);
	ft_membership_free(mb);
	mb = make(ids, n_ids, CLEANUP_MS);
	for (uint32_t base = 0; base <= 256; base += 100) {
		struct ft_gossip_msg *m = hello(2, 2, 1);
		for (uint32_t id = base; id < base + 100 && id <= 256; id++)
			if (id != SELF && id != 2)
				with(m, id, id, 1, FT_MEMBER_ALIVE);
		ck_assert_int_eq(merge(m, 0), FT_MERGE_OK);
	}
	ck_assert_uint_eq(ft_membership_count(mb), 256);

	/* Every snapshot is full and valid; over time everyone is included. */
	bool seen[257] = { false };
	for (int64_t now = 0; now < 300; now++) {
		ft_membership_snapshot(mb, &msg, now);
		ck_assert_uint_eq(msg.n, FT_GOSSIP_MAX_ENTRIES);
		ck_assert_uint_eq(msg.e[0].id, SELF);
		uint8_t buf[FT_GOSSIP_MAX_BYTES];
		ssize_t len = ft_gossip_encode(&msg, &test_key, buf, sizeof buf);
		ck_assert_int_gt(len, 0);
		struct ft_gossip_msg back;
		ck_assert_int_eq(ft_gossip_decode(buf, (size_t)len, &test_key, 1, &back, NULL), 0);
		for (size_t i = 0; i < msg.n; i++)
			seen[msg.e[i].id] = true;
	}
	for (int id = 0; id <= 256; id++)
		ck_assert_msg(seen[id], "member %d never gossiped", id);
	free(ids);
}
END_TEST

/* ---- target selection ---- */

/* Distinct, allowed, never self. */
static void assert_valid_targets(const int *out, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		ck_assert_int_ne(out[i], SELF);
		ck_assert(out[i] >= 0 && out[i] <= 4);
		for (size_t j = 0; j < i; j++)
			ck_assert_int_ne(out[i], out[j]);
	}
}

START_TEST(pick_basic_properties)
{
	uint64_t seed = 42;
	int out[8];
	ck_assert_uint_eq(ft_membership_pick_targets(mb, out, 0, lcg, &seed), 0);

	/* Unknown members are candidates too: that is how first contact happens. */
	int hits[5] = { 0 };
	for (int round = 0; round < 1000; round++) {
		size_t n = ft_membership_pick_targets(mb, out, 2, lcg, &seed);
		ck_assert_uint_eq(n, 2);
		assert_valid_targets(out, n);
		for (size_t i = 0; i < n; i++)
			hits[out[i]]++;
	}
	ck_assert_int_eq(hits[SELF], 0);
	for (int id = 0; id <= 4; id++)
		if (id != SELF)
			ck_assert_msg(hits[id] > 350, "member %d picked %d/1000 times", id,
				      hits[id]);

	/* Asking for more than exist gives each once. */
	size_t n = ft_membership_pick_targets(mb, out, 8, lcg, &seed);
	ck_assert_uint_eq(n, 4);
	assert_valid_targets(out, n);
}
END_TEST

START_TEST(pick_is_deterministic)
{
	int a[3], b[3];
	for (uint64_t s = 0; s < 50; s++) {
		uint64_t s1 = s, s2 = s;
		size_t na = ft_membership_pick_targets(mb, a, 3, lcg, &s1);
		size_t nb = ft_membership_pick_targets(mb, b, 3, lcg, &s2);
		ck_assert_uint_eq(na, nb);
		ck_assert_mem_eq(a, b, na * sizeof a[0]);
	}
}
END_TEST

START_TEST(pick_prefers_live_but_sometimes_failed)
{
	fail2();
	uint64_t seed = 7;
	int out[2];
	int with_failed = 0;
	for (int round = 0; round < 2000; round++) {
		size_t n = ft_membership_pick_targets(mb, out, 2, lcg, &seed);
		ck_assert_uint_eq(n, 2);
		assert_valid_targets(out, n);
		with_failed += out[0] == 2 || out[1] == 2;
	}
	/* About one call in four. */
	ck_assert_msg(with_failed > 350 && with_failed < 650, "failed member in %d/2000",
		      with_failed);

	/* After cleanup it is an ordinary candidate again. */
	ft_membership_check(mb, FAIL_MS + CLEANUP_MS);
	ck_assert_ptr_null(ft_membership_get(mb, 2));
	with_failed = 0;
	for (int round = 0; round < 2000; round++) {
		ft_membership_pick_targets(mb, out, 2, lcg, &seed);
		with_failed += out[0] == 2 || out[1] == 2;
	}
	ck_assert_int_gt(with_failed, 800);
}
END_TEST

START_TEST(pick_falls_back_to_failed)
{
	struct ft_gossip_msg *m = hello(2, 200, 1);
	with(m, 3, 300, 1, FT_MEMBER_ALIVE);
	with(m, 4, 400, 1, FT_MEMBER_ALIVE);
	with(m, 0, 1, 1, FT_MEMBER_ALIVE);
	merge(m, 0);
	merge(hello(4, 400, 2), 500);
	ft_membership_check(mb, FAIL_MS); /* all but 4 failed */
	uint64_t seed = 1;
	int out[4];
	for (int round = 0; round < 200; round++) {
		size_t n = ft_membership_pick_targets(mb, out, 1, lcg, &seed);
		ck_assert_uint_eq(n, 1);
		/* k=1: mostly the live one, sometimes one failed. */
		n = ft_membership_pick_targets(mb, out, 3, lcg, &seed);
		ck_assert_uint_eq(n, 3);
		assert_valid_targets(out, n);
		bool has4 = false;
		for (size_t i = 0; i < n; i++)
			has4 |= out[i] == 4;
		ck_assert(has4);
	}

	/* Nobody alive: failed members are still tried. */
	ft_membership_check(mb, 500 + FAIL_MS);
	ck_assert_uint_eq(ft_membership_pick_targets(mb, out, 2, lcg, &seed), 2);
	assert_valid_targets(out, 2);
}
END_TEST

START_TEST(pick_alone)
{
	static const int only_me[] = { SELF };
	ft_membership_free(mb);
	mb = make(only_me, 1, CLEANUP_MS);
	uint64_t seed = 3;
	int out[2];
	ck_assert_uint_eq(ft_membership_pick_targets(mb, out, 2, lcg, &seed), 0);
}
END_TEST

START_TEST(stall_moves_timers_not_past_now)
{
	join2(); /* 2 rose at t=0 */
	ft_membership_stalled(mb, 900, 950);
	ck_assert_int_eq(ft_membership_get(mb, 2)->last_rise_ms, 900);
	ft_membership_check(mb, 1500);
	ck_assert_uint_eq(n_events, 0);
	ft_membership_stalled(mb, 5000, 1600); /* capped at now */
	ck_assert_int_eq(ft_membership_get(mb, 2)->last_rise_ms, 1600);
	ft_membership_stalled(mb, -5, 1700); /* no-op */
	ck_assert_int_eq(ft_membership_get(mb, 2)->last_rise_ms, 1600);
	ft_membership_check(mb, 2600);
	assert_event(0, FT_EV_FAILED, 2, SELF, 200, 2600);
}
END_TEST

static Suite *membership_suite(void)
{
	Suite *s = suite_create("gossip membership");
	TCase *tc = tcase_create("table");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, new_rejects_bad_conf);
	tcase_add_test(tc, fresh_state);
	tcase_add_test(tc, join);
	tcase_add_test(tc, join_second_hand_in_message_order);
	tcase_add_test(tc, update_only_on_rise);
	suite_add_tcase(s, tc);

	tc = tcase_create("failure");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, fails_at_fail_ms_exactly);
	tcase_add_test(tc, rise_postpones_failure);
	tcase_add_test(tc, clock_going_backwards_fails_nothing);
	tcase_add_test(tc, checks_in_id_order);
	tcase_add_test(tc, second_hand_failure);
	tcase_add_test(tc, failed_news_about_older_life_ignored);
	tcase_add_test(tc, failed_news_about_newer_life);
	tcase_add_test(tc, failed_news_about_unknown_member);
	tcase_add_test(tc, cleanup_after_cleanup_ms);
	tcase_add_test(tc, zero_cleanup_fails_then_cleans);
	tcase_add_test(tc, tombstone_rejects_old_life);
	tcase_add_test(tc, stall_moves_timers_not_past_now);
	suite_add_tcase(s, tc);
	tc = tcase_create("rejoin");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, rejoin_before_cleanup);
	tcase_add_test(tc, rejoin_after_cleanup);
	tcase_add_test(tc, restart_while_alive);
	tcase_add_test(tc, self_rejoin_takes_clock_incarnation);
	tcase_add_test(tc, self_rejoin_at_least_plus_one);
	tcase_add_test(tc, self_entries_otherwise_ignored);
	tcase_add_test(tc, self_failed_at_higher_incarnation);
	tcase_add_test(tc, failed_sender_still_tells_us_we_failed);
	suite_add_tcase(s, tc);

	tc = tcase_create("senders");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, reject_unknown_sender);
	tcase_add_test(tc, reject_self_spoof);
	suite_add_tcase(s, tc);

	tc = tcase_create("snapshot");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, snapshot_contents);
	tcase_add_test(tc, snapshot_for_tells_target_it_failed);
	tcase_add_test(tc, snapshot_larger_than_a_datagram);
	suite_add_tcase(s, tc);

	tc = tcase_create("targets");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, pick_basic_properties);
	tcase_add_test(tc, pick_is_deterministic);
	tcase_add_test(tc, pick_prefers_live_but_sometimes_failed);
	tcase_add_test(tc, pick_falls_back_to_failed);
	tcase_add_test(tc, pick_alone);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(membership_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
