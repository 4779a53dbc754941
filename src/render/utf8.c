/*
 * utf8 — incremental UTF-8 decoding with U+FFFD for every maximal invalid subpart (see utf8.h).
 *
 * The lead byte fixes how many continuation bytes follow and narrows the range of the first of
 * them, which is what rejects overlong forms (E0 80..9F, F0 80..8F), surrogates (ED A0..BF) and
 * values above U+10FFFF (F4 90..BF) at the earliest byte, without decoding first and checking
 * after. This is the table in the Unicode Standard, chapter 3, "Well-Formed UTF-8 Byte Sequences".
 */
#include "render/utf8.h"

#include <stdbool.h>

void utf8_decoder_init(struct utf8_decoder *d)
{
    d->cp = 0;
    d->need = 0;
    d->lower = 0x80;
    d->upper = 0xBF;
}

/* Starts a sequence at byte b; returns false when b can never start one. */
static bool start_sequence(struct utf8_decoder *d, uint8_t b)
{
    d->lower = 0x80;
    d->upper = 0xBF;
    if (b >= 0xC2 && b <= 0xDF) {
        d->need = 1;
        d->cp = b & 0x1Fu;
    } else if (b >= 0xE0 && b <= 0xEF) {
        d->need = 2;
        d->cp = b & 0x0Fu;
        if (b == 0xE0)
            d->lower = 0xA0; /* below: overlong */
        else if (b == 0xED)
            d->upper = 0x9F; /* above: surrogates */
    } else if (b >= 0xF0 && b <= 0xF4) {
        d->need = 3;
        d->cp = b & 0x07u;
        if (b == 0xF0)
            d->lower = 0x90; /* below: overlong */
        else if (b == 0xF4)
            d->upper = 0x8F; /* above: beyond U+10FFFF */
    } else {
        return false; /* 80..C1 (stray continuation, overlong lead), F5..FF */
    }
    return true;
}

int utf8_decoder_feed(struct utf8_decoder *d, uint8_t b, uint32_t out[2])
{
    int n = 0;
    if (d->need) {
        if (b >= d->lower && b <= d->upper) {
            d->cp = (d->cp << 6) | (b & 0x3Fu);
            d->lower = 0x80;
            d->upper = 0xBF;
            if (--d->need == 0)
                out[n++] = d->cp;
            return n;
        }
        /* The pending sequence ends here, invalid; b is looked at afresh below. */
        out[n++] = UTF8_REPLACEMENT;
        utf8_decoder_init(d);
    }
    if (b < 0x80)
        out[n++] = b;
    else if (!start_sequence(d, b))
        out[n++] = UTF8_REPLACEMENT;
    return n;
}

size_t utf8_decode(struct utf8_decoder *d, const uint8_t *in, size_t n, uint32_t *out)
{
    size_t w = 0;
    for (size_t i = 0; i < n; i++) {
        /* ASCII between characters is the common case: no call, no state change. */
        if (in[i] < 0x80 && !d->need) {
            out[w++] = in[i];
            continue;
        }
        w += (size_t)utf8_decoder_feed(d, in[i], out + w);
    }
    return w;
}

int utf8_decoder_flush(struct utf8_decoder *d, uint32_t *out)
{
    bool pending = d->need != 0;
    utf8_decoder_init(d);
    if (!pending)
        return 0;
    *out = UTF8_REPLACEMENT;
    return 1;
}
