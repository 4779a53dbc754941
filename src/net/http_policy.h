/*
 * http_policy — the checks src/net/http.c applies to every URL and request before libcurl sees
 * them (see http.h for the rules). Internal to src/net/.
 */
#ifndef AGENTCAST_NET_HTTP_POLICY_H
#define AGENTCAST_NET_HTTP_POLICY_H

#include <stdbool.h>
#include <stddef.h>

#include <curl/curl.h>

#include "net/http.h"

/* The longest bearer token http_request_check accepts. */
#define HTTP_MAX_TOKEN_LEN 4096

/* Scheme, host and port of a URL; strings from libcurl (curl_free), released by
 * http_origin_clear. */
struct http_origin {
    char *scheme;
    char *host;
    long port;
};

void http_origin_clear(struct http_origin *o);
/* Same scheme and port, and the same host ignoring case. */
bool http_origin_equal(const struct http_origin *a, const struct http_origin *b);
/* "localhost", 127.0.0.0/8 or [::1]. */
bool http_host_is_loopback(const char *host);

/* Parses url into a new CURLU (*out, caller frees with curl_url_cleanup) and its origin (*o,
 * http_origin_clear), and applies the scheme rule. 0, or -EPERM (scheme refused), -EINVAL
 * (malformed, or credentials in it) or -ENOMEM, with err filled. Nothing is resolved. */
int http_url_parse_checked(const char *url, CURLU **out, struct http_origin *o, char *err,
                           size_t err_size);

/* 0, or -EINVAL with the reason: "Name: value" with a token name and no control characters, and
 * no credentials (those go through bearer_token). *is_content_type tells whether it sets one. */
int http_header_check(const char *h, bool *is_content_type, char *err, size_t err_size);

/* 0, or -EINVAL with the reason: method, URL present, body rules, file part, token syntax,
 * timeouts. */
int http_request_check(const struct http_request *req, char *err, size_t err_size);

#endif
