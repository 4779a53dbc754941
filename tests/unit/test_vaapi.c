/*
 * test_vaapi — the VA-API backend (hwenc/vaapi.c) end to end against the strict fake driver
 * (tests/fakes/vaapi): packets, keyframe interval, SPS/PPS extradata, profile fallback, the
 * zero-copy input (derive), the vaPutImage path, dmabuf import, query, probe and the failure
 * knobs. The test runs itself again through tests/fakes/with-fake-vaapi, so it sees exactly
 * the environment the wrapper gives any command.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>
#include <drm_fourcc.h>
#include <fcntl.h>
#include <va/va.h>
#include <va/va_drm.h>

#include "hwenc/hwenc.h"
#include "media/h264_nal.h"

#define MAX_PACKETS 256
#define W 320
#define H 240
#define KEYINT 10

struct recorded {
    int64_t pts;
    bool keyframe;
    int nal_types; /* bit n: the AU holds a NAL unit of type n */
    int sps_profile;
};

struct recorder {
    struct recorded pkt[MAX_PACKETS];
    int count;
};

static char stats_path[256];

static int record_emit(void *opaque, const struct h264_packet *pkt)
{
    struct recorder *r = opaque;
    assert_true(r->count < MAX_PACKETS);
    struct recorded *rec = &r->pkt[r->count++];
    rec->pts = pkt->pts;
    rec->keyframe = pkt->keyframe;
    struct h264_nal_iter it;
    struct h264_nal nal;
    h264_nal_iter_init(&it, pkt->data, pkt->size);
    while (h264_nal_next(&it, &nal))
        rec->nal_types |= 1 << nal.type;
    return 0;
}

static struct hwenc_params params(void)
{
    struct hwenc_params p;
    hwenc_params_default(&p);
    p.width = W;
    p.height = H;
    p.keyint_frames = KEYINT;
    p.bitrate_kbps = 400;
    p.maxrate_kbps = 400;
    p.bufsize_kbit = 800;
    return p;
}

static const struct hwenc_ops *ops(void)
{
    const struct hwenc_ops *o = hwenc_find("vaapi");
    assert_non_null(o);
    return o;
}

/* Reads one counter of the fake's stats file (written at vaTerminate, i.e. at close). */
static long long stat_of(const char *key)
{
    FILE *f = fopen(stats_path, "r");
    assert_non_null(f);
    char buf[2048];
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    char pat[64];
    snprintf(pat, sizeof(pat), "\"%s\":", key);
    const char *at = strstr(buf, pat);
    assert_non_null(at);
    return strtoll(at + strlen(pat), NULL, 10);
}

static void draw(struct frame *f, int n)
{
    assert_int_equal(f->format, FRAME_FORMAT_NV12);
    for (int y = 0; y < f->height; y++)
        for (int x = 0; x < f->width; x++)
            f->data[0][(size_t)y * (size_t)f->linesize[0] + (size_t)x] =
                (uint8_t)(x + 2 * y + 5 * n);
    for (int y = 0; y < f->height / 2; y++)
        memset(f->data[1] + (size_t)y * (size_t)f->linesize[1], 100 + n, (size_t)f->width);
}

static int sps_profile(const struct hwenc *enc)
{
    struct h264_nal nal;
    if (!h264_find_nal(enc->extradata, enc->extradata_size, H264_NAL_SPS, &nal))
        return -1;
    struct h264_sps_info info;
    assert_int_equal(h264_sps_parse(nal.data, nal.size, &info), 0);
    assert_int_equal(info.width, W);
    assert_int_equal(info.height, H);
    return info.profile_idc;
}

static int setup(void **state)
{
    (void)state;
    unlink(stats_path);
    unsetenv("FAKE_VAAPI_PROFILES");
    unsetenv("FAKE_VAAPI_NO_DERIVE");
    unsetenv("FAKE_VAAPI_NO_LP");
    unsetenv("FAKE_VAAPI_FAIL_INIT");
    unsetenv("FAKE_VAAPI_FAIL_ENCODE_AT");
    return 0;
}

/* "A pool of surfaces with asynchronous sync": output lags input by exactly one frame; I/P
 * only, an IDR every keyint, SPS/PPS in the extradata; sources draw into the surfaces. */
