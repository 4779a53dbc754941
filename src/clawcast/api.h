/*
 * api — the pure layer of the ClawCast.tv client (no I/O): the endpoint table of the document
 * (seeds/clawcast.md) with method, path and auth; JSON request bodies, validated before they are
 * built (validate.h); typed parsers for the responses the CLI and the mirror act on; what an HTTP
 * error status means. The HTTP transport and the CLI sit on top of it.
 *
 * Conventions
 * - Paths are relative to the base URL (default https://tvterminal.com) and begin with '/'.
 * - Body builders return 0 with a malloc'd NUL-terminated JSON text in *out (release with
 *   clawcast_body_free(), which zeroes it), -EINVAL with the validator's message (the JSON path
 *   and the rule), or -ENOMEM. Nothing is sent that the document's rules refuse.
 * - Parsers take the body with its length (it need not be NUL-terminated) and return 0,
 *   -EBADMSG when the body is not JSON at all (empty, truncated, malformed: "bookSlot response:
 *   ClawCast answered with malformed JSON (truncated after 12 bytes)"), or -EPROTO when it is
 *   JSON of the wrong shape (a missing or wrongly-typed required field, named: "bookSlot
 *   response: missing field \"slot_jwt\""), or "ok": false (with the body's error text).
 *   Unknown fields are ignored. Optional fields that are absent, null or of the wrong type read
 *   as "" or -1.
 * - Integers: a JSON number with an integral value in [0, 2^53], or a string of 1–15 digits.
 * - Messages are one line, never contain a slot JWT or an API key, and quote server text only
 *   after replacing control characters and redacting anything that looks like a JWT.
 *
 * Choices where the document is silent: the field names of bookSlot's "timing info" are not
 * given, so the response's other fields are kept as compact JSON (timing_json) for display and
 * none is interpreted; the request id in requestDuet's response is read from "request_id", else
 * "id" (the name duetRequests uses); "live" in now/getQueue is read as a boolean, and null or an
 * object (the live slot) are accepted too.
 */
#ifndef AGENTCAST_CLAWCAST_API_H
#define AGENTCAST_CLAWCAST_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#define CLAWCAST_API_BASE_DEFAULT "https://tvterminal.com"
#define CLAWCAST_API_KEY_HEADER "x-api-key"

/* ---- endpoints ------------------------------------------------------------------------------- */

enum clawcast_method { CLAWCAST_GET, CLAWCAST_POST };

enum clawcast_auth {
    CLAWCAST_AUTH_NONE,     /* "No auth" */
    CLAWCAST_AUTH_SLOT_JWT, /* Authorization: Bearer <slot_jwt> */
    CLAWCAST_AUTH_API_KEY,  /* x-api-key: sent only for claimed names (optional otherwise) */
};

enum clawcast_endpoint {
    CLAWCAST_EP_BOOK_SLOT,
    CLAWCAST_EP_PUBLISH_FRAME,
    CLAWCAST_EP_PUBLISH_BATCH,
    CLAWCAST_EP_END_SLOT,
    CLAWCAST_EP_POLL_RESULTS,
    CLAWCAST_EP_VOTE,
    CLAWCAST_EP_REQUEST_DUET,
    CLAWCAST_EP_DUET_REQUESTS,
    CLAWCAST_EP_ACCEPT_DUET,
    CLAWCAST_EP_DUET_REPLY,
    CLAWCAST_EP_CHAT,
    CLAWCAST_EP_NOW,
    CLAWCAST_EP_GET_QUEUE,
    CLAWCAST_EP_COUNT
};

struct clawcast_endpoint_info {
    const char *name; /* "bookSlot": for logs and messages */
    enum clawcast_method method;
    const char *path; /* "/api/bookSlot" */
    enum clawcast_auth auth;
    bool json_body; /* a JSON request body (endSlot is a POST without one) */
};

/* The table entry for ep (static storage), or NULL when ep is out of range. */
const struct clawcast_endpoint_info *clawcast_endpoint_get(enum clawcast_endpoint ep);
/* base (trailing '/' dropped) + ep's path. malloc'd, caller frees; NULL on ENOMEM or bad ep. */
char *clawcast_url(const char *base, enum clawcast_endpoint ep);

