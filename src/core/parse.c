/* parse — see parse.h. Nothing here accepts trailing garbage, signs where none make sense, or
 * values that overflow. */
#include "core/parse.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define FAIL(...)                                                                                  \
    do {                                                                                           \
        snprintf(err, err_size, __VA_ARGS__);                                                      \
        return -EINVAL;                                                                            \
    } while (0)

int parse_double(const char *s, double min, double max, double *out, char *err, size_t err_size)
{
    if (!s || !*s || isspace((unsigned char)*s))
        FAIL("expected a number, got \"%s\"", s ? s : "");
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || *end || !isfinite(v))
        FAIL("expected a number, got \"%s\"", s);
    if (v < min || v > max)
        FAIL("%s is out of range (%g to %g)", s, min, max);
    *out = v;
    return 0;
}

int parse_int(const char *s, long min, long max, long *out, char *err, size_t err_size)
{
    if (!s || !*s || isspace((unsigned char)*s))
        FAIL("expected a whole number, got \"%s\"", s ? s : "");
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end)
        FAIL("expected a whole number, got \"%s\"", s);
    if (v < min || v > max)
        FAIL("%s is out of range (%ld to %ld)", s, min, max);
    *out = v;
    return 0;
}

int parse_size(const char *s, int *w, int *h, char *err, size_t err_size)
{
    const char *x = s ? strchr(s, 'x') : NULL;
    if (!x)
        FAIL("size must be WIDTHxHEIGHT such as 1280x720, got \"%s\"", s ? s : "");
    char wbuf[16];
    size_t wlen = (size_t)(x - s);
    if (wlen == 0 || wlen >= sizeof(wbuf))
        FAIL("size must be WIDTHxHEIGHT such as 1280x720, got \"%s\"", s);
    memcpy(wbuf, s, wlen);
    wbuf[wlen] = 0;
    long lw, lh;
    char sub[128];
    if (parse_int(wbuf, 0, 1000000, &lw, sub, sizeof(sub)) < 0 ||
        parse_int(x + 1, 0, 1000000, &lh, sub, sizeof(sub)) < 0)
        FAIL("size must be WIDTHxHEIGHT such as 1280x720, got \"%s\"", s);
    if (lw < 16 || lw > 7680 || lh < 16 || lh > 4320)
        FAIL("size %s is out of range (16x16 to 7680x4320)", s);
    if (lw % 2 || lh % 2)
        FAIL("size %s must have an even width and height (4:2:0 chroma)", s);
    *w = (int)lw;
    *h = (int)lh;
    return 0;
}

int parse_fps(const char *s, int *num, int *den, char *err, size_t err_size)
{
    char sub[128];
    const char *slash = s ? strchr(s, '/') : NULL;
    if (slash) {
        char nbuf[16];
        size_t nlen = (size_t)(slash - s);
        long n, d;
        if (nlen == 0 || nlen >= sizeof(nbuf))
            FAIL("frame rate must be like 30 or 30000/1001, got \"%s\"", s);
        memcpy(nbuf, s, nlen);
        nbuf[nlen] = 0;
        if (parse_int(nbuf, 1, 1000000, &n, sub, sizeof(sub)) < 0 ||
            parse_int(slash + 1, 1, 1000000, &d, sub, sizeof(sub)) < 0)
            FAIL("frame rate must be like 30 or 30000/1001, got \"%s\"", s);
        if ((double)n / (double)d < 1 || (double)n / (double)d > 240)
            FAIL("frame rate %s is out of range (1 to 240)", s);
        *num = (int)n;
        *den = (int)d;
        return 0;
    }
    double v;
    if (parse_double(s, -INFINITY, INFINITY, &v, sub, sizeof(sub)) < 0)
        FAIL("frame rate must be like 30 or 30000/1001, got \"%s\"", s ? s : "");
    if (v < 1 || v > 240)
        FAIL("frame rate %s is out of range (1 to 240)", s);
    if (v == floor(v)) {
        *num = (int)v;
        *den = 1;
    } else {
        *num = (int)llround(v * 1000);
        *den = 1000;
    }
    return 0;
}

int parse_kbps(const char *s, int min_kbps, int max_kbps, int *kbps, char *err, size_t err_size)
{
    if (!s || !*s)
        FAIL("expected a rate such as 1500k, got \"\"");
    size_t len = strlen(s);
    char buf[32];
    if (len >= sizeof(buf))
        FAIL("expected a rate such as 1500k, got \"%s\"", s);
    memcpy(buf, s, len + 1);
    double scale = 1.0 / 1000; /* plain numbers are bits per second */
    char suffix = buf[len - 1];
    if (suffix == 'k' || suffix == 'K') {
        scale = 1;
        buf[len - 1] = 0;
    } else if (suffix == 'm' || suffix == 'M') {
        scale = 1000;
        buf[len - 1] = 0;
    }
    double v;
    char sub[128];
    if (parse_double(buf, 0, 1e12, &v, sub, sizeof(sub)) < 0)
        FAIL("expected a rate such as 1500k, got \"%s\"", s);
    double k = v * scale;
    if (k < min_kbps || k > max_kbps)
        FAIL("rate %s is out of range (%dk to %dk)", s, min_kbps, max_kbps);
    *kbps = (int)llround(k);
    return 0;
}

static const struct {
    const char *name;
    uint32_t rgb;
} colour_names[] = {
    {"black", 0x000000}, {"white", 0xffffff},  {"red", 0xff0000},     {"green", 0x00ff00},
    {"blue", 0x0000ff},  {"yellow", 0xffff00}, {"cyan", 0x00ffff},    {"magenta", 0xff00ff},
    {"grey", 0x808080},  {"gray", 0x808080},
};

int parse_rgb(const char *s, uint32_t *rgb, char *err, size_t err_size)
{
    if (!s)
        FAIL("expected a colour such as #00ff00");
    for (size_t i = 0; i < sizeof(colour_names) / sizeof(colour_names[0]); i++) {
        if (strcasecmp(s, colour_names[i].name) == 0) {
            *rgb = colour_names[i].rgb;
            return 0;
        }
    }
    const char *hex = s[0] == '#' ? s + 1 : s;
    if (strlen(hex) != 6)
        FAIL("expected a colour such as #00ff00 or green, got \"%s\"", s);
    for (int i = 0; i < 6; i++)
        if (!isxdigit((unsigned char)hex[i]))
            FAIL("expected a colour such as #00ff00 or green, got \"%s\"", s);
    *rgb = (uint32_t)strtoul(hex, NULL, 16);
    return 0;
}
