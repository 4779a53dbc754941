/*
 * test_stream_url — what `--output` accepts and refuses (src/net/stream_url.c), at the
 * boundaries, and how stream keys are redacted for logs.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "net/stream_url.h"

static struct stream_url parsed;
static char err[256];

static int parse(const char *url)
{
    return stream_url_parse(url, &parsed, err, sizeof(err));
}

/* Asserts url is refused with a reason containing want (and never the key "SECRETKEY"). */
static void assert_refused(const char *url, const char *want)
{
    int rc = parse(url);
    if (rc != -EINVAL)
        fail_msg("accepted \"%s\"", url ? url : "(null)");
    if (!strstr(err, want))
        fail_msg("\"%s\": reason \"%s\" lacks \"%s\"", url ? url : "(null)", err, want);
    assert_null(strstr(err, "SECRETKEY"));
    assert_null(strchr(err, '\n'));
}

static void assert_rtmp(const char *url, enum stream_url_kind kind, const char *host, int port,
                        const char *app, const char *key)
{
    if (parse(url) != 0)
        fail_msg("refused \"%s\": %s", url, err);
    assert_int_equal(parsed.kind, kind);
    assert_string_equal(parsed.host, host);
    assert_int_equal(parsed.port, port);
    assert_string_equal(parsed.app, app);
    assert_string_equal(parsed.key, key);
}

/* "rtmp://host[:port]/app[/…]/key, rtmps://… (port 443 by default)" */
static void test_basic_urls(void **state)
{
    (void)state;
    assert_rtmp("rtmp://example.com/live/abc123", STREAM_URL_RTMP, "example.com", 1935, "live",
                "abc123");
    assert_rtmp("rtmps://ingest.example.com/live/abc", STREAM_URL_RTMPS, "ingest.example.com", 443,
                "live", "abc");
    assert_rtmp("rtmp://127.0.0.1:1936/live/k", STREAM_URL_RTMP, "127.0.0.1", 1936, "live", "k");
    assert_rtmp("rtmp://my_host-1.local/live/k", STREAM_URL_RTMP, "my_host-1.local", 1935, "live",
                "k");
}

/* Schemes are case-insensitive; the host keeps its spelling. */
static void test_scheme_case(void **state)
{
    (void)state;
    assert_rtmp("RTMP://Example.COM/live/k", STREAM_URL_RTMP, "Example.COM", 1935, "live", "k");
    assert_rtmp("RtMpS://h/live/k", STREAM_URL_RTMPS, "h", 443, "live", "k");
}

static void test_ports(void **state)
{
    (void)state;
    assert_rtmp("rtmp://h:1/live/k", STREAM_URL_RTMP, "h", 1, "live", "k");
    assert_rtmp("rtmp://h:65535/live/k", STREAM_URL_RTMP, "h", 65535, "live", "k");
    assert_rtmp("rtmps://h:1935/live/k", STREAM_URL_RTMPS, "h", 1935, "live", "k");
    assert_refused("rtmp://h:0/live/SECRETKEY", "port out of range");
    assert_refused("rtmp://h:65536/live/SECRETKEY", "port out of range");
    assert_refused("rtmp://h:99999/live/SECRETKEY", "port out of range");
    assert_refused("rtmp://h:123456/live/SECRETKEY", "port out of range");
    assert_refused("rtmp://h:/live/SECRETKEY", "empty port");
    assert_refused("rtmp://h:19a5/live/SECRETKEY", "not a number");
    assert_refused("rtmp://h:-1/live/SECRETKEY", "not a number");
    assert_refused("rtmp://h:+80/live/SECRETKEY", "not a number");
}

/* "IPv6 literals in brackets"; host is stored "without brackets". */
static void test_ipv6(void **state)
{
    (void)state;
    assert_rtmp("rtmp://[::1]/live/k", STREAM_URL_RTMP, "::1", 1935, "live", "k");
    assert_rtmp("rtmps://[2001:db8::5]:8443/app/k", STREAM_URL_RTMPS, "2001:db8::5", 8443, "app",
                "k");
    assert_refused("rtmp://[::1/live/SECRETKEY", "closing ']'");
    assert_refused("rtmp://[::g]/live/SECRETKEY", "invalid IPv6");
    assert_refused("rtmp://[]/live/SECRETKEY", "no host");
    assert_refused("rtmp://[::1]x/live/SECRETKEY", "after the IPv6");
    assert_refused("rtmp://[::1]:/live/SECRETKEY", "empty port");
    assert_refused("rtmp://::1/live/SECRETKEY", "no host");
}

static void test_ipv4_and_names(void **state)
{
    (void)state;
    assert_refused("rtmp://256.1.1.1/live/SECRETKEY", "invalid IPv4");
    assert_refused("rtmp://1.2.3/live/SECRETKEY", "invalid IPv4");
    assert_refused("rtmp://a..b/live/SECRETKEY", "empty label");
    assert_refused("rtmp://.a/live/SECRETKEY", "empty label");
    assert_refused("rtmp://a./live/SECRETKEY", "ends with a dot");
    assert_refused("rtmp://ho%st/live/SECRETKEY", "invalid character in host");
    assert_refused("rtmp://host?x/live/SECRETKEY", "invalid character in host");
    assert_refused("rtmp://user:pw@host/live/SECRETKEY", "user information");
}

