/* The compile and run JVMs of a job (see launch.h). */
#include "runner/launch.h"
#include "lib/util.h"
#include "runner/jobdir.h"

#include <stdio.h>
#include <stdlib.h>

/* Pre-started JVMs start at a low priority, so that starting them does not
 * slow down the jobs running meanwhile; the handover restores 0. */
#define SPARE_NICE 10

/* Temporary files land in the private /tmp (unsandboxed: the job
 * directory) and go away with it. */
static char *tmpdir_flag(const struct ft_child *c, const char *dir)
{
	return ft_xasprintf("-Djava.io.tmpdir=%s",
			    ft_sandbox_enabled(c->h->sb) ? FT_SANDBOX_TMP : dir);
}

int ft_launch_compiler(struct ft_child *c, int dirfd, const char *dir,
		       const struct ft_run_limits *lim, char *const names[], size_t n_names,
		       char *err, size_t errlen)
{
	const struct ft_child_host *h = c->h;
	char mem[FT_JVM_MEM_ARGS_MAX][FT_JVM_ARG_LEN];
	char **argv = ft_xcalloc(16 + FT_JVM_MEM_ARGS_MAX + n_names, sizeof(*argv));
	char *tmpdir = tmpdir_flag(c, dir);
	int n = ft_child_jvm_args(h, lim->compile_memory_bytes, argv, mem);
	argv[n++] = tmpdir;
	argv[n++] = "-cp";
	argv[n++] = (char *)ft_sandbox_jar(h->sb);
	argv[n++] = "ft.Compiler";
	for (size_t i = 0; i < n_names; i++)
		argv[n++] = names[i];
	argv[n] = NULL;
	struct ft_child_limits cl = {
		.tmp_bytes = 16 * FT_MiB,
		.fsize = FT_LAUNCH_COMPILE_FSIZE_MAX,
		.cpu_seconds = ft_cpu_rlimit_seconds(2 * lim->compile_wall_ms),
		.memory = lim->compile_memory_bytes,
		.tasks = FT_LAUNCH_COMPILE_TASKS,
		.address_space = ft_child_address_space(lim->compile_memory_bytes),
		.nofile = FT_LAUNCH_COMPILE_OPEN_FILES,
		.keep = {
			[FT_CHILD_STDOUT] = { FT_LAUNCH_COMPILE_OUT_MAX, false },
			[FT_CHILD_STDERR] = { FT_JOBDIR_EXCERPT, true },
		},
	};
	int rc = ft_child_spawn(c, dirfd, dir, argv, -1, &cl, err, errlen);
	free(tmpdir);
	free(argv);
	if (rc == 0 && lim->compile_wall_ms > 0 &&
	    ft_child_arm_timer(c, lim->compile_wall_ms) < 0) {
		snprintf(err, errlen, "cannot arm the compile timer");
		return -1; /* the child is watched: its exit still ends the job */
	}
	return rc;
}

rlim_t ft_launch_run_fsize(const struct ft_run_limits *l)
{
	return (rlim_t)l->run_max_file_bytes;
}

/* ft.Launcher fqcn; stdin_fd >= 0: a pre-started JVM's. */
static int spawn_launcher(struct ft_child *c, int dirfd, const char *dir,
			  const struct ft_run_limits *lim, const char *fqcn, int stdin_fd,
			  int cpu_extra_ms, char *err, size_t errlen)
{
	const struct ft_child_host *h = c->h;
	char mem[FT_JVM_MEM_ARGS_MAX][FT_JVM_ARG_LEN];
	char *argv[32];
	char *cp = ft_xasprintf("%s:%s", ft_sandbox_jar(h->sb), FT_JOBDIR_CLASSES);
	char *tmpdir = tmpdir_flag(c, dir);
	int n = ft_child_jvm_args(h, lim->run_memory_bytes, argv, mem);
	argv[n++] = tmpdir;
	argv[n++] = "-cp";
	argv[n++] = cp;
	argv[n++] = "ft.Launcher";
	argv[n++] = (char *)fqcn;
	argv[n] = NULL;
	uint64_t tmp = 2 * lim->run_max_file_bytes;
	struct ft_child_limits cl = {
		.tmp_bytes = tmp < FT_MiB ? FT_MiB : tmp,
		.fsize = ft_launch_run_fsize(lim),
		.cpu_seconds = ft_cpu_rlimit_seconds(
			lim->run_cpu_ms > 0 ? lim->run_cpu_ms + cpu_extra_ms : 0),
		.memory = lim->run_memory_bytes,
		.tasks = lim->run_max_processes,
		.address_space = ft_child_address_space(lim->run_memory_bytes),
		.nofile = (rlim_t)lim->run_max_open_files,
		.nice = stdin_fd >= 0 ? SPARE_NICE : 0,
		/* ft_child_start_poll sets the job's own limit. */
		.keep = {
			[FT_CHILD_STDOUT] = { lim->max_output_bytes, false },
			[FT_CHILD_STDERR] = { lim->max_output_bytes, false },
			[FT_CHILD_RESULT] = { lim->max_output_bytes + FT_CHILD_RESULT_HEAD, false },
		},
	};
	int rc = ft_child_spawn(c, dirfd, dir, argv, stdin_fd, &cl, err, errlen);
	free(cp);
	free(tmpdir);
	return rc;
}

int ft_launch_program(struct ft_child *c, int dirfd, const char *dir,
		      const struct ft_run_limits *lim, const char *fqcn, char *err, size_t errlen)
{
	if (spawn_launcher(c, dirfd, dir, lim, fqcn, -1, 0, err, errlen) < 0)
		return -1;
	if (lim->run_wall_ms > 0 && ft_child_arm_timer(c, lim->run_wall_ms) < 0) {
		ft_child_kill(c); /* its exit ends the job */
		return 0;
	}
	ft_child_start_poll(c, lim->run_cpu_ms, lim->max_output_bytes);
	return 0;
}

int ft_launch_spare(struct ft_child *c, int dirfd, const char *dir, const struct ft_run_limits *lim,
		    int stdin_fd, int cpu_extra_ms, char *err, size_t errlen)
{
	return spawn_launcher(c, dirfd, dir, lim, "-", stdin_fd, cpu_extra_ms, err, errlen);
}
