/* One row of a settings table, and the value syntaxes the rows use.
 *
 * A table describes a structure's settings: where each one lives in the
 * structure, what it must look like, its default and whether a running
 * daemon can take a new value (live) or needs a restart.  Parsing
 * (conf/yamlconf.h), defaults, comparison and copying all go through the
 * rows, so no setting has a rule, a default or a reload policy written
 * anywhere else.  Nothing here knows which settings ftcluster has
 * (conf/settings.h) or how YAML is read. */
#ifndef FT_CONF_SCHEMA_H
#define FT_CONF_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>

#include "conf/config.h"

enum ft_setting_kind {
	FT_SETTING_INT,	       /* int, in min..max */
	FT_SETTING_SIZE,       /* size_t, in min..max */
	FT_SETTING_STRING,     /* char[size], non-empty */
	FT_SETTING_TEXT,       /* char[size], may be empty ("" in the file): "none" */
	FT_SETTING_NAME,       /* char[size], [A-Za-z0-9_-]{1,63} */
	FT_SETTING_ZK_CONNECT, /* char[size], "host:port,...[/chroot]" */
	FT_SETTING_ADDR,       /* struct ft_addr */
};

/* What a running daemon does with a new value on reload (SIGHUP). */
enum ft_setting_reload {
	FT_RELOAD_RESTART, /* read once at start: a change waits for a restart */
	FT_RELOAD_LIVE,	   /* read where it is used, or handed on: applied at once */
};

struct ft_setting {
	const char *section; /* "" for a top-level key */
	const char *key;
	enum ft_setting_kind kind;
	size_t offset;	      /* of the field in the structure the table describes */
	size_t size;	      /* of the field */
	long long min, max;   /* integers only */
	long long def;	      /* integers: the default */
	const char *def_text; /* strings and addresses: the default; NULL: required */
	enum ft_setting_reload reload;
};

/* "section.key", or "key" at the top level. */
void ft_setting_label(const struct ft_setting *s, char *buf, size_t cap);

/* The row of TABLE for section and key, or NULL. */
const struct ft_setting *ft_setting_find(const struct ft_setting *table, size_t n,
					 const char *section, const char *key);

/* Writes the row's default into the structure at BASE.  -1 (and nothing
 * written) when the default is not a value the row accepts: a mistake in
 * the table, which its unit test catches. */
int ft_setting_set_default(const struct ft_setting *s, void *base);

/* Whether the field holds the same value in the structures at A and B
 * (addresses compare as written, as the operator sees them). */
bool ft_setting_equal(const struct ft_setting *s, const void *a, const void *b);

/* Copies the field from the structure at SRC to the one at DST. */
void ft_setting_copy(const struct ft_setting *s, void *dst, const void *src);

/* ---- value syntaxes (NULL or true: accepted) ---- */

/* Plain decimal only: digits with an optional '-', no leading zeros (YAML
 * 1.1 would read 010 as octal), no '+', hex, exponent or separators.
 * *overflow is set when the digits do not fit a long long. */
bool ft_conf_parse_decimal(const char *s, size_t len, long long *out, bool *overflow);

/* ft_addr_parse() with the reason for a refusal, or NULL. */
const char *ft_conf_addr_parse(const char *text, struct ft_addr *out);

/* ZooKeeper's "host:port[,host:port...][/chroot]"; the reason it is not. */
const char *ft_conf_zk_connect_check(const char *s);

/* 1..63 characters from A-Z a-z 0-9 _ -. */
bool ft_conf_is_name(const char *s, size_t len);

#endif
