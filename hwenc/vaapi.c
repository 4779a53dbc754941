/*
 * vaapi — the VA-API H.264 backend (hwenc_vaapi_ops, "vaapi"): Intel and AMD GPUs through libva
 * on a DRM render node.
 *
 * Input without a CPU copy: a pool of NV12 surfaces whose memory the source draws into directly
 * (vaDeriveImage + vaMapBuffer while the frame is lent; buffer_id = surface index, so sources
 * redraw only what changed). Where the driver cannot derive images, each surface gets a VAImage
 * the source draws into and vaPutImage uploads it (a copy, counted in frame.copied_bytes).
 * import() wraps a DRM PRIME dmabuf as a surface (DRM_PRIME_2, else DRM_PRIME).
 *
 * Asynchronous: encode submits picture N and then syncs and emits picture N-1, so the GPU
 * encodes N while the source draws N+1; output lags input by one frame. I and P pictures only
 * (no B-frames), one reference, an IDR every keyint frames. The stream's SPS/PPS (extradata) are
 * taken from the coded output of a first IDR encoded at open: the same bytes whether the driver
 * writes its own headers or ours (packed SPS/PPS, vaapi_headers.c, when the driver takes them).
 */
#include "hwenc/hwenc.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <drm_fourcc.h>
#include <va/va.h>

#include "core/log.h"
#include "hwenc/vaapi_internal.h"
#include "media/h264_nal.h"

#define VAAPI_POOL 4    /* surfaces lent to sources: buffer_id 0..3 */
#define VAAPI_IMPORTS 4 /* imported dmabufs in flight: buffer_id 4..7 */
#define VAAPI_SLOTS (VAAPI_POOL + VAAPI_IMPORTS)
#define VAAPI_RECON 3 /* reconstructed pictures: current, reference, one in flight */
#define VAAPI_MAX_BUFS 12

struct vaapi_slot {
    VASurfaceID surface;
    VABufferID coded;
    VAImage image;   /* derived while lent, or the upload image of the put path */
    bool image_live; /* image holds a live VAImage */
    bool mapped;     /* image.buf is mapped for the source */
    bool lent;       /* frame handed out, not yet encoded */
    bool pending;    /* picture submitted, not yet synced */
    bool imported;   /* surface wraps a dmabuf; destroyed once its picture is synced */
    struct frame frame;
    int64_t pts, capture_ns;
    bool keyframe;
};

struct vaapi_enc {
    struct hwenc base; /* first: the hwenc API hands out &base */
    struct vaapi_display disp;
    struct vaapi_setup setup;
    struct vaapi_rc rc;
    VAEncSequenceParameterBufferH264 seq;
    VAConfigID config;
    VAContextID context;
    struct vaapi_slot slots[VAAPI_SLOTS];
    VASurfaceID recon[VAAPI_RECON];
    bool derive;    /* vaDeriveImage works: zero-copy input */
    int next_input; /* pool slot lent next */
    int next_import;
    int pending;     /* slot whose picture awaits sync, or -1 */
    uint64_t frames; /* pictures submitted */
    unsigned since_idr, frame_num, idr_pic_id;
    int64_t last_idr_pts;
    int recon_next;
    VASurfaceID last_recon;
    uint32_t coded_size;
    bool capture_headers; /* the next synced IDR's SPS/PPS become the extradata */
    uint8_t *au;          /* a coded picture made of several segments, joined */
    size_t au_cap;
    uint8_t *extradata;
    size_t extradata_size;
    char description[192];
    char *names[HWENC_PARAM_STRINGS];
};

static int vaapi_fail(VAStatus st, const char *what)
{
    log_error(VAAPI_COMPONENT, "%s failed: %s", what, vaErrorStr(st));
    return -EIO;
}

/* ---- parameter buffers ---- */

static int vaapi_param(struct vaapi_enc *e, VABufferType type, const void *data, size_t size,
                       VABufferID *ids, int *n)
{
    if (*n >= VAAPI_MAX_BUFS)
        return -ENOSPC;
    VAStatus st =
        vaCreateBuffer(e->disp.dpy, e->context, type, (unsigned)size, 1, (void *)data, &ids[*n]);
    if (st != VA_STATUS_SUCCESS)
        return vaapi_fail(st, "vaCreateBuffer");
    (*n)++;
    return 0;
}

