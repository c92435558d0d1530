/* The worker side of a node, as IO: the current leader's connection and the
 * runner.  What is held - queued, running and finished requests, results
 * kept until a leader confirms delivery (RELEASE), epochs refused - is
 * node/holdings.c's to decide; a leader that reconnects, or a new leader,
 * gets the whole inventory, so no finished work is lost with a leader. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf/reload.h"
#include "lib/log.h"
#include "lib/metrics.h"
#include "lib/util.h"
#include "node/holdings.h"
#include "node/node.h"
#include "job/jobspec.h"
#include "runner/limits.h"
#include "runner/runner.h"

/* What a leader assigned: the frame's blob (the source, or the job's files)
 * and the "job" object of the JSON API, or NULL. */
struct work {
	char *src;
	size_t src_len;
	struct json_object *job;
};

/* A finished run, as the runner reported it. */
struct outcome {
	enum ft_verdict verdict;
	int exit_code;
	int64_t wall_ms;
	int64_t run_ms, cpu_ms, memory_bytes; /* -1: unknown */
	bool compile_cached;
	bool entered, main_program;
	char *body;
	size_t body_len;
	char *out, *err; /* captured stdout and stderr, or NULL */
	size_t out_len, err_len;
};

struct ft_worker {
	struct ft_node *n;
	struct ft_runner *runner;
	struct ft_holdings *held;
	struct ft_conn *leader; /* connection of the newest leader, or NULL */
	/* A leader that said HELLO before this node's ZooKeeper view named it:
	 * held, unanswered, until the view does or limits.leader_confirm_ms. */
	struct ft_conn *unconfirmed;
	int unconfirmed_id;
	uint64_t unconfirmed_epoch;
	sd_event_source *confirm_timer;
	sd_event_source *sweep;
	unsigned data_losses; /* ft_election_data_losses followed */
	char jar[FT_PATH_MAX + 32];
	char work_dir[FT_PATH_MAX + 32];
	char uid_lock_dir[FT_PATH_MAX + 32];
};

static void drop_work(void *ud, void *p)
{
	struct work *wk = p;
	free(wk->src);
	json_object_put(wk->job);
	free(wk);
}

static void drop_outcome(void *ud, void *p)
{
	struct outcome *o = p;
	free(o->body);
	free(o->out);
	free(o->err);
	free(o);
}

static void expired(void *ud, uint64_t req)
{
	ft_log_request(LOG_WARNING, req, "expired",
		       "dropping result of request %llu: no leader collected it "
		       "within limits.result_keep_ms",
		       (unsigned long long)req);
}

static const struct ft_holdings_ops holdings_ops = {
	.drop_work = drop_work,
	.drop_result = drop_outcome,
	.expired = expired,
};

static void send_result(struct ft_worker *w, const struct ft_held *j)
{
	if (!ft_conn_is_open(w->leader))
		return;
	const struct outcome *o = j->result;
	struct json_object *m = json_object_new_object();
	json_object_object_add(m, "req", json_object_new_uint64(j->req));
	json_object_object_add(m, "epoch", json_object_new_uint64(ft_holdings_epoch(w->held)));
	json_object_object_add(m, "verdict", json_object_new_string(ft_verdict_name(o->verdict)));
	json_object_object_add(m, "exit", json_object_new_int(o->exit_code));
	json_object_object_add(m, "wall_ms", json_object_new_int64(o->wall_ms));
	json_object_object_add(m, "run_ms", json_object_new_int64(o->run_ms));
	json_object_object_add(m, "cpu_ms", json_object_new_int64(o->cpu_ms));
	json_object_object_add(m, "memory_bytes", json_object_new_int64(o->memory_bytes));
	json_object_object_add(m, "compile_cached", json_object_new_boolean(o->compile_cached));
	json_object_object_add(m, "worker", json_object_new_int(w->n->self->id));
	if (o->entered)
		json_object_object_add(m, "entry",
				       json_object_new_string(ft_entry_name(
					       o->main_program ? FT_ENTRY_MAIN : FT_ENTRY_RUN)));
	if (!o->out && !o->err) {
		ft_conn_send(w->leader, FT_FRAME_RESULT, m, o->body, o->body_len);
		json_object_put(m);
		return;
	}
	/* Captured output rides after the body in the blob. */
	json_object_object_add(m, "stdout_bytes", json_object_new_uint64(o->out_len));
	json_object_object_add(m, "stderr_bytes", json_object_new_uint64(o->err_len));
	struct ft_buf blob = { 0 };
	ft_buf_append(&blob, o->body, o->body_len);
	ft_buf_append(&blob, o->out, o->out_len);
	ft_buf_append(&blob, o->err, o->err_len);
	ft_conn_send(w->leader, FT_FRAME_RESULT, m, blob.data, blob.len);
	ft_buf_free(&blob);
	json_object_put(m);
}

