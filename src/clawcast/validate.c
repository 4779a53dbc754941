/*
 * validate — see validate.h. Used by the ClawCast request builders (api.c) and by the CLI on a
 * user's slides file, before anything goes on the wire. Pure: no I/O, no allocation.
 */
#include "clawcast/validate.h"
#include "core/utf8_strict.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define PATH_MAX_LEN 160
#define OURS " (agentcast's limit)"

static const char *const type_names[CLAWCAST_CONTENT_COUNT] = {
    [CLAWCAST_TERMINAL] = "terminal", [CLAWCAST_TEXT] = "text",   [CLAWCAST_DATA] = "data",
    [CLAWCAST_IMAGE] = "image",       [CLAWCAST_POLL] = "poll",   [CLAWCAST_BUILD] = "build",
};
/* "Duration per slide defaults by type (text=5s, data=6s, terminal=10s, image=8s, poll=15s,
 * build=15s)" */
static const int type_seconds[CLAWCAST_CONTENT_COUNT] = {
    [CLAWCAST_TERMINAL] = 10, [CLAWCAST_TEXT] = 5,  [CLAWCAST_DATA] = 6,
    [CLAWCAST_IMAGE] = 8,     [CLAWCAST_POLL] = 15, [CLAWCAST_BUILD] = 15,
};

static const char *const gif_hosts[] = {"media.giphy.com", "i.giphy.com", "media.tenor.com",
                                        "i.imgur.com", NULL};
static const char *const image_hosts[] = {"media.giphy.com",     "i.giphy.com",
                                          "media.tenor.com",     "i.imgur.com",
                                          "images.unsplash.com", "upload.wikimedia.org",
                                          "pbs.twimg.com",       NULL};

__attribute__((format(printf, 3, 4))) static int fail(char *err, size_t err_size, const char *fmt,
                                                      ...)
{
    if (err && err_size > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, err_size, fmt, ap);
        va_end(ap);
    }
    return -EINVAL;
}

/* base + "." + field, or field alone at the root. A path too long for the buffer is cut (it
 * only feeds messages). */
static void join(char *out, const char *base, const char *field)
{
    int n = (!base || !*base) ? snprintf(out, PATH_MAX_LEN, "%s", field)
                              : snprintf(out, PATH_MAX_LEN, "%s.%s", base, field);
    if (n < 0)
        out[0] = '\0';
}

static void join_index(char *out, const char *base, int i)
{
    int n = snprintf(out, PATH_MAX_LEN, "%s[%d]", base ? base : "", i);
    if (n < 0)
        out[0] = '\0';
}

const char *clawcast_content_type_name(enum clawcast_content_type t)
{
    return ((int)t < 0 || t >= CLAWCAST_CONTENT_COUNT) ? NULL : type_names[t];
}

int clawcast_default_duration(enum clawcast_content_type t)
{
    return ((int)t < 0 || t >= CLAWCAST_CONTENT_COUNT) ? 0 : type_seconds[t];
}

static int type_parse(const char *path, const char *s, enum clawcast_content_type *t, char *err,
                      size_t err_size)
{
    for (int i = 0; s && i < CLAWCAST_CONTENT_COUNT; i++) {
        if (strcmp(s, type_names[i]) == 0) {
            *t = (enum clawcast_content_type)i;
            return 0;
        }
    }
    return fail(err, err_size,
                "%s: \"%.40s\" is not a content type; the document's types are terminal, text, "
                "data, image, poll, build",
                path, s ? s : "");
}

int clawcast_content_type_parse(const char *s, enum clawcast_content_type *t, char *err,
                                size_t err_size)
{
    return type_parse("type", s, t, err, err_size);
}

/* ---- strings --------------------------------------------------------------------------------- */

enum text_kind {
    LINE,      /* no control characters */
    MULTILINE, /* newline and tab allowed */
    SCREEN,    /* any character but NUL (cannot occur in a C string) */
};

/* Checks s against kind and a length in characters (max_bytes bounds bytes instead when
 * non-zero). ours says whether max is the document's or ours. */
