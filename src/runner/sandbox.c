/* Sandboxed children through bubblewrap (see sandbox.h). */
#include "runner/sandbox.h"
#include "lib/util.h"
#include "runner/seccomp.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* Fixed descriptor numbers in the child (0..3 are the caller's). */
#define SECCOMP_FD 4
#define STATUS_FD 5
/* Where sources are lifted before being moved to their final numbers. */
#define HIGH_FD 10

/* The staging tmpfs is mounted over the first of these that exists, is
 * world-searchable and contains nothing the sandbox needs. */
static const char *const stage_candidates[] = { "/mnt", "/media", "/srv", "/run", "/var/tmp" };
#define STAGE_JOB "job"
#define STAGE_JAR "ftcluster.jar"
#define STAGE_TMP "tmp"

/* The devices of the sandbox's /dev (bound from the host's, as bwrap's
 * --dev does, but without its devpts: see sandbox.h). */
static const char *const dev_nodes[] = { "/dev/null",	"/dev/zero",	"/dev/full",
					 "/dev/random", "/dev/urandom", "/dev/tty" };
/* The /dev tmpfs holds only their mount points and a few links. */
#define DEV_TMPFS_BYTES 65536

/* Top-level entries mirrored from the host (symlink or read-only bind). */
static const char *const root_entries[] = {
	"/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"
};
/* /etc files the JVM reads; /etc/java* directories are added to these. */
static const char *const etc_entries[] = { "/etc/ld.so.cache", "/etc/alternatives" };

enum op_kind { OP_SYMLINK, OP_RO_BIND, OP_HIDE };

struct op {
	enum op_kind kind;
	char *a; /* symlink target / bind source (OP_HIDE: unused) */
	char *b; /* path in the sandbox */
};

struct ft_sandbox {
	bool enabled;
	char *bwrap;
	char *java; /* real path of the java binary */
	char *jar;  /* absolute path of the jar on the host */
	uid_t uid;
	gid_t gid;
	bool disable_userns; /* bwrap >= 0.8 */
	char stage[PATH_MAX];
	char stage_job[PATH_MAX];
	char stage_jar[PATH_MAX];
	char stage_tmp[PATH_MAX];
	struct op *ops;
	size_t n_ops;
	void *bpf;
	size_t bpf_len;
	char desc[PATH_MAX + 1024];
};

enum stage {
	ST_NONE = 0,
	ST_SETPGID,
	ST_SIGNALS,
	ST_CGROUP,
	ST_RLIMIT,
	ST_MOUNTNS,
	ST_STAGE,
	ST_BIND_JOB,
	ST_BIND_JAR,
	ST_TMP,
	ST_CHDIR,
	ST_SETGROUPS,
	ST_SETGID,
	ST_SETUID,
	ST_PDEATHSIG,
	ST_NNP,
	ST_FDS,
	ST_EXEC,
};

const char *ft_sandbox_stage_name(int stage)
{
	static const char *const names[] = {
		[ST_NONE] = "?",
		[ST_SETPGID] = "setpgid",
		[ST_SIGNALS] = "resetting signals",
		[ST_CGROUP] = "joining the job's cgroup",
		[ST_RLIMIT] = "setrlimit",
		[ST_MOUNTNS] = "mount namespace",
		[ST_STAGE] = "staging tmpfs",
		[ST_BIND_JOB] = "staging the job directory",
		[ST_BIND_JAR] = "staging the jar",
		[ST_TMP] = "mounting the private /tmp",
		[ST_CHDIR] = "chdir to the job directory",
		[ST_SETGROUPS] = "setgroups",
		[ST_SETGID] = "setgid",
		[ST_SETUID] = "setuid",
		[ST_PDEATHSIG] = "parent-death signal",
		[ST_NNP] = "no_new_privs",
		[ST_FDS] = "file descriptors",
		[ST_EXEC] = "exec",
	};
	if (stage < 0 || (size_t)stage >= sizeof(names) / sizeof(names[0]))
		return "?";
	return names[stage];
}

