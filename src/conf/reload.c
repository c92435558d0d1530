#include "conf/reload.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "lib/sdnotify.h"
#include "lib/util.h"

static struct {
	ft_reload_fn fn;
	void *ud;
} listeners[FT_RELOAD_LISTENERS_MAX];

int ft_conf_on_reload(ft_reload_fn fn, void *ud)
{
	for (size_t i = 0; i < FT_RELOAD_LISTENERS_MAX; i++) {
		if (!listeners[i].fn) {
			listeners[i].fn = fn;
			listeners[i].ud = ud;
			return 0;
		}
	}
	return -1;
}

void ft_conf_on_reload_remove(ft_reload_fn fn, void *ud)
{
	for (size_t i = 0; i < FT_RELOAD_LISTENERS_MAX; i++) {
		if (listeners[i].fn == fn && listeners[i].ud == ud) {
			listeners[i].fn = NULL;
			listeners[i].ud = NULL;
			return;
		}
	}
}

int ft_config_reload(struct ft_config *cur, struct ft_config_changes *ch, char *note,
		     size_t notelen)
{
	struct ft_config *next = ft_xmalloc(sizeof(*next));

	note[0] = '\0';
	if (ft_config_load(cur->path, next, note, notelen) < 0) {
		free(next);
		return -1;
	}
	ft_config_apply(cur, next, ch);
	ft_config_changes_pending(ch, note, notelen);
	free(next);
	return 0;
}

int ft_reload_on_sighup(sd_event_source *s, const struct signalfd_siginfo *si, void *ud)
{
	struct ft_config *cfg = ud;
	struct ft_config_changes ch;
	/* Room for every label of the table. */
	char note[2048];

	ft_sd_reloading();
	if (ft_config_reload(cfg, &ch, note, sizeof(note)) < 0) {
		ft_log_err("reload refused, keeping the running configuration: %s", note);
	} else {
		for (size_t i = 0; i < FT_RELOAD_LISTENERS_MAX; i++)
			if (listeners[i].fn)
				listeners[i].fn(listeners[i].ud, cfg, &ch);
		if (note[0])
			ft_log_warn("reloaded %s; changes to %s take effect only after a restart",
				    cfg->path, note);
		else
			ft_log_notice("reloaded %s", cfg->path);
	}
	ft_log_set_level(ft_log_level_from_name(cfg->log_level));
	ft_log_set_rejected_rate(cfg->log_rejected_per_second);
	ft_sd_ready();
	return 0;
}
