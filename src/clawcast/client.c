/*
 * client — see client.h. A call owns copies of everything it sends (URL, body, JWT, API key), so
 * that a retry long after the caller returned resends the same request; the secrets are wiped
 * when the call ends.
 */
#include "clawcast/client.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clawcast/api_internal.h"
#include "core/clock.h"
#include "core/event_loop.h"
#include "core/log.h"
#include "net/http.h"

static const char *COMPONENT = "clawcast";

struct clawcast_call {
    struct clawcast_client *client;
    struct clawcast_call *next, *prev; /* the client's calls in flight */
    enum clawcast_endpoint ep;
    char *url;
    char *json_body;
    char *jwt;        /* slot-JWT endpoints */
    int64_t jwt_exp;  /* 0: unknown */
    char *key_header; /* "x-api-key: …" */
    int max_attempts, attempt, timeout_ms;
    struct http_call *http;
    struct event_timer *retry_timer;
    clawcast_done_fn done;
    void *opaque;
};

struct clawcast_client {
    struct event_loop *loop;
    struct http_client *http;
    char *base;
    uint64_t rng;
    struct clawcast_call *calls;
};

static void wipe_free(char *s)
{
    if (s) {
        explicit_bzero(s, strlen(s));
        free(s);
    }
}

struct clawcast_client *clawcast_client_new(struct event_loop *loop, const char *base,
                                            const char *ca_file, char *err, size_t err_size)
{
    struct clawcast_client *c = calloc(1, sizeof(*c));
    if (!c) {
        clawcast_fail(err, err_size, -ENOMEM, "out of memory");
        return NULL;
    }
    c->loop = loop;
    c->rng = (uint64_t)clock_now_ns() ^ (uint64_t)(uintptr_t)c;
    c->http = http_client_new(loop);
    c->base = strdup(base);
    if (!c->http || !c->base) {
        clawcast_fail(err, err_size, -ENOMEM, "out of memory");
        clawcast_client_free(c);
        return NULL;
    }
    /* The JWT is a Bearer token: it may travel only to the base URL's origin. This also
     * applies the https rule (plain http only to loopback). */
    if (http_client_set_token_origin(c->http, base, err, err_size) < 0 ||
        (ca_file && http_client_set_ca_file(c->http, ca_file) < 0 &&
         clawcast_fail(err, err_size, -ENOMEM, "out of memory"))) {
        clawcast_client_free(c);
        return NULL;
    }
    return c;
}

static void call_free(struct clawcast_call *call)
{
    struct clawcast_client *c = call->client;
    if (call->prev)
        call->prev->next = call->next;
    else
        c->calls = call->next;
    if (call->next)
        call->next->prev = call->prev;
    event_timer_free(call->retry_timer);
    free(call->url);
    wipe_free(call->json_body);
    wipe_free(call->jwt);
    wipe_free(call->key_header);
    free(call);
}

void clawcast_call_cancel(struct clawcast_call *call)
{
    if (!call)
        return;
    http_cancel(call->http);
    call_free(call);
}

void clawcast_client_free(struct clawcast_client *c)
{
    if (!c)
        return;
    while (c->calls)
        clawcast_call_cancel(c->calls);
    http_client_free(c->http);
    free(c->base);
    free(c);
}

const char *clawcast_client_base(const struct clawcast_client *c)
{
    return c->base;
}

bool clawcast_client_repeatable(enum clawcast_endpoint ep)
{
    const struct clawcast_endpoint_info *info = clawcast_endpoint_get(ep);
    if (!info)
        return false;
    /* A repeated delta frame shows its lines twice at worst; a repeated endSlot is a 409. */
    return info->method == CLAWCAST_GET || ep == CLAWCAST_EP_PUBLISH_FRAME ||
           ep == CLAWCAST_EP_END_SLOT;
}

int clawcast_api_key_check(const char *key, char *err, size_t err_size)
{
    size_t n = key ? strlen(key) : 0;
    if (n == 0)
        return clawcast_fail(err, err_size, -EINVAL, "API key: empty");
    if (n > CLAWCAST_API_KEY_MAX)
        return clawcast_fail(err, err_size, -EINVAL, "API key: %zu bytes, at most %d", n,
                             CLAWCAST_API_KEY_MAX);
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)key[i] <= ' ' || (unsigned char)key[i] >= 0x7f)
            return clawcast_fail(err, err_size, -EINVAL,
                                 "API key: byte %zu is not a printable ASCII character (spaces "
                                 "and line breaks are not allowed)",
                                 i + 1);
    return 0;
}

