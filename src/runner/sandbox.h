/* The sandbox every compile and run child lives in, built with bubblewrap.
 *
 * Inside: fresh user, mount, PID, network (loopback only), IPC, UTS and
 * cgroup namespaces; an unprivileged uid/gid of its own (uidpool.h), the
 * same inside and outside (bwrap runs unprivileged after the child dropped
 * root); the program as PID 1 of its namespace (no reaper of bwrap's), so
 * that bwrap reaps it and its resource use reaches the daemon's wait4;
 * no_new_privs; the seccomp filter of seccomp.h; no capabilities; no
 * further user namespaces.  The file system is a read-only tmpfs root with
 * /usr (and the /bin, /lib... links), the few /etc files the JDK needs, a
 * new /proc, a minimal read-only /dev, a small private /tmp, our jar at
 * /ft/ftcluster.jar and the job directory at /job, read-only.  Nothing
 * else of the node: no config, logs, state, other jobs; nothing of its disk
 * is writable (the compiler answers on a pipe, like the program).
 *
 * /dev holds null, zero, full, random, urandom and tty, bound from the
 * host, and the /proc/self/fd links; no devpts: every pty of a devpts
 * instance, even a sandbox's own, counts against the host's kernel.pty.max,
 * so a program opening /dev/ptmx in a loop would take the host's ptys.
 * /tmp is a tmpfs the child mounts itself (bwrap cannot cap its inodes),
 * with a size and an inode count: the only place a program can write, and
 * in memory, charged to the job's memory cgroup where there is one.
 *
 * bwrap resolves bind sources as the unprivileged user, and the node's job
 * directories sit below directories that user may not enter; so the child,
 * still root, first stages the job directory and the jar on a tmpfs in a
 * mount namespace of its own (over an empty, world-searchable directory
 * such as /mnt), then drops to the sandbox user and execs bwrap.
 *
 * Killing the sandbox: bwrap is the child's pid (and process group); it
 * runs the program in a new PID namespace whose init has --die-with-parent,
 * so SIGKILL to bwrap takes down every process of the run.
 *
 * A sandbox is set up per child; nothing in it depends on the job being
 * known when it starts except the job directory, so a JVM can be started
 * ahead of time in an empty job directory and be handed its job later
 * (issue 7): classes written into the directory, the class name on stdin. */
#ifndef FT_SANDBOX_H
#define FT_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/types.h>

#define FT_SANDBOX_JOB_DIR "/job"
#define FT_SANDBOX_JAR "/ft/ftcluster.jar"
#define FT_SANDBOX_TMP "/tmp"
/* Files and directories the private /tmp can hold: each costs the host
 * about 1 KiB of kernel memory that its size does not count. */
#define FT_SANDBOX_TMP_INODES 4096

struct ft_sandbox_conf {
	bool enabled;	   /* false: children run unsandboxed (rlimits only) */
	const char *bwrap; /* NULL or "": "bwrap" from PATH */
};

struct ft_sandbox;

/* java and jar as configured (java resolved through PATH and symlinks).
 * NULL with a message if bwrap, java or the jar is missing. */
struct ft_sandbox *ft_sandbox_new(const struct ft_sandbox_conf *conf, const char *java,
				  const char *jar, char *err, size_t errlen);
void ft_sandbox_free(struct ft_sandbox *sb);

bool ft_sandbox_enabled(const struct ft_sandbox *sb);
/* One line for the log: mechanism, user, filter size. */
const char *ft_sandbox_describe(const struct ft_sandbox *sb);
/* The java binary and the jar as the child sees them. */
const char *ft_sandbox_java(const struct ft_sandbox *sb);
const char *ft_sandbox_jar(const struct ft_sandbox *sb);

/* One child. */
struct ft_spawn {
	int dirfd;	       /* the job directory: cwd (and /job inside) */
	const char *dir_path;  /* its absolute path (for the staging mount) */
	uint64_t tmp_bytes;    /* size of the private /tmp (0: 1 MiB) */
	int fds[4];	       /* become 0..3 in the child; fds[3] < 0: no fd 3 */
	const int *cgroup_fds; /* cgroup.procs files to join */
	int n_cgroup_fds;
	rlim_t fsize;	      /* RLIMIT_FSIZE (always set) */
	rlim_t cpu_seconds;   /* RLIMIT_CPU, 0: unlimited */
	rlim_t nproc;	      /* RLIMIT_NPROC, 0: unchanged */
	rlim_t address_space; /* RLIMIT_AS, 0: unchanged */
	rlim_t nofile;	      /* RLIMIT_NOFILE, 0: unchanged */
	int nice;	      /* > 0: start at this nice value (pre-started JVMs) */
	uid_t uid;	      /* sandboxed: the user it runs as, inside and outside */
	gid_t gid;
	char *const *argv; /* the command; argv[0] an absolute path */
	char *const *env;  /* its whole environment */
};

/* A started child. */
struct ft_spawned {
	pid_t pid;     /* bwrap (or the command), leader of its own group */
	int err_fd;    /* read end: a struct ft_spawn_failure if setup failed */
	int status_fd; /* read end of bwrap's --json-status-fd, -1 unsandboxed */
};

/* What the child writes to err_fd when it cannot get to exec. */
struct ft_spawn_failure {
	int stage; /* enum in sandbox.c; ft_sandbox_stage_name() */
	int err;   /* errno */
};

const char *ft_sandbox_stage_name(int stage);

/* fork + set up + exec.  0, or -1 with errno (nothing started). */
int ft_sandbox_spawn(const struct ft_sandbox *sb, const struct ft_spawn *sp,
		     struct ft_spawned *out);

/* Appends what is available on bwrap's status pipe (non-blocking) to
 * buf (NUL-terminated, *len bytes so far, room for cap - 1). */
void ft_sandbox_read_status(int status_fd, char *buf, size_t cap, size_t *len);

/* The pid (as the daemon sees it) of the sandbox's init, from bwrap's
 * status text: {"child-pid": N, ...}.  Once it is there bwrap got as far
 * as starting the command.  -1 if absent. */
pid_t ft_sandbox_child_pid(const char *status_text);

/* ---- exposed for the unit tests ---- */

/* The bwrap arguments for sp (argv[0] = the bwrap path), NULL-terminated,
 * malloc'd (free with ft_sandbox_free_argv). */
char **ft_sandbox_bwrap_argv(const struct ft_sandbox *sb, const struct ft_spawn *sp);
void ft_sandbox_free_argv(char **argv);

#endif