static int vaapi_misc(struct vaapi_enc *e, VAEncMiscParameterType type, const void *payload,
                      size_t size, VABufferID *ids, int *n)
{
    uint8_t buf[sizeof(VAEncMiscParameterBuffer) + 128];
    if (size > 128)
        return -EINVAL;
    memset(buf, 0, sizeof(buf));
    VAEncMiscParameterBuffer *m = (VAEncMiscParameterBuffer *)buf;
    m->type = type;
    memcpy(buf + sizeof(*m), payload, size);
    return vaapi_param(e, VAEncMiscParameterBufferType, buf, sizeof(*m) + size, ids, n);
}

static int vaapi_packed(struct vaapi_enc *e, uint32_t type, const uint8_t *nal, int size,
                        VABufferID *ids, int *n)
{
    if (size < 0)
        return size;
    VAEncPackedHeaderParameterBuffer ph = {
        .type = type,
        .bit_length = (uint32_t)size * 8,
        .has_emulation_bytes = 1,
    };
    int ret = vaapi_param(e, VAEncPackedHeaderParameterBufferType, &ph, sizeof(ph), ids, n);
    if (ret == 0)
        ret = vaapi_param(e, VAEncPackedHeaderDataBufferType, nal, (size_t)size, ids, n);
    return ret;
}

static void vaapi_fill_pic(struct vaapi_enc *e, const struct vaapi_slot *slot, bool idr,
                           VAEncPictureParameterBufferH264 *pic)
{
    memset(pic, 0, sizeof(*pic));
    VASurfaceID recon = e->recon[e->recon_next];
    pic->CurrPic.picture_id = recon;
    pic->CurrPic.frame_idx = e->frame_num;
    pic->CurrPic.TopFieldOrderCnt = (int32_t)(2 * e->since_idr);
    pic->CurrPic.BottomFieldOrderCnt = pic->CurrPic.TopFieldOrderCnt;
    for (int i = 0; i < 16; i++) {
        pic->ReferenceFrames[i].picture_id = VA_INVALID_SURFACE;
        pic->ReferenceFrames[i].flags = VA_PICTURE_H264_INVALID;
    }
    if (!idr) {
        pic->ReferenceFrames[0].picture_id = e->last_recon;
        pic->ReferenceFrames[0].flags = VA_PICTURE_H264_SHORT_TERM_REFERENCE;
        pic->ReferenceFrames[0].frame_idx = (e->frame_num + 255) % 256;
        pic->ReferenceFrames[0].TopFieldOrderCnt = (int32_t)(2 * (e->since_idr - 1));
        pic->ReferenceFrames[0].BottomFieldOrderCnt = pic->ReferenceFrames[0].TopFieldOrderCnt;
    }
    pic->coded_buf = slot->coded;
    pic->frame_num = (uint16_t)e->frame_num;
    pic->pic_init_qp = 26;
    pic->pic_fields.bits.idr_pic_flag = idr;
    pic->pic_fields.bits.reference_pic_flag = 1;
    pic->pic_fields.bits.entropy_coding_mode_flag =
        e->setup.profile != VAProfileH264ConstrainedBaseline;
    pic->pic_fields.bits.transform_8x8_mode_flag = e->setup.profile == VAProfileH264High;
    pic->pic_fields.bits.deblocking_filter_control_present_flag = 1;
}

static void vaapi_fill_slice(struct vaapi_enc *e, bool idr, VAEncSliceParameterBufferH264 *s)
{
    memset(s, 0, sizeof(*s));
    s->macroblock_address = 0;
    s->num_macroblocks = (uint32_t)e->seq.picture_width_in_mbs * e->seq.picture_height_in_mbs;
    s->macroblock_info = VA_INVALID_ID;
    s->slice_type = idr ? 2 : 0; /* I, P */
    s->idr_pic_id = (uint16_t)e->idr_pic_id;
    for (int i = 0; i < 32; i++) {
        s->RefPicList0[i].picture_id = VA_INVALID_SURFACE;
        s->RefPicList0[i].flags = VA_PICTURE_H264_INVALID;
        s->RefPicList1[i].picture_id = VA_INVALID_SURFACE;
        s->RefPicList1[i].flags = VA_PICTURE_H264_INVALID;
    }
    if (!idr) {
        s->RefPicList0[0].picture_id = e->last_recon;
        s->RefPicList0[0].flags = VA_PICTURE_H264_SHORT_TERM_REFERENCE;
        s->RefPicList0[0].frame_idx = (e->frame_num + 255) % 256;
    }
}

