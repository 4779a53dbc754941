/*
 * test_retake_api — the pure layer of the retake.tv client (src/retake/api*.c): the endpoint
 * table against the skill document, paths and escaping, request bodies, every typed response
 * parser with good, truncated, malformed, empty, missing-field and wrong-type input, the error
 * table, exactly-once chat delivery, and the public tables.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "retake/api.h"

static char err[512];

#define LEN(s) strlen(s)

static void assert_contains(const char *hay, const char *needle)
{
    if (!hay || !strstr(hay, needle))
        fail_msg("\"%s\" lacks \"%s\"", hay ? hay : "(null)", needle);
}

/* ---- endpoint table ------------------------------------------------------------------------- */

static void check_ep(enum retake_endpoint ep, enum retake_method m, const char *path, bool auth)
{
    const struct retake_endpoint_info *i = retake_endpoint_get(ep);
    assert_non_null(i);
    assert_int_equal(i->method, m);
    assert_string_equal(i->path, path);
    assert_int_equal(i->auth, auth);
}

/* Sections 1–3 ("POST /api/v1/agent/rtmp" …) and the tables of section 5 ("All paths relative
 * to /api/v1. No auth required."). */
static void test_endpoint_table(void **state)
{
    (void)state;
    check_ep(RETAKE_EP_REGISTER, RETAKE_POST, "/agent/register", false);
    check_ep(RETAKE_EP_PREPARE_VERIFY, RETAKE_POST, "/agent/prepare-verify", true);
    check_ep(RETAKE_EP_VERIFY, RETAKE_POST, "/agent/verify", true);
    check_ep(RETAKE_EP_VERIFICATION_STATUS, RETAKE_GET, "/agent/verification-status", true);
    check_ep(RETAKE_EP_RTMP, RETAKE_POST, "/agent/rtmp", true);
    check_ep(RETAKE_EP_STREAM_START, RETAKE_POST, "/agent/stream/start", true);
    check_ep(RETAKE_EP_STREAM_STATUS, RETAKE_GET, "/agent/stream/status", true);
    check_ep(RETAKE_EP_UPDATE_THUMBNAIL, RETAKE_POST, "/agent/update-thumbnail", true);
    check_ep(RETAKE_EP_STREAM_STOP, RETAKE_POST, "/agent/stream/stop", true);
    check_ep(RETAKE_EP_CHAT_SEND, RETAKE_POST, "/agent/stream/chat/send", true);
    check_ep(RETAKE_EP_COMMENTS, RETAKE_GET, "/agent/stream/comments", true);
    check_ep(RETAKE_EP_USERS_SEARCH, RETAKE_GET, "/users/search/:query", false);
    check_ep(RETAKE_EP_USERS_LIVE, RETAKE_GET, "/users/live/", false);
    check_ep(RETAKE_EP_SESSIONS_RECORDED_STREAMER, RETAKE_GET, "/sessions/recorded/:streamer_id/",
             false);
    check_ep(RETAKE_EP_SESSION_JOIN, RETAKE_GET, "/sessions/:id/join/", false);
    check_ep(RETAKE_EP_TOKEN_STATS, RETAKE_GET, "/tokens/:address/stats", false);
    check_ep(RETAKE_EP_CHAT_TOP_TIPPERS, RETAKE_GET, "/chat/top-tippers", false);
    /* "POST /api/v1/agent/update-thumbnail  Content-Type: multipart/form-data  Field: image" */
    const struct retake_endpoint_info *t = retake_endpoint_get(RETAKE_EP_UPDATE_THUMBNAIL);
    assert_int_equal(t->body, RETAKE_BODY_MULTIPART);
    assert_string_equal(t->multipart_field, "image");
    assert_int_equal(retake_endpoint_get(RETAKE_EP_REGISTER)->body, RETAKE_BODY_JSON);
    assert_int_equal(retake_endpoint_get(RETAKE_EP_PREPARE_VERIFY)->body, RETAKE_BODY_NONE);
    /* Every entry is filled in; every public one is a GET without auth. */
    for (int ep = 0; ep < RETAKE_EP_COUNT; ep++) {
        const struct retake_endpoint_info *i = retake_endpoint_get((enum retake_endpoint)ep);
        assert_non_null(i->name);
        assert_non_null(i->path);
        assert_int_equal(i->path[0], '/');
        if (ep >= RETAKE_EP_USERS_SEARCH) {
            assert_int_equal(i->method, RETAKE_GET);
            assert_false(i->auth);
        }
    }
    assert_null(retake_endpoint_get(RETAKE_EP_COUNT));
    assert_null(retake_endpoint_get((enum retake_endpoint) - 1));
}

/* ---- paths ---------------------------------------------------------------------------------- */

static char *path(enum retake_endpoint ep, const char *param, const struct retake_query *q,
                  size_t n, int want_rc)
{
    char *out = (char *)1;
    int rc = retake_path(ep, param, q, n, &out, err, sizeof(err));
    if (rc != want_rc)
        fail_msg("retake_path rc %d, want %d (%s)", rc, want_rc, err);
    if (rc != 0)
        assert_null(out);
    return out;
}

static void assert_path(enum retake_endpoint ep, const char *param, const struct retake_query *q,
                        size_t n, const char *want)
{
    char *p = path(ep, param, q, n, 0);
    assert_string_equal(p, want);
    free(p);
}

static void test_paths(void **state)
{
    (void)state;
    assert_path(RETAKE_EP_RTMP, NULL, NULL, 0, "/agent/rtmp");
    assert_path(RETAKE_EP_USERS_SEARCH, "retake bot", NULL, 0, "/users/search/retake%20bot");
    /* A '/' or '?' in a parameter cannot change the path or start a query. */
    assert_path(RETAKE_EP_USERS_STREAMER, "a/b?c=d#e", NULL, 0,
                "/users/streamer/a%2Fb%3Fc%3Dd%23e");
    assert_path(RETAKE_EP_USERS_METADATA, "\xc3\xa9", NULL, 0, "/users/metadata/%C3%A9");
    assert_path(RETAKE_EP_SESSIONS_ACTIVE_STREAMER, "u-1", NULL, 0, "/sessions/active/u-1/");
    assert_path(RETAKE_EP_SESSION_JOIN, "s_9", NULL, 0, "/sessions/s_9/join/");
    assert_path(RETAKE_EP_TOKEN_STATS, "So11111111111111111111111111111111111111112", NULL, 0,
                "/tokens/So11111111111111111111111111111111111111112/stats");
    assert_path(RETAKE_EP_TRADES_RECENT_TOKEN, "addr", NULL, 0, "/trades/recent/addr/");
    const struct retake_query q[] = {{"limit", "100"}, {"cursor", "a&b=c"}};
    assert_path(RETAKE_EP_TRADES_RECENT, NULL, q, 2, "/trades/recent/?limit=100&cursor=a%26b%3Dc");
    const struct retake_query q2[] = {
        {"streamer_id", "u 1"}, {"limit", NULL}, {"before_chat_event_id", "e9"}};
    assert_path(RETAKE_EP_CHAT, NULL, q2, 3, "/chat/?streamer_id=u%201&before_chat_event_id=e9");
    const struct retake_query q3[] = {{"streamer_id", "u1"}};
    assert_path(RETAKE_EP_CHAT_TOP_TIPPERS, NULL, q3, 1, "/chat/top-tippers?streamer_id=u1");

    path(RETAKE_EP_USERS_SEARCH, NULL, NULL, 0, -EINVAL);
    assert_contains(err, "query must not be empty");
    path(RETAKE_EP_USERS_SEARCH, "", NULL, 0, -EINVAL);
    path(RETAKE_EP_USERS_SEARCH, "..", NULL, 0, -EINVAL);
    path(RETAKE_EP_USERS_SEARCH, ".", NULL, 0, -EINVAL);
    assert_path(RETAKE_EP_USERS_SEARCH, "...", NULL, 0, "/users/search/...");
    path(RETAKE_EP_RTMP, "x", NULL, 0, -EINVAL);
    assert_contains(err, "takes no path parameter");
    const struct retake_query bad[] = {{"window", "24h"}};
    path(RETAKE_EP_TRADES_RECENT, NULL, bad, 1, -EINVAL);
    assert_contains(err, "\"window\" is not in the document");
    path(RETAKE_EP_COUNT, NULL, NULL, 0, -EINVAL);
}