static void test_stream(void **state)
{
    (void)state;
    struct hwenc_params p = params();
    struct hwenc *enc;
    assert_int_equal(ops()->open(&enc, &p), 0);
    assert_non_null(enc->extradata);
    assert_int_equal(sps_profile(enc), 100);
    assert_non_null(strstr(enc->description, "High"));
    struct recorder r = {0};
    struct packet_sink sink = {.emit = record_emit, .opaque = &r};
    int n = 3 * KEYINT + 3;
    for (int i = 0; i < n; i++) {
        struct frame *f;
        assert_int_equal(enc->ops->get_input(enc, &f), 0);
        assert_int_equal(f->buffer_id, (unsigned)(i % 4)); /* the pool, in turn */
        assert_int_equal(f->width, W);
        draw(f, i);
        f->pts = i;
        assert_int_equal(enc->ops->encode(enc, f, &sink), 0);
        assert_int_equal(f->copied_bytes, 0);
        assert_int_equal(r.count, i); /* one frame of latency, no more */
    }
    assert_int_equal(enc->ops->flush(enc, &sink), 0);
    assert_int_equal(r.count, n);
    for (int i = 0; i < n; i++) {
        assert_int_equal(r.pkt[i].pts, i);
        bool key = i % KEYINT == 0;
        assert_int_equal(r.pkt[i].keyframe, key);
        if (key)
            assert_true(r.pkt[i].nal_types & (1 << H264_NAL_IDR));
        else
            assert_int_equal(r.pkt[i].nal_types & ((1 << H264_NAL_IDR) | (1 << H264_NAL_SPS)), 0);
        assert_true(r.pkt[i].nal_types & ((1 << H264_NAL_IDR) | (1 << H264_NAL_SLICE)));
    }
    enc->ops->close(enc);
    assert_int_equal(stat_of("errors"), 0);
    assert_int_equal(stat_of("leaks"), 0);
    assert_int_equal(stat_of("filled_derive"), n);
    assert_int_equal(stat_of("filled_put"), 0);
    assert_int_equal(stat_of("put_bytes"), 0);
    assert_int_equal(stat_of("idr_period"), KEYINT);
    assert_int_equal(stat_of("bitrate_bps"), 400000);
    assert_int_equal(stat_of("hrd_buffer_bits"), 800000);
    assert_int_equal(stat_of("fps_num"), 30);
}

/* Ticks the pipeline skipped (pts gaps) do not delay keyframes: they follow the frame clock. */
static void test_keyframes_follow_pts(void **state)
{
    (void)state;
    struct hwenc_params p = params();
    struct hwenc *enc;
    assert_int_equal(ops()->open(&enc, &p), 0);
    struct recorder r = {0};
    struct packet_sink sink = {.emit = record_emit, .opaque = &r};
    const int64_t pts[] = {0, 1, 4, 8, 9, 11, 12, 19, 20, 25, 31};
    const bool key[] = {true, false, false, false, false, true, false, false, false, true, false};
    int n = (int)(sizeof(pts) / sizeof(pts[0]));
    for (int i = 0; i < n; i++) {
        struct frame *f;
        assert_int_equal(enc->ops->get_input(enc, &f), 0);
        draw(f, i);
        f->pts = pts[i];
        assert_int_equal(enc->ops->encode(enc, f, &sink), 0);
    }
    assert_int_equal(enc->ops->flush(enc, &sink), 0);
    assert_int_equal(r.count, n);
    for (int i = 0; i < n; i++) {
        assert_int_equal(r.pkt[i].pts, pts[i]);
        assert_int_equal(r.pkt[i].keyframe, key[i]);
    }
    enc->ops->close(enc);
    assert_int_equal(stat_of("errors"), 0);
}

/* "Profile High, falling back to Main then ConstrainedBaseline as the driver allows." */
static void test_profile_fallback(void **state)
{
    (void)state;
    struct hwenc_params p = params();
    struct hwenc *enc;
    setenv("FAKE_VAAPI_PROFILES", "main,baseline", 1);
    assert_int_equal(ops()->open(&enc, &p), 0);
    assert_int_equal(sps_profile(enc), 77);
    enc->ops->close(enc);
    setenv("FAKE_VAAPI_PROFILES", "baseline", 1);
    assert_int_equal(ops()->open(&enc, &p), 0);
    assert_int_equal(sps_profile(enc), 66);
    enc->ops->close(enc);
    p.profile = "main";
    setenv("FAKE_VAAPI_PROFILES", "high", 1);
    assert_true(ops()->open(&enc, &p) < 0);
    assert_null(enc);
}

