/*
 * test_event_loop — the control plane's event loop (src/core/event_loop.c): fd watches,
 * timers, removal from inside callbacks, posts from other threads, signals, run/stop.
 *
 * DESIGN.md §2: "Control plane (one thread, one event loop: poll/epoll over libcurl-multi
 * sockets, timerfd, signalfd, the control socket, and an eventfd the data plane signals on)".
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/clock.h"
#include "core/event_loop.h"

static int64_t in_ms(int ms)
{
    return clock_now_ns() + (int64_t)ms * NS_PER_MS;
}

static int64_t elapsed_ms(int64_t since_ns)
{
    return (clock_now_ns() - since_ns) / NS_PER_MS;
}

/* --- fd watches -------------------------------------------------------------------------- */

struct pipe_state {
    int fds[2];
    struct event_watch *rw, *ww;
    unsigned read_events, write_events;
    int writes, reads, eofs;
    char got;
    bool done;
};

static void on_pipe_write(struct event_loop *loop, int fd, unsigned events, void *arg)
{
    struct pipe_state *p = arg;
    p->write_events |= events;
    p->writes++;
    assert_int_equal(write(fd, "x", 1), 1);
    /* Interest 0: no more write readiness, although the pipe stays writable. */
    assert_int_equal(event_watch_modify(p->ww, 0), 0);
}

static void on_pipe_read(struct event_loop *loop, int fd, unsigned events, void *arg)
{
    struct pipe_state *p = arg;
    p->read_events |= events;
    char c;
    ssize_t n = read(fd, &c, 1);
    if (n == 1) {
        p->got = c;
        p->reads++;
    } else if (n == 0) {
        p->eofs++;
        event_watch_remove(p->rw);
        p->done = true;
    }
    if (p->reads == 1 && p->fds[1] >= 0) {
        event_watch_remove(p->ww);
        close(p->fds[1]); /* the reader must see the hang-up as readable + end of file */
        p->fds[1] = -1;
    }
}

static void test_fd_read_write_and_hangup(void **state)
{
    struct event_loop *loop = event_loop_new();
    assert_non_null(loop);
    struct pipe_state p = {0};
    assert_int_equal(pipe(p.fds), 0);
    p.rw = event_loop_add_fd(loop, p.fds[0], EVENT_READ, on_pipe_read, &p);
    p.ww = event_loop_add_fd(loop, p.fds[1], EVENT_WRITE, on_pipe_write, &p);
    assert_non_null(p.rw);
    assert_non_null(p.ww);
    assert_int_equal(event_loop_run_until(loop, &p.done, in_ms(2000)), 0);
    assert_int_equal(p.writes, 1);
    assert_int_equal(p.write_events, EVENT_WRITE);
    assert_int_equal(p.reads, 1);
    assert_int_equal(p.got, 'x');
    assert_int_equal(p.eofs, 1);
    assert_true(p.read_events & EVENT_READ);
    assert_false(p.read_events & EVENT_WRITE);
    close(p.fds[0]);
    event_loop_free(loop);
}

static void never_called_fd(struct event_loop *loop, int fd, unsigned events, void *arg)
{
    fail_msg("callback of a watch that should not fire (fd %d)", fd);
}

static void test_fd_duplicate_refused(void **state)
{
    struct event_loop *loop = event_loop_new();
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    /* Interest 0 is not registered with the kernel, so the loop must catch the duplicate. */
    struct event_watch *w = event_loop_add_fd(loop, fds[0], 0, never_called_fd, NULL);
    assert_non_null(w);
    errno = 0;
    assert_null(event_loop_add_fd(loop, fds[0], EVENT_READ, never_called_fd, NULL));
    assert_int_equal(errno, EEXIST);
    event_watch_remove(w);
    w = event_loop_add_fd(loop, fds[0], EVENT_READ, never_called_fd, NULL);
    assert_non_null(w);
    event_watch_remove(w);
    close(fds[0]);
    close(fds[1]);
    event_loop_free(loop);
}

/* Two readable pipes; whichever callback runs first removes the other watch, whose event is
 * already in the same epoll batch. The removed one must never run (and ASan sees no
 * use-after-free). */
struct pair_state {
    int a[2], b[2];
    struct event_watch *wa, *wb;
    int calls_a, calls_b;
};

static void on_a(struct event_loop *loop, int fd, unsigned events, void *arg)
{
    struct pair_state *s = arg;
    char c;
    assert_int_equal(read(fd, &c, 1), 1);
    s->calls_a++;
    event_watch_remove(s->wb);
    s->wb = NULL;
}

