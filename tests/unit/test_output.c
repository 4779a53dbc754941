/*
 * test_output — the output wrapper (sender thread, headers, rebasing, reconnect, stop) against
 * a fake backend that records what it is given and fails on command.
 *
 * Issue: "Reconnect. On a dropped connection retry with growing, jittered, interruptible delay
 * (start 1 s, x1.5, cap 30 s), resume at a keyframe with fresh sequence headers." and "A dead or
 * slow output never stalls the encoder or another output."
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/clock.h"
#include "media/flv.h"
#include "media/output.h"
#include "media/output_internal.h"

/* ---- the fake backend ---- */

#define MAX_RECS 4096
#define MAX_OPENS 64

struct rec {
    int conn;                  /* 1 for the first successful open, 2 for the next, ... */
    const struct flv_tag *tag; /* identity only: the test keeps its tags alive */
    enum flv_tag_type type;
    bool header, keyframe;
    int64_t ts;
};

static struct fake {
    pthread_mutex_t lock;
    int opens, conns, closes, writes;
    int fail_opens;    /* the next n opens fail */
    int fail_write_at; /* the write with this number (1-based, all connections) fails */
    int write_delay_ms;
    bool block_open, block_write; /* block until opts.cancel_fd fires (at most 5 s) */
    int cancel_fd;                /* opts.cancel_fd of the last open */
    int64_t open_ns[MAX_OPENS];
    char urls[MAX_OPENS][128];
    struct rec recs[MAX_RECS];
    int nrecs;
} F = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* As a backend blocked on a server that never answers: only the cancel fd ends the wait. */
static int wait_for_cancel(int cancel_fd)
{
    struct pollfd pfd = {.fd = cancel_fd, .events = POLLIN};
    return poll(&pfd, 1, 5000) == 1 ? -ECANCELED : -ETIMEDOUT;
}

static int fake_open(void **state, const char *url, const struct output_options *opts)
{
    pthread_mutex_lock(&F.lock);
    F.cancel_fd = opts->cancel_fd;
    if (F.block_open) {
        F.opens++;
        pthread_mutex_unlock(&F.lock);
        return wait_for_cancel(opts->cancel_fd);
    }
    int n = F.opens++;
    if (n < MAX_OPENS) {
        F.open_ns[n] = clock_now_ns();
        snprintf(F.urls[n], sizeof(F.urls[n]), "%s", url);
    }
    int rc = 0;
    if (F.fail_opens > 0) {
        F.fail_opens--;
        rc = -ECONNREFUSED;
    } else {
        *state = (void *)(intptr_t)++F.conns;
    }
    pthread_mutex_unlock(&F.lock);
    return rc;
}

static int fake_write(void *state, const struct flv_tag *tag, int64_t ts_ms)
{
    pthread_mutex_lock(&F.lock);
    int n = ++F.writes;
    if (F.block_write) {
        int fd = F.cancel_fd;
        pthread_mutex_unlock(&F.lock);
        return wait_for_cancel(fd);
    }
    int delay = F.write_delay_ms;
    bool fail = n == F.fail_write_at;
    if (!fail && F.nrecs < MAX_RECS)
        F.recs[F.nrecs++] = (struct rec){.conn = (int)(intptr_t)state,
                                         .tag = tag,
                                         .type = tag->type,
                                         .header = tag->header,
                                         .keyframe = tag->keyframe,
                                         .ts = ts_ms};
    pthread_mutex_unlock(&F.lock);
    if (delay > 0)
        clock_sleep_until_ns(clock_now_ns() + delay * NS_PER_MS);
    return fail ? -EPIPE : 0;
}

static void fake_close(void *state)
{
    (void)state;
    pthread_mutex_lock(&F.lock);
    F.closes++;
    pthread_mutex_unlock(&F.lock);
}

static const struct output_backend_ops fake_backend = {
    .name = "fake",
    .retry = true,
    .open = fake_open,
    .write = fake_write,
    .close = fake_close,
};

