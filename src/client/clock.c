#include "client/clock.h"

#include <time.h>

volatile sig_atomic_t ftctl_interrupted;

static void on_sigint(int sig)
{
	ftctl_interrupted = 1;
}

void ftctl_catch_interrupts(void)
{
	signal(SIGINT, on_sigint);
	signal(SIGTERM, on_sigint);
}

void ftctl_sleep_s(double s)
{
	struct timespec ts = { (time_t)s, (long)((s - (double)(time_t)s) * 1e9) };
	while (!ftctl_interrupted && nanosleep(&ts, &ts) != 0)
		;
}

double ftctl_now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}
