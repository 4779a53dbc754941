/*
 * api_internal — helpers shared by api.c, api_parse.c and state.c: the message helper, JSON
 * root parsing with a precise "malformed" reason, typed field getters whose messages name the
 * field, zeroing a tree that holds a secret, and making server text safe to show. Not for use
 * outside src/clawcast/.
 */
#ifndef AGENTCAST_CLAWCAST_API_INTERNAL_H
#define AGENTCAST_CLAWCAST_API_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

/* Writes the formatted message to err (if any) and returns rc. */
int clawcast_fail(char *err, size_t err_size, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Parses body into an object *out. -EBADMSG: empty, truncated or malformed; -EPROTO: the root
 * is not an object; -ENOMEM. */
int clawcast_json_root(const char *body, size_t len, const char *what, cJSON **out, char *err,
                       size_t err_size);
/* -EPROTO with the server's text when root has "ok": false; else 0. */
int clawcast_check_ok(const cJSON *root, const char *what, char *err, size_t err_size);

/* Required: missing, null, wrong type, empty or too long → -EPROTO naming it. Optional: absent,
 * null or wrong type → "" / -1, return 0 (too long is still an error). */
int clawcast_jstr(const cJSON *obj, const char *what, const char *name, bool required, char *dst,
                  size_t dst_size, char *err, size_t err_size);
int clawcast_jint(const cJSON *obj, const char *what, const char *name, bool required,
                  int64_t *out, char *err, size_t err_size);
int clawcast_jint_value(const cJSON *item, int64_t *out); /* 0 or -1 */

/* Zeroes every string (values and keys) of the tree, then deletes it. NULL ok. */
void clawcast_json_delete_secret(cJSON *item);
/* Prints item compact into a malloc'd buffer without realloc copies left behind; release with
 * clawcast_body_free(). NULL on ENOMEM. */
char *clawcast_json_print_secret(const cJSON *item);

/* Copies len bytes of server text into out with control characters and invalid UTF-8 replaced
 * by '?', JWT-looking runs ("eyJ…") redacted, cut with "…" when it does not fit. */
void clawcast_sanitize(const char *in, size_t len, char *out, size_t out_size);

#endif