static const struct output_backend_ops fake_file_backend = {
    .name = "fakefile",
    .retry = false,
    .open = fake_open,
    .write = fake_write,
    .close = fake_close,
};

static int setup(void **state)
{
    (void)state;
    pthread_mutex_lock(&F.lock);
    F.opens = F.conns = F.closes = F.writes = F.nrecs = 0;
    F.fail_opens = 0;
    F.fail_write_at = -1;
    F.write_delay_ms = 0;
    F.block_open = F.block_write = false;
    F.cancel_fd = -1;
    pthread_mutex_unlock(&F.lock);
    return 0;
}

static int fake_get(const int *field)
{
    pthread_mutex_lock(&F.lock);
    int v = *field;
    pthread_mutex_unlock(&F.lock);
    return v;
}

/* Polls until *field >= want or timeout_ms passes; returns whether it got there. */
static bool wait_for(const int *field, int want, int timeout_ms)
{
    int64_t deadline = clock_now_ns() + timeout_ms * NS_PER_MS;
    while (fake_get(field) < want) {
        if (clock_now_ns() > deadline)
            return false;
        clock_sleep_until_ns(clock_now_ns() + NS_PER_MS);
    }
    return true;
}

/* Waits until a recorded tag satisfies the given connection and identity. */
static bool wait_for_tag(int conn, const struct flv_tag *tag, int timeout_ms)
{
    int64_t deadline = clock_now_ns() + timeout_ms * NS_PER_MS;
    for (;;) {
        pthread_mutex_lock(&F.lock);
        bool found = false;
        for (int i = 0; i < F.nrecs && !found; i++)
            found = F.recs[i].conn == conn && F.recs[i].tag == tag;
        pthread_mutex_unlock(&F.lock);
        if (found)
            return true;
        if (clock_now_ns() > deadline)
            return false;
        clock_sleep_until_ns(clock_now_ns() + NS_PER_MS);
    }
}

/* Copies the records of one connection; returns how many. */
static int recs_of(int conn, struct rec *out, int max)
{
    int n = 0;
    pthread_mutex_lock(&F.lock);
    for (int i = 0; i < F.nrecs && n < max; i++)
        if (F.recs[i].conn == conn)
            out[n++] = F.recs[i];
    pthread_mutex_unlock(&F.lock);
    return n;
}

/* ---- tags ---- */

static struct flv_tag *tag_new(enum flv_tag_type type, int64_t dts, bool key, bool header)
{
    struct flv_tag *t = flv_tag_new(type, 64);
    assert_non_null(t);
    memset(t->body, 0x5a, 64);
    t->dts_ms = dts;
    t->keyframe = key;
    t->header = header;
    return t;
}

static struct flv_tag *video(int64_t dts, bool key)
{
    return tag_new(FLV_TAG_VIDEO, dts, key, false);
}

static struct flv_tag *audio(int64_t dts)
{
    return tag_new(FLV_TAG_AUDIO, dts, false, false);
}

/* Pushes tag and keeps the test's reference in keep[] for identity checks. */
static struct flv_tag *push_keep(struct output *out, struct flv_tag *tag, struct flv_tag **keep,
                                 int *nkeep)
{
    output_push(out, tag);
    keep[(*nkeep)++] = tag;
    return tag;
}

static void unref_all(struct flv_tag **keep, int n)
{
    for (int i = 0; i < n; i++)
        flv_tag_unref(keep[i]);
}

static struct output_options fast_options(void)
{
    struct output_options o;
    output_options_default(&o);
    o.reconnect_initial_ms = 10;
    o.reconnect_max_ms = 100;
    o.flush_timeout_ms = 300;
    return o;
}

struct headers {
    struct flv_tag *meta, *avc, *aac;
};

static struct headers make_headers(void)
{
    return (struct headers){
        .meta = tag_new(FLV_TAG_SCRIPT, 0, false, true),
        .avc = tag_new(FLV_TAG_VIDEO, 0, false, true),
        .aac = tag_new(FLV_TAG_AUDIO, 0, false, true),
    };
}

