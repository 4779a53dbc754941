/*
 * validate — see validate.h. These run in the CLI before any request leaves (register, verify,
 * chat send) and in the live loop before an --on-chat reply is posted.
 */
#include "retake/validate.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/errmsg.h"
#include "core/utf8_strict.h"
#include "retake/base58.h"

#define TWEET_HANDLE_MAX 15
#define TWEET_ID_MAX_DIGITS 19 /* ids are 64-bit */

static bool is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* C0 controls (less the allowed ones), DEL and the C1 range U+0080–U+009F. */
static bool is_control(uint32_t cp, bool allow_newline_tab)
{
    if (allow_newline_tab && (cp == '\n' || cp == '\t'))
        return false;
    return cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f);
}

/* Walks s as UTF-8. Returns 0 with the number of code points in *chars, or -EINVAL with a
 * reason naming field. */
static int check_text(const char *field, const char *s, bool allow_newline_tab, size_t *chars,
                      char *err, size_t err_size)
{
    size_t len = strlen(s), n = 0;
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        int k = utf8_strict_next(s + i, len - i, &cp);
        if (k < 0)
            return errmsg_fail(err, err_size, -EINVAL, "%s: invalid UTF-8 at byte %zu", field, i);
        if (is_control(cp, allow_newline_tab))
            return errmsg_fail(err, err_size, -EINVAL,
                               "%s: control character U+%04X at byte %zu is not allowed", field,
                               (unsigned)cp, i);
        i += (size_t)k;
        n++;
    }
    *chars = n;
    return 0;
}

static bool blank(const char *s)
{
    for (; *s; s++)
        if (!is_space((unsigned char)*s))
            return false;
    return true;
}

int retake_validate_agent_name(const char *s, char *err, size_t err_size)
{
    if (!s || !*s)
        return errmsg_fail(err, err_size, -EINVAL, "agent_name: must not be empty");
    size_t len = strlen(s), chars = 0;
    if (len > RETAKE_AGENT_NAME_MAX)
        return errmsg_fail(err, err_size, -EINVAL, "agent_name: %zu bytes; agentcast's limit is %d",
                           len, RETAKE_AGENT_NAME_MAX);
    int rc = check_text("agent_name", s, false, &chars, err, err_size);
    if (rc)
        return rc;
    if (is_space((unsigned char)s[0]) || is_space((unsigned char)s[len - 1]))
        return errmsg_fail(err, err_size, -EINVAL,
                           "agent_name: must not begin or end with whitespace");
    const char *bad = strpbrk(s, "/?#%\\");
    if (bad)
        return errmsg_fail(err, err_size, -EINVAL,
                           "agent_name: '%c' is not allowed (the name is the path of "
                           "https://retake.tv/<agent_name>)",
                           *bad);
    return 0;
}

int retake_validate_description(const char *s, char *err, size_t err_size)
{
    if (!s || blank(s))
        return errmsg_fail(err, err_size, -EINVAL, "agent_description: must not be empty");
    size_t len = strlen(s), chars = 0;
    if (len > RETAKE_DESCRIPTION_MAX)
        return errmsg_fail(err, err_size, -EINVAL,
                           "agent_description: %zu bytes; agentcast's limit is %d", len,
                           RETAKE_DESCRIPTION_MAX);
    return check_text("agent_description", s, true, &chars, err, err_size);
}

/* An http(s) URL split at its authority: host (brackets stripped for IPv6) and what follows. */
struct http_url {
    bool https;
    const char *host;
    size_t host_len;
    bool bracketed;
    const char *rest;
};

