#include "gateway/runs.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "lib/util.h"

void gw_runs_init(struct gw_runs *rs, const struct ft_limits *lim)
{
	memset(rs, 0, sizeof(*rs));
	rs->lim = lim;
}

static void run_unlink(struct gw_runs *rs, struct gw_run *x)
{
	if (x->prev)
		x->prev->next = x->next;
	else
		rs->head = x->next;
	if (x->next)
		x->next->prev = x->prev;
	else
		rs->tail = x->prev;
	rs->count--;
}

static void run_free(struct gw_run *x)
{
	free(x->idem_key);
	free(x->expected);
	free(x->callback_url);
	json_object_put(x->result);
	free(x);
}

void gw_runs_remove(struct gw_runs *rs, struct gw_run *x)
{
	run_unlink(rs, x);
	run_free(x);
}

void gw_runs_clear(struct gw_runs *rs)
{
	while (rs->head)
		gw_runs_remove(rs, rs->head);
}

void gw_runs_sweep(struct gw_runs *rs, int64_t now_ms)
{
	const struct ft_limits *lim = rs->lim;
	for (struct gw_run *x = rs->head, *next; x; x = next) {
		next = x->next;
		if (x->done && (now_ms - x->done_ms >= lim->result_ttl_ms ||
				rs->count > (size_t)lim->max_stored_runs))
			gw_runs_remove(rs, x);
	}
}

struct gw_run *gw_runs_find(const struct gw_runs *rs, const char *id)
{
	for (struct gw_run *x = rs->head; x; x = x->next)
		if (strcmp(x->id, id) == 0)
			return x;
	return NULL;
}

struct gw_run *gw_runs_find_key(const struct gw_runs *rs, const char *key)
{
	for (struct gw_run *x = rs->tail; x; x = x->prev)
		if (x->idem_key && strcmp(x->idem_key, key) == 0)
			return x;
	return NULL;
}

struct gw_run *gw_runs_add(struct gw_runs *rs, const char *idem_key, uint64_t src_hash,
			   int64_t wall_ms)
{
	struct gw_run *x = ft_xcalloc(1, sizeof(*x));
	do {
		uint64_t rnd = 0;
		if (getrandom(&rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
			rnd = ((uint64_t)ft_random(NULL) << 32) | ft_random(NULL);
		snprintf(x->id, sizeof(x->id), "%016" PRIx64, rnd);
	} while (gw_runs_find(rs, x->id));
	x->idem_key = idem_key ? ft_xstrdup(idem_key) : NULL;
	x->src_hash = src_hash;
	x->submitted_wall_ms = wall_ms;
	x->prev = rs->tail;
	if (rs->tail)
		rs->tail->next = x;
	else
		rs->head = x;
	rs->tail = x;
	rs->count++;
	return x;
}

void gw_run_finish(struct gw_run *x, int64_t now_ms, int64_t wall_ms, uint64_t req_id,
		   struct json_object *result)
{
	x->done = true;
	x->done_ms = now_ms;
	x->finished_wall_ms = wall_ms;
	if (!x->req_id)
		x->req_id = req_id;
	x->result = result;
}

void gw_run_drop_key(struct gw_run *x)
{
	free(x->idem_key);
	x->idem_key = NULL;
}

bool gw_run_verdict_is(const struct gw_run *x, const char *verdict)
{
	struct json_object *v;
	return x->result && json_object_object_get_ex(x->result, "verdict", &v) &&
	       strcmp(json_object_get_string(v), verdict) == 0;
}

enum gw_run_state gw_run_state(const struct gw_run *x, const struct gw_core *core, int *worker,
			       int *attempts)
{
	*worker = -1;
	*attempts = 0;
	if (x->done)
		return GW_RUN_DONE;
	(void)gw_core_progress(core, x->req_id, worker, attempts);
	return *worker >= 0 ? GW_RUN_RUNNING : GW_RUN_QUEUED;
}
