/* Run limits, JVM memory flags (runner/limits.c) and the verdict of a
 * finished run (runner/verdict.c). */
#include "runner/limits.h"
#include "runner/verdict.h"

#include <check.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

/* ---- limits ---- */

START_TEST(test_defaults_and_fill)
{
	struct ft_run_limits l;
	memset(&l, 0, sizeof(l));
	ft_run_limits_fill(&l);
	ck_assert_int_eq(l.compile_wall_ms, FT_DEFAULT_COMPILE_WALL_MS);
	ck_assert_int_eq(l.run_wall_ms, FT_DEFAULT_RUN_WALL_MS);
	ck_assert_int_eq(l.run_cpu_ms, FT_DEFAULT_RUN_CPU_MS);
	ck_assert_uint_eq(l.run_memory_bytes, FT_DEFAULT_RUN_MEMORY);
	ck_assert_uint_eq(l.compile_memory_bytes, FT_DEFAULT_COMPILE_MEMORY);
	ck_assert_int_eq(l.run_max_processes, FT_DEFAULT_RUN_MAX_PROCESSES);
	ck_assert_uint_eq(l.run_max_file_bytes, FT_DEFAULT_RUN_MAX_FILE);
	ck_assert_uint_eq(l.max_output_bytes, FT_DEFAULT_MAX_OUTPUT);
	ck_assert_int_eq(l.run_max_open_files, FT_DEFAULT_RUN_MAX_OPEN_FILES);

	/* Set values stay; too small ones are raised to what a JVM needs. */
	memset(&l, 0, sizeof(l));
	l.run_wall_ms = 1234;
	l.run_memory_bytes = 1 << 20;
	l.compile_memory_bytes = 1000;
	l.run_max_processes = 3;
	l.run_cpu_ms = -5;
	l.run_max_open_files = 4;
	ft_run_limits_fill(&l);
	ck_assert_int_eq(l.run_wall_ms, 1234);
	ck_assert_uint_eq(l.run_memory_bytes, FT_MIN_MEMORY);
	ck_assert_uint_eq(l.compile_memory_bytes, FT_MIN_MEMORY);
	ck_assert_int_eq(l.run_max_processes, FT_MIN_PROCESSES);
	ck_assert_int_eq(l.run_cpu_ms, FT_DEFAULT_RUN_CPU_MS);
	ck_assert_int_eq(l.run_max_open_files, FT_MIN_OPEN_FILES);
}
END_TEST

START_TEST(test_clamp)
{
	struct ft_run_limits max, want, out;
	/* Padding too, for the comparison below. */
	memset(&max, 0, sizeof(max));
	memset(&out, 0, sizeof(out));
	ft_run_limits_defaults(&max);

	/* No request: the configured values. */
	ft_run_limits_clamp(&max, NULL, &out);
	ck_assert_mem_eq(&out, &max, sizeof(out));

	/* Lower values are taken, higher ones capped, zero means "the max". */
	memset(&want, 0, sizeof(want));
	want.run_wall_ms = 500;
	want.run_cpu_ms = max.run_cpu_ms * 10;
	want.run_memory_bytes = 128 * FT_MiB;
	want.max_output_bytes = 10;
	want.run_max_processes = 1000000;
	ft_run_limits_clamp(&max, &want, &out);
	ck_assert_int_eq(out.run_wall_ms, 500);
	ck_assert_int_eq(out.run_cpu_ms, max.run_cpu_ms);
	ck_assert_uint_eq(out.run_memory_bytes, 128 * FT_MiB);
	ck_assert_uint_eq(out.max_output_bytes, 10);
	ck_assert_int_eq(out.run_max_processes, max.run_max_processes);
	ck_assert_int_eq(out.compile_wall_ms, max.compile_wall_ms);
	ck_assert_uint_eq(out.run_max_file_bytes, max.run_max_file_bytes);
	ck_assert_int_eq(out.run_max_open_files, max.run_max_open_files);

	/* A request cannot starve the JVM. */
	want.run_memory_bytes = 1;
	want.run_max_processes = 1;
	want.run_max_open_files = 1;
	ft_run_limits_clamp(&max, &want, &out);
	ck_assert_uint_eq(out.run_memory_bytes, FT_MIN_MEMORY);
	ck_assert_int_eq(out.run_max_processes, FT_MIN_PROCESSES);
	ck_assert_int_eq(out.run_max_open_files, FT_MIN_OPEN_FILES);
}
END_TEST

