#include "gossip/gossip.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "gossip/freshness.h"
#include "gossip/hblog.h"
#include "lib/keyring.h"
#include "lib/log.h"
#include "lib/util.h"

const char *const ft_gossip_reject_names[FT_GOSSIP_REJECT_N + 1] = {
	[FT_GOSSIP_REJECT_MALFORMED] = "malformed",
	[FT_GOSSIP_REJECT_UNKNOWN_KEY] = "unknown_key",
	[FT_GOSSIP_REJECT_BAD_MAC] = "bad_mac",
	[FT_GOSSIP_REJECT_UNKNOWN_SENDER] = "unknown_sender",
	[FT_GOSSIP_REJECT_FUTURE_INCARNATION] = "future_incarnation",
	[FT_GOSSIP_REJECT_TOO_OLD] = "too_old",
	[FT_GOSSIP_REJECT_STALE] = "stale",
	[FT_GOSSIP_REJECT_REPLAY] = "replay",
	[FT_GOSSIP_REJECT_WRONG_ADDRESS] = "wrong_address",
	[FT_GOSSIP_REJECT_FAILED_SENDER] = "failed_sender",
	[FT_GOSSIP_REJECT_SELF] = "self",
	[FT_GOSSIP_REJECT_N] = NULL,
};

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
	struct ft_freshness *fresh; /* per sender: newest life and counter heard */
	int max_skew_ms;
	/* The gossip MAC keys of the installed cluster keys: [0] current (we
	 * speak it), [1] next if there is one.  Derived again only when the
	 * installed keys change (a reload). */
	struct ft_gossip_key keys[2];
	size_t n_keys;
	bool have_keys;
	uint64_t counter;   /* of the datagrams we sent, in all our lives */
	struct peer *peers; /* every configured member, self included */
	size_t n_peers;
	int *allowed;
	int *targets; /* n_peers: scratch for one round's targets */
	ft_gossip_event_fn fn;
	void *ud;
	struct ft_gossip_stats stats;
	struct ft_gossip_msg msg; /* scratch, large: kept off the stack */
	struct ft_gossip_entry spare[FT_GOSSIP_MAX_ENTRIES]; /* scratch for fit() */
	uint8_t *buf;
	size_t room;	   /* entries a datagram of max_datagram bytes holds */
	uint32_t rotation; /* window start when the table does not fit */
	bool news;	   /* failure news learned: pass it on before the next tick */
	bool warned_fit;
	bool deaf; /* heard from no member for deaf_ms: timers held */
	int deaf_ms;
	int64_t last_heard_ms; /* monotonic time of the last datagram from a member */
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
	/* A failure, or our own new life, is news worth passing on at once
	 * rather than at the next tick: each hop of the epidemic then costs a
	 * datagram's latency, not up to an interval. */
	if (ev->type == FT_EV_FAILED || ev->type == FT_EV_SELF_REJOIN)
		g->news = true;
	/* The table reports local detection with src = self; the log wants
	 * "no heartbeat from server X" for those. */
	if (e.type == FT_EV_FAILED && e.src == g->self_id)
		e.src = e.peer;
	log_event(&e);
	if (g->fn)
		g->fn(g->ud, ev);
}

/* The keys follow ft_keyring_active(): a reload that rolls the cluster key
 * is in force from the next datagram on, sent or received. */
static void refresh_keys(struct ft_gossip *g)
{
	const struct ft_keyring *kr = ft_keyring_active();
	if (!g->have_keys || memcmp(g->keys[0].id, kr->current.id, FT_KEY_ID_BYTES) != 0)
		ft_gossip_key_derive(&g->keys[0], &kr->current);
	if (kr->has_next && (!g->have_keys || g->n_keys < 2 ||
			     memcmp(g->keys[1].id, kr->next.id, FT_KEY_ID_BYTES) != 0))
		ft_gossip_key_derive(&g->keys[1], &kr->next);
	if (!kr->has_next)
		ft_gossip_key_wipe(&g->keys[1]);
	g->n_keys = kr->has_next ? 2 : 1;
	g->have_keys = true;
}

static void send_to(struct ft_gossip *g, const struct peer *p, const uint8_t *buf, size_t len)
{
	if (sendto(g->fd, buf, len, 0, (const struct sockaddr *)&p->sa, sizeof(p->sa)) >= 0)
		g->stats.sent++;
}

/* More members than one datagram of max_datagram_bytes holds: keep our own
 * entry (first) and what concerns the target, and send a window of the
 * rest that moves on every round, so every entry still gets out. */
