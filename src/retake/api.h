/*
 * api — the pure layer of the retake.tv client (no I/O): the endpoint table of the skill document
 * (retake-skill.md v2.1.2, sections 1–3 and 5) with method, path and auth; JSON request bodies;
 * typed parsers for the responses the go-live sequence acts on; what an HTTP error status means;
 * which chat comments are new. The HTTP transport (libcurl multi in the control loop) and the
 * go-live state machine sit on top of it.
 *
 * Conventions
 * - Paths are relative to the API base (default https://retake.tv/api/v1) and begin with '/';
 *   retake_url_join() glues them on. Path parameters and query values are percent-escaped.
 * - Parsers take the body with its length (it need not be NUL-terminated) and return 0,
 *   -EBADMSG when the body is not JSON at all (empty, truncated, malformed: "retake.tv answered
 *   with malformed JSON (…)"), or -EPROTO when it is JSON of the wrong shape: a missing or
 *   wrongly-typed required field ("rtmp response: missing field \"key\""), an empty required
 *   string, a value too long for its buffer. Unknown fields are ignored. An optional field that
 *   is null or of the wrong type counts as absent (strings "", integers -1).
 * - Integers: the document shows ints; a JSON number with an integral value in [0, 2^53] is
 *   accepted, and so is a string of 1–15 decimal digits ("42"), since JavaScript back ends often
 *   send counts as strings. Anything else (negative, fractional, "12abc") is a wrong type.
 * - Messages (err) are one line, never contain the access token, and quote server text only
 *   after replacing control characters.
 * - Bodies that hold the access token (chat/send) are built without copies of the token left in
 *   freed heap memory; every body is released with retake_body_free(), which zeroes it first.
 *   Never log a body.
 */
#ifndef AGENTCAST_RETAKE_API_H
#define AGENTCAST_RETAKE_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cjson/cJSON.h>

#define RETAKE_API_BASE_DEFAULT "https://retake.tv/api/v1"
#define RETAKE_SKILL_VERSION "2.1.2"  /* the document version agentcast follows */
#define RETAKE_COMMENTS_LIMIT_MAX 100 /* "limit: Max messages (default 50, max 100)" */

/* ---- endpoints ------------------------------------------------------------------------------- */

enum retake_method { RETAKE_GET, RETAKE_POST };
enum retake_body_kind { RETAKE_BODY_NONE, RETAKE_BODY_JSON, RETAKE_BODY_MULTIPART };

enum retake_endpoint {
    /* agent (Authorization: Bearer, except chat/send which carries the token in its body) */
    RETAKE_EP_REGISTER,
    RETAKE_EP_PREPARE_VERIFY,
    RETAKE_EP_VERIFY,
    RETAKE_EP_VERIFICATION_STATUS,
    RETAKE_EP_RTMP,
    RETAKE_EP_STREAM_START,
    RETAKE_EP_STREAM_STATUS,
    RETAKE_EP_UPDATE_THUMBNAIL,
    RETAKE_EP_STREAM_STOP,
    RETAKE_EP_CHAT_SEND,
    RETAKE_EP_COMMENTS,
    /* public (no auth) */
    RETAKE_EP_USERS_SEARCH,
    RETAKE_EP_USERS_LIVE,
    RETAKE_EP_USERS_NEWEST,
    RETAKE_EP_USERS_METADATA,
    RETAKE_EP_USERS_STREAMER,
    RETAKE_EP_SESSIONS_ACTIVE,
    RETAKE_EP_SESSIONS_ACTIVE_STREAMER,
    RETAKE_EP_SESSIONS_RECORDED,
    RETAKE_EP_SESSIONS_RECORDED_STREAMER,
    RETAKE_EP_SESSIONS_SCHEDULED,
    RETAKE_EP_SESSIONS_SCHEDULED_STREAMER,
    RETAKE_EP_SESSION_JOIN,
    RETAKE_EP_TOKENS_TOP,
    RETAKE_EP_TOKENS_TRENDING,
    RETAKE_EP_TOKEN_STATS,
    RETAKE_EP_TRADES_RECENT,
    RETAKE_EP_TRADES_RECENT_TOKEN,
    RETAKE_EP_TRADES_TOP_VOLUME,
    RETAKE_EP_TRADES_TOP_COUNT,
    RETAKE_EP_CHAT,
    RETAKE_EP_CHAT_TOP_TIPPERS,
    RETAKE_EP_COUNT
};