static void free_headers(struct headers *h)
{
    flv_tag_unref(h->meta);
    flv_tag_unref(h->avc);
    flv_tag_unref(h->aac);
}

static void assert_headers_first(const struct rec *r, int n, const struct flv_tag *meta,
                                 const struct flv_tag *avc, const struct flv_tag *aac)
{
    assert_true(n >= 3);
    assert_ptr_equal(r[0].tag, meta);
    assert_ptr_equal(r[1].tag, avc);
    assert_ptr_equal(r[2].tag, aac);
    for (int i = 0; i < 3; i++)
        assert_int_equal(r[i].ts, 0);
}

/* ---- tests ---- */

/* "sends the stream headers (onMetaData, AVC and AAC sequence headers) and then the queued tags
 * from a keyframe on, with timestamps rebased so each connection starts at 0" */
static void test_headers_keyframe_rebase(void **state)
{
    (void)state;
    struct output_options o = fast_options();
    struct output *out = output_start_with_backend(&fake_backend, "fake://h/app/key", &o);
    assert_non_null(out);
    struct headers h = make_headers();
    output_set_headers(out, h.meta, h.avc, h.aac);
    struct flv_tag *keep[16];
    int nk = 0;
    push_keep(out, video(100, false), keep, &nk); /* before any keyframe: skipped */
    push_keep(out, audio(110), keep, &nk);        /* before the keyframe: skipped */
    struct flv_tag *key = push_keep(out, video(200, true), keep, &nk);
    struct flv_tag *a = push_keep(out, audio(210), keep, &nk);
    struct flv_tag *p = push_keep(out, video(233, false), keep, &nk);
    assert_true(wait_for_tag(1, p, 2000));

    struct rec r[16];
    int n = recs_of(1, r, 16);
    assert_int_equal(n, 6);
    assert_headers_first(r, n, h.meta, h.avc, h.aac);
    assert_ptr_equal(r[3].tag, key);
    assert_int_equal(r[3].ts, 0);
    assert_ptr_equal(r[4].tag, a);
    assert_int_equal(r[4].ts, 10);
    assert_ptr_equal(r[5].tag, p);
    assert_int_equal(r[5].ts, 33);

    struct output_stats s;
    output_get_stats(out, &s);
    assert_true(s.connected);
    assert_int_equal(s.video_sent, 2);
    assert_int_equal(s.video_dropped, 1);
    assert_int_equal(s.bytes_sent, 6 * 64);
    assert_int_equal(s.reconnects, 0);
    output_stop(out);
    assert_int_equal(fake_get(&F.closes), 1);
    unref_all(keep, nk);
    free_headers(&h);
}

struct provider {
    int calls;
    bool reconnect[8];
};

static char *provide_url(void *opaque, bool reconnect)
{
    struct provider *p = opaque;
    char *url = malloc(64);
    assert_non_null(url);
    snprintf(url, 64, "fake://h/app/key%d", p->calls);
    if (p->calls < 8)
        p->reconnect[p->calls] = reconnect;
    p->calls++;
    return url;
}

/* "On a write error a retrying output reconnects [...] and resumes at a keyframe with fresh
 * headers"; the url_provider is asked before every (re)connect and its URL is used. A header
 * pushed mid-stream is sent in-band and replaces the stored one for the next connection. */
