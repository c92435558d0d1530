/* The worker side of a node: runs what the current leader assigns and keeps
 * each finished result, with its request ID, until a leader confirms it was
 * delivered (RELEASE).  A leader that reconnects, or a new leader, gets the
 * whole inventory, so no finished work is lost with a leader. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/reload.h"
#include "lib/log.h"
#include "lib/metrics.h"
#include "lib/util.h"
#include "node/node.h"
#include "job/jobspec.h"
#include "runner/limits.h"
#include "runner/runner.h"

enum job_state { JOB_QUEUED, JOB_RUNNING, JOB_DONE };

struct job {
	struct job *next;
	uint64_t req;
	enum job_state state;
	char *src; /* the frame's blob: the source, or the job's files */
	size_t src_len;
	struct json_object *job; /* the "job" object of the JSON API, or NULL */
	/* result, once done */
	enum ft_verdict verdict;
	int exit_code;
	int64_t wall_ms;
	int64_t run_ms, cpu_ms, memory_bytes; /* -1: unknown */
	bool compile_cached;
	char *body;
	size_t body_len;
	char *out, *err; /* captured stdout and stderr, or NULL */
	size_t out_len, err_len;
	int64_t done_at_ms;
};

struct ft_worker {
	struct ft_node *n;
	struct ft_runner *runner;
	struct job *jobs;
	struct ft_conn *leader; /* connection of the newest leader, or NULL */
	uint64_t max_epoch;	/* newest epoch seen: older leaders are refused */
	size_t running;
	sd_event_source *sweep;
	char jar[FT_PATH_MAX + 32];
	char work_dir[FT_PATH_MAX + 32];
	char uid_lock_dir[FT_PATH_MAX + 32];
};

static struct job *find_job(struct ft_worker *w, uint64_t req)
{
	for (struct job *j = w->jobs; j; j = j->next)
		if (j->req == req)
			return j;
	return NULL;
}

static void free_job(struct job *j)
{
	free(j->src);
	json_object_put(j->job);
	free(j->body);
	free(j->out);
	free(j->err);
	free(j);
}

static void drop_job(struct ft_worker *w, struct job *j)
{
	for (struct job **p = &w->jobs; *p; p = &(*p)->next) {
		if (*p == j) {
			*p = j->next;
			free_job(j);
			return;
		}
	}
}

