/*
 * api_parse — the typed parsers of api.h: what the CLI and the mirror read from ClawCast's
 * answers (the booking's slot JWT and queue position, now, getQueue, poll results, duet ids).
 * Every tree that held a slot JWT is zeroed before it is freed.
 */
#include "clawcast/api.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clawcast/api_internal.h"

/* Compact JSON of root without "ok", slot_jwt and position_in_queue into out, "{}" when it
 * does not fit or is empty. */
static void timing_json(const cJSON *root, char *out, size_t out_size)
{
    snprintf(out, out_size, "{}");
    cJSON *copy = cJSON_CreateObject();
    if (!copy)
        return;
    for (const cJSON *it = root->child; it; it = it->next) {
        if (!it->string || strcmp(it->string, "ok") == 0 || strcmp(it->string, "slot_jwt") == 0 ||
            strcmp(it->string, "position_in_queue") == 0)
            continue;
        cJSON *dup = cJSON_Duplicate(it, 1);
        if (!dup || !cJSON_AddItemToObject(copy, it->string, dup)) {
            cJSON_Delete(dup);
            cJSON_Delete(copy);
            return;
        }
    }
    char *s = clawcast_json_print_secret(copy);
    clawcast_json_delete_secret(copy);
    if (s && strlen(s) < out_size)
        memcpy(out, s, strlen(s) + 1);
    clawcast_body_free(s);
}

int clawcast_parse_booking(const char *body, size_t len, struct clawcast_booking *out, char *err,
                           size_t err_size)
{
    static const char what[] = "bookSlot response";
    cJSON *root;
    memset(out, 0, sizeof(*out));
    out->position_in_queue = -1;
    int rc = clawcast_json_root(body, len, what, &root, err, err_size);
    if (rc)
        return rc;
    rc = clawcast_check_ok(root, what, err, err_size);
    if (rc == 0)
        rc = clawcast_jstr(root, what, "slot_jwt", true, out->slot_jwt, sizeof(out->slot_jwt),
                           err, err_size);
    if (rc == 0)
        rc = clawcast_jint(root, what, "position_in_queue", true, &out->position_in_queue, err,
                           err_size);
    if (rc == 0)
        timing_json(root, out->timing_json, sizeof(out->timing_json));
    clawcast_json_delete_secret(root);
    if (rc)
        clawcast_booking_clear(out);
    return rc;
}

void clawcast_booking_clear(struct clawcast_booking *b)
{
    explicit_bzero(b, sizeof(*b));
    b->position_in_queue = -1;
}

/* "live": a boolean; null counts as false and an object (the live slot) as true, its
 * streamer_name going to name (may be NULL). */
static int parse_live(const cJSON *root, const char *what, bool *live, char *name,
                      size_t name_size, char *err, size_t err_size)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(root, "live");
    if (name)
        name[0] = '\0';
    if (cJSON_IsBool(item)) {
        *live = cJSON_IsTrue(item);
        return 0;
    }
    if (cJSON_IsNull(item)) {
        *live = false;
        return 0;
    }
    if (cJSON_IsObject(item)) {
        *live = true;
        return name ? clawcast_jstr(item, what, "streamer_name", false, name, name_size, err,
                                    err_size)
                    : 0;
    }
    if (!item)
        return clawcast_fail(err, err_size, -EPROTO, "%s: missing field \"live\"", what);
    return clawcast_fail(err, err_size, -EPROTO, "%s: field \"live\" must be true or false", what);
}

