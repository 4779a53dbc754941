/*
 * terminal_source_internal — test hooks into the terminal picture source (terminal_source.c).
 * Not for production callers: the pipeline sees only capture_terminal_ops.
 */
#ifndef AGENTCAST_RENDER_TERMINAL_SOURCE_INTERNAL_H
#define AGENTCAST_RENDER_TERMINAL_SOURCE_INTERNAL_H

#include "platform/capture.h"

/* Text rows of the grid that the last fill redrew (the margins, filled with the rows on a
 * buffer's first use, are not counted). */
int terminal_source_rows_redrawn(const struct capture *src);
/* The grid: columns and rows, and the cell size in pixels. */
void terminal_source_layout(const struct capture *src, int *cols, int *rows, int *cell_w,
                            int *cell_h);

#endif
