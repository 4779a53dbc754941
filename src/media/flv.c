/*
 * flv — builds the FLV tag bodies the muxer fans out to every output; see flv.h.
 * References: Adobe "Video File Format Specification" v10.1 (Annex E: FLV header, tag header,
 * AUDIODATA/AACAUDIODATA, VIDEODATA/AVCVIDEOPACKET, SCRIPTDATA) and ISO/IEC 14496-15 5.2.4.1
 * (AVCDecoderConfigurationRecord). One allocation per tag: bodies are measured, then written
 * straight into the tag.
 */
#include "media/flv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "media/amf.h"
#include "media/h264_nal.h"

#define FLV_CODEC_AVC 7
#define FLV_FRAME_KEY 1
#define FLV_FRAME_INTER 2
#define AVC_SEQUENCE_HEADER 0
#define AVC_NALU 1
#define AAC_SEQUENCE_HEADER 0
#define AAC_RAW 1
/* SoundFormat 10 (AAC), SoundRate 3 (44 kHz), SoundSize 1 (16-bit), SoundType 1 (stereo): the
 * spec asks for rate 3 and stereo with AAC whatever the stream is; the ASC carries the truth. */
#define FLV_AAC_SOUND_BYTE 0xaf
#define AVC_HEADER_SIZE 5 /* frame type + codec, AVCPacketType, CompositionTime SI24 */
#define SI24_MAX 0x7fffff
#define SI24_MIN (-0x800000)

struct flv_tag *flv_tag_new(enum flv_tag_type type, size_t size)
{
    if (size > SIZE_MAX - sizeof(struct flv_tag)) {
        errno = ENOMEM;
        return NULL;
    }
    struct flv_tag *tag = malloc(sizeof(*tag) + size);
    if (!tag)
        return NULL;
    atomic_init(&tag->refs, 1);
    tag->type = type;
    tag->keyframe = false;
    tag->header = false;
    tag->dts_ms = 0;
    tag->capture_ns = 0;
    tag->size = size;
    return tag;
}

struct flv_tag *flv_tag_ref(struct flv_tag *tag)
{
    atomic_fetch_add_explicit(&tag->refs, 1, memory_order_relaxed);
    return tag;
}

void flv_tag_unref(struct flv_tag *tag)
{
    /* acq_rel: every other holder's reads of the body happen before the free. */
    if (tag && atomic_fetch_sub_explicit(&tag->refs, 1, memory_order_acq_rel) == 1)
        free(tag);
}

static void put_be16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put_be24(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 16);
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)v;
}

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

void flv_write_file_header(uint8_t out[FLV_FILE_HEADER_SIZE])
{
    out[0] = 'F';
    out[1] = 'L';
    out[2] = 'V';
    out[3] = 1;           /* version */
    out[4] = 0x04 | 0x01; /* TypeFlagsAudio | TypeFlagsVideo */
    put_be32(out + 5, 9); /* DataOffset: the header's own size */
    put_be32(out + 9, 0); /* PreviousTagSize0 */
}

void flv_write_tag_header(uint8_t out[FLV_TAG_HEADER_SIZE], enum flv_tag_type type,
                          size_t body_size, int64_t ts_ms)
{
    /* Timestamps are UI32 ms split as 24 low bits + 1 extension byte holding bits 24..31; they
     * wrap after 2^32 ms (49.7 days) as every FLV reader expects. Negative is clamped to 0. */
    uint32_t ts = ts_ms < 0 ? 0 : (uint32_t)ts_ms;
    out[0] = (uint8_t)type; /* Filter 0, reserved 0 */
    put_be24(out + 1, body_size > 0xffffff ? 0xffffff : (uint32_t)body_size);
    put_be24(out + 4, ts & 0xffffff);
    out[7] = (uint8_t)(ts >> 24);
    put_be24(out + 8, 0); /* StreamID, always 0 */
}

/* The eleven properties flv.h lists, in that order. */
static void write_metadata(struct amf_buf *b, const struct flv_stream_info *info,
                           bool set_data_frame)
{
    if (set_data_frame)
        amf_write_string(b, "@setDataFrame");
    amf_write_string(b, "onMetaData");
    amf_write_ecma_array_start(b, 11);
    amf_write_prop_number(b, "width", info->width);
    amf_write_prop_number(b, "height", info->height);
    amf_write_prop_number(b, "framerate", info->framerate);
    amf_write_prop_number(b, "videocodecid", FLV_CODEC_AVC);
    amf_write_prop_number(b, "videodatarate", info->video_kbps);
    amf_write_prop_number(b, "audiocodecid", 10);
    amf_write_prop_number(b, "audiodatarate", info->audio_kbps);
    amf_write_prop_number(b, "audiosamplerate", info->audio_sample_rate);
    amf_write_prop_number(b, "audiosamplesize", 16);
    amf_write_prop_boolean(b, "stereo", info->audio_channels == 2);
    amf_write_prop_string(b, "encoder",
                          info->encoder ? info->encoder : "agentcast " AGENTCAST_VERSION);
    amf_write_object_end(b);
}

