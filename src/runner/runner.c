/* Compile and run submitted Java programs as sandboxed child processes of
 * the event loop: the runner's facade and the life of a job.
 *
 * One job = one private directory (jobdir.h) holding its sources and the
 * compiled classes/ (the children's output comes through pipes).  Its
 * classes come from the class cache (classcache.h), else from the warm
 * compiler (warmc.h), else from a cold compile JVM of its own (launch.h),
 * which answers in the warm compiler's format on its stdout; then the
 * program runs, in a pre-started JVM if one fits (spares.h), else in a run
 * JVM of its own, with the result channel on fd 3.  Every child is
 * sandboxed, limited and watched by child.h; the verdict and its body come
 * from what was observed (verdict.h).
 *
 * The caller must block SIGCHLD in every thread before creating the sd_event
 * loop (sd_event_add_child requires it).  done() must not free the runner's
 * event loop; it may start new jobs and may even free the runner (nothing of
 * the runner is touched after done() returns). */
#include "runner/runner.h"
#include "job/javasrc.h"
#include "job/jobspec.h"
#include "lib/log.h"
#include "lib/util.h"
#include "runner/cgroup.h"
#include "runner/child.h"
#include "runner/classcache.h"
#include "runner/compiled.h"
#include "runner/jobdir.h"
#include "runner/launch.h"
#include "runner/limits.h"
#include "runner/outcome.h"
#include "runner/sandbox.h"
#include "runner/selftest.h"
#include "runner/spares.h"
#include "runner/uidpool.h"
#include "runner/verdict.h"
#include "runner/warmc.h"
#include "runner/warmproto.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Simple names longer than this could not be a file name with ".java". */
#define SIMPLE_NAME_MAX (NAME_MAX - 5)
/* Class cache bounds. */
#define CACHE_ENTRIES 256
#define CACHE_BYTES ((size_t)64 << 20)

enum phase {
	PHASE_NONE, /* result decided before any child ran */
	PHASE_COMPILE,
	PHASE_RUN,
	PHASE_WARM, /* queued for, or in, the warm compiler */
};

struct job {
	struct ft_runner *r;
	struct job *prev, *next;
	uint64_t id;
	ft_run_done_fn done;
	void *ud;
	struct ft_run_limits lim;

	char *dir; /* absolute path of the private directory */
	int dirfd;
	char fqcn[FT_CLASS_NAME_MAX];
	char simple[SIMPLE_NAME_MAX + 1];

	enum phase phase;
	bool cancelled;	       /* ft_runner_cancel: whatever happens, verdict cancelled */
	struct ft_child child; /* the compile, then the run */
	sd_event_source *defer_src;
	int64_t start_ms;

	struct ft_run_result res;

	struct ft_warm_job warm;
	/* The sources as the warm compiler reads them (warmproto.h); also the
	 * class cache's key.  Dropped once compiled. */
	char *src;
	size_t src_len;
	char **names; /* the files, for a cold compile's command line */
	size_t n_names;
	char *input; /* standard input, or NULL */
	size_t input_len;
	char *args; /* arguments, each NUL-terminated, or NULL */
	size_t args_len;
	enum ft_entry entry;
	bool capture;
};

/* What the launcher reads from the job's directory. */
static struct ft_run_inputs job_inputs(const struct job *j)
{
	return (struct ft_run_inputs){
		.input = j->input,
		.input_len = j->input_len,
		.args = j->args,
		.args_len = j->args_len,
		.entry = j->entry == FT_ENTRY_RUN ? NULL : ft_entry_name(j->entry),
	};
}

struct ft_runner {
	sd_event *ev;
	char *work_dir;
	struct ft_run_limits max; /* configured: defaults and maxima */
	struct ft_child_host host;
	struct job *jobs;
	size_t active;
	char desc[2048];

	struct ft_warmc *warm;
	struct ft_spares *spares;
	struct ft_classcache *cache;
};

static char last_error[1024];

const char *ft_runner_last_error(void)
{
	return last_error;
}

/* ---- results and delivery ---- */

