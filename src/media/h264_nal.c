/*
 * h264_nal — Annex B iteration and SPS decoding; see h264_nal.h.
 * References are to ITU-T H.264 (08/2021): Annex B for the byte stream, 7.3.2.1 for the SPS,
 * 7.4.1 for emulation prevention, 9.1 for Exp-Golomb codes.
 */
#include "media/h264_nal.h"

#include <errno.h>

/* The first byte of the next 00 00 01 at or after p, or end. Looks at every third byte first:
 * a start code cannot begin at p, p+1 or p+2 when p[2] > 1. */
static const uint8_t *find_start_code(const uint8_t *p, const uint8_t *end)
{
    while (end - p >= 3) {
        if (p[2] > 1)
            p += 3;
        else if (p[2] == 0)
            p += 1;
        else if (p[0] == 0 && p[1] == 0)
            return p;
        else
            p += 3;
    }
    return end;
}

void h264_nal_iter_init(struct h264_nal_iter *it, const uint8_t *buf, size_t size)
{
    if (!buf)
        size = 0;
    it->p = buf ? find_start_code(buf, buf + size) : NULL;
    it->end = buf ? buf + size : NULL;
}

bool h264_nal_next(struct h264_nal_iter *it, struct h264_nal *nal)
{
    while (it->p && it->end - it->p >= 3) {
        const uint8_t *start = it->p + 3;
        const uint8_t *next = find_start_code(start, it->end);
        /* Trailing zeros belong to the next start code (a 4-byte one, or trailing_zero_8bits):
         * a NAL unit never ends in 0x00 (7.4.1). */
        const uint8_t *stop = next;
        while (stop > start && stop[-1] == 0)
            stop--;
        it->p = next;
        if (stop > start) {
            nal->data = start;
            nal->size = (size_t)(stop - start);
            nal->type = h264_nal_type(start[0]);
            return true;
        }
    }
    return false;
}

bool h264_find_nal(const uint8_t *buf, size_t size, int type, struct h264_nal *nal)
{
    struct h264_nal_iter it;
    h264_nal_iter_init(&it, buf, size);
    while (h264_nal_next(&it, nal)) {
        if (nal->type == type)
            return true;
    }
    return false;
}

/* A bit reader over a NAL unit's payload that drops emulation prevention bytes (the 03 of
 * 00 00 03) as it loads bytes, so it reads the RBSP. Reading past the end sets err. */
struct bitreader {
    const uint8_t *p, *end;
    unsigned cur; /* the byte being read */
    int left;     /* bits of cur not yet read */
    int zeros;    /* consecutive 00 bytes just loaded */
    bool err;
};

static bool br_load(struct bitreader *br)
{
    if (br->p >= br->end) {
        br->err = true;
        return false;
    }
    uint8_t b = *br->p++;
    if (br->zeros >= 2 && b == 3) {
        br->zeros = 0;
        if (br->p >= br->end) {
            br->err = true;
            return false;
        }
        b = *br->p++;
    }
    br->zeros = b == 0 ? br->zeros + 1 : 0;
    br->cur = b;
    br->left = 8;
    return true;
}

static unsigned br_bit(struct bitreader *br)
{
    if (br->left == 0 && !br_load(br))
        return 0;
    br->left--;
    return (br->cur >> br->left) & 1;
}

static uint32_t br_bits(struct bitreader *br, int n)
{
    uint32_t v = 0;
    while (n-- > 0)
        v = (v << 1) | br_bit(br);
    return v;
}

/* ue(v), 9.1: leadingZeroBits zeros, a one, then that many bits. Codes longer than 32 bits do
 * not occur in an SPS and are treated as corruption. */
static uint32_t br_ue(struct bitreader *br)
{
    int zeros = 0;
    while (!br_bit(br)) {
        if (br->err || ++zeros > 31) {
            br->err = true;
            return 0;
        }
    }
    return ((1u << zeros) - 1) + br_bits(br, zeros);
}

/* se(v), 9.1.1: code k maps to (-1)^(k+1) * ceil(k / 2). */
static int64_t br_se(struct bitreader *br)
{
    uint32_t k = br_ue(br);
    return (k & 1) ? (int64_t)(k / 2) + 1 : -(int64_t)(k / 2);
}

/* scaling_list(), 7.3.2.1.1.1: only parsed to get past it. */
static void skip_scaling_list(struct bitreader *br, int size)
{
    int last = 8, next = 8;
    for (int j = 0; j < size && !br->err; j++) {
        if (next != 0) {
            int64_t delta = br_se(br);
            if (delta < -128 || delta > 127) {
                br->err = true;
                return;
            }
            next = (int)((last + delta + 256) % 256);
        }
        last = next == 0 ? last : next;
    }
}

static bool profile_has_chroma_info(int profile_idc)
{
    switch (profile_idc) {
    case 100:
    case 110:
    case 122:
    case 244:
    case 44:
    case 83:
    case 86:
    case 118:
    case 128:
    case 138:
    case 139:
    case 134:
    case 135:
        return true;
    default:
        return false;
    }
}

