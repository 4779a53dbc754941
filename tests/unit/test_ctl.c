/*
 * test_ctl — the control socket (src/ctl/): default paths, the JSON-lines server inside the
 * event loop, and the blocking one-shot client that `agentcast stop` uses.
 *
 * DESIGN.md §2: "Control plane (one thread, one event loop: … the control socket …)" and §1:
 * agents "drive a running instance from a shell … or through its control socket". Protocol
 * (ctl_server.h): one JSON object per line, UTF-8, at most 64 KiB per line, over a Unix stream
 * socket.
 *
 * The server runs on this thread's event loop (event_loop_run_until); clients are either raw
 * sockets driven from this thread between loop runs, or ctl_client in a second thread.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include <cjson/cJSON.h>

#include "core/clock.h"
#include "core/event_loop.h"
#include "ctl/ctl_client.h"
#include "ctl/ctl_path.h"
#include "ctl/ctl_server.h"

#define MAX_KEPT 32

struct fx {
    struct event_loop *loop;
    struct ctl_server *srv;
    char dir[64];
    char path[CTL_PATH_MAX];
    int calls;
    bool handled;
    struct ctl_reply *kept[MAX_KEPT];
    int n_kept;
};

static int64_t in_ms(int ms)
{
    return clock_now_ns() + (int64_t)ms * NS_PER_MS;
}

/* The live side's handler, reduced to commands that exercise every way of answering. */
static bool handler(void *opaque, const char *cmd, const cJSON *req, struct ctl_reply *reply)
{
    struct fx *f = opaque;
    f->calls++;
    f->handled = true;
    if (strcmp(cmd, "echo") == 0) {
        cJSON *resp = cJSON_CreateObject();
        const cJSON *arg = cJSON_GetObjectItemCaseSensitive(req, "arg");
        assert_non_null(resp);
        if (arg)
            cJSON_AddItemToObject(resp, "echo", cJSON_Duplicate(arg, true));
        assert_int_equal(ctl_reply_send(reply, resp), 0);
    } else if (strcmp(cmd, "ping") == 0) {
        assert_int_equal(ctl_reply_send(reply, NULL), 0);
    } else if (strcmp(cmd, "defer") == 0) {
        assert_true(f->n_kept < MAX_KEPT);
        f->kept[f->n_kept++] = reply;
    } else if (strcmp(cmd, "refuse") == 0) {
        assert_int_equal(ctl_reply_error(reply, "refused: %d", 42), 0);
    } else if (strcmp(cmd, "big") == 0) {
        char *s = malloc(CTL_LINE_MAX + 1);
        assert_non_null(s);
        memset(s, 'b', CTL_LINE_MAX);
        s[CTL_LINE_MAX] = '\0';
        cJSON *resp = cJSON_CreateObject();
        cJSON_AddStringToObject(resp, "blob", s);
        free(s);
        assert_int_equal(ctl_reply_send(reply, resp), -EMSGSIZE);
    } else if (strcmp(cmd, "quit") == 0) {
        cJSON *resp = cJSON_CreateObject();
        cJSON_AddTrueToObject(resp, "bye");
        assert_int_equal(ctl_reply_send(reply, resp), 0);
        ctl_server_stop(f->srv);
        f->srv = NULL;
    } else {
        return false;
    }
    return true;
}

