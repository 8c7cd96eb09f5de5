/* bench/tridiag: the Gram route's LAPACK stages and the alternatives to each, timed on one J,
 * so that the best combination of them can be set against the authors' dgesdd('A') in the
 * same run (issue 3, section 1: why 10x at 1024 x 512 is out of the Gram route's reach).
 *
 * Stages, each a median of --runs runs on the same well-conditioned J (uniform in [-1, 1)):
 *   form G = J^T J:      dsyrk (what libdss calls; the floor), or dgemm forming both triangles;
 *   reduce to tridiagonal: dsytrd 'L' (libdss), dsytrd 'U', or the two-stage route with band
 *                        width KD: dsytrd_sy2sb, then the band to tridiagonal by dsytrd_sb2st or
 *                        dsbtrd (values only; neither keeps what a singular vector would need);
 *   eigenvalues of T:    dsterf (libdss), dstemr('N', 'A') (MRRR's dqds), or dlasq1 on the
 *                        bidiagonal Cholesky factor of T (dpttrf; T must be positive definite).
 * Then: the authors' dgesdd('A') on the same J, and the ratio it would have to the sum of the
 * fastest alternative of each stage (host copy, finiteness check and the one singular vector
 * left out, so an upper bound for any Gram-route update built from these routines).
 *
 *   build/bench/tridiag [--shape M N] [--runs K] [--cpu]
 * --cpu: process CPU time (bench_clock); use it only with a single-threaded BLAS.
 */
#include "common.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lapack.h"

void dgesdd_(const char *jobz, const int *m, const int *n, double *a, const int *lda, double *s,
             double *u, const int *ldu, double *vt, const int *ldvt, double *work,
             const int *lwork, int *iwork, int *info);
void dsytrd_sy2sb_(const char *uplo, const int *n, const int *kd, double *a, const int *lda,
                   double *ab, const int *ldab, double *tau, double *work, const int *lwork,
                   int *info);
void dsytrd_sb2st_(const char *stage1, const char *vect, const char *uplo, const int *n,
                   const int *kd, double *ab, const int *ldab, double *d, double *e, double *hous,
                   const int *lhous, double *work, const int *lwork, int *info);
void dsbtrd_(const char *vect, const char *uplo, const int *n, const int *kd, double *ab,
             const int *ldab, double *d, double *e, double *q, const int *ldq, double *work,
             int *info);
void dpttrf_(const int *n, double *d, double *e, int *info);
void dlasq1_(const int *n, double *d, double *e, double *work, int *info);

enum { MAX_RUNS = 101 };
static const int band_widths[] = { 8, 16, 32, 64 };
#define N_BANDS (int)(sizeof band_widths / sizeof band_widths[0])

static int use_cpu = 0;
static double now(void) { return bench_clock(use_cpu); }

/* The J and the workspaces every timed routine uses, allocated once. */
typedef struct {
    int m, n, lwork;
    double *J, *G0, *G, *AB, *d, *e, *tau, *hous, *work, *U, *VT, *S, *A;
    int *iwork;
} bench_data;

/* The largest workspace any timed routine asks for: dgesdd('A')'s (queried), and room for
   sb2st's (2 KD + 1) n, dstemr's 18 n and dsytrd's n NB. -1 if a query fails. */
static int lwork_needed(int m, int n)
{
    int info = 0, query_lwork = -1, iwork = 0;
    double query = 0.0, dummy = 0.0, need = (double)(2 * band_widths[N_BANDS - 1] + 2) * n;
    dgesdd_("A", &m, &n, &dummy, &m, &dummy, &dummy, &m, &dummy, &n, &query, &query_lwork,
            &iwork, &info);
    if (info != 0 || query > 1e9)
        return -1;
    if (query < need)
        query = need;
    return (int)query + 64 * n;
}

