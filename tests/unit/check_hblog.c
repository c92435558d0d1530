/* Unit tests for the heartbeat log (gossip/hblog.c) through lib/log.c's
 * file sinks: the contract's exact lines, which file each goes to, the
 * rejected-datagram budget and rotation. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gossip/hblog.h"
#include "lib/log.h"

static char dir[64];

static char *slurp(const char *name)
{
	char path[128];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "r");
	if (!f)
		return strdup("(missing)");
	static char buf[16384];
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return strdup(buf);
}

static void assert_file(const char *name, const char *want)
{
	char *got = slurp(name);
	ck_assert_str_eq(got, want);
	free(got);
}

static void open_logs(size_t max_bytes)
{
	/* Plain files and stderr, never the journal of whoever runs the test. */
	unsetenv("JOURNAL_STREAM");
	snprintf(dir, sizeof(dir), "/tmp/check_hblog.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	ck_assert_int_eq(ft_log_open("ftnode", 3, dir, max_bytes), 0);
}

static void close_logs(void)
{
	ft_log_close();
	const char *names[] = { "summary.log", "summary.log.1", "verbose.log", "verbose.log.1" };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char path[128];
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		unlink(path);
	}
	rmdir(dir);
}

START_TEST(test_contract_wording)
{
	open_logs(0);
	ck_assert_int_eq(ft_log_self_id(), 3);
	ft_hb_joined(2, 77, 1);
	ft_hb_updated(2, 9, 1, 1700000000123);
	ft_hb_failed(4, 5);
	ft_hb_heard_failed(5, 6, 2);
	ft_hb_rejoined(4, 8, 2);
	ft_hb_self_rejoin(99);
	ft_hb_cleanup(5);
	ft_hb_switch("follower", "leader");
	assert_file("summary.log",
		    "3: server 2 joined with incarnation 77 based on message from 1\n"
		    "3: updated 2's heartbeat sequence to 9 based on message from 1 at node time "
		    "1700000000123\n"
		    "3: no heartbeat from server 4 - SERVER FAILED\n"
		    "3: heard from server 2 that server 5 failed\n"
		    "3: no heartbeat from server 5 - SERVER FAILED\n"
		    "3: server 4 rejoined with new incarnation 8 based on message from 2\n"
		    "3: was declared failed by the cluster; rejoining with new incarnation 99\n"
		    "3: removed failed server 5 from the membership table\n"
		    "3: switching from follower to leader\n");
	assert_file("verbose.log", "");
	ck_assert_str_eq(ft_log_summary_path() + strlen(dir), "/summary.log");
	close_logs();
}
END_TEST

START_TEST(test_received_goes_to_verbose)
{
	open_logs(0);
	ft_hb_received(2, "{2: inc 7 hb 9}", 42);
	assert_file("verbose.log", "3: received gossip from 2 at node time 42: {2: inc 7 hb 9}\n");
	assert_file("summary.log", "");
	close_logs();
}
END_TEST

START_TEST(test_rejected_budget)
{
	open_logs(0);
	ft_log_set_rejected_rate(2);
	ck_assert_int_eq(ft_log_rejected_rate(), 2);
	for (int i = 0; i < 5; i++)
		ft_hb_rejected("127.0.0.1:9", "bad magic", 10 + i);
	/* Within the second: no summing up yet. */
	ft_hb_rejected_flush();
	assert_file("verbose.log",
		    "3: rejected gossip datagram from 127.0.0.1:9 at node time 10: bad magic\n"
		    "3: rejected gossip datagram from 127.0.0.1:9 at node time 11: bad magic\n");
	usleep(1100 * 1000);
	ft_hb_rejected_flush();
	ft_hb_rejected_flush(); /* once only */
	assert_file("verbose.log",
		    "3: rejected gossip datagram from 127.0.0.1:9 at node time 10: bad magic\n"
		    "3: rejected gossip datagram from 127.0.0.1:9 at node time 11: bad magic\n"
		    "3: 3 more rejected gossip datagram(s) not logged one by one "
		    "(logging.rejected_per_second is 2)\n");
	ft_log_set_rejected_rate(-4);
	ck_assert_int_eq(ft_log_rejected_rate(), 0);
	ft_log_set_rejected_rate(10);
	close_logs();
}
END_TEST

/* Ignored entries share the rejections' budget: a flood of either is one. */
START_TEST(test_ignored_entries_share_the_budget)
{
	open_logs(0);
	ft_log_set_rejected_rate(2);
	ft_hb_ignored_entries("127.0.0.1:9", 2, "incarnation too far ahead", 20);
	ft_hb_rejected("127.0.0.1:9", "bad mac", 21);
	ft_hb_ignored_entries("127.0.0.1:9", 1, "incarnation too far ahead", 22);
	assert_file("verbose.log", "3: ignored 2 entries of a gossip datagram from 127.0.0.1:9 at "
				   "node time 20: incarnation too far ahead\n"
				   "3: rejected gossip datagram from 127.0.0.1:9 at node time 21: "
				   "bad mac\n");
	ft_log_set_rejected_rate(10);
	close_logs();
}
END_TEST

START_TEST(test_rotation)
{
	open_logs(100);
	ft_hb_cleanup(1); /* 53 bytes with its newline */
	ft_hb_cleanup(2); /* would make 106: rotates first */
	assert_file("summary.log.1", "3: removed failed server 1 from the membership table\n");
	assert_file("summary.log", "3: removed failed server 2 from the membership table\n");
	close_logs();
}
END_TEST

static Suite *hblog_suite(void)
{
	Suite *s = suite_create("hblog");
	TCase *tc = tcase_create("files");
	tcase_set_timeout(tc, 10);
	tcase_add_test(tc, test_contract_wording);
	tcase_add_test(tc, test_received_goes_to_verbose);
	tcase_add_test(tc, test_rejected_budget);
	tcase_add_test(tc, test_ignored_entries_share_the_budget);
	tcase_add_test(tc, test_rotation);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(hblog_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
