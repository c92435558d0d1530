/* Time for ftctl's loops: a monotonic clock, and a sleep that SIGINT and
 * SIGTERM cut short, ending the loop (watch, logs --follow) cleanly. */
#ifndef FTCTL_CLOCK_H
#define FTCTL_CLOCK_H

#include <signal.h>

/* Set by SIGINT or SIGTERM once ftctl_catch_interrupts was called. */
extern volatile sig_atomic_t ftctl_interrupted;

void ftctl_catch_interrupts(void);
/* Sleeps s seconds, or less if interrupted. */
void ftctl_sleep_s(double s);
/* Seconds of CLOCK_MONOTONIC. */
double ftctl_now_s(void);

#endif
