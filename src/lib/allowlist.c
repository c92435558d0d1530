#include "lib/allowlist.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "lib/hostlist.h"

struct origin {
	bool https;
	bool wildcard; /* "*." before host */
	char host[FT_HOST_MAX];
	int port;
};

/* An origin (or an entry, with allow_wildcard) of s[0..n). */
static int parse_origin(const char *s, size_t n, bool allow_wildcard, struct origin *o)
{
	memset(o, 0, sizeof(*o));
	if (n > 8 && strncasecmp(s, "https://", 8) == 0) {
		o->https = true;
		s += 8;
		n -= 8;
	} else if (n > 7 && strncasecmp(s, "http://", 7) == 0) {
		s += 7;
		n -= 7;
	} else {
		return -1;
	}
	if (allow_wildcard && n > 2 && s[0] == '*' && s[1] == '.') {
		o->wildcard = true;
		s += 2;
		n -= 2;
	}
	int port;
	int hl = ft_host_port_split(s, n, &port);
	if (hl < 0 || (o->wildcard && s[0] == '['))
		return -1;
	memcpy(o->host, s, (size_t)hl);
	o->port = port ? port : o->https ? 443 : 80;
	return 0;
}

static bool origin_matches(const struct origin *e, const struct origin *o)
{
	if (e->https != o->https || e->port != o->port)
		return false;
	return e->wildcard ? ft_host_under(o->host, e->host) : strcasecmp(e->host, o->host) == 0;
}

/* Goes through the entries of list: -1 (with the entry in bad) at a
 * malformed one, 1 at the first that allows q (if q), else 0. */
static int each_origin(const char *list, const struct origin *q, char *bad, size_t bad_len)
{
	const char *p = list, *start;
	size_t n;
	while ((start = ft_list_next(&p, &n))) {
		if (n == 1 && start[0] == '*') {
			if (q)
				return 1;
			continue;
		}
		struct origin e;
		if (parse_origin(start, n, true, &e) < 0) {
			if (bad)
				snprintf(bad, bad_len, "%.*s", (int)(n > 200 ? 200 : n), start);
			return -1;
		}
		if (q && origin_matches(&e, q))
			return 1;
	}
	return 0;
}

int ft_origin_list_check(const char *list, char *why, size_t len)
{
	char bad[256];
	if (each_origin(list, NULL, bad, sizeof(bad)) == 0)
		return 0;
	snprintf(why, len,
		 "'%s' is not an origin: want *, http(s)://host[:port] or http(s)://*.domain "
		 "(no path)",
		 bad);
	return -1;
}

bool ft_origin_allowed(const char *list, const char *origin)
{
	struct origin o;
	if (!origin || parse_origin(origin, strlen(origin), false, &o) < 0)
		return false;
	return each_origin(list, &o, NULL, 0) == 1;
}

bool ft_host_header_allowed(const char *list, const char *host, int default_port)
{
	size_t n;
	const char *p = list;
	if (!ft_list_next(&p, &n))
		return true;
	if (!host)
		return false;
	int port;
	int hl = ft_host_port_split(host, strlen(host), &port);
	if (hl < 0)
		return false;
	char name[FT_HOST_MAX];
	memcpy(name, host, (size_t)hl);
	name[hl] = '\0';
	return ft_host_list_allows(list, name, port ? port : default_port);
}
