/* Pure parts of the sandbox: cgroup discovery parsers (runner/cgroup.c),
 * bwrap's status text, and the bwrap command line (runner/sandbox.c; only
 * where bwrap is installed and we are root, as the daemon would be). */
#include "runner/cgroup.h"
#include "runner/sandbox.h"

#include <check.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

START_TEST(test_mountinfo)
{
	struct ft_mountinfo mi;
	ck_assert_int_eq(
		ft_cgroup_parse_mountinfo(
			"35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n",
			&mi),
		0);
	ck_assert_str_eq(mi.root, "/");
	ck_assert_str_eq(mi.mountpoint, "/sys/fs/cgroup/memory");
	ck_assert_str_eq(mi.fstype, "cgroup");
	ck_assert_str_eq(mi.superopts, "rw,memory");

	/* Optional fields before "-", escapes, a non-root mount root. */
	ck_assert_int_eq(ft_cgroup_parse_mountinfo(
				 "29 23 0:26 /a\\040b /sys/fs/cgroup rw,nosuid shared:4 master:1 - "
				 "cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot",
				 &mi),
			 0);
	ck_assert_str_eq(mi.root, "/a b");
	ck_assert_str_eq(mi.fstype, "cgroup2");
	ck_assert_str_eq(mi.superopts, "rw,nsdelegate,memory_recursiveprot");

	ck_assert_int_eq(ft_cgroup_parse_mountinfo("", &mi), -1);
	ck_assert_int_eq(ft_cgroup_parse_mountinfo("1 2 3:4 / /x rw", &mi), -1);
}
END_TEST

START_TEST(test_proc_self_cgroup)
{
	int id;
	char ctrls[64], path[256];
	ck_assert_int_eq(ft_cgroup_parse_self("4:memory:/process_api/abc\n", &id, ctrls,
					      sizeof(ctrls), path, sizeof(path)),
			 0);
	ck_assert_int_eq(id, 4);
	ck_assert_str_eq(ctrls, "memory");
	ck_assert_str_eq(path, "/process_api/abc");

	ck_assert_int_eq(ft_cgroup_parse_self("0::/system.slice/ftnode@1.service\n", &id, ctrls,
					      sizeof(ctrls), path, sizeof(path)),
			 0);
	ck_assert_int_eq(id, 0);
	ck_assert_str_eq(ctrls, "");
	ck_assert_str_eq(path, "/system.slice/ftnode@1.service");

	ck_assert_int_eq(ft_cgroup_parse_self("2:cpu,cpuacct:/", &id, ctrls, sizeof(ctrls), path,
					      sizeof(path)),
			 0);
	ck_assert(ft_cgroup_list_has(ctrls, "cpuacct"));
	ck_assert(ft_cgroup_list_has(ctrls, "cpu"));
	ck_assert(!ft_cgroup_list_has(ctrls, "cpuset"));
	ck_assert(!ft_cgroup_list_has("name=systemd", "systemd"));

	ck_assert_int_eq(
		ft_cgroup_parse_self("x:memory:/", &id, ctrls, sizeof(ctrls), path, sizeof(path)),
		-1);
	ck_assert_int_eq(
		ft_cgroup_parse_self("4:memory:", &id, ctrls, sizeof(ctrls), path, sizeof(path)),
		-1);
}
END_TEST

START_TEST(test_cgroup_dir)
{
	char out[256];
	ck_assert_int_eq(ft_cgroup_dir("/sys/fs/cgroup/memory", "/", "/a/b", out, sizeof(out)), 0);
	ck_assert_str_eq(out, "/sys/fs/cgroup/memory/a/b");
	ck_assert_int_eq(ft_cgroup_dir("/sys/fs/cgroup", "/", "/", out, sizeof(out)), 0);
	ck_assert_str_eq(out, "/sys/fs/cgroup");
	/* Container: the hierarchy is mounted from a sub-cgroup. */
	ck_assert_int_eq(
		ft_cgroup_dir("/sys/fs/cgroup", "/docker/x", "/docker/x/sub", out, sizeof(out)), 0);
	ck_assert_str_eq(out, "/sys/fs/cgroup/sub");
	ck_assert_int_eq(
		ft_cgroup_dir("/sys/fs/cgroup", "/docker/x", "/docker/x", out, sizeof(out)), 0);
	ck_assert_str_eq(out, "/sys/fs/cgroup");
	ck_assert_int_eq(
		ft_cgroup_dir("/sys/fs/cgroup", "/docker/x", "/docker/xy", out, sizeof(out)), -1);
	ck_assert_int_eq(ft_cgroup_dir("/sys/fs/cgroup", "/", "/a", out, 5), -1);
}
END_TEST

