/* The body of POST /v1/runs for one file (pure). */
#ifndef FTCTL_PAYLOAD_H
#define FTCTL_PAYLOAD_H

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
};

/* The part of path after its last slash. */
const char *ftctl_base_name(const char *path);

/* {"source": ...} or, with more files, {"files": {name: text}, "main":
 * name} with main_path's first; then stdin, args, limits if given, and
 * "wait": true.  Caller frees. */
char *ftctl_run_payload(const struct ftctl_run_opts *o, const char *main_path, const char *src,
			size_t len);

#endif
