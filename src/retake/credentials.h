/*
 * credentials — ~/.config/retake/credentials.json, the file the skill document has the agent
 * write on registration and after the first stream (fields: access_token, agent_name, agent_id,
 * userDbId, wallet_address, ticker, token_address, token_ticker), plus RETAKE_ACCESS_TOKEN,
 * which "takes priority over the credentials.json value".
 *
 * Rules: the file is written atomically (temp file in the same directory, fsync, rename, fsync of
 * the directory) with mode 0600, in a directory created 0700. On load, a file that group or
 * others can read or write, or that is not ours, and a directory that group or others can write,
 * are refused with the command that fixes it ("chmod 600 /path"). The token is never logged:
 * retake_token_redact() gives "rtk_…" and its last 4 characters at most.
 *
 * Unknown fields in the file are not kept when agentcast rewrites it.
 */
#ifndef AGENTCAST_RETAKE_CREDENTIALS_H
#define AGENTCAST_RETAKE_CREDENTIALS_H

#include <stdbool.h>
#include <stddef.h>

#include "retake/api.h"

#define RETAKE_ENV_TOKEN "RETAKE_ACCESS_TOKEN"

struct retake_credentials {
    char access_token[RETAKE_TOKEN_MAX];      /* effective: env over file; "" if neither */
    char file_access_token[RETAKE_TOKEN_MAX]; /* what the file holds; what save writes */
    bool token_from_env;                      /* access_token came from RETAKE_ACCESS_TOKEN */
    bool file_found;                          /* the file existed (false: env token only) */
    char agent_name[RETAKE_ID_MAX];
    char agent_id[RETAKE_ID_MAX];
    char user_db_id[RETAKE_ID_MAX]; /* "userDbId" */
    char wallet_address[RETAKE_ID_MAX];
    char ticker[RETAKE_ID_MAX];        /* as registered */
    char token_address[RETAKE_ID_MAX]; /* after the first stream */
    char token_ticker[RETAKE_ID_MAX];  /* after the first stream */
};

/* A zeroed struct in its own pages, excluded from core dumps (MADV_DONTDUMP) where the kernel
 * allows. NULL on ENOMEM. Release with retake_credentials_free(), which zeroes it. */
struct retake_credentials *retake_credentials_new(void);
void retake_credentials_free(struct retake_credentials *c);
/* Zeroes every field (explicit_bzero), for structs not from _new(). */
void retake_credentials_clear(struct retake_credentials *c);

/* $HOME/.config/retake/credentials.json ($HOME unset: the passwd entry's home). 0, or -ENOENT /
 * -ENOSPC with err. */
int retake_credentials_default_path(char *out, size_t out_size, char *err, size_t err_size);

/* Loads path (NULL: the default path) into *c (cleared first). RETAKE_ACCESS_TOKEN, when set
 * and non-empty, overrides the file's token. Returns 0, or with a one-line err:
 *   -ENOENT  no file and no RETAKE_ACCESS_TOKEN ("… run `agentcast register`");
 *   -EACCES  permissions or owner refused (err holds the chmod/chown command);
 *   -EINVAL  not a JSON object, a field of the wrong type or too long (named), or no
 *            access_token anywhere;
 *   -EFBIG   larger than 64 KiB; other negative errno from open/read.
 * A missing file with the env token set is not an error: file_found is false. */
int retake_credentials_load(const char *path, struct retake_credentials *c, char *err,
                            size_t err_size);

/* Writes c atomically to path (NULL: default), creating missing directories 0700; the file gets
 * mode 0600. The token written is file_access_token, never one that came from the environment.
 * Refuses (-EACCES with the chmod command) a directory that group or others can write. On any
 * failure the old file is untouched and no temp file is left. 0 or negative errno, err set. */
int retake_credentials_save(const char *path, const struct retake_credentials *c, char *err,
                            size_t err_size);

/* Fills c for a fresh registration: agent_name and ticker from req; access_token (also as
 * file_access_token), agent_id, userDbId, wallet_address (req's when the response has none),
 * token_address and token_ticker from resp. The caller saves. */
void retake_credentials_from_register(struct retake_credentials *c,
                                      const struct retake_register_req *req,
                                      const struct retake_register_resp *resp);

/* "On first stream, save the returned tokenAddress and ticker to credentials": copies the
 * non-empty values of start's token.tokenAddress / token.ticker into token_address /
 * token_ticker and, when anything changed, saves to path atomically. *changed (may be NULL)
 * says whether it did. 0 or the save's error. */
int retake_credentials_set_token_info(struct retake_credentials *c, const char *path,
                                      const struct retake_stream_start *start, bool *changed,
                                      char *err, size_t err_size);

/* Writes "rtk_…" plus the token's last 4 characters (just "rtk_…" for a token under 12
 * characters, which would give away too much) into out, cut to fit. */
void retake_token_redact(const char *token, char *out, size_t out_size);

/* Removes RETAKE_ACCESS_TOKEN from the environment so that children (--on-chat, --notify) do not
 * inherit it. Call after load. The process's initial environment block (/proc/PID/environ)
 * still holds it; PR_SET_DUMPABLE 0 makes that file readable by root only. */
void retake_credentials_forget_env(void);

#endif
