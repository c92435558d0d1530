/* Allow-lists of the names an HTTP request carries: which Origin a
 * browser may read answers from (the gateway's gateway.cors_origins), and
 * which Host a request may name (gateway.allowed_hosts, against DNS
 * rebinding: a page of evil.example whose name was made to point at the
 * gateway sends "Host: evil.example").  Here, not in the gateway, so that
 * the configuration's rules can check the lists.
 *
 * cors_origins: entries separated by spaces or commas, each
 *   *                          any origin
 *   scheme://host[:port]       http or https; no path; the port defaults
 *                              to the scheme's (80, 443)
 *   the same with "*.domain" for host: any host under domain (not
 *                              domain itself)
 * compared without regard to case.  "null" (sandboxed pages, files) is
 * never an entry: any page can send it.
 *
 * allowed_hosts: lib/hostlist.h's syntax (host, host:port, *.domain,
 * [IPv6]); a Host header without a port names the default port.
 *
 * Pure: no sockets, no DNS; nothing is resolved. */
#ifndef FT_LIB_ALLOWLIST_H
#define FT_LIB_ALLOWLIST_H

#include <stdbool.h>
#include <stddef.h>

/* 0 if every entry of list is an origin entry (an empty list is); else -1
 * and why names the first bad one. */
int ft_origin_list_check(const char *list, char *why, size_t len);

/* Whether origin (an Origin header's value) is allowed by list (which
 * ft_origin_list_check accepts).  False for NULL, "null", or an origin
 * that is not scheme://host[:port]. */
bool ft_origin_allowed(const char *list, const char *origin);

/* Whether list (lib/hostlist.h) allows the Host header host; default_port
 * for a header without one.  An empty list allows any; a missing or
 * malformed header is allowed only by an empty list. */
bool ft_host_header_allowed(const char *list, const char *host, int default_port);

#endif
