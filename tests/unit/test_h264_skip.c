/*
 * test_h264_skip — skip pictures for unchanged frames (hwenc/h264_skip.c) and how the x264
 * backend uses them (hwenc/x264.c). Issue 5: "An unchanged frame need not cost a full encode …
 * the stream must stay valid H.264 at a constant frame rate … and the picture must be the same."
 * Validity of the bitstream as a whole is checked by a real decoder in
 * tests/integration/terminal_skip.test; here the syntax is read back field by field.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hwenc/h264_skip.h"
#include "hwenc/hwenc.h"
#include "media/h264_nal.h"

/* ---- a small RBSP reader for checking what was written ------------------------------------- */

struct rd {
    uint8_t buf[256];
    size_t bits, pos;
};

static void rd_init(struct rd *r, const struct h264_nal *nal)
{
    size_t n = 0;
    int zeros = 0;
    for (size_t i = 1; i < nal->size && n < sizeof(r->buf); i++) {
        if (zeros >= 2 && nal->data[i] == 3) {
            zeros = 0;
            continue;
        }
        zeros = nal->data[i] == 0 ? zeros + 1 : 0;
        r->buf[n++] = nal->data[i];
    }
    r->bits = n * 8;
    r->pos = 0;
}

static unsigned rd_bit(struct rd *r)
{
    assert_true(r->pos < r->bits);
    unsigned b = (r->buf[r->pos / 8] >> (7 - r->pos % 8)) & 1;
    r->pos++;
    return b;
}

static unsigned rd_bits(struct rd *r, int n)
{
    unsigned v = 0;
    while (n-- > 0)
        v = (v << 1) | rd_bit(r);
    return v;
}

static unsigned rd_ue(struct rd *r)
{
    int zeros = 0;
    while (!rd_bit(r))
        zeros++;
    return ((1u << zeros) - 1) + rd_bits(r, zeros);
}

/* rbsp_trailing_bits: a 1, then zeros to the end. */
static void rd_expect_trailing(struct rd *r)
{
    assert_int_equal(rd_bit(r), 1);
    while (r->pos < r->bits)
        assert_int_equal(rd_bit(r), 0);
}

/* ---- x264 output to work on ------------------------------------------------------------------ */

#define MAX_AUS 130

struct capture {
    uint8_t *au[MAX_AUS];
    size_t size[MAX_AUS];
    int64_t pts[MAX_AUS];
    bool key[MAX_AUS];
    int n;
};

static int capture_emit(void *opaque, const struct h264_packet *pkt)
{
    struct capture *c = opaque;
    assert_true(c->n < MAX_AUS);
    c->au[c->n] = malloc(pkt->size);
    assert_non_null(c->au[c->n]);
    memcpy(c->au[c->n], pkt->data, pkt->size);
    c->size[c->n] = pkt->size;
    c->pts[c->n] = pkt->pts;
    c->key[c->n] = pkt->keyframe;
    c->n++;
    return 0;
}

static void capture_free(struct capture *c)
{
    for (int i = 0; i < c->n; i++)
        free(c->au[i]);
    c->n = 0;
}

static struct hwenc *open_x264(int w, int h, const char *preset, const char *tune)
{
    struct hwenc_params p;
    hwenc_params_default(&p);
    p.width = w;
    p.height = h;
    p.preset = preset;
    p.tune = tune;
    p.keyint_frames = 30;
    struct hwenc *enc;
    assert_int_equal(hwenc_x264_ops.open(&enc, &p), 0);
    return enc;
}

/* Frames 0..n-1; the picture changes at the frames listed in changes (a new stripe), and is
 * flagged unchanged otherwise. */
static void encode_terminal_like(struct hwenc *enc, int n, const int *changes, int n_changes,
                                 struct capture *c)
{
    struct packet_sink sink = {.emit = capture_emit, .opaque = c};
    int stripe = 0;
    for (int i = 0; i < n; i++) {
        struct frame *f;
        assert_int_equal(enc->ops->get_input(enc, &f), 0);
        bool changed = i == 0;
        for (int k = 0; k < n_changes; k++)
            changed |= changes[k] == i;
        if (changed) {
            stripe++;
            for (int y = 0; y < f->height; y++)
                memset(f->data[0] + (size_t)y * (size_t)f->linesize[0],
                       (y / 8) % (stripe + 1) ? 40 : 200, (size_t)f->width);
            for (int p = 1; p < 3; p++)
                for (int y = 0; y < f->height / 2; y++)
                    memset(f->data[p] + (size_t)y * (size_t)f->linesize[p], 128,
                           (size_t)f->width / 2);
        }
        f->unchanged = !changed;
        f->pts = i;
        f->capture_ns = 1000 + i;
        assert_int_equal(enc->ops->encode(enc, f, &sink), 0);
    }
    assert_int_equal(enc->ops->flush(enc, &sink), 0);
}