/* The buffers of one picture: with an IDR, the sequence, rate control and packed headers. */
static int vaapi_build_buffers(struct vaapi_enc *e, const struct vaapi_slot *slot, bool idr,
                               VABufferID *ids, int *n)
{
    VAEncPictureParameterBufferH264 pic;
    VAEncSliceParameterBufferH264 slice;
    vaapi_fill_pic(e, slot, idr, &pic);
    vaapi_fill_slice(e, idr, &slice);
    int ret = 0;
    if (idr) {
        if ((ret = vaapi_param(e, VAEncSequenceParameterBufferType, &e->seq, sizeof(e->seq), ids,
                               n)) < 0 ||
            (ret = vaapi_misc(e, VAEncMiscParameterTypeRateControl, &e->rc.rc, sizeof(e->rc.rc),
                              ids, n)) < 0 ||
            (ret = vaapi_misc(e, VAEncMiscParameterTypeHRD, &e->rc.hrd, sizeof(e->rc.hrd), ids,
                              n)) < 0 ||
            (ret = vaapi_misc(e, VAEncMiscParameterTypeFrameRate, &e->rc.fr, sizeof(e->rc.fr), ids,
                              n)) < 0)
            return ret;
        if (e->setup.packed) {
            uint8_t nal[256];
            if ((ret = vaapi_packed(e, VA_ENC_PACKED_HEADER_SEQUENCE, nal,
                                    vaapi_write_sps(&e->seq, e->setup.profile, nal, sizeof(nal)),
                                    ids, n)) < 0 ||
                (ret = vaapi_packed(e, VA_ENC_PACKED_HEADER_PICTURE, nal,
                                    vaapi_write_pps(&pic, nal, sizeof(nal)), ids, n)) < 0)
                return ret;
        }
    }
    if ((ret = vaapi_param(e, VAEncPictureParameterBufferType, &pic, sizeof(pic), ids, n)) < 0)
        return ret;
    return vaapi_param(e, VAEncSliceParameterBufferType, &slice, sizeof(slice), ids, n);
}

/* Submits the picture in slot to the GPU. */
static int vaapi_submit(struct vaapi_enc *e, struct vaapi_slot *slot)
{
    /* Keyframes on the frame clock (pts), like x264's: when the pipeline skips ticks it cannot
     * keep up with, they still come every keyint_frames ticks, not every keyint pictures. */
    bool idr = e->frames == 0 || slot->pts - e->last_idr_pts >= e->base.params.keyint_frames;
    if (idr) {
        e->last_idr_pts = slot->pts;
        e->since_idr = 0;
        e->frame_num = 0;
        e->idr_pic_id = (e->idr_pic_id + 1) & 0xffff;
    }
    VABufferID ids[VAAPI_MAX_BUFS];
    int n = 0;
    int ret = vaapi_build_buffers(e, slot, idr, ids, &n);
    VAStatus st = VA_STATUS_SUCCESS;
    const char *what = NULL;
    if (ret == 0) {
        if ((st = vaBeginPicture(e->disp.dpy, e->context, slot->surface)) != VA_STATUS_SUCCESS)
            what = "vaBeginPicture";
        else if ((st = vaRenderPicture(e->disp.dpy, e->context, ids, n)) != VA_STATUS_SUCCESS) {
            what = "vaRenderPicture";
            vaEndPicture(e->disp.dpy, e->context);
        } else if ((st = vaEndPicture(e->disp.dpy, e->context)) != VA_STATUS_SUCCESS)
            what = "vaEndPicture";
    }
    for (int i = 0; i < n; i++)
        vaDestroyBuffer(e->disp.dpy, ids[i]);
    if (ret < 0)
        return ret;
    if (what) {
        log_error(VAAPI_COMPONENT, "%s failed at picture %llu: %s", what,
                  (unsigned long long)e->frames, vaErrorStr(st));
        return -EIO;
    }
    slot->keyframe = idr;
    slot->pending = true;
    e->last_recon = e->recon[e->recon_next];
    e->recon_next = (e->recon_next + 1) % VAAPI_RECON;
    e->frames++;
    e->since_idr++;
    e->frame_num = (e->frame_num + 1) % 256;
    return 0;
}

