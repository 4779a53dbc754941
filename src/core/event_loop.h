/*
 * event_loop — the control plane's single event loop (DESIGN.md §2): one thread waits in epoll
 * on fd watches (libcurl-multi sockets, the control socket), a signalfd, and an eventfd through
 * which the data plane's threads hand work over; timers live in a min-heap whose earliest
 * deadline becomes the epoll_wait timeout.
 *
 * Why a heap and not one timerfd per timer: arming, re-arming and cancelling are then plain
 * memory operations (libcurl re-arms its timer on almost every call), no fd is spent per timer,
 * and the heap slot of every timer is reserved when the timer is created, so starting, firing
 * and cancelling never allocate. The cost is millisecond resolution (epoll_wait's timeout is
 * rounded up, so a timer never fires early), which is all the control plane needs.
 *
 * Threading: everything here is for the loop's own thread, except event_loop_post and
 * event_loop_stop, which any thread may call.
 *
 * Re-entrancy: from inside any callback it is safe to add, modify or remove any fd watch
 * (including the one being dispatched and others whose events are already pending: those are
 * then not delivered), and to start, stop or free any timer (including the one firing).
 * event_loop_free and event_loop_run* must not be called from a callback.
 */
#ifndef AGENTCAST_CORE_EVENT_LOOP_H
#define AGENTCAST_CORE_EVENT_LOOP_H

#include <stdbool.h>
#include <stdint.h>

struct event_loop;
struct event_watch;
struct event_timer;

/* Bit flags of fd interest and readiness. EVENT_ERROR (hang-up or socket error) is always
 * reported, whatever was asked for; a hang-up is also reported as EVENT_READ when reading was
 * asked for, so that a reader sees the end of file through read(). */
enum {
    EVENT_READ = 1u << 0,
    EVENT_WRITE = 1u << 1,
    EVENT_ERROR = 1u << 2,
};

/* Posted calls the loop can hold before event_loop_post refuses with -EAGAIN. */
#define EVENT_LOOP_POST_CAPACITY 1024

typedef void (*event_fd_fn)(struct event_loop *loop, int fd, unsigned events, void *arg);
typedef void (*event_timer_fn)(struct event_loop *loop, struct event_timer *timer, void *arg);
typedef void (*event_signal_fn)(struct event_loop *loop, int signo, void *arg);
typedef void (*event_post_fn)(void *arg);

/* A new loop, or NULL (out of memory or fds; logged). Freed with event_loop_free. */
struct event_loop *event_loop_new(void);

/* Frees the loop and every watch and timer still registered with it (their handles become
 * invalid; the watched fds are not closed: they belong to whoever added them). Calls still
 * queued by event_loop_post are dropped. Signals blocked by event_loop_watch_signal are
 * unblocked again after discarding any that are pending. Must be called on the thread that ran
 * the loop, after every thread that posts to it has stopped. NULL ok. */
void event_loop_free(struct event_loop *loop);

/* --- fd watches (level-triggered) -------------------------------------------------------- */

/* Watches fd for events (EVENT_READ | EVENT_WRITE; 0 = none for now) and calls fn on the loop
 * thread while the fd is ready. The fd stays the caller's; remove the watch before closing it
 * (once closed, its number may be reused by an fd that someone else watches). Returns a handle
 * owned by the loop, released by event_watch_remove or event_loop_free; NULL with errno set
 * (EEXIST when fd is already watched by this loop). */
struct event_watch *event_loop_add_fd(struct event_loop *loop, int fd, unsigned events,
                                      event_fd_fn fn, void *arg);
/* Changes the events of interest. Returns 0 or a negative errno. */
int event_watch_modify(struct event_watch *watch, unsigned events);
/* Stops watching and releases the handle. Events already pending for it are not delivered.
 * NULL ok. */
void event_watch_remove(struct event_watch *watch);

/* --- timers (CLOCK_MONOTONIC) ------------------------------------------------------------- */

/* A stopped timer that will call fn on the loop thread; NULL when out of memory. Owned by the
 * loop; released by event_timer_free or event_loop_free. */
struct event_timer *event_timer_new(struct event_loop *loop, event_timer_fn fn, void *arg);
/* (Re)starts the timer: first call delay_ms from now, then every interval_ms (0 = one-shot).
 * Restarting an active timer moves it. A repeating timer that falls behind skips the missed
 * periods instead of firing in a burst. Never allocates. */
void event_timer_start(struct event_timer *timer, uint64_t delay_ms, uint64_t interval_ms);
/* Cancels a pending call; the callback will not run until the next start. NULL ok. */
void event_timer_stop(struct event_timer *timer);
bool event_timer_active(const struct event_timer *timer);
/* Stops and frees. Safe inside the timer's own callback. NULL ok. */
void event_timer_free(struct event_timer *timer);

/* --- signals (signalfd) ------------------------------------------------------------------- */

/* Blocks signo in the calling thread and delivers it to fn on the loop thread instead
 * (replacing an earlier fn for the same signal). Call it on the loop thread BEFORE any other
 * thread is started: threads inherit the signal mask, and a thread that does not block the
 * signal would take it with its default action. Note that the mask is also inherited across
 * fork+exec, so a child process must be given an empty mask (posix_spawnattr_setsigmask).
 * Returns 0 or a negative errno. */
int event_loop_watch_signal(struct event_loop *loop, int signo, event_signal_fn fn, void *arg);
/* The control plane's usual set: SIGINT and SIGTERM (orderly stop) and SIGCHLD (reap children;
 * signals coalesce, so reap with waitpid(-1, …, WNOHANG) in a loop), all to fn. */
int event_loop_watch_default_signals(struct event_loop *loop, event_signal_fn fn, void *arg);

/* --- cross-thread hand-over --------------------------------------------------------------- */

/* Queues fn(arg) to run on the loop thread, in posting order, and wakes the loop. Safe from any
 * thread and from loop callbacks; never blocks on the loop and never allocates. Returns 0, or
 * -EAGAIN when EVENT_LOOP_POST_CAPACITY calls are already waiting (nothing is queued; the
 * caller decides whether to retry or coalesce). */
int event_loop_post(struct event_loop *loop, event_post_fn fn, void *arg);

/* --- running ------------------------------------------------------------------------------ */

/* Dispatches events until event_loop_stop. Returns 0 (stopped), -EBUSY when the loop is already
 * running, or another negative errno if epoll fails. */
int event_loop_run(struct event_loop *loop);

/* Dispatches events until *done is true (checked before waiting and after every dispatch; set
 * it from a callback), deadline_ns passes (CLOCK_MONOTONIC ns, see core/clock.h; INT64_MAX for
 * none) or event_loop_stop is called. Returns 0 when *done, -ETIMEDOUT at the deadline, -EINTR
 * when stopped, -EBUSY when the loop is already running. For one-shot CLI commands. */
int event_loop_run_until(struct event_loop *loop, const bool *done, int64_t deadline_ns);

/* Makes event_loop_run / event_loop_run_until return after the current dispatch. Thread-safe
 * and async-signal-safe. A stop requested while the loop is not running makes the next run
 * return at once; the request is consumed when a run returns because of it. */
void event_loop_stop(struct event_loop *loop);

#endif
