/* Cluster configuration loader.
 *
 * The file is composed with libyaml's document API so that every value keeps
 * the mark where it was written: all errors, including the semantic ones found
 * after the walk, point at the line and column an operator has to edit.
 *
 * Settings are described by tables rather than code so that the unknown-key,
 * duplicate-key, type and range checks are the same for every key. */
#include "conf/config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#ifdef FT_PKGLIBDIR
#define DEFAULT_LIB_DIR FT_PKGLIBDIR
#else
#define DEFAULT_LIB_DIR "/usr/lib/ftcluster"
#endif

#define COUNT_OF(a) (sizeof(a) / sizeof((a)[0]))
#define FIELD_SIZE(type, member) sizeof(((type *)0)->member)

/* A configuration file is a few kilobytes; refusing huge inputs keeps a
 * mistaken path (a log, a device) from being slurped into memory. */
#define CONFIG_MAX_BYTES (16u * 1024 * 1024)

/* User text quoted in a message is cut to this many bytes. */
#define SHOWN_MAX 48

#define GiB (1024LL * 1024 * 1024)
#define MiB (1024LL * 1024)

enum setting_kind {
	KIND_INT,	 /* int */
	KIND_SIZE,	 /* size_t */
	KIND_STRING,	 /* char[size], non-empty */
	KIND_NAME,	 /* char[size], [A-Za-z0-9_-]{1,63} */
	KIND_ZK_CONNECT, /* char[size], "host:port,...[/chroot]" */
	KIND_ADDR,	 /* struct ft_addr */
};

struct setting {
	const char *section; /* "" for a top-level key */
	const char *key;
	enum setting_kind kind;
	size_t offset; /* into struct ft_config or struct ft_node_conf */
	size_t size;
	long long min, max; /* integers only */
};

#define SETTING(sec, key, kind, type, member, lo, hi)                                    \
	{                                                                                \
		sec, key, kind, offsetof(type, member), FIELD_SIZE(type, member), lo, hi \
	}
#define CFG_INT(sec, key, member, lo, hi) \
	SETTING(sec, key, KIND_INT, struct ft_config, member, lo, hi)
#define CFG_SIZE(sec, key, member, lo, hi) \
	SETTING(sec, key, KIND_SIZE, struct ft_config, member, lo, hi)
#define CFG_OF(kind, sec, key, member) SETTING(sec, key, kind, struct ft_config, member, 0, 0)

