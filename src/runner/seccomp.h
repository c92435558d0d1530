/* The seccomp filter every sandboxed child runs under (compiler and
 * program): a deny list of what a Java program never needs.  Everything else
 * is allowed, so the JVM works unchanged; what is listed fails with an
 * errno instead of killing the process, so a probing program gets an
 * exception, not a crash.
 *
 * The filter is built once with libseccomp and exported as a classic BPF
 * program (struct sock_filter[]), which bwrap loads with --seccomp FD just
 * before it execs the JVM (after its own mounts, which the filter would
 * refuse). */
#ifndef FT_SECCOMP_H
#define FT_SECCOMP_H

#include <stddef.h>

/* One denied system call: name as libseccomp knows it, errno returned. */
struct ft_seccomp_deny {
	const char *name;
	int err;
};

/* The deny list (unconditional rules), for the log and the unit tests. */
extern const struct ft_seccomp_deny ft_seccomp_denied[];
extern const size_t ft_seccomp_n_denied;

/* Namespace flags that clone() may not carry (each one refused with EPERM). */
extern const unsigned long ft_seccomp_clone_ns_flags[];
extern const size_t ft_seccomp_n_clone_ns_flags;

/* Socket address families the sandbox may use (socket() of any other one
 * fails with EAFNOSUPPORT): AF_UNIX, AF_INET, AF_INET6.  The network
 * namespace has only loopback anyway; this only shrinks the kernel surface. */
extern const int ft_seccomp_socket_families[];
extern const size_t ft_seccomp_n_socket_families;

/* Builds the filter for the native architecture.  On success *prog is a
 * malloc'd BPF program of *len bytes (a multiple of 8) and 0 is returned;
 * on failure -1 with a message in err.  Names this libseccomp does not know
 * are skipped (and counted in *skipped, which may be NULL). */
int ft_seccomp_build(void **prog, size_t *len, size_t *skipped, char *err, size_t errlen);

#endif
