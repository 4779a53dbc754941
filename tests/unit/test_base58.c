/*
 * test_base58 — the Bitcoin-alphabet base58 codec (src/retake/base58.c) used to check Solana
 * wallet addresses: known vectors, leading '1's as zero bytes, refused characters, room limits
 * and a round trip.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "retake/base58.h"

static int decode(const char *s, uint8_t *out, size_t out_size)
{
    return base58_decode(s, strlen(s), out, out_size, NULL);
}

static void test_known_vectors(void **state)
{
    (void)state;
    uint8_t b[64];
    assert_int_equal(decode("", b, sizeof(b)), 0);
    assert_int_equal(decode("2", b, sizeof(b)), 1);
    assert_int_equal(b[0], 1);
    assert_int_equal(decode("z", b, sizeof(b)), 1);
    assert_int_equal(b[0], 57);
    assert_int_equal(decode("21", b, sizeof(b)), 1); /* 1·58 + 0 */
    assert_int_equal(b[0], 58);
    assert_int_equal(decode("5Q", b, sizeof(b)), 1); /* 4·58 + 23 = 255 */
    assert_int_equal(b[0], 0xff);
    assert_int_equal(decode("LUw", b, sizeof(b)), 3); /* 65536 */
    assert_memory_equal(b, "\x01\x00\x00", 3);
    assert_int_equal(decode("2NEpo7TZRRrLZSi2U", b, sizeof(b)), 12);
    assert_memory_equal(b, "Hello World!", 12);
    /* The wrapped-SOL mint, a real Solana address. */
    static const uint8_t wsol[32] = {0x06, 0x9b, 0x88, 0x57, 0xfe, 0xab, 0x81, 0x84,
                                     0xfb, 0x68, 0x7f, 0x63, 0x46, 0x18, 0xc0, 0x35,
                                     0xda, 0xc4, 0x39, 0xdc, 0x1a, 0xeb, 0x3b, 0x55,
                                     0x98, 0xa0, 0xf0, 0x00, 0x00, 0x00, 0x00, 0x01};
    assert_int_equal(decode("So11111111111111111111111111111111111111112", b, sizeof(b)), 32);
    assert_memory_equal(b, wsol, 32);
}

/* Leading '1's are leading zero bytes; a '1' after another digit is the digit 0. */
static void test_leading_ones(void **state)
{
    (void)state;
    uint8_t b[64];
    memset(b, 0xaa, sizeof(b));
    assert_int_equal(decode("1", b, sizeof(b)), 1);
    assert_int_equal(b[0], 0);
    assert_int_equal(decode("111", b, sizeof(b)), 3);
    assert_memory_equal(b, "\0\0\0", 3);
    assert_int_equal(decode("11111111111111111111111111111111", b, sizeof(b)), 32);
    for (int i = 0; i < 32; i++)
        assert_int_equal(b[i], 0);
    assert_int_equal(decode("12", b, sizeof(b)), 2);
    assert_memory_equal(b, "\0\x01", 2);
    assert_int_equal(decode("211", b, sizeof(b)), 2); /* digit 1 · 58² = 3364 = 0x0d24 */
    assert_memory_equal(b, "\x0d\x24", 2);
}

static void test_bad_characters(void **state)
{
    (void)state;
    uint8_t b[64];
    size_t pos = 99;
    const char *bad[] = {"0", "O", "I", "l", " ", "+", "/", "é"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        pos = 99;
        assert_int_equal(base58_decode(bad[i], strlen(bad[i]), b, sizeof(b), &pos), -EINVAL);
        assert_int_equal(pos, 0);
    }
    assert_int_equal(base58_decode("abc0def", 7, b, sizeof(b), &pos), -EINVAL);
    assert_int_equal(pos, 3);
    /* An embedded NUL inside the given length is not a digit either. */
    assert_int_equal(base58_decode("ab\0d", 4, b, sizeof(b), &pos), -EINVAL);
    assert_int_equal(pos, 2);
    /* A bad character is reported even when the value would not fit. */
    assert_int_equal(base58_decode("zzzzzzzzzzzzzzzzzzzz0", 21, b, 2, &pos), -EINVAL);
    assert_int_equal(pos, 20);
}

static void test_room(void **state)
{
    (void)state;
    uint8_t b[32];
    assert_int_equal(decode("LUw", b, 3), 3);
    assert_int_equal(decode("LUw", b, 2), -ENOSPC);
    assert_int_equal(decode("111", b, 2), -ENOSPC);
    assert_int_equal(decode("12", b, 1), -ENOSPC); /* zero byte + one value byte */
    /* 33 bytes of 0xff do not fit 32. */
    assert_int_equal(decode("2K3n5t4wSaF5mj27Tw9vStXWLWyRjjiH5Cp3CFLpKVCr1c", b, 32), -ENOSPC);
    char s[8];
    const uint8_t v[3] = {1, 0, 0};
    assert_int_equal(base58_encode(v, 3, s, sizeof(s)), 3);
    assert_string_equal(s, "LUw");
    assert_int_equal(base58_encode(v, 3, s, 3), -ENOSPC); /* no room for the NUL */
    const uint8_t z[2] = {0, 0};
    assert_int_equal(base58_encode(z, 2, s, sizeof(s)), 2);
    assert_string_equal(s, "11");
    assert_int_equal(base58_encode(z, 2, s, 2), -ENOSPC);
}

static void test_round_trip(void **state)
{
    (void)state;
    srand(58);
    for (int iter = 0; iter < 500; iter++) {
        uint8_t in[40], out[40];
        char text[80];
        size_t n = (size_t)(rand() % 41);
        for (size_t i = 0; i < n; i++)
            in[i] = (uint8_t)(iter % 3 == 0 && i < 3 ? 0 : rand());
        int len = base58_encode(in, n, text, sizeof(text));
        assert_true(len >= 0);
        assert_int_equal((size_t)len, strlen(text));
        assert_int_equal(base58_decode(text, (size_t)len, out, sizeof(out), NULL), (int)n);
        assert_memory_equal(in, out, n);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_vectors),  cmocka_unit_test(test_leading_ones),
        cmocka_unit_test(test_bad_characters), cmocka_unit_test(test_room),
        cmocka_unit_test(test_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
