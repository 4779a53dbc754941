/*
 * test_nvenc_fake — the fake NVIDIA driver itself (tests/fakes/nvenc/): it must catch the bugs
 * the NVENC backend could have, not hide them. Issue 4: "strict: they validate what they are
 * handed (parameter buffer types and sizes, rate-control values, resolution and alignment,
 * surface state and lock/unlock pairing, buffer lifetimes, use after destroy) and fail loudly".
 * Each misuse below must be refused with an error status and counted in the fake's statistics
 * (its stderr shows the "fake-nvenc: ERROR …" / "fake-cuda: ERROR …" lines). The libraries come
 * through nv-codec-headers' loader, as in the product; ctest puts them on LD_LIBRARY_PATH.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <ffnvcodec/dynlink_loader.h>

struct fake {
    CudaFunctions *cu;
    NvencFunctions *nvl;
    NV_ENCODE_API_FUNCTION_LIST nv;
    CUcontext ctx;
    void *enc;
    NV_ENC_CONFIG cfg;
    NV_ENC_INITIALIZE_PARAMS init;
};

static char stats_path[64];

/* A call that must be refused (NV_ENC_SUCCESS and CUDA_SUCCESS are both 0) and counted. */
#define MISUSE(call)                                                                               \
    do {                                                                                           \
        assert_int_not_equal((call), 0);                                                           \
        errors++;                                                                                  \
    } while (0)

static long long stat_value(const char *key)
{
    FILE *f = fopen(stats_path, "r");
    assert_non_null(f);
    char buf[4096];
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    char pattern[64];
    snprintf(pattern, sizeof(pattern), "\"%s\":", key);
    const char *at = strstr(buf, pattern);
    return at ? strtoll(at + strlen(pattern), NULL, 10) : -1;
}

/* A session initialised the way the backend does it (320x240, P3, ULL, High, VBR). */
static void fake_open(struct fake *f, bool initialize)
{
    memset(f, 0, sizeof(*f));
    assert_int_equal(cuda_load_functions(&f->cu, NULL), 0);
    assert_int_equal(nvenc_load_functions(&f->nvl, NULL), 0);
    assert_int_equal(f->cu->cuInit(0), CUDA_SUCCESS);
    CUdevice dev;
    assert_int_equal(f->cu->cuDeviceGet(&dev, 0), CUDA_SUCCESS);
    assert_int_equal(f->cu->cuCtxCreate(&f->ctx, 0, dev), CUDA_SUCCESS);
    CUcontext dummy;
    assert_int_equal(f->cu->cuCtxPopCurrent(&dummy), CUDA_SUCCESS);
    f->nv.version = NV_ENCODE_API_FUNCTION_LIST_VER;
    assert_int_equal(f->nvl->NvEncodeAPICreateInstance(&f->nv), NV_ENC_SUCCESS);
    NV_ENC_OPEN_ENCODE_SESSION_EX_PARAMS op = {.version = NV_ENC_OPEN_ENCODE_SESSION_EX_PARAMS_VER,
                                               .deviceType = NV_ENC_DEVICE_TYPE_CUDA,
                                               .device = f->ctx,
                                               .apiVersion = NVENCAPI_VERSION};
    assert_int_equal(f->nv.nvEncOpenEncodeSessionEx(&op, &f->enc), NV_ENC_SUCCESS);
    if (!initialize)
        return;
    NV_ENC_PRESET_CONFIG pc = {.version = NV_ENC_PRESET_CONFIG_VER,
                               .presetCfg = {.version = NV_ENC_CONFIG_VER}};
    assert_int_equal(f->nv.nvEncGetEncodePresetConfigEx(f->enc, NV_ENC_CODEC_H264_GUID,
                                                        NV_ENC_PRESET_P3_GUID,
                                                        NV_ENC_TUNING_INFO_ULTRA_LOW_LATENCY, &pc),
                     NV_ENC_SUCCESS);
    f->cfg = pc.presetCfg;
    f->cfg.profileGUID = NV_ENC_H264_PROFILE_HIGH_GUID;
    f->cfg.gopLength = 30;
    f->cfg.frameIntervalP = 1;
    f->cfg.encodeCodecConfig.h264Config.idrPeriod = 30;
    f->cfg.rcParams.rateControlMode = NV_ENC_PARAMS_RC_VBR;
    f->cfg.rcParams.averageBitRate = 1000000;
    f->cfg.rcParams.maxBitRate = 1000000;
    f->cfg.rcParams.vbvBufferSize = 2000000;
    f->init = (NV_ENC_INITIALIZE_PARAMS){
        .version = NV_ENC_INITIALIZE_PARAMS_VER,
        .encodeGUID = NV_ENC_CODEC_H264_GUID,
        .presetGUID = NV_ENC_PRESET_P3_GUID,
        .encodeWidth = 320,
        .encodeHeight = 240,
        .frameRateNum = 30,
        .frameRateDen = 1,
        .enablePTD = 1,
        .encodeConfig = &f->cfg,
        .tuningInfo = NV_ENC_TUNING_INFO_ULTRA_LOW_LATENCY,
        .bufferFormat = NV_ENC_BUFFER_FORMAT_NV12,
    };
    assert_int_equal(f->nv.nvEncInitializeEncoder(f->enc, &f->init), NV_ENC_SUCCESS);
}

