/* The sandbox's seccomp deny list, built with libseccomp (see seccomp.h). */
#include "runner/seccomp.h"
#include "lib/util.h"

#include <errno.h>
#include <sched.h>
#include <seccomp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

/* Largest address family number the explicit per-family rules cover; any
 * larger one is refused by a >= rule, whatever the kernel knows. */
#define FAMILY_RULES_MAX 64

const struct ft_seccomp_deny ft_seccomp_denied[] = {
	/* file systems and mounts: the sandbox's view is fixed by bwrap */
	{ "mount", EPERM },
	{ "umount2", EPERM },
	{ "pivot_root", EPERM },
	{ "chroot", EPERM },
	{ "move_mount", EPERM },
	{ "open_tree", EPERM },
	{ "fsopen", EPERM },
	{ "fsconfig", EPERM },
	{ "fsmount", EPERM },
	{ "fspick", EPERM },
	{ "mount_setattr", EPERM },
	{ "swapon", EPERM },
	{ "swapoff", EPERM },
	{ "quotactl", EPERM },
	{ "quotactl_fd", EPERM },
	{ "name_to_handle_at", EPERM },
	{ "open_by_handle_at", EPERM },
	{ "fanotify_init", EPERM },
	{ "nfsservctl", EPERM },
	{ "uselib", EPERM },
	{ "ustat", EPERM },
	{ "sysfs", EPERM },
	/* namespaces: no new ones, no joining others */
	{ "unshare", EPERM },
	{ "setns", EPERM },
	/* other processes' memory and state */
	{ "ptrace", EPERM },
	{ "process_vm_readv", EPERM },
	{ "process_vm_writev", EPERM },
	{ "kcmp", EPERM },
	{ "pidfd_getfd", EPERM },
	{ "process_madvise", EPERM },
	{ "migrate_pages", EPERM },
	{ "move_pages", EPERM },
	/* the kernel itself */
	{ "kexec_load", EPERM },
	{ "kexec_file_load", EPERM },
	{ "init_module", EPERM },
	{ "finit_module", EPERM },
	{ "delete_module", EPERM },
	{ "create_module", EPERM },
	{ "get_kernel_syms", EPERM },
	{ "query_module", EPERM },
	{ "reboot", EPERM },
	{ "bpf", EPERM },
	{ "perf_event_open", EPERM },
	{ "userfaultfd", EPERM },
	{ "lookup_dcookie", EPERM },
	{ "syslog", EPERM },
	{ "acct", EPERM },
	{ "iopl", EPERM },
	{ "ioperm", EPERM },
	{ "vhangup", EPERM },
	{ "io_uring_setup", EPERM },
	{ "io_uring_enter", EPERM },
	{ "io_uring_register", EPERM },
	/* Blocks allocated beyond a file's size escape RLIMIT_FSIZE and the
	 * output size poll: a program could fill the node's disk through its
	 * output files.  EOPNOTSUPP is what a file system without it says, so
	 * posix_fallocate() falls back to writing, which the limits see. */
	{ "fallocate", EOPNOTSUPP },
	/* keys */
	{ "keyctl", EPERM },
	{ "add_key", EPERM },
	{ "request_key", EPERM },
	/* the machine's identity and clocks */
	{ "settimeofday", EPERM },
	{ "clock_settime", EPERM },
	{ "clock_adjtime", EPERM },
	{ "adjtimex", EPERM },
	{ "sethostname", EPERM },
	{ "setdomainname", EPERM },
	/* clone3 passes its flags in memory, where a filter cannot look:
	 * ENOSYS makes glibc fall back to clone(), whose flags are checked. */
	{ "clone3", ENOSYS },
};

const size_t ft_seccomp_n_denied = sizeof(ft_seccomp_denied) / sizeof(ft_seccomp_denied[0]);

const unsigned long ft_seccomp_clone_ns_flags[] = {
	CLONE_NEWNS,   CLONE_NEWCGROUP, CLONE_NEWUTS, CLONE_NEWIPC,
	CLONE_NEWUSER, CLONE_NEWPID,	CLONE_NEWNET, CLONE_NEWTIME,
};

const size_t ft_seccomp_n_clone_ns_flags =
	sizeof(ft_seccomp_clone_ns_flags) / sizeof(ft_seccomp_clone_ns_flags[0]);