/* Without vaDeriveImage the source draws into a VAImage and vaPutImage copies it: counted. */
static void test_put_path_counts_copies(void **state)
{
    (void)state;
    setenv("FAKE_VAAPI_NO_DERIVE", "1", 1);
    struct hwenc_params p = params();
    struct hwenc *enc;
    assert_int_equal(ops()->open(&enc, &p), 0);
    struct recorder r = {0};
    struct packet_sink sink = {.emit = record_emit, .opaque = &r};
    for (int i = 0; i < 5; i++) {
        struct frame *f;
        assert_int_equal(enc->ops->get_input(enc, &f), 0);
        draw(f, i);
        f->pts = i;
        f->copied_bytes = 0;
        assert_int_equal(enc->ops->encode(enc, f, &sink), 0);
        assert_int_equal(f->copied_bytes, W * H * 3 / 2);
    }
    assert_int_equal(enc->ops->flush(enc, &sink), 0);
    assert_int_equal(r.count, 5);
    enc->ops->close(enc);
    assert_int_equal(stat_of("filled_put"), 5);
    assert_int_equal(stat_of("filled_derive"), 0);
    assert_int_equal(stat_of("put_bytes"), 5 * W * H * 3 / 2);
    assert_int_equal(stat_of("errors"), 0);
}

/* A DRM PRIME dmabuf (a memfd stands in) is encoded where it is: no copy, counted as import. */
static void test_import(void **state)
{
    (void)state;
    struct hwenc_params p = params();
    struct hwenc *enc;
    assert_int_equal(ops()->open(&enc, &p), 0);
    assert_non_null(enc->ops->import);
    int fd = memfd_create("fake-dmabuf", MFD_CLOEXEC);
    assert_true(fd >= 0);
    size_t size = (size_t)W * H * 3 / 2;
    assert_int_equal(ftruncate(fd, (off_t)size), 0);
    uint8_t *px = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    assert_true(px != MAP_FAILED);
    memset(px, 80, (size_t)W * H);
    memset(px + (size_t)W * H, 128, (size_t)W * H / 2);
    struct frame_dmabuf b = {.width = W,
                             .height = H,
                             .drm_format = DRM_FORMAT_NV12,
                             .modifier = DRM_FORMAT_MOD_LINEAR,
                             .n_planes = 2,
                             .fd = {fd, fd},
                             .offset = {0, W * H},
                             .pitch = {W, W},
                             .size = {size, size}};
    struct recorder r = {0};
    struct packet_sink sink = {.emit = record_emit, .opaque = &r};
    for (int i = 0; i < 3; i++) {
        struct frame *f;
        assert_int_equal(enc->ops->import(enc, &b, &f), 0);
        f->pts = i;
        f->copied_bytes = 0;
        assert_int_equal(enc->ops->encode(enc, f, &sink), 0);
        assert_int_equal(f->copied_bytes, 0);
    }
    assert_int_equal(enc->ops->flush(enc, &sink), 0);
    assert_int_equal(r.count, 3);
    assert_true(r.pkt[0].keyframe);
    b.drm_format = DRM_FORMAT_XRGB8888;
    struct frame *f;
    assert_int_equal(enc->ops->import(enc, &b, &f), -EINVAL);
    enc->ops->close(enc);
    munmap(px, size);
    close(fd);
    assert_int_equal(stat_of("filled_import"), 3);
    assert_int_equal(stat_of("imports"), 3);
    assert_int_equal(stat_of("filled_put"), 0);
    assert_int_equal(stat_of("errors"), 0);
    assert_int_equal(stat_of("leaks"), 0);
}

/* The device fails: open/probe say why; a failing picture makes encode return a negative errno
 * (the pipeline then falls back to x264) and the encoder still closes cleanly. */