static int check_text(const char *path, const char *s, enum text_kind kind, size_t min,
                      size_t max, bool ours, char *err, size_t err_size)
{
    if (!s)
        return fail(err, err_size, "%s: missing (required)", path);
    size_t chars = 0, len = strlen(s);
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        uint32_t cp;
        size_t left = len - (size_t)(p - (const unsigned char *)s);
        int k = utf8_strict_next((const char *)p, left, &cp);
        if (k < 0)
            return fail(err, err_size, "%s: not valid UTF-8 (byte %zu)", path,
                        (size_t)(p - (const unsigned char *)s));
        bool ctrl = cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f);
        if (ctrl && (kind == LINE || (kind == MULTILINE && cp != '\n' && cp != '\t')))
            return fail(err, err_size, "%s: control character U+%04X at character %zu is not "
                        "allowed%s",
                        path, (unsigned)cp, chars + 1, kind == LINE ? " (one line)" : "");
        chars++;
        p += k;
    }
    if (chars < min)
        return fail(err, err_size, "%s: empty, at least %zu character%s", path, min,
                    min == 1 ? "" : "s");
    if (chars > max)
        return fail(err, err_size, "%s: %zu characters, at most %zu%s", path, chars, max,
                    ours ? OURS : "");
    return 0;
}

static int check_name(const char *path, const char *s, char *err, size_t err_size)
{
    if (!s)
        return fail(err, err_size, "%s: missing (required)", path);
    size_t n = strlen(s);
    if (n == 0 || n > CLAWCAST_NAME_MAX)
        return fail(err, err_size, "%s: %zu characters; the document allows 1–%d", path, n,
                    CLAWCAST_NAME_MAX);
    size_t ok = strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-");
    if (ok < n) {
        unsigned char c = (unsigned char)s[ok];
        char shown[16];
        if (c > 0x20 && c < 0x7f)
            snprintf(shown, sizeof(shown), "'%c'", c);
        else
            snprintf(shown, sizeof(shown), "byte 0x%02x", c);
        return fail(err, err_size,
                    "%s: %s at position %zu is not allowed; only letters, digits, underscores, "
                    "dots and dashes",
                    path, shown, ok + 1);
    }
    return 0;
}

/* ---- URLs ------------------------------------------------------------------------------------ */

/* Checks s as scheme://host[:port][/…]. https_only, and hosts (NULL: any) matched exactly and
 * case-insensitively. */
static int check_url(const char *path, const char *s, bool https_only, const char *const *hosts,
                     const char *what, char *err, size_t err_size)
{
    int rc = check_text(path, s, LINE, 1, CLAWCAST_URL_MAX, true, err, err_size);
    if (rc)
        return rc;
    if (strlen(s) > CLAWCAST_URL_MAX)
        return fail(err, err_size, "%s: %zu bytes, at most %d" OURS, path, strlen(s),
                    CLAWCAST_URL_MAX);
    if (strpbrk(s, " \t"))
        return fail(err, err_size, "%s: contains a space", path);
    const char *rest;
    if (strncasecmp(s, "https://", 8) == 0) {
        rest = s + 8;
    } else if (strncasecmp(s, "http://", 7) == 0) {
        if (https_only)
            return fail(err, err_size, "%s: \"%.80s\" uses http; HTTPS required", path, s);
        rest = s + 7;
    } else {
        return fail(err, err_size, "%s: \"%.80s\" is not a%s URL", path, s,
                    https_only ? "n https://" : "n http(s)://");
    }
    size_t auth = strcspn(rest, "/?#");
    if (memchr(rest, '@', auth))
        return fail(err, err_size, "%s: user info (\"…@\") is not allowed in the URL", path);
    size_t host = auth;
    const char *colon = memchr(rest, ':', auth);
    if (colon && rest[0] != '[') {
        host = (size_t)(colon - rest);
        size_t digits = strspn(colon + 1, "0123456789");
        if (digits == 0 || digits > 5 || colon + 1 + digits != rest + auth)
            return fail(err, err_size, "%s: bad port in \"%.80s\"", path, s);
    }
    if (host == 0)
        return fail(err, err_size, "%s: \"%.80s\" has no host", path, s);
    if (!hosts)
        return 0;
    for (const char *const *h = hosts; *h; h++)
        if (strlen(*h) == host && strncasecmp(rest, *h, host) == 0)
            return 0;
    return fail(err, err_size, "%s: host \"%.*s\" is not an allowed %s domain (allowed: %s)", path,
                (int)(host > 80 ? 80 : host), rest, what,
                hosts == gif_hosts ? "media.giphy.com, i.giphy.com, media.tenor.com, i.imgur.com"
                                   : "media.giphy.com, i.giphy.com, media.tenor.com, i.imgur.com, "
                                     "images.unsplash.com, upload.wikimedia.org, pbs.twimg.com");
}

