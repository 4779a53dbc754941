/*
 * test_amf — the AMF0 writer (src/media/amf.c), byte for byte against the AMF0 specification
 * (Adobe "Action Message Format -- AMF 0", 2007).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "media/amf.h"

#define ASSERT_BYTES(buf, ...)                                                                     \
    do {                                                                                           \
        static const uint8_t want_[] = {__VA_ARGS__};                                              \
        assert_int_equal((buf)->len, sizeof(want_));                                               \
        assert_memory_equal((buf)->data, want_, sizeof(want_));                                    \
    } while (0)

/* "number-type = number-marker DOUBLE" — an 8-byte IEEE-754 double in network byte order. */
static void test_number(void **state)
{
    struct amf_buf b;
    amf_buf_init(&b);
    amf_write_number(&b, 1.0);
    amf_write_number(&b, -2.5);
    assert_int_equal(b.err, 0);
    ASSERT_BYTES(&b, 0x00, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0, 0x00, 0xc0, 0x04, 0, 0, 0, 0, 0, 0);
    amf_buf_free(&b);
}

/* "boolean-type = boolean-marker U8 ; 0 is false, <> 0 is true"; "null-type = null-marker". */
static void test_boolean_null(void **state)
{
    struct amf_buf b;
    amf_buf_init(&b);
    amf_write_boolean(&b, true);
    amf_write_boolean(&b, false);
    amf_write_null(&b);
    ASSERT_BYTES(&b, 0x01, 0x01, 0x01, 0x00, 0x05);
    amf_buf_free(&b);
}

/* "string-type = string-marker UTF-8" with "UTF-8 = U16 *(UTF8-char)"; strings longer than
 * 65535 bytes use "long-string-type = long-string-marker UTF-8-long" (U32 length). */
static void test_strings(void **state)
{
    struct amf_buf b;
    amf_buf_init(&b);
    amf_write_string(&b, "ab");
    amf_write_string(&b, "");
    ASSERT_BYTES(&b, 0x02, 0x00, 0x02, 'a', 'b', 0x02, 0x00, 0x00);
    amf_buf_free(&b);

    size_t n = 70000;
    char *big = malloc(n + 1);
    assert_non_null(big);
    memset(big, 'x', n);
    big[n] = '\0';
    amf_write_string(&b, big);
    assert_int_equal(b.err, 0);
    assert_int_equal(b.len, 5 + n);
    static const uint8_t head[] = {0x0c, 0x00, 0x01, 0x11, 0x70};
    assert_memory_equal(b.data, head, sizeof(head));
    assert_memory_equal(b.data + 5, big, n);
    amf_buf_free(&b);
    free(big);
}

/* "object-property = (UTF-8 value-type) | (UTF-8-empty object-end-marker)"; an ECMA array is
 * "ecma-array-marker U32 *(object-property)" ending the same way. */
static void test_object_and_ecma_array(void **state)
{
    struct amf_buf b;
    amf_buf_init(&b);
    amf_write_object_start(&b);
    amf_write_prop_boolean(&b, "ok", true);
    amf_write_prop_string(&b, "s", "v");
    amf_write_object_end(&b);
    amf_write_ecma_array_start(&b, 0x01020304);
    amf_write_prop_number(&b, "n", 0.0);
    amf_write_object_end(&b);
    assert_int_equal(b.err, 0);
    ASSERT_BYTES(&b, 0x03, 0x00, 0x02, 'o', 'k', 0x01, 0x01, 0x00, 0x01, 's', 0x02, 0x00, 0x01, 'v',
                 0x00, 0x00, 0x09, 0x08, 0x01, 0x02, 0x03, 0x04, 0x00, 0x01, 'n', 0x00, 0, 0, 0, 0,
                 0, 0, 0, 0, 0x00, 0x00, 0x09);
    amf_buf_free(&b);
}

