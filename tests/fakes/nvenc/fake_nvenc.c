/*
 * fake libnvidia-encode.so.1 — test-only NVENC (never installed). Encodes with x264 what it is
 * handed, honouring what was asked (profile, GOP/IDR period, frame rate, bitrate, maxrate, VBV,
 * CBR vs VBR), so tests that decode the stream check the backend's parameter passing.
 *
 * Strict: every NV_ENC_* struct's version, session open/initialize/destroy order, GUIDs (H.264,
 * P1–P7, tuning, advertised profiles), NV_ENC_INITIALIZE_PARAMS/NV_ENC_CONFIG values, input
 * buffer lock/unlock pairing, encoding a locked buffer, use after destroy, double destroy,
 * registered resources (register/map/unmap/unregister pairing, pitch, memory behind the
 * pointer), bitstream lock/unlock, and leaks at DestroyEncoder. A violation prints
 * "fake-nvenc: ERROR …" on stderr and returns an error status.
 *
 * Knobs and the FAKE_NVENC_STATS file: see tests/fakes/README-hardware.md ("## NVENC").
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake_cuda.h"
#include "fake_nvenc.h"

pthread_mutex_t fn_lock = PTHREAD_MUTEX_INITIALIZER;
struct fn_stats fn_last;
uint64_t fn_sessions_opened, fn_sessions_destroyed, fn_errors;

void fn_error(struct fn_session *s, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    fprintf(stderr, "fake-nvenc: ERROR %s\n", msg);
    if (s)
        snprintf(s->last_error, sizeof(s->last_error), "%s", msg);
    __atomic_add_fetch(&fn_errors, 1, __ATOMIC_RELAXED);
}

unsigned fn_env_uint(const char *name, unsigned dflt)
{
    const char *v = getenv(name);
    return v && *v ? (unsigned)strtoul(v, NULL, 10) : dflt;
}

static bool fn_guid_eq(const GUID *a, const GUID *b)
{
    return memcmp(a, b, sizeof(*a)) == 0;
}

bool fn_check_ver(struct fn_session *s, const char *what, uint32_t got, uint32_t want)
{
    if (got == want)
        return true;
    fn_error(s, "%s: struct version %#x, expected %#x", what, got, want);
    return false;
}

bool fn_session_ok(struct fn_session *s, const char *fn, bool need_init)
{
    if (!s || s->magic != FN_SESSION_MAGIC || s->destroyed) {
        fn_error(NULL, "%s on an unknown or destroyed encoder session", fn);
        return false;
    }
    if (need_init && !s->initialized) {
        fn_error(s, "%s before nvEncInitializeEncoder", fn);
        return false;
    }
    return true;
}

/* --- the knobs ------------------------------------------------------------------------------ */

/* Profiles advertised: FAKE_NVENC_PROFILES=high,main,baseline (the default). */
static int fn_profiles(GUID *out, int max)
{
    const char *list = getenv("FAKE_NVENC_PROFILES");
    if (!list || !*list)
        list = "high,main,baseline";
    static const struct {
        const char *name;
        const GUID *guid;
    } known[] = {{"high", &NV_ENC_H264_PROFILE_HIGH_GUID},
                 {"main", &NV_ENC_H264_PROFILE_MAIN_GUID},
                 {"baseline", &NV_ENC_H264_PROFILE_BASELINE_GUID}};
    int n = 0;
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
        if (strstr(list, known[i].name) && n < max)
            out[n++] = *known[i].guid;
    return n;
}

static const char *fn_profile_name(const GUID *g)
{
    if (fn_guid_eq(g, &NV_ENC_H264_PROFILE_HIGH_GUID))
        return "high";
    if (fn_guid_eq(g, &NV_ENC_H264_PROFILE_MAIN_GUID))
        return "main";
    if (fn_guid_eq(g, &NV_ENC_H264_PROFILE_BASELINE_GUID))
        return "baseline";
    return NULL;
}