START_TEST(test_keyed)
{
	const char *oom = "oom_kill_disable 0\nunder_oom 0\noom_kill 3\n";
	ck_assert_int_eq(ft_cgroup_keyed(oom, "oom_kill"), 3);
	ck_assert_int_eq(ft_cgroup_keyed(oom, "under_oom"), 0);
	ck_assert_int_eq(ft_cgroup_keyed(oom, "oom"), -1);
	ck_assert_int_eq(ft_cgroup_keyed("max 12\n", "max"), 12);
	ck_assert_int_eq(ft_cgroup_keyed("usage_usec 123456\nuser_usec 1\n", "usage_usec"), 123456);
	ck_assert_int_eq(ft_cgroup_keyed("", "max"), -1);
}
END_TEST

START_TEST(test_status_child_pid)
{
	ck_assert_int_eq(ft_sandbox_child_pid("{ \"child-pid\": 4242, \"cgroup-namespace\": 1 }"),
			 4242);
	ck_assert_int_eq(ft_sandbox_child_pid("{\"child-pid\":7}\n{ \"exit-code\": 0 }"), 7);
	ck_assert_int_eq(ft_sandbox_child_pid(""), -1);
	ck_assert_int_eq(ft_sandbox_child_pid("{ \"exit-code\": 1 }"), -1);
	ck_assert_int_eq(ft_sandbox_child_pid("{ \"child-pid\": -3 }"), -1);
}
END_TEST

static bool has_seq(char **argv, const char *a, const char *b, const char *c)
{
	for (size_t i = 0; argv[i]; i++)
		if (strcmp(argv[i], a) == 0 && argv[i + 1] && (!b || strcmp(argv[i + 1], b) == 0) &&
		    (!c || (argv[i + 2] && strcmp(argv[i + 2], c) == 0)))
			return true;
	return false;
}

static size_t index_of(char **argv, const char *a)
{
	for (size_t i = 0; argv[i]; i++)
		if (strcmp(argv[i], a) == 0)
			return i;
	return (size_t)-1;
}