static void write_sample(struct amf_buf *b)
{
    amf_write_string(b, "onMetaData");
    amf_write_ecma_array_start(b, 2);
    amf_write_prop_number(b, "width", 1280);
    amf_write_prop_string(b, "encoder", "agentcast");
    amf_write_object_end(b);
}

/* A fixed buffer measures like snprintf: NULL/0 gives the size, an exact buffer gets the same
 * bytes as a heap buffer, and a short one stops at its capacity with -ENOSPC. */
static void test_fixed_measure_and_overflow(void **state)
{
    struct amf_buf heap, fixed;
    amf_buf_init(&heap);
    write_sample(&heap);
    assert_int_equal(heap.err, 0);

    amf_buf_init_fixed(&fixed, NULL, 0);
    write_sample(&fixed);
    assert_int_equal(fixed.err, -ENOSPC);
    assert_int_equal(fixed.len, heap.len);

    uint8_t exact[128];
    assert_true(heap.len <= sizeof(exact));
    amf_buf_init_fixed(&fixed, exact, heap.len);
    write_sample(&fixed);
    assert_int_equal(fixed.err, 0);
    assert_int_equal(fixed.len, heap.len);
    assert_memory_equal(exact, heap.data, heap.len);

    uint8_t small[16];
    memset(small, 0xee, sizeof(small));
    amf_buf_init_fixed(&fixed, small, 10);
    write_sample(&fixed);
    assert_int_equal(fixed.err, -ENOSPC);
    assert_int_equal(fixed.len, heap.len);
    /* The string's marker and length fit, its 10 bytes do not; nothing past cap is touched. */
    assert_int_equal(small[0], 0x02);
    assert_int_equal(small[1], 0x00);
    assert_int_equal(small[2], 10);
    for (size_t i = 3; i < sizeof(small); i++)
        assert_int_equal(small[i], 0xee);
    amf_buf_free(&fixed); /* leaves caller memory alone */
    assert_int_equal(small[0], 0x02);
    amf_buf_free(&heap);
}

/* An empty property name would be read as the end of the object: refused, and the error
 * sticks so the rest of the payload is not written. */
static void test_sticky_error(void **state)
{
    struct amf_buf b;
    amf_buf_init(&b);
    amf_write_object_start(&b);
    amf_write_property_name(&b, "");
    assert_int_equal(b.err, -EINVAL);
    size_t len = b.len;
    amf_write_number(&b, 3);
    amf_write_string(&b, NULL);
    amf_write_object_end(&b);
    assert_int_equal(b.err, -EINVAL);
    assert_int_equal(b.len, len);
    size_t size = 1;
    assert_null(amf_buf_steal(&b, &size));
    assert_int_equal(size, 0);
    amf_buf_free(&b);
}

/* Growth past the first allocation keeps every byte, and steal hands the memory over. */
static void test_growth_and_steal(void **state)
{
    struct amf_buf b;
    amf_buf_init(&b);
    for (int i = 0; i < 1000; i++)
        amf_write_number(&b, i);
    assert_int_equal(b.err, 0);
    assert_int_equal(b.len, 9000);
    for (int i = 0; i < 1000; i++) {
        uint8_t want[9] = {0};
        double v = i;
        uint64_t bits;
        memcpy(&bits, &v, sizeof(bits));
        for (int k = 0; k < 8; k++)
            want[1 + k] = (uint8_t)(bits >> (56 - 8 * k));
        assert_memory_equal(b.data + 9 * i, want, 9);
    }
    size_t size;
    uint8_t *data = amf_buf_steal(&b, &size);
    assert_non_null(data);
    assert_int_equal(size, 9000);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    free(data);
    amf_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_number),
        cmocka_unit_test(test_boolean_null),
        cmocka_unit_test(test_strings),
        cmocka_unit_test(test_object_and_ecma_array),
        cmocka_unit_test(test_fixed_measure_and_overflow),
        cmocka_unit_test(test_sticky_error),
        cmocka_unit_test(test_growth_and_steal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