static void set_result_str(struct job *j, enum ft_verdict v, int exit_code, char *body)
{
	ft_outcome_set(&j->res, v, exit_code, body, strlen(body));
}

/* The node's machinery failed before the program could run. */
static void machinery_failed(struct job *j, const char *what, const char *detail)
{
	ft_outcome_internal(&j->res, what, detail, true);
}

static void compile_timed_out(struct job *j)
{
	set_result_str(j, FT_VERDICT_TIME_LIMIT, -1,
		       ft_verdict_compile_time_body(j->lim.compile_wall_ms));
}

static void set_cancelled(struct job *j)
{
	free(j->res.out);
	free(j->res.err);
	j->res.out = j->res.err = NULL;
	j->res.transient = false;
	set_result_str(j, FT_VERDICT_CANCELLED, -1,
		       ft_xstrdup("Cancelled:\nThe run was cancelled before it ended"));
}

static void link_job(struct job *j)
{
	struct ft_runner *r = j->r;
	j->next = r->jobs;
	if (r->jobs)
		r->jobs->prev = j;
	r->jobs = j;
	r->active++;
}

static void unlink_job(struct job *j)
{
	struct ft_runner *r = j->r;
	if (j->prev)
		j->prev->next = j->next;
	else if (r->jobs == j)
		r->jobs = j->next;
	if (j->next)
		j->next->prev = j->prev;
	j->prev = j->next = NULL;
	r->active--;
}

/* Releases what the job holds except its result; children must be gone. */
static void job_release(struct job *j)
{
	j->defer_src = sd_event_source_unref(j->defer_src);
	ft_child_release(&j->child);
}

static void job_free(struct job *j)
{
	if (j->dir)
		ft_jobdir_remove(j->dir);
	if (j->dirfd >= 0)
		close(j->dirfd);
	free(j->dir);
	free(j->res.body);
	free(j->res.out);
	free(j->res.err);
	free(j->src);
	for (size_t i = 0; i < j->n_names; i++)
		free(j->names[i]);
	free(j->names);
	free(j->input);
	free(j->args);
	free(j);
}

static void deliver(struct job *j)
{
	j->res.wall_ms = ft_now_ms() - j->start_ms;
	job_release(j);
	unlink_job(j);
	j->done(j->ud, j->id, &j->res);
	job_free(j);
}

static int on_deferred(sd_event_source *s, void *ud)
{
	deliver(ud);
	return 0;
}

/* For results known before any child runs: done() is still called from
 * the loop, never from inside ft_runner_start. */
static int deliver_later(struct job *j)
{
	j->child.timer_src = sd_event_source_unref(j->child.timer_src);
	int r = sd_event_add_defer(j->r->ev, &j->defer_src, on_deferred, j);
	if (r < 0)
		return r;
	return sd_event_source_set_enabled(j->defer_src, SD_EVENT_ONESHOT);
}

static void deliver_soon(struct job *j)
{
	if (deliver_later(j) < 0)
		deliver(j);
}

/* ---- the phases ---- */

static void job_exited(void *ud, const siginfo_t *si);
static void run_compiled(struct job *j, const struct ft_compiled *cc);
static void drop_request(struct job *j);

static int spawn_compiler(struct job *j, char *err, size_t errlen)
{
	j->phase = PHASE_COMPILE;
	return ft_launch_compiler(&j->child, j->dirfd, j->dir, &j->lim, j->names, j->n_names, err,
				  errlen);
}

/* A cold compile that could not start: the job ends with that. */
static void compiler_failed(struct job *j, const char *err)
{
	machinery_failed(j, "could not start the compiler", err);
	if (j->child.pid > 0)
		ft_child_kill(&j->child); /* started, but no timer: its exit ends the job */
	else
		deliver_soon(j);
}

static int spawn_program(struct job *j, char *err, size_t errlen)
{
	j->phase = PHASE_RUN;
	return ft_launch_program(&j->child, j->dirfd, j->dir, &j->lim, j->fqcn, err, errlen);
}