static int rm_entry(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove(p);
}

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    strcpy(f->dir, "/tmp/test_ctl-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof(f->path), "%s/live.sock", f->dir);
    f->loop = event_loop_new();
    assert_non_null(f->loop);
    char err[256] = "";
    assert_int_equal(ctl_server_start(f->loop, f->path, handler, f, &f->srv, err, sizeof(err)), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    ctl_server_stop(f->srv);
    for (int i = 0; i < f->n_kept; i++)
        ctl_reply_discard(f->kept[i]);
    event_loop_free(f->loop);
    nftw(f->dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

/* --- raw clients, driven between loop runs ----------------------------------------------- */

static int raw_connect(const char *path)
{
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    return fd;
}

static void write_str(int fd, const char *s)
{
    assert_int_equal(write(fd, s, strlen(s)), (ssize_t)strlen(s));
}

static void flag_readable(struct event_loop *loop, int fd, unsigned events, void *arg)
{
    *(bool *)arg = true;
}

/* Runs the server's loop until fd (a client) has something to read, or ms pass. */
static bool pump_until_readable(struct fx *f, int fd, int ms)
{
    bool ready = false;
    struct event_watch *w = event_loop_add_fd(f->loop, fd, EVENT_READ, flag_readable, &ready);
    assert_non_null(w);
    int rc = event_loop_run_until(f->loop, &ready, in_ms(ms));
    event_watch_remove(w);
    return rc == 0;
}

/* Runs the loop for ms whatever happens. */
static void pump_for(struct fx *f, int ms)
{
    bool never = false;
    assert_int_equal(event_loop_run_until(f->loop, &never, in_ms(ms)), -ETIMEDOUT);
}

/* Sends all of data from a non-blocking client, running the loop while the socket is full.
 * Returns the bytes sent before the server hung up. */
static size_t send_pumping(struct fx *f, int fd, const char *data, size_t len)
{
    size_t done = 0;
    int64_t deadline = in_ms(3000);
    while (done < len && clock_now_ns() < deadline) {
        ssize_t n = send(fd, data + done, len - done, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n > 0)
            done += (size_t)n;
        else if (n < 0 && errno == EAGAIN)
            pump_for(f, 5);
        else
            break;
    }
    return done;
}

/* The next reply line on fd, parsed; NULL when the server closed the connection instead. */
static cJSON *next_reply(struct fx *f, int fd)
{
    static char buf[CTL_LINE_MAX + 64];
    int64_t deadline = in_ms(3000);
    while (clock_now_ns() < deadline) {
        ssize_t n = recv(fd, buf, sizeof(buf) - 1, MSG_PEEK | MSG_DONTWAIT);
        if (n == 0 || (n < 0 && errno == ECONNRESET))
            return NULL;
        char *nl = n > 0 ? memchr(buf, '\n', (size_t)n) : NULL;
        if (nl) {
            size_t len = (size_t)(nl - buf) + 1;
            assert_int_equal(recv(fd, buf, len, 0), (ssize_t)len);
            buf[len - 1] = '\0';
            cJSON *j = cJSON_Parse(buf);
            assert_non_null(j);
            return j;
        }
        pump_until_readable(f, fd, 50);
    }
    fail_msg("no reply within 3 s");
    return NULL;
}

static cJSON *roundtrip(struct fx *f, int fd, const char *line)
{
    assert_int_equal(send_pumping(f, fd, line, strlen(line)), strlen(line));
    return next_reply(f, fd);
}

static void assert_error_reply(cJSON *r, const char *needle)
{
    assert_non_null(r);
    assert_true(cJSON_IsFalse(cJSON_GetObjectItem(r, "ok")));
    const cJSON *e = cJSON_GetObjectItem(r, "error");
    assert_true(cJSON_IsString(e));
    if (!strstr(e->valuestring, needle))
        fail_msg("error \"%s\" does not contain \"%s\"", e->valuestring, needle);
    cJSON_Delete(r);
}

static bool nothing_to_read(int fd)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    return poll(&p, 1, 0) == 0;
}

/* --- ctl_client in a thread -------------------------------------------------------------- */

struct job {
    struct fx *f;
    const char *path;
    const char *json; /* the request */
    int timeout_ms;
    int rc;
    cJSON *resp;
    char err[512];
    bool done;
    pthread_t th;
};

static void job_done(void *arg)
{
    ((struct job *)arg)->done = true;
}

static void *job_main(void *arg)
{
    struct job *j = arg;
    cJSON *req = cJSON_Parse(j->json);
    j->rc = ctl_client_request(j->path, req, j->timeout_ms, &j->resp, j->err, sizeof(j->err));
    cJSON_Delete(req);
    while (event_loop_post(j->f->loop, job_done, j) == -EAGAIN)
        usleep(1000);
    return NULL;
}

static void job_start(struct job *j, struct fx *f, const char *path, const char *json,
                      int timeout_ms)
{
    memset(j, 0, sizeof(*j));
    j->f = f;
    j->path = path;
    j->json = json;
    j->timeout_ms = timeout_ms;
    assert_int_equal(pthread_create(&j->th, NULL, job_main, j), 0);
}

static void job_finish(struct job *j)
{
    assert_int_equal(event_loop_run_until(j->f->loop, &j->done, in_ms(5000)), 0);
    pthread_join(j->th, NULL);
}

/* --- ctl_path ------------------------------------------------------------------------------ */

/* ctl_path.h: "$XDG_RUNTIME_DIR/agentcast/NAME.sock when XDG_RUNTIME_DIR is set (an absolute
 * path); $HOME/.cache/agentcast/NAME.sock otherwise". */
static void test_path_default(void **state)
{
    char out[CTL_PATH_MAX], err[256];
    setenv("HOME", "/home/agent", 1);
    setenv("XDG_RUNTIME_DIR", "/run/user/1000", 1);
    assert_int_equal(ctl_path_default(NULL, out, sizeof(out), err, sizeof(err)), 0);
    assert_string_equal(out, "/run/user/1000/agentcast/live.sock");
    assert_int_equal(ctl_path_default("bot-2.a_b", out, sizeof(out), err, sizeof(err)), 0);
    assert_string_equal(out, "/run/user/1000/agentcast/bot-2.a_b.sock");
    assert_int_equal(ctl_path_fallback("", out, sizeof(out), err, sizeof(err)), 0);
    assert_string_equal(out, "/home/agent/.cache/agentcast/live.sock");

    /* The XDG spec: a relative XDG_RUNTIME_DIR must be ignored. */
    setenv("XDG_RUNTIME_DIR", "run/user/1000", 1);
    assert_int_equal(ctl_path_default(NULL, out, sizeof(out), err, sizeof(err)), 0);
    assert_string_equal(out, "/home/agent/.cache/agentcast/live.sock");
    unsetenv("XDG_RUNTIME_DIR");
    assert_int_equal(ctl_path_default("x", out, sizeof(out), err, sizeof(err)), 0);
    assert_string_equal(out, "/home/agent/.cache/agentcast/x.sock");

    /* 107 bytes is the most a socket address holds. */
    char home[128];
    memset(home, 'h', sizeof(home));
    home[0] = '/';
    home[107 - strlen("/.cache/agentcast/live.sock")] = '\0';
    setenv("HOME", home, 1);
    assert_int_equal(ctl_path_default(NULL, out, sizeof(out), err, sizeof(err)), 0);
    assert_int_equal(strlen(out), 107);
    strcat(home, "h");
    setenv("HOME", home, 1);
    assert_int_equal(ctl_path_default(NULL, out, sizeof(out), err, sizeof(err)), -ENAMETOOLONG);
    assert_non_null(strstr(err, "longer than"));
    setenv("HOME", "/home/agent", 1);
    assert_int_equal(ctl_path_default(NULL, out, 20, err, sizeof(err)), -ENAMETOOLONG);
}

/* ctl_path.h: "Instance names: 1–64 of [A-Za-z0-9._-], not starting with '.'". */
static void test_path_names(void **state)
{
    char out[CTL_PATH_MAX], err[256];
    setenv("XDG_RUNTIME_DIR", "/run/user/0", 1);
    const char *bad[] = {"../x", "a/b", ".hidden", "sp ace", "é"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(ctl_path_default(bad[i], out, sizeof(out), err, sizeof(err)), -EINVAL);
        assert_non_null(strstr(err, "bad instance name"));
    }
    char name[CTL_NAME_MAX + 2];
    memset(name, 'n', sizeof(name));
    name[CTL_NAME_MAX] = '\0';
    assert_int_equal(ctl_path_default(name, out, sizeof(out), err, sizeof(err)), 0);
    name[CTL_NAME_MAX] = 'n';
    name[CTL_NAME_MAX + 1] = '\0';
    assert_int_equal(ctl_path_default(name, out, sizeof(out), err, sizeof(err)), -EINVAL);
    unsetenv("XDG_RUNTIME_DIR");
}

/* ctl_path.h: "missing components are created 0700; the last one must be a directory owned by
 * the effective uid and not writable by group or others". */
static void test_path_prepare_dir(void **state)
{
    struct fx *f = *state;
    char path[CTL_PATH_MAX + 16], dir[CTL_PATH_MAX], err[256];
    snprintf(dir, sizeof(dir), "%s/a/agentcast", f->dir);
    snprintf(path, sizeof(path), "%s/live.sock", dir);
    mode_t old = umask(0);
    assert_int_equal(ctl_path_prepare_dir(path, err, sizeof(err)), 0);
    umask(old);
    struct stat st;
    assert_int_equal(stat(dir, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    assert_int_equal(st.st_mode & 0777, 0700);
    assert_int_equal(ctl_path_prepare_dir(path, err, sizeof(err)), 0); /* exists: fine */

    assert_int_equal(chmod(dir, 0777), 0);
    assert_int_equal(ctl_path_prepare_dir(path, err, sizeof(err)), -EPERM);
    assert_non_null(strstr(err, "chmod 700"));
    assert_int_equal(chmod(dir, 0700), 0);

    if (geteuid() == 0) {
        assert_int_equal(chown(dir, 65534, 65534), 0);
        assert_int_equal(ctl_path_prepare_dir(path, err, sizeof(err)), -EPERM);
        assert_non_null(strstr(err, "belongs to uid 65534"));
    }
    /* A file where the directory should be. */
    snprintf(dir, sizeof(dir), "%s/file", f->dir);
    int fd = open(dir, O_CREAT | O_WRONLY, 0600);
    assert_true(fd >= 0);
    close(fd);
    snprintf(path, sizeof(path), "%s/file/x.sock", f->dir);
    assert_int_not_equal(ctl_path_prepare_dir(path, err, sizeof(err)), 0);
}

/* --- request / reply ----------------------------------------------------------------------- */

/* ctl_server.h: "{"ok":true, …results…} or {"ok":false,"error":"why"} with the request's "id"
 * copied into the reply when it had one". */
static void test_client_request_reply(void **state)
{
    struct fx *f = *state;
    struct job j;
    job_start(&j, f, f->path, "{\"cmd\":\"echo\",\"arg\":{\"n\":[1,2]},\"id\":7}", 2000);
    job_finish(&j);
    assert_int_equal(j.rc, 0);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(j.resp, "ok")));
    assert_null(ctl_client_reply_error(j.resp));
    assert_int_equal(cJSON_GetObjectItem(j.resp, "id")->valueint, 7);
    const cJSON *n = cJSON_GetObjectItem(cJSON_GetObjectItem(j.resp, "echo"), "n");
    assert_int_equal(cJSON_GetArraySize(n), 2);
    assert_int_equal(cJSON_GetArrayItem(n, 1)->valueint, 2);
    cJSON_Delete(j.resp);

    job_start(&j, f, f->path, "{\"cmd\":\"refuse\"}", 2000);
    job_finish(&j);
    assert_int_equal(j.rc, 0); /* a refusal is still a reply */
    assert_string_equal(ctl_client_reply_error(j.resp), "refused: 42");
    assert_null(cJSON_GetObjectItem(j.resp, "id"));
    cJSON_Delete(j.resp);
    assert_int_equal(f->calls, 2);
    assert_int_equal(ctl_server_client_count(f->srv), 0);
    assert_string_equal(ctl_server_path(f->srv), f->path);
}

/* Brief: "clear error when no live instance: "no running `agentcast live` (nothing listening on
 * PATH)"". Both a missing file and a stale socket file with nobody listening. */
static void test_client_no_listener(void **state)
{
    struct fx *f = *state;
    char path[CTL_PATH_MAX], err[512], want[512];
    cJSON *resp = (cJSON *)1;
    snprintf(path, sizeof(path), "%s/nobody.sock", f->dir);
    assert_int_equal(ctl_client_command(path, "stop", 1000, &resp, err, sizeof(err)), -ENOENT);
    assert_null(resp);
    snprintf(want, sizeof(want), "no running `agentcast live` (nothing listening on %s)", path);
    assert_string_equal(err, want);

    struct sockaddr_un a = {.sun_family = AF_UNIX};
    snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    close(fd); /* the file stays, nobody listens */
    err[0] = '\0';
    assert_int_equal(ctl_client_command(path, "stop", 1000, &resp, err, sizeof(err)), -ENOENT);
    assert_string_equal(err, want);

    /* No path: the default, then its HOME fallback; both named. */
    setenv("XDG_RUNTIME_DIR", f->dir, 1);
    setenv("HOME", f->dir, 1);
    assert_int_equal(ctl_client_command(NULL, "stop", 1000, &resp, err, sizeof(err)), -ENOENT);
    assert_non_null(strstr(err, "/agentcast/live.sock nor on "));
    assert_non_null(strstr(err, "/.cache/agentcast/live.sock)"));
    unsetenv("XDG_RUNTIME_DIR");
}

/* The default path is found without being told, on the fallback too (a service without
 * XDG_RUNTIME_DIR, a shell with it). */
static void test_client_default_path_fallback(void **state)
{
    struct fx *f = *state;
    char path[CTL_PATH_MAX], err[512];
    struct ctl_server *srv = NULL;
    unsetenv("XDG_RUNTIME_DIR");
    setenv("HOME", f->dir, 1);
    assert_int_equal(ctl_path_default(NULL, path, sizeof(path), err, sizeof(err)), 0);
    assert_int_equal(ctl_path_prepare_dir(path, err, sizeof(err)), 0);
    assert_int_equal(ctl_server_start(f->loop, path, handler, f, &srv, err, sizeof(err)), 0);
    setenv("XDG_RUNTIME_DIR", f->dir, 1); /* the shell has one; nobody listens there */
    struct job j;
    job_start(&j, f, NULL, "{\"cmd\":\"ping\"}", 2000);
    job_finish(&j);
    assert_int_equal(j.rc, 0);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(j.resp, "ok")));
    cJSON_Delete(j.resp);
    ctl_server_stop(srv);
    unsetenv("XDG_RUNTIME_DIR");
}

