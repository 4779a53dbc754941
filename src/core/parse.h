/*
 * parse — strict parsers for command-line and config values. Each returns 0, or -EINVAL with a
 * one-line reason in err that names what was expected.
 */
#ifndef AGENTCAST_CORE_PARSE_H
#define AGENTCAST_CORE_PARSE_H

#include <stddef.h>
#include <stdint.h>

/* "1280x720": both even, 16 ≤ w ≤ 7680, 16 ≤ h ≤ 4320. */
int parse_size(const char *s, int *w, int *h, char *err, size_t err_size);
/* "30", "29.97" or "30000/1001": 1 ≤ fps ≤ 240. */
int parse_fps(const char *s, int *num, int *den, char *err, size_t err_size);
/* ffmpeg-style rate: "1500k", "1.5M", or bits per second ("1500000"); result in kbit/s within
 * [min_kbps, max_kbps]. */
int parse_kbps(const char *s, int min_kbps, int max_kbps, int *kbps, char *err, size_t err_size);
/* A decimal number within [min, max] (both inclusive). */
int parse_double(const char *s, double min, double max, double *out, char *err, size_t err_size);
/* An integer within [min, max]. */
int parse_int(const char *s, long min, long max, long *out, char *err, size_t err_size);
/* "#00ff00", "00ff00", or one of black white red green blue yellow cyan magenta grey. */
int parse_rgb(const char *s, uint32_t *rgb, char *err, size_t err_size);

#endif
