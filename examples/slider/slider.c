/*
 * slider.c - an interactive terminal host for libdss: explore a procedural image model with one
 * slider at a time.
 *
 * The generator (picture.c) turns a 32-dimensional latent vector into a 36 x 36 grey image. libdss
 * picks the slider's direction in latent space from the singular vectors of the generator's
 * Jacobian (by finite differences here: the program gives no derivative callback), and maps the
 * slider's position to a latent point. The screen shows the image, the slider, the iteration and
 * the singular value of the direction on show, with previews of the slider's two ends.
 *
 * What the host calls, and when (docs/embedding.md says more):
 *     slider moved       dss_search_point(t)     then draw f(z)
 *     Enter (release)    dss_search_commit(t)    the centre moves; a new direction is drawn
 *     n (next)           dss_search_resample()   same centre, another direction
 *     u (undo)           dss_search_undo()       back to before the last commit or resample
 *     after any of them  dss_search_basis_indices, dss_search_singular_values,
 *                        dss_search_slider_ends  to redraw the panel
 *
 * Keys: Left/Right (or h/l) move the slider by 1/40, Up/Down (or k/j) by 1/8, Home/End go to the
 * ends; Enter commits, n asks for another direction, u undoes, s saves the image as PGM, q quits.
 *
 * Usage: slider [--seed S] [--start FILE] [--out DIR] [--latent FILE] [--color MODE]
 *               [--keys SCRIPT | --keys-file FILE] [--smoke] [--render LATENT PGM] [--help]
 * (`slider --help` explains each; the key script syntax is in term.h and in --help.)
 *
 * Build: `make slider` in the source tree (build/examples/slider/slider), or against an
 * installed libdss:
 *     cc -std=c11 slider.c picture.c term.c -o slider $(pkg-config --cflags --libs dss) -lm
 *
 * Copyright (c) 2026 the libdss authors. MIT licence, see LICENSE.
 */
#define _POSIX_C_SOURCE 200809L

#include <dss/dss.h>

#include "picture.h"
#include "term.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define STEPS 40    /* slider positions 0..STEPS; t = pos / STEPS */
#define COARSE 5    /* Up/Down move this many steps */
#define HISTORY 64  /* undo steps (DSS_SEARCH_HISTORY is set to the same) */
#define THUMB 18    /* slider-end previews: PIC_W / 2 pixels square */

enum color_mode { COLOR_NONE, COLOR_256, COLOR_TRUE };
enum action { ACT_COMMIT, ACT_RESAMPLE };

typedef struct app {
    picture pic;
    dss_model *model;
    dss_search *search;
    int pos;                    /* slider position, 0..STEPS */
    int iteration;              /* commits, net of undone ones */
    int hist[HISTORY];          /* kinds of the undoable steps, a ring */
    int hist_len, hist_top;
    size_t rank, dir;           /* singular values held; index of the shown direction */
    double sv[PIC_N];
    double z[PIC_N];            /* latent point under the slider */
    double x[PIC_M];            /* its image */
    double x_lo[PIC_M], x_hi[PIC_M]; /* images at the slider's ends */
    char message[200];
    int saves;                  /* images saved so far */
    int errors;                 /* library or file errors met (exit status 1 when any) */
    const char *out_dir;
    unsigned long long seed;
    enum color_mode color;
    int screen;                 /* 1: draw on the terminal; 0: print messages (scripted run) */
    int rows, cols;             /* the terminal size at the last frame (0: clear before the next) */
} app;

static void say(app *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(a->message, sizeof a->message, fmt, ap);
    va_end(ap);
    if (!a->screen)
        printf("%s\n", a->message);
}

/* A library call failed: say so; the session is unchanged (libdss's strong guarantee). */
static void failed(app *a, const char *what, int rc)
{
    a->errors++;
    say(a, "%s failed: %s", what, dss_strerror(rc));
    if (a->screen)
        return;
    fprintf(stderr, "slider: %s failed: %s (%d)\n", what, dss_strerror(rc), rc);
}

