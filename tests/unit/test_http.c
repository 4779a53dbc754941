/*
 * test_http — the asynchronous HTTP client (src/net/http.c) against test servers this file
 * runs on 127.0.0.1 (a thread per server, canned responses), and its retry helpers.
 *
 * DESIGN.md §2: "Every HTTP call is non-blocking with a deadline." DESIGN.md §5: "the access
 * token is sent only to the configured API origin (…; plain http allowed only for loopback test
 * servers), never across a redirect, never logged".
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "core/clock.h"
#include "core/event_loop.h"
#include "net/http.h"

#define TOKEN "rtk_test_0123456789abcdef"

/* --- test server ------------------------------------------------------------------------- */

enum server_mode {
    SERVE_CANNED,  /* read a request, send the canned response, close */
    SERVE_HANG,    /* read a request, never answer; notice when the client goes away */
    SERVE_CLOSE,   /* read a request, close without a byte */
    SERVE_BATCH,   /* read `batch` requests on as many connections, then answer them all */
    SERVE_GARBAGE, /* write the canned response at once, without reading (e.g. to a TLS hello) */
};

struct server {
    int lfd, port;
    int stop_pipe[2];
    pthread_t thread;
    enum server_mode mode;
    const char *response; /* SERVE_CANNED / SERVE_BATCH / SERVE_GARBAGE */
    size_t response_len;
    int batch;
    pthread_mutex_t lock;
    int connections, requests;
    bool peer_closed;
    char *last; /* raw bytes of the last request */
    size_t last_len;
};

static bool server_stopping(struct server *s, int fd, int timeout_ms)
{
    struct pollfd p[2] = {{.fd = s->stop_pipe[0], .events = POLLIN}, {.fd = fd, .events = POLLIN}};
    poll(p, fd >= 0 ? 2 : 1, timeout_ms);
    return p[0].revents != 0;
}

/* Reads one request (headers and a Content-Length body) into a new buffer; NULL on EOF or
 * after 3 s. */
static char *read_request(struct server *s, int fd, size_t *len)
{
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap + 1);
    size_t want = SIZE_MAX;
    int64_t deadline = clock_now_ns() + 3 * NS_PER_SEC;
    while (n < want && clock_now_ns() < deadline) {
        if (server_stopping(s, fd, 50))
            break;
        if (n == cap) {
            cap *= 2;
            buf = realloc(buf, cap + 1);
        }
        ssize_t r = recv(fd, buf + n, cap - n, MSG_DONTWAIT);
        if (r == 0)
            break;
        if (r < 0)
            continue;
        n += (size_t)r;
        buf[n] = '\0';
        char *end = strstr(buf, "\r\n\r\n");
        if (end && want == SIZE_MAX) {
            size_t body = 0;
            char *cl = strcasestr(buf, "\r\nContent-Length:");
            if (cl && cl < end)
                body = strtoul(cl + 17, NULL, 10);
            want = (size_t)(end + 4 - buf) + body;
        }
    }
    if (n < want) {
        free(buf);
        return NULL;
    }
    *len = n;
    return buf;
}

static void send_all(int fd, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t w = send(fd, data, len, MSG_NOSIGNAL);
        if (w <= 0)
            return;
        data += w;
        len -= (size_t)w;
    }
}

static void record(struct server *s, char *req, size_t len)
{
    pthread_mutex_lock(&s->lock);
    free(s->last);
    s->last = req;
    s->last_len = len;
    s->requests++;
    pthread_mutex_unlock(&s->lock);
}

static void serve_one(struct server *s, int fd)
{
    if (s->mode == SERVE_GARBAGE) {
        send_all(fd, s->response, s->response_len);
        return;
    }
    size_t len;
    char *req = read_request(s, fd, &len);
    if (!req)
        return;
    record(s, req, len);
    if (s->mode == SERVE_CANNED) {
        send_all(fd, s->response, s->response_len);
    } else if (s->mode == SERVE_HANG) {
        char c;
        while (!server_stopping(s, fd, 50)) {
            ssize_t r = recv(fd, &c, 1, MSG_DONTWAIT);
            if (r == 0 || (r < 0 && errno != EAGAIN)) {
                pthread_mutex_lock(&s->lock);
                s->peer_closed = true;
                pthread_mutex_unlock(&s->lock);
                break;
            }
        }
    }
}

