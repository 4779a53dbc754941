/*
 * test_clawcast_api — the pure ClawCast.tv client layer (src/clawcast/api.c, api_parse.c): the
 * endpoint table against the document, request bodies (validated before they are built), the
 * typed parsers on good, truncated, malformed and incomplete answers, and the meaning of HTTP
 * error statuses.
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

#include "clawcast/api.h"
#include "clawcast/api_internal.h"

static char err[512];

#define BODY(s) (s), strlen(s)
/* A JWT-shaped string (payload {"exp":2000000000}); not a real credential. */
#define JWT "eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjIwMDAwMDAwMDB9.c2lnbmF0dXJlLXNpZ25hdHVyZQ"

static void test_endpoint_table(void **state)
{
    (void)state;
    static const struct {
        enum clawcast_endpoint ep;
        enum clawcast_method m;
        const char *path;
        enum clawcast_auth auth;
    } want[] = {
        /* "POST /api/bookSlot" — x-api-key for claimed names only */
        {CLAWCAST_EP_BOOK_SLOT, CLAWCAST_POST, "/api/bookSlot", CLAWCAST_AUTH_API_KEY},
        {CLAWCAST_EP_PUBLISH_FRAME, CLAWCAST_POST, "/api/publishFrame", CLAWCAST_AUTH_SLOT_JWT},
        {CLAWCAST_EP_PUBLISH_BATCH, CLAWCAST_POST, "/api/publishBatch", CLAWCAST_AUTH_SLOT_JWT},
        {CLAWCAST_EP_END_SLOT, CLAWCAST_POST, "/api/endSlot", CLAWCAST_AUTH_SLOT_JWT},
        {CLAWCAST_EP_POLL_RESULTS, CLAWCAST_GET, "/api/pollResults", CLAWCAST_AUTH_SLOT_JWT},
        /* "Anonymous — no auth required." */
        {CLAWCAST_EP_VOTE, CLAWCAST_POST, "/api/vote", CLAWCAST_AUTH_NONE},
        /* "No JWT needed." */
        {CLAWCAST_EP_REQUEST_DUET, CLAWCAST_POST, "/api/requestDuet", CLAWCAST_AUTH_NONE},
        {CLAWCAST_EP_DUET_REQUESTS, CLAWCAST_GET, "/api/duetRequests", CLAWCAST_AUTH_NONE},
        {CLAWCAST_EP_ACCEPT_DUET, CLAWCAST_POST, "/api/acceptDuet", CLAWCAST_AUTH_NONE},
        {CLAWCAST_EP_DUET_REPLY, CLAWCAST_POST, "/api/duetReply", CLAWCAST_AUTH_NONE},
        /* "Chat — messages appear in the live activity feed. No auth." */
        {CLAWCAST_EP_CHAT, CLAWCAST_POST, "/api/chat", CLAWCAST_AUTH_NONE},
        {CLAWCAST_EP_NOW, CLAWCAST_GET, "/api/now", CLAWCAST_AUTH_NONE},
        {CLAWCAST_EP_GET_QUEUE, CLAWCAST_GET, "/api/getQueue", CLAWCAST_AUTH_NONE},
    };
    assert_int_equal(sizeof(want) / sizeof(want[0]), CLAWCAST_EP_COUNT);
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        const struct clawcast_endpoint_info *e = clawcast_endpoint_get(want[i].ep);
        assert_non_null(e);
        assert_string_equal(e->path, want[i].path);
        assert_int_equal(e->method, want[i].m);
        assert_int_equal(e->auth, want[i].auth);
        assert_string_equal(e->name, want[i].path + 5);
        assert_int_equal(e->json_body, want[i].m == CLAWCAST_POST && want[i].ep !=
                                           CLAWCAST_EP_END_SLOT);
    }
    assert_null(clawcast_endpoint_get(CLAWCAST_EP_COUNT));
    char *u = clawcast_url("https://tvterminal.com/", CLAWCAST_EP_NOW);
    assert_string_equal(u, "https://tvterminal.com/api/now");
    free(u);
    u = clawcast_url(CLAWCAST_API_BASE_DEFAULT, CLAWCAST_EP_BOOK_SLOT);
    assert_string_equal(u, "https://tvterminal.com/api/bookSlot");
    free(u);
}

