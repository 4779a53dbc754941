/*
 * test_output_queue — the congestion policy of output_queue.h at its boundaries.
 *
 * Issue: "Each output has a bounded queue. When its queued duration passes a threshold
 * (default 700 ms), drop non-key video until the next keyframe, never audio, and count the
 * drops. [...] Memory stays bounded whatever the network does."
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/clock.h"
#include "media/flv.h"
#include "media/output_queue.h"

#define THRESHOLD 700

static struct flv_tag *tag_new(enum flv_tag_type type, int64_t dts, bool key, bool header,
                               size_t size)
{
    struct flv_tag *t = flv_tag_new(type, size);
    assert_non_null(t);
    memset(t->body, 0xab, size);
    t->dts_ms = dts;
    t->keyframe = key;
    t->header = header;
    return t;
}

/* Pushes a new tag and drops the test's own reference; returns it for identity checks only. */
static const struct flv_tag *push(struct output_queue *q, enum flv_tag_type type, int64_t dts,
                                  bool key)
{
    struct flv_tag *t = tag_new(type, dts, key, false, 100);
    output_queue_push(q, t);
    flv_tag_unref(t);
    return t;
}

static const struct flv_tag *push_header(struct output_queue *q, enum flv_tag_type type)
{
    struct flv_tag *t = tag_new(type, 0, false, true, 10);
    output_queue_push(q, t);
    flv_tag_unref(t);
    return t;
}

/* Pops everything; returns how many tags there were and counts video tags in *video. */
static int drain(struct output_queue *q, int *video)
{
    int n = 0;
    if (video)
        *video = 0;
    struct flv_tag *t;
    while ((t = output_queue_pop(q, 0))) {
        n++;
        if (video && t->type == FLV_TAG_VIDEO)
            (*video)++;
        flv_tag_unref(t);
    }
    return n;
}

static struct output_queue *connected_queue(int64_t threshold, size_t max_bytes)
{
    struct output_queue *q = output_queue_create(threshold, max_bytes);
    assert_non_null(q);
    output_queue_set_connected(q, true);
    return q;
}

/* The queue takes its own reference and hands it over on pop, in FIFO order. */
static void test_fifo_and_references(void **state)
{
    (void)state;
    struct output_queue *q = connected_queue(THRESHOLD, 0);
    struct flv_tag *a = tag_new(FLV_TAG_VIDEO, 0, true, false, 50);
    struct flv_tag *b = tag_new(FLV_TAG_AUDIO, 10, false, false, 20);
    output_queue_push(q, a);
    output_queue_push(q, b);
    assert_int_equal(atomic_load(&a->refs), 2);
    assert_int_equal(output_queue_bytes(q), 70);
    assert_int_equal(output_queue_duration_ms(q), 10);
    struct flv_tag *p = output_queue_pop(q, 0);
    assert_ptr_equal(p, a);
    flv_tag_unref(p);
    p = output_queue_pop(q, 0);
    assert_ptr_equal(p, b);
    flv_tag_unref(p);
    assert_null(output_queue_pop(q, 0));
    assert_int_equal(output_queue_bytes(q), 0);
    assert_int_equal(atomic_load(&a->refs), 1);
    flv_tag_unref(a);
    flv_tag_unref(b);
    output_queue_destroy(q);
}

/* Exactly at the threshold is not "passed"; one millisecond more is. */
static void test_threshold_boundary(void **state)
{
    (void)state;
    struct output_queue *q = connected_queue(THRESHOLD, 0);
    push(q, FLV_TAG_VIDEO, 0, true);
    for (int64_t dts = 100; dts <= THRESHOLD; dts += 100)
        push(q, FLV_TAG_VIDEO, dts, false);
    assert_int_equal(output_queue_video_dropped(q), 0);
    assert_int_equal(output_queue_duration_ms(q), THRESHOLD);
    push(q, FLV_TAG_VIDEO, THRESHOLD + 1, false);
    assert_int_equal(output_queue_video_dropped(q), 1);
    assert_int_equal(output_queue_duration_ms(q), THRESHOLD);
    int video;
    assert_int_equal(drain(q, &video), 8);
    assert_int_equal(video, 8);
    output_queue_destroy(q);
}

