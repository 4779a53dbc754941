/*
 * test_encode — the one-frame encode behind every backend's probe (hwenc.h): what `auto` and
 * `agentcast probe` trust, because drivers routinely advertise what they then refuse.
 */
#include "hwenc/hwenc.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static int count_packet(void *opaque, const struct h264_packet *pkt)
{
    int *packets = opaque;
    if (pkt->size > 0)
        (*packets)++;
    return 0;
}

/* Mid-grey in whichever layout the encoder lent. */
static void fill_grey(struct frame *f)
{
    int chroma_planes = f->format == FRAME_FORMAT_I420 ? 2 : 1;
    size_t chroma_width = f->format == FRAME_FORMAT_I420 ? (size_t)f->width / 2 : (size_t)f->width;
    for (int y = 0; y < f->height; y++)
        memset(f->data[0] + (size_t)y * (size_t)f->linesize[0], 128, (size_t)f->width);
    for (int p = 1; p <= chroma_planes; p++)
        for (int y = 0; y < f->height / 2; y++)
            memset(f->data[p] + (size_t)y * (size_t)f->linesize[p], 128, chroma_width);
}

int hwenc_test_encode(struct hwenc *enc, char *why, size_t why_size)
{
    struct frame *f;
    int packets = 0;
    struct packet_sink sink = {.emit = count_packet, .opaque = &packets};
    int ret = enc->ops->get_input(enc, &f);
    if (ret == 0) {
        fill_grey(f);
        f->pts = 0;
        ret = enc->ops->encode(enc, f, &sink);
    }
    if (ret == 0)
        ret = enc->ops->flush(enc, &sink);
    enc->ops->close(enc);
    if (ret < 0) {
        snprintf(why, why_size, "test encode failed: %s", strerror(-ret));
        return ret;
    }
    if (packets == 0) {
        snprintf(why, why_size, "test encode produced no packet");
        return -EIO;
    }
    snprintf(why, why_size, "ok");
    return 0;
}