static void job_exited(void *ud, const siginfo_t *si)
{
	struct job *j = ud;
	struct ft_child_exit x;

	ft_child_reap(&j->child, &x);
	bool over = true;
	if (j->cancelled) {
		set_cancelled(j);
	} else if (x.setup_failed) {
		char *what = ft_xasprintf("could not set up the sandbox (%s)",
					  ft_sandbox_stage_name(x.failure.stage));
		machinery_failed(j, what, strerror(x.failure.err));
		free(what);
	} else if (j->phase == PHASE_COMPILE) {
		struct ft_compiled *cc;
		if (ft_outcome_of_compile(&j->child, si, &x, &j->lim, &j->res, &cc)) {
			if (j->src)
				ft_classcache_put(j->r->cache, j->src, j->src_len, cc);
			drop_request(j);
			/* Done with the compile's child: a pre-started JVM may
			 * take its place. */
			ft_child_release(&j->child);
			ft_child_init(&j->child, &j->r->host, job_exited, j);
			j->phase = PHASE_NONE;
			run_compiled(j, cc);
			ft_compiled_unref(cc);
			over = false;
		}
	} else {
		ft_outcome_of_run(&j->child, si, &x, &j->lim, j->capture, &j->res);
	}
	if (over)
		deliver(j);
}

/* Hands the job (its classes in cc) to a pre-started JVM, which becomes
 * the job's run child and its directory the job's.  0, or -1: none could
 * take it, the job is untouched. */
static int handover(struct job *j, const struct ft_compiled *cc)
{
	struct ft_runner *r = j->r;
	struct ft_run_inputs in = job_inputs(j);
	struct ft_spare_job sj = {
		.lim = &j->lim,
		.cc = cc,
		.fqcn = j->fqcn,
		.inputs = &in,
	};
	char *dir;
	int dirfd;
	if (ft_spares_hand_over(r->spares, &sj, &j->child, &dir, &dirfd) < 0)
		return -1;
	ft_child_moved(&j->child, job_exited, j);
	ft_jobdir_remove(j->dir);
	close(j->dirfd);
	free(j->dir);
	j->dir = dir;
	j->dirfd = dirfd;
	j->phase = PHASE_RUN;
	if (j->lim.run_wall_ms > 0 && ft_child_arm_timer(&j->child, j->lim.run_wall_ms) < 0)
		ft_child_kill(&j->child); /* its exit ends the job */
	ft_child_start_poll(&j->child, j->lim.run_cpu_ms, j->lim.max_output_bytes);
	return 0;
}

/* The job's classes are known: run them, in a pre-started JVM if one fits.
 * The job is linked; on failure its result is set and it is delivered
 * later. */
static void run_compiled(struct job *j, const struct ft_compiled *cc)
{
	char err[512];
	if (!cc->ok) {
		ft_outcome_set(&j->res, FT_VERDICT_COMPILE_ERROR, -1,
			       ft_xmemdup(cc->body, cc->body_len), cc->body_len);
		deliver_soon(j);
		return;
	}
	if (handover(j, cc) == 0)
		return;
	if (ft_jobdir_write_classes(j->dirfd, cc) < 0) {
		machinery_failed(j, "could not write the compiled classes", strerror(errno));
	} else if (spawn_program(j, err, sizeof(err)) == 0) {
		return;
	} else {
		machinery_failed(j, "could not start the program", err);
	}
	deliver_soon(j);
}

/* ---- the warm compiler's side of a job ---- */

static struct job *job_of(struct ft_warm_job *w)
{
	return (struct job *)((char *)w - offsetof(struct job, warm));
}

static void drop_request(struct job *j)
{
	free(j->src);
	j->src = NULL;
	j->warm.req = NULL;
}

static void warm_compiled(void *ud, struct ft_warm_job *w, struct ft_compiled *cc)
{
	struct ft_runner *r = ud;
	struct job *j = job_of(w);
	ft_classcache_put(r->cache, j->src, j->src_len, cc);
	drop_request(j);
	j->phase = PHASE_NONE;
	if (j->cancelled) {
		set_cancelled(j);
		deliver(j);
		return;
	}
	run_compiled(j, cc);
}

