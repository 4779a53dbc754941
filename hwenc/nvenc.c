/*
 * nvenc — the NVIDIA hardware H.264 backend (hwenc_nvenc_ops, "nvenc").
 *
 * Sits where x264.c does: a source draws into the NV12 input buffers this backend lends, encode
 * hands Annex B access units to the muxer. libcuda.so.1 and libnvidia-encode.so.1 are loaded at
 * run time through nv-codec-headers' loader (never linked), so agentcast installs and runs on
 * machines without the NVIDIA driver; there probe and query say so. Settings come from the same
 * knobs as x264 (hwenc/nvenc_config.c does the mapping).
 *
 * Input: a pool of NVENC input buffers, each locked while lent to the source (which draws
 * straight into it: no CPU copy) and unlocked at encode; or, through import, a dmabuf mapped
 * into CUDA as external memory, registered with NVENC and mapped as the picture.
 * Encoding is synchronous: on Linux NVENC has no completion events (enableEncodeAsync is
 * Windows-only), so nvEncLockBitstream waits for the picture right after nvEncEncodePicture. The
 * hardware takes a few milliseconds for a 720p picture (NVIDIA's figures; not measured here, this
 * machine has no GPU), a small part of a 33 ms frame interval; collecting frame N while N+1 is
 * drawn instead would add a frame of latency to a live stream.
 */
#include "hwenc/hwenc.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "hwenc/nvenc_internal.h"
#include "hwenc/nvenc_priv.h"

/* The loader's own messages ("Cannot load libcuda.so.1") are kept to explain a failure. */
static _Thread_local char nvenc_loader_msg[160];

void nvenc_loader_log(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(nvenc_loader_msg, sizeof(nvenc_loader_msg), fmt, ap);
    va_end(ap);
    size_t n = strlen(nvenc_loader_msg);
    if (n > 0 && nvenc_loader_msg[n - 1] == '\n')
        nvenc_loader_msg[n - 1] = '\0';
    log_debug(NVENC_COMPONENT, "loader: %s", nvenc_loader_msg);
}

const char *nvenc_status_name(NVENCSTATUS st)
{
    /* The NVENCSTATUS values, in order. */
    /* clang-format off */
    static const char *const names[] = {
        "NV_ENC_SUCCESS", "NO_ENCODE_DEVICE", "UNSUPPORTED_DEVICE", "INVALID_ENCODERDEVICE",
        "INVALID_DEVICE", "DEVICE_NOT_EXIST", "INVALID_PTR", "INVALID_EVENT", "INVALID_PARAM",
        "INVALID_CALL", "OUT_OF_MEMORY", "ENCODER_NOT_INITIALIZED", "UNSUPPORTED_PARAM",
        "LOCK_BUSY", "NOT_ENOUGH_BUFFER", "INVALID_VERSION", "MAP_FAILED", "NEED_MORE_INPUT",
        "ENCODER_BUSY", "EVENT_NOT_REGISTERD", "GENERIC", "INCOMPATIBLE_CLIENT_KEY",
        "UNIMPLEMENTED", "RESOURCE_REGISTER_FAILED", "RESOURCE_NOT_REGISTERED",
        "RESOURCE_NOT_MAPPED"};
    /* clang-format on */
    return (size_t)st < sizeof(names) / sizeof(names[0]) ? names[st] : "unknown status";
}

/* "what failed: NV_ENC_ERR_x (driver's last error)" into why. */
void nvenc_why_status(struct nvenc_enc *e, NVENCSTATUS st, char *why, size_t why_size,
                      const char *what)
{
    const char *last = e->session && e->nv.nvEncGetLastErrorString
                           ? e->nv.nvEncGetLastErrorString(e->session)
                           : NULL;
    snprintf(why, why_size, "%s: NV_ENC_ERR_%s%s%s%s", what, nvenc_status_name(st),
             last && *last ? " (" : "", last && *last ? last : "", last && *last ? ")" : "");
}

