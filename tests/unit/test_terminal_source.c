/* Unit tests for src/render/terminal_source.c: the "terminal" picture source end to end — glyph
 * pixels, colours, U+FFFD, wrapping, ANSI honoured or stripped, escape sequences never acted on,
 * tail -f behaviour, and redrawing only what changed per encoder buffer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "render/terminal_source.h"
#include "render/terminal_source_internal.h"

#define W 330 /* not a multiple of the 8 px cell: 41 columns and a 2 px margin */
#define H 100 /* 6 rows of 16 px and a 4 px margin */
#define CW 8
#define CH 16

static char dir[64], path[128], refpath[128];

struct yuv {
    int y, u, v;
};

/* An encoder-like buffer: planes with strides padded to 64 bytes. */
struct fb {
    struct frame f;
    uint8_t *mem;
};

static int setup(void **state)
{
    strcpy(dir, "/tmp/test_terminal.XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    snprintf(path, sizeof(path), "%s/log", dir);
    snprintf(refpath, sizeof(refpath), "%s/ref", dir);
    return 0;
}

static int teardown(void **state)
{
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void write_to(const char *p, const char *mode, const char *s)
{
    FILE *f = fopen(p, mode);
    assert_non_null(f);
    assert_int_equal(fwrite(s, 1, strlen(s), f), strlen(s));
    assert_int_equal(fclose(f), 0);
}

static void write_file(const char *mode, const char *s)
{
    write_to(path, mode, s);
}

static int pad64(int v)
{
    return (v + 63) & ~63;
}

static void fb_init(struct fb *b, int w, int h, enum frame_format fmt, unsigned id)
{
    memset(b, 0, sizeof(*b));
    int ys = pad64(w), cs = fmt == FRAME_FORMAT_NV12 ? pad64(w) : pad64(w / 2);
    size_t ysize = (size_t)ys * (size_t)h, csize = (size_t)cs * (size_t)(h / 2);
    b->mem = malloc(ysize + 2 * csize);
    assert_non_null(b->mem);
    memset(b->mem, 0x5a, ysize + 2 * csize); /* garbage the source must overwrite */
    b->f.width = w;
    b->f.height = h;
    b->f.format = fmt;
    b->f.buffer_id = id;
    b->f.data[0] = b->mem;
    b->f.data[1] = b->mem + ysize;
    b->f.linesize[0] = ys;
    b->f.linesize[1] = cs;
    if (fmt == FRAME_FORMAT_I420) {
        b->f.data[2] = b->mem + ysize + csize;
        b->f.linesize[2] = cs;
    }
}

static void fb_free(struct fb *b)
{
    free(b->mem);
}

static uint8_t *Y(struct fb *b, int x, int y)
{
    return b->f.data[0] + (size_t)y * (size_t)b->f.linesize[0] + x;
}

static struct yuv pixel(struct fb *b, int x, int y)
{
    size_t c = (size_t)(y / 2) * (size_t)b->f.linesize[1];
    if (b->f.format == FRAME_FORMAT_NV12)
        return (struct yuv){*Y(b, x, y), b->f.data[1][c + (size_t)(x / 2) * 2],
                            b->f.data[1][c + (size_t)(x / 2) * 2 + 1]};
    return (struct yuv){*Y(b, x, y), b->f.data[1][c + (size_t)(x / 2)],
                        b->f.data[2][c + (size_t)(x / 2)]};
}

/* BT.601 limited range, computed independently of the source (floating point). */
static struct yuv expected_yuv(uint32_t rgb)
{
    double r = (rgb >> 16) & 0xff, g = (rgb >> 8) & 0xff, b = rgb & 0xff;
    double y = 16 + (65.481 * r + 128.553 * g + 24.966 * b) / 255;
    double u = 128 + (-37.797 * r - 74.203 * g + 112.0 * b) / 255;
    double v = 128 + (112.0 * r - 93.786 * g - 18.214 * b) / 255;
    return (struct yuv){(int)(y + 0.5), (int)(u + 0.5), (int)(v + 0.5)};
}

static void assert_close(struct yuv got, struct yuv want)
{
    assert_in_range(got.y, want.y - 1, want.y + 1);
    assert_in_range(got.u, want.u - 1, want.u + 1);
    assert_in_range(got.v, want.v - 1, want.v + 1);
}

static void assert_same(struct yuv a, struct yuv b)
{
    assert_int_equal(a.y, b.y);
    assert_int_equal(a.u, b.u);
    assert_int_equal(a.v, b.v);
}

static struct capture *open_source(int w, int h, const struct terminal_options *o)
{
    struct capture_params p = {.width = w, .height = h, .fps_num = 30, .fps_den = 1, .options = o};
    struct capture *src = NULL;
    assert_int_equal(capture_terminal_ops.open(&src, &p), 0);
    assert_non_null(src);
    return src;
}

static struct terminal_options options(void)
{
    struct terminal_options o;
    terminal_options_default(&o);
    o.text_file = path;
    return o;
}

static void fill(struct capture *src, struct fb *b)
{
    b->f.unchanged = true;
    b->f.copied_bytes = 0;
    assert_int_equal(capture_terminal_ops.fill(src, &b->f), 0);
    assert_int_equal(b->f.copied_bytes, 0); /* rendered in place, nothing copied */
}

/* Renders content once into a fresh buffer (the reference picture), from a file of its own. */
static void render(const char *content, const struct terminal_options *o, enum frame_format fmt,
                   struct fb *out)
{
    write_to(refpath, "w", content);
    struct terminal_options ro = *o;
    ro.text_file = refpath;
    struct capture *src = open_source(W, H, &ro);
    fb_init(out, W, H, fmt, 0);
    fill(src, out);
    capture_terminal_ops.close(src);
}

static bool same_picture(struct fb *a, struct fb *b)
{
    for (int y = 0; y < a->f.height; y++)
        if (memcmp(Y(a, 0, y), Y(b, 0, y), (size_t)a->f.width))
            return false;
    for (int y = 0; y < a->f.height; y += 2)
        for (int x = 0; x < a->f.width; x += 2) {
            struct yuv p = pixel(a, x, y), q = pixel(b, x, y);
            if (p.u != q.u || p.v != q.v)
                return false;
        }
    return true;
}

/* Does any pixel of cell (col, row) differ from bg in luma? */
static bool cell_inked(struct fb *b, int col, int row, int bg_y)
{
    for (int y = row * CH; y < (row + 1) * CH; y++)
        for (int x = col * CW; x < (col + 1) * CW; x++)
            if (*Y(b, x, y) != bg_y)
                return true;
    return false;
}

static void test_options_and_layout(void **state)
{
    struct terminal_options o;
    terminal_options_default(&o);
    assert_null(o.text_file);
    assert_string_equal(o.font_path, AGENTCAST_DEFAULT_FONT);
    assert_int_equal(o.fg_rgb, 0x00ff00); /* "green on black by default" */
    assert_int_equal(o.bg_rgb, 0x000000);
    assert_int_equal(o.ansi, TERMINAL_ANSI_HONOUR);

    /* The seed's xterm is "-geometry 160x45" in a 1280x720 Xvfb. */
    write_file("w", "");
    o.text_file = path;
    struct capture *src = open_source(1280, 720, &o);
    int cols, rows, cw, ch;
    terminal_source_layout(src, &cols, &rows, &cw, &ch);
    assert_int_equal(cols, 160);
    assert_int_equal(rows, 45);
    assert_int_equal(cw, 8);
    assert_int_equal(ch, 16);
    capture_terminal_ops.close(src);
    capture_terminal_ops.close(NULL);

    /* A bigger font: fewer, larger cells, still even-sized. */
    o.font_size_px = 32;
    src = open_source(1280, 720, &o);
    terminal_source_layout(src, &cols, &rows, &cw, &ch);
    assert_true(cw > 8 && ch > 16 && cw % 2 == 0 && ch % 2 == 0);
    assert_int_equal(cols, 1280 / cw);
    capture_terminal_ops.close(src);
}

/* "open (validates options: file required; font loads; size fits at least 1 column and 1 row)" */
static void test_open_errors(void **state)
{
    struct capture *src = NULL;
    struct capture_params p = {.width = W, .height = H, .fps_num = 30, .fps_den = 1};
    assert_int_equal(capture_terminal_ops.open(&src, &p), -EINVAL); /* no options */
    struct terminal_options o;
    terminal_options_default(&o);
    p.options = &o;
    assert_int_equal(capture_terminal_ops.open(&src, &p), -EINVAL); /* no file */
    o.text_file = path;
    assert_int_equal(capture_terminal_ops.open(&src, &p), -ENOENT); /* file missing */
    write_file("w", "x\n");
    o.font_path = "/nonexistent/font.ttf";
    assert_int_equal(capture_terminal_ops.open(&src, &p), -ENOENT);
    o.font_path = path; /* a text file is not a font */
    assert_true(capture_terminal_ops.open(&src, &p) < 0);
    o.font_path = NULL; /* NULL: the default font */
    o.font_size_px = 200;
    p.width = 64;
    p.height = 64;
    assert_int_equal(capture_terminal_ops.open(&src, &p), -EINVAL); /* no cell fits */
    p.width = 65;
    o.font_size_px = 14;
    assert_int_equal(capture_terminal_ops.open(&src, &p), -EINVAL); /* odd width */
    assert_null(src);
}

/* Pixel checks of known glyphs: "█" fills its cell with the fg colour, "|" is a thin vertical
 * stroke; "background is exactly the bg colour's Y/U/V" everywhere else, margins included. */
static void test_glyph_pixels(void **state)
{
    struct terminal_options o = options();
    o.fg_rgb = 0xffffff;
    o.bg_rgb = 0x203040;
    struct fb b;
    render("\xe2\x96\x88|\n", &o, FRAME_FORMAT_I420, &b);
    struct yuv fg = expected_yuv(0xffffff), bg = expected_yuv(0x203040);
    struct yuv bg_px = pixel(&b, W - 1, H - 1); /* bottom right: margin */
    assert_close(bg_px, bg);
    assert_close(pixel(&b, 2, 2), fg);
    /* The full block: every luma pixel of the cell and every chroma sample is exactly fg. */
    struct yuv block = pixel(&b, 2, 2);
    for (int y = 0; y < CH; y++)
        for (int x = 0; x < CW; x++)
            assert_same(pixel(&b, x, y), block);
    /* The bar: inked in the middle columns of cell 1, not at its edges. */
    int ink = 0;
    for (int x = CW; x < 2 * CW; x++)
        if (*Y(&b, x, CH / 2) > (bg.y + fg.y) / 2)
            ink++;
    assert_in_range(ink, 1, 3);
    assert_int_equal(*Y(&b, CW, CH / 2), bg_px.y);
    assert_int_equal(*Y(&b, 2 * CW - 1, CH / 2), bg_px.y);
    /* Everything outside those two cells is exactly the background. */
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            if (y >= CH || x >= 2 * CW)
                assert_same(pixel(&b, x, y), bg_px);
    fb_free(&b);
}

/* "invalid bytes shown as U+FFFD" */
static void test_invalid_utf8(void **state)
{
    struct terminal_options o = options();
    struct fb bad, good, blank;
    /* 0xFF, then a surrogate (three U+FFFD), between letters ('b' is \x62, 'c' is \x63). */
    render("a\xff\x62\xed\xa0\x80\x63\n", &o, FRAME_FORMAT_I420, &bad);
    render("a\xef\xbf\xbd\x62\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\x63\n", &o, FRAME_FORMAT_I420,
           &good);
    render("\n", &o, FRAME_FORMAT_I420, &blank);
    assert_true(same_picture(&bad, &good));
    assert_false(same_picture(&bad, &blank));
    assert_true(cell_inked(&bad, 1, 0, *Y(&blank, 0, 0))); /* U+FFFD is visible */
    fb_free(&bad);
    fb_free(&good);
    fb_free(&blank);
}

/* "long lines wrapped" — at the column count (41 here). */
static void test_wrapping(void **state)
{
    struct terminal_options o = options();
    char line[64];
    memset(line, 'X', 45);
    strcpy(line + 45, "\n");
    struct fb b;
    render(line, &o, FRAME_FORMAT_I420, &b);
    int bg = *Y(&b, W - 1, H - 1);
    for (int c = 0; c < 41; c++)
        assert_true(cell_inked(&b, c, 0, bg));
    for (int c = 0; c < 4; c++)
        assert_true(cell_inked(&b, c, 1, bg));
    assert_false(cell_inked(&b, 4, 1, bg));
    assert_false(cell_inked(&b, 0, 2, bg));
    fb_free(&b);
}

/* "ANSI colour codes honoured or stripped" */
static void test_ansi_colours(void **state)
{
    struct terminal_options o = options();
    const char *text = "\033[31m\xe2\x96\x88\033[0m\xe2\x96\x88\033[44m \033[0m\n";
    struct fb b;
    render(text, &o, FRAME_FORMAT_I420, &b);
    assert_close(pixel(&b, 2, 4), expected_yuv(0xcd0000));          /* red */
    assert_close(pixel(&b, CW + 2, 4), expected_yuv(0x00ff00));     /* default green */
    assert_close(pixel(&b, 2 * CW + 2, 4), expected_yuv(0x0000ee)); /* blue background */
    fb_free(&b);

    o.ansi = TERMINAL_ANSI_STRIP;
    render(text, &o, FRAME_FORMAT_I420, &b);
    assert_close(pixel(&b, 2, 4), expected_yuv(0x00ff00));
    assert_close(pixel(&b, CW + 2, 4), expected_yuv(0x00ff00));
    assert_close(pixel(&b, 2 * CW + 2, 4), expected_yuv(0x000000));
    fb_free(&b);
}

/* "ESC[2J etc. never clears the screen": cursor movement, clearing, titles are dropped. */
static void test_escapes_never_act(void **state)
{
    struct terminal_options o = options();
    struct fb with, without;
    render("line1\nline2\n\033[2J\033[H\033[3A\033[1;1H\033]0;title\007\033cline3\033[K\n", &o,
           FRAME_FORMAT_I420, &with);
    render("line1\nline2\nline3\n", &o, FRAME_FORMAT_I420, &without);
    assert_true(same_picture(&with, &without));
    fb_free(&with);
    fb_free(&without);
}

/* The same picture in NV12 as in I420: identical luma, interleaved chroma. */
static void test_nv12(void **state)
{
    struct terminal_options o = options();
    const char *text = "NV12 \033[35mmagenta\033[0m \xe2\x96\x88\n";
    struct fb a, b;
    render(text, &o, FRAME_FORMAT_I420, &a);
    render(text, &o, FRAME_FORMAT_NV12, &b);
    assert_true(same_picture(&a, &b));
    fb_free(&a);
    fb_free(&b);
}

/* "the last lines of a text file … followed like tail -f": what a fresh source would show. */
static void test_follows_the_file(void **state)
{
    struct terminal_options o = options();
    char big[50000];
    size_t n = 0;
    for (int i = 0; i < 3000; i++)
        n += (size_t)snprintf(big + n, sizeof(big) - n, "log line %04d\n", i);
    write_file("w", big);
    struct capture *src = open_source(W, H, &o);
    struct fb live, ref;
    fb_init(&live, W, H, FRAME_FORMAT_I420, 0);
    fill(src, &live);
    /* 6 rows: the last 5 lines and the cursor's empty row. */
    render("log line 2995\nlog line 2996\nlog line 2997\nlog line 2998\nlog line 2999\n", &o,
           FRAME_FORMAT_I420, &ref);
    assert_true(same_picture(&live, &ref));
    fb_free(&ref);

    /* Appends show up at the next fill. */
    write_file("a", "appended\n");
    fill(src, &live);
    assert_false(live.f.unchanged);
    render("log line 2996\nlog line 2997\nlog line 2998\nlog line 2999\nappended\n", &o,
           FRAME_FORMAT_I420, &ref);
    assert_true(same_picture(&live, &ref));
    fb_free(&ref);
    capture_terminal_ops.close(src);

    /* Truncation starts over on a clean screen. */
    write_file("w", "one\ntwo\nthree\n");
    src = open_source(W, H, &o);
    fill(src, &live);
    write_file("w", "new\n");
    fill(src, &live);
    render("new\n", &o, FRAME_FORMAT_I420, &ref);
    assert_true(same_picture(&live, &ref));
    fb_free(&ref);
    capture_terminal_ops.close(src);
    fb_free(&live);
}

/* A FIFO as the text file: opening and filling never wait for a writer. */
static void test_fifo_source(void **state)
{
    assert_int_equal(mkfifo(path, 0600), 0);
    struct terminal_options o = options();
    struct capture *src = open_source(W, H, &o);
    struct fb live, ref;
    fb_init(&live, W, H, FRAME_FORMAT_I420, 0);
    fill(src, &live);
    int w = open(path, O_WRONLY | O_NONBLOCK);
    assert_true(w >= 0);
    assert_int_equal(write(w, "from a pipe\n", 12), 12);
    close(w); /* the writer leaving is not an error: the text stays */
    fill(src, &live);
    fill(src, &live);
    assert_true(live.f.unchanged);
    render("from a pipe\n", &o, FRAME_FORMAT_I420, &ref);
    assert_true(same_picture(&live, &ref));
    fb_free(&ref);
    fb_free(&live);
    capture_terminal_ops.close(src);
}

/* "redraws only what changed": a fill with no new text sets unchanged and touches nothing. */
static void test_redraw_only_changes(void **state)
{
    struct terminal_options o = options();
    write_file("w", "alpha\nbeta\n");
    struct capture *src = open_source(W, H, &o);
    struct fb b0, b1, ref;
    fb_init(&b0, W, H, FRAME_FORMAT_I420, 0);
    fb_init(&b1, W, H, FRAME_FORMAT_I420, 1);

    fill(src, &b0);
    assert_false(b0.f.unchanged);
    assert_int_equal(terminal_source_rows_redrawn(src), 6);

    /* Poison pixels in two rows that show nothing; nothing new: neither is touched. */
    *Y(&b0, 100, 2 * CH + 3) = 0x77;
    *Y(&b0, 100, 4 * CH + 3) = 0x77;
    fill(src, &b0);
    assert_true(b0.f.unchanged);
    assert_int_equal(terminal_source_rows_redrawn(src), 0);
    assert_int_equal(*Y(&b0, 100, 2 * CH + 3), 0x77);

    /* A new line lands in row 2: that row alone is redrawn, the poison in row 4 survives. */
    write_file("a", "gamma\n");
    fill(src, &b0);
    assert_false(b0.f.unchanged);
    assert_int_equal(terminal_source_rows_redrawn(src), 1);
    assert_int_not_equal(*Y(&b0, 100, 2 * CH + 3), 0x77);
    assert_int_equal(*Y(&b0, 100, 4 * CH + 3), 0x77);
    *Y(&b0, 100, 4 * CH + 3) = *Y(&b0, 101, 4 * CH + 3); /* heal it */

    /* Another buffer: drawn in full the first time; then, with no new text, buffer 0 is up to
     * date and shows the previous frame's picture: unchanged. */
    fill(src, &b1);
    assert_int_equal(terminal_source_rows_redrawn(src), 6);
    assert_false(b1.f.unchanged);
    fill(src, &b0);
    assert_true(b0.f.unchanged);

    /* New text while the encoder alternates buffers: each buffer catches up on its own. */
    write_file("a", "delta");
    fill(src, &b1);
    assert_int_equal(terminal_source_rows_redrawn(src), 1);
    assert_false(b1.f.unchanged);
    fill(src, &b0); /* stale row redrawn: not "unchanged" although the picture is b1's */
    assert_int_equal(terminal_source_rows_redrawn(src), 1);
    assert_false(b0.f.unchanged);
    fill(src, &b0);
    assert_true(b0.f.unchanged);
    assert_true(same_picture(&b0, &b1));

    /* Scrolling changes every row: a full redraw. */
    write_file("a", "\n1\n2\n3\n");
    fill(src, &b0);
    assert_int_equal(terminal_source_rows_redrawn(src), 6);

    /* After all the partial redraws the buffer equals a picture drawn from scratch. */
    render("alpha\nbeta\ngamma\ndelta\n1\n2\n3\n", &o, FRAME_FORMAT_I420, &ref);
    assert_true(same_picture(&b0, &ref));
    fb_free(&ref);
    fb_free(&b0);
    fb_free(&b1);
    capture_terminal_ops.close(src);
}

/* The bench's main scenario: 1280x720@30 with a log that grows slowly. An idle frame must cost
 * next to nothing (one fstat and a comparison per row). */
static void test_idle_fill_is_cheap(void **state)
{
    struct terminal_options o = options();
    char text[8192];
    size_t n = 0;
    for (int i = 0; i < 60; i++)
        n += (size_t)sprintf(text + n, "[agent] step %d: thinking about the next move...\n", i);
    write_file("w", text);
    struct capture *src = open_source(1280, 720, &o);
    struct fb b;
    fb_init(&b, 1280, 720, FRAME_FORMAT_I420, 0);
    int64_t t0 = clock_now_ns();
    fill(src, &b);
    int64_t full = clock_now_ns() - t0;
    t0 = clock_now_ns();
    for (int i = 0; i < 300; i++) {
        fill(src, &b);
        assert_true(b.f.unchanged);
    }
    int64_t idle = (clock_now_ns() - t0) / 300;
    print_message("full redraw %.2f ms, idle fill %.2f us\n", full / 1e6, idle / 1e3);
    assert_true(idle < 1000 * 1000); /* far below 1 ms even under sanitizers */
    fb_free(&b);
    capture_terminal_ops.close(src);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_options_and_layout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_glyph_pixels, setup, teardown),
        cmocka_unit_test_setup_teardown(test_invalid_utf8, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrapping, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ansi_colours, setup, teardown),
        cmocka_unit_test_setup_teardown(test_escapes_never_act, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nv12, setup, teardown),
        cmocka_unit_test_setup_teardown(test_follows_the_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fifo_source, setup, teardown),
        cmocka_unit_test_setup_teardown(test_redraw_only_changes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_idle_fill_is_cheap, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