/* "drop non-key video until the next keyframe": once dropping, a drained queue still drops
 * P frames; a keyframe ends it. */
static void test_keyframe_ends_dropping(void **state)
{
    (void)state;
    struct output_queue *q = connected_queue(THRESHOLD, 0);
    push(q, FLV_TAG_VIDEO, 0, true);
    push(q, FLV_TAG_VIDEO, 800, false); /* 800 > 700: dropped */
    assert_int_equal(output_queue_video_dropped(q), 1);
    assert_int_equal(drain(q, NULL), 1);
    push(q, FLV_TAG_VIDEO, 833, false); /* queue empty, but its reference is gone */
    push(q, FLV_TAG_VIDEO, 866, false);
    assert_int_equal(output_queue_video_dropped(q), 3);
    assert_int_equal(drain(q, NULL), 0);
    const struct flv_tag *key = push(q, FLV_TAG_VIDEO, 900, true);
    const struct flv_tag *p = push(q, FLV_TAG_VIDEO, 933, false);
    assert_int_equal(output_queue_video_dropped(q), 3);
    struct flv_tag *t = output_queue_pop(q, 0);
    assert_ptr_equal(t, key);
    flv_tag_unref(t);
    t = output_queue_pop(q, 0);
    assert_ptr_equal(t, p);
    flv_tag_unref(t);
    output_queue_destroy(q);
}

/* Above the threshold but under the hard limit, a keyframe is queued (it is what ends the
 * dropping); the non-key frames after it still go while the queue stays congested. */
static void test_keyframe_kept_above_threshold(void **state)
{
    (void)state;
    struct output_queue *q = connected_queue(THRESHOLD, 0);
    push(q, FLV_TAG_VIDEO, 0, true);
    push(q, FLV_TAG_VIDEO, 1000, true);
    assert_int_equal(output_queue_video_dropped(q), 0);
    push(q, FLV_TAG_VIDEO, 1033, false);
    assert_int_equal(output_queue_video_dropped(q), 1);
    int video;
    assert_int_equal(drain(q, &video), 2);
    assert_int_equal(video, 2);
    output_queue_destroy(q);
}

/* "never audio": audio far above the threshold is all queued. */
static void test_audio_never_dropped(void **state)
{
    (void)state;
    struct output_queue *q = connected_queue(THRESHOLD, 0);
    push(q, FLV_TAG_VIDEO, 0, true);
    int pushed = 0;
    for (int64_t dts = 0; dts <= 4 * THRESHOLD; dts += 23, pushed++)
        push(q, FLV_TAG_AUDIO, dts, false);
    push(q, FLV_TAG_VIDEO, 4 * THRESHOLD, false); /* congested: dropped */
    assert_int_equal(output_queue_video_dropped(q), 1);
    int video;
    assert_int_equal(drain(q, &video), pushed + 1);
    assert_int_equal(video, 1);
    output_queue_destroy(q);
}

/* "audio and header tags are always queued", even above the hard limit, and they do not make
 * the queue look long. */
static void test_headers_never_dropped(void **state)
{
    (void)state;
    struct output_queue *q = connected_queue(THRESHOLD, 0);
    push(q, FLV_TAG_VIDEO, 10000, true);
    push(q, FLV_TAG_AUDIO, 10000 + 4 * THRESHOLD + 1, false);
    assert_int_equal(output_queue_duration_ms(q), 4 * THRESHOLD + 1);
    push_header(q, FLV_TAG_VIDEO);
    push_header(q, FLV_TAG_AUDIO);
    push_header(q, FLV_TAG_SCRIPT);
    assert_int_equal(output_queue_duration_ms(q), 4 * THRESHOLD + 1);
    assert_int_equal(output_queue_video_dropped(q), 0);
    int video;
    assert_int_equal(drain(q, &video), 5);
    assert_int_equal(video, 2);
    output_queue_destroy(q);
}

