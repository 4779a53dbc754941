/* muxer — see muxer.h. */
#include "media/muxer.h"

#include <errno.h>

#include "media/aac_silence.h"

void muxer_init(struct muxer *m, int tick_num, int tick_den, muxer_emit_fn emit, void *opaque)
{
    *m = (struct muxer){
        .tick_num = tick_num, .tick_den = tick_den, .emit = emit, .opaque = opaque};
}

int muxer_audio_until(struct muxer *m, int64_t up_to_ms)
{
    size_t size;
    const uint8_t *aac = aac_silence_frame(&size);
    while (aac_frame_dts_ms(m->audio_frames) <= up_to_ms) {
        int64_t dts = aac_frame_dts_ms(m->audio_frames);
        struct flv_tag *tag = flv_aac_frame(aac, size, dts);
        if (!tag)
            return -ENOMEM;
        m->audio_frames++;
        if (dts > m->last_dts_ms)
            m->last_dts_ms = dts;
        int rc = m->emit(m->opaque, tag);
        if (rc < 0)
            return rc;
    }
    return 0;
}

int muxer_video(struct muxer *m, const struct h264_packet *pkt)
{
    struct flv_tag *tag = flv_avc_frame(pkt, m->tick_num, m->tick_den);
    if (!tag)
        return -ENOMEM;
    /* Never let a rounding step (or an encoder's negative start dts) go backwards. */
    if (tag->dts_ms < m->last_dts_ms)
        tag->dts_ms = m->last_dts_ms;
    int rc = muxer_audio_until(m, tag->dts_ms);
    if (rc < 0) {
        flv_tag_unref(tag);
        return rc;
    }
    m->last_dts_ms = tag->dts_ms;
    return m->emit(m->opaque, tag);
}