void nvenc_why_cuda(struct nvenc_enc *e, CUresult r, char *why, size_t why_size, const char *what)
{
    const char *name = NULL;
    if (e->cu->cuGetErrorName(r, &name) != CUDA_SUCCESS || !name)
        name = "unknown CUDA error";
    snprintf(why, why_size, "%s: %s (%d)", what, name, (int)r);
}

/* Loads both libraries. Their absence is the normal case on machines without an NVIDIA GPU. */
static int nvenc_load(struct nvenc_enc *e, char *why, size_t why_size)
{
    nvenc_loader_msg[0] = '\0';
    if (cuda_load_functions(&e->cu, NULL) < 0) {
        if (strstr(nvenc_loader_msg, "Cannot load libcuda.so.1"))
            snprintf(why, why_size, "libcuda.so.1 not found: no NVIDIA driver installed");
        else
            snprintf(why, why_size, "libcuda.so.1 unusable: %s", nvenc_loader_msg);
        return -ENOENT;
    }
    nvenc_loader_msg[0] = '\0';
    if (nvenc_load_functions(&e->nvl, NULL) < 0) {
        if (strstr(nvenc_loader_msg, "Cannot load"))
            snprintf(why, why_size,
                     "libnvidia-encode.so.1 not found: the NVIDIA driver lacks its encode library");
        else
            snprintf(why, why_size, "libnvidia-encode.so.1 unusable: %s", nvenc_loader_msg);
        return -ENOENT;
    }
    return 0;
}

static int nvenc_check_version(struct nvenc_enc *e, char *why, size_t why_size)
{
    uint32_t have = 0;
    NVENCSTATUS st = e->nvl->NvEncodeAPIGetMaxSupportedVersion(&have);
    if (st != NV_ENC_SUCCESS) {
        nvenc_why_status(e, st, why, why_size, "NvEncodeAPIGetMaxSupportedVersion");
        return -EIO;
    }
    e->driver_version = have;
    uint32_t need = (NVENCAPI_MAJOR_VERSION << 4) | NVENCAPI_MINOR_VERSION;
    if (have < need) {
        snprintf(why, why_size, "driver too old: supports NVENC API %u.%u, agentcast needs ≥ %u.%u",
                 have >> 4, have & 0xf, (unsigned)NVENCAPI_MAJOR_VERSION,
                 (unsigned)NVENCAPI_MINOR_VERSION);
        return -ENOTSUP;
    }
    return 0;
}

static int nvenc_parse_device(const char *s, int *index)
{
    if (!s || !*s) {
        *index = 0;
        return 0;
    }
    char *end;
    long v = strtol(s, &end, 10);
    if (*end || v < 0 || v > 63)
        return -EINVAL;
    *index = (int)v;
    return 0;
}

/* cuInit, the device named by params->device (a CUDA index, default 0) and a context on it,
 * which is left not current (every use pushes and pops it). */
static int nvenc_cuda_init(struct nvenc_enc *e, const struct hwenc_params *p, char *why,
                           size_t why_size)
{
    CUresult r = e->cu->cuInit(0);
    if (r != CUDA_SUCCESS) {
        nvenc_why_cuda(e, r, why, why_size, "cuInit failed (no usable NVIDIA GPU?)");
        return -ENODEV;
    }
    int count = 0;
    if ((r = e->cu->cuDeviceGetCount(&count)) != CUDA_SUCCESS || count <= 0) {
        snprintf(why, why_size, "no CUDA device found");
        return -ENODEV;
    }
    if (nvenc_parse_device(p->device, &e->device) < 0 || e->device >= count) {
        snprintf(why, why_size, "--device %s: not a CUDA device index (this machine has 0..%d)",
                 p->device, count - 1);
        return -ENODEV;
    }
    CUdevice dev;
    if ((r = e->cu->cuDeviceGet(&dev, e->device)) != CUDA_SUCCESS) {
        nvenc_why_cuda(e, r, why, why_size, "cuDeviceGet");
        return -ENODEV;
    }
    if (e->cu->cuDeviceGetName(e->gpu_name, (int)sizeof(e->gpu_name), dev) != CUDA_SUCCESS)
        snprintf(e->gpu_name, sizeof(e->gpu_name), "unknown GPU");
    if ((r = e->cu->cuCtxCreate(&e->ctx, CU_CTX_SCHED_BLOCKING_SYNC, dev)) != CUDA_SUCCESS) {
        e->ctx = NULL;
        nvenc_why_cuda(e, r, why, why_size, "cuCtxCreate");
        return -ENODEV;
    }
    CUcontext dummy;
    e->cu->cuCtxPopCurrent(&dummy);
    return 0;
}

