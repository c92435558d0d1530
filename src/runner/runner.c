/* Compile and run submitted Java programs as child processes of the event
 * loop.
 *
 * One job = one private directory under work_dir holding Name.java, the
 * compiled classes/ and the children's output files.  The compile JVM
 * (ft.Compiler) runs first; if it succeeds the run JVM (ft.Launcher) runs with
 * the result channel on fd 3.  Each child leads its own process group, so a
 * timeout (one timer for compile + run) takes down everything the program
 * started with one kill().
 *
 * The caller must block SIGCHLD in every thread before creating the sd_event
 * loop (sd_event_add_child requires it).  done() must not free the runner's
 * event loop; it may start new jobs and may even free the runner (nothing of
 * the runner is touched after done() returns). */
#include "runner/runner.h"
#include "runner/javasrc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Simple names longer than this could not be a file name with ".java". */
#define SIMPLE_NAME_MAX (NAME_MAX - 5)
#define CLASS_NAME_MAX 2048
/* The compiler writes class files and diagnostics; this only guards the
 * disk, the user's output limit does not apply to it. */
#define COMPILE_FSIZE_MAX ((rlim_t)64 << 20)
/* How much of a failed child's stderr goes into an internal-error body. */
#define STDERR_EXCERPT 2048
/* How often a running program's output files are checked against the
 * limit: the kernel caps each file, but a program that keeps printing would
 * otherwise spin on failing writes until the wall limit. */
#define OUTPUT_POLL_USEC (100 * 1000)
/* Depth beyond which a job directory is not cleaned (a program building
 * absurdly deep trees must not make the daemon recurse without bound). */
#define REMOVE_DEPTH_MAX 128

#define SRC_FILE_SUFFIX ".java"
#define CLASSES_DIR "classes"
#define COMPILE_OUT "compile.out"
#define COMPILE_ERR "compile.err"
#define RUN_OUT "stdout"
#define RUN_ERR "stderr"
#define RUN_RESULT "result"

static const char *const verdict_names[] = {
	[FT_VERDICT_OK] = "ok",
	[FT_VERDICT_COMPILE_ERROR] = "compile_error",
	[FT_VERDICT_RUNTIME_ERROR] = "runtime_error",
	[FT_VERDICT_TIME_LIMIT] = "time_limit",
	[FT_VERDICT_MEMORY_LIMIT] = "memory_limit",
	[FT_VERDICT_OUTPUT_LIMIT] = "output_limit",
	[FT_VERDICT_INTERNAL_ERROR] = "internal_error",
};

#define N_VERDICTS (sizeof(verdict_names) / sizeof(verdict_names[0]))

const char *ft_verdict_name(enum ft_verdict v)
{
	if ((size_t)v >= N_VERDICTS)
		return "unknown";
	return verdict_names[v];
}

int ft_verdict_from_name(const char *name)
{
	for (size_t i = 0; name && i < N_VERDICTS; i++)
		if (strcmp(verdict_names[i], name) == 0)
			return (int)i;
	return -1;
}

enum phase {
	PHASE_NONE, /* result decided before any child ran */
	PHASE_COMPILE,
	PHASE_RUN,
};

struct job {
	struct ft_runner *r;
	struct job *prev, *next;
	uint64_t id;
	ft_run_done_fn done;
	void *ud;

	char *dir; /* absolute path of the private directory */
	int dirfd;
	char fqcn[CLASS_NAME_MAX];
	char simple[SIMPLE_NAME_MAX + 1];

	enum phase phase;
	pid_t pid;       /* current child, also its process group; 0 if none */
	int exec_err_fd; /* read end of the child's exec-failure pipe */
	sd_event_source *child_src;
	sd_event_source *timer_src;
	sd_event_source *defer_src;
	sd_event_source *poll_src;
	int watch_fds[3]; /* run phase: stdout, stderr, result, as the child has them */
	bool deadline_passed;
	bool killed_by_timer;
	int64_t start_ms;

	struct ft_run_result res;
};

struct ft_runner {
	sd_event *ev;
	char *java;
	char *jar;
	char *work_dir;
	int wall_ms;
	size_t max_output;
	struct job *jobs;
	size_t active;
};

