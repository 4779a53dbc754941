/*
 * vaapi_internal — what the VA-API backend's files share: the pure mapping of hwenc_params to
 * VA-API parameter structures (vaapi_params.c, unit-tested without a device), the packed SPS/PPS
 * writer (vaapi_headers.c) and the display/config setup (vaapi_device.c). hwenc/vaapi.c is the
 * encoder itself.
 */
#ifndef AGENTCAST_HWENC_VAAPI_INTERNAL_H
#define AGENTCAST_HWENC_VAAPI_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <va/va.h>
#include <va/va_enc_h264.h>

#include "hwenc/hwenc.h"

#define VAAPI_COMPONENT "vaapi"
/* Environment override of the default render node (used when params->device is NULL); the test
 * wrapper tests/fakes/with-fake-vaapi sets it to a non-DRM file. */
#define VAAPI_DEVICE_ENV "AGENTCAST_VAAPI_DEVICE"
#define VAAPI_MAX_PROFILES 3

/* ---- vaapi_params.c: knobs -> VA structures (pure) ---- */

/* The misc parameters of rate control, as sent with each IDR. */
struct vaapi_rc {
    uint32_t va_rc_mode; /* VA_RC_CBR or VA_RC_VBR (the config attribute) */
    VAEncMiscParameterRateControl rc;
    VAEncMiscParameterHRD hrd;
    VAEncMiscParameterFrameRate fr;
};

/* 0, or -EINVAL with why when the parameters cannot be encoded by this backend. */
int vaapi_params_check(const struct hwenc_params *p, char *why, size_t why_size);
/* CBR: bits_per_second = bitrate, target 100 %. VBR: bits_per_second = maxrate (at least the
 * bitrate), target = bitrate / maxrate. HRD buffer = bufsize (2 x rate when 0), window = the
 * buffer's duration; frame rate = num | den << 16. Never skips frames. */
void vaapi_params_rc(const struct hwenc_params *p, struct vaapi_rc *out);
/* The sequence parameters: size in macroblocks with cropping, IDR period = keyint, no B-frames,
 * one reference, POC type 2, level from size and rate, VUI timing. */
void vaapi_params_seq(const struct hwenc_params *p, VAProfile profile,
                      VAEncSequenceParameterBufferH264 *seq);
/* The profile to use for the wanted one ("high", "main", "baseline"; NULL = high) among those
 * offered: High falls back to Main then ConstrainedBaseline, Main to ConstrainedBaseline.
 * 0 with *out set, or -ENOTSUP. */
int vaapi_profile_choose(const char *wanted, const VAProfile *offered, int n, VAProfile *out);
/* profile_idc of a VA profile (100, 77, 66), and a label ("High"). */
int vaapi_profile_idc(VAProfile profile);
const char *vaapi_profile_label(VAProfile profile);
/* level_idc (e.g. 31 for 3.1) for the size, frame rate and maxrate. */
int vaapi_level_idc(const struct hwenc_params *p);

/* ---- vaapi_headers.c: packed headers ---- */

/* Writes the SPS (resp. PPS) those parameters describe as one Annex B NAL unit with emulation
 * prevention into out (cap bytes). Returns its size in bytes, or -ENOSPC. */
int vaapi_write_sps(const VAEncSequenceParameterBufferH264 *seq, VAProfile profile, uint8_t *out,
                    size_t cap);
int vaapi_write_pps(const VAEncPictureParameterBufferH264 *pic, uint8_t *out, size_t cap);

/* ---- vaapi_device.c: the display and the config ---- */

struct vaapi_display {
    int fd;
    VADisplay dpy;
    char path[128];
};

/* Opens device (NULL: $AGENTCAST_VAAPI_DEVICE, else the first /dev/dri/renderD* in name order)
 * and initialises libva on it. 0, or a negative errno with why. Close with vaapi_display_close
 * (accepts a display that failed to open). */
int vaapi_display_open(const char *device, struct vaapi_display *d, char *why, size_t why_size);
void vaapi_display_close(struct vaapi_display *d);

/* What the driver offers for H.264 encoding and what this encoder will use. */
struct vaapi_setup {
    VAProfile profile;
    VAEntrypoint entrypoint; /* EncSliceLP when offered, else EncSlice */
    uint32_t packed;         /* VA_ENC_PACKED_HEADER_SEQUENCE|PICTURE when offered, else 0 */
    int max_width, max_height;
};

/* Chooses profile, entrypoint, packed headers for p and checks size limits. 0 or a negative
 * errno with why. */
int vaapi_setup_choose(VADisplay dpy, const struct hwenc_params *p, struct vaapi_setup *s,
                       char *why, size_t why_size);
/* ---- vaapi_import.c ---- */

/* Creates a surface on the dmabuf's memory (DRM_PRIME_2, else DRM_PRIME); the fds stay the
 * caller's (the driver takes its own references). The surface is the caller's to destroy. */
VAStatus vaapi_import_surface(VADisplay dpy, const struct frame_dmabuf *b, VASurfaceID *out);

/* hwenc_ops.query of the backend. */
int hwenc_vaapi_query(const struct hwenc_params *params, struct hwenc_caps *caps, char *why,
                      size_t why_size);

#endif
