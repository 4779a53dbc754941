/*
 * h264_skip — see h264_skip.h. Bit-level work on RBSP (emulation prevention removed), then
 * escaped again into NAL units: the few header fields written or changed here are exp-Golomb
 * codes and fixed-width fields of ITU-T H.264 7.3.
 */
#include "hwenc/h264_skip.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "media/h264_nal.h"

#define NAL_HEADER_PPS 0x68  /* nal_ref_idc 3, nal_unit_type 8 */
#define NAL_HEADER_SKIP 0x41 /* nal_ref_idc 2 (a reference picture), nal_unit_type 1 */
#define SLICE_TYPE_P_ALL 5   /* P, and every slice of the picture is P */

static const uint8_t start_code[4] = {0, 0, 0, 1};

/* ---- RBSP bits ---------------------------------------------------------------------------- */

struct bitwriter {
    uint8_t *buf;
    size_t cap, pos; /* bytes */
    int used;        /* bits used in buf[pos] */
    bool overflow;
};

static void bw_bit(struct bitwriter *w, unsigned bit)
{
    if (w->pos >= w->cap) {
        w->overflow = true;
        return;
    }
    if (w->used == 0)
        w->buf[w->pos] = 0;
    w->buf[w->pos] |= (uint8_t)((bit & 1) << (7 - w->used));
    if (++w->used == 8) {
        w->used = 0;
        w->pos++;
    }
}

static void bw_bits(struct bitwriter *w, uint32_t v, int n)
{
    while (n-- > 0)
        bw_bit(w, (v >> n) & 1);
}

/* ue(v), 9.1: for v + 1 with k significant bits, k - 1 zeros then those k bits. */
static void bw_ue(struct bitwriter *w, uint32_t v)
{
    uint64_t x = (uint64_t)v + 1;
    int k = 0;
    while ((x >> k) > 1)
        k++;
    bw_bits(w, 0, k);
    bw_bits(w, (uint32_t)x, k + 1);
}

/* se(v) with v = 0 only is needed here: code 0, a single 1 bit. */
static void bw_se0(struct bitwriter *w)
{
    bw_bit(w, 1);
}

/* rbsp_trailing_bits: a stop bit, then zeros to the byte boundary. */
static size_t bw_finish(struct bitwriter *w)
{
    bw_bit(w, 1);
    while (w->used != 0)
        bw_bit(w, 0);
    return w->pos;
}

struct bitreader {
    const uint8_t *buf;
    size_t size_bits, pos; /* bits */
    bool err;
};

static unsigned br_bit(struct bitreader *r)
{
    if (r->pos >= r->size_bits) {
        r->err = true;
        return 0;
    }
    unsigned bit = (r->buf[r->pos / 8] >> (7 - r->pos % 8)) & 1;
    r->pos++;
    return bit;
}

static uint32_t br_ue(struct bitreader *r)
{
    int zeros = 0;
    while (!br_bit(r)) {
        if (r->err || ++zeros > 31) {
            r->err = true;
            return 0;
        }
    }
    uint32_t v = 0;
    for (int i = 0; i < zeros; i++)
        v = (v << 1) | br_bit(r);
    return ((1u << zeros) - 1) + v;
}

/* ---- NAL <-> RBSP --------------------------------------------------------------------------- */

/* Removes emulation prevention bytes (00 00 03 → 00 00) from a NAL payload into out (at least
 * size bytes). Returns the RBSP size. */
static size_t unescape(const uint8_t *in, size_t size, uint8_t *out)
{
    size_t n = 0;
    int zeros = 0;
    for (size_t i = 0; i < size; i++) {
        if (zeros >= 2 && in[i] == 3) {
            zeros = 0;
            continue;
        }
        zeros = in[i] == 0 ? zeros + 1 : 0;
        out[n++] = in[i];
    }
    return n;
}

/* Bytes escape() writes at most for an RBSP of size bytes. */
static size_t escaped_max(size_t size)
{
    return size + size / 2 + 2;
}

/* Writes start code, header byte and the escaped RBSP to out (escaped_max(size) + 5 bytes).
 * Returns the bytes written. 7.4.1: a 03 goes in before any 00–03 byte that follows two zeros,
 * and after a final 00 (an RBSP ending in cabac_zero_word). */
static size_t escape(uint8_t header, const uint8_t *rbsp, size_t size, uint8_t *out)
{
    size_t n = 0;
    memcpy(out, start_code, sizeof(start_code));
    n += sizeof(start_code);
    out[n++] = header;
    int zeros = 0;
    for (size_t i = 0; i < size; i++) {
        if (zeros >= 2 && rbsp[i] <= 3) {
            out[n++] = 3;
            zeros = 0;
        }
        out[n++] = rbsp[i];
        zeros = rbsp[i] == 0 ? zeros + 1 : 0;
    }
    if (size > 0 && rbsp[size - 1] == 0)
        out[n++] = 3;
    return n;
}

