/*
 * api — see api.h. This file holds the endpoint table and path building, the JSON plumbing the
 * parsers share (api_internal.h) and the meaning of HTTP error statuses. Typed parsers, bodies
 * and chat ids are in api_agent.c; tables for the public endpoints in api_public.c.
 */
#include "retake/api.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/utf8_strict.h"
#include "retake/api_internal.h"
#include "retake/validate.h"

#define SERVER_TEXT_MAX 200
#define INT_STRING_MAX_DIGITS 15
#define JSON_INT_MAX 9007199254740992.0 /* 2^53: doubles are exact up to here */

/* Entries: name (the path without its leading '/'), method, path, Bearer, body kind, multipart
 * field, documented query parameters. */
/* clang-format off */
#define EP(method, path, auth, body, field, ...) \
    {(path) + 1, method, path, auth, body, field, {__VA_ARGS__}}
#define AGENT(method, path, body) EP(method, path, true, body, NULL, NULL)
#define PUBLIC(path, ...) EP(RETAKE_GET, path, false, RETAKE_BODY_NONE, NULL, __VA_ARGS__)
/* clang-format on */

/* The document's tables (sections 1–3 and 5), in enum order. */
static const struct retake_endpoint_info endpoints[RETAKE_EP_COUNT] = {
    /* register is how the token is obtained: no Bearer. */
    [RETAKE_EP_REGISTER] = EP(RETAKE_POST, "/agent/register", false, RETAKE_BODY_JSON, NULL, NULL),
    [RETAKE_EP_PREPARE_VERIFY] = AGENT(RETAKE_POST, "/agent/prepare-verify", RETAKE_BODY_NONE),
    [RETAKE_EP_VERIFY] = AGENT(RETAKE_POST, "/agent/verify", RETAKE_BODY_JSON),
    [RETAKE_EP_VERIFICATION_STATUS] =
        AGENT(RETAKE_GET, "/agent/verification-status", RETAKE_BODY_NONE),
    [RETAKE_EP_RTMP] = AGENT(RETAKE_POST, "/agent/rtmp", RETAKE_BODY_NONE),
    [RETAKE_EP_STREAM_START] = AGENT(RETAKE_POST, "/agent/stream/start", RETAKE_BODY_NONE),
    [RETAKE_EP_STREAM_STATUS] = AGENT(RETAKE_GET, "/agent/stream/status", RETAKE_BODY_NONE),
    [RETAKE_EP_UPDATE_THUMBNAIL] =
        EP(RETAKE_POST, "/agent/update-thumbnail", true, RETAKE_BODY_MULTIPART, "image", NULL),
    [RETAKE_EP_STREAM_STOP] = AGENT(RETAKE_POST, "/agent/stream/stop", RETAKE_BODY_NONE),
    /* The document puts access_token in this body; the Bearer header is sent as well, as on
     * every other agent endpoint ("Authorization: Bearer … on every authenticated request"). */
    [RETAKE_EP_CHAT_SEND] = AGENT(RETAKE_POST, "/agent/stream/chat/send", RETAKE_BODY_JSON),
    [RETAKE_EP_COMMENTS] = EP(RETAKE_GET, "/agent/stream/comments", true, RETAKE_BODY_NONE, NULL,
                              "userDbId", "limit", "beforeId", NULL),
    [RETAKE_EP_USERS_SEARCH] = PUBLIC("/users/search/:query", NULL),
    [RETAKE_EP_USERS_LIVE] = PUBLIC("/users/live/", NULL),
    [RETAKE_EP_USERS_NEWEST] = PUBLIC("/users/newest/", NULL),
    [RETAKE_EP_USERS_METADATA] = PUBLIC("/users/metadata/:user_id", NULL),
    [RETAKE_EP_USERS_STREAMER] = PUBLIC("/users/streamer/:identifier", NULL),
    [RETAKE_EP_SESSIONS_ACTIVE] = PUBLIC("/sessions/active/", NULL),
    [RETAKE_EP_SESSIONS_ACTIVE_STREAMER] = PUBLIC("/sessions/active/:streamer_id/", NULL),
    [RETAKE_EP_SESSIONS_RECORDED] = PUBLIC("/sessions/recorded/", NULL),
    [RETAKE_EP_SESSIONS_RECORDED_STREAMER] = PUBLIC("/sessions/recorded/:streamer_id/", NULL),
    [RETAKE_EP_SESSIONS_SCHEDULED] = PUBLIC("/sessions/scheduled/", NULL),
    [RETAKE_EP_SESSIONS_SCHEDULED_STREAMER] = PUBLIC("/sessions/scheduled/:streamer_id/", NULL),
    [RETAKE_EP_SESSION_JOIN] = PUBLIC("/sessions/:id/join/", NULL),
    [RETAKE_EP_TOKENS_TOP] = PUBLIC("/tokens/top/", NULL),
    [RETAKE_EP_TOKENS_TRENDING] = PUBLIC("/tokens/trending/", NULL),
    [RETAKE_EP_TOKEN_STATS] = PUBLIC("/tokens/:address/stats", NULL),
    [RETAKE_EP_TRADES_RECENT] = PUBLIC("/trades/recent/", "limit", "cursor", NULL),
    [RETAKE_EP_TRADES_RECENT_TOKEN] = PUBLIC("/trades/recent/:token_address/", NULL),
    [RETAKE_EP_TRADES_TOP_VOLUME] = PUBLIC("/trades/top-volume/", "limit", "window", NULL),
    [RETAKE_EP_TRADES_TOP_COUNT] = PUBLIC("/trades/top-count/", NULL),
    [RETAKE_EP_CHAT] = PUBLIC("/chat/", "streamer_id", "limit", "before_chat_event_id", NULL),
    [RETAKE_EP_CHAT_TOP_TIPPERS] = PUBLIC("/chat/top-tippers", "streamer_id", NULL),
};

