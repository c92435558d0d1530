/* Token buckets and a bounded table of them (lib/tokenbucket.h). */
#include "lib/tokenbucket.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "lib/lru.h"
#include "lib/util.h"

#define MILLI 1000

bool ft_bucket_take(struct ft_bucket *b, int64_t now_ms, int rate, int burst, int64_t *wait_ms)
{
	int64_t cap = (int64_t)(burst > 0 ? burst : 1) * MILLI;
	if (rate < 1)
		rate = 1;
	if (!b->started) {
		b->started = true;
		b->milli = cap;
		b->at_ms = now_ms;
	}
	int64_t elapsed = now_ms - b->at_ms;
	/* A clock that went back refills nothing; a long pause refills at
	 * most to the brim (and the product cannot overflow). */
	if (elapsed > 0) {
		if (elapsed > cap / rate + 1)
			elapsed = cap / rate + 1;
		b->milli += elapsed * rate;
		b->at_ms = now_ms;
	}
	if (b->milli > cap)
		b->milli = cap; /* burst may have been lowered by a reload */
	if (b->milli >= MILLI) {
		b->milli -= MILLI;
		return true;
	}
	if (wait_ms) {
		int64_t w = (MILLI - b->milli + rate - 1) / rate;
		*wait_ms = w > 0 ? w : 1;
	}
	return false;
}

/* ---- the table: chained hash by a keyed SipHash (no key collides on
 * purpose), recency by lib/lru ---- */

struct entry {
	struct entry *next; /* in its hash chain */
	struct ft_lru_link lru;
	struct ft_bucket bucket;
	size_t klen;
	unsigned char key[FT_BUCKET_KEY_MAX];
};

struct ft_bucket_table {
	struct entry **slots;
	size_t n_slots; /* a power of two */
	struct ft_lru lru;
	unsigned char hash_key[crypto_shorthash_KEYBYTES];
};

struct ft_bucket_table *ft_bucket_table_new(void)
{
	struct ft_bucket_table *t = ft_xcalloc(1, sizeof(*t));
	t->n_slots = 64;
	t->slots = ft_xcalloc(t->n_slots, sizeof(*t->slots));
	randombytes_buf(t->hash_key, sizeof(t->hash_key));
	return t;
}

void ft_bucket_table_free(struct ft_bucket_table *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n_slots; i++) {
		struct entry *e = t->slots[i];
		while (e) {
			struct entry *next = e->next;
			free(e);
			e = next;
		}
	}
	free(t->slots);
	free(t);
}

static size_t slot_of(const struct ft_bucket_table *t, const void *key, size_t klen)
{
	unsigned char h[crypto_shorthash_BYTES];
	crypto_shorthash(h, key, klen, t->hash_key);
	uint64_t v;
	memcpy(&v, h, sizeof(v));
	return (size_t)(v & (t->n_slots - 1));
}

static struct entry **find(struct ft_bucket_table *t, const void *key, size_t klen)
{
	struct entry **p = &t->slots[slot_of(t, key, klen)];
	while (*p && ((*p)->klen != klen || memcmp((*p)->key, key, klen) != 0))
		p = &(*p)->next;
	return p;
}

static void drop(struct ft_bucket_table *t, struct entry *e)
{
	struct entry **p = find(t, e->key, e->klen);
	*p = e->next;
	ft_lru_remove(&t->lru, &e->lru);
	free(e);
}

static void grow(struct ft_bucket_table *t)
{
	size_t old_n = t->n_slots;
	struct entry **old = t->slots;
	t->n_slots *= 2;
	t->slots = ft_xcalloc(t->n_slots, sizeof(*t->slots));
	for (size_t i = 0; i < old_n; i++) {
		struct entry *e = old[i];
		while (e) {
			struct entry *next = e->next;
			size_t s = slot_of(t, e->key, e->klen);
			e->next = t->slots[s];
			t->slots[s] = e;
			e = next;
		}
	}
	free(old);
}

bool ft_bucket_table_take(struct ft_bucket_table *t, const void *key, size_t klen, int64_t now_ms,
			  int rate, int burst, size_t max_keys, int64_t *wait_ms)
{
	if (klen > FT_BUCKET_KEY_MAX)
		klen = FT_BUCKET_KEY_MAX;
	if (max_keys < 1)
		max_keys = 1;
	struct entry **p = find(t, key, klen);
	struct entry *e = *p;
	if (e) {
		ft_lru_touch(&t->lru, &e->lru);
	} else {
		while (t->lru.n >= max_keys)
			drop(t, FT_LRU_ENTRY(t->lru.oldest, struct entry, lru));
		if (t->lru.n >= t->n_slots)
			grow(t);
		e = ft_xcalloc(1, sizeof(*e));
		memcpy(e->key, key, klen);
		e->klen = klen;
		size_t s = slot_of(t, key, klen);
		e->next = t->slots[s];
		t->slots[s] = e;
		ft_lru_add(&t->lru, &e->lru, 0);
	}
	return ft_bucket_take(&e->bucket, now_ms, rate, burst, wait_ms);
}

size_t ft_bucket_table_size(const struct ft_bucket_table *t)
{
	return t->lru.n;
}
