/* The gateway's response cache.
 *
 * A hash table with chaining finds entries; the recency list (lib/lru.h)
 * keeps them newest (most recently used) to oldest (next to evict).  Each
 * entry is one allocation holding the key and the body after the header, so
 * an eviction is a single free.
 *
 * The byte budget counts key + body: the key is a whole Java source and can
 * be as large as the answer, so counting only bodies would let the cache grow
 * to many times its configured size. */
#include "gateway/cache.h"
#include "lib/lru.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#define INITIAL_BUCKETS 16

struct cache_entry {
	struct cache_entry *chain; /* next in the same bucket */
	struct ft_lru_link link;   /* recency, and the bytes it costs */
	uint64_t hash;
	size_t klen, blen;
	int status;
	unsigned char data[]; /* key bytes, then body bytes */
};

struct ft_cache {
	size_t max_entries, max_bytes;
	struct ft_lru lru; /* newest: most recently used */
	struct cache_entry **buckets;
	size_t n_buckets; /* a power of two */
	uint64_t seed[2];
};

#define ROTL64(x, b) (((x) << (b)) | ((x) >> (64 - (b))))

static void sip_rounds(uint64_t v[4], int rounds)
{
	for (int i = 0; i < rounds; i++) {
		v[0] += v[1];
		v[1] = ROTL64(v[1], 13);
		v[1] ^= v[0];
		v[0] = ROTL64(v[0], 32);
		v[2] += v[3];
		v[3] = ROTL64(v[3], 16);
		v[3] ^= v[2];
		v[0] += v[3];
		v[3] = ROTL64(v[3], 21);
		v[3] ^= v[0];
		v[2] += v[1];
		v[1] = ROTL64(v[1], 17);
		v[1] ^= v[2];
		v[2] = ROTL64(v[2], 32);
	}
}

static uint64_t load_le64(const unsigned char *p, size_t n)
{
	uint64_t w = 0;

	for (size_t i = 0; i < n; i++)
		w |= (uint64_t)p[i] << (8 * i);
	return w;
}

/* SipHash-2-4 under a per-cache random key.  Keys are request bodies chosen
 * by clients; with a guessable hash they could fill the cache with sources
 * that share one full hash and a long common prefix, and every lookup would
 * then memcmp each of them. */
static uint64_t hash_key(const struct ft_cache *c, const void *key, size_t klen)
{
	const unsigned char *p = key;
	uint64_t v[4] = {
		c->seed[0] ^ 0x736f6d6570736575ULL,
		c->seed[1] ^ 0x646f72616e646f6dULL,
		c->seed[0] ^ 0x6c7967656e657261ULL,
		c->seed[1] ^ 0x7465646279746573ULL,
	};
	size_t whole = klen - klen % 8;
	uint64_t m;

	for (size_t i = 0; i < whole; i += 8) {
		m = load_le64(p + i, 8);
		v[3] ^= m;
		sip_rounds(v, 2);
		v[0] ^= m;
	}
	m = (uint64_t)klen << 56 | (klen % 8 ? load_le64(p + whole, klen % 8) : 0);
	v[3] ^= m;
	sip_rounds(v, 2);
	v[0] ^= m;
	v[2] ^= 0xff;
	sip_rounds(v, 4);
	return v[0] ^ v[1] ^ v[2] ^ v[3];
}

static struct cache_entry **bucket_of(const struct ft_cache *c, uint64_t hash)
{
	return &c->buckets[(size_t)hash & (c->n_buckets - 1)];
}

static bool entry_has_key(const struct cache_entry *e, uint64_t hash, const void *key, size_t klen)
{
	return e->hash == hash && e->klen == klen && (klen == 0 || memcmp(e->data, key, klen) == 0);
}

static struct cache_entry *find(const struct ft_cache *c, uint64_t hash, const void *key,
				size_t klen)
{
	for (struct cache_entry *e = *bucket_of(c, hash); e; e = e->chain)
		if (entry_has_key(e, hash, key, klen))
			return e;
	return NULL;
}

static struct cache_entry *entry_of(struct ft_lru_link *l)
{
	return l ? FT_LRU_ENTRY(l, struct cache_entry, link) : NULL;
}

static void chain_unlink(struct ft_cache *c, struct cache_entry *e)
{
	struct cache_entry **link = bucket_of(c, e->hash);

	while (*link != e)
		link = &(*link)->chain;
	*link = e->chain;
}