/* Children get a fixed, small environment: nothing from the daemon's (no
 * JAVA_TOOL_OPTIONS or CLASSPATH sneaking in), and a UTF-8 locale so the
 * JVM can handle non-ASCII class and file names. */
static char *const child_env[] = {
	"PATH=/usr/local/bin:/usr/bin:/bin",
	"LANG=C.UTF-8",
	NULL,
};

/* ---- small helpers ---- */

/* The daemon cannot do anything useful without memory; same policy as
 * ft_xmalloc (not linked here so the runner builds standalone). */
static void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		abort();
	return p;
}

static char *xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;
	return memcpy(xmalloc(n), s, n);
}

static char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;
	va_start(ap, fmt);
	int n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		abort();
	return s;
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Children run in the job directory, so every path they get is absolute. */
static char *absolutize(const char *path)
{
	if (path[0] == '/')
		return xstrdup(path);
	char cwd[PATH_MAX];
	if (!getcwd(cwd, sizeof(cwd)))
		return NULL;
	return xasprintf("%s/%s", cwd, path);
}

/* execve() does not search PATH, and doing the search in the child would
 * not be async-signal-safe, so a bare "java" is resolved once here. */
static char *resolve_exe(const char *name)
{
	if (strchr(name, '/'))
		return absolutize(name);
	const char *path = getenv("PATH");
	if (!path || !*path)
		path = "/usr/local/bin:/usr/bin:/bin";
	while (*path) {
		size_t n = strcspn(path, ":");
		char *cand = xasprintf("%.*s/%s", (int)n, path, name);
		if (n > 0 && access(cand, X_OK) == 0)
			return cand;
		free(cand);
		path += n;
		if (*path == ':')
			path++;
	}
	errno = ENOENT;
	return NULL;
}

/* At most max bytes from the start of fd, NUL-terminated. */
static char *read_fd(int fd, size_t max, size_t *lenp)
{
	size_t cap = 4096, len = 0;
	char *buf = xmalloc(cap + 1);
	while (len < max) {
		if (len == cap) {
			cap = cap * 2 > max ? max : cap * 2;
			char *nb = realloc(buf, cap + 1);
			if (!nb)
				abort();
			buf = nb;
		}
		ssize_t n = pread(fd, buf + len, cap - len, (off_t)len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	*lenp = len;
	return buf;
}

/* Whole file (at most max bytes of it), NUL-terminated; NULL if unreadable. */
static char *read_file_at(int dirfd, const char *name, size_t max, size_t *lenp)
{
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return NULL;
	char *buf = read_fd(fd, max, lenp);
	close(fd);
	return buf;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static bool has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* ---- job directory removal ---- */

/* rm -rf of what the program may have left: it can create read-only or
 * unreadable directories, so permissions are restored on the way down. */
static void remove_tree_at(int parent, const char *name, int depth)
{
	if (unlinkat(parent, name, 0) == 0 || errno == ENOENT)
		return;
	if (errno != EISDIR && errno != EPERM)
		return;
	if (depth > REMOVE_DEPTH_MAX)
		return;
	int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == EACCES && fchmodat(parent, name, 0700, 0) == 0)
		fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return;
	(void)fchmod(fd, 0700);
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return;
	}
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		remove_tree_at(dirfd(d), e->d_name, depth + 1);
	}
	closedir(d);
	(void)unlinkat(parent, name, AT_REMOVEDIR);
}

/* ---- spawning ---- */

struct spawn_args {
	const char *path;
	char *const *argv;
	int dirfd;
	int fds[4]; /* become 0..3 in the child; fds[3] < 0: no fd 3 */
	rlim_t fsize;
	int err_pipe; /* write end: errno if exec fails */
};

/* Closes every fd >= first except keep. */
static void close_fds_from(int first, int keep)
{
	int rc = 0;
	if (keep > first)
		rc = close_range((unsigned)first, (unsigned)keep - 1, 0);
	if (rc == 0)
		rc = close_range((unsigned)(keep >= first ? keep + 1 : first), ~0U, 0);
	if (rc == 0)
		return;
	/* No close_range (old kernel, seccomp): the slow way. */
	struct rlimit rl;
	int max = 65536;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    rl.rlim_cur < (rlim_t)max)
		max = (int)rl.rlim_cur;
	for (int fd = first; fd < max; fd++)
		if (fd != keep)
			(void)close(fd);
}

