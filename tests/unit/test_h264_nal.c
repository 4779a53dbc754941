/*
 * test_h264_nal — Annex B iteration and SPS decoding (src/media/h264_nal.c), against SPS
 * written by libx264 and SPS assembled here bit by bit (ITU-T H.264 7.3.2.1.1) with emulation
 * prevention applied (7.4.1).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include <x264.h>

#include "media/h264_nal.h"

/* Annex B: "zero_byte" is optional before the 3-byte start_code_prefix_one_3bytes, and
 * "trailing_zero_8bits" may follow a NAL unit; neither belongs to the NAL unit. */
static void test_iter_start_codes(void **state)
{
    /* clang-format off */
    static const uint8_t buf[] = {
        0xaa, 0xbb,                   /* junk before the first start code: skipped */
        0, 0, 0, 1, 0x09, 0xf0,       /* AUD after a 4-byte start code */
        0, 0, 1, 0x67, 0x42, 0x00,    /* SPS after a 3-byte start code ...  */
        0x1f, 0x00, 0x00,             /* ... then trailing_zero_8bits */
        0, 0, 1,                      /* an empty unit: skipped */
        0, 0, 0, 1, 0x68, 0xce, 0x38, /* PPS */
        0, 0, 1, 0x65, 0x88, 0x00, 0x00, 0x03, 0x00, 0x01, 0x80, /* IDR with an 00 00 03 */
    };
    /* clang-format on */
    struct h264_nal_iter it;
    struct h264_nal nal;
    h264_nal_iter_init(&it, buf, sizeof(buf));

    assert_true(h264_nal_next(&it, &nal));
    assert_int_equal(nal.type, H264_NAL_AUD);
    assert_ptr_equal(nal.data, buf + 6);
    assert_int_equal(nal.size, 2);

    assert_true(h264_nal_next(&it, &nal));
    assert_int_equal(nal.type, H264_NAL_SPS);
    assert_ptr_equal(nal.data, buf + 11);
    assert_int_equal(nal.size, 4);

    assert_true(h264_nal_next(&it, &nal));
    assert_int_equal(nal.type, H264_NAL_PPS);
    assert_int_equal(nal.size, 3);
    assert_int_equal(nal.data[0], 0x68);

    assert_true(h264_nal_next(&it, &nal));
    assert_int_equal(nal.type, H264_NAL_IDR);
    assert_int_equal(nal.size, 8); /* 00 00 03 00 is escaped payload, not a start code */
    assert_ptr_equal(nal.data + nal.size, buf + sizeof(buf));

    assert_false(h264_nal_next(&it, &nal));
    assert_false(h264_nal_next(&it, &nal));
}

static void test_iter_degenerate(void **state)
{
    struct h264_nal_iter it;
    struct h264_nal nal;
    static const uint8_t none[] = {0x65, 0x88, 0x84, 0x00, 0x00};
    h264_nal_iter_init(&it, none, sizeof(none));
    assert_false(h264_nal_next(&it, &nal));

    static const uint8_t only_sc[] = {0, 0, 0, 1};
    h264_nal_iter_init(&it, only_sc, sizeof(only_sc));
    assert_false(h264_nal_next(&it, &nal));

    h264_nal_iter_init(&it, NULL, 0);
    assert_false(h264_nal_next(&it, &nal));

    /* A unit cut right after its header byte still counts. */
    static const uint8_t tiny[] = {0, 0, 1, 0x06};
    h264_nal_iter_init(&it, tiny, sizeof(tiny));
    assert_true(h264_nal_next(&it, &nal));
    assert_int_equal(nal.type, H264_NAL_SEI);
    assert_int_equal(nal.size, 1);

    assert_false(h264_find_nal(none, sizeof(none), H264_NAL_SPS, &nal));
    assert_true(h264_find_nal(tiny, sizeof(tiny), H264_NAL_SEI, &nal));
}