static void warm_timed_out(void *ud, struct ft_warm_job *w)
{
	struct job *j = job_of(w);
	if (j->cancelled)
		set_cancelled(j);
	else
		compile_timed_out(j);
	deliver(j);
}

static void warm_handed_back(void *ud, struct ft_warm_job *w)
{
	struct job *j = job_of(w);
	char err[512];
	drop_request(j);
	if (j->cancelled) {
		set_cancelled(j);
		deliver(j);
		return;
	}
	if (spawn_compiler(j, err, sizeof(err)) < 0)
		compiler_failed(j, err);
}

static const struct ft_warmc_ops warm_ops = {
	.compiled = warm_compiled,
	.timed_out = warm_timed_out,
	.handed_back = warm_handed_back,
};

static void warm_enqueue(struct job *j)
{
	j->phase = PHASE_WARM;
	j->warm.req = j->src;
	j->warm.req_len = j->src_len;
	j->warm.compile_wall_ms = j->lim.compile_wall_ms;
	ft_warmc_enqueue(j->r->warm, &j->warm);
}

/* ---- set-up ---- */

static void fail_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void fail_msg(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(last_error, sizeof(last_error), fmt, ap);
	va_end(ap);
}

static void limits_from_conf(struct ft_run_limits *l, const struct ft_runner_conf *conf)
{
	*l = (struct ft_run_limits){
		.compile_wall_ms = conf->compile_wall_ms,
		.run_wall_ms = conf->wall_ms,
		.run_cpu_ms = conf->cpu_ms,
		.run_memory_bytes = conf->memory_bytes,
		.compile_memory_bytes = conf->compile_memory_bytes,
		.run_max_processes = conf->max_processes,
		.run_max_file_bytes = conf->max_file_bytes,
		.max_output_bytes = conf->max_output_bytes,
		.run_max_open_files = conf->max_open_files,
	};
	ft_run_limits_fill(l);
}

void ft_runner_set_limits(struct ft_runner *r, const struct ft_runner_conf *conf)
{
	limits_from_conf(&r->max, conf);
}

static unsigned long long mib(uint64_t bytes)
{
	return (unsigned long long)(bytes / FT_MiB);
}

static void describe(struct ft_runner *r, const char *cg_why, int64_t selftest_ms)
{
	char mem[1024];
	const struct ft_run_limits *l = &r->max;
	const struct ft_cgroups *cg = r->host.cg;
	if (cg)
		snprintf(mem, sizeof(mem), "%s", ft_cgroups_describe(cg));
	else
		snprintf(mem, sizeof(mem), "JVM heap flags + RLIMIT_AS (no cgroup: %s)", cg_why);
	snprintf(r->desc, sizeof(r->desc),
		 "memory limit by %s; processes by %s; CPU time by %s; sandbox: %s; limits: run "
		 "%d ms wall, %d ms CPU, %llu MiB, %d tasks, files %llu bytes, %d open files, "
		 "output %llu bytes; "
		 "compile %d ms wall, %llu MiB; self-test (java -version sandboxed) %" PRId64 " ms",
		 mem,
		 ft_cgroups_has(cg, FT_CG_PIDS) ? "the pids cgroup"
						: "RLIMIT_NPROC (counted per uid)",
		 ft_cgroups_has(cg, FT_CG_CPU) ? "cgroup CPU accounting (polled) + RLIMIT_CPU"
					       : "RLIMIT_CPU (whole seconds)",
		 ft_sandbox_describe(r->host.sb), l->run_wall_ms, l->run_cpu_ms,
		 mib(l->run_memory_bytes), l->run_max_processes,
		 (unsigned long long)l->run_max_file_bytes, l->run_max_open_files,
		 (unsigned long long)l->max_output_bytes, l->compile_wall_ms,
		 mib(l->compile_memory_bytes), selftest_ms);
}

