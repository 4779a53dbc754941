/*
 * fake_nvenc_buffers — the half of the fake libnvidia-encode.so.1 (test-only) that handles what a
 * session hands out and takes back: input and bitstream buffers, registered and mapped CUDA
 * resources, and the encode itself (x264 on the pixels behind the input). Every handle is
 * remembered until the session ends, so use after destroy and double destroy are recognised.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake_cuda.h"
#include "fake_nvenc.h"

/* --- objects ------------------------------------------------------------------------------------
 */

static struct fn_object *fn_new_object(struct fn_session *s, enum fn_kind kind)
{
    if (s->n_objects == FN_MAX_OBJECTS) {
        fn_error(s, "more than %d buffers/resources in one session (leaking?)", FN_MAX_OBJECTS);
        return NULL;
    }
    struct fn_object *o = calloc(1, sizeof(*o));
    if (!o)
        return NULL;
    o->kind = kind;
    o->session = s;
    s->objects[s->n_objects++] = o;
    return o;
}

static const char *fn_kind_name(enum fn_kind k)
{
    switch (k) {
    case FN_INPUT:
        return "input buffer";
    case FN_BITSTREAM:
        return "bitstream buffer";
    case FN_REGISTERED:
        return "registered resource";
    default:
        return "mapped resource";
    }
}

/* The live object of that kind behind handle h; reports use after destroy and strangers. */
static struct fn_object *fn_find(struct fn_session *s, void *h, enum fn_kind kind, const char *fn)
{
    for (int i = 0; i < s->n_objects; i++) {
        struct fn_object *o = s->objects[i];
        if (o != h)
            continue;
        if (o->kind != kind) {
            fn_error(s, "%s: handle is a %s, not a %s", fn, fn_kind_name(o->kind),
                     fn_kind_name(kind));
            return NULL;
        }
        if (o->destroyed) {
            fn_error(s, "%s: %s used after destroy", fn, fn_kind_name(kind));
            return NULL;
        }
        return o;
    }
    fn_error(s, "%s: unknown %s handle %p", fn, fn_kind_name(kind), h);
    return NULL;
}

NVENCSTATUS NVENCAPI fn_create_input(void *enc, NV_ENC_CREATE_INPUT_BUFFER *p)
{
    struct fn_session *s = enc;
    if (!fn_session_ok(s, "nvEncCreateInputBuffer", true) || !p)
        return NV_ENC_ERR_INVALID_PARAM;
    if (!fn_check_ver(s, "NV_ENC_CREATE_INPUT_BUFFER", p->version, NV_ENC_CREATE_INPUT_BUFFER_VER))
        return NV_ENC_ERR_INVALID_VERSION;
    if (p->width != s->init.encodeWidth || p->height != s->init.encodeHeight ||
        p->bufferFmt != NV_ENC_BUFFER_FORMAT_NV12 || p->pSysMemBuffer) {
        fn_error(s, "nvEncCreateInputBuffer: %ux%u format %#x (want %ux%u NV12)", p->width,
                 p->height, p->bufferFmt, s->init.encodeWidth, s->init.encodeHeight);
        return NV_ENC_ERR_INVALID_PARAM;
    }
    struct fn_object *o = fn_new_object(s, FN_INPUT);
    if (!o)
        return NV_ENC_ERR_OUT_OF_MEMORY;
    o->width = p->width;
    o->height = p->height;
    o->pitch = (p->width + FN_INPUT_PITCH_ALIGN - 1) / FN_INPUT_PITCH_ALIGN * FN_INPUT_PITCH_ALIGN;
    o->data = calloc(1, (size_t)o->pitch * p->height * 3 / 2);
    if (!o->data)
        return NV_ENC_ERR_OUT_OF_MEMORY;
    p->inputBuffer = o;
    return NV_ENC_SUCCESS;
}

