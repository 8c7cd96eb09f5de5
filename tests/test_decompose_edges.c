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

#define T(name) cmocka_unit_test_setup_teardown(name, support_leak_setup, support_leak_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(a_jacobian_of_lower_rank_than_the_probes_gives_an_orthonormal_basis),
        T(power_iterations_on_a_graded_spectrum_keep_the_basis_orthonormal),
        T(one_sketch_of_a_graded_spectrum_is_orthonormalised_to_rounding),
    };
    return support_leak_exit(cmocka_run_group_tests_name("decompose_edges", tests, NULL, NULL));
}
