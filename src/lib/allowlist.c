#include "lib/allowlist.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "lib/hostlist.h"

#define NAME_MAX_LEN 256

struct origin {
	bool https;
	bool wildcard; /* "*." before host */
	char host[NAME_MAX_LEN];
	int port;
};

static bool is_sep(char c)
{
	return c == ' ' || c == ',' || c == '\t' || c == '\n';
}

static bool name_char(char c)
{
	return isalnum((unsigned char)c) || c == '-' || c == '.' || c == '_';
}

static int parse_port(const char *s, size_t n)
{
	if (n == 0 || n > 5)
		return -1;
	int port = 0;
	for (size_t i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		port = port * 10 + (s[i] - '0');
	}
	return port >= 1 && port <= 65535 ? port : -1;
}

/* host[:port] (host a name or a [IPv6] address) of s[0..n): the host's
 * length, and *port (0 when none is given); -1 if it is not that. */
static int split_host_port(const char *s, size_t n, int *port)
{
	size_t host_end = 0;
	if (n > 0 && s[0] == '[') {
		const char *close = memchr(s, ']', n);
		if (!close || close == s + 1)
			return -1;
		host_end = (size_t)(close - s) + 1;
		for (size_t i = 1; i + 1 < host_end; i++)
			if (!isxdigit((unsigned char)s[i]) && s[i] != ':' && s[i] != '.')
				return -1;
	} else {
		while (host_end < n && s[host_end] != ':') {
			if (!name_char(s[host_end]))
				return -1;
			host_end++;
		}
		if (host_end == 0 || s[0] == '.' || s[host_end - 1] == '.')
			return -1;
	}
	if (host_end >= NAME_MAX_LEN)
		return -1;
	*port = 0;
	if (host_end < n) {
		if (s[host_end] != ':')
			return -1;
		*port = parse_port(s + host_end + 1, n - host_end - 1);
		if (*port < 0)
			return -1;
	}
	return (int)host_end;
}

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
	int hl = split_host_port(s, n, &port);
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
	if (!e->wildcard)
		return strcasecmp(e->host, o->host) == 0;
	size_t hl = strlen(o->host), el = strlen(e->host);
	return hl > el + 1 && o->host[hl - el - 1] == '.' &&
	       strcasecmp(o->host + hl - el, e->host) == 0;
}

/* Goes through the entries of list: -1 (with the entry in bad) at a
 * malformed one, 1 at the first that allows q (if q), else 0. */
static int each_origin(const char *list, const struct origin *q, char *bad, size_t bad_len)
{
	const char *p = list;
	while (*p) {
		while (is_sep(*p))
			p++;
		const char *start = p;
		while (*p && !is_sep(*p))
			p++;
		size_t n = (size_t)(p - start);
		if (n == 0)
			continue;
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
	const char *p = list;
	while (is_sep(*p))
		p++;
	if (!*p)
		return true;
	if (!host)
		return false;
	int port;
	int hl = split_host_port(host, strlen(host), &port);
	if (hl < 0)
		return false;
	char name[NAME_MAX_LEN];
	memcpy(name, host, (size_t)hl);
	name[hl] = '\0';
	return ft_host_list_allows(list, name, port ? port : default_port);
}
