/*
 * frame — a raw picture on its way from a source to an encoder.
 *
 * The encoder owns the pixel memory and lends it (hwenc_ops.get_input); the source draws straight
 * into it (capture_ops.fill). Nothing in between copies pixels. Where a copy or a colour
 * conversion cannot be avoided, whoever does it adds the bytes it touched to
 * frame.copied_bytes, which the pipeline sums into its "CPU-copied pixel bytes per frame" stat.
 */
#ifndef AGENTCAST_MEDIA_FRAME_H
#define AGENTCAST_MEDIA_FRAME_H

#include <stdbool.h>
#include <stdint.h>

enum frame_format {
    FRAME_FORMAT_I420, /* planar Y, U, V; chroma halved both ways */
    FRAME_FORMAT_NV12, /* planar Y, interleaved UV; chroma halved both ways */
};

/* An encoder lends at most this many distinct input buffers. */
#define FRAME_MAX_BUFFERS 16

struct frame {
    int width, height; /* visible size in pixels; both even */
    enum frame_format format;
    uint8_t *data[3]; /* plane pointers (NV12 uses data[0..1]) */
    int linesize[3];  /* bytes per row of each plane */

    /* Identity of the underlying buffer, 0 <= buffer_id < FRAME_MAX_BUFFERS. The same id always
     * names the same memory, which keeps what was last drawn into it: a source that remembers what
     * it drew per buffer_id redraws only what changed. */
    unsigned buffer_id;

    int64_t pts;        /* presentation time in frame ticks (1 tick = fps_den/fps_num s) */
    int64_t capture_ns; /* CLOCK_MONOTONIC when the source finished drawing it */
    bool unchanged;     /* set by the source: same picture as the previous frame it produced */
    uint64_t copied_bytes; /* pixel bytes the CPU copied or converted to produce this frame */
};

/* A picture in GPU-shareable memory (a DRM PRIME dmabuf), as a KMS or PipeWire source hands it to
 * hwenc_ops.import. The fds stay the caller's: an encoder that needs them longer dups them. */
#define FRAME_DMABUF_MAX_PLANES 4
struct frame_dmabuf {
    int width, height;
    uint32_t drm_format;        /* DRM fourcc (drm_fourcc.h), e.g. DRM_FORMAT_NV12 */
    uint64_t modifier;          /* DRM format modifier (DRM_FORMAT_MOD_LINEAR = 0) */
    int n_planes;
    int fd[FRAME_DMABUF_MAX_PLANES];
    uint32_t offset[FRAME_DMABUF_MAX_PLANES];
    uint32_t pitch[FRAME_DMABUF_MAX_PLANES];
    uint64_t size[FRAME_DMABUF_MAX_PLANES]; /* bytes of the object behind fd[i] */
};

#endif