const struct retake_endpoint_info *retake_endpoint_get(enum retake_endpoint ep)
{
    if ((int)ep < 0 || ep >= RETAKE_EP_COUNT)
        return NULL;
    return &endpoints[ep];
}

/* ---- paths ----------------------------------------------------------------------------------- */

int retake_url_escape(const char *in, char *out, size_t out_size)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)in; *p; p++) {
        bool plain = (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
                     (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' || *p == '_' || *p == '~';
        size_t need = plain ? 1 : 3;
        if (n + need >= out_size)
            return -ENOSPC;
        if (plain) {
            out[n++] = (char)*p;
        } else {
            out[n++] = '%';
            out[n++] = hex[*p >> 4];
            out[n++] = hex[*p & 15];
        }
    }
    if (n >= out_size)
        return -ENOSPC;
    out[n] = '\0';
    return (int)n;
}

/* A string being built into a buffer sized by path_bound(), so appends always fit; they are
 * bounded all the same. */
struct pathbuf {
    char *s;
    size_t len, cap;
};

static void pb_raw(struct pathbuf *pb, const char *s, size_t n)
{
    if (pb->len + n >= pb->cap)
        return;
    memcpy(pb->s + pb->len, s, n);
    pb->len += n;
    pb->s[pb->len] = '\0';
}

static void pb_escaped(struct pathbuf *pb, const char *s)
{
    int n = retake_url_escape(s, pb->s + pb->len, pb->cap - pb->len);
    if (n >= 0)
        pb->len += (size_t)n;
    else
        pb->s[pb->len] = '\0';
}

static bool query_documented(const struct retake_endpoint_info *info, const char *name)
{
    for (size_t i = 0; i < sizeof(info->query) / sizeof(info->query[0]) && info->query[i]; i++)
        if (strcmp(info->query[i], name) == 0)
            return true;
    return false;
}

/* Upper bound of the escaped length of the path: every byte may triple. */
static size_t path_bound(const struct retake_endpoint_info *info, const char *param,
                         const struct retake_query *query, size_t n_query)
{
    size_t n = strlen(info->path) + 1 + (param ? 3 * strlen(param) : 0);
    for (size_t i = 0; i < n_query; i++)
        if (query[i].value)
            n += 2 + strlen(query[i].name) + 3 * strlen(query[i].value);
    return n + 1;
}

int retake_path(enum retake_endpoint ep, const char *param, const struct retake_query *query,
                size_t n_query, char **out, char *err, size_t err_size)
{
    *out = NULL;
    const struct retake_endpoint_info *info = retake_endpoint_get(ep);
    if (!info)
        return errmsg_fail(err, err_size, -EINVAL, "unknown retake.tv endpoint %d", (int)ep);
    const char *colon = strchr(info->path, ':');
    if (colon && (!param || !*param))
        return errmsg_fail(err, err_size, -EINVAL, "%s: the %.*s must not be empty", info->name,
                           (int)strcspn(colon + 1, "/"), colon + 1);
    if (!colon && param)
        return errmsg_fail(err, err_size, -EINVAL, "%s takes no path parameter", info->name);
    /* "." and ".." would be folded away by URL normalisation and change the path. */
    if (param && (strcmp(param, ".") == 0 || strcmp(param, "..") == 0))
        return errmsg_fail(err, err_size, -EINVAL, "%s: \"%s\" is not a valid parameter",
                           info->name, param);
    for (size_t i = 0; i < n_query; i++) {
        if (!query[i].name || !query_documented(info, query[i].name))
            return errmsg_fail(err, err_size, -EINVAL,
                               "%s: query parameter \"%s\" is not in the document", info->name,
                               query[i].name ? query[i].name : "(null)");
    }
    size_t cap = path_bound(info, param, query, n_query);
    char *buf = malloc(cap);
    if (!buf)
        return errmsg_fail(err, err_size, -ENOMEM, "out of memory");
    struct pathbuf pb = {buf, 0, cap};
    buf[0] = '\0';
    if (colon) {
        size_t seg = strcspn(colon, "/");
        pb_raw(&pb, info->path, (size_t)(colon - info->path));
        pb_escaped(&pb, param);
        pb_raw(&pb, colon + seg, strlen(colon + seg));
    } else {
        pb_raw(&pb, info->path, strlen(info->path));
    }
    char sep = '?';
    for (size_t i = 0; i < n_query; i++) {
        if (!query[i].value)
            continue;
        pb_raw(&pb, &sep, 1);
        pb_raw(&pb, query[i].name, strlen(query[i].name));
        pb_raw(&pb, "=", 1);
        pb_escaped(&pb, query[i].value);
        sep = '&';
    }
    *out = buf;
    return 0;
}

int retake_comments_path(const char *user_db_id, int limit, const char *before_id, char **out,
                         char *err, size_t err_size)
{
    *out = NULL;
    int rc = retake_validate_user_db_id(user_db_id, err, err_size);
    if (rc)
        return rc;
    if (limit < 1 || limit > RETAKE_COMMENTS_LIMIT_MAX)
        return errmsg_fail(err, err_size, -EINVAL,
                           "limit: %d is out of range; the document allows 1 to %d", limit,
                           RETAKE_COMMENTS_LIMIT_MAX);
    if (before_id && !*before_id)
        return errmsg_fail(err, err_size, -EINVAL, "beforeId: must not be empty");
    char lim[16];
    snprintf(lim, sizeof(lim), "%d", limit);
    const struct retake_query q[] = {
        {"userDbId", user_db_id}, {"limit", lim}, {"beforeId", before_id}};
    return retake_path(RETAKE_EP_COMMENTS, NULL, q, 3, out, err, err_size);
}

char *retake_url_join(const char *api_base, const char *path)
{
    size_t bl = strlen(api_base);
    while (bl > 0 && api_base[bl - 1] == '/')
        bl--;
    size_t pl = strlen(path);
    char *s = malloc(bl + pl + 1);
    if (!s)
        return NULL;
    memcpy(s, api_base, bl);
    memcpy(s + bl, path, pl + 1);
    return s;
}

int retake_skill_json_url(const char *api_base, char *out, size_t out_size)
{
    const char *sep = strstr(api_base, "://");
    if (!sep || sep == api_base)
        return -EINVAL;
    size_t origin = (size_t)(sep + 3 - api_base) + strcspn(sep + 3, "/?#");
    if (origin == (size_t)(sep + 3 - api_base))
        return -EINVAL;
    int n = snprintf(out, out_size, "%.*s/skill.json", (int)origin, api_base);
    return (n < 0 || (size_t)n >= out_size) ? -ENOSPC : 0;
}

/* ---- JSON plumbing --------------------------------------------------------------------------- */

/* Whether the text ends inside a string or an unclosed object/array: cut short in transit. */
static bool json_unterminated(const char *s, size_t len)
{
    long depth = 0;
    bool in_string = false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (in_string) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_string = false;
        } else if (c == '"') {
            in_string = true;
        } else if (c == '{' || c == '[') {
            depth++;
        } else if (c == '}' || c == ']') {
            depth--;
        }
    }
    return in_string || depth > 0;
}

