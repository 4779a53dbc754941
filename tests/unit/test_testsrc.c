/*
 * test_testsrc — the synthetic source (platform/testsrc.c): it draws a busy, moving picture with
 * a frame counter and a clock into I420 and NV12 frames, and never outside the visible planes.
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

#include "core/clock.h"
#include "platform/capture.h"

#define GUARD 64 /* bytes around every plane */
#define PAD 24   /* bytes after the visible part of every row */
#define POISON 0xa5

/* A frame in one allocation: guard, plane 0, guard, plane 1, guard[, plane 2, guard]. */
struct test_frame {
    uint8_t *mem;
    size_t size;
    size_t plane_at[3], plane_size[3];
    int planes;
    struct frame f;
};

static void frame_alloc_poison(struct test_frame *t, int w, int h, enum frame_format fmt,
                               uint8_t poison)
{
    memset(t, 0, sizeof(*t));
    t->planes = fmt == FRAME_FORMAT_NV12 ? 2 : 3;
    int linesize[3] = {w + PAD, (fmt == FRAME_FORMAT_NV12 ? w : w / 2) + PAD, w / 2 + PAD};
    int rows[3] = {h, h / 2, h / 2};
    size_t at = GUARD;
    for (int i = 0; i < t->planes; i++) {
        t->plane_at[i] = at;
        t->plane_size[i] = (size_t)linesize[i] * (size_t)rows[i];
        at += t->plane_size[i] + GUARD;
    }
    t->size = at;
    t->mem = malloc(t->size);
    assert_non_null(t->mem);
    memset(t->mem, poison, t->size);
    t->f.width = w;
    t->f.height = h;
    t->f.format = fmt;
    for (int i = 0; i < t->planes; i++) {
        t->f.data[i] = t->mem + t->plane_at[i];
        t->f.linesize[i] = linesize[i];
    }
}

static void frame_alloc(struct test_frame *t, int w, int h, enum frame_format fmt)
{
    frame_alloc_poison(t, w, h, fmt, POISON);
}

static void frame_free(struct test_frame *t)
{
    free(t->mem);
}

/* Bytes of one row of plane i that belong to the picture. */
static size_t visible_bytes(const struct test_frame *t, int i)
{
    if (i == 0 || t->f.format == FRAME_FORMAT_NV12)
        return (size_t)t->f.width;
    return (size_t)t->f.width / 2;
}

/* True when the guards between planes and the padding after every row are untouched. */
static bool frame_guards_intact(const struct test_frame *t)
{
    size_t prev_end = 0;
    for (int i = 0; i < t->planes; i++) {
        for (size_t b = prev_end; b < t->plane_at[i]; b++)
            if (t->mem[b] != POISON)
                return false;
        size_t ls = (size_t)t->f.linesize[i], vis = visible_bytes(t, i);
        for (size_t row = 0; row < t->plane_size[i] / ls; row++)
            for (size_t b = vis; b < ls; b++)
                if (t->mem[t->plane_at[i] + row * ls + b] != POISON)
                    return false;
        prev_end = t->plane_at[i] + t->plane_size[i];
    }
    for (size_t b = prev_end; b < t->size; b++)
        if (t->mem[b] != POISON)
            return false;
    return true;
}

static uint8_t luma(const struct test_frame *t, int x, int y)
{
    return t->f.data[0][(size_t)y * (size_t)t->f.linesize[0] + (size_t)x];
}

/* Number of luma pixels in [x0,x1) x [y0,y1) that differ between a and b. */
static long luma_diff(const struct test_frame *a, const struct test_frame *b, int x0, int y0,
                      int x1, int y1)
{
    long n = 0;
    for (int y = y0; y < y1; y++)
        for (int x = x0; x < x1; x++)
            n += luma(a, x, y) != luma(b, x, y);
    return n;
}

static bool chroma_equal(const struct test_frame *a, const struct test_frame *b)
{
    for (int i = 1; i < a->planes; i++)
        for (int y = 0; y < a->f.height / 2; y++)
            if (memcmp(a->f.data[i] + (size_t)y * (size_t)a->f.linesize[i],
                       b->f.data[i] + (size_t)y * (size_t)b->f.linesize[i],
                       visible_bytes(a, i)) != 0)
                return false;
    return true;
}

static struct capture *open_source(int w, int h)
{
    struct capture_params p = {.width = w, .height = h, .fps_num = 30, .fps_den = 1};
    struct capture *src = NULL;
    assert_int_equal(capture_testsrc_ops.open(&src, &p), 0);
    assert_non_null(src);
    return src;
}

