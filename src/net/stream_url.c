/*
 * stream_url — parses what `--output` accepts (rtmp://, rtmps://, or a .flv path) before any
 * output is started, so that a typo is reported at once with a reason instead of surfacing as a
 * connect failure later. Also redacts stream keys for logs.
 *
 * Error messages never quote the URL itself: it may carry the stream key.
 */
#include "net/stream_url.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/errmsg.h"

#define HOST_NAME_MAX_LEN 253 /* DNS limit for a name in text form */
#define HOST_LABEL_MAX_LEN 63

static bool ends_with_ci(const char *s, size_t len, const char *suffix)
{
    size_t n = strlen(suffix);
    return len >= n && strncasecmp(s + len - n, suffix, n) == 0;
}

/* Host names: letters, digits, '-', '_' (seen in the wild) and dots between non-empty labels of
 * at most 63 bytes. A name made only of digits and dots must be a valid IPv4 address. */
static int check_host_name(const char *h, size_t len, char *err, size_t err_size)
{
    if (len > HOST_NAME_MAX_LEN)
        return errmsg_fail(err, err_size, -EINVAL, "host name too long (max %d bytes)",
                           HOST_NAME_MAX_LEN);
    bool numeric = true;
    size_t label = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)h[i];
        if (c == '.') {
            if (label == 0)
                return errmsg_fail(err, err_size, -EINVAL, "host name has an empty label");
            label = 0;
            continue;
        }
        if (!isalnum(c) && c != '-' && c != '_')
            return errmsg_fail(err, err_size, -EINVAL, "invalid character in host name");
        if (!isdigit(c))
            numeric = false;
        if (++label > HOST_LABEL_MAX_LEN)
            return errmsg_fail(err, err_size, -EINVAL, "host name label too long (max %d bytes)",
                               HOST_LABEL_MAX_LEN);
    }
    if (label == 0)
        return errmsg_fail(err, err_size, -EINVAL, "host name ends with a dot");
    if (numeric) {
        char ip[HOST_NAME_MAX_LEN + 1];
        struct in_addr addr;
        memcpy(ip, h, len);
        ip[len] = '\0';
        if (inet_pton(AF_INET, ip, &addr) != 1)
            return errmsg_fail(err, err_size, -EINVAL, "invalid IPv4 address in URL");
    }
    return 0;
}

/* Parses "host[:port]", "[v6]" or "[v6]:port" (authority without user info). */
static int parse_authority(const char *a, size_t len, struct stream_url *out, char *err,
                           size_t err_size)
{
    const char *host = a, *port = NULL;
    size_t host_len;
    if (len > 0 && a[0] == '[') {
        const char *close = memchr(a, ']', len);
        if (!close)
            return errmsg_fail(err, err_size, -EINVAL, "IPv6 address in URL lacks its closing ']'");
        host = a + 1;
        host_len = (size_t)(close - host);
        const char *after = close + 1;
        if (after < a + len && *after != ':')
            return errmsg_fail(err, err_size, -EINVAL,
                               "unexpected characters after the IPv6 address in URL");
        if (after < a + len)
            port = after + 1;
        if (host_len == 0)
            return errmsg_fail(err, err_size, -EINVAL, "URL has no host");
        char ip[64];
        struct in6_addr addr6;
        if (host_len >= sizeof(ip))
            return errmsg_fail(err, err_size, -EINVAL, "invalid IPv6 address in URL");
        memcpy(ip, host, host_len);
        ip[host_len] = '\0';
        if (inet_pton(AF_INET6, ip, &addr6) != 1)
            return errmsg_fail(err, err_size, -EINVAL, "invalid IPv6 address in URL");
    } else {
        const char *colon = memchr(a, ':', len);
        host_len = colon ? (size_t)(colon - a) : len;
        if (colon)
            port = colon + 1;
        if (host_len == 0)
            return errmsg_fail(err, err_size, -EINVAL, "URL has no host");
        int rc = check_host_name(host, host_len, err, err_size);
        if (rc < 0)
            return rc;
    }
    memcpy(out->host, host, host_len);
    out->host[host_len] = '\0';

    if (port) {
        size_t plen = (size_t)(a + len - port);
        if (plen == 0)
            return errmsg_fail(err, err_size, -EINVAL, "URL has an empty port");
        if (plen > 5)
            return errmsg_fail(err, err_size, -EINVAL, "port out of range (1..65535)");
        int value = 0;
        for (size_t i = 0; i < plen; i++) {
            if (!isdigit((unsigned char)port[i]))
                return errmsg_fail(err, err_size, -EINVAL, "port is not a number");
            value = value * 10 + (port[i] - '0');
        }
        if (value < 1 || value > 65535)
            return errmsg_fail(err, err_size, -EINVAL, "port out of range (1..65535)");
        out->port = value;
    }
    return 0;
}

