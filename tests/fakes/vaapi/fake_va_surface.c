/*
 * fake_va_surface — surfaces (allocated or imported from a DRM PRIME fd), images, derive/map
 * and vaPutImage, and sync: the input side of the fake driver, with the state checks that catch
 * a CPU writing into a surface the encoder is using. Test-only (fake_va.h).
 */
#include "fake_va.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <va/va_drmcommon.h>

#define FAKE_PITCH_ALIGN 64
#define FAKE_MAX_DIM 4096

void fake_surface_free(struct fake_surface *s)
{
    if (s->map)
        munmap(s->map, s->map_size);
    else
        free(s->data);
    s->data = NULL;
    s->map = NULL;
}

static struct fake_surface *fake_surface_new(struct fake_driver *d, int w, int h)
{
    struct fake_surface *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    s->width = w;
    s->height = h;
    s->derived = VA_INVALID_ID;
    s->pending_coded = VA_INVALID_ID;
    if (fake_obj_add(d, &s->o, FK_SURFACE) < 0) {
        free(s);
        return NULL;
    }
    return s;
}

/* Allocated surfaces: NV12, pitch aligned, height padded to whole macroblocks, mid grey. */
static VAStatus fake_surface_alloc(struct fake_surface *s)
{
    s->pitch = ((uint32_t)s->width + FAKE_PITCH_ALIGN - 1) / FAKE_PITCH_ALIGN * FAKE_PITCH_ALIGN;
    uint32_t rows = ((uint32_t)s->height + 15) / 16 * 16;
    s->uv_offset = s->pitch * rows;
    s->data = malloc((size_t)s->uv_offset * 3 / 2);
    if (!s->data)
        return VA_STATUS_ERROR_ALLOCATION_FAILED;
    memset(s->data, 16, s->uv_offset);
    memset(s->data + s->uv_offset, 128, s->uv_offset / 2);
    return VA_STATUS_SUCCESS;
}

/* Maps the NV12 layout an importer described: one object (fd) holding Y at off[0] and UV at
 * off[1] with one pitch, the layout a memfd "dmabuf" or a linear KMS buffer has. */
static VAStatus fake_surface_map_fd(struct fake_driver *d, struct fake_surface *s, int fd,
                                    uint64_t size, const uint32_t *off, const uint32_t *pitch,
                                    uint32_t n_planes)
{
    if (n_planes != 2)
        return fake_error(d, VA_STATUS_ERROR_INVALID_PARAMETER,
                          "import: NV12 needs 2 planes, got %u", n_planes);
    if (pitch[0] != pitch[1] || pitch[0] < (uint32_t)s->width)
        return fake_error(d, VA_STATUS_ERROR_INVALID_PARAMETER,
                          "import: pitches %u/%u do not fit width %d", pitch[0], pitch[1],
                          s->width);
    uint64_t need_y = (uint64_t)off[0] + (uint64_t)pitch[0] * (uint64_t)s->height;
    uint64_t need_uv = (uint64_t)off[1] + (uint64_t)pitch[1] * (uint64_t)(s->height / 2);
    if (off[1] < need_y || need_uv > size)
        return fake_error(d, VA_STATUS_ERROR_INVALID_PARAMETER,
                          "import: planes overlap or exceed the object (size %llu)",
                          (unsigned long long)size);
    if (off[0] != 0)
        return fake_error(d, VA_STATUS_ERROR_INVALID_PARAMETER,
                          "import: Y plane must start at offset 0 (got %u)", off[0]);
    void *map = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
    if (map == MAP_FAILED)
        return fake_error(d, VA_STATUS_ERROR_INVALID_PARAMETER,
                          "import: cannot mmap fd %d (size %llu)", fd, (unsigned long long)size);
    s->map = map;
    s->map_size = size;
    s->data = map;
    s->pitch = pitch[0];
    s->uv_offset = off[1];
    s->fill = FILL_IMPORT;
    d->stats.imports++;
    return VA_STATUS_SUCCESS;
}