static void test_body_book_slot(void **state)
{
    (void)state;
    cJSON *slides = cJSON_Parse("[{\"type\":\"text\",\"content\":{\"headline\":\"Hello "
                                "ClawCast!\",\"body\":\"First time on air\"},"
                                "\"duration_seconds\":8}]");
    struct clawcast_book_req req = {"your_agent", "https://github.com/you/your-agent", 1, slides};
    char *body = NULL;
    assert_int_equal(clawcast_body_book_slot(&req, &body, err, sizeof(err)), 0);
    cJSON *j = cJSON_Parse(body);
    assert_string_equal(cJSON_GetObjectItem(j, "streamer_name")->valuestring, "your_agent");
    assert_int_equal(cJSON_GetObjectItem(j, "duration_minutes")->valueint, 1);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(j, "slides")), 1);
    cJSON_Delete(j);
    clawcast_body_free(body);
    /* "slides — optional." */
    req.slides = NULL;
    assert_int_equal(clawcast_body_book_slot(&req, &body, err, sizeof(err)), 0);
    assert_null(strstr(body, "slides"));
    clawcast_body_free(body);
    /* Validation before sending: nothing is built. */
    req.duration_minutes = 5;
    assert_int_equal(clawcast_body_book_slot(&req, &body, err, sizeof(err)), -EINVAL);
    assert_null(body);
    assert_non_null(strstr(err, "duration_minutes"));
    req.duration_minutes = 1;
    req.streamer_name = NULL;
    assert_int_equal(clawcast_body_book_slot(&req, &body, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "streamer_name: missing"));
    cJSON_Delete(slides);
}

static void test_bodies(void **state)
{
    (void)state;
    char *b = NULL;
    /* "Set "delta": true to append instead of replace." */
    assert_int_equal(clawcast_body_terminal("$ ls\n", true, &b, err, sizeof(err)), 0);
    assert_string_equal(b, "{\"type\":\"terminal\",\"content\":{\"screen\":\"$ ls\\n\"},"
                           "\"delta\":true}");
    clawcast_body_free(b);
    assert_int_equal(clawcast_body_terminal("x", false, &b, err, sizeof(err)), 0);
    assert_null(strstr(b, "delta"));
    clawcast_body_free(b);
    cJSON *slides = cJSON_Parse("[{\"type\":\"data\",\"content\":{\"rows\":[{\"label\":\"Score\","
                                "\"value\":\"99\",\"change\":\"+12%\"}]}}]");
    assert_int_equal(clawcast_body_batch(slides, &b, err, sizeof(err)), 0);
    assert_non_null(strstr(b, "{\"slides\":[{\"type\":\"data\""));
    clawcast_body_free(b);
    cJSON_Delete(slides);
    assert_int_equal(clawcast_body_batch(NULL, &b, err, sizeof(err)), -EINVAL);
    assert_null(b);
    /* { "poll_id": "...", "option_index": 0, "viewer_id": "..." } */
    assert_int_equal(clawcast_body_vote("p1", 2, 4, "v9", &b, err, sizeof(err)), 0);
    assert_string_equal(b, "{\"poll_id\":\"p1\",\"option_index\":2,\"viewer_id\":\"v9\"}");
    clawcast_body_free(b);
    assert_int_equal(clawcast_body_vote("p1", 4, 4, "v9", &b, err, sizeof(err)), -EINVAL);
    assert_int_equal(clawcast_body_request_duet("host_agent", "https://github.com/host/agent",
                                                "Why?", &b, err, sizeof(err)),
                     0);
    assert_string_equal(b, "{\"name\":\"host_agent\",\"url\":\"https://github.com/host/agent\","
                           "\"question\":\"Why?\"}");
    clawcast_body_free(b);
    assert_int_equal(clawcast_body_accept_duet("r1", "guest", "https://g.h", "Because.", &b, err,
                                               sizeof(err)),
                     0);
    assert_string_equal(b, "{\"request_id\":\"r1\",\"name\":\"guest\",\"url\":\"https://g.h\","
                           "\"answer\":\"Because.\"}");
    clawcast_body_free(b);
    assert_int_equal(clawcast_body_duet_reply("p7", "host", "Indeed.", &b, err, sizeof(err)), 0);
    assert_string_equal(b, "{\"request_id\":\"p7\",\"name\":\"host\",\"reply\":\"Indeed.\"}");
    clawcast_body_free(b);
    assert_int_equal(clawcast_body_chat("your_agent", "Hello viewers!", &b, err, sizeof(err)), 0);
    assert_string_equal(b, "{\"name\":\"your_agent\",\"text\":\"Hello viewers!\"}");
    clawcast_body_free(b);
    assert_int_equal(clawcast_body_chat("your agent", "x", &b, err, sizeof(err)), -EINVAL);
    assert_null(b);
    cJSON *f = cJSON_Parse("{\"type\":\"image\",\"content\":{\"image_url\":\"http://i.imgur.com/"
                           "a.png\"}}");
    assert_int_equal(clawcast_body_frame(f, &b, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "content.image_url"));
    cJSON_Delete(f);
}

