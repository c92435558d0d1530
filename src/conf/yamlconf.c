#include "conf/yamlconf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* User text quoted in a message is cut to this many bytes. */
#define SHOWN_MAX 48

struct ft_yconf {
	const struct ft_yconf_schema *schema;
	const char *name;
	const unsigned char *text; /* for positions the parser reports as offsets */
	size_t len;
	yaml_document_t *doc;
	void *out;
	char *err;
	size_t errlen;

	/* Where each value was written: checks made after the walk point there. */
	bool *given;
	yaml_mark_t *where;
	yaml_mark_t *item_where; /* [item * n_item + key] */
	bool list_given;
};

int ft_yconf_fail(struct ft_yconf *ld, yaml_mark_t mark, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!ld->err || ld->errlen == 0)
		return -1;
	n = snprintf(ld->err, ld->errlen, "%s:%zu:%zu: ", ld->name, mark.line + 1, mark.column + 1);
	if (n >= 0 && (size_t)n < ld->errlen) {
		va_start(ap, fmt);
		vsnprintf(ld->err + n, ld->errlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return -1;
}

#define fail ft_yconf_fail

bool ft_yconf_given(const struct ft_yconf *ld, size_t i, yaml_mark_t *where)
{
	*where = ld->where[i];
	return ld->given[i];
}

yaml_mark_t ft_yconf_item_mark(const struct ft_yconf *ld, size_t n, size_t k)
{
	return ld->item_where[n * ld->schema->list.n_item + k];
}

/* Messages are one line, so user text is quoted with control characters
 * masked and cut short. */
static const char *show(const char *s, size_t len, char buf[SHOWN_MAX + 4])
{
	size_t n = len < SHOWN_MAX ? len : SHOWN_MAX;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		buf[i] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
	}
	strcpy(buf + n, len > n ? "..." : "");
	return buf;
}

static const char *scalar_text(const yaml_node_t *n)
{
	return (const char *)n->data.scalar.value;
}

static bool scalar_is(const yaml_node_t *n, const char *s)
{
	size_t len = strlen(s);

	return n->type == YAML_SCALAR_NODE && n->data.scalar.length == len &&
	       memcmp(n->data.scalar.value, s, len) == 0;
}

static bool same_scalar(const yaml_node_t *a, const yaml_node_t *b)
{
	return a->type == YAML_SCALAR_NODE && b->type == YAML_SCALAR_NODE &&
	       a->data.scalar.length == b->data.scalar.length &&
	       memcmp(a->data.scalar.value, b->data.scalar.value, a->data.scalar.length) == 0;
}

static bool is_null(const yaml_node_t *n)
{
	if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	return scalar_is(n, "") || scalar_is(n, "~") || scalar_is(n, "null") ||
	       scalar_is(n, "Null") || scalar_is(n, "NULL");
}

static const char *describe(const yaml_node_t *n)
{
	switch (n->type) {
	case YAML_MAPPING_NODE:
		return "a mapping";
	case YAML_SEQUENCE_NODE:
		return "a sequence";
	case YAML_SCALAR_NODE:
		return is_null(n) ? "an empty value" : "a scalar";
	default:
		return "nothing";
	}
}

#define CORE_TAG_PREFIX "tag:yaml.org,2002:"

/* The loader gives untagged nodes the default tag of their kind; anything
 * else (!!int, !custom) asks for a meaning this format does not have. */
static const char *default_tag(yaml_node_type_t type)
{
	switch (type) {
	case YAML_MAPPING_NODE:
		return YAML_DEFAULT_MAPPING_TAG;
	case YAML_SEQUENCE_NODE:
		return YAML_DEFAULT_SEQUENCE_TAG;
	default:
		return YAML_DEFAULT_SCALAR_TAG;
	}
}

static int get_node(struct ft_yconf *ld, int id, yaml_node_t **out)
{
	yaml_node_t *n = yaml_document_get_node(ld->doc, id);
	char shown[SHOWN_MAX + 4];

	if (!n) {
		yaml_mark_t start = { 0, 0, 0 };
		return fail(ld, start, "internal error: dangling YAML node");
	}
	if (n->tag && strcmp((const char *)n->tag, default_tag(n->type)) != 0) {
		const char *tag = (const char *)n->tag;
		bool core = strncmp(tag, CORE_TAG_PREFIX, strlen(CORE_TAG_PREFIX)) == 0;

		if (core)
			tag += strlen(CORE_TAG_PREFIX);
		return fail(ld, n->start_mark, "YAML tags are not supported (found '%s%s')",
			    core ? "!!" : "", show(tag, strlen(tag), shown));
	}
	*out = n;
	return 0;
}