/* --- deferred replies ---------------------------------------------------------------------- */

static void send_kept(struct event_loop *loop, struct event_timer *t, void *arg)
{
    struct fx *f = arg;
    cJSON *resp = cJSON_CreateObject();
    cJSON *fin = cJSON_AddObjectToObject(resp, "final");
    cJSON_AddNumberToObject(fin, "frames", 3);
    assert_int_equal(ctl_reply_send(f->kept[0], resp), 0);
    f->kept[0] = NULL;
    f->n_kept = 0;
    event_timer_free(t);
}

/* Brief: "the handler may answer … later (keep the reply and send when an async operation
 * finishes, e.g. stop answers after stream/stop returned)" — the shape of `agentcast stop`. */
static void test_deferred_reply(void **state)
{
    struct fx *f = *state;
    struct job j;
    int64_t t0 = clock_now_ns();
    job_start(&j, f, f->path, "{\"cmd\":\"defer\"}", 3000);
    assert_int_equal(event_loop_run_until(f->loop, &f->handled, in_ms(2000)), 0);
    assert_int_equal(f->n_kept, 1);
    assert_true(ctl_reply_connected(f->kept[0]));
    struct event_timer *t = event_timer_new(f->loop, send_kept, f);
    event_timer_start(t, 150, 0);
    job_finish(&j);
    assert_true(clock_now_ns() - t0 >= 150 * NS_PER_MS);
    assert_int_equal(j.rc, 0);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(j.resp, "ok")));
    assert_int_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(j.resp, "final"), "frames")->valueint,
                     3);
    cJSON_Delete(j.resp);
}