/* How much of a failure's description travels with the request. */
#define WHY_MAX 400

static void start_queued(struct ft_worker *w);
static void reply_reject(struct ft_conn *c, const char *reason, uint64_t req, bool failed);

/* This node could not run it (its sandbox or JVM failed): not an answer
 * for the client.  The leader gives it to another worker. */
static void hand_back_failed(struct ft_worker *w, uint64_t req, const struct ft_run_result *res)
{
	/* One line for logs and the client's 503: "what failed: why". */
	const char *body = res->body ? res->body : "";
	size_t len = strnlen(body, WHY_MAX);
	char *why = ft_xasprintf("%.*s", (int)len, body);
	for (char *p = why; (p = strchr(p, '\n')) != NULL;)
		*p = p[1] ? ';' : '\0';
	ft_log_request(LOG_WARNING, req, "failed",
		       "request %llu could not run here (%s); handing it back to the leader",
		       (unsigned long long)req, why);
	if (ft_conn_is_open(w->leader))
		reply_reject(w->leader, why, req, true);
	free(why);
	ft_holdings_failed(w->held, req);
}

static struct outcome *outcome_of(const struct ft_run_result *res)
{
	struct outcome *o = ft_xcalloc(1, sizeof(*o));
	o->verdict = res->verdict;
	o->exit_code = res->exit_code;
	o->wall_ms = res->wall_ms;
	o->run_ms = res->run_ms;
	o->cpu_ms = res->cpu_ms;
	o->memory_bytes = res->memory_bytes;
	o->compile_cached = res->compile_cached;
	o->entered = res->entered;
	o->main_program = res->main_program;
	o->body = ft_xmemdup(res->body ? res->body : "", res->body_len);
	o->body_len = res->body_len;
	if (res->out) {
		o->out = ft_xmemdup(res->out, res->out_len);
		o->out_len = res->out_len;
	}
	if (res->err) {
		o->err = ft_xmemdup(res->err, res->err_len);
		o->err_len = res->err_len;
	}
	return o;
}

static void job_done(void *ud, uint64_t req, const struct ft_run_result *res)
{
	struct ft_worker *w = ud;
	bool held = ft_holdings_find(w->held, req) != NULL;
	ft_metrics_run_done(ft_verdict_name(res->verdict), res->wall_ms);
	if (held && res->transient) {
		hand_back_failed(w, req, res);
	} else if (held) {
		const struct ft_held *j =
			ft_holdings_finished(w->held, req, outcome_of(res), ft_now_ms());
		ft_log_request(LOG_DEBUG, req, "done", "request %llu done: %s in %lld ms",
			       (unsigned long long)req, ft_verdict_name(res->verdict),
			       (long long)res->wall_ms);
		if (j)
			send_result(w, j);
	}
	start_queued(w);
}

