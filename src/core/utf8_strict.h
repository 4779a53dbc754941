/*
 * utf8_strict — one strict UTF-8 step for validators and sanitisers: overlong forms,
 * surrogates, code points above U+10FFFF and sequences cut short are errors. (The terminal
 * renderer's src/render/utf8.c is the other kind: it never fails, it shows U+FFFD.)
 */
#ifndef AGENTCAST_CORE_UTF8_STRICT_H
#define AGENTCAST_CORE_UTF8_STRICT_H

#include <stddef.h>
#include <stdint.h>

/* Decodes the sequence at s (at most len bytes, len >= 1): its length with *cp, or -1. */
int utf8_strict_next(const char *s, size_t len, uint32_t *cp);

#endif