static void fit(struct ft_gossip *g, struct ft_gossip_msg *m, int target)
{
	if (m->n <= g->room)
		return;
	size_t head = 1, n_rest = 0;
	for (size_t i = 1; i < m->n; i++) {
		if (m->e[i].id == (uint32_t)target && head < g->room)
			m->e[head++] = m->e[i];
		else
			g->spare[n_rest++] = m->e[i];
	}
	size_t take = g->room - head;
	size_t start = g->rotation++ % n_rest;
	for (size_t k = 0; k < take; k++)
		m->e[head + k] = g->spare[(start + k) % n_rest];
	m->n = head + take;
	if (!g->warned_fit) {
		g->warned_fit = true;
		ft_log_warn("gossip: the table (%zu members) does not fit in %zu bytes "
			    "(gossip.max_datagram_bytes); sending %zu entries per datagram in turn",
			    ft_membership_count(g->table) + 1, g->max_datagram, g->room);
	}
}

/* One gossip round: our table to up to `fanout` members.  Each target gets
 * a datagram of its own: ft_membership_snapshot_for() adds the target's
 * failed life when that has already been cleaned out of the table, so a
 * member falsely declared failed (a partition that healed after cleanup_ms)
 * still learns that it must rejoin. */
static void push_round(struct ft_gossip *g)
{
	refresh_keys(g);
	size_t k = ft_membership_pick_targets(g->table, g->targets,
					      g->fanout < g->n_peers ? g->fanout : g->n_peers,
					      ft_random, NULL);
	for (size_t i = 0; i < k; i++) {
		const struct peer *p = peer_by_id(g, g->targets[i]);
		if (!p)
			continue;
		ft_membership_snapshot_for(g->table, &g->msg, ft_wall_ms(), g->targets[i]);
		fit(g, &g->msg, g->targets[i]);
		/* Every datagram a number of its own, whoever it goes to, so that
		 * no receiver takes one twice. */
		g->msg.counter = ++g->counter;
		ssize_t n = ft_gossip_encode(&g->msg, &g->keys[0], g->buf, g->max_datagram);
		if (n > 0)
			send_to(g, p, g->buf, (size_t)n);
		else
			ft_log_err("gossip: cannot encode a datagram of %zu entries in %zu bytes",
				   g->msg.n, g->max_datagram);
	}
	g->news = false;
}

static void drain(struct ft_gossip *g);

static int tick_cb(sd_event_source *s, uint64_t usec, void *ud)
{
	struct ft_gossip *g = ud;
	int64_t now = ft_now_ms();
	int64_t gap = now - g->stats.last_tick_ms;
	g->stats.last_tick_ms = now;
	ft_hb_rejected_flush();
	/* Read what arrived since the last look before judging anyone: after a
	 * stall the timer and the socket are ready together, in either order. */
	drain(g);
	/* Heard from nobody at all for a while: we are the one cut off (our
	 * link is down, our socket broken) far more likely than every other
	 * member died at once.  Declaring them all failed would, once the link
	 * is back, make every one of them start a new life; so hold the timers
	 * until someone is heard again.  The others meanwhile declare *us*
	 * failed, and we rejoin when we hear of it. */
	bool deaf = ft_membership_count(g->table) > 0 && now - g->last_heard_ms >= g->deaf_ms;
	if (deaf != g->deaf) {
		g->deaf = deaf;
		if (deaf)
			ft_log_warn("gossip: no datagram from any member for %lld ms; cut off? "
				    "nobody is declared failed until one is heard again",
				    (long long)(now - g->last_heard_ms));
	}
	/* A tick far later than due means we were not running (SIGSTOP, a
	 * starved CPU): peers' silence over that time proves nothing, so their
	 * failure timers do not count it. */
	if (deaf)
		ft_membership_stalled(g->table, gap, now);
	else if (gap > 2 * (int64_t)g->interval_ms)
		ft_membership_stalled(g->table, gap - g->interval_ms, now);
	ft_membership_tick(g->table, now);
	push_round(g);
	/* After a stall, carry on from now instead of firing every missed tick
	 * in a burst. */
	uint64_t next = usec + (uint64_t)g->interval_ms * 1000;
	uint64_t mono;
	if (sd_event_now(g->ev, CLOCK_MONOTONIC, &mono) >= 0 && next <= mono)
		next = mono + (uint64_t)g->interval_ms * 1000;
	sd_event_source_set_time(s, next);
	return 0;
}

static void addr_text(const struct sockaddr_in *from, char *out, size_t cap)
{
	char ip[INET_ADDRSTRLEN];
	inet_ntop(AF_INET, &from->sin_addr, ip, sizeof(ip));
	snprintf(out, cap, "%s:%u", ip, ntohs(from->sin_port));
}

