/* Finite differences of the generator: the whole Jacobian (DSS_JACOBIAN_FINITE_DIFF), and
 * directional ones for the matrix-free mode without a JVP (randomized.c). Points go through f
 * in batches, never one call per point. */
#include <float.h>
#include <math.h>

#include "fdiff.h"

/* The step that balances truncation against the generator's rounding (relative precision eps,
   dss_model_set_precision): forward differences err by about h |f''| / 2 + 2 eps |f| / h, least
   at h ~ sqrt(eps); central ones by h^2 |f'''| / 6 + eps |f| / h, least at h ~ cbrt(eps). */
static double default_step(int scheme, double eps)
{
    return scheme == DSS_DIFF_CENTRAL ? cbrt(eps) : sqrt(eps);
}

/* Point q of the finite-difference list: forward c, c + h_0 e_0, ..., c + h_{n-1} e_{n-1};
   central c + h_i e_i, c - h_i e_i for each i. */
static void fd_point(const double *c, size_t n, int central, double step, size_t q, double *z)
{
    for (size_t j = 0; j < n; j++)
        z[j] = c[j];
    if (central)
        z[q / 2] += (q % 2 ? -1.0 : 1.0) * step * fmax(1.0, fabs(c[q / 2]));
    else if (q > 0)
        z[q - 1] += step * fmax(1.0, fabs(c[q - 1]));
}

/* Points per f call of finite differences: the model's max batch, and JAC_FD_MAX_DOUBLES for
   a batch's points and outputs together (n + m doubles a point: with m = 1 the points alone
   were (n + 1) n doubles, 72 MB at n = 3000). */
size_t dssi_fd_chunk(const dss_model *model, const jac_config *cfg)
{
    const size_t n = model->n, m = model->m;
    const size_t points = cfg->diff_scheme == DSS_DIFF_CENTRAL ? 2 * n : n + 1;
    const size_t bound = JAC_FD_MAX_DOUBLES / (n + m) > 0 ? JAC_FD_MAX_DOUBLES / (n + m) : 1;
    size_t chunk = points < model->max_batch ? points : model->max_batch;
    return chunk < bound ? chunk : bound;
}

/*
 * Finite differences: the point list goes through f in chunks of as many points as the model's
 * max batch and a memory bound allow (batched calls, never one call per point), the progress
 * callback asked after each chunk. Each output is folded into column i of J as it arrives,
 * dividing by the step actually taken, (c_i + h) - c_i, which is exact.
 */
int dssi_fd_jacobian(call_ctx *cx, const jac_config *cfg, const double *c, jac_scratch *s,
                     const mem_allocator *a)
{
    const size_t n = cx->model->n, m = cx->model->m;
    const int central = cfg->diff_scheme == DSS_DIFF_CENTRAL;
    const size_t points = central ? 2 * n : n + 1;
    const double step = cfg->diff_step > 0 ? cfg->diff_step
                                            : default_step(cfg->diff_scheme, cx->model->precision);
    const size_t chunk = dssi_fd_chunk(cx->model, cfg);
    int rc;

    if ((rc = MEM_GROW(a, s, J, m * n)) != DSS_OK || (rc = MEM_GROW(a, s, z, chunk * n)) != DSS_OK
        || (rc = MEM_GROW(a, s, x, chunk * m)) != DSS_OK || (rc = MEM_GROW(a, s, f0, m)) != DSS_OK)
        return rc;
    if ((rc = dssi_call_progress(cx, DSS_STAGE_FINITE_DIFF, 0, points)) != DSS_OK)
        return rc;
    for (size_t first = 0; first < points; first += chunk) {
        size_t count = points - first < chunk ? points - first : chunk;
        for (size_t p = 0; p < count; p++)
            fd_point(c, n, central, step, first + p, s->z + p * n);
        if ((rc = dssi_call_f(cx, count, s->z, s->x)) != DSS_OK)
            return rc;
        if (!dssi_all_finite(s->x, count * m))
            return DSS_ENONFINITE;
        for (size_t p = 0; p < count; p++) {
            size_t q = first + p, i = central ? q / 2 : q - 1;
            const double *xp = s->x + p * m;
            double h;
            if (!central && q == 0) {
                for (size_t d = 0; d < m; d++)
                    s->f0[d] = xp[d];
                continue;
            }
            h = s->z[p * n + i] - c[i];
            if (central && q % 2 == 0)
                for (size_t d = 0; d < m; d++)
                    s->J[d * n + i] = xp[d];
            else if (central)
                for (size_t d = 0; d < m; d++)
                    s->J[d * n + i] = (s->J[d * n + i] - xp[d]) / (-2.0 * h);
            else
                for (size_t d = 0; d < m; d++)
                    s->J[d * n + i] = (xp[d] - s->f0[d]) / h;
        }
        if ((rc = dssi_call_progress(cx, DSS_STAGE_FINITE_DIFF, first + count, points)) != DSS_OK)
            return rc;
    }
    return dssi_all_finite(s->J, m * n) ? DSS_OK : DSS_ENONFINITE;
}

/* Forward differences along unit directions, for the matrix-free mode without a JVP: the
   points c, c + h d_1, ..., c + h d_count go through f in batches, h = step * max(1, |c|_inf). */
int dssi_fd_directional(call_ctx *cx, const jac_config *cfg, const double *c,
                        const double *dirs, size_t count, jac_scratch *s,
                        const mem_allocator *a, double *out)
{
    const size_t n = cx->model->n, m = cx->model->m, points = count + 1;
    const double step = cfg->diff_step > 0 ? cfg->diff_step
                                            : default_step(DSS_DIFF_FORWARD, cx->model->precision);
    double cmax = 1.0, h;
    int rc;

    for (size_t j = 0; j < n; j++)
        cmax = fmax(cmax, fabs(c[j]));
    h = step * cmax;
    if ((rc = MEM_GROW(a, s, z, points * n)) != DSS_OK || (rc = MEM_GROW(a, s, x, points * m)) != DSS_OK)
        return rc;
    for (size_t p = 0; p < points; p++)
        for (size_t j = 0; j < n; j++)
            s->z[p * n + j] = c[j] + (p > 0 ? h * dirs[(p - 1) * n + j] : 0.0);
    if ((rc = dssi_call_f(cx, points, s->z, s->x)) != DSS_OK)
        return rc;
    if (!dssi_all_finite(s->x, points * m))
        return DSS_ENONFINITE;
    for (size_t p = 0; p < count; p++)
        for (size_t d = 0; d < m; d++)
            out[p * m + d] = (s->x[(p + 1) * m + d] - s->x[d]) / h;
    return DSS_OK;
}

