/* The recency list of the bounded caches (lib/lru.h). */
#include "lib/lru.h"

static void unlink_only(struct ft_lru *lru, struct ft_lru_link *l)
{
	if (l->newer)
		l->newer->older = l->older;
	else
		lru->newest = l->older;
	if (l->older)
		l->older->newer = l->newer;
	else
		lru->oldest = l->newer;
	l->newer = l->older = NULL;
}

static void push_newest(struct ft_lru *lru, struct ft_lru_link *l)
{
	l->newer = NULL;
	l->older = lru->newest;
	if (lru->newest)
		lru->newest->newer = l;
	else
		lru->oldest = l;
	lru->newest = l;
}

void ft_lru_add(struct ft_lru *lru, struct ft_lru_link *l, size_t cost)
{
	l->cost = cost;
	push_newest(lru, l);
	lru->n++;
	lru->bytes += cost;
}

void ft_lru_touch(struct ft_lru *lru, struct ft_lru_link *l)
{
	unlink_only(lru, l);
	push_newest(lru, l);
}

void ft_lru_remove(struct ft_lru *lru, struct ft_lru_link *l)
{
	unlink_only(lru, l);
	lru->n--;
	lru->bytes -= l->cost;
}
