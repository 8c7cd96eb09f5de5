/*
 * picture.c - the slider program's procedural image generator (see picture.h).
 *
 * Copyright (c) 2026 the libdss authors. MIT licence, see LICENSE.
 */
#include "picture.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>

/* ---- a small deterministic random stream (splitmix64) for the weights and start points ----- */

static uint64_t splitmix64(uint64_t *state)
{
    uint64_t x = (*state += 0x9E3779B97F4A7C15u);
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9u;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBu;
    return x ^ (x >> 31);
}

/* uniform in (0, 1): the top 53 bits, offset by half a step so that 0 never comes out */
static double uniform(uint64_t *state)
{
    return ((double)(splitmix64(state) >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}

/* standard normal by Box-Muller (one value per call; simple, and fast enough here) */
static double gaussian(uint64_t *state)
{
    const double two_pi = 6.283185307179586;
    double u = uniform(state), v = uniform(state);
    return sqrt(-2.0 * log(u)) * cos(two_pi * v);
}

void picture_init(picture *pic)
{
    uint64_t s = 0x51D3u; /* the built-in seed: the picture model never changes */
    for (int i = 0; i < PIC_HIDDEN; i++) {
        for (int j = 0; j < PIC_N; j++)
            pic->w1[i][j] = gaussian(&s);
        pic->b1[i] = 0.3 * gaussian(&s);
    }
    for (int p = 0; p < PIC_PARAMS; p++) {
        for (int i = 0; i < PIC_HIDDEN; i++)
            pic->w2[p][i] = 1.2 * gaussian(&s) / sqrt((double)PIC_HIDDEN);
        pic->b2[p] = 0.2 * gaussian(&s);
    }
}

void picture_start_point(unsigned long long seed, double *z)
{
    uint64_t s = (uint64_t)seed ^ 0xD1B54A32D192ED03u;
    for (int j = 0; j < PIC_N; j++)
        z[j] = gaussian(&s);
}

/* ---- latent vector -> shape parameters -> image ------------------------------------------- */

/* The shape parameters, each the network's output q in (-1, 1) mapped to a useful range. */
typedef struct shape {
    double cx, cy;           /* centre of the blob in image coordinates [-1, 1]^2 */
    double r0;               /* mean radius */
    double a[5], b[5];       /* harmonics 2..6 of the radius: a_k cos(k theta) + b_k sin(k theta) */
    double lx, ly;           /* light direction (brighter on that side) */
    double inside;           /* brightness of the blob */
    double fx, fy, phase;    /* stripes: sin(fx u + fy v + phase) */
    double stripes;          /* their amplitude */
    double bg, bg_slope;     /* background level and vertical gradient */
    double edge;             /* softness of the outline */
} shape;

static void network(const picture *pic, const double *z, shape *sh)
{
    double h[PIC_HIDDEN], q[PIC_PARAMS];
    const double scale = 1.0 / sqrt((double)PIC_N); /* keeps pre-activations near unit scale */
    for (int i = 0; i < PIC_HIDDEN; i++) {
        double a = pic->b1[i];
        for (int j = 0; j < PIC_N; j++)
            a += pic->w1[i][j] * z[j] * scale;
        h[i] = tanh(a);
    }
    for (int p = 0; p < PIC_PARAMS; p++) {
        double a = pic->b2[p];
        for (int i = 0; i < PIC_HIDDEN; i++)
            a += pic->w2[p][i] * h[i];
        q[p] = tanh(a);
    }
    sh->cx = 0.15 * q[0];
    sh->cy = 0.15 * q[1];
    sh->r0 = 0.55 + 0.13 * q[2];
    for (int k = 0; k < 5; k++) {
        sh->a[k] = 0.16 / (k + 2) * q[3 + k];
        sh->b[k] = 0.16 / (k + 2) * q[8 + k];
    }
    sh->lx = 0.35 * q[13];
    sh->ly = 0.35 * q[14];
    sh->inside = 0.60 + 0.15 * q[15];
    sh->fx = 7.0 * q[16];
    sh->fy = 7.0 * q[17];
    sh->phase = 3.0 * q[18];
    sh->stripes = 0.13 + 0.08 * q[19];
    sh->bg = 0.22 + 0.12 * q[20];
    sh->bg_slope = 0.14 * q[21];
    sh->edge = 0.045 + 0.02 * q[22];
}

static void draw(const shape *sh, double *x)
{
    for (int row = 0; row < PIC_H; row++) {
        double v = 2.0 * (row + 0.5) / PIC_H - 1.0; /* image coordinates, v downwards */
        for (int col = 0; col < PIC_W; col++) {
            double u = 2.0 * (col + 0.5) / PIC_W - 1.0;
            double dx = u - sh->cx, dy = v - sh->cy;
            double rho = sqrt(dx * dx + dy * dy), theta = atan2(dy, dx);
            double radius = sh->r0;
            for (int k = 0; k < 5; k++)
                radius += sh->a[k] * cos((k + 2) * theta) + sh->b[k] * sin((k + 2) * theta);
            /* smooth inside indicator: 1 well inside, 0 well outside */
            double in = 1.0 / (1.0 + exp(-(radius - rho) / sh->edge));
            double lit = sh->inside + (sh->lx * dx + sh->ly * dy) / sh->r0
                         + sh->stripes * sin(sh->fx * u + sh->fy * v + sh->phase);
            double ground = sh->bg + sh->bg_slope * v;
            /* a dark rim where the outline is, so that the shape reads at 36 x 36 */
            double e = (rho - radius) / (2.0 * sh->edge);
            double rim = 0.25 * exp(-e * e);
            x[row * PIC_W + col] = in * lit + (1.0 - in) * ground - rim;
        }
    }
}

int picture_generate(void *user, size_t k, const double *z, double *x)
{
    const picture *pic = user;
    for (size_t p = 0; p < k; p++) {
        shape sh;
        network(pic, z + p * PIC_N, &sh);
        draw(&sh, x + p * PIC_M);
    }
    return 0;
}

/* ---- output ---------------------------------------------------------------------------------- */

unsigned char picture_grey(double v)
{
    if (!(v > 0.0)) /* also NaN */
        return 0;
    if (v >= 1.0)
        return 255;
    return (unsigned char)lround(255.0 * v);
}

int picture_write_pgm(const char *path, const double *x, int w, int h)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    int ok = fprintf(f, "P5\n%d %d\n255\n", w, h) > 0;
    for (int i = 0; ok && i < w * h; i++)
        ok = putc(picture_grey(x[i]), f) != EOF;
    int saved = errno;
    if (fclose(f) != 0 || !ok) {
        errno = ok ? errno : saved;
        return -1;
    }
    return 0;
}