static void fake_close(struct fake *f)
{
    assert_int_equal(f->nv.nvEncDestroyEncoder(f->enc), NV_ENC_SUCCESS);
    assert_int_equal(f->cu->cuCtxDestroy(f->ctx), CUDA_SUCCESS);
    nvenc_free_functions(&f->nvl);
    cuda_free_functions(&f->cu);
}

static NV_ENC_INPUT_PTR new_input(struct fake *f)
{
    NV_ENC_CREATE_INPUT_BUFFER cb = {.version = NV_ENC_CREATE_INPUT_BUFFER_VER,
                                     .width = 320,
                                     .height = 240,
                                     .bufferFmt = NV_ENC_BUFFER_FORMAT_NV12};
    assert_int_equal(f->nv.nvEncCreateInputBuffer(f->enc, &cb), NV_ENC_SUCCESS);
    return cb.inputBuffer;
}

static NV_ENC_OUTPUT_PTR new_bitstream(struct fake *f)
{
    NV_ENC_CREATE_BITSTREAM_BUFFER bb = {.version = NV_ENC_CREATE_BITSTREAM_BUFFER_VER};
    assert_int_equal(f->nv.nvEncCreateBitstreamBuffer(f->enc, &bb), NV_ENC_SUCCESS);
    return bb.bitstreamBuffer;
}

static NVENCSTATUS encode(struct fake *f, NV_ENC_INPUT_PTR in, uint32_t pitch,
                          NV_ENC_OUTPUT_PTR out)
{
    NV_ENC_PIC_PARAMS pp = {.version = NV_ENC_PIC_PARAMS_VER,
                            .inputWidth = 320,
                            .inputHeight = 240,
                            .inputPitch = pitch,
                            .inputBuffer = in,
                            .outputBitstream = out,
                            .bufferFmt = NV_ENC_BUFFER_FORMAT_NV12,
                            .pictureStruct = NV_ENC_PIC_STRUCT_FRAME};
    return f->nv.nvEncEncodePicture(f->enc, &pp);
}

static int reset(void **state)
{
    (void)state;
    unlink(stats_path);
    return 0;
}

