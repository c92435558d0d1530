/* The class cache: an LRU list of compiled sources (see classcache.h). */
#include "runner/classcache.h"
#include "lib/util.h"

#include <stdlib.h>
#include <string.h>

struct entry {
	struct entry *prev, *next; /* head = newest */
	uint64_t hash;
	char *key;
	size_t key_len;
	struct ft_compiled *cc;
};

struct ft_classcache {
	struct entry *head, *tail;
	size_t n, bytes;
	size_t max_entries, max_bytes;
};

uint64_t ft_fnv1a64(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;
	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * FT_FNV1A64_PRIME;
	return h;
}

uint64_t ft_classcache_hash(const char *key, size_t len)
{
	/* The compiler flags are fixed (ft.Compiler); their version is part of
	 * the key, with its NUL. */
	static const char flags[] = "ftc2 -proc:none -encoding UTF-8 -implicit:none";
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

static void unlink_entry(struct ft_classcache *c, struct entry *e)
{
	if (e->prev)
		e->prev->next = e->next;
	else
		c->head = e->next;
	if (e->next)
		e->next->prev = e->prev;
	else
		c->tail = e->prev;
	e->prev = e->next = NULL;
}

static void push_front(struct ft_classcache *c, struct entry *e)
{
	e->prev = NULL;
	e->next = c->head;
	if (c->head)
		c->head->prev = e;
	c->head = e;
	if (!c->tail)
		c->tail = e;
}

static void drop(struct ft_classcache *c, struct entry *e)
{
	unlink_entry(c, e);
	c->n--;
	c->bytes -= e->key_len + e->cc->bytes;
	ft_compiled_unref(e->cc);
	free(e->key);
	free(e);
}

void ft_classcache_free(struct ft_classcache *c)
{
	if (!c)
		return;
	while (c->head)
		drop(c, c->head);
	free(c);
}

struct ft_compiled *ft_classcache_get(struct ft_classcache *c, const char *key, size_t len)
{
	uint64_t h = ft_classcache_hash(key, len);
	for (struct entry *e = c->head; e; e = e->next) {
		if (e->hash == h && e->key_len == len && memcmp(e->key, key, len) == 0) {
			unlink_entry(c, e);
			push_front(c, e);
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
	push_front(c, e);
	c->n++;
	c->bytes += cost;
	while (c->tail && (c->n > c->max_entries || c->bytes > c->max_bytes))
		drop(c, c->tail);
}

size_t ft_classcache_entries(const struct ft_classcache *c)
{
	return c->n;
}

size_t ft_classcache_bytes(const struct ft_classcache *c)
{
	return c->bytes;
}