int clawcast_parse_now(const char *body, size_t len, struct clawcast_now *out, char *err,
                       size_t err_size)
{
    static const char what[] = "now response";
    cJSON *root;
    memset(out, 0, sizeof(*out));
    out->seconds_remaining = out->viewer_count = -1;
    int rc = clawcast_json_root(body, len, what, &root, err, err_size);
    if (rc)
        return rc;
    rc = clawcast_check_ok(root, what, err, err_size);
    if (rc == 0)
        rc = parse_live(root, what, &out->live, out->streamer_name, sizeof(out->streamer_name),
                        err, err_size);
    if (rc == 0 && !out->streamer_name[0])
        rc = clawcast_jstr(root, what, "streamer_name", false, out->streamer_name,
                           sizeof(out->streamer_name), err, err_size);
    if (rc == 0)
        rc = clawcast_jint(root, what, "seconds_remaining", false, &out->seconds_remaining, err,
                           err_size);
    if (rc == 0)
        rc = clawcast_jint(root, what, "viewer_count", false, &out->viewer_count, err, err_size);
    cJSON_Delete(root);
    return rc;
}

void clawcast_queue_free(struct clawcast_queue *q)
{
    for (size_t i = 0; q->items && i < q->count; i++)
        free(q->items[i].json);
    free(q->items);
    q->items = NULL;
    q->count = 0;
}

static int queue_entries(const cJSON *arr, const char *what, struct clawcast_queue *out,
                         char *err, size_t err_size)
{
    int n = cJSON_GetArraySize(arr);
    if (n == 0)
        return 0;
    out->items = calloc((size_t)n, sizeof(*out->items));
    if (!out->items)
        return clawcast_fail(err, err_size, -ENOMEM, "out of memory");
    for (const cJSON *it = arr->child; it; it = it->next) {
        struct clawcast_queue_entry *e = &out->items[out->count];
        e->json = cJSON_PrintUnformatted(it);
        if (!e->json)
            return clawcast_fail(err, err_size, -ENOMEM, "out of memory");
        out->count++;
        if (cJSON_IsObject(it)) {
            int rc = clawcast_jstr(it, what, "streamer_name", false, e->streamer_name,
                                   sizeof(e->streamer_name), err, err_size);
            if (rc)
                return rc;
        } else if (cJSON_IsString(it) && strlen(it->valuestring) < sizeof(e->streamer_name)) {
            /* A bare name: the document does not show the entries' shape. */
            memcpy(e->streamer_name, it->valuestring, strlen(it->valuestring) + 1);
        }
    }
    return 0;
}

int clawcast_parse_queue(const char *body, size_t len, struct clawcast_queue *out, char *err,
                         size_t err_size)
{
    static const char what[] = "getQueue response";
    cJSON *root;
    memset(out, 0, sizeof(*out));
    int rc = clawcast_json_root(body, len, what, &root, err, err_size);
    if (rc)
        return rc;
    rc = clawcast_check_ok(root, what, err, err_size);
    if (rc == 0)
        rc = parse_live(root, what, &out->live, out->live_name, sizeof(out->live_name), err,
                        err_size);
    const cJSON *q = cJSON_GetObjectItemCaseSensitive(root, "queue");
    if (rc == 0 && !cJSON_IsArray(q))
        rc = clawcast_fail(err, err_size, -EPROTO, q ? "%s: field \"queue\" must be an array"
                                                     : "%s: missing field \"queue\"",
                           what);
    if (rc == 0)
        rc = queue_entries(q, what, out, err, err_size);
    cJSON_Delete(root);
    if (rc)
        clawcast_queue_free(out);
    return rc;
}

/* An array of non-negative integers into counts; what/name for messages. */
static int int_array(const cJSON *root, const char *what, const char *name, int64_t *counts,
                     size_t max, size_t *n, char *err, size_t err_size)
{
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(root, name);
    *n = 0;
    if (!cJSON_IsArray(arr))
        return clawcast_fail(err, err_size, -EPROTO,
                             arr ? "%s: field \"%s\" must be an array of vote counts"
                                 : "%s: missing field \"%s\"",
                             what, name);
    for (const cJSON *it = arr->child; it; it = it->next) {
        if (*n >= max)
            return clawcast_fail(err, err_size, -EPROTO, "%s: field \"%s\" has more than %zu "
                                 "entries", what, name, max);
        if (clawcast_jint_value(it, &counts[*n]) != 0)
            return clawcast_fail(err, err_size, -EPROTO,
                                 "%s: field \"%s\"[%zu] must be a non-negative integer", what,
                                 name, *n);
        (*n)++;
    }
    return 0;
}