static int fn_preset_index(const GUID *g)
{
    const GUID *p[] = {&NV_ENC_PRESET_P1_GUID, &NV_ENC_PRESET_P2_GUID, &NV_ENC_PRESET_P3_GUID,
                       &NV_ENC_PRESET_P4_GUID, &NV_ENC_PRESET_P5_GUID, &NV_ENC_PRESET_P6_GUID,
                       &NV_ENC_PRESET_P7_GUID};
    for (int i = 0; i < 7; i++)
        if (fn_guid_eq(g, p[i]))
            return i + 1;
    return 0;
}

static unsigned fn_max_version(void)
{
    const char *v = getenv("FAKE_NVENC_MAX_VERSION");
    unsigned maj = NVENCAPI_MAJOR_VERSION, min = NVENCAPI_MINOR_VERSION;
    if (v && *v && sscanf(v, "%u.%u", &maj, &min) != 2)
        fn_error(NULL, "FAKE_NVENC_MAX_VERSION=%s is not major.minor", v);
    return (maj << 4) | min;
}

__attribute__((visibility("default"))) NVENCSTATUS NVENCAPI
NvEncodeAPIGetMaxSupportedVersion(uint32_t *version)
{
    if (!version) {
        fn_error(NULL, "NvEncodeAPIGetMaxSupportedVersion(NULL)");
        return NV_ENC_ERR_INVALID_PTR;
    }
    *version = fn_max_version();
    return NV_ENC_SUCCESS;
}

/* --- sessions and capabilities ---------------------------------------------------------------- */

static NVENCSTATUS NVENCAPI fn_open_session_ex(NV_ENC_OPEN_ENCODE_SESSION_EX_PARAMS *p, void **enc)
{
    if (!p || !enc) {
        fn_error(NULL, "nvEncOpenEncodeSessionEx: NULL argument");
        return NV_ENC_ERR_INVALID_PTR;
    }
    if (!fn_check_ver(NULL, "NV_ENC_OPEN_ENCODE_SESSION_EX_PARAMS", p->version,
                      NV_ENC_OPEN_ENCODE_SESSION_EX_PARAMS_VER))
        return NV_ENC_ERR_INVALID_VERSION;
    unsigned api = ((p->apiVersion & 0xff) << 4) | ((p->apiVersion >> 24) & 0xf);
    if (p->apiVersion != NVENCAPI_VERSION || api > fn_max_version()) {
        fn_error(NULL, "nvEncOpenEncodeSessionEx: apiVersion %#x not supported (driver max %u.%u)",
                 p->apiVersion, fn_max_version() >> 4, fn_max_version() & 0xf);
        return NV_ENC_ERR_INVALID_VERSION;
    }
    if (p->deviceType != NV_ENC_DEVICE_TYPE_CUDA || !fake_cuda_ctx_valid(p->device)) {
        fn_error(NULL, "nvEncOpenEncodeSessionEx: device type %d / %p is not a live CUDA context",
                 (int)p->deviceType, p->device);
        return NV_ENC_ERR_INVALID_DEVICE;
    }
    if (fn_env_uint("FAKE_NVENC_FAIL_OPEN", 0) == 1) {
        fprintf(stderr, "fake-nvenc: refusing to open a session (FAKE_NVENC_FAIL_OPEN=1)\n");
        return NV_ENC_ERR_NO_ENCODE_DEVICE;
    }
    struct fn_session *s = calloc(1, sizeof(*s));
    if (!s)
        return NV_ENC_ERR_OUT_OF_MEMORY;
    s->magic = FN_SESSION_MAGIC;
    s->cuda_ctx = p->device;
    __atomic_add_fetch(&fn_sessions_opened, 1, __ATOMIC_RELAXED);
    *enc = s;
    return NV_ENC_SUCCESS;
}

static NVENCSTATUS NVENCAPI fn_get_guid_count(void *enc, uint32_t *count)
{
    if (!fn_session_ok(enc, "nvEncGetEncodeGUIDCount", false) || !count)
        return NV_ENC_ERR_INVALID_PARAM;
    *count = 1;
    return NV_ENC_SUCCESS;
}

static NVENCSTATUS NVENCAPI fn_get_guids(void *enc, GUID *guids, uint32_t size, uint32_t *count)
{
    if (!fn_session_ok(enc, "nvEncGetEncodeGUIDs", false) || !guids || !count || size < 1)
        return NV_ENC_ERR_INVALID_PARAM;
    guids[0] = NV_ENC_CODEC_H264_GUID;
    *count = 1;
    return NV_ENC_SUCCESS;
}

