/*
 * api_public — human-readable tables for the public discovery endpoints (`agentcast discover`,
 * `agentcast status`). The document names the fields of most responses but not their envelopes,
 * so rows are found generically (root array, or the first array inside the root object) and the
 * documented fields become the columns. Everything printed is server text: control characters
 * are replaced so that a username cannot drive the terminal.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/utf8_strict.h"
#include "retake/api.h"
#include "retake/api_internal.h"
#include "retake/validate.h"

#define CELL_CHARS 40    /* a table cell is cut to this many characters, "…" included */
#define RECORD_CHARS 200 /* a record's value likewise */
#define KEY_CHARS 28     /* record layout: widest key column */
#define MAX_COLUMNS 8
#define CELL_BYTES (RECORD_CHARS * 4 + 8)

struct family {
    bool record; /* a single object: "field: value" lines */
    const char *cols[MAX_COLUMNS + 1];
};

/* clang-format off */
#define USER_COLS {"user_id", "username", "ticker", "token_address", "market_cap", "rank", NULL}
#define SESSION_COLS {"session_id", "streamer_id", "title", NULL}
/* clang-format on */

/* Section 5's tables. Endpoints whose fields the document does not list get no columns and
 * show the first row's own fields. */
static const struct family families[RETAKE_EP_COUNT] = {
    [RETAKE_EP_USERS_SEARCH] = {false, USER_COLS},
    [RETAKE_EP_USERS_LIVE] = {false, USER_COLS},
    [RETAKE_EP_USERS_NEWEST] = {false, USER_COLS},
    [RETAKE_EP_USERS_METADATA] = {true,
                                  {"username", "bio", "wallet_address", "social_links",
                                   "profile_picture_url", NULL}},
    [RETAKE_EP_USERS_STREAMER] = {true, {"streamer_id", "username", NULL}},
    [RETAKE_EP_SESSIONS_ACTIVE] = {false, SESSION_COLS},
    [RETAKE_EP_SESSIONS_ACTIVE_STREAMER] = {false, SESSION_COLS},
    [RETAKE_EP_SESSIONS_RECORDED] = {false, SESSION_COLS},
    [RETAKE_EP_SESSIONS_RECORDED_STREAMER] = {false, SESSION_COLS},
    [RETAKE_EP_SESSIONS_SCHEDULED] = {false, SESSION_COLS},
    [RETAKE_EP_SESSIONS_SCHEDULED_STREAMER] = {false, SESSION_COLS},
    [RETAKE_EP_SESSION_JOIN] = {true, {NULL}},
    [RETAKE_EP_TOKENS_TOP] = {false,
                              {"rank", "user_id", "name", "ticker", "address", "current_market_cap",
                               NULL}},
    [RETAKE_EP_TOKENS_TRENDING] = {false, {"username", "ticker", "growth_24h", "market_cap", NULL}},
    [RETAKE_EP_TOKEN_STATS] = {true,
                               {"current_price", "market_cap", "all_time_high", "growth", "volume",
                                "earnings", NULL}},
    [RETAKE_EP_CHAT] = {false, {"sender_username", "type", "text", "tip_data", "trade_data", NULL}},
};

/* Cuts s (valid UTF-8) to at most max characters, the last being "…" when anything is cut.
 * Returns the number of characters kept. */
static size_t cut_chars(char *s, size_t max)
{
    size_t chars = 0, i = 0, len = strlen(s), cut_at = 0;
    while (i < len) {
        uint32_t cp;
        int k = utf8_strict_next(s + i, len - i, &cp);
        i += k > 0 ? (size_t)k : 1;
        chars++;
        if (chars == max - 1)
            cut_at = i;
    }
    if (chars <= max)
        return chars;
    memcpy(s + cut_at, "\xe2\x80\xa6", 4);
    return max;
}

/* The text of one value for a cell, sanitized and cut to max characters; out_size ≥ 8. Absent
 * and null read "-". Returns the number of characters. */
static size_t cell_text(const cJSON *item, size_t max, char *out, size_t out_size)
{
    char num[64];
    out_size -= 4; /* room for cut_chars' "…" when it cuts the last few bytes */
    if (!item || cJSON_IsNull(item)) {
        snprintf(out, out_size, "-");
    } else if (cJSON_IsString(item)) {
        retake_sanitize(item->valuestring, strlen(item->valuestring), out, out_size);
    } else if (cJSON_IsBool(item)) {
        snprintf(out, out_size, "%s", cJSON_IsTrue(item) ? "true" : "false");
    } else if (cJSON_IsNumber(item)) {
        double v = item->valuedouble;
        if (v == (double)(long long)v && v > -1e15 && v < 1e15)
            snprintf(num, sizeof(num), "%lld", (long long)v);
        else
            snprintf(num, sizeof(num), "%.10g", v);
        snprintf(out, out_size, "%s", num);
    } else {
        char *json = cJSON_PrintUnformatted(item);
        const char *s = json ? json : "?";
        retake_sanitize(s, strlen(s), out, out_size);
        cJSON_free(json);
    }
    return cut_chars(out, max);
}

/* A column name from the server (fallback columns) made safe like a cell. */
static size_t header_text(const char *name, char *out, size_t out_size)
{
    retake_sanitize(name, strlen(name), out, out_size - 4);
    return cut_chars(out, CELL_CHARS);
}

static void pad(FILE *out, size_t n)
{
    for (size_t i = 0; i < n; i++)
        fputc(' ', out);
}