static const struct ft_setting *find_setting(const struct ft_setting *table, size_t n,
					     const char *section, const yaml_node_t *key)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(table[i].section, section) == 0 && scalar_is(key, table[i].key))
			return &table[i];
	return NULL;
}

static bool is_section(const struct ft_yconf *ld, const char *name, size_t len)
{
	for (size_t i = 0; i < ld->schema->n_settings; i++) {
		const char *sec = ld->schema->settings[i].section;
		if (*sec && strlen(sec) == len && memcmp(sec, name, len) == 0)
			return true;
	}
	return false;
}

/* Fetches pair P of mapping MAP, insisting on a scalar key that did not
 * appear earlier in the same mapping.  WHERE completes "in gossip". */
static int get_pair(struct ft_yconf *ld, yaml_node_t *map, yaml_node_pair_t *p, const char *where,
		    yaml_node_t **key, yaml_node_t **value)
{
	char shown[SHOWN_MAX + 4];
	yaml_node_t *k;

	if (get_node(ld, p->key, &k) || get_node(ld, p->value, value))
		return -1;
	if (k->type != YAML_SCALAR_NODE)
		return fail(ld, k->start_mark, "keys must be scalars, found %s %s", describe(k),
			    where);
	for (yaml_node_pair_t *q = map->data.mapping.pairs.start; q < p; q++) {
		yaml_node_t *prev = yaml_document_get_node(ld->doc, q->key);

		if (prev && same_scalar(prev, k))
			return fail(ld, k->start_mark, "duplicate key '%s' %s (first at line %zu)",
				    show(scalar_text(k), k->data.scalar.length, shown), where,
				    prev->start_mark.line + 1);
	}
	*key = k;
	return 0;
}

/* ---- values ---- */

static const char *kind_noun(enum ft_setting_kind kind)
{
	switch (kind) {
	case FT_SETTING_INT:
	case FT_SETTING_SIZE:
		return "an integer";
	case FT_SETTING_ADDR:
		return "a host:port address";
	case FT_SETTING_ZK_CONNECT:
		return "a host:port list";
	default:
		return "a string";
	}
}