START_TEST(test_jvm_plan_cgroup)
{
	struct ft_jvm_mem m;
	ft_jvm_mem_plan(256 * FT_MiB, false, &m);
	ck_assert_uint_eq(m.heap, 128 * FT_MiB);
	ck_assert_uint_eq(m.address_space, 0);
	ck_assert_int_eq(m.ci_compilers, 0);
	ck_assert_uint_eq(m.stack, 512 * 1024);

	/* Above 512 MiB, everything but 256 MiB goes to the heap. */
	ft_jvm_mem_plan(2048 * FT_MiB, false, &m);
	ck_assert_uint_eq(m.heap, 1792 * FT_MiB);
	ck_assert_uint_eq(m.metaspace, 128 * FT_MiB);
	ck_assert_uint_eq(m.class_space, 64 * FT_MiB);

	/* Tiny budgets are raised to the minimum; the heap never below 16 MiB. */
	ft_jvm_mem_plan(1, false, &m);
	ck_assert_uint_eq(m.heap, 32 * FT_MiB);
	ck_assert_uint_ge(m.metaspace, 32 * FT_MiB);

	/* Every budget: heap + the JVM's own share fits. */
	for (uint64_t b = FT_MIN_MEMORY; b <= 8192 * FT_MiB; b += 64 * FT_MiB) {
		ft_jvm_mem_plan(b, false, &m);
		ck_assert_uint_le(m.heap, b - 32 * FT_MiB);
		ck_assert_uint_eq(m.heap % FT_MiB, 0);
	}
}
END_TEST

START_TEST(test_jvm_plan_rlimit)
{
	struct ft_jvm_mem m;
	/* Measured on OpenJDK 17: heap 128 MiB needed RLIMIT_AS >= 512 MiB,
	 * heap 256 MiB >= 672 MiB, heap 32 MiB >= 384 MiB. */
	ft_jvm_mem_plan(256 * FT_MiB, true, &m);
	ck_assert_uint_eq(m.heap, 128 * FT_MiB);
	ck_assert_uint_ge(m.address_space, 512 * FT_MiB);
	ck_assert_int_eq(m.ci_compilers, 1);
	ft_jvm_mem_plan(512 * FT_MiB, true, &m);
	ck_assert_uint_eq(m.heap, 256 * FT_MiB);
	ck_assert_uint_ge(m.address_space, 672 * FT_MiB);
	ft_jvm_mem_plan(64 * FT_MiB, true, &m);
	ck_assert_uint_eq(m.heap, 32 * FT_MiB);
	ck_assert_uint_ge(m.address_space, 384 * FT_MiB);
}
END_TEST

START_TEST(test_jvm_args)
{
	struct ft_jvm_mem m;
	char a[FT_JVM_MEM_ARGS_MAX][FT_JVM_ARG_LEN];
	ft_jvm_mem_plan(256 * FT_MiB, false, &m);
	int n = ft_jvm_mem_args(&m, a);
	ck_assert_int_eq(n, 6);
	ck_assert_str_eq(a[0], "-Xmx128m");
	ck_assert_str_eq(a[1], "-Xss512k");
	ck_assert_str_eq(a[2], "-XX:MaxMetaspaceSize=64m");
	ck_assert_str_eq(a[3], "-XX:CompressedClassSpaceSize=32m");
	ck_assert_str_eq(a[4], "-XX:ReservedCodeCacheSize=16m");
	ck_assert_str_eq(a[5], "-XX:MaxDirectMemorySize=64m");
	ft_jvm_mem_plan(256 * FT_MiB, true, &m);
	n = ft_jvm_mem_args(&m, a);
	ck_assert_int_eq(n, 7);
	ck_assert_str_eq(a[6], "-XX:CICompilerCount=1");
}
END_TEST