static void fill(struct capture *src, struct test_frame *t, int64_t pts)
{
    t->f.pts = pts;
    t->f.unchanged = true; /* the source must clear it */
    assert_int_equal(capture_testsrc_ops.fill(src, &t->f), 0);
}

static void test_open_rejects_bad_params(void **state)
{
    (void)state;
    struct capture *src = (struct capture *)(uintptr_t)1;
    struct capture_params odd = {.width = 321, .height = 240, .fps_num = 30, .fps_den = 1};
    assert_int_equal(capture_testsrc_ops.open(&src, &odd), -EINVAL);
    assert_null(src);
    struct capture_params no_fps = {.width = 320, .height = 240, .fps_num = 0, .fps_den = 1};
    assert_int_equal(capture_testsrc_ops.open(&src, &no_fps), -EINVAL);
    assert_null(src);
    capture_testsrc_ops.close(NULL); /* "accepts NULL" */
    assert_string_equal(capture_testsrc_ops.name, "testsrc");
}

/* "Draws the picture for dst->pts into dst, sets dst->unchanged": each frame differs. */
static void check_format(enum frame_format fmt)
{
    struct capture *src = open_source(320, 240);
    struct test_frame a, b;
    frame_alloc(&a, 320, 240, fmt);
    frame_alloc(&b, 320, 240, fmt);
    int64_t before = clock_now_ns();
    fill(src, &a, 0);
    fill(src, &b, 1);
    assert_false(a.f.unchanged);
    assert_false(b.f.unchanged);
    assert_true(a.f.capture_ns >= before && b.f.capture_ns <= clock_now_ns());
    assert_int_equal(b.f.copied_bytes, 0); /* drawn, not copied */
    assert_true(frame_guards_intact(&a));
    assert_true(frame_guards_intact(&b));
    /* Consecutive frames differ well beyond the counter. */
    assert_true(luma_diff(&a, &b, 0, 0, 320, 240) > 320 * 240 / 100);

    /* The picture is not flat: luma variance well above that of a near-uniform frame. */
    double sum = 0, sq = 0;
    for (int y = 0; y < 240; y++)
        for (int x = 0; x < 320; x++) {
            double v = luma(&b, x, y);
            sum += v;
            sq += v * v;
        }
    double n = 320.0 * 240.0, var = sq / n - (sum / n) * (sum / n);
    assert_true(var > 1000.0);
    capture_testsrc_ops.close(src);
    frame_free(&a);
    frame_free(&b);
}

static void test_fill_i420(void **state)
{
    (void)state;
    check_format(FRAME_FORMAT_I420);
}

static void test_fill_nv12(void **state)
{
    (void)state;
    check_format(FRAME_FORMAT_NV12);
}

/* NV12 and I420 carry the same picture: same luma, and the same chroma samples interleaved. */
static void test_nv12_matches_i420(void **state)
{
    (void)state;
    struct capture *s1 = open_source(320, 240), *s2 = open_source(320, 240);
    struct test_frame i420, nv12;
    frame_alloc(&i420, 320, 240, FRAME_FORMAT_I420);
    frame_alloc(&nv12, 320, 240, FRAME_FORMAT_NV12);
    fill(s1, &i420, 7);
    fill(s2, &nv12, 7);
    assert_int_equal(luma_diff(&i420, &nv12, 0, 0, 320, 240), 0);
    for (int y = 0; y < 120; y++)
        for (int x = 0; x < 160; x++) {
            const uint8_t *uv = nv12.f.data[1] + (size_t)y * (size_t)nv12.f.linesize[1];
            assert_int_equal(uv[2 * x], i420.f.data[1][(size_t)y * (size_t)i420.f.linesize[1] + x]);
            assert_int_equal(uv[2 * x + 1],
                             i420.f.data[2][(size_t)y * (size_t)i420.f.linesize[2] + x]);
        }
    capture_testsrc_ops.close(s1);
    capture_testsrc_ops.close(s2);
    frame_free(&i420);
    frame_free(&nv12);
}

/* At 1280x720 the overlay (5x7 digits scaled 3x, white on black, top left) has the clock on the
 * line at rows 6..26 and the frame counter on the line at rows 36..56, from x = 6. */
#define CLOCK_Y0 6
#define CLOCK_Y1 27
#define COUNTER_Y0 36
#define COUNTER_Y1 57
#define TEXT_X0 6
#define TEXT_X1 232