/* ---- set-up (parent, once) ---- */

static char *search_path(const char *name)
{
	if (strchr(name, '/'))
		return realpath(name, NULL);
	const char *path = getenv("PATH");
	if (!path || !*path)
		path = "/usr/local/bin:/usr/bin:/bin";
	while (*path) {
		size_t n = strcspn(path, ":");
		char *cand = ft_xasprintf("%.*s/%s", (int)n, path, name);
		if (n > 0 && access(cand, X_OK) == 0) {
			char *real = realpath(cand, NULL);
			free(cand);
			return real;
		}
		free(cand);
		path += n;
		if (*path == ':')
			path++;
	}
	errno = ENOENT;
	return NULL;
}

static bool has_path_prefix(const char *path, const char *dir)
{
	size_t n = strlen(dir);
	return strncmp(path, dir, n) == 0 && (path[n] == '/' || path[n] == '\0');
}

static void add_op(struct ft_sandbox *sb, enum op_kind kind, const char *a, const char *b)
{
	struct op *ops = realloc(sb->ops, (sb->n_ops + 1) * sizeof(*ops));
	if (!ops)
		abort();
	sb->ops = ops;
	ops[sb->n_ops].kind = kind;
	ops[sb->n_ops].a = ft_xstrdup(a);
	ops[sb->n_ops].b = ft_xstrdup(b);
	sb->n_ops++;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* /usr, the merged-/usr links, the JDK's /etc files, and the JDK itself
 * when it lives outside /usr. */
static void plan_layout(struct ft_sandbox *sb)
{
	struct stat st;
	add_op(sb, OP_RO_BIND, "/usr", "/usr");
	for (size_t i = 0; i < sizeof(root_entries) / sizeof(root_entries[0]); i++) {
		const char *p = root_entries[i];
		if (lstat(p, &st) < 0)
			continue;
		if (S_ISLNK(st.st_mode)) {
			char target[PATH_MAX];
			ssize_t n = readlink(p, target, sizeof(target) - 1);
			if (n <= 0)
				continue;
			target[n] = '\0';
			add_op(sb, OP_SYMLINK, target, p);
		} else if (S_ISDIR(st.st_mode)) {
			add_op(sb, OP_RO_BIND, p, p);
		}
	}
	for (size_t i = 0; i < sizeof(etc_entries) / sizeof(etc_entries[0]); i++)
		if (stat(etc_entries[i], &st) == 0)
			add_op(sb, OP_RO_BIND, etc_entries[i], etc_entries[i]);
	/* /etc/java-17-openjdk and friends: the JDK's conf/ links into them. */
	DIR *d = opendir("/etc");
	if (d) {
		char **names = NULL;
		size_t n = 0;
		struct dirent *e;
		while ((e = readdir(d)) != NULL) {
			if (strncmp(e->d_name, "java", 4) != 0)
				continue;
			char **nn = realloc(names, (n + 1) * sizeof(*nn));
			if (!nn)
				abort();
			names = nn;
			names[n++] = ft_xasprintf("/etc/%s", e->d_name);
		}
		closedir(d);
		qsort(names, n, sizeof(*names), cmp_str);
		for (size_t i = 0; i < n; i++) {
			if (stat(names[i], &st) == 0 && S_ISDIR(st.st_mode))
				add_op(sb, OP_RO_BIND, names[i], names[i]);
			free(names[i]);
		}
		free(names);
	}
	if (!has_path_prefix(sb->java, "/usr")) {
		/* .../jdk/bin/java: bind .../jdk */
		char *home = ft_xstrdup(sb->java);
		for (int up = 0; up < 2; up++) {
			char *slash = strrchr(home, '/');
			if (slash && slash != home)
				*slash = '\0';
		}
		add_op(sb, OP_RO_BIND, home, home);
		free(home);
	}
	/* A source install's configuration directory (/usr/local/etc) lies
	 * below /usr: programs must not read the cluster's configuration. */
	bool below = false;
	for (size_t i = 0; i < sb->n_ops && !below; i++)
		below = sb->ops[i].kind == OP_RO_BIND &&
			has_path_prefix(FT_SYSCONFDIR, sb->ops[i].a);
	if (below && stat(FT_SYSCONFDIR, &st) == 0 && S_ISDIR(st.st_mode))
		add_op(sb, OP_HIDE, "", FT_SYSCONFDIR);
}

/* A world-searchable empty-enough directory that hides nothing we use. */
static int pick_stage(struct ft_sandbox *sb)
{
	for (size_t i = 0; i < sizeof(stage_candidates) / sizeof(stage_candidates[0]); i++) {
		const char *c = stage_candidates[i];
		struct stat st;
		if (lstat(c, &st) < 0 || !S_ISDIR(st.st_mode) || (st.st_mode & S_IXOTH) == 0)
			continue;
		bool hides = has_path_prefix(sb->bwrap, c) || has_path_prefix(sb->java, c);
		for (size_t k = 0; k < sb->n_ops && !hides; k++)
			if (sb->ops[k].kind == OP_RO_BIND && has_path_prefix(sb->ops[k].a, c))
				hides = true;
		if (hides)
			continue;
		snprintf(sb->stage, sizeof(sb->stage), "%s", c);
		snprintf(sb->stage_job, sizeof(sb->stage_job), "%s/%s", c, STAGE_JOB);
		snprintf(sb->stage_jar, sizeof(sb->stage_jar), "%s/%s", c, STAGE_JAR);
		snprintf(sb->stage_tmp, sizeof(sb->stage_tmp), "%s/%s", c, STAGE_TMP);
		return 0;
	}
	return -1;
}

/* "bubblewrap 0.8.0" -> 8 (the minor; the major is 0 for all so far). */
static int bwrap_minor_version(const char *bwrap)
{
	int pipefd[2];
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		dup2(pipefd[1], 1);
		execl(bwrap, bwrap, "--version", (char *)NULL);
		_exit(127);
	}
	close(pipefd[1]);
	char buf[128] = "";
	ssize_t n = 0, got = 0;
	while (pid > 0 && got < (ssize_t)sizeof(buf) - 1 &&
	       (n = read(pipefd[0], buf + got, sizeof(buf) - 1 - (size_t)got)) > 0)
		got += n;
	close(pipefd[0]);
	if (pid > 0) {
		int status;
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
	}
	buf[got > 0 ? got : 0] = '\0';
	int major, minor;
	if (sscanf(buf, "bubblewrap %d.%d", &major, &minor) != 2)
		return -1;
	return major > 0 ? 1000 : minor;
}

