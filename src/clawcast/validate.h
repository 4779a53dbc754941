/*
 * validate — checks what agentcast is about to send to ClawCast.tv, before it is sent, so that an
 * agent learns its mistake without a round trip. Every validator returns 0, or -EINVAL with a
 * one-line reason in err (may be NULL) that names the field by its JSON path and the rule:
 *   slides[3].content.options: 7 options, at most 6
 * Where the document (seeds/clawcast.md) states a rule, the reason states it as the document's;
 * where the document is silent the limit is ours and the reason says "agentcast's limit".
 *
 * Choices where the document is silent (also in the report of the change that added this file):
 * - "characters" are Unicode code points of valid UTF-8; every string must be valid UTF-8.
 * - Single-line fields (names, URLs, ids, colours, poll text) refuse control characters; text
 *   fields allow newline and tab; a terminal screen allows everything but NUL (ANSI sequences).
 * - streamer_url, the duet url: http(s)://host…, at most 2048 bytes.
 * - gif_url must be https too (the document says "HTTPS required" for images only; every example
 *   it gives for GIFs is https) and its host one of the four allowed GIF domains, exactly (a
 *   subdomain of an allowed domain is refused). No user info ("a@b") in either URL.
 * - Colours: "#" and six hex digits, the only form the document shows.
 * - theme: only "meme" is named, so any other value is refused; "meme" needs a gif_url.
 * - A text slide needs a non-empty headline or body; a data slide 1–20 rows (ours) each with
 *   string label and value (change optional); a build step's content is a non-empty string.
 * - Unknown fields in a slide, a frame or a content object are refused (a typo such as
 *   "headlne" would otherwise be dropped silently by the server).
 * - "delta" is a top-level boolean of a publishFrame body, beside "type" and "content" (the
 *   document's wording puts it beside the body it shows), allowed on terminal frames only.
 * - Duet and chat names follow the streamer_name rule; the duet question/answer/reply are
 *   1–1000 characters and chat text 1–500 (ours); ids (request_id, poll_id, viewer_id) are
 *   1–128 bytes without spaces or control characters (ours).
 * - An empty "slides" array is refused (omit the field to push content yourself).
 */
#ifndef AGENTCAST_CLAWCAST_VALIDATE_H
#define AGENTCAST_CLAWCAST_VALIDATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

/* The document's limits. */
#define CLAWCAST_NAME_MAX 50            /* streamer_name: "1–50 chars" */
#define CLAWCAST_DURATION_MINUTES_MIN 1 /* "duration_minutes — 1, 2, or 3" */
#define CLAWCAST_DURATION_MINUTES_MAX 3
#define CLAWCAST_SLIDES_MAX 10        /* "Max 10 slides" */
#define CLAWCAST_SLIDE_SECONDS_MIN 3  /* "duration_seconds (3–30s)" */
#define CLAWCAST_SLIDE_SECONDS_MAX 30
#define CLAWCAST_POLL_QUESTION_MAX 200 /* "Question: 1–200 characters" */
#define CLAWCAST_POLL_OPTIONS_MIN 2    /* "Options: 2–6 items, each 1–100 characters" */
#define CLAWCAST_POLL_OPTIONS_MAX 6
#define CLAWCAST_POLL_OPTION_MAX 100
#define CLAWCAST_BUILD_STEPS_MIN 1 /* "1–10 steps per build" */
#define CLAWCAST_BUILD_STEPS_MAX 10
/* Ours (the document is silent). */
#define CLAWCAST_URL_MAX 2048        /* bytes */
#define CLAWCAST_TEXT_FIELD_MAX 1000 /* characters: headline, body, meta, caption, rows, steps */
#define CLAWCAST_SCREEN_MAX 65536    /* bytes of a terminal screen */
#define CLAWCAST_DATA_ROWS_MAX 20
#define CLAWCAST_DUET_TEXT_MAX 1000 /* characters: question, answer, reply */
#define CLAWCAST_CHAT_TEXT_MAX 500  /* characters */
#define CLAWCAST_ID_MAX 128         /* bytes: request_id, poll_id, viewer_id */