static int nvenc_open_session(struct nvenc_enc *e, char *why, size_t why_size)
{
    e->nv.version = NV_ENCODE_API_FUNCTION_LIST_VER;
    NVENCSTATUS st = e->nvl->NvEncodeAPICreateInstance(&e->nv);
    if (st != NV_ENC_SUCCESS) {
        nvenc_why_status(e, st, why, why_size, "NvEncodeAPICreateInstance");
        return -EIO;
    }
    NV_ENC_OPEN_ENCODE_SESSION_EX_PARAMS op = {
        .version = NV_ENC_OPEN_ENCODE_SESSION_EX_PARAMS_VER,
        .deviceType = NV_ENC_DEVICE_TYPE_CUDA,
        .device = e->ctx,
        .apiVersion = NVENCAPI_VERSION,
    };
    st = e->nv.nvEncOpenEncodeSessionEx(&op, &e->session);
    if (st != NV_ENC_SUCCESS) {
        e->session = NULL;
        nvenc_why_status(e, st, why, why_size, "cannot open an encode session");
        return -ENODEV;
    }
    return 0;
}

/* H.264 offered, which profiles, and the largest picture. */
static int nvenc_read_caps(struct nvenc_enc *e, char *why, size_t why_size)
{
    GUID guids[16];
    uint32_t n = 0;
    NVENCSTATUS st = e->nv.nvEncGetEncodeGUIDs(e->session, guids, 16, &n);
    bool h264 = false;
    for (uint32_t i = 0; st == NV_ENC_SUCCESS && i < n; i++)
        h264 |= memcmp(&guids[i], &NV_ENC_CODEC_H264_GUID, sizeof(GUID)) == 0;
    if (!h264) {
        snprintf(why, why_size, "this GPU's encoder offers no H.264");
        return -ENOTSUP;
    }
    n = 0;
    st = e->nv.nvEncGetEncodeProfileGUIDs(e->session, NV_ENC_CODEC_H264_GUID, guids, 16, &n);
    if (st != NV_ENC_SUCCESS) {
        nvenc_why_status(e, st, why, why_size, "nvEncGetEncodeProfileGUIDs");
        return -EIO;
    }
    e->offered = 0;
    for (uint32_t i = 0; i < n; i++) {
        int prof = nvenc_config_profile_from_guid(&guids[i]);
        if (prof >= 0)
            e->offered |= 1u << prof;
    }
    int *out[2] = {&e->max_width, &e->max_height};
    NV_ENC_CAPS caps[2] = {NV_ENC_CAPS_WIDTH_MAX, NV_ENC_CAPS_HEIGHT_MAX};
    for (int i = 0; i < 2; i++) {
        NV_ENC_CAPS_PARAM cp = {.version = NV_ENC_CAPS_PARAM_VER, .capsToQuery = caps[i]};
        *out[i] = 0;
        st = e->nv.nvEncGetEncodeCaps(e->session, NV_ENC_CODEC_H264_GUID, &cp, out[i]);
        if (st != NV_ENC_SUCCESS) {
            nvenc_why_status(e, st, why, why_size, "nvEncGetEncodeCaps");
            return -EIO;
        }
    }
    return 0;
}

