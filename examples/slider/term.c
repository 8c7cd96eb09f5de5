/*
 * term.c - raw mode that is always undone, and key decoding (see term.h).
 *
 * Copyright (c) 2026 the libdss authors. MIT licence, see LICENSE.
 */
#define _POSIX_C_SOURCE 200809L

#include "term.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h> /* TIOCGWINSZ: not POSIX, but on every terminal-bearing Unix */
#include <termios.h>
#include <unistd.h>

/* ---- raw mode ---------------------------------------------------------------------------------
 * `wanted` is 1 between term_enter and term_leave; `active` is 1 while the terminal is actually
 * in raw mode (it is not while the program is stopped by Ctrl-Z). Both are read by the signal
 * handlers, which call only async-signal-safe functions (tcsetattr, write, sigaction, raise). */

static struct termios saved;
static volatile sig_atomic_t wanted, active;

/* alternate screen, hidden cursor, cleared; and back: attributes off, cursor shown, main screen */
static const char enter_seq[] = "\x1b[?1049h\x1b[?25l\x1b[2J";
static const char leave_seq[] = "\x1b[0m\x1b[?25h\x1b[?1049l";

static void write_all(const char *s, size_t len) /* async-signal-safe */
{
    while (len > 0) {
        ssize_t w = write(STDOUT_FILENO, s, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;
        s += w;
        len -= (size_t)w;
    }
}

static int raw_on(void)
{
    struct termios raw = saved;
    raw.c_iflag &= ~(tcflag_t)(BRKINT | ICRNL | INPCK | ISTRIP | IXON);
    raw.c_cflag |= CS8;
    raw.c_lflag &= ~(tcflag_t)(ECHO | ICANON | IEXTEN); /* ISIG stays: Ctrl-C sends SIGINT */
    raw.c_cc[VMIN] = 1;
    raw.c_cc[VTIME] = 0;
    if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &raw) != 0)
        return -1;
    active = 1;
    write_all(enter_seq, sizeof enter_seq - 1);
    return 0;
}

static void raw_off(void)
{
    if (!active)
        return;
    active = 0;
    write_all(leave_seq, sizeof leave_seq - 1);
    tcsetattr(STDIN_FILENO, TCSADRAIN, &saved);
}

void term_leave(void)
{
    wanted = 0;
    raw_off();
}

/* SIGINT, SIGTERM, SIGHUP, SIGQUIT: restore, then die of the same signal (exit status 128 + sig).
   The signal is blocked while its handler runs, so raise() takes effect on return. */
static void on_fatal(int sig)
{
    int e = errno;
    term_leave();
    signal(sig, SIG_DFL);
    raise(sig);
    errno = e;
}

static void on_tstp(int sig)
{
    int e = errno;
    raw_off();
    signal(sig, SIG_DFL);
    raise(sig); /* stops the process once this handler returns */
    errno = e;
}

static void set_handler(int sig, void (*fn)(int))
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = fn;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0; /* no SA_RESTART: a blocked read() returns EINTR, and the screen is redrawn */
    sigaction(sig, &sa, NULL);
}

static void on_cont(int sig)
{
    int e = errno;
    (void)sig;
    set_handler(SIGTSTP, on_tstp);
    if (wanted && !active)
        raw_on();
    errno = e;
}

static void on_winch(int sig)
{
    (void)sig; /* nothing to do: interrupting read() is enough to get a redraw */
}

int term_enter(void)
{
    static int registered;
    if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
        errno = ENOTTY;
        return -1;
    }
    if (tcgetattr(STDIN_FILENO, &saved) != 0)
        return -1;
    if (!registered) {
        if (atexit(term_leave) != 0)
            return -1;
        registered = 1;
    }
    set_handler(SIGINT, on_fatal);
    set_handler(SIGTERM, on_fatal);
    set_handler(SIGHUP, on_fatal);
    set_handler(SIGQUIT, on_fatal);
    set_handler(SIGTSTP, on_tstp);
    set_handler(SIGCONT, on_cont);
    set_handler(SIGWINCH, on_winch);
    wanted = 1;
    if (raw_on() != 0) {
        wanted = 0;
        return -1;
    }
    return 0;
}

int term_size(int *rows, int *cols)
{
    struct winsize ws;
    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) != 0 || ws.ws_row == 0 || ws.ws_col == 0)
        return -1;
    *rows = ws.ws_row;
    *cols = ws.ws_col;
    return 0;
}

int term_write(const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t w = write(STDOUT_FILENO, buf, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        buf += w;
        len -= (size_t)w;
    }
    return 0;
}

/* ---- key scripts ------------------------------------------------------------------------------ */

