/*
 * ctl_server — the control socket served inside the control plane's event loop (DESIGN.md §2):
 * accepts local clients of our own uid, splits what they send into JSON lines without ever
 * blocking the loop, hands each request to the live instance's handler and writes the replies
 * back, possibly long after the request (stop answers once stream/stop has returned).
 *
 * Lifetimes: a connection can close (client gone, write error, server stop) while replies for
 * it are still held by the handler; closing detaches them (reply->conn = NULL) so that a later
 * send is a no-op. A connection or the server closed from inside one of its own callbacks (the
 * handler stops the server; a reply sent from the handler fails with EPIPE) is only marked
 * dead, and freed when the callback unwinds ("busy" counts the frames on the stack).
 */
#include "ctl/ctl_server.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/errmsg.h"
#include "core/log.h"
#include "ctl/ctl_path.h"

#define COMPONENT "ctl"
/* Bytes queued for a client that does not read before it is dropped. */
#define OUT_MAX (1u << 20)
#define IN_INITIAL 4096
#define ACCEPTS_PER_WAKEUP 16
/* Pause before accepting again when out of fds (the listening socket would stay readable and
 * spin a level-triggered loop otherwise). */
#define ACCEPT_PAUSE_MS 1000

struct ctl_conn;

struct ctl_reply {
    struct ctl_conn *conn; /* NULL once the client is gone or the server stopped */
    cJSON *id;             /* copy of the request's "id", or NULL */
    struct ctl_reply *prev, *next;
};

struct ctl_conn {
    struct ctl_server *server;
    struct ctl_conn *prev, *next;
    int fd;
    struct event_watch *watch;
    char *in;
    size_t in_len, in_cap;
    char *out;
    size_t out_len, out_cap;
    struct ctl_reply *replies; /* waiting for the handler */
    unsigned pending;
    bool read_eof;          /* the client shut its side: no more requests */
    bool close_after_flush; /* protocol error: say why, then hang up */
    bool dead;
    int busy;
};

struct ctl_server {
    struct event_loop *loop;
    char path[CTL_PATH_MAX];
    int listen_fd, lock_fd;
    dev_t dev;
    ino_t ino;
    struct event_watch *listen_watch;
    struct event_timer *accept_pause;
    ctl_handler_fn handler;
    void *opaque;
    struct ctl_conn *conns;
    size_t n_conns;
    int busy;
    bool stopped;
};

_Static_assert(CTL_PATH_MAX == sizeof(((struct sockaddr_un *)0)->sun_path), "sun_path size");

/* Strict UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing above U+10FFFF. NUL is
 * refused too: the rest of agentcast reads strings as C strings. */
static bool utf8_valid(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned char c = s[i];
        size_t need;
        unsigned char lo = 0x80, hi = 0xBF;
        if (c == 0)
            return false;
        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xC2 && c <= 0xDF) {
            need = 1;
        } else if (c >= 0xE0 && c <= 0xEF) {
            need = 2;
            lo = c == 0xE0 ? 0xA0 : 0x80;
            hi = c == 0xED ? 0x9F : 0xBF;
        } else if (c >= 0xF0 && c <= 0xF4) {
            need = 3;
            lo = c == 0xF0 ? 0x90 : 0x80;
            hi = c == 0xF4 ? 0x8F : 0xBF;
        } else {
            return false;
        }
        if (n - i <= need || s[i + 1] < lo || s[i + 1] > hi)
            return false;
        for (size_t k = 2; k <= need; k++)
            if (s[i + k] < 0x80 || s[i + k] > 0xBF)
                return false;
        i += need + 1;
    }
    return true;
}

/* --- connections ------------------------------------------------------------------------- */

static void conn_free(struct ctl_conn *c)
{
    free(c->in);
    free(c->out);
    free(c);
}

static void server_free(struct ctl_server *s)
{
    free(s);
}

static void reply_unlink(struct ctl_reply *r)
{
    struct ctl_conn *c = r->conn;
    if (!c)
        return;
    if (r->prev)
        r->prev->next = r->next;
    else
        c->replies = r->next;
    if (r->next)
        r->next->prev = r->prev;
    r->prev = r->next = NULL;
    r->conn = NULL;
    c->pending--;
}

