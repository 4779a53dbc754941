/*
 * fake_va_encode — buffers, contexts and the picture cycle (vaBeginPicture, vaRenderPicture,
 * vaEndPicture) of the fake driver. Every parameter buffer is checked against the config, the
 * context and the previous pictures; then x264 encodes the surface's pixels with what the caller
 * asked for (profile, IDR placement, frame rate, bitrate/maxrate/HRD buffer, CBR or VBR), so a
 * test of the stream checks the caller's parameter passing. Test-only (fake_va.h).
 */
#include "fake_va.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <x264.h>

/* ---- buffers ---- */

void fake_buffer_free(struct fake_buffer *b)
{
    if (b->owns_data)
        free(b->data);
    b->data = NULL;
}

struct fake_buffer *fake_buffer_new(struct fake_driver *d, VABufferType type, VAContextID ctx,
                                    uint32_t size, uint32_t num, const void *data)
{
    struct fake_buffer *b = calloc(1, sizeof(*b));
    if (!b)
        return NULL;
    uint64_t total = (uint64_t)size * num;
    if (total > 0) {
        b->data = calloc(1, total);
        if (!b->data) {
            free(b);
            return NULL;
        }
        b->owns_data = true;
        if (data)
            memcpy(b->data, data, total);
    }
    b->type = type;
    b->context = ctx;
    b->size = size;
    b->num_elements = num;
    b->image = VA_INVALID_ID;
    if (fake_obj_add(d, &b->o, FK_BUFFER) < 0) {
        fake_buffer_free(b);
        free(b);
        return NULL;
    }
    return b;
}

static VAStatus fake_create_buffer(VADriverContextP ctx, VAContextID context, VABufferType type,
                                   unsigned int size, unsigned int num, void *data, VABufferID *id)
{
    struct fake_driver *d = FAKE_DRV(ctx);
    if (!fake_obj_get(d, context, FK_CONTEXT, "vaCreateBuffer"))
        return VA_STATUS_ERROR_INVALID_CONTEXT;
    if (size == 0 || num == 0 || (uint64_t)size * num > (256u << 20))
        return fake_error(d, VA_STATUS_ERROR_INVALID_PARAMETER,
                          "vaCreateBuffer: type %d with size %u x %u", type, size, num);
    if (type == VAEncCodedBufferType && data)
        return fake_error(d, VA_STATUS_ERROR_INVALID_PARAMETER,
                          "vaCreateBuffer: a coded buffer takes no initial data");
    struct fake_buffer *b = fake_buffer_new(d, type, context, size, num, data);
    if (!b)
        return VA_STATUS_ERROR_ALLOCATION_FAILED;
    *id = b->o.id;
    return VA_STATUS_SUCCESS;
}

static VAStatus fake_buffer_set_num_elements(VADriverContextP ctx, VABufferID id, unsigned int n)
{
    struct fake_driver *d = FAKE_DRV(ctx);
    struct fake_buffer *b = fake_obj_get(d, id, FK_BUFFER, "vaBufferSetNumElements");
    if (!b)
        return VA_STATUS_ERROR_INVALID_BUFFER;
    if (n == 0 || n > b->num_elements)
        return fake_error(d, VA_STATUS_ERROR_INVALID_PARAMETER, "vaBufferSetNumElements: %u of %u",
                          n, b->num_elements);
    b->num_elements = n;
    return VA_STATUS_SUCCESS;
}

