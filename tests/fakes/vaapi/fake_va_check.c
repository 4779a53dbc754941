/*
 * fake_va_check — what the fake driver verifies about each picture before encoding it: the
 * sequence, picture and slice parameters against the context (size, macroblock counts,
 * cropping), rate control values, IDR placement, frame_num and references, and packed headers
 * (NAL type, SPS profile and size). Each finding is a "fake-vaapi: ERROR" (fake_error).
 */
#include "fake_va.h"

#include <stdlib.h>
#include <string.h>

/* ---- a tiny RBSP reader for packed headers ---- */

struct fake_bits {
    const uint8_t *p;
    size_t size, pos; /* pos in bits */
    bool overrun;
};

static unsigned fake_u(struct fake_bits *b, int n)
{
    unsigned v = 0;
    for (int i = 0; i < n; i++) {
        if (b->pos >= b->size * 8) {
            b->overrun = true;
            return 0;
        }
        v = (v << 1) | ((b->p[b->pos / 8] >> (7 - b->pos % 8)) & 1);
        b->pos++;
    }
    return v;
}

static unsigned fake_ue(struct fake_bits *b)
{
    int zeros = 0;
    while (fake_u(b, 1) == 0 && !b->overrun && zeros < 32)
        zeros++;
    if (zeros >= 32) {
        b->overrun = true;
        return 0;
    }
    return ((1u << zeros) - 1) + fake_u(b, zeros);
}

/* Strips emulation prevention bytes (00 00 03) into out; returns the RBSP size. */
static size_t fake_unescape(const uint8_t *in, size_t n, uint8_t *out)
{
    size_t o = 0, zeros = 0;
    for (size_t i = 0; i < n; i++) {
        if (zeros >= 2 && in[i] == 3) {
            zeros = 0;
            continue;
        }
        zeros = in[i] == 0 ? zeros + 1 : 0;
        out[o++] = in[i];
    }
    return o;
}

static int fake_profile_idc(VAProfile p)
{
    return p == VAProfileH264High ? 100 : p == VAProfileH264Main ? 77 : 66;
}

static VAStatus fake_check_sps(struct fake_driver *d, struct fake_context *c, VAProfile profile,
                               const uint8_t *rbsp, size_t n)
{
    struct fake_bits b = {.p = rbsp, .size = n};
    unsigned profile_idc = fake_u(&b, 8);
    fake_u(&b, 8); /* constraint flags */
    fake_u(&b, 8); /* level_idc */
    fake_ue(&b);   /* seq_parameter_set_id */
    if ((int)profile_idc != fake_profile_idc(profile))
        return fake_error(d, 0, "packed SPS: profile_idc %u but the config's profile wants %d",
                          profile_idc, fake_profile_idc(profile));
    if (profile_idc == 100) {
        if (fake_ue(&b) != 1)
            return fake_error(d, 0, "packed SPS: chroma_format_idc is not 4:2:0");
        fake_ue(&b);
        fake_ue(&b);
        fake_u(&b, 1);
        if (fake_u(&b, 1))
            return fake_error(d, 0, "packed SPS: scaling matrices are not supported");
    }
    fake_ue(&b); /* log2_max_frame_num_minus4 */
    unsigned poc_type = fake_ue(&b);
    if (poc_type == 0)
        fake_ue(&b);
    else if (poc_type != 2)
        return fake_error(d, 0, "packed SPS: pic_order_cnt_type %u", poc_type);
    fake_ue(&b);   /* max_num_ref_frames */
    fake_u(&b, 1); /* gaps_in_frame_num_value_allowed_flag */
    unsigned w_mbs = fake_ue(&b) + 1, h_mbs = fake_ue(&b) + 1;
    if (!fake_u(&b, 1))
        return fake_error(d, 0, "packed SPS: frame_mbs_only_flag is 0 (fields)");
    fake_u(&b, 1); /* direct_8x8_inference_flag */
    unsigned crop[4] = {0, 0, 0, 0};
    if (fake_u(&b, 1))
        for (int i = 0; i < 4; i++)
            crop[i] = fake_ue(&b);
    if (b.overrun)
        return fake_error(d, 0, "packed SPS: truncated");
    int w = (int)(w_mbs * 16 - 2 * (crop[0] + crop[1]));
    int h = (int)(h_mbs * 16 - 2 * (crop[2] + crop[3]));
    if (w != c->width || h != c->height)
        return fake_error(d, 0, "packed SPS: %dx%d (%ux%u MBs, cropped) for a %dx%d context", w, h,
                          w_mbs, h_mbs, c->width, c->height);
    return VA_STATUS_SUCCESS;
}

