/*
 * test_net_connect — resolve + connect with a deadline (src/net/net_connect.c), against
 * listeners this test opens on loopback.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/clock.h"
#include "net/net_connect.h"

static char err[512];

/* A listening socket on addr (127.0.0.1 or ::1), port chosen by the kernel. */
static int listen_on(int family, int backlog, int *port)
{
    int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_storage ss = {0};
    socklen_t len;
    if (family == AF_INET) {
        struct sockaddr_in *in = (struct sockaddr_in *)&ss;
        in->sin_family = AF_INET;
        in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        len = sizeof(*in);
    } else {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
        in6->sin6_family = AF_INET6;
        in6->sin6_addr = in6addr_loopback;
        len = sizeof(*in6);
    }
    if (bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, backlog) < 0) {
        close(fd);
        return -1;
    }
    len = sizeof(ss);
    getsockname(fd, (struct sockaddr *)&ss, &len);
    *port = ntohs(family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
                                    : ((struct sockaddr_in6 *)&ss)->sin6_port);
    return fd;
}

static int64_t in_ms(int ms)
{
    return clock_now_ns() + (int64_t)ms * NS_PER_MS;
}

/* "non-blocking connect with a deadline (poll), then back to blocking; TCP_NODELAY" */
static void test_connects_blocking_nodelay_cloexec(void **state)
{
    (void)state;
    int port;
    int lfd = listen_on(AF_INET, 8, &port);
    assert_true(lfd >= 0);
    int fd = net_connect("127.0.0.1", port, in_ms(2000), err, sizeof(err));
    assert_true(fd >= 0);
    assert_int_equal(fcntl(fd, F_GETFL) & O_NONBLOCK, 0);
    assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
    int nodelay = 0;
    socklen_t len = sizeof(nodelay);
    assert_int_equal(getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &nodelay, &len), 0);
    assert_int_not_equal(nodelay, 0);
    int afd = accept(lfd, NULL, NULL);
    assert_true(afd >= 0);
    assert_int_equal(write(fd, "x", 1), 1);
    char c = 0;
    assert_int_equal(read(afd, &c, 1), 1);
    assert_int_equal(c, 'x');
    close(afd);
    close(fd);
    close(lfd);
}

/* "errors with host:port and strerror" */
static void test_refused_names_host_port(void **state)
{
    (void)state;
    int port;
    int lfd = listen_on(AF_INET, 1, &port);
    assert_true(lfd >= 0);
    close(lfd); /* nothing listens there now */
    int rc = net_connect("127.0.0.1", port, in_ms(2000), err, sizeof(err));
    assert_int_equal(rc, -ECONNREFUSED);
    char want[64];
    snprintf(want, sizeof(want), "127.0.0.1:%d: %s", port, strerror(ECONNREFUSED));
    if (!strstr(err, want))
        fail_msg("\"%s\" lacks \"%s\"", err, want);
}

/* "getaddrinfo (IPv4 and IPv6, AF_UNSPEC …)": an IPv6 literal connects over IPv6. */
static void test_ipv6_literal(void **state)
{
    (void)state;
    int port;
    int lfd = listen_on(AF_INET6, 8, &port);
    if (lfd < 0)
        skip(); /* no IPv6 loopback here */
    int fd = net_connect("::1", port, in_ms(2000), err, sizeof(err));
    assert_true(fd >= 0);
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    assert_int_equal(getpeername(fd, (struct sockaddr *)&ss, &len), 0);
    assert_int_equal(ss.ss_family, AF_INET6);
    close(fd);
    close(lfd);
    /* Failures name the literal in brackets. */
    assert_int_equal(net_connect("::1", port, in_ms(2000), err, sizeof(err)), -ECONNREFUSED);
    char want[32];
    snprintf(want, sizeof(want), "[::1]:%d:", port);
    assert_non_null(strstr(err, want));
}

/* "try each address in order": "localhost" may resolve to ::1 first, where nothing listens;
 * the IPv4 listener must still be reached. */
static void test_name_tries_every_address(void **state)
{
    (void)state;
    int port;
    int lfd = listen_on(AF_INET, 8, &port);
    assert_true(lfd >= 0);
    int fd = net_connect("localhost", port, in_ms(3000), err, sizeof(err));
    if (fd < 0)
        fail_msg("localhost:%d: %s", port, err);
    close(fd);
    close(lfd);
}

/* "with a deadline": a listener whose accept queue is full drops SYNs, so the connect hangs
 * until the deadline. */
static void test_deadline_holds(void **state)
{
    (void)state;
    int port;
    int lfd = listen_on(AF_INET, 0, &port);
    assert_true(lfd >= 0);
    int fillers[8], n = 0;
    int rc = 0;
    int64_t started = 0;
    /* Fill the queue until a connect times out (one or two fit, depending on the kernel). */
    while (n < 8) {
        started = clock_now_ns();
        rc = net_connect("127.0.0.1", port, in_ms(300), err, sizeof(err));
        if (rc < 0)
            break;
        fillers[n++] = rc;
    }
    int64_t elapsed_ms = (clock_now_ns() - started) / NS_PER_MS;
    for (int i = 0; i < n; i++)
        close(fillers[i]);
    close(lfd);
    assert_int_equal(rc, -ETIMEDOUT);
    assert_true(elapsed_ms >= 250 && elapsed_ms < 1500);
    assert_non_null(strstr(err, "timed out"));
}

static void test_deadline_already_passed(void **state)
{
    (void)state;
    int port;
    int lfd = listen_on(AF_INET, 8, &port);
    assert_true(lfd >= 0);
    assert_int_equal(net_connect("127.0.0.1", port, clock_now_ns() - 1, err, sizeof(err)),
                     -ETIMEDOUT);
    close(lfd);
}

static void test_unresolvable(void **state)
{
    (void)state;
    int rc = net_connect("no-such-host.invalid", 1935, in_ms(3000), err, sizeof(err));
    assert_true(rc == -EHOSTUNREACH || rc == -ETIMEDOUT);
    assert_non_null(strstr(err, "no-such-host.invalid:1935: "));
}

static void test_format_and_remaining(void **state)
{
    (void)state;
    char out[64];
    net_format_host_port("example.com", 1935, out, sizeof(out));
    assert_string_equal(out, "example.com:1935");
    net_format_host_port("2001:db8::1", 443, out, sizeof(out));
    assert_string_equal(out, "[2001:db8::1]:443");
    assert_int_equal(net_remaining_ms(clock_now_ns() - NS_PER_SEC), 0);
    /* Rounded up, so that a poll never spins on a 0 ms timeout before the deadline. */
    int left = net_remaining_ms(clock_now_ns() + NS_PER_MS / 2);
    assert_true(left == 1 || left == 0);
    left = net_remaining_ms(in_ms(5000));
    assert_true(left > 4900 && left <= 5000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_connects_blocking_nodelay_cloexec),
        cmocka_unit_test(test_refused_names_host_port),
        cmocka_unit_test(test_ipv6_literal),
        cmocka_unit_test(test_name_tries_every_address),
        cmocka_unit_test(test_deadline_holds),
        cmocka_unit_test(test_deadline_already_passed),
        cmocka_unit_test(test_unresolvable),
        cmocka_unit_test(test_format_and_remaining),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
