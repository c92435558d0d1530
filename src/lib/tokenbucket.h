/* Token-bucket rate limits: one bucket, and a table of buckets by key
 * (client address, API token) bounded in size.
 *
 * A bucket holds up to `burst` requests' worth and refills at `rate` a
 * second; a request takes one, or is refused with the time until one is
 * there.  Levels are kept in thousandths of a request, so integer
 * arithmetic refills exactly at any rate from 1 to 10^6 a second.
 *
 * The table keeps at most max_keys buckets: a new key beyond that evicts
 * the least recently used one (which then starts full again if it comes
 * back).  An abuser that keeps sending stays in the table; forgetting the
 * quiet ones is what bounds its memory.
 *
 * Pure: the caller passes the time (milliseconds of a monotonic clock) and
 * the limits at each call, so a reload's new limits apply at once.
 * Unit-tested (tests/unit/check_tokenbucket.c). */
#ifndef FT_TOKENBUCKET_H
#define FT_TOKENBUCKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ft_bucket {
	int64_t milli; /* requests available, in thousandths */
	int64_t at_ms; /* when milli was last brought up to date */
	bool started;
};

/* One request at now_ms, with rate (> 0) a second and room for burst
 * (> 0): true if it may go; else false and *wait_ms (if not NULL) gets
 * how long until one would (at least 1). */
bool ft_bucket_take(struct ft_bucket *b, int64_t now_ms, int rate, int burst, int64_t *wait_ms);

/* Keys are at most this many bytes. */
#define FT_BUCKET_KEY_MAX 64

struct ft_bucket_table;

struct ft_bucket_table *ft_bucket_table_new(void);
void ft_bucket_table_free(struct ft_bucket_table *t);

/* ft_bucket_take on the bucket of key (klen <= FT_BUCKET_KEY_MAX; longer
 * keys are cut), made full if the table has none, after evicting least
 * recently used buckets until fewer than max_keys (>= 1) remain. */
bool ft_bucket_table_take(struct ft_bucket_table *t, const void *key, size_t klen, int64_t now_ms,
			  int rate, int burst, size_t max_keys, int64_t *wait_ms);

/* Buckets held. */
size_t ft_bucket_table_size(const struct ft_bucket_table *t);

#endif
