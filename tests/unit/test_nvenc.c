/*
 * test_nvenc — the NVENC backend (hwenc/nvenc.c) against the fake libcuda.so.1 and
 * libnvidia-encode.so.1 (tests/fakes/nvenc/, put on LD_LIBRARY_PATH by ctest). The fakes encode
 * with x264 and check every call, so what is asserted here is a real H.264 stream shaped by what
 * the backend asked for, and a clean run (the fakes' error count stays 0).
 * Issue 4: "SPS/PPS via GetSequenceParams", "Input either NVENC input buffers that sources draw
 * into (lock/unlock) or CUDA device memory registered with NVENC; dmabuf import through CUDA
 * external memory", "When libcuda.so.1 is missing, probe/query say exactly that".
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "hwenc/hwenc.h"

#define MAX_PACKETS 256

struct recorder {
    int count;
    int64_t pts[MAX_PACKETS], dts[MAX_PACKETS];
    bool keyframe[MAX_PACKETS];
    int nal_types[MAX_PACKETS]; /* bit n: the AU holds a NAL unit of type n */
};

static char stats_path[64];

static long next_nal(const uint8_t *p, size_t size, size_t pos)
{
    for (size_t i = pos; i + 3 <= size; i++)
        if (p[i] == 0 && p[i + 1] == 0 && p[i + 2] == 1)
            return (long)(i + 3);
    return -1;
}

static int nal_type_mask(const uint8_t *p, size_t size)
{
    int mask = 0;
    for (long at = next_nal(p, size, 0); at >= 0 && (size_t)at < size;
         at = next_nal(p, size, (size_t)at))
        mask |= 1 << (p[at] & 0x1f);
    return mask;
}

static int record_emit(void *opaque, const struct h264_packet *pkt)
{
    struct recorder *r = opaque;
    assert_true(r->count < MAX_PACKETS);
    assert_true(pkt->size > 4);
    assert_memory_equal(pkt->data, "\0\0", 2); /* Annex B */
    r->pts[r->count] = pkt->pts;
    r->dts[r->count] = pkt->dts;
    r->keyframe[r->count] = pkt->keyframe;
    r->nal_types[r->count] = nal_type_mask(pkt->data, pkt->size);
    r->count++;
    return 0;
}

/* A counter from the fake's JSON stats, -1 when absent. */
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

static const struct hwenc_ops *nvenc(void)
{
    const struct hwenc_ops *ops = hwenc_find("nvenc");
    assert_non_null(ops);
    return ops;
}

static struct hwenc_params small_params(void)
{
    struct hwenc_params p;
    hwenc_params_default(&p);
    p.width = 320;
    p.height = 240;
    p.keyint_frames = 10;
    return p;
}

static void draw_nv12(struct frame *f, int n)
{
    for (int y = 0; y < f->height; y++)
        for (int x = 0; x < f->width; x++)
            f->data[0][(size_t)y * (size_t)f->linesize[0] + (size_t)x] = (uint8_t)(x + y + 3 * n);
    for (int y = 0; y < f->height / 2; y++)
        memset(f->data[1] + (size_t)y * (size_t)f->linesize[1], 128 + (n % 8), (size_t)f->width);
}

static int reset_env(void **state)
{
    (void)state;
    unsetenv("FAKE_CUDA_FAIL_INIT");
    unsetenv("FAKE_CUDA_DEVICES");
    unsetenv("FAKE_NVENC_FAIL_OPEN");
    unsetenv("FAKE_NVENC_FAIL_ENCODE_AT");
    unsetenv("FAKE_NVENC_MAX_VERSION");
    unsetenv("FAKE_NVENC_PROFILES");
    unlink(stats_path);
    return 0;
}

static void test_probe_and_query(void **state)
{
    (void)state;
    struct hwenc_params p = small_params();
    char why[256] = "";
    assert_int_equal(nvenc()->probe(&p, why, sizeof(why)), 0);
    assert_string_equal(why, "ok");
    assert_int_equal(stat_value("frames_encoded"), 1); /* a real one-frame encode */
    struct hwenc_caps caps;
    assert_int_equal(nvenc()->query(&p, &caps, why, sizeof(why)), 0);
    assert_string_equal(caps.device, "GPU 0: Fake NVENC GPU 0");
    assert_non_null(strstr(caps.driver, "NVENC API 11.1 (driver supports 11.1)"));
    assert_string_equal(caps.profiles, "high,main,baseline");
    assert_int_equal(caps.max_width, 4096);
    assert_int_equal(caps.max_height, 4096);
}

