/* The randomized route at its edges: a Jacobian of lower rank than the probes (sketch rows
 * that are linearly dependent and must be replaced by fresh random directions), and a steeply
 * graded spectrum sharpened by power iterations (a sketch so ill-conditioned that one
 * Gram-Schmidt pass leaves its rows far from orthogonal). Both must still give the known
 * singular values and an orthonormal basis. */
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

#include "support.h"

#define N 12

typedef struct fixture {
    lin_model *lm;
    dss_model *model;
    dss_search *search;
} fixture;

static void open_randomized(fixture *fx, const double *s, double rank, double oversample,
                            double power, uint64_t seed)
{
    fx->lm = lin_create(N, N, s, seed);
    assert_non_null(fx->lm);
    assert_int_equal(lin_dss_model(fx->lm, LIN_WITH_VJP | LIN_WITH_JVP, &fx->model), DSS_OK);
    assert_int_equal(dss_search_create(&fx->search, fx->model), DSS_OK);
    assert_int_equal(dss_search_set(fx->search, DSS_SEARCH_JACOBIAN, DSS_JACOBIAN_RANDOMIZED),
                     DSS_OK);
    assert_int_equal(dss_search_set(fx->search, DSS_SEARCH_RANK, rank), DSS_OK);
    assert_int_equal(dss_search_set(fx->search, DSS_SEARCH_OVERSAMPLE, oversample), DSS_OK);
    assert_int_equal(dss_search_set(fx->search, DSS_SEARCH_POWER_ITERATIONS, power), DSS_OK);
    assert_int_equal(dss_search_set(fx->search, DSS_SEARCH_SAMPLER, DSS_SAMPLER_TOP), DSS_OK);
    assert_int_equal(dss_search_set(fx->search, DSS_SEARCH_SUBSPACE_DIM, rank), DSS_OK);
}

static void close_fixture(fixture *fx)
{
    dss_search_destroy(fx->search);
    dss_model_destroy(fx->model);
    lin_destroy(fx->lm);
}

static void start(fixture *fx)
{
    double z0[N];
    for (size_t i = 0; i < N; i++)
        z0[i] = 0.1 * (double)i - 0.5;
    assert_int_equal(dss_search_start(fx->search, z0), DSS_OK);
}

/* the basis (all `rank` rows, TOP order) is orthonormal to `tol` */
static void check_basis(const fixture *fx, size_t rank, double tol)
{
    double basis[N * N];
    double err;
    assert_int_equal(dss_search_basis(fx->search, basis), DSS_OK);
    err = support_orthonormality_error(basis, rank, N);
    if (!(err <= tol))
        fail_msg("basis rows %.3g from orthonormal (tolerance %.3g)", err, tol);
}

static void a_jacobian_of_lower_rank_than_the_probes_gives_an_orthonormal_basis(void **state)
{
    /* rank 2: with 6 probes, every sketch has 4 dependent rows to replace, at each of the 3
       orthonormalisations */
    const double s[N] = { 3.0, 1.0 };
    fixture fx;
    double sv[6];
    (void)state;
    open_randomized(&fx, s, 6, 0, 2, 31);
    start(&fx);
    assert_int_equal(dss_search_rank(fx.search), 6);
    assert_int_equal(dss_search_singular_values(fx.search, sv, 6), DSS_OK);
    /* the exact range is captured: values to rounding (relative to s_1) */
    assert_true(fabs(sv[0] - 3.0) <= 1e-12 * 3.0);
    assert_true(fabs(sv[1] - 1.0) <= 1e-12 * 3.0);
    for (size_t i = 2; i < 6; i++)
        assert_true(sv[i] <= 1e-12 * 3.0);
    check_basis(&fx, 6, 1e-12);
    close_fixture(&fx);
}

static void power_iterations_on_a_graded_spectrum_keep_the_basis_orthonormal(void **state)
{
    /* s_i = 10^-i: after 3 power iterations the sketch's rows carry s^7, a range of 10^77
       over the 12 probes */
    double s[N];
    fixture fx;
    (void)state;
    for (size_t i = 0; i < N; i++)
        s[i] = pow(10.0, -(double)i);
    open_randomized(&fx, s, 8, 4, 3, 32);
    start(&fx);
    check_basis(&fx, 8, 1e-12);
    close_fixture(&fx);
}