static void serve_batch(struct server *s)
{
    int fds[64];
    int n = 0;
    while (n < s->batch && !server_stopping(s, s->lfd, 50)) {
        int fd = accept(s->lfd, NULL, NULL);
        if (fd < 0)
            continue;
        s->connections++;
        size_t len;
        char *req = read_request(s, fd, &len);
        if (!req) {
            close(fd);
            continue;
        }
        record(s, req, len);
        fds[n++] = fd;
    }
    for (int i = 0; i < n; i++) {
        send_all(fds[i], s->response, s->response_len);
        close(fds[i]);
    }
}

static void *server_main(void *arg)
{
    struct server *s = arg;
    if (s->mode == SERVE_BATCH) {
        serve_batch(s);
        return NULL;
    }
    while (!server_stopping(s, s->lfd, 1000)) {
        int fd = accept(s->lfd, NULL, NULL);
        if (fd < 0)
            continue;
        pthread_mutex_lock(&s->lock);
        s->connections++;
        pthread_mutex_unlock(&s->lock);
        serve_one(s, fd);
        close(fd);
    }
    return NULL;
}

static void server_start(struct server *s, enum server_mode mode, const char *response)
{
    memset(s, 0, sizeof(*s));
    s->mode = mode;
    s->response = response;
    s->response_len = response ? strlen(response) : 0;
    pthread_mutex_init(&s->lock, NULL);
    assert_int_equal(pipe(s->stop_pipe), 0);
    s->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    assert_true(s->lfd >= 0);
    struct sockaddr_in in = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(in);
    assert_int_equal(bind(s->lfd, (struct sockaddr *)&in, len), 0);
    assert_int_equal(listen(s->lfd, 64), 0);
    getsockname(s->lfd, (struct sockaddr *)&in, &len);
    s->port = ntohs(in.sin_port);
}

static void server_run(struct server *s)
{
    assert_int_equal(pthread_create(&s->thread, NULL, server_main, s), 0);
}

static void server_stop(struct server *s)
{
    assert_int_equal(write(s->stop_pipe[1], "x", 1), 1);
    pthread_join(s->thread, NULL);
    close(s->lfd);
    close(s->stop_pipe[0]);
    close(s->stop_pipe[1]);
    free(s->last);
    pthread_mutex_destroy(&s->lock);
}

static int server_connections(struct server *s)
{
    pthread_mutex_lock(&s->lock);
    int n = s->connections;
    pthread_mutex_unlock(&s->lock);
    return n;
}

static char *url_of(const struct server *s, const char *path)
{
    static char buf[4][256];
    static int i;
    char *out = buf[i++ % 4];
    snprintf(out, sizeof(buf[0]), "http://127.0.0.1:%d%s", s->port, path);
    return out;
}

/* --- fixture ----------------------------------------------------------------------------- */

struct fixture {
    struct event_loop *loop;
    struct http_client *client;
};

static int setup(void **state)
{
    static struct fixture f;
    f.loop = event_loop_new();
    f.client = f.loop ? http_client_new(f.loop) : NULL;
    if (!f.client)
        return -1;
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    http_client_free(f->client);
    event_loop_free(f->loop);
    return 0;
}

static const char OK_JSON[] = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                              "Content-Length: 16\r\nConnection: close\r\n\r\n"
                              "{\"is_live\":true}";

static void never_done(struct http_response *resp, void *arg)
{
    fail_msg("callback of a refused or cancelled request");
}

/* --- requests ---------------------------------------------------------------------------- */

static void test_get_json(void **state)
{
    struct fixture *f = *state;
    struct server s;
    server_start(&s, SERVE_CANNED, OK_JSON);
    server_run(&s);
    const char *headers[] = {"Accept: application/json", NULL};
    struct http_request req = {
        .method = "GET", .url = url_of(&s, "/api/v1/agent/stream/status?x=1"), .headers = headers};
    struct http_response resp;
    assert_int_equal(http_perform_sync(f->client, &req, &resp), 0);
    assert_int_equal(resp.error, 0);
    assert_int_equal(resp.status, 200);
    assert_int_equal(resp.body_len, 16);
    assert_string_equal(resp.body, "{\"is_live\":true}");
    assert_null(resp.redirect_url);
    assert_non_null(strstr(s.last, "GET /api/v1/agent/stream/status?x=1 HTTP/1.1\r\n"));
    assert_non_null(strstr(s.last, "\r\nAccept: application/json\r\n"));
    assert_null(strcasestr(s.last, "Authorization"));
    http_response_clear(&resp);
    server_stop(&s);
}