static int parse_http_url(const char *field, const char *s, struct http_url *u, char *err,
                          size_t err_size)
{
    if (!s || !*s)
        return errmsg_fail(err, err_size, -EINVAL, "%s: must not be empty", field);
    size_t len = strlen(s);
    if (len > RETAKE_URL_MAX)
        return errmsg_fail(err, err_size, -EINVAL, "%s: %zu bytes; agentcast's limit is %d", field,
                           len, RETAKE_URL_MAX);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c <= 0x20 || c == 0x7f)
            return errmsg_fail(err, err_size, -EINVAL,
                               "%s: whitespace or control character at byte %zu", field, i);
    }
    const char *p;
    if (strncasecmp(s, "https://", 8) == 0) {
        u->https = true, p = s + 8;
    } else if (strncasecmp(s, "http://", 7) == 0) {
        u->https = false, p = s + 7;
    } else {
        return errmsg_fail(err, err_size, -EINVAL, "%s: must start with http:// or https://",
                           field);
    }
    size_t auth_len = strcspn(p, "/?#");
    if (memchr(p, '@', auth_len))
        return errmsg_fail(err, err_size, -EINVAL, "%s: user info (\"…@\") is not allowed", field);
    u->rest = p + auth_len;
    u->bracketed = (*p == '[');
    const char *port;
    if (u->bracketed) {
        const char *close = memchr(p, ']', auth_len);
        if (!close)
            return errmsg_fail(err, err_size, -EINVAL, "%s: unterminated [IPv6] host", field);
        u->host = p + 1, u->host_len = (size_t)(close - p - 1);
        port = close + 1;
        if (port < u->rest && *port != ':')
            return errmsg_fail(err, err_size, -EINVAL, "%s: unexpected text after the [IPv6] host",
                               field);
    } else {
        const char *colon = memchr(p, ':', auth_len);
        u->host = p, u->host_len = colon ? (size_t)(colon - p) : auth_len;
        port = colon ? colon : u->rest;
    }
    if (u->host_len == 0)
        return errmsg_fail(err, err_size, -EINVAL, "%s: has no host", field);
    if (port < u->rest) { /* ":digits" */
        long v = 0;
        const char *d = port + 1;
        if (d == u->rest)
            return errmsg_fail(err, err_size, -EINVAL, "%s: empty port", field);
        for (; d < u->rest; d++) {
            if (*d < '0' || *d > '9' || (v = v * 10 + (*d - '0')) > 65535)
                return errmsg_fail(err, err_size, -EINVAL,
                                   "%s: port must be a number from 1 to 65535", field);
        }
        if (v == 0)
            return errmsg_fail(err, err_size, -EINVAL, "%s: port must be a number from 1 to 65535",
                               field);
    }
    return 0;
}

int retake_validate_image_url(const char *s, char *err, size_t err_size)
{
    struct http_url u = {0};
    return parse_http_url("image_url", s, &u, err, err_size);
}

int retake_validate_wallet(const char *s, char *err, size_t err_size)
{
    if (!s || !*s)
        return errmsg_fail(err, err_size, -EINVAL, "wallet_address: must not be empty");
    size_t len = strlen(s), bad = 0;
    if (len > 64) /* 32 bytes never take more than 44 characters */
        return errmsg_fail(err, err_size, -EINVAL,
                           "wallet_address: %zu characters is too long for a Solana public key "
                           "(32 bytes in base58)",
                           len);
    uint8_t bytes[64];
    int n = base58_decode(s, len, bytes, sizeof(bytes), &bad);
    if (n == -EINVAL) {
        unsigned char c = (unsigned char)s[bad];
        if (c > 0x20 && c < 0x7f)
            return errmsg_fail(err, err_size, -EINVAL,
                               "wallet_address: '%c' at position %zu is not a base58 character "
                               "(base58 has no 0, O, I or l)",
                               c, bad + 1);
        return errmsg_fail(err, err_size, -EINVAL,
                           "wallet_address: byte 0x%02x at position %zu is not a base58 character",
                           c, bad + 1);
    }
    if (n != 32)
        return errmsg_fail(err, err_size, -EINVAL,
                           "wallet_address: decodes to %d bytes; a Solana public key is exactly 32",
                           n);
    return 0;
}

int retake_validate_ticker(const char *s, char *err, size_t err_size)
{
    if (!s || !*s)
        return errmsg_fail(err, err_size, -EINVAL,
                           "ticker: must not be empty (the document: \"Mandatory\")");
    size_t len = strlen(s);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c <= 0x20 || c >= 0x7f)
            return errmsg_fail(err, err_size, -EINVAL,
                               "ticker: character %zu is not printable ASCII (spaces, control and "
                               "non-ASCII characters are not allowed)",
                               i + 1);
    }
    if (len > RETAKE_TICKER_MAX)
        return errmsg_fail(err, err_size, -EINVAL,
                           "ticker: %zu characters; the document allows at most %d", len,
                           RETAKE_TICKER_MAX);
    return 0;
}

static bool host_is(const char *host, size_t len, const char *name)
{
    return strlen(name) == len && strncasecmp(host, name, len) == 0;
}

static int tweet_placeholder(const char *s, char *err, size_t err_size)
{
    return errmsg_fail(
        err, err_size, -EINVAL,
        "tweet_url: \"%s\" is the skill document's placeholder, not a real tweet; post "
        "the verification message and paste that tweet's URL",
        s);
}

