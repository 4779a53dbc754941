/*
 * output_internal — the parts of output.c that unit tests reach but the pipeline never needs:
 * starting an output on an arbitrary backend (a fake one in tests) and the reconnect delay.
 */
#ifndef AGENTCAST_MEDIA_OUTPUT_INTERNAL_H
#define AGENTCAST_MEDIA_OUTPUT_INTERNAL_H

#include <stdint.h>

#include "media/output.h"

/* A connection that stayed up this long resets the reconnect delay to reconnect_initial_ms. */
#define OUTPUT_HEALTHY_CONNECTION_MS 10000

/* Bytes an output may hold queued (the queue's max_bytes): far above a few seconds of any
 * bitrate agentcast produces, so the duration limits act first. */
#define OUTPUT_QUEUE_MAX_BYTES (32u * 1024 * 1024)

/* As output_start, but on the given backend whatever the URL looks like; opts NULL means the
 * defaults. ops must outlive the output. NULL with a logged reason on failure. */
struct output *output_start_with_backend(const struct output_backend_ops *ops, const char *url,
                                         const struct output_options *opts);

/* The delay before reconnect attempt number failures (0 for the first retry):
 * reconnect_initial_ms x reconnect_factor^failures, capped at reconnect_max_ms, then jittered by
 * up to +-20 % (and capped again). rng is the caller's xorshift32 state (never 0). */
int output_reconnect_delay_ms(const struct output_options *opts, int failures, uint32_t *rng);

#endif
