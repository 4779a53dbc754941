/*
 * mirror — see mirror.h. Three buffers hold the log's text: raw (read, not yet a complete line),
 * screen (the newest SCREEN_KEEP bytes, sent whole as the first frame of a slot and after a
 * truncation) and outq (complete lines not yet sent, sent as delta frames). Text goes out as
 * valid UTF-8: invalid bytes become U+FFFD and NUL bytes are dropped (the document's terminal
 * screen is a JSON string).
 */
#include "clawcast/mirror.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clawcast/api.h"
#include "clawcast/state.h"
#include "clawcast/validate.h"
#include "core/clock.h"
#include "core/event_loop.h"
#include "core/log.h"
#include "core/utf8_strict.h"
#include "net/http.h"
#include "render/tail.h"

static const char *COMPONENT = "clawcast";

#define RAW_MAX 16384    /* a line longer than this is sent in pieces */
#define SCREEN_KEEP 8192 /* what a full frame shows */
#define OUTQ_MAX 32768   /* unsent lines beyond this: one full frame instead */
#define READ_CHUNK 8192
#define FRAME_ATTEMPTS 2
#define FRAME_SLACK_MS 50
#define FRAME_TIMEOUT_MS 5000
#define POLL_TIMEOUT_MS 5000
#define END_TIMEOUT_MS 1500
#define REBOOK_DELAY_MS 1000
#define REFUSED_DELAY_MS 60000

enum mirror_state { M_BOOKING, M_WAITING, M_LIVE, M_BACKOFF, M_ENDING, M_DONE };

struct clawcast_mirror {
    struct event_loop *loop;
    struct clawcast_client *client;
    struct clawcast_mirror_options o;
    char *name, *url, *api_key, *state_path;
    clawcast_mirror_done_fn done;
    void *opaque;

    enum mirror_state st;
    bool stopping;
    struct clawcast_slot_state *slot; /* the booking; slot_jwt[0] == 0 when none is held */
    int64_t position;                 /* last position shown, -1 none */
    unsigned failures;                /* consecutive failed bookings */
    unsigned slots;                   /* slots that went live */
    uint64_t rng;

    struct tail *tail;
    struct event_timer *tick_timer, *poll_timer, *retry_timer;
    struct clawcast_call *book_call, *frame_call, *poll_call, *end_call;

    char raw[RAW_MAX];
    size_t raw_len;
    char screen[SCREEN_KEEP];
    size_t screen_len;
    char outq[OUTQ_MAX];
    size_t outq_len, inflight;
    bool need_full, frame_full;
    int64_t last_frame_ns;
};

static void book(struct clawcast_mirror *m);
static void send_frame(struct clawcast_mirror *m, bool force);

/* ---- text -------------------------------------------------------------------------------- */

/* Appends the valid UTF-8 of in (invalid bytes as U+FFFD, NUL dropped) to dst, keeping the
 * newest cap bytes when it overflows (cut at a line start when one is near). */
static void append_clean(char *dst, size_t *len, size_t cap, const char *in, size_t n,
                         bool *overflow)
{
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        int k = utf8_strict_next(in + i, n - i, &cp);
        const char *src = in + i;
        size_t take = k > 0 ? (size_t)k : 3;
        if (k <= 0)
            src = "\xef\xbf\xbd";
        i += k > 0 ? (size_t)k : 1;
        if (k > 0 && cp == 0)
            continue;
        if (*len + take > cap) {
            if (overflow)
                *overflow = true;
            /* Drop the older half, from a line start. */
            size_t drop = *len / 2;
            char *nl = memchr(dst + drop, '\n', *len - drop);
            if (nl)
                drop = (size_t)(nl - dst) + 1;
            while (drop < *len && ((unsigned char)dst[drop] & 0xc0) == 0x80)
                drop++;
            memmove(dst, dst + drop, *len - drop);
            *len -= drop;
        }
        memcpy(dst + *len, src, take);
        *len += take;
    }
}

