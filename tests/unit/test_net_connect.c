/*
 * test_net_connect — resolve + connect with a deadline and a cancel fd (src/net/net_connect.c),
 * against listeners this test opens on loopback. A lookup that never answers is simulated by
 * interposing getaddrinfo for one reserved name (see below).
 */
#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
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

/* ---- a DNS lookup that never answers ---- */

/* The name whose lookup hangs until hang_release: as a resolver that gets no answer would. */
#define HANG_HOST "hang.agentcast.test"

static struct {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool release;
    int started, returned;
} hang = {.lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};

typedef int (*getaddrinfo_fn)(const char *, const char *, const struct addrinfo *,
                              struct addrinfo **);

/* Interposes libc's getaddrinfo in this test program (net_connect.c, linked in statically,
 * binds to it). Every name but HANG_HOST goes to the real one; so do numeric-only lookups, for
 * which HANG_HOST is EAI_NONAME as usual. */
int getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
                struct addrinfo **res)
{
    getaddrinfo_fn real = (getaddrinfo_fn)dlsym(RTLD_NEXT, "getaddrinfo");
    if (!node || strcmp(node, HANG_HOST) != 0 || (hints && (hints->ai_flags & AI_NUMERICHOST)))
        return real(node, service, hints, res);
    pthread_mutex_lock(&hang.lock);
    hang.started++;
    pthread_cond_broadcast(&hang.cond);
    while (!hang.release)
        pthread_cond_wait(&hang.cond, &hang.lock);
    pthread_mutex_unlock(&hang.lock);
    /* A real result, which the resolver thread must free once its caller has gone. */
    struct addrinfo numeric = {.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV,
                               .ai_socktype = SOCK_STREAM};
    int rc = real("127.0.0.1", service, &numeric, res);
    pthread_mutex_lock(&hang.lock);
    hang.returned++;
    pthread_cond_broadcast(&hang.cond);
    pthread_mutex_unlock(&hang.lock);
    return rc;
}

/* Lets hanging lookups return and waits until they have; false if they did not within 2 s. */
static bool hang_release_and_wait(int count)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 2;
    pthread_mutex_lock(&hang.lock);
    hang.release = true;
    pthread_cond_broadcast(&hang.cond);
    int rc = 0;
    while (hang.returned < count && rc == 0)
        rc = pthread_cond_timedwait(&hang.cond, &hang.lock, &until);
    bool ok = hang.returned >= count;
    pthread_mutex_unlock(&hang.lock);
    return ok;
}

/* ---- cancelling ---- */

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
    ssize_t unused = write(k->fd, &one, sizeof(one)); /* no cmocka asserts off the main thread */
    (void)unused;
    return NULL;
}

/* Makes the eventfd k->fd readable delay_ms from now, from another thread (as output_stop). */
static void fire_after(struct canceller *k, int fd, int delay_ms)
{
    *k = (struct canceller){.fd = fd, .delay_ms = delay_ms};
    assert_int_equal(pthread_create(&k->thread, NULL, canceller_main, k), 0);
}

/* Joins the canceller; returns ms from its firing to now. */
static int64_t ms_since_fired(struct canceller *k, int64_t returned_ns)
{
    pthread_join(k->thread, NULL);
    return (returned_ns - k->fired_ns) / NS_PER_MS;
}

/* Connects to port until a connect times out: the listener's accept queue is then full and
 * further SYNs are dropped, so a connect hangs. Returns how many fillers fds[] holds. */
static int fill_backlog(int port, int *fds, int max)
{
    int n = 0;
    while (n < max) {
        int rc = net_connect("127.0.0.1", port, in_ms(100), -1, err, sizeof(err));
        if (rc < 0) {
            assert_int_equal(rc, -ETIMEDOUT);
            return n;
        }
        fds[n++] = rc;
    }
    fail_msg("the accept queue never filled");
    return n;
}

/* ---- tests ---- */