/* ---- output ---- */

/* Keeps the SPS and PPS NAL units of an IDR access unit (Annex B, 4-byte start codes). */
static int vaapi_take_headers(struct vaapi_enc *e, const uint8_t *au, size_t size)
{
    uint8_t *out = malloc(size + 8);
    if (!out)
        return -ENOMEM;
    size_t o = 0;
    struct h264_nal_iter it;
    struct h264_nal nal;
    h264_nal_iter_init(&it, au, size);
    while (h264_nal_next(&it, &nal) && o + 4 + nal.size <= size + 8) {
        if (nal.type != H264_NAL_SPS && nal.type != H264_NAL_PPS)
            continue;
        memcpy(out + o, "\0\0\0\1", 4);
        memcpy(out + o + 4, nal.data, nal.size);
        o += 4 + nal.size;
    }
    if (o == 0) {
        free(out);
        log_error(VAAPI_COMPONENT, "the first IDR carries no SPS/PPS");
        return -EIO;
    }
    free(e->extradata);
    e->extradata = out;
    e->extradata_size = o;
    e->base.extradata = out;
    e->base.extradata_size = o;
    return 0;
}

/* Joins the coded segments of a picture; *data points into the mapping or into e->au. */
static int vaapi_join(struct vaapi_enc *e, VACodedBufferSegment *seg, const uint8_t **data,
                      size_t *size)
{
    if (seg && !seg->next) {
        *data = seg->buf;
        *size = seg->size;
        return 0;
    }
    size_t total = 0;
    for (VACodedBufferSegment *s = seg; s; s = s->next)
        total += s->size;
    if (total > e->au_cap) {
        uint8_t *grown = realloc(e->au, total);
        if (!grown)
            return -ENOMEM;
        e->au = grown;
        e->au_cap = total;
    }
    size_t o = 0;
    for (VACodedBufferSegment *s = seg; s; s = s->next) {
        memcpy(e->au + o, s->buf, s->size);
        o += s->size;
    }
    *data = e->au;
    *size = total;
    return 0;
}

/* Waits for the picture in slot and hands it to sink (NULL: dropped). */
static int vaapi_collect(struct vaapi_enc *e, int idx, const struct packet_sink *sink)
{
    struct vaapi_slot *slot = &e->slots[idx];
    VADisplay dpy = e->disp.dpy;
    slot->pending = false;
    if (e->pending == idx)
        e->pending = -1;
    VAStatus st = vaSyncSurface(dpy, slot->surface);
    int ret = 0;
    if (st != VA_STATUS_SUCCESS)
        ret = vaapi_fail(st, "vaSyncSurface");
    VACodedBufferSegment *seg = NULL;
    if (ret == 0 && (st = vaMapBuffer(dpy, slot->coded, (void **)&seg)) != VA_STATUS_SUCCESS)
        ret = vaapi_fail(st, "vaMapBuffer (coded)");
    if (ret == 0) {
        const uint8_t *data = NULL;
        size_t size = 0;
        ret = vaapi_join(e, seg, &data, &size);
        if (ret == 0 && size == 0) {
            log_error(VAAPI_COMPONENT, "the driver returned an empty picture");
            ret = -EIO;
        }
        if (ret == 0 && slot->keyframe && e->capture_headers) {
            ret = vaapi_take_headers(e, data, size);
            e->capture_headers = false;
        }
        struct h264_packet pkt = {.data = data,
                                  .size = size,
                                  .pts = slot->pts,
                                  .dts = slot->pts,
                                  .keyframe = slot->keyframe,
                                  .capture_ns = slot->capture_ns};
        if (ret == 0 && sink)
            ret = sink->emit(sink->opaque, &pkt);
        vaUnmapBuffer(dpy, slot->coded);
    }
    if (slot->imported) {
        vaDestroySurfaces(dpy, &slot->surface, 1);
        slot->surface = VA_INVALID_SURFACE;
        slot->imported = false;
    }
    return ret;
}

/* ---- input ---- */

