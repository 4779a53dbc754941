/*
 * amf — AMF0 writer; see amf.h. Only what agentcast sends: numbers, booleans, strings, null,
 * objects and ECMA arrays. All multi-byte fields are big-endian (network order).
 */
#include "media/amf.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void amf_buf_init(struct amf_buf *b)
{
    *b = (struct amf_buf){.growable = true};
}

void amf_buf_init_fixed(struct amf_buf *b, uint8_t *mem, size_t cap)
{
    *b = (struct amf_buf){.data = mem, .cap = mem ? cap : 0};
}

void amf_buf_free(struct amf_buf *b)
{
    bool growable = b->growable;
    if (growable)
        free(b->data);
    *b = (struct amf_buf){.growable = growable};
}

uint8_t *amf_buf_steal(struct amf_buf *b, size_t *size)
{
    if (!b->growable || b->err || !b->data) {
        *size = 0;
        return NULL;
    }
    uint8_t *data = b->data;
    *size = b->len;
    *b = (struct amf_buf){.growable = true};
    return data;
}

/* Makes room for n more bytes; false (and err set) when there is none. */
static bool reserve(struct amf_buf *b, size_t n)
{
    if (b->err)
        return false;
    if (n > SIZE_MAX - b->len) {
        b->err = -ENOMEM;
        return false;
    }
    size_t need = b->len + n;
    if (need <= b->cap)
        return true;
    if (!b->growable) {
        b->err = -ENOSPC; /* put() keeps counting, so a caller learns the size it needs */
        return false;
    }
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    uint8_t *data = realloc(b->data, cap);
    if (!data) {
        b->err = -ENOMEM;
        return false;
    }
    b->data = data;
    b->cap = cap;
    return true;
}

/* Appends n bytes, or only counts them when a fixed buffer has already overflowed. */
static void put(struct amf_buf *b, const void *src, size_t n)
{
    if (reserve(b, n)) {
        memcpy(b->data + b->len, src, n);
        b->len += n;
    } else if (b->err == -ENOSPC) {
        b->len += n;
    }
}

static void put_u8(struct amf_buf *b, uint8_t v)
{
    put(b, &v, 1);
}

static void put_be(struct amf_buf *b, uint64_t v, int bytes)
{
    uint8_t tmp[8];
    for (int i = 0; i < bytes; i++)
        tmp[i] = (uint8_t)(v >> (8 * (bytes - 1 - i)));
    put(b, tmp, (size_t)bytes);
}

/* The 16-bit-length UTF-8 string used for short strings and property names. */
static void put_utf8(struct amf_buf *b, const char *s, size_t n)
{
    put_be(b, n, 2);
    put(b, s, n);
}

static void fail(struct amf_buf *b, int err)
{
    if (!b->err)
        b->err = err;
}

void amf_write_number(struct amf_buf *b, double v)
{
    uint64_t bits;
    memcpy(&bits, &v, sizeof(bits));
    put_u8(b, AMF0_NUMBER);
    put_be(b, bits, 8);
}

void amf_write_boolean(struct amf_buf *b, bool v)
{
    put_u8(b, AMF0_BOOLEAN);
    put_u8(b, v ? 1 : 0);
}

void amf_write_string(struct amf_buf *b, const char *s)
{
    if (!s) {
        fail(b, -EINVAL);
        return;
    }
    size_t n = strlen(s);
    if (n <= UINT16_MAX) {
        put_u8(b, AMF0_STRING);
        put_utf8(b, s, n);
    } else if (n <= UINT32_MAX) {
        put_u8(b, AMF0_LONG_STRING);
        put_be(b, n, 4);
        put(b, s, n);
    } else {
        fail(b, -EINVAL);
    }
}

void amf_write_null(struct amf_buf *b)
{
    put_u8(b, AMF0_NULL);
}

void amf_write_object_start(struct amf_buf *b)
{
    put_u8(b, AMF0_OBJECT);
}

void amf_write_ecma_array_start(struct amf_buf *b, uint32_t count)
{
    put_u8(b, AMF0_ECMA_ARRAY);
    put_be(b, count, 4);
}

void amf_write_property_name(struct amf_buf *b, const char *name)
{
    size_t n = name ? strlen(name) : SIZE_MAX;
    /* An empty name would read as the object end; names have no long form. */
    if (n == 0 || n > UINT16_MAX) {
        fail(b, -EINVAL);
        return;
    }
    put_utf8(b, name, n);
}

void amf_write_object_end(struct amf_buf *b)
{
    static const uint8_t end[3] = {0x00, 0x00, AMF0_OBJECT_END};
    put(b, end, sizeof(end));
}

void amf_write_prop_number(struct amf_buf *b, const char *name, double v)
{
    amf_write_property_name(b, name);
    amf_write_number(b, v);
}

void amf_write_prop_boolean(struct amf_buf *b, const char *name, bool v)
{
    amf_write_property_name(b, name);
    amf_write_boolean(b, v);
}

void amf_write_prop_string(struct amf_buf *b, const char *name, const char *s)
{
    amf_write_property_name(b, name);
    amf_write_string(b, s);
}
