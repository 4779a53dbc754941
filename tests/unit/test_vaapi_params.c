/*
 * test_vaapi_params — the VA-API backend's knobs -> VA structures mapping (hwenc/vaapi_params.c)
 * and packed headers (hwenc/vaapi_headers.c): "Rate control from the same knobs as x264
 * (CBR/VBR, bitrate, maxrate, bufsize, keyframe interval, frame rate) through the misc parameter
 * buffers"; "Profile High, falling back to Main then ConstrainedBaseline as the driver allows".
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "hwenc/vaapi_internal.h"
#include "media/h264_nal.h"

static struct hwenc_params seed(void)
{
    struct hwenc_params p;
    hwenc_params_default(&p);
    return p;
}

/* The seed: -b:v 1500k -maxrate 1500k -bufsize 3000k, "CBR-like" VBR capped at the bitrate. */
static void test_rc_seed_vbr(void **state)
{
    (void)state;
    struct hwenc_params p = seed();
    p.rc_mode = HWENC_RC_VBR;
    struct vaapi_rc rc;
    vaapi_params_rc(&p, &rc);
    assert_int_equal(rc.va_rc_mode, VA_RC_VBR);
    assert_int_equal(rc.rc.bits_per_second, 1500000);
    assert_int_equal(rc.rc.target_percentage, 100);
    assert_int_equal(rc.hrd.buffer_size, 3000000);
    assert_int_equal(rc.hrd.initial_buffer_fullness, 2250000);
    assert_int_equal(rc.rc.window_size, 2000); /* 3000k buffer drains in 2 s at 1500k */
    assert_int_equal(rc.rc.rc_flags.bits.disable_frame_skip, 1);
    assert_int_equal(rc.fr.framerate, 30 | (1u << 16));
}

static void test_rc_vbr_maxrate_above_bitrate(void **state)
{
    (void)state;
    struct hwenc_params p = seed();
    p.rc_mode = HWENC_RC_VBR;
    p.bitrate_kbps = 2000;
    p.maxrate_kbps = 4000;
    p.bufsize_kbit = 4000;
    struct vaapi_rc rc;
    vaapi_params_rc(&p, &rc);
    assert_int_equal(rc.rc.bits_per_second, 4000000); /* VA-API: the peak */
    assert_int_equal(rc.rc.target_percentage, 50);    /* target = 2000k of it */
    assert_int_equal(rc.rc.window_size, 1000);
    assert_int_equal(rc.hrd.buffer_size, 4000000);
}

/* CBR pins the rate to the bitrate whatever maxrate says; bufsize 0 means twice the rate. */
static void test_rc_cbr(void **state)
{
    (void)state;
    struct hwenc_params p = seed();
    p.rc_mode = HWENC_RC_CBR;
    p.bitrate_kbps = 3000;
    p.maxrate_kbps = 6000;
    p.bufsize_kbit = 0;
    struct vaapi_rc rc;
    vaapi_params_rc(&p, &rc);
    assert_int_equal(rc.va_rc_mode, VA_RC_CBR);
    assert_int_equal(rc.rc.bits_per_second, 3000000);
    assert_int_equal(rc.rc.target_percentage, 100);
    assert_int_equal(rc.hrd.buffer_size, 6000000);
    assert_int_equal(rc.rc.window_size, 2000);
}

/* Window clamped to what drivers accept; NTSC rates keep their denominator. */
static void test_rc_window_and_ntsc(void **state)
{
    (void)state;
    struct hwenc_params p = seed();
    p.bufsize_kbit = 10;
    p.fps_num = 30000;
    p.fps_den = 1001;
    struct vaapi_rc rc;
    vaapi_params_rc(&p, &rc);
    assert_int_equal(rc.rc.window_size, 100);
    assert_int_equal(rc.fr.framerate, 30000u | (1001u << 16));
}

static void test_seq_720p(void **state)
{
    (void)state;
    struct hwenc_params p = seed();
    VAEncSequenceParameterBufferH264 s;
    vaapi_params_seq(&p, VAProfileH264High, &s);
    assert_int_equal(s.picture_width_in_mbs, 80);
    assert_int_equal(s.picture_height_in_mbs, 45);
    assert_int_equal(s.frame_cropping_flag, 0);
    assert_int_equal(s.intra_idr_period, 60); /* keyint 2 s at 30 fps */
    assert_int_equal(s.intra_period, 60);
    assert_int_equal(s.ip_period, 1); /* no B-frames */
    assert_int_equal(s.max_num_ref_frames, 1);
    assert_int_equal(s.seq_fields.bits.pic_order_cnt_type, 2);
    assert_int_equal(s.level_idc, 31);
    assert_int_equal(s.num_units_in_tick, 1);
    assert_int_equal(s.time_scale, 60);
    assert_int_equal(s.bits_per_second, 1500000);
}

/* 1080 is not a multiple of 16: 68 macroblock rows, 8 lines cropped (4 in 4:2:0 units). */
static void test_seq_1080p_cropping(void **state)
{
    (void)state;
    struct hwenc_params p = seed();
    p.width = 1920;
    p.height = 1080;
    p.keyint_frames = 120;
    VAEncSequenceParameterBufferH264 s;
    vaapi_params_seq(&p, VAProfileH264Main, &s);
    assert_int_equal(s.picture_width_in_mbs, 120);
    assert_int_equal(s.picture_height_in_mbs, 68);
    assert_int_equal(s.frame_cropping_flag, 1);
    assert_int_equal(s.frame_crop_bottom_offset, 4);
    assert_int_equal(s.frame_crop_right_offset, 0);
    assert_int_equal(s.intra_idr_period, 120);
    assert_int_equal(s.level_idc, 40);
}

