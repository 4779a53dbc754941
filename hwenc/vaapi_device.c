/*
 * vaapi_device — the VA-API backend's device side: finds and opens the render node, initialises
 * libva on it (its messages go to our log), and chooses profile, entrypoint and packed headers
 * from what the driver offers. Also the backend's query op, which describes the device for
 * `agentcast probe` without encoding.
 */
#include "hwenc/vaapi_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <va/va_drm.h>

#include "core/log.h"

static void vaapi_libva_error(void *ctx, const char *message)
{
    (void)ctx;
    char msg[512];
    snprintf(msg, sizeof(msg), "%s", message);
    size_t n = strlen(msg);
    while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
    log_warn(VAAPI_COMPONENT, "libva: %s", msg);
}

static void vaapi_libva_info(void *ctx, const char *message)
{
    (void)ctx;
    char msg[512];
    snprintf(msg, sizeof(msg), "%s", message);
    size_t n = strlen(msg);
    while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
    log_debug(VAAPI_COMPONENT, "libva: %s", msg);
}

/* The default device: $AGENTCAST_VAAPI_DEVICE, else the first render node by name. */
static int vaapi_default_device(char *path, size_t size, char *why, size_t why_size)
{
    const char *env = getenv(VAAPI_DEVICE_ENV);
    if (env && *env) {
        snprintf(path, size, "%s", env);
        return 0;
    }
    glob_t g;
    int rc = glob("/dev/dri/renderD*", 0, NULL, &g); /* glob sorts by name */
    if (rc != 0 || g.gl_pathc == 0) {
        if (rc == 0)
            globfree(&g);
        snprintf(why, why_size, "no DRM render node (/dev/dri/renderD*)");
        return -ENODEV;
    }
    snprintf(path, size, "%s", g.gl_pathv[0]);
    globfree(&g);
    return 0;
}

int vaapi_display_open(const char *device, struct vaapi_display *d, char *why, size_t why_size)
{
    memset(d, 0, sizeof(*d));
    d->fd = -1;
    int ret = 0;
    if (device && *device)
        snprintf(d->path, sizeof(d->path), "%s", device);
    else if ((ret = vaapi_default_device(d->path, sizeof(d->path), why, why_size)) < 0)
        return ret;
    d->fd = open(d->path, O_RDWR | O_CLOEXEC);
    if (d->fd < 0) {
        ret = -errno;
        snprintf(why, why_size, "cannot open %s: %s", d->path, strerror(errno));
        return ret;
    }
    d->dpy = vaGetDisplayDRM(d->fd);
    if (!d->dpy) {
        snprintf(why, why_size, "%s is not a DRM device libva can use", d->path);
        return -ENODEV;
    }
    vaSetErrorCallback(d->dpy, vaapi_libva_error, NULL);
    vaSetInfoCallback(d->dpy, vaapi_libva_info, NULL);
    int major, minor;
    VAStatus st = vaInitialize(d->dpy, &major, &minor);
    if (st != VA_STATUS_SUCCESS) {
        snprintf(why, why_size, "vaInitialize on %s failed: %s", d->path, vaErrorStr(st));
        vaTerminate(d->dpy);
        d->dpy = NULL;
        return -ENODEV;
    }
    return 0;
}

void vaapi_display_close(struct vaapi_display *d)
{
    if (d->dpy)
        vaTerminate(d->dpy);
    d->dpy = NULL;
    if (d->fd >= 0)
        close(d->fd);
    d->fd = -1;
}

/* The H.264 encode profiles the driver offers (High, Main, ConstrainedBaseline only). */
static int vaapi_encode_profiles(VADisplay dpy, VAProfile *out, bool *lp_any, bool *slice_any)
{
    int max = vaMaxNumProfiles(dpy);
    VAProfile *all = calloc((size_t)(max > 0 ? max : 1), sizeof(*all));
    int max_ep = vaMaxNumEntrypoints(dpy);
    VAEntrypoint *eps = calloc((size_t)(max_ep > 0 ? max_ep : 1), sizeof(*eps));
    int n = 0, count = 0;
    if (!all || !eps || vaQueryConfigProfiles(dpy, all, &n) != VA_STATUS_SUCCESS)
        n = 0;
    for (int i = 0; i < n && count < VAAPI_MAX_PROFILES; i++) {
        if (all[i] != VAProfileH264High && all[i] != VAProfileH264Main &&
            all[i] != VAProfileH264ConstrainedBaseline)
            continue;
        int ne = 0;
        if (vaQueryConfigEntrypoints(dpy, all[i], eps, &ne) != VA_STATUS_SUCCESS)
            continue;
        bool enc = false;
        for (int j = 0; j < ne; j++) {
            if (eps[j] == VAEntrypointEncSliceLP)
                *lp_any = enc = true;
            if (eps[j] == VAEntrypointEncSlice)
                *slice_any = enc = true;
        }
        if (enc)
            out[count++] = all[i];
    }
    free(all);
    free(eps);
    return count;
}

static VAEntrypoint vaapi_pick_entrypoint(VADisplay dpy, VAProfile profile, bool *found)
{
    int max_ep = vaMaxNumEntrypoints(dpy);
    VAEntrypoint eps[32];
    int ne = 0;
    *found = false;
    if (max_ep > 32 || vaQueryConfigEntrypoints(dpy, profile, eps, &ne) != VA_STATUS_SUCCESS)
        return VAEntrypointEncSlice;
    VAEntrypoint pick = VAEntrypointEncSlice;
    for (int j = 0; j < ne; j++) {
        if (eps[j] == VAEntrypointEncSliceLP) {
            *found = true;
            return VAEntrypointEncSliceLP; /* low power: the fixed-function encoder */
        }
        if (eps[j] == VAEntrypointEncSlice)
            *found = true;
    }
    return pick;
}

