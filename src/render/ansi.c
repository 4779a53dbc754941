/*
 * ansi — escape-sequence filter: SGR colours honoured or dropped, everything else dropped
 * (see ansi.h for the contract). A small state machine in the spirit of the DEC/ECMA-48 parser
 * that terminals use, cut down to "recognise where a sequence ends" plus SGR.
 */
#include "render/ansi.h"

#include <string.h>

enum state {
    ST_GROUND,
    ST_ESC,       /* after ESC */
    ST_ESC_INTER, /* ESC then intermediates 0x20–0x2F: waiting for the final byte */
    ST_CSI,       /* ESC [ : parameters, intermediates, final 0x40–0x7E */
    ST_STRING,    /* OSC, DCS, SOS, PM, APC: up to BEL or ST (ESC \) */
    ST_STRING_ESC /* ESC inside a string: \ ends it, anything else starts a new sequence */
};

#define ESC 0x1B
#define PARAM_MAX 65535

uint32_t ansi_palette_rgb(int index)
{
    static const uint32_t basic[16] = {0x000000, 0xcd0000, 0x00cd00, 0xcdcd00, 0x0000ee, 0xcd00cd,
                                       0x00cdcd, 0xe5e5e5, 0x7f7f7f, 0xff0000, 0x00ff00, 0xffff00,
                                       0x5c5cff, 0xff00ff, 0x00ffff, 0xffffff};
    if (index < 0 || index > 255)
        return 0;
    if (index < 16)
        return basic[index];
    if (index >= 232) {
        uint32_t g = 8 + 10 * (uint32_t)(index - 232);
        return g << 16 | g << 8 | g;
    }
    static const uint8_t level[6] = {0, 95, 135, 175, 215, 255};
    int i = index - 16;
    return (uint32_t)level[i / 36] << 16 | (uint32_t)level[i / 6 % 6] << 8 | level[i % 6];
}

static void update_colours(struct ansi_parser *p)
{
    uint32_t fg = p->fg_rgb, bg = p->bg_rgb;
    if (p->fg_index >= 0)
        fg = ansi_palette_rgb(p->bold && p->fg_index < 8 ? p->fg_index + 8 : p->fg_index);
    if (p->bg_index >= 0)
        bg = ansi_palette_rgb(p->bg_index);
    p->fg = p->inverse ? bg : fg;
    p->bg = p->inverse ? fg : bg;
}

static void reset_attributes(struct ansi_parser *p)
{
    p->fg_index = p->bg_index = -1;
    p->fg_rgb = ANSI_COLOUR_DEFAULT_FG;
    p->bg_rgb = ANSI_COLOUR_DEFAULT_BG;
    p->bold = p->inverse = false;
}

void ansi_parser_init(struct ansi_parser *p, bool honour)
{
    memset(p, 0, sizeof(*p));
    p->honour = honour;
    p->state = ST_GROUND;
    reset_attributes(p);
    update_colours(p);
}

/* 38;5;n or 38;2;r;g;b (and 48;…) starting at params[i] == 38/48. Returns how many parameters
 * it used beyond params[i]; sets *index or *rgb, or neither when malformed. */
static int extended_colour(const struct ansi_parser *p, int i, int *index, uint32_t *rgb)
{
    int n = p->nparams < ANSI_MAX_PARAMS ? p->nparams : ANSI_MAX_PARAMS;
    if (i + 1 >= n)
        return 0;
    if (p->params[i + 1] == 5) {
        if (i + 2 >= n)
            return n - i - 1;
        if (p->params[i + 2] <= 255) {
            *index = p->params[i + 2];
            *rgb = 0;
        }
        return 2;
    }
    if (p->params[i + 1] == 2) {
        if (i + 4 >= n)
            return n - i - 1;
        int r = p->params[i + 2], g = p->params[i + 3], b = p->params[i + 4];
        if (r <= 255 && g <= 255 && b <= 255) {
            *index = -1;
            *rgb = (uint32_t)r << 16 | (uint32_t)g << 8 | (uint32_t)b;
        }
        return 4;
    }
    return 1; /* unknown colour model: skip its selector only */
}