/* The fields between seq_parameter_set_id and pic_width_in_mbs_minus1 that only move the reader
 * on (and the chroma format and bit depths). */
static void parse_sps_middle(struct bitreader *br, struct h264_sps_info *info, bool *separate)
{
    *separate = false;
    info->chroma_format_idc = 1;
    info->bit_depth_luma = info->bit_depth_chroma = 8;
    if (profile_has_chroma_info(info->profile_idc)) {
        info->chroma_format_idc = (int)br_ue(br);
        if (info->chroma_format_idc > 3)
            br->err = true;
        if (info->chroma_format_idc == 3)
            *separate = br_bit(br);
        info->bit_depth_luma = 8 + (int)br_ue(br);
        info->bit_depth_chroma = 8 + (int)br_ue(br);
        if (info->bit_depth_luma > 14 || info->bit_depth_chroma > 14)
            br->err = true;
        br_bit(br);       /* qpprime_y_zero_transform_bypass_flag */
        if (br_bit(br)) { /* seq_scaling_matrix_present_flag */
            int lists = info->chroma_format_idc != 3 ? 8 : 12;
            for (int i = 0; i < lists && !br->err; i++) {
                if (br_bit(br))
                    skip_scaling_list(br, i < 6 ? 16 : 64);
            }
        }
    }
    uint32_t log2_max_frame_num_minus4 = br_ue(br);
    if (log2_max_frame_num_minus4 > 12)
        br->err = true;
    info->log2_max_frame_num = (int)log2_max_frame_num_minus4 + 4;
    uint32_t poc_type = br_ue(br);
    info->poc_type = (int)poc_type;
    if (poc_type == 0) {
        br_ue(br); /* log2_max_pic_order_cnt_lsb_minus4 */
    } else if (poc_type == 1) {
        br_bit(br); /* delta_pic_order_always_zero_flag */
        br_se(br);  /* offset_for_non_ref_pic */
        br_se(br);  /* offset_for_top_to_bottom_field */
        uint32_t cycle = br_ue(br);
        if (cycle > 255)
            br->err = true;
        for (uint32_t i = 0; i < cycle && !br->err; i++)
            br_se(br); /* offset_for_ref_frame[i] */
    } else if (poc_type > 2) {
        br->err = true;
    }
    uint32_t max_num_ref_frames = br_ue(br);
    if (max_num_ref_frames > 16)
        br->err = true;
    info->max_num_ref_frames = (int)max_num_ref_frames;
    br_bit(br); /* gaps_in_frame_num_value_allowed_flag */
}

int h264_sps_parse(const uint8_t *nal, size_t size, struct h264_sps_info *info)
{
    if (!nal || size < 4 || h264_nal_type(nal[0]) != H264_NAL_SPS)
        return -EINVAL;
    *info = (struct h264_sps_info){0};
    struct bitreader br = {.p = nal + 1, .end = nal + size};
    info->profile_idc = (int)br_bits(&br, 8);
    info->constraint_flags = (uint8_t)br_bits(&br, 8);
    info->level_idc = (int)br_bits(&br, 8);
    uint32_t sps_id = br_ue(&br);
    if (sps_id > 31)
        return -EINVAL;
    info->sps_id = (int)sps_id;

    bool separate_colour_plane;
    parse_sps_middle(&br, info, &separate_colour_plane);

    uint32_t width_mbs = br_ue(&br) + 1;
    uint32_t height_map_units = br_ue(&br) + 1;
    info->frame_mbs_only = br_bit(&br);
    if (!info->frame_mbs_only)
        br_bit(&br);        /* mb_adaptive_frame_field_flag */
    br_bit(&br);            /* direct_8x8_inference_flag */
    uint32_t crop[4] = {0}; /* left, right, top, bottom */
    if (br_bit(&br)) {
        for (int i = 0; i < 4; i++)
            crop[i] = br_ue(&br);
    }
    if (br.err || width_mbs > 4096 || height_map_units > 4096)
        return -EINVAL;

    /* 7.4.2.1.1: crop offsets count in chroma sample units, doubled vertically for fields. */
    int field_factor = info->frame_mbs_only ? 1 : 2;
    int chroma_array_type = separate_colour_plane ? 0 : info->chroma_format_idc;
    int64_t unit_x = 1, unit_y = field_factor;
    if (chroma_array_type != 0) {
        unit_x = info->chroma_format_idc == 3 ? 1 : 2;
        unit_y = (info->chroma_format_idc == 1 ? 2 : 1) * field_factor;
    }
    int64_t width = (int64_t)width_mbs * 16 - ((int64_t)crop[0] + crop[1]) * unit_x;
    int64_t height =
        (int64_t)height_map_units * 16 * field_factor - ((int64_t)crop[2] + crop[3]) * unit_y;
    if (width <= 0 || height <= 0)
        return -EINVAL;
    info->width_mbs = (int)width_mbs;
    info->height_map_units = (int)height_map_units;
    info->width = (int)width;
    info->height = (int)height;
    return 0;
}
