/* Start-up shared by ftnode and ftgw (conf/daemon.h). */
#include "conf/daemon.h"

#include <signal.h>
#include <stdio.h>

#include "conf/reload.h"
#include "lib/log.h"

int ft_daemon_load_config(const char *prog, const char *path, struct ft_config *cfg)
{
	char err[512];
	if (ft_config_load(path, cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s: %s\n", prog, err);
		return FT_EXIT_CONFIG;
	}
	return FT_EXIT_OK;
}

void ft_daemon_config_ok(const char *path, const struct ft_config *cfg)
{
	printf("%s: configuration OK (%zu nodes)\n", path, cfg->n_nodes);
}

int ft_daemon_start(const struct ft_daemon *d, struct ft_config *cfg, sd_event **ev)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (ft_log_open(d->name, d->member_id, d->log_dir, cfg->limits.log_file_max_bytes) < 0)
		return FT_EXIT_SETUP;
	ft_log_set_level(ft_log_level_from_name(cfg->log_level));
	ft_log_set_rejected_rate(cfg->log_rejected_per_second);
	/* Signals become events of the loop; SIGCHLD too where the loop
	 * waits for children (sd_event_add_child needs it blocked). */
	sigset_t ss;
	sigemptyset(&ss);
	sigaddset(&ss, SIGTERM);
	sigaddset(&ss, SIGINT);
	sigaddset(&ss, SIGHUP);
	if (d->children)
		sigaddset(&ss, SIGCHLD);
	sigprocmask(SIG_BLOCK, &ss, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (sd_event_default(ev) < 0)
		return FT_EXIT_SETUP;
	sd_event_add_signal(*ev, NULL, SIGTERM, d->on_stop, d->ud);
	sd_event_add_signal(*ev, NULL, SIGINT, d->on_stop, d->ud);
	sd_event_add_signal(*ev, NULL, SIGHUP, ft_reload_on_sighup, cfg);
	return FT_EXIT_OK;
}
