/*
 * live_chat — the on-air loops of `agentcast live`: comments (each new one printed once as a
 * JSON line on stdout and handed to --on-chat, whose stdout is the reply), idle messages when
 * chat is quiet, and thumbnails made from the encoder's own frames.
 *
 * "Poll every 2-3 seconds during active chat, 5-10 seconds during quiet periods. Track latest
 * _id seen — only process newer messages." Newness is decided by membership in the set of ids
 * already delivered (retake_comments_new_since), never by comparing ids.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/child.h"
#include "core/clock.h"
#include "core/log.h"
#include "media/thumbnail.h"
#include "retake/live_internal.h"
#include "retake/validate.h"

static const char *COMPONENT = "chat";

#define COMMENTS_LIMIT 50
#define ACTIVE_WINDOW_NS (60 * NS_PER_SEC) /* chat counts as active this long after a comment */
#define HOOK_QUEUE_MAX 100
#define HOOK_OUTPUT_MAX 4096
#define THUMB_QUALITY 85

static const char *const scrub_env[] = {"RETAKE_ACCESS_TOKEN", NULL};

/* ---- sending ------------------------------------------------------------------------------- */

static void on_chat_sent(const struct retake_result *res, void *opaque)
{
    if (!res->ok)
        log_warn(COMPONENT, "chat/send: %s", res->error);
}

void live_send_chat(struct live *l, const char *text, const char *why)
{
    char err[256];
    if (retake_validate_chat_text(text, err, sizeof(err)) < 0) {
        log_warn(COMPONENT, "%s not sent: %s", why, err);
        return;
    }
    /* "Use your own userDbId to chat in your stream." The body carries the token, as the
     * document shows; it is wiped after use and never logged. */
    char *body = retake_body_chat_send(text, l->cred->user_db_id, l->cred->access_token);
    if (!body)
        return;
    struct retake_call_options o = {.json_body = body};
    if (live_call(l, RETAKE_EP_CHAT_SEND, &o, on_chat_sent, l) < 0)
        log_warn(COMPONENT, "%s could not be sent", why);
    retake_body_free(body);
    l->last_activity_ns = clock_now_ns();
}

/* ---- --on-chat ------------------------------------------------------------------------------ */

static void run_next_hook(struct live *l);

static void on_hook_done(const struct child_result *res, void *opaque)
{
    struct live *l = opaque;
    l->hook_running = false;
    if (res->exit_code != 0) {
        log_warn(COMPONENT, "--on-chat command ended with %s %d: no reply",
                 res->exit_code < 0 ? "signal" : "exit code",
                 res->exit_code < 0 ? res->signal : res->exit_code);
    } else {
        /* "a non-empty stdout is sent as the reply" (trailing white space trimmed) */
        char *reply = strndup(res->out, res->out_len);
        if (reply) {
            size_t n = strlen(reply);
            while (n > 0 && isspace((unsigned char)reply[n - 1]))
                reply[--n] = '\0';
            if (n > 0 && l->state != LIVE_STOPPING)
                live_send_chat(l, reply, "--on-chat reply");
            free(reply);
        }
    }
    run_next_hook(l);
}

static void run_next_hook(struct live *l)
{
    if (l->hook_running || l->hook_len == 0 || l->state == LIVE_STOPPING)
        return;
    char *json = l->hook_queue[0];
    memmove(l->hook_queue, l->hook_queue + 1, (l->hook_len - 1) * sizeof(*l->hook_queue));
    l->hook_len--;
    struct child_options co = {
        .command = l->o->on_chat,
        .input = json,
        .input_len = strlen(json),
        .timeout_ms = l->o->hook_timeout_ms,
        .max_out = HOOK_OUTPUT_MAX,
        .scrub_env = scrub_env,
    };
    if (live_spawn(l, &co, on_hook_done, l) == 0)
        l->hook_running = true;
    else
        log_warn(COMPONENT, "--on-chat command could not be started");
    free(json);
}

static void queue_hook(struct live *l, const char *json)
{
    if (l->hook_len == HOOK_QUEUE_MAX) {
        log_warn(COMPONENT, "--on-chat is %d comments behind: dropping the oldest", HOOK_QUEUE_MAX);
        free(l->hook_queue[0]);
        memmove(l->hook_queue, l->hook_queue + 1, (l->hook_len - 1) * sizeof(*l->hook_queue));
        l->hook_len--;
    }
    if (l->hook_len == l->hook_cap) {
        size_t cap = l->hook_cap ? l->hook_cap * 2 : 8;
        char **q = realloc(l->hook_queue, cap * sizeof(*q));
        if (!q)
            return;
        l->hook_queue = q;
        l->hook_cap = cap;
    }
    char *copy = malloc(strlen(json) + 2);
    if (!copy)
        return;
    strcpy(copy, json);
    strcat(copy, "\n");
    l->hook_queue[l->hook_len++] = copy;
    run_next_hook(l);
}

