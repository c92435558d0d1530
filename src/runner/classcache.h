/* The class cache (issue 7): what earlier compilations of the same sources
 * produced, so that a source seen before skips the compiler.  Pure logic,
 * unit-tested (tests/unit/check_classcache.c).
 *
 * Keyed by the whole request the warm compiler reads (warmproto.h: every
 * file's name and text), hashed with FNV-1a over the compiler's fixed
 * flags and the key; a hit also compares the whole key, so a collision
 * costs only a miss.  Least recently used entries go first once the count
 * or the bytes held (key + classes or error text) exceed the bounds; an
 * entry costing more than a quarter of the byte bound is not kept.  The
 * cache lives as long as its process: its keys never leave it. */
#ifndef FT_CLASSCACHE_H
#define FT_CLASSCACHE_H

#include <stddef.h>
#include <stdint.h>

#include "lib/util.h"
#include "runner/compiled.h"

struct ft_classcache;

struct ft_classcache *ft_classcache_new(size_t max_entries, size_t max_bytes);
/* Drops every entry (jobs holding one keep their reference). */
void ft_classcache_free(struct ft_classcache *c);

/* A reference to what key compiled to (the caller unrefs it), and that
 * entry becomes the newest; NULL if it is not kept. */
struct ft_compiled *ft_classcache_get(struct ft_classcache *c, const char *key, size_t len);
/* Keeps cc (a reference of its own) for key, unless key is kept already
 * or the entry would be too big; then evicts the oldest past the bounds. */
void ft_classcache_put(struct ft_classcache *c, const char *key, size_t len,
		       struct ft_compiled *cc);

size_t ft_classcache_entries(const struct ft_classcache *c);
size_t ft_classcache_bytes(const struct ft_classcache *c);
/* The hash an entry for key is filed under. */
uint64_t ft_classcache_hash(const char *key, size_t len);

#endif