static NVENCSTATUS fn_destroy_object(void *enc, void *h, enum fn_kind kind, const char *fn)
{
    struct fn_session *s = enc;
    if (!fn_session_ok(s, fn, true))
        return NV_ENC_ERR_INVALID_PARAM;
    for (int i = 0; i < s->n_objects; i++) {
        if (s->objects[i] == h && s->objects[i]->destroyed) {
            fn_error(s, "%s: %s destroyed twice", fn, fn_kind_name(kind));
            return NV_ENC_ERR_INVALID_PARAM;
        }
    }
    struct fn_object *o = fn_find(s, h, kind, fn);
    if (!o)
        return NV_ENC_ERR_INVALID_PARAM;
    if (o->locked) {
        fn_error(s, "%s: %s still locked", fn, fn_kind_name(kind));
        return NV_ENC_ERR_INVALID_CALL;
    }
    if (o->mapping) {
        fn_error(s, "%s: resource still mapped", fn);
        return NV_ENC_ERR_INVALID_CALL;
    }
    o->destroyed = true;
    return NV_ENC_SUCCESS;
}

NVENCSTATUS NVENCAPI fn_destroy_input(void *enc, NV_ENC_INPUT_PTR h)
{
    return fn_destroy_object(enc, h, FN_INPUT, "nvEncDestroyInputBuffer");
}

NVENCSTATUS NVENCAPI fn_create_bitstream(void *enc, NV_ENC_CREATE_BITSTREAM_BUFFER *p)
{
    struct fn_session *s = enc;
    if (!fn_session_ok(s, "nvEncCreateBitstreamBuffer", true) || !p)
        return NV_ENC_ERR_INVALID_PARAM;
    if (!fn_check_ver(s, "NV_ENC_CREATE_BITSTREAM_BUFFER", p->version,
                      NV_ENC_CREATE_BITSTREAM_BUFFER_VER))
        return NV_ENC_ERR_INVALID_VERSION;
    struct fn_object *o = fn_new_object(s, FN_BITSTREAM);
    if (!o)
        return NV_ENC_ERR_OUT_OF_MEMORY;
    o->cap = (size_t)s->init.encodeWidth * s->init.encodeHeight * 2 + 65536;
    o->data = malloc(o->cap);
    if (!o->data)
        return NV_ENC_ERR_OUT_OF_MEMORY;
    p->bitstreamBuffer = o;
    return NV_ENC_SUCCESS;
}

NVENCSTATUS NVENCAPI fn_destroy_bitstream(void *enc, NV_ENC_OUTPUT_PTR h)
{
    return fn_destroy_object(enc, h, FN_BITSTREAM, "nvEncDestroyBitstreamBuffer");
}

NVENCSTATUS NVENCAPI fn_lock_input(void *enc, NV_ENC_LOCK_INPUT_BUFFER *p)
{
    struct fn_session *s = enc;
    if (!fn_session_ok(s, "nvEncLockInputBuffer", true) || !p)
        return NV_ENC_ERR_INVALID_PARAM;
    if (!fn_check_ver(s, "NV_ENC_LOCK_INPUT_BUFFER", p->version, NV_ENC_LOCK_INPUT_BUFFER_VER))
        return NV_ENC_ERR_INVALID_VERSION;
    struct fn_object *o = fn_find(s, p->inputBuffer, FN_INPUT, "nvEncLockInputBuffer");
    if (!o)
        return NV_ENC_ERR_INVALID_PARAM;
    if (o->locked) {
        fn_error(s, "nvEncLockInputBuffer: buffer already locked");
        return NV_ENC_ERR_LOCK_BUSY;
    }
    o->locked = true;
    p->bufferDataPtr = o->data;
    p->pitch = o->pitch;
    s->st.input_locks++;
    return NV_ENC_SUCCESS;
}