static VAStatus fake_map_buffer(VADriverContextP ctx, VABufferID id, void **out)
{
    struct fake_driver *d = FAKE_DRV(ctx);
    struct fake_buffer *b = fake_obj_get(d, id, FK_BUFFER, "vaMapBuffer");
    if (!b)
        return VA_STATUS_ERROR_INVALID_BUFFER;
    if (b->mapped)
        return fake_error(d, 0, "vaMapBuffer: buffer %#x is already mapped", id);
    if (b->rendered)
        return fake_error(d, 0, "vaMapBuffer: buffer %#x was rendered, picture not ended", id);
    if (b->type == VAEncCodedBufferType) {
        if (b->coded_pending)
            return fake_error(d, VA_STATUS_ERROR_SURFACE_BUSY,
                              "vaMapBuffer: coded buffer %#x mapped before its surface was "
                              "synced",
                              id);
        memset(&b->segment, 0, sizeof(b->segment));
        b->segment.size = b->coded_used;
        b->segment.buf = b->data;
        *out = &b->segment;
    } else {
        *out = b->data;
    }
    if (b->image != VA_INVALID_ID) {
        struct fake_image *im = fake_obj_get(d, b->image, FK_IMAGE, "vaMapBuffer (image)");
        if (im && im->derived_from != VA_INVALID_ID) {
            struct fake_surface *s =
                fake_obj_get(d, im->derived_from, FK_SURFACE, "vaMapBuffer (derived surface)");
            if (s && s->state != SURF_IDLE)
                return fake_error(d, VA_STATUS_ERROR_SURFACE_BUSY,
                                  "vaMapBuffer: surface %#x is being encoded", s->o.id);
            if (s)
                s->fill = FILL_DERIVE;
            d->stats.derive_maps++;
        }
    }
    b->mapped = true;
    return VA_STATUS_SUCCESS;
}

static VAStatus fake_unmap_buffer(VADriverContextP ctx, VABufferID id)
{
    struct fake_driver *d = FAKE_DRV(ctx);
    struct fake_buffer *b = fake_obj_get(d, id, FK_BUFFER, "vaUnmapBuffer");
    if (!b)
        return VA_STATUS_ERROR_INVALID_BUFFER;
    if (!b->mapped)
        return fake_error(d, 0, "vaUnmapBuffer: buffer %#x is not mapped", id);
    b->mapped = false;
    return VA_STATUS_SUCCESS;
}

static VAStatus fake_destroy_buffer(VADriverContextP ctx, VABufferID id)
{
    struct fake_driver *d = FAKE_DRV(ctx);
    struct fake_buffer *b = fake_obj_get(d, id, FK_BUFFER, "vaDestroyBuffer");
    if (!b)
        return VA_STATUS_ERROR_INVALID_BUFFER;
    VAStatus st = VA_STATUS_SUCCESS;
    if (b->image != VA_INVALID_ID)
        return fake_error(d, 0,
                          "vaDestroyBuffer: buffer %#x belongs to image %#x "
                          "(vaDestroyImage frees it)",
                          id, b->image);
    if (b->mapped)
        st = fake_error(d, 0, "vaDestroyBuffer: buffer %#x is still mapped", id);
    if (b->rendered)
        st = fake_error(d, 0, "vaDestroyBuffer: buffer %#x destroyed before vaEndPicture", id);
    if (b->coded_pending)
        st = fake_error(d, 0,
                        "vaDestroyBuffer: coded buffer %#x destroyed while its picture "
                        "is still encoding",
                        id);
    fake_buffer_free(b);
    fake_obj_kill(&b->o);
    return st;
}

static VAStatus fake_buffer_info(VADriverContextP ctx, VABufferID id, VABufferType *type,
                                 unsigned int *size, unsigned int *num)
{
    struct fake_driver *d = FAKE_DRV(ctx);
    struct fake_buffer *b = fake_obj_get(d, id, FK_BUFFER, "vaBufferInfo");
    if (!b)
        return VA_STATUS_ERROR_INVALID_BUFFER;
    *type = b->type;
    *size = b->size;
    *num = b->num_elements;
    return VA_STATUS_SUCCESS;
}

void fake_encode_complete(struct fake_driver *d, VABufferID coded)
{
    struct fake_buffer *b = fake_obj_get(d, coded, FK_BUFFER, "vaSyncSurface (coded buffer)");
    if (b)
        b->coded_pending = false;
}

/* ---- contexts ---- */

