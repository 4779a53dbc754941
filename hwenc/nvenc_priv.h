/*
 * nvenc_priv — the NVENC backend's state, shared by hwenc/nvenc.c (loading, session, lent input
 * buffers, encode, probe, query) and hwenc/nvenc_import.c (dmabuf import). Not an API: only
 * those two files include it.
 */
#ifndef AGENTCAST_HWENC_NVENC_PRIV_H
#define AGENTCAST_HWENC_NVENC_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hwenc/hwenc.h"

#define NVENC_COMPONENT "nvenc"

/* nv-codec-headers' loader reports through FFNV_LOG_FUNC; ours logs at debug level and keeps the
 * message so that a failed load can say why (hwenc/nvenc.c). */
void nvenc_loader_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
#define FFNV_LOG_FUNC(logctx, msg, ...) nvenc_loader_log((msg), __VA_ARGS__)
#define FFNV_DEBUG_LOG_FUNC(logctx, msg, ...)
#include <ffnvcodec/dynlink_loader.h>

/* Input buffers in the pool (buffer_id 0..n-1). Two, so that the buffer just submitted is not
 * the next one locked: a driver may hold an input until the hardware has read it. */
#define NVENC_INPUT_BUFFERS 2
#define NVENC_IMPORT_BUFFER_ID NVENC_INPUT_BUFFERS

struct nvenc_input {
    NV_ENC_INPUT_PTR buffer;
    bool locked;
    struct frame frame;
};

/* One imported dmabuf, alive from import until its picture is encoded. */
struct nvenc_import {
    bool active;
    CUexternalMemory ext;
    CUdeviceptr dptr;
    NV_ENC_REGISTERED_PTR registered;
    NV_ENC_INPUT_PTR mapped;
    uint32_t pitch;
    struct frame frame;
};

struct nvenc_enc {
    struct hwenc base; /* first: the hwenc API hands out &base */
    CudaFunctions *cu;
    NvencFunctions *nvl;
    NV_ENCODE_API_FUNCTION_LIST nv;
    CUcontext ctx;
    void *session;
    int device;
    char gpu_name[96];
    uint32_t driver_version; /* NvEncodeAPIGetMaxSupportedVersion: major << 4 | minor */
    unsigned offered;        /* profiles offered, 1 << enum nvenc_profile */
    int max_width, max_height;
    int profile;
    NV_ENC_CONFIG config;
    NV_ENC_INITIALIZE_PARAMS init;
    struct nvenc_input inputs[NVENC_INPUT_BUFFERS];
    int lent; /* index of the input lent to the source, or -1 */
    int next_input;
    NV_ENC_OUTPUT_PTR bitstream;
    bool bitstream_ok;
    struct nvenc_import import;
    uint32_t frame_idx;
    int64_t last_idr_pts; /* pts of the last IDR out, INT64_MIN before the first */
    uint8_t extradata[NV_MAX_SEQ_HDR_LEN];
    size_t extradata_size;
    char description[128];
    char *names[HWENC_PARAM_STRINGS]; /* owned copies of preset, tune, profile, device */
};

const char *nvenc_status_name(NVENCSTATUS st);
/* Writes "what: NV_ENC_ERR_<name> (the driver's last error)" into why. */
void nvenc_why_status(struct nvenc_enc *e, NVENCSTATUS st, char *why, size_t why_size,
                      const char *what);
/* Writes "what: CUDA_ERROR_<name> (code)" into why. */
void nvenc_why_cuda(struct nvenc_enc *e, CUresult r, char *why, size_t why_size, const char *what);

/* hwenc_ops.import (hwenc/nvenc_import.c). */
int nvenc_import_dmabuf(struct hwenc *enc, const struct frame_dmabuf *d, struct frame **frame);
/* Undoes the current import, if any; safe to call when there is none. */
void nvenc_import_release(struct nvenc_enc *e);

#endif
