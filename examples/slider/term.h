/*
 * term.h - the slider program's terminal layer: raw mode that is always undone, and keys read
 * either from the terminal or from a script written in a small escape syntax.
 *
 * Copyright (c) 2026 the libdss authors. MIT licence, see LICENSE.
 */
#ifndef SLIDER_TERM_H
#define SLIDER_TERM_H

#include <stddef.h>

/* Keys after decoding. Printable ASCII keys are their own code. */
enum {
    KEY_NONE = 0,       /* nothing (a lone Escape, an unknown sequence) */
    KEY_EOF = -1,       /* end of the script, or end of input */
    KEY_ERROR = -2,     /* read error (errno set) */
    KEY_INTERRUPTED = -3, /* a signal arrived (window resized, resumed after Ctrl-Z) */
    KEY_ENTER = 256,
    KEY_LEFT, KEY_RIGHT, KEY_UP, KEY_DOWN, KEY_HOME, KEY_END
};

/*
 * Switch the terminal on fd 0/1 to raw mode (no echo, no line buffering; Ctrl-C still sends
 * SIGINT), the alternate screen and a hidden cursor. From then on the terminal is restored on
 * exit() and return from main (atexit), on SIGINT, SIGTERM, SIGHUP and SIGQUIT (restore, then die
 * of the signal as usual) and around Ctrl-Z (SIGTSTP restores, SIGCONT re-enters raw mode).
 * Returns 0, or -1 when stdin or stdout is not a terminal (errno set).
 */
int term_enter(void);

/* Restore the terminal now (idempotent; also what the handlers call). */
void term_leave(void);

/* The window size; 0 on success, -1 when unknown. */
int term_size(int *rows, int *cols);

/* Write all of buf to stdout, retrying on EINTR and short writes. 0 or -1. */
int term_write(const char *buf, size_t len);

/*
 * Translate a key script into the bytes a terminal would send:
 *   \n or \r  Enter           \L \R \U \D  the arrow keys Left, Right, Up, Down
 *   \H \E     Home, End       \e  Escape       \\  a backslash     \xHH  the byte 0xHH
 *   #...      a comment up to the end of the line
 * White space (spaces, tabs, newlines) is ignored, so a script file can be laid out freely;
 * every other character is the key itself. On success *out (malloc'd, not NUL-terminated) and
 * *out_len are set and 0 is returned; on a malformed script -1, with a message in err.
 */
int keys_translate(const char *script, char **out, size_t *out_len, char *err, size_t err_cap);

/* A source of keys: a translated script (bytes != NULL) or a terminal file descriptor. */
typedef struct key_source {
    const unsigned char *bytes;
    size_t len, pos;
    int fd;
} key_source;

/* The next key: a KEY_* code or an ASCII character. Arrow keys arrive as ESC [ C etc. */
int key_next(key_source *src);

#endif