static void vaapi_frame_view(struct vaapi_enc *e, struct vaapi_slot *slot, uint8_t *ptr, int idx)
{
    struct frame *f = &slot->frame;
    f->width = e->base.params.width;
    f->height = e->base.params.height;
    f->format = FRAME_FORMAT_NV12;
    f->data[0] = ptr ? ptr + slot->image.offsets[0] : NULL;
    f->data[1] = ptr ? ptr + slot->image.offsets[1] : NULL;
    f->data[2] = NULL;
    f->linesize[0] = ptr ? (int)slot->image.pitches[0] : 0;
    f->linesize[1] = ptr ? (int)slot->image.pitches[1] : 0;
    f->linesize[2] = 0;
    f->buffer_id = (unsigned)idx;
    f->pts = 0;
    f->capture_ns = 0;
    f->unchanged = false;
    f->copied_bytes = 0;
}

/* Lends the next pool surface mapped for writing: its own memory (derive) or its upload image. */
static int vaapi_get_input(struct hwenc *enc, struct frame **frame)
{
    struct vaapi_enc *e = (struct vaapi_enc *)enc;
    int idx = e->next_input;
    struct vaapi_slot *slot = &e->slots[idx];
    if (slot->lent) {
        *frame = &slot->frame;
        return 0;
    }
    if (slot->pending) {
        log_error(VAAPI_COMPONENT, "surface %d is still encoding", idx);
        return -EBUSY;
    }
    VAStatus st;
    if (e->derive) {
        if ((st = vaDeriveImage(e->disp.dpy, slot->surface, &slot->image)) != VA_STATUS_SUCCESS)
            return vaapi_fail(st, "vaDeriveImage");
        slot->image_live = true;
    }
    void *ptr = NULL;
    if ((st = vaMapBuffer(e->disp.dpy, slot->image.buf, &ptr)) != VA_STATUS_SUCCESS)
        return vaapi_fail(st, "vaMapBuffer (image)");
    slot->mapped = true;
    slot->lent = true;
    vaapi_frame_view(e, slot, ptr, idx);
    e->next_input = (idx + 1) % VAAPI_POOL;
    *frame = &slot->frame;
    return 0;
}

/* Ends the CPU's access to a lent pool surface (and uploads it on the put path). */
static int vaapi_release_input(struct vaapi_enc *e, struct vaapi_slot *slot, struct frame *f)
{
    VADisplay dpy = e->disp.dpy;
    VAStatus st;
    if (slot->mapped && (st = vaUnmapBuffer(dpy, slot->image.buf)) != VA_STATUS_SUCCESS)
        return vaapi_fail(st, "vaUnmapBuffer (image)");
    slot->mapped = false;
    if (e->derive) {
        st = vaDestroyImage(dpy, slot->image.image_id);
        slot->image_live = false;
        return st == VA_STATUS_SUCCESS ? 0 : vaapi_fail(st, "vaDestroyImage");
    }
    int w = e->base.params.width, h = e->base.params.height;
    st = vaPutImage(dpy, slot->surface, slot->image.image_id, 0, 0, (unsigned)w, (unsigned)h, 0, 0,
                    (unsigned)w, (unsigned)h);
    if (st != VA_STATUS_SUCCESS)
        return vaapi_fail(st, "vaPutImage");
    f->copied_bytes += (uint64_t)w * (uint64_t)h * 3 / 2;
    return 0;
}

static int vaapi_slot_of(struct vaapi_enc *e, const struct frame *frame)
{
    for (int i = 0; i < VAAPI_SLOTS; i++)
        if (frame == &e->slots[i].frame && e->slots[i].lent)
            return i;
    return -1;
}

static int vaapi_encode(struct hwenc *enc, struct frame *frame, const struct packet_sink *sink)
{
    struct vaapi_enc *e = (struct vaapi_enc *)enc;
    int idx = vaapi_slot_of(e, frame);
    if (idx < 0) {
        log_error(VAAPI_COMPONENT, "encode: frame was not lent by this encoder");
        return -EINVAL;
    }
    struct vaapi_slot *slot = &e->slots[idx];
    slot->lent = false;
    int ret = slot->imported ? 0 : vaapi_release_input(e, slot, frame);
    if (ret < 0)
        return ret;
    slot->pts = frame->pts;
    slot->capture_ns = frame->capture_ns;
    if ((ret = vaapi_submit(e, slot)) < 0)
        return ret;
    int prev = e->pending;
    e->pending = idx;
    return prev >= 0 ? vaapi_collect(e, prev, sink) : 0;
}

