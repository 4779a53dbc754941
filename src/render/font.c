/*
 * font — FreeType face, cell metrics and a lazily filled glyph cache (see font.h).
 *
 * The cache is a direct table for ASCII (nearly every cell of a log) and an open-addressing hash
 * table for the rest, keyed by code point and cell count. It stops growing at CACHE_MAX entries
 * (a stream of random code points must not eat memory): beyond that, glyphs are rendered into a
 * scratch slot each time.
 */
#include "render/font.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ft2build.h>
#include FT_FREETYPE_H

#include "core/log.h"

#define FONT_COMPONENT "font"
#define CACHE_MAX 65536
#define REPLACEMENT_CP 0xFFFDu

struct cache_entry {
    uint32_t key;             /* cp * 2 + cells - 1 */
    struct font_glyph *glyph; /* NULL: empty slot */
};

struct font {
    FT_Library lib;
    FT_Face face;
    int cell_w, cell_h;
    int baseline; /* pixel rows from the cell top to the baseline */
    struct font_glyph *ascii[128];
    struct cache_entry *table;
    size_t cap, used;
    struct font_glyph *scratch[2]; /* by cells - 1, used once the cache is full */
};

/* FreeType's own message when it was built with them (Debian's is not), else our words for the
 * errors a wrong --font gives, else the number. */
static const char *ft_error_text(FT_Error err, char *buf, size_t n)
{
    const char *s = FT_Error_String(err);
    if (s)
        return s;
    switch (err) {
    case FT_Err_Cannot_Open_Resource:
        return "cannot open the file";
    case FT_Err_Unknown_File_Format:
    case FT_Err_Invalid_File_Format:
        return "not a font file FreeType can read";
    case FT_Err_Invalid_Pixel_Size:
        return "no such pixel size in this font";
    case FT_Err_Out_Of_Memory:
        return "out of memory";
    default:
        snprintf(buf, n, "FreeType error 0x%02x", (unsigned)err);
        return buf;
    }
}

static int even_up(int v)
{
    return (v + 1) & ~1;
}

/* Cell size from the face: the advance of 'M' (every glyph's, in a monospace face) and the line
 * height; both rounded up to even. The baseline centres the ascender + descender in the cell. */
static int measure(struct font *f, const char *path)
{
    const FT_Size_Metrics *m = &f->face->size->metrics;
    int advance = (int)((m->max_advance + 32) >> 6);
    if (FT_Load_Char(f->face, 'M', FT_LOAD_DEFAULT) == 0)
        advance = (int)((f->face->glyph->advance.x + 32) >> 6);
    int asc = (int)(m->ascender >> 6), desc = (int)(-m->descender >> 6);
    int height = (int)((m->height + 32) >> 6);
    if (height <= 0)
        height = asc + desc;
    if (advance <= 0 || height <= 0) {
        log_error(FONT_COMPONENT, "font %s has no usable metrics at this size", path);
        return -EINVAL;
    }
    if (!FT_IS_FIXED_WIDTH(f->face))
        log_warn(FONT_COMPONENT,
                 "font %s is not monospace: glyphs are drawn in cells as wide "
                 "as its 'M'",
                 path);
    f->cell_w = even_up(advance);
    f->cell_h = even_up(height);
    f->baseline = asc + (f->cell_h - (asc + desc)) / 2;
    return 0;
}