/* Everything up to a session whose capabilities are known (shared by query and open). */
static int nvenc_setup_session(struct nvenc_enc *e, const struct hwenc_params *p, char *why,
                               size_t why_size)
{
    int ret;
    if ((ret = nvenc_load(e, why, why_size)) < 0 ||
        (ret = nvenc_check_version(e, why, why_size)) < 0 ||
        (ret = nvenc_cuda_init(e, p, why, why_size)) < 0 ||
        (ret = nvenc_open_session(e, why, why_size)) < 0)
        return ret;
    return nvenc_read_caps(e, why, why_size);
}

static void nvenc_profile_list(unsigned offered, char *out, size_t size)
{
    out[0] = '\0';
    for (int prof = NVENC_PROFILE_HIGH; prof >= NVENC_PROFILE_BASELINE; prof--)
        if (offered & (1u << prof))
            snprintf(out + strlen(out), size - strlen(out), "%s%s", out[0] ? "," : "",
                     nvenc_config_profile_name(prof));
}

/* Checks the knobs against the device, and chooses preset, tuning and profile. */
static int nvenc_choose(struct nvenc_enc *e, const struct hwenc_params *p, int *preset, char *why,
                        size_t why_size)
{
    if (p->width < 16 || p->height < 16 || p->width % 2 || p->height % 2 ||
        (e->max_width && p->width > e->max_width) || (e->max_height && p->height > e->max_height)) {
        snprintf(why, why_size, "size %dx%d not even or outside 16x16..%dx%d", p->width, p->height,
                 e->max_width, e->max_height);
        return -EINVAL;
    }
    if (p->fps_num <= 0 || p->fps_den <= 0 || p->bitrate_kbps <= 0 || p->maxrate_kbps < 0 ||
        p->bufsize_kbit < 0 || p->keyint_frames <= 0 ||
        (p->rc_mode != HWENC_RC_CBR && p->rc_mode != HWENC_RC_VBR)) {
        snprintf(why, why_size, "invalid rate, bitrate, buffer or keyint");
        return -EINVAL;
    }
    *preset = nvenc_config_preset_level(p->preset);
    if (*preset == 0) {
        snprintf(why, why_size, "unknown preset %s", p->preset);
        return -EINVAL;
    }
    int want = nvenc_config_profile_parse(p->profile);
    if (want < 0) {
        snprintf(why, why_size, "unknown profile %s", p->profile);
        return -EINVAL;
    }
    e->profile = nvenc_config_profile_pick(want, e->offered);
    if (e->profile < 0) {
        char list[64];
        nvenc_profile_list(e->offered, list, sizeof(list));
        snprintf(why, why_size, "profile %s or lower not offered (encoder has: %s)",
                 nvenc_config_profile_name(want), list[0] ? list : "none");
        return -ENOTSUP;
    }
    if (e->profile != want)
        log_info(NVENC_COMPONENT, "profile %s not offered by this GPU, using %s",
                 nvenc_config_profile_name(want), nvenc_config_profile_name(e->profile));
    return 0;
}