static VAStatus fake_import_prime2(struct fake_driver *d, struct fake_surface *s,
                                   const VADRMPRIMESurfaceDescriptor *desc)
{
    if (desc->fourcc != VA_FOURCC_NV12 || (int)desc->width != s->width ||
        (int)desc->height != s->height)
        return fake_error(d, VA_STATUS_ERROR_INVALID_PARAMETER,
                          "import DRM_PRIME_2: descriptor %ux%u fourcc %#x for a %dx%d surface",
                          desc->width, desc->height, desc->fourcc, s->width, s->height);
    if (desc->num_objects != 1 || desc->objects[0].drm_format_modifier != 0)
        return fake_error(d, VA_STATUS_ERROR_INVALID_PARAMETER,
                          "import DRM_PRIME_2: only one linear object supported (%u objects)",
                          desc->num_objects);
    uint32_t off[2], pitch[2], n = 0;
    for (uint32_t l = 0; l < desc->num_layers && l < 4; l++)
        for (uint32_t p = 0; p < desc->layers[l].num_planes && n < 2; p++, n++) {
            off[n] = desc->layers[l].offset[p];
            pitch[n] = desc->layers[l].pitch[p];
        }
    return fake_surface_map_fd(d, s, desc->objects[0].fd, desc->objects[0].size, off, pitch, n);
}

static VAStatus fake_import_prime(struct fake_driver *d, struct fake_surface *s,
                                  const VASurfaceAttribExternalBuffers *eb)
{
    if (eb->pixel_format != VA_FOURCC_NV12 || (int)eb->width != s->width ||
        (int)eb->height != s->height || eb->num_buffers != 1 || !eb->buffers)
        return fake_error(d, VA_STATUS_ERROR_INVALID_PARAMETER,
                          "import DRM_PRIME: want one NV12 %dx%d buffer", s->width, s->height);
    return fake_surface_map_fd(d, s, (int)eb->buffers[0], eb->data_size, eb->offsets, eb->pitches,
                               eb->num_planes);
}

/* Reads the attributes of vaCreateSurfaces: memory type, and the descriptor of an import. */
static VAStatus fake_surface_attribs(struct fake_driver *d, struct fake_surface *s,
                                     const VASurfaceAttrib *attribs, unsigned n)
{
    uint32_t mem = VA_SURFACE_ATTRIB_MEM_TYPE_VA;
    void *desc = NULL;
    for (unsigned i = 0; i < n; i++) {
        const VASurfaceAttrib *a = &attribs[i];
        if (a->type == VASurfaceAttribMemoryType)
            mem = (uint32_t)a->value.value.i;
        else if (a->type == VASurfaceAttribExternalBufferDescriptor)
            desc = a->value.value.p;
        else if (a->type == VASurfaceAttribPixelFormat && a->value.value.i != VA_FOURCC_NV12)
            return fake_error(d, VA_STATUS_ERROR_INVALID_PARAMETER,
                              "vaCreateSurfaces: pixel format %#x, only NV12", a->value.value.i);
    }
    if (mem == VA_SURFACE_ATTRIB_MEM_TYPE_VA)
        return fake_surface_alloc(s);
    if (!desc)
        return fake_error(d, VA_STATUS_ERROR_INVALID_PARAMETER,
                          "vaCreateSurfaces: memory type %#x without a descriptor", mem);
    if (mem == VA_SURFACE_ATTRIB_MEM_TYPE_DRM_PRIME_2)
        return fake_import_prime2(d, s, desc);
    if (mem == VA_SURFACE_ATTRIB_MEM_TYPE_DRM_PRIME)
        return fake_import_prime(d, s, desc);
    return fake_error(d, VA_STATUS_ERROR_INVALID_PARAMETER,
                      "vaCreateSurfaces: memory type %#x not supported", mem);
}

static VAStatus fake_create_surfaces2(VADriverContextP ctx, unsigned int format, unsigned int width,
                                      unsigned int height, VASurfaceID *surfaces, unsigned int num,
                                      VASurfaceAttrib *attribs, unsigned int num_attribs)
{
    struct fake_driver *d = FAKE_DRV(ctx);
    if (format != VA_RT_FORMAT_YUV420)
        return fake_error(d, VA_STATUS_ERROR_UNSUPPORTED_RT_FORMAT,
                          "vaCreateSurfaces: format %#x, only YUV420", format);
    if (width < 16 || height < 16 || width > FAKE_MAX_DIM || height > FAKE_MAX_DIM || width % 2 ||
        height % 2)
        return fake_error(d, VA_STATUS_ERROR_RESOLUTION_NOT_SUPPORTED,
                          "vaCreateSurfaces: %ux%u is not even or not within 16..%d", width, height,
                          FAKE_MAX_DIM);
    for (unsigned i = 0; i < num; i++) {
        struct fake_surface *s = fake_surface_new(d, (int)width, (int)height);
        VAStatus st = s ? fake_surface_attribs(d, s, attribs, num_attribs)
                        : VA_STATUS_ERROR_ALLOCATION_FAILED;
        if (st != VA_STATUS_SUCCESS) {
            if (s)
                fake_obj_kill(&s->o); /* never handed out: not a leak */
            for (unsigned j = 0; j < i; j++) {
                struct fake_surface *o = fake_obj_get(d, surfaces[j], FK_SURFACE, "cleanup");
                if (o) {
                    fake_surface_free(o);
                    fake_obj_kill(&o->o);
                }
            }
            return st;
        }
        surfaces[i] = s->o.id;
    }
    return VA_STATUS_SUCCESS;
}