/* ctl_server.h: "A client may send several requests on one connection without waiting; replies
 * come in the order the handler answers them". */
static void test_deferred_reply_overtaken(void **state)
{
    struct fx *f = *state;
    int fd = raw_connect(f->path);
    const char *two =
        "{\"cmd\":\"defer\",\"id\":\"slow\"}\n{\"cmd\":\"echo\",\"arg\":1,\"id\":\"fast\"}\n";
    assert_int_equal(send_pumping(f, fd, two, strlen(two)), strlen(two));
    cJSON *r = next_reply(f, fd);
    assert_string_equal(cJSON_GetObjectItem(r, "id")->valuestring, "fast");
    cJSON_Delete(r);
    assert_int_equal(f->n_kept, 1);
    assert_true(nothing_to_read(fd));
    cJSON *resp = cJSON_CreateObject();
    cJSON_AddStringToObject(resp, "id", "forged"); /* the request's id wins */
    assert_int_equal(ctl_reply_send(f->kept[0], resp), 0);
    f->n_kept = 0;
    r = next_reply(f, fd);
    assert_string_equal(cJSON_GetObjectItem(r, "id")->valuestring, "slow");
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(r, "ok")));
    cJSON_Delete(r);
    close(fd);
}

static void flag_no_clients(struct event_loop *loop, struct event_timer *t, void *arg)
{
    struct fx *f = arg;
    if (ctl_server_client_count(f->srv) == 0)
        f->handled = true;
}