static int pps_count(const uint8_t *headers, size_t size)
{
    int n = 0;
    struct h264_nal nal;
    struct h264_nal_iter it;
    h264_nal_iter_init(&it, headers, size);
    while (h264_nal_next(&it, &nal))
        n += nal.type == H264_NAL_PPS;
    return n;
}

/* ---- h264_skip ------------------------------------------------------------------------------- */

static void test_init_from_x264_zerolatency(void **state)
{
    (void)state;
    struct hwenc *enc = open_x264(1280, 720, "veryfast", "zerolatency");
    /* The backend's extradata already carries the skip PPS: take x264's part (the SPS and the
     * first PPS) the way h264_skip_init sees it, i.e. the whole set, and check the result. */
    struct h264_skip s;
    char why[96] = "";
    assert_int_equal(h264_skip_init(&s, enc->extradata, enc->extradata_size, why, sizeof(why)),
                     0);
    assert_int_equal(s.mb_count, 80 * 45);
    assert_true(s.log2_max_frame_num >= 4 && s.log2_max_frame_num <= 16);
    /* x264 uses PPS 0 and the backend added 1: a fresh init picks the next free id. */
    assert_int_equal(s.pps_id, 2);
    assert_int_equal(pps_count(enc->extradata, enc->extradata_size), 2);
    enc->ops->close(enc);
}

/* "pic_order_cnt_type 2 … one reference frame": x264's medium preset uses 3 references; the
 * default tune with B-frames uses POC type 0. Both are refused, with the reason. */
static void test_init_refuses_streams_it_cannot_follow(void **state)
{
    (void)state;
    struct h264_skip s;
    char why[96];
    struct hwenc *enc = open_x264(320, 240, "medium", "zerolatency");
    assert_int_equal(h264_skip_init(&s, enc->extradata, enc->extradata_size, why, sizeof(why)),
                     -ENOTSUP);
    assert_string_equal(why, "more than one reference frame");
    assert_int_equal(pps_count(enc->extradata, enc->extradata_size), 1); /* no skip PPS */
    enc->ops->close(enc);

    enc = open_x264(320, 240, "veryfast", NULL); /* B-frames: POC type 0 */
    assert_int_equal(h264_skip_init(&s, enc->extradata, enc->extradata_size, why, sizeof(why)),
                     -ENOTSUP);
    assert_int_equal(pps_count(enc->extradata, enc->extradata_size), 1);
    enc->ops->close(enc);

    static const uint8_t garbage[] = {0, 0, 0, 1, 0x67, 0xff};
    assert_int_equal(h264_skip_init(&s, garbage, sizeof(garbage), why, sizeof(why)), -EINVAL);
}

