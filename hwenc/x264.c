/*
 * x264 — the software H.264 backend (hwenc_x264_ops, "x264"), and the fallback of `auto`.
 *
 * Sits between a source (which draws into the x264 picture this backend lends) and the muxer
 * (which receives Annex B access units through a packet_sink). Its defaults reproduce the seed's
 * ffmpeg command line: -c:v libx264 -preset veryfast -tune zerolatency -b:v 1500k -maxrate 1500k
 * -bufsize 3000k -pix_fmt yuv420p -g 60, profile High. Two deliberate differences from that
 * command: keyframes come at a fixed interval (scenecut off, see x264enc_configure_gop), and the
 * VUI says what the pictures are (BT.601, limited range) instead of leaving it unspecified.
 */
#include "hwenc/hwenc.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <x264.h>

#include "core/log.h"
#include "hwenc/h264_skip.h"

#define X264_COMPONENT "x264"

/* Unchanged pictures (the source says so) become skip pictures (hwenc/h264_skip.h) once x264 has
 * refined the still picture enough, which is what the seed's pipeline spends most of its encode on
 * for a terminal. The rules, measured on a terminal log (bench/):
 * - after a changed picture or a keyframe the next REFINE_BURST unchanged pictures go through
 *   x264, then one in REFINE_EVERY, until x264 says the picture is done: a picture that came out
 *   at QP <= REFINED_QP, or that came out nearly empty (REFINED_BYTES) at QP <= SETTLED_QP;
 * - x264 counts frames, not time (a zero-latency encoder cannot know a frame's duration before
 *   the next one), so its ABR budget and VBV refill would starve while it is not shown the skipped
 *   pictures: the picture after k skips is encoded with the bitrate and VBV rate scaled by k + 1
 *   (x264_encoder_reconfig), at most RATE_CREDIT_MAX. A larger credit in one frame makes x264's
 *   VBV planner misjudge the buffer (seen as a keyframe smeared by emergency quantisation), and
 *   8 frames' worth per picture x264 sees already refills the 2 s buffer within a GOP. */
#define X264ENC_REFINE_BURST 2
#define X264ENC_REFINE_EVERY 8
#define X264ENC_REFINED_QP 12
#define X264ENC_SETTLED_QP 26
#define X264ENC_REFINED_BYTES(mbs) (16 + (mbs) / 64)
#define X264ENC_RATE_CREDIT_MAX 8

/* H.264 Annex E code points (the same value in colour_primaries, transfer_characteristics and
 * matrix_coefficients): SMPTE 170M, i.e. BT.601 525-line, which is what the renderer and the test
 * source draw with. BT.470BG (5) has the same matrix; 170M is what most tools expect for 601. */
#define X264_VUI_SMPTE170M 6

struct x264_enc {
    struct hwenc base; /* first: the hwenc API hands out &base */
    x264_t *x264;
    x264_picture_t pic; /* the one input buffer, from x264_picture_alloc */
    struct frame frame; /* the view of pic lent by get_input */
    uint8_t *extradata; /* SPS + PPS, Annex B */
    size_t extradata_size;
    char description[96];
    char *names[HWENC_PARAM_STRINGS]; /* owned copies of preset, tune, profile, device for
                                         base.params */
    /* capture_ns of frames still inside x264, indexed by input sequence; each picture carries a
     * pointer to its slot in pic.opaque, which x264 copies to the output picture. */
    int64_t *capture_ring;
    size_t ring_size;
    uint64_t frames_in;
    uint64_t unchanged_frames;