struct ft_sandbox *ft_sandbox_new(const struct ft_sandbox_conf *conf, const char *java,
				  const char *jar, char *err, size_t errlen)
{
	struct ft_sandbox *sb = calloc(1, sizeof(*sb));
	if (!sb)
		abort();
	sb->enabled = conf->enabled;
	sb->java = search_path(java);
	if (!sb->java) {
		ft_set_err(err, errlen, "java binary %s: %s", java, strerror(errno));
		goto fail;
	}
	sb->jar = realpath(jar, NULL);
	if (!sb->jar) {
		ft_set_err(err, errlen, "%s: %s", jar, strerror(errno));
		goto fail;
	}
	if (!sb->enabled) {
		snprintf(sb->desc, sizeof(sb->desc),
			 "sandbox DISABLED: children run as the daemon's user with rlimits only");
		return sb;
	}
	const char *bw = conf->bwrap && *conf->bwrap ? conf->bwrap : "bwrap";
	sb->bwrap = search_path(bw);
	if (!sb->bwrap) {
		ft_set_err(err, errlen, "bubblewrap (%s) not found: install the bubblewrap package",
			   bw);
		goto fail;
	}
	if (geteuid() != 0) {
		ft_set_err(err, errlen,
			   "the sandbox needs the daemon to run as root "
			   "(it drops to a sandbox uid for every child)");
		goto fail;
	}
	sb->disable_userns = bwrap_minor_version(sb->bwrap) >= 8;
	plan_layout(sb);
	if (pick_stage(sb) < 0) {
		ft_set_err(err, errlen,
			   "no directory to stage job directories on (tried /mnt, /media, "
			   "/srv, /run, /var/tmp)");
		goto fail;
	}
	size_t skipped = 0;
	char serr[256];
	if (ft_seccomp_build(&sb->bpf, &sb->bpf_len, &skipped, serr, sizeof(serr)) < 0) {
		ft_set_err(err, errlen, "seccomp filter: %s", serr);
		goto fail;
	}
	/* It goes through a pipe written before the child starts. */
	if (sb->bpf_len > 32768) {
		ft_set_err(err, errlen, "seccomp filter too large (%zu bytes)", sb->bpf_len);
		goto fail;
	}
	snprintf(
		sb->desc, sizeof(sb->desc),
		"bubblewrap %s, a uid of its own per sandbox: user, mount, pid, net, ipc, uts, cgroup "
		"namespaces%s; seccomp deny list of %zu calls (%zu unknown here), %zu-byte BPF; "
		"no_new_privs; /dev without ptys; /tmp of at most %d inodes; staging on %s",
		sb->bwrap, sb->disable_userns ? ", no nested user namespaces" : "",
		ft_seccomp_n_denied, skipped, sb->bpf_len, FT_SANDBOX_TMP_INODES, sb->stage);
	return sb;
fail:
	ft_sandbox_free(sb);
	return NULL;
}

