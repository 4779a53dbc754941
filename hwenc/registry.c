/*
 * registry — the list of compiled-in encoder backends, lookup by name, and the default encoder
 * parameters (the seed's ffmpeg command line). The pipeline and `agentcast probe` start here.
 *
 * A hardware backend is compiled in when CMake finds its dependencies and defines
 * AGENTCAST_HAVE_<NAME>; each adds one line in hwenc_backends[] below (declared in hwenc.h).
 */
#include "hwenc/hwenc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* `auto` probes in this order: hardware first (cheapest CPU), x264 last because it always works. */
const struct hwenc_ops *const hwenc_backends[] = {
#ifdef AGENTCAST_HAVE_NVENC
    &hwenc_nvenc_ops,
#endif
#ifdef AGENTCAST_HAVE_VAAPI
    &hwenc_vaapi_ops,
#endif
#ifdef AGENTCAST_HAVE_V4L2M2M
    &hwenc_v4l2m2m_ops,
#endif
    &hwenc_x264_ops, /* always there: the fallback */
    NULL,
};

const struct hwenc_ops *hwenc_find(const char *name)
{
    if (!name)
        return NULL;
    for (size_t i = 0; hwenc_backends[i]; i++)
        if (strcmp(hwenc_backends[i]->name, name) == 0)
            return hwenc_backends[i];
    return NULL;
}

/* The seed: -preset veryfast -tune zerolatency -b:v 1500k -maxrate 1500k -bufsize 3000k -g 60,
 * High profile, 1280x720 at 30 fps. "CBR-like" there means ABR capped by a VBV whose rate equals
 * the bitrate, which is HWENC_RC_VBR with maxrate == bitrate: the rate never exceeds 1500k over
 * the 2 s buffer, but a simple picture may use less (HWENC_RC_CBR would pad it with filler). */
void hwenc_params_default(struct hwenc_params *params)
{
    *params = (struct hwenc_params){
        .width = 1280,
        .height = 720,
        .fps_num = 30,
        .fps_den = 1,
        .bitrate_kbps = 1500,
        .maxrate_kbps = 1500,
        .bufsize_kbit = 3000,
        .keyint_frames = 60, /* 2 s at 30 fps */
        .rc_mode = HWENC_RC_VBR,
        .preset = "veryfast",
        .tune = "zerolatency",
        .profile = "high",
        .device = NULL,
        .threads = 0,
    };
}

int hwenc_params_own(struct hwenc_params *params, char *owned[HWENC_PARAM_STRINGS])
{
    const char **fields[HWENC_PARAM_STRINGS] = {&params->preset, &params->tune, &params->profile,
                                                &params->device};
    for (int i = 0; i < HWENC_PARAM_STRINGS; i++) {
        if (!*fields[i])
            continue;
        owned[i] = strdup(*fields[i]);
        if (!owned[i])
            return -ENOMEM;
        *fields[i] = owned[i];
    }
    return 0;
}

void hwenc_params_release(char *owned[HWENC_PARAM_STRINGS])
{
    for (int i = 0; i < HWENC_PARAM_STRINGS; i++) {
        free(owned[i]);
        owned[i] = NULL;
    }
}