/* The complete lines of raw (all of it when it is full) go to screen and, once the screen has
 * been sent (live, or the first frame in flight), to outq. */
static void take_lines(struct clawcast_mirror *m)
{
    size_t n = m->raw_len;
    if (n < RAW_MAX) {
        while (n > 0 && m->raw[n - 1] != '\n')
            n--;
    }
    if (n == 0)
        return;
    append_clean(m->screen, &m->screen_len, sizeof(m->screen), m->raw, n, NULL);
    if (!m->need_full && (m->st == M_LIVE || m->frame_call)) {
        bool overflow = false;
        append_clean(m->outq, &m->outq_len, sizeof(m->outq), m->raw, n, &overflow);
        if (overflow) { /* too much to send as deltas: replace the screen instead */
            m->need_full = true;
            m->outq_len = m->inflight = 0;
        }
    }
    memmove(m->raw, m->raw + n, m->raw_len - n);
    m->raw_len -= n;
}

static void read_log(struct clawcast_mirror *m)
{
    for (int rounds = 0; rounds < 8; rounds++) {
        size_t room = sizeof(m->raw) - m->raw_len;
        if (room == 0) {
            take_lines(m);
            continue;
        }
        unsigned events = 0;
        ssize_t got = tail_read(m->tail, (uint8_t *)m->raw + m->raw_len,
                                room < READ_CHUNK ? room : READ_CHUNK, &events);
        if (events & (TAIL_EVENT_TRUNCATED | TAIL_EVENT_REPLACED | TAIL_EVENT_SKIPPED)) {
            /* The file started over or text was skipped: the next frame replaces the screen. */
            if (events & TAIL_EVENT_TRUNCATED)
                m->screen_len = 0;
            m->raw_len = 0;
            m->outq_len = m->inflight = 0;
            m->need_full = true;
        }
        if (got <= 0)
            break;
        m->raw_len += (size_t)got;
        take_lines(m);
    }
}

/* ---- the end ----------------------------------------------------------------------------- */

static void stop_activity(struct clawcast_mirror *m)
{
    event_timer_stop(m->poll_timer);
    event_timer_stop(m->retry_timer);
    clawcast_call_cancel(m->frame_call);
    clawcast_call_cancel(m->poll_call);
    m->frame_call = m->poll_call = NULL;
}

static void finish(struct clawcast_mirror *m, int exit_code)
{
    if (m->st == M_DONE)
        return;
    stop_activity(m);
    event_timer_stop(m->tick_timer);
    m->st = M_DONE;
    m->done(exit_code, m->opaque); /* may free m */
}

static void forget_slot(struct clawcast_mirror *m)
{
    char err[256];
    if (m->slot->slot_jwt[0] && clawcast_state_delete(m->state_path, err, sizeof(err)) < 0)
        log_warn(COMPONENT, "%s", err);
    clawcast_state_clear(m->slot);
}

/* The slot is over: book again (repeat) or end. */
static void slot_over(struct clawcast_mirror *m, const char *why)
{
    stop_activity(m);
    log_info(COMPONENT, "slot over (%s)", why);
    forget_slot(m);
    m->outq_len = m->inflight = 0;
    if (m->o.repeat && !m->stopping) {
        m->st = M_BACKOFF;
        event_timer_start(m->retry_timer, REBOOK_DELAY_MS, 0);
        return;
    }
    finish(m, 0);
}

static void on_end_slot(const struct clawcast_result *res, void *opaque)
{
    struct clawcast_mirror *m = opaque;
    m->end_call = NULL;
    if (res->ok)
        log_info(COMPONENT, "slot ended (endSlot)");
    else if (res->status == 409)
        log_info(COMPONENT, "the slot had already ended");
    else
        log_warn(COMPONENT, "endSlot: %s", res->message);
    forget_slot(m);
    finish(m, 0);
}