void ft_sandbox_free(struct ft_sandbox *sb)
{
	if (!sb)
		return;
	for (size_t i = 0; i < sb->n_ops; i++) {
		free(sb->ops[i].a);
		free(sb->ops[i].b);
	}
	free(sb->ops);
	free(sb->bwrap);
	free(sb->java);
	free(sb->jar);
	free(sb->bpf);
	free(sb);
}

bool ft_sandbox_enabled(const struct ft_sandbox *sb)
{
	return sb->enabled;
}

const char *ft_sandbox_describe(const struct ft_sandbox *sb)
{
	return sb->desc;
}

const char *ft_sandbox_java(const struct ft_sandbox *sb)
{
	return sb->java;
}

const char *ft_sandbox_jar(const struct ft_sandbox *sb)
{
	return sb->enabled ? FT_SANDBOX_JAR : sb->jar;
}

/* ---- the bwrap command line ---- */

struct argv_buf {
	char **v;
	size_t n, cap;
};

static void push(struct argv_buf *a, const char *s)
{
	if (a->n + 2 > a->cap) {
		a->cap = a->cap ? a->cap * 2 : 64;
		char **nv = realloc(a->v, a->cap * sizeof(*nv));
		if (!nv)
			abort();
		a->v = nv;
	}
	a->v[a->n++] = ft_xstrdup(s);
	a->v[a->n] = NULL;
}