/* "You get back a slot_jwt (for authenticated endpoints), your position_in_queue, and timing
 * info. Position 0 means you're live right now." */
static void test_parse_booking(void **state)
{
    (void)state;
    struct clawcast_booking b;
    const char *good = "{\"ok\":true,\"slot_jwt\":\"" JWT "\",\"position_in_queue\":0,"
                       "\"starts_in_seconds\":0,\"duration_seconds\":60,\"extra\":{\"a\":1}}";
    assert_int_equal(clawcast_parse_booking(BODY(good), &b, err, sizeof(err)), 0);
    assert_string_equal(b.slot_jwt, JWT);
    assert_int_equal(b.position_in_queue, 0);
    assert_string_equal(b.timing_json,
                        "{\"starts_in_seconds\":0,\"duration_seconds\":60,\"extra\":{\"a\":1}}");
    clawcast_booking_clear(&b);
    assert_string_equal(b.slot_jwt, "");
    /* A queue position sent as a string of digits. */
    assert_int_equal(clawcast_parse_booking(BODY("{\"slot_jwt\":\"" JWT
                                                 "\",\"position_in_queue\":\"3\"}"),
                                            &b, err, sizeof(err)),
                     0);
    assert_int_equal(b.position_in_queue, 3);
    assert_string_equal(b.timing_json, "{}");

    assert_int_equal(clawcast_parse_booking(BODY("{\"position_in_queue\":0}"), &b, err,
                                            sizeof(err)),
                     -EPROTO);
    assert_non_null(strstr(err, "missing field \"slot_jwt\""));
    assert_int_equal(clawcast_parse_booking(BODY("{\"slot_jwt\":\"" JWT "\"}"), &b, err,
                                            sizeof(err)),
                     -EPROTO);
    assert_non_null(strstr(err, "missing field \"position_in_queue\""));
    assert_null(strstr(err, "eyJ")); /* never the JWT in a message */
    assert_string_equal(b.slot_jwt, "");
    assert_int_equal(clawcast_parse_booking(BODY("{\"slot_jwt\":\"\",\"position_in_queue\":0}"),
                                            &b, err, sizeof(err)),
                     -EPROTO);
    assert_non_null(strstr(err, "\"slot_jwt\" is empty"));
    assert_int_equal(clawcast_parse_booking(BODY("{\"slot_jwt\":\"x\",\"position_in_queue\":-1}"),
                                            &b, err, sizeof(err)),
                     -EPROTO);
    assert_non_null(strstr(err, "non-negative integer"));
    /* Truncated, malformed, empty. */
    assert_int_equal(clawcast_parse_booking(BODY("{\"slot_jwt\":\"eyJhbGci"), &b, err,
                                            sizeof(err)),
                     -EBADMSG);
    assert_non_null(strstr(err, "truncated"));
    assert_null(strstr(err, "eyJ"));
    assert_int_equal(clawcast_parse_booking(BODY("<html>502</html>"), &b, err, sizeof(err)),
                     -EBADMSG);
    assert_non_null(strstr(err, "malformed JSON"));
    assert_int_equal(clawcast_parse_booking(BODY("  \n"), &b, err, sizeof(err)), -EBADMSG);
    assert_non_null(strstr(err, "empty body"));
    assert_int_equal(clawcast_parse_booking(BODY("{\"a\":1} x"), &b, err, sizeof(err)),
                     -EBADMSG);
    assert_int_equal(clawcast_parse_booking(BODY("[1]"), &b, err, sizeof(err)), -EPROTO);
    /* The body need not be NUL-terminated: a length cuts it. */
    assert_int_equal(clawcast_parse_booking(good, 20, &b, err, sizeof(err)), -EBADMSG);
    assert_int_equal(clawcast_parse_booking(BODY("{\"ok\":false,\"error\":\"name taken\"}"), &b,
                                            err, sizeof(err)),
                     -EPROTO);
    assert_non_null(strstr(err, "name taken"));
}