    /* Unchanged pictures as skip pictures (hwenc/h264_skip.h), when the stream allows them. */
    bool skip_ok;
    struct h264_skip skip;
    int64_t last_idr_pts; /* pts of the last IDR emitted; keyframes are forced on our clock */
    unsigned frame_num;   /* frame_num of the last picture emitted */
    bool renumber;        /* skip pictures since the last IDR: x264's frame_num is behind */
    int refine_left;      /* unchanged pictures of the refine burst still to encode */
    bool converged;       /* x264 has nothing left to refine in the still picture */
    int sparse;           /* unchanged pictures since the last sparse refinement */
    bool any_out;         /* x264 has emitted a picture (the skip needs a reference) */
    uint8_t skip_au[64];
    uint8_t *au; /* renumbered access unit */
    size_t au_cap;
    uint64_t skipped_frames;
    int pending_skips;     /* skip pictures since x264's last picture */
    int rc_scale;          /* multiplier of the rates x264 currently runs with */
    x264_param_t rc_param; /* the rates as opened */
    bool reconfig_warned;
};

/* x264's messages end in '\n' and come from its worker threads; log_msg is thread-safe. Its info
 * level (cpu capabilities, profile chosen, final stats) is debug for us. */
static void x264enc_log_cb(void *opaque, int level, const char *fmt, va_list ap)
{
    (void)opaque;
    char msg[512];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    size_t len = strlen(msg);
    while (len > 0 && (msg[len - 1] == '\n' || msg[len - 1] == '\r'))
        msg[--len] = '\0';
    enum log_level our = level <= X264_LOG_ERROR     ? LOG_ERROR
                         : level == X264_LOG_WARNING ? LOG_WARN
                                                     : LOG_DEBUG;
    log_msg(our, X264_COMPONENT, "%s", msg);
}

#define X264ENC_MAX_SIZE 8192 /* what agentcast accepts; x264 itself allows more */

static bool x264enc_size_ok(int v)
{
    return v >= 16 && v <= X264ENC_MAX_SIZE && v % 2 == 0;
}

/* Checks what x264 would otherwise reject later, or accept and misbehave with. */
static int x264enc_check_params(const struct hwenc_params *p)
{
    const char *bad = NULL;
    if (!x264enc_size_ok(p->width) || !x264enc_size_ok(p->height))
        bad = "width and height must be even and within 16..8192";
    else if (p->fps_num <= 0 || p->fps_den <= 0)
        bad = "frame rate must be positive";
    else if (p->bitrate_kbps <= 0 || p->maxrate_kbps < 0 || p->bufsize_kbit < 0)
        bad = "bitrate must be positive, maxrate and bufsize not negative";
    else if (p->keyint_frames <= 0)
        bad = "keyint must be at least one frame";
    else if (p->threads < 0)
        bad = "threads must not be negative";
    else if (p->rc_mode != HWENC_RC_CBR && p->rc_mode != HWENC_RC_VBR)
        bad = "unknown rate control mode";
    if (bad) {
        log_error(X264_COMPONENT, "invalid parameters: %s (size=%dx%d fps=%d/%d)", bad, p->width,
                  p->height, p->fps_num, p->fps_den);
        return -EINVAL;
    }
    return 0;
}

/* A live stream wants a keyframe exactly every keyint_frames (2 s by default): ingests and
 * players (and HLS repackagers downstream of them) cut segments at IDRs and expect a steady
 * cadence, and a late joiner waits at most one GOP. x264's scenecut detection would insert extra
 * IDRs at cuts and restart the GOP count from them, so it is switched off, and keyint_min is set
 * equal to keyint (x264 clamps it to keyint/2+1, which only matters for scenecuts). */
static void x264enc_configure_gop(x264_param_t *xp, const struct hwenc_params *p)
{
    xp->i_keyint_max = p->keyint_frames;
    xp->i_keyint_min = p->keyint_frames;
    xp->i_scenecut_threshold = 0;
    xp->b_intra_refresh = 0;
    xp->b_open_gop = 0;
}

/* ABR bounded by the VBV, as ffmpeg's -b:v/-maxrate/-bufsize set it. HWENC_RC_CBR pins the VBV
 * rate to the bitrate and pads with filler data so the rate is constant even on a still picture;
 * HWENC_RC_VBR with maxrate == bitrate (the default) is the seed's "CBR-like" setting. */
