/* bench/randomized: the matrix-free Jacobian (DSS_JACOBIAN_RANDOMIZED) on a synthetic model with
 * exact, cheap VJP and JVP, against FULL mode on the same model (issue 3, section 2).
 *
 * The model: f(z) = J z with J = U diag(s) V^T (m x n), V a random orthogonal n x n matrix and
 * U (m x n) with orthonormal columns that cost O(m) to apply: column i is supported on its own
 * block of m/n rows, with random signs, scaled to unit norm. So the singular values are exactly
 * s and the right-singular vectors exactly the columns of V. Two spectra: s_i = exp(-i/8) (fast
 * decay, "a few dozen significant directions") and s_i = 1/(i+1) (slow decay), i = 0..n-1.
 *
 * For each spectrum and each (oversample p, power iterations q), with DSS_SEARCH_RANK = 16 and
 * the DSS_SAMPLER_TOP sampler, over --runs moved commits (t alternating 1, 0):
 *   - the top-16 singular values' max relative error,
 *   - the largest angle between a proposed direction and the true top-16 subspace (the commit's
 *     direction and 15 dss_search_resample calls walk through the 16 kept directions),
 *   - callback products per update (rows passed to the VJP and the JVP),
 *   - the library's own time for the moved commit: commit time minus the time spent inside the
 *     callbacks (median), against FULL mode's commit time on the same model, which includes the
 *     host writing the m x n J into the library's buffer.
 *
 * --cpu measures the process's CPU time instead of wall time (robust on a shared machine, but
 * only with a single-threaded BLAS: reference BLAS or OPENBLAS_NUM_THREADS=1).
 *
 *   build/bench/randomized [--runs K] [--full-runs K] [--rank K] [--m M] [--n N] [--cpu]
 */
#include "common.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dss/dss.h>

#include "lapack.h"

void dgeqrf_(const int *m, const int *n, double *a, const int *lda, double *tau, double *work,
             const int *lwork, int *info);
void dorgqr_(const int *m, const int *n, const int *k, double *a, const int *lda,
             const double *tau, double *work, const int *lwork, int *info);

#define MAX_RUNS 1000

/* ---- the clock: wall time, or (--cpu) the process's CPU time ------------------------------ */

static int use_cpu_clock = 0;

/* --cpu: process CPU time (bench_clock) */
static double now(void) { return bench_clock(use_cpu_clock); }

/* ---- a small deterministic generator (splitmix64) --------------------------------------- */

static unsigned long long rng_state = 0x243f6a8885a308d3ull;

static uint64_t next_u64(void) { return bench_splitmix64(&rng_state); }

static double uniform01(void) { return ((double)(next_u64() >> 11) + 0.5) * 0x1.0p-53; }

static double gaussian(void)
{
    const double two_pi = 6.283185307179586476925286766559;
    return sqrt(-2.0 * log(uniform01())) * cos(two_pi * uniform01());
}

/* ---- the model ---------------------------------------------------------------------------- */

typedef struct model {
    size_t m, n, block;   /* block = m / n rows per column of U */
    double *V;            /* n x n row-major, orthogonal: column i is v_i */
    double *Vt;           /* V^T, row i is v_i */
    double *sign;         /* m: U[d, d / block] = sign[d] (+-1/sqrt(block)) */
    double *s;            /* n singular values, descending */
    double *W;            /* scratch: k x n */
    size_t W_cap;         /* rows of W */
    /* accounting */
    double cb_seconds;
    size_t vjp_rows, jvp_rows, jac_rows, f_points;
} model;

static int reserve_w(model *md, size_t k)
{
    if (md->W_cap >= k)
        return 0;
    free(md->W);
    md->W = malloc(k * md->n * sizeof *md->W);
    md->W_cap = md->W ? k : 0;
    return md->W ? 0 : -1;
}

/* W (k x n) = Z (k x n) V: W[p, i] = v_i . z_p, then scaled by s_i. Then out[p, d] =
   sign[d] * W[p, d / block]: k rows of J z_p. */
