#include "gossip/gossip.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"

struct peer {
	int id;
	struct sockaddr_in sa;
};

struct ft_gossip {
	sd_event *ev;
	sd_event_source *io, *timer;
	int fd;
	int self_id;
	int interval_ms;
	size_t fanout;
	size_t max_datagram;
	struct ft_membership *table;
	struct peer *peers; /* every configured member, self included */
	size_t n_peers;
	int *allowed;
	ft_gossip_event_fn fn;
	void *ud;
	struct ft_gossip_stats stats;
	struct ft_gossip_msg msg; /* scratch, large: kept off the stack */
	uint8_t *buf;
};

static const struct peer *peer_by_id(const struct ft_gossip *g, int id)
{
	for (size_t i = 0; i < g->n_peers; i++)
		if (g->peers[i].id == id)
			return &g->peers[i];
	return NULL;
}

static void log_event(const struct ft_member_event_info *ev)
{
	int64_t t = ft_wall_ms();
	switch (ev->type) {
	case FT_EV_JOINED:
		ft_hb_joined(ev->peer, ev->incarnation, ev->src);
		ft_hb_updated(ev->peer, ev->heartbeat, ev->src, t);
		break;
	case FT_EV_UPDATED:
		ft_hb_updated(ev->peer, ev->heartbeat, ev->src, t);
		break;
	case FT_EV_FAILED:
		if (ev->src == ev->peer || ev->src < 0)
			ft_hb_failed(ev->peer, ev->incarnation);
		else
			ft_hb_heard_failed(ev->peer, ev->incarnation, ev->src);
		break;
	case FT_EV_REJOINED:
		ft_hb_rejoined(ev->peer, ev->incarnation, ev->src);
		ft_hb_updated(ev->peer, ev->heartbeat, ev->src, t);
		break;
	case FT_EV_CLEANUP:
		ft_hb_cleanup(ev->peer);
		break;
	case FT_EV_SELF_REJOIN:
		ft_hb_self_rejoin(ev->incarnation);
		break;
	}
}

static void on_member_event(void *ud, const struct ft_member_event_info *ev)
{
	struct ft_gossip *g = ud;
	struct ft_member_event_info e = *ev;
	/* The table reports local detection with src = self; the log wants
	 * "no heartbeat from server X" for those. */
	if (e.type == FT_EV_FAILED && e.src == g->self_id)
		e.src = e.peer;
	log_event(&e);
	if (g->fn)
		g->fn(g->ud, ev);
}

static void send_to(struct ft_gossip *g, const struct peer *p, const uint8_t *buf, size_t len)
{
	if (sendto(g->fd, buf, len, 0, (const struct sockaddr *)&p->sa, sizeof(p->sa)) >= 0)
		g->stats.sent++;
}

static int tick_cb(sd_event_source *s, uint64_t usec, void *ud)
{
	struct ft_gossip *g = ud;
	int64_t now = ft_now_ms();
	g->stats.last_tick_ms = now;
	ft_membership_tick(g->table, now);
	ft_membership_snapshot(g->table, &g->msg, ft_wall_ms());
	ssize_t n = ft_gossip_encode(&g->msg, g->buf, g->max_datagram);
	if (n > 0) {
		int targets[16];
		size_t k = ft_membership_pick_targets(g->table, targets,
						      g->fanout < 16 ? g->fanout : 16, ft_random,
						      NULL);
		for (size_t i = 0; i < k; i++) {
			const struct peer *p = peer_by_id(g, targets[i]);
			if (p)
				send_to(g, p, g->buf, (size_t)n);
		}
	} else {
		ft_log_err("gossip: table does not fit in %zu bytes (gossip.max_datagram_bytes)",
			   g->max_datagram);
	}
	sd_event_source_set_time(s, usec + (uint64_t)g->interval_ms * 1000);
	return 0;
}

static void reject(struct ft_gossip *g, const struct sockaddr_in *from, const char *why)
{
	char addr[64], ip[INET_ADDRSTRLEN];
	inet_ntop(AF_INET, &from->sin_addr, ip, sizeof(ip));
	snprintf(addr, sizeof(addr), "%s:%u", ip, ntohs(from->sin_port));
	g->stats.rejected++;
	ft_hb_rejected(addr, why, ft_wall_ms());
}

static void handle_datagram(struct ft_gossip *g, const uint8_t *buf, size_t len,
			    const struct sockaddr_in *from)
{
	const char *why = NULL;
	if (ft_gossip_decode(buf, len, &g->msg, &why) < 0) {
		reject(g, from, why);
		return;
	}
	/* The sender ID must match the address it is configured at: a datagram
	 * claiming someone else's ID is spoofed. */
	const struct peer *p = peer_by_id(g, (int)g->msg.sender);
	if (!p) {
		reject(g, from, "unknown sender id");
		return;
	}
	if (p->sa.sin_addr.s_addr != from->sin_addr.s_addr || p->sa.sin_port != from->sin_port) {
		reject(g, from, "sender id does not match its configured address");
		return;
	}
	char text[4096];
	ft_gossip_format(&g->msg, text, sizeof(text));
	ft_hb_received((int)g->msg.sender, text, ft_wall_ms());
	switch (ft_membership_merge(g->table, &g->msg, ft_now_ms())) {
	case FT_MERGE_OK:
		g->stats.received++;
		break;
	case FT_MERGE_REJECT_UNKNOWN_SENDER:
		reject(g, from, "unknown sender id");
		break;
	case FT_MERGE_REJECT_FAILED_SENDER:
		reject(g, from, "sender's life was declared failed here");
		break;
	case FT_MERGE_REJECT_SELF:
		reject(g, from, "datagram claims to come from this node");
		break;
	}
}

