/*
 * textgrid — the screen model of the terminal source (src/render/): the last `rows` rows of
 * `cols` cells (code point + colours), kept as a ring so that scrolling moves no cells.
 *
 * Text enters at a cursor that behaves like a terminal's: printing fills the cursor cell and
 * advances, a line longer than the width wraps onto the next row (with xterm's deferred wrap, so a
 * line of exactly `cols` characters followed by \n takes one row, not two), a new line at the
 * bottom scrolls everything up by one row. East Asian wide characters take two cells (the second
 * holds TEXTGRID_WIDE_TAIL) and zero-width ones (combining marks, joiners, variation selectors)
 * take none and are dropped, so columns line up as they would in xterm.
 *
 * Change tracking: every row carries a version, a number taken from one counter that only
 * grows, renewed whenever anything in the row changes. A drawer that remembers the version it drew
 * for each screen row redraws exactly the rows whose version differs; after a scroll every
 * screen row shows another row, so every version differs (a full redraw).
 */
#ifndef AGENTCAST_RENDER_TEXTGRID_H
#define AGENTCAST_RENDER_TEXTGRID_H

#include <stdint.h>

/* Code point of the cell covered by the right half of a wide character to its left. */
#define TEXTGRID_WIDE_TAIL 0xFFFFFFFFu

struct textgrid_cell {
    uint32_t cp;     /* ' ' when blank */
    uint32_t fg, bg; /* colours as in ansi.h: 0xRRGGBB or ANSI_COLOUR_DEFAULT_FG/_BG */
};

struct textgrid;

/* Allocates a blank grid (cols, rows >= 1) with the cursor at the top left; *out owned by the
 * caller, freed with textgrid_destroy. 0 or -EINVAL / -ENOMEM. */
int textgrid_create(struct textgrid **out, int cols, int rows);
/* Accepts NULL. */
void textgrid_destroy(struct textgrid *g);

int textgrid_cols(const struct textgrid *g);
int textgrid_rows(const struct textgrid *g);

/* Prints cp at the cursor in colours fg/bg, wrapping first when the cursor is past the last
 * column. Zero-width code points are dropped. */
void textgrid_put(struct textgrid *g, uint32_t cp, uint32_t fg, uint32_t bg);
/* Column 0 of the next row, scrolling when the cursor is on the last row. */
void textgrid_newline(struct textgrid *g);
/* Column 0 of the cursor's row. */
void textgrid_carriage_return(struct textgrid *g);
/* To the next multiple of 8, at most the last column (cells passed over are left as they are;
 * after a full line it stays on the last column instead of wrapping, as xterm's tab does). */
void textgrid_tab(struct textgrid *g);
/* Blanks everything and puts the cursor at the top left (the followed file started over). */
void textgrid_clear(struct textgrid *g);

/* Screen row r (0 = top): cols cells, valid until the next change to the grid. */
const struct textgrid_cell *textgrid_row(const struct textgrid *g, int r);
/* Version of what screen row r shows (see above); never 0. */
uint64_t textgrid_row_version(const struct textgrid *g, int r);
/* Changes with every change of any row: equal values mean the same screen. */
uint64_t textgrid_serial(const struct textgrid *g);

/* Cells the code point takes in a terminal: 0 (combining, zero width), 1 or 2 (wide). */
int textgrid_cp_width(uint32_t cp);

#endif