START_TEST(test_bwrap_argv)
{
	if (geteuid() != 0 || access("/usr/bin/bwrap", X_OK) != 0)
		return; /* the sandbox needs both; nothing to check here */
	char jar[] = "/tmp/check_sandbox_jar_XXXXXX";
	int fd = mkstemp(jar);
	ck_assert_int_ge(fd, 0);
	close(fd);
	char err[256] = "";
	struct ft_sandbox_conf conf = { .enabled = true, .bwrap = "/usr/bin/bwrap" };
	struct ft_sandbox *sb = ft_sandbox_new(&conf, "/usr/bin/java", jar, err, sizeof(err));
	unlink(jar);
	if (!sb && strstr(err, "java binary"))
		return; /* no JDK on this machine */
	ck_assert_msg(sb != NULL, "%s", err);

	char *cmd[] = { "/usr/bin/java", "-version", NULL };
	char *env[] = { NULL };
	struct ft_spawn sp = { .dirfd = -1,
			       .dir_path = "/x/job-1",
			       .tmp_bytes = 1 << 20,
			       .uid = 300017,
			       .gid = 300017,
			       .argv = cmd,
			       .env = env };
	char **argv = ft_sandbox_bwrap_argv(sb, &sp);
	ck_assert_str_eq(argv[0], "/usr/bin/bwrap");
	static const char *const flags[] = { "--unshare-user",	  "--unshare-ipc",
					     "--unshare-pid",	  "--unshare-net",
					     "--unshare-uts",	  "--unshare-cgroup",
					     "--die-with-parent", "--new-session",
					     "--as-pid-1" };
	for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
		ck_assert_msg(index_of(argv, flags[i]) != (size_t)-1, "no %s", flags[i]);
	/* The spawn's own user, not one shared by every sandbox. */
	ck_assert(has_seq(argv, "--uid", "300017", NULL));
	ck_assert(has_seq(argv, "--gid", "300017", NULL));
	ck_assert(has_seq(argv, "--ro-bind", "/usr", "/usr"));
	ck_assert(has_seq(argv, "--proc", "/proc", NULL));
	/* A /dev of its own without devpts: no pty of the host's pool. */
	ck_assert_uint_eq(index_of(argv, "--dev"), (size_t)-1);
	ck_assert(has_seq(argv, "--tmpfs", "/dev", NULL));
	ck_assert(has_seq(argv, "--dev-bind-try", "/dev/null", "/dev/null"));
	ck_assert(has_seq(argv, "--dev-bind-try", "/dev/urandom", "/dev/urandom"));
	ck_assert(has_seq(argv, "--symlink", "/proc/self/fd", "/dev/fd"));
	for (size_t i = 0; argv[i]; i++)
		ck_assert_msg(!strstr(argv[i], "pts") && !strstr(argv[i], "ptmx"), "%s", argv[i]);
	/* /tmp: the child's own tmpfs (size and inodes), bound from the stage. */
	for (size_t i = 0; argv[i]; i++)
		if (strcmp(argv[i], "--tmpfs") == 0)
			ck_assert_msg(argv[i + 1] && strcmp(argv[i + 1], "/tmp") != 0,
				      "bwrap's own /tmp, without an inode cap");
	ck_assert(has_seq(argv, "--bind", NULL, FT_SANDBOX_TMP));
	ck_assert(has_seq(argv, "--ro-bind", NULL, FT_SANDBOX_JAR));
	ck_assert(has_seq(argv, "--ro-bind", NULL, FT_SANDBOX_JOB_DIR));
	ck_assert(has_seq(argv, "--seccomp", "4", NULL));
	ck_assert(has_seq(argv, "--remount-ro", "/", NULL));
	/* No host path of the node is bound but /usr, /etc/... and the stage. */
	for (size_t i = 0; argv[i]; i++) {
		if (strcmp(argv[i], "--bind") != 0 && strcmp(argv[i], "--ro-bind") != 0)
			continue;
		const char *src = argv[i + 1];
		ck_assert_msg(strncmp(src, "/usr", 4) == 0 || strncmp(src, "/etc/", 5) == 0 ||
				      strstr(src, "/job") || strstr(src, "ftcluster.jar") ||
				      (strncmp(src, "/lib", 4) == 0) ||
				      strcmp(argv[i + 2], FT_SANDBOX_TMP) == 0,
			      "unexpected bind source %s", src);
	}
	/* A configuration directory below /usr (a /usr/local install) is
	 * covered by an empty read-only tmpfs, after /usr is bound. */
	struct stat st;
	if (strncmp(FT_SYSCONFDIR, "/usr/", 5) == 0 && stat(FT_SYSCONFDIR, &st) == 0) {
		ck_assert(has_seq(argv, "--tmpfs", FT_SYSCONFDIR, "--remount-ro"));
		ck_assert(has_seq(argv, "--remount-ro", FT_SYSCONFDIR, NULL));
		size_t usr = (size_t)-1, hide = (size_t)-1;
		for (size_t i = 0; argv[i] && argv[i + 1]; i++) {
			if (strcmp(argv[i], "--ro-bind") == 0 && strcmp(argv[i + 1], "/usr") == 0)
				usr = i;
			if (strcmp(argv[i], "--tmpfs") == 0 &&
			    strcmp(argv[i + 1], FT_SYSCONFDIR) == 0)
				hide = i;
		}
		ck_assert_uint_lt(usr, hide);
		ck_assert_uint_ne(hide, (size_t)-1);
	} else {
		ck_assert(!has_seq(argv, "--tmpfs", FT_SYSCONFDIR, NULL));
	}
	/* Root read-only after everything else; the command after "--". */
	size_t ro = index_of(argv, "--remount-ro"), dd = index_of(argv, "--");
	ck_assert_uint_lt(index_of(argv, "--tmpfs"), ro);
	ck_assert_uint_lt(ro, dd);
	ck_assert_str_eq(argv[dd + 1], "/usr/bin/java");
	ck_assert_str_eq(argv[dd + 2], "-version");
	ck_assert_ptr_null(argv[dd + 3]);
	/* Nothing writable but /tmp. */
	for (size_t i = 0; argv[i]; i++)
		if (strcmp(argv[i], "--bind") == 0)
			ck_assert_str_eq(argv[i + 2], FT_SANDBOX_TMP);
	ft_sandbox_free_argv(argv);
	ft_sandbox_free(sb);
}
END_TEST

static Suite *sandbox_suite(void)
{
	Suite *s = suite_create("sandbox");
	TCase *tc = tcase_create("cgroup");
	tcase_add_test(tc, test_mountinfo);
	tcase_add_test(tc, test_proc_self_cgroup);
	tcase_add_test(tc, test_cgroup_dir);
	tcase_add_test(tc, test_keyed);
	suite_add_tcase(s, tc);
	tc = tcase_create("bwrap");
	tcase_add_test(tc, test_status_child_pid);
	tcase_add_test(tc, test_bwrap_argv);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(sandbox_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