static bool json_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static void describe_byte(char c, char *out, size_t out_size)
{
    unsigned char u = (unsigned char)c;
    if (u > 0x20 && u < 0x7f && u != '\'')
        snprintf(out, out_size, "'%c'", c);
    else
        snprintf(out, out_size, "byte 0x%02x", u);
}

int retake_json_root(const char *body, size_t len, const char *what, bool want_object, cJSON **out,
                     char *err, size_t err_size)
{
    *out = NULL;
    size_t start = 0;
    while (body && start < len && json_space(body[start]))
        start++;
    if (!body || start == len)
        return errmsg_fail(err, err_size, -EBADMSG,
                           "%s: retake.tv answered with malformed JSON (empty body)", what);
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(body, len, &end, 0);
    if (!root) {
        char b[16];
        if (json_unterminated(body, len))
            return errmsg_fail(err, err_size, -EBADMSG,
                               "%s: retake.tv answered with malformed JSON (truncated after "
                               "%zu bytes)",
                               what, len);
        size_t pos = (end && end >= body && end < body + len) ? (size_t)(end - body) : len - 1;
        describe_byte(body[pos], b, sizeof(b));
        return errmsg_fail(err, err_size, -EBADMSG,
                           "%s: retake.tv answered with malformed JSON (unexpected %s at byte "
                           "%zu)",
                           what, b, pos);
    }
    size_t pos = end ? (size_t)(end - body) : len;
    while (pos < len && json_space(body[pos]))
        pos++;
    if (pos < len) {
        cJSON_Delete(root);
        return errmsg_fail(err, err_size, -EBADMSG,
                           "%s: retake.tv answered with malformed JSON (unexpected data after "
                           "the value at byte %zu)",
                           what, pos);
    }
    if (!cJSON_IsObject(root) && (want_object || !cJSON_IsArray(root))) {
        const char *got = cJSON_IsArray(root) ? "an array" : "a scalar";
        cJSON_Delete(root);
        return errmsg_fail(err, err_size, -EPROTO, "%s: expected a JSON %s, got %s", what,
                           want_object ? "object" : "object or array", got);
    }
    *out = root;
    return 0;
}