START_TEST(test_cpu_rlimit)
{
	ck_assert_uint_eq(ft_cpu_rlimit_seconds(0), 0);
	ck_assert_uint_eq(ft_cpu_rlimit_seconds(1), 2);
	ck_assert_uint_eq(ft_cpu_rlimit_seconds(1000), 2);
	ck_assert_uint_eq(ft_cpu_rlimit_seconds(1001), 3);
	ck_assert_uint_eq(ft_cpu_rlimit_seconds(10000), 11);
}
END_TEST

/* ---- verdicts ---- */

static struct ft_run_facts exited(int status, int tag)
{
	struct ft_run_facts f;
	memset(&f, 0, sizeof(f));
	f.exited = true;
	f.status = status;
	f.chan_tag = tag;
	f.cpu_ms = 100;
	f.cpu_limit_ms = 1000;
	return f;
}

static struct ft_verdict_decision decide(const struct ft_run_facts *f)
{
	struct ft_verdict_decision d;
	ft_verdict_decide(f, &d);
	return d;
}

#define ck_decision(f, v, w)                                  \
	do {                                                  \
		struct ft_verdict_decision d_ = decide(&(f)); \
		ck_assert_int_eq(d_.verdict, (v));            \
		ck_assert_int_eq(d_.why, (w));                \
	} while (0)

START_TEST(test_verdict_answers)
{
	struct ft_run_facts f = exited(0, FT_CHAN_OK);
	ck_decision(f, FT_VERDICT_OK, FT_WHY_ANSWER);
	ck_assert_int_eq(decide(&f).exit_code, 0);

	f = exited(0, FT_CHAN_ERROR);
	ck_decision(f, FT_VERDICT_RUNTIME_ERROR, FT_WHY_EXCEPTION);
	ck_assert(!decide(&f).processes_limited);

	/* An answer is an answer even if a child process was OOM-killed or a
	 * fork was refused on the way. */
	f = exited(0, FT_CHAN_OK);
	f.oom_killed = true;
	f.pids_refused = true;
	ck_decision(f, FT_VERDICT_OK, FT_WHY_ANSWER);
}
END_TEST

START_TEST(test_verdict_limits_win)
{
	/* The wall clock wins over everything, even an answer. */
	struct ft_run_facts f = exited(0, FT_CHAN_OK);
	f.wall_killed = true;
	ck_decision(f, FT_VERDICT_TIME_LIMIT, FT_WHY_WALL);
	ck_assert_int_eq(decide(&f).exit_code, -1);

	f = exited(0, FT_CHAN_NONE);
	f.cpu_killed = true;
	ck_decision(f, FT_VERDICT_TIME_LIMIT, FT_WHY_CPU);

	/* RLIMIT_CPU: SIGXCPU, or SIGKILL at the hard limit (bwrap: 128 + N). */
	f = exited(128 + SIGXCPU, FT_CHAN_NONE);
	ck_decision(f, FT_VERDICT_TIME_LIMIT, FT_WHY_CPU);
	f = exited(128 + SIGKILL, FT_CHAN_NONE);
	f.cpu_ms = 1000;
	ck_decision(f, FT_VERDICT_TIME_LIMIT, FT_WHY_CPU);
	f.cpu_ms = 10; /* killed, but not for CPU */
	ck_decision(f, FT_VERDICT_RUNTIME_ERROR, FT_WHY_SIGNAL);
	ck_assert_int_eq(decide(&f).signal, SIGKILL);

	/* Output over the limit wins over the answer. */
	f = exited(0, FT_CHAN_OK);
	f.out_over = true;
	ck_decision(f, FT_VERDICT_OUTPUT_LIMIT, FT_WHY_STDOUT);
	f.out_over = false;
	f.err_over = true;
	ck_decision(f, FT_VERDICT_OUTPUT_LIMIT, FT_WHY_STDERR);
	f.err_over = false;
	f.chan_over = true;
	ck_decision(f, FT_VERDICT_OUTPUT_LIMIT, FT_WHY_ANSWER_SIZE);
	f = exited(0, FT_CHAN_NONE);
	f.exited = false;
	f.status = SIGKILL;
	f.output_killed = true;
	ck_decision(f, FT_VERDICT_OUTPUT_LIMIT, FT_WHY_STDOUT);
}
END_TEST

