/*
 * test_retake_validate — what agentcast refuses to send to retake.tv (src/retake/validate.c),
 * at each rule's boundaries, and that every refusal names the field and the rule.
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

#include "retake/validate.h"
#include "core/utf8_strict.h"

typedef int (*validator)(const char *, char *, size_t);

static char err[512];

static void accepted(validator v, const char *s)
{
    err[0] = '\0';
    if (v(s, err, sizeof(err)) != 0)
        fail_msg("refused \"%s\": %s", s ? s : "(null)", err);
}

/* s is refused with a reason containing field and want. */
static void refused(validator v, const char *s, const char *field, const char *want)
{
    err[0] = '\0';
    if (v(s, err, sizeof(err)) != -EINVAL)
        fail_msg("accepted \"%s\"", s ? s : "(null)");
    if (!strstr(err, field) || !strstr(err, want))
        fail_msg("\"%s\": reason \"%s\" lacks \"%s\" / \"%s\"", s ? s : "(null)", err, field, want);
    assert_null(strchr(err, '\n'));
}

static char *repeat(char *buf, const char *unit, size_t times)
{
    buf[0] = '\0';
    for (size_t i = 0; i < times; i++)
        strcat(buf, unit);
    return buf;
}

/* "ticker | Mandatory. Max 10 characters." */
static void test_ticker(void **state)
{
    (void)state;
    validator v = retake_validate_ticker;
    refused(v, "", "ticker", "empty");
    refused(v, NULL, "ticker", "empty");
    accepted(v, "A");
    accepted(v, "ABCDEFGHIJ");
    accepted(v, "YOU");
    accepted(v, "$you_2");
    refused(v, "ABCDEFGHIJK", "ticker", "11 characters; the document allows at most 10");
    refused(v, "AB C", "ticker", "printable ASCII");
    refused(v, "AB\tC", "ticker", "printable ASCII");
    refused(v, " ABC", "ticker", "character 1");
    refused(v, "AB\x7f", "ticker", "printable ASCII");
    /* Non-ASCII is refused so that "10 characters" cannot mean more than 10 bytes. */
    refused(v, "\xc3\x89T", "ticker", "non-ASCII");
}

/* "wallet_address | Valid Solana base58 public key." */
static void test_wallet(void **state)
{
    (void)state;
    validator v = retake_validate_wallet;
    accepted(v, "So11111111111111111111111111111111111111112");
    accepted(v, "4wBqpZM9xaSheZzJSMawUKKwhdpChKbZ5eu5ky4Vigw");  /* bytes 1..32 */
    accepted(v, "JEKNVnkbo3jma5nREBBJCDoXFVeKkD56V3xKrvRmWxFG"); /* 32 × 0xff */
    accepted(v, "11111111111111111111111111111111");             /* 32 zero bytes */
    refused(v, "4uQeVj5tqViQh7yWWGStvkEG1Zmhx6uasJtWCJziofL", "wallet_address",
            "decodes to 31 bytes; a Solana public key is exactly 32"); /* 31 × 0xff */
    refused(v, "tVojvhToWjQ8Xvo4UPx2Xz9eRy7auyYMmZBjc2XfN", "wallet_address", "31 bytes");
    refused(v, "2K3n5t4wSaF5mj27Tw9vStXWLWyRjjiH5Cp3CFLpKVCr1c", "wallet_address",
            "decodes to 33 bytes");
    refused(v, "JJEfe6DcPM2ziB2vfUWDV6aHVerXRGkv3TcyvJUNGHZz", "wallet_address", "33 bytes");
    refused(v, "1111111111111111111111111111111", "wallet_address", "31 bytes");
    refused(v, "111111111111111111111111111111111", "wallet_address", "33 bytes");
    refused(v, "", "wallet_address", "empty");
    refused(v, "So1111111111111111111111111111111111111111O", "wallet_address",
            "'O' at position 43 is not a base58 character");
    refused(v, "0o11111111111111111111111111111111111111112", "wallet_address",
            "'0' at position 1");
    refused(v, "So1111111111111111111l111111111111111111112", "wallet_address", "'l'");
    refused(v, "So1111111111111111111I111111111111111111112", "wallet_address", "'I'");
    refused(v, "So11111111111111111111111111111111111111112 ", "wallet_address", "byte 0x20");
    refused(v, "0x069b8857feab8184fb687f634618c035dac439dc1aeb3b5598a0f00000000001",
            "wallet_address", "too long");
}

