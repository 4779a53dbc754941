/*
 * test_flv — FLV tag building (src/media/flv.c) byte for byte against Adobe's "Video File Format
 * Specification" v10.1 Annex E and ISO/IEC 14496-15 (AVCDecoderConfigurationRecord), with SPS/PPS
 * and access units from a real libx264 encode.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include <x264.h>

#include "media/aac_silence.h"
#include "media/flv.h"
#include "media/h264_nal.h"

static uint32_t be(const uint8_t *p, int n)
{
    uint32_t v = 0;
    for (int i = 0; i < n; i++)
        v = v << 8 | p[i];
    return v;
}

/* "Signature UI8 'F' … Version UI8 … TypeFlagsAudio UB[1] … TypeFlagsVideo UB[1] …
 * DataOffset UI32 The length of this header in bytes", then "PreviousTagSize0 UI32 Always 0". */
static void test_file_header(void **state)
{
    uint8_t h[FLV_FILE_HEADER_SIZE];
    memset(h, 0xee, sizeof(h));
    flv_write_file_header(h);
    static const uint8_t want[] = {'F', 'L', 'V', 1, 0x05, 0, 0, 0, 9, 0, 0, 0, 0};
    assert_memory_equal(h, want, sizeof(want));
}

/* "Timestamp UI24 Time in milliseconds … TimestampExtended UI8 Extension of the Timestamp field
 * to form a SI32 value. This field represents the upper 8 bits"; "StreamID UI24 Always 0". */
static void test_tag_header(void **state)
{
    uint8_t h[FLV_TAG_HEADER_SIZE];
    flv_write_tag_header(h, FLV_TAG_VIDEO, 0x010203, 0x123456);
    static const uint8_t small[] = {9, 0x01, 0x02, 0x03, 0x12, 0x34, 0x56, 0x00, 0, 0, 0};
    assert_memory_equal(h, small, sizeof(small));

    flv_write_tag_header(h, FLV_TAG_AUDIO, 8, 0x12345678);
    static const uint8_t ext[] = {8, 0, 0, 8, 0x34, 0x56, 0x78, 0x12, 0, 0, 0};
    assert_memory_equal(h, ext, sizeof(ext));

    flv_write_tag_header(h, FLV_TAG_SCRIPT, 1, 1 << 24); /* the first extended value */
    static const uint8_t at24[] = {18, 0, 0, 1, 0, 0, 0, 0x01, 0, 0, 0};
    assert_memory_equal(h, at24, sizeof(at24));

    flv_write_tag_header(h, FLV_TAG_VIDEO, 5, (1 << 24) - 1); /* the last one without */
    static const uint8_t below[] = {9, 0, 0, 5, 0xff, 0xff, 0xff, 0x00, 0, 0, 0};
    assert_memory_equal(h, below, sizeof(below));

    flv_write_tag_header(h, FLV_TAG_VIDEO, 5, -40);
    static const uint8_t neg[] = {9, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0};
    assert_memory_equal(h, neg, sizeof(neg));
}

/* Tags are shared by every output through a reference count; the last unref frees (ASan and
 * valgrind catch a leak or double free here). */
static void test_refcount(void **state)
{
    struct flv_tag *tag = flv_tag_new(FLV_TAG_AUDIO, 100);
    assert_non_null(tag);
    assert_int_equal(atomic_load(&tag->refs), 1);
    assert_int_equal(tag->size, 100);
    assert_int_equal(tag->type, FLV_TAG_AUDIO);
    assert_false(tag->keyframe);
    assert_false(tag->header);
    memset(tag->body, 0x5a, tag->size); /* the whole body is ours to write */
    assert_ptr_equal(flv_tag_ref(tag), tag);
    assert_ptr_equal(flv_tag_ref(tag), tag);
    assert_int_equal(atomic_load(&tag->refs), 3);
    flv_tag_unref(tag);
    flv_tag_unref(tag);
    assert_int_equal(atomic_load(&tag->refs), 1);
    assert_int_equal(tag->body[99], 0x5a);
    flv_tag_unref(tag);
    flv_tag_unref(NULL);
}

