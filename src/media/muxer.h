/*
 * muxer — turns the encoder's access units into the FLV tag sequence every output receives:
 * video tags with the silent AAC track interleaved by time, timestamps never going backwards.
 *
 * Audio runs on the stream clock: before a video tag with timestamp T, every audio frame whose
 * time is <= T is emitted, so a reader sees tags in timestamp order and the audio track always
 * spans the video. The pipeline's media thread owns a muxer; it is not thread-safe.
 */
#ifndef AGENTCAST_MEDIA_MUXER_H
#define AGENTCAST_MEDIA_MUXER_H

#include <stdint.h>

#include "media/flv.h"
#include "media/packet.h"

/* Receives each tag with one reference, which it owns. Returns 0 or a negative errno. */
typedef int (*muxer_emit_fn)(void *opaque, struct flv_tag *tag);

struct muxer {
    int tick_num, tick_den; /* seconds per frame tick = tick_num / tick_den */
    int64_t audio_frames;   /* silent AAC frames emitted so far */
    int64_t last_dts_ms;    /* newest timestamp emitted */
    muxer_emit_fn emit;
    void *opaque;
};

/* tick_num/tick_den: seconds per tick of h264_packet timestamps (fps_den/fps_num). */
void muxer_init(struct muxer *m, int tick_num, int tick_den, muxer_emit_fn emit, void *opaque);
/* Emits the audio due up to this access unit's time, then its video tag. */
int muxer_video(struct muxer *m, const struct h264_packet *pkt);
/* Emits the audio due up to up_to_ms (the end of the stream). */
int muxer_audio_until(struct muxer *m, int64_t up_to_ms);

#endif
