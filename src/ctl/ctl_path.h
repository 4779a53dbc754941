/*
 * ctl_path — where the control socket of a running `agentcast live` lives (DESIGN.md §2: "the
 * control socket"), so that `agentcast stop` and friends find it without being told.
 *
 * The default, for instance name NAME (NULL or "" means "live"):
 *     $XDG_RUNTIME_DIR/agentcast/NAME.sock     when XDG_RUNTIME_DIR is set (an absolute path);
 *     $HOME/.cache/agentcast/NAME.sock         otherwise (HOME, else the passwd entry).
 * XDG_RUNTIME_DIR is the per-user, tmpfs, 0700 place meant for sockets; the HOME fallback covers
 * processes without a login session (a systemd system service with User=, cron). Because a
 * shell usually has XDG_RUNTIME_DIR and such a service usually does not, a client that finds
 * nobody on the first path also tries the fallback (ctl_client does so when given no path).
 * The directory agentcast/ is created 0700 and must belong to us and be closed to others.
 * Overriding the path (a --socket option) is the caller's business: any path works.
 */
#ifndef AGENTCAST_CTL_CTL_PATH_H
#define AGENTCAST_CTL_CTL_PATH_H

#include <stddef.h>

/* sizeof(struct sockaddr_un.sun_path) on Linux: the longest path, NUL included, that bind and
 * connect accept. */
#define CTL_PATH_MAX 108

/* Instance names: 1–64 of [A-Za-z0-9._-], not starting with '.'. */
#define CTL_NAME_MAX 64

/* Writes the default socket path for instance name (NULL or "" = "live") to out. Returns 0,
 * -EINVAL for a bad name, -ENOENT when neither XDG_RUNTIME_DIR nor a home directory is known,
 * -ENAMETOOLONG when the path would not fit a socket address (or out); err gets the message. */
int ctl_path_default(const char *name, char *out, size_t out_size, char *err, size_t err_size);

/* The HOME-based path for name, whatever XDG_RUNTIME_DIR says (the fallback above). Same
 * returns as ctl_path_default. */
int ctl_path_fallback(const char *name, char *out, size_t out_size, char *err, size_t err_size);

/* Makes sure the directory that will hold the socket at path exists: missing components are
 * created 0700; the last one must be a directory owned by the effective uid and not writable by
 * group or others (else someone else could swap the socket). Returns 0 or a negative errno with
 * err filled. A path without '/' (current directory) is accepted as is. Meant for the default
 * path; for a user's override it is optional and refuses shared directories such as /tmp. */
int ctl_path_prepare_dir(const char *path, char *err, size_t err_size);

#endif