static void x264enc_configure_rc(x264_param_t *xp, const struct hwenc_params *p)
{
    int maxrate = p->rc_mode == HWENC_RC_CBR ? p->bitrate_kbps : p->maxrate_kbps;
    int bufsize = p->bufsize_kbit;
    if (maxrate > 0 && bufsize == 0)
        bufsize = 2 * maxrate; /* the seed's ratio (3000k for 1500k) */
    xp->rc.i_rc_method = X264_RC_ABR;
    xp->rc.i_bitrate = p->bitrate_kbps;
    xp->rc.i_vbv_max_bitrate = maxrate;
    xp->rc.i_vbv_buffer_size = maxrate > 0 ? bufsize : 0;
    xp->rc.b_filler = p->rc_mode == HWENC_RC_CBR;
}

/* Fills xp from p: preset and tune first (they are the base), our settings, then the profile
 * (last, because it caps what the settings asked for). */
static int x264enc_build_param(x264_param_t *xp, const struct hwenc_params *p)
{
    if (x264_param_default_preset(xp, p->preset, p->tune) < 0) {
        log_error(X264_COMPONENT, "unknown preset or tune: preset=%s tune=%s",
                  p->preset ? p->preset : "(default)", p->tune ? p->tune : "(none)");
        return -EINVAL;
    }
    xp->pf_log = x264enc_log_cb;
    xp->i_log_level = log_get_level() >= LOG_DEBUG ? X264_LOG_INFO : X264_LOG_WARNING;
    xp->i_threads = p->threads > 0 ? p->threads : X264_THREADS_AUTO;
    xp->i_width = p->width;
    xp->i_height = p->height;
    xp->i_csp = X264_CSP_I420;
    xp->i_fps_num = (uint32_t)p->fps_num;
    xp->i_fps_den = (uint32_t)p->fps_den;
    /* Constant frame rate: rate control counts frames, and pts are frame ticks, so the timebase
     * is one frame. */
    xp->b_vfr_input = 0;
    xp->i_timebase_num = (uint32_t)p->fps_den;
    xp->i_timebase_den = (uint32_t)p->fps_num;
    x264enc_configure_gop(xp, p);
    x264enc_configure_rc(xp, p);
    xp->vui.b_fullrange = 0;
    xp->vui.i_colorprim = X264_VUI_SMPTE170M;
    xp->vui.i_transfer = X264_VUI_SMPTE170M;
    xp->vui.i_colmatrix = X264_VUI_SMPTE170M;
    /* SPS/PPS go once into the FLV sequence header (extradata), not into every keyframe. */
    xp->b_repeat_headers = 0;
    xp->b_annexb = 1;
    xp->b_aud = 0;
    const char *profile = p->profile ? p->profile : "high";
    if (x264_param_apply_profile(xp, profile) < 0) {
        log_error(X264_COMPONENT, "profile %s refused with these settings", profile);
        return -EINVAL;
    }
    return 0;
}

static const char *x264enc_profile_label(int profile_idc)
{
    switch (profile_idc) {
    case 66:
        return "Baseline";
    case 77:
        return "Main";
    case 100:
        return "High";
    default:
        return "other";
    }
}

/* Keeps the SPS and PPS of x264_encoder_headers (it also returns its version SEI, which is not a
 * parameter set and has no place in an AVC decoder configuration record). */