int clawcast_validate_streamer_url(const char *s, char *err, size_t err_size)
{
    return check_url("streamer_url", s, false, NULL, NULL, err, err_size);
}

int clawcast_validate_gif_url(const char *s, char *err, size_t err_size)
{
    return check_url("gif_url", s, true, gif_hosts, "GIF", err, err_size);
}

int clawcast_validate_image_url(const char *s, char *err, size_t err_size)
{
    return check_url("image_url", s, true, image_hosts, "image", err, err_size);
}

/* ---- numbers and small fields ---------------------------------------------------------------- */

int clawcast_validate_duration_minutes(long minutes, char *err, size_t err_size)
{
    if (minutes < CLAWCAST_DURATION_MINUTES_MIN || minutes > CLAWCAST_DURATION_MINUTES_MAX)
        return fail(err, err_size, "duration_minutes: %ld; slots are 1, 2 or 3 minutes", minutes);
    return 0;
}

static int check_seconds(const char *path, long s, char *err, size_t err_size)
{
    if (s < CLAWCAST_SLIDE_SECONDS_MIN)
        return fail(err, err_size, "%s: %ld seconds, at least %d", path, s,
                    CLAWCAST_SLIDE_SECONDS_MIN);
    if (s > CLAWCAST_SLIDE_SECONDS_MAX)
        return fail(err, err_size, "%s: %ld seconds, at most %d", path, s,
                    CLAWCAST_SLIDE_SECONDS_MAX);
    return 0;
}

int clawcast_validate_duration_seconds(long seconds, char *err, size_t err_size)
{
    return check_seconds("duration_seconds", seconds, err, err_size);
}

static int check_color(const char *path, const char *s, char *err, size_t err_size)
{
    if (!s || s[0] != '#' || strlen(s) != 7 || strspn(s + 1, "0123456789abcdefABCDEF") != 6)
        return fail(err, err_size, "%s: \"%.20s\" is not a colour of the form #rrggbb", path,
                    s ? s : "");
    return 0;
}

int clawcast_validate_color(const char *s, char *err, size_t err_size)
{
    return check_color("color", s, err, err_size);
}

int clawcast_validate_poll_question(const char *s, char *err, size_t err_size)
{
    return check_text("question", s, LINE, 1, CLAWCAST_POLL_QUESTION_MAX, false, err, err_size);
}

int clawcast_validate_poll_option(const char *s, char *err, size_t err_size)
{
    return check_text("option", s, LINE, 1, CLAWCAST_POLL_OPTION_MAX, false, err, err_size);
}

static int check_id(const char *path, const char *s, char *err, size_t err_size)
{
    if (!s || !*s)
        return fail(err, err_size, "%s: missing (required)", path);
    size_t n = strlen(s);
    if (n > CLAWCAST_ID_MAX)
        return fail(err, err_size, "%s: %zu bytes, at most %d" OURS, path, n, CLAWCAST_ID_MAX);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p <= 0x20 || *p == 0x7f)
            return fail(err, err_size, "%s: spaces and control characters are not allowed",
                        path);
    return 0;
}

int clawcast_validate_streamer_name(const char *s, char *err, size_t err_size)
{
    return check_name("streamer_name", s, err, err_size);
}

/* ---- JSON objects ---------------------------------------------------------------------------- */

static const char *json_type(const cJSON *item)
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

static int want(const char *path, const cJSON *item, const char *what, char *err, size_t err_size)
{
    if (!item)
        return fail(err, err_size, "%s: missing (required)", path);
    return fail(err, err_size, "%s: must be %s, got %s", path, what, json_type(item));
}

