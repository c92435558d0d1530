/* The gateway's unanswered requests: each keeps its ID, its source and the
 * clients waiting for it until an answer arrives or its deadline passes.
 * This table is what lets a request survive the loss of a leader: every
 * entry is re-sent, with its original ID, to the next leader. */
#ifndef FT_GATEWAY_PENDING_H
#define FT_GATEWAY_PENDING_H

#include <stddef.h>
#include <stdint.h>

#define GW_FINGERPRINT_LEN 32

/* A waiter's callback, stored generically: the gateway core casts it back
 * to its own callback type (gw_done_fn) before calling it. */
typedef void (*ft_pending_fn)(void);

struct ft_pending_waiter {
	ft_pending_fn fn;
	void *ud;
};

struct ft_pending_req {
	struct ft_pending_req *next;
	uint64_t id;
	char *body; /* the source, or the job's files concatenated */
	size_t len;
	char *job;	/* the JSON API's "job" object as JSON text, or NULL */
	char *idem_key; /* Idempotency-Key, or NULL */
	/* SHA-256 of the request, which its key is bound to. */
	unsigned char fp[GW_FINGERPRINT_LEN];
	int worker;   /* the worker the leader last said runs it, or -1 */
	int attempts; /* how often the leader has assigned it */
	int64_t created_ms;
	int64_t deadline_ms;
	size_t n_waiters;
	struct ft_pending_waiter *waiters; /* clients waiting for this answer */
};

struct ft_pending {
	struct ft_pending_req *head, *tail;
	size_t count;
};

struct ft_pending_req *ft_pending_add(struct ft_pending *p, uint64_t id, const char *body,
				      size_t len, const char *job, const char *idem_key,
				      int64_t now_ms, int64_t deadline_ms);
struct ft_pending_req *ft_pending_find(const struct ft_pending *p, uint64_t id);
struct ft_pending_req *ft_pending_find_key(const struct ft_pending *p, const char *idem_key);
void ft_pending_add_waiter(struct ft_pending_req *r, ft_pending_fn fn, void *ud);
/* Returns 1 if a waiter with this ud was found and removed. */
int ft_pending_remove_waiter(struct ft_pending_req *r, void *ud);
/* Unlinks and frees r. */
void ft_pending_remove(struct ft_pending *p, struct ft_pending_req *r);
void ft_pending_clear(struct ft_pending *p);

#endif
