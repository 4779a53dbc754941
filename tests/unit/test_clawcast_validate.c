/*
 * test_clawcast_validate — what agentcast refuses to send to ClawCast.tv
 * (src/clawcast/validate.c), at each rule's boundaries, and that every refusal names the field
 * by its JSON path and states the rule.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "clawcast/validate.h"

static char err[512];

static char *repeat(char *buf, char c, size_t n)
{
    memset(buf, c, n);
    buf[n] = '\0';
    return buf;
}

static void expect_ok(int rc)
{
    if (rc != 0)
        fail_msg("refused: %s", err);
}

/* rc is -EINVAL and err contains both parts. */
static void expect_refused(int rc, const char *a, const char *b)
{
    if (rc != -EINVAL)
        fail_msg("accepted (rc %d), wanted a refusal with \"%s\"", rc, a);
    if (!strstr(err, a) || (b && !strstr(err, b)))
        fail_msg("reason \"%s\" lacks \"%s\" / \"%s\"", err, a, b ? b : "");
    assert_null(strchr(err, '\n'));
}

/* Parses json (test input) into a tree; the caller deletes it. */
static cJSON *J(const char *json)
{
    cJSON *j = cJSON_Parse(json);
    if (!j)
        fail_msg("bad test JSON: %s", json);
    return j;
}

static int slide(const char *json)
{
    cJSON *j = J(json);
    err[0] = '\0';
    int rc = clawcast_validate_slide(j, "slides[0]", err, sizeof(err));
    cJSON_Delete(j);
    return rc;
}

static int frame(const char *json)
{
    cJSON *j = J(json);
    err[0] = '\0';
    int rc = clawcast_validate_frame(j, NULL, err, sizeof(err));
    cJSON_Delete(j);
    return rc;
}

/* "streamer_name — alphanumeric, underscores, dots, dashes. 1–50 chars." */
static void test_streamer_name(void **state)
{
    (void)state;
    char buf[64];
    expect_ok(clawcast_validate_streamer_name("a", err, sizeof(err)));
    expect_ok(clawcast_validate_streamer_name("your_agent.v2-beta", err, sizeof(err)));
    expect_ok(clawcast_validate_streamer_name(repeat(buf, 'x', 50), err, sizeof(err)));
    expect_refused(clawcast_validate_streamer_name(repeat(buf, 'x', 51), err, sizeof(err)),
                   "streamer_name", "1–50");
    expect_refused(clawcast_validate_streamer_name("", err, sizeof(err)), "streamer_name",
                   "1–50");
    expect_refused(clawcast_validate_streamer_name("my agent", err, sizeof(err)),
                   "streamer_name", "underscores, dots and dashes");
    expect_refused(clawcast_validate_streamer_name("agent/x", err, sizeof(err)), "'/'",
                   "position 6");
    expect_refused(clawcast_validate_streamer_name("caf\xc3\xa9", err, sizeof(err)),
                   "streamer_name", "byte 0xc3");
    expect_refused(clawcast_validate_streamer_name(NULL, err, sizeof(err)), "streamer_name",
                   "missing");
}

static void test_streamer_url(void **state)
{
    (void)state;
    expect_ok(clawcast_validate_streamer_url("https://github.com/you/your-agent", err,
                                             sizeof(err)));
    expect_ok(clawcast_validate_streamer_url("http://example.org", err, sizeof(err)));
    expect_refused(clawcast_validate_streamer_url("github.com/you", err, sizeof(err)),
                   "streamer_url", "http(s)://");
    expect_refused(clawcast_validate_streamer_url("https://", err, sizeof(err)), "streamer_url",
                   "no host");
    expect_refused(clawcast_validate_streamer_url("https://a b", err, sizeof(err)),
                   "streamer_url", "space");
}

/* "duration_minutes — 1, 2, or 3." */
static void test_duration_minutes(void **state)
{
    (void)state;
    for (long m = 1; m <= 3; m++)
        expect_ok(clawcast_validate_duration_minutes(m, err, sizeof(err)));
    expect_refused(clawcast_validate_duration_minutes(0, err, sizeof(err)), "duration_minutes",
                   "1, 2 or 3");
    expect_refused(clawcast_validate_duration_minutes(4, err, sizeof(err)), "duration_minutes",
                   "1, 2 or 3");
}

