/*
 * terminal_source — the "terminal" picture source: the last lines of a text file or FIFO,
 * followed like `tail -f`, drawn as a terminal window (the seed's xterm, without X).
 */
#ifndef AGENTCAST_RENDER_TERMINAL_SOURCE_H
#define AGENTCAST_RENDER_TERMINAL_SOURCE_H

#include <stdbool.h>
#include <stdint.h>

#include "platform/capture.h"

enum terminal_ansi { TERMINAL_ANSI_HONOUR, TERMINAL_ANSI_STRIP };

struct terminal_options {
    const char *text_file;  /* file or FIFO to follow; required */
    const char *font_path;  /* monospace TTF/OTF; default AGENTCAST_DEFAULT_FONT */
    int font_size_px;       /* pixel height of the em, default 14 (8x16 cells: 160x45 at 720p) */
    uint32_t fg_rgb;        /* 0xRRGGBB, default 0x00ff00 */
    uint32_t bg_rgb;        /* default 0x000000 */
    enum terminal_ansi ansi;
};

void terminal_options_default(struct terminal_options *opts);

/* capture_params.options points to a struct terminal_options. */
extern const struct capture_ops capture_terminal_ops;

#endif
