/*
 * fake_cuda.h — what the fake libnvidia-encode.so.1 asks the fake libcuda.so.1 (test-only).
 */
#ifndef AGENTCAST_FAKE_CUDA_H
#define AGENTCAST_FAKE_CUDA_H

#include <stddef.h>
#include <stdint.h>

enum fake_cuda_mem_kind {
    FAKE_CUDA_MEM_ALLOC,    /* cuMemAlloc / cuMemAllocPitch */
    FAKE_CUDA_MEM_EXTERNAL, /* cuExternalMemoryGetMappedBuffer (an imported dmabuf) */
};

struct fake_cuda_stats {
    uint64_t contexts_created;
    uint64_t ctx_pushes, ctx_pops;
    uint64_t external_imports;
    uint64_t memcpy_htod_bytes; /* host → device bytes through cuMemcpy2D */
    uint64_t errors;
};

/* Prints "fake-cuda: ERROR …" on stderr and counts it. */
void fake_cuda_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Whether ctx is a live context of this fake. */
int fake_cuda_ctx_valid(void *ctx);
/* The kind of the live allocation holding [ptr, ptr + bytes), or -1 when none does. */
int fake_cuda_ptr_kind(uint64_t ptr, size_t bytes);
void fake_cuda_get_stats(struct fake_cuda_stats *out);

#endif
