/*
 * fake_va_driver — entry point of the fake VA-API driver: knobs, capabilities, configs, the
 * object table, the stats file and the leak check at vaTerminate. Test-only (fake_va.h).
 */
#include "fake_va.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FAKE_MAX_SIZE 4096

VAStatus fake_error(struct fake_driver *d, VAStatus status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "fake-vaapi: ERROR ");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    d->stats.errors++;
    return status ? status : VA_STATUS_ERROR_OPERATION_FAILED;
}

int fake_obj_add(struct fake_driver *d, struct fake_obj *obj, enum fake_kind kind)
{
    if (d->n[kind] == d->cap[kind]) {
        uint32_t cap = d->cap[kind] ? 2 * d->cap[kind] : 64;
        struct fake_obj **grown = realloc(d->objs[kind], cap * sizeof(*grown));
        if (!grown)
            return -1;
        d->objs[kind] = grown;
        d->cap[kind] = cap;
    }
    d->objs[kind][d->n[kind]] = obj;
    obj->kind = kind;
    obj->alive = true;
    obj->id = ((uint32_t)kind << 24) | (d->n[kind] + 1);
    d->n[kind]++;
    return 0;
}

static const char *const fake_kind_names[FK_KINDS] = {"?",       "config", "context",
                                                      "surface", "buffer", "image"};

void *fake_obj_get(struct fake_driver *d, uint32_t id, enum fake_kind kind, const char *what)
{
    uint32_t k = id >> 24, idx = id & 0xffffff;
    if (id == VA_INVALID_ID || k != (uint32_t)kind || idx == 0 || idx > d->n[kind]) {
        fake_error(d, 0, "%s: %#x is not a %s id", what, id, fake_kind_names[kind]);
        return NULL;
    }
    struct fake_obj *o = d->objs[kind][idx - 1];
    if (!o->alive) {
        fake_error(d, 0, "%s: %s %#x used after destroy", what, fake_kind_names[kind], id);
        return NULL;
    }
    return o;
}

void fake_obj_kill(struct fake_obj *obj)
{
    obj->alive = false;
}

/* ---- capabilities ---- */

static int fake_profiles(struct fake_driver *d, VAProfile *out)
{
    int n = 0;
    if (d->prof_high)
        out[n++] = VAProfileH264High;
    if (d->prof_main)
        out[n++] = VAProfileH264Main;
    if (d->prof_cb)
        out[n++] = VAProfileH264ConstrainedBaseline;
    return n;
}

static bool fake_profile_ok(struct fake_driver *d, VAProfile p)
{
    return (p == VAProfileH264High && d->prof_high) || (p == VAProfileH264Main && d->prof_main) ||
           (p == VAProfileH264ConstrainedBaseline && d->prof_cb);
}

static VAStatus fake_query_profiles(VADriverContextP ctx, VAProfile *list, int *num)
{
    *num = fake_profiles(FAKE_DRV(ctx), list);
    return VA_STATUS_SUCCESS;
}

static VAStatus fake_query_entrypoints(VADriverContextP ctx, VAProfile profile, VAEntrypoint *list,
                                       int *num)
{
    struct fake_driver *d = FAKE_DRV(ctx);
    *num = 0;
    if (!fake_profile_ok(d, profile))
        return VA_STATUS_ERROR_UNSUPPORTED_PROFILE;
    if (!d->no_lp)
        list[(*num)++] = VAEntrypointEncSliceLP;
    list[(*num)++] = VAEntrypointEncSlice;
    return VA_STATUS_SUCCESS;
}

static uint32_t fake_attr_value(struct fake_driver *d, VAConfigAttribType type)
{
    switch (type) {
    case VAConfigAttribRTFormat:
        return VA_RT_FORMAT_YUV420;
    case VAConfigAttribRateControl:
        return VA_RC_CBR | VA_RC_VBR;
    case VAConfigAttribEncPackedHeaders:
        return d->no_packed ? VA_ENC_PACKED_HEADER_NONE
                            : VA_ENC_PACKED_HEADER_SEQUENCE | VA_ENC_PACKED_HEADER_PICTURE;
    case VAConfigAttribEncMaxRefFrames:
        return 1;
    case VAConfigAttribEncMaxSlices:
        return FAKE_MAX_SLICES;
    case VAConfigAttribMaxPictureWidth:
    case VAConfigAttribMaxPictureHeight:
        return FAKE_MAX_SIZE;
    default:
        return VA_ATTRIB_NOT_SUPPORTED;
    }
}

