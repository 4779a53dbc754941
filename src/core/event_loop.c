/*
 * event_loop — epoll + timer heap + signalfd + eventfd; the control plane's one loop. See
 * event_loop.h for the contract and the choice of a heap over timerfds.
 *
 * Safe removal: epoll_wait hands back a batch of pointers to watches. A watch removed while a
 * batch is being dispatched is only marked dead and parked on a list that is freed once the
 * batch is done, so a later entry of the same batch never touches freed memory; dead watches
 * are skipped. Timers are popped from the heap one at a time, so stopping or freeing any timer
 * from a callback needs no such care.
 */
#include "core/event_loop.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/log.h"

#define MAX_BATCH 64
#define MAX_SIGNO 65 /* _NSIG on Linux: signals 1..64 */

struct event_watch {
    struct event_loop *loop;
    int fd;
    unsigned events; /* interest */
    bool in_epoll;   /* registered only while interest is non-zero: no hang-up spin */
    bool dead;
    event_fd_fn fn;
    void *arg;
    struct event_watch *prev, *next; /* loop->watches, or loop->dead_watches (next only) */
};

struct event_timer {
    struct event_loop *loop;
    event_timer_fn fn;
    void *arg;
    int64_t deadline_ns;
    uint64_t interval_ms;
    uint64_t seq;      /* start order: ties fire first-started first; also guards re-entry */
    size_t heap_index; /* SIZE_MAX when not in the heap */
    struct event_timer *prev, *next;
};

struct post_item {
    event_post_fn fn;
    void *arg;
};

struct event_loop {
    int epfd;
    int wake_fd; /* eventfd: posts and stop requests */
    int sig_fd;  /* signalfd, -1 until a signal is watched */
    struct event_watch *wake_watch, *sig_watch;

    struct event_watch *watches;      /* live */
    struct event_watch *dead_watches; /* removed during a dispatch, freed after it */
    int dispatching;

    struct event_timer **heap; /* capacity >= number of timers, reserved in event_timer_new */
    size_t heap_len, heap_cap, n_timers;
    struct event_timer *timers;
    uint64_t timer_seq;

    sigset_t sig_mask;    /* signals routed to sig_fd */
    sigset_t sig_blocked; /* of those, the ones this loop blocked (to unblock on free) */
    struct {
        event_signal_fn fn;
        void *arg;
    } sig[MAX_SIGNO];

    pthread_mutex_t post_lock;
    struct post_item posts[EVENT_LOOP_POST_CAPACITY];
    size_t post_head, post_count;

    atomic_bool stop_requested;
    bool running;
    struct epoll_event batch[MAX_BATCH];
};

/* --- timer heap, ordered by (deadline, seq) ------------------------------------------------- */

static bool timer_before(const struct event_timer *a, const struct event_timer *b)
{
    if (a->deadline_ns != b->deadline_ns)
        return a->deadline_ns < b->deadline_ns;
    return a->seq < b->seq;
}

static void heap_set(struct event_loop *loop, size_t i, struct event_timer *t)
{
    loop->heap[i] = t;
    t->heap_index = i;
}

static void heap_sift_up(struct event_loop *loop, size_t i)
{
    struct event_timer *t = loop->heap[i];
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!timer_before(t, loop->heap[parent]))
            break;
        heap_set(loop, i, loop->heap[parent]);
        i = parent;
    }
    heap_set(loop, i, t);
}

static void heap_sift_down(struct event_loop *loop, size_t i)
{
    struct event_timer *t = loop->heap[i];
    for (;;) {
        size_t child = 2 * i + 1;
        if (child >= loop->heap_len)
            break;
        if (child + 1 < loop->heap_len && timer_before(loop->heap[child + 1], loop->heap[child]))
            child++;
        if (!timer_before(loop->heap[child], t))
            break;
        heap_set(loop, i, loop->heap[child]);
        i = child;
    }
    heap_set(loop, i, t);
}

static void heap_push(struct event_loop *loop, struct event_timer *t)
{
    /* Never grows: event_timer_new reserved a slot for every timer. */
    heap_set(loop, loop->heap_len++, t);
    heap_sift_up(loop, t->heap_index);
}

