/* bench/clusters: what close singular values cost the Gram route, and what they used to break.
 *
 * The Gram route computes a right-singular vector when the sampler first draws it, in one dstemr
 * call for its whole cluster of close eigenvalues (lib/decompose.c, docs/algorithm.md,
 * "Clusters"). This program builds J = U diag(s) W^T (m x n, U and W with orthonormal columns
 * from the QR of Gaussian matrices) for several spectra and reports, per spectrum:
 *   - start ms: dss_search_start in FULL mode (the host's copy of J, the decomposition and the
 *     first vector drawn by the default SINGULAR sampler);
 *   - resample ms: median and slowest of --resamples dss_search_resample calls (each draws one
 *     vector; the first draw into a cluster computes the whole cluster);
 *   - all n ms: dss_search_start with the TOP sampler and l = n, which computes every vector;
 *   - worst |v_i . v_k|: over all pairs of those n vectors (i != k), and the worst | |v_i| - 1 |;
 *   - MB held: DSS_STAT_BYTES_HELD of the l = n session.
 * Spectra: "uniform" (entries of J uniform in [-1, 1), the well-separated case), "equal" (all
 * s_i = 1), "exp" (s_i = exp(-i/8)), "inverse" (s_i = 1/(i+1)).
 *
 *   build/bench/clusters [--shape M N] [--resamples K] [--cpu]
 * --cpu: process CPU time (bench_clock); use it only with a single-threaded BLAS.
 */
#include "common.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lapack.h"

void dgeqrf_(const int *m, const int *n, double *a, const int *lda, double *tau, double *work,
             const int *lwork, int *info);
void dorgqr_(const int *m, const int *n, const int *k, double *a, const int *lda,
             const double *tau, double *work, const int *lwork, int *info);

enum { MAX_RESAMPLES = 4096 };

static int use_cpu = 0;
static double now(void) { return bench_clock(use_cpu); }

typedef struct host {
    size_t m, n;
    double *J; /* m x n, row-major */
} host;

static int host_f(void *user, size_t k, const double *z, double *x)
{
    const host *h = user;
    for (size_t p = 0; p < k; p++)
        for (size_t d = 0; d < h->m; d++) {
            double acc = 0.0;
            for (size_t j = 0; j < h->n; j++)
                acc += h->J[d * h->n + j] * z[p * h->n + j];
            x[p * h->m + d] = acc;
        }
    return 0;
}

static int host_jacobian(void *user, const double *z, size_t nrows, const size_t *rows,
                         double *out)
{
    const host *h = user;
    (void)z;
    if (rows == NULL) {
        memcpy(out, h->J, nrows * h->n * sizeof *out);
        return 0;
    }
    for (size_t r = 0; r < nrows; r++)
        memcpy(out + r * h->n, h->J + rows[r] * h->n, h->n * sizeof *out);
    return 0;
}

static double gaussian(unsigned long long *state)
{
    double u = ((double)(bench_splitmix64(state) >> 11) + 1.0) * 0x1.0p-53;
    double v = (double)(bench_splitmix64(state) >> 11) * 0x1.0p-53;
    return sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v);
}

/* Q (rows x cols, column-major, orthonormal columns) from the QR of a Gaussian matrix. */
static int random_orthonormal(double *Q, int rows, int cols, unsigned long long *state)
{
    int info = 0, lwork = 64 * cols;
    double *tau = malloc((size_t)cols * sizeof *tau), *work = malloc((size_t)lwork * sizeof *work);
    if (tau == NULL || work == NULL) {
        free(tau);
        free(work);
        return -1;
    }
    for (size_t i = 0; i < (size_t)rows * (size_t)cols; i++)
        Q[i] = gaussian(state);
    dgeqrf_(&rows, &cols, Q, &rows, tau, work, &lwork, &info);
    if (info == 0)
        dorgqr_(&rows, &cols, &cols, Q, &rows, tau, work, &lwork, &info);
    free(tau);
    free(work);
    return info == 0 ? 0 : -1;
}

/* J for spectrum kind: 0 uniform entries, 1 equal, 2 exp(-i/8), 3 1/(i+1). */
static int make_jacobian(host *h, int kind)
{
    const int m = (int)h->m, n = (int)h->n;
    unsigned long long state = 2026 + (unsigned long long)kind;
    double *U, *W;
    const double one = 1.0, zero = 0.0;

    if (kind == 0) {
        for (size_t i = 0; i < h->m * h->n; i++)
            h->J[i] = (double)(bench_splitmix64(&state) >> 11) * 0x1.0p-52 - 1.0;
        return 0;
    }
    U = malloc(h->m * h->n * sizeof *U);
    W = malloc(h->n * h->n * sizeof *W);
    if (U == NULL || W == NULL || random_orthonormal(U, m, n, &state) != 0
        || random_orthonormal(W, n, n, &state) != 0) {
        free(U);
        free(W);
        return -1;
    }
    for (size_t c = 0; c < h->n; c++) { /* U <- U diag(s) */
        double s = kind == 1 ? 1.0 : kind == 2 ? exp(-(double)c / 8.0) : 1.0 / (double)(c + 1);
        for (size_t r = 0; r < h->m; r++)
            U[c * h->m + r] *= s;
    }
    /* row-major J (m x n) is the column-major J^T (n x m) = W (U S)^T */
    dgemm_("N", "T", &n, &m, &n, &one, W, &n, U, &m, &zero, h->J, &n);
    free(U);
    free(W);
    return 0;
}

