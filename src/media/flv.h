/*
 * flv — FLV tags: the unit that travels from the muxer to every output.
 *
 * A tag holds the FLV tag *body* only (what follows the 11-byte tag header). Each output adds
 * its own header and timestamp: the file recorder writes header + body + PreviousTagSize, the
 * RTMP output sends the body as an RTMP message. Tags are immutable once built and shared by
 * all outputs through a reference count.
 */
#ifndef AGENTCAST_MEDIA_FLV_H
#define AGENTCAST_MEDIA_FLV_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "media/packet.h"

enum flv_tag_type { FLV_TAG_AUDIO = 8, FLV_TAG_VIDEO = 9, FLV_TAG_SCRIPT = 18 };

struct flv_tag {
    atomic_int refs;
    enum flv_tag_type type;
    bool keyframe;        /* video: an IDR access unit */
    bool header;          /* onMetaData or an AVC/AAC sequence header */
    int64_t dts_ms;       /* decode timestamp in ms from stream start */
    int64_t capture_ns;   /* capture time of the frame (video), 0 otherwise */
    size_t size;          /* bytes in body */
    uint8_t body[];
};

/* A new tag with an uninitialised body of size bytes and one reference; NULL on ENOMEM. */
struct flv_tag *flv_tag_new(enum flv_tag_type type, size_t size);
/* Adds a reference; returns tag. */
struct flv_tag *flv_tag_ref(struct flv_tag *tag);
/* Drops a reference, freeing on the last; accepts NULL. */
void flv_tag_unref(struct flv_tag *tag);

/* The 9-byte FLV file header (audio + video flags) followed by PreviousTagSize0 = 0. */
#define FLV_FILE_HEADER_SIZE 13
void flv_write_file_header(uint8_t out[FLV_FILE_HEADER_SIZE]);
/* The 11-byte tag header for a body of body_size bytes at timestamp ts_ms (extended byte used
 * for ts_ms >= 2^24). */
#define FLV_TAG_HEADER_SIZE 11
void flv_write_tag_header(uint8_t out[FLV_TAG_HEADER_SIZE], enum flv_tag_type type,
                          size_t body_size, int64_t ts_ms);

/* What onMetaData announces. */
struct flv_stream_info {
    int width, height;
    double framerate;
    int video_kbps;
    int audio_kbps;
    int audio_sample_rate; /* 44100 */
    int audio_channels;    /* 2 */
    const char *encoder;   /* "agentcast 0.1.0" */
};

/* onMetaData script tag: AMF0 string "onMetaData" then an ECMA array of the stream's
 * properties (width, height, framerate, videocodecid 7, videodatarate, audiocodecid 10,
 * audiodatarate, audiosamplerate, audiosamplesize 16, stereo, encoder). With set_data_frame the
 * body starts with the AMF0 string "@setDataFrame", as RTMP publishers send it. NULL on ENOMEM. */
struct flv_tag *flv_metadata_tag(const struct flv_stream_info *info, bool set_data_frame);

/* AVC sequence header (AVCPacketType 0): an AVCDecoderConfigurationRecord built from the SPS and
 * PPS found in the Annex B buffer. NULL with errno EINVAL when either is missing. */
struct flv_tag *flv_avc_sequence_header(const uint8_t *annexb, size_t size);

/* An AVC NALU tag (AVCPacketType 1) for one access unit: the Annex B NAL units rewritten with
 * 4-byte length prefixes, leaving out SPS, PPS and access unit delimiters (they travel in the
 * sequence header); composition time = pts - dts. Timestamps are converted from frame ticks
 * with tick_num/tick_den seconds per tick. NULL on ENOMEM or when no NAL unit remains. */
struct flv_tag *flv_avc_frame(const struct h264_packet *pkt, int tick_num, int tick_den);

/* AAC sequence header (AACPacketType 0) carrying the AudioSpecificConfig asc. */
struct flv_tag *flv_aac_sequence_header(const uint8_t *asc, size_t asc_size);
/* An AAC raw frame tag (AACPacketType 1) at dts_ms. */
struct flv_tag *flv_aac_frame(const uint8_t *aac, size_t size, int64_t dts_ms);

#endif
