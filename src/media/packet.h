/*
 * packet — one encoded H.264 access unit, as an encoder backend hands it to the muxer.
 */
#ifndef AGENTCAST_MEDIA_PACKET_H
#define AGENTCAST_MEDIA_PACKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct h264_packet {
    const uint8_t *data; /* Annex B (start codes); valid only during packet_sink.emit */
    size_t size;
    int64_t pts, dts;    /* frame ticks, as in struct frame */
    bool keyframe;       /* IDR */
    int64_t capture_ns;  /* capture_ns of the frame this access unit encodes */
};

/* Where an encoder delivers its output. emit returns 0, or a negative errno to stop encoding. */
struct packet_sink {
    int (*emit)(void *opaque, const struct h264_packet *pkt);
    void *opaque;
};

#endif
