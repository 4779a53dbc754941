/*
 * output — one destination of the stream: a bounded queue (output_queue.c), a backend
 * (src/net/rtmp_output.c or file_output.c) and the sender thread that connects, sends the stream
 * headers, streams the queue from a keyframe on and reconnects. It sits at the end of the data
 * plane: the media thread pushes and never waits; only the sender thread touches the network.
 *
 * Decisions the header leaves to this file:
 *  - The reconnect delay goes back to reconnect_initial_ms after a connection that stayed up
 *    OUTPUT_HEALTHY_CONNECTION_MS (10 s), not after one that sent a keyframe: an ingest that
 *    accepts and then drops at once (refused key, full server) would otherwise be retried every
 *    reconnect_initial_ms forever.
 *  - A reconnect is counted when an open succeeds after any earlier failure (open or write).
 *  - output_set_headers with a NULL tag leaves that kind as it was.
 *  - Before each media tag, every stored header that this connection has not sent yet goes out
 *    first (right after connect: at timestamp 0; later: at the last timestamp sent). So headers
 *    set late, or pushed mid-stream, reach the current connection and every later one.
 *  - Video tags skipped while waiting for a keyframe, or lost in a failed write, count as
 *    dropped (video_dropped), together with the queue's policy drops.
 *  - Once stop is requested no new connection is attempted, except the one attempt of a
 *    non-retrying backend: a file opens locally and must still receive what was queued.
 *  - output_display_name is the redacted URL given to output_start; the sender's log lines name
 *    the URL actually used (a url_provider may change it).
 */
#include "media/output.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/percentile.h"
#include "media/output_internal.h"
#include "media/output_queue.h"
#include "net/stream_url.h"

#define POP_WAIT_MS 1000     /* the sender also wakes on push and stop; this is a safety net */
#define MAX_FAILURE_COUNT 64 /* the delay has long reached its cap by then */
#define JITTER 0.2
#define JOIN_SLACK_MS 200    /* after the flush deadline, before a blocked backend is cancelled */

static const char *COMPONENT = "output";

enum { HDR_META, HDR_AVC, HDR_AAC, HDR_KINDS };

struct output {
    const struct output_backend_ops *backend;
    struct output_options opts;
    char *ca_file;      /* opts.ca_file points here */
    char *url;          /* the URL of the next connect; sender thread only once started */
    bool check_backend; /* provider URLs must map to the same backend (output_start) */
    char *display;      /* redacted start URL */
    struct output_queue *queue;
    pthread_t thread;
    int cancel_fd;  /* eventfd handed to the backend as opts.cancel_fd */
    bool joined; /* output_join has returned; control thread only */
    atomic_bool failed;
    atomic_bool reconnect_requested; /* output_reconnect: drop this connection, no delay */
    atomic_uint header_gen; /* bumped whenever headers[] changes */

    pthread_mutex_t lock; /* guards the members below */
    char current[512];    /* redacted URL in use now */
    pthread_cond_t cond;  /* signalled by output_stop */
    bool stop;
    int64_t stop_deadline_ns;
    struct flv_tag *headers[HDR_KINDS];
    bool connected;
    uint64_t bytes_sent, video_sent, video_skipped;
    uint32_t reconnects;
    struct percentile_window latency_us;
};

/* What the sender knows about the connection it is feeding. */
struct connection {
    void *state;                     /* the backend's */
    struct flv_tag *sent[HDR_KINDS]; /* references to the headers this connection has sent */
    unsigned header_gen;             /* header_gen when sent[] was last brought up to date */
    bool synced;                     /* a keyframe has been sent */
    int64_t base_ms;                 /* dts of that keyframe, sent as timestamp 0 */
    int64_t last_ts;
};

void output_options_default(struct output_options *opts)
{
    *opts = (struct output_options){
        .drop_threshold_ms = 700,
        .connect_timeout_ms = 10000,
        .io_timeout_ms = 5000,
        .ca_file = NULL,
        .reconnect_initial_ms = 1000,
        .reconnect_factor = 1.5,
        .reconnect_max_ms = 30000,
        .flush_timeout_ms = 1200,
        .cancel_fd = -1,
        .url_provider = NULL,
        .url_provider_opaque = NULL,
    };
}

