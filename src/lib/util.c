#include "lib/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>

static int64_t clock_ms(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t ft_now_ms(void)
{
	return clock_ms(CLOCK_MONOTONIC);
}

int64_t ft_wall_ms(void)
{
	return clock_ms(CLOCK_REALTIME);
}

static void *oom(size_t n)
{
	fprintf(stderr, "fatal: out of memory allocating %zu bytes\n", n);
	abort();
}

void *ft_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	return p ? p : oom(n);
}

void *ft_xcalloc(size_t n, size_t m)
{
	void *p = calloc(n ? n : 1, m ? m : 1);
	return p ? p : oom(n * m);
}

void *ft_xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	return q ? q : oom(n);
}

char *ft_xstrdup(const char *s)
{
	return ft_xmemdup(s, strlen(s) + 1);
}

void *ft_xmemdup(const void *p, size_t n)
{
	void *q = ft_xmalloc(n + 1);
	if (n)
		memcpy(q, p, n);
	((char *)q)[n] = '\0';
	return q;
}

char *ft_xvasprintf(const char *fmt, va_list ap)
{
	char *s;
	return vasprintf(&s, fmt, ap) < 0 ? oom(0) : s;
}

char *ft_xasprintf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s = ft_xvasprintf(fmt, ap);
	va_end(ap);
	return s;
}

void ft_set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	if (!err || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

int ft_set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0)
		return -1;
	return fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

int ft_mkdir_p(const char *path, unsigned mode)
{
	char tmp[1024];
	size_t len = strlen(path);
	if (len == 0 || len >= sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(tmp, path, len + 1);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, mode) < 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(tmp, mode) < 0 && errno != EEXIST)
		return -1;
	return 0;
}

static void buf_reserve(struct ft_buf *b, size_t extra)
{
	if (b->len + extra + 1 <= b->cap)
		return;
	size_t cap = b->cap ? b->cap : 256;
	while (cap < b->len + extra + 1)
		cap *= 2;
	b->data = ft_xrealloc(b->data, cap);
	b->cap = cap;
}

void ft_buf_append(struct ft_buf *b, const void *p, size_t n)
{
	buf_reserve(b, n);
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void *ft_buf_extend(struct ft_buf *b, size_t n)
{
	buf_reserve(b, n);
	void *at = b->data + b->len;
	b->len += n;
	b->data[b->len] = '\0';
	return at;
}

void ft_buf_printf(struct ft_buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	buf_reserve(b, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void ft_buf_consume(struct ft_buf *b, size_t n)
{
	if (n >= b->len) {
		b->len = 0;
	} else {
		memmove(b->data, b->data + n, b->len - n);
		b->len -= n;
	}
	if (b->data)
		b->data[b->len] = '\0';
}

void ft_buf_free(struct ft_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

uint32_t ft_random(void *unused)
{
	static uint64_t state;
	(void)unused;
	if (state == 0) {
		if (getrandom(&state, sizeof(state), 0) != sizeof(state) || state == 0)
			state = (uint64_t)ft_wall_ms() | 1;
	}
	state ^= state << 13;
	state ^= state >> 7;
	state ^= state << 17;
	return (uint32_t)(state >> 32);
}

size_t ft_utf8_char_len(const char *p, size_t n)
{
	static const uint32_t min[] = { 0, 0, 0x80, 0x800, 0x10000 };
	const unsigned char *s = (const unsigned char *)p;
	unsigned c = s[0];
	size_t k = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
	if (k == 0 || k > n)
		return 0;
	if (k == 1)
		return 1;
	uint32_t cp = c & (0x7Fu >> k);
	for (size_t j = 1; j < k; j++) {
		if ((s[j] & 0xC0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[j] & 0x3F);
	}
	return cp >= min[k] && cp <= 0x10FFFF && !(cp >= 0xD800 && cp <= 0xDFFF) ? k : 0;
}

bool ft_utf8_valid(const char *p, size_t n)
{
	for (size_t i = 0, k; i < n; i += k)
		if ((k = ft_utf8_char_len(p + i, n - i)) == 0)
			return false;
	return true;
}

uint64_t ft_fnv1a64(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;
	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * FT_FNV1A64_PRIME;
	return h;
}