struct flv_tag *flv_metadata_tag(const struct flv_stream_info *info, bool set_data_frame)
{
    if (!info) {
        errno = EINVAL;
        return NULL;
    }
    struct amf_buf b;
    amf_buf_init_fixed(&b, NULL, 0); /* measure */
    write_metadata(&b, info, set_data_frame);
    if (b.err != -ENOSPC && b.err != 0) {
        errno = -b.err;
        return NULL;
    }
    struct flv_tag *tag = flv_tag_new(FLV_TAG_SCRIPT, b.len);
    if (!tag)
        return NULL;
    amf_buf_init_fixed(&b, tag->body, tag->size);
    write_metadata(&b, info, set_data_frame);
    if (b.err || b.len != tag->size) {
        flv_tag_unref(tag);
        errno = EINVAL;
        return NULL;
    }
    tag->header = true;
    return tag;
}

/* High-profile SPS get the chroma / bit depth trailer in the record (14496-15 5.2.4.1.1). */
static bool avcc_has_ext(int profile_idc)
{
    return profile_idc == 100 || profile_idc == 110 || profile_idc == 122 || profile_idc == 244;
}

/* Every PPS of the headers, in order (an encoder may use several: x264's own and the skip
 * pictures' one, see hwenc/h264_skip.h). At most 255 fit the record's count byte. */
static int collect_pps(const uint8_t *annexb, size_t size, struct h264_nal *pps, int max,
                       size_t *bytes)
{
    int n = 0;
    *bytes = 0;
    struct h264_nal nal;
    struct h264_nal_iter it;
    h264_nal_iter_init(&it, annexb, size);
    while (h264_nal_next(&it, &nal)) {
        if (nal.type != H264_NAL_PPS)
            continue;
        if (n == max || nal.size > UINT16_MAX)
            return -1;
        pps[n++] = nal;
        *bytes += 2 + nal.size;
    }
    return n;
}

struct flv_tag *flv_avc_sequence_header(const uint8_t *annexb, size_t size)
{
    struct h264_nal sps, pps[8];
    size_t pps_bytes;
    int n_pps = collect_pps(annexb, size, pps, 8, &pps_bytes);
    if (!h264_find_nal(annexb, size, H264_NAL_SPS, &sps) || sps.size < 4 || sps.size > UINT16_MAX ||
        n_pps < 1) {
        errno = EINVAL;
        return NULL;
    }
    struct h264_sps_info info;
    bool ext = avcc_has_ext(sps.data[1]) && h264_sps_parse(sps.data, sps.size, &info) == 0;

    size_t record = 6 + 2 + sps.size + 1 + pps_bytes + (ext ? 4 : 0);
    struct flv_tag *tag = flv_tag_new(FLV_TAG_VIDEO, AVC_HEADER_SIZE + record);
    if (!tag)
        return NULL;
    uint8_t *p = tag->body;
    *p++ = FLV_FRAME_KEY << 4 | FLV_CODEC_AVC;
    *p++ = AVC_SEQUENCE_HEADER;
    put_be24(p, 0); /* CompositionTime */
    p += 3;

    *p++ = 1;           /* configurationVersion */
    *p++ = sps.data[1]; /* AVCProfileIndication = profile_idc */
    *p++ = sps.data[2]; /* profile_compatibility = the constraint_set flags byte */
    *p++ = sps.data[3]; /* AVCLevelIndication = level_idc */
    *p++ = 0xfc | 3;    /* reserved '111111', lengthSizeMinusOne = 3: 4-byte NALU lengths */
    *p++ = 0xe0 | 1;    /* reserved '111', numOfSequenceParameterSets = 1 */
    put_be16(p, (uint32_t)sps.size);
    memcpy(p + 2, sps.data, sps.size);
    p += 2 + sps.size;
    *p++ = (uint8_t)n_pps; /* numOfPictureParameterSets */
    for (int i = 0; i < n_pps; i++) {
        put_be16(p, (uint32_t)pps[i].size);
        memcpy(p + 2, pps[i].data, pps[i].size);
        p += 2 + pps[i].size;
    }
    if (ext) {
        *p++ = 0xfc | (uint8_t)(info.chroma_format_idc & 3);
        *p++ = 0xf8 | (uint8_t)((info.bit_depth_luma - 8) & 7);
        *p++ = 0xf8 | (uint8_t)((info.bit_depth_chroma - 8) & 7);
        *p++ = 0; /* numOfSequenceParameterSetExt */
    }
    tag->header = true; /* keyframe stays false: it is not an IDR access unit */
    return tag;
}

