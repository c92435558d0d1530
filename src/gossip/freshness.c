#include "gossip/freshness.h"

#include <stdlib.h>

struct slot {
	int id;
	bool heard;
	uint64_t incarnation; /* the newest heard from id */
	uint64_t counter;     /* the highest of that incarnation */
};

/* Sorted by ID, fixed at construction: lookups are a binary search. */
struct ft_freshness {
	struct slot *slots;
	size_t n;
};

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;
	return (x > y) - (x < y);
}

struct ft_freshness *ft_freshness_new(const int *ids, size_t n)
{
	struct ft_freshness *f = calloc(1, sizeof(*f));
	int *sorted = malloc((n ? n : 1) * sizeof(*sorted));
	if (f)
		f->slots = calloc(n ? n : 1, sizeof(*f->slots));
	if (!f || !sorted || !f->slots || (n && !ids)) {
		free(sorted);
		ft_freshness_free(f);
		return NULL;
	}
	for (size_t i = 0; i < n; i++)
		sorted[i] = ids[i];
	qsort(sorted, n, sizeof(*sorted), cmp_int);
	for (size_t i = 0; i < n; i++)
		if (f->n == 0 || f->slots[f->n - 1].id != sorted[i])
			f->slots[f->n++].id = sorted[i];
	free(sorted);
	return f;
}

void ft_freshness_free(struct ft_freshness *f)
{
	if (!f)
		return;
	free(f->slots);
	free(f);
}

static struct slot *find(const struct ft_freshness *f, int id)
{
	size_t lo = 0, hi = f->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (f->slots[mid].id == id)
			return &f->slots[mid];
		if (f->slots[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static enum ft_fresh_verdict judge(const struct slot *s, uint64_t incarnation, uint64_t counter)
{
	if (!s)
		return FT_FRESH_UNKNOWN;
	if (s->heard && incarnation < s->incarnation)
		return FT_FRESH_STALE;
	if (s->heard && incarnation == s->incarnation && counter <= s->counter)
		return FT_FRESH_REPLAY;
	return FT_FRESH_OK;
}

enum ft_fresh_verdict ft_freshness_check(const struct ft_freshness *f, int id, uint64_t incarnation,
					 uint64_t counter)
{
	return judge(find(f, id), incarnation, counter);
}

enum ft_fresh_verdict ft_freshness_admit(struct ft_freshness *f, int id, uint64_t incarnation,
					 uint64_t counter)
{
	struct slot *s = find(f, id);
	enum ft_fresh_verdict v = judge(s, incarnation, counter);
	if (v != FT_FRESH_OK)
		return v;
	s->heard = true;
	s->incarnation = incarnation;
	s->counter = counter;
	return FT_FRESH_OK;
}

bool ft_freshness_get(const struct ft_freshness *f, int id, uint64_t *incarnation,
		      uint64_t *counter)
{
	const struct slot *s = find(f, id);
	if (!s || !s->heard)
		return false;
	if (incarnation)
		*incarnation = s->incarnation;
	if (counter)
		*counter = s->counter;
	return true;
}

bool ft_fresh_in_future(uint64_t incarnation, int64_t now_ms, int skew_ms)
{
	/* In unsigned arithmetic, without overflow whatever a fake clock says:
	 * a clock before the epoch counts as the epoch. */
	uint64_t now = now_ms > 0 ? (uint64_t)now_ms : 0;
	uint64_t skew = skew_ms > 0 ? (uint64_t)skew_ms : 0;
	return incarnation > now && incarnation - now > skew;
}

bool ft_fresh_too_old(uint64_t sent_ms, int64_t now_ms, int skew_ms)
{
	uint64_t now = now_ms > 0 ? (uint64_t)now_ms : 0;
	uint64_t skew = skew_ms > 0 ? (uint64_t)skew_ms : 0;
	return sent_ms < now && now - sent_ms > skew;
}

size_t ft_fresh_drop_future_entries(struct ft_gossip_msg *m, int64_t now_ms, int skew_ms)
{
	size_t n = m->n <= FT_GOSSIP_MAX_ENTRIES ? m->n : FT_GOSSIP_MAX_ENTRIES;
	size_t kept = 0;
	for (size_t i = 0; i < n; i++)
		if (!ft_fresh_in_future(m->e[i].incarnation, now_ms, skew_ms))
			m->e[kept++] = m->e[i];
	m->n = kept;
	return n - kept;
}
