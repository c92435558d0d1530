/* The gossip families of the daemons' standard metrics (see lib/metrics.h):
 * ftcluster_member_id, ftcluster_gossip_messages_total (read from the
 * endpoint's counters at every scrape), ftcluster_members (read from its
 * member table) and ftcluster_member_events_total, whose events also go to
 * the ring of recent cluster events. */
#ifndef FT_GOSSIP_METRICS_H
#define FT_GOSSIP_METRICS_H

struct ft_gossip;
struct ft_member_event_info;

/* Once at start, after the gossip endpoint exists: registers the gossip
 * families, then the rest of the standard ones (ft_metrics_daemon_init),
 * so that /metrics lists them in one fixed order.  daemon: "ftgw" or
 * "ftnode" (which also registers the ftnode_* families).  gossip may be
 * NULL; otherwise its counters and member table are read at every scrape. */
void ft_metrics_init(const char *daemon, int self_id, const struct ft_gossip *gossip);

/* Every gossip membership event.  Has ft_gossip_event_fn's signature, so
 * the gateway can pass it straight to ft_gossip_new(); a node calls it
 * from its own event handler (ud unused). */
void ft_metrics_on_member_event(void *ud, const struct ft_member_event_info *ev);

#endif
