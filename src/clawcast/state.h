/*
 * state — the booking's state file. "Your JWT comes back in the response — hold onto it if you
 * want to do more": agentcast keeps the slot JWT in a small JSON file for the booking's life so
 * that later commands (frame, batch, poll, end, the mirror) can use it; it is never printed.
 *
 * File: {"slot_jwt", "streamer_name", "booked_at", "exp", "position_in_queue",
 * "duration_minutes", "batch_published"}. Written atomically (temp file in the same directory,
 * fsync, rename, fsync of the directory) with mode 0600 in a directory created 0700. On load
 * and save, a file that group or others can access or that is not ours, and a directory that
 * group or others can access, are refused with the command that fixes it ("chmod 600 /path").
 *
 * Default path (our choice; the document is silent): $XDG_STATE_HOME/agentcast/clawcast-slot.json,
 * or $HOME/.local/state/agentcast/clawcast-slot.json when XDG_STATE_HOME is unset or not
 * absolute (the XDG base directory default). One booking per file: pass another path for more.
 *
 * Expiry: the JWT's "exp" claim is read from its payload (base64url JSON) without verifying the
 * signature — only to know when it expires ("Your JWT expires ~60s after your slot ends"), so
 * that no call is made with an expired JWT. A JWT without exp gives exp 0 (unknown; usable).
 */
#ifndef AGENTCAST_CLAWCAST_STATE_H
#define AGENTCAST_CLAWCAST_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "clawcast/api.h"
#include "clawcast/validate.h"

/* Seconds before exp from which the JWT is treated as expired: a call started just before exp
 * would reach the server after it. */
#define CLAWCAST_JWT_EXPIRY_MARGIN 2
/* "Your JWT expires ~60s after your slot ends". */
#define CLAWCAST_JWT_AFTER_SLOT 60

struct clawcast_slot_state {
    char slot_jwt[CLAWCAST_JWT_MAX]; /* secret, never logged: clawcast_jwt_redact() */
    char streamer_name[CLAWCAST_NAME_MAX + 1];
    int64_t booked_at;         /* unix seconds */
    int64_t exp;               /* the JWT's exp (unix seconds), 0 when it has none */
    int64_t position_in_queue; /* at booking; -1 unknown */
    int duration_minutes;      /* 1–3, 0 unknown */
    bool batch_published;      /* "One batch per slot" */
};

/* A zeroed struct in its own pages, excluded from core dumps where the kernel allows. NULL on
 * ENOMEM. Release with clawcast_state_free(), which zeroes it. */
struct clawcast_slot_state *clawcast_state_new(void);
void clawcast_state_free(struct clawcast_slot_state *st);
void clawcast_state_clear(struct clawcast_slot_state *st); /* explicit_bzero */

/* Fills st from a parsed booking (the JWT is copied; exp decoded from it), name and minutes from
 * the request, booked_at = now. -EINVAL with err when the JWT is not a JWT with a decodable
 * payload; a payload without exp is fine (exp 0). */
int clawcast_state_from_booking(struct clawcast_slot_state *st, const struct clawcast_booking *b,
                                const char *streamer_name, int duration_minutes, int64_t now,
                                char *err, size_t err_size);

/* The default path (see above). 0, or -ENOENT / -ENAMETOOLONG with err. */
int clawcast_state_default_path(char *out, size_t out_size, char *err, size_t err_size);
/* Writes st atomically (path NULL: default), creating missing directories 0700. On failure the
 * old file is untouched and no temp file is left. 0 or negative errno with err. */
int clawcast_state_save(const char *path, const struct clawcast_slot_state *st, char *err,
                        size_t err_size);
/* Loads path (NULL: default) into st (cleared first). -ENOENT ("no booked slot … run
 * `agentcast clawcast book`"), -EACCES (permissions; err has the chmod command), -EINVAL (not
 * the file's shape, a field named), -EFBIG, or another negative errno. */
int clawcast_state_load(const char *path, struct clawcast_slot_state *st, char *err,
                        size_t err_size);
/* Removes the file (path NULL: default); a missing file is not an error. */
int clawcast_state_delete(const char *path, char *err, size_t err_size);

/* 0 when st's JWT may be used at now; -EKEYEXPIRED ("slot JWT expired at … — book a new slot")
 * from exp - CLAWCAST_JWT_EXPIRY_MARGIN on; -ENOENT when st holds no JWT. */
int clawcast_state_check_usable(const struct clawcast_slot_state *st, int64_t now, char *err,
                                size_t err_size);
/* 0 when this slot may still publish its batch; -EALREADY ("One batch per slot") otherwise. */
int clawcast_state_check_batch(const struct clawcast_slot_state *st, char *err, size_t err_size);
/* When the slot ends, going by exp ("expires ~60s after your slot ends"): exp - 60, or 0 when
 * exp is unknown. */
int64_t clawcast_state_slot_end(const struct clawcast_slot_state *st);

/* The "exp" claim of jwt's payload, decoded (not verified). 0 with *exp (0 when there is no
 * exp claim), or -EINVAL with err (not three dot-separated parts, bad base64url, payload not a
 * JSON object, exp not a number). */
int clawcast_jwt_exp(const char *jwt, int64_t *exp, char *err, size_t err_size);
/* "eyJ…" plus the token's last 4 characters (just "eyJ…" under 24 characters), cut to fit. */
void clawcast_jwt_redact(const char *jwt, char *out, size_t out_size);

#endif