int output_reconnect_delay_ms(const struct output_options *opts, int failures, uint32_t *rng)
{
    double cap = opts->reconnect_max_ms;
    double base = opts->reconnect_initial_ms;
    for (int i = 0; i < failures && base < cap; i++)
        base *= opts->reconnect_factor;
    if (base > cap)
        base = cap;
    uint32_t x = *rng ? *rng : 0x9e3779b9u;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    *rng = x;
    double delay = base * (1.0 - JITTER + 2.0 * JITTER * ((double)x / 4294967296.0));
    if (delay > cap)
        delay = cap;
    return delay > 0 ? (int)(delay + 0.5) : 0;
}

static int header_kind(const struct flv_tag *tag)
{
    switch (tag->type) {
    case FLV_TAG_VIDEO:
        return HDR_AVC;
    case FLV_TAG_AUDIO:
        return HDR_AAC;
    default:
        return HDR_META;
    }
}

static bool is_media_video(const struct flv_tag *tag)
{
    return tag->type == FLV_TAG_VIDEO && !tag->header;
}

static void store_header_locked(struct output *out, struct flv_tag *tag)
{
    int k = header_kind(tag);
    if (out->headers[k] == tag)
        return;
    flv_tag_unref(out->headers[k]);
    out->headers[k] = flv_tag_ref(tag);
    atomic_fetch_add(&out->header_gen, 1);
}

/* true once output_stop has been called; *deadline_ns (may be NULL) is the flush deadline. */
static bool stop_requested(struct output *out, int64_t *deadline_ns)
{
    pthread_mutex_lock(&out->lock);
    bool stop = out->stop;
    if (deadline_ns)
        *deadline_ns = out->stop_deadline_ns;
    pthread_mutex_unlock(&out->lock);
    return stop;
}

/* Sleeps delay_ms, or less if output_stop is called meanwhile. */
static void wait_for_stop(struct output *out, int delay_ms)
{
    int64_t deadline = clock_now_ns() + (int64_t)delay_ms * NS_PER_MS;
    struct timespec ts = {.tv_sec = deadline / NS_PER_SEC, .tv_nsec = deadline % NS_PER_SEC};
    pthread_mutex_lock(&out->lock);
    while (!out->stop)
        if (pthread_cond_timedwait(&out->cond, &out->lock, &ts) == ETIMEDOUT)
            break;
    pthread_mutex_unlock(&out->lock);
}

static int write_tag(struct output *out, struct connection *c, const struct flv_tag *tag,
                     int64_t ts_ms)
{
    int rc = out->backend->write(c->state, tag, ts_ms);
    if (rc < 0)
        return rc;
    int64_t now = clock_now_ns();
    pthread_mutex_lock(&out->lock);
    out->bytes_sent += tag->size;
    if (is_media_video(tag)) {
        out->video_sent++;
        if (tag->capture_ns > 0)
            percentile_add(&out->latency_us, (now - tag->capture_ns) / 1000);
    }
    pthread_mutex_unlock(&out->lock);
    if (ts_ms > c->last_ts)
        c->last_ts = ts_ms;
    return 0;
}

/* Sends, in the order metadata, AVC, AAC, each stored header this connection has not sent. */
static int send_pending_headers(struct output *out, struct connection *c)
{
    unsigned gen = atomic_load(&out->header_gen);
    if (gen == c->header_gen)
        return 0;
    for (int k = 0; k < HDR_KINDS; k++) {
        pthread_mutex_lock(&out->lock);
        struct flv_tag *h = out->headers[k];
        h = !h || h == c->sent[k] ? NULL : flv_tag_ref(h);
        pthread_mutex_unlock(&out->lock);
        if (!h)
            continue;
        int rc = write_tag(out, c, h, c->last_ts);
        if (rc < 0) {
            flv_tag_unref(h);
            return rc;
        }
        flv_tag_unref(c->sent[k]);
        c->sent[k] = h;
    }
    c->header_gen = gen;
    return 0;
}

/* One popped tag: headers are stored and sent; media waits for a keyframe, then is rebased. */
static int handle_tag(struct output *out, struct connection *c, struct flv_tag *tag)
{
    if (tag->header) {
        pthread_mutex_lock(&out->lock);
        store_header_locked(out, tag);
        pthread_mutex_unlock(&out->lock);
        return send_pending_headers(out, c);
    }
    if (!c->synced) {
        if (tag->type != FLV_TAG_VIDEO || !tag->keyframe) {
            if (tag->type == FLV_TAG_VIDEO) {
                pthread_mutex_lock(&out->lock);
                out->video_skipped++;
                pthread_mutex_unlock(&out->lock);
            }
            return 0;
        }
        c->synced = true;
        c->base_ms = tag->dts_ms;
    }
    if (tag->dts_ms < c->base_ms)
        return 0; /* audio from before the keyframe this connection starts at */
    int rc = send_pending_headers(out, c);
    if (rc < 0)
        return rc;
    return write_tag(out, c, tag, tag->dts_ms - c->base_ms);
}

