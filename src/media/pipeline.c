/*
 * pipeline — see pipeline.h. The media thread is the only writer of the encoder, the source and
 * the muxer state; outputs are fed through their own queues. Stats counters shared with the
 * control plane are atomics or sit under stats_lock.
 */
#include "media/pipeline.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/percentile.h"
#include "hwenc/select.h"
#include "media/aac_silence.h"
#include "media/flv.h"
#include "media/muxer.h"
#include "media/raw_dump.h"

struct pipeline {
    struct pipeline_config cfg;
    struct hwenc *enc;
    struct capture *src;
    struct output *outputs[PIPELINE_MAX_OUTPUTS];
    int n_outputs;

    pthread_t thread;
    bool thread_started;
    atomic_bool stop;
    int event_fd;
    int result; /* media thread's outcome, read after join */

    struct muxer mux; /* media thread only */
    struct raw_dump *dump; /* --dump-raw; media thread only */

    pthread_mutex_t snapshot_lock; /* guards the pending snapshot request */
    pipeline_snapshot_fn snapshot_ready;
    void *snapshot_opaque;

    pthread_mutex_t stats_lock;
    struct percentile_window encode_us;
    atomic_uint_fast64_t frames_out; /* written by the media thread, read by stats */
    uint64_t frames_in, frames_skipped, copied_bytes;
    uint64_t prev_frames_in, prev_frames_out, prev_copied_frames_in, prev_copied_bytes;
    uint64_t prev_bytes_sent[PIPELINE_MAX_OUTPUTS];
    char encoder_name[128];     /* the current encoder's description, for stats */
    unsigned encoder_fallbacks;
    int64_t prev_stats_ns;
};

static const char *COMPONENT = "pipeline";

/* The muxer's sink: every tag to every output's queue. */
static int push_all(void *opaque, struct flv_tag *tag)
{
    struct pipeline *p = opaque;
    for (int i = 0; i < p->n_outputs; i++)
        output_push(p->outputs[i], tag);
    if (tag->type == FLV_TAG_VIDEO && !tag->header)
        atomic_fetch_add_explicit(&p->frames_out, 1, memory_order_relaxed);
    flv_tag_unref(tag);
    return 0;
}

static int on_packet(void *opaque, const struct h264_packet *pkt)
{
    struct pipeline *p = opaque;
    return muxer_video(&p->mux, pkt);
}

/* Copies the encoder's description for stats, which another thread reads. */
static void note_encoder(struct pipeline *p)
{
    pthread_mutex_lock(&p->stats_lock);
    snprintf(p->encoder_name, sizeof(p->encoder_name), "%s",
             p->enc->description ? p->enc->description : p->enc->ops->name);
    pthread_mutex_unlock(&p->stats_lock);
}

/* Gives every output the stream headers it sends after each connect. The metadata is the plain
 * onMetaData a file holds; the RTMP output wraps it in @setDataFrame itself. */
static int set_headers(struct pipeline *p)
{
    struct flv_stream_info info = {
        .width = p->cfg.enc.width,
        .height = p->cfg.enc.height,
        .framerate = (double)p->cfg.enc.fps_num / p->cfg.enc.fps_den,
        .video_kbps = p->cfg.enc.bitrate_kbps,
        .audio_kbps = 0,
        .audio_sample_rate = AAC_SAMPLE_RATE,
        .audio_channels = AAC_CHANNELS,
        .encoder = "agentcast " AGENTCAST_VERSION,
    };
    size_t asc_size;
    const uint8_t *asc = aac_silence_config(&asc_size);
    struct flv_tag *meta = flv_metadata_tag(&info, false);
    struct flv_tag *avc = flv_avc_sequence_header(p->enc->extradata, p->enc->extradata_size);
    struct flv_tag *aac = flv_aac_sequence_header(asc, asc_size);
    int rc = 0;
    if (!meta || !avc || !aac) {
        log_error(COMPONENT, "cannot build stream headers (encoder gave no SPS/PPS?)");
        rc = -EINVAL;
    } else {
        for (int i = 0; i < p->n_outputs; i++)
            output_set_headers(p->outputs[i], meta, avc, aac);
    }
    flv_tag_unref(meta);
    flv_tag_unref(avc);
    flv_tag_unref(aac);
    return rc;
}

/* After a fallback: the new encoder's SPS/PPS go to every output before its first frame (each
 * output sends a changed header at once on its current connection, and after every reconnect). */