/* Closes the fd and detaches everything; the memory goes when no callback holds c. */
static void conn_close(struct ctl_conn *c)
{
    if (c->dead)
        return;
    c->dead = true;
    event_watch_remove(c->watch);
    c->watch = NULL;
    close(c->fd);
    c->fd = -1;
    while (c->replies)
        reply_unlink(c->replies);
    struct ctl_server *s = c->server;
    if (c->prev)
        c->prev->next = c->next;
    else
        s->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    s->n_conns--;
    log_debug(COMPONENT, "client disconnected clients=%zu", s->n_conns);
    if (!c->busy)
        conn_free(c);
}

/* Writes what is queued without blocking. Returns 0, or -EPIPE after closing c on an error. */
static int conn_flush(struct ctl_conn *c)
{
    size_t done = 0;
    while (done < c->out_len) {
        ssize_t n = send(c->fd, c->out + done, c->out_len - done, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
            done += (size_t)n;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            break;
        } else {
            conn_close(c);
            return -EPIPE;
        }
    }
    memmove(c->out, c->out + done, c->out_len - done);
    c->out_len -= done;
    return 0;
}

/* Brings c's watch in line with what it waits for, or closes it when it waits for nothing. */
static void conn_settle(struct ctl_conn *c)
{
    if (c->dead)
        return;
    if (c->out_len == 0 && (c->close_after_flush || (c->read_eof && c->pending == 0))) {
        conn_close(c);
        return;
    }
    unsigned ev = (c->read_eof || c->close_after_flush) ? 0 : EVENT_READ;
    if (c->out_len)
        ev |= EVENT_WRITE;
    if (event_watch_modify(c->watch, ev) != 0)
        conn_close(c);
}

/* Queues text plus '\n' for c and tries to write it at once. */
static int conn_queue_line(struct ctl_conn *c, const char *text, size_t len)
{
    if (c->dead)
        return -ENOTCONN;
    if (c->out_len + len + 1 > OUT_MAX) {
        log_warn(COMPONENT, "client does not read its replies: disconnecting it");
        conn_close(c);
        return -ENOTCONN;
    }
    if (c->out_cap < c->out_len + len + 1) {
        size_t cap = c->out_cap ? c->out_cap : 1024;
        while (cap < c->out_len + len + 1)
            cap *= 2;
        char *p = realloc(c->out, cap);
        if (!p)
            return -ENOMEM;
        c->out = p;
        c->out_cap = cap;
    }
    memcpy(c->out + c->out_len, text, len);
    c->out[c->out_len + len] = '\n';
    c->out_len += len + 1;
    if (conn_flush(c) != 0)
        return -ENOTCONN;
    conn_settle(c);
    return 0;
}

/* Serializes obj (borrowed) as one line for c. */
static int conn_send_json(struct ctl_conn *c, cJSON *obj)
{
    char *text = cJSON_PrintUnformatted(obj);
    if (!text)
        return -ENOMEM;
    size_t len = strlen(text);
    int rc = len > CTL_LINE_MAX ? -EMSGSIZE : conn_queue_line(c, text, len);
    cJSON_free(text);
    return rc;
}

/* {"ok":false,"error":msg} with id (borrowed) copied in. */
static int conn_send_error(struct ctl_conn *c, const cJSON *id, const char *msg)
{
    cJSON *obj = cJSON_CreateObject();
    int rc = -ENOMEM;
    if (obj && cJSON_AddFalseToObject(obj, "ok") && cJSON_AddStringToObject(obj, "error", msg)) {
        cJSON *dup = id ? cJSON_Duplicate(id, true) : NULL;
        if (!id || (dup && cJSON_AddItemToObject(obj, "id", dup)))
            rc = conn_send_json(c, obj);
        else
            cJSON_Delete(dup);
    }
    cJSON_Delete(obj);
    return rc;
}

/* --- replies ----------------------------------------------------------------------------- */

static void reply_free(struct ctl_reply *r)
{
    reply_unlink(r);
    cJSON_Delete(r->id);
    free(r);
}

void ctl_reply_discard(struct ctl_reply *reply)
{
    if (!reply)
        return;
    struct ctl_conn *c = reply->conn;
    reply_free(reply);
    if (c)
        conn_settle(c); /* a half-closed client waiting only for this one is done */
}

bool ctl_reply_connected(const struct ctl_reply *reply)
{
    return reply && reply->conn && !reply->conn->dead;
}