/* "image_url | Public URL, square (1:1), jpg/png." */
static void test_image_url(void **state)
{
    (void)state;
    validator v = retake_validate_image_url;
    accepted(v, "https://example.com/avatar.png");
    accepted(v, "http://example.com/avatar.png");
    accepted(v, "HTTPS://EXAMPLE.COM/A.PNG");
    accepted(v, "https://example.com");
    accepted(v, "https://example.com:8443/a.jpg?size=512#x");
    accepted(v, "https://[2001:db8::1]/a.png");
    refused(v, "", "image_url", "empty");
    refused(v, "ftp://example.com/a.png", "image_url", "http:// or https://");
    refused(v, "example.com/a.png", "image_url", "http:// or https://");
    refused(v, "javascript:alert(1)", "image_url", "http:// or https://");
    refused(v, "https://", "image_url", "no host");
    refused(v, "https:///a.png", "image_url", "no host");
    refused(v, "https://:443/a.png", "image_url", "no host");
    refused(v, "https://example.com:/a.png", "image_url", "empty port");
    refused(v, "https://example.com:0/a.png", "image_url", "port");
    refused(v, "https://example.com:65536/a.png", "image_url", "port");
    refused(v, "https://example.com:8x/a.png", "image_url", "port");
    refused(v, "https://user:pw@example.com/a.png", "image_url", "user info");
    refused(v, "https://exa mple.com/a.png", "image_url", "whitespace");
    refused(v, "https://example.com/a.png\n", "image_url", "control");
    refused(v, "https://[2001:db8::1/a.png", "image_url", "IPv6");
    char big[RETAKE_URL_MAX + 64];
    strcpy(big, "https://example.com/");
    memset(big + 20, 'a', RETAKE_URL_MAX - 20);
    big[RETAKE_URL_MAX] = '\0';
    accepted(v, big);
    strcat(big, "a");
    refused(v, big, "image_url", "2049 bytes");
}

/* "e.g. https://x.com/username/status/123..." / { "tweet_url":
 * "https://twitter.com/username/status/1234567890" } / "Do not call /verify with a placeholder
 * URL." */
static void test_tweet_url(void **state)
{
    (void)state;
    validator v = retake_validate_tweet_url;
    accepted(v, "https://x.com/retakedottv/status/1893456789012345678");
    accepted(v, "https://twitter.com/jack/status/20");
    accepted(v, "https://www.x.com/user_1/status/1?s=20&t=abc");
    accepted(v, "https://mobile.twitter.com/User/status/123456789/");
    accepted(v, "https://www.twitter.com/a/status/9223372036854775807");
    accepted(v, "HTTPS://X.COM/abc/status/99#frag");
    accepted(v, "https://x.com/abcdefghijklmno/status/5"); /* 15-character handle */
    /* The document's placeholders. */
    refused(v, "https://x.com/username/status/123...", "tweet_url", "placeholder");
    refused(v, "https://twitter.com/username/status/1234567890", "tweet_url", "placeholder");
    refused(v, "https://x.com/UserName/status/1893456789012345678", "tweet_url", "placeholder");
    refused(v, "https://x.com/someone/status/1234567890", "tweet_url", "placeholder");
    refused(v, "https://x.com/someone/status/123", "tweet_url", "placeholder");
    /* Not a status URL of x.com / twitter.com. */
    refused(v, "http://x.com/a/status/1", "tweet_url", "https://");
    refused(v, "https://evil.com/a/status/1", "tweet_url", "x.com or twitter.com");
    refused(v, "https://x.com.evil.com/a/status/1", "tweet_url", "x.com or twitter.com");
    refused(v, "https://evilx.com/a/status/1", "tweet_url", "x.com or twitter.com");
    refused(v, "https://x.com:443/a/status/1", "tweet_url", "x.com or twitter.com");
    refused(v, "https://user@x.com/a/status/1", "tweet_url", "user info");
    refused(v, "https://x.com", "tweet_url", "must look like");
    refused(v, "https://x.com/a", "tweet_url", "must look like");
    refused(v, "https://x.com//status/1", "tweet_url", "must look like");
    refused(v, "https://x.com/abcdefghijklmnop/status/5", "tweet_url", "must look like");
    refused(v, "https://x.com/a-b/status/1", "tweet_url", "must look like");
    refused(v, "https://x.com/a/statuses/1", "tweet_url", "must look like");
    refused(v, "https://x.com/a/status/", "tweet_url", "status id");
    refused(v, "https://x.com/a/status/abc", "tweet_url", "status id");
    refused(v, "https://x.com/a/status/0123", "tweet_url", "status id");
    refused(v, "https://x.com/a/status/12345678901234567890", "tweet_url", "1 to 19 digits");
    refused(v, "https://x.com/a/status/1/photo/1", "tweet_url", "must look like");
    refused(v, "https://x.com/a/status/1x", "tweet_url", "must look like");
    refused(v, "https://x.com/a/status/1 ", "tweet_url", "whitespace");
    refused(v, "", "tweet_url", "empty");
}

