/* DSS_JACOBIAN_RANDOMIZED: the matrix-free randomized SVD through VJP and JVP (or finite
 * differences of f), checked against a linear model whose SVD is known. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "support.h"

#define M 400
#define N 64
#define RANK 16

typedef struct fixture {
    lin_model *lm;
    dss_model *model;
    dss_search *search;
} fixture;

/* Singular values decaying as exp(-i/8), like the "trained decoder" benchmark. */
static lin_model *decaying_model(size_t m, size_t n)
{
    size_t r = m < n ? m : n;
    double s[N > M ? N : M];
    for (size_t i = 0; i < r; i++)
        s[i] = exp(-(double)i / 8.0);
    return lin_create(m, n, s, 7);
}

static int make_fixture(void **state, size_t m, size_t n, unsigned flags)
{
    fixture *fx = calloc(1, sizeof *fx);
    if (fx == NULL)
        return -1;
    fx->lm = decaying_model(m, n);
    if (fx->lm == NULL || lin_dss_model(fx->lm, flags, &fx->model) != DSS_OK
        || dss_search_create(&fx->search, fx->model) != DSS_OK)
        return -1;
    *state = fx;
    return 0;
}

static int setup(void **state) { return make_fixture(state, M, N, LIN_WITH_VJP | LIN_WITH_JVP); }
static int setup_vjp_only(void **state) { return make_fixture(state, M, N, LIN_WITH_VJP); }
static int setup_jacobian_only(void **state) { return make_fixture(state, M, N, LIN_WITH_JACOBIAN); }
static int setup_low_rank(void **state) { return make_fixture(state, 5, N, LIN_WITH_VJP | LIN_WITH_JVP); }

static int teardown(void **state)
{
    fixture *fx = *state;
    dss_search_destroy(fx->search);
    dss_model_destroy(fx->model);
    lin_destroy(fx->lm);
    free(fx);
    return 0;
}

static void start_randomized(fixture *fx, double rank)
{
    double z0[N] = { 0 };
    assert_int_equal(dss_search_set(fx->search, DSS_SEARCH_JACOBIAN, DSS_JACOBIAN_RANDOMIZED), DSS_OK);
    assert_int_equal(dss_search_set(fx->search, DSS_SEARCH_RANK, rank), DSS_OK);
    assert_int_equal(dss_search_set(fx->search, DSS_SEARCH_SAMPLER, DSS_SAMPLER_TOP), DSS_OK);
    assert_int_equal(dss_search_start(fx->search, z0), DSS_OK);
}

/* Angle between unit vector b and the span of the top k right-singular vectors of the model:
   acos of the norm of its projection. */
static double angle_to_top_subspace(const lin_model *lm, const double *b, size_t k)
{
    double proj2 = 0.0, v[N];
    for (size_t i = 0; i < k; i++) {
        double d;
        lin_right_vector(lm, i, v);
        d = support_dot(v, b, lm->n);
        proj2 += d * d;
    }
    return acos(fmin(1.0, sqrt(proj2)));
}

/* The top `rank` values within 1 % and every proposed direction within 0.1 rad of the true top
   subspace: the accuracy targets, here on a model small enough for a unit test. TOP
   proposes the kept directions in order, one per resample. */
static void check_accuracy(fixture *fx, size_t rank)
{
    double s[RANK], b[N];
    assert_int_equal(dss_search_rank(fx->search), rank);
    assert_int_equal(dss_search_singular_values(fx->search, s, rank), DSS_OK);
    for (size_t i = 0; i < rank; i++)
        assert_true(fabs(s[i] - fx->lm->s[i]) <= 0.01 * fx->lm->s[i]);
    for (size_t i = 0; i < rank; i++) {
        size_t idx;
        assert_int_equal(dss_search_basis(fx->search, b), DSS_OK);
        assert_int_equal(dss_search_basis_indices(fx->search, &idx), DSS_OK);
        assert_int_equal(idx, i);
        assert_true(fabs(support_norm2(b, N) - 1.0) < 1e-12);
        assert_true(angle_to_top_subspace(fx->lm, b, rank) < 0.1);
        assert_int_equal(dss_search_resample(fx->search), DSS_OK);
    }
}