static int announce_new_encoder(struct pipeline *p)
{
    struct flv_tag *avc = flv_avc_sequence_header(p->enc->extradata, p->enc->extradata_size);
    if (!avc) {
        log_error(COMPONENT, "cannot build the new encoder's stream header");
        return -EINVAL;
    }
    for (int i = 0; i < p->n_outputs; i++)
        output_set_headers(p->outputs[i], NULL, avc, NULL);
    flv_tag_unref(avc);
    note_encoder(p);
    pthread_mutex_lock(&p->stats_lock);
    p->encoder_fallbacks++;
    pthread_mutex_unlock(&p->stats_lock);
    return 0;
}

static void record_encode(struct pipeline *p, int64_t encode_ns, uint64_t copied)
{
    pthread_mutex_lock(&p->stats_lock);
    percentile_add(&p->encode_us, encode_ns / 1000);
    p->frames_in++;
    p->copied_bytes += copied;
    pthread_mutex_unlock(&p->stats_lock);
}

/* Serves a pending thumbnail request from the frame just drawn. The RGB conversion is one libyuv
 * pass on a thumbnail cadence (minutes), outside the per-frame copy budget. */
static void deliver_snapshot(struct pipeline *p, const struct frame *frame)
{
    pthread_mutex_lock(&p->snapshot_lock);
    pipeline_snapshot_fn ready = p->snapshot_ready;
    void *opaque = p->snapshot_opaque;
    p->snapshot_ready = NULL;
    pthread_mutex_unlock(&p->snapshot_lock);
    if (ready)
        ready(opaque, thumbnail_capture(frame));
}

int pipeline_request_snapshot(struct pipeline *p, pipeline_snapshot_fn ready, void *opaque)
{
    int rc = 0;
    pthread_mutex_lock(&p->snapshot_lock);
    if (p->snapshot_ready) {
        rc = -EBUSY;
    } else {
        p->snapshot_ready = ready;
        p->snapshot_opaque = opaque;
    }
    pthread_mutex_unlock(&p->snapshot_lock);
    return rc;
}

/* Captures and encodes frame tick n with the current encoder. */
static int encode_frame(struct pipeline *p, int64_t n, const struct packet_sink *sink,
                        bool *encoder_failed)
{
    struct frame *frame;
    *encoder_failed = true;
    int rc = p->enc->ops->get_input(p->enc, &frame);
    if (rc < 0) {
        log_error(COMPONENT, "encoder lent no input buffer: %s", strerror(-rc));
        return rc;
    }
    frame->pts = n;
    frame->copied_bytes = 0;
    *encoder_failed = false;
    rc = p->cfg.source->fill(p->src, frame);
    if (rc < 0) {
        log_error(COMPONENT, "source %s failed: %s", p->cfg.source->name, strerror(-rc));
        return rc;
    }
    frame->capture_ns = clock_now_ns();
    deliver_snapshot(p, frame);
    if (p->dump && (rc = raw_dump_write(p->dump, frame)) < 0)
        return rc;
    *encoder_failed = true;
    rc = p->enc->ops->encode(p->enc, frame, sink);
    if (rc < 0) {
        log_error(COMPONENT, "encode failed: %s", strerror(-rc));
        return rc;
    }
    *encoder_failed = false;
    record_encode(p, clock_now_ns() - frame->capture_ns, frame->copied_bytes);
    return 0;
}

/* Captures and encodes frame tick n. A hardware encoder that fails is replaced by x264 and the
 * same tick is encoded again, so the stream goes on without a gap (x264 starts with a keyframe).
 * The sources keep what they drew per buffer_id, and x264's buffers are new to them: they draw
 * the whole picture into them. */
static int produce_frame(struct pipeline *p, int64_t n, const struct packet_sink *sink)
{
    bool encoder_failed;
    int rc = encode_frame(p, n, sink, &encoder_failed);
    if (rc == 0 || !encoder_failed || !hwenc_select_can_fall_back(p->enc))
        return rc;
    if (hwenc_select_fall_back(&p->enc, rc) < 0 || announce_new_encoder(p) < 0)
        return rc;
    return encode_frame(p, n, sink, &encoder_failed);
}

static bool all_outputs_failed(struct pipeline *p)
{
    for (int i = 0; i < p->n_outputs; i++)
        if (!output_failed(p->outputs[i]))
            return false;
    return p->n_outputs > 0;
}

