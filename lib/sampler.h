/* Drawing the next subspace: importance sampling of singular vectors without replacement
 * (the method), the largest first, or random Gaussian directions (the baseline). */
#ifndef DSS_SAMPLER_H
#define DSS_SAMPLER_H

#include <stddef.h>

#include "rng.h"

/* The index recorded for a direction that is not a singular vector. */
#define SAMPLER_NO_INDEX ((size_t)-1)

/* Draw l singular indices into idx (SINGULAR, TOP), or, for RANDOM, l random orthonormal rows
 * into basis (l x n) with idx set to SAMPLER_NO_INDEX.
 * s: rank singular values (descending); avail: rank flags, updated (drawn ones cleared; all set
 * again first when fewer than l remain). SINGULAR and TOP need l <= rank (checked by the
 * caller); the caller fetches the drawn vectors. */
void dssi_sampler_draw(int kind, rng *r, size_t n, const double *s, size_t rank, unsigned char *avail,
                  size_t l, double *basis, size_t *idx);

#endif