/* "GET /api/v1/agent/stream/comments?userDbId=<id>&limit=50&beforeId=<cursor>" —
 * "limit: Max messages (default 50, max 100)." */
static void test_comments_path(void **state)
{
    (void)state;
    char *p;
    assert_int_equal(retake_comments_path("user_abc", 50, NULL, &p, err, sizeof(err)), 0);
    assert_string_equal(p, "/agent/stream/comments?userDbId=user_abc&limit=50");
    free(p);
    assert_int_equal(retake_comments_path("user_abc", 1, "comment_9", &p, err, sizeof(err)), 0);
    assert_string_equal(p, "/agent/stream/comments?userDbId=user_abc&limit=1&beforeId=comment_9");
    free(p);
    assert_int_equal(retake_comments_path("u", 100, "a+b", &p, err, sizeof(err)), 0);
    assert_string_equal(p, "/agent/stream/comments?userDbId=u&limit=100&beforeId=a%2Bb");
    free(p);
    assert_int_equal(retake_comments_path("u", 0, NULL, &p, err, sizeof(err)), -EINVAL);
    assert_contains(err, "limit");
    assert_int_equal(retake_comments_path("u", 101, NULL, &p, err, sizeof(err)), -EINVAL);
    assert_contains(err, "1 to 100");
    assert_int_equal(retake_comments_path("", 50, NULL, &p, err, sizeof(err)), -EINVAL);
    assert_contains(err, "userDbId");
    assert_int_equal(retake_comments_path("u", 50, "", &p, err, sizeof(err)), -EINVAL);
    assert_contains(err, "beforeId");
    assert_null(p);
}

static void test_escape_join_skill(void **state)
{
    (void)state;
    char out[64];
    assert_int_equal(retake_url_escape("Az09-._~", out, sizeof(out)), 8);
    assert_string_equal(out, "Az09-._~");
    assert_int_equal(retake_url_escape(" /?#&=+%", out, sizeof(out)), 24);
    assert_string_equal(out, "%20%2F%3F%23%26%3D%2B%25");
    assert_int_equal(retake_url_escape("abc", out, 4), 3);
    assert_int_equal(retake_url_escape("abc", out, 3), -ENOSPC);
    assert_int_equal(retake_url_escape("a b", out, 5), -ENOSPC);

    char *u = retake_url_join("https://retake.tv/api/v1/", "/agent/rtmp");
    assert_string_equal(u, "https://retake.tv/api/v1/agent/rtmp");
    free(u);
    u = retake_url_join(RETAKE_API_BASE_DEFAULT, "/users/live/");
    assert_string_equal(u, "https://retake.tv/api/v1/users/live/");
    free(u);

    /* "fetch https://retake.tv/skill.json and compare version" */
    assert_int_equal(retake_skill_json_url(RETAKE_API_BASE_DEFAULT, out, sizeof(out)), 0);
    assert_string_equal(out, "https://retake.tv/skill.json");
    assert_int_equal(retake_skill_json_url("http://127.0.0.1:8080/api/v1", out, sizeof(out)), 0);
    assert_string_equal(out, "http://127.0.0.1:8080/skill.json");
    assert_int_equal(retake_skill_json_url("http://localhost:9", out, sizeof(out)), 0);
    assert_string_equal(out, "http://localhost:9/skill.json");
    assert_int_equal(retake_skill_json_url("retake.tv/api", out, sizeof(out)), -EINVAL);
    assert_int_equal(retake_skill_json_url("https:///api", out, sizeof(out)), -EINVAL);
    assert_int_equal(retake_skill_json_url(RETAKE_API_BASE_DEFAULT, out, 10), -ENOSPC);
}

/* ---- bodies --------------------------------------------------------------------------------- */

static const char *jstr(const cJSON *o, const char *name)
{
    const cJSON *i = cJSON_GetObjectItemCaseSensitive(o, name);
    assert_true(cJSON_IsString(i));
    return i->valuestring;
}

static void test_bodies(void **state)
{
    (void)state;
    /* "POST /api/v1/agent/register { "agent_name", "agent_description", "image_url",
     * "wallet_address", "ticker" }" */
    const struct retake_register_req req = {"My \"Agent\"", "line1\nline2 \xc3\xa9",
                                            "https://example.com/a.png",
                                            "So11111111111111111111111111111111111111112", "YOU"};
    char *b = retake_body_register(&req);
    assert_non_null(b);
    cJSON *o = cJSON_Parse(b);
    assert_true(cJSON_IsObject(o));
    assert_int_equal(cJSON_GetArraySize(o), 5);
    assert_string_equal(jstr(o, "agent_name"), "My \"Agent\"");
    assert_string_equal(jstr(o, "agent_description"), "line1\nline2 \xc3\xa9");
    assert_string_equal(jstr(o, "image_url"), "https://example.com/a.png");
    assert_string_equal(jstr(o, "wallet_address"), "So11111111111111111111111111111111111111112");
    assert_string_equal(jstr(o, "ticker"), "YOU");
    cJSON_Delete(o);
    assert_null(strchr(b, '\n')); /* compact: the newline is escaped */
    retake_body_free(b);

    /* { "tweet_url": "…" } */
    b = retake_body_verify("https://x.com/a/status/42");
    o = cJSON_Parse(b);
    assert_string_equal(jstr(o, "tweet_url"), "https://x.com/a/status/42");
    assert_int_equal(cJSON_GetArraySize(o), 1);
    cJSON_Delete(o);
    retake_body_free(b);

    /* { "message", "destination_user_id", "access_token" } */
    b = retake_body_chat_send("Hello chat!", "user_abc", "rtk_secret0123456789");
    o = cJSON_Parse(b);
    assert_string_equal(jstr(o, "message"), "Hello chat!");
    assert_string_equal(jstr(o, "destination_user_id"), "user_abc");
    assert_string_equal(jstr(o, "access_token"), "rtk_secret0123456789");
    cJSON_Delete(o);
    retake_body_free(b);

    /* Bodies larger than the first buffer guess still come out whole. */
    char big[5000];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    b = retake_body_chat_send(big, "u", "rtk_t");
    o = cJSON_Parse(b);
    assert_string_equal(jstr(o, "message"), big);
    cJSON_Delete(o);
    retake_body_free(b);
    retake_body_free(NULL);
}

/* ---- malformed input, for every parser ------------------------------------------------------ */

typedef int (*parse_fn)(const char *body, size_t len, char *err, size_t err_size);

