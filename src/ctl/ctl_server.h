/*
 * ctl_server — the control socket of a running `agentcast live` (DESIGN.md §2: the control loop
 * waits on "the control socket"; agents "drive a running instance … through its control
 * socket"). `agentcast stop` and later commands talk to it through ctl_client.
 *
 * Protocol: JSON lines over a Unix stream socket. Each request and each reply is one JSON object
 * on one line of UTF-8 ending in '\n', at most CTL_LINE_MAX bytes before the '\n'. A request is
 *     {"cmd":"NAME", …arguments…, "id":ANY (optional)}
 * and its reply
 *     {"ok":true, …results…}   or   {"ok":false,"error":"why"}
 * with the request's "id" copied into the reply when it had one. A client may send several
 * requests on one connection without waiting; replies are written in the order the handler
 * answers them, so a deferred reply may come after the replies to later requests: pipelining
 * clients match them by "id". Blank lines are ignored; '\r' before '\n' is allowed; a last
 * request cut short by the client's shutdown(SHUT_WR) is still served.
 * Errors the server answers by itself, keeping the connection open: a line that is not valid
 * UTF-8 or not one JSON object, no "cmd" string, a cmd the handler does not know, too many
 * requests waiting for a reply on that connection. A line over CTL_LINE_MAX gets an error reply
 * and the connection is then closed (the rest of the line cannot be told from the next request).
 *
 * Security: the socket file is made mode 0600 before it listens, and every client's peer
 * credentials (SO_PEERCRED) are checked on accept: only processes with the server's effective
 * uid are served; others are disconnected without a word (and a warning logged).
 *
 * Single instance: starting refuses when another server answers on the path. The server holds
 * an flock on PATH.lock for its lifetime (so two instances starting together cannot both win),
 * then probes the socket: a stale socket file with nobody listening is removed and replaced. The
 * lock file is left in place on stop (unlinking it would reopen the race it closes).
 *
 * Threading: everything runs on the event loop's thread; no function here may be called from
 * another thread.
 */
#ifndef AGENTCAST_CTL_CTL_SERVER_H
#define AGENTCAST_CTL_CTL_SERVER_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "core/event_loop.h"

/* Longest request or reply line, not counting its '\n'. */
#define CTL_LINE_MAX 65536
/* Clients connected at once; more are accepted and closed at once. */
#define CTL_MAX_CLIENTS 64
/* Requests of one connection that may wait for a (deferred) reply at once. */
#define CTL_MAX_PENDING 16

struct ctl_server;
/* One request's promise of an answer. Given to the handler; from then on it is the handler's
 * until it passes it to ctl_reply_send / ctl_reply_error / ctl_reply_discard, which free it.
 * It stays valid when the client disconnects and after ctl_server_stop (a send is then a
 * no-op), so it can be kept across asynchronous work. */
struct ctl_reply;

/* Called on the loop thread for each request. cmd is request's "cmd" string; request is the
 * whole parsed object (both borrowed: valid only during the call). Returns true when it knows
 * cmd: reply is then its own (answer at once or later, but answer or discard exactly once).
 * Returns false for an unknown cmd: the server answers {"ok":false,"error":"unknown command …"}
 * and reply must not be touched. The handler may call ctl_server_stop. */
typedef bool (*ctl_handler_fn)(void *opaque, const char *cmd, const cJSON *request,
                               struct ctl_reply *reply);

/* Binds a control socket at path (created here; its directory must exist — see
 * ctl_path_prepare_dir), mode 0600, and serves it on loop. Returns 0 and *out (freed with
 * ctl_server_stop), or a negative errno with err filled: -EADDRINUSE when another instance
 * answers on path (or holds its lock), -EEXIST when path is something other than a socket,
 * -ENAMETOOLONG when it does not fit a socket address. */
int ctl_server_start(struct event_loop *loop, const char *path, ctl_handler_fn handler,
                     void *opaque, struct ctl_server **out, char *err, size_t err_size);

/* Closes every connection (after one last non-blocking attempt to write what is queued for
 * it), stops listening, removes the socket file if it is still ours, releases the lock and
 * frees the server. Replies still held by the handler stay valid (see struct ctl_reply). NULL
 * ok; may be called from inside the handler. */
void ctl_server_stop(struct ctl_server *server);

/* The socket path the server is bound to. */
const char *ctl_server_path(const struct ctl_server *server);
/* Connections currently open (for tests and `status`). */
size_t ctl_server_client_count(const struct ctl_server *server);

/* Sends response as the reply and frees both response (ownership taken, NULL = {}) and reply.
 * "ok":true is added when response has no "ok"; the request's "id" is added. Returns 0 when the
 * line was written or queued, -ENOTCONN when the client is gone (nothing sent), -ENOMEM, or
 * -EMSGSIZE when the line would exceed CTL_LINE_MAX (the client then gets an error reply
 * instead). */
int ctl_reply_send(struct ctl_reply *reply, cJSON *response);

/* Sends {"ok":false,"error":"<formatted message>"} and frees reply. Same returns. */
int ctl_reply_error(struct ctl_reply *reply, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Frees reply without answering (e.g. on shutdown). NULL ok. */
void ctl_reply_discard(struct ctl_reply *reply);

/* false once the client that asked has disconnected or the server has stopped: a handler with
 * expensive deferred work may skip it. */
bool ctl_reply_connected(const struct ctl_reply *reply);

#endif