/* Initialisation values the backend might get wrong. */
static void test_refuses_bad_init(void **state)
{
    (void)state;
    struct fake f;
    fake_open(&f, false);
    NV_ENC_CONFIG cfg = {.version = NV_ENC_CONFIG_VER,
                         .profileGUID = NV_ENC_H264_PROFILE_HIGH_GUID,
                         .gopLength = 60,
                         .frameIntervalP = 1,
                         .rcParams = {.version = NV_ENC_RC_PARAMS_VER,
                                      .rateControlMode = NV_ENC_PARAMS_RC_VBR,
                                      .averageBitRate = 1500000,
                                      .maxBitRate = 1500000,
                                      .vbvBufferSize = 3000000}};
    cfg.encodeCodecConfig.h264Config.idrPeriod = 60;
    cfg.encodeCodecConfig.h264Config.chromaFormatIDC = 1;
    NV_ENC_INITIALIZE_PARAMS good = {.version = NV_ENC_INITIALIZE_PARAMS_VER,
                                     .encodeGUID = NV_ENC_CODEC_H264_GUID,
                                     .presetGUID = NV_ENC_PRESET_P3_GUID,
                                     .encodeWidth = 320,
                                     .encodeHeight = 240,
                                     .frameRateNum = 30,
                                     .frameRateDen = 1,
                                     .enablePTD = 1,
                                     .encodeConfig = &cfg,
                                     .tuningInfo = NV_ENC_TUNING_INFO_LOW_LATENCY,
                                     .bufferFormat = NV_ENC_BUFFER_FORMAT_NV12};
    NV_ENC_INITIALIZE_PARAMS ip;
    NV_ENC_CONFIG saved = cfg;
    int refused = 0;
#define EXPECT_REFUSED(change)                                                                     \
    do {                                                                                           \
        ip = good;                                                                                 \
        cfg = saved;                                                                               \
        change;                                                                                    \
        assert_int_not_equal(f.nv.nvEncInitializeEncoder(f.enc, &ip), NV_ENC_SUCCESS);             \
        refused++;                                                                                 \
    } while (0)
    EXPECT_REFUSED(ip.version = NV_ENC_INITIALIZE_PARAMS_VER - 1);
    EXPECT_REFUSED(cfg.version = 0);
    EXPECT_REFUSED(cfg.rcParams.version = 0);
    EXPECT_REFUSED(ip.presetGUID = NV_ENC_CODEC_H264_GUID);
    EXPECT_REFUSED(ip.tuningInfo = NV_ENC_TUNING_INFO_UNDEFINED);
    EXPECT_REFUSED(ip.encodeWidth = 321);
    EXPECT_REFUSED(ip.frameRateDen = 0);
    EXPECT_REFUSED(ip.enableEncodeAsync = 1);
    EXPECT_REFUSED(ip.bufferFormat = NV_ENC_BUFFER_FORMAT_ARGB);
    EXPECT_REFUSED(cfg.frameIntervalP = 3);
    EXPECT_REFUSED(cfg.encodeCodecConfig.h264Config.idrPeriod = 30);
    EXPECT_REFUSED(cfg.rcParams.rateControlMode = NV_ENC_PARAMS_RC_CONSTQP);
    EXPECT_REFUSED(cfg.rcParams.maxBitRate = 1000000); /* VBR cap below the bitrate */
    EXPECT_REFUSED(cfg.rcParams.vbvInitialDelay = 4000000);
    EXPECT_REFUSED(cfg.profileGUID = NV_ENC_H264_PROFILE_HIGH_444_GUID);
#undef EXPECT_REFUSED
    /* ...and the good one still works: the refusals left no state behind. */
    ip = good;
    cfg = saved;
    assert_int_equal(f.nv.nvEncInitializeEncoder(f.enc, &ip), NV_ENC_SUCCESS);
    fake_close(&f);
    assert_int_equal(stat_value("errors"), refused);
}

