/* Unit tests for src/render/utf8.c: valid input decodes, every invalid byte or sequence becomes
 * U+FFFD (one per maximal invalid subpart), and decoding is the same whatever the read
 * boundaries. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "render/utf8.h"

#define R UTF8_REPLACEMENT

/* Decodes s in one call, then flushes; returns the number of code points. */
static size_t decode_all(const char *s, size_t n, uint32_t *out)
{
    struct utf8_decoder d;
    utf8_decoder_init(&d);
    size_t w = utf8_decode(&d, (const uint8_t *)s, n, out);
    w += (size_t)utf8_decoder_flush(&d, out + w);
    return w;
}

static void expect(const char *s, size_t n, const uint32_t *want, size_t nwant)
{
    uint32_t out[64];
    size_t got = decode_all(s, n, out);
    assert_int_equal(got, nwant);
    for (size_t i = 0; i < nwant; i++)
        assert_int_equal(out[i], want[i]);
}

#define EXPECT(s, ...)                                                                             \
    do {                                                                                           \
        const uint32_t want_[] = {__VA_ARGS__};                                                    \
        expect(s, sizeof(s) - 1, want_, sizeof(want_) / sizeof(want_[0]));                         \
    } while (0)

static void test_valid(void **state)
{
    EXPECT("a~\n", 'a', '~', '\n');
    EXPECT("\xC3\xA9", 0xE9);             /* é */
    EXPECT("\xE2\x82\xAC", 0x20AC);       /* € */
    EXPECT("\xF0\x9F\x98\x80", 0x1F600);  /* 😀 */
    EXPECT("\xF4\x8F\xBF\xBF", 0x10FFFF); /* the last code point */
    EXPECT("\xEF\xBF\xBD", 0xFFFD);       /* U+FFFD itself */
    EXPECT("\xE0\xA0\x80", 0x800);        /* shortest 3-byte form */
    EXPECT("\xF0\x90\x80\x80", 0x10000);  /* shortest 4-byte form */
}

/* "UTF-8 with invalid bytes shown as U+FFFD" — overlong, surrogates, > U+10FFFF, truncated. */
static void test_invalid(void **state)
{
    EXPECT("\x80", R); /* stray continuation byte */
    EXPECT("a\xBF\x62", 'a', R, 'b');
    EXPECT("\xC0\x80", R, R); /* overlong NUL: C0 can start nothing */
    EXPECT("\xC1\xBF", R, R);
    EXPECT("\xE0\x80\x80", R, R, R);        /* overlong 3-byte form */
    EXPECT("\xF0\x80\x80\x80", R, R, R, R); /* overlong 4-byte form */
    EXPECT("\xED\xA0\x80", R, R, R);        /* high surrogate D800 */
    EXPECT("\xED\xBF\xBF", R, R, R);        /* low surrogate DFFF */
    EXPECT("\xED\x9F\xBF", 0xD7FF);         /* just below the surrogates: valid */
    EXPECT("\xF4\x90\x80\x80", R, R, R, R); /* U+110000 */
    EXPECT("\xF5\x80", R, R);
    EXPECT("\xFF\xFE", R, R);
    /* Truncated by an ASCII byte (one U+FFFD), by the start of another sequence, by the end of
     * the input (the flush). */
    EXPECT("\xE2\x82\x41", R, 'A');
    EXPECT("\xF0\x9F\x98\xC3\xA9", R, 0xE9);
    EXPECT("\xE2\x82", R);
}

/* The Unicode Standard's own example of "maximal subparts" (chapter 3, U+FFFD substitution). */
static void test_maximal_subparts(void **state)
{
    EXPECT("\x61\xF1\x80\x80\xE1\x80\xC2\x62\x80\x63\x80\xBF\x64", 'a', R, R, R, 'b', R, 'c', R, R,
           'd');
}

/* "incremental across read boundaries": any split gives the same code points. */
static void test_incremental(void **state)
{
    static const char s[] = "x\xE2\x82\xAC\xF0\x9F\x98\x80y\xE2\x82z\xC3\xA9\x80\xED\xA0\x80!";
    size_t n = sizeof(s) - 1;
    uint32_t whole[64];
    size_t nwhole = decode_all(s, n, whole);
    for (size_t cut1 = 0; cut1 <= n; cut1++) {
        for (size_t cut2 = cut1; cut2 <= n; cut2++) {
            struct utf8_decoder d;
            utf8_decoder_init(&d);
            uint32_t out[64];
            size_t w = utf8_decode(&d, (const uint8_t *)s, cut1, out);
            w += utf8_decode(&d, (const uint8_t *)s + cut1, cut2 - cut1, out + w);
            w += utf8_decode(&d, (const uint8_t *)s + cut2, n - cut2, out + w);
            w += (size_t)utf8_decoder_flush(&d, out + w);
            assert_int_equal(w, nwhole);
            assert_memory_equal(out, whole, w * sizeof(uint32_t));
        }
    }
    /* A sequence split over two reads yields nothing until it is complete. */
    struct utf8_decoder d;
    utf8_decoder_init(&d);
    uint32_t out[4];
    assert_int_equal(utf8_decode(&d, (const uint8_t *)"\xE2\x82", 2, out), 0);
    assert_int_equal(utf8_decode(&d, (const uint8_t *)"\xAC", 1, out), 1);
    assert_int_equal(out[0], 0x20AC);
    assert_int_equal(utf8_decoder_flush(&d, out), 0);
}

/* The output bound the header promises: n + 1 code points for n bytes. */
static void test_output_bound(void **state)
{
    struct utf8_decoder d;
    utf8_decoder_init(&d);
    uint32_t out[8];
    assert_int_equal(utf8_decode(&d, (const uint8_t *)"\xF0\x9F", 2, out), 0);
    /* One byte cuts the pending sequence short and is itself a character: 2 outputs. */
    assert_int_equal(utf8_decode(&d, (const uint8_t *)"A", 1, out), 2);
    assert_int_equal(out[0], R);
    assert_int_equal(out[1], 'A');
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid),
        cmocka_unit_test(test_invalid),
        cmocka_unit_test(test_maximal_subparts),
        cmocka_unit_test(test_incremental),
        cmocka_unit_test(test_output_bound),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
