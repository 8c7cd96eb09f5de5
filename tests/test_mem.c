/* Allocation: custom allocators per handle, balanced counts, steady state without allocation,
 * and DSS_ENOMEM without damage. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
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

/* ---- issue 8, bug 5: memory sized to the work ------------------------------------------- */

static double stat_of(const dss_search *s, int key)
{
    double v = -1.0;
    assert_int_equal(dss_search_stat(s, key, &v), DSS_OK);
    return v;
}

/* A workload that reaches every allocation a session makes with fixed parameters: moved and
   kept commits, commit_w, resamples, the whole undo ring (recomputing evicted decompositions),
   a save and its load, more steps. */
static void workload(dss_search *s, size_t n, size_t l)
{
    double z0[N], w[N];
    size_t len = 0;
    for (size_t j = 0; j < n; j++)
        z0[j] = 0.1 * (double)j - 0.5;
    for (size_t i = 0; i < l; i++)
        w[i] = i % 2 ? -0.8 : 0.6;
    assert_int_equal(dss_search_start(s, z0), DSS_OK);
    for (int k = 0; k < 12; k++) {
        assert_int_equal(dss_search_commit(s, k % 2 ? 0.1 : 0.9), DSS_OK);
        assert_int_equal(dss_search_commit(s, 0.5), DSS_OK);
        assert_int_equal(dss_search_resample(s), DSS_OK);
        assert_int_equal(dss_search_commit_w(s, w), DSS_OK);
    }
    while (dss_search_undo(s) == DSS_OK)
        ;
    assert_int_equal(dss_search_save(s, NULL, 0, &len), DSS_OK);
    unsigned char *buf = malloc(len);
    assert_non_null(buf);
    assert_int_equal(dss_search_save(s, buf, len, &len), DSS_OK);
    assert_int_equal(dss_search_load(s, buf, len), DSS_OK);
    free(buf);
    for (int k = 0; k < 4; k++)
        assert_int_equal(dss_search_commit(s, k % 2 ? 0.2 : 0.8), DSS_OK);
}

