/*
 * thumbnail — the stream's thumbnail, made from the very pixels being encoded (no screenshot
 * tool): the media thread copies a captured frame to RGB once (thumbnail_capture), the control
 * thread compresses it to JPEG (thumbnail_jpeg) for retake.tv's update-thumbnail.
 */
#ifndef AGENTCAST_MEDIA_THUMBNAIL_H
#define AGENTCAST_MEDIA_THUMBNAIL_H

#include <stddef.h>
#include <stdint.h>

#include "media/frame.h"

struct thumbnail_image {
    int width, height;
    uint8_t *rgb; /* width * height * 3 bytes, R G B order, full range */
};

/* Converts frame (BT.601 limited-range I420 or NV12) into a new RGB image in one libyuv pass.
 * Returns NULL on ENOMEM. The caller frees it with thumbnail_image_free. */
struct thumbnail_image *thumbnail_capture(const struct frame *frame);
void thumbnail_image_free(struct thumbnail_image *img); /* NULL ok */

/* Compresses img to a baseline JPEG (4:2:0) of the given quality (1..100). On success *jpeg is
 * malloc'd (caller frees) and 0 is returned; otherwise a negative errno after logging why. */
int thumbnail_jpeg(const struct thumbnail_image *img, int quality, uint8_t **jpeg, size_t *size);

#endif
