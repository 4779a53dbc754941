/*
 * utf8 — an incremental UTF-8 decoder for the terminal source (src/render/).
 *
 * Bytes from the followed file arrive in arbitrary chunks; the decoder keeps a partial sequence
 * across calls. Every invalid byte or sequence (stray continuation byte, overlong form, UTF-16
 * surrogate, value above U+10FFFF, sequence cut short by a byte that cannot continue it) becomes
 * one U+FFFD per maximal invalid subpart, the Unicode Standard's recommended practice (the one
 * WHATWG's decoder follows): "\xE2\x82" followed by 'A' gives U+FFFD then 'A'; "\xC0\x80" gives
 * two U+FFFD (0xC0 can never start a sequence).
 */
#ifndef AGENTCAST_RENDER_UTF8_H
#define AGENTCAST_RENDER_UTF8_H

#include <stddef.h>
#include <stdint.h>

#define UTF8_REPLACEMENT 0xFFFDu

struct utf8_decoder {
    uint32_t cp;          /* bits gathered so far */
    uint8_t need;         /* continuation bytes still expected (0: between characters) */
    uint8_t lower, upper; /* allowed range of the next continuation byte */
};

void utf8_decoder_init(struct utf8_decoder *d);

/* Feeds one byte; writes 0, 1 or 2 code points to out (2 when the byte cuts a pending sequence
 * short: U+FFFD for the sequence, then whatever the byte itself decodes to). Returns the count. */
int utf8_decoder_feed(struct utf8_decoder *d, uint8_t byte, uint32_t out[2]);

/* Decodes n bytes into out, which must have room for n + 1 code points (one pending sequence
 * from an earlier call may be cut short by the first byte). Returns the number written. */
size_t utf8_decode(struct utf8_decoder *d, const uint8_t *in, size_t n, uint32_t *out);

/* End of input: a pending incomplete sequence becomes U+FFFD (written to *out, returns 1);
 * otherwise returns 0. The decoder is ready for a new stream either way. */
int utf8_decoder_flush(struct utf8_decoder *d, uint32_t *out);

#endif