/* "GET /api/now → { live, streamer_name, seconds_remaining, viewer_count }" */
static void test_parse_now(void **state)
{
    (void)state;
    struct clawcast_now n;
    assert_int_equal(clawcast_parse_now(BODY("{\"live\":true,\"streamer_name\":\"bot\","
                                             "\"seconds_remaining\":42,\"viewer_count\":7,"
                                             "\"new\":[1]}"),
                                        &n, err, sizeof(err)),
                     0);
    assert_true(n.live);
    assert_string_equal(n.streamer_name, "bot");
    assert_int_equal(n.seconds_remaining, 42);
    assert_int_equal(n.viewer_count, 7);
    assert_int_equal(clawcast_parse_now(BODY("{\"live\":false,\"streamer_name\":null}"), &n, err,
                                        sizeof(err)),
                     0);
    assert_false(n.live);
    assert_string_equal(n.streamer_name, "");
    assert_int_equal(n.seconds_remaining, -1);
    assert_int_equal(clawcast_parse_now(BODY("{\"live\":{\"streamer_name\":\"x\"}}"), &n, err,
                                        sizeof(err)),
                     0);
    assert_true(n.live);
    assert_string_equal(n.streamer_name, "x");
    assert_int_equal(clawcast_parse_now(BODY("{\"streamer_name\":\"bot\"}"), &n, err,
                                        sizeof(err)),
                     -EPROTO);
    assert_non_null(strstr(err, "missing field \"live\""));
    assert_int_equal(clawcast_parse_now(BODY("{\"live\":\"yes\"}"), &n, err, sizeof(err)),
                     -EPROTO);
    assert_int_equal(clawcast_parse_now(BODY("{\"live\":tru"), &n, err, sizeof(err)), -EBADMSG);
}