static void test_post_json_with_token_to_api_origin(void **state)
{
    struct fixture *f = *state;
    struct server s;
    server_start(&s, SERVE_CANNED, OK_JSON);
    server_run(&s);
    char err[256];
    assert_int_equal(
        http_client_set_token_origin(f->client, url_of(&s, "/api/v1"), err, sizeof(err)), 0);
    /* Setting the same origin again is harmless; another one is refused. */
    assert_int_equal(
        http_client_set_token_origin(f->client, url_of(&s, "/other"), err, sizeof(err)), 0);
    assert_int_equal(
        http_client_set_token_origin(f->client, "https://retake.tv/api/v1", err, sizeof(err)),
        -EBUSY);
    const char *body = "{\"message\":\"hello chat\",\"destination_user_id\":\"user_abc\"}";
    struct http_request req = {.method = "POST",
                               .url = url_of(&s, "/api/v1/agent/stream/chat/send"),
                               .json_body = body,
                               .bearer_token = TOKEN};
    struct http_response resp;
    assert_int_equal(http_perform_sync(f->client, &req, &resp), 0);
    assert_int_equal(resp.status, 200);
    assert_non_null(strstr(s.last, "POST /api/v1/agent/stream/chat/send HTTP/1.1\r\n"));
    assert_non_null(strstr(s.last, "\r\nAuthorization: Bearer " TOKEN "\r\n"));
    assert_non_null(strstr(s.last, "\r\nContent-Type: application/json\r\n"));
    assert_null(strcasestr(s.last, "Expect:"));
    char *sent_body = strstr(s.last, "\r\n\r\n") + 4;
    assert_string_equal(sent_body, body);
    http_response_clear(&resp);
    server_stop(&s);
}

/* Methods other than GET and POST go out under their own name, with their body if any. */
static void test_other_methods(void **state)
{
    struct fixture *f = *state;
    struct server s;
    server_start(&s, SERVE_CANNED, OK_JSON);
    server_run(&s);
    struct http_request req = {.method = "PUT",
                               .url = url_of(&s, "/api/v1/sessions/42"),
                               .json_body = "{\"title\":\"t\"}"};
    struct http_response resp;
    assert_int_equal(http_perform_sync(f->client, &req, &resp), 0);
    assert_non_null(strstr(s.last, "PUT /api/v1/sessions/42 HTTP/1.1\r\n"));
    assert_string_equal(strstr(s.last, "\r\n\r\n") + 4, "{\"title\":\"t\"}");
    http_response_clear(&resp);
    req = (struct http_request){.method = "DELETE", .url = url_of(&s, "/api/v1/sessions/42")};
    assert_int_equal(http_perform_sync(f->client, &req, &resp), 0);
    assert_int_equal(strncmp(s.last, "DELETE /api/v1/sessions/42 HTTP/1.1\r\n", 37), 0);
    assert_null(strcasestr(s.last, "Content-Length"));
    http_response_clear(&resp);
    req = (struct http_request){.method = "POST", .url = url_of(&s, "/api/v1/agent/rtmp")};
    assert_int_equal(http_perform_sync(f->client, &req, &resp), 0);
    assert_non_null(strcasestr(s.last, "\r\nContent-Length: 0\r\n"));
    http_response_clear(&resp);
    server_stop(&s);
}

/* "POST /api/v1/agent/update-thumbnail (multipart: image=…)": one file part from memory. */
static void test_multipart_file_part(void **state)
{
    struct fixture *f = *state;
    struct server s;
    server_start(&s, SERVE_CANNED, OK_JSON);
    server_run(&s);
    /* A JPEG-like blob with NULs and CRLFs inside, so the test sees a binary-exact body. */
    unsigned char jpeg[3000];
    for (size_t i = 0; i < sizeof(jpeg); i++)
        jpeg[i] = (unsigned char)(i * 7 + 3);
    jpeg[0] = 0xff, jpeg[1] = 0xd8, jpeg[2] = 0, jpeg[3] = '\r', jpeg[4] = '\n';
    jpeg[sizeof(jpeg) - 2] = 0xff, jpeg[sizeof(jpeg) - 1] = 0xd9;
    struct http_file_part part = {.field = "image",
                                  .filename = "thumbnail.jpg",
                                  .content_type = "image/jpeg",
                                  .data = jpeg,
                                  .size = sizeof(jpeg)};
    struct http_request req = {
        .method = "POST", .url = url_of(&s, "/api/v1/agent/update-thumbnail"), .file = &part};
    struct http_response resp;
    assert_int_equal(http_perform_sync(f->client, &req, &resp), 0);
    assert_int_equal(resp.status, 200);
    assert_non_null(strcasestr(s.last, "\r\nContent-Type: multipart/form-data; boundary="));
    const char *disp = "Content-Disposition: form-data; name=\"image\"; filename=\"thumbnail.jpg\""
                       "\r\nContent-Type: image/jpeg\r\n\r\n";
    char *at = memmem(s.last, s.last_len, disp, strlen(disp));
    assert_non_null(at);
    char *data = at + strlen(disp);
    assert_true((size_t)(data - s.last) + sizeof(jpeg) + 4 <= s.last_len);
    assert_memory_equal(data, jpeg, sizeof(jpeg));
    assert_memory_equal(data + sizeof(jpeg), "\r\n--", 4); /* then the closing boundary */
    http_response_clear(&resp);
    server_stop(&s);
}