/* A tiny AMF0 reader, enough for onMetaData: numbers, booleans, strings, ECMA arrays. */
struct amf_reader {
    const uint8_t *p, *end;
};

static size_t amf_take(struct amf_reader *r, size_t n)
{
    assert_true((size_t)(r->end - r->p) >= n);
    r->p += n;
    return n;
}

static void amf_expect_string(struct amf_reader *r, const char *want)
{
    assert_true(r->end - r->p >= 3);
    assert_int_equal(r->p[0], 0x02);
    size_t n = be(r->p + 1, 2);
    amf_take(r, 3);
    assert_int_equal(n, strlen(want));
    assert_true((size_t)(r->end - r->p) >= n);
    assert_memory_equal(r->p, want, n);
    amf_take(r, n);
}

static void amf_expect_name(struct amf_reader *r, const char *want)
{
    assert_true(r->end - r->p >= 2);
    size_t n = be(r->p, 2);
    amf_take(r, 2);
    assert_int_equal(n, strlen(want));
    assert_true((size_t)(r->end - r->p) >= n);
    assert_memory_equal(r->p, want, n);
    amf_take(r, n);
}

static double amf_read_number(struct amf_reader *r)
{
    assert_true(r->end - r->p >= 9);
    assert_int_equal(r->p[0], 0x00);
    uint64_t bits = (uint64_t)be(r->p + 1, 4) << 32 | be(r->p + 5, 4);
    double v;
    memcpy(&v, &bits, sizeof(v));
    amf_take(r, 9);
    return v;
}

static void expect_metadata(const struct flv_tag *tag, bool set_data_frame, const char *encoder)
{
    assert_non_null(tag);
    assert_int_equal(tag->type, FLV_TAG_SCRIPT);
    assert_true(tag->header);
    struct amf_reader r = {tag->body, tag->body + tag->size};
    if (set_data_frame)
        amf_expect_string(&r, "@setDataFrame");
    amf_expect_string(&r, "onMetaData");
    assert_int_equal(r.p[0], 0x08); /* ECMA array */
    assert_int_equal(be(r.p + 1, 4), 11);
    amf_take(&r, 5);
    static const struct {
        const char *name;
        double value;
    } numbers[] = {
        {"width", 1280},         {"height", 720},
        {"framerate", 29.97},    {"videocodecid", 7},
        {"videodatarate", 2500}, {"audiocodecid", 10},
        {"audiodatarate", 4},    {"audiosamplerate", 44100},
        {"audiosamplesize", 16},
    };
    for (size_t i = 0; i < sizeof(numbers) / sizeof(numbers[0]); i++) {
        amf_expect_name(&r, numbers[i].name);
        assert_true(amf_read_number(&r) == numbers[i].value);
    }
    amf_expect_name(&r, "stereo");
    assert_int_equal(r.p[0], 0x01);
    assert_int_equal(r.p[1], 0x01);
    amf_take(&r, 2);
    amf_expect_name(&r, "encoder");
    amf_expect_string(&r, encoder);
    /* "SCRIPTDATAOBJECTEND … Always 9"  after an empty name; nothing follows. */
    static const uint8_t end[] = {0, 0, 9};
    assert_int_equal(r.end - r.p, 3);
    assert_memory_equal(r.p, end, 3);
}

static void test_metadata(void **state)
{
    struct flv_stream_info info = {
        .width = 1280,
        .height = 720,
        .framerate = 29.97,
        .video_kbps = 2500,
        .audio_kbps = 4,
        .audio_sample_rate = 44100,
        .audio_channels = 2,
        .encoder = "agentcast 0.1.0",
    };
    struct flv_tag *rtmp = flv_metadata_tag(&info, true);
    expect_metadata(rtmp, true, "agentcast 0.1.0");
    struct flv_tag *file = flv_metadata_tag(&info, false);
    expect_metadata(file, false, "agentcast 0.1.0");
    assert_int_equal(rtmp->size, file->size + 16); /* 02 00 0d "@setDataFrame" */
    flv_tag_unref(rtmp);
    flv_tag_unref(file);

    info.encoder = NULL;
    file = flv_metadata_tag(&info, false);
    expect_metadata(file, false, "agentcast " AGENTCAST_VERSION);
    flv_tag_unref(file);
}

