/* Subspace samplers. */
#include <math.h>
#include <string.h>

#include <dss/dss.h>

#include "ortho.h"
#include "sampler.h"

/* The authors add 1e-6 so that directions with a zero singular value stay reachable. */
#define WEIGHT_FLOOR 1e-6

static size_t count_available(const unsigned char *avail, size_t rank)
{
    size_t count = 0;
    for (size_t i = 0; i < rank; i++)
        count += avail[i] != 0;
    return count;
}

/* One index among the available ones with probability (s_i + 1e-6) / sum over available. */
static size_t draw_weighted(rng *r, const double *s, const unsigned char *avail, size_t rank)
{
    double total = 0.0, u, acc = 0.0;
    size_t last = 0;
    for (size_t i = 0; i < rank; i++)
        if (avail[i])
            total += s[i] + WEIGHT_FLOOR;
    u = dssi_rng_uniform(r) * total;
    for (size_t i = 0; i < rank; i++) {
        if (!avail[i])
            continue;
        acc += s[i] + WEIGHT_FLOOR;
        last = i;
        if (u < acc)
            return i;
    }
    return last; /* u landed past the rounded cumulative sum: the last available one */
}

static size_t first_available(const unsigned char *avail, size_t rank)
{
    size_t i = 0;
    while (i < rank && !avail[i])
        i++;
    return i;
}

/* A uniformly random orthonormal l-frame: Gaussian rows, orthonormalised. */
static void random_frame(rng *r, size_t n, size_t l, double *basis)
{
    for (size_t i = 0; i < l * n; i++)
        basis[i] = dssi_rng_gaussian(r);
    dssi_ortho_rows(r, basis, l, n);
}

void dssi_sampler_draw(int kind, rng *r, size_t n, const double *s, size_t rank, unsigned char *avail,
                  size_t l, double *basis, size_t *idx)
{
    if (kind == DSS_SAMPLER_RANDOM) {
        random_frame(r, n, l, basis);
        for (size_t i = 0; i < l; i++)
            idx[i] = SAMPLER_NO_INDEX;
        return;
    }
    if (count_available(avail, rank) < l)
        memset(avail, 1, rank);
    for (size_t i = 0; i < l; i++) {
        size_t k = kind == DSS_SAMPLER_TOP ? first_available(avail, rank)
                                           : draw_weighted(r, s, avail, rank);
        avail[k] = 0;
        idx[i] = k;
    }
}
