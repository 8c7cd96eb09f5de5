/* Drawing the next subspace: importance sampling of singular vectors without replacement
 * (the method), the largest first, or random Gaussian directions (the baseline). */
#ifndef DSS_SAMPLER_H
#define DSS_SAMPLER_H

#include <stddef.h>

#include "rng.h"

/* The index recorded for a direction that is not a singular vector. */
#define SAMPLER_NO_INDEX ((size_t)-1)

/* Draw l directions into basis (l x n, orthonormal rows) and their singular indices into idx.
 * s: rank singular values (descending); v: rank x n right-singular vectors; avail: rank flags,
 * updated (drawn ones cleared; all set again first when fewer than l remain).
 * SINGULAR and TOP need l <= rank (checked by the caller). */
void sampler_draw(int kind, rng *r, size_t n, const double *s, const double *v, size_t rank,
                  unsigned char *avail, size_t l, double *basis, size_t *idx);

#endif