static const struct setting config_settings[] = {
	CFG_OF(KIND_NAME, "", "cluster", cluster),

	CFG_OF(KIND_ZK_CONNECT, "zookeeper", "connect", zk_connect),
	CFG_INT("zookeeper", "session_timeout_ms", zk_session_timeout_ms, 1000, 3600000),

	CFG_OF(KIND_ADDR, "gateway", "http", gw_http),
	CFG_OF(KIND_ADDR, "gateway", "gossip", gw_gossip),

	CFG_INT("gossip", "interval_ms", gossip.interval_ms, 1, 60000),
	CFG_INT("gossip", "fail_ms", gossip.fail_ms, 1, 3600000),
	CFG_INT("gossip", "cleanup_ms", gossip.cleanup_ms, 1, 86400000),
	CFG_INT("gossip", "fanout", gossip.fanout, 1, FT_MAX_NODES),
	/* 65507: the largest UDP payload over IPv4. */
	CFG_INT("gossip", "max_datagram_bytes", gossip.max_datagram_bytes, 512, 65507),

	CFG_SIZE("limits", "max_body_bytes", limits.max_body_bytes, 1, GiB),
	CFG_SIZE("limits", "max_frame_bytes", limits.max_frame_bytes, 1, GiB),
	CFG_SIZE("limits", "max_output_bytes", limits.max_output_bytes, 1, GiB),
	CFG_INT("limits", "run_wall_ms", limits.run_wall_ms, 1, 86400000),
	CFG_INT("limits", "compile_wall_ms", limits.compile_wall_ms, 1, 86400000),
	CFG_INT("limits", "run_cpu_ms", limits.run_cpu_ms, 1, 86400000),
	CFG_SIZE("limits", "run_memory_bytes", limits.run_memory_bytes, 64 * MiB, 64 * GiB),
	CFG_SIZE("limits", "compile_memory_bytes", limits.compile_memory_bytes, 64 * MiB, 64 * GiB),
	CFG_INT("limits", "run_max_processes", limits.run_max_processes, 24, 65536),
	CFG_SIZE("limits", "run_max_file_bytes", limits.run_max_file_bytes, 1, GiB),
	CFG_INT("limits", "request_timeout_ms", limits.request_timeout_ms, 1, 86400000),
	CFG_INT("limits", "max_pending_requests", limits.max_pending_requests, 1, 1000000),
	CFG_INT("limits", "cache_entries", limits.cache_entries, 1, 10000000),
	CFG_SIZE("limits", "cache_bytes", limits.cache_bytes, 1,
		 (unsigned long long)SIZE_MAX < 64ULL * GiB ? (long long)(SIZE_MAX / 2) : 64 * GiB),
	CFG_INT("limits", "worker_slots", limits.worker_slots, 1, 1024),
	CFG_INT("limits", "result_keep_ms", limits.result_keep_ms, 1, 604800000),
	CFG_INT("limits", "max_connections", limits.max_connections, 1, 1000000),
	CFG_INT("limits", "connection_timeout_s", limits.connection_timeout_s, 1, 86400),
	CFG_INT("limits", "collect_timeout_ms", limits.collect_timeout_ms, 1, 600000),
	CFG_INT("limits", "stop_drain_ms", limits.stop_drain_ms, 0, 3600000),
	CFG_INT("limits", "election_settle_ms", limits.election_settle_ms, 0, 600000),
	CFG_SIZE("limits", "log_file_max_bytes", limits.log_file_max_bytes, 4096, GiB),
	CFG_INT("limits", "max_files", limits.max_files, 1, 4096),
	CFG_INT("limits", "max_args", limits.max_args, 0, 65536),
	CFG_INT("limits", "result_ttl_ms", limits.result_ttl_ms, 1, 604800000),
	CFG_INT("limits", "max_stored_runs", limits.max_stored_runs, 1, 10000000),
	CFG_INT("limits", "run_attempts", limits.run_attempts, 1, 100),

	CFG_OF(KIND_STRING, "logging", "level", log_level),
	CFG_INT("logging", "rejected_per_second", log_rejected_per_second, 0, 1000000),

	CFG_INT("sandbox", "enabled", sandbox.enabled, 0, 1),
	CFG_OF(KIND_STRING, "sandbox", "bwrap", sandbox.bwrap),
	/* With uid_count at most 65536, the range ends by 2^31 - 1 (uids
	 * beyond are not portable). */
	CFG_INT("sandbox", "uid_first", sandbox.uid_first, 1, 2147418112),
	CFG_INT("sandbox", "uid_count", sandbox.uid_count, 1, 65536),
	CFG_OF(KIND_STRING, "sandbox", "memory", sandbox.memory),

	CFG_OF(KIND_STRING, "paths", "state_dir", state_dir),
	CFG_OF(KIND_STRING, "paths", "log_dir", log_dir),
	CFG_OF(KIND_STRING, "paths", "java", java),
	CFG_OF(KIND_STRING, "paths", "lib_dir", lib_dir),
	CFG_OF(KIND_STRING, "paths", "run_dir", run_dir),
};

#define N_CONFIG_SETTINGS COUNT_OF(config_settings)

/* Every key of a node entry is required. */
static const struct setting node_settings[] = {
	SETTING("node", "id", KIND_INT, struct ft_node_conf, id, 1, 65535),
	SETTING("node", "gossip", KIND_ADDR, struct ft_node_conf, gossip, 0, 0),
	SETTING("node", "work", KIND_ADDR, struct ft_node_conf, work, 0, 0),
	SETTING("node", "http", KIND_ADDR, struct ft_node_conf, http, 0, 0),
};

#define N_NODE_SETTINGS COUNT_OF(node_settings)

struct loader {
	const char *name;
	const unsigned char *text; /* for positions the parser reports as offsets */
	size_t len;
	yaml_document_t *doc;
	struct ft_config *cfg;
	char *err;
	size_t errlen;

	/* Where each value was written: checks made after the walk point there. */
	bool given[N_CONFIG_SETTINGS];
	yaml_mark_t where[N_CONFIG_SETTINGS];
	yaml_mark_t node_where[FT_MAX_NODES][N_NODE_SETTINGS];
	bool nodes_given;
};

static int fail(struct loader *ld, yaml_mark_t mark, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct loader *ld, yaml_mark_t mark, const char *fmt, ...)
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

static void fail_file(char *err, size_t errlen, const char *path, const char *what, int errnum)
{
	if (err && errlen)
		snprintf(err, errlen, "%s: %s: %s", path, what, strerror(errnum));
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

static int get_node(struct loader *ld, int id, yaml_node_t **out)
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

static const struct setting *find_setting(const struct setting *table, size_t n,
					  const char *section, const yaml_node_t *key)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(table[i].section, section) == 0 && scalar_is(key, table[i].key))
			return &table[i];
	return NULL;
}

static bool is_section(const char *name, size_t len)
{
	for (size_t i = 0; i < N_CONFIG_SETTINGS; i++) {
		const char *sec = config_settings[i].section;
		if (*sec && strlen(sec) == len && memcmp(sec, name, len) == 0)
			return true;
	}
	return false;
}