static int apply_j(model *md, size_t k, const double *Z, double *out)
{
    const int N = (int)md->n, K = (int)k;
    const double one = 1.0, zero = 0.0;
    if (reserve_w(md, k) != 0)
        return -1;
    /* row-major W = Z V is col-major W^T = V^T Z^T; the stored V is col-major V^T */
    dgemm_("N", "N", &N, &K, &N, &one, md->V, &N, Z, &N, &zero, md->W, &N);
    for (size_t p = 0; p < k; p++) {
        double *w = md->W + p * md->n, *x = out + p * md->m;
        for (size_t i = 0; i < md->n; i++) {
            const double a = w[i] * md->s[i];
            const size_t d0 = i * md->block;
            for (size_t d = d0; d < d0 + md->block; d++)
                x[d] = md->sign[d] * a;
        }
    }
    return 0;
}

static int model_f(void *user, size_t k, const double *z, double *x)
{
    model *md = user;
    double t0 = now();
    int rc = apply_j(md, k, z, x);
    md->f_points += k;
    md->cb_seconds += now() - t0;
    return rc;
}

static int model_jvp(void *user, const double *z, size_t k, const double *v, double *out)
{
    model *md = user;
    double t0 = now();
    int rc;
    (void)z;
    rc = apply_j(md, k, v, out);
    md->jvp_rows += k;
    md->cb_seconds += now() - t0;
    return rc;
}

/* out (k x n) = U (k x m) J: a_i = s_i * sum_{d in block i} sign[d] u[d], out = A V^T. */
static int model_vjp(void *user, const double *z, size_t k, const double *u, double *out)
{
    model *md = user;
    const int N = (int)md->n, K = (int)k;
    const double one = 1.0, zero = 0.0;
    double t0 = now();
    (void)z;
    if (reserve_w(md, k) != 0)
        return -1;
    for (size_t p = 0; p < k; p++) {
        const double *x = u + p * md->m;
        double *a = md->W + p * md->n;
        for (size_t i = 0; i < md->n; i++) {
            double acc = 0.0;
            const size_t d0 = i * md->block;
            for (size_t d = d0; d < d0 + md->block; d++)
                acc += md->sign[d] * x[d];
            a[i] = acc * md->s[i];
        }
    }
    /* row-major out = A V^T is col-major out^T = V A^T; the stored V is col-major V^T */
    dgemm_("T", "N", &N, &K, &N, &one, md->V, &N, md->W, &N, &zero, out, &N);
    md->vjp_rows += k;
    md->cb_seconds += now() - t0;
    return 0;
}

/* Rows of J: J[d, :] = sign[d] * s_i * v_i^T, i = d / block. */
static int model_jacobian(void *user, const double *z, size_t nrows, const size_t *rows,
                          double *out)
{
    model *md = user;
    double t0 = now();
    (void)z;
    for (size_t r = 0; r < nrows; r++) {
        const size_t d = rows ? rows[r] : r, i = d / md->block;
        const double a = md->sign[d] * md->s[i];
        const double *v = md->Vt + i * md->n;
        double *o = out + r * md->n;
        for (size_t j = 0; j < md->n; j++)
            o[j] = a * v[j];
    }
    md->jac_rows += nrows;
    md->cb_seconds += now() - t0;
    return 0;
}

static int model_init(model *md, size_t m, size_t n)
{
    const int N = (int)n;
    int info = 0, lwork = 64 * (int)n;
    double *tau = malloc(n * sizeof *tau), *work = malloc((size_t)lwork * sizeof *work);

    *md = (model){ .m = m, .n = n, .block = m / n };
    md->V = malloc(n * n * sizeof *md->V);
    md->Vt = malloc(n * n * sizeof *md->Vt);
    md->sign = malloc(m * sizeof *md->sign);
    md->s = malloc(n * sizeof *md->s);
    if (!tau || !work || !md->V || !md->Vt || !md->sign || !md->s) {
        free(tau);
        free(work);
        return -1;
    }
    /* V: Q of the QR of a Gaussian matrix (column-major here; orthogonal either way) */
    for (size_t i = 0; i < n * n; i++)
        md->V[i] = gaussian();
    dgeqrf_(&N, &N, md->V, &N, tau, work, &lwork, &info);
    if (info == 0)
        dorgqr_(&N, &N, &N, md->V, &N, tau, work, &lwork, &info);
    free(tau);
    free(work);
    if (info != 0)
        return -1;
    for (size_t j = 0; j < n; j++)
        for (size_t i = 0; i < n; i++)
            md->Vt[i * n + j] = md->V[j * n + i];
    for (size_t d = 0; d < m; d++)
        md->sign[d] = ((next_u64() >> 63) ? 1.0 : -1.0) / sqrt((double)md->block);
    return 0;
}

