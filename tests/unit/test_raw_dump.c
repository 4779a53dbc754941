/* Unit tests for src/media/raw_dump.c: `--dump-raw FILE` writes "every picture the encoder is
 * given, as raw I420 (planes back to back, no padding)" and counts the bytes it read as copied. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "media/raw_dump.h"

#define W 8
#define H 4
#define PAD 5 /* padded rows, as encoders lend them */

static uint8_t buf[3 * (W + PAD) * H];

/* Y = 10*y + x, U = 100 + x + 10*y, V = 200 + x + 10*y on the visible area; padding 0xEE. */
static void make_frame(struct frame *f, enum frame_format fmt)
{
    memset(buf, 0xEE, sizeof(buf));
    memset(f, 0, sizeof(*f));
    f->width = W;
    f->height = H;
    f->format = fmt;
    f->linesize[0] = W + PAD;
    f->data[0] = buf;
    f->data[1] = buf + (W + PAD) * H;
    f->linesize[1] = fmt == FRAME_FORMAT_NV12 ? W + PAD : W / 2 + PAD;
    f->data[2] = f->data[1] + f->linesize[1] * H / 2;
    f->linesize[2] = W / 2 + PAD;
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            f->data[0][y * f->linesize[0] + x] = (uint8_t)(10 * y + x);
    for (int y = 0; y < H / 2; y++)
        for (int x = 0; x < W / 2; x++) {
            uint8_t u = (uint8_t)(100 + x + 10 * y), v = (uint8_t)(200 + x + 10 * y);
            if (fmt == FRAME_FORMAT_NV12) {
                f->data[1][y * f->linesize[1] + 2 * x] = u;
                f->data[1][y * f->linesize[1] + 2 * x + 1] = v;
            } else {
                f->data[1][y * f->linesize[1] + x] = u;
                f->data[2][y * f->linesize[2] + x] = v;
            }
        }
}

static void check_i420(const uint8_t *p)
{
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            assert_int_equal(*p++, 10 * y + x);
    for (int plane = 0; plane < 2; plane++)
        for (int y = 0; y < H / 2; y++)
            for (int x = 0; x < W / 2; x++)
                assert_int_equal(*p++, (plane ? 200 : 100) + x + 10 * y);
}

static void dump_two_frames(void **state, enum frame_format fmt)
{
    (void)state;
    char path[] = "/tmp/test_raw_dump.XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    struct raw_dump *d = raw_dump_open(path);
    assert_non_null(d);
    struct frame f;
    make_frame(&f, fmt);
    f.copied_bytes = 7;
    assert_int_equal(raw_dump_write(d, &f), 0);
    assert_int_equal(f.copied_bytes, 7 + W * H * 3 / 2); /* the dump is a counted copy */
    assert_int_equal(raw_dump_write(d, &f), 0);
    assert_int_equal(raw_dump_close(d), 0);

    const size_t frame_size = W * H * 3 / 2;
    uint8_t out[2 * W * H * 3 / 2 + 1];
    FILE *in = fopen(path, "rb");
    assert_non_null(in);
    assert_int_equal(fread(out, 1, sizeof(out), in), 2 * frame_size); /* no padding, no more */
    fclose(in);
    unlink(path);
    check_i420(out);
    check_i420(out + frame_size);
}

static void test_i420(void **state)
{
    dump_two_frames(state, FRAME_FORMAT_I420);
}

static void test_nv12_written_as_i420(void **state)
{
    dump_two_frames(state, FRAME_FORMAT_NV12);
}

static void test_unwritable_path(void **state)
{
    (void)state;
    assert_null(raw_dump_open("/nonexistent-dir/x.yuv"));
    assert_int_equal(raw_dump_close(NULL), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_i420),
        cmocka_unit_test(test_nv12_written_as_i420),
        cmocka_unit_test(test_unwritable_path),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
