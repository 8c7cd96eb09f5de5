/* Jacobian strategies: FULL, ROWS (the authors' stochastic Jacobian) and FINITE_DIFF. */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "jacobian.h"

int jac_reserve(const mem_allocator *a, void **buf, size_t *cap, size_t count, size_t size)
{
    void *p;
    if (*buf != NULL && *cap >= count)
        return DSS_OK;
    p = mem_array(a, count, size);
    if (p == NULL)
        return DSS_ENOMEM;
    mem_free(a, *buf);
    *buf = p;
    *cap = count;
    return DSS_OK;
}

#define RESERVE JAC_RESERVE

static int compare_size(const void *x, const void *y)
{
    size_t a = *(const size_t *)x, b = *(const size_t *)y;
    return (a > b) - (a < b);
}

/* k distinct indices in [0, m), ascending: Floyd's algorithm (k draws), then a sort. Membership
   is checked on the sorted prefix with a binary search, so the cost is O(k log k) for any m. */
static void draw_rows(rng *r, size_t m, size_t k, size_t *rows)
{
    size_t count = 0;
    for (size_t j = m - k; j < m; j++) {
        size_t t = rng_below(r, j + 1);
        size_t pick = bsearch(&t, rows, count, sizeof *rows, compare_size) ? j : t;
        /* insert keeping rows[0..count) sorted; pick is absent from it */
        size_t pos = count;
        while (pos > 0 && rows[pos - 1] > pick) {
            rows[pos] = rows[pos - 1];
            pos--;
        }
        rows[pos] = pick;
        count++;
    }
}

static int host_jacobian(const dss_model *model, const double *c, size_t nrows,
                         const size_t *rows, double *J)
{
    if (model->jacobian(model->user, c, nrows, rows, J) != 0)
        return DSS_ECALLBACK;
    return all_finite(J, nrows * model->n) ? DSS_OK : DSS_ENONFINITE;
}

static double default_step(int scheme)
{
    return scheme == DSS_DIFF_CENTRAL ? cbrt(DBL_EPSILON) : sqrt(DBL_EPSILON);
}

/*
 * Finite differences. Points are laid out in one list - forward: c, c + h_0 e_0, ...,
 * c + h_{n-1} e_{n-1} (n + 1 points); central: c + h_i e_i, c - h_i e_i for each i (2n points) -
 * and evaluated in chunks of as many points as the model's max batch and a memory bound allow,
 * so that f sees batched calls, never one call per point. Each result is folded into column i
 * of J as soon as it arrives.
 */
static int finite_diff(const dss_model *model, const jac_config *cfg, const double *c,
                       jac_scratch *s, const mem_allocator *a)
{
    const size_t n = model->n, m = model->m;
    const int central = cfg->diff_scheme == DSS_DIFF_CENTRAL;
    const size_t points = central ? 2 * n : n + 1;
    const double step = cfg->diff_step > 0 ? cfg->diff_step : default_step(cfg->diff_scheme);
    size_t chunk = points < model->max_batch ? points : model->max_batch;
    size_t mem_bound = JAC_FD_MAX_DOUBLES / m > 0 ? JAC_FD_MAX_DOUBLES / m : 1;
    int rc;

    if (chunk > mem_bound)
        chunk = mem_bound;
    if ((rc = RESERVE(a, s, z, chunk * n)) != DSS_OK || (rc = RESERVE(a, s, x, chunk * m)) != DSS_OK
        || (rc = RESERVE(a, s, f0, m)) != DSS_OK)
        return rc;

    for (size_t first = 0; first < points; first += chunk) {
        size_t count = points - first < chunk ? points - first : chunk;
        for (size_t p = 0; p < count; p++) {
            size_t q = first + p;
            double *zp = s->z + p * n;
            for (size_t j = 0; j < n; j++)
                zp[j] = c[j];
            if (central)
                zp[q / 2] += (q % 2 ? -1.0 : 1.0) * step * fmax(1.0, fabs(c[q / 2]));
            else if (q > 0)
                zp[q - 1] += step * fmax(1.0, fabs(c[q - 1]));
        }
        if ((rc = model_generate_unchecked(model, count, s->z, s->x)) != DSS_OK)
            return rc;
        if (!all_finite(s->x, count * m))
            return DSS_ENONFINITE;
        for (size_t p = 0; p < count; p++) {
            size_t q = first + p;
            const double *xp = s->x + p * m;
            size_t i = central ? q / 2 : q - 1;
            double h;
            if (!central && q == 0) {
                for (size_t d = 0; d < m; d++)
                    s->f0[d] = xp[d];
                continue;
            }
            /* the step actually taken, exactly representable: (c_i + h) - c_i */
            h = s->z[p * n + i] - c[i];
            if (central && q % 2 == 0) {
                for (size_t d = 0; d < m; d++)
                    s->J[d * n + i] = xp[d];
            } else if (central) {
                for (size_t d = 0; d < m; d++)
                    s->J[d * n + i] = (s->J[d * n + i] - xp[d]) / (-2.0 * h);
            } else {
                for (size_t d = 0; d < m; d++)
                    s->J[d * n + i] = (xp[d] - s->f0[d]) / h;
            }
        }
    }
    return all_finite(s->J, m * n) ? DSS_OK : DSS_ENONFINITE;
}

