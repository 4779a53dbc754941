/*
 * textgrid — ring of screen rows with a terminal-like cursor and per-row versions (textgrid.h).
 */
#include "render/textgrid.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

#include "render/ansi.h"

struct textgrid {
    int cols, rows;
    int top;                     /* ring slot shown as screen row 0 */
    int crow, ccol;              /* cursor: screen row, column; ccol == cols means "wrap pending" */
    uint64_t counter;            /* last version handed out */
    uint64_t *version;           /* per ring slot */
    struct textgrid_cell *cells; /* rows * cols, by ring slot */
};

static const struct textgrid_cell blank = {' ', ANSI_COLOUR_DEFAULT_FG, ANSI_COLOUR_DEFAULT_BG};

int textgrid_create(struct textgrid **out, int cols, int rows)
{
    *out = NULL;
    if (cols < 1 || rows < 1 || cols > 65536 || rows > 65536)
        return -EINVAL;
    struct textgrid *g = calloc(1, sizeof(*g));
    if (!g)
        return -ENOMEM;
    g->cols = cols;
    g->rows = rows;
    g->version = calloc((size_t)rows, sizeof(*g->version));
    g->cells = malloc((size_t)rows * (size_t)cols * sizeof(*g->cells));
    if (!g->version || !g->cells) {
        textgrid_destroy(g);
        return -ENOMEM;
    }
    textgrid_clear(g);
    *out = g;
    return 0;
}

void textgrid_destroy(struct textgrid *g)
{
    if (!g)
        return;
    free(g->version);
    free(g->cells);
    free(g);
}

int textgrid_cols(const struct textgrid *g)
{
    return g->cols;
}

int textgrid_rows(const struct textgrid *g)
{
    return g->rows;
}

static int slot_of(const struct textgrid *g, int r)
{
    int s = g->top + r;
    return s >= g->rows ? s - g->rows : s;
}

static struct textgrid_cell *slot_cells(struct textgrid *g, int slot)
{
    return g->cells + (size_t)slot * (size_t)g->cols;
}

static void blank_slot(struct textgrid *g, int slot)
{
    struct textgrid_cell *c = slot_cells(g, slot);
    for (int i = 0; i < g->cols; i++)
        c[i] = blank;
    g->version[slot] = ++g->counter;
}

void textgrid_clear(struct textgrid *g)
{
    for (int s = 0; s < g->rows; s++)
        blank_slot(g, s);
    g->top = 0;
    g->crow = 0;
    g->ccol = 0;
}

void textgrid_newline(struct textgrid *g)
{
    g->ccol = 0;
    if (g->crow < g->rows - 1) {
        g->crow++;
        return;
    }
    /* Scroll: the top slot becomes the new, blank bottom row. */
    int old_top = g->top;
    g->top = g->top + 1 == g->rows ? 0 : g->top + 1;
    blank_slot(g, old_top);
}

void textgrid_carriage_return(struct textgrid *g)
{
    g->ccol = 0;
}

void textgrid_tab(struct textgrid *g)
{
    if (g->ccol >= g->cols) {
        g->ccol = g->cols - 1; /* as xterm: a tab after the last column cancels the wrap */
        return;
    }
    int next = (g->ccol / 8 + 1) * 8;
    g->ccol = next < g->cols - 1 ? next : g->cols - 1;
}

/* Writes one cell, first breaking up any wide character it would cut in half. */
static void set_cell(struct textgrid_cell *row, int cols, int col, struct textgrid_cell c)
{
    /* Overwriting the right half of a wide character: its left half goes blank (unless this is
     * the right half of a new wide character, whose left half was just written). */
    if (c.cp != TEXTGRID_WIDE_TAIL && row[col].cp == TEXTGRID_WIDE_TAIL && col > 0)
        row[col - 1] = (struct textgrid_cell){' ', row[col - 1].fg, row[col - 1].bg};
    /* Overwriting the left half: its right half goes blank (a new wide character rewrites it). */
    if (col + 1 < cols && row[col + 1].cp == TEXTGRID_WIDE_TAIL)
        row[col + 1] = (struct textgrid_cell){' ', row[col + 1].fg, row[col + 1].bg};
    row[col] = c;
}

void textgrid_put(struct textgrid *g, uint32_t cp, uint32_t fg, uint32_t bg)
{
    int w = textgrid_cp_width(cp);
    if (w == 0)
        return;
    if (w > g->cols)
        w = 1; /* a one-column grid shows wide characters in one cell */
    if (g->ccol + w > g->cols)
        textgrid_newline(g);
    int slot = slot_of(g, g->crow);
    struct textgrid_cell *row = slot_cells(g, slot);
    set_cell(row, g->cols, g->ccol, (struct textgrid_cell){cp, fg, bg});
    if (w == 2)
        set_cell(row, g->cols, g->ccol + 1, (struct textgrid_cell){TEXTGRID_WIDE_TAIL, fg, bg});
    g->ccol += w;
    g->version[slot] = ++g->counter;
}

