/* Allocation: custom allocators per handle, balanced counts, steady state without allocation,
 * and DSS_ENOMEM without damage. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "support.h"

#define M 60
#define N 20

/* A counting allocator that can be told to fail the k-th allocation from now. */
typedef struct counting {
    size_t allocs, frees, fail_at; /* fail_at: 0 = never, else the allocation number that fails */
} counting;

static void *counting_alloc(void *user, size_t size)
{
    counting *c = user;
    if (size == 0)
        return NULL; /* the library promises never to ask for 0 bytes: make it visible */
    if (c->fail_at != 0 && c->allocs + 1 == c->fail_at) {
        c->fail_at = 0;
        return NULL;
    }
    c->allocs++;
    return malloc(size);
}

static void counting_free(void *user, void *ptr)
{
    counting *c = user;
    assert_non_null(ptr);
    c->frees++;
    free(ptr);
}

typedef struct fixture {
    counting count;
    dss_allocator allocator;
    lin_model *lm;
    dss_model *model;
} fixture;

static int setup(void **state)
{
    fixture *fx = calloc(1, sizeof *fx);
    if (fx == NULL)
        return -1;
    fx->allocator = (dss_allocator){ counting_alloc, counting_free, &fx->count };
    fx->lm = lin_create(M, N, NULL, 3);
    if (fx->lm == NULL
        || dss_model_create_with_allocator(&fx->model, N, M, lin_f, fx->lm, &fx->allocator) != DSS_OK
        || dss_model_set_jacobian(fx->model, lin_jacobian) != DSS_OK
        || dss_model_set_vjp(fx->model, lin_vjp) != DSS_OK
        || dss_model_set_jvp(fx->model, lin_jvp) != DSS_OK)
        return -1;
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    fixture *fx = *state;
    dss_model_destroy(fx->model);
    /* everything the handles held went back through the allocator */
    assert_int_equal(fx->count.allocs, fx->count.frees);
    lin_destroy(fx->lm);
    free(fx);
    return 0;
}

static void allocator_without_functions_is_rejected(void **state)
{
    fixture *fx = *state;
    dss_allocator bad = { NULL, counting_free, NULL };
    dss_model *model = (dss_model *)&bad;
    dss_line *line = (dss_line *)&bad;
    assert_int_equal(dss_model_create_with_allocator(&model, N, M, lin_f, fx->lm, &bad), DSS_EINVAL);
    assert_null(model);
    bad = (dss_allocator){ counting_alloc, NULL, NULL };
    assert_int_equal(dss_line_create_with_allocator(&line, &bad), DSS_EINVAL);
    assert_null(line);
    assert_int_equal(dss_line_create_with_allocator(&line, NULL), DSS_OK);
    dss_line_destroy(line);
}

static int score_sum(void *user, size_t k, const double *x, double *score)
{
    (void)user;
    for (size_t i = 0; i < k; i++) {
        score[i] = 0.0;
        for (size_t d = 0; d < M; d++)
            score[i] -= x[i * M + d] * x[i * M + d];
    }
    return 0;
}

static void search_and_line_allocate_through_the_model_and_line_allocators(void **state)
{
    fixture *fx = *state;
    dss_search *search;
    dss_line *line;
    double z0[N] = { 0 }, t;
    size_t before = fx->count.allocs, held = fx->count.allocs - fx->count.frees; /* the model */
    assert_int_equal(dss_search_create(&search, fx->model), DSS_OK);
    assert_int_equal(dss_line_create_with_allocator(&line, &fx->allocator), DSS_OK);
    assert_int_equal(dss_line_set(line, DSS_LINE_SAMPLES, 11), DSS_OK);
    assert_int_equal(dss_search_start(search, z0), DSS_OK);
    assert_int_equal(dss_search_find_optimal(line, search, score_sum, NULL, &t, NULL), DSS_OK);
    assert_true(fx->count.allocs > before);
    dss_line_destroy(line);
    dss_search_destroy(search);
    assert_int_equal(fx->count.allocs - fx->count.frees, held);
}

/* After the first moved commit has sized every scratch buffer and LAPACK workspace, commits
   (moved or not) and resamples allocate nothing: the "steady state" promise, per
   Jacobian mode. */
