/*
 * tls_pump — relays librtmp's plain RTMP bytes through our TLS connection (see tls_pump.h).
 * Sits between src/net/rtmp_output.c (librtmp on the other socketpair end) and src/net/tls.c.
 *
 * One thread, non-blocking on every fd, one buffer per direction. A buffer that cannot be
 * delivered stops reading on its side, so back-pressure reaches librtmp as a full socketpair
 * (its SO_SNDTIMEO then fires) exactly as a slow TCP peer would. The output's cancel fd is in
 * every poll, so a stop never waits here for a server that stopped reading.
 */
#include "net/tls_pump.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/log.h"
#include "net/net_connect.h"
#include "net/tls.h"

#define PUMP_BUF_SIZE 16384 /* one TLS record's worth */

struct tls_pump {
    pthread_t thread;
    int local_fd;
    int tcp_fd;
    int stop_fd;   /* eventfd: tls_pump_stop was called */
    int cancel_fd; /* the output's: give up at once (-1: none) */
    struct tls_conn *tls;
    atomic_int linger_ms;
    atomic_bool failed;
    char why[192]; /* written before failed is set, read after */
    char where[300];
};

/* One direction's bytes in flight. */
struct pump_buf {
    unsigned char data[PUMP_BUF_SIZE];
    size_t len, off;
};

struct pump_state {
    struct pump_buf up;   /* librtmp → TLS */
    struct pump_buf down; /* TLS → librtmp */
    bool local_eof;       /* librtmp closed its end: nothing more to send */
    bool local_full;      /* librtmp's end cannot take more now */
    short tls_wait;       /* poll events TLS waits for on tcp_fd */
    int64_t stop_at;      /* 0, or when to give up flushing after tls_pump_stop */
};

static void pump_fail(struct tls_pump *p, const struct pump_state *s, const char *why)
{
    snprintf(p->why, sizeof(p->why), "%s", why);
    atomic_store(&p->failed, true);
    /* librtmp's next send/recv fails now rather than after its socket timeout. */
    shutdown(p->local_fd, SHUT_RDWR);
    /* The output reports it (once) when its next send or receive fails. */
    log_debug("rtmp", "RTMPS pump for %s stopped: %s%s", p->where, why,
              s->stop_at ? " (while closing)" : "");
}

/* librtmp → TLS. Returns 1 on progress, 0 when waiting, -1 on failure. */
static int pump_up(struct tls_pump *p, struct pump_state *s)
{
    int progress = 0;
    struct pump_buf *b = &s->up;
    if (b->len == 0 && !s->local_eof) {
        ssize_t n = recv(p->local_fd, b->data, sizeof(b->data), MSG_DONTWAIT);
        if (n > 0) {
            b->len = (size_t)n;
            b->off = 0;
            progress = 1;
        } else if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
            s->local_eof = true;
            progress = 1;
        }
    }
    if (b->off < b->len) {
        ssize_t n = tls_write(p->tls, b->data + b->off, b->len - b->off);
        if (n > 0) {
            b->off += (size_t)n;
            if (b->off == b->len)
                b->off = b->len = 0;
            progress = 1;
        } else if (n == -EAGAIN) {
            s->tls_wait |= tls_wants(p->tls);
        } else {
            char why[192];
            snprintf(why, sizeof(why), "send failed: %s", tls_error(p->tls));
            pump_fail(p, s, why);
            return -1;
        }
    }
    return progress;
}

/* TLS → librtmp. Returns 1 on progress, 0 when waiting, -1 on failure or server close. */
static int pump_down(struct tls_pump *p, struct pump_state *s)
{
    int progress = 0;
    struct pump_buf *b = &s->down;
    if (b->len == 0) {
        ssize_t n = tls_read(p->tls, b->data, sizeof(b->data));
        if (n > 0) {
            b->len = (size_t)n;
            b->off = 0;
            progress = 1;
        } else if (n == -EAGAIN) {
            s->tls_wait |= tls_wants(p->tls);
        } else {
            pump_fail(p, s, n == 0 ? "connection closed by server" : tls_error(p->tls));
            return -1;
        }
    }
    s->local_full = false;
    if (b->off < b->len) {
        ssize_t n =
            send(p->local_fd, b->data + b->off, b->len - b->off, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n > 0) {
            b->off += (size_t)n;
            if (b->off == b->len)
                b->off = b->len = 0;
            progress = 1;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
            s->local_full = true;
        } else {
            b->off = b->len = 0; /* librtmp's end is gone: what it would have read is moot */
        }
    }
    return progress;
}