/* Same pts twice: only the frame counter may change, and it must. */
static void test_frame_counter_changes(void **state)
{
    (void)state;
    struct capture *src = open_source(1280, 720);
    struct test_frame a, b;
    frame_alloc(&a, 1280, 720, FRAME_FORMAT_I420);
    frame_alloc(&b, 1280, 720, FRAME_FORMAT_I420);
    fill(src, &a, 42);
    fill(src, &b, 42);
    long counter_changed = luma_diff(&a, &b, TEXT_X0, COUNTER_Y0, TEXT_X1, COUNTER_Y1);
    assert_true(counter_changed > 0);
    assert_int_equal(luma_diff(&a, &b, 0, 0, 1280, 720), counter_changed);
    assert_true(chroma_equal(&a, &b));
    capture_testsrc_ops.close(src);
    frame_free(&a);
    frame_free(&b);
}

/* The clock shows the stream time of dst->pts: two sources on their first frame (same counter)
 * at pts 0 and pts 30 (1 s) differ on the clock line and not on the counter line. */
static void test_clock_follows_pts(void **state)
{
    (void)state;
    struct capture *s1 = open_source(1280, 720), *s2 = open_source(1280, 720);
    struct test_frame a, b;
    frame_alloc(&a, 1280, 720, FRAME_FORMAT_I420);
    frame_alloc(&b, 1280, 720, FRAME_FORMAT_I420);
    fill(s1, &a, 0);
    fill(s2, &b, 30);
    assert_true(luma_diff(&a, &b, TEXT_X0, CLOCK_Y0, TEXT_X1, CLOCK_Y1) > 0);
    assert_int_equal(luma_diff(&a, &b, TEXT_X0, COUNTER_Y0, TEXT_X1, COUNTER_Y1), 0);
    capture_testsrc_ops.close(s1);
    capture_testsrc_ops.close(s2);
    frame_free(&a);
    frame_free(&b);
}

/* A 1280x720 fill writes only inside the visible planes, in both formats, and is fast: the
 * source must keep up with 30 fps with room to spare ("well under 5 ms per frame"). */
static void test_fill_720p_bounds_and_speed(void **state)
{
    (void)state;
    enum frame_format fmts[2] = {FRAME_FORMAT_I420, FRAME_FORMAT_NV12};
    for (int k = 0; k < 2; k++) {
        struct capture *src = open_source(1280, 720);
        struct test_frame t;
        frame_alloc(&t, 1280, 720, fmts[k]);
        fill(src, &t, 0); /* first touch of the pages is not the steady state */
        for (int i = 1; i <= 30; i++) {
            fill(src, &t, i * 997); /* far-apart pts: shapes at both ends of their paths */
            assert_true(frame_guards_intact(&t));
        }
        int64_t start = clock_now_ns();
        for (int i = 31; i <= 60; i++)
            fill(src, &t, i);
        double ms_per_frame = (double)(clock_now_ns() - start) / 30.0 / 1e6;
        print_message("testsrc 1280x720 %s fill: %.3f ms/frame\n", k ? "NV12" : "I420",
                      ms_per_frame);
        assert_true(ms_per_frame < 5.0);
        assert_true(frame_guards_intact(&t));
        capture_testsrc_ops.close(src);
        frame_free(&t);
    }
}

/* The frame's size is the encoder's: a frame larger than the opened size is drawn whole. Every
 * visible byte is written: the picture does not depend on what the buffer held before. */
static void test_fill_other_size_and_bad_frame(void **state)
{
    (void)state;
    struct capture *s1 = open_source(320, 240), *s2 = open_source(320, 240);
    struct test_frame big, big2;
    frame_alloc(&big, 640, 480, FRAME_FORMAT_NV12);
    frame_alloc_poison(&big2, 640, 480, FRAME_FORMAT_NV12, 0x5a);
    fill(s1, &big, 5);
    fill(s2, &big2, 5);
    assert_true(frame_guards_intact(&big));
    assert_int_equal(luma_diff(&big, &big2, 0, 0, 640, 480), 0);
    assert_true(chroma_equal(&big, &big2));
    capture_testsrc_ops.close(s2);
    frame_free(&big2);
    struct capture *src = s1;

    struct test_frame odd;
    frame_alloc(&odd, 320, 240, FRAME_FORMAT_I420);
    odd.f.width = 319;
    odd.f.pts = 0;
    assert_int_equal(capture_testsrc_ops.fill(src, &odd.f), -EINVAL);
    odd.f.width = 320;
    assert_true(frame_guards_intact(&odd));
    capture_testsrc_ops.close(src);
    frame_free(&big);
    frame_free(&odd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_open_rejects_bad_params),
        cmocka_unit_test(test_fill_i420),
        cmocka_unit_test(test_fill_nv12),
        cmocka_unit_test(test_nv12_matches_i420),
        cmocka_unit_test(test_frame_counter_changes),
        cmocka_unit_test(test_clock_follows_pts),
        cmocka_unit_test(test_fill_720p_bounds_and_speed),
        cmocka_unit_test(test_fill_other_size_and_bad_frame),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