/* "agent_name | Unique." — the rest is agentcast's: 1–64 bytes, no control characters, no
 * surrounding whitespace, nothing that would break https://retake.tv/<agent_name>. */
static void test_agent_name(void **state)
{
    (void)state;
    validator v = retake_validate_agent_name;
    char buf[200];
    accepted(v, "a");
    accepted(v, "YourAgent");
    accepted(v, "my agent 2");
    accepted(v, "Ag\xc3\xa9nt");
    accepted(v, repeat(buf, "n", 64));
    refused(v, repeat(buf, "n", 65), "agent_name", "65 bytes; agentcast's limit is 64");
    refused(v, "", "agent_name", "empty");
    refused(v, NULL, "agent_name", "empty");
    refused(v, " agent", "agent_name", "whitespace");
    refused(v, "agent ", "agent_name", "whitespace");
    refused(v, "a/b", "agent_name", "'/'");
    refused(v, "a?b", "agent_name", "'?'");
    refused(v, "a#b", "agent_name", "'#'");
    refused(v, "a%20b", "agent_name", "'%'");
    refused(v, "a\tb", "agent_name", "control character U+0009");
    refused(v, "a\x1b[31m", "agent_name", "control character U+001B");
    refused(v, "a\xc2\x9b", "agent_name", "control character U+009B");
    refused(v, "a\xff", "agent_name", "invalid UTF-8");
    refused(v, "a\xc3", "agent_name", "invalid UTF-8");
    refused(v, "\xc0\xaf", "agent_name", "invalid UTF-8");     /* overlong '/' */
    refused(v, "\xed\xa0\x80", "agent_name", "invalid UTF-8"); /* surrogate */
}

/* "agent_description | Short bio shown on your profile." */
static void test_description(void **state)
{
    (void)state;
    validator v = retake_validate_description;
    char buf[1100];
    accepted(v, "x");
    accepted(v, "What my agent does.\nSecond line\twith a tab.");
    accepted(v, repeat(buf, "d", 1000));
    refused(v, repeat(buf, "d", 1001), "agent_description", "1001 bytes; agentcast's limit");
    refused(v, "", "agent_description", "empty");
    refused(v, " \n\t ", "agent_description", "empty");
    refused(v, "bio\x1b[2J", "agent_description", "control character");
    refused(v, "bio\r\n", "agent_description", "control character U+000D");
}

/* Chat "message": non-empty; agentcast caps it at 500 characters. */
static void test_chat_text(void **state)
{
    (void)state;
    validator v = retake_validate_chat_text;
    char buf[1200];
    accepted(v, "hi");
    accepted(v, "I'm live. What should we explore today?");
    accepted(v, " padded ");
    accepted(v, "two\nlines");
    accepted(v, repeat(buf, "a", 500));
    accepted(v, repeat(buf, "\xc3\xa9", 500)); /* 500 characters, 1000 bytes */
    refused(v, repeat(buf, "a", 501), "message", "501 characters; agentcast's limit is 500");
    refused(v, repeat(buf, "\xc3\xa9", 501), "message", "501 characters");
    refused(v, "", "message", "empty");
    refused(v, NULL, "message", "empty");
    refused(v, "  \n\t ", "message", "empty");
    refused(v, "ding\x07", "message", "control character U+0007");
    refused(v, "x\xc2\x9b", "message", "control character");
    refused(v, "bad \xfe byte", "message", "invalid UTF-8 at byte 4");
}

static void test_user_db_id(void **state)
{
    (void)state;
    validator v = retake_validate_user_db_id;
    char buf[200];
    accepted(v, "user_abc");
    accepted(v, "0b7e9a52-5b1f-4c47-9a3f-1d2c3b4a5e6f");
    accepted(v, repeat(buf, "u", 128));
    refused(v, repeat(buf, "u", 129), "userDbId", "129 bytes");
    refused(v, "", "userDbId", "empty");
    refused(v, "user abc", "userDbId", "no spaces");
    refused(v, "user\n", "userDbId", "printable ASCII");
}