/* Brief: replies must "survive the client disconnecting: then the send is a no-op and the reply
 * is freed" (ASan checks the freeing). */
static void test_disconnect_before_deferred_reply(void **state)
{
    struct fx *f = *state;
    int fd = raw_connect(f->path);
    write_str(fd, "{\"cmd\":\"defer\",\"id\":1}\n");
    assert_int_equal(event_loop_run_until(f->loop, &f->handled, in_ms(2000)), 0);
    assert_int_equal(f->n_kept, 1);
    assert_int_equal(ctl_server_client_count(f->srv), 1);
    close(fd);
    f->handled = false;
    struct event_timer *t = event_timer_new(f->loop, flag_no_clients, f);
    event_timer_start(t, 5, 5);
    assert_int_equal(event_loop_run_until(f->loop, &f->handled, in_ms(2000)), 0);
    event_timer_free(t);
    assert_false(ctl_reply_connected(f->kept[0]));
    cJSON *resp = cJSON_CreateObject();
    assert_int_equal(ctl_reply_send(f->kept[0], resp), -ENOTCONN);
    f->n_kept = 0;
}

/* A client that shuts down only its sending side after the request (as `socat` does) still gets
 * its deferred reply, and is then hung up on. */
static void test_half_close_keeps_deferred_reply(void **state)
{
    struct fx *f = *state;
    int fd = raw_connect(f->path);
    /* The last request may lack its '\n' when the client half-closes. */
    write_str(fd, "{\"cmd\":\"defer\"}");
    assert_int_equal(shutdown(fd, SHUT_WR), 0);
    assert_int_equal(event_loop_run_until(f->loop, &f->handled, in_ms(2000)), 0);
    pump_for(f, 50);
    assert_int_equal(ctl_server_client_count(f->srv), 1);
    assert_true(ctl_reply_connected(f->kept[0]));
    assert_int_equal(ctl_reply_send(f->kept[0], NULL), 0);
    f->n_kept = 0;
    cJSON *r = next_reply(f, fd);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(r, "ok")));
    cJSON_Delete(r);
    assert_null(next_reply(f, fd)); /* then the end */
    assert_int_equal(ctl_server_client_count(f->srv), 0);
    close(fd);
}

/* Brief: the client waits "for one reply line with a timeout". */
static void test_client_timeout(void **state)
{
    struct fx *f = *state;
    struct job j;
    int64_t t0 = clock_now_ns();
    job_start(&j, f, f->path, "{\"cmd\":\"defer\"}", 200);
    job_finish(&j);
    int64_t ms = (clock_now_ns() - t0) / NS_PER_MS;
    assert_int_equal(j.rc, -ETIMEDOUT);
    assert_null(j.resp);
    assert_non_null(strstr(j.err, "no reply"));
    assert_true(ms >= 190 && ms < 1500);
    assert_int_equal(f->n_kept, 1);
    pump_for(f, 30); /* the server notices the client left */
    assert_int_equal(ctl_reply_send(f->kept[0], NULL), -ENOTCONN);
    f->n_kept = 0;
}

/* ctl_server.h: at most CTL_MAX_PENDING requests of one connection wait for a reply. */
static void test_too_many_pending(void **state)
{
    struct fx *f = *state;
    int fd = raw_connect(f->path);
    for (int i = 0; i < CTL_MAX_PENDING; i++)
        write_str(fd, "{\"cmd\":\"defer\"}\n");
    cJSON *r = roundtrip(f, fd, "{\"cmd\":\"defer\",\"id\":99}\n");
    assert_int_equal(cJSON_GetObjectItem(r, "id")->valueint, 99);
    assert_error_reply(r, "too many requests");
    assert_int_equal(f->n_kept, CTL_MAX_PENDING);
    /* Answering one makes room again. */
    assert_int_equal(ctl_reply_send(f->kept[--f->n_kept], NULL), 0);
    r = next_reply(f, fd);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(r, "ok")));
    cJSON_Delete(r);
    assert_int_equal(send_pumping(f, fd, "{\"cmd\":\"defer\"}\n", 16), 16);
    pump_for(f, 30);
    assert_int_equal(f->n_kept, CTL_MAX_PENDING);
    close(fd);
}

