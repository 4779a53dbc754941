/*
 * testsrc — the synthetic picture source (capture_testsrc_ops, "testsrc") for tests and bench.
 *
 * First stage of the pipeline: draws straight into the encoder's input buffer (I420 or NV12) a
 * moving, reasonably busy picture with a frame counter and the stream clock. Every frame differs.
 * Everything but the frame counter is a function of dst->pts (the noise is seeded from it), so a
 * picture can be reproduced from its pts.
 *
 * The bench compares agentcast on this source with the seed's ffmpeg pipeline on `testsrc2`, so
 * the content is built to cost x264 about the same (measured at 1280x720@30, veryfast/zerolatency,
 * 300 frames: CRF 23 needs 4.52 Mb/s here and 4.52 Mb/s for testsrc2; single-thread encode CPU
 * at 1500k within ~10 %). Like testsrc2 it has: colour bars (static in the top 7/8, a strip of
 * grey steps scrolling below), an oblique rainbow band sliding up and down, moving boxes (one
 * with a fine 2x2 texture), and a checkerboard of fresh noise blocks, the part that dominates the
 * bitrate of both. The large bars stay still on purpose: x264 intra-codes most macroblocks of a
 * scrolling flat background (P-frame skip fell from 99.9 % to 28 % in a test), which made the
 * encode of a first design cost ~45 % more CPU than testsrc2's.
 *
 * Speed: the rows of the bars, steps, rainbow and texture are computed once (two periods long)
 * and each frame copies windows of them, so a 1280x720 frame is mostly memcpy (about 0.1 ms);
 * only the noise blocks and glyphs are drawn pixel by pixel.
 */
#include "platform/capture.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libyuv/planar_functions.h>

#include "core/clock.h"
#include "core/log.h"

#define TESTSRC_COMPONENT "testsrc"

struct yuv {
    uint8_t y, u, v;
};

/* A pattern row, two periods long so that any window of the frame width at an (even) offset
 * below one period is contiguous. Chroma exists planar (u, v) and interleaved (uv). */
struct pattern_row {
    uint8_t *y;  /* 2 * width */
    uint8_t *u;  /* width (two periods of width / 2) */
    uint8_t *v;  /* width */
    uint8_t *uv; /* 2 * width: u, v pairs */
};

/* Where to draw: the planes of the destination frame. */
struct canvas {
    int w, h;
    uint8_t *y, *u, *v, *uv; /* uv for NV12; u and v for I420 */
    int ys, cs;              /* luma and chroma strides */
};

struct testsrc {
    int width; /* width the rows were built for */
    struct capture_params params;
    struct pattern_row bars, steps, rainbow, texture[2];
    uint8_t *row_mem;
    uint64_t frames_drawn; /* shown as the frame counter */
};

/* 5x7 glyphs, one byte per row, bit 4 is the leftmost column: digits, ':' and '.'. */
static const uint8_t glyphs[12][7] = {
    {0x0e, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0e}, /* 0 */
    {0x04, 0x0c, 0x04, 0x04, 0x04, 0x04, 0x0e}, /* 1 */
    {0x0e, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1f}, /* 2 */
    {0x1f, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0e}, /* 3 */
    {0x02, 0x06, 0x0a, 0x12, 0x1f, 0x02, 0x02}, /* 4 */
    {0x1f, 0x10, 0x1e, 0x01, 0x01, 0x11, 0x0e}, /* 5 */
    {0x06, 0x08, 0x10, 0x1e, 0x11, 0x11, 0x0e}, /* 6 */
    {0x1f, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08}, /* 7 */
    {0x0e, 0x11, 0x11, 0x0e, 0x11, 0x11, 0x0e}, /* 8 */
    {0x0e, 0x11, 0x11, 0x0f, 0x01, 0x02, 0x0c}, /* 9 */
    {0x00, 0x0c, 0x0c, 0x00, 0x0c, 0x0c, 0x00}, /* : */
    {0x00, 0x00, 0x00, 0x00, 0x00, 0x0c, 0x0c}, /* . */
};
#define GLYPH_W 5
#define GLYPH_H 7

static uint8_t clamp_u8(int v)
{
    return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
}