/* Buffer lifetimes and lock pairing. */
static void test_catches_buffer_misuse(void **state)
{
    (void)state;
    struct fake f;
    fake_open(&f, true);
    NV_ENC_INPUT_PTR in = new_input(&f);
    NV_ENC_OUTPUT_PTR out = new_bitstream(&f);
    NV_ENC_LOCK_INPUT_BUFFER lk = {.version = NV_ENC_LOCK_INPUT_BUFFER_VER, .inputBuffer = in};
    assert_int_equal(f.nv.nvEncLockInputBuffer(f.enc, &lk), NV_ENC_SUCCESS);
    memset(lk.bufferDataPtr, 100, (size_t)lk.pitch * 240 * 3 / 2);
    int errors = 0;
    /* 1: lock twice; 2: encode while locked */
    MISUSE(f.nv.nvEncLockInputBuffer(f.enc, &lk));
    MISUSE(encode(&f, in, lk.pitch, out));
    assert_int_equal(f.nv.nvEncUnlockInputBuffer(f.enc, in), NV_ENC_SUCCESS);
    /* 3: unlock an unlocked buffer; 4: a pitch that is not the buffer's */
    MISUSE(f.nv.nvEncUnlockInputBuffer(f.enc, in));
    MISUSE(encode(&f, in, 320, out));
    assert_int_equal(encode(&f, in, lk.pitch, out), NV_ENC_SUCCESS);
    /* 5: encode into a bitstream buffer nobody read yet */
    MISUSE(encode(&f, in, lk.pitch, out));
    NV_ENC_LOCK_BITSTREAM lb = {.version = NV_ENC_LOCK_BITSTREAM_VER, .outputBitstream = out};
    assert_int_equal(f.nv.nvEncLockBitstream(f.enc, &lb), NV_ENC_SUCCESS);
    assert_true(lb.bitstreamSizeInBytes > 0);
    assert_int_equal(lb.pictureType, NV_ENC_PIC_TYPE_IDR);
    /* 6: destroy a locked bitstream buffer */
    MISUSE(f.nv.nvEncDestroyBitstreamBuffer(f.enc, out));
    assert_int_equal(f.nv.nvEncUnlockBitstream(f.enc, out), NV_ENC_SUCCESS);
    /* 7: unlock twice */
    MISUSE(f.nv.nvEncUnlockBitstream(f.enc, out));
    assert_int_equal(f.nv.nvEncDestroyInputBuffer(f.enc, in), NV_ENC_SUCCESS);
    /* 8: destroy twice; 9: lock after destroy; 10: encode after destroy */
    MISUSE(f.nv.nvEncDestroyInputBuffer(f.enc, in));
    MISUSE(f.nv.nvEncLockInputBuffer(f.enc, &lk));
    MISUSE(encode(&f, in, lk.pitch, out));
    /* 11: a wrong struct version */
    lb.version = NV_ENC_LOCK_BITSTREAM_VER + 1;
    MISUSE(f.nv.nvEncLockBitstream(f.enc, &lb));
    /* 12: the bitstream buffer leaks at DestroyEncoder */
    errors++;
    fake_close(&f);
    assert_int_equal(stat_value("errors"), errors);
    assert_int_equal(stat_value("frames_encoded"), 1);
}