typedef struct result {
    double start_ms, resample_median_ms, resample_max_ms, all_ms, worst_dot, worst_norm, mb;
} result;

static int measure(const host *h, int resamples, result *out)
{
    dss_model *model = NULL;
    dss_search *one = NULL, *all = NULL;
    double *z0 = calloc(h->n, sizeof *z0), *basis = malloc(h->n * h->n * sizeof *basis);
    double times[MAX_RESAMPLES], t0, held = 0.0;
    int rc = -1;

    if (z0 == NULL || basis == NULL || resamples < 1 || resamples > MAX_RESAMPLES)
        goto done;
    BENCH_CHECK("clusters", dss_model_create(&model, h->n, h->m, host_f, (void *)h));
    BENCH_CHECK("clusters", dss_model_set_jacobian(model, host_jacobian));
    BENCH_CHECK("clusters", dss_search_create(&one, model));
    BENCH_CHECK("clusters", dss_search_set(one, DSS_SEARCH_JACOBIAN, DSS_JACOBIAN_FULL));
    t0 = now();
    BENCH_CHECK("clusters", dss_search_start(one, z0));
    out->start_ms = 1e3 * (now() - t0);
    for (int r = 0; r < resamples; r++) {
        t0 = now();
        BENCH_CHECK("clusters", dss_search_resample(one));
        times[r] = 1e3 * (now() - t0);
    }
    out->resample_median_ms = bench_median(times, (size_t)resamples);
    out->resample_max_ms = 0.0;
    for (int r = 0; r < resamples; r++)
        out->resample_max_ms = fmax(out->resample_max_ms, times[r]);

    BENCH_CHECK("clusters", dss_search_create(&all, model));
    BENCH_CHECK("clusters", dss_search_set(all, DSS_SEARCH_JACOBIAN, DSS_JACOBIAN_FULL));
    BENCH_CHECK("clusters", dss_search_set(all, DSS_SEARCH_SAMPLER, DSS_SAMPLER_TOP));
    BENCH_CHECK("clusters", dss_search_set(all, DSS_SEARCH_SUBSPACE_DIM, (double)h->n));
    t0 = now();
    BENCH_CHECK("clusters", dss_search_start(all, z0));
    out->all_ms = 1e3 * (now() - t0);
    BENCH_CHECK("clusters", dss_search_basis(all, basis));
    BENCH_CHECK("clusters", dss_search_stat(all, DSS_STAT_BYTES_HELD, &held));
    out->mb = held / 1e6;
    out->worst_dot = out->worst_norm = 0.0;
    for (size_t i = 0; i < h->n; i++)
        for (size_t k = 0; k <= i; k++) {
            double dot = 0.0;
            for (size_t j = 0; j < h->n; j++)
                dot += basis[i * h->n + j] * basis[k * h->n + j];
            if (k == i)
                out->worst_norm = fmax(out->worst_norm, fabs(sqrt(dot) - 1.0));
            else
                out->worst_dot = fmax(out->worst_dot, fabs(dot));
        }
    rc = 0;
done:
    dss_search_destroy(all);
    dss_search_destroy(one);
    dss_model_destroy(model);
    free(z0);
    free(basis);
    return rc;
}

static void usage(void)
{
    fprintf(stderr, "usage: clusters [--shape M N] [--resamples K] [--cpu]\n"
                    "  --shape M N: the Jacobian's rows and columns, M >= N (default 1024 512)\n"
                    "  --resamples K: resamples timed per spectrum, 1 to %d (default 64)\n"
                    "  --cpu: process CPU time instead of wall time (single-threaded BLAS only)\n",
            MAX_RESAMPLES);
}

int main(int argc, char **argv)
{
    static const char *const names[] = { "uniform", "equal", "exp(-i/8)", "1/(i+1)" };
    int m = 1024, n = 512, resamples = 64, rc = 0;
    host h;

    if (bench_parse_shape_args(argc, argv, "--resamples", MAX_RESAMPLES, 2048, &m, &n,
                               &resamples, &use_cpu) != 0) {
        usage();
        return 2;
    }
    h.m = (size_t)m;
    h.n = (size_t)n;
    h.J = malloc(h.m * h.n * sizeof *h.J);
    if (h.J == NULL) {
        fprintf(stderr, "clusters: out of memory\n");
        return 1;
    }
    printf("clusters: m = %d, n = %d, %d resamples, clock: %s; libdss %s\n", m, n, resamples,
           use_cpu ? "process CPU time (--cpu)" : "wall time", dss_version_string());
    bench_print_loadavg("at start");
    printf("| spectrum | start ms | resample ms, median | slowest | all n ms | worst |v_i . v_k| "
           "| worst ||v_i| - 1| | MB held |\n|---|---:|---:|---:|---:|---:|---:|---:|\n");
    for (int kind = 0; kind < 4 && rc == 0; kind++) {
        result r;
        if (make_jacobian(&h, kind) != 0 || measure(&h, resamples, &r) != 0) {
            fprintf(stderr, "clusters: the %s spectrum failed\n", names[kind]);
            rc = 1;
            break;
        }
        printf("| %s | %.2f | %.3f | %.2f | %.1f | %.2e | %.2e | %.1f |\n", names[kind],
               r.start_ms, r.resample_median_ms, r.resample_max_ms, r.all_ms, r.worst_dot,
               r.worst_norm, r.mb);
    }
    bench_print_loadavg("at end");
    free(h.J);
    return rc;
}
