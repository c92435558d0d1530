/* ftcluster's settings: the one table of every key of ftcluster.yaml, with
 * its default, its bounds and whether a running daemon takes a new value
 * at once (reload, SIGHUP) or needs a restart; the table of a node's keys;
 * and the rules between settings that a configuration must keep.
 *
 * Pure: no file, no YAML.  conf/config.c reads files with these tables,
 * conf/confdiff.c compares configurations with them. */
#ifndef FT_CONF_SETTINGS_H
#define FT_CONF_SETTINGS_H

#include <stddef.h>

#include "conf/config.h"
#include "conf/schema.h"

#define FT_CONFIG_N_SETTINGS 86
#define FT_NODE_N_SETTINGS 4

/* Every key but the nodes', in the order the documentation lists them. */
extern const struct ft_setting ft_config_settings[FT_CONFIG_N_SETTINGS];

/* A node's keys (section "node"): all required, none reloads. */
extern const struct ft_setting ft_node_settings[FT_NODE_N_SETTINGS];

/* Index in ft_config_settings of "section.key" ("cluster" at the top
 * level).  A label not in the table is a mistake in the code: abort(). */
size_t ft_config_setting_index(const char *label);

/* Fills *c with the defaults of the table: every setting, no node. */
void ft_config_defaults(struct ft_config *c);

/* A rule between settings (or a rule on one that its row cannot say). */
struct ft_config_rule {
	/* The settings it is about, as labels.  A message points at the
	 * first if the file sets it, else at the second: a default cannot
	 * be edited where it is. */
	const char *first, *second;
	/* 0 if c keeps the rule; else -1 and the message (without position)
	 * in msg. */
	int (*check)(const struct ft_config *c, char *msg, size_t len);
};

/* Every rule, in the order they are checked (and so reported). */
extern const struct ft_config_rule ft_config_rules[];
extern const size_t ft_config_n_rules;

/* The first rule c breaks, with its message in msg; NULL if c keeps all. */
const struct ft_config_rule *ft_config_broken_rule(const struct ft_config *c, char *msg,
						   size_t len);

#endif
