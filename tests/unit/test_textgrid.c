/* Unit tests for src/render/textgrid.c: wrapping, scrolling, carriage return, tabs, wide and
 * zero-width characters, and the per-row versions the drawer relies on. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "render/ansi.h"
#include "render/textgrid.h"

#define DFG ANSI_COLOUR_DEFAULT_FG
#define DBG ANSI_COLOUR_DEFAULT_BG

/* ASCII through the grid the way the terminal source drives it. */
static void type(struct textgrid *g, const char *s)
{
    for (; *s; s++) {
        if (*s == '\n')
            textgrid_newline(g);
        else if (*s == '\r')
            textgrid_carriage_return(g);
        else if (*s == '\t')
            textgrid_tab(g);
        else
            textgrid_put(g, (uint8_t)*s, DFG, DBG);
    }
}

/* Row r as a string, trailing blanks removed; '#' for the right half of a wide character. */
static const char *row_text(const struct textgrid *g, int r)
{
    static char buf[256];
    const struct textgrid_cell *c = textgrid_row(g, r);
    int n = textgrid_cols(g);
    for (int i = 0; i < n; i++)
        buf[i] = c[i].cp == TEXTGRID_WIDE_TAIL ? '#' : c[i].cp < 128 ? (char)c[i].cp : '?';
    while (n > 0 && buf[n - 1] == ' ')
        n--;
    buf[n] = 0;
    return buf;
}

static struct textgrid *make(int cols, int rows)
{
    struct textgrid *g = NULL;
    assert_int_equal(textgrid_create(&g, cols, rows), 0);
    assert_non_null(g);
    return g;
}

static void test_create(void **state)
{
    struct textgrid *g = NULL;
    assert_int_equal(textgrid_create(&g, 0, 5), -EINVAL);
    assert_null(g);
    assert_int_equal(textgrid_create(&g, 5, 0), -EINVAL);
    g = make(4, 2);
    assert_int_equal(textgrid_cols(g), 4);
    assert_int_equal(textgrid_rows(g), 2);
    assert_string_equal(row_text(g, 0), "");
    assert_int_equal(textgrid_row(g, 1)[3].cp, ' ');
    assert_int_equal(textgrid_row(g, 1)[3].bg, DBG);
    textgrid_destroy(g);
    textgrid_destroy(NULL);
}

/* "long lines wrapped" — at the column count. */
static void test_wrap(void **state)
{
    struct textgrid *g = make(5, 4);
    type(g, "abcdefghijk\nxy");
    assert_string_equal(row_text(g, 0), "abcde");
    assert_string_equal(row_text(g, 1), "fghij");
    assert_string_equal(row_text(g, 2), "k");
    assert_string_equal(row_text(g, 3), "xy");
    textgrid_destroy(g);

    /* A line of exactly the width followed by a new line takes one row (deferred wrap). */
    g = make(5, 4);
    type(g, "abcde\nf");
    assert_string_equal(row_text(g, 0), "abcde");
    assert_string_equal(row_text(g, 1), "f");
    textgrid_destroy(g);
}

static void test_scroll(void **state)
{
    struct textgrid *g = make(4, 3);
    type(g, "1\n2\n3");
    uint64_t before[3];
    for (int r = 0; r < 3; r++)
        before[r] = textgrid_row_version(g, r);
    type(g, "\n4");
    assert_string_equal(row_text(g, 0), "2");
    assert_string_equal(row_text(g, 1), "3");
    assert_string_equal(row_text(g, 2), "4");
    /* "scrolling changes every row's content": every screen row's version moved on. */
    for (int r = 0; r < 3; r++)
        assert_int_not_equal(textgrid_row_version(g, r), before[r]);
    type(g, "\n5\n6\n7\n8\n9");
    assert_string_equal(row_text(g, 0), "7");
    assert_string_equal(row_text(g, 2), "9");
    textgrid_destroy(g);
}

/* "a per-row generation counter or hash so the drawer knows which rows changed" */
static void test_versions(void **state)
{
    struct textgrid *g = make(8, 3);
    type(g, "top\nmid\n");
    uint64_t v0 = textgrid_row_version(g, 0), v1 = textgrid_row_version(g, 1);
    uint64_t v2 = textgrid_row_version(g, 2), serial = textgrid_serial(g);
    assert_int_not_equal(v0, 0);
    type(g, "x");
    assert_int_equal(textgrid_row_version(g, 0), v0);
    assert_int_equal(textgrid_row_version(g, 1), v1);
    assert_int_not_equal(textgrid_row_version(g, 2), v2);
    assert_int_not_equal(textgrid_serial(g), serial);
    /* Cursor movement alone changes nothing visible. */
    serial = textgrid_serial(g);
    v2 = textgrid_row_version(g, 2);
    textgrid_carriage_return(g);
    textgrid_tab(g);
    assert_int_equal(textgrid_serial(g), serial);
    assert_int_equal(textgrid_row_version(g, 2), v2);
    textgrid_clear(g);
    assert_string_equal(row_text(g, 0), "");
    assert_int_not_equal(textgrid_row_version(g, 0), v0);
    assert_int_not_equal(textgrid_serial(g), serial);
    type(g, "again");
    assert_string_equal(row_text(g, 0), "again"); /* cursor back at the top left */
    textgrid_destroy(g);
}

