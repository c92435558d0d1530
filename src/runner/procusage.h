/* Resource use of a process tree, read from /proc: for runs without a
 * cgroup, sampled while they run (child.h). */
#ifndef FT_PROCUSAGE_H
#define FT_PROCUSAGE_H

#include <stdint.h>
#include <sys/types.h>

/* Resource use of a process and all its descendants, read from /proc:
 * CPU time of the live processes (plus what they reaped) and the largest
 * peak resident size (VmHWM) among them.  For runs without a cgroup,
 * sampled while they run. */
struct ft_proc_usage {
	int64_t cpu_ms;
	int64_t peak_rss;
	int processes;
};
void ft_proc_tree_usage(pid_t root, struct ft_proc_usage *u);

#endif