/* In the forked child: only async-signal-safe calls from here on. */
static _Noreturn void child_exec(const struct spawn_args *a)
{
	int err_fd = a->err_pipe;
	int nfds = a->fds[3] >= 0 ? 4 : 3;
	int high[4];
	struct sigaction dfl;
	sigset_t none;
	struct rlimit fsize = {a->fsize, a->fsize};
	struct rlimit nocore = {0, 0};

	if (setpgid(0, 0) < 0)
		goto fail;
	/* Ignored signals stay ignored across exec; the daemon's dispositions
	 * and its blocked SIGCHLD are no business of the JVM's. */
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	for (int sig = 1; sig < NSIG; sig++)
		(void)sigaction(sig, &dfl, NULL);
	sigemptyset(&none);
	if (sigprocmask(SIG_SETMASK, &none, NULL) < 0)
		goto fail;
	if (setrlimit(RLIMIT_FSIZE, &fsize) < 0 || setrlimit(RLIMIT_CORE, &nocore) < 0)
		goto fail;
	if (fchdir(a->dirfd) < 0)
		goto fail;
	/* Lift every source above 0..3 first, so no dup2 below can clobber a
	 * source that happened to sit on one of the target numbers. */
	for (int i = 0; i < nfds; i++)
		if ((high[i] = fcntl(a->fds[i], F_DUPFD_CLOEXEC, 10)) < 0)
			goto fail;
	if ((err_fd = fcntl(a->err_pipe, F_DUPFD_CLOEXEC, 10)) < 0) {
		err_fd = a->err_pipe;
		goto fail;
	}
	for (int i = 0; i < nfds; i++)
		if (dup2(high[i], i) < 0)
			goto fail;
	close_fds_from(nfds, err_fd);
	execve(a->path, a->argv, child_env);
fail:;
	int e = errno;
	(void)!write(err_fd, &e, sizeof(e));
	_exit(127);
}

/* Read-write so that the runner can read the result channel back through
 * the very fd the child had. */
