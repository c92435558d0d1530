/* Job directories: the private directory of each child below the node's
 * work directory, the files the runner puts there and reads back, and
 * their removal.
 *
 * A job's directory holds its sources, the program's input and
 * arguments and classes/ (the compiler's answer, written by the runner);
 * the sandbox binds it at /job, read-only.  What a job's children print
 * and answer goes through pipes (child.h), not files here; only the
 * runner's own JVMs that run no program (the start's self-test, the warm
 * compiler) leave their stderr in a file of their directory.  Removal
 * copes with anything (read-only or unreadable directories, deep trees).
 * Every read of a file here is bounded. */
#ifndef FT_JOBDIR_H
#define FT_JOBDIR_H

#include <stdbool.h>
#include <stddef.h>

#include "runner/compiled.h"

/* Names below the work directory; a daemon's start removes what a killed
 * one left of them. */
#define FT_JOBDIR_JOB "job-"
#define FT_JOBDIR_SPARE "warm-" /* an idle pre-started JVM's; "job-" at handover */
#define FT_JOBDIR_WARM_COMPILER "warm-compiler-"
#define FT_JOBDIR_SELFTEST "selftest-"

/* Files of a job directory. */
#define FT_JOBDIR_SRC_SUFFIX ".java"
#define FT_JOBDIR_CLASSES "classes"
#define FT_JOBDIR_COMPILE_ERR "compile.err"
#define FT_JOBDIR_RUN_OUT "stdout"
#define FT_JOBDIR_RUN_ERR "stderr"
/* What the launcher finds in its working directory (see ft.Launcher). */
#define FT_JOBDIR_RUN_INPUT "input"
#define FT_JOBDIR_RUN_ARGS "args"
#define FT_JOBDIR_RUN_ENTRY "entry"

/* How much of a failed child's stderr goes into a message. */
#define FT_JOBDIR_EXCERPT 2048

/* path made absolute against the current directory (children run in
 * their job directory); NULL with errno. */
char *ft_jobdir_absolute(const char *path);

/* A new directory parent/prefixXXXXXX (mode 0700; 0755 if shared: the
 * sandbox user may read and enter it).  *path is set (malloc'd) once the
 * directory exists, *dirfd once it is open.  0, or -1 with errno (then
 * *path may still be set: the caller removes the directory). */
int ft_jobdir_make(const char *parent, const char *prefix, bool shared, char **path, int *dirfd);
/* rm -rf path (absolute). */
void ft_jobdir_remove(const char *path);
/* Every directory of a runner's below work_dir (this work directory is
 * the node's own: nothing else runs jobs in it). */
void ft_jobdir_remove_stale(const char *work_dir);

/* An output file for a child: created or truncated, read-write so that the
 * runner can read it back through the very descriptor the child had. */
int ft_jobdir_open_output(int dirfd, const char *name);

/* 0, or -1 with errno. */
int ft_jobdir_write_all(int fd, const void *p, size_t n);
/* A new file in dirfd holding p[0..n), readable by the sandbox user. */
int ft_jobdir_write_file(int dirfd, const char *name, const void *p, size_t n);
/* What ft.Launcher reads from the job's directory before the program
 * runs; NULL: none (the launcher's default). */
struct ft_run_inputs {
	const char *input; /* standard input */
	size_t input_len;
	const char *args; /* the arguments, each NUL-terminated, one after the other */
	size_t args_len;
	const char *entry; /* "auto" or "main": how the class is run; NULL: through run() */
};

int ft_jobdir_write_run_inputs(int dirfd, const struct ft_run_inputs *in);
/* The classes of cc below dirfd/classes/, as javac -d would write them;
 * a name that could not be javac's (an empty, ".", ".." or too long path
 * element) is refused with EINVAL.  0 or -1. */
int ft_jobdir_write_classes(int dirfd, const struct ft_compiled *cc);

/* At most max bytes from the start of fd (whatever its offset), NUL-
 * terminated, *len of them. */
char *ft_jobdir_read_fd(int fd, size_t max, size_t *len);
/* The same of dirfd/name (not following a symlink); NULL if unreadable. */
char *ft_jobdir_read(int dirfd, const char *name, size_t max, size_t *len);
/* The first FT_JOBDIR_EXCERPT bytes of dirfd/name; "" if unreadable. */
char *ft_jobdir_excerpt(int dirfd, const char *name);

#endif
