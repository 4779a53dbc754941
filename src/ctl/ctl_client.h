/*
 * ctl_client — the one-shot side of the control socket: `agentcast stop` (and later other
 * commands run from a shell) connect to a running `agentcast live`, send one JSON-lines request
 * and wait for its reply (protocol in ctl_server.h). Blocking and synchronous on purpose: these
 * commands have nothing else to do meanwhile, and no event loop.
 *
 * The server must run under our own uid: its peer credentials are checked after connecting,
 * as the server checks ours, so that a socket planted by someone else gets no request.
 */
#ifndef AGENTCAST_CTL_CTL_CLIENT_H
#define AGENTCAST_CTL_CTL_CLIENT_H

#include <stddef.h>

#include <cjson/cJSON.h>

/* Sends request (borrowed; a JSON object with a "cmd" string) to the instance at path and waits
 * up to timeout_ms in all (connect, send, reply) for the reply line. path NULL: the default of
 * instance "live" (ctl_path_default), then its HOME fallback when nobody answers there.
 * Returns 0 and *response (a JSON object, the caller's: cJSON_Delete), whether its "ok" is true
 * or false; or a negative errno with err filled and *response NULL:
 *   -ENOENT     nothing listening ("no running `agentcast live` (nothing listening on PATH)"),
 *   -EACCES     the socket is not ours to use, or the server runs under another uid,
 *   -ETIMEDOUT  no reply in time,
 *   -ECONNRESET the instance hung up before replying,
 *   -EPROTO     the reply is not one JSON object on a line of at most CTL_LINE_MAX bytes. */
int ctl_client_request(const char *path, const cJSON *request, int timeout_ms, cJSON **response,
                       char *err, size_t err_size);

/* Convenience for a request that is just {"cmd":cmd}. Same contract. */
int ctl_client_command(const char *path, const char *cmd, int timeout_ms, cJSON **response,
                       char *err, size_t err_size);

/* The "error" string of a reply whose "ok" is not true (a fixed text when the reply has none);
 * NULL when the reply says ok. Borrowed from response. */
const char *ctl_client_reply_error(const cJSON *response);

#endif