static enum ft_cgroup_want cgroup_want(enum ft_memory_mode m)
{
	switch (m) {
	case FT_MEMORY_CGROUP2:
		return FT_CGROUP_V2_ONLY;
	case FT_MEMORY_CGROUP1:
		return FT_CGROUP_V1_ONLY;
	case FT_MEMORY_RLIMIT:
		return FT_CGROUP_OFF;
	default:
		return FT_CGROUP_AUTO;
	}
}

struct ft_runner *ft_runner_new(sd_event *ev, const struct ft_runner_conf *conf)
{
	char err[512] = "", cg_why[512] = "";
	int64_t selftest_ms = -1;
	int saved = EINVAL;

	last_error[0] = '\0';
	struct ft_runner *r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->ev = sd_event_ref(ev);
	r->host.ev = r->ev;
	limits_from_conf(&r->max, conf);

	r->work_dir = ft_jobdir_absolute(conf->work_dir);
	if (!r->work_dir) {
		saved = errno;
		fail_msg("work directory %s: %s", conf->work_dir, strerror(errno));
		goto fail;
	}
	(void)mkdir(r->work_dir, 0700);
	ft_jobdir_remove_stale(r->work_dir);
	struct ft_sandbox_conf sc = {
		.enabled = !conf->sandbox_disabled,
		.bwrap = conf->bwrap,
	};
	r->host.sb = ft_sandbox_new(&sc, conf->java, conf->jar, err, sizeof(err));
	if (!r->host.sb) {
		saved = ENOENT;
		fail_msg("sandbox: %s", err);
		goto fail;
	}
	if (ft_sandbox_enabled(r->host.sb)) {
		r->host.uids = ft_uidpool_new(conf->uid_lock_dir ? conf->uid_lock_dir : "",
					      conf->sandbox_uid_first, conf->sandbox_uid_count, err,
					      sizeof(err));
		if (!r->host.uids) {
			saved = EINVAL;
			fail_msg("sandbox users: %s", err);
			goto fail;
		}
		if (!getpwuid(conf->sandbox_uid_first))
			ft_log_notice(
				"runner: sandbox uids %u-%u are not in the user database; create "
				"them (the package does, with sysusers) so that no other account "
				"is given them",
				conf->sandbox_uid_first,
				conf->sandbox_uid_first + conf->sandbox_uid_count - 1);
	}
	r->host.cg = ft_cgroups_open(cgroup_want(conf->memory_mode), cg_why, sizeof(cg_why));
	if (!r->host.cg &&
	    (conf->memory_mode == FT_MEMORY_CGROUP1 || conf->memory_mode == FT_MEMORY_CGROUP2)) {
		saved = ENOTSUP;
		fail_msg("the configured memory mechanism is not available: %s", cg_why);
		goto fail;
	}
	if (ft_selftest(&r->host, r->work_dir, &r->max, &selftest_ms, last_error,
			sizeof(last_error)) < 0) {
		saved = EPERM;
		goto fail;
	}
	describe(r, cg_why, selftest_ms);
	r->cache = ft_classcache_new(CACHE_ENTRIES, CACHE_BYTES);
	/* Issue 7: the warm compiler and the pre-started run JVMs start now,
	 * in the background; jobs fall back to cold JVMs whenever they cannot
	 * be used.  Without a pids cgroup the process limit is RLIMIT_NPROC,
	 * counted per uid on the whole host: safe for JVMs kept waiting only
	 * because every sandbox has a uid of its own, so a waiting JVM counts
	 * against its own limit and nobody else's. */
	r->warm = ft_warmc_new(&r->host, r->work_dir, &r->max, &warm_ops, r);
	r->spares = ft_spares_new(&r->host, r->work_dir, &r->max);
	ft_spares_refill(r->spares, 0);
	return r;
fail:
	ft_cgroups_close(r->host.cg);
	ft_uidpool_free(r->host.uids);
	ft_sandbox_free(r->host.sb);
	sd_event_unref(r->ev);
	free(r->work_dir);
	free(r);
	errno = saved;
	return NULL;
}

const char *ft_runner_describe(const struct ft_runner *r)
{
	return r->desc;
}