static void on_b(struct event_loop *loop, int fd, unsigned events, void *arg)
{
    struct pair_state *s = arg;
    char c;
    assert_int_equal(read(fd, &c, 1), 1);
    s->calls_b++;
    event_watch_remove(s->wa);
    s->wa = NULL;
}

static void test_remove_other_watch_inside_callback(void **state)
{
    struct event_loop *loop = event_loop_new();
    struct pair_state s = {0};
    assert_int_equal(pipe(s.a), 0);
    assert_int_equal(pipe(s.b), 0);
    assert_int_equal(write(s.a[1], "a", 1), 1);
    assert_int_equal(write(s.b[1], "b", 1), 1);
    s.wa = event_loop_add_fd(loop, s.a[0], EVENT_READ, on_a, &s);
    s.wb = event_loop_add_fd(loop, s.b[0], EVENT_READ, on_b, &s);
    bool never = false;
    assert_int_equal(event_loop_run_until(loop, &never, in_ms(50)), -ETIMEDOUT);
    assert_int_equal(s.calls_a + s.calls_b, 1);
    event_watch_remove(s.wa);
    event_watch_remove(s.wb);
    for (int i = 0; i < 2; i++) {
        close(s.a[i]);
        close(s.b[i]);
    }
    event_loop_free(loop);
}

/* The callback removes its own watch, closes the fd, and watches a new pipe that gets the
 * same fd number: the dead watch must neither block the new one nor receive its events. */
struct reuse_state {
    int fds[2];
    struct event_watch *w;
    int first_calls, second_calls;
    bool done;
};

static void on_second(struct event_loop *loop, int fd, unsigned events, void *arg)
{
    struct reuse_state *s = arg;
    s->second_calls++;
    s->done = true;
}

static void on_first(struct event_loop *loop, int fd, unsigned events, void *arg)
{
    struct reuse_state *s = arg;
    s->first_calls++;
    event_watch_remove(s->w);
    close(s->fds[0]);
    close(s->fds[1]);
    assert_int_equal(pipe(s->fds), 0);
    assert_int_equal(s->fds[0], fd); /* lowest free number: the one just closed */
    assert_int_equal(write(s->fds[1], "y", 1), 1);
    s->w = event_loop_add_fd(loop, s->fds[0], EVENT_READ, on_second, s);
    assert_non_null(s->w);
}

static void test_remove_self_and_reuse_fd_inside_callback(void **state)
{
    struct event_loop *loop = event_loop_new();
    struct reuse_state s = {0};
    assert_int_equal(pipe(s.fds), 0);
    assert_int_equal(write(s.fds[1], "x", 1), 1);
    s.w = event_loop_add_fd(loop, s.fds[0], EVENT_READ, on_first, &s);
    assert_int_equal(event_loop_run_until(loop, &s.done, in_ms(1000)), 0);
    assert_int_equal(s.first_calls, 1);
    assert_int_equal(s.second_calls, 1);
    event_watch_remove(s.w);
    close(s.fds[0]);
    close(s.fds[1]);
    event_loop_free(loop);
}

/* --- timers ------------------------------------------------------------------------------ */

struct timer_log {
    int order[16];
    int64_t fired_ms[16];
    int n;
    int64_t start_ns;
    bool done;
};

struct timer_tag {
    struct timer_log *log;
    int id;
    int delay_ms;
};

static void on_logged_timer(struct event_loop *loop, struct event_timer *t, void *arg)
{
    struct timer_tag *tag = arg;
    struct timer_log *log = tag->log;
    log->fired_ms[log->n] = elapsed_ms(log->start_ns);
    log->order[log->n++] = tag->id;
    assert_true(log->fired_ms[log->n - 1] >= tag->delay_ms); /* never early */
    if (log->n == 5)
        log->done = true;
}