/* The SPS and PPS libx264 writes for a given size and preset, as one Annex B buffer. */
static size_t x264_headers(int width, int height, const char *preset, const char *profile,
                           uint8_t *out, size_t cap)
{
    x264_param_t param;
    assert_int_equal(x264_param_default_preset(&param, preset, "zerolatency"), 0);
    param.i_width = width;
    param.i_height = height;
    param.i_csp = X264_CSP_I420;
    param.i_fps_num = 30;
    param.i_fps_den = 1;
    param.i_threads = 1;
    param.i_log_level = X264_LOG_NONE;
    param.b_annexb = 1;
    assert_int_equal(x264_param_apply_profile(&param, profile), 0);
    x264_t *enc = x264_encoder_open(&param);
    assert_non_null(enc);
    x264_nal_t *nals;
    int n;
    assert_true(x264_encoder_headers(enc, &nals, &n) > 0);
    size_t size = 0;
    for (int i = 0; i < n; i++) {
        assert_true(size + (size_t)nals[i].i_payload <= cap);
        memcpy(out + size, nals[i].p_payload, (size_t)nals[i].i_payload);
        size += (size_t)nals[i].i_payload;
    }
    x264_encoder_close(enc);
    return size;
}

static void check_x264_sps(int width, int height, const char *preset, const char *profile,
                           int want_profile)
{
    uint8_t buf[1024];
    size_t size = x264_headers(width, height, preset, profile, buf, sizeof(buf));
    struct h264_nal sps, pps;
    assert_true(h264_find_nal(buf, size, H264_NAL_SPS, &sps));
    assert_true(h264_find_nal(buf, size, H264_NAL_PPS, &pps));
    struct h264_sps_info info;
    assert_int_equal(h264_sps_parse(sps.data, sps.size, &info), 0);
    assert_int_equal(info.profile_idc, want_profile);
    assert_int_equal(info.profile_idc, sps.data[1]);
    assert_int_equal(info.constraint_flags, sps.data[2]);
    assert_int_equal(info.level_idc, sps.data[3]);
    assert_int_equal(info.chroma_format_idc, 1);
    assert_int_equal(info.bit_depth_luma, 8);
    assert_true(info.frame_mbs_only);
    assert_int_equal(info.width, width);
    assert_int_equal(info.height, height);
}

/* Sizes that are not multiples of 16 are coded in whole macroblocks and cropped: 1080 lines
 * are 68 macroblock rows (1088) minus a bottom crop of 4 chroma units (8 lines). */
static void test_sps_from_x264(void **state)
{
    check_x264_sps(1280, 720, "veryfast", "high", 100);
    check_x264_sps(1920, 1080, "veryfast", "high", 100);
    check_x264_sps(100, 62, "veryfast", "high", 100);
    check_x264_sps(642, 362, "ultrafast", "baseline", 66);
}

/* An SPS writer for hand-made cases: RBSP bits, then emulation prevention. */
struct bitwriter {
    uint8_t buf[256];
    size_t bits;
};

static void put_bits(struct bitwriter *w, uint64_t v, int n)
{
    for (int i = n - 1; i >= 0; i--, w->bits++) {
        assert_true(w->bits < sizeof(w->buf) * 8);
        if ((v >> i) & 1)
            w->buf[w->bits / 8] |= (uint8_t)(0x80 >> (w->bits % 8));
    }
}

static void put_ue(struct bitwriter *w, uint64_t v)
{
    int len = 0;
    while ((v + 1) >> len)
        len++;
    put_bits(w, 0, len - 1);
    put_bits(w, v + 1, len);
}

static void put_se(struct bitwriter *w, int64_t v)
{
    put_ue(w, v > 0 ? (uint64_t)(2 * v - 1) : (uint64_t)(-2 * v));
}

/* rbsp_trailing_bits, then 7.4.1: "emulation_prevention_three_byte ... inserted" so that no
 * 00 00 0x (x <= 3) appears in the NAL unit. Returns the escaped size. */
static size_t finish_nal(struct bitwriter *w, uint8_t *out, size_t cap)
{
    put_bits(w, 1, 1);
    size_t n = (w->bits + 7) / 8, o = 0;
    int zeros = 0;
    for (size_t i = 0; i < n; i++) {
        assert_true(o + 2 <= cap);
        if (zeros >= 2 && w->buf[i] <= 3) {
            out[o++] = 3;
            zeros = 0;
        }
        out[o++] = w->buf[i];
        zeros = w->buf[i] == 0 ? zeros + 1 : 0;
    }
    return o;
}

static bool has_emulation_prevention(const uint8_t *p, size_t n)
{
    for (size_t i = 2; i < n; i++) {
        if (p[i - 2] == 0 && p[i - 1] == 0 && p[i] == 3)
            return true;
    }
    return false;
}

/* High 10, interlaced (frame_mbs_only_flag 0), scaling matrices, picture order count type 1 with
 * an offset whose Exp-Golomb code has 30 leading zeros, hence an emulation prevention byte. */
