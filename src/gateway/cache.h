/* The gateway's response cache: request body -> (status, response body).
 * Bounded both in entries and in total bytes; least recently used entries
 * are evicted first.  Keys are compared in full (the hash only picks the
 * bucket), so two different sources never share an answer. */
#ifndef FT_GATEWAY_CACHE_H
#define FT_GATEWAY_CACHE_H

#include <stdbool.h>
#include <stddef.h>

struct ft_cache;

struct ft_cache *ft_cache_new(size_t max_entries, size_t max_bytes);
void ft_cache_free(struct ft_cache *c);

/* On a hit returns true and points *body at the cached bytes (valid until
 * the next put or free) and moves the entry to most recently used. */
bool ft_cache_get(struct ft_cache *c, const void *key, size_t klen, int *status, const char **body,
		  size_t *blen);

/* Insert or replace.  An entry larger than max_bytes on its own is not kept. */
void ft_cache_put(struct ft_cache *c, const void *key, size_t klen, int status, const char *body,
		  size_t blen);

size_t ft_cache_entries(const struct ft_cache *c);
size_t ft_cache_bytes(const struct ft_cache *c);

#endif