static void steady_state_commits_allocate_nothing(void **state)
{
    fixture *fx = *state;
    const int modes[] = { DSS_JACOBIAN_FULL, DSS_JACOBIAN_ROWS, DSS_JACOBIAN_FINITE_DIFF,
                          DSS_JACOBIAN_RANDOMIZED };
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
        dss_search *search;
        double z0[N] = { 0 };
        size_t before;
        assert_int_equal(dss_search_create(&search, fx->model), DSS_OK);
        assert_int_equal(dss_search_set(search, DSS_SEARCH_JACOBIAN, modes[i]), DSS_OK);
        assert_int_equal(dss_search_set(search, DSS_SEARCH_RANK, 8), DSS_OK);
        assert_int_equal(dss_search_start(search, z0), DSS_OK);
        assert_int_equal(dss_search_commit(search, 1.0), DSS_OK);
        before = fx->count.allocs;
        for (int k = 0; k < 6; k++) {
            assert_int_equal(dss_search_commit(search, k % 2 ? 0.0 : 1.0), DSS_OK); /* moved */
            assert_int_equal(dss_search_commit(search, 0.5), DSS_OK);               /* kept */
            assert_int_equal(dss_search_resample(search), DSS_OK);
        }
        if (fx->count.allocs != before)
            fail_msg("mode %d: %zu allocations in steady state", modes[i], fx->count.allocs - before);
        dss_search_destroy(search);
    }
}

static void repeated_line_searches_allocate_nothing(void **state)
{
    fixture *fx = *state;
    dss_line *line;
    double lo[N], hi[N], t;
    size_t before;
    for (size_t j = 0; j < N; j++) {
        lo[j] = -1.0;
        hi[j] = 1.0 + (double)j;
    }
    assert_int_equal(dss_line_create_with_allocator(&line, &fx->allocator), DSS_OK);
    assert_int_equal(dss_line_set(line, DSS_LINE_SAMPLES, 101), DSS_OK);
    assert_int_equal(dss_line_set(line, DSS_LINE_REFINE, 1), DSS_OK);
    assert_int_equal(dss_find_optimal(line, fx->model, lo, hi, score_sum, NULL, &t, NULL), DSS_OK);
    before = fx->count.allocs;
    for (int k = 0; k < 5; k++)
        assert_int_equal(dss_find_optimal(line, fx->model, lo, hi, score_sum, NULL, &t, NULL), DSS_OK);
    assert_int_equal(fx->count.allocs, before);
    dss_line_destroy(line);
}

/* Fail every allocation of create, start and a moved commit in turn: each failing call returns
   DSS_ENOMEM, leaves the session as it was, and the same call then succeeds. */
static void every_failed_allocation_returns_enomem_and_changes_nothing(void **state)
{
    fixture *fx = *state;
    size_t points = 0;
    for (size_t k = 1;; k++) {
        dss_search *search = NULL;
        double z0[N] = { 0 };
        support_snapshot snap;
        int rc;
        fx->count.fail_at = fx->count.allocs + k;
        rc = dss_search_create(&search, fx->model);
        if (rc == DSS_ENOMEM) {
            assert_null(search);
            points++;
            continue;
        }
        assert_int_equal(rc, DSS_OK);
        assert_int_equal(support_snapshot_take(search, N, &snap), 0);
        rc = dss_search_start(search, z0);
        if (rc == DSS_ENOMEM) {
            assert_true(support_snapshot_matches(search, N, &snap));
            points++;
        } else {
            assert_int_equal(rc, DSS_OK);
        }
        support_snapshot_free(&snap);
        fx->count.fail_at = 0;
        assert_int_equal(dss_search_start(search, z0), DSS_OK);
        dss_search_destroy(search);
        if (rc == DSS_OK)
            break; /* k is past the last allocation of create + start */
    }
    assert_true(points >= 3); /* the search struct, its state buffers, the scratch workspaces */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(allocator_without_functions_is_rejected, setup, teardown),
        cmocka_unit_test_setup_teardown(search_and_line_allocate_through_the_model_and_line_allocators, setup, teardown),
        cmocka_unit_test_setup_teardown(steady_state_commits_allocate_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(repeated_line_searches_allocate_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(every_failed_allocation_returns_enomem_and_changes_nothing, setup, teardown),
    };
    return cmocka_run_group_tests_name("mem", tests, NULL, NULL);
}