/* ---- comments ------------------------------------------------------------------------------ */

static void schedule_poll(struct live *l)
{
    if (l->state == LIVE_STOPPING)
        return;
    bool active = l->last_comment_ns && clock_now_ns() - l->last_comment_ns < ACTIVE_WINDOW_NS;
    event_timer_start(l->chat_timer,
                      (uint64_t)(active ? l->o->chat_active_ms : l->o->chat_quiet_ms), 0);
}

/* The next idle line, never the one sent last time (with one line: only once per quiet spell). */
static void maybe_send_idle(struct live *l)
{
    if (l->n_idle == 0 || l->state != LIVE_ON_AIR)
        return;
    if (clock_now_ns() - l->last_activity_ns < (int64_t)l->o->quiet_after_ms * NS_PER_MS)
        return;
    if (l->n_idle == 1 && l->next_idle == 1)
        return;
    const char *line = l->idle_lines[l->next_idle % l->n_idle];
    l->next_idle = l->n_idle == 1 ? 1 : (l->next_idle + 1) % l->n_idle;
    log_info(COMPONENT, "chat quiet for %d s: sending an idle message", l->o->quiet_after_ms / 1000);
    live_send_chat(l, line, "idle message");
}

static void deliver(struct live *l, const struct retake_comments *page, const size_t *idx,
                    size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const struct retake_comment *c = &page->items[idx[i]];
        /* One JSON line per comment on stdout: what an agent's shell pipeline reads. */
        fprintf(stdout, "%s\n", c->json);
        if (l->o->on_chat)
            queue_hook(l, c->json);
    }
    fflush(stdout);
    if (n > 0) {
        l->last_comment_ns = clock_now_ns();
        l->last_activity_ns = l->last_comment_ns;
        if (l->n_idle == 1)
            l->next_idle = 0; /* chat spoke: the single idle line may be used again */
    }
}

/* On the first successful poll: what was said before this session's stream/start is history,
 * not new chat. The cut is made by the comments' timestamps (one-second precision, with a
 * second of slack), not by which poll happened to succeed first, so comments made while early
 * polls failed are still delivered. A comment without a readable timestamp counts as history. */
static size_t drop_history(struct live *l, const struct retake_comments *page, size_t *idx,
                           size_t n)
{
    size_t kept = 0;
    for (size_t i = 0; i < n; i++) {
        const char *ts = page->items[idx[i]].timestamp;
        struct tm tm = {0};
        const char *end = ts ? strptime(ts, "%Y-%m-%dT%H:%M:%S", &tm) : NULL;
        if (end && timegm(&tm) + 1 >= l->session_started)
            idx[kept++] = idx[i];
    }
    return kept;
}

static void on_comments(const struct retake_result *res, void *opaque)
{
    struct live *l = opaque;
    l->chat_in_flight = false;
    if (l->state == LIVE_STOPPING)
        return;
    struct retake_comments page = {0};
    char err[256];
    if (!res->ok) {
        log_warn(COMPONENT, "comments: %s", res->error);
    } else if (retake_parse_comments(res->body, res->len, &page, err, sizeof(err)) < 0) {
        log_warn(COMPONENT, "comments: %s", err);
    } else {
        size_t idx[RETAKE_COMMENTS_LIMIT_MAX], n = 0;
        bool gap = false;
        if (retake_comments_new_since(&page, &l->seen, idx, &n, &gap) == 0) {
            if (!l->chat_primed)
                n = drop_history(l, &page, idx, n);
            l->chat_primed = true;
            if (gap)
                log_warn(COMPONENT, "more than %d new comments between two polls: some older "
                                    "ones were not fetched", COMMENTS_LIMIT);
            deliver(l, &page, idx, n);
        }
        retake_comments_free(&page);
    }
    maybe_send_idle(l);
    schedule_poll(l);
}

static void on_chat_timer(struct event_loop *loop, struct event_timer *t, void *arg)
{
    struct live *l = arg;
    if (l->chat_in_flight || l->state == LIVE_STOPPING)
        return;
    char *path = NULL;
    char err[256];
    if (retake_comments_path(l->cred->user_db_id, COMMENTS_LIMIT, NULL, &path, err,
                             sizeof(err)) < 0) {
        log_error(COMPONENT, "comments: %s", err);
        return;
    }
    struct retake_call_options o = {.path = path, .max_attempts = 2};
    if (live_call(l, RETAKE_EP_COMMENTS, &o, on_comments, l) == 0)
        l->chat_in_flight = true;
    else
        schedule_poll(l);
    free(path);
}