static int p_register(const char *b, size_t n, char *e, size_t es)
{
    struct retake_register_resp r;
    return retake_parse_register(b, n, &r, e, es);
}
static int p_prepare(const char *b, size_t n, char *e, size_t es)
{
    char m[256];
    return retake_parse_prepare_verify(b, n, m, sizeof(m), e, es);
}
static int p_verify(const char *b, size_t n, char *e, size_t es)
{
    bool v;
    return retake_parse_verified(RETAKE_EP_VERIFY, b, n, &v, e, es);
}
static int p_rtmp(const char *b, size_t n, char *e, size_t es)
{
    struct retake_rtmp r;
    return retake_parse_rtmp(b, n, &r, e, es);
}
static int p_start(const char *b, size_t n, char *e, size_t es)
{
    struct retake_stream_start r;
    return retake_parse_stream_start(b, n, &r, e, es);
}
static int p_status(const char *b, size_t n, char *e, size_t es)
{
    struct retake_stream_status r;
    return retake_parse_stream_status(b, n, &r, e, es);
}
static int p_thumb(const char *b, size_t n, char *e, size_t es)
{
    struct retake_thumbnail_resp r;
    return retake_parse_thumbnail(b, n, &r, e, es);
}
static int p_stop(const char *b, size_t n, char *e, size_t es)
{
    struct retake_stop_resp r;
    return retake_parse_stop(b, n, &r, e, es);
}
static int p_comments(const char *b, size_t n, char *e, size_t es)
{
    struct retake_comments c;
    int rc = retake_parse_comments(b, n, &c, e, es);
    retake_comments_free(&c);
    return rc;
}
static int p_skill(const char *b, size_t n, char *e, size_t es)
{
    char v[32];
    return retake_parse_skill_version(b, n, v, sizeof(v), e, es);
}

static const struct {
    const char *name;
    parse_fn fn;
    const char *good; /* a valid body, cut short by the truncation test */
} parsers[] = {
    {"register", p_register, "{\"access_token\":\"rtk_x\",\"agent_id\":\"a\",\"userDbId\":\"u\"}"},
    {"prepare-verify", p_prepare, "{\"verification_message\":\"Code: 1\"}"},
    {"verify", p_verify, "{\"verified\":true}"},
    {"rtmp", p_rtmp, "{\"url\":\"rtmps://h/live\",\"key\":\"sk_1\"}"},
    {"stream/start", p_start, "{\"success\":true,\"token\":{\"ticker\":\"YOU\"}}"},
    {"stream/status", p_status, "{\"is_live\":false,\"viewers\":0}"},
    {"update-thumbnail", p_thumb, "{\"message\":\"ok\",\"thumbnail_url\":\"https://t/1.jpg\"}"},
    {"stream/stop", p_stop, "{\"status\":\"stopped\",\"duration_seconds\":5,\"viewers\":1}"},
    {"stream/comments", p_comments, "{\"comments\":[{\"_id\":\"c1\",\"text\":\"hi\"}]}"},
    {"skill.json", p_skill, "{\"version\":\"2.1.2\"}"},
};

static void expect(parse_fn fn, const char *body, size_t len, int want_rc, const char *want)
{
    err[0] = '\0';
    int rc = fn(body, len, err, sizeof(err));
    if (rc != want_rc)
        fail_msg("\"%.*s\": rc %d, want %d (%s)", (int)len, body ? body : "", rc, want_rc, err);
    if (want)
        assert_contains(err, want);
    assert_null(strchr(err, '\n'));
}

static void test_all_parsers_good_and_broken(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(parsers) / sizeof(parsers[0]); i++) {
        parse_fn fn = parsers[i].fn;
        const char *good = parsers[i].good;
        expect(fn, good, LEN(good), 0, NULL);
        /* The length is honoured: the text need not end in NUL and trailing bytes are ignored. */
        char padded[512];
        snprintf(padded, sizeof(padded), "%sGARBAGE", good);
        expect(fn, padded, LEN(good), 0, NULL);
        expect(fn, padded, LEN(padded), -EBADMSG, "unexpected data after the value");
        /* Empty bodies. */
        expect(fn, "", 0, -EBADMSG, "retake.tv answered with malformed JSON (empty body)");
        expect(fn, NULL, 0, -EBADMSG, "empty body");
        expect(fn, " \r\n\t", 4, -EBADMSG, "empty body");
        /* Every truncation of a good body is an error, never a partial success. */
        for (size_t cut = 1; cut < LEN(good); cut++)
            expect(fn, good, cut, -EBADMSG, "retake.tv answered with malformed JSON (");
        expect(fn, good, LEN(good) - 1, -EBADMSG, "truncated after");
        /* Not JSON at all. */
        expect(fn, "<html>502 Bad Gateway</html>", 28, -EBADMSG, "unexpected '<' at byte 0");
        expect(fn, "{\"a\":1,}", 8, -EBADMSG, "malformed JSON");
        expect(fn, "{'a':1}", 7, -EBADMSG, "malformed JSON (unexpected ");
        expect(fn, "\x01", 1, -EBADMSG, "malformed JSON (unexpected byte 0x01 at byte 0)");
        /* JSON of the wrong shape. */
        expect(fn, "[]", 2, -EPROTO, "expected a JSON object, got an array");
        expect(fn, "null", 4, -EPROTO, "expected a JSON object, got a scalar");
        expect(fn, "\"str\"", 5, -EPROTO, "got a scalar");
        expect(fn, "{}", 2, -EPROTO, "missing field");
    }
    /* The message names the endpoint. */
    expect(p_rtmp, "{", 1, -EBADMSG,
           "rtmp response: retake.tv answered with malformed JSON (truncated after 1 bytes)");
    expect(p_status, "", 0, -EBADMSG, "stream/status response: retake.tv answered");
}

/* ---- register ------------------------------------------------------------------------------- */

/* "Response: { "access_token": "rtk_xxx", "agent_id": "agent_xyz", "userDbId": "user_abc",
 * "wallet_address": "...", "token_address": "", "token_ticker": "" }" — "Save access_token and
 * userDbId immediately". */
static void test_register(void **state)
{
    (void)state;
    struct retake_register_resp r;
    const char *good = "{\"access_token\":\"rtk_xxx\",\"agent_id\":\"agent_xyz\","
                       "\"userDbId\":\"user_abc\",\"wallet_address\":\"W\",\"token_address\":\"\","
                       "\"token_ticker\":\"\",\"unknown\":{\"nested\":[1,2]}}";
    assert_int_equal(retake_parse_register(good, LEN(good), &r, err, sizeof(err)), 0);
    assert_string_equal(r.access_token, "rtk_xxx");
    assert_string_equal(r.agent_id, "agent_xyz");
    assert_string_equal(r.user_db_id, "user_abc");
    assert_string_equal(r.wallet_address, "W");
    assert_string_equal(r.token_address, "");
    retake_register_resp_clear(&r);
    assert_int_equal(r.access_token[0], 0);

    /* Optional fields absent, null or of another type: empty. */
    const char *minimal = "{\"access_token\":\"rtk_1\",\"agent_id\":\"a\",\"userDbId\":\"u\","
                          "\"token_address\":null,\"token_ticker\":7}";
    assert_int_equal(retake_parse_register(minimal, LEN(minimal), &r, err, sizeof(err)), 0);
    assert_string_equal(r.wallet_address, "");
    assert_string_equal(r.token_address, "");
    assert_string_equal(r.token_ticker, "");

    expect(p_register, "{\"agent_id\":\"a\",\"userDbId\":\"u\"}", 31, -EPROTO,
           "register response: missing field \"access_token\"");
    const char *no_user = "{\"access_token\":\"rtk_1\",\"agent_id\":\"a\"}";
    expect(p_register, no_user, LEN(no_user), -EPROTO, "missing field \"userDbId\"");
    const char *num_user = "{\"access_token\":\"rtk_1\",\"agent_id\":\"a\",\"userDbId\":12}";
    expect(p_register, num_user, LEN(num_user), -EPROTO,
           "field \"userDbId\" must be a string, got a number");
    const char *null_tok = "{\"access_token\":null,\"agent_id\":\"a\",\"userDbId\":\"u\"}";
    expect(p_register, null_tok, LEN(null_tok), -EPROTO,
           "\"access_token\" must be a string, got null");
    const char *empty_id = "{\"access_token\":\"rtk_1\",\"agent_id\":\"\",\"userDbId\":\"u\"}";
    expect(p_register, empty_id, LEN(empty_id), -EPROTO, "field \"agent_id\" is empty");
    /* A token too long for its buffer is an error, never silently cut. */
    char big[1024];
    snprintf(big, sizeof(big),
             "{\"access_token\":\"rtk_%0600d\",\"agent_id\":\"a\",\"userDbId\":\"u\"}", 7);
    expect(p_register, big, LEN(big), -EPROTO, "\"access_token\" is too long");
    assert_null(strstr(err, "0000000")); /* the token is not quoted */
}