static void model_free(model *md)
{
    free(md->V);
    free(md->Vt);
    free(md->sign);
    free(md->s);
    free(md->W);
}

static void reset_counts(model *md)
{
    md->cb_seconds = 0.0;
    md->vjp_rows = md->jvp_rows = md->jac_rows = md->f_points = 0;
}

/* ---- measurements -------------------------------------------------------------------------- */

typedef struct measure {
    double commit_ms, cb_ms, lib_ms;      /* medians */
    double sv_err, angle;                 /* worst over runs */
    double angle_median;                  /* median over runs of each run's largest angle */
    int worst_angle_index;                /* singular index of the worst direction */
    double products;                      /* VJP + JVP rows (or f points) per update */
    size_t vjps, jvps;
    int distinct_ok;                      /* the 16 directions were indices 0..k-1 */
} measure;

/* Largest angle between b (unit, n) and span(v_0..v_{k-1}): acos(|V_k^T b|). */
static double angle_to_top(const model *md, size_t k, const double *b)
{
    double norm2 = 0.0;
    for (size_t i = 0; i < k; i++) {
        const double *v = md->Vt + i * md->n;
        double dot = 0.0;
        for (size_t j = 0; j < md->n; j++)
            dot += v[j] * b[j];
        norm2 += dot * dot;
    }
    return acos(fmin(1.0, sqrt(norm2)));
}

static int run_mode(model *md, dss_model *dm, int mode, size_t rank, size_t p, size_t q,
                    int runs, measure *out)
{
    const size_t n = md->n;
    double t_commit[MAX_RUNS], t_cb[MAX_RUNS], t_lib[MAX_RUNS], worst[MAX_RUNS];
    double *z0 = calloc(n, sizeof *z0), *basis = malloc(n * sizeof *basis);
    double *s = malloc(n * sizeof *s);
    dss_search *search = NULL;
    int rc, ok = -1;
    size_t idx;

    *out = (measure){ .distinct_ok = 1 };
    if (!z0 || !basis || !s)
        goto done;
    if ((rc = dss_search_create(&search, dm)) != DSS_OK
        || (rc = dss_search_set(search, DSS_SEARCH_JACOBIAN, mode)) != DSS_OK
        || (rc = dss_search_set(search, DSS_SEARCH_RANK, (double)rank)) != DSS_OK
        || (rc = dss_search_set(search, DSS_SEARCH_OVERSAMPLE, (double)p)) != DSS_OK
        || (rc = dss_search_set(search, DSS_SEARCH_POWER_ITERATIONS, (double)q)) != DSS_OK
        || (rc = dss_search_set(search, DSS_SEARCH_SAMPLER, DSS_SAMPLER_TOP)) != DSS_OK
        || (rc = dss_search_set(search, DSS_SEARCH_SEED, 7)) != DSS_OK
        || (rc = dss_search_start(search, z0)) != DSS_OK
        || (rc = dss_search_commit(search, 1.0)) != DSS_OK) { /* warm-up */
        fprintf(stderr, "randomized: setup failed: %s\n", dss_strerror(rc));
        goto done;
    }
    for (int r = 0; r < runs; r++) {
        const size_t kept = dss_search_rank(search) < rank ? dss_search_rank(search) : rank;
        double t0;
        reset_counts(md);
        t0 = now();
        rc = dss_search_commit(search, r % 2 ? 1.0 : 0.0);
        t_commit[r] = now() - t0;
        t_cb[r] = md->cb_seconds;
        t_lib[r] = t_commit[r] - t_cb[r];
        if (rc != DSS_OK) {
            fprintf(stderr, "randomized: commit failed: %s\n", dss_strerror(rc));
            goto done;
        }
        out->vjps = md->vjp_rows;
        out->jvps = md->jvp_rows + md->f_points;
        out->products = (double)(md->vjp_rows + md->jvp_rows + md->f_points);
        /* singular values */
        if (dss_search_singular_values(search, s, kept) != DSS_OK)
            goto done;
        for (size_t i = 0; i < kept; i++)
            out->sv_err = fmax(out->sv_err, fabs(s[i] - md->s[i]) / md->s[i]);
        /* the kept directions, in order: the commit's, then kept - 1 resamples */
        worst[r] = 0.0;
        for (size_t i = 0; i < kept; i++) {
            double a;
            if (i > 0 && (rc = dss_search_resample(search)) != DSS_OK)
                goto done;
            if (dss_search_basis(search, basis) != DSS_OK
                || dss_search_basis_indices(search, &idx) != DSS_OK)
                goto done;
            if (idx != i)
                out->distinct_ok = 0;
            a = angle_to_top(md, kept, basis);
            worst[r] = fmax(worst[r], a);
            if (a > out->angle) {
                out->angle = a;
                out->worst_angle_index = (int)idx;
            }
        }
    }
    out->commit_ms = 1e3 * bench_median(t_commit, (size_t)runs);
    out->cb_ms = 1e3 * bench_median(t_cb, (size_t)runs);
    out->lib_ms = 1e3 * bench_median(t_lib, (size_t)runs);
    out->angle_median = bench_median(worst, (size_t)runs);
    ok = 0;
done:
    dss_search_destroy(search);
    free(z0);
    free(basis);
    free(s);
    return ok;
}

