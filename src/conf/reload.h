/* Live reload (SIGHUP): which settings may change in a running daemon.
 * Limits change live; identity and topology (cluster, ZooKeeper, addresses,
 * gossip timing, paths) need a restart, and the daemon says which. */
#ifndef FT_RELOAD_H
#define FT_RELOAD_H

#include <stddef.h>
#include <systemd/sd-event.h>

#include "conf/config.h"

/* Re-read cur->path.  On success copies the live settings into *cur, writes
 * into note the settings that changed but need a restart ("" if none), and
 * returns 0.  On a bad file returns -1 with the parser's message in note and
 * leaves *cur untouched. */
int ft_config_reload(struct ft_config *cur, char *note, size_t notelen);

/* SIGHUP handler for a daemon's loop (userdata: its struct ft_config):
 * reload, log the outcome, apply the log level, tell systemd. */
int ft_reload_on_sighup(sd_event_source *s, const struct signalfd_siginfo *si, void *ud);

#endif