/* ---- parameter sets ------------------------------------------------------------------------ */

static int fail(char *why, size_t why_size, int rc, const char *what)
{
    if (why && why_size)
        snprintf(why, why_size, "%s", what);
    return rc;
}

/* pic_parameter_set_id of a PPS NAL unit, or -1. */
static int pps_id_of(const struct h264_nal *nal)
{
    uint8_t rbsp[8];
    size_t take = nal->size - 1 < sizeof(rbsp) ? nal->size - 1 : sizeof(rbsp);
    /* The id is the first ue(v) (at most 17 bits for 255): a prefix of the RBSP is enough. */
    size_t n = unescape(nal->data + 1, take, rbsp);
    struct bitreader r = {.buf = rbsp, .size_bits = n * 8};
    uint32_t id = br_ue(&r);
    return r.err || id > 255 ? -1 : (int)id;
}

static void build_pps(struct h264_skip *s)
{
    uint8_t rbsp[12];
    struct bitwriter w = {.buf = rbsp, .cap = sizeof(rbsp)};
    bw_ue(&w, (uint32_t)s->pps_id);
    bw_ue(&w, (uint32_t)s->sps_id);
    bw_bit(&w, 0);     /* entropy_coding_mode_flag: CAVLC */
    bw_bit(&w, 0);     /* bottom_field_pic_order_in_frame_present_flag */
    bw_ue(&w, 0);      /* num_slice_groups_minus1 */
    bw_ue(&w, 0);      /* num_ref_idx_l0_default_active_minus1 */
    bw_ue(&w, 0);      /* num_ref_idx_l1_default_active_minus1 */
    bw_bit(&w, 0);     /* weighted_pred_flag */
    bw_bits(&w, 0, 2); /* weighted_bipred_idc */
    bw_se0(&w);        /* pic_init_qp_minus26 */
    bw_se0(&w);        /* pic_init_qs_minus26 */
    bw_se0(&w);        /* chroma_qp_index_offset */
    bw_bit(&w, 0);     /* deblocking_filter_control_present_flag */
    bw_bit(&w, 0);     /* constrained_intra_pred_flag */
    bw_bit(&w, 0);     /* redundant_pic_cnt_present_flag */
    size_t n = bw_finish(&w);
    s->pps_size = escape(NAL_HEADER_PPS, rbsp, n, s->pps);
}

int h264_skip_init(struct h264_skip *s, const uint8_t *headers, size_t size, char *why,
                   size_t why_size)
{
    memset(s, 0, sizeof(*s));
    struct h264_nal sps_nal, nal;
    struct h264_sps_info sps;
    if (!h264_find_nal(headers, size, H264_NAL_SPS, &sps_nal) ||
        h264_sps_parse(sps_nal.data, sps_nal.size, &sps) < 0)
        return fail(why, why_size, -EINVAL, "no SPS that parses");
    if (sps.poc_type != 2)
        return fail(why, why_size, -ENOTSUP, "pic_order_cnt_type is not 2");
    if (sps.max_num_ref_frames != 1)
        return fail(why, why_size, -ENOTSUP, "more than one reference frame");
    if (!sps.frame_mbs_only)
        return fail(why, why_size, -ENOTSUP, "field coding");
    int max_id = -1;
    struct h264_nal_iter it;
    h264_nal_iter_init(&it, headers, size);
    while (h264_nal_next(&it, &nal)) {
        if (nal.type != H264_NAL_PPS)
            continue;
        int id = pps_id_of(&nal);
        if (id < 0)
            return fail(why, why_size, -EINVAL, "a PPS that does not parse");
        if (id > max_id)
            max_id = id;
    }
    if (max_id >= 255)
        return fail(why, why_size, -ENOTSUP, "no free PPS id");
    s->log2_max_frame_num = sps.log2_max_frame_num;
    s->mb_count = sps.width_mbs * sps.height_map_units;
    s->sps_id = sps.sps_id;
    s->pps_id = max_id + 1;
    build_pps(s);
    return 0;
}

/* ---- pictures ------------------------------------------------------------------------------ */

