/*
 * terminal_source — the "terminal" picture source (capture_terminal_ops): the first stage of the
 * pipeline when an agent's log is what goes on the air. It replaces the seed's
 *   Xvfb :99 -screen 0 1280x720x24 + xterm -fa Monospace -fs 12 -bg black -fg '#00ff00'
 *   -geometry 160x45+0+0 -e "tail -f LOG" + ffmpeg x11grab
 * with one poll of the file per frame and a renderer that draws straight into the encoder's input
 * buffer: tail (new bytes) → utf8 (code points, U+FFFD for invalid bytes) → ansi (colours or
 * nothing) → textgrid (rows of cells, wrapped, scrolled) → font glyphs blended into Y, U, V.
 *
 * Default layout: DejaVu Sans Mono with a 14 px em has 8x16 px cells, so 1280x720 holds exactly
 * 160x45 cells, the xterm geometry the seed asks for. (xterm's own 12 pt is a 16–17 px em at
 * 96–100 dpi, whose 10x19 or 10x20 cells make a 160x45 window about 1600x880: larger than the
 * 1280x720 screen, so its last rows and columns were never on the air.) The text starts at the top
 * left, with no border.
 *
 * Redrawing only what changed: the encoder lends a few buffers in turn (frame.buffer_id) and each
 * keeps what was drawn into it. For each buffer we remember the version of every screen row it
 * shows (textgrid.h) and redraw only rows whose version moved on since; with a log growing by one
 * line every half second, most frames redraw nothing and cost one fstat. A scroll changes every
 * row, and then the buffer is redrawn in full (about a millisecond at 1280x720).
 *
 * Colours: 0xRRGGBB converted to BT.601 limited range, which the encoder's VUI announces. A glyph's
 * coverage a (0..255) blends bg and fg linearly in Y, U and V: a = 0 gives exactly bg, a = 255
 * exactly fg. Chroma uses the mean coverage of each 2x2 block (cells have even sizes, see font.h).
 */
#include "render/terminal_source.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/log.h"
#include "render/ansi.h"
#include "render/font.h"
#include "render/tail.h"
#include "render/terminal_source_internal.h"
#include "render/textgrid.h"
#include "render/utf8.h"

#define TERMINAL_COMPONENT "terminal"
#define DEFAULT_FONT_SIZE_PX 14 /* DejaVu Sans Mono: 8x16 px cells, 160x45 at 1280x720 */
#define READ_CHUNK (64 * 1024)
#define MAX_CHUNKS_PER_FILL 16 /* bounds one fill's work; the rest waits for the next frame */

struct yuv {
    uint8_t y, u, v;
};

/* What one encoder buffer shows. */
struct buffer_state {
    bool valid;
    int width, height, linesize[3];
    enum frame_format format;
    const uint8_t *data0;
    uint64_t *row_version; /* per screen row; 0: unknown */
};

struct terminal {
    int width, height;
    struct tail *tail;
    struct font *font;
    struct textgrid *grid;
    struct utf8_decoder utf8;
    struct ansi_parser ansi;
    bool honour_ansi;
    int cols, rows, cell_w, cell_h;
    uint32_t fg_rgb, bg_rgb;
    uint8_t *readbuf;
    uint32_t *cps; /* READ_CHUNK + 1 code points */
    struct buffer_state buffers[FRAME_MAX_BUFFERS];
    uint64_t *versions;   /* rows * FRAME_MAX_BUFFERS, behind buffers[].row_version */
    uint64_t last_serial; /* grid serial of the last picture produced */
    bool produced;
    int rows_redrawn; /* by the last fill (test hook) */
    /* Memo of the last colour pair converted: most cells share one. */
    uint32_t memo_fg, memo_bg;
    struct yuv memo_fg_yuv, memo_bg_yuv;
};

/* Where to draw: the planes of the destination frame. */
struct canvas {
    uint8_t *y, *u, *v, *uv; /* uv for NV12; u and v for I420 */
    int ys, cs;              /* luma and chroma strides */
};