/* "you can override with duration_seconds (3–30s)" */
static void test_duration_seconds(void **state)
{
    (void)state;
    expect_refused(clawcast_validate_duration_seconds(2, err, sizeof(err)), "duration_seconds",
                   "at least 3");
    expect_ok(clawcast_validate_duration_seconds(3, err, sizeof(err)));
    expect_ok(clawcast_validate_duration_seconds(30, err, sizeof(err)));
    expect_refused(clawcast_validate_duration_seconds(31, err, sizeof(err)), "duration_seconds",
                   "at most 30");
    expect_refused(slide("{\"type\":\"text\",\"content\":{\"headline\":\"h\"},"
                         "\"duration_seconds\":31}"),
                   "slides[0].duration_seconds: 31 seconds", "at most 30");
    expect_refused(slide("{\"type\":\"text\",\"content\":{\"headline\":\"h\"},"
                         "\"duration_seconds\":2}"),
                   "slides[0].duration_seconds: 2 seconds", "at least 3");
    expect_refused(slide("{\"type\":\"text\",\"content\":{\"headline\":\"h\"},"
                         "\"duration_seconds\":4.5}"),
                   "slides[0].duration_seconds", "whole number");
    expect_ok(slide("{\"type\":\"text\",\"content\":{\"headline\":\"h\"},\"duration_seconds\":3}"));
}

/* "Duration per slide defaults by type (text=5s, data=6s, terminal=10s, image=8s, poll=15s,
 * build=15s)" and "Your slot auto-shortens to match total slide duration." */
static void test_defaults_and_total(void **state)
{
    (void)state;
    assert_int_equal(clawcast_default_duration(CLAWCAST_TEXT), 5);
    assert_int_equal(clawcast_default_duration(CLAWCAST_DATA), 6);
    assert_int_equal(clawcast_default_duration(CLAWCAST_TERMINAL), 10);
    assert_int_equal(clawcast_default_duration(CLAWCAST_IMAGE), 8);
    assert_int_equal(clawcast_default_duration(CLAWCAST_POLL), 15);
    assert_int_equal(clawcast_default_duration(CLAWCAST_BUILD), 15);
    assert_int_equal(clawcast_default_duration(CLAWCAST_CONTENT_COUNT), 0);
    /* The document's own "Go Live in 10 Lines" slides: 8 + 10 + text default 5. */
    cJSON *s = J("[{\"type\":\"text\",\"content\":{\"headline\":\"Hello ClawCast!\",\"body\":"
                 "\"First time on air\"},\"duration_seconds\":8},"
                 "{\"type\":\"data\",\"content\":{\"rows\":[{\"label\":\"Status\",\"value\":"
                 "\"Live\"},{\"label\":\"Mood\",\"value\":\"Great\"}]},\"duration_seconds\":10},"
                 "{\"type\":\"text\",\"content\":{\"headline\":\"Thanks for watching\",\"body\":"
                 "\"See you next time\"}}]");
    assert_int_equal(clawcast_slides_total_seconds(s), 23);
    cJSON_Delete(s);
    s = J("[{\"type\":\"nope\",\"content\":{}}]");
    assert_int_equal(clawcast_slides_total_seconds(s), -1);
    cJSON_Delete(s);
    enum clawcast_content_type t;
    assert_int_equal(clawcast_content_type_parse("poll", &t, err, sizeof(err)), 0);
    assert_int_equal(t, CLAWCAST_POLL);
    expect_refused(clawcast_content_type_parse("Poll", &t, err, sizeof(err)), "type",
                   "terminal, text");
}

/* "Max 10 slides." */
static void test_slides_count(void **state)
{
    (void)state;
    char buf[2048] = "[";
    for (int i = 0; i < 11; i++)
        strcat(buf, i ? ",{\"type\":\"text\",\"content\":{\"body\":\"b\"}}"
                      : "{\"type\":\"text\",\"content\":{\"body\":\"b\"}}");
    strcat(buf, "]");
    cJSON *s = J(buf);
    err[0] = '\0';
    expect_refused(clawcast_validate_slides(s, NULL, err, sizeof(err)), "slides: 11 slides",
                   "at most 10");
    cJSON_DeleteItemFromArray(s, 10);
    expect_ok(clawcast_validate_slides(s, NULL, err, sizeof(err)));
    cJSON_Delete(s);
    s = J("[]");
    expect_refused(clawcast_validate_slides(s, NULL, err, sizeof(err)), "slides: empty", NULL);
    cJSON_Delete(s);
    /* The first error carries its index. */
    s = J("[{\"type\":\"text\",\"content\":{\"body\":\"b\"}},{\"type\":\"text\",\"content\":"
          "{\"body\":\"b\"}},{\"type\":\"image\",\"content\":{\"image_url\":\"https://evil."
          "example/x.png\"}}]");
    expect_refused(clawcast_validate_slides(s, NULL, err, sizeof(err)),
                   "slides[2].content.image_url", "not an allowed image domain");
    cJSON_Delete(s);
}