static int vaapi_flush(struct hwenc *enc, const struct packet_sink *sink)
{
    struct vaapi_enc *e = (struct vaapi_enc *)enc;
    return e->pending >= 0 ? vaapi_collect(e, e->pending, sink) : 0;
}

/* ---- import ---- */

/* Wraps an NV12 dmabuf as the next picture: the GPU reads it where it is. */
static int vaapi_import(struct hwenc *enc, const struct frame_dmabuf *dmabuf, struct frame **frame)
{
    struct vaapi_enc *e = (struct vaapi_enc *)enc;
    if (dmabuf->drm_format != DRM_FORMAT_NV12 || dmabuf->n_planes != 2 ||
        dmabuf->width != e->base.params.width || dmabuf->height != e->base.params.height) {
        log_error(VAAPI_COMPONENT,
                  "import: want a %dx%d NV12 dmabuf in 2 planes (got %dx%d "
                  "format %#x, %d planes)",
                  e->base.params.width, e->base.params.height, dmabuf->width, dmabuf->height,
                  dmabuf->drm_format, dmabuf->n_planes);
        return -EINVAL;
    }
    int idx = VAAPI_POOL + e->next_import;
    struct vaapi_slot *slot = &e->slots[idx];
    if (slot->pending || slot->lent) {
        log_error(VAAPI_COMPONENT, "import: too many imported pictures in flight");
        return -EBUSY;
    }
    VAStatus st = vaapi_import_surface(e->disp.dpy, dmabuf, &slot->surface);
    if (st != VA_STATUS_SUCCESS) {
        slot->surface = VA_INVALID_SURFACE;
        return vaapi_fail(st, "import of a dmabuf (vaCreateSurfaces DRM_PRIME_2/DRM_PRIME)");
    }
    slot->imported = true;
    slot->lent = true;
    vaapi_frame_view(e, slot, NULL, idx);
    e->next_import = (e->next_import + 1) % VAAPI_IMPORTS;
    *frame = &slot->frame;
    return 0;
}

/* ---- open and close ---- */

static void vaapi_close(struct hwenc *enc)
{
    if (!enc)
        return;
    struct vaapi_enc *e = (struct vaapi_enc *)enc;
    VADisplay dpy = e->disp.dpy;
    if (dpy) {
        if (e->pending >= 0)
            vaapi_collect(e, e->pending, NULL); /* the GPU must be done with it */
        for (int i = 0; i < VAAPI_SLOTS; i++) {
            struct vaapi_slot *s = &e->slots[i];
            if (s->mapped)
                vaUnmapBuffer(dpy, s->image.buf);
            if (s->image_live)
                vaDestroyImage(dpy, s->image.image_id);
            if (s->coded != VA_INVALID_ID)
                vaDestroyBuffer(dpy, s->coded);
            if (s->surface != VA_INVALID_SURFACE)
                vaDestroySurfaces(dpy, &s->surface, 1);
        }
        for (int i = 0; i < VAAPI_RECON; i++)
            if (e->recon[i] != VA_INVALID_SURFACE)
                vaDestroySurfaces(dpy, &e->recon[i], 1);
        if (e->context != VA_INVALID_ID)
            vaDestroyContext(dpy, e->context);
        if (e->config != VA_INVALID_ID)
            vaDestroyConfig(dpy, e->config);
    }
    vaapi_display_close(&e->disp);
    hwenc_params_release(e->names);
    free(e->au);
    free(e->extradata);
    free(e);
}

static struct vaapi_enc *vaapi_alloc(const struct hwenc_params *params)
{
    struct vaapi_enc *e = calloc(1, sizeof(*e));
    if (!e)
        return NULL;
    e->base.ops = &hwenc_vaapi_ops;
    e->base.params = *params;
    e->disp.fd = -1;
    e->config = VA_INVALID_ID;
    e->context = VA_INVALID_ID;
    e->pending = -1;
    e->last_recon = VA_INVALID_SURFACE;
    for (int i = 0; i < VAAPI_SLOTS; i++) {
        e->slots[i].surface = VA_INVALID_SURFACE;
        e->slots[i].coded = VA_INVALID_ID;
    }
    for (int i = 0; i < VAAPI_RECON; i++)
        e->recon[i] = VA_INVALID_SURFACE;
    if (hwenc_params_own(&e->base.params, e->names) < 0) {
        vaapi_close(&e->base);
        return NULL;
    }
    return e;
}