static void setting_label(const struct setting *s, char *buf, size_t cap)
{
	snprintf(buf, cap, "%s%s%s", s->section, *s->section ? "." : "", s->key);
}

/* Fetches pair P of mapping MAP, insisting on a scalar key that did not
 * appear earlier in the same mapping.  WHERE completes "in gossip". */
static int get_pair(struct loader *ld, yaml_node_t *map, yaml_node_pair_t *p, const char *where,
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

static const char *kind_noun(enum setting_kind kind)
{
	switch (kind) {
	case KIND_INT:
	case KIND_SIZE:
		return "an integer";
	case KIND_ADDR:
		return "a host:port address";
	case KIND_ZK_CONNECT:
		return "a host:port list";
	default:
		return "a string";
	}
}

/* Plain decimal only: no sign but '-', no leading zeros (YAML 1.1 would read
 * 010 as octal), no hex, no exponent, no separators. */
static bool parse_decimal(const char *s, size_t len, long long *out, bool *overflow)
{
	size_t i = 0, digits;
	bool negative = false;
	long long v = 0;

	*overflow = false;
	if (len > 0 && s[0] == '-') {
		negative = true;
		i = 1;
	}
	digits = len - i;
	if (digits == 0 || (s[i] == '0' && digits > 1))
		return false;
	for (; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		if (v > (LLONG_MAX - 9) / 10)
			*overflow = true;
		else
			v = v * 10 + (s[i] - '0');
	}
	*out = negative ? -v : v;
	return true;
}

static int set_integer(struct loader *ld, const struct setting *s, const char *label, void *field,
		       const yaml_node_t *value)
{
	char shown[SHOWN_MAX + 4];
	const char *text = scalar_text(value);
	size_t len = value->data.scalar.length;
	bool overflow;
	long long v;

	if (value->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return fail(ld, value->start_mark, "%s must be an unquoted integer in %lld..%lld",
			    label, s->min, s->max);
	if (!parse_decimal(text, len, &v, &overflow) || overflow || v < s->min || v > s->max)
		return fail(ld, value->start_mark, "%s must be an integer in %lld..%lld, got '%s'",
			    label, s->min, s->max, show(text, len, shown));
	if (s->kind == KIND_INT)
		*(int *)field = (int)v;
	else
		*(size_t *)field = (size_t)v;
	return 0;
}

static bool parse_port(const char *s, size_t len, uint16_t *port)
{
	unsigned long v = 0;

	if (len == 0 || len > 5)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v < 1 || v > 65535)
		return false;
	*port = (uint16_t)v;
	return true;
}

/* ft_addr_parse() with the reason for a refusal, or NULL. */
static const char *addr_parse(const char *text, struct ft_addr *out)
{
	char host[INET_ADDRSTRLEN];
	const char *colon = strrchr(text, ':');
	size_t len = strlen(text), hlen;
	struct ft_addr a;
	uint16_t port;

	if (len >= sizeof(a.text))
		return "too long";
	if (!colon)
		return "expected host:port";
	if (!parse_port(colon + 1, len - (size_t)(colon + 1 - text), &port))
		return "port must be 1..65535";

	memset(&a, 0, sizeof(a));
	a.sa.sin_family = AF_INET;
	a.sa.sin_port = htons(port);
	hlen = (size_t)(colon - text);
	if (hlen == 9 && memcmp(text, "localhost", 9) == 0) {
		a.sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	} else {
		/* inet_pton, unlike inet_aton, takes only the four-part decimal form. */
		if (hlen == 0 || hlen >= sizeof(host))
			return "host must be an IPv4 dotted quad or \"localhost\"";
		memcpy(host, text, hlen);
		host[hlen] = '\0';
		if (inet_pton(AF_INET, host, &a.sa.sin_addr) != 1)
			return "host must be an IPv4 dotted quad or \"localhost\"";
	}
	memcpy(a.text, text, len + 1);
	*out = a;
	return NULL;
}

int ft_addr_parse(const char *text, struct ft_addr *out)
{
	if (!text || !out)
		return -1;
	return addr_parse(text, out) ? -1 : 0;
}

/* ZooKeeper's own syntax: "host:port[,host:port...][/chroot]".  Host names
 * are allowed here (the client resolves them); only the shape is checked so
 * a typo fails now rather than as an endless reconnect loop. */
static const char *zk_connect_check(const char *s)
{
	const char *end = strchr(s, '/');
	const char *stop = end ? end : s + strlen(s);

	for (const char *p = s, *next; p <= stop; p = next + 1) {
		const char *colon = NULL;

		next = memchr(p, ',', (size_t)(stop - p));
		if (!next)
			next = stop;
		for (const char *c = p; c < next; c++) {
			if (*c == ' ' || *c == '\t')
				return "no blanks allowed";
			if (*c == ':')
				colon = c;
		}
		if (next == p)
			return "empty entry in the list";
		if (!colon || colon == p)
			return "each entry must be host:port";
		uint16_t port;
		if (!parse_port(colon + 1, (size_t)(next - colon - 1), &port))
			return "port must be 1..65535";
	}
	return NULL;
}

static bool is_cluster_name(const char *s, size_t len)
{
	if (len < 1 || len > 63)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-'))
			return false;
	}
	return true;
}

