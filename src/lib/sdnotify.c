#include "lib/sdnotify.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include <time.h>

#include "lib/log.h"

static struct {
	sd_event_source *timer;
	uint64_t period_us;
	bool (*healthy)(void *ud);
	void *ud;
} W;

static bool ready_sent;
static char last_status[512];

void ft_sd_ready(void)
{
	ready_sent = true;
	sd_notify(0, "READY=1");
}

bool ft_sd_ready_sent(void)
{
	return ready_sent;
}

void ft_sd_reloading(void)
{
	/* With the time, Type=notify-reload (systemd 253) can tell this reload
	 * from an earlier one. */
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu",
		   (unsigned long long)ts.tv_sec * 1000000ULL +
			   (unsigned long long)ts.tv_nsec / 1000);
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
	/* Refreshed every second by the daemons: only changes are sent. */
	if (strcmp(msg, last_status) == 0)
		return;
	memcpy(last_status, msg, sizeof(last_status));
	sd_notifyf(0, "STATUS=%s", msg);
}

bool ft_sd_ready_when(bool connected, int64_t started_ms, int64_t now_ms, int start_wait_ms)
{
	if (ready_sent)
		return false;
	if (connected) {
		ft_sd_ready();
		return false;
	}
	if (now_ms - started_ms < start_wait_ms)
		return false;
	ft_sd_ready();
	return true;
}

static struct {
	sd_event_source *timer;
	uint64_t period_us;
	void (*fn)(void *ud);
	void *ud;
} S;

static int status_cb(sd_event_source *s, uint64_t usec, void *ud)
{
	S.fn(S.ud);
	sd_event_source_set_time(s, usec + S.period_us);
	return 0;
}

int ft_sd_status_timer(sd_event *ev, int period_ms, void (*fn)(void *ud), void *ud)
{
	S.fn = fn;
	S.ud = ud;
	S.period_us = (uint64_t)period_ms * 1000;
	uint64_t now;
	sd_event_now(ev, CLOCK_MONOTONIC, &now);
	int r = sd_event_add_time(ev, &S.timer, CLOCK_MONOTONIC, now + S.period_us, 100000,
				  status_cb, NULL);
	if (r >= 0)
		r = sd_event_source_set_enabled(S.timer, SD_EVENT_ON);
	/* Floating with the loop: freed when the loop is. */
	if (r >= 0)
		sd_event_source_set_floating(S.timer, true);
	return r;
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