/* Splits "app[/inst…]/key[?query]" at the last '/' before any '?'. */
static int parse_path(const char *p, struct stream_url *out, char *err, size_t err_size)
{
    const char *query = strchr(p, '?');
    const char *end_of_segments = query ? query : p + strlen(p);
    const char *slash = NULL;
    for (const char *s = p; s < end_of_segments; s++) {
        if (*s == '/')
            slash = s;
    }
    if (!slash)
        return errmsg_fail(err, err_size, -EINVAL,
                           "URL has no stream key (expected rtmp://host/app/key)");
    size_t app_len = (size_t)(slash - p);
    const char *key = slash + 1;
    size_t key_len = strlen(key);
    if (app_len == 0)
        return errmsg_fail(err, err_size, -EINVAL,
                           "URL has no application name (expected rtmp://host/app/key)");
    if (key == end_of_segments)
        return errmsg_fail(err, err_size, -EINVAL,
                           "URL has no stream key (expected rtmp://host/app/key)");
    for (size_t i = 0; i < app_len; i++) {
        if (p[i] == '/' && (i + 1 == app_len || p[i + 1] == '/'))
            return errmsg_fail(err, err_size, -EINVAL,
                               "URL has an empty path segment in the application name");
    }
    if (app_len >= sizeof(out->app))
        return errmsg_fail(err, err_size, -EINVAL, "application name too long (max %zu bytes)",
                           sizeof(out->app) - 1);
    if (key_len >= sizeof(out->key))
        return errmsg_fail(err, err_size, -EINVAL, "stream key too long (max %zu bytes)",
                           sizeof(out->key) - 1);
    memcpy(out->app, p, app_len);
    out->app[app_len] = '\0';
    memcpy(out->key, key, key_len + 1);
    return 0;
}

static int parse_rtmp(const char *url, const char *sep, struct stream_url *out, char *err,
                      size_t err_size)
{
    size_t scheme_len = (size_t)(sep - url);
    if (scheme_len == 4 && strncasecmp(url, "rtmp", 4) == 0) {
        out->kind = STREAM_URL_RTMP;
        out->port = 1935;
    } else if (scheme_len == 5 && strncasecmp(url, "rtmps", 5) == 0) {
        out->kind = STREAM_URL_RTMPS;
        out->port = 443;
    } else {
        return errmsg_fail(err, err_size, -EINVAL,
                           "unsupported URL scheme \"%.*s\" (expected rtmp or rtmps)",
                           scheme_len > 16 ? 16 : (int)scheme_len, url);
    }
    if (strchr(url, ' '))
        return errmsg_fail(err, err_size, -EINVAL, "URL contains a space");

    const char *authority = sep + 3;
    const char *slash = strchr(authority, '/');
    size_t auth_len = slash ? (size_t)(slash - authority) : strlen(authority);
    if (memchr(authority, '@', auth_len))
        return errmsg_fail(err, err_size, -EINVAL,
                           "user information (user@host) in URL is not supported");
    int rc = parse_authority(authority, auth_len, out, err, err_size);
    if (rc < 0)
        return rc;
    if (!slash)
        return errmsg_fail(err, err_size, -EINVAL,
                           "URL has no application and stream key "
                           "(expected rtmp://host/app/key)");
    return parse_path(slash + 1, out, err, err_size);
}

