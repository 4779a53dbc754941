/*
 * http — libcurl multi on the control loop. See http.h for the contract and the security
 * rules it enforces.
 *
 * Plumbing: CURLMOPT_SOCKETFUNCTION turns libcurl's socket interest into event_loop fd watches
 * (one struct http_sock per socket, kept in a list so the client can drop them all), and
 * CURLMOPT_TIMERFUNCTION re-arms one event_timer; both then call curl_multi_socket_action and
 * collect finished transfers with curl_multi_info_read. User callbacks only ever run from there,
 * never from inside a libcurl callback, so they may submit or cancel requests freely.
 *
 * Every URL is parsed once into a CURLU handle that is checked here (scheme, host, port, no
 * userinfo) and then handed to libcurl as is (CURLOPT_CURLU), so the URL that was checked is
 * exactly the one that is fetched.
 */
#include "net/http.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "core/clock.h"
#include "core/event_loop.h"
#include "core/log.h"
#include "net/http_policy.h"

struct http_sock {
    struct http_client *client;
    struct event_watch *watch;
    struct http_sock *prev, *next;
};

struct http_client {
    struct event_loop *loop;
    CURLM *multi;
    struct event_timer *timer;
    struct http_call *calls;
    struct http_sock *socks;
    char *ca_file;
    struct http_origin token_origin; /* scheme NULL until set */
    bool closing;                    /* libcurl callbacks are ignored while the client is freed */
    char user_agent[64];
};

struct http_call {
    struct http_client *client;
    CURL *easy;
    CURLU *url;
    struct curl_slist *headers;
    const char *token; /* points into the Authorization entry of headers, or NULL */
    char *req_body;    /* our copy of json_body (CURLOPT_POSTFIELDS does not copy) */
    size_t req_body_len;
    curl_mime *mime;
    char *resp;
    size_t resp_len, resp_cap, max_body;
    bool too_big;
    bool completing;
    http_done_fn cb;
    void *arg;
    int64_t start_ns;
    char what[256]; /* "GET https://host:443/path", for messages: no query, no token */
    char errbuf[CURL_ERROR_SIZE];
    struct http_call *prev, *next;
};

static void set_err(char *err, size_t err_size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t err_size, const char *fmt, ...)
{
    if (!err || err_size == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, err_size, fmt, ap);
    va_end(ap);
}

/* --- API origin and CA ---------------------------------------------------------------- */

int http_client_set_token_origin(struct http_client *client, const char *api_base, char *err,
                                 size_t err_size)
{
    CURLU *u;
    struct http_origin o;
    int rc = http_url_parse_checked(api_base, &u, &o, err, err_size);
    if (rc < 0)
        return rc;
    curl_url_cleanup(u);
    if (client->token_origin.scheme) {
        bool same = http_origin_equal(&client->token_origin, &o);
        http_origin_clear(&o);
        if (same)
            return 0;
        set_err(err, err_size, "the API origin is already set to %s://%s:%ld",
                client->token_origin.scheme, client->token_origin.host, client->token_origin.port);
        return -EBUSY;
    }
    client->token_origin = o;
    return 0;
}

int http_client_set_ca_file(struct http_client *client, const char *path)
{
    char *copy = strdup(path);
    if (!copy)
        return -ENOMEM;
    free(client->ca_file);
    client->ca_file = copy;
    return 0;
}

/* --- calls ------------------------------------------------------------------------------- */

static size_t on_write(char *data, size_t size, size_t nmemb, void *userdata)
{
    struct http_call *call = userdata;
    size_t n = size * nmemb;
    if (n > call->max_body - call->resp_len) {
        call->too_big = true;
        return 0; /* libcurl aborts with CURLE_WRITE_ERROR */
    }
    if (call->resp_len + n + 1 > call->resp_cap) {
        size_t cap = call->resp_cap ? call->resp_cap : 4096;
        while (cap < call->resp_len + n + 1)
            cap *= 2;
        if (cap > call->max_body + 1)
            cap = call->max_body + 1;
        char *p = realloc(call->resp, cap);
        if (!p)
            return 0;
        call->resp = p;
        call->resp_cap = cap;
    }
    memcpy(call->resp + call->resp_len, data, n);
    call->resp_len += n;
    return n;
}

