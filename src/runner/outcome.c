/* What an exited child of a job means for its result (see outcome.h). */
#include "runner/outcome.h"
#include "lib/util.h"
#include "runner/javawire.h"
#include "runner/jobdir.h"
#include "runner/launch.h"
#include "runner/verdict.h"
#include "runner/warmproto.h"

#include <stdlib.h>
#include <string.h>

void ft_outcome_set(struct ft_run_result *res, enum ft_verdict v, int exit_code, char *body,
		    size_t len)
{
	free(res->body);
	res->verdict = v;
	res->exit_code = exit_code;
	res->body = body;
	res->body_len = len;
}

static void set_str(struct ft_run_result *res, enum ft_verdict v, char *body)
{
	ft_outcome_set(res, v, -1, body, strlen(body));
}

void ft_outcome_internal(struct ft_run_result *res, const char *what, const char *detail,
			 bool transient)
{
	set_str(res, FT_VERDICT_INTERNAL_ERROR, ft_verdict_internal_body(what, detail));
	if (transient)
		res->transient = true;
}

static char *describe_status(const siginfo_t *si)
{
	if (si->si_code == CLD_EXITED)
		return ft_xasprintf("exit status %d", si->si_status);
	return ft_xasprintf("signal %d (%s)", si->si_status, strsignal(si->si_status));
}

bool ft_outcome_of_compile(const struct ft_child *c, const siginfo_t *si,
			   const struct ft_child_exit *x, const struct ft_run_limits *lim,
			   struct ft_run_result *res, struct ft_compiled **ccp)
{
	bool exited = si->si_code == CLD_EXITED;
	size_t len;
	*ccp = NULL;
	if (c->killed_by_timer) {
		set_str(res, FT_VERDICT_TIME_LIMIT,
			ft_verdict_compile_time_body(lim->compile_wall_ms));
		return false;
	}
	if (!x->started) {
		const char *e = ft_child_output(c, FT_CHILD_STDERR, &len);
		ft_outcome_internal(res, "the sandbox did not start", e, true);
		return false;
	}
	if (x->cs.oom_killed || (exited && si->si_status == FT_WIRE_COMPILER_EXIT_OUT_OF_MEMORY)) {
		set_str(res, FT_VERDICT_MEMORY_LIMIT,
			ft_verdict_compile_memory_body(lim->compile_memory_bytes));
		return false;
	}
	if (exited && si->si_status == 0 &&
	    !ft_child_over(c, FT_CHILD_STDOUT, FT_LAUNCH_COMPILE_OUT_MAX)) {
		const char *out = ft_child_output(c, FT_CHILD_STDOUT, &len);
		struct ft_compiled *cc = NULL;
		size_t used = 0;
		enum ft_warm_answer a =
			ft_warmproto_parse((const unsigned char *)out, len, &cc, &used);
		if ((a == FT_WARM_CLASSES || a == FT_WARM_COMPILE_ERROR) && used == len) {
			/* A compile that ended right at the deadline leaves no
			 * time to run. */
			if (a == FT_WARM_CLASSES && c->deadline_passed) {
				ft_compiled_unref(cc);
				set_str(res, FT_VERDICT_TIME_LIMIT,
					ft_verdict_compile_time_body(lim->compile_wall_ms));
				return false;
			}
			*ccp = cc;
			return true;
		}
		/* Anything else on stdout means the compiler JVM itself
		 * misbehaved. */
		ft_compiled_unref(cc);
	}
	char *status = describe_status(si);
	const char *err = ft_child_output(c, FT_CHILD_STDERR, &len);
	char *what = exited && si->si_status == 0
			     ? ft_xstrdup("the compiler gave no valid answer")
			     : ft_xasprintf("the compiler failed with %s", status);
	/* A compiler JVM that could not start, or that something outside
	 * killed, says nothing about the source; a javac that crashed on it
	 * would crash again. */
	ft_outcome_internal(res, what, err, !exited || ft_verdict_jvm_failed_to_start(err));
	free(what);
	free(status);
	return false;
}

/* HotSpot's fatal native out-of-memory report goes to standard output (the
 * VM's tty), after whatever the program printed.  A program that prints it
 * itself and exits 1 only relabels its own failure. */
static bool vm_said_out_of_memory(const struct ft_child *c)
{
	size_t len;
	const char *out = ft_child_output(c, FT_CHILD_STDOUT, &len);
	return memmem(out, len, FT_VM_OOM_BANNER, strlen(FT_VM_OOM_BANNER)) != NULL;
}

