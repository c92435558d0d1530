#include "node/holdings.h"

#include <stdlib.h>
#include <string.h>

#include "lib/util.h"

struct ft_holdings {
	const struct ft_limits *limits;
	const struct ft_holdings_ops *ops;
	void *ud;
	/* Oldest first: the order runs start in; inventories list newest
	 * first, as they always did. */
	struct ft_held **jobs;
	size_t n_jobs, cap;
	size_t running;
	uint64_t max_epoch; /* newest epoch seen: older leaders are refused */
};

static size_t index_of(const struct ft_holdings *h, uint64_t req)
{
	for (size_t i = 0; i < h->n_jobs; i++)
		if (h->jobs[i]->req == req)
			return i;
	return h->n_jobs;
}

static struct ft_held *find(const struct ft_holdings *h, uint64_t req)
{
	size_t i = index_of(h, req);
	return i < h->n_jobs ? h->jobs[i] : NULL;
}

static void free_job(struct ft_holdings *h, struct ft_held *j)
{
	if (j->work)
		h->ops->drop_work(h->ud, j->work);
	if (j->result)
		h->ops->drop_result(h->ud, j->result);
	free(j);
}

static void remove_at(struct ft_holdings *h, size_t i)
{
	free_job(h, h->jobs[i]);
	memmove(&h->jobs[i], &h->jobs[i + 1], (h->n_jobs - i - 1) * sizeof(*h->jobs));
	h->n_jobs--;
}

struct ft_holdings *ft_holdings_new(const struct ft_limits *limits,
				    const struct ft_holdings_ops *ops, void *ud)
{
	struct ft_holdings *h = ft_xcalloc(1, sizeof(*h));
	h->limits = limits;
	h->ops = ops;
	h->ud = ud;
	return h;
}

void ft_holdings_free(struct ft_holdings *h)
{
	if (!h)
		return;
	for (size_t i = 0; i < h->n_jobs; i++)
		free_job(h, h->jobs[i]);
	free(h->jobs);
	free(h);
}

bool ft_holdings_leader(struct ft_holdings *h, uint64_t epoch)
{
	if (epoch < h->max_epoch)
		return false;
	h->max_epoch = epoch;
	return true;
}

uint64_t ft_holdings_epoch(const struct ft_holdings *h)
{
	return h->max_epoch;
}

void ft_holdings_follow_epoch(struct ft_holdings *h, uint64_t epoch)
{
	h->max_epoch = epoch;
}

enum ft_assign_outcome ft_holdings_assign(struct ft_holdings *h, uint64_t req, uint64_t epoch,
					  void *work)
{
	enum ft_assign_outcome out = FT_ASSIGN_QUEUED;
	const struct ft_held *known = find(h, req);
	if (epoch < h->max_epoch)
		out = FT_ASSIGN_STALE;
	else if (known)
		/* Already have it: never run one request twice here. */
		out = known->state == FT_HELD_DONE ? FT_ASSIGN_HELD_DONE : FT_ASSIGN_HELD_RUNNING;
	if (out != FT_ASSIGN_QUEUED) {
		h->ops->drop_work(h->ud, work);
		return out;
	}
	if (h->n_jobs == h->cap) {
		h->cap = h->cap ? 2 * h->cap : 16;
		h->jobs = ft_xrealloc(h->jobs, h->cap * sizeof(*h->jobs));
	}
	struct ft_held *j = ft_xcalloc(1, sizeof(*j));
	j->req = req;
	j->state = FT_HELD_QUEUED;
	j->work = work;
	h->jobs[h->n_jobs++] = j;
	return out;
}

const struct ft_held *ft_holdings_start_next(struct ft_holdings *h)
{
	if (h->running >= (size_t)h->limits->worker_slots)
		return NULL;
	for (size_t i = 0; i < h->n_jobs; i++) {
		struct ft_held *j = h->jobs[i];
		if (j->state != FT_HELD_QUEUED)
			continue;
		j->state = FT_HELD_RUNNING;
		h->running++;
		return j;
	}
	return NULL;
}

