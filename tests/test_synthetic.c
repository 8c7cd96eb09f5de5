/* dss_synthetic: the authors' synthetic problem.
 *
 *   f_d(z) = sqrt((z - s)^T A_d (z - s)),  A_d = Q^T D_d Q,  D_d in [0.01 alpha_d, alpha_d),
 *   g(x)   = -sum_d a_d - sum_d (x_d^2 - a_d cos(2 pi x_d)),  a_d = gamma alpha_d^2.
 *
 * Neither Q, D_d nor alpha_d is observable, so the tests check what follows from the definition:
 * f(s) = 0 and g(0) = 0 is the maximum; g(x_d = 1/2, others 0) = -1/4 - 2 a_d reveals each a_d,
 * from which the formula at any x and the bounds 0.01 alpha_d |z - s|^2 <= f_d^2 <= alpha_d |z - s|^2
 * (which tie f to g) follow; the Jacobian callback (reached through the private lib/model.h)
 * against central differences of f, and the authors' variant against 2 f_d times the true one. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <dss/dss.h>

#include "model.h" /* private: struct dss_model, to call the Jacobian callback directly */
#include "support.h"

#define N 5
#define M 7
#define GAMMA 2.0
#define SEED 2024ULL
#define NPTS 6 /* random points per check */
#define TWO_PI 6.283185307179586476925286766559

typedef struct fixture {
    dss_synthetic *problem;
    const dss_model *model;
    double s[N];            /* the optimum */
} fixture;

static int setup(void **state)
{
    fixture *fx = calloc(1, sizeof *fx);
    if (fx == NULL)
        return -1;
    if (dss_synthetic_create(&fx->problem, N, M, GAMMA, SEED) != DSS_OK
        || (fx->model = dss_synthetic_model(fx->problem)) == NULL
        || dss_synthetic_optimum(fx->problem, fx->s) != DSS_OK) {
        dss_synthetic_destroy(fx->problem);
        free(fx);
        return -1;
    }
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    fixture *fx = *state;
    dss_synthetic_destroy(fx->problem);
    free(fx);
    return 0;
}

/* The model's Jacobian callback, called directly. */
static int jacobian(const dss_model *model, const double *z, size_t nrows, const size_t *rows,
                    double *out)
{
    assert_non_null(model->jacobian);
    return model->jacobian(model->user, z, nrows, rows, out);
}

static double dist(const double *a, const double *b, size_t n)
{
    double acc = 0.0;
    for (size_t i = 0; i < n; i++)
        acc += (a[i] - b[i]) * (a[i] - b[i]);
    return sqrt(acc);
}

/* Random points of the box [-2.5, 2.5]^n at least `away` from s. */
static void random_points(support_rng *r, const double *s, size_t n, size_t k, double away,
                          double *z)
{
    for (size_t p = 0; p < k; p++) {
        do {
            support_fill_uniform(r, z + p * n, n, -DSS_SYNTHETIC_BOX, DSS_SYNTHETIC_BOX);
        } while (dist(z + p * n, s, n) < away);
    }
}

/* a_d recovered from the score: g(x) with x_d = 1/2 and every other output 0 is
   -sum a - (1/4 - a_d cos(pi)) - sum_{e != d} (0 - a_e) = -1/4 - 2 a_d. */
static void recover_a(dss_synthetic *problem, size_t m, double *a)
{
    double *x = calloc(m, sizeof *x);
    assert_non_null(x);
    for (size_t d = 0; d < m; d++) {
        double g = 0.0;
        memset(x, 0, m * sizeof *x);
        x[d] = 0.5;
        assert_int_equal(dss_synthetic_score(problem, 1, x, &g), DSS_OK);
        a[d] = -(g + 0.25) / 2.0;
    }
    free(x);
}

/* ---- creation ------------------------------------------------------------------------------- */