/* The string field name of obj (its path in fpath), or NULL in *out when absent and optional. */
static int get_string(const cJSON *obj, const char *name, const char *base, bool required,
                      const char **out, char *fpath, char *err, size_t err_size)
{
    join(fpath, base, name);
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, name);
    *out = NULL;
    if (!item && !required)
        return 0;
    if (!cJSON_IsString(item) || !item->valuestring)
        return want(fpath, item, "a string", err, err_size);
    *out = item->valuestring;
    return 0;
}

/* An integral JSON number within long's range. */
static bool json_long(const cJSON *item, long *out)
{
    if (!cJSON_IsNumber(item))
        return false;
    double v = item->valuedouble;
    if (!isfinite(v) || v != floor(v) || v < -1e15 || v > 1e15)
        return false;
    *out = (long)v;
    return true;
}

/* Refuses any member of obj not named in known (NULL-terminated); what names the object kind. */
static int only_fields(const cJSON *obj, const char *base, const char *const *known,
                       const char *what, char *err, size_t err_size)
{
    for (const cJSON *it = obj->child; it; it = it->next) {
        bool ok = false;
        for (const char *const *k = known; *k && !ok; k++)
            ok = it->string && strcmp(it->string, *k) == 0;
        if (ok)
            continue;
        char list[200] = "", fpath[PATH_MAX_LEN];
        for (const char *const *k = known; *k; k++) {
            size_t l = strlen(list);
            snprintf(list + l, sizeof(list) - l, "%s%s", l ? ", " : "", *k);
        }
        join(fpath, base, it->string ? it->string : "?");
        return fail(err, err_size, "%s: unknown field for %s (known: %s)", fpath, what, list);
    }
    return 0;
}

static int check_object(const char *path, const cJSON *item, char *err, size_t err_size)
{
    return cJSON_IsObject(item) ? 0 : want(path && *path ? path : "(root)", item, "an object",
                                           err, err_size);
}

/* An optional or required string field checked with check_text. */
static int text_field(const cJSON *obj, const char *base, const char *name, bool required,
                      enum text_kind kind, size_t min, size_t max, bool ours, const char **out,
                      char *err, size_t err_size)
{
    char fpath[PATH_MAX_LEN];
    const char *s;
    int rc = get_string(obj, name, base, required, &s, fpath, err, err_size);
    if (rc == 0 && s)
        rc = check_text(fpath, s, kind, min, max, ours, err, err_size);
    if (out)
        *out = s;
    return rc;
}

static int content_terminal(const cJSON *c, const char *base, char *err, size_t err_size)
{
    static const char *const known[] = {"screen", NULL};
    int rc = only_fields(c, base, known, "terminal content", err, err_size);
    const char *s = NULL;
    char fpath[PATH_MAX_LEN];
    if (rc == 0)
        rc = get_string(c, "screen", base, true, &s, fpath, err, err_size);
    if (rc == 0)
        rc = check_text(fpath, s, SCREEN, 0, SIZE_MAX, false, err, err_size);
    if (rc == 0 && strlen(s) > CLAWCAST_SCREEN_MAX)
        rc = fail(err, err_size, "%s: %zu bytes, at most %d" OURS, fpath, strlen(s),
                  CLAWCAST_SCREEN_MAX);
    return rc;
}