int font_open(struct font **out, const char *path, int size_px)
{
    *out = NULL;
    if (access(path, R_OK) != 0) {
        int err = errno;
        log_error(FONT_COMPONENT, "cannot read font %s: %s", path, strerror(err));
        return -err;
    }
    if (size_px < 1 || size_px > 1000) {
        log_error(FONT_COMPONENT, "font size %d px out of range (1-1000)", size_px);
        return -EINVAL;
    }
    struct font *f = calloc(1, sizeof(*f));
    if (!f)
        return -ENOMEM;
    char why[32];
    FT_Error err = FT_Init_FreeType(&f->lib);
    if (err) {
        log_error(FONT_COMPONENT, "FreeType init: %s", ft_error_text(err, why, sizeof(why)));
        free(f);
        return -ENOMEM;
    }
    int ret = -EINVAL;
    err = FT_New_Face(f->lib, path, 0, &f->face);
    if (err) {
        log_error(FONT_COMPONENT, "cannot load font %s: %s", path,
                  ft_error_text(err, why, sizeof(why)));
        goto fail;
    }
    err = FT_Set_Pixel_Sizes(f->face, 0, (FT_UInt)size_px);
    if (err) {
        log_error(FONT_COMPONENT, "font %s cannot be sized to %d px: %s", path, size_px,
                  ft_error_text(err, why, sizeof(why)));
        goto fail;
    }
    ret = measure(f, path);
    if (ret < 0)
        goto fail;
    log_debug(FONT_COMPONENT, "font %s size=%dpx cell=%dx%d baseline=%d", path, size_px, f->cell_w,
              f->cell_h, f->baseline);
    *out = f;
    return 0;
fail:
    font_close(f);
    return ret;
}

void font_close(struct font *f)
{
    if (!f)
        return;
    for (int i = 0; i < 128; i++)
        free(f->ascii[i]);
    for (size_t i = 0; i < f->cap; i++)
        free(f->table[i].glyph);
    free(f->table);
    free(f->scratch[0]);
    free(f->scratch[1]);
    if (f->face)
        FT_Done_Face(f->face);
    FT_Done_FreeType(f->lib);
    free(f);
}

int font_cell_width(const struct font *f)
{
    return f->cell_w;
}

int font_cell_height(const struct font *f)
{
    return f->cell_h;
}

static struct font_glyph *glyph_alloc(const struct font *f, int cells)
{
    int w = cells * f->cell_w, h = f->cell_h;
    size_t luma = (size_t)w * (size_t)h, chroma = luma / 4;
    struct font_glyph *g = malloc(sizeof(*g) + luma + chroma);
    if (!g)
        return NULL;
    uint8_t *mem = (uint8_t *)(g + 1);
    g->width = w;
    g->height = h;
    g->blank = true;
    g->luma = mem;
    g->chroma = mem + luma;
    return g;
}

/* The fallback for a face without U+FFFD: a rectangle outline inset by one pixel. */
static void draw_box(uint8_t *cov, int w, int h)
{
    int x0 = 1, y0 = h / 8 + 1, x1 = w - 2, y1 = h - h / 8 - 2;
    if (x1 <= x0 || y1 <= y0)
        return;
    for (int x = x0; x <= x1; x++)
        cov[y0 * w + x] = cov[y1 * w + x] = 255;
    for (int y = y0; y <= y1; y++)
        cov[y * w + x0] = cov[y * w + x1] = 255;
}

/* Copies the rendered bitmap in the glyph slot into cov (w x h), clipped, at pen x offset. */
static void blit_slot(const struct font *f, uint8_t *cov, int w, int h)
{
    FT_GlyphSlot slot = f->face->glyph;
    const FT_Bitmap *bm = &slot->bitmap;
    int advance = (int)((slot->advance.x + 32) >> 6);
    int pen = advance < w ? (w - advance) / 2 : 0;
    int pitch = bm->pitch < 0 ? -bm->pitch : bm->pitch;
    for (int gy = 0; gy < (int)bm->rows; gy++) {
        int y = f->baseline - slot->bitmap_top + gy;
        if (y < 0 || y >= h)
            continue;
        const uint8_t *src =
            bm->buffer + (size_t)(bm->pitch < 0 ? (int)bm->rows - 1 - gy : gy) * (size_t)pitch;
        for (int gx = 0; gx < (int)bm->width; gx++) {
            int x = pen + slot->bitmap_left + gx;
            if (x < 0 || x >= w)
                continue;
            uint8_t a;
            if (bm->pixel_mode == FT_PIXEL_MODE_MONO)
                a = (src[gx >> 3] & (0x80 >> (gx & 7))) ? 255 : 0;
            else
                a = src[gx];
            cov[y * w + x] = a;
        }
    }
}