/* libx264's output for a small picture: the parameter sets and a few access units. */
struct x264_run {
    uint8_t headers[2048]; /* SPS + PPS + x264's version SEI (about 600 bytes) */
    size_t headers_size;
    uint8_t au[8][16384];
    size_t au_size[8];
    int64_t pts[8], dts[8];
    bool key[8];
    int n;
};

static void x264_encode(struct x264_run *run, const char *preset, const char *profile, bool aud)
{
    x264_param_t p;
    assert_int_equal(x264_param_default_preset(&p, preset, "zerolatency"), 0);
    p.i_width = 64;
    p.i_height = 48;
    p.i_csp = X264_CSP_I420;
    p.i_fps_num = 30;
    p.i_fps_den = 1;
    p.i_threads = 1;
    p.i_log_level = X264_LOG_NONE;
    p.i_keyint_max = 4;
    p.b_annexb = 1;
    p.b_repeat_headers = 1;
    p.b_aud = aud;
    assert_int_equal(x264_param_apply_profile(&p, profile), 0);
    x264_t *enc = x264_encoder_open(&p);
    assert_non_null(enc);
    x264_nal_t *nals;
    int n;
    assert_true(x264_encoder_headers(enc, &nals, &n) > 0);
    run->headers_size = 0;
    for (int i = 0; i < n; i++) {
        assert_true(run->headers_size + (size_t)nals[i].i_payload <= sizeof(run->headers));
        memcpy(run->headers + run->headers_size, nals[i].p_payload, (size_t)nals[i].i_payload);
        run->headers_size += (size_t)nals[i].i_payload;
    }
    x264_picture_t pic, out;
    assert_int_equal(x264_picture_alloc(&pic, X264_CSP_I420, 64, 48), 0);
    run->n = 0;
    for (int f = 0; f < 8; f++) {
        for (int y = 0; y < 48; y++)
            memset(pic.img.plane[0] + y * pic.img.i_stride[0], (y * 5 + f * 17) & 0xff, 64);
        memset(pic.img.plane[1], 128, (size_t)pic.img.i_stride[1] * 24);
        memset(pic.img.plane[2], 128 + f, (size_t)pic.img.i_stride[2] * 24);
        pic.i_pts = f;
        int size = x264_encoder_encode(enc, &nals, &n, &pic, &out);
        assert_true(size > 0); /* zerolatency: one access unit out per picture in */
        assert_true((size_t)size <= sizeof(run->au[0]));
        memcpy(run->au[run->n], nals[0].p_payload, (size_t)size); /* payloads are contiguous */
        run->au_size[run->n] = (size_t)size;
        run->pts[run->n] = out.i_pts;
        run->dts[run->n] = out.i_dts;
        run->key[run->n] = out.b_keyframe;
        run->n++;
    }
    x264_picture_clean(&pic);
    x264_encoder_close(enc);
}

/* AVCDecoderConfigurationRecord: configurationVersion 1, AVCProfileIndication,
 * profile_compatibility, AVCLevelIndication, "bit(6) reserved = '111111'b; unsigned int(2)
 * lengthSizeMinusOne", "bit(3) reserved = '111'b; unsigned int(5) numOfSequenceParameterSets",
 * 16-bit lengths before each parameter set; for profile_idc 100, 110, 122 and 244 the record goes
 * on with chroma_format, bit depths and numOfSequenceParameterSetExt. */