/* Hands j to the runner, with what its "job" object asks for. */
static int start_job(struct ft_worker *w, const struct ft_held *j, char *why, size_t whylen)
{
	const struct work *wk = j->work;
	const struct ft_limits *lc = &w->n->cfg.limits;
	struct ft_jobspec_max max = { .files = (size_t)lc->max_files,
				      .args = (size_t)lc->max_args };
	struct ft_jobspec spec;
	if (ft_jobspec_decode(wk->job, wk->src, wk->src_len, &max, &spec, why, whylen) < 0) {
		errno = EINVAL;
		return -1;
	}
	/* Without "files" the blob is one source, named after its class. */
	struct ft_job_file single = { .src = wk->src, .len = wk->src_len };
	/* Zero fields keep the configured limit; the runner clamps the rest. */
	struct ft_run_limits lim = {
		.run_wall_ms = (int)(spec.time_ms > INT32_MAX ? INT32_MAX : spec.time_ms),
		.run_cpu_ms = (int)(spec.cpu_ms > INT32_MAX ? INT32_MAX : spec.cpu_ms),
		.run_memory_bytes =
			spec.memory_mb > 0 && (uint64_t)spec.memory_mb < UINT64_MAX / FT_MiB
				? (uint64_t)spec.memory_mb * FT_MiB
				: 0,
		.max_output_bytes = (uint64_t)spec.output_bytes,
	};
	struct ft_run_job rj = {
		.files = spec.n_files > 0 ? spec.files : &single,
		.n_files = spec.n_files > 0 ? spec.n_files : 1,
		.input = spec.input,
		.input_len = spec.input_len,
		.args = spec.args,
		.n_args = spec.n_args,
		.limits = &lim,
		.capture = spec.capture,
		.entry = spec.entry,
	};
	int rc = ft_runner_start_job(w->runner, j->req, &rj, job_done, w);
	int saved = errno;
	if (rc < 0)
		ft_set_err(why, whylen, "the runner refused it: %s", strerror(errno));
	ft_jobspec_free(&spec);
	errno = saved;
	return rc;
}

static void start_queued(struct ft_worker *w)
{
	const struct ft_held *j;
	while ((j = ft_holdings_start_next(w->held)) != NULL) {
		uint64_t req = j->req;
		ft_log_request(LOG_DEBUG, req, "run", "running request %llu",
			       (unsigned long long)req);
		char why[256];
		if (start_job(w, j, why, sizeof(why)) < 0) {
			char *body = ft_xasprintf(
				"Internal error: the worker could not start the run\n%s", why);
			/* A job this node cannot even decode is refused by every
			 * node; anything else (no memory, no disk) is this node's. */
			struct ft_run_result res = {
				.verdict = FT_VERDICT_INTERNAL_ERROR,
				.exit_code = -1,
				.body = body,
				.body_len = strlen(body),
				.transient = errno != EINVAL,
			};
			job_done(w, req, &res);
			free(body);
			return;
		}
	}
}

/* failed: this node tried the request and its machinery failed (as
 * opposed to giving it back unstarted, when stopping). */
static void reply_reject(struct ft_conn *c, const char *reason, uint64_t req, bool failed)
{
	struct json_object *m = json_object_new_object();
	json_object_object_add(m, "reason", json_object_new_string(reason));
	if (req)
		json_object_object_add(m, "req", json_object_new_uint64(req));
	if (failed)
		json_object_object_add(m, "failed", json_object_new_boolean(true));
	ft_conn_send(c, FT_FRAME_REJECT, m, NULL, 0);
	json_object_put(m);
}

