/*
 * mirror — mirrors a growing text file (an agent's terminal log) to ClawCast.tv as terminal
 * frames: a state machine on the control loop, over clawcast/client.h. Used by
 * `agentcast clawcast mirror` and by `agentcast live --clawcast-mirror` (beside the retake.tv
 * stream, tailing the terminal source's --text-file).
 *
 *   book (bookSlot, no slides) → waiting: getQueue every poll_ms, the position logged when it
 *   changes; once our name is no longer queued, a first full frame (409 "not active yet": keep
 *   waiting) → live: the log's new complete lines as terminal frames with "delta": true, at
 *   most one frame per frame_interval_ms ("Push at ~1/sec"), and an empty delta frame when
 *   nothing was written for keepalive_ms, well before the document's "30 seconds with no
 *   frames = you get cut"; GET now every poll_ms to see the slot end → slot over (now names
 *   someone else, a frame answered 409/401, or the JWT expired): with repeat, book again,
 *   else done. Stop (SIGINT): endSlot when a slot is held, then done.
 *
 * The slot JWT is kept in memory and, while the booking lasts, in the state file (state.h), so
 * that other `agentcast clawcast` commands can use the slot (chat, poll-results); the file is
 * removed when the slot is over. No call is made with an expired JWT (client.h).
 *
 * Failures: 5xx and timeouts are retried by the client; when a booking still fails it is tried
 * again after a growing delay. A refusal that repeating cannot fix (401/403 on a claimed name,
 * 400) ends the mirror with exit code 3 (or 1), unless `persistent`: then it is logged and the
 * booking is tried again a minute later (`agentcast live`: the mirror never ends the retake.tv
 * stream, and a claim may be lifted or a key fixed meanwhile).
 */
#ifndef AGENTCAST_CLAWCAST_MIRROR_H
#define AGENTCAST_CLAWCAST_MIRROR_H

#include <stdbool.h>

#include "clawcast/client.h"

struct event_loop;
struct clawcast_mirror;

struct clawcast_mirror_options {
    const char *streamer_name; /* validated (validate.h) */
    const char *streamer_url;
    int duration_minutes;   /* 1–3 */
    const char *text_file;  /* the log to tail */
    const char *api_key;    /* claimed names; NULL: none. Copied, wiped */
    const char *state_path; /* NULL: state.h's default path */
    bool repeat;            /* book again when a slot is over */
    bool persistent;        /* never give up (see above) */
    int frame_interval_ms;  /* 0 = 1000 */
    int keepalive_ms;       /* 0 = 20000 */
    int poll_ms;            /* 0 = 2000 */
};

/* Called once when the mirror has ended (after a stop, a final failure, or the last slot
 * without repeat), on the loop thread: exit_code 0 ok, 1 failure, 3 refused by ClawCast. The
 * mirror may be freed from inside it. */
typedef void (*clawcast_mirror_done_fn)(int exit_code, void *opaque);

/* Starts the mirror (the first bookSlot goes out at once). client and loop must outlive it.
 * NULL with err when the options are invalid or the file cannot be opened. */
struct clawcast_mirror *clawcast_mirror_start(struct event_loop *loop,
                                              struct clawcast_client *client,
                                              const struct clawcast_mirror_options *o,
                                              clawcast_mirror_done_fn done, void *opaque, char *err,
                                              size_t err_size);
/* Ends the slot held (endSlot, one short attempt) and then calls done. Idempotent. */
void clawcast_mirror_stop(struct clawcast_mirror *m);
/* Frees without calling done (calls in flight are cancelled). NULL ok. */
void clawcast_mirror_free(struct clawcast_mirror *m);

#endif
