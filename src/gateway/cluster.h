/* The cluster as the gateway shows it (GET /cluster, GET /v1/cluster, the
 * dashboard): the configured nodes, what ZooKeeper says of the election
 * and what gossip says of each node's health. */
#ifndef FT_GATEWAY_CLUSTER_H
#define FT_GATEWAY_CLUSTER_H

#include <json-c/json.h>

#include "conf/config.h"
#include "lib/util.h"

struct ft_election;
struct ft_gossip;

/* Where the view comes from; none of it is owned. */
struct gw_cluster {
	const struct ft_config *cfg;
	const struct ft_election *election;
	const struct ft_gossip *gossip;
};

/* The leader's node ID, or -1. */
int gw_cluster_leader(const struct gw_cluster *c);

/* The JSON view; caller owns the object.  *leader gets the leader ID or -1. */
struct json_object *gw_cluster_json(const struct gw_cluster *c, int *leader);

/* The contract's plain text: "leader L epoch E" (or "NO LEADER"), then one
 * "ID ROLE" line per listed node, highest ID first, the gateway last. */
void gw_cluster_text(const struct gw_cluster *c, struct ft_buf *b, int leader);

#endif
