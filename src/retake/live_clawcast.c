/*
 * live_clawcast — `agentcast live --clawcast-mirror NAME`: the ClawCast.tv mirror
 * (clawcast/mirror.h) of the terminal source's --text-file, run on the live session's event loop
 * beside the retake.tv stream. It books slot after slot (repeat) and never gives up (persistent);
 * whatever happens to it is logged and never ends the retake.tv stream. On stop, its slot is
 * ended (endSlot) while the stream stops.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "clawcast/api_key.h"
#include "clawcast/client.h"
#include "clawcast/mirror.h"
#include "core/log.h"
#include "retake/live_internal.h"

static const char *COMPONENT = "live";

static void on_mirror_done(int exit_code, void *opaque)
{
    struct live *l = opaque;
    l->mirror_done = true;
    if (exit_code)
        log_warn(COMPONENT,
                 "the ClawCast.tv mirror has ended (exit code %d); the retake.tv "
                 "stream goes on",
                 exit_code);
    if (l->state == LIVE_STOPPING)
        live_finish_if_done(l);
}

int live_clawcast_start(struct live *l)
{
    const struct live_options *o = l->o;
    char err[512], key[CLAWCAST_API_KEY_MAX + 1];
    l->mirror_done = true;
    if (!o->clawcast_mirror)
        return 0;
    int rc = clawcast_api_key_load(o->clawcast_api_key_file, key, err, sizeof(err));
    if (rc == 0) {
        l->claw = clawcast_client_new(
            l->loop, o->clawcast_base ? o->clawcast_base : CLAWCAST_API_BASE_DEFAULT, NULL, err,
            sizeof(err));
        rc = l->claw ? 0 : -EINVAL;
    }
    if (rc == 0) {
        struct clawcast_mirror_options mo = {
            .streamer_name = o->clawcast_mirror,
            .streamer_url = o->clawcast_url ? o->clawcast_url : l->watch_url,
            .duration_minutes = o->clawcast_minutes ? (int)strtol(o->clawcast_minutes, NULL, 10)
                                                    : 1, /* validated by the CLI */
            .text_file = o->stream.terminal.text_file,
            .api_key = key[0] ? key : NULL,
            .repeat = true,
            .persistent = true,
            .keepalive_ms = o->clawcast_keepalive_ms,
            .poll_ms = o->clawcast_poll_ms,
        };
        l->mirror =
            clawcast_mirror_start(l->loop, l->claw, &mo, on_mirror_done, l, err, sizeof(err));
        rc = l->mirror ? 0 : -EINVAL;
    }
    explicit_bzero(key, sizeof(key));
    if (rc < 0) {
        log_error(COMPONENT, "ClawCast.tv mirror: %s; streaming to retake.tv without it", err);
        return rc;
    }
    l->mirror_done = false;
    log_info(COMPONENT, "mirroring %s to ClawCast.tv as %s", o->stream.terminal.text_file,
             o->clawcast_mirror);
    return 0;
}

void live_clawcast_stop(struct live *l)
{
    if (l->mirror && !l->mirror_done)
        clawcast_mirror_stop(l->mirror); /* on_mirror_done follows */
}

void live_clawcast_free(struct live *l)
{
    clawcast_mirror_free(l->mirror);
    l->mirror = NULL;
    clawcast_client_free(l->claw);
    l->claw = NULL;
}