static int poll_options(const cJSON *root, const char *what, struct clawcast_poll_results *out,
                        char *err, size_t err_size)
{
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(root, "options");
    if (!cJSON_IsArray(arr))
        return 0; /* optional */
    for (const cJSON *it = arr->child; it; it = it->next) {
        if (out->n_options >= CLAWCAST_POLL_OPTIONS_PARSE_MAX)
            return clawcast_fail(err, err_size, -EPROTO, "%s: more than %d options", what,
                                 CLAWCAST_POLL_OPTIONS_PARSE_MAX);
        char *dst = out->options[out->n_options++];
        if (cJSON_IsString(it))
            snprintf(dst, CLAWCAST_FIELD_MAX, "%s", it->valuestring);
    }
    if (out->n_options != out->n_results)
        return clawcast_fail(err, err_size, -EPROTO,
                             "%s: %zu options but %zu results (\"results is an array of vote "
                             "counts matching the options\")",
                             what, out->n_options, out->n_results);
    return 0;
}

int clawcast_parse_poll_results(const char *body, size_t len, struct clawcast_poll_results *out,
                                char *err, size_t err_size)
{
    static const char what[] = "pollResults response";
    cJSON *root;
    memset(out, 0, sizeof(*out));
    out->total_votes = -1;
    int rc = clawcast_json_root(body, len, what, &root, err, err_size);
    if (rc)
        return rc;
    rc = clawcast_check_ok(root, what, err, err_size);
    if (rc == 0)
        rc = clawcast_jstr(root, what, "poll_id", true, out->poll_id, sizeof(out->poll_id), err,
                           err_size);
    if (rc == 0)
        rc = clawcast_jstr(root, what, "question", false, out->question, sizeof(out->question),
                           err, err_size);
    if (rc == 0)
        rc = int_array(root, what, "results", out->results, CLAWCAST_POLL_OPTIONS_PARSE_MAX,
                       &out->n_results, err, err_size);
    if (rc == 0)
        rc = poll_options(root, what, out, err, err_size);
    if (rc == 0)
        rc = clawcast_jint(root, what, "total_votes", false, &out->total_votes, err, err_size);
    cJSON_Delete(root);
    return rc;
}

int clawcast_parse_vote(const char *body, size_t len, int64_t *counts, size_t max, size_t *n,
                        char *err, size_t err_size)
{
    static const char what[] = "vote response";
    cJSON *root;
    *n = 0;
    int rc = clawcast_json_root(body, len, what, &root, err, err_size);
    if (rc)
        return rc;
    rc = clawcast_check_ok(root, what, err, err_size);
    if (rc == 0)
        rc = int_array(root, what, "results", counts, max, n, err, err_size);
    cJSON_Delete(root);
    return rc;
}

int clawcast_parse_duet_id(enum clawcast_endpoint ep, const char *body, size_t len, char *id,
                           size_t id_size, char *err, size_t err_size)
{
    const char *what = ep == CLAWCAST_EP_REQUEST_DUET  ? "requestDuet response"
                       : ep == CLAWCAST_EP_ACCEPT_DUET ? "acceptDuet response"
                                                       : NULL;
    cJSON *root;
    id[0] = '\0';
    if (!what)
        return clawcast_fail(err, err_size, -EINVAL, "no duet id in this endpoint's response");
    int rc = clawcast_json_root(body, len, what, &root, err, err_size);
    if (rc)
        return rc;
    rc = clawcast_check_ok(root, what, err, err_size);
    if (rc == 0 && ep == CLAWCAST_EP_ACCEPT_DUET) {
        rc = clawcast_jstr(root, what, "pending_id", true, id, id_size, err, err_size);
    } else if (rc == 0) {
        const char *name =
            cJSON_GetObjectItemCaseSensitive(root, "request_id") ? "request_id" : "id";
        rc = clawcast_jstr(root, what, name, true, id, id_size, err, err_size);
        if (rc == -EPROTO && strcmp(name, "id") == 0 && !cJSON_GetObjectItem(root, "id"))
            rc = clawcast_fail(err, err_size, -EPROTO,
                               "%s: missing field \"request_id\" (or \"id\")", what);
    }
    cJSON_Delete(root);
    return rc;
}

