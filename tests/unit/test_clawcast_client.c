/*
 * test_clawcast_client — src/clawcast/client.c and api_key.c: "no calls with an expired JWT"
 * (nothing reaches the server), calls refused before sending (a JWT endpoint without a slot, an
 * API key that could break the header, a non-loopback http base), which endpoints may be
 * repeated after a timeout, and the API key read from a 0600 file or the environment, never
 * quoted in a message.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "clawcast/api_key.h"
#include "clawcast/client.h"
#include "core/clock.h"
#include "core/event_loop.h"

/* A test JWT (not a credential): {"alg":"HS256"} . {"exp":2000000000} . filler. */
#define JWT "eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjIwMDAwMDAwMDB9.c2lnbmF0dXJlLXNpZ25hdHVyZQ"

static char err[512];

/* A listening socket on 127.0.0.1 that nothing should connect to. */
static int listener(int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(fd, 4), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    *port = ntohs(a.sin_port);
    return fd;
}

static void never_called(const struct clawcast_result *res, void *opaque)
{
    (void)res;
    *(bool *)opaque = true;
}

/* "Your JWT expires ~60s after your slot ends": a call with an expired JWT is refused with
 * -EKEYEXPIRED before anything is sent. */
static void test_expired_jwt_not_sent(void **state)
{
    (void)state;
    int port, fd = listener(&port);
    char base[64];
    snprintf(base, sizeof(base), "http://127.0.0.1:%d", port);
    struct event_loop *loop = event_loop_new();
    struct clawcast_client *c = clawcast_client_new(loop, base, NULL, err, sizeof(err));
    assert_non_null(c);
    struct clawcast_slot_state *slot = clawcast_state_new();
    strcpy(slot->slot_jwt, JWT);
    slot->exp = (int64_t)time(NULL) - 1;
    bool called = false;
    struct clawcast_call_options o = {.json_body = "{\"type\":\"terminal\",\"content\":"
                                                   "{\"screen\":\"x\"}}",
                                      .slot = slot};
    assert_int_equal(clawcast_client_call(c, CLAWCAST_EP_PUBLISH_FRAME, &o, never_called, &called,
                                          NULL, err, sizeof(err)),
                     -EKEYEXPIRED);
    assert_non_null(strstr(err, "expired"));
    assert_null(strstr(err, JWT));
    /* Within the margin before exp counts as expired too. */
    slot->exp = (int64_t)time(NULL) + CLAWCAST_JWT_EXPIRY_MARGIN - 1;
    assert_int_equal(clawcast_client_call(c, CLAWCAST_EP_END_SLOT, &o, never_called, &called, NULL,
                                          err, sizeof(err)),
                     -EKEYEXPIRED);
    bool never = false;
    event_loop_run_until(loop, &never, clock_now_ns() + 200 * NS_PER_MS);
    assert_false(called);
    int conn = accept(fd, NULL, NULL);
    assert_int_equal(conn, -1); /* nobody connected */
    assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
    clawcast_state_free(slot);
    clawcast_client_free(c);
    event_loop_free(loop);
    close(fd);
}

static void test_refused_before_sending(void **state)
{
    (void)state;
    struct event_loop *loop = event_loop_new();
    struct clawcast_client *c =
        clawcast_client_new(loop, "http://127.0.0.1:9", NULL, err, sizeof(err));
    assert_non_null(c);
    bool called = false;
    /* A slot-JWT endpoint without a slot. */
    assert_int_equal(clawcast_client_call(c, CLAWCAST_EP_POLL_RESULTS, NULL, never_called, &called,
                                          NULL, err, sizeof(err)),
                     -EINVAL);
    assert_non_null(strstr(err, "pollResults needs the slot JWT"));
    /* A JSON endpoint without a body. */
    assert_int_equal(clawcast_client_call(c, CLAWCAST_EP_CHAT, NULL, never_called, &called, NULL,
                                          err, sizeof(err)),
                     -EINVAL);
    /* An API key that would end the header line. */
    struct clawcast_call_options o = {.json_body = "{}", .api_key = "tvt_a\r\nX-Evil: 1"};
    assert_int_equal(clawcast_client_call(c, CLAWCAST_EP_BOOK_SLOT, &o, never_called, &called, NULL,
                                          err, sizeof(err)),
                     -EINVAL);
    assert_null(strstr(err, "tvt_a"));
    assert_false(called);
    clawcast_client_free(c);
    /* "https required except for loopback hosts" */
    assert_null(clawcast_client_new(loop, "http://tvterminal.com", NULL, err, sizeof(err)));
    assert_true(err[0] != '\0');
    c = clawcast_client_new(loop, "https://tvterminal.com", NULL, err, sizeof(err));
    assert_non_null(c);
    assert_string_equal(clawcast_client_base(c), "https://tvterminal.com");
    clawcast_client_free(c);
    event_loop_free(loop);
}

