/*
 * api_agent — request bodies and typed response parsers for the agent endpoints of retake.tv
 * (register … stream/comments), and the bookkeeping that delivers each chat comment once. Pure
 * functions over bytes; the control loop feeds them what libcurl received. See api.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "retake/api.h"
#include "retake/api_internal.h"

/* ---- bodies ---------------------------------------------------------------------------------- */

/* Adds name: value without copying value into the tree (see retake_json_print_secret). */
static bool add_ref(cJSON *obj, const char *name, const char *value)
{
    cJSON *item = cJSON_CreateStringReference(value ? value : "");
    if (!item)
        return false;
    if (!cJSON_AddItemToObject(obj, name, item)) {
        cJSON_Delete(item);
        return false;
    }
    return true;
}

/* Builds {names[i]: values[i]} and prints it. */
static char *build_body(const char *const *names, const char *const *values, size_t n)
{
    cJSON *obj = cJSON_CreateObject();
    if (!obj)
        return NULL;
    char *out = NULL;
    size_t i = 0;
    while (i < n && add_ref(obj, names[i], values[i]))
        i++;
    if (i == n)
        out = retake_json_print_secret(obj, false);
    cJSON_Delete(obj);
    return out;
}

char *retake_body_register(const struct retake_register_req *req)
{
    static const char *const names[] = {"agent_name", "agent_description", "image_url",
                                        "wallet_address", "ticker"};
    const char *values[] = {req->agent_name, req->agent_description, req->image_url,
                            req->wallet_address, req->ticker};
    return build_body(names, values, 5);
}

char *retake_body_verify(const char *tweet_url)
{
    static const char *const names[] = {"tweet_url"};
    const char *values[] = {tweet_url};
    return build_body(names, values, 1);
}

char *retake_body_chat_send(const char *message, const char *destination_user_id,
                            const char *access_token)
{
    static const char *const names[] = {"message", "destination_user_id", "access_token"};
    const char *values[] = {message, destination_user_id, access_token};
    return build_body(names, values, 3);
}

/* ---- typed parsers --------------------------------------------------------------------------- */

int retake_parse_register(const char *body, size_t len, struct retake_register_resp *out, char *err,
                          size_t err_size)
{
    static const char what[] = "register response";
    memset(out, 0, sizeof(*out));
    cJSON *root;
    int rc = retake_json_root(body, len, what, true, &root, err, err_size);
    if (rc)
        return rc;
    const struct retake_strfield fields[] = {
        {"access_token", true, out->access_token, sizeof(out->access_token)},
        {"agent_id", true, out->agent_id, sizeof(out->agent_id)},
        {"userDbId", true, out->user_db_id, sizeof(out->user_db_id)},
        {"wallet_address", false, out->wallet_address, sizeof(out->wallet_address)},
        {"token_address", false, out->token_address, sizeof(out->token_address)},
        {"token_ticker", false, out->token_ticker, sizeof(out->token_ticker)},
    };
    rc = retake_jstrs(root, what, "", fields, sizeof(fields) / sizeof(fields[0]), err, err_size);
    /* The tree's copy of the token. */
    const cJSON *tok = cJSON_GetObjectItemCaseSensitive(root, "access_token");
    if (cJSON_IsString(tok) && tok->valuestring)
        explicit_bzero(tok->valuestring, strlen(tok->valuestring));
    cJSON_Delete(root);
    if (rc)
        retake_register_resp_clear(out);
    return rc;
}

void retake_register_resp_clear(struct retake_register_resp *r)
{
    explicit_bzero(r, sizeof(*r));
}

int retake_parse_prepare_verify(const char *body, size_t len, char *message, size_t message_size,
                                char *err, size_t err_size)
{
    static const char what[] = "prepare-verify response";
    message[0] = '\0';
    cJSON *root;
    int rc = retake_json_root(body, len, what, true, &root, err, err_size);
    if (rc)
        return rc;
    rc = retake_jstr(root, what, "", "verification_message", true, message, message_size, err,
                     err_size);
    cJSON_Delete(root);
    return rc;
}