static void heap_remove(struct event_loop *loop, struct event_timer *t)
{
    size_t i = t->heap_index;
    struct event_timer *last = loop->heap[--loop->heap_len];
    t->heap_index = SIZE_MAX;
    if (last == t)
        return;
    heap_set(loop, i, last);
    heap_sift_up(loop, i);
    heap_sift_down(loop, last->heap_index);
}

struct event_timer *event_timer_new(struct event_loop *loop, event_timer_fn fn, void *arg)
{
    if (loop->n_timers == loop->heap_cap) {
        size_t cap = loop->heap_cap ? loop->heap_cap * 2 : 16;
        struct event_timer **heap = realloc(loop->heap, cap * sizeof(*heap));
        if (!heap)
            return NULL;
        loop->heap = heap;
        loop->heap_cap = cap;
    }
    struct event_timer *t = calloc(1, sizeof(*t));
    if (!t)
        return NULL;
    t->loop = loop;
    t->fn = fn;
    t->arg = arg;
    t->heap_index = SIZE_MAX;
    t->next = loop->timers;
    if (loop->timers)
        loop->timers->prev = t;
    loop->timers = t;
    loop->n_timers++;
    return t;
}

void event_timer_start(struct event_timer *timer, uint64_t delay_ms, uint64_t interval_ms)
{
    struct event_loop *loop = timer->loop;
    if (timer->heap_index != SIZE_MAX)
        heap_remove(loop, timer);
    /* Clamp so that now + delay cannot overflow (~292 years of ns fit in int64). */
    uint64_t max_ms = (uint64_t)(INT64_MAX / NS_PER_MS / 2);
    if (delay_ms > max_ms)
        delay_ms = max_ms;
    if (interval_ms > max_ms)
        interval_ms = max_ms;
    timer->deadline_ns = clock_now_ns() + (int64_t)delay_ms * NS_PER_MS;
    timer->interval_ms = interval_ms;
    timer->seq = loop->timer_seq++;
    heap_push(loop, timer);
}

void event_timer_stop(struct event_timer *timer)
{
    if (timer && timer->heap_index != SIZE_MAX)
        heap_remove(timer->loop, timer);
}

bool event_timer_active(const struct event_timer *timer)
{
    return timer->heap_index != SIZE_MAX;
}

void event_timer_free(struct event_timer *timer)
{
    if (!timer)
        return;
    struct event_loop *loop = timer->loop;
    event_timer_stop(timer);
    if (timer->prev)
        timer->prev->next = timer->next;
    else
        loop->timers = timer->next;
    if (timer->next)
        timer->next->prev = timer->prev;
    loop->n_timers--;
    free(timer);
}

/* Fires every timer that was due when this phase began. Timers (re)started by a callback during
 * the phase carry a newer seq and wait for the next iteration, so a callback that restarts its
 * timer with delay 0 cannot starve fd events. */
static void run_timers(struct event_loop *loop)
{
    int64_t now = clock_now_ns();
    uint64_t seq_limit = loop->timer_seq;
    while (loop->heap_len > 0) {
        struct event_timer *t = loop->heap[0];
        if (t->deadline_ns > now || t->seq >= seq_limit)
            break;
        heap_remove(loop, t);
        if (t->interval_ms > 0) {
            int64_t interval_ns = (int64_t)t->interval_ms * NS_PER_MS;
            t->deadline_ns += interval_ns;
            if (t->deadline_ns <= now)
                t->deadline_ns = now + interval_ns;
            t->seq = loop->timer_seq++;
            heap_push(loop, t);
        }
        t->fn(loop, t, t->arg); /* may stop or free t */
    }
}

