/*
 * errmsg — the one way a function hands its caller a one-line error message: a caller-owned
 * buffer (err, err_size) filled printf-style, and the negative errno returned alongside.
 */
#ifndef AGENTCAST_CORE_ERRMSG_H
#define AGENTCAST_CORE_ERRMSG_H

#include <stddef.h>

/* Writes the message to err (nothing when err is NULL or err_size 0; cut to fit) and returns rc,
 * so that `return errmsg_fail(err, err_size, -EINVAL, "…", …);` reports and fails in one line. */
int errmsg_fail(char *err, size_t err_size, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