static void check_sequence_header(const struct x264_run *run, bool high)
{
    struct h264_nal sps, pps;
    assert_true(h264_find_nal(run->headers, run->headers_size, H264_NAL_SPS, &sps));
    assert_true(h264_find_nal(run->headers, run->headers_size, H264_NAL_PPS, &pps));
    struct flv_tag *tag = flv_avc_sequence_header(run->headers, run->headers_size);
    assert_non_null(tag);
    assert_int_equal(tag->type, FLV_TAG_VIDEO);
    assert_true(tag->header);
    assert_int_equal(tag->dts_ms, 0);
    const uint8_t *b = tag->body;
    assert_int_equal(tag->size, 5 + 6 + 2 + sps.size + 1 + 2 + pps.size + (high ? 4 : 0));
    assert_int_equal(b[0], 0x17); /* FrameType 1 (key), CodecID 7 (AVC) */
    assert_int_equal(b[1], 0);    /* AVCPacketType 0: sequence header */
    assert_int_equal(be(b + 2, 3), 0);
    const uint8_t *rec = b + 5;
    assert_int_equal(rec[0], 1);
    assert_int_equal(rec[1], sps.data[1]);
    assert_int_equal(rec[1], high ? 100 : 66);
    assert_int_equal(rec[2], sps.data[2]);
    assert_int_equal(rec[3], sps.data[3]);
    assert_int_equal(rec[4], 0xff);
    assert_int_equal(rec[5], 0xe1);
    assert_int_equal(be(rec + 6, 2), sps.size);
    assert_memory_equal(rec + 8, sps.data, sps.size);
    const uint8_t *q = rec + 8 + sps.size;
    assert_int_equal(q[0], 1);
    assert_int_equal(be(q + 1, 2), pps.size);
    assert_memory_equal(q + 3, pps.data, pps.size);
    if (high) {
        static const uint8_t ext[] = {0xfd, 0xf8, 0xf8, 0x00}; /* 4:2:0, 8 bit, 8 bit, none */
        assert_memory_equal(q + 3 + pps.size, ext, sizeof(ext));
    }
    flv_tag_unref(tag);
}

static void test_avc_sequence_header(void **state)
{
    static struct x264_run run;
    x264_encode(&run, "veryfast", "high", false);
    check_sequence_header(&run, true);
    x264_encode(&run, "ultrafast", "baseline", false);
    check_sequence_header(&run, false);

    /* The parameter sets may also be found inside a keyframe's access unit. */
    struct flv_tag *tag = flv_avc_sequence_header(run.au[0], run.au_size[0]);
    assert_non_null(tag);
    flv_tag_unref(tag);
}

/* "NULL with errno EINVAL when either is missing." */
static void test_avc_sequence_header_missing(void **state)
{
    static const uint8_t sps_only[] = {0, 0, 0, 1, 0x67, 0x42, 0xc0, 0x1e, 0xda, 0x02, 0x80};
    static const uint8_t pps_only[] = {0, 0, 0, 1, 0x68, 0xce, 0x38, 0x80};
    errno = 0;
    assert_null(flv_avc_sequence_header(sps_only, sizeof(sps_only)));
    assert_int_equal(errno, EINVAL);
    errno = 0;
    assert_null(flv_avc_sequence_header(pps_only, sizeof(pps_only)));
    assert_int_equal(errno, EINVAL);
    errno = 0;
    assert_null(flv_avc_sequence_header(NULL, 0));
    assert_int_equal(errno, EINVAL);
}

/* "the Annex B NAL units rewritten with 4-byte length prefixes, leaving out SPS, PPS and access
 * unit delimiters"; "CompositionTime SI24 … Composition time offset" = pts - dts in ms. */