const struct ft_held *ft_holdings_finished(struct ft_holdings *h, uint64_t req, void *result,
					   int64_t now_ms)
{
	struct ft_held *j = find(h, req);
	if (!j || j->state != FT_HELD_RUNNING) {
		h->ops->drop_result(h->ud, result);
		return NULL;
	}
	h->running--;
	j->state = FT_HELD_DONE;
	j->result = result;
	j->done_at_ms = now_ms;
	h->ops->drop_work(h->ud, j->work);
	j->work = NULL;
	return j;
}

bool ft_holdings_failed(struct ft_holdings *h, uint64_t req)
{
	size_t i = index_of(h, req);
	if (i == h->n_jobs || h->jobs[i]->state != FT_HELD_RUNNING)
		return false;
	h->running--;
	remove_at(h, i);
	return true;
}

enum ft_cancel_outcome ft_holdings_cancel(struct ft_holdings *h, uint64_t req)
{
	size_t i = index_of(h, req);
	if (i == h->n_jobs)
		return FT_CANCEL_NONE;
	switch (h->jobs[i]->state) {
	case FT_HELD_QUEUED:
		remove_at(h, i);
		return FT_CANCEL_DROPPED;
	case FT_HELD_RUNNING:
		return FT_CANCEL_RUNNING;
	default:
		return FT_CANCEL_NONE;
	}
}

bool ft_holdings_release(struct ft_holdings *h, uint64_t req)
{
	size_t i = index_of(h, req);
	if (i == h->n_jobs || h->jobs[i]->state != FT_HELD_DONE)
		return false;
	remove_at(h, i);
	return true;
}

size_t ft_holdings_expire(struct ft_holdings *h, int64_t now_ms)
{
	size_t n = 0;
	/* Newest first, the order expiry was always logged in. */
	for (size_t i = h->n_jobs; i-- > 0;) {
		struct ft_held *j = h->jobs[i];
		if (j->state != FT_HELD_DONE || now_ms - j->done_at_ms <= h->limits->result_keep_ms)
			continue;
		uint64_t req = j->req;
		remove_at(h, i);
		n++;
		if (h->ops->expired)
			h->ops->expired(h->ud, req);
	}
	return n;
}

void ft_holdings_inventory(const struct ft_holdings *h, struct ft_inventory *inv)
{
	memset(inv, 0, sizeof(*inv));
	inv->running = ft_xcalloc(h->n_jobs ? h->n_jobs : 1, sizeof(*inv->running));
	inv->done = ft_xcalloc(h->n_jobs ? h->n_jobs : 1, sizeof(*inv->done));
	for (size_t i = h->n_jobs; i-- > 0;) {
		const struct ft_held *j = h->jobs[i];
		if (j->state == FT_HELD_DONE)
			inv->done[inv->n_done++] = j;
		else
			inv->running[inv->n_running++] = j->req;
	}
}

void ft_inventory_free(struct ft_inventory *inv)
{
	free(inv->running);
	free(inv->done);
	memset(inv, 0, sizeof(*inv));
}

size_t ft_holdings_hand_back(const struct ft_holdings *h, uint64_t **reqs)
{
	struct ft_inventory inv;
	ft_holdings_inventory(h, &inv);
	*reqs = inv.running;
	free(inv.done);
	return inv.n_running;
}

const struct ft_held *ft_holdings_find(const struct ft_holdings *h, uint64_t req)
{
	return find(h, req);
}

size_t ft_holdings_running(const struct ft_holdings *h)
{
	return h->running;
}

size_t ft_holdings_held(const struct ft_holdings *h)
{
	size_t k = 0;
	for (size_t i = 0; i < h->n_jobs; i++)
		k += h->jobs[i]->state == FT_HELD_DONE;
	return k;
}