static int vaapi_create_config(struct vaapi_enc *e, char *why, size_t why_size)
{
    VAConfigAttrib a[3] = {{.type = VAConfigAttribRTFormat, .value = VA_RT_FORMAT_YUV420},
                           {.type = VAConfigAttribRateControl, .value = e->rc.va_rc_mode},
                           {.type = VAConfigAttribEncPackedHeaders, .value = e->setup.packed}};
    VAStatus st = vaCreateConfig(e->disp.dpy, e->setup.profile, e->setup.entrypoint, a,
                                 e->setup.packed ? 3 : 2, &e->config);
    if (st != VA_STATUS_SUCCESS) {
        e->config = VA_INVALID_ID;
        snprintf(why, why_size, "vaCreateConfig failed: %s", vaErrorStr(st));
        return -EIO;
    }
    return 0;
}

/* Surfaces (pool + reconstructed), the context, one coded buffer per slot. */
static int vaapi_create_surfaces(struct vaapi_enc *e, char *why, size_t why_size)
{
    const struct hwenc_params *p = &e->base.params;
    VASurfaceID ids[VAAPI_POOL + VAAPI_RECON];
    VAStatus st = vaCreateSurfaces(e->disp.dpy, VA_RT_FORMAT_YUV420, (unsigned)p->width,
                                   (unsigned)p->height, ids, VAAPI_POOL + VAAPI_RECON, NULL, 0);
    if (st != VA_STATUS_SUCCESS) {
        snprintf(why, why_size, "vaCreateSurfaces failed: %s", vaErrorStr(st));
        return -EIO;
    }
    for (int i = 0; i < VAAPI_POOL; i++)
        e->slots[i].surface = ids[i];
    for (int i = 0; i < VAAPI_RECON; i++)
        e->recon[i] = ids[VAAPI_POOL + i];
    st = vaCreateContext(e->disp.dpy, e->config, p->width, p->height, VA_PROGRESSIVE, ids,
                         VAAPI_POOL + VAAPI_RECON, &e->context);
    if (st != VA_STATUS_SUCCESS) {
        e->context = VA_INVALID_ID;
        snprintf(why, why_size, "vaCreateContext failed: %s", vaErrorStr(st));
        return -EIO;
    }
    /* Room for an uncompressed picture: a coded one never needs more. */
    e->coded_size =
        (uint32_t)(((size_t)p->width * (size_t)p->height * 3 / 2 + 65536 + 4095) & ~(size_t)4095);
    for (int i = 0; i < VAAPI_SLOTS; i++) {
        st = vaCreateBuffer(e->disp.dpy, e->context, VAEncCodedBufferType, e->coded_size, 1, NULL,
                            &e->slots[i].coded);
        if (st != VA_STATUS_SUCCESS) {
            e->slots[i].coded = VA_INVALID_ID;
            snprintf(why, why_size, "vaCreateBuffer (coded) failed: %s", vaErrorStr(st));
            return -EIO;
        }
    }
    return 0;
}

/* Zero copy when the driver lets the CPU write into surfaces; else one upload image per pool
 * surface, each keeping what the source drew into it (sources redraw only changes). */
static int vaapi_choose_input(struct vaapi_enc *e, char *why, size_t why_size)
{
    VAImage probe;
    VAStatus st = vaDeriveImage(e->disp.dpy, e->slots[0].surface, &probe);
    if (st == VA_STATUS_SUCCESS) {
        bool nv12 = probe.format.fourcc == VA_FOURCC_NV12;
        vaDestroyImage(e->disp.dpy, probe.image_id);
        if (nv12) {
            e->derive = true;
            return 0;
        }
    }
    log_info(VAAPI_COMPONENT, "the driver cannot map surfaces for writing: uploading each "
                              "picture with vaPutImage (one copy per frame)");
    VAImageFormat fmt = {
        .fourcc = VA_FOURCC_NV12, .byte_order = VA_LSB_FIRST, .bits_per_pixel = 12};
    for (int i = 0; i < VAAPI_POOL; i++) {
        st = vaCreateImage(e->disp.dpy, &fmt, e->base.params.width, e->base.params.height,
                           &e->slots[i].image);
        if (st != VA_STATUS_SUCCESS) {
            snprintf(why, why_size, "vaCreateImage NV12 failed: %s", vaErrorStr(st));
            return -EIO;
        }
        e->slots[i].image_live = true;
    }
    return 0;
}