/* "a lone \r as returning to column 0 of the current line (progress bars)" */
static void test_carriage_return(void **state)
{
    struct textgrid *g = make(20, 3);
    type(g, "progress 10%\rprogress 100%\r\ndone");
    assert_string_equal(row_text(g, 0), "progress 100%");
    assert_string_equal(row_text(g, 1), "done");
    type(g, "\rD");
    assert_string_equal(row_text(g, 1), "Done");
    textgrid_destroy(g);
}

/* "\t (tab to next multiple of 8)" */
static void test_tab(void **state)
{
    struct textgrid *g = make(20, 2);
    type(g, "a\tb\tc\td\t\te");
    const struct textgrid_cell *c = textgrid_row(g, 0);
    assert_int_equal(c[0].cp, 'a');
    assert_int_equal(c[8].cp, 'b');
    assert_int_equal(c[16].cp, 'c');
    assert_int_equal(c[19].cp, 'e'); /* tabs stop at the last column: 'e' overwrote 'd' */
    assert_string_equal(row_text(g, 1), "");
    textgrid_destroy(g);
}

static void test_wide_and_zero_width(void **state)
{
    assert_int_equal(textgrid_cp_width('a'), 1);
    assert_int_equal(textgrid_cp_width(0xE9), 1);
    assert_int_equal(textgrid_cp_width(0x301), 0);
    assert_int_equal(textgrid_cp_width(0x200D), 0);
    assert_int_equal(textgrid_cp_width(0x4E2D), 2);
    assert_int_equal(textgrid_cp_width(0x1F680), 2);
    assert_int_equal(textgrid_cp_width(0xFFFD), 1);
    assert_int_equal(textgrid_cp_width(0x2588), 1);

    struct textgrid *g = make(5, 3);
    textgrid_put(g, 'e', DFG, DBG);
    textgrid_put(g, 0x301, DFG, DBG); /* combining acute: no cell */
    textgrid_put(g, 0x4E2D, DFG, DBG);
    textgrid_put(g, 'x', DFG, DBG);
    textgrid_put(g, 0x4E2D, DFG, DBG); /* one column left: wraps whole */
    assert_string_equal(row_text(g, 0), "e?#x");
    assert_int_equal(textgrid_row(g, 0)[0].cp, 'e');
    assert_int_equal(textgrid_row(g, 0)[1].cp, 0x4E2D);
    assert_string_equal(row_text(g, 1), "?#");
    /* Overwriting either half of a wide character blanks the other half. */
    textgrid_carriage_return(g);
    textgrid_put(g, 'a', DFG, DBG);
    assert_string_equal(row_text(g, 1), "a");
    textgrid_newline(g);
    textgrid_put(g, 0x4E2D, DFG, DBG);
    textgrid_carriage_return(g);
    textgrid_put(g, ' ', DFG, DBG);
    textgrid_put(g, 'b', DFG, DBG);
    assert_string_equal(row_text(g, 2), " b");
    textgrid_destroy(g);

    /* A one-column grid still shows a wide character. */
    g = make(1, 2);
    textgrid_put(g, 0x4E2D, DFG, DBG);
    assert_int_equal(textgrid_row(g, 0)[0].cp, 0x4E2D);
    textgrid_destroy(g);
}

static void test_colours_kept(void **state)
{
    struct textgrid *g = make(4, 1);
    textgrid_put(g, 'r', 0xff0000, 0x000080);
    assert_int_equal(textgrid_row(g, 0)[0].fg, 0xff0000);
    assert_int_equal(textgrid_row(g, 0)[0].bg, 0x000080);
    assert_int_equal(textgrid_row(g, 0)[1].fg, DFG);
    textgrid_destroy(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create),
        cmocka_unit_test(test_wrap),
        cmocka_unit_test(test_scroll),
        cmocka_unit_test(test_versions),
        cmocka_unit_test(test_carriage_return),
        cmocka_unit_test(test_tab),
        cmocka_unit_test(test_wide_and_zero_width),
        cmocka_unit_test(test_colours_kept),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
