/* Unit tests for src/core/child.c: hook commands run without blocking the loop, get JSON on
 * stdin, hand back stdout, never see the access token, and are killed on timeout. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/child.h"
#include "core/clock.h"
#include "core/event_loop.h"

struct outcome {
    bool done;
    struct child_result res;
    char out[65536];
};

static void on_done(const struct child_result *res, void *opaque)
{
    struct outcome *o = opaque;
    o->res = *res;
    memcpy(o->out, res->out, res->out_len + 1);
    o->res.out = o->out;
    o->done = true;
}

static struct outcome *run(const char *cmd, const char *input, int timeout_ms, size_t max_out)
{
    static struct outcome o;
    memset(&o, 0, sizeof(o));
    struct event_loop *loop = event_loop_new();
    assert_non_null(loop);
    static const char *const scrub[] = {"RETAKE_ACCESS_TOKEN", NULL};
    struct child_options opts = {
        .command = cmd,
        .input = input,
        .input_len = input ? strlen(input) : 0,
        .timeout_ms = timeout_ms,
        .max_out = max_out,
        .scrub_env = scrub,
    };
    assert_int_equal(child_start(loop, &opts, on_done, &o, NULL), 0);
    assert_int_equal(event_loop_run_until(loop, &o.done, clock_now_ns() + 10 * NS_PER_SEC), 0);
    event_loop_free(loop);
    return &o;
}

static void test_stdin_to_stdout(void **state)
{
    /* "each comment … handed to CMD as JSON on stdin — a non-empty stdout is sent as the reply" */
    struct outcome *o = run("tr a-z A-Z", "{\"text\":\"hello\"}", 5000, 1024);
    assert_int_equal(o->res.exit_code, 0);
    assert_string_equal(o->out, "{\"TEXT\":\"HELLO\"}");
    assert_false(o->res.truncated);
}

static void test_exit_code(void **state)
{
    struct outcome *o = run("echo partial; exit 3", NULL, 5000, 1024);
    assert_int_equal(o->res.exit_code, 3);
    assert_string_equal(o->out, "partial\n");
}

static void test_token_never_reaches_the_child(void **state)
{
    /* "The token never appears in … environment of `--on-chat`/`--notify` children" */
    setenv("RETAKE_ACCESS_TOKEN", "rtk_secret_do_not_leak", 1);
    setenv("AGENTCAST_TEST_VISIBLE", "yes", 1);
    struct outcome *o = run("printf '%s %s' \"${RETAKE_ACCESS_TOKEN-unset}\" "
                            "\"$AGENTCAST_TEST_VISIBLE\"; env | grep -c rtk_secret || true",
                            NULL, 5000, 1024);
    unsetenv("RETAKE_ACCESS_TOKEN");
    assert_string_equal(o->out, "unset yes0\n");
}

static void test_timeout_kills_the_group(void **state)
{
    int64_t t0 = clock_now_ns();
    struct outcome *o = run("sleep 30 & sleep 30; echo never", NULL, 200, 1024);
    int64_t ms = (clock_now_ns() - t0) / NS_PER_MS;
    assert_true(o->res.timed_out);
    assert_int_equal(o->res.exit_code, -1);
    assert_int_equal(o->res.signal, 9);
    /* the background sleep held stdout open too: killing the whole group ends it */
    assert_true(ms < 2000);
}

static void test_output_is_bounded(void **state)
{
    struct outcome *o = run("head -c 100000 /dev/zero | tr '\\0' x", NULL, 5000, 100);
    assert_int_equal(o->res.exit_code, 0);
    assert_int_equal(o->res.out_len, 100);
    assert_true(o->res.truncated);
}

static void test_command_that_ignores_its_input(void **state)
{
    static char big[1 << 20];
    memset(big, 'a', sizeof(big) - 1);
    struct outcome *o = run("true", big, 5000, 64);
    assert_int_equal(o->res.exit_code, 0);
}

static void test_no_fds_leak_into_the_child(void **state)
{
    int fd = dup(2); /* an fd of ours that is not close-on-exec */
    assert_true(fd > 2);
    char cmd[64];
    snprintf(cmd, sizeof(cmd), "test -e /proc/self/fd/%d && echo leaked || echo clean", fd);
    struct outcome *o = run(cmd, NULL, 5000, 64);
    close(fd);
    assert_string_equal(o->out, "clean\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stdin_to_stdout),
        cmocka_unit_test(test_exit_code),
        cmocka_unit_test(test_token_never_reaches_the_child),
        cmocka_unit_test(test_timeout_kills_the_group),
        cmocka_unit_test(test_output_is_bounded),
        cmocka_unit_test(test_command_that_ignores_its_input),
        cmocka_unit_test(test_no_fds_leak_into_the_child),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