struct retake_endpoint_info {
    const char *name; /* the path without its leading '/': "agent/rtmp", "users/live/",
                         "users/search/:query" — for logs and messages */
    enum retake_method method;
    const char *path; /* template relative to the API base; at most one ":param" segment */
    bool auth;        /* send Authorization: Bearer <access_token> */
    enum retake_body_kind body;
    const char *multipart_field; /* "image" for update-thumbnail, else NULL */
    const char *query[4];        /* the query parameters the document names, NULL-terminated */
};

/* The table entry for ep (static storage), or NULL when ep is out of range. */
const struct retake_endpoint_info *retake_endpoint_get(enum retake_endpoint ep);

struct retake_query {
    const char *name;
    const char *value; /* NULL: parameter left out */
};

/* Builds the path of ep: param replaces the ":param" segment (required exactly when the template
 * has one; must be non-empty and not "." or ".."), query values are appended in the order given
 * (only names the document lists for ep). *out is malloc'd, caller frees. 0, -EINVAL with err,
 * or -ENOMEM. */
int retake_path(enum retake_endpoint ep, const char *param, const struct retake_query *query,
                size_t n_query, char **out, char *err, size_t err_size);
/* agent/stream/comments?userDbId=…&limit=…[&beforeId=…]; limit 1–100. Same contract. */
int retake_comments_path(const char *user_db_id, int limit, const char *before_id, char **out,
                         char *err, size_t err_size);
/* Percent-escapes every byte of in except A–Z a–z 0–9 - . _ ~ into out (NUL-terminated).
 * Returns the length, or -ENOSPC. */
int retake_url_escape(const char *in, char *out, size_t out_size);
/* api_base (a trailing '/' is dropped) + path. malloc'd, caller frees; NULL on ENOMEM. */
char *retake_url_join(const char *api_base, const char *path);
/* "scheme://host[:port]/skill.json" of api_base's origin ("https://retake.tv/skill.json" for the
 * default). 0, or -EINVAL / -ENOSPC. */
int retake_skill_json_url(const char *api_base, char *out, size_t out_size);

/* ---- request bodies (malloc'd JSON; release with retake_body_free; NULL on ENOMEM) ----------- */

struct retake_register_req {
    const char *agent_name;
    const char *agent_description;
    const char *image_url;
    const char *wallet_address;
    const char *ticker;
};

char *retake_body_register(const struct retake_register_req *req);
char *retake_body_verify(const char *tweet_url);
/* {"message","destination_user_id","access_token"} as the document shows. Holds the token. */
char *retake_body_chat_send(const char *message, const char *destination_user_id,
                            const char *access_token);
/* Zeroes then frees a body (or any string from this module documented as secret). NULL ok. */
void retake_body_free(char *body);

/* ---- typed responses ------------------------------------------------------------------------- */

#define RETAKE_TOKEN_MAX 512
#define RETAKE_ID_MAX 128
#define RETAKE_URL_FIELD_MAX 2048

struct retake_register_resp {
    char access_token[RETAKE_TOKEN_MAX]; /* secret: retake_register_resp_clear() when done */
    char agent_id[RETAKE_ID_MAX];
    char user_db_id[RETAKE_ID_MAX];     /* "userDbId" */
    char wallet_address[RETAKE_ID_MAX]; /* optional */
    char token_address[RETAKE_ID_MAX];  /* optional; "" until the first stream */
    char token_ticker[RETAKE_ID_MAX];   /* optional; "" until the first stream */
};
int retake_parse_register(const char *body, size_t len, struct retake_register_resp *out, char *err,
                          size_t err_size);
void retake_register_resp_clear(struct retake_register_resp *r);

