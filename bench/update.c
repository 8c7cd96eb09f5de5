/* bench/update: the cost of a subspace update (a moved commit) in FULL mode, against the
 * authors' route and against the floor, measured in one process (issue 3, section 1).
 *
 *   (a) authors: LAPACK dgesdd with JOBZ = 'A' on the m x n Jacobian, what
 *       numpy.linalg.svd(J, full_matrices=True) runs, including numpy's copy of the row-major J
 *       into the column-major scratch that dgesdd destroys (U, m x m, is allocated once outside
 *       the timing, to the authors' advantage);
 *   (b) libdss: dss_search_commit(search, t) in DSS_JACOBIAN_FULL, t alternating between 1 and
 *       0 so that every commit moves and recomputes; the model's Jacobian callback memcpy's a
 *       fixed J into the library's buffer (the host's copy counts as libdss's time);
 *   (c) floor: dsyrk alone (G = J^T J) on the same J.
 * Medians of --runs runs (default 7), interleaved a, b, c in each run.
 *
 * dgesdd('A') forms the m x m U: at 16384 x 512 one call takes a minute with OpenBLAS and
 * several with reference BLAS, so by default its runs stop once they have used --budget seconds
 * (default 120) for a shape, after at least one; --authors-runs K forces exactly K runs. The
 * number of runs behind each median is printed.
 *
 * --stages also times the stages of libdss's Gram route separately on the same J (the host's
 * copy, the finiteness check, dsyrk, dsytrd, dsterf, dstemr and dormtr for one vector, and a
 * plain loop applying the reflectors to that vector in place of dormtr).
 *
 * --cpu measures the process's CPU time instead of wall time: on a machine shared with other
 * jobs it is the robust figure, but only with a single-threaded BLAS (reference BLAS, or
 * OPENBLAS_NUM_THREADS=1), since with threads it would add up every thread's spinning.
 *
 *   build/bench/update [--shape M N]... [--runs K] [--authors-runs K] [--budget SECONDS]
 *                      [--stages] [--cpu]
 */
#include "common.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dss/dss.h>

#include "lapack.h"

void dgesdd_(const char *jobz, const int *m, const int *n, double *a, const int *lda, double *s,
             double *u, const int *ldu, double *vt, const int *ldvt, double *work,
             const int *lwork, int *iwork, int *info);

#define MAX_SHAPES 16
#define MAX_RUNS 1000

/* ---- the clock: wall time, or (--cpu) the process's CPU time ------------------------------ */

static int use_cpu_clock = 0;

/* --cpu: process CPU time (bench_clock) */
static double now(void) { return bench_clock(use_cpu_clock); }

/* ---- a small deterministic generator (splitmix64) --------------------------------------- */

static unsigned long long rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t next_u64(void) { return bench_splitmix64(&rng_state); }

/* uniform in [-1, 1) */
static double uniform(void) { return (double)(next_u64() >> 11) * 0x1.0p-52 - 1.0; }

/* ---- the host's model: f(z) = J z, Jacobian = a fixed J, copied on each call ------------- */

typedef struct host {
    size_t m, n;
    const double *J;      /* m x n, row-major */
    double copy_seconds;  /* time spent in the Jacobian callback (the host's copy) */
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
    host *h = user;
    double t0 = now();
    (void)z;
    if (rows == NULL)
        memcpy(out, h->J, h->m * h->n * sizeof *out);
    else
        for (size_t i = 0; i < nrows; i++)
            memcpy(out + i * h->n, h->J + rows[i] * h->n, h->n * sizeof *out);
    h->copy_seconds += now() - t0;
    return 0;
}

/* ---- the three routes ------------------------------------------------------------------- */

typedef struct authors {
    int m, n, lwork;
    double *A, *S, *U, *VT, *work;
    int *iwork;
} authors;