static void create_rejects_invalid_arguments(void **state)
{
    (void)state;
    dss_synthetic *p = NULL;
    assert_int_equal(dss_synthetic_create(NULL, N, M, GAMMA, SEED), DSS_EINVAL);
    static const struct { size_t n, m; double gamma; } bad[] = {
        { 0, M, GAMMA }, { N, 0, GAMMA },
        { N, M, -1.0 }, { N, M, -DBL_MIN }, { N, M, NAN }, { N, M, INFINITY }, { N, M, -INFINITY },
        { SIZE_MAX / 2, 1, GAMMA },   /* n x n doubles overflow */
        { 1, SIZE_MAX / 2, GAMMA },   /* m doubles overflow */
        { SIZE_MAX, SIZE_MAX, GAMMA },
        /* issue 8, bug 7: a_d = gamma alpha_d^2 up to 100 gamma, and g sums 2 m of them: a gamma
           above DBL_MAX / (400 m) can give an infinite or NaN score */
        { N, M, DBL_MAX }, { 1, 10, DBL_MAX / 1000.0 }
    };
    for (size_t c = 0; c < sizeof bad / sizeof bad[0]; c++) {
        p = NULL;
        int rc = dss_synthetic_create(&p, bad[c].n, bad[c].m, bad[c].gamma, SEED);
        if (rc != DSS_EINVAL)
            fail_msg("n %zu, m %zu, gamma %g: got %d, want DSS_EINVAL", bad[c].n, bad[c].m,
                     bad[c].gamma, rc);
        /* A failed create hands out no problem. */
        assert_null(p);
    }
}

/* The largest gamma accepted, DBL_MAX / (400 m), gives finite scores near s. */
static void create_accepts_the_largest_gamma_and_scores_stay_finite(void **state)
{
    (void)state;
    dss_synthetic *p = NULL;
    const size_t m = 10;
    double z[3], x[10], score = NAN;
    assert_int_equal(dss_synthetic_create(&p, 3, m, DBL_MAX / (400.0 * (double)m), SEED), DSS_OK);
    assert_int_equal(dss_synthetic_optimum(p, z), DSS_OK);
    z[0] += 0.37;
    assert_int_equal(dss_model_generate(dss_synthetic_model(p), 1, z, x), DSS_OK);
    assert_int_equal(dss_synthetic_score(p, 1, x, &score), DSS_OK);
    assert_true(isfinite(score));
    dss_synthetic_destroy(p);
}

static void create_accepts_gamma_zero_and_the_smallest_sizes(void **state)
{
    (void)state;
    dss_synthetic *p = NULL;
    assert_int_equal(dss_synthetic_create(&p, 1, 1, 0.0, 0), DSS_OK);
    assert_non_null(p);
    assert_int_equal(dss_model_latent_dim(dss_synthetic_model(p)), 1);
    assert_int_equal(dss_model_output_dim(dss_synthetic_model(p)), 1);
    dss_synthetic_destroy(p);
}

static void destroy_of_null_is_a_no_op(void **state)
{
    fixture *fx = *state;
    dss_synthetic_destroy(NULL); /* must not crash; the fixture's problem stays usable */
    double s[N];
    assert_int_equal(dss_synthetic_optimum(fx->problem, s), DSS_OK);
    assert_memory_equal(s, fx->s, sizeof s);
}

static void model_has_the_requested_dimensions(void **state)
{
    fixture *fx = *state;
    assert_int_equal(dss_model_latent_dim(fx->model), N);
    assert_int_equal(dss_model_output_dim(fx->model), M);
    assert_null(dss_synthetic_model(NULL));
}

static void model_has_a_jacobian_that_a_search_can_use(void **state)
{
    fixture *fx = *state;
    dss_search *search = NULL;
    double z0[N];
    assert_non_null(fx->model->jacobian);
    /* FULL mode needs the Jacobian callback (DSS_EUNSUPPORTED without one). */
    assert_int_equal(dss_synthetic_initial_point(fx->problem, z0), DSS_OK);
    assert_int_equal(dss_search_create(&search, fx->model), DSS_OK);
    assert_int_equal(dss_search_set(search, DSS_SEARCH_JACOBIAN, DSS_JACOBIAN_FULL), DSS_OK);
    int rc = dss_search_start(search, z0);
    dss_search_destroy(search);
    assert_int_equal(rc, DSS_OK);
}