/* 8-bit RGB to BT.601 limited range, what the encoder's VUI announces. */
static struct yuv rgb_to_yuv(int r, int g, int b)
{
    return (struct yuv){
        .y = clamp_u8(((66 * r + 129 * g + 25 * b + 128) >> 8) + 16),
        .u = clamp_u8(((-38 * r - 74 * g + 112 * b + 128) >> 8) + 128),
        .v = clamp_u8(((112 * r - 94 * g - 18 * b + 128) >> 8) + 128),
    };
}

/* Fully saturated colour of hue h in [0, 1536), at 75 % amplitude like broadcast bars. */
static struct yuv hue_to_yuv(int h)
{
    int sector = h / 256, f = h % 256, up = f * 191 / 255, down = 191 - up;
    int rgb[6][3] = {{191, up, 0},   {down, 191, 0}, {0, 191, up},
                     {0, down, 191}, {up, 0, 191},   {191, 0, down}};
    return rgb_to_yuv(rgb[sector][0], rgb[sector][1], rgb[sector][2]);
}

/* Sets column x (of one period of width w) of row to c, in both periods. */
static void row_set(struct pattern_row *row, int w, int x, struct yuv c)
{
    row->y[x] = row->y[x + w] = c.y;
    if (x % 2 == 0) {
        int cx = x / 2, cw = w / 2;
        row->u[cx] = row->u[cx + cw] = c.u;
        row->v[cx] = row->v[cx + cw] = c.v;
        row->uv[2 * cx] = row->uv[2 * (cx + cw)] = c.u;
        row->uv[2 * cx + 1] = row->uv[2 * (cx + cw) + 1] = c.v;
    }
}

static void build_rows(struct testsrc *s)
{
    static const uint8_t bar_rgb[8][3] = {{191, 191, 191}, {191, 191, 0}, {0, 191, 191},
                                          {0, 191, 0},     {191, 0, 191}, {191, 0, 0},
                                          {0, 0, 191},     {16, 16, 16}};
    int w = s->width;
    for (int x = 0; x < w; x++) {
        const uint8_t *rgb = bar_rgb[x * 8 / w];
        row_set(&s->bars, w, x, rgb_to_yuv(rgb[0], rgb[1], rgb[2]));
        /* Black to white in 16 flat steps, with a slow chroma swing. */
        int step = x * 16 / w;
        struct yuv grey = {.y = (uint8_t)(16 + step * 219 / 15),
                           .u = (uint8_t)(128 + step * 6 - 48),
                           .v = (uint8_t)(176 - step * 6)};
        row_set(&s->steps, w, x, grey);
        row_set(&s->rainbow, w, x, hue_to_yuv(x * 1536 / w));
        /* Fine texture: 2x2-pixel checker, the two rows in opposite phase. */
        uint8_t hi = 200, lo = 48;
        row_set(&s->texture[0], w, x, (struct yuv){(x / 2) % 2 ? hi : lo, 90, 160});
        row_set(&s->texture[1], w, x, (struct yuv){(x / 2) % 2 ? lo : hi, 90, 160});
    }
}

/* (Re)allocates and computes the pattern rows for frames of width w. */
static int setup_rows(struct testsrc *s, int w)
{
    /* Per row: y 2w, u w, v w, uv 2w. */
    size_t per_row = 6 * (size_t)w;
    uint8_t *mem = malloc(per_row * 5);
    if (!mem)
        return -ENOMEM;
    free(s->row_mem);
    s->row_mem = mem;
    struct pattern_row *rows[5] = {&s->bars, &s->steps, &s->rainbow, &s->texture[0],
                                   &s->texture[1]};
    for (int i = 0; i < 5; i++) {
        uint8_t *p = mem + per_row * (size_t)i;
        rows[i]->y = p;
        rows[i]->u = p + 2 * (size_t)w;
        rows[i]->v = p + 3 * (size_t)w;
        rows[i]->uv = p + 4 * (size_t)w;
    }
    s->width = w;
    build_rows(s);
    return 0;
}

/* Copies columns [x0, x1) of luma row y from row at offset off (even, < width), and the matching
 * chroma when y is even. x0 and x1 must be even and within the frame. */
