/* A per-second budget for one kind of event: up to N of them a second get
 * through, the rest are only counted, so that a flood (of rejected gossip
 * datagrams, say) cannot flood the logs while the count stays exact.
 *
 * Pure: the caller passes the time (milliseconds of a monotonic clock). */
#ifndef FT_RATELIMIT_H
#define FT_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

struct ft_ratelimit {
	int64_t window_ms;   /* start of the current second */
	int passed;	     /* events let through in it */
	uint64_t suppressed; /* events held back in it */
};

/* Once a second or more has gone by since the current second began, ends
 * it: returns how many events it held back (0 for none) and begins a new
 * second at now_ms.  Before then, returns 0 and changes nothing. */
uint64_t ft_ratelimit_roll(struct ft_ratelimit *r, int64_t now_ms);

/* One event in the current second: true if it is within the budget of
 * per_second (it passes), false if not (it is counted as held back). */
bool ft_ratelimit_admit(struct ft_ratelimit *r, int per_second);

#endif