static void test_failures(void **state)
{
    (void)state;
    struct hwenc_params p = params();
    struct hwenc *enc;
    char why[256] = "";
    setenv("FAKE_VAAPI_FAIL_INIT", "1", 1);
    assert_true(ops()->open(&enc, &p) < 0);
    assert_true(ops()->probe(&p, why, sizeof(why)) < 0);
    assert_non_null(strstr(why, "vaInitialize"));
    unsetenv("FAKE_VAAPI_FAIL_INIT");
    /* Picture 1 is the header picture of open, so 4 is the third frame encoded. */
    setenv("FAKE_VAAPI_FAIL_ENCODE_AT", "4", 1);
    assert_int_equal(ops()->open(&enc, &p), 0);
    struct recorder r = {0};
    struct packet_sink sink = {.emit = record_emit, .opaque = &r};
    int rc = 0, i;
    for (i = 0; i < 5 && rc == 0; i++) {
        struct frame *f;
        assert_int_equal(enc->ops->get_input(enc, &f), 0);
        draw(f, i);
        f->pts = i;
        rc = enc->ops->encode(enc, f, &sink);
    }
    assert_int_equal(rc, -EIO);
    assert_int_equal(i, 3);
    enc->ops->close(enc);
    assert_int_equal(stat_of("injected_failures"), 1);
    assert_int_equal(stat_of("errors"), 0);
    assert_int_equal(stat_of("leaks"), 0);
}

static void test_query_and_probe(void **state)
{
    (void)state;
    struct hwenc_params p = params();
    struct hwenc_caps caps;
    char why[256] = "";
    assert_non_null(ops()->query);
    assert_int_equal(ops()->query(&p, &caps, why, sizeof(why)), 0);
    assert_string_equal(caps.device, "/dev/null");
    assert_non_null(strstr(caps.driver, "fake"));
    assert_string_equal(caps.profiles, "high,main,baseline");
    assert_string_equal(caps.entrypoints, "EncSliceLP,EncSlice");
    assert_int_equal(caps.max_width, 4096);
    assert_int_equal(caps.max_height, 4096);
    setenv("FAKE_VAAPI_NO_LP", "1", 1);
    setenv("FAKE_VAAPI_PROFILES", "main", 1);
    assert_int_equal(ops()->query(&p, &caps, why, sizeof(why)), 0);
    assert_string_equal(caps.entrypoints, "EncSlice");
    assert_string_equal(caps.profiles, "main");
    assert_int_equal(ops()->probe(&p, why, sizeof(why)), 0);
    assert_string_equal(why, "ok");
    p.device = "/nonexistent/renderD200";
    assert_true(ops()->query(&p, &caps, why, sizeof(why)) < 0);
    assert_non_null(strstr(why, "/nonexistent/renderD200"));
    assert_true(ops()->probe(&p, why, sizeof(why)) < 0);
}

/* The fake is strict: it reports misuse loudly and refuses it, rather than hiding the bugs
 * the backend tests are there to find. */
