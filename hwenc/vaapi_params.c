/*
 * vaapi_params — the VA-API backend's knobs -> VA structures mapping: rate control (the same
 * knobs as x264: CBR/VBR, bitrate, maxrate, bufsize), frame rate, IDR period, level, sequence
 * parameters and the profile fallback. Pure functions, unit-tested in test_vaapi_params.c.
 */
#include "hwenc/vaapi_internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define VAAPI_MAX_SIZE 8192

int vaapi_params_check(const struct hwenc_params *p, char *why, size_t why_size)
{
    const char *bad = NULL;
    if (p->width < 16 || p->height < 16 || p->width > VAAPI_MAX_SIZE ||
        p->height > VAAPI_MAX_SIZE || p->width % 2 || p->height % 2)
        bad = "width and height must be even and within 16..8192";
    else if (p->fps_num <= 0 || p->fps_den <= 0 || p->fps_num > 65535 || p->fps_den > 65535)
        bad = "frame rate numerator and denominator must be within 1..65535";
    else if (p->bitrate_kbps <= 0 || p->maxrate_kbps < 0 || p->bufsize_kbit < 0 ||
             p->bitrate_kbps > 1000000 || p->maxrate_kbps > 1000000)
        bad = "bitrate must be within 1..1000000 kbit/s, maxrate and bufsize not negative";
    else if (p->keyint_frames <= 0)
        bad = "keyint must be at least one frame";
    else if (p->rc_mode != HWENC_RC_CBR && p->rc_mode != HWENC_RC_VBR)
        bad = "unknown rate control mode";
    if (!bad)
        return 0;
    snprintf(why, why_size, "invalid parameters: %s", bad);
    return -EINVAL;
}

void vaapi_params_rc(const struct hwenc_params *p, struct vaapi_rc *out)
{
    memset(out, 0, sizeof(*out));
    uint64_t bitrate = (uint64_t)p->bitrate_kbps * 1000;
    uint64_t maxrate = bitrate;
    if (p->rc_mode == HWENC_RC_VBR && (uint64_t)p->maxrate_kbps * 1000 > bitrate)
        maxrate = (uint64_t)p->maxrate_kbps * 1000;
    uint64_t buffer = p->bufsize_kbit > 0 ? (uint64_t)p->bufsize_kbit * 1000 : 2 * maxrate;
    out->va_rc_mode = p->rc_mode == HWENC_RC_CBR ? VA_RC_CBR : VA_RC_VBR;
    out->rc.bits_per_second = (uint32_t)maxrate;
    out->rc.target_percentage = (uint32_t)(bitrate * 100 / maxrate);
    if (out->rc.target_percentage == 0)
        out->rc.target_percentage = 1;
    /* The window over which the rate holds: as long as the buffer takes to drain. */
    uint64_t window = buffer * 1000 / maxrate;
    out->rc.window_size = (uint32_t)(window < 100 ? 100 : window > 60000 ? 60000 : window);
    /* A live stream keeps its frame rate: never let the driver drop pictures. */
    out->rc.rc_flags.bits.disable_frame_skip = 1;
    out->hrd.buffer_size = (uint32_t)buffer;
    out->hrd.initial_buffer_fullness = (uint32_t)(buffer * 3 / 4);
    out->fr.framerate = (uint32_t)p->fps_num | ((uint32_t)p->fps_den << 16);
}

struct vaapi_level {
    int idc;
    uint32_t max_fs;   /* macroblocks per frame */
    uint32_t max_mbps; /* macroblocks per second */
    uint32_t max_kbps; /* Baseline/Main max bitrate (High allows 1.25x) */
};

static const struct vaapi_level vaapi_levels[] = {
    {30, 1620, 40500, 10000},      {31, 3600, 108000, 14000},     {32, 5120, 216000, 20000},
    {40, 8192, 245760, 20000},     {41, 8192, 245760, 50000},     {42, 8704, 522240, 50000},
    {50, 22080, 589824, 135000},   {51, 36864, 983040, 240000},   {52, 36864, 2073600, 240000},
    {60, 139264, 4177920, 240000}, {61, 139264, 8355840, 480000}, {62, 139264, 16711680, 800000},
};