static int nvenc_initialize(struct nvenc_enc *e, const struct hwenc_params *p, char *why,
                            size_t why_size)
{
    int preset;
    int ret = nvenc_choose(e, p, &preset, why, why_size);
    if (ret < 0)
        return ret;
    NV_ENC_PRESET_CONFIG pc = {.version = NV_ENC_PRESET_CONFIG_VER,
                               .presetCfg = {.version = NV_ENC_CONFIG_VER}};
    NVENCSTATUS st = e->nv.nvEncGetEncodePresetConfigEx(e->session, NV_ENC_CODEC_H264_GUID,
                                                        *nvenc_config_preset_guid(preset),
                                                        nvenc_config_tuning(p->tune), &pc);
    if (st != NV_ENC_SUCCESS) {
        nvenc_why_status(e, st, why, why_size, "nvEncGetEncodePresetConfigEx");
        return -EIO;
    }
    e->config = pc.presetCfg;
    nvenc_config_apply(&e->config, p, e->profile);
    nvenc_config_init_params(&e->init, &e->config, p, preset);
    if ((st = e->nv.nvEncInitializeEncoder(e->session, &e->init)) != NV_ENC_SUCCESS) {
        nvenc_why_status(e, st, why, why_size, "nvEncInitializeEncoder refused the settings");
        return -EINVAL;
    }
    uint32_t size = 0;
    NV_ENC_SEQUENCE_PARAM_PAYLOAD sp = {
        .version = NV_ENC_SEQUENCE_PARAM_PAYLOAD_VER,
        .inBufferSize = sizeof(e->extradata),
        .spsppsBuffer = e->extradata,
        .outSPSPPSPayloadSize = &size,
    };
    if ((st = e->nv.nvEncGetSequenceParams(e->session, &sp)) != NV_ENC_SUCCESS || size == 0) {
        nvenc_why_status(e, st, why, why_size, "nvEncGetSequenceParams gave no SPS/PPS");
        return -EIO;
    }
    e->extradata_size = size;
    snprintf(e->description, sizeof(e->description), "nvenc %s P%d/%s %s", e->gpu_name, preset,
             e->init.tuningInfo == NV_ENC_TUNING_INFO_ULTRA_LOW_LATENCY ? "ull" : "ll",
             e->profile == NVENC_PROFILE_HIGH   ? "High"
             : e->profile == NVENC_PROFILE_MAIN ? "Main"
                                                : "Baseline");
    return 0;
}

static int nvenc_alloc_buffers(struct nvenc_enc *e, char *why, size_t why_size)
{
    for (int i = 0; i < NVENC_INPUT_BUFFERS; i++) {
        NV_ENC_CREATE_INPUT_BUFFER cb = {
            .version = NV_ENC_CREATE_INPUT_BUFFER_VER,
            .width = (uint32_t)e->base.params.width,
            .height = (uint32_t)e->base.params.height,
            .bufferFmt = NV_ENC_BUFFER_FORMAT_NV12,
        };
        NVENCSTATUS st = e->nv.nvEncCreateInputBuffer(e->session, &cb);
        if (st != NV_ENC_SUCCESS) {
            nvenc_why_status(e, st, why, why_size, "nvEncCreateInputBuffer");
            return -ENOMEM;
        }
        e->inputs[i].buffer = cb.inputBuffer;
    }
    NV_ENC_CREATE_BITSTREAM_BUFFER bb = {.version = NV_ENC_CREATE_BITSTREAM_BUFFER_VER};
    NVENCSTATUS st = e->nv.nvEncCreateBitstreamBuffer(e->session, &bb);
    if (st != NV_ENC_SUCCESS) {
        nvenc_why_status(e, st, why, why_size, "nvEncCreateBitstreamBuffer");
        return -ENOMEM;
    }
    e->bitstream = bb.bitstreamBuffer;
    e->bitstream_ok = true;
    return 0;
}

static void nvenc_close(struct hwenc *enc)
{
    if (!enc)
        return;
    struct nvenc_enc *e = (struct nvenc_enc *)enc;
    if (e->session) {
        nvenc_import_release(e);
        for (int i = 0; i < NVENC_INPUT_BUFFERS; i++) {
            if (e->inputs[i].locked)
                e->nv.nvEncUnlockInputBuffer(e->session, e->inputs[i].buffer);
            if (e->inputs[i].buffer)
                e->nv.nvEncDestroyInputBuffer(e->session, e->inputs[i].buffer);
        }
        if (e->bitstream_ok)
            e->nv.nvEncDestroyBitstreamBuffer(e->session, e->bitstream);
        e->nv.nvEncDestroyEncoder(e->session);
    }
    if (e->ctx)
        e->cu->cuCtxDestroy(e->ctx);
    nvenc_free_functions(&e->nvl);
    cuda_free_functions(&e->cu);
    hwenc_params_release(e->names);
    free(e);
}

