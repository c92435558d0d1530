/* libFuzzer harness for the gossip codec and membership merge.
 *
 * Arbitrary bytes are decoded; whatever decodes must re-encode to the very
 * same bytes (the format is canonical), and is then merged into membership
 * tables whose IDs overlap the small numbers a fuzzer finds first, so the
 * join / update / fail / rejoin paths are all reachable.  Invariants are
 * checked with abort() so libFuzzer reports them as crashes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gossip/codec.h"
#include "gossip/membership.h"

#include "require.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_DATAGRAM (FT_GOSSIP_HEADER_BYTES + FT_GOSSIP_ENTRY_BYTES * FT_GOSSIP_MAX_ENTRIES)

static const int allowed[] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 255, 256, 65535 };

static bool is_allowed(long id)
{
	for (size_t i = 0; i < sizeof allowed / sizeof allowed[0]; i++)
		if (allowed[i] == id)
			return true;
	return false;
}

struct watch {
	int self_id;
	size_t events;
};

static void on_event(void *ud, const struct ft_member_event_info *ev)
{
	struct watch *w = ud;
	w->events++;
	require(ev->type >= FT_EV_UPDATED && ev->type <= FT_EV_SELF_REJOIN);
	require(is_allowed(ev->peer));
	require((ev->type == FT_EV_SELF_REJOIN) == (ev->peer == w->self_id));
	require(is_allowed(ev->src));
}

static uint32_t rnd_from(void *ud)
{
	uint32_t *s = ud;
	*s = *s * 1664525u + 1013904223u;
	return *s >> 8;
}

static void same_msg(const struct ft_gossip_msg *a, const struct ft_gossip_msg *b)
{
	require(a->sender == b->sender);
	require(a->sender_incarnation == b->sender_incarnation);
	require(a->sent_ms == b->sent_ms);
	require(a->n == b->n);
	for (size_t i = 0; i < a->n; i++) {
		require(a->e[i].id == b->e[i].id);
		require(a->e[i].incarnation == b->e[i].incarnation);
		require(a->e[i].heartbeat == b->e[i].heartbeat);
		require(a->e[i].state == b->e[i].state);
	}
}

/* What the decoder promises about anything it accepts. */
static void check_decoded(const struct ft_gossip_msg *m, size_t size)
{
	require(m->n <= FT_GOSSIP_MAX_ENTRIES);
	require(size == FT_GOSSIP_HEADER_BYTES + FT_GOSSIP_ENTRY_BYTES * m->n);
	require(m->sender <= 65535);
	for (size_t i = 0; i < m->n; i++) {
		require(m->e[i].id <= 65535);
		require(m->e[i].state == FT_MEMBER_ALIVE || m->e[i].state == FT_MEMBER_FAILED);
		for (size_t j = 0; j < i; j++)
			require(m->e[i].id != m->e[j].id);
	}
}

static void check_table(const struct ft_membership *m, int self_id)
{
	size_t n = ft_membership_count(m);
	int prev = -1;
	for (size_t i = 0; i < n; i++) {
		const struct ft_member *x = ft_membership_at(m, i);
		require(x && x->id > prev && x->id != self_id && is_allowed(x->id));
		require(x->state == FT_MEMBER_ALIVE || x->state == FT_MEMBER_FAILED);
		require(ft_membership_get(m, x->id) == x);
		/* A live entry's life was never declared failed. */
		require(x->state == FT_MEMBER_FAILED ||
			!ft_membership_life_failed(m, x->id, x->incarnation));
		prev = x->id;
	}
	require(ft_membership_at(m, n) == NULL);
	require(ft_membership_alive(m, self_id));
}

/* Our own snapshot must always be a valid datagram. */
static void check_snapshot(const struct ft_membership *m, int64_t now, int target)
{
	static struct ft_gossip_msg snap, back;
	static uint8_t buf[MAX_DATAGRAM];
	ft_membership_snapshot_for(m, &snap, now, target);
	ssize_t len = ft_gossip_encode(&snap, buf, sizeof buf);
	const char *why = NULL;
	require(len >= FT_GOSSIP_HEADER_BYTES);
	require(ft_gossip_decode(buf, (size_t)len, &back, &why) == 0);
	same_msg(&snap, &back);
}

static void exercise_table(const struct ft_gossip_msg *msg, int self_id, int64_t now)
{
	struct watch w = { .self_id = self_id };
	struct ft_membership_conf conf = {
		.self_id = self_id,
		.self_incarnation = 1000,
		.fail_ms = 100,
		.cleanup_ms = 300,
		.allowed_ids = allowed,
		.n_allowed = sizeof allowed / sizeof allowed[0],
	};
	struct ft_membership *m = ft_membership_new(&conf, on_event, &w);
	require(m);

	/* Merge, let time pass past failure and cleanup, merge again: the second
	 * merge meets failed lives and tombstones. */
	enum ft_merge_result r = ft_membership_merge(m, msg, now);
	require(r >= FT_MERGE_OK && r <= FT_MERGE_REJECT_SELF);
	require((r == FT_MERGE_REJECT_SELF) == (msg->sender == (uint32_t)self_id));
	check_table(m, self_id);
	check_snapshot(m, now, (int)(msg->sender & 0xffff));
	for (int step = 1; step <= 5; step++) {
		ft_membership_tick(m, now + step * 100);
		check_table(m, self_id);
		ft_membership_merge(m, msg, now + step * 100);
		check_table(m, self_id);
	}
	/* We stalled: live entries' failure timers move forward, never past now
	 * (a negative stall is no stall). */
	int64_t later = now + 600;
	ft_membership_stalled(m, (int64_t)(msg->sender_incarnation % 1000) - 100, later);
	for (size_t i = 0; i < ft_membership_count(m); i++) {
		const struct ft_member *x = ft_membership_at(m, i);
		require(x->state != FT_MEMBER_ALIVE || x->last_rise_ms <= later);
	}
	check_table(m, self_id);

	uint64_t inc = ft_membership_self_incarnation(m);
	require(inc >= 1000);
	check_snapshot(m, now + 600, 2);

	uint32_t seed = (uint32_t)msg->sent_ms;
	int out[16];
	size_t n = ft_membership_pick_targets(m, out, 1 + msg->n % 16, rnd_from, &seed);
	for (size_t i = 0; i < n; i++) {
		require(out[i] != self_id && is_allowed(out[i]));
		for (size_t j = 0; j < i; j++)
			require(out[i] != out[j]);
	}
	ft_membership_free(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ft_gossip_msg msg, back;
	static uint8_t buf[MAX_DATAGRAM];
	const char *why = NULL;

	if (ft_gossip_decode(data, size, &msg, &why) != 0) {
		require(why && *why);
		return 0;
	}

	check_decoded(&msg, size);

	/* Canonical format: decode then encode gives back the input bytes. */
	ssize_t len = ft_gossip_encode(&msg, buf, sizeof buf);
	require(len >= 0 && (size_t)len == size);
	require(memcmp(buf, data, size) == 0);
	require(ft_gossip_decode(buf, (size_t)len, &back, NULL) == 0);
	same_msg(&msg, &back);

	/* The log line never overruns, whatever the cap. */
	char line[64];
	ft_gossip_format(&msg, line, 1 + size % sizeof line);
	require(strlen(line) < sizeof line);

	/* Same message seen by members in different roles. */
	int64_t now = (int64_t)(msg.sent_ms & 0xffffffff);
	exercise_table(&msg, 1, now);
	exercise_table(&msg, 0, now);
	exercise_table(&msg, 3, now);
	return 0;
}