static void test_timers_fire_in_deadline_order(void **state)
{
    struct event_loop *loop = event_loop_new();
    struct timer_log log = {.start_ns = clock_now_ns()};
    /* ids 3 and 4 have the same delay: the one started first fires first. */
    struct timer_tag tags[5] = {
        {&log, 5, 40}, {&log, 1, 10}, {&log, 3, 25}, {&log, 4, 25}, {&log, 2, 20},
    };
    struct event_timer *timers[5];
    for (int i = 0; i < 5; i++) {
        timers[i] = event_timer_new(loop, on_logged_timer, &tags[i]);
        assert_non_null(timers[i]);
    }
    for (int i = 0; i < 5; i++)
        event_timer_start(timers[i], (uint64_t)tags[i].delay_ms, 0);
    assert_int_equal(event_loop_run_until(loop, &log.done, in_ms(2000)), 0);
    assert_int_equal(log.n, 5);
    for (int i = 0; i < 5; i++)
        assert_int_equal(log.order[i], i + 1);
    for (int i = 0; i < 5; i++)
        assert_false(event_timer_active(timers[i]));
    event_loop_free(loop); /* frees the timers */
}

struct cancel_state {
    struct event_timer *victim_stop, *victim_free, *self_free;
    int victim_calls;
    int killer_calls;
    int self_free_calls;
};

static void on_victim(struct event_loop *loop, struct event_timer *t, void *arg)
{
    ((struct cancel_state *)arg)->victim_calls++;
}

static void on_killer(struct event_loop *loop, struct event_timer *t, void *arg)
{
    struct cancel_state *s = arg;
    s->killer_calls++;
    event_timer_stop(s->victim_stop);
    event_timer_free(s->victim_free);
    s->victim_free = NULL;
}

static void on_self_free(struct event_loop *loop, struct event_timer *t, void *arg)
{
    struct cancel_state *s = arg;
    s->self_free_calls++;
    event_timer_free(t);
    s->self_free = NULL;
}

static void test_timer_cancel_and_free_from_callbacks(void **state)
{
    struct event_loop *loop = event_loop_new();
    struct cancel_state s = {0};
    struct event_timer *killer = event_timer_new(loop, on_killer, &s);
    s.victim_stop = event_timer_new(loop, on_victim, &s);
    s.victim_free = event_timer_new(loop, on_victim, &s);
    s.self_free = event_timer_new(loop, on_self_free, &s);
    event_timer_start(killer, 10, 0);
    /* Same deadline as the killer but started later: due in the same pass, still cancelled. */
    event_timer_start(s.victim_stop, 10, 0);
    event_timer_start(s.victim_free, 30, 0);
    event_timer_start(s.self_free, 5, 1); /* repeating, frees itself on its first call */
    bool never = false;
    assert_int_equal(event_loop_run_until(loop, &never, in_ms(80)), -ETIMEDOUT);
    assert_int_equal(s.killer_calls, 1);
    assert_int_equal(s.victim_calls, 0);
    assert_int_equal(s.self_free_calls, 1);
    assert_null(s.self_free);
    assert_false(event_timer_active(s.victim_stop));
    event_loop_free(loop);
}

struct repeat_state {
    int calls;
    int64_t start_ns;
    int64_t at_ms[8];
    bool done;
};

static void on_repeat(struct event_loop *loop, struct event_timer *t, void *arg)
{
    struct repeat_state *s = arg;
    s->at_ms[s->calls++] = elapsed_ms(s->start_ns);
    if (s->calls == 5) {
        event_timer_stop(t);
        s->done = true;
    }
}

static void test_repeating_timer(void **state)
{
    struct event_loop *loop = event_loop_new();
    struct repeat_state s = {.start_ns = clock_now_ns()};
    struct event_timer *t = event_timer_new(loop, on_repeat, &s);
    event_timer_start(t, 20, 10);
    assert_true(event_timer_active(t));
    assert_int_equal(event_loop_run_until(loop, &s.done, in_ms(2000)), 0);
    /* Stopped from its own callback: no sixth call. */
    bool never = false;
    assert_int_equal(event_loop_run_until(loop, &never, in_ms(40)), -ETIMEDOUT);
    assert_int_equal(s.calls, 5);
    for (int i = 0; i < 5; i++)
        assert_true(s.at_ms[i] >= 20 + 10 * i);
    assert_true(s.at_ms[4] < 20 + 40 + 200);
    event_timer_free(t);
    event_loop_free(loop);
}

/* A timer that re-arms itself with delay 0 must not starve fd events. */
struct starve_state {
    int timer_calls;
    bool done;
};

static void on_zero_timer(struct event_loop *loop, struct event_timer *t, void *arg)
{
    ((struct starve_state *)arg)->timer_calls++;
    event_timer_start(t, 0, 0);
}

static void on_ready_fd(struct event_loop *loop, int fd, unsigned events, void *arg)
{
    ((struct starve_state *)arg)->done = true;
}

