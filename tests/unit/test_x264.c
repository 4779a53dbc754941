/*
 * test_x264 — the x264 backend (hwenc/x264.c) and the backend registry (hwenc/registry.c):
 * the seed's settings, the bitstream shape the FLV muxer relies on, and clean refusals.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hwenc/hwenc.h"

#define MAX_PACKETS 512

struct recorded {
    int64_t pts, dts, capture_ns;
    bool keyframe;
    bool starts_with_start_code;
    int nal_types; /* bit n set: the AU holds a NAL unit of type n */
};

struct recorder {
    struct recorded pkt[MAX_PACKETS];
    int count;
    int fail_with; /* emit returns this when non-zero */
};

/* Walks an Annex B buffer: returns the offset of the next NAL header after pos, or -1. */
static long next_nal(const uint8_t *p, size_t size, size_t pos)
{
    for (size_t i = pos; i + 3 <= size; i++)
        if (p[i] == 0 && p[i + 1] == 0 && p[i + 2] == 1)
            return (long)(i + 3);
    return -1;
}

static int nal_type_mask(const uint8_t *p, size_t size)
{
    int mask = 0;
    for (long at = next_nal(p, size, 0); at >= 0 && (size_t)at < size;
         at = next_nal(p, size, (size_t)at))
        mask |= 1 << (p[at] & 0x1f);
    return mask;
}

static bool has_start_code(const uint8_t *p, size_t size)
{
    return (size >= 4 && p[0] == 0 && p[1] == 0 && p[2] == 0 && p[3] == 1) ||
           (size >= 3 && p[0] == 0 && p[1] == 0 && p[2] == 1);
}

static int record_emit(void *opaque, const struct h264_packet *pkt)
{
    struct recorder *r = opaque;
    if (r->fail_with)
        return r->fail_with;
    assert_true(r->count < MAX_PACKETS);
    assert_non_null(pkt->data);
    assert_true(pkt->size > 0);
    struct recorded *rec = &r->pkt[r->count++];
    rec->pts = pkt->pts;
    rec->dts = pkt->dts;
    rec->capture_ns = pkt->capture_ns;
    rec->keyframe = pkt->keyframe;
    rec->starts_with_start_code = has_start_code(pkt->data, pkt->size);
    rec->nal_types = nal_type_mask(pkt->data, pkt->size);
    return 0;
}

static struct hwenc_params small_params(void)
{
    struct hwenc_params p;
    hwenc_params_default(&p);
    p.width = 320;
    p.height = 240;
    return p;
}

static const struct hwenc_ops *x264_ops(void)
{
    const struct hwenc_ops *ops = hwenc_find("x264");
    assert_non_null(ops);
    return ops;
}

/* A cheap moving picture so that P-frames have something to code, with a hard scene cut every
 * 20 frames: with x264's scenecut detection on, those cuts would become extra IDRs. */
static void draw(struct frame *f, int n)
{
    bool scene_b = (n / 20) % 2;
    for (int y = 0; y < f->height; y++) {
        uint8_t *row = f->data[0] + (size_t)y * (size_t)f->linesize[0];
        for (int x = 0; x < f->width; x++)
            row[x] = scene_b ? (uint8_t)((x * 7) ^ (y * 13) ^ n)
                             : (uint8_t)(x + 2 * y + 5 * n + (((x + n) / 16 + y / 16) % 2) * 60);
    }
    for (int p = 1; p < 3; p++)
        for (int y = 0; y < f->height / 2; y++)
            memset(f->data[p] + (size_t)y * (size_t)f->linesize[p],
                   (scene_b ? 60 : 200) + (p == 2 ? (scene_b ? 140 : -140) : 0),
                   (size_t)f->width / 2);
}

/* Encodes frames 0..n-1 (pts = index, capture_ns = 1000 + index) into r, then flushes. Returns
 * the number of packets emitted before the flush. */