void clawcast_mirror_stop(struct clawcast_mirror *m)
{
    if (!m || m->stopping || m->st == M_DONE)
        return;
    m->stopping = true;
    stop_activity(m);
    clawcast_call_cancel(m->book_call);
    m->book_call = NULL;
    if (!m->slot->slot_jwt[0]) {
        finish(m, 0);
        return;
    }
    m->st = M_ENDING;
    /* "End early — release your slot before it expires." One short attempt: a stop stays
     * within about 2 s. */
    struct clawcast_call_options co = {
        .slot = m->slot, .max_attempts = 1, .timeout_ms = END_TIMEOUT_MS};
    char err[256];
    if (clawcast_client_call(m->client, CLAWCAST_EP_END_SLOT, &co, on_end_slot, m, &m->end_call,
                             err, sizeof(err)) < 0) {
        log_info(COMPONENT, "not ending the slot: %s", err);
        forget_slot(m);
        finish(m, 0);
    }
}

/* ---- live: frames ------------------------------------------------------------------------ */

static bool refused_slot(const struct clawcast_result *res)
{
    return res->error == -EKEYEXPIRED || res->status == 401 || res->status == 403;
}

static void on_frame(const struct clawcast_result *res, void *opaque)
{
    struct clawcast_mirror *m = opaque;
    m->frame_call = NULL;
    if (res->ok) {
        m->last_frame_ns = clock_now_ns();
        size_t sent = m->inflight < m->outq_len ? m->inflight : m->outq_len;
        memmove(m->outq, m->outq + sent, m->outq_len - sent);
        m->outq_len -= sent;
        m->inflight = 0;
        if (m->st == M_WAITING) {
            m->st = M_LIVE;
            m->slots++;
            m->position = -1;
            log_info(COMPONENT, "on air on ClawCast.tv as %s: mirroring %s", m->name,
                     m->o.text_file);
            event_timer_start(m->poll_timer, (uint64_t)m->o.poll_ms, 0);
        }
        return;
    }
    m->inflight = 0;
    if (m->frame_full) { /* the screen did not arrive: send it whole again */
        m->need_full = true;
        m->outq_len = 0;
    }
    if (refused_slot(res)) {
        slot_over(m, res->message);
    } else if (res->status == 409 && m->st == M_WAITING) {
        log_debug(COMPONENT, "not on air yet: %s", res->message);
    } else if (res->status == 409) {
        slot_over(m, res->message); /* the slot has ended (or a batch took it over) */
    } else if (res->status == 400) {
        log_error(COMPONENT, "%s — dropping this text", res->message);
        m->outq_len = 0;
    } else {
        log_warn(COMPONENT, "%s — will send again", res->message);
    }
}

/* Sends the next frame if one is due: the whole screen when needed, new lines as a delta, or
 * an empty delta when keepalive_ms passed without a frame. force: the first frame of a slot. */
static void send_frame(struct clawcast_mirror *m, bool force)
{
    if (m->frame_call || !m->slot->slot_jwt[0])
        return;
    int64_t now = clock_now_ns();
    bool full = force || m->need_full;
    int64_t since = now - m->last_frame_ns;
    /* "Push at ~1/sec": the tick runs every frame_interval_ms; the slack absorbs its jitter. */
    if (!force && since < ((int64_t)m->o.frame_interval_ms - FRAME_SLACK_MS) * NS_PER_MS)
        return;
    bool keepalive = since >= (int64_t)m->o.keepalive_ms * NS_PER_MS;
    if (!full && m->outq_len == 0 && !keepalive)
        return;
    char *body = NULL, err[512];
    const char *text = full ? m->screen : m->outq;
    size_t len = full ? m->screen_len : m->outq_len;
    char *copy = malloc(len + 1); /* the buffers are not NUL-terminated */
    if (!copy)
        return;
    memcpy(copy, text, len);
    copy[len] = '\0';
    int rc = clawcast_body_terminal(copy, !full, &body, err, sizeof(err));
    free(copy);
    if (rc < 0) {
        log_error(COMPONENT, "terminal frame: %s", err);
        m->outq_len = 0;
        return;
    }
    m->frame_full = full;
    m->inflight = full ? 0 : m->outq_len;
    if (full) { /* the lines queued so far are on the screen being sent */
        m->outq_len = 0;
        m->need_full = false;
    }
    struct clawcast_call_options co = {.json_body = body,
                                       .slot = m->slot,
                                       .max_attempts = FRAME_ATTEMPTS,
                                       .timeout_ms = FRAME_TIMEOUT_MS};
    rc = clawcast_client_call(m->client, CLAWCAST_EP_PUBLISH_FRAME, &co, on_frame, m,
                              &m->frame_call, err, sizeof(err));
    clawcast_body_free(body);
    if (rc < 0 && full)
        m->need_full = true;
    if (rc == -EKEYEXPIRED || rc == -ENOENT)
        slot_over(m, err);
    else if (rc < 0)
        log_warn(COMPONENT, "publishFrame: %s", err);
}

