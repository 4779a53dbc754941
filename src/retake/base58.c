/*
 * base58 — see base58.h. Plain schoolbook base conversion: the inputs here are wallet addresses
 * (44 characters at most), so O(n²) over a few dozen bytes is nothing.
 */
#include "retake/base58.h"

#include <errno.h>
#include <string.h>

static const char alphabet[] = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

static int digit_value(char c)
{
    const char *p = c ? strchr(alphabet, c) : NULL;
    return p ? (int)(p - alphabet) : -1;
}

int base58_decode(const char *in, size_t in_len, uint8_t *out, size_t out_size, size_t *bad_pos)
{
    /* Check the whole alphabet first so a bad character is reported even in a too-long input. */
    for (size_t i = 0; i < in_len; i++) {
        if (digit_value(in[i]) < 0) {
            if (bad_pos)
                *bad_pos = i;
            return -EINVAL;
        }
    }
    size_t zeros = 0;
    while (zeros < in_len && in[zeros] == '1')
        zeros++;
    if (zeros > out_size)
        return -ENOSPC;

    /* The big number grows from the end of out; len bytes of it are in use. */
    size_t len = 0;
    for (size_t i = zeros; i < in_len; i++) {
        unsigned carry = (unsigned)digit_value(in[i]);
        for (size_t k = 0; k < len; k++) {
            size_t idx = out_size - 1 - k;
            carry += 58u * out[idx];
            out[idx] = (uint8_t)(carry & 0xff);
            carry >>= 8;
        }
        while (carry) {
            if (len == out_size)
                return -ENOSPC;
            out[out_size - 1 - len] = (uint8_t)(carry & 0xff);
            len++;
            carry >>= 8;
        }
    }
    if (zeros + len > out_size)
        return -ENOSPC;
    memmove(out + zeros, out + out_size - len, len);
    memset(out, 0, zeros);
    return (int)(zeros + len);
}

int base58_encode(const uint8_t *in, size_t n, char *out, size_t out_size)
{
    size_t zeros = 0;
    while (zeros < n && in[zeros] == 0)
        zeros++;
    /* Digits of the value, least significant first, built in out after the leading '1's. */
    size_t len = 0;
    for (size_t i = zeros; i < n; i++) {
        unsigned carry = in[i];
        for (size_t k = 0; k < len; k++) {
            carry += 256u * (unsigned)(out[zeros + k]);
            out[zeros + k] = (char)(carry % 58);
            carry /= 58;
        }
        while (carry) {
            if (zeros + len + 1 >= out_size)
                return -ENOSPC;
            out[zeros + len++] = (char)(carry % 58);
            carry /= 58;
        }
    }
    if (zeros + len + 1 > out_size)
        return -ENOSPC;
    for (size_t k = 0; k < len / 2; k++) {
        char t = out[zeros + k];
        out[zeros + k] = out[zeros + len - 1 - k];
        out[zeros + len - 1 - k] = t;
    }
    for (size_t k = 0; k < len; k++)
        out[zeros + k] = alphabet[(unsigned char)out[zeros + k]];
    memset(out, '1', zeros);
    out[zeros + len] = '\0';
    return (int)(zeros + len);
}
