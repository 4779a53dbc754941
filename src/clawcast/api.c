/*
 * api — see api.h. This file holds the endpoint table, the JSON plumbing the parsers share
 * (api_internal.h), the request bodies and the meaning of HTTP error statuses. The typed
 * response parsers are in api_parse.c.
 */
#include "clawcast/api.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clawcast/api_internal.h"
#include "clawcast/validate.h"
#include "core/utf8_strict.h"

#define SERVER_TEXT_MAX 200
#define JSON_INT_MAX 9007199254740992.0 /* 2^53 */
#define INT_STRING_MAX_DIGITS 15
#define JWT_RUN_MIN 16 /* "eyJ" runs at least this long are treated as tokens */

/* The document's endpoints, in enum order. bookSlot needs no auth for unclaimed names and an
 * x-api-key for claimed ones; the slot JWT endpoints are those the document shows with
 * "Authorization: Bearer <slot_jwt>". */
static const struct clawcast_endpoint_info endpoints[CLAWCAST_EP_COUNT] = {
    [CLAWCAST_EP_BOOK_SLOT] = {"bookSlot", CLAWCAST_POST, "/api/bookSlot", CLAWCAST_AUTH_API_KEY,
                               true},
    [CLAWCAST_EP_PUBLISH_FRAME] = {"publishFrame", CLAWCAST_POST, "/api/publishFrame",
                                   CLAWCAST_AUTH_SLOT_JWT, true},
    [CLAWCAST_EP_PUBLISH_BATCH] = {"publishBatch", CLAWCAST_POST, "/api/publishBatch",
                                   CLAWCAST_AUTH_SLOT_JWT, true},
    [CLAWCAST_EP_END_SLOT] = {"endSlot", CLAWCAST_POST, "/api/endSlot", CLAWCAST_AUTH_SLOT_JWT,
                              false},
    [CLAWCAST_EP_POLL_RESULTS] = {"pollResults", CLAWCAST_GET, "/api/pollResults",
                                  CLAWCAST_AUTH_SLOT_JWT, false},
    [CLAWCAST_EP_VOTE] = {"vote", CLAWCAST_POST, "/api/vote", CLAWCAST_AUTH_NONE, true},
    [CLAWCAST_EP_REQUEST_DUET] = {"requestDuet", CLAWCAST_POST, "/api/requestDuet",
                                  CLAWCAST_AUTH_NONE, true},
    [CLAWCAST_EP_DUET_REQUESTS] = {"duetRequests", CLAWCAST_GET, "/api/duetRequests",
                                   CLAWCAST_AUTH_NONE, false},
    [CLAWCAST_EP_ACCEPT_DUET] = {"acceptDuet", CLAWCAST_POST, "/api/acceptDuet",
                                 CLAWCAST_AUTH_NONE, true},
    [CLAWCAST_EP_DUET_REPLY] = {"duetReply", CLAWCAST_POST, "/api/duetReply", CLAWCAST_AUTH_NONE,
                                true},
    [CLAWCAST_EP_CHAT] = {"chat", CLAWCAST_POST, "/api/chat", CLAWCAST_AUTH_NONE, true},
    [CLAWCAST_EP_NOW] = {"now", CLAWCAST_GET, "/api/now", CLAWCAST_AUTH_NONE, false},
    [CLAWCAST_EP_GET_QUEUE] = {"getQueue", CLAWCAST_GET, "/api/getQueue", CLAWCAST_AUTH_NONE,
                               false},
};

const struct clawcast_endpoint_info *clawcast_endpoint_get(enum clawcast_endpoint ep)
{
    if ((int)ep < 0 || ep >= CLAWCAST_EP_COUNT)
        return NULL;
    return &endpoints[ep];
}

char *clawcast_url(const char *base, enum clawcast_endpoint ep)
{
    const struct clawcast_endpoint_info *info = clawcast_endpoint_get(ep);
    if (!info || !base)
        return NULL;
    size_t bl = strlen(base);
    while (bl > 0 && base[bl - 1] == '/')
        bl--;
    size_t pl = strlen(info->path);
    char *s = malloc(bl + pl + 1);
    if (!s)
        return NULL;
    memcpy(s, base, bl);
    memcpy(s + bl, info->path, pl + 1);
    return s;
}