NVENCSTATUS NVENCAPI fn_unlock_input(void *enc, NV_ENC_INPUT_PTR h)
{
    struct fn_session *s = enc;
    if (!fn_session_ok(s, "nvEncUnlockInputBuffer", true))
        return NV_ENC_ERR_INVALID_PARAM;
    struct fn_object *o = fn_find(s, h, FN_INPUT, "nvEncUnlockInputBuffer");
    if (!o)
        return NV_ENC_ERR_INVALID_PARAM;
    if (!o->locked) {
        fn_error(s, "nvEncUnlockInputBuffer: buffer not locked");
        return NV_ENC_ERR_INVALID_CALL;
    }
    o->locked = false;
    s->st.input_unlocks++;
    return NV_ENC_SUCCESS;
}

NVENCSTATUS NVENCAPI fn_register(void *enc, NV_ENC_REGISTER_RESOURCE *p)
{
    struct fn_session *s = enc;
    if (!fn_session_ok(s, "nvEncRegisterResource", true) || !p)
        return NV_ENC_ERR_INVALID_PARAM;
    if (!fn_check_ver(s, "NV_ENC_REGISTER_RESOURCE", p->version, NV_ENC_REGISTER_RESOURCE_VER))
        return NV_ENC_ERR_INVALID_VERSION;
    const char *bad = NULL;
    if (p->resourceType != NV_ENC_INPUT_RESOURCE_TYPE_CUDADEVICEPTR)
        bad = "resourceType is not CUDADEVICEPTR";
    else if (p->width != s->init.encodeWidth || p->height != s->init.encodeHeight)
        bad = "size differs from the encode size";
    else if (p->pitch < p->width || p->pitch % 4)
        bad = "pitch below the width or not a multiple of 4";
    else if (p->bufferFormat != NV_ENC_BUFFER_FORMAT_NV12 || p->bufferUsage != NV_ENC_INPUT_IMAGE)
        bad = "not an NV12 input image";
    else if ((uintptr_t)p->resourceToRegister % 256)
        bad = "device pointer not 256-byte aligned";
    if (bad) {
        fn_error(s, "nvEncRegisterResource: %s (%ux%u pitch %u)", bad, p->width, p->height,
                 p->pitch);
        return NV_ENC_ERR_INVALID_PARAM;
    }
    uint64_t ptr = (uint64_t)(uintptr_t)p->resourceToRegister;
    int kind = fake_cuda_ptr_kind(ptr, (size_t)p->pitch * p->height * 3 / 2);
    if (kind < 0) {
        fn_error(s, "nvEncRegisterResource: %#llx+%u*%u*3/2 is not live CUDA memory",
                 (unsigned long long)ptr, p->pitch, p->height);
        return NV_ENC_ERR_RESOURCE_REGISTER_FAILED;
    }
    struct fn_object *o = fn_new_object(s, FN_REGISTERED);
    if (!o)
        return NV_ENC_ERR_OUT_OF_MEMORY;
    o->devptr = ptr;
    o->mem_kind = kind;
    o->width = p->width;
    o->height = p->height;
    o->pitch = p->pitch;
    p->registeredResource = o;
    s->st.registrations++;
    return NV_ENC_SUCCESS;
}

NVENCSTATUS NVENCAPI fn_unregister(void *enc, NV_ENC_REGISTERED_PTR h)
{
    NVENCSTATUS st = fn_destroy_object(enc, h, FN_REGISTERED, "nvEncUnregisterResource");
    if (st == NV_ENC_SUCCESS)
        ((struct fn_session *)enc)->st.unregistrations++;
    return st;
}