START_TEST(test_verdict_memory)
{
	struct ft_run_facts f = exited(128 + SIGKILL, FT_CHAN_NONE);
	f.oom_killed = true;
	ck_decision(f, FT_VERDICT_MEMORY_LIMIT, FT_WHY_OOM_KILL);

	/* The sandbox itself killed by the OOM killer. */
	f = exited(0, FT_CHAN_NONE);
	f.exited = false;
	f.status = SIGKILL;
	f.oom_killed = true;
	ck_decision(f, FT_VERDICT_MEMORY_LIMIT, FT_WHY_OOM_KILL);

	f = exited(0, FT_CHAN_MEMORY);
	ck_decision(f, FT_VERDICT_MEMORY_LIMIT, FT_WHY_HEAP);

	/* HotSpot's own fatal native OOM: exit 1, its banner, no outcome. */
	f = exited(1, FT_CHAN_NONE);
	f.vm_out_of_memory = true;
	ck_decision(f, FT_VERDICT_MEMORY_LIMIT, FT_WHY_NATIVE);
	/* The banner with another status, or after an outcome, is the program's. */
	f = exited(2, FT_CHAN_NONE);
	f.vm_out_of_memory = true;
	ck_decision(f, FT_VERDICT_RUNTIME_ERROR, FT_WHY_EXIT);
	f = exited(1, FT_CHAN_ERROR);
	f.vm_out_of_memory = true;
	ck_decision(f, FT_VERDICT_RUNTIME_ERROR, FT_WHY_EXCEPTION);

	/* No more threads is the process limit, not memory. */
	f = exited(0, FT_CHAN_THREADS);
	ck_decision(f, FT_VERDICT_RUNTIME_ERROR, FT_WHY_THREADS);
	ck_assert(decide(&f).processes_limited);
}
END_TEST

START_TEST(test_verdict_files_and_exits)
{
	struct ft_run_facts f = exited(0, FT_CHAN_FILE);
	ck_decision(f, FT_VERDICT_OUTPUT_LIMIT, FT_WHY_FILE);

	f = exited(128 + SIGXFSZ, FT_CHAN_NONE);
	ck_decision(f, FT_VERDICT_OUTPUT_LIMIT, FT_WHY_FILE);

	f = exited(3, FT_CHAN_NONE);
	ck_decision(f, FT_VERDICT_RUNTIME_ERROR, FT_WHY_EXIT);
	ck_assert_int_eq(decide(&f).exit_code, 3);

	f.pids_refused = true;
	ck_assert(decide(&f).processes_limited);

	f = exited(128 + SIGSEGV, FT_CHAN_NONE);
	ck_decision(f, FT_VERDICT_RUNTIME_ERROR, FT_WHY_SIGNAL);
	ck_assert_int_eq(decide(&f).signal, SIGSEGV);
	ck_assert_int_eq(decide(&f).exit_code, -1);

	/* 128 alone and values past the signal range are plain statuses. */
	f = exited(128, FT_CHAN_NONE);
	ck_decision(f, FT_VERDICT_RUNTIME_ERROR, FT_WHY_EXIT);
	f = exited(250, FT_CHAN_NONE);
	ck_decision(f, FT_VERDICT_RUNTIME_ERROR, FT_WHY_EXIT);
}
END_TEST