static int authors_init(authors *a, size_t m, size_t n)
{
    int info = 0, query_lwork = -1;
    double query = 0.0;
    const size_t mn = m < n ? m : n;

    *a = (authors){ .m = (int)m, .n = (int)n };
    a->A = malloc(m * n * sizeof *a->A);
    a->S = malloc(mn * sizeof *a->S);
    a->U = malloc(m * m * sizeof *a->U);
    a->VT = malloc(n * n * sizeof *a->VT);
    a->iwork = malloc(8 * mn * sizeof *a->iwork);
    if (!a->A || !a->S || !a->U || !a->VT || !a->iwork)
        return -1;
    dgesdd_("A", &a->m, &a->n, a->A, &a->m, a->S, a->U, &a->m, a->VT, &a->n, &query,
            &query_lwork, a->iwork, &info);
    if (info != 0)
        return -1;
    a->lwork = (int)query;
    a->work = malloc((size_t)a->lwork * sizeof *a->work);
    if (!a->work)
        return -1;
    memset(a->U, 0, m * m * sizeof *a->U); /* fault the pages in outside the timing */
    memset(a->work, 0, (size_t)a->lwork * sizeof *a->work);
    return 0;
}

static void authors_free(authors *a)
{
    free(a->A);
    free(a->S);
    free(a->U);
    free(a->VT);
    free(a->work);
    free(a->iwork);
}

/* numpy's route: copy the row-major J into a column-major (Fortran) m x n buffer, then
   dgesdd('A'). Returns the seconds taken, or a negative value on failure. */
static double authors_run(authors *a, const double *J)
{
    const size_t m = (size_t)a->m, n = (size_t)a->n;
    int info = 0;
    double t0 = now();
    for (size_t i0 = 0; i0 < m; i0 += 64) /* blocked transpose copy */
        for (size_t j0 = 0; j0 < n; j0 += 64)
            for (size_t j = j0; j < j0 + 64 && j < n; j++)
                for (size_t i = i0; i < i0 + 64 && i < m; i++)
                    a->A[j * m + i] = J[i * n + j];
    dgesdd_("A", &a->m, &a->n, a->A, &a->m, a->S, a->U, &a->m, a->VT, &a->n, a->work,
            &a->lwork, a->iwork, &info);
    if (info != 0)
        return -1.0;
    return now() - t0;
}

static double floor_run(const double *J, double *G, size_t m, size_t n)
{
    const int N = (int)n, K = (int)m;
    const double one = 1.0, zero = 0.0;
    double t0 = now();
    dsyrk_("L", "N", &N, &K, &one, J, &N, &zero, G, &N);
    return now() - t0;
}

/* ---- where libdss's time goes: its Gram route, stage by stage ----------------------------- */

/* Q z for the Q of dsytrd('L') (reflectors below the subdiagonal of A, column-major n x n):
   Q = H(1) ... H(n-1), H(k) = I - tau_k u u^T, u = (0, .., 0, 1, A(k+2:n, k)). The same as
   dormtr('L', 'L', 'N') on one column, without its blocking. */
static void apply_q(size_t n, const double *A, const double *tau, double *z)
{
    for (size_t k = n - 1; k-- > 0;) {
        const double *u = A + k * n;
        double dot = z[k + 1];
        if (tau[k] == 0.0)
            continue;
        for (size_t j = k + 2; j < n; j++)
            dot += u[j] * z[j];
        dot *= tau[k];
        z[k + 1] -= dot;
        for (size_t j = k + 2; j < n; j++)
            z[j] -= dot * u[j];
    }
}

static int scalar_finite(const double *v, size_t count)
{
    for (size_t i = 0; i < count; i++)
        if (!isfinite(v[i]))
            return 0;
    return 1;
}

enum { ST_COPY, ST_FINITE, ST_SYRK, ST_TRD, ST_STERF, ST_STEMR, ST_ORMTR, ST_APPLYQ, ST_COUNT };

/* Time each stage of lib/decompose.c's Gram route on J, as the library calls it (one vector:
   the sampler draws one direction per commit), runs times; medians in ms into ms[]. */
