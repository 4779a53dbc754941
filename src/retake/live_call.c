/*
 * live_call — API calls of a live session with the error table's session-level rules: 401 ends
 * the session (exit 3, "re-register or set RETAKE_ACCESS_TOKEN"), 409 "No active session" is
 * answered by stream/start and one retry of the call. 5xx and timeouts are retried below, in
 * retake/client.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "retake/live_internal.h"

static const char *COMPONENT = "live";

/* ---- calls with the document's 401 and 409 rules ------------------------------------------- */

struct call_ctx {
    struct live *l;
    enum retake_endpoint ep;
    struct retake_call_options opts;
    char *body, *param;
    struct http_file_part file;
    void *file_data;
    bool retried_after_start;
    retake_done_fn done;
    void *opaque;
};

static void call_ctx_free(struct call_ctx *cc)
{
    if (cc->body) {
        explicit_bzero(cc->body, strlen(cc->body));
        free(cc->body);
    }
    free(cc->param);
    free(cc->file_data);
    free(cc);
}

static int call_submit(struct call_ctx *cc);

static void on_start_for_409(const struct retake_result *res, void *opaque)
{
    struct call_ctx *cc = opaque;
    if (!res->ok || call_submit(cc) < 0) {
        struct retake_result failed = *res;
        failed.ok = false;
        cc->done(&failed, cc->opaque);
        call_ctx_free(cc);
    }
}

static void on_call_done(const struct retake_result *res, void *opaque)
{
    struct call_ctx *cc = opaque;
    struct live *l = cc->l;
    if (res->cls == RETAKE_HTTP_AUTH) {
        /* "401 Invalid or missing access_token": nothing a retry can mend. */
        call_ctx_free(cc);
        live_fail(l, 3, "access token rejected — re-register or set RETAKE_ACCESS_TOKEN");
        return;
    }
    if (res->cls == RETAKE_HTTP_NO_SESSION && !cc->retried_after_start &&
        cc->ep != RETAKE_EP_STREAM_START && l->state != LIVE_STOPPING) {
        /* "409 No active session — Call /agent/stream/start first", then once more. */
        log_warn(COMPONENT, "%s: no active session: calling stream/start, then retrying",
                 retake_endpoint_get(cc->ep)->name);
        cc->retried_after_start = true;
        if (retake_client_call(l->api, RETAKE_EP_STREAM_START, NULL, on_start_for_409, cc,
                               NULL) == 0)
            return;
    }
    cc->done(res, cc->opaque);
    call_ctx_free(cc);
}

static int call_submit(struct call_ctx *cc)
{
    return retake_client_call(cc->l->api, cc->ep, &cc->opts, on_call_done, cc, NULL);
}

int live_call(struct live *l, enum retake_endpoint ep, const struct retake_call_options *opts,
              retake_done_fn done, void *opaque)
{
    struct call_ctx *cc = calloc(1, sizeof(*cc));
    if (!cc)
        return -ENOMEM;
    cc->l = l;
    cc->ep = ep;
    cc->done = done;
    cc->opaque = opaque;
    if (opts) {
        cc->opts = *opts;
        cc->body = opts->json_body ? strdup(opts->json_body) : NULL;
        cc->param = opts->param ? strdup(opts->param) : opts->path ? strdup(opts->path) : NULL;
        cc->opts.json_body = cc->body;
        if (opts->param)
            cc->opts.param = cc->param;
        else if (opts->path)
            cc->opts.path = cc->param;
        if (opts->file) {
            cc->file = *opts->file;
            cc->file_data = malloc(opts->file->size ? opts->file->size : 1);
            if (cc->file_data)
                memcpy(cc->file_data, opts->file->data, opts->file->size);
            cc->file.data = cc->file_data;
            cc->opts.file = &cc->file;
        }
        if ((opts->json_body && !cc->body) || ((opts->param || opts->path) && !cc->param) ||
            (opts->file && !cc->file_data)) {
            call_ctx_free(cc);
            return -ENOMEM;
        }
    }
    int rc = call_submit(cc);
    if (rc < 0)
        call_ctx_free(cc);
    return rc;
}

