/* Unit tests for src/cli/stream_options.c: defaults equal the seed command, bad input is refused
 * with a message and the usage result (exit code 2). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/stream_options.h"

static char errbuf[4096];

/* Parses a NULL-terminated list of arguments after "stream"; the error text lands in errbuf. */
static enum stream_options_result parse(struct stream_options *o, ...)
{
    char *argv[64] = {"stream"};
    int argc = 1;
    va_list ap;
    va_start(ap, o);
    for (char *a; (a = va_arg(ap, char *)) != NULL;)
        argv[argc++] = a;
    va_end(ap);
    FILE *err = fmemopen(errbuf, sizeof(errbuf), "w");
    FILE *out = fopen("/dev/null", "w");
    enum stream_options_result r = stream_options_parse(argc, argv, o, out, err);
    fclose(err);
    fclose(out);
    return r;
}

static void test_defaults_equal_the_seed_command(void **state)
{
    /* "-preset veryfast -tune zerolatency -b:v 1500k -maxrate 1500k -bufsize 3000k
     *  -pix_fmt yuv420p -g 60" at 1280x720, 30 fps, High profile */
    struct stream_options o;
    assert_int_equal(parse(&o, NULL), STREAM_OPTIONS_RUN);
    const struct hwenc_params *e = &o.pipeline.enc;
    assert_int_equal(e->width, 1280);
    assert_int_equal(e->height, 720);
    assert_int_equal(e->fps_num / e->fps_den, 30);
    assert_int_equal(e->bitrate_kbps, 1500);
    assert_int_equal(e->maxrate_kbps, 1500);
    assert_int_equal(e->bufsize_kbit, 3000);
    assert_int_equal(e->keyint_frames, 60);
    assert_string_equal(e->preset, "veryfast");
    assert_string_equal(e->tune, "zerolatency");
    assert_string_equal(e->profile, "high");
    assert_string_equal(o.source, "testsrc");
    assert_int_equal(o.pipeline.output.drop_threshold_ms, 700);
    /* "With no --output, the embedded default records to ./agentcast-<timestamp>.flv" */
    assert_true(o.output_defaulted);
    assert_int_equal(o.pipeline.n_outputs, 1);
    assert_memory_equal(o.pipeline.outputs[0], "agentcast-", 10);
    assert_non_null(strstr(o.pipeline.outputs[0], ".flv"));
}

static void test_everything_settable(void **state)
{
    struct stream_options o;
    assert_int_equal(parse(&o, "--output", "rtmp://127.0.0.1/live/a", "--output", "x.flv",
                           "--size", "640x360", "--fps", "25", "--bitrate", "800k", "--maxrate",
                           "1M", "--bufsize", "2000k", "--keyint-sec", "4", "--preset", "ultrafast",
                           "--tune", "none", "--profile", "main", "--duration", "3.5", NULL),
                     STREAM_OPTIONS_RUN);
    const struct hwenc_params *e = &o.pipeline.enc;
    assert_int_equal(o.pipeline.n_outputs, 2);
    assert_false(o.output_defaulted);
    assert_int_equal(e->width, 640);
    assert_int_equal(e->keyint_frames, 100); /* 4 s at 25 fps */
    assert_int_equal(e->maxrate_kbps, 1000);
    assert_null(e->tune);
    assert_string_equal(e->profile, "main");
    assert_true(o.pipeline.duration_sec == 3.5);
}

static void test_terminal_needs_a_text_file(void **state)
{
    struct stream_options o;
    assert_int_equal(parse(&o, "--source", "terminal", NULL), STREAM_OPTIONS_USAGE);
    assert_non_null(strstr(errbuf, "--text-file"));
    char path[] = "/tmp/agentcast-test-log-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(parse(&o, "--text-file", path, NULL), STREAM_OPTIONS_RUN);
    assert_string_equal(o.source, "terminal");
    assert_int_equal(parse(&o, "--source", "testsrc", "--text-file", path, NULL),
                     STREAM_OPTIONS_USAGE);
    unlink(path);
    /* "unreadable … text file → a clear message and exit code 2" */
    assert_int_equal(parse(&o, "--text-file", "/nonexistent/agent.log", NULL),
                     STREAM_OPTIONS_USAGE);
    assert_non_null(strstr(errbuf, "cannot read /nonexistent/agent.log"));
}

static void test_bad_input_is_a_usage_error(void **state)
{
    /* "Bad input: malformed URLs, unknown options, …, sizes 0x0 / 99999x99999 / odd, fps 0 or
     * 1000, bitrate 0 → a clear message and exit code 2" */
    static const char *const cases[][3] = {
        {"--output", "http://example/live/k", "rtmp"},
        {"--output", "rtmp:///live/k", "host"},
        {"--output", "rtmp://127.0.0.1/live/", "key"},
        {"--size", "0x0", "out of range"},
        {"--size", "99999x99999", "out of range"},
        {"--size", "1279x719", "even"},
        {"--fps", "0", "out of range"},
        {"--fps", "1000", "out of range"},
        {"--bitrate", "0", "out of range"},
        {"--encoder", "nope", "unknown encoder"},
        {"--preset", "quick", "unknown preset"},
        {"--source", "camera", "unknown source"},
        {"--keyint-sec", "0", "out of range"},
        {"--duration", "-1", "out of range"},
        {"--ca-file", "/nonexistent/ca.pem", "cannot read"},
        {"--fg", "#12", "colour"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct stream_options o;
        memset(errbuf, 0, sizeof(errbuf));
        assert_int_equal(parse(&o, cases[i][0], cases[i][1], NULL), STREAM_OPTIONS_USAGE);
        if (!strstr(errbuf, cases[i][2]))
            fail_msg("%s %s: message \"%s\" lacks \"%s\"", cases[i][0], cases[i][1], errbuf,
                     cases[i][2]);
        assert_non_null(strstr(errbuf, cases[i][0])); /* names the option */
    }
    struct stream_options o;
    assert_int_equal(parse(&o, "--frobnicate", NULL), STREAM_OPTIONS_USAGE);
    assert_non_null(strstr(errbuf, "unknown option --frobnicate"));
    assert_int_equal(parse(&o, "--size", NULL), STREAM_OPTIONS_USAGE);
    assert_non_null(strstr(errbuf, "needs a value"));
    assert_int_equal(parse(&o, "stray", NULL), STREAM_OPTIONS_USAGE);
    assert_int_equal(parse(&o, "--bitrate", "2000k", "--maxrate", "1000k", NULL),
                     STREAM_OPTIONS_USAGE);
    assert_non_null(strstr(errbuf, "below"));
}

static void test_help_and_version_exit_zero(void **state)
{
    struct stream_options o;
    assert_int_equal(parse(&o, "--help", NULL), STREAM_OPTIONS_EXIT);
    assert_int_equal(parse(&o, "--version", NULL), STREAM_OPTIONS_EXIT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_equal_the_seed_command),
        cmocka_unit_test(test_everything_settable),
        cmocka_unit_test(test_terminal_needs_a_text_file),
        cmocka_unit_test(test_bad_input_is_a_usage_error),
        cmocka_unit_test(test_help_and_version_exit_zero),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