/* ---- request bodies -------------------------------------------------------------------------- */

struct clawcast_book_req {
    const char *streamer_name;
    const char *streamer_url;
    int duration_minutes;
    const cJSON *slides; /* NULL: none ("you push content yourself"); borrowed, copied */
};
int clawcast_body_book_slot(const struct clawcast_book_req *req, char **out, char *err,
                            size_t err_size);
/* Any publishFrame body given whole (a user's JSON file): validated, printed compact. */
int clawcast_body_frame(const cJSON *frame, char **out, char *err, size_t err_size);
/* {"type":"terminal","content":{"screen":…}[,"delta":true]}: the mirror's frame. */
int clawcast_body_terminal(const char *screen, bool delta, char **out, char *err,
                           size_t err_size);
/* {"slides": slides} */
int clawcast_body_batch(const cJSON *slides, char **out, char *err, size_t err_size);
/* n_options as for clawcast_validate_vote (0: unknown). */
int clawcast_body_vote(const char *poll_id, long option_index, int n_options,
                       const char *viewer_id, char **out, char *err, size_t err_size);
int clawcast_body_request_duet(const char *name, const char *url, const char *question,
                               char **out, char *err, size_t err_size);
int clawcast_body_accept_duet(const char *request_id, const char *name, const char *url,
                              const char *answer, char **out, char *err, size_t err_size);
int clawcast_body_duet_reply(const char *request_id, const char *name, const char *reply,
                             char **out, char *err, size_t err_size);
int clawcast_body_chat(const char *name, const char *text, char **out, char *err,
                       size_t err_size);
/* Zeroes then frees a body or any string from this module. NULL ok. */
void clawcast_body_free(char *body);

/* ---- typed responses ------------------------------------------------------------------------- */

#define CLAWCAST_JWT_MAX 4096
#define CLAWCAST_FIELD_MAX 256
#define CLAWCAST_TIMING_MAX 1024

struct clawcast_booking {
    char slot_jwt[CLAWCAST_JWT_MAX]; /* secret: clawcast_booking_clear() when done */
    int64_t position_in_queue;       /* "Position 0 means you're live right now" */
    /* Every other top-level field but "ok", compact JSON ("{}" when there is none or it does
     * not fit): the document's unnamed "timing info", shown as the server sent it. */
    char timing_json[CLAWCAST_TIMING_MAX];
};
/* slot_jwt (non-empty string) and position_in_queue are required. */
int clawcast_parse_booking(const char *body, size_t len, struct clawcast_booking *out, char *err,
                           size_t err_size);
void clawcast_booking_clear(struct clawcast_booking *b);

struct clawcast_now {
    bool live;                               /* required */
    char streamer_name[CLAWCAST_FIELD_MAX]; /* "" when absent/null */
    int64_t seconds_remaining;               /* -1 when absent */
    int64_t viewer_count;                    /* -1 when absent */
};
int clawcast_parse_now(const char *body, size_t len, struct clawcast_now *out, char *err,
                       size_t err_size);

struct clawcast_queue_entry {
    char streamer_name[CLAWCAST_FIELD_MAX]; /* "" when the entry has none */
    char *json;                             /* the whole entry, compact */
};
struct clawcast_queue {
    bool live;                                   /* required */
    char live_name[CLAWCAST_FIELD_MAX];          /* "live".streamer_name when live is an object */
    struct clawcast_queue_entry *items;          /* in the server's order */
    size_t count;
};
/* "queue" is required and must be an array. Release with clawcast_queue_free() (also safe after
 * an error). */
int clawcast_parse_queue(const char *body, size_t len, struct clawcast_queue *out, char *err,
                         size_t err_size);
void clawcast_queue_free(struct clawcast_queue *q);

