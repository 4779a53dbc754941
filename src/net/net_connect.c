/*
 * net_connect — resolve + TCP connect with a deadline and a cancel fd, and a guard that
 * interrupts blocking socket calls, for the RTMP/RTMPS output (src/net/rtmp_output.c). See
 * net_connect.h.
 *
 * getaddrinfo has no timeout of its own, so a name that needs DNS is resolved on a short-lived
 * detached thread that signals an eventfd when done; the caller polls that fd together with the
 * cancel fd until the deadline. If the deadline passes or the cancel fires first, the caller
 * gives up and the thread frees its result when the lookup eventually returns. Literal
 * addresses are resolved inline.
 *
 * The guard (net_guard_*) is for the RTMP session on top: librtmp blocks in plain send/recv that
 * only a shutdown of the socket can interrupt.
 */
#include "net/net_connect.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/clock.h"

int net_remaining_ms(int64_t deadline_ns)
{
    int64_t left = deadline_ns - clock_now_ns();
    if (left <= 0)
        return 0;
    int64_t ms = (left + NS_PER_MS - 1) / NS_PER_MS;
    return ms > INT_MAX ? INT_MAX : (int)ms;
}

void net_format_host_port(const char *host, int port, char *out, size_t out_size)
{
    if (strchr(host, ':'))
        snprintf(out, out_size, "[%s]:%d", host, port);
    else
        snprintf(out, out_size, "%s:%d", host, port);
}

bool net_cancelled(int cancel_fd)
{
    if (cancel_fd < 0)
        return false;
    struct pollfd pfd = {.fd = cancel_fd, .events = POLLIN};
    return poll(&pfd, 1, 0) > 0 && (pfd.revents & POLLIN);
}

int net_wait(int fd, short events, int cancel_fd, int64_t deadline_ns)
{
    for (;;) {
        struct pollfd fds[2] = {
            {.fd = cancel_fd, .events = POLLIN},
            {.fd = fd, .events = events},
        };
        int timeout = deadline_ns == INT64_MAX ? -1 : net_remaining_ms(deadline_ns);
        int n = poll(fds, 2, timeout);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        if (fds[0].revents)
            return -ECANCELED; /* POLLIN, or an unusable cancel fd: give up either way */
        if (n == 0)
            return 0;
        return fds[1].revents;
    }
}

/* A lookup shared by the caller and the resolver thread; the last one to let go frees it. */
struct resolve_job {
    atomic_int refs;
    pthread_mutex_t lock;
    int done_fd; /* eventfd the thread writes when the lookup returned */
    bool done;
    int gai_rc;
    int gai_errno; /* errno for EAI_SYSTEM, from the thread that saw it */
    struct addrinfo *res;
    struct addrinfo hints;
    char host[256];
    char service[8];
};

static void resolve_job_unref(struct resolve_job *job)
{
    if (atomic_fetch_sub(&job->refs, 1) != 1)
        return;
    if (job->res)
        freeaddrinfo(job->res);
    close(job->done_fd);
    pthread_mutex_destroy(&job->lock);
    free(job);
}

static void *resolve_thread(void *arg)
{
    struct resolve_job *job = arg;
    struct addrinfo *res = NULL;
    int rc = getaddrinfo(job->host, job->service, &job->hints, &res);
    int saved_errno = errno;
    pthread_mutex_lock(&job->lock);
    job->gai_rc = rc;
    job->gai_errno = saved_errno;
    job->res = res;
    job->done = true;
    pthread_mutex_unlock(&job->lock);
    uint64_t one = 1;
    ssize_t unused = write(job->done_fd, &one, sizeof(one));
    (void)unused;
    resolve_job_unref(job);
    return NULL;
}

static struct resolve_job *resolve_job_new(const char *host, const char *service,
                                           const struct addrinfo *hints)
{
    struct resolve_job *job = calloc(1, sizeof(*job));
    if (!job)
        return NULL;
    job->done_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (job->done_fd < 0) {
        free(job);
        return NULL;
    }
    pthread_mutex_init(&job->lock, NULL);
    atomic_init(&job->refs, 2); /* the caller and the resolver thread */
    job->hints = *hints;
    snprintf(job->host, sizeof(job->host), "%s", host);
    snprintf(job->service, sizeof(job->service), "%s", service);
    return job;
}

static void resolve_job_free_unstarted(struct resolve_job *job)
{
    if (!job)
        return;
    close(job->done_fd);
    pthread_mutex_destroy(&job->lock);
    free(job);
}

/* How a bounded lookup ended when it returned no address list. */
enum resolve_end { RESOLVE_ANSWERED, RESOLVE_TIMED_OUT, RESOLVE_CANCELLED };

/* getaddrinfo bounded by deadline_ns and cancel_fd. Returns 0 and *res (caller frees), or a
 * getaddrinfo error with *end saying whether the lookup answered at all (*gai_errno: errno for
 * EAI_SYSTEM). */
