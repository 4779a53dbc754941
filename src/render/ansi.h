/*
 * ansi — the escape-sequence filter of the terminal source (src/render/): decoded code points in,
 * "print this", "new line", "carriage return", "tab" out, with the current colours.
 *
 * Only SGR colours are honoured (and only when asked): 30–37, 90–97, 39, 40–47, 100–107, 49, 0,
 * 1/22 (bold brightens the eight basic foreground colours, as xterm does), 7/27 (inverse),
 * 38;5;n / 48;5;n (xterm's 256 colours) and 38;2;r;g;b / 48;2;r;g;b. Every other CSI, OSC, DCS,
 * SOS, PM, APC or ESC sequence is consumed and dropped: nothing in the text can move the cursor,
 * clear the screen or retitle anything. Control characters other than \n, \r and \t are dropped,
 * C1 controls (U+0080–U+009F) included.
 *
 * Line endings: \n is a new line (column 0 of the next row: the tty's onlcr that `tail -f` in an
 * xterm gets), a lone \r returns to column 0 of the current row so that what follows overwrites
 * it (progress bars redraw in place, as in the seed's xterm), and "\r\n" is therefore simply a
 * new line.
 *
 * Robustness for logs: a sequence is abandoned, not extended, by a character that cannot belong
 * to it, and that character is then handled normally; a string sequence (OSC …) also ends at a
 * new line, so one unterminated sequence cannot swallow the rest of a log.
 */
#ifndef AGENTCAST_RENDER_ANSI_H
#define AGENTCAST_RENDER_ANSI_H

#include <stdbool.h>
#include <stdint.h>

/* A colour: 0x00RRGGBB, or one of the two defaults (the terminal's configured fg and bg). */
#define ANSI_COLOUR_DEFAULT_FG 0x01000000u
#define ANSI_COLOUR_DEFAULT_BG 0x02000000u

enum ansi_action {
    ANSI_NONE,    /* consumed (part of a sequence, a dropped control) */
    ANSI_PRINT,   /* show the code point in the current colours */
    ANSI_NEWLINE, /* \n */
    ANSI_CR,      /* lone \r */
    ANSI_TAB,     /* \t */
};

#define ANSI_MAX_PARAMS 16

struct ansi_parser {
    /* Effective colours for ANSI_PRINT (bold and inverse applied). Read-only for callers. */
    uint32_t fg, bg;

    /* private */
    bool honour;
    int state;
    int params[ANSI_MAX_PARAMS];
    int nparams;
    bool sgr_ok; /* no private marker or intermediate seen: a real SGR if the final is 'm' */
    int fg_index, bg_index;  /* palette index 0–255, or -1 when fg_rgb/bg_rgb or default */
    uint32_t fg_rgb, bg_rgb; /* direct colour, or ANSI_COLOUR_DEFAULT_* */
    bool bold, inverse;
};

/* honour: SGR changes colours; false: SGR is dropped like everything else (--ansi strip). */
void ansi_parser_init(struct ansi_parser *p, bool honour);

/* Feeds one code point; for ANSI_PRINT the code point is the one fed. */
enum ansi_action ansi_parser_feed(struct ansi_parser *p, uint32_t cp);

/* xterm's default RGB of palette entry 0–255. */
uint32_t ansi_palette_rgb(int index);

#endif
