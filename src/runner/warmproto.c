/* The warm compiler's requests and answers (see warmproto.h). */
#include "runner/warmproto.h"
#include "lib/bytes.h"
#include "lib/util.h"
#include "runner/javawire.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

char *ft_warmproto_request(const struct ft_job_file *files, size_t n, size_t *len)
{
	size_t total = 4;
	if (n > UINT32_MAX)
		goto overflow;
	for (size_t i = 0; i < n; i++) {
		size_t nl = strlen(files[i].name);
		if (nl > UINT32_MAX || files[i].len > UINT32_MAX)
			goto overflow;
		total += 8 + nl + files[i].len;
	}
	char *req = ft_xmalloc(total);
	ft_put_be32(req, (uint32_t)n);
	char *p = req + 4;
	for (size_t i = 0; i < n; i++) {
		const struct ft_job_file *f = &files[i];
		size_t nl = strlen(f->name);
		ft_put_be32(p, (uint32_t)nl);
		memcpy(p + 4, f->name, nl);
		ft_put_be32(p + 4 + nl, (uint32_t)f->len);
		if (f->len)
			memcpy(p + 8 + nl, f->src, f->len);
		p += 8 + nl + f->len;
	}
	*len = total;
	return req;
overflow:
	errno = EOVERFLOW;
	return NULL;
}

static enum ft_warm_answer compile_error(const unsigned char *b, size_t n, struct ft_compiled **ccp,
					 size_t *used)
{
	static const char head[] = FT_WIRE_COMPILE_ERROR_HEAD;
	if (n < 5)
		return FT_WARM_NEED_MORE;
	size_t len = ft_get_be32(b + 1);
	if (n < 5 + len)
		return FT_WARM_NEED_MORE;
	/* Anything else is not the contract's text: the compiler misbehaved. */
	if (len < sizeof(head) - 1 || memcmp(b + 5, head, sizeof(head) - 1) != 0)
		return FT_WARM_MALFORMED;
	*ccp = ft_compiled_new_error((const char *)b + 5, len);
	*used = 5 + len;
	return FT_WARM_COMPILE_ERROR;
}

/* Where the classes answer b[0..n) ends (all of it there, names of a
 * length a class may have): 0 while incomplete, -1 if malformed. */
static long long classes_end(const unsigned char *b, size_t n, uint32_t count)
{
	size_t off = 5;
	for (uint32_t i = 0; i < count; i++) {
		for (int k = 0; k < 2; k++) {
			if (n < off + 4)
				return 0;
			size_t len = ft_get_be32(b + off);
			off += 4;
			if (k == 0 && (len == 0 || len > FT_CLASS_NAME_MAX))
				return -1;
			if (n < off + len)
				return 0;
			off += len;
		}
	}
	return (long long)off;
}

static enum ft_warm_answer classes(const unsigned char *b, size_t n, struct ft_compiled **ccp,
				   size_t *used)
{
	if (n < 5)
		return FT_WARM_NEED_MORE;
	uint32_t count = ft_get_be32(b + 1);
	if (count > FT_WARMPROTO_MAX_CLASSES)
		return FT_WARM_MALFORMED;
	long long end = classes_end(b, n, count);
	if (end <= 0)
		return end < 0 ? FT_WARM_MALFORMED : FT_WARM_NEED_MORE;
	struct ft_compiled *cc = ft_compiled_new_classes(count);
	size_t off = 5;
	for (uint32_t i = 0; i < count; i++) {
		size_t len = ft_get_be32(b + off);
		off += 4;
		/* A name is a path below classes/ (jobdir.h): no NUL in it. */
		if (memchr(b + off, '\0', len)) {
			ft_compiled_unref(cc);
			return FT_WARM_MALFORMED;
		}
		struct ft_class *c = &cc->cls[i];
		c->name = ft_xmemdup(b + off, len);
		off += len;
		len = ft_get_be32(b + off);
		off += 4;
		c->data = ft_xmalloc(len ? len : 1);
		if (len)
			memcpy(c->data, b + off, len);
		c->len = len;
		off += len;
		cc->n = i + 1;
		cc->bytes += len + strlen(c->name);
	}
	*ccp = cc;
	*used = (size_t)end;
	return FT_WARM_CLASSES;
}

enum ft_warm_answer ft_warmproto_parse(const unsigned char *b, size_t n, struct ft_compiled **ccp,
				       size_t *used)
{
	*ccp = NULL;
	*used = 0;
	if (n < 1)
		return FT_WARM_NEED_MORE;
	switch (b[0]) {
	case FT_WIRE_COMPILER_OUT_OF_MEMORY:
		*used = 1;
		return FT_WARM_OUT_OF_MEMORY;
	case FT_WIRE_COMPILER_ERRORS:
		return compile_error(b, n, ccp, used);
	case FT_WIRE_COMPILER_CLASSES:
		return classes(b, n, ccp, used);
	default:
		return FT_WARM_MALFORMED;
	}
}