static void apply_sgr(struct ansi_parser *p)
{
    int n = p->nparams < ANSI_MAX_PARAMS ? p->nparams : ANSI_MAX_PARAMS;
    for (int i = 0; i < n; i++) {
        int v = p->params[i];
        if (v == 0)
            reset_attributes(p);
        else if (v == 1)
            p->bold = true;
        else if (v == 22)
            p->bold = false;
        else if (v == 7)
            p->inverse = true;
        else if (v == 27)
            p->inverse = false;
        else if (v >= 30 && v <= 37)
            p->fg_index = v - 30;
        else if (v >= 90 && v <= 97)
            p->fg_index = v - 90 + 8;
        else if (v == 39)
            p->fg_index = -1, p->fg_rgb = ANSI_COLOUR_DEFAULT_FG;
        else if (v >= 40 && v <= 47)
            p->bg_index = v - 40;
        else if (v >= 100 && v <= 107)
            p->bg_index = v - 100 + 8;
        else if (v == 49)
            p->bg_index = -1, p->bg_rgb = ANSI_COLOUR_DEFAULT_BG;
        else if (v == 38)
            i += extended_colour(p, i, &p->fg_index, &p->fg_rgb);
        else if (v == 48)
            i += extended_colour(p, i, &p->bg_index, &p->bg_rgb);
        /* anything else (italic, underline, blink, fonts …): ignored */
    }
    update_colours(p);
}

static enum ansi_action ground(struct ansi_parser *p, uint32_t cp)
{
    switch (cp) {
    case '\n':
        return ANSI_NEWLINE;
    case '\r':
        return ANSI_CR;
    case '\t':
        return ANSI_TAB;
    case ESC:
        p->state = ST_ESC;
        return ANSI_NONE;
    default:
        break;
    }
    if (cp < 0x20 || (cp >= 0x7F && cp <= 0x9F))
        return ANSI_NONE; /* other C0, DEL, C1: dropped */
    return ANSI_PRINT;
}

static void start_csi(struct ansi_parser *p)
{
    p->state = ST_CSI;
    p->nparams = 1;
    p->params[0] = 0;
    p->sgr_ok = true;
}

/* One code point in a sequence state. Returns false when the code point cannot belong to the
 * sequence: the sequence is abandoned and the caller handles the code point from ground. */
static bool in_sequence(struct ansi_parser *p, uint32_t cp)
{
    switch (p->state) {
    case ST_ESC:
        if (cp == '[')
            start_csi(p);
        else if (cp == ']' || cp == 'P' || cp == 'X' || cp == '^' || cp == '_')
            p->state = ST_STRING;
        else if (cp >= 0x20 && cp <= 0x2F)
            p->state = ST_ESC_INTER;
        else if (cp >= 0x30 && cp <= 0x7E)
            p->state = ST_GROUND; /* a complete ESC sequence (ESC c, ESC 7 …): dropped */
        else if (cp != ESC)
            return false;
        return true;
    case ST_ESC_INTER:
        if (cp >= 0x30 && cp <= 0x7E)
            p->state = ST_GROUND;
        else if (cp == ESC)
            p->state = ST_ESC;
        else if (cp < 0x20 || cp > 0x2F)
            return false;
        return true;
    case ST_CSI:
        if (cp >= '0' && cp <= '9') {
            if (p->nparams <= ANSI_MAX_PARAMS) {
                int *v = &p->params[p->nparams - 1];
                *v = *v * 10 + (int)(cp - '0');
                if (*v > PARAM_MAX)
                    *v = PARAM_MAX;
            }
        } else if (cp == ';' || cp == ':') {
            if (p->nparams < ANSI_MAX_PARAMS)
                p->params[p->nparams] = 0;
            if (p->nparams <= ANSI_MAX_PARAMS)
                p->nparams++;
        } else if ((cp >= 0x3C && cp <= 0x3F) || (cp >= 0x20 && cp <= 0x2F)) {
            p->sgr_ok = false; /* private marker or intermediate: not an SGR */
        } else if (cp >= 0x40 && cp <= 0x7E) {
            p->state = ST_GROUND;
            if (cp == 'm' && p->sgr_ok && p->honour)
                apply_sgr(p);
        } else if (cp == ESC) {
            p->state = ST_ESC;
        } else {
            return false;
        }
        return true;
    case ST_STRING:
        if (cp == 0x07 || cp == 0x18 || cp == 0x1A)
            p->state = ST_GROUND; /* BEL ends it (xterm); CAN and SUB cancel it */
        else if (cp == ESC)
            p->state = ST_STRING_ESC;
        else if (cp == '\n')
            return false;
        return true;
    case ST_STRING_ESC:
        if (cp == '\\') {
            p->state = ST_GROUND;
            return true;
        }
        p->state = ST_ESC;
        return in_sequence(p, cp);
    default:
        return false;
    }
}

enum ansi_action ansi_parser_feed(struct ansi_parser *p, uint32_t cp)
{
    if (p->state == ST_GROUND)
        return ground(p, cp);
    if (in_sequence(p, cp))
        return ANSI_NONE;
    p->state = ST_GROUND;
    return ground(p, cp);
}
