/*
 * capture — picture sources behind one ops table (testsrc here; terminal in src/render/; x11,
 * kms and v4l2 later). A source draws the current picture straight into an encoder's input
 * buffer.
 */
#ifndef AGENTCAST_PLATFORM_CAPTURE_H
#define AGENTCAST_PLATFORM_CAPTURE_H

#include "media/frame.h"

struct capture_params {
    int width, height;
    int fps_num, fps_den;
    const void *options; /* source-specific options, or NULL for defaults */
};

struct capture; /* a source's private state */

struct capture_ops {
    const char *name;
    /* Opens a source; on failure returns a negative errno and has logged why. */
    int (*open)(struct capture **out, const struct capture_params *params);
    /* Draws the picture for dst->pts into dst (size and format are the encoder's), sets
     * dst->unchanged and adds any CPU copy to dst->copied_bytes. 0 or a negative errno. */
    int (*fill)(struct capture *src, struct frame *dst);
    /* Frees everything; accepts NULL. */
    void (*close)(struct capture *src);
};

extern const struct capture_ops capture_testsrc_ops;

#endif
