/*
 * fake libcuda.so.1 — test-only stand-in for the NVIDIA CUDA driver API, so the NVENC backend
 * runs end to end on a machine without a GPU (never installed).
 *
 * It exports every symbol nv-codec-headers' cuda_load_functions() requires. The ones agentcast
 * uses are real enough: devices (FAKE_CUDA_DEVICES, default 1), contexts with a per-thread
 * push/pop stack whose pairing is checked, "device memory" that is host memory
 * (cuMemAlloc/cuMemAllocPitch/cuMemcpy2D/cuMemFree; bytes copied host→device are counted), and
 * external memory (cuImportExternalMemory + cuExternalMemoryGetMappedBuffer mmap the fd; a memfd
 * stands in for a dmabuf). Every other symbol prints "fake-cuda: ERROR unexpected call …" and
 * returns CUDA_ERROR_NOT_SUPPORTED. Misuse (no current context, unknown pointer, double free,
 * leaks at exit) prints "fake-cuda: ERROR …" and counts an error. FAKE_CUDA_FAIL_INIT=1 makes
 * cuInit fail as on a machine with the driver library but no GPU.
 *
 * fake_nvenc.c links against this library and uses the fake_cuda_* helpers at the bottom.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <ffnvcodec/dynlink_cuda.h>

#include "fake_cuda.h"

/* CUresult values dynlink_cuda.h does not name. */
#define FC_INVALID_VALUE 1
#define FC_OUT_OF_MEMORY 2
#define FC_NOT_INITIALIZED 3
#define FC_NO_DEVICE 100
#define FC_INVALID_DEVICE 101
#define FC_INVALID_CONTEXT 201
#define FC_INVALID_HANDLE 400
#define FC_NOT_SUPPORTED 801

#define FC_MAX_STACK 16
#define FC_CTX_MAGIC 0x43545854u
#define FC_EXT_MAGIC 0x45585452u

struct CUctx_st {
    uint32_t magic;
    CUdevice device;
    bool destroyed;
    struct CUctx_st *next;
};

struct CUextMemory_st {
    uint32_t magic;
    int fd;
    unsigned long long size;
    bool destroyed;
    struct CUextMemory_st *next;
};

struct fc_alloc {
    uintptr_t base;
    size_t size;
    enum fake_cuda_mem_kind kind;
    void *map; /* FAKE_CUDA_MEM_EXTERNAL: the mmap to undo */
    size_t map_size;
    struct fc_alloc *next;
};

static pthread_mutex_t fc_lock = PTHREAD_MUTEX_INITIALIZER;
static bool fc_inited;
static struct CUctx_st *fc_contexts;
static struct CUextMemory_st *fc_extmems;
static struct fc_alloc *fc_allocs;
static struct fake_cuda_stats fc_stats;
static _Thread_local CUcontext fc_stack[FC_MAX_STACK];
static _Thread_local int fc_depth;

void fake_cuda_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "fake-cuda: ERROR ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    __atomic_add_fetch(&fc_stats.errors, 1, __ATOMIC_RELAXED);
}

static int fc_device_count(void)
{
    const char *s = getenv("FAKE_CUDA_DEVICES");
    return s && *s ? atoi(s) : 1;
}

static bool fc_ready(const char *fn)
{
    if (!fc_inited) {
        fake_cuda_error("%s before cuInit", fn);
        return false;
    }
    return true;
}

/* Callers hold fc_lock. */
static bool fc_ctx_live(CUcontext ctx)
{
    for (struct CUctx_st *c = fc_contexts; c; c = c->next)
        if (c == ctx)
            return !c->destroyed && c->magic == FC_CTX_MAGIC;
    return false;
}

static bool fc_need_ctx(const char *fn)
{
    if (!fc_ready(fn))
        return false;
    if (fc_depth == 0) {
        fake_cuda_error("%s with no current context (cuCtxPushCurrent missing?)", fn);
        return false;
    }
    pthread_mutex_lock(&fc_lock);
    bool live = fc_ctx_live(fc_stack[fc_depth - 1]);
    pthread_mutex_unlock(&fc_lock);
    if (!live)
        fake_cuda_error("%s: the current context was destroyed", fn);
    return live;
}

