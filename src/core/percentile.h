/*
 * percentile — a window of latency samples and its p50/p99, for the once-a-second stats.
 * Not thread-safe: the owner locks.
 */
#ifndef AGENTCAST_CORE_PERCENTILE_H
#define AGENTCAST_CORE_PERCENTILE_H

#include <stddef.h>
#include <stdint.h>

#define PERCENTILE_WINDOW_MAX 4096

struct percentile_window {
    int64_t samples[PERCENTILE_WINDOW_MAX];
    size_t count;   /* samples held (the newest PERCENTILE_WINDOW_MAX) */
    size_t next;    /* ring position */
};

void percentile_reset(struct percentile_window *w);
void percentile_add(struct percentile_window *w, int64_t value);
/* Nearest-rank percentile (0 < p <= 100) of the samples held; -1 when there are none. */
int64_t percentile_get(const struct percentile_window *w, double p);

#endif
