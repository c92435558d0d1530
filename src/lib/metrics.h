/* Metrics in the Prometheus text format (version 0.0.4), for GET /metrics
 * on the gateway and on every node.
 *
 * 1. A tiny registry (pure, unit-tested; metrics.c): counters, gauges and
 *    histograms, each a family with at most one label whose values are
 *    fixed when the family is registered (every series exists, from 0, so a
 *    scrape never misses a series that simply has not happened yet).  A
 *    value outside the fixed set goes to the series "other" if the family
 *    has one, else it is dropped.  Everything runs on the daemon's loop
 *    thread: no locks.
 *
 * 2. One process-wide registry, which GET /metrics renders (metrics.c).
 *
 * 3. The daemons' standard metrics that are fed plain values, by hooks the
 *    daemons call where things happen (see each hook), plus a small ring of
 *    recent cluster events (member failures and joins, leadership changes)
 *    that the gateway serves as GET /v1/events (daemon_metrics.c, on
 *    lib/events.c).  The gossip families, and ft_metrics_init which
 *    registers them all in their order, are in gossip/gossip_metrics.h.
 *
 * Names: ftcluster_* exist in every daemon, ftgw_* only in the gateway,
 * ftnode_* only in nodes.  Durations are in seconds, as Prometheus wants. */
#ifndef FT_METRICS_H
#define FT_METRICS_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/util.h"

struct ft_http_req;

/* ---- 1. the registry ---- */

enum ft_metric_type { FT_METRIC_COUNTER, FT_METRIC_GAUGE, FT_METRIC_HISTOGRAM };

struct ft_metrics; /* a registry */
struct ft_metric;  /* one family */

typedef double (*ft_metric_sample_fn)(void *ud);
/* Called before every render: may set values (mirror external counters). */
typedef void (*ft_metrics_collect_fn)(struct ft_metrics *m, void *ud);

struct ft_metrics *ft_metrics_new(void);
void ft_metrics_free(struct ft_metrics *m);

/* Register a family.  label: NULL for one unlabelled series; else the
 * label's name and values, a NULL-terminated list of distinct strings.
 * Returns NULL (and registers nothing) for an invalid or duplicate name,
 * an invalid label name (or "le"), or an empty or duplicated value list.
 * The strings are copied. */
struct ft_metric *ft_metrics_counter(struct ft_metrics *m, const char *name, const char *help,
				     const char *label, const char *const *values);
struct ft_metric *ft_metrics_gauge(struct ft_metrics *m, const char *name, const char *help,
				   const char *label, const char *const *values);
/* bounds: the buckets' upper bounds, strictly increasing and finite (the
 * +Inf bucket is implicit); 1..32 of them. */
struct ft_metric *ft_metrics_histogram(struct ft_metrics *m, const char *name, const char *help,
				       const char *label, const char *const *values,
				       const double *bounds, size_t n_bounds);
/* An unlabelled gauge whose value fn(ud) returns at render time. */
struct ft_metric *ft_metrics_gauge_func(struct ft_metrics *m, const char *name, const char *help,
					ft_metric_sample_fn fn, void *ud);
void ft_metrics_on_collect(struct ft_metrics *m, ft_metrics_collect_fn fn, void *ud);

struct ft_metric *ft_metrics_find(const struct ft_metrics *m, const char *name);

/* Updates.  value: the label value (NULL for an unlabelled family).  Each
 * is a no-op on a NULL family or a family of another type, and counters
 * ignore negative or NaN increments. */
void ft_metric_inc(struct ft_metric *f, const char *value);
void ft_metric_add(struct ft_metric *f, const char *value, double v);
/* Gauges; and counters mirroring a count kept elsewhere (never lower it). */
void ft_metric_set(struct ft_metric *f, const char *value, double v);
void ft_metric_observe(struct ft_metric *f, const char *value, double v);

/* Current value of a counter or gauge series (a gauge_func is sampled), or
 * a histogram series' observation count; NaN if there is no such series. */
double ft_metric_get(const struct ft_metric *f, const char *value);

/* Append the text exposition of every family, in registration order. */
void ft_metrics_render(struct ft_metrics *m, struct ft_buf *out);

/* The media type of ft_metrics_render's output. */
#define FT_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* ---- 2. the process-wide registry ---- */

/* The process-wide registry (created on first use). */
struct ft_metrics *ft_metrics_global(void);
/* Frees the registry (at daemon exit), after calling every forget hook. */
void ft_metrics_shutdown(void);
/* forget() is called by ft_metrics_shutdown: a module that keeps pointers
 * to families of the process-wide registry drops them there.  Registering
 * the same hook again is a no-op. */
void ft_metrics_on_shutdown(void (*forget)(void));

/* A gauge sampled at every scrape, e.g. a queue depth.  Call after init. */
void ft_metrics_gauge_fn(const char *name, const char *help, ft_metric_sample_fn fn, void *ud);

/* GET /metrics: answers it (405 for other methods) and returns true;
 * false for any other path. */
bool ft_metrics_route(struct ft_http_req *r);

/* ---- 3. the daemons' standard metrics and events (process-wide) ---- */

/* Registers the leadership families, and for daemon "ftnode" the
 * ftnode_* ones; once (self_id is updated every time).  ft_metrics_init
 * calls it, after the gossip families. */
void ft_metrics_daemon_init(const char *daemon, int self_id);

/* Whenever the election state may have changed: the known leader (-1 for
 * none) and epoch.  Counts and records only real changes. */
void ft_metrics_election(int leader, uint64_t epoch);

/* ftnode: a run finished on this worker (verdict name, wall time). */
void ft_metrics_run_done(const char *verdict, int64_t wall_ms);
/* A connection failed the cluster key handshake (lib/conn.c). */
void ft_metrics_handshake_failed(void);
/* ftnode leader: a request handed to a worker. */
void ft_metrics_assigned(void);
/* ftnode leader: n requests taken back from a worker (failed, gone, or
 * handed back) to be assigned again. */
void ft_metrics_reassigned(size_t n);
/* ftnode leader: a request dropped or refused unrun (reason "expired" or
 * "queue_full"). */
void ft_metrics_shed(const char *reason);

/* Records a cluster event, stamped with the wall clock.  type: a static
 * string; node, src, leader: -1 and incarnation, epoch: 0 for none. */
void ft_metrics_event(const char *type, int node, int src, uint64_t incarnation, int leader,
		      uint64_t epoch);

/* Recent events, oldest first, with seq > since:
 * {"next": N, "dropped": bool, "events": [{"seq", "time_ms", "type", ...}]}.
 * type: member_joined, member_failed, member_rejoined, member_removed,
 * self_rejoined, leader_elected, leader_lost.  "next" is the seq to pass
 * as since next time; "dropped" tells that events after since were
 * already overwritten.  Caller owns the object. */
struct json_object *ft_metrics_events_json(uint64_t since);

#endif