static bool fn_h264(struct fn_session *s, GUID codec, const char *fn)
{
    if (fn_guid_eq(&codec, &NV_ENC_CODEC_H264_GUID))
        return true;
    fn_error(s, "%s: codec GUID is not H.264", fn);
    return false;
}

static NVENCSTATUS NVENCAPI fn_get_profile_count(void *enc, GUID codec, uint32_t *count)
{
    if (!fn_session_ok(enc, "nvEncGetEncodeProfileGUIDCount", false) || !count ||
        !fn_h264(enc, codec, "nvEncGetEncodeProfileGUIDCount"))
        return NV_ENC_ERR_INVALID_PARAM;
    GUID g[3];
    *count = (uint32_t)fn_profiles(g, 3);
    return NV_ENC_SUCCESS;
}

static NVENCSTATUS NVENCAPI fn_get_profiles(void *enc, GUID codec, GUID *out, uint32_t size,
                                            uint32_t *count)
{
    if (!fn_session_ok(enc, "nvEncGetEncodeProfileGUIDs", false) || !out || !count ||
        !fn_h264(enc, codec, "nvEncGetEncodeProfileGUIDs"))
        return NV_ENC_ERR_INVALID_PARAM;
    GUID g[3];
    int n = fn_profiles(g, 3);
    if ((uint32_t)n > size) {
        fn_error(enc, "nvEncGetEncodeProfileGUIDs: array of %u for %d profiles", size, n);
        return NV_ENC_ERR_INVALID_PARAM;
    }
    memcpy(out, g, (size_t)n * sizeof(GUID));
    *count = (uint32_t)n;
    return NV_ENC_SUCCESS;
}

static NVENCSTATUS NVENCAPI fn_get_caps(void *enc, GUID codec, NV_ENC_CAPS_PARAM *p, int *val)
{
    if (!fn_session_ok(enc, "nvEncGetEncodeCaps", false) || !p || !val ||
        !fn_h264(enc, codec, "nvEncGetEncodeCaps"))
        return NV_ENC_ERR_INVALID_PARAM;
    if (!fn_check_ver(enc, "NV_ENC_CAPS_PARAM", p->version, NV_ENC_CAPS_PARAM_VER))
        return NV_ENC_ERR_INVALID_VERSION;
    switch (p->capsToQuery) {
    case NV_ENC_CAPS_WIDTH_MAX:
    case NV_ENC_CAPS_HEIGHT_MAX:
        *val = FN_MAX_SIZE;
        break;
    case NV_ENC_CAPS_NUM_MAX_BFRAMES:
        *val = 0;
        break;
    default:
        *val = 0; /* not offered */
    }
    return NV_ENC_SUCCESS;
}

static NVENCSTATUS NVENCAPI fn_get_preset_config_ex(void *enc, GUID codec, GUID preset,
                                                    NV_ENC_TUNING_INFO tuning,
                                                    NV_ENC_PRESET_CONFIG *pc)
{
    if (!fn_session_ok(enc, "nvEncGetEncodePresetConfigEx", false) || !pc ||
        !fn_h264(enc, codec, "nvEncGetEncodePresetConfigEx"))
        return NV_ENC_ERR_INVALID_PARAM;
    if (!fn_check_ver(enc, "NV_ENC_PRESET_CONFIG", pc->version, NV_ENC_PRESET_CONFIG_VER) ||
        !fn_check_ver(enc, "NV_ENC_PRESET_CONFIG.presetCfg", pc->presetCfg.version,
                      NV_ENC_CONFIG_VER))
        return NV_ENC_ERR_INVALID_VERSION;
    if (!fn_preset_index(&preset) || tuning < NV_ENC_TUNING_INFO_HIGH_QUALITY ||
        tuning > NV_ENC_TUNING_INFO_ULTRA_LOW_LATENCY) {
        fn_error(enc, "nvEncGetEncodePresetConfigEx: preset not P1..P7 or tuning %d", tuning);
        return NV_ENC_ERR_INVALID_PARAM;
    }
    NV_ENC_CONFIG *c = &pc->presetCfg;
    memset(c, 0, sizeof(*c));
    c->version = NV_ENC_CONFIG_VER;
    c->gopLength = 250;
    c->frameIntervalP = tuning == NV_ENC_TUNING_INFO_HIGH_QUALITY ? 3 : 1;
    c->frameFieldMode = NV_ENC_PARAMS_FRAME_FIELD_MODE_FRAME;
    c->mvPrecision = NV_ENC_MV_PRECISION_QUARTER_PEL;
    c->rcParams.version = NV_ENC_RC_PARAMS_VER;
    c->rcParams.rateControlMode = NV_ENC_PARAMS_RC_VBR;
    c->rcParams.averageBitRate = 5000000;
    c->encodeCodecConfig.h264Config.idrPeriod = 250;
    c->encodeCodecConfig.h264Config.chromaFormatIDC = 1;
    return NV_ENC_SUCCESS;
}

