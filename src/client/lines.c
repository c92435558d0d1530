#include "client/lines.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

void ftctl_lines_free(struct ftctl_lines *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

void ftctl_lines_split(const char *text, struct ftctl_lines *out)
{
	const char *p = text;
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		out->v = realloc(out->v, (out->n + 1) * sizeof(char *));
		out->v[out->n++] = strndup(p, n);
		p += n + (nl ? 1 : 0);
	}
}

size_t ftctl_lines_resume_at(const struct ftctl_lines *now, const struct ftctl_lines *seen)
{
	size_t k = seen->n;
	if (k == 0)
		return 0;
	for (size_t end = now->n; end >= k; end--) {
		bool same = true;
		for (size_t i = 0; same && i < k; i++)
			same = strcmp(now->v[end - k + i], seen->v[i]) == 0;
		if (same)
			return end;
	}
	return 0;
}

void ftctl_lines_remember(struct ftctl_lines *seen, const struct ftctl_lines *now)
{
	ftctl_lines_free(seen);
	size_t from = now->n > FTCTL_KEEP_LINES ? now->n - FTCTL_KEEP_LINES : 0;
	for (size_t i = from; i < now->n; i++) {
		seen->v = realloc(seen->v, (seen->n + 1) * sizeof(char *));
		seen->v[seen->n++] = strdup(now->v[i]);
	}
}
