/*
 * http_policy — what src/net/http.c refuses before anything reaches libcurl: URLs (https only,
 * plain http to loopback test servers only, no credentials in the URL) with the origin they
 * name, so that a bearer token goes to the API origin and nowhere else; and requests (method,
 * headers, body, token syntax). Pure checks: nothing here resolves, connects or logs.
 */
#include "net/http_policy.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static void set_err(char *err, size_t err_size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t err_size, const char *fmt, ...)
{
    if (!err || err_size == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, err_size, fmt, ap);
    va_end(ap);
}

/* --- URL policy -------------------------------------------------------------------------- */

bool http_host_is_loopback(const char *host)
{
    if (strcasecmp(host, "localhost") == 0)
        return true;
    struct in_addr a4;
    if (inet_pton(AF_INET, host, &a4) == 1)
        return (ntohl(a4.s_addr) >> 24) == 127;
    size_t len = strlen(host);
    char inner[64];
    if (len > 2 && len - 2 < sizeof(inner) && host[0] == '[' && host[len - 1] == ']') {
        memcpy(inner, host + 1, len - 2);
        inner[len - 2] = '\0';
        struct in6_addr a6;
        return inet_pton(AF_INET6, inner, &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6);
    }
    return false;
}

void http_origin_clear(struct http_origin *o)
{
    curl_free(o->scheme);
    curl_free(o->host);
    *o = (struct http_origin){0};
}

bool http_origin_equal(const struct http_origin *a, const struct http_origin *b)
{
    return strcmp(a->scheme, b->scheme) == 0 && strcasecmp(a->host, b->host) == 0 &&
           a->port == b->port;
}

int http_url_parse_checked(const char *url, CURLU **out, struct http_origin *o, char *err,
                           size_t err_size)
{
    *o = (struct http_origin){0};
    CURLU *u = curl_url();
    if (!u)
        return -ENOMEM;
    char *port = NULL, *user = NULL, *password = NULL;
    int rc = 0;
    /* Parse any scheme, so that an unwanted one is named as such rather than "malformed". */
    CURLUcode uc = curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME);
    if (uc == CURLUE_OK)
        uc = curl_url_get(u, CURLUPART_SCHEME, &o->scheme, 0);
    if (uc == CURLUE_OK && strcmp(o->scheme, "https") != 0 && strcmp(o->scheme, "http") != 0) {
        set_err(err, err_size, "%s:// URL refused: only https is allowed", o->scheme);
        rc = -EPERM;
        goto out;
    }
    if (uc == CURLUE_OK)
        uc = curl_url_get(u, CURLUPART_HOST, &o->host, 0);
    if (uc == CURLUE_OK)
        uc = curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT);
    if (uc != CURLUE_OK) {
        set_err(err, err_size, "invalid URL: %s", curl_url_strerror(uc));
        rc = uc == CURLUE_OUT_OF_MEMORY ? -ENOMEM : -EINVAL;
        goto out;
    }
    o->port = strtol(port, NULL, 10);
    if (curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK ||
        curl_url_get(u, CURLUPART_PASSWORD, &password, 0) == CURLUE_OK) {
        set_err(err, err_size, "URL with credentials refused (%s://%s)", o->scheme, o->host);
        rc = -EINVAL;
    } else if (strcmp(o->scheme, "http") == 0 && !http_host_is_loopback(o->host)) {
        set_err(err, err_size,
                "http://%s refused: use https (plain http is allowed only to loopback test "
                "servers)",
                o->host);
        rc = -EPERM;
    }
out:
    curl_free(port);
    curl_free(user);
    curl_free(password);
    if (rc < 0) {
        http_origin_clear(o);
        curl_url_cleanup(u);
        return rc;
    }
    *out = u;
    return 0;
}

/* --- request validation ------------------------------------------------------------------ */

static bool method_ok(const char *m)
{
    size_t n = m ? strlen(m) : 0;
    if (n == 0 || n > 16)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (m[i] < 'A' || m[i] > 'Z')
            return false;
    }
    return true;
}

static bool is_tchar(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* RFC 6750 b64token: what a Bearer credential may contain; also keeps CR/LF out. */
static bool token_ok(const char *t)
{
    size_t n = strlen(t);
    if (n == 0 || n > HTTP_MAX_TOKEN_LEN)
        return false;
    size_t i = 0;
    while (i < n && ((t[i] >= '0' && t[i] <= '9') || (t[i] >= 'a' && t[i] <= 'z') ||
                     (t[i] >= 'A' && t[i] <= 'Z') || strchr("-._~+/", t[i])))
        i++;
    if (i == 0)
        return false;
    while (i < n && t[i] == '=')
        i++;
    return i == n;
}

/* Printable text without control characters (header values, part names). */
static bool text_ok(const char *s, bool allow_empty)
{
    if (!s || (!allow_empty && !*s))
        return false;
    for (; *s; s++) {
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return false;
    }
    return true;
}

int http_header_check(const char *h, bool *is_content_type, char *err, size_t err_size)
{
    const char *colon = strchr(h, ':');
    size_t name_len = colon ? (size_t)(colon - h) : 0;
    bool name_ok = name_len > 0;
    for (size_t i = 0; i < name_len && name_ok; i++)
        name_ok = is_tchar(h[i]);
    if (!name_ok || !text_ok(colon + 1, true)) {
        set_err(err, err_size, "malformed request header (want \"Name: value\")");
        return -EINVAL;
    }
    if ((name_len == 13 && strncasecmp(h, "Authorization", 13) == 0) ||
        (name_len == 19 && strncasecmp(h, "Proxy-Authorization", 19) == 0)) {
        set_err(err, err_size, "an Authorization header is refused: use bearer_token");
        return -EINVAL;
    }
    *is_content_type = name_len == 12 && strncasecmp(h, "Content-Type", 12) == 0;
    return 0;
}

int http_request_check(const struct http_request *req, char *err, size_t err_size)
{
    if (!method_ok(req->method)) {
        set_err(err, err_size, "invalid HTTP method");
        return -EINVAL;
    }
    if (!req->url) {
        set_err(err, err_size, "no URL");
        return -EINVAL;
    }
    bool has_body = req->json_body || req->file;
    if (req->json_body && req->file) {
        set_err(err, err_size, "a request has a JSON body or a file part, not both");
        return -EINVAL;
    }
    if (has_body && (strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0)) {
        set_err(err, err_size, "%s with a body refused", req->method);
        return -EINVAL;
    }
    const struct http_file_part *f = req->file;
    if (f && (!text_ok(f->field, false) || !text_ok(f->filename, false) ||
              !text_ok(f->content_type, false) || (!f->data && f->size > 0))) {
        set_err(err, err_size, "malformed file part (field, filename, content type, data)");
        return -EINVAL;
    }
    if (req->bearer_token && !token_ok(req->bearer_token)) {
        set_err(err, err_size, "bearer token has characters a token may not contain");
        return -EINVAL;
    }
    if (req->timeout_ms < 0 || req->connect_timeout_ms < 0) {
        set_err(err, err_size, "negative timeout");
        return -EINVAL;
    }
    return 0;
}