/* 25 frames, keyint 10: IDR at 0, 10, 20 and only there; SPS/PPS only in extradata. */
static void test_stream_shape(void **state)
{
    (void)state;
    struct hwenc_params p = small_params();
    struct hwenc *enc;
    assert_int_equal(nvenc()->open(&enc, &p), 0);
    assert_non_null(strstr(enc->description, "High"));
    /* extradata = SPS (type 7, profile_idc 100 = High) then PPS (type 8) */
    const uint8_t *x = enc->extradata;
    assert_true(enc->extradata_size > 8);
    long sps = next_nal(x, enc->extradata_size, 0);
    assert_true(sps >= 0);
    assert_int_equal(x[sps] & 0x1f, 7);
    assert_int_equal(x[sps + 1], 100);
    long pps = next_nal(x, enc->extradata_size, (size_t)sps);
    assert_true(pps > sps);
    assert_int_equal(x[pps] & 0x1f, 8);
    assert_int_equal(nal_type_mask(x, enc->extradata_size), (1 << 7) | (1 << 8));

    struct recorder r = {0};
    struct packet_sink sink = {.emit = record_emit, .opaque = &r};
    for (int i = 0; i < 25; i++) {
        struct frame *f;
        assert_int_equal(enc->ops->get_input(enc, &f), 0);
        assert_int_equal(f->format, FRAME_FORMAT_NV12);
        assert_int_equal(f->width, 320);
        assert_true(f->linesize[0] >= 320);
        assert_int_equal(f->buffer_id, (unsigned)(i % 2)); /* the pool, in turn */
        draw_nv12(f, i);
        f->pts = i;
        assert_int_equal(enc->ops->encode(enc, f, &sink), 0);
        assert_int_equal(f->copied_bytes, 0);
    }
    assert_int_equal(enc->ops->flush(enc, &sink), 0);
    enc->ops->close(enc);
    assert_int_equal(r.count, 25);
    for (int i = 0; i < r.count; i++) {
        assert_int_equal(r.pts[i], i);
        assert_int_equal(r.dts[i], i);
        bool idr = i % 10 == 0;
        assert_int_equal(r.keyframe[i], idr);
        assert_int_equal(r.nal_types[i] & (1 << 5), idr ? 1 << 5 : 0);
        assert_int_equal(r.nal_types[i] & (1 << 1), idr ? 0 : 1 << 1);
        assert_int_equal(r.nal_types[i] & ((1 << 7) | (1 << 8)), 0); /* no repeated SPS/PPS */
    }
    /* Zero copy: every picture came from a locked NVENC input buffer, locks balanced. */
    assert_int_equal(stat_value("inputs_locked_buffer"), 25);
    assert_int_equal(stat_value("input_locks"), 25);
    assert_int_equal(stat_value("input_unlocks"), 25);
    assert_int_equal(stat_value("bitstream_locks"), stat_value("bitstream_unlocks"));
    assert_int_equal(stat_value("cuda_memcpy_htod_bytes"), 0);
    assert_int_equal(stat_value("idr_period"), 10);
    assert_int_equal(stat_value("preset"), 3);
    assert_int_equal(stat_value("tuning"), 3); /* ULTRA_LOW_LATENCY: tune zerolatency */
    assert_int_equal(stat_value("errors"), 0);
}

/* The pipeline skips ticks under load: keyframes stay on the frame clock (pts), not on a count
 * of pictures, so they still come every keyint ticks (here pts 0, 10, 20 with 5 and 13 skipped). */
static void test_keyframes_follow_clock(void **state)
{
    (void)state;
    struct hwenc_params p = small_params();
    struct hwenc *enc;
    assert_int_equal(nvenc()->open(&enc, &p), 0);
    struct recorder r = {0};
    struct packet_sink sink = {.emit = record_emit, .opaque = &r};
    for (int pts = 0; pts < 30; pts++) {
        if (pts == 5 || pts == 13)
            continue;
        struct frame *f;
        assert_int_equal(enc->ops->get_input(enc, &f), 0);
        draw_nv12(f, pts);
        f->pts = pts;
        assert_int_equal(enc->ops->encode(enc, f, &sink), 0);
    }
    enc->ops->close(enc);
    assert_int_equal(r.count, 28);
    for (int i = 0; i < r.count; i++)
        assert_int_equal(r.keyframe[i], r.pts[i] % 10 == 0);
    assert_int_equal(stat_value("idr_frames"), 3);
    assert_int_equal(stat_value("errors"), 0);
}

/* A buffer lent but never encoded (the source failed) is lent again, still locked once. */
static void test_lent_twice(void **state)
{
    (void)state;
    struct hwenc_params p = small_params();
    struct hwenc *enc;
    assert_int_equal(nvenc()->open(&enc, &p), 0);
    struct frame *a, *b;
    assert_int_equal(enc->ops->get_input(enc, &a), 0);
    assert_int_equal(enc->ops->get_input(enc, &b), 0);
    assert_ptr_equal(a, b);
    enc->ops->close(enc); /* closing with a lent buffer unlocks it */
    assert_int_equal(stat_value("input_locks"), 1);
    assert_int_equal(stat_value("input_unlocks"), 1);
    assert_int_equal(stat_value("errors"), 0);
}

