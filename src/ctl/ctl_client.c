/*
 * ctl_client — blocking one-request client of the control socket, for one-shot CLI commands
 * (`agentcast stop`) talking to a running `agentcast live` (server side: ctl_server.c).
 */
#include "ctl/ctl_client.h"

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/errmsg.h"
#include "ctl/ctl_path.h"
#include "ctl/ctl_server.h"

/* Milliseconds left until deadline_ns, at least 0 (poll's timeout). */
static int ms_left(int64_t deadline_ns)
{
    int64_t left = deadline_ns - clock_now_ns();
    if (left <= 0)
        return 0;
    int64_t ms = (left + NS_PER_MS - 1) / NS_PER_MS;
    return ms > INT32_MAX ? INT32_MAX : (int)ms;
}

/* Waits for events on fd until the deadline. Returns >0 ready, 0 timed out, <0 -errno. */
static int wait_fd(int fd, short events, int64_t deadline_ns)
{
    for (;;) {
        struct pollfd p = {.fd = fd, .events = events};
        int n = poll(&p, 1, ms_left(deadline_ns));
        if (n >= 0)
            return n;
        if (errno != EINTR)
            return -errno;
    }
}

static int check_peer(int fd, const char *path, char *err, size_t err_size)
{
    struct ucred cred;
    socklen_t len = sizeof(cred);
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0)
        return errmsg_fail(err, err_size, -errno, "%s: reading the server's credentials: %s", path,
                           strerror(errno));
    if (cred.uid != geteuid())
        return errmsg_fail(err, err_size, -EACCES,
                           "%s is served by uid %u, not by us (uid %u): refusing to talk to it",
                           path, (unsigned)cred.uid, (unsigned)geteuid());
    return 0;
}

/* Connects to path; *fd_out is a non-blocking connected socket on success. */
static int connect_to(const char *path, int64_t deadline_ns, int *fd_out, char *err,
                      size_t err_size)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    size_t len = strlen(path);
    if (len >= sizeof(addr.sun_path))
        return errmsg_fail(
            err, err_size, -ENAMETOOLONG,
            "control socket path %s is longer than the %zu bytes a socket address holds", path,
            sizeof(addr.sun_path) - 1);
    memcpy(addr.sun_path, path, len + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return errmsg_fail(err, err_size, -errno, "socket: %s", strerror(errno));
    int rc;
    for (;;) {
        rc = connect(fd, (const struct sockaddr *)&addr, sizeof(addr)) == 0 ? 0 : errno;
        /* EAGAIN: the listener's backlog is full; it is alive, so try again shortly. */
        if (rc != EAGAIN && rc != EINTR)
            break;
        if (ms_left(deadline_ns) == 0) {
            rc = ETIMEDOUT;
            break;
        }
        if (rc == EAGAIN)
            clock_sleep_until_ns(clock_now_ns() + 10 * NS_PER_MS);
    }
    if (rc == ENOENT || rc == ECONNREFUSED || rc == ENOTDIR)
        rc = errmsg_fail(err, err_size, -ENOENT,
                         "no running `agentcast live` (nothing listening on %s)", path);
    else if (rc == EACCES || rc == EPERM)
        rc = errmsg_fail(err, err_size, -EACCES,
                         "%s: permission denied (is `agentcast live` running as another user?)",
                         path);
    else if (rc == ETIMEDOUT)
        rc = errmsg_fail(err, err_size, -ETIMEDOUT, "%s: connect timed out", path);
    else if (rc)
        rc = errmsg_fail(err, err_size, -rc, "connecting to %s: %s", path, strerror(rc));
    else
        rc = check_peer(fd, path, err, err_size);
    if (rc) {
        close(fd);
        return rc;
    }
    *fd_out = fd;
    return 0;
}

static int send_all(int fd, const char *buf, size_t len, int64_t deadline_ns, const char *path,
                    char *err, size_t err_size)
{
    size_t done = 0;
    while (done < len) {
        ssize_t n = send(fd, buf + done, len - done, MSG_NOSIGNAL);
        if (n > 0) {
            done += (size_t)n;
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
            int w = wait_fd(fd, POLLOUT, deadline_ns);
            if (w == 0)
                return errmsg_fail(err, err_size, -ETIMEDOUT, "%s: sending the request timed out",
                                   path);
            if (w < 0)
                return errmsg_fail(err, err_size, w, "%s: %s", path, strerror(-w));
            continue;
        }
        return errmsg_fail(err, err_size, -ECONNRESET,
                           "`agentcast live` hung up on %s before taking the request", path);
    }
    return 0;
}