int retake_validate_tweet_url(const char *s, char *err, size_t err_size)
{
    static const char *const hosts[] = {"x.com",           "twitter.com",  "www.x.com",
                                        "www.twitter.com", "mobile.x.com", "mobile.twitter.com"};
    const char *want = "tweet_url: must look like https://x.com/<user>/status/<digits> "
                       "(or twitter.com)";
    struct http_url u = {0};
    int rc = parse_http_url("tweet_url", s, &u, err, err_size);
    if (rc)
        return rc;
    if (!u.https)
        return errmsg_fail(err, err_size, -EINVAL, "tweet_url: must use https://");
    bool known = false;
    for (size_t i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++)
        known = known || host_is(u.host, u.host_len, hosts[i]);
    if (!known || u.host + u.host_len != u.rest)
        return errmsg_fail(err, err_size, -EINVAL, "tweet_url: host must be x.com or twitter.com");
    const char *p = u.rest;
    if (*p != '/')
        return errmsg_fail(err, err_size, -EINVAL, "%s", want);
    const char *handle = ++p;
    size_t hl = strspn(handle, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_");
    if (hl == 8 && strncasecmp(handle, "username", 8) == 0)
        return tweet_placeholder(s, err, err_size);
    if (hl == 0 || hl > TWEET_HANDLE_MAX || strncmp(handle + hl, "/status/", 8) != 0)
        return errmsg_fail(err, err_size, -EINVAL, "%s", want);
    const char *id = handle + hl + 8;
    size_t dl = strspn(id, "0123456789");
    if (dl == 0 || dl > TWEET_ID_MAX_DIGITS || id[0] == '0')
        return errmsg_fail(err, err_size, -EINVAL,
                           "tweet_url: the status id must be 1 to %d digits", TWEET_ID_MAX_DIGITS);
    if ((dl == 3 && strncmp(id, "123", 3) == 0) || (dl == 10 && strncmp(id, "1234567890", 10) == 0))
        return tweet_placeholder(s, err, err_size);
    p = id + dl;
    if (*p == '/')
        p++;
    if (*p && *p != '?' && *p != '#')
        return errmsg_fail(err, err_size, -EINVAL, "%s", want);
    return 0;
}

int retake_validate_chat_text(const char *s, char *err, size_t err_size)
{
    if (!s || blank(s))
        return errmsg_fail(err, err_size, -EINVAL, "message: must not be empty");
    size_t chars = 0;
    int rc = check_text("message", s, true, &chars, err, err_size);
    if (rc)
        return rc;
    if (chars > RETAKE_CHAT_TEXT_MAX)
        return errmsg_fail(err, err_size, -EINVAL,
                           "message: %zu characters; agentcast's limit is %d", chars,
                           RETAKE_CHAT_TEXT_MAX);
    return 0;
}

int retake_validate_user_db_id(const char *s, char *err, size_t err_size)
{
    if (!s || !*s)
        return errmsg_fail(err, err_size, -EINVAL, "userDbId: must not be empty");
    size_t len = strlen(s);
    if (len > RETAKE_USER_DB_ID_MAX)
        return errmsg_fail(err, err_size, -EINVAL, "userDbId: %zu bytes; agentcast's limit is %d",
                           len, RETAKE_USER_DB_ID_MAX);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c <= 0x20 || c >= 0x7f)
            return errmsg_fail(err, err_size, -EINVAL,
                               "userDbId: character %zu is not printable ASCII (no spaces)", i + 1);
    }
    return 0;
}

static bool host_is_loopback(const struct http_url *u)
{
    char host[64];
    if (u->host_len >= sizeof(host))
        return false;
    memcpy(host, u->host, u->host_len);
    host[u->host_len] = '\0';
    if (u->bracketed) {
        struct in6_addr a6;
        return inet_pton(AF_INET6, host, &a6) == 1 && memcmp(&a6, &in6addr_loopback, 16) == 0;
    }
    if (strcasecmp(host, "localhost") == 0)
        return true;
    struct in_addr a4;
    return inet_pton(AF_INET, host, &a4) == 1 && (ntohl(a4.s_addr) >> 24) == 127;
}

int retake_validate_api_base(const char *s, bool *loopback, char *err, size_t err_size)
{
    struct http_url u = {0};
    int rc = parse_http_url("api base", s, &u, err, err_size);
    if (rc)
        return rc;
    if (strpbrk(u.rest, "?#"))
        return errmsg_fail(err, err_size, -EINVAL, "api base: must not carry a query or fragment");
    bool lo = host_is_loopback(&u);
    if (!u.https && !lo)
        return errmsg_fail(
            err, err_size, -EINVAL,
            "api base: must use https:// (plain http is allowed only for loopback test "
            "servers)");
    if (loopback)
        *loopback = lo;
    return 0;
}
