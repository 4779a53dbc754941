/*
 * live — see live.h. The session lifecycle: setup, the go-live sequence, recovery with fresh
 * keys and the orderly stop. Chat, hooks and thumbnails are in live_chat.c.
 *
 * Recovery has one path. Whatever breaks the stream — the connection drops, or stream/status
 * says "not live" for live_timeout_ms while we push — the RTMP output ends up asking its URL
 * provider for a URL; the provider (on the output's thread) posts the request to this loop and
 * waits; the loop gets fresh agent/rtmp credentials, calls stream/start and hands the new URL
 * over. So "no key is ever published twice": the output never retries an old URL.
 */
#include "retake/live.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "media/stats_report.h"
#include "core/child.h"
#include "core/clock.h"
#include "core/log.h"
#include "ctl/ctl_path.h"
#include "retake/live_internal.h"
#include "retake/validate.h"

static const char *COMPONENT = "live";

void live_options_default(struct live_options *o)
{
    memset(o, 0, sizeof(*o));
    o->api_base = RETAKE_API_BASE_DEFAULT;
    o->opening_message = "I'm live. What should we explore today?"; /* the document's STEP 7 */
    o->quiet_after_ms = 120000;
    o->status_poll_ms = 3000;
    o->live_timeout_ms = 30000;
    o->status_interval_ms = 30000;
    o->thumbnail_interval_ms = 180000;
    o->chat_active_ms = 2500;
    o->chat_quiet_ms = 7500;
    o->hook_timeout_ms = 30000;
}