static VAStatus fake_create_surfaces(VADriverContextP ctx, int width, int height, int format,
                                     int num, VASurfaceID *surfaces)
{
    return fake_create_surfaces2(ctx, (unsigned)format, (unsigned)width, (unsigned)height, surfaces,
                                 (unsigned)num, NULL, 0);
}

static VAStatus fake_destroy_surfaces(VADriverContextP ctx, VASurfaceID *list, int num)
{
    struct fake_driver *d = FAKE_DRV(ctx);
    VAStatus ret = VA_STATUS_SUCCESS;
    for (int i = 0; i < num; i++) {
        struct fake_surface *s = fake_obj_get(d, list[i], FK_SURFACE, "vaDestroySurfaces");
        if (!s) {
            ret = VA_STATUS_ERROR_INVALID_SURFACE;
            continue;
        }
        if (s->state != SURF_IDLE)
            ret = fake_error(d, VA_STATUS_ERROR_SURFACE_BUSY,
                             "vaDestroySurfaces: surface %#x is %s", s->o.id,
                             s->state == SURF_RENDERING ? "inside Begin/EndPicture"
                                                        : "encoding and was never synced");
        if (s->derived != VA_INVALID_ID)
            ret = fake_error(d, VA_STATUS_ERROR_SURFACE_BUSY,
                             "vaDestroySurfaces: surface %#x still has derived image %#x", s->o.id,
                             s->derived);
        fake_surface_free(s);
        fake_obj_kill(&s->o);
    }
    return ret;
}

static VAStatus fake_query_surface_attributes(VADriverContextP ctx, VAConfigID config,
                                              VASurfaceAttrib *list, unsigned int *num)
{
    struct fake_driver *d = FAKE_DRV(ctx);
    if (!fake_obj_get(d, config, FK_CONFIG, "vaQuerySurfaceAttributes"))
        return VA_STATUS_ERROR_INVALID_CONFIG;
    VASurfaceAttrib a[6];
    memset(a, 0, sizeof(a));
    int vals[6][2] = {{VASurfaceAttribPixelFormat, VA_FOURCC_NV12},
                      {VASurfaceAttribMinWidth, 16},
                      {VASurfaceAttribMinHeight, 16},
                      {VASurfaceAttribMaxWidth, FAKE_MAX_DIM},
                      {VASurfaceAttribMaxHeight, FAKE_MAX_DIM},
                      {VASurfaceAttribMemoryType, VA_SURFACE_ATTRIB_MEM_TYPE_VA |
                                                      VA_SURFACE_ATTRIB_MEM_TYPE_DRM_PRIME |
                                                      VA_SURFACE_ATTRIB_MEM_TYPE_DRM_PRIME_2}};
    for (int i = 0; i < 6; i++) {
        a[i].type = (VASurfaceAttribType)vals[i][0];
        a[i].flags =
            VA_SURFACE_ATTRIB_GETTABLE | (i == 0 || i == 5 ? VA_SURFACE_ATTRIB_SETTABLE : 0);
        a[i].value.type = VAGenericValueTypeInteger;
        a[i].value.value.i = vals[i][1];
    }
    if (!list) {
        *num = 6;
        return VA_STATUS_SUCCESS;
    }
    if (*num < 6) {
        *num = 6;
        return VA_STATUS_ERROR_MAX_NUM_EXCEEDED;
    }
    memcpy(list, a, sizeof(a));
    *num = 6;
    return VA_STATUS_SUCCESS;
}

/* ---- images ---- */

static VAStatus fake_image_new(struct fake_driver *d, struct fake_image **out, int w, int h,
                               uint32_t pitch, uint32_t uv_offset, uint8_t *pixels)
{
    struct fake_image *im = calloc(1, sizeof(*im));
    if (!im || fake_obj_add(d, &im->o, FK_IMAGE) < 0) {
        free(im);
        return VA_STATUS_ERROR_ALLOCATION_FAILED;
    }
    uint32_t size = uv_offset + pitch * (uint32_t)(h / 2);
    struct fake_buffer *b =
        fake_buffer_new(d, VAImageBufferType, VA_INVALID_ID, pixels ? 0 : size, 1, NULL);
    if (!b) {
        fake_obj_kill(&im->o);
        return VA_STATUS_ERROR_ALLOCATION_FAILED;
    }
    if (pixels) {
        b->data = pixels;
        b->size = size;
    }
    b->image = im->o.id;
    VAImage *vi = &im->image;
    vi->image_id = im->o.id;
    vi->format.fourcc = VA_FOURCC_NV12;
    vi->format.byte_order = VA_LSB_FIRST;
    vi->format.bits_per_pixel = 12;
    vi->buf = b->o.id;
    vi->width = (uint16_t)w;
    vi->height = (uint16_t)h;
    vi->data_size = size;
    vi->num_planes = 2;
    vi->pitches[0] = vi->pitches[1] = pitch;
    vi->offsets[0] = 0;
    vi->offsets[1] = uv_offset;
    im->derived_from = VA_INVALID_ID;
    *out = im;
    return VA_STATUS_SUCCESS;
}