static int breakdown(const double *J, size_t m, size_t n, int runs, double ms[ST_COUNT])
{
    const int N = (int)n, K = (int)m, one_i = 1, index = (int)n, nzc = 1, liwork = 10 * (int)n;
    const double one = 1.0, zero = 0.0, vl = 0.0, vu = 0.0;
    double *Jc = malloc(m * n * sizeof *Jc), *G = malloc(n * n * sizeof *G);
    double *A = malloc(n * n * sizeof *A), *d = malloc(n * sizeof *d), *e = malloc(n * sizeof *e);
    double *tau = malloc(n * sizeof *tau), *dc = malloc(n * sizeof *dc);
    double *ec = malloc(n * sizeof *ec), *w = malloc(n * sizeof *w), *z = malloc(n * sizeof *z);
    double *z0 = malloc(n * sizeof *z0), *work = NULL, query = 0.0;
    double *t = malloc((size_t)runs * ST_COUNT * sizeof *t);
    int *iwork = malloc(10 * n * sizeof *iwork), isuppz[2], tryrac = 1, found = 0, info = 0;
    int lwork = -1, ok = -1;
    volatile int sink = 0;

    if (!Jc || !G || !A || !d || !e || !tau || !dc || !ec || !w || !z || !z0 || !t || !iwork)
        goto done;
    dsytrd_("L", &N, A, &N, d, e, tau, &query, &lwork, &info);
    lwork = (int)query > 18 * N ? (int)query : 18 * N;
    if (info != 0 || (work = malloc((size_t)lwork * sizeof *work)) == NULL)
        goto done;
    for (int r = 0; r < runs; r++) {
        double *tr = t + (size_t)r * ST_COUNT, t0;
        t0 = now();
        memcpy(Jc, J, m * n * sizeof *Jc);
        tr[ST_COPY] = now() - t0;
        t0 = now();
        sink += scalar_finite(Jc, m * n);
        tr[ST_FINITE] = now() - t0;
        t0 = now();
        dsyrk_("L", "N", &N, &K, &one, Jc, &N, &zero, G, &N);
        tr[ST_SYRK] = now() - t0;
        memcpy(A, G, n * n * sizeof *A);
        t0 = now();
        dsytrd_("L", &N, A, &N, d, e, tau, work, &lwork, &info);
        tr[ST_TRD] = now() - t0;
        if (info != 0)
            goto done;
        t0 = now();
        memcpy(dc, d, n * sizeof *dc);
        memcpy(ec, e, (n - 1) * sizeof *ec);
        dsterf_(&N, dc, ec, &info);
        tr[ST_STERF] = now() - t0;
        if (info != 0)
            goto done;
        t0 = now();
        memcpy(dc, d, n * sizeof *dc);
        memcpy(ec, e, (n - 1) * sizeof *ec);
        ec[n - 1] = 0.0;
        dstemr_("V", "I", &N, dc, ec, &vl, &vu, &index, &index, &found, w, z0, &N, &nzc, isuppz,
                &tryrac, work, &lwork, iwork, &liwork, &info);
        tr[ST_STEMR] = now() - t0;
        if (info != 0 || found != 1)
            goto done;
        memcpy(z, z0, n * sizeof *z);
        t0 = now();
        dormtr_("L", "L", "N", &N, &one_i, A, &N, tau, z, &N, work, &lwork, &info);
        tr[ST_ORMTR] = now() - t0;
        if (info != 0)
            goto done;
        memcpy(w, z, n * sizeof *w); /* dormtr's result, to check apply_q against */
        memcpy(z, z0, n * sizeof *z);
        t0 = now();
        apply_q(n, A, tau, z);
        tr[ST_APPLYQ] = now() - t0;
        for (size_t j = 0; j < n; j++)
            if (fabs(z[j] - w[j]) > 1e-12)
                goto done;
    }
    for (int k = 0; k < ST_COUNT; k++) {
        double col[MAX_RUNS];
        for (int r = 0; r < runs; r++)
            col[r] = t[(size_t)r * ST_COUNT + k];
        ms[k] = 1e3 * bench_median(col, (size_t)runs);
    }
    ok = sink >= 0 ? 0 : -1;
done:
    free(Jc); free(G); free(A); free(d); free(e); free(tau); free(dc); free(ec); free(w);
    free(z); free(z0); free(work); free(t); free(iwork);
    return ok;
}

/* ---- one shape --------------------------------------------------------------------------- */

