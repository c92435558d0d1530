/* Base64 with libsodium (lib/base64.h). */
#include "lib/base64.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"

char *ft_base64_encode(const void *p, size_t n, size_t *len)
{
	size_t cap = sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_ORIGINAL);
	char *out = ft_xmalloc(cap);
	sodium_bin2base64(out, cap, p, n, sodium_base64_VARIANT_ORIGINAL);
	if (len)
		*len = cap - 1;
	return out;
}

char *ft_base64_decode(const char *text, size_t n, size_t *len)
{
	/* At most 3 bytes per 4 characters (whitespace only makes it less). */
	size_t cap = n / 4 * 3 + 3;
	char *out = ft_xmalloc(cap + 1);
	size_t got = 0;
	const char *end = NULL;
	/* libsodium looks ignored characters up with strchr, which finds a
	 * NUL in any list: refuse it here. */
	if (memchr(text, '\0', n)) {
		free(out);
		return NULL;
	}
	if (sodium_base642bin((unsigned char *)out, cap, text, n, " \t\r\n", &got, &end,
			      sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    end != text + n) {
		free(out);
		return NULL;
	}
	out[got] = '\0';
	*len = got;
	return out;
}