static void call_free(struct http_call *call)
{
    if (call->easy)
        curl_easy_cleanup(call->easy);
    /* Wipe our copies of what may carry a credential: every header entry and the body. */
    for (struct curl_slist *h = call->headers; h; h = h->next)
        explicit_bzero(h->data, strlen(h->data));
    curl_slist_free_all(call->headers);
    if (call->req_body) {
        explicit_bzero(call->req_body, call->req_body_len);
        free(call->req_body);
    }
    curl_mime_free(call->mime);
    curl_url_cleanup(call->url);
    free(call->resp);
    free(call);
}

static void call_unlink(struct http_call *call)
{
    struct http_client *client = call->client;
    if (call->prev)
        call->prev->next = call->next;
    else
        client->calls = call->next;
    if (call->next)
        call->next->prev = call->prev;
    call->prev = call->next = NULL;
}

/* The request headers: the caller's, a JSON content type, no "Expect: 100-continue" (it only
 * adds a round trip), and the Authorization entry last. */
static int build_headers(struct http_call *call, const struct http_request *req, char *err,
                         size_t err_size)
{
    bool has_content_type = false;
    for (const char *const *h = req->headers; h && *h; h++) {
        bool ct = false;
        int rc = http_header_check(*h, &ct, err, err_size);
        if (rc < 0)
            return rc;
        has_content_type |= ct;
        struct curl_slist *l = curl_slist_append(call->headers, *h);
        if (!l)
            return -ENOMEM;
        call->headers = l;
    }
    const char *extra[2] = {"Expect:", NULL};
    if (req->json_body && !has_content_type)
        extra[1] = "Content-Type: application/json";
    for (size_t i = 0; i < 2; i++) {
        struct curl_slist *l = extra[i] ? curl_slist_append(call->headers, extra[i]) : NULL;
        if (extra[i] && !l)
            return -ENOMEM;
        if (l)
            call->headers = l;
    }
    if (!req->bearer_token)
        return 0;
    static const char prefix[] = "Authorization: Bearer ";
    char auth[sizeof(prefix) + HTTP_MAX_TOKEN_LEN];
    snprintf(auth, sizeof(auth), "%s%s", prefix, req->bearer_token);
    struct curl_slist *l = curl_slist_append(call->headers, auth);
    explicit_bzero(auth, sizeof(auth));
    if (!l)
        return -ENOMEM;
    call->headers = l;
    while (l->next)
        l = l->next;
    call->token = l->data + sizeof(prefix) - 1;
    return 0;
}

static int set_body(struct http_call *call, const struct http_request *req)
{
    CURL *e = call->easy;
    bool is_post = strcmp(req->method, "POST") == 0;
    if (strcmp(req->method, "HEAD") == 0)
        curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
    else if (!is_post && strcmp(req->method, "GET") != 0)
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, req->method);
    if (req->file) {
        const struct http_file_part *f = req->file;
        call->mime = curl_mime_init(e);
        curl_mimepart *part = call->mime ? curl_mime_addpart(call->mime) : NULL;
        if (!part || curl_mime_name(part, f->field) != CURLE_OK ||
            curl_mime_filename(part, f->filename) != CURLE_OK ||
            curl_mime_type(part, f->content_type) != CURLE_OK ||
            curl_mime_data(part, f->data ? f->data : "", f->size) != CURLE_OK)
            return -ENOMEM;
        curl_easy_setopt(e, CURLOPT_MIMEPOST, call->mime);
        return 0;
    }
    if (!req->json_body && !is_post)
        return 0;
    /* POST without a body still sends "Content-Length: 0". */
    const char *body = req->json_body ? req->json_body : "";
    call->req_body_len = strlen(body);
    call->req_body = malloc(call->req_body_len + 1);
    if (!call->req_body)
        return -ENOMEM;
    memcpy(call->req_body, body, call->req_body_len + 1);
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)call->req_body_len);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, call->req_body);
    return 0;
}