/* "Options: 2–6 items, each 1–100 characters"; "Question: 1–200 characters" */
static void test_poll(void **state)
{
    (void)state;
    char q[256], o[128], json[1024];
    const char *opts[] = {"", "\"A\"", "\"A\",\"B\"", "\"A\",\"B\",\"C\",\"D\",\"E\",\"F\"",
                          "\"A\",\"B\",\"C\",\"D\",\"E\",\"F\",\"G\""};
    const int n[] = {0, 1, 2, 6, 7};
    for (int i = 0; i < 5; i++) {
        snprintf(json, sizeof(json),
                 "{\"type\":\"poll\",\"content\":{\"question\":\"Q?\",\"options\":[%s]}}",
                 opts[i]);
        int rc = slide(json);
        if (n[i] == 2 || n[i] == 6) {
            expect_ok(rc);
        } else {
            char want[64];
            snprintf(want, sizeof(want), "slides[0].content.options: %d option", n[i]);
            expect_refused(rc, want, n[i] < 2 ? "at least 2" : "at most 6");
        }
    }
    snprintf(json, sizeof(json), "{\"type\":\"poll\",\"content\":{\"question\":\"%s\","
             "\"options\":[\"a\",\"b\"]}}", repeat(q, 'q', 200));
    expect_ok(slide(json));
    snprintf(json, sizeof(json), "{\"type\":\"poll\",\"content\":{\"question\":\"%s\","
             "\"options\":[\"a\",\"b\"]}}", repeat(q, 'q', 201));
    expect_refused(slide(json), "slides[0].content.question: 201 characters", "at most 200");
    expect_refused(slide("{\"type\":\"poll\",\"content\":{\"question\":\"\",\"options\":"
                         "[\"a\",\"b\"]}}"),
                   "slides[0].content.question: empty", NULL);
    snprintf(json, sizeof(json), "{\"type\":\"poll\",\"content\":{\"question\":\"Q\","
             "\"options\":[\"a\",\"%s\"]}}", repeat(o, 'o', 100));
    expect_ok(slide(json));
    snprintf(json, sizeof(json), "{\"type\":\"poll\",\"content\":{\"question\":\"Q\","
             "\"options\":[\"a\",\"%s\"]}}", repeat(o, 'o', 101));
    expect_refused(slide(json), "slides[0].content.options[1]: 101 characters", "at most 100");
    expect_refused(slide("{\"type\":\"poll\",\"content\":{\"question\":\"Q\",\"options\":"
                         "[\"a\",\"\"]}}"),
                   "slides[0].content.options[1]: empty", NULL);
    expect_refused(slide("{\"type\":\"poll\",\"content\":{\"question\":\"Q\",\"options\":"
                         "[\"a\",2]}}"),
                   "slides[0].content.options[1]", "must be a string");
    /* Characters, not bytes: 200 two-byte characters pass. */
    char u[512] = "";
    for (int i = 0; i < 200; i++)
        strcat(u, "\xc3\xa9");
    assert_int_equal(clawcast_validate_poll_question(u, err, sizeof(err)), 0);
    expect_refused(clawcast_validate_poll_question("bad \xff", err, sizeof(err)), "question",
                   "UTF-8");
    expect_refused(clawcast_validate_poll_option("two\nlines", err, sizeof(err)), "option",
                   "control character");
}

/* "Allowed domains: media.giphy.com, i.giphy.com, media.tenor.com, i.imgur.com,
 * images.unsplash.com, upload.wikimedia.org, pbs.twimg.com" and "HTTPS required." */
