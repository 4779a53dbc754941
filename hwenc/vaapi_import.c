/*
 * vaapi_import — a DRM PRIME dmabuf (NV12, from a KMS or PipeWire source) as a VA surface the
 * encoder reads where it is: the DRM_PRIME_2 descriptor first, the older DRM_PRIME external
 * buffer interface for drivers without it. Part of the VA-API backend (hwenc/vaapi.c).
 */
#include "hwenc/vaapi_internal.h"

#include <string.h>

#include <drm_fourcc.h>
#include <va/va_drmcommon.h>

#include "core/log.h"

static VAStatus vaapi_import_prime2(VADisplay dpy, const struct frame_dmabuf *b, VASurfaceID *out)
{
    VADRMPRIMESurfaceDescriptor desc;
    memset(&desc, 0, sizeof(desc));
    desc.fourcc = VA_FOURCC_NV12;
    desc.width = (uint32_t)b->width;
    desc.height = (uint32_t)b->height;
    desc.num_layers = 1;
    desc.layers[0].drm_format = b->drm_format;
    desc.layers[0].num_planes = (uint32_t)b->n_planes;
    for (int i = 0; i < b->n_planes; i++) {
        uint32_t obj = desc.num_objects;
        for (uint32_t j = 0; j < desc.num_objects; j++)
            if (desc.objects[j].fd == b->fd[i])
                obj = j;
        if (obj == desc.num_objects) {
            desc.objects[obj].fd = b->fd[i];
            desc.objects[obj].size = (uint32_t)b->size[i];
            desc.objects[obj].drm_format_modifier = b->modifier;
            desc.num_objects++;
        }
        desc.layers[0].object_index[i] = obj;
        desc.layers[0].offset[i] = b->offset[i];
        desc.layers[0].pitch[i] = b->pitch[i];
    }
    VASurfaceAttrib a[2] = {
        {.type = VASurfaceAttribMemoryType,
         .flags = VA_SURFACE_ATTRIB_SETTABLE,
         .value = {.type = VAGenericValueTypeInteger,
                   .value.i = VA_SURFACE_ATTRIB_MEM_TYPE_DRM_PRIME_2}},
        {.type = VASurfaceAttribExternalBufferDescriptor,
         .flags = VA_SURFACE_ATTRIB_SETTABLE,
         .value = {.type = VAGenericValueTypePointer, .value.p = &desc}},
    };
    return vaCreateSurfaces(dpy, VA_RT_FORMAT_YUV420, (unsigned)b->width, (unsigned)b->height, out,
                            1, a, 2);
}

/* The older interface: one fd holding every plane. */
static VAStatus vaapi_import_prime(VADisplay dpy, const struct frame_dmabuf *b, VASurfaceID *out)
{
    if (b->n_planes != 2 || b->fd[1] != b->fd[0] || b->modifier != DRM_FORMAT_MOD_LINEAR)
        return VA_STATUS_ERROR_INVALID_PARAMETER;
    uintptr_t handle = (uintptr_t)b->fd[0];
    VASurfaceAttribExternalBuffers ext;
    memset(&ext, 0, sizeof(ext));
    ext.pixel_format = VA_FOURCC_NV12;
    ext.width = (uint32_t)b->width;
    ext.height = (uint32_t)b->height;
    ext.data_size = (uint32_t)b->size[0];
    ext.num_planes = 2;
    for (int i = 0; i < 2; i++) {
        ext.pitches[i] = b->pitch[i];
        ext.offsets[i] = b->offset[i];
    }
    ext.buffers = &handle;
    ext.num_buffers = 1;
    VASurfaceAttrib a[2] = {
        {.type = VASurfaceAttribMemoryType,
         .flags = VA_SURFACE_ATTRIB_SETTABLE,
         .value = {.type = VAGenericValueTypeInteger,
                   .value.i = VA_SURFACE_ATTRIB_MEM_TYPE_DRM_PRIME}},
        {.type = VASurfaceAttribExternalBufferDescriptor,
         .flags = VA_SURFACE_ATTRIB_SETTABLE,
         .value = {.type = VAGenericValueTypePointer, .value.p = &ext}},
    };
    return vaCreateSurfaces(dpy, VA_RT_FORMAT_YUV420, (unsigned)b->width, (unsigned)b->height, out,
                            1, a, 2);
}

VAStatus vaapi_import_surface(VADisplay dpy, const struct frame_dmabuf *b, VASurfaceID *out)
{
    VAStatus st = vaapi_import_prime2(dpy, b, out);
    if (st == VA_STATUS_SUCCESS)
        return st;
    log_debug(VAAPI_COMPONENT, "import as DRM_PRIME_2 failed (%s), trying DRM_PRIME",
              vaErrorStr(st));
    return vaapi_import_prime(dpy, b, out);
}
