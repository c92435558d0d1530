#include "gateway/cluster.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>

#include "election/election.h"
#include "gossip/gossip.h"
#include "gossip/membership.h"

static const char *role_of(int id, int leader)
{
	if (id == FT_GATEWAY_ID)
		return "OBSERVER";
	return id == leader ? "LEADER" : "FOLLOWER";
}

/* A node is listed unless gossip knows it failed; ZooKeeper registration
 * or a gossip heartbeat makes it known. */
static bool listed(const struct gw_cluster *c, int id, const int *zk, size_t n_zk,
		   const struct ft_member **mem)
{
	*mem = ft_membership_get(ft_gossip_table(c->gossip), id);
	if (*mem && (*mem)->state == FT_MEMBER_FAILED)
		return false;
	if (*mem)
		return true;
	for (size_t i = 0; i < n_zk; i++)
		if (zk[i] == id)
			return true;
	return false;
}

int gw_cluster_leader(const struct gw_cluster *c)
{
	return ft_election_leader(c->election);
}

struct json_object *gw_cluster_json(const struct gw_cluster *c, int *leader_out)
{
	const struct ft_config *cfg = c->cfg;
	int leader = ft_election_leader(c->election);
	*leader_out = leader;
	int zk[FT_MAX_NODES];
	size_t n_zk = ft_election_members(c->election, zk, FT_MAX_NODES);
	struct json_object *root = json_object_new_object();
	json_object_object_add(root, "cluster", json_object_new_string(cfg->cluster));
	json_object_object_add(root, "leader", leader >= 0 ? json_object_new_int(leader) : NULL);
	json_object_object_add(root, "epoch",
			       json_object_new_uint64(ft_election_epoch(c->election)));
	json_object_object_add(root, "zookeeper_connected",
			       json_object_new_boolean(ft_election_connected(c->election)));
	struct json_object *nodes = json_object_new_array(), *failed = json_object_new_array();
	int64_t now = ft_now_ms();
	const struct ft_membership *tab = ft_gossip_table(c->gossip);
	for (size_t i = 0; i <= cfg->n_nodes; i++) {
		int id = i == 0 ? FT_GATEWAY_ID : cfg->nodes[i - 1].id;
		const struct ft_member *m = NULL;
		struct json_object *o = json_object_new_object();
		json_object_object_add(o, "id", json_object_new_int(id));
		bool show = id == FT_GATEWAY_ID || listed(c, id, zk, n_zk, &m);
		if (id == FT_GATEWAY_ID)
			m = ft_membership_get(tab, id);
		if (m) {
			json_object_object_add(o, "incarnation",
					       json_object_new_uint64(m->incarnation));
			json_object_object_add(o, "heartbeat",
					       json_object_new_uint64(m->heartbeat));
			json_object_object_add(
				o, "age_ms",
				json_object_new_int64(id == FT_GATEWAY_ID ? 0
									  : now - m->last_rise_ms));
		}
		if (!show) {
			if (m && m->state == FT_MEMBER_FAILED) {
				json_object_object_add(o, "state",
						       json_object_new_string("failed"));
				json_object_array_add(failed, o);
			} else {
				json_object_put(o);
			}
			continue;
		}
		json_object_object_add(o, "role", json_object_new_string(role_of(id, leader)));
		json_object_object_add(o, "state", json_object_new_string("alive"));
		if (id == FT_GATEWAY_ID) {
			json_object_object_add(o, "address",
					       json_object_new_string(cfg->gw_http.text));
		} else {
			const struct ft_node_conf *nc = &cfg->nodes[i - 1];
			char url[160];
			json_object_object_add(o, "address", json_object_new_string(nc->work.text));
			json_object_object_add(o, "gossip",
					       json_object_new_string(nc->gossip.text));
			json_object_object_add(o, "http", json_object_new_string(nc->http.text));
			struct json_object *logs = json_object_new_object();
			snprintf(url, sizeof(url), "http://%s/log/summary", nc->http.text);
			json_object_object_add(logs, "summary", json_object_new_string(url));
			snprintf(url, sizeof(url), "http://%s/log/verbose", nc->http.text);
			json_object_object_add(logs, "verbose", json_object_new_string(url));
			json_object_object_add(o, "logs", logs);
		}
		json_object_array_add(nodes, o);
	}
	json_object_object_add(root, "nodes", nodes);
	json_object_object_add(root, "failed", failed);
	return root;
}

void gw_cluster_text(const struct gw_cluster *c, struct ft_buf *b, int leader)
{
	const struct ft_config *cfg = c->cfg;
	int zk[FT_MAX_NODES];
	size_t n_zk = ft_election_members(c->election, zk, FT_MAX_NODES);
	if (leader < 0)
		ft_buf_printf(b, "NO LEADER\n");
	else
		ft_buf_printf(b, "leader %d epoch %" PRIu64 "\n", leader,
			      ft_election_epoch(c->election));
	for (size_t i = cfg->n_nodes; i > 0; i--) {
		const struct ft_member *m;
		int id = cfg->nodes[i - 1].id;
		if (listed(c, id, zk, n_zk, &m))
			ft_buf_printf(b, "%d %s\n", id, role_of(id, leader));
	}
	ft_buf_printf(b, "%d %s\n", FT_GATEWAY_ID, role_of(FT_GATEWAY_ID, leader));
}