/* prepare-verify: verification_message (required, non-empty), the exact text the human posts. */
int retake_parse_prepare_verify(const char *body, size_t len, char *message, size_t message_size,
                                char *err, size_t err_size);
/* verify and verification-status: {"verified": bool} (ep names the endpoint in messages). A
 * JSON bool only: "true" as a string is a wrong type. */
int retake_parse_verified(enum retake_endpoint ep, const char *body, size_t len, bool *verified,
                          char *err, size_t err_size);

struct retake_rtmp {
    char url[RETAKE_URL_FIELD_MAX]; /* "url" (or "rtmp_url"): rtmp:// or rtmps:// */
    char key[1024];                 /* "key" (or "stream_key"): secret-ish, redact */
    char publish_url[RETAKE_URL_FIELD_MAX + 1024 + 2]; /* url + "/" + key, one '/' between */
    bool legacy_names;                                 /* answered with rtmp_url/stream_key */
};
/* The current names win when a body carries both spellings. */
int retake_parse_rtmp(const char *body, size_t len, struct retake_rtmp *out, char *err,
                      size_t err_size);

struct retake_stream_start {
    bool has_token; /* the "token" object was present */
    char token_name[256];
    char token_ticker[64];
    char token_image_url[RETAKE_URL_FIELD_MAX];
    char token_address[RETAKE_ID_MAX]; /* "tokenAddress" */
    char token_type[64];
};
/* "success" is required; success: false is -EPROTO with the body's error/message text. */
int retake_parse_stream_start(const char *body, size_t len, struct retake_stream_start *out,
                              char *err, size_t err_size);

struct retake_stream_status {
    bool is_live;           /* required */
    int64_t viewers;        /* -1 when absent */
    int64_t uptime_seconds; /* -1 when absent */
    char token_address[RETAKE_ID_MAX];
    char user_db_id[RETAKE_ID_MAX];
};
int retake_parse_stream_status(const char *body, size_t len, struct retake_stream_status *out,
                               char *err, size_t err_size);

struct retake_thumbnail_resp {
    char thumbnail_url[RETAKE_URL_FIELD_MAX]; /* required */
    char message[256];                        /* optional */
};
int retake_parse_thumbnail(const char *body, size_t len, struct retake_thumbnail_resp *out,
                           char *err, size_t err_size);

struct retake_stop_resp {
    char status[64];          /* required ("stopped") */
    int64_t duration_seconds; /* -1 when absent */
    int64_t viewers;          /* -1 when absent */
};
int retake_parse_stop(const char *body, size_t len, struct retake_stop_resp *out, char *err,
                      size_t err_size);

/* skill.json: its "version" string (required). */
int retake_parse_skill_version(const char *body, size_t len, char *version, size_t version_size,
                               char *err, size_t err_size);

/* ---- chat comments --------------------------------------------------------------------------- */

struct retake_comment {
    char *id;              /* "_id", non-empty */
    char *text;            /* "text" (may be "") */
    char *stream_id;       /* "streamId", "" when absent */
    char *timestamp;       /* "timestamp" as sent, "" when absent */
    char *author_username; /* author.fusername */
    char *author_wallet;   /* author.walletAddress */
    char *author_avatar;   /* author.favatar */
    int64_t author_fid;    /* author.fid, -1 when absent */
    char *json;            /* the whole comment object, compact, every field the server sent */
};

struct retake_comments {
    struct retake_comment *items; /* in the server's order */
    size_t count;
    /* Comments without a usable "_id" or "text" are skipped rather than failing the page: one bad
     * comment would otherwise block the chat for as long as it stays among the newest. */
    size_t skipped;
    char skip_reason[160]; /* the first skip's reason */
};

/* {"comments": [...]} — "comments" is required and must be an array. On success the caller
 * owns *out and releases it with retake_comments_free() (also after an error: safe, empty). */
int retake_parse_comments(const char *body, size_t len, struct retake_comments *out, char *err,
                          size_t err_size);
void retake_comments_free(struct retake_comments *c);