NVENCSTATUS NVENCAPI fn_map(void *enc, NV_ENC_MAP_INPUT_RESOURCE *p)
{
    struct fn_session *s = enc;
    if (!fn_session_ok(s, "nvEncMapInputResource", true) || !p)
        return NV_ENC_ERR_INVALID_PARAM;
    if (!fn_check_ver(s, "NV_ENC_MAP_INPUT_RESOURCE", p->version, NV_ENC_MAP_INPUT_RESOURCE_VER))
        return NV_ENC_ERR_INVALID_VERSION;
    struct fn_object *r = fn_find(s, p->registeredResource, FN_REGISTERED, "nvEncMapInputResource");
    if (!r)
        return NV_ENC_ERR_RESOURCE_NOT_REGISTERED;
    if (r->mapping) {
        fn_error(s, "nvEncMapInputResource: resource already mapped");
        return NV_ENC_ERR_INVALID_CALL;
    }
    struct fn_object *m = fn_new_object(s, FN_MAPPED);
    if (!m)
        return NV_ENC_ERR_OUT_OF_MEMORY;
    m->registered = r;
    r->mapping = m;
    p->mappedResource = m;
    p->mappedBufferFmt = NV_ENC_BUFFER_FORMAT_NV12;
    s->st.maps++;
    return NV_ENC_SUCCESS;
}

NVENCSTATUS NVENCAPI fn_unmap(void *enc, NV_ENC_INPUT_PTR h)
{
    struct fn_session *s = enc;
    if (!fn_session_ok(s, "nvEncUnmapInputResource", true))
        return NV_ENC_ERR_INVALID_PARAM;
    struct fn_object *m = fn_find(s, h, FN_MAPPED, "nvEncUnmapInputResource");
    if (!m)
        return NV_ENC_ERR_RESOURCE_NOT_MAPPED;
    m->destroyed = true;
    m->registered->mapping = NULL;
    s->st.unmaps++;
    return NV_ENC_SUCCESS;
}

/* --- encoding -----------------------------------------------------------------------------------
 */

/* The pixels behind the picture's input and how they were filled (counted per frame). */
static bool fn_resolve_input(struct fn_session *s, void *h, uint8_t **data, uint32_t *pitch)
{
    for (int i = 0; i < s->n_objects; i++) {
        struct fn_object *o = s->objects[i];
        if (o != h)
            continue;
        if (o->destroyed) {
            fn_error(s, "nvEncEncodePicture: %s used after destroy", fn_kind_name(o->kind));
            return false;
        }
        if (o->kind == FN_INPUT) {
            if (o->locked) {
                fn_error(s, "nvEncEncodePicture: input buffer still locked");
                return false;
            }
            *data = o->data;
            *pitch = o->pitch;
            s->st.inputs_locked_buffer++;
            return true;
        }
        if (o->kind == FN_MAPPED) {
            struct fn_object *r = o->registered;
            if (fake_cuda_ptr_kind(r->devptr, (size_t)r->pitch * r->height * 3 / 2) < 0) {
                fn_error(s, "nvEncEncodePicture: the registered CUDA memory was freed");
                return false;
            }
            *data = (uint8_t *)(uintptr_t)r->devptr;
            *pitch = r->pitch;
            if (r->mem_kind == FAKE_CUDA_MEM_EXTERNAL)
                s->st.inputs_imported++;
            else
                s->st.inputs_cuda_registered++;
            return true;
        }
        fn_error(s, "nvEncEncodePicture: inputBuffer is a %s", fn_kind_name(o->kind));
        return false;
    }
    fn_error(s, "nvEncEncodePicture: unknown inputBuffer %p", h);
    return false;
}

static bool fn_check_pic(struct fn_session *s, const NV_ENC_PIC_PARAMS *p)
{
    const char *bad = NULL;
    if (p->inputWidth != s->init.encodeWidth || p->inputHeight != s->init.encodeHeight)
        bad = "input size differs from the encode size";
    else if (p->bufferFmt != NV_ENC_BUFFER_FORMAT_NV12)
        bad = "bufferFmt is not NV12";
    else if (p->pictureStruct != NV_ENC_PIC_STRUCT_FRAME)
        bad = "pictureStruct is not FRAME";
    else if (p->encodePicFlags & ~(uint32_t)(NV_ENC_PIC_FLAG_FORCEIDR | NV_ENC_PIC_FLAG_FORCEINTRA))
        bad = "unexpected encodePicFlags";
    if (bad)
        fn_error(s, "nvEncEncodePicture: %s", bad);
    return !bad;
}

