/*
 * nvenc_config — agentcast's encoder knobs → NVENC settings (see nvenc_internal.h). The NVENC
 * backend (hwenc/nvenc.c) asks the driver for the preset's configuration and then lets this file
 * overwrite what agentcast decides, so the stream has the same shape whichever encoder made it.
 */
#include "hwenc/nvenc_internal.h"

#include <stddef.h>
#include <string.h>

/* x264's ten presets onto NVENC's seven (P1 fastest … P7 best). The ends and the middle are
 * anchored: ultrafast = P1, medium = P4 (each library's default), placebo and veryslow = P7.
 * veryfast, the seed's default, maps to P3 rather than P2: x264 users pick veryfast to save CPU
 * time, which NVENC does not spend (it runs on the GPU's fixed-function encoder), and at the
 * sizes agentcast streams (720p30) P3 still leaves the encoder far below its throughput while
 * giving better quality per bit at the same bitrate. */
static const struct {
    const char *x264;
    int level;
} nvenc_preset_table[] = {
    {"ultrafast", 1}, {"superfast", 2}, {"veryfast", 3}, {"faster", 3},   {"fast", 4},
    {"medium", 4},    {"slow", 5},      {"slower", 6},   {"veryslow", 7}, {"placebo", 7},
};

int nvenc_config_preset_level(const char *x264_preset)
{
    if (!x264_preset)
        x264_preset = "medium";
    for (size_t i = 0; i < sizeof(nvenc_preset_table) / sizeof(nvenc_preset_table[0]); i++)
        if (strcmp(nvenc_preset_table[i].x264, x264_preset) == 0)
            return nvenc_preset_table[i].level;
    return 0;
}

const GUID *nvenc_config_preset_guid(int level)
{
    static const GUID *const guids[7] = {
        &NV_ENC_PRESET_P1_GUID, &NV_ENC_PRESET_P2_GUID, &NV_ENC_PRESET_P3_GUID,
        &NV_ENC_PRESET_P4_GUID, &NV_ENC_PRESET_P5_GUID, &NV_ENC_PRESET_P6_GUID,
        &NV_ENC_PRESET_P7_GUID,
    };
    return level >= 1 && level <= 7 ? guids[level - 1] : NULL;
}

NV_ENC_TUNING_INFO nvenc_config_tuning(const char *x264_tune)
{
    return x264_tune && strstr(x264_tune, "zerolatency") ? NV_ENC_TUNING_INFO_ULTRA_LOW_LATENCY
                                                         : NV_ENC_TUNING_INFO_LOW_LATENCY;
}

int nvenc_config_profile_parse(const char *name)
{
    if (!name || strcmp(name, "high") == 0)
        return NVENC_PROFILE_HIGH;
    if (strcmp(name, "main") == 0)
        return NVENC_PROFILE_MAIN;
    if (strcmp(name, "baseline") == 0)
        return NVENC_PROFILE_BASELINE;
    return -1;
}

int nvenc_config_profile_pick(int requested, unsigned offered)
{
    for (int p = requested; p >= NVENC_PROFILE_BASELINE; p--)
        if (offered & (1u << p))
            return p;
    return -1;
}

const GUID *nvenc_config_profile_guid(int profile)
{
    switch (profile) {
    case NVENC_PROFILE_HIGH:
        return &NV_ENC_H264_PROFILE_HIGH_GUID;
    case NVENC_PROFILE_MAIN:
        return &NV_ENC_H264_PROFILE_MAIN_GUID;
    case NVENC_PROFILE_BASELINE:
        return &NV_ENC_H264_PROFILE_BASELINE_GUID;
    default:
        return NULL;
    }
}

const char *nvenc_config_profile_name(int profile)
{
    static const char *const names[] = {"baseline", "main", "high"};
    return profile >= 0 && profile <= NVENC_PROFILE_HIGH ? names[profile] : "unknown";
}

int nvenc_config_profile_from_guid(const GUID *guid)
{
    for (int p = NVENC_PROFILE_BASELINE; p <= NVENC_PROFILE_HIGH; p++)
        if (memcmp(guid, nvenc_config_profile_guid(p), sizeof(*guid)) == 0)
            return p;
    return -1;
}

/* H.264 Annex E: SMPTE 170M (BT.601), what the renderer and the test source draw with; the same
 * code points x264.c writes. 5 = video_format "unspecified". */
#define NVENC_VUI_SMPTE170M 6
#define NVENC_VUI_FORMAT_UNSPECIFIED 5

/* The same rate control as x264.c: CBR pins the VBV rate to the bitrate and pads with filler;
 * VBR is capped by maxrate over the VBV buffer (no cap when maxrate is 0). A missing buffer size
 * is two seconds of maxrate, the seed's ratio. */