static void null_arguments_are_rejected(void **state)
{
    fixture *fx = *state;
    double z[N], x[M] = { 0 }, g;
    assert_int_equal(dss_synthetic_initial_point(NULL, z), DSS_EINVAL);
    assert_int_equal(dss_synthetic_initial_point(fx->problem, NULL), DSS_EINVAL);
    assert_int_equal(dss_synthetic_optimum(NULL, z), DSS_EINVAL);
    assert_int_equal(dss_synthetic_optimum(fx->problem, NULL), DSS_EINVAL);
    assert_int_equal(dss_synthetic_score(NULL, 1, x, &g), DSS_EINVAL);
    assert_int_equal(dss_synthetic_score(fx->problem, 1, NULL, &g), DSS_EINVAL);
    assert_int_equal(dss_synthetic_score(fx->problem, 1, x, NULL), DSS_EINVAL);
    assert_int_equal(dss_synthetic_score(fx->problem, 0, x, &g), DSS_EINVAL);
}

/* ---- reproducibility ------------------------------------------------------------------------- */

/* Everything observable of a problem at a few fixed points, for bitwise comparison. */
typedef struct observed {
    double s[N], z0[N];
    double x[NPTS * M], jt[NPTS * M * N], ja[NPTS * M * N], g[NPTS];
} observed;

static void observe(dss_synthetic *p, observed *o)
{
    const dss_model *model = dss_synthetic_model(p);
    double z[NPTS * N];
    support_rng r;
    support_rng_seed(&r, 99);
    support_fill_uniform(&r, z, NPTS * N, -DSS_SYNTHETIC_BOX, DSS_SYNTHETIC_BOX);
    memset(o, 0, sizeof *o);
    assert_int_equal(dss_synthetic_optimum(p, o->s), DSS_OK);
    assert_int_equal(dss_synthetic_initial_point(p, o->z0), DSS_OK);
    assert_int_equal(dss_model_generate(model, NPTS, z, o->x), DSS_OK);
    assert_int_equal(dss_synthetic_score(p, NPTS, o->x, o->g), DSS_OK);
    for (size_t k = 0; k < NPTS; k++) {
        assert_int_equal(jacobian(model, z + k * N, M, NULL, o->jt + k * M * N), 0);
        assert_int_equal(dss_synthetic_set_jacobian(p, DSS_SYNTHETIC_JACOBIAN_AUTHORS), DSS_OK);
        assert_int_equal(jacobian(model, z + k * N, M, NULL, o->ja + k * M * N), 0);
        assert_int_equal(dss_synthetic_set_jacobian(p, DSS_SYNTHETIC_JACOBIAN_TRUE), DSS_OK);
    }
}

static void same_seed_gives_a_bit_identical_problem(void **state)
{
    fixture *fx = *state;
    dss_synthetic *twin = NULL;
    observed *a = malloc(sizeof *a), *b = malloc(sizeof *b);
    assert_non_null(a);
    assert_non_null(b);
    assert_int_equal(dss_synthetic_create(&twin, N, M, GAMMA, SEED), DSS_OK);
    observe(fx->problem, a);
    observe(twin, b);
    dss_synthetic_destroy(twin);
    int same = memcmp(a->s, b->s, sizeof a->s) == 0 && memcmp(a->z0, b->z0, sizeof a->z0) == 0
               && memcmp(a->x, b->x, sizeof a->x) == 0 && memcmp(a->jt, b->jt, sizeof a->jt) == 0
               && memcmp(a->ja, b->ja, sizeof a->ja) == 0 && memcmp(a->g, b->g, sizeof a->g) == 0;
    free(a);
    free(b);
    assert_true(same);
}

static void different_seeds_give_different_problems(void **state)
{
    fixture *fx = *state;
    dss_synthetic *other = NULL;
    observed *a = malloc(sizeof *a), *b = malloc(sizeof *b);
    assert_non_null(a);
    assert_non_null(b);
    assert_int_equal(dss_synthetic_create(&other, N, M, GAMMA, SEED + 1), DSS_OK);
    observe(fx->problem, a);
    observe(other, b);
    dss_synthetic_destroy(other);
    int s_differs = memcmp(a->s, b->s, sizeof a->s) != 0;
    int z0_differs = memcmp(a->z0, b->z0, sizeof a->z0) != 0;
    int x_differs = memcmp(a->x, b->x, sizeof a->x) != 0;
    free(a);
    free(b);
    assert_true(s_differs);
    assert_true(z0_differs);
    assert_true(x_differs);
}