static int data_init(bench_data *b, int m, int n)
{
    unsigned long long seed = 42;
    size_t nn = (size_t)n * (size_t)n, mn = (size_t)m * (size_t)n;
    b->m = m;
    b->n = n;
    b->lwork = lwork_needed(m, n);
    b->J = malloc(mn * sizeof *b->J);
    b->A = malloc(mn * sizeof *b->A);
    b->G0 = malloc(nn * sizeof *b->G0);
    b->G = malloc(nn * sizeof *b->G);
    b->AB = malloc((size_t)(band_widths[N_BANDS - 1] + 1) * (size_t)n * sizeof *b->AB);
    b->d = malloc((size_t)n * sizeof *b->d);
    b->e = malloc((size_t)n * sizeof *b->e);
    b->tau = malloc((size_t)n * sizeof *b->tau);
    b->hous = malloc(4 * (size_t)n * sizeof *b->hous);
    b->work = malloc((size_t)b->lwork * sizeof *b->work);
    b->U = malloc((size_t)m * (size_t)m * sizeof *b->U);
    b->VT = malloc(nn * sizeof *b->VT);
    b->S = malloc((size_t)n * sizeof *b->S);
    b->iwork = malloc(12 * (size_t)n * sizeof *b->iwork);
    if (b->lwork < 0 || !b->J || !b->A || !b->G0 || !b->G || !b->AB || !b->d || !b->e
        || !b->tau || !b->hous || !b->work || !b->U || !b->VT || !b->S || !b->iwork)
        return -1;
    for (size_t i = 0; i < mn; i++)
        b->J[i] = (double)(bench_splitmix64(&seed) >> 11) * 0x1.0p-52 - 1.0;
    /* row-major J (m x n) is the column-major J^T (n x m): dsyrk('L', 'N') gives J^T J */
    const double one = 1.0, zero = 0.0;
    dsyrk_("L", "N", &b->n, &b->m, &one, b->J, &b->n, &zero, b->G0, &b->n);
    return 0;
}

static void data_free(bench_data *b)
{
    free(b->J); free(b->A); free(b->G0); free(b->G); free(b->AB); free(b->d); free(b->e);
    free(b->tau); free(b->hous); free(b->work); free(b->U); free(b->VT); free(b->S); free(b->iwork);
}

/* The tridiagonal T of G0 (dsytrd 'L') into d, e: the input of the eigenvalue stages. */
static int tridiagonal(bench_data *b)
{
    int info = 0;
    memcpy(b->G, b->G0, (size_t)b->n * (size_t)b->n * sizeof *b->G);
    dsytrd_("L", &b->n, b->G, &b->n, b->d, b->e, b->tau, b->work, &b->lwork, &info);
    return info;
}

/* ---- the stages: each returns the seconds of its timed part, or -1 on a LAPACK failure ---- */

static double form_syrk(bench_data *b, int arg)
{
    const double one = 1.0, zero = 0.0;
    double t0 = now();
    (void)arg;
    dsyrk_("L", "N", &b->n, &b->m, &one, b->J, &b->n, &zero, b->G, &b->n);
    return now() - t0;
}

static double form_gemm(bench_data *b, int arg)
{
    const double one = 1.0, zero = 0.0;
    double t0 = now();
    (void)arg;
    dgemm_("N", "T", &b->n, &b->n, &b->m, &one, b->J, &b->n, b->J, &b->n, &zero, b->G, &b->n);
    return now() - t0;
}

static double reduce_sytrd(bench_data *b, int upper)
{
    int info = 0;
    double t0;
    memcpy(b->G, b->G0, (size_t)b->n * (size_t)b->n * sizeof *b->G);
    if (upper) { /* G0 holds the lower triangle: mirror it */
        const size_t n = (size_t)b->n;
        for (size_t j = 0; j < n; j++)
            for (size_t i = j + 1; i < n; i++)
                b->G[i * n + j] = b->G[j * n + i];
    }
    t0 = now();
    dsytrd_(upper ? "U" : "L", &b->n, b->G, &b->n, b->d, b->e, b->tau, b->work, &b->lwork, &info);
    return info == 0 ? now() - t0 : -1.0;
}

/* sy2sb with band width kd; the band then to tridiagonal by sb2st (which = 0) or dsbtrd. */
static double reduce_band(bench_data *b, int kd, int which, double *second)
{
    int info = 0, ldab = kd + 1, lhous = 4 * b->n, ldq = 1;
    double t0, t1, q = 0.0;
    memcpy(b->G, b->G0, (size_t)b->n * (size_t)b->n * sizeof *b->G);
    t0 = now();
    dsytrd_sy2sb_("L", &b->n, &kd, b->G, &b->n, b->AB, &ldab, b->tau, b->work, &b->lwork, &info);
    t1 = now();
    if (info != 0)
        return -1.0;
    if (which == 0)
        dsytrd_sb2st_("N", "N", "L", &b->n, &kd, b->AB, &ldab, b->d, b->e, b->hous, &lhous,
                      b->work, &b->lwork, &info);
    else
        dsbtrd_("N", "L", &b->n, &kd, b->AB, &ldab, b->d, b->e, &q, &ldq, b->work, &info);
    *second = now() - t1;
    return info == 0 ? t1 - t0 : -1.0;
}