/* open without logging: probe reports why itself (a missing driver is not an error there). */
static int nvenc_open_quiet(struct hwenc **out, const struct hwenc_params *params, char *why,
                            size_t why_size)
{
    *out = NULL;
    struct nvenc_enc *e = calloc(1, sizeof(*e));
    if (!e) {
        snprintf(why, why_size, "out of memory");
        return -ENOMEM;
    }
    e->base.ops = &hwenc_nvenc_ops;
    e->base.params = *params;
    e->lent = -1;
    e->last_idr_pts = INT64_MIN;
    int ret = hwenc_params_own(&e->base.params, e->names);
    if (ret < 0)
        snprintf(why, why_size, "out of memory");
    if (ret < 0 || (ret = nvenc_setup_session(e, params, why, why_size)) < 0 ||
        (ret = nvenc_initialize(e, params, why, why_size)) < 0 ||
        (ret = nvenc_alloc_buffers(e, why, why_size)) < 0) {
        nvenc_close(&e->base);
        return ret;
    }
    e->base.extradata = e->extradata;
    e->base.extradata_size = e->extradata_size;
    e->base.description = e->description;
    *out = &e->base;
    return 0;
}

static int nvenc_open(struct hwenc **out, const struct hwenc_params *params)
{
    char why[256] = "";
    int ret = nvenc_open_quiet(out, params, why, sizeof(why));
    if (ret < 0) {
        log_error(NVENC_COMPONENT, "cannot open: %s", why);
        return ret;
    }
    const struct nvenc_enc *e = (const struct nvenc_enc *)*out;
    log_debug(NVENC_COMPONENT,
              "opened %s size=%dx%d fps=%d/%d bitrate=%uk maxrate=%uk "
              "vbv=%uk keyint=%d",
              e->description, params->width, params->height, params->fps_num, params->fps_den,
              e->config.rcParams.averageBitRate / 1000, e->config.rcParams.maxBitRate / 1000,
              e->config.rcParams.vbvBufferSize / 1000, params->keyint_frames);
    return 0;
}

/* Lends the next pool buffer, locked for the source to draw into. A buffer lent and never
 * encoded (the source failed) is lent again. */
static int nvenc_get_input(struct hwenc *enc, struct frame **frame)
{
    struct nvenc_enc *e = (struct nvenc_enc *)enc;
    if (e->lent < 0) {
        struct nvenc_input *in = &e->inputs[e->next_input];
        NV_ENC_LOCK_INPUT_BUFFER lk = {.version = NV_ENC_LOCK_INPUT_BUFFER_VER,
                                       .inputBuffer = in->buffer};
        NVENCSTATUS st = e->nv.nvEncLockInputBuffer(e->session, &lk);
        if (st != NV_ENC_SUCCESS) {
            char why[192];
            nvenc_why_status(e, st, why, sizeof(why), "nvEncLockInputBuffer");
            log_error(NVENC_COMPONENT, "%s", why);
            return -EIO;
        }
        in->locked = true;
        struct frame *f = &in->frame;
        f->width = e->base.params.width;
        f->height = e->base.params.height;
        f->format = FRAME_FORMAT_NV12;
        f->data[0] = lk.bufferDataPtr;
        f->data[1] = (uint8_t *)lk.bufferDataPtr + (size_t)lk.pitch * (size_t)f->height;
        f->data[2] = NULL;
        f->linesize[0] = (int)lk.pitch;
        f->linesize[1] = (int)lk.pitch;
        f->linesize[2] = 0;
        f->buffer_id = (unsigned)e->next_input;
        e->lent = e->next_input;
        e->next_input = (e->next_input + 1) % NVENC_INPUT_BUFFERS;
    }
    struct frame *f = &e->inputs[e->lent].frame;
    f->pts = 0;
    f->capture_ns = 0;
    f->unchanged = false;
    f->copied_bytes = 0;
    *frame = f;
    return 0;
}