/* --- initialisation -----------------------------------------------------------------------------
 */

static bool fn_check_rc(struct fn_session *s, const NV_ENC_RC_PARAMS *rc)
{
    if (!fn_check_ver(s, "NV_ENC_RC_PARAMS", rc->version, NV_ENC_RC_PARAMS_VER))
        return false;
    if (rc->rateControlMode != NV_ENC_PARAMS_RC_CBR &&
        rc->rateControlMode != NV_ENC_PARAMS_RC_VBR) {
        fn_error(s, "rateControlMode %#x (only CBR and VBR are supported)", rc->rateControlMode);
        return false;
    }
    if (rc->averageBitRate < 10000 || rc->averageBitRate > 800000000) {
        fn_error(s, "averageBitRate %u bit/s out of range", rc->averageBitRate);
        return false;
    }
    if (rc->rateControlMode == NV_ENC_PARAMS_RC_VBR && rc->maxBitRate != 0 &&
        rc->maxBitRate < rc->averageBitRate) {
        fn_error(s, "VBR maxBitRate %u below averageBitRate %u", rc->maxBitRate,
                 rc->averageBitRate);
        return false;
    }
    if (rc->vbvInitialDelay > rc->vbvBufferSize) {
        fn_error(s, "vbvInitialDelay %u above vbvBufferSize %u", rc->vbvInitialDelay,
                 rc->vbvBufferSize);
        return false;
    }
    if (rc->enableLookahead || rc->multiPass != NV_ENC_MULTI_PASS_DISABLED) {
        fn_error(s, "lookahead / multipass requested (not a low-latency setup)");
        return false;
    }
    return true;
}

static bool fn_check_init(struct fn_session *s, const NV_ENC_INITIALIZE_PARAMS *ip)
{
    if (!fn_check_ver(s, "NV_ENC_INITIALIZE_PARAMS", ip->version, NV_ENC_INITIALIZE_PARAMS_VER))
        return false;
    const NV_ENC_CONFIG *c = ip->encodeConfig;
    const char *bad = NULL;
    if (!fn_guid_eq(&ip->encodeGUID, &NV_ENC_CODEC_H264_GUID))
        bad = "encodeGUID is not H.264";
    else if (!fn_preset_index(&ip->presetGUID))
        bad = "presetGUID is not one of P1..P7";
    else if (ip->tuningInfo != NV_ENC_TUNING_INFO_LOW_LATENCY &&
             ip->tuningInfo != NV_ENC_TUNING_INFO_ULTRA_LOW_LATENCY)
        bad = "tuningInfo is not (ultra) low latency";
    else if (ip->encodeWidth < 16 || ip->encodeHeight < 16 || ip->encodeWidth > FN_MAX_SIZE ||
             ip->encodeHeight > FN_MAX_SIZE || ip->encodeWidth % 2 || ip->encodeHeight % 2)
        bad = "encode size not even or outside 16..4096";
    else if (ip->maxEncodeWidth &&
             (ip->maxEncodeWidth < ip->encodeWidth || ip->maxEncodeHeight < ip->encodeHeight))
        bad = "maxEncodeWidth/Height below the encode size";
    else if (ip->frameRateNum == 0 || ip->frameRateDen == 0)
        bad = "frame rate not set";
    else if (ip->enableEncodeAsync)
        bad = "enableEncodeAsync (completion events do not exist on Linux)";
    else if (ip->enablePTD != 1)
        bad = "enablePTD must be 1 (the fake decides picture types)";
    else if (ip->bufferFormat != NV_ENC_BUFFER_FORMAT_NV12)
        bad = "bufferFormat is not NV12";
    else if (!c)
        bad = "encodeConfig is NULL";
    if (bad) {
        fn_error(s, "nvEncInitializeEncoder: %s", bad);
        return false;
    }
    if (!fn_check_ver(s, "NV_ENC_CONFIG", c->version, NV_ENC_CONFIG_VER) ||
        !fn_check_rc(s, &c->rcParams))
        return false;
    GUID avail[3];
    int n = fn_profiles(avail, 3);
    bool offered = false;
    for (int i = 0; i < n; i++)
        offered |= fn_guid_eq(&avail[i], &c->profileGUID);
    const NV_ENC_CONFIG_H264 *h = &c->encodeCodecConfig.h264Config;
    if (!offered || !fn_profile_name(&c->profileGUID))
        bad = "profileGUID is not one this encoder advertises";
    else if (c->gopLength == 0 || c->gopLength == NVENC_INFINITE_GOPLENGTH)
        bad = "gopLength not set";
    else if (h->idrPeriod != c->gopLength)
        bad = "idrPeriod differs from gopLength";
    else if (c->frameIntervalP != 1)
        bad = "frameIntervalP != 1 (B-frames)";
    else if (h->chromaFormatIDC != 1)
        bad = "chromaFormatIDC != 1";
    if (bad) {
        fn_error(s, "nvEncInitializeEncoder: %s", bad);
        return false;
    }
    return true;
}