void fake_context_free(struct fake_context *c)
{
    if (c->x264)
        x264_encoder_close(c->x264);
    c->x264 = NULL;
}

static VAStatus fake_create_context(VADriverContextP ctx, VAConfigID config, int width, int height,
                                    int flag, VASurfaceID *targets, int n, VAContextID *id)
{
    struct fake_driver *d = FAKE_DRV(ctx);
    (void)flag;
    if (!fake_obj_get(d, config, FK_CONFIG, "vaCreateContext"))
        return VA_STATUS_ERROR_INVALID_CONFIG;
    if (width < 16 || height < 16 || width % 2 || height % 2 || width > 4096 || height > 4096)
        return fake_error(d, VA_STATUS_ERROR_RESOLUTION_NOT_SUPPORTED,
                          "vaCreateContext: %dx%d is not even or not within 16..4096", width,
                          height);
    for (int i = 0; i < n; i++) {
        struct fake_surface *s = fake_obj_get(d, targets[i], FK_SURFACE, "vaCreateContext");
        if (!s)
            return VA_STATUS_ERROR_INVALID_SURFACE;
        if (s->width < width || s->height < height)
            return fake_error(d, VA_STATUS_ERROR_INVALID_PARAMETER,
                              "vaCreateContext: surface %#x is %dx%d, smaller than %dx%d", s->o.id,
                              s->width, s->height, width, height);
    }
    struct fake_context *c = calloc(1, sizeof(*c));
    if (!c || fake_obj_add(d, &c->o, FK_CONTEXT) < 0) {
        free(c);
        return VA_STATUS_ERROR_ALLOCATION_FAILED;
    }
    c->config = config;
    c->width = width;
    c->height = height;
    c->last_recon = VA_INVALID_ID;
    d->stats.width = width;
    d->stats.height = height;
    *id = c->o.id;
    return VA_STATUS_SUCCESS;
}

static VAStatus fake_destroy_context(VADriverContextP ctx, VAContextID id)
{
    struct fake_driver *d = FAKE_DRV(ctx);
    struct fake_context *c = fake_obj_get(d, id, FK_CONTEXT, "vaDestroyContext");
    if (!c)
        return VA_STATUS_ERROR_INVALID_CONTEXT;
    VAStatus st = VA_STATUS_SUCCESS;
    if (c->in_picture)
        st = fake_error(d, 0, "vaDestroyContext: context %#x is inside Begin/EndPicture", id);
    fake_context_free(c);
    fake_obj_kill(&c->o);
    return st;
}

/* ---- the picture cycle ---- */

static VAStatus fake_begin_picture(VADriverContextP ctx, VAContextID id, VASurfaceID target)
{
    struct fake_driver *d = FAKE_DRV(ctx);
    struct fake_context *c = fake_obj_get(d, id, FK_CONTEXT, "vaBeginPicture");
    if (!c)
        return VA_STATUS_ERROR_INVALID_CONTEXT;
    struct fake_surface *s = fake_obj_get(d, target, FK_SURFACE, "vaBeginPicture");
    if (!s)
        return VA_STATUS_ERROR_INVALID_SURFACE;
    if (c->in_picture)
        return fake_error(d, 0, "vaBeginPicture: previous picture not ended (no vaEndPicture)");
    if (s->state != SURF_IDLE)
        return fake_error(d, VA_STATUS_ERROR_SURFACE_BUSY,
                          "vaBeginPicture: surface %#x is still encoding (sync it first)", target);
    if (s->derived != VA_INVALID_ID) {
        struct fake_image *im = fake_obj_get(d, s->derived, FK_IMAGE, "vaBeginPicture");
        struct fake_buffer *b =
            im ? fake_obj_get(d, im->image.buf, FK_BUFFER, "vaBeginPicture") : NULL;
        if (b && b->mapped)
            return fake_error(d, VA_STATUS_ERROR_SURFACE_BUSY,
                              "vaBeginPicture: surface %#x is mapped for CPU writing (unmap "
                              "its derived image first)",
                              target);
    }
    if (s->width < c->width || s->height < c->height)
        return fake_error(d, VA_STATUS_ERROR_INVALID_SURFACE,
                          "vaBeginPicture: surface %dx%d smaller than the context %dx%d", s->width,
                          s->height, c->width, c->height);
    memset(&c->cur, 0, sizeof(c->cur));
    c->cur.target = target;
    c->in_picture = true;
    s->state = SURF_RENDERING;
    return VA_STATUS_SUCCESS;
}