int h264_skip_write(const struct h264_skip *s, unsigned frame_num, uint8_t *out, size_t cap)
{
    uint8_t rbsp[32];
    struct bitwriter w = {.buf = rbsp, .cap = sizeof(rbsp)};
    bw_ue(&w, 0);                /* first_mb_in_slice */
    bw_ue(&w, SLICE_TYPE_P_ALL); /* slice_type */
    bw_ue(&w, (uint32_t)s->pps_id);
    bw_bits(&w, frame_num & ((1u << s->log2_max_frame_num) - 1), s->log2_max_frame_num);
    /* pic_order_cnt_type 2: no POC fields. Our PPS: no redundant_pic_cnt, no weights. */
    bw_bit(&w, 0);                    /* num_ref_idx_active_override_flag */
    bw_bit(&w, 0);                    /* ref_pic_list_modification_flag_l0 */
    bw_bit(&w, 0);                    /* adaptive_ref_pic_marking_mode_flag: sliding window */
    bw_se0(&w);                       /* slice_qp_delta */
    bw_ue(&w, (uint32_t)s->mb_count); /* slice_data: mb_skip_run over the whole picture */
    size_t n = bw_finish(&w);
    if (w.overflow || cap < escaped_max(n) + 5)
        return -ENOSPC;
    return (int)escape(NAL_HEADER_SKIP, rbsp, n, out);
}

/* Bit position of frame_num in a slice RBSP, or -1. */
static long frame_num_pos(const uint8_t *rbsp, size_t size)
{
    struct bitreader r = {.buf = rbsp, .size_bits = size * 8};
    br_ue(&r); /* first_mb_in_slice */
    br_ue(&r); /* slice_type */
    br_ue(&r); /* pic_parameter_set_id */
    return r.err ? -1 : (long)r.pos;
}

static bool reserve(uint8_t **out, size_t *cap, size_t need)
{
    if (need <= *cap)
        return true;
    size_t want = need + need / 4 + 256;
    uint8_t *p = realloc(*out, want);
    if (!p)
        return false;
    *out = p;
    *cap = want;
    return true;
}

int h264_skip_renumber(const struct h264_skip *s, const uint8_t *in, size_t in_size,
                       unsigned frame_num, uint8_t **out, size_t *out_cap)
{
    size_t n = 0;
    uint8_t *rbsp = NULL;
    size_t rbsp_cap = 0;
    int rc = 0;
    struct h264_nal nal;
    struct h264_nal_iter it;
    h264_nal_iter_init(&it, in, in_size);
    while (h264_nal_next(&it, &nal)) {
        if (nal.type != H264_NAL_SLICE) {
            if (!reserve(out, out_cap, n + sizeof(start_code) + nal.size)) {
                rc = -ENOMEM;
                break;
            }
            memcpy(*out + n, start_code, sizeof(start_code));
            memcpy(*out + n + sizeof(start_code), nal.data, nal.size);
            n += sizeof(start_code) + nal.size;
            continue;
        }
        if (!reserve(&rbsp, &rbsp_cap, nal.size) ||
            !reserve(out, out_cap, n + escaped_max(nal.size) + 5)) {
            rc = -ENOMEM;
            break;
        }
        size_t size = unescape(nal.data + 1, nal.size - 1, rbsp);
        long pos = frame_num_pos(rbsp, size);
        if (pos < 0 || (size_t)pos + (size_t)s->log2_max_frame_num > size * 8) {
            rc = -EINVAL;
            break;
        }
        for (int i = 0; i < s->log2_max_frame_num; i++) {
            size_t bit = (size_t)pos + (size_t)i;
            unsigned v = (frame_num >> (s->log2_max_frame_num - 1 - i)) & 1;
            uint8_t mask = (uint8_t)(0x80 >> (bit % 8));
            rbsp[bit / 8] = (uint8_t)(v ? rbsp[bit / 8] | mask : rbsp[bit / 8] & ~mask);
        }
        n += escape(nal.data[0], rbsp, size, *out + n);
    }
    free(rbsp);
    return rc < 0 ? rc : (int)n;
}

int h264_skip_frame_num_of(const struct h264_skip *s, const uint8_t *au, size_t size)
{
    struct h264_nal nal;
    struct h264_nal_iter it;
    h264_nal_iter_init(&it, au, size);
    while (h264_nal_next(&it, &nal)) {
        if (nal.type != H264_NAL_SLICE && nal.type != H264_NAL_IDR)
            continue;
        uint8_t rbsp[16];
        size_t take = nal.size - 1 < sizeof(rbsp) ? nal.size - 1 : sizeof(rbsp);
        size_t n = unescape(nal.data + 1, take, rbsp);
        long pos = frame_num_pos(rbsp, n);
        if (pos < 0 || (size_t)pos + (size_t)s->log2_max_frame_num > n * 8)
            return -1;
        struct bitreader r = {.buf = rbsp, .size_bits = n * 8, .pos = (size_t)pos};
        unsigned v = 0;
        for (int i = 0; i < s->log2_max_frame_num; i++)
            v = (v << 1) | br_bit(&r);
        return (int)v;
    }
    return -1;
}
