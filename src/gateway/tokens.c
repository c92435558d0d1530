#include "gateway/tokens.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/util.h"

struct token {
	unsigned char hash[GW_TOKEN_HASH_LEN];
	char label[GW_TOKEN_LABEL_MAX];
};

struct gw_tokens {
	struct token *v;
	size_t n, cap;
};

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

static bool is_b64token_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/';
}

/* b64token: 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=" */
static bool is_b64token(const char *s, size_t len)
{
	size_t i = 0;
	while (i < len && is_b64token_char(s[i]))
		i++;
	if (i == 0)
		return false;
	while (i < len && s[i] == '=')
		i++;
	return i == len;
}

static void hash_token(unsigned char out[GW_TOKEN_HASH_LEN], const char *tok, size_t len)
{
	crypto_hash_sha256(out, (const unsigned char *)tok, len);
}

static int parse_line(struct gw_tokens *t, const char *name, int lineno, const char *p,
		      const char *end, char *err, size_t errlen)
{
	while (p < end && is_blank(*p))
		p++;
	if (p == end || *p == '#')
		return 0;
	const char *tok = p;
	while (p < end && !is_blank(*p))
		p++;
	size_t tlen = (size_t)(p - tok);
	if (!is_b64token(tok, tlen)) {
		snprintf(err, errlen,
			 "%s:%d: a token is letters, digits and - . _ ~ + / (then any '=')", name,
			 lineno);
		return -1;
	}
	if (tlen < GW_TOKEN_MIN || tlen > GW_TOKEN_MAX) {
		snprintf(err, errlen, "%s:%d: a token has %d to %d characters, this one %zu", name,
			 lineno, GW_TOKEN_MIN, GW_TOKEN_MAX, tlen);
		return -1;
	}
	while (p < end && is_blank(*p))
		p++;
	const char *label = p;
	const char *lend = end;
	while (lend > label && is_blank(lend[-1]))
		lend--;
	struct token nt;
	hash_token(nt.hash, tok, tlen);
	for (size_t i = 0; i < t->n; i++)
		if (memcmp(t->v[i].hash, nt.hash, GW_TOKEN_HASH_LEN) == 0) {
			snprintf(err, errlen, "%s:%d: the same token as '%s' (listed twice)", name,
				 lineno, t->v[i].label);
			return -1;
		}
	if (lend > label)
		snprintf(nt.label, sizeof(nt.label), "%.*s", (int)(lend - label), label);
	else
		snprintf(nt.label, sizeof(nt.label), "line %d", lineno);
	for (char *c = nt.label; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			*c = '?'; /* labels go to the logs as they are */
	if (t->n == t->cap) {
		t->cap = t->cap ? 2 * t->cap : 8;
		t->v = ft_xrealloc(t->v, t->cap * sizeof(*t->v));
	}
	t->v[t->n++] = nt;
	return 0;
}

struct gw_tokens *gw_tokens_parse(const char *name, const char *text, size_t len, char *err,
				  size_t errlen)
{
	struct gw_tokens *t = ft_xcalloc(1, sizeof(*t));
	const char *p = text, *end = text + len;
	int lineno = 0;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *lend = nl ? nl : end;
		lineno++;
		if (memchr(p, '\0', (size_t)(lend - p))) {
			snprintf(err, errlen, "%s:%d: a NUL byte: not a text file", name, lineno);
			gw_tokens_free(t);
			return NULL;
		}
		if (parse_line(t, name, lineno, p, lend, err, errlen) < 0) {
			gw_tokens_free(t);
			return NULL;
		}
		p = nl ? nl + 1 : end;
	}
	return t;
}

struct gw_tokens *gw_tokens_load(const char *path, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		close(fd);
		return NULL;
	}
	if (st.st_mode & 0077) {
		snprintf(err, errlen,
			 "%s can be read or written by others (mode %03o): chmod 600 it", path,
			 (unsigned)(st.st_mode & 0777));
		close(fd);
		return NULL;
	}
	if (st.st_size > GW_TOKENS_FILE_MAX) {
		snprintf(err, errlen, "%s: larger than %d bytes: not a list of tokens", path,
			 GW_TOKENS_FILE_MAX);
		close(fd);
		return NULL;
	}
	char *buf = ft_xmalloc(GW_TOKENS_FILE_MAX + 1);
	size_t len = 0;
	for (;;) {
		ssize_t n = read(fd, buf + len, GW_TOKENS_FILE_MAX + 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			sodium_memzero(buf, len);
			free(buf);
			close(fd);
			return NULL;
		}
		if (n == 0 || (len += (size_t)n) > GW_TOKENS_FILE_MAX)
			break;
	}
	close(fd);
	struct gw_tokens *t = NULL;
	if (len > GW_TOKENS_FILE_MAX)
		snprintf(err, errlen, "%s: larger than %d bytes: not a list of tokens", path,
			 GW_TOKENS_FILE_MAX);
	else
		t = gw_tokens_parse(path, buf, len, err, errlen);
	/* The tokens themselves stay in no buffer. */
	sodium_memzero(buf, len > GW_TOKENS_FILE_MAX ? GW_TOKENS_FILE_MAX + 1 : len);
	free(buf);
	return t;
}

void gw_tokens_free(struct gw_tokens *t)
{
	if (!t)
		return;
	free(t->v);
	free(t);
}

size_t gw_tokens_count(const struct gw_tokens *t)
{
	return t ? t->n : 0;
}

int gw_tokens_find(const struct gw_tokens *t, const char *token, size_t len)
{
	if (!t || !token)
		return -1;
	unsigned char h[GW_TOKEN_HASH_LEN];
	hash_token(h, token, len);
	/* Every entry is compared, whichever matches. */
	int found = -1;
	for (size_t i = 0; i < t->n; i++) {
		bool same = sodium_memcmp(t->v[i].hash, h, GW_TOKEN_HASH_LEN) == 0;
		found = same ? (int)i : found;
	}
	return found;
}

const char *gw_tokens_label(const struct gw_tokens *t, int i)
{
	return t->v[i].label;
}

const unsigned char *gw_tokens_hash(const struct gw_tokens *t, int i)
{
	return t->v[i].hash;
}

const char *gw_bearer_token(const char *authorization, size_t *len)
{
	if (!authorization)
		return NULL;
	const char *p = authorization;
	while (*p == ' ' || *p == '\t')
		p++;
	if (strncasecmp(p, "Bearer", 6) != 0 || (p[6] != ' ' && p[6] != '\t'))
		return NULL;
	p += 6;
	while (*p == ' ' || *p == '\t')
		p++;
	size_t n = strcspn(p, " \t");
	if (n == 0 || n > GW_TOKEN_MAX || p[n + strspn(p + n, " \t")] != '\0')
		return NULL;
	*len = n;
	return p;
}
