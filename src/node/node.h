/* ftnode internals shared by its three parts: main (loop, roles, logs),
 * worker (runs what a leader assigns, keeps results until collected; its
 * decisions in holdings.c) and leader (dispatch, tracking, reassignment,
 * result gathering; its decisions in dispatch.c). */
#ifndef FT_NODE_H
#define FT_NODE_H

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "conf/config.h"
#include "lib/conn.h"
#include "election/election.h"
#include "gossip/gossip.h"

struct ft_worker;
struct ft_leader;

struct accepted;

struct ft_node {
	sd_event *ev;
	struct ft_config cfg;
	const struct ft_node_conf *self;
	struct ft_conn_limits conn_limits;
	struct ft_gossip *gossip;
	struct ft_election *election;
	struct ft_worker *worker;
	struct ft_leader *leader; /* non-NULL while leading */
	/* Leading, but ZooKeeper out of reach within the session: dispatch is
	 * held until it answers again, for at most the session timeout. */
	sd_event_source *leader_unsure;
	int64_t unsure_since_ms;
	unsigned step_downs; /* in a row, each within STEP_DOWN_MEMORY_MS of the last */
	int64_t last_step_down_ms;
	struct ft_httpd *httpd;
	const char *role;   /* LOOKING, FOLLOWING, LEADING */
	int64_t started_ms; /* for zookeeper.start_wait_ms */
	bool stopping;
	int64_t drain_deadline_ms;
	int listen_fd;
	sd_event_source *listen_src;
	sd_event_source *accept_pause; /* re-enables listen_src after EMFILE */
	int64_t accept_warned_ms;
	struct accepted *unidentified; /* accepted connections before their HELLO (main.c) */
	uint64_t refused_connections;
	int64_t refused_warned_ms;
};

/* ---- worker.c ---- */
struct ft_worker *ft_worker_new(struct ft_node *n);
void ft_worker_free(struct ft_worker *w);
/* A HELLO from a leader arrived on c: adopt it (or reject a stale epoch). */
void ft_worker_leader_hello(struct ft_worker *w, struct ft_conn *c, const struct ft_frame *f);
void ft_worker_frame(struct ft_worker *w, struct ft_conn *c, const struct ft_frame *f);
void ft_worker_conn_closed(struct ft_worker *w, struct ft_conn *c);
/* The election's view changed: a leader held for confirmation may be served. */
void ft_worker_election_changed(struct ft_worker *w);
size_t ft_worker_running(const struct ft_worker *w);
/* Clean stop: give every unfinished request back to the leader. */
size_t ft_worker_hand_back(struct ft_worker *w);
size_t ft_worker_held(const struct ft_worker *w);

/* ---- leader.c ---- */
struct ft_leader *ft_leader_new(struct ft_node *n, uint64_t epoch);
void ft_leader_free(struct ft_leader *l);
/* main.c: the leader cannot reach its followers: give leadership up and
 * stand aside (leader.hold_off_ms, doubled for each repeat). */
void ft_node_step_down(struct ft_node *n);
/* Assign nothing new while held; tables and links are kept. */
void ft_leader_hold(struct ft_leader *l, bool held);
void ft_leader_gateway_hello(struct ft_leader *l, struct ft_conn *c, const struct ft_frame *f);
void ft_leader_gateway_frame(struct ft_leader *l, struct ft_conn *c, const struct ft_frame *f);
void ft_leader_gateway_closed(struct ft_leader *l, struct ft_conn *c);
void ft_leader_member_event(struct ft_leader *l, const struct ft_member_event_info *ev);
size_t ft_leader_in_flight(const struct ft_leader *l);
uint64_t ft_leader_epoch(const struct ft_leader *l);

#endif