static void test_reconnect_fresh_headers(void **state)
{
    (void)state;
    struct provider prov = {0};
    struct output_options o = fast_options();
    o.url_provider = provide_url;
    o.url_provider_opaque = &prov;
    pthread_mutex_lock(&F.lock);
    F.fail_write_at = 7; /* 3 headers, key, new AVC header, P: the next write fails */
    pthread_mutex_unlock(&F.lock);
    struct output *out =
        output_start_with_backend(&fake_backend, "fake://h/app/startkey123456", &o);
    assert_non_null(out);
    struct headers h = make_headers();
    output_set_headers(out, h.meta, h.avc, h.aac);
    struct flv_tag *keep[32];
    int nk = 0;
    push_keep(out, video(0, true), keep, &nk);
    struct flv_tag *avc2 = push_keep(out, tag_new(FLV_TAG_VIDEO, 20, false, true), keep, &nk);
    push_keep(out, video(33, false), keep, &nk);
    push_keep(out, video(66, false), keep, &nk); /* this write fails */
    assert_true(wait_for(&F.conns, 2, 2000));

    struct rec r[32];
    int n = recs_of(1, r, 32);
    assert_int_equal(n, 6);
    assert_ptr_equal(r[4].tag, avc2); /* in-band, at the last timestamp sent */
    assert_int_equal(r[4].ts, 0);

    push_keep(out, video(1000, false), keep, &nk); /* the new connection starts at a key */
    struct flv_tag *key = push_keep(out, video(1033, true), keep, &nk);
    struct flv_tag *a = push_keep(out, audio(1040), keep, &nk);
    assert_true(wait_for_tag(2, a, 2000));
    n = recs_of(2, r, 32);
    assert_int_equal(n, 5);
    assert_headers_first(r, n, h.meta, avc2, h.aac);
    assert_ptr_equal(r[3].tag, key);
    assert_int_equal(r[3].ts, 0);
    assert_int_equal(r[4].ts, 7);

    assert_int_equal(prov.calls, 2);
    assert_false(prov.reconnect[0]);
    assert_true(prov.reconnect[1]);
    pthread_mutex_lock(&F.lock);
    assert_string_equal(F.urls[0], "fake://h/app/key0");
    assert_string_equal(F.urls[1], "fake://h/app/key1");
    pthread_mutex_unlock(&F.lock);
    assert_int_equal(fake_get(&F.closes), 1);

    struct output_stats s;
    output_get_stats(out, &s);
    assert_int_equal(s.reconnects, 1);
    /* stats name the URL in use now (the provider's "key1", short enough to be hidden whole),
     * while the display name stays the start URL's */
    assert_string_equal(s.name, "fake://h/app/\xe2\x80\xa6");
    assert_int_equal(s.video_dropped, 2); /* the failed write and the P frame before the key */
    assert_string_equal(output_display_name(out), "fake://h/app/\xe2\x80\xa6"
                                                  "3456");
    output_stop(out);
    unref_all(keep, nk);
    free_headers(&h);
}

/* "growing, jittered [...] delay (start 1 s, x1.5, cap 30 s)" with +-20 % jitter. */
static void test_delay_formula(void **state)
{
    (void)state;
    struct output_options o;
    output_options_default(&o);
    assert_int_equal(o.reconnect_initial_ms, 1000);
    assert_true(o.reconnect_factor == 1.5);
    assert_int_equal(o.reconnect_max_ms, 30000);
    uint32_t rng = 12345;
    double base = 1000;
    for (int k = 0; k < 14; k++, base *= 1.5) {
        double expect = base < 30000 ? base : 30000;
        int lo = 1 << 30, hi = 0;
        for (int i = 0; i < 500; i++) {
            int d = output_reconnect_delay_ms(&o, k, &rng);
            lo = d < lo ? d : lo;
            hi = d > hi ? d : hi;
        }
        assert_true(lo >= (int)(0.8 * expect) && hi <= 30000);
        assert_true(hi <= (int)(1.2 * expect + 1));
        assert_true(lo < 0.9 * expect); /* the jitter is real, both ways below the cap */
        if (expect < 25000)
            assert_true(hi > 1.1 * expect);
    }
}

/* The same, end to end: time between failing connect attempts. */
static void test_delay_grows_between_attempts(void **state)
{
    (void)state;
    struct output_options o = fast_options();
    o.reconnect_initial_ms = 20;
    o.reconnect_max_ms = 1000;
    pthread_mutex_lock(&F.lock);
    F.fail_opens = 1000;
    pthread_mutex_unlock(&F.lock);
    struct output *out = output_start_with_backend(&fake_backend, "fake://h/app/k", &o);
    assert_non_null(out);
    assert_true(wait_for(&F.opens, 5, 3000));
    output_stop(out);
    double base = 20;
    pthread_mutex_lock(&F.lock);
    for (int i = 1; i < 5; i++, base *= 1.5) {
        double gap_ms = (double)(F.open_ns[i] - F.open_ns[i - 1]) / NS_PER_MS;
        assert_true(gap_ms >= 0.8 * base - 0.5);
        assert_true(gap_ms <= 1.2 * base + 100); /* scheduling slack on a shared machine */
    }
    pthread_mutex_unlock(&F.lock);
}