cJSON *retake_json_parse(const char *body, size_t len, const char *what, char *err, size_t err_size)
{
    cJSON *root;
    return retake_json_root(body, len, what, false, &root, err, err_size) ? NULL : root;
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
    if (cJSON_IsArray(item))
        return "an array";
    return "an object";
}

int retake_jstr(const cJSON *obj, const char *what, const char *prefix, const char *name,
                bool required, char *dst, size_t dst_size, char *err, size_t err_size)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, name);
    dst[0] = '\0';
    if (!cJSON_IsString(item) || !item->valuestring) {
        if (!required)
            return 0;
        if (!item)
            return errmsg_fail(err, err_size, -EPROTO, "%s: missing field \"%s%s\"", what, prefix,
                               name);
        return errmsg_fail(err, err_size, -EPROTO, "%s: field \"%s%s\" must be a string, got %s",
                           what, prefix, name, type_name(item));
    }
    size_t n = strlen(item->valuestring);
    if (n >= dst_size)
        return errmsg_fail(err, err_size, -EPROTO,
                           "%s: field \"%s%s\" is too long (%zu bytes, at most %zu)", what, prefix,
                           name, n, dst_size - 1);
    if (required && n == 0)
        return errmsg_fail(err, err_size, -EPROTO, "%s: field \"%s%s\" is empty", what, prefix,
                           name);
    memcpy(dst, item->valuestring, n + 1);
    return 0;
}