/* Waits for something to do. Returns false when the stop deadline has passed or the cancel fd
 * fired (the pump has then failed). */
static bool pump_wait(struct tls_pump *p, struct pump_state *s)
{
    struct pollfd fds[4] = {{.fd = p->stop_fd, .events = POLLIN},
                            {.fd = p->cancel_fd, .events = POLLIN}};
    short local_events =
        (short)((s->up.len == 0 && !s->local_eof ? POLLIN : 0) | (s->local_full ? POLLOUT : 0));
    /* An fd with no events is left out: POLLHUP cannot be masked and would spin. */
    fds[2].fd = local_events ? p->local_fd : -1;
    fds[2].events = local_events;
    fds[3].fd = s->tls_wait ? p->tcp_fd : -1;
    fds[3].events = s->tls_wait;
    int timeout = -1;
    if (s->stop_at) {
        timeout = net_remaining_ms(s->stop_at);
        if (timeout == 0)
            return false;
    }
    int n = poll(fds, 4, timeout);
    if (n > 0 && fds[1].revents) {
        /* A stop that must not wait (e.g. the server stalled): no flush, no close_notify. */
        pump_fail(p, s, "cancelled");
        return false;
    }
    if (n > 0 && (fds[0].revents & POLLIN) && s->stop_at == 0) {
        uint64_t v;
        ssize_t unused = read(p->stop_fd, &v, sizeof(v));
        (void)unused;
        s->stop_at = clock_now_ns() + (int64_t)atomic_load(&p->linger_ms) * NS_PER_MS;
    }
    return true;
}

static void *pump_main(void *arg)
{
    struct tls_pump *p = arg;
    struct pump_state *s = calloc(1, sizeof(*s));
    if (!s) {
        pump_fail(p, &(struct pump_state){0}, "out of memory");
        return NULL;
    }
    for (;;) {
        s->tls_wait = 0;
        int up = pump_up(p, s);
        if (up < 0)
            break;
        int down = pump_down(p, s);
        if (down < 0)
            break;
        if (s->local_eof && s->up.len == 0) {
            /* librtmp is done and everything it wrote went out: end the TLS session cleanly. */
            tls_close_notify(p->tls);
            break;
        }
        if (up > 0 || down > 0)
            continue;
        if (!pump_wait(p, s))
            break;
    }
    free(s);
    return NULL;
}

int tls_pump_start(struct tls_pump **out, int local_fd, struct tls_conn *tls, int tcp_fd,
                   int cancel_fd, const char *where)
{
    *out = NULL;
    struct tls_pump *p = calloc(1, sizeof(*p));
    if (!p) {
        close(local_fd);
        return -ENOMEM;
    }
    p->local_fd = local_fd;
    p->tcp_fd = tcp_fd;
    p->cancel_fd = cancel_fd;
    p->tls = tls;
    snprintf(p->where, sizeof(p->where), "%s", where);
    atomic_init(&p->failed, false);
    atomic_init(&p->linger_ms, 0);
    p->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    int rc = p->stop_fd < 0 ? -errno : 0;
    if (rc == 0) {
        int flags = fcntl(local_fd, F_GETFL);
        if (flags < 0 || fcntl(local_fd, F_SETFL, flags | O_NONBLOCK) < 0)
            rc = -errno;
    }
    if (rc == 0)
        rc = -pthread_create(&p->thread, NULL, pump_main, p);
    if (rc < 0) {
        if (p->stop_fd >= 0)
            close(p->stop_fd);
        close(local_fd);
        free(p);
        return rc;
    }
    pthread_setname_np(p->thread, "rtmps-pump");
    *out = p;
    return 0;
}

bool tls_pump_failed(struct tls_pump *p, char *why, size_t why_size)
{
    if (!p || !atomic_load(&p->failed))
        return false;
    if (why && why_size > 0)
        snprintf(why, why_size, "%s", p->why);
    return true;
}

void tls_pump_stop(struct tls_pump *p, int linger_ms)
{
    if (!p)
        return;
    atomic_store(&p->linger_ms, linger_ms > 0 ? linger_ms : 1);
    uint64_t one = 1;
    ssize_t unused = write(p->stop_fd, &one, sizeof(one));
    (void)unused;
    pthread_join(p->thread, NULL);
    close(p->stop_fd);
    close(p->local_fd);
    free(p);
}