/* "GET /api/getQueue → { live, queue }" */
static void test_parse_queue(void **state)
{
    (void)state;
    struct clawcast_queue q;
    assert_int_equal(clawcast_parse_queue(BODY("{\"live\":{\"streamer_name\":\"on_air\"},"
                                               "\"queue\":[{\"streamer_name\":\"a\",\"pos\":1},"
                                               "\"b\",{\"other\":2}]}"),
                                          &q, err, sizeof(err)),
                     0);
    assert_true(q.live);
    assert_string_equal(q.live_name, "on_air");
    assert_int_equal(q.count, 3);
    assert_string_equal(q.items[0].streamer_name, "a");
    assert_string_equal(q.items[0].json, "{\"streamer_name\":\"a\",\"pos\":1}");
    assert_string_equal(q.items[1].streamer_name, "b");
    assert_string_equal(q.items[2].streamer_name, "");
    clawcast_queue_free(&q);
    assert_int_equal(q.count, 0);
    assert_int_equal(clawcast_parse_queue(BODY("{\"live\":null,\"queue\":[]}"), &q, err,
                                          sizeof(err)),
                     0);
    assert_false(q.live);
    assert_int_equal(q.count, 0);
    clawcast_queue_free(&q);
    assert_int_equal(clawcast_parse_queue(BODY("{\"live\":false}"), &q, err, sizeof(err)),
                     -EPROTO);
    assert_non_null(strstr(err, "missing field \"queue\""));
    clawcast_queue_free(&q);
    assert_int_equal(clawcast_parse_queue(BODY("{\"live\":false,\"queue\":{}}"), &q, err,
                                          sizeof(err)),
                     -EPROTO);
    assert_non_null(strstr(err, "must be an array"));
    clawcast_queue_free(&q);
}

/* "Returns { ok, poll_id, question, options, results, total_votes } where results is an array
 * of vote counts matching the options." */
static void test_parse_poll(void **state)
{
    (void)state;
    struct clawcast_poll_results p;
    assert_int_equal(clawcast_parse_poll_results(
                         BODY("{\"ok\":true,\"poll_id\":\"p1\",\"question\":\"Next?\",\"options\":"
                              "[\"A\",\"B\",\"C\"],\"results\":[3,0,\"2\"],\"total_votes\":5}"),
                         &p, err, sizeof(err)),
                     0);
    assert_string_equal(p.poll_id, "p1");
    assert_string_equal(p.question, "Next?");
    assert_int_equal(p.n_options, 3);
    assert_string_equal(p.options[2], "C");
    assert_int_equal(p.results[0], 3);
    assert_int_equal(p.results[2], 2);
    assert_int_equal(p.total_votes, 5);
    assert_int_equal(clawcast_parse_poll_results(BODY("{\"poll_id\":\"p\",\"options\":[\"A\","
                                                      "\"B\"],\"results\":[1]}"),
                                                 &p, err, sizeof(err)),
                     -EPROTO);
    assert_non_null(strstr(err, "2 options but 1 results"));
    assert_int_equal(clawcast_parse_poll_results(BODY("{\"poll_id\":\"p\"}"), &p, err,
                                                 sizeof(err)),
                     -EPROTO);
    assert_non_null(strstr(err, "missing field \"results\""));
    assert_int_equal(clawcast_parse_poll_results(BODY("{\"results\":[1]}"), &p, err, sizeof(err)),
                     -EPROTO);
    assert_non_null(strstr(err, "missing field \"poll_id\""));
    assert_int_equal(clawcast_parse_poll_results(BODY("{\"poll_id\":\"p\",\"results\":[1.5]}"),
                                                 &p, err, sizeof(err)),
                     -EPROTO);
    assert_non_null(strstr(err, "\"results\"[0]"));
    /* vote: "Returns { ok, results }." */
    int64_t c[6];
    size_t n;
    assert_int_equal(clawcast_parse_vote(BODY("{\"ok\":true,\"results\":[1,2]}"), c, 6, &n, err,
                                         sizeof(err)),
                     0);
    assert_int_equal(n, 2);
    assert_int_equal(c[1], 2);
    assert_int_equal(clawcast_parse_vote(BODY("{\"ok\":true,\"results\":[1,2,3]}"), c, 2, &n, err,
                                         sizeof(err)),
                     -EPROTO);
    assert_int_equal(clawcast_parse_vote(BODY("{\"ok\":false,\"message\":\"already voted\"}"), c,
                                         6, &n, err, sizeof(err)),
                     -EPROTO);
    assert_non_null(strstr(err, "already voted"));
}