CUresult cuInit(unsigned int flags)
{
    if (flags != 0) {
        fake_cuda_error("cuInit flags=%u (must be 0)", flags);
        return FC_INVALID_VALUE;
    }
    const char *fail = getenv("FAKE_CUDA_FAIL_INIT");
    if (fail && strcmp(fail, "1") == 0)
        return FC_NO_DEVICE; /* the driver library without a GPU: not a misuse */
    fc_inited = true;
    return CUDA_SUCCESS;
}

CUresult cuDeviceGetCount(int *count)
{
    if (!fc_ready("cuDeviceGetCount"))
        return FC_NOT_INITIALIZED;
    if (!count)
        return FC_INVALID_VALUE;
    *count = fc_device_count();
    return CUDA_SUCCESS;
}

static bool fc_device_ok(CUdevice dev, const char *fn)
{
    if (dev < 0 || dev >= fc_device_count()) {
        fake_cuda_error("%s: invalid device %d", fn, dev);
        return false;
    }
    return true;
}

CUresult cuDeviceGet(CUdevice *device, int ordinal)
{
    if (!fc_ready("cuDeviceGet"))
        return FC_NOT_INITIALIZED;
    if (!device || ordinal < 0 || ordinal >= fc_device_count())
        return FC_INVALID_DEVICE; /* asking is legal; the caller reports it */
    *device = ordinal;
    return CUDA_SUCCESS;
}

CUresult cuDeviceGetName(char *name, int len, CUdevice dev)
{
    if (!fc_ready("cuDeviceGetName") || !fc_device_ok(dev, "cuDeviceGetName"))
        return FC_INVALID_DEVICE;
    if (!name || len <= 0)
        return FC_INVALID_VALUE;
    snprintf(name, (size_t)len, "Fake NVENC GPU %d", dev);
    return CUDA_SUCCESS;
}

CUresult cuDeviceComputeCapability(int *major, int *minor, CUdevice dev)
{
    if (!fc_ready("cuDeviceComputeCapability") || !fc_device_ok(dev, "cuDeviceComputeCapability"))
        return FC_INVALID_DEVICE;
    *major = 7;
    *minor = 5;
    return CUDA_SUCCESS;
}

CUresult cuDeviceGetAttribute(int *pi, CUdevice_attribute attrib, CUdevice dev)
{
    if (!fc_ready("cuDeviceGetAttribute") || !fc_device_ok(dev, "cuDeviceGetAttribute"))
        return FC_INVALID_DEVICE;
    switch (attrib) {
    case CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR:
        *pi = 7;
        return CUDA_SUCCESS;
    case CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR:
        *pi = 5;
        return CUDA_SUCCESS;
    case CU_DEVICE_ATTRIBUTE_PCI_BUS_ID:
        *pi = 1 + dev;
        return CUDA_SUCCESS;
    default:
        fake_cuda_error("unexpected call cuDeviceGetAttribute attrib=%d", (int)attrib);
        return FC_NOT_SUPPORTED;
    }
}

static CUresult fc_push(CUcontext ctx, const char *fn)
{
    if (fc_depth >= FC_MAX_STACK) {
        fake_cuda_error("%s: context stack deeper than %d (push without pop?)", fn, FC_MAX_STACK);
        return FC_INVALID_VALUE;
    }
    fc_stack[fc_depth++] = ctx;
    __atomic_add_fetch(&fc_stats.ctx_pushes, 1, __ATOMIC_RELAXED);
    return CUDA_SUCCESS;
}

/* Creates a context and makes it current, as the real one does. */
CUresult cuCtxCreate_v2(CUcontext *pctx, unsigned int flags, CUdevice dev)
{
    if (!fc_ready("cuCtxCreate") || !fc_device_ok(dev, "cuCtxCreate"))
        return FC_INVALID_DEVICE;
    if (!pctx || flags > 0x1f) {
        fake_cuda_error("cuCtxCreate: bad arguments (flags=%#x)", flags);
        return FC_INVALID_VALUE;
    }
    struct CUctx_st *c = calloc(1, sizeof(*c));
    if (!c)
        return FC_OUT_OF_MEMORY;
    c->magic = FC_CTX_MAGIC;
    c->device = dev;
    pthread_mutex_lock(&fc_lock);
    c->next = fc_contexts;
    fc_contexts = c;
    fc_stats.contexts_created++;
    pthread_mutex_unlock(&fc_lock);
    *pctx = c;
    return fc_push(c, "cuCtxCreate");
}