/* A large upload goes out at once: no "Expect: 100-continue" round trip (libcurl would wait
 * up to a second for a "100 Continue" that many servers never send). */
static void test_large_upload_without_expect(void **state)
{
    struct fixture *f = *state;
    struct server s;
    server_start(&s, SERVE_CANNED, OK_JSON);
    server_run(&s);
    size_t size = 1536 * 1024;
    char *blob = malloc(size);
    assert_non_null(blob);
    memset(blob, 'j', size);
    struct http_file_part part = {"image", "big.png", "image/png", blob, size};
    struct http_request req = {.method = "POST", .url = url_of(&s, "/upload"), .file = &part};
    struct http_response resp;
    int64_t t0 = clock_now_ns();
    assert_int_equal(http_perform_sync(f->client, &req, &resp), 0);
    assert_true((clock_now_ns() - t0) / NS_PER_MS < 800);
    assert_int_equal(resp.status, 200);
    assert_true(s.last_len > size);
    assert_null(strcasestr(s.last, "Expect:"));
    free(blob);
    http_response_clear(&resp);
    server_stop(&s);
}

/* "Every HTTP call is non-blocking with a deadline." */
static void test_deadline_on_silent_server(void **state)
{
    struct fixture *f = *state;
    struct server s;
    server_start(&s, SERVE_HANG, NULL);
    server_run(&s);
    char err[256];
    assert_int_equal(http_client_set_token_origin(f->client, url_of(&s, "/"), err, sizeof(err)), 0);
    struct http_request req = {.method = "GET",
                               .url = url_of(&s, "/api/v1/agent/rtmp"),
                               .bearer_token = TOKEN,
                               .timeout_ms = 400};
    struct http_response resp;
    int64_t t0 = clock_now_ns();
    assert_int_equal(http_perform_sync(f->client, &req, &resp), -ETIMEDOUT);
    int64_t ms = (clock_now_ns() - t0) / NS_PER_MS;
    assert_true(ms >= 390);
    assert_true(ms <= 400 + 200);
    assert_int_equal(resp.error, -ETIMEDOUT);
    assert_int_equal(resp.curl_code, CURLE_OPERATION_TIMEDOUT);
    assert_null(resp.body);
    assert_true(http_is_retryable(resp.status, resp.curl_code));
    assert_non_null(strstr(resp.error_msg, "GET http://127.0.0.1:"));
    assert_null(strstr(resp.error_msg, TOKEN));
    assert_null(strstr(resp.error_msg, "Authorization"));
    assert_int_equal(s.requests, 1);
    http_response_clear(&resp);
    server_stop(&s);
}

static void test_server_closes_without_response(void **state)
{
    struct fixture *f = *state;
    struct server s;
    server_start(&s, SERVE_CLOSE, NULL);
    server_run(&s);
    struct http_request req = {
        .method = "POST", .url = url_of(&s, "/api/v1/agent/stream/start"), .timeout_ms = 3000};
    struct http_response resp;
    assert_int_equal(http_perform_sync(f->client, &req, &resp), -ECONNRESET);
    assert_int_equal(resp.curl_code, CURLE_GOT_NOTHING);
    assert_true(http_is_retryable(resp.status, resp.curl_code));
    assert_true(strlen(resp.error_msg) > 0);
    http_response_clear(&resp);
    server_stop(&s);
}