/* Feeds the connection until a write fails (negative errno) or, after output_stop, until the
 * queue is empty or the flush deadline has passed (0). */
static int run_connection(struct output *out, struct connection *c)
{
    for (;;) {
        int64_t deadline = 0;
        bool stopping = stop_requested(out, &deadline);
        if (stopping && clock_now_ns() >= deadline) {
            if (output_queue_bytes(out->queue) > 0)
                log_warn(COMPONENT, "%s: flush timed out, queued_ms=%lld left unsent", out->display,
                         (long long)output_queue_duration_ms(out->queue));
            return 0;
        }
        struct flv_tag *tag = output_queue_pop(out->queue, stopping ? 0 : POP_WAIT_MS);
        if (!tag) {
            if (stopping)
                return 0;
            continue;
        }
        int rc = handle_tag(out, c, tag);
        if (rc < 0 && is_media_video(tag)) {
            pthread_mutex_lock(&out->lock);
            out->video_skipped++;
            pthread_mutex_unlock(&out->lock);
        }
        flv_tag_unref(tag);
        if (rc < 0)
            return rc;
    }
}

static void set_connected(struct output *out, bool connected, bool count_reconnect)
{
    output_queue_set_connected(out->queue, connected);
    pthread_mutex_lock(&out->lock);
    out->connected = connected;
    if (count_reconnect)
        out->reconnects++;
    pthread_mutex_unlock(&out->lock);
}

/* Runs one open connection to its end and closes it: 0 after a requested stop, else the
 * negative errno of the failed write (the queue is then cleared: it resumes at a keyframe). */
static int stream_connection(struct output *out, struct connection *c, bool reconnect)
{
    char name[1024];
    stream_url_redact(out->url, name, sizeof(name));
    set_connected(out, true, reconnect);
    /* Backends log their own connect and loss with the details they know. */
    log_debug(COMPONENT, "connected to %s", name);
    c->header_gen = atomic_load(&out->header_gen) - 1; /* force the first header check */
    int rc = send_pending_headers(out, c);
    if (rc == 0)
        rc = run_connection(out, c);
    /* Disconnected before the close: a close may block, and meanwhile pushes must already see
     * the disconnected policy. */
    set_connected(out, false, false);
    if (rc < 0) {
        log_debug(COMPONENT, "%s: connection lost: %s", name, strerror(-rc));
        output_queue_clear(out->queue);
    }
    out->backend->close(c->state);
    for (int k = 0; k < HDR_KINDS; k++)
        flv_tag_unref(c->sent[k]);
    return rc;
}

static const struct output_backend_ops *backend_for(enum stream_url_kind kind)
{
    return kind == STREAM_URL_FILE ? &output_file_backend : &output_rtmp_backend;
}

/* Asks the url_provider, if any, for the URL of the next connect. */
static void update_url(struct output *out, bool reconnect)
{
    if (!out->opts.url_provider)
        return;
    char *url = out->opts.url_provider(out->opts.url_provider_opaque, reconnect);
    if (!url)
        return;
    if (out->check_backend) {
        struct stream_url *parsed = malloc(sizeof(*parsed));
        char err[256] = "";
        bool ok = false;
        if (!parsed)
            snprintf(err, sizeof(err), "out of memory");
        else if (stream_url_parse(url, parsed, err, sizeof(err)) == 0)
            ok = backend_for(parsed->kind) == out->backend;
        if (!ok && !err[0])
            snprintf(err, sizeof(err), "not a %s destination", out->backend->name);
        free(parsed);
        if (!ok) {
            log_error(COMPONENT, "%s: new URL refused (%s), keeping the previous one", out->display,
                      err);
            free(url);
            return;
        }
    }
    free(out->url);
    out->url = url;
    pthread_mutex_lock(&out->lock);
    stream_url_redact(url, out->current, sizeof(out->current));
    pthread_mutex_unlock(&out->lock);
}

static void give_up(struct output *out)
{
    atomic_store(&out->failed, true);
    output_queue_clear(out->queue);
    log_error(COMPONENT, "%s: output failed; dropping what it would have received", out->display);
}

/* Failures that retrying cannot mend: a certificate that is not trusted or not for the host
 * (-EPERM), a URL or CA file that is unusable (-EINVAL, -ENOENT). */
