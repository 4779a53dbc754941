/* Unit tests for src/media/muxer.c: "FLV muxing: … monotonic timestamps, audio and video
 * interleaved by time." */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "media/aac_silence.h"
#include "media/muxer.h"

#define MAX_TAGS 4096

struct capture {
    int n;
    enum flv_tag_type type[MAX_TAGS];
    int64_t dts[MAX_TAGS];
    int fail_at; /* emit returns -EIO at this index, or -1 */
};

static int collect(void *opaque, struct flv_tag *tag)
{
    struct capture *c = opaque;
    if (c->n == c->fail_at) {
        flv_tag_unref(tag);
        return -EIO;
    }
    assert_true(c->n < MAX_TAGS);
    c->type[c->n] = tag->type;
    c->dts[c->n] = tag->dts_ms;
    c->n++;
    flv_tag_unref(tag);
    return 0;
}

/* One access unit: an IDR or a non-IDR slice NAL, enough for flv_avc_frame. */
static void feed_frames(struct muxer *m, int64_t first, int64_t count)
{
    static const uint8_t idr[] = {0, 0, 0, 1, 0x65, 0x88, 0x84, 0x00};
    static const uint8_t p[] = {0, 0, 0, 1, 0x41, 0x9a, 0x02, 0x00};
    for (int64_t i = first; i < first + count; i++) {
        struct h264_packet pkt = {
            .data = i % 60 ? p : idr, .size = sizeof(idr), .pts = i, .dts = i,
            .keyframe = i % 60 == 0};
        assert_int_equal(muxer_video(m, &pkt), 0);
    }
}

static void test_interleaved_and_monotonic(void **state)
{
    struct capture c = {.fail_at = -1};
    struct muxer m;
    muxer_init(&m, 1001, 30000, collect, &c); /* 29.97 fps: rounding in every tick */
    feed_frames(&m, 0, 300);
    assert_int_equal(muxer_audio_until(&m, m.last_dts_ms), 0);
    int video = 0, audio = 0;
    for (int i = 0; i < c.n; i++) {
        if (i > 0)
            assert_true(c.dts[i] >= c.dts[i - 1]); /* never backwards, across both tracks */
        if (c.type[i] == FLV_TAG_VIDEO)
            video++;
        else
            audio++;
    }
    assert_int_equal(video, 300);
    /* Audio covers the video: 299 ticks of 1001/30000 s = 9976 ms → frames 0..429 */
    int64_t last_video = 299 * 1001 * 1000 / 30000;
    int expect_audio = 0;
    while (aac_frame_dts_ms(expect_audio) <= last_video)
        expect_audio++;
    assert_int_equal(audio, expect_audio);
    /* Interleaved by time: no run of more than two audio frames between video frames
     * (23.2 ms audio, 33.4 ms video). */
    int run = 0;
    for (int i = 0; i < c.n; i++) {
        run = c.type[i] == FLV_TAG_AUDIO ? run + 1 : 0;
        assert_true(run <= 2);
    }
}

static void test_audio_before_video_at_the_same_time(void **state)
{
    struct capture c = {.fail_at = -1};
    struct muxer m;
    muxer_init(&m, 1, 30, collect, &c);
    feed_frames(&m, 0, 1);
    /* audio frame 0 (0 ms) goes out before the video frame at 0 ms */
    assert_int_equal(c.n, 2);
    assert_int_equal(c.type[0], FLV_TAG_AUDIO);
    assert_int_equal(c.type[1], FLV_TAG_VIDEO);
    assert_int_equal(c.dts[1], 0);
}

static void test_backwards_video_is_clamped(void **state)
{
    struct capture c = {.fail_at = -1};
    struct muxer m;
    muxer_init(&m, 1, 30, collect, &c);
    feed_frames(&m, 10, 1); /* 333 ms */
    feed_frames(&m, 9, 1);  /* an encoder stepping back: 300 ms */
    assert_int_equal(c.type[c.n - 1], FLV_TAG_VIDEO);
    assert_int_equal(c.dts[c.n - 1], 333);
}

static void test_emit_error_stops(void **state)
{
    struct capture c = {.fail_at = 1};
    struct muxer m;
    muxer_init(&m, 1, 30, collect, &c);
    static const uint8_t idr[] = {0, 0, 0, 1, 0x65, 0x88};
    struct h264_packet pkt = {.data = idr, .size = sizeof(idr), .keyframe = true};
    assert_int_equal(muxer_video(&m, &pkt), -EIO);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_interleaved_and_monotonic),
        cmocka_unit_test(test_audio_before_video_at_the_same_time),
        cmocka_unit_test(test_backwards_video_is_clamped),
        cmocka_unit_test(test_emit_error_stops),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