static void one_sketch_of_a_graded_spectrum_is_orthonormalised_to_rounding(void **state)
{
    /* s_i = 10^(-1.3 i), no power iteration: the 8 sketch rows Omega J have a condition number
       near 10^9, far from orthogonal, yet never so dependent that a row is redrawn */
    double s[N];
    fixture fx;
    (void)state;
    for (size_t i = 0; i < N; i++)
        s[i] = pow(10.0, -1.3 * (double)i);
    open_randomized(&fx, s, 8, 0, 0, 33);
    start(&fx);
    check_basis(&fx, 8, 1e-12);
    close_fixture(&fx);
}

/* ---- ROWS and finite differences ------------------------------------------------------- */

static void rows_mode_rejects_more_directions_than_rows(void **state)
{
    fixture fx;
    support_snapshot before;
    double z0[5] = { 0.1, 0.2, 0.3, 0.4, 0.5 };
    (void)state;
    fx.lm = lin_create(10, 5, NULL, 34);
    assert_non_null(fx.lm);
    assert_int_equal(lin_dss_model(fx.lm, LIN_WITH_JACOBIAN, &fx.model), DSS_OK);
    assert_int_equal(dss_search_create(&fx.search, fx.model), DSS_OK);
    assert_int_equal(dss_search_set(fx.search, DSS_SEARCH_JACOBIAN, DSS_JACOBIAN_ROWS), DSS_OK);
    assert_int_equal(dss_search_set(fx.search, DSS_SEARCH_JACOBIAN_ROWS, 2), DSS_OK);
    assert_int_equal(dss_search_set(fx.search, DSS_SEARCH_SUBSPACE_DIM, 3), DSS_OK);
    assert_int_equal(support_snapshot_take(fx.search, 5, &before), 0);
    assert_int_equal(dss_search_start(fx.search, z0), DSS_EINVAL); /* rank 2 < l = 3 */
    assert_true(support_snapshot_matches(fx.search, 5, &before));
    support_snapshot_free(&before);
    assert_int_equal(dss_search_set(fx.search, DSS_SEARCH_SUBSPACE_DIM, 2), DSS_OK);
    assert_int_equal(dss_search_start(fx.search, z0), DSS_OK);
    assert_int_equal(dss_search_rank(fx.search), 2);
    close_fixture(&fx);
}

/* Every logged input of f is c, or c moved along one axis i by the documented step
   h_i = step max(1, |c_i|) (to the rounding of c_i + h_i), forward or both ways. */
static void check_steps(const lin_model *lm, const double *c, int central, double step)
{
    const size_t n = lm->n, points = central ? 2 * n : n + 1;
    assert_int_equal(lm->f_log_count, points);
    for (size_t p = 0; p < points; p++) {
        const double *z = lm->f_log + p * n;
        for (size_t i = 0; i < n; i++) {
            const double h = step * fmax(1.0, fabs(c[i])), d = z[i] - c[i];
            if (d != 0.0 && !(fabs(fabs(d) - h) <= 2.0 * DBL_EPSILON * (fabs(c[i]) + h)))
                fail_msg("%s differences: coordinate %zu (c = %g) moved by %.17g, not +-%.17g",
                         central ? "central" : "forward", i, c[i], d, h);
            if (!central)
                assert_true(d >= 0.0);
        }
    }
}

static void finite_difference_steps_scale_with_negative_coordinates_too(void **state)
{
    const double c[6] = { -3.0, 2.5, -0.5, -1.5, 0.0, -40.0 };
    (void)state;
    for (int central = 0; central <= 1; central++) {
        fixture fx;
        fx.lm = lin_create(7, 6, NULL, 35);
        assert_non_null(fx.lm);
        assert_int_equal(lin_dss_model(fx.lm, 0, &fx.model), DSS_OK);
        assert_int_equal(dss_search_create(&fx.search, fx.model), DSS_OK);
        assert_int_equal(dss_search_set(fx.search, DSS_SEARCH_DIFF_SCHEME,
                                        central ? DSS_DIFF_CENTRAL : DSS_DIFF_FORWARD), DSS_OK);
        assert_int_equal(lin_log_f_inputs(fx.lm, 64), 0);
        assert_int_equal(dss_search_start(fx.search, c), DSS_OK);
        check_steps(fx.lm, c, central, central ? cbrt(DBL_EPSILON) : sqrt(DBL_EPSILON));
        close_fixture(&fx);
    }
}

