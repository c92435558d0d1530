/* The sandbox's seccomp filter (runner/seccomp.c): the rule list, and the
 * exported BPF program loaded into a forked child, which then tries what
 * the filter must refuse and what the JVM needs. */
#include "runner/seccomp.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <seccomp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

START_TEST(test_rule_list)
{
	ck_assert_uint_gt(ft_seccomp_n_denied, 40);
	for (size_t i = 0; i < ft_seccomp_n_denied; i++) {
		const char *n = ft_seccomp_denied[i].name;
		ck_assert_msg(ft_seccomp_denied[i].err > 0, "%s has no errno", n);
		for (size_t k = i + 1; k < ft_seccomp_n_denied; k++)
			ck_assert_msg(strcmp(n, ft_seccomp_denied[k].name) != 0, "%s listed twice",
				      n);
	}
	/* What the issue names explicitly is in the list. */
	static const char *const must[] = {
		"mount",
		"umount2",
		"ptrace",
		"kexec_load",
		"init_module",
		"finit_module",
		"delete_module",
		"reboot",
		"keyctl",
		"add_key",
		"request_key",
		"bpf",
		"perf_event_open",
		"swapon",
		"swapoff",
		"pivot_root",
		"setns",
		"unshare",
		"userfaultfd",
		"open_by_handle_at",
		"iopl",
		"ioperm",
		"fallocate",
	};
	for (size_t m = 0; m < sizeof(must) / sizeof(must[0]); m++) {
		bool found = false;
		for (size_t i = 0; i < ft_seccomp_n_denied; i++)
			found = found || strcmp(ft_seccomp_denied[i].name, must[m]) == 0;
		ck_assert_msg(found, "%s is not denied", must[m]);
		/* ...and known to libseccomp on this architecture. */
		ck_assert_msg(seccomp_syscall_resolve_name(must[m]) != __NR_SCMP_ERROR,
			      "%s unknown to libseccomp", must[m]);
	}
}
END_TEST

START_TEST(test_build)
{
	void *prog = NULL;
	size_t len = 0, skipped = 99;
	char err[256] = "";
	ck_assert_msg(ft_seccomp_build(&prog, &len, &skipped, err, sizeof(err)) == 0, "%s", err);
	ck_assert_ptr_nonnull(prog);
	ck_assert_uint_gt(len, 0);
	ck_assert_uint_eq(len % sizeof(struct sock_filter), 0);
	ck_assert_uint_le(len / sizeof(struct sock_filter), BPF_MAXINSNS);
	ck_assert_uint_eq(skipped, 0);
	free(prog);
}
END_TEST

/* The child's exit status when no filter can be loaded at all. */
#define SKIPPED 99

/* In the child: 0 if the call failed with want, else a distinct code. */
static int expect_errno(long rc, int want, int code)
{
	if (rc == -1 && errno == want)
		return 0;
	return code;
}

