/* Unit tests for src/render/ansi.c: SGR colours honoured or stripped, every other sequence and
 * control character dropped, never interpreted. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "render/ansi.h"

#define DFG ANSI_COLOUR_DEFAULT_FG
#define DBG ANSI_COLOUR_DEFAULT_BG

/* What came out of feeding a string: printed characters with their colours, and the other
 * actions as letters ('N' newline, 'R' carriage return, 'T' tab) in text. */
struct result {
    char text[256];
    uint32_t fg[256], bg[256];
    size_t n;
};

static void run(struct ansi_parser *p, const char *s, struct result *r)
{
    memset(r, 0, sizeof(*r));
    for (; *s; s++) {
        uint32_t cp = (uint8_t)*s;
        enum ansi_action a = ansi_parser_feed(p, cp);
        char c = 0;
        if (a == ANSI_PRINT)
            c = (char)cp;
        else if (a == ANSI_NEWLINE)
            c = 'N';
        else if (a == ANSI_CR)
            c = 'R';
        else if (a == ANSI_TAB)
            c = 'T';
        if (c) {
            r->fg[r->n] = p->fg;
            r->bg[r->n] = p->bg;
            r->text[r->n++] = c;
        }
    }
}

static struct result feed(bool honour, const char *s)
{
    struct ansi_parser p;
    ansi_parser_init(&p, honour);
    struct result r;
    run(&p, s, &r);
    return r;
}

static void test_plain_text(void **state)
{
    struct result r = feed(true, "ab c");
    assert_string_equal(r.text, "ab c");
    assert_int_equal(r.fg[0], DFG);
    assert_int_equal(r.bg[0], DBG);
}

/* "SGR (30–37, 90–97, 39, 40–47, 100–107, 49, 0, 1, 38;5;n and 38;2;r;g;b, 48;…) gives colours
 * when honoured" */
static void test_sgr_colours(void **state)
{
    struct result r = feed(true, "\033[31mA\033[91mB\033[1;31mC\033[22mD\033[39mE\033[32;1mF"
                                 "\033[0mG");
    assert_string_equal(r.text, "ABCDEFG");
    assert_int_equal(r.fg[0], 0xcd0000); /* red */
    assert_int_equal(r.fg[1], 0xff0000); /* bright red */
    assert_int_equal(r.fg[2], 0xff0000); /* bold red is bright, as in xterm */
    assert_int_equal(r.fg[3], 0xcd0000); /* 22: normal intensity */
    assert_int_equal(r.fg[4], DFG);      /* 39: default */
    assert_int_equal(r.fg[5], 0x00ff00); /* bold green */
    assert_int_equal(r.fg[6], DFG);      /* 0: reset */

    r = feed(true, "\033[44mA\033[103mB\033[49mC\033[38;5;196mD\033[38;2;1;2;3mE"
                   "\033[48;5;21mF\033[48;2;250;128;7mG\033[38;5;244mH\033[mI");
    assert_string_equal(r.text, "ABCDEFGHI");
    assert_int_equal(r.bg[0], 0x0000ee);
    assert_int_equal(r.bg[1], 0xffff00);
    assert_int_equal(r.bg[2], DBG);
    assert_int_equal(r.fg[3], 0xff0000); /* 196: the cube's pure red */
    assert_int_equal(r.fg[4], 0x010203);
    assert_int_equal(r.bg[5], 0x0000ff); /* 21: the cube's pure blue */
    assert_int_equal(r.bg[6], 0xfa8007);
    assert_int_equal(r.fg[7], 0x808080); /* 244: grey ramp, 8 + 10 * 12 */
    assert_int_equal(r.fg[8], DFG);      /* ESC[m is ESC[0m */
    assert_int_equal(r.bg[8], DBG);

    r = feed(true, "\033[7mA\033[31;7mB\033[27mC");
    assert_int_equal(r.fg[0], DBG); /* inverse swaps the defaults */
    assert_int_equal(r.bg[0], DFG);
    assert_int_equal(r.bg[1], 0xcd0000);
    assert_int_equal(r.fg[2], 0xcd0000);
    assert_int_equal(r.bg[2], DBG);
}