static int set_string(struct loader *ld, const struct setting *s, const char *label, char *field,
		      const yaml_node_t *value)
{
	char shown[SHOWN_MAX + 4];
	const char *text = scalar_text(value);
	size_t len = value->data.scalar.length;
	const char *why;

	if (is_null(value) || len == 0)
		return fail(ld, value->start_mark, "%s must not be empty", label);
	if (strlen(text) != len)
		return fail(ld, value->start_mark, "%s must not contain NUL characters", label);
	if (s->kind == KIND_NAME && !is_cluster_name(text, len))
		return fail(ld, value->start_mark,
			    "bad cluster name '%s': use 1..63 characters from A-Z a-z 0-9 _ -",
			    show(text, len, shown));
	if (len >= s->size)
		return fail(ld, value->start_mark, "%s is too long (at most %zu bytes)", label,
			    s->size - 1);
	if (s->kind == KIND_ZK_CONNECT && (why = zk_connect_check(text)))
		return fail(ld, value->start_mark, "bad %s '%s': %s", label, show(text, len, shown),
			    why);
	memcpy(field, text, len + 1);
	return 0;
}

static int set_addr(struct loader *ld, const char *label, struct ft_addr *field,
		    const yaml_node_t *value)
{
	char shown[SHOWN_MAX + 4];
	const char *text = scalar_text(value);
	size_t len = value->data.scalar.length;
	const char *why;

	if (is_null(value))
		return fail(ld, value->start_mark, "%s must be a host:port address, not %s", label,
			    describe(value));
	why = strlen(text) != len ? "contains a NUL character" : addr_parse(text, field);
	if (why)
		return fail(ld, value->start_mark, "bad address '%s': %s", show(text, len, shown),
			    why);
	return 0;
}

/* Stores VALUE into the field S describes, inside the structure at BASE. */
static int set_setting(struct loader *ld, const struct setting *s, void *base,
		       const yaml_node_t *value)
{
	char *field = (char *)base + s->offset;
	char label[80];

	setting_label(s, label, sizeof(label));
	if (value->type != YAML_SCALAR_NODE)
		return fail(ld, value->start_mark, "%s must be %s, not %s", label,
			    kind_noun(s->kind), describe(value));
	switch (s->kind) {
	case KIND_INT:
	case KIND_SIZE:
		return set_integer(ld, s, label, field, value);
	case KIND_ADDR:
		return set_addr(ld, label, (struct ft_addr *)(void *)field, value);
	default:
		return set_string(ld, s, label, field, value);
	}
}

/* ---- structure ---- */

static int set_config_setting(struct loader *ld, const struct setting *s, const yaml_node_t *value)
{
	if (set_setting(ld, s, ld->cfg, value))
		return -1;
	ld->given[s - config_settings] = true;
	ld->where[s - config_settings] = value->start_mark;
	return 0;
}

static int load_section(struct loader *ld, const char *section, yaml_node_t *map)
{
	char shown[SHOWN_MAX + 4], where[64];

	if (map->type != YAML_MAPPING_NODE)
		return fail(ld, map->start_mark, "%s must be a mapping, not %s", section,
			    describe(map));
	snprintf(where, sizeof(where), "in %s", section);
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *key, *value;
		const struct setting *s;

		if (get_pair(ld, map, p, where, &key, &value))
			return -1;
		s = find_setting(config_settings, N_CONFIG_SETTINGS, section, key);
		if (!s && strcmp(section, "sandbox") == 0 &&
		    (scalar_is(key, "uid") || scalar_is(key, "gid")))
			return fail(ld, key->start_mark,
				    "sandbox.%s was replaced by sandbox.uid_first and "
				    "sandbox.uid_count: every sandbox runs as a uid of its own",
				    scalar_is(key, "uid") ? "uid" : "gid");
		if (!s)
			return fail(ld, key->start_mark, "unknown key '%s' in %s",
				    show(scalar_text(key), key->data.scalar.length, shown),
				    section);
		if (set_config_setting(ld, s, value))
			return -1;
	}
	return 0;
}