static void test_zero_delay_timer_does_not_starve_fds(void **state)
{
    struct event_loop *loop = event_loop_new();
    struct starve_state s = {0};
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    struct event_timer *t = event_timer_new(loop, on_zero_timer, &s);
    event_timer_start(t, 0, 0);
    assert_int_equal(write(fds[1], "z", 1), 1);
    struct event_watch *w = event_loop_add_fd(loop, fds[0], EVENT_READ, on_ready_fd, &s);
    assert_int_equal(event_loop_run_until(loop, &s.done, in_ms(1000)), 0);
    assert_true(s.timer_calls <= 2);
    event_watch_remove(w);
    close(fds[0]);
    close(fds[1]);
    event_loop_free(loop);
}

/* --- posts, stop, run_until -------------------------------------------------------------- */

#define POSTERS 4
#define POSTS_EACH 3000

struct post_state {
    struct event_loop *loop;
    pthread_t loop_thread;
    int total;
    int last_seq[POSTERS];
    int order_errors, thread_errors;
    bool done;
};

struct post_msg {
    struct post_state *s;
    int poster, seq;
};

static struct post_msg msgs[POSTERS][POSTS_EACH];

static void on_post(void *arg)
{
    struct post_msg *m = arg;
    struct post_state *s = m->s;
    if (!pthread_equal(pthread_self(), s->loop_thread))
        s->thread_errors++;
    if (m->seq != s->last_seq[m->poster] + 1)
        s->order_errors++;
    s->last_seq[m->poster] = m->seq;
    if (++s->total == POSTERS * POSTS_EACH)
        s->done = true;
}

static void *poster_main(void *arg)
{
    struct post_msg *row = arg;
    for (int i = 0; i < POSTS_EACH; i++) {
        int rc;
        while ((rc = event_loop_post(row[i].s->loop, on_post, &row[i])) == -EAGAIN)
            usleep(100);
        if (rc != 0)
            return (void *)1;
    }
    return NULL;
}

static void test_post_from_threads(void **state)
{
    struct event_loop *loop = event_loop_new();
    struct post_state s = {.loop = loop, .loop_thread = pthread_self()};
    for (int p = 0; p < POSTERS; p++) {
        s.last_seq[p] = -1;
        for (int i = 0; i < POSTS_EACH; i++)
            msgs[p][i] = (struct post_msg){&s, p, i};
    }
    pthread_t threads[POSTERS];
    for (int p = 0; p < POSTERS; p++)
        assert_int_equal(pthread_create(&threads[p], NULL, poster_main, msgs[p]), 0);
    int rc = event_loop_run_until(loop, &s.done, in_ms(10000));
    for (int p = 0; p < POSTERS; p++) {
        void *ret;
        pthread_join(threads[p], &ret);
        assert_null(ret);
    }
    assert_int_equal(rc, 0);
    assert_int_equal(s.total, POSTERS * POSTS_EACH);
    assert_int_equal(s.thread_errors, 0); /* every call ran on the loop thread */
    assert_int_equal(s.order_errors, 0);  /* in posting order, per poster */
    event_loop_free(loop);
}

static int counted;

static void on_count(void *arg)
{
    counted++;
}

static void test_post_capacity(void **state)
{
    struct event_loop *loop = event_loop_new();
    counted = 0;
    for (int i = 0; i < EVENT_LOOP_POST_CAPACITY; i++)
        assert_int_equal(event_loop_post(loop, on_count, NULL), 0);
    assert_int_equal(event_loop_post(loop, on_count, NULL), -EAGAIN);
    bool never = false;
    assert_int_equal(event_loop_run_until(loop, &never, in_ms(50)), -ETIMEDOUT);
    assert_int_equal(counted, EVENT_LOOP_POST_CAPACITY);
    assert_int_equal(event_loop_post(loop, on_count, NULL), 0); /* room again */
    /* Freeing drops the queued call. */
    event_loop_free(loop);
    assert_int_equal(counted, EVENT_LOOP_POST_CAPACITY);
}

static void *stopper_main(void *arg)
{
    usleep(50 * 1000);
    event_loop_stop(arg);
    return NULL;
}