static void send_inventory(struct ft_worker *w)
{
	struct ft_inventory inv;
	ft_holdings_inventory(w->held, &inv);
	struct json_object *m = json_object_new_object();
	struct json_object *running = json_object_new_array();
	struct json_object *done = json_object_new_array();
	for (size_t i = 0; i < inv.n_running; i++)
		json_object_array_add(running, json_object_new_uint64(inv.running[i]));
	for (size_t i = 0; i < inv.n_done; i++)
		json_object_array_add(done, json_object_new_uint64(inv.done[i]->req));
	json_object_object_add(m, "epoch", json_object_new_uint64(ft_holdings_epoch(w->held)));
	json_object_object_add(m, "worker", json_object_new_int(w->n->self->id));
	json_object_object_add(m, "running", running);
	json_object_object_add(m, "done", done);
	ft_conn_send(w->leader, FT_FRAME_INVENTORY, m, NULL, 0);
	json_object_put(m);
	for (size_t i = 0; i < inv.n_done; i++)
		send_result(w, inv.done[i]);
	ft_inventory_free(&inv);
}

enum confirmation { CONFIRMED, REFUTED, NOT_YET };

/* A leader is who ZooKeeper says, with the epoch it says: a member whose
 * leadership ended (paused, cut off, its session expired) cannot take the
 * workers back by claiming a higher number, nor lead beside the new leader
 * while this node has not heard of it yet.  Epochs only grow, so a view
 * that names an epoch at least as new as the claim refutes it; an older
 * view, or none (disconnected, not read yet), cannot tell. */
static enum confirmation confirm(const struct ft_worker *w, int leader, uint64_t epoch)
{
	const struct ft_election *e = w->n->election;
	if (!e)
		return CONFIRMED;
	int zk_leader = ft_election_leader(e);
	uint64_t zk_epoch = ft_election_epoch(e);
	if (!ft_election_connected(e) || zk_leader < 0)
		return NOT_YET;
	if (zk_leader == leader && zk_epoch == epoch)
		return CONFIRMED;
	return zk_epoch >= epoch ? REFUTED : NOT_YET;
}

static void refuse(struct ft_worker *w, struct ft_conn *c, int leader, uint64_t epoch,
		   const char *why)
{
	const struct ft_election *e = w->n->election;
	ft_log_warn("refusing leader %d of epoch %llu: %s (ZooKeeper names leader %d of epoch "
		    "%llu)",
		    leader, (unsigned long long)epoch, why, e ? ft_election_leader(e) : -1,
		    (unsigned long long)(e ? ft_election_epoch(e) : 0));
	reply_reject(c, why, 0, false);
	ft_conn_close(c, why);
}

static void serve(struct ft_worker *w, struct ft_conn *c, int leader, uint64_t epoch)
{
	if (!ft_holdings_leader(w->held, epoch)) {
		/* A newer leader was served while this one waited. */
		refuse(w, c, leader, epoch, "stale epoch");
		return;
	}
	if (w->leader && w->leader != c)
		ft_conn_close(w->leader, "superseded by a newer leader connection");
	w->leader = c;
	ft_log_info("serving leader %d (epoch %llu); handing over %zu held results", leader,
		    (unsigned long long)epoch, ft_worker_held(w));
	send_inventory(w);
}

static void forget_unconfirmed(struct ft_worker *w)
{
	w->unconfirmed = NULL;
	w->confirm_timer = sd_event_source_disable_unref(w->confirm_timer);
}

static int confirm_timeout_cb(sd_event_source *s, uint64_t usec, void *ud)
{
	struct ft_worker *w = ud;
	struct ft_conn *c = w->unconfirmed;
	char why[96];
	snprintf(why, sizeof(why), "not named by ZooKeeper within %d ms (limits.leader_confirm_ms)",
		 w->n->cfg.limits.leader_confirm_ms);
	int leader = w->unconfirmed_id;
	uint64_t epoch = w->unconfirmed_epoch;
	forget_unconfirmed(w);
	refuse(w, c, leader, epoch, why);
	return 0;
}

/* Decides on the held leader, if any, with the view as it is now. */
static void reconsider(struct ft_worker *w)
{
	struct ft_conn *c = w->unconfirmed;
	if (!c)
		return;
	int leader = w->unconfirmed_id;
	uint64_t epoch = w->unconfirmed_epoch;
	switch (confirm(w, leader, epoch)) {
	case NOT_YET:
		return;
	case CONFIRMED:
		forget_unconfirmed(w);
		serve(w, c, leader, epoch);
		return;
	case REFUTED:
		forget_unconfirmed(w);
		refuse(w, c, leader, epoch, "epoch not confirmed by ZooKeeper");
		return;
	}
}