/* Which NVENC input the frame is, and its pitch; the pool buffer is unlocked for the encoder. */
static int nvenc_take_input(struct nvenc_enc *e, const struct frame *frame, NV_ENC_INPUT_PTR *in,
                            uint32_t *pitch)
{
    if (e->import.active && frame == &e->import.frame) {
        *in = e->import.mapped;
        *pitch = e->import.pitch;
        return 0;
    }
    if (e->lent < 0 || frame != &e->inputs[e->lent].frame) {
        log_error(NVENC_COMPONENT, "encode: frame was not lent by this encoder");
        return -EINVAL;
    }
    struct nvenc_input *buf = &e->inputs[e->lent];
    e->lent = -1;
    buf->locked = false;
    NVENCSTATUS st = e->nv.nvEncUnlockInputBuffer(e->session, buf->buffer);
    if (st != NV_ENC_SUCCESS) {
        char why[192];
        nvenc_why_status(e, st, why, sizeof(why), "nvEncUnlockInputBuffer");
        log_error(NVENC_COMPONENT, "%s", why);
        return -EIO;
    }
    *in = buf->buffer;
    *pitch = (uint32_t)buf->frame.linesize[0];
    return 0;
}

/* Collects the picture just submitted (synchronous: see the head of this file) and emits it. */
static int nvenc_collect(struct nvenc_enc *e, const struct frame *frame,
                         const struct packet_sink *sink)
{
    NV_ENC_LOCK_BITSTREAM lb = {.version = NV_ENC_LOCK_BITSTREAM_VER,
                                .outputBitstream = e->bitstream};
    NVENCSTATUS st = e->nv.nvEncLockBitstream(e->session, &lb);
    if (st != NV_ENC_SUCCESS) {
        char why[192];
        nvenc_why_status(e, st, why, sizeof(why), "nvEncLockBitstream");
        log_error(NVENC_COMPONENT, "%s", why);
        return -EIO;
    }
    struct h264_packet pkt = {
        .data = lb.bitstreamBufferPtr,
        .size = lb.bitstreamSizeInBytes,
        .pts = (int64_t)lb.outputTimeStamp,
        .dts = (int64_t)lb.outputTimeStamp,
        .keyframe = lb.pictureType == NV_ENC_PIC_TYPE_IDR,
        .capture_ns = frame->capture_ns,
    };
    if (pkt.keyframe)
        e->last_idr_pts = pkt.pts;
    int ret = pkt.size > 0 ? sink->emit(sink->opaque, &pkt) : 0;
    st = e->nv.nvEncUnlockBitstream(e->session, e->bitstream);
    if (st != NV_ENC_SUCCESS && ret == 0) {
        log_error(NVENC_COMPONENT, "nvEncUnlockBitstream: NV_ENC_ERR_%s", nvenc_status_name(st));
        ret = -EIO;
    }
    return ret;
}