/* ---- verification --------------------------------------------------------------------------- */

/* "Response: { "verification_message": "Claiming my Livestreaming Agent on @retakedottv. Code:
 * <code>" }" and "{ "verified": true }" or "{ "verified": false }". */
static void test_verification(void **state)
{
    (void)state;
    char m[128];
    const char *pv = "{\"verification_message\":\"Claiming my Livestreaming Agent on "
                     "@retakedottv. Code: AB12\"}";
    assert_int_equal(retake_parse_prepare_verify(pv, LEN(pv), m, sizeof(m), err, sizeof(err)), 0);
    assert_string_equal(m, "Claiming my Livestreaming Agent on @retakedottv. Code: AB12");
    expect(p_prepare, "{\"verification_message\":\"\"}", 27, -EPROTO,
           "prepare-verify response: field \"verification_message\" is empty");
    expect(p_prepare, "{\"verification_message\":[]}", 27, -EPROTO, "got an array");
    assert_int_equal(retake_parse_prepare_verify(pv, LEN(pv), m, 10, err, sizeof(err)), -EPROTO);
    assert_contains(err, "too long");

    bool v = true;
    assert_int_equal(retake_parse_verified(RETAKE_EP_VERIFICATION_STATUS, "{\"verified\":false}",
                                           18, &v, err, sizeof(err)),
                     0);
    assert_false(v);
    assert_int_equal(
        retake_parse_verified(RETAKE_EP_VERIFY, "{\"verified\":true}", 17, &v, err, sizeof(err)),
        0);
    assert_true(v);
    assert_int_equal(retake_parse_verified(RETAKE_EP_VERIFICATION_STATUS, "{\"verified\":\"true\"}",
                                           19, &v, err, sizeof(err)),
                     -EPROTO);
    assert_false(v);
    assert_contains(err, "verification-status response: field \"verified\" must be true or false");
    assert_int_equal(
        retake_parse_verified(RETAKE_EP_VERIFY, "{\"verified\":1}", 14, &v, err, sizeof(err)),
        -EPROTO);
    assert_contains(err, "verify response");
    assert_int_equal(retake_parse_verified(RETAKE_EP_VERIFY, "{\"ok\":1}", 8, &v, err, sizeof(err)),
                     -EPROTO);
    assert_contains(err, "missing field \"verified\"");
}

/* ---- rtmp ----------------------------------------------------------------------------------- */

static int rtmp(const char *body, struct retake_rtmp *r)
{
    err[0] = '\0';
    return retake_parse_rtmp(body, LEN(body), r, err, sizeof(err));
}

/* "Response: { "url": "rtmps://...", "key": "sk_..." }  Use with FFmpeg: -f flv "$url/$key"";
 * DESIGN §5: "Accept both the current field names (url/key) and older ones seen in the wild
 * (rtmp_url/stream_key)." */
static void test_rtmp(void **state)
{
    (void)state;
    struct retake_rtmp r;
    assert_int_equal(
        rtmp("{\"url\":\"rtmps://global-live.retake.tv:443/app\",\"key\":\"sk_1\"}", &r), 0);
    assert_string_equal(r.url, "rtmps://global-live.retake.tv:443/app");
    assert_string_equal(r.key, "sk_1");
    assert_string_equal(r.publish_url, "rtmps://global-live.retake.tv:443/app/sk_1");
    assert_false(r.legacy_names);

    assert_int_equal(rtmp("{\"rtmp_url\":\"rtmp://h/live/\",\"stream_key\":\"sk_2\"}", &r), 0);
    assert_string_equal(r.url, "rtmp://h/live/");
    assert_string_equal(r.publish_url, "rtmp://h/live/sk_2"); /* one '/' */
    assert_true(r.legacy_names);

    /* Both spellings: the current ones win. */
    assert_int_equal(rtmp("{\"rtmp_url\":\"rtmp://old/a\",\"stream_key\":\"old\","
                          "\"url\":\"rtmps://new/a\",\"key\":\"new\"}",
                          &r),
                     0);
    assert_string_equal(r.publish_url, "rtmps://new/a/new");
    assert_false(r.legacy_names);
    /* Mixed spellings, and a null current name falling back to the older one. */
    assert_int_equal(rtmp("{\"url\":\"rtmp://h/a\",\"stream_key\":\"k\"}", &r), 0);
    assert_string_equal(r.publish_url, "rtmp://h/a/k");
    assert_true(r.legacy_names);
    assert_int_equal(rtmp("{\"url\":\"rtmp://h/a//\",\"key\":null,\"stream_key\":\"/k\"}", &r), 0);
    assert_string_equal(r.publish_url, "rtmp://h/a/k");
    assert_int_equal(rtmp("{\"url\":\"RTMP://h/a\",\"key\":\"k\",\"extra\":[1]}", &r), 0);

    assert_int_equal(rtmp("{\"url\":\"rtmps://h/a\"}", &r), -EPROTO);
    assert_string_equal(err, "rtmp response: missing field \"key\"");
    assert_int_equal(r.url[0], 0); /* nothing half-filled */
    assert_int_equal(rtmp("{\"key\":\"k\"}", &r), -EPROTO);
    assert_string_equal(err, "rtmp response: missing field \"url\"");
    assert_int_equal(rtmp("{\"url\":\"rtmps://h/a\",\"key\":5}", &r), -EPROTO);
    assert_string_equal(err, "rtmp response: field \"key\" must be a string, got a number");
    assert_int_equal(rtmp("{\"rtmp_url\":\"rtmps://h/a\",\"stream_key\":{}}", &r), -EPROTO);
    assert_contains(err, "field \"stream_key\" must be a string, got an object");
    assert_int_equal(rtmp("{\"url\":\"rtmps://h/a\",\"key\":\"\"}", &r), -EPROTO);
    assert_contains(err, "field \"key\" is empty");
    assert_int_equal(rtmp("{\"url\":\"rtmps://h/a\",\"key\":\"///\"}", &r), -EPROTO);
    assert_contains(err, "is empty");
    assert_int_equal(rtmp("{\"url\":\"https://h/a\",\"key\":\"k\"}", &r), -EPROTO);
    assert_contains(err, "field \"url\" is not an rtmp:// or rtmps:// URL");
    assert_int_equal(rtmp("{\"url\":\"rtmps://h/a\",\"key\":\"k k\"}", &r), -EPROTO);
    assert_contains(err, "spaces or control characters");
    assert_null(strstr(err, "k k"));
}

/* ---- stream/start, status, thumbnail, stop, skill.json -------------------------------------- */

/* "Response: { "success": true, "token": { "name": "...", "ticker": "...", "imageUrl": "...",
 * "tokenAddress": "...", "tokenType": "..." } }" */
