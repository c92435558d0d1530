/* The HTTP server's open connections, watched against slow clients: how
 * many each client address holds, and how long each has been sending a
 * request that has not fully arrived.
 *
 * libmicrohttpd's own connection timeout counts only inactivity, so a
 * client sending a byte every few seconds ("slowloris") holds a connection
 * for ever.  Here a connection is "waiting" from its start, and again from
 * the end of each request on it (keep-alive), until its next request has
 * fully arrived (headers and body); waiting longer than the deadline, it
 * is due to be dropped, however steadily it dribbles.  While a request is
 * being answered (a run may take a minute) the connection is not waiting.
 *
 * Pure: a list and the times the caller passes (milliseconds of a
 * monotonic clock); lib/httpd.c closes the connections.  Unit-tested
 * (tests/unit/check_connwatch.c). */
#ifndef FT_CONNWATCH_H
#define FT_CONNWATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ft_watched {
	struct ft_watched *prev, *next;
	char peer[64]; /* the client's address as text */
	int fd;
	int64_t since_ms; /* waiting since */
	bool waiting;
	bool due; /* found past the deadline: being dropped */
};

struct ft_connwatch {
	struct ft_watched *head;
	size_t n;
};

/* c (filled by the caller: peer, fd) opens at now_ms: waiting. */
void ft_connwatch_add(struct ft_connwatch *w, struct ft_watched *c, int64_t now_ms);
void ft_connwatch_remove(struct ft_connwatch *w, struct ft_watched *c);

/* c's request has fully arrived: not waiting until it is done. */
void ft_connwatch_arrived(struct ft_watched *c);
/* c's request is done (answered): waiting again, for the next one. */
void ft_connwatch_done(struct ft_watched *c, int64_t now_ms);

/* Open connections from peer. */
size_t ft_connwatch_count_peer(const struct ft_connwatch *w, const char *peer);

/* Calls fn for every connection waiting for deadline_ms or more at now_ms
 * (each once: it is marked due); returns how many. */
size_t ft_connwatch_sweep(struct ft_connwatch *w, int64_t now_ms, int64_t deadline_ms,
			  void (*fn)(void *ud, struct ft_watched *c), void *ud);

/* When the next waiting connection will be due (now_ms or earlier if one
 * is due now), or -1 when none is waiting. */
int64_t ft_connwatch_next_due(const struct ft_connwatch *w, int64_t deadline_ms);

#endif