static int encode_frames(struct hwenc *enc, int n, struct recorder *r)
{
    struct packet_sink sink = {.emit = record_emit, .opaque = r};
    for (int i = 0; i < n; i++) {
        struct frame *f;
        assert_int_equal(enc->ops->get_input(enc, &f), 0);
        draw(f, i);
        f->pts = i;
        f->capture_ns = 1000 + i;
        assert_int_equal(enc->ops->encode(enc, f, &sink), 0);
    }
    int before_flush = r->count;
    assert_int_equal(enc->ops->flush(enc, &sink), 0);
    return before_flush;
}

static void test_registry_and_defaults(void **state)
{
    (void)state;
    struct hwenc_params p;
    memset(&p, 0xab, sizeof(p));
    hwenc_params_default(&p);
    /* Seed: -b:v 1500k -maxrate 1500k -bufsize 3000k -preset veryfast -tune zerolatency -g 60 */
    assert_int_equal(p.width, 1280);
    assert_int_equal(p.height, 720);
    assert_int_equal(p.fps_num, 30);
    assert_int_equal(p.fps_den, 1);
    assert_int_equal(p.bitrate_kbps, 1500);
    assert_int_equal(p.maxrate_kbps, 1500);
    assert_int_equal(p.bufsize_kbit, 3000);
    assert_int_equal(p.keyint_frames, 60);
    assert_int_equal(p.rc_mode, HWENC_RC_VBR);
    assert_string_equal(p.preset, "veryfast");
    assert_string_equal(p.tune, "zerolatency");
    assert_string_equal(p.profile, "high");
    assert_null(p.device);
    assert_int_equal(p.threads, 0);

    const struct hwenc_ops *ops = hwenc_find("x264");
    assert_non_null(ops);
    assert_string_equal(ops->name, "x264");
    assert_null(hwenc_find("no-such-encoder"));
    assert_null(hwenc_find(NULL));
    /* x264 is the fallback of auto: always compiled in, always last. */
    size_t n = 0;
    while (hwenc_backends[n])
        n++;
    assert_true(n >= 1);
    assert_ptr_equal(hwenc_backends[n - 1], ops);
}

static void test_get_input_matches_params(void **state)
{
    (void)state;
    struct hwenc_params p = small_params();
    struct hwenc *enc;
    assert_int_equal(x264_ops()->open(&enc, &p), 0);
    struct frame *f, *again;
    assert_int_equal(enc->ops->get_input(enc, &f), 0);
    assert_int_equal(f->width, 320);
    assert_int_equal(f->height, 240);
    assert_int_equal(f->format, FRAME_FORMAT_I420);
    assert_true(f->linesize[0] >= 320);
    assert_true(f->linesize[1] >= 160);
    assert_true(f->linesize[2] >= 160);
    for (int i = 0; i < 3; i++)
        assert_non_null(f->data[i]);
    assert_true(f->buffer_id < FRAME_MAX_BUFFERS);
    assert_false(f->unchanged);
    assert_int_equal(f->copied_bytes, 0);
    /* Writing the whole visible area of every plane must be allowed (ASan checks the bounds). */
    draw(f, 0);
    assert_int_equal(enc->ops->get_input(enc, &again), 0);
    assert_ptr_equal(again->data[0], f->data[0]);
    assert_int_equal(again->buffer_id, f->buffer_id);
    enc->ops->close(enc);
}

static void check_extradata(const struct hwenc *enc, int profile_idc)
{
    const uint8_t *x = enc->extradata;
    size_t size = enc->extradata_size;
    assert_non_null(x);
    assert_true(size > 8);
    assert_true(has_start_code(x, size));
    int mask = 0;
    bool sps_seen = false;
    for (long at = next_nal(x, size, 0); at >= 0 && (size_t)at < size;
         at = next_nal(x, size, (size_t)at)) {
        int type = x[at] & 0x1f;
        mask |= 1 << type;
        if (type == 7) {
            assert_true((size_t)at + 1 < size);
            assert_int_equal(x[at + 1], profile_idc);
            sps_seen = true;
        }
    }
    assert_true(sps_seen);
    /* SPS and PPS, and nothing else (no SEI, no slice). */
    assert_int_equal(mask, (1 << 7) | (1 << 8));
}