/* The PPS (7.3.2.2) and the slice (7.3.3, 7.3.4) read back field by field. */
static void test_pps_and_skip_slice_syntax(void **state)
{
    (void)state;
    struct hwenc *enc = open_x264(320, 240, "veryfast", "zerolatency");
    struct h264_skip s;
    char why[96];
    assert_int_equal(h264_skip_init(&s, enc->extradata, enc->extradata_size, why, sizeof(why)),
                     0);
    struct h264_nal nal;
    assert_true(h264_find_nal(s.pps, s.pps_size, H264_NAL_PPS, &nal));
    struct rd r;
    rd_init(&r, &nal);
    assert_int_equal(rd_ue(&r), (unsigned)s.pps_id);
    assert_int_equal(rd_ue(&r), (unsigned)s.sps_id);
    assert_int_equal(rd_bit(&r), 0); /* entropy_coding_mode_flag: CAVLC */
    assert_int_equal(rd_bit(&r), 0); /* bottom_field_pic_order_in_frame_present_flag */
    assert_int_equal(rd_ue(&r), 0);  /* num_slice_groups_minus1 */
    assert_int_equal(rd_ue(&r), 0);  /* num_ref_idx_l0_default_active_minus1 */
    assert_int_equal(rd_ue(&r), 0);  /* num_ref_idx_l1_default_active_minus1 */
    assert_int_equal(rd_bit(&r), 0); /* weighted_pred_flag */
    assert_int_equal(rd_bits(&r, 2), 0);
    assert_int_equal(rd_ue(&r), 0); /* pic_init_qp_minus26 = se 0 */
    assert_int_equal(rd_ue(&r), 0); /* pic_init_qs_minus26 */
    assert_int_equal(rd_ue(&r), 0); /* chroma_qp_index_offset */
    assert_int_equal(rd_bits(&r, 3), 0);
    rd_expect_trailing(&r);

    uint8_t au[64];
    int n = h264_skip_write(&s, 5, au, sizeof(au));
    assert_true(n > 5 && n < 40);
    assert_int_equal(h264_skip_write(&s, 5, au, 8), -ENOSPC);
    assert_true(h264_find_nal(au, (size_t)n, H264_NAL_SLICE, &nal));
    assert_int_equal(nal.data[0], 0x41); /* nal_ref_idc 2: a reference picture */
    rd_init(&r, &nal);
    assert_int_equal(rd_ue(&r), 0); /* first_mb_in_slice */
    assert_int_equal(rd_ue(&r), 5); /* slice_type P (all) */
    assert_int_equal(rd_ue(&r), (unsigned)s.pps_id);
    assert_int_equal(rd_bits(&r, s.log2_max_frame_num), 5);
    assert_int_equal(rd_bit(&r), 0); /* num_ref_idx_active_override_flag */
    assert_int_equal(rd_bit(&r), 0); /* ref_pic_list_modification_flag_l0 */
    assert_int_equal(rd_bit(&r), 0); /* adaptive_ref_pic_marking_mode_flag */
    assert_int_equal(rd_ue(&r), 0);  /* slice_qp_delta */
    assert_int_equal(rd_ue(&r), (unsigned)s.mb_count); /* mb_skip_run: every macroblock */
    rd_expect_trailing(&r);
    assert_int_equal(h264_skip_frame_num_of(&s, au, (size_t)n), 5);
    /* frame_num wraps at MaxFrameNum */
    n = h264_skip_write(&s, (1u << s.log2_max_frame_num) + 3, au, sizeof(au));
    assert_int_equal(h264_skip_frame_num_of(&s, au, (size_t)n), 3);
    enc->ops->close(enc);
}

/* The NAL units of two Annex B buffers are the same (start codes may differ in length: the
 * renumbered access unit uses 4-byte ones throughout). */
static void assert_same_nals(const uint8_t *a, size_t a_size, const uint8_t *b, size_t b_size)
{
    struct h264_nal_iter ia, ib;
    struct h264_nal na, nb;
    h264_nal_iter_init(&ia, a, a_size);
    h264_nal_iter_init(&ib, b, b_size);
    int count = 0;
    while (h264_nal_next(&ia, &na)) {
        assert_true(h264_nal_next(&ib, &nb));
        assert_int_equal(na.size, nb.size);
        assert_memory_equal(na.data, nb.data, na.size);
        count++;
    }
    assert_false(h264_nal_next(&ib, &nb));
    assert_true(count >= 1);
}

/* Renumbering changes frame_num and nothing else: renumbering back gives the same NAL units. */
static void test_renumber_round_trip(void **state)
{
    (void)state;
    struct hwenc *enc = open_x264(320, 240, "veryfast", "zerolatency");
    struct h264_skip s;
    char why[96];
    assert_int_equal(h264_skip_init(&s, enc->extradata, enc->extradata_size, why, sizeof(why)),
                     0);
    struct capture c = {0};
    static const int changes[] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
    encode_terminal_like(enc, 10, changes, 9, &c); /* every frame changes: no skips */
    assert_int_equal(c.n, 10);
    uint8_t *out = NULL, *back = NULL;
    size_t out_cap = 0, back_cap = 0;
    unsigned max = 1u << s.log2_max_frame_num;
    for (int i = 1; i < c.n; i++) {
        int orig = h264_skip_frame_num_of(&s, c.au[i], c.size[i]);
        assert_int_equal(orig, i % (int)max); /* x264 numbers its P pictures 1, 2, … */
        unsigned target = (unsigned)(i + 7) % max;
        int n = h264_skip_renumber(&s, c.au[i], c.size[i], target, &out, &out_cap);
        assert_true(n > 0);
        assert_int_equal(h264_skip_frame_num_of(&s, out, (size_t)n), (int)target);
        int m = h264_skip_renumber(&s, out, (size_t)n, (unsigned)orig, &back, &back_cap);
        assert_true(m > 0);
        assert_same_nals(back, (size_t)m, c.au[i], c.size[i]);
    }
    free(out);
    free(back);
    capture_free(&c);
    enc->ops->close(enc);
}