int retake_parse_verified(enum retake_endpoint ep, const char *body, size_t len, bool *verified,
                          char *err, size_t err_size)
{
    const char *what = "verification-status response";
    if (ep == RETAKE_EP_VERIFY)
        what = "verify response";
    *verified = false;
    cJSON *root;
    int rc = retake_json_root(body, len, what, true, &root, err, err_size);
    if (rc)
        return rc;
    rc = retake_jbool(root, what, "verified", verified, err, err_size);
    cJSON_Delete(root);
    return rc;
}

/* The current name when it holds a string, else the older name when present at all. */
static const char *pick_name(const cJSON *root, const char *current, const char *older)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(root, current);
    if (cJSON_IsString(item) || !cJSON_GetObjectItemCaseSensitive(root, older))
        return current;
    return older;
}

static bool has_space_or_control(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s <= 0x20 || *s == 0x7f)
            return true;
    return false;
}

static int rtmp_fields(const cJSON *root, struct retake_rtmp *out, char *err, size_t err_size)
{
    static const char what[] = "rtmp response";
    const char *url_name = pick_name(root, "url", "rtmp_url");
    const char *key_name = pick_name(root, "key", "stream_key");
    const struct retake_strfield fields[] = {
        {url_name, true, out->url, sizeof(out->url)},
        {key_name, true, out->key, sizeof(out->key)},
    };
    int rc = retake_jstrs(root, what, "", fields, 2, err, err_size);
    if (rc)
        return rc;
    out->legacy_names = strcmp(url_name, "rtmp_url") == 0 || strcmp(key_name, "stream_key") == 0;
    if (strncasecmp(out->url, "rtmp://", 7) != 0 && strncasecmp(out->url, "rtmps://", 8) != 0)
        return errmsg_fail(err, err_size, -EPROTO,
                           "%s: field \"%s\" is not an rtmp:// or rtmps:// URL", what, url_name);
    if (has_space_or_control(out->url) || has_space_or_control(out->key))
        return errmsg_fail(err, err_size, -EPROTO,
                           "%s: field \"%s\" or \"%s\" contains spaces or control characters", what,
                           url_name, key_name);
    /* "-f flv "$url/$key"": exactly one '/' between them whatever either side carries. */
    size_t ul = strlen(out->url);
    while (ul > 0 && out->url[ul - 1] == '/')
        ul--;
    const char *key = out->key + strspn(out->key, "/");
    if (!*key)
        return errmsg_fail(err, err_size, -EPROTO, "%s: field \"%s\" is empty", what, key_name);
    snprintf(out->publish_url, sizeof(out->publish_url), "%.*s/%s", (int)ul, out->url, key);
    return 0;
}

int retake_parse_rtmp(const char *body, size_t len, struct retake_rtmp *out, char *err,
                      size_t err_size)
{
    memset(out, 0, sizeof(*out));
    cJSON *root;
    int rc = retake_json_root(body, len, "rtmp response", true, &root, err, err_size);
    if (rc)
        return rc;
    rc = rtmp_fields(root, out, err, err_size);
    cJSON_Delete(root);
    if (rc)
        explicit_bzero(out, sizeof(*out));
    return rc;
}

static int start_token(const cJSON *token, struct retake_stream_start *out, char *err,
                       size_t err_size)
{
    static const char what[] = "stream/start response";
    out->has_token = cJSON_IsObject(token);
    if (!out->has_token)
        return 0;
    const struct retake_strfield fields[] = {
        {"name", false, out->token_name, sizeof(out->token_name)},
        {"ticker", false, out->token_ticker, sizeof(out->token_ticker)},
        {"imageUrl", false, out->token_image_url, sizeof(out->token_image_url)},
        {"tokenAddress", false, out->token_address, sizeof(out->token_address)},
        {"tokenType", false, out->token_type, sizeof(out->token_type)},
    };
    return retake_jstrs(token, what, "token.", fields, sizeof(fields) / sizeof(fields[0]), err,
                        err_size);
}

int retake_parse_stream_start(const char *body, size_t len, struct retake_stream_start *out,
                              char *err, size_t err_size)
{
    static const char what[] = "stream/start response";
    memset(out, 0, sizeof(*out));
    cJSON *root;
    int rc = retake_json_root(body, len, what, true, &root, err, err_size);
    if (rc)
        return rc;
    bool success = false;
    rc = retake_jbool(root, what, "success", &success, err, err_size);
    if (rc == 0)
        rc = start_token(cJSON_GetObjectItemCaseSensitive(root, "token"), out, err, err_size);
    if (rc == 0 && !success) {
        char text[256];
        retake_server_text(root, text, sizeof(text));
        rc = errmsg_fail(err, err_size, -EPROTO, "%s: \"success\" is false%s%s", what,
                         text[0] ? ": " : "", text);
    }
    cJSON_Delete(root);
    return rc;
}

