/*
 * What a hostile or careless host does to a running call (issue 17's findings), each checked
 * against the documented outcome:
 * - a callback that removes the model's own callbacks (dss_model_set_jacobian(model, NULL),
 *   set_vjp) while a search on that model runs: the running call keeps the callbacks it started
 *   with (it crashed on a NULL Jacobian), the next call sees the change;
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <dss/dss.h>

#include "support.h"

#define M 6
#define N 4

/* ---- a Jacobian callback that removes itself ---------------------------------------------- */

typedef struct remover {
    lin_model *lm;
    dss_model *model;
    int removals;       /* times the callback removed the model's derivatives */
} remover;

static int remover_f(void *user, size_t k, const double *z, double *x)
{
    return lin_f(((remover *)user)->lm, k, z, x);
}

static int removing_jacobian(void *user, const double *z, size_t nrows, const size_t *rows,
                             double *out)
{
    remover *r = user;
    if (dss_model_set_jacobian(r->model, NULL) == DSS_OK
        && dss_model_set_vjp(r->model, NULL) == DSS_OK)
        r->removals++;
    return lin_jacobian(r->lm, z, nrows, rows, out);
}

static void removing_callbacks_from_a_callback_changes_the_next_call(void **state)
{
    remover r = { 0 };
    dss_search *s;
    double z0[N] = { 0.1, -0.2, 0.3, 0.05 }, sv[N];
    (void)state;
    r.lm = lin_create(M, N, NULL, 5);
    assert_non_null(r.lm);
    assert_int_equal(dss_model_create(&r.model, N, M, remover_f, &r), DSS_OK);
    assert_int_equal(dss_model_set_jacobian(r.model, removing_jacobian), DSS_OK);
    assert_int_equal(dss_model_set_vjp(r.model, lin_vjp), DSS_OK);
    assert_int_equal(dss_search_create(&s, r.model), DSS_OK);
    /* three Jacobian requests of 2 rows per decomposition: the 2nd and 3rd come after the first
       removed the callback */
    assert_int_equal(dss_search_set(s, DSS_SEARCH_JACOBIAN_CHUNK, 2), DSS_OK);
    assert_int_equal(dss_search_start(s, z0), DSS_OK);
    assert_int_equal(r.lm->jac_calls, 3);
    assert_true(r.removals >= 1);
    /* the decomposition is the exact one: s = 4, 3, 2, 1 (lin_create's default) */
    assert_int_equal(dss_search_singular_values(s, sv, N), DSS_OK);
    for (int i = 0; i < N; i++)
        assert_true(fabs(sv[i] - (double)(N - i)) <= 1e-12 * N);
    /* the next recomputing commit sees a model without derivatives: AUTO falls back to finite
       differences, and the removed callback is never called again */
    assert_int_equal(dss_search_commit(s, 0.9), DSS_OK);
    assert_int_equal(dss_search_jacobian_route(s), DSS_JACOBIAN_FINITE_DIFF);
    assert_int_equal(r.lm->jac_calls, 3);
    /* and FULL says what is missing, changing nothing */
    assert_int_equal(dss_search_set(s, DSS_SEARCH_JACOBIAN, DSS_JACOBIAN_FULL), DSS_OK);
    assert_int_equal(dss_search_commit(s, 0.9), DSS_EUNSUPPORTED);
    dss_search_destroy(s);
    dss_model_destroy(r.model);
    lin_destroy(r.lm);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(removing_callbacks_from_a_callback_changes_the_next_call),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