static int resolve(const char *host, const char *service, int64_t deadline_ns, int cancel_fd,
                   struct addrinfo **res, enum resolve_end *end, int *gai_errno)
{
    struct addrinfo hints = {
        .ai_family = AF_UNSPEC,
        .ai_socktype = SOCK_STREAM,
        .ai_protocol = IPPROTO_TCP,
        .ai_flags = AI_NUMERICSERV,
    };
    *end = RESOLVE_ANSWERED;
    /* Literal addresses need no DNS and no thread. */
    hints.ai_flags |= AI_NUMERICHOST;
    int rc = getaddrinfo(host, service, &hints, res);
    *gai_errno = errno;
    if (rc != EAI_NONAME)
        return rc;
    hints.ai_flags &= ~AI_NUMERICHOST;

    struct resolve_job *job = resolve_job_new(host, service, &hints);
    pthread_t thread;
    pthread_attr_t attr;
    bool started = false;
    if (job && pthread_attr_init(&attr) == 0) {
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        started = pthread_create(&thread, &attr, resolve_thread, job) == 0;
        pthread_attr_destroy(&attr);
    }
    if (!started) {
        /* No thread: resolve inline; the deadline and a cancel may then be overrun. */
        resolve_job_free_unstarted(job);
        rc = getaddrinfo(host, service, &hints, res);
        *gai_errno = errno;
        return rc;
    }
    /* The thread's write to done_fd ends the wait as soon as the lookup returns. */
    int waited = net_wait(job->done_fd, POLLIN, cancel_fd, deadline_ns);
    pthread_mutex_lock(&job->lock);
    if (job->done && waited != -ECANCELED) {
        rc = job->gai_rc;
        *gai_errno = job->gai_errno;
        *res = job->res;
        job->res = NULL;
    } else {
        rc = EAI_AGAIN;
        *end = waited == -ECANCELED ? RESOLVE_CANCELLED : RESOLVE_TIMED_OUT;
    }
    pthread_mutex_unlock(&job->lock);
    resolve_job_unref(job);
    return rc;
}

/* Non-blocking connect of one address, waiting at most timeout_ms or until cancel_fd fires.
 * Returns the fd or -errno. */
static int connect_one(const struct addrinfo *ai, int timeout_ms, int cancel_fd)
{
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0)
        return -errno;
    int rc = 0;
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
        if (errno != EINPROGRESS) {
            rc = -errno;
            goto fail;
        }
        int64_t deadline = clock_now_ns() + (int64_t)timeout_ms * NS_PER_MS;
        int n = net_wait(fd, POLLOUT, cancel_fd, deadline);
        if (n <= 0) {
            rc = n == 0 ? -ETIMEDOUT : n;
            goto fail;
        }
        int soerr = 0;
        socklen_t len = sizeof(soerr);
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0)
            soerr = errno;
        if (soerr != 0) {
            rc = -soerr;
            goto fail;
        }
    }
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) < 0) {
        rc = -errno;
        goto fail;
    }
    int one = 1;
    /* Frames are written whole; Nagle would only add latency. */
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return fd;
fail:
    close(fd);
    return rc;
}

int net_connect(const char *host, int port, int64_t deadline_ns, int cancel_fd, char *err,
                size_t err_size)
{
    char where[300], service[8];
    net_format_host_port(host, port, where, sizeof(where));
    snprintf(service, sizeof(service), "%d", port);
    if (net_cancelled(cancel_fd)) {
        snprintf(err, err_size, "%s: cancelled", where);
        return -ECANCELED;
    }
    int64_t started = clock_now_ns();

    struct addrinfo *res = NULL;
    enum resolve_end end;
    int gai_errno;
    int gai = resolve(host, service, deadline_ns, cancel_fd, &res, &end, &gai_errno);
    if (gai != 0) {
        long long spent = (long long)((clock_now_ns() - started) / NS_PER_MS);
        if (end == RESOLVE_CANCELLED) {
            snprintf(err, err_size, "%s: cancelled during name resolution", where);
            return -ECANCELED;
        }
        if (end == RESOLVE_TIMED_OUT) {
            snprintf(err, err_size, "%s: name resolution timed out after %lld ms", where, spent);
            return -ETIMEDOUT;
        }
        snprintf(err, err_size, "%s: cannot resolve host: %s", where,
                 gai == EAI_SYSTEM ? strerror(gai_errno) : gai_strerror(gai));
        return -EHOSTUNREACH;
    }

    int count = 0;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next)
        count++;
    int rc = -EHOSTUNREACH;
    int tried = 0;
    for (struct addrinfo *ai = res; ai && rc != -ECANCELED; ai = ai->ai_next) {
        int left = net_remaining_ms(deadline_ns);
        if (left <= 0) {
            rc = -ETIMEDOUT;
            break;
        }
        /* Share what is left among the remaining addresses, so that one address that drops
         * packets does not starve the next (e.g. ::1 before 127.0.0.1). */
        int budget = left / (count - tried);
        if (budget < 1)
            budget = 1;
        tried++;
        rc = connect_one(ai, ai->ai_next ? budget : left, cancel_fd);
        if (rc >= 0) {
            freeaddrinfo(res);
            return rc;
        }
    }
    freeaddrinfo(res);
    long long spent = (long long)((clock_now_ns() - started) / NS_PER_MS);
    const char *plural = tried == 1 ? "" : "es";
    if (rc == -ECANCELED)
        snprintf(err, err_size, "%s: connect cancelled after %lld ms", where, spent);
    else if (rc == -ETIMEDOUT)
        snprintf(err, err_size, "%s: connection timed out after %lld ms (%d address%s tried)",
                 where, spent, tried, plural);
    else
        snprintf(err, err_size, "%s: %s (%d address%s tried)", where, strerror(-rc), tried, plural);
    return rc;
}

