/* Live reload (SIGHUP): the file is read again and compared key by key
 * (conf/confdiff.h); what its row marks live takes effect at once, the
 * rest is named in the log as needing a restart and the running value is
 * kept.  Parts of a daemon that were handed values at start (the runner's
 * limits) are told through a listener. */
#ifndef FT_RELOAD_H
#define FT_RELOAD_H

#include <stddef.h>
#include <systemd/sd-event.h>

#include "conf/config.h"
#include "conf/confdiff.h"

/* Re-read cur->path.  On success applies the live settings to *cur
 * (ft_config_apply), fills *ch, writes into note the settings that changed
 * but need a restart ("" if none), and returns 0.  On a bad file returns
 * -1 with the parser's message in note and leaves *cur untouched. */
int ft_config_reload(struct ft_config *cur, struct ft_config_changes *ch, char *note,
		     size_t notelen);

/* Called after every reload that was not refused, on the loop thread:
 * cfg is the running configuration, the applied changes in it. */
typedef void (*ft_reload_fn)(void *ud, const struct ft_config *cfg,
			     const struct ft_config_changes *ch);

#define FT_RELOAD_LISTENERS_MAX 8

/* Adds a listener; -1 when FT_RELOAD_LISTENERS_MAX are there already. */
int ft_conf_on_reload(ft_reload_fn fn, void *ud);
/* Removes the listener added with this fn and ud, if there is one. */
void ft_conf_on_reload_remove(ft_reload_fn fn, void *ud);

/* SIGHUP handler for a daemon's loop (userdata: its struct ft_config):
 * reload, tell the listeners, log the outcome, apply the log level and
 * rate, tell systemd. */
int ft_reload_on_sighup(sd_event_source *s, const struct signalfd_siginfo *si, void *ud);

#endif