static VAStatus fake_check_size(struct fake_driver *d, const struct fake_buffer *b, size_t want,
                                const char *what)
{
    if (b->size != want || b->num_elements != 1)
        return fake_error(d, VA_STATUS_ERROR_INVALID_PARAMETER,
                          "vaRenderPicture: %s buffer is %u x %u bytes, expected %zu x 1", what,
                          b->size, b->num_elements, want);
    return VA_STATUS_SUCCESS;
}

static VAStatus fake_render_misc(struct fake_driver *d, struct fake_context *c,
                                 const struct fake_buffer *b)
{
    const VAEncMiscParameterBuffer *m = (const void *)b->data;
    size_t head = sizeof(VAEncMiscParameterBuffer);
    if (b->size < head)
        return fake_error(d, VA_STATUS_ERROR_INVALID_PARAMETER, "misc buffer of %u bytes", b->size);
    switch (m->type) {
    case VAEncMiscParameterTypeRateControl:
        if (fake_check_size(d, b, head + sizeof(c->cur.rc), "misc RateControl"))
            return VA_STATUS_ERROR_INVALID_PARAMETER;
        memcpy(&c->cur.rc, m->data, sizeof(c->cur.rc));
        c->cur.have_rc = true;
        return VA_STATUS_SUCCESS;
    case VAEncMiscParameterTypeHRD:
        if (fake_check_size(d, b, head + sizeof(c->cur.hrd), "misc HRD"))
            return VA_STATUS_ERROR_INVALID_PARAMETER;
        memcpy(&c->cur.hrd, m->data, sizeof(c->cur.hrd));
        c->cur.have_hrd = true;
        return VA_STATUS_SUCCESS;
    case VAEncMiscParameterTypeFrameRate:
        if (fake_check_size(d, b, head + sizeof(c->cur.fr), "misc FrameRate"))
            return VA_STATUS_ERROR_INVALID_PARAMETER;
        memcpy(&c->cur.fr, m->data, sizeof(c->cur.fr));
        c->cur.have_fr = true;
        return VA_STATUS_SUCCESS;
    default:
        return fake_error(d, VA_STATUS_ERROR_UNSUPPORTED_BUFFERTYPE,
                          "vaRenderPicture: misc parameter type %d not supported", m->type);
    }
}

static VAStatus fake_render_packed(struct fake_driver *d, struct fake_context *c,
                                   const struct fake_buffer *b)
{
    const struct fake_config *cfg = fake_obj_get(d, c->config, FK_CONFIG, "vaRenderPicture");
    if (!cfg)
        return VA_STATUS_ERROR_INVALID_CONFIG;
    if (b->type == VAEncPackedHeaderParameterBufferType) {
        if (fake_check_size(d, b, sizeof(VAEncPackedHeaderParameterBuffer), "packed header"))
            return VA_STATUS_ERROR_INVALID_PARAMETER;
        const VAEncPackedHeaderParameterBuffer *p = (const void *)b->data;
        if (c->cur.pending_packed_type)
            return fake_error(d, 0, "packed header parameter buffer without its data buffer");
        if (!(cfg->packed_headers & p->type))
            return fake_error(d, 0, "packed header type %#x not enabled in the config (%#x)",
                              p->type, cfg->packed_headers);
        if (p->bit_length == 0 || !p->has_emulation_bytes)
            return fake_error(d, 0, "packed header: bit_length %u, has_emulation_bytes %u",
                              p->bit_length, p->has_emulation_bytes);
        c->cur.pending_packed_type = p->type;
        c->cur.pending_packed_bits = p->bit_length;
        return VA_STATUS_SUCCESS;
    }
    if (!c->cur.pending_packed_type)
        return fake_error(d, 0, "packed header data buffer without a parameter buffer before it");
    if ((uint64_t)b->size * b->num_elements * 8 < c->cur.pending_packed_bits)
        return fake_error(d, 0, "packed header data: %u bytes for %u bits", b->size,
                          c->cur.pending_packed_bits);
    const struct fake_config *conf = cfg;
    VAStatus st = fake_check_packed_nal(d, c, conf->profile, c->cur.pending_packed_type, b->data,
                                        (c->cur.pending_packed_bits + 7) / 8);
    c->cur.pending_packed_type = 0;
    c->cur.n_packed++;
    return st;
}