static int set_integer(struct ft_yconf *ld, const struct ft_setting *s, const char *label,
		       void *field, const yaml_node_t *value)
{
	char shown[SHOWN_MAX + 4];
	const char *text = scalar_text(value);
	size_t len = value->data.scalar.length;
	bool overflow;
	long long v;

	if (value->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return fail(ld, value->start_mark, "%s must be an unquoted integer in %lld..%lld",
			    label, s->min, s->max);
	if (!ft_conf_parse_decimal(text, len, &v, &overflow) || overflow || v < s->min ||
	    v > s->max)
		return fail(ld, value->start_mark, "%s must be an integer in %lld..%lld, got '%s'",
			    label, s->min, s->max, show(text, len, shown));
	if (s->kind == FT_SETTING_INT)
		*(int *)field = (int)v;
	else
		*(size_t *)field = (size_t)v;
	return 0;
}

static int set_string(struct ft_yconf *ld, const struct ft_setting *s, const char *label,
		      char *field, const yaml_node_t *value)
{
	char shown[SHOWN_MAX + 4];
	const char *text = scalar_text(value);
	size_t len = value->data.scalar.length;
	const char *why;

	if (is_null(value) || (len == 0 && s->kind != FT_SETTING_TEXT))
		return fail(ld, value->start_mark, "%s must not be empty%s", label,
			    s->kind == FT_SETTING_TEXT ? " (\"\" says none)" : "");
	if (strlen(text) != len)
		return fail(ld, value->start_mark, "%s must not contain NUL characters", label);
	if (s->kind == FT_SETTING_NAME && !ft_conf_is_name(text, len))
		return fail(ld, value->start_mark,
			    "bad %s name '%s': use 1..63 characters from A-Z a-z 0-9 _ -", label,
			    show(text, len, shown));
	if (len >= s->size)
		return fail(ld, value->start_mark, "%s is too long (at most %zu bytes)", label,
			    s->size - 1);
	if (s->kind == FT_SETTING_ZK_CONNECT && (why = ft_conf_zk_connect_check(text)))
		return fail(ld, value->start_mark, "bad %s '%s': %s", label, show(text, len, shown),
			    why);
	memcpy(field, text, len + 1);
	return 0;
}

static int set_addr(struct ft_yconf *ld, const char *label, struct ft_addr *field,
		    const yaml_node_t *value)
{
	char shown[SHOWN_MAX + 4];
	const char *text = scalar_text(value);
	size_t len = value->data.scalar.length;
	const char *why;

	if (is_null(value))
		return fail(ld, value->start_mark, "%s must be a host:port address, not %s", label,
			    describe(value));
	why = strlen(text) != len ? "contains a NUL character" : ft_conf_addr_parse(text, field);
	if (why)
		return fail(ld, value->start_mark, "bad address '%s': %s", show(text, len, shown),
			    why);
	return 0;
}

/* Stores VALUE into the field S describes, inside the structure at BASE. */
static int set_setting(struct ft_yconf *ld, const struct ft_setting *s, void *base,
		       const yaml_node_t *value)
{
	char *field = (char *)base + s->offset;
	char label[80];

	ft_setting_label(s, label, sizeof(label));
	if (value->type != YAML_SCALAR_NODE)
		return fail(ld, value->start_mark, "%s must be %s, not %s", label,
			    kind_noun(s->kind), describe(value));
	switch (s->kind) {
	case FT_SETTING_INT:
	case FT_SETTING_SIZE:
		return set_integer(ld, s, label, field, value);
	case FT_SETTING_ADDR:
		return set_addr(ld, label, (struct ft_addr *)(void *)field, value);
	default:
		return set_string(ld, s, label, field, value);
	}
}

/* ---- structure ---- */

static int set_top_setting(struct ft_yconf *ld, const struct ft_setting *s,
			   const yaml_node_t *value)
{
	size_t i = (size_t)(s - ld->schema->settings);

	if (set_setting(ld, s, ld->out, value))
		return -1;
	ld->given[i] = true;
	ld->where[i] = value->start_mark;
	return 0;
}

static const struct ft_yconf_retired *find_retired(const struct ft_yconf *ld, const char *section,
						   const yaml_node_t *key)
{
	for (size_t i = 0; i < ld->schema->n_retired; i++) {
		const struct ft_yconf_retired *r = &ld->schema->retired[i];
		if (strcmp(r->section, section) == 0 && scalar_is(key, r->key))
			return r;
	}
	return NULL;
}

static int load_section(struct ft_yconf *ld, const char *section, yaml_node_t *map)
{
	const struct ft_yconf_schema *sc = ld->schema;
	char shown[SHOWN_MAX + 4], where[64];

	if (map->type != YAML_MAPPING_NODE)
		return fail(ld, map->start_mark, "%s must be a mapping, not %s", section,
			    describe(map));
	snprintf(where, sizeof(where), "in %s", section);
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
	     p++) {
		const struct ft_yconf_retired *gone;
		const struct ft_setting *s;
		yaml_node_t *key, *value;

		if (get_pair(ld, map, p, where, &key, &value))
			return -1;
		s = find_setting(sc->settings, sc->n_settings, section, key);
		if (!s && (gone = find_retired(ld, section, key)))
			return fail(ld, key->start_mark, "%s", gone->message);
		if (!s)
			return fail(ld, key->start_mark, "unknown key '%s' in %s",
				    show(scalar_text(key), key->data.scalar.length, shown),
				    section);
		if (set_top_setting(ld, s, value))
			return -1;
	}
	return 0;
}

static char *item_at(const struct ft_yconf *ld, size_t n)
{
	const struct ft_yconf_list *l = &ld->schema->list;
	return (char *)ld->out + l->offset + n * l->stride;
}

static size_t *item_count(const struct ft_yconf *ld)
{
	return (size_t *)(void *)((char *)ld->out + ld->schema->list.count_offset);
}