/* "interruptible": output_stop cuts a long reconnect wait short. */
static void test_stop_interrupts_wait(void **state)
{
    (void)state;
    struct output_options o = fast_options();
    o.reconnect_initial_ms = 10000;
    o.reconnect_max_ms = 10000;
    pthread_mutex_lock(&F.lock);
    F.fail_opens = 1000;
    pthread_mutex_unlock(&F.lock);
    struct output *out = output_start_with_backend(&fake_backend, "fake://h/app/k", &o);
    assert_non_null(out);
    assert_true(wait_for(&F.opens, 1, 1000));
    clock_sleep_until_ns(clock_now_ns() + 20 * NS_PER_MS);
    int64_t t0 = clock_now_ns();
    output_stop(out);
    assert_true(clock_now_ns() - t0 < 200 * NS_PER_MS);
    assert_int_equal(fake_get(&F.opens), 1);
}

/* "A dead or slow output never stalls the encoder": pushes return at once while the backend
 * takes 50 ms a tag; the queue drops (counted) and stays bounded; stop is bounded by the flush
 * timeout plus one write. */
static void test_slow_backend_drops(void **state)
{
    (void)state;
    struct output_options o = fast_options();
    o.drop_threshold_ms = 100;
    o.flush_timeout_ms = 100;
    pthread_mutex_lock(&F.lock);
    F.write_delay_ms = 50;
    pthread_mutex_unlock(&F.lock);
    struct output *out = output_start_with_backend(&fake_backend, "fake://h/app/k", &o);
    assert_non_null(out);
    assert_true(wait_for(&F.conns, 1, 1000));
    int64_t worst = 0;
    for (int i = 0; i < 150; i++) {
        struct flv_tag *t = video(i * 33, i % 30 == 0);
        int64_t t0 = clock_now_ns();
        output_push(out, t);
        int64_t took = clock_now_ns() - t0;
        worst = took > worst ? took : worst;
        flv_tag_unref(t);
        if (i % 10 == 0)
            clock_sleep_until_ns(clock_now_ns() + 2 * NS_PER_MS);
    }
    assert_true(worst < 25 * NS_PER_MS); /* never waits for a 50 ms write */
    struct output_stats s;
    output_get_stats(out, &s);
    assert_true(s.video_dropped > 100);
    assert_true(s.queued_ms <= 400);
    int64_t t0 = clock_now_ns();
    output_stop(out);
    assert_true(clock_now_ns() - t0 < (100 + 50 + 200) * NS_PER_MS);
}

/* Issue: "SIGINT/SIGTERM: [...] exit 0 within 2 s", also while a connect hangs: stop while the
 * backend's open waits on a silent server fires the cancel fd at once. */
static void test_stop_cancels_blocked_open(void **state)
{
    (void)state;
    struct output_options o = fast_options();
    pthread_mutex_lock(&F.lock);
    F.block_open = true;
    pthread_mutex_unlock(&F.lock);
    struct output *out = output_start_with_backend(&fake_backend, "fake://h/app/k", &o);
    assert_non_null(out);
    assert_true(wait_for(&F.opens, 1, 1000));
    int64_t t0 = clock_now_ns();
    output_stop(out);
    int64_t took_ms = (clock_now_ns() - t0) / NS_PER_MS;
    assert_true(fake_get(&F.cancel_fd) >= 0); /* the backend was given a cancel fd */
    assert_true(took_ms < 100);
    assert_int_equal(fake_get(&F.opens), 1); /* a cancelled open is not retried */
    print_message("    stop with a blocked open took %lld ms\n", (long long)took_ms);
}