static NVENCSTATUS fn_run_x264(struct fn_session *s, const NV_ENC_PIC_PARAMS *p, uint8_t *data,
                               uint32_t pitch, struct fn_object *out)
{
    x264_picture_t pic, pic_out;
    x264_picture_init(&pic);
    pic.img.i_csp = X264_CSP_NV12;
    pic.img.i_plane = 2;
    pic.img.plane[0] = data;
    pic.img.plane[1] = data + (size_t)pitch * s->init.encodeHeight;
    pic.img.i_stride[0] = (int)pitch;
    pic.img.i_stride[1] = (int)pitch;
    pic.i_pts = (int64_t)p->inputTimeStamp;
    pic.i_type = p->encodePicFlags & NV_ENC_PIC_FLAG_FORCEIDR ? X264_TYPE_IDR : X264_TYPE_AUTO;
    x264_nal_t *nals;
    int n;
    int bytes = x264_encoder_encode(s->x264, &nals, &n, &pic, &pic_out);
    if (bytes <= 0 || (size_t)bytes > out->cap) {
        fn_error(s, "x264 produced %d bytes for one picture (zero latency expected)", bytes);
        return NV_ENC_ERR_GENERIC;
    }
    memcpy(out->data, nals[0].p_payload, (size_t)bytes);
    out->size = (size_t)bytes;
    out->has_output = true;
    out->pic_type = pic_out.b_keyframe ? NV_ENC_PIC_TYPE_IDR : NV_ENC_PIC_TYPE_P;
    out->timestamp = (uint64_t)pic_out.i_pts;
    out->frame_idx = p->frameIdx;
    s->st.frames_encoded++;
    if (pic_out.b_keyframe)
        s->st.idr_frames++;
    return NV_ENC_SUCCESS;
}

NVENCSTATUS NVENCAPI fn_encode(void *enc, NV_ENC_PIC_PARAMS *p)
{
    struct fn_session *s = enc;
    if (!fn_session_ok(s, "nvEncEncodePicture", true) || !p)
        return NV_ENC_ERR_INVALID_PARAM;
    if (!fn_check_ver(s, "NV_ENC_PIC_PARAMS", p->version, NV_ENC_PIC_PARAMS_VER))
        return NV_ENC_ERR_INVALID_VERSION;
    if (p->encodePicFlags & NV_ENC_PIC_FLAG_EOS)
        return p->inputBuffer ? NV_ENC_ERR_INVALID_PARAM : NV_ENC_SUCCESS; /* nothing delayed */
    uint64_t call = ++s->st.encode_calls;
    unsigned fail_at = fn_env_uint("FAKE_NVENC_FAIL_ENCODE_AT", 0);
    if (fail_at && call >= fail_at) {
        fprintf(stderr, "fake-nvenc: encode %llu fails (FAKE_NVENC_FAIL_ENCODE_AT=%u)\n",
                (unsigned long long)call, fail_at);
        snprintf(s->last_error, sizeof(s->last_error), "device lost (injected)");
        return NV_ENC_ERR_GENERIC;
    }
    if (!fn_check_pic(s, p))
        return NV_ENC_ERR_INVALID_PARAM;
    struct fn_object *out = fn_find(s, p->outputBitstream, FN_BITSTREAM, "nvEncEncodePicture");
    if (!out)
        return NV_ENC_ERR_INVALID_PARAM;
    if (out->locked || out->has_output) {
        fn_error(s, "nvEncEncodePicture: bitstream buffer %s", out->locked ? "locked" : "unread");
        return NV_ENC_ERR_INVALID_CALL;
    }
    uint8_t *data;
    uint32_t pitch;
    if (!fn_resolve_input(s, p->inputBuffer, &data, &pitch))
        return NV_ENC_ERR_INVALID_PARAM;
    if (p->inputPitch != pitch) {
        fn_error(s, "nvEncEncodePicture: inputPitch %u, the buffer's pitch is %u", p->inputPitch,
                 pitch);
        return NV_ENC_ERR_INVALID_PARAM;
    }
    return fn_run_x264(s, p, data, pitch, out);
}