void terminal_options_default(struct terminal_options *opts)
{
    memset(opts, 0, sizeof(*opts));
    opts->font_path = AGENTCAST_DEFAULT_FONT;
    opts->font_size_px = DEFAULT_FONT_SIZE_PX;
    opts->fg_rgb = 0x00ff00;
    opts->bg_rgb = 0x000000;
    opts->ansi = TERMINAL_ANSI_HONOUR;
}

static uint8_t clamp_u8(int v)
{
    return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
}

/* 8-bit RGB to BT.601 limited range (Y 16–235, U/V 16–240). */
static struct yuv rgb_to_yuv(uint32_t rgb)
{
    int r = (int)(rgb >> 16 & 0xff), g = (int)(rgb >> 8 & 0xff), b = (int)(rgb & 0xff);
    return (struct yuv){
        .y = clamp_u8(((66 * r + 129 * g + 25 * b + 128) >> 8) + 16),
        .u = clamp_u8(((-38 * r - 74 * g + 112 * b + 128) >> 8) + 128),
        .v = clamp_u8(((112 * r - 94 * g - 18 * b + 128) >> 8) + 128),
    };
}

static uint32_t resolve(const struct terminal *t, uint32_t colour)
{
    if (colour == ANSI_COLOUR_DEFAULT_FG)
        return t->fg_rgb;
    if (colour == ANSI_COLOUR_DEFAULT_BG)
        return t->bg_rgb;
    return colour & 0xffffff;
}

static void cell_colours(struct terminal *t, uint32_t fg, uint32_t bg, struct yuv *fy,
                         struct yuv *by)
{
    if (fg != t->memo_fg || bg != t->memo_bg) {
        t->memo_fg = fg;
        t->memo_bg = bg;
        t->memo_fg_yuv = rgb_to_yuv(resolve(t, fg));
        t->memo_bg_yuv = rgb_to_yuv(resolve(t, bg));
    }
    *fy = t->memo_fg_yuv;
    *by = t->memo_bg_yuv;
}

/* ---- input: tail → utf8 → ansi → grid ---- */

static void feed_codepoints(struct terminal *t, const uint32_t *cps, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        switch (ansi_parser_feed(&t->ansi, cps[i])) {
        case ANSI_PRINT:
            textgrid_put(t->grid, cps[i], t->ansi.fg, t->ansi.bg);
            break;
        case ANSI_NEWLINE:
            textgrid_newline(t->grid);
            break;
        case ANSI_CR:
            textgrid_carriage_return(t->grid);
            break;
        case ANSI_TAB:
            textgrid_tab(t->grid);
            break;
        case ANSI_NONE:
            break;
        }
    }
}

/* A discontinuity in the byte stream: whatever sequence was open is cut short. */
static void restart_decoding(struct terminal *t, bool clear)
{
    uint32_t cp;
    if (utf8_decoder_flush(&t->utf8, &cp) && !clear)
        feed_codepoints(t, &cp, 1);
    ansi_parser_init(&t->ansi, t->honour_ansi);
    if (clear)
        textgrid_clear(t->grid);
}

static void poll_text(struct terminal *t)
{
    for (int i = 0; i < MAX_CHUNKS_PER_FILL; i++) {
        unsigned events = 0;
        ssize_t n = tail_read(t->tail, t->readbuf, READ_CHUNK, &events);
        if (events)
            restart_decoding(t, (events & TAIL_EVENT_TRUNCATED) != 0);
        if (n <= 0)
            return; /* nothing new, or a read error tail has logged: keep showing the text */
        size_t ncp = utf8_decode(&t->utf8, t->readbuf, (size_t)n, t->cps);
        feed_codepoints(t, t->cps, ncp);
    }
}

/* ---- output: cells → YUV ---- */

static uint8_t blend(uint8_t bg, uint8_t fg, unsigned a)
{
    return (uint8_t)((bg * (255u - a) + fg * a + 127u) / 255u);
}

