/* Output comparison for judging (judge.h). */
#include "gateway/judge.h"

#include <string.h>

static const char *const names[] = {
	[GW_COMPARE_TRAILING_WHITESPACE] = "trailing_whitespace",
	[GW_COMPARE_EXACT] = "exact",
};

const char *gw_compare_name(enum gw_compare c)
{
	return (unsigned)c < sizeof(names) / sizeof(names[0]) ? names[c] : names[0];
}

int gw_compare_from_name(const char *name)
{
	for (size_t i = 0; name && i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(names[i], name) == 0)
			return (int)i;
	return -1;
}

static bool blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* The next line of p[*i..n) without its trailing blanks: [start, *end);
 * *i moves past its newline.  False at the end. */
static bool next_line(const char *p, size_t n, size_t *i, size_t *start, size_t *end)
{
	if (*i >= n)
		return false;
	*start = *i;
	const char *nl = memchr(p + *i, '\n', n - *i);
	size_t stop = nl ? (size_t)(nl - p) : n;
	*i = nl ? stop + 1 : n;
	while (stop > *start && blank(p[stop - 1]))
		stop--;
	*end = stop;
	return true;
}

/* The length of p without trailing lines that are empty once their
 * blanks are gone. */
static size_t without_trailing_blank_lines(const char *p, size_t n)
{
	while (n > 0 && (p[n - 1] == '\n' || blank(p[n - 1])))
		n--;
	return n;
}

bool gw_output_matches(enum gw_compare c, const char *got, size_t got_len, const char *want,
		       size_t want_len)
{
	if (c == GW_COMPARE_EXACT)
		return got_len == want_len && (got_len == 0 || memcmp(got, want, got_len) == 0);
	got_len = without_trailing_blank_lines(got, got_len);
	want_len = without_trailing_blank_lines(want, want_len);
	size_t gi = 0, wi = 0, gs, ge, ws, we;
	for (;;) {
		bool g = next_line(got, got_len, &gi, &gs, &ge);
		bool w = next_line(want, want_len, &wi, &ws, &we);
		if (!g || !w)
			return g == w;
		if (ge - gs != we - ws || memcmp(got + gs, want + ws, ge - gs) != 0)
			return false;
	}
}