int retake_parse_stream_status(const char *body, size_t len, struct retake_stream_status *out,
                               char *err, size_t err_size)
{
    static const char what[] = "stream/status response";
    memset(out, 0, sizeof(*out));
    out->viewers = out->uptime_seconds = -1;
    cJSON *root;
    int rc = retake_json_root(body, len, what, true, &root, err, err_size);
    if (rc)
        return rc;
    const struct retake_strfield fields[] = {
        {"token_address", false, out->token_address, sizeof(out->token_address)},
        {"userDbId", false, out->user_db_id, sizeof(out->user_db_id)},
    };
    rc = retake_jbool(root, what, "is_live", &out->is_live, err, err_size);
    if (rc == 0) /* optional from here on: these cannot fail */
        rc = retake_jstrs(root, what, "", fields, 2, err, err_size);
    retake_jint(root, what, "", "viewers", false, &out->viewers, err, err_size);
    retake_jint(root, what, "", "uptime_seconds", false, &out->uptime_seconds, err, err_size);
    cJSON_Delete(root);
    return rc;
}

int retake_parse_thumbnail(const char *body, size_t len, struct retake_thumbnail_resp *out,
                           char *err, size_t err_size)
{
    static const char what[] = "update-thumbnail response";
    memset(out, 0, sizeof(*out));
    cJSON *root;
    int rc = retake_json_root(body, len, what, true, &root, err, err_size);
    if (rc)
        return rc;
    rc = retake_jstr(root, what, "", "thumbnail_url", true, out->thumbnail_url,
                     sizeof(out->thumbnail_url), err, err_size);
    if (rc == 0) { /* informational only: a long message is cut, never an error */
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(root, "message");
        if (cJSON_IsString(m))
            retake_sanitize(m->valuestring, strlen(m->valuestring), out->message,
                            sizeof(out->message));
    }
    cJSON_Delete(root);
    return rc;
}

int retake_parse_stop(const char *body, size_t len, struct retake_stop_resp *out, char *err,
                      size_t err_size)
{
    static const char what[] = "stream/stop response";
    memset(out, 0, sizeof(*out));
    out->duration_seconds = out->viewers = -1;
    cJSON *root;
    int rc = retake_json_root(body, len, what, true, &root, err, err_size);
    if (rc)
        return rc;
    rc = retake_jstr(root, what, "", "status", true, out->status, sizeof(out->status), err,
                     err_size);
    /* Optional: absent or not an integer reads -1, never an error. */
    retake_jint(root, what, "", "duration_seconds", false, &out->duration_seconds, err, err_size);
    retake_jint(root, what, "", "viewers", false, &out->viewers, err, err_size);
    cJSON_Delete(root);
    return rc;
}

int retake_parse_skill_version(const char *body, size_t len, char *version, size_t version_size,
                               char *err, size_t err_size)
{
    static const char what[] = "skill.json";
    version[0] = '\0';
    cJSON *root;
    int rc = retake_json_root(body, len, what, true, &root, err, err_size);
    if (rc)
        return rc;
    rc = retake_jstr(root, what, "", "version", true, version, version_size, err, err_size);
    cJSON_Delete(root);
    return rc;
}

/* ---- comments -------------------------------------------------------------------------------- */

static void comment_free(struct retake_comment *c)
{
    free(c->id);
    free(c->text);
    free(c->stream_id);
    free(c->timestamp);
    free(c->author_username);
    free(c->author_wallet);
    free(c->author_avatar);
    cJSON_free(c->json);
    memset(c, 0, sizeof(*c));
}

void retake_comments_free(struct retake_comments *c)
{
    for (size_t i = 0; i < c->count; i++)
        comment_free(&c->items[i]);
    free(c->items);
    memset(c, 0, sizeof(*c));
}