/* A clear keeps the newest header of each kind (the sender needs it), drops the rest. */
static void test_clear_keeps_newest_headers(void **state)
{
    (void)state;
    struct output_queue *q = connected_queue(THRESHOLD, 0);
    push_header(q, FLV_TAG_VIDEO);
    push(q, FLV_TAG_VIDEO, 0, true);
    const struct flv_tag *avc2 = push_header(q, FLV_TAG_VIDEO);
    push(q, FLV_TAG_AUDIO, 5, false);
    const struct flv_tag *aac = push_header(q, FLV_TAG_AUDIO);
    push(q, FLV_TAG_VIDEO, 33, false);
    output_queue_clear(q);
    assert_int_equal(output_queue_video_dropped(q), 2);
    assert_int_equal(output_queue_bytes(q), 20);
    struct flv_tag *t = output_queue_pop(q, 0);
    assert_ptr_equal(t, avc2);
    flv_tag_unref(t);
    t = output_queue_pop(q, 0);
    assert_ptr_equal(t, aac);
    flv_tag_unref(t);
    assert_null(output_queue_pop(q, 0));
    output_queue_destroy(q);
}

/* "above the hard limit (HARD_LIMIT_FACTOR x threshold, or max_bytes), all video is dropped" */
static void test_hard_limit_drops_keyframes(void **state)
{
    (void)state;
    struct output_queue *q = connected_queue(THRESHOLD, 0);
    push(q, FLV_TAG_VIDEO, 0, true);
    push(q, FLV_TAG_AUDIO, 2000, false);
    push(q, FLV_TAG_VIDEO, 4 * THRESHOLD, true); /* exactly at the hard limit: kept */
    assert_int_equal(output_queue_video_dropped(q), 0);
    push(q, FLV_TAG_VIDEO, 4 * THRESHOLD + 1, true);
    assert_int_equal(output_queue_video_dropped(q), 1);
    output_queue_destroy(q);

    /* The byte limit: 100-byte tags against 250 bytes. */
    q = connected_queue(THRESHOLD, 250);
    push(q, FLV_TAG_VIDEO, 0, true);
    push(q, FLV_TAG_VIDEO, 33, true);
    push(q, FLV_TAG_VIDEO, 66, true);
    assert_int_equal(output_queue_video_dropped(q), 1);
    assert_int_equal(output_queue_bytes(q), 200);
    output_queue_destroy(q);
}

/* "while the output is disconnected, a keyframe clears the queue first, so it holds at most
 * one GOP" (a new queue starts disconnected: nothing has connected yet). */
static void test_disconnected_keeps_one_gop(void **state)
{
    (void)state;
    struct output_queue *q = output_queue_create(THRESHOLD, 0);
    assert_non_null(q);
    for (int gop = 0; gop < 3; gop++) {
        push(q, FLV_TAG_VIDEO, gop * 300, true);
        push(q, FLV_TAG_AUDIO, gop * 300 + 10, false);
        push(q, FLV_TAG_VIDEO, gop * 300 + 100, false);
        push(q, FLV_TAG_VIDEO, gop * 300 + 200, false);
    }
    assert_int_equal(output_queue_video_dropped(q), 6);
    assert_int_equal(output_queue_duration_ms(q), 200);
    struct flv_tag *t = output_queue_pop(q, 0);
    assert_true(t->keyframe);
    assert_int_equal(t->dts_ms, 600);
    flv_tag_unref(t);
    assert_int_equal(drain(q, NULL), 3);

    /* Connected, a keyframe does not clear. */
    output_queue_set_connected(q, true);
    push(q, FLV_TAG_VIDEO, 1000, true);
    push(q, FLV_TAG_VIDEO, 1033, false);
    push(q, FLV_TAG_VIDEO, 1066, true);
    assert_int_equal(drain(q, NULL), 3);
    assert_int_equal(output_queue_video_dropped(q), 6);
    output_queue_destroy(q);
}

/* "Memory stays bounded whatever the network does": a sender that never pops, audio alone. */
static void test_memory_backstop(void **state)
{
    (void)state;
    struct output_queue *q = connected_queue(100, 0); /* hard limit 400 ms */
    push(q, FLV_TAG_VIDEO, 0, true);
    for (int64_t dts = 0; dts < 60000; dts += 20) {
        push(q, FLV_TAG_AUDIO, dts, false);
        assert_true(output_queue_duration_ms(q) <= 800);
    }
    assert_true(output_queue_bytes(q) <= 41 * 100);
    assert_int_equal(output_queue_video_dropped(q), 1); /* the evicted keyframe is counted */
    push(q, FLV_TAG_VIDEO, 60000, false);               /* no reference left: dropped */
    assert_int_equal(output_queue_video_dropped(q), 2);
    int video;
    drain(q, &video);
    assert_int_equal(video, 0);
    output_queue_destroy(q);
}