/* dss_search_estimate_bytes bounds the peak of every route, and is not loose: within 2x. */
static void estimate_bytes_bounds_the_peak_of_every_route(void **state)
{
    fixture *fx = *state;
    static const struct { int mode; size_t l, history, rows; unsigned jvp; } cases[] = {
        { DSS_JACOBIAN_FULL, 1, 8, 0, 1 },          /* tall: the Gram route */
        { DSS_JACOBIAN_FULL, 3, 20, 0, 1 },
        { DSS_JACOBIAN_ROWS, 2, 8, 7, 1 },          /* 7 < n rows: the wide route */
        { DSS_JACOBIAN_ROWS, 1, 8, 40, 1 },         /* 40 >= n rows: Gram */
        { DSS_JACOBIAN_FINITE_DIFF, 2, 8, 0, 1 },
        { DSS_JACOBIAN_RANDOMIZED, 2, 8, 0, 1 },
        { DSS_JACOBIAN_RANDOMIZED, 1, 8, 0, 0 },    /* without a JVP: differences of f */
        { DSS_JACOBIAN_AUTO, 1, 64, 0, 1 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        dss_search *s;
        size_t est = 0;
        assert_int_equal(dss_model_set_jvp(fx->model, cases[i].jvp ? lin_jvp : NULL), DSS_OK);
        assert_int_equal(dss_search_create(&s, fx->model), DSS_OK);
        assert_int_equal(dss_search_estimate_bytes(NULL, &est), DSS_EINVAL);
        assert_int_equal(dss_search_estimate_bytes(s, NULL), DSS_EINVAL);
        assert_int_equal(dss_search_set(s, DSS_SEARCH_JACOBIAN, cases[i].mode), DSS_OK);
        assert_int_equal(dss_search_set(s, DSS_SEARCH_SUBSPACE_DIM, (double)cases[i].l), DSS_OK);
        assert_int_equal(dss_search_set(s, DSS_SEARCH_HISTORY, (double)cases[i].history), DSS_OK);
        assert_int_equal(dss_search_set(s, DSS_SEARCH_RANK, 6), DSS_OK);
        if (cases[i].rows)
            assert_int_equal(dss_search_set(s, DSS_SEARCH_JACOBIAN_ROWS, (double)cases[i].rows),
                             DSS_OK);
        assert_int_equal(dss_search_estimate_bytes(s, &est), DSS_OK);
        workload(s, N, cases[i].l);
        double peak = stat_of(s, DSS_STAT_PEAK_BYTES);
        if (!(peak <= (double)est && (double)est <= 2.0 * peak))
            fail_msg("case %zu: estimate %zu bytes, peak %.0f", i, est, peak);
        dss_search_destroy(s);
    }
    assert_int_equal(dss_model_set_jvp(fx->model, lin_jvp), DSS_OK);
}

/* A row of 1s: the Jacobian of f(z) = sum z, for a one-output model of any n. */
static int ones_jacobian(void *user, const double *z, size_t nrows, const size_t *rows,
                         double *out)
{
    const size_t *n = user;
    (void)z, (void)rows;
    for (size_t i = 0; i < nrows * *n; i++)
        out[i] = 1.0;
    return 0;
}

static int sum_f(void *user, size_t k, const double *z, double *x)
{
    const size_t *n = user;
    for (size_t i = 0; i < k; i++) {
        x[i] = 0.0;
        for (size_t j = 0; j < *n; j++)
            x[i] += z[i * *n + j];
    }
    return 0;
}

/* Creating a session held ~5 n^2 doubles whatever m (2.56 GB at n = 8000, m = 1), and
   n = 46341 (n^2 > INT_MAX) was accepted by the model but refused by start, though a one-row
   Jacobian takes the wide route, which needs no n x n array. Now create holds O(n) and the wide
   route O(n) more; the estimate says so before start. */
static void a_wide_session_holds_memory_linear_in_n(void **state)
{
    (void)state;
    static const size_t sizes[] = { 8000, 46341 };
    for (size_t i = 0; i < 2; i++) {
        size_t n = sizes[i], est = 0;
        dss_model *model;
        dss_search *s;
        double *z0, s1 = 0.0;
        if ((double)n * (double)n * sizeof(double) > (double)SIZE_MAX) {
            /* a 32-bit machine: n x n doubles are not addressable, and create says so (dss.h) */
            assert_int_equal(dss_model_create(&model, n, 1, sum_f, &n), DSS_EINVAL);
            continue;
        }
        z0 = calloc(n, sizeof *z0);
        assert_non_null(z0);
        assert_int_equal(dss_model_create(&model, n, 1, sum_f, &n), DSS_OK);
        assert_int_equal(dss_model_set_jacobian(model, ones_jacobian), DSS_OK);
        assert_int_equal(dss_search_create(&s, model), DSS_OK);
        /* two states: centre, decomposition centre, one basis row, r values: ~8 n doubles */
        assert_true(stat_of(s, DSS_STAT_BYTES_HELD) <= 8.0 * 8.0 * (double)n);
        assert_int_equal(dss_search_set(s, DSS_SEARCH_HISTORY, 4), DSS_OK);
        assert_int_equal(dss_search_estimate_bytes(s, &est), DSS_OK);
        assert_true((double)est <= 64.0 * 8.0 * (double)n); /* O(n): (4 + 3) states and more */
        assert_int_equal(dss_search_start(s, z0), DSS_OK);
        assert_int_equal(dss_search_commit(s, 0.9), DSS_OK);
        assert_int_equal(dss_search_rank(s), 1);
        assert_int_equal(dss_search_singular_values(s, &s1, 1), DSS_OK);
        assert_true(fabs(s1 - sqrt((double)n)) <= 1e-12 * sqrt((double)n));
        assert_true(stat_of(s, DSS_STAT_PEAK_BYTES) <= (double)est);
        dss_search_destroy(s);
        dss_model_destroy(model);
        free(z0);
    }
}

/* Finite differences of a model with one output at n = 3000: a batch held (n + 1) n doubles of
   points (72 MB) where dss.h promises at most 2^22 doubles (32 MB) for a batch's points and
   outputs; the estimate says the same, and the Jacobian is still right (sum_f's is all ones). */
static void finite_differences_hold_a_bounded_batch(void **state)
{
    const size_t n = 3000;
    size_t nn = n, est = 0;
    dss_model *model;
    dss_search *s;
    double *z0 = calloc(n, sizeof *z0), s1 = 0.0;
    (void)state;
    assert_non_null(z0);
    assert_int_equal(dss_model_create(&model, n, 1, sum_f, &nn), DSS_OK);
    assert_int_equal(dss_search_create(&s, model), DSS_OK);
    assert_int_equal(dss_search_set(s, DSS_SEARCH_JACOBIAN, DSS_JACOBIAN_FINITE_DIFF), DSS_OK);
    assert_int_equal(dss_search_set(s, DSS_SEARCH_HISTORY, 0), DSS_OK);
    assert_int_equal(dss_search_estimate_bytes(s, &est), DSS_OK);
    assert_int_equal(dss_search_start(s, z0), DSS_OK);
    assert_true(stat_of(s, DSS_STAT_PEAK_BYTES) <= (double)est);
    /* the batch (32 MB) and O(n) beside it: the states, the 1 x n block, LAPACK's workspace */
    assert_true(stat_of(s, DSS_STAT_PEAK_BYTES) <= 8.0 * (double)(1u << 22) + 4e6);
    assert_int_equal(dss_search_singular_values(s, &s1, 1), DSS_OK);
    assert_true(fabs(s1 - sqrt((double)n)) <= 1e-6 * sqrt((double)n));
    dss_search_destroy(s);
    dss_model_destroy(model);
    free(z0);
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
        cmocka_unit_test_setup_teardown(estimate_bytes_bounds_the_peak_of_every_route, setup, teardown),
        cmocka_unit_test_setup_teardown(a_wide_session_holds_memory_linear_in_n, setup, teardown),
        cmocka_unit_test(finite_differences_hold_a_bounded_batch),
        cmocka_unit_test_setup_teardown(repeated_line_searches_allocate_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(every_failed_allocation_returns_enomem_and_changes_nothing, setup, teardown),
    };
    return support_leak_exit(cmocka_run_group_tests_name("mem", tests, NULL, NULL));
}