/* The document does not state the page's order. The page is taken as oldest-first when the
 * first comment's timestamp is earlier than the last one's, otherwise as newest-first (what the
 * service is expected to send). Timestamps are compared as parsed times, never as text. */
bool retake_comments_newest_first(const struct retake_comments *c);
/* The "_id" of the oldest comment on the page (the "beforeId" cursor for the previous page), or
 * NULL for an empty page. Borrowed from c. */
const char *retake_comments_oldest_id(const struct retake_comments *c);

/* The ids already delivered, remembered in a ring of the last cap ids (bounded memory). Use
 * cap ≥ 2 × the poll limit so that every delivered id still on a page is remembered. */
struct retake_seen_ids {
    char **ids;
    size_t cap, count, next;
};
int retake_seen_init(struct retake_seen_ids *s, size_t cap); /* 0 or -EINVAL / -ENOMEM */
void retake_seen_free(struct retake_seen_ids *s);
bool retake_seen_contains(const struct retake_seen_ids *s, const char *id);
/* Remembers id (copied), forgetting the oldest when full. 0 or -ENOMEM. */
int retake_seen_add(struct retake_seen_ids *s, const char *id);

/* The comments of page that have not been delivered yet, oldest first: their indexes into
 * page->items go to idx (room for page->count), their number to *n_new, and their ids are
 * recorded in seen as delivered. "New" is decided by membership in seen only, never by comparing
 * ids (as strings or numbers); an id repeated within the page counts once. *gap (may be NULL)
 * is true when seen was not empty and nothing on the page was seen before: more comments may
 * have arrived than the page holds (fetch the previous page with beforeId). 0 or -ENOMEM (then
 * nothing is recorded). Call it once with a first page and discard the result to start without
 * replaying history. */
int retake_comments_new_since(const struct retake_comments *page, struct retake_seen_ids *seen,
                              size_t *idx, size_t *n_new, bool *gap);

/* ---- HTTP errors ----------------------------------------------------------------------------- */

enum retake_http_class {
    RETAKE_HTTP_OK,         /* 2xx */
    RETAKE_HTTP_BAD_INPUT,  /* 400 "Bad input / name taken" */
    RETAKE_HTTP_AUTH,       /* 401 "Invalid or missing access_token" */
    RETAKE_HTTP_NOT_FOUND,  /* 404 "ID not found" */
    RETAKE_HTTP_NO_SESSION, /* 409 "No active session": call stream/start first */
    RETAKE_HTTP_SERVER,     /* 5xx "Server error": retry */
    RETAKE_HTTP_OTHER       /* anything else the document does not list */
};
enum retake_http_class retake_http_classify(long status);

/* One line saying what status means for ep per the document's error table, with the body's
 * "error" and/or "message" text when it carries them (control characters replaced, anything
 * that looks like an rtk_ token redacted, at most ~200 bytes of it). 401 reads "access token
 * rejected — re-register or set RETAKE_ACCESS_TOKEN (…)". body may be NULL. */
void retake_http_error(enum retake_endpoint ep, long status, const char *body, size_t len,
                       char *out, size_t out_size);

/* ---- public endpoints: generic JSON + human-readable tables ---------------------------------- */

/* Parses any response whose root must be an object or an array (what = "users/live response",
 * for messages). Returns the tree (cJSON_Delete) or NULL with err, like the typed parsers. */
cJSON *retake_json_parse(const char *body, size_t len, const char *what, char *err,
                         size_t err_size);

/* Prints root as a table of the fields the document lists for ep's family (users, sessions,
 * tokens, trades, chat): rows are the root array, or the first array of objects inside the root
 * object; a single object (metadata, streamer, stats, join) prints as "field: value" lines.
 * Columns the document names but no row has are left out; when the document names none that
 * appear (e.g. trades), the first row's own scalar fields are shown. Server text has control
 * characters replaced and cells are cut at 40 characters. 0 or -EIO / -ENOMEM. */
int retake_format_public(enum retake_endpoint ep, const cJSON *root, FILE *out);

#endif