static void test_extradata_is_sps_pps_high(void **state)
{
    (void)state;
    struct hwenc_params p = small_params();
    struct hwenc *enc;
    assert_int_equal(x264_ops()->open(&enc, &p), 0);
    check_extradata(enc, 100); /* profile_idc 100 = High */
    assert_int_equal(enc->params.width, 320);
    assert_int_equal(enc->params.keyint_frames, 60);
    assert_non_null(enc->description);
    assert_non_null(strstr(enc->description, "x264"));
    assert_non_null(strstr(enc->description, "veryfast/zerolatency"));
    assert_non_null(strstr(enc->description, "High"));
    enc->ops->close(enc);
}

/* enc->params outlives the caller's strings. */
static void test_params_strings_are_copied(void **state)
{
    (void)state;
    struct hwenc_params p = small_params();
    char preset[16] = "veryfast", profile[16] = "main";
    p.preset = preset;
    p.profile = profile;
    struct hwenc *enc;
    assert_int_equal(x264_ops()->open(&enc, &p), 0);
    memset(preset, 'x', sizeof(preset) - 1);
    memset(profile, 'x', sizeof(profile) - 1);
    assert_string_equal(enc->params.preset, "veryfast");
    assert_string_equal(enc->params.profile, "main");
    assert_string_equal(enc->params.tune, "zerolatency");
    enc->ops->close(enc);
}

static void test_other_profiles(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        int idc;
    } profiles[] = {{"main", 77}, {"baseline", 66}};
    for (size_t i = 0; i < sizeof(profiles) / sizeof(profiles[0]); i++) {
        struct hwenc_params p = small_params();
        p.profile = profiles[i].name;
        struct hwenc *enc;
        assert_int_equal(x264_ops()->open(&enc, &p), 0);
        check_extradata(enc, profiles[i].idc);
        enc->ops->close(enc);
    }
}

/* "-g 60" with fixed 2 s GOPs: IDR at frames 0, 60, 120 and nowhere else, scene cuts or not. */
static void check_gop(int width, int height)
{
    struct hwenc_params p;
    hwenc_params_default(&p);
    p.width = width;
    p.height = height;
    struct hwenc *enc;
    assert_int_equal(x264_ops()->open(&enc, &p), 0);
    struct recorder *r = calloc(1, sizeof(*r));
    assert_non_null(r);
    encode_frames(enc, 130, r);
    assert_int_equal(r->count, 130);
    for (int i = 0; i < r->count; i++) {
        const struct recorded *k = &r->pkt[i];
        bool idr_expected = k->pts % 60 == 0;
        assert_true(k->starts_with_start_code);
        assert_int_equal(k->keyframe, idr_expected);
        /* An IDR AU carries an IDR slice (type 5), the others only non-IDR slices (type 1). */
        assert_int_equal((k->nal_types & (1 << 5)) != 0, idr_expected);
        assert_int_equal((k->nal_types & (1 << 1)) != 0, !idr_expected);
        /* b_repeat_headers = 0: parameter sets live in extradata only. */
        assert_int_equal(k->nal_types & ((1 << 7) | (1 << 8)), 0);
        assert_true(k->dts <= k->pts);
        assert_int_equal(k->capture_ns, 1000 + k->pts);
        if (i > 0)
            assert_true(k->pts > r->pkt[i - 1].pts);
    }
    enc->ops->close(enc);
    free(r);
}

static void test_gop_320x240(void **state)
{
    (void)state;
    check_gop(320, 240);
}

static void test_gop_1280x720(void **state)
{
    (void)state;
    check_gop(1280, 720);
}

/* Without zerolatency x264 holds frames back (lookahead, B-frames): flush must hand them all out,
 * in decode order with dts <= pts. */