static void initial_point_is_finite_and_the_same_on_every_call(void **state)
{
    (void)state;
    /* n <= 6 and n > 6 (where it is a point of a random 6-D subspace). */
    static const size_t dims[] = { 1, 5, 6, 12 };
    for (size_t c = 0; c < sizeof dims / sizeof dims[0]; c++) {
        size_t n = dims[c];
        dss_synthetic *p = NULL;
        double a[12], b[12];
        assert_int_equal(dss_synthetic_create(&p, n, 9, GAMMA, 77), DSS_OK);
        int rc1 = dss_synthetic_initial_point(p, a);
        int rc2 = dss_synthetic_initial_point(p, b);
        dss_synthetic_destroy(p);
        assert_int_equal(rc1, DSS_OK);
        assert_int_equal(rc2, DSS_OK);
        assert_true(support_all_finite(a, n));
        assert_memory_equal(a, b, n * sizeof(double));
    }
}

/* ---- f and g ------------------------------------------------------------------------------- */

static void optimum_lies_in_the_shift_box(void **state)
{
    fixture *fx = *state;
    for (size_t i = 0; i < N; i++)
        assert_true(fabs(fx->s[i]) <= 1.25);
}

static void outputs_vanish_at_the_optimum_where_the_score_is_zero(void **state)
{
    fixture *fx = *state;
    double x[M], g = 0.0, a[M], sum_a = 0.0;
    assert_int_equal(dss_model_generate(fx->model, 1, fx->s, x), DSS_OK);
    for (size_t d = 0; d < M; d++)
        assert_true(x[d] == 0.0); /* z - s is exactly 0, so is the quadratic form */
    assert_int_equal(dss_synthetic_score(fx->problem, 1, x, &g), DSS_OK);
    /* g(0) = -sum a_d + sum a_d cos(0) = 0 in exact arithmetic; summing 2m terms of size <= a_d
       in another order than the cancelling one leaves at most 2m eps sum a_d. */
    recover_a(fx->problem, M, a);
    for (size_t d = 0; d < M; d++)
        sum_a += a[d];
    assert_true(fabs(g) <= 2.0 * M * DBL_EPSILON * sum_a);
}

static void score_is_below_zero_away_from_the_optimum(void **state)
{
    fixture *fx = *state;
    /* Each term a_d (1 - cos 2 pi x_d) + x_d^2 is >= 0 and > 0 when x_d != 0, so g(x) < 0 for
       x != 0, and f(z) != 0 for z != s (A_d is positive definite). */
    support_rng r;
    support_rng_seed(&r, 5);
    double z[NPTS * N], x[NPTS * M], g[NPTS];
    random_points(&r, fx->s, N, NPTS, 0.1, z);
    assert_int_equal(dss_model_generate(fx->model, NPTS, z, x), DSS_OK);
    assert_int_equal(dss_synthetic_score(fx->problem, NPTS, x, g), DSS_OK);
    for (size_t k = 0; k < NPTS; k++)
        assert_true(g[k] < 0.0);
    /* arbitrary outputs, including integers where the cosine term vanishes */
    for (int trial = 0; trial < 50; trial++) {
        double xr[M], gr = 0.0;
        support_fill_uniform(&r, xr, M, -3.0, 3.0);
        if (trial % 5 == 0)
            for (size_t d = 0; d < M; d++)
                xr[d] = floor(xr[d]) + (d == 0);
        assert_int_equal(dss_synthetic_score(fx->problem, 1, xr, &gr), DSS_OK);
        assert_true(gr < 0.0);
    }
}