/* --- bad input ----------------------------------------------------------------------------- */

/* Brief: "Malformed JSON, lines over the limit, unknown "cmd" → an error reply
 * {"ok":false,"error":"…"} and the connection stays usable (except over-long lines: close)". */
static void test_malformed_lines_keep_connection(void **state)
{
    struct fx *f = *state;
    int fd = raw_connect(f->path);
    assert_error_reply(roundtrip(f, fd, "not json\n"), "not valid JSON");
    assert_error_reply(roundtrip(f, fd, "{\"cmd\":\"echo\"\n"), "not valid JSON");
    assert_error_reply(roundtrip(f, fd, "[1,2]\n"), "must be a JSON object");
    assert_error_reply(roundtrip(f, fd, "{\"nocmd\":1}\n"), "no \"cmd\" string");
    assert_error_reply(roundtrip(f, fd, "{\"cmd\":5}\n"), "no \"cmd\" string");
    assert_error_reply(roundtrip(f, fd, "{\"cmd\":\"\"}\n"), "no \"cmd\" string");
    assert_error_reply(roundtrip(f, fd, "{\"cmd\":\"echo\"} {\"cmd\":\"echo\"}\n"),
                       "more than one JSON value");
    assert_error_reply(roundtrip(f, fd, "{\"cmd\":\"echo\",\"arg\":\"\xff\"}\n"), "UTF-8");
    assert_error_reply(roundtrip(f, fd, "{\"cmd\":\"echo\",\"arg\":\"\xed\xa0\x80\"}\n"), "UTF-8");
    assert_error_reply(roundtrip(f, fd, "{\"cmd\":\"echo\",\"arg\":\"\xc0\xaf\"}\n"), "UTF-8");
    static const char nul[] = "{\"cmd\":\"echo\"}\0\n";
    assert_int_equal(send_pumping(f, fd, nul, sizeof(nul) - 1), sizeof(nul) - 1);
    assert_error_reply(next_reply(f, fd), "NUL");
    assert_int_equal(f->calls, 0);

    /* Blank lines are ignored; CRLF and valid UTF-8 are fine; the connection still works. */
    cJSON *r =
        roundtrip(f, fd, "\n  \r\n{\"cmd\":\"echo\",\"arg\":\"h\xc3\xa9\xf0\x9f\x93\xba\"}\r\n");
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(r, "ok")));
    assert_string_equal(cJSON_GetObjectItem(r, "echo")->valuestring, "h\xc3\xa9\xf0\x9f\x93\xba");
    cJSON_Delete(r);
    assert_int_equal(f->calls, 1);
    close(fd);
}

static void test_unknown_command(void **state)
{
    struct fx *f = *state;
    int fd = raw_connect(f->path);
    cJSON *r = roundtrip(f, fd, "{\"cmd\":\"frobnicate\",\"id\":3}\n");
    assert_int_equal(cJSON_GetObjectItem(r, "id")->valueint, 3);
    assert_error_reply(r, "unknown command \"frobnicate\"");
    assert_int_equal(f->calls, 1); /* the handler was asked and said no */
    r = roundtrip(f, fd, "{\"cmd\":\"ping\"}\n");
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(r, "ok")));
    cJSON_Delete(r);
    close(fd);
}

/* A request of exactly CTL_LINE_MAX bytes before its '\n' is served. */
static char *line_of_size(size_t size)
{
    const char *head = "{\"cmd\":\"ping\",\"pad\":\"";
    char *s = malloc(size + 2);
    assert_non_null(s);
    memset(s, 'p', size);
    memcpy(s, head, strlen(head));
    memcpy(s + size - 2, "\"}", 2);
    s[size] = '\n';
    s[size + 1] = '\0';
    return s;
}

/* Protocol: "max 64 KiB per line"; over-long lines: error reply, then close. */
static void test_line_limit(void **state)
{
    struct fx *f = *state;
    int fd = raw_connect(f->path);
    fcntl(fd, F_SETFL, O_NONBLOCK);
    char *s = line_of_size(CTL_LINE_MAX);
    cJSON *r = roundtrip(f, fd, s);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(r, "ok")));
    cJSON_Delete(r);
    free(s);
    assert_int_equal(f->calls, 1);

    s = line_of_size(CTL_LINE_MAX + 1);
    send_pumping(f, fd, s, CTL_LINE_MAX + 2);
    free(s);
    assert_error_reply(next_reply(f, fd), "longer than 65536 bytes");
    assert_null(next_reply(f, fd)); /* closed */
    assert_int_equal(f->calls, 1);
    close(fd);
    pump_for(f, 20);
    assert_int_equal(ctl_server_client_count(f->srv), 0);
}

static void test_reply_too_large(void **state)
{
    struct fx *f = *state;
    int fd = raw_connect(f->path);
    cJSON *r = roundtrip(f, fd, "{\"cmd\":\"big\",\"id\":5}\n");
    assert_int_equal(cJSON_GetObjectItem(r, "id")->valueint, 5);
    assert_error_reply(r, "reply too large");
    close(fd);
}