void ft_worker_leader_hello(struct ft_worker *w, struct ft_conn *c, const struct ft_frame *f)
{
	uint64_t epoch = ft_meta_u64(f, "epoch", 0);
	int leader = (int)ft_meta_int(f, "id", -1);
	if (epoch < ft_holdings_epoch(w->held)) {
		refuse(w, c, leader, epoch, "stale epoch");
		return;
	}
	switch (confirm(w, leader, epoch)) {
	case CONFIRMED:
		serve(w, c, leader, epoch);
		return;
	case REFUTED:
		refuse(w, c, leader, epoch, "epoch not confirmed by ZooKeeper");
		return;
	case NOT_YET:
		break;
	}
	/* This node's view lags the leader's (a watch not delivered yet, a
	 * session reconnecting): hold the leader and read ZooKeeper again.
	 * The leader's gathering waits for a linked worker, so the requests
	 * running here are not started again elsewhere meanwhile. */
	if (w->unconfirmed) {
		struct ft_conn *old = w->unconfirmed;
		forget_unconfirmed(w);
		ft_conn_close(old, "superseded by a newer leader connection");
	}
	ft_log_info("leader %d of epoch %llu said HELLO before ZooKeeper named it here (leader %d "
		    "of epoch %llu); waiting up to %d ms",
		    leader, (unsigned long long)epoch, ft_election_leader(w->n->election),
		    (unsigned long long)ft_election_epoch(w->n->election),
		    w->n->cfg.limits.leader_confirm_ms);
	w->unconfirmed = c;
	w->unconfirmed_id = leader;
	w->unconfirmed_epoch = epoch;
	sd_event_add_time_relative(w->n->ev, &w->confirm_timer, CLOCK_MONOTONIC,
				   (uint64_t)w->n->cfg.limits.leader_confirm_ms * 1000, 10000,
				   confirm_timeout_cb, w);
	ft_election_refresh(w->n->election);
}

void ft_worker_election_changed(struct ft_worker *w)
{
	const struct ft_election *e = w->n->election;
	if (e && ft_election_data_losses(e) != w->data_losses) {
		w->data_losses = ft_election_data_losses(e);
		ft_log_warn("worker: ZooKeeper's epochs started again at %llu (newest served %llu)",
			    (unsigned long long)ft_election_epoch(e),
			    (unsigned long long)ft_holdings_epoch(w->held));
		ft_holdings_follow_epoch(w->held, ft_election_epoch(e));
	}
	reconsider(w);
}

static void on_assign(struct ft_worker *w, struct ft_conn *c, const struct ft_frame *f)
{
	uint64_t req = ft_meta_u64(f, "req", 0);
	struct work *wk = ft_xcalloc(1, sizeof(*wk));
	wk->src = ft_xmemdup(f->blob, f->blob_len);
	wk->src_len = f->blob_len;
	struct json_object *job;
	if (json_object_object_get_ex(f->meta, "job", &job))
		wk->job = json_object_get(job);
	switch (ft_holdings_assign(w->held, req, ft_meta_u64(f, "epoch", 0), wk)) {
	case FT_ASSIGN_STALE:
		reply_reject(c, "stale epoch", req, false);
		return;
	case FT_ASSIGN_HELD_DONE:
		send_result(w, ft_holdings_find(w->held, req));
		return;
	case FT_ASSIGN_HELD_RUNNING:
		return;
	case FT_ASSIGN_QUEUED:
		break;
	}
	ft_log_request(LOG_DEBUG, req, "assigned", "assigned request %llu (%zu bytes)",
		       (unsigned long long)req, f->blob_len);
	start_queued(w);
}