static bool refused_for_good(int rc)
{
    return rc == -EPERM || rc == -EINVAL || rc == -ENOENT;
}

static void *sender_main(void *arg)
{
    struct output *out = arg;
    uint32_t rng = (uint32_t)clock_now_ns() ^ (uint32_t)(uintptr_t)out;
    int failures = 0;
    bool attempted = false, had_failure = false;
    for (;;) {
        if (out->backend->retry && stop_requested(out, NULL))
            break;
        update_url(out, attempted);
        attempted = true;
        struct connection c = {0};
        int rc = out->backend->open(&c.state, out->url, &out->opts);
        if (rc == 0) {
            int64_t opened = clock_now_ns();
            rc = stream_connection(out, &c, had_failure);
            if (rc == 0)
                break;
            if (clock_now_ns() - opened >= OUTPUT_HEALTHY_CONNECTION_MS * NS_PER_MS)
                failures = 0;
        }
        had_failure = true;
        if (!out->backend->retry || refused_for_good(rc)) {
            give_up(out);
            break;
        }
        if (atomic_exchange(&out->reconnect_requested, false)) {
            /* Asked for (fresh keys from the platform): the cancel that cut the connection
             * must not cut the next attempt too. A stop after this is checked below. */
            uint64_t count;
            ssize_t unused = read(out->cancel_fd, &count, sizeof(count));
            (void)unused;
            if (stop_requested(out, NULL))
                break;
            log_info(COMPONENT, "%s: reconnecting now, as asked", out->display);
            continue;
        }
        if (stop_requested(out, NULL))
            break;
        int delay = output_reconnect_delay_ms(&out->opts, failures, &rng);
        if (failures < MAX_FAILURE_COUNT)
            failures++;
        log_info(COMPONENT, "%s: reconnecting in %d ms", out->display, delay);
        wait_for_stop(out, delay);
    }
    return NULL;
}

static void output_free(struct output *out)
{
    output_queue_destroy(out->queue);
    for (int k = 0; k < HDR_KINDS; k++)
        flv_tag_unref(out->headers[k]);
    pthread_cond_destroy(&out->cond);
    pthread_mutex_destroy(&out->lock);
    if (out->cancel_fd >= 0)
        close(out->cancel_fd);
    free(out->url);
    free(out->ca_file);
    free(out->display);
    free(out);
}

static struct output *output_create(const struct output_backend_ops *ops, const char *url,
                                    const struct output_options *opts)
{
    struct output *out = calloc(1, sizeof(*out));
    if (!out)
        return NULL;
    out->backend = ops;
    if (opts)
        out->opts = *opts;
    else
        output_options_default(&out->opts);
    pthread_mutex_init(&out->lock, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&out->cond, &attr);
    pthread_condattr_destroy(&attr);
    percentile_reset(&out->latency_us);
    size_t display_size = strlen(url) + 16;
    out->url = strdup(url);
    out->display = malloc(display_size);
    out->ca_file = out->opts.ca_file ? strdup(out->opts.ca_file) : NULL;
    out->opts.ca_file = out->ca_file;
    out->cancel_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    out->opts.cancel_fd = out->cancel_fd;
    out->queue = output_queue_create(out->opts.drop_threshold_ms, OUTPUT_QUEUE_MAX_BYTES);
    if (!out->url || !out->display || (opts && opts->ca_file && !out->ca_file) || !out->queue ||
        out->cancel_fd < 0) {
        log_error(COMPONENT, "cannot start an output: out of memory");
        output_free(out);
        return NULL;
    }
    stream_url_redact(url, out->display, display_size);
    stream_url_redact(url, out->current, sizeof(out->current));
    return out;
}

static struct output *output_launch(struct output *out)
{
    if (pthread_create(&out->thread, NULL, sender_main, out) != 0) {
        log_error(COMPONENT, "%s: cannot start the sender thread", out->display);
        output_free(out);
        return NULL;
    }
    return out;
}

struct output *output_start_with_backend(const struct output_backend_ops *ops, const char *url,
                                         const struct output_options *opts)
{
    struct output *out = output_create(ops, url, opts);
    return out ? output_launch(out) : NULL;
}