static VAStatus fake_render_one(struct fake_driver *d, struct fake_context *c,
                                struct fake_buffer *b)
{
    switch (b->type) {
    case VAEncSequenceParameterBufferType:
        if (fake_check_size(d, b, sizeof(c->cur.seq), "sequence parameter"))
            return VA_STATUS_ERROR_INVALID_PARAMETER;
        memcpy(&c->cur.seq, b->data, sizeof(c->cur.seq));
        c->cur.have_seq = true;
        return VA_STATUS_SUCCESS;
    case VAEncPictureParameterBufferType:
        if (fake_check_size(d, b, sizeof(c->cur.pic), "picture parameter"))
            return VA_STATUS_ERROR_INVALID_PARAMETER;
        memcpy(&c->cur.pic, b->data, sizeof(c->cur.pic));
        c->cur.have_pic = true;
        return VA_STATUS_SUCCESS;
    case VAEncSliceParameterBufferType:
        if (b->size != sizeof(VAEncSliceParameterBufferH264) ||
            c->cur.n_slices + (int)b->num_elements > FAKE_MAX_SLICES)
            return fake_error(d, VA_STATUS_ERROR_INVALID_PARAMETER,
                              "slice parameter buffer of %u x %u bytes (expected %zu each)",
                              b->num_elements, b->size, sizeof(VAEncSliceParameterBufferH264));
        memcpy(&c->cur.slices[c->cur.n_slices], b->data, (size_t)b->size * b->num_elements);
        c->cur.n_slices += (int)b->num_elements;
        return VA_STATUS_SUCCESS;
    case VAEncMiscParameterBufferType:
        return fake_render_misc(d, c, b);
    case VAEncPackedHeaderParameterBufferType:
    case VAEncPackedHeaderDataBufferType:
        return fake_render_packed(d, c, b);
    default:
        return fake_error(d, VA_STATUS_ERROR_UNSUPPORTED_BUFFERTYPE,
                          "vaRenderPicture: buffer type %d not accepted by an encoder", b->type);
    }
}

static VAStatus fake_render_picture(VADriverContextP ctx, VAContextID id, VABufferID *list, int num)
{
    struct fake_driver *d = FAKE_DRV(ctx);
    struct fake_context *c = fake_obj_get(d, id, FK_CONTEXT, "vaRenderPicture");
    if (!c)
        return VA_STATUS_ERROR_INVALID_CONTEXT;
    if (!c->in_picture)
        return fake_error(d, 0, "vaRenderPicture outside vaBeginPicture/vaEndPicture");
    for (int i = 0; i < num; i++) {
        struct fake_buffer *b = fake_obj_get(d, list[i], FK_BUFFER, "vaRenderPicture");
        if (!b)
            return VA_STATUS_ERROR_INVALID_BUFFER;
        if (b->context != id)
            return fake_error(d, VA_STATUS_ERROR_INVALID_BUFFER,
                              "vaRenderPicture: buffer %#x belongs to another context", b->o.id);
        if (b->mapped)
            return fake_error(d, 0, "vaRenderPicture: buffer %#x is still mapped", b->o.id);
        if (b->rendered || c->cur.n_buffers >= 64)
            return fake_error(d, 0, "vaRenderPicture: buffer %#x rendered twice in a picture",
                              b->o.id);
        VAStatus st = fake_render_one(d, c, b);
        if (st != VA_STATUS_SUCCESS)
            return st;
        b->rendered = true;
        c->cur.buffers[c->cur.n_buffers++] = b->o.id;
    }
    return VA_STATUS_SUCCESS;
}