/* The JWT's expiry, checked before each attempt: "no call with an expired JWT". */
static int jwt_check(const struct clawcast_call *call, char *err, size_t err_size)
{
    if (!call->jwt)
        return 0;
    struct clawcast_slot_state probe = {.exp = call->jwt_exp};
    probe.slot_jwt[0] = 'x';
    return clawcast_state_check_usable(&probe, (int64_t)time(NULL), err, err_size);
}

static void finish(struct clawcast_call *call, struct clawcast_result *res)
{
    clawcast_done_fn done = call->done;
    void *opaque = call->opaque;
    res->ep = call->ep;
    res->attempts = call->attempt;
    call_free(call);
    done(res, opaque);
}

static int send_attempt(struct clawcast_call *call, char *err, size_t err_size);

static void on_retry_timer(struct event_loop *loop, struct event_timer *t, void *arg)
{
    struct clawcast_call *call = arg;
    struct clawcast_result res = {0};
    int rc = send_attempt(call, res.message, sizeof(res.message));
    if (rc < 0) {
        res.error = rc;
        finish(call, &res);
    }
}

/* Whether the failed attempt may be repeated: 5xx always; transport failures when the call is
 * repeatable or nothing can have reached the server. */
static bool may_retry(const struct clawcast_call *call, const struct http_response *r)
{
    if (!http_is_retryable(r->status, r->curl_code))
        return false;
    if (r->curl_code == 0 || clawcast_client_repeatable(call->ep))
        return true;
    return r->curl_code == CURLE_COULDNT_CONNECT || r->curl_code == CURLE_COULDNT_RESOLVE_HOST;
}

static void on_response(struct http_response *resp, void *arg)
{
    struct clawcast_call *call = arg;
    const char *name = clawcast_endpoint_get(call->ep)->name;
    call->http = NULL;
    if (call->attempt < call->max_attempts && may_retry(call, resp)) {
        uint32_t delay = http_retry_delay_ms((unsigned)call->attempt - 1, &call->client->rng);
        char what[300];
        if (resp->status)
            snprintf(what, sizeof(what), "HTTP %ld", resp->status);
        else
            snprintf(what, sizeof(what), "%s", resp->error_msg);
        log_warn(COMPONENT, "%s: %s, retrying in %u ms (attempt %d of %d)", name, what, delay,
                 call->attempt + 1, call->max_attempts);
        event_timer_start(call->retry_timer, delay, 0);
        return;
    }
    struct clawcast_result res = {
        .status = resp->status,
        .ok = resp->error == 0 && resp->status >= 200 && resp->status < 300,
        .cls = clawcast_http_classify(resp->status),
        .body = resp->error == 0 ? resp->body : NULL,
        .len = resp->error == 0 ? resp->body_len : 0,
        .error = resp->error,
    };
    if (resp->error)
        snprintf(res.message, sizeof(res.message), "%s: %s", name, resp->error_msg);
    else if (resp->status >= 300 && resp->status < 400)
        snprintf(res.message, sizeof(res.message), "%s: HTTP %ld redirect, not followed", name,
                 resp->status);
    else if (!res.ok)
        clawcast_http_error(call->ep, resp->status, resp->body, resp->body_len, res.message,
                            sizeof(res.message));
    if (!res.ok && call->attempt > 1) {
        size_t n = strlen(res.message);
        snprintf(res.message + n, sizeof(res.message) - n, " (after %d attempts)", call->attempt);
    }
    finish(call, &res);
}

static int send_attempt(struct clawcast_call *call, char *err, size_t err_size)
{
    const struct clawcast_endpoint_info *info = clawcast_endpoint_get(call->ep);
    int rc = jwt_check(call, err, err_size);
    if (rc < 0)
        return rc;
    const char *headers[2] = {call->key_header, NULL};
    struct http_request req = {
        .method = info->method == CLAWCAST_POST ? "POST" : "GET",
        .url = call->url,
        .headers = call->key_header ? headers : NULL,
        .json_body = call->json_body,
        .bearer_token = call->jwt,
        .timeout_ms = call->timeout_ms,
    };
    call->attempt++;
    char herr[256];
    rc = http_request(call->client->http, &req, on_response, call, &call->http, herr, sizeof(herr));
    if (rc < 0)
        clawcast_fail(err, err_size, rc, "%s: %s", info->name, herr);
    return rc;
}