static void test_pop_timeout(void **state)
{
    (void)state;
    struct output_queue *q = connected_queue(THRESHOLD, 0);
    int64_t t0 = clock_now_ns();
    assert_null(output_queue_pop(q, 50));
    int64_t waited = clock_now_ns() - t0;
    assert_true(waited >= 50 * NS_PER_MS);
    assert_true(waited < 1000 * NS_PER_MS);
    output_queue_destroy(q);
}

struct popper {
    struct output_queue *q;
    struct flv_tag *got;
    int64_t returned_ns;
};

static void *pop_thread(void *arg)
{
    struct popper *p = arg;
    p->got = output_queue_pop(p->q, 5000);
    p->returned_ns = clock_now_ns();
    return NULL;
}

/* A blocked pop returns NULL promptly on wake, and a tag promptly on push. */
static void test_wake_and_push_unblock(void **state)
{
    (void)state;
    struct output_queue *q = connected_queue(THRESHOLD, 0);
    struct popper p = {.q = q};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, pop_thread, &p), 0);
    clock_sleep_until_ns(clock_now_ns() + 30 * NS_PER_MS);
    int64_t woke = clock_now_ns();
    output_queue_wake(q);
    pthread_join(th, NULL);
    assert_null(p.got);
    assert_true(p.returned_ns - woke < 500 * NS_PER_MS);

    /* A wake with tags queued leaves them to be popped. */
    push(q, FLV_TAG_AUDIO, 0, false);
    output_queue_wake(q);
    struct flv_tag *t = output_queue_pop(q, 0);
    assert_non_null(t);
    flv_tag_unref(t);
    int64_t t0 = clock_now_ns();
    assert_null(output_queue_pop(q, 1000)); /* the pending wake: at once, not after 1 s */
    assert_true(clock_now_ns() - t0 < 500 * NS_PER_MS);

    p.got = NULL;
    assert_int_equal(pthread_create(&th, NULL, pop_thread, &p), 0);
    clock_sleep_until_ns(clock_now_ns() + 30 * NS_PER_MS);
    int64_t pushed = clock_now_ns();
    const struct flv_tag *a = push(q, FLV_TAG_AUDIO, 1, false);
    pthread_join(th, NULL);
    assert_ptr_equal(p.got, a);
    assert_true(p.returned_ns - pushed < 500 * NS_PER_MS);
    flv_tag_unref(p.got);
    output_queue_destroy(q);
}

/* destroy releases what is left (checked under ASan/valgrind); NULL is accepted. */
static void test_destroy_releases(void **state)
{
    (void)state;
    struct output_queue *q = connected_queue(THRESHOLD, 0);
    struct flv_tag *t = tag_new(FLV_TAG_VIDEO, 0, true, false, 10);
    output_queue_push(q, t);
    for (int i = 0; i < 200; i++) /* past the initial ring capacity */
        push(q, FLV_TAG_AUDIO, i, false);
    assert_int_equal(output_queue_bytes(q), 10 + 200 * 100);
    assert_int_equal(atomic_load(&t->refs), 2);
    output_queue_destroy(q);
    assert_int_equal(atomic_load(&t->refs), 1);
    flv_tag_unref(t);
    output_queue_destroy(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fifo_and_references),
        cmocka_unit_test(test_threshold_boundary),
        cmocka_unit_test(test_keyframe_ends_dropping),
        cmocka_unit_test(test_keyframe_kept_above_threshold),
        cmocka_unit_test(test_audio_never_dropped),
        cmocka_unit_test(test_headers_never_dropped),
        cmocka_unit_test(test_clear_keeps_newest_headers),
        cmocka_unit_test(test_hard_limit_drops_keyframes),
        cmocka_unit_test(test_disconnected_keeps_one_gop),
        cmocka_unit_test(test_memory_backstop),
        cmocka_unit_test(test_pop_timeout),
        cmocka_unit_test(test_wake_and_push_unblock),
        cmocka_unit_test(test_destroy_releases),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