static int x264enc_store_headers(struct x264_enc *e)
{
    x264_nal_t *nals;
    int n;
    if (x264_encoder_headers(e->x264, &nals, &n) < 0) {
        log_error(X264_COMPONENT, "x264_encoder_headers failed");
        return -EIO;
    }
    size_t total = 0;
    for (int i = 0; i < n; i++)
        if (nals[i].i_type == NAL_SPS || nals[i].i_type == NAL_PPS)
            total += (size_t)nals[i].i_payload;
    e->extradata = malloc(total ? total : 1);
    if (!e->extradata)
        return -ENOMEM;
    int profile_idc = 0;
    for (int i = 0; i < n; i++) {
        if (nals[i].i_type != NAL_SPS && nals[i].i_type != NAL_PPS)
            continue;
        memcpy(e->extradata + e->extradata_size, nals[i].p_payload, (size_t)nals[i].i_payload);
        e->extradata_size += (size_t)nals[i].i_payload;
        /* Annex B start code (4 bytes for parameter sets), NAL header, then profile_idc. */
        if (nals[i].i_type == NAL_SPS && nals[i].i_payload > 5)
            profile_idc = nals[i].p_payload[nals[i].b_long_startcode ? 5 : 4];
    }
    if (e->extradata_size == 0) {
        log_error(X264_COMPONENT, "x264 returned no SPS/PPS");
        return -EIO;
    }
    snprintf(e->description, sizeof(e->description), "x264 %s %s/%s %s", X264_POINTVER,
             e->base.params.preset ? e->base.params.preset : "medium",
             e->base.params.tune ? e->base.params.tune : "none",
             x264enc_profile_label(profile_idc));
    return 0;
}

/* Sizes the capture_ns ring so that a slot is reused only after its frame has left x264: a frame
 * comes out up to the encoder's delay later, plus up to bframes more because B-frames make the
 * output order differ from the input order. */
static int x264enc_alloc_ring(struct x264_enc *e)
{
    x264_param_t actual;
    x264_encoder_parameters(e->x264, &actual);
    int delayed = x264_encoder_maximum_delayed_frames(e->x264);
    e->ring_size = (size_t)(delayed > 0 ? delayed : 0) + (size_t)actual.i_bframe + 4;
    e->capture_ring = calloc(e->ring_size, sizeof(*e->capture_ring));
    return e->capture_ring ? 0 : -ENOMEM;
}

/* Skip pictures need x264 to hand back each picture as it is given (no delay, no B-frames) and a
 * stream whose SPS allows them (h264_skip_init); CBR asks for a constant rate, which filler data
 * on skipped pictures would defeat, so it keeps encoding every picture. When allowed, the skip
 * slices' PPS joins the stream headers. */
static int x264enc_setup_skip(struct x264_enc *e)
{
    x264_param_t actual;
    x264_encoder_parameters(e->x264, &actual);
    char why[96] = "";
    if (e->base.params.rc_mode == HWENC_RC_CBR)
        snprintf(why, sizeof(why), "CBR");
    else if (x264_encoder_maximum_delayed_frames(e->x264) > 0 || actual.i_bframe > 0)
        snprintf(why, sizeof(why), "the encoder delays frames (tune zerolatency avoids that)");
    else if (h264_skip_init(&e->skip, e->extradata, e->extradata_size, why, sizeof(why)) == 0)
        e->skip_ok = true;
    if (!e->skip_ok) {
        log_debug(X264_COMPONENT, "unchanged pictures are encoded in full: %s", why);
        return 0;
    }
    uint8_t *grown = realloc(e->extradata, e->extradata_size + e->skip.pps_size);
    if (!grown)
        return -ENOMEM;
    memcpy(grown + e->extradata_size, e->skip.pps, e->skip.pps_size);
    e->extradata = grown;
    e->extradata_size += e->skip.pps_size;
    e->last_idr_pts = INT64_MIN;
    x264_encoder_parameters(e->x264, &e->rc_param);
    e->rc_scale = 1;
    return 0;
}

static void x264enc_close(struct hwenc *enc)
{
    if (!enc)
        return;
    struct x264_enc *e = (struct x264_enc *)enc;
    if (e->x264)
        x264_encoder_close(e->x264);
    if (e->frame.data[0])
        x264_picture_clean(&e->pic);
    if (e->unchanged_frames)
        log_debug(X264_COMPONENT, "closed unchanged_frames=%llu skipped=%llu of frames=%llu",
                  (unsigned long long)e->unchanged_frames, (unsigned long long)e->skipped_frames,
                  (unsigned long long)e->frames_in);
    free(e->au);
    hwenc_params_release(e->names);
    free(e->capture_ring);
    free(e->extradata);
    free(e);
}