static void test_stream_start(void **state)
{
    (void)state;
    struct retake_stream_start s;
    const char *good = "{\"success\":true,\"token\":{\"name\":\"You\",\"ticker\":\"YOU\","
                       "\"imageUrl\":\"https://i/x.png\",\"tokenAddress\":\"TokAddr1\","
                       "\"tokenType\":\"dbc\",\"more\":1}}";
    assert_int_equal(retake_parse_stream_start(good, LEN(good), &s, err, sizeof(err)), 0);
    assert_true(s.has_token);
    assert_string_equal(s.token_name, "You");
    assert_string_equal(s.token_ticker, "YOU");
    assert_string_equal(s.token_image_url, "https://i/x.png");
    assert_string_equal(s.token_address, "TokAddr1");
    assert_string_equal(s.token_type, "dbc");

    assert_int_equal(retake_parse_stream_start("{\"success\":true}", 16, &s, err, sizeof(err)), 0);
    assert_false(s.has_token);
    const char *odd = "{\"success\":true,\"token\":{\"tokenAddress\":42}}";
    assert_int_equal(retake_parse_stream_start(odd, LEN(odd), &s, err, sizeof(err)), 0);
    assert_true(s.has_token);
    assert_string_equal(s.token_address, "");

    const char *no = "{\"success\":false,\"error\":\"Agent not verified\"}";
    expect(p_start, no, LEN(no), -EPROTO,
           "stream/start response: \"success\" is false: Agent not verified");
    expect(p_start, "{\"token\":{}}", 12, -EPROTO, "missing field \"success\"");
    expect(p_start, "{\"success\":\"yes\"}", 17, -EPROTO, "\"success\" must be true or false");
}

/* "Response: { "is_live": bool, "viewers": int, "uptime_seconds": int, "token_address": "...",
 * "userDbId": "..." }" */
static void test_stream_status(void **state)
{
    (void)state;
    struct retake_stream_status s;
    const char *good = "{\"is_live\":true,\"viewers\":12,\"uptime_seconds\":3600,"
                       "\"token_address\":\"T\",\"userDbId\":\"user_abc\"}";
    assert_int_equal(retake_parse_stream_status(good, LEN(good), &s, err, sizeof(err)), 0);
    assert_true(s.is_live);
    assert_int_equal(s.viewers, 12);
    assert_int_equal(s.uptime_seconds, 3600);
    assert_string_equal(s.token_address, "T");
    assert_string_equal(s.user_db_id, "user_abc");

    /* Integers that arrive as digit strings are accepted (see api.h). */
    const char *strs = "{\"is_live\":false,\"viewers\":\"7\",\"uptime_seconds\":\"0\"}";
    assert_int_equal(retake_parse_stream_status(strs, LEN(strs), &s, err, sizeof(err)), 0);
    assert_false(s.is_live);
    assert_int_equal(s.viewers, 7);
    assert_int_equal(s.uptime_seconds, 0);
    assert_string_equal(s.user_db_id, "");
    /* 2^53 is the largest accepted; 15 digits in a string. */
    const char *max = "{\"is_live\":true,\"viewers\":9007199254740992,"
                      "\"uptime_seconds\":\"999999999999999\"}";
    assert_int_equal(retake_parse_stream_status(max, LEN(max), &s, err, sizeof(err)), 0);
    assert_int_equal(s.viewers, 9007199254740992LL);
    assert_int_equal(s.uptime_seconds, 999999999999999LL);
    /* Optional integers that are not integers count as absent (-1). */
    const char *bad[] = {
        "{\"is_live\":true,\"viewers\":\"12abc\"}",
        "{\"is_live\":true,\"viewers\":1.5}",
        "{\"is_live\":true,\"viewers\":-3}",
        "{\"is_live\":true,\"viewers\":\"\"}",
        "{\"is_live\":true,\"viewers\":\"-3\"}",
        "{\"is_live\":true,\"viewers\":1e300}",
        "{\"is_live\":true,\"viewers\":\"1234567890123456\"}",
        "{\"is_live\":true,\"viewers\":null}",
        "{\"is_live\":true,\"viewers\":true}",
        "{\"is_live\":true}",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(retake_parse_stream_status(bad[i], LEN(bad[i]), &s, err, sizeof(err)), 0);
        assert_true(s.is_live);
        assert_int_equal(s.viewers, -1);
        assert_int_equal(s.uptime_seconds, -1);
    }
    expect(p_status, "{\"viewers\":3}", 13, -EPROTO,
           "stream/status response: missing field \"is_live\"");
    expect(p_status, "{\"is_live\":\"true\"}", 18, -EPROTO, "\"is_live\" must be true or false");
    expect(p_status, "{\"is_live\":1}", 13, -EPROTO, "got a number");
}

/* "Response: { "message": "...", "thumbnail_url": "..." }" and "Response: { "status": "stopped",
 * "duration_seconds": int, "viewers": int }" */
static void test_thumbnail_stop_skill(void **state)
{
    (void)state;
    struct retake_thumbnail_resp t;
    const char *good = "{\"message\":\"Thumbnail\\u001b[31m updated\",\"thumbnail_url\":"
                       "\"https://cdn/t.jpg\"}";
    assert_int_equal(retake_parse_thumbnail(good, LEN(good), &t, err, sizeof(err)), 0);
    assert_string_equal(t.thumbnail_url, "https://cdn/t.jpg");
    assert_string_equal(t.message, "Thumbnail?[31m updated"); /* ESC replaced */
    expect(p_thumb, "{\"message\":\"ok\"}", 16, -EPROTO,
           "update-thumbnail response: missing field \"thumbnail_url\"");
    expect(p_thumb, "{\"thumbnail_url\":1}", 19, -EPROTO, "must be a string");

    struct retake_stop_resp s;
    const char *stop = "{\"status\":\"stopped\",\"duration_seconds\":\"3600\",\"viewers\":4}";
    assert_int_equal(retake_parse_stop(stop, LEN(stop), &s, err, sizeof(err)), 0);
    assert_string_equal(s.status, "stopped");
    assert_int_equal(s.duration_seconds, 3600);
    assert_int_equal(s.viewers, 4);
    assert_int_equal(retake_parse_stop("{\"status\":\"stopped\"}", 20, &s, err, sizeof(err)), 0);
    assert_int_equal(s.duration_seconds, -1);
    assert_int_equal(s.viewers, -1);
    expect(p_stop, "{\"duration_seconds\":1}", 22, -EPROTO,
           "stream/stop response: missing field \"status\"");

    char v[16];
    const char *skill = "{\"name\":\"retake-tv-agent\",\"version\":\"2.1.3\"}";
    assert_int_equal(retake_parse_skill_version(skill, LEN(skill), v, sizeof(v), err, sizeof(err)),
                     0);
    assert_string_equal(v, "2.1.3");
    expect(p_skill, "{\"version\":2.1}", 15, -EPROTO,
           "skill.json: field \"version\" must be a string");
}

/* ---- comments ------------------------------------------------------------------------------- */

/* "Response: { "comments": [{ "_id": "comment_123", "streamId": "user_abc", "text": "Great
 * stream!", "timestamp": "2025-02-01T14:20:00Z", "author": { "walletAddress": "...",
 * "fusername": "viewer1", "fid": 12345, "favatar": "https://..." } }] }" */