static VAStatus fake_get_config_attributes(VADriverContextP ctx, VAProfile profile,
                                           VAEntrypoint entrypoint, VAConfigAttrib *list, int num)
{
    struct fake_driver *d = FAKE_DRV(ctx);
    if (!fake_profile_ok(d, profile))
        return VA_STATUS_ERROR_UNSUPPORTED_PROFILE;
    if (entrypoint != VAEntrypointEncSlice && (entrypoint != VAEntrypointEncSliceLP || d->no_lp))
        return VA_STATUS_ERROR_UNSUPPORTED_ENTRYPOINT;
    for (int i = 0; i < num; i++)
        list[i].value = fake_attr_value(d, list[i].type);
    return VA_STATUS_SUCCESS;
}

static const char *fake_profile_name(VAProfile p)
{
    return p == VAProfileH264High ? "high" : p == VAProfileH264Main ? "main" : "baseline";
}

static VAStatus fake_config_check_attrib(struct fake_driver *d, struct fake_config *c,
                                         const VAConfigAttrib *a)
{
    uint32_t offered = fake_attr_value(d, a->type);
    switch (a->type) {
    case VAConfigAttribRTFormat:
        if (a->value != VA_RT_FORMAT_YUV420)
            return fake_error(d, VA_STATUS_ERROR_UNSUPPORTED_RT_FORMAT,
                              "vaCreateConfig: RT format %#x, only YUV420", a->value);
        return VA_STATUS_SUCCESS;
    case VAConfigAttribRateControl:
        if (a->value != VA_RC_CBR && a->value != VA_RC_VBR)
            return fake_error(d, VA_STATUS_ERROR_INVALID_VALUE,
                              "vaCreateConfig: rate control %#x is not exactly CBR or VBR",
                              a->value);
        c->rc_mode = a->value;
        return VA_STATUS_SUCCESS;
    case VAConfigAttribEncPackedHeaders:
        if (a->value & ~offered)
            return fake_error(d, VA_STATUS_ERROR_INVALID_VALUE,
                              "vaCreateConfig: packed headers %#x, offered only %#x", a->value,
                              offered);
        c->packed_headers = a->value;
        return VA_STATUS_SUCCESS;
    default:
        return fake_error(d, VA_STATUS_ERROR_ATTR_NOT_SUPPORTED,
                          "vaCreateConfig: attribute type %d not supported", a->type);
    }
}

static VAStatus fake_create_config(VADriverContextP ctx, VAProfile profile, VAEntrypoint entrypoint,
                                   VAConfigAttrib *attribs, int num, VAConfigID *id)
{
    struct fake_driver *d = FAKE_DRV(ctx);
    if (!fake_profile_ok(d, profile))
        return VA_STATUS_ERROR_UNSUPPORTED_PROFILE;
    if (entrypoint != VAEntrypointEncSlice && (entrypoint != VAEntrypointEncSliceLP || d->no_lp))
        return VA_STATUS_ERROR_UNSUPPORTED_ENTRYPOINT;
    struct fake_config *c = calloc(1, sizeof(*c));
    if (!c)
        return VA_STATUS_ERROR_ALLOCATION_FAILED;
    c->profile = profile;
    c->entrypoint = entrypoint;
    c->rc_mode = VA_RC_CBR; /* what real drivers default to */
    for (int i = 0; i < num; i++) {
        VAStatus st = fake_config_check_attrib(d, c, &attribs[i]);
        if (st != VA_STATUS_SUCCESS) {
            free(c);
            return st;
        }
    }
    if (fake_obj_add(d, &c->o, FK_CONFIG) < 0) {
        free(c);
        return VA_STATUS_ERROR_ALLOCATION_FAILED;
    }
    snprintf(d->stats.profile, sizeof(d->stats.profile), "%s", fake_profile_name(profile));
    snprintf(d->stats.entrypoint, sizeof(d->stats.entrypoint), "%s",
             entrypoint == VAEntrypointEncSliceLP ? "EncSliceLP" : "EncSlice");
    snprintf(d->stats.rc_mode, sizeof(d->stats.rc_mode), "%s",
             c->rc_mode == VA_RC_CBR ? "CBR" : "VBR");
    *id = c->o.id;
    return VA_STATUS_SUCCESS;
}