CUresult cuCtxPushCurrent_v2(CUcontext ctx)
{
    if (!fc_ready("cuCtxPushCurrent"))
        return FC_NOT_INITIALIZED;
    pthread_mutex_lock(&fc_lock);
    bool live = fc_ctx_live(ctx);
    pthread_mutex_unlock(&fc_lock);
    if (!live) {
        fake_cuda_error("cuCtxPushCurrent of an unknown or destroyed context %p", (void *)ctx);
        return FC_INVALID_CONTEXT;
    }
    return fc_push(ctx, "cuCtxPushCurrent");
}

CUresult cuCtxPopCurrent_v2(CUcontext *pctx)
{
    if (!fc_ready("cuCtxPopCurrent"))
        return FC_NOT_INITIALIZED;
    if (fc_depth == 0) {
        fake_cuda_error("cuCtxPopCurrent with an empty context stack (pop without push)");
        return FC_INVALID_CONTEXT;
    }
    CUcontext c = fc_stack[--fc_depth];
    __atomic_add_fetch(&fc_stats.ctx_pops, 1, __ATOMIC_RELAXED);
    if (pctx)
        *pctx = c;
    return CUDA_SUCCESS;
}

CUresult cuCtxGetDevice(CUdevice *device)
{
    if (!fc_need_ctx("cuCtxGetDevice"))
        return FC_INVALID_CONTEXT;
    *device = fc_stack[fc_depth - 1]->device;
    return CUDA_SUCCESS;
}

CUresult cuCtxDestroy_v2(CUcontext ctx)
{
    if (!fc_ready("cuCtxDestroy"))
        return FC_NOT_INITIALIZED;
    pthread_mutex_lock(&fc_lock);
    bool live = fc_ctx_live(ctx);
    if (live)
        ctx->destroyed = true;
    pthread_mutex_unlock(&fc_lock);
    if (!live) {
        fake_cuda_error("cuCtxDestroy of an unknown or already destroyed context %p", (void *)ctx);
        return FC_INVALID_CONTEXT;
    }
    /* The real driver pops a destroyed context that is current on this thread. */
    for (int i = 0; i < fc_depth; i++)
        if (fc_stack[i] == ctx && i != fc_depth - 1)
            fake_cuda_error("cuCtxDestroy of a context that is pushed below the top of the stack");
    if (fc_depth > 0 && fc_stack[fc_depth - 1] == ctx)
        fc_depth--;
    return CUDA_SUCCESS;
}

static CUresult fc_add_alloc(uintptr_t base, size_t size, enum fake_cuda_mem_kind kind, void *map,
                             size_t map_size)
{
    struct fc_alloc *a = calloc(1, sizeof(*a));
    if (!a)
        return FC_OUT_OF_MEMORY;
    *a = (struct fc_alloc){base, size, kind, map, map_size, NULL};
    pthread_mutex_lock(&fc_lock);
    a->next = fc_allocs;
    fc_allocs = a;
    pthread_mutex_unlock(&fc_lock);
    return CUDA_SUCCESS;
}

CUresult cuMemAlloc_v2(CUdeviceptr *dptr, size_t bytesize)
{
    if (!fc_need_ctx("cuMemAlloc"))
        return FC_INVALID_CONTEXT;
    if (!dptr || bytesize == 0) {
        fake_cuda_error("cuMemAlloc of %zu bytes", bytesize);
        return FC_INVALID_VALUE;
    }
    void *p = aligned_alloc(256, (bytesize + 255) / 256 * 256);
    if (!p)
        return FC_OUT_OF_MEMORY;
    CUresult r = fc_add_alloc((uintptr_t)p, bytesize, FAKE_CUDA_MEM_ALLOC, NULL, 0);
    if (r != CUDA_SUCCESS) {
        free(p);
        return r;
    }
    *dptr = (CUdeviceptr)(uintptr_t)p;
    return CUDA_SUCCESS;
}

