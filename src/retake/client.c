/*
 * client — see client.h. A call owns copies of what it sends, so that a retry long after the
 * caller returned resends the same request; bodies are wiped when the call ends because
 * chat/send carries the token in its JSON.
 */
#include "retake/client.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/event_loop.h"
#include "core/log.h"

static const char *COMPONENT = "retake";

#define DEFAULT_ATTEMPTS 5
#define DEFAULT_TIMEOUT_MS 15000

struct retake_call {
    struct retake_client *client;
    struct retake_call *next, *prev; /* the client's list of calls in flight */
    enum retake_endpoint ep;
    char *url;
    char *json_body;
    size_t json_len;
    struct http_file_part file;
    void *file_data;
    bool has_file;
    int max_attempts, attempt, timeout_ms;
    struct http_call *http;
    struct event_timer *retry_timer;
    retake_done_fn done;
    void *opaque;
};

struct retake_client {
    struct event_loop *loop;
    struct http_client *http;
    char *api_base;
    char *token;
    size_t token_len;
    uint64_t rng;
    struct retake_call *calls;
};

static void wipe_free(char *s, size_t len)
{
    if (s) {
        explicit_bzero(s, len);
        free(s);
    }
}

struct retake_client *retake_client_new(struct event_loop *loop, const char *api_base,
                                        const char *token, const char *ca_file, char *err,
                                        size_t err_size)
{
    struct retake_client *c = calloc(1, sizeof(*c));
    if (!c) {
        snprintf(err, err_size, "out of memory");
        return NULL;
    }
    c->loop = loop;
    c->rng = (uint64_t)clock_now_ns() ^ (uint64_t)(uintptr_t)c;
    c->http = http_client_new(loop);
    c->api_base = strdup(api_base);
    if (token) {
        c->token = strdup(token);
        c->token_len = strlen(token);
    }
    if (!c->http || !c->api_base || (token && !c->token)) {
        snprintf(err, err_size, "out of memory");
        retake_client_free(c);
        return NULL;
    }
    if (http_client_set_token_origin(c->http, api_base, err, err_size) < 0 ||
        (ca_file && http_client_set_ca_file(c->http, ca_file) < 0)) {
        retake_client_free(c);
        return NULL;
    }
    return c;
}

static void call_free(struct retake_call *call)
{
    struct retake_client *c = call->client;
    if (call->prev)
        call->prev->next = call->next;
    else
        c->calls = call->next;
    if (call->next)
        call->next->prev = call->prev;
    event_timer_free(call->retry_timer);
    free(call->url);
    wipe_free(call->json_body, call->json_len);
    free(call->file_data);
    free(call);
}

void retake_call_cancel(struct retake_call *call)
{
    if (!call)
        return;
    http_cancel(call->http);
    call_free(call);
}

void retake_client_free(struct retake_client *c)
{
    if (!c)
        return;
    while (c->calls)
        retake_call_cancel(c->calls);
    http_client_free(c->http);
    free(c->api_base);
    wipe_free(c->token, c->token_len);
    free(c);
}

const char *retake_client_api_base(const struct retake_client *c)
{
    return c->api_base;
}

struct http_client *retake_client_http(struct retake_client *c)
{
    return c->http;
}

static int send_attempt(struct retake_call *call);

static void on_retry_timer(struct event_loop *loop, struct event_timer *t, void *arg)
{
    struct retake_call *call = arg;
    if (send_attempt(call) < 0) {
        struct retake_result res = {.ep = call->ep, .attempts = call->attempt};
        snprintf(res.error, sizeof(res.error), "%s: request could not be sent",
                 retake_endpoint_get(call->ep)->name);
        retake_done_fn done = call->done;
        void *opaque = call->opaque;
        call_free(call);
        done(&res, opaque);
    }
}