static void test_comments_parse(void **state)
{
    (void)state;
    struct retake_comments c;
    const char *good =
        "{\"comments\":[{\"_id\":\"comment_123\",\"streamId\":\"user_abc\",\"text\":\"Great "
        "stream!\",\"timestamp\":\"2025-02-01T14:20:00Z\",\"author\":{\"walletAddress\":\"W1\","
        "\"fusername\":\"viewer1\",\"fid\":12345,\"favatar\":\"https://a/1.png\"},\"x\":true},"
        "{\"_id\":\"comment_122\",\"text\":\"\",\"author\":{\"fid\":\"77\"}},"
        "{\"_id\":\"c3\",\"text\":\"t\",\"timestamp\":1738419600000,\"author\":\"weird\"}],"
        "\"next\":null}";
    assert_int_equal(retake_parse_comments(good, LEN(good), &c, err, sizeof(err)), 0);
    assert_int_equal(c.count, 3);
    assert_int_equal(c.skipped, 0);
    struct retake_comment *a = &c.items[0];
    assert_string_equal(a->id, "comment_123");
    assert_string_equal(a->stream_id, "user_abc");
    assert_string_equal(a->text, "Great stream!");
    assert_string_equal(a->timestamp, "2025-02-01T14:20:00Z");
    assert_string_equal(a->author_username, "viewer1");
    assert_string_equal(a->author_wallet, "W1");
    assert_string_equal(a->author_avatar, "https://a/1.png");
    assert_int_equal(a->author_fid, 12345);
    /* The JSON line keeps every field the server sent, unknown ones too. */
    cJSON *j = cJSON_Parse(a->json);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "x")));
    assert_string_equal(jstr(j, "_id"), "comment_123");
    cJSON_Delete(j);
    assert_null(strchr(a->json, '\n'));
    assert_string_equal(c.items[1].text, "");
    assert_string_equal(c.items[1].author_username, "");
    assert_int_equal(c.items[1].author_fid, 77);
    assert_string_equal(c.items[1].timestamp, "");
    assert_string_equal(c.items[2].timestamp, "1738419600000");
    assert_int_equal(c.items[2].author_fid, -1);
    retake_comments_free(&c);
    assert_int_equal(c.count, 0);
    retake_comments_free(&c); /* twice is harmless */

    /* One bad comment is skipped, the rest delivered. */
    const char *mixed = "{\"comments\":[{\"text\":\"no id\"},{\"_id\":\"ok\",\"text\":\"fine\"},"
                        "7,{\"_id\":5,\"text\":\"numeric id\"},{\"_id\":\"nt\"},"
                        "{\"_id\":\"\",\"text\":\"empty id\"}]}";
    assert_int_equal(retake_parse_comments(mixed, LEN(mixed), &c, err, sizeof(err)), 0);
    assert_int_equal(c.count, 1);
    assert_string_equal(c.items[0].id, "ok");
    assert_int_equal(c.skipped, 5);
    assert_string_equal(c.skip_reason, "comments[0]: missing field \"_id\"");
    retake_comments_free(&c);

    assert_int_equal(retake_parse_comments("{\"comments\":[]}", 15, &c, err, sizeof(err)), 0);
    assert_int_equal(c.count, 0);
    assert_null(retake_comments_oldest_id(&c));
    retake_comments_free(&c);
    expect(p_comments, "{\"data\":[]}", 11, -EPROTO,
           "stream/comments response: missing field \"comments\"");
    expect(p_comments, "{\"comments\":{}}", 15, -EPROTO, "field \"comments\" must be an array");
    expect(p_comments, "{\"comments\":[{\"_id\":\"a\",\"text\":\"b\"},", 35, -EBADMSG, "truncated");
}

/* Builds a page {"comments":[…]} from ids, newest first unless oldest_first; timestamps follow
 * the order when with_ts. */
static void page_of(struct retake_comments *c, const char *const *ids, size_t n, bool with_ts)
{
    char body[16384];
    size_t len = (size_t)snprintf(body, sizeof(body), "{\"comments\":[");
    for (size_t i = 0; i < n; i++) {
        char ts[64] = "";
        if (with_ts)
            snprintf(ts, sizeof(ts), ",\"timestamp\":\"2025-02-01T14:%02zu:00Z\"", i);
        len += (size_t)snprintf(body + len, sizeof(body) - len,
                                "%s{\"_id\":\"%s\",\"text\":\"m\"%s}", i ? "," : "", ids[i], ts);
    }
    len += (size_t)snprintf(body + len, sizeof(body) - len, "]}");
    assert_true(len < sizeof(body));
    assert_int_equal(retake_parse_comments(body, len, c, err, sizeof(err)), 0);
}

/* Delivers a page; returns the ids delivered, joined by ' '. */
static const char *deliver(struct retake_seen_ids *seen, const char *const *ids, size_t n,
                           bool with_ts, bool *gap)
{
    static char out[4096];
    struct retake_comments c;
    size_t idx[128], n_new = 99;
    page_of(&c, ids, n, with_ts);
    assert_int_equal(retake_comments_new_since(&c, seen, idx, &n_new, gap), 0);
    out[0] = '\0';
    for (size_t k = 0; k < n_new; k++) {
        strcat(out, k ? " " : "");
        strcat(out, c.items[idx[k]].id);
    }
    retake_comments_free(&c);
    return out;
}

/* "Track latest _id seen — only process newer messages." Ids are compared for equality only:
 * "comment_10" sorts before "comment_9" as text, and that must not matter. */
static void test_new_since_ids_without_order(void **state)
{
    (void)state;
    struct retake_seen_ids seen;
    bool gap = true;
    assert_int_equal(retake_seen_init(&seen, 100), 0);
    const char *p1[] = {"comment_10", "comment_9", "comment_8"}; /* newest first */
    assert_string_equal(deliver(&seen, p1, 3, false, &gap), "comment_8 comment_9 comment_10");
    assert_false(gap); /* nothing seen before: no gap to report */
    const char *p2[] = {"comment_11", "comment_10", "comment_9"};
    assert_string_equal(deliver(&seen, p2, 3, false, &gap), "comment_11");
    assert_false(gap);
    assert_string_equal(deliver(&seen, p2, 3, false, &gap), "");
    const char *p3[] = {"comment_100", "comment_12", "comment_11"};
    assert_string_equal(deliver(&seen, p3, 3, false, &gap), "comment_12 comment_100");
    /* Random hex ids: no order at all. */
    const char *h1[] = {"9f1c", "0a7e", "ffff", "1234"};
    assert_string_equal(deliver(&seen, h1, 4, false, &gap), "1234 ffff 0a7e 9f1c");
    assert_true(gap); /* none of these was seen: comments may have been missed */
    const char *h2[] = {"00aa", "9f1c", "0a7e"};
    assert_string_equal(deliver(&seen, h2, 3, false, &gap), "00aa");
    assert_false(gap);
    /* An id repeated on one page is delivered once. */
    const char *dup[] = {"d2", "d1", "d2", "00aa"};
    assert_string_equal(deliver(&seen, dup, 4, false, &gap), "d2 d1");
    retake_seen_free(&seen);
}

/* The document does not state the order; a page whose timestamps rise is oldest-first. */
static void test_new_since_order_from_timestamps(void **state)
{
    (void)state;
    struct retake_seen_ids seen;
    assert_int_equal(retake_seen_init(&seen, 10), 0);
    struct retake_comments c;
    const char *asc[] = {"x1", "x2", "x3"};
    page_of(&c, asc, 3, true); /* timestamps 14:00, 14:01, 14:02 */
    assert_false(retake_comments_newest_first(&c));
    assert_string_equal(retake_comments_oldest_id(&c), "x1");
    retake_comments_free(&c);
    assert_string_equal(deliver(&seen, asc, 3, true, NULL), "x1 x2 x3");
    /* Without usable timestamps: newest first. */
    page_of(&c, asc, 3, false);
    assert_true(retake_comments_newest_first(&c));
    assert_string_equal(retake_comments_oldest_id(&c), "x3");
    retake_comments_free(&c);
    /* Offsets and fractions are compared as times, not text. */
    const char *body = "{\"comments\":[{\"_id\":\"a\",\"text\":\"\",\"timestamp\":"
                       "\"2025-02-01T15:00:00+02:00\"},{\"_id\":\"b\",\"text\":\"\","
                       "\"timestamp\":\"2025-02-01T13:30:00.5Z\"}]}";
    assert_int_equal(retake_parse_comments(body, LEN(body), &c, err, sizeof(err)), 0);
    assert_false(retake_comments_newest_first(&c)); /* 13:00Z then 13:30Z */
    retake_comments_free(&c);
    retake_seen_free(&seen);
}

static void random_hex(char *out)
{
    static const char hex[] = "0123456789abcdef";
    int n = 1 + rand() % 24;
    for (int i = 0; i < n; i++)
        out[i] = hex[rand() % 16];
    out[n] = '\0';
}

