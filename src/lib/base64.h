/* Base64 (RFC 4648, with padding), as the JSON API and Judge0's clients
 * use it for bytes that need not be UTF-8: sources, stdin, program output.
 * libsodium's codec underneath. */
#ifndef FT_BASE64_H
#define FT_BASE64_H

#include <stddef.h>

/* p[0..n) as base64, malloc'd and NUL-terminated; *len (if not NULL) its
 * length. */
char *ft_base64_encode(const void *p, size_t n, size_t *len);

/* The bytes of text[0..n), malloc'd with a NUL after them, *len their
 * count; line breaks and spaces between the characters are ignored (some
 * encoders wrap lines).  NULL if text is not base64. */
char *ft_base64_decode(const char *text, size_t n, size_t *len);

#endif
