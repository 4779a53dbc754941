/*
 * raw_dump — a bench and debug aid: writes every picture the encoder is given, as raw I420
 * (yuv420p, planes back to back, no padding), to a file. `agentcast stream --dump-raw FILE`.
 *
 * It sits between the source and the encoder on the media thread. It is a CPU pass over the
 * pixels, so it adds the bytes it reads to frame.copied_bytes (the dump is never free, and the
 * stats say so). The bench uses it to measure picture quality against exactly what was encoded
 * and to feed the same frames to x264 alone (bench/README.md).
 */
#ifndef AGENTCAST_MEDIA_RAW_DUMP_H
#define AGENTCAST_MEDIA_RAW_DUMP_H

#include "media/frame.h"

struct raw_dump;

/* Creates (truncates) path. NULL after logging why. */
struct raw_dump *raw_dump_open(const char *path);
/* Appends frame as I420 (NV12 chroma is de-interleaved). 0 or a negative errno after logging. */
int raw_dump_write(struct raw_dump *d, struct frame *frame);
/* Flushes and closes; NULL ok. 0, or a negative errno when the file could not be completed. */
int raw_dump_close(struct raw_dump *d);

#endif