/* A negative errno here means the device failed: the pipeline then falls back to x264. */
static int nvenc_encode(struct hwenc *enc, struct frame *frame, const struct packet_sink *sink)
{
    struct nvenc_enc *e = (struct nvenc_enc *)enc;
    NV_ENC_INPUT_PTR input;
    uint32_t pitch;
    int ret = nvenc_take_input(e, frame, &input, &pitch);
    if (ret < 0)
        return ret;
    NV_ENC_PIC_PARAMS pp = {
        .version = NV_ENC_PIC_PARAMS_VER,
        .inputWidth = (uint32_t)e->base.params.width,
        .inputHeight = (uint32_t)e->base.params.height,
        .inputPitch = pitch,
        .frameIdx = e->frame_idx++,
        .inputTimeStamp = (uint64_t)frame->pts,
        .inputBuffer = input,
        .outputBitstream = e->bitstream,
        .bufferFmt = NV_ENC_BUFFER_FORMAT_NV12,
        .pictureStruct = NV_ENC_PIC_STRUCT_FRAME,
    };
    /* Keyframes on the frame clock: the pipeline skips a tick now and then under load, which
     * the driver's own GOP count (in pictures) would not see. */
    if (e->last_idr_pts == INT64_MIN ||
        frame->pts - e->last_idr_pts >= e->base.params.keyint_frames)
        pp.encodePicFlags |= NV_ENC_PIC_FLAG_FORCEIDR;
    NVENCSTATUS st = e->nv.nvEncEncodePicture(e->session, &pp);
    if (st != NV_ENC_SUCCESS) {
        char why[192];
        nvenc_why_status(e, st, why, sizeof(why), "nvEncEncodePicture");
        log_error(NVENC_COMPONENT, "%s pts=%lld", why, (long long)frame->pts);
        nvenc_import_release(e);
        return -EIO;
    }
    ret = nvenc_collect(e, frame, sink);
    if (e->import.active)
        nvenc_import_release(e);
    return ret;
}

/* Every picture was collected in encode; the end-of-stream marker only tells the driver. */
static int nvenc_flush(struct hwenc *enc, const struct packet_sink *sink)
{
    (void)sink;
    struct nvenc_enc *e = (struct nvenc_enc *)enc;
    NV_ENC_PIC_PARAMS pp = {.version = NV_ENC_PIC_PARAMS_VER,
                            .encodePicFlags = NV_ENC_PIC_FLAG_EOS};
    NVENCSTATUS st = e->nv.nvEncEncodePicture(e->session, &pp);
    if (st != NV_ENC_SUCCESS) {
        log_error(NVENC_COMPONENT, "end of stream: NV_ENC_ERR_%s", nvenc_status_name(st));
        return -EIO;
    }
    return 0;
}

/* A real one-frame encode of a mid-grey picture. */
static int nvenc_probe(const struct hwenc_params *params, char *why, size_t why_size)
{
    struct hwenc *enc;
    int ret = nvenc_open_quiet(&enc, params, why, why_size);
    return ret < 0 ? ret : hwenc_test_encode(enc, why, why_size);
}

static int nvenc_query(const struct hwenc_params *params, struct hwenc_caps *caps, char *why,
                       size_t why_size)
{
    memset(caps, 0, sizeof(*caps));
    struct nvenc_enc *e = calloc(1, sizeof(*e));
    if (!e) {
        snprintf(why, why_size, "out of memory");
        return -ENOMEM;
    }
    e->lent = -1;
    int ret = nvenc_setup_session(e, params, why, why_size);
    if (e->gpu_name[0])
        snprintf(caps->device, sizeof(caps->device), "GPU %d: %s", e->device, e->gpu_name);
    if (e->driver_version)
        snprintf(caps->driver, sizeof(caps->driver), "NVENC API %d.%d (driver supports %u.%u)",
                 NVENCAPI_MAJOR_VERSION, NVENCAPI_MINOR_VERSION, e->driver_version >> 4,
                 e->driver_version & 0xf);
    if (ret == 0) {
        nvenc_profile_list(e->offered, caps->profiles, sizeof(caps->profiles));
        caps->max_width = e->max_width;
        caps->max_height = e->max_height;
        snprintf(why, why_size, "ok");
    }
    nvenc_close(&e->base);
    return ret;
}

const struct hwenc_ops hwenc_nvenc_ops = {
    .name = "nvenc",
    .query = nvenc_query,
    .probe = nvenc_probe,
    .open = nvenc_open,
    .get_input = nvenc_get_input,
    .import = nvenc_import_dmabuf,
    .encode = nvenc_encode,
    .flush = nvenc_flush,
    .close = nvenc_close,
};