/* "stripped mode ignores them" */
static void test_strip(void **state)
{
    struct result r = feed(false, "\033[31mA\033[1;44mB\033[38;2;1;2;3mC");
    assert_string_equal(r.text, "ABC");
    for (size_t i = 0; i < r.n; i++) {
        assert_int_equal(r.fg[i], DFG);
        assert_int_equal(r.bg[i], DBG);
    }
}

/* "every other CSI/OSC/ESC sequence is consumed and dropped (never interpreted as cursor
 * movement etc.)" */
static void test_other_sequences_dropped(void **state)
{
    struct result r = feed(true, "a\033[2Jb\033[Hc\033[10;20Hd\033[?25le\033[Kf\033[3Ag"
                                 "\033]0;title\007h\033]2;t\033\\i\033cj\033(Bk\0337l"
                                 "\033Pq$\033\\m\033[>0;1Tn\033[1 qo");
    assert_string_equal(r.text, "abcdefghijklmno");
    /* A private-marked or intermediate-carrying "m" is not an SGR. */
    r = feed(true, "\033[?31mA\033[31 mB");
    assert_string_equal(r.text, "AB");
    assert_int_equal(r.fg[0], DFG);
    assert_int_equal(r.fg[1], DFG);
}

/* "control characters other than \n and \t … are dropped"; \r is a carriage return. */
static void test_controls(void **state)
{
    struct result r = feed(true, "a\x01\x07\x08\x0b\x0c\x7f\x62\tc\r\nd\re"); /* \x62: b */
    assert_string_equal(r.text, "abTcRNdRe");
    struct ansi_parser p;
    ansi_parser_init(&p, true);
    /* C1 controls, including the 8-bit CSI, are dropped, not interpreted. */
    assert_int_equal(ansi_parser_feed(&p, 0x9B), ANSI_NONE);
    assert_int_equal(ansi_parser_feed(&p, '2'), ANSI_PRINT);
    assert_int_equal(ansi_parser_feed(&p, 0x85), ANSI_NONE);
    assert_int_equal(ansi_parser_feed(&p, 0xE9), ANSI_PRINT);
    assert_int_equal(ansi_parser_feed(&p, 0xFFFD), ANSI_PRINT);
}

/* Broken sequences end where they cannot continue, and never swallow the rest of a log. */
static void test_malformed(void **state)
{
    struct result r = feed(true, "\033]0;never terminated\nX");
    assert_string_equal(r.text, "NX");
    r = feed(true, "\033[31\nY");
    assert_string_equal(r.text, "NY");
    assert_int_equal(r.fg[1], DFG); /* the cut SGR was not applied */
    r = feed(true, "\033[38;5mA\033[38;2;1mB\033[48mC\033[38;5;300mD");
    assert_string_equal(r.text, "ABCD");
    r = feed(true, "\033\033[32mG");
    assert_string_equal(r.text, "G");
    assert_int_equal(r.fg[0], 0x00cd00);
    r = feed(true, "\033]8;;http://x\033\\link\033]8;;\033\\!");
    assert_string_equal(r.text, "link!");
    /* More parameters than the parser keeps: no overflow, the kept ones still apply. */
    r = feed(true, "\033[1;1;1;1;1;1;1;1;1;1;1;1;1;1;1;1;1;1;1;1;1;1;31mZ\033[99999999999mW");
    assert_string_equal(r.text, "ZW");
}

static void test_palette(void **state)
{
    assert_int_equal(ansi_palette_rgb(0), 0x000000);
    assert_int_equal(ansi_palette_rgb(15), 0xffffff);
    assert_int_equal(ansi_palette_rgb(16), 0x000000);
    assert_int_equal(ansi_palette_rgb(231), 0xffffff);
    assert_int_equal(ansi_palette_rgb(232), 0x080808);
    assert_int_equal(ansi_palette_rgb(255), 0xeeeeee);
    assert_int_equal(ansi_palette_rgb(17), 0x00005f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_text), cmocka_unit_test(test_sgr_colours),
        cmocka_unit_test(test_strip),      cmocka_unit_test(test_other_sequences_dropped),
        cmocka_unit_test(test_controls),   cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_palette),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
