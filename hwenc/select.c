/*
 * select — see select.h. Auto-selection follows Sunshine's rule: a backend counts only if a real
 * encode of one frame works, because drivers routinely advertise what they then refuse.
 */
#include "hwenc/select.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/log.h"

static const char *COMPONENT = "encoder";

const char *const hwenc_known_names[] = {"nvenc", "vaapi", "v4l2m2m", "x264", NULL};

int hwenc_select_open(const char *want, const struct hwenc_params *params, struct hwenc **out)
{
    *out = NULL;
    if (want && strcmp(want, "auto") != 0) {
        const struct hwenc_ops *ops = hwenc_find(want);
        if (!ops) {
            log_error(COMPONENT, "encoder %s is not built into this agentcast", want);
            return -ENOENT;
        }
        return ops->open(out, params);
    }
    for (const struct hwenc_ops *const *it = hwenc_backends; *it; it++) {
        char why[256] = "";
        int rc = (*it)->probe(params, why, sizeof(why));
        if (rc < 0) {
            log_info(COMPONENT, "auto: %s skipped: %s", (*it)->name, why[0] ? why : "unusable");
            continue;
        }
        rc = (*it)->open(out, params);
        if (rc == 0) {
            log_info(COMPONENT, "auto: using %s", (*it)->name);
            return 0;
        }
        log_info(COMPONENT, "auto: %s skipped: open failed after a good probe (%s)", (*it)->name,
                 strerror(-rc));
    }
    log_error(COMPONENT, "no usable H.264 encoder");
    return -ENODEV;
}

bool hwenc_select_can_fall_back(const struct hwenc *enc)
{
    return enc && enc->ops != &hwenc_x264_ops;
}

int hwenc_select_fall_back(struct hwenc **enc, int err)
{
    struct hwenc *old = *enc;
    struct hwenc_params params = old->params;
    char *owned[HWENC_PARAM_STRINGS] = {0};
    char name[32];
    snprintf(name, sizeof(name), "%s", old->ops->name);
    /* The failed backend owns the strings it closes with: copy them first. */
    int rc = hwenc_params_own(&params, owned);
    params.device = NULL; /* the hardware device means nothing to x264 */
    old->ops->close(old);
    *enc = NULL;
    log_warn(COMPONENT,
             "%s failed mid-stream (%s): falling back to x264; the stream goes on from "
             "x264's first keyframe",
             name, strerror(-err));
    if (rc == 0)
        rc = hwenc_x264_ops.open(enc, &params);
    hwenc_params_release(owned);
    if (rc < 0) {
        log_error(COMPONENT, "fallback to x264 failed too (%s)", strerror(-rc));
        *enc = NULL;
    }
    return rc;
}

void hwenc_select_report(const char *name, const struct hwenc_params *params,
                         struct hwenc_report *r)
{
    memset(r, 0, sizeof(*r));
    r->name = name;
    const struct hwenc_ops *ops = hwenc_find(name);
    if (!ops) {
        snprintf(r->why, sizeof(r->why), "not built into this agentcast");
        return;
    }
    r->built = true;
    if (ops->query) {
        char why[sizeof(r->why)] = "";
        if (ops->query(params, &r->caps, why, sizeof(why)) < 0) {
            snprintf(r->why, sizeof(r->why), "%s", why[0] ? why : "device query failed");
            return;
        }
    }
    char why[sizeof(r->why)] = "";
    if (ops->probe(params, why, sizeof(why)) < 0) {
        snprintf(r->why, sizeof(r->why), "%s", why[0] ? why : "test encode failed");
        return;
    }
    r->usable = true;
}
