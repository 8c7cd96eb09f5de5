/*
 * picture.h - the slider program's generator: a tiny procedural image model.
 *
 * A latent vector z (PIC_N = 32 values) goes through a fixed two-layer random network
 * (tanh units) to 23 shape parameters in (-1, 1), which draw a PIC_W x PIC_H grey image: a smooth
 * closed blob (a radius that varies with the angle as a sum of harmonics), lit from one side and
 * striped, on a shaded background. Everything is smooth in z, so finite differences give a good
 * Jacobian, and everything is deterministic: the weights come from a fixed seed and the same z
 * always gives the same image.
 *
 * Copyright (c) 2026 the libdss authors. MIT licence, see LICENSE.
 */
#ifndef SLIDER_PICTURE_H
#define SLIDER_PICTURE_H

#include <stddef.h>

#define PIC_W 36              /* image width in pixels */
#define PIC_H 36              /* image height in pixels (two pixels per terminal cell) */
#define PIC_M (PIC_W * PIC_H) /* output dimension m: one grey value per pixel, row-major */
#define PIC_N 32              /* latent dimension n */
#define PIC_HIDDEN 24         /* hidden units of the network */
#define PIC_PARAMS 23         /* shape parameters the network produces */

/* The network's fixed weights: hidden = tanh(w1 z / sqrt(n) + b1), params = tanh(w2 hidden + b2). */
typedef struct picture {
    double w1[PIC_HIDDEN][PIC_N], b1[PIC_HIDDEN];
    double w2[PIC_PARAMS][PIC_HIDDEN], b2[PIC_PARAMS];
} picture;

/* Fill the weights from the built-in seed (the same on every run and platform). */
void picture_init(picture *pic);

/*
 * The generator, a dss_generate_fn with a picture * as user pointer: k latent vectors (k x PIC_N)
 * to k images (k x PIC_M, values about 0 = black to 1 = white, row-major, top row first).
 */
int picture_generate(void *user, size_t k, const double *z, double *x);

/* A start point drawn from the prior N(0, I) with a given seed (n = PIC_N values). */
void picture_start_point(unsigned long long seed, double *z);

/* A pixel value as an 8-bit grey level: clamped to [0, 1], scaled and rounded. */
unsigned char picture_grey(double v);

/* Write a w x h image as a binary PGM (P5, maxval 255). Returns 0, or -1 with errno set. */
int picture_write_pgm(const char *path, const double *x, int w, int h);

#endif
