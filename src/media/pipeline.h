/*
 * pipeline — the data plane: source → encoder → FLV muxer (+ silent AAC) → outputs.
 *
 * One media thread paces the source on the frame clock, has it draw into the encoder's input
 * buffer, encodes, muxes and pushes every tag to every output's queue (never blocking). The
 * control plane (main thread) starts it, reads its stats once a second and stops it; it learns
 * that the pipeline ended on its own (duration reached, fatal error) through an eventfd.
 */
#ifndef AGENTCAST_MEDIA_PIPELINE_H
#define AGENTCAST_MEDIA_PIPELINE_H

#include <stdbool.h>
#include <stdint.h>

#include "hwenc/hwenc.h"
#include "media/output.h"
#include "media/thumbnail.h"
#include "platform/capture.h"

#define PIPELINE_MAX_OUTPUTS 8

struct pipeline_config {
    struct hwenc_params enc;
    const char *encoder;               /* "auto" or a backend name */
    const struct capture_ops *source;
    const void *source_options;        /* handed to the source as capture_params.options */
    const char *outputs[PIPELINE_MAX_OUTPUTS];
    int n_outputs;
    struct output_options output;
    int provider_output;               /* the one output that uses output.url_provider (-1: none) */
    double duration_sec;               /* 0 = until stopped */
    const char *dump_raw;              /* bench aid: every encoded picture, raw I420 (NULL: off) */
};

struct pipeline_output_stats {
    char name[512];                    /* redacted URL */
    struct output_stats s;
    double kbps;                       /* over the interval since the previous call */
};

struct pipeline_stats {
    double interval_sec;               /* since the previous call */
    double fps_in, fps_out;            /* frames captured / encoded per second */
    uint64_t frames_in, frames_out;    /* cumulative */
    uint64_t frames_skipped;           /* cumulative frame ticks missed because we ran late */
    int64_t encode_p50_us, encode_p99_us;  /* -1 if no sample */
    double copied_bytes_per_frame;     /* CPU-copied pixel bytes per frame over the interval */
    char encoder[128];                 /* backend description (changes after a fallback) */
    unsigned encoder_fallbacks;        /* hardware encoder failures replaced by x264 */
    int n_outputs;
    struct pipeline_output_stats outputs[PIPELINE_MAX_OUTPUTS];
};

struct pipeline;

/* Opens encoder, source and outputs and starts the media thread. NULL after logging why. */
struct pipeline *pipeline_start(const struct pipeline_config *cfg);
/* An eventfd that becomes readable when the media thread has ended on its own. */
int pipeline_event_fd(const struct pipeline *p);
/* Receives a thumbnail of a captured frame (ownership passes; NULL when out of memory). Called on
 * the media thread: hand the image over to another thread and return at once. */
typedef void (*pipeline_snapshot_fn)(void *opaque, struct thumbnail_image *img);
/* Asks for a thumbnail of the next frame the source draws. -EBUSY while one is pending. A request
 * still pending when the pipeline stops is dropped: ready is then never called. */
int pipeline_request_snapshot(struct pipeline *p, pipeline_snapshot_fn ready, void *opaque);

/* Drops output i's connection and reconnects it at once (see output_reconnect). */
void pipeline_reconnect_output(struct pipeline *p, int i);

/* Fills stats for the interval since the previous call. */
void pipeline_get_stats(struct pipeline *p, struct pipeline_stats *stats);
/* Tells the media thread and every output to stop, without waiting (pipeline_stop still must be
 * called). Any thread. */
void pipeline_stop_begin(struct pipeline *p);
/* Stops capture, flushes the encoder, sends what is queued, closes every output, fills final
 * (if not NULL) with the stats once everything is closed, and frees. Returns 0, or a negative
 * errno when the media thread had failed or an output gave up. NULL ok. */
int pipeline_stop(struct pipeline *p, struct pipeline_stats *final);

#endif
