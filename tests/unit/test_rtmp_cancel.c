/*
 * test_rtmp_cancel — a stop never waits on the network: the RTMP/RTMPS backend
 * (src/net/rtmp_output.c) and the TLS handshake (src/net/tls.c) give up within ~100 ms of the
 * output's cancel fd, against a loopback server that accepts TCP and never answers.
 *
 * Issue: "SIGINT/SIGTERM: stop capture, flush, close outputs cleanly (the .flv stays valid),
 * exit 0 within 2 s." — even when the ingest hangs. A blocked write and close are covered end
 * to end against a stalled nginx by tests/integration/stop_when_stalled.test.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/clock.h"
#include "core/log.h"
#include "media/output.h"
#include "net/net_connect.h"
#include "net/tls.h"

#define KEY "cancelkey12345678"
#define MAX_LATE_MS 100 /* how long after the cancel a call may still take */

/* A server that never answers: a listener nobody accepts on. The kernel completes the TCP
 * handshake and queues what the client sends, so the client's connect succeeds and then it waits
 * for an RTMP handshake or a TLS ServerHello that never comes. */
struct silent {
    int fd;
    int port;
};

static int silent_start(void **state)
{
    struct silent *s = calloc(1, sizeof(*s));
    assert_non_null(s);
    s->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(s->fd >= 0);
    struct sockaddr_in in = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(s->fd, (struct sockaddr *)&in, sizeof(in)), 0);
    assert_int_equal(listen(s->fd, 16), 0);
    socklen_t len = sizeof(in);
    assert_int_equal(getsockname(s->fd, (struct sockaddr *)&in, &len), 0);
    s->port = ntohs(in.sin_port);
    *state = s;
    return 0;
}

static int silent_stop(void **state)
{
    struct silent *s = *state;
    close(s->fd);
    free(s);
    return 0;
}

/* ---- cancelling from another thread, as output_stop does ---- */

struct canceller {
    pthread_t thread;
    int fd;
    int delay_ms;
    int64_t fired_ns;
};

static void *canceller_main(void *arg)
{
    struct canceller *k = arg;
    clock_sleep_until_ns(clock_now_ns() + (int64_t)k->delay_ms * NS_PER_MS);
    k->fired_ns = clock_now_ns();
    uint64_t one = 1;
    ssize_t unused = write(k->fd, &one, sizeof(one));
    (void)unused;
    return NULL;
}

static void fire_after(struct canceller *k, int fd, int delay_ms)
{
    *k = (struct canceller){.fd = fd, .delay_ms = delay_ms};
    assert_int_equal(pthread_create(&k->thread, NULL, canceller_main, k), 0);
}

/* Joins the canceller; ms from its firing to returned_ns. */
static int64_t ms_after_cancel(struct canceller *k, int64_t returned_ns)
{
    pthread_join(k->thread, NULL);
    return (returned_ns - k->fired_ns) / NS_PER_MS;
}

/* ---- stderr capture, to check what a cancel logs ---- */

struct capture {
    int saved;
    FILE *file;
};

static void capture_begin(struct capture *cap)
{
    fflush(stderr);
    cap->file = tmpfile();
    assert_non_null(cap->file);
    cap->saved = dup(STDERR_FILENO);
    assert_true(cap->saved >= 0);
    assert_true(dup2(fileno(cap->file), STDERR_FILENO) >= 0);
    log_set_level(LOG_DEBUG);
}

/* Restores stderr; returns what was logged meanwhile (caller frees). */
static char *capture_end(struct capture *cap)
{
    fflush(stderr);
    log_set_level(LOG_INFO);
    dup2(cap->saved, STDERR_FILENO);
    close(cap->saved);
    long size = ftell(cap->file);
    assert_true(size >= 0);
    char *text = calloc(1, (size_t)size + 1);
    assert_non_null(text);
    rewind(cap->file);
    size_t got = fread(text, 1, (size_t)size, cap->file);
    text[got] = '\0';
    fclose(cap->file);
    return text;
}