static double values_sterf(bench_data *b, int arg)
{
    int info = tridiagonal(b);
    double t0 = now();
    (void)arg;
    if (info == 0)
        dsterf_(&b->n, b->d, b->e, &info);
    return info == 0 ? now() - t0 : -1.0;
}

static double values_stemr(bench_data *b, int arg)
{   /* iwork: 2n for ISUPPZ (unused with 'N'), then dstemr's 10n */
    int info = tridiagonal(b), found = 0, ldz = 1, nzc = 0, tryrac = 1, liwork = 10 * b->n;
    double vl = 0.0, vu = 0.0, z = 0.0, t0;
    const int il = 1, iu = b->n;
    (void)arg;
    t0 = now();
    if (info == 0)
        dstemr_("N", "A", &b->n, b->d, b->e, &vl, &vu, &il, &iu, &found, b->S, &z, &ldz, &nzc,
                b->iwork, &tryrac, b->work, &b->lwork, b->iwork + 2 * b->n, &liwork, &info);
    return info == 0 ? now() - t0 : -1.0;
}

/* T = L D L^T (dpttrf); B = D^(1/2) L^T is upper bidiagonal with B^T B = T. */
static double values_dqds(bench_data *b, int arg)
{
    int info = tridiagonal(b);
    double t0 = now();
    (void)arg;
    if (info == 0)
        dpttrf_(&b->n, b->d, b->e, &info);
    if (info != 0)
        return -1.0;
    for (int i = 0; i < b->n; i++) {
        b->d[i] = sqrt(b->d[i]);
        if (i + 1 < b->n)
            b->e[i] *= b->d[i];
    }
    dlasq1_(&b->n, b->d, b->e, b->work, &info);
    return info == 0 ? now() - t0 : -1.0;
}

static double authors(bench_data *b, int arg)
{
    int info = 0;
    double t0 = now();
    (void)arg;
    /* numpy's copy of the row-major J into dgesdd's column-major input (it is destroyed) */
    for (int i = 0; i < b->m; i++)
        for (int j = 0; j < b->n; j++)
            b->A[(size_t)j * (size_t)b->m + (size_t)i] = b->J[(size_t)i * (size_t)b->n + (size_t)j];
    dgesdd_("A", &b->m, &b->n, b->A, &b->m, b->S, b->U, &b->m, b->VT, &b->n, b->work,
            &b->lwork, b->iwork, &info);
    return info == 0 ? now() - t0 : -1.0;
}

/* Median milliseconds of runs calls of fn; -1 if any failed. */
static double median_ms(double (*fn)(bench_data *, int), bench_data *b, int arg, int runs)
{
    double t[MAX_RUNS];
    for (int r = 0; r < runs; r++)
        if ((t[r] = fn(b, arg)) < 0.0)
            return -1.0;
    return 1e3 * bench_median(t, (size_t)runs);
}

static void row(const char *stage, const char *how, double ms, const char *note)
{
    if (ms < 0.0)
        printf("| %s | %s | failed | %s |\n", stage, how, note);
    else
        printf("| %s | %s | %.2f | %s |\n", stage, how, ms, note);
}