static double slider_t(const app *a)
{
    return (double)a->pos / STEPS;
}

/* ---- reading the session after it changed ------------------------------------------------- */

/* The image under the slider: dss_search_point, then the generator. */
static int refresh_point(app *a)
{
    int rc = dss_search_point(a->search, slider_t(a), a->z);
    if (rc == DSS_OK)
        rc = dss_model_generate(a->model, 1, a->z, a->x);
    if (rc != DSS_OK)
        failed(a, "dss_search_point", rc);
    return rc;
}

/* The panel: which direction is shown, how strong it is, and where its ends lead. */
static int refresh_direction(app *a)
{
    double lo[PIC_N], hi[PIC_N];
    int rc;
    a->rank = dss_search_rank(a->search);
    if (a->rank > PIC_N)
        a->rank = PIC_N;
    if ((rc = dss_search_basis_indices(a->search, &a->dir)) != DSS_OK
        || (rc = dss_search_singular_values(a->search, a->sv, PIC_N)) != DSS_OK
        || (rc = dss_search_slider_ends(a->search, lo, hi)) != DSS_OK
        || (rc = dss_model_generate(a->model, 1, lo, a->x_lo)) != DSS_OK
        || (rc = dss_model_generate(a->model, 1, hi, a->x_hi)) != DSS_OK) {
        failed(a, "reading the session", rc);
        return rc;
    }
    a->pos = STEPS / 2; /* a new slider starts in the middle, at the centre */
    return refresh_point(a);
}

static double session_stat(const app *a, int key)
{
    double v = 0.0;
    dss_search_stat(a->search, key, &v);
    return v;
}

static const char *ordinal(size_t i)
{
    size_t k = i % 100;
    if (k >= 11 && k <= 13)
        return "th";
    switch (i % 10) {
    case 1: return "st";
    case 2: return "nd";
    case 3: return "rd";
    default: return "th";
    }
}

/* ---- the actions ----------------------------------------------------------------------------- */

static void push_action(app *a, int kind)
{
    a->hist_top = (a->hist_top + 1) % HISTORY;
    a->hist[a->hist_top] = kind;
    if (a->hist_len < HISTORY)
        a->hist_len++; /* else the oldest is forgotten, as libdss forgets its oldest step */
}

static void move_slider(app *a, int delta)
{
    int pos = a->pos + delta;
    pos = pos < 0 ? 0 : pos > STEPS ? STEPS : pos;
    if (pos == a->pos)
        return;
    a->pos = pos;
    if (refresh_point(a) == DSS_OK)
        say(a, "t = %.3f", slider_t(a));
}

static void commit(app *a)
{
    double t = slider_t(a);
    double svds = session_stat(a, DSS_STAT_DECOMPOSITIONS);
    double points = session_stat(a, DSS_STAT_POINTS);
    int rc = dss_search_commit(a->search, t);
    if (rc != DSS_OK) {
        failed(a, "dss_search_commit", rc);
        return;
    }
    a->iteration++;
    push_action(a, ACT_COMMIT);
    refresh_direction(a);
    if (session_stat(a, DSS_STAT_DECOMPOSITIONS) > svds)
        say(a, "committed t = %.3f: iteration %d, Jacobian recomputed (%.0f images)", t,
            a->iteration, session_stat(a, DSS_STAT_POINTS) - points);
    else
        say(a, "committed t = %.3f: iteration %d, near the middle: same SVD, new direction", t,
            a->iteration);
}

static void resample(app *a)
{
    int rc = dss_search_resample(a->search);
    if (rc != DSS_OK) {
        failed(a, "dss_search_resample", rc);
        return;
    }
    push_action(a, ACT_RESAMPLE);
    refresh_direction(a);
    say(a, "another direction: v%zu", a->dir + 1);
}