const int ft_seccomp_socket_families[] = { AF_UNIX, AF_INET, AF_INET6 };

const size_t ft_seccomp_n_socket_families =
	sizeof(ft_seccomp_socket_families) / sizeof(ft_seccomp_socket_families[0]);

static int family_allowed(int fam)
{
	for (size_t i = 0; i < ft_seccomp_n_socket_families; i++)
		if (ft_seccomp_socket_families[i] == fam)
			return 1;
	return 0;
}

static int add_rules(scmp_filter_ctx ctx, size_t *skipped, char *err, size_t errlen)
{
	int rc;
	for (size_t i = 0; i < ft_seccomp_n_denied; i++) {
		int nr = seccomp_syscall_resolve_name(ft_seccomp_denied[i].name);
		if (nr == __NR_SCMP_ERROR) {
			(*skipped)++;
			continue;
		}
		rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO((unsigned)ft_seccomp_denied[i].err), nr,
				      0);
		if (rc < 0) {
			ft_set_err(err, errlen, "seccomp rule for %s: %s",
				   ft_seccomp_denied[i].name, strerror(-rc));
			return -1;
		}
	}
	for (size_t i = 0; i < ft_seccomp_n_clone_ns_flags; i++) {
		scmp_datum_t f = ft_seccomp_clone_ns_flags[i];
		/* x86-64, arm64 and most others: the flags are clone's first
		 * argument (s390 would need A1; it is not a target). */
		rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone), 1,
				      SCMP_A0(SCMP_CMP_MASKED_EQ, f, f));
		if (rc < 0) {
			ft_set_err(err, errlen, "seccomp rule for clone flag %#lx: %s",
				   (unsigned long)f, strerror(-rc));
			return -1;
		}
	}
	for (int fam = 0; fam < FAMILY_RULES_MAX; fam++) {
		if (family_allowed(fam))
			continue;
		rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EAFNOSUPPORT), SCMP_SYS(socket), 1,
				      SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)fam));
		if (rc < 0) {
			ft_set_err(err, errlen, "seccomp rule for socket family %d: %s", fam,
				   strerror(-rc));
			return -1;
		}
	}
	/* Also catches values with high bits set, which the kernel would
	 * truncate to an int. */
	rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EAFNOSUPPORT), SCMP_SYS(socket), 1,
			      SCMP_A0(SCMP_CMP_GE, (scmp_datum_t)FAMILY_RULES_MAX));
	if (rc < 0) {
		ft_set_err(err, errlen, "seccomp rule for socket families: %s", strerror(-rc));
		return -1;
	}
	return 0;
}

/* The exported program, read back from the memfd it was written to. */
static int export_bpf(scmp_filter_ctx ctx, void **prog, size_t *len, char *err, size_t errlen)
{
	int fd = memfd_create("ft-seccomp", MFD_CLOEXEC);
	if (fd < 0) {
		ft_set_err(err, errlen, "memfd_create: %s", strerror(errno));
		return -1;
	}
	int rc = seccomp_export_bpf(ctx, fd);
	if (rc < 0) {
		ft_set_err(err, errlen, "seccomp_export_bpf: %s", strerror(-rc));
		close(fd);
		return -1;
	}
	off_t size = lseek(fd, 0, SEEK_END);
	if (size <= 0 || size % 8 != 0 || lseek(fd, 0, SEEK_SET) != 0) {
		ft_set_err(err, errlen, "seccomp_export_bpf wrote %lld bytes", (long long)size);
		close(fd);
		return -1;
	}
	char *buf = malloc((size_t)size);
	size_t got = 0;
	while (buf && got < (size_t)size) {
		ssize_t n = read(fd, buf + got, (size_t)size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	if (!buf || got != (size_t)size) {
		ft_set_err(err, errlen, "reading the exported filter failed");
		free(buf);
		return -1;
	}
	*prog = buf;
	*len = got;
	return 0;
}

int ft_seccomp_build(void **prog, size_t *len, size_t *skipped, char *err, size_t errlen)
{
	size_t skip = 0;
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	if (!ctx) {
		ft_set_err(err, errlen, "seccomp_init failed");
		return -1;
	}
	int rc = add_rules(ctx, &skip, err, errlen);
	if (rc == 0)
		rc = export_bpf(ctx, prog, len, err, errlen);
	seccomp_release(ctx);
	if (skipped)
		*skipped = skip;
	return rc;
}