/* Adds "ok" (unless present) and the request's "id" (replacing any) to response. */
static int reply_decorate(struct ctl_reply *r, cJSON *response)
{
    if (!cJSON_HasObjectItem(response, "ok") && !cJSON_AddTrueToObject(response, "ok"))
        return -ENOMEM;
    cJSON_DeleteItemFromObjectCaseSensitive(response, "id");
    if (r->id) {
        if (!cJSON_AddItemToObject(response, "id", r->id))
            return -ENOMEM;
        r->id = NULL; /* now response's */
    }
    return 0;
}

int ctl_reply_send(struct ctl_reply *reply, cJSON *response)
{
    if (!reply) {
        cJSON_Delete(response);
        return -EINVAL;
    }
    struct ctl_conn *c = reply->conn;
    if (!c || c->dead) {
        cJSON_Delete(response);
        reply_free(reply);
        return -ENOTCONN;
    }
    c->busy++; /* a failed write closes c; keep its memory until we are done with it */
    if (!response)
        response = cJSON_CreateObject();
    int rc = -ENOMEM;
    if (response && !cJSON_IsObject(response))
        rc = -EINVAL;
    else if (response)
        rc = reply_decorate(reply, response);
    /* Unlinked before writing so that the connection settles with the right pending count. */
    reply_unlink(reply);
    if (rc == 0)
        rc = conn_send_json(c, response);
    if (rc == -EMSGSIZE || rc == -EINVAL || rc == -ENOMEM) {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(response, "id");
        conn_send_error(c, id ? id : reply->id,
                        rc == -EMSGSIZE ? "reply too large for one line"
                        : rc == -EINVAL ? "internal error: reply is not a JSON object"
                                        : "out of memory");
        log_error(COMPONENT, "reply not sent: %s", strerror(-rc));
    }
    cJSON_Delete(response);
    reply_free(reply);
    if (--c->busy == 0 && c->dead)
        conn_free(c);
    return rc;
}

int ctl_reply_error(struct ctl_reply *reply, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    cJSON *obj = cJSON_CreateObject();
    if (obj &&
        (!cJSON_AddFalseToObject(obj, "ok") || !cJSON_AddStringToObject(obj, "error", msg))) {
        cJSON_Delete(obj);
        obj = NULL;
    }
    if (!obj) {
        ctl_reply_discard(reply);
        return -ENOMEM;
    }
    return ctl_reply_send(reply, obj);
}

/* --- requests ---------------------------------------------------------------------------- */

static bool is_json_space(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n';
}

/* Parses one request line and dispatches it; every failure is answered on c. */
static void handle_line(struct ctl_conn *c, const char *line, size_t len)
{
    while (len && is_json_space(line[len - 1]))
        len--;
    size_t lead = 0;
    while (lead < len && is_json_space(line[lead]))
        lead++;
    if (lead == len)
        return; /* blank line */
    if (!utf8_valid((const unsigned char *)line, len)) {
        conn_send_error(c, NULL, "request is not valid UTF-8 (or contains a NUL byte)");
        return;
    }
    const char *end = NULL;
    cJSON *req = cJSON_ParseWithLengthOpts(line, len, &end, false);
    if (!req) {
        char msg[96];
        snprintf(msg, sizeof(msg), "request is not valid JSON (error at byte %zu)",
                 end ? (size_t)(end - line) : (size_t)0);
        conn_send_error(c, NULL, msg);
        return;
    }
    while (end && end < line + len && is_json_space(*end))
        end++;
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(req, "id");
    const cJSON *cmd = cJSON_GetObjectItemCaseSensitive(req, "cmd");
    struct ctl_reply *r = NULL;
    if (end != line + len)
        conn_send_error(c, NULL, "request line holds more than one JSON value");
    else if (!cJSON_IsObject(req))
        conn_send_error(c, NULL, "request must be a JSON object");
    else if (!cJSON_IsString(cmd) || !cmd->valuestring[0])
        conn_send_error(c, id, "request has no \"cmd\" string");
    else if (c->pending >= CTL_MAX_PENDING)
        conn_send_error(c, id, "too many requests waiting for a reply on this connection");
    else if (!(r = calloc(1, sizeof(*r))) || (id && !(r->id = cJSON_Duplicate(id, true))))
        conn_send_error(c, id, "out of memory");
    else {
        r->conn = c;
        r->next = c->replies;
        if (c->replies)
            c->replies->prev = r;
        c->replies = r;
        c->pending++;
        struct ctl_server *s = c->server;
        if (!s->handler(s->opaque, cmd->valuestring, req, r))
            ctl_reply_error(r, "unknown command \"%.64s\"", cmd->valuestring);
        r = NULL; /* the handler's, or freed by ctl_reply_error */
    }
    free(r); /* only when the id could not be copied */
    cJSON_Delete(req);
}

