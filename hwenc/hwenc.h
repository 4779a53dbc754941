/*
 * hwenc — H.264 encoder backends behind one ops table (x264, vaapi, nvenc).
 *
 * A backend lends input buffers (get_input), the source draws into them, encode turns them into
 * Annex B access units delivered to a packet_sink. One backend per file, registered in
 * hwenc/registry.c.
 */
#ifndef AGENTCAST_HWENC_H
#define AGENTCAST_HWENC_H

#include <stddef.h>
#include <stdint.h>

#include "media/frame.h"
#include "media/packet.h"

enum hwenc_rc_mode { HWENC_RC_CBR, HWENC_RC_VBR };

struct hwenc_params {
    int width, height;    /* even, 16..8192 */
    int fps_num, fps_den; /* frame rate = fps_num / fps_den */
    int bitrate_kbps;     /* target bitrate */
    int maxrate_kbps;     /* VBV max rate */
    int bufsize_kbit;     /* VBV buffer */
    int keyint_frames;    /* IDR interval in frames */
    enum hwenc_rc_mode rc_mode;
    const char *preset;  /* x264 preset name ("veryfast"); hardware backends map it */
    const char *tune;    /* x264 tune ("zerolatency"), or NULL */
    const char *profile; /* "high", "main" or "baseline" */
    const char *device;  /* backend device (render node, GPU index), NULL = default */
    int threads;         /* encoder threads, 0 = backend default */
};

/* Base of every backend's private state: backends embed it first. */
struct hwenc {
    const struct hwenc_ops *ops;
    struct hwenc_params params;
    /* Annex B SPS + PPS for the FLV sequence header; owned by the backend, set by open. A
     * backend whose headers change mid-stream updates them before emitting the new keyframe. */
    const uint8_t *extradata;
    size_t extradata_size;
    const char *description; /* e.g. "x264 0.164 veryfast/zerolatency High"; owned by backend */
};

/* What `agentcast probe` shows of a backend; empty strings where a backend has nothing to say. */
struct hwenc_caps {
    char device[128];          /* what was opened: "/dev/dri/renderD128", "GPU 0: NVIDIA T4" */
    char driver[256];          /* vendor/driver string */
    char profiles[128];        /* H.264 encode profiles, comma-separated: "high,main,baseline" */
    char entrypoints[128];     /* VA-API entrypoints ("EncSliceLP,EncSlice"); empty elsewhere */
    int max_width, max_height; /* 0 = unknown */
};

struct hwenc_ops {
    const char *name;
    /* Describes the device without encoding (may be NULL). 0, or a negative errno and why. */
    int (*query)(const struct hwenc_params *params, struct hwenc_caps *caps, char *why,
                 size_t why_size);
    /* Real one-frame test encode. 0 = usable; otherwise a negative errno and a reason in why. */
    int (*probe)(const struct hwenc_params *params, char *why, size_t why_size);
    /* Opens an encoder; on failure returns a negative errno and has logged why. */
    int (*open)(struct hwenc **out, const struct hwenc_params *params);
    /* Lends an input buffer for the next frame. It stays the backend's; valid until encode. */
    int (*get_input)(struct hwenc *enc, struct frame **frame);
    /* Wraps a dmabuf as an input frame without copying (may be NULL: no import). The frame is
     * the backend's until encode; dmabuf's fds stay the caller's. */
    int (*import)(struct hwenc *enc, const struct frame_dmabuf *dmabuf, struct frame **frame);
    /* Encodes a frame obtained from get_input or import (with pts set) and emits 0..n packets. */
    int (*encode)(struct hwenc *enc, struct frame *frame, const struct packet_sink *sink);
    /* Emits every delayed packet. */
    int (*flush)(struct hwenc *enc, const struct packet_sink *sink);
    /* Frees everything; accepts NULL. */
    void (*close)(struct hwenc *enc);
};

/* The backends, one per file; hardware ones exist when CMake defines AGENTCAST_HAVE_<NAME>. */
extern const struct hwenc_ops hwenc_x264_ops;
extern const struct hwenc_ops hwenc_vaapi_ops;
extern const struct hwenc_ops hwenc_nvenc_ops;
extern const struct hwenc_ops hwenc_v4l2m2m_ops;

/* NULL-terminated list of compiled-in backends, in auto-selection order. */
extern const struct hwenc_ops *const hwenc_backends[];
/* For backends' probe: encodes one mid-grey frame with enc, which it then closes (ownership
 * passes). 0 with why = "ok" when a packet came out; else a negative errno and why. */
int hwenc_test_encode(struct hwenc *enc, char *why, size_t why_size);
/* The backend called name, or NULL. */
const struct hwenc_ops *hwenc_find(const char *name);
/* The strings of a struct hwenc_params that a backend copies to keep them for its lifetime. */
#define HWENC_PARAM_STRINGS 4
/* Replaces params' strings (preset, tune, profile, device) with copies stored in owned (all NULL
 * on entry; release with hwenc_params_release, also after a failure). 0 or -ENOMEM. */
int hwenc_params_own(struct hwenc_params *params, char *owned[HWENC_PARAM_STRINGS]);
void hwenc_params_release(char *owned[HWENC_PARAM_STRINGS]);
/* Fills params with the seed command's defaults: 1280x720@30, 1500k/1500k/3000k, keyint 2 s,
 * veryfast, zerolatency, High. */
void hwenc_params_default(struct hwenc_params *params);

#endif
