/* The gateway core, as the HTTP front ends (the plain /compileandrun API,
 * the JSON API, the dashboard, metrics) see it: submit a source and be
 * called back once with its outcome; read the cluster view. */
#ifndef FT_GATEWAY_H
#define FT_GATEWAY_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf/config.h"

struct gw_result {
	uint64_t id;	     /* request ID (0 when answered from the cache) */
	unsigned status;     /* status of the plain API: 200, 400, 500 or 503 */
	const char *verdict; /* ok, compile_error, ..., or "timeout" */
	const char *body;    /* contract body: run()'s string or the error text */
	size_t len;
	bool cached;		  /* answered from the gateway's cache */
	struct json_object *meta; /* the worker's result fields, or NULL */
	/* The program's stdout and stderr when the run asked for them
	 * ("capture"), else NULL. */
	const char *out, *err;
	size_t out_len, err_len;
};

/* Called exactly once per submission, on the loop thread. */
typedef void (*gw_done_fn)(void *ud, const struct gw_result *r);

enum gw_submit_status {
	GW_SUBMITTED = 0, /* fn will be called later */
	GW_ANSWERED,	  /* fn was already called (cache, idempotent replay) */
	GW_OVERLOADED,	  /* too many pending requests: fn not called */
};

/* What a front end submits (the caller has validated it): a Java source,
 * or for the JSON API a run's files concatenated, with its "job" object
 * (job/jobspec.h) as JSON text. */
struct gw_submission {
	const char *src;
	size_t len;
	size_t main_len; /* the main file's bytes at the start of src */
	const char *job; /* NULL for a plain request */
};

/* idem_key may be NULL.  ud identifies the waiter for gw_forget.  *id_out
 * gets the request ID. */
enum gw_submit_status gw_submit(const struct gw_submission *s, const char *idem_key, gw_done_fn fn,
				void *ud, uint64_t *id_out);

/* Where an unanswered request is: false if the gateway has no such
 * request (answered, or never submitted); else *worker is the worker the
 * leader said runs it (-1: not assigned yet) and *attempts how often it
 * was assigned. */
bool gw_request_progress(uint64_t id, int *worker, int *attempts);

/* Unanswered requests by where they are: {"<worker id>": n, ...} for those
 * the leader said are on a worker; *queued gets the others. */
struct json_object *gw_in_flight_by_worker(size_t *queued);
/* The waiter ud is gone (client disconnected); the request itself goes on. */
void gw_forget(void *ud);

/* GET /cluster's JSON view; caller owns the object.  *leader gets the
 * leader ID or -1. */
struct json_object *gw_cluster_view(int *leader);

const struct ft_config *gw_config(void);

#endif
