/*
 * client — asynchronous calls to the retake.tv API on the control loop, with the document's
 * error handling: 5xx, timeouts and dropped connections are retried with exponential backoff and
 * jitter ("500 Server error — Retry"); every other status is handed to the caller at once with a
 * message from the error table. The bearer token goes only to the API origin (net/http.c
 * enforces it).
 */
#ifndef AGENTCAST_RETAKE_CLIENT_H
#define AGENTCAST_RETAKE_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net/http.h"
#include "retake/api.h"

struct event_loop;
struct retake_client;
struct retake_call;

struct retake_result {
    enum retake_endpoint ep;
    long status;       /* HTTP status of the last attempt; 0 when none arrived */
    bool ok;           /* 2xx */
    enum retake_http_class cls;
    const char *body;  /* the response body (NUL-terminated) when a status arrived; else NULL */
    size_t len;
    int attempts;
    char error[512];   /* when !ok: one line for the user, no secrets */
};

typedef void (*retake_done_fn)(const struct retake_result *res, void *opaque);

struct retake_call_options {
    const char *param;                  /* the ":param" of the endpoint's path, or NULL */
    const char *path;                   /* a full relative path instead (comments), or NULL */
    const char *json_body;              /* copied; its memory may hold the token (chat/send) */
    const struct http_file_part *file;  /* multipart (update-thumbnail); copied */
    int max_attempts;                   /* 0 = 5; 1 = no retry */
    int timeout_ms;                     /* each attempt; 0 = 15000 */
};

/* A client for api_base on loop. token may be NULL for public calls only; it is copied and
 * wiped on free. NULL with a message in err (e.g. http:// to a non-loopback host). */
struct retake_client *retake_client_new(struct event_loop *loop, const char *api_base,
                                        const char *token, const char *ca_file, char *err,
                                        size_t err_size);
/* Cancels every call in flight (their callbacks never run) and frees. NULL ok. */
void retake_client_free(struct retake_client *c);
const char *retake_client_api_base(const struct retake_client *c);
/* The underlying HTTP client (e.g. to fetch skill.json, which is not under api_base). */
struct http_client *retake_client_http(struct retake_client *c);

/* Starts a call; done runs once on the loop thread unless the call is cancelled. Returns 0, or a
 * negative errno (nothing sent) with the reason logged. *call (may be NULL) cancels it. */
int retake_client_call(struct retake_client *c, enum retake_endpoint ep,
                       const struct retake_call_options *opts, retake_done_fn done, void *opaque,
                       struct retake_call **call);
/* Cancels a call; its callback will not run. NULL ok. */
void retake_call_cancel(struct retake_call *call);

#endif
