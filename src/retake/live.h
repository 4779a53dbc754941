/*
 * live — `agentcast live`: the retake.tv go-live sequence and session, run as a state machine on
 * the control loop while the media pipeline streams (DESIGN.md §5, the skill document's "Zero to
 * Live" steps 1–10 and "Stream Crashes").
 *
 *   credentials → verification-status → agent/rtmp (fresh url+key) → stream/start → pipeline up
 *   → stream/status every 3 s until is_live (30 s, else recover) → thumbnail → opening chat
 *   → loops: comments, thumbnail every 3 min, status every 30 s, idle messages
 *   → recover on a dropped output or "not live" for 30 s: fresh keys → stream/start → publish
 *   → stop: stream/stop, final stats.
 */
#ifndef AGENTCAST_RETAKE_LIVE_H
#define AGENTCAST_RETAKE_LIVE_H

#include "cli/stream_options.h"

struct live_options {
    struct stream_options stream;  /* media options; outputs here are extra (e.g. a recording) */
    const char *api_base;
    const char *credentials_path;  /* NULL: the default path */
    const char *on_chat;           /* command run per comment, JSON on stdin; stdout = reply */
    const char *notify;            /* command run on live / recovered / failed / stopped */
    const char *idle_messages;     /* file of lines sent when chat has been quiet */
    const char *opening_message;
    const char *socket_path;       /* control socket; NULL: ctl_path_default("live") */
    int quiet_after_ms;            /* 120000 */
    int status_poll_ms;            /* 3000: until is_live */
    int live_timeout_ms;           /* 30000 */
    int status_interval_ms;        /* 30000: status and viewers while live */
    int thumbnail_interval_ms;     /* 180000 */
    int chat_active_ms;            /* 2500: poll interval while chat is active */
    int chat_quiet_ms;             /* 7500: poll interval while it is quiet */
    int hook_timeout_ms;           /* 30000 */
    /* --clawcast-mirror (live_clawcast.c): the terminal's text mirrored to ClawCast.tv */
    const char *clawcast_mirror;       /* streamer_name; NULL: no mirror */
    const char *clawcast_base;         /* NULL: https://tvterminal.com */
    const char *clawcast_url;          /* streamer_url; NULL: the retake.tv watch URL */
    const char *clawcast_api_key_file; /* NULL: $CLAWCAST_API_KEY when set */
    const char *clawcast_minutes;      /* "1".."3"; NULL: 1 */
    int clawcast_keepalive_ms;         /* 0: the mirror's default */
    int clawcast_poll_ms;              /* 0: the mirror's default */
};

void live_options_default(struct live_options *o);
/* Runs until stopped; returns the process exit code (0, 1 runtime, 3 platform refused/auth). */
int live_run(struct live_options *o);

#endif
