/* Matrix-free Jacobian: a randomized SVD through vector-Jacobian products (Halko, Martinsson
 * and Tropp 2011, algorithms 4.3 and 5.1, here on J^T).
 *
 * With r = rank + oversample probes (at most min(n, m)):
 *   1. Omega: r random sign vectors of length m (Rademacher; as good a sketch as Gaussian here
 *      and far cheaper to draw for m in the hundreds of thousands).
 *   2. Y = Omega J (r VJPs): its rows span, approximately, the top right-singular subspace.
 *   3. q power iterations Y <- (J Y^T)^T J (r JVPs and r VJPs each) sharpen that subspace when
 *      the singular values decay slowly; Y is re-orthonormalised after each.
 *   4. Q = orth(Y) (r x n), B = J Q^T (r JVPs, or forward differences of f along the rows of Q).
 *   5. B^T B = Q J^T J Q^T (r x r) = W L W^T: the singular values are sqrt(L), the vectors
 *      V = W^T Q. The top `rank` pairs are kept.
 * Callback products per update: (q + 1) r VJPs and (q + 1) r JVPs (or as many extra points of
 * f), independent of m. Directions outside the kept subspace are never proposed at this centre:
 * the sampler's ergodicity holds within the top `rank` singular directions only.
 */
#include <limits.h>
#include <math.h>
#include <string.h>

#include "fdiff.h"
#include "jacobian.h"
#include "lapack.h"
#include "ortho.h"

#define SYEV_BLOCK 34     /* dsyev's lwork per row: (block size 32 + 2), ample for small r */

static void rademacher(rng *r, double *out, size_t count)
{
    /* branch-free: bit k of a draw becomes the sign bit of 1.0 (a branch on random bits
       mispredicts half the time, which made this the bulk of the library's time) */
    for (size_t i = 0; i < count; i += 64) {
        const uint64_t bits = dssi_rng_next(r);
        const size_t len = count - i < 64 ? count - i : 64;
        for (size_t k = 0; k < len; k++) {
            const uint64_t u = UINT64_C(0x3ff0000000000000) | (((~bits >> k) & 1u) << 63);
            memcpy(out + i + k, &u, sizeof u);
        }
    }
}

/* out (rows x m) = J Q^T row by row: the host's JVP, or forward differences of f. */
static int apply_jacobian(call_ctx *cx, const jac_config *cfg, const double *c, const double *Q,
                          size_t rows, jac_scratch *s, const mem_allocator *a, double *out)
{
    if (cx->model->jvp == NULL)
        return dssi_fd_directional(cx, cfg, c, Q, rows, s, a, out);
    return dssi_call_jvp(cx, c, rows, Q, out);
}

/* The power of two 2^-e that brings the largest |x_i| into [0.5, 1) (1 for a zero block):
   multiplying by it is exact, and it keeps products of Jacobian blocks of any magnitude (1e-160
   squared underflows) in range. */
static double pow2_scale(const double *x, size_t count)
{
    double big = 0.0;
    int e;
    for (size_t i = 0; i < count; i++)
        big = fmax(big, fabs(x[i]));
    if (!(big > 0.0) || !isfinite(big))
        return 1.0;
    (void)frexp(big, &e);
    return ldexp(1.0, -e);
}

static void scale(double *x, size_t count, double factor)
{
    for (size_t i = 0; i < count; i++)
        x[i] *= factor;
}

/* Eigen-decomposition of B B^T (r x r), B = s->probe (r x m): eigenvalues ascending into eig,
   eigenvectors in the columns of G. */
static int small_eigen(size_t r_, size_t m, const double *B, double *G, double *eig,
                       double *work)
{
    /* row-major B (r x m) is the column-major m x r matrix whose columns are the rows b_i:
       dsyrk('L', 'T') forms its A^T A = [b_i . b_j] */
    const int N = (int)r_, K = (int)m, lwork = SYEV_BLOCK * (int)r_;
    const double one = 1.0, zero = 0.0;
    int info = 0;
    dsyrk_("L", "T", &N, &K, &one, B, &K, &zero, G, &N);
    dsyev_("V", "L", &N, G, &N, eig, work, &lwork, &info);
    return info == 0 ? DSS_OK : DSS_ELAPACK;
}

