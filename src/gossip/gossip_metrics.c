#include "gossip/gossip_metrics.h"

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "gossip/gossip.h"
#include "gossip/membership.h"
#include "lib/metrics.h"

static const char *const gossip_kinds[] = { "sent", "received", "rejected", NULL };
static const char *const member_states[] = { "alive", "failed", NULL };
static const char *const member_events[] = { "updated", "joined",	 "failed", "rejoined",
					     "removed", "self_rejoined", NULL };

static struct {
	bool inited;
	int self_id;
	const struct ft_gossip *gossip;
	struct ft_metric *gossip_msgs, *rejected, *entries_ignored, *members, *member_events;
} G;

/* At ft_metrics_shutdown: the families are gone with the registry. */
static void forget(void)
{
	memset(&G, 0, sizeof(G));
}

static void collect_gossip(struct ft_metrics *m, void *ud)
{
	if (!G.gossip)
		return;
	const struct ft_gossip_stats *st = ft_gossip_stats(G.gossip);
	ft_metric_set(G.gossip_msgs, "sent", (double)st->sent);
	ft_metric_set(G.gossip_msgs, "received", (double)st->received);
	ft_metric_set(G.gossip_msgs, "rejected", (double)st->rejected);
	for (int r = 0; r < FT_GOSSIP_REJECT_N; r++)
		ft_metric_set(G.rejected, ft_gossip_reject_names[r], (double)st->rejected_by[r]);
	ft_metric_set(G.entries_ignored, NULL, (double)st->entries_ignored);
	const struct ft_membership *tab = ft_gossip_table(G.gossip);
	size_t alive = 1, failed = 0; /* ourselves: alive */
	for (size_t i = 0; i < ft_membership_count(tab); i++) {
		const struct ft_member *mem = ft_membership_at(tab, i);
		if (mem->id == G.self_id)
			continue;
		if (mem->state == FT_MEMBER_FAILED)
			failed++;
		else
			alive++;
	}
	ft_metric_set(G.members, "alive", (double)alive);
	ft_metric_set(G.members, "failed", (double)failed);
}

void ft_metrics_init(const char *daemon, int self_id, const struct ft_gossip *gossip)
{
	struct ft_metrics *m = ft_metrics_global();
	G.self_id = self_id;
	G.gossip = gossip;
	if (!G.inited) {
		G.inited = true;
		ft_metrics_on_shutdown(forget);
		struct ft_metric *self =
			ft_metrics_gauge(m, "ftcluster_member_id",
					 "This daemon's member ID (0: the gateway)", NULL, NULL);
		ft_metric_set(self, NULL, self_id);
		G.gossip_msgs = ft_metrics_counter(
			m, "ftcluster_gossip_messages_total",
			"Gossip datagrams sent, received (accepted) and rejected by this daemon",
			"kind", gossip_kinds);
		G.rejected = ft_metrics_counter(
			m, "ftcluster_gossip_rejected_total",
			"Gossip datagrams rejected by this daemon, by reason (bad_mac: forged or "
			"damaged; replay, stale, too_old, future_incarnation: not fresh)",
			"reason", ft_gossip_reject_names);
		G.entries_ignored = ft_metrics_counter(
			m, "ftcluster_gossip_entries_ignored_total",
			"Entries of accepted gossip datagrams ignored: an incarnation more than "
			"gossip.max_clock_skew_ms ahead of this daemon's clock",
			NULL, NULL);
		G.members = ft_metrics_gauge(
			m, "ftcluster_members",
			"Members in this daemon's gossip table by state, itself included", "state",
			member_states);
		G.member_events = ft_metrics_counter(
			m, "ftcluster_member_events_total",
			"Gossip membership events seen by this daemon (updated: a heartbeat rose)",
			"event", member_events);
		ft_metrics_on_collect(m, collect_gossip, NULL);
	}
	ft_metrics_daemon_init(daemon, self_id);
}

void ft_metrics_on_member_event(void *ud, const struct ft_member_event_info *ev)
{
	const char *name = NULL, *type = NULL;
	switch (ev->type) {
	case FT_EV_UPDATED:
		name = "updated";
		break;
	case FT_EV_JOINED:
		name = "joined";
		type = "member_joined";
		break;
	case FT_EV_FAILED:
		name = "failed";
		type = "member_failed";
		break;
	case FT_EV_REJOINED:
		name = "rejoined";
		type = "member_rejoined";
		break;
	case FT_EV_CLEANUP:
		name = "removed";
		type = "member_removed";
		break;
	case FT_EV_SELF_REJOIN:
		name = "self_rejoined";
		type = "self_rejoined";
		break;
	}
	if (name)
		ft_metric_inc(G.member_events, name);
	if (type)
		ft_metrics_event(type, ev->peer, ev->src, ev->incarnation, -1, 0);
}