static void test_image(void **state)
{
    (void)state;
    const char *good[] = {"https://media.giphy.com/a.gif", "https://i.giphy.com/a.gif",
                          "https://media.tenor.com/a.gif", "https://i.imgur.com/abc123.png",
                          "https://images.unsplash.com/p", "https://upload.wikimedia.org/x.png",
                          "https://pbs.twimg.com/media/x.jpg", "HTTPS://I.IMGUR.COM/a.png"};
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        expect_ok(clawcast_validate_image_url(good[i], err, sizeof(err)));
    expect_refused(clawcast_validate_image_url("http://i.imgur.com/abc123.png", err, sizeof(err)),
                   "image_url", "HTTPS required");
    expect_refused(clawcast_validate_image_url("https://imgur.com/abc.png", err, sizeof(err)),
                   "image_url", "not an allowed image domain");
    expect_refused(clawcast_validate_image_url("https://evil.i.imgur.com/x", err, sizeof(err)),
                   "image_url", "not an allowed");
    expect_refused(clawcast_validate_image_url("https://i.imgur.com@evil.com/x", err,
                                               sizeof(err)),
                   "image_url", "user info");
    expect_refused(slide("{\"type\":\"image\",\"content\":{\"caption\":\"c\"}}"),
                   "slides[0].content.image_url", "missing");
    expect_ok(slide("{\"type\":\"image\",\"content\":{\"image_url\":"
                    "\"https://i.imgur.com/abc123.png\",\"caption\":\"Optional caption text\"}}"));
}

/* Text slides: colours, "Allowed GIF domains: media.giphy.com, i.giphy.com, media.tenor.com,
 * i.imgur.com", and "Set "theme": "meme" with a gif_url". */
static void test_text(void **state)
{
    (void)state;
    expect_ok(slide("{\"type\":\"text\",\"content\":{\"headline\":\"Custom\",\"body\":\"Your "
                    "colors\",\"bg_color\":\"#1a0a2e\",\"text_color\":\"#ff6b6b\","
                    "\"accent_color\":\"#c9a0dc\"}}"));
    expect_refused(slide("{\"type\":\"text\",\"content\":{\"headline\":\"h\",\"text_color\":"
                         "\"red\"}}"),
                   "slides[0].content.text_color", "#rrggbb");
    expect_refused(slide("{\"type\":\"text\",\"content\":{\"headline\":\"h\",\"bg_color\":"
                         "\"#12345\"}}"),
                   "slides[0].content.bg_color", "#rrggbb");
    expect_ok(slide("{\"type\":\"text\",\"content\":{\"headline\":\"TOP TEXT\",\"body\":\"BOTTOM "
                    "TEXT\",\"theme\":\"meme\",\"gif_url\":\"https://media.giphy.com/media/"
                    "3o7aD2saalBwwftBIY/giphy.gif\"}}"));
    expect_refused(slide("{\"type\":\"text\",\"content\":{\"headline\":\"h\",\"theme\":"
                         "\"meme\"}}"),
                   "slides[0].content.theme", "gif_url");
    expect_refused(slide("{\"type\":\"text\",\"content\":{\"headline\":\"h\",\"theme\":"
                         "\"dark\"}}"),
                   "slides[0].content.theme", "only \"meme\"");
    /* images.unsplash.com is an image domain but not a GIF domain. */
    expect_refused(slide("{\"type\":\"text\",\"content\":{\"headline\":\"h\",\"gif_url\":"
                         "\"https://images.unsplash.com/x.gif\"}}"),
                   "slides[0].content.gif_url", "not an allowed GIF domain");
    expect_refused(slide("{\"type\":\"text\",\"content\":{\"headline\":\"h\",\"gif_url\":"
                         "\"http://i.giphy.com/x.gif\"}}"),
                   "slides[0].content.gif_url", "HTTPS");
    expect_refused(slide("{\"type\":\"text\",\"content\":{\"headlne\":\"h\"}}"),
                   "slides[0].content.headlne", "unknown field");
    expect_refused(slide("{\"type\":\"text\",\"content\":{\"meta\":\"m\"}}"), "slides[0].content",
                   "headline or a body");
    expect_refused(slide("{\"type\":\"text\",\"content\":{\"headline\":5}}"),
                   "slides[0].content.headline", "must be a string, got a number");
    expect_ok(slide("{\"type\":\"text\",\"content\":{\"body\":\"two\\nlines\"}}"));
}

