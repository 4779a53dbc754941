/*
 * output — one destination of the stream (RTMP/RTMPS publisher or .flv recording), with its own
 * bounded queue and sender thread.
 *
 * The pipeline pushes every FLV tag to every output; push never blocks. The sender thread
 * connects, sends the stream headers (onMetaData, AVC and AAC sequence headers) and then the
 * queued tags from a keyframe on, with timestamps rebased so each connection starts at 0. On a
 * write error a retrying output reconnects with growing, jittered, interruptible delay and
 * resumes at a keyframe with fresh headers. A slow or dead output drops by policy (see
 * output_queue.h) and never stalls the pipeline or another output.
 */
#ifndef AGENTCAST_MEDIA_OUTPUT_H
#define AGENTCAST_MEDIA_OUTPUT_H

#include <stdbool.h>
#include <stdint.h>

#include "media/flv.h"

struct output_options {
    int64_t drop_threshold_ms;  /* queued duration above which non-key video is dropped (700) */
    int connect_timeout_ms;     /* resolve + TCP + TLS + RTMP handshake (10000) */
    int io_timeout_ms;          /* one send or receive (5000) */
    const char *ca_file;        /* extra CA (PEM) for RTMPS, or NULL */
    int reconnect_initial_ms;   /* 1000 */
    double reconnect_factor;    /* 1.5 */
    int reconnect_max_ms;       /* 30000 */
    int flush_timeout_ms;       /* how long stop may spend sending what is queued (1200) */
    /* Set by the output wrapper for its backend (callers leave it -1): an eventfd that becomes
     * readable when the output must give up at once (stop requested and the flush deadline
     * passed, or stop while not connected). Backends watch it wherever they may block —
     * resolve, connect, TLS and RTMP handshakes, writes — and then fail with -ECANCELED. */
    int cancel_fd;
    /* Optional: asked for the URL before every (re)connect. Returns a malloc'd URL the output
     * frees, or NULL to keep using the last one. Called on the output's thread. */
    char *(*url_provider)(void *opaque, bool reconnect);
    void *url_provider_opaque;
};

void output_options_default(struct output_options *opts);

/* A transport: how to open, write to and close one kind of destination. */
struct output_backend_ops {
    const char *name;     /* "rtmp", "file" */
    bool retry;           /* reconnect after a failure (rtmp) or give up (file) */
    /* Opens url. On failure returns a negative errno after logging the reason once, naming
     * the destination (never the stream key). -EPERM (certificate refused), -EINVAL and -ENOENT
     * (unusable URL or CA file) are final: the output gives up instead of retrying. -ECANCELED
     * when opts->cancel_fd fired. *state is the backend's. */
    int (*open)(void **state, const char *url, const struct output_options *opts);
    /* Sends one tag with the given (rebased) timestamp; 0 or a negative errno. */
    int (*write)(void *state, const struct flv_tag *tag, int64_t ts_ms);
    /* Closes cleanly (file: header fixed up and fsync'd; rtmp: deleteStream) and frees. */
    void (*close)(void *state);
};

extern const struct output_backend_ops output_rtmp_backend; /* src/net/rtmp_output.c */
extern const struct output_backend_ops output_file_backend; /* src/media/file_output.c */

struct output_stats {
    char name[512];            /* the URL in use now, redacted (it changes with fresh keys) */
    bool connected;
    uint64_t bytes_sent;       /* cumulative */
    uint64_t video_sent;       /* cumulative video tags written */
    uint64_t video_dropped;    /* cumulative video tags dropped by policy or reconnect */
    uint32_t reconnects;       /* cumulative successful reconnects after a failure */
    int64_t queued_ms;         /* queued duration now */
    uint64_t queued_bytes;
    int64_t latency_p50_us;    /* capture→socket since the previous call, -1 if none */
    int64_t latency_p99_us;
    bool failed;               /* a non-retrying output gave up */
};

struct output;

/* Starts an output for url with the backend chosen from its scheme (rtmp://, rtmps://, or a
 * path ending in .flv). Does not block on the network. NULL with a logged reason on bad URL. */
struct output *output_start(const char *url, const struct output_options *opts);
/* Sets the headers sent after every connect; takes references. Tags may be NULL until known. */
void output_set_headers(struct output *out, struct flv_tag *metadata, struct flv_tag *avc,
                        struct flv_tag *aac);
/* Queues a tag (takes a reference); never blocks. */
void output_push(struct output *out, struct flv_tag *tag);
/* Counters now; resets the latency window. */
void output_get_stats(struct output *out, struct output_stats *stats);
/* true once a non-retrying output, or one refused for good (e.g. an untrusted certificate), has
 * given up. Cheap: may be called on every frame. */
bool output_failed(struct output *out);
/* The URL as it may be logged: stream key replaced by "…" plus its last 4 characters. */
const char *output_display_name(const struct output *out);
/* Drops the current connection (or attempt) at once and connects again without delay, asking
 * url_provider (reconnect = true) for the URL first: a platform's recovery with fresh keys.
 * Non-retrying outputs ignore it. Any thread. */
void output_reconnect(struct output *out);
/* Asks the sender to send what is queued (up to flush_timeout_ms) and close; returns at once,
 * so that several outputs flush at the same time. NULL ok. */
void output_stop_begin(struct output *out);
/* output_stop_begin, then waits until the sender has closed. Stats stay readable. NULL ok. */
void output_join(struct output *out);
/* output_join, then frees. NULL ok. */
void output_stop(struct output *out);

#endif