int retake_jstrs(const cJSON *obj, const char *what, const char *prefix,
                 const struct retake_strfield *fields, size_t n, char *err, size_t err_size)
{
    for (size_t i = 0; i < n; i++) {
        int rc = retake_jstr(obj, what, prefix, fields[i].name, fields[i].required, fields[i].dst,
                             fields[i].size, err, err_size);
        if (rc)
            return rc;
    }
    return 0;
}

int retake_jint_value(const cJSON *item, int64_t *out)
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

int retake_jint(const cJSON *obj, const char *what, const char *prefix, const char *name,
                bool required, int64_t *out, char *err, size_t err_size)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, name);
    *out = -1;
    if (retake_jint_value(item, out) == 0)
        return 0;
    *out = -1;
    if (!required)
        return 0;
    if (!item)
        return errmsg_fail(err, err_size, -EPROTO, "%s: missing field \"%s%s\"", what, prefix,
                           name);
    return errmsg_fail(err, err_size, -EPROTO,
                       "%s: field \"%s%s\" must be a non-negative integer, got %s", what, prefix,
                       name, type_name(item));
}

int retake_jbool(const cJSON *obj, const char *what, const char *name, bool *out, char *err,
                 size_t err_size)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, name);
    if (cJSON_IsBool(item)) {
        *out = cJSON_IsTrue(item);
        return 0;
    }
    if (!item)
        return errmsg_fail(err, err_size, -EPROTO, "%s: missing field \"%s\"", what, name);
    return errmsg_fail(err, err_size, -EPROTO, "%s: field \"%s\" must be true or false, got %s",
                       what, name, type_name(item));
}

char *retake_json_print_secret(cJSON *item, bool pretty)
{
    /* Retry with a larger buffer rather than let cJSON realloc: a realloc would leave a copy of
     * the text in freed memory. */
    for (size_t size = 256; size <= (64u << 20); size *= 2) {
        char *buf = malloc(size);
        if (!buf)
            return NULL;
        /* A margin below the real size: cJSON's own notes say its estimate is not exact. */
        if (cJSON_PrintPreallocated(item, buf, (int)size - 8, pretty))
            return buf;
        explicit_bzero(buf, size);
        free(buf);
    }
    return NULL;
}

void retake_body_free(char *body)
{
    if (!body)
        return;
    explicit_bzero(body, strlen(body));
    free(body);
}

/* ---- server text and HTTP errors ------------------------------------------------------------- */

void retake_sanitize(const char *in, size_t len, char *out, size_t out_size)
{
    static const char ellipsis[] = "\xe2\x80\xa6";
    if (out_size == 0)
        return;
    size_t n = 0, i = 0;
    while (i < len) {
        uint32_t cp = '?';
        int k = utf8_strict_next(in + i, len - i, &cp);
        const char *src = in + i;
        size_t sl = k > 0 ? (size_t)k : 1;
        char repl;
        if (k < 0 || cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f)) {
            repl = (cp == '\n' || cp == '\t' || cp == '\r') && k > 0 ? ' ' : '?';
            src = &repl;
            k = 1;
        }
        /* Keep room for the ellipsis unless this is the last character. */
        size_t room = out_size - 1 - n;
        bool last = i + sl >= len;
        if ((size_t)k > room || (!last && (size_t)k + 3 > room)) {
            if (room >= 3) {
                memcpy(out + n, ellipsis, 3);
                n += 3;
            }
            break;
        }
        memcpy(out + n, src, (size_t)k);
        n += (size_t)k;
        i += sl;
    }
    out[n] = '\0';
}

/* Replaces each "rtk_…" run in s with its redacted form (retake_token_redact's rule), in
 * place: the result is never longer. */
