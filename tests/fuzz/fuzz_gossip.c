/* libFuzzer harness for the gossip codec, the freshness checks and the
 * membership merge.
 *
 * The first byte picks a mode:
 * - even: the rest is a datagram as it comes off the wire, random MAC and
 *   all.  The decoder must refuse whatever a key holder did not make
 *   (nearly everything: the seeds carry right MACs, so mutations of valid
 *   datagrams are tried too);
 * - odd: the rest is a datagram without its MAC, which the harness seals
 *   with one of its two keys (bit 1 of the first byte), as a key holder
 *   would; so the checks behind the MAC are reached with any bytes.
 * Whatever decodes must re-encode to the very same bytes (the format is
 * canonical), must be refused once any one bit of it is flipped (the
 * harness picks the bit from the input), and is then run through a replay
 * window and merged into membership tables whose IDs overlap the small
 * numbers a fuzzer finds first, so the join / update / fail / rejoin paths
 * are all reachable.  Invariants are checked with abort() so libFuzzer
 * reports them as crashes. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gossip/codec.h"
#include "gossip/freshness.h"
#include "gossip/membership.h"

#include "require.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_DATAGRAM FT_GOSSIP_MAX_BYTES
#define SKEW_MS 60000

/* Two cluster keys (as in a key roll), their ids as run-fuzz.sh's seeds
 * have them: key k's bytes are i * 7 + k + 1, its id is 8 bytes k + 1. */
static struct ft_gossip_key keys[2];

static void init_keys(void)
{
	static bool done;
	if (done)
		return;
	done = true;
	require(sodium_init() >= 0);
	for (int k = 0; k < 2; k++) {
		struct ft_cluster_key ck;
		for (int i = 0; i < FT_KEY_BYTES; i++)
			ck.bytes[i] = (uint8_t)(i * 7 + k + 1);
		memset(ck.id, k + 1, sizeof ck.id);
		ft_gossip_key_derive(&keys[k], &ck);
	}
}

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
	require(a->counter == b->counter);
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
	require(size == FT_GOSSIP_OVERHEAD_BYTES + FT_GOSSIP_ENTRY_BYTES * m->n);
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
	ssize_t len = ft_gossip_encode(&snap, &keys[0], buf, sizeof buf);
	const char *why = NULL;
	require(len >= FT_GOSSIP_OVERHEAD_BYTES);
	require(ft_gossip_decode(buf, (size_t)len, keys, 2, &back, &why) == FT_GOSSIP_OK);
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

#include "require.h"

/* The replay window over what the message says of its sender: a second
 * look at the same datagram is always a replay, an older life stale, and
 * no stranger ever gets a slot. */
static void exercise_freshness(const struct ft_gossip_msg *m, int64_t now)
{
	struct ft_freshness *f = ft_freshness_new(allowed, sizeof allowed / sizeof allowed[0]);
	require(f);
	int id = (int)m->sender;
	enum ft_fresh_verdict v = ft_freshness_admit(f, id, m->sender_incarnation, m->counter);
	require(v == (is_allowed(id) ? FT_FRESH_OK : FT_FRESH_UNKNOWN));
	require(ft_freshness_get(f, id, NULL, NULL) == is_allowed(id));
	v = ft_freshness_admit(f, id, m->sender_incarnation, m->counter);
	require(v == (is_allowed(id) ? FT_FRESH_REPLAY : FT_FRESH_UNKNOWN));
	if (is_allowed(id) && m->sender_incarnation > 0)
		require(ft_freshness_admit(f, id, m->sender_incarnation - 1, UINT64_MAX) ==
			FT_FRESH_STALE);
	if (is_allowed(id) && m->counter < UINT64_MAX)
		require(ft_freshness_admit(f, id, m->sender_incarnation, m->counter + 1) ==
			FT_FRESH_OK);
	ft_freshness_free(f);

	/* Dropping the entries beyond the clock bound leaves only plausible
	 * ones, in their order. */
	static struct ft_gossip_msg c;
	c = *m;
	size_t dropped = ft_fresh_drop_future_entries(&c, now, SKEW_MS);
	require(dropped + c.n == m->n);
	for (size_t i = 0, j = 0; i < m->n; i++) {
		if (ft_fresh_in_future(m->e[i].incarnation, now, SKEW_MS))
			continue;
		require(j < c.n && c.e[j].id == m->e[i].id);
		j++;
	}
	for (size_t i = 0; i < c.n; i++)
		require(!ft_fresh_in_future(c.e[i].incarnation, now, SKEW_MS));
}