CUresult cuMemAllocPitch_v2(CUdeviceptr *dptr, size_t *pitch, size_t width, size_t height,
                            unsigned int elem)
{
    if (elem != 4 && elem != 8 && elem != 16) {
        fake_cuda_error("cuMemAllocPitch ElementSizeBytes=%u (must be 4, 8 or 16)", elem);
        return FC_INVALID_VALUE;
    }
    if (!pitch || width == 0 || height == 0) {
        fake_cuda_error("cuMemAllocPitch %zux%zu", width, height);
        return FC_INVALID_VALUE;
    }
    *pitch = (width + 511) / 512 * 512;
    return cuMemAlloc_v2(dptr, *pitch * height);
}

/* Frees a cuMemAlloc allocation or a mapped external-memory buffer. */
CUresult cuMemFree_v2(CUdeviceptr dptr)
{
    if (!fc_need_ctx("cuMemFree"))
        return FC_INVALID_CONTEXT;
    pthread_mutex_lock(&fc_lock);
    struct fc_alloc **pp = &fc_allocs;
    while (*pp && (*pp)->base != (uintptr_t)dptr)
        pp = &(*pp)->next;
    struct fc_alloc *a = *pp;
    if (a)
        *pp = a->next;
    pthread_mutex_unlock(&fc_lock);
    if (!a) {
        fake_cuda_error("cuMemFree of %#llx: not an allocation (double free?)",
                        (unsigned long long)dptr);
        return FC_INVALID_VALUE;
    }
    if (a->kind == FAKE_CUDA_MEM_EXTERNAL)
        munmap(a->map, a->map_size);
    else
        free((void *)a->base);
    free(a);
    return CUDA_SUCCESS;
}

int fake_cuda_ptr_kind(uint64_t ptr, size_t bytes)
{
    int kind = -1;
    pthread_mutex_lock(&fc_lock);
    for (struct fc_alloc *a = fc_allocs; a; a = a->next)
        if (ptr >= a->base && ptr + bytes <= a->base + a->size)
            kind = (int)a->kind;
    pthread_mutex_unlock(&fc_lock);
    return kind;
}

static bool fc_range_ok(CUdeviceptr p, size_t bytes, const char *what)
{
    if (fake_cuda_ptr_kind(p, bytes) < 0) {
        fake_cuda_error("cuMemcpy2D: %s range %#llx+%zu is not inside a live allocation", what,
                        (unsigned long long)p, bytes);
        return false;
    }
    return true;
}

CUresult cuMemcpy2D_v2(const CUDA_MEMCPY2D *c)
{
    if (!fc_need_ctx("cuMemcpy2D"))
        return FC_INVALID_CONTEXT;
    if (!c || c->WidthInBytes == 0 || c->Height == 0 || c->srcPitch < c->WidthInBytes ||
        c->dstPitch < c->WidthInBytes || c->srcArray || c->dstArray) {
        fake_cuda_error("cuMemcpy2D: bad descriptor");
        return FC_INVALID_VALUE;
    }
    size_t span_src = c->srcPitch * (c->srcY + c->Height - 1) + c->srcXInBytes + c->WidthInBytes;
    size_t span_dst = c->dstPitch * (c->dstY + c->Height - 1) + c->dstXInBytes + c->WidthInBytes;
    const uint8_t *src;
    uint8_t *dst;
    if (c->srcMemoryType == CU_MEMORYTYPE_HOST) {
        src = c->srcHost;
    } else if (c->srcMemoryType == CU_MEMORYTYPE_DEVICE) {
        if (!fc_range_ok(c->srcDevice, span_src, "source"))
            return FC_INVALID_VALUE;
        src = (const uint8_t *)(uintptr_t)c->srcDevice;
    } else {
        fake_cuda_error("cuMemcpy2D: unsupported source memory type %d", (int)c->srcMemoryType);
        return FC_NOT_SUPPORTED;
    }
    if (c->dstMemoryType == CU_MEMORYTYPE_HOST) {
        dst = c->dstHost;
    } else if (c->dstMemoryType == CU_MEMORYTYPE_DEVICE) {
        if (!fc_range_ok(c->dstDevice, span_dst, "destination"))
            return FC_INVALID_VALUE;
        dst = (uint8_t *)(uintptr_t)c->dstDevice;
    } else {
        fake_cuda_error("cuMemcpy2D: unsupported destination memory type %d",
                        (int)c->dstMemoryType);
        return FC_NOT_SUPPORTED;
    }
    if (!src || !dst) {
        fake_cuda_error("cuMemcpy2D: NULL host pointer");
        return FC_INVALID_VALUE;
    }
    for (size_t y = 0; y < c->Height; y++)
        memcpy(dst + (c->dstY + y) * c->dstPitch + c->dstXInBytes,
               src + (c->srcY + y) * c->srcPitch + c->srcXInBytes, c->WidthInBytes);
    if (c->srcMemoryType == CU_MEMORYTYPE_HOST && c->dstMemoryType == CU_MEMORYTYPE_DEVICE)
        __atomic_add_fetch(&fc_stats.memcpy_htod_bytes, c->WidthInBytes * c->Height,
                           __ATOMIC_RELAXED);
    return CUDA_SUCCESS;
}

