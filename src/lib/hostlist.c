/* Host allowlists (see hostlist.h). */
#include "lib/hostlist.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct entry {
	char host[FT_HOST_MAX]; /* without the "*." of a wildcard */
	bool wildcard;
	int port; /* 0: any */
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

const char *ft_list_next(const char **p, size_t *n)
{
	const char *s = *p;
	while (is_sep(*s))
		s++;
	const char *start = s;
	while (*s && !is_sep(*s))
		s++;
	*p = s;
	*n = (size_t)(s - start);
	return *n ? start : NULL;
}

int ft_host_port_split(const char *s, size_t n, int *port)
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
	if (host_end >= FT_HOST_MAX)
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

bool ft_host_under(const char *host, const char *domain)
{
	size_t hl = strlen(host), dl = strlen(domain);
	return hl > dl + 1 && host[hl - dl - 1] == '.' && strcasecmp(host + hl - dl, domain) == 0;
}

/* s[0..n) into *e; -1 if it is not an entry. */
static int parse_entry(const char *s, size_t n, struct entry *e)
{
	memset(e, 0, sizeof(*e));
	if (n >= 2 && s[0] == '*' && s[1] == '.') {
		e->wildcard = true;
		s += 2;
		n -= 2;
	}
	int hl = ft_host_port_split(s, n, &e->port);
	if (hl < 0 || (e->wildcard && s[0] == '['))
		return -1;
	memcpy(e->host, s, (size_t)hl);
	return 0;
}

/* Calls fn for each entry of list until it returns true; -1 at a bad
 * entry (its text in bad). */
static int each_entry(const char *list, bool (*fn)(const struct entry *, void *), void *ud,
		      char *bad, size_t bad_len, bool *stopped)
{
	const char *p = list, *start;
	size_t n;
	*stopped = false;
	while ((start = ft_list_next(&p, &n))) {
		struct entry e;
		if (parse_entry(start, n, &e) < 0) {
			if (bad)
				snprintf(bad, bad_len, "%.*s", (int)(n > 200 ? 200 : n), start);
			return -1;
		}
		if (fn && fn(&e, ud)) {
			*stopped = true;
			return 0;
		}
	}
	return 0;
}

int ft_host_list_check(const char *list, char *why, size_t len)
{
	char bad[256];
	bool stopped;
	if (each_entry(list, NULL, NULL, bad, sizeof(bad), &stopped) == 0)
		return 0;
	snprintf(why, len,
		 "'%s' is not a host, host:port, *.domain or [IPv6 address] entry (port 1 to "
		 "65535)",
		 bad);
	return -1;
}

struct query {
	const char *host;
	int port;
};

static bool matches(const struct entry *e, void *ud)
{
	const struct query *q = ud;
	if (e->port && e->port != q->port)
		return false;
	return e->wildcard ? ft_host_under(q->host, e->host) : strcasecmp(e->host, q->host) == 0;
}

bool ft_host_list_allows(const char *list, const char *host, int port)
{
	if (!host || !*host)
		return false;
	struct query q = { host, port };
	bool stopped;
	return each_entry(list, matches, &q, NULL, 0, &stopped) == 0 && stopped;
}