/* An accepted datagram with one bit flipped is refused, whichever bit. */
static void check_any_flip_refused(const uint8_t *dgram, size_t size, size_t pick)
{
	static uint8_t copy[MAX_DATAGRAM];
	static struct ft_gossip_msg tmp;
	memcpy(copy, dgram, size);
	size_t bit = pick % (size * 8);
	copy[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	const char *why = NULL;
	require(ft_gossip_decode(copy, size, keys, 2, &tmp, &why) != FT_GOSSIP_OK);
	require(why && *why);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ft_gossip_msg msg, back;
	static uint8_t buf[MAX_DATAGRAM];
	static uint8_t sealed[MAX_DATAGRAM + 1];
	const char *why = NULL;

	init_keys();
	if (size < 1)
		return 0;
	uint8_t mode = data[0];
	data++;
	size--;
	if (mode & 1) {
		/* Seal as a key holder would: the key's id, then its MAC. */
		if (size < FT_GOSSIP_HEADER_BYTES || size + FT_GOSSIP_MAC_BYTES > MAX_DATAGRAM)
			return 0;
		const struct ft_gossip_key *k = &keys[(mode >> 1) & 1];
		memcpy(sealed, data, size);
		memcpy(sealed + 28, k->id, FT_KEY_ID_BYTES);
		uint8_t tag[crypto_auth_hmacsha512256_BYTES];
		crypto_auth_hmacsha512256(tag, sealed, size, k->mac);
		memcpy(sealed + size, tag, FT_GOSSIP_MAC_BYTES);
		data = sealed;
		size += FT_GOSSIP_MAC_BYTES;
	}

	enum ft_gossip_verdict v = ft_gossip_decode(data, size, keys, 2, &msg, &why);
	require(v >= FT_GOSSIP_OK && v <= FT_GOSSIP_BAD_MAC);
	if (v != FT_GOSSIP_OK) {
		require(why && *why);
		/* Sealed with a right key, only the structure can be wrong. */
		if (mode & 1)
			require(v == FT_GOSSIP_MALFORMED);
		return 0;
	}

	check_decoded(&msg, size);
	/* Made with keys[i]: refused by a member holding only the other. */
	const struct ft_gossip_key *used =
		memcmp(data + 28, keys[0].id, FT_KEY_ID_BYTES) == 0 ? &keys[0] : &keys[1];
	const struct ft_gossip_key *other = used == &keys[0] ? &keys[1] : &keys[0];
	require(ft_gossip_decode(data, size, other, 1, &back, NULL) == FT_GOSSIP_UNKNOWN_KEY);

	/* Canonical format: decode then encode gives back the input bytes. */
	ssize_t len = ft_gossip_encode(&msg, used, buf, sizeof buf);
	require(len >= 0 && (size_t)len == size);
	require(memcmp(buf, data, size) == 0);
	require(ft_gossip_decode(buf, (size_t)len, keys, 2, &back, NULL) == FT_GOSSIP_OK);
	same_msg(&msg, &back);
	check_any_flip_refused(data, size, (size_t)msg.counter ^ msg.sent_ms);

	/* The log line never overruns, whatever the cap. */
	char line[64];
	ft_gossip_format(&msg, line, 1 + size % sizeof line);
	require(strlen(line) < sizeof line);

	/* Same message seen by members in different roles. */
	int64_t now = (int64_t)(msg.sent_ms & 0xffffffff);
	exercise_freshness(&msg, now);
	exercise_table(&msg, 1, now);
	exercise_table(&msg, 0, now);
	exercise_table(&msg, 3, now);
	return 0;
}
