/* A recency list for bounded caches: entries embed a struct ft_lru_link and
 * the list keeps them newest (most recently used) to oldest (next to go),
 * with their count and the bytes they cost.  The caches decide what an
 * entry is, how it is found and when one must go; this is only the order
 * and the accounting, shared by the gateway's answer cache
 * (gateway/cache.c) and the runner's class cache (runner/classcache.c).
 * Pure, unit-tested (tests/unit/check_lru.c). */
#ifndef FT_LRU_H
#define FT_LRU_H

#include <stddef.h>

struct ft_lru_link {
	struct ft_lru_link *newer, *older;
	size_t cost;
};

struct ft_lru {
	struct ft_lru_link *newest, *oldest;
	size_t n, bytes;
};

/* The entry holding link l (its member named field). */
#define FT_LRU_ENTRY(l, type, field) ((type *)(void *)((char *)(l)-offsetof(type, field)))

/* l, costing cost bytes, becomes the newest. */
void ft_lru_add(struct ft_lru *lru, struct ft_lru_link *l, size_t cost);
/* l (in the list) becomes the newest. */
void ft_lru_touch(struct ft_lru *lru, struct ft_lru_link *l);
/* l leaves the list (and its count and bytes). */
void ft_lru_remove(struct ft_lru *lru, struct ft_lru_link *l);

#endif