static int io_cb(sd_event_source *s, int fd, uint32_t revents, void *ud)
{
	struct ft_gossip *g = ud;
	/* Bounded per wakeup so a flood cannot starve the rest of the loop. */
	for (int i = 0; i < 256; i++) {
		struct sockaddr_in from;
		socklen_t fl = sizeof(from);
		/* One byte more than allowed tells an oversize datagram apart. */
		ssize_t n = recvfrom(fd, g->buf, g->max_datagram + 1, MSG_TRUNC,
				     (struct sockaddr *)&from, &fl);
		if (n < 0)
			break;
		if ((size_t)n > g->max_datagram) {
			reject(g, &from, "oversize datagram");
			continue;
		}
		handle_datagram(g, g->buf, (size_t)n, &from);
	}
	return 0;
}

struct ft_gossip *ft_gossip_new(sd_event *ev, const struct ft_config *cfg, int self_id,
				ft_gossip_event_fn fn, void *ud)
{
	struct ft_gossip *g = ft_xcalloc(1, sizeof(*g));
	g->ev = ev;
	g->self_id = self_id;
	g->fn = fn;
	g->ud = ud;
	g->interval_ms = cfg->gossip.interval_ms;
	g->fanout = (size_t)cfg->gossip.fanout;
	g->max_datagram = (size_t)cfg->gossip.max_datagram_bytes;
	g->buf = ft_xmalloc(g->max_datagram + 1);
	g->n_peers = cfg->n_nodes + 1;
	g->peers = ft_xcalloc(g->n_peers, sizeof(*g->peers));
	g->allowed = ft_xcalloc(g->n_peers, sizeof(int));
	g->peers[0].id = FT_GATEWAY_ID;
	g->peers[0].sa = cfg->gw_gossip.sa;
	for (size_t i = 0; i < cfg->n_nodes; i++) {
		g->peers[i + 1].id = cfg->nodes[i].id;
		g->peers[i + 1].sa = cfg->nodes[i].gossip.sa;
	}
	for (size_t i = 0; i < g->n_peers; i++)
		g->allowed[i] = g->peers[i].id;
	const struct peer *self = peer_by_id(g, self_id);
	struct ft_membership_conf mc = {
		.self_id = self_id,
		.self_incarnation = (uint64_t)ft_wall_ms(),
		.fail_ms = cfg->gossip.fail_ms,
		.cleanup_ms = cfg->gossip.cleanup_ms,
		.allowed_ids = g->allowed,
		.n_allowed = g->n_peers,
	};
	g->table = ft_membership_new(&mc, on_member_event, g);
	g->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (!self || g->fd < 0 ||
	    bind(g->fd, (const struct sockaddr *)&self->sa, sizeof(self->sa)) < 0) {
		ft_log_err("gossip: cannot bind UDP %s: %s",
			   self_id == FT_GATEWAY_ID ? cfg->gw_gossip.text
						    : ft_config_node(cfg, self_id)->gossip.text,
			   strerror(errno));
		ft_gossip_free(g);
		return NULL;
	}
	uint64_t now;
	sd_event_now(ev, CLOCK_MONOTONIC, &now);
	if (sd_event_add_io(ev, &g->io, g->fd, EPOLLIN, io_cb, g) < 0 ||
	    sd_event_add_time(ev, &g->timer, CLOCK_MONOTONIC, now, 1000, tick_cb, g) < 0) {
		ft_gossip_free(g);
		return NULL;
	}
	sd_event_source_set_enabled(g->timer, SD_EVENT_ON);
	/* Heartbeats must not wait behind bulk work on a busy loop. */
	sd_event_source_set_priority(g->timer, SD_EVENT_PRIORITY_IMPORTANT);
	sd_event_source_set_priority(g->io, SD_EVENT_PRIORITY_IMPORTANT);
	g->stats.last_tick_ms = ft_now_ms();
	return g;
}

void ft_gossip_free(struct ft_gossip *g)
{
	if (!g)
		return;
	sd_event_source_disable_unref(g->io);
	sd_event_source_disable_unref(g->timer);
	if (g->fd >= 0)
		close(g->fd);
	ft_membership_free(g->table);
	free(g->peers);
	free(g->allowed);
	free(g->buf);
	free(g);
}

const struct ft_membership *ft_gossip_table(const struct ft_gossip *g)
{
	return g->table;
}

const struct ft_gossip_stats *ft_gossip_stats(const struct ft_gossip *g)
{
	return &g->stats;
}