static void score_with_gamma_zero_is_minus_the_sum_of_squares(void **state)
{
    (void)state;
    dss_synthetic *p = NULL;
    const double x[4] = { 1.0, -2.0, 0.5, 3.0 };
    double g = 0.0;
    assert_int_equal(dss_synthetic_create(&p, 3, 4, 0.0, SEED), DSS_OK);
    int rc = dss_synthetic_score(p, 1, x, &g);
    dss_synthetic_destroy(p);
    assert_int_equal(rc, DSS_OK);
    /* a_d = 0: g = -(1 + 4 + 0.25 + 9), every step exact in binary. */
    assert_true(g == -14.25);
}

static void score_follows_the_rastrigin_formula(void **state)
{
    fixture *fx = *state;
    double a[M], sum_a = 0.0;
    recover_a(fx->problem, M, a);
    for (size_t d = 0; d < M; d++) {
        /* a_d = gamma alpha_d^2 with alpha_d in [0.01, 10]; a_d is recovered to within
           2m eps sum a (<= 6e-10 here), far below the 2e-4 lower end. */
        assert_true(a[d] >= GAMMA * 1e-4 * (1.0 - 1e-6) && a[d] <= GAMMA * 100.0 * (1.0 + 1e-9));
        sum_a += a[d];
    }
    support_rng r;
    support_rng_seed(&r, 11);
    for (int trial = 0; trial < 20; trial++) {
        double x[3 * M], g[3], scale = sum_a + M;
        support_fill_uniform(&r, x, 3 * M, -3.0, 3.0);
        assert_int_equal(dss_synthetic_score(fx->problem, 3, x, g), DSS_OK);
        for (size_t k = 0; k < 3; k++) {
            double want = 0.0;
            for (size_t d = 0; d < M; d++) {
                double xd = x[k * M + d];
                want += -a[d] - (xd * xd - a[d] * cos(TWO_PI * xd));
                scale += xd * xd;
            }
            /* Rounding: the sums of 2m terms of size <= scale cost 2m eps scale each; the
               cosine's argument 2 pi x (|x| <= 3) may be formed differently, an ulp of 19 is
               3.6e-15, times a_d; the recovered a_d carry 2m eps sum a each. 1e-13 scale covers
               all three with room (scale >= sum a_d + m). */
            if (!(fabs(g[k] - want) <= 1e-13 * scale))
                fail_msg("trial %d row %zu: score %.17g, formula %.17g", trial, k, g[k], want);
        }
    }
}

static void score_scores_each_row_of_a_batch_on_its_own(void **state)
{
    fixture *fx = *state;
    support_rng r;
    support_rng_seed(&r, 12);
    double x[4 * M], g[4];
    support_fill_uniform(&r, x, 4 * M, -2.0, 2.0);
    assert_int_equal(dss_synthetic_score(fx->problem, 4, x, g), DSS_OK);
    for (size_t k = 0; k < 4; k++) {
        double one = 0.0;
        assert_int_equal(dss_synthetic_score(fx->problem, 1, x + k * M, &one), DSS_OK);
        assert_true(one == g[k]);
    }
}

static void outputs_are_bounded_by_the_alphas_the_score_reveals(void **state)
{
    fixture *fx = *state;
    /* D_d's entries lie in [0.01 alpha_d, alpha_d) and Q is orthogonal, so
       0.01 alpha_d |z - s|^2 <= f_d(z)^2 <= alpha_d |z - s|^2, with alpha_d = sqrt(a_d / gamma)
       taken from the score. Slack: alpha_d is recovered to a relative 2m eps sum a / a_d / 2
       (<= 2e-6 at the smallest possible a_d) and Q's orthogonality holds to ~n eps:
       a relative 1e-5 covers both. A problem whose a_d were gamma alpha_d (not squared), or
       whose f ignored alpha_d, would break these bounds for most d. */
    double a[M];
    recover_a(fx->problem, M, a);
    support_rng r;
    support_rng_seed(&r, 13);
    double z[NPTS * N], x[NPTS * M];
    random_points(&r, fx->s, N, NPTS, 0.1, z);
    assert_int_equal(dss_model_generate(fx->model, NPTS, z, x), DSS_OK);
    for (size_t k = 0; k < NPTS; k++) {
        double w2 = dist(z + k * N, fx->s, N);
        w2 *= w2;
        for (size_t d = 0; d < M; d++) {
            double alpha = sqrt(a[d] / GAMMA), f2 = x[k * M + d] * x[k * M + d];
            assert_true(x[k * M + d] >= 0.0);
            if (!(f2 >= 0.01 * alpha * w2 * (1.0 - 1e-5) && f2 <= alpha * w2 * (1.0 + 1e-5)))
                fail_msg("point %zu output %zu: f^2 = %.17g outside [%.17g, %.17g]", k, d, f2,
                         0.01 * alpha * w2, alpha * w2);
        }
    }
}