static void pushf(struct argv_buf *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void pushf(struct argv_buf *a, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s = ft_xvasprintf(fmt, ap);
	va_end(ap);
	push(a, s);
	free(s);
}

char **ft_sandbox_bwrap_argv(const struct ft_sandbox *sb, const struct ft_spawn *sp)
{
	struct argv_buf a = { 0 };
	push(&a, sb->bwrap);
	push(&a, "--unshare-user");
	push(&a, "--unshare-ipc");
	push(&a, "--unshare-pid");
	push(&a, "--unshare-net");
	push(&a, "--unshare-uts");
	push(&a, "--unshare-cgroup");
	if (sb->disable_userns)
		push(&a, "--disable-userns");
	/* No reaper of bwrap's as PID 1: bwrap then reaps the program itself,
	 * and the daemon's wait4 on bwrap sees the program's CPU time and
	 * peak memory (with a reaper in between, they are lost). */
	push(&a, "--as-pid-1");
	push(&a, "--die-with-parent");
	push(&a, "--new-session");
	push(&a, "--uid");
	pushf(&a, "%u", (unsigned)sp->uid);
	push(&a, "--gid");
	pushf(&a, "%u", (unsigned)sp->gid);
	push(&a, "--hostname");
	push(&a, "sandbox");
	for (size_t i = 0; i < sb->n_ops; i++) {
		if (sb->ops[i].kind == OP_HIDE) {
			/* An empty read-only tmpfs over it. */
			push(&a, "--tmpfs");
			push(&a, sb->ops[i].b);
			push(&a, "--remount-ro");
			push(&a, sb->ops[i].b);
			continue;
		}
		push(&a, sb->ops[i].kind == OP_SYMLINK ? "--symlink" : "--ro-bind");
		push(&a, sb->ops[i].a);
		push(&a, sb->ops[i].b);
	}
	push(&a, "--proc");
	push(&a, "/proc");
	push(&a, "--size");
	pushf(&a, "%d", DEV_TMPFS_BYTES);
	push(&a, "--tmpfs");
	push(&a, "/dev");
	for (size_t i = 0; i < sizeof(dev_nodes) / sizeof(dev_nodes[0]); i++) {
		push(&a, "--dev-bind-try");
		push(&a, dev_nodes[i]);
		push(&a, dev_nodes[i]);
	}
	static const char *const dev_links[][2] = {
		{ "/proc/self/fd", "/dev/fd" },
		{ "/proc/self/fd/0", "/dev/stdin" },
		{ "/proc/self/fd/1", "/dev/stdout" },
		{ "/proc/self/fd/2", "/dev/stderr" },
	};
	for (size_t i = 0; i < sizeof(dev_links) / sizeof(dev_links[0]); i++) {
		push(&a, "--symlink");
		push(&a, dev_links[i][0]);
		push(&a, dev_links[i][1]);
	}
	/* Mounted by the child with its size and inode count (stage_mounts). */
	push(&a, "--bind");
	push(&a, sb->stage_tmp);
	push(&a, FT_SANDBOX_TMP);
	push(&a, "--ro-bind");
	push(&a, sb->stage_jar);
	push(&a, FT_SANDBOX_JAR);
	push(&a, "--ro-bind");
	push(&a, sb->stage_job);
	push(&a, FT_SANDBOX_JOB_DIR);
	/* Nothing writable but /tmp: the root tmpfs and /dev would otherwise
	 * take files without bound. */
	push(&a, "--remount-ro");
	push(&a, "/dev");
	push(&a, "--remount-ro");
	push(&a, "/");
	push(&a, "--chdir");
	push(&a, FT_SANDBOX_JOB_DIR);
	push(&a, "--seccomp");
	pushf(&a, "%d", SECCOMP_FD);
	push(&a, "--json-status-fd");
	pushf(&a, "%d", STATUS_FD);
	push(&a, "--");
	for (char *const *p = sp->argv; *p; p++)
		push(&a, *p);
	return a.v;
}

void ft_sandbox_free_argv(char **argv)
{
	if (!argv)
		return;
	for (char **p = argv; *p; p++)
		free(*p);
	free(argv);
}

/* ---- the child ---- */

struct child {
	const struct ft_sandbox *sb;
	const struct ft_spawn *sp;
	char *const *argv;
	const char *exe;
	int err_fd;
	int seccomp_fd; /* read end, -1 unsandboxed */
	int status_fd;	/* write end, -1 unsandboxed */
	pid_t parent;
	char tmp_opts[160]; /* the private /tmp's mount options */
};

static _Noreturn void child_fail(const struct child *c, int stage)
{
	struct ft_spawn_failure f = { stage, errno };
	(void)!write(c->err_fd, &f, sizeof(f));
	_exit(127);
}

/* Closes every fd >= first except keep. */
static void close_fds_from(int first, int keep)
{
	int rc = 0;
	if (keep > first)
		rc = (int)syscall(SYS_close_range, (unsigned)first, (unsigned)keep - 1, 0u);
	if (rc == 0)
		rc = (int)syscall(SYS_close_range, (unsigned)(keep >= first ? keep + 1 : first),
				  ~0U, 0u);
	if (rc == 0)
		return;
	struct rlimit rl;
	int max = 65536;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    rl.rlim_cur < (rlim_t)max)
		max = (int)rl.rlim_cur;
	for (int fd = first; fd < max; fd++)
		if (fd != keep)
			(void)close(fd);
}