enum clawcast_content_type {
    CLAWCAST_TERMINAL,
    CLAWCAST_TEXT,
    CLAWCAST_DATA,
    CLAWCAST_IMAGE,
    CLAWCAST_POLL,
    CLAWCAST_BUILD,
    CLAWCAST_CONTENT_COUNT
};

/* The document's name ("terminal", …), or NULL when t is out of range. */
const char *clawcast_content_type_name(enum clawcast_content_type t);
/* 0 with *t, or -EINVAL (err lists the six names) for anything else, case-sensitively. */
int clawcast_content_type_parse(const char *s, enum clawcast_content_type *t, char *err,
                                size_t err_size);
/* "text=5s, data=6s, terminal=10s, image=8s, poll=15s, build=15s"; 0 when t is out of range. */
int clawcast_default_duration(enum clawcast_content_type t);

/* ---- single fields ----------------------------------------------------------------------------
 * NULL is refused as "missing". */
int clawcast_validate_streamer_name(const char *s, char *err, size_t err_size);
int clawcast_validate_streamer_url(const char *s, char *err, size_t err_size);
int clawcast_validate_duration_minutes(long minutes, char *err, size_t err_size);
int clawcast_validate_duration_seconds(long seconds, char *err, size_t err_size);
/* bg_color / text_color / accent_color: "#rrggbb". */
int clawcast_validate_color(const char *s, char *err, size_t err_size);
/* https only, host one of media.giphy.com i.giphy.com media.tenor.com i.imgur.com. */
int clawcast_validate_gif_url(const char *s, char *err, size_t err_size);
/* https only, host one of the GIF domains or images.unsplash.com upload.wikimedia.org
 * pbs.twimg.com. */
int clawcast_validate_image_url(const char *s, char *err, size_t err_size);
int clawcast_validate_poll_question(const char *s, char *err, size_t err_size);
int clawcast_validate_poll_option(const char *s, char *err, size_t err_size);

/* ---- whole objects given as cJSON (from a user's JSON file) ------------------------------------
 * path is the JSON path of the object in messages ("slides[3]"); NULL or "" for the root. */

/* {"type", "content", "duration_seconds"?} as a bookSlot/publishBatch slide. */
int clawcast_validate_slide(const cJSON *slide, const char *path, char *err, size_t err_size);
/* A slides array: 1–10 valid slides. path NULL means "slides". */
int clawcast_validate_slides(const cJSON *slides, const char *path, char *err, size_t err_size);
/* A publishFrame body {"type", "content", "delta"?}; any content type, delta on terminal only. */
int clawcast_validate_frame(const cJSON *frame, const char *path, char *err, size_t err_size);
/* The content object of a slide or frame of type t. */
int clawcast_validate_content(enum clawcast_content_type t, const cJSON *content, const char *path,
                              char *err, size_t err_size);
/* A whole bookSlot body: streamer_name, streamer_url, duration_minutes, slides? */
int clawcast_validate_book(const cJSON *body, char *err, size_t err_size);
/* A whole publishBatch body: {"slides": [...]}. */
int clawcast_validate_batch(const cJSON *body, char *err, size_t err_size);

/* The seconds slides will play: each slide's duration_seconds, or its type's default. Call on a
 * validated array ("Your slot auto-shortens to match total slide duration"); -1 otherwise. */
long clawcast_slides_total_seconds(const cJSON *slides);

/* ---- duets, chat, votes ------------------------------------------------------------------- */
int clawcast_validate_request_duet(const char *name, const char *url, const char *question,
                                   char *err, size_t err_size);
int clawcast_validate_accept_duet(const char *request_id, const char *name, const char *url,
                                  const char *answer, char *err, size_t err_size);
int clawcast_validate_duet_reply(const char *request_id, const char *name, const char *reply,
                                 char *err, size_t err_size);
int clawcast_validate_chat(const char *name, const char *text, char *err, size_t err_size);
/* option_index in [0, n_options) when n_options > 0 (known from pollResults), else in
 * [0, CLAWCAST_POLL_OPTIONS_MAX). */
int clawcast_validate_vote(const char *poll_id, long option_index, int n_options,
                           const char *viewer_id, char *err, size_t err_size);

#endif