int vaapi_setup_choose(VADisplay dpy, const struct hwenc_params *p, struct vaapi_setup *s,
                       char *why, size_t why_size)
{
    memset(s, 0, sizeof(*s));
    VAProfile offered[VAAPI_MAX_PROFILES];
    bool lp = false, slice = false;
    int n = vaapi_encode_profiles(dpy, offered, &lp, &slice);
    if (n == 0) {
        snprintf(why, why_size, "the driver offers no H.264 encoding");
        return -ENOTSUP;
    }
    if (vaapi_profile_choose(p->profile, offered, n, &s->profile) < 0) {
        snprintf(why, why_size, "no H.264 profile usable for %s", p->profile ? p->profile : "high");
        return -ENOTSUP;
    }
    bool found;
    s->entrypoint = vaapi_pick_entrypoint(dpy, s->profile, &found);
    if (!found) {
        snprintf(why, why_size, "no encode entrypoint for %s", vaapi_profile_label(s->profile));
        return -ENOTSUP;
    }
    VAConfigAttrib a[5] = {{.type = VAConfigAttribRTFormat},
                           {.type = VAConfigAttribRateControl},
                           {.type = VAConfigAttribEncPackedHeaders},
                           {.type = VAConfigAttribMaxPictureWidth},
                           {.type = VAConfigAttribMaxPictureHeight}};
    if (vaGetConfigAttributes(dpy, s->profile, s->entrypoint, a, 5) != VA_STATUS_SUCCESS) {
        snprintf(why, why_size, "vaGetConfigAttributes failed");
        return -EIO;
    }
    if (a[0].value == VA_ATTRIB_NOT_SUPPORTED || !(a[0].value & VA_RT_FORMAT_YUV420)) {
        snprintf(why, why_size, "no 4:2:0 encoding");
        return -ENOTSUP;
    }
    uint32_t want_rc = p->rc_mode == HWENC_RC_CBR ? VA_RC_CBR : VA_RC_VBR;
    if (a[1].value == VA_ATTRIB_NOT_SUPPORTED || !(a[1].value & want_rc)) {
        snprintf(why, why_size, "the driver has no %s rate control",
                 p->rc_mode == HWENC_RC_CBR ? "CBR" : "VBR");
        return -ENOTSUP;
    }
    uint32_t both = VA_ENC_PACKED_HEADER_SEQUENCE | VA_ENC_PACKED_HEADER_PICTURE;
    if (a[2].value != VA_ATTRIB_NOT_SUPPORTED && (a[2].value & both) == both)
        s->packed = both;
    s->max_width = a[3].value != VA_ATTRIB_NOT_SUPPORTED ? (int)a[3].value : 0;
    s->max_height = a[4].value != VA_ATTRIB_NOT_SUPPORTED ? (int)a[4].value : 0;
    if ((s->max_width && p->width > s->max_width) || (s->max_height && p->height > s->max_height)) {
        snprintf(why, why_size, "%dx%d exceeds the encoder's maximum %dx%d", p->width, p->height,
                 s->max_width, s->max_height);
        return -ENOTSUP;
    }
    return 0;
}

static void vaapi_append(char *dst, size_t size, const char *item)
{
    size_t len = strlen(dst);
    snprintf(dst + len, size - len, "%s%s", len ? "," : "", item);
}

/* hwenc_ops.query: the device, vendor string, H.264 encode profiles and entrypoints, and the
 * maximum size of the best profile. */
int hwenc_vaapi_query(const struct hwenc_params *params, struct hwenc_caps *caps, char *why,
                      size_t why_size)
{
    memset(caps, 0, sizeof(*caps));
    struct vaapi_display d;
    int ret = vaapi_display_open(params->device, &d, why, why_size);
    snprintf(caps->device, sizeof(caps->device), "%s", d.path);
    if (ret < 0) {
        vaapi_display_close(&d);
        return ret;
    }
    const char *vendor = vaQueryVendorString(d.dpy);
    snprintf(caps->driver, sizeof(caps->driver), "%s", vendor ? vendor : "");
    VAProfile offered[VAAPI_MAX_PROFILES];
    bool lp = false, slice = false;
    int n = vaapi_encode_profiles(d.dpy, offered, &lp, &slice);
    static const char *const names[] = {"high", "main", "baseline"};
    static const VAProfile order[] = {VAProfileH264High, VAProfileH264Main,
                                      VAProfileH264ConstrainedBaseline};
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < n; j++)
            if (offered[j] == order[i])
                vaapi_append(caps->profiles, sizeof(caps->profiles), names[i]);
    if (lp)
        vaapi_append(caps->entrypoints, sizeof(caps->entrypoints), "EncSliceLP");
    if (slice)
        vaapi_append(caps->entrypoints, sizeof(caps->entrypoints), "EncSlice");
    if (n > 0) {
        bool found;
        VAEntrypoint ep = vaapi_pick_entrypoint(d.dpy, offered[0], &found);
        VAConfigAttrib a[2] = {{.type = VAConfigAttribMaxPictureWidth},
                               {.type = VAConfigAttribMaxPictureHeight}};
        if (found && vaGetConfigAttributes(d.dpy, offered[0], ep, a, 2) == VA_STATUS_SUCCESS) {
            caps->max_width = a[0].value != VA_ATTRIB_NOT_SUPPORTED ? (int)a[0].value : 0;
            caps->max_height = a[1].value != VA_ATTRIB_NOT_SUPPORTED ? (int)a[1].value : 0;
        }
    } else {
        snprintf(why, why_size, "the driver offers no H.264 encoding");
        ret = -ENOTSUP;
    }
    vaapi_display_close(&d);
    return ret;
}