static VAStatus fake_destroy_config(VADriverContextP ctx, VAConfigID id)
{
    struct fake_driver *d = FAKE_DRV(ctx);
    struct fake_config *c = fake_obj_get(d, id, FK_CONFIG, "vaDestroyConfig");
    if (!c)
        return VA_STATUS_ERROR_INVALID_CONFIG;
    fake_obj_kill(&c->o);
    return VA_STATUS_SUCCESS;
}

static VAStatus fake_query_config_attributes(VADriverContextP ctx, VAConfigID id,
                                             VAProfile *profile, VAEntrypoint *entrypoint,
                                             VAConfigAttrib *list, int *num)
{
    struct fake_driver *d = FAKE_DRV(ctx);
    struct fake_config *c = fake_obj_get(d, id, FK_CONFIG, "vaQueryConfigAttributes");
    if (!c)
        return VA_STATUS_ERROR_INVALID_CONFIG;
    *profile = c->profile;
    *entrypoint = c->entrypoint;
    list[0].type = VAConfigAttribRTFormat;
    list[0].value = VA_RT_FORMAT_YUV420;
    list[1].type = VAConfigAttribRateControl;
    list[1].value = c->rc_mode;
    list[2].type = VAConfigAttribEncPackedHeaders;
    list[2].value = c->packed_headers;
    *num = 3;
    return VA_STATUS_SUCCESS;
}

static VAStatus fake_query_image_formats(VADriverContextP ctx, VAImageFormat *list, int *num)
{
    (void)ctx;
    memset(&list[0], 0, sizeof(list[0]));
    list[0].fourcc = VA_FOURCC_NV12;
    list[0].byte_order = VA_LSB_FIRST;
    list[0].bits_per_pixel = 12;
    *num = 1;
    return VA_STATUS_SUCCESS;
}

/* ---- what a stream does not need: present (libva requires it), refused loudly ---- */