static void test_levels(void **state)
{
    (void)state;
    struct hwenc_params p = seed();
    p.width = 1920;
    p.height = 1080;
    p.fps_num = 60;
    assert_int_equal(vaapi_level_idc(&p), 42);
    p.width = 3840;
    p.height = 2160;
    p.fps_num = 30;
    assert_int_equal(vaapi_level_idc(&p), 51);
    p.width = 640;
    p.height = 360;
    assert_int_equal(vaapi_level_idc(&p), 30);
}

static void test_profile_fallback(void **state)
{
    (void)state;
    VAProfile all[] = {VAProfileH264ConstrainedBaseline, VAProfileH264Main, VAProfileH264High};
    VAProfile main_cb[] = {VAProfileH264ConstrainedBaseline, VAProfileH264Main};
    VAProfile cb[] = {VAProfileH264ConstrainedBaseline};
    VAProfile high[] = {VAProfileH264High};
    VAProfile out;
    assert_int_equal(vaapi_profile_choose("high", all, 3, &out), 0);
    assert_int_equal(out, VAProfileH264High);
    assert_int_equal(vaapi_profile_choose(NULL, all, 3, &out), 0);
    assert_int_equal(out, VAProfileH264High);
    assert_int_equal(vaapi_profile_choose("high", main_cb, 2, &out), 0);
    assert_int_equal(out, VAProfileH264Main);
    assert_int_equal(vaapi_profile_choose("high", cb, 1, &out), 0);
    assert_int_equal(out, VAProfileH264ConstrainedBaseline);
    assert_int_equal(vaapi_profile_choose("main", all, 3, &out), 0);
    assert_int_equal(out, VAProfileH264Main);
    assert_int_equal(vaapi_profile_choose("baseline", all, 3, &out), 0);
    assert_int_equal(out, VAProfileH264ConstrainedBaseline);
    /* Never upwards: a Main stream was asked for, High is not it. */
    assert_int_equal(vaapi_profile_choose("main", high, 1, &out), -ENOTSUP);
    assert_int_equal(vaapi_profile_choose("high", NULL, 0, &out), -ENOTSUP);
    assert_int_equal(vaapi_profile_choose("high10", all, 3, &out), -ENOTSUP);
}

static void test_check_refuses(void **state)
{
    (void)state;
    char why[128];
    struct hwenc_params p = seed();
    assert_int_equal(vaapi_params_check(&p, why, sizeof(why)), 0);
    p.width = 1279;
    assert_int_equal(vaapi_params_check(&p, why, sizeof(why)), -EINVAL);
    assert_non_null(strstr(why, "even"));
    p = seed();
    p.fps_den = 70000; /* does not fit the frame rate parameter's 16 bits */
    assert_int_equal(vaapi_params_check(&p, why, sizeof(why)), -EINVAL);
    p = seed();
    p.keyint_frames = 0;
    assert_int_equal(vaapi_params_check(&p, why, sizeof(why)), -EINVAL);
    p = seed();
    p.bitrate_kbps = 0;
    assert_int_equal(vaapi_params_check(&p, why, sizeof(why)), -EINVAL);
}

/* The packed SPS says what the sequence parameters say: profile, level, cropped size. */
static void test_packed_sps_pps(void **state)
{
    (void)state;
    struct hwenc_params p = seed();
    p.width = 1920;
    p.height = 1080;
    VAProfile profiles[] = {VAProfileH264High, VAProfileH264Main, VAProfileH264ConstrainedBaseline};
    int idcs[] = {100, 77, 66};
    for (int i = 0; i < 3; i++) {
        VAEncSequenceParameterBufferH264 s;
        vaapi_params_seq(&p, profiles[i], &s);
        uint8_t buf[256];
        int n = vaapi_write_sps(&s, profiles[i], buf, sizeof(buf));
        assert_true(n > 8);
        struct h264_nal nal;
        assert_true(h264_find_nal(buf, (size_t)n, H264_NAL_SPS, &nal));
        struct h264_sps_info info;
        assert_int_equal(h264_sps_parse(nal.data, nal.size, &info), 0);
        assert_int_equal(info.profile_idc, idcs[i]);
        assert_int_equal(info.level_idc, 40);
        assert_int_equal(info.width, 1920);
        assert_int_equal(info.height, 1080);
        assert_int_equal(info.poc_type, 2);
        assert_int_equal(info.max_num_ref_frames, 1);
        assert_int_equal(info.chroma_format_idc, 1);
        if (idcs[i] == 66)
            assert_true(info.constraint_flags & 0x40); /* constraint_set1: constrained */
    }
    VAEncPictureParameterBufferH264 pic;
    memset(&pic, 0, sizeof(pic));
    pic.pic_init_qp = 26;
    pic.pic_fields.bits.entropy_coding_mode_flag = 1;
    pic.pic_fields.bits.transform_8x8_mode_flag = 1;
    uint8_t buf[64];
    int n = vaapi_write_pps(&pic, buf, sizeof(buf));
    assert_true(n > 5);
    struct h264_nal nal;
    assert_true(h264_find_nal(buf, (size_t)n, H264_NAL_PPS, &nal));
    assert_int_equal(vaapi_write_pps(&pic, buf, 4), -ENOSPC);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rc_seed_vbr),   cmocka_unit_test(test_rc_vbr_maxrate_above_bitrate),
        cmocka_unit_test(test_rc_cbr),        cmocka_unit_test(test_rc_window_and_ntsc),
        cmocka_unit_test(test_seq_720p),      cmocka_unit_test(test_seq_1080p_cropping),
        cmocka_unit_test(test_levels),        cmocka_unit_test(test_profile_fallback),
        cmocka_unit_test(test_check_refuses), cmocka_unit_test(test_packed_sps_pps),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
