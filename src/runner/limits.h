/* Resource limits of one run, and the JVM flags that fit a memory budget.
 * Pure logic, unit-tested (tests/unit/check_limits.c). */
#ifndef FT_LIMITS_H
#define FT_LIMITS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FT_MiB ((uint64_t)1 << 20)

/* Defaults (and, in the configuration, the maxima a request may ask for). */
#define FT_DEFAULT_COMPILE_WALL_MS 30000
#define FT_DEFAULT_RUN_WALL_MS 10000
#define FT_DEFAULT_RUN_CPU_MS 10000
#define FT_DEFAULT_RUN_MEMORY (256 * FT_MiB)
#define FT_DEFAULT_COMPILE_MEMORY (512 * FT_MiB)
#define FT_DEFAULT_RUN_MAX_PROCESSES 64
#define FT_DEFAULT_RUN_MAX_FILE (16 * FT_MiB)
#define FT_DEFAULT_MAX_OUTPUT (1 * FT_MiB)
/* A JVM running a program holds about 10 descriptors (measured on OpenJDK
 * 17: its three pipes and stdin, the result channel, lib/modules, the jar
 * and a socket); the rest is the program's. */
#define FT_DEFAULT_RUN_MAX_OPEN_FILES 256

/* Smallest memory budget a JVM starts in (below, every run would be an
 * internal error); smallest process count (the JVM's own threads). */
#define FT_MIN_MEMORY (64 * FT_MiB)
#define FT_MIN_PROCESSES 24
/* Smallest open-file limit (RLIMIT_NOFILE): the JVM's own and some room. */
#define FT_MIN_OPEN_FILES 32

/* All limits of one job.  Processes counts threads too (the kernel's pids
 * controller counts tasks). */
struct ft_run_limits {
	int compile_wall_ms;
	int run_wall_ms; /* the run phase alone, wall clock */
	int run_cpu_ms;	 /* CPU time of everything the program runs */
	uint64_t run_memory_bytes;
	uint64_t compile_memory_bytes;
	int run_max_processes;
	uint64_t run_max_file_bytes; /* largest file the program may write */
	uint64_t max_output_bytes;   /* stdout, stderr and the answer, each */
	int run_max_open_files;	     /* RLIMIT_NOFILE of each process of the run */
};

/* The defaults above. */
void ft_run_limits_defaults(struct ft_run_limits *l);

/* Zero (or negative) fields of l take the default; values below the
 * minimum a JVM needs are raised to it. */
void ft_run_limits_fill(struct ft_run_limits *l);

/* out = want, field by field at most max; a zero field in want means "the
 * maximum".  want may be NULL (then out = max).  max must be filled. */
void ft_run_limits_clamp(const struct ft_run_limits *max, const struct ft_run_limits *want,
			 struct ft_run_limits *out);

/* JVM memory settings for a memory budget. */
struct ft_jvm_mem {
	uint64_t heap;		/* -Xmx */
	uint64_t metaspace;	/* -XX:MaxMetaspaceSize */
	uint64_t class_space;	/* -XX:CompressedClassSpaceSize */
	uint64_t code_cache;	/* -XX:ReservedCodeCacheSize */
	uint64_t direct;	/* -XX:MaxDirectMemorySize */
	uint64_t stack;		/* -Xss */
	int ci_compilers;	/* -XX:CICompilerCount, 0: the JVM's choice */
	uint64_t address_space; /* RLIMIT_AS to set, 0: none */
};

/* budget: the memory limit.  with_rlimit_as: no cgroup enforces the
 * budget, so the address space is capped instead (sized for the JVM's
 * reservations: measured on OpenJDK 17, Hello needed heap + 352..416 MiB). */
void ft_jvm_mem_plan(uint64_t budget, bool with_rlimit_as, struct ft_jvm_mem *m);

#define FT_JVM_MEM_ARGS_MAX 7
#define FT_JVM_ARG_LEN 48
/* The flags for m, written into out[0..]; returns how many. */
int ft_jvm_mem_args(const struct ft_jvm_mem *m, char out[][FT_JVM_ARG_LEN]);

/* RLIMIT_CPU seconds for a CPU limit in ms: rounded up, plus one second of
 * slack (the precise check is the runner's own poll of the CPU time). */
uint64_t ft_cpu_rlimit_seconds(int cpu_ms);

#endif
