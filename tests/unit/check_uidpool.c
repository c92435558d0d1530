/* Unit tests for the sandbox uid pool: real lock files, and a second pool
 * standing in for another node of the same host. */
#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runner/uidpool.h"

static char dir[64];

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/ft-uidpool-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

static struct ft_uidpool *pool(unsigned first, unsigned count)
{
	char err[256];
	struct ft_uidpool *p = ft_uidpool_new(dir, first, count, err, sizeof(err));
	ck_assert_msg(p != NULL, "%s", err);
	return p;
}

START_TEST(claims_are_distinct_until_exhausted)
{
	struct ft_uidpool *p = pool(5000, 4);
	uid_t got[4];
	for (int i = 0; i < 4; i++) {
		ck_assert_int_eq(ft_uidpool_claim(p, &got[i]), 0);
		ck_assert_uint_ge(got[i], 5000);
		ck_assert_uint_lt(got[i], 5004);
		for (int k = 0; k < i; k++)
			ck_assert_uint_ne(got[i], got[k]);
	}
	ck_assert_uint_eq(ft_uidpool_held(p), 4);
	uid_t none;
	errno = 0;
	ck_assert_int_eq(ft_uidpool_claim(p, &none), -1);
	ck_assert_int_eq(errno, EAGAIN);
	ft_uidpool_release(p, got[2]);
	ck_assert_uint_eq(ft_uidpool_held(p), 3);
	ck_assert_int_eq(ft_uidpool_claim(p, &none), 0);
	ck_assert_uint_eq(none, got[2]);
	ft_uidpool_free(p);
}
END_TEST

START_TEST(a_released_uid_is_reused_last)
{
	struct ft_uidpool *p = pool(100, 3);
	uid_t a, b, c;
	ck_assert_int_eq(ft_uidpool_claim(p, &a), 0);
	ft_uidpool_release(p, a);
	ck_assert_int_eq(ft_uidpool_claim(p, &b), 0);
	ck_assert_uint_ne(b, a);
	ft_uidpool_release(p, b);
	ck_assert_int_eq(ft_uidpool_claim(p, &c), 0);
	ck_assert_uint_ne(c, a);
	ck_assert_uint_ne(c, b);
	ft_uidpool_free(p);
}
END_TEST

/* Another node of the host: a process of its own with its own pool on the
 * same directory.  What it holds is never handed out here. */
START_TEST(another_process_holds_uids_until_it_dies)
{
	int ready[2];
	ck_assert_int_eq(pipe(ready), 0);
	pid_t child = fork();
	ck_assert_int_ge(child, 0);
	if (child == 0) {
		char err[256];
		struct ft_uidpool *q = ft_uidpool_new(dir, 7000, 3, err, sizeof(err));
		uid_t u1, u2;
		if (!q || ft_uidpool_claim(q, &u1) < 0 || ft_uidpool_claim(q, &u2) < 0)
			_exit(1);
		char c = 'r';
		if (write(ready[1], &c, 1) != 1)
			_exit(1);
		for (;;)
			pause(); /* SIGKILLed holding them: the kernel drops the locks */
	}
	char c;
	ck_assert_int_eq(read(ready[0], &c, 1), 1);
	struct ft_uidpool *p = pool(7000, 3);
	uid_t mine, none;
	ck_assert_int_eq(ft_uidpool_claim(p, &mine), 0);
	ck_assert_int_eq(ft_uidpool_claim(p, &none), -1);
	ck_assert_int_eq(errno, EAGAIN);
	ck_assert_int_eq(kill(child, SIGKILL), 0);
	int status;
	ck_assert_int_eq(waitpid(child, &status, 0), child);
	ck_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	uid_t x, y;
	ck_assert_int_eq(ft_uidpool_claim(p, &x), 0);
	ck_assert_int_eq(ft_uidpool_claim(p, &y), 0);
	ck_assert_uint_ne(x, mine);
	ck_assert_uint_ne(y, mine);
	ck_assert_uint_ne(x, y);
	ft_uidpool_free(p);
	close(ready[0]);
	close(ready[1]);
}
END_TEST

START_TEST(bad_ranges_and_directories_are_refused)
{
	char err[256] = "";
	ck_assert_ptr_null(ft_uidpool_new(dir, 1000, 0, err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "empty"));
	ck_assert_ptr_null(ft_uidpool_new("/proc/ft-no-such/locks", 1000, 4, err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "/proc/ft-no-such/locks"));
	/* Releasing what was never claimed changes nothing. */
	struct ft_uidpool *p = pool(1000, 2);
	ft_uidpool_release(p, 1001);
	ft_uidpool_release(p, 99);
	ck_assert_uint_eq(ft_uidpool_held(p), 0);
	ft_uidpool_free(p);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("uidpool");
	TCase *tc = tcase_create("claims");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, claims_are_distinct_until_exhausted);
	tcase_add_test(tc, a_released_uid_is_reused_last);
	tcase_add_test(tc, another_process_holds_uids_until_it_dies);
	tcase_add_test(tc, bad_ranges_and_directories_are_refused);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