/* Solid rectangle at even x, y with even w, h. */
static void fill_rect(const struct canvas *c, int x, int y, int w, int h, struct yuv col)
{
    for (int yy = y; yy < y + h; yy++)
        memset(c->y + (size_t)yy * (size_t)c->ys + x, col.y, (size_t)w);
    for (int cy = y / 2; cy < (y + h) / 2; cy++) {
        size_t row = (size_t)cy * (size_t)c->cs;
        if (c->uv) {
            uint8_t *p = c->uv + row + (size_t)x;
            for (int i = 0; i < w / 2; i++) {
                p[2 * i] = col.u;
                p[2 * i + 1] = col.v;
            }
        } else {
            memset(c->u + row + (size_t)(x / 2), col.u, (size_t)(w / 2));
            memset(c->v + row + (size_t)(x / 2), col.v, (size_t)(w / 2));
        }
    }
}

static void draw_glyph(const struct canvas *c, int x, int y, const struct font_glyph *g,
                       struct yuv fg, struct yuv bg)
{
    for (int yy = 0; yy < g->height; yy++) {
        uint8_t *dst = c->y + (size_t)(y + yy) * (size_t)c->ys + x;
        const uint8_t *a = g->luma + (size_t)yy * (size_t)g->width;
        for (int xx = 0; xx < g->width; xx++)
            dst[xx] = blend(bg.y, fg.y, a[xx]);
    }
    int cw = g->width / 2;
    for (int cy = 0; cy < g->height / 2; cy++) {
        size_t row = (size_t)(y / 2 + cy) * (size_t)c->cs;
        const uint8_t *a = g->chroma + (size_t)cy * (size_t)cw;
        if (c->uv) {
            uint8_t *p = c->uv + row + (size_t)x;
            for (int i = 0; i < cw; i++) {
                p[2 * i] = blend(bg.u, fg.u, a[i]);
                p[2 * i + 1] = blend(bg.v, fg.v, a[i]);
            }
        } else {
            uint8_t *pu = c->u + row + (size_t)(x / 2), *pv = c->v + row + (size_t)(x / 2);
            for (int i = 0; i < cw; i++) {
                pu[i] = blend(bg.u, fg.u, a[i]);
                pv[i] = blend(bg.v, fg.v, a[i]);
            }
        }
    }
}

/* Cells a cell's character spans: 2 for the left half of a wide character. */
static int span_of(const struct textgrid_cell *cells, int col, int cols)
{
    if (col + 1 < cols && cells[col + 1].cp == TEXTGRID_WIDE_TAIL)
        return 2;
    return 1;
}

static bool is_blank(uint32_t cp)
{
    return cp == ' ' || cp == TEXTGRID_WIDE_TAIL;
}

/* Redraws screen row r; runs of blank cells on one background are filled in one go. */
static void draw_row(struct terminal *t, const struct canvas *c, int r)
{
    const struct textgrid_cell *cells = textgrid_row(t->grid, r);
    int y = r * t->cell_h;
    struct yuv fg, bg;
    for (int col = 0; col < t->cols;) {
        const struct textgrid_cell *cell = &cells[col];
        if (is_blank(cell->cp)) {
            int end = col + 1;
            while (end < t->cols && is_blank(cells[end].cp) && cells[end].bg == cell->bg)
                end++;
            cell_colours(t, cell->fg, cell->bg, &fg, &bg);
            fill_rect(c, col * t->cell_w, y, (end - col) * t->cell_w, t->cell_h, bg);
            col = end;
            continue;
        }
        int span = span_of(cells, col, t->cols);
        const struct font_glyph *g = font_glyph(t->font, cell->cp, span);
        cell_colours(t, cell->fg, cell->bg, &fg, &bg);
        if (!g || g->blank)
            fill_rect(c, col * t->cell_w, y, span * t->cell_w, t->cell_h, bg);
        else
            draw_glyph(c, col * t->cell_w, y, g, fg, bg);
        col += span;
    }
}