static void api_base(const char *s, int want_rc, bool want_loopback, const char *want)
{
    bool lo = !want_loopback;
    err[0] = '\0';
    int rc = retake_validate_api_base(s, &lo, err, sizeof(err));
    if (rc != want_rc)
        fail_msg("\"%s\": rc %d, want %d (%s)", s, rc, want_rc, err);
    if (rc == 0)
        assert_int_equal(lo, want_loopback);
    else if (!strstr(err, want))
        fail_msg("\"%s\": reason \"%s\" lacks \"%s\"", s, err, want);
}

/* "https is required except for loopback hosts (tests)" (issue 3, Security). */
static void test_api_base(void **state)
{
    (void)state;
    api_base("https://retake.tv/api/v1", 0, false, NULL);
    api_base("https://retake.tv/api/v1/", 0, false, NULL);
    api_base("http://127.0.0.1:8080/api/v1", 0, true, NULL);
    api_base("http://127.1.2.3/api/v1", 0, true, NULL);
    api_base("http://localhost:1/x", 0, true, NULL);
    api_base("http://LOCALHOST/x", 0, true, NULL);
    api_base("http://[::1]:9/api", 0, true, NULL);
    api_base("https://localhost/x", 0, true, NULL);
    api_base("http://retake.tv/api/v1", -EINVAL, false, "must use https://");
    api_base("http://128.0.0.1/", -EINVAL, false, "must use https://");
    api_base("http://127.0.0.1.evil.com/", -EINVAL, false, "must use https://");
    api_base("http://localhost.evil.com/", -EINVAL, false, "must use https://");
    api_base("http://[::2]/", -EINVAL, false, "must use https://");
    api_base("https://retake.tv/api/v1?x=1", -EINVAL, false, "query or fragment");
    api_base("https://retake.tv/api/v1#f", -EINVAL, false, "query or fragment");
    api_base("https://user@retake.tv/api/v1", -EINVAL, false, "user info");
    api_base("ftp://retake.tv/", -EINVAL, false, "http:// or https://");
}

static void test_utf8_next(void **state)
{
    (void)state;
    uint32_t cp;
    assert_int_equal(utf8_strict_next("A", 1, &cp), 1);
    assert_int_equal(cp, 'A');
    assert_int_equal(utf8_strict_next("\xc3\xa9", 2, &cp), 2);
    assert_int_equal(cp, 0xe9);
    assert_int_equal(utf8_strict_next("\xe2\x80\xa6", 3, &cp), 3);
    assert_int_equal(cp, 0x2026);
    assert_int_equal(utf8_strict_next("\xf0\x9f\x93\xba", 4, &cp), 4);
    assert_int_equal(cp, 0x1f4fa);
    assert_int_equal(utf8_strict_next("\xe2\x80\xa6", 2, &cp), -1);     /* cut short by len */
    assert_int_equal(utf8_strict_next("\xe0\x80\x80", 3, &cp), -1);     /* overlong */
    assert_int_equal(utf8_strict_next("\xf4\x90\x80\x80", 4, &cp), -1); /* > U+10FFFF */
    assert_int_equal(utf8_strict_next("\x80", 1, &cp), -1);
}

static void test_err_may_be_null(void **state)
{
    (void)state;
    assert_int_equal(retake_validate_ticker("ABCDEFGHIJK", NULL, 0), -EINVAL);
    assert_int_equal(retake_validate_tweet_url("https://x.com/username/status/1", NULL, 0),
                     -EINVAL);
    assert_int_equal(retake_validate_api_base("http://retake.tv", NULL, NULL, 0), -EINVAL);
    /* A short err buffer is cut, never overrun. */
    char small[8];
    memset(small, 'X', sizeof(small));
    assert_int_equal(retake_validate_ticker("", small, sizeof(small)), -EINVAL);
    assert_int_equal(strlen(small), sizeof(small) - 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ticker),          cmocka_unit_test(test_wallet),
        cmocka_unit_test(test_image_url),       cmocka_unit_test(test_tweet_url),
        cmocka_unit_test(test_agent_name),      cmocka_unit_test(test_description),
        cmocka_unit_test(test_chat_text),       cmocka_unit_test(test_user_db_id),
        cmocka_unit_test(test_api_base),        cmocka_unit_test(test_utf8_next),
        cmocka_unit_test(test_err_may_be_null),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