/* AUTO: the host Jacobian when there is one, else the matrix-free mode when a VJP exists, else
   finite differences. */
static int resolve_mode(const dss_model *model, int mode)
{
    if (mode != DSS_JACOBIAN_AUTO)
        return mode;
    if (model->jacobian != NULL)
        return DSS_JACOBIAN_FULL;
    return model->vjp != NULL ? DSS_JACOBIAN_RANDOMIZED : DSS_JACOBIAN_FINITE_DIFF;
}

int jac_check(const dss_model *model, const jac_config *cfg)
{
    int mode = resolve_mode(model, cfg->mode);
    if (mode == DSS_JACOBIAN_RANDOMIZED && model->vjp == NULL)
        return DSS_EUNSUPPORTED;
    if ((mode == DSS_JACOBIAN_FULL || mode == DSS_JACOBIAN_ROWS) && model->jacobian == NULL)
        return DSS_EUNSUPPORTED;
    return DSS_OK;
}

size_t jac_rank(const dss_model *model, const jac_config *cfg)
{
    size_t rows = model->m;
    int mode = resolve_mode(model, cfg->mode);
    if (mode == DSS_JACOBIAN_ROWS && cfg->rows < rows)
        rows = cfg->rows;
    if (mode == DSS_JACOBIAN_RANDOMIZED && cfg->rank < rows)
        rows = cfg->rank;
    return rows < model->n ? rows : model->n;
}

/* The Jacobian block (rows x n) of the FULL, ROWS and FINITE_DIFF modes into s->J. */
static int jacobian_block(const dss_model *model, const jac_config *cfg, int mode,
                          const double *c, rng *r, jac_scratch *s, const mem_allocator *a,
                          size_t *nrows)
{
    const size_t n = model->n, m = model->m;
    size_t k = mode == DSS_JACOBIAN_ROWS ? (cfg->rows < m ? cfg->rows : m) : m;
    int rc;

    if ((rc = RESERVE(a, s, J, k * n)) != DSS_OK)
        return rc;
    switch (mode) {
    case DSS_JACOBIAN_FULL:
        rc = host_jacobian(model, c, m, NULL, s->J);
        break;
    case DSS_JACOBIAN_ROWS:
        if ((rc = RESERVE(a, s, rows, k)) != DSS_OK)
            return rc;
        draw_rows(r, m, k, s->rows);
        rc = host_jacobian(model, c, k, s->rows, s->J);
        break;
    default:
        rc = finite_diff(model, cfg, c, s, a);
        break;
    }
    *nrows = k;
    return rc;
}

int jac_decompose(const dss_model *model, const jac_config *cfg, const double *c, rng *r,
                  jac_scratch *s, svd_work *w, const mem_allocator *a, svd_dec *dec)
{
    int mode = resolve_mode(model, cfg->mode);
    size_t rows = 0;
    int rc;

    if ((rc = jac_check(model, cfg)) != DSS_OK)
        return rc;
    if (mode == DSS_JACOBIAN_RANDOMIZED)
        return rsvd_decompose(model, cfg, c, r, s, a, dec);
    if ((rc = jacobian_block(model, cfg, mode, c, r, s, a, &rows)) != DSS_OK)
        return rc;
    return svd_compute(w, a, rows, model->n, s->J, dec);
}

/* Forward differences along unit directions, for the matrix-free mode without a JVP: the
   points c, c + h d_1, ..., c + h d_count go through f in batches, h = step * max(1, |c|_inf). */
int jac_directional_diff(const dss_model *model, const jac_config *cfg, const double *c,
                         const double *dirs, size_t count, jac_scratch *s,
                         const mem_allocator *a, double *out)
{
    const size_t n = model->n, m = model->m, points = count + 1;
    const double step = cfg->diff_step > 0 ? cfg->diff_step : default_step(DSS_DIFF_FORWARD);
    double cmax = 1.0, h;
    int rc;

    for (size_t j = 0; j < n; j++)
        cmax = fmax(cmax, fabs(c[j]));
    h = step * cmax;
    if ((rc = RESERVE(a, s, z, points * n)) != DSS_OK || (rc = RESERVE(a, s, x, points * m)) != DSS_OK)
        return rc;
    for (size_t p = 0; p < points; p++)
        for (size_t j = 0; j < n; j++)
            s->z[p * n + j] = c[j] + (p > 0 ? h * dirs[(p - 1) * n + j] : 0.0);
    if ((rc = model_generate_unchecked(model, points, s->z, s->x)) != DSS_OK)
        return rc;
    if (!all_finite(s->x, points * m))
        return DSS_ENONFINITE;
    for (size_t p = 0; p < count; p++)
        for (size_t d = 0; d < m; d++)
            out[p * m + d] = (s->x[(p + 1) * m + d] - s->x[d]) / h;
    return DSS_OK;
}

void jac_scratch_free(jac_scratch *s, const mem_allocator *a)
{
    mem_free(a, s->J);
    mem_free(a, s->rows);
    mem_free(a, s->z);
    mem_free(a, s->x);
    mem_free(a, s->f0);
    mem_free(a, s->probe);
    mem_free(a, s->sketch);
    mem_free(a, s->small);
    *s = (jac_scratch){ 0 };
}