static int content_text(const cJSON *c, const char *base, char *err, size_t err_size)
{
    static const char *const known[] = {"headline",    "body",       "meta",    "bg_color",
                                        "text_color",  "accent_color", "gif_url", "theme", NULL};
    static const char *const colors[] = {"bg_color", "text_color", "accent_color"};
    const size_t max = CLAWCAST_TEXT_FIELD_MAX;
    const char *headline, *body, *gif, *theme, *col;
    char fpath[PATH_MAX_LEN];
    int rc = only_fields(c, base, known, "text content", err, err_size);
    if (rc == 0)
        rc = text_field(c, base, "headline", false, MULTILINE, 0, max, true, &headline, err,
                        err_size);
    if (rc == 0)
        rc = text_field(c, base, "body", false, MULTILINE, 0, max, true, &body, err, err_size);
    if (rc == 0)
        rc = text_field(c, base, "meta", false, MULTILINE, 0, max, true, NULL, err, err_size);
    for (size_t i = 0; rc == 0 && i < 3; i++) {
        rc = get_string(c, colors[i], base, false, &col, fpath, err, err_size);
        if (rc == 0 && col)
            rc = check_color(fpath, col, err, err_size);
    }
    if (rc == 0)
        rc = get_string(c, "gif_url", base, false, &gif, fpath, err, err_size);
    if (rc == 0 && gif)
        rc = check_url(fpath, gif, true, gif_hosts, "GIF", err, err_size);
    if (rc == 0)
        rc = get_string(c, "theme", base, false, &theme, fpath, err, err_size);
    if (rc == 0 && theme && strcmp(theme, "meme") != 0)
        rc = fail(err, err_size, "%s: \"%.40s\" is not a theme; the document names only \"meme\"",
                  fpath, theme);
    if (rc == 0 && theme && !gif)
        rc = fail(err, err_size, "%s: \"meme\" needs a gif_url (\"Set theme: meme with a "
                  "gif_url\")", fpath);
    if (rc == 0 && (!headline || !*headline) && (!body || !*body))
        rc = fail(err, err_size, "%s: a text slide needs a headline or a body", base && *base ?
                  base : "content");
    return rc;
}

static int content_data(const cJSON *c, const char *base, char *err, size_t err_size)
{
    static const char *const known[] = {"rows", NULL};
    static const char *const row_known[] = {"label", "value", "change", NULL};
    char fpath[PATH_MAX_LEN], rpath[PATH_MAX_LEN];
    int rc = only_fields(c, base, known, "data content", err, err_size);
    if (rc)
        return rc;
    join(fpath, base, "rows");
    const cJSON *rows = cJSON_GetObjectItemCaseSensitive(c, "rows");
    if (!cJSON_IsArray(rows))
        return want(fpath, rows, "an array", err, err_size);
    int n = cJSON_GetArraySize(rows);
    if (n < 1)
        return fail(err, err_size, "%s: no rows, at least 1", fpath);
    if (n > CLAWCAST_DATA_ROWS_MAX)
        return fail(err, err_size, "%s: %d rows, at most %d" OURS, fpath, n,
                    CLAWCAST_DATA_ROWS_MAX);
    int i = 0;
    for (const cJSON *row = rows->child; row && rc == 0; row = row->next, i++) {
        join_index(rpath, fpath, i);
        rc = check_object(rpath, row, err, err_size);
        if (rc == 0)
            rc = only_fields(row, rpath, row_known, "a data row", err, err_size);
        if (rc == 0)
            rc = text_field(row, rpath, "label", true, LINE, 1, CLAWCAST_TEXT_FIELD_MAX, true,
                            NULL, err, err_size);
        if (rc == 0)
            rc = text_field(row, rpath, "value", true, LINE, 1, CLAWCAST_TEXT_FIELD_MAX, true,
                            NULL, err, err_size);
        if (rc == 0)
            rc = text_field(row, rpath, "change", false, LINE, 0, CLAWCAST_TEXT_FIELD_MAX, true,
                            NULL, err, err_size);
    }
    return rc;
}

static int content_image(const cJSON *c, const char *base, char *err, size_t err_size)
{
    static const char *const known[] = {"image_url", "caption", NULL};
    char fpath[PATH_MAX_LEN];
    const char *url;
    int rc = only_fields(c, base, known, "image content", err, err_size);
    if (rc == 0)
        rc = get_string(c, "image_url", base, true, &url, fpath, err, err_size);
    if (rc == 0)
        rc = check_url(fpath, url, true, image_hosts, "image", err, err_size);
    if (rc == 0)
        rc = text_field(c, base, "caption", false, MULTILINE, 0, CLAWCAST_TEXT_FIELD_MAX, true,
                        NULL, err, err_size);
    return rc;
}