int clawcast_fail(char *err, size_t err_size, int rc, const char *fmt, ...)
{
    if (err && err_size > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, err_size, fmt, ap);
        va_end(ap);
    }
    return rc;
}

/* ---- JSON plumbing --------------------------------------------------------------------------- */

/* Whether the text ends inside a string or an unclosed object/array: cut short in transit. */
static bool json_unterminated(const char *s, size_t len)
{
    long depth = 0;
    bool in_string = false;
    for (size_t i = 0; i < len; i++) {
        if (in_string) {
            if (s[i] == '\\')
                i++;
            else if (s[i] == '"')
                in_string = false;
        } else if (s[i] == '"') {
            in_string = true;
        } else if (s[i] == '{' || s[i] == '[') {
            depth++;
        } else if (s[i] == '}' || s[i] == ']') {
            depth--;
        }
    }
    return in_string || depth > 0;
}

static bool json_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

int clawcast_json_root(const char *body, size_t len, const char *what, cJSON **out, char *err,
                       size_t err_size)
{
    *out = NULL;
    size_t start = 0;
    while (body && start < len && json_space(body[start]))
        start++;
    if (!body || start == len)
        return clawcast_fail(err, err_size, -EBADMSG,
                             "%s: ClawCast answered with malformed JSON (empty body)", what);
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(body, len, &end, 0);
    if (!root) {
        if (json_unterminated(body, len))
            return clawcast_fail(err, err_size, -EBADMSG,
                                 "%s: ClawCast answered with malformed JSON (truncated after "
                                 "%zu bytes)",
                                 what, len);
        size_t pos = (end && end >= body && end < body + len) ? (size_t)(end - body) : len - 1;
        return clawcast_fail(err, err_size, -EBADMSG,
                             "%s: ClawCast answered with malformed JSON (unexpected byte 0x%02x "
                             "at byte %zu)",
                             what, (unsigned char)body[pos], pos);
    }
    size_t pos = end ? (size_t)(end - body) : len;
    while (pos < len && json_space(body[pos]))
        pos++;
    if (pos < len) {
        clawcast_json_delete_secret(root);
        return clawcast_fail(err, err_size, -EBADMSG,
                             "%s: ClawCast answered with malformed JSON (unexpected data after "
                             "the value at byte %zu)",
                             what, pos);
    }
    if (!cJSON_IsObject(root)) {
        clawcast_json_delete_secret(root);
        return clawcast_fail(err, err_size, -EPROTO, "%s: expected a JSON object", what);
    }
    *out = root;
    return 0;
}

static void server_text(const cJSON *root, char *out, size_t out_size)
{
    out[0] = '\0';
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(root, "error");
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(root, "message");
    const char *s = cJSON_IsString(e) && *e->valuestring   ? e->valuestring
                    : cJSON_IsString(m) && *m->valuestring ? m->valuestring
                                                           : NULL;
    if (s)
        clawcast_sanitize(s, strlen(s), out, out_size);
}

int clawcast_check_ok(const cJSON *root, const char *what, char *err, size_t err_size)
{
    const cJSON *ok = cJSON_GetObjectItemCaseSensitive(root, "ok");
    if (!cJSON_IsFalse(ok))
        return 0;
    char text[SERVER_TEXT_MAX + 8];
    server_text(root, text, sizeof(text));
    return clawcast_fail(err, err_size, -EPROTO, "%s: ClawCast answered \"ok\": false%s%s%s",
                         what, text[0] ? " (\"" : "", text, text[0] ? "\")" : "");
}

static const char *type_name(const cJSON *item)
{
    if (cJSON_IsNull(item))
        return "null";
    if (cJSON_IsBool(item))
        return "a boolean";
    if (cJSON_IsNumber(item))
        return "a number";
    if (cJSON_IsString(item))
        return "a string";
    return cJSON_IsArray(item) ? "an array" : "an object";
}

