/* Start-up shared by ftnode and ftgw (conf/daemon.h). */
#include "conf/daemon.h"

#include <signal.h>
#include <stdio.h>

#include "conf/reload.h"
#include "lib/keyring.h"
#include "lib/log.h"
#include "lib/secretfile.h"

#include <sodium.h>

int ft_daemon_load_config(const char *prog, const char *path, struct ft_config *cfg)
{
	char err[512];
	if (ft_config_load(path, cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s: %s\n", prog, err);
		return FT_EXIT_CONFIG;
	}
	if (sodium_init() < 0) {
		fprintf(stderr, "%s: libsodium cannot start\n", prog);
		return FT_EXIT_SETUP;
	}
	/* The keys are part of the configuration: --check-config (every
	 * unit's ExecStartPre) refuses a missing or exposed key file too. */
	struct ft_keyring kr;
	if (ft_keyring_load(&kr, cfg->key_file, cfg->key_file_next, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s: %s\n", prog, err);
		return FT_EXIT_CONFIG;
	}
	ft_keyring_install(&kr);
	ft_keyring_wipe(&kr);
	/* And the ZooKeeper credential, read again by the election. */
	if (cfg->zk_auth_file[0]) {
		char cred[512];
		int rc = ft_secret_credential_read("zookeeper.auth_file", cfg->zk_auth_file, cred,
						   sizeof(cred), err, sizeof(err));
		sodium_memzero(cred, sizeof(cred));
		if (rc < 0) {
			fprintf(stderr, "%s: %s\n", prog, err);
			return FT_EXIT_CONFIG;
		}
	}
	return FT_EXIT_OK;
}

static void log_keys(const char *what, const struct ft_keyring *kr)
{
	char cur[2 * FT_KEY_ID_BYTES + 1], next[2 * FT_KEY_ID_BYTES + 1] = "no other";
	ft_key_id_hex(&kr->current, cur);
	if (kr->has_next)
		ft_key_id_hex(&kr->next, next);
	ft_log_info("%s: speaking cluster key %s, also accepting %s", what, cur, next);
}

/* Keys roll by reload (ftcluster.yaml(5), KEY ROLL): read the files again
 * every time, the paths may be the same and the contents new. */
static void reload_keys(void *ud, const struct ft_config *cfg, const struct ft_config_changes *ch)
{
	(void)ud;
	(void)ch;
	char err[512];
	struct ft_keyring kr;
	if (ft_keyring_load(&kr, cfg->key_file, cfg->key_file_next, err, sizeof(err)) < 0) {
		ft_log_err("%s; keeping the cluster keys in use", err);
		return;
	}
	ft_keyring_install(&kr);
	ft_keyring_wipe(&kr);
	log_keys("cluster keys read again", ft_keyring_active());
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
	log_keys(cfg->key_file, ft_keyring_active());
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
	ft_conf_on_reload(reload_keys, NULL);
	return FT_EXIT_OK;
}