static void on_response(struct http_response *resp, void *arg)
{
    struct retake_call *call = arg;
    const char *name = retake_endpoint_get(call->ep)->name;
    call->http = NULL;
    if (call->attempt < call->max_attempts && http_is_retryable(resp->status, resp->curl_code)) {
        uint32_t delay = http_retry_delay_ms((unsigned)call->attempt - 1, &call->client->rng);
        if (resp->status)
            log_warn(COMPONENT, "%s: HTTP %ld, retrying in %u ms (attempt %d of %d)", name,
                     resp->status, delay, call->attempt + 1, call->max_attempts);
        else
            log_warn(COMPONENT, "%s: %s, retrying in %u ms (attempt %d of %d)", name,
                     resp->error_msg, delay, call->attempt + 1, call->max_attempts);
        event_timer_start(call->retry_timer, delay, 0);
        return;
    }
    struct retake_result res = {
        .ep = call->ep,
        .status = resp->status,
        .ok = resp->error == 0 && resp->status >= 200 && resp->status < 300,
        .cls = retake_http_classify(resp->status),
        .body = resp->error == 0 ? resp->body : NULL,
        .len = resp->error == 0 ? resp->body_len : 0,
        .attempts = call->attempt,
    };
    if (resp->error)
        snprintf(res.error, sizeof(res.error), "%s: %s", name, resp->error_msg);
    else if (!res.ok)
        retake_http_error(call->ep, resp->status, resp->body, resp->body_len, res.error,
                          sizeof(res.error));
    retake_done_fn done = call->done;
    void *opaque = call->opaque;
    call_free(call);
    done(&res, opaque);
}

static int send_attempt(struct retake_call *call)
{
    const struct retake_endpoint_info *info = retake_endpoint_get(call->ep);
    struct http_request req = {
        .method = info->method == RETAKE_POST ? "POST" : "GET",
        .url = call->url,
        .json_body = call->json_body,
        .file = call->has_file ? &call->file : NULL,
        .bearer_token = info->auth ? call->client->token : NULL,
        .timeout_ms = call->timeout_ms,
    };
    /* The document shows bodyless POSTs (rtmp, stream/start, …); send them as empty JSON. */
    if (info->method == RETAKE_POST && !req.json_body && !req.file)
        req.json_body = "{}";
    char err[256];
    call->attempt++;
    int rc = http_request(call->client->http, &req, on_response, call, &call->http, err,
                          sizeof(err));
    if (rc < 0)
        log_error(COMPONENT, "%s: %s", info->name, err);
    return rc;
}

static int copy_request(struct retake_call *call, const struct retake_call_options *o)
{
    if (o->json_body) {
        call->json_len = strlen(o->json_body);
        call->json_body = malloc(call->json_len + 1);
        if (!call->json_body)
            return -ENOMEM;
        memcpy(call->json_body, o->json_body, call->json_len + 1);
    }
    if (o->file) {
        call->file = *o->file;
        call->file_data = malloc(o->file->size ? o->file->size : 1);
        if (!call->file_data)
            return -ENOMEM;
        memcpy(call->file_data, o->file->data, o->file->size);
        call->file.data = call->file_data;
        call->has_file = true;
    }
    return 0;
}

int retake_client_call(struct retake_client *c, enum retake_endpoint ep,
                       const struct retake_call_options *opts, retake_done_fn done, void *opaque,
                       struct retake_call **out)
{
    static const struct retake_call_options none = {0};
    const struct retake_call_options *o = opts ? opts : &none;
    const struct retake_endpoint_info *info = retake_endpoint_get(ep);
    if (!info)
        return -EINVAL;
    if (info->auth && !c->token) {
        log_error(COMPONENT, "%s needs an access token", info->name);
        return -EPERM;
    }
    struct retake_call *call = calloc(1, sizeof(*call));
    if (!call)
        return -ENOMEM;
    call->client = c;
    call->next = c->calls;
    if (c->calls)
        c->calls->prev = call;
    c->calls = call;
    call->ep = ep;
    call->done = done;
    call->opaque = opaque;
    call->max_attempts = o->max_attempts > 0 ? o->max_attempts : DEFAULT_ATTEMPTS;
    call->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : DEFAULT_TIMEOUT_MS;
    call->retry_timer = event_timer_new(c->loop, on_retry_timer, call);
    char *path = NULL;
    char err[256] = "";
    int rc = o->path ? ((path = strdup(o->path)) ? 0 : -ENOMEM)
                     : retake_path(ep, o->param, NULL, 0, &path, err, sizeof(err));
    if (rc == 0)
        call->url = retake_url_join(c->api_base, path);
    free(path);
    if (rc == 0 && (!call->url || !call->retry_timer))
        rc = -ENOMEM;
    if (rc == 0)
        rc = copy_request(call, o);
    if (rc == 0)
        rc = send_attempt(call);
    if (rc < 0) {
        if (err[0])
            log_error(COMPONENT, "%s: %s", info->name, err);
        call_free(call);
        return rc;
    }
    if (out)
        *out = call;
    return 0;
}