static void undo(app *a)
{
    int rc = dss_search_undo(a->search);
    if (rc == DSS_ESTATE) {
        say(a, "nothing to undo");
        return;
    }
    if (rc != DSS_OK) {
        failed(a, "dss_search_undo", rc);
        return;
    }
    int kind = ACT_RESAMPLE;
    if (a->hist_len > 0) {
        kind = a->hist[a->hist_top];
        a->hist_top = (a->hist_top + HISTORY - 1) % HISTORY;
        a->hist_len--;
    }
    if (kind == ACT_COMMIT)
        a->iteration--;
    refresh_direction(a);
    if (kind == ACT_COMMIT)
        say(a, "undone: back to iteration %d, direction v%zu", a->iteration, a->dir + 1);
    else
        say(a, "undone: direction v%zu is back", a->dir + 1);
}

static void save(app *a)
{
    char path[4096];
    int len = snprintf(path, sizeof path, "%s/slider-%03d.pgm", a->out_dir, a->saves + 1);
    if (len < 0 || (size_t)len >= sizeof path) {
        a->errors++;
        say(a, "save failed: the --out path is too long");
        return;
    }
    if (picture_write_pgm(path, a->x, PIC_W, PIC_H) != 0) {
        a->errors++;
        say(a, "save failed: %s: %s", path, strerror(errno));
        return;
    }
    a->saves++;
    say(a, "saved %s", path);
}

/* ---- drawing ----------------------------------------------------------------------------------- */

typedef struct sbuf {
    char *p;
    size_t len, cap;
    int oom;
} sbuf;

static void put(sbuf *b, const char *fmt, ...)
{
    if (b->oom)
        return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->oom = 1;
            return;
        }
        if ((size_t)n < b->cap - b->len) {
            b->len += (size_t)n;
            return;
        }
        size_t cap = 2 * b->cap + (size_t)n + 1;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->oom = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
}

/* xterm's 256 colours: 16 is black, 231 white, 232..255 the greys 8, 18, ..., 238. */
static int grey256(int g)
{
    int best = 16, err = g;
    if (255 - g < err) {
        best = 231;
        err = 255 - g;
    }
    for (int i = 0; i < 24; i++) {
        int e = abs(g - (8 + 10 * i));
        if (e < err) {
            best = 232 + i;
            err = e;
        }
    }
    return best;
}

static void set_grey(sbuf *b, enum color_mode mode, int background, int g)
{
    if (mode == COLOR_TRUE)
        put(b, "\x1b[%d;2;%d;%d;%dm", background ? 48 : 38, g, g, g);
    else
        put(b, "\x1b[%d;5;%dm", background ? 48 : 38, grey256(g));
}

/* Draw a w x h grey image at (row, col), two pixels per cell: the upper half block shows the top
   pixel in the foreground colour over the bottom pixel in the background colour. */
static void draw_image(sbuf *b, enum color_mode mode, int row, int col, const double *img, int w,
                       int h)
{
    static const char ramp[] = " .:-=+*#%@";
    for (int r = 0; r < h / 2; r++) {
        put(b, "\x1b[%d;%dH", row + r, col);
        int fg = -1, bg = -1;
        for (int c = 0; c < w; c++) {
            int top = picture_grey(img[(2 * r) * w + c]);
            int bottom = picture_grey(img[(2 * r + 1) * w + c]);
            if (mode == COLOR_NONE) {
                put(b, "%c", ramp[(top + bottom) * 10 / 511]);
                continue;
            }
            if (top != fg) {
                set_grey(b, mode, 0, top);
                fg = top;
            }
            if (bottom != bg) {
                set_grey(b, mode, 1, bottom);
                bg = bottom;
            }
            put(b, "\xe2\x96\x80"); /* U+2580 UPPER HALF BLOCK */
        }
        put(b, "\x1b[0m");
    }
}

