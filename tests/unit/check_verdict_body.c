/* The bodies of the runner's verdicts (runner/verdict.c): the contract's
 * texts for every reason a run ended, the compile phase's, and which
 * standard error means the JVM never started. */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"
#include "runner/limits.h"
#include "runner/verdict.h"

static struct ft_run_limits lim;

static void setup(void)
{
	ft_run_limits_defaults(&lim);
	lim.run_wall_ms = 1500;
	lim.run_cpu_ms = 700;
	lim.run_memory_bytes = 96 * FT_MiB;
	lim.run_max_processes = 33;
	lim.run_max_file_bytes = 1000;
	lim.max_output_bytes = 4096;
}

static struct ft_verdict_decision decision(enum ft_why why)
{
	return (struct ft_verdict_decision){ .verdict = FT_VERDICT_RUNTIME_ERROR, .why = why };
}

/* The body for d with channel text chan (copied) and stderr err. */
static char *body_of(const struct ft_verdict_decision *d, const char *chan, const char *err,
		     size_t *len)
{
	return ft_verdict_body(d, &lim, ft_xstrdup(chan), strlen(chan), err, len);
}

static void assert_body(enum ft_why why, bool limited, const char *chan, const char *want)
{
	struct ft_verdict_decision d = decision(why);
	d.processes_limited = limited;
	d.exit_code = 3;
	d.signal = SIGKILL;
	size_t len;
	char *b = body_of(&d, chan, "stderr text", &len);
	ck_assert_str_eq(b, want);
	ck_assert_uint_eq(len, strlen(want));
	free(b);
}

START_TEST(answer_is_taken_over_whole)
{
	struct ft_verdict_decision d = decision(FT_WHY_ANSWER);
	char *chan = ft_xmemdup("a\0b", 3);
	size_t len;
	char *b = ft_verdict_body(&d, &lim, chan, 3, NULL, &len);
	ck_assert_ptr_eq(b, chan);
	ck_assert_uint_eq(len, 3);
	ck_assert_mem_eq(b, "a\0b", 3);
	free(b);
	/* The process limit, if it was hit, does not change an answer. */
	d.processes_limited = true;
	chan = ft_xstrdup("fine");
	b = ft_verdict_body(&d, &lim, chan, 4, NULL, &len);
	ck_assert_ptr_eq(b, chan);
	free(b);
}
END_TEST

START_TEST(exceptions)
{
	static const char exc[] = "Exception thrown by run():\njava.lang.X: y";
	struct ft_verdict_decision d = decision(FT_WHY_EXCEPTION);
	char *chan = ft_xstrdup(exc);
	size_t len;
	char *b = ft_verdict_body(&d, &lim, chan, strlen(exc), NULL, &len);
	ck_assert_ptr_eq(b, chan);
	free(b);
	assert_body(FT_WHY_EXCEPTION, true, exc,
		    "Process limit exceeded:\nThe program tried to run more than 33 processes and "
		    "threads\nException thrown by run():\njava.lang.X: y");
	assert_body(FT_WHY_THREADS, false, "java.lang.OutOfMemoryError: unable to create",
		    "java.lang.OutOfMemoryError: unable to create");
	assert_body(FT_WHY_THREADS, true, "OOME",
		    "Process limit exceeded:\nThe program tried to run more than 33 processes and "
		    "threads\nOOME");
}
END_TEST

START_TEST(time_limits)
{
	assert_body(FT_WHY_WALL, false, "S",
		    "Time limit exceeded:\nThe program ran for more than 1500 ms");
	assert_body(FT_WHY_CPU, true, "",
		    "Time limit exceeded:\nThe program used more than 700 ms of CPU time");
}
END_TEST

START_TEST(output_limits)
{
	assert_body(FT_WHY_STDOUT, false, "",
		    "Output limit exceeded:\nThe program wrote more than 4096 bytes to standard "
		    "output");
	assert_body(FT_WHY_STDERR, false, "",
		    "Output limit exceeded:\nThe program wrote more than 4096 bytes to standard "
		    "error");
	assert_body(FT_WHY_ANSWER_SIZE, false, "huge",
		    "Output limit exceeded:\nThe program wrote more than 4096 bytes as the answer "
		    "of run()");
	assert_body(FT_WHY_FILE, false, "java.io.IOException: File too large",
		    "Output limit exceeded:\nThe program tried to write a file larger than 1000 "
		    "bytes, or more than 2000 bytes in all to /tmp");
}
END_TEST

START_TEST(memory_limits)
{
	assert_body(FT_WHY_OOM_KILL, false, "",
		    "Memory limit exceeded:\nThe program used more than 96 MiB of memory and was "
		    "killed");
	assert_body(FT_WHY_HEAP, false, "java.lang.OutOfMemoryError: Java heap space",
		    "Memory limit exceeded:\nThe program ran out of memory (limit 96 MiB)\n"
		    "java.lang.OutOfMemoryError: Java heap space");
	assert_body(FT_WHY_NATIVE, false, "",
		    "Memory limit exceeded:\nThe Java VM ran out of native memory (limit 96 MiB)");
}
END_TEST

START_TEST(exits_and_signals)
{
	assert_body(FT_WHY_EXIT, false, "", "Program exited with status 3 before run() returned");
	assert_body(FT_WHY_EXIT, true, "",
		    "Process limit exceeded:\nThe program tried to run more than 33 processes and "
		    "threads\nProgram exited with status 3 before run() returned");
	char want[128];
	snprintf(want, sizeof(want), "Program was killed by signal 9 (%s) before run() returned",
		 strsignal(SIGKILL));
	assert_body(FT_WHY_SIGNAL, false, "", want);
}
END_TEST