static void set_options(struct http_call *call, const struct http_request *req, bool plain)
{
    CURL *e = call->easy;
    long timeout = req->timeout_ms > 0 ? req->timeout_ms : HTTP_DEFAULT_TIMEOUT_MS;
    long connect =
        req->connect_timeout_ms > 0 ? req->connect_timeout_ms : HTTP_DEFAULT_CONNECT_TIMEOUT_MS;
    if (connect > timeout)
        connect = timeout;
    curl_easy_setopt(e, CURLOPT_CURLU, call->url);
    curl_easy_setopt(e, CURLOPT_PRIVATE, call);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_VERBOSE, 0L);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, call->errbuf);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, call);
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(e, CURLOPT_MAXREDIRS, 0L);
    curl_easy_setopt(e, CURLOPT_UNRESTRICTED_AUTH, 0L);
    curl_easy_setopt(e, CURLOPT_NETRC, (long)CURL_NETRC_IGNORED);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, plain ? "http" : "https");
    curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "https");
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(e, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
    if (call->client->ca_file)
        curl_easy_setopt(e, CURLOPT_CAINFO, call->client->ca_file);
    if (plain) /* a loopback request never goes through a proxy from the environment */
        curl_easy_setopt(e, CURLOPT_PROXY, "");
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, timeout);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, connect);
    curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)call->max_body);
    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(e, CURLOPT_USERAGENT, call->client->user_agent);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, call->headers);
}

/* "METHOD scheme://host:port/path": what messages name; the query may carry ids or secrets. */
static void describe(struct http_call *call, const char *method, const struct http_origin *o)
{
    char *path = NULL;
    curl_url_get(call->url, CURLUPART_PATH, &path, 0);
    snprintf(call->what, sizeof(call->what), "%s %s://%s:%ld%s", method, o->scheme, o->host,
             o->port, path ? path : "/");
    curl_free(path);
}

/* Checks req against the rules and builds its easy handle; nothing is sent yet. */
static int call_prepare(struct http_call *call, const struct http_request *req, char *err,
                        size_t err_size)
{
    int rc = http_request_check(req, err, err_size);
    if (rc < 0)
        return rc;
    struct http_origin o;
    rc = http_url_parse_checked(req->url, &call->url, &o, err, err_size);
    if (rc < 0)
        return rc;
    describe(call, req->method, &o);
    if (req->bearer_token) {
        struct http_origin *api = &call->client->token_origin;
        if (!api->scheme) {
            set_err(err, err_size, "%s: bearer token refused: no API origin configured",
                    call->what);
            rc = -EPERM;
        } else if (!http_origin_equal(api, &o)) {
            set_err(err, err_size, "%s: bearer token refused: it is only sent to %s://%s:%ld",
                    call->what, api->scheme, api->host, api->port);
            rc = -EPERM;
        }
    }
    bool plain = o.scheme && strcmp(o.scheme, "http") == 0;
    http_origin_clear(&o);
    if (rc < 0)
        return rc;
    call->easy = curl_easy_init();
    if (!call->easy)
        return -ENOMEM;
    rc = build_headers(call, req, err, err_size);
    if (rc == 0)
        rc = set_body(call, req);
    if (rc == -ENOMEM)
        set_err(err, err_size, "%s: out of memory", call->what);
    if (rc < 0)
        return rc;
    set_options(call, req, plain);
    return 0;
}

