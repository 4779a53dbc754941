/* Unit tests for src/core/parse.c: every value parser at its boundaries. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "core/parse.h"

static char err[256];

static void test_size(void **state)
{
    int w = 0, h = 0;
    assert_int_equal(parse_size("1280x720", &w, &h, err, sizeof(err)), 0);
    assert_int_equal(w, 1280);
    assert_int_equal(h, 720);
    assert_int_equal(parse_size("16x16", &w, &h, err, sizeof(err)), 0);
    assert_int_equal(parse_size("7680x4320", &w, &h, err, sizeof(err)), 0);
    /* "sizes 0x0 / 99999x99999 / odd → a clear message" */
    assert_int_equal(parse_size("0x0", &w, &h, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "out of range"));
    assert_int_equal(parse_size("99999x99999", &w, &h, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "out of range"));
    assert_int_equal(parse_size("1281x720", &w, &h, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "even"));
    assert_int_equal(parse_size("14x720", &w, &h, err, sizeof(err)), -EINVAL);
    assert_int_equal(parse_size("7682x720", &w, &h, err, sizeof(err)), -EINVAL);
    assert_int_equal(parse_size("1280", &w, &h, err, sizeof(err)), -EINVAL);
    assert_int_equal(parse_size("x720", &w, &h, err, sizeof(err)), -EINVAL);
    assert_int_equal(parse_size("1280x", &w, &h, err, sizeof(err)), -EINVAL);
    assert_int_equal(parse_size("1280x720x3", &w, &h, err, sizeof(err)), -EINVAL);
    assert_int_equal(parse_size("-1280x720", &w, &h, err, sizeof(err)), -EINVAL);
    assert_int_equal(parse_size("", &w, &h, err, sizeof(err)), -EINVAL);
    assert_int_equal(w, 7680); /* failures leave outputs untouched */
}

static void test_fps(void **state)
{
    int n = 0, d = 0;
    assert_int_equal(parse_fps("30", &n, &d, err, sizeof(err)), 0);
    assert_int_equal(n, 30);
    assert_int_equal(d, 1);
    assert_int_equal(parse_fps("30000/1001", &n, &d, err, sizeof(err)), 0);
    assert_int_equal(n, 30000);
    assert_int_equal(d, 1001);
    assert_int_equal(parse_fps("29.97", &n, &d, err, sizeof(err)), 0);
    assert_int_equal(n, 29970);
    assert_int_equal(d, 1000);
    assert_int_equal(parse_fps("1", &n, &d, err, sizeof(err)), 0);
    assert_int_equal(parse_fps("240", &n, &d, err, sizeof(err)), 0);
    /* "fps 0 or 1000 → a clear message" */
    assert_int_equal(parse_fps("0", &n, &d, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "out of range"));
    assert_int_equal(parse_fps("1000", &n, &d, err, sizeof(err)), -EINVAL);
    assert_int_equal(parse_fps("241", &n, &d, err, sizeof(err)), -EINVAL);
    assert_int_equal(parse_fps("30/0", &n, &d, err, sizeof(err)), -EINVAL);
    assert_int_equal(parse_fps("1/2", &n, &d, err, sizeof(err)), -EINVAL);
    assert_int_equal(parse_fps("abc", &n, &d, err, sizeof(err)), -EINVAL);
    assert_int_equal(parse_fps("30fps", &n, &d, err, sizeof(err)), -EINVAL);
    assert_int_equal(parse_fps("nan", &n, &d, err, sizeof(err)), -EINVAL);
}

static void test_kbps(void **state)
{
    int k = 0;
    assert_int_equal(parse_kbps("1500k", 16, 200000, &k, err, sizeof(err)), 0);
    assert_int_equal(k, 1500);
    assert_int_equal(parse_kbps("1.5M", 16, 200000, &k, err, sizeof(err)), 0);
    assert_int_equal(k, 1500);
    assert_int_equal(parse_kbps("3000000", 16, 200000, &k, err, sizeof(err)), 0);
    assert_int_equal(k, 3000);
    assert_int_equal(parse_kbps("16k", 16, 200000, &k, err, sizeof(err)), 0);
    /* "bitrate 0 → a clear message" */
    assert_int_equal(parse_kbps("0", 16, 200000, &k, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "out of range"));
    assert_int_equal(parse_kbps("0k", 16, 200000, &k, err, sizeof(err)), -EINVAL);
    assert_int_equal(parse_kbps("15k", 16, 200000, &k, err, sizeof(err)), -EINVAL);
    assert_int_equal(parse_kbps("201M", 16, 200000, &k, err, sizeof(err)), -EINVAL);
    assert_int_equal(parse_kbps("-5k", 16, 200000, &k, err, sizeof(err)), -EINVAL);
    assert_int_equal(parse_kbps("k", 16, 200000, &k, err, sizeof(err)), -EINVAL);
    assert_int_equal(parse_kbps("", 16, 200000, &k, err, sizeof(err)), -EINVAL);
    assert_int_equal(parse_kbps("1500kb", 16, 200000, &k, err, sizeof(err)), -EINVAL);
}

static void test_numbers(void **state)
{
    double d;
    long l;
    assert_int_equal(parse_double("2", 0.1, 60, &d, err, sizeof(err)), 0);
    assert_true(d == 2.0);
    assert_int_equal(parse_double("0.1", 0.1, 60, &d, err, sizeof(err)), 0);
    assert_int_equal(parse_double("60.0001", 0.1, 60, &d, err, sizeof(err)), -EINVAL);
    assert_int_equal(parse_double(" 2", 0.1, 60, &d, err, sizeof(err)), -EINVAL);
    assert_int_equal(parse_double("2s", 0.1, 60, &d, err, sizeof(err)), -EINVAL);
    assert_int_equal(parse_double("inf", 0, 1e9, &d, err, sizeof(err)), -EINVAL);
    assert_int_equal(parse_int("64", 0, 64, &l, err, sizeof(err)), 0);
    assert_int_equal(l, 64);
    assert_int_equal(parse_int("65", 0, 64, &l, err, sizeof(err)), -EINVAL);
    assert_int_equal(parse_int("99999999999999999999", 0, 64, &l, err, sizeof(err)), -EINVAL);
    assert_int_equal(parse_int("1.5", 0, 64, &l, err, sizeof(err)), -EINVAL);
}

static void test_rgb(void **state)
{
    uint32_t c;
    assert_int_equal(parse_rgb("#00ff00", &c, err, sizeof(err)), 0);
    assert_int_equal(c, 0x00ff00);
    assert_int_equal(parse_rgb("FF8000", &c, err, sizeof(err)), 0);
    assert_int_equal(c, 0xff8000);
    assert_int_equal(parse_rgb("Black", &c, err, sizeof(err)), 0);
    assert_int_equal(c, 0);
    assert_int_equal(parse_rgb("#00ff0", &c, err, sizeof(err)), -EINVAL);
    assert_int_equal(parse_rgb("#00ff0g", &c, err, sizeof(err)), -EINVAL);
    assert_int_equal(parse_rgb("chartreuse", &c, err, sizeof(err)), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_size),    cmocka_unit_test(test_fps), cmocka_unit_test(test_kbps),
        cmocka_unit_test(test_numbers), cmocka_unit_test(test_rgb),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
