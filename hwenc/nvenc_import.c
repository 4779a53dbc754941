/*
 * nvenc_import — the NVENC backend's dmabuf import (hwenc_ops.import): a DRM PRIME buffer, as the
 * KMS source will hand it, becomes CUDA external memory, a device pointer registered with NVENC
 * and mapped as the picture to encode. No pixel is copied; the mapping is undone once the picture
 * is encoded (or replaced, or the encoder closes). See hwenc/nvenc.c for the rest.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "hwenc/nvenc_priv.h"

#define NVENC_DRM_FORMAT_NV12 0x3231564eu /* fourcc_code('N', 'V', '1', '2') */
#define NVENC_DRM_MOD_LINEAR 0

/* Undoes an import (after its picture was encoded, or when it never was). */
void nvenc_import_release(struct nvenc_enc *e)
{
    struct nvenc_import *im = &e->import;
    if (im->mapped)
        e->nv.nvEncUnmapInputResource(e->session, im->mapped);
    if (im->registered)
        e->nv.nvEncUnregisterResource(e->session, im->registered);
    CUcontext dummy;
    if ((im->dptr || im->ext) && e->cu->cuCtxPushCurrent(e->ctx) == CUDA_SUCCESS) {
        if (im->dptr)
            e->cu->cuMemFree(im->dptr);
        if (im->ext)
            e->cu->cuDestroyExternalMemory(im->ext);
        e->cu->cuCtxPopCurrent(&dummy);
    }
    memset(im, 0, sizeof(*im));
}

static bool nvenc_dmabuf_ok(const struct nvenc_enc *e, const struct frame_dmabuf *d, char *why,
                            size_t why_size)
{
    const char *bad = NULL;
    uint64_t luma = (uint64_t)d->pitch[0] * (uint64_t)d->height;
    if (d->width != e->base.params.width || d->height != e->base.params.height)
        bad = "size differs from the encoder's";
    else if (d->drm_format != NVENC_DRM_FORMAT_NV12 || d->modifier != NVENC_DRM_MOD_LINEAR)
        bad = "only linear NV12 can be imported";
    else if (d->n_planes < 1 || d->n_planes > 2 || d->fd[0] < 0)
        bad = "NV12 needs one or two planes";
    else if (d->n_planes == 2 && (d->fd[1] != d->fd[0] || d->pitch[1] != d->pitch[0] ||
                                  d->offset[1] != d->offset[0] + luma))
        bad = "chroma must follow luma in the same buffer with the same pitch";
    else if (d->pitch[0] < (uint32_t)d->width || d->offset[0] % 256)
        bad = "pitch below the width, or a luma offset not 256-byte aligned";
    else if (d->size[0] < d->offset[0] + luma * 3 / 2)
        bad = "buffer smaller than the picture";
    if (bad)
        snprintf(why, why_size, "dmabuf %dx%d fourcc %#x planes %d: %s", d->width, d->height,
                 d->drm_format, d->n_planes, bad);
    return !bad;
}

/* dmabuf → CUDA external memory → device pointer (all inside the pushed context). */
static int nvenc_import_cuda(struct nvenc_enc *e, const struct frame_dmabuf *d, char *why,
                             size_t why_size)
{
    struct nvenc_import *im = &e->import;
    /* The driver owns an imported fd: give it a duplicate, the caller keeps its own. */
    int fd = dup(d->fd[0]);
    if (fd < 0) {
        snprintf(why, why_size, "dup of the dmabuf fd: %s", strerror(errno));
        return -errno;
    }
    CUDA_EXTERNAL_MEMORY_HANDLE_DESC hd = {
        .type = CU_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_FD,
        .handle.fd = fd,
        .size = d->size[0],
    };
    CUresult r = e->cu->cuImportExternalMemory(&im->ext, &hd);
    if (r != CUDA_SUCCESS) {
        close(fd);
        im->ext = NULL;
        nvenc_why_cuda(e, r, why, why_size, "cuImportExternalMemory");
        return -EIO;
    }
    CUDA_EXTERNAL_MEMORY_BUFFER_DESC bd = {.offset = 0, .size = d->size[0]};
    if ((r = e->cu->cuExternalMemoryGetMappedBuffer(&im->dptr, im->ext, &bd)) != CUDA_SUCCESS) {
        im->dptr = 0;
        nvenc_why_cuda(e, r, why, why_size, "cuExternalMemoryGetMappedBuffer");
        return -EIO;
    }
    return 0;
}