typedef struct result {
    size_t m, n;
    double authors, libdss, copy, floor, accuracy, target;
    double authors_min, libdss_min, floor_min;
    double stage_ms[ST_COUNT];
    int have_stages;
    int runs, authors_runs;
} result;

static double min_of(const double *v, size_t count)
{
    double x = v[0];
    for (size_t i = 1; i < count; i++)
        x = fmin(x, v[i]);
    return x;
}

static double target_for(size_t m, size_t n)
{
    if (m == 1024 && n == 512)
        return 10.0;
    if (m == 1024 && n == 128)
        return 12.0;
    if (m == 16384 && n == 512)
        return 100.0;
    return 0.0;
}

static int run_shape(size_t m, size_t n, int runs, int authors_runs, double budget,
                     int stages, result *res)
{
    double *J = malloc(m * n * sizeof *J), *G = malloc(n * n * sizeof *G);
    double *z0 = calloc(n, sizeof *z0), *s = malloc(n * sizeof *s);
    double t_a[MAX_RUNS], t_b[MAX_RUNS], t_c[MAX_RUNS], t_copy[MAX_RUNS];
    host h = { .m = m, .n = n };
    authors a = { 0 };
    dss_model *model = NULL;
    dss_search *search = NULL;
    int rc, ok = -1, commits = 0, done_a = 0;
    double spent_a = 0.0;

    if (!J || !G || !z0 || !s)
        goto done;
    for (size_t i = 0; i < m * n; i++)
        J[i] = uniform();
    h.J = J;
    if (authors_init(&a, m, n) != 0) {
        fprintf(stderr, "update: dgesdd setup failed for %zu x %zu\n", m, n);
        goto done;
    }
    if ((rc = dss_model_create(&model, n, m, host_f, &h)) != DSS_OK
        || (rc = dss_model_set_jacobian(model, host_jacobian)) != DSS_OK
        || (rc = dss_search_create(&search, model)) != DSS_OK
        || (rc = dss_search_set(search, DSS_SEARCH_JACOBIAN, DSS_JACOBIAN_FULL)) != DSS_OK
        || (rc = dss_search_set(search, DSS_SEARCH_SEED, 1)) != DSS_OK
        || (rc = dss_search_start(search, z0)) != DSS_OK) {
        fprintf(stderr, "update: libdss setup failed: %s\n", dss_strerror(rc));
        goto done;
    }
    /* warm-up: libdss's workspaces are sized at start; one more commit and one dsyrk */
    if ((rc = dss_search_commit(search, 1.0)) != DSS_OK) {
        fprintf(stderr, "update: commit failed: %s\n", dss_strerror(rc));
        goto done;
    }
    commits++;
    (void)floor_run(J, G, m, n);

    for (int r = 0; r < runs; r++) {
        double t0;
        if (done_a < (authors_runs > 0 ? authors_runs : runs)
            && (authors_runs > 0 || done_a == 0 || spent_a < budget)) {
            if ((t_a[done_a] = authors_run(&a, J)) < 0.0) {
                fprintf(stderr, "update: dgesdd failed\n");
                goto done;
            }
            spent_a += t_a[done_a++];
        }
        h.copy_seconds = 0.0;
        t0 = now();
        rc = dss_search_commit(search, commits % 2 ? 0.0 : 1.0);
        t_b[r] = now() - t0;
        t_copy[r] = h.copy_seconds;
        commits++;
        if (rc != DSS_OK) {
            fprintf(stderr, "update: commit failed: %s\n", dss_strerror(rc));
            goto done;
        }
        t_c[r] = floor_run(J, G, m, n);
    }

    /* accuracy: libdss's singular values against dgesdd's (a->S is from the last run) */
    if (dss_search_singular_values(search, s, n) != DSS_OK || dss_search_rank(search) != n)
        goto done;
    res->accuracy = 0.0;
    for (size_t i = 0; i < n; i++)
        res->accuracy = fmax(res->accuracy, fabs(s[i] - a.S[i]) / a.S[0]);

    res->m = m;
    res->n = n;
    res->runs = runs;
    res->authors_runs = done_a;
    res->authors = bench_median(t_a, (size_t)done_a);
    res->libdss = bench_median(t_b, (size_t)runs);
    res->copy = bench_median(t_copy, (size_t)runs);
    res->floor = bench_median(t_c, (size_t)runs);
    res->authors_min = min_of(t_a, (size_t)done_a);
    res->libdss_min = min_of(t_b, (size_t)runs);
    res->floor_min = min_of(t_c, (size_t)runs);
    res->target = target_for(m, n);
    res->have_stages = 0;
    if (stages) {
        if (breakdown(J, m, n, runs, res->stage_ms) != 0) {
            fprintf(stderr, "update: breakdown failed\n");
            goto done;
        }
        res->have_stages = 1;
    }
    ok = 0;
done:
    dss_search_destroy(search);
    dss_model_destroy(model);
    authors_free(&a);
    free(J);
    free(G);
    free(z0);
    free(s);
    return ok;
}