/* "STEP 7 — Open chat" then "Start polling immediately when live". */
void live_chat_start(struct live *l)
{
    l->last_activity_ns = clock_now_ns();
    if (l->o->opening_message && l->o->opening_message[0])
        live_send_chat(l, l->o->opening_message, "opening message");
    event_timer_start(l->chat_timer, 0, 0);
}

/* ---- thumbnails ----------------------------------------------------------------------------- */

/* The first thumbnail's upload has been answered (or could not be made): open the chat. */
static void thumbnail_done(struct live *l)
{
    l->thumb_in_flight = false;
    if (l->chat_after_thumbnail && l->state == LIVE_ON_AIR) {
        l->chat_after_thumbnail = false;
        live_chat_start(l);
    }
}

static void on_thumbnail_sent(const struct retake_result *res, void *opaque)
{
    struct live *l = opaque;
    thumbnail_done(l);
    if (!res->ok)
        log_warn(COMPONENT, "update-thumbnail: %s", res->error);
    else
        log_debug(COMPONENT, "thumbnail updated");
}

struct snapshot_handoff {
    struct live *l;
    struct thumbnail_image *img;
};

static void on_snapshot_in_loop(void *arg)
{
    struct snapshot_handoff *h = arg;
    struct live *l = h->l;
    uint8_t *jpeg = NULL;
    size_t size = 0;
    if (l->state != LIVE_STOPPING && h->img &&
        thumbnail_jpeg(h->img, THUMB_QUALITY, &jpeg, &size) == 0) {
        /* "Field: image (JPEG/PNG)" */
        struct http_file_part part = {.field = "image",
                                      .filename = "thumbnail.jpg",
                                      .content_type = "image/jpeg",
                                      .data = jpeg,
                                      .size = size};
        struct retake_call_options o = {.file = &part, .max_attempts = 3};
        if (live_call(l, RETAKE_EP_UPDATE_THUMBNAIL, &o, on_thumbnail_sent, l) < 0)
            thumbnail_done(l);
        free(jpeg);
    } else {
        thumbnail_done(l);
    }
    thumbnail_image_free(h->img);
    free(h);
}

/* Called on the media thread: only hand the image to the loop. */
static void on_snapshot(void *opaque, struct thumbnail_image *img)
{
    struct snapshot_handoff *h = malloc(sizeof(*h));
    if (!h) {
        thumbnail_image_free(img);
        return;
    }
    h->l = opaque;
    h->img = img;
    if (event_loop_post(h->l->loop, on_snapshot_in_loop, h) < 0) {
        thumbnail_image_free(img);
        free(h);
    }
}

void live_thumbnail_now(struct live *l)
{
    if (l->thumb_in_flight)
        return;
    if (l->pipeline && pipeline_request_snapshot(l->pipeline, on_snapshot, l) == 0)
        l->thumb_in_flight = true;
    else
        thumbnail_done(l);
}

static void on_thumb_timer(struct event_loop *loop, struct event_timer *t, void *arg)
{
    live_thumbnail_now(arg);
}

/* ---- setup ---------------------------------------------------------------------------------- */

static int load_idle_lines(struct live *l)
{
    FILE *f = fopen(l->o->idle_messages, "r");
    if (!f) {
        log_error(COMPONENT, "--idle-messages: cannot read %s: %s", l->o->idle_messages,
                  strerror(errno));
        return -errno;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    while ((n = getline(&line, &cap, f)) >= 0) {
        while (n > 0 && isspace((unsigned char)line[n - 1]))
            line[--n] = '\0';
        if (n == 0)
            continue;
        char **lines = realloc(l->idle_lines, (l->n_idle + 1) * sizeof(*lines));
        if (!lines)
            break;
        l->idle_lines = lines;
        l->idle_lines[l->n_idle] = strdup(line);
        if (l->idle_lines[l->n_idle])
            l->n_idle++;
    }
    free(line);
    fclose(f);
    if (l->n_idle == 0)
        log_warn(COMPONENT, "--idle-messages %s holds no line", l->o->idle_messages);
    return 0;
}

int live_chat_init(struct live *l)
{
    l->chat_timer = event_timer_new(l->loop, on_chat_timer, l);
    l->thumb_timer = event_timer_new(l->loop, on_thumb_timer, l);
    if (!l->chat_timer || !l->thumb_timer || retake_seen_init(&l->seen, 4 * COMMENTS_LIMIT) < 0)
        return -ENOMEM;
    if (l->o->idle_messages && load_idle_lines(l) < 0)
        return -EINVAL;
    return 0;
}

void live_chat_free(struct live *l)
{
    retake_seen_free(&l->seen);
    for (size_t i = 0; i < l->n_idle; i++)
        free(l->idle_lines[i]);
    free(l->idle_lines);
    for (size_t i = 0; i < l->hook_len; i++)
        free(l->hook_queue[i]);
    free(l->hook_queue);
}