static void shrink(const double *img, double *out) /* PIC_W x PIC_H -> THUMB x THUMB by 2x2 means */
{
    for (int r = 0; r < THUMB; r++)
        for (int c = 0; c < THUMB; c++)
            out[r * THUMB + c] = 0.25 * (img[(2 * r) * PIC_W + 2 * c] + img[(2 * r) * PIC_W + 2 * c + 1]
                                         + img[(2 * r + 1) * PIC_W + 2 * c]
                                         + img[(2 * r + 1) * PIC_W + 2 * c + 1]);
}

static void draw_screen(app *a)
{
    sbuf b = { NULL, 0, 0, 0 };
    int rows = 24, cols = 80;
    int uni = a->color != COLOR_NONE;
    if (term_size(&rows, &cols) != 0) {
        rows = 24;
        cols = 80;
    }
    /* Clear the screen only when it may hold something else (first frame, new size, back from
       Ctrl-Z); otherwise every frame overwrites the last in place, which does not flicker: each
       image row is rewritten whole, and each text line is followed by erase-to-end-of-line. */
    put(&b, "\x1b[0m");
    if (rows != a->rows || cols != a->cols)
        put(&b, "\x1b[2J");
    a->rows = rows;
    a->cols = cols;
    if (rows < 24 || cols < 80) {
        put(&b, "\x1b[H The slider needs an 80 x 24 terminal; this one is %d x %d.\r\n q quits.",
            cols, rows);
        goto out;
    }
    put(&b, "\x1b[1;2H\x1b[1mlibdss slider\x1b[0m  differential subspace search  "
            "(n = %d, m = %d x %d)   seed %llu\x1b[K", PIC_N, PIC_W, PIC_H, a->seed);

    /* the image under the slider, 36 x 18 cells, rows 3..20 */
    draw_image(&b, a->color, 3, 3, a->x, PIC_W, PIC_H);

    /* the panel: iteration, the direction and its singular value, the spectrum, the ends */
    const int pc = 42;
    double s = a->rank > 0 ? a->sv[a->dir < a->rank ? a->dir : 0] : 0.0;
    double s1 = a->rank > 0 ? a->sv[0] : 0.0;
    put(&b, "\x1b[3;%dH\x1b[1miteration %d\x1b[0m\x1b[K", pc, a->iteration);
    put(&b, "\x1b[4;%dHdirection v%zu: %zu%s strongest of %zu\x1b[K", pc, a->dir + 1,
        a->dir + 1, ordinal(a->dir + 1), a->rank);
    put(&b, "\x1b[5;%dH%s = %.4g  (%s = %.4g, ratio %.2f)\x1b[K", pc, uni ? "\xcf\x83" : "s", s,
        uni ? "\xcf\x83\xe2\x82\x81" : "s1", s1, s1 > 0 ? s / s1 : 0.0);
    put(&b, "\x1b[7;%dHsingular values, the shown one marked:", pc);
    put(&b, "\x1b[8;%dH", pc);
    for (size_t i = 0; i < a->rank; i++) {
        int level = s1 > 0 ? (int)ceil(8.0 * a->sv[i] / s1) : 1;
        level = level < 1 ? 1 : level > 8 ? 8 : level;
        if (uni) /* U+2581..U+2588, lower one-eighth block to full block */
            put(&b, "%s\xe2\x96%c", i == a->dir ? "\x1b[1m" : "\x1b[2m", (char)(0x80 + level));
        else
            put(&b, "%c", "_.:-=+*#"[level - 1]);
    }
    put(&b, "\x1b[0m\x1b[K\x1b[9;%dH%*s^\x1b[K", pc, (int)a->dir, "");

    double lo[THUMB * THUMB], hi[THUMB * THUMB];
    shrink(a->x_lo, lo);
    shrink(a->x_hi, hi);
    put(&b, "\x1b[11;%dHslider end t = 0\x1b[11;%dHt = 1", pc, pc + THUMB + 2);
    draw_image(&b, a->color, 12, pc, lo, THUMB, THUMB);
    draw_image(&b, a->color, 12, pc + THUMB + 2, hi, THUMB, THUMB);

    /* the slider: one cell per position, the middle marked */
    put(&b, "\x1b[22;2Hslider t = %.3f  0 [", slider_t(a));
    for (int i = 0; i <= STEPS; i++) {
        if (i == a->pos)
            put(&b, "\x1b[1m%s\x1b[0m", uni ? "\xe2\x96\x88" : "#");
        else
            put(&b, "%c", i == STEPS / 2 ? '|' : '-');
    }
    put(&b, "] 1\x1b[K");
    put(&b, "\x1b[23;2H%.78s\x1b[K", a->message);
    put(&b, "\x1b[24;2H%s move  %s x5  Enter commit  n next direction  u undo  s save  q quit\x1b[K",
        uni ? "\xe2\x86\x90/\xe2\x86\x92" : "<-/->", uni ? "\xe2\x86\x91/\xe2\x86\x93" : "up/dn");
out:
    if (!b.oom)
        term_write(b.p, b.len);
    free(b.p);
}