static int open_output(int dirfd, const char *name)
{
	return openat(dirfd, name, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
}

static void close_if_open(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static int on_child_exit(sd_event_source *s, const siginfo_t *si, void *ud);

/* Starts one child with stdin = /dev/null, stdout/stderr (and the result
 * channel) on files of the job directory.  0, or -1 with errno. */
static int spawn_child(struct job *j, char *const argv[], const char *out_name,
		       const char *err_name, const char *chan_name, rlim_t fsize)
{
	/* The run phase keeps its output fds to watch their sizes. */
	bool watch = chan_name != NULL;
	struct spawn_args a = {
		.path = j->r->java, .argv = argv, .dirfd = j->dirfd,
		.fds = {-1, -1, -1, -1}, .fsize = fsize, .err_pipe = -1,
	};
	int pipefd[2] = {-1, -1};
	int rc = -1, saved;

	a.fds[0] = open("/dev/null", O_RDONLY | O_CLOEXEC);
	a.fds[1] = open_output(j->dirfd, out_name);
	a.fds[2] = open_output(j->dirfd, err_name);
	if (chan_name)
		a.fds[3] = open_output(j->dirfd, chan_name);
	if (a.fds[0] < 0 || a.fds[1] < 0 || a.fds[2] < 0 || (chan_name && a.fds[3] < 0))
		goto out;
	if (pipe2(pipefd, O_CLOEXEC | O_NONBLOCK) < 0)
		goto out;
	a.err_pipe = pipefd[1];

	pid_t pid = fork();
	if (pid < 0)
		goto out;
	if (pid == 0)
		child_exec(&a);
	/* Also from this side, so that the group exists before the timer can
	 * possibly try to kill it; fails harmlessly once the child has exec'd. */
	(void)setpgid(pid, pid);
	j->pid = pid;
	j->exec_err_fd = pipefd[0];
	pipefd[0] = -1;
	int r = sd_event_add_child(j->r->ev, &j->child_src, pid, WEXITED, on_child_exit, j);
	if (r < 0) {
		/* Without a watch nobody would reap it: do it now. */
		kill(-pid, SIGKILL);
		(void)waitpid(pid, NULL, 0);
		j->pid = 0;
		close_if_open(&j->exec_err_fd);
		errno = -r;
		goto out;
	}
	rc = 0;
	if (watch) {
		for (int i = 0; i < 3; i++) {
			j->watch_fds[i] = a.fds[i + 1];
			a.fds[i + 1] = -1;
		}
	}
out:
	saved = errno;
	for (int i = 0; i < 4; i++)
		close_if_open(&a.fds[i]);
	close_if_open(&pipefd[0]);
	close_if_open(&pipefd[1]);
	errno = saved;
	return rc;
}

static int spawn_compiler(struct job *j)
{
	char src[SIMPLE_NAME_MAX + sizeof(SRC_FILE_SUFFIX)];
	snprintf(src, sizeof(src), "%s%s", j->simple, SRC_FILE_SUFFIX);
	char *const argv[] = {
		"java", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-XX:-UsePerfData",
		"-cp", j->r->jar, "ft.Compiler", src, CLASSES_DIR, NULL,
	};
	j->phase = PHASE_COMPILE;
	return spawn_child(j, argv, COMPILE_OUT, COMPILE_ERR, NULL, COMPILE_FSIZE_MAX);
}

enum { WATCH_OUT, WATCH_ERR, WATCH_RESULT };

/* By the fds the child got: the program may have renamed the files. */
static bool over_limit(struct job *j, int which)
{
	struct stat st;
	int fd = j->watch_fds[which];
	return fd >= 0 && fstat(fd, &st) == 0 && (uint64_t)st.st_size > (uint64_t)j->r->max_output;
}

static int on_output_poll(sd_event_source *s, uint64_t usec, void *ud)
{
	struct job *j = ud;
	if (over_limit(j, WATCH_OUT) || over_limit(j, WATCH_ERR) || over_limit(j, WATCH_RESULT)) {
		/* run_done() sees the size and reports the limit. */
		if (j->pid > 1)
			(void)kill(-j->pid, SIGKILL);
		return 0;
	}
	if (sd_event_source_set_time_relative(s, OUTPUT_POLL_USEC) >= 0)
		(void)sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
	return 0;
}

static int spawn_launcher(struct job *j)
{
	char *cp = xasprintf("%s:%s", j->r->jar, CLASSES_DIR);
	/* Temporary files land in the job directory and go away with it. */
	char *tmpdir = xasprintf("-Djava.io.tmpdir=%s", j->dir);
	char *const argv[] = {
		"java", "-Xmx256m", "-Xss512k", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
		"-Xshare:auto", "-XX:-UsePerfData", tmpdir, "-cp", cp, "ft.Launcher", j->fqcn,
		NULL,
	};
	/* One byte more than allowed, so "exactly at the limit" is still fine
	 * and "over it" is visible as a file longer than the limit. */
	rlim_t fsize = (rlim_t)j->r->max_output + 1;
	j->phase = PHASE_RUN;
	int rc = spawn_child(j, argv, RUN_OUT, RUN_ERR, RUN_RESULT, fsize);
	free(cp);
	free(tmpdir);
	/* Without the poll the kernel's cap still holds; only speed is lost. */
	if (rc == 0)
		(void)sd_event_add_time_relative(j->r->ev, &j->poll_src, CLOCK_MONOTONIC,
						 OUTPUT_POLL_USEC, OUTPUT_POLL_USEC / 10,
						 on_output_poll, j);
	return rc;
}

/* ---- delivering results ---- */

static void set_result(struct job *j, enum ft_verdict v, int exit_code, char *body, size_t len)
{
	free(j->res.body);
	j->res.verdict = v;
	j->res.exit_code = exit_code;
	j->res.body = body;
	j->res.body_len = len;
}

static void set_result_str(struct job *j, enum ft_verdict v, int exit_code, char *body)
{
	set_result(j, v, exit_code, body, strlen(body));
}

static void unlink_job(struct job *j)
{
	struct ft_runner *r = j->r;
	if (j->prev)
		j->prev->next = j->next;
	else if (r->jobs == j)
		r->jobs = j->next;
	if (j->next)
		j->next->prev = j->prev;
	j->prev = j->next = NULL;
	r->active--;
}

/* Releases what the job holds except its result; children must be gone. */
static void job_release(struct job *j)
{
	j->child_src = sd_event_source_unref(j->child_src);
	j->timer_src = sd_event_source_unref(j->timer_src);
	j->defer_src = sd_event_source_unref(j->defer_src);
	j->poll_src = sd_event_source_unref(j->poll_src);
	close_if_open(&j->exec_err_fd);
	for (int i = 0; i < 3; i++)
		close_if_open(&j->watch_fds[i]);
	j->pid = 0;
}

static void job_free(struct job *j)
{
	if (j->dir)
		remove_tree_at(AT_FDCWD, j->dir, 0);
	close_if_open(&j->dirfd);
	free(j->dir);
	free(j->res.body);
	free(j);
}

static void deliver(struct job *j)
{
	j->res.wall_ms = now_ms() - j->start_ms;
	job_release(j);
	unlink_job(j);
	j->done(j->ud, j->id, &j->res);
	job_free(j);
}

static int on_deferred(sd_event_source *s, void *ud)
{
	deliver(ud);
	return 0;
}

/* For results known before any child runs: done() is still called from
 * the loop, never from inside ft_runner_start. */
static int deliver_later(struct job *j)
{
	j->timer_src = sd_event_source_unref(j->timer_src);
	int r = sd_event_add_defer(j->r->ev, &j->defer_src, on_deferred, j);
	if (r < 0)
		return r;
	return sd_event_source_set_enabled(j->defer_src, SD_EVENT_ONESHOT);
}

/* ---- verdicts ---- */

static char *stderr_excerpt(struct job *j, const char *name)
{
	size_t len;
	char *s = read_file_at(j->dirfd, name, STDERR_EXCERPT, &len);
	return s ? s : xstrdup("");
}

static char *describe_status(const siginfo_t *si)
{
	if (si->si_code == CLD_EXITED)
		return xasprintf("exit status %d", si->si_status);
	return xasprintf("signal %d (%s)", si->si_status, strsignal(si->si_status));
}

static void internal_error(struct job *j, const char *what, const char *detail)
{
	set_result_str(j, FT_VERDICT_INTERNAL_ERROR, -1,
		       xasprintf("Internal error: %s\n%s", what, detail));
}

static void time_limit(struct job *j)
{
	set_result_str(j, FT_VERDICT_TIME_LIMIT, -1,
		       xasprintf("Time limit exceeded: the program ran for more than %d ms",
				 j->r->wall_ms));
}

/* Compile finished.  Returns true if the job is over (result set). */
static bool compile_done(struct job *j, const siginfo_t *si)
{
	bool compiled = si->si_code == CLD_EXITED && si->si_status == 0;
	/* A compile that ended right at the deadline leaves no time to run. */
	if (j->killed_by_timer || (j->deadline_passed && compiled)) {
		time_limit(j);
		return true;
	}
	if (compiled) {
		if (spawn_launcher(j) == 0)
			return false;
		internal_error(j, "could not start the program", strerror(errno));
		return true;
	}
	if (si->si_code == CLD_EXITED && si->si_status == 1) {
		size_t len;
		char *out = read_file_at(j->dirfd, COMPILE_OUT, (size_t)COMPILE_FSIZE_MAX, &len);
		/* Anything else on stdout means the compiler JVM itself misbehaved. */
		if (out && has_prefix(out, "Code did not compile:")) {
			set_result(j, FT_VERDICT_COMPILE_ERROR, -1, out, len);
			return true;
		}
		free(out);
	}
	char *status = describe_status(si);
	char *err = stderr_excerpt(j, COMPILE_ERR);
	char *what = xasprintf("the compiler failed with %s", status);
	internal_error(j, what, err);
	free(what);
	free(err);
	free(status);
	return true;
}

/* The JVM could not even start (bad flag, no memory for the heap, missing
 * jar): the node's fault, not the program's.  These messages are printed
 * before any user code can run. */
static bool jvm_failed_to_start(const char *err)
{
	return has_prefix(err, "Error: Could not create the Java Virtual Machine") ||
	       has_prefix(err, "Error occurred during initialization of VM") ||
	       has_prefix(err, "Error: Could not find or load main class ft.Launcher") ||
	       has_prefix(err, "Error: Invalid or corrupt jarfile") ||
	       has_prefix(err, "Unrecognized option") || has_prefix(err, "Unrecognized VM option");
}

static void run_done_without_answer(struct job *j, const siginfo_t *si)
{
	char *err = stderr_excerpt(j, RUN_ERR);
	if (jvm_failed_to_start(err)) {
		internal_error(j, "the Java VM did not start", err);
	} else if (si->si_code == CLD_EXITED) {
		set_result_str(j, FT_VERDICT_RUNTIME_ERROR, si->si_status,
			       xasprintf("Program exited with status %d before run() returned",
					 si->si_status));
	} else {
		set_result_str(j, FT_VERDICT_RUNTIME_ERROR, -1,
			       xasprintf("Program was killed by signal %d (%s) before run() returned",
					 si->si_status, strsignal(si->si_status)));
	}
	free(err);
}

static void output_limit(struct job *j, int exit_code, const char *where)
{
	set_result_str(j, FT_VERDICT_OUTPUT_LIMIT, exit_code,
		       xasprintf("Output limit exceeded:\nThe program wrote more than %zu bytes %s",
				 j->r->max_output, where));
}

static void run_done(struct job *j, const siginfo_t *si)
{
	int exit_code = si->si_code == CLD_EXITED ? si->si_status : -1;

	if (j->killed_by_timer) {
		time_limit(j);
		return;
	}
	/* The JVM ignores SIGXFSZ (writes fail with EFBIG instead), but a
	 * process the program started might not. */
	if ((si->si_code != CLD_EXITED && si->si_status == SIGXFSZ) || over_limit(j, WATCH_OUT)) {
		output_limit(j, exit_code, "to standard output");
		return;
	}
	if (over_limit(j, WATCH_ERR)) {
		output_limit(j, exit_code, "to standard error");
		return;
	}
	if (over_limit(j, WATCH_RESULT)) {
		output_limit(j, exit_code, "as the answer of run()");
		return;
	}
	size_t len;
	char *chan = read_fd(j->watch_fds[WATCH_RESULT], j->r->max_output + 1, &len);
	if (len > 0 && (chan[0] == 'O' || chan[0] == 'E')) {
		enum ft_verdict v = chan[0] == 'O' ? FT_VERDICT_OK : FT_VERDICT_RUNTIME_ERROR;
		memmove(chan, chan + 1, len); /* also moves the NUL */
		set_result(j, v, exit_code, chan, len - 1);
		return;
	}
	free(chan);
	run_done_without_answer(j, si);
}

static int on_child_exit(sd_event_source *s, const siginfo_t *si, void *ud)
{
	struct job *j = ud;
	int exec_errno = 0;

	/* The leader is still a zombie here, so its pid cannot have been
	 * reused as a group id: take down whatever it left in its group. */
	if (j->pid > 1)
		(void)kill(-j->pid, SIGKILL);
	if (read(j->exec_err_fd, &exec_errno, sizeof(exec_errno)) != (ssize_t)sizeof(exec_errno))
		exec_errno = 0;
	close_if_open(&j->exec_err_fd);
	j->child_src = sd_event_source_unref(j->child_src);
	j->pid = 0;

	bool over = true;
	if (exec_errno != 0) {
		char *what = xasprintf("could not start %s", j->r->java);
		internal_error(j, what, strerror(exec_errno));
		free(what);
	} else if (j->phase == PHASE_COMPILE) {
		over = compile_done(j, si);
	} else {
		run_done(j, si);
	}
	if (over)
		deliver(j);
	return 0;
}

static int on_timeout(sd_event_source *s, uint64_t usec, void *ud)
{
	struct job *j = ud;
	siginfo_t si;

	j->deadline_passed = true;
	if (j->pid <= 1)
		return 0;
	/* Exited right at the deadline, exit event not dispatched yet: let the
	 * exit decide (it will still see deadline_passed). */
	memset(&si, 0, sizeof(si));
	if (waitid(P_PID, (id_t)j->pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid == j->pid)
		return 0;
	j->killed_by_timer = true;
	(void)kill(-j->pid, SIGKILL);
	return 0;
}

/* ---- public API ---- */

struct ft_runner *ft_runner_new(sd_event *ev, const struct ft_runner_conf *conf)
{
	struct ft_runner *r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->java = resolve_exe(conf->java);
	r->jar = absolutize(conf->jar);
	r->work_dir = absolutize(conf->work_dir);
	if (!r->java || !r->jar || !r->work_dir) {
		int saved = errno;
		free(r->java);
		free(r->jar);
		free(r->work_dir);
		free(r);
		errno = saved;
		return NULL;
	}
	(void)mkdir(r->work_dir, 0700);
	r->ev = sd_event_ref(ev);
	r->wall_ms = conf->wall_ms;
	r->max_output = conf->max_output_bytes;
	return r;
}

void ft_runner_free(struct ft_runner *r)
{
	if (!r)
		return;
	while (r->jobs) {
		struct job *j = r->jobs;
		if (j->pid > 1) {
			(void)kill(-j->pid, SIGKILL);
			/* The source reaps the (now dying) child when freed. */
			if (j->child_src)
				(void)sd_event_source_set_child_process_own(j->child_src, 1);
		}
		job_release(j);
		unlink_job(j);
		job_free(j);
	}
	sd_event_unref(r->ev);
	free(r->java);
	free(r->jar);
	free(r->work_dir);
	free(r);
}

size_t ft_runner_active(const struct ft_runner *r)
{
	return r->active;
}

static int make_job_dir(struct job *j, const char *src, size_t len)
{
	char *tmpl = xasprintf("%s/job-XXXXXX", j->r->work_dir);
	if (!mkdtemp(tmpl)) { /* mode 0700 */
		free(tmpl);
		return -1;
	}
	j->dir = tmpl;
	j->dirfd = open(j->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (j->dirfd < 0)
		return -1;
	char name[SIMPLE_NAME_MAX + sizeof(SRC_FILE_SUFFIX)];
	snprintf(name, sizeof(name), "%s%s", j->simple, SRC_FILE_SUFFIX);
	int fd = openat(j->dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	int rc = write_all(fd, src, len);
	int saved = errno;
	if (close(fd) < 0 && rc == 0)
		return -1;
	errno = saved;
	if (rc < 0)
		return -1;
	return mkdirat(j->dirfd, CLASSES_DIR, 0700);
}

static struct job *job_new(struct ft_runner *r, uint64_t job_id, ft_run_done_fn done, void *ud)
{
	struct job *j = calloc(1, sizeof(*j));
	if (!j)
		abort();
	j->r = r;
	j->id = job_id;
	j->done = done;
	j->ud = ud;
	j->dirfd = -1;
	j->exec_err_fd = -1;
	for (int i = 0; i < 3; i++)
		j->watch_fds[i] = -1;
	j->start_ms = now_ms();
	j->res.exit_code = -1;
	return j;
}

static void link_job(struct job *j)
{
	struct ft_runner *r = j->r;
	j->next = r->jobs;
	if (r->jobs)
		r->jobs->prev = j;
	r->jobs = j;
	r->active++;
}

int ft_runner_start(struct ft_runner *r, uint64_t job_id, const char *src, size_t len,
		    ft_run_done_fn done, void *ud)
{
	struct job *j = job_new(r, job_id, done, ud);
	int rc;

	if (ft_java_class_name(src, len, j->fqcn, sizeof(j->fqcn), j->simple, sizeof(j->simple)) < 0) {
		set_result_str(j, FT_VERDICT_COMPILE_ERROR, -1, xstrdup("No class name found in code"));
		if ((rc = deliver_later(j)) < 0)
			goto fail_errno;
		link_job(j);
		return 0;
	}
	if (make_job_dir(j, src, len) < 0) {
		rc = -errno;
		goto fail_errno;
	}
	if (r->wall_ms > 0) {
		rc = sd_event_add_time_relative(r->ev, &j->timer_src, CLOCK_MONOTONIC,
						(uint64_t)r->wall_ms * 1000, 1000, on_timeout, j);
		if (rc < 0)
			goto fail_errno;
	}
	if (spawn_compiler(j) < 0) {
		char *what = xasprintf("could not start the compiler (%s)", r->java);
		internal_error(j, what, strerror(errno));
		free(what);
		if ((rc = deliver_later(j)) < 0)
			goto fail_errno;
	}
	link_job(j);
	return 0;

fail_errno:
	job_release(j);
	job_free(j);
	errno = -rc;
	return -1;
}