void ft_outcome_of_run(const struct ft_child *c, const siginfo_t *si, const struct ft_child_exit *x,
		       const struct ft_run_limits *lim, bool capture, struct ft_run_result *res)
{
	const struct ft_cgroup_stats *cs = &x->cs;
	uint64_t max = lim->max_output_bytes;
	struct ft_run_facts f = {
		.wall_killed = c->killed_by_timer,
		.cpu_killed = c->killed_cpu,
		.output_killed = c->killed_output,
		.out_over = ft_child_over(c, FT_CHILD_STDOUT, max),
		.err_over = ft_child_over(c, FT_CHILD_STDERR, max),
		.chan_over = ft_child_over(c, FT_CHILD_RESULT, max + FT_CHILD_RESULT_HEAD),
		.oom_killed = cs->oom_killed,
		.pids_refused = cs->tasks_refused,
		.exited = si->si_code == CLD_EXITED,
		.status = si->si_status,
		.cpu_ms = -1,
		.cpu_limit_ms = lim->run_cpu_ms,
	};
	/* Without a cgroup: the child's resource usage, which includes the
	 * program's when bwrap reaped it (it runs as PID 1, with no reaper in
	 * between), and the samples taken while it ran, for a sandbox that
	 * was killed before bwrap could reap the program. */
	int64_t ru_cpu = -1, ru_peak = -1;
	if (x->have_ru) {
		const struct rusage *ru = &x->ru;
		ru_cpu = (int64_t)(ru->ru_utime.tv_sec + ru->ru_stime.tv_sec) * 1000 +
			 (ru->ru_utime.tv_usec + ru->ru_stime.tv_usec) / 1000;
		ru_peak = (int64_t)ru->ru_maxrss * 1024;
	}
	f.cpu_ms = cs->cpu_ns >= 0 ? cs->cpu_ns / 1000000
				   : (ru_cpu > c->sample_cpu_ms ? ru_cpu : c->sample_cpu_ms);
	if (f.cpu_ms >= 0) {
		f.cpu_ms -= c->cpu_base_ms;
		if (f.cpu_ms < 0)
			f.cpu_ms = 0;
	}
	res->cpu_ms = f.cpu_ms;
	res->memory_bytes = cs->memory_peak >= 0       ? cs->memory_peak
			    : ru_peak > c->sample_peak ? ru_peak
						       : c->sample_peak;
	res->run_ms = ft_now_ms() - c->started_ms;

	size_t len = 0;
	char *chan = ft_child_output_dup(c, FT_CHILD_RESULT, max + FT_CHILD_RESULT_HEAD, &len);
	/* An empty channel: nothing of the program ran, the JVM (or the
	 * sandbox) failed first. */
	f.sandbox_failed = !x->started || len == 0;
	/* The mark that the program started (a main program's, or run()'s),
	 * then the outcome, if any: its tag and its text. */
	size_t head = 0;
	if (len > 0 && (chan[0] == FT_CHAN_MAIN_STARTED || chan[0] == FT_CHAN_STARTED)) {
		f.main_program = chan[0] == FT_CHAN_MAIN_STARTED;
		head = 1;
	}
	if (len > head) {
		f.chan_tag = (unsigned char)chan[head];
		head++;
	}
	memmove(chan, chan + head, len - head + 1); /* also moves the NUL */
	len -= head;
	/* The answer alone counts against the limit, not the marks. */
	if (len > max)
		f.chan_over = true;
	if (f.exited && f.status == 1 && f.chan_tag == FT_CHAN_NONE)
		f.vm_out_of_memory = vm_said_out_of_memory(c);
	struct ft_verdict_decision d;
	ft_verdict_decide(&f, &d);
	size_t vm_err_len;
	char *vm_err =
		ft_verdict_body_quotes_stderr(&d)
			? ft_child_output_dup(c, FT_CHILD_STDERR, FT_JOBDIR_EXCERPT, &vm_err_len)
			: NULL;
	size_t body_len;
	char *body = ft_verdict_body(&d, lim, chan, len, vm_err, &body_len);
	free(vm_err);
	res->main_program = f.main_program;
	res->entered = !f.sandbox_failed && f.chan_tag != FT_CHAN_NO_ENTRY;
	if (d.why == FT_WHY_MAIN_DONE) {
		/* A main program's answer is what it printed. */
		free(body);
		body = ft_child_output_dup(c, FT_CHILD_STDOUT, max, &body_len);
	}
	ft_outcome_set(res, d.verdict, d.exit_code, body, body_len);
	if (d.why == FT_WHY_SANDBOX)
		res->transient = true;
	if (capture && x->started) {
		res->out = ft_child_output_dup(c, FT_CHILD_STDOUT, max, &res->out_len);
		res->err = ft_child_output_dup(c, FT_CHILD_STDERR, max, &res->err_len);
	}
}
