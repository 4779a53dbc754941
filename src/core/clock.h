/*
 * clock — monotonic time in nanoseconds, and sleeping until a deadline on that clock.
 */
#ifndef AGENTCAST_CORE_CLOCK_H
#define AGENTCAST_CORE_CLOCK_H

#include <stdint.h>

#define NS_PER_SEC 1000000000LL
#define NS_PER_MS 1000000LL

/* CLOCK_MONOTONIC now, in ns. */
int64_t clock_now_ns(void);
/* Sleeps until CLOCK_MONOTONIC reaches deadline_ns (returns at once if it has passed). */
void clock_sleep_until_ns(int64_t deadline_ns);

#endif
