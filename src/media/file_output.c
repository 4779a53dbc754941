/*
 * file_output — the .flv recorder backend of output.h: FLV file header on open, then for each
 * tag its 11-byte header, body and PreviousTagSize in one writev; fsync on close. It does not
 * retry: a failed disk write makes the output give up (output.c stops feeding it), and the file
 * is cut back to its last whole tag so that it stays a valid FLV.
 *
 * The "URL" of a file output is its path, as given to --output.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "core/log.h"
#include "media/flv.h"
#include "media/output.h"

static const char *COMPONENT = "file";

struct file_output {
    int fd;
    char *path;
    off_t size; /* bytes of whole tags written: a failed write is cut back to this */
};

/* Writes every byte of iov (advancing it), retrying short writes and EINTR. */
static int write_all(int fd, struct iovec *iov, int iovcnt)
{
    while (iovcnt > 0) {
        ssize_t n = writev(fd, iov, iovcnt);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        while (iovcnt > 0 && (size_t)n >= iov->iov_len) {
            n -= (ssize_t)iov->iov_len;
            iov++;
            iovcnt--;
        }
        if (iovcnt > 0) {
            iov->iov_base = (uint8_t *)iov->iov_base + n;
            iov->iov_len -= (size_t)n;
        }
    }
    return 0;
}

static int file_open(void **state, const char *url, const struct output_options *opts)
{
    (void)opts;
    struct file_output *f = calloc(1, sizeof(*f));
    if (!f || !(f->path = strdup(url))) {
        free(f);
        log_error(COMPONENT, "recording to %s: out of memory", url);
        return -ENOMEM;
    }
    f->fd = open(url, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (f->fd < 0) {
        int rc = -errno;
        log_error(COMPONENT, "cannot create %s: %s", url, strerror(-rc));
        free(f->path);
        free(f);
        return rc;
    }
    uint8_t header[FLV_FILE_HEADER_SIZE];
    flv_write_file_header(header);
    struct iovec iov = {.iov_base = header, .iov_len = sizeof(header)};
    int rc = write_all(f->fd, &iov, 1);
    if (rc < 0) {
        log_error(COMPONENT, "cannot write to %s: %s", url, strerror(-rc));
        close(f->fd);
        free(f->path);
        free(f);
        return rc;
    }
    log_info(COMPONENT, "recording to %s", url);
    f->size = FLV_FILE_HEADER_SIZE;
    *state = f;
    return 0;
}

static int file_write(void *state, const struct flv_tag *tag, int64_t ts_ms)
{
    struct file_output *f = state;
    if (tag->size > 0xffffff) {
        log_error(COMPONENT, "%s: tag of %zu bytes does not fit in FLV", f->path, tag->size);
        return -EMSGSIZE;
    }
    uint8_t header[FLV_TAG_HEADER_SIZE];
    uint8_t trailer[4];
    uint32_t previous = (uint32_t)(FLV_TAG_HEADER_SIZE + tag->size);
    flv_write_tag_header(header, tag->type, tag->size, ts_ms);
    trailer[0] = (uint8_t)(previous >> 24);
    trailer[1] = (uint8_t)(previous >> 16);
    trailer[2] = (uint8_t)(previous >> 8);
    trailer[3] = (uint8_t)previous;
    struct iovec iov[3] = {
        {.iov_base = header, .iov_len = sizeof(header)},
        {.iov_base = (void *)tag->body, .iov_len = tag->size},
        {.iov_base = trailer, .iov_len = sizeof(trailer)},
    };
    int rc = write_all(f->fd, iov, 3);
    if (rc < 0) {
        log_error(COMPONENT, "write to %s failed: %s", f->path, strerror(-rc));
        /* A half-written tag would leave a file that players reject at its end. */
        if (ftruncate(f->fd, f->size) < 0)
            log_warn(COMPONENT, "cannot cut %s back to its last whole tag: %s", f->path,
                     strerror(errno));
        return rc;
    }
    f->size += (off_t)previous + (off_t)sizeof(trailer);
    return 0;
}

static void file_close(void *state)
{
    struct file_output *f = state;
    if (!f)
        return;
    if (fsync(f->fd) < 0 && errno != EINVAL && errno != EROFS)
        log_warn(COMPONENT, "fsync %s: %s", f->path, strerror(errno));
    if (close(f->fd) < 0)
        log_warn(COMPONENT, "close %s: %s", f->path, strerror(errno));
    else
        log_info(COMPONENT, "recording %s closed", f->path);
    free(f->path);
    free(f);
}

const struct output_backend_ops output_file_backend = {
    .name = "file",
    .retry = false,
    .open = file_open,
    .write = file_write,
    .close = file_close,
};