START_TEST(test_verdict_sandbox_failure)
{
	struct ft_run_facts f = exited(1, FT_CHAN_NONE);
	f.sandbox_failed = true;
	ck_decision(f, FT_VERDICT_INTERNAL_ERROR, FT_WHY_SANDBOX);
	/* ...but a run killed for time stays a time limit. */
	f.wall_killed = true;
	ck_decision(f, FT_VERDICT_TIME_LIMIT, FT_WHY_WALL);
}
END_TEST

/* A main(String[]) program: its exit status is its outcome. */
START_TEST(test_verdict_main_programs)
{
	struct ft_run_facts f = exited(0, FT_CHAN_NONE);
	f.main_program = true;
	ck_decision(f, FT_VERDICT_OK, FT_WHY_MAIN_DONE);
	ck_assert_int_eq(decide(&f).exit_code, 0);
	ck_assert(decide(&f).main_program);

	f.status = 3;
	ck_decision(f, FT_VERDICT_NONZERO_EXIT, FT_WHY_MAIN_EXIT);
	ck_assert_int_eq(decide(&f).exit_code, 3);

	/* Killed by a signal: a runtime error, as for run() (no "nonzero"). */
	f.status = 128 + SIGSEGV;
	ck_decision(f, FT_VERDICT_RUNTIME_ERROR, FT_WHY_SIGNAL);

	/* An exception out of main, or out of memory in it. */
	f = exited(1, FT_CHAN_ERROR);
	f.main_program = true;
	ck_decision(f, FT_VERDICT_RUNTIME_ERROR, FT_WHY_EXCEPTION);
	ck_assert_int_eq(decide(&f).exit_code, 1);
	f.chan_tag = FT_CHAN_MEMORY;
	ck_decision(f, FT_VERDICT_MEMORY_LIMIT, FT_WHY_HEAP);

	/* Limits still win over a clean exit. */
	f = exited(0, FT_CHAN_NONE);
	f.main_program = true;
	f.out_over = true;
	ck_decision(f, FT_VERDICT_OUTPUT_LIMIT, FT_WHY_STDOUT);
	f.out_over = false;
	f.wall_killed = true;
	ck_decision(f, FT_VERDICT_TIME_LIMIT, FT_WHY_WALL);

	/* A run() program that ends the JVM with status 0 did not answer. */
	f = exited(0, FT_CHAN_NONE);
	ck_decision(f, FT_VERDICT_RUNTIME_ERROR, FT_WHY_EXIT);

	/* No entry point: a contract violation, the launcher's words. */
	f = exited(0, FT_CHAN_NO_ENTRY);
	ck_decision(f, FT_VERDICT_RUNTIME_ERROR, FT_WHY_EXCEPTION);
}
END_TEST

static Suite *limits_suite(void)
{
	Suite *s = suite_create("limits");
	TCase *tc = tcase_create("limits");
	tcase_add_test(tc, test_defaults_and_fill);
	tcase_add_test(tc, test_clamp);
	tcase_add_test(tc, test_jvm_plan_cgroup);
	tcase_add_test(tc, test_jvm_plan_rlimit);
	tcase_add_test(tc, test_jvm_args);
	tcase_add_test(tc, test_cpu_rlimit);
	suite_add_tcase(s, tc);
	tc = tcase_create("verdict");
	tcase_add_test(tc, test_verdict_answers);
	tcase_add_test(tc, test_verdict_limits_win);
	tcase_add_test(tc, test_verdict_memory);
	tcase_add_test(tc, test_verdict_files_and_exits);
	tcase_add_test(tc, test_verdict_sandbox_failure);
	tcase_add_test(tc, test_verdict_main_programs);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(limits_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