void ft_runner_free(struct ft_runner *r)
{
	if (!r)
		return;
	ft_spares_free(r->spares);
	ft_warmc_free(r->warm);
	ft_classcache_free(r->cache);
	while (r->jobs) {
		struct job *j = r->jobs;
		ft_child_abandon(&j->child);
		job_release(j);
		unlink_job(j);
		job_free(j);
	}
	ft_child_host_drain(&r->host);
	ft_cgroups_close(r->host.cg);
	ft_uidpool_free(r->host.uids);
	ft_sandbox_free(r->host.sb);
	sd_event_unref(r->ev);
	free(r->work_dir);
	free(r);
}

int ft_runner_cancel(struct ft_runner *r, uint64_t job_id)
{
	struct job *j = r->jobs;
	while (j && (j->id != job_id || j->cancelled))
		j = j->next;
	if (!j) {
		errno = ENOENT;
		return -1;
	}
	j->cancelled = true;
	switch (j->phase) {
	case PHASE_WARM:
		/* In the compiler now: it is told when the compile ends. */
		if (ft_warmc_unqueue(r->warm, &j->warm)) {
			drop_request(j);
			j->phase = PHASE_NONE;
			set_cancelled(j);
			deliver_soon(j);
		}
		break;
	case PHASE_COMPILE:
	case PHASE_RUN:
		if (j->child.pid > 0)
			ft_child_kill(&j->child); /* its exit ends the job */
		break;
	case PHASE_NONE:
		/* Decided already, and about to be delivered: that stands. */
		break;
	}
	return 0;
}

size_t ft_runner_active(const struct ft_runner *r)
{
	return r->active;
}

/* ---- starting a job ---- */

static struct job *job_new(struct ft_runner *r, uint64_t job_id, const struct ft_run_limits *want,
			   ft_run_done_fn done, void *ud)
{
	struct job *j = ft_xcalloc(1, sizeof(*j));
	j->r = r;
	j->id = job_id;
	j->done = done;
	j->ud = ud;
	ft_run_limits_clamp(&r->max, want, &j->lim);
	j->dirfd = -1;
	ft_child_init(&j->child, &r->host, job_exited, j);
	j->start_ms = ft_now_ms();
	j->res.exit_code = -1;
	j->res.run_ms = -1;
	j->res.cpu_ms = -1;
	j->res.memory_bytes = -1;
	return j;
}

static int make_job_dir(struct job *j, const struct ft_run_job *job)
{
	struct ft_runner *r = j->r;
	if (ft_jobdir_make(r->work_dir, FT_JOBDIR_JOB, ft_sandbox_enabled(r->host.sb), &j->dir,
			   &j->dirfd) < 0)
		return -1;
	for (size_t i = 0; i < job->n_files; i++)
		if (ft_jobdir_write_file(j->dirfd, j->names[i], job->files[i].src,
					 job->files[i].len) < 0)
			return -1;
	struct ft_run_inputs in = job_inputs(j);
	if (ft_jobdir_write_run_inputs(j->dirfd, &in) < 0)
		return -1;
	/* A cold compile hands it to its sandbox user (ft_child_spawn). */
	if (mkdirat(j->dirfd, FT_JOBDIR_CLASSES, 0755) < 0)
		return -1;
	return 0;
}

/* Copies what the job needs beyond its directory: the file names, the
 * sources as one request (warm compiler and cache key), the input and the
 * arguments.  0, or -1 with errno. */
static int take_job(struct job *j, const struct ft_run_job *job)
{
	j->src = ft_warmproto_request(job->files, job->n_files, &j->src_len);
	if (!j->src)
		return -1;
	j->names = ft_xcalloc(job->n_files, sizeof(*j->names));
	for (size_t i = 0; i < job->n_files; i++)
		j->names[j->n_names++] = ft_xstrdup(job->files[i].name);
	if (job->input) {
		j->input = ft_xmemdup(job->input, job->input_len);
		j->input_len = job->input_len;
	}
	if (job->n_args > 0) {
		struct ft_buf b = { 0 };
		for (size_t i = 0; i < job->n_args; i++)
			ft_buf_append(&b, job->args[i], strlen(job->args[i]) + 1);
		j->args = b.data;
		j->args_len = b.len;
	}
	j->entry = job->entry;
	j->capture = job->capture;
	return 0;
}