/* ---- files ------------------------------------------------------------------------------------ */

static int read_latent(const char *path, double *z)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "slider: %s: %s\n", path, strerror(errno));
        return -1;
    }
    int ok = 1;
    for (int j = 0; ok && j < PIC_N; j++)
        ok = fscanf(f, "%lf", &z[j]) == 1 && isfinite(z[j]);
    char extra;
    if (ok && fscanf(f, " %c", &extra) == 1)
        ok = 0;
    fclose(f);
    if (!ok)
        fprintf(stderr, "slider: %s: expected %d finite numbers\n", path, PIC_N);
    return ok ? 0 : -1;
}

static int write_latent(const char *path, const double *z)
{
    FILE *f = fopen(path, "w");
    int ok = f != NULL;
    for (int j = 0; ok && j < PIC_N; j++)
        ok = fprintf(f, "%.17g\n", z[j]) > 0;
    if (f && fclose(f) != 0)
        ok = 0;
    if (!ok)
        fprintf(stderr, "slider: cannot write %s: %s\n", path, strerror(errno));
    return ok ? 0 : -1;
}

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t len = 0, cap = 4096;
    char *buf = malloc(cap);
    while (buf) {
        len += fread(buf + len, 1, cap - 1 - len, f);
        if (len < cap - 1)
            break;
        char *p = realloc(buf, 2 * cap);
        if (!p) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = p;
        cap *= 2;
    }
    if (buf && ferror(f)) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    if (buf)
        buf[len] = '\0';
    return buf;
}

/* ---- main ------------------------------------------------------------------------------------- */

static void usage(FILE *out)
{
    fputs("usage: slider [options]\n"
          "Explore a procedural image model with libdss, one slider direction at a time.\n"
          "\n"
          "keys   Left/Right or h/l  move the slider by 1/40    Up/Down or k/j  by 1/8\n"
          "       Home/End  slider ends    Enter  commit (the centre moves there)\n"
          "       n  another direction     u  undo the last commit or direction change\n"
          "       s  save the image (PGM)  q  quit\n"
          "\n"
          "options\n"
          "  --seed S          start point and direction draws (default 1)\n"
          "  --start FILE      start at the latent vector in FILE (32 numbers)\n"
          "  --out DIR         directory for saved images slider-001.pgm, ... (default .)\n"
          "  --latent FILE     on quit, write the centre (32 numbers, one a line) to FILE\n"
          "  --color MODE      auto (default), 256, true (24-bit) or none (ASCII art)\n"
          "  --keys SCRIPT     take keys from SCRIPT instead of the terminal, print what\n"
          "                    happens, quit at its end\n"
          "  --keys-file FILE  the same, reading the script from FILE\n"
          "  --smoke           a short scripted session that writes no files\n"
          "  --render LATENT PGM  write the image of the latent vector in LATENT, then exit\n"
          "\n"
          "key scripts: each character is a key, except\n"
          "  \\n or \\r  Enter      \\L \\R \\U \\D  arrows Left Right Up Down\n"
          "  \\H \\E     Home End   \\e  Escape   \\\\  backslash   \\xHH  byte HH\n"
          "  white space is ignored; # starts a comment up to the end of the line.\n"
          "  example: --keys '\\R\\R\\R s \\n n u q'\n",
          out);
}

