/* xoshiro256** 1.0 (Blackman and Vigna, public domain reference), seeded with splitmix64. */
#include <math.h>

#include "rng.h"

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void dssi_rng_seed(rng *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&seed);
}

uint64_t dssi_rng_next(rng *r)
{
    uint64_t *s = r->s;
    const uint64_t result = rotl(s[1] * 5, 7) * 9;
    const uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double dssi_rng_uniform(rng *r)
{
    return (double)(dssi_rng_next(r) >> 11) * 0x1.0p-53;
}

double dssi_rng_gaussian(rng *r)
{
    /* Marsaglia's polar method; the second variate is discarded so the state stays a plain
       xoshiro state (easy to save and restore). */
    double u, v, q;
    do {
        u = 2.0 * dssi_rng_uniform(r) - 1.0;
        v = 2.0 * dssi_rng_uniform(r) - 1.0;
        q = u * u + v * v;
    } while (q >= 1.0 || q == 0.0);
    return u * sqrt(-2.0 * log(q) / q);
}

size_t dssi_rng_below(rng *r, size_t bound)
{
    /* Rejection from the largest multiple of bound: unbiased. */
    uint64_t b = (uint64_t)bound;
    uint64_t limit = UINT64_MAX - UINT64_MAX % b;
    uint64_t x;
    do {
        x = dssi_rng_next(r);
    } while (x >= limit);
    return (size_t)(x % b);
}
