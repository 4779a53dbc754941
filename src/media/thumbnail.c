/* thumbnail — see thumbnail.h. */
#include "media/thumbnail.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <turbojpeg.h>
#include <libyuv.h>

#include "core/log.h"

static const char *COMPONENT = "thumbnail";

struct thumbnail_image *thumbnail_capture(const struct frame *f)
{
    struct thumbnail_image *img = malloc(sizeof(*img));
    if (!img)
        return NULL;
    img->width = f->width;
    img->height = f->height;
    img->rgb = malloc((size_t)f->width * (size_t)f->height * 3);
    if (!img->rgb) {
        free(img);
        return NULL;
    }
    /* libyuv's "RAW" is R,G,B in memory (its "RGB24" is B,G,R). Both converters apply the
     * BT.601 limited-range matrix, which is what our sources draw. */
    int rc;
    if (f->format == FRAME_FORMAT_NV12)
        rc = NV12ToRAW(f->data[0], f->linesize[0], f->data[1], f->linesize[1], img->rgb,
                       f->width * 3, f->width, f->height);
    else
        rc = I420ToRAW(f->data[0], f->linesize[0], f->data[1], f->linesize[1], f->data[2],
                       f->linesize[2], img->rgb, f->width * 3, f->width, f->height);
    if (rc != 0) {
        thumbnail_image_free(img);
        return NULL;
    }
    return img;
}

void thumbnail_image_free(struct thumbnail_image *img)
{
    if (!img)
        return;
    free(img->rgb);
    free(img);
}

int thumbnail_jpeg(const struct thumbnail_image *img, int quality, uint8_t **jpeg, size_t *size)
{
    if (!img || quality < 1 || quality > 100)
        return -EINVAL;
    tjhandle tj = tjInitCompress();
    if (!tj) {
        log_error(COMPONENT, "cannot start the JPEG compressor");
        return -ENOMEM;
    }
    unsigned char *out = NULL;
    unsigned long out_size = 0;
    int rc = tjCompress2(tj, img->rgb, img->width, img->width * 3, img->height, TJPF_RGB, &out,
                         &out_size, TJSAMP_420, quality, TJFLAG_FASTDCT);
    if (rc != 0) {
        log_error(COMPONENT, "JPEG compression failed: %s", tjGetErrorStr2(tj));
        tjDestroy(tj);
        tjFree(out);
        return -EIO;
    }
    tjDestroy(tj);
    /* Hand back plain malloc'd memory so callers need not know about tjFree. */
    *jpeg = malloc(out_size);
    if (!*jpeg) {
        tjFree(out);
        return -ENOMEM;
    }
    memcpy(*jpeg, out, out_size);
    *size = out_size;
    tjFree(out);
    return 0;
}