static void randomized_matches_top_singular_pairs_with_vjp_and_jvp(void **state)
{
    fixture *fx = *state;
    start_randomized(fx, RANK);
    check_accuracy(fx, RANK);
}

/* (power + 1) VJP calls and as many JVP calls, each with rank + oversample products: the cost
   does not grow with m. Defaults: oversample 10, one power iteration. */
static void randomized_uses_a_fixed_number_of_products(void **state)
{
    fixture *fx = *state;
    double value;
    assert_int_equal(dss_search_get(fx->search, DSS_SEARCH_OVERSAMPLE, &value), DSS_OK);
    assert_true(value == 10.0);
    assert_int_equal(dss_search_get(fx->search, DSS_SEARCH_POWER_ITERATIONS, &value), DSS_OK);
    assert_true(value == 1.0);
    lin_reset_counters(fx->lm);
    start_randomized(fx, RANK);
    assert_int_equal(fx->lm->vjp_calls, 2);
    assert_int_equal(fx->lm->jvp_calls, 2);
    assert_int_equal(fx->lm->f_calls, 0);
    assert_int_equal(fx->lm->jac_calls, 0);
    assert_int_equal(fx->lm->protocol_errors, 0);

    assert_int_equal(dss_search_set(fx->search, DSS_SEARCH_POWER_ITERATIONS, 3), DSS_OK);
    lin_reset_counters(fx->lm);
    assert_int_equal(dss_search_commit(fx->search, 1.0), DSS_OK);
    assert_int_equal(fx->lm->vjp_calls, 4);
    assert_int_equal(fx->lm->jvp_calls, 4);
}

/* Without a JVP, J q comes from forward differences of f: one batched call of rank +
   oversample + 1 points per application (the model's max batch is unlimited here). */
static void randomized_without_jvp_uses_batched_finite_differences(void **state)
{
    fixture *fx = *state;
    lin_reset_counters(fx->lm);
    start_randomized(fx, RANK);
    assert_int_equal(fx->lm->jvp_calls, 0);
    assert_int_equal(fx->lm->vjp_calls, 2);
    assert_int_equal(fx->lm->f_calls, 2);
    assert_int_equal(fx->lm->f_points, 2 * (RANK + 10 + 1));
    check_accuracy(fx, RANK);
}

static void auto_picks_randomized_when_only_a_vjp_exists(void **state)
{
    fixture *fx = *state;
    double z0[N] = { 0 };
    lin_reset_counters(fx->lm);
    assert_int_equal(dss_search_start(fx->search, z0), DSS_OK);
    assert_true(fx->lm->vjp_calls > 0);
    assert_int_equal(dss_search_rank(fx->search), 32); /* DSS_SEARCH_RANK's default */
}

static void randomized_without_vjp_is_unsupported_and_changes_nothing(void **state)
{
    fixture *fx = *state;
    double z0[N] = { 0 };
    support_snapshot before, after;
    assert_int_equal(dss_search_start(fx->search, z0), DSS_OK); /* FULL through the Jacobian */
    assert_int_equal(support_snapshot_take(fx->search, N, &before), 0);
    assert_int_equal(dss_search_set(fx->search, DSS_SEARCH_JACOBIAN, DSS_JACOBIAN_RANDOMIZED), DSS_OK);
    assert_int_equal(dss_search_commit(fx->search, 1.0), DSS_EUNSUPPORTED);
    assert_int_equal(dss_search_start(fx->search, z0), DSS_EUNSUPPORTED);
    assert_int_equal(dss_search_set(fx->search, DSS_SEARCH_JACOBIAN, DSS_JACOBIAN_AUTO), DSS_OK);
    assert_int_equal(support_snapshot_take(fx->search, N, &after), 0);
    assert_true(support_snapshot_equal(&before, &after));
    support_snapshot_free(&before);
    support_snapshot_free(&after);
}