static int run(int m, int n, int runs)
{
    bench_data b;
    double form[2], reduce[2], values[3], best_reduce, best_form, best_values, sum, gesdd;
    char how[64];

    if (data_init(&b, m, n) != 0) {
        fprintf(stderr, "tridiag: out of memory\n");
        data_free(&b);
        return 1;
    }
    printf("| stage | routine | median ms | note |\n|---|---|---:|---|\n");
    row("form G", "dsyrk 'L'", form[0] = median_ms(form_syrk, &b, 0, runs), "libdss; the floor");
    row("form G", "dgemm J^T J", form[1] = median_ms(form_gemm, &b, 0, runs), "both triangles");
    row("reduce", "dsytrd 'L'", reduce[0] = median_ms(reduce_sytrd, &b, 0, runs), "libdss");
    row("reduce", "dsytrd 'U'", reduce[1] = median_ms(reduce_sytrd, &b, 1, runs), "");
    best_reduce = reduce[0] >= 0.0 && (reduce[1] < 0.0 || reduce[0] <= reduce[1]) ? reduce[0]
                                                                                   : reduce[1];
    for (int k = 0; k < N_BANDS; k++) {
        double first[MAX_RUNS], second[2][MAX_RUNS], med1, med2[2];
        int ok = 1;
        for (int which = 0; which < 2 && ok; which++)
            for (int r = 0; r < runs && ok; r++) {
                double t = reduce_band(&b, band_widths[k], which, &second[which][r]);
                ok = t >= 0.0;
                if (which == 0)
                    first[r] = t;
            }
        if (!ok) {
            snprintf(how, sizeof how, "two-stage, KD = %d", band_widths[k]);
            row("reduce", how, -1.0, "");
            continue;
        }
        med1 = 1e3 * bench_median(first, (size_t)runs);
        med2[0] = 1e3 * bench_median(second[0], (size_t)runs);
        med2[1] = 1e3 * bench_median(second[1], (size_t)runs);
        snprintf(how, sizeof how, "dsytrd_sy2sb, KD = %d", band_widths[k]);
        row("reduce", how, med1, "stage 1 alone");
        snprintf(how, sizeof how, "+ dsytrd_sb2st, KD = %d", band_widths[k]);
        row("reduce", how, med1 + med2[0], "sum; no singular vectors");
        snprintf(how, sizeof how, "+ dsbtrd, KD = %d", band_widths[k]);
        row("reduce", how, med1 + med2[1], "sum; no singular vectors");
        for (int w = 0; w < 2; w++)
            if (best_reduce < 0.0 || med1 + med2[w] < best_reduce)
                best_reduce = med1 + med2[w];
    }
    row("values", "dsterf", values[0] = median_ms(values_sterf, &b, 0, runs), "libdss");
    row("values", "dstemr 'N', 'A'", values[1] = median_ms(values_stemr, &b, 0, runs), "dqds");
    row("values", "dpttrf + dlasq1", values[2] = median_ms(values_dqds, &b, 0, runs),
        "dqds on the Cholesky factor");
    gesdd = median_ms(authors, &b, 0, runs);
    row("authors", "copy + dgesdd 'A'", gesdd, "numpy.linalg.svd(J, full_matrices=True)");

    best_form = form[0] >= 0.0 && (form[1] < 0.0 || form[0] <= form[1]) ? form[0] : form[1];
    best_values = -1.0;
    for (int k = 0; k < 3; k++)
        if (values[k] >= 0.0 && (best_values < 0.0 || values[k] < best_values))
            best_values = values[k];
    data_free(&b);
    if (best_form < 0.0 || best_reduce < 0.0 || best_values < 0.0 || gesdd < 0.0) {
        fprintf(stderr, "tridiag: a LAPACK routine failed\n");
        return 1;
    }
    sum = best_form + best_reduce + best_values;
    printf("\nfastest of each stage: form %.2f + reduce %.2f + values %.2f = %.2f ms\n",
           best_form, best_reduce, best_values, sum);
    printf("authors / that sum: %.2fx (an upper bound for a Gram-route update from these "
           "routines; libdss adds the host's copy, the finiteness check and one vector)\n",
           gesdd / sum);
    printf("libdss's own stages (dsyrk + dsytrd 'L' + dsterf): %.2f ms, authors / that: %.2fx\n",
           form[0] + reduce[0] + values[0], gesdd / (form[0] + reduce[0] + values[0]));
    return 0;
}

static void usage(void)
{
    fprintf(stderr, "usage: tridiag [--shape M N] [--runs K] [--cpu]\n"
                    "  --shape M N: the Jacobian's rows and columns, M >= N (default 1024 512)\n"
                    "  --runs K: runs per median, 1 to %d (default 9)\n"
                    "  --cpu: process CPU time instead of wall time (single-threaded BLAS only)\n",
            MAX_RUNS);
}

int main(int argc, char **argv)
{
    int m = 1024, n = 512, runs = 9;
    if (bench_parse_shape_args(argc, argv, "--runs", MAX_RUNS, 4096, &m, &n, &runs, &use_cpu)
        != 0) {
        usage();
        return 2;
    }
    printf("tridiag: m = %d, n = %d, %d runs per median, clock: %s\n", m, n, runs,
           use_cpu ? "process CPU time (--cpu)" : "wall time");
    bench_print_loadavg("at start");
    int rc = run(m, n, runs);
    bench_print_loadavg("at end");
    return rc;
}