/* ---- main ------------------------------------------------------------------------------- */

static int parse_seconds(const char *s, double *out)
{
    char *end;
    double v = strtod(s, &end);
    if (*s == '\0' || *end != '\0' || !(v >= 0.0 && v <= 1e6))
        return -1;
    *out = v;
    return 0;
}

static void usage(void)
{
    fprintf(stderr, "usage: update [--shape M N]... [--runs K] [--authors-runs K] "
                    "[--budget SECONDS] [--stages] [--cpu]\n"
                    "  default shapes: 1024 512, 1024 128, 16384 512; default runs: 7\n"
                    "  dgesdd('A') runs: --authors-runs K exactly, else up to --runs within\n"
                    "  --budget seconds per shape (default 120), at least one\n"
                    "  --stages: also time libdss's Gram route stage by stage\n"
                    "  --cpu: process CPU time instead of wall time (single-threaded BLAS only)\n");
}

static int parse_size(const char *s, size_t *out)
{
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (*s == '\0' || *end != '\0' || v == 0 || v > 1u << 20)
        return -1;
    *out = (size_t)v;
    return 0;
}

int main(int argc, char **argv)
{
    size_t shapes[MAX_SHAPES][2];
    size_t nshapes = 0;
    int runs = 7, authors_runs = 0, stages = 0;
    double budget = 120.0;
    result res[MAX_SHAPES];

    for (int i = 1; i < argc; i++) {
        size_t v;
        if (strcmp(argv[i], "--shape") == 0 && i + 2 < argc && nshapes < MAX_SHAPES) {
            if (parse_size(argv[i + 1], &shapes[nshapes][0]) != 0
                || parse_size(argv[i + 2], &shapes[nshapes][1]) != 0) {
                usage();
                return 2;
            }
            nshapes++;
            i += 2;
        } else if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc
                   && parse_size(argv[i + 1], &v) == 0 && v <= MAX_RUNS) {
            runs = (int)v;
            i++;
        } else if (strcmp(argv[i], "--authors-runs") == 0 && i + 1 < argc
                   && parse_size(argv[i + 1], &v) == 0 && v <= MAX_RUNS) {
            authors_runs = (int)v;
            i++;
        } else if (strcmp(argv[i], "--cpu") == 0) {
            use_cpu_clock = 1;
        } else if (strcmp(argv[i], "--stages") == 0) {
            stages = 1;
        } else if (strcmp(argv[i], "--budget") == 0 && i + 1 < argc
                   && parse_seconds(argv[i + 1], &budget) == 0) {
            i++;
        } else {
            usage();
            return 2;
        }
    }
    if (nshapes == 0) {
        const size_t def[3][2] = { { 1024, 512 }, { 1024, 128 }, { 16384, 512 } };
        for (size_t i = 0; i < 3; i++) {
            shapes[i][0] = def[i][0];
            shapes[i][1] = def[i][1];
        }
        nshapes = 3;
    }
    if (authors_runs > runs)
        authors_runs = runs;

    printf("libdss %s: subspace update (moved commit, FULL mode) vs dgesdd('A') vs dsyrk\n",
           dss_version_string());
    printf("medians of %d runs (dgesdd: ", runs);
    if (authors_runs > 0)
        printf("%d", authors_runs);
    else
        printf("up to %d within %g s per shape", runs, budget);
    printf("); libdss includes the host's copy of J\n");
    printf("clock: %s\n", use_cpu_clock ? "process CPU time (--cpu)" : "wall time");
    bench_print_loadavg("at start");
    fflush(stdout);
    for (size_t i = 0; i < nshapes; i++) {
        if (shapes[i][1] > shapes[i][0]) {
            fprintf(stderr, "update: this benchmark is for m >= n (got %zu x %zu)\n",
                    shapes[i][0], shapes[i][1]);
            return 2;
        }
        if (run_shape(shapes[i][0], shapes[i][1], runs, authors_runs, budget, stages, &res[i])
            != 0)
            return 1;
        fprintf(stderr, "  done %zu x %zu\n", shapes[i][0], shapes[i][1]);
    }
    bench_print_loadavg("at end");
    printf("\n");

    printf("| m x n | dgesdd 'A' ms (runs) | libdss ms | (host copy ms) | dsyrk floor ms "
           "| authors/libdss | libdss/floor | target | met |\n");
    printf("|---|---:|---:|---:|---:|---:|---:|---:|---|\n");
    for (size_t i = 0; i < nshapes; i++) {
        const result *r = &res[i];
        double ratio = r->authors / r->libdss;
        char target[32] = "-", met[8] = "-";
        if (r->target > 0.0) {
            snprintf(target, sizeof target, ">= %gx", r->target);
            snprintf(met, sizeof met, "%s", ratio >= r->target ? "yes" : "NO");
        }
        printf("| %zu x %zu | %.1f (%d) | %.2f | %.2f | %.2f | %.1fx | %.2fx | %s | %s |\n",
               r->m, r->n, 1e3 * r->authors, r->authors_runs, 1e3 * r->libdss, 1e3 * r->copy,
               1e3 * r->floor, ratio, r->libdss / r->floor, target, met);
    }
    printf("\nminimums (less sensitive to other load on the machine): ms\n");
    printf("| m x n | dgesdd 'A' | libdss | dsyrk floor | authors/libdss | libdss/floor |\n");
    printf("|---|---:|---:|---:|---:|---:|\n");
    for (size_t i = 0; i < nshapes; i++) {
        const result *r = &res[i];
        printf("| %zu x %zu | %.1f | %.2f | %.2f | %.1fx | %.2fx |\n", r->m, r->n,
               1e3 * r->authors_min, 1e3 * r->libdss_min, 1e3 * r->floor_min,
               r->authors_min / r->libdss_min, r->libdss_min / r->floor_min);
    }
    if (stages) {
        printf("\nlibdss's Gram route stage by stage (medians, ms; one vector per commit):\n");
        printf("| m x n | host copy | finite check | dsyrk | dsytrd | dsterf | dstemr 1 vec "
               "| dormtr 1 vec | sum | commit | plain-loop Q z (alt. to dormtr) |\n");
        printf("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        for (size_t i = 0; i < nshapes; i++) {
            const double *st = res[i].stage_ms;
            double sum = 0.0;
            for (int k = 0; k < ST_APPLYQ; k++)
                sum += st[k];
            printf("| %zu x %zu | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f "
                   "| %.3f |\n", res[i].m, res[i].n, st[ST_COPY], st[ST_FINITE], st[ST_SYRK],
                   st[ST_TRD], st[ST_STERF], st[ST_STEMR], st[ST_ORMTR], sum,
                   1e3 * res[i].libdss, st[ST_APPLYQ]);
        }
    }
    printf("\naccuracy: max_i |s_i(libdss) - s_i(dgesdd)| / s_1 (target <= 1e-10)\n");
    printf("| m x n | max rel. error | met |\n|---|---:|---|\n");
    for (size_t i = 0; i < nshapes; i++)
        printf("| %zu x %zu | %.2e | %s |\n", res[i].m, res[i].n, res[i].accuracy,
               res[i].accuracy <= 1e-10 ? "yes" : "NO");
    return 0;
}