/* A failing or non-finite VJP/JVP aborts the update and leaves the session as it was. */
static void randomized_callback_faults_leave_the_session_unchanged(void **state)
{
    fixture *fx = *state;
    const int callbacks[] = { LIN_VJP, LIN_JVP };
    const int kinds[] = { LIN_FAULT_ERROR, LIN_FAULT_NAN, LIN_FAULT_INF };
    const int want[] = { DSS_ECALLBACK, DSS_ENONFINITE, DSS_ENONFINITE };
    start_randomized(fx, RANK);
    for (size_t c = 0; c < 2; c++) {
        for (size_t k = 0; k < 3; k++) {
            for (size_t nth = 1; nth <= 2; nth++) {
                support_snapshot before;
                assert_int_equal(support_snapshot_take(fx->search, N, &before), 0);
                lin_fault(fx->lm, callbacks[c], kinds[k], nth);
                assert_int_equal(dss_search_commit(fx->search, 0.9), want[k]);
                lin_fault(fx->lm, callbacks[c], LIN_FAULT_NONE, 1);
                assert_true(support_snapshot_matches(fx->search, N, &before));
                support_snapshot_free(&before);
            }
        }
    }
    assert_int_equal(dss_search_commit(fx->search, 0.9), DSS_OK);
}

static void randomized_is_deterministic_for_a_seed(void **state)
{
    fixture *fx = *state;
    dss_search *twin;
    double z0[N] = { 0 };
    assert_int_equal(dss_search_create(&twin, fx->model), DSS_OK);
    assert_int_equal(dss_search_set(twin, DSS_SEARCH_JACOBIAN, DSS_JACOBIAN_RANDOMIZED), DSS_OK);
    assert_int_equal(dss_search_set(twin, DSS_SEARCH_RANK, RANK), DSS_OK);
    assert_int_equal(dss_search_set(twin, DSS_SEARCH_SAMPLER, DSS_SAMPLER_TOP), DSS_OK);
    assert_int_equal(dss_search_start(twin, z0), DSS_OK);
    start_randomized(fx, RANK);
    assert_true(support_twins_agree(fx->search, twin, N, 5));
    dss_search_destroy(twin);
}

/* J of rank 5 (m = 5): the kept rank is min(rank, m, n) and the values are exact. */
static void randomized_rank_is_capped_by_the_jacobian_shape(void **state)
{
    fixture *fx = *state;
    double s[5];
    start_randomized(fx, RANK);
    assert_int_equal(dss_search_rank(fx->search), 5);
    assert_int_equal(dss_search_singular_values(fx->search, s, 5), DSS_OK);
    /* with all 5 directions probed the range finder is exact: rounding only (eps * s_1 * 100) */
    for (size_t i = 0; i < 5; i++)
        assert_true(fabs(s[i] - fx->lm->s[i]) <= 100 * 2.2e-16 * fx->lm->s[0]);
}

static void randomized_parameters_are_validated(void **state)
{
    fixture *fx = *state;
    double value;
    assert_int_equal(dss_search_set(fx->search, DSS_SEARCH_OVERSAMPLE, -1), DSS_EINVAL);
    assert_int_equal(dss_search_set(fx->search, DSS_SEARCH_OVERSAMPLE, 2.5), DSS_EINVAL);
    assert_int_equal(dss_search_set(fx->search, DSS_SEARCH_OVERSAMPLE, NAN), DSS_EINVAL);
    assert_int_equal(dss_search_set(fx->search, DSS_SEARCH_OVERSAMPLE, 0), DSS_OK);
    assert_int_equal(dss_search_set(fx->search, DSS_SEARCH_POWER_ITERATIONS, 17), DSS_EINVAL);
    assert_int_equal(dss_search_set(fx->search, DSS_SEARCH_POWER_ITERATIONS, -1), DSS_EINVAL);
    assert_int_equal(dss_search_set(fx->search, DSS_SEARCH_POWER_ITERATIONS, 0), DSS_OK);
    assert_int_equal(dss_search_set(fx->search, DSS_SEARCH_RANK, 0), DSS_EINVAL);
    assert_int_equal(dss_search_get(fx->search, DSS_SEARCH_OVERSAMPLE, &value), DSS_OK);
    assert_true(value == 0.0);
    assert_int_equal(dss_search_get(fx->search, DSS_SEARCH_POWER_ITERATIONS, &value), DSS_OK);
    assert_true(value == 0.0);
}

