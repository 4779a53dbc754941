/*
 * output_queue — the bounded, thread-safe queue in front of each output, and its drop policy.
 *
 * Congestion is measured as queued duration (newest dts - oldest dts). Policy, applied on push:
 *  - audio and header tags are always queued;
 *  - above drop_threshold_ms, non-key video is dropped until the next keyframe;
 *  - above the hard limit (HARD_LIMIT_FACTOR x threshold, or max_bytes), all video is dropped;
 *  - while the output is disconnected, a keyframe clears the queue first, so it holds at most
 *    one GOP of what will be sent once connected.
 * Every dropped video tag is counted.
 */
#ifndef AGENTCAST_MEDIA_OUTPUT_QUEUE_H
#define AGENTCAST_MEDIA_OUTPUT_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "media/flv.h"

struct output_queue;

struct output_queue *output_queue_create(int64_t drop_threshold_ms, size_t max_bytes);
void output_queue_destroy(struct output_queue *q); /* unrefs what is left; NULL ok */
void output_queue_push(struct output_queue *q, struct flv_tag *tag); /* takes a reference */
/* The oldest tag (caller owns its reference), waiting up to timeout_ms; NULL on timeout or
 * after output_queue_wake. */
struct flv_tag *output_queue_pop(struct output_queue *q, int timeout_ms);
void output_queue_wake(struct output_queue *q);
void output_queue_set_connected(struct output_queue *q, bool connected);
/* Drops everything queued (video counted as dropped). */
void output_queue_clear(struct output_queue *q);
int64_t output_queue_duration_ms(struct output_queue *q);
size_t output_queue_bytes(struct output_queue *q);
uint64_t output_queue_video_dropped(struct output_queue *q);

#endif