/* Takes ownership of the fd on success, as the real driver does for OPAQUE_FD. */
CUresult cuImportExternalMemory(CUexternalMemory *out, const CUDA_EXTERNAL_MEMORY_HANDLE_DESC *d)
{
    if (!fc_need_ctx("cuImportExternalMemory"))
        return FC_INVALID_CONTEXT;
    if (!out || !d || d->type != CU_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_FD || d->size == 0 ||
        d->handle.fd < 0) {
        fake_cuda_error("cuImportExternalMemory: bad descriptor (type=%d size=%llu fd=%d)",
                        d ? (int)d->type : -1, d ? d->size : 0ULL, d ? d->handle.fd : -1);
        return FC_INVALID_VALUE;
    }
    off_t end = lseek(d->handle.fd, 0, SEEK_END);
    if (end < 0 || (unsigned long long)end < d->size) {
        fake_cuda_error("cuImportExternalMemory: fd %d holds %lld bytes, %llu declared",
                        d->handle.fd, (long long)end, d->size);
        return FC_INVALID_VALUE;
    }
    struct CUextMemory_st *m = calloc(1, sizeof(*m));
    if (!m)
        return FC_OUT_OF_MEMORY;
    m->magic = FC_EXT_MAGIC;
    m->fd = d->handle.fd;
    m->size = d->size;
    pthread_mutex_lock(&fc_lock);
    m->next = fc_extmems;
    fc_extmems = m;
    fc_stats.external_imports++;
    pthread_mutex_unlock(&fc_lock);
    *out = m;
    return CUDA_SUCCESS;
}

static bool fc_ext_live(CUexternalMemory m)
{
    bool live = false;
    pthread_mutex_lock(&fc_lock);
    for (struct CUextMemory_st *e = fc_extmems; e; e = e->next)
        if (e == m)
            live = !e->destroyed && e->magic == FC_EXT_MAGIC;
    pthread_mutex_unlock(&fc_lock);
    return live;
}