static void test_flush_returns_delayed_frames(void **state)
{
    (void)state;
    struct hwenc_params p = small_params();
    p.tune = NULL;
    p.threads = 1;
    struct hwenc *enc;
    assert_int_equal(x264_ops()->open(&enc, &p), 0);
    struct recorder *r = calloc(1, sizeof(*r));
    assert_non_null(r);
    int before_flush = encode_frames(enc, 40, r);
    assert_true(before_flush < 40);
    assert_int_equal(r->count, 40);
    bool seen[40] = {false};
    for (int i = 0; i < r->count; i++) {
        assert_true(r->pkt[i].dts <= r->pkt[i].pts);
        assert_true(r->pkt[i].pts >= 0 && r->pkt[i].pts < 40);
        assert_false(seen[r->pkt[i].pts]);
        seen[r->pkt[i].pts] = true;
        assert_int_equal(r->pkt[i].capture_ns, 1000 + r->pkt[i].pts);
        if (i > 0)
            assert_true(r->pkt[i].dts > r->pkt[i - 1].dts);
    }
    enc->ops->close(enc);
    free(r);
}

static void test_sink_error_stops_encode(void **state)
{
    (void)state;
    struct hwenc_params p = small_params();
    struct hwenc *enc;
    assert_int_equal(x264_ops()->open(&enc, &p), 0);
    struct recorder *r = calloc(1, sizeof(*r));
    assert_non_null(r);
    r->fail_with = -EPIPE;
    struct packet_sink sink = {.emit = record_emit, .opaque = r};
    struct frame *f;
    assert_int_equal(enc->ops->get_input(enc, &f), 0);
    draw(f, 0);
    f->pts = 0;
    assert_int_equal(enc->ops->encode(enc, f, &sink), -EPIPE);
    enc->ops->close(enc);
    free(r);
}

static void test_probe(void **state)
{
    (void)state;
    struct hwenc_params p = small_params();
    char why[128] = "";
    assert_int_equal(x264_ops()->probe(&p, why, sizeof(why)), 0);

    p.width = 0;
    why[0] = '\0';
    assert_int_equal(x264_ops()->probe(&p, why, sizeof(why)), -EINVAL);
    assert_true(strlen(why) > 0);
}

static void expect_open_einval(const struct hwenc_params *p)
{
    struct hwenc *enc = (struct hwenc *)(uintptr_t)1;
    assert_int_equal(x264_ops()->open(&enc, p), -EINVAL);
    assert_null(enc);
}

static void test_bad_params_fail_cleanly(void **state)
{
    (void)state;
    struct hwenc_params p = small_params();
    p.width = 321; /* "width, height: even, 16..8192" */
    expect_open_einval(&p);
    p = small_params();
    p.height = 8;
    expect_open_einval(&p);
    p = small_params();
    p.fps_num = 0;
    expect_open_einval(&p);
    p = small_params();
    p.fps_den = 0;
    expect_open_einval(&p);
    p = small_params();
    p.keyint_frames = 0;
    expect_open_einval(&p);
    p = small_params();
    p.bitrate_kbps = 0;
    expect_open_einval(&p);
    p = small_params();
    p.preset = "warpspeed";
    expect_open_einval(&p);
    p = small_params();
    p.profile = "high7";
    expect_open_einval(&p);
    x264_ops()->close(NULL); /* accepts NULL */
}

static void test_encode_rejects_foreign_frame(void **state)
{
    (void)state;
    struct hwenc_params p = small_params();
    struct hwenc *enc;
    assert_int_equal(x264_ops()->open(&enc, &p), 0);
    struct recorder *r = calloc(1, sizeof(*r));
    assert_non_null(r);
    struct packet_sink sink = {.emit = record_emit, .opaque = r};
    struct frame foreign = {.width = 320, .height = 240};
    assert_int_equal(enc->ops->encode(enc, &foreign, &sink), -EINVAL);
    assert_int_equal(r->count, 0);
    enc->ops->close(enc);
    free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_registry_and_defaults),
        cmocka_unit_test(test_get_input_matches_params),
        cmocka_unit_test(test_extradata_is_sps_pps_high),
        cmocka_unit_test(test_params_strings_are_copied),
        cmocka_unit_test(test_other_profiles),
        cmocka_unit_test(test_gop_320x240),
        cmocka_unit_test(test_gop_1280x720),
        cmocka_unit_test(test_flush_returns_delayed_frames),
        cmocka_unit_test(test_sink_error_stops_encode),
        cmocka_unit_test(test_probe),
        cmocka_unit_test(test_bad_params_fail_cleanly),
        cmocka_unit_test(test_encode_rejects_foreign_frame),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
