/* What a worker holds: the requests its leaders assigned, queued, running
 * or finished, and each finished result until a leader confirms it was
 * delivered (RELEASE).  Pure logic, no sockets and no clock of its own
 * (expiry is measured on the caller's "now", in ms), so unit tests drive it
 * with a fake clock; worker.c does the frames and the runs.
 *
 * Rules:
 * - Leaders are fenced by epoch: one older than the newest seen is refused,
 *   and so is an assignment carrying one.
 * - One request ID is never run twice here: an assignment of an ID already
 *   held is not taken again (a finished one's result is sent again).
 * - At most limits.worker_slots run at once; the others wait, oldest first.
 * - A finished result is kept until RELEASE, or limits.result_keep_ms after
 *   it finished, when no leader collected it.
 * - The inventory for a new leader lists what runs (or waits) and what is
 *   finished here; on a clean stop what is unfinished is handed back. */
#ifndef FT_NODE_HOLDINGS_H
#define FT_NODE_HOLDINGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf/config.h"

enum ft_held_state { FT_HELD_QUEUED, FT_HELD_RUNNING, FT_HELD_DONE };

/* A request as the caller sees it (read-only: the holdings own it). */
struct ft_held {
	uint64_t req;
	enum ft_held_state state;
	void *work;   /* what to run (the caller's); NULL once done */
	void *result; /* once done, the caller's result */
	int64_t done_at_ms;
};

struct ft_holdings_ops {
	void (*drop_work)(void *ud, void *work);
	void (*drop_result)(void *ud, void *result);
	/* req's result was dropped: no leader collected it in time. */
	void (*expired)(void *ud, uint64_t req);
};

struct ft_holdings;

/* limits is read at each decision (worker_slots, result_keep_ms), so a
 * reload applies at once.  Never NULL. */
struct ft_holdings *ft_holdings_new(const struct ft_limits *limits,
				    const struct ft_holdings_ops *ops, void *ud);
/* Frees every request, with its work and result. */
void ft_holdings_free(struct ft_holdings *h);

/* A leader of epoch introduces itself: true if it is to be served (its
 * epoch is the newest seen), false if stale. */
bool ft_holdings_leader(struct ft_holdings *h, uint64_t epoch);
/* The newest epoch seen. */
uint64_t ft_holdings_epoch(const struct ft_holdings *h);
/* ZooKeeper lost its data: its epochs start again at epoch, lower than the
 * newest seen, and only those are served from now on. */
void ft_holdings_follow_epoch(struct ft_holdings *h, uint64_t epoch);

enum ft_assign_outcome {
	FT_ASSIGN_QUEUED,	/* new: taken, waits for a slot */
	FT_ASSIGN_STALE,	/* from a leader older than the newest seen */
	FT_ASSIGN_HELD_DONE,	/* already finished here: send its result again */
	FT_ASSIGN_HELD_RUNNING, /* already queued or running here */
};

/* An assignment of req by a leader of epoch.  The holdings take work (and
 * free it unless the outcome is FT_ASSIGN_QUEUED). */
enum ft_assign_outcome ft_holdings_assign(struct ft_holdings *h, uint64_t req, uint64_t epoch,
					  void *work);

/* The next request to start, if a slot is free: the oldest queued, which
 * counts as running from now on.  NULL if none or no free slot. */
const struct ft_held *ft_holdings_start_next(struct ft_holdings *h);
/* req's run finished at now_ms with result (taken by the holdings): kept
 * until released or expired.  Returns it, or NULL (result freed) if req was
 * not running here. */
const struct ft_held *ft_holdings_finished(struct ft_holdings *h, uint64_t req, void *result,
					   int64_t now_ms);
/* req's run failed through this node's fault: it is no longer held here
 * (the leader gets it back).  False if req was not running here. */
bool ft_holdings_failed(struct ft_holdings *h, uint64_t req);
enum ft_cancel_outcome {
	FT_CANCEL_NONE,	   /* not queued or running here (finished, or unknown) */
	FT_CANCEL_DROPPED, /* it was only queued: gone, nothing to tell */
	FT_CANCEL_RUNNING, /* it runs: the caller stops it; its result still comes */
};
/* The leader cancelled req. */
enum ft_cancel_outcome ft_holdings_cancel(struct ft_holdings *h, uint64_t req);
/* A leader delivered req's result: drop it.  False if no finished result
 * of req is held. */
bool ft_holdings_release(struct ft_holdings *h, uint64_t req);
/* Drops every result kept longer than limits.result_keep_ms (ops.expired
 * for each).  Returns how many. */
size_t ft_holdings_expire(struct ft_holdings *h, int64_t now_ms);

/* What is held, for a new leader, newest first: the IDs queued or running,
 * and the finished requests (whose results follow the inventory). */
struct ft_inventory {
	uint64_t *running;
	size_t n_running;
	const struct ft_held **done;
	size_t n_done;
};
void ft_holdings_inventory(const struct ft_holdings *h, struct ft_inventory *inv);
void ft_inventory_free(struct ft_inventory *inv);

/* On a clean stop: the unfinished requests to hand back to the leader,
 * newest first (they stay held: a run in progress may still finish).
 * Returns how many; *reqs is the caller's to free. */
size_t ft_holdings_hand_back(const struct ft_holdings *h, uint64_t **reqs);

const struct ft_held *ft_holdings_find(const struct ft_holdings *h, uint64_t req);
size_t ft_holdings_running(const struct ft_holdings *h);
/* Finished results kept. */
size_t ft_holdings_held(const struct ft_holdings *h);

#endif
