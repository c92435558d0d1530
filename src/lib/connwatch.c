/* The HTTP server's connections against slow clients (lib/connwatch.h). */
#include "lib/connwatch.h"

#include <string.h>

void ft_connwatch_add(struct ft_connwatch *w, struct ft_watched *c, int64_t now_ms)
{
	c->prev = NULL;
	c->next = w->head;
	if (w->head)
		w->head->prev = c;
	w->head = c;
	w->n++;
	c->since_ms = now_ms;
	c->waiting = true;
	c->due = false;
}

void ft_connwatch_remove(struct ft_connwatch *w, struct ft_watched *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		w->head = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->prev = c->next = NULL;
	w->n--;
}

void ft_connwatch_arrived(struct ft_watched *c)
{
	c->waiting = false;
}

void ft_connwatch_done(struct ft_watched *c, int64_t now_ms)
{
	c->waiting = true;
	c->since_ms = now_ms;
}

size_t ft_connwatch_count_peer(const struct ft_connwatch *w, const char *peer)
{
	size_t n = 0;
	for (const struct ft_watched *c = w->head; c; c = c->next)
		if (strcmp(c->peer, peer) == 0)
			n++;
	return n;
}

size_t ft_connwatch_sweep(struct ft_connwatch *w, int64_t now_ms, int64_t deadline_ms,
			  void (*fn)(void *ud, struct ft_watched *c), void *ud)
{
	size_t n = 0;
	for (struct ft_watched *c = w->head, *next; c; c = next) {
		next = c->next; /* taken first: fn may remove c */
		if (!c->waiting || c->due || now_ms - c->since_ms < deadline_ms)
			continue;
		c->due = true;
		n++;
		fn(ud, c);
	}
	return n;
}

int64_t ft_connwatch_next_due(const struct ft_connwatch *w, int64_t deadline_ms)
{
	int64_t next = -1;
	for (const struct ft_watched *c = w->head; c; c = c->next) {
		if (!c->waiting || c->due)
			continue;
		int64_t at = c->since_ms + deadline_ms;
		if (next < 0 || at < next)
			next = at;
	}
	return next;
}