/* The buffers of a picture stay the caller's; they only stop being "in use" when it ends. */
static void fake_release_rendered(struct fake_driver *d, struct fake_context *c)
{
    for (int i = 0; i < c->cur.n_buffers; i++) {
        struct fake_buffer *b = fake_obj_get(d, c->cur.buffers[i], FK_BUFFER, "vaEndPicture");
        if (b)
            b->rendered = false;
    }
    c->cur.n_buffers = 0;
}

static VAStatus fake_end_picture(VADriverContextP ctx, VAContextID id)
{
    struct fake_driver *d = FAKE_DRV(ctx);
    struct fake_context *c = fake_obj_get(d, id, FK_CONTEXT, "vaEndPicture");
    if (!c)
        return VA_STATUS_ERROR_INVALID_CONTEXT;
    if (!c->in_picture)
        return fake_error(d, 0, "vaEndPicture without vaBeginPicture");
    c->in_picture = false;
    fake_release_rendered(d, c);
    struct fake_surface *s = fake_obj_get(d, c->cur.target, FK_SURFACE, "vaEndPicture");
    if (!s)
        return VA_STATUS_ERROR_INVALID_SURFACE;
    s->state = SURF_IDLE;
    d->end_pictures++;
    if (d->fail_encode_at > 0 && d->end_pictures >= (uint64_t)d->fail_encode_at) {
        fprintf(stderr, "fake-vaapi: FAKE_VAAPI_FAIL_ENCODE_AT=%ld: failing this picture\n",
                d->fail_encode_at);
        d->stats.injected_failures++;
        return VA_STATUS_ERROR_ENCODING_ERROR;
    }
    VAStatus st = fake_validate_picture(d, c);
    if (st != VA_STATUS_SUCCESS)
        return st;
    struct fake_buffer *coded = fake_obj_get(d, c->cur.pic.coded_buf, FK_BUFFER, "coded_buf");
    if (!coded)
        return VA_STATUS_ERROR_INVALID_BUFFER;
    st = fake_x264_encode(d, c, s, coded);
    if (st != VA_STATUS_SUCCESS)
        return st;
    switch (s->fill) {
    case FILL_DERIVE:
        d->stats.filled_derive++;
        break;
    case FILL_PUT:
        d->stats.filled_put++;
        break;
    case FILL_IMPORT:
        d->stats.filled_import++;
        break;
    default:
        d->stats.filled_none++;
        break;
    }
    s->state = SURF_PENDING;
    s->pending_coded = coded->o.id;
    coded->coded_pending = true;
    return VA_STATUS_SUCCESS;
}

void fake_encode_vtable(struct VADriverVTable *vt)
{
    vt->vaCreateBuffer = fake_create_buffer;
    vt->vaBufferSetNumElements = fake_buffer_set_num_elements;
    vt->vaMapBuffer = fake_map_buffer;
    vt->vaUnmapBuffer = fake_unmap_buffer;
    vt->vaDestroyBuffer = fake_destroy_buffer;
    vt->vaBufferInfo = fake_buffer_info;
    vt->vaCreateContext = fake_create_context;
    vt->vaDestroyContext = fake_destroy_context;
    vt->vaBeginPicture = fake_begin_picture;
    vt->vaRenderPicture = fake_render_picture;
    vt->vaEndPicture = fake_end_picture;
}