/* ... and while a write is blocked by a stalled server: the flush gets flush_timeout_ms, then the
 * cancel fd ends the write, and the connection is closed. */
static void test_stop_cancels_blocked_write(void **state)
{
    (void)state;
    struct output_options o = fast_options(); /* flush_timeout_ms 300 */
    struct output *out = output_start_with_backend(&fake_backend, "fake://h/app/k", &o);
    assert_non_null(out);
    assert_true(wait_for(&F.conns, 1, 1000));
    pthread_mutex_lock(&F.lock);
    F.block_write = true;
    pthread_mutex_unlock(&F.lock);
    struct flv_tag *t = video(0, true);
    output_push(out, t);
    flv_tag_unref(t);
    assert_true(wait_for(&F.writes, 1, 1000));
    int64_t t0 = clock_now_ns();
    output_stop(out);
    int64_t took_ms = (clock_now_ns() - t0) / NS_PER_MS;
    assert_true(took_ms >= 300);            /* the flush deadline was honoured first */
    assert_true(took_ms < 300 + 200 + 100); /* + the join slack, + a prompt return */
    assert_int_equal(fake_get(&F.closes), 1);
    print_message("    stop with a blocked write took %lld ms (flush timeout 300 ms)\n",
                  (long long)took_ms);
}

/* output_reconnect — the platform's recovery: "every reconnect of the output … first gets new
 * agent/rtmp credentials …, then publishes at a keyframe on the new URL": a blocked write is
 * abandoned at once, the provider is asked (reconnect = true) and its URL used without the
 * reconnect delay. */
static void test_reconnect_on_request(void **state)
{
    (void)state;
    struct provider prov = {0};
    struct output_options o = fast_options();
    o.reconnect_initial_ms = 5000; /* a normal failure would wait this long */
    o.url_provider = provide_url;
    o.url_provider_opaque = &prov;
    struct output *out = output_start_with_backend(&fake_backend, "fake://h/app/k", &o);
    assert_non_null(out);
    assert_true(wait_for(&F.conns, 1, 1000));
    pthread_mutex_lock(&F.lock);
    F.block_write = true;
    pthread_mutex_unlock(&F.lock);
    struct flv_tag *t = video(0, true);
    output_push(out, t);
    flv_tag_unref(t);
    assert_true(wait_for(&F.writes, 1, 1000));
    pthread_mutex_lock(&F.lock);
    F.block_write = false;
    pthread_mutex_unlock(&F.lock);
    int64_t t0 = clock_now_ns();
    output_reconnect(out);
    assert_true(wait_for(&F.conns, 2, 1000));
    assert_true((clock_now_ns() - t0) / NS_PER_MS < 500);
    assert_int_equal(prov.calls, 2);
    assert_true(prov.reconnect[1]);
    pthread_mutex_lock(&F.lock);
    assert_string_equal(F.urls[1], "fake://h/app/key1");
    pthread_mutex_unlock(&F.lock);
    /* the new connection is usable: the drained cancel does not cut it */
    struct flv_tag *k = video(100, true);
    output_push(out, k);
    assert_true(wait_for_tag(2, k, 1000));
    flv_tag_unref(k);
    output_stop(out);
}

/* capture→socket latency: now - capture_ns after a successful video write; window reset. */
static void test_latency_recorded(void **state)
{
    (void)state;
    struct output_options o = fast_options();
    struct output *out = output_start_with_backend(&fake_backend, "fake://h/app/k", &o);
    assert_non_null(out);
    struct flv_tag *t = video(0, true);
    t->capture_ns = clock_now_ns() - 5 * NS_PER_MS;
    output_push(out, t);
    assert_true(wait_for_tag(1, t, 1000));
    struct output_stats s;
    output_get_stats(out, &s);
    assert_true(s.latency_p50_us >= 5000 && s.latency_p50_us < 1000000);
    assert_true(s.latency_p99_us >= s.latency_p50_us);
    output_get_stats(out, &s);
    assert_int_equal(s.latency_p50_us, -1);
    assert_int_equal(s.latency_p99_us, -1);
    output_stop(out);
    flv_tag_unref(t);
}