static void x264enc_setup_frame(struct x264_enc *e)
{
    struct frame *f = &e->frame;
    f->width = e->base.params.width;
    f->height = e->base.params.height;
    f->format = FRAME_FORMAT_I420;
    for (int i = 0; i < 3; i++) {
        f->data[i] = e->pic.img.plane[i];
        f->linesize[i] = e->pic.img.i_stride[i];
    }
    f->buffer_id = 0;
}

static int x264enc_open(struct hwenc **out, const struct hwenc_params *params)
{
    *out = NULL;
    int ret = x264enc_check_params(params);
    if (ret < 0)
        return ret;
    struct x264_enc *e = calloc(1, sizeof(*e));
    if (!e)
        return -ENOMEM;
    e->base.ops = &hwenc_x264_ops;
    e->base.params = *params;
    x264_param_t xp;
    if ((ret = hwenc_params_own(&e->base.params, e->names)) < 0 ||
        (ret = x264enc_build_param(&xp, params)) < 0)
        goto fail;
    e->x264 = x264_encoder_open(&xp);
    if (!e->x264) {
        log_error(X264_COMPONENT, "x264_encoder_open refused the parameters (see above)");
        ret = -EINVAL;
        goto fail;
    }
    if ((ret = x264enc_store_headers(e)) < 0 || (ret = x264enc_alloc_ring(e)) < 0 ||
        (ret = x264enc_setup_skip(e)) < 0)
        goto fail;
    if (x264_picture_alloc(&e->pic, X264_CSP_I420, params->width, params->height) < 0) {
        ret = -ENOMEM;
        goto fail;
    }
    x264enc_setup_frame(e);
    e->base.extradata = e->extradata;
    e->base.extradata_size = e->extradata_size;
    e->base.description = e->description;
    log_debug(X264_COMPONENT, "opened %s size=%dx%d fps=%d/%d bitrate=%dk maxrate=%dk keyint=%d",
              e->description, params->width, params->height, params->fps_num, params->fps_den,
              params->bitrate_kbps, xp.rc.i_vbv_max_bitrate, params->keyint_frames);
    *out = &e->base;
    return 0;
fail:
    x264enc_close(&e->base);
    return ret;
}

/* One buffer only: x264_encoder_encode copies the input picture into its own frame pool before
 * it returns, so the same memory can be lent again and redrawn for the next frame while earlier
 * frames are still being encoded (buffer_id stays 0, and it keeps the last picture drawn). */
static int x264enc_get_input(struct hwenc *enc, struct frame **frame)
{
    struct x264_enc *e = (struct x264_enc *)enc;
    struct frame *f = &e->frame;
    f->pts = 0;
    f->capture_ns = 0;
    f->unchanged = false;
    f->copied_bytes = 0;
    *frame = f;
    return 0;
}

/* Emits the access unit x264 just returned. Its NAL payloads are contiguous in memory and each
 * starts with a start code, so the whole AU is one Annex B buffer. With skip pictures on, the
 * frame_num that follows them is written into x264's slices. */