static void on_tick(struct event_loop *loop, struct event_timer *t, void *arg)
{
    struct clawcast_mirror *m = arg;
    read_log(m);
    if (m->st == M_LIVE)
        send_frame(m, false);
}

/* ---- waiting and live: polls ------------------------------------------------------------- */

static void on_queue(const struct clawcast_result *res, void *opaque)
{
    struct clawcast_mirror *m = opaque;
    m->poll_call = NULL;
    struct clawcast_queue q = {0};
    char err[512];
    if (!res->ok) {
        log_warn(COMPONENT, "getQueue: %s", res->message);
    } else if (clawcast_parse_queue(res->body, res->len, &q, err, sizeof(err)) < 0) {
        log_warn(COMPONENT, "%s", err);
    } else {
        int64_t pos = 0;
        for (size_t i = 0; i < q.count && !pos; i++)
            if (strcmp(q.items[i].streamer_name, m->name) == 0)
                pos = (int64_t)i + 1;
        if (pos && pos != m->position)
            log_info(COMPONENT, "waiting in the ClawCast.tv queue: position %lld%s%s%s",
                     (long long)pos, q.live_name[0] ? " (" : "", q.live_name,
                     q.live_name[0] ? " on air)" : "");
        m->position = pos ? pos : m->position;
        if (!pos) /* no longer queued: our turn, if the slot agrees */
            send_frame(m, true);
    }
    clawcast_queue_free(&q);
    if (m->st == M_WAITING)
        event_timer_start(m->poll_timer, (uint64_t)m->o.poll_ms, 0);
}

static void on_now(const struct clawcast_result *res, void *opaque)
{
    struct clawcast_mirror *m = opaque;
    m->poll_call = NULL;
    struct clawcast_now now;
    char err[512];
    if (!res->ok) {
        log_warn(COMPONENT, "now: %s", res->message);
    } else if (clawcast_parse_now(res->body, res->len, &now, err, sizeof(err)) < 0) {
        log_warn(COMPONENT, "%s", err);
    } else if (!now.live || strcmp(now.streamer_name, m->name) != 0) {
        char why[320];
        snprintf(why, sizeof(why), "%s%s", now.live ? "now on air: " : "nothing on air",
                 now.live ? now.streamer_name : "");
        slot_over(m, why);
        return;
    } else {
        log_debug(COMPONENT, "on air, %lld s left", (long long)now.seconds_remaining);
    }
    if (m->st == M_LIVE)
        event_timer_start(m->poll_timer, (uint64_t)m->o.poll_ms, 0);
}

static void on_poll_timer(struct event_loop *loop, struct event_timer *t, void *arg)
{
    struct clawcast_mirror *m = arg;
    char err[512];
    if (m->st != M_WAITING && m->st != M_LIVE)
        return;
    if (clawcast_state_check_usable(m->slot, (int64_t)time(NULL), err, sizeof(err)) < 0) {
        slot_over(m, err);
        return;
    }
    struct clawcast_call_options co = {.max_attempts = 1, .timeout_ms = POLL_TIMEOUT_MS};
    enum clawcast_endpoint ep = m->st == M_WAITING ? CLAWCAST_EP_GET_QUEUE : CLAWCAST_EP_NOW;
    if (clawcast_client_call(m->client, ep, &co, ep == CLAWCAST_EP_NOW ? on_now : on_queue, m,
                             &m->poll_call, err, sizeof(err)) < 0) {
        log_warn(COMPONENT, "%s", err);
        event_timer_start(m->poll_timer, (uint64_t)m->o.poll_ms, 0);
    }
}