static void test_parse_duets(void **state)
{
    (void)state;
    char id[64];
    /* acceptDuet: "Returns a pending_id for the next step." */
    assert_int_equal(clawcast_parse_duet_id(CLAWCAST_EP_ACCEPT_DUET,
                                            BODY("{\"ok\":true,\"pending_id\":\"pd-1\"}"), id,
                                            sizeof(id), err, sizeof(err)),
                     0);
    assert_string_equal(id, "pd-1");
    assert_int_equal(clawcast_parse_duet_id(CLAWCAST_EP_ACCEPT_DUET, BODY("{\"ok\":true}"), id,
                                            sizeof(id), err, sizeof(err)),
                     -EPROTO);
    assert_non_null(strstr(err, "missing field \"pending_id\""));
    assert_int_equal(clawcast_parse_duet_id(CLAWCAST_EP_REQUEST_DUET,
                                            BODY("{\"request_id\":\"r-9\"}"), id, sizeof(id), err,
                                            sizeof(err)),
                     0);
    assert_string_equal(id, "r-9");
    assert_int_equal(clawcast_parse_duet_id(CLAWCAST_EP_REQUEST_DUET, BODY("{\"id\":\"r-8\"}"),
                                            id, sizeof(id), err, sizeof(err)),
                     0);
    assert_string_equal(id, "r-8");
    assert_int_equal(clawcast_parse_duet_id(CLAWCAST_EP_REQUEST_DUET, BODY("{}"), id, sizeof(id),
                                            err, sizeof(err)),
                     -EPROTO);
    assert_non_null(strstr(err, "\"request_id\" (or \"id\")"));
    assert_int_equal(clawcast_parse_duet_id(CLAWCAST_EP_NOW, BODY("{}"), id, sizeof(id), err,
                                            sizeof(err)),
                     -EINVAL);
    /* "GET /api/duetRequests → { ok, requests: [{ id, host_name, host_url, question,
     * created_at }] }" */
    struct clawcast_duet_requests r;
    assert_int_equal(clawcast_parse_duet_requests(
                         BODY("{\"ok\":true,\"requests\":[{\"id\":\"a\",\"host_name\":\"h\","
                              "\"host_url\":\"https://h\",\"question\":\"Q?\",\"created_at\":"
                              "1700000000},{\"host_name\":\"no id\"},{\"id\":\"b\"}]}"),
                         &r, err, sizeof(err)),
                     0);
    assert_int_equal(r.count, 2);
    assert_int_equal(r.skipped, 1);
    assert_string_equal(r.items[0].question, "Q?");
    assert_string_equal(r.items[0].created_at, "1700000000");
    assert_string_equal(r.items[1].id, "b");
    clawcast_duet_requests_free(&r);
    assert_int_equal(clawcast_parse_duet_requests(BODY("{\"ok\":true}"), &r, err, sizeof(err)),
                     -EPROTO);
    assert_non_null(strstr(err, "missing field \"requests\""));
    clawcast_duet_requests_free(&r);
}

static void test_parse_ok(void **state)
{
    (void)state;
    assert_int_equal(clawcast_parse_ok(CLAWCAST_EP_END_SLOT, BODY(""), err, sizeof(err)), 0);
    assert_int_equal(clawcast_parse_ok(CLAWCAST_EP_CHAT, BODY("{\"ok\":true}"), err, sizeof(err)),
                     0);
    assert_int_equal(clawcast_parse_ok(CLAWCAST_EP_PUBLISH_FRAME,
                                       BODY("{\"ok\":false,\"error\":\"slot not active\"}"), err,
                                       sizeof(err)),
                     -EPROTO);
    assert_non_null(strstr(err, "publishFrame response"));
    assert_non_null(strstr(err, "slot not active"));
    assert_int_equal(clawcast_parse_ok(CLAWCAST_EP_CHAT, BODY("{\"ok\":"), err, sizeof(err)),
                     -EBADMSG);
}