static void outputs_scale_linearly_along_rays_from_the_optimum(void **state)
{
    fixture *fx = *state;
    /* f_d(s + c w) = |c| f_d(s + w): the quadratic form is homogeneous of degree 2.
       Rounding: forming z = s + c w and then z - s moves each coordinate by at most
       2 eps (|s_i| + |c w_i|) <= 2 eps (1.25 + 0.75), i.e. |delta| <= 4 sqrt(n) eps, and f_d is
       Lipschitz with constant |A_d^(1/2)| <= sqrt(10): 13 sqrt(n) eps < 1e-14 per point; the
       form itself costs a few relative ulps (64 eps |c| f_d allows for them). */
    support_rng r;
    support_rng_seed(&r, 14);
    double w[N], z[3 * N], x[3 * M];
    support_fill_uniform(&r, w, N, -0.5, 0.5);
    const double c[3] = { 1.0, 1.5, -1.5 };
    for (size_t k = 0; k < 3; k++)
        for (size_t i = 0; i < N; i++)
            z[k * N + i] = fx->s[i] + c[k] * w[i];
    assert_int_equal(dss_model_generate(fx->model, 3, z, x), DSS_OK);
    for (size_t k = 1; k < 3; k++)
        for (size_t d = 0; d < M; d++) {
            double want = fabs(c[k]) * x[d];
            assert_true(fabs(x[k * M + d] - want) <= 64 * DBL_EPSILON * want + 2e-14);
        }
}

/* ---- the Jacobian ------------------------------------------------------------------------------ */

static void true_jacobian_matches_central_differences(void **state)
{
    fixture *fx = *state;
    /* Central differences with h_i = cbrt(eps) max(1, |z_i|) (<= 1.52e-5 in the box).
       Truncation: h^2 / 6 times a bound on f_d's third derivative. f_d(z) = |B (z - s)| with
       B = A_d^(1/2); the norm's third derivative is at most 3 / |y|^2, so
       |f_d'''| <= 3 |B|^3 / |B w|^2 <= 3 lmax^(3/2) / (lmin |w|^2) <= 300 sqrt(alpha_d) / |w|^2
       (lmin >= 0.01 alpha_d >= 0.01 lmax), <= 949 / |w|^2 as alpha_d <= 10; within h of z we use
       |w| - h. Rounding: f (<= sqrt(10) |w|) evaluated to a few ulps, divided by 2h: 4 eps f / h.
       Points are kept at least 0.5 from s, where the bound is about 1.5e-7. */
    support_rng r;
    support_rng_seed(&r, 21);
    double z[NPTS * N];
    random_points(&r, fx->s, N, NPTS, 0.5, z);
    for (size_t k = 0; k < NPTS; k++) {
        const double *zk = z + k * N;
        double J[M * N], x0[M], pts[2 * N * N], xs[2 * N * M], hmax = 0.0;
        double h[N];
        assert_int_equal(jacobian(fx->model, zk, M, NULL, J), 0);
        assert_int_equal(dss_model_generate(fx->model, 1, zk, x0), DSS_OK);
        for (size_t i = 0; i < N; i++) {
            h[i] = cbrt(DBL_EPSILON) * fmax(1.0, fabs(zk[i]));
            /* make z + h exactly representable so that the step is what we divide by */
            volatile double zp = zk[i] + h[i];
            h[i] = zp - zk[i];
            hmax = fmax(hmax, h[i]);
            memcpy(pts + (2 * i) * N, zk, N * sizeof(double));
            memcpy(pts + (2 * i + 1) * N, zk, N * sizeof(double));
            pts[(2 * i) * N + i] += h[i];
            pts[(2 * i + 1) * N + i] -= h[i];
        }
        assert_int_equal(dss_model_generate(fx->model, 2 * N, pts, xs), DSS_OK);
        double wn = dist(zk, fx->s, N) - hmax;
        double fmaxv = support_max_abs(x0, M) * (1.0 + 1e-3);
        double tol = hmax * hmax / 6.0 * 300.0 * sqrt(10.0) / (wn * wn)
                     + 4.0 * DBL_EPSILON * fmaxv / hmax;
        for (size_t d = 0; d < M; d++) {
            for (size_t i = 0; i < N; i++) {
                double fd = (xs[(2 * i) * M + d] - xs[(2 * i + 1) * M + d]) / (2.0 * h[i]);
                if (!(fabs(J[d * N + i] - fd) <= tol))
                    fail_msg("point %zu, J[%zu][%zu] = %.17g, central difference %.17g, tol %g",
                             k, d, i, J[d * N + i], fd, tol);
            }
        }
    }
}