/* x264 set up as asked. */
static x264_t *fn_open_x264(const NV_ENC_INITIALIZE_PARAMS *ip, const NV_ENC_CONFIG *c)
{
    x264_param_t xp;
    if (x264_param_default_preset(&xp, "superfast", "zerolatency") < 0)
        return NULL;
    const NV_ENC_CONFIG_H264 *h = &c->encodeCodecConfig.h264Config;
    const NV_ENC_RC_PARAMS *rc = &c->rcParams;
    xp.i_log_level = X264_LOG_WARNING;
    xp.i_threads = 1;
    xp.i_width = (int)ip->encodeWidth;
    xp.i_height = (int)ip->encodeHeight;
    xp.i_csp = X264_CSP_NV12;
    xp.i_fps_num = ip->frameRateNum;
    xp.i_fps_den = ip->frameRateDen;
    xp.i_timebase_num = ip->frameRateDen;
    xp.i_timebase_den = ip->frameRateNum;
    xp.b_vfr_input = 0;
    xp.i_keyint_max = (int)h->idrPeriod;
    xp.i_keyint_min = (int)h->idrPeriod;
    xp.i_scenecut_threshold = 0;
    xp.i_bframe = 0;
    xp.rc.i_rc_method = X264_RC_ABR;
    xp.rc.i_bitrate = (int)(rc->averageBitRate / 1000);
    bool cbr = rc->rateControlMode == NV_ENC_PARAMS_RC_CBR;
    uint32_t maxrate = cbr ? rc->averageBitRate : rc->maxBitRate;
    xp.rc.i_vbv_max_bitrate = (int)(maxrate / 1000);
    xp.rc.i_vbv_buffer_size =
        maxrate ? (int)((rc->vbvBufferSize ? rc->vbvBufferSize : 2 * maxrate) / 1000) : 0;
    xp.rc.b_filler = cbr && h->enableFillerDataInsertion;
    if (h->h264VUIParameters.colourDescriptionPresentFlag) {
        xp.vui.i_colorprim = (int)h->h264VUIParameters.colourPrimaries;
        xp.vui.i_transfer = (int)h->h264VUIParameters.transferCharacteristics;
        xp.vui.i_colmatrix = (int)h->h264VUIParameters.colourMatrix;
    }
    xp.vui.b_fullrange = (int)h->h264VUIParameters.videoFullRangeFlag;
    xp.b_repeat_headers = h->repeatSPSPPS;
    xp.b_aud = h->outputAUD;
    xp.b_annexb = 1;
    if (x264_param_apply_profile(&xp, fn_profile_name(&c->profileGUID)) < 0)
        return NULL;
    return x264_encoder_open(&xp);
}