/* A string member, or "" when absent or not a string. NULL only on ENOMEM. */
static char *dup_field(const cJSON *obj, const char *name)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, name);
    return strdup(cJSON_IsString(item) && item->valuestring ? item->valuestring : "");
}

/* Fills c from item. 0, -ENOMEM, or -EPROTO with the reason to skip it in why. */
static int comment_fill(const cJSON *item, struct retake_comment *c, char *why, size_t why_size)
{
    if (!cJSON_IsObject(item))
        return errmsg_fail(why, why_size, -EPROTO, "not an object");
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(item, "_id");
    const cJSON *text = cJSON_GetObjectItemCaseSensitive(item, "text");
    if (!cJSON_IsString(id) || !id->valuestring || !id->valuestring[0])
        return errmsg_fail(why, why_size, -EPROTO, "%s field \"_id\"", id ? "unusable" : "missing");
    if (!cJSON_IsString(text) || !text->valuestring)
        return errmsg_fail(why, why_size, -EPROTO, "%s field \"text\"",
                           text ? "unusable" : "missing");
    const cJSON *author = cJSON_GetObjectItemCaseSensitive(item, "author");
    const cJSON *ts = cJSON_GetObjectItemCaseSensitive(item, "timestamp");
    char num[32] = "";
    if (cJSON_IsNumber(ts)) /* epoch milliseconds: kept as text, like the string form */
        snprintf(num, sizeof(num), "%.0f", ts->valuedouble);
    c->id = strdup(id->valuestring);
    c->text = strdup(text->valuestring);
    c->stream_id = dup_field(item, "streamId");
    c->timestamp = num[0] ? strdup(num) : dup_field(item, "timestamp");
    c->author_username = dup_field(author, "fusername");
    c->author_wallet = dup_field(author, "walletAddress");
    c->author_avatar = dup_field(author, "favatar");
    c->author_fid = -1;
    if (retake_jint_value(cJSON_GetObjectItemCaseSensitive(author, "fid"), &c->author_fid) != 0)
        c->author_fid = -1;
    c->json = cJSON_PrintUnformatted(item);
    if (!c->id || !c->text || !c->stream_id || !c->timestamp || !c->author_username ||
        !c->author_wallet || !c->author_avatar || !c->json)
        return -ENOMEM;
    return 0;
}

static int comments_fill(const cJSON *arr, struct retake_comments *out, char *err, size_t err_size)
{
    size_t n = (size_t)cJSON_GetArraySize(arr);
    out->items = calloc(n ? n : 1, sizeof(*out->items));
    if (!out->items)
        return errmsg_fail(err, err_size, -ENOMEM, "out of memory");
    size_t index = 0;
    for (const cJSON *item = arr->child; item; item = item->next, index++) {
        struct retake_comment *c = &out->items[out->count];
        char why[128];
        int rc = comment_fill(item, c, why, sizeof(why));
        if (rc == -ENOMEM) {
            comment_free(c);
            return errmsg_fail(err, err_size, -ENOMEM, "out of memory");
        }
        if (rc) {
            comment_free(c);
            if (out->skipped++ == 0)
                snprintf(out->skip_reason, sizeof(out->skip_reason), "comments[%zu]: %s", index,
                         why);
            continue;
        }
        out->count++;
    }
    return 0;
}

int retake_parse_comments(const char *body, size_t len, struct retake_comments *out, char *err,
                          size_t err_size)
{
    static const char what[] = "stream/comments response";
    memset(out, 0, sizeof(*out));
    cJSON *root;
    int rc = retake_json_root(body, len, what, true, &root, err, err_size);
    if (rc)
        return rc;
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(root, "comments");
    if (!arr)
        rc = errmsg_fail(err, err_size, -EPROTO, "%s: missing field \"comments\"", what);
    else if (!cJSON_IsArray(arr))
        rc = errmsg_fail(err, err_size, -EPROTO, "%s: field \"comments\" must be an array", what);
    else
        rc = comments_fill(arr, out, err, err_size);
    cJSON_Delete(root);
    if (rc)
        retake_comments_free(out);
    return rc;
}

/* "2025-02-01T14:20:00Z", with optional fraction and ±hh:mm offset, or epoch seconds or
 * milliseconds as digits. Seconds since the epoch, or -1 when unparseable. */