static int check_unique(struct ft_yconf *ld, const struct ft_setting *s, size_t n,
			const yaml_node_t *value)
{
	const struct ft_yconf_list *l = &ld->schema->list;
	int v = *(const int *)(const void *)(item_at(ld, n) + s->offset);

	for (size_t j = 0; j < n; j++) {
		const char *other = item_at(ld, j);
		if (*(const int *)(const void *)(other + s->offset) == v)
			return fail(ld, value->start_mark,
				    "duplicate %s %s %d (first defined at line %d)", l->noun,
				    s->key, v,
				    *(const int *)(const void *)(other + l->line_offset));
	}
	return 0;
}

static int load_item(struct ft_yconf *ld, yaml_node_t *map, size_t n)
{
	const struct ft_yconf_list *l = &ld->schema->list;
	char *item = item_at(ld, n);
	bool have[FT_YCONF_ITEM_KEYS_MAX] = { false };
	char shown[SHOWN_MAX + 4], where[64];

	if (map->type != YAML_MAPPING_NODE)
		return fail(ld, map->start_mark, "a %s must be a mapping, not %s", l->noun,
			    describe(map));
	*(int *)(void *)(item + l->line_offset) = (int)map->start_mark.line + 1;
	snprintf(where, sizeof(where), "in %s", l->noun);
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *key, *value;
		const struct ft_setting *s;
		size_t i;

		if (get_pair(ld, map, p, where, &key, &value))
			return -1;
		s = find_setting(l->item, l->n_item, l->item[0].section, key);
		if (!s)
			return fail(ld, key->start_mark, "unknown key '%s' in %s",
				    show(scalar_text(key), key->data.scalar.length, shown),
				    l->noun);
		if (set_setting(ld, s, item, value))
			return -1;
		i = (size_t)(s - l->item);
		have[i] = true;
		ld->item_where[n * l->n_item + i] = value->start_mark;
		if (l->unique && strcmp(s->key, l->unique) == 0 && check_unique(ld, s, n, value))
			return -1;
	}
	for (size_t i = 0; i < l->n_item; i++)
		if (!have[i])
			return fail(ld, map->start_mark, "%s is missing required key '%s'", l->noun,
				    l->item[i].key);
	return 0;
}

static int load_list(struct ft_yconf *ld, yaml_node_t *seq)
{
	const struct ft_yconf_list *l = &ld->schema->list;
	yaml_node_item_t *items, *top;
	size_t *count = item_count(ld);

	ld->list_given = true;
	if (seq->type != YAML_SEQUENCE_NODE)
		return fail(ld, seq->start_mark, "%s must be a sequence, not %s", l->key,
			    describe(seq));
	items = seq->data.sequence.items.start;
	top = seq->data.sequence.items.top;
	if (items == top)
		return fail(ld, seq->start_mark, "%s must list at least one %s", l->key, l->noun);
	for (yaml_node_item_t *it = items; it < top; it++) {
		yaml_node_t *item;

		if (get_node(ld, *it, &item))
			return -1;
		if (*count == l->max)
			return fail(ld, item->start_mark, "too many %s (at most %zu)", l->key,
				    l->max);
		if (load_item(ld, item, *count))
			return -1;
		(*count)++;
	}
	return 0;
}

static int load_root(struct ft_yconf *ld, yaml_node_t *root)
{
	const struct ft_yconf_schema *sc = ld->schema;
	char shown[SHOWN_MAX + 4];

	if (root->type != YAML_MAPPING_NODE)
		return fail(ld, root->start_mark, "the top level must be a mapping, not %s",
			    describe(root));
	for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *key, *value;
		const struct ft_setting *s;
		const char *name;
		size_t len;

		if (get_pair(ld, root, p, "at top level", &key, &value))
			return -1;
		name = scalar_text(key);
		len = key->data.scalar.length;
		if ((s = find_setting(sc->settings, sc->n_settings, "", key))) {
			if (set_top_setting(ld, s, value))
				return -1;
		} else if (strlen(name) == len && is_section(ld, name, len)) {
			if (load_section(ld, name, value))
				return -1;
		} else if (scalar_is(key, sc->list.key)) {
			if (load_list(ld, value))
				return -1;
		} else {
			return fail(ld, key->start_mark, "unknown key '%s' at top level",
				    show(name, len, shown));
		}
	}
	if (!ld->list_given)
		return fail(ld, root->start_mark, "missing required key '%s'", sc->list.key);
	return 0;
}