static void test_data_build_terminal(void **state)
{
    (void)state;
    expect_ok(slide("{\"type\":\"data\",\"content\":{\"rows\":[{\"label\":\"Score\",\"value\":"
                    "\"99\",\"change\":\"+12%\"}]}}"));
    expect_refused(slide("{\"type\":\"data\",\"content\":{\"rows\":[{\"label\":\"Score\"}]}}"),
                   "slides[0].content.rows[0].value", "missing");
    expect_refused(slide("{\"type\":\"data\",\"content\":{\"rows\":[]}}"),
                   "slides[0].content.rows", "at least 1");
    expect_refused(slide("{\"type\":\"data\",\"content\":{}}"), "slides[0].content.rows",
                   "missing");
    /* "1–10 steps per build"; "type": "log|milestone|preview" */
    char json[4096], steps[2048];
    for (int n = 0; n <= 11; n++) {
        steps[0] = '\0';
        for (int i = 0; i < n; i++)
            strcat(steps, i ? ",{\"type\":\"log\",\"content\":\"x\"}"
                            : "{\"type\":\"log\",\"content\":\"x\"}");
        snprintf(json, sizeof(json), "{\"type\":\"build\",\"content\":{\"steps\":[%s]}}", steps);
        if (n >= 1 && n <= 10)
            expect_ok(slide(json));
        else
            expect_refused(slide(json), "slides[0].content.steps", n ? "at most 10" : "at least 1");
    }
    expect_ok(slide("{\"type\":\"build\",\"content\":{\"steps\":[{\"type\":\"milestone\","
                    "\"content\":\"ok\"},{\"type\":\"preview\",\"content\":\"<b>\"}]}}"));
    expect_refused(slide("{\"type\":\"build\",\"content\":{\"steps\":[{\"type\":\"warn\","
                         "\"content\":\"x\"}]}}"),
                   "slides[0].content.steps[0].type", "log, milestone or preview");
    expect_ok(slide("{\"type\":\"terminal\",\"content\":{\"screen\":\"$ deploying\\n\\u001b[1m\"}}"));
    expect_refused(slide("{\"type\":\"terminal\",\"content\":{\"text\":\"x\"}}"),
                   "slides[0].content.text", "unknown field");
    expect_refused(slide("{\"type\":\"video\",\"content\":{}}"), "slides[0].type",
                   "not a content type");
    expect_refused(slide("{\"type\":\"text\"}"), "slides[0].content", "missing");
    expect_refused(slide("{\"type\":\"text\",\"content\":{\"body\":\"b\"},\"dur\":3}"),
                   "slides[0].dur", "unknown field");
}

/* "Set "delta": true to append instead of replace." */
static void test_frame(void **state)
{
    (void)state;
    expect_ok(frame("{\"type\":\"terminal\",\"content\":{\"screen\":\"$ deploying to "
                    "production...\\n\"}}"));
    expect_ok(frame("{\"type\":\"terminal\",\"content\":{\"screen\":\"more\"},\"delta\":true}"));
    expect_refused(frame("{\"type\":\"terminal\",\"content\":{\"screen\":\"x\"},\"delta\":1}"),
                   "delta", "true or false");
    expect_refused(frame("{\"type\":\"text\",\"content\":{\"body\":\"x\"},\"delta\":true}"),
                   "delta", "only terminal frames");
    expect_refused(frame("{\"type\":\"terminal\",\"content\":{\"screen\":\"x\"},"
                         "\"duration_seconds\":5}"),
                   "duration_seconds", "unknown field");
    expect_ok(frame("{\"type\":\"poll\",\"content\":{\"question\":\"Q\",\"options\":[\"a\","
                    "\"b\"]}}"));
    expect_refused(frame("[1]"), "(root)", "must be an object");
}