int stream_url_parse(const char *url, struct stream_url *out, char *err, size_t err_size)
{
    memset(out, 0, sizeof(*out));
    if (err && err_size > 0)
        err[0] = '\0';
    if (!url || !*url)
        return errmsg_fail(err, err_size, -EINVAL, "empty output");
    size_t len = strlen(url);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)url[i];
        if (c < 0x20 || c == 0x7f)
            return errmsg_fail(err, err_size, -EINVAL, "output contains a control character");
    }
    const char *sep = strstr(url, "://");
    if (sep)
        return parse_rtmp(url, sep, out, err, err_size);
    if (!ends_with_ci(url, len, ".flv"))
        return errmsg_fail(err, err_size, -EINVAL,
                           "output is neither an rtmp:// or rtmps:// URL nor a path "
                           "ending in .flv");
    if (len >= sizeof(out->path))
        return errmsg_fail(err, err_size, -EINVAL, "file path too long (max %zu bytes)",
                           sizeof(out->path) - 1);
    out->kind = STREAM_URL_FILE;
    memcpy(out->path, url, len + 1);
    return 0;
}

/* Appends n bytes of s to out (capacity cap, used *pos) as far as they fit. */
static void append(char *out, size_t cap, size_t *pos, const char *s, size_t n)
{
    if (*pos + 1 >= cap)
        return;
    size_t room = cap - 1 - *pos;
    if (n > room)
        n = room;
    memcpy(out + *pos, s, n);
    *pos += n;
}

/* Drops a UTF-8 sequence cut short by truncation at the end of out[0..*pos). */
static void trim_partial_utf8(const char *out, size_t *pos)
{
    size_t start = *pos;
    while (start > 0 && ((unsigned char)out[start - 1] & 0xc0) == 0x80)
        start--;
    if (start == 0)
        return;
    unsigned char lead = (unsigned char)out[start - 1];
    size_t want = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
    if (*pos - (start - 1) < want)
        *pos = start - 1;
}

/* Keys shorter than this are hidden entirely: showing 4 of 6 characters would give most of it
 * away. */
#define REDACT_MIN_KEY_CHARS 8
#define REDACT_TAIL_CHARS 4

void stream_url_redact(const char *url, char *out, size_t out_size)
{
    if (!out || out_size == 0)
        return;
    out[0] = '\0';
    if (!url)
        return;
    size_t pos = 0;
    const char *sep = strstr(url, "://");
    const char *path = sep ? strchr(sep + 3, '/') : NULL;
    if (!path) {
        append(out, out_size, &pos, url, strlen(url));
    } else {
        const char *query = strchr(path, '?');
        const char *key = path;
        for (const char *s = path; *s && s != query; s++) {
            if (*s == '/')
                key = s;
        }
        key++;
        append(out, out_size, &pos, url, (size_t)(key - url));
        const char *end = key + strlen(key);
        if (end > key) {
            /* Count characters (UTF-8 lead bytes), not bytes, so a tail is never split. */
            size_t chars = 0;
            const char *tail = end;
            for (const char *s = end; s > key;) {
                s--;
                if (((unsigned char)*s & 0xc0) != 0x80) {
                    chars++;
                    if (chars <= REDACT_TAIL_CHARS)
                        tail = s;
                }
            }
            append(out, out_size, &pos, "\xe2\x80\xa6", 3); /* U+2026 HORIZONTAL ELLIPSIS */
            if (chars >= REDACT_MIN_KEY_CHARS)
                append(out, out_size, &pos, tail, (size_t)(end - tail));
        }
    }
    trim_partial_utf8(out, &pos);
    out[pos] = '\0';
}