static void redact_tokens(char *s)
{
    static const char prefix[] = "rtk_\xe2\x80\xa6";
    char *p = s;
    while ((p = strstr(p, "rtk_")) != NULL) {
        size_t n =
            4 + strspn(p + 4, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-.");
        char red[sizeof(prefix) + 4];
        if (n >= 12)
            snprintf(red, sizeof(red), "%s%.4s", prefix, p + n - 4);
        else
            snprintf(red, sizeof(red), "%s", prefix);
        size_t rl = strlen(red);
        if (rl > n) { /* a run too short to hold the prefix: mask it */
            memset(p + 4, '*', n - 4);
            p += n;
            continue;
        }
        memcpy(p, red, rl);
        memmove(p + rl, p + n, strlen(p + n) + 1);
        p += rl;
    }
}

void retake_server_text(const cJSON *root, char *out, size_t out_size)
{
    out[0] = '\0';
    if (!cJSON_IsObject(root))
        return;
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(root, "error");
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(root, "message");
    const char *es = cJSON_IsString(e) ? e->valuestring : NULL;
    const char *ms = cJSON_IsString(m) ? m->valuestring : NULL;
    char raw[2 * SERVER_TEXT_MAX + 8];
    if (es && ms && *es && *ms && strcmp(es, ms) != 0)
        snprintf(raw, sizeof(raw), "%.*s: %.*s", SERVER_TEXT_MAX, es, SERVER_TEXT_MAX, ms);
    else
        snprintf(raw, sizeof(raw), "%.*s", SERVER_TEXT_MAX, (es && *es) ? es : ms ? ms : "");
    redact_tokens(raw);
    retake_sanitize(raw, strlen(raw), out, out_size < SERVER_TEXT_MAX ? out_size : SERVER_TEXT_MAX);
    explicit_bzero(raw, sizeof(raw));
}

enum retake_http_class retake_http_classify(long status)
{
    if (status >= 200 && status < 300)
        return RETAKE_HTTP_OK;
    switch (status) {
    case 400:
        return RETAKE_HTTP_BAD_INPUT;
    case 401:
        return RETAKE_HTTP_AUTH;
    case 404:
        return RETAKE_HTTP_NOT_FOUND;
    case 409:
        return RETAKE_HTTP_NO_SESSION;
    default:
        return (status >= 500 && status < 600) ? RETAKE_HTTP_SERVER : RETAKE_HTTP_OTHER;
    }
}

void retake_http_error(enum retake_endpoint ep, long status, const char *body, size_t len,
                       char *out, size_t out_size)
{
    const struct retake_endpoint_info *info = retake_endpoint_get(ep);
    const char *name = info ? info->name : "retake.tv";
    char text[SERVER_TEXT_MAX + 8] = "", quoted[SERVER_TEXT_MAX + 16] = "";
    cJSON *root = (body && len) ? cJSON_ParseWithLength(body, len) : NULL;
    retake_server_text(root, text, sizeof(text));
    cJSON_Delete(root);
    if (text[0])
        snprintf(quoted, sizeof(quoted), ": \"%s\"", text);

    switch (retake_http_classify(status)) {
    case RETAKE_HTTP_OK:
        snprintf(out, out_size, "%s: HTTP %ld (not an error)", name, status);
        break;
    case RETAKE_HTTP_BAD_INPUT:
        snprintf(out, out_size, "%s refused the request (HTTP 400: bad input%s) — check the %s%s",
                 name, ep == RETAKE_EP_REGISTER ? " / name taken" : "",
                 ep == RETAKE_EP_REGISTER ? "fields or choose another agent_name" : "fields",
                 quoted);
        break;
    case RETAKE_HTTP_AUTH:
        snprintf(out, out_size,
                 "access token rejected — re-register or set RETAKE_ACCESS_TOKEN (%s: HTTP 401%s)",
                 name, quoted);
        break;
    case RETAKE_HTTP_NOT_FOUND:
        snprintf(out, out_size,
                 "%s: ID not found (HTTP 404) — check the userDbId, session_id or user_id%s", name,
                 quoted);
        break;
    case RETAKE_HTTP_NO_SESSION:
        snprintf(out, out_size,
                 "%s: no active session (HTTP 409) — agent/stream/start must be called first%s",
                 name, quoted);
        break;
    case RETAKE_HTTP_SERVER:
        snprintf(out, out_size,
                 "%s: retake.tv server error (HTTP %ld) — retry; report if "
                 "persistent%s",
                 name, status, quoted);
        break;
    case RETAKE_HTTP_OTHER:
        snprintf(out, out_size, "%s: unexpected HTTP status %ld%s", name, status, quoted);
        break;
    }
}