static void test_book_and_batch(void **state)
{
    (void)state;
    cJSON *b = J("{\"streamer_name\":\"your_agent\",\"streamer_url\":\"https://github.com/you/"
                 "your-agent\",\"duration_minutes\":1}");
    expect_ok(clawcast_validate_book(b, err, sizeof(err)));
    cJSON_ReplaceItemInObject(b, "duration_minutes", cJSON_CreateNumber(4));
    expect_refused(clawcast_validate_book(b, err, sizeof(err)), "duration_minutes", "1, 2 or 3");
    cJSON_ReplaceItemInObject(b, "duration_minutes", cJSON_CreateString("1"));
    expect_refused(clawcast_validate_book(b, err, sizeof(err)), "duration_minutes",
                   "got a string");
    cJSON_Delete(b);
    b = J("{\"streamer_name\":\"a b\",\"streamer_url\":\"https://x.y\",\"duration_minutes\":1}");
    expect_refused(clawcast_validate_book(b, err, sizeof(err)), "streamer_name", "underscores");
    cJSON_Delete(b);
    b = J("{\"slides\":[{\"type\":\"text\",\"content\":{\"body\":\"x\"},\"duration_seconds\":"
          "40}]}");
    expect_refused(clawcast_validate_batch(b, err, sizeof(err)), "slides[0].duration_seconds",
                   "at most 30");
    cJSON_Delete(b);
    b = J("{}");
    expect_refused(clawcast_validate_batch(b, err, sizeof(err)), "slides", "missing");
    cJSON_Delete(b);
}

static void test_duets_chat_vote(void **state)
{
    (void)state;
    char buf[1100];
    expect_ok(clawcast_validate_request_duet("host_agent", "https://github.com/host/agent",
                                             "What's the most interesting thing?", err,
                                             sizeof(err)));
    expect_refused(clawcast_validate_request_duet("host agent", "https://x.y", "q", err,
                                                  sizeof(err)),
                   "name:", "underscores");
    expect_refused(clawcast_validate_request_duet("h", "https://x.y", "", err, sizeof(err)),
                   "question: empty", NULL);
    expect_refused(clawcast_validate_request_duet("h", "https://x.y", repeat(buf, 'q', 1001), err,
                                                  sizeof(err)),
                   "question: 1001 characters", "agentcast's limit");
    expect_ok(clawcast_validate_accept_duet("req-1", "guest_agent", "https://g.h", "An answer",
                                            err, sizeof(err)));
    expect_refused(clawcast_validate_accept_duet("", "g", "https://g.h", "a", err, sizeof(err)),
                   "request_id", "missing");
    expect_refused(clawcast_validate_accept_duet("r 1", "g", "https://g.h", "a", err,
                                                 sizeof(err)),
                   "request_id", "spaces");
    expect_refused(clawcast_validate_duet_reply("p1", "h", "", err, sizeof(err)), "reply: empty",
                   NULL);
    expect_ok(clawcast_validate_chat("your_agent", "Hello viewers!", err, sizeof(err)));
    expect_ok(clawcast_validate_chat("a", repeat(buf, 'c', 500), err, sizeof(err)));
    expect_refused(clawcast_validate_chat("a", repeat(buf, 'c', 501), err, sizeof(err)),
                   "text: 501 characters", "at most 500");
    expect_refused(clawcast_validate_chat("a", "", err, sizeof(err)), "text: empty", NULL);
    /* "results is an array of vote counts matching the options": an index names one of them. */
    expect_ok(clawcast_validate_vote("p", 0, 0, "v", err, sizeof(err)));
    expect_ok(clawcast_validate_vote("p", 5, 0, "v", err, sizeof(err)));
    expect_refused(clawcast_validate_vote("p", 6, 0, "v", err, sizeof(err)), "option_index: 6",
                   "0 to 5");
    expect_refused(clawcast_validate_vote("p", 3, 3, "v", err, sizeof(err)), "option_index: 3",
                   "0 to 2");
    expect_refused(clawcast_validate_vote("p", -1, 3, "v", err, sizeof(err)), "option_index: -1",
                   NULL);
    expect_refused(clawcast_validate_vote("p", 0, 3, "", err, sizeof(err)), "viewer_id",
                   "missing");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_streamer_name),     cmocka_unit_test(test_streamer_url),
        cmocka_unit_test(test_duration_minutes),  cmocka_unit_test(test_duration_seconds),
        cmocka_unit_test(test_defaults_and_total), cmocka_unit_test(test_slides_count),
        cmocka_unit_test(test_poll),              cmocka_unit_test(test_image),
        cmocka_unit_test(test_text),              cmocka_unit_test(test_data_build_terminal),
        cmocka_unit_test(test_frame),             cmocka_unit_test(test_book_and_batch),
        cmocka_unit_test(test_duets_chat_vote),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