/* ---- booking ----------------------------------------------------------------------------- */

static void book_again_later(struct clawcast_mirror *m, uint32_t delay_ms)
{
    m->st = M_BACKOFF;
    event_timer_start(m->retry_timer, delay_ms, 0);
}

static void booking_failed(struct clawcast_mirror *m, const struct clawcast_result *res,
                           const char *msg)
{
    bool final = res && (res->status == 400 || res->status == 401 || res->status == 403);
    if (final && !m->o.persistent) {
        log_error(COMPONENT, "%s", msg);
        finish(m, res->status == 400 ? 1 : 3);
        return;
    }
    unsigned f = m->failures < 7 ? m->failures : 7;
    uint32_t delay = final ? REFUSED_DELAY_MS : http_retry_delay_ms(f, &m->rng);
    m->failures++;
    log_warn(COMPONENT, "%s — booking again in %u ms", msg, delay);
    book_again_later(m, delay);
}

static void on_book(const struct clawcast_result *res, void *opaque)
{
    struct clawcast_mirror *m = opaque;
    m->book_call = NULL;
    if (!res->ok) {
        booking_failed(m, res, res->message);
        return;
    }
    struct clawcast_booking *b = calloc(1, sizeof(*b));
    char err[512];
    int rc = b ? clawcast_parse_booking(res->body, res->len, b, err, sizeof(err)) : -ENOMEM;
    if (rc == 0)
        rc = clawcast_state_from_booking(m->slot, b, m->name, m->o.duration_minutes,
                                         (int64_t)time(NULL), err, sizeof(err));
    if (b) {
        clawcast_booking_clear(b);
        free(b);
    }
    if (rc < 0) {
        booking_failed(m, NULL, rc == -ENOMEM ? "out of memory" : err);
        return;
    }
    m->failures = 0;
    if (clawcast_state_save(m->state_path, m->slot, err, sizeof(err)) < 0)
        log_warn(COMPONENT, "the slot JWT is not saved for other commands: %s", err);
    m->st = M_WAITING;
    m->position = m->slot->position_in_queue;
    m->need_full = true;
    if (m->slot->position_in_queue == 0) {
        /* "Position 0 means you're live right now": the idle clock runs, send at once. */
        send_frame(m, true);
    } else {
        log_info(COMPONENT, "booked a %d-minute slot as %s: position %lld in the queue",
                 m->o.duration_minutes, m->name, (long long)m->slot->position_in_queue);
    }
    if (m->st == M_WAITING)
        event_timer_start(m->poll_timer, (uint64_t)m->o.poll_ms, 0);
}

static void book(struct clawcast_mirror *m)
{
    struct clawcast_book_req req = {.streamer_name = m->name,
                                    .streamer_url = m->url,
                                    .duration_minutes = m->o.duration_minutes};
    char *body = NULL, err[512];
    m->st = M_BOOKING;
    int rc = clawcast_body_book_slot(&req, &body, err, sizeof(err));
    if (rc == 0) {
        struct clawcast_call_options co = {.json_body = body, .api_key = m->api_key};
        rc = clawcast_client_call(m->client, CLAWCAST_EP_BOOK_SLOT, &co, on_book, m, &m->book_call,
                                  err, sizeof(err));
        clawcast_body_free(body);
    }
    if (rc < 0)
        booking_failed(m, NULL, err);
}

static void on_retry_timer(struct event_loop *loop, struct event_timer *t, void *arg)
{
    struct clawcast_mirror *m = arg;
    if (m->st == M_BACKOFF && !m->stopping)
        book(m);
}

/* ---- lifecycle --------------------------------------------------------------------------- */

