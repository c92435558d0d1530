/* Cluster configuration: ftcluster.yaml read with the settings tables
 * (conf/settings.h) by the table-driven loader (conf/yamlconf.h), then the
 * checks that need to know where each value was written: no two endpoints
 * the same, and the rules between settings. */
#include "conf/config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/settings.h"
#include "conf/yamlconf.h"

/* A configuration file is a few kilobytes; refusing huge inputs keeps a
 * mistaken path (a log, a device) from being slurped into memory. */
#define CONFIG_MAX_BYTES (16u * 1024 * 1024)

static const struct ft_yconf_retired retired_keys[] = {
	{ "sandbox", "uid",
	  "sandbox.uid was replaced by sandbox.uid_first and sandbox.uid_count: every sandbox "
	  "runs as a uid of its own" },
	{ "sandbox", "gid",
	  "sandbox.gid was replaced by sandbox.uid_first and sandbox.uid_count: every sandbox "
	  "runs as a uid of its own" },
};

/* ---- checks across settings ---- */

/* Where to point for a rule between two settings: at the first one if the
 * file sets it, else at the second (a default cannot be edited). */
static yaml_mark_t point_at(const struct ft_yconf *ld, const char *first, const char *second)
{
	yaml_mark_t a, b, none = { 0, 0, 0 };

	if (ft_yconf_given(ld, ft_config_setting_index(first), &a))
		return a;
	return ft_yconf_given(ld, ft_config_setting_index(second), &b) ? b : none;
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

static void add_gateway_endpoint(struct endpoint *eps, size_t *n, const struct ft_addr *addr,
				 const char *role, const struct ft_yconf *ld)
{
	char label[32];
	yaml_mark_t mark;

	snprintf(label, sizeof(label), "gateway.%s", role);
	bool given = ft_yconf_given(ld, ft_config_setting_index(label), &mark);
	add_endpoint(eps, n, addr, role, -1, given, mark);
}

static int check_endpoints(struct ft_yconf *ld, const struct ft_config *c)
{
	struct endpoint *eps = malloc((2 + FT_NODE_N_SETTINGS * c->n_nodes) * sizeof(*eps));
	size_t n = 0;
	int rc = 0;

	if (!eps) {
		yaml_mark_t none = { 0, 0, 0 };
		return ft_yconf_fail(ld, none, "out of memory");
	}
	add_gateway_endpoint(eps, &n, &c->gw_http, "http", ld);
	add_gateway_endpoint(eps, &n, &c->gw_gossip, "gossip", ld);
	for (size_t i = 0; i < c->n_nodes; i++) {
		const struct ft_node_conf *node = &c->nodes[i];

		for (size_t k = 0; k < FT_NODE_N_SETTINGS; k++) {
			const struct ft_setting *s = &ft_node_settings[k];
			const void *field = (const char *)node + s->offset;

			if (s->kind == FT_SETTING_ADDR)
				add_endpoint(eps, &n, field, s->key, node->id, true,
					     ft_yconf_item_mark(ld, i, k));
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
			rc = ft_yconf_fail(ld, eps[i].mark, "endpoint '%s' is already used by %s",
					   eps[i].addr->text, other);
			break;
		}
	}
	free(eps);
	return rc;
}

static int check_config(struct ft_yconf *ld, void *out)
{
	const struct ft_config *c = out;
	const struct ft_config_rule *broken;
	char msg[512];

	if (check_endpoints(ld, c))
		return -1;
	broken = ft_config_broken_rule(c, msg, sizeof(msg));
	if (broken)
		return ft_yconf_fail(ld, point_at(ld, broken->first, broken->second), "%s", msg);
	return 0;
}

static const struct ft_yconf_schema config_schema = {
	.settings = ft_config_settings,
	.n_settings = FT_CONFIG_N_SETTINGS,
	.retired = retired_keys,
	.n_retired = sizeof(retired_keys) / sizeof(retired_keys[0]),
	.list = {
		.key = "nodes",
		.noun = "node",
		.item = ft_node_settings,
		.n_item = FT_NODE_N_SETTINGS,
		.unique = "id",
		.max = FT_MAX_NODES,
		.offset = offsetof(struct ft_config, nodes),
		.stride = sizeof(struct ft_node_conf),
		.count_offset = offsetof(struct ft_config, n_nodes),
		.line_offset = offsetof(struct ft_node_conf, line),
	},
	.check = check_config,
};

/* ---- entry points ---- */

int ft_config_parse(const char *name, const char *text, size_t len, struct ft_config *out,
		    char *err, size_t errlen)
{
	if (!name)
		name = "(config)";
	if (!text) {
		text = "";
		len = 0;
	}
	if (err && errlen)
		err[0] = '\0';
	ft_config_defaults(out);
	snprintf(out->path, sizeof(out->path), "%s", name);
	return ft_yconf_parse(&config_schema, name, text, len, out, err, errlen);
}

static void fail_file(char *err, size_t errlen, const char *path, const char *what, int errnum)
{
	if (err && errlen)
		snprintf(err, errlen, "%s: %s: %s", path, what, strerror(errnum));
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