/* "app = path up to the last segment, key = last segment (may contain a ?query)". */
static void test_app_and_key(void **state)
{
    (void)state;
    assert_rtmp("rtmp://h/app/instance/key", STREAM_URL_RTMP, "h", 1935, "app/instance", "key");
    assert_rtmp("rtmp://h/a/b/c/d/key", STREAM_URL_RTMP, "h", 1935, "a/b/c/d", "key");
    assert_rtmp("rtmp://h/live/key?token=abc&x=1", STREAM_URL_RTMP, "h", 1935, "live",
                "key?token=abc&x=1");
    /* A '/' inside the query does not start a new segment. */
    assert_rtmp("rtmp://h/live/key?sig=a/b", STREAM_URL_RTMP, "h", 1935, "live", "key?sig=a/b");
    assert_rtmp("rtmp://h/live/key.flv", STREAM_URL_RTMP, "h", 1935, "live", "key.flv");
}

static void test_missing_parts(void **state)
{
    (void)state;
    assert_refused("rtmp://h/live", "no stream key");
    assert_refused("rtmp://h/live/", "no stream key");
    assert_refused("rtmp://h/live/?token=SECRETKEY", "no stream key");
    assert_refused("rtmp://h/", "no stream key");
    assert_refused("rtmp://h", "no application and stream key");
    assert_refused("rtmp://h//SECRETKEY", "no application name");
    assert_refused("rtmp://h/a//SECRETKEY", "empty path segment");
    assert_refused("rtmp:///live/SECRETKEY", "no host");
    assert_refused("rtmp://:1935/live/SECRETKEY", "no host");
    assert_refused("rtmps://", "no host");
    assert_refused("", "empty output");
    assert_refused(NULL, "empty output");
}

static void test_other_schemes(void **state)
{
    (void)state;
    assert_refused("http://h/live/SECRETKEY", "unsupported URL scheme \"http\"");
    assert_refused("rtmpt://h/live/SECRETKEY", "unsupported URL scheme \"rtmpt\"");
    assert_refused("srt://h:9000/SECRETKEY", "unsupported URL scheme");
    assert_refused("://h/live/SECRETKEY", "unsupported URL scheme");
    /* A URL is never taken for a file, even when it ends in .flv. */
    assert_refused("http://h/live/SECRETKEY.flv", "unsupported URL scheme");
}

/* "Reject … control characters/spaces" */
static void test_control_chars_and_spaces(void **state)
{
    (void)state;
    assert_refused("rtmp://h/live/SECRETKEY\n", "control character");
    assert_refused("rtmp://h/live/SECRET\tKEY", "control character");
    assert_refused("rtmp://h/live/SECRET\x7fKEY", "control character");
    assert_refused("rtmp://h/live/SECRET KEY", "space");
    assert_refused("rtmp://h /live/SECRETKEY", "space");
    assert_refused("rec\r.flv", "control character");
}

/* "file outputs = anything without "://" ending in ".flv" (case-insensitive)" */
static void test_files(void **state)
{
    (void)state;
    assert_int_equal(parse("out.flv"), 0);
    assert_int_equal(parsed.kind, STREAM_URL_FILE);
    assert_string_equal(parsed.path, "out.flv");
    assert_int_equal(parse("/tmp/Recording.FLV"), 0);
    assert_int_equal(parsed.kind, STREAM_URL_FILE);
    assert_string_equal(parsed.path, "/tmp/Recording.FLV");
    assert_int_equal(parse("./my stream.flv"), 0); /* spaces are fine in file names */
    assert_string_equal(parsed.path, "./my stream.flv");
    assert_refused("out.mp4", "neither an rtmp");
    assert_refused("out.flv.txt", "neither an rtmp");
    assert_refused("flv", "neither an rtmp");
    assert_refused("rtmp:/h/live/SECRETKEY", "neither an rtmp");
}

static void fill(char *buf, size_t n, char c)
{
    memset(buf, c, n);
    buf[n] = '\0';
}