/* --- binding ------------------------------------------------------------------------------- */

/* Brief: "binds (refuses if another live instance is answering on it: try connecting first …)". */
static void test_second_server_refused(void **state)
{
    struct fx *f = *state;
    struct ctl_server *two = NULL;
    char err[512] = "";
    assert_int_equal(ctl_server_start(f->loop, f->path, handler, f, &two, err, sizeof(err)),
                     -EADDRINUSE);
    assert_null(two);
    assert_non_null(strstr(err, "already running"));
    /* The first still answers. */
    int fd = raw_connect(f->path);
    cJSON *r = roundtrip(f, fd, "{\"cmd\":\"ping\"}\n");
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(r, "ok")));
    cJSON_Delete(r);
    close(fd);

    /* Someone answering without our lock (another program, an older agentcast) also counts. */
    char other[CTL_PATH_MAX];
    snprintf(other, sizeof(other), "%s/other.sock", f->dir);
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    snprintf(a.sun_path, sizeof(a.sun_path), "%s", other);
    int lfd = socket(AF_UNIX, SOCK_STREAM, 0);
    assert_int_equal(bind(lfd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(lfd, 1), 0);
    assert_int_equal(ctl_server_start(f->loop, other, handler, f, &two, err, sizeof(err)),
                     -EADDRINUSE);
    assert_non_null(strstr(err, "answering on"));
    close(lfd);
    struct stat st;
    assert_int_equal(lstat(other, &st), 0); /* not ours: left alone */
}

/* Brief: "a stale socket file with nobody listening is removed". */
static void test_stale_socket_replaced(void **state)
{
    struct fx *f = *state;
    char other[CTL_PATH_MAX], err[512];
    snprintf(other, sizeof(other), "%s/other.sock", f->dir);
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    snprintf(a.sun_path, sizeof(a.sun_path), "%s", other);
    int lfd = socket(AF_UNIX, SOCK_STREAM, 0);
    assert_int_equal(bind(lfd, (struct sockaddr *)&a, sizeof(a)), 0);
    close(lfd); /* what a crashed instance leaves behind */
    struct stat after;

    struct ctl_server *two = NULL;
    assert_int_equal(ctl_server_start(f->loop, other, handler, f, &two, err, sizeof(err)), 0);
    int fd = raw_connect(other); /* a stale socket would refuse the connection */
    cJSON *r = roundtrip(f, fd, "{\"cmd\":\"ping\"}\n");
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(r, "ok")));
    cJSON_Delete(r);
    close(fd);
    ctl_server_stop(two);

    /* Something that is not a socket is never removed. */
    int ffd = open(other, O_CREAT | O_WRONLY | O_TRUNC, 0600);
    assert_true(ffd >= 0);
    close(ffd);
    assert_int_equal(ctl_server_start(f->loop, other, handler, f, &two, err, sizeof(err)), -EEXIST);
    assert_non_null(strstr(err, "not a socket"));
    assert_int_equal(lstat(other, &after), 0);
    assert_true(S_ISREG(after.st_mode));
}

/* Brief: "mode 0600"; "ctl_server_stop closes everything and unlinks the socket file". */
static void test_socket_mode_and_stop(void **state)
{
    struct fx *f = *state;
    char other[CTL_PATH_MAX], err[512];
    snprintf(other, sizeof(other), "%s/other.sock", f->dir);
    mode_t old = umask(0); /* the mode must not depend on the caller's umask */
    struct ctl_server *two = NULL;
    int rc = ctl_server_start(f->loop, other, handler, f, &two, err, sizeof(err));
    umask(old);
    assert_int_equal(rc, 0);
    struct stat st;
    assert_int_equal(lstat(other, &st), 0);
    assert_true(S_ISSOCK(st.st_mode));
    assert_int_equal(st.st_mode & 07777, 0600);

    int fd = raw_connect(other);
    write_str(fd, "{\"cmd\":\"defer\"}\n");
    f->handled = false;
    assert_int_equal(event_loop_run_until(f->loop, &f->handled, in_ms(2000)), 0);
    ctl_server_stop(two);
    assert_int_equal(lstat(other, &st), -1);
    assert_int_equal(errno, ENOENT);
    assert_null(next_reply(f, fd)); /* connection closed */
    close(fd);
    /* A reply kept across the stop is still valid: sending it is a no-op. */
    assert_false(ctl_reply_connected(f->kept[0]));
    assert_int_equal(ctl_reply_send(f->kept[0], NULL), -ENOTCONN);
    f->n_kept = 0;
    /* And the path can be served again. */
    assert_int_equal(ctl_server_start(f->loop, other, handler, f, &two, err, sizeof(err)), 0);
    ctl_server_stop(two);
}

/* ctl_server.h: "The handler may call ctl_server_stop" — a reply sent just before still gets
 * out. */