static int profile_idc_of(const struct hwenc *enc)
{
    long sps = next_nal(enc->extradata, enc->extradata_size, 0);
    return sps >= 0 ? enc->extradata[sps + 1] : -1;
}

static void test_profile_fallback(void **state)
{
    (void)state;
    struct hwenc_params p = small_params();
    struct hwenc *enc;
    setenv("FAKE_NVENC_PROFILES", "main,baseline", 1);
    assert_int_equal(nvenc()->open(&enc, &p), 0);
    assert_int_equal(profile_idc_of(enc), 77);
    assert_non_null(strstr(enc->description, "Main"));
    enc->ops->close(enc);
    setenv("FAKE_NVENC_PROFILES", "baseline", 1);
    p.profile = "main";
    assert_int_equal(nvenc()->open(&enc, &p), 0);
    assert_int_equal(profile_idc_of(enc), 66);
    enc->ops->close(enc);
    setenv("FAKE_NVENC_PROFILES", "high", 1);
    p.profile = "baseline";
    char why[256] = "";
    assert_true(nvenc()->probe(&p, why, sizeof(why)) < 0);
    assert_non_null(strstr(why, "profile baseline or lower not offered"));
}

static void test_refusals(void **state)
{
    (void)state;
    struct hwenc_params p = small_params();
    char why[256] = "";
    setenv("FAKE_CUDA_FAIL_INIT", "1", 1);
    assert_int_equal(nvenc()->probe(&p, why, sizeof(why)), -ENODEV);
    assert_non_null(strstr(why, "cuInit failed"));
    unsetenv("FAKE_CUDA_FAIL_INIT");
    setenv("FAKE_NVENC_FAIL_OPEN", "1", 1);
    assert_int_equal(nvenc()->probe(&p, why, sizeof(why)), -ENODEV);
    assert_non_null(strstr(why, "cannot open an encode session: NV_ENC_ERR_NO_ENCODE_DEVICE"));
    unsetenv("FAKE_NVENC_FAIL_OPEN");
    setenv("FAKE_NVENC_MAX_VERSION", "10.0", 1);
    assert_int_equal(nvenc()->probe(&p, why, sizeof(why)), -ENOTSUP);
    assert_string_equal(why, "driver too old: supports NVENC API 10.0, agentcast needs ≥ 11.1");
    struct hwenc_caps caps;
    assert_int_equal(nvenc()->query(&p, &caps, why, sizeof(why)), -ENOTSUP);
    unsetenv("FAKE_NVENC_MAX_VERSION");
    /* --device is a CUDA index */
    setenv("FAKE_CUDA_DEVICES", "2", 1);
    p.device = "1";
    assert_int_equal(nvenc()->query(&p, &caps, why, sizeof(why)), 0);
    assert_string_equal(caps.device, "GPU 1: Fake NVENC GPU 1");
    p.device = "2";
    assert_int_equal(nvenc()->probe(&p, why, sizeof(why)), -ENODEV);
    assert_non_null(strstr(why, "not a CUDA device index"));
    p.device = "/dev/dri/renderD128";
    assert_int_equal(nvenc()->probe(&p, why, sizeof(why)), -ENODEV);
    p.device = NULL;
    p.width = 8192; /* above the encoder's 4096 */
    assert_int_equal(nvenc()->probe(&p, why, sizeof(why)), -EINVAL);
    assert_non_null(strstr(why, "8192x240"));
}

/* A device that fails mid-stream: encode returns a negative errno (the pipeline falls back). */
static void test_encode_failure(void **state)
{
    (void)state;
    struct hwenc_params p = small_params();
    struct hwenc *enc;
    setenv("FAKE_NVENC_FAIL_ENCODE_AT", "3", 1);
    assert_int_equal(nvenc()->open(&enc, &p), 0);
    struct recorder r = {0};
    struct packet_sink sink = {.emit = record_emit, .opaque = &r};
    for (int i = 0; i < 3; i++) {
        struct frame *f;
        assert_int_equal(enc->ops->get_input(enc, &f), 0);
        draw_nv12(f, i);
        f->pts = i;
        int ret = enc->ops->encode(enc, f, &sink);
        if (i < 2)
            assert_int_equal(ret, 0);
        else
            assert_int_equal(ret, -EIO);
    }
    enc->ops->close(enc);
    assert_int_equal(r.count, 2);
    assert_int_equal(stat_value("errors"), 0); /* injected, not a misuse */
}