/* A simulated chat: comments arrive between polls; each poll sees the newest `limit`. Every
 * comment must come out exactly once, in arrival order, with bounded memory. */
static void test_new_since_exactly_once(void **state)
{
    (void)state;
    enum { TOTAL = 600, LIMIT = 20 };
    static char ids[TOTAL][32];
    struct retake_seen_ids seen;
    assert_int_equal(retake_seen_init(&seen, 2 * LIMIT), 0);
    srand(3);
    for (int i = 0; i < TOTAL; i++) {
        do { /* unique ids, so that "exactly once" is well defined */
            random_hex(ids[i]);
            bool clash = false;
            for (int j = 0; j < i && !clash; j++)
                clash = strcmp(ids[i], ids[j]) == 0;
            if (!clash)
                break;
        } while (1);
    }
    int arrived = 0, delivered = 0;
    while (arrived < TOTAL) {
        arrived += rand() % (LIMIT + 1); /* never more than a page between polls */
        if (arrived > TOTAL)
            arrived = TOTAL;
        const char *page[LIMIT];
        size_t n = 0;
        for (int i = arrived - 1; i >= 0 && n < LIMIT; i--)
            page[n++] = ids[i];
        struct retake_comments c;
        size_t idx[LIMIT], n_new;
        bool gap = true;
        page_of(&c, page, n, false);
        assert_int_equal(retake_comments_new_since(&c, &seen, idx, &n_new, &gap), 0);
        for (size_t k = 0; k < n_new; k++) {
            if (strcmp(c.items[idx[k]].id, ids[delivered]) != 0)
                fail_msg("delivered %s, expected %s (#%d)", c.items[idx[k]].id, ids[delivered],
                         delivered);
            delivered++;
        }
        /* A gap is reported exactly when there was history and the whole page is new. */
        assert_int_equal(gap, delivered > (int)n_new && n_new == n && n > 0);
        assert_true(seen.count <= seen.cap);
        retake_comments_free(&c);
    }
    assert_int_equal(delivered, TOTAL);
    retake_seen_free(&seen);
}

static void test_seen_ring(void **state)
{
    (void)state;
    struct retake_seen_ids s;
    assert_int_equal(retake_seen_init(&s, 0), -EINVAL);
    assert_int_equal(retake_seen_init(&s, 3), 0);
    assert_false(retake_seen_contains(&s, "a"));
    for (const char *id = "abcde"; *id; id++) {
        char one[2] = {*id, 0};
        assert_int_equal(retake_seen_add(&s, one), 0);
    }
    assert_int_equal(s.count, 3);
    assert_false(retake_seen_contains(&s, "a")); /* the oldest were forgotten */
    assert_false(retake_seen_contains(&s, "b"));
    assert_true(retake_seen_contains(&s, "c"));
    assert_true(retake_seen_contains(&s, "e"));
    retake_seen_free(&s);
    retake_seen_free(&s);
}

/* ---- errors --------------------------------------------------------------------------------- */

static const char *http_err(enum retake_endpoint ep, long status, const char *body)
{
    static char out[512];
    retake_http_error(ep, status, body, body ? LEN(body) : 0, out, sizeof(out));
    assert_null(strchr(out, '\n'));
    return out;
}

/* "| 400 | Bad input / name taken | 401 | Invalid or missing access_token | 404 | ID not found |
 * 409 | No active session | Call /agent/stream/start first | 500 | Server error | Retry |" */
static void test_http_errors(void **state)
{
    (void)state;
    assert_int_equal(retake_http_classify(200), RETAKE_HTTP_OK);
    assert_int_equal(retake_http_classify(204), RETAKE_HTTP_OK);
    assert_int_equal(retake_http_classify(400), RETAKE_HTTP_BAD_INPUT);
    assert_int_equal(retake_http_classify(401), RETAKE_HTTP_AUTH);
    assert_int_equal(retake_http_classify(404), RETAKE_HTTP_NOT_FOUND);
    assert_int_equal(retake_http_classify(409), RETAKE_HTTP_NO_SESSION);
    assert_int_equal(retake_http_classify(500), RETAKE_HTTP_SERVER);
    assert_int_equal(retake_http_classify(503), RETAKE_HTTP_SERVER);
    assert_int_equal(retake_http_classify(599), RETAKE_HTTP_SERVER);
    assert_int_equal(retake_http_classify(403), RETAKE_HTTP_OTHER);
    assert_int_equal(retake_http_classify(429), RETAKE_HTTP_OTHER);
    assert_int_equal(retake_http_classify(302), RETAKE_HTTP_OTHER);
    assert_int_equal(retake_http_classify(0), RETAKE_HTTP_OTHER);

    const char *m = http_err(RETAKE_EP_REGISTER, 400, "{\"error\":\"Agent name already taken\"}");
    assert_contains(m, "agent/register refused the request (HTTP 400: bad input / name taken)");
    assert_contains(m, "choose another agent_name");
    assert_contains(m, ": \"Agent name already taken\"");
    m = http_err(RETAKE_EP_VERIFY, 400, "{\"message\":\"Invalid tweet URL\"}");
    assert_contains(m, "agent/verify refused the request (HTTP 400: bad input)");
    assert_contains(m, "\"Invalid tweet URL\"");

    m = http_err(RETAKE_EP_RTMP, 401,
                 "{\"error\":\"Unauthorized\",\"message\":\"bad token "
                 "rtk_abcdefghijklmnop9876\"}");
    assert_true(strncmp(m, "access token rejected — re-register or set RETAKE_ACCESS_TOKEN",
                        strlen("access token rejected — re-register or set RETAKE_ACCESS_TOKEN")) ==
                0);
    assert_contains(m, "agent/rtmp: HTTP 401");
    assert_contains(m, "Unauthorized: bad token rtk_\xe2\x80\xa6"
                       "9876");
    assert_null(strstr(m, "abcdefghijklmnop")); /* a token echoed by the server is redacted */
    m = http_err(RETAKE_EP_RTMP, 401, NULL);
    assert_string_equal(m, "access token rejected — re-register or set RETAKE_ACCESS_TOKEN "
                           "(agent/rtmp: HTTP 401)");

    m = http_err(RETAKE_EP_USERS_METADATA, 404, "{\"error\":\"User not found\"}");
    assert_contains(m, "users/metadata/:user_id: ID not found (HTTP 404)");
    assert_contains(m, "userDbId, session_id or user_id");
    m = http_err(RETAKE_EP_STREAM_STATUS, 409, "");
    assert_string_equal(m, "agent/stream/status: no active session (HTTP 409) — "
                           "agent/stream/start must be called first");
    m = http_err(RETAKE_EP_STREAM_START, 503, "<html>Service Unavailable</html>");
    assert_string_equal(m, "agent/stream/start: retake.tv server error (HTTP 503) — retry; "
                           "report if persistent");
    m = http_err(RETAKE_EP_STREAM_START, 418, "{\"message\":\"teapot\\u001b[2J\\nline\"}");
    assert_string_equal(m, "agent/stream/start: unexpected HTTP status 418: \"teapot?[2J line\"");

    /* A long server message is cut (with "…"), never overflowing. */
    char body[2048];
    snprintf(body, sizeof(body), "{\"error\":\"%01500d\"}", 0);
    m = http_err(RETAKE_EP_RTMP, 500, body);
    assert_true(strlen(m) < 300);
    assert_contains(m, "\xe2\x80\xa6\"");
    char tiny[16];
    retake_http_error(RETAKE_EP_RTMP, 500, body, LEN(body), tiny, sizeof(tiny));
    assert_int_equal(strlen(tiny), sizeof(tiny) - 1);
}

/* ---- public endpoints ----------------------------------------------------------------------- */