static int x264enc_emit(struct x264_enc *e, const x264_nal_t *nals, int bytes,
                        const x264_picture_t *out, const struct packet_sink *sink)
{
    const int64_t *capture_ns = out->opaque;
    struct h264_packet pkt = {
        .data = nals[0].p_payload,
        .size = (size_t)bytes,
        .pts = out->i_pts,
        .dts = out->i_dts,
        .keyframe = out->b_keyframe != 0,
        .capture_ns = capture_ns ? *capture_ns : 0,
    };
    if (e->skip_ok) {
        e->any_out = true;
        if (out->i_type == X264_TYPE_IDR || out->b_keyframe) {
            e->last_idr_pts = out->i_pts;
            e->frame_num = 0;
            e->renumber = false;
            e->refine_left = X264ENC_REFINE_BURST;
            e->converged = false;
        } else {
            int qp = out->i_qpplus1 - 1;
            bool empty = pkt.size <= (size_t)X264ENC_REFINED_BYTES(e->skip.mb_count);
            if (qp <= X264ENC_REFINED_QP || (empty && qp <= X264ENC_SETTLED_QP)) {
                e->refine_left = 0;
                e->converged = true;
            }
            e->frame_num = (e->frame_num + 1) & ((1u << e->skip.log2_max_frame_num) - 1);
        }
        if (e->renumber) {
            int n =
                h264_skip_renumber(&e->skip, pkt.data, pkt.size, e->frame_num, &e->au, &e->au_cap);
            if (n < 0) {
                log_error(X264_COMPONENT, "cannot renumber x264's slices: %s", strerror(-n));
                return n;
            }
            pkt.data = e->au;
            pkt.size = (size_t)n;
        }
    }
    return sink->emit(sink->opaque, &pkt);
}

/* Tells x264's rate control about the time the skip pictures since its last picture took (see
 * X264ENC_RATE_CREDIT_MAX): the next picture runs with its bitrate and VBV rate scaled. */
static void x264enc_credit_skips(struct x264_enc *e)
{
    int scale = e->pending_skips + 1;
    if (scale > X264ENC_RATE_CREDIT_MAX)
        scale = X264ENC_RATE_CREDIT_MAX;
    e->pending_skips = 0;
    if (scale == e->rc_scale)
        return;
    x264_param_t p = e->rc_param;
    p.rc.i_bitrate = e->rc_param.rc.i_bitrate * scale;
    p.rc.i_vbv_max_bitrate = e->rc_param.rc.i_vbv_max_bitrate * scale;
    if (x264_encoder_reconfig(e->x264, &p) < 0) {
        /* Not expected (the same fields x264 accepted at open, scaled); the stream stays valid,
         * only the rate control is less generous after skipped pictures. */
        if (!e->reconfig_warned)
            log_warn(X264_COMPONENT, "x264 refused a rate change after skipped pictures");
        e->reconfig_warned = true;
        return;
    }
    e->rc_scale = scale;
}

/* Whether this picture may be a skip picture: unchanged, x264 has a reference to copy, the
 * picture is not due to be a keyframe, and the still picture has been refined. */
static bool x264enc_should_skip(struct x264_enc *e, const struct frame *frame, bool idr_due)
{
    if (!e->skip_ok)
        return false;
    if (!frame->unchanged) {
        e->refine_left = X264ENC_REFINE_BURST;
        e->converged = false;
        return false;
    }
    if (idr_due || !e->any_out)
        return false;
    if (e->refine_left > 0) {
        e->refine_left--;
        return false;
    }
    if (!e->converged && ++e->sparse >= X264ENC_REFINE_EVERY) {
        e->sparse = 0;
        return false;
    }
    return true;
}

static int x264enc_emit_skip(struct x264_enc *e, const struct frame *frame,
                             const struct packet_sink *sink)
{
    unsigned fn = (e->frame_num + 1) & ((1u << e->skip.log2_max_frame_num) - 1);
    int n = h264_skip_write(&e->skip, fn, e->skip_au, sizeof(e->skip_au));
    if (n < 0)
        return n;
    e->frame_num = fn;
    e->renumber = true;
    e->skipped_frames++;
    e->pending_skips++;
    struct h264_packet pkt = {
        .data = e->skip_au,
        .size = (size_t)n,
        .pts = frame->pts,
        .dts = frame->pts,
        .keyframe = false,
        .capture_ns = frame->capture_ns,
    };
    return sink->emit(sink->opaque, &pkt);
}

