/*
 * live_hooks — the processes a live session runs for the user: --notify on live / recovered /
 * failed, and (through live_spawn) --on-chat. Each is tracked so that the session ends only
 * after its hooks did, killing the ones still running a moment after the stream stopped.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "core/child.h"
#include "core/log.h"
#include "retake/live_internal.h"

static const char *COMPONENT = "live";

/* ---- --notify ------------------------------------------------------------------------------ */

static void on_notify_done(const struct child_result *res, void *opaque)
{
    if (res->exit_code != 0)
        log_warn(COMPONENT, "--notify command ended with %s %d",
                 res->timed_out ? "a timeout, signal" : "exit code",
                 res->timed_out ? res->signal : res->exit_code);
}

static const char *const scrub_env[] = {"RETAKE_ACCESS_TOKEN", NULL};

void live_notify(struct live *l, const char *event, const char *reason)
{
    if (!l->o->notify)
        return;
    cJSON *j = cJSON_CreateObject();
    if (!j)
        return;
    cJSON_AddStringToObject(j, "event", event);
    cJSON_AddStringToObject(j, "url", l->watch_url);
    cJSON_AddStringToObject(j, "agent", l->cred->agent_name);
    if (l->viewers >= 0)
        cJSON_AddNumberToObject(j, "viewers", (double)l->viewers);
    else
        cJSON_AddNullToObject(j, "viewers");
    static const char *const names[] = {"starting", "waiting", "live", "recovering", "stopping"};
    cJSON_AddStringToObject(j, "state", names[l->state]);
    if (reason)
        cJSON_AddStringToObject(j, "reason", reason);
    char *text = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    if (!text)
        return;
    struct child_options co = {
        .command = l->o->notify,
        .input = text,
        .input_len = strlen(text),
        .timeout_ms = l->o->hook_timeout_ms,
        .max_out = 1024,
        .scrub_env = scrub_env,
    };
    if (live_spawn(l, &co, on_notify_done, l) < 0)
        log_warn(COMPONENT, "--notify command could not be started");
    free(text);
}

/* ---- hook processes ------------------------------------------------------------------------- */

struct live_kid {
    struct live *l;
    struct live_kid *next;
    struct child *child;
    child_done_fn done;
    void *opaque;
};

static void on_kid_done(const struct child_result *res, void *opaque)
{
    struct live_kid *k = opaque;
    struct live *l = k->l;
    for (struct live_kid **pp = &l->kids; *pp; pp = &(*pp)->next) {
        if (*pp == k) {
            *pp = k->next;
            break;
        }
    }
    k->done(res, k->opaque);
    free(k);
    if (l->state == LIVE_STOPPING)
        live_finish_if_done(l);
}

int live_spawn(struct live *l, const struct child_options *co, child_done_fn done, void *opaque)
{
    struct live_kid *k = calloc(1, sizeof(*k));
    if (!k)
        return -ENOMEM;
    *k = (struct live_kid){.l = l, .done = done, .opaque = opaque};
    int rc = child_start(l->loop, co, on_kid_done, k, &k->child);
    if (rc < 0) {
        free(k);
        return rc;
    }
    k->next = l->kids;
    l->kids = k;
    return 0;
}

/* Hooks still running a moment after the stream stopped are killed: the session must end. */
void live_on_grace_timer(struct event_loop *loop, struct event_timer *t, void *arg)
{
    struct live *l = arg;
    for (struct live_kid *k = l->kids; k; k = k->next)
        child_kill(k->child);
}