CUresult cuExternalMemoryGetMappedBuffer(CUdeviceptr *dptr, CUexternalMemory m,
                                         const CUDA_EXTERNAL_MEMORY_BUFFER_DESC *d)
{
    if (!fc_need_ctx("cuExternalMemoryGetMappedBuffer"))
        return FC_INVALID_CONTEXT;
    if (!fc_ext_live(m)) {
        fake_cuda_error("cuExternalMemoryGetMappedBuffer on an unknown or destroyed object");
        return FC_INVALID_HANDLE;
    }
    if (!dptr || !d || d->size == 0 || d->offset + d->size > m->size || d->flags != 0) {
        fake_cuda_error("cuExternalMemoryGetMappedBuffer: range %llu+%llu outside %llu bytes",
                        d ? d->offset : 0ULL, d ? d->size : 0ULL, m->size);
        return FC_INVALID_VALUE;
    }
    size_t map_size = (size_t)(d->offset + d->size);
    void *map = mmap(NULL, map_size, PROT_READ | PROT_WRITE, MAP_SHARED, m->fd, 0);
    if (map == MAP_FAILED) {
        fake_cuda_error("cuExternalMemoryGetMappedBuffer: mmap: %s", strerror(errno));
        return FC_INVALID_VALUE;
    }
    uintptr_t base = (uintptr_t)map + (uintptr_t)d->offset;
    CUresult r = fc_add_alloc(base, (size_t)d->size, FAKE_CUDA_MEM_EXTERNAL, map, map_size);
    if (r != CUDA_SUCCESS) {
        munmap(map, map_size);
        return r;
    }
    *dptr = (CUdeviceptr)base;
    return CUDA_SUCCESS;
}

CUresult cuDestroyExternalMemory(CUexternalMemory m)
{
    if (!fc_ready("cuDestroyExternalMemory"))
        return FC_NOT_INITIALIZED;
    if (!fc_ext_live(m)) {
        fake_cuda_error("cuDestroyExternalMemory of an unknown or already destroyed object");
        return FC_INVALID_HANDLE;
    }
    m->destroyed = true;
    close(m->fd);
    return CUDA_SUCCESS;
}

static const char *fc_error_name(CUresult e)
{
    switch ((int)e) {
    case CUDA_SUCCESS:
        return "CUDA_SUCCESS";
    case FC_INVALID_VALUE:
        return "CUDA_ERROR_INVALID_VALUE";
    case FC_OUT_OF_MEMORY:
        return "CUDA_ERROR_OUT_OF_MEMORY";
    case FC_NOT_INITIALIZED:
        return "CUDA_ERROR_NOT_INITIALIZED";
    case FC_NO_DEVICE:
        return "CUDA_ERROR_NO_DEVICE";
    case FC_INVALID_DEVICE:
        return "CUDA_ERROR_INVALID_DEVICE";
    case FC_INVALID_CONTEXT:
        return "CUDA_ERROR_INVALID_CONTEXT";
    case FC_INVALID_HANDLE:
        return "CUDA_ERROR_INVALID_HANDLE";
    case FC_NOT_SUPPORTED:
        return "CUDA_ERROR_NOT_SUPPORTED";
    default:
        return NULL;
    }
}

CUresult cuGetErrorName(CUresult error, const char **pstr)
{
    const char *s = fc_error_name(error);
    if (!pstr || !s)
        return FC_INVALID_VALUE;
    *pstr = s;
    return CUDA_SUCCESS;
}

CUresult cuGetErrorString(CUresult error, const char **pstr)
{
    if (!pstr)
        return FC_INVALID_VALUE;
    *pstr =
        (int)error == FC_NO_DEVICE ? "no CUDA-capable device is detected" : fc_error_name(error);
    return *pstr ? CUDA_SUCCESS : FC_INVALID_VALUE;
}

int fake_cuda_ctx_valid(void *ctx)
{
    pthread_mutex_lock(&fc_lock);
    bool live = fc_ctx_live(ctx);
    pthread_mutex_unlock(&fc_lock);
    return live;
}

void fake_cuda_get_stats(struct fake_cuda_stats *out)
{
    pthread_mutex_lock(&fc_lock);
    *out = fc_stats;
    out->errors = __atomic_load_n(&fc_stats.errors, __ATOMIC_RELAXED);
    pthread_mutex_unlock(&fc_lock);
}

