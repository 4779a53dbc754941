/*
 * api_internal — helpers shared by api.c, api_agent.c, api_public.c and credentials.c: JSON
 * root parsing with a precise "malformed" reason, typed field getters whose messages name the
 * field, printing JSON that holds a secret, and making server text safe to show. Not for use
 * outside src/retake/.
 */
#ifndef AGENTCAST_RETAKE_API_INTERNAL_H
#define AGENTCAST_RETAKE_API_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "core/errmsg.h"

/* Parses body into *out. -EBADMSG: empty, truncated or malformed ("<what>: retake.tv answered
 * with malformed JSON (…)"); -EPROTO: want_object and the root is not an object, or neither an
 * object nor an array otherwise; -ENOMEM. */
int retake_json_root(const char *body, size_t len, const char *what, bool want_object, cJSON **out,
                     char *err, size_t err_size);

/* Field getters on obj (what: "rtmp response", name: the JSON name, shown with prefix, e.g.
 * "token." for nested objects). Required: missing, null, wrong type → -EPROTO naming it.
 * Optional: missing, null or wrong type → default ("" / -1 / untouched), return 0. */
int retake_jstr(const cJSON *obj, const char *what, const char *prefix, const char *name,
                bool required, char *dst, size_t dst_size, char *err, size_t err_size);
struct retake_strfield {
    const char *name;
    bool required;
    char *dst;
    size_t size;
};
/* retake_jstr over a list; stops at the first error. */
int retake_jstrs(const cJSON *obj, const char *what, const char *prefix,
                 const struct retake_strfield *fields, size_t n, char *err, size_t err_size);
int retake_jint(const cJSON *obj, const char *what, const char *prefix, const char *name,
                bool required, int64_t *out, char *err, size_t err_size);
int retake_jbool(const cJSON *obj, const char *what, const char *name, bool *out, char *err,
                 size_t err_size);
/* The int rule of api.h for one item: 0 with *out, or -1. */
int retake_jint_value(const cJSON *item, int64_t *out);

/* Prints item into a malloc'd buffer without intermediate copies; release with
 * retake_body_free(). NULL on ENOMEM. Values added with cJSON_CreateStringReference are not
 * copied into the tree either, so a secret exists only in the caller's string and here. */
char *retake_json_print_secret(cJSON *item, bool pretty);

/* Copies len bytes of server text into out (NUL-terminated) with invalid UTF-8 and control
 * characters replaced by '?' (newline and tab by a space), cut on a character boundary with
 * "…" when it does not fit. */
void retake_sanitize(const char *in, size_t len, char *out, size_t out_size);

/* The body's "error" / "message" text, sanitized and with rtk_ tokens redacted; "" if none. */
void retake_server_text(const cJSON *root, char *out, size_t out_size);

#endif