static int content_poll(const cJSON *c, const char *base, char *err, size_t err_size)
{
    static const char *const known[] = {"question", "options", NULL};
    char fpath[PATH_MAX_LEN], opath[PATH_MAX_LEN];
    int rc = only_fields(c, base, known, "poll content", err, err_size);
    if (rc == 0)
        rc = text_field(c, base, "question", true, LINE, 1, CLAWCAST_POLL_QUESTION_MAX, false,
                        NULL, err, err_size);
    if (rc)
        return rc;
    join(fpath, base, "options");
    const cJSON *opts = cJSON_GetObjectItemCaseSensitive(c, "options");
    if (!cJSON_IsArray(opts))
        return want(fpath, opts, "an array of strings", err, err_size);
    int n = cJSON_GetArraySize(opts);
    if (n < CLAWCAST_POLL_OPTIONS_MIN || n > CLAWCAST_POLL_OPTIONS_MAX)
        return fail(err, err_size, "%s: %d option%s, %s %d", fpath, n, n == 1 ? "" : "s",
                    n < CLAWCAST_POLL_OPTIONS_MIN ? "at least" : "at most",
                    n < CLAWCAST_POLL_OPTIONS_MIN ? CLAWCAST_POLL_OPTIONS_MIN
                                                  : CLAWCAST_POLL_OPTIONS_MAX);
    int i = 0;
    for (const cJSON *o = opts->child; o && rc == 0; o = o->next, i++) {
        join_index(opath, fpath, i);
        if (!cJSON_IsString(o) || !o->valuestring)
            return want(opath, o, "a string", err, err_size);
        rc = check_text(opath, o->valuestring, LINE, 1, CLAWCAST_POLL_OPTION_MAX, false, err,
                        err_size);
    }
    return rc;
}

static int content_build(const cJSON *c, const char *base, char *err, size_t err_size)
{
    static const char *const known[] = {"steps", NULL};
    static const char *const step_known[] = {"type", "content", NULL};
    char fpath[PATH_MAX_LEN], spath[PATH_MAX_LEN], tpath[PATH_MAX_LEN];
    int rc = only_fields(c, base, known, "build content", err, err_size);
    if (rc)
        return rc;
    join(fpath, base, "steps");
    const cJSON *steps = cJSON_GetObjectItemCaseSensitive(c, "steps");
    if (!cJSON_IsArray(steps))
        return want(fpath, steps, "an array", err, err_size);
    int n = cJSON_GetArraySize(steps);
    if (n < CLAWCAST_BUILD_STEPS_MIN || n > CLAWCAST_BUILD_STEPS_MAX)
        return fail(err, err_size, "%s: %d steps, %s %d per build", fpath, n,
                    n < CLAWCAST_BUILD_STEPS_MIN ? "at least" : "at most",
                    n < CLAWCAST_BUILD_STEPS_MIN ? CLAWCAST_BUILD_STEPS_MIN
                                                 : CLAWCAST_BUILD_STEPS_MAX);
    int i = 0;
    for (const cJSON *st = steps->child; st && rc == 0; st = st->next, i++) {
        const char *type;
        join_index(spath, fpath, i);
        rc = check_object(spath, st, err, err_size);
        if (rc == 0)
            rc = only_fields(st, spath, step_known, "a build step", err, err_size);
        if (rc == 0)
            rc = get_string(st, "type", spath, true, &type, tpath, err, err_size);
        if (rc == 0 && strcmp(type, "log") != 0 && strcmp(type, "milestone") != 0 &&
            strcmp(type, "preview") != 0)
            rc = fail(err, err_size, "%s: \"%.40s\" is not a step type (log, milestone or "
                      "preview)", tpath, type);
        if (rc == 0)
            rc = text_field(st, spath, "content", true, MULTILINE, 1, CLAWCAST_TEXT_FIELD_MAX,
                            true, NULL, err, err_size);
    }
    return rc;
}

int clawcast_validate_content(enum clawcast_content_type t, const cJSON *content, const char *path,
                              char *err, size_t err_size)
{
    int rc = check_object(path, content, err, err_size);
    if (rc)
        return rc;
    switch (t) {
    case CLAWCAST_TERMINAL:
        return content_terminal(content, path, err, err_size);
    case CLAWCAST_TEXT:
        return content_text(content, path, err, err_size);
    case CLAWCAST_DATA:
        return content_data(content, path, err, err_size);
    case CLAWCAST_IMAGE:
        return content_image(content, path, err, err_size);
    case CLAWCAST_POLL:
        return content_poll(content, path, err, err_size);
    case CLAWCAST_BUILD:
        return content_build(content, path, err, err_size);
    default:
        return fail(err, err_size, "%s: unknown content type %d", path ? path : "", (int)t);
    }
}

