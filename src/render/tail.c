/*
 * tail — non-blocking follower of a file or FIFO (see tail.h).
 *
 * Regular files are read with pread at our own offset after an fstat: one cheap syscall per
 * poll when nothing was appended, and the size tells truncation and falling behind apart from
 * normal growth. The path itself is stat'ed at most every recheck_ns, and only once the current
 * file has no unread bytes, so the end of a rotated file is never lost.
 */
#include "render/tail.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/log.h"

#define TAIL_COMPONENT "tail"
#define DEFAULT_BACKLOG (64 * 1024)
#define DEFAULT_RECHECK_NS (250 * NS_PER_MS)

struct tail {
    char *path;
    int fd;
    bool regular; /* pread at offset; otherwise a stream (FIFO, character device) */
    dev_t dev;
    ino_t ino;
    off_t offset;      /* regular: bytes of the file consumed (or skipped) */
    bool skip_partial; /* regular: drop up to the first '\n' of the next chunk */
    size_t backlog;
    int64_t recheck_ns, next_check_ns;
    bool vanished; /* path missing; warned */
    bool reopen_warned;
    int last_errno; /* last read error logged */
};

/* Opens path for following: fd, type, identity. Logs nothing; returns a negative errno. */
static int open_path(const char *path, int *fd_out, struct stat *st)
{
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return errno ? -errno : -EIO;
    if (fstat(fd, st) != 0) {
        int err = errno ? errno : EIO;
        close(fd);
        return -err;
    }
    if (S_ISDIR(st->st_mode)) {
        close(fd);
        return -EISDIR;
    }
    *fd_out = fd;
    return 0;
}

/* Starts reading a regular file of the given size at its last backlog bytes. */
static void start_window(struct tail *t, off_t size)
{
    t->skip_partial = false;
    if (size <= (off_t)t->backlog) {
        t->offset = 0;
        return;
    }
    t->offset = size - (off_t)t->backlog;
    /* Mid-file: the window's first line is shown only if it starts exactly at the window. */
    char before;
    t->skip_partial = pread(t->fd, &before, 1, t->offset - 1) != 1 || before != '\n';
}

static void adopt(struct tail *t, int fd, const struct stat *st)
{
    t->fd = fd;
    t->regular = S_ISREG(st->st_mode);
    t->dev = st->st_dev;
    t->ino = st->st_ino;
    t->offset = 0;
    t->skip_partial = false;
    if (t->regular)
        start_window(t, st->st_size);
}

int tail_open(struct tail **out, const struct tail_params *params)
{
    *out = NULL;
    if (!params->path || !*params->path) {
        log_error(TAIL_COMPONENT, "no file to follow");
        return -EINVAL;
    }
    struct tail *t = calloc(1, sizeof(*t));
    if (!t)
        return -ENOMEM;
    t->path = strdup(params->path);
    if (!t->path) {
        free(t);
        return -ENOMEM;
    }
    t->backlog = params->backlog_bytes ? params->backlog_bytes : DEFAULT_BACKLOG;
    t->recheck_ns = params->recheck_ns > 0 ? params->recheck_ns : DEFAULT_RECHECK_NS;
    t->next_check_ns = clock_now_ns() + t->recheck_ns;
    struct stat st;
    int fd = -1, ret = open_path(t->path, &fd, &st);
    if (ret < 0) {
        log_error(TAIL_COMPONENT, "cannot follow %s: %s", t->path, strerror(-ret));
        free(t->path);
        free(t);
        return ret;
    }
    adopt(t, fd, &st);
    log_debug(TAIL_COMPONENT, "following %s type=%s offset=%lld", t->path,
              t->regular ? "file" : "stream", (long long)t->offset);
    *out = t;
    return 0;
}

void tail_close(struct tail *t)
{
    if (!t)
        return;
    if (t->fd >= 0)
        close(t->fd);
    free(t->path);
    free(t);
}

/* Drops the partial first line of a window from buf[0..n); returns the bytes left. Without a
 * '\n' in this chunk it gives up on whole lines and drops only UTF-8 continuation bytes, so that
 * a log of very long lines still shows something. */