/* "over-long parts" are refused: host 253 bytes (labels of 63), app 511, key 1023, path 4095. */
static void test_lengths(void **state)
{
    (void)state;
    static char url[8192], part[4200];
    char label[64];
    fill(label, 63, 'a');
    char host[300];
    snprintf(host, sizeof(host), "%s.%s.%s.%.61s", label, label, label, label);
    assert_int_equal(strlen(host), 253);
    snprintf(url, sizeof(url), "rtmp://%s/live/k", host);
    assert_int_equal(parse(url), 0);
    assert_string_equal(parsed.host, host);
    snprintf(url, sizeof(url), "rtmp://a.%s/live/SECRETKEY", host); /* 255 bytes */
    assert_refused(url, "host name too long");
    snprintf(url, sizeof(url), "rtmp://%sa.b/live/SECRETKEY", label);
    assert_refused(url, "label too long");

    fill(part, 511, 'p');
    snprintf(url, sizeof(url), "rtmp://h/%s/k", part);
    assert_int_equal(parse(url), 0);
    assert_int_equal(strlen(parsed.app), 511);
    fill(part, 512, 'p');
    snprintf(url, sizeof(url), "rtmp://h/%s/SECRETKEY", part);
    assert_refused(url, "application name too long");

    fill(part, 1023, 'k');
    snprintf(url, sizeof(url), "rtmp://h/live/%s", part);
    assert_int_equal(parse(url), 0);
    assert_int_equal(strlen(parsed.key), 1023);
    fill(part, 1024, 'k');
    snprintf(url, sizeof(url), "rtmp://h/live/%s", part);
    assert_refused(url, "stream key too long");

    fill(part, 4091, 'f');
    snprintf(url, sizeof(url), "%s.flv", part);
    assert_int_equal(parse(url), 0);
    assert_int_equal(strlen(parsed.path), 4095);
    fill(part, 4092, 'f');
    snprintf(url, sizeof(url), "%s.flv", part);
    assert_refused(url, "file path too long");
}

static void test_err_may_be_null(void **state)
{
    (void)state;
    assert_int_equal(stream_url_parse("rtmp://h/live", &parsed, NULL, 0), -EINVAL);
    assert_int_equal(stream_url_parse("rtmp://h/live/k", &parsed, NULL, 0), 0);
}

static const char *redact(const char *url, size_t size)
{
    static char out[512];
    memset(out, 'X', sizeof(out));
    stream_url_redact(url, out, size);
    return out;
}

/* "url with its stream key shown as "…" plus the key's last 4 characters, for logs." */
static void test_redact(void **state)
{
    (void)state;
    assert_string_equal(redact("rtmp://h/live/sk_abcdef123456", 512), "rtmp://h/live/…3456");
    assert_string_equal(redact("rtmps://h:443/app/inst/key-0123456789", 512),
                        "rtmps://h:443/app/inst/…6789");
    /* A query is part of the key: it may carry a token. */
    assert_string_equal(redact("rtmp://h/live/key?token=SECRETKEY9876", 512),
                        "rtmp://h/live/…9876");
    assert_string_equal(redact("rtmp://h/live/key?sig=a/bcdefghij", 512), "rtmp://h/live/…ghij");
    /* Short keys are hidden entirely: 4 of 6 characters would give most of the key away. */
    assert_string_equal(redact("rtmp://h/live/abcdef", 512), "rtmp://h/live/…");
    assert_string_equal(redact("rtmp://h/live/abcdefgh", 512), "rtmp://h/live/…efgh");
    /* Even a malformed URL gets its last segment hidden. */
    assert_string_equal(redact("rtmp://h/SECRETKEY", 512), "rtmp://h/…TKEY");
    assert_string_equal(redact("rtmp://h/live/", 512), "rtmp://h/live/");
    assert_string_equal(redact("rtmp://h", 512), "rtmp://h");
    /* Files carry no key. */
    assert_string_equal(redact("/tmp/out.flv", 512), "/tmp/out.flv");
    /* The tail is counted in characters, not bytes. */
    assert_string_equal(redact("rtmp://h/live/abcdefgh\xc3\xa9\xc3\xa9", 512),
                        "rtmp://h/live/…gh\xc3\xa9\xc3\xa9");
    assert_string_equal(redact(NULL, 512), "");
}

static void test_redact_truncates_cleanly(void **state)
{
    (void)state;
    /* 14 bytes of prefix + 3 of the ellipsis would need 18; a 16-byte buffer must not end in
     * half of it, and nothing of the key may leak. */
    assert_string_equal(redact("rtmp://h/live/SECRETKEY1234", 16), "rtmp://h/live/");
    assert_string_equal(redact("rtmp://h/live/SECRETKEY1234", 18), "rtmp://h/live/…");
    assert_string_equal(redact("rtmp://h/live/SECRETKEY1234", 5), "rtmp");
    const char *out = redact("rtmp://h/live/SECRETKEY1234", 1);
    assert_int_equal(out[0], '\0');
    /* out_size 0 writes nothing. */
    out = redact("rtmp://h/live/SECRETKEY1234", 0);
    assert_int_equal(out[0], 'X');
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basic_urls),
        cmocka_unit_test(test_scheme_case),
        cmocka_unit_test(test_ports),
        cmocka_unit_test(test_ipv6),
        cmocka_unit_test(test_ipv4_and_names),
        cmocka_unit_test(test_app_and_key),
        cmocka_unit_test(test_missing_parts),
        cmocka_unit_test(test_other_schemes),
        cmocka_unit_test(test_control_chars_and_spaces),
        cmocka_unit_test(test_files),
        cmocka_unit_test(test_lengths),
        cmocka_unit_test(test_err_may_be_null),
        cmocka_unit_test(test_redact),
        cmocka_unit_test(test_redact_truncates_cleanly),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