static void *media_thread(void *arg)
{
    struct pipeline *p = arg;
    const struct packet_sink sink = {.emit = on_packet, .opaque = p};
    const int64_t frame_ns = NS_PER_SEC * p->cfg.enc.fps_den / p->cfg.enc.fps_num;
    const int64_t total = p->cfg.duration_sec > 0
                              ? (int64_t)llround(p->cfg.duration_sec * p->cfg.enc.fps_num /
                                                 p->cfg.enc.fps_den)
                              : INT64_MAX;
    const int64_t t0 = clock_now_ns();
    int rc = 0;

    for (int64_t n = 0; n < total && !atomic_load(&p->stop); n++) {
        int64_t deadline = t0 + n * frame_ns;
        int64_t now = clock_now_ns();
        if (now < deadline) {
            clock_sleep_until_ns(deadline);
        } else if (now - deadline >= frame_ns) {
            /* Running late by a frame or more: skip the missed ticks so the stream keeps wall
             * clock time instead of falling further behind. */
            int64_t caught_up = (now - t0) / frame_ns;
            if (caught_up >= total)
                break;
            pthread_mutex_lock(&p->stats_lock);
            p->frames_skipped += (uint64_t)(caught_up - n);
            pthread_mutex_unlock(&p->stats_lock);
            n = caught_up;
        }
        rc = produce_frame(p, n, &sink);
        if (rc < 0)
            break;
        if (all_outputs_failed(p)) {
            log_error(COMPONENT, "every output has failed: ending the stream");
            rc = -EIO;
            break;
        }
    }
    if (rc == 0)
        rc = p->enc->ops->flush(p->enc, &sink);
    if (rc == 0)
        rc = muxer_audio_until(&p->mux, p->mux.last_dts_ms);
    p->result = rc;
    uint64_t one = 1;
    ssize_t unused = write(p->event_fd, &one, sizeof(one));
    (void)unused;
    return NULL;
}

static void pipeline_free(struct pipeline *p)
{
    for (int i = 0; i < p->n_outputs; i++)
        output_stop(p->outputs[i]);
    if (p->cfg.source && p->src)
        p->cfg.source->close(p->src);
    if (p->enc)
        p->enc->ops->close(p->enc);
    raw_dump_close(p->dump);
    if (p->event_fd >= 0)
        close(p->event_fd);
    pthread_mutex_destroy(&p->stats_lock);
    pthread_mutex_destroy(&p->snapshot_lock);
    free(p);
}

struct pipeline *pipeline_start(const struct pipeline_config *cfg)
{
    struct pipeline *p = calloc(1, sizeof(*p));
    if (!p)
        return NULL;
    p->cfg = *cfg;
    p->event_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    pthread_mutex_init(&p->stats_lock, NULL);
    pthread_mutex_init(&p->snapshot_lock, NULL);
    percentile_reset(&p->encode_us);
    if (p->event_fd < 0)
        goto fail;
    if (hwenc_select_open(cfg->encoder, &cfg->enc, &p->enc) < 0)
        goto fail;
    note_encoder(p);
    log_info(COMPONENT, "encoder: %s %dx%d fps=%d/%d bitrate=%dk maxrate=%dk bufsize=%dk keyint=%d",
             p->enc->description ? p->enc->description : p->enc->ops->name, cfg->enc.width,
             cfg->enc.height, cfg->enc.fps_num, cfg->enc.fps_den, cfg->enc.bitrate_kbps,
             cfg->enc.maxrate_kbps, cfg->enc.bufsize_kbit, cfg->enc.keyint_frames);

    struct capture_params cp = {
        .width = cfg->enc.width,
        .height = cfg->enc.height,
        .fps_num = cfg->enc.fps_num,
        .fps_den = cfg->enc.fps_den,
        .options = cfg->source_options,
    };
    if (cfg->source->open(&p->src, &cp) < 0) {
        p->src = NULL;
        goto fail;
    }
    if (cfg->dump_raw && !(p->dump = raw_dump_open(cfg->dump_raw)))
        goto fail;
    for (int i = 0; i < cfg->n_outputs; i++) {
        struct output_options oo = cfg->output;
        if (i != cfg->provider_output)
            oo.url_provider = NULL; /* e.g. a local recording beside the platform's ingest */
        p->outputs[i] = output_start(cfg->outputs[i], &oo);
        if (!p->outputs[i])
            goto fail;
        p->n_outputs++;
    }
    if (set_headers(p) < 0)
        goto fail;
    muxer_init(&p->mux, cfg->enc.fps_den, cfg->enc.fps_num, push_all, p);
    p->prev_stats_ns = clock_now_ns();
    if (pthread_create(&p->thread, NULL, media_thread, p) != 0) {
        log_error(COMPONENT, "cannot start the media thread");
        goto fail;
    }
    p->thread_started = true;
    return p;
fail:
    pipeline_free(p);
    return NULL;
}

