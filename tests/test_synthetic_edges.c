/* dss_synthetic pinned against an independent re-implementation of its generation (the header's
 * order of draws from one xoshiro256** stream seeded by splitmix64): the optimum s, the
 * coefficients a_d = gamma alpha_d^2 (read back through the score), the outputs f(z) (which
 * depend on Q and D), and the initial point z0 = A pinv(A) u, including the redraws of A until
 * pinv(A) s lies in the box. Written from the description in lib/synthetic.c's header and the
 * paper, not from its code: R comes from Q^T A (not from the Gram-Schmidt passes), y from a
 * back substitution on it. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <dss/dss.h>

#include "support.h"

/* ---- xoshiro256** seeded by splitmix64 (Blackman and Vigna's reference) ------------------- */

typedef struct xo { uint64_t s[4]; } xo;

static uint64_t rotl64(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static void xo_seed(xo *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++) {
        uint64_t z = (seed += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        r->s[i] = z ^ (z >> 31);
    }
}

static uint64_t xo_next(xo *r)
{
    uint64_t *s = r->s;
    const uint64_t result = rotl64(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl64(s[3], 45);
    return result;
}

static double xo_uniform(xo *r) { return (double)(xo_next(r) >> 11) / 9007199254740992.0; }

/* Marsaglia's polar method, second variate discarded */
static double xo_gaussian(xo *r)
{
    for (;;) {
        double u = 2.0 * xo_uniform(r) - 1.0, v = 2.0 * xo_uniform(r) - 1.0, q = u * u + v * v;
        if (q < 1.0 && q > 0.0)
            return u * sqrt(-2.0 * log(q) / q);
    }
}

/* ---- the problem ----------------------------------------------------------------------------- */

/* Orthonormalise the columns of the row-major rows x cols matrix A (modified Gram-Schmidt,
   twice). */
static void orthonormal_columns(double *A, size_t rows, size_t cols)
{
    for (size_t j = 0; j < cols; j++) {
        double norm = 0.0;
        for (int pass = 0; pass < 2; pass++)
            for (size_t k = 0; k < j; k++) {
                double dot = 0.0;
                for (size_t i = 0; i < rows; i++)
                    dot += A[i * cols + k] * A[i * cols + j];
                for (size_t i = 0; i < rows; i++)
                    A[i * cols + j] -= dot * A[i * cols + k];
            }
        for (size_t i = 0; i < rows; i++)
            norm += A[i * cols + j] * A[i * cols + j];
        norm = sqrt(norm);
        for (size_t i = 0; i < rows; i++)
            A[i * cols + j] /= norm;
    }
}

typedef struct problem {
    size_t n, m;
    double *Q, *D, *a, *shift, *z0;
    int attempts; /* draws of the 6-D subspace until accepted */
} problem;

#define BOX 2.5
#define K 6

static void initial_point(problem *p, xo *r)
{
    const size_t n = p->n;
    double *A = malloc(n * K * sizeof *A), *A0 = malloc(n * K * sizeof *A0), coef[K];
    assert_true(A && A0);
    if (n <= K) {
        for (size_t j = 0; j < n; j++)
            p->z0[j] = BOX * (2.0 * xo_uniform(r) - 1.0);
        p->attempts = 0;
        free(A);
        free(A0);
        return;
    }
    for (p->attempts = 1; p->attempts <= 1000; p->attempts++) {
        double R[K][K], qs[K], y[K];
        int inside = 1;
        for (size_t i = 0; i < n * K; i++)
            A0[i] = A[i] = xo_gaussian(r);
        orthonormal_columns(A, n, K);
        /* A0 = A R with R = A^T A0 (upper triangular), and pinv(A0) s = R^-1 A^T s */
        for (size_t i = 0; i < K; i++) {
            qs[i] = 0.0;
            for (size_t t = 0; t < n; t++)
                qs[i] += A[t * K + i] * p->shift[t];
            for (size_t j = 0; j < K; j++) {
                R[i][j] = 0.0;
                for (size_t t = 0; t < n; t++)
                    R[i][j] += A[t * K + i] * A0[t * K + j];
            }
        }
        for (size_t j = K; j-- > 0;) {
            y[j] = qs[j];
            for (size_t l = j + 1; l < K; l++)
                y[j] -= R[j][l] * y[l];
            y[j] /= R[j][j];
            inside = inside && fabs(y[j]) <= BOX;
        }
        if (inside)
            break;
    }
    for (size_t i = 0; i < n; i++)
        p->z0[i] = BOX * (2.0 * xo_uniform(r) - 1.0);
    for (size_t j = 0; j < K; j++) {
        coef[j] = 0.0;
        for (size_t i = 0; i < n; i++)
            coef[j] += A[i * K + j] * p->z0[i];
    }
    for (size_t i = 0; i < n; i++) {
        p->z0[i] = 0.0;
        for (size_t j = 0; j < K; j++)
            p->z0[i] += A[i * K + j] * coef[j];
    }
    free(A);
    free(A0);
}

static void problem_make(problem *p, size_t n, size_t m, double gamma, uint64_t seed)
{
    xo r;
    p->n = n;
    p->m = m;
    p->Q = malloc(n * n * sizeof *p->Q);
    p->D = malloc(m * n * sizeof *p->D);
    p->a = malloc(m * sizeof *p->a);
    p->shift = malloc(n * sizeof *p->shift);
    p->z0 = malloc(n * sizeof *p->z0);
    assert_true(p->Q && p->D && p->a && p->shift && p->z0);
    xo_seed(&r, seed);
    for (size_t i = 0; i < n * n; i++)
        p->Q[i] = xo_uniform(&r);
    orthonormal_columns(p->Q, n, n);
    for (size_t d = 0; d < m; d++) {
        double alpha = 0.01 + 9.99 * xo_uniform(&r); /* alpha_d uniform in [0.01, 10] */
        p->a[d] = gamma * alpha * alpha;
        for (size_t j = 0; j < n; j++)
            p->D[d * n + j] = alpha * (0.01 + 0.99 * xo_uniform(&r));
    }
    for (size_t j = 0; j < n; j++)
        p->shift[j] = 1.25 * (2.0 * xo_uniform(&r) - 1.0);
    initial_point(p, &r);
}

static void problem_free(problem *p)
{
    free(p->Q);
    free(p->D);
    free(p->a);
    free(p->shift);
    free(p->z0);
}

/* f_d(z) = sqrt(sum_j D_dj y_j^2), y = Q (z - s) */
static double problem_f(const problem *p, const double *z, size_t d)
{
    double sum = 0.0;
    for (size_t i = 0; i < p->n; i++) {
        double y = 0.0;
        for (size_t j = 0; j < p->n; j++)
            y += p->Q[i * p->n + j] * (z[j] - p->shift[j]);
        sum += p->D[d * p->n + i] * y * y;
    }
    return sqrt(sum);
}

static double rel_diff(double x, double y) { return fabs(x - y) / fmax(1.0, fabs(y)); }

static void check_problem(size_t n, size_t m, double gamma, uint64_t seed, int *max_attempts)
{
    dss_synthetic *syn;
    problem ref;
    double *got = malloc(n * sizeof *got), *z = malloc(n * sizeof *z), *x = malloc(m * sizeof *x);
    double score = 0.0;
    assert_true(got && z && x);
    problem_make(&ref, n, m, gamma, seed);
    assert_int_equal(dss_synthetic_create(&syn, n, m, gamma, seed), DSS_OK);

    assert_int_equal(dss_synthetic_optimum(syn, got), DSS_OK);
    for (size_t j = 0; j < n; j++)
        assert_true(got[j] == ref.shift[j]);
    assert_int_equal(dss_synthetic_initial_point(syn, got), DSS_OK);
    for (size_t j = 0; j < n; j++)
        if (!(rel_diff(got[j], ref.z0[j]) <= 1e-12))
            fail_msg("n %zu seed %llu: z0[%zu] = %.17g, re-implementation %.17g (%d draws)", n,
                     (unsigned long long)seed, j, got[j], ref.z0[j], ref.attempts);
    /* g(x) at x = e_d / 4 is -(a_d + 1/16 - a_d cos(pi/2)) */
    for (size_t d = 0; d < m; d++) {
        memset(x, 0, m * sizeof *x);
        x[d] = 0.25;
        assert_int_equal(dss_synthetic_score(syn, 1, x, &score), DSS_OK);
        assert_true(rel_diff(-score - 0.0625, ref.a[d]) <= 1e-12);
    }
    /* f at a point off the optimum: Q and D */
    for (size_t j = 0; j < n; j++)
        z[j] = ref.z0[j] + 0.5 * (double)(j % 3) - 0.4;
    assert_int_equal(dss_model_generate(dss_synthetic_model(syn), 1, z, x), DSS_OK);
    for (size_t d = 0; d < m; d++)
        assert_true(rel_diff(x[d], problem_f(&ref, z, d)) <= 1e-12);
    if (ref.attempts > *max_attempts)
        *max_attempts = ref.attempts;
    dss_synthetic_destroy(syn);
    problem_free(&ref);
    free(got);
    free(z);
    free(x);
}

static void the_problem_matches_an_independent_re_implementation(void **state)
{
    const size_t ns[] = { 1, 4, 6, 7, 12, 30 };
    int max_attempts = 0;
    (void)state;
    for (size_t i = 0; i < sizeof ns / sizeof *ns; i++)
        for (uint64_t seed = 1; seed <= 12; seed++)
            check_problem(ns[i], 3 + (size_t)seed % 4, seed % 3 == 0 ? 0.0 : 1.5, seed,
                          &max_attempts);
    /* the cases include subspaces redrawn because pinv(A) s left the box */
    assert_true(max_attempts >= 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_problem_matches_an_independent_re_implementation),
    };
    return support_leak_exit(cmocka_run_group_tests_name("synthetic_edges", tests, NULL, NULL));
}