/* "logged at debug level only, not as an error: a requested stop is not a failure" */
static void assert_logged_as_debug(const char *log, const char *want)
{
    if (!strstr(log, want))
        fail_msg("no \"%s\" in the log:\n%s", want, log);
    for (const char *line = log; *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : "") {
        if (strncmp(line, "error ", 6) == 0 || strncmp(line, "warn ", 5) == 0)
            fail_msg("a cancel logged a warning or error:\n%s", log);
    }
    if (strstr(log, KEY))
        fail_msg("the stream key was logged:\n%s", log);
}

/* ---- the backend's open ---- */

struct open_result {
    int rc;
    int64_t total_ms; /* from the call */
    int64_t late_ms;  /* from the cancel */
    void *state;
    char *log;
};

/* Opens url and cancels after cancel_ms (0: before the call; -1: no cancel fd). */
static struct open_result open_with_cancel(const char *url, int connect_timeout_ms, int cancel_ms)
{
    struct output_options o;
    output_options_default(&o);
    o.connect_timeout_ms = connect_timeout_ms;
    int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    assert_true(efd >= 0);
    o.cancel_fd = cancel_ms >= 0 ? efd : -1;
    struct canceller k;
    if (cancel_ms > 0) {
        fire_after(&k, efd, cancel_ms);
    } else if (cancel_ms == 0) {
        uint64_t one = 1;
        assert_int_equal(write(efd, &one, sizeof(one)), (ssize_t)sizeof(one));
    }
    struct capture cap;
    capture_begin(&cap);
    struct open_result r = {.state = (void *)&r};
    int64_t t0 = clock_now_ns();
    r.rc = output_rtmp_backend.open(&r.state, url, &o);
    int64_t now = clock_now_ns();
    r.log = capture_end(&cap);
    r.total_ms = (now - t0) / NS_PER_MS;
    if (cancel_ms > 0)
        r.late_ms = ms_after_cancel(&k, now);
    close(efd);
    return r;
}

static void assert_cancelled_promptly(const struct open_result *r)
{
    assert_int_equal(r->rc, -ECANCELED);
    assert_null(r->state);
    assert_true(r->total_ms >= 150); /* it did wait for the (silent) server until the cancel */
    if (r->late_ms > MAX_LATE_MS)
        fail_msg("open returned %lld ms after the cancel", (long long)r->late_ms);
    assert_true(r->total_ms < 200 + MAX_LATE_MS + 50);
    print_message("    open returned -ECANCELED %lld ms after the cancel (%lld ms in all)\n",
                  (long long)r->late_ms, (long long)r->total_ms);
}

/* The RTMP handshake against a server that never answers: librtmp blocks in recv (io_timeout 5 s,
 * connect_timeout 10 s) until the connection guard shuts the socket down on the cancel. */
static void test_rtmp_handshake_cancel(void **state)
{
    struct silent *s = *state;
    char url[128], want[128];
    snprintf(url, sizeof(url), "rtmp://127.0.0.1:%d/live/" KEY, s->port);
    struct open_result r = open_with_cancel(url, 10000, 200);
    assert_cancelled_promptly(&r);
    snprintf(want, sizeof(want),
             "debug rtmp: RTMP connect to 127.0.0.1:%d: cancelled in the RTMP "
             "handshake",
             s->port);
    assert_logged_as_debug(r.log, want);
    free(r.log);
}

/* The same over rtmps: the cancel ends the TLS handshake (no ServerHello ever comes). */
static void test_rtmps_handshake_cancel(void **state)
{
    struct silent *s = *state;
    char url[128], want[128];
    snprintf(url, sizeof(url), "rtmps://localhost:%d/live/" KEY, s->port);
    struct open_result r = open_with_cancel(url, 10000, 200);
    assert_cancelled_promptly(&r);
    snprintf(want, sizeof(want),
             "debug rtmp: RTMPS connect to localhost:%d: TLS handshake "
             "cancelled",
             s->port);
    assert_logged_as_debug(r.log, want);
    free(r.log);
}