size_t dssi_rsvd_scratch_bytes(const dss_model *model, const jac_config *cfg)
{
    const size_t n = model->n, m = model->m, full = n < m ? n : m;
    const size_t keep = cfg->rank < full ? cfg->rank : full;
    const size_t rr = cfg->oversample < full - keep ? keep + cfg->oversample : full;
    /* rr (m + n + rr + 1 + SYEV_BLOCK) doubles, and (rr + 1)(n + m) more for forward
       differences: n m fits size_t (dss_model_create), rr <= min(n, m) */
    size_t doubles = dssi_sat_mul(rr, dssi_sat_add(dssi_sat_add(m, n), rr + 1 + SYEV_BLOCK));
    if (model->jvp == NULL)
        doubles = dssi_sat_add(doubles, dssi_sat_mul(rr + 1, dssi_sat_add(n, m)));
    return dssi_sat_mul(doubles, sizeof(double));
}

int dssi_rsvd_decompose(call_ctx *cx, const jac_config *cfg, const double *c, rng *r,
                   jac_scratch *s, const mem_allocator *a, svd_dec *dec)
{
    const size_t n = cx->model->n, m = cx->model->m, full = n < m ? n : m;
    const size_t passes = 2 * cfg->power + 2;
    const size_t keep = cfg->rank < full ? cfg->rank : full;
    const size_t rr = cfg->oversample < full - keep ? keep + cfg->oversample : full;
    double *G, *eig, *work, sc;
    int rc;

    if (m > INT_MAX || rr * (size_t)SYEV_BLOCK > INT_MAX)
        return DSS_EINVAL;
    if ((rc = dssi_svd_dec_reserve(dec, a, keep, 0)) != DSS_OK)
        return rc;
    if ((rc = MEM_GROW(a, s, probe, rr * m)) != DSS_OK
        || (rc = MEM_GROW(a, s, sketch, rr * n)) != DSS_OK
        || (rc = MEM_GROW(a, s, small, rr * rr + rr + SYEV_BLOCK * rr)) != DSS_OK)
        return rc;
    G = s->small;
    eig = G + rr * rr;
    work = eig + rr;

    rademacher(r, s->probe, rr * m);
    if ((rc = dssi_call_progress(cx, DSS_STAGE_RANDOMIZED, 0, passes)) != DSS_OK
        || (rc = dssi_call_vjp(cx, c, rr, s->probe, s->sketch)) != DSS_OK
        || (rc = dssi_call_progress(cx, DSS_STAGE_RANDOMIZED, 1, passes)) != DSS_OK)
        return rc;
    dssi_ortho_rows(r, s->sketch, rr, n);
    for (size_t it = 0; it < cfg->power; it++) {
        if ((rc = apply_jacobian(cx, cfg, c, s->sketch, rr, s, a, s->probe)) != DSS_OK
            || (rc = dssi_call_progress(cx, DSS_STAGE_RANDOMIZED, 2 * it + 2, passes)) != DSS_OK)
            return rc;
        /* J Q is about |J|, its VJP about |J|^2: normalised first (the VJP's rows are
           orthonormalised after, so a common factor changes nothing else) */
        scale(s->probe, rr * m, pow2_scale(s->probe, rr * m));
        if ((rc = dssi_call_vjp(cx, c, rr, s->probe, s->sketch)) != DSS_OK
            || (rc = dssi_call_progress(cx, DSS_STAGE_RANDOMIZED, 2 * it + 3, passes)) != DSS_OK)
            return rc;
        dssi_ortho_rows(r, s->sketch, rr, n);
    }
    if ((rc = apply_jacobian(cx, cfg, c, s->sketch, rr, s, a, s->probe)) != DSS_OK
        || (rc = dssi_call_progress(cx, DSS_STAGE_RANDOMIZED, passes, passes)) != DSS_OK)
        return rc;
    /* B B^T holds squares of B = J Q^T: B scaled to about 1 first, the values scaled back */
    sc = pow2_scale(s->probe, rr * m);
    scale(s->probe, rr * m, sc);
    if ((rc = small_eigen(rr, m, s->probe, G, eig, work)) != DSS_OK)
        return rc;

    /* singular pair j from eigenpair rr - 1 - j (eigenvalues ascend): v_j = sum_i w_i q_i */
    for (size_t j = 0; j < keep; j++) {
        const double *w = G + (rr - 1 - j) * rr;
        double *v = dec->v + j * n;
        dec->s[j] = sqrt(fmax(eig[rr - 1 - j], 0.0)) / sc;
        memset(v, 0, n * sizeof *v);
        for (size_t i = 0; i < rr; i++)
            for (size_t l = 0; l < n; l++)
                v[l] += w[i] * s->sketch[i * n + l];
    }
    dec->rank = keep;
    dec->lazy = 0;
    memset(dec->have, 1, keep);
    return DSS_OK;
}
