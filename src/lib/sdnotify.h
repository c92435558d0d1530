/* Every systemd service-manager call lives here: READY, STATUS, WATCHDOG,
 * STOPPING.  Outside systemd (no NOTIFY_SOCKET) each call is a cheap no-op. */
#ifndef FT_SDNOTIFY_H
#define FT_SDNOTIFY_H

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-event.h>

void ft_sd_ready(void);
bool ft_sd_ready_sent(void);
void ft_sd_stopping(void);
void ft_sd_reloading(void);
void ft_sd_status(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Readiness when a daemon depends on ZooKeeper: READY=1 once connected,
 * or after start_wait_ms without (so that a start neither hangs nor fails
 * for want of it; the daemon keeps trying and says so in STATUS=).  Call
 * whenever the connection may have changed, and from a periodic timer.
 * Returns true when READY=1 went out now without a connection. */
bool ft_sd_ready_when(bool connected, int64_t started_ms, int64_t now_ms, int start_wait_ms);

/* Calls fn(ud) every period_ms from the loop, for STATUS= texts that count
 * time (ft_sd_status sends only changes). */
int ft_sd_status_timer(sd_event *ev, int period_ms, void (*fn)(void *ud), void *ud);

/* Watchdog: if systemd asked for one, ping every half period from a loop
 * timer, but only while healthy() says the daemon's parts make progress. */
int ft_sd_watchdog_start(sd_event *ev, bool (*healthy)(void *ud), void *ud);

#endif