/* "non-blocking connect with a deadline (poll), then back to blocking; TCP_NODELAY" */
static void test_connects_blocking_nodelay_cloexec(void **state)
{
    (void)state;
    int port;
    int lfd = listen_on(AF_INET, 8, &port);
    assert_true(lfd >= 0);
    int fd = net_connect("127.0.0.1", port, in_ms(2000), -1, err, sizeof(err));
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
    int rc = net_connect("127.0.0.1", port, in_ms(2000), -1, err, sizeof(err));
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
    int fd = net_connect("::1", port, in_ms(2000), -1, err, sizeof(err));
    assert_true(fd >= 0);
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    assert_int_equal(getpeername(fd, (struct sockaddr *)&ss, &len), 0);
    assert_int_equal(ss.ss_family, AF_INET6);
    close(fd);
    close(lfd);
    /* Failures name the literal in brackets. */
    assert_int_equal(net_connect("::1", port, in_ms(2000), -1, err, sizeof(err)), -ECONNREFUSED);
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
    int fd = net_connect("localhost", port, in_ms(3000), -1, err, sizeof(err));
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
        rc = net_connect("127.0.0.1", port, in_ms(300), -1, err, sizeof(err));
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

/* Issue: "SIGINT/SIGTERM: [...] exit 0 within 2 s", also while a connect hangs: the connect
 * poll ends within ~100 ms of the cancel fd, long before its 10 s deadline. */
static void test_cancel_ends_connect(void **state)
{
    (void)state;
    int port;
    int lfd = listen_on(AF_INET, 0, &port);
    assert_true(lfd >= 0);
    int fillers[8];
    int n = fill_backlog(port, fillers, 8);
    int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    assert_true(efd >= 0);
    struct canceller k;
    int64_t t0 = clock_now_ns();
    fire_after(&k, efd, 200);
    int rc = net_connect("127.0.0.1", port, in_ms(10000), efd, err, sizeof(err));
    int64_t now = clock_now_ns();
    int64_t late_ms = ms_since_fired(&k, now);
    for (int i = 0; i < n; i++)
        close(fillers[i]);
    close(lfd);
    close(efd);
    assert_int_equal(rc, -ECANCELED);
    assert_true((now - t0) / NS_PER_MS >= 150); /* it did wait until the cancel */
    if (late_ms > 100)
        fail_msg("returned %lld ms after the cancel", (long long)late_ms);
    print_message("    connect returned -ECANCELED %lld ms after the cancel\n", (long long)late_ms);
    char want[64];
    snprintf(want, sizeof(want), "127.0.0.1:%d: connect cancelled", port);
    if (!strstr(err, want))
        fail_msg("\"%s\" lacks \"%s\"", err, want);
}

/* A cancel that fired before the call (stop while waiting to reconnect): no connect at all. */
static void test_cancel_before_start(void **state)
{
    (void)state;
    int port;
    int lfd = listen_on(AF_INET, 8, &port);
    assert_true(lfd >= 0);
    int efd = eventfd(1, EFD_CLOEXEC | EFD_NONBLOCK);
    assert_true(efd >= 0);
    assert_true(net_cancelled(efd));
    assert_false(net_cancelled(-1));
    assert_int_equal(net_connect("127.0.0.1", port, in_ms(2000), efd, err, sizeof(err)),
                     -ECANCELED);
    assert_true(net_cancelled(efd)); /* never consumed: later checks see it too */
    struct pollfd pfd = {.fd = lfd, .events = POLLIN};
    assert_int_equal(poll(&pfd, 1, 50), 0); /* nobody connected */
    close(efd);
    close(lfd);
}

/* Name resolution that never answers (a dead DNS server) ends on the cancel fd; the detached
 * lookup thread frees its late result by itself (ASan checks that nothing leaks or is used
 * after it is freed). Then the same hanging lookup ends at the deadline. */
static void test_cancel_ends_resolve(void **state)
{
    (void)state;
    int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    assert_true(efd >= 0);
    struct canceller k;
    fire_after(&k, efd, 200);
    int rc = net_connect(HANG_HOST, 1935, in_ms(10000), efd, err, sizeof(err));
    int64_t late_ms = ms_since_fired(&k, clock_now_ns());
    assert_int_equal(rc, -ECANCELED);
    if (late_ms > 100)
        fail_msg("returned %lld ms after the cancel", (long long)late_ms);
    print_message("    resolve returned -ECANCELED %lld ms after the cancel\n", (long long)late_ms);
    assert_non_null(strstr(err, HANG_HOST ":1935: cancelled during name resolution"));
    pthread_mutex_lock(&hang.lock);
    assert_int_equal(hang.started, 1);
    assert_int_equal(hang.returned, 0); /* the lookup itself is still hanging */
    pthread_mutex_unlock(&hang.lock);

    int64_t t0 = clock_now_ns();
    rc = net_connect(HANG_HOST, 1935, in_ms(300), -1, err, sizeof(err));
    int64_t took_ms = (clock_now_ns() - t0) / NS_PER_MS;
    assert_int_equal(rc, -ETIMEDOUT);
    assert_true(took_ms >= 250 && took_ms < 1000);
    assert_non_null(strstr(err, "name resolution timed out"));
    close(efd);
    assert_true(hang_release_and_wait(2));
}

static void test_deadline_already_passed(void **state)
{
    (void)state;
    int port;
    int lfd = listen_on(AF_INET, 8, &port);
    assert_true(lfd >= 0);
    assert_int_equal(net_connect("127.0.0.1", port, clock_now_ns() - 1, -1, err, sizeof(err)),
                     -ETIMEDOUT);
    close(lfd);
}

/* ---- the guard ---- */

/* A connected AF_UNIX stream pair, blocking; sv[0] is the guarded end. */
static void socket_pair(int sv[2])
{
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
}

/* A send blocked because the peer stopped reading (a SIGSTOPped ingest) fails within ~100 ms of
 * the cancel, and so does every later send. */
static void test_guard_cancel_ends_blocked_send(void **state)
{
    (void)state;
    int sv[2];
    socket_pair(sv);
    int guard_fd = dup(sv[0]);
    int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    assert_true(guard_fd >= 0 && efd >= 0);
    struct net_guard *g;
    assert_int_equal(net_guard_start(&g, guard_fd, efd, INT64_MAX), 0);
    assert_true(net_guard_clear_deadline(g)); /* as after a connect: only the cancel is left */
    static char big[8 << 20];                 /* far more than the pair's buffers hold */
    struct canceller k;
    int64_t t0 = clock_now_ns();
    fire_after(&k, efd, 200);
    ssize_t n = send(sv[0], big, sizeof(big), MSG_NOSIGNAL);
    int64_t now = clock_now_ns();
    int64_t late_ms = ms_since_fired(&k, now);
    assert_true(n < (ssize_t)sizeof(big)); /* cut short: partial, or -1 with EPIPE */
    assert_true((now - t0) / NS_PER_MS >= 150);
    if (late_ms > 100)
        fail_msg("send returned %lld ms after the cancel", (long long)late_ms);
    print_message("    blocked send returned %lld ms after the cancel\n", (long long)late_ms);
    assert_int_equal(send(sv[0], "x", 1, MSG_NOSIGNAL), -1);
    assert_int_equal(errno, EPIPE);
    assert_false(net_guard_timed_out(g));
    assert_false(net_guard_clear_deadline(g)); /* it has fired */
    net_guard_stop(g);
    close(guard_fd);
    close(efd);
    close(sv[0]);
    close(sv[1]);
}

/* While connecting, the deadline shuts a blocked recv down (a silent server). */
static void test_guard_deadline_ends_blocked_recv(void **state)
{
    (void)state;
    int sv[2];
    socket_pair(sv);
    struct net_guard *g;
    int64_t t0 = clock_now_ns();
    assert_int_equal(net_guard_start(&g, sv[0], -1, in_ms(200)), 0);
    char c;
    ssize_t n = recv(sv[0], &c, 1, 0);
    int64_t took_ms = (clock_now_ns() - t0) / NS_PER_MS;
    assert_int_equal(n, 0); /* shut down: end of stream */
    assert_true(took_ms >= 190 && took_ms < 300);
    assert_true(net_guard_timed_out(g));
    assert_false(net_guard_clear_deadline(g));
    net_guard_stop(g);
    close(sv[0]);
    close(sv[1]);
}

/* Once the deadline is cleared only the cancel fires it; a guard that never fired leaves the
 * socket as it was. */
static void test_guard_cleared_deadline_and_stop(void **state)
{
    (void)state;
    int sv[2];
    socket_pair(sv);
    int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    assert_true(efd >= 0);
    struct net_guard *g;
    assert_int_equal(net_guard_start(&g, sv[0], efd, in_ms(50)), 0);
    assert_true(net_guard_clear_deadline(g));
    clock_sleep_until_ns(in_ms(150));
    char c = 0;
    assert_int_equal(send(sv[1], "a", 1, MSG_NOSIGNAL), 1);
    assert_int_equal(recv(sv[0], &c, 1, 0), 1); /* not shut down at the old deadline */
    assert_int_equal(c, 'a');
    net_guard_stop(g);
    net_guard_stop(NULL);

    /* A cancel after the guard stopped no longer touches the socket. */
    uint64_t one = 1;
    assert_int_equal(write(efd, &one, sizeof(one)), (ssize_t)sizeof(one));
    clock_sleep_until_ns(in_ms(50));
    assert_int_equal(send(sv[0], "b", 1, MSG_NOSIGNAL), 1);
    assert_int_equal(recv(sv[1], &c, 1, 0), 1);
    assert_int_equal(c, 'b');
    close(efd);
    close(sv[0]);
    close(sv[1]);
}

static void test_unresolvable(void **state)
{
    (void)state;
    int rc = net_connect("no-such-host.invalid", 1935, in_ms(3000), -1, err, sizeof(err));
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
        cmocka_unit_test(test_cancel_ends_connect),
        cmocka_unit_test(test_cancel_before_start),
        cmocka_unit_test(test_cancel_ends_resolve),
        cmocka_unit_test(test_guard_cancel_ends_blocked_send),
        cmocka_unit_test(test_guard_deadline_ends_blocked_recv),
        cmocka_unit_test(test_guard_cleared_deadline_and_stop),
        cmocka_unit_test(test_unresolvable),
        cmocka_unit_test(test_format_and_remaining),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