/* ---- guard ---- */

enum guard_phase { GUARD_DEADLINE, GUARD_CANCEL_ONLY, GUARD_EXIT };

struct net_guard {
    pthread_t thread;
    pthread_mutex_t lock;
    enum guard_phase phase;
    bool timed_out, cancelled; /* why fd was shut down */
    int fd;                    /* shut down, never closed, by the guard */
    int cancel_fd;             /* -1: none */
    int wake_fd;               /* eventfd: phase changed */
    int64_t deadline_ns;
};

static void guard_wake(struct net_guard *g)
{
    uint64_t one = 1;
    ssize_t unused = write(g->wake_fd, &one, sizeof(one));
    (void)unused;
}

/* Shuts fd down for the given reason unless the phase makes it moot; true if it did. The lock
 * makes the decision and net_guard_clear_deadline/net_guard_stop exclusive. */
static bool guard_fire(struct net_guard *g, bool cancel)
{
    pthread_mutex_lock(&g->lock);
    bool fire = cancel ? g->phase != GUARD_EXIT : g->phase == GUARD_DEADLINE;
    if (fire) {
        if (cancel)
            g->cancelled = true;
        else
            g->timed_out = true;
        shutdown(g->fd, SHUT_RDWR);
    }
    pthread_mutex_unlock(&g->lock);
    return fire;
}

static void *guard_main(void *arg)
{
    struct net_guard *g = arg;
    for (;;) {
        pthread_mutex_lock(&g->lock);
        enum guard_phase phase = g->phase;
        pthread_mutex_unlock(&g->lock);
        if (phase == GUARD_EXIT)
            break;
        int timeout = phase == GUARD_DEADLINE ? net_remaining_ms(g->deadline_ns) : -1;
        struct pollfd fds[2] = {{.fd = g->wake_fd, .events = POLLIN},
                                {.fd = g->cancel_fd, .events = POLLIN}};
        int n = timeout == 0 ? 0 : poll(fds, 2, timeout);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            break; /* cannot watch; the caller's own socket timeouts still bound its waits */
        /* Once fd is shut down there is nothing left to watch for (a cancel stays readable). */
        if (fds[1].revents && guard_fire(g, true))
            break;
        if (n == 0 && guard_fire(g, false))
            break;
        if (fds[0].revents & POLLIN) {
            uint64_t v;
            ssize_t unused = read(g->wake_fd, &v, sizeof(v));
            (void)unused;
        }
    }
    return NULL;
}

int net_guard_start(struct net_guard **out, int fd, int cancel_fd, int64_t deadline_ns)
{
    *out = NULL;
    struct net_guard *g = calloc(1, sizeof(*g));
    if (!g)
        return -ENOMEM;
    g->fd = fd;
    g->cancel_fd = cancel_fd;
    g->deadline_ns = deadline_ns;
    g->phase = GUARD_DEADLINE;
    g->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (g->wake_fd < 0) {
        int rc = -errno;
        free(g);
        return rc;
    }
    pthread_mutex_init(&g->lock, NULL);
    int rc = pthread_create(&g->thread, NULL, guard_main, g);
    if (rc != 0) {
        pthread_mutex_destroy(&g->lock);
        close(g->wake_fd);
        free(g);
        return -rc;
    }
    pthread_setname_np(g->thread, "net-guard");
    *out = g;
    return 0;
}

bool net_guard_clear_deadline(struct net_guard *g)
{
    pthread_mutex_lock(&g->lock);
    bool intact = !g->timed_out && !g->cancelled;
    if (intact)
        g->phase = GUARD_CANCEL_ONLY;
    pthread_mutex_unlock(&g->lock);
    guard_wake(g);
    return intact;
}

bool net_guard_timed_out(struct net_guard *g)
{
    pthread_mutex_lock(&g->lock);
    bool v = g->timed_out;
    pthread_mutex_unlock(&g->lock);
    return v;
}

void net_guard_stop(struct net_guard *g)
{
    if (!g)
        return;
    pthread_mutex_lock(&g->lock);
    g->phase = GUARD_EXIT;
    pthread_mutex_unlock(&g->lock);
    guard_wake(g);
    pthread_join(g->thread, NULL);
    pthread_mutex_destroy(&g->lock);
    close(g->wake_fd);
    free(g);
}
