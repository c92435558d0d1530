/* Verdict of a finished run from what was observed, and its body (see
 * verdict.h). */
#include "runner/verdict.h"
#include "lib/util.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
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
	d->main_program = f->main_program;
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
	/* A main program's answer is its exit status 0 (main returned, or
	 * System.exit(0)), as `java Main` would say. */
	if (f->main_program && f->chan_tag == FT_CHAN_NONE && !sig && f->exited && f->status == 0) {
		set(d, FT_VERDICT_OK, FT_WHY_MAIN_DONE);
		return;
	}
	if (f->oom_killed) {
		set(d, FT_VERDICT_MEMORY_LIMIT, FT_WHY_OOM_KILL);
		return;
	}
	/* Under RLIMIT_AS a malloc that fails inside the JVM (a compiler or GC
	 * thread, or the launcher writing the outcome) is fatal: HotSpot prints
	 * its banner and exits 1 before any OutOfMemoryError reaches us. */
	if (f->vm_out_of_memory && f->exited && f->status == 1 && f->chan_tag == FT_CHAN_NONE) {
		set(d, FT_VERDICT_MEMORY_LIMIT, FT_WHY_NATIVE);
		d->exit_code = 1;
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
	case FT_CHAN_NO_ENTRY:
		set(d, FT_VERDICT_RUNTIME_ERROR, FT_WHY_EXCEPTION);
		return;
	default:
		break;
	}
	if (sig == SIGXFSZ) {
		set(d, FT_VERDICT_OUTPUT_LIMIT, FT_WHY_FILE);
		return;
	}
	if (f->main_program && !sig && f->chan_tag == FT_CHAN_NONE) {
		set(d, FT_VERDICT_NONZERO_EXIT, FT_WHY_MAIN_EXIT);
		return;
	}
	set(d, FT_VERDICT_RUNTIME_ERROR, sig ? FT_WHY_SIGNAL : FT_WHY_EXIT);
}

bool ft_verdict_body_quotes_stderr(const struct ft_verdict_decision *d)
{
	return d->why == FT_WHY_SANDBOX || d->why == FT_WHY_NONE;
}

static unsigned long long mib(uint64_t bytes)
{
	return (unsigned long long)(bytes / FT_MiB);
}

static const char *process_note(const struct ft_run_limits *lim, bool limited, char *buf,
				size_t len)
{
	if (!limited)
		return "";
	snprintf(buf, len,
		 "Process limit exceeded:\nThe program tried to run more than %d processes and "
		 "threads\n",
		 lim->run_max_processes);
	return buf;
}

char *ft_verdict_body(const struct ft_verdict_decision *d, const struct ft_run_limits *lim,
		      char *chan, size_t chan_len, const char *vm_stderr, size_t *len)
{
	char note[256];
	const char *pn = process_note(lim, d->processes_limited, note, sizeof(note));
	char *body = NULL;
	switch (d->why) {
	case FT_WHY_ANSWER:
		*len = chan_len;
		return chan;
	case FT_WHY_EXCEPTION:
	case FT_WHY_THREADS:
		if (!*pn) {
			*len = chan_len;
			return chan;
		}
		body = ft_xasprintf("%s%s", pn, chan);
		break;
	case FT_WHY_WALL:
		body = ft_xasprintf("Time limit exceeded:\nThe program ran for more than %d ms",
				    lim->run_wall_ms);
		break;
	case FT_WHY_CPU:
		body = ft_xasprintf(
			"Time limit exceeded:\nThe program used more than %d ms of CPU time",
			lim->run_cpu_ms);
		break;
	case FT_WHY_STDOUT:
	case FT_WHY_STDERR:
	case FT_WHY_ANSWER_SIZE:
		body = ft_xasprintf(
			"Output limit exceeded:\nThe program wrote more than %llu bytes %s",
			(unsigned long long)lim->max_output_bytes,
			d->why == FT_WHY_STDOUT	  ? "to standard output"
			: d->why == FT_WHY_STDERR ? "to standard error"
						  : "as the answer of run()");
		break;
	case FT_WHY_FILE:
		body = ft_xasprintf(
			"Output limit exceeded:\nThe program tried to write a file larger "
			"than %llu bytes, or more than %llu bytes in all to /tmp",
			(unsigned long long)lim->run_max_file_bytes,
			(unsigned long long)(2 * lim->run_max_file_bytes));
		break;
	case FT_WHY_OOM_KILL:
		body = ft_xasprintf(
			"Memory limit exceeded:\nThe program used more than %llu MiB of "
			"memory and was killed",
			mib(lim->run_memory_bytes));
		break;
	case FT_WHY_HEAP:
		body = ft_xasprintf(
			"Memory limit exceeded:\nThe program ran out of memory (limit %llu "
			"MiB)\n%s",
			mib(lim->run_memory_bytes), chan);
		break;
	case FT_WHY_NATIVE:
		body = ft_xasprintf(
			"Memory limit exceeded:\nThe Java VM ran out of native memory (limit "
			"%llu MiB)",
			mib(lim->run_memory_bytes));
		break;
	case FT_WHY_EXIT:
		body = ft_xasprintf("%sProgram exited with status %d before run() returned", pn,
				    d->exit_code);
		break;
	case FT_WHY_SIGNAL:
		body = ft_xasprintf("%sProgram was killed by signal %d (%s)%s", pn, d->signal,
				    strsignal(d->signal),
				    d->main_program ? "" : " before run() returned");
		break;
	case FT_WHY_MAIN_EXIT:
		body = ft_xasprintf("%sProgram exited with status %d", pn, d->exit_code);
		break;
	case FT_WHY_MAIN_DONE: /* the caller puts the program's stdout */
		body = ft_xstrdup("");
		break;
	case FT_WHY_SANDBOX:
	case FT_WHY_NONE:
		body = ft_xasprintf("Internal error: the Java VM did not start\n%s",
				    vm_stderr ? vm_stderr : "");
		break;
	}
	free(chan);
	*len = strlen(body);
	return body;
}

char *ft_verdict_compile_time_body(int compile_wall_ms)
{
	return ft_xasprintf("Time limit exceeded:\nCompilation took more than %d ms",
			    compile_wall_ms);
}

char *ft_verdict_compile_memory_body(uint64_t compile_memory_bytes)
{
	return ft_xasprintf("Memory limit exceeded:\nThe compiler needed more than "
			    "%llu MiB for this source",
			    mib(compile_memory_bytes));
}

char *ft_verdict_internal_body(const char *what, const char *detail)
{
	return ft_xasprintf("Internal error: %s\n%s", what, detail);
}

static bool has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

bool ft_verdict_is_compile_error(const char *text)
{
	return has_prefix(text, FT_COMPILE_ERROR_HEAD);
}

bool ft_verdict_jvm_failed_to_start(const char *err)
{
	return has_prefix(err, "Error: Could not create the Java Virtual Machine") ||
	       has_prefix(err, "Error occurred during initialization of VM") ||
	       has_prefix(err, "Error: Could not find or load main class ft.Launcher") ||
	       has_prefix(err, "Error: Invalid or corrupt jarfile") ||
	       has_prefix(err, "Unrecognized option") ||
	       has_prefix(err, "Unrecognized VM option") ||
	       /* No thread or memory for the JVM's own start (the host's shortage). */
	       strstr(err, "Failed to start thread") || strstr(err, "pthread_create failed") ||
	       strstr(err, "Cannot create worker GC thread") ||
	       strstr(err, "insufficient memory for the Java Runtime Environment");
}
