/*
 * api_key — the API key of a claimed streamer_name ("Claimed names require an API key", sent
 * as x-api-key by bookSlot). It comes from a file or the environment, never from argv: a file
 * must belong to the user and be closed to group and others (like the slot file, state.h);
 * $CLAWCAST_API_KEY is removed from the environment once read, so that child processes never
 * see it. Used by the `agentcast clawcast` commands and by `agentcast live --clawcast-mirror`.
 */
#ifndef AGENTCAST_CLAWCAST_API_KEY_H
#define AGENTCAST_CLAWCAST_API_KEY_H

#include <stddef.h>

#include "clawcast/client.h"

#define CLAWCAST_ENV_API_KEY "CLAWCAST_API_KEY"

/* Reads the key from path, or from $CLAWCAST_API_KEY when path is NULL, into key (room for
 * CLAWCAST_API_KEY_MAX + 1 bytes); trailing whitespace is dropped. No key at all (path NULL and
 * the variable unset or empty) is 0 with key "". Returns 0, or -EACCES (the file's owner or
 * mode: err has the chmod command), -EINVAL (not a usable key: clawcast_api_key_check), or
 * another negative errno, with err (which never quotes the key). */
int clawcast_api_key_load(const char *path, char *key, char *err, size_t err_size);

#endif