/* Encodes one picture and keeps its SPS/PPS as the extradata; the stream then starts again
 * with an IDR, so nothing of this picture reaches the output. */
static int vaapi_prime_headers(struct vaapi_enc *e, char *why, size_t why_size)
{
    struct vaapi_slot *slot = &e->slots[0];
    e->capture_headers = true;
    int ret = vaapi_submit(e, slot);
    if (ret == 0) {
        e->pending = 0;
        ret = vaapi_collect(e, 0, NULL);
    }
    if (ret < 0 || !e->extradata) {
        snprintf(why, why_size, "the first test picture failed (see above)");
        return ret < 0 ? ret : -EIO;
    }
    e->frames = 0;
    return 0;
}

static int vaapi_open_why(struct hwenc **out, const struct hwenc_params *params, char *why,
                          size_t why_size)
{
    *out = NULL;
    int ret = vaapi_params_check(params, why, why_size);
    if (ret < 0)
        return ret;
    struct vaapi_enc *e = vaapi_alloc(params);
    if (!e) {
        snprintf(why, why_size, "out of memory");
        return -ENOMEM;
    }
    vaapi_params_rc(&e->base.params, &e->rc);
    if ((ret = vaapi_display_open(params->device, &e->disp, why, why_size)) < 0 ||
        (ret = vaapi_setup_choose(e->disp.dpy, params, &e->setup, why, why_size)) < 0)
        goto fail;
    vaapi_params_seq(&e->base.params, e->setup.profile, &e->seq);
    if ((ret = vaapi_create_config(e, why, why_size)) < 0 ||
        (ret = vaapi_create_surfaces(e, why, why_size)) < 0 ||
        (ret = vaapi_choose_input(e, why, why_size)) < 0 ||
        (ret = vaapi_prime_headers(e, why, why_size)) < 0)
        goto fail;
    const char *vendor = vaQueryVendorString(e->disp.dpy);
    snprintf(e->description, sizeof(e->description), "vaapi %s %s %s %s%s", e->disp.path,
             e->setup.entrypoint == VAEntrypointEncSliceLP ? "EncSliceLP" : "EncSlice",
             vaapi_profile_label(e->setup.profile), e->derive ? "derive" : "putimage",
             e->setup.packed ? " packed-headers" : "");
    e->base.description = e->description;
    log_debug(VAAPI_COMPONENT, "opened %s (%s) size=%dx%d fps=%d/%d bitrate=%dk keyint=%d",
              e->description, vendor ? vendor : "?", params->width, params->height, params->fps_num,
              params->fps_den, params->bitrate_kbps, params->keyint_frames);
    *out = &e->base;
    return 0;
fail:
    vaapi_close(&e->base);
    return ret;
}

static int vaapi_open(struct hwenc **out, const struct hwenc_params *params)
{
    char why[256] = "";
    int ret = vaapi_open_why(out, params, why, sizeof(why));
    if (ret < 0)
        log_error(VAAPI_COMPONENT, "cannot open: %s", why);
    return ret;
}

/* A real one-frame encode of a mid-grey picture. */
static int vaapi_probe(const struct hwenc_params *params, char *why, size_t why_size)
{
    struct hwenc *enc;
    int ret = vaapi_open_why(&enc, params, why, why_size);
    return ret < 0 ? ret : hwenc_test_encode(enc, why, why_size);
}

const struct hwenc_ops hwenc_vaapi_ops = {
    .name = "vaapi",
    .query = hwenc_vaapi_query,
    .probe = vaapi_probe,
    .open = vaapi_open,
    .get_input = vaapi_get_input,
    .import = vaapi_import,
    .encode = vaapi_encode,
    .flush = vaapi_flush,
    .close = vaapi_close,
};
