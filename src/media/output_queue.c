/*
 * output_queue — the bounded queue between the media thread (push, never blocks) and one
 * output's sender thread (pop), and the congestion policy of output_queue.h.
 *
 * Tags are held by reference in a ring that grows by doubling; what bounds it is the policy,
 * not the ring. Details the header leaves open, decided here:
 *  - "Queued duration" is measured over media tags only (header tags may carry dts 0 and would
 *    otherwise make an idle queue look seconds long). The test on push uses the duration the
 *    queue would have with the new tag, and "passes" means strictly greater than.
 *  - Once a video tag has been dropped, every non-key video tag is dropped until a keyframe is
 *    queued: a P frame whose reference is gone only decodes to garbage.
 *  - max_bytes == 0 means no byte limit (duration limits only).
 *  - Header tags survive output_queue_clear and the disconnected keyframe clear, except that
 *    only the newest of each kind is kept: the sender needs them to know which headers the
 *    next connection starts with, and keeping one per kind keeps that bounded.
 *  - Memory backstop: audio is never dropped by the congestion policy, but a connection that
 *    cannot even carry audio would grow the queue without end. When the queued duration passes
 *    BACKSTOP_FACTOR x the hard limit (or the bytes BACKSTOP_FACTOR x max_bytes), all queued
 *    video and the oldest audio go until the queue is back under the hard limit (logged).
 */
#include "media/output_queue.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "core/clock.h"
#include "core/log.h"

#define HARD_LIMIT_FACTOR 4
#define BACKSTOP_FACTOR 2
#define INITIAL_CAPACITY 64
#define BACKSTOP_LOG_EVERY_NS (10 * NS_PER_SEC)

static const char *COMPONENT = "output";

struct output_queue {
    pthread_mutex_t lock;
    pthread_cond_t cond; /* signalled on push and wake */
    struct flv_tag **ring;
    size_t cap, head, count;
    size_t bytes; /* sum of the queued bodies */
    int64_t threshold_ms, hard_ms;
    size_t max_bytes; /* 0: no byte limit */
    bool dropping;    /* non-key video is dropped until the next keyframe */
    bool connected;
    bool wake; /* the next pop that would wait returns NULL instead */
    uint64_t video_dropped;
    uint64_t audio_evicted; /* by the memory backstop only */
    int64_t backstop_logged_ns;
};

static struct flv_tag *at(const struct output_queue *q, size_t i)
{
    return q->ring[(q->head + i) % q->cap];
}

static struct flv_tag **slot(struct output_queue *q, size_t i)
{
    return &q->ring[(q->head + i) % q->cap];
}

struct output_queue *output_queue_create(int64_t drop_threshold_ms, size_t max_bytes)
{
    struct output_queue *q = calloc(1, sizeof(*q));
    if (!q)
        return NULL;
    q->ring = calloc(INITIAL_CAPACITY, sizeof(*q->ring));
    if (!q->ring) {
        free(q);
        return NULL;
    }
    q->cap = INITIAL_CAPACITY;
    q->threshold_ms = drop_threshold_ms;
    q->hard_ms = HARD_LIMIT_FACTOR * drop_threshold_ms;
    q->max_bytes = max_bytes;
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&q->cond, &attr);
    pthread_condattr_destroy(&attr);
    pthread_mutex_init(&q->lock, NULL);
    return q;
}

void output_queue_destroy(struct output_queue *q)
{
    if (!q)
        return;
    for (size_t i = 0; i < q->count; i++)
        flv_tag_unref(at(q, i));
    free(q->ring);
    pthread_cond_destroy(&q->cond);
    pthread_mutex_destroy(&q->lock);
    free(q);
}

/* Newest minus oldest dts of the queued media tags, plus optionally one more tag. */
static int64_t duration_locked(const struct output_queue *q, const struct flv_tag *extra)
{
    const struct flv_tag *oldest = NULL, *newest = extra;
    for (size_t i = 0; i < q->count && !oldest; i++)
        if (!at(q, i)->header)
            oldest = at(q, i);
    for (size_t i = q->count; i > 0 && !newest; i--)
        if (!at(q, i - 1)->header)
            newest = at(q, i - 1);
    if (!oldest || !newest || newest->dts_ms <= oldest->dts_ms)
        return 0;
    return newest->dts_ms - oldest->dts_ms;
}

