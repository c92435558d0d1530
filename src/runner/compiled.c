/* Compiled classes in memory (see compiled.h). */
#include "runner/compiled.h"
#include "lib/util.h"

#include <stdlib.h>
#include <string.h>

struct ft_compiled *ft_compiled_new_error(const char *body, size_t len)
{
	struct ft_compiled *cc = ft_xcalloc(1, sizeof(*cc));
	cc->refs = 1;
	cc->body = ft_xmemdup(body, len);
	cc->body_len = len;
	cc->bytes = len;
	return cc;
}

struct ft_compiled *ft_compiled_new_classes(size_t n)
{
	struct ft_compiled *cc = ft_xcalloc(1, sizeof(*cc));
	cc->refs = 1;
	cc->ok = true;
	cc->cls = ft_xcalloc(n ? n : 1, sizeof(*cc->cls));
	return cc;
}

struct ft_compiled *ft_compiled_ref(struct ft_compiled *cc)
{
	if (cc)
		cc->refs++;
	return cc;
}

void ft_compiled_unref(struct ft_compiled *cc)
{
	if (!cc || --cc->refs > 0)
		return;
	for (size_t i = 0; i < cc->n; i++) {
		free(cc->cls[i].name);
		free(cc->cls[i].data);
	}
	free(cc->cls);
	free(cc->body);
	free(cc);
}