static char *join_url(const char *base, enum clawcast_endpoint ep, const char *query)
{
    char *url = clawcast_url(base, ep);
    if (!url || !query)
        return url;
    size_t n = strlen(url), q = strlen(query);
    char *s = realloc(url, n + q + 2);
    if (!s) {
        free(url);
        return NULL;
    }
    s[n] = '?';
    memcpy(s + n + 1, query, q + 1);
    return s;
}

/* Copies what the call sends. 0 or a negative errno with err. */
static int prepare(struct clawcast_call *call, const struct clawcast_endpoint_info *info,
                   const struct clawcast_call_options *o, char *err, size_t err_size)
{
    if (info->auth == CLAWCAST_AUTH_SLOT_JWT) {
        if (!o->slot || !o->slot->slot_jwt[0])
            return clawcast_fail(err, err_size, o->slot ? -ENOENT : -EINVAL,
                                 "%s needs the slot JWT — book a slot first", info->name);
        call->jwt = strdup(o->slot->slot_jwt);
        call->jwt_exp = o->slot->exp;
        if (!call->jwt)
            return clawcast_fail(err, err_size, -ENOMEM, "out of memory");
    }
    if (o->api_key && info->auth == CLAWCAST_AUTH_API_KEY) {
        int rc = clawcast_api_key_check(o->api_key, err, err_size);
        if (rc < 0)
            return rc;
        size_t n = strlen(CLAWCAST_API_KEY_HEADER ": ") + strlen(o->api_key) + 1;
        call->key_header = malloc(n);
        if (!call->key_header)
            return clawcast_fail(err, err_size, -ENOMEM, "out of memory");
        snprintf(call->key_header, n, "%s: %s", CLAWCAST_API_KEY_HEADER, o->api_key);
    }
    if (info->json_body && !o->json_body)
        return clawcast_fail(err, err_size, -EINVAL, "%s needs a JSON body", info->name);
    /* endSlot is a POST without a body in the document; send an empty object. */
    const char *body = o->json_body ? o->json_body : info->method == CLAWCAST_POST ? "{}" : NULL;
    if (body && !(call->json_body = strdup(body)))
        return clawcast_fail(err, err_size, -ENOMEM, "out of memory");
    call->url = join_url(call->client->base, call->ep, o->query);
    if (!call->url)
        return clawcast_fail(err, err_size, -ENOMEM, "out of memory");
    return 0;
}

int clawcast_client_call(struct clawcast_client *c, enum clawcast_endpoint ep,
                         const struct clawcast_call_options *opts, clawcast_done_fn done,
                         void *opaque, struct clawcast_call **out, char *err, size_t err_size)
{
    static const struct clawcast_call_options none = {0};
    const struct clawcast_call_options *o = opts ? opts : &none;
    const struct clawcast_endpoint_info *info = clawcast_endpoint_get(ep);
    if (out)
        *out = NULL;
    if (!info || !done)
        return clawcast_fail(err, err_size, -EINVAL, "invalid ClawCast call");
    struct clawcast_call *call = calloc(1, sizeof(*call));
    if (!call)
        return clawcast_fail(err, err_size, -ENOMEM, "out of memory");
    call->client = c;
    call->next = c->calls;
    if (c->calls)
        c->calls->prev = call;
    c->calls = call;
    call->ep = ep;
    call->done = done;
    call->opaque = opaque;
    call->max_attempts = o->max_attempts > 0 ? o->max_attempts : CLAWCAST_CLIENT_ATTEMPTS;
    call->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : CLAWCAST_CLIENT_TIMEOUT_MS;
    call->retry_timer = event_timer_new(c->loop, on_retry_timer, call);
    int rc = call->retry_timer ? prepare(call, info, o, err, err_size)
                               : clawcast_fail(err, err_size, -ENOMEM, "out of memory");
    if (rc == 0)
        rc = send_attempt(call, err, err_size);
    if (rc < 0) {
        call_free(call);
        return rc;
    }
    if (out)
        *out = call;
    return 0;
}