void live_fail(struct live *l, int exit_code, const char *fmt, ...)
{
    char msg[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    log_error(COMPONENT, "%s", msg);
    if (l->exit_code == 0)
        l->exit_code = exit_code;
    live_notify(l, "failed", msg);
    live_begin_stop(l, "failure");
}

/* ---- the go-live sequence ------------------------------------------------------------------ */

static void step_rtmp(struct live *l);
static void wait_for_live(struct live *l);

/* The URL provider, on the RTMP output's thread: the first connect uses the URL the pipeline
 * was started with; every reconnect waits for fresh keys from the loop. */
static void on_url_wanted(void *arg);

static char *provide_url(void *opaque, bool reconnect)
{
    struct live *l = opaque;
    if (!reconnect)
        return NULL;
    pthread_mutex_lock(&l->url_lock);
    if (!l->shutting_down && !l->url_wanted) {
        l->url_wanted = true;
        if (event_loop_post(l->loop, on_url_wanted, l) < 0)
            l->url_wanted = false;
    }
    while (!l->shutting_down && !l->fresh_url && l->url_wanted)
        pthread_cond_wait(&l->url_cond, &l->url_lock);
    char *url = l->fresh_url;
    l->fresh_url = NULL;
    l->url_wanted = false;
    pthread_mutex_unlock(&l->url_lock);
    return url; /* NULL while shutting down: the stopping output makes no new attempt */
}

static void on_url_wanted(void *arg)
{
    struct live *l = arg;
    if (l->state == LIVE_STOPPING)
        return;
    log_warn(COMPONENT, "stream interrupted: getting fresh RTMP keys (the old key is never reused)");
    l->state = LIVE_RECOVERING;
    event_timer_stop(l->status_timer);
    event_timer_stop(l->live_deadline);
    if (!l->outage) /* one event per outage, not one per reconnect attempt */
        live_notify(l, "recovering", "the RTMP connection dropped or the stream was not live");
    l->outage = true;
    step_rtmp(l);
}

static void hand_over_url(struct live *l, const char *url)
{
    pthread_mutex_lock(&l->url_lock);
    free(l->fresh_url);
    l->fresh_url = strdup(url);
    pthread_cond_broadcast(&l->url_cond);
    pthread_mutex_unlock(&l->url_lock);
}

static void on_pipeline_event(struct event_loop *loop, int fd, unsigned events, void *arg);

static int start_pipeline(struct live *l, const char *url)
{
    struct pipeline_config cfg = l->o->stream.pipeline;
    if (cfg.n_outputs >= PIPELINE_MAX_OUTPUTS) {
        live_fail(l, 2, "too many --output for live (at most %d)", PIPELINE_MAX_OUTPUTS - 1);
        return -EINVAL;
    }
    l->retake_output = cfg.n_outputs;
    cfg.outputs[cfg.n_outputs++] = url;
    cfg.provider_output = l->retake_output;
    cfg.output.url_provider = provide_url;
    cfg.output.url_provider_opaque = l;
    l->pipeline = pipeline_start(&cfg);
    if (!l->pipeline) {
        live_fail(l, 1, "the media pipeline could not start");
        return -EIO;
    }
    l->pipeline_watch = event_loop_add_fd(l->loop, pipeline_event_fd(l->pipeline), EVENT_READ,
                                          on_pipeline_event, l);
    return 0;
}

/* A failed agent/rtmp or stream/start. While the pipeline runs (a recovery), trouble that may
 * pass — 5xx, timeouts, dropped connections — is retried until it works: the encoder keeps
 * running and the viewers get the stream back as soon as retake.tv answers. Anything else, or
 * a failure before the first stream, ends the session. */
static void keys_failed(struct live *l, const struct retake_result *res, const char *what,
                        const char *err)
{
    bool transient = res->status == 0 || res->cls == RETAKE_HTTP_SERVER;
    if (!l->pipeline || !transient) {
        live_fail(l, 1, "%s failed: %s", what, err);
        return;
    }
    uint32_t delay = http_retry_delay_ms(l->key_failures < 6 ? l->key_failures : 6, &l->rng);
    l->key_failures++;
    log_warn(COMPONENT, "%s failed (%s): trying again with fresh keys in %u ms", what, err, delay);
    event_timer_start(l->retry_keys_timer, delay, 0);
}

static void on_retry_keys(struct event_loop *loop, struct event_timer *t, void *arg)
{
    struct live *l = arg;
    if (l->state == LIVE_RECOVERING)
        step_rtmp(l);
}

static void on_stream_start(const struct retake_result *res, void *opaque)
{
    struct live *l = opaque;
    char *url = l->fresh_url_pending;
    l->fresh_url_pending = NULL;
    if (l->state == LIVE_STOPPING) {
        free(url);
        return;
    }
    struct retake_stream_start st;
    char err[256];
    if (!res->ok || retake_parse_stream_start(res->body, res->len, &st, err, sizeof(err)) < 0) {
        free(url); /* a key that was never published; the next try gets another one */
        keys_failed(l, res, "stream/start", res->ok ? err : res->error);
        return;
    }
    l->key_failures = 0;
    if (!l->session_started)
        l->session_started = time(NULL); /* comments from before this are history */
    bool changed = false;
    if (retake_credentials_set_token_info(l->cred, l->o->credentials_path, &st, &changed, err,
                                          sizeof(err)) < 0)
        log_warn(COMPONENT, "could not save the token address to the credentials: %s", err);
    else if (changed)
        log_info(COMPONENT, "first stream: token %s (%s) saved to the credentials",
                 st.token_ticker, st.token_address);
    if (!l->pipeline) {
        if (start_pipeline(l, url) == 0)
            wait_for_live(l);
    } else {
        hand_over_url(l, url);
        wait_for_live(l);
    }
    free(url);
}

static void on_rtmp(const struct retake_result *res, void *opaque)
{
    struct live *l = opaque;
    if (l->state == LIVE_STOPPING)
        return;
    struct retake_rtmp rtmp;
    char err[256];
    if (!res->ok || retake_parse_rtmp(res->body, res->len, &rtmp, err, sizeof(err)) < 0) {
        keys_failed(l, res, "agent/rtmp", res->ok ? err : res->error);
        return;
    }
    l->fresh_url_pending = strdup(rtmp.publish_url);
    explicit_bzero(&rtmp, sizeof(rtmp));
    if (!l->fresh_url_pending) {
        live_fail(l, 1, "out of memory");
        return;
    }
    /* "STEP 3 — Register stream session … Call after getting RTMP keys, before pushing video." */
    if (live_call(l, RETAKE_EP_STREAM_START, NULL, on_stream_start, l) < 0)
        live_fail(l, 1, "stream/start could not be sent");
}

/* "STEP 2 — Get fresh RTMP credentials (every stream, no exceptions)". */
static void step_rtmp(struct live *l)
{
    if (live_call(l, RETAKE_EP_RTMP, NULL, on_rtmp, l) < 0)
        live_fail(l, 1, "agent/rtmp could not be sent");
}

static void on_verification(const struct retake_result *res, void *opaque)
{
    struct live *l = opaque;
    bool verified = false;
    char err[256];
    if (!res->ok || retake_parse_verified(RETAKE_EP_VERIFICATION_STATUS, res->body, res->len,
                                          &verified, err, sizeof(err)) < 0) {
        live_fail(l, 1, "verification-status failed: %s", res->ok ? err : res->error);
        return;
    }
    if (!verified) {
        /* "Do not proceed to streaming until verified: true" */
        live_fail(l, 3, "this agent is not verified yet: run `agentcast verify` first");
        return;
    }
    step_rtmp(l);
}

/* ---- is_live ------------------------------------------------------------------------------- */

static void on_went_live(struct live *l)
{
    event_timer_stop(l->live_deadline);
    bool first = !l->went_live_once;
    l->went_live_once = true;
    l->state = LIVE_ON_AIR;
    log_info(COMPONENT, "%s at %s", first ? "live" : "live again", l->watch_url);
    live_notify(l, first ? "live" : "recovered", NULL);
    /* "STEP 6 — Upload initial thumbnail (mandatory)", again after a recovery; "STEP 7 — Open
     * chat" follows once the upload has been answered (live_chat.c). */
    l->outage = false;
    l->chat_after_thumbnail = first;
    live_thumbnail_now(l);
    event_timer_start(l->thumb_timer, (uint64_t)l->o->thumbnail_interval_ms,
                      (uint64_t)l->o->thumbnail_interval_ms);
    event_timer_start(l->status_timer, (uint64_t)l->o->status_interval_ms, 0);
}

static void on_status(const struct retake_result *res, void *opaque)
{
    struct live *l = opaque;
    if (l->state == LIVE_STOPPING || l->state == LIVE_RECOVERING)
        return;
    struct retake_stream_status st;
    char err[256];
    if (!res->ok || retake_parse_stream_status(res->body, res->len, &st, err, sizeof(err)) < 0) {
        log_warn(COMPONENT, "stream/status: %s", res->ok ? err : res->error);
    } else {
        l->viewers = st.viewers;
        if (st.is_live && l->state == LIVE_WAITING) {
            on_went_live(l);
            return;
        }
        if (!st.is_live && l->state == LIVE_ON_AIR) {
            log_warn(COMPONENT, "stream/status says not live while we push: checking every %d ms",
                     l->o->status_poll_ms);
            wait_for_live(l);
            return;
        }
        if (st.is_live)
            log_info(COMPONENT, "live: viewers=%lld uptime=%llds", (long long)st.viewers,
                     (long long)st.uptime_seconds);
    }
    int next = l->state == LIVE_ON_AIR ? l->o->status_interval_ms : l->o->status_poll_ms;
    event_timer_start(l->status_timer, (uint64_t)next, 0);
}

static void on_status_timer(struct event_loop *loop, struct event_timer *t, void *arg)
{
    struct live *l = arg;
    if (live_call(l, RETAKE_EP_STREAM_STATUS, NULL, on_status, l) < 0)
        event_timer_start(t, (uint64_t)l->o->status_poll_ms, 0);
}

static void on_live_deadline(struct event_loop *loop, struct event_timer *t, void *arg)
{
    struct live *l = arg;
    if (l->state != LIVE_WAITING)
        return;
    log_warn(COMPONENT, "not live after %d ms of pushing: recovering with fresh keys",
             l->o->live_timeout_ms);
    /* The output drops its connection and asks provide_url: one recovery path. */
    pipeline_reconnect_output(l->pipeline, l->retake_output);
}

/* "STEP 5 — Confirm live: Poll every 3s until is_live: true (timeout 30s)". */
static void wait_for_live(struct live *l)
{
    l->state = LIVE_WAITING;
    /* "Poll every 3s": the first check too, although the publisher is usually up sooner. */
    event_timer_start(l->status_timer, (uint64_t)l->o->status_poll_ms, 0);
    event_timer_start(l->live_deadline, (uint64_t)l->o->live_timeout_ms, 0);
}

/* ---- stats, skill.json --------------------------------------------------------------------- */

static void on_stats_timer(struct event_loop *loop, struct event_timer *t, void *arg)
{
    struct live *l = arg;
    if (!l->pipeline)
        return;
    struct pipeline_stats st;
    pipeline_get_stats(l->pipeline, &st);
    if (l->stats_file)
        stats_report_json(l->stats_file, &st,
                          (double)(clock_now_ns() - l->started_ns) / NS_PER_SEC);
    else if (log_get_level() >= LOG_DEBUG)
        stats_report_line(stderr, &st);
}

static void on_skill_json(struct http_response *resp, void *arg)
{
    char version[64], err[256];
    if (resp->error || resp->status != 200) {
        log_warn(COMPONENT, "could not check skill.json (%s): going on with skill %s",
                 resp->error ? resp->error_msg : "unexpected HTTP status", RETAKE_SKILL_VERSION);
        return;
    }
    if (retake_parse_skill_version(resp->body, resp->body_len, version, sizeof(version), err,
                                   sizeof(err)) < 0)
        log_warn(COMPONENT, "skill.json: %s", err);
    else if (strcmp(version, RETAKE_SKILL_VERSION) != 0)
        log_warn(COMPONENT,
                 "retake.tv's skill document is now version %s; agentcast follows %s — "
                 "check for an agentcast update",
                 version, RETAKE_SKILL_VERSION);
    else
        log_debug(COMPONENT, "skill.json version %s", version);
}

/* "Before going live, fetch skill.json and compare version" — a warning, never a failure. */
static void check_skill_version(struct live *l)
{
    char url[1024];
    if (retake_skill_json_url(l->o->api_base, url, sizeof(url)) < 0)
        return;
    struct http_request req = {.method = "GET", .url = url, .timeout_ms = 10000};
    char err[256];
    if (http_request(retake_client_http(l->api), &req, on_skill_json, l, NULL, err,
                     sizeof(err)) < 0)
        log_warn(COMPONENT, "could not check skill.json: %s", err);
}

/* ---- stop ---------------------------------------------------------------------------------- */

static cJSON *final_stats_json(struct live *l)
{
    cJSON *j = cJSON_CreateObject();
    if (!j)
        return NULL;
    cJSON *outs = cJSON_AddArrayToObject(j, "outputs");
    for (int i = 0; outs && i < l->final_stats.n_outputs; i++) {
        const struct pipeline_output_stats *o = &l->final_stats.outputs[i];
        cJSON *e = cJSON_CreateObject();
        if (!e)
            break;
        cJSON_AddStringToObject(e, "name", o->name);
        cJSON_AddNumberToObject(e, "frames_sent", (double)o->s.video_sent);
        cJSON_AddNumberToObject(e, "bytes_sent", (double)o->s.bytes_sent);
        cJSON_AddNumberToObject(e, "dropped", (double)o->s.video_dropped);
        cJSON_AddNumberToObject(e, "reconnects", o->s.reconnects);
        cJSON_AddItemToArray(outs, e);
    }
    if (l->stop_duration_s >= 0) {
        cJSON_AddNumberToObject(j, "duration_seconds", (double)l->stop_duration_s);
        cJSON_AddNumberToObject(j, "viewers", (double)l->stop_viewers);
    }
    cJSON_AddNumberToObject(j, "exit_code", l->exit_code);
    return j;
}

void live_finish_if_done(struct live *l)
{
    if (!l->stop_api_done || !l->stop_media_done || !l->mirror_done)
        return;
    if (l->kids) {
        if (!event_timer_active(l->grace_timer))
            event_timer_start(l->grace_timer, 500, 0);
        return;
    }
    if (l->stop_thread_started) {
        pthread_join(l->stop_thread, NULL);
        l->stop_thread_started = false;
    }
    if (l->stop_reply) {
        ctl_reply_send(l->stop_reply, final_stats_json(l));
        l->stop_reply = NULL;
    }
    ctl_server_stop(l->ctl);
    l->ctl = NULL;
    event_loop_stop(l->loop);
}

/* The control socket: {"cmd":"stop"} answers once the session has ended, with the final
 * stats; {"cmd":"status"} answers at once. */
static bool on_ctl(void *opaque, const char *cmd, const cJSON *request, struct ctl_reply *reply)
{
    struct live *l = opaque;
    static const char *const names[] = {"starting", "waiting", "live", "recovering", "stopping"};
    if (strcmp(cmd, "stop") == 0) {
        if (l->stop_reply)
            ctl_reply_error(reply, "a stop is already under way");
        else
            l->stop_reply = reply;
        live_begin_stop(l, "agentcast stop");
        return true;
    }
    if (strcmp(cmd, "status") == 0) {
        cJSON *j = cJSON_CreateObject();
        if (j) {
            cJSON_AddStringToObject(j, "state", names[l->state]);
            cJSON_AddStringToObject(j, "url", l->watch_url);
            cJSON_AddNumberToObject(j, "viewers", (double)l->viewers);
            cJSON_AddNumberToObject(j, "uptime_sec",
                                    (double)(clock_now_ns() - l->started_ns) / NS_PER_SEC);
        }
        ctl_reply_send(reply, j);
        return true;
    }
    return false;
}

static void on_media_stopped(void *arg)
{
    struct live *l = arg;
    l->stop_media_done = true;
    live_finish_if_done(l);
}

static void *stop_media_thread(void *arg)
{
    struct live *l = arg;
    l->media_rc = pipeline_stop(l->pipeline, &l->final_stats);
    l->pipeline = NULL;
    while (event_loop_post(l->loop, on_media_stopped, l) == -EAGAIN)
        clock_sleep_until_ns(clock_now_ns() + NS_PER_MS);
    return NULL;
}

static void on_stream_stop(const struct retake_result *res, void *opaque)
{
    struct live *l = opaque;
    struct retake_stop_resp st;
    char err[256];
    if (!res->ok)
        log_warn(COMPONENT, "stream/stop: %s", res->error);
    else if (retake_parse_stop(res->body, res->len, &st, err, sizeof(err)) < 0)
        log_warn(COMPONENT, "stream/stop: %s", err);
    else {
        l->stop_duration_s = st.duration_seconds;
        l->stop_viewers = st.viewers;
    }
    l->stop_api_done = true;
    live_finish_if_done(l);
}

void live_begin_stop(struct live *l, const char *why)
{
    if (l->state == LIVE_STOPPING)
        return;
    bool was_started = l->pipeline != NULL;
    l->state = LIVE_STOPPING;
    log_info(COMPONENT, "stopping (%s)", why);
    live_clawcast_stop(l);
    for (size_t i = 0; i < l->hook_len; i++) /* comments not yet handed to --on-chat */
        free(l->hook_queue[i]);
    l->hook_len = 0;
    event_timer_stop(l->status_timer);
    event_timer_stop(l->live_deadline);
    event_timer_stop(l->thumb_timer);
    event_timer_stop(l->chat_timer);
    event_timer_stop(l->stats_timer);
    event_timer_stop(l->retry_keys_timer);
    event_watch_remove(l->pipeline_watch);
    l->pipeline_watch = NULL;
    /* Outputs first learn that they stop, then a provider waiting for keys is released: it
     * returns no URL and the stopping output makes no new attempt. */
    if (l->pipeline)
        pipeline_stop_begin(l->pipeline);
    pthread_mutex_lock(&l->url_lock);
    l->shutting_down = true;
    pthread_cond_broadcast(&l->url_cond);
    pthread_mutex_unlock(&l->url_lock);

    l->stop_media_done = !l->pipeline;
    if (l->pipeline) {
        if (pthread_create(&l->stop_thread, NULL, stop_media_thread, l) == 0) {
            l->stop_thread_started = true;
        } else {
            l->media_rc = pipeline_stop(l->pipeline, &l->final_stats);
            l->pipeline = NULL;
            l->stop_media_done = true;
        }
    }
    /* "STEP 10 — Stream until stopped: POST /api/v1/agent/stream/stop → returns final stats".
     * Only once a session was started; one attempt with a short deadline so that the whole
     * stop stays within about 2 s. */
    l->stop_api_done = true;
    if (was_started && l->exit_code != 3) {
        struct retake_call_options o = {.max_attempts = 1, .timeout_ms = 1500};
        if (retake_client_call(l->api, RETAKE_EP_STREAM_STOP, &o, on_stream_stop, l, NULL) == 0)
            l->stop_api_done = false;
    }
    live_finish_if_done(l);
}

static void on_signal(struct event_loop *loop, int signo, void *arg)
{
    struct live *l = arg;
    if (signo == SIGINT || signo == SIGTERM)
        live_begin_stop(l, strsignal(signo));
}

static void on_pipeline_event(struct event_loop *loop, int fd, unsigned events, void *arg)
{
    struct live *l = arg;
    uint64_t v;
    ssize_t unused = read(fd, &v, sizeof(v));
    (void)unused;
    live_begin_stop(l, "the stream ended");
}

static void print_final(struct live *l)
{
    const struct pipeline_stats *st = &l->final_stats;
    for (int i = 0; i < st->n_outputs; i++) {
        const struct pipeline_output_stats *o = &st->outputs[i];
        fprintf(stderr, "agentcast: sent %llu frames (%.1f MB) to %s, %llu dropped, %u reconnects\n",
                (unsigned long long)o->s.video_sent, (double)o->s.bytes_sent / 1e6, o->name,
                (unsigned long long)o->s.video_dropped, o->s.reconnects);
    }
    if (l->stop_duration_s >= 0)
        fprintf(stderr, "agentcast: retake.tv session stopped after %lld s, %lld viewers\n",
                (long long)l->stop_duration_s, (long long)l->stop_viewers);
}

/* ---- setup --------------------------------------------------------------------------------- */

static int load_credentials(struct live *l)
{
    char err[512];
    l->cred = retake_credentials_new();
    if (!l->cred)
        return -ENOMEM;
    if (retake_credentials_load(l->o->credentials_path, l->cred, err, sizeof(err)) < 0) {
        log_error(COMPONENT, "%s", err);
        return -EACCES;
    }
    retake_credentials_forget_env(); /* --on-chat / --notify children never see the token */
    if (!l->cred->access_token[0] || !l->cred->user_db_id[0] || !l->cred->agent_name[0]) {
        log_error(COMPONENT, "no usable credentials (access_token, userDbId and agent_name are "
                             "needed): run `agentcast register` first");
        return -EACCES;
    }
    snprintf(l->watch_url, sizeof(l->watch_url), "https://retake.tv/%s", l->cred->agent_name);
    return 0;
}

static int setup(struct live *l)
{
    char err[512];
    /* The token lives in this process: keep it out of core dumps. */
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    if (load_credentials(l) < 0)
        return 3;
    l->loop = event_loop_new();
    if (!l->loop || event_loop_watch_default_signals(l->loop, on_signal, l) < 0)
        return 1;
    signal(SIGPIPE, SIG_IGN);
    l->api = retake_client_new(l->loop, l->o->api_base, l->cred->access_token, NULL, err,
                               sizeof(err));
    if (!l->api) {
        log_error(COMPONENT, "--api-base %s: %s", l->o->api_base, err);
        return 2;
    }
    l->stats_timer = event_timer_new(l->loop, on_stats_timer, l);
    l->status_timer = event_timer_new(l->loop, on_status_timer, l);
    l->live_deadline = event_timer_new(l->loop, on_live_deadline, l);
    l->grace_timer = event_timer_new(l->loop, live_on_grace_timer, l);
    l->retry_keys_timer = event_timer_new(l->loop, on_retry_keys, l);
    l->rng = (uint64_t)clock_now_ns();
    if (!l->stats_timer || !l->status_timer || !l->live_deadline || !l->grace_timer ||
        !l->retry_keys_timer ||
        live_chat_init(l) < 0)
        return 1;
    char path[CTL_PATH_MAX];
    const char *sock = l->o->socket_path;
    if (!sock) {
        if (ctl_path_default("live", path, sizeof(path), err, sizeof(err)) < 0 ||
            ctl_path_prepare_dir(path, err, sizeof(err)) < 0) {
            log_error(COMPONENT, "control socket: %s", err);
            return 1;
        }
        sock = path;
    }
    if (ctl_server_start(l->loop, sock, on_ctl, l, &l->ctl, err, sizeof(err)) < 0) {
        log_error(COMPONENT, "control socket %s: %s", sock, err);
        return 1;
    }
    if (l->o->stream.stats_json) {
        l->stats_file = strcmp(l->o->stream.stats_json, "-") == 0
                            ? stdout
                            : fopen(l->o->stream.stats_json, "w");
        if (!l->stats_file) {
            log_error(COMPONENT, "--stats-json: cannot write %s", l->o->stream.stats_json);
            return 2;
        }
    }
    return 0;
}

static void teardown(struct live *l)
{
    if (l->pipeline)
        pipeline_stop(l->pipeline, NULL);
    live_chat_free(l);
    live_clawcast_free(l);
    if (l->stop_reply)
        ctl_reply_discard(l->stop_reply);
    ctl_server_stop(l->ctl);
    retake_client_free(l->api);
    if (l->stats_file && l->stats_file != stdout)
        fclose(l->stats_file);
    event_loop_free(l->loop);
    retake_credentials_free(l->cred);
    free(l->fresh_url);
    free(l->fresh_url_pending);
    pthread_mutex_destroy(&l->url_lock);
    pthread_cond_destroy(&l->url_cond);
}

int live_run(struct live_options *o)
{
    struct live l = {.o = o, .retake_output = -1, .viewers = -1, .stop_duration_s = -1,
                     .mirror_done = true};
    pthread_mutex_init(&l.url_lock, NULL);
    pthread_cond_init(&l.url_cond, NULL);
    int rc = setup(&l);
    if (rc != 0) {
        teardown(&l);
        return rc;
    }
    l.started_ns = clock_now_ns();
    live_clawcast_start(&l); /* its failure is logged; the retake.tv stream goes on */
    event_timer_start(l.stats_timer, 1000, 1000);
    check_skill_version(&l);
    /* "STEP 1b — Confirm verified". */
    if (live_call(&l, RETAKE_EP_VERIFICATION_STATUS, NULL, on_verification, &l) < 0)
        live_fail(&l, 1, "verification-status could not be sent");
    /* Runs until finish_if_done: stream/stop answered, media closed, hooks ended. */
    if (event_loop_run(l.loop) < 0 && l.exit_code == 0)
        l.exit_code = 1;
    print_final(&l);
    if (l.exit_code == 0 && l.media_rc < 0)
        l.exit_code = 1;
    rc = l.exit_code;
    teardown(&l);
    return rc;
}