static void authors_jacobian_is_twice_f_times_the_true_one(void **state)
{
    fixture *fx = *state;
    /* Row d of the authors' variant is (A_d + A_d^T)(z - s) = 2 A_d (z - s) (A_d symmetric);
       the true row is A_d (z - s) / f_d(z). So authors = 2 f_d true. Both are n-term sums of
       terms bounded by |A_d| |z - s| <= 10 * 5 sqrt(n) per entry, computed perhaps in another
       order: the entries agree to 4 n eps times that bound plus the rounding of 2 f_d times a
       true entry, well inside 1e-12 (1 + |row|). */
    support_rng r;
    support_rng_seed(&r, 22);
    double z[NPTS * N];
    random_points(&r, fx->s, N, NPTS, 0.1, z);
    int some_row_differs = 0;
    for (size_t k = 0; k < NPTS; k++) {
        const double *zk = z + k * N;
        double jt[M * N], ja[M * N], x[M];
        assert_int_equal(dss_model_generate(fx->model, 1, zk, x), DSS_OK);
        assert_int_equal(jacobian(fx->model, zk, M, NULL, jt), 0);
        assert_int_equal(dss_synthetic_set_jacobian(fx->problem, DSS_SYNTHETIC_JACOBIAN_AUTHORS),
                         DSS_OK);
        assert_int_equal(jacobian(fx->model, zk, M, NULL, ja), 0);
        assert_int_equal(dss_synthetic_set_jacobian(fx->problem, DSS_SYNTHETIC_JACOBIAN_TRUE),
                         DSS_OK);
        for (size_t d = 0; d < M; d++) {
            double row = support_max_abs(ja + d * N, N);
            for (size_t i = 0; i < N; i++) {
                double want = 2.0 * x[d] * jt[d * N + i];
                if (!(fabs(ja[d * N + i] - want) <= 1e-12 * (1.0 + row)))
                    fail_msg("point %zu, row %zu, col %zu: authors %.17g, 2 f true %.17g", k, d,
                             i, ja[d * N + i], want);
                some_row_differs |= fabs(ja[d * N + i] - jt[d * N + i]) > 1e-6 * (1.0 + row);
            }
        }
    }
    /* the variant is really switched (2 f_d is not 1 everywhere) */
    assert_true(some_row_differs);
}

static void jacobian_rows_are_zero_at_the_optimum(void **state)
{
    fixture *fx = *state;
    double J[M * N];
    for (int variant = 0; variant < 2; variant++) {
        assert_int_equal(dss_synthetic_set_jacobian(fx->problem, variant), DSS_OK);
        memset(J, 0xff, sizeof J); /* NaN bit patterns: every entry must be written */
        assert_int_equal(jacobian(fx->model, fx->s, M, NULL, J), 0);
        for (size_t e = 0; e < M * N; e++)
            if (J[e] != 0.0)
                fail_msg("variant %d: J[%zu][%zu] = %g at the optimum", variant, e / N, e % N,
                         J[e]);
    }
}