static int hex_digit(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int keys_translate(const char *script, char **out, size_t *out_len, char *err, size_t err_cap)
{
    size_t n = strlen(script), len = 0;
    char *buf = malloc(3 * n + 1); /* the longest expansion: \L (2 bytes) -> ESC [ D (3) */
    if (!buf) {
        snprintf(err, err_cap, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        char c = script[i];
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r')
            continue;
        if (c == '#') {
            while (i + 1 < n && script[i + 1] != '\n')
                i++;
            continue;
        }
        if (c != '\\') {
            buf[len++] = c;
            continue;
        }
        if (++i == n) {
            snprintf(err, err_cap, "the key script ends with a lone backslash");
            goto fail;
        }
        const char *arrow = NULL;
        switch (script[i]) {
        case 'n': case 'r': buf[len++] = '\r'; break;
        case 'e': buf[len++] = 0x1b; break;
        case '\\': buf[len++] = '\\'; break;
        case 'L': arrow = "D"; break;
        case 'R': arrow = "C"; break;
        case 'U': arrow = "A"; break;
        case 'D': arrow = "B"; break;
        case 'H': arrow = "H"; break;
        case 'E': arrow = "F"; break;
        case 'x': {
            int hi = i + 1 < n ? hex_digit(script[i + 1]) : -1;
            int lo = i + 2 < n ? hex_digit(script[i + 2]) : -1;
            if (hi < 0 || lo < 0) {
                snprintf(err, err_cap, "\\x needs two hex digits (at offset %zu)", i - 1);
                goto fail;
            }
            buf[len++] = (char)(hi * 16 + lo);
            i += 2;
            break;
        }
        default:
            snprintf(err, err_cap, "unknown escape \\%c at offset %zu (see --help)", script[i],
                     i - 1);
            goto fail;
        }
        if (arrow) {
            buf[len++] = 0x1b;
            buf[len++] = '[';
            buf[len++] = arrow[0];
        }
    }
    *out = buf;
    *out_len = len;
    return 0;
fail:
    free(buf);
    return -1;
}

/* ---- key decoding ----------------------------------------------------------------------------- */

enum { GOT_EOF = -1, GOT_ERROR = -2, GOT_EINTR = -3, GOT_TIMEOUT = -4 };

/* One byte; wait_ms < 0 blocks, otherwise a terminal read gives up after wait_ms. */
static int get_byte(key_source *src, int wait_ms)
{
    if (src->bytes)
        return src->pos < src->len ? src->bytes[src->pos++] : (wait_ms < 0 ? GOT_EOF : GOT_TIMEOUT);
    if (wait_ms >= 0) {
        struct pollfd p = { .fd = src->fd, .events = POLLIN, .revents = 0 };
        int r = poll(&p, 1, wait_ms);
        if (r == 0)
            return GOT_TIMEOUT;
        if (r < 0)
            return errno == EINTR ? GOT_EINTR : GOT_ERROR;
    }
    unsigned char c;
    ssize_t r = read(src->fd, &c, 1);
    if (r == 1)
        return c;
    if (r == 0)
        return GOT_EOF;
    return errno == EINTR ? GOT_EINTR : GOT_ERROR;
}

static void unget_byte(key_source *src)
{
    if (src->bytes && src->pos > 0)
        src->pos--;
}

/* Escape sequences of the keys we use: CSI or SS3 followed by a letter, or CSI digits '~'. */
static int decode_escape(key_source *src)
{
    const int wait = 50; /* ms: a terminal sends a sequence at once; a lone Escape stays alone */
    int c = get_byte(src, wait);
    if (c == GOT_EINTR)
        return KEY_INTERRUPTED;
    if (c != '[' && c != 'O') {
        if (c >= 0)
            unget_byte(src); /* Escape then an ordinary key: keep the key (scripts only) */
        return KEY_NONE;
    }
    int num = 0;
    for (;;) {
        int d = get_byte(src, wait);
        if (d == GOT_EINTR)
            return KEY_INTERRUPTED;
        if (d < 0)
            return KEY_NONE;
        if (d >= '0' && d <= '9') {
            num = num * 10 + (d - '0');
            if (num > 1000)
                return KEY_NONE;
            continue;
        }
        if (d == ';') /* modifiers (Shift, Ctrl): ignore them */
            continue;
        switch (d) {
        case 'A': return KEY_UP;
        case 'B': return KEY_DOWN;
        case 'C': return KEY_RIGHT;
        case 'D': return KEY_LEFT;
        case 'H': return KEY_HOME;
        case 'F': return KEY_END;
        case '~': return num == 1 || num == 7 ? KEY_HOME : num == 4 || num == 8 ? KEY_END : KEY_NONE;
        default: return KEY_NONE;
        }
    }
}

int key_next(key_source *src)
{
    int c = get_byte(src, -1);
    switch (c) {
    case GOT_EOF: return KEY_EOF;
    case GOT_ERROR: return KEY_ERROR;
    case GOT_EINTR: return KEY_INTERRUPTED;
    case 0x1b: return decode_escape(src);
    case '\r': case '\n': return KEY_ENTER;
    default: return c;
    }
}