#define FAKE_UNSUPPORTED(name, ...)                                                                \
    static VAStatus fake_##name(VADriverContextP ctx, __VA_ARGS__)                                 \
    {                                                                                              \
        return fake_error(FAKE_DRV(ctx), VA_STATUS_ERROR_UNIMPLEMENTED, #name " not supported");   \
    }

FAKE_UNSUPPORTED(put_surface, VASurfaceID s, void *draw, short a, short b, unsigned short c,
                 unsigned short e, short f, short g, unsigned short h, unsigned short i,
                 VARectangle *r, unsigned int n, unsigned int flags)
FAKE_UNSUPPORTED(set_image_palette, VAImageID image, unsigned char *palette)
FAKE_UNSUPPORTED(get_image, VASurfaceID s, int x, int y, unsigned int w, unsigned int h,
                 VAImageID image)
FAKE_UNSUPPORTED(create_subpicture, VAImageID image, VASubpictureID *sub)
FAKE_UNSUPPORTED(destroy_subpicture, VASubpictureID sub)
FAKE_UNSUPPORTED(set_subpicture_image, VASubpictureID sub, VAImageID image)
FAKE_UNSUPPORTED(set_subpicture_chromakey, VASubpictureID sub, unsigned int a, unsigned int b,
                 unsigned int c)
FAKE_UNSUPPORTED(set_subpicture_global_alpha, VASubpictureID sub, float alpha)
FAKE_UNSUPPORTED(associate_subpicture, VASubpictureID sub, VASurfaceID *s, int n, short a, short b,
                 unsigned short c, unsigned short e, short f, short g, unsigned short h,
                 unsigned short i, unsigned int flags)
FAKE_UNSUPPORTED(deassociate_subpicture, VASubpictureID sub, VASurfaceID *s, int n)
FAKE_UNSUPPORTED(get_display_attributes, VADisplayAttribute *list, int n)
FAKE_UNSUPPORTED(set_display_attributes, VADisplayAttribute *list, int n)
FAKE_UNSUPPORTED(lock_surface, VASurfaceID s, unsigned int *a, unsigned int *b, unsigned int *c,
                 unsigned int *e, unsigned int *f, unsigned int *g, unsigned int *h,
                 unsigned int *i, void **k)
FAKE_UNSUPPORTED(unlock_surface, VASurfaceID s)

static VAStatus fake_query_subpicture_formats(VADriverContextP ctx, VAImageFormat *list,
                                              unsigned int *flags, unsigned int *num)
{
    (void)ctx;
    (void)list;
    (void)flags;
    *num = 0;
    return VA_STATUS_SUCCESS;
}

static VAStatus fake_query_display_attributes(VADriverContextP ctx, VADisplayAttribute *list,
                                              int *num)
{
    (void)ctx;
    (void)list;
    *num = 0;
    return VA_STATUS_SUCCESS;
}

/* ---- stats and terminate ---- */

static void fake_write_stats(struct fake_driver *d)
{
    const char *path = getenv("FAKE_VAAPI_STATS");
    if (!path || !*path)
        return;
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "fake-vaapi: cannot write stats to %s\n", path);
        return;
    }
    const struct fake_stats *s = &d->stats;
    fprintf(f,
            "{\"frames_encoded\":%llu,\"idr_frames\":%llu,\"filled_derive\":%llu,"
            "\"filled_put\":%llu,\"filled_import\":%llu,\"filled_none\":%llu,"
            "\"derive_maps\":%llu,\"put_calls\":%llu,\"put_bytes\":%llu,\"imports\":%llu,"
            "\"packed_sps\":%llu,\"packed_pps\":%llu,\"packed_slice\":%llu,"
            "\"injected_failures\":%llu,\"errors\":%llu,\"leaks\":%llu,",
            (unsigned long long)s->frames_encoded, (unsigned long long)s->idr_frames,
            (unsigned long long)s->filled_derive, (unsigned long long)s->filled_put,
            (unsigned long long)s->filled_import, (unsigned long long)s->filled_none,
            (unsigned long long)s->derive_maps, (unsigned long long)s->put_calls,
            (unsigned long long)s->put_bytes, (unsigned long long)s->imports,
            (unsigned long long)s->packed_sps, (unsigned long long)s->packed_pps,
            (unsigned long long)s->packed_slice, (unsigned long long)s->injected_failures,
            (unsigned long long)s->errors, (unsigned long long)s->leaks);
    fprintf(f,
            "\"profile\":\"%s\",\"entrypoint\":\"%s\",\"rc_mode\":\"%s\",\"bitrate_bps\":%u,"
            "\"maxrate_bps\":%u,\"hrd_buffer_bits\":%u,\"fps_num\":%u,\"fps_den\":%u,"
            "\"idr_period\":%u,\"width\":%d,\"height\":%d}\n",
            s->profile, s->entrypoint, s->rc_mode, s->bitrate_bps, s->maxrate_bps, s->hrd_buffer,
            s->fps_num, s->fps_den, s->idr_period, s->width, s->height);
    fclose(f);
}

static void fake_free_obj(struct fake_obj *o)
{
    switch (o->kind) {
    case FK_SURFACE:
        fake_surface_free((struct fake_surface *)o);
        break;
    case FK_BUFFER:
        fake_buffer_free((struct fake_buffer *)o);
        break;
    case FK_CONTEXT:
        fake_context_free((struct fake_context *)o);
        break;
    default:
        break;
    }
    free(o);
}

static VAStatus fake_terminate(VADriverContextP ctx)
{
    struct fake_driver *d = FAKE_DRV(ctx);
    for (int k = FK_CONFIG; k < FK_KINDS; k++) {
        uint32_t live = 0;
        for (uint32_t i = 0; i < d->n[k]; i++) {
            struct fake_obj *o = d->objs[k][i];
            if (o->alive) {
                live++;
                o->alive = false;
            }
            fake_free_obj(o);
        }
        if (live) {
            d->stats.leaks += live;
            fake_error(d, 0, "vaTerminate: %u %s(s) never destroyed (leak)", live,
                       fake_kind_names[k]);
        }
        free(d->objs[k]);
    }
    fake_write_stats(d);
    free(d);
    ctx->pDriverData = NULL;
    /* Leaks are reported and counted, but the display is still torn down: libva frees its own
     * state only when the driver's terminate succeeds. */
    return VA_STATUS_SUCCESS;
}

/* ---- init ---- */

static bool fake_env_on(const char *name)
{
    const char *v = getenv(name);
    return v && *v && strcmp(v, "0") != 0;
}