int clawcast_jstr(const cJSON *obj, const char *what, const char *name, bool required, char *dst,
                  size_t dst_size, char *err, size_t err_size)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, name);
    dst[0] = '\0';
    if (!cJSON_IsString(item) || !item->valuestring) {
        if (!required)
            return 0;
        if (!item)
            return clawcast_fail(err, err_size, -EPROTO, "%s: missing field \"%s\"", what, name);
        return clawcast_fail(err, err_size, -EPROTO, "%s: field \"%s\" must be a string, got %s",
                             what, name, type_name(item));
    }
    size_t n = strlen(item->valuestring);
    if (n >= dst_size)
        return clawcast_fail(err, err_size, -EPROTO,
                             "%s: field \"%s\" is too long (%zu bytes, at most %zu)", what, name,
                             n, dst_size - 1);
    if (required && n == 0)
        return clawcast_fail(err, err_size, -EPROTO, "%s: field \"%s\" is empty", what, name);
    memcpy(dst, item->valuestring, n + 1);
    return 0;
}

int clawcast_jint_value(const cJSON *item, int64_t *out)
{
    if (cJSON_IsNumber(item)) {
        double v = item->valuedouble;
        if (!(v >= 0 && v <= JSON_INT_MAX) || v != (double)(int64_t)v)
            return -1;
        *out = (int64_t)v;
        return 0;
    }
    if (cJSON_IsString(item) && item->valuestring) {
        const char *s = item->valuestring;
        size_t n = strspn(s, "0123456789");
        if (n == 0 || n > INT_STRING_MAX_DIGITS || s[n] != '\0')
            return -1;
        *out = strtoll(s, NULL, 10);
        return 0;
    }
    return -1;
}

int clawcast_jint(const cJSON *obj, const char *what, const char *name, bool required,
                  int64_t *out, char *err, size_t err_size)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, name);
    if (clawcast_jint_value(item, out) == 0)
        return 0;
    *out = -1;
    if (!required)
        return 0;
    if (!item)
        return clawcast_fail(err, err_size, -EPROTO, "%s: missing field \"%s\"", what, name);
    return clawcast_fail(err, err_size, -EPROTO,
                         "%s: field \"%s\" must be a non-negative integer, got %s", what, name,
                         type_name(item));
}

/* Zeroes the strings of item and of everything below it (cJSON caps nesting at 1000 levels, so
 * the recursion is bounded). */
static bool it_has_value(const cJSON *item)
{
    return item->valuestring && !(item->type & cJSON_IsReference);
}

static void zero_tree(cJSON *item)
{
    for (cJSON *it = item->child; it; it = it->next)
        zero_tree(it);
    if (it_has_value(item))
        explicit_bzero(item->valuestring, strlen(item->valuestring));
    if (item->string && !(item->type & cJSON_StringIsConst))
        explicit_bzero(item->string, strlen(item->string));
}

void clawcast_json_delete_secret(cJSON *item)
{
    if (!item)
        return;
    zero_tree(item);
    cJSON_Delete(item);
}

char *clawcast_json_print_secret(const cJSON *item)
{
    /* Retry with a larger buffer rather than let cJSON realloc, which would leave a copy of the
     * text in freed memory. */
    for (size_t size = 512; size <= (64u << 20); size *= 2) {
        char *buf = malloc(size);
        if (!buf)
            return NULL;
        /* A margin: cJSON's own notes say its size estimate is not exact. */
        if (cJSON_PrintPreallocated((cJSON *)item, buf, (int)size - 8, 0))
            return buf;
        explicit_bzero(buf, size);
        free(buf);
    }
    return NULL;
}

void clawcast_body_free(char *body)
{
    if (!body)
        return;
    explicit_bzero(body, strlen(body));
    free(body);
}

/* ---- server text ----------------------------------------------------------------------------- */

/* Length of a JWT-looking run at s ("eyJ" + base64url and dots), 0 if there is none. */
static size_t jwt_run(const unsigned char *s, size_t len)
{
    if (len < 3 || memcmp(s, "eyJ", 3) != 0)
        return 0;
    size_t n = 3;
    while (n < len && (s[n] == '-' || s[n] == '_' || s[n] == '.' || (s[n] >= '0' && s[n] <= '9') ||
                       ((s[n] | 0x20) >= 'a' && (s[n] | 0x20) <= 'z')))
        n++;
    return n >= JWT_RUN_MIN ? n : 0;
}