/* Hands every complete line in c->in to handle_line; a line over the limit ends the session. */
static void conn_process(struct ctl_conn *c)
{
    size_t start = 0;
    while (!c->dead && !c->close_after_flush && !c->server->stopped) {
        char *nl = memchr(c->in + start, '\n', c->in_len - start);
        if (!nl)
            break;
        handle_line(c, c->in + start, (size_t)(nl - (c->in + start)));
        start = (size_t)(nl - c->in) + 1;
    }
    if (c->dead)
        return;
    memmove(c->in, c->in + start, c->in_len - start);
    c->in_len -= start;
    if (c->in_len > CTL_LINE_MAX && !c->close_after_flush) {
        char msg[96];
        snprintf(msg, sizeof(msg), "request line longer than %d bytes: closing the connection",
                 CTL_LINE_MAX);
        c->in_len = 0;
        c->close_after_flush = true;
        conn_send_error(c, NULL, msg);
    }
}

/* The client shut its side. A full close (POLLHUP: both directions gone) drops c at once so
 * that replies kept for it become no-ops; a half close (shutdown(SHUT_WR) after the request,
 * as `socat` does) keeps c until its pending replies are written. */
static void conn_on_eof(struct ctl_conn *c)
{
    c->read_eof = true;
    if (c->in_len && !c->close_after_flush) {
        /* A last request without its '\n' is still a request. */
        c->in[c->in_len] = '\n';
        c->in_len++;
        conn_process(c);
    }
    struct pollfd p = {.fd = c->fd, .events = POLLOUT};
    if (!c->dead && poll(&p, 1, 0) == 1 && (p.revents & (POLLHUP | POLLERR)))
        conn_close(c);
}

static void conn_read(struct ctl_conn *c)
{
    /* Room for CTL_LINE_MAX bytes, its '\n' and one more: a full buffer without '\n' is then
     * always over the limit. */
    if (c->in_cap - c->in_len < 2 && c->in_cap < CTL_LINE_MAX + 2) {
        size_t cap = c->in_cap ? c->in_cap * 2 : IN_INITIAL;
        if (cap > CTL_LINE_MAX + 2)
            cap = CTL_LINE_MAX + 2;
        char *p = realloc(c->in, cap);
        if (!p) {
            log_error(COMPONENT, "out of memory reading a request: disconnecting the client");
            conn_close(c);
            return;
        }
        c->in = p;
        c->in_cap = cap;
    }
    /* One byte stays free for the '\n' conn_on_eof may add. */
    ssize_t n = read(c->fd, c->in + c->in_len, c->in_cap - c->in_len - 1);
    if (n < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
            conn_close(c);
        return;
    }
    if (n == 0) {
        conn_on_eof(c);
        return;
    }
    c->in_len += (size_t)n;
    conn_process(c);
}

static void on_conn_event(struct event_loop *loop, int fd, unsigned events, void *arg)
{
    struct ctl_conn *c = arg;
    struct ctl_server *s = c->server;
    c->busy++;
    s->busy++;
    if (events & EVENT_WRITE)
        conn_flush(c);
    if (!c->dead && (events & EVENT_READ))
        conn_read(c);
    else if (!c->dead && (events & EVENT_ERROR))
        conn_close(c);
    conn_settle(c);
    c->busy--;
    s->busy--;
    if (c->dead && !c->busy)
        conn_free(c);
    if (s->stopped && !s->busy)
        server_free(s);
}

/* --- listening --------------------------------------------------------------------------- */

static void on_listen(struct event_loop *loop, int fd, unsigned events, void *arg);

static void on_accept_resume(struct event_loop *loop, struct event_timer *timer, void *arg)
{
    struct ctl_server *s = arg;
    event_watch_modify(s->listen_watch, EVENT_READ);
}