/* A memfd stands in for a dmabuf: imported through CUDA external memory, never copied. */
static void test_import(void **state)
{
    (void)state;
    struct hwenc_params p = small_params();
    struct hwenc *enc;
    assert_int_equal(nvenc()->open(&enc, &p), 0);
    const uint32_t pitch = 512;
    size_t size = (size_t)pitch * 240 * 3 / 2;
    int fd = memfd_create("fake-dmabuf", MFD_CLOEXEC);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, (off_t)size), 0);
    uint8_t *map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    assert_true(map != MAP_FAILED);
    memset(map, 90, size);
    struct frame_dmabuf d = {
        .width = 320,
        .height = 240,
        .drm_format = 0x3231564e, /* NV12 */
        .n_planes = 2,
        .fd = {fd, fd},
        .offset = {0, pitch * 240},
        .pitch = {pitch, pitch},
        .size = {size, size},
    };
    struct recorder r = {0};
    struct packet_sink sink = {.emit = record_emit, .opaque = &r};
    for (int i = 0; i < 3; i++) {
        struct frame *f;
        assert_int_equal(enc->ops->import(enc, &d, &f), 0);
        f->pts = i;
        assert_int_equal(enc->ops->encode(enc, f, &sink), 0);
        assert_int_equal(f->copied_bytes, 0);
    }
    /* Refused: a different size, a tiled modifier. */
    struct frame *f;
    d.width = 640;
    assert_int_equal(enc->ops->import(enc, &d, &f), -EINVAL);
    d.width = 320;
    d.modifier = 1;
    assert_int_equal(enc->ops->import(enc, &d, &f), -EINVAL);
    enc->ops->close(enc);
    assert_int_equal(fcntl(fd, F_GETFD), FD_CLOEXEC); /* the caller's fd is still the caller's */
    munmap(map, size);
    close(fd);
    assert_int_equal(r.count, 3);
    assert_true(r.keyframe[0]);
    assert_int_equal(stat_value("inputs_imported"), 3);
    assert_int_equal(stat_value("inputs_locked_buffer"), 0);
    assert_int_equal(stat_value("cuda_external_imports"), 3);
    assert_int_equal(stat_value("registrations"), 3);
    assert_int_equal(stat_value("unregistrations"), 3);
    assert_int_equal(stat_value("maps"), stat_value("unmaps"));
    assert_int_equal(stat_value("cuda_memcpy_htod_bytes"), 0);
    assert_int_equal(stat_value("cuda_ctx_pushes"), stat_value("cuda_ctx_pops"));
    assert_int_equal(stat_value("errors"), 0);
}

/* Without the driver (LD_LIBRARY_PATH is read once at start, hence a child process). */
static void test_missing_driver(void **state)
{
    (void)state;
    char self[4096];
    ssize_t len = readlink("/proc/self/exe", self, sizeof(self) - 1);
    assert_true(len > 0);
    self[len] = '\0';
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(fds[1], STDOUT_FILENO);
        setenv("LD_LIBRARY_PATH", "/nonexistent", 1);
        execl(self, "test_nvenc", "--missing-driver", (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    char out[512] = "";
    ssize_t n = read(fds[0], out, sizeof(out) - 1);
    close(fds[0]);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    assert_true(n > 0);
    assert_string_equal(out, "probe=-2 why=libcuda.so.1 not found: no NVIDIA driver installed\n"
                             "query=-2 why=libcuda.so.1 not found: no NVIDIA driver installed\n");
}

static int missing_driver_child(void)
{
    struct hwenc_params p = small_params();
    char why[256] = "";
    int rc = nvenc()->probe(&p, why, sizeof(why));
    printf("probe=%d why=%s\n", rc, why);
    struct hwenc_caps caps;
    rc = nvenc()->query(&p, &caps, why, sizeof(why));
    printf("query=%d why=%s\n", rc, why);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--missing-driver") == 0)
        return missing_driver_child();
    snprintf(stats_path, sizeof(stats_path), "/tmp/test_nvenc_stats.%d.json", (int)getpid());
    setenv("FAKE_NVENC_STATS", stats_path, 1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_probe_and_query, reset_env),
        cmocka_unit_test_setup(test_stream_shape, reset_env),
        cmocka_unit_test_setup(test_keyframes_follow_clock, reset_env),
        cmocka_unit_test_setup(test_lent_twice, reset_env),
        cmocka_unit_test_setup(test_profile_fallback, reset_env),
        cmocka_unit_test_setup(test_refusals, reset_env),
        cmocka_unit_test_setup(test_encode_failure, reset_env),
        cmocka_unit_test_setup(test_import, reset_env),
        cmocka_unit_test_setup(test_missing_driver, reset_env),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    unlink(stats_path);
    return failed;
}
