/* raw_dump — see raw_dump.h. */
#include "media/raw_dump.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libyuv/planar_functions.h>

#include "core/log.h"

#define RAW_DUMP_COMPONENT "dump"

struct raw_dump {
    FILE *f;
    char *path;
    uint8_t *chroma; /* NV12 only: one de-interleaved U row then one V row */
    size_t chroma_size;
    unsigned long long frames;
};

struct raw_dump *raw_dump_open(const char *path)
{
    struct raw_dump *d = calloc(1, sizeof(*d));
    if (!d || !(d->path = strdup(path))) {
        free(d);
        log_error(RAW_DUMP_COMPONENT, "out of memory");
        return NULL;
    }
    d->f = fopen(path, "wb");
    if (!d->f) {
        log_error(RAW_DUMP_COMPONENT, "cannot create %s: %s", path, strerror(errno));
        free(d->path);
        free(d);
        return NULL;
    }
    return d;
}

static int write_plane(struct raw_dump *d, const uint8_t *p, int stride, int w, int h)
{
    for (int y = 0; y < h; y++)
        if (fwrite(p + (size_t)y * stride, 1, (size_t)w, d->f) != (size_t)w)
            return -EIO;
    return 0;
}

/* NV12 chroma as two planes: the U rows, then the V rows (one pass over the plane each). */
static int write_nv12_chroma(struct raw_dump *d, const struct frame *fr, int cw, int ch)
{
    if (d->chroma_size < (size_t)cw * 2) {
        uint8_t *grown = realloc(d->chroma, (size_t)cw * 2);
        if (!grown)
            return -ENOMEM;
        d->chroma = grown;
        d->chroma_size = (size_t)cw * 2;
    }
    for (int plane = 0; plane < 2; plane++) {
        for (int y = 0; y < ch; y++) {
            const uint8_t *row = fr->data[1] + (size_t)y * fr->linesize[1];
            SplitUVPlane(row, 0, d->chroma, 0, d->chroma + cw, 0, cw, 1);
            if (fwrite(d->chroma + (size_t)plane * cw, 1, (size_t)cw, d->f) != (size_t)cw)
                return -EIO;
        }
    }
    return 0;
}

int raw_dump_write(struct raw_dump *d, struct frame *fr)
{
    int w = fr->width, h = fr->height, cw = (w + 1) / 2, ch = (h + 1) / 2;
    int rc = write_plane(d, fr->data[0], fr->linesize[0], w, h);
    if (rc == 0 && fr->format == FRAME_FORMAT_I420) {
        rc = write_plane(d, fr->data[1], fr->linesize[1], cw, ch);
        if (rc == 0)
            rc = write_plane(d, fr->data[2], fr->linesize[2], cw, ch);
    } else if (rc == 0) {
        rc = write_nv12_chroma(d, fr, cw, ch);
    }
    if (rc < 0) {
        log_error(RAW_DUMP_COMPONENT, "writing frame %llu to %s: %s", d->frames, d->path,
                  strerror(-rc));
        return rc;
    }
    d->frames++;
    fr->copied_bytes += (uint64_t)w * h + 2ull * cw * ch;
    return 0;
}

int raw_dump_close(struct raw_dump *d)
{
    if (!d)
        return 0;
    int rc = 0;
    if (fclose(d->f) != 0) {
        log_error(RAW_DUMP_COMPONENT, "closing %s: %s", d->path, strerror(errno));
        rc = -EIO;
    } else {
        log_debug(RAW_DUMP_COMPONENT, "wrote %llu frames to %s", d->frames, d->path);
    }
    free(d->chroma);
    free(d->path);
    free(d);
    return rc;
}