/* epoll_wait timeout in ms: rounded up so no timer fires early; -1 = no timer and no limit. */
static int wait_timeout_ms(const struct event_loop *loop, int64_t until_ns)
{
    int64_t deadline = until_ns;
    if (loop->heap_len > 0 && loop->heap[0]->deadline_ns < deadline)
        deadline = loop->heap[0]->deadline_ns;
    if (deadline == INT64_MAX)
        return -1;
    int64_t left = deadline - clock_now_ns();
    if (left <= 0)
        return 0;
    int64_t ms = (left + NS_PER_MS - 1) / NS_PER_MS;
    return ms > INT_MAX ? INT_MAX : (int)ms;
}

/* --- fd watches ------------------------------------------------------------------------------ */

static uint32_t epoll_events_of(unsigned events)
{
    return ((events & EVENT_READ) ? EPOLLIN | EPOLLRDHUP : 0) |
           ((events & EVENT_WRITE) ? EPOLLOUT : 0);
}

/* Brings the kernel's registration in line with watch->events. */
static int watch_sync(struct event_watch *w)
{
    struct epoll_event ev = {.events = epoll_events_of(w->events), .data.ptr = w};
    int op;
    if (w->events == 0) {
        if (!w->in_epoll)
            return 0;
        op = EPOLL_CTL_DEL;
    } else {
        op = w->in_epoll ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
    }
    if (epoll_ctl(w->loop->epfd, op, w->fd, &ev) < 0)
        return -errno;
    w->in_epoll = w->events != 0;
    return 0;
}

struct event_watch *event_loop_add_fd(struct event_loop *loop, int fd, unsigned events,
                                      event_fd_fn fn, void *arg)
{
    /* The kernel would only catch a duplicate while both have interest; check ourselves. */
    for (struct event_watch *w = loop->watches; w; w = w->next) {
        if (w->fd == fd) {
            errno = EEXIST;
            return NULL;
        }
    }
    struct event_watch *w = calloc(1, sizeof(*w));
    if (!w)
        return NULL;
    w->loop = loop;
    w->fd = fd;
    w->events = events & (EVENT_READ | EVENT_WRITE);
    w->fn = fn;
    w->arg = arg;
    int rc = watch_sync(w);
    if (rc < 0) {
        free(w);
        errno = -rc;
        return NULL;
    }
    w->next = loop->watches;
    if (loop->watches)
        loop->watches->prev = w;
    loop->watches = w;
    return w;
}

int event_watch_modify(struct event_watch *watch, unsigned events)
{
    if (watch->dead)
        return -EBADF;
    unsigned old = watch->events;
    watch->events = events & (EVENT_READ | EVENT_WRITE);
    int rc = watch_sync(watch);
    if (rc < 0)
        watch->events = old;
    return rc;
}

void event_watch_remove(struct event_watch *watch)
{
    if (!watch || watch->dead)
        return;
    struct event_loop *loop = watch->loop;
    if (watch->in_epoll) {
        /* Fails harmlessly (EBADF) if the caller closed the fd first. */
        epoll_ctl(loop->epfd, EPOLL_CTL_DEL, watch->fd, NULL);
        watch->in_epoll = false;
    }
    if (watch->prev)
        watch->prev->next = watch->next;
    else
        loop->watches = watch->next;
    if (watch->next)
        watch->next->prev = watch->prev;
    watch->dead = true;
    if (loop->dispatching) {
        watch->prev = NULL;
        watch->next = loop->dead_watches;
        loop->dead_watches = watch;
    } else {
        free(watch);
    }
}

static unsigned events_of_epoll(const struct event_watch *w, uint32_t ev)
{
    unsigned out = 0;
    if (ev & (EPOLLIN | EPOLLRDHUP))
        out |= EVENT_READ;
    if (ev & EPOLLOUT)
        out |= EVENT_WRITE;
    if (ev & (EPOLLERR | EPOLLHUP)) {
        out |= EVENT_ERROR;
        if (w->events & EVENT_READ)
            out |= EVENT_READ;
    }
    return out & (w->events | EVENT_ERROR);
}

static void dispatch_batch(struct event_loop *loop, int n)
{
    loop->dispatching++;
    for (int i = 0; i < n; i++) {
        struct event_watch *w = loop->batch[i].data.ptr;
        if (w->dead)
            continue;
        unsigned ev = events_of_epoll(w, loop->batch[i].events);
        if (ev)
            w->fn(loop, w->fd, ev, w->arg);
    }
    if (--loop->dispatching == 0) {
        while (loop->dead_watches) {
            struct event_watch *w = loop->dead_watches;
            loop->dead_watches = w->next;
            free(w);
        }
    }
}