static void nvenc_config_rc(NV_ENC_RC_PARAMS *rc, NV_ENC_CONFIG_H264 *h,
                            const struct hwenc_params *p)
{
    uint32_t bitrate = (uint32_t)p->bitrate_kbps * 1000u;
    uint32_t maxrate = p->rc_mode == HWENC_RC_CBR ? bitrate : (uint32_t)p->maxrate_kbps * 1000u;
    uint32_t bufsize = (uint32_t)p->bufsize_kbit * 1000u;
    if (maxrate > 0 && bufsize == 0)
        bufsize = 2 * maxrate;
    rc->version = NV_ENC_RC_PARAMS_VER;
    rc->rateControlMode = p->rc_mode == HWENC_RC_CBR ? NV_ENC_PARAMS_RC_CBR : NV_ENC_PARAMS_RC_VBR;
    rc->averageBitRate = bitrate;
    rc->maxBitRate = maxrate;
    rc->vbvBufferSize = maxrate > 0 ? bufsize : 0;
    rc->vbvInitialDelay = rc->vbvBufferSize;
    rc->enableLookahead = 0;
    rc->lookaheadDepth = 0;
    rc->multiPass = NV_ENC_MULTI_PASS_DISABLED;
    rc->zeroReorderDelay = 1;
    h->enableFillerDataInsertion = p->rc_mode == HWENC_RC_CBR;
}

void nvenc_config_apply(NV_ENC_CONFIG *cfg, const struct hwenc_params *p, int profile)
{
    cfg->version = NV_ENC_CONFIG_VER;
    cfg->profileGUID = *nvenc_config_profile_guid(profile);
    /* A keyframe exactly every keyint frames and every keyframe an IDR (see x264.c's GOP note);
     * no B-frames, so output order is input order and dts = pts. */
    cfg->gopLength = (uint32_t)p->keyint_frames;
    cfg->frameIntervalP = 1;
    cfg->frameFieldMode = NV_ENC_PARAMS_FRAME_FIELD_MODE_FRAME;
    NV_ENC_CONFIG_H264 *h = &cfg->encodeCodecConfig.h264Config;
    nvenc_config_rc(&cfg->rcParams, h, p);
    h->idrPeriod = (uint32_t)p->keyint_frames;
    h->chromaFormatIDC = 1;
    /* SPS/PPS go once into the FLV sequence header (nvEncGetSequenceParams), as with x264. */
    h->repeatSPSPPS = 0;
    h->disableSPSPPS = 0;
    h->outputAUD = 0;
    h->enableIntraRefresh = 0;
    h->sliceMode = 0;
    h->sliceModeData = 0;
    NV_ENC_CONFIG_H264_VUI_PARAMETERS *vui = &h->h264VUIParameters;
    vui->videoSignalTypePresentFlag = 1;
    vui->videoFormat = NVENC_VUI_FORMAT_UNSPECIFIED;
    vui->videoFullRangeFlag = 0;
    vui->colourDescriptionPresentFlag = 1;
    vui->colourPrimaries = NVENC_VUI_SMPTE170M;
    vui->transferCharacteristics = NVENC_VUI_SMPTE170M;
    vui->colourMatrix = NVENC_VUI_SMPTE170M;
}

void nvenc_config_init_params(NV_ENC_INITIALIZE_PARAMS *ip, NV_ENC_CONFIG *cfg,
                              const struct hwenc_params *p, int preset_level)
{
    memset(ip, 0, sizeof(*ip));
    ip->version = NV_ENC_INITIALIZE_PARAMS_VER;
    ip->encodeGUID = NV_ENC_CODEC_H264_GUID;
    ip->presetGUID = *nvenc_config_preset_guid(preset_level);
    ip->tuningInfo = nvenc_config_tuning(p->tune);
    ip->encodeWidth = (uint32_t)p->width;
    ip->encodeHeight = (uint32_t)p->height;
    ip->darWidth = (uint32_t)p->width;
    ip->darHeight = (uint32_t)p->height;
    ip->maxEncodeWidth = (uint32_t)p->width;
    ip->maxEncodeHeight = (uint32_t)p->height;
    ip->frameRateNum = (uint32_t)p->fps_num;
    ip->frameRateDen = (uint32_t)p->fps_den;
    /* Synchronous: completion events (enableEncodeAsync) exist only on Windows. */
    ip->enableEncodeAsync = 0;
    ip->enablePTD = 1;
    ip->bufferFormat = NV_ENC_BUFFER_FORMAT_NV12;
    ip->encodeConfig = cfg;
}