int http_request(struct http_client *client, const struct http_request *req, http_done_fn cb,
                 void *arg, struct http_call **call_out, char *err, size_t err_size)
{
    if (call_out)
        *call_out = NULL;
    struct http_call *call = calloc(1, sizeof(*call));
    if (!call) {
        set_err(err, err_size, "out of memory");
        return -ENOMEM;
    }
    call->client = client;
    call->cb = cb;
    call->arg = arg;
    call->max_body = req->max_body ? req->max_body : HTTP_DEFAULT_MAX_BODY;
    int rc = call_prepare(call, req, err, err_size);
    if (rc == 0 && curl_multi_add_handle(client->multi, call->easy) != CURLM_OK) {
        set_err(err, err_size, "%s: cannot start the transfer", call->what);
        rc = -ENOMEM;
    }
    if (rc < 0) {
        call_free(call);
        return rc;
    }
    call->start_ns = clock_now_ns();
    call->next = client->calls;
    if (client->calls)
        client->calls->prev = call;
    client->calls = call;
    if (call_out)
        *call_out = call;
    return 0;
}

void http_cancel(struct http_call *call)
{
    if (!call || call->completing)
        return;
    call_unlink(call);
    curl_multi_remove_handle(call->client->multi, call->easy);
    call_free(call);
}

/* --- completion -------------------------------------------------------------------------- */

static int errno_of(CURLcode rc, bool too_big)
{
    switch (rc) {
    case CURLE_OPERATION_TIMEDOUT:
        return -ETIMEDOUT;
    case CURLE_COULDNT_CONNECT:
        return -ECONNREFUSED;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
        return -EHOSTUNREACH;
    case CURLE_GOT_NOTHING:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
        return -ECONNRESET;
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
        return -EPROTO;
    case CURLE_FILESIZE_EXCEEDED:
        return -EMSGSIZE;
    case CURLE_WRITE_ERROR:
        return too_big ? -EMSGSIZE : -ENOMEM;
    case CURLE_OUT_OF_MEMORY:
        return -ENOMEM;
    default:
        return -EIO;
    }
}

static void fill_failure(struct http_call *call, CURLcode rc, struct http_response *resp)
{
    resp->error = errno_of(rc, call->too_big);
    resp->curl_code = (int)rc;
    if (resp->error == -EMSGSIZE)
        set_err(resp->error_msg, sizeof(resp->error_msg),
                "%s: response body larger than %zu bytes refused", call->what, call->max_body);
    else
        set_err(resp->error_msg, sizeof(resp->error_msg), "%s: %s", call->what,
                call->errbuf[0] ? call->errbuf : curl_easy_strerror(rc));
    /* libcurl's messages name hosts and ports, not headers; make sure regardless. */
    if (call->token && strstr(resp->error_msg, call->token))
        set_err(resp->error_msg, sizeof(resp->error_msg), "%s: transfer failed (%s)", call->what,
                curl_easy_strerror(rc));
}

static void fill_success(struct http_call *call, struct http_response *resp)
{
    if (!call->resp) {
        call->resp = malloc(1);
        if (!call->resp) {
            resp->error = -ENOMEM;
            set_err(resp->error_msg, sizeof(resp->error_msg), "%s: out of memory", call->what);
            return;
        }
    }
    call->resp[call->resp_len] = '\0';
    resp->body = call->resp;
    resp->body_len = call->resp_len;
    call->resp = NULL;
    char *location = NULL;
    if (resp->status >= 300 && resp->status < 400 &&
        curl_easy_getinfo(call->easy, CURLINFO_REDIRECT_URL, &location) == CURLE_OK && location)
        resp->redirect_url = strdup(location); /* NULL if out of memory: it is informative */
}

static void call_finish(struct http_call *call, CURLcode rc)
{
    struct http_client *client = call->client;
    struct http_response resp = {0};
    curl_easy_getinfo(call->easy, CURLINFO_RESPONSE_CODE, &resp.status);
    if (rc == CURLE_OK)
        fill_success(call, &resp);
    else
        fill_failure(call, rc, &resp);
    log_debug("http", "%s status=%ld bytes=%zu ms=%lld%s%s", call->what, resp.status, resp.body_len,
              (long long)((clock_now_ns() - call->start_ns) / NS_PER_MS),
              resp.error ? " error=" : "", resp.error ? strerror(-resp.error) : "");
    call_unlink(call);
    curl_multi_remove_handle(client->multi, call->easy);
    call->completing = true;
    call->cb(&resp, call->arg);
    call_free(call);
    http_response_clear(&resp);
}