static void test_stop_from_handler(void **state)
{
    struct fx *f = *state;
    int fd = raw_connect(f->path);
    int fd2 = raw_connect(f->path);
    cJSON *r = roundtrip(f, fd, "{\"cmd\":\"quit\"}\n");
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(r, "bye")));
    cJSON_Delete(r);
    assert_null(f->srv);
    assert_null(next_reply(f, fd));
    assert_null(next_reply(f, fd2));
    struct stat st;
    assert_int_equal(lstat(f->path, &st), -1);
    close(fd);
    close(fd2);
}

/* --- peer credentials (root only: needs a second uid) -------------------------------------- */

static void wait_child(struct fx *f, pid_t pid, int *status)
{
    int64_t deadline = in_ms(5000);
    while (clock_now_ns() < deadline) {
        if (waitpid(pid, status, WNOHANG) == pid)
            return;
        pump_for(f, 10);
    }
    kill(pid, SIGKILL);
    waitpid(pid, status, 0);
    fail_msg("child did not finish");
}

/* Brief: "Peer credentials: accept only clients with the same uid (SO_PEERCRED)". The socket is
 * opened to everyone here so that only the credential check stands in the way. */
static void test_other_uid_refused(void **state)
{
    struct fx *f = *state;
    if (geteuid() != 0)
        skip();
    assert_int_equal(chmod(f->dir, 0711), 0);
    assert_int_equal(chmod(f->path, 0666), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        signal(SIGPIPE, SIG_IGN); /* the server may hang up before the write */
        if (setgid(65534) != 0 || setuid(65534) != 0)
            _exit(10);
        struct sockaddr_un a = {.sun_family = AF_UNIX};
        snprintf(a.sun_path, sizeof(a.sun_path), "%s", f->path);
        int fd = socket(AF_UNIX, SOCK_STREAM, 0);
        if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0)
            _exit(11);
        (void)!write(fd, "{\"cmd\":\"ping\"}\n", 15);
        struct timeval tv = {.tv_sec = 3};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        char c;
        ssize_t n = read(fd, &c, 1);
        _exit(n == 0 || (n < 0 && errno == ECONNRESET) ? 0 : 12); /* hung up, no reply */
    }
    int status = 0;
    wait_child(f, pid, &status);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_int_equal(f->calls, 0);
    assert_int_equal(ctl_server_client_count(f->srv), 0);
}

/* ctl_client.h: "The server must run under our own uid". */
static void test_client_refuses_other_uid_server(void **state)
{
    struct fx *f = *state;
    if (geteuid() != 0)
        skip();
    char path[CTL_PATH_MAX], err[512];
    snprintf(path, sizeof(path), "%s/foreign.sock", f->dir);
    assert_int_equal(chmod(f->dir, 0777), 0);
    int sync[2];
    assert_int_equal(pipe(sync), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(sync[0]);
        if (setgid(65534) != 0 || setuid(65534) != 0)
            _exit(10);
        struct sockaddr_un a = {.sun_family = AF_UNIX};
        snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
        int fd = socket(AF_UNIX, SOCK_STREAM, 0);
        if (bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(fd, 4) != 0)
            _exit(11);
        (void)!write(sync[1], "r", 1);
        int c = accept(fd, NULL, NULL);
        char buf[256];
        struct timeval tv = {.tv_sec = 3};
        setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        ssize_t n = read(c, buf, sizeof(buf));
        _exit(n <= 0 ? 0 : 12); /* the client must not have sent its request */
    }
    close(sync[1]);
    char ready;
    assert_int_equal(read(sync[0], &ready, 1), 1);
    close(sync[0]);
    cJSON *resp = NULL;
    assert_int_equal(ctl_client_command(path, "stop", 1000, &resp, err, sizeof(err)), -EACCES);
    assert_null(resp);
    assert_non_null(strstr(err, "served by uid 65534"));
    int status = 0;
    waitpid(pid, &status, 0);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_int_equal(chmod(f->dir, 0700), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_path_default, setup, teardown),
        cmocka_unit_test_setup_teardown(test_path_names, setup, teardown),
        cmocka_unit_test_setup_teardown(test_path_prepare_dir, setup, teardown),
        cmocka_unit_test_setup_teardown(test_client_request_reply, setup, teardown),
        cmocka_unit_test_setup_teardown(test_client_no_listener, setup, teardown),
        cmocka_unit_test_setup_teardown(test_client_default_path_fallback, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deferred_reply, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deferred_reply_overtaken, setup, teardown),
        cmocka_unit_test_setup_teardown(test_disconnect_before_deferred_reply, setup, teardown),
        cmocka_unit_test_setup_teardown(test_half_close_keeps_deferred_reply, setup, teardown),
        cmocka_unit_test_setup_teardown(test_client_timeout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_too_many_pending, setup, teardown),
        cmocka_unit_test_setup_teardown(test_malformed_lines_keep_connection, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_command, setup, teardown),
        cmocka_unit_test_setup_teardown(test_line_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reply_too_large, setup, teardown),
        cmocka_unit_test_setup_teardown(test_second_server_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stale_socket_replaced, setup, teardown),
        cmocka_unit_test_setup_teardown(test_socket_mode_and_stop, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stop_from_handler, setup, teardown),
        cmocka_unit_test_setup_teardown(test_other_uid_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_client_refuses_other_uid_server, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