static int check_node_id_unique(struct loader *ld, size_t n, const yaml_node_t *value)
{
	const struct ft_config *c = ld->cfg;

	for (size_t j = 0; j < n; j++)
		if (c->nodes[j].id == c->nodes[n].id)
			return fail(ld, value->start_mark,
				    "duplicate node id %d (first defined at line %d)",
				    c->nodes[n].id, c->nodes[j].line);
	return 0;
}

static int load_node(struct loader *ld, yaml_node_t *map, size_t n)
{
	struct ft_node_conf *node = &ld->cfg->nodes[n];
	bool have[N_NODE_SETTINGS] = { false };
	char shown[SHOWN_MAX + 4];

	if (map->type != YAML_MAPPING_NODE)
		return fail(ld, map->start_mark, "a node must be a mapping, not %s", describe(map));
	node->line = (int)map->start_mark.line + 1;
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *key, *value;
		const struct setting *s;
		size_t i;

		if (get_pair(ld, map, p, "in node", &key, &value))
			return -1;
		s = find_setting(node_settings, N_NODE_SETTINGS, "node", key);
		if (!s)
			return fail(ld, key->start_mark, "unknown key '%s' in node",
				    show(scalar_text(key), key->data.scalar.length, shown));
		if (set_setting(ld, s, node, value))
			return -1;
		i = (size_t)(s - node_settings);
		have[i] = true;
		ld->node_where[n][i] = value->start_mark;
		if (strcmp(s->key, "id") == 0 && check_node_id_unique(ld, n, value))
			return -1;
	}
	for (size_t i = 0; i < N_NODE_SETTINGS; i++)
		if (!have[i])
			return fail(ld, map->start_mark, "node is missing required key '%s'",
				    node_settings[i].key);
	return 0;
}

static int load_nodes(struct loader *ld, yaml_node_t *seq)
{
	yaml_node_item_t *items, *top;

	ld->nodes_given = true;
	if (seq->type != YAML_SEQUENCE_NODE)
		return fail(ld, seq->start_mark, "nodes must be a sequence, not %s", describe(seq));
	items = seq->data.sequence.items.start;
	top = seq->data.sequence.items.top;
	if (items == top)
		return fail(ld, seq->start_mark, "nodes must list at least one node");
	for (yaml_node_item_t *it = items; it < top; it++) {
		yaml_node_t *item;

		if (get_node(ld, *it, &item))
			return -1;
		if (ld->cfg->n_nodes == FT_MAX_NODES)
			return fail(ld, item->start_mark, "too many nodes (at most %d)",
				    FT_MAX_NODES);
		if (load_node(ld, item, ld->cfg->n_nodes))
			return -1;
		ld->cfg->n_nodes++;
	}
	return 0;
}

static int load_root(struct loader *ld, yaml_node_t *root)
{
	char shown[SHOWN_MAX + 4];

	if (root->type != YAML_MAPPING_NODE)
		return fail(ld, root->start_mark, "the top level must be a mapping, not %s",
			    describe(root));
	for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *key, *value;
		const struct setting *s;
		const char *name;
		size_t len;

		if (get_pair(ld, root, p, "at top level", &key, &value))
			return -1;
		name = scalar_text(key);
		len = key->data.scalar.length;
		if ((s = find_setting(config_settings, N_CONFIG_SETTINGS, "", key))) {
			if (set_config_setting(ld, s, value))
				return -1;
		} else if (strlen(name) == len && is_section(name, len)) {
			if (load_section(ld, name, value))
				return -1;
		} else if (scalar_is(key, "nodes")) {
			if (load_nodes(ld, value))
				return -1;
		} else {
			return fail(ld, key->start_mark, "unknown key '%s' at top level",
				    show(name, len, shown));
		}
	}
	if (!ld->nodes_given)
		return fail(ld, root->start_mark, "missing required key 'nodes'");
	return 0;
}

/* ---- checks across settings ---- */

static size_t setting_index(const char *section, const char *key)
{
	for (size_t i = 0; i < N_CONFIG_SETTINGS; i++)
		if (strcmp(config_settings[i].section, section) == 0 &&
		    strcmp(config_settings[i].key, key) == 0)
			return i;
	abort(); /* a typo in this file, not in the configuration */
}

/* Where to point for a rule between two settings: at the first one if the
 * file sets it, else at the second (a default cannot be edited). */
static yaml_mark_t point_at(const struct loader *ld, const char *sec_a, const char *first,
			    const char *sec_b, const char *second)
{
	size_t a = setting_index(sec_a, first), b = setting_index(sec_b, second);
	yaml_mark_t none = { 0, 0, 0 };

	if (ld->given[a])
		return ld->where[a];
	return ld->given[b] ? ld->where[b] : none;
}

static yaml_mark_t rule_mark(const struct loader *ld, const char *section, const char *first,
			     const char *second)
{
	return point_at(ld, section, first, section, second);
}