/* After a timeout the first attempt may have taken effect: only what is safe to repeat is. */
static void test_repeatable(void **state)
{
    (void)state;
    assert_true(clawcast_client_repeatable(CLAWCAST_EP_NOW));
    assert_true(clawcast_client_repeatable(CLAWCAST_EP_GET_QUEUE));
    assert_true(clawcast_client_repeatable(CLAWCAST_EP_POLL_RESULTS));
    assert_true(clawcast_client_repeatable(CLAWCAST_EP_DUET_REQUESTS));
    assert_true(clawcast_client_repeatable(CLAWCAST_EP_PUBLISH_FRAME));
    assert_true(clawcast_client_repeatable(CLAWCAST_EP_END_SLOT));
    assert_false(clawcast_client_repeatable(CLAWCAST_EP_BOOK_SLOT));
    assert_false(clawcast_client_repeatable(CLAWCAST_EP_PUBLISH_BATCH));
    assert_false(clawcast_client_repeatable(CLAWCAST_EP_VOTE));
    assert_false(clawcast_client_repeatable(CLAWCAST_EP_CHAT));
    assert_false(clawcast_client_repeatable(CLAWCAST_EP_REQUEST_DUET));
    assert_false(clawcast_client_repeatable(CLAWCAST_EP_ACCEPT_DUET));
    assert_false(clawcast_client_repeatable(CLAWCAST_EP_DUET_REPLY));
    assert_false(clawcast_client_repeatable(CLAWCAST_EP_COUNT));
}

static void test_api_key_check(void **state)
{
    (void)state;
    char key[CLAWCAST_API_KEY_MAX + 2];
    assert_int_equal(clawcast_api_key_check("tvt_your_key_here", err, sizeof(err)), 0);
    assert_int_equal(clawcast_api_key_check("", err, sizeof(err)), -EINVAL);
    assert_int_equal(clawcast_api_key_check("tvt key", err, sizeof(err)), -EINVAL);
    assert_null(strstr(err, "tvt"));
    memset(key, 'k', CLAWCAST_API_KEY_MAX);
    key[CLAWCAST_API_KEY_MAX] = '\0';
    assert_int_equal(clawcast_api_key_check(key, err, sizeof(err)), 0);
    key[CLAWCAST_API_KEY_MAX] = 'k';
    key[CLAWCAST_API_KEY_MAX + 1] = '\0';
    assert_int_equal(clawcast_api_key_check(key, err, sizeof(err)), -EINVAL);
}

static void write_file(const char *path, const char *text, mode_t mode)
{
    unlink(path);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    assert_int_equal(fchmod(fd, mode), 0);
    close(fd);
}

/* "the API key is read from a file or the environment, never argv" */
static void test_api_key_load(void **state)
{
    (void)state;
    char dir[] = "/tmp/test_clawcast_client.XXXXXX", path[128], key[CLAWCAST_API_KEY_MAX + 1];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/key", dir);
    write_file(path, "tvt_from_file\n", 0600);
    assert_int_equal(clawcast_api_key_load(path, key, err, sizeof(err)), 0);
    assert_string_equal(key, "tvt_from_file");
    write_file(path, "tvt_from_file\n", 0640);
    assert_int_equal(clawcast_api_key_load(path, key, err, sizeof(err)), -EACCES);
    assert_non_null(strstr(err, "chmod 600"));
    assert_string_equal(key, "");
    write_file(path, "tvt two words\n", 0600);
    assert_int_equal(clawcast_api_key_load(path, key, err, sizeof(err)), -EINVAL);
    assert_null(strstr(err, "two words"));
    unlink(path);
    assert_int_equal(clawcast_api_key_load(path, key, err, sizeof(err)), -ENOENT);
    rmdir(dir);

    setenv(CLAWCAST_ENV_API_KEY, "tvt_from_env", 1);
    assert_int_equal(clawcast_api_key_load(NULL, key, err, sizeof(err)), 0);
    assert_string_equal(key, "tvt_from_env");
    assert_null(getenv(CLAWCAST_ENV_API_KEY)); /* children never see it */
    assert_int_equal(clawcast_api_key_load(NULL, key, err, sizeof(err)), 0);
    assert_string_equal(key, ""); /* no key: unclaimed names need none */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_expired_jwt_not_sent), cmocka_unit_test(test_refused_before_sending),
        cmocka_unit_test(test_repeatable),           cmocka_unit_test(test_api_key_check),
        cmocka_unit_test(test_api_key_load),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
