#include "gateway/link.h"

#include <inttypes.h>
#include <stdlib.h>

#include "election/election.h"
#include "lib/conn.h"
#include "lib/log.h"
#include "lib/util.h"

#define RECONNECT_MS 50
#define RECONNECT_MAX_MS 1000

struct gw_link {
	sd_event *ev;
	const struct ft_config *cfg;
	struct ft_conn_limits conn_limits;
	struct gw_core *core;
	const struct ft_election *election;
	struct ft_conn *conn;
	int leader; /* the node conn goes to */
	sd_event_source *retry;
	int retry_ms;	      /* grows while the named leader does not answer */
	unsigned data_losses; /* ft_election_data_losses followed */
};

static void send_submit(void *ud, uint64_t id, const char *job, const char *body, size_t len,
			int64_t ttl_ms)
{
	struct gw_link *l = ud;
	struct json_object *m = json_object_new_object();
	json_object_object_add(m, "req", json_object_new_uint64(id));
	/* The leader drops it unrun if it is still queued when we give up. */
	json_object_object_add(m, "ttl_ms", json_object_new_int64(ttl_ms));
	if (job)
		json_object_object_add(m, "job", json_tokener_parse(job));
	ft_conn_send(l->conn, FT_FRAME_SUBMIT, m, body, len);
	json_object_put(m);
}

/* A frame that says only which request. */
static void send_about(struct gw_link *l, int type, uint64_t id)
{
	struct json_object *m = json_object_new_object();
	json_object_object_add(m, "req", json_object_new_uint64(id));
	ft_conn_send(l->conn, type, m, NULL, 0);
	json_object_put(m);
}

static void send_ack(void *ud, uint64_t id)
{
	send_about(ud, FT_FRAME_ACK, id);
}

static void send_cancel(void *ud, uint64_t id)
{
	send_about(ud, FT_FRAME_CANCEL, id);
}

const struct gw_link_ops gw_link_core_ops = {
	.send_submit = send_submit,
	.send_ack = send_ack,
	.send_cancel = send_cancel,
};

static void link_frame(struct ft_conn *c, const struct ft_frame *f, void *ud)
{
	struct gw_link *l = ud;
	switch (f->type) {
	case FT_FRAME_HELLO:
		if (!gw_core_leader_hello(l->core, ft_now_ms(), l->leader,
					  ft_meta_u64(f, "epoch", 0))) {
			ft_conn_close(c, "leader of a stale epoch");
			return;
		}
		l->retry_ms = 0;
		break;
	case FT_FRAME_RESULT: {
		struct gw_leader_result r = {
			.id = ft_meta_u64(f, "req", 0),
			.epoch = ft_meta_u64(f, "epoch", 0),
			.verdict = ft_meta_str(f, "verdict", "internal_error"),
			.worker = (int)ft_meta_int(f, "worker", -1),
			.attempts = (int)ft_meta_int(f, "attempts", 0),
			.meta = f->meta,
			.blob = (const char *)f->blob,
			.blob_len = f->blob_len,
		};
		gw_core_leader_result(l->core, ft_now_ms(), &r);
		break;
	}
	case FT_FRAME_STARTED:
		gw_core_leader_started(l->core, ft_meta_u64(f, "req", 0),
				       (int)ft_meta_int(f, "worker", -1),
				       (int)ft_meta_int(f, "attempt", 0));
		break;
	case FT_FRAME_REJECT:
		ft_log_warn("leader %d refused the gateway: %s", l->leader,
			    ft_meta_str(f, "reason", "?"));
		ft_conn_close(c, "refused");
		break;
	default:
		break;
	}
}

static void link_connected(struct ft_conn *c, void *ud)
{
	struct json_object *m = json_object_new_object();
	json_object_object_add(m, "role", json_object_new_string("gateway"));
	json_object_object_add(m, "id", json_object_new_int(FT_GATEWAY_ID));
	ft_conn_send(c, FT_FRAME_HELLO, m, NULL, 0);
	json_object_put(m);
}