/* A Jacobian of any magnitude: the sketch's squares underflowed at |J| ~ 1e-120 (1e-480) and
   its products overflowed at 1e+160, and the rows were replaced by random ones: s1 came out
   30 % low with a wrong top direction, and DSS_OK. Singular values 10^-i (i = 0..n-1) times
   the scale: with rank + oversample = 8 of n = 40 and one power iteration the top pair is
   exact to about (s_9 / s_1)^3 = 1e-24, so the tolerance 1e-9 is rounding only (the scaling
   is by powers of two, exact). */
static void randomized_is_accurate_at_any_magnitude(void **state)
{
    static const double scales[] = { 1.0, 1e-120, 1e120, 1e-160, 1e160, 1e-200 };
    enum { RM = 60, RN = 40 };
    double s[RN], v1[RN];
    (void)state;
    for (size_t k = 0; k < sizeof scales / sizeof scales[0]; k++) {
        lin_model *lm;
        dss_model *model;
        dss_search *search;
        double z0[RN] = { 0 }, got[4], basis[RN];
        for (int i = 0; i < RN; i++)
            s[i] = scales[k] * pow(10.0, -i);
        lm = lin_create(RM, RN, s, 21);
        assert_non_null(lm);
        assert_int_equal(lin_dss_model(lm, LIN_WITH_VJP | LIN_WITH_JVP, &model), DSS_OK);
        assert_int_equal(dss_search_create(&search, model), DSS_OK);
        assert_int_equal(dss_search_set(search, DSS_SEARCH_JACOBIAN, DSS_JACOBIAN_RANDOMIZED),
                         DSS_OK);
        assert_int_equal(dss_search_set(search, DSS_SEARCH_RANK, 4), DSS_OK);
        assert_int_equal(dss_search_set(search, DSS_SEARCH_OVERSAMPLE, 4), DSS_OK);
        assert_int_equal(dss_search_set(search, DSS_SEARCH_SAMPLER, DSS_SAMPLER_TOP), DSS_OK);
        assert_int_equal(dss_search_start(search, z0), DSS_OK);
        assert_int_equal(dss_search_singular_values(search, got, 4), DSS_OK);
        for (int i = 0; i < 2; i++)
            if (!(fabs(got[i] - s[i]) <= 1e-9 * s[i]))
                fail_msg("scale %g: s%d = %.17g, want %.17g", scales[k], i + 1, got[i], s[i]);
        assert_int_equal(dss_search_basis(search, basis), DSS_OK);
        lin_right_vector(lm, 0, v1);
        if (!support_equal_up_to_sign(basis, v1, RN, 1e-9))
            fail_msg("scale %g: the top direction is off by %g", scales[k],
                     support_sign_diff(basis, v1, RN));
        dss_search_destroy(search);
        dss_model_destroy(model);
        lin_destroy(lm);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(randomized_matches_top_singular_pairs_with_vjp_and_jvp, setup, teardown),
        cmocka_unit_test_setup_teardown(randomized_uses_a_fixed_number_of_products, setup, teardown),
        cmocka_unit_test_setup_teardown(randomized_without_jvp_uses_batched_finite_differences, setup_vjp_only, teardown),
        cmocka_unit_test_setup_teardown(auto_picks_randomized_when_only_a_vjp_exists, setup_vjp_only, teardown),
        cmocka_unit_test_setup_teardown(randomized_without_vjp_is_unsupported_and_changes_nothing, setup_jacobian_only, teardown),
        cmocka_unit_test_setup_teardown(randomized_callback_faults_leave_the_session_unchanged, setup, teardown),
        cmocka_unit_test_setup_teardown(randomized_is_deterministic_for_a_seed, setup, teardown),
        cmocka_unit_test_setup_teardown(randomized_rank_is_capped_by_the_jacobian_shape, setup_low_rank, teardown),
        cmocka_unit_test_setup_teardown(randomized_parameters_are_validated, setup, teardown),
        cmocka_unit_test(randomized_is_accurate_at_any_magnitude),
    };
    return support_leak_exit(cmocka_run_group_tests_name("randomized", tests, NULL, NULL));
}
