/* The gateway's API tokens (gateway.tokens_file): which bearer tokens may
 * use the API, each with a label for the logs.
 *
 * The file has one token a line, optionally followed by whitespace and a
 * label (the rest of the line); blank lines and lines whose first
 * non-blank character is '#' are ignored.  A token is 16 to 256
 * characters of RFC 6750's b64token alphabet (A-Z a-z 0-9 - . _ ~ + /,
 * then any '='): shorter ones could be guessed.  A token listed twice is
 * refused (a copy-paste mistake that would give two labels one token).
 *
 * Only the tokens' SHA-256 is kept, and a presented token is compared
 * with every one of them in constant time (sodium_memcmp, no early exit),
 * so the time of an answer says nothing about how close a guess was.
 *
 * gw_tokens_parse is pure (unit-tested, tests/unit/check_gwaccess.c);
 * gw_tokens_load reads the file and refuses one that others can read. */
#ifndef FT_GATEWAY_TOKENS_H
#define FT_GATEWAY_TOKENS_H

#include <stddef.h>

#define GW_TOKEN_MIN 16
#define GW_TOKEN_MAX 256
#define GW_TOKEN_LABEL_MAX 64
#define GW_TOKEN_HASH_LEN 32
/* Larger files are refused: they are not a list of tokens. */
#define GW_TOKENS_FILE_MAX (1024 * 1024)

struct gw_tokens;

/* The tokens of text; name (the file's path) starts every message.  NULL
 * on a malformed line, with "name:line: what is wrong" in err (which
 * never shows the token). */
struct gw_tokens *gw_tokens_parse(const char *name, const char *text, size_t len, char *err,
				  size_t errlen);

/* Reads and parses path.  NULL with the reason in err when it cannot be
 * read, is larger than GW_TOKENS_FILE_MAX, can be read or written by its
 * group or by others (chmod 600), or does not parse. */
struct gw_tokens *gw_tokens_load(const char *path, char *err, size_t errlen);

void gw_tokens_free(struct gw_tokens *t);

size_t gw_tokens_count(const struct gw_tokens *t);

/* The index of the token presented (len bytes), or -1 if none is. */
int gw_tokens_find(const struct gw_tokens *t, const char *token, size_t len);

/* Token i's label: the file's, or "line N" when it gave none. */
const char *gw_tokens_label(const struct gw_tokens *t, int i);

/* Token i's SHA-256 (GW_TOKEN_HASH_LEN bytes): a key that names it
 * without holding it (its rate-limit bucket). */
const unsigned char *gw_tokens_hash(const struct gw_tokens *t, int i);

/* The token of an Authorization header "Bearer <token>" (scheme without
 * regard to case, spaces around allowed), with its length in *len; NULL
 * when the header is NULL, of another scheme, or has no token. */
const char *gw_bearer_token(const char *authorization, size_t *len);

#endif