static size_t drop_partial_line(uint8_t *buf, size_t n)
{
    uint8_t *nl = memchr(buf, '\n', n);
    size_t skip = 0;
    if (nl) {
        skip = (size_t)(nl - buf) + 1;
    } else {
        while (skip < n && (buf[skip] & 0xC0) == 0x80)
            skip++;
    }
    memmove(buf, buf + skip, n - skip);
    return n - skip;
}

static ssize_t read_error(struct tail *t, int err)
{
    if (err != t->last_errno)
        log_warn(TAIL_COMPONENT, "reading %s: %s", t->path, strerror(err));
    t->last_errno = err;
    return -err;
}

/* Reads the current regular file: truncation, falling behind, then new bytes. */
static ssize_t read_regular(struct tail *t, uint8_t *buf, size_t cap, unsigned *events)
{
    struct stat st;
    if (fstat(t->fd, &st) != 0)
        return read_error(t, errno);
    if (st.st_size < t->offset) {
        log_info(TAIL_COMPONENT, "%s was truncated: starting over", t->path);
        *events |= TAIL_EVENT_TRUNCATED;
        start_window(t, st.st_size);
    } else if (st.st_size - t->offset > (off_t)t->backlog) {
        *events |= TAIL_EVENT_SKIPPED;
        start_window(t, st.st_size);
    }
    if (st.st_size == t->offset)
        return 0;
    for (;;) {
        ssize_t n = pread(t->fd, buf, cap, t->offset);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return read_error(t, errno);
        t->offset += n;
        t->last_errno = 0;
        if (n > 0 && t->skip_partial) {
            t->skip_partial = false;
            n = (ssize_t)drop_partial_line(buf, (size_t)n);
            if (n == 0 && t->offset < st.st_size)
                continue; /* the chunk was all partial line: the lines after it are due */
        }
        return n;
    }
}

static ssize_t read_stream(struct tail *t, uint8_t *buf, size_t cap)
{
    for (;;) {
        ssize_t n = read(t->fd, buf, cap);
        if (n >= 0) {
            t->last_errno = 0;
            return n; /* 0: no writer (yet, or any more): not an error */
        }
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return 0;
        return read_error(t, errno);
    }
}

/* Is the path still the file we hold? Switches to the new one when not. true when switched. */
static bool check_path(struct tail *t)
{
    struct stat st;
    if (stat(t->path, &st) != 0) {
        if (!t->vanished)
            log_warn(TAIL_COMPONENT,
                     "%s vanished (%s): showing its last text until it "
                     "reappears",
                     t->path, strerror(errno));
        t->vanished = true;
        return false;
    }
    if (st.st_dev == t->dev && st.st_ino == t->ino) {
        if (t->vanished)
            log_info(TAIL_COMPONENT, "%s is back", t->path);
        t->vanished = false;
        return false;
    }
    int fd = -1, ret = open_path(t->path, &fd, &st);
    if (ret < 0) {
        if (!t->reopen_warned)
            log_warn(TAIL_COMPONENT, "%s was replaced but cannot be opened: %s", t->path,
                     strerror(-ret));
        t->reopen_warned = true;
        return false;
    }
    log_info(TAIL_COMPONENT, "%s %s: following the new file", t->path,
             t->vanished ? "reappeared" : "was replaced");
    close(t->fd);
    adopt(t, fd, &st);
    t->vanished = false;
    t->reopen_warned = false;
    return true;
}

ssize_t tail_read(struct tail *t, uint8_t *buf, size_t cap, unsigned *events)
{
    *events = 0;
    if (cap == 0)
        return 0;
    for (int attempt = 0; attempt < 2; attempt++) {
        ssize_t n = t->regular ? read_regular(t, buf, cap, events) : read_stream(t, buf, cap);
        if (n != 0)
            return n;
        /* Nothing unread in the current file: time to look at the path? */
        int64_t now = clock_now_ns();
        if (attempt > 0 || now < t->next_check_ns)
            return 0;
        t->next_check_ns = now + t->recheck_ns;
        if (!check_path(t))
            return 0;
        *events |= TAIL_EVENT_REPLACED;
    }
    return 0;
}
