#include "conf/reload.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "lib/sdnotify.h"
#include "lib/util.h"

static void note_if(char *note, size_t len, int differs, const char *what)
{
	if (!differs)
		return;
	size_t used = strlen(note);
	snprintf(note + used, len - used, "%s%s", used ? ", " : "", what);
}

static int nodes_differ(const struct ft_config *a, const struct ft_config *b)
{
	if (a->n_nodes != b->n_nodes)
		return 1;
	for (size_t i = 0; i < a->n_nodes; i++) {
		const struct ft_node_conf *x = &a->nodes[i], *y = &b->nodes[i];
		if (x->id != y->id || strcmp(x->gossip.text, y->gossip.text) ||
		    strcmp(x->work.text, y->work.text) || strcmp(x->http.text, y->http.text))
			return 1;
	}
	return 0;
}

int ft_config_reload(struct ft_config *cur, char *note, size_t notelen)
{
	struct ft_config *next = ft_xmalloc(sizeof(*next));
	note[0] = '\0';
	if (ft_config_load(cur->path, next, note, notelen) < 0) {
		free(next);
		return -1;
	}
	note_if(note, notelen, strcmp(cur->cluster, next->cluster) != 0, "cluster");
	note_if(note, notelen,
		strcmp(cur->zk_connect, next->zk_connect) != 0 ||
			cur->zk_session_timeout_ms != next->zk_session_timeout_ms,
		"zookeeper");
	note_if(note, notelen,
		strcmp(cur->gw_http.text, next->gw_http.text) != 0 ||
			strcmp(cur->gw_gossip.text, next->gw_gossip.text) != 0,
		"gateway");
	note_if(note, notelen, memcmp(&cur->gossip, &next->gossip, sizeof(cur->gossip)) != 0,
		"gossip");
	note_if(note, notelen,
		strcmp(cur->state_dir, next->state_dir) || strcmp(cur->log_dir, next->log_dir) ||
			strcmp(cur->java, next->java) || strcmp(cur->lib_dir, next->lib_dir),
		"paths");
	note_if(note, notelen, nodes_differ(cur, next), "nodes");
	note_if(note, notelen,
		cur->limits.max_body_bytes != next->limits.max_body_bytes ||
			cur->limits.max_connections != next->limits.max_connections ||
			cur->limits.connection_timeout_s != next->limits.connection_timeout_s,
		"limits of the HTTP server");
	/* Sized or handed to components at start. */
	note_if(note, notelen,
		cur->limits.cache_entries != next->limits.cache_entries ||
			cur->limits.cache_bytes != next->limits.cache_bytes ||
			cur->limits.max_frame_bytes != next->limits.max_frame_bytes ||
			cur->limits.run_wall_ms != next->limits.run_wall_ms ||
			cur->limits.max_output_bytes != next->limits.max_output_bytes,
		"limits.cache_*, max_frame_bytes, run_wall_ms, max_output_bytes");
	cur->limits = next->limits;
	memcpy(cur->log_level, next->log_level, sizeof(cur->log_level));
	cur->log_rejected_per_second = next->log_rejected_per_second;
	free(next);
	return 0;
}

int ft_reload_on_sighup(sd_event_source *s, const struct signalfd_siginfo *si, void *ud)
{
	struct ft_config *cfg = ud;
	char note[512];
	ft_sd_reloading();
	if (ft_config_reload(cfg, note, sizeof(note)) < 0)
		ft_log_err("reload refused, keeping the running configuration: %s", note);
	else if (note[0])
		ft_log_warn("reloaded %s; changes to %s take effect only after a restart",
			    cfg->path, note);
	else
		ft_log_notice("reloaded %s", cfg->path);
	ft_log_set_level(ft_log_level_from_name(cfg->log_level));
	ft_log_set_rejected_rate(cfg->log_rejected_per_second);
	ft_sd_ready();
	return 0;
}
