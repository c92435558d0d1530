/* Verdict of a finished run from what was observed (see verdict.h). */
#include "runner/verdict.h"

#include <signal.h>
#include <string.h>

/* bwrap reports death by signal N as exit status 128 + N. */
static int signal_of(const struct ft_run_facts *f)
{
	if (!f->exited)
		return f->status;
	if (f->status > 128 && f->status < 128 + 65)
		return f->status - 128;
	return 0;
}

static void set(struct ft_verdict_decision *d, enum ft_verdict v, enum ft_why why)
{
	d->verdict = v;
	d->why = why;
}

void ft_verdict_decide(const struct ft_run_facts *f, struct ft_verdict_decision *d)
{
	int sig = signal_of(f);

	memset(d, 0, sizeof(*d));
	d->exit_code = sig ? -1 : f->status;
	d->signal = sig;

	if (f->wall_killed) {
		set(d, FT_VERDICT_TIME_LIMIT, FT_WHY_WALL);
		d->exit_code = -1;
		return;
	}
	if (f->cpu_killed || sig == SIGXCPU ||
	    (sig == SIGKILL && f->cpu_ms >= 0 && f->cpu_limit_ms > 0 &&
	     f->cpu_ms >= f->cpu_limit_ms)) {
		set(d, FT_VERDICT_TIME_LIMIT, FT_WHY_CPU);
		d->exit_code = -1;
		return;
	}
	if (f->sandbox_failed) {
		set(d, FT_VERDICT_INTERNAL_ERROR, FT_WHY_SANDBOX);
		d->exit_code = -1;
		return;
	}
	if (f->out_over || (f->output_killed && !f->err_over && !f->chan_over)) {
		set(d, FT_VERDICT_OUTPUT_LIMIT, FT_WHY_STDOUT);
		return;
	}
	if (f->err_over) {
		set(d, FT_VERDICT_OUTPUT_LIMIT, FT_WHY_STDERR);
		return;
	}
	if (f->chan_over) {
		set(d, FT_VERDICT_OUTPUT_LIMIT, FT_WHY_ANSWER_SIZE);
		return;
	}
	if (f->chan_tag == FT_CHAN_OK) {
		set(d, FT_VERDICT_OK, FT_WHY_ANSWER);
		return;
	}
	if (f->oom_killed) {
		set(d, FT_VERDICT_MEMORY_LIMIT, FT_WHY_OOM_KILL);
		return;
	}
	d->processes_limited = f->pids_refused;
	switch (f->chan_tag) {
	case FT_CHAN_MEMORY:
		set(d, FT_VERDICT_MEMORY_LIMIT, FT_WHY_HEAP);
		return;
	case FT_CHAN_FILE:
		set(d, FT_VERDICT_OUTPUT_LIMIT, FT_WHY_FILE);
		return;
	case FT_CHAN_THREADS:
		set(d, FT_VERDICT_RUNTIME_ERROR, FT_WHY_THREADS);
		d->processes_limited = true;
		return;
	case FT_CHAN_ERROR:
		set(d, FT_VERDICT_RUNTIME_ERROR, FT_WHY_EXCEPTION);
		return;
	default:
		break;
	}
	if (sig == SIGXFSZ) {
		set(d, FT_VERDICT_OUTPUT_LIMIT, FT_WHY_FILE);
		return;
	}
	set(d, FT_VERDICT_RUNTIME_ERROR, sig ? FT_WHY_SIGNAL : FT_WHY_EXIT);
}