VAStatus fake_check_packed_nal(struct fake_driver *d, struct fake_context *c, VAProfile profile,
                               uint32_t type, const uint8_t *data, uint32_t size)
{
    size_t sc = size >= 4 && !data[0] && !data[1] && !data[2] && data[3] == 1 ? 4
                : size >= 3 && !data[0] && !data[1] && data[2] == 1           ? 3
                                                                              : 0;
    if (!sc || size < sc + 2)
        return fake_error(d, 0, "packed header (type %#x) does not start with a start code", type);
    uint8_t h = data[sc];
    unsigned nal = h & 0x1f;
    if (h & 0x80)
        return fake_error(d, 0, "packed header: forbidden_zero_bit set");
    unsigned want = type == VA_ENC_PACKED_HEADER_SEQUENCE  ? 7
                    : type == VA_ENC_PACKED_HEADER_PICTURE ? 8
                                                           : 0;
    if (type == VA_ENC_PACKED_HEADER_SLICE) {
        if (nal != 1 && nal != 5)
            return fake_error(d, 0, "packed slice header with NAL type %u", nal);
        d->stats.packed_slice++;
        return VA_STATUS_SUCCESS;
    }
    if (!want || nal != want)
        return fake_error(d, 0, "packed header type %#x carries NAL type %u", type, nal);
    if (nal == 8) {
        c->cur.packed_pps = true;
        d->stats.packed_pps++;
        return VA_STATUS_SUCCESS;
    }
    uint8_t *rbsp = malloc(size);
    if (!rbsp)
        return VA_STATUS_ERROR_ALLOCATION_FAILED;
    size_t n = fake_unescape(data + sc + 1, size - sc - 1, rbsp);
    VAStatus st = fake_check_sps(d, c, profile, rbsp, n);
    free(rbsp);
    if (st == VA_STATUS_SUCCESS) {
        c->cur.packed_sps = true;
        d->stats.packed_sps++;
    }
    return st;
}

/* ---- parameters ---- */

static VAStatus fake_check_seq(struct fake_driver *d, const struct fake_context *c,
                               const VAEncSequenceParameterBufferH264 *s)
{
    unsigned wm = ((unsigned)c->width + 15) / 16, hm = ((unsigned)c->height + 15) / 16;
    if (s->picture_width_in_mbs != wm || s->picture_height_in_mbs != hm)
        return fake_error(d, 0, "seq: %ux%u MBs for a %dx%d context (want %ux%u)",
                          s->picture_width_in_mbs, s->picture_height_in_mbs, c->width, c->height,
                          wm, hm);
    if (!s->seq_fields.bits.frame_mbs_only_flag || s->seq_fields.bits.chroma_format_idc != 1)
        return fake_error(d, 0, "seq: want progressive 4:2:0 (frame_mbs_only 1, chroma 1)");
    unsigned crop_r = (wm * 16 - (unsigned)c->width) / 2;
    unsigned crop_b = (hm * 16 - (unsigned)c->height) / 2;
    bool need_crop = crop_r || crop_b;
    if (need_crop != (s->frame_cropping_flag != 0) ||
        (need_crop &&
         (s->frame_crop_left_offset || s->frame_crop_top_offset ||
          s->frame_crop_right_offset != crop_r || s->frame_crop_bottom_offset != crop_b)))
        return fake_error(d, 0,
                          "seq: cropping flag %u right %u bottom %u, want right %u "
                          "bottom %u",
                          s->frame_cropping_flag, s->frame_crop_right_offset,
                          s->frame_crop_bottom_offset, crop_r, crop_b);
    if (s->intra_idr_period == 0 || s->ip_period != 1)
        return fake_error(d, 0,
                          "seq: intra_idr_period %u ip_period %u (want > 0 and 1: no "
                          "B-frames)",
                          s->intra_idr_period, s->ip_period);
    if (s->max_num_ref_frames < 1 || s->seq_fields.bits.log2_max_frame_num_minus4 > 12 ||
        (s->seq_fields.bits.pic_order_cnt_type != 0 && s->seq_fields.bits.pic_order_cnt_type != 2))
        return fake_error(d, 0,
                          "seq: max_num_ref_frames %u log2_max_frame_num_minus4 %u "
                          "pic_order_cnt_type %u",
                          s->max_num_ref_frames, s->seq_fields.bits.log2_max_frame_num_minus4,
                          s->seq_fields.bits.pic_order_cnt_type);
    return VA_STATUS_SUCCESS;
}

