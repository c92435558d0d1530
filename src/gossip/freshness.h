/* Is an authenticated gossip datagram new, and are its incarnations
 * plausible?  Pure logic: no sockets, no clock of its own (every call
 * takes "now", wall-clock ms), so unit tests drive it with a fake clock.
 *
 * A MAC (gossip/codec.h) proves only that a holder of the cluster key made
 * the bytes, not that they are new: anyone on the path can send them again.
 * So every sender numbers its datagrams within its incarnation, and the
 * receiver keeps, for each configured member, the newest incarnation heard
 * from it and the highest counter of that incarnation:
 *
 * - same incarnation, counter above the highest: fresh (and remembered);
 * - same incarnation, counter at or below it: a replay (or a datagram
 *   overtaken in the network: gossip loses nothing by dropping it);
 * - an older incarnation: stale (a dead life's datagram, replayed);
 * - a newer incarnation: fresh, the sender's new life.
 *
 * One slot per configured member, made at start: nothing grows with what
 * strangers send.  The state is lost when the receiver restarts; then the
 * clock bounds below limit what a replay can bring: a datagram sent more
 * than the skew ago is too old, whoever first hears it.
 *
 * Clock bounds (gossip.max_clock_skew_ms): incarnations are wall-clock
 * start times, so an honest one is never far ahead of any member's clock.
 * One more than the skew ahead is refused: no datagram, even one made with
 * the key, can push an incarnation towards 2^64-1 and so leave a member no
 * higher life to come back with. */
#ifndef FT_GOSSIP_FRESHNESS_H
#define FT_GOSSIP_FRESHNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gossip/codec.h"

enum ft_fresh_verdict {
	FT_FRESH_OK = 0,
	FT_FRESH_REPLAY,  /* same incarnation, counter not above the highest seen */
	FT_FRESH_STALE,	  /* an older incarnation than the newest seen from it */
	FT_FRESH_UNKNOWN, /* not a configured member: it has no slot */
};

struct ft_freshness;

/* One slot per ID in ids (duplicates merged); NULL if out of memory. */
struct ft_freshness *ft_freshness_new(const int *ids, size_t n);
void ft_freshness_free(struct ft_freshness *f);

/* Whether (incarnation, counter) from member id would be fresh. */
enum ft_fresh_verdict ft_freshness_check(const struct ft_freshness *f, int id, uint64_t incarnation,
					 uint64_t counter);

/* Checks as above and, if fresh, remembers it.  Call only with what a
 * verified MAC covers, once every other check of the datagram has passed
 * (the clock bounds above all: a future incarnation must never become the
 * newest known, nor a counter that its sender has not reached). */
enum ft_fresh_verdict ft_freshness_admit(struct ft_freshness *f, int id, uint64_t incarnation,
					 uint64_t counter);

/* What is remembered of id: false if nothing yet (or not configured). */
bool ft_freshness_get(const struct ft_freshness *f, int id, uint64_t *incarnation,
		      uint64_t *counter);

/* Whether an incarnation is more than skew_ms ahead of now_ms. */
bool ft_fresh_in_future(uint64_t incarnation, int64_t now_ms, int skew_ms);

/* Whether a datagram sent at sent_ms (the sender's clock) was sent more than
 * skew_ms before now_ms: late beyond any honest delay, or replayed. */
bool ft_fresh_too_old(uint64_t sent_ms, int64_t now_ms, int skew_ms);

/* Removes, in place and keeping the order, the entries of m whose
 * incarnation is in the future by the bound above; returns how many.  The
 * sender is a key holder whose clock (or whose source's) is far off: what
 * it says of that member is not believed, the rest of the datagram is. */
size_t ft_fresh_drop_future_entries(struct ft_gossip_msg *m, int64_t now_ms, int skew_ms);

#endif