static void test_stop_from_other_thread_and_run_until(void **state)
{
    struct event_loop *loop = event_loop_new();
    pthread_t th;
    int64_t t0 = clock_now_ns();
    assert_int_equal(pthread_create(&th, NULL, stopper_main, loop), 0);
    assert_int_equal(event_loop_run(loop), 0);
    pthread_join(th, NULL);
    int64_t ms = elapsed_ms(t0);
    assert_true(ms >= 45 && ms < 1000);

    /* The stop was consumed: the next run_until waits for its deadline. */
    bool done = false;
    t0 = clock_now_ns();
    assert_int_equal(event_loop_run_until(loop, &done, in_ms(60)), -ETIMEDOUT);
    ms = elapsed_ms(t0);
    assert_true(ms >= 59 && ms < 300);

    /* Already done: returns at once. */
    done = true;
    assert_int_equal(event_loop_run_until(loop, &done, INT64_MAX), 0);

    /* A stop while running run_until. */
    done = false;
    assert_int_equal(pthread_create(&th, NULL, stopper_main, loop), 0);
    assert_int_equal(event_loop_run_until(loop, &done, INT64_MAX), -EINTR);
    pthread_join(th, NULL);
    event_loop_free(loop);
}

static int nested_rc;

static void on_nested(struct event_loop *loop, struct event_timer *t, void *arg)
{
    nested_rc = event_loop_run(loop);
    *(bool *)arg = true;
}

static void test_run_refused_while_running(void **state)
{
    struct event_loop *loop = event_loop_new();
    bool done = false;
    struct event_timer *t = event_timer_new(loop, on_nested, &done);
    event_timer_start(t, 0, 0);
    assert_int_equal(event_loop_run_until(loop, &done, in_ms(1000)), 0);
    assert_int_equal(nested_rc, -EBUSY);
    event_loop_free(loop);
}

/* --- signals ----------------------------------------------------------------------------- */

struct sig_state {
    int got[4];
    int n;
    bool done;
};

static void on_sig(struct event_loop *loop, int signo, void *arg)
{
    struct sig_state *s = arg;
    if (s->n < 4)
        s->got[s->n++] = signo;
    s->done = true;
}

static bool blocked(int signo)
{
    sigset_t cur;
    pthread_sigmask(SIG_BLOCK, NULL, &cur);
    return sigismember(&cur, signo);
}

static void test_signals_through_signalfd(void **state)
{
    struct event_loop *loop = event_loop_new();
    struct sig_state s = {0};
    assert_int_equal(event_loop_watch_signal(loop, SIGUSR1, on_sig, &s), 0);
    assert_true(blocked(SIGUSR1));
    assert_int_equal(event_loop_watch_signal(loop, SIGKILL, on_sig, &s), -EINVAL);
    raise(SIGUSR1);
    assert_int_equal(event_loop_run_until(loop, &s.done, in_ms(1000)), 0);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.got[0], SIGUSR1);

    /* "SIGTERM/SIGINT → orderly stop": the default set routes them (and SIGCHLD) to fn. */
    assert_int_equal(event_loop_watch_default_signals(loop, on_sig, &s), 0);
    s = (struct sig_state){0};
    kill(getpid(), SIGTERM);
    assert_int_equal(event_loop_run_until(loop, &s.done, in_ms(1000)), 0);
    assert_int_equal(s.got[0], SIGTERM);

    s = (struct sig_state){0};
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        _exit(7);
    assert_int_equal(event_loop_run_until(loop, &s.done, in_ms(2000)), 0);
    assert_int_equal(s.got[0], SIGCHLD);
    int status;
    assert_int_equal(waitpid(pid, &status, WNOHANG), pid);
    assert_int_equal(WEXITSTATUS(status), 7);

    /* A pending signal is discarded on free, then the mask is restored. */
    raise(SIGUSR1);
    event_loop_free(loop);
    assert_false(blocked(SIGUSR1));
    assert_false(blocked(SIGTERM));
    assert_false(blocked(SIGCHLD));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fd_read_write_and_hangup),
        cmocka_unit_test(test_fd_duplicate_refused),
        cmocka_unit_test(test_remove_other_watch_inside_callback),
        cmocka_unit_test(test_remove_self_and_reuse_fd_inside_callback),
        cmocka_unit_test(test_timers_fire_in_deadline_order),
        cmocka_unit_test(test_timer_cancel_and_free_from_callbacks),
        cmocka_unit_test(test_repeating_timer),
        cmocka_unit_test(test_zero_delay_timer_does_not_starve_fds),
        cmocka_unit_test(test_post_from_threads),
        cmocka_unit_test(test_post_capacity),
        cmocka_unit_test(test_stop_from_other_thread_and_run_until),
        cmocka_unit_test(test_run_refused_while_running),
        cmocka_unit_test(test_signals_through_signalfd),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
