/*
 * tail — follows a text file or FIFO like `tail -F`, without ever blocking the caller: the input
 * of the terminal source (src/render/), polled once per frame.
 *
 * A regular file starts with its last backlog_bytes (from the first line start in that window,
 * unless it is the file's start), so the first picture is already a full screen of the latest
 * lines without reading a large log in full. Later polls return what was appended. When the file
 * has grown by more than backlog_bytes since the last poll, the older part is skipped (the screen
 * could not show it anyway). The file shrinking is a truncation: reading starts over. The path
 * naming another file (rotation, or a file that vanished and reappeared) switches to that file
 * once the old one is read to its end. A path that vanishes logs one warning and the old file
 * stays open (its text stays on screen, and a writer that still has it open is still followed).
 * A FIFO is opened O_RDONLY|O_NONBLOCK: no writer, or a writer closing, just means no data.
 */
#ifndef AGENTCAST_RENDER_TAIL_H
#define AGENTCAST_RENDER_TAIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Discontinuities reported by tail_read, before the bytes it returns. */
#define TAIL_EVENT_TRUNCATED 1u /* the file started over: forget what was shown */
#define TAIL_EVENT_REPLACED 2u  /* another file now: a multi-byte sequence or escape cut short */
#define TAIL_EVENT_SKIPPED 4u   /* fell behind; bytes were skipped, same consequence as above */

struct tail_params {
    const char *path;     /* copied */
    size_t backlog_bytes; /* 0: 64 KiB */
    int64_t recheck_ns;   /* how often the path is checked for replacement; 0: 250 ms */
};

struct tail;

/* Opens the file or FIFO. *out is owned by the caller, freed with tail_close. An unreadable
 * path is logged with its name and the errno text, and returned as a negative errno. */
int tail_open(struct tail **out, const struct tail_params *params);
/* Accepts NULL. */
void tail_close(struct tail *t);

/* Copies up to cap bytes that are available now into buf; never blocks. Returns the count (0:
 * nothing new) or a negative errno for a read error (logged once per distinct error; following
 * goes on at the next call). *events receives TAIL_EVENT_* bits. */
ssize_t tail_read(struct tail *t, uint8_t *buf, size_t cap, unsigned *events);

#endif
