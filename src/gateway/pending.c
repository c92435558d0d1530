#include "gateway/pending.h"

#include <stdlib.h>
#include <string.h>

#include "lib/util.h"

struct ft_pending_req *ft_pending_add(struct ft_pending *p, uint64_t id, const char *body,
				      size_t len, const char *job, const char *idem_key,
				      int64_t now_ms, int64_t deadline_ms)
{
	struct ft_pending_req *r = ft_xcalloc(1, sizeof(*r));
	r->id = id;
	r->body = ft_xmemdup(body, len);
	r->len = len;
	r->job = job ? ft_xstrdup(job) : NULL;
	r->worker = -1;
	r->idem_key = idem_key ? ft_xstrdup(idem_key) : NULL;
	r->created_ms = now_ms;
	r->deadline_ms = deadline_ms;
	if (p->tail)
		p->tail->next = r;
	else
		p->head = r;
	p->tail = r;
	p->count++;
	return r;
}

struct ft_pending_req *ft_pending_find(const struct ft_pending *p, uint64_t id)
{
	for (struct ft_pending_req *r = p->head; r; r = r->next)
		if (r->id == id)
			return r;
	return NULL;
}

struct ft_pending_req *ft_pending_find_key(const struct ft_pending *p, const char *idem_key)
{
	for (struct ft_pending_req *r = p->head; r; r = r->next)
		if (r->idem_key && strcmp(r->idem_key, idem_key) == 0)
			return r;
	return NULL;
}

void ft_pending_add_waiter(struct ft_pending_req *r, ft_pending_fn fn, void *ud)
{
	r->waiters = ft_xrealloc(r->waiters, (r->n_waiters + 1) * sizeof(*r->waiters));
	r->waiters[r->n_waiters].fn = fn;
	r->waiters[r->n_waiters].ud = ud;
	r->n_waiters++;
}

int ft_pending_remove_waiter(struct ft_pending_req *r, void *ud)
{
	for (size_t i = 0; i < r->n_waiters; i++) {
		if (r->waiters[i].ud == ud) {
			r->waiters[i] = r->waiters[--r->n_waiters];
			return 1;
		}
	}
	return 0;
}

void ft_pending_remove(struct ft_pending *p, struct ft_pending_req *r)
{
	struct ft_pending_req *prev = NULL;
	for (struct ft_pending_req *x = p->head; x; prev = x, x = x->next) {
		if (x != r)
			continue;
		if (prev)
			prev->next = r->next;
		else
			p->head = r->next;
		if (p->tail == r)
			p->tail = prev;
		p->count--;
		break;
	}
	free(r->body);
	free(r->job);
	free(r->idem_key);
	free(r->waiters);
	free(r);
}

void ft_pending_clear(struct ft_pending *p)
{
	while (p->head)
		ft_pending_remove(p, p->head);
}