/* Parameter sets travel in the sequence header, and FLV has no use for delimiters. */
static bool keep_nal(int type)
{
    return type != H264_NAL_SPS && type != H264_NAL_PPS && type != H264_NAL_AUD;
}

/* round(ticks * tick_num / tick_den seconds) in ms, halves up, with floor division so the
 * mapping stays monotonic for negative ticks too (x264 starts dts below 0 with B-frames).
 * Rounding a non-decreasing function keeps it non-decreasing: dts order survives. */
static int64_t ticks_to_ms(int64_t ticks, int tick_num, int tick_den)
{
    int64_t num = 2 * ticks * tick_num * 1000 + tick_den;
    int64_t den = 2 * (int64_t)tick_den;
    int64_t q = num / den;
    if (num % den != 0 && num < 0)
        q--;
    return q;
}

struct flv_tag *flv_avc_frame(const struct h264_packet *pkt, int tick_num, int tick_den)
{
    if (!pkt || tick_num <= 0 || tick_den <= 0) {
        errno = EINVAL;
        return NULL;
    }
    struct h264_nal_iter it;
    struct h264_nal nal;
    size_t body = AVC_HEADER_SIZE;
    h264_nal_iter_init(&it, pkt->data, pkt->size);
    while (h264_nal_next(&it, &nal)) {
        if (keep_nal(nal.type) && nal.size <= UINT32_MAX)
            body += 4 + nal.size;
    }
    if (body == AVC_HEADER_SIZE) {
        errno = ENODATA;
        return NULL;
    }
    struct flv_tag *tag = flv_tag_new(FLV_TAG_VIDEO, body);
    if (!tag)
        return NULL;

    int64_t dts_ms = ticks_to_ms(pkt->dts, tick_num, tick_den);
    int64_t cts = ticks_to_ms(pkt->pts, tick_num, tick_den) - dts_ms;
    cts = cts > SI24_MAX ? SI24_MAX : cts < SI24_MIN ? SI24_MIN : cts;

    uint8_t *p = tag->body;
    *p++ = (pkt->keyframe ? FLV_FRAME_KEY : FLV_FRAME_INTER) << 4 | FLV_CODEC_AVC;
    *p++ = AVC_NALU;
    put_be24(p, (uint32_t)cts & 0xffffff); /* two's complement SI24 */
    p += 3;
    h264_nal_iter_init(&it, pkt->data, pkt->size);
    while (h264_nal_next(&it, &nal)) {
        if (!keep_nal(nal.type) || nal.size > UINT32_MAX)
            continue;
        put_be32(p, (uint32_t)nal.size);
        memcpy(p + 4, nal.data, nal.size);
        p += 4 + nal.size;
    }
    tag->keyframe = pkt->keyframe;
    tag->dts_ms = dts_ms;
    tag->capture_ns = pkt->capture_ns;
    return tag;
}

static struct flv_tag *aac_tag(int packet_type, const uint8_t *data, size_t size)
{
    if (!data || size == 0) {
        errno = EINVAL;
        return NULL;
    }
    struct flv_tag *tag = flv_tag_new(FLV_TAG_AUDIO, 2 + size);
    if (!tag)
        return NULL;
    tag->body[0] = FLV_AAC_SOUND_BYTE;
    tag->body[1] = (uint8_t)packet_type;
    memcpy(tag->body + 2, data, size);
    return tag;
}

struct flv_tag *flv_aac_sequence_header(const uint8_t *asc, size_t asc_size)
{
    struct flv_tag *tag = aac_tag(AAC_SEQUENCE_HEADER, asc, asc_size);
    if (tag)
        tag->header = true;
    return tag;
}

struct flv_tag *flv_aac_frame(const uint8_t *aac, size_t size, int64_t dts_ms)
{
    struct flv_tag *tag = aac_tag(AAC_RAW, aac, size);
    if (tag)
        tag->dts_ms = dts_ms;
    return tag;
}
