#include "lib/sdnotify.h"

#include <stdarg.h>
#include <stdio.h>
#include <systemd/sd-daemon.h>

#include "lib/log.h"

static struct {
	sd_event_source *timer;
	uint64_t period_us;
	bool (*healthy)(void *ud);
	void *ud;
} W;

void ft_sd_ready(void)
{
	sd_notify(0, "READY=1");
}

void ft_sd_reloading(void)
{
	sd_notify(0, "RELOADING=1");
}

void ft_sd_stopping(void)
{
	sd_notify(0, "STOPPING=1");
}

void ft_sd_status(const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	sd_notifyf(0, "STATUS=%s", msg);
}

static int watchdog_cb(sd_event_source *s, uint64_t usec, void *ud)
{
	if (!W.healthy || W.healthy(W.ud))
		sd_notify(0, "WATCHDOG=1");
	else
		ft_log_warn("watchdog: daemon not making progress, withholding WATCHDOG=1");
	sd_event_source_set_time(s, usec + W.period_us / 2);
	return 0;
}

int ft_sd_watchdog_start(sd_event *ev, bool (*healthy)(void *ud), void *ud)
{
	uint64_t usec = 0;
	if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0)
		return 0;
	W.period_us = usec;
	W.healthy = healthy;
	W.ud = ud;
	uint64_t now;
	sd_event_now(ev, CLOCK_MONOTONIC, &now);
	int r = sd_event_add_time(ev, &W.timer, CLOCK_MONOTONIC, now + usec / 2, 0, watchdog_cb,
				  NULL);
	if (r >= 0)
		sd_event_source_set_enabled(W.timer, SD_EVENT_ON);
	ft_log_info("systemd watchdog enabled: pinging every %llu ms",
		    (unsigned long long)(usec / 2000));
	return r;
}