/* type + content of a slide or frame; *t gets the type. */
static int type_and_content(const cJSON *obj, const char *path, enum clawcast_content_type *t,
                            char *err, size_t err_size)
{
    char fpath[PATH_MAX_LEN];
    const char *type;
    int rc = get_string(obj, "type", path, true, &type, fpath, err, err_size);
    if (rc == 0)
        rc = type_parse(fpath, type, t, err, err_size);
    if (rc == 0) {
        join(fpath, path, "content");
        rc = clawcast_validate_content(*t, cJSON_GetObjectItemCaseSensitive(obj, "content"),
                                       fpath, err, err_size);
    }
    return rc;
}

int clawcast_validate_slide(const cJSON *slide, const char *path, char *err, size_t err_size)
{
    static const char *const known[] = {"type", "content", "duration_seconds", NULL};
    enum clawcast_content_type t;
    char fpath[PATH_MAX_LEN];
    int rc = check_object(path, slide, err, err_size);
    if (rc == 0)
        rc = only_fields(slide, path, known, "a slide", err, err_size);
    if (rc == 0)
        rc = type_and_content(slide, path, &t, err, err_size);
    if (rc)
        return rc;
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(slide, "duration_seconds");
    if (!d)
        return 0;
    long s;
    join(fpath, path, "duration_seconds");
    if (!json_long(d, &s))
        return want(fpath, d, "a whole number of seconds", err, err_size);
    return check_seconds(fpath, s, err, err_size);
}

int clawcast_validate_slides(const cJSON *slides, const char *path, char *err, size_t err_size)
{
    char ipath[PATH_MAX_LEN];
    if (!path)
        path = "slides";
    if (!cJSON_IsArray(slides))
        return want(path, slides, "an array of slides", err, err_size);
    int n = cJSON_GetArraySize(slides);
    if (n == 0)
        return fail(err, err_size, "%s: empty; give 1–%d slides or leave the field out", path,
                    CLAWCAST_SLIDES_MAX);
    if (n > CLAWCAST_SLIDES_MAX)
        return fail(err, err_size, "%s: %d slides, at most %d", path, n, CLAWCAST_SLIDES_MAX);
    int i = 0;
    for (const cJSON *s = slides->child; s; s = s->next, i++) {
        join_index(ipath, path, i);
        int rc = clawcast_validate_slide(s, ipath, err, err_size);
        if (rc)
            return rc;
    }
    return 0;
}

int clawcast_validate_frame(const cJSON *frame, const char *path, char *err, size_t err_size)
{
    static const char *const known[] = {"type", "content", "delta", NULL};
    enum clawcast_content_type t;
    char fpath[PATH_MAX_LEN];
    int rc = check_object(path, frame, err, err_size);
    if (rc == 0)
        rc = only_fields(frame, path, known, "a frame", err, err_size);
    if (rc == 0)
        rc = type_and_content(frame, path, &t, err, err_size);
    if (rc)
        return rc;
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(frame, "delta");
    if (!d)
        return 0;
    join(fpath, path, "delta");
    if (!cJSON_IsBool(d))
        return want(fpath, d, "true or false", err, err_size);
    if (t != CLAWCAST_TERMINAL)
        return fail(err, err_size, "%s: only terminal frames append (\"use delta: true to "
                    "append\" is documented for terminal)", fpath);
    return 0;
}

int clawcast_validate_book(const cJSON *body, char *err, size_t err_size)
{
    static const char *const known[] = {"streamer_name", "streamer_url", "duration_minutes",
                                        "slides", NULL};
    char fpath[PATH_MAX_LEN];
    const char *name, *url;
    int rc = check_object(NULL, body, err, err_size);
    if (rc == 0)
        rc = only_fields(body, NULL, known, "a bookSlot body", err, err_size);
    if (rc == 0)
        rc = get_string(body, "streamer_name", NULL, true, &name, fpath, err, err_size);
    if (rc == 0)
        rc = check_name(fpath, name, err, err_size);
    if (rc == 0)
        rc = get_string(body, "streamer_url", NULL, true, &url, fpath, err, err_size);
    if (rc == 0)
        rc = check_url(fpath, url, false, NULL, NULL, err, err_size);
    if (rc)
        return rc;
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(body, "duration_minutes");
    long minutes;
    if (!json_long(m, &minutes))
        return want("duration_minutes", m, "1, 2 or 3", err, err_size);
    rc = clawcast_validate_duration_minutes(minutes, err, err_size);
    const cJSON *slides = cJSON_GetObjectItemCaseSensitive(body, "slides");
    if (rc == 0 && slides)
        rc = clawcast_validate_slides(slides, "slides", err, err_size);
    return rc;
}

