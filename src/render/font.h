/*
 * font — a monospace FreeType face at one pixel size, cut into terminal cells, for the terminal
 * source (src/render/).
 *
 * Each glyph is rendered once (grayscale, the face's own hinting), placed in its cell box (one or
 * two cells wide) on a common baseline, clipped to the box, and cached with its coverage ready for
 * a YUV 4:2:0 drawer: full resolution for luma and one mean per 2x2 block for chroma. Cell width
 * and height are rounded up to even numbers so that cells never share a chroma sample.
 * A code point the face lacks is drawn as the face's U+FFFD, or as a box when it has none.
 */
#ifndef AGENTCAST_RENDER_FONT_H
#define AGENTCAST_RENDER_FONT_H

#include <stdbool.h>
#include <stdint.h>

struct font;

struct font_glyph {
    int width, height;     /* cells * cell width, cell height */
    bool blank;            /* no coverage anywhere: the drawer fills with background */
    const uint8_t *luma;   /* width x height coverage 0..255, pitch = width */
    const uint8_t *chroma; /* width/2 x height/2: mean coverage of each 2x2 block */
};

/* Loads the face at path with an em of size_px pixels. *out is owned by the caller, freed with
 * font_close. On failure logs why (naming path) and returns a negative errno. */
int font_open(struct font **out, const char *path, int size_px);
/* Accepts NULL. */
void font_close(struct font *f);

int font_cell_width(const struct font *f);
int font_cell_height(const struct font *f);

/* The glyph for cp spread over cells (1 or 2) cells, rendered on first use. The pointer stays
 * valid until the next font_glyph or font_close call. NULL only when out of memory. */
const struct font_glyph *font_glyph(struct font *f, uint32_t cp, int cells);

#endif
