// ncursesw for Swift: the wide-character API plus the macros Swift cannot see, as functions.
#ifndef SHOAL_CNCURSES_SHIM_H
#define SHOAL_CNCURSES_SHIM_H

#ifndef _XOPEN_SOURCE_EXTENDED
#define _XOPEN_SOURCE_EXTENDED 1
#endif
#include <locale.h>
#include <stdio.h>
#include <wchar.h>
#include <langinfo.h>
#include <string.h>
#include <ncursesw/curses.h>
#include <sys/prctl.h>

static inline int shoal_a_bold(void) { return A_BOLD; }
static inline int shoal_a_reverse(void) { return A_REVERSE; }
static inline int shoal_a_dim(void) { return A_DIM; }
static inline int shoal_a_underline(void) { return A_UNDERLINE; }
static inline int shoal_color_pair(int n) { return COLOR_PAIR(n); }
static inline int shoal_lines(void) { return LINES; }
static inline int shoal_cols(void) { return COLS; }
static inline int shoal_key_resize(void) { return KEY_RESIZE; }
static inline int shoal_err(void) { return ERR; }

/// A screen on the process's stdin/stdout (C globals Swift 6 will not touch directly).
static inline SCREEN *shoal_newterm(void) { return newterm(NULL, stdout, stdin); }
static inline int shoal_keypad_on(void) { return keypad(stdscr, TRUE); }
/* The next refresh repaints every cell: after a theme change, whose colours ncurses cannot diff. */
static inline int shoal_repaint_all(void) { return clearok(curscr, TRUE); }
static inline int shoal_colors(void) { return COLORS; }
static inline int shoal_locale_is_utf8(void) {
    const char *codeset = nl_langinfo(CODESET);
    return codeset != NULL && (strcmp(codeset, "UTF-8") == 0 || strcmp(codeset, "utf8") == 0);
}

/// Puts one styled wide character (a grapheme's first scalar) at (y, x) of stdscr.
static inline int shoal_put_cell(int y, int x, wchar_t ch, int attributes, short pair) {
    cchar_t cell;
    wchar_t text[2] = { ch, L'\0' };
    setcchar(&cell, text, (attr_t)attributes, pair, NULL);
    return mvadd_wch(y, x, &cell);
}

/// Reads one key (or a wide character); returns ERR on timeout.
static inline int shoal_get_key(wint_t *out) {
    return get_wch(out);
}

/// Asks for left clicks and the wheel; presses are reported at once (no click interval).
static inline void shoal_mouse_on(void) {
    mmask_t mask = BUTTON1_PRESSED | BUTTON4_PRESSED;
#ifdef BUTTON5_PRESSED
    mask |= BUTTON5_PRESSED;
#endif
    mousemask(mask, NULL);
    mouseinterval(0);
}
static inline int shoal_key_mouse(void) { return KEY_MOUSE; }

/// The pending mouse event: 1 left press, 4 wheel up, 5 wheel down, 0 anything else.
static inline int shoal_get_mouse(int *x, int *y) {
    MEVENT event;
    if (getmouse(&event) != OK) return 0;
    *x = event.x;
    *y = event.y;
    if (event.bstate & BUTTON1_PRESSED) return 1;
    if (event.bstate & BUTTON4_PRESSED) return 4;
#ifdef BUTTON5_PRESSED
    if (event.bstate & BUTTON5_PRESSED) return 5;
#endif
    return 0;
}

/// Names the calling thread (as `top -H`, `perf` and /proc show it); prctl is variadic, which
/// Swift cannot call.
static inline void shoal_name_this_thread(const char *name) { prctl(PR_SET_NAME, name, 0, 0, 0); }

#endif