/* Reads up to the first '\n' into *line_out (malloc'd, NUL-terminated, no '\n'). */
static int read_line(int fd, int64_t deadline_ns, const char *path, char **line_out, char *err,
                     size_t err_size)
{
    size_t cap = CTL_LINE_MAX + 2, len = 0;
    char *buf = malloc(cap);
    if (!buf)
        return errmsg_fail(err, err_size, -ENOMEM, "out of memory");
    int rc = 0;
    for (;;) {
        char *nl = len ? memchr(buf, '\n', len) : NULL;
        if (nl) {
            *nl = '\0';
            break;
        }
        if (len > CTL_LINE_MAX) {
            rc = errmsg_fail(err, err_size, -EPROTO, "%s: reply line longer than %d bytes", path,
                             CTL_LINE_MAX);
            break;
        }
        ssize_t n = read(fd, buf + len, cap - 1 - len);
        if (n > 0) {
            len += (size_t)n;
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
            int w = wait_fd(fd, POLLIN, deadline_ns);
            if (w == 0)
                rc = errmsg_fail(err, err_size, -ETIMEDOUT,
                                 "no reply from `agentcast live` on %s in time", path);
            else if (w < 0)
                rc = errmsg_fail(err, err_size, w, "%s: %s", path, strerror(-w));
            if (w <= 0)
                break;
            continue;
        }
        rc = errmsg_fail(err, err_size, -ECONNRESET,
                         "`agentcast live` closed the connection on %s before replying", path);
        break;
    }
    if (rc) {
        free(buf);
        return rc;
    }
    *line_out = buf;
    return 0;
}

static int exchange(const char *path, const char *text, int64_t deadline_ns, cJSON **response,
                    char *err, size_t err_size)
{
    int fd = -1;
    int rc = connect_to(path, deadline_ns, &fd, err, err_size);
    if (rc)
        return rc;
    char *line = NULL;
    rc = send_all(fd, text, strlen(text), deadline_ns, path, err, err_size);
    if (rc == 0)
        rc = read_line(fd, deadline_ns, path, &line, err, err_size);
    close(fd);
    if (rc)
        return rc;
    cJSON *obj = cJSON_Parse(line);
    free(line);
    if (!cJSON_IsObject(obj)) {
        cJSON_Delete(obj);
        return errmsg_fail(err, err_size, -EPROTO, "%s: the reply is not a JSON object", path);
    }
    *response = obj;
    return 0;
}

int ctl_client_request(const char *path, const cJSON *request, int timeout_ms, cJSON **response,
                       char *err, size_t err_size)
{
    *response = NULL;
    int64_t deadline_ns = clock_now_ns() + (int64_t)(timeout_ms > 0 ? timeout_ms : 0) * NS_PER_MS;
    char *body = cJSON_PrintUnformatted(request);
    if (!body)
        return errmsg_fail(err, err_size, -ENOMEM, "out of memory");
    size_t len = strlen(body);
    if (len > CTL_LINE_MAX) {
        cJSON_free(body);
        return errmsg_fail(err, err_size, -EMSGSIZE, "request longer than %d bytes", CTL_LINE_MAX);
    }
    char *text = malloc(len + 2);
    if (!text) {
        cJSON_free(body);
        return errmsg_fail(err, err_size, -ENOMEM, "out of memory");
    }
    memcpy(text, body, len);
    memcpy(text + len, "\n", 2);
    cJSON_free(body);

    int rc;
    if (path) {
        rc = exchange(path, text, deadline_ns, response, err, err_size);
    } else {
        char first[CTL_PATH_MAX], second[CTL_PATH_MAX];
        rc = ctl_path_default(NULL, first, sizeof(first), err, err_size);
        if (rc == 0)
            rc = exchange(first, text, deadline_ns, response, err, err_size);
        /* A service without a login session binds the HOME fallback (see ctl_path.h). */
        if (rc == -ENOENT && ctl_path_fallback(NULL, second, sizeof(second), NULL, 0) == 0 &&
            strcmp(first, second) != 0) {
            rc = exchange(second, text, deadline_ns, response, err, err_size);
            if (rc == -ENOENT)
                errmsg_fail(err, err_size, -ENOENT,
                            "no running `agentcast live` (nothing listening on %s nor on %s)",
                            first, second);
        }
    }
    free(text);
    return rc;
}

int ctl_client_command(const char *path, const char *cmd, int timeout_ms, cJSON **response,
                       char *err, size_t err_size)
{
    *response = NULL;
    cJSON *req = cJSON_CreateObject();
    if (!req || !cJSON_AddStringToObject(req, "cmd", cmd)) {
        cJSON_Delete(req);
        return errmsg_fail(err, err_size, -ENOMEM, "out of memory");
    }
    int rc = ctl_client_request(path, req, timeout_ms, response, err, err_size);
    cJSON_Delete(req);
    return rc;
}

const char *ctl_client_reply_error(const cJSON *response)
{
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(response, "ok")))
        return NULL;
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(response, "error");
    return cJSON_IsString(e) ? e->valuestring
                             : "the instance refused the request (no reason given)";
}