/* "never across a redirect": a 3xx comes back as is, nothing is fetched from its Location. */
static void test_redirect_not_followed(void **state)
{
    struct fixture *f = *state;
    struct server other, s;
    server_start(&other, SERVE_CANNED, OK_JSON);
    server_run(&other);
    char redirect[256];
    snprintf(redirect, sizeof(redirect),
             "HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:%d/steal\r\n"
             "Content-Length: 0\r\nConnection: close\r\n\r\n",
             other.port);
    server_start(&s, SERVE_CANNED, redirect);
    server_run(&s);
    char err[256];
    assert_int_equal(http_client_set_token_origin(f->client, url_of(&s, "/"), err, sizeof(err)), 0);
    struct http_request req = {
        .method = "GET", .url = url_of(&s, "/skill.json"), .bearer_token = TOKEN};
    struct http_response resp;
    assert_int_equal(http_perform_sync(f->client, &req, &resp), 0);
    assert_int_equal(resp.status, 302);
    assert_string_equal(resp.redirect_url, url_of(&other, "/steal"));
    usleep(100 * 1000);
    assert_int_equal(server_connections(&other), 0);
    http_response_clear(&resp);
    server_stop(&s);
    server_stop(&other);
}

/* "the access token is sent only to the configured API origin" */
static void test_token_refused_for_other_origin(void **state)
{
    struct fixture *f = *state;
    struct server api, other;
    server_start(&api, SERVE_CANNED, OK_JSON);
    server_run(&api);
    server_start(&other, SERVE_CANNED, OK_JSON);
    server_run(&other);
    char err[256] = "";
    struct http_request req = {.method = "GET", .url = url_of(&other, "/x"), .bearer_token = TOKEN};
    /* No origin configured yet: refused too. */
    assert_int_equal(http_request(f->client, &req, never_done, NULL, NULL, err, sizeof(err)),
                     -EPERM);
    assert_int_equal(
        http_client_set_token_origin(f->client, url_of(&api, "/api/v1"), err, sizeof(err)), 0);
    struct http_response resp;
    assert_int_equal(http_perform_sync(f->client, &req, &resp), -EPERM);
    assert_non_null(strstr(resp.error_msg, "bearer token refused"));
    assert_null(strstr(resp.error_msg, TOKEN));
    /* Same host, other scheme or port: still another origin. */
    char url[128];
    snprintf(url, sizeof(url), "https://127.0.0.1:%d/x", api.port);
    req.url = url;
    assert_int_equal(http_request(f->client, &req, never_done, NULL, NULL, err, sizeof(err)),
                     -EPERM);
    snprintf(url, sizeof(url), "http://localhost:%d/x", api.port);
    assert_int_equal(http_request(f->client, &req, never_done, NULL, NULL, err, sizeof(err)),
                     -EPERM);
    usleep(50 * 1000);
    assert_int_equal(server_connections(&other), 0);
    http_response_clear(&resp);
    server_stop(&other);
    server_stop(&api);
}

/* "https is required except for loopback hosts (tests)" — refused before any lookup. */
static void test_scheme_and_host_rules(void **state)
{
    struct fixture *f = *state;
    char err[256];
    static const char *const refused[] = {
        "http://agentcast-test.invalid/api/v1/agent/rtmp",
        "http://10.0.0.1/",
        "http://127.0.0.1.nip.io/",
        "http://[::2]/",
        "ftp://127.0.0.1/",
        "file:///etc/passwd",
        "rtmp://127.0.0.1/live",
    };
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        struct http_request req = {.method = "GET", .url = refused[i]};
        err[0] = '\0';
        assert_int_equal(http_request(f->client, &req, never_done, NULL, NULL, err, sizeof(err)),
                         -EPERM);
        assert_non_null(strstr(err, "https"));
    }
    struct http_response resp;
    struct http_request made_up = {.method = "GET", .url = refused[0]};
    assert_int_equal(http_perform_sync(f->client, &made_up, &resp), -EPERM);
    assert_int_equal(resp.curl_code, 0); /* libcurl never saw it: no DNS, no connect */
    assert_non_null(strstr(resp.error_msg, "use https"));
    assert_false(http_is_retryable(resp.status, resp.curl_code));

    static const char *const allowed[] = {
        "http://127.0.0.1:9/", "http://127.8.9.10:9/", "http://localhost:9/",
        "http://LOCALHOST:9/", "http://[::1]:9/",      "https://agentcast-test.invalid/",
    };
    for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++) {
        struct http_request req = {.method = "GET", .url = allowed[i]};
        struct http_call *call;
        assert_int_equal(http_request(f->client, &req, never_done, NULL, &call, err, sizeof(err)),
                         0);
        http_cancel(call);
    }
    struct http_request bad = {.method = "GET", .url = "https://user:pw@retake.tv/"};
    assert_int_equal(http_request(f->client, &bad, never_done, NULL, NULL, err, sizeof(err)),
                     -EINVAL);
    bad.url = "not a url";
    assert_int_equal(http_request(f->client, &bad, never_done, NULL, NULL, err, sizeof(err)),
                     -EINVAL);
    assert_int_equal(
        http_client_set_token_origin(f->client, "http://retake.tv/api/v1", err, sizeof(err)),
        -EPERM);
}