static void test_sps_handmade_high10_interlaced(void **state)
{
    struct bitwriter w = {0};
    put_bits(&w, 0x67, 8);
    put_bits(&w, 110, 8);  /* profile_idc: High 10 */
    put_bits(&w, 0x10, 8); /* constraint_set3_flag */
    put_bits(&w, 40, 8);   /* level_idc */
    put_ue(&w, 3);         /* seq_parameter_set_id */
    put_ue(&w, 1);         /* chroma_format_idc 4:2:0 */
    put_ue(&w, 2);         /* bit_depth_luma_minus8 */
    put_ue(&w, 2);         /* bit_depth_chroma_minus8 */
    put_bits(&w, 0, 1);    /* qpprime_y_zero_transform_bypass_flag */
    put_bits(&w, 1, 1);    /* seq_scaling_matrix_present_flag */
    for (int i = 0; i < 8; i++) {
        bool present = i == 0 || i == 6;
        put_bits(&w, present, 1);
        if (i == 0) {
            for (int j = 0; j < 16; j++)
                put_se(&w, 1); /* 9, 10, ... 24 */
        } else if (i == 6) {
            put_se(&w, -8); /* nextScale 0 on the first entry: use the default list */
        }
    }
    put_ue(&w, 0);          /* log2_max_frame_num_minus4 */
    put_ue(&w, 1);          /* pic_order_cnt_type */
    put_bits(&w, 0, 1);     /* delta_pic_order_always_zero_flag */
    put_se(&w, -(1 << 29)); /* offset_for_non_ref_pic */
    put_se(&w, 5);          /* offset_for_top_to_bottom_field */
    put_ue(&w, 2);          /* num_ref_frames_in_pic_order_cnt_cycle */
    put_se(&w, 1);
    put_se(&w, -1);
    put_ue(&w, 4);      /* max_num_ref_frames */
    put_bits(&w, 0, 1); /* gaps_in_frame_num_value_allowed_flag */
    put_ue(&w, 119);    /* pic_width_in_mbs_minus1: 1920 */
    put_ue(&w, 33);     /* pic_height_in_map_units_minus1: 34 field MB rows = 1088 */
    put_bits(&w, 0, 1); /* frame_mbs_only_flag */
    put_bits(&w, 1, 1); /* mb_adaptive_frame_field_flag */
    put_bits(&w, 1, 1); /* direct_8x8_inference_flag */
    put_bits(&w, 1, 1); /* frame_cropping_flag */
    put_ue(&w, 0);
    put_ue(&w, 0);
    put_ue(&w, 0);
    put_ue(&w, 2);      /* bottom: CropUnitY = SubHeightC * 2 = 4, so 8 lines */
    put_bits(&w, 0, 1); /* vui_parameters_present_flag */
    uint8_t nal[300];
    size_t size = finish_nal(&w, nal, sizeof(nal));
    assert_true(has_emulation_prevention(nal, size));
    assert_true(size > (w.bits + 7) / 8);

    struct h264_sps_info info;
    assert_int_equal(h264_sps_parse(nal, size, &info), 0);
    assert_int_equal(info.profile_idc, 110);
    assert_int_equal(info.constraint_flags, 0x10);
    assert_int_equal(info.level_idc, 40);
    assert_int_equal(info.sps_id, 3);
    assert_int_equal(info.chroma_format_idc, 1);
    assert_int_equal(info.bit_depth_luma, 10);
    assert_int_equal(info.bit_depth_chroma, 10);
    assert_false(info.frame_mbs_only);
    assert_int_equal(info.width, 1920);
    assert_int_equal(info.height, 1080);

    /* Cut before the cropping fields: a truncated SPS is refused, never misread. */
    assert_int_equal(h264_sps_parse(nal, size - 4, &info), -EINVAL);
}

/* Baseline with picture order count type 2 and cropping on all four sides: for 4:2:0,
 * "CropUnitX = SubWidthC" (2) and "CropUnitY = SubHeightC * (2 - frame_mbs_only_flag)" (2). */