/* Queued: forgotten.  Running: the runner kills its sandbox, and the
 * result (verdict cancelled) goes to the leader, which releases it. */
static void on_cancel(struct ft_worker *w, uint64_t req)
{
	switch (ft_holdings_cancel(w->held, req)) {
	case FT_CANCEL_DROPPED:
		ft_log_request(LOG_DEBUG, req, "cancel", "request %llu cancelled before it ran",
			       (unsigned long long)req);
		break;
	case FT_CANCEL_RUNNING:
		ft_log_request(LOG_DEBUG, req, "cancel", "request %llu cancelled: stopping it",
			       (unsigned long long)req);
		(void)ft_runner_cancel(w->runner, req);
		break;
	case FT_CANCEL_NONE:
		break;
	}
}

void ft_worker_frame(struct ft_worker *w, struct ft_conn *c, const struct ft_frame *f)
{
	if (c == w->unconfirmed)
		return; /* nothing is taken from it before it is confirmed */
	if (c != w->leader) {
		ft_conn_close(c, "frame from a superseded leader connection");
		return;
	}
	switch (f->type) {
	case FT_FRAME_ASSIGN:
		on_assign(w, c, f);
		break;
	case FT_FRAME_RELEASE:
		ft_holdings_release(w->held, ft_meta_u64(f, "req", 0));
		break;
	case FT_FRAME_CANCEL:
		on_cancel(w, ft_meta_u64(f, "req", 0));
		break;
	case FT_FRAME_COLLECT:
		send_inventory(w);
		break;
	default:
		ft_log_warn("worker: unexpected %s frame from the leader",
			    ft_frame_type_name(f->type));
		break;
	}
}

void ft_worker_conn_closed(struct ft_worker *w, struct ft_conn *c)
{
	if (w->leader == c)
		w->leader = NULL;
	if (w->unconfirmed == c)
		forget_unconfirmed(w);
}

size_t ft_worker_hand_back(struct ft_worker *w)
{
	uint64_t *reqs;
	size_t n = ft_holdings_hand_back(w->held, &reqs);
	/* Unfinished work goes back to the leader now, rather than when gossip
	 * notices we are gone. */
	for (size_t i = 0; i < n; i++)
		if (ft_conn_is_open(w->leader))
			reply_reject(w->leader, "worker stopping", reqs[i], false);
	free(reqs);
	if (n)
		ft_log_notice("stopping: handed %zu unfinished request(s) back to the leader", n);
	return n;
}

size_t ft_worker_running(const struct ft_worker *w)
{
	return ft_holdings_running(w->held);
}

size_t ft_worker_held(const struct ft_worker *w)
{
	return ft_holdings_held(w->held);
}

static int sweep_cb(sd_event_source *s, uint64_t usec, void *ud)
{
	struct ft_worker *w = ud;
	ft_holdings_expire(w->held, ft_now_ms());
	sd_event_source_set_time(s, usec + 5000000);
	return 0;
}

/* The runner's limits (and the maxima a request may ask for) from the
 * configuration's, at start and after a reload. */
static void runner_limits(struct ft_runner_conf *rc, const struct ft_limits *l)
{
	rc->wall_ms = l->run_wall_ms;
	rc->max_output_bytes = l->max_output_bytes;
	rc->compile_wall_ms = l->compile_wall_ms;
	rc->cpu_ms = l->run_cpu_ms;
	rc->memory_bytes = l->run_memory_bytes;
	rc->compile_memory_bytes = l->compile_memory_bytes;
	rc->max_processes = l->run_max_processes;
	rc->max_file_bytes = l->run_max_file_bytes;
	rc->max_open_files = l->run_max_open_files;
}

/* The runner took its limits at start: a reload that changes them hands
 * them on, for the jobs started from now on. */