static NVENCSTATUS NVENCAPI fn_initialize(void *enc, NV_ENC_INITIALIZE_PARAMS *ip)
{
    struct fn_session *s = enc;
    if (!fn_session_ok(s, "nvEncInitializeEncoder", false) || !ip)
        return NV_ENC_ERR_INVALID_PARAM;
    if (s->initialized) {
        fn_error(s, "nvEncInitializeEncoder called twice");
        return NV_ENC_ERR_INVALID_CALL;
    }
    if (!fn_check_init(s, ip))
        return NV_ENC_ERR_INVALID_PARAM;
    s->init = *ip;
    s->config = *ip->encodeConfig;
    s->init.encodeConfig = &s->config;
    s->x264 = fn_open_x264(ip, ip->encodeConfig);
    if (!s->x264) {
        fn_error(s, "x264 refused the configuration");
        return NV_ENC_ERR_UNSUPPORTED_PARAM;
    }
    s->initialized = true;
    const NV_ENC_RC_PARAMS *rc = &s->config.rcParams;
    snprintf(s->st.profile, sizeof(s->st.profile), "%s", fn_profile_name(&s->config.profileGUID));
    snprintf(s->st.rc_mode, sizeof(s->st.rc_mode), "%s",
             rc->rateControlMode == NV_ENC_PARAMS_RC_CBR ? "cbr" : "vbr");
    s->st.gop = s->config.gopLength;
    s->st.idr_period = s->config.encodeCodecConfig.h264Config.idrPeriod;
    s->st.bitrate = rc->averageBitRate;
    s->st.maxrate = rc->maxBitRate;
    s->st.vbv = rc->vbvBufferSize;
    s->st.fps_num = ip->frameRateNum;
    s->st.fps_den = ip->frameRateDen;
    s->st.preset = (uint32_t)fn_preset_index(&ip->presetGUID);
    s->st.tuning = (uint32_t)ip->tuningInfo;
    return NV_ENC_SUCCESS;
}

static NVENCSTATUS NVENCAPI fn_get_sequence_params(void *enc, NV_ENC_SEQUENCE_PARAM_PAYLOAD *p)
{
    struct fn_session *s = enc;
    if (!fn_session_ok(s, "nvEncGetSequenceParams", true) || !p)
        return NV_ENC_ERR_INVALID_PARAM;
    if (!fn_check_ver(s, "NV_ENC_SEQUENCE_PARAM_PAYLOAD", p->version,
                      NV_ENC_SEQUENCE_PARAM_PAYLOAD_VER))
        return NV_ENC_ERR_INVALID_VERSION;
    x264_nal_t *nals;
    int n;
    if (!p->spsppsBuffer || !p->outSPSPPSPayloadSize ||
        x264_encoder_headers(s->x264, &nals, &n) < 0) {
        fn_error(s, "nvEncGetSequenceParams: NULL buffer or size pointer");
        return NV_ENC_ERR_INVALID_PTR;
    }
    uint32_t total = 0;
    for (int i = 0; i < n; i++) {
        if (nals[i].i_type != NAL_SPS && nals[i].i_type != NAL_PPS)
            continue;
        if (total + (uint32_t)nals[i].i_payload > p->inBufferSize) {
            fn_error(s, "nvEncGetSequenceParams: inBufferSize %u too small", p->inBufferSize);
            return NV_ENC_ERR_INVALID_PARAM;
        }
        memcpy((uint8_t *)p->spsppsBuffer + total, nals[i].p_payload, (size_t)nals[i].i_payload);
        total += (uint32_t)nals[i].i_payload;
    }
    *p->outSPSPPSPayloadSize = total;
    return NV_ENC_SUCCESS;
}

/* --- the rest of the function list, and the statistics --------------------------------------- */