/* At exit: whatever is still allocated, imported, current or alive was leaked. */
__attribute__((destructor)) static void fc_check_leaks(void)
{
    for (struct fc_alloc *a = fc_allocs; a; a = a->next)
        fake_cuda_error("leak: %zu bytes of device memory at %#lx never freed", a->size,
                        (unsigned long)a->base);
    for (struct CUextMemory_st *e = fc_extmems; e; e = e->next)
        if (!e->destroyed)
            fake_cuda_error("leak: external memory (fd %d) never destroyed", e->fd);
    for (struct CUctx_st *c = fc_contexts; c; c = c->next)
        if (!c->destroyed)
            fake_cuda_error("leak: context %p never destroyed", (void *)c);
    if (fc_depth > 0)
        fake_cuda_error("context stack holds %d context(s) at exit (push without pop)", fc_depth);
    while (fc_allocs) {
        struct fc_alloc *a = fc_allocs;
        fc_allocs = a->next;
        free(a);
    }
    while (fc_extmems) {
        struct CUextMemory_st *e = fc_extmems;
        fc_extmems = e->next;
        free(e);
    }
    while (fc_contexts) {
        struct CUctx_st *c = fc_contexts;
        fc_contexts = c->next;
        free(c);
    }
}

/* Mandatory symbols agentcast never calls: present (so the loader accepts the library), loud. */
#define FC_UNEXPECTED(sym)                                                                         \
    CUresult sym(void);                                                                            \
    CUresult sym(void)                                                                             \
    {                                                                                              \
        fake_cuda_error("unexpected call %s", #sym);                                               \
        return FC_NOT_SUPPORTED;                                                                   \
    }

FC_UNEXPECTED(cuCtxSetLimit)
FC_UNEXPECTED(cuMemAllocManaged)
FC_UNEXPECTED(cuMemsetD8Async)
FC_UNEXPECTED(cuMemcpy)
FC_UNEXPECTED(cuMemcpyAsync)
FC_UNEXPECTED(cuMemcpy2DAsync_v2)
FC_UNEXPECTED(cuMemcpyHtoD_v2)
FC_UNEXPECTED(cuMemcpyHtoDAsync_v2)
FC_UNEXPECTED(cuMemcpyDtoH_v2)
FC_UNEXPECTED(cuMemcpyDtoHAsync_v2)
FC_UNEXPECTED(cuMemcpyDtoD_v2)
FC_UNEXPECTED(cuMemcpyDtoDAsync_v2)
FC_UNEXPECTED(cuDevicePrimaryCtxRetain)
FC_UNEXPECTED(cuDevicePrimaryCtxRelease)
FC_UNEXPECTED(cuDevicePrimaryCtxSetFlags)
FC_UNEXPECTED(cuDevicePrimaryCtxGetState)
FC_UNEXPECTED(cuDevicePrimaryCtxReset)
FC_UNEXPECTED(cuStreamCreate)
FC_UNEXPECTED(cuStreamQuery)
FC_UNEXPECTED(cuStreamSynchronize)
FC_UNEXPECTED(cuStreamDestroy_v2)
FC_UNEXPECTED(cuStreamAddCallback)
FC_UNEXPECTED(cuEventCreate)
FC_UNEXPECTED(cuEventDestroy_v2)
FC_UNEXPECTED(cuEventSynchronize)
FC_UNEXPECTED(cuEventQuery)
FC_UNEXPECTED(cuEventRecord)
FC_UNEXPECTED(cuLaunchKernel)
FC_UNEXPECTED(cuLinkCreate)
FC_UNEXPECTED(cuLinkAddData)
FC_UNEXPECTED(cuLinkComplete)
FC_UNEXPECTED(cuLinkDestroy)
FC_UNEXPECTED(cuModuleLoadData)
FC_UNEXPECTED(cuModuleUnload)
FC_UNEXPECTED(cuModuleGetFunction)
FC_UNEXPECTED(cuModuleGetGlobal)
FC_UNEXPECTED(cuTexObjectCreate)
FC_UNEXPECTED(cuTexObjectDestroy)
FC_UNEXPECTED(cuGLGetDevices_v2)
FC_UNEXPECTED(cuGraphicsGLRegisterImage)
FC_UNEXPECTED(cuGraphicsUnregisterResource)
FC_UNEXPECTED(cuGraphicsMapResources)
FC_UNEXPECTED(cuGraphicsUnmapResources)
FC_UNEXPECTED(cuGraphicsSubResourceGetMappedArray)
FC_UNEXPECTED(cuGraphicsResourceGetMappedPointer_v2)
FC_UNEXPECTED(cuArray3DCreate_v2)
FC_UNEXPECTED(cuArrayDestroy)
