/* A table-driven YAML loader: one document, a mapping of settings (at the
 * top level or in sections), and one list of mappings (ftcluster's nodes),
 * read into a structure as the tables (conf/schema.h) describe it.
 *
 * The document is composed with libyaml's document API so that every value
 * keeps the mark where it was written: every error, the checks between
 * settings made after the walk included, is one line
 * "name:line:column: message" pointing at what an operator has to edit.
 * The unknown-key, duplicate-key, type and range checks are the same for
 * every key, because they are made from the rows. */
#ifndef FT_CONF_YAMLCONF_H
#define FT_CONF_YAMLCONF_H

#include <stdbool.h>
#include <stddef.h>
#include <yaml.h>

#include "conf/schema.h"

/* A key that no longer exists, refused with what replaced it. */
struct ft_yconf_retired {
	const char *section, *key;
	const char *message;
};

/* The top-level list: required, 1..max mappings, each with every key of
 * its table (at most FT_YCONF_ITEM_KEYS_MAX). */
#define FT_YCONF_ITEM_KEYS_MAX 16
struct ft_yconf_list {
	const char *key;  /* "nodes" */
	const char *noun; /* one item, in messages: "node" */
	const struct ft_setting *item;
	size_t n_item;
	const char *unique; /* an integer key no two items may share, or NULL */
	size_t max;
	size_t offset;	     /* of the item array in the structure */
	size_t stride;	     /* of one item */
	size_t count_offset; /* size_t: items read */
	size_t line_offset;  /* int in an item: the line where it starts */
};

struct ft_yconf;

struct ft_yconf_schema {
	const struct ft_setting *settings;
	size_t n_settings;
	const struct ft_yconf_retired *retired;
	size_t n_retired;
	struct ft_yconf_list list;
	/* Checks made after the walk, before a second document is looked
	 * for: 0, or -1 from ft_yconf_fail. */
	int (*check)(struct ft_yconf *ld, void *out);
};

/* Reads TEXT (LEN bytes, need not be terminated) into the structure at
 * OUT, which the caller has filled with the defaults.  On failure returns
 * -1 and writes "name:line:column: message" into err (within errlen; err
 * may be NULL). */
int ft_yconf_parse(const struct ft_yconf_schema *schema, const char *name, const char *text,
		   size_t len, void *out, char *err, size_t errlen);

/* For the checks: the message, at MARK; returns -1. */
int ft_yconf_fail(struct ft_yconf *ld, yaml_mark_t mark, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Whether the file set settings[i]; *where is where (a zero mark if not). */
bool ft_yconf_given(const struct ft_yconf *ld, size_t i, yaml_mark_t *where);

/* Where key K of list item N was written. */
yaml_mark_t ft_yconf_item_mark(const struct ft_yconf *ld, size_t n, size_t k);

#endif
