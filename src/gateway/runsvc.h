/* The run service: what every API that runs programs shares (the JSON
 * API, and the Judge0 and Piston look-alikes): starting a run from a
 * parsed request, or finding the one its Idempotency-Key names; the
 * clients waiting for it; its result as the JSON API's result fields,
 * which the other APIs translate. */
#ifndef FT_GATEWAY_RUNSVC_H
#define FT_GATEWAY_RUNSVC_H

#include <json-c/json.h>
#include <stdbool.h>

#include "conf/config.h"
#include "gateway/callback.h"
#include "gateway/core.h"
#include "gateway/run_request.h"
#include "gateway/runs.h"

struct ft_http_req;

struct gw_runsvc {
	struct gw_core *core;
	const struct ft_config *cfg;
	struct gw_runs runs;
	struct gw_callbacks *callbacks; /* NULL: every callback_url refused */
};

void gw_runsvc_init(struct gw_runsvc *sv, struct gw_core *core, const struct ft_config *cfg);
/* After the HTTP server is gone (its requests are the runs' waiters). */
void gw_runsvc_clear(struct gw_runsvc *sv);

/* The run q asks for (q is freed): a new one (*fresh), or the one the
 * Idempotency-Key key (NULL or "": none) names, done or not.  NULL when
 * refused, and *err says why (413 too large for a frame, 422 the key names
 * another run or the callback_url is not allowed, 503 overloaded: the
 * client should retry later). */
struct gw_run *gw_runsvc_start(struct gw_runsvc *sv, struct gw_run_request *q, const char *key,
			       struct gw_api_error *err, bool *fresh);

/* How a client waiting for x is answered once x is done. */
typedef void (*gw_run_answer_fn)(void *ud, struct ft_http_req *r, const struct gw_run *x);
/* fn(ud, r, x) now if x is done, else once it is (r answers nothing
 * before; if its client goes away, nothing is called). */
/* Cancel x (not done): it is answered "cancelled" at once, its waiters
 * too, and the leader stops it (every test of a run with tests). */
void gw_runsvc_cancel(struct gw_runsvc *sv, struct gw_run *x);

void gw_runsvc_when_done(struct gw_run *x, struct ft_http_req *r, gw_run_answer_fn fn, void *ud);

/* The JSON API's Run object of x (its result fields once done); core may
 * be NULL for a done run.  Caller owns it. */
struct json_object *gw_runsvc_run_json(const struct gw_core *core, const struct gw_run *x);

#endif
