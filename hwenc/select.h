/*
 * select — which encoder backend a stream uses: `auto` or a name, the probe that decides, and the
 * fallback to x264 when a hardware encoder fails mid-stream. The pipeline and `agentcast probe`
 * call it; backends know nothing of each other.
 */
#ifndef AGENTCAST_HWENC_SELECT_H
#define AGENTCAST_HWENC_SELECT_H

#include <stdbool.h>
#include <stddef.h>

#include "hwenc/hwenc.h"

/* Opens the encoder want names: "auto" (or NULL) probes every compiled-in backend in order
 * (nvenc → vaapi → v4l2m2m → x264) with a real one-frame test encode, logs why each one before
 * the chosen one was skipped, and opens the first that works; a backend name opens exactly that
 * one. 0 with *out set (caller closes it with (*out)->ops->close), or a negative errno after
 * logging why (-ENOENT: not built in, -ENODEV: nothing usable). */
int hwenc_select_open(const char *want, const struct hwenc_params *params, struct hwenc **out);

/* True when enc may be replaced by x264 after a failure (it is a hardware backend). */
bool hwenc_select_can_fall_back(const struct hwenc *enc);

/* Closes *enc, which failed with err, and opens x264 with the same parameters in its place,
 * logging the switch. On success *enc is the new encoder, whose first frame is a keyframe and
 * whose extradata the stream must announce before it. On failure *enc is NULL. */
int hwenc_select_fall_back(struct hwenc **enc, int err);

/* One backend as `agentcast probe` reports it. */
struct hwenc_report {
    const char *name;
    bool built;          /* compiled into this agentcast */
    bool usable;         /* the one-frame test encode worked */
    char why[256];       /* why not usable (or not built); "" when usable */
    struct hwenc_caps caps;
};

/* Every known backend name, built in or not, in auto order (for the probe table). */
extern const char *const hwenc_known_names[];
/* Probes the backend called name with params and fills r. */
void hwenc_select_report(const char *name, const struct hwenc_params *params,
                         struct hwenc_report *r);

#endif