static void draw_span(const struct canvas *c, const struct pattern_row *row, int off, int y, int x0,
                      int x1)
{
    if (x1 <= x0)
        return;
    memcpy(c->y + (size_t)y * (size_t)c->ys + x0, row->y + off + x0, (size_t)(x1 - x0));
    if (y % 2)
        return;
    size_t crow = (size_t)(y / 2) * (size_t)c->cs;
    int cx0 = x0 / 2, cn = (x1 - x0) / 2, coff = off / 2;
    if (c->uv) {
        memcpy(c->uv + crow + 2 * (size_t)cx0, row->uv + 2 * (size_t)(coff + cx0), 2 * (size_t)cn);
    } else {
        memcpy(c->u + crow + cx0, row->u + coff + cx0, (size_t)cn);
        memcpy(c->v + crow + cx0, row->v + coff + cx0, (size_t)cn);
    }
}

/* Solid rectangle, clipped; coordinates are rounded to even so chroma lines up. */
static void fill_rect(const struct canvas *c, int x, int y, int w, int h, struct yuv col)
{
    int x0 = x < 0 ? 0 : x & ~1, y0 = y < 0 ? 0 : y & ~1;
    int x1 = x + w > c->w ? c->w : (x + w + 1) & ~1, y1 = y + h > c->h ? c->h : (y + h + 1) & ~1;
    if (x1 <= x0 || y1 <= y0)
        return;
    SetPlane(c->y + (size_t)y0 * (size_t)c->ys + x0, c->ys, x1 - x0, y1 - y0, col.y);
    int cx0 = x0 / 2, cy0 = y0 / 2, cw = (x1 - x0) / 2, ch = (y1 - y0) / 2;
    if (!c->uv) {
        SetPlane(c->u + (size_t)cy0 * (size_t)c->cs + cx0, c->cs, cw, ch, col.u);
        SetPlane(c->v + (size_t)cy0 * (size_t)c->cs + cx0, c->cs, cw, ch, col.v);
        return;
    }
    for (int cy = cy0; cy < cy0 + ch; cy++) {
        uint8_t *p = c->uv + (size_t)cy * (size_t)c->cs + 2 * (size_t)cx0;
        for (int i = 0; i < cw; i++) {
            p[2 * i] = col.u;
            p[2 * i + 1] = col.v;
        }
    }
}

/* 0 → range → 0 …: position of something bouncing between two walls. */
static int bounce(int64_t t, int range)
{
    if (range <= 0)
        return 0;
    int64_t p = t % (2 * (int64_t)range);
    if (p < 0)
        p += 2 * (int64_t)range;
    return (int)(p < range ? p : 2 * range - p);
}

static int scroll(int64_t t, int w)
{
    int64_t off = t % w;
    if (off < 0)
        off += w;
    return (int)off & ~1;
}

/* Still colour bars over the top 7/8, grey steps scrolling right below them. */
static void draw_background(const struct testsrc *s, const struct canvas *c, int64_t t)
{
    int split = (c->h * 7 / 8) & ~1;
    int steps_off = scroll(-4 * t, c->w);
    for (int y = 0; y < c->h; y++) {
        if (y < split)
            draw_span(c, &s->bars, 0, y, 0, c->w);
        else
            draw_span(c, &s->steps, steps_off, y, 0, c->w);
    }
}

/* A thin oblique rainbow band, falling by half the height across the width, sliding down and
 * up (the colours move with it). */
static void draw_band(const struct testsrc *s, const struct canvas *c, int64_t t)
{
    int thick = c->h / 90 + 1;
    int y0 = bounce(3 * t, c->h) - c->h / 4;
    for (int y = 0; y < c->h; y++) {
        /* The band holds x where |y - y0 - x * h / (2 w)| <= thick. */
        int64_t xa = (int64_t)(y - y0 - thick) * 2 * c->w / c->h;
        int64_t xb = (int64_t)(y - y0 + thick) * 2 * c->w / c->h;
        int x0 = xa < 0 ? 0 : xa > c->w ? c->w : (int)xa & ~1;
        int x1 = xb < 0 ? 0 : xb > c->w ? c->w : (int)(xb + 1) & ~1;
        draw_span(c, &s->rainbow, 0, y, x0, x1);
    }
}

/* Bouncing boxes, each with its own size, speed and colour; the first carries a fine texture,
 * which moves with it (detail that motion compensation can follow). */