/* Stop while waiting to reconnect: the cancel fd is already readable when open is called. */
static void test_open_after_cancel(void **state)
{
    struct silent *s = *state;
    char url[128];
    snprintf(url, sizeof(url), "rtmp://127.0.0.1:%d/live/" KEY, s->port);
    struct open_result r = open_with_cancel(url, 10000, 0);
    assert_int_equal(r.rc, -ECANCELED);
    assert_null(r.state);
    assert_true(r.total_ms < MAX_LATE_MS);
    assert_logged_as_debug(r.log, ": cancelled");
    free(r.log);
}

/* The guard still enforces the connect deadline (no cancel fd, as before): "connect_timeout_ms
 * resolve + TCP + TLS + RTMP handshake". */
static void test_rtmp_handshake_deadline(void **state)
{
    struct silent *s = *state;
    char url[128], want[128];
    snprintf(url, sizeof(url), "rtmp://127.0.0.1:%d/live/" KEY, s->port);
    struct open_result r = open_with_cancel(url, 300, -1);
    assert_int_equal(r.rc, -ETIMEDOUT);
    assert_null(r.state);
    assert_true(r.total_ms >= 280 && r.total_ms < 300 + MAX_LATE_MS);
    snprintf(want, sizeof(want),
             "error rtmp: RTMP connect to 127.0.0.1:%d: no answer within 300 ms (timed out in "
             "the RTMP handshake)",
             s->port);
    if (!strstr(r.log, want))
        fail_msg("no \"%s\" in the log:\n%s", want, r.log);
    free(r.log);
}

/* ---- the TLS handshake on its own ---- */

static void test_tls_handshake_cancel(void **state)
{
    struct silent *s = *state;
    char err[256];
    int fd =
        net_connect("127.0.0.1", s->port, clock_now_ns() + 2 * NS_PER_SEC, -1, err, sizeof(err));
    assert_true(fd >= 0);
    int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    assert_true(efd >= 0);
    struct canceller k;
    fire_after(&k, efd, 200);
    struct tls_conn *tls = (struct tls_conn *)(uintptr_t)1; /* must be reset to NULL */
    int64_t t0 = clock_now_ns();
    int rc = tls_connect(&tls, fd, "localhost", NULL, clock_now_ns() + 10 * NS_PER_SEC, efd, err,
                         sizeof(err));
    int64_t now = clock_now_ns();
    int64_t late_ms = ms_after_cancel(&k, now);
    assert_int_equal(rc, -ECANCELED);
    assert_null(tls);
    assert_true((now - t0) / NS_PER_MS >= 150);
    if (late_ms > MAX_LATE_MS)
        fail_msg("tls_connect returned %lld ms after the cancel", (long long)late_ms);
    assert_non_null(strstr(err, "TLS handshake cancelled"));
    print_message("    tls_connect returned -ECANCELED %lld ms after the cancel\n",
                  (long long)late_ms);
    /* The deadline still holds without a cancel fd. */
    t0 = clock_now_ns();
    rc = tls_connect(&tls, fd, "localhost", NULL, clock_now_ns() + 300 * NS_PER_MS, -1, err,
                     sizeof(err));
    int64_t took_ms = (clock_now_ns() - t0) / NS_PER_MS;
    assert_int_equal(rc, -ETIMEDOUT);
    assert_true(took_ms >= 250 && took_ms < 1000);
    assert_non_null(strstr(err, "TLS handshake timed out"));
    close(efd);
    close(fd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_rtmp_handshake_cancel, silent_start, silent_stop),
        cmocka_unit_test_setup_teardown(test_rtmps_handshake_cancel, silent_start, silent_stop),
        cmocka_unit_test_setup_teardown(test_open_after_cancel, silent_start, silent_stop),
        cmocka_unit_test_setup_teardown(test_rtmp_handshake_deadline, silent_start, silent_stop),
        cmocka_unit_test_setup_teardown(test_tls_handshake_cancel, silent_start, silent_stop),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