static void count_drop(struct output_queue *q, const struct flv_tag *tag)
{
    if (tag->type == FLV_TAG_VIDEO && !tag->header)
        q->video_dropped++;
}

/* Keeps the tags for which keep() is true, in order; the others are counted and unref'd. */
static void compact_locked(struct output_queue *q,
                           bool (*keep)(const struct output_queue *, size_t, void *), void *ctx)
{
    size_t kept = 0;
    for (size_t i = 0; i < q->count; i++) {
        struct flv_tag *tag = at(q, i);
        if (keep(q, i, ctx)) {
            *slot(q, kept++) = tag;
            continue;
        }
        count_drop(q, tag);
        q->bytes -= tag->size;
        flv_tag_unref(tag);
    }
    q->count = kept;
}

/* A header tag is kept unless a newer header tag of the same type is queued after it. */
static bool keep_newest_headers(const struct output_queue *q, size_t i, void *ctx)
{
    (void)ctx;
    const struct flv_tag *tag = at(q, i);
    if (!tag->header)
        return false;
    for (size_t j = i + 1; j < q->count; j++)
        if (at(q, j)->header && at(q, j)->type == tag->type)
            return false;
    return true;
}

static void clear_locked(struct output_queue *q)
{
    compact_locked(q, keep_newest_headers, NULL);
}

/* Backstop: headers and audio at or after *cutoff stay; all media video goes. */
static bool keep_recent_audio(const struct output_queue *q, size_t i, void *ctx)
{
    const struct flv_tag *tag = at(q, i);
    if (tag->header)
        return true;
    return tag->type == FLV_TAG_AUDIO && tag->dts_ms >= *(const int64_t *)ctx;
}

static void backstop_locked(struct output_queue *q)
{
    int64_t duration = duration_locked(q, NULL);
    bool over_bytes = q->max_bytes && q->bytes > BACKSTOP_FACTOR * q->max_bytes;
    if (duration <= BACKSTOP_FACTOR * q->hard_ms && !over_bytes)
        return;
    const struct flv_tag *newest = NULL;
    for (size_t i = q->count; i > 0 && !newest; i--)
        if (!at(q, i - 1)->header)
            newest = at(q, i - 1);
    int64_t cutoff = newest ? newest->dts_ms - q->hard_ms : INT64_MIN;
    size_t count_before = q->count;
    uint64_t video_before = q->video_dropped;
    compact_locked(q, keep_recent_audio, &cutoff);
    /* Only absurdly large audio tags can still be over the byte limit: drop the oldest. */
    while (q->max_bytes && q->bytes > q->max_bytes) {
        cutoff = INT64_MIN;
        for (size_t i = 0; i < q->count && cutoff == INT64_MIN; i++)
            if (!at(q, i)->header)
                cutoff = at(q, i)->dts_ms + 1;
        if (cutoff == INT64_MIN)
            break;
        compact_locked(q, keep_recent_audio, &cutoff);
    }
    uint64_t audio = (count_before - q->count) - (q->video_dropped - video_before);
    q->audio_evicted += audio;
    q->dropping = true;
    int64_t now = clock_now_ns();
    if (q->backstop_logged_ns == 0 || now - q->backstop_logged_ns >= BACKSTOP_LOG_EVERY_NS) {
        q->backstop_logged_ns = now;
        log_warn(COMPONENT, "output cannot keep up even with audio: audio_evicted=%llu (total)",
                 (unsigned long long)q->audio_evicted);
    }
}

static int grow_locked(struct output_queue *q)
{
    size_t cap = q->cap * 2;
    struct flv_tag **ring = calloc(cap, sizeof(*ring));
    if (!ring)
        return -ENOMEM;
    for (size_t i = 0; i < q->count; i++)
        ring[i] = at(q, i);
    free(q->ring);
    q->ring = ring;
    q->cap = cap;
    q->head = 0;
    return 0;
}

