/* Unit tests of the HTTP server's watch on slow clients (lib/connwatch.c),
 * on a fake clock. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/connwatch.h"

#define T0 1000000
#define DEADLINE 31000

static struct ft_watched *conn(struct ft_connwatch *w, const char *peer, int fd, int64_t now)
{
	struct ft_watched *c = calloc(1, sizeof(*c));
	ck_assert_ptr_nonnull(c);
	snprintf(c->peer, sizeof(c->peer), "%s", peer);
	c->fd = fd;
	ft_connwatch_add(w, c, now);
	return c;
}

struct seen {
	int fds[16];
	size_t n;
};

static void note(void *ud, struct ft_watched *c)
{
	struct seen *s = ud;
	ck_assert_uint_lt(s->n, 16);
	s->fds[s->n++] = c->fd;
}

START_TEST(a_connection_without_a_whole_request_is_due_at_the_deadline)
{
	struct ft_connwatch w = { 0 };
	struct ft_watched *c = conn(&w, "10.0.0.1", 7, T0);
	struct seen s = { 0 };
	ck_assert_int_eq(ft_connwatch_next_due(&w, DEADLINE), T0 + DEADLINE);
	ck_assert_uint_eq(ft_connwatch_sweep(&w, T0 + DEADLINE - 1, DEADLINE, note, &s), 0);
	ck_assert_uint_eq(ft_connwatch_sweep(&w, T0 + DEADLINE, DEADLINE, note, &s), 1);
	ck_assert_uint_eq(s.n, 1);
	ck_assert_int_eq(s.fds[0], 7);
	ck_assert(c->due);
	/* Once: it is being dropped, a later sweep leaves it alone. */
	ck_assert_uint_eq(ft_connwatch_sweep(&w, T0 + 5 * DEADLINE, DEADLINE, note, &s), 0);
	ck_assert_int_eq(ft_connwatch_next_due(&w, DEADLINE), -1);
	ft_connwatch_remove(&w, c);
	ck_assert_uint_eq(w.n, 0);
	ck_assert_ptr_null(w.head);
	free(c);
}
END_TEST

START_TEST(a_request_being_answered_is_never_due_and_the_next_one_gets_its_own_time)
{
	struct ft_connwatch w = { 0 };
	struct ft_watched *c = conn(&w, "10.0.0.1", 3, T0);
	struct seen s = { 0 };
	/* Its request arrived within the deadline; the run takes long. */
	ft_connwatch_arrived(c);
	ck_assert_int_eq(ft_connwatch_next_due(&w, DEADLINE), -1);
	ck_assert_uint_eq(ft_connwatch_sweep(&w, T0 + 10 * DEADLINE, DEADLINE, note, &s), 0);
	/* Answered: the next request (keep-alive) has a deadline from now. */
	ft_connwatch_done(c, T0 + 10 * DEADLINE);
	ck_assert_int_eq(ft_connwatch_next_due(&w, DEADLINE), T0 + 11 * DEADLINE);
	ck_assert_uint_eq(ft_connwatch_sweep(&w, T0 + 11 * DEADLINE - 1, DEADLINE, note, &s), 0);
	ck_assert_uint_eq(ft_connwatch_sweep(&w, T0 + 11 * DEADLINE, DEADLINE, note, &s), 1);
	ft_connwatch_remove(&w, c);
	free(c);
}
END_TEST

START_TEST(connections_are_counted_per_address_and_removed_anywhere)
{
	struct ft_connwatch w = { 0 };
	struct ft_watched *c[5];
	const char *peers[] = { "10.0.0.1", "10.0.0.2", "10.0.0.1", "::1", "10.0.0.1" };
	for (int i = 0; i < 5; i++)
		c[i] = conn(&w, peers[i], i, T0 + i);
	ck_assert_uint_eq(w.n, 5);
	ck_assert_uint_eq(ft_connwatch_count_peer(&w, "10.0.0.1"), 3);
	ck_assert_uint_eq(ft_connwatch_count_peer(&w, "10.0.0.2"), 1);
	ck_assert_uint_eq(ft_connwatch_count_peer(&w, "10.0.0.3"), 0);
	/* "10.0.0.1" is not a prefix match of "10.0.0.10". */
	ck_assert_uint_eq(ft_connwatch_count_peer(&w, "10.0.0.10"), 0);
	/* The middle, the newest (head), the oldest (tail). */
	ft_connwatch_remove(&w, c[2]);
	ft_connwatch_remove(&w, c[4]);
	ft_connwatch_remove(&w, c[0]);
	ck_assert_uint_eq(w.n, 2);
	ck_assert_uint_eq(ft_connwatch_count_peer(&w, "10.0.0.1"), 0);
	/* The earliest waiting decides the next due time. */
	ck_assert_int_eq(ft_connwatch_next_due(&w, DEADLINE), T0 + 1 + DEADLINE);
	struct seen s = { 0 };
	ck_assert_uint_eq(ft_connwatch_sweep(&w, T0 + 3 + DEADLINE, DEADLINE, note, &s), 2);
	ck_assert_uint_eq(s.n, 2);
	ft_connwatch_remove(&w, c[1]);
	ft_connwatch_remove(&w, c[3]);
	ck_assert_uint_eq(w.n, 0);
	for (int i = 0; i < 5; i++)
		free(c[i]);
}
END_TEST

static void remove_it(void *ud, struct ft_watched *c)
{
	ft_connwatch_remove(ud, c);
	free(c);
}

START_TEST(a_sweep_may_remove_what_it_finds)
{
	struct ft_connwatch w = { 0 };
	for (int i = 0; i < 4; i++)
		conn(&w, "10.0.0.9", i, T0);
	struct ft_watched *busy = conn(&w, "10.0.0.9", 9, T0);
	ft_connwatch_arrived(busy);
	ck_assert_uint_eq(ft_connwatch_sweep(&w, T0 + DEADLINE, DEADLINE, remove_it, &w), 4);
	ck_assert_uint_eq(w.n, 1);
	ck_assert_ptr_eq(w.head, busy);
	ft_connwatch_remove(&w, busy);
	free(busy);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("connwatch");
	TCase *tc = tcase_create("watch");
	tcase_add_test(tc, a_connection_without_a_whole_request_is_due_at_the_deadline);
	tcase_add_test(tc,
		       a_request_being_answered_is_never_due_and_the_next_one_gets_its_own_time);
	tcase_add_test(tc, connections_are_counted_per_address_and_removed_anywhere);
	tcase_add_test(tc, a_sweep_may_remove_what_it_finds);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