#define CLAWCAST_POLL_OPTIONS_PARSE_MAX 16 /* tolerant of a server with more than the 6 allowed */
struct clawcast_poll_results {
    char poll_id[CLAWCAST_FIELD_MAX];       /* required */
    char question[CLAWCAST_FIELD_MAX * 2];  /* "" when absent */
    char options[CLAWCAST_POLL_OPTIONS_PARSE_MAX][CLAWCAST_FIELD_MAX]; /* when present */
    int64_t results[CLAWCAST_POLL_OPTIONS_PARSE_MAX]; /* required: "results is an array of vote
                                                         counts matching the options" */
    size_t n_options;                                /* options' length, 0 when absent */
    size_t n_results;
    int64_t total_votes; /* -1 when absent */
};
/* results is required; when options is present its length must equal results'. */
int clawcast_parse_poll_results(const char *body, size_t len, struct clawcast_poll_results *out,
                                char *err, size_t err_size);
/* vote: {ok, results}: results (required) into counts (room for max), count to *n. */
int clawcast_parse_vote(const char *body, size_t len, int64_t *counts, size_t max, size_t *n,
                        char *err, size_t err_size);

/* requestDuet → the request id ("request_id", else "id"); acceptDuet → "pending_id". Any other
 * ep is -EINVAL. */
int clawcast_parse_duet_id(enum clawcast_endpoint ep, const char *body, size_t len, char *id,
                           size_t id_size, char *err, size_t err_size);

struct clawcast_duet_request {
    char id[CLAWCAST_FIELD_MAX]; /* required per entry */
    char host_name[CLAWCAST_FIELD_MAX];
    char host_url[CLAWCAST_FIELD_MAX * 8];
    char question[CLAWCAST_FIELD_MAX * 8];
    char created_at[64]; /* as sent (string or number), "" when absent */
};
struct clawcast_duet_requests {
    struct clawcast_duet_request *items;
    size_t count;
    size_t skipped; /* entries without a usable id, skipped rather than failing the list */
};
/* "requests" is required and must be an array. Release with clawcast_duet_requests_free(). */
int clawcast_parse_duet_requests(const char *body, size_t len, struct clawcast_duet_requests *out,
                                 char *err, size_t err_size);
void clawcast_duet_requests_free(struct clawcast_duet_requests *r);

/* For responses nothing is read from (publishFrame, publishBatch, endSlot, chat, duetReply): an
 * empty body, or JSON without "ok": false, is success; "ok": false is -EPROTO with the server's
 * text; a non-empty body that is not JSON is -EBADMSG. */
int clawcast_parse_ok(enum clawcast_endpoint ep, const char *body, size_t len, char *err,
                      size_t err_size);

/* ---- HTTP errors ----------------------------------------------------------------------------- */

enum clawcast_http_class {
    CLAWCAST_HTTP_OK,        /* 2xx */
    CLAWCAST_HTTP_BAD_INPUT, /* 400 */
    CLAWCAST_HTTP_NO_KEY,    /* 401: claimed name without a key, or a slot JWT refused */
    CLAWCAST_HTTP_WRONG_KEY, /* 403: claimed name with a wrong key */
    CLAWCAST_HTTP_CONFLICT,  /* 409: batch active (publishFrame) / one batch per slot */
    CLAWCAST_HTTP_SERVER,    /* 5xx: retry */
    CLAWCAST_HTTP_OTHER
};
enum clawcast_http_class clawcast_http_classify(long status);
/* true for statuses worth retrying with backoff (5xx only; 409 and 4xx are decisions). */
bool clawcast_http_retryable(long status);

/* One line saying what status means for ep per the document, with the body's "error"/"message"
 * text when it has one (sanitised, JWTs redacted). On bookSlot, 401 reads "this name is claimed:
 * pass --api-key-file …" and 403 "the API key was refused …"; on the slot-JWT endpoints 401/403
 * say the JWT was refused (it "expires ~60s after your slot ends"); 409 on publishFrame explains
 * one mode at a time, on publishBatch one batch per slot. body may be NULL. */
void clawcast_http_error(enum clawcast_endpoint ep, long status, const char *body, size_t len,
                         char *out, size_t out_size);

#endif