static yaml_mark_t gossip_mark(const struct loader *ld, const char *first, const char *second)
{
	return rule_mark(ld, "gossip", first, second);
}

/* Room in a frame beyond its payload: the JSON meta (IDs, verdict, the
 * job object's names and arguments). */
#define FRAME_META_ROOM 65536

static int check_frames(struct loader *ld)
{
	const struct ft_limits *l = &ld->cfg->limits;
	unsigned long long frame = l->max_frame_bytes;
	/* A source (or a JSON API run: its files, stdin and arguments all
	 * came in one body) travels in one frame... */
	if (frame < (unsigned long long)l->max_body_bytes + FRAME_META_ROOM)
		return fail(ld, rule_mark(ld, "limits", "max_frame_bytes", "max_body_bytes"),
			    "limits.max_frame_bytes (%llu) must be at least limits.max_body_bytes "
			    "(%zu) + %d, so that every accepted request can be forwarded",
			    frame, l->max_body_bytes, FRAME_META_ROOM);
	/* ...and so does a result: the answer, stdout and stderr. */
	if (frame < 3ULL * l->max_output_bytes + FRAME_META_ROOM)
		return fail(ld, rule_mark(ld, "limits", "max_frame_bytes", "max_output_bytes"),
			    "limits.max_frame_bytes (%llu) must be at least 3 * "
			    "limits.max_output_bytes (%zu) + %d, so that every result (answer, "
			    "stdout, stderr) can be sent back",
			    frame, l->max_output_bytes, FRAME_META_ROOM);
	return 0;
}

static int check_logging(struct loader *ld)
{
	static const char *const levels[] = { "error", "warning", "notice", "info", "debug" };
	for (size_t i = 0; i < COUNT_OF(levels); i++)
		if (strcmp(ld->cfg->log_level, levels[i]) == 0)
			return 0;
	size_t k = setting_index("logging", "level");
	return fail(ld, ld->where[k],
		    "logging.level must be one of error, warning, notice, info, debug; got '%s'",
		    ld->cfg->log_level);
}

static int check_sandbox(struct loader *ld)
{
	static const char *const modes[] = { "auto", "cgroup2", "cgroup1", "rlimit" };
	const struct ft_sandbox_settings *sb = &ld->cfg->sandbox;
	/* A node holds a uid per running job, one for its pre-started JVM and
	 * one for its warm compiler. */
	long long need = (long long)ld->cfg->limits.worker_slots + 2;
	if (sb->uid_count < need)
		return fail(
			ld, point_at(ld, "sandbox", "uid_count", "limits", "worker_slots"),
			"sandbox.uid_count (%d) must be at least limits.worker_slots + 2 (%lld): "
			"every sandbox of a node runs as a uid of its own",
			sb->uid_count, need);
	for (size_t i = 0; i < COUNT_OF(modes); i++)
		if (strcmp(sb->memory, modes[i]) == 0)
			return 0;
	size_t k = setting_index("sandbox", "memory");
	return fail(ld, ld->where[k],
		    "sandbox.memory must be one of auto, cgroup2, cgroup1, rlimit; got '%s'",
		    ld->cfg->sandbox.memory);
}

static int check_gossip(struct loader *ld)
{
	const struct ft_gossip_conf *g = &ld->cfg->gossip;

	/* A member must miss at least two heartbeats before it is called failed. */
	if ((long long)g->fail_ms <= 2LL * g->interval_ms)
		return fail(ld, gossip_mark(ld, "fail_ms", "interval_ms"),
			    "gossip.fail_ms (%d) must be greater than 2 * gossip.interval_ms (%d)",
			    g->fail_ms, g->interval_ms);
	if (g->cleanup_ms < g->fail_ms)
		return fail(ld, gossip_mark(ld, "cleanup_ms", "fail_ms"),
			    "gossip.cleanup_ms (%d) must be at least gossip.fail_ms (%d)",
			    g->cleanup_ms, g->fail_ms);
	return 0;
}

struct endpoint {
	const struct ft_addr *addr;
	const char *role;
	int node_id; /* -1: the gateway */
	bool given;
	yaml_mark_t mark;
	size_t seq; /* keeps equal positions in collection order */
};

/* Defaults first, then in file order, so the later of two clashing endpoints
 * is the one reported. */