static int nvenc_import_register(struct nvenc_enc *e, const struct frame_dmabuf *d, char *why,
                                 size_t why_size)
{
    struct nvenc_import *im = &e->import;
    NV_ENC_REGISTER_RESOURCE rr = {
        .version = NV_ENC_REGISTER_RESOURCE_VER,
        .resourceType = NV_ENC_INPUT_RESOURCE_TYPE_CUDADEVICEPTR,
        .width = (uint32_t)d->width,
        .height = (uint32_t)d->height,
        .pitch = d->pitch[0],
        .resourceToRegister = (void *)(uintptr_t)(im->dptr + d->offset[0]),
        .bufferFormat = NV_ENC_BUFFER_FORMAT_NV12,
        .bufferUsage = NV_ENC_INPUT_IMAGE,
    };
    NVENCSTATUS st = e->nv.nvEncRegisterResource(e->session, &rr);
    if (st != NV_ENC_SUCCESS) {
        nvenc_why_status(e, st, why, why_size, "nvEncRegisterResource");
        return -EIO;
    }
    im->registered = rr.registeredResource;
    NV_ENC_MAP_INPUT_RESOURCE mr = {.version = NV_ENC_MAP_INPUT_RESOURCE_VER,
                                    .registeredResource = im->registered};
    if ((st = e->nv.nvEncMapInputResource(e->session, &mr)) != NV_ENC_SUCCESS) {
        nvenc_why_status(e, st, why, why_size, "nvEncMapInputResource");
        return -EIO;
    }
    im->mapped = mr.mappedResource;
    im->pitch = d->pitch[0];
    return 0;
}

/* Wraps a dmabuf without copying. Each import lives until its picture is encoded: the KMS source
 * hands a different buffer most frames, and fds are recycled, so nothing is cached by fd. */
int nvenc_import_dmabuf(struct hwenc *enc, const struct frame_dmabuf *d, struct frame **frame)
{
    struct nvenc_enc *e = (struct nvenc_enc *)enc;
    if (!e->cu->cuImportExternalMemory || !e->cu->cuExternalMemoryGetMappedBuffer ||
        !e->cu->cuDestroyExternalMemory) {
        log_error(NVENC_COMPONENT, "import: this CUDA driver has no external memory interop");
        return -ENOTSUP;
    }
    char why[224];
    if (!nvenc_dmabuf_ok(e, d, why, sizeof(why))) {
        log_error(NVENC_COMPONENT, "import: %s", why);
        return -EINVAL;
    }
    nvenc_import_release(e); /* one imported but never encoded */
    if (e->cu->cuCtxPushCurrent(e->ctx) != CUDA_SUCCESS) {
        log_error(NVENC_COMPONENT, "import: cannot make the CUDA context current");
        return -EIO;
    }
    int ret = nvenc_import_cuda(e, d, why, sizeof(why));
    CUcontext dummy;
    e->cu->cuCtxPopCurrent(&dummy);
    if (ret == 0)
        ret = nvenc_import_register(e, d, why, sizeof(why));
    if (ret < 0) {
        log_error(NVENC_COMPONENT, "import: %s", why);
        nvenc_import_release(e);
        return ret;
    }
    struct nvenc_import *im = &e->import;
    im->active = true;
    im->frame = (struct frame){
        .width = d->width,
        .height = d->height,
        .format = FRAME_FORMAT_NV12,
        .buffer_id = NVENC_IMPORT_BUFFER_ID,
    };
    *frame = &im->frame;
    return 0;
}