static void render(struct font *f, struct font_glyph *g, uint32_t cp)
{
    int w = g->width, h = g->height;
    uint8_t *cov = (uint8_t *)g->luma, *chroma = (uint8_t *)g->chroma;
    memset(cov, 0, (size_t)w * (size_t)h);
    FT_UInt index = FT_Get_Char_Index(f->face, cp);
    if (index == 0)
        index = FT_Get_Char_Index(f->face, REPLACEMENT_CP);
    if (index == 0 || FT_Load_Glyph(f->face, index, FT_LOAD_RENDER) != 0 ||
        (f->face->glyph->bitmap.pixel_mode != FT_PIXEL_MODE_GRAY &&
         f->face->glyph->bitmap.pixel_mode != FT_PIXEL_MODE_MONO))
        draw_box(cov, w, h);
    else
        blit_slot(f, cov, w, h);
    g->blank = true;
    for (int y = 0; y < h; y += 2) {
        for (int x = 0; x < w; x += 2) {
            const uint8_t *p = cov + y * w + x;
            int sum = p[0] + p[1] + p[w] + p[w + 1];
            chroma[(y / 2) * (w / 2) + x / 2] = (uint8_t)((sum + 2) / 4);
            if (sum)
                g->blank = false;
        }
    }
}

static uint32_t hash_key(uint32_t key)
{
    return key * 2654435761u;
}

/* Slot for key: the one holding it, or the empty one where it belongs. */
static struct cache_entry *lookup(struct cache_entry *table, size_t cap, uint32_t key)
{
    size_t i = hash_key(key) & (cap - 1);
    while (table[i].glyph && table[i].key != key)
        i = (i + 1) & (cap - 1);
    return &table[i];
}

static int grow(struct font *f)
{
    size_t cap = f->cap ? f->cap * 2 : 256;
    struct cache_entry *table = calloc(cap, sizeof(*table));
    if (!table)
        return -ENOMEM;
    for (size_t i = 0; i < f->cap; i++)
        if (f->table[i].glyph)
            *lookup(table, cap, f->table[i].key) = f->table[i];
    free(f->table);
    f->table = table;
    f->cap = cap;
    return 0;
}

static struct font_glyph *scratch_glyph(struct font *f, uint32_t cp, int cells)
{
    if (!f->scratch[cells - 1])
        f->scratch[cells - 1] = glyph_alloc(f, cells);
    if (f->scratch[cells - 1])
        render(f, f->scratch[cells - 1], cp);
    return f->scratch[cells - 1];
}

const struct font_glyph *font_glyph(struct font *f, uint32_t cp, int cells)
{
    cells = cells == 2 ? 2 : 1;
    if (cp < 128 && cells == 1) {
        if (!f->ascii[cp]) {
            f->ascii[cp] = glyph_alloc(f, 1);
            if (f->ascii[cp])
                render(f, f->ascii[cp], cp);
        }
        return f->ascii[cp];
    }
    uint32_t key = cp * 2 + (uint32_t)(cells - 1);
    if (f->cap) {
        struct cache_entry *e = lookup(f->table, f->cap, key);
        if (e->glyph)
            return e->glyph;
    }
    if (f->used >= CACHE_MAX)
        return scratch_glyph(f, cp, cells);
    if ((f->used + 1) * 2 > f->cap && grow(f) < 0)
        return scratch_glyph(f, cp, cells);
    struct font_glyph *g = glyph_alloc(f, cells);
    if (!g)
        return NULL;
    render(f, g, cp);
    struct cache_entry *e = lookup(f->table, f->cap, key);
    e->key = key;
    e->glyph = g;
    f->used++;
    return g;
}