static char *dup_opt(const char *s, bool *ok)
{
    if (!s)
        return NULL;
    char *d = strdup(s);
    if (!d)
        *ok = false;
    return d;
}

static int check_options(const struct clawcast_mirror_options *o, char *err, size_t err_size)
{
    int rc = clawcast_validate_streamer_name(o->streamer_name, err, err_size);
    if (rc == 0)
        rc = clawcast_validate_streamer_url(o->streamer_url, err, err_size);
    if (rc == 0)
        rc = clawcast_validate_duration_minutes(o->duration_minutes, err, err_size);
    if (rc == 0 && o->api_key)
        rc = clawcast_api_key_check(o->api_key, err, err_size);
    if (rc == 0 && !o->text_file) {
        snprintf(err, err_size, "the mirror needs a text file to follow");
        rc = -EINVAL;
    }
    return rc;
}

struct clawcast_mirror *clawcast_mirror_start(struct event_loop *loop,
                                              struct clawcast_client *client,
                                              const struct clawcast_mirror_options *o,
                                              clawcast_mirror_done_fn done, void *opaque, char *err,
                                              size_t err_size)
{
    if (check_options(o, err, err_size) < 0)
        return NULL;
    struct clawcast_mirror *m = calloc(1, sizeof(*m));
    if (!m) {
        snprintf(err, err_size, "out of memory");
        return NULL;
    }
    bool ok = true;
    m->loop = loop;
    m->client = client;
    m->o = *o;
    m->o.frame_interval_ms = o->frame_interval_ms > 0 ? o->frame_interval_ms : 1000;
    m->o.keepalive_ms = o->keepalive_ms > 0 ? o->keepalive_ms : 20000;
    m->o.poll_ms = o->poll_ms > 0 ? o->poll_ms : 2000;
    m->done = done;
    m->opaque = opaque;
    m->position = -1;
    m->rng = (uint64_t)clock_now_ns() ^ (uint64_t)(uintptr_t)m;
    m->name = dup_opt(o->streamer_name, &ok);
    m->url = dup_opt(o->streamer_url, &ok);
    m->api_key = dup_opt(o->api_key, &ok);
    m->state_path = dup_opt(o->state_path, &ok);
    m->o.text_file = dup_opt(o->text_file, &ok);
    m->slot = clawcast_state_new();
    m->tick_timer = event_timer_new(loop, on_tick, m);
    m->poll_timer = event_timer_new(loop, on_poll_timer, m);
    m->retry_timer = event_timer_new(loop, on_retry_timer, m);
    if (!ok || !m->slot || !m->tick_timer || !m->poll_timer || !m->retry_timer) {
        snprintf(err, err_size, "out of memory");
        clawcast_mirror_free(m);
        return NULL;
    }
    struct tail_params tp = {.path = m->o.text_file, .backlog_bytes = SCREEN_KEEP};
    int rc = tail_open(&m->tail, &tp);
    if (rc < 0) {
        snprintf(err, err_size, "cannot follow %s: %s", m->o.text_file, strerror(-rc));
        clawcast_mirror_free(m);
        return NULL;
    }
    read_log(m);
    event_timer_start(m->tick_timer, (uint64_t)m->o.frame_interval_ms,
                      (uint64_t)m->o.frame_interval_ms);
    book(m);
    return m;
}

void clawcast_mirror_free(struct clawcast_mirror *m)
{
    if (!m)
        return;
    clawcast_call_cancel(m->book_call);
    clawcast_call_cancel(m->frame_call);
    clawcast_call_cancel(m->poll_call);
    clawcast_call_cancel(m->end_call);
    event_timer_free(m->tick_timer);
    event_timer_free(m->poll_timer);
    event_timer_free(m->retry_timer);
    tail_close(m->tail);
    clawcast_state_free(m->slot);
    free(m->name);
    free(m->url);
    if (m->api_key) {
        explicit_bzero(m->api_key, strlen(m->api_key));
        free(m->api_key);
    }
    free(m->state_path);
    free((char *)m->o.text_file);
    free(m);
}