static void test_avc_frame_bytes(void **state)
{
    /* clang-format off */
    static const uint8_t au[] = {
        0, 0, 0, 1, 0x09, 0x10,                               /* AUD */
        0, 0, 0, 1, 0x67, 0x42, 0xc0, 0x1e, 0xda, 0x02, 0x80, /* SPS */
        0, 0, 1, 0x68, 0xce, 0x38, 0x80,                      /* PPS */
        0, 0, 1, 0x06, 0x05, 0x01, 0xaa, 0x80,                /* SEI */
        0, 0, 1, 0x65, 0x88, 0x84, 0x00, 0x00, 0x03, 0x01, 0x7f, 0x00, /* IDR + trailing zero */
    };
    /* clang-format on */
    struct h264_packet pkt = {
        .data = au,
        .size = sizeof(au),
        .pts = 2,
        .dts = 1,
        .keyframe = true,
        .capture_ns = 123456789,
    };
    /* 1 tick = 1/30 s: dts 33.3 ms -> 33, pts 66.7 ms -> 67, so CompositionTime 34. */
    struct flv_tag *tag = flv_avc_frame(&pkt, 1, 30);
    assert_non_null(tag);
    /* clang-format off */
    static const uint8_t want[] = {
        0x17, 0x01, 0x00, 0x00, 0x22,
        0, 0, 0, 5, 0x06, 0x05, 0x01, 0xaa, 0x80,
        0, 0, 0, 8, 0x65, 0x88, 0x84, 0x00, 0x00, 0x03, 0x01, 0x7f,
    };
    /* clang-format on */
    assert_int_equal(tag->size, sizeof(want));
    assert_memory_equal(tag->body, want, sizeof(want));
    assert_int_equal(tag->type, FLV_TAG_VIDEO);
    assert_true(tag->keyframe);
    assert_false(tag->header);
    assert_int_equal(tag->dts_ms, 33);
    assert_int_equal(tag->capture_ns, 123456789);
    flv_tag_unref(tag);

    /* An inter frame, and a negative offset stored as two's complement SI24. */
    pkt.keyframe = false;
    pkt.pts = 0;
    pkt.dts = 3;
    pkt.data = au + 24; /* from the SEI on */
    pkt.size = sizeof(au) - 24;
    tag = flv_avc_frame(&pkt, 1, 30);
    assert_non_null(tag);
    assert_int_equal(tag->body[0], 0x27);
    assert_int_equal(be(tag->body + 2, 3), 0x1000000 - 100);
    assert_int_equal(tag->dts_ms, 100);
    assert_false(tag->keyframe);
    assert_memory_equal(tag->body + 5, want + 5, sizeof(want) - 5);
    flv_tag_unref(tag);
}

/* "NULL … when no NAL unit remains". */
static void test_avc_frame_nothing_left(void **state)
{
    static const uint8_t au[] = {
        0, 0, 0, 1, 0x09, 0x10, 0, 0, 1, 0x67, 0x42, 0xc0, 0x1e, 0, 0, 1, 0x68, 0xce, 0x38, 0x80,
    };
    struct h264_packet pkt = {.data = au, .size = sizeof(au)};
    errno = 0;
    assert_null(flv_avc_frame(&pkt, 1, 30));
    assert_int_not_equal(errno, 0);
    assert_null(flv_avc_frame(&pkt, 1, 0));
}

/* Timestamps: rounded to the nearest ms, never going backwards, at NTSC and integer rates. */
static void test_avc_frame_timestamps(void **state)
{
    static const uint8_t au[] = {0, 0, 1, 0x41, 0x9a, 0x02};
    static const struct {
        int num, den;
    } rates[] = {{1001, 30000}, {1, 30}, {1, 60}, {1001, 60000}, {1, 25}, {1, 90000}};
    for (size_t r = 0; r < sizeof(rates) / sizeof(rates[0]); r++) {
        int64_t prev = INT64_MIN;
        for (int64_t t = -5; t < 3000; t++) {
            struct h264_packet pkt = {.data = au, .size = sizeof(au), .pts = t + 2, .dts = t};
            struct flv_tag *tag = flv_avc_frame(&pkt, rates[r].num, rates[r].den);
            assert_non_null(tag);
            double exact = (double)t * rates[r].num * 1000.0 / rates[r].den;
            assert_true(tag->dts_ms >= prev);
            assert_true(tag->dts_ms - exact <= 0.5 && exact - tag->dts_ms <= 0.5);
            /* dts + CompositionTime is the rounded pts exactly. */
            double exact_pts = (double)(t + 2) * rates[r].num * 1000.0 / rates[r].den;
            int32_t cts = (int32_t)(be(tag->body + 2, 3) << 8) >> 8;
            int64_t pts_ms = tag->dts_ms + cts;
            assert_true(pts_ms - exact_pts <= 0.5 && exact_pts - pts_ms <= 0.5);
            prev = tag->dts_ms;
            flv_tag_unref(tag);
        }
    }
}

