/*
 * h264_nal — reading H.264 Annex B byte streams as encoder backends emit them: iterating NAL
 * units, finding the parameter sets, and decoding the few SPS fields the muxer and the tests
 * need (profile, level, chroma format, bit depth, cropped picture size).
 *
 * Sits between the encoders (which hand Annex B access units to the muxer) and flv.c (which
 * rewrites them for FLV). Nothing here allocates; NAL units point into the caller's buffer.
 */
#ifndef AGENTCAST_MEDIA_H264_NAL_H
#define AGENTCAST_MEDIA_H264_NAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum h264_nal_type {
    H264_NAL_SLICE = 1,
    H264_NAL_IDR = 5,
    H264_NAL_SEI = 6,
    H264_NAL_SPS = 7,
    H264_NAL_PPS = 8,
    H264_NAL_AUD = 9,
    H264_NAL_END_SEQUENCE = 10,
    H264_NAL_END_STREAM = 11,
    H264_NAL_FILLER = 12,
};

/* One NAL unit: data points at its header byte inside the caller's buffer; size counts from
 * there to the unit's end, without the start code and without trailing zero bytes. */
struct h264_nal {
    const uint8_t *data;
    size_t size;
    int type; /* nal_unit_type, the low 5 bits of the header byte */
};

/* Walks an Annex B buffer. Both 3-byte (00 00 01) and 4-byte (00 00 00 01) start codes are
 * accepted; bytes before the first start code and empty units are skipped. */
struct h264_nal_iter {
    const uint8_t *p, *end;
};

void h264_nal_iter_init(struct h264_nal_iter *it, const uint8_t *buf, size_t size);
/* The next NAL unit into *nal; false at the end of the buffer. */
bool h264_nal_next(struct h264_nal_iter *it, struct h264_nal *nal);

/* nal_unit_type of a NAL header byte. */
static inline int h264_nal_type(uint8_t header)
{
    return header & 0x1f;
}

/* The first NAL unit of the given type in an Annex B buffer; false when there is none. */
bool h264_find_nal(const uint8_t *buf, size_t size, int type, struct h264_nal *nal);

/* What the SPS says (ITU-T H.264 7.3.2.1.1). */
struct h264_sps_info {
    int profile_idc;
    uint8_t constraint_flags; /* constraint_set0..5 flags and reserved bits: SPS byte 2 */
    int level_idc;            /* 10 x level, e.g. 31 for 3.1 */
    int sps_id;
    int chroma_format_idc; /* 1 = 4:2:0 */
    int bit_depth_luma;    /* 8 */
    int bit_depth_chroma;
    int log2_max_frame_num; /* frame_num is this many bits in slice headers */
    int poc_type;           /* pic_order_cnt_type: 0, 1 or 2 */
    int max_num_ref_frames;
    bool frame_mbs_only;
    int width_mbs, height_map_units; /* coded size in macroblocks (map units for fields) */
    int width, height;               /* displayed size: coded size minus frame cropping */
};

/* Decodes an SPS NAL unit (header byte included, emulation prevention bytes still in). Stops
 * after the cropping fields (VUI is not read). 0, or -EINVAL for a truncated or malformed SPS. */
int h264_sps_parse(const uint8_t *nal, size_t size, struct h264_sps_info *info);

#endif