static int set_rlimit(int res, rlim_t v)
{
	struct rlimit rl = { v, v };
	return setrlimit(res, &rl);
}

/* "/proc/self/fd/N" without stdio (async-signal-safe). */
static void fd_path(char out[32], int fd)
{
	static const char prefix[] = "/proc/self/fd/";
	char digits[12];
	int n = 0;
	memcpy(out, prefix, sizeof(prefix) - 1);
	do {
		digits[n++] = (char)('0' + fd % 10);
		fd /= 10;
	} while (fd > 0 && n < (int)sizeof(digits));
	int k = sizeof(prefix) - 1;
	while (n > 0)
		out[k++] = digits[--n];
	out[k] = '\0';
}

/* Stage the job directory and the jar where the unprivileged bwrap can
 * reach them, in a mount namespace of this child only.  They are opened by
 * path after the unshare: a bind mount's source must belong to the
 * caller's mount namespace, and descriptors opened before it do not. */
static void stage_mounts(const struct child *c)
{
	const struct ft_sandbox *sb = c->sb;
	char src[32];
	if (unshare(CLONE_NEWNS) < 0)
		child_fail(c, ST_MOUNTNS);
	if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0)
		child_fail(c, ST_MOUNTNS);
	int dfd = open(c->sp->dir_path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		child_fail(c, ST_BIND_JOB);
	int jfd = open(sb->jar, O_PATH | O_CLOEXEC);
	if (jfd < 0)
		child_fail(c, ST_BIND_JAR);
	if (mount("ftstage", sb->stage, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
		  "mode=0755,size=64k") < 0)
		child_fail(c, ST_STAGE);
	if (mkdir(sb->stage_job, 0755) < 0)
		child_fail(c, ST_STAGE);
	fd_path(src, dfd);
	if (mount(src, sb->stage_job, NULL, MS_BIND, NULL) < 0)
		child_fail(c, ST_BIND_JOB);
	int fd = open(sb->stage_jar, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0)
		child_fail(c, ST_STAGE);
	close(fd);
	fd_path(src, jfd);
	if (mount(src, sb->stage_jar, NULL, MS_BIND, NULL) < 0)
		child_fail(c, ST_BIND_JAR);
	close(dfd);
	close(jfd);
	/* Gone with this mount namespace, when the sandbox's last process is. */
	if (mkdir(sb->stage_tmp, 0755) < 0 ||
	    mount("fttmp", sb->stage_tmp, "tmpfs", MS_NOSUID | MS_NODEV, c->tmp_opts) < 0)
		child_fail(c, ST_TMP);
}

static void drop_privileges(const struct child *c)
{
	uid_t uid = c->sp->uid;
	gid_t gid = c->sp->gid;
	/* Raw calls: no glibc set*id broadcast to threads that do not exist
	 * in this child. */
	if (syscall(SYS_setgroups, 0, NULL) < 0)
		child_fail(c, ST_SETGROUPS);
	if (syscall(SYS_setresgid, gid, gid, gid) < 0)
		child_fail(c, ST_SETGID);
	if (syscall(SYS_setresuid, uid, uid, uid) < 0)
		child_fail(c, ST_SETUID);
}

