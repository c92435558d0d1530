/* Logging core: levels and sinks, one call per event.
 *
 * - Daemon messages (ft_log_*) go to journald with structured fields when
 *   stderr is connected to the journal (systemd sets JOURNAL_STREAM), else to
 *   stderr in a form a person reads.
 * - Two line files, a node's summary and verbose heartbeat logs, which
 *   gossip/hblog.c writes in the contract's wording.  They are size-bounded:
 *   at max_file_bytes a file is rotated to "<name>.1". */
#ifndef FT_LOG_H
#define FT_LOG_H

#include <stdbool.h>
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

/* ---- sinks, for the modules that word their own lines (gossip/hblog.c) ---- */

enum ft_log_file { FT_LOG_SUMMARY, FT_LOG_VERBOSE };
/* One line (without its newline) to a heartbeat log file; nothing when
 * files are off. */
void ft_log_file_line(enum ft_log_file file, const char *line);
/* Whether entries go to journald (structured) rather than to stderr. */
bool ft_log_journal(void);
/* True when standard output is the journal stream itself (systemd's
 * StandardOutput=journal): a line printed there would repeat the structured
 * entry sent for it. */
bool ft_log_stdout_is_journal(void);
/* The member ID ft_log_open was given: the "<id>:" prefix, FT_NODE. */
int ft_log_self_id(void);
/* msg to stderr as "<daemon>[<id>] <level>: msg", whatever the log level,
 * unless entries go to journald. */
void ft_log_stderr(int prio, const char *msg);

/* logging.rejected_per_second: how many rejected gossip datagrams a second
 * are logged one by one (gossip/hblog.c counts the rest). */
void ft_log_set_rejected_rate(int per_second);
int ft_log_rejected_rate(void);

/* Paths of the heartbeat log files ("" when files are off). */
const char *ft_log_summary_path(void);
const char *ft_log_verbose_path(void);

#endif