void clawcast_sanitize(const char *in, size_t len, char *out, size_t out_size)
{
    static const char ellipsis[] = "\xe2\x80\xa6";
    static const char redacted[] = "eyJ\xe2\x80\xa6(redacted)";
    const unsigned char *u = (const unsigned char *)in;
    if (out_size == 0)
        return;
    size_t n = 0, i = 0;
    while (i < len) {
        const char *src = in + i;
        size_t take, adv;
        char repl;
        uint32_t cp = 0;
        int k;
        size_t jl = jwt_run(u + i, len - i);
        if (jl) {
            src = redacted, take = sizeof(redacted) - 1, adv = jl;
        } else if ((k = utf8_strict_next((const char *)u + i, len - i, &cp)) < 0 || cp < 0x20 || cp == 0x7f ||
                   (cp >= 0x80 && cp <= 0x9f)) {
            repl = (k > 0 && (cp == '\n' || cp == '\t' || cp == '\r')) ? ' ' : '?';
            src = &repl, take = 1, adv = k > 0 ? (size_t)k : 1;
        } else {
            take = adv = (size_t)k;
        }
        size_t room = out_size - 1 - n;
        bool last = i + adv >= len;
        if (take > room || (!last && take + 3 > room)) {
            if (room >= 3) {
                memcpy(out + n, ellipsis, 3);
                n += 3;
            }
            break;
        }
        memcpy(out + n, src, take);
        n += take;
        i += adv;
    }
    out[n] = '\0';
}

/* ---- request bodies -------------------------------------------------------------------------- */

/* Validates root with check (NULL: already validated), prints it into *out, deletes root. */
static int finish_body(cJSON *root, int (*check)(const cJSON *, char *, size_t), char **out,
                       char *err, size_t err_size)
{
    *out = NULL;
    if (!root)
        return clawcast_fail(err, err_size, -ENOMEM, "out of memory");
    int rc = check ? check(root, err, err_size) : 0;
    if (rc == 0) {
        *out = clawcast_json_print_secret(root);
        if (!*out)
            rc = clawcast_fail(err, err_size, -ENOMEM, "out of memory");
    }
    cJSON_Delete(root);
    return rc;
}

/* Adds name: s (NULL: left out). false on ENOMEM. */
static bool add_str(cJSON *obj, const char *name, const char *s)
{
    return !s || cJSON_AddStringToObject(obj, name, s) != NULL;
}

int clawcast_body_book_slot(const struct clawcast_book_req *req, char **out, char *err,
                            size_t err_size)
{
    cJSON *root = cJSON_CreateObject();
    if (root && (!add_str(root, "streamer_name", req->streamer_name) ||
                 !add_str(root, "streamer_url", req->streamer_url) ||
                 !cJSON_AddNumberToObject(root, "duration_minutes", req->duration_minutes))) {
        cJSON_Delete(root);
        root = NULL;
    }
    if (root && req->slides) {
        cJSON *copy = cJSON_Duplicate(req->slides, 1);
        if (!copy || !cJSON_AddItemToObject(root, "slides", copy)) {
            cJSON_Delete(copy);
            cJSON_Delete(root);
            root = NULL;
        }
    }
    return finish_body(root, clawcast_validate_book, out, err, err_size);
}

static int check_frame(const cJSON *frame, char *err, size_t err_size)
{
    return clawcast_validate_frame(frame, NULL, err, err_size);
}

int clawcast_body_frame(const cJSON *frame, char **out, char *err, size_t err_size)
{
    *out = NULL;
    int rc = check_frame(frame, err, err_size);
    if (rc)
        return rc;
    return finish_body(cJSON_Duplicate(frame, 1), NULL, out, err, err_size);
}

int clawcast_body_terminal(const char *screen, bool delta, char **out, char *err,
                           size_t err_size)
{
    cJSON *root = cJSON_CreateObject();
    bool ok = root && cJSON_AddStringToObject(root, "type", "terminal");
    cJSON *content = ok ? cJSON_AddObjectToObject(root, "content") : NULL;
    ok = content && add_str(content, "screen", screen) &&
              (!delta || cJSON_AddTrueToObject(root, "delta"));
    if (!ok) {
        cJSON_Delete(root);
        root = NULL;
    }
    return finish_body(root, check_frame, out, err, err_size);
}