static _Noreturn void child_main(const struct child *c)
{
	const struct ft_spawn *sp = c->sp;
	bool sandboxed = c->sb->enabled;
	struct sigaction dfl;
	sigset_t none;

	if (setpgid(0, 0) < 0)
		child_fail(c, ST_SETPGID);
	/* Ignored signals stay ignored across exec; the daemon's dispositions
	 * and its blocked SIGCHLD are no business of the child's. */
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	for (int sig = 1; sig < NSIG; sig++)
		(void)sigaction(sig, &dfl, NULL);
	sigemptyset(&none);
	if (sigprocmask(SIG_SETMASK, &none, NULL) < 0)
		child_fail(c, ST_SIGNALS);
	for (int i = 0; i < sp->n_cgroup_fds; i++)
		if (write(sp->cgroup_fds[i], "0", 1) != 1)
			child_fail(c, ST_CGROUP);
	if (set_rlimit(RLIMIT_FSIZE, sp->fsize) < 0 || set_rlimit(RLIMIT_CORE, 0) < 0)
		child_fail(c, ST_RLIMIT);
	if (sp->cpu_seconds && set_rlimit(RLIMIT_CPU, sp->cpu_seconds) < 0)
		child_fail(c, ST_RLIMIT);
	if (sp->nproc && set_rlimit(RLIMIT_NPROC, sp->nproc) < 0)
		child_fail(c, ST_RLIMIT);
	if (sp->address_space && set_rlimit(RLIMIT_AS, sp->address_space) < 0)
		child_fail(c, ST_RLIMIT);
	if (sp->nofile && set_rlimit(RLIMIT_NOFILE, sp->nofile) < 0)
		child_fail(c, ST_RLIMIT);
	/* Lowering the priority needs no privilege; the daemon raises it back
	 * (to 0) when it hands the JVM its job. */
	if (sp->nice > 0)
		(void)setpriority(PRIO_PROCESS, 0, sp->nice);
	if (sandboxed) {
		stage_mounts(c);
		drop_privileges(c);
	}
	if (fchdir(sp->dirfd) < 0)
		child_fail(c, ST_CHDIR);
	/* After the uid change, which clears it. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
		child_fail(c, ST_PDEATHSIG);
	if (getppid() != c->parent) {
		errno = ESRCH;
		child_fail(c, ST_PDEATHSIG);
	}
	if (sandboxed && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		child_fail(c, ST_NNP);

	/* Lift every source above the target numbers first, so no dup2 below
	 * can clobber a source that sits on one of them. */
	int src[6], high[6], n = 0;
	for (int i = 0; i < 4; i++)
		src[n++] = sp->fds[i];
	src[n++] = c->seccomp_fd;
	src[n++] = c->status_fd;
	int err_fd = fcntl(c->err_fd, F_DUPFD_CLOEXEC, HIGH_FD);
	if (err_fd < 0)
		child_fail(c, ST_FDS);
	struct child c2 = *c;
	c2.err_fd = err_fd;
	for (int i = 0; i < n; i++) {
		high[i] = -1;
		if (src[i] >= 0 && (high[i] = fcntl(src[i], F_DUPFD_CLOEXEC, HIGH_FD)) < 0)
			child_fail(&c2, ST_FDS);
	}
	for (int i = 0; i < n; i++)
		if (high[i] >= 0 && dup2(high[i], i) < 0)
			child_fail(&c2, ST_FDS);
	for (int i = 0; i < n; i++)
		if (high[i] < 0)
			(void)close(i);
	close_fds_from(n, err_fd);
	execve(c->exe, c->argv, sp->env);
	child_fail(&c2, ST_EXEC);
}

