/* The two JVMs of a job: the compiler (ft.Compiler, cold: one per job) and
 * the program's (ft.Launcher, with the result channel on fd 3), each with
 * its command line and what it may use.  A program's JVM may also be
 * started ahead of its job (spares.h). */
#ifndef FT_LAUNCH_H
#define FT_LAUNCH_H

#include <stddef.h>
#include <stdint.h>
#include <sys/resource.h>

#include "runner/child.h"
#include "runner/limits.h"

/* The compiler writes class files and diagnostics; this only guards the
 * disk, the user's output limit does not apply to it. */
#define FT_LAUNCH_COMPILE_FSIZE_MAX ((rlim_t)64 << 20)
/* What is kept of a cold compiler's stdout, its answer (the classes or the
 * compile error, as the warm compiler's): as much as the warm compiler may
 * answer. */
#define FT_LAUNCH_COMPILE_OUT_MAX ((uint64_t)64 << 20)
/* The compiler's own threads (javac is single-threaded, the JVM is not). */
#define FT_LAUNCH_COMPILE_TASKS 256
/* RLIMIT_NOFILE of a compile: javac opens one source at a time, besides
 * the JVM's own (about 10). */
#define FT_LAUNCH_COMPILE_OPEN_FILES 256

/* ft.Compiler names[0..n) in the job directory (dirfd, at dir), which
 * answers on its stdout, under lim's compile limits, its timer armed.  0,
 * or -1 with a message in err (the child may have started all the same:
 * c->pid > 0, then its exit still ends the job). */
int ft_launch_compiler(struct ft_child *c, int dirfd, const char *dir,
		       const struct ft_run_limits *lim, char *const names[], size_t n, char *err,
		       size_t errlen);

/* ft.Launcher fqcn in the job directory, under lim's run limits, its wall
 * timer and its poll armed.  0 (even if the timer could not be armed: then
 * it is killed and its exit ends the job), or -1 with a message in err. */
int ft_launch_program(struct ft_child *c, int dirfd, const char *dir,
		      const struct ft_run_limits *lim, const char *fqcn, char *err, size_t errlen);

/* "ft.Launcher -" for a job to come: it says FT_WIRE_SPARE_READY, then
 * reads the class name on stdin_fd.  Low priority until its job comes
 * (spares.h renices it), no timer or poll yet, and cpu_extra_ms of CPU
 * time on top of lim's for its own start.  0, or -1 with a message. */
int ft_launch_spare(struct ft_child *c, int dirfd, const char *dir, const struct ft_run_limits *lim,
		    int stdin_fd, int cpu_extra_ms, char *err, size_t errlen);

/* RLIMIT_FSIZE of a run, for the files it writes to its /tmp (its output
 * goes through pipes, which the limit does not concern): the file limit. */
rlim_t ft_launch_run_fsize(const struct ft_run_limits *l);

#endif
