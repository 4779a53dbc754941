/*
 * live_internal — the state shared by live.c (session lifecycle, recovery, stop) and
 * live_chat.c (comments, hooks, idle messages, thumbnails). Control-loop thread only, except
 * the URL hand-over members, which the RTMP output's thread reads under url_lock.
 */
#ifndef AGENTCAST_RETAKE_LIVE_INTERNAL_H
#define AGENTCAST_RETAKE_LIVE_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "core/child.h"
#include "core/event_loop.h"
#include "ctl/ctl_server.h"
#include "media/pipeline.h"
#include "retake/api.h"
#include "retake/client.h"
#include "retake/credentials.h"
#include "retake/live.h"

enum live_state {
    LIVE_STARTING,   /* verification, first keys, first stream/start */
    LIVE_WAITING,    /* pushing; polling stream/status until is_live */
    LIVE_ON_AIR,     /* is_live seen; loops running */
    LIVE_RECOVERING, /* fetching fresh keys for a reconnect */
    LIVE_STOPPING,
};

struct live {
    struct live_options *o;
    struct event_loop *loop;
    struct retake_client *api;
    struct retake_credentials *cred;
    struct pipeline *pipeline;
    int retake_output; /* index of the retake.tv output in the pipeline */
    enum live_state state;
    bool went_live_once;
    bool outage;               /* a recovery is under way (one "recovering" notify per outage) */
    bool chat_after_thumbnail; /* open the chat once the first thumbnail upload is answered */
    time_t session_started;    /* wall clock of the first stream/start */
    int exit_code;
    char watch_url[512]; /* https://retake.tv/<agent_name> */

    /* URL hand-over to the RTMP output's thread (output_options.url_provider). */
    pthread_mutex_t url_lock;
    pthread_cond_t url_cond;
    char *fresh_url;      /* set by the loop, taken by the provider */
    bool url_wanted;      /* a provider is waiting */
    bool shutting_down;   /* providers return at once */
    char *fresh_url_pending; /* loop only: keys received, stream/start in flight */

    struct event_watch *pipeline_watch;
    struct event_timer *stats_timer, *status_timer, *live_deadline, *thumb_timer, *chat_timer;
    struct event_timer *retry_keys_timer; /* recovery: fresh keys again after a failed try */
    unsigned key_failures;
    uint64_t rng;
    FILE *stats_file;
    int64_t started_ns;
    int64_t viewers;

    /* chat (live_chat.c) */
    struct retake_seen_ids seen;
    bool chat_primed;          /* the history present at start has been marked as seen */
    int64_t last_comment_ns;   /* newest comment seen, for the poll interval */
    int64_t last_activity_ns;  /* newest comment or message sent, for idle messages */
    char **idle_lines;
    size_t n_idle, next_idle;
    char **hook_queue;         /* comment JSON waiting for --on-chat, oldest first */
    size_t hook_len, hook_cap;
    bool hook_running;
    bool chat_in_flight, thumb_in_flight;

    /* hook processes (--on-chat, --notify), killed if still running when the session ends */
    struct live_kid *kids;
    struct event_timer *grace_timer;

    /* control socket: `agentcast stop` gets its reply once the session has ended */
    struct ctl_server *ctl;
    struct ctl_reply *stop_reply;

    /* stop */
    bool stop_api_done, stop_media_done;
    pthread_t stop_thread;
    bool stop_thread_started;
    struct pipeline_stats final_stats;
    int media_rc;
    int64_t stop_duration_s, stop_viewers;

    /* ClawCast.tv mirror (live_clawcast.c) */
    struct clawcast_client *claw;
    struct clawcast_mirror *mirror;
    bool mirror_done; /* true when there is none or it has ended */
};

/* live.c */
/* Ends the event loop once stream/stop answered, the media closed and every hook ended. */
void live_finish_if_done(struct live *l);
/* live_hooks.c: kills the hooks still running (the grace timer's callback). */
void live_on_grace_timer(struct event_loop *loop, struct event_timer *t, void *arg);
/* child_start, tracked so that the session waits for (or kills) its hooks before it ends. */
int live_spawn(struct live *l, const struct child_options *co, child_done_fn done, void *opaque);
void live_fail(struct live *l, int exit_code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void live_begin_stop(struct live *l, const char *why);
void live_notify(struct live *l, const char *event, const char *reason);
/* A call whose 401 ends the session and whose 409 is answered by stream/start and one retry. */
int live_call(struct live *l, enum retake_endpoint ep, const struct retake_call_options *opts,
              retake_done_fn done, void *opaque);

/* live_clawcast.c: --clawcast-mirror. start logs a failure and leaves the stream alone; stop
 * ends the mirror's slot, then live_finish_if_done runs again. */
int live_clawcast_start(struct live *l);
void live_clawcast_stop(struct live *l);
void live_clawcast_free(struct live *l);

/* live_chat.c */
int live_chat_init(struct live *l);
void live_chat_free(struct live *l);
void live_chat_start(struct live *l);       /* opening message + comment polling + idle */
void live_thumbnail_now(struct live *l);    /* snapshot → JPEG → update-thumbnail */
void live_send_chat(struct live *l, const char *text, const char *why);

#endif