static void fake_read_knobs(struct fake_driver *d)
{
    d->no_lp = fake_env_on("FAKE_VAAPI_NO_LP");
    d->no_derive = fake_env_on("FAKE_VAAPI_NO_DERIVE");
    d->no_packed = fake_env_on("FAKE_VAAPI_NO_PACKED");
    const char *at = getenv("FAKE_VAAPI_FAIL_ENCODE_AT");
    d->fail_encode_at = at ? strtol(at, NULL, 10) : 0;
    const char *profiles = getenv("FAKE_VAAPI_PROFILES");
    if (!profiles || !*profiles)
        profiles = "high,main,baseline";
    char buf[128];
    snprintf(buf, sizeof(buf), "%s", profiles);
    char *save = NULL;
    for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (strcmp(t, "high") == 0)
            d->prof_high = true;
        else if (strcmp(t, "main") == 0)
            d->prof_main = true;
        else if (strcmp(t, "baseline") == 0)
            d->prof_cb = true;
        else
            fprintf(stderr, "fake-vaapi: FAKE_VAAPI_PROFILES: unknown profile %s\n", t);
    }
}

static void fake_fill_vtable(struct VADriverVTable *vt)
{
    vt->vaTerminate = fake_terminate;
    vt->vaQueryConfigProfiles = fake_query_profiles;
    vt->vaQueryConfigEntrypoints = fake_query_entrypoints;
    vt->vaGetConfigAttributes = fake_get_config_attributes;
    vt->vaCreateConfig = fake_create_config;
    vt->vaDestroyConfig = fake_destroy_config;
    vt->vaQueryConfigAttributes = fake_query_config_attributes;
    vt->vaQueryImageFormats = fake_query_image_formats;
    vt->vaPutSurface = fake_put_surface;
    vt->vaSetImagePalette = fake_set_image_palette;
    vt->vaGetImage = fake_get_image;
    vt->vaQuerySubpictureFormats = fake_query_subpicture_formats;
    vt->vaCreateSubpicture = fake_create_subpicture;
    vt->vaDestroySubpicture = fake_destroy_subpicture;
    vt->vaSetSubpictureImage = fake_set_subpicture_image;
    vt->vaSetSubpictureChromakey = fake_set_subpicture_chromakey;
    vt->vaSetSubpictureGlobalAlpha = fake_set_subpicture_global_alpha;
    vt->vaAssociateSubpicture = fake_associate_subpicture;
    vt->vaDeassociateSubpicture = fake_deassociate_subpicture;
    vt->vaQueryDisplayAttributes = fake_query_display_attributes;
    vt->vaGetDisplayAttributes = fake_get_display_attributes;
    vt->vaSetDisplayAttributes = fake_set_display_attributes;
    vt->vaLockSurface = fake_lock_surface;
    vt->vaUnlockSurface = fake_unlock_surface;
    fake_surface_vtable(vt);
    fake_encode_vtable(vt);
}

#define FAKE_CAT2(a, b, c) a##b##_##c
#define FAKE_CAT(a, b, c) FAKE_CAT2(a, b, c)
#define FAKE_INIT_NAME FAKE_CAT(__vaDriverInit_, VA_MAJOR_VERSION, VA_MINOR_VERSION)

VAStatus FAKE_INIT_NAME(VADriverContextP ctx);

VAStatus FAKE_INIT_NAME(VADriverContextP ctx)
{
    if (fake_env_on("FAKE_VAAPI_FAIL_INIT")) {
        fprintf(stderr, "fake-vaapi: FAKE_VAAPI_FAIL_INIT: refusing to initialise\n");
        return VA_STATUS_ERROR_OPERATION_FAILED;
    }
    struct fake_driver *d = calloc(1, sizeof(*d));
    if (!d)
        return VA_STATUS_ERROR_ALLOCATION_FAILED;
    fake_read_knobs(d);
    ctx->pDriverData = d;
    ctx->version_major = VA_MAJOR_VERSION;
    ctx->version_minor = VA_MINOR_VERSION;
    ctx->max_profiles = 3;
    ctx->max_entrypoints = 2;
    ctx->max_attributes = 8;
    ctx->max_image_formats = 1;
    ctx->max_subpic_formats = 1;
    ctx->max_display_attributes = 1;
    ctx->str_vendor = "agentcast fake VA-API driver (x264 inside)";
    fake_fill_vtable(ctx->vtable);
    return VA_STATUS_SUCCESS;
}
