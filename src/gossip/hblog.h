/* The heartbeat log: every membership event in the contract's exact
 * wording ("<id>: no heartbeat from server <peer> - SERVER FAILED", ...).
 *
 * Each event goes to the node's summary heartbeat log file, to journald
 * with its MESSAGE_ID and FT_ fields when entries go there, and the two
 * the contract names (SERVER FAILED, switching) to standard output as
 * well.  Every received gossip datagram goes to the verbose heartbeat log
 * file.  The sinks are lib/log.c's (ft_log_open opens the files). */
#ifndef FT_HBLOG_H
#define FT_HBLOG_H

#include <stddef.h>
#include <stdint.h>

void ft_hb_failed(int peer, uint64_t incarnation);
void ft_hb_heard_failed(int peer, uint64_t incarnation, int src);
void ft_hb_updated(int peer, uint64_t heartbeat, int src, int64_t node_time_ms);
void ft_hb_joined(int peer, uint64_t incarnation, int src);
void ft_hb_rejoined(int peer, uint64_t incarnation, int src);
void ft_hb_self_rejoin(uint64_t incarnation);
void ft_hb_cleanup(int peer);
/* The daemon's role changed (the contract logs it with the heartbeats). */
void ft_hb_switch(const char *old_state, const char *new_state);
/* Verbose log: one received datagram, already rendered. */
void ft_hb_received(int src, const char *contents, int64_t node_time_ms);
/* Rejected datagrams are logged one by one up to a rate (per second;
 * ft_log_set_rejected_rate; a flood must not flood the logs, the metrics
 * count them all), then counted and summed up in one line once the second
 * is over (at the next rejection or ft_hb_rejected_flush, which the gossip
 * tick calls). */
void ft_hb_rejected(const char *from, const char *why, int64_t node_time_ms);
/* n entries of an accepted datagram were not believed (why); logged like
 * a rejection, within the same budget. */
void ft_hb_ignored_entries(const char *from, size_t n, const char *why, int64_t node_time_ms);
void ft_hb_rejected_flush(void);

#endif
