/* The class cache: compiled sources in a recency list (see classcache.h). */
#include "runner/classcache.h"
#include "lib/lru.h"
#include "lib/util.h"
#include "runner/javawire.h"

#include <stdlib.h>
#include <string.h>

struct entry {
	struct ft_lru_link link;
	uint64_t hash;
	char *key;
	size_t key_len;
	struct ft_compiled *cc;
};

struct ft_classcache {
	struct ft_lru lru;
	size_t max_entries, max_bytes;
};

static struct entry *entry_of(struct ft_lru_link *l)
{
	return l ? FT_LRU_ENTRY(l, struct entry, link) : NULL;
}

uint64_t ft_classcache_hash(const char *key, size_t len)
{
	/* The compiler flags are fixed (ft.Compiler); their version is part of
	 * the key, with its NUL. */
	static const char flags[] = "ftc3 " FT_WIRE_COMPILER_FLAGS;
	uint64_t h = ft_fnv1a64(FT_FNV1A64_OFFSET_BASIS, flags, sizeof(flags));
	return ft_fnv1a64(h, key, len);
}

struct ft_classcache *ft_classcache_new(size_t max_entries, size_t max_bytes)
{
	struct ft_classcache *c = ft_xcalloc(1, sizeof(*c));
	c->max_entries = max_entries;
	c->max_bytes = max_bytes;
	return c;
}

static void drop(struct ft_classcache *c, struct entry *e)
{
	ft_lru_remove(&c->lru, &e->link);
	ft_compiled_unref(e->cc);
	free(e->key);
	free(e);
}

void ft_classcache_free(struct ft_classcache *c)
{
	if (!c)
		return;
	while (c->lru.newest)
		drop(c, entry_of(c->lru.newest));
	free(c);
}

struct ft_compiled *ft_classcache_get(struct ft_classcache *c, const char *key, size_t len)
{
	uint64_t h = ft_classcache_hash(key, len);
	for (struct entry *e = entry_of(c->lru.newest); e; e = entry_of(e->link.older)) {
		if (e->hash == h && e->key_len == len && memcmp(e->key, key, len) == 0) {
			ft_lru_touch(&c->lru, &e->link);
			return ft_compiled_ref(e->cc);
		}
	}
	return NULL;
}

void ft_classcache_put(struct ft_classcache *c, const char *key, size_t len, struct ft_compiled *cc)
{
	size_t cost = len + cc->bytes;
	if (cost > c->max_bytes / 4)
		return;
	struct ft_compiled *old = ft_classcache_get(c, key, len);
	if (old) {
		ft_compiled_unref(old);
		return;
	}
	struct entry *e = ft_xmalloc(sizeof(*e));
	e->hash = ft_classcache_hash(key, len);
	e->key = ft_xmalloc(len ? len : 1);
	memcpy(e->key, key, len);
	e->key_len = len;
	e->cc = ft_compiled_ref(cc);
	ft_lru_add(&c->lru, &e->link, cost);
	while (c->lru.oldest && (c->lru.n > c->max_entries || c->lru.bytes > c->max_bytes))
		drop(c, entry_of(c->lru.oldest));
}

size_t ft_classcache_entries(const struct ft_classcache *c)
{
	return c->lru.n;
}

size_t ft_classcache_bytes(const struct ft_classcache *c)
{
	return c->lru.bytes;
}
