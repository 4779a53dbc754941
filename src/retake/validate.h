/*
 * validate — checks what agentcast is about to send to retake.tv, before it is sent, so that a
 * typo is reported at once with the rule it breaks instead of as an HTTP 400. Each validator
 * returns 0, or -EINVAL with a one-line reason in err that names the field (the document's JSON
 * name) and the rule. err may be NULL. Reasons never quote secrets; they quote the offending
 * value only where it is public (a URL, a ticker).
 *
 * Where the skill document (retake-skill.md v2.1.2) states a rule it is quoted; where it states
 * none, the limit is ours and says so in the reason ("agentcast's limit").
 */
#ifndef AGENTCAST_RETAKE_VALIDATE_H
#define AGENTCAST_RETAKE_VALIDATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RETAKE_AGENT_NAME_MAX 64    /* bytes; ours: the document says only "Unique" */
#define RETAKE_DESCRIPTION_MAX 1000 /* bytes; ours: the document says "Short bio" */
#define RETAKE_TICKER_MAX 10        /* the document: "Max 10 characters" */
#define RETAKE_CHAT_TEXT_MAX 500    /* characters (code points); ours: the document gives none */
#define RETAKE_USER_DB_ID_MAX 128   /* bytes; ours */
#define RETAKE_URL_MAX 2048         /* bytes; ours, for image_url and tweet_url */

/* agent_name: 1–64 bytes of valid UTF-8; no control characters; no leading or trailing
 * whitespace; none of / ? # % \ (the name becomes the path of https://retake.tv/<agent_name>). */
int retake_validate_agent_name(const char *s, char *err, size_t err_size);
/* agent_description: non-empty after trimming whitespace, at most 1000 bytes of valid UTF-8,
 * no control characters except newline and tab. */
int retake_validate_description(const char *s, char *err, size_t err_size);
/* image_url: http:// or https:// (any case), a non-empty host, no whitespace or control
 * characters, at most 2048 bytes. The document's "square (1:1), jpg/png" cannot be checked
 * without fetching the image and is not. */
int retake_validate_image_url(const char *s, char *err, size_t err_size);
/* wallet_address: base58 (Bitcoin alphabet) that decodes to exactly 32 bytes, "Valid Solana
 * base58 public key". Whether the point is on the curve is not checked (any 32 bytes pass). */
int retake_validate_wallet(const char *s, char *err, size_t err_size);
/* ticker: 1–10 characters, each printable ASCII other than space (0x21–0x7e), so that a
 * character is a byte and "Max 10 characters" is unambiguous. Case is kept as given. */
int retake_validate_ticker(const char *s, char *err, size_t err_size);
/* tweet_url: https://{x.com|twitter.com}/<handle>/status/<digits>, hosts also with "www." or
 * "mobile." (any case); handle 1–15 of [A-Za-z0-9_]; status id 1–19 digits without a leading
 * zero; then optionally "/", "?query" and "#fragment" (share links carry "?s=20"). Refuses the
 * document's placeholders: a handle "username" (any case) or the ids 123 and 1234567890. */
int retake_validate_tweet_url(const char *s, char *err, size_t err_size);
/* message (chat): non-empty after trimming whitespace, at most 500 code points of valid UTF-8,
 * no control characters except newline and tab. */
int retake_validate_chat_text(const char *s, char *err, size_t err_size);
/* userDbId / destination_user_id: 1–128 bytes, printable ASCII without spaces. */
int retake_validate_user_db_id(const char *s, char *err, size_t err_size);
/* --api-base: http(s)://host[:port][/path], no user info, query or fragment, no trailing
 * spaces; https is required unless host is a loopback name or address (localhost, 127.0.0.0/8,
 * [::1]), which tests use. *loopback (may be NULL) tells which. */
int retake_validate_api_base(const char *s, bool *loopback, char *err, size_t err_size);


#endif