void pipeline_reconnect_output(struct pipeline *p, int i)
{
    if (i >= 0 && i < p->n_outputs)
        output_reconnect(p->outputs[i]);
}

int pipeline_event_fd(const struct pipeline *p)
{
    return p->event_fd;
}

static double per_sec(uint64_t now, uint64_t before, double secs)
{
    return secs > 0 ? (double)(now - before) / secs : 0;
}

void pipeline_get_stats(struct pipeline *p, struct pipeline_stats *st)
{
    memset(st, 0, sizeof(*st));
    int64_t now = clock_now_ns();
    double secs = (double)(now - p->prev_stats_ns) / NS_PER_SEC;
    p->prev_stats_ns = now;
    st->interval_sec = secs;

    pthread_mutex_lock(&p->stats_lock);
    uint64_t frames_out = atomic_load_explicit(&p->frames_out, memory_order_relaxed);
    st->frames_in = p->frames_in;
    st->frames_out = frames_out;
    st->frames_skipped = p->frames_skipped;
    st->fps_in = per_sec(p->frames_in, p->prev_frames_in, secs);
    st->fps_out = per_sec(frames_out, p->prev_frames_out, secs);
    st->encode_p50_us = percentile_get(&p->encode_us, 50);
    st->encode_p99_us = percentile_get(&p->encode_us, 99);
    percentile_reset(&p->encode_us);
    uint64_t frames = p->frames_in - p->prev_copied_frames_in;
    st->copied_bytes_per_frame =
        frames ? (double)(p->copied_bytes - p->prev_copied_bytes) / (double)frames : 0;
    p->prev_copied_frames_in = p->frames_in;
    p->prev_copied_bytes = p->copied_bytes;
    p->prev_frames_in = p->frames_in;
    p->prev_frames_out = frames_out;
    memcpy(st->encoder, p->encoder_name, sizeof(st->encoder));
    st->encoder_fallbacks = p->encoder_fallbacks;
    pthread_mutex_unlock(&p->stats_lock);

    st->n_outputs = p->n_outputs;
    for (int i = 0; i < p->n_outputs; i++) {
        struct pipeline_output_stats *o = &st->outputs[i];
        output_get_stats(p->outputs[i], &o->s);
        _Static_assert(sizeof(o->name) == sizeof(o->s.name), "name sizes differ");
        memcpy(o->name, o->s.name, sizeof(o->name));
        o->kbps = secs > 0 ? (double)(o->s.bytes_sent - p->prev_bytes_sent[i]) * 8 / 1000 / secs
                           : 0;
        p->prev_bytes_sent[i] = o->s.bytes_sent;
    }
}

void pipeline_stop_begin(struct pipeline *p)
{
    atomic_store(&p->stop, true);
    for (int i = 0; i < p->n_outputs; i++)
        output_stop_begin(p->outputs[i]);
}

int pipeline_stop(struct pipeline *p, struct pipeline_stats *final)
{
    if (!p)
        return 0;
    atomic_store(&p->stop, true);
    int rc = 0;
    if (p->thread_started) {
        pthread_join(p->thread, NULL);
        rc = p->result;
    }
    /* All outputs flush at once, so stopping takes one flush timeout, not one per output. */
    for (int i = 0; i < p->n_outputs; i++)
        output_stop_begin(p->outputs[i]);
    for (int i = 0; i < p->n_outputs; i++)
        output_join(p->outputs[i]);
    struct pipeline_stats st;
    pipeline_get_stats(p, &st);
    for (int i = 0; i < st.n_outputs; i++)
        if (st.outputs[i].s.failed && rc == 0)
            rc = -EIO;
    if (final)
        *final = st;
    pipeline_free(p);
    return rc;
}
