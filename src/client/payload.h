/* The body of POST /v1/runs for one file (pure). */
#ifndef FTCTL_PAYLOAD_H
#define FTCTL_PAYLOAD_H

#include <stdbool.h>
#include <stddef.h>

/* What every run of one "ftctl submit" asks for besides its source. */
struct ftctl_run_opts {
	const char *const *args; /* run(String[] args) */
	size_t n_args;
	/* More source files compiled with each one: paths and contents. */
	const char *const *with;
	const char *const *with_text;
	const size_t *with_len;
	size_t n_with;
	const char *stdin_text; /* NULL: none */
	size_t stdin_len;
	long time_limit, memory_limit; /* 0: the cluster's default */
	/* --expect: judge the answer against this text (NULL: not judged),
	 * compared as compare says (NULL: the gateway's default). */
	const char *expected_text;
	size_t expected_len;
	const char *compare;
	bool no_wait; /* "wait": false: answered at once with the run's id */
};

/* The part of path after its last slash. */
const char *ftctl_base_name(const char *path);

/* {"source": ...} or, with more files, {"files": {name: text}, "main":
 * name} with main_path's first; then stdin, args, limits,
 * expected_output and compare if given, and "wait".  Caller frees. */
char *ftctl_run_payload(const struct ftctl_run_opts *o, const char *main_path, const char *src,
			size_t len);

#endif