static void reject(struct ft_gossip *g, const struct sockaddr_in *from,
		   enum ft_gossip_reject reason, const char *why)
{
	char addr[64];
	addr_text(from, addr, sizeof(addr));
	g->stats.rejected++;
	g->stats.rejected_by[reason]++;
	ft_hb_rejected(addr, why, ft_wall_ms());
}

static enum ft_gossip_reject decode_reason(enum ft_gossip_verdict v)
{
	switch (v) {
	case FT_GOSSIP_UNKNOWN_KEY:
		return FT_GOSSIP_REJECT_UNKNOWN_KEY;
	case FT_GOSSIP_BAD_MAC:
		return FT_GOSSIP_REJECT_BAD_MAC;
	default:
		return FT_GOSSIP_REJECT_MALFORMED;
	}
}

/* The clock bounds and the per-sender counters (gossip/freshness.h), on a
 * datagram whose MAC is right.  Returns false if it was rejected.  Nothing
 * is remembered yet: see handle_datagram. */
static bool fresh_enough(struct ft_gossip *g, const struct ft_gossip_msg *m,
			 const struct sockaddr_in *from)
{
	char why[200];
	int64_t now = ft_wall_ms();
	if (ft_fresh_in_future(m->sender_incarnation, now, g->max_skew_ms)) {
		snprintf(why, sizeof(why),
			 "sender incarnation %" PRIu64 " is more than gossip.max_clock_skew_ms "
			 "(%d) ahead of this clock (%lld)",
			 m->sender_incarnation, g->max_skew_ms, (long long)now);
		reject(g, from, FT_GOSSIP_REJECT_FUTURE_INCARNATION, why);
		return false;
	}
	if (ft_fresh_too_old(m->sent_ms, now, g->max_skew_ms)) {
		snprintf(why, sizeof(why),
			 "sent at %" PRIu64 ", more than gossip.max_clock_skew_ms (%d) before "
			 "this clock (%lld)",
			 m->sent_ms, g->max_skew_ms, (long long)now);
		reject(g, from, FT_GOSSIP_REJECT_TOO_OLD, why);
		return false;
	}
	uint64_t inc = 0, ctr = 0;
	ft_freshness_get(g->fresh, (int)m->sender, &inc, &ctr);
	switch (ft_freshness_check(g->fresh, (int)m->sender, m->sender_incarnation, m->counter)) {
	case FT_FRESH_OK:
		return true;
	case FT_FRESH_REPLAY:
		snprintf(why, sizeof(why),
			 "replayed: counter %" PRIu64 " of incarnation %" PRIu64
			 " already passed (highest %" PRIu64 ")",
			 m->counter, m->sender_incarnation, ctr);
		reject(g, from, FT_GOSSIP_REJECT_REPLAY, why);
		return false;
	case FT_FRESH_STALE:
		snprintf(why, sizeof(why),
			 "stale: incarnation %" PRIu64 " of member %" PRIu32
			 " is older than %" PRIu64 ", already heard",
			 m->sender_incarnation, m->sender, inc);
		reject(g, from, FT_GOSSIP_REJECT_STALE, why);
		return false;
	case FT_FRESH_UNKNOWN:
		break;
	}
	reject(g, from, FT_GOSSIP_REJECT_UNKNOWN_SENDER, "unknown sender id");
	return false;
}

