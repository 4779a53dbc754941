/* Unit tests for src/media/thumbnail.c: "first thumbnail: a JPEG (libturbojpeg) of the encoder's
 * current frame, no screenshot tool". */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <turbojpeg.h>

#include "media/thumbnail.h"

#define W 64
#define H 32

/* Left half black, right half white, in BT.601 limited range; top-right quarter pure red. */
static void make_frame(struct frame *f, uint8_t *buf, enum frame_format fmt)
{
    memset(f, 0, sizeof(*f));
    f->width = W;
    f->height = H;
    f->format = fmt;
    f->data[0] = buf;
    f->linesize[0] = W + 16; /* padded rows, as encoders lend them */
    f->data[1] = buf + (W + 16) * H;
    f->linesize[1] = fmt == FRAME_FORMAT_NV12 ? W + 16 : W / 2 + 8;
    f->data[2] = f->data[1] + f->linesize[1] * H / 2;
    f->linesize[2] = W / 2 + 8;
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            bool red = x >= W / 2 && y < H / 2;
            f->data[0][y * f->linesize[0] + x] = red ? 81 : x < W / 2 ? 16 : 235;
        }
    for (int y = 0; y < H / 2; y++)
        for (int x = 0; x < W / 2; x++) {
            bool red = x >= W / 4 && y < H / 4;
            uint8_t u = red ? 90 : 128, v = red ? 240 : 128;
            if (fmt == FRAME_FORMAT_NV12) {
                f->data[1][y * f->linesize[1] + 2 * x] = u;
                f->data[1][y * f->linesize[1] + 2 * x + 1] = v;
            } else {
                f->data[1][y * f->linesize[1] + x] = u;
                f->data[2][y * f->linesize[2] + x] = v;
            }
        }
}

static void check_roundtrip(enum frame_format fmt)
{
    static uint8_t buf[(W + 16) * H * 2];
    struct frame f;
    make_frame(&f, buf, fmt);
    struct thumbnail_image *img = thumbnail_capture(&f);
    assert_non_null(img);
    assert_int_equal(img->width, W);
    uint8_t *jpeg = NULL;
    size_t size = 0;
    assert_int_equal(thumbnail_jpeg(img, 90, &jpeg, &size), 0);
    assert_true(size > 100);
    assert_int_equal(jpeg[0], 0xff); /* SOI */
    assert_int_equal(jpeg[1], 0xd8);
    assert_int_equal(jpeg[size - 2], 0xff); /* EOI */
    assert_int_equal(jpeg[size - 1], 0xd9);

    tjhandle tj = tjInitDecompress();
    int w, h, sub, cs;
    assert_int_equal(tjDecompressHeader3(tj, jpeg, size, &w, &h, &sub, &cs), 0);
    assert_int_equal(w, W);
    assert_int_equal(h, H);
    uint8_t rgb[W * H * 3];
    assert_int_equal(tjDecompress2(tj, jpeg, size, rgb, W, 0, H, TJPF_RGB, 0), 0);
    tjDestroy(tj);
    /* limited range black/white become full range 0/255 (within JPEG loss) */
    const uint8_t *black = &rgb[((H - 4) * W + 4) * 3];
    const uint8_t *white = &rgb[((H - 4) * W + W - 4) * 3];
    const uint8_t *red = &rgb[(4 * W + W - 4) * 3];
    for (int c = 0; c < 3; c++) {
        assert_true(black[c] <= 8);
        assert_true(white[c] >= 247);
    }
    assert_true(red[0] >= 200 && red[1] <= 60 && red[2] <= 60);
    free(jpeg);
    thumbnail_image_free(img);
}

static void test_i420(void **state)
{
    check_roundtrip(FRAME_FORMAT_I420);
}

static void test_nv12(void **state)
{
    check_roundtrip(FRAME_FORMAT_NV12);
}

static void test_bad_quality(void **state)
{
    uint8_t rgb[W * H * 3] = {0};
    struct thumbnail_image img = {.width = W, .height = H, .rgb = rgb};
    uint8_t *jpeg;
    size_t size;
    assert_int_equal(thumbnail_jpeg(&img, 0, &jpeg, &size), -EINVAL);
    assert_int_equal(thumbnail_jpeg(&img, 101, &jpeg, &size), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_i420),
        cmocka_unit_test(test_nv12),
        cmocka_unit_test(test_bad_quality),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
