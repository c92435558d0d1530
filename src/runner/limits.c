/* Run limits and JVM memory flags (see limits.h). */
#include "runner/limits.h"

#include <inttypes.h>
#include <stdio.h>

void ft_run_limits_defaults(struct ft_run_limits *l)
{
	l->compile_wall_ms = FT_DEFAULT_COMPILE_WALL_MS;
	l->run_wall_ms = FT_DEFAULT_RUN_WALL_MS;
	l->run_cpu_ms = FT_DEFAULT_RUN_CPU_MS;
	l->run_memory_bytes = FT_DEFAULT_RUN_MEMORY;
	l->compile_memory_bytes = FT_DEFAULT_COMPILE_MEMORY;
	l->run_max_processes = FT_DEFAULT_RUN_MAX_PROCESSES;
	l->run_max_file_bytes = FT_DEFAULT_RUN_MAX_FILE;
	l->max_output_bytes = FT_DEFAULT_MAX_OUTPUT;
	l->run_max_open_files = FT_DEFAULT_RUN_MAX_OPEN_FILES;
}

void ft_run_limits_fill(struct ft_run_limits *l)
{
	struct ft_run_limits d;
	ft_run_limits_defaults(&d);
	if (l->compile_wall_ms <= 0)
		l->compile_wall_ms = d.compile_wall_ms;
	if (l->run_wall_ms <= 0)
		l->run_wall_ms = d.run_wall_ms;
	if (l->run_cpu_ms <= 0)
		l->run_cpu_ms = d.run_cpu_ms;
	if (l->run_memory_bytes == 0)
		l->run_memory_bytes = d.run_memory_bytes;
	if (l->run_memory_bytes < FT_MIN_MEMORY)
		l->run_memory_bytes = FT_MIN_MEMORY;
	if (l->compile_memory_bytes == 0)
		l->compile_memory_bytes = d.compile_memory_bytes;
	if (l->compile_memory_bytes < FT_MIN_MEMORY)
		l->compile_memory_bytes = FT_MIN_MEMORY;
	if (l->run_max_processes <= 0)
		l->run_max_processes = d.run_max_processes;
	if (l->run_max_processes < FT_MIN_PROCESSES)
		l->run_max_processes = FT_MIN_PROCESSES;
	if (l->run_max_file_bytes == 0)
		l->run_max_file_bytes = d.run_max_file_bytes;
	if (l->max_output_bytes == 0)
		l->max_output_bytes = d.max_output_bytes;
	if (l->run_max_open_files <= 0)
		l->run_max_open_files = d.run_max_open_files;
	if (l->run_max_open_files < FT_MIN_OPEN_FILES)
		l->run_max_open_files = FT_MIN_OPEN_FILES;
}

static int min_int(int max, int want)
{
	return want > 0 && want < max ? want : max;
}

static uint64_t min_u64(uint64_t max, uint64_t want)
{
	return want > 0 && want < max ? want : max;
}

void ft_run_limits_clamp(const struct ft_run_limits *max, const struct ft_run_limits *want,
			 struct ft_run_limits *out)
{
	struct ft_run_limits w = { 0 };
	if (want)
		w = *want;
	out->compile_wall_ms = min_int(max->compile_wall_ms, w.compile_wall_ms);
	out->run_wall_ms = min_int(max->run_wall_ms, w.run_wall_ms);
	out->run_cpu_ms = min_int(max->run_cpu_ms, w.run_cpu_ms);
	out->run_memory_bytes = min_u64(max->run_memory_bytes, w.run_memory_bytes);
	out->compile_memory_bytes = min_u64(max->compile_memory_bytes, w.compile_memory_bytes);
	out->run_max_processes = min_int(max->run_max_processes, w.run_max_processes);
	out->run_max_file_bytes = min_u64(max->run_max_file_bytes, w.run_max_file_bytes);
	out->max_output_bytes = min_u64(max->max_output_bytes, w.max_output_bytes);
	out->run_max_open_files = min_int(max->run_max_open_files, w.run_max_open_files);
	/* A request cannot starve the JVM into an internal error either. */
	if (out->run_memory_bytes < FT_MIN_MEMORY)
		out->run_memory_bytes = FT_MIN_MEMORY;
	if (out->run_max_processes < FT_MIN_PROCESSES)
		out->run_max_processes = FT_MIN_PROCESSES;
	if (out->run_max_open_files < FT_MIN_OPEN_FILES)
		out->run_max_open_files = FT_MIN_OPEN_FILES;
}

static uint64_t clamp_u64(uint64_t v, uint64_t lo, uint64_t hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

static uint64_t round_mib(uint64_t v)
{
	return v / FT_MiB * FT_MiB;
}

void ft_jvm_mem_plan(uint64_t budget, bool with_rlimit_as, struct ft_jvm_mem *m)
{
	if (budget < FT_MIN_MEMORY)
		budget = FT_MIN_MEMORY;
	/* Half the budget for the heap while it is small (the JVM's own
	 * native memory, ~40 MiB resident, must fit beside a full heap), all
	 * but 256 MiB above that. */
	uint64_t heap = budget <= 512 * FT_MiB ? budget / 2 : budget - 256 * FT_MiB;
	m->heap = clamp_u64(round_mib(heap), 16 * FT_MiB, UINT64_MAX);
	m->metaspace = clamp_u64(round_mib(budget / 4), 32 * FT_MiB, 128 * FT_MiB);
	m->class_space = clamp_u64(round_mib(m->metaspace / 2), 16 * FT_MiB, 64 * FT_MiB);
	m->code_cache = budget < 512 * FT_MiB ? 16 * FT_MiB : 32 * FT_MiB;
	m->direct = clamp_u64(round_mib(budget / 4), 8 * FT_MiB, UINT64_MAX);
	m->stack = 512 * 1024;
	m->ci_compilers = 0;
	m->address_space = 0;
	if (with_rlimit_as) {
		/* Fewer compiler threads and malloc arenas (MALLOC_ARENA_MAX=2 is
		 * always in the environment) keep the reservations down. */
		m->ci_compilers = 1;
		m->address_space = m->heap + m->metaspace + m->class_space + 352 * FT_MiB;
	}
}

static void size_arg(char *out, const char *flag, uint64_t bytes)
{
	if (bytes % FT_MiB == 0)
		snprintf(out, FT_JVM_ARG_LEN, "%s%" PRIu64 "m", flag, bytes / FT_MiB);
	else
		snprintf(out, FT_JVM_ARG_LEN, "%s%" PRIu64 "k", flag, bytes / 1024);
}

int ft_jvm_mem_args(const struct ft_jvm_mem *m, char out[][FT_JVM_ARG_LEN])
{
	int n = 0;
	size_arg(out[n++], "-Xmx", m->heap);
	size_arg(out[n++], "-Xss", m->stack);
	size_arg(out[n++], "-XX:MaxMetaspaceSize=", m->metaspace);
	size_arg(out[n++], "-XX:CompressedClassSpaceSize=", m->class_space);
	size_arg(out[n++], "-XX:ReservedCodeCacheSize=", m->code_cache);
	size_arg(out[n++], "-XX:MaxDirectMemorySize=", m->direct);
	if (m->ci_compilers > 0)
		snprintf(out[n++], FT_JVM_ARG_LEN, "-XX:CICompilerCount=%d", m->ci_compilers);
	return n;
}

uint64_t ft_cpu_rlimit_seconds(int cpu_ms)
{
	if (cpu_ms <= 0)
		return 0;
	return ((uint64_t)cpu_ms + 999) / 1000 + 1;
}
