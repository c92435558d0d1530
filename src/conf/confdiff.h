/* What a reload changes, key by key: which settings differ between the
 * running configuration and a newly read one, which of them take effect
 * at once (their row says live) and which wait for a restart.
 *
 * Pure: no file, no clock, no log; conf/reload.h does those. */
#ifndef FT_CONF_CONFDIFF_H
#define FT_CONF_CONFDIFF_H

#include <stdbool.h>
#include <stddef.h>

#include "conf/config.h"
#include "conf/settings.h"

enum ft_config_change {
	FT_CHANGE_NONE,	   /* the same value */
	FT_CHANGE_APPLIED, /* live: the running configuration has the new value */
	FT_CHANGE_RESTART, /* differs; the running value is kept until a restart */
};

struct ft_config_changes {
	/* By index in ft_config_settings (ft_config_setting_index). */
	enum ft_config_change setting[FT_CONFIG_N_SETTINGS];
	bool nodes;	/* the node list differs: waits for a restart */
	size_t applied; /* settings applied */
	size_t restart; /* settings, and the node list, waiting for a restart */
};

/* Compares the running configuration cur with next, changing neither:
 * every differing setting is APPLIED if its row is live, else RESTART. */
void ft_config_diff(const struct ft_config *cur, const struct ft_config *next,
		    struct ft_config_changes *ch);

/* ft_config_diff, then the live settings of next copied into cur, the rest
 * of cur kept.  cur still keeps every rule between settings
 * (ft_config_rules): a live value that would break one against a value
 * kept until a restart (limits.worker_slots beyond the running
 * sandbox.uid_count, say) is kept too, and counted as RESTART. */
void ft_config_apply(struct ft_config *cur, const struct ft_config *next,
		     struct ft_config_changes *ch);

/* What waits for a restart, as "label, label, nodes" in table order; ""
 * if nothing does. */
void ft_config_changes_pending(const struct ft_config_changes *ch, char *buf, size_t len);

/* Whether any setting of SECTION ("limits") was applied. */
bool ft_config_changes_applied_in(const struct ft_config_changes *ch, const char *section);

#endif