static void jacobian_with_rows_gives_exactly_those_rows_of_the_full_one(void **state)
{
    fixture *fx = *state;
    support_rng r;
    support_rng_seed(&r, 23);
    double z[2 * N];
    random_points(&r, fx->s, N, 2, 0.1, z);
    static const size_t r1[] = { 0, 3, 6 }, r2[] = { 6 }, r3[] = { 2, 3 }, r4[] = { 0 };
    static const struct { const size_t *rows; size_t count; } sets[] = {
        { r1, 3 }, { r2, 1 }, { r3, 2 }, { r4, 1 }
    };
    for (int variant = 0; variant < 2; variant++) {
        assert_int_equal(dss_synthetic_set_jacobian(fx->problem, variant), DSS_OK);
        for (size_t k = 0; k < 2; k++) {
            double full[M * N];
            assert_int_equal(jacobian(fx->model, z + k * N, M, NULL, full), 0);
            for (size_t c = 0; c < sizeof sets / sizeof sets[0]; c++) {
                double part[M * N];
                assert_int_equal(jacobian(fx->model, z + k * N, sets[c].count, sets[c].rows,
                                          part), 0);
                for (size_t q = 0; q < sets[c].count; q++)
                    assert_memory_equal(part + q * N, full + sets[c].rows[q] * N,
                                        N * sizeof(double));
            }
        }
    }
}

static void set_jacobian_rejects_unknown_variants_and_keeps_the_current_one(void **state)
{
    fixture *fx = *state;
    support_rng r;
    support_rng_seed(&r, 24);
    double z[N], before[M * N], after[M * N];
    random_points(&r, fx->s, N, 1, 0.1, z);
    assert_int_equal(dss_synthetic_set_jacobian(NULL, DSS_SYNTHETIC_JACOBIAN_TRUE), DSS_EINVAL);
    assert_int_equal(dss_synthetic_set_jacobian(fx->problem, DSS_SYNTHETIC_JACOBIAN_AUTHORS),
                     DSS_OK);
    assert_int_equal(jacobian(fx->model, z, M, NULL, before), 0);
    const int bad[] = { 2, -1, 99 };
    for (size_t b = 0; b < 3; b++) {
        assert_int_equal(dss_synthetic_set_jacobian(fx->problem, bad[b]), DSS_EINVAL);
        assert_int_equal(jacobian(fx->model, z, M, NULL, after), 0);
        assert_memory_equal(before, after, sizeof before);
    }
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(create_rejects_invalid_arguments),
        cmocka_unit_test(create_accepts_gamma_zero_and_the_smallest_sizes),
        cmocka_unit_test(create_accepts_the_largest_gamma_and_scores_stay_finite),
        T(destroy_of_null_is_a_no_op),
        T(model_has_the_requested_dimensions),
        T(model_has_a_jacobian_that_a_search_can_use),
        T(null_arguments_are_rejected),
        T(same_seed_gives_a_bit_identical_problem),
        T(different_seeds_give_different_problems),
        cmocka_unit_test(initial_point_is_finite_and_the_same_on_every_call),
        T(optimum_lies_in_the_shift_box),
        T(outputs_vanish_at_the_optimum_where_the_score_is_zero),
        T(score_is_below_zero_away_from_the_optimum),
        cmocka_unit_test(score_with_gamma_zero_is_minus_the_sum_of_squares),
        T(score_follows_the_rastrigin_formula),
        T(score_scores_each_row_of_a_batch_on_its_own),
        T(outputs_are_bounded_by_the_alphas_the_score_reveals),
        T(outputs_scale_linearly_along_rays_from_the_optimum),
        T(true_jacobian_matches_central_differences),
        T(authors_jacobian_is_twice_f_times_the_true_one),
        T(jacobian_rows_are_zero_at_the_optimum),
        T(jacobian_with_rows_gives_exactly_those_rows_of_the_full_one),
        T(set_jacobian_rejects_unknown_variants_and_keeps_the_current_one),
    };
    return support_leak_exit(cmocka_run_group_tests_name("synthetic", tests, NULL, NULL));
}