/* A main program's: its exit status, said once, and no run() in sight. */
START_TEST(main_program_bodies)
{
	assert_body(FT_WHY_MAIN_EXIT, false, "", "Program exited with status 3");
	struct ft_verdict_decision d = decision(FT_WHY_SIGNAL);
	d.signal = SIGSEGV;
	d.main_program = true;
	size_t len;
	char *b = body_of(&d, "", "", &len);
	char want[128];
	snprintf(want, sizeof(want), "Program was killed by signal 11 (%s)", strsignal(SIGSEGV));
	ck_assert_str_eq(b, want);
	free(b);
	/* The answer of a main program that ended well is its stdout, which the
	 * caller puts: the body itself is empty. */
	d = decision(FT_WHY_MAIN_DONE);
	d.verdict = FT_VERDICT_OK;
	b = body_of(&d, "", "", &len);
	ck_assert_uint_eq(len, 0);
	free(b);
}
END_TEST

START_TEST(sandbox_quotes_stderr)
{
	struct ft_verdict_decision d = decision(FT_WHY_SANDBOX);
	ck_assert(ft_verdict_body_quotes_stderr(&d));
	d.why = FT_WHY_NONE;
	ck_assert(ft_verdict_body_quotes_stderr(&d));
	for (int why = FT_WHY_ANSWER; why <= FT_WHY_SIGNAL; why++) {
		d.why = (enum ft_why)why;
		ck_assert(!ft_verdict_body_quotes_stderr(&d));
	}
	assert_body(FT_WHY_SANDBOX, false, "",
		    "Internal error: the Java VM did not start\nstderr text");
	assert_body(FT_WHY_NONE, false, "",
		    "Internal error: the Java VM did not start\nstderr text");
	d.why = FT_WHY_SANDBOX;
	size_t len;
	char *b = body_of(&d, "", NULL, &len);
	ck_assert_str_eq(b, "Internal error: the Java VM did not start\n");
	free(b);
}
END_TEST

/* Decide and compose together, as the runner does. */
START_TEST(decided_bodies)
{
	struct ft_run_facts f = { .exited = true,
				  .status = 128 + SIGKILL,
				  .cpu_ms = 800,
				  .cpu_limit_ms = 700,
				  .chan_tag = FT_CHAN_STARTED };
	struct ft_verdict_decision d;
	ft_verdict_decide(&f, &d);
	size_t len;
	char *b = body_of(&d, "", NULL, &len);
	ck_assert_int_eq(d.verdict, FT_VERDICT_TIME_LIMIT);
	ck_assert_str_eq(b, "Time limit exceeded:\nThe program used more than 700 ms of CPU time");
	free(b);
}
END_TEST

START_TEST(compile_bodies)
{
	char *b = ft_verdict_compile_time_body(30000);
	ck_assert_str_eq(b, "Time limit exceeded:\nCompilation took more than 30000 ms");
	free(b);
	b = ft_verdict_compile_memory_body(512 * FT_MiB + 5);
	ck_assert_str_eq(b, "Memory limit exceeded:\nThe compiler needed more than 512 MiB for "
			    "this source");
	free(b);
	b = ft_verdict_internal_body("could not start the program", "cannot start a child: EIO");
	ck_assert_str_eq(b, "Internal error: could not start the program\ncannot start a child: "
			    "EIO");
	free(b);
	ck_assert(ft_verdict_is_compile_error("Code did not compile:\nError on line 1"));
	ck_assert(ft_verdict_is_compile_error("Code did not compile:"));
	ck_assert(!ft_verdict_is_compile_error("Code did not compile"));
	ck_assert(!ft_verdict_is_compile_error(" Code did not compile:"));
	ck_assert(!ft_verdict_is_compile_error(""));
}
END_TEST

START_TEST(jvm_start_failures)
{
	static const char *const node[] = {
		"Error: Could not create the Java Virtual Machine.\n",
		"Error occurred during initialization of VM\nToo small maximum heap",
		"Error: Could not find or load main class ft.Launcher\n",
		"Error: Invalid or corrupt jarfile /ft/ftcluster.jar",
		"Unrecognized option: -Xfoo",
		"Unrecognized VM option 'Foo'",
		"[0.01s][warning][os,thread] Failed to start thread \"GC Thread#0\"",
		"x pthread_create failed (EAGAIN) y",
		"Cannot create worker GC thread. Out of system resources.",
		"There is insufficient memory for the Java Runtime Environment to continue.",
	};
	for (size_t i = 0; i < FT_ARRAY_SIZE(node); i++)
		ck_assert_msg(ft_verdict_jvm_failed_to_start(node[i]), "%s", node[i]);
	static const char *const program[] = {
		"",
		"Exception in thread \"main\" java.lang.Error",
		"javac crashed: Error: Could not create the Java Virtual Machine",
		"An exception has occurred in the compiler",
	};
	for (size_t i = 0; i < FT_ARRAY_SIZE(program); i++)
		ck_assert_msg(!ft_verdict_jvm_failed_to_start(program[i]), "%s", program[i]);
}
END_TEST

static Suite *verdict_body_suite(void)
{
	Suite *s = suite_create("verdict_body");
	TCase *tc = tcase_create("run");
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, answer_is_taken_over_whole);
	tcase_add_test(tc, exceptions);
	tcase_add_test(tc, time_limits);
	tcase_add_test(tc, output_limits);
	tcase_add_test(tc, memory_limits);
	tcase_add_test(tc, exits_and_signals);
	tcase_add_test(tc, main_program_bodies);
	tcase_add_test(tc, sandbox_quotes_stderr);
	tcase_add_test(tc, decided_bodies);
	suite_add_tcase(s, tc);

	tc = tcase_create("compile");
	tcase_add_test(tc, compile_bodies);
	tcase_add_test(tc, jvm_start_failures);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(verdict_body_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