static VAStatus fake_check_rc(struct fake_driver *d, const struct fake_config *cfg,
                              const struct fake_context *c)
{
    const VAEncMiscParameterRateControl *rc = &c->rc;
    if (rc->bits_per_second == 0 || rc->bits_per_second > 500000000)
        return fake_error(d, 0, "rate control: bits_per_second %u", rc->bits_per_second);
    if (rc->target_percentage == 0 || rc->target_percentage > 100 ||
        (cfg->rc_mode == VA_RC_CBR && rc->target_percentage != 100))
        return fake_error(d, 0, "rate control: target_percentage %u (CBR wants 100)",
                          rc->target_percentage);
    if (rc->window_size < 100 || rc->window_size > 60000)
        return fake_error(d, 0, "rate control: window_size %u ms not within 100..60000",
                          rc->window_size);
    if (c->have_hrd &&
        (c->hrd.buffer_size == 0 || c->hrd.initial_buffer_fullness > c->hrd.buffer_size))
        return fake_error(d, 0, "HRD: buffer_size %u initial_buffer_fullness %u",
                          c->hrd.buffer_size, c->hrd.initial_buffer_fullness);
    unsigned num = c->fr.framerate & 0xffff, den = c->fr.framerate >> 16;
    if (den == 0)
        den = 1;
    if (!c->have_fr || num == 0 || num > 240 * den)
        return fake_error(d, 0, "frame rate: %s%u/%u", c->have_fr ? "" : "never given, ", num, den);
    return VA_STATUS_SUCCESS;
}

static bool fake_surface_ok(struct fake_driver *d, VASurfaceID id, const char *what)
{
    return fake_obj_get(d, id, FK_SURFACE, what) != NULL;
}

static VAStatus fake_check_pic(struct fake_driver *d, struct fake_context *c)
{
    const VAEncPictureParameterBufferH264 *p = &c->cur.pic;
    bool idr = p->pic_fields.bits.idr_pic_flag;
    unsigned max_fn = 1u << (c->seq.seq_fields.bits.log2_max_frame_num_minus4 + 4);
    struct fake_buffer *cb = fake_obj_get(d, p->coded_buf, FK_BUFFER, "pic.coded_buf");
    if (!cb)
        return VA_STATUS_ERROR_INVALID_BUFFER;
    if (cb->type != VAEncCodedBufferType || cb->mapped || cb->coded_pending)
        return fake_error(d, 0,
                          "pic: coded_buf %#x is not a coded buffer, or is mapped, or "
                          "holds a picture not yet synced",
                          p->coded_buf);
    if (!fake_surface_ok(d, p->CurrPic.picture_id, "pic.CurrPic"))
        return VA_STATUS_ERROR_INVALID_SURFACE;
    if (c->pictures == 0 && !idr)
        return fake_error(d, 0, "pic: the first picture is not an IDR");
    if (!idr && c->since_idr >= c->seq.intra_idr_period)
        return fake_error(d, 0, "pic: IDR overdue (%u pictures since the last, period %u)",
                          c->since_idr, c->seq.intra_idr_period);
    unsigned want_fn = idr ? 0 : (c->last_frame_num + 1) % max_fn;
    if (p->frame_num != want_fn || p->seq_parameter_set_id != c->seq.seq_parameter_set_id)
        return fake_error(d, 0, "pic: frame_num %u (want %u), sps id %u (seq has %u)", p->frame_num,
                          want_fn, p->seq_parameter_set_id, c->seq.seq_parameter_set_id);
    if (!p->pic_fields.bits.reference_pic_flag)
        return fake_error(d, 0, "pic: every picture is a reference in an I/P stream");
    if (!idr && (p->ReferenceFrames[0].picture_id != c->last_recon ||
                 p->CurrPic.picture_id == c->last_recon))
        return fake_error(d, 0,
                          "pic: P picture must reference the previous reconstructed "
                          "surface %#x (got %#x) and reconstruct elsewhere (CurrPic %#x)",
                          c->last_recon, p->ReferenceFrames[0].picture_id, p->CurrPic.picture_id);
    return VA_STATUS_SUCCESS;
}