static int x264enc_encode(struct hwenc *enc, struct frame *frame, const struct packet_sink *sink)
{
    struct x264_enc *e = (struct x264_enc *)enc;
    if (frame != &e->frame) {
        log_error(X264_COMPONENT, "encode: frame was not lent by this encoder");
        return -EINVAL;
    }
    if (frame->unchanged)
        e->unchanged_frames++;
    /* With skip pictures x264 sees fewer pictures than the clock, so its own GOP count would
     * drift: keyframes are forced on the frame clock instead (the same instants as before). */
    bool idr_due = e->skip_ok && (e->last_idr_pts == INT64_MIN ||
                                  frame->pts - e->last_idr_pts >= e->base.params.keyint_frames);
    if (x264enc_should_skip(e, frame, idr_due))
        return x264enc_emit_skip(e, frame, sink);
    if (e->skip_ok)
        x264enc_credit_skips(e);
    int64_t *slot = &e->capture_ring[e->frames_in++ % e->ring_size];
    *slot = frame->capture_ns;
    e->pic.i_pts = frame->pts;
    e->pic.i_type = idr_due ? X264_TYPE_IDR : X264_TYPE_AUTO;
    e->pic.opaque = slot;

    x264_nal_t *nals;
    int n;
    x264_picture_t out;
    int bytes = x264_encoder_encode(e->x264, &nals, &n, &e->pic, &out);
    if (bytes < 0) {
        log_error(X264_COMPONENT, "x264_encoder_encode failed pts=%lld", (long long)frame->pts);
        return -EIO;
    }
    if (bytes == 0 || n == 0)
        return 0;
    return x264enc_emit(e, nals, bytes, &out, sink);
}

static int x264enc_flush(struct hwenc *enc, const struct packet_sink *sink)
{
    struct x264_enc *e = (struct x264_enc *)enc;
    /* Bounded: each call with no input hands back at most one delayed frame. */
    for (int guard = 0; x264_encoder_delayed_frames(e->x264) > 0 && guard < 1024; guard++) {
        x264_nal_t *nals;
        int n;
        x264_picture_t out;
        int bytes = x264_encoder_encode(e->x264, &nals, &n, NULL, &out);
        if (bytes < 0) {
            log_error(X264_COMPONENT, "x264_encoder_encode failed while flushing");
            return -EIO;
        }
        if (bytes == 0 || n == 0)
            continue;
        int ret = x264enc_emit(e, nals, bytes, &out, sink);
        if (ret < 0)
            return ret;
    }
    return 0;
}

/* A real one-frame encode of a mid-grey picture. */
static int x264enc_probe(const struct hwenc_params *params, char *why, size_t why_size)
{
    struct hwenc *enc;
    int ret = x264enc_open(&enc, params);
    if (ret < 0) {
        snprintf(why, why_size, "open failed: %s", strerror(-ret));
        return ret;
    }
    return hwenc_test_encode(enc, why, why_size);
}

/* Software: the "device" is the CPU; x264 itself is the driver. */
static int x264enc_query(const struct hwenc_params *params, struct hwenc_caps *caps, char *why,
                         size_t why_size)
{
    (void)params;
    (void)why;
    (void)why_size;
    memset(caps, 0, sizeof(*caps));
    snprintf(caps->device, sizeof(caps->device), "cpu");
    snprintf(caps->driver, sizeof(caps->driver), "libx264 core %d", X264_BUILD);
    snprintf(caps->profiles, sizeof(caps->profiles), "high,main,baseline");
    caps->max_width = X264ENC_MAX_SIZE;
    caps->max_height = X264ENC_MAX_SIZE;
    return 0;
}

const struct hwenc_ops hwenc_x264_ops = {
    .name = "x264",
    .query = x264enc_query,
    .probe = x264enc_probe,
    .open = x264enc_open,
    .get_input = x264enc_get_input,
    .encode = x264enc_encode,
    .flush = x264enc_flush,
    .close = x264enc_close,
};