static void test_fake_is_strict(void **state)
{
    (void)state;
    int fd = open("/dev/null", O_RDWR);
    assert_true(fd >= 0);
    VADisplay dpy = vaGetDisplayDRM(fd);
    assert_non_null(dpy);
    int major, minor;
    assert_int_equal(vaInitialize(dpy, &major, &minor), VA_STATUS_SUCCESS);
    VAConfigAttrib rc = {.type = VAConfigAttribRateControl, .value = VA_RC_CBR | VA_RC_VBR};
    VAConfigID cfg;
    /* Both rate control modes at once: not a choice. */
    assert_int_not_equal(vaCreateConfig(dpy, VAProfileH264High, VAEntrypointEncSlice, &rc, 1, &cfg),
                         VA_STATUS_SUCCESS);
    rc.value = VA_RC_CBR;
    assert_int_equal(vaCreateConfig(dpy, VAProfileH264High, VAEntrypointEncSlice, &rc, 1, &cfg),
                     VA_STATUS_SUCCESS);
    VASurfaceID surf;
    assert_int_equal(vaCreateSurfaces(dpy, VA_RT_FORMAT_YUV420, W, H, &surf, 1, NULL, 0),
                     VA_STATUS_SUCCESS);
    VAContextID ctx;
    assert_int_equal(vaCreateContext(dpy, cfg, W, H, VA_PROGRESSIVE, &surf, 1, &ctx),
                     VA_STATUS_SUCCESS);
    VABufferID coded, leaked;
    assert_int_equal(vaCreateBuffer(dpy, ctx, VAEncCodedBufferType, 1 << 20, 1, NULL, &coded),
                     VA_STATUS_SUCCESS);
    assert_int_equal(vaDestroyBuffer(dpy, coded), VA_STATUS_SUCCESS);
    assert_int_not_equal(vaDestroyBuffer(dpy, coded), VA_STATUS_SUCCESS); /* double destroy */
    VAImage img;
    assert_int_equal(vaDeriveImage(dpy, surf, &img), VA_STATUS_SUCCESS);
    void *ptr;
    assert_int_equal(vaMapBuffer(dpy, img.buf, &ptr), VA_STATUS_SUCCESS);
    /* Encoding a surface the CPU is still writing into. */
    assert_int_not_equal(vaBeginPicture(dpy, ctx, surf), VA_STATUS_SUCCESS);
    assert_int_equal(vaUnmapBuffer(dpy, img.buf), VA_STATUS_SUCCESS);
    assert_int_equal(vaDestroyImage(dpy, img.image_id), VA_STATUS_SUCCESS);
    /* A picture without sequence, picture or rate control parameters. */
    assert_int_equal(vaBeginPicture(dpy, ctx, surf), VA_STATUS_SUCCESS);
    assert_int_not_equal(vaEndPicture(dpy, ctx), VA_STATUS_SUCCESS);
    /* A misc buffer of the wrong size for its type. */
    uint8_t misc[sizeof(VAEncMiscParameterBuffer) + 4] = {0};
    ((VAEncMiscParameterBuffer *)misc)->type = VAEncMiscParameterTypeRateControl;
    assert_int_equal(
        vaCreateBuffer(dpy, ctx, VAEncMiscParameterBufferType, sizeof(misc), 1, misc, &leaked),
        VA_STATUS_SUCCESS);
    assert_int_equal(vaBeginPicture(dpy, ctx, surf), VA_STATUS_SUCCESS);
    assert_int_not_equal(vaRenderPicture(dpy, ctx, &leaked, 1), VA_STATUS_SUCCESS);
    assert_int_not_equal(vaEndPicture(dpy, ctx), VA_STATUS_SUCCESS);
    vaDestroyContext(dpy, ctx);
    vaDestroySurfaces(dpy, &surf, 1);
    vaDestroyConfig(dpy, cfg);
    vaTerminate(dpy); /* the misc buffer was never destroyed */
    close(fd);
    assert_true(stat_of("errors") >= 6);
    assert_int_equal(stat_of("leaks"), 1);
}

/* Runs itself again through tests/fakes/with-fake-vaapi unless already inside it. */
static void reexec_through_wrapper(char **argv)
{
    if (getenv("LIBVA_DRIVER_NAME"))
        return;
    const char *src = getenv("AGENTCAST_SOURCE_DIR");
    char wrapper[512];
    snprintf(wrapper, sizeof(wrapper), "%s/tests/fakes/with-fake-vaapi",
             src ? src : TEST_SOURCE_DIR "/..");
    char self[512];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (n <= 0) {
        perror("readlink /proc/self/exe");
        exit(1);
    }
    self[n] = '\0';
    char *args[] = {wrapper, self, NULL};
    (void)argv;
    execv(wrapper, args);
    perror(wrapper);
    exit(1);
}

int main(int argc, char **argv)
{
    (void)argc;
    reexec_through_wrapper(argv);
    snprintf(stats_path, sizeof(stats_path), "/tmp/test_vaapi_stats.%d.json", (int)getpid());
    setenv("FAKE_VAAPI_STATS", stats_path, 1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_stream, setup),
        cmocka_unit_test_setup(test_keyframes_follow_pts, setup),
        cmocka_unit_test_setup(test_profile_fallback, setup),
        cmocka_unit_test_setup(test_put_path_counts_copies, setup),
        cmocka_unit_test_setup(test_import, setup),
        cmocka_unit_test_setup(test_failures, setup),
        cmocka_unit_test_setup(test_query_and_probe, setup),
        cmocka_unit_test_setup(test_fake_is_strict, setup),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    unlink(stats_path);
    return rc;
}
