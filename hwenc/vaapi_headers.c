/*
 * vaapi_headers — packed SPS and PPS for drivers that take them (VA_ENC_PACKED_HEADER_SEQUENCE /
 * PICTURE): written from the same sequence and picture parameters the driver gets, with the VUI
 * the driver might leave out (BT.601 limited range, timing, no reordering) so that players
 * start without waiting. Annex B with emulation prevention.
 */
#include "hwenc/vaapi_internal.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#define VAAPI_HDR_MAX 256

struct vaapi_bw {
    uint8_t buf[VAAPI_HDR_MAX];
    size_t bits;
    bool overflow;
};

static void bw_u(struct vaapi_bw *w, int n, uint32_t v)
{
    for (int i = n - 1; i >= 0; i--) {
        if (w->bits >= sizeof(w->buf) * 8) {
            w->overflow = true;
            return;
        }
        if ((v >> i) & 1)
            w->buf[w->bits / 8] |= (uint8_t)(0x80 >> (w->bits % 8));
        w->bits++;
    }
}

static void bw_ue(struct vaapi_bw *w, uint32_t v)
{
    uint64_t x = (uint64_t)v + 1;
    int len = 0;
    while ((x >> len) > 1)
        len++;
    bw_u(w, len, 0);
    bw_u(w, len + 1, (uint32_t)x);
}

static void bw_se(struct vaapi_bw *w, int32_t v)
{
    bw_ue(w, v > 0 ? (uint32_t)(2 * v - 1) : (uint32_t)(-2 * (int64_t)v));
}

/* rbsp_trailing_bits, start code, NAL header, emulation prevention. */
static int bw_finish(struct vaapi_bw *w, uint8_t nal_header, uint8_t *out, size_t cap)
{
    bw_u(w, 1, 1);
    while (w->bits % 8)
        bw_u(w, 1, 0);
    if (w->overflow)
        return -ENOSPC;
    size_t n = w->bits / 8, o = 0, zeros = 0;
    if (cap < 5)
        return -ENOSPC;
    memcpy(out, "\0\0\0\1", 4);
    out[4] = nal_header;
    o = 5;
    for (size_t i = 0; i < n; i++) {
        if (zeros >= 2 && w->buf[i] <= 3) {
            if (o >= cap)
                return -ENOSPC;
            out[o++] = 3;
            zeros = 0;
        }
        if (o >= cap)
            return -ENOSPC;
        out[o++] = w->buf[i];
        zeros = w->buf[i] == 0 ? zeros + 1 : 0;
    }
    return (int)o;
}

/* BT.601 (SMPTE 170M) limited range, as the sources draw; no reordering, one frame buffered. */
static void vaapi_write_vui(struct vaapi_bw *w, const VAEncSequenceParameterBufferH264 *s)
{
    bw_u(w, 1, 0); /* aspect_ratio_info_present_flag */
    bw_u(w, 1, 0); /* overscan_info_present_flag */
    bw_u(w, 1, 1); /* video_signal_type_present_flag */
    bw_u(w, 3, 5); /* video_format: unspecified */
    bw_u(w, 1, 0); /* video_full_range_flag */
    bw_u(w, 1, 1); /* colour_description_present_flag */
    bw_u(w, 8, 6);
    bw_u(w, 8, 6);
    bw_u(w, 8, 6);
    bw_u(w, 1, 0); /* chroma_loc_info_present_flag */
    bw_u(w, 1, s->vui_fields.bits.timing_info_present_flag);
    if (s->vui_fields.bits.timing_info_present_flag) {
        bw_u(w, 32, s->num_units_in_tick);
        bw_u(w, 32, s->time_scale);
        bw_u(w, 1, s->vui_fields.bits.fixed_frame_rate_flag);
    }
    bw_u(w, 1, 0); /* nal_hrd_parameters_present_flag */
    bw_u(w, 1, 0); /* vcl_hrd_parameters_present_flag */
    bw_u(w, 1, 0); /* pic_struct_present_flag */
    bw_u(w, 1, 1); /* bitstream_restriction_flag */
    bw_u(w, 1, s->vui_fields.bits.motion_vectors_over_pic_boundaries_flag);
    bw_ue(w, 0); /* max_bytes_per_pic_denom */
    bw_ue(w, 0); /* max_bits_per_mb_denom */
    bw_ue(w, s->vui_fields.bits.log2_max_mv_length_horizontal);
    bw_ue(w, s->vui_fields.bits.log2_max_mv_length_vertical);
    bw_ue(w, 0);                     /* max_num_reorder_frames */
    bw_ue(w, s->max_num_ref_frames); /* max_dec_frame_buffering */
}

