/*
 * net_connect — resolve + TCP connect with a deadline, for the RTMP/RTMPS output
 * (src/net/rtmp_output.c). See net_connect.h.
 *
 * getaddrinfo has no timeout of its own, so a name that needs DNS is resolved on a short-lived
 * detached thread; if the deadline passes first the caller gives up and the thread frees its
 * result when the lookup eventually returns. Literal addresses are resolved inline.
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
#include <sys/socket.h>
#include <time.h>
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

/* A lookup shared by the caller and the resolver thread; the last one to let go frees it. */
struct resolve_job {
    atomic_int refs;
    pthread_mutex_t lock;
    pthread_cond_t done_cond;
    bool done;
    int gai_rc;
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
    pthread_cond_destroy(&job->done_cond);
    pthread_mutex_destroy(&job->lock);
    free(job);
}

static void *resolve_thread(void *arg)
{
    struct resolve_job *job = arg;
    struct addrinfo *res = NULL;
    int rc = getaddrinfo(job->host, job->service, &job->hints, &res);
    pthread_mutex_lock(&job->lock);
    job->gai_rc = rc;
    job->res = res;
    job->done = true;
    pthread_cond_signal(&job->done_cond);
    pthread_mutex_unlock(&job->lock);
    resolve_job_unref(job);
    return NULL;
}

static struct resolve_job *resolve_job_new(const char *host, const char *service,
                                           const struct addrinfo *hints)
{
    struct resolve_job *job = calloc(1, sizeof(*job));
    if (!job)
        return NULL;
    pthread_condattr_t attr;
    if (pthread_condattr_init(&attr) != 0) {
        free(job);
        return NULL;
    }
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    int rc = pthread_cond_init(&job->done_cond, &attr);
    pthread_condattr_destroy(&attr);
    if (rc != 0) {
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

/* getaddrinfo bounded by deadline_ns. Returns 0 and *res (caller frees), a getaddrinfo error,
 * or EAI_AGAIN with *timed_out set. */
static int resolve(const char *host, const char *service, int64_t deadline_ns,
                   struct addrinfo **res, bool *timed_out)
{
    struct addrinfo hints = {
        .ai_family = AF_UNSPEC,
        .ai_socktype = SOCK_STREAM,
        .ai_protocol = IPPROTO_TCP,
        .ai_flags = AI_NUMERICSERV,
    };
    *timed_out = false;
    /* Literal addresses need no DNS and no thread. */
    hints.ai_flags |= AI_NUMERICHOST;
    int rc = getaddrinfo(host, service, &hints, res);
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
        /* No thread: resolve inline; the deadline may then be overrun by the lookup. */
        free(job);
        return getaddrinfo(host, service, &hints, res);
    }
    struct timespec until = {
        .tv_sec = (time_t)(deadline_ns / NS_PER_SEC),
        .tv_nsec = (long)(deadline_ns % NS_PER_SEC),
    };
    pthread_mutex_lock(&job->lock);
    while (!job->done) {
        if (pthread_cond_timedwait(&job->done_cond, &job->lock, &until) == ETIMEDOUT)
            break;
    }
    if (job->done) {
        rc = job->gai_rc;
        *res = job->res;
        job->res = NULL;
    } else {
        rc = EAI_AGAIN;
        *timed_out = true;
    }
    pthread_mutex_unlock(&job->lock);
    resolve_job_unref(job);
    return rc;
}

/* Non-blocking connect of one address, waiting at most timeout_ms. Returns the fd or -errno. */
static int connect_one(const struct addrinfo *ai, int timeout_ms)
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
        for (;;) {
            struct pollfd pfd = {.fd = fd, .events = POLLOUT};
            int n = poll(&pfd, 1, net_remaining_ms(deadline));
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0) {
                rc = -errno;
                goto fail;
            }
            if (n == 0) {
                rc = -ETIMEDOUT;
                goto fail;
            }
            break;
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

int net_connect(const char *host, int port, int64_t deadline_ns, char *err, size_t err_size)
{
    char where[300], service[8];
    net_format_host_port(host, port, where, sizeof(where));
    snprintf(service, sizeof(service), "%d", port);
    int64_t started = clock_now_ns();

    struct addrinfo *res = NULL;
    bool timed_out;
    int gai = resolve(host, service, deadline_ns, &res, &timed_out);
    if (gai != 0) {
        if (timed_out) {
            snprintf(err, err_size, "%s: name resolution timed out after %lld ms", where,
                     (long long)((clock_now_ns() - started) / NS_PER_MS));
            return -ETIMEDOUT;
        }
        snprintf(err, err_size, "%s: cannot resolve host: %s", where,
                 gai == EAI_SYSTEM ? strerror(errno) : gai_strerror(gai));
        return -EHOSTUNREACH;
    }

    int count = 0;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next)
        count++;
    int rc = -EHOSTUNREACH;
    int tried = 0;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
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
        rc = connect_one(ai, ai->ai_next ? budget : left);
        if (rc >= 0) {
            freeaddrinfo(res);
            return rc;
        }
    }
    freeaddrinfo(res);
    long long spent = (long long)((clock_now_ns() - started) / NS_PER_MS);
    const char *plural = tried == 1 ? "" : "es";
    if (rc == -ETIMEDOUT)
        snprintf(err, err_size, "%s: connection timed out after %lld ms (%d address%s tried)",
                 where, spent, tried, plural);
    else
        snprintf(err, err_size, "%s: %s (%d address%s tried)", where, strerror(-rc), tried, plural);
    return rc;
}