static void append_locked(struct output_queue *q, struct flv_tag *tag)
{
    if (q->count == q->cap && grow_locked(q) < 0) {
        count_drop(q, tag);
        if (tag->type == FLV_TAG_VIDEO)
            q->dropping = true;
        log_warn(COMPONENT, "queue full and out of memory: tag dropped");
        return;
    }
    *slot(q, q->count++) = flv_tag_ref(tag);
    q->bytes += tag->size;
    pthread_cond_signal(&q->cond);
}

/* The drop policy for one media video tag: true when it may be queued. */
static bool admit_video_locked(struct output_queue *q, const struct flv_tag *tag)
{
    if (!q->connected && tag->keyframe)
        clear_locked(q);
    int64_t duration = duration_locked(q, tag);
    bool over_bytes = q->max_bytes && q->bytes + tag->size > q->max_bytes;
    if (duration > q->hard_ms || over_bytes)
        return false;
    if (tag->keyframe)
        return true;
    return !q->dropping && duration <= q->threshold_ms;
}

void output_queue_push(struct output_queue *q, struct flv_tag *tag)
{
    pthread_mutex_lock(&q->lock);
    if (tag->header) {
        append_locked(q, tag);
    } else if (tag->type == FLV_TAG_VIDEO) {
        if (admit_video_locked(q, tag)) {
            q->dropping = false;
            append_locked(q, tag);
        } else {
            q->dropping = true;
            q->video_dropped++;
        }
    } else {
        append_locked(q, tag);
        backstop_locked(q);
    }
    pthread_mutex_unlock(&q->lock);
}

/* Waits on the queue's condvar until deadline_ns; false once the deadline has passed. */
static bool wait_until_locked(struct output_queue *q, int64_t deadline_ns)
{
    struct timespec ts = {.tv_sec = deadline_ns / NS_PER_SEC, .tv_nsec = deadline_ns % NS_PER_SEC};
    return pthread_cond_timedwait(&q->cond, &q->lock, &ts) != ETIMEDOUT;
}

/* A negative timeout_ms waits without limit (until a push or a wake). */
struct flv_tag *output_queue_pop(struct output_queue *q, int timeout_ms)
{
    int64_t deadline = clock_now_ns() + (int64_t)timeout_ms * NS_PER_MS;
    struct flv_tag *tag = NULL;
    pthread_mutex_lock(&q->lock);
    while (q->count == 0) {
        if (q->wake) {
            q->wake = false;
            goto out;
        }
        if (timeout_ms == 0)
            goto out;
        if (timeout_ms < 0)
            pthread_cond_wait(&q->cond, &q->lock);
        else if (!wait_until_locked(q, deadline) && q->count == 0)
            goto out;
    }
    tag = at(q, 0);
    q->head = (q->head + 1) % q->cap;
    q->count--;
    q->bytes -= tag->size;
out:
    pthread_mutex_unlock(&q->lock);
    return tag;
}

/* Makes a pop that is waiting (or the next pop that would wait) return NULL at once. A pop
 * that finds tags queued returns them and leaves the wake pending. */
void output_queue_wake(struct output_queue *q)
{
    pthread_mutex_lock(&q->lock);
    q->wake = true;
    pthread_cond_broadcast(&q->cond);
    pthread_mutex_unlock(&q->lock);
}

void output_queue_set_connected(struct output_queue *q, bool connected)
{
    pthread_mutex_lock(&q->lock);
    q->connected = connected;
    pthread_mutex_unlock(&q->lock);
}

void output_queue_clear(struct output_queue *q)
{
    pthread_mutex_lock(&q->lock);
    clear_locked(q);
    pthread_mutex_unlock(&q->lock);
}

int64_t output_queue_duration_ms(struct output_queue *q)
{
    pthread_mutex_lock(&q->lock);
    int64_t d = duration_locked(q, NULL);
    pthread_mutex_unlock(&q->lock);
    return d;
}

size_t output_queue_bytes(struct output_queue *q)
{
    pthread_mutex_lock(&q->lock);
    size_t b = q->bytes;
    pthread_mutex_unlock(&q->lock);
    return b;
}

uint64_t output_queue_video_dropped(struct output_queue *q)
{
    pthread_mutex_lock(&q->lock);
    uint64_t n = q->video_dropped;
    pthread_mutex_unlock(&q->lock);
    return n;
}
