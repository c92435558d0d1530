/* What a compilation produced, held in memory: the class files, or the
 * contract's compile error text.  Built by the warm compiler's answer
 * (warmproto.h), kept by the class cache (classcache.h), written into a job
 * directory (jobdir.h).  Shared by reference count, since a cached entry
 * and the jobs it serves hold the same one. */
#ifndef FT_COMPILED_H
#define FT_COMPILED_H

#include <stdbool.h>
#include <stddef.h>

/* The longest binary name of a class the runner accepts. */
#define FT_CLASS_NAME_MAX 2048

/* One class file. */
struct ft_class {
	char *name; /* binary name: pkg.Outer$Inner */
	unsigned char *data;
	size_t len;
};

struct ft_compiled {
	int refs;
	bool ok;
	char *body; /* !ok: the compile error body, NUL-terminated */
	size_t body_len;
	struct ft_class *cls; /* ok: n class files */
	size_t n;
	size_t bytes; /* memory held, for the cache's bound */
};

/* A compile error: body[0..len) copied.  One reference. */
struct ft_compiled *ft_compiled_new_error(const char *body, size_t len);
/* Room for n classes (cls zeroed, n still 0: the caller fills and counts
 * them).  One reference. */
struct ft_compiled *ft_compiled_new_classes(size_t n);

/* cc may be NULL (then NULL is returned). */
struct ft_compiled *ft_compiled_ref(struct ft_compiled *cc);
/* Frees cc with its last reference; NULL is ignored. */
void ft_compiled_unref(struct ft_compiled *cc);

#endif
