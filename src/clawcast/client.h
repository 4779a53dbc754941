/*
 * client — asynchronous calls to the ClawCast.tv API (seeds/clawcast.md) on the control loop,
 * over net/http (libcurl multi: never follows redirects, https except to loopback hosts).
 * Sits between the pure layer (api.h: endpoint table, bodies, parsers, error meanings) and its
 * users (the `agentcast clawcast` commands, the mirror).
 *
 * - 5xx, timeouts and dropped connections are retried with exponential backoff and jitter
 *   (http_retry_delay_ms). Calls that must not take effect twice (bookSlot, publishBatch, vote,
 *   chat and the duet steps) are repeated after a timeout or a dropped connection only when the
 *   request cannot have reached the server (connection refused, name not resolved); a 5xx is
 *   repeated for every call. Every other status goes to the caller at once with the document's
 *   meaning (clawcast_http_error): 401 on bookSlot is "this name is claimed: pass
 *   --api-key-file", 409 on publishFrame a batch active or a slot not live yet, and so on.
 * - No call is made with an expired JWT: before every attempt of a slot-JWT endpoint the slot's
 *   exp is checked (clawcast_state_check_usable); an expired JWT fails the call with
 *   -EKEYEXPIRED and nothing is sent.
 * - The slot JWT goes only to the base URL's origin as a Bearer token (net/http enforces it);
 *   the API key only in bookSlot's x-api-key header. Both are copied and wiped when the call
 *   ends, and appear in no message.
 */
#ifndef AGENTCAST_CLAWCAST_CLIENT_H
#define AGENTCAST_CLAWCAST_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "clawcast/api.h"
#include "clawcast/state.h"

struct event_loop;
struct clawcast_client;
struct clawcast_call;

#define CLAWCAST_CLIENT_ATTEMPTS 4
#define CLAWCAST_CLIENT_TIMEOUT_MS 15000
#define CLAWCAST_API_KEY_MAX 512

struct clawcast_result {
    enum clawcast_endpoint ep;
    long status; /* HTTP status of the last attempt; 0 when none arrived */
    bool ok;     /* 2xx */
    enum clawcast_http_class cls;
    const char *body; /* the response body (NUL-terminated) when a status arrived; else NULL */
    size_t len;
    int attempts;
    /* 0 when a status arrived; else why not: -EKEYEXPIRED (the JWT expired before an attempt:
     * nothing sent), or the transport's negative errno (-ETIMEDOUT, -ECONNREFUSED, …). */
    int error;
    char message[512]; /* when !ok: one line for the user, no secrets */
};

/* Runs once on the loop thread unless the call is cancelled. res is valid during the call. */
typedef void (*clawcast_done_fn)(const struct clawcast_result *res, void *opaque);

struct clawcast_call_options {
    const char *json_body; /* copied (wiped at the end); endpoints with a JSON body need one */
    const char *query;     /* appended after '?' (e.g. "poll_id=…"), or NULL; copied */
    /* Slot-JWT endpoints: the booking whose JWT authenticates the call. Copied: the caller may
     * free it at once. Its exp is checked before every attempt. */
    const struct clawcast_slot_state *slot;
    const char *api_key; /* bookSlot: sent as x-api-key (copied, wiped); NULL: none */
    int max_attempts;    /* 0 = CLAWCAST_CLIENT_ATTEMPTS; 1 = no retry */
    int timeout_ms;      /* each attempt; 0 = CLAWCAST_CLIENT_TIMEOUT_MS */
};

/* A client for base (e.g. "https://tvterminal.com"; plain http only to loopback hosts) on loop.
 * ca_file (may be NULL) replaces the system CA bundle. NULL with a message in err. */
struct clawcast_client *clawcast_client_new(struct event_loop *loop, const char *base,
                                            const char *ca_file, char *err, size_t err_size);
/* Cancels every call in flight (their callbacks never run) and frees. NULL ok. */
void clawcast_client_free(struct clawcast_client *c);
const char *clawcast_client_base(const struct clawcast_client *c);

/* Starts a call; done runs once on the loop thread unless it is cancelled. Returns 0, or a
 * negative errno with the reason in err and nothing sent: -EINVAL (bad endpoint, no slot for a
 * JWT endpoint, an API key with forbidden characters), -EKEYEXPIRED (the slot's JWT has
 * expired), -ENOENT (no JWT), -EPERM (refused URL), -ENOMEM. *call (may be NULL) cancels it. */
int clawcast_client_call(struct clawcast_client *c, enum clawcast_endpoint ep,
                         const struct clawcast_call_options *opts, clawcast_done_fn done,
                         void *opaque, struct clawcast_call **call, char *err, size_t err_size);
/* Cancels a call; its callback will not run. NULL ok. */
void clawcast_call_cancel(struct clawcast_call *call);

/* Whether ep may be sent again after a timeout or a dropped connection (the first attempt may
 * have taken effect): the GETs, publishFrame and endSlot. */
bool clawcast_client_repeatable(enum clawcast_endpoint ep);

/* Checks an API key for use in a header: 1–CLAWCAST_API_KEY_MAX printable ASCII characters
 * without spaces. 0 or -EINVAL with err (which never quotes the key). */
int clawcast_api_key_check(const char *key, char *err, size_t err_size);

#endif