void clawcast_duet_requests_free(struct clawcast_duet_requests *r)
{
    free(r->items);
    r->items = NULL;
    r->count = 0;
}

/* One entry; -EPROTO (skip it) when it has no usable id. created_at may be a number. */
static int duet_entry(const cJSON *it, struct clawcast_duet_request *e)
{
    static const char what[] = "duetRequests entry";
    if (!cJSON_IsObject(it) ||
        clawcast_jstr(it, what, "id", true, e->id, sizeof(e->id), NULL, 0) != 0)
        return -EPROTO;
    /* Over-long optional text is cut rather than failing the entry. */
    const struct {
        const char *name;
        char *dst;
        size_t size;
    } f[] = {{"host_name", e->host_name, sizeof(e->host_name)},
             {"host_url", e->host_url, sizeof(e->host_url)},
             {"question", e->question, sizeof(e->question)},
             {"created_at", e->created_at, sizeof(e->created_at)}};
    for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(it, f[i].name);
        if (cJSON_IsString(v))
            snprintf(f[i].dst, f[i].size, "%s", v->valuestring);
        else if (cJSON_IsNumber(v))
            snprintf(f[i].dst, f[i].size, "%.0f", v->valuedouble);
    }
    return 0;
}

int clawcast_parse_duet_requests(const char *body, size_t len, struct clawcast_duet_requests *out,
                                 char *err, size_t err_size)
{
    static const char what[] = "duetRequests response";
    cJSON *root;
    memset(out, 0, sizeof(*out));
    int rc = clawcast_json_root(body, len, what, &root, err, err_size);
    if (rc)
        return rc;
    rc = clawcast_check_ok(root, what, err, err_size);
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(root, "requests");
    if (rc == 0 && !cJSON_IsArray(arr))
        rc = clawcast_fail(err, err_size, -EPROTO, arr ? "%s: field \"requests\" must be an array"
                                                       : "%s: missing field \"requests\"",
                           what);
    int n = rc == 0 ? cJSON_GetArraySize(arr) : 0;
    if (n > 0) {
        out->items = calloc((size_t)n, sizeof(*out->items));
        if (!out->items)
            rc = clawcast_fail(err, err_size, -ENOMEM, "out of memory");
    }
    for (const cJSON *it = (rc == 0 && n > 0) ? arr->child : NULL; it; it = it->next) {
        if (duet_entry(it, &out->items[out->count]) == 0)
            out->count++;
        else
            out->skipped++;
    }
    cJSON_Delete(root);
    if (rc)
        clawcast_duet_requests_free(out);
    return rc;
}

int clawcast_parse_ok(enum clawcast_endpoint ep, const char *body, size_t len, char *err,
                      size_t err_size)
{
    const struct clawcast_endpoint_info *info = clawcast_endpoint_get(ep);
    char what[64];
    snprintf(what, sizeof(what), "%s response", info ? info->name : "ClawCast");
    size_t i = 0;
    while (body && i < len && (body[i] == ' ' || body[i] == '\n' || body[i] == '\r' ||
                               body[i] == '\t'))
        i++;
    if (!body || i == len)
        return 0;
    cJSON *root;
    int rc = clawcast_json_root(body, len, what, &root, err, err_size);
    if (rc)
        return rc;
    rc = clawcast_check_ok(root, what, err, err_size);
    clawcast_json_delete_secret(root);
    return rc;
}