static void draw_boxes(const struct testsrc *s, const struct canvas *c, int64_t t)
{
    static const struct {
        int w, h, vx, vy, hue; /* size in 1/64 of the frame, speed in px/frame at 720p */
    } boxes[] = {{5, 5, 7, 5, -1},
                 {6, 8, 11, 9, 0},
                 {4, 6, 5, 13, 512},
                 {8, 5, 9, 3, 1024},
                 {3, 3, 17, 15, 1280}};
    for (size_t i = 0; i < sizeof(boxes) / sizeof(boxes[0]); i++) {
        int bw = c->w * boxes[i].w / 64 + 2, bh = c->h * boxes[i].h / 64 + 2;
        int vx = boxes[i].vx * c->h / 720, vy = boxes[i].vy * c->h / 720;
        int x = bounce((vx > 1 ? vx : 1) * t + (int64_t)i * 97, c->w - bw);
        int y = bounce((vy > 1 ? vy : 1) * t + (int64_t)i * 53, c->h - bh);
        x &= ~1;
        y &= ~1;
        if (boxes[i].hue >= 0) {
            fill_rect(c, x, y, bw, bh, hue_to_yuv(boxes[i].hue));
            continue;
        }
        int x1 = (x + bw) & ~1;
        if (x1 > c->w)
            x1 = c->w & ~1;
        for (int yy = y; yy < y + bh && yy < c->h; yy++)
            draw_span(c, &s->texture[((yy - y) / 2) % 2], 0, yy, x, x1);
    }
}

static uint32_t xorshift32(uint32_t *state)
{
    uint32_t x = *state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return *state = x;
}

/* Fills one block of the noise checker with fresh random luma and chroma. */
static void noise_block(const struct canvas *c, int bx, int by, int n, uint32_t *rng)
{
    for (int y = by; y < by + n; y++) {
        uint8_t *p = c->y + (size_t)y * (size_t)c->ys + bx;
        for (int x = 0; x < n; x += 4) {
            /* Uniform in 80..175 (sd 28): calibrated against testsrc2's noise (see top). */
            uint32_t r = xorshift32(rng);
            for (int k = 0; k < 4; k++)
                p[x + k] = (uint8_t)(80 + (((r >> (8 * k)) & 127) * 6 >> 3));
        }
    }
    for (int cy = by / 2; cy < (by + n) / 2; cy++) {
        size_t crow = (size_t)cy * (size_t)c->cs;
        for (int cx = bx / 2; cx < (bx + n) / 2; cx++) {
            uint32_t r = xorshift32(rng);
            uint8_t u = (uint8_t)(96 + (r & 63)), v = (uint8_t)(96 + ((r >> 8) & 63));
            if (c->uv) {
                c->uv[crow + 2 * (size_t)cx] = u;
                c->uv[crow + 2 * (size_t)cx + 1] = v;
            } else {
                c->u[crow + cx] = u;
                c->v[crow + cx] = v;
            }
        }
    }
}

/* A checkerboard whose dark squares are noise, new every frame: the incompressible part, sized
 * and placed like testsrc2's (a quarter of the width by a quarter of the height, half of it
 * noise, on the macroblock grid). */
static void draw_noise(const struct canvas *c, int64_t t)
{
    int n = (c->h / 45) & ~3;
    if (n < 4)
        n = 4;
    int cols = c->w / 4 / n, rows = c->h / 4 / n;
    int x0 = (c->w * 5 / 8) & ~15;
    int y0 = (c->h * 5 / 8) & ~15;
    uint32_t rng = (uint32_t)((uint64_t)t * 2654435761u) ^ 0x9e3779b9u;
    if (rng == 0)
        rng = 1;
    for (int r = 0; r < rows; r++)
        for (int q = 0; q < cols; q++)
            if ((r + q) % 2 == 0 && x0 + (q + 1) * n <= c->w && y0 + (r + 1) * n <= c->h)
                noise_block(c, x0 + q * n, y0 + r * n, n, &rng);
}

static void draw_text(const struct canvas *c, int x, int y, int scale, const char *text)
{
    for (; *text; text++, x += (GLYPH_W + 1) * scale) {
        if (*text != ':' && *text != '.' && (*text < '0' || *text > '9'))
            continue; /* no glyph: left blank */
        int g = *text == ':' ? 10 : *text == '.' ? 11 : *text - '0';
        for (int gy = 0; gy < GLYPH_H; gy++)
            for (int gx = 0; gx < GLYPH_W; gx++)
                if (glyphs[g][gy] & (0x10 >> gx))
                    fill_rect(c, x + gx * scale, y + gy * scale, scale, scale,
                              (struct yuv){235, 128, 128});
    }
}

