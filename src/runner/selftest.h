/* The runner's start-up self-test: java -version in the sandbox with the
 * run limits, blocking.  It proves at start that bwrap, the namespaces,
 * the filter, the cgroups and the JVM flags work together, and measures
 * what a sandboxed JVM start costs. */
#ifndef FT_SELFTEST_H
#define FT_SELFTEST_H

#include <stddef.h>
#include <stdint.h>

#include "runner/child.h"
#include "runner/limits.h"

/* Runs it in a directory of its own below work_dir; one that fails (the
 * host short of processes or memory for a moment) is tried again, with
 * growing pauses, a few times.  0 and *took_ms, or -1 with why the last
 * try failed in err. */
int ft_selftest(struct ft_child_host *h, const char *work_dir, const struct ft_run_limits *max,
		int64_t *took_ms, char *err, size_t errlen);

#endif
