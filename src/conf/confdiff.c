#include "conf/confdiff.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"

/* Node entries compare as written; where in the file they are does not
 * matter. */
static bool nodes_differ(const struct ft_config *a, const struct ft_config *b)
{
	if (a->n_nodes != b->n_nodes)
		return true;
	for (size_t i = 0; i < a->n_nodes; i++)
		for (size_t k = 0; k < FT_NODE_N_SETTINGS; k++)
			if (!ft_setting_equal(&ft_node_settings[k], &a->nodes[i], &b->nodes[i]))
				return true;
	return false;
}

void ft_config_diff(const struct ft_config *cur, const struct ft_config *next,
		    struct ft_config_changes *ch)
{
	memset(ch, 0, sizeof(*ch));
	for (size_t i = 0; i < FT_CONFIG_N_SETTINGS; i++) {
		const struct ft_setting *s = &ft_config_settings[i];

		if (ft_setting_equal(s, cur, next))
			continue;
		if (s->reload == FT_RELOAD_LIVE) {
			ch->setting[i] = FT_CHANGE_APPLIED;
			ch->applied++;
		} else {
			ch->setting[i] = FT_CHANGE_RESTART;
			ch->restart++;
		}
	}
	ch->nodes = nodes_differ(cur, next);
	if (ch->nodes)
		ch->restart++;
}

/* Puts setting I of merged back to its running value, if it was to be
 * applied.  Whether it was. */
static bool hold_back(struct ft_config *merged, const struct ft_config *cur,
		      struct ft_config_changes *ch, size_t i)
{
	if (ch->setting[i] != FT_CHANGE_APPLIED)
		return false;
	ft_setting_copy(&ft_config_settings[i], merged, cur);
	ch->setting[i] = FT_CHANGE_RESTART;
	ch->applied--;
	ch->restart++;
	return true;
}

void ft_config_apply(struct ft_config *cur, const struct ft_config *next,
		     struct ft_config_changes *ch)
{
	struct ft_config *merged = ft_xmalloc(sizeof(*merged));
	const struct ft_config_rule *broken;
	char msg[512];

	ft_config_diff(cur, next, ch);
	memcpy(merged, cur, sizeof(*merged));
	for (size_t i = 0; i < FT_CONFIG_N_SETTINGS; i++)
		if (ch->setting[i] == FT_CHANGE_APPLIED)
			ft_setting_copy(&ft_config_settings[i], merged, next);
	/* cur kept every rule and only applied values differ from it, so each
	 * broken rule has one to hold back: the loop ends. */
	while ((broken = ft_config_broken_rule(merged, msg, sizeof(msg)))) {
		bool held = hold_back(merged, cur, ch, ft_config_setting_index(broken->first));
		held |= hold_back(merged, cur, ch, ft_config_setting_index(broken->second));
		if (!held)
			break;
	}
	if (!broken) {
		memcpy(cur, merged, sizeof(*cur));
	} else {
		/* Not reached (see above); if it were, cur stays whole. */
		for (size_t i = 0; i < FT_CONFIG_N_SETTINGS; i++)
			hold_back(merged, cur, ch, i);
	}
	free(merged);
}

static void append(char *buf, size_t len, const char *what)
{
	size_t used = strlen(buf);

	if (used < len)
		snprintf(buf + used, len - used, "%s%s", used ? ", " : "", what);
}

void ft_config_changes_pending(const struct ft_config_changes *ch, char *buf, size_t len)
{
	char label[80];

	if (len == 0)
		return;
	buf[0] = '\0';
	for (size_t i = 0; i < FT_CONFIG_N_SETTINGS; i++) {
		if (ch->setting[i] != FT_CHANGE_RESTART)
			continue;
		ft_setting_label(&ft_config_settings[i], label, sizeof(label));
		append(buf, len, label);
	}
	if (ch->nodes)
		append(buf, len, "nodes");
}

bool ft_config_changes_applied_in(const struct ft_config_changes *ch, const char *section)
{
	for (size_t i = 0; i < FT_CONFIG_N_SETTINGS; i++)
		if (ch->setting[i] == FT_CHANGE_APPLIED &&
		    strcmp(ft_config_settings[i].section, section) == 0)
			return true;
	return false;
}