static void collect_done(struct http_client *client)
{
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(client->multi, &left))) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        struct http_call *call = NULL;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&call);
        if (call)
            call_finish(call, msg->data.result);
    }
}

void http_response_clear(struct http_response *resp)
{
    if (!resp)
        return;
    free(resp->body);
    free(resp->redirect_url);
    *resp = (struct http_response){0};
}

/* --- libcurl <-> event loop -------------------------------------------------------------- */

static void on_socket_ready(struct event_loop *loop, int fd, unsigned events, void *arg)
{
    struct http_client *client = arg;
    int flags = ((events & EVENT_READ) ? CURL_CSELECT_IN : 0) |
                ((events & EVENT_WRITE) ? CURL_CSELECT_OUT : 0) |
                ((events & EVENT_ERROR) ? CURL_CSELECT_ERR : 0);
    int running;
    curl_multi_socket_action(client->multi, fd, flags, &running);
    collect_done(client);
}

static void on_timer(struct event_loop *loop, struct event_timer *timer, void *arg)
{
    struct http_client *client = arg;
    int running;
    curl_multi_socket_action(client->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    collect_done(client);
}

static void sock_drop(struct http_client *client, struct http_sock *s)
{
    event_watch_remove(s->watch);
    if (s->prev)
        s->prev->next = s->next;
    else
        client->socks = s->next;
    if (s->next)
        s->next->prev = s->prev;
    free(s);
}

static int on_curl_socket(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
    struct http_client *client = userp;
    struct http_sock *s = socketp;
    if (client->closing)
        return 0;
    if (what == CURL_POLL_REMOVE) {
        if (s)
            sock_drop(client, s);
        curl_multi_assign(client->multi, fd, NULL);
        return 0;
    }
    unsigned events =
        ((what & CURL_POLL_IN) ? EVENT_READ : 0) | ((what & CURL_POLL_OUT) ? EVENT_WRITE : 0);
    if (s)
        return event_watch_modify(s->watch, events) == 0 ? 0 : -1;
    s = calloc(1, sizeof(*s));
    if (!s)
        return -1;
    s->client = client;
    s->watch = event_loop_add_fd(client->loop, fd, events, on_socket_ready, client);
    if (!s->watch) {
        log_error("http", "cannot watch socket %d: %s", fd, strerror(errno));
        free(s);
        return -1;
    }
    s->next = client->socks;
    if (client->socks)
        client->socks->prev = s;
    client->socks = s;
    curl_multi_assign(client->multi, fd, s);
    return 0;
}

static int on_curl_timer(CURLM *multi, long timeout_ms, void *userp)
{
    struct http_client *client = userp;
    if (client->closing)
        return 0;
    if (timeout_ms < 0)
        event_timer_stop(client->timer);
    else
        event_timer_start(client->timer, (uint64_t)timeout_ms, 0);
    return 0;
}

/* --- client ------------------------------------------------------------------------------ */

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_result;

static void curl_init_once(void)
{
    curl_init_result = curl_global_init(CURL_GLOBAL_DEFAULT);
}

struct http_client *http_client_new(struct event_loop *loop)
{
    pthread_once(&curl_once, curl_init_once);
    if (curl_init_result != CURLE_OK) {
        log_error("http", "libcurl initialisation failed: %s",
                  curl_easy_strerror(curl_init_result));
        return NULL;
    }
    struct http_client *client = calloc(1, sizeof(*client));
    if (!client)
        goto fail;
    client->loop = loop;
    snprintf(client->user_agent, sizeof(client->user_agent), "agentcast/%s", AGENTCAST_VERSION);
    client->timer = event_timer_new(loop, on_timer, client);
    client->multi = curl_multi_init();
    if (!client->timer || !client->multi)
        goto fail;
    curl_multi_setopt(client->multi, CURLMOPT_SOCKETFUNCTION, on_curl_socket);
    curl_multi_setopt(client->multi, CURLMOPT_SOCKETDATA, client);
    curl_multi_setopt(client->multi, CURLMOPT_TIMERFUNCTION, on_curl_timer);
    curl_multi_setopt(client->multi, CURLMOPT_TIMERDATA, client);
    return client;
fail:
    log_error("http", "cannot create the HTTP client: out of memory");
    http_client_free(client);
    return NULL;
}

void http_client_free(struct http_client *client)
{
    if (!client)
        return;
    for (struct http_call *call = client->calls, *next; call; call = next) {
        next = call->next;
        curl_multi_remove_handle(client->multi, call->easy);
        call_free(call);
    }
    client->calls = NULL;
    /* Unwatch the cached connections' sockets while they are still open, then let libcurl close
     * them with its callbacks ignored. */
    client->closing = true;
    for (struct http_sock *s = client->socks, *next; s; s = next) {
        next = s->next;
        event_watch_remove(s->watch);
        free(s);
    }
    client->socks = NULL;
    if (client->multi)
        curl_multi_cleanup(client->multi);
    event_timer_free(client->timer);
    http_origin_clear(&client->token_origin);
    free(client->ca_file);
    free(client);
}

/* --- synchronous convenience ------------------------------------------------------------- */

struct sync_wait {
    struct http_response *out;
    bool done;
};

static void on_sync_done(struct http_response *resp, void *arg)
{
    struct sync_wait *w = arg;
    *w->out = *resp;
    resp->body = NULL; /* ownership moves to *w->out */
    resp->redirect_url = NULL;
    w->done = true;
}

int http_perform_sync(struct http_client *client, const struct http_request *req,
                      struct http_response *out)
{
    *out = (struct http_response){0};
    struct sync_wait w = {.out = out};
    struct http_call *call;
    int rc =
        http_request(client, req, on_sync_done, &w, &call, out->error_msg, sizeof(out->error_msg));
    if (rc < 0) {
        out->error = rc;
        return rc;
    }
    /* libcurl enforces the request's own deadline; this margin only guards against a bug. */
    int64_t timeout_ms = req->timeout_ms > 0 ? req->timeout_ms : HTTP_DEFAULT_TIMEOUT_MS;
    int64_t deadline = clock_now_ns() + (timeout_ms + 5000) * NS_PER_MS;
    rc = event_loop_run_until(client->loop, &w.done, deadline);
    if (!w.done) {
        out->error = rc < 0 ? rc : -EIO;
        set_err(out->error_msg, sizeof(out->error_msg), "%s: %s", call->what,
                rc == -EINTR ? "interrupted" : strerror(-out->error));
        http_cancel(call);
        return out->error;
    }
    return out->error;
}

/* --- retry policy ------------------------------------------------------------------------ */

/* splitmix64: tiny, and good enough for jitter. */
static uint64_t rng_next(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

uint32_t http_retry_delay_ms(unsigned attempt, uint64_t *rng)
{
    const uint32_t first_ms = 500, cap_ms = 30000;
    uint64_t base = first_ms;
    for (unsigned i = 0; i < attempt && base < cap_ms; i++)
        base *= 2;
    if (base > cap_ms)
        base = cap_ms;
    /* Uniform in [0.8, 1.2] x base, in 1/1000 steps. */
    uint64_t permille = 800 + rng_next(rng) % 401;
    uint64_t delay = base * permille / 1000;
    return (uint32_t)(delay > cap_ms ? cap_ms : delay);
}

bool http_is_retryable(long status, int curl_code)
{
    switch (curl_code) {
    case CURLE_OK:
        return status >= 500 && status <= 599;
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_GOT_NOTHING:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
        return true;
    default:
        return false;
    }
}