NVENCSTATUS NVENCAPI fn_lock_bitstream(void *enc, NV_ENC_LOCK_BITSTREAM *p)
{
    struct fn_session *s = enc;
    if (!fn_session_ok(s, "nvEncLockBitstream", true) || !p)
        return NV_ENC_ERR_INVALID_PARAM;
    if (!fn_check_ver(s, "NV_ENC_LOCK_BITSTREAM", p->version, NV_ENC_LOCK_BITSTREAM_VER))
        return NV_ENC_ERR_INVALID_VERSION;
    struct fn_object *o = fn_find(s, p->outputBitstream, FN_BITSTREAM, "nvEncLockBitstream");
    if (!o)
        return NV_ENC_ERR_INVALID_PARAM;
    if (o->locked || !o->has_output) {
        fn_error(s, "nvEncLockBitstream: buffer %s",
                 o->locked ? "already locked" : "holds nothing");
        return NV_ENC_ERR_INVALID_CALL;
    }
    o->locked = true;
    p->bitstreamBufferPtr = o->data;
    p->bitstreamSizeInBytes = (uint32_t)o->size;
    p->pictureType = o->pic_type;
    p->pictureStruct = NV_ENC_PIC_STRUCT_FRAME;
    p->outputTimeStamp = o->timestamp;
    p->frameIdx = o->frame_idx;
    p->numSlices = 1;
    s->st.bitstream_locks++;
    return NV_ENC_SUCCESS;
}

NVENCSTATUS NVENCAPI fn_unlock_bitstream(void *enc, NV_ENC_OUTPUT_PTR h)
{
    struct fn_session *s = enc;
    if (!fn_session_ok(s, "nvEncUnlockBitstream", true))
        return NV_ENC_ERR_INVALID_PARAM;
    struct fn_object *o = fn_find(s, h, FN_BITSTREAM, "nvEncUnlockBitstream");
    if (!o)
        return NV_ENC_ERR_INVALID_PARAM;
    if (!o->locked) {
        fn_error(s, "nvEncUnlockBitstream: buffer not locked");
        return NV_ENC_ERR_INVALID_CALL;
    }
    o->locked = false;
    o->has_output = false;
    s->st.bitstream_unlocks++;
    return NV_ENC_SUCCESS;
}

NVENCSTATUS NVENCAPI fn_destroy_encoder(void *enc)
{
    struct fn_session *s = enc;
    if (!fn_session_ok(s, "nvEncDestroyEncoder", false))
        return NV_ENC_ERR_INVALID_PARAM;
    for (int i = 0; i < s->n_objects; i++) {
        struct fn_object *o = s->objects[i];
        if (!o->destroyed)
            fn_error(s, "leak at nvEncDestroyEncoder: %s never %s%s", fn_kind_name(o->kind),
                     o->kind == FN_MAPPED       ? "unmapped"
                     : o->kind == FN_REGISTERED ? "unregistered"
                                                : "destroyed",
                     o->locked ? " (and still locked)" : "");
        free(o->data);
        free(o);
    }
    if (s->x264)
        x264_encoder_close(s->x264);
    pthread_mutex_lock(&fn_lock);
    fn_last = s->st;
    pthread_mutex_unlock(&fn_lock);
    s->destroyed = true;
    s->magic = 0;
    free(s);
    __atomic_add_fetch(&fn_sessions_destroyed, 1, __ATOMIC_RELAXED);
    fn_write_stats();
    return NV_ENC_SUCCESS;
}

const char *NVENCAPI fn_last_error(void *enc)
{
    struct fn_session *s = enc;
    return s && s->magic == FN_SESSION_MAGIC ? s->last_error : "invalid encoder";
}