static VAStatus fake_create_image(VADriverContextP ctx, VAImageFormat *format, int width,
                                  int height, VAImage *image)
{
    struct fake_driver *d = FAKE_DRV(ctx);
    if (format->fourcc != VA_FOURCC_NV12)
        return fake_error(d, VA_STATUS_ERROR_INVALID_IMAGE_FORMAT,
                          "vaCreateImage: fourcc %#x, only NV12", format->fourcc);
    if (width < 2 || height < 2 || width % 2 || height % 2 || width > FAKE_MAX_DIM ||
        height > FAKE_MAX_DIM)
        return fake_error(d, VA_STATUS_ERROR_INVALID_PARAMETER, "vaCreateImage: size %dx%d", width,
                          height);
    uint32_t pitch = ((uint32_t)width + FAKE_PITCH_ALIGN - 1) / FAKE_PITCH_ALIGN * FAKE_PITCH_ALIGN;
    struct fake_image *im;
    VAStatus st = fake_image_new(d, &im, width, height, pitch, pitch * (uint32_t)height, NULL);
    if (st == VA_STATUS_SUCCESS)
        *image = im->image;
    return st;
}

static VAStatus fake_derive_image(VADriverContextP ctx, VASurfaceID surface, VAImage *image)
{
    struct fake_driver *d = FAKE_DRV(ctx);
    if (d->no_derive)
        return VA_STATUS_ERROR_OPERATION_FAILED; /* as drivers with tiled-only surfaces do */
    struct fake_surface *s = fake_obj_get(d, surface, FK_SURFACE, "vaDeriveImage");
    if (!s)
        return VA_STATUS_ERROR_INVALID_SURFACE;
    if (s->map)
        return fake_error(d, VA_STATUS_ERROR_OPERATION_FAILED,
                          "vaDeriveImage: surface %#x is an import (read-only)", surface);
    if (s->state != SURF_IDLE)
        return fake_error(d, VA_STATUS_ERROR_SURFACE_BUSY,
                          "vaDeriveImage: surface %#x is being encoded (sync it first)", surface);
    if (s->derived != VA_INVALID_ID)
        return fake_error(d, VA_STATUS_ERROR_SURFACE_BUSY,
                          "vaDeriveImage: surface %#x already has derived image %#x", surface,
                          s->derived);
    struct fake_image *im;
    VAStatus st = fake_image_new(d, &im, s->width, s->height, s->pitch, s->uv_offset, s->data);
    if (st != VA_STATUS_SUCCESS)
        return st;
    im->derived_from = surface;
    s->derived = im->o.id;
    *image = im->image;
    return VA_STATUS_SUCCESS;
}

static VAStatus fake_destroy_image(VADriverContextP ctx, VAImageID id)
{
    struct fake_driver *d = FAKE_DRV(ctx);
    struct fake_image *im = fake_obj_get(d, id, FK_IMAGE, "vaDestroyImage");
    if (!im)
        return VA_STATUS_ERROR_INVALID_IMAGE;
    struct fake_buffer *b = fake_obj_get(d, im->image.buf, FK_BUFFER, "vaDestroyImage (buffer)");
    VAStatus st = VA_STATUS_SUCCESS;
    if (b) {
        if (b->mapped)
            st = fake_error(d, 0, "vaDestroyImage: image %#x is still mapped", id);
        fake_buffer_free(b);
        fake_obj_kill(&b->o);
    }
    if (im->derived_from != VA_INVALID_ID) {
        struct fake_surface *s =
            fake_obj_get(d, im->derived_from, FK_SURFACE, "vaDestroyImage (surface derived from)");
        if (s)
            s->derived = VA_INVALID_ID;
    }
    fake_obj_kill(&im->o);
    return st;
}