/* ---- the x264 backend with unchanged frames --------------------------------------------------- */

/* "constant frame rate": one access unit per frame tick, skipped or not; keyframes stay on the
 * clock (every 30 ticks here) although x264 saw fewer pictures; frame_num counts every
 * reference picture, skip pictures included, and restarts at each IDR. */
static void test_x264_skips_unchanged_frames(void **state)
{
    (void)state;
    struct hwenc *enc = open_x264(320, 240, "veryfast", "zerolatency");
    assert_int_equal(pps_count(enc->extradata, enc->extradata_size), 2);
    struct h264_skip s;
    char why[96];
    assert_int_equal(h264_skip_init(&s, enc->extradata, enc->extradata_size, why, sizeof(why)),
                     0);
    s.pps_id = 1; /* the backend's own skip PPS (h264_skip_init above chose the next id) */
    struct capture c = {0};
    static const int changes[] = {15, 16, 50};
    encode_terminal_like(enc, 100, changes, 3, &c);
    assert_int_equal(c.n, 100);
    int skips = 0;
    unsigned max = 1u << s.log2_max_frame_num;
    unsigned expect_fn = 0;
    for (int i = 0; i < c.n; i++) {
        assert_int_equal(c.pts[i], i);
        assert_int_equal(c.key[i], i % 30 == 0);
        struct h264_nal nal;
        bool is_skip = c.size[i] < 40 && h264_find_nal(c.au[i], c.size[i], 1, &nal) &&
                       nal.size > 3;
        if (is_skip) {
            struct rd r;
            rd_init(&r, &nal);
            rd_ue(&r);
            rd_ue(&r);
            is_skip = rd_ue(&r) == 1; /* the skip PPS */
        }
        skips += is_skip;
        if (c.key[i]) {
            expect_fn = 0;
        } else {
            expect_fn = (expect_fn + 1) % max;
            assert_int_equal(h264_skip_frame_num_of(&s, c.au[i], c.size[i]), (int)expect_fn);
        }
        /* changed pictures and keyframes are always x264's */
        if (i == 0 || i == 15 || i == 16 || i == 50 || i % 30 == 0)
            assert_false(is_skip);
    }
    /* Most of 100 mostly unchanged frames are skips (x264 refines a few after each change). */
    assert_true(skips >= 60);
    capture_free(&c);
    enc->ops->close(enc);
}

/* CBR asks for a constant rate (filler), so every picture is encoded. */
static void test_x264_cbr_encodes_every_frame(void **state)
{
    (void)state;
    struct hwenc_params p;
    hwenc_params_default(&p);
    p.width = 320;
    p.height = 240;
    p.rc_mode = HWENC_RC_CBR;
    struct hwenc *enc;
    assert_int_equal(hwenc_x264_ops.open(&enc, &p), 0);
    assert_int_equal(pps_count(enc->extradata, enc->extradata_size), 1);
    struct capture c = {0};
    encode_terminal_like(enc, 20, NULL, 0, &c);
    for (int i = 0; i < c.n; i++) {
        struct h264_nal nal;
        if (h264_find_nal(c.au[i], c.size[i], 1, &nal)) {
            struct rd r;
            rd_init(&r, &nal);
            rd_ue(&r);
            rd_ue(&r);
            assert_int_equal(rd_ue(&r), 0); /* x264's own PPS only */
        }
    }
    capture_free(&c);
    enc->ops->close(enc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init_from_x264_zerolatency),
        cmocka_unit_test(test_init_refuses_streams_it_cannot_follow),
        cmocka_unit_test(test_pps_and_skip_slice_syntax),
        cmocka_unit_test(test_renumber_round_trip),
        cmocka_unit_test(test_x264_skips_unchanged_frames),
        cmocka_unit_test(test_x264_cbr_encodes_every_frame),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