int vaapi_write_sps(const VAEncSequenceParameterBufferH264 *s, VAProfile profile, uint8_t *out,
                    size_t cap)
{
    struct vaapi_bw w;
    memset(&w, 0, sizeof(w));
    int idc = vaapi_profile_idc(profile);
    bw_u(&w, 8, (uint32_t)idc);
    /* constraint_set0/1 for Constrained Baseline, set1 for Main (a Main stream is also
     * decodable as what set1 says). */
    bw_u(&w, 1, idc == 66);
    bw_u(&w, 1, idc == 66 || idc == 77);
    bw_u(&w, 6, 0);
    bw_u(&w, 8, s->level_idc);
    bw_ue(&w, s->seq_parameter_set_id);
    if (idc == 100) {
        bw_ue(&w, s->seq_fields.bits.chroma_format_idc);
        bw_ue(&w, s->bit_depth_luma_minus8);
        bw_ue(&w, s->bit_depth_chroma_minus8);
        bw_u(&w, 1, 0); /* qpprime_y_zero_transform_bypass_flag */
        bw_u(&w, 1, 0); /* seq_scaling_matrix_present_flag */
    }
    bw_ue(&w, s->seq_fields.bits.log2_max_frame_num_minus4);
    bw_ue(&w, s->seq_fields.bits.pic_order_cnt_type);
    if (s->seq_fields.bits.pic_order_cnt_type == 0)
        bw_ue(&w, s->seq_fields.bits.log2_max_pic_order_cnt_lsb_minus4);
    bw_ue(&w, s->max_num_ref_frames);
    bw_u(&w, 1, 0); /* gaps_in_frame_num_value_allowed_flag */
    bw_ue(&w, s->picture_width_in_mbs - 1u);
    bw_ue(&w, s->picture_height_in_mbs - 1u);
    bw_u(&w, 1, 1); /* frame_mbs_only_flag */
    bw_u(&w, 1, s->seq_fields.bits.direct_8x8_inference_flag);
    bw_u(&w, 1, s->frame_cropping_flag);
    if (s->frame_cropping_flag) {
        bw_ue(&w, s->frame_crop_left_offset);
        bw_ue(&w, s->frame_crop_right_offset);
        bw_ue(&w, s->frame_crop_top_offset);
        bw_ue(&w, s->frame_crop_bottom_offset);
    }
    bw_u(&w, 1, s->vui_parameters_present_flag);
    if (s->vui_parameters_present_flag)
        vaapi_write_vui(&w, s);
    return bw_finish(&w, 0x67, out, cap); /* nal_ref_idc 3, type 7 */
}

int vaapi_write_pps(const VAEncPictureParameterBufferH264 *p, uint8_t *out, size_t cap)
{
    struct vaapi_bw w;
    memset(&w, 0, sizeof(w));
    bw_ue(&w, p->pic_parameter_set_id);
    bw_ue(&w, p->seq_parameter_set_id);
    bw_u(&w, 1, p->pic_fields.bits.entropy_coding_mode_flag);
    bw_u(&w, 1, 0); /* bottom_field_pic_order_in_frame_present_flag */
    bw_ue(&w, 0);   /* num_slice_groups_minus1 */
    bw_ue(&w, p->num_ref_idx_l0_active_minus1);
    bw_ue(&w, p->num_ref_idx_l1_active_minus1);
    bw_u(&w, 1, p->pic_fields.bits.weighted_pred_flag);
    bw_u(&w, 2, p->pic_fields.bits.weighted_bipred_idc);
    bw_se(&w, (int32_t)p->pic_init_qp - 26);
    bw_se(&w, 0); /* pic_init_qs_minus26 */
    bw_se(&w, p->chroma_qp_index_offset);
    bw_u(&w, 1, p->pic_fields.bits.deblocking_filter_control_present_flag);
    bw_u(&w, 1, p->pic_fields.bits.constrained_intra_pred_flag);
    bw_u(&w, 1, p->pic_fields.bits.redundant_pic_cnt_present_flag);
    if (p->pic_fields.bits.transform_8x8_mode_flag) {
        bw_u(&w, 1, 1);
        bw_u(&w, 1, 0); /* pic_scaling_matrix_present_flag */
        bw_se(&w, p->second_chroma_qp_index_offset);
    }
    return bw_finish(&w, 0x68, out, cap); /* nal_ref_idc 3, type 8 */
}