int clawcast_body_batch(const cJSON *slides, char **out, char *err, size_t err_size)
{
    cJSON *root = cJSON_CreateObject();
    if (root && slides) {
        cJSON *copy = cJSON_Duplicate(slides, 1);
        if (!copy || !cJSON_AddItemToObject(root, "slides", copy)) {
            cJSON_Delete(copy);
            cJSON_Delete(root);
            root = NULL;
        }
    }
    return finish_body(root, clawcast_validate_batch, out, err, err_size);
}

/* Builds {names[i]: values[i]} (all strings) after a validation that already passed. */
static int string_body(const char *const *names, const char *const *values, size_t n, char **out,
                       char *err, size_t err_size)
{
    cJSON *root = cJSON_CreateObject();
    for (size_t i = 0; root && i < n; i++) {
        if (!add_str(root, names[i], values[i])) {
            cJSON_Delete(root);
            root = NULL;
        }
    }
    return finish_body(root, NULL, out, err, err_size);
}

int clawcast_body_vote(const char *poll_id, long option_index, int n_options,
                       const char *viewer_id, char **out, char *err, size_t err_size)
{
    *out = NULL;
    int rc = clawcast_validate_vote(poll_id, option_index, n_options, viewer_id, err, err_size);
    if (rc)
        return rc;
    cJSON *root = cJSON_CreateObject();
    if (root && (!add_str(root, "poll_id", poll_id) ||
                 !cJSON_AddNumberToObject(root, "option_index", (double)option_index) ||
                 !add_str(root, "viewer_id", viewer_id))) {
        cJSON_Delete(root);
        root = NULL;
    }
    return finish_body(root, NULL, out, err, err_size);
}

int clawcast_body_request_duet(const char *name, const char *url, const char *question,
                               char **out, char *err, size_t err_size)
{
    *out = NULL;
    int rc = clawcast_validate_request_duet(name, url, question, err, err_size);
    const char *const names[] = {"name", "url", "question"};
    const char *const values[] = {name, url, question};
    return rc ? rc : string_body(names, values, 3, out, err, err_size);
}

int clawcast_body_accept_duet(const char *request_id, const char *name, const char *url,
                              const char *answer, char **out, char *err, size_t err_size)
{
    *out = NULL;
    int rc = clawcast_validate_accept_duet(request_id, name, url, answer, err, err_size);
    const char *const names[] = {"request_id", "name", "url", "answer"};
    const char *const values[] = {request_id, name, url, answer};
    return rc ? rc : string_body(names, values, 4, out, err, err_size);
}

int clawcast_body_duet_reply(const char *request_id, const char *name, const char *reply,
                             char **out, char *err, size_t err_size)
{
    *out = NULL;
    int rc = clawcast_validate_duet_reply(request_id, name, reply, err, err_size);
    const char *const names[] = {"request_id", "name", "reply"};
    const char *const values[] = {request_id, name, reply};
    return rc ? rc : string_body(names, values, 3, out, err, err_size);
}

int clawcast_body_chat(const char *name, const char *text, char **out, char *err,
                       size_t err_size)
{
    *out = NULL;
    int rc = clawcast_validate_chat(name, text, err, err_size);
    const char *const names[] = {"name", "text"};
    const char *const values[] = {name, text};
    return rc ? rc : string_body(names, values, 2, out, err, err_size);
}

/* ---- HTTP errors ----------------------------------------------------------------------------- */

enum clawcast_http_class clawcast_http_classify(long status)
{
    if (status >= 200 && status < 300)
        return CLAWCAST_HTTP_OK;
    switch (status) {
    case 400:
        return CLAWCAST_HTTP_BAD_INPUT;
    case 401:
        return CLAWCAST_HTTP_NO_KEY;
    case 403:
        return CLAWCAST_HTTP_WRONG_KEY;
    case 409:
        return CLAWCAST_HTTP_CONFLICT;
    default:
        return (status >= 500 && status < 600) ? CLAWCAST_HTTP_SERVER : CLAWCAST_HTTP_OTHER;
    }
}