static void send_result(struct ft_worker *w, const struct job *j)
{
	if (!ft_conn_is_open(w->leader))
		return;
	struct json_object *m = json_object_new_object();
	json_object_object_add(m, "req", json_object_new_uint64(j->req));
	json_object_object_add(m, "epoch", json_object_new_uint64(w->max_epoch));
	json_object_object_add(m, "verdict", json_object_new_string(ft_verdict_name(j->verdict)));
	json_object_object_add(m, "exit", json_object_new_int(j->exit_code));
	json_object_object_add(m, "wall_ms", json_object_new_int64(j->wall_ms));
	json_object_object_add(m, "run_ms", json_object_new_int64(j->run_ms));
	json_object_object_add(m, "cpu_ms", json_object_new_int64(j->cpu_ms));
	json_object_object_add(m, "memory_bytes", json_object_new_int64(j->memory_bytes));
	json_object_object_add(m, "compile_cached", json_object_new_boolean(j->compile_cached));
	json_object_object_add(m, "worker", json_object_new_int(w->n->self->id));
	if (!j->out && !j->err) {
		ft_conn_send(w->leader, FT_FRAME_RESULT, m, j->body, j->body_len);
		json_object_put(m);
		return;
	}
	/* Captured output rides after the body in the blob. */
	json_object_object_add(m, "stdout_bytes", json_object_new_uint64(j->out_len));
	json_object_object_add(m, "stderr_bytes", json_object_new_uint64(j->err_len));
	struct ft_buf blob = { 0 };
	ft_buf_append(&blob, j->body, j->body_len);
	ft_buf_append(&blob, j->out, j->out_len);
	ft_buf_append(&blob, j->err, j->err_len);
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
static void hand_back_failed(struct ft_worker *w, struct job *j, const struct ft_run_result *res)
{
	/* One line for logs and the client's 503: "what failed: why". */
	const char *body = res->body ? res->body : "";
	size_t len = strnlen(body, WHY_MAX);
	char *why = ft_xasprintf("%.*s", (int)len, body);
	for (char *p = why; (p = strchr(p, '\n')) != NULL;)
		*p = p[1] ? ';' : '\0';
	ft_log_request(LOG_WARNING, j->req, "failed",
		       "request %llu could not run here (%s); handing it back to the leader",
		       (unsigned long long)j->req, why);
	if (ft_conn_is_open(w->leader))
		reply_reject(w->leader, why, j->req, true);
	free(why);
	drop_job(w, j);
}

static void job_done(void *ud, uint64_t req, const struct ft_run_result *res)
{
	struct ft_worker *w = ud;
	struct job *j = find_job(w, req);
	w->running--;
	ft_metrics_run_done(ft_verdict_name(res->verdict), res->wall_ms);
	if (j && res->transient) {
		hand_back_failed(w, j, res);
	} else if (j) {
		j->state = JOB_DONE;
		j->verdict = res->verdict;
		j->exit_code = res->exit_code;
		j->wall_ms = res->wall_ms;
		j->run_ms = res->run_ms;
		j->cpu_ms = res->cpu_ms;
		j->memory_bytes = res->memory_bytes;
		j->compile_cached = res->compile_cached;
		j->body = ft_xmemdup(res->body ? res->body : "", res->body_len);
		j->body_len = res->body_len;
		if (res->out) {
			j->out = ft_xmemdup(res->out, res->out_len);
			j->out_len = res->out_len;
		}
		if (res->err) {
			j->err = ft_xmemdup(res->err, res->err_len);
			j->err_len = res->err_len;
		}
		j->done_at_ms = ft_now_ms();
		free(j->src);
		j->src = NULL;
		json_object_put(j->job);
		j->job = NULL;
		ft_log_request(LOG_INFO, req, "done", "request %llu done: %s in %lld ms",
			       (unsigned long long)req, ft_verdict_name(res->verdict),
			       (long long)res->wall_ms);
		send_result(w, j);
	}
	start_queued(w);
}

/* Hands j to the runner, with what its "job" object asks for. */
static int start_job(struct ft_worker *w, struct job *j, char *why, size_t whylen)
{
	const struct ft_limits *lc = &w->n->cfg.limits;
	struct ft_jobspec_max max = { .files = (size_t)lc->max_files,
				      .args = (size_t)lc->max_args };
	struct ft_jobspec spec;
	if (ft_jobspec_decode(j->job, j->src, j->src_len, &max, &spec, why, whylen) < 0) {
		errno = EINVAL;
		return -1;
	}
	/* Without "files" the blob is one source, named after its class. */
	struct ft_job_file single = { .src = j->src, .len = j->src_len };
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
	size_t slots = (size_t)w->n->cfg.limits.worker_slots;
	/* Oldest first: jobs are prepended, so walk to the tail repeatedly. */
	while (w->running < slots) {
		struct job *oldest = NULL;
		for (struct job *j = w->jobs; j; j = j->next)
			if (j->state == JOB_QUEUED)
				oldest = j;
		if (!oldest)
			return;
		oldest->state = JOB_RUNNING;
		w->running++;
		ft_log_request(LOG_INFO, oldest->req, "run", "running request %llu",
			       (unsigned long long)oldest->req);
		char why[256];
		if (start_job(w, oldest, why, sizeof(why)) < 0) {
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
			job_done(w, oldest->req, &res);
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
	struct json_object *m = json_object_new_object();
	struct json_object *running = json_object_new_array();
	struct json_object *done = json_object_new_array();
	for (struct job *j = w->jobs; j; j = j->next)
		json_object_array_add(j->state == JOB_DONE ? done : running,
				      json_object_new_uint64(j->req));
	json_object_object_add(m, "epoch", json_object_new_uint64(w->max_epoch));
	json_object_object_add(m, "worker", json_object_new_int(w->n->self->id));
	json_object_object_add(m, "running", running);
	json_object_object_add(m, "done", done);
	ft_conn_send(w->leader, FT_FRAME_INVENTORY, m, NULL, 0);
	json_object_put(m);
	for (struct job *j = w->jobs; j; j = j->next)
		if (j->state == JOB_DONE)
			send_result(w, j);
}

void ft_worker_leader_hello(struct ft_worker *w, struct ft_conn *c, const struct ft_frame *f)
{
	uint64_t epoch = ft_meta_u64(f, "epoch", 0);
	int leader = (int)ft_meta_int(f, "id", -1);
	if (epoch < w->max_epoch) {
		ft_log_warn("refusing leader %d of stale epoch %llu (newest seen %llu)", leader,
			    (unsigned long long)epoch, (unsigned long long)w->max_epoch);
		reply_reject(c, "stale epoch", 0, false);
		ft_conn_close(c, "stale epoch");
		return;
	}
	w->max_epoch = epoch;
	if (w->leader && w->leader != c)
		ft_conn_close(w->leader, "superseded by a newer leader connection");
	w->leader = c;
	ft_log_info("serving leader %d (epoch %llu); handing over %zu held results", leader,
		    (unsigned long long)epoch, ft_worker_held(w));
	send_inventory(w);
}

static void on_assign(struct ft_worker *w, struct ft_conn *c, const struct ft_frame *f)
{
	uint64_t req = ft_meta_u64(f, "req", 0);
	uint64_t epoch = ft_meta_u64(f, "epoch", 0);
	if (epoch < w->max_epoch) {
		reply_reject(c, "stale epoch", req, false);
		return;
	}
	struct job *j = find_job(w, req);
	if (j) {
		/* Already have it: never run one request twice here. */
		if (j->state == JOB_DONE)
			send_result(w, j);
		return;
	}
	j = ft_xcalloc(1, sizeof(*j));
	j->req = req;
	j->state = JOB_QUEUED;
	j->src = ft_xmemdup(f->blob, f->blob_len);
	j->src_len = f->blob_len;
	struct json_object *job;
	if (json_object_object_get_ex(f->meta, "job", &job))
		j->job = json_object_get(job);
	j->next = w->jobs;
	w->jobs = j;
	ft_log_request(LOG_INFO, req, "assigned", "assigned request %llu (%zu bytes)",
		       (unsigned long long)req, f->blob_len);
	start_queued(w);
}

void ft_worker_frame(struct ft_worker *w, struct ft_conn *c, const struct ft_frame *f)
{
	if (c != w->leader) {
		ft_conn_close(c, "frame from a superseded leader connection");
		return;
	}
	switch (f->type) {
	case FT_FRAME_ASSIGN:
		on_assign(w, c, f);
		break;
	case FT_FRAME_RELEASE: {
		struct job *j = find_job(w, ft_meta_u64(f, "req", 0));
		if (j && j->state == JOB_DONE)
			drop_job(w, j);
		break;
	}
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
}

size_t ft_worker_hand_back(struct ft_worker *w)
{
	size_t n = 0;
	for (struct job *j = w->jobs; j; j = j->next) {
		if (j->state == JOB_DONE)
			continue;
		/* Unfinished work goes back to the leader now, rather than when
		 * gossip notices we are gone. */
		if (ft_conn_is_open(w->leader))
			reply_reject(w->leader, "worker stopping", j->req, false);
		n++;
	}
	if (n)
		ft_log_notice("stopping: handed %zu unfinished request(s) back to the leader", n);
	return n;
}

size_t ft_worker_running(const struct ft_worker *w)
{
	return w->running;
}

size_t ft_worker_held(const struct ft_worker *w)
{
	size_t k = 0;
	for (const struct job *j = w->jobs; j; j = j->next)
		k += j->state == JOB_DONE;
	return k;
}

static int sweep_cb(sd_event_source *s, uint64_t usec, void *ud)
{
	struct ft_worker *w = ud;
	int64_t now = ft_now_ms();
	for (struct job *j = w->jobs, *next; j; j = next) {
		next = j->next;
		if (j->state == JOB_DONE && now - j->done_at_ms > w->n->cfg.limits.result_keep_ms) {
			ft_log_request(LOG_WARNING, j->req, "expired",
				       "dropping result of request %llu: no leader collected it "
				       "within limits.result_keep_ms",
				       (unsigned long long)j->req);
			drop_job(w, j);
		}
	}
	sd_event_source_set_time(s, usec + 5000000);
	return 0;
}

/* The runner took its limits at start: a reload that changes them hands
 * them on, for the jobs started from now on. */
static void reload_runner_limits(void *ud, const struct ft_config *cfg,
				 const struct ft_config_changes *ch)
{
	struct ft_worker *w = ud;
	if (!ft_config_changes_applied_in(ch, "limits"))
		return;
	struct ft_runner_conf rc = {
		.wall_ms = cfg->limits.run_wall_ms,
		.max_output_bytes = cfg->limits.max_output_bytes,
		.compile_wall_ms = cfg->limits.compile_wall_ms,
		.cpu_ms = cfg->limits.run_cpu_ms,
		.memory_bytes = cfg->limits.run_memory_bytes,
		.compile_memory_bytes = cfg->limits.compile_memory_bytes,
		.max_processes = cfg->limits.run_max_processes,
		.max_file_bytes = cfg->limits.run_max_file_bytes,
	};
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
	struct ft_runner_conf rc = {
		.java = n->cfg.java,
		.jar = w->jar,
		.work_dir = w->work_dir,
		.wall_ms = n->cfg.limits.run_wall_ms,
		.max_output_bytes = n->cfg.limits.max_output_bytes,
		.compile_wall_ms = n->cfg.limits.compile_wall_ms,
		.cpu_ms = n->cfg.limits.run_cpu_ms,
		.memory_bytes = n->cfg.limits.run_memory_bytes,
		.compile_memory_bytes = n->cfg.limits.compile_memory_bytes,
		.max_processes = n->cfg.limits.run_max_processes,
		.max_file_bytes = n->cfg.limits.run_max_file_bytes,
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
	w->runner = ft_runner_new(n->ev, &rc);
	if (!w->runner) {
		ft_log_err("cannot set up the runner: %s", ft_runner_last_error());
		free(w);
		return NULL;
	}
	ft_log_info("runner: %s", ft_runner_describe(w->runner));
	ft_conf_on_reload(reload_runner_limits, w);
	uint64_t now;
	sd_event_now(n->ev, CLOCK_MONOTONIC, &now);
	sd_event_add_time(n->ev, &w->sweep, CLOCK_MONOTONIC, now + 5000000, 100000, sweep_cb, w);
	return w;
}

void ft_worker_free(struct ft_worker *w)
{
	if (!w)
		return;
	sd_event_source_disable_unref(w->sweep);
	ft_conf_on_reload_remove(reload_runner_limits, w);
	ft_runner_free(w->runner);
	while (w->jobs) {
		struct job *j = w->jobs;
		w->jobs = j->next;
		free_job(j);
	}
	free(w);
}