/* Real access units with AUDs and repeated headers: what is left is exactly the SEI and slice
 * NAL units, in order, each behind its 4-byte length, and nothing after the last. */
static void test_avc_frame_from_x264(void **state)
{
    static struct x264_run run;
    x264_encode(&run, "veryfast", "high", true);
    assert_true(run.key[0]);
    for (int i = 0; i < run.n; i++) {
        struct h264_packet pkt = {
            .data = run.au[i],
            .size = run.au_size[i],
            .pts = run.pts[i],
            .dts = run.dts[i],
            .keyframe = run.key[i],
        };
        struct flv_tag *tag = flv_avc_frame(&pkt, 1, 30);
        assert_non_null(tag);
        assert_int_equal(tag->body[0], run.key[i] ? 0x17 : 0x27);
        assert_int_equal(tag->body[1], 1);

        struct h264_nal_iter it;
        struct h264_nal nal;
        h264_nal_iter_init(&it, run.au[i], run.au_size[i]);
        size_t off = 5;
        int kept = 0, dropped = 0;
        while (h264_nal_next(&it, &nal)) {
            if (nal.type == H264_NAL_SPS || nal.type == H264_NAL_PPS || nal.type == H264_NAL_AUD) {
                dropped++;
                continue;
            }
            assert_true(off + 4 + nal.size <= tag->size);
            assert_int_equal(be(tag->body + off, 4), nal.size);
            assert_memory_equal(tag->body + off + 4, nal.data, nal.size);
            off += 4 + nal.size;
            kept++;
        }
        assert_int_equal(off, tag->size);
        assert_true(kept >= 1);
        assert_true(dropped >= 1); /* every access unit starts with an AUD here */
        if (run.key[i])
            assert_true(dropped >= 3);
        flv_tag_unref(tag);
    }
}

/* "If the SoundFormat indicates AAC, the SoundType should be set to 1 (stereo) and the SoundRate
 * should be set to 3 (44 kHz)"; "AACPacketType UI8 0: AAC sequence header 1: AAC raw". */
static void test_aac_tags(void **state)
{
    size_t asc_size, frame_size;
    const uint8_t *asc = aac_silence_config(&asc_size);
    const uint8_t *frame = aac_silence_frame(&frame_size);

    struct flv_tag *tag = flv_aac_sequence_header(asc, asc_size);
    assert_non_null(tag);
    assert_int_equal(tag->type, FLV_TAG_AUDIO);
    assert_true(tag->header);
    assert_int_equal(tag->size, 4);
    static const uint8_t want_sh[] = {0xaf, 0x00, 0x12, 0x10};
    assert_memory_equal(tag->body, want_sh, sizeof(want_sh));
    flv_tag_unref(tag);

    tag = flv_aac_frame(frame, frame_size, aac_frame_dts_ms(43));
    assert_non_null(tag);
    assert_int_equal(tag->type, FLV_TAG_AUDIO);
    assert_false(tag->header);
    assert_false(tag->keyframe);
    assert_int_equal(tag->dts_ms, 998);
    assert_int_equal(tag->size, 2 + frame_size);
    assert_int_equal(tag->body[0], 0xaf);
    assert_int_equal(tag->body[1], 0x01);
    assert_memory_equal(tag->body + 2, frame, frame_size);
    flv_tag_unref(tag);

    errno = 0;
    assert_null(flv_aac_sequence_header(NULL, 0));
    assert_int_equal(errno, EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_file_header),
        cmocka_unit_test(test_tag_header),
        cmocka_unit_test(test_refcount),
        cmocka_unit_test(test_metadata),
        cmocka_unit_test(test_avc_sequence_header),
        cmocka_unit_test(test_avc_sequence_header_missing),
        cmocka_unit_test(test_avc_frame_bytes),
        cmocka_unit_test(test_avc_frame_nothing_left),
        cmocka_unit_test(test_avc_frame_timestamps),
        cmocka_unit_test(test_avc_frame_from_x264),
        cmocka_unit_test(test_aac_tags),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