static VAStatus fake_put_image(VADriverContextP ctx, VASurfaceID surface, VAImageID image,
                               int src_x, int src_y, unsigned int src_w, unsigned int src_h,
                               int dst_x, int dst_y, unsigned int dst_w, unsigned int dst_h)
{
    struct fake_driver *d = FAKE_DRV(ctx);
    struct fake_surface *s = fake_obj_get(d, surface, FK_SURFACE, "vaPutImage");
    struct fake_image *im = fake_obj_get(d, image, FK_IMAGE, "vaPutImage");
    if (!s || !im)
        return VA_STATUS_ERROR_INVALID_PARAMETER;
    struct fake_buffer *b = fake_obj_get(d, im->image.buf, FK_BUFFER, "vaPutImage (buffer)");
    if (!b)
        return VA_STATUS_ERROR_INVALID_BUFFER;
    if (b->mapped)
        return fake_error(d, 0, "vaPutImage: image %#x is still mapped", image);
    if (s->state != SURF_IDLE || s->map || s->derived != VA_INVALID_ID)
        return fake_error(d, VA_STATUS_ERROR_SURFACE_BUSY,
                          "vaPutImage: surface %#x is busy, imported or derived", surface);
    if (src_x || src_y || dst_x || dst_y || src_w != dst_w || src_h != dst_h ||
        (int)dst_w != s->width || (int)dst_h != s->height || im->image.width != dst_w ||
        im->image.height != dst_h)
        return fake_error(d, VA_STATUS_ERROR_INVALID_PARAMETER,
                          "vaPutImage: only whole-picture puts without scaling (%ux%u -> %ux%u "
                          "on a %dx%d surface)",
                          src_w, src_h, dst_w, dst_h, s->width, s->height);
    const VAImage *vi = &im->image;
    for (int y = 0; y < s->height; y++)
        memcpy(s->data + (size_t)y * s->pitch,
               b->data + vi->offsets[0] + (size_t)y * vi->pitches[0], (size_t)s->width);
    for (int y = 0; y < s->height / 2; y++)
        memcpy(s->data + s->uv_offset + (size_t)y * s->pitch,
               b->data + vi->offsets[1] + (size_t)y * vi->pitches[1], (size_t)s->width);
    s->fill = FILL_PUT;
    d->stats.put_calls++;
    d->stats.put_bytes += (uint64_t)s->width * (uint64_t)s->height * 3 / 2;
    return VA_STATUS_SUCCESS;
}

/* ---- sync ---- */

static VAStatus fake_sync_surface(VADriverContextP ctx, VASurfaceID surface)
{
    struct fake_driver *d = FAKE_DRV(ctx);
    struct fake_surface *s = fake_obj_get(d, surface, FK_SURFACE, "vaSyncSurface");
    if (!s)
        return VA_STATUS_ERROR_INVALID_SURFACE;
    if (s->state == SURF_RENDERING)
        return fake_error(d, VA_STATUS_ERROR_SURFACE_BUSY,
                          "vaSyncSurface: surface %#x is between Begin and EndPicture", surface);
    if (s->state == SURF_PENDING) {
        s->state = SURF_IDLE;
        fake_encode_complete(d, s->pending_coded);
        s->pending_coded = VA_INVALID_ID;
        if (s->pending_failed) {
            s->pending_failed = false;
            return VA_STATUS_ERROR_ENCODING_ERROR;
        }
    }
    return VA_STATUS_SUCCESS;
}

static VAStatus fake_query_surface_status(VADriverContextP ctx, VASurfaceID surface,
                                          VASurfaceStatus *status)
{
    struct fake_driver *d = FAKE_DRV(ctx);
    struct fake_surface *s = fake_obj_get(d, surface, FK_SURFACE, "vaQuerySurfaceStatus");
    if (!s)
        return VA_STATUS_ERROR_INVALID_SURFACE;
    /* Encoding finished at EndPicture; the app must still sync before reading. */
    *status = s->state == SURF_RENDERING ? VASurfaceRendering : VASurfaceReady;
    return VA_STATUS_SUCCESS;
}

void fake_surface_vtable(struct VADriverVTable *vt)
{
    vt->vaCreateSurfaces = fake_create_surfaces;
    vt->vaCreateSurfaces2 = fake_create_surfaces2;
    vt->vaDestroySurfaces = fake_destroy_surfaces;
    vt->vaQuerySurfaceAttributes = fake_query_surface_attributes;
    vt->vaCreateImage = fake_create_image;
    vt->vaDeriveImage = fake_derive_image;
    vt->vaDestroyImage = fake_destroy_image;
    vt->vaPutImage = fake_put_image;
    vt->vaSyncSurface = fake_sync_surface;
    vt->vaQuerySurfaceStatus = fake_query_surface_status;
}