static void test_malformed_requests_refused(void **state)
{
    struct fixture *f = *state;
    char err[256];
    const char *auth[] = {"authorization: Bearer " TOKEN, NULL};
    const char *crlf[] = {"X-A: b\r\nX-Injected: 1", NULL};
    const char *noname[] = {": value", NULL};
    struct http_file_part part = {"image", "a.jpg", "image/jpeg", "x", 1};
    struct http_request reqs[] = {
        {.method = "GET", .url = "http://127.0.0.1:9/", .headers = auth},
        {.method = "GET", .url = "http://127.0.0.1:9/", .headers = crlf},
        {.method = "GET", .url = "http://127.0.0.1:9/", .headers = noname},
        {.method = "get", .url = "http://127.0.0.1:9/"},
        {.method = "GET", .url = "http://127.0.0.1:9/", .json_body = "{}"},
        {.method = "POST", .url = "http://127.0.0.1:9/", .json_body = "{}", .file = &part},
        {.method = "POST", .url = "http://127.0.0.1:9/", .bearer_token = "rtk_x\r\nX-A: b"},
        {.method = "POST", .url = "http://127.0.0.1:9/", .bearer_token = ""},
        {.method = "GET", .url = NULL},
    };
    assert_int_equal(
        http_client_set_token_origin(f->client, "http://127.0.0.1:9", err, sizeof(err)), 0);
    for (size_t i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++) {
        err[0] = '\0';
        assert_int_equal(
            http_request(f->client, &reqs[i], never_done, NULL, NULL, err, sizeof(err)), -EINVAL);
        assert_true(strlen(err) > 0);
        assert_null(strstr(err, TOKEN));
    }
}

/* "refuse bodies over e.g. 4 MB with an error" */
static void test_body_size_limit(void **state)
{
    struct fixture *f = *state;
    struct server s;
    /* Announced with Content-Length: refused before it is read. */
    char head[160];
    snprintf(head, sizeof(head),
             "HTTP/1.1 200 OK\r\nContent-Length: %u\r\n"
             "Connection: close\r\n\r\n",
             HTTP_DEFAULT_MAX_BODY + 1);
    server_start(&s, SERVE_CANNED, head);
    server_run(&s);
    struct http_request req = {.method = "GET", .url = url_of(&s, "/big")};
    struct http_response resp;
    assert_int_equal(http_perform_sync(f->client, &req, &resp), -EMSGSIZE);
    assert_non_null(strstr(resp.error_msg, "larger than 4194304 bytes"));
    assert_false(http_is_retryable(resp.status, resp.curl_code));
    http_response_clear(&resp);
    server_stop(&s);

    /* Without a length (read to the close): counted while it arrives. Limit 1000: a 1000-byte
     * body passes, 1001 bytes fail. */
    static char exact[1100], over[1100];
    const char *h = "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n";
    snprintf(exact, sizeof(exact), "%s%01000d", h, 7);
    snprintf(over, sizeof(over), "%s%01001d", h, 7);
    server_start(&s, SERVE_CANNED, exact);
    server_run(&s);
    req = (struct http_request){.method = "GET", .url = url_of(&s, "/"), .max_body = 1000};
    assert_int_equal(http_perform_sync(f->client, &req, &resp), 0);
    assert_int_equal(resp.body_len, 1000);
    assert_int_equal(resp.body[1000], '\0');
    http_response_clear(&resp);
    server_stop(&s);
    server_start(&s, SERVE_CANNED, over);
    server_run(&s);
    req.url = url_of(&s, "/");
    assert_int_equal(http_perform_sync(f->client, &req, &resp), -EMSGSIZE);
    assert_null(resp.body);
    http_response_clear(&resp);
    server_stop(&s);
}

