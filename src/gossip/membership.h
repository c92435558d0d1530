/* Gossip membership table and failure detector: pure logic, no sockets and
 * no clock of its own (every call takes "now" in ms), so unit tests drive it
 * with a fake clock.
 *
 * Rules:
 * - A member is identified by ID; each life of it by its incarnation (boot
 *   generation).  A higher incarnation supersedes everything about a lower one.
 * - Merge: for an entry with the same incarnation and a higher heartbeat, the
 *   counter and its local rise time are updated (event UPDATED).  A higher
 *   incarnation replaces the entry (event REJOINED if the ID was known).
 * - A member whose counter has not risen for fail_ms is FAILED (event FAILED,
 *   direct).  An entry received in state FAILED for the incarnation we hold as
 *   alive marks it FAILED too (event FAILED with source = the sender).
 * - A failed (id, incarnation) is never believed again: datagrams whose sender
 *   is that life are rejected whole, and entries about it are ignored.  This
 *   memory outlives cleanup (a tombstone per ID keeps the highest failed
 *   incarnation).
 * - cleanup_ms after failing, the entry is dropped from the table (event
 *   CLEANUP); failed entries are gossiped until then so the news spreads.
 * - If a message says that *we* failed in our current incarnation, we start a
 *   new life: our incarnation becomes max(now-based, old + 1) and event
 *   SELF_REJOIN is raised.  (Also for a failed incarnation above ours: then
 *   max(now-based, that + 1).)  This one piece of news is taken even from a
 *   rejected failed-sender datagram: after a symmetric partition both sides
 *   refuse each other, and only this lets them rejoin.
 */
#ifndef FT_GOSSIP_MEMBERSHIP_H
#define FT_GOSSIP_MEMBERSHIP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gossip/codec.h"

enum ft_member_event {
	FT_EV_UPDATED = 1, /* peer's heartbeat rose to hb, learned from src */
	FT_EV_JOINED,	   /* first time this peer is heard of */
	FT_EV_FAILED,	   /* peer declared failed; src == self id if detected here */
	FT_EV_REJOINED,	   /* peer came back with a higher incarnation */
	FT_EV_CLEANUP,	   /* failed peer dropped from the table */
	FT_EV_SELF_REJOIN, /* we were declared failed; new incarnation taken */
};

struct ft_member_event_info {
	enum ft_member_event type;
	int peer;
	int src; /* member the information came from (self id for local detection) */
	uint64_t incarnation;
	uint64_t heartbeat;
	int64_t now_ms;
};

typedef void (*ft_member_event_fn)(void *ud, const struct ft_member_event_info *ev);

struct ft_member {
	int id;
	uint64_t incarnation;
	uint64_t heartbeat;
	int64_t last_rise_ms; /* local time the counter last rose */
	int64_t failed_at_ms; /* local time it was declared failed (state FAILED) */
	int state;	      /* enum ft_member_state */
};

struct ft_membership_conf {
	int self_id;
	uint64_t self_incarnation;
	int fail_ms;
	int cleanup_ms;
	/* IDs allowed to be members (the configured ones, gateway included).
	 * Anything else is a spoofed or foreign ID and is rejected. */
	const int *allowed_ids;
	size_t n_allowed;
};

struct ft_membership;

struct ft_membership *ft_membership_new(const struct ft_membership_conf *conf,
					ft_member_event_fn fn, void *ud);
void ft_membership_free(struct ft_membership *m);

/* Once per gossip interval: bump our own heartbeat, detect failures and
 * cleanups.  Raises events. */
void ft_membership_tick(struct ft_membership *m, int64_t now_ms);

/* Check for failures and cleanups only (no heartbeat bump). */
void ft_membership_check(struct ft_membership *m, int64_t now_ms);

/* We ourselves were not running for stall_ms (the process was stopped, or
 * starved of CPU): nobody's silence during that time is evidence against
 * them, so the failure timer of every live entry is moved forward by it
 * (never past now_ms).  Call before merging what arrived meanwhile and
 * before the next check. */
void ft_membership_stalled(struct ft_membership *m, int64_t stall_ms, int64_t now_ms);

enum ft_merge_result {
	FT_MERGE_OK = 0,
	FT_MERGE_REJECT_UNKNOWN_SENDER, /* sender ID not allowed */
	FT_MERGE_REJECT_FAILED_SENDER,	/* sender's life was declared failed here */
	FT_MERGE_REJECT_SELF,		/* claims to come from us */
};

/* Merge a decoded message (already validated by the codec).  Raises events. */
enum ft_merge_result ft_membership_merge(struct ft_membership *m, const struct ft_gossip_msg *msg,
					 int64_t now_ms);

/* Fill msg with our view: ourselves plus every entry in the table (alive and
 * failed-not-yet-cleaned), sender fields set. */
void ft_membership_snapshot(const struct ft_membership *m, struct ft_gossip_msg *msg,
			    int64_t now_ms);

/* The snapshot to send to one target: as above, plus a FAILED entry for the
 * target's failed life if that is no longer in the table (cleaned up).  A
 * falsely failed member whose entry was already dropped learns this way that
 * it must rejoin; without it a partition that heals after cleanup_ms would
 * leave both sides refusing each other for good. */
void ft_membership_snapshot_for(const struct ft_membership *m, struct ft_gossip_msg *msg,
				int64_t now_ms, int target);

/* Current entry for id (self included), or NULL. */
const struct ft_member *ft_membership_get(const struct ft_membership *m, int id);

/* Whether id is currently believed alive (self always is). */
bool ft_membership_alive(const struct ft_membership *m, int id);

/* Whether (id, incarnation) is a life that was declared failed here (or an
 * older life of id, superseded by one that was). */
bool ft_membership_life_failed(const struct ft_membership *m, int id, uint64_t incarnation);

uint64_t ft_membership_self_incarnation(const struct ft_membership *m);
uint64_t ft_membership_self_heartbeat(const struct ft_membership *m);

/* Iterate over table entries (self excluded), in ID order. */
size_t ft_membership_count(const struct ft_membership *m);
const struct ft_member *ft_membership_at(const struct ft_membership *m, size_t i);

/* Choose up to k distinct send targets among allowed IDs other than self;
 * rnd is a caller-supplied random source (so tests are deterministic).
 * Preferred: members known alive, members whose failed entry was cleaned up,
 * and - only while nobody is known alive - members never heard of.  About
 * one call in four spends a slot on one of the rest (failed members, and
 * members never heard of), which are also taken when the preferred are too
 * few.  Returns how many were written. */
size_t ft_membership_pick_targets(const struct ft_membership *m, int *out, size_t k,
				  uint32_t (*rnd)(void *), void *rnd_ud);

#endif