/* f = 1.7e308 tanh(1e10 z_0) in every output: finite everywhere, but its difference quotient at
   z_0 = 0 overflows */
static int steep_f(void *user, size_t k, const double *z, double *x)
{
    const size_t n = 2, m = 3;
    (void)user;
    for (size_t i = 0; i < k; i++)
        for (size_t d = 0; d < m; d++)
            x[i * m + d] = 1.7e308 * tanh(1e10 * z[i * n]);
    return 0;
}

static void a_finite_difference_quotient_that_overflows_is_rejected(void **state)
{
    dss_model *model;
    dss_search *search;
    const double z0[2] = { 0.0, 0.0 };
    (void)state;
    assert_int_equal(dss_model_create_with_allocator(&model, 2, 3, steep_f, NULL,
                                                     support_allocator()), DSS_OK);
    assert_int_equal(dss_search_create(&search, model), DSS_OK);
    for (int central = 0; central <= 1; central++) {
        assert_int_equal(dss_search_set(search, DSS_SEARCH_DIFF_SCHEME,
                                        central ? DSS_DIFF_CENTRAL : DSS_DIFF_FORWARD), DSS_OK);
        assert_int_equal(dss_search_start(search, z0), DSS_ENONFINITE);
        assert_int_equal(dss_search_rank(search), 0);
    }
    dss_search_destroy(search);
    dss_model_destroy(model);
}

/* RANDOMIZED without a JVP takes forward differences along unit directions with the step
   scaled by max(1, |c|_inf): at |c| ~ 1e6 an unscaled step would drown in c's rounding. */
static void matrix_free_differences_scale_their_step_with_the_centre(void **state)
{
    fixture fx;
    double z0[6], sv[6];
    (void)state;
    fx.lm = lin_create(8, 6, NULL, 36); /* s = 6, 5, ..., 1 */
    assert_non_null(fx.lm);
    assert_int_equal(lin_dss_model(fx.lm, LIN_WITH_VJP, &fx.model), DSS_OK);
    assert_int_equal(dss_search_create(&fx.search, fx.model), DSS_OK);
    assert_int_equal(dss_search_set(fx.search, DSS_SEARCH_JACOBIAN, DSS_JACOBIAN_RANDOMIZED),
                     DSS_OK);
    assert_int_equal(dss_search_set(fx.search, DSS_SEARCH_RANK, 6), DSS_OK);
    assert_int_equal(dss_search_set(fx.search, DSS_SEARCH_OVERSAMPLE, 0), DSS_OK);
    assert_int_equal(dss_search_set(fx.search, DSS_SEARCH_POWER_ITERATIONS, 0), DSS_OK);
    for (size_t i = 0; i < 6; i++)
        z0[i] = 1e6 * (1.0 + 0.1 * (double)i);
    assert_int_equal(dss_search_start(fx.search, z0), DSS_OK);
    assert_int_equal(dss_search_singular_values(fx.search, sv, 6), DSS_OK);
    /* step h = sqrt(eps) 1.5e6 ~ 2.3e-2: rounding of c + h d (ulp 2.3e-10) and of f (~1e-9)
       over h is ~1e-7 of s_1 at most */
    for (size_t i = 0; i < 6; i++)
        if (!(fabs(sv[i] - fx.lm->s[i]) <= 1e-6 * fx.lm->s[0]))
            fail_msg("s_%zu = %.17g, expected %.17g", i, sv[i], fx.lm->s[i]);
    close_fixture(&fx);
}

#define T(name) cmocka_unit_test_setup_teardown(name, support_leak_setup, support_leak_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(a_jacobian_of_lower_rank_than_the_probes_gives_an_orthonormal_basis),
        T(power_iterations_on_a_graded_spectrum_keep_the_basis_orthonormal),
        T(one_sketch_of_a_graded_spectrum_is_orthonormalised_to_rounding),
        T(rows_mode_rejects_more_directions_than_rows),
        T(finite_difference_steps_scale_with_negative_coordinates_too),
        T(a_finite_difference_quotient_that_overflows_is_rejected),
        T(matrix_free_differences_scale_their_step_with_the_centre),
    };
    return support_leak_exit(cmocka_run_group_tests_name("decompose_edges", tests, NULL, NULL));
}
