/* What every daemon of the cluster does the same way at start and stop:
 * named exit statuses, the configuration read (or only checked) from the
 * command line's file, the log sinks opened at the configured level, and
 * the event loop with SIGTERM/SIGINT (the daemon's own stop) and SIGHUP
 * (reload) as events of the loop. */
#ifndef FT_CONF_DAEMON_H
#define FT_CONF_DAEMON_H

#include <stdbool.h>
#include <systemd/sd-event.h>

#include "conf/config.h"

#ifndef FT_SYSCONFDIR
#define FT_SYSCONFDIR "/etc"
#endif
#define FT_DEFAULT_CONFIG FT_SYSCONFDIR "/ftcluster/ftcluster.yaml"

/* Named exit statuses: an operator can tell from the status which path
 * failed (see ftnode(8), ftgw(8)). */
enum {
	FT_EXIT_OK = 0,
	FT_EXIT_CONFIG = 2,
	FT_EXIT_USAGE = 64,
	FT_EXIT_SETUP = 71,
};

/* Reads path into cfg; on failure says "prog: file:line:column: what" on
 * stderr and returns FT_EXIT_CONFIG, else FT_EXIT_OK. */
int ft_daemon_load_config(const char *prog, const char *path, struct ft_config *cfg);

/* --check-config's answer, on stdout. */
void ft_daemon_config_ok(const char *path, const struct ft_config *cfg);

struct ft_daemon {
	const char *name;		   /* "ftnode", "ftgw": the journal's identifier */
	int member_id;			   /* in log lines */
	const char *log_dir;		   /* this member's heartbeat log directory */
	bool children;			   /* runs child processes: SIGCHLD goes to the loop */
	sd_event_signal_handler_t on_stop; /* SIGTERM and SIGINT */
	void *ud;
};

/* Opens the logs (level and rejected-datagram rate as configured), blocks
 * the signals the loop handles, ignores SIGPIPE, and creates the loop with
 * the stop and reload (SIGHUP: conf/reload.h, reloading cfg) handlers.
 * FT_EXIT_OK and *ev, or FT_EXIT_SETUP. */
int ft_daemon_start(const struct ft_daemon *d, struct ft_config *cfg, sd_event **ev);

#endif
