/* Shared test helpers: see support.h for what each one promises. */
#include "support.h"

#include <float.h>
#include <stdatomic.h>
#include <stdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ==============================================================================================
 * 2. splitmix64 (first: the model construction uses it)
 * ============================================================================================ */

void support_rng_seed(support_rng *r, uint64_t seed)
{
    r->state = seed;
}

uint64_t support_rng_next(support_rng *r)
{
    uint64_t z = (r->state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

double support_rng_uniform(support_rng *r)
{
    return (double)(support_rng_next(r) >> 11) * 0x1.0p-53;
}

double support_rng_range(support_rng *r, double lo, double hi)
{
    return lo + (hi - lo) * support_rng_uniform(r);
}

double support_rng_gaussian(support_rng *r)
{
    const double two_pi = 6.283185307179586476925286766559;
    double u1 = 1.0 - support_rng_uniform(r); /* (0, 1]: log is finite */
    double u2 = support_rng_uniform(r);
    return sqrt(-2.0 * log(u1)) * cos(two_pi * u2);
}

void support_fill_uniform(support_rng *r, double *x, size_t count, double lo, double hi)
{
    for (size_t i = 0; i < count; i++)
        x[i] = support_rng_range(r, lo, hi);
}

/* ==============================================================================================
 * 1. The linear model
 * ============================================================================================ */

/* Orthonormalise the `cols` columns of a (rows x cols, row-major) by modified Gram-Schmidt,
 * twice ("twice is enough": orthonormal to machine precision). Returns -1 on a (practically
 * impossible) dependent column. */
static int orthonormalise_columns(double *a, size_t rows, size_t cols)
{
    for (int pass = 0; pass < 2; pass++) {
        for (size_t j = 0; j < cols; j++) {
            for (size_t i = 0; i < j; i++) {
                double d = 0.0;
                for (size_t k = 0; k < rows; k++)
                    d += a[k * cols + i] * a[k * cols + j];
                for (size_t k = 0; k < rows; k++)
                    a[k * cols + j] -= d * a[k * cols + i];
            }
            double nrm = 0.0;
            for (size_t k = 0; k < rows; k++)
                nrm += a[k * cols + j] * a[k * cols + j];
            nrm = sqrt(nrm);
            if (!(nrm > 1e-8))
                return -1;
            for (size_t k = 0; k < rows; k++)
                a[k * cols + j] /= nrm;
        }
    }
    return 0;
}

lin_model *lin_create(size_t m, size_t n, const double *s, uint64_t seed)
{
    if (m == 0 || n == 0)
        return NULL;
    size_t r = m < n ? m : n;
    if (s) {
        for (size_t i = 0; i < r; i++) {
            if (!(s[i] >= 0.0) || !isfinite(s[i]) || (i > 0 && s[i] > s[i - 1]))
                return NULL;
        }
    }
    lin_model *lm = calloc(1, sizeof *lm);
    if (!lm)
        return NULL;
    lm->m = m;
    lm->n = n;
    lm->r = r;
    lm->u = malloc(m * r * sizeof *lm->u);
    lm->v = malloc(n * r * sizeof *lm->v);
    lm->s = malloc(r * sizeof *lm->s);
    lm->j = malloc(m * n * sizeof *lm->j);
    lm->jac_last_rows = calloc(m, sizeof *lm->jac_last_rows);
    lm->jac_last_z = calloc(n, sizeof *lm->jac_last_z);
    lm->jac_row_count = calloc(m, sizeof *lm->jac_row_count);
    if (!lm->u || !lm->v || !lm->s || !lm->j || !lm->jac_last_rows || !lm->jac_last_z
        || !lm->jac_row_count)
        goto fail;

    support_rng g;
    support_rng_seed(&g, seed ^ 0x6C696E6D6F64656CULL);
    support_fill_uniform(&g, lm->u, m * r, -1.0, 1.0);
    support_fill_uniform(&g, lm->v, n * r, -1.0, 1.0);
    if (orthonormalise_columns(lm->u, m, r) != 0 || orthonormalise_columns(lm->v, n, r) != 0)
        goto fail;
    for (size_t i = 0; i < r; i++)
        lm->s[i] = s ? s[i] : (double)(r - i);

    /* J[a][b] = sum_i U[a][i] s_i V[b][i] */
    for (size_t a = 0; a < m; a++) {
        for (size_t b = 0; b < n; b++) {
            double acc = 0.0;
            for (size_t i = 0; i < r; i++)
                acc += lm->u[a * r + i] * lm->s[i] * lm->v[b * r + i];
            lm->j[a * n + b] = acc;
        }
    }
    return lm;
fail:
    lin_destroy(lm);
    return NULL;
}

void lin_destroy(lin_model *lm)
{
    if (!lm)
        return;
    free(lm->u);
    free(lm->v);
    free(lm->s);
    free(lm->j);
    free(lm->jac_last_rows);
    free(lm->jac_last_z);
    free(lm->jac_row_count);
    free(lm->f_log);
    free(lm);
}

/* The fault to apply to this call of callback cb (LIN_FAULT_NONE, _ERROR, _NAN or _INF). */
static int lin_fault_now(lin_model *lm, int cb)
{
    int kind = lm->fault_kind[cb];
    if (kind == LIN_FAULT_NONE)
        return LIN_FAULT_NONE;
    if (lm->fault_after[cb] > 0) {
        lm->fault_after[cb]--;
        return LIN_FAULT_NONE;
    }
    if (!(kind & LIN_FAULT_REPEAT))
        lm->fault_kind[cb] = LIN_FAULT_NONE;
    lm->faults_fired++;
    return kind & ~LIN_FAULT_REPEAT;
}

/* Apply a NaN/Inf fault to an output of count values. */
static void lin_poison(int kind, double *out, size_t count)
{
    if (kind == LIN_FAULT_NAN)
        out[count - 1] = NAN;
    else if (kind == LIN_FAULT_INF)
        out[count - 1] = INFINITY;
}

void lin_apply(const lin_model *lm, const double *z, double *x)
{
    for (size_t a = 0; a < lm->m; a++) {
        double acc = 0.0;
        for (size_t b = 0; b < lm->n; b++)
            acc += lm->j[a * lm->n + b] * z[b];
        x[a] = acc;
    }
}

int lin_f(void *user, size_t k, const double *z, double *x)
{
    lin_model *lm = user;
    lm->f_calls++;
    if (k == 0 || !z || !x) {
        lm->protocol_errors++;
        return -1;
    }
    lm->f_points += k;
    if (k > lm->f_max_k)
        lm->f_max_k = k;
    if (lm->f_log) {
        for (size_t i = 0; i < k && lm->f_log_count < lm->f_log_cap; i++, lm->f_log_count++)
            memcpy(lm->f_log + lm->f_log_count * lm->n, z + i * lm->n, lm->n * sizeof *z);
    }
    int fault = lin_fault_now(lm, LIN_F);
    if (fault == LIN_FAULT_ERROR)
        return LIN_FAULT_STATUS;
    for (size_t i = 0; i < k; i++)
        lin_apply(lm, z + i * lm->n, x + i * lm->m);
    lin_poison(fault, x, k * lm->m);
    return 0;
}

int lin_jacobian(void *user, const double *z, size_t nrows, const size_t *rows, double *out)
{
    lin_model *lm = user;
    lm->jac_calls++;
    lm->jac_last_nrows = nrows;
    lm->jac_last_rows_null = rows == NULL;
    int bad = !z || !out || nrows == 0 || nrows > lm->m || (!rows && nrows != lm->m);
    if (z)
        memcpy(lm->jac_last_z, z, lm->n * sizeof *z);
    size_t keep = nrows < lm->m ? nrows : lm->m;
    for (size_t i = 0; i < keep; i++) {
        lm->jac_last_rows[i] = rows ? rows[i] : i;
        if (rows && (rows[i] >= lm->m || (i > 0 && rows[i] <= rows[i - 1])))
            bad = 1;
    }
    if (bad) {
        lm->protocol_errors++;
        return -1;
    }
    lm->jac_rows_total += nrows;
    for (size_t i = 0; i < nrows; i++)
        lm->jac_row_count[rows ? rows[i] : i]++;
    int fault = lin_fault_now(lm, LIN_JACOBIAN);
    if (fault == LIN_FAULT_ERROR)
        return LIN_FAULT_STATUS;
    for (size_t i = 0; i < nrows; i++) {
        size_t row = rows ? rows[i] : i;
        memcpy(out + i * lm->n, lm->j + row * lm->n, lm->n * sizeof *out);
    }
    lin_poison(fault, out, nrows * lm->n);
    return 0;
}

int lin_vjp(void *user, const double *z, size_t k, const double *u, double *out)
{
    lin_model *lm = user;
    lm->vjp_calls++;
    if (!z || !u || !out || k == 0) {
        lm->protocol_errors++;
        return -1;
    }
    int fault = lin_fault_now(lm, LIN_VJP);
    if (fault == LIN_FAULT_ERROR)
        return LIN_FAULT_STATUS;
    for (size_t i = 0; i < k; i++) {
        for (size_t b = 0; b < lm->n; b++) {
            double acc = 0.0;
            for (size_t a = 0; a < lm->m; a++)
                acc += u[i * lm->m + a] * lm->j[a * lm->n + b];
            out[i * lm->n + b] = acc;
        }
    }
    lin_poison(fault, out, k * lm->n);
    return 0;
}

int lin_jvp(void *user, const double *z, size_t k, const double *v, double *out)
{
    lin_model *lm = user;
    lm->jvp_calls++;
    if (!z || !v || !out || k == 0) {
        lm->protocol_errors++;
        return -1;
    }
    int fault = lin_fault_now(lm, LIN_JVP);
    if (fault == LIN_FAULT_ERROR)
        return LIN_FAULT_STATUS;
    for (size_t i = 0; i < k; i++)
        lin_apply(lm, v + i * lm->n, out + i * lm->m);
    lin_poison(fault, out, k * lm->m);
    return 0;
}

int lin_dss_model(lin_model *lm, unsigned flags, dss_model **out)
{
    int st = dss_model_create_with_allocator(out, lm->n, lm->m, lin_f, lm, support_allocator());
    if (st != DSS_OK)
        return st;
    if (st == DSS_OK && (flags & LIN_WITH_JACOBIAN))
        st = dss_model_set_jacobian(*out, lin_jacobian);
    if (st == DSS_OK && (flags & LIN_WITH_VJP))
        st = dss_model_set_vjp(*out, lin_vjp);
    if (st == DSS_OK && (flags & LIN_WITH_JVP))
        st = dss_model_set_jvp(*out, lin_jvp);
    if (st != DSS_OK) {
        dss_model_destroy(*out);
        *out = NULL;
    }
    return st;
}

void lin_reset_counters(lin_model *lm)
{
    lm->f_calls = lm->f_points = lm->f_max_k = 0;
    lm->jac_calls = lm->jac_last_nrows = 0;
    lm->jac_last_rows_null = 0;
    memset(lm->jac_last_rows, 0, lm->m * sizeof *lm->jac_last_rows);
    memset(lm->jac_last_z, 0, lm->n * sizeof *lm->jac_last_z);
    memset(lm->jac_row_count, 0, lm->m * sizeof *lm->jac_row_count);
    lm->jac_rows_total = 0;
    lm->vjp_calls = lm->jvp_calls = 0;
    lm->protocol_errors = 0;
    lm->faults_fired = 0;
    lm->f_log_count = 0;
}

void lin_fault(lin_model *lm, int callback, int kind, size_t nth)
{
    if (callback < 0 || callback >= LIN_NCALLBACKS)
        return;
    lm->fault_kind[callback] = kind;
    lm->fault_after[callback] = nth > 0 ? nth - 1 : 0;
}

int lin_log_f_inputs(lin_model *lm, size_t max_points)
{
    free(lm->f_log);
    lm->f_log = NULL;
    lm->f_log_cap = lm->f_log_count = 0;
    if (max_points == 0)
        return 0;
    lm->f_log = malloc(max_points * lm->n * sizeof *lm->f_log);
    if (!lm->f_log)
        return -1;
    lm->f_log_cap = max_points;
    return 0;
}

void lin_right_vector(const lin_model *lm, size_t i, double *out)
{
    for (size_t b = 0; b < lm->n; b++)
        out[b] = lm->v[b * lm->r + i];
}

/* ==============================================================================================
 * 3. Numerical helpers
 * ============================================================================================ */

double support_max_abs_diff(const double *a, const double *b, size_t count)
{
    double worst = 0.0;
    for (size_t i = 0; i < count; i++) {
        double d = fabs(a[i] - b[i]);
        if (isnan(d))
            return NAN;
        if (d > worst)
            worst = d;
    }
    return worst;
}

double support_max_abs(const double *a, size_t count)
{
    double worst = 0.0;
    for (size_t i = 0; i < count; i++) {
        if (isnan(a[i]))
            return NAN;
        if (fabs(a[i]) > worst)
            worst = fabs(a[i]);
    }
    return worst;
}

double support_norm2(const double *a, size_t count)
{
    return sqrt(support_dot(a, a, count));
}

double support_dot(const double *a, const double *b, size_t count)
{
    double acc = 0.0;
    for (size_t i = 0; i < count; i++)
        acc += a[i] * b[i];
    return acc;
}

double support_sign_diff(const double *a, const double *b, size_t count)
{
    double plus = 0.0, minus = 0.0;
    for (size_t i = 0; i < count; i++) {
        double dp = fabs(a[i] - b[i]), dm = fabs(a[i] + b[i]);
        if (isnan(dp) || isnan(dm))
            return NAN;
        if (dp > plus)
            plus = dp;
        if (dm > minus)
            minus = dm;
    }
    return plus < minus ? plus : minus;
}

int support_equal_up_to_sign(const double *a, const double *b, size_t count, double tol)
{
    return support_sign_diff(a, b, count) <= tol;
}

double support_orthonormality_error(const double *rows, size_t l, size_t n)
{
    double worst = 0.0;
    for (size_t i = 0; i < l; i++) {
        for (size_t j = 0; j < l; j++) {
            double d = support_dot(rows + i * n, rows + j * n, n) - (i == j ? 1.0 : 0.0);
            if (isnan(d))
                return NAN;
            if (fabs(d) > worst)
                worst = fabs(d);
        }
    }
    return worst;
}

int support_all_finite(const double *a, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        if (!isfinite(a[i]))
            return 0;
    }
    return 1;
}

static int cmp_desc(const void *pa, const void *pb)
{
    double a = *(const double *)pa, b = *(const double *)pb;
    return (a < b) - (a > b);
}

int support_singular_values(const double *a, size_t rows, size_t cols, double *s)
{
    /* Work on p x q with p = min(rows, cols) rows: rotating rows (left multiplication by plane
     * rotations) keeps the singular values; at convergence the rows are mutually orthogonal and
     * their norms are the singular values (Hestenes' one-sided Jacobi). */
    size_t p = rows < cols ? rows : cols, q = rows < cols ? cols : rows;
    double *w = malloc(p * q * sizeof *w);
    if (!w)
        return -1;
    for (size_t i = 0; i < p; i++) {
        for (size_t j = 0; j < q; j++)
            w[i * q + j] = rows <= cols ? a[i * cols + j] : a[j * cols + i];
    }
    for (int sweep = 0; sweep < 100; sweep++) {
        int rotated = 0;
        for (size_t i = 0; i + 1 < p; i++) {
            for (size_t k = i + 1; k < p; k++) {
                double *ri = w + i * q, *rk = w + k * q;
                double alpha = support_dot(ri, ri, q), beta = support_dot(rk, rk, q);
                double gamma = support_dot(ri, rk, q);
                if (gamma == 0.0 || fabs(gamma) <= DBL_EPSILON * sqrt(alpha * beta))
                    continue;
                rotated = 1;
                double zeta = (beta - alpha) / (2.0 * gamma);
                double t = (zeta >= 0.0 ? 1.0 : -1.0) / (fabs(zeta) + sqrt(1.0 + zeta * zeta));
                double c = 1.0 / sqrt(1.0 + t * t), sn = c * t;
                for (size_t j = 0; j < q; j++) {
                    double x = ri[j], y = rk[j];
                    ri[j] = c * x - sn * y;
                    rk[j] = sn * x + c * y;
                }
            }
        }
        if (!rotated)
            break;
    }
    for (size_t i = 0; i < p; i++)
        s[i] = support_norm2(w + i * q, q);
    qsort(s, p, sizeof *s, cmp_desc);
    free(w);
    return 0;
}

double support_chi_square(const size_t *observed, const double *p, size_t cells)
{
    size_t total = 0;
    for (size_t i = 0; i < cells; i++)
        total += observed[i];
    double stat = 0.0;
    for (size_t i = 0; i < cells; i++) {
        double e = (double)total * p[i];
        if (e == 0.0) {
            if (observed[i] != 0)
                return INFINITY;
            continue;
        }
        double d = (double)observed[i] - e;
        stat += d * d / e;
    }
    return stat;
}

/* Regularised upper incomplete gamma Q(a, x) (Numerical Recipes' gser/gcf split). */
static double gamma_q(double a, double x)
{
    if (x <= 0.0)
        return 1.0;
    double lg = lgamma(a);
    if (x < a + 1.0) {
        double ap = a, sum = 1.0 / a, del = sum;
        for (int i = 0; i < 10000; i++) {
            ap += 1.0;
            del *= x / ap;
            sum += del;
            if (fabs(del) < fabs(sum) * 1e-16)
                break;
        }
        double pval = sum * exp(-x + a * log(x) - lg);
        return pval >= 1.0 ? 0.0 : 1.0 - pval;
    }
    const double tiny = 1e-300;
    double b = x + 1.0 - a, c = 1.0 / tiny, d = 1.0 / b, h = d;
    for (int i = 1; i < 10000; i++) {
        double an = -i * (i - a);
        b += 2.0;
        d = an * d + b;
        if (fabs(d) < tiny)
            d = tiny;
        c = b + an / c;
        if (fabs(c) < tiny)
            c = tiny;
        d = 1.0 / d;
        double del = d * c;
        h *= del;
        if (fabs(del - 1.0) < 1e-16)
            break;
    }
    return exp(-x + a * log(x) - lg) * h;
}

double support_chi_square_sf(double x, double df)
{
    if (isnan(x))
        return NAN;
    if (x == INFINITY)
        return 0.0;
    return gamma_q(0.5 * df, 0.5 * x);
}

/* ==============================================================================================
 * 4. Snapshots and twins
 * ============================================================================================ */

static const int snapshot_params[] = {
    DSS_SEARCH_SUBSPACE_DIM, DSS_SEARCH_RADIUS, DSS_SEARCH_CENTER_TOLERANCE, DSS_SEARCH_SEED,
    DSS_SEARCH_JACOBIAN, DSS_SEARCH_JACOBIAN_ROWS, DSS_SEARCH_RANK, DSS_SEARCH_SAMPLER,
    DSS_SEARCH_PRIOR, DSS_SEARCH_PRIOR_SCALE, DSS_SEARCH_DIFF_SCHEME, DSS_SEARCH_DIFF_STEP,
    DSS_SEARCH_OVERSAMPLE, DSS_SEARCH_POWER_ITERATIONS, DSS_SEARCH_HISTORY,
    DSS_SEARCH_JACOBIAN_CHUNK, DSS_SEARCH_RADIUS_POLICY, DSS_SEARCH_RADIUS_GROW,
    DSS_SEARCH_RADIUS_SHRINK, DSS_SEARCH_RADIUS_MIN, DSS_SEARCH_RADIUS_MAX,
    DSS_SEARCH_STALL_COMMITS
};

/* The deterministic statistics (times and byte counts left out). */
static const int snapshot_stats[] = {
    DSS_STAT_POINTS, DSS_STAT_F_CALLS, DSS_STAT_JACOBIAN_CALLS, DSS_STAT_JACOBIAN_ROWS,
    DSS_STAT_VJP_CALLS, DSS_STAT_VJP_PRODUCTS, DSS_STAT_JVP_CALLS, DSS_STAT_JVP_PRODUCTS,
    DSS_STAT_DECOMPOSITIONS, DSS_STAT_UNDO_RECOMPUTES
};

int support_snapshot_take(const dss_search *search, size_t n, support_snapshot *snap)
{
    memset(snap, 0, sizeof *snap);
    snap->n = n;
    snap->l = dss_search_subspace_dim(search);
    snap->rank = dss_search_rank(search);
    for (size_t i = 0; i < sizeof snapshot_params / sizeof snapshot_params[0]; i++) {
        int p = snapshot_params[i];
        snap->param_status[p] = dss_search_get(search, p, &snap->params[p]);
    }
    for (size_t i = 0; i < sizeof snapshot_stats / sizeof snapshot_stats[0]; i++) {
        if (dss_search_stat(search, snapshot_stats[i], &snap->stats[snapshot_stats[i]]) != DSS_OK)
            return -1;
    }
    if (dss_search_slider_radius(search, &snap->slider_radius) != DSS_OK)
        return -1;
    snap->center = calloc(n, sizeof *snap->center);
    if (!snap->center)
        return -1;
    int st = dss_search_center(search, snap->center);
    if (st == DSS_ESTATE) {
        snap->started = 0;
        memset(snap->center, 0, n * sizeof *snap->center);
        return 0;
    }
    if (st != DSS_OK)
        return -1;
    snap->started = 1;
    size_t l = snap->l ? snap->l : 1, rank = snap->rank ? snap->rank : 1;
    snap->basis = calloc(l * n, sizeof *snap->basis);
    snap->indices = calloc(l, sizeof *snap->indices);
    snap->sv = calloc(rank, sizeof *snap->sv);
    if (!snap->basis || !snap->indices || !snap->sv)
        return -1;
    if (dss_search_basis(search, snap->basis) != DSS_OK
        || dss_search_basis_indices(search, snap->indices) != DSS_OK
        || dss_search_singular_values(search, snap->sv, snap->rank) != DSS_OK)
        return -1;
    return 0;
}

void support_snapshot_free(support_snapshot *snap)
{
    free(snap->center);
    free(snap->basis);
    free(snap->indices);
    free(snap->sv);
    snap->center = snap->basis = snap->sv = NULL;
    snap->indices = NULL;
}

int support_snapshot_equal(const support_snapshot *a, const support_snapshot *b)
{
    if (a->started != b->started || a->n != b->n || a->l != b->l || a->rank != b->rank)
        return 0;
    if (memcmp(&a->slider_radius, &b->slider_radius, sizeof a->slider_radius) != 0
        || memcmp(a->params, b->params, sizeof a->params) != 0
        || memcmp(a->param_status, b->param_status, sizeof a->param_status) != 0)
        return 0;
    if (!a->started)
        return 1;
    return memcmp(a->center, b->center, a->n * sizeof *a->center) == 0
        && memcmp(a->basis, b->basis, a->l * a->n * sizeof *a->basis) == 0
        && memcmp(a->indices, b->indices, a->l * sizeof *a->indices) == 0
        && memcmp(a->sv, b->sv, a->rank * sizeof *a->sv) == 0;
}

int support_snapshot_matches(const dss_search *search, size_t n, const support_snapshot *snap)
{
    support_snapshot now;
    int ok = support_snapshot_take(search, n, &now) == 0 && support_snapshot_equal(&now, snap)
             && memcmp(now.stats, snap->stats, sizeof now.stats) == 0;
    support_snapshot_free(&now);
    return ok;
}

int support_same_draws(dss_search *a, dss_search *b, size_t n, size_t draws)
{
    int ok = 1;
    for (size_t d = 0; d < draws && ok; d++) {
        int sa = dss_search_resample(a), sb = dss_search_resample(b);
        support_snapshot x, y;
        memset(&x, 0, sizeof x);
        memset(&y, 0, sizeof y);
        ok = sa == sb && support_snapshot_take(a, n, &x) == 0 && support_snapshot_take(b, n, &y) == 0
             && support_snapshot_equal(&x, &y);
        support_snapshot_free(&x);
        support_snapshot_free(&y);
    }
    return ok;
}

/* Compare the snapshots of a and b now. */
static int same_now(const dss_search *a, const dss_search *b, size_t n)
{
    support_snapshot x, y;
    memset(&x, 0, sizeof x);
    memset(&y, 0, sizeof y);
    int ok = support_snapshot_take(a, n, &x) == 0 && support_snapshot_take(b, n, &y) == 0
             && support_snapshot_equal(&x, &y);
    support_snapshot_free(&x);
    support_snapshot_free(&y);
    return ok;
}

int support_twins_agree(dss_search *a, dss_search *b, size_t n, size_t draws)
{
    if (!same_now(a, b, n) || !support_same_draws(a, b, n, draws))
        return 0;
    if (dss_search_commit(a, 0.9) != dss_search_commit(b, 0.9) || !same_now(a, b, n))
        return 0;
    if (dss_search_commit(a, 0.5) != dss_search_commit(b, 0.5) || !same_now(a, b, n))
        return 0;
    for (size_t k = 0; k < draws + 3; k++) {
        if (dss_search_undo(a) != dss_search_undo(b) || !same_now(a, b, n))
            return 0;
    }
    return 1;
}

/* ==============================================================================================
 * 5. The counting, guarding allocator
 * ============================================================================================ */

#define GUARD_HEAD sizeof(max_align_t)  /* size and magic; keeps the payload aligned */
#define GUARD_TAIL 16                   /* bytes of GUARD_BYTE after the payload */
#define GUARD_BYTE 0xA5
#define MAGIC_LIVE 0x6c697665u          /* "live" */
#define MAGIC_FREED 0x66726565u         /* "free" */

#define FRESH_BYTE 0xFF                  /* a new block's payload: NaN doubles, wild pointers */

static atomic_size_t live_blocks, live_bytes, heap_errors, allocations;
static size_t baseline_blocks, baseline_errors;

/* 1 unless the tests run under valgrind (scripts/run-tests.sh exports VALGRIND then) */
static int fill_fresh(void)
{
    static atomic_int fill = -1;
    int f = atomic_load(&fill);
    if (f < 0) {
        const char *v = getenv("VALGRIND");
        f = v == NULL || *v == '\0';
        atomic_store(&fill, f);
    }
    return f;
}

static void *counting_alloc(void *user, size_t size)
{
    unsigned char *block;
    uint32_t magic = MAGIC_LIVE;
    (void)user;
    if (size > SIZE_MAX - GUARD_HEAD - GUARD_TAIL)
        return NULL;
    block = malloc(GUARD_HEAD + size + GUARD_TAIL);
    if (block == NULL)
        return NULL;
    memcpy(block, &size, sizeof size);
    memcpy(block + sizeof size, &magic, sizeof magic);
    /* the library must never read what it did not write: junk makes such a read visible
       (except under valgrind, whose memcheck sees unwritten bytes better left undefined) */
    if (fill_fresh())
        memset(block + GUARD_HEAD, FRESH_BYTE, size);
    memset(block + GUARD_HEAD + size, GUARD_BYTE, GUARD_TAIL);
    atomic_fetch_add(&allocations, 1);
    atomic_fetch_add(&live_blocks, 1);
    atomic_fetch_add(&live_bytes, size);
    return block + GUARD_HEAD;
}

static void counting_free(void *user, void *ptr)
{
    unsigned char *block;
    size_t size;
    uint32_t magic;
    (void)user;
    if (ptr == NULL)
        return;
    block = (unsigned char *)ptr - GUARD_HEAD;
    memcpy(&size, block, sizeof size);
    memcpy(&magic, block + sizeof size, sizeof magic);
    if (magic != MAGIC_LIVE) { /* freed twice, or the header was overwritten: do not touch it */
        atomic_fetch_add(&heap_errors, 1);
        return;
    }
    for (size_t i = 0; i < GUARD_TAIL; i++)
        if (block[GUARD_HEAD + size + i] != GUARD_BYTE) {
            atomic_fetch_add(&heap_errors, 1);
            break;
        }
    magic = MAGIC_FREED;
    memcpy(block + sizeof size, &magic, sizeof magic);
    atomic_fetch_sub(&live_blocks, 1);
    atomic_fetch_sub(&live_bytes, size);
    free(block);
}

static const dss_allocator counting = { counting_alloc, counting_free, NULL };

const dss_allocator *support_allocator(void) { return &counting; }
size_t support_live_blocks(void) { return atomic_load(&live_blocks); }
size_t support_live_bytes(void) { return atomic_load(&live_bytes); }
size_t support_heap_errors(void) { return atomic_load(&heap_errors); }
size_t support_allocations(void) { return atomic_load(&allocations); }

int support_leak_setup(void **state)
{
    (void)state;
    baseline_blocks = support_live_blocks();
    baseline_errors = support_heap_errors();
    return 0;
}

int support_leak_teardown(void **state)
{
    const size_t blocks = support_live_blocks(), errors = support_heap_errors();
    int rc = 0;
    (void)state;
    if (blocks != baseline_blocks) {
        fprintf(stderr, "leak check: %zu block(s) (%zu bytes live in all) still allocated\n",
                blocks - baseline_blocks, support_live_bytes());
        rc = -1;
    }
    if (errors != baseline_errors) {
        fprintf(stderr, "leak check: %zu heap error(s): a block written past its end or freed "
                "twice\n", errors - baseline_errors);
        rc = -1;
    }
    baseline_blocks = blocks;
    baseline_errors = errors;
    return rc;
}

/* lib/session.c's invariant checker (the tests link the DSS_CHECK_INVARIANTS build) */
unsigned long dssi_session_violations(void);

int support_leak_exit(int failed)
{
    const size_t blocks = support_live_blocks(), errors = support_heap_errors();
    const unsigned long broken = dssi_session_violations();
    if (broken != 0) {
        fprintf(stderr, "[  FAILED  ] invariant check: %lu call(s) left a session breaking "
                "lib/session.c's invariants\n", broken);
        failed++;
    }
    if (blocks == 0 && errors == 0)
        return failed;
    fprintf(stderr, "[  FAILED  ] leak check at exit: %zu block(s) of %zu bytes still allocated, "
            "%zu heap error(s)\n", blocks, support_live_bytes(), errors);
    return failed + 1;
}

uint32_t support_crc32(const unsigned char *p, size_t len)
{
    uint32_t crc = 0xFFFFFFFFu;
    for (size_t i = 0; i < len; i++) {
        crc ^= p[i];
        for (int b = 0; b < 8; b++)
            crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
    }
    return crc ^ 0xFFFFFFFFu;
}