/* Right and bottom strips that no cell covers. */
static void draw_margins(struct terminal *t, const struct canvas *c)
{
    struct yuv bg = rgb_to_yuv(t->bg_rgb);
    int text_w = t->cols * t->cell_w, text_h = t->rows * t->cell_h;
    if (text_w < t->width)
        fill_rect(c, text_w, 0, t->width - text_w, text_h, bg);
    if (text_h < t->height)
        fill_rect(c, 0, text_h, t->width, t->height - text_h, bg);
}

/* The buffer's memory as we last saw it: anything else means we know nothing of its content. */
static bool same_buffer(const struct buffer_state *b, const struct frame *dst)
{
    return b->valid && b->width == dst->width && b->height == dst->height &&
           b->format == dst->format && b->data0 == dst->data[0] &&
           b->linesize[0] == dst->linesize[0] && b->linesize[1] == dst->linesize[1] &&
           b->linesize[2] == dst->linesize[2];
}

static void remember_buffer(struct buffer_state *b, const struct frame *dst)
{
    b->valid = true;
    b->width = dst->width;
    b->height = dst->height;
    b->format = dst->format;
    b->data0 = dst->data[0];
    memcpy(b->linesize, dst->linesize, sizeof(b->linesize));
}

/* Brings buffer b up to date with the grid; returns whether anything was drawn. */
static bool draw_changes(struct terminal *t, struct buffer_state *b, const struct frame *dst)
{
    struct canvas c = {.y = dst->data[0], .ys = dst->linesize[0], .cs = dst->linesize[1]};
    if (dst->format == FRAME_FORMAT_NV12) {
        c.uv = dst->data[1];
    } else {
        c.u = dst->data[1];
        c.v = dst->data[2];
    }
    bool touched = false;
    if (!same_buffer(b, dst)) {
        memset(b->row_version, 0, (size_t)t->rows * sizeof(*b->row_version));
        draw_margins(t, &c);
        remember_buffer(b, dst);
        touched = true;
    }
    t->rows_redrawn = 0;
    for (int r = 0; r < t->rows; r++) {
        uint64_t v = textgrid_row_version(t->grid, r);
        if (b->row_version[r] == v)
            continue;
        draw_row(t, &c, r);
        b->row_version[r] = v;
        t->rows_redrawn++;
        touched = true;
    }
    return touched;
}

static bool frame_ok(const struct terminal *t, const struct frame *dst)
{
    if (dst->width != t->width || dst->height != t->height ||
        (dst->format != FRAME_FORMAT_I420 && dst->format != FRAME_FORMAT_NV12) ||
        dst->buffer_id >= FRAME_MAX_BUFFERS || !dst->data[0] || !dst->data[1] ||
        (dst->format == FRAME_FORMAT_I420 && !dst->data[2])) {
        log_error(TERMINAL_COMPONENT,
                  "cannot draw into a %dx%d frame of format %d, buffer %u (opened for %dx%d)",
                  dst->width, dst->height, (int)dst->format, dst->buffer_id, t->width, t->height);
        return false;
    }
    return true;
}

static int terminal_fill(struct capture *src, struct frame *dst)
{
    struct terminal *t = (struct terminal *)src;
    if (!frame_ok(t, dst))
        return -EINVAL;
    poll_text(t);
    bool touched = draw_changes(t, &t->buffers[dst->buffer_id], dst);
    uint64_t serial = textgrid_serial(t->grid);
    /* Unchanged only when this buffer needed nothing and the screen is the previous frame's. */
    dst->unchanged = !touched && t->produced && serial == t->last_serial;
    t->last_serial = serial;
    t->produced = true;
    /* Rendered, not copied: nothing to add to copied_bytes. */
    dst->capture_ns = clock_now_ns();
    return 0;
}

static void terminal_close(struct capture *src)
{
    struct terminal *t = (struct terminal *)src;
    if (!t)
        return;
    tail_close(t->tail);
    font_close(t->font);
    textgrid_destroy(t->grid);
    free(t->readbuf);
    free(t->cps);
    free(t->versions);
    free(t);
}