static char *format(enum retake_endpoint ep, const char *body)
{
    cJSON *root = retake_json_parse(body, LEN(body), "test", err, sizeof(err));
    if (!root)
        fail_msg("parse: %s", err);
    char *text = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&text, &size);
    assert_int_equal(retake_format_public(ep, root, f), 0);
    fclose(f);
    cJSON_Delete(root);
    return text;
}

static void test_json_parse(void **state)
{
    (void)state;
    cJSON *r = retake_json_parse("[1]", 3, "users/live response", err, sizeof(err));
    assert_true(cJSON_IsArray(r));
    cJSON_Delete(r);
    r = retake_json_parse("{\"a\":1}", 7, "x", err, sizeof(err));
    assert_true(cJSON_IsObject(r));
    cJSON_Delete(r);
    assert_null(retake_json_parse("3", 1, "tokens/top response", err, sizeof(err)));
    assert_string_equal(err, "tokens/top response: expected a JSON object or array, got a scalar");
    assert_null(retake_json_parse("[1,", 3, "users/live response", err, sizeof(err)));
    assert_string_equal(err, "users/live response: retake.tv answered with malformed JSON "
                             "(truncated after 3 bytes)");
    assert_null(retake_json_parse("", 0, "x", err, sizeof(err)));
}

/* "/users/live/ | All currently live agents. Returns user_id, username, ticker, token_address,
 * market_cap, rank." */
static void test_format_users(void **state)
{
    (void)state;
    char *t = format(RETAKE_EP_USERS_LIVE,
                     "[{\"user_id\":\"u1\",\"username\":\"alpha\",\"ticker\":\"ALP\",\"rank\":1,"
                     "\"extra\":\"hidden\"},{\"user_id\":\"u2\",\"username\":\"b\\u001b[31mx\","
                     "\"ticker\":\"B\",\"rank\":2.5}]");
    assert_string_equal(t, "user_id  username  ticker  rank\n"
                           "u1       alpha     ALP     1\n"
                           "u2       b?[31mx   B       2.5\n");
    free(t);
    /* An envelope object: rows are its first array. Empty: "(none)". */
    t = format(RETAKE_EP_USERS_SEARCH, "{\"users\":[]}");
    assert_string_equal(t, "(none)\n");
    free(t);
    t = format(RETAKE_EP_USERS_NEWEST, "{\"count\":1,\"data\":[{\"user_id\":\"u9\"}]}");
    assert_string_equal(t, "user_id\nu9\n");
    free(t);
    /* "/users/metadata/:user_id | Full profile: username, bio, wallet_address, social_links[],
     * profile_picture_url." */
    t = format(
        RETAKE_EP_USERS_METADATA,
        "{\"zzz\":1,\"bio\":\"hi\",\"username\":\"alpha\",\"social_links\":[\"https://x\"]}");
    assert_string_equal(t, "username:                     alpha\n"
                           "bio:                          hi\n"
                           "social_links:                 [\"https://x\"]\n"
                           "zzz:                          1\n");
    free(t);
}

/* Long cells are cut at 40 characters with "…"; UTF-8 is cut on a character boundary. */
static void test_format_cells(void **state)
{
    (void)state;
    char body[1024], want[256];
    char long_title[80];
    memset(long_title, 'x', 60);
    long_title[60] = '\0';
    snprintf(body, sizeof(body),
             "[{\"session_id\":\"s1\",\"streamer_id\":null,\"title\":\"%s\"},"
             "{\"session_id\":\"s2\",\"title\":\"\xc3\xa9\xc3\xa9\"}]",
             long_title);
    char *t = format(RETAKE_EP_SESSIONS_ACTIVE, body);
    char cut[80];
    memset(cut, 'x', 39);
    strcpy(cut + 39, "\xe2\x80\xa6");
    snprintf(want, sizeof(want),
             "session_id  streamer_id  title\n"
             "s1          -            %s\n"
             "s2          -            \xc3\xa9\xc3\xa9\n",
             cut);
    assert_string_equal(t, want);
    free(t);
}

/* "/tokens/:address/stats | Detailed stats: current_price, market_cap, all_time_high, growth
 * (1h/6h/24h), volume, earnings." */
static void test_format_tokens(void **state)
{
    (void)state;
    char *t = format(RETAKE_EP_TOKEN_STATS,
                     "{\"volume\":1000,\"growth\":{\"1h\":0.5,\"24h\":-2},\"current_price\":"
                     "0.000123,\"market_cap\":52000.75,\"note\":true}");
    assert_string_equal(t, "current_price:                0.000123\n"
                           "market_cap:                   52000.75\n"
                           "growth.1h:                    0.5\n"
                           "growth.24h:                   -2\n"
                           "volume:                       1000\n"
                           "note:                         true\n");
    free(t);
    t = format(RETAKE_EP_TOKENS_TRENDING,
               "[{\"username\":\"a\",\"ticker\":\"A\",\"growth_24h\":12.5,\"market_cap\":9}]");
    assert_string_equal(t, "username  ticker  growth_24h  market_cap\n"
                           "a         A       12.5        9\n");
    free(t);
}

/* Trades: the document lists no fields, so the first row's own scalars are the columns. Chat:
 * "Returns chats[] with sender_username, text, type, tip_data, trade_data." */
static void test_format_trades_chat(void **state)
{
    (void)state;
    char *t = format(RETAKE_EP_TRADES_RECENT,
                     "{\"trades\":[{\"tx\":\"abc\",\"usd\":5,\"meta\":{\"a\":1},\"side\":\"buy\"},"
                     "{\"tx\":\"def\",\"side\":\"sell\"}],\"cursor\":\"c\"}");
    assert_string_equal(t, "tx   usd  side\n"
                           "abc  5    buy\n"
                           "def  -    sell\n");
    free(t);
    t = format(RETAKE_EP_CHAT, "{\"chats\":[{\"sender_username\":\"v1\",\"type\":\"tip\","
                               "\"text\":\"gm\",\"tip_data\":{\"amount\":2}}]}");
    assert_string_equal(t, "sender_username  type  text  tip_data\n"
                           "v1               tip   gm    {\"amount\":2}\n");
    free(t);
    t = format(RETAKE_EP_CHAT_TOP_TIPPERS, "[\"a\",\"b\"]");
    assert_string_equal(t, "a\nb\n");
    free(t);
    /* A hostile key in a fallback column is made safe too. */
    t = format(RETAKE_EP_TRADES_TOP_COUNT, "[{\"k\\u001b]0;x\":1}]");
    assert_null(strchr(t, 0x1b));
    free(t);
    assert_int_equal(retake_format_public(RETAKE_EP_CHAT, NULL, stdout), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_endpoint_table),
        cmocka_unit_test(test_paths),
        cmocka_unit_test(test_comments_path),
        cmocka_unit_test(test_escape_join_skill),
        cmocka_unit_test(test_bodies),
        cmocka_unit_test(test_all_parsers_good_and_broken),
        cmocka_unit_test(test_register),
        cmocka_unit_test(test_verification),
        cmocka_unit_test(test_rtmp),
        cmocka_unit_test(test_stream_start),
        cmocka_unit_test(test_stream_status),
        cmocka_unit_test(test_thumbnail_stop_skill),
        cmocka_unit_test(test_comments_parse),
        cmocka_unit_test(test_new_since_ids_without_order),
        cmocka_unit_test(test_new_since_order_from_timestamps),
        cmocka_unit_test(test_new_since_exactly_once),
        cmocka_unit_test(test_seen_ring),
        cmocka_unit_test(test_http_errors),
        cmocka_unit_test(test_json_parse),
        cmocka_unit_test(test_format_users),
        cmocka_unit_test(test_format_cells),
        cmocka_unit_test(test_format_tokens),
        cmocka_unit_test(test_format_trades_chat),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