static VAStatus fake_check_slices(struct fake_driver *d, struct fake_context *c)
{
    bool idr = c->cur.pic.pic_fields.bits.idr_pic_flag;
    uint32_t next = 0, total = (uint32_t)c->seq.picture_width_in_mbs * c->seq.picture_height_in_mbs;
    if (c->cur.n_slices == 0)
        return fake_error(d, 0, "picture without slice parameters");
    for (int i = 0; i < c->cur.n_slices; i++) {
        const VAEncSliceParameterBufferH264 *s = &c->cur.slices[i];
        unsigned t = s->slice_type % 5;
        if (s->macroblock_address != next || s->num_macroblocks == 0)
            return fake_error(d, 0, "slice %d: starts at MB %u with %u MBs (want start %u)", i,
                              s->macroblock_address, s->num_macroblocks, next);
        next += s->num_macroblocks;
        if ((idr && t != 2) || (!idr && t != 0 && t != 2))
            return fake_error(d, 0, "slice %d: type %u in a%s picture", i, s->slice_type,
                              idr ? "n IDR" : " P");
        if (t == 0 &&
            (s->RefPicList0[0].picture_id != c->last_recon || s->num_ref_idx_l0_active_minus1 != 0))
            return fake_error(d, 0, "slice %d: RefPicList0[0] %#x (want %#x), %u refs", i,
                              s->RefPicList0[0].picture_id, c->last_recon,
                              s->num_ref_idx_l0_active_minus1 + 1);
    }
    if (next != total)
        return fake_error(d, 0, "slices cover %u MBs of %u", next, total);
    return VA_STATUS_SUCCESS;
}

static void fake_note_stats(struct fake_driver *d, const struct fake_context *c)
{
    const VAEncMiscParameterRateControl *rc = &c->rc;
    d->stats.maxrate_bps = rc->bits_per_second;
    d->stats.bitrate_bps = (uint32_t)((uint64_t)rc->bits_per_second * rc->target_percentage / 100);
    d->stats.hrd_buffer = c->have_hrd ? c->hrd.buffer_size : 0;
    d->stats.fps_num = c->fr.framerate & 0xffff;
    d->stats.fps_den = (c->fr.framerate >> 16) ? (c->fr.framerate >> 16) : 1;
    d->stats.idr_period = c->seq.intra_idr_period;
}

VAStatus fake_validate_picture(struct fake_driver *d, struct fake_context *c)
{
    struct fake_config *cfg = fake_obj_get(d, c->config, FK_CONFIG, "vaEndPicture (config)");
    if (!cfg)
        return VA_STATUS_ERROR_INVALID_CONFIG;
    struct fake_picture *cur = &c->cur;
    if (cur->pending_packed_type)
        return fake_error(d, 0,
                          "picture ended with a packed header parameter buffer but no "
                          "data");
    if (!cur->have_seq && !c->have_seq)
        return fake_error(d, 0, "first picture without sequence parameters");
    if (!cur->have_pic)
        return fake_error(d, 0, "picture without picture parameters");
    VAStatus st;
    if (cur->have_seq && (st = fake_check_seq(d, c, &cur->seq)) != VA_STATUS_SUCCESS)
        return st;
    if (cur->have_seq) {
        c->seq = cur->seq;
        c->have_seq = true;
    }
    if (cur->have_rc) {
        c->rc = cur->rc;
        c->have_rc = true;
    }
    if (cur->have_hrd) {
        c->hrd = cur->hrd;
        c->have_hrd = true;
    }
    if (cur->have_fr) {
        c->fr = cur->fr;
        c->have_fr = true;
    }
    if (!c->have_rc)
        return fake_error(d, 0, "no rate control parameters before the first picture ended");
    if ((st = fake_check_rc(d, cfg, c)) != VA_STATUS_SUCCESS ||
        (st = fake_check_pic(d, c)) != VA_STATUS_SUCCESS ||
        (st = fake_check_slices(d, c)) != VA_STATUS_SUCCESS)
        return st;
    bool idr = cur->pic.pic_fields.bits.idr_pic_flag;
    if (idr && (cfg->packed_headers & VA_ENC_PACKED_HEADER_SEQUENCE) && !cur->packed_sps)
        return fake_error(d, 0, "IDR without the packed SPS the config promised");
    if (idr && (cfg->packed_headers & VA_ENC_PACKED_HEADER_PICTURE) && !cur->packed_pps)
        return fake_error(d, 0, "IDR without the packed PPS the config promised");
    fake_note_stats(d, c);
    c->since_idr = idr ? 1 : c->since_idr + 1;
    c->last_recon = cur->pic.CurrPic.picture_id;
    c->last_frame_num = cur->pic.frame_num;
    c->pictures++;
    return VA_STATUS_SUCCESS;
}