/* Registered CUDA memory: pointer, pitch and pairing, and the "device memory" counters. */
static void test_catches_resource_misuse(void **state)
{
    (void)state;
    struct fake f;
    fake_open(&f, true);
    CUcontext dummy;
    CUdeviceptr mem;
    size_t pitch;
    int errors = 0;
    /* 1: device memory without a current context */
    MISUSE(f.cu->cuMemAllocPitch(&mem, &pitch, 320, 360, 4));
    assert_int_equal(f.cu->cuCtxPushCurrent(f.ctx), CUDA_SUCCESS);
    assert_int_equal(f.cu->cuMemAllocPitch(&mem, &pitch, 320, 360, 4), CUDA_SUCCESS);
    _Alignas(256) static uint8_t host[320 * 360];
    memset(host, 77, sizeof(host));
    CUDA_MEMCPY2D cp = {.srcMemoryType = CU_MEMORYTYPE_HOST,
                        .srcHost = host,
                        .srcPitch = 320,
                        .dstMemoryType = CU_MEMORYTYPE_DEVICE,
                        .dstDevice = mem,
                        .dstPitch = pitch,
                        .WidthInBytes = 320,
                        .Height = 360};
    assert_int_equal(f.cu->cuMemcpy2D(&cp), CUDA_SUCCESS);
    NV_ENC_REGISTER_RESOURCE rr = {.version = NV_ENC_REGISTER_RESOURCE_VER,
                                   .resourceType = NV_ENC_INPUT_RESOURCE_TYPE_CUDADEVICEPTR,
                                   .width = 320,
                                   .height = 240,
                                   .pitch = (uint32_t)pitch,
                                   .resourceToRegister = (void *)(uintptr_t)mem,
                                   .bufferFormat = NV_ENC_BUFFER_FORMAT_NV12,
                                   .bufferUsage = NV_ENC_INPUT_IMAGE};
    NV_ENC_REGISTER_RESOURCE bad = rr;
    /* 2: a pitch below the width; 3: a misaligned pointer; 4: memory CUDA never gave out */
    bad.pitch = 300;
    MISUSE(f.nv.nvEncRegisterResource(f.enc, &bad));
    bad = rr;
    bad.resourceToRegister = (void *)(uintptr_t)(mem + 16);
    MISUSE(f.nv.nvEncRegisterResource(f.enc, &bad));
    bad = rr;
    bad.resourceToRegister = host;
    MISUSE(f.nv.nvEncRegisterResource(f.enc, &bad));
    assert_int_equal(f.nv.nvEncRegisterResource(f.enc, &rr), NV_ENC_SUCCESS);
    NV_ENC_MAP_INPUT_RESOURCE mr = {.version = NV_ENC_MAP_INPUT_RESOURCE_VER,
                                    .registeredResource = rr.registeredResource};
    assert_int_equal(f.nv.nvEncMapInputResource(f.enc, &mr), NV_ENC_SUCCESS);
    /* 5: map twice; 6: unregister while mapped */
    MISUSE(f.nv.nvEncMapInputResource(f.enc, &mr));
    MISUSE(f.nv.nvEncUnregisterResource(f.enc, rr.registeredResource));
    NV_ENC_OUTPUT_PTR out = new_bitstream(&f);
    assert_int_equal(encode(&f, mr.mappedResource, (uint32_t)pitch, out), NV_ENC_SUCCESS);
    NV_ENC_LOCK_BITSTREAM lb = {.version = NV_ENC_LOCK_BITSTREAM_VER, .outputBitstream = out};
    assert_int_equal(f.nv.nvEncLockBitstream(f.enc, &lb), NV_ENC_SUCCESS);
    assert_int_equal(f.nv.nvEncUnlockBitstream(f.enc, out), NV_ENC_SUCCESS);
    assert_int_equal(f.nv.nvEncUnmapInputResource(f.enc, mr.mappedResource), NV_ENC_SUCCESS);
    /* 7: unmap twice */
    MISUSE(f.nv.nvEncUnmapInputResource(f.enc, mr.mappedResource));
    assert_int_equal(f.nv.nvEncUnregisterResource(f.enc, rr.registeredResource), NV_ENC_SUCCESS);
    assert_int_equal(f.nv.nvEncDestroyBitstreamBuffer(f.enc, out), NV_ENC_SUCCESS);
    assert_int_equal(f.cu->cuMemFree(mem), CUDA_SUCCESS);
    /* 8: double free */
    MISUSE(f.cu->cuMemFree(mem));
    assert_int_equal(f.cu->cuCtxPopCurrent(&dummy), CUDA_SUCCESS);
    /* 9: pop without push */
    MISUSE(f.cu->cuCtxPopCurrent(&dummy));
    fake_close(&f);
    assert_int_equal(stat_value("errors"), errors);
    assert_int_equal(stat_value("inputs_cuda_registered"), 1);
    assert_int_equal(stat_value("inputs_locked_buffer"), 0);
    assert_int_equal(stat_value("cuda_memcpy_htod_bytes"), 320 * 360);
}

int main(void)
{
    snprintf(stats_path, sizeof(stats_path), "/tmp/test_nvenc_fake.%d.json", (int)getpid());
    setenv("FAKE_NVENC_STATS", stats_path, 1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_refuses_bad_init, reset),
        cmocka_unit_test_setup(test_catches_buffer_misuse, reset),
        cmocka_unit_test_setup(test_catches_resource_misuse, reset),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    unlink(stats_path);
    return failed;
}