static void reload_runner_limits(void *ud, const struct ft_config *cfg,
				 const struct ft_config_changes *ch)
{
	struct ft_worker *w = ud;
	if (!ft_config_changes_applied_in(ch, "limits"))
		return;
	struct ft_runner_conf rc = { 0 };
	runner_limits(&rc, &cfg->limits);
	ft_runner_set_limits(w->runner, &rc);
}

struct ft_worker *ft_worker_new(struct ft_node *n)
{
	struct ft_worker *w = ft_xcalloc(1, sizeof(*w));
	w->n = n;
	snprintf(w->jar, sizeof(w->jar), "%s/ftcluster.jar", n->cfg.lib_dir);
	snprintf(w->work_dir, sizeof(w->work_dir), "%s/node-%d/jobs", n->cfg.state_dir,
		 n->self->id);
	snprintf(w->uid_lock_dir, sizeof(w->uid_lock_dir), "%s/sandbox-uids", n->cfg.run_dir);
	if (ft_mkdir_p(w->work_dir, 0700) < 0) {
		ft_log_err("cannot create job directory %s", w->work_dir);
		free(w);
		return NULL;
	}
	if (!n->cfg.sandbox.enabled) {
		/* Every program is assumed hostile: as root, without namespaces
		 * or seccomp, it could do anything root can. */
		if (geteuid() == 0 && !n->cfg.sandbox.allow_unsafe) {
			ft_log_err("%s: sandbox.enabled is 0 and ftnode runs as root: submitted "
				   "programs would run with root's powers; enable the sandbox, or "
				   "set sandbox.allow_unsafe: 1 to run so anyway",
				   n->cfg.path);
			free(w);
			return NULL;
		}
		ft_log_warn("sandbox.enabled is 0: submitted programs run without namespaces or "
			    "seccomp, with resource limits only");
	}
	struct ft_runner_conf rc = {
		.java = n->cfg.java,
		.jar = w->jar,
		.work_dir = w->work_dir,
		.sandbox_disabled = !n->cfg.sandbox.enabled,
		.bwrap = n->cfg.sandbox.bwrap,
		.sandbox_uid_first = (unsigned)n->cfg.sandbox.uid_first,
		.sandbox_uid_count = (unsigned)n->cfg.sandbox.uid_count,
		.uid_lock_dir = w->uid_lock_dir,
		.memory_mode = strcmp(n->cfg.sandbox.memory, "cgroup2") == 0   ? FT_MEMORY_CGROUP2
			       : strcmp(n->cfg.sandbox.memory, "cgroup1") == 0 ? FT_MEMORY_CGROUP1
			       : strcmp(n->cfg.sandbox.memory, "rlimit") == 0  ? FT_MEMORY_RLIMIT
									       : FT_MEMORY_AUTO,
	};
	runner_limits(&rc, &n->cfg.limits);
	w->runner = ft_runner_new(n->ev, &rc);
	if (!w->runner) {
		ft_log_err("cannot set up the runner: %s", ft_runner_last_error());
		free(w);
		return NULL;
	}
	ft_log_info("runner: %s", ft_runner_describe(w->runner));
	w->held = ft_holdings_new(&n->cfg.limits, &holdings_ops, w);
	ft_conf_on_reload(reload_runner_limits, w);
	uint64_t now;
	sd_event_now(n->ev, CLOCK_MONOTONIC, &now);
	sd_event_add_time(n->ev, &w->sweep, CLOCK_MONOTONIC, now + 5000000, 100000, sweep_cb, w);
	sd_event_source_set_enabled(w->sweep, SD_EVENT_ON); /* not one-shot: every 5 s */
	return w;
}

void ft_worker_free(struct ft_worker *w)
{
	if (!w)
		return;
	sd_event_source_disable_unref(w->sweep);
	sd_event_source_disable_unref(w->confirm_timer);
	ft_conf_on_reload_remove(reload_runner_limits, w);
	ft_runner_free(w->runner);
	ft_holdings_free(w->held);
	free(w);
}