static void test_http_errors(void **state)
{
    (void)state;
    char out[512];
    /* "Claimed names return 401 without a key, 403 with a wrong key." */
    clawcast_http_error(CLAWCAST_EP_BOOK_SLOT, 401, NULL, 0, out, sizeof(out));
    assert_non_null(strstr(out, "this name is claimed: pass --api-key-file"));
    clawcast_http_error(CLAWCAST_EP_BOOK_SLOT, 403, BODY("{\"error\":\"bad key\"}"), out,
                        sizeof(out));
    assert_non_null(strstr(out, "API key was refused"));
    assert_non_null(strstr(out, "bad key"));
    clawcast_http_error(CLAWCAST_EP_PUBLISH_FRAME, 401, NULL, 0, out, sizeof(out));
    assert_non_null(strstr(out, "slot JWT refused"));
    /* "Returns 409 if a batch is active — one mode at a time." */
    clawcast_http_error(CLAWCAST_EP_PUBLISH_FRAME, 409, NULL, 0, out, sizeof(out));
    assert_non_null(strstr(out, "a batch is active"));
    assert_non_null(strstr(out, "one mode at a time"));
    /* "One batch per slot." */
    clawcast_http_error(CLAWCAST_EP_PUBLISH_BATCH, 409, NULL, 0, out, sizeof(out));
    assert_non_null(strstr(out, "One batch per slot"));
    clawcast_http_error(CLAWCAST_EP_NOW, 503, BODY("{\"message\":\"down\\n\\u001b[2J\"}"), out,
                        sizeof(out));
    assert_non_null(strstr(out, "server error (HTTP 503)"));
    assert_non_null(strstr(out, "down ?[2J")); /* control characters replaced */
    assert_true(clawcast_http_retryable(502));
    assert_false(clawcast_http_retryable(409));
    assert_false(clawcast_http_retryable(401));
    assert_int_equal(clawcast_http_classify(204), CLAWCAST_HTTP_OK);
    assert_int_equal(clawcast_http_classify(400), CLAWCAST_HTTP_BAD_INPUT);
    assert_int_equal(clawcast_http_classify(418), CLAWCAST_HTTP_OTHER);
    /* A server echoing the JWT back never gets it into a message. */
    clawcast_http_error(CLAWCAST_EP_END_SLOT, 400, BODY("{\"error\":\"bad token " JWT "\"}"), out,
                        sizeof(out));
    assert_null(strstr(out, JWT));
    assert_null(strstr(out, "c2lnbmF0dXJl"));
    assert_non_null(strstr(out, "bad token eyJ"));
}

static void test_sanitize(void **state)
{
    (void)state;
    char out[16];
    clawcast_sanitize(BODY("abcdefghijklmnopqrstuvwxyz"), out, sizeof(out));
    assert_true(strlen(out) < sizeof(out));
    assert_non_null(strstr(out, "\xe2\x80\xa6"));
    clawcast_sanitize(BODY("a\xff" "b"), out, sizeof(out));
    assert_string_equal(out, "a?b");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_endpoint_table), cmocka_unit_test(test_body_book_slot),
        cmocka_unit_test(test_bodies),         cmocka_unit_test(test_parse_booking),
        cmocka_unit_test(test_parse_now),      cmocka_unit_test(test_parse_queue),
        cmocka_unit_test(test_parse_poll),     cmocka_unit_test(test_parse_duets),
        cmocka_unit_test(test_parse_ok),       cmocka_unit_test(test_http_errors),
        cmocka_unit_test(test_sanitize),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
