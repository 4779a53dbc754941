/*
 * http — the control plane's asynchronous HTTP client: libcurl's multi interface driven by the
 * event loop (core/event_loop.h), so every call is non-blocking and has a deadline (DESIGN.md
 * §2). Used by the retake.tv and ClawCast clients; nothing in the data plane calls it. Every
 * function here is for the loop's thread only (a data-plane thread hands work over with
 * event_loop_post).
 *
 * Security rules enforced here, whatever the caller asks for (DESIGN.md §5, issue 3 §6):
 *  - redirects are never followed: a 3xx comes back to the caller as is;
 *  - only https, and plain http only to a loopback host (localhost, 127.0.0.0/8, ::1);
 *    anything else fails before any name lookup or connection;
 *  - TLS peer and host verification are always on, TLS 1.2 at least (http_client_set_ca_file
 *    replaces the system CA bundle, for tests);
 *  - a Bearer token travels only in http_request.bearer_token, and only to the origin set with
 *    http_client_set_token_origin; an Authorization header in http_request.headers is refused;
 *  - no libcurl verbose or debug output; error messages and log lines never contain the token,
 *    the headers or the query string; our copies of the Authorization header and of the request
 *    body (which may carry a token too) are wiped when the request ends (libcurl's own
 *    transient request buffer is not ours to wipe).
 */
#ifndef AGENTCAST_NET_HTTP_H
#define AGENTCAST_NET_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct event_loop;
struct http_client;
struct http_call;

#define HTTP_DEFAULT_MAX_BODY (4u * 1024 * 1024)
#define HTTP_DEFAULT_TIMEOUT_MS 30000
#define HTTP_DEFAULT_CONNECT_TIMEOUT_MS 10000

/* One file part of a multipart/form-data body, sent from memory. */
struct http_file_part {
    const char *field;        /* form field name, e.g. "image" */
    const char *filename;     /* e.g. "thumbnail.jpg" */
    const char *content_type; /* e.g. "image/jpeg" */
    const void *data;
    size_t size;
};

/* Everything is copied when the request is submitted: the caller may free it right after. */
struct http_request {
    const char *method;                /* "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD" */
    const char *url;                   /* absolute; https, or http to a loopback host */
    const char *const *headers;        /* NULL-terminated "Name: value" list, or NULL */
    const char *json_body;             /* sent as application/json, or NULL */
    const struct http_file_part *file; /* multipart/form-data body, or NULL (not with json_body) */
    const char *bearer_token;          /* sent as "Authorization: Bearer …" (token origin only) */
    int timeout_ms;                    /* whole request, connect included; 0 = default */
    int connect_timeout_ms;            /* 0 = default (capped at timeout_ms) */
    size_t max_body;                   /* larger response bodies fail with -EMSGSIZE; 0 = default */
};

struct http_response {
    /* HTTP status; 0 when no status line arrived. */
    long status;
    /* NUL-terminated (binary-safe with body_len); NULL when error != 0. */
    char *body;
    size_t body_len;
    /* A 3xx's Location, resolved against the request URL (never fetched); else NULL. */
    char *redirect_url;
    /* 0, or a negative errno: -ETIMEDOUT, -ECONNREFUSED, -ECONNRESET (dropped, or closed
     * without a response), -EHOSTUNREACH (name not resolved), -EPROTO (TLS), -EMSGSIZE (body
     * too large), -ENOMEM, -EIO; or what http_request returned for a refused request. */
    int error;
    /* The CURLcode behind error; 0 when libcurl was not involved. */
    int curl_code;
    /* "METHOD scheme://host:port/path: reason"; never the token, the headers or the query. */
    char error_msg[256];
};

/* Called once on the loop thread when a submitted request ends (never for one cancelled with
 * http_cancel or dropped by http_client_free). resp is valid during the call; the callback may
 * take resp->body or resp->redirect_url (set the field to NULL, then free() it later). It may
 * submit or cancel other requests, but must not free the client. */
typedef void (*http_done_fn)(struct http_response *resp, void *arg);

/* Initializes libcurl (once per process) and creates a client on loop. NULL on failure
 * (logged). The loop must outlive the client. */
struct http_client *http_client_new(struct event_loop *loop);
/* Drops every request still in flight without calling their callbacks, then frees. NULL ok.
 * Not from inside an http callback. */
void http_client_free(struct http_client *client);

/* The origin (scheme, host, port) of api_base, e.g. "https://retake.tv/api/v1", is the only
 * one bearer tokens are sent to. Set once: setting the same origin again is a no-op, another
 * one is refused with -EBUSY. -EPERM when api_base breaks the https rule, -EINVAL when it is
 * not a URL; a message for the user in err. */
int http_client_set_token_origin(struct http_client *client, const char *api_base, char *err,
                                 size_t err_size);
/* PEM CA bundle used instead of the system's, for tests with their own CA. Copied. */
int http_client_set_ca_file(struct http_client *client, const char *path);

/* Submits req; cb(resp, arg) runs later on the loop thread. Returns 0 and, when call_out is
 * not NULL, a handle valid until the callback starts or http_cancel; or, without sending
 * anything, a negative errno with the reason in err (which may be NULL): -EPERM for a refused
 * scheme/host or a token for another origin, -EINVAL for a malformed request (bad method,
 * URL, header, token characters, json_body with file, an Authorization header), -ENOMEM. */
int http_request(struct http_client *client, const struct http_request *req, http_done_fn cb,
                 void *arg, struct http_call **call_out, char *err, size_t err_size);

/* Aborts the request (closing its connection if needed); its callback will not run. NULL ok;
 * a no-op once the callback has started. */
void http_cancel(struct http_call *call);

/* Submits req and runs the client's loop until it ends (one-shot CLI commands; not from inside
 * a loop callback). Fills *out (the caller owns it: http_response_clear). Returns 0 when a
 * response arrived, whatever its status, or out->error (policy refusals included, with
 * out->error_msg set); -EINTR if event_loop_stop was called meanwhile. */
int http_perform_sync(struct http_client *client, const struct http_request *req,
                      struct http_response *out);

/* Frees body and redirect_url and zeroes *resp. NULL ok. */
void http_response_clear(struct http_response *resp);

/* --- retry policy: the callers decide when to retry, with these --------------------------- */

/* Delay before retry number attempt (0 = first retry): 500 ms doubling per attempt, with
 * ±20 % jitter, never above 30 s. rng is the caller's generator state (any seed). */
uint32_t http_retry_delay_ms(unsigned attempt, uint64_t *rng);
/* true for what may succeed if repeated: 5xx statuses, timeouts, refused or dropped
 * connections, empty replies and failed name lookups. false for 4xx, TLS/certificate failures,
 * policy refusals and oversized bodies. Pass http_response's status and curl_code (curl_code
 * is non-zero for transport failures, and then wins over the status). */
bool http_is_retryable(long status, int curl_code);

#endif
