/*
 * base58 — the Bitcoin base58 alphabet (no 0, O, I, l), as Solana writes public keys. Used by the
 * retake.tv validators (src/retake/validate.c) to check that a wallet address is 32 bytes before
 * registering it. Leading '1' characters stand for leading zero bytes.
 */
#ifndef AGENTCAST_RETAKE_BASE58_H
#define AGENTCAST_RETAKE_BASE58_H

#include <stddef.h>
#include <stdint.h>

/* Decodes in_len characters of in into out. Returns the number of bytes written, -EINVAL for a
 * character outside the alphabet (its index goes to *bad_pos when bad_pos is non-NULL), or
 * -ENOSPC when the value needs more than out_size bytes. An empty input decodes to 0 bytes. */
int base58_decode(const char *in, size_t in_len, uint8_t *out, size_t out_size, size_t *bad_pos);

/* Encodes n bytes as a NUL-terminated string into out. Returns its length, or -ENOSPC. */
int base58_encode(const uint8_t *in, size_t n, char *out, size_t out_size);

#endif
