/* The JSON API's run records (POST /v1/runs, GET /v1/runs/{id}): a run is
 * one submission to the core under a random 16-hex-digit ID; its record,
 * with its result once done, is kept for limits.result_ttl_ms after it is
 * done, and at most limits.max_stored_runs records are kept (the oldest
 * finished go first).  Unfinished runs always stay: the core will finish
 * them.
 *
 * Pure: no HTTP and no clock of its own (every call that needs the time
 * takes it); the HTTP requests waiting for a run hang off its record but
 * belong to the front end (api_v1.c). */
#ifndef FT_GATEWAY_RUNS_H
#define FT_GATEWAY_RUNS_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf/config.h"
#include "gateway/core.h"

struct gw_run_waiter; /* the front end's */
struct gw_run;

/* How an API other than the JSON API calls back (Judge0: its submission,
 * by PUT). */
struct gw_callback_as {
	const char *method;
	/* The body for done run x; caller owns it. */
	struct json_object *(*body)(const void *ctx, const struct gw_run *x);
	const void *ctx;
};
struct gw_callbacks;
struct gw_testset;

struct gw_run {
	struct gw_run *prev, *next; /* oldest first */
	char id[17];
	uint64_t req_id; /* the core's request ID; 0 until known */
	char *idem_key;	 /* Idempotency-Key, or NULL */
	uint64_t src_hash;
	bool done;
	bool base64; /* its answer's bytes go back base64-encoded */
	/* "expected_output": an ok run is then accepted or wrong_answer. */
	char *expected; /* NULL: not judged */
	size_t expected_len;
	int compare; /* enum gw_compare */
	/* Send the run there once done (gateway/callback.h), or NULL; as
	 * callback_as says, or as the JSON API's Run by POST when NULL. */
	char *callback_url;
	struct gw_callbacks *callbacks;
	const struct gw_callback_as *callback_as;
	/* A run with "tests", until they are all done (gateway/testset.h). */
	struct gw_testset *tests;
	int64_t submitted_wall_ms, done_ms, finished_wall_ms;
	struct json_object *result; /* result fields, once done */
	struct gw_run_waiter *waiters;
};

struct gw_runs {
	const struct ft_limits *lim; /* read at each sweep: a reload applies */
	struct gw_run *head, *tail;
	size_t count;
};

enum gw_run_state { GW_RUN_QUEUED, GW_RUN_RUNNING, GW_RUN_DONE };

void gw_runs_init(struct gw_runs *rs, const struct ft_limits *lim);
/* Frees every record (their waiters must be gone). */
void gw_runs_clear(struct gw_runs *rs);

/* A new, unfinished record with an ID no other record has. */
struct gw_run *gw_runs_add(struct gw_runs *rs, const char *idem_key, uint64_t src_hash,
			   int64_t wall_ms);
/* Unlinks and frees x. */
void gw_runs_remove(struct gw_runs *rs, struct gw_run *x);
struct gw_run *gw_runs_find(const struct gw_runs *rs, const char *id);
/* The newest record with this Idempotency-Key, or NULL. */
struct gw_run *gw_runs_find_key(const struct gw_runs *rs, const char *key);
/* Drop finished runs past their TTL, and the oldest finished ones while
 * there are more than max_stored_runs. */
void gw_runs_sweep(struct gw_runs *rs, int64_t now_ms);

/* x is done: result (owned from now on) holds its result fields; req_id
 * is taken if x had none yet. */
void gw_run_finish(struct gw_run *x, int64_t now_ms, int64_t wall_ms, uint64_t req_id,
		   struct json_object *result);
/* x no longer answers to its Idempotency-Key. */
void gw_run_drop_key(struct gw_run *x);
bool gw_run_verdict_is(const struct gw_run *x, const char *verdict);
/* Done, or for an unfinished run what the core says: running (on *worker)
 * once the leader assigned it, else queued.  *worker is -1 and *attempts 0
 * unless the core knows better.  core is not read for a done run. */
enum gw_run_state gw_run_state(const struct gw_run *x, const struct gw_core *core, int *worker,
			       int *attempts);

#endif
