/* Logging: one call per event, fanned out to its sinks by this module.
 *
 * - Daemon messages (ft_log_*) go to journald with structured fields when
 *   stderr is connected to the journal (systemd sets JOURNAL_STREAM), else to
 *   stderr in a form a person reads.
 * - Heartbeat events (ft_hb_*) keep the contract's exact wording.  They go to
 *   the node's summary heartbeat log file, to journald with FT_ fields when
 *   available, and the two the contract names (SERVER FAILED, switching) to
 *   standard output as well.  Every received gossip datagram goes to the
 *   verbose heartbeat log file.
 * Files are size-bounded: at max_file_bytes a file is rotated to "<name>.1". */
#ifndef FT_LOG_H
#define FT_LOG_H

#include <stddef.h>
#include <stdint.h>
#include <syslog.h>

#define FT_PRINTF(a, b) __attribute__((format(printf, a, b)))

/* daemon: "ftnode" / "ftgw"; self_id: member ID used as the "<id>:" prefix;
 * hb_dir: directory for summary.log and verbose.log (NULL: no files). */
int ft_log_open(const char *daemon, int self_id, const char *hb_dir, size_t max_file_bytes);
void ft_log_close(void);
void ft_log_set_level(int prio);
/* "error", "warning", "notice", "info", "debug" -> LOG_*; -1 if unknown. */
int ft_log_level_from_name(const char *name);

void ft_log(int prio, const char *fmt, ...) FT_PRINTF(2, 3);
#define ft_log_err(...) ft_log(LOG_ERR, __VA_ARGS__)
#define ft_log_warn(...) ft_log(LOG_WARNING, __VA_ARGS__)
#define ft_log_notice(...) ft_log(LOG_NOTICE, __VA_ARGS__)
#define ft_log_info(...) ft_log(LOG_INFO, __VA_ARGS__)
#define ft_log_debug(...) ft_log(LOG_DEBUG, __VA_ARGS__)

/* Request lifecycle and election events, with their FT_ fields. */
void ft_log_request(int prio, uint64_t request_id, const char *step, const char *fmt, ...)
	FT_PRINTF(4, 5);
void ft_log_election(int prio, uint64_t epoch, int leader, const char *fmt, ...) FT_PRINTF(4, 5);

/* Heartbeat events (contract wording). */
void ft_hb_failed(int peer, uint64_t incarnation);
void ft_hb_heard_failed(int peer, uint64_t incarnation, int src);
void ft_hb_updated(int peer, uint64_t heartbeat, int src, int64_t node_time_ms);
void ft_hb_joined(int peer, uint64_t incarnation, int src);
void ft_hb_rejoined(int peer, uint64_t incarnation, int src);
void ft_hb_self_rejoin(uint64_t incarnation);
void ft_hb_cleanup(int peer);
void ft_hb_switch(const char *old_state, const char *new_state);
/* Verbose log: one received datagram, already rendered. */
void ft_hb_received(int src, const char *contents, int64_t node_time_ms);
/* Rejected datagrams are logged one by one up to a rate (per second; a
 * flood must not flood the logs, the metrics count them all), then counted
 * and summed up in one line once the second is over (at the next
 * rejection or ft_hb_rejected_flush, which the gossip tick calls). */
void ft_hb_rejected(const char *from, const char *why, int64_t node_time_ms);
void ft_hb_rejected_flush(void);
void ft_log_set_rejected_rate(int per_second);

/* Paths of the heartbeat log files ("" when files are off). */
const char *ft_log_summary_path(void);
const char *ft_log_verbose_path(void);

#endif
