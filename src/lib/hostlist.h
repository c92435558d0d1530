/* A list of hosts a daemon may connect to on a user's behalf (callback
 * URLs): entries separated by spaces or commas, each
 *
 *   host          any port        (hooks.example.com, 10.0.0.7, [::1])
 *   host:port     that port only  (hooks.example.com:8443, [fd00::1]:80)
 *   *.domain      any host under domain (not domain itself), any port
 *   *.domain:port
 *
 * Names compare without regard to case; nothing is resolved, so what is
 * allowed is the name the user wrote, as the operator wrote it.
 *
 * Pure: no sockets, no DNS. */
#ifndef FT_LIB_HOSTLIST_H
#define FT_LIB_HOSTLIST_H

#include <stdbool.h>
#include <stddef.h>

/* 0 if every entry of list is well formed (an empty list is); else -1 and
 * why names the first bad entry. */
int ft_host_list_check(const char *list, char *why, size_t len);

/* Whether host (as in a URL: an IPv6 address in brackets) on port is
 * allowed by list (which ft_host_list_check accepts). */
bool ft_host_list_allows(const char *list, const char *host, int port);

/* The pieces such lists are made of, for lists of other things
 * (lib/allowlist.h). */

/* Host names and [IPv6] addresses are shorter than this. */
#define FT_HOST_MAX 256

/* The next entry of a list (separated by spaces, commas, tabs, newlines)
 * from *p on, its length in *n, and *p moved past it; NULL at the end. */
const char *ft_list_next(const char **p, size_t *n);

/* host[:port] of s[0..n) (host a name or an [IPv6] address, shorter than
 * FT_HOST_MAX): the host's length, *port (0 when none is given); -1 if it
 * is not that. */
int ft_host_port_split(const char *s, size_t n, int *port);

/* Whether host lies under domain ("a.b.example" under "example"; not
 * "example" itself), without regard to case. */
bool ft_host_under(const char *host, const char *domain);

#endif