int vaapi_level_idc(const struct hwenc_params *p)
{
    uint64_t fs = (uint64_t)((p->width + 15) / 16) * (uint64_t)((p->height + 15) / 16);
    uint64_t mbps = fs * (uint64_t)p->fps_num / (uint64_t)p->fps_den;
    int rate = p->maxrate_kbps > p->bitrate_kbps ? p->maxrate_kbps : p->bitrate_kbps;
    size_t n = sizeof(vaapi_levels) / sizeof(vaapi_levels[0]);
    for (size_t i = 0; i < n; i++)
        if (fs <= vaapi_levels[i].max_fs && mbps <= vaapi_levels[i].max_mbps &&
            (uint64_t)rate <= vaapi_levels[i].max_kbps)
            return vaapi_levels[i].idc;
    return vaapi_levels[n - 1].idc;
}

void vaapi_params_seq(const struct hwenc_params *p, VAProfile profile,
                      VAEncSequenceParameterBufferH264 *seq)
{
    (void)profile;
    memset(seq, 0, sizeof(*seq));
    struct vaapi_rc rc;
    vaapi_params_rc(p, &rc);
    unsigned wm = (unsigned)(p->width + 15) / 16, hm = (unsigned)(p->height + 15) / 16;
    seq->seq_parameter_set_id = 0;
    seq->level_idc = (uint8_t)vaapi_level_idc(p);
    seq->intra_period = (uint32_t)p->keyint_frames;
    seq->intra_idr_period = (uint32_t)p->keyint_frames;
    seq->ip_period = 1; /* no B-frames: low latency */
    seq->bits_per_second = rc.rc.bits_per_second;
    seq->max_num_ref_frames = 1;
    seq->picture_width_in_mbs = (uint16_t)wm;
    seq->picture_height_in_mbs = (uint16_t)hm;
    seq->seq_fields.bits.chroma_format_idc = 1;
    seq->seq_fields.bits.frame_mbs_only_flag = 1;
    seq->seq_fields.bits.direct_8x8_inference_flag = 1;
    seq->seq_fields.bits.log2_max_frame_num_minus4 = 4; /* frame_num counts to 255 */
    /* Output order = decoding order without B-frames: POC type 2 needs nothing in the slices. */
    seq->seq_fields.bits.pic_order_cnt_type = 2;
    unsigned crop_r = (wm * 16 - (unsigned)p->width) / 2;
    unsigned crop_b = (hm * 16 - (unsigned)p->height) / 2;
    if (crop_r || crop_b) {
        seq->frame_cropping_flag = 1;
        seq->frame_crop_right_offset = crop_r;
        seq->frame_crop_bottom_offset = crop_b;
    }
    seq->vui_parameters_present_flag = 1;
    seq->vui_fields.bits.timing_info_present_flag = 1;
    seq->vui_fields.bits.fixed_frame_rate_flag = 1;
    seq->vui_fields.bits.bitstream_restriction_flag = 1;
    seq->vui_fields.bits.motion_vectors_over_pic_boundaries_flag = 1;
    seq->vui_fields.bits.log2_max_mv_length_horizontal = 15;
    seq->vui_fields.bits.log2_max_mv_length_vertical = 15;
    /* A frame is two fields' ticks. */
    seq->num_units_in_tick = (uint32_t)p->fps_den;
    seq->time_scale = 2 * (uint32_t)p->fps_num;
}

int vaapi_profile_choose(const char *wanted, const VAProfile *offered, int n, VAProfile *out)
{
    static const VAProfile order[] = {VAProfileH264High, VAProfileH264Main,
                                      VAProfileH264ConstrainedBaseline};
    size_t first = 0;
    if (wanted && strcmp(wanted, "main") == 0)
        first = 1;
    else if (wanted && strcmp(wanted, "baseline") == 0)
        first = 2;
    else if (wanted && strcmp(wanted, "high") != 0)
        return -ENOTSUP;
    for (size_t i = first; i < sizeof(order) / sizeof(order[0]); i++)
        for (int j = 0; j < n; j++)
            if (offered[j] == order[i]) {
                *out = order[i];
                return 0;
            }
    return -ENOTSUP;
}

int vaapi_profile_idc(VAProfile profile)
{
    switch (profile) {
    case VAProfileH264High:
        return 100;
    case VAProfileH264Main:
        return 77;
    default:
        return 66;
    }
}

const char *vaapi_profile_label(VAProfile profile)
{
    switch (profile) {
    case VAProfileH264High:
        return "High";
    case VAProfileH264Main:
        return "Main";
    case VAProfileH264ConstrainedBaseline:
        return "Constrained Baseline";
    default:
        return "other";
    }
}
