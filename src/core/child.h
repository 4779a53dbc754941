/*
 * child — runs a user's hook command (`--on-chat CMD`, `--notify CMD`) without ever blocking the
 * control loop: `/bin/sh -c CMD` gets a JSON document on stdin, its stdout is collected, and the
 * result is delivered on the loop thread.
 *
 * The child gets a scrubbed environment (secrets such as RETAKE_ACCESS_TOKEN removed), an empty
 * signal mask, default SIGPIPE, its own process group (killed whole on timeout) and no file
 * descriptors of ours beyond stdin, stdout and stderr (all others are closed in the child). Process exit is watched through a
 * pidfd, so no SIGCHLD handler is involved. On first use SIGPIPE is set to ignored (if it was at
 * its default), since a hook that exits without reading its input must not kill the appliance.
 */
#ifndef AGENTCAST_CORE_CHILD_H
#define AGENTCAST_CORE_CHILD_H

#include <stdbool.h>
#include <stddef.h>

struct event_loop;
struct child;

struct child_result {
    int exit_code;    /* 0..255 when it exited, -1 when killed (timeout) or it could not run */
    int signal;       /* the signal that ended it, or 0 */
    bool timed_out;
    const char *out;  /* stdout, NUL-terminated (valid during the callback only) */
    size_t out_len;   /* bytes kept (at most max_out) */
    bool truncated;   /* stdout was longer than max_out */
};

typedef void (*child_done_fn)(const struct child_result *res, void *opaque);

struct child_options {
    const char *command;             /* run as /bin/sh -c command */
    const char *input;               /* written to stdin, then stdin is closed; may be NULL */
    size_t input_len;
    int timeout_ms;                  /* the process group is killed after this (0 = none) */
    size_t max_out;                  /* stdout bytes kept; the rest is read and dropped */
    const char *const *scrub_env;    /* NULL-terminated names removed from the environment */
};

/* Starts the command. done runs exactly once on the loop thread, after the process has exited
 * and its stdout is closed (or at once with exit_code -1 if it could not be started: then -errno
 * is returned and done is NOT called). *handle (may be NULL) can cancel it with child_kill. */
int child_start(struct event_loop *loop, const struct child_options *opts, child_done_fn done,
                void *opaque, struct child **handle);
/* Kills the process group; done still runs (with the signal) once it has exited. */
void child_kill(struct child *c);

#endif
