/* Seeded pseudo-random numbers: xoshiro256** seeded through splitmix64.
 * The integer stream is identical on every platform; uniform doubles use the top 53 bits. */
#ifndef DSS_RNG_H
#define DSS_RNG_H

#include <stdint.h>
#include <stddef.h>

typedef struct rng { uint64_t s[4]; } rng;

void     dssi_rng_seed(rng *r, uint64_t seed);
uint64_t dssi_rng_next(rng *r);
double   dssi_rng_uniform(rng *r);                   /* [0, 1) with 53 random bits */
double   dssi_rng_gaussian(rng *r);                  /* N(0, 1), Marsaglia's polar method */
size_t   dssi_rng_below(rng *r, size_t bound);       /* uniform integer in [0, bound), bound >= 1, unbiased */

#endif