static int endpoint_cmp(const void *pa, const void *pb)
{
	const struct endpoint *a = pa, *b = pb;
	size_t ia = a->given ? a->mark.index + 1 : 0, ib = b->given ? b->mark.index + 1 : 0;

	if (ia != ib)
		return ia < ib ? -1 : 1;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static void describe_endpoint(const struct endpoint *e, char *buf, size_t cap)
{
	char owner[32], place[32];

	if (e->node_id < 0)
		snprintf(owner, sizeof(owner), "gateway");
	else
		snprintf(owner, sizeof(owner), "node %d", e->node_id);
	if (e->given)
		snprintf(place, sizeof(place), "line %zu", e->mark.line + 1);
	else
		snprintf(place, sizeof(place), "default");
	snprintf(buf, cap, "%s %s ('%s', %s)", owner, e->role, e->addr->text, place);
}

static void add_endpoint(struct endpoint *eps, size_t *n, const struct ft_addr *addr,
			 const char *role, int node_id, bool given, yaml_mark_t mark)
{
	eps[*n] = (struct endpoint){ addr, role, node_id, given, mark, *n };
	(*n)++;
}

static int check_endpoints(struct loader *ld)
{
	const struct ft_config *c = ld->cfg;
	size_t gw_http = setting_index("gateway", "http");
	size_t gw_gossip = setting_index("gateway", "gossip");
	struct endpoint *eps = malloc((2 + N_NODE_SETTINGS * c->n_nodes) * sizeof(*eps));
	size_t n = 0;
	int rc = 0;

	if (!eps) {
		yaml_mark_t none = { 0, 0, 0 };
		return fail(ld, none, "out of memory");
	}
	add_endpoint(eps, &n, &c->gw_http, "http", -1, ld->given[gw_http], ld->where[gw_http]);
	add_endpoint(eps, &n, &c->gw_gossip, "gossip", -1, ld->given[gw_gossip],
		     ld->where[gw_gossip]);
	for (size_t i = 0; i < c->n_nodes; i++) {
		const struct ft_node_conf *node = &c->nodes[i];

		for (size_t k = 0; k < N_NODE_SETTINGS; k++) {
			const struct setting *s = &node_settings[k];
			const void *field = (const char *)node + s->offset;

			if (s->kind == KIND_ADDR)
				add_endpoint(eps, &n, field, s->key, node->id, true,
					     ld->node_where[i][k]);
		}
	}
	qsort(eps, n, sizeof(*eps), endpoint_cmp);

	for (size_t i = 0; i < n && rc == 0; i++) {
		for (size_t j = 0; j < i; j++) {
			const struct sockaddr_in *a = &eps[i].addr->sa, *b = &eps[j].addr->sa;
			char other[160];

			if (a->sin_addr.s_addr != b->sin_addr.s_addr || a->sin_port != b->sin_port)
				continue;
			describe_endpoint(&eps[j], other, sizeof(other));
			rc = fail(ld, eps[i].mark, "endpoint '%s' is already used by %s",
				  eps[i].addr->text, other);
			break;
		}
	}
	free(eps);
	return rc;
}

/* ---- entry points ---- */

static void set_defaults(struct ft_config *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->cluster, sizeof(c->cluster), "ftcluster");
	snprintf(c->zk_connect, sizeof(c->zk_connect), "127.0.0.1:2181");
	c->zk_session_timeout_ms = 2000;
	ft_addr_parse("127.0.0.1:8888", &c->gw_http);
	ft_addr_parse("127.0.0.1:7000", &c->gw_gossip);

	c->gossip.interval_ms = 200;
	c->gossip.fail_ms = 2000;
	c->gossip.cleanup_ms = 10000;
	c->gossip.fanout = 2;
	c->gossip.max_datagram_bytes = 8192;

	c->limits.max_body_bytes = 1048576;
	c->limits.max_frame_bytes = 4194304;
	c->limits.max_output_bytes = 1048576;
	c->limits.run_wall_ms = 10000;
	c->limits.compile_wall_ms = 30000;
	c->limits.run_cpu_ms = 10000;
	c->limits.run_memory_bytes = 256 * MiB;
	c->limits.compile_memory_bytes = 512 * MiB;
	c->limits.run_max_processes = 64;
	c->limits.run_max_file_bytes = 16 * MiB;
	c->sandbox.enabled = 1;
	snprintf(c->sandbox.bwrap, sizeof(c->sandbox.bwrap), "/usr/bin/bwrap");
	c->sandbox.uid_first = FT_DEFAULT_SANDBOX_UID_FIRST;
	c->sandbox.uid_count = FT_DEFAULT_SANDBOX_UID_COUNT;
	snprintf(c->sandbox.memory, sizeof(c->sandbox.memory), "auto");
	c->limits.request_timeout_ms = 60000;
	c->limits.max_pending_requests = 1024;
	c->limits.cache_entries = 1024;
	c->limits.cache_bytes = 67108864;
	c->limits.worker_slots = 2;
	c->limits.result_keep_ms = 600000;
	c->limits.max_connections = 512;
	c->limits.connection_timeout_s = 30;
	c->limits.collect_timeout_ms = 500;
	c->limits.stop_drain_ms = 3000;
	c->limits.election_settle_ms = 1000;
	c->limits.log_file_max_bytes = 16u << 20;
	c->limits.max_files = 64;
	c->limits.max_args = 256;
	c->limits.result_ttl_ms = 600000;
	c->limits.max_stored_runs = 10000;
	c->limits.run_attempts = 3;
	snprintf(c->log_level, sizeof(c->log_level), "info");
	c->log_rejected_per_second = 10;

	snprintf(c->state_dir, sizeof(c->state_dir), "/var/lib/ftcluster");
	snprintf(c->log_dir, sizeof(c->log_dir), "/var/log/ftcluster");
	snprintf(c->java, sizeof(c->java), "/usr/bin/java");
	snprintf(c->lib_dir, sizeof(c->lib_dir), "%s", DEFAULT_LIB_DIR);
	snprintf(c->run_dir, sizeof(c->run_dir), "/run/ftcluster");
}