static int parse_seed(const char *s, unsigned long long *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || s[0] == '-')
        return -1;
    *out = v;
    return 0;
}

int main(int argc, char **argv)
{
    static app a; /* about 50 KB: kept off the stack */
    const char *start_file = NULL, *latent_file = NULL, *keys = NULL, *keys_file = NULL;
    const char *color = "auto", *render_in = NULL, *render_out = NULL;
    char *script = NULL, *key_bytes = NULL;
    size_t key_len = 0;
    int status = 1;

    a.out_dir = ".";
    a.seed = 1;
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i];
        int more = i + 1 < argc;
        if (strcmp(o, "--help") == 0 || strcmp(o, "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(o, "--seed") == 0 && more) {
            if (parse_seed(argv[++i], &a.seed) != 0) {
                fprintf(stderr, "slider: --seed needs a non-negative integer\n");
                return 2;
            }
        } else if (strcmp(o, "--start") == 0 && more) {
            start_file = argv[++i];
        } else if (strcmp(o, "--out") == 0 && more) {
            a.out_dir = argv[++i];
        } else if (strcmp(o, "--latent") == 0 && more) {
            latent_file = argv[++i];
        } else if (strcmp(o, "--color") == 0 && more) {
            color = argv[++i];
        } else if (strcmp(o, "--keys") == 0 && more) {
            keys = argv[++i];
        } else if (strcmp(o, "--keys-file") == 0 && more) {
            keys_file = argv[++i];
        } else if (strcmp(o, "--smoke") == 0) {
            keys = "\\R\\R\\R \\n n \\L \\n u u q";
        } else if (strcmp(o, "--render") == 0 && i + 2 < argc) {
            render_in = argv[++i];
            render_out = argv[++i];
        } else {
            fprintf(stderr, "slider: unknown or incomplete option %s\n", o);
            usage(stderr);
            return 2;
        }
    }
    if (strcmp(color, "none") == 0) {
        a.color = COLOR_NONE;
    } else if (strcmp(color, "256") == 0) {
        a.color = COLOR_256;
    } else if (strcmp(color, "true") == 0) {
        a.color = COLOR_TRUE;
    } else if (strcmp(color, "auto") == 0) {
        const char *ct = getenv("COLORTERM");
        a.color = ct && (strcmp(ct, "truecolor") == 0 || strcmp(ct, "24bit") == 0) ? COLOR_TRUE
                                                                                   : COLOR_256;
    } else {
        fprintf(stderr, "slider: --color takes auto, 256, true or none\n");
        return 2;
    }

    picture_init(&a.pic);
    if (start_file || render_in) {
        if (read_latent(render_in ? render_in : start_file, a.z) != 0)
            return 1;
    } else {
        picture_start_point(a.seed, a.z);
    }
    if (render_in) { /* a path that bypasses libdss: the test compares it with saved images */
        picture_generate(&a.pic, 1, a.z, a.x);
        if (picture_write_pgm(render_out, a.x, PIC_W, PIC_H) != 0) {
            fprintf(stderr, "slider: cannot write %s: %s\n", render_out, strerror(errno));
            return 1;
        }
        return 0;
    }

    /* keys: a script (translated to terminal bytes), or the terminal itself */
    key_source src = { NULL, 0, 0, STDIN_FILENO };
    if (keys_file) {
        script = read_file(keys_file);
        if (!script) {
            fprintf(stderr, "slider: cannot read %s: %s\n", keys_file, strerror(errno));
            return 1;
        }
        keys = script;
    }
    if (keys) {
        char err[160];
        if (keys_translate(keys, &key_bytes, &key_len, err, sizeof err) != 0) {
            fprintf(stderr, "slider: --keys: %s\n", err);
            free(script);
            return 2;
        }
        src.bytes = (const unsigned char *)key_bytes;
        src.len = key_len;
    } else if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
        fprintf(stderr, "slider: needs a terminal (or --keys SCRIPT); see --help\n");
        return 2;
    }
    a.screen = keys == NULL;
    if (strcmp(a.out_dir, ".") != 0 && mkdir(a.out_dir, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "slider: cannot create %s: %s\n", a.out_dir, strerror(errno));
        goto done;
    }

    /* the model: the generator only, so libdss takes finite differences (n + 1 = 33 images,
       in one batched call) for each new Jacobian */
    int rc;
    if ((rc = dss_model_create(&a.model, PIC_N, PIC_M, picture_generate, &a.pic)) != DSS_OK
        || (rc = dss_search_create(&a.search, a.model)) != DSS_OK
        || (rc = dss_search_set(a.search, DSS_SEARCH_SEED, (double)(a.seed & ((1ull << 53) - 1))))
               != DSS_OK
        || (rc = dss_search_set(a.search, DSS_SEARCH_JACOBIAN, DSS_JACOBIAN_FINITE_DIFF))
               != DSS_OK
        || (rc = dss_search_set(a.search, DSS_SEARCH_HISTORY, HISTORY)) != DSS_OK
        || (rc = dss_search_start(a.search, a.z)) != DSS_OK) {
        fprintf(stderr, "slider: setting up the session failed: %s (%d)\n", dss_strerror(rc), rc);
        goto done;
    }
    if (refresh_direction(&a) != DSS_OK)
        goto done;
    say(&a, "start: direction v%zu; move the slider", a.dir + 1);

    if (a.screen && term_enter() != 0) {
        fprintf(stderr, "slider: cannot set up the terminal: %s\n", strerror(errno));
        goto done;
    }
    for (int quit = 0; !quit;) {
        if (a.screen)
            draw_screen(&a);
        int key = key_next(&src);
        switch (key) {
        case KEY_LEFT: case 'h': move_slider(&a, -1); break;
        case KEY_RIGHT: case 'l': move_slider(&a, 1); break;
        case KEY_DOWN: case 'j': move_slider(&a, -COARSE); break;
        case KEY_UP: case 'k': move_slider(&a, COARSE); break;
        case KEY_HOME: move_slider(&a, -STEPS); break;
        case KEY_END: move_slider(&a, STEPS); break;
        case KEY_ENTER: commit(&a); break;
        case 'n': resample(&a); break;
        case 'u': undo(&a); break;
        case 's': save(&a); break;
        case 'q': case KEY_EOF: quit = 1; break;
        case KEY_ERROR:
            a.errors++;
            quit = 1;
            break;
        case KEY_INTERRUPTED: /* resized, or back from Ctrl-Z: draw everything again */
            a.rows = a.cols = 0;
            break;
        default: break; /* KEY_NONE, keys without a meaning */
        }
    }
    term_leave();

    double center[PIC_N];
    if ((rc = dss_search_center(a.search, center)) != DSS_OK) {
        fprintf(stderr, "slider: dss_search_center failed: %s\n", dss_strerror(rc));
        goto done;
    }
    if (latent_file && write_latent(latent_file, center) != 0)
        goto done;
    printf("slider: quit at iteration %d%s%s\n", a.iteration, latent_file ? ", centre in " : "",
           latent_file ? latent_file : "");
    status = a.errors ? 1 : 0;
done:
    term_leave();
    dss_search_destroy(a.search);
    dss_model_destroy(a.model);
    free(key_bytes);
    free(script);
    return status;
}