/* Options, font and layout; logs what is wrong. */
static int setup_layout(struct terminal *t, const struct capture_params *params,
                        const struct terminal_options *o)
{
    const char *font_path = o->font_path ? o->font_path : AGENTCAST_DEFAULT_FONT;
    int size_px = o->font_size_px > 0 ? o->font_size_px : DEFAULT_FONT_SIZE_PX;
    int ret = font_open(&t->font, font_path, size_px);
    if (ret < 0)
        return ret;
    t->cell_w = font_cell_width(t->font);
    t->cell_h = font_cell_height(t->font);
    t->cols = params->width / t->cell_w;
    t->rows = params->height / t->cell_h;
    if (t->cols < 1 || t->rows < 1) {
        log_error(TERMINAL_COMPONENT,
                  "font size %d px gives %dx%d px cells: not even one fits in %dx%d", size_px,
                  t->cell_w, t->cell_h, params->width, params->height);
        return -EINVAL;
    }
    return 0;
}

static int terminal_open(struct capture **out, const struct capture_params *params)
{
    *out = NULL;
    const struct terminal_options *o = params->options;
    if (params->width <= 0 || params->height <= 0 || params->width % 2 || params->height % 2) {
        log_error(TERMINAL_COMPONENT, "invalid picture size %dx%d", params->width, params->height);
        return -EINVAL;
    }
    if (!o || !o->text_file || !*o->text_file) {
        log_error(TERMINAL_COMPONENT, "the terminal source needs a text file to follow");
        return -EINVAL;
    }
    struct terminal *t = calloc(1, sizeof(*t));
    if (!t)
        return -ENOMEM;
    t->width = params->width;
    t->height = params->height;
    t->fg_rgb = o->fg_rgb & 0xffffff;
    t->bg_rgb = o->bg_rgb & 0xffffff;
    t->honour_ansi = o->ansi == TERMINAL_ANSI_HONOUR;
    /* A pair no cell has (default fg as background): forces the first conversion. */
    t->memo_fg = t->memo_bg = ANSI_COLOUR_DEFAULT_FG;
    utf8_decoder_init(&t->utf8);
    ansi_parser_init(&t->ansi, t->honour_ansi);
    int ret = setup_layout(t, params, o);
    if (ret < 0)
        goto fail;
    ret = -ENOMEM;
    t->readbuf = malloc(READ_CHUNK);
    t->cps = malloc((READ_CHUNK + 1) * sizeof(*t->cps));
    t->versions = calloc((size_t)t->rows * FRAME_MAX_BUFFERS, sizeof(*t->versions));
    if (!t->readbuf || !t->cps || !t->versions || textgrid_create(&t->grid, t->cols, t->rows))
        goto fail;
    for (int i = 0; i < FRAME_MAX_BUFFERS; i++)
        t->buffers[i].row_version = t->versions + (size_t)i * (size_t)t->rows;
    /* Enough of the file's end to fill the screen even with colour codes on every character. */
    size_t backlog = (size_t)t->rows * (size_t)t->cols * 16;
    struct tail_params tp = {.path = o->text_file,
                             .backlog_bytes = backlog > READ_CHUNK ? backlog : READ_CHUNK};
    ret = tail_open(&t->tail, &tp);
    if (ret < 0)
        goto fail;
    log_info(TERMINAL_COMPONENT, "following %s in %dx%d cells of %dx%d px", o->text_file, t->cols,
             t->rows, t->cell_w, t->cell_h);
    *out = (struct capture *)t;
    return 0;
fail:
    terminal_close((struct capture *)t);
    return ret;
}

int terminal_source_rows_redrawn(const struct capture *src)
{
    return ((const struct terminal *)src)->rows_redrawn;
}

void terminal_source_layout(const struct capture *src, int *cols, int *rows, int *cell_w,
                            int *cell_h)
{
    const struct terminal *t = (const struct terminal *)src;
    *cols = t->cols;
    *rows = t->rows;
    *cell_w = t->cell_w;
    *cell_h = t->cell_h;
}

const struct capture_ops capture_terminal_ops = {
    .name = "terminal",
    .open = terminal_open,
    .fill = terminal_fill,
    .close = terminal_close,
};
