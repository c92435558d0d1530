#include "conf/schema.h"

#include <arpa/inet.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

void ft_setting_label(const struct ft_setting *s, char *buf, size_t cap)
{
	snprintf(buf, cap, "%s%s%s", s->section, *s->section ? "." : "", s->key);
}

const struct ft_setting *ft_setting_find(const struct ft_setting *table, size_t n,
					 const char *section, const char *key)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(table[i].section, section) == 0 && strcmp(table[i].key, key) == 0)
			return &table[i];
	return NULL;
}

/* A default goes through the same checks as a value in a file, so that the
 * defaults can never be something a file could not say. */
static bool text_default_ok(const struct ft_setting *s, const char *text)
{
	size_t len = strlen(text);

	if ((len == 0 && s->kind != FT_SETTING_TEXT) || len >= s->size)
		return false;
	if (s->kind == FT_SETTING_NAME && !ft_conf_is_name(text, len))
		return false;
	return s->kind != FT_SETTING_ZK_CONNECT || ft_conf_zk_connect_check(text) == NULL;
}

int ft_setting_set_default(const struct ft_setting *s, void *base)
{
	char *field = (char *)base + s->offset;

	switch (s->kind) {
	case FT_SETTING_INT:
	case FT_SETTING_SIZE:
		if (s->def < s->min || s->def > s->max)
			return -1;
		if (s->kind == FT_SETTING_INT)
			*(int *)(void *)field = (int)s->def;
		else
			*(size_t *)(void *)field = (size_t)s->def;
		return 0;
	case FT_SETTING_ADDR: {
		struct ft_addr a;
		if (!s->def_text || ft_conf_addr_parse(s->def_text, &a))
			return -1;
		memcpy(field, &a, sizeof(a));
		return 0;
	}
	default:
		if (!s->def_text || !text_default_ok(s, s->def_text))
			return -1;
		memcpy(field, s->def_text, strlen(s->def_text) + 1);
		return 0;
	}
}

bool ft_setting_equal(const struct ft_setting *s, const void *a, const void *b)
{
	const char *fa = (const char *)a + s->offset, *fb = (const char *)b + s->offset;

	switch (s->kind) {
	case FT_SETTING_INT:
	case FT_SETTING_SIZE:
		return memcmp(fa, fb, s->size) == 0;
	case FT_SETTING_ADDR:
		return strcmp(((const struct ft_addr *)(const void *)fa)->text,
			      ((const struct ft_addr *)(const void *)fb)->text) == 0;
	default:
		return strcmp(fa, fb) == 0;
	}
}

void ft_setting_copy(const struct ft_setting *s, void *dst, const void *src)
{
	memcpy((char *)dst + s->offset, (const char *)src + s->offset, s->size);
}

/* ---- value syntaxes ---- */

bool ft_conf_parse_decimal(const char *s, size_t len, long long *out, bool *overflow)
{
	size_t i = 0, digits;
	bool negative = false;
	long long v = 0;

	*overflow = false;
	if (len > 0 && s[0] == '-') {
		negative = true;
		i = 1;
	}
	digits = len - i;
	if (digits == 0 || (s[i] == '0' && digits > 1))
		return false;
	for (; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		if (v > (LLONG_MAX - 9) / 10)
			*overflow = true;
		else
			v = v * 10 + (s[i] - '0');
	}
	*out = negative ? -v : v;
	return true;
}

static bool parse_port(const char *s, size_t len, uint16_t *port)
{
	unsigned long v = 0;

	if (len == 0 || len > 5)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v < 1 || v > 65535)
		return false;
	*port = (uint16_t)v;
	return true;
}

const char *ft_conf_addr_parse(const char *text, struct ft_addr *out)
{
	char host[INET_ADDRSTRLEN];
	const char *colon = strrchr(text, ':');
	size_t len = strlen(text), hlen;
	struct ft_addr a;
	uint16_t port;

	if (len >= sizeof(a.text))
		return "too long";
	if (!colon)
		return "expected host:port";
	if (!parse_port(colon + 1, len - (size_t)(colon + 1 - text), &port))
		return "port must be 1..65535";

	memset(&a, 0, sizeof(a));
	a.sa.sin_family = AF_INET;
	a.sa.sin_port = htons(port);
	hlen = (size_t)(colon - text);
	if (hlen == 9 && memcmp(text, "localhost", 9) == 0) {
		a.sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	} else {
		/* inet_pton, unlike inet_aton, takes only the four-part decimal form. */
		if (hlen == 0 || hlen >= sizeof(host))
			return "host must be an IPv4 dotted quad or \"localhost\"";
		memcpy(host, text, hlen);
		host[hlen] = '\0';
		if (inet_pton(AF_INET, host, &a.sa.sin_addr) != 1)
			return "host must be an IPv4 dotted quad or \"localhost\"";
	}
	memcpy(a.text, text, len + 1);
	*out = a;
	return NULL;
}

int ft_addr_parse(const char *text, struct ft_addr *out)
{
	if (!text || !out)
		return -1;
	return ft_conf_addr_parse(text, out) ? -1 : 0;
}

/* Host names are allowed here (the client resolves them); only the shape is
 * checked so a typo fails now rather than as an endless reconnect loop. */
const char *ft_conf_zk_connect_check(const char *s)
{
	const char *end = strchr(s, '/');
	const char *stop = end ? end : s + strlen(s);

	for (const char *p = s, *next; p <= stop; p = next + 1) {
		const char *colon = NULL;

		next = memchr(p, ',', (size_t)(stop - p));
		if (!next)
			next = stop;
		for (const char *c = p; c < next; c++) {
			if (*c == ' ' || *c == '\t')
				return "no blanks allowed";
			if (*c == ':')
				colon = c;
		}
		if (next == p)
			return "empty entry in the list";
		if (!colon || colon == p)
			return "each entry must be host:port";
		uint16_t port;
		if (!parse_port(colon + 1, (size_t)(next - colon - 1), &port))
			return "port must be 1..65535";
	}
	return NULL;
}

bool ft_conf_is_name(const char *s, size_t len)
{
	if (len < 1 || len > 63)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-'))
			return false;
	}
	return true;
}