int clawcast_validate_batch(const cJSON *body, char *err, size_t err_size)
{
    static const char *const known[] = {"slides", NULL};
    int rc = check_object(NULL, body, err, err_size);
    if (rc == 0)
        rc = only_fields(body, NULL, known, "a publishBatch body", err, err_size);
    if (rc == 0)
        rc = clawcast_validate_slides(cJSON_GetObjectItemCaseSensitive(body, "slides"), "slides",
                                      err, err_size);
    return rc;
}

long clawcast_slides_total_seconds(const cJSON *slides)
{
    if (clawcast_validate_slides(slides, NULL, NULL, 0) != 0)
        return -1;
    long total = 0;
    for (const cJSON *s = slides->child; s; s = s->next) {
        long d;
        enum clawcast_content_type t = CLAWCAST_TEXT;
        const cJSON *type = cJSON_GetObjectItemCaseSensitive(s, "type");
        type_parse("type", type->valuestring, &t, NULL, 0);
        if (!json_long(cJSON_GetObjectItemCaseSensitive(s, "duration_seconds"), &d))
            d = clawcast_default_duration(t);
        total += d;
    }
    return total;
}

/* ---- duets, chat, votes ---------------------------------------------------------------------- */

int clawcast_validate_request_duet(const char *name, const char *url, const char *question,
                                   char *err, size_t err_size)
{
    int rc = check_name("name", name, err, err_size);
    if (rc == 0)
        rc = check_url("url", url, false, NULL, NULL, err, err_size);
    if (rc == 0)
        rc = check_text("question", question, MULTILINE, 1, CLAWCAST_DUET_TEXT_MAX, true, err,
                        err_size);
    return rc;
}

int clawcast_validate_accept_duet(const char *request_id, const char *name, const char *url,
                                  const char *answer, char *err, size_t err_size)
{
    int rc = check_id("request_id", request_id, err, err_size);
    if (rc == 0)
        rc = check_name("name", name, err, err_size);
    if (rc == 0)
        rc = check_url("url", url, false, NULL, NULL, err, err_size);
    if (rc == 0)
        rc = check_text("answer", answer, MULTILINE, 1, CLAWCAST_DUET_TEXT_MAX, true, err,
                        err_size);
    return rc;
}

int clawcast_validate_duet_reply(const char *request_id, const char *name, const char *reply,
                                 char *err, size_t err_size)
{
    int rc = check_id("request_id", request_id, err, err_size);
    if (rc == 0)
        rc = check_name("name", name, err, err_size);
    if (rc == 0)
        rc = check_text("reply", reply, MULTILINE, 1, CLAWCAST_DUET_TEXT_MAX, true, err,
                        err_size);
    return rc;
}

int clawcast_validate_chat(const char *name, const char *text, char *err, size_t err_size)
{
    int rc = check_name("name", name, err, err_size);
    if (rc == 0)
        rc = check_text("text", text, MULTILINE, 1, CLAWCAST_CHAT_TEXT_MAX, true, err, err_size);
    return rc;
}

int clawcast_validate_vote(const char *poll_id, long option_index, int n_options,
                           const char *viewer_id, char *err, size_t err_size)
{
    int rc = check_id("poll_id", poll_id, err, err_size);
    if (rc == 0)
        rc = check_id("viewer_id", viewer_id, err, err_size);
    if (rc)
        return rc;
    long n = n_options > 0 ? n_options : CLAWCAST_POLL_OPTIONS_MAX;
    if (option_index < 0 || option_index >= n)
        return fail(err, err_size, "option_index: %ld is out of range; %s 0 to %ld", option_index,
                    n_options > 0 ? "this poll's options are" : "a poll has at most 6 options,",
                    n - 1);
    return 0;
}