/* TLS is always verified: a server that does not speak TLS fails the handshake, and that is
 * not worth a retry. */
static void test_https_requires_tls(void **state)
{
    struct fixture *f = *state;
    struct server s;
    server_start(&s, SERVE_GARBAGE, OK_JSON);
    server_run(&s);
    char url[64];
    snprintf(url, sizeof(url), "https://127.0.0.1:%d/", s.port);
    struct http_request req = {.method = "GET", .url = url, .timeout_ms = 3000};
    struct http_response resp;
    assert_int_equal(http_perform_sync(f->client, &req, &resp), -EPROTO);
    assert_false(http_is_retryable(resp.status, resp.curl_code));
    http_response_clear(&resp);
    server_stop(&s);
}

#define CONCURRENT 20

struct many_state {
    int done, ok;
    bool all_done;
};

static void on_many_done(struct http_response *resp, void *arg)
{
    struct many_state *m = arg;
    if (resp->error == 0 && resp->status == 200 && strcmp(resp->body, "{\"is_live\":true}") == 0)
        m->ok++;
    if (++m->done == CONCURRENT)
        m->all_done = true;
}

/* The server answers only once it holds all 20 requests: they are all in flight at once. */
static void test_many_requests_at_once(void **state)
{
    struct fixture *f = *state;
    struct server s;
    server_start(&s, SERVE_BATCH, OK_JSON);
    s.batch = CONCURRENT;
    server_run(&s);
    struct many_state m = {0};
    char err[256];
    for (int i = 0; i < CONCURRENT; i++) {
        struct http_request req = {
            .method = "GET", .url = url_of(&s, "/api/v1/users/live/"), .timeout_ms = 5000};
        assert_int_equal(http_request(f->client, &req, on_many_done, &m, NULL, err, sizeof(err)),
                         0);
    }
    assert_int_equal(event_loop_run_until(f->loop, &m.all_done, clock_now_ns() + 6 * NS_PER_SEC),
                     0);
    assert_int_equal(m.ok, CONCURRENT);
    assert_int_equal(s.requests, CONCURRENT);
    server_stop(&s);
}

struct cancel_state {
    struct http_call *victim;
    bool first_done;
};

static void on_first_cancels_victim(struct http_response *resp, void *arg)
{
    struct cancel_state *c = arg;
    assert_int_equal(resp->status, 200);
    http_cancel(c->victim);
    http_cancel(NULL);
    c->victim = NULL;
    c->first_done = true;
}

static bool wait_peer_closed(struct server *s, int ms)
{
    for (int i = 0; i < ms / 10; i++) {
        pthread_mutex_lock(&s->lock);
        bool closed = s->peer_closed;
        pthread_mutex_unlock(&s->lock);
        if (closed)
            return true;
        usleep(10 * 1000);
    }
    return false;
}

/* Cancelling from another request's callback closes the connection, and the cancelled
 * request's callback never runs. */
static void test_cancel(void **state)
{
    struct fixture *f = *state;
    struct server hang, ok;
    server_start(&hang, SERVE_HANG, NULL);
    server_run(&hang);
    server_start(&ok, SERVE_CANNED, OK_JSON);
    server_run(&ok);
    struct cancel_state c = {0};
    char err[256];
    struct http_request victim = {.method = "GET", .url = url_of(&hang, "/slow")};
    assert_int_equal(
        http_request(f->client, &victim, never_done, NULL, &c.victim, err, sizeof(err)), 0);
    /* Let the victim reach its server first. */
    bool never = false;
    event_loop_run_until(f->loop, &never, clock_now_ns() + 150 * NS_PER_MS);
    assert_int_equal(hang.requests, 1);
    struct http_request first = {.method = "GET", .url = url_of(&ok, "/fast")};
    assert_int_equal(
        http_request(f->client, &first, on_first_cancels_victim, &c, NULL, err, sizeof(err)), 0);
    assert_int_equal(event_loop_run_until(f->loop, &c.first_done, clock_now_ns() + 3 * NS_PER_SEC),
                     0);
    assert_true(wait_peer_closed(&hang, 2000));
    /* Nothing left that could call back later. */
    event_loop_run_until(f->loop, &never, clock_now_ns() + 100 * NS_PER_MS);
    server_stop(&ok);
    server_stop(&hang);
}