static void close_if_open(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* The filter, on a pipe the child hands to bwrap (which reads it to EOF). */
static int seccomp_pipe(const struct ft_sandbox *sb)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	const char *b = sb->bpf;
	size_t left = sb->bpf_len;
	while (left > 0) {
		ssize_t w = write(p[1], b, left);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			int e = errno;
			close(p[0]);
			close(p[1]);
			errno = e;
			return -1;
		}
		b += w;
		left -= (size_t)w;
	}
	close(p[1]);
	return p[0];
}

int ft_sandbox_spawn(const struct ft_sandbox *sb, const struct ft_spawn *sp, struct ft_spawned *out)
{
	struct child c = {
		.sb = sb,
		.sp = sp,
		.err_fd = -1,
		.seccomp_fd = -1,
		.status_fd = -1,
		.parent = getpid(),
	};
	int errp[2] = { -1, -1 }, statp[2] = { -1, -1 };
	char **bargv = NULL;
	int rc = -1, saved;

	out->pid = -1;
	out->err_fd = out->status_fd = -1;
	if (pipe2(errp, O_CLOEXEC | O_NONBLOCK) < 0)
		goto out;
	c.err_fd = errp[1];
	if (sb->enabled) {
		if ((c.seccomp_fd = seccomp_pipe(sb)) < 0)
			goto out;
		if (pipe2(statp, O_CLOEXEC | O_NONBLOCK) < 0)
			goto out;
		c.status_fd = statp[1];
		if (!sp->dir_path || sp->dir_path[0] != '/') {
			errno = EINVAL;
			goto out;
		}
		/* Formatted here: the child of a threaded daemon may only make
		 * async-signal-safe calls. */
		snprintf(c.tmp_opts, sizeof(c.tmp_opts),
			 "size=%llu,nr_inodes=%d,mode=0700,uid=%u,gid=%u",
			 (unsigned long long)(sp->tmp_bytes ? sp->tmp_bytes : 1u << 20),
			 FT_SANDBOX_TMP_INODES, (unsigned)sp->uid, (unsigned)sp->gid);
		bargv = ft_sandbox_bwrap_argv(sb, sp);
		c.argv = bargv;
		c.exe = sb->bwrap;
	} else {
		c.argv = sp->argv;
		c.exe = sp->argv[0];
	}

	pid_t pid = fork();
	if (pid < 0)
		goto out;
	if (pid == 0)
		child_main(&c);
	/* Also from this side, so that the group exists before anyone can try
	 * to kill it; fails harmlessly once the child has exec'd. */
	(void)setpgid(pid, pid);
	out->pid = pid;
	out->err_fd = errp[0];
	errp[0] = -1;
	out->status_fd = statp[0];
	statp[0] = -1;
	rc = 0;
out:
	saved = errno;
	close_if_open(&errp[0]);
	close_if_open(&errp[1]);
	close_if_open(&statp[0]);
	close_if_open(&statp[1]);
	close_if_open(&c.seccomp_fd);
	ft_sandbox_free_argv(bargv);
	errno = saved;
	return rc;
}

void ft_sandbox_read_status(int status_fd, char *buf, size_t cap, size_t *len)
{
	if (status_fd < 0 || cap == 0)
		return;
	while (*len + 1 < cap) {
		ssize_t n = read(status_fd, buf + *len, cap - 1 - *len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		*len += (size_t)n;
	}
	buf[*len] = '\0';
}

pid_t ft_sandbox_child_pid(const char *text)
{
	const char *p = strstr(text, "\"child-pid\"");
	if (!p)
		return -1;
	p += strlen("\"child-pid\"");
	while (*p == ' ' || *p == ':')
		p++;
	char *end;
	long v = strtol(p, &end, 10);
	if (end == p || v <= 0 || v > INT_MAX)
		return -1;
	return (pid_t)v;
}