/* --- posts and stop (eventfd) ---------------------------------------------------------------- */

static void wake(struct event_loop *loop)
{
    uint64_t one = 1;
    /* Can only fail when the counter is saturated, in which case the loop is awake anyway. */
    ssize_t n = write(loop->wake_fd, &one, sizeof(one));
    (void)n;
}

int event_loop_post(struct event_loop *loop, event_post_fn fn, void *arg)
{
    pthread_mutex_lock(&loop->post_lock);
    if (loop->post_count == EVENT_LOOP_POST_CAPACITY) {
        pthread_mutex_unlock(&loop->post_lock);
        return -EAGAIN;
    }
    size_t slot = (loop->post_head + loop->post_count) % EVENT_LOOP_POST_CAPACITY;
    loop->posts[slot] = (struct post_item){fn, arg};
    loop->post_count++;
    pthread_mutex_unlock(&loop->post_lock);
    wake(loop);
    return 0;
}

static bool post_pop(struct event_loop *loop, struct post_item *out)
{
    pthread_mutex_lock(&loop->post_lock);
    bool got = loop->post_count > 0;
    if (got) {
        *out = loop->posts[loop->post_head];
        loop->post_head = (loop->post_head + 1) % EVENT_LOOP_POST_CAPACITY;
        loop->post_count--;
    }
    pthread_mutex_unlock(&loop->post_lock);
    return got;
}

static void on_wake(struct event_loop *loop, int fd, unsigned events, void *arg)
{
    uint64_t counter;
    ssize_t n = read(fd, &counter, sizeof(counter)); /* resets it; EAGAIN when empty */
    (void)n;
    /* Run what was queued when we woke; later posts wrote the eventfd again and are run on the
     * next wake, so a callback that posts cannot keep this loop here forever. */
    pthread_mutex_lock(&loop->post_lock);
    size_t todo = loop->post_count;
    pthread_mutex_unlock(&loop->post_lock);
    struct post_item item;
    while (todo-- > 0 && post_pop(loop, &item))
        item.fn(item.arg);
}

void event_loop_stop(struct event_loop *loop)
{
    atomic_store(&loop->stop_requested, true);
    wake(loop);
}

/* --- signals --------------------------------------------------------------------------------- */

static void on_signal_fd(struct event_loop *loop, int fd, unsigned events, void *arg)
{
    struct signalfd_siginfo si;
    while (read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
        int signo = (int)si.ssi_signo;
        if (signo > 0 && signo < MAX_SIGNO && loop->sig[signo].fn)
            loop->sig[signo].fn(loop, signo, loop->sig[signo].arg);
    }
}

int event_loop_watch_signal(struct event_loop *loop, int signo, event_signal_fn fn, void *arg)
{
    if (signo <= 0 || signo >= MAX_SIGNO || signo == SIGKILL || signo == SIGSTOP || !fn)
        return -EINVAL;
    sigset_t one, old;
    sigemptyset(&one);
    sigaddset(&one, signo);
    int rc = pthread_sigmask(SIG_BLOCK, &one, &old);
    if (rc != 0)
        return -rc;
    if (!sigismember(&old, signo) && !sigismember(&loop->sig_blocked, signo))
        sigaddset(&loop->sig_blocked, signo);
    sigaddset(&loop->sig_mask, signo);
    int fd = signalfd(loop->sig_fd, &loop->sig_mask, SFD_NONBLOCK | SFD_CLOEXEC);
    if (fd < 0)
        return -errno;
    if (loop->sig_fd < 0) {
        loop->sig_fd = fd;
        loop->sig_watch = event_loop_add_fd(loop, fd, EVENT_READ, on_signal_fd, NULL);
        if (!loop->sig_watch)
            return -errno;
    }
    loop->sig[signo].fn = fn;
    loop->sig[signo].arg = arg;
    return 0;
}