/* Freeing the client drops requests in flight without calling back (and leaks nothing). */
static void test_free_with_requests_in_flight(void **state)
{
    struct fixture *f = *state;
    struct server hang;
    server_start(&hang, SERVE_HANG, NULL);
    server_run(&hang);
    char err[256];
    struct http_request req = {.method = "POST", .url = url_of(&hang, "/x"), .json_body = "{}"};
    assert_int_equal(http_request(f->client, &req, never_done, NULL, NULL, err, sizeof(err)), 0);
    bool never = false;
    event_loop_run_until(f->loop, &never, clock_now_ns() + 100 * NS_PER_MS);
    http_client_free(f->client);
    f->client = NULL;
    assert_true(wait_peer_closed(&hang, 2000));
    server_stop(&hang);
}

/* --- retry helpers ----------------------------------------------------------------------- */

/* "HTTP 5xx and timeouts: retry with exponential backoff and jitter" */
static void test_retry_delay(void **state)
{
    uint64_t rng = 42;
    static const struct {
        unsigned attempt;
        uint32_t base;
    } steps[] = {{0, 500}, {1, 1000}, {2, 2000}, {5, 16000}, {6, 30000}, {7, 30000}, {1000, 30000}};
    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        uint32_t lo = UINT32_MAX, hi = 0;
        for (int k = 0; k < 2000; k++) {
            uint32_t d = http_retry_delay_ms(steps[i].attempt, &rng);
            lo = d < lo ? d : lo;
            hi = d > hi ? d : hi;
        }
        uint32_t b = steps[i].base;
        assert_true(lo >= b * 8 / 10);
        assert_true(hi <= b * 12 / 10 && hi <= 30000);
        /* Jitter spreads the delays over most of the ±20 % band. */
        assert_true(lo <= b * 83 / 100);
        if (b < 30000)
            assert_true(hi >= b * 117 / 100);
    }
}

static void test_retryable_classification(void **state)
{
    assert_true(http_is_retryable(500, 0));
    assert_true(http_is_retryable(502, 0));
    assert_true(http_is_retryable(503, 0));
    assert_true(http_is_retryable(599, 0));
    assert_false(http_is_retryable(200, 0));
    assert_false(http_is_retryable(302, 0));
    assert_false(http_is_retryable(400, 0));
    assert_false(http_is_retryable(401, 0));
    assert_false(http_is_retryable(404, 0));
    assert_false(http_is_retryable(409, 0));
    assert_false(http_is_retryable(429, 0));
    assert_true(http_is_retryable(0, CURLE_OPERATION_TIMEDOUT));
    assert_true(http_is_retryable(0, CURLE_COULDNT_CONNECT));
    assert_true(http_is_retryable(0, CURLE_GOT_NOTHING));
    assert_true(http_is_retryable(0, CURLE_RECV_ERROR));
    assert_true(http_is_retryable(0, CURLE_SEND_ERROR));
    assert_true(http_is_retryable(200, CURLE_PARTIAL_FILE));
    assert_false(http_is_retryable(0, CURLE_PEER_FAILED_VERIFICATION));
    assert_false(http_is_retryable(0, CURLE_SSL_CONNECT_ERROR));
    assert_false(http_is_retryable(200, CURLE_WRITE_ERROR));
    assert_false(http_is_retryable(0, CURLE_UNSUPPORTED_PROTOCOL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_get_json, setup, teardown),
        cmocka_unit_test_setup_teardown(test_post_json_with_token_to_api_origin, setup, teardown),
        cmocka_unit_test_setup_teardown(test_other_methods, setup, teardown),
        cmocka_unit_test_setup_teardown(test_multipart_file_part, setup, teardown),
        cmocka_unit_test_setup_teardown(test_large_upload_without_expect, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deadline_on_silent_server, setup, teardown),
        cmocka_unit_test_setup_teardown(test_server_closes_without_response, setup, teardown),
        cmocka_unit_test_setup_teardown(test_redirect_not_followed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_token_refused_for_other_origin, setup, teardown),
        cmocka_unit_test_setup_teardown(test_scheme_and_host_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(test_malformed_requests_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_body_size_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_https_requires_tls, setup, teardown),
        cmocka_unit_test_setup_teardown(test_many_requests_at_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cancel, setup, teardown),
        cmocka_unit_test_setup_teardown(test_free_with_requests_in_flight, setup, teardown),
        cmocka_unit_test(test_retry_delay),
        cmocka_unit_test(test_retryable_classification),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