/* "Sends what is queued (up to flush_timeout_ms), closes": nothing pushed before stop is lost
 * with a healthy backend. */
static void test_stop_flushes(void **state)
{
    (void)state;
    struct output_options o = fast_options();
    struct output *out = output_start_with_backend(&fake_backend, "fake://h/app/k", &o);
    assert_non_null(out);
    assert_true(wait_for(&F.conns, 1, 1000));
    for (int i = 0; i < 20; i++) {
        struct flv_tag *t = video(i * 33, i == 0);
        output_push(out, t);
        flv_tag_unref(t);
    }
    output_stop(out);
    assert_int_equal(fake_get(&F.nrecs), 20);
    assert_int_equal(fake_get(&F.closes), 1);
}

/* "Non-retrying backends (file) that fail set stats.failed and drop everything thereafter." */
static void test_non_retrying_failure(void **state)
{
    (void)state;
    struct output_options o = fast_options();
    pthread_mutex_lock(&F.lock);
    F.fail_opens = 1;
    pthread_mutex_unlock(&F.lock);
    struct output *out = output_start_with_backend(&fake_file_backend, "/x.flv", &o);
    assert_non_null(out);
    struct output_stats s = {0};
    for (int i = 0; i < 1000 && !s.failed; i++) {
        clock_sleep_until_ns(clock_now_ns() + NS_PER_MS);
        output_get_stats(out, &s);
    }
    assert_true(s.failed);
    struct flv_tag *t = video(0, true);
    output_push(out, t);
    assert_int_equal(atomic_load(&t->refs), 1); /* not queued */
    output_get_stats(out, &s);
    assert_int_equal(s.queued_bytes, 0);
    clock_sleep_until_ns(clock_now_ns() + 30 * NS_PER_MS);
    assert_int_equal(fake_get(&F.opens), 1); /* never retried */
    output_stop(out);
    flv_tag_unref(t);
}

/* output_start picks the backend from the URL and refuses what it cannot parse. An rtmp URL
 * gets the retrying RTMP backend: refused connects (a closed loopback port) are retried, never
 * "failed", and stop stays prompt. */
static void test_start_picks_backend(void **state)
{
    (void)state;
    assert_null(output_start("ftp://example/live/key", NULL));
    assert_null(output_start("rtmp://", NULL));
    output_stop(NULL);

    struct output_options o = fast_options();
    struct output *out = output_start("rtmp://127.0.0.1:1/live/secretkey9876", &o);
    assert_non_null(out);
    assert_null(strstr(output_display_name(out), "secretkey"));
    clock_sleep_until_ns(clock_now_ns() + 100 * NS_PER_MS);
    struct output_stats s;
    output_get_stats(out, &s);
    assert_false(s.connected);
    assert_false(s.failed);
    int64_t t0 = clock_now_ns();
    output_stop(out);
    assert_true(clock_now_ns() - t0 < 500 * NS_PER_MS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_headers_keyframe_rebase, setup),
        cmocka_unit_test_setup(test_reconnect_fresh_headers, setup),
        cmocka_unit_test_setup(test_delay_formula, setup),
        cmocka_unit_test_setup(test_delay_grows_between_attempts, setup),
        cmocka_unit_test_setup(test_stop_interrupts_wait, setup),
        cmocka_unit_test_setup(test_slow_backend_drops, setup),
        cmocka_unit_test_setup(test_stop_cancels_blocked_open, setup),
        cmocka_unit_test_setup(test_stop_cancels_blocked_write, setup),
        cmocka_unit_test_setup(test_reconnect_on_request, setup),
        cmocka_unit_test_setup(test_latency_recorded, setup),
        cmocka_unit_test_setup(test_stop_flushes, setup),
        cmocka_unit_test_setup(test_non_retrying_failure, setup),
        cmocka_unit_test_setup(test_start_picks_backend, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