static void test_sps_handmade_baseline_cropped(void **state)
{
    struct bitwriter w = {0};
    put_bits(&w, 0x67, 8);
    put_bits(&w, 66, 8);
    put_bits(&w, 0xc0, 8);
    put_bits(&w, 21, 8);
    put_ue(&w, 0); /* seq_parameter_set_id */
    put_ue(&w, 2); /* log2_max_frame_num_minus4 */
    put_ue(&w, 2); /* pic_order_cnt_type */
    put_ue(&w, 1); /* max_num_ref_frames */
    put_bits(&w, 0, 1);
    put_ue(&w, 9);      /* 10 MBs: 160 */
    put_ue(&w, 7);      /* 8 MBs: 128 */
    put_bits(&w, 1, 1); /* frame_mbs_only_flag */
    put_bits(&w, 1, 1);
    put_bits(&w, 1, 1);
    put_ue(&w, 1); /* left */
    put_ue(&w, 3); /* right */
    put_ue(&w, 2); /* top */
    put_ue(&w, 5); /* bottom */
    put_bits(&w, 0, 1);
    uint8_t nal[64];
    size_t size = finish_nal(&w, nal, sizeof(nal));
    struct h264_sps_info info;
    assert_int_equal(h264_sps_parse(nal, size, &info), 0);
    assert_int_equal(info.profile_idc, 66);
    assert_int_equal(info.constraint_flags, 0xc0);
    assert_int_equal(info.level_idc, 21);
    assert_int_equal(info.chroma_format_idc, 1);
    assert_int_equal(info.bit_depth_luma, 8);
    assert_int_equal(info.width, 160 - 2 * (1 + 3));
    assert_int_equal(info.height, 128 - 2 * (2 + 5));
}

/* 4:4:4 with separate_colour_plane_flag: "ChromaArrayType = 0", so crop units are 1 sample. */
static void test_sps_handmade_444_separate_planes(void **state)
{
    struct bitwriter w = {0};
    put_bits(&w, 0x67, 8);
    put_bits(&w, 244, 8);
    put_bits(&w, 0, 8);
    put_bits(&w, 51, 8);
    put_ue(&w, 0);
    put_ue(&w, 3);      /* chroma_format_idc 4:4:4 */
    put_bits(&w, 1, 1); /* separate_colour_plane_flag */
    put_ue(&w, 0);
    put_ue(&w, 0);
    put_bits(&w, 0, 1);
    put_bits(&w, 1, 1); /* seq_scaling_matrix_present_flag: 12 lists for 4:4:4 */
    for (int i = 0; i < 12; i++)
        put_bits(&w, i == 11, 1);
    for (int j = 0; j < 64; j++)
        put_se(&w, 0); /* list 11 (8x8): flat 8 */
    put_ue(&w, 0);
    put_ue(&w, 0); /* pic_order_cnt_type 0 */
    put_ue(&w, 0); /* log2_max_pic_order_cnt_lsb_minus4 */
    put_ue(&w, 1);
    put_bits(&w, 0, 1);
    put_ue(&w, 3); /* 64 */
    put_ue(&w, 3); /* 64 */
    put_bits(&w, 1, 1);
    put_bits(&w, 1, 1);
    put_bits(&w, 1, 1);
    put_ue(&w, 0);
    put_ue(&w, 3);
    put_ue(&w, 1);
    put_ue(&w, 0);
    put_bits(&w, 0, 1);
    uint8_t nal[128];
    size_t size = finish_nal(&w, nal, sizeof(nal));
    struct h264_sps_info info;
    assert_int_equal(h264_sps_parse(nal, size, &info), 0);
    assert_int_equal(info.chroma_format_idc, 3);
    assert_int_equal(info.width, 61);
    assert_int_equal(info.height, 63);
}

static void test_sps_rejects(void **state)
{
    struct h264_sps_info info;
    static const uint8_t pps[] = {0x68, 0xce, 0x38, 0x80};
    assert_int_equal(h264_sps_parse(pps, sizeof(pps), &info), -EINVAL);
    static const uint8_t short_sps[] = {0x67, 0x64, 0x00};
    assert_int_equal(h264_sps_parse(short_sps, sizeof(short_sps), &info), -EINVAL);
    /* All zeros after the level: an Exp-Golomb code that never ends. */
    static const uint8_t zeros[] = {0x67, 0x42, 0x00, 0x1e, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
    assert_int_equal(h264_sps_parse(zeros, sizeof(zeros), &info), -EINVAL);
    assert_int_equal(h264_sps_parse(NULL, 0, &info), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_iter_start_codes),
        cmocka_unit_test(test_iter_degenerate),
        cmocka_unit_test(test_sps_from_x264),
        cmocka_unit_test(test_sps_handmade_high10_interlaced),
        cmocka_unit_test(test_sps_handmade_baseline_cropped),
        cmocka_unit_test(test_sps_handmade_444_separate_planes),
        cmocka_unit_test(test_sps_rejects),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
