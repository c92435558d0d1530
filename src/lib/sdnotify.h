/* Every systemd service-manager call lives here: READY, STATUS, WATCHDOG,
 * STOPPING.  Outside systemd (no NOTIFY_SOCKET) each call is a cheap no-op. */
#ifndef FT_SDNOTIFY_H
#define FT_SDNOTIFY_H

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-event.h>

void ft_sd_ready(void);
void ft_sd_stopping(void);
void ft_sd_reloading(void);
void ft_sd_status(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Watchdog: if systemd asked for one, ping every half period from a loop
 * timer, but only while healthy() says the daemon's parts make progress. */
int ft_sd_watchdog_start(sd_event *ev, bool (*healthy)(void *ud), void *ud);

#endif