/* The columns to show: documented ones some row has, else the first object row's scalars. */
static size_t pick_columns(const cJSON *rows, const struct family *f, const char **cols)
{
    size_t n = 0;
    for (size_t c = 0; f->cols[c] && n < MAX_COLUMNS; c++) {
        for (const cJSON *row = rows->child; row; row = row->next) {
            if (cJSON_GetObjectItemCaseSensitive(row, f->cols[c])) {
                cols[n++] = f->cols[c];
                break;
            }
        }
    }
    if (n > 0)
        return n;
    for (const cJSON *row = rows->child; row; row = row->next) {
        if (!cJSON_IsObject(row))
            continue;
        for (const cJSON *m = row->child; m && n < MAX_COLUMNS; m = m->next)
            if (m->string && !cJSON_IsObject(m) && !cJSON_IsArray(m))
                cols[n++] = m->string;
        break;
    }
    return n;
}

static void print_table(const cJSON *rows, const struct family *f, FILE *out)
{
    if (!rows->child) {
        fputs("(none)\n", out);
        return;
    }
    const char *cols[MAX_COLUMNS];
    size_t ncols = pick_columns(rows, f, cols), width[MAX_COLUMNS];
    char cell[CELL_BYTES];
    if (ncols == 0) { /* rows that are not objects: one value per line */
        for (const cJSON *row = rows->child; row; row = row->next) {
            cell_text(row, RECORD_CHARS, cell, sizeof(cell));
            fprintf(out, "%s\n", cell);
        }
        return;
    }
    /* Two passes (widths, then text) rather than storing every cell. */
    for (size_t c = 0; c < ncols; c++) {
        width[c] = header_text(cols[c], cell, sizeof(cell));
        for (const cJSON *row = rows->child; row; row = row->next) {
            size_t w = cell_text(cJSON_GetObjectItemCaseSensitive(row, cols[c]), CELL_CHARS, cell,
                                 sizeof(cell));
            width[c] = w > width[c] ? w : width[c];
        }
    }
    for (size_t c = 0; c < ncols; c++) {
        size_t w = header_text(cols[c], cell, sizeof(cell));
        fputs(cell, out);
        if (c + 1 < ncols)
            pad(out, width[c] - w + 2);
    }
    fputc('\n', out);
    for (const cJSON *row = rows->child; row; row = row->next) {
        for (size_t c = 0; c < ncols; c++) {
            size_t w = cell_text(cJSON_GetObjectItemCaseSensitive(row, cols[c]), CELL_CHARS, cell,
                                 sizeof(cell));
            fputs(cell, out);
            if (c + 1 < ncols)
                pad(out, width[c] - w + 2);
        }
        fputc('\n', out);
    }
}

static void print_field(const char *prefix, const cJSON *item, FILE *out)
{
    char key[KEY_CHARS * 4 + 8], cell[CELL_BYTES];
    char raw[256];
    snprintf(raw, sizeof(raw), "%s%s", prefix, item->string ? item->string : "?");
    retake_sanitize(raw, strlen(raw), key, sizeof(key) - 4);
    size_t kw = cut_chars(key, KEY_CHARS);
    cell_text(item, RECORD_CHARS, cell, sizeof(cell));
    fprintf(out, "%s:", key);
    pad(out, KEY_CHARS + 1 - kw);
    fprintf(out, "%s\n", cell);
}

/* Prints one member, flattening a nested object one level ("growth.24h"). */
static void print_member(const cJSON *m, FILE *out)
{
    if (cJSON_IsObject(m) && m->child) {
        char prefix[128];
        snprintf(prefix, sizeof(prefix), "%.100s.", m->string ? m->string : "?");
        for (const cJSON *sub = m->child; sub; sub = sub->next)
            print_field(prefix, sub, out);
    } else {
        print_field("", m, out);
    }
}

static bool listed(const struct family *f, const char *name)
{
    for (size_t c = 0; name && f->cols[c]; c++)
        if (strcmp(f->cols[c], name) == 0)
            return true;
    return false;
}

/* Documented fields first, in the document's order, then the rest as the server sent them. */
static void print_record(const cJSON *obj, const struct family *f, FILE *out)
{
    if (!obj->child) {
        fputs("(empty)\n", out);
        return;
    }
    for (size_t c = 0; f->cols[c]; c++) {
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(obj, f->cols[c]);
        if (m)
            print_member(m, out);
    }
    for (const cJSON *m = obj->child; m; m = m->next)
        if (!listed(f, m->string))
            print_member(m, out);
}

static const cJSON *first_array(const cJSON *obj)
{
    for (const cJSON *m = obj->child; m; m = m->next)
        if (cJSON_IsArray(m))
            return m;
    return NULL;
}

int retake_format_public(enum retake_endpoint ep, const cJSON *root, FILE *out)
{
    static const struct family none = {false, {NULL}};
    const struct family *f = ((int)ep >= 0 && ep < RETAKE_EP_COUNT) ? &families[ep] : &none;
    if (!root)
        return -EINVAL;
    if (cJSON_IsArray(root)) {
        print_table(root, f, out);
    } else if (cJSON_IsObject(root)) {
        const cJSON *rows = f->record ? NULL : first_array(root);
        if (rows)
            print_table(rows, f, out);
        else
            print_record(root, f, out);
    } else {
        return -EINVAL;
    }
    return ferror(out) ? -EIO : 0;
}