/* ---- main ------------------------------------------------------------------------------- */

static int parse_size(const char *s, size_t *out)
{
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (*s == '\0' || *end != '\0' || v > 1u << 24)
        return -1;
    *out = (size_t)v;
    return 0;
}

static void usage(void)
{
    fprintf(stderr, "usage: randomized [--runs K] [--full-runs K] [--rank K] [--m M] [--n N] "
                    "[--cpu]\n"
                    "  --cpu: process CPU time instead of wall time (single-threaded BLAS only)\n"
                    "  defaults: 21 runs (RANDOMIZED), 7 (FULL; 0 skips it), rank 16, m 65536, n 512\n");
}

int main(int argc, char **argv)
{
    size_t m = 65536, n = 512, rank = 16, runs = 21, full_runs = 7;
    /* (oversample, power) settings; the first is the library's default */
    const size_t settings[][2] = { { 10, 1 }, { 10, 0 }, { 5, 1 }, { 16, 1 }, { 20, 1 },
                                   { 5, 2 }, { 10, 2 }, { 26, 0 }, { 48, 0 } };
    const size_t nsettings = sizeof settings / sizeof settings[0];
    const char *decay_name[2] = { "s_i = exp(-i/8)", "s_i = 1/(i+1)" };
    model md;
    dss_model *dm = NULL;
    int rc;

    for (int i = 1; i < argc;) {
        size_t *dst = NULL;
        if (strcmp(argv[i], "--cpu") == 0) {
            use_cpu_clock = 1;
            i++;
            continue;
        }
        if (strcmp(argv[i], "--runs") == 0)
            dst = &runs;
        else if (strcmp(argv[i], "--full-runs") == 0)
            dst = &full_runs;
        else if (strcmp(argv[i], "--rank") == 0)
            dst = &rank;
        else if (strcmp(argv[i], "--m") == 0)
            dst = &m;
        else if (strcmp(argv[i], "--n") == 0)
            dst = &n;
        if (dst == NULL || i + 1 >= argc || parse_size(argv[i + 1], dst) != 0) {
            usage();
            return 2;
        }
        i += 2;
    }
    if (runs < 1 || runs > MAX_RUNS || full_runs > MAX_RUNS || rank < 1 || n < 2
        || m < n || m % n != 0 || rank > n) {
        fprintf(stderr, "randomized: need 1 <= runs <= %d, full-runs <= %d (0: skip FULL), 1 <= rank <= n, n >= 2, m a multiple "
                        "of n\n", MAX_RUNS, MAX_RUNS);
        return 2;
    }
    if (model_init(&md, m, n) != 0) {
        fprintf(stderr, "randomized: out of memory\n");
        return 1;
    }
    if ((rc = dss_model_create(&dm, n, m, model_f, &md)) != DSS_OK
        || (rc = dss_model_set_jacobian(dm, model_jacobian)) != DSS_OK
        || (rc = dss_model_set_vjp(dm, model_vjp)) != DSS_OK
        || (rc = dss_model_set_jvp(dm, model_jvp)) != DSS_OK) {
        fprintf(stderr, "randomized: %s\n", dss_strerror(rc));
        return 1;
    }

    printf("libdss %s: matrix-free Jacobian (RANDOMIZED) vs FULL, m = %zu, n = %zu, rank %zu\n",
           dss_version_string(), m, n, rank);
    printf("J = U diag(s) V^T with exact O(m + n^2) VJP/JVP; medians of %zu moved commits "
           "(FULL: %zu); errors are the worst over those commits\n", runs, full_runs);
    printf("clock: %s\n", use_cpu_clock ? "process CPU time (--cpu)" : "wall time");
    bench_print_loadavg("at start");
    printf("targets: s within 1 %%, angle < 0.1 rad, <= %zu products (n/4), library time >= 10x "
           "below FULL's (host copy included) and < 16 ms\n", n / 4);
    fflush(stdout);

    for (int decay = 0; decay < 2; decay++) {
        measure full = { 0 };
        for (size_t i = 0; i < n; i++)
            md.s[i] = decay == 0 ? exp(-(double)i / 8.0) : 1.0 / (double)(i + 1);
        if (full_runs > 0
            && run_mode(&md, dm, DSS_JACOBIAN_FULL, rank, 10, 1, (int)full_runs, &full) != 0)
            return 1;
        printf("\n### %s\n\n", decay_name[decay]);
        if (full_runs > 0)
            printf("FULL: commit %.1f ms = host writes J %.1f ms + library %.1f ms; "
                   "top-%zu s error %.1e, angle %.1e rad\n\n",
                   full.commit_ms, full.cb_ms, full.lib_ms, rank, full.sv_err, full.angle);
        printf("| p | q | products (VJP+JVP) | s max rel. err "
               "| max angle rad (index) | median run's max angle | commit ms | callbacks ms "
               "| library ms | FULL/library | met: s, angle, products, 10x, 16 ms |\n");
        printf("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n");
        for (size_t k = 0; k < nsettings; k++) {
            measure r;
            double ratio;
            if (run_mode(&md, dm, DSS_JACOBIAN_RANDOMIZED, rank, settings[k][0], settings[k][1],
                         (int)runs, &r) != 0)
                return 1;
            ratio = full.commit_ms / r.lib_ms;
            printf("| %zu%s | %zu | %.0f (%zu+%zu) | %.2e | %.4f (%d) | %.4f | %.2f | %.2f "
                   "| %.2f | %.0fx | %s %s %s %s %s%s |\n",
                   settings[k][0], k == 0 ? " (default)" : "", settings[k][1], r.products,
                   r.vjps, r.jvps, r.sv_err, r.angle, r.worst_angle_index, r.angle_median,
                   r.commit_ms, r.cb_ms,
                   r.lib_ms, ratio, r.sv_err <= 0.01 ? "yes" : "NO",
                   r.angle < 0.1 ? "yes" : "NO", r.products <= (double)(n / 4) ? "yes" : "NO",
                   ratio >= 10.0 ? "yes" : "NO", r.lib_ms < 16.0 ? "yes" : "NO",
                   r.distinct_ok ? "" : " (directions out of order!)");
            fflush(stdout);
        }
    }
    printf("\n(p = DSS_SEARCH_OVERSAMPLE, q = DSS_SEARCH_POWER_ITERATIONS; products per update "
           "= 2 (q + 1) (rank + p); angles: the %zu directions proposed at each centre, index = "
           "the singular index of the worst one)\n", rank);
    bench_print_loadavg("at end");
    dss_model_destroy(dm);
    model_free(&md);
    return 0;
}
