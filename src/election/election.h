/* Leader election through ZooKeeper.  All ZooKeeper calls live here.
 *
 * Layout: every node holds an ephemeral /ftcluster/<cluster>/nodes/<id>;
 * the leader holds the ephemeral /ftcluster/<cluster>/leader whose data is
 * its ID.  When no leader znode exists, the node with the highest registered
 * ID creates it (creation is atomic, so a race has one winner).  A live
 * leader is never pre-empted: a higher ID that joins later finds the znode
 * taken.  The epoch is the leader znode's czxid: it only grows.
 *
 * The client library calls back on its own thread; those callbacks only
 * copy what they got into a queue and wake the daemon's loop through an
 * eventfd.  All state lives on the loop thread.
 *
 * Connection loss and session expiry differ: on loss, leadership is
 * suspended at once (we may already be deposed) and resumes only if, once
 * reconnected within the session, the leader znode is still ours; on
 * expiry the handle is closed and a new session registers afresh. */
#ifndef FT_ELECTION_H
#define FT_ELECTION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "conf/config.h"

struct ft_election;

/* Something changed (session, leader, epoch or members): query the getters. */
typedef void (*ft_election_change_fn)(void *ud);

/* self_id: a node ID, or FT_GATEWAY_ID for an observer that never registers
 * nor leads. */
struct ft_election *ft_election_new(sd_event *ev, const struct ft_config *cfg, int self_id,
				    ft_election_change_fn fn, void *ud);
void ft_election_free(struct ft_election *e);

bool ft_election_connected(const struct ft_election *e);
/* "zookeeper connected", or "waiting for ZooKeeper at CONNECT (N s)": for
 * STATUS= and logs.  Returns buf. */
const char *ft_election_describe(const struct ft_election *e, char *buf, size_t len);
/* Leader ID, or -1 when none is known. */
int ft_election_leader(const struct ft_election *e);
uint64_t ft_election_epoch(const struct ft_election *e);
/* How many times the leader znode was found older than one seen before:
 * ZooKeeper lost its data (restored from nothing, a disk replaced), and its
 * epochs start again lower.  Those who keep the newest epoch seen must
 * follow ft_election_epoch() down when this changes. */
unsigned ft_election_data_losses(const struct ft_election *e);
/* Read the leader znode again, after a sync so that the answer is at least
 * as new as anything another session has seen; the change callback runs
 * when it arrives.  Nothing while disconnected (reconnecting reads it). */
void ft_election_refresh(struct ft_election *e);
/* True while what this session held may still be held: disconnected within
 * the session (the client has not been told it expired), or reconnected
 * and the leader znode not read again yet.  False once it is known. */
bool ft_election_unsure(const struct ft_election *e);
/* Give leadership up (delete the leader znode if ours) and stand aside for
 * hold_ms: the member znode is deleted, so that the others elect among the
 * rest, and created again afterwards; or after min_ms already, when no
 * leader and no candidate is left. */
void ft_election_step_aside(struct ft_election *e, int hold_ms, int min_ms);
/* True only while connected and holding the leader znode in this session. */
bool ft_election_is_leader(const struct ft_election *e);
/* IDs registered in ZooKeeper (live sessions), ascending. */
size_t ft_election_members(const struct ft_election *e, int *out, size_t cap);
/* Monotonic ms of the last event drained from the client thread. */
int64_t ft_election_last_activity_ms(const struct ft_election *e);
/* For the watchdog: false when, while connected, the client library has
 * not answered a periodic read (every session timeout, within 1 to 5 s) for longer than the session timeout plus two periods, i.e. its
 * threads are stuck.  Disconnected counts as responsive. */
bool ft_election_responsive(const struct ft_election *e);

#endif