/* ---- the document ---- */

/* Reader errors (bad UTF-8, control characters) come as a byte offset, not a
 * mark; count lines and characters the way the scanner would have. */
static yaml_mark_t mark_at_offset(const struct ft_yconf *ld, size_t offset)
{
	yaml_mark_t m = { 0, 0, 0 };

	for (size_t i = 0; i < offset && i < ld->len; i++) {
		unsigned char c = ld->text[i];

		if (c == '\n') {
			m.line++;
			m.column = 0;
		} else if ((c & 0xc0) != 0x80) {
			m.column++;
		}
	}
	m.index = offset;
	return m;
}

static int syntax_error(struct ft_yconf *ld, const yaml_parser_t *parser)
{
	yaml_mark_t mark = parser->problem_mark;
	const char *problem = parser->problem ? parser->problem : "invalid YAML";

	switch (parser->error) {
	case YAML_MEMORY_ERROR:
		return fail(ld, mark, "out of memory");
	case YAML_READER_ERROR:
		return fail(ld, mark_at_offset(ld, parser->problem_offset), "%s", problem);
	default:
		break;
	}
	if (parser->context)
		return fail(ld, mark, "%s (%s at line %zu, column %zu)", problem, parser->context,
			    parser->context_mark.line + 1, parser->context_mark.column + 1);
	return fail(ld, mark, "%s", problem);
}

/* A second document is refused: the file describes exactly one structure,
 * and silently ignoring the rest would hide an editing accident. */
static int check_single_document(struct ft_yconf *ld, yaml_parser_t *parser)
{
	yaml_document_t extra;
	yaml_node_t *root;
	int rc = 0;

	if (!yaml_parser_load(parser, &extra))
		return syntax_error(ld, parser);
	root = yaml_document_get_root_node(&extra);
	if (root)
		rc = fail(ld, extra.start_mark, "only one YAML document is allowed");
	yaml_document_delete(&extra);
	return rc;
}

static int load(struct ft_yconf *ld)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	yaml_node_t *root;
	int rc;

	if (!yaml_parser_initialize(&parser)) {
		yaml_mark_t none = { 0, 0, 0 };
		return fail(ld, none, "out of memory");
	}
	yaml_parser_set_input_string(&parser, ld->text, ld->len);
	if (!yaml_parser_load(&parser, &doc)) {
		rc = syntax_error(ld, &parser);
		yaml_parser_delete(&parser);
		return rc;
	}
	ld->doc = &doc;
	root = yaml_document_get_root_node(&doc);
	if (!root) {
		yaml_mark_t start = { 0, 0, 0 };
		rc = fail(ld, start, "empty configuration ('%s' is required)",
			  ld->schema->list.key);
	} else {
		rc = load_root(ld, root);
	}
	if (rc == 0 && ld->schema->check)
		rc = ld->schema->check(ld, ld->out);
	if (rc == 0)
		rc = check_single_document(ld, &parser);
	ld->doc = NULL;
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	return rc;
}

int ft_yconf_parse(const struct ft_yconf_schema *schema, const char *name, const char *text,
		   size_t len, void *out, char *err, size_t errlen)
{
	const struct ft_yconf_list *l = &schema->list;
	struct ft_yconf ld = {
		.schema = schema,
		.name = name,
		.text = (const unsigned char *)text,
		.len = len,
		.out = out,
		.err = err,
		.errlen = errlen,
	};
	int rc = -1;

	if (l->n_item > FT_YCONF_ITEM_KEYS_MAX) {
		if (err && errlen)
			snprintf(err, errlen, "%s: internal error: too many keys in a %s", name,
				 l->noun);
		return -1;
	}
	/* The item marks are many (one per key of up to max items), so not
	 * on the stack. */
	ld.given = calloc(schema->n_settings, sizeof(*ld.given));
	ld.where = calloc(schema->n_settings, sizeof(*ld.where));
	ld.item_where = calloc(l->max * l->n_item, sizeof(*ld.item_where));
	if (ld.given && ld.where && ld.item_where)
		rc = load(&ld);
	else if (err && errlen)
		snprintf(err, errlen, "%s: out of memory", name);
	free(ld.given);
	free(ld.where);
	free(ld.item_where);
	return rc;
}
