/* Gossip heartbeats on the wire: a UDP socket and an interval timer on the
 * daemon's loop around the pure membership table.  Every event the table
 * raises is logged here (one call each, see lib/log.h) and then passed
 * to the daemon, which reacts (a leader stops assigning to a failed worker).
 *
 * Each interval: read what has arrived, bump our counter, detect failures,
 * and send to `fanout` members a datagram built for each one
 * (ft_membership_snapshot_for), trimmed in turn to max_datagram_bytes.
 * Besides the plain protocol:
 * - failure news (and our own new life) is passed on at once, not at the
 *   next tick, so it spreads in datagram latencies;
 * - a tick much later than due (we were stopped or starved) does not count
 *   that time against anyone;
 * - a member that hears from nobody for fail_ms / 2 is the one cut off far
 *   more likely than everyone else died: it holds its failure timers until
 *   it hears from someone, instead of declaring everyone failed (which would
 *   make every member start a new life when its link comes back).
 *
 * Every datagram is authenticated (gossip/codec.h: a MAC with the cluster
 * key, current or next, ft_keyring_active() at the moment it is sent or
 * received, so a key roll takes effect at the next datagram) and judged
 * fresh (gossip/freshness.h: per-sender counters, incarnations within
 * gossip.max_clock_skew_ms of this clock) before anything in it is
 * believed.  Every datagram dropped is counted by reason
 * (ft_gossip_stats.rejected_by) and logged within the rejected-datagram
 * budget (logging.rejected_per_second). */
#ifndef FT_GOSSIP_H
#define FT_GOSSIP_H

#include <stdint.h>
#include <systemd/sd-event.h>

#include "conf/config.h"
#include "gossip/membership.h"

struct ft_gossip;

typedef void (*ft_gossip_event_fn)(void *ud, const struct ft_member_event_info *ev);

/* Why a datagram was dropped, in the order the checks are made. */
enum ft_gossip_reject {
	FT_GOSSIP_REJECT_MALFORMED,	     /* not a well-formed datagram (or too large) */
	FT_GOSSIP_REJECT_UNKNOWN_KEY,	     /* made with a key this member does not hold */
	FT_GOSSIP_REJECT_BAD_MAC,	     /* forged or damaged */
	FT_GOSSIP_REJECT_UNKNOWN_SENDER,     /* sender ID not a configured member */
	FT_GOSSIP_REJECT_FUTURE_INCARNATION, /* sender's incarnation beyond the clock bound */
	FT_GOSSIP_REJECT_TOO_OLD,	     /* sent more than the clock bound ago */
	FT_GOSSIP_REJECT_STALE,		     /* from an older life than one already heard */
	FT_GOSSIP_REJECT_REPLAY,	     /* counter already seen in that life */
	FT_GOSSIP_REJECT_WRONG_ADDRESS,	     /* not from the sender's configured address */
	FT_GOSSIP_REJECT_FAILED_SENDER,	     /* sender's life was declared failed here */
	FT_GOSSIP_REJECT_SELF,		     /* claims to come from this member */
	FT_GOSSIP_REJECT_N
};

/* The reasons' names (metric labels), in enum order, NULL-terminated. */
extern const char *const ft_gossip_reject_names[FT_GOSSIP_REJECT_N + 1];

struct ft_gossip_stats {
	uint64_t sent, received, rejected;
	uint64_t rejected_by[FT_GOSSIP_REJECT_N]; /* adds up to rejected */
	/* Entries of accepted datagrams not believed: an incarnation beyond the
	 * clock bound (what one member's far-off clock says of another). */
	uint64_t entries_ignored;
	int64_t last_tick_ms; /* monotonic time of the last interval tick */
};

struct ft_gossip *ft_gossip_new(sd_event *ev, const struct ft_config *cfg, int self_id,
				ft_gossip_event_fn fn, void *ud);
void ft_gossip_free(struct ft_gossip *g);

const struct ft_membership *ft_gossip_table(const struct ft_gossip *g);
const struct ft_gossip_stats *ft_gossip_stats(const struct ft_gossip *g);
/* For the watchdog: the gossip timer (on the daemon's loop) fired within
 * ten intervals plus a second; logs a warning when it did not. */
bool ft_gossip_ticking(const struct ft_gossip *g, int interval_ms);

#endif