int event_loop_watch_default_signals(struct event_loop *loop, event_signal_fn fn, void *arg)
{
    static const int signals[] = {SIGINT, SIGTERM, SIGCHLD};
    for (size_t i = 0; i < sizeof(signals) / sizeof(signals[0]); i++) {
        int rc = event_loop_watch_signal(loop, signals[i], fn, arg);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* --- life cycle and running ------------------------------------------------------------------ */

struct event_loop *event_loop_new(void)
{
    struct event_loop *loop = calloc(1, sizeof(*loop));
    if (!loop) {
        log_error("loop", "out of memory");
        return NULL;
    }
    loop->sig_fd = -1;
    loop->wake_fd = -1;
    sigemptyset(&loop->sig_mask);
    sigemptyset(&loop->sig_blocked);
    atomic_init(&loop->stop_requested, false);
    pthread_mutex_init(&loop->post_lock, NULL);
    loop->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (loop->epfd < 0)
        goto fail;
    loop->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (loop->wake_fd < 0)
        goto fail;
    loop->wake_watch = event_loop_add_fd(loop, loop->wake_fd, EVENT_READ, on_wake, NULL);
    if (!loop->wake_watch)
        goto fail;
    return loop;
fail:
    log_error("loop", "cannot create the event loop: %s", strerror(errno));
    event_loop_free(loop);
    return NULL;
}

void event_loop_free(struct event_loop *loop)
{
    if (!loop)
        return;
    /* Not dispatching (never called from a callback): everything can go at once. */
    for (struct event_watch *w = loop->watches, *next; w; w = next) {
        next = w->next;
        if (w->in_epoll)
            epoll_ctl(loop->epfd, EPOLL_CTL_DEL, w->fd, NULL);
        free(w);
    }
    for (struct event_timer *t = loop->timers, *next; t; t = next) {
        next = t->next;
        free(t);
    }
    free(loop->heap);
    if (loop->sig_fd >= 0) {
        /* Discard what is pending, or unblocking would deliver it with its default action. */
        struct signalfd_siginfo si;
        while (read(loop->sig_fd, &si, sizeof(si)) == (ssize_t)sizeof(si))
            ;
        close(loop->sig_fd);
        pthread_sigmask(SIG_UNBLOCK, &loop->sig_blocked, NULL);
    }
    if (loop->wake_fd >= 0)
        close(loop->wake_fd);
    if (loop->epfd >= 0)
        close(loop->epfd);
    pthread_mutex_destroy(&loop->post_lock);
    free(loop);
}

/* One wait (bounded by until_ns and the next timer) and its dispatch. */
static int loop_iterate(struct event_loop *loop, int64_t until_ns)
{
    int n = epoll_wait(loop->epfd, loop->batch, MAX_BATCH, wait_timeout_ms(loop, until_ns));
    if (n < 0) {
        if (errno == EINTR)
            return 0;
        int rc = -errno;
        log_error("loop", "epoll_wait: %s", strerror(errno));
        return rc;
    }
    dispatch_batch(loop, n);
    run_timers(loop);
    return 0;
}

static bool consume_stop(struct event_loop *loop)
{
    return atomic_exchange(&loop->stop_requested, false);
}

int event_loop_run(struct event_loop *loop)
{
    if (loop->running)
        return -EBUSY;
    loop->running = true;
    int rc = 0;
    while (rc == 0 && !consume_stop(loop))
        rc = loop_iterate(loop, INT64_MAX);
    loop->running = false;
    return rc;
}

int event_loop_run_until(struct event_loop *loop, const bool *done, int64_t deadline_ns)
{
    if (loop->running)
        return -EBUSY;
    loop->running = true;
    int rc = 0;
    while (rc == 0) {
        if (*done)
            break;
        if (consume_stop(loop))
            rc = -EINTR;
        else if (clock_now_ns() >= deadline_ns)
            rc = -ETIMEDOUT;
        else
            rc = loop_iterate(loop, deadline_ns);
    }
    loop->running = false;
    return rc;
}