static bool job_acceptable(const struct ft_run_job *job)
{
	if (job->n_files == 0 || job->n_files > UINT32_MAX / 2)
		return false;
	for (size_t i = 0; i < job->n_files; i++) {
		const char *name = job->files[i].name;
		if (job->files[i].len > UINT32_MAX)
			return false;
		if (name ? !ft_jobspec_file_name_ok(name) : job->n_files > 1)
			return false;
	}
	return true;
}

int ft_runner_start_job(struct ft_runner *r, uint64_t job_id, const struct ft_run_job *job,
			ft_run_done_fn done, void *ud)
{
	if (!job_acceptable(job)) {
		errno = EINVAL;
		return -1;
	}
	struct job *j = job_new(r, job_id, job->limits, done, ud);
	int rc;

	const struct ft_job_file *main_file = &job->files[0];
	if (ft_java_class_name(main_file->src, main_file->len, j->fqcn, sizeof(j->fqcn), j->simple,
			       sizeof(j->simple)) < 0) {
		set_result_str(j, FT_VERDICT_COMPILE_ERROR, -1, ft_xstrdup(FT_NO_CLASS_NAME));
		if ((rc = deliver_later(j)) < 0)
			goto fail_errno;
		link_job(j);
		return 0;
	}
	char own[SIMPLE_NAME_MAX + sizeof(FT_JOBDIR_SRC_SUFFIX)];
	struct ft_job_file named;
	struct ft_run_job with_name;
	if (!main_file->name) {
		snprintf(own, sizeof(own), "%s%s", j->simple, FT_JOBDIR_SRC_SUFFIX);
		named = (struct ft_job_file){ .name = own,
					      .src = main_file->src,
					      .len = main_file->len };
		with_name = *job;
		with_name.files = &named;
		job = &with_name;
	}
	if (take_job(j, job) < 0 || make_job_dir(j, job) < 0) {
		rc = -errno;
		goto fail_errno;
	}
	struct ft_compiled *cc = ft_classcache_get(r->cache, j->src, j->src_len);
	if (cc) {
		j->res.compile_cached = true;
		drop_request(j);
		link_job(j);
		run_compiled(j, cc);
		ft_compiled_unref(cc);
		return 0;
	}
	/* The warm compiler has the configured compile memory limit: a job
	 * asking for less compiles the cold way. */
	if (ft_warmc_usable(r->warm) &&
	    j->lim.compile_memory_bytes == r->max.compile_memory_bytes) {
		link_job(j);
		warm_enqueue(j);
		return 0;
	}
	char err[512];
	if (spawn_compiler(j, err, sizeof(err)) < 0) {
		machinery_failed(j, "could not start the compiler", err);
		if (j->child.pid > 0) {
			/* Started, but no timer: it must not run unbounded. */
			ft_child_kill(&j->child);
		} else if ((rc = deliver_later(j)) < 0) {
			goto fail_errno;
		}
	}
	link_job(j);
	return 0;

fail_errno:
	job_release(j);
	job_free(j);
	errno = -rc;
	return -1;
}

int ft_runner_start_limits(struct ft_runner *r, uint64_t job_id, const char *src, size_t len,
			   const struct ft_run_limits *want, ft_run_done_fn done, void *ud)
{
	struct ft_job_file file = { .src = src, .len = len };
	struct ft_run_job job = { .files = &file, .n_files = 1, .limits = want };
	return ft_runner_start_job(r, job_id, &job, done, ud);
}

int ft_runner_start(struct ft_runner *r, uint64_t job_id, const char *src, size_t len,
		    ft_run_done_fn done, void *ud)
{
	return ft_runner_start_limits(r, job_id, src, len, NULL, done, ud);
}
