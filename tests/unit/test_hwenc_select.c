/*
 * test_hwenc_select — encoder selection (hwenc/select.c): `auto` picks the first backend whose
 * test encode works, a name picks exactly that backend, the probe report, and the mid-stream
 * fallback that replaces a failed hardware encoder with x264 (issue 4: "If a hardware encoder
 * fails mid-stream, the pipeline falls back to x264 at the next keyframe without ending the
 * stream, and says so").
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hwenc/select.h"

/* A stand-in "hardware" backend: only what fall_back touches (close) does anything. */
static int closed_count;

static void pretend_close(struct hwenc *enc)
{
    closed_count++;
    free(enc);
}

static const struct hwenc_ops pretend_hw_ops = {
    .name = "pretendhw",
    .close = pretend_close,
};

static struct hwenc_params small_params(void)
{
    struct hwenc_params p;
    hwenc_params_default(&p);
    p.width = 320;
    p.height = 240;
    return p;
}

static void test_named_backend_opens_exactly_that_one(void **state)
{
    (void)state;
    struct hwenc_params p = small_params();
    struct hwenc *enc;
    assert_int_equal(hwenc_select_open("x264", &p, &enc), 0);
    assert_ptr_equal(enc->ops, &hwenc_x264_ops);
    assert_false(hwenc_select_can_fall_back(enc)); /* x264 is the floor */
    enc->ops->close(enc);
}

static void test_unknown_backend_is_enoent(void **state)
{
    (void)state;
    struct hwenc_params p = small_params();
    struct hwenc *enc = (struct hwenc *)&p; /* must be reset to NULL */
    assert_int_equal(hwenc_select_open("quicksync", &p, &enc), -ENOENT);
    assert_null(enc);
}

/* Here no hardware answers (no GPU; the fakes are not loaded into this process), so auto ends
 * on x264, the one backend that always works. */
static void test_auto_ends_on_a_working_backend(void **state)
{
    (void)state;
    struct hwenc_params p = small_params();
    struct hwenc *enc;
    assert_int_equal(hwenc_select_open("auto", &p, &enc), 0);
    assert_non_null(enc->extradata);
    assert_true(enc->extradata_size > 4);
    enc->ops->close(enc);
    assert_int_equal(hwenc_select_open(NULL, &p, &enc), 0);
    enc->ops->close(enc);
}

/* An impossible size makes every backend's test encode fail: auto says so (-ENODEV). */
static void test_auto_with_nothing_usable_is_enodev(void **state)
{
    (void)state;
    struct hwenc_params p = small_params();
    p.width = 15;
    struct hwenc *enc;
    assert_int_equal(hwenc_select_open("auto", &p, &enc), -ENODEV);
    assert_null(enc);
}

static void test_fall_back_replaces_hardware_with_x264(void **state)
{
    (void)state;
    struct hwenc *hw = calloc(1, sizeof(*hw));
    assert_non_null(hw);
    hw->ops = &pretend_hw_ops;
    hw->params = small_params();
    hw->params.bitrate_kbps = 900;
    hw->params.keyint_frames = 45;
    hw->params.device = "/dev/dri/renderD128";
    assert_true(hwenc_select_can_fall_back(hw));
    closed_count = 0;
    struct hwenc *enc = hw;
    assert_int_equal(hwenc_select_fall_back(&enc, -EIO), 0);
    assert_int_equal(closed_count, 1); /* the failed encoder is closed */
    assert_ptr_equal(enc->ops, &hwenc_x264_ops);
    /* same stream: size, rate control and GOP carry over; the device does not */
    assert_int_equal(enc->params.width, 320);
    assert_int_equal(enc->params.height, 240);
    assert_int_equal(enc->params.bitrate_kbps, 900);
    assert_int_equal(enc->params.keyint_frames, 45);
    assert_string_equal(enc->params.preset, "veryfast");
    assert_null(enc->params.device);
    assert_non_null(enc->extradata);
    enc->ops->close(enc);
}

static void test_fall_back_failure_leaves_null(void **state)
{
    (void)state;
    struct hwenc *hw = calloc(1, sizeof(*hw));
    assert_non_null(hw);
    hw->ops = &pretend_hw_ops;
    hw->params = small_params();
    hw->params.width = 15; /* x264 refuses it too */
    closed_count = 0;
    struct hwenc *enc = hw;
    assert_true(hwenc_select_fall_back(&enc, -EIO) < 0);
    assert_int_equal(closed_count, 1);
    assert_null(enc);
}

static void test_report_x264_and_unbuilt(void **state)
{
    (void)state;
    struct hwenc_params p = small_params();
    struct hwenc_report r;
    hwenc_select_report("x264", &p, &r);
    assert_true(r.built);
    assert_true(r.usable);
    assert_string_equal(r.why, "");
    assert_string_equal(r.caps.device, "cpu");
    assert_non_null(strstr(r.caps.driver, "libx264"));
    assert_non_null(strstr(r.caps.profiles, "high"));
    assert_int_equal(r.caps.max_width, 8192);

    hwenc_select_report("v4l2m2m", &p, &r); /* a known name never built on x86 */
    assert_false(r.built);
    assert_false(r.usable);
    assert_string_equal(r.why, "not built into this agentcast");

    p.width = 15;
    hwenc_select_report("x264", &p, &r);
    assert_true(r.built);
    assert_false(r.usable);
    assert_non_null(strstr(r.why, "failed"));
}

static void test_known_names_in_auto_order(void **state)
{
    (void)state;
    const char *expect[] = {"nvenc", "vaapi", "v4l2m2m", "x264"};
    for (size_t i = 0; i < 4; i++)
        assert_string_equal(hwenc_known_names[i], expect[i]);
    assert_null(hwenc_known_names[4]);
    /* every compiled-in backend is a known name, in the same relative order */
    size_t last = 0;
    for (size_t b = 0; hwenc_backends[b]; b++) {
        size_t k = 0;
        while (hwenc_known_names[k] && strcmp(hwenc_known_names[k], hwenc_backends[b]->name))
            k++;
        assert_non_null(hwenc_known_names[k]);
        assert_true(k >= last);
        last = k;
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_named_backend_opens_exactly_that_one),
        cmocka_unit_test(test_unknown_backend_is_enoent),
        cmocka_unit_test(test_auto_ends_on_a_working_backend),
        cmocka_unit_test(test_auto_with_nothing_usable_is_enodev),
        cmocka_unit_test(test_fall_back_replaces_hardware_with_x264),
        cmocka_unit_test(test_fall_back_failure_leaves_null),
        cmocka_unit_test(test_report_x264_and_unbuilt),
        cmocka_unit_test(test_known_names_in_auto_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