static void accept_one(struct ctl_server *s, int cfd)
{
    struct ucred cred;
    socklen_t len = sizeof(cred);
    if (getsockopt(cfd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
        log_warn(COMPONENT, "cannot read a client's credentials (%s): disconnected",
                 strerror(errno));
        close(cfd);
        return;
    }
    if (cred.uid != geteuid()) {
        log_warn(COMPONENT,
                 "refused a client of uid %u (pid %d): only uid %u may control this instance",
                 (unsigned)cred.uid, (int)cred.pid, (unsigned)geteuid());
        close(cfd);
        return;
    }
    if (s->n_conns >= CTL_MAX_CLIENTS) {
        log_warn(COMPONENT, "%d clients already connected: refused pid %d", CTL_MAX_CLIENTS,
                 (int)cred.pid);
        close(cfd);
        return;
    }
    struct ctl_conn *c = calloc(1, sizeof(*c));
    if (c) {
        c->server = s;
        c->fd = cfd;
        c->watch = event_loop_add_fd(s->loop, cfd, EVENT_READ, on_conn_event, c);
    }
    if (!c || !c->watch) {
        log_error(COMPONENT, "cannot serve a client: out of memory");
        free(c);
        close(cfd);
        return;
    }
    c->next = s->conns;
    if (s->conns)
        s->conns->prev = c;
    s->conns = c;
    s->n_conns++;
    log_debug(COMPONENT, "client connected pid=%d clients=%zu", (int)cred.pid, s->n_conns);
}

static void on_listen(struct event_loop *loop, int fd, unsigned events, void *arg)
{
    struct ctl_server *s = arg;
    for (int i = 0; i < ACCEPTS_PER_WAKEUP; i++) {
        int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (cfd >= 0) {
            accept_one(s, cfd);
            continue;
        }
        if (errno == EINTR || errno == ECONNABORTED)
            continue;
        if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
            log_warn(COMPONENT, "cannot accept clients (%s): pausing for %d ms", strerror(errno),
                     ACCEPT_PAUSE_MS);
            event_watch_modify(s->listen_watch, 0);
            event_timer_start(s->accept_pause, ACCEPT_PAUSE_MS, 0);
        }
        return;
    }
}

/* Is anyone listening on path? Returns 0 (nobody: the file is absent or stale and now removed),
 * or a negative errno with err filled. */
static int probe_path(const char *path, const struct sockaddr_un *addr, char *err, size_t err_size)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return errmsg_fail(err, err_size, -errno, "socket: %s", strerror(errno));
    int rc = connect(fd, (const struct sockaddr *)addr, sizeof(*addr)) == 0 ? 0 : errno;
    close(fd);
    /* EAGAIN: a listener whose backlog is full — still a listener. */
    if (rc == 0 || rc == EAGAIN || rc == EINPROGRESS)
        return errmsg_fail(err, err_size, -EADDRINUSE,
                           "another `agentcast live` is already running (answering on %s)", path);
    if (rc == ENOENT)
        return 0;
    if (rc != ECONNREFUSED)
        return errmsg_fail(err, err_size, -rc, "%s: %s", path, strerror(rc));
    struct stat st;
    if (lstat(path, &st) != 0)
        return errno == ENOENT
                   ? 0
                   : errmsg_fail(err, err_size, -errno, "%s: %s", path, strerror(errno));
    if (!S_ISSOCK(st.st_mode))
        return errmsg_fail(err, err_size, -EEXIST,
                           "%s exists and is not a socket: not replacing it", path);
    if (unlink(path) != 0 && errno != ENOENT)
        return errmsg_fail(err, err_size, -errno, "removing the stale socket %s: %s", path,
                           strerror(errno));
    log_info(COMPONENT, "removed a stale control socket path=%s", path);
    return 0;
}