static int child_checks(void)
{
	int fd;
	/* Valid (zeroed) argument buffers: valgrind reads them before the call. */
	static char zeros[256];
	/* Refused. */
	if (expect_errno(unshare(CLONE_NEWUSER), EPERM, 10))
		return 10;
	if (expect_errno(unshare(CLONE_NEWNET), EPERM, 11))
		return 11;
	if (expect_errno(mount("none", "/tmp", "tmpfs", 0, NULL), EPERM, 12))
		return 12;
	if (expect_errno(syscall(SYS_ptrace, 0 /* PTRACE_TRACEME */, 0, 0, 0), EPERM, 13))
		return 13;
	if (expect_errno(syscall(SYS_keyctl, 0, 0, 0, 0, 0), EPERM, 14))
		return 14;
	if (expect_errno(syscall(SYS_bpf, 0, zeros, 64), EPERM, 15))
		return 15;
	if (expect_errno(syscall(SYS_perf_event_open, zeros, 0, -1, -1, 0), EPERM, 16))
		return 16;
	if (expect_errno(syscall(SYS_clone3, zeros, 88), ENOSYS, 17))
		return 17;
	if (expect_errno(syscall(SYS_clone, CLONE_NEWPID | SIGCHLD, 0, 0, 0, 0), EPERM, 18))
		return 18;
	if (expect_errno(syscall(SYS_setns, 0, 0), EPERM, 19))
		return 19;
	if (expect_errno(socket(AF_NETLINK, SOCK_RAW, 0), EAFNOSUPPORT, 20))
		return 20;
	if (expect_errno(socket(AF_PACKET, SOCK_RAW, 0), EAFNOSUPPORT, 21))
		return 21;
	/* High bits the kernel would truncate away must not sneak a family in. */
	if (expect_errno(syscall(SYS_socket, (1L << 32) | AF_NETLINK, SOCK_RAW, 0), EAFNOSUPPORT,
			 22))
		return 22;
	if (expect_errno(syscall(SYS_userfaultfd, 0), EPERM, 23))
		return 23;
	if (expect_errno(syscall(SYS_init_module, zeros, 0, ""), EPERM, 24))
		return 24;
	if (expect_errno(syscall(SYS_fallocate, 1, 0, 0L, 1L << 30), EOPNOTSUPP, 25))
		return 25;

	/* Allowed: what a JVM does. */
	if (getpid() <= 0)
		return 30;
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) < 0)
		return 31;
	close(fd);
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) < 0)
		return 32;
	close(fd);
	if ((fd = socket(AF_INET6, SOCK_DGRAM, 0)) < 0 && errno != EAFNOSUPPORT)
		return 33; /* EAFNOSUPPORT from the kernel (no IPv6) is fine */
	if (fd >= 0)
		close(fd);
	pid_t p = fork(); /* plain clone, no namespace flags */
	if (p < 0)
		return 34;
	if (p == 0)
		_exit(7);
	int st;
	if (waitpid(p, &st, 0) != p || !WIFEXITED(st) || WEXITSTATUS(st) != 7)
		return 35;
	if ((fd = open("/dev/null", O_RDONLY)) < 0)
		return 36;
	close(fd);
	return 0;
}

/* Valgrind emulates system calls itself (some it does not know return
 * ENOSYS before the kernel, and so the filter, sees them). */
static bool under_valgrind(void)
{
	const char *p = getenv("LD_PRELOAD");
	return p && strstr(p, "vgpreload");
}

START_TEST(test_filter_in_child)
{
	if (under_valgrind()) {
		fprintf(stderr, "check_seccomp: under valgrind, the filter is not tried\n");
		return;
	}
	void *prog = NULL;
	size_t len = 0;
	char err[256] = "";
	ck_assert_msg(ft_seccomp_build(&prog, &len, NULL, err, sizeof(err)) == 0, "%s", err);
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct sock_fprog fp = {
			.len = (unsigned short)(len / sizeof(struct sock_filter)),
			.filter = prog,
		};
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
			_exit(2);
		/* prctl as the fallback: valgrind knows no seccomp(). */
		if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &fp) < 0 &&
		    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fp, 0, 0) < 0)
			_exit(errno == ENOSYS || errno == EINVAL ? SKIPPED : 3);
		_exit(child_checks());
	}
	free(prog);
	int st;
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_msg(WIFEXITED(st), "child died of signal %d", WTERMSIG(st));
	if (WEXITSTATUS(st) == SKIPPED) {
		fprintf(stderr, "check_seccomp: cannot load a filter here (valgrind?): skipped\n");
		return;
	}
	ck_assert_msg(WEXITSTATUS(st) == 0, "check %d in the filtered child failed",
		      WEXITSTATUS(st));
}
END_TEST

static Suite *seccomp_suite(void)
{
	Suite *s = suite_create("seccomp");
	TCase *tc = tcase_create("filter");
	tcase_add_test(tc, test_rule_list);
	tcase_add_test(tc, test_build);
	tcase_add_test(tc, test_filter_in_child);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(seccomp_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
