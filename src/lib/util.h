/* Small helpers shared by every daemon. */
#ifndef FT_UTIL_H
#define FT_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FT_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Milliseconds of CLOCK_MONOTONIC: intervals, timeouts, ages. */
int64_t ft_now_ms(void);
/* Milliseconds since the Unix epoch: incarnations and "node time" in logs. */
int64_t ft_wall_ms(void);

/* Allocation that cannot fail quietly: aborts with a message on OOM, so
 * callers do not grow untested error paths for a condition the daemon
 * cannot survive anyway. */
void *ft_xmalloc(size_t n);
void *ft_xcalloc(size_t n, size_t m);
void *ft_xrealloc(void *p, size_t n);
char *ft_xstrdup(const char *s);
void *ft_xmemdup(const void *p, size_t n);
char *ft_xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *ft_xvasprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

/* Write a message into a caller's error buffer; err may be NULL. */
void ft_set_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

int ft_set_nonblock(int fd);
/* mkdir -p with mode; 0 or -1 (errno set). */
int ft_mkdir_p(const char *path, unsigned mode);

/* Growable byte buffer. */
struct ft_buf {
	char *data;
	size_t len;
	size_t cap;
};
void ft_buf_append(struct ft_buf *b, const void *p, size_t n);
/* Grows b by n bytes, left for the caller to write at the pointer. */
void *ft_buf_extend(struct ft_buf *b, size_t n);
void ft_buf_printf(struct ft_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ft_buf_consume(struct ft_buf *b, size_t n);
void ft_buf_free(struct ft_buf *b);

/* xorshift random, seeded from getrandom(); good enough to pick gossip targets. */
uint32_t ft_random(void *unused);

/* UTF-8: the length (1 to 4) of the well-formed character at p[0..n), n >
 * 0, or 0 if it is not one (a stray or missing continuation byte, an
 * overlong form, a surrogate, beyond U+10FFFF, cut short by n). */
size_t ft_utf8_char_len(const char *p, size_t n);
/* Whether all of p[0..n) is well-formed UTF-8. */
bool ft_utf8_valid(const char *p, size_t n);

/* FNV-1a, 64 bits: a fast hash of trusted bytes (keys chosen by clients
 * want a keyed hash: gateway/cache.c).  h: FT_FNV1A64_OFFSET_BASIS, or
 * what an earlier call returned (to go on). */
#define FT_FNV1A64_OFFSET_BASIS 14695981039346656037ULL /* 0xcbf29ce484222325 */
#define FT_FNV1A64_PRIME 1099511628211ULL
uint64_t ft_fnv1a64(uint64_t h, const void *p, size_t n);

#endif