/* Takes PATH.lock, which an instance holds for its whole life. */
static int take_lock(struct ctl_server *s, char *err, size_t err_size)
{
    char lock[CTL_PATH_MAX + 8];
    snprintf(lock, sizeof(lock), "%s.lock", s->path);
    s->lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (s->lock_fd < 0)
        return errmsg_fail(err, err_size, -errno, "%s: %s", lock, strerror(errno));
    if (flock(s->lock_fd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        if (e == EWOULDBLOCK)
            return errmsg_fail(err, err_size, -EADDRINUSE,
                               "another `agentcast live` is already running (it holds %s)", lock);
        return errmsg_fail(err, err_size, -e, "locking %s: %s", lock, strerror(e));
    }
    return 0;
}

static int bind_listen(struct ctl_server *s, const struct sockaddr_un *addr, char *err,
                       size_t err_size)
{
    s->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (s->listen_fd < 0)
        return errmsg_fail(err, err_size, -errno, "socket: %s", strerror(errno));
    if (bind(s->listen_fd, (const struct sockaddr *)addr, sizeof(*addr)) != 0)
        return errmsg_fail(err, err_size, errno == EADDRINUSE ? -EADDRINUSE : -errno,
                           "binding the control socket %s: %s", s->path, strerror(errno));
    /* Nobody can connect before listen(), so the mode is right before anyone could use it. */
    struct stat st;
    if (chmod(s->path, 0600) != 0 || lstat(s->path, &st) != 0) {
        int e = errno;
        unlink(s->path);
        return errmsg_fail(err, err_size, -e, "%s: %s", s->path, strerror(e));
    }
    s->dev = st.st_dev;
    s->ino = st.st_ino;
    if (listen(s->listen_fd, 16) != 0) {
        int e = errno;
        unlink(s->path);
        return errmsg_fail(err, err_size, -e, "listen on %s: %s", s->path, strerror(e));
    }
    return 0;
}

/* Removes the socket file only if it is still the one we bound (never another's). */
static void unlink_ours(struct ctl_server *s)
{
    struct stat st;
    if (s->ino && lstat(s->path, &st) == 0 && st.st_dev == s->dev && st.st_ino == s->ino)
        unlink(s->path);
    s->ino = 0;
}

static void server_release(struct ctl_server *s)
{
    event_watch_remove(s->listen_watch);
    s->listen_watch = NULL;
    event_timer_free(s->accept_pause);
    s->accept_pause = NULL;
    if (s->listen_fd >= 0) {
        unlink_ours(s);
        close(s->listen_fd);
    }
    s->listen_fd = -1;
    if (s->lock_fd >= 0)
        close(s->lock_fd); /* releases the flock */
    s->lock_fd = -1;
}

int ctl_server_start(struct event_loop *loop, const char *path, ctl_handler_fn handler,
                     void *opaque, struct ctl_server **out, char *err, size_t err_size)
{
    *out = NULL;
    if (!loop || !path || !path[0] || !handler)
        return errmsg_fail(err, err_size, -EINVAL, "ctl_server_start: missing argument");
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    size_t len = strlen(path);
    if (len >= sizeof(addr.sun_path))
        return errmsg_fail(
            err, err_size, -ENAMETOOLONG,
            "control socket path %s is longer than the %zu bytes a socket address holds", path,
            sizeof(addr.sun_path) - 1);
    memcpy(addr.sun_path, path, len + 1);
    struct ctl_server *s = calloc(1, sizeof(*s));
    if (!s)
        return errmsg_fail(err, err_size, -ENOMEM, "out of memory");
    s->loop = loop;
    s->handler = handler;
    s->opaque = opaque;
    s->listen_fd = -1;
    memcpy(s->path, path, len + 1);
    int rc = take_lock(s, err, err_size);
    if (rc == 0)
        rc = probe_path(path, &addr, err, err_size);
    if (rc == 0)
        rc = bind_listen(s, &addr, err, err_size);
    if (rc == 0) {
        s->accept_pause = event_timer_new(loop, on_accept_resume, s);
        s->listen_watch = event_loop_add_fd(loop, s->listen_fd, EVENT_READ, on_listen, s);
        if (!s->accept_pause || !s->listen_watch)
            rc = errmsg_fail(err, err_size, -ENOMEM, "out of memory");
    }
    if (rc) {
        server_release(s);
        free(s);
        return rc;
    }
    log_info(COMPONENT, "listening path=%s", path);
    *out = s;
    return 0;
}

void ctl_server_stop(struct ctl_server *server)
{
    if (!server || server->stopped)
        return;
    struct ctl_server *s = server;
    s->stopped = true;
    while (s->conns) {
        struct ctl_conn *c = s->conns;
        if (c->out_len)
            conn_flush(c); /* may close c itself */
        if (s->conns == c)
            conn_close(c);
    }
    server_release(s);
    if (!s->busy)
        server_free(s);
}

const char *ctl_server_path(const struct ctl_server *server)
{
    return server->path;
}

size_t ctl_server_client_count(const struct ctl_server *server)
{
    return server->n_conns;
}