#define FN_UNEXPECTED(name)                                                                        \
    static NVENCSTATUS NVENCAPI fn_unexpected_##name(void)                                         \
    {                                                                                              \
        fn_error(NULL, "unexpected call %s", #name);                                               \
        return NV_ENC_ERR_UNIMPLEMENTED;                                                           \
    }
FN_UNEXPECTED(nvEncOpenEncodeSession)
FN_UNEXPECTED(nvEncGetInputFormatCount)
FN_UNEXPECTED(nvEncGetInputFormats)
FN_UNEXPECTED(nvEncGetEncodePresetCount)
FN_UNEXPECTED(nvEncGetEncodePresetGUIDs)
FN_UNEXPECTED(nvEncGetEncodePresetConfig)
FN_UNEXPECTED(nvEncGetEncodeStats)
FN_UNEXPECTED(nvEncRegisterAsyncEvent)
FN_UNEXPECTED(nvEncUnregisterAsyncEvent)
FN_UNEXPECTED(nvEncInvalidateRefFrames)
FN_UNEXPECTED(nvEncReconfigureEncoder)
FN_UNEXPECTED(nvEncCreateMVBuffer)
FN_UNEXPECTED(nvEncDestroyMVBuffer)
FN_UNEXPECTED(nvEncRunMotionEstimationOnly)
FN_UNEXPECTED(nvEncSetIOCudaStreams)
FN_UNEXPECTED(nvEncGetSequenceParamEx)

#define FN_SET_UNEXPECTED(fl, name) ((fl)->name = (void *)fn_unexpected_##name)

__attribute__((visibility("default"))) NVENCSTATUS NVENCAPI
NvEncodeAPICreateInstance(NV_ENCODE_API_FUNCTION_LIST *fl)
{
    if (!fl)
        return NV_ENC_ERR_INVALID_PTR;
    if (!fn_check_ver(NULL, "NV_ENCODE_API_FUNCTION_LIST", fl->version,
                      NV_ENCODE_API_FUNCTION_LIST_VER))
        return NV_ENC_ERR_INVALID_VERSION;
    fl->nvEncOpenEncodeSessionEx = fn_open_session_ex;
    fl->nvEncGetEncodeGUIDCount = fn_get_guid_count;
    fl->nvEncGetEncodeGUIDs = fn_get_guids;
    fl->nvEncGetEncodeProfileGUIDCount = fn_get_profile_count;
    fl->nvEncGetEncodeProfileGUIDs = fn_get_profiles;
    fl->nvEncGetEncodeCaps = fn_get_caps;
    fl->nvEncGetEncodePresetConfigEx = fn_get_preset_config_ex;
    fl->nvEncInitializeEncoder = fn_initialize;
    fl->nvEncGetSequenceParams = fn_get_sequence_params;
    fl->nvEncCreateInputBuffer = fn_create_input;
    fl->nvEncDestroyInputBuffer = fn_destroy_input;
    fl->nvEncCreateBitstreamBuffer = fn_create_bitstream;
    fl->nvEncDestroyBitstreamBuffer = fn_destroy_bitstream;
    fl->nvEncLockInputBuffer = fn_lock_input;
    fl->nvEncUnlockInputBuffer = fn_unlock_input;
    fl->nvEncRegisterResource = fn_register;
    fl->nvEncUnregisterResource = fn_unregister;
    fl->nvEncMapInputResource = fn_map;
    fl->nvEncUnmapInputResource = fn_unmap;
    fl->nvEncEncodePicture = fn_encode;
    fl->nvEncLockBitstream = fn_lock_bitstream;
    fl->nvEncUnlockBitstream = fn_unlock_bitstream;
    fl->nvEncDestroyEncoder = fn_destroy_encoder;
    fl->nvEncGetLastErrorString = fn_last_error;
    FN_SET_UNEXPECTED(fl, nvEncOpenEncodeSession);
    FN_SET_UNEXPECTED(fl, nvEncGetInputFormatCount);
    FN_SET_UNEXPECTED(fl, nvEncGetInputFormats);
    FN_SET_UNEXPECTED(fl, nvEncGetEncodePresetCount);
    FN_SET_UNEXPECTED(fl, nvEncGetEncodePresetGUIDs);
    FN_SET_UNEXPECTED(fl, nvEncGetEncodePresetConfig);
    FN_SET_UNEXPECTED(fl, nvEncGetEncodeStats);
    FN_SET_UNEXPECTED(fl, nvEncRegisterAsyncEvent);
    FN_SET_UNEXPECTED(fl, nvEncUnregisterAsyncEvent);
    FN_SET_UNEXPECTED(fl, nvEncInvalidateRefFrames);
    FN_SET_UNEXPECTED(fl, nvEncReconfigureEncoder);
    FN_SET_UNEXPECTED(fl, nvEncCreateMVBuffer);
    FN_SET_UNEXPECTED(fl, nvEncDestroyMVBuffer);
    FN_SET_UNEXPECTED(fl, nvEncRunMotionEstimationOnly);
    FN_SET_UNEXPECTED(fl, nvEncSetIOCudaStreams);
    FN_SET_UNEXPECTED(fl, nvEncGetSequenceParamEx);
    return NV_ENC_SUCCESS;
}

/* Writes the counters (this process's, cumulative) as one JSON object to $FAKE_NVENC_STATS. */
void fn_write_stats(void)
{
    const char *path = getenv("FAKE_NVENC_STATS");
    if (!path || !*path)
        return;
    struct fake_cuda_stats cs;
    fake_cuda_get_stats(&cs);
    pthread_mutex_lock(&fn_lock);
    struct fn_stats st = fn_last;
    pthread_mutex_unlock(&fn_lock);
    uint64_t opened = __atomic_load_n(&fn_sessions_opened, __ATOMIC_RELAXED);
    uint64_t destroyed = __atomic_load_n(&fn_sessions_destroyed, __ATOMIC_RELAXED);
    uint64_t errors = __atomic_load_n(&fn_errors, __ATOMIC_RELAXED) + cs.errors;
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "fake-nvenc: ERROR cannot write %s\n", path);
        return;
    }
    fprintf(f,
            "{\"sessions_opened\":%llu,\"sessions_destroyed\":%llu,\"frames_encoded\":%llu,"
            "\"idr_frames\":%llu,\"inputs_locked_buffer\":%llu,\"inputs_cuda_registered\":%llu,"
            "\"inputs_imported\":%llu,\"input_locks\":%llu,\"input_unlocks\":%llu,"
            "\"bitstream_locks\":%llu,\"bitstream_unlocks\":%llu,\"registrations\":%llu,"
            "\"unregistrations\":%llu,\"maps\":%llu,\"unmaps\":%llu,"
            "\"cuda_memcpy_htod_bytes\":%llu,\"cuda_external_imports\":%llu,"
            "\"cuda_ctx_pushes\":%llu,\"cuda_ctx_pops\":%llu,\"profile\":\"%s\","
            "\"rc_mode\":\"%s\",\"gop\":%u,\"idr_period\":%u,\"bitrate\":%u,\"maxrate\":%u,"
            "\"vbv\":%u,\"fps_num\":%u,\"fps_den\":%u,\"preset\":%u,\"tuning\":%u,"
            "\"errors\":%llu}\n",
            (unsigned long long)opened, (unsigned long long)destroyed,
            (unsigned long long)st.frames_encoded, (unsigned long long)st.idr_frames,
            (unsigned long long)st.inputs_locked_buffer,
            (unsigned long long)st.inputs_cuda_registered, (unsigned long long)st.inputs_imported,
            (unsigned long long)st.input_locks, (unsigned long long)st.input_unlocks,
            (unsigned long long)st.bitstream_locks, (unsigned long long)st.bitstream_unlocks,
            (unsigned long long)st.registrations, (unsigned long long)st.unregistrations,
            (unsigned long long)st.maps, (unsigned long long)st.unmaps,
            (unsigned long long)cs.memcpy_htod_bytes, (unsigned long long)cs.external_imports,
            (unsigned long long)cs.ctx_pushes, (unsigned long long)cs.ctx_pops, st.profile,
            st.rc_mode, st.gop, st.idr_period, st.bitrate, st.maxrate, st.vbv, st.fps_num,
            st.fps_den, st.preset, st.tuning, (unsigned long long)errors);
    fclose(f);
}

__attribute__((destructor)) static void fn_at_exit(void)
{
    if (fn_sessions_opened != fn_sessions_destroyed)
        fn_error(NULL, "leak: %llu encoder session(s) never destroyed",
                 (unsigned long long)(fn_sessions_opened - fn_sessions_destroyed));
    fn_write_stats();
}