/* Top left, white on black: the stream clock (HH:MM:SS.mmm from pts) above the frame counter. */
static void draw_overlay(const struct testsrc *s, const struct canvas *c, int64_t pts)
{
    int64_t ms = pts > 0 ? pts * s->params.fps_den * 1000 / s->params.fps_num : 0;
    char clock_text[32], count_text[32];
    snprintf(clock_text, sizeof(clock_text), "%02" PRId64 ":%02d:%02d.%03d", ms / 3600000,
             (int)(ms / 60000 % 60), (int)(ms / 1000 % 60), (int)(ms % 1000));
    snprintf(count_text, sizeof(count_text), "%08" PRIu64, s->frames_drawn);
    int scale = c->h / 240 > 1 ? c->h / 240 : 1; /* 3 at 720p: 15x21-pixel digits */
    size_t chars =
        strlen(clock_text) > strlen(count_text) ? strlen(clock_text) : strlen(count_text);
    int pad = 2 * scale, line = (GLYPH_H + 3) * scale;
    int box_w = (int)chars * (GLYPH_W + 1) * scale + 2 * pad - scale, box_h = 2 * line + pad;
    fill_rect(c, 0, 0, box_w + 2 * scale, box_h + 2 * scale, (struct yuv){16, 128, 128});
    draw_text(c, pad, pad, scale, clock_text);
    draw_text(c, pad, pad + line, scale, count_text);
}

static int testsrc_open(struct capture **out, const struct capture_params *params)
{
    *out = NULL;
    if (params->width <= 0 || params->height <= 0 || params->width % 2 || params->height % 2 ||
        params->fps_num <= 0 || params->fps_den <= 0) {
        log_error(TESTSRC_COMPONENT, "invalid parameters: size=%dx%d fps=%d/%d", params->width,
                  params->height, params->fps_num, params->fps_den);
        return -EINVAL;
    }
    struct testsrc *s = calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    s->params = *params;
    s->params.options = NULL; /* testsrc has no options */
    int ret = setup_rows(s, params->width);
    if (ret < 0) {
        free(s);
        return ret;
    }
    *out = (struct capture *)s;
    return 0;
}

static int testsrc_fill(struct capture *src, struct frame *dst)
{
    struct testsrc *s = (struct testsrc *)src;
    bool planar = dst->format == FRAME_FORMAT_I420;
    if (dst->width <= 0 || dst->height <= 0 || dst->width % 2 || dst->height % 2 ||
        (!planar && dst->format != FRAME_FORMAT_NV12) || !dst->data[0] || !dst->data[1] ||
        (planar && !dst->data[2])) {
        log_error(TESTSRC_COMPONENT, "cannot draw into a %dx%d frame of format %d", dst->width,
                  dst->height, (int)dst->format);
        return -EINVAL;
    }
    if (dst->width != s->width) {
        int ret = setup_rows(s, dst->width);
        if (ret < 0)
            return ret;
    }
    struct canvas c = {
        .w = dst->width,
        .h = dst->height,
        .y = dst->data[0],
        .ys = dst->linesize[0],
        .cs = dst->linesize[1],
    };
    if (planar) {
        c.u = dst->data[1];
        c.v = dst->data[2];
    } else {
        c.uv = dst->data[1];
    }
    int64_t t = dst->pts;
    draw_background(s, &c, t);
    draw_band(s, &c, t);
    draw_noise(&c, t);
    draw_boxes(s, &c, t);
    draw_overlay(s, &c, t);
    s->frames_drawn++;
    /* Drawn, not copied from another picture: nothing to add to copied_bytes. */
    dst->unchanged = false;
    dst->capture_ns = clock_now_ns();
    return 0;
}

static void testsrc_close(struct capture *src)
{
    struct testsrc *s = (struct testsrc *)src;
    if (!s)
        return;
    free(s->row_mem);
    free(s);
}

const struct capture_ops capture_testsrc_ops = {
    .name = "testsrc",
    .open = testsrc_open,
    .fill = testsrc_fill,
    .close = testsrc_close,
};
