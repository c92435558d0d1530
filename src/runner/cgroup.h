/* Control groups for runs: one cgroup per sandboxed child, with a memory
 * limit, a task (process + thread) limit, and CPU and peak-memory
 * accounting.
 *
 * Which hierarchy is used is decided once, at start:
 *  - cgroup v2, when the daemon's own cgroup offers the memory and pids
 *    controllers and is writable (under systemd: Delegate=yes).  The v2
 *    rule "no processes in a cgroup whose controllers are handed to
 *    children" is met by moving the daemon into a leaf of its own
 *    (<own>/ftnode-<pid>) if it is the only process there; job cgroups are
 *    <own>/ftjob-<pid>-<n>.
 *  - cgroup v1, when a writable memory hierarchy is mounted (pids and
 *    cpuacct are used too when mounted): job cgroups are
 *    <mount><own path>/ftcluster-<pid>/job-<n> in each hierarchy.
 *  - none: the caller falls back to rlimits.
 * Directories left by a daemon that died are removed at the next start.
 *
 * The child joins its cgroups itself, between fork and exec, by writing
 * "0" into the cgroup.procs files opened here (async-signal-safe). */
#ifndef FT_CGROUP_H
#define FT_CGROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum ft_cgroup_want {
	FT_CGROUP_AUTO = 0, /* v2, else v1, else none */
	FT_CGROUP_V2_ONLY,
	FT_CGROUP_V1_ONLY,
	FT_CGROUP_OFF,
};

enum ft_cgroup_ctrl { FT_CG_MEMORY, FT_CG_PIDS, FT_CG_CPU, FT_CG_N };

struct ft_cgroups;
struct ft_cgroup_job;

/* Detects and prepares.  NULL when no usable memory controller was found
 * (why says what was missing) or want is FT_CGROUP_OFF. */
struct ft_cgroups *ft_cgroups_open(enum ft_cgroup_want want, char *why, size_t whylen);
/* Removes the runner's parent directories (jobs must be destroyed). */
void ft_cgroups_close(struct ft_cgroups *cg);

int ft_cgroups_version(const struct ft_cgroups *cg); /* 1 or 2 */
bool ft_cgroups_has(const struct ft_cgroups *cg, enum ft_cgroup_ctrl c);
/* "cgroup v1: memory <dir>, pids <dir>, cpuacct <dir>" */
const char *ft_cgroups_describe(const struct ft_cgroups *cg);

/* A new job cgroup with these limits (max_tasks <= 0: no task limit).
 * NULL with a message on failure. */
struct ft_cgroup_job *ft_cgroup_job_new(struct ft_cgroups *cg, uint64_t memory_bytes, int max_tasks,
					char *err, size_t errlen);

/* The cgroup.procs fds a child must write "0" into; returns how many (at
 * most FT_CG_N). */
int ft_cgroup_job_procs_fds(const struct ft_cgroup_job *j, int fds[FT_CG_N]);

struct ft_cgroup_stats {
	int64_t cpu_ns;	     /* -1: unknown */
	int64_t memory_peak; /* bytes, -1: unknown */
	bool oom_killed;     /* the OOM killer acted in the cgroup */
	bool tasks_refused;  /* a fork/clone failed on the task limit */
};

/* CPU time so far (ns), -1 if not accounted. */
int64_t ft_cgroup_job_cpu_ns(const struct ft_cgroup_job *j);
void ft_cgroup_job_stats(const struct ft_cgroup_job *j, struct ft_cgroup_stats *st);

/* Kills every task in the job at once (cgroup v2's cgroup.kill); -1 where
 * that is not available (v1: the caller kills the sandbox's PID namespace). */
int ft_cgroup_job_kill(struct ft_cgroup_job *j);

/* Removes the job's directories.  0 once all are gone; -1 while tasks are
 * still leaving (EBUSY): call again later.  Frees j when it returns 0. */
int ft_cgroup_job_destroy(struct ft_cgroup_job *j);
/* Gives up on a job that would not go: frees j, leaves the directories for
 * the next start's clean-up. */
void ft_cgroup_job_abandon(struct ft_cgroup_job *j);

/* ---- pure helpers, exposed for the unit tests ---- */

struct ft_mountinfo {
	char root[1024];       /* field 4: the mount's root within its file system */
	char mountpoint[1024]; /* field 5 */
	char fstype[64];
	char superopts[512];
};

/* One line of /proc/self/mountinfo (octal escapes decoded).  0 or -1. */
int ft_cgroup_parse_mountinfo(const char *line, struct ft_mountinfo *out);

/* One line of /proc/self/cgroup: "ID:controllers:path".  0 or -1. */
int ft_cgroup_parse_self(const char *line, int *id, char *ctrls, size_t ctrlslen, char *path,
			 size_t pathlen);

/* name is an element of the comma-separated list. */
bool ft_cgroup_list_has(const char *list, const char *name);

/* The directory of cgroup path in a hierarchy mounted at mountpoint whose
 * root is root.  0, or -1 if path is outside root or does not fit. */
int ft_cgroup_dir(const char *mountpoint, const char *root, const char *path, char *out,
		  size_t outlen);

/* Value of "key N" in a flat-keyed file's text (memory.events,
 * memory.oom_control, pids.events, cpu.stat); -1 if absent. */
int64_t ft_cgroup_keyed(const char *text, const char *key);

#endif