/* Reader errors (bad UTF-8, control characters) come as a byte offset, not a
 * mark; count lines and characters the way the scanner would have. */
static yaml_mark_t mark_at_offset(const struct loader *ld, size_t offset)
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

static int syntax_error(struct loader *ld, const yaml_parser_t *parser)
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

/* A second document is refused: the file describes exactly one cluster, and
 * silently ignoring the rest would hide an editing accident. */
static int check_single_document(struct loader *ld, yaml_parser_t *parser)
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

static int load(struct loader *ld)
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
		rc = fail(ld, start, "empty configuration ('nodes' is required)");
	} else {
		rc = load_root(ld, root);
	}
	if (rc == 0)
		rc = check_endpoints(ld);
	if (rc == 0)
		rc = check_gossip(ld);
	if (rc == 0)
		rc = check_frames(ld);
	if (rc == 0)
		rc = check_logging(ld);
	if (rc == 0)
		rc = check_sandbox(ld);
	if (rc == 0)
		rc = check_single_document(ld, &parser);
	ld->doc = NULL;
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	return rc;
}

int ft_config_parse(const char *name, const char *text, size_t len, struct ft_config *out,
		    char *err, size_t errlen)
{
	struct loader *ld;
	int rc;

	if (!name)
		name = "(config)";
	if (!text) {
		text = "";
		len = 0;
	}
	if (err && errlen)
		err[0] = '\0';
	set_defaults(out);
	snprintf(out->path, sizeof(out->path), "%s", name);

	/* The marks table is large (FT_MAX_NODES entries), so not on the stack. */
	ld = calloc(1, sizeof(*ld));
	if (!ld) {
		if (err && errlen)
			snprintf(err, errlen, "%s: out of memory", name);
		return -1;
	}
	ld->name = name;
	ld->text = (const unsigned char *)text;
	ld->len = len;
	ld->cfg = out;
	ld->err = err;
	ld->errlen = errlen;
	rc = load(ld);
	free(ld);
	return rc;
}

/* Whole file into memory: the parser then reports positions the same way for
 * a file as for a buffer. */
static char *read_file(const char *path, size_t *lenp, char *err, size_t errlen)
{
	size_t len = 0, cap = 8192;
	char *buf;
	FILE *f = fopen(path, "rb");

	if (!f) {
		fail_file(err, errlen, path, "cannot open", errno);
		return NULL;
	}
	buf = malloc(cap);
	while (buf) {
		size_t got;

		if (len == cap) {
			char *bigger = realloc(buf, cap * 2);

			if (!bigger)
				break;
			buf = bigger;
			cap *= 2;
		}
		got = fread(buf + len, 1, cap - len, f);
		len += got;
		if (len > CONFIG_MAX_BYTES) {
			if (err && errlen)
				snprintf(err, errlen, "%s: larger than %u bytes", path,
					 CONFIG_MAX_BYTES);
			goto fail;
		}
		if (got > 0)
			continue;
		if (ferror(f)) {
			fail_file(err, errlen, path, "cannot read", errno);
			goto fail;
		}
		fclose(f);
		*lenp = len;
		return buf;
	}
	fail_file(err, errlen, path, "cannot read", ENOMEM);
fail:
	free(buf);
	fclose(f);
	return NULL;
}

int ft_config_load(const char *path, struct ft_config *out, char *err, size_t errlen)
{
	size_t len;
	char *text;
	int rc;

	if (strlen(path) >= sizeof(out->path)) {
		if (err && errlen)
			snprintf(err, errlen, "%s: path too long", path);
		return -1;
	}
	text = read_file(path, &len, err, errlen);
	if (!text)
		return -1;
	rc = ft_config_parse(path, text, len, out, err, errlen);
	free(text);
	return rc;
}

const struct ft_node_conf *ft_config_node(const struct ft_config *c, int id)
{
	for (size_t i = 0; i < c->n_nodes; i++)
		if (c->nodes[i].id == id)
			return &c->nodes[i];
	return NULL;
}