bool clawcast_http_retryable(long status)
{
    return clawcast_http_classify(status) == CLAWCAST_HTTP_SERVER;
}

static void conflict_message(enum clawcast_endpoint ep, const char *name, const char *quoted,
                             char *out, size_t out_size)
{
    if (ep == CLAWCAST_EP_PUBLISH_FRAME)
        snprintf(out, out_size,
                 "%s refused (HTTP 409): a batch is active — frames and a batch are one mode at "
                 "a time (\"Returns 409 if a batch is active\"); frames also need the slot to be "
                 "active (position 0)%s",
                 name, quoted);
    else if (ep == CLAWCAST_EP_PUBLISH_BATCH)
        snprintf(out, out_size,
                 "%s refused (HTTP 409): \"One batch per slot\" — this slot has had its batch; "
                 "push frames instead or book a new slot%s",
                 name, quoted);
    else
        snprintf(out, out_size, "%s refused (HTTP 409: conflict with the slot's state)%s", name,
                 quoted);
}

static void auth_message(enum clawcast_endpoint ep, long status, const char *name,
                         const char *quoted, char *out, size_t out_size)
{
    const struct clawcast_endpoint_info *info = clawcast_endpoint_get(ep);
    if (ep == CLAWCAST_EP_BOOK_SLOT && status == 401)
        snprintf(out, out_size,
                 "this name is claimed: pass --api-key-file with the key from the tvterminal.com "
                 "dashboard (%s: HTTP 401, \"Claimed names return 401 without a key\")%s",
                 name, quoted);
    else if (ep == CLAWCAST_EP_BOOK_SLOT)
        snprintf(out, out_size,
                 "this name is claimed and the API key was refused: check --api-key-file, or "
                 "regenerate the key on the dashboard (%s: HTTP 403, wrong key)%s",
                 name, quoted);
    else if (info && info->auth == CLAWCAST_AUTH_SLOT_JWT)
        snprintf(out, out_size,
                 "%s: slot JWT refused (HTTP %ld) — it \"expires ~60s after your slot ends\"; "
                 "book a new slot%s",
                 name, status, quoted);
    else
        snprintf(out, out_size, "%s: not authorized (HTTP %ld)%s", name, status, quoted);
}

void clawcast_http_error(enum clawcast_endpoint ep, long status, const char *body, size_t len,
                         char *out, size_t out_size)
{
    const struct clawcast_endpoint_info *info = clawcast_endpoint_get(ep);
    const char *name = info ? info->name : "ClawCast";
    char text[SERVER_TEXT_MAX + 8] = "", quoted[SERVER_TEXT_MAX + 16] = "";
    cJSON *root = (body && len) ? cJSON_ParseWithLength(body, len) : NULL;
    if (cJSON_IsObject(root))
        server_text(root, text, sizeof(text));
    clawcast_json_delete_secret(root);
    if (text[0])
        snprintf(quoted, sizeof(quoted), ": \"%s\"", text);

    switch (clawcast_http_classify(status)) {
    case CLAWCAST_HTTP_OK:
        snprintf(out, out_size, "%s: HTTP %ld (not an error)", name, status);
        break;
    case CLAWCAST_HTTP_BAD_INPUT:
        snprintf(out, out_size, "%s refused the request (HTTP 400: bad input) — check the fields%s",
                 name, quoted);
        break;
    case CLAWCAST_HTTP_NO_KEY:
    case CLAWCAST_HTTP_WRONG_KEY:
        auth_message(ep, status, name, quoted, out, out_size);
        break;
    case CLAWCAST_HTTP_CONFLICT:
        conflict_message(ep, name, quoted, out, out_size);
        break;
    case CLAWCAST_HTTP_SERVER:
        snprintf(out, out_size, "%s: ClawCast server error (HTTP %ld) — retry later%s", name,
                 status, quoted);
        break;
    case CLAWCAST_HTTP_OTHER:
        snprintf(out, out_size, "%s: unexpected HTTP status %ld%s", name, status, quoted);
        break;
    }
}