const struct textgrid_cell *textgrid_row(const struct textgrid *g, int r)
{
    return g->cells + (size_t)slot_of(g, r) * (size_t)g->cols;
}

uint64_t textgrid_row_version(const struct textgrid *g, int r)
{
    return g->version[slot_of(g, r)];
}

uint64_t textgrid_serial(const struct textgrid *g)
{
    /* Every change renews some row's version from the counter, scrolling included. */
    return g->counter;
}

struct range {
    uint32_t first, last;
};

/* Combining marks, joiners, directional marks, variation selectors, tags: no cell of their own. */
static const struct range zero_width[] = {
    {0x0300, 0x036F},   {0x0483, 0x0489}, {0x0591, 0x05BD}, {0x05BF, 0x05BF}, {0x05C1, 0x05C2},
    {0x05C4, 0x05C5},   {0x05C7, 0x05C7}, {0x0610, 0x061A}, {0x064B, 0x065F}, {0x0670, 0x0670},
    {0x06D6, 0x06DC},   {0x06DF, 0x06E4}, {0x0E31, 0x0E31}, {0x0E34, 0x0E3A}, {0x0E47, 0x0E4E},
    {0x1AB0, 0x1AFF},   {0x1DC0, 0x1DFF}, {0x200B, 0x200F}, {0x202A, 0x202E}, {0x2060, 0x2064},
    {0x20D0, 0x20FF},   {0xFE00, 0xFE0F}, {0xFE20, 0xFE2F}, {0xFEFF, 0xFEFF}, {0xE0000, 0xE007F},
    {0xE0100, 0xE01EF},
};

/* East Asian Wide and Fullwidth, and the emoji a terminal shows two cells wide. */
static const struct range wide[] = {
    {0x1100, 0x115F},   {0x231A, 0x231B},   {0x2329, 0x232A},   {0x23E9, 0x23EC},
    {0x23F0, 0x23F0},   {0x23F3, 0x23F3},   {0x25FD, 0x25FE},   {0x2614, 0x2615},
    {0x2648, 0x2653},   {0x267F, 0x267F},   {0x2693, 0x2693},   {0x26A1, 0x26A1},
    {0x26AA, 0x26AB},   {0x26BD, 0x26BE},   {0x26C4, 0x26C5},   {0x26CE, 0x26CE},
    {0x26D4, 0x26D4},   {0x26EA, 0x26EA},   {0x26F2, 0x26F3},   {0x26F5, 0x26F5},
    {0x26FA, 0x26FA},   {0x26FD, 0x26FD},   {0x2705, 0x2705},   {0x270A, 0x270B},
    {0x2728, 0x2728},   {0x274C, 0x274C},   {0x274E, 0x274E},   {0x2753, 0x2755},
    {0x2757, 0x2757},   {0x2795, 0x2797},   {0x27B0, 0x27B0},   {0x27BF, 0x27BF},
    {0x2B1B, 0x2B1C},   {0x2B50, 0x2B50},   {0x2B55, 0x2B55},   {0x2E80, 0x303E},
    {0x3041, 0x33FF},   {0x3400, 0x4DBF},   {0x4E00, 0x9FFF},   {0xA000, 0xA4CF},
    {0xA960, 0xA97F},   {0xAC00, 0xD7A3},   {0xF900, 0xFAFF},   {0xFE10, 0xFE19},
    {0xFE30, 0xFE6F},   {0xFF00, 0xFF60},   {0xFFE0, 0xFFE6},   {0x16FE0, 0x16FE4},
    {0x17000, 0x18AFF}, {0x1B000, 0x1B16F}, {0x1F004, 0x1F004}, {0x1F0CF, 0x1F0CF},
    {0x1F18E, 0x1F18E}, {0x1F191, 0x1F19A}, {0x1F200, 0x1F251}, {0x1F300, 0x1F64F},
    {0x1F680, 0x1F6FF}, {0x1F7E0, 0x1F7EB}, {0x1F90C, 0x1F9FF}, {0x1FA70, 0x1FAFF},
    {0x20000, 0x2FFFD}, {0x30000, 0x3FFFD},
};

static bool in_ranges(uint32_t cp, const struct range *r, size_t n)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (cp < r[mid].first)
            hi = mid;
        else if (cp > r[mid].last)
            lo = mid + 1;
        else
            return true;
    }
    return false;
}

int textgrid_cp_width(uint32_t cp)
{
    if (cp < 0x300)
        return 1;
    if (in_ranges(cp, zero_width, sizeof(zero_width) / sizeof(zero_width[0])))
        return 0;
    if (in_ranges(cp, wide, sizeof(wide) / sizeof(wide[0])))
        return 2;
    return 1;
}