static void remove_entry(struct ft_cache *c, struct cache_entry *e)
{
	chain_unlink(c, e);
	ft_lru_remove(&c->lru, &e->link);
	free(e);
}

/* Keeps chains short as the cache fills.  Failing to grow only makes chains
 * longer, so an allocation failure here is not an error. */
static void maybe_grow(struct ft_cache *c)
{
	size_t n = c->n_buckets * 2;
	struct cache_entry **fresh;

	if (c->lru.n <= c->n_buckets || n > SIZE_MAX / sizeof(*fresh))
		return;
	fresh = calloc(n, sizeof(*fresh));
	if (!fresh)
		return;
	for (size_t i = 0; i < c->n_buckets; i++) {
		struct cache_entry *e = c->buckets[i], *next;

		for (; e; e = next) {
			size_t b = (size_t)e->hash & (n - 1);

			next = e->chain;
			e->chain = fresh[b];
			fresh[b] = e;
		}
	}
	free(c->buckets);
	c->buckets = fresh;
	c->n_buckets = n;
}

struct ft_cache *ft_cache_new(size_t max_entries, size_t max_bytes)
{
	struct ft_cache *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->buckets = calloc(INITIAL_BUCKETS, sizeof(*c->buckets));
	if (!c->buckets) {
		free(c);
		return NULL;
	}
	c->n_buckets = INITIAL_BUCKETS;
	/* Without entropy the cache still works, only its hash is predictable. */
	if (getrandom(c->seed, sizeof(c->seed), GRND_NONBLOCK) != (ssize_t)sizeof(c->seed))
		memset(c->seed, 0, sizeof(c->seed));
	c->max_entries = max_entries;
	c->max_bytes = max_bytes;
	return c;
}

void ft_cache_free(struct ft_cache *c)
{
	struct cache_entry *e, *older;

	if (!c)
		return;
	for (e = entry_of(c->lru.newest); e; e = older) {
		older = entry_of(e->link.older);
		free(e);
	}
	free(c->buckets);
	free(c);
}

bool ft_cache_get(struct ft_cache *c, const void *key, size_t klen, int *status, const char **body,
		  size_t *blen)
{
	struct cache_entry *e = find(c, hash_key(c, key, klen), key, klen);

	if (!e)
		return false;
	ft_lru_touch(&c->lru, &e->link);
	*status = e->status;
	*body = (const char *)e->data + e->klen;
	*blen = e->blen;
	return true;
}

static bool fits(const struct ft_cache *c, size_t klen, size_t blen)
{
	return c->max_entries > 0 && klen <= c->max_bytes && blen <= c->max_bytes - klen &&
	       klen + blen <= SIZE_MAX - sizeof(struct cache_entry);
}

void ft_cache_put(struct ft_cache *c, const void *key, size_t klen, int status, const char *body,
		  size_t blen)
{
	uint64_t hash = hash_key(c, key, klen);
	struct cache_entry *old = find(c, hash, key, klen), *e = NULL, **bucket;

	/* Copied before the old entry goes: BODY may be the pointer a get just
	 * returned for this very key. */
	if (fits(c, klen, blen))
		e = malloc(sizeof(*e) + klen + blen);
	if (e) {
		e->hash = hash;
		e->klen = klen;
		e->blen = blen;
		e->status = status;
		if (klen)
			memcpy(e->data, key, klen);
		if (blen)
			memcpy(e->data + klen, body, blen);
	}
	/* The old answer goes even if the new one cannot be kept (too large, or
	 * no memory: a cache may always forget); serving it would be wrong. */
	if (old)
		remove_entry(c, old);
	if (!e)
		return;

	/* Make room first, so the new entry is never its own victim. */
	while (c->lru.oldest &&
	       (c->lru.n >= c->max_entries || c->lru.bytes > c->max_bytes - (klen + blen)))
		remove_entry(c, entry_of(c->lru.oldest));

	bucket = bucket_of(c, hash);
	e->chain = *bucket;
	*bucket = e;
	ft_lru_add(&c->lru, &e->link, klen + blen);
	maybe_grow(c);
}

size_t ft_cache_entries(const struct ft_cache *c)
{
	return c->lru.n;
}

size_t ft_cache_bytes(const struct ft_cache *c)
{
	return c->lru.bytes;
}