static void connect_leader(struct gw_link *l);

static int retry_cb(sd_event_source *s, uint64_t usec, void *ud)
{
	struct gw_link *l = ud;
	l->retry = sd_event_source_disable_unref(l->retry);
	connect_leader(l);
	return 0;
}

static void link_closed(struct ft_conn *c, const char *why, void *ud)
{
	struct gw_link *l = ud;
	if (c != l->conn)
		return;
	l->conn = NULL;
	gw_core_link_lost(l->core);
	/* A leader that died keeps its znode until its session expires: back
	 * off meanwhile.  A new leader is reached at once through the
	 * election change, not through this timer. */
	l->retry_ms = l->retry_ms ? l->retry_ms * 2 : RECONNECT_MS;
	if (l->retry_ms > RECONNECT_MAX_MS)
		l->retry_ms = RECONNECT_MAX_MS;
	if (l->retry_ms == RECONNECT_MS)
		ft_log_info("link to leader %d closed: %s", l->leader, why);
	if (!l->retry)
		sd_event_add_time_relative(l->ev, &l->retry, CLOCK_MONOTONIC,
					   (uint64_t)l->retry_ms * 1000, 10000, retry_cb, l);
}

static const struct ft_conn_ops link_ops = {
	.on_frame = link_frame,
	.on_connected = link_connected,
	.on_close = link_closed,
};

/* Make the link point at the leader ZooKeeper names now. */
static void connect_leader(struct gw_link *l)
{
	int leader = ft_election_leader(l->election);
	uint64_t epoch = ft_election_epoch(l->election), link_epoch;
	bool lost_data = ft_election_data_losses(l->election) != l->data_losses;
	if (lost_data) {
		l->data_losses = ft_election_data_losses(l->election);
		gw_core_epoch_follow(l->core, epoch);
	}
	gw_core_epoch_seen(l->core, epoch);
	/* An unknown leader (ZooKeeper out of reach, or between two leaders)
	 * is no reason to drop a working link: a dead leader's link ends by
	 * its own silence (limits.link_timeout_ms). */
	if (l->conn && leader >= 0 &&
	    (l->leader != leader || (gw_core_link_up(l->core, &link_epoch) &&
				     (link_epoch < epoch || (lost_data && link_epoch != epoch))))) {
		struct ft_conn *old = l->conn;
		l->conn = NULL;
		gw_core_link_lost(l->core);
		ft_conn_close(old, "leader changed");
	}
	if (l->conn || leader < 0)
		return;
	if (leader != l->leader)
		l->retry_ms = 0;
	const struct ft_node_conf *nc = ft_config_node(l->cfg, leader);
	if (!nc) {
		ft_log_err("leader %d is not in %s", leader, l->cfg->path);
		return;
	}
	l->leader = leader;
	l->conn = ft_conn_connect(l->ev, &nc->work.sa, &l->conn_limits, &link_ops, l);
}

struct gw_link *gw_link_new(sd_event *ev, const struct ft_config *cfg)
{
	struct gw_link *l = ft_xcalloc(1, sizeof(*l));
	l->ev = ev;
	l->cfg = cfg;
	l->conn_limits.max_frame_bytes = cfg->limits.max_frame_bytes;
	l->conn_limits.max_out_bytes = 64 * cfg->limits.max_frame_bytes;
	l->conn_limits.heartbeat_ms = cfg->limits.link_heartbeat_ms;
	l->conn_limits.timeout_ms = cfg->limits.link_timeout_ms;
	l->conn_limits.connect_timeout_ms = cfg->limits.connect_timeout_ms;
	return l;
}

void gw_link_set_core(struct gw_link *l, struct gw_core *core)
{
	l->core = core;
}

void gw_link_follow(struct gw_link *l, const struct ft_election *el)
{
	l->election = el;
	connect_leader(l);
}

void gw_link_free(struct gw_link *l)
{
	if (!l)
		return;
	sd_event_source_disable_unref(l->retry);
	free(l);
}