static void handle_datagram(struct ft_gossip *g, const uint8_t *buf, size_t len,
			    const struct sockaddr_in *from)
{
	const char *why = NULL;
	enum ft_gossip_verdict v = ft_gossip_decode(buf, len, g->keys, g->n_keys, &g->msg, &why);
	if (v != FT_GOSSIP_OK) {
		reject(g, from, decode_reason(v), why);
		return;
	}
	/* From here on the bytes were made by a holder of the cluster key; what
	 * is left to doubt is whether they are new, and the holder's clock. */
	const struct peer *p = peer_by_id(g, (int)g->msg.sender);
	if (!p) {
		reject(g, from, FT_GOSSIP_REJECT_UNKNOWN_SENDER, "unknown sender id");
		return;
	}
	if (!fresh_enough(g, &g->msg, from))
		return;
	/* The source address is no proof (the MAC is), but a member sends only
	 * from its configured address: anything else is a copy sent on by
	 * someone else, or a configuration mistake worth seeing.  Checked after
	 * the counters, so that a replay is called one wherever it comes from;
	 * and before they are moved on, so that a datagram refused here can
	 * never make the sender's own later ones look like replays. */
	if (p->sa.sin_addr.s_addr != from->sin_addr.s_addr || p->sa.sin_port != from->sin_port) {
		reject(g, from, FT_GOSSIP_REJECT_WRONG_ADDRESS,
		       "sender id does not match its configured address");
		return;
	}
	ft_freshness_admit(g->fresh, (int)g->msg.sender, g->msg.sender_incarnation, g->msg.counter);
	size_t ignored = ft_fresh_drop_future_entries(&g->msg, ft_wall_ms(), g->max_skew_ms);
	if (ignored) {
		char addr[64];
		addr_text(from, addr, sizeof(addr));
		g->stats.entries_ignored += ignored;
		ft_hb_ignored_entries(addr, ignored,
				      "incarnation more than gossip.max_clock_skew_ms ahead of "
				      "this clock",
				      ft_wall_ms());
	}
	/* A member reached us (even one whose life we refuse): we are not cut
	 * off. */
	g->last_heard_ms = ft_now_ms();
	if (g->deaf) {
		/* Leave deafness before merging: its timers must count from now. */
		g->deaf = false;
		ft_log_notice("gossip: hearing from members again");
	}
	char text[4096];
	ft_gossip_format(&g->msg, text, sizeof(text));
	ft_hb_received((int)g->msg.sender, text, ft_wall_ms());
	switch (ft_membership_merge(g->table, &g->msg, ft_now_ms())) {
	case FT_MERGE_OK:
		g->stats.received++;
		break;
	case FT_MERGE_REJECT_UNKNOWN_SENDER:
		reject(g, from, FT_GOSSIP_REJECT_UNKNOWN_SENDER, "unknown sender id");
		break;
	case FT_MERGE_REJECT_FAILED_SENDER:
		reject(g, from, FT_GOSSIP_REJECT_FAILED_SENDER,
		       "sender's life was declared failed here");
		break;
	case FT_MERGE_REJECT_SELF:
		reject(g, from, FT_GOSSIP_REJECT_SELF, "datagram claims to come from this node");
		break;
	}
}

/* Bounded per call so a flood cannot starve the rest of the loop. */
static void drain(struct ft_gossip *g)
{
	refresh_keys(g);
	for (int i = 0; i < 256; i++) {
		struct sockaddr_in from;
		socklen_t fl = sizeof(from);
		/* One byte more than allowed tells an oversize datagram apart. */
		ssize_t n = recvfrom(g->fd, g->buf, g->max_datagram + 1, MSG_TRUNC,
				     (struct sockaddr *)&from, &fl);
		if (n < 0)
			break;
		if (fl < sizeof(from) || from.sin_family != AF_INET) {
			g->stats.rejected++;
			g->stats.rejected_by[FT_GOSSIP_REJECT_MALFORMED]++;
			continue;
		}
		if ((size_t)n > g->max_datagram) {
			reject(g, &from, FT_GOSSIP_REJECT_MALFORMED, "oversize datagram");
			continue;
		}
		handle_datagram(g, g->buf, (size_t)n, &from);
	}
	/* Failure news goes on at once (one extra round per event at most). */
	if (g->news)
		push_round(g);
}

static int io_cb(sd_event_source *s, int fd, uint32_t revents, void *ud)
{
	drain(ud);
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
	g->max_skew_ms = cfg->gossip.max_clock_skew_ms;
	g->room = (g->max_datagram - FT_GOSSIP_OVERHEAD_BYTES) / FT_GOSSIP_ENTRY_BYTES;
	if (g->room > FT_GOSSIP_MAX_ENTRIES)
		g->room = FT_GOSSIP_MAX_ENTRIES;
	g->n_peers = cfg->n_nodes + 1;
	g->peers = ft_xcalloc(g->n_peers, sizeof(*g->peers));
	g->allowed = ft_xcalloc(g->n_peers, sizeof(int));
	g->targets = ft_xcalloc(g->n_peers, sizeof(int));
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
	g->fresh = ft_freshness_new(g->allowed, g->n_peers);
	g->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (!g->table || !g->fresh) {
		ft_log_err("gossip: cannot create the membership table (bad gossip settings?)");
		ft_gossip_free(g);
		return NULL;
	}
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
	g->last_heard_ms = g->stats.last_tick_ms;
	g->deaf_ms = cfg->gossip.fail_ms / 2;
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
	ft_freshness_free(g->fresh);
	ft_gossip_key_wipe(&g->keys[0]);
	ft_gossip_key_wipe(&g->keys[1]);
	free(g->peers);
	free(g->allowed);
	free(g->targets);
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

bool ft_gossip_ticking(const struct ft_gossip *g, int interval_ms)
{
	int64_t age = ft_now_ms() - g->stats.last_tick_ms;
	if (age < 10 * (int64_t)interval_ms + 1000)
		return true;
	ft_log_warn("watchdog: the gossip timer last fired %lld ms ago", (long long)age);
	return false;
}