static double parse_time(const char *s)
{
    if (!s || !*s)
        return -1;
    size_t digits = strspn(s, "0123456789");
    if (digits == strlen(s)) {
        double v = strtod(s, NULL);
        return digits >= 12 ? v / 1000.0 : v;
    }
    struct tm tm = {0};
    int used = 0;
    if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
               &tm.tm_min, &tm.tm_sec, &used) != 6 ||
        used != 19)
        return -1;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    double t = (double)timegm(&tm);
    const char *p = s + used;
    if (*p == '.') {
        char *end;
        t += strtod(p, &end);
        p = end;
    }
    int oh, om;
    if ((*p == '+' || *p == '-') && sscanf(p + 1, "%2d:%2d", &oh, &om) == 2)
        t -= (*p == '+' ? 1 : -1) * (oh * 3600.0 + om * 60.0);
    return t;
}

bool retake_comments_newest_first(const struct retake_comments *c)
{
    if (c->count < 2)
        return true;
    double first = parse_time(c->items[0].timestamp);
    double last = parse_time(c->items[c->count - 1].timestamp);
    return !(first >= 0 && last >= 0 && first < last);
}

const char *retake_comments_oldest_id(const struct retake_comments *c)
{
    if (c->count == 0)
        return NULL;
    return retake_comments_newest_first(c) ? c->items[c->count - 1].id : c->items[0].id;
}

int retake_seen_init(struct retake_seen_ids *s, size_t cap)
{
    memset(s, 0, sizeof(*s));
    if (cap == 0)
        return -EINVAL;
    s->ids = calloc(cap, sizeof(*s->ids));
    if (!s->ids)
        return -ENOMEM;
    s->cap = cap;
    return 0;
}

void retake_seen_free(struct retake_seen_ids *s)
{
    for (size_t i = 0; s->ids && i < s->cap; i++)
        free(s->ids[i]);
    free(s->ids);
    memset(s, 0, sizeof(*s));
}

bool retake_seen_contains(const struct retake_seen_ids *s, const char *id)
{
    for (size_t i = 0; i < s->count; i++)
        if (strcmp(s->ids[i], id) == 0) /* equality only: ids carry no order */
            return true;
    return false;
}

/* Takes ownership of id. The ring's oldest entry is at next once it is full. */
static void seen_put(struct retake_seen_ids *s, char *id)
{
    free(s->ids[s->next]);
    s->ids[s->next] = id;
    s->next = (s->next + 1) % s->cap;
    if (s->count < s->cap)
        s->count++;
}

int retake_seen_add(struct retake_seen_ids *s, const char *id)
{
    char *copy = strdup(id);
    if (!copy)
        return -ENOMEM;
    seen_put(s, copy);
    return 0;
}

static bool chosen_already(const struct retake_comments *page, const size_t *idx, size_t n,
                           const char *id)
{
    for (size_t k = 0; k < n; k++)
        if (strcmp(page->items[idx[k]].id, id) == 0)
            return true;
    return false;
}

int retake_comments_new_since(const struct retake_comments *page, struct retake_seen_ids *seen,
                              size_t *idx, size_t *n_new, bool *gap)
{
    bool newest_first = retake_comments_newest_first(page), any_seen = false;
    size_t n = 0;
    for (size_t k = 0; k < page->count; k++) {
        size_t i = newest_first ? page->count - 1 - k : k; /* oldest first */
        const char *id = page->items[i].id;
        if (retake_seen_contains(seen, id))
            any_seen = true;
        else if (!chosen_already(page, idx, n, id))
            idx[n++] = i;
    }
    /* Copy every id before recording any, so that ENOMEM records nothing. */
    char **copies = calloc(n ? n : 1, sizeof(*copies));
    if (!copies)
        return -ENOMEM;
    for (size_t k = 0; k < n; k++) {
        copies[k] = strdup(page->items[idx[k]].id);
        if (!copies[k]) {
            for (size_t j = 0; j < k; j++)
                free(copies[j]);
            free(copies);
            return -ENOMEM;
        }
    }
    if (gap)
        *gap = seen->count > 0 && page->count > 0 && !any_seen;
    for (size_t k = 0; k < n; k++)
        seen_put(seen, copies[k]);
    free(copies);
    *n_new = n;
    return 0;
}