struct output *output_start(const char *url, const struct output_options *opts)
{
    struct stream_url *parsed = malloc(sizeof(*parsed));
    char err[256] = "";
    if (!parsed) {
        log_error(COMPONENT, "cannot start an output: out of memory");
        return NULL;
    }
    int rc = stream_url_parse(url, parsed, err, sizeof(err));
    enum stream_url_kind kind = rc == 0 ? parsed->kind : STREAM_URL_FILE;
    free(parsed);
    if (rc < 0) {
        char name[1024];
        stream_url_redact(url, name, sizeof(name));
        log_error(COMPONENT, "bad output %s: %s", name, err[0] ? err : "invalid URL");
        return NULL;
    }
    struct output *out = output_create(backend_for(kind), url, opts);
    if (!out)
        return NULL;
    out->check_backend = true;
    return output_launch(out);
}

void output_set_headers(struct output *out, struct flv_tag *metadata, struct flv_tag *avc,
                        struct flv_tag *aac)
{
    if (!out)
        return;
    pthread_mutex_lock(&out->lock);
    if (metadata)
        store_header_locked(out, metadata);
    if (avc)
        store_header_locked(out, avc);
    if (aac)
        store_header_locked(out, aac);
    pthread_mutex_unlock(&out->lock);
}

void output_push(struct output *out, struct flv_tag *tag)
{
    if (!out || !tag || atomic_load(&out->failed))
        return;
    output_queue_push(out->queue, tag);
}

void output_get_stats(struct output *out, struct output_stats *stats)
{
    memset(stats, 0, sizeof(*stats));
    pthread_mutex_lock(&out->lock);
    memcpy(stats->name, out->current, sizeof(stats->name));
    stats->connected = out->connected;
    stats->bytes_sent = out->bytes_sent;
    stats->video_sent = out->video_sent;
    stats->video_dropped = out->video_skipped;
    stats->reconnects = out->reconnects;
    stats->latency_p50_us = percentile_get(&out->latency_us, 50);
    stats->latency_p99_us = percentile_get(&out->latency_us, 99);
    percentile_reset(&out->latency_us);
    pthread_mutex_unlock(&out->lock);
    stats->video_dropped += output_queue_video_dropped(out->queue);
    stats->queued_ms = output_queue_duration_ms(out->queue);
    stats->queued_bytes = output_queue_bytes(out->queue);
    stats->failed = atomic_load(&out->failed);
}

bool output_failed(struct output *out)
{
    return out && atomic_load(&out->failed);
}

const char *output_display_name(const struct output *out)
{
    return out ? out->display : "(none)";
}

/* Makes the backend's blocked calls fail at once (see output_options.cancel_fd). */
static void cancel_backend(struct output *out)
{
    uint64_t one = 1;
    ssize_t unused = write(out->cancel_fd, &one, sizeof(one));
    (void)unused;
}

void output_reconnect(struct output *out)
{
    if (!out || !out->backend->retry)
        return;
    atomic_store(&out->reconnect_requested, true);
    cancel_backend(out);
}

void output_stop_begin(struct output *out)
{
    if (!out)
        return;
    pthread_mutex_lock(&out->lock);
    if (!out->stop) {
        out->stop = true;
        out->stop_deadline_ns = clock_now_ns() + (int64_t)out->opts.flush_timeout_ms * NS_PER_MS;
    }
    bool connected = out->connected;
    pthread_cond_broadcast(&out->cond);
    pthread_mutex_unlock(&out->lock);
    output_queue_wake(out->queue);
    /* Nothing to flush while connecting or waiting to reconnect: give up on the attempt now. */
    if (!connected)
        cancel_backend(out);
}

void output_join(struct output *out)
{
    if (!out || out->joined)
        return;
    output_stop_begin(out);
    /* The sender stops by itself at the flush deadline unless a backend call is blocked on the
     * network; past the deadline (and a little slack for a clean close), cancel that call. */
    int64_t limit = out->stop_deadline_ns + JOIN_SLACK_MS * NS_PER_MS;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts); /* pthread_timedjoin_np takes CLOCK_REALTIME */
    int64_t realtime_limit = (int64_t)ts.tv_sec * NS_PER_SEC + ts.tv_nsec +
                             (limit - clock_now_ns());
    ts.tv_sec = (time_t)(realtime_limit / NS_PER_SEC);
    ts.tv_nsec = (long)(realtime_limit % NS_PER_SEC);
    if (pthread_timedjoin_np(out->thread, NULL, &ts) != 0) {
        cancel_backend(out);
        pthread_join(out->thread, NULL);
    }
    out->joined = true;
}

void output_stop(struct output *out)
{
    if (!out)
        return;
    output_join(out);
    output_free(out);
}
