/*
 * The dss_search session through its public API: argument validation (and that a failed call
 * changes nothing), parameters and their defaults, determinism, the slider mapping and default
 * radius, commits inside and outside the centre tolerance, and the strong guarantee when
 * callbacks fail or return NaN/infinity.
 *
 * "Changes nothing" is checked two ways: a snapshot of everything the API shows (centre, basis,
 * basis indices, singular values, parameters, call statistics) is bit-identical before and after
 * the failing call, and a twin session that made the same calls except the failing one then
 * produces the same future: same draws, the same results from a far and a near commit, and the
 * same undo steps (support_twins_agree).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <dss/dss.h>

#include "support.h"

#define N 4         /* latent dimension of the default model */
#define M 7         /* output dimension of the default model */
#define NMAX 16     /* largest latent dimension whose vectors the tests hold */
#define TWIN_DRAWS 6

typedef struct fixture {
    lin_model  *lm;
    dss_model  *model;
    dss_search *search; /* the session under test */
    dss_search *twin;   /* makes the same calls except the failing ones */
    double      z0[NMAX];
    double      z1[NMAX]; /* a second start point */
} fixture;

static void fixture_clear(fixture *fx)
{
    dss_search_destroy(fx->search);
    dss_search_destroy(fx->twin);
    dss_model_destroy(fx->model);
    lin_destroy(fx->lm);
    memset(fx, 0, sizeof *fx);
}

/* lm (m x n, singular values r, ..., 1), its dss_model with the callbacks in flags, two
 * sessions on it and two start points. Returns 0 or -1. */
static int fixture_make(fixture *fx, size_t m, size_t n, unsigned flags)
{
    fixture_clear(fx);
    fx->lm = lin_create(m, n, NULL, 31 * m + n);
    if (!fx->lm || lin_dss_model(fx->lm, flags, &fx->model) != DSS_OK
        || dss_search_create(&fx->search, fx->model) != DSS_OK
        || dss_search_create(&fx->twin, fx->model) != DSS_OK)
        return -1;
    support_rng r;
    support_rng_seed(&r, 17);
    support_fill_uniform(&r, fx->z0, n < NMAX ? n : NMAX, -1.0, 1.0);
    support_fill_uniform(&r, fx->z1, n < NMAX ? n : NMAX, -1.0, 1.0);
    return 0;
}

static void rebuild(fixture *fx, size_t m, size_t n, unsigned flags)
{
    assert_int_equal(fixture_make(fx, m, n, flags), 0);
}

/* Default handles: a 7 x 4 model (singular values 4, 3, 2, 1) with a Jacobian callback and two
 * sessions, not started. */
static int setup(void **state)
{
    fixture *fx = calloc(1, sizeof *fx);
    if (!fx)
        return -1;
    *state = fx;
    return fixture_make(fx, M, N, LIN_WITH_JACOBIAN);
}

static int teardown(void **state)
{
    fixture *fx = *state;
    fixture_clear(fx);
    free(fx);
    return 0;
}

/* Set a parameter on both sessions. */
static void set_both(fixture *fx, int param, double value)
{
    assert_int_equal(dss_search_set(fx->search, param, value), DSS_OK);
    assert_int_equal(dss_search_set(fx->twin, param, value), DSS_OK);
}

/* Start both sessions at z0 and check that they agree. */
static void start_both(fixture *fx)
{
    assert_int_equal(dss_search_start(fx->search, fx->z0), DSS_OK);
    assert_int_equal(dss_search_start(fx->twin, fx->z0), DSS_OK);
}

static void take(const dss_search *search, size_t n, support_snapshot *snap)
{
    assert_int_equal(support_snapshot_take(search, n, snap), 0);
}

/* The session still shows what snap recorded. */
static void assert_unchanged(const fixture *fx, const support_snapshot *snap, const char *what)
{
    if (!support_snapshot_matches(fx->search, fx->lm->n, snap))
        fail_msg("the session changed after: %s", what);
}

/* The session under test and its twin have the same present and the same future. */
static void assert_twins(fixture *fx)
{
    for (int cb = 0; cb < LIN_NCALLBACKS; cb++)
        lin_fault(fx->lm, cb, LIN_FAULT_NONE, 0);
    assert_true(support_twins_agree(fx->search, fx->twin, fx->lm->n, TWIN_DRAWS));
}

/* Rounding slack for c + a b computed in a different order: a few ulps of |c| + |a|. */
static double affine_tol(const double *c, size_t n, double a)
{
    return 4.0 * DBL_EPSILON * (support_max_abs(c, n) + fabs(a));
}

/* ---- creation and argument validation -------------------------------------------------------- */

static void create_rejects_null_out_and_null_model(void **state)
{
    fixture *fx = *state;
    dss_search *s = fx->twin; /* non-NULL: create must set it to NULL on failure */
    assert_int_equal(dss_search_create(NULL, fx->model), DSS_EINVAL);
    assert_int_equal(dss_search_create(&s, NULL), DSS_EINVAL);
    assert_null(s);
}

static void destroy_accepts_null(void **state)
{
    (void)state;
    dss_search_destroy(NULL);
    assert_true(1); /* reaching this line is the test: no crash */
}

static void defaults_are_as_documented(void **state)
{
    fixture *fx = *state;
    const struct { int param; double value; } defaults[] = {
        {DSS_SEARCH_SUBSPACE_DIM, 1},      {DSS_SEARCH_CENTER_TOLERANCE, 0.05},
        {DSS_SEARCH_SEED, 0},              {DSS_SEARCH_JACOBIAN, DSS_JACOBIAN_AUTO},
        {DSS_SEARCH_JACOBIAN_ROWS, 50},    {DSS_SEARCH_RANK, 32},
        {DSS_SEARCH_SAMPLER, DSS_SAMPLER_SINGULAR}, {DSS_SEARCH_PRIOR, DSS_PRIOR_GAUSSIAN},
        {DSS_SEARCH_PRIOR_SCALE, 1},       {DSS_SEARCH_DIFF_SCHEME, DSS_DIFF_FORWARD},
        {DSS_SEARCH_DIFF_STEP, 0},         {DSS_SEARCH_OVERSAMPLE, 10},
        {DSS_SEARCH_POWER_ITERATIONS, 1},  {DSS_SEARCH_HISTORY, 64},
        {DSS_SEARCH_JACOBIAN_CHUNK, 0},
    };
    for (size_t i = 0; i < sizeof defaults / sizeof defaults[0]; i++) {
        double v = -12345.0;
        assert_int_equal(dss_search_get(fx->search, defaults[i].param, &v), DSS_OK);
        if (v != defaults[i].value)
            fail_msg("parameter %d: default %.17g, expected %.17g", defaults[i].param, v,
                     defaults[i].value);
    }
    /* the radius in force before any setting is the prior's default (positive, finite) */
    double r;
    assert_int_equal(dss_search_get(fx->search, DSS_SEARCH_RADIUS, &r), DSS_OK);
    assert_true(r > 0 && isfinite(r));
    assert_int_equal(dss_search_subspace_dim(fx->search), 0);
    assert_int_equal(dss_search_rank(fx->search), 0);
}

static void set_and_get_reject_null_search_null_value_and_unknown_params(void **state)
{
    fixture *fx = *state;
    const int unknown[] = {0, -1, 100, 1000, INT_MAX, INT_MIN};
    double v;
    support_snapshot snap;
    start_both(fx);
    take(fx->search, N, &snap);
    for (int p = DSS_SEARCH_SUBSPACE_DIM; p <= DSS_SEARCH_JACOBIAN_CHUNK; p++) {
        assert_int_equal(dss_search_set(NULL, p, 1.0), DSS_EINVAL);
        assert_int_equal(dss_search_get(NULL, p, &v), DSS_EINVAL);
        assert_int_equal(dss_search_get(fx->search, p, NULL), DSS_EINVAL);
    }
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        assert_int_equal(dss_search_set(fx->search, unknown[i], 1.0), DSS_EINVAL);
        assert_int_equal(dss_search_get(fx->search, unknown[i], &v), DSS_EINVAL);
    }
    assert_unchanged(fx, &snap, "set/get with NULL or unknown parameters");
    support_snapshot_free(&snap);
    assert_twins(fx);
}

/* Values outside each parameter's documented range, NaN and infinities included. */
static const struct { int param; double value; } bad_values[] = {
    {DSS_SEARCH_SUBSPACE_DIM, 0},        {DSS_SEARCH_SUBSPACE_DIM, -1},
    {DSS_SEARCH_SUBSPACE_DIM, 1.5},      {DSS_SEARCH_SUBSPACE_DIM, N + 1},
    {DSS_SEARCH_SUBSPACE_DIM, NAN},      {DSS_SEARCH_SUBSPACE_DIM, INFINITY},
    {DSS_SEARCH_RADIUS, 0},              {DSS_SEARCH_RADIUS, -0.5},
    {DSS_SEARCH_RADIUS, NAN},            {DSS_SEARCH_RADIUS, INFINITY},
    {DSS_SEARCH_RADIUS, -INFINITY},
    {DSS_SEARCH_CENTER_TOLERANCE, -0.01}, {DSS_SEARCH_CENTER_TOLERANCE, 0.5000001},
    {DSS_SEARCH_CENTER_TOLERANCE, 1},    {DSS_SEARCH_CENTER_TOLERANCE, NAN},
    {DSS_SEARCH_CENTER_TOLERANCE, -INFINITY},
    {DSS_SEARCH_SEED, -1},               {DSS_SEARCH_SEED, 0.5},
    {DSS_SEARCH_SEED, 9007199254740994.0 /* 2^53 + 2 */}, {DSS_SEARCH_SEED, 1e300},
    {DSS_SEARCH_SEED, NAN},              {DSS_SEARCH_SEED, INFINITY},
    {DSS_SEARCH_JACOBIAN, -1},           {DSS_SEARCH_JACOBIAN, 5},
    {DSS_SEARCH_JACOBIAN, 1.5},          {DSS_SEARCH_JACOBIAN, NAN},
    {DSS_SEARCH_JACOBIAN_ROWS, 0},       {DSS_SEARCH_JACOBIAN_ROWS, -2},
    {DSS_SEARCH_JACOBIAN_ROWS, 2.5},     {DSS_SEARCH_JACOBIAN_ROWS, NAN},
    {DSS_SEARCH_JACOBIAN_ROWS, INFINITY},
    {DSS_SEARCH_RANK, 0},                {DSS_SEARCH_RANK, -3},
    {DSS_SEARCH_RANK, 1.5},              {DSS_SEARCH_RANK, NAN},
    {DSS_SEARCH_SAMPLER, -1},            {DSS_SEARCH_SAMPLER, 3},
    {DSS_SEARCH_SAMPLER, 0.5},           {DSS_SEARCH_SAMPLER, NAN},
    {DSS_SEARCH_PRIOR, -1},              {DSS_SEARCH_PRIOR, 2},
    {DSS_SEARCH_PRIOR, 0.5},             {DSS_SEARCH_PRIOR, NAN},
    {DSS_SEARCH_PRIOR_SCALE, 0},         {DSS_SEARCH_PRIOR_SCALE, -1},
    {DSS_SEARCH_PRIOR_SCALE, NAN},       {DSS_SEARCH_PRIOR_SCALE, INFINITY},
    {DSS_SEARCH_DIFF_SCHEME, -1},        {DSS_SEARCH_DIFF_SCHEME, 2},
    {DSS_SEARCH_DIFF_SCHEME, 0.5},       {DSS_SEARCH_DIFF_SCHEME, NAN},
    {DSS_SEARCH_DIFF_STEP, -1e-8},       {DSS_SEARCH_DIFF_STEP, NAN},
    {DSS_SEARCH_DIFF_STEP, INFINITY},
    {DSS_SEARCH_OVERSAMPLE, -1},         {DSS_SEARCH_OVERSAMPLE, 2.5},
    {DSS_SEARCH_OVERSAMPLE, NAN},        {DSS_SEARCH_OVERSAMPLE, INFINITY},
    {DSS_SEARCH_POWER_ITERATIONS, -1},   {DSS_SEARCH_POWER_ITERATIONS, 17},
    {DSS_SEARCH_POWER_ITERATIONS, 0.5},  {DSS_SEARCH_POWER_ITERATIONS, NAN},
    {DSS_SEARCH_HISTORY, -1},            {DSS_SEARCH_HISTORY, 65537},
    {DSS_SEARCH_HISTORY, 1.5},           {DSS_SEARCH_HISTORY, NAN},
    {DSS_SEARCH_JACOBIAN_CHUNK, -1},     {DSS_SEARCH_JACOBIAN_CHUNK, 0.5},
    {DSS_SEARCH_JACOBIAN_CHUNK, NAN},    {DSS_SEARCH_JACOBIAN_CHUNK, INFINITY},
    /* issue 8, bug 2: 2^64 passed a bound of (double)SIZE_MAX (which rounds up to 2^64) and its
       conversion to size_t was undefined; counts stop at 2^53 */
    {DSS_SEARCH_JACOBIAN_ROWS, 18446744073709551616.0}, {DSS_SEARCH_RANK, 18446744073709551616.0},
    {DSS_SEARCH_OVERSAMPLE, 18446744073709551616.0},    {DSS_SEARCH_JACOBIAN_CHUNK, 18446744073709551616.0},
    {DSS_SEARCH_JACOBIAN_ROWS, 9007199254740994.0 /* 2^53 + 2 */},
    /* issue 8, bug 7: a prior scale whose default radius overflows: at n = 4 none does (the
       radius is 0.53 sigma, below DBL_MAX for every finite sigma; 1e308 was refused because
       E|X - Y| overflowed on the way); test_hostile's huge_prior_scales_... checks n = 64 */
};

static void set_rejects_out_of_range_values_and_changes_nothing(void **state)
{
    fixture *fx = *state;
    support_snapshot snap;
    start_both(fx);
    assert_int_equal(dss_search_resample(fx->search), DSS_OK);
    assert_int_equal(dss_search_resample(fx->twin), DSS_OK);
    take(fx->search, N, &snap);
    for (size_t i = 0; i < sizeof bad_values / sizeof bad_values[0]; i++) {
        int st = dss_search_set(fx->search, bad_values[i].param, bad_values[i].value);
        if (st != DSS_EINVAL)
            fail_msg("set(param %d, %.17g) returned %d, expected DSS_EINVAL", bad_values[i].param,
                     bad_values[i].value, st);
        if (!support_snapshot_matches(fx->search, N, &snap))
            fail_msg("set(param %d, %.17g) changed the session", bad_values[i].param,
                     bad_values[i].value);
    }
    support_snapshot_free(&snap);
    assert_twins(fx);
}

/* The same on a session that was never started (parameters only). */
static void set_rejects_out_of_range_values_before_start(void **state)
{
    fixture *fx = *state;
    support_snapshot snap;
    take(fx->search, N, &snap);
    for (size_t i = 0; i < sizeof bad_values / sizeof bad_values[0]; i++)
        assert_int_equal(dss_search_set(fx->search, bad_values[i].param, bad_values[i].value),
                         DSS_EINVAL);
    assert_unchanged(fx, &snap, "out-of-range sets before start");
    support_snapshot_free(&snap);
    start_both(fx);
    assert_twins(fx);
}

/* The largest count a parameter takes (dss.h): 2^53, or SIZE_MAX where size_t is narrower. */
#define LARGEST_COUNT (SIZE_MAX < UINT64_C(9007199254740992) ? (double)SIZE_MAX : 9007199254740992.0)

static void set_accepts_boundary_values_and_get_returns_them(void **state)
{
    fixture *fx = *state;
    const struct { int param; double value; } good[] = {
        {DSS_SEARCH_SUBSPACE_DIM, N},        {DSS_SEARCH_SUBSPACE_DIM, 1},
        {DSS_SEARCH_RADIUS, 1e-300},         {DSS_SEARCH_RADIUS, 3.75},
        {DSS_SEARCH_CENTER_TOLERANCE, 0},    {DSS_SEARCH_CENTER_TOLERANCE, 0.5},
        {DSS_SEARCH_SEED, 9007199254740992.0 /* 2^53 */}, {DSS_SEARCH_SEED, 0},
        {DSS_SEARCH_JACOBIAN, DSS_JACOBIAN_RANDOMIZED}, {DSS_SEARCH_JACOBIAN, DSS_JACOBIAN_AUTO},
        {DSS_SEARCH_JACOBIAN_ROWS, 1},       {DSS_SEARCH_JACOBIAN_ROWS, 1e6},
        {DSS_SEARCH_RANK, 1},                {DSS_SEARCH_SAMPLER, DSS_SAMPLER_TOP},
        {DSS_SEARCH_PRIOR, DSS_PRIOR_BOX},   {DSS_SEARCH_PRIOR_SCALE, 0.125},
        {DSS_SEARCH_DIFF_SCHEME, DSS_DIFF_CENTRAL}, {DSS_SEARCH_DIFF_STEP, 0},
        {DSS_SEARCH_DIFF_STEP, 1e-4},        {DSS_SEARCH_OVERSAMPLE, 0},
        {DSS_SEARCH_OVERSAMPLE, 40},         {DSS_SEARCH_POWER_ITERATIONS, 0},
        {DSS_SEARCH_POWER_ITERATIONS, 16},   {DSS_SEARCH_HISTORY, 0},
        {DSS_SEARCH_HISTORY, 65536},         {DSS_SEARCH_JACOBIAN_CHUNK, 3},
        {DSS_SEARCH_JACOBIAN_CHUNK, 0},
        {DSS_SEARCH_JACOBIAN_ROWS, LARGEST_COUNT},
        {DSS_SEARCH_RANK, LARGEST_COUNT}, {DSS_SEARCH_OVERSAMPLE, LARGEST_COUNT},
        {DSS_SEARCH_JACOBIAN_CHUNK, LARGEST_COUNT}, {DSS_SEARCH_PRIOR_SCALE, 1e300},
    };
    static const int counts[] = { DSS_SEARCH_JACOBIAN_ROWS, DSS_SEARCH_RANK,
                                  DSS_SEARCH_OVERSAMPLE, DSS_SEARCH_JACOBIAN_CHUNK };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        double v;
        assert_int_equal(dss_search_set(fx->search, good[i].param, good[i].value), DSS_OK);
        assert_int_equal(dss_search_get(fx->search, good[i].param, &v), DSS_OK);
        if (v != good[i].value)
            fail_msg("param %d: set %.17g, got %.17g", good[i].param, good[i].value, v);
    }
    /* one past the largest count is refused, not cut to size_t's low bits (2^53 read back as
       0 on i386); the session keeps the value it had */
    for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++) {
        double v;
        assert_int_equal(dss_search_set(fx->search, counts[i], LARGEST_COUNT + 2.0), DSS_EINVAL);
        assert_int_equal(dss_search_get(fx->search, counts[i], &v), DSS_OK);
        assert_true(v == LARGEST_COUNT);
    }
}

/* dss_search_param_bounds reads the same table the setter checks: each closed end is accepted
   (and read back), a value just beyond it rejected; open ends are rejected themselves. */
static void param_bounds_are_the_ranges_the_setter_enforces(void **state)
{
    fixture *fx = *state;
    double lo = 0.0, hi = 0.0, v = 0.0;
    assert_int_equal(dss_search_param_bounds(0, &lo, &hi), DSS_EINVAL);
    assert_int_equal(dss_search_param_bounds(1000, &lo, &hi), DSS_EINVAL);
    assert_int_equal(dss_search_param_bounds(DSS_SEARCH_RANK, NULL, &hi), DSS_EINVAL);
    assert_int_equal(dss_search_param_bounds(DSS_SEARCH_RANK, &lo, NULL), DSS_EINVAL);
    for (int param = DSS_SEARCH_SUBSPACE_DIM; param <= DSS_SEARCH_JACOBIAN_CHUNK; param++) {
        const int open_lo = param == DSS_SEARCH_RADIUS || param == DSS_SEARCH_PRIOR_SCALE;
        const int open_hi = param == DSS_SEARCH_DIFF_STEP;
        const int capped_hi = param == DSS_SEARCH_SUBSPACE_DIM || param == DSS_SEARCH_PRIOR_SCALE;
        assert_int_equal(dss_search_param_bounds(param, &lo, &hi), DSS_OK);
        assert_true(lo < hi);
        if (open_lo) {
            assert_int_equal(dss_search_set(fx->search, param, lo), DSS_EINVAL);
        } else {
            assert_int_equal(dss_search_set(fx->search, param, lo), DSS_OK);
            assert_int_equal(dss_search_get(fx->search, param, &v), DSS_OK);
            assert_true(v == lo);
            assert_int_equal(dss_search_set(fx->search, param, lo - (lo == 0 ? 1e-9 : 1)),
                             DSS_EINVAL);
        }
        if (open_hi) {
            assert_int_equal(dss_search_set(fx->search, param, hi), DSS_EINVAL);
        } else if (!capped_hi) {
            assert_int_equal(dss_search_set(fx->search, param, hi), DSS_OK);
            assert_int_equal(dss_search_get(fx->search, param, &v), DSS_OK);
            assert_true(v == hi);
            assert_int_equal(dss_search_set(fx->search, param, hi == 0.5 ? 0.5000001 : 2 * hi),
                             DSS_EINVAL);
        }
    }
    /* the line's table */
    for (int param = DSS_LINE_SAMPLES; param <= DSS_LINE_GRID; param++) {
        dss_line *line;
        assert_int_equal(dss_line_param_bounds(param, &lo, &hi), DSS_OK);
        assert_int_equal(dss_line_create(&line), DSS_OK);
        assert_int_equal(dss_line_set(line, param, lo), DSS_OK);
        assert_int_equal(dss_line_set(line, param, hi), DSS_OK);
        assert_int_equal(dss_line_get(line, param, &v), DSS_OK);
        assert_true(v == hi);
        assert_int_equal(dss_line_set(line, param, lo - 1), DSS_EINVAL);
        assert_int_equal(dss_line_set(line, param, 2 * hi), DSS_EINVAL);
        dss_line_destroy(line);
    }
    assert_int_equal(dss_line_param_bounds(DSS_LINE_GRID + 1, &lo, &hi), DSS_EINVAL);
}

static void subspace_dim_above_n_is_rejected_at_once(void **state)
{
    fixture *fx = *state;
    double l;
    assert_int_equal(dss_search_set(fx->search, DSS_SEARCH_SUBSPACE_DIM, N + 1), DSS_EINVAL);
    assert_int_equal(dss_search_get(fx->search, DSS_SEARCH_SUBSPACE_DIM, &l), DSS_OK);
    assert_true(l == 1.0);
    assert_int_equal(dss_search_set(fx->search, DSS_SEARCH_SUBSPACE_DIM, N), DSS_OK);
}

static void calls_before_start_return_estate(void **state)
{
    fixture *fx = *state;
    double z[N], w[N] = {0}, s[N];
    size_t idx[N];
    assert_int_equal(dss_search_point(fx->search, 0.5, z), DSS_ESTATE);
    assert_int_equal(dss_search_point_w(fx->search, w, z), DSS_ESTATE);
    assert_int_equal(dss_search_slider_ends(fx->search, z, w), DSS_ESTATE);
    assert_int_equal(dss_search_commit(fx->search, 0.5), DSS_ESTATE);
    assert_int_equal(dss_search_commit(fx->search, 0.9), DSS_ESTATE);
    assert_int_equal(dss_search_commit_w(fx->search, w), DSS_ESTATE);
    assert_int_equal(dss_search_resample(fx->search), DSS_ESTATE);
    assert_int_equal(dss_search_center(fx->search, z), DSS_ESTATE);
    assert_int_equal(dss_search_basis(fx->search, z), DSS_ESTATE);
    assert_int_equal(dss_search_basis_indices(fx->search, idx), DSS_ESTATE);
    assert_int_equal(dss_search_singular_values(fx->search, s, N), DSS_ESTATE);
    assert_int_equal(dss_search_rank(fx->search), 0);
    assert_int_equal(dss_search_subspace_dim(fx->search), 0);
    assert_int_equal(fx->lm->jac_calls, 0);
    /* none of that started anything: the session starts like one that never saw those calls */
    start_both(fx);
    assert_twins(fx);
}

static void accessors_reject_null_pointers(void **state)
{
    fixture *fx = *state;
    double z[N], w[1] = {0}, s[N];
    size_t idx[1];
    support_snapshot snap;
    start_both(fx);
    take(fx->search, N, &snap);
    assert_int_equal(dss_search_start(NULL, fx->z0), DSS_EINVAL);
    assert_int_equal(dss_search_start(fx->search, NULL), DSS_EINVAL);
    assert_int_equal(dss_search_point(NULL, 0.5, z), DSS_EINVAL);
    assert_int_equal(dss_search_point(fx->search, 0.5, NULL), DSS_EINVAL);
    assert_int_equal(dss_search_point_w(NULL, w, z), DSS_EINVAL);
    assert_int_equal(dss_search_point_w(fx->search, NULL, z), DSS_EINVAL);
    assert_int_equal(dss_search_point_w(fx->search, w, NULL), DSS_EINVAL);
    assert_int_equal(dss_search_slider_ends(NULL, z, s), DSS_EINVAL);
    assert_int_equal(dss_search_slider_ends(fx->search, NULL, NULL), DSS_EINVAL);
    assert_int_equal(dss_search_commit(NULL, 0.5), DSS_EINVAL);
    assert_int_equal(dss_search_commit_w(NULL, w), DSS_EINVAL);
    assert_int_equal(dss_search_commit_w(fx->search, NULL), DSS_EINVAL);
    assert_int_equal(dss_search_resample(NULL), DSS_EINVAL);
    assert_int_equal(dss_search_center(NULL, z), DSS_EINVAL);
    assert_int_equal(dss_search_center(fx->search, NULL), DSS_EINVAL);
    assert_int_equal(dss_search_basis(NULL, z), DSS_EINVAL);
    assert_int_equal(dss_search_basis(fx->search, NULL), DSS_EINVAL);
    assert_int_equal(dss_search_basis_indices(NULL, idx), DSS_EINVAL);
    assert_int_equal(dss_search_basis_indices(fx->search, NULL), DSS_EINVAL);
    assert_int_equal(dss_search_singular_values(NULL, s, N), DSS_EINVAL);
    assert_int_equal(dss_search_singular_values(fx->search, NULL, 1), DSS_EINVAL);
    assert_int_equal(dss_search_singular_values(fx->search, NULL, 0), DSS_OK);
    assert_int_equal(dss_search_rank(NULL), 0);
    assert_int_equal(dss_search_subspace_dim(NULL), 0);
    assert_unchanged(fx, &snap, "calls with NULL pointers");
    support_snapshot_free(&snap);
    assert_twins(fx);
}

static void start_rejects_nonfinite_start_points_and_changes_nothing(void **state)
{
    fixture *fx = *state;
    const double bad[3] = {NAN, INFINITY, -INFINITY};
    double z[N];
    support_snapshot snap;
    for (int k = 0; k < 3; k++) { /* fresh session: stays unstarted */
        memcpy(z, fx->z1, sizeof z);
        z[k % N] = bad[k];
        assert_int_equal(dss_search_start(fx->search, z), DSS_ENONFINITE);
        assert_int_equal(dss_search_center(fx->search, z), DSS_ESTATE);
    }
    start_both(fx);
    take(fx->search, N, &snap);
    for (int k = 0; k < 3; k++) { /* started session: unchanged */
        memcpy(z, fx->z1, sizeof z);
        z[N - 1 - k % N] = bad[k];
        assert_int_equal(dss_search_start(fx->search, z), DSS_ENONFINITE);
        assert_unchanged(fx, &snap, "start at a non-finite point");
    }
    support_snapshot_free(&snap);
    assert_twins(fx);
}

static void point_rejects_t_outside_the_unit_interval(void **state)
{
    fixture *fx = *state;
    const double bad[] = {-0.1, -DBL_MIN, 1.0000000001, 2.0, NAN, INFINITY, -INFINITY};
    double z[N];
    start_both(fx);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(dss_search_point(fx->search, bad[i], z), DSS_EINVAL);
    assert_int_equal(dss_search_point(fx->search, 0.0, z), DSS_OK);
    assert_int_equal(dss_search_point(fx->search, 1.0, z), DSS_OK);
    assert_twins(fx);
}

static void point_w_rejects_w_outside_the_unit_box(void **state)
{
    fixture *fx = *state;
    const double bad[][2] = {{1.5, 0}, {0, -1.0000001}, {NAN, 0}, {0, NAN}, {INFINITY, 0},
                             {-INFINITY, 0}};
    const double good[][2] = {{1, -1}, {-1, 1}, {0, 0}};
    double z[N];
    set_both(fx, DSS_SEARCH_SUBSPACE_DIM, 2);
    start_both(fx);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(dss_search_point_w(fx->search, bad[i], z), DSS_EINVAL);
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        assert_int_equal(dss_search_point_w(fx->search, good[i], z), DSS_OK);
    assert_twins(fx);
}

static void commit_rejects_t_outside_the_unit_interval_and_changes_nothing(void **state)
{
    fixture *fx = *state;
    const double bad[] = {-0.5, -DBL_MIN, 1.0 + DBL_EPSILON, 7.0, NAN, INFINITY, -INFINITY};
    support_snapshot snap;
    start_both(fx);
    take(fx->search, N, &snap);
    size_t jac = fx->lm->jac_calls;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(dss_search_commit(fx->search, bad[i]), DSS_EINVAL);
        assert_unchanged(fx, &snap, "commit with t outside [0, 1]");
    }
    assert_int_equal(fx->lm->jac_calls, jac);
    support_snapshot_free(&snap);
    assert_twins(fx);
}

static void commit_w_rejects_w_outside_the_unit_box_and_changes_nothing(void **state)
{
    fixture *fx = *state;
    const double bad[][2] = {{1.0000001, 0}, {0, -2}, {NAN, 0}, {0, INFINITY}, {-INFINITY, 0.9}};
    support_snapshot snap;
    set_both(fx, DSS_SEARCH_SUBSPACE_DIM, 2);
    start_both(fx);
    take(fx->search, N, &snap);
    size_t jac = fx->lm->jac_calls;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(dss_search_commit_w(fx->search, bad[i]), DSS_EINVAL);
        assert_unchanged(fx, &snap, "commit_w with w outside [-1, 1]^l");
    }
    assert_int_equal(fx->lm->jac_calls, jac);
    support_snapshot_free(&snap);
    assert_twins(fx);
}

static void slider_ends_needs_at_least_one_output(void **state)
{
    fixture *fx = *state;
    double lo[N], hi[N], p0[N], p1[N];
    start_both(fx);
    assert_int_equal(dss_search_slider_ends(fx->search, NULL, NULL), DSS_EINVAL);
    assert_int_equal(dss_search_point(fx->search, 0.0, p0), DSS_OK);
    assert_int_equal(dss_search_point(fx->search, 1.0, p1), DSS_OK);
    assert_int_equal(dss_search_slider_ends(fx->search, lo, NULL), DSS_OK);
    assert_memory_equal(lo, p0, sizeof lo);
    assert_int_equal(dss_search_slider_ends(fx->search, NULL, hi), DSS_OK);
    assert_memory_equal(hi, p1, sizeof hi);
}

/* ---- l larger than the number of singular values ---------------------------------------------- */

/* Wide model (m = 3 < n = 5): 3 singular values, so l = 4 (<= n, accepted by set) cannot be
 * drawn. */
static void subspace_dim_above_the_rank_makes_start_fail_and_change_nothing(void **state)
{
    fixture *fx = *state;
    double z[5];
    support_snapshot snap;
    rebuild(fx, 3, 5, LIN_WITH_JACOBIAN);
    assert_int_equal(dss_search_set(fx->search, DSS_SEARCH_SUBSPACE_DIM, 4), DSS_OK);
    assert_int_equal(dss_search_start(fx->search, fx->z0), DSS_EINVAL); /* fresh: stays unstarted */
    assert_int_equal(dss_search_center(fx->search, z), DSS_ESTATE);
    assert_int_equal(dss_search_rank(fx->search), 0);

    assert_int_equal(dss_search_set(fx->search, DSS_SEARCH_SUBSPACE_DIM, 3), DSS_OK);
    set_both(fx, DSS_SEARCH_SUBSPACE_DIM, 3); /* the twin makes the same (successful) sets */
    start_both(fx);
    take(fx->search, 5, &snap);
    assert_int_equal(dss_search_set(fx->search, DSS_SEARCH_SUBSPACE_DIM, 4), DSS_OK);
    assert_int_equal(dss_search_start(fx->search, fx->z1), DSS_EINVAL); /* restart: unchanged */
    assert_int_equal(dss_search_set(fx->search, DSS_SEARCH_SUBSPACE_DIM, 3), DSS_OK);
    assert_unchanged(fx, &snap, "start with l above the rank");
    support_snapshot_free(&snap);
    assert_twins(fx);
}

static void subspace_dim_above_the_rank_makes_resample_and_commits_fail_and_change_nothing(void **state)
{
    fixture *fx = *state;
    const double w[1] = {0.9};
    support_snapshot snap;
    rebuild(fx, 3, 5, LIN_WITH_JACOBIAN);
    start_both(fx);
    take(fx->search, 5, &snap);
    assert_int_equal(dss_search_set(fx->search, DSS_SEARCH_SUBSPACE_DIM, 4), DSS_OK);
    assert_int_equal(dss_search_resample(fx->search), DSS_EINVAL);
    assert_int_equal(dss_search_commit(fx->search, 0.5), DSS_EINVAL); /* keeps the SVD */
    assert_int_equal(dss_search_commit(fx->search, 0.9), DSS_EINVAL); /* recomputes */
    assert_int_equal(dss_search_commit_w(fx->search, w), DSS_EINVAL);
    assert_int_equal(dss_search_set(fx->search, DSS_SEARCH_SUBSPACE_DIM, 1), DSS_OK);
    assert_unchanged(fx, &snap, "resample and commits with l above the rank");
    support_snapshot_free(&snap);
    assert_twins(fx);
}

/* ---- determinism ------------------------------------------------------------------------------ */

/* One scripted step on a session: 0 start, 1 resample, 2 far commit, 3 near commit, 4 set l = 2,
 * 5 far commit_w, 6 near commit_w. */
static int script_step(fixture *fx, dss_search *s, int step)
{
    const double w_far[2] = {0.7, -0.2}, w_near[2] = {0.05, -0.08};
    switch (step) {
    case 0: return dss_search_start(s, fx->z0);
    case 1: return dss_search_resample(s);
    case 2: return dss_search_commit(s, 0.83);
    case 3: return dss_search_commit(s, 0.52);
    case 4: return dss_search_set(s, DSS_SEARCH_SUBSPACE_DIM, 2);
    case 5: return dss_search_commit_w(s, w_far);
    default: return dss_search_commit_w(s, w_near);
    }
}

static const int script[] = {0, 1, 1, 2, 3, 1, 4, 1, 5, 6, 1, 2, 0, 1};

static void same_seed_and_calls_give_bit_identical_sessions(void **state)
{
    fixture *fx = *state;
    const int samplers[3] = {DSS_SAMPLER_SINGULAR, DSS_SAMPLER_RANDOM, DSS_SAMPLER_TOP};
    for (int k = 0; k < 3; k++) {
        rebuild(fx, M, N, LIN_WITH_JACOBIAN);
        set_both(fx, DSS_SEARCH_SEED, 123456789);
        set_both(fx, DSS_SEARCH_SAMPLER, samplers[k]);
        for (size_t i = 0; i < sizeof script / sizeof script[0]; i++) {
            support_snapshot a, b;
            assert_int_equal(script_step(fx, fx->search, script[i]), DSS_OK);
            assert_int_equal(script_step(fx, fx->twin, script[i]), DSS_OK);
            take(fx->search, N, &a);
            take(fx->twin, N, &b);
            int same = support_snapshot_equal(&a, &b);
            support_snapshot_free(&a);
            support_snapshot_free(&b);
            if (!same)
                fail_msg("sampler %d: sessions differ after script step %zu", samplers[k], i);
        }
    }
}

static void same_seed_in_rows_and_finite_difference_modes_gives_bit_identical_sessions(void **state)
{
    fixture *fx = *state;
    const int modes[2] = {DSS_JACOBIAN_ROWS, DSS_JACOBIAN_FINITE_DIFF};
    for (int k = 0; k < 2; k++) {
        rebuild(fx, 12, N, LIN_WITH_JACOBIAN);
        set_both(fx, DSS_SEARCH_SEED, 99);
        set_both(fx, DSS_SEARCH_JACOBIAN, modes[k]);
        set_both(fx, DSS_SEARCH_JACOBIAN_ROWS, 5);
        start_both(fx);
        assert_twins(fx);
    }
}

/* The index sequence of start + 11 resamples. */
static void index_sequence(fixture *fx, double seed, size_t *seq)
{
    assert_int_equal(dss_search_set(fx->search, DSS_SEARCH_SEED, seed), DSS_OK);
    assert_int_equal(dss_search_start(fx->search, fx->z0), DSS_OK);
    for (int k = 0; k < 12; k++) {
        if (k > 0)
            assert_int_equal(dss_search_resample(fx->search), DSS_OK);
        assert_int_equal(dss_search_basis_indices(fx->search, &seq[k]), DSS_OK);
    }
}

static void different_seeds_give_different_draws(void **state)
{
    fixture *fx = *state;
    size_t a[12], b[12], c[12];
    double ba[N], bb[N];
    /* 12 draws of rank 4 are 3 permutations: 24^3 possible sequences */
    index_sequence(fx, 1, a);
    index_sequence(fx, 2, b);
    index_sequence(fx, 1, c);
    assert_memory_equal(a, c, sizeof a);
    assert_memory_not_equal(a, b, sizeof a);

    assert_int_equal(dss_search_set(fx->search, DSS_SEARCH_SAMPLER, DSS_SAMPLER_RANDOM), DSS_OK);
    assert_int_equal(dss_search_set(fx->search, DSS_SEARCH_SEED, 1), DSS_OK);
    assert_int_equal(dss_search_start(fx->search, fx->z0), DSS_OK);
    assert_int_equal(dss_search_basis(fx->search, ba), DSS_OK);
    assert_int_equal(dss_search_set(fx->search, DSS_SEARCH_SEED, 9007199254740992.0), DSS_OK);
    assert_int_equal(dss_search_start(fx->search, fx->z0), DSS_OK);
    assert_int_equal(dss_search_basis(fx->search, bb), DSS_OK);
    assert_memory_not_equal(ba, bb, sizeof ba);
}

/* With the RANDOM sampler a draw depends on the stream only: two sessions with different
 * histories that both set the same seed draw the same directions from then on. */
static void setting_the_seed_restarts_the_random_stream_at_once(void **state)
{
    fixture *fx = *state;
    double a[N], b[N], before[N];
    set_both(fx, DSS_SEARCH_SAMPLER, DSS_SAMPLER_RANDOM);
    set_both(fx, DSS_SEARCH_SEED, 1);
    start_both(fx);
    for (int k = 0; k < 3; k++)
        assert_int_equal(dss_search_resample(fx->search), DSS_OK);
    assert_int_equal(dss_search_resample(fx->twin), DSS_OK);
    assert_int_equal(dss_search_basis(fx->search, before), DSS_OK);
    set_both(fx, DSS_SEARCH_SEED, 7);
    for (int k = 0; k < 5; k++) {
        assert_int_equal(dss_search_resample(fx->search), DSS_OK);
        assert_int_equal(dss_search_resample(fx->twin), DSS_OK);
        assert_int_equal(dss_search_basis(fx->search, a), DSS_OK);
        assert_int_equal(dss_search_basis(fx->twin, b), DSS_OK);
        assert_memory_equal(a, b, sizeof a);
    }
    assert_memory_not_equal(a, before, sizeof a);
    /* setting the same seed again restarts it again: the same five directions follow */
    double first[N];
    assert_int_equal(dss_search_set(fx->search, DSS_SEARCH_SEED, 7), DSS_OK);
    assert_int_equal(dss_search_resample(fx->search), DSS_OK);
    assert_int_equal(dss_search_basis(fx->search, first), DSS_OK);
    assert_int_equal(dss_search_set(fx->twin, DSS_SEARCH_SEED, 7), DSS_OK);
    assert_int_equal(dss_search_resample(fx->twin), DSS_OK);
    assert_int_equal(dss_search_basis(fx->twin, b), DSS_OK);
    assert_memory_equal(first, b, sizeof b);
}

/* start reseeds from DSS_SEARCH_SEED: restarting replays the same draws, and a restart after a
 * new seed matches a fresh session started with that seed. */
static void start_restarts_the_stream_from_the_seed(void **state)
{
    fixture *fx = *state;
    size_t a[12], b[12];
    index_sequence(fx, 5, a);
    index_sequence(fx, 5, b);
    assert_memory_equal(a, b, sizeof a);

    set_both(fx, DSS_SEARCH_SEED, 3);
    start_both(fx);
    assert_int_equal(dss_search_resample(fx->search), DSS_OK);
    assert_int_equal(dss_search_commit(fx->search, 0.9), DSS_OK);
    assert_int_equal(dss_search_start(fx->search, fx->z0), DSS_OK); /* back to the start */
    assert_twins(fx);
}

/* Fill and free a few blocks of the sizes a session allocates for an n x n Gram matrix and
 * n-vectors, so that the next allocations of those sizes (glibc reuses freed chunks of the same
 * size first) start with this pattern instead of zeros. */
static void churn_heap(size_t n, unsigned char pattern)
{
    void *blocks[16];
    for (int i = 0; i < 16; i++) {
        size_t size = (i % 2 ? n * n : n) * sizeof(double);
        blocks[i] = malloc(size);
        if (blocks[i])
            memset(blocks[i], pattern, size);
    }
    for (int i = 15; i >= 0; i--)
        free(blocks[i]);
}

/* Save the session into buf (capacity cap); returns the length. */
static size_t save_into(dss_search *s, unsigned char *buf, size_t cap)
{
    size_t len = 0;
    assert_int_equal(dss_search_save(s, NULL, 0, &len), DSS_OK);
    assert_true(len > 0 && len <= cap);
    assert_int_equal(dss_search_save(s, buf, cap, &len), DSS_OK);
    return len;
}

/* Same seed, same calls: dss_search_save gives the same byte string (it holds the RNG state and
 * availability as well), whatever the memory the sessions were given held before. Tall models
 * take the Gram route; the twin's buffers are pre-filled with a different pattern. */
static void identical_sessions_save_identical_byte_strings(void **state)
{
    fixture *fx = *state;
    static unsigned char a[1 << 14], b[1 << 14];
    const size_t shapes[][2] = {{M, N}, {N, M}, {20, 6}};
    for (size_t k = 0; k < 3; k++) {
        size_t m = shapes[k][0], n = shapes[k][1];
        rebuild(fx, m, n, LIN_WITH_JACOBIAN);
        dss_search_destroy(fx->search);
        dss_search_destroy(fx->twin);
        fx->search = fx->twin = NULL;
        churn_heap(n, 0xA5);
        assert_int_equal(dss_search_create(&fx->search, fx->model), DSS_OK);
        churn_heap(n, 0x5A);
        assert_int_equal(dss_search_create(&fx->twin, fx->model), DSS_OK);
        set_both(fx, DSS_SEARCH_SEED, 12);
        for (int step = 0; step < 4; step++) {
            switch (step) {
            case 0: start_both(fx); break;
            case 1:
                assert_int_equal(dss_search_resample(fx->search), DSS_OK);
                assert_int_equal(dss_search_resample(fx->twin), DSS_OK);
                break;
            case 2:
                assert_int_equal(dss_search_commit(fx->search, 0.9), DSS_OK);
                assert_int_equal(dss_search_commit(fx->twin, 0.9), DSS_OK);
                break;
            default:
                assert_int_equal(dss_search_commit(fx->search, 0.5), DSS_OK);
                assert_int_equal(dss_search_commit(fx->twin, 0.5), DSS_OK);
                break;
            }
            size_t la = save_into(fx->search, a, sizeof a), lb = save_into(fx->twin, b, sizeof b);
            assert_int_equal(la, lb);
            for (size_t i = 0; i < la; i++) {
                if (a[i] != b[i])
                    fail_msg("%zu x %zu, step %d: saved strings differ first at byte %zu of %zu",
                             m, n, step, i, la);
            }
        }
    }
}

/* ---- the slider ------------------------------------------------------------------------------- */

static void point_maps_t_along_the_first_basis_row(void **state)
{
    fixture *fx = *state;
    const double ts[] = {0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0};
    double c[N], b[2 * N], z[N], r;
    for (int l = 1; l <= 2; l++) {
        assert_int_equal(dss_search_set(fx->search, DSS_SEARCH_SUBSPACE_DIM, l), DSS_OK);
        assert_int_equal(dss_search_start(fx->search, fx->z0), DSS_OK);
        assert_int_equal(dss_search_commit(fx->search, 0.8), DSS_OK); /* a centre that moved */
        assert_int_equal(dss_search_center(fx->search, c), DSS_OK);
        assert_int_equal(dss_search_basis(fx->search, b), DSS_OK);
        assert_int_equal(dss_search_get(fx->search, DSS_SEARCH_RADIUS, &r), DSS_OK);
        for (size_t i = 0; i < sizeof ts / sizeof ts[0]; i++) {
            double expect[N], a = (2.0 * ts[i] - 1.0) * r;
            for (int j = 0; j < N; j++)
                expect[j] = c[j] + a * b[j];
            assert_int_equal(dss_search_point(fx->search, ts[i], z), DSS_OK);
            double d = support_max_abs_diff(z, expect, N);
            if (!(d <= affine_tol(c, N, a)))
                fail_msg("l = %d, t = %g: point is %.3g from c + (2t - 1) r b", l, ts[i], d);
        }
        assert_int_equal(dss_search_point(fx->search, 0.5, z), DSS_OK);
        assert_memory_equal(z, c, sizeof c); /* (2t - 1) = 0 exactly */
    }
}

static void point_w_maps_w_through_the_basis(void **state)
{
    fixture *fx = *state;
    const double ws[][3] = {{0, 0, 0}, {1, 0, 0}, {0, -1, 0}, {0.3, -0.7, 1}, {-1, -1, -1},
                            {0.125, 0.5, -0.25}};
    double c[N], b[3 * N], z[N], r;
    assert_int_equal(dss_search_set(fx->search, DSS_SEARCH_SUBSPACE_DIM, 3), DSS_OK);
    assert_int_equal(dss_search_start(fx->search, fx->z0), DSS_OK);
    assert_int_equal(dss_search_center(fx->search, c), DSS_OK);
    assert_int_equal(dss_search_basis(fx->search, b), DSS_OK);
    assert_int_equal(dss_search_get(fx->search, DSS_SEARCH_RADIUS, &r), DSS_OK);
    for (size_t i = 0; i < sizeof ws / sizeof ws[0]; i++) {
        double expect[N];
        for (int j = 0; j < N; j++)
            expect[j] = c[j] + r * (ws[i][0] * b[j] + ws[i][1] * b[N + j] + ws[i][2] * b[2 * N + j]);
        assert_int_equal(dss_search_point_w(fx->search, ws[i], z), DSS_OK);
        double d = support_max_abs_diff(z, expect, N);
        if (!(d <= affine_tol(c, N, 3.0 * r)))
            fail_msg("w #%zu: point_w is %.3g from c + r B^T w", i, d);
    }
}

static void slider_ends_equal_point_at_0_and_1(void **state)
{
    fixture *fx = *state;
    double lo[N], hi[N], p0[N], p1[N];
    start_both(fx);
    for (int k = 0; k < 3; k++) {
        assert_int_equal(dss_search_slider_ends(fx->search, lo, hi), DSS_OK);
        assert_int_equal(dss_search_point(fx->search, 0.0, p0), DSS_OK);
        assert_int_equal(dss_search_point(fx->search, 1.0, p1), DSS_OK);
        assert_memory_equal(lo, p0, sizeof lo);
        assert_memory_equal(hi, p1, sizeof hi);
        assert_int_equal(dss_search_commit(fx->search, 0.2), DSS_OK);
    }
}

/* Session on an m = 1 model of latent dimension n (the radius needs no start). */
static double default_radius(fixture *fx, size_t n, int prior, double scale)
{
    double r;
    rebuild(fx, 1, n, LIN_WITH_JACOBIAN);
    assert_int_equal(dss_search_set(fx->search, DSS_SEARCH_PRIOR, prior), DSS_OK);
    assert_int_equal(dss_search_set(fx->search, DSS_SEARCH_PRIOR_SCALE, scale), DSS_OK);
    assert_int_equal(dss_search_get(fx->search, DSS_SEARCH_RADIUS, &r), DSS_OK);
    return r;
}

/*
 * Two independent N(0, sigma^2 I_n) draws differ by N(0, 2 sigma^2 I_n), whose norm has mean
 * sqrt(2) sigma * sqrt(2) Gamma((n+1)/2) / Gamma(n/2) = 2 sigma Gamma((n+1)/2) / Gamma(n/2).
 * Computed here as exp(lgamma - lgamma): each lgamma of magnitude L is good to about L eps
 * absolutely, so the relative tolerance is 8 eps (|lgamma((n+1)/2)| + |lgamma(n/2)| + 1).
 * n = 512 also checks that no Gamma value overflows (Gamma(256) does).
 */
static void default_radius_for_the_gaussian_prior_is_a_fifth_of_the_mean_distance(void **state)
{
    fixture *fx = *state;
    const size_t ns[] = {1, 2, 3, 4, 7, 64, 512};
    const double sigmas[] = {1.0, 0.5, 3.0};
    for (size_t i = 0; i < sizeof ns / sizeof ns[0]; i++) {
        for (size_t k = 0; k < sizeof sigmas / sizeof sigmas[0]; k++) {
            double n = (double)ns[i], g1 = lgamma((n + 1) / 2), g0 = lgamma(n / 2);
            double expect = 0.2 * 2.0 * sigmas[k] * exp(g1 - g0);
            double tol = 8.0 * DBL_EPSILON * (fabs(g1) + fabs(g0) + 1.0) * expect;
            double r = default_radius(fx, ns[i], DSS_PRIOR_GAUSSIAN, sigmas[k]);
            if (!(fabs(r - expect) <= tol))
                fail_msg("n = %zu, sigma = %g: radius %.17g, expected %.17g", ns[i], sigmas[k], r,
                         expect);
        }
    }
    assert_true(fabs(default_radius(fx, 1, DSS_PRIOR_GAUSSIAN, 1.0) - 0.4 / sqrt(acos(-1.0)))
                <= 4 * DBL_EPSILON); /* n = 1: E|X - Y| = 2 / sqrt(pi) */
}

/*
 * Mean distance between two uniform points of [-R, R]^n, by an independent route: X - Y = 2R W
 * with W_i i.i.d. triangular on [-1, 1] (density 1 - |w|), T = sum W_i^2, and
 * sqrt(T) = (1 / (2 sqrt(pi))) int_0^inf (1 - exp(-x T)) x^(-3/2) dx, so that with
 * phi(x) = E exp(-x W^2) = sqrt(pi / x) erf(sqrt x) - (1 - exp(-x)) / x,
 * E ||X - Y|| = 2R / (2 sqrt(pi)) int_0^inf (1 - phi(x)^n) x^(-3/2) dx.
 * phi - 1 is formed without cancellation: for x < 0.1 from its series
 * sum_k (-x)^k / k! E[W^2k], E[W^2k] = 2 / ((2k+1)(2k+2)) (ten terms: truncation < 1e-17), else
 * directly (1 - phi >= 0.016 there). With x = exp(u) the integrand (1 - phi^n) exp(-u/2) is
 * analytic and decays like exp(-|u|/2) both ways; the trapezoid rule with step 1/64 on [-80, 80]
 * is accurate to about 1e-12 (checked below against the exact values for n = 1, 2, 3).
 */
static double box_mean_distance(size_t n, double R)
{
    const double pi = acos(-1.0), h = 1.0 / 64;
    double sum = 0.0;
    for (int i = -80 * 64; i <= 80 * 64; i++) {
        double u = i * h, x = exp(u), pm1; /* phi(x) - 1 */
        if (x < 0.1) {
            double term = 1.0;
            pm1 = 0.0;
            for (int k = 1; k <= 10; k++) {
                term *= -x / k;
                pm1 += term * 2.0 / ((2.0 * k + 1) * (2.0 * k + 2));
            }
        } else {
            pm1 = sqrt(pi / x) * erf(sqrt(x)) + expm1(-x) / x - 1.0;
        }
        sum += -expm1((double)n * log1p(pm1)) * exp(-0.5 * u);
    }
    return 2.0 * R * sum * h / (2.0 * sqrt(pi));
}

static void box_quadrature_reproduces_known_mean_distances(void **state)
{
    (void)state;
    /* E|X - Y| on [-R, R] is 2R/3; in the unit square (2 + sqrt 2 + 5 ln(1 + sqrt 2)) / 15; in
     * the unit cube Robbins' constant 0.66170718226717623515. */
    assert_true(fabs(box_mean_distance(1, 1.0) - 2.0 / 3.0) <= 1e-12);
    assert_true(fabs(box_mean_distance(1, 2.5) - 5.0 / 3.0) <= 1e-12);
    double square = (2.0 + sqrt(2.0) + 5.0 * log(1.0 + sqrt(2.0))) / 15.0;
    assert_true(fabs(box_mean_distance(2, 0.5) - square) <= 1e-12);
    assert_true(fabs(box_mean_distance(3, 0.5) - 0.66170718226717623515) <= 1e-12);
}

/* The box prior's default radius in one dimension: 0.2 * 2R/3. The value is elementary, so it is
 * held to a relative 1e-10 (what a careful quadrature reaches), far inside the 0.5 % promised for
 * the box prior in general. */
static void default_radius_for_the_box_prior_in_one_dimension_is_exact(void **state)
{
    fixture *fx = *state;
    const double Rs[] = {1.0, 2.5, 0.1};
    for (size_t k = 0; k < 3; k++) {
        double expect = 0.2 * 2.0 * Rs[k] / 3.0;
        double r = default_radius(fx, 1, DSS_PRIOR_BOX, Rs[k]);
        if (!(fabs(r - expect) <= 1e-10 * expect))
            fail_msg("R = %g: radius %.17g, expected %.17g", Rs[k], r, expect);
    }
}

/* 0.5 % accuracy is promised for the box prior; checked against the quadrature for many n. */
static void default_radius_for_the_box_prior_is_within_half_a_percent(void **state)
{
    fixture *fx = *state;
    const size_t ns[] = {2, 3, 4, 5, 8, 10, 16, 32, 64, 128, 512};
    for (size_t i = 0; i < sizeof ns / sizeof ns[0]; i++) {
        double R = i % 2 ? 2.5 : 1.0;
        double expect = 0.2 * box_mean_distance(ns[i], R);
        double r = default_radius(fx, ns[i], DSS_PRIOR_BOX, R);
        if (!(fabs(r - expect) <= 0.005 * expect))
            fail_msg("n = %zu, R = %g: radius %.9g, expected %.9g (off by %.3f %%)", ns[i], R, r,
                     expect, 100 * fabs(r / expect - 1));
    }
}

/*
 * The same against a seeded Monte Carlo estimate (n = 10, R = 2.5, the synthetic problem's box):
 * N = 20000 pairs, standard error SE = sd / sqrt(N) from the sample. Tolerance 0.5 % (promised)
 * plus 4 SE (two-sided p < 1e-4). The quadrature must agree with the estimate within 4 SE.
 */
static void default_radius_for_the_box_prior_agrees_with_monte_carlo(void **state)
{
    fixture *fx = *state;
    enum { DIM = 10, PAIRS = 20000 };
    const double R = 2.5;
    support_rng g;
    support_rng_seed(&g, 2026);
    double sum = 0.0, sum2 = 0.0;
    for (int p = 0; p < PAIRS; p++) {
        double d2 = 0.0;
        for (int j = 0; j < DIM; j++) {
            double d = support_rng_range(&g, -R, R) - support_rng_range(&g, -R, R);
            d2 += d * d;
        }
        sum += sqrt(d2);
        sum2 += d2;
    }
    double mean = sum / PAIRS, var = (sum2 - PAIRS * mean * mean) / (PAIRS - 1);
    double se = sqrt(var / PAIRS);
    double r = default_radius(fx, DIM, DSS_PRIOR_BOX, R);
    if (!(fabs(r - 0.2 * mean) <= 0.005 * r + 4 * 0.2 * se))
        fail_msg("radius %.9g, Monte Carlo 0.2 * %.9g (SE %.3g)", r, mean, se);
    assert_true(fabs(box_mean_distance(DIM, R) - mean) <= 4 * se);
}

static void radius_parameter_overrides_the_default_at_once(void **state)
{
    fixture *fx = *state;
    double c[N], b[N], z[N], lo[N], hi[N], r;
    start_both(fx);
    assert_int_equal(dss_search_center(fx->search, c), DSS_OK);
    assert_int_equal(dss_search_basis(fx->search, b), DSS_OK);
    assert_int_equal(dss_search_set(fx->search, DSS_SEARCH_RADIUS, 0.375), DSS_OK);
    assert_int_equal(dss_search_get(fx->search, DSS_SEARCH_RADIUS, &r), DSS_OK);
    assert_true(r == 0.375);
    assert_int_equal(dss_search_point(fx->search, 1.0, z), DSS_OK);
    assert_int_equal(dss_search_slider_ends(fx->search, lo, hi), DSS_OK);
    for (int j = 0; j < N; j++) {
        assert_true(fabs(z[j] - (c[j] + 0.375 * b[j])) <= affine_tol(c, N, 0.375));
        assert_true(fabs(lo[j] - (c[j] - 0.375 * b[j])) <= affine_tol(c, N, 0.375));
    }
    assert_memory_equal(hi, z, sizeof z);
    /* a set radius stays in force when the prior changes */
    assert_int_equal(dss_search_set(fx->search, DSS_SEARCH_PRIOR, DSS_PRIOR_BOX), DSS_OK);
    assert_int_equal(dss_search_set(fx->search, DSS_SEARCH_PRIOR_SCALE, 4), DSS_OK);
    assert_int_equal(dss_search_get(fx->search, DSS_SEARCH_RADIUS, &r), DSS_OK);
    assert_true(r == 0.375);
    /* and a commit moves the centre with it: to c + (2 * 0.75 - 1) * 0.375 * b */
    assert_int_equal(dss_search_commit(fx->search, 0.75), DSS_OK);
    assert_int_equal(dss_search_center(fx->search, z), DSS_OK);
    for (int j = 0; j < N; j++)
        assert_true(fabs(z[j] - (c[j] + 0.1875 * b[j])) <= affine_tol(c, N, 0.1875));
}

/* Without DSS_SEARCH_RADIUS the default follows the prior parameters in force. */
static void default_radius_follows_prior_changes_until_radius_is_set(void **state)
{
    fixture *fx = *state;
    double r;
    rebuild(fx, 2, 1, LIN_WITH_JACOBIAN);
    assert_int_equal(dss_search_set(fx->search, DSS_SEARCH_PRIOR, DSS_PRIOR_BOX), DSS_OK);
    assert_int_equal(dss_search_set(fx->search, DSS_SEARCH_PRIOR_SCALE, 3), DSS_OK);
    assert_int_equal(dss_search_get(fx->search, DSS_SEARCH_RADIUS, &r), DSS_OK);
    assert_true(fabs(r - 0.4) <= 1e-10 * 0.4); /* 0.2 * 2 * 3 / 3, as in the test above */
    assert_int_equal(dss_search_set(fx->search, DSS_SEARCH_PRIOR, DSS_PRIOR_GAUSSIAN), DSS_OK);
    assert_int_equal(dss_search_get(fx->search, DSS_SEARCH_RADIUS, &r), DSS_OK);
    assert_true(fabs(r - 1.2 / sqrt(acos(-1.0))) <= 4 * DBL_EPSILON); /* 0.2 * 2 * 3 / sqrt(pi) */
}

/* ---- commit ----------------------------------------------------------------------------------- */

/* Commit at t and check: the centre is the point(t) computed before; the Jacobian was computed
 * (once, at the new centre) exactly when `recompute`; without a recomputation the singular
 * values are bit-identical. */
static void commit_and_check(fixture *fx, double t, int recompute)
{
    double p[NMAX], c[NMAX], c_old[NMAX], s_old[NMAX], s_new[NMAX], b[NMAX], r;
    size_t n = fx->lm->n, rank = dss_search_rank(fx->search);
    assert_int_equal(dss_search_point(fx->search, t, p), DSS_OK);
    assert_int_equal(dss_search_center(fx->search, c_old), DSS_OK);
    assert_int_equal(dss_search_basis(fx->search, b), DSS_OK);
    assert_int_equal(dss_search_get(fx->search, DSS_SEARCH_RADIUS, &r), DSS_OK);
    assert_int_equal(dss_search_singular_values(fx->search, s_old, rank), DSS_OK);
    size_t jac = fx->lm->jac_calls;
    assert_int_equal(dss_search_commit(fx->search, t), DSS_OK);
    assert_int_equal(dss_search_center(fx->search, c), DSS_OK);
    if (!(support_max_abs_diff(c, p, n) <= affine_tol(c_old, n, r)))
        fail_msg("t = %.17g: the centre is not point(t)", t);
    assert_int_equal(dss_search_singular_values(fx->search, s_new, rank), DSS_OK);
    if (recompute) {
        if (fx->lm->jac_calls != jac + 1)
            fail_msg("t = %.17g: %zu Jacobian calls, expected 1", t, fx->lm->jac_calls - jac);
        assert_memory_equal(fx->lm->jac_last_z, c, n * sizeof *c);
    } else {
        if (fx->lm->jac_calls != jac)
            fail_msg("t = %.17g: the Jacobian was recomputed inside the tolerance", t);
        assert_memory_equal(s_old, s_new, rank * sizeof *s_old);
    }
}

static void commit_inside_the_tolerance_keeps_the_jacobian_and_moves_the_center(void **state)
{
    fixture *fx = *state;
    const double ts[] = {0.5, 0.53, 0.47, 0.549, 0.451};
    assert_int_equal(dss_search_start(fx->search, fx->z0), DSS_OK);
    for (size_t i = 0; i < sizeof ts / sizeof ts[0]; i++)
        commit_and_check(fx, ts[i], 0);
}

static void commit_outside_the_tolerance_recomputes_the_jacobian_once_at_the_new_center(void **state)
{
    fixture *fx = *state;
    const double ts[] = {0.9, 0.0, 1.0, 0.56, 0.44, 0.3};
    assert_int_equal(dss_search_start(fx->search, fx->z0), DSS_OK);
    for (size_t i = 0; i < sizeof ts / sizeof ts[0]; i++)
        commit_and_check(fx, ts[i], 1);
    assert_int_equal(fx->lm->protocol_errors, 0);
}

/* |t - 0.5| <= tol keeps the SVD, with the boundary itself inside. The values of t are chosen so
 * that t - 0.5 is exact in binary (0.75 + 2^-53 and 0.25 - 2^-53 differ from 0.5 by 0.25 plus or
 * minus a multiple of 2^-54), so the comparison is decided by the rule, not by rounding. */
static void center_tolerance_boundary_is_inclusive(void **state)
{
    fixture *fx = *state;
    assert_int_equal(dss_search_start(fx->search, fx->z0), DSS_OK);
    assert_int_equal(dss_search_set(fx->search, DSS_SEARCH_CENTER_TOLERANCE, 0.25), DSS_OK);
    commit_and_check(fx, 0.75, 0);
    commit_and_check(fx, 0.25, 0);
    commit_and_check(fx, 0.75 + 0x1p-53, 1);
    commit_and_check(fx, 0.25 - 0x1p-53, 1);
    assert_int_equal(dss_search_set(fx->search, DSS_SEARCH_CENTER_TOLERANCE, 0), DSS_OK);
    commit_and_check(fx, 0.5, 0);
    commit_and_check(fx, nextafter(0.5, 1.0), 1);
    assert_int_equal(dss_search_set(fx->search, DSS_SEARCH_CENTER_TOLERANCE, 0.5), DSS_OK);
    commit_and_check(fx, 0.0, 0);
    commit_and_check(fx, 1.0, 0);
}

/* commit_w recomputes when max_i |w_i| > 2 tol, and moves the centre to point_w(w). */
static void commit_w_recomputes_only_when_max_abs_w_exceeds_twice_the_tolerance(void **state)
{
    fixture *fx = *state;
    const struct { double w[2]; int recompute; } cases[] = {
        {{0.5, -0.5}, 0}, {{0, 0}, 0}, {{-0.5, 0.25}, 0},
        {{0.1, -0.50000001}, 1}, {{0.6, 0}, 1}, {{-1, 1}, 1},
    };
    double p[N], c[N], c_old[N], r;
    assert_int_equal(dss_search_set(fx->search, DSS_SEARCH_SUBSPACE_DIM, 2), DSS_OK);
    assert_int_equal(dss_search_set(fx->search, DSS_SEARCH_CENTER_TOLERANCE, 0.25), DSS_OK);
    assert_int_equal(dss_search_start(fx->search, fx->z0), DSS_OK);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_int_equal(dss_search_point_w(fx->search, cases[i].w, p), DSS_OK);
        assert_int_equal(dss_search_center(fx->search, c_old), DSS_OK);
        assert_int_equal(dss_search_get(fx->search, DSS_SEARCH_RADIUS, &r), DSS_OK);
        size_t jac = fx->lm->jac_calls;
        assert_int_equal(dss_search_commit_w(fx->search, cases[i].w), DSS_OK);
        assert_int_equal(dss_search_center(fx->search, c), DSS_OK);
        assert_true(support_max_abs_diff(c, p, N) <= affine_tol(c_old, N, 2 * r));
        if (fx->lm->jac_calls != jac + (size_t)cases[i].recompute)
            fail_msg("w = (%g, %g): %zu Jacobian calls, expected %d", cases[i].w[0], cases[i].w[1],
                     fx->lm->jac_calls - jac, cases[i].recompute);
    }
}

/* TOP: 0, 1, 2 drawn, then a far commit recomputes and makes all four available: 0 again. */
static void recomputation_makes_every_vector_available_again_with_top(void **state)
{
    fixture *fx = *state;
    size_t idx;
    assert_int_equal(dss_search_set(fx->search, DSS_SEARCH_SAMPLER, DSS_SAMPLER_TOP), DSS_OK);
    assert_int_equal(dss_search_start(fx->search, fx->z0), DSS_OK);
    assert_int_equal(dss_search_resample(fx->search), DSS_OK);
    assert_int_equal(dss_search_resample(fx->search), DSS_OK);
    assert_int_equal(dss_search_basis_indices(fx->search, &idx), DSS_OK);
    assert_int_equal(idx, 2);
    assert_int_equal(dss_search_commit(fx->search, 0.95), DSS_OK);
    assert_int_equal(dss_search_basis_indices(fx->search, &idx), DSS_OK);
    assert_int_equal(idx, 0);
    /* a near-centre commit moves on to the next index, like resample */
    assert_int_equal(dss_search_commit(fx->search, 0.5), DSS_OK);
    assert_int_equal(dss_search_basis_indices(fx->search, &idx), DSS_OK);
    assert_int_equal(idx, 1);
    assert_int_equal(dss_search_commit(fx->search, 0.54), DSS_OK);
    assert_int_equal(dss_search_basis_indices(fx->search, &idx), DSS_OK);
    assert_int_equal(idx, 2);
}

/* SINGULAR: after three of four indices, a far commit draws from all four (not only the one left),
 * and that draw starts a new cycle: it and the next three draws are a permutation. */
static void recomputation_makes_every_vector_available_again_with_singular(void **state)
{
    fixture *fx = *state;
    size_t not_leftover = 0;
    for (int seed = 0; seed < 40; seed++) {
        int drawn[4] = {0};
        size_t idx;
        assert_int_equal(dss_search_set(fx->search, DSS_SEARCH_SEED, seed), DSS_OK);
        assert_int_equal(dss_search_start(fx->search, fx->z0), DSS_OK);
        for (int k = 0; k < 3; k++) {
            if (k > 0)
                assert_int_equal(dss_search_resample(fx->search), DSS_OK);
            assert_int_equal(dss_search_basis_indices(fx->search, &idx), DSS_OK);
            drawn[idx] = 1;
        }
        assert_int_equal(dss_search_commit(fx->search, 0.05), DSS_OK);
        assert_int_equal(dss_search_basis_indices(fx->search, &idx), DSS_OK);
        not_leftover += drawn[idx];
        int cycle[4] = {0};
        cycle[idx] = 1;
        for (int k = 0; k < 3; k++) {
            assert_int_equal(dss_search_resample(fx->search), DSS_OK);
            assert_int_equal(dss_search_basis_indices(fx->search, &idx), DSS_OK);
            assert_false(cycle[idx]);
            cycle[idx] = 1;
        }
    }
    assert_true(not_leftover > 0);
}

/* ---- the strong guarantee with failing callbacks ---------------------------------------------- */

static const struct { int kind; int status; const char *name; } faults[] = {
    {LIN_FAULT_ERROR, DSS_ECALLBACK, "error"},
    {LIN_FAULT_NAN, DSS_ENONFINITE, "NaN"},
    {LIN_FAULT_INF, DSS_ENONFINITE, "infinity"},
};

static void failing_jacobian_during_start_leaves_a_fresh_session_unstarted(void **state)
{
    fixture *fx = *state;
    double z[N];
    for (size_t k = 0; k < sizeof faults / sizeof faults[0]; k++) {
        lin_fault(fx->lm, LIN_JACOBIAN, faults[k].kind, 1);
        int st = dss_search_start(fx->search, fx->z0);
        if (st != faults[k].status)
            fail_msg("start with a Jacobian %s returned %d, expected %d", faults[k].name, st,
                     faults[k].status);
        assert_int_equal(dss_search_center(fx->search, z), DSS_ESTATE);
        assert_int_equal(dss_search_rank(fx->search), 0);
    }
    assert_int_equal(fx->lm->faults_fired, 3);
    start_both(fx);
    assert_twins(fx);
}

static void failing_jacobian_during_restart_changes_nothing(void **state)
{
    fixture *fx = *state;
    support_snapshot snap;
    start_both(fx);
    assert_int_equal(dss_search_resample(fx->search), DSS_OK);
    assert_int_equal(dss_search_resample(fx->twin), DSS_OK);
    take(fx->search, N, &snap);
    for (size_t k = 0; k < sizeof faults / sizeof faults[0]; k++) {
        lin_fault(fx->lm, LIN_JACOBIAN, faults[k].kind, 1);
        assert_int_equal(dss_search_start(fx->search, fx->z1), faults[k].status);
        assert_unchanged(fx, &snap, "a restart whose Jacobian failed");
    }
    support_snapshot_free(&snap);
    assert_twins(fx);
}

static void failing_jacobian_during_commit_changes_nothing(void **state)
{
    fixture *fx = *state;
    support_snapshot snap;
    set_both(fx, DSS_SEARCH_SUBSPACE_DIM, 2);
    start_both(fx);
    assert_int_equal(dss_search_commit(fx->search, 0.5), DSS_OK);
    assert_int_equal(dss_search_commit(fx->twin, 0.5), DSS_OK);
    take(fx->search, N, &snap);
    for (size_t k = 0; k < sizeof faults / sizeof faults[0]; k++) {
        const double w[2] = {0.1, -0.9};
        lin_fault(fx->lm, LIN_JACOBIAN, faults[k].kind, 1);
        assert_int_equal(dss_search_commit(fx->search, 0.93), faults[k].status);
        assert_unchanged(fx, &snap, "a commit whose Jacobian failed");
        lin_fault(fx->lm, LIN_JACOBIAN, faults[k].kind, 1);
        assert_int_equal(dss_search_commit_w(fx->search, w), faults[k].status);
        assert_unchanged(fx, &snap, "a commit_w whose Jacobian failed");
    }
    assert_int_equal(fx->lm->faults_fired, 6);
    support_snapshot_free(&snap);
    assert_twins(fx);
}

/* Finite differences with a max batch of 2 (5 points in 3 calls of f): the second call fails. */
static void failing_generator_during_finite_differences_changes_nothing(void **state)
{
    fixture *fx = *state;
    support_snapshot snap;
    double z[N];
    rebuild(fx, M, N, 0);
    assert_int_equal(dss_model_set_max_batch(fx->model, 2), DSS_OK);
    for (size_t k = 0; k < sizeof faults / sizeof faults[0]; k++) { /* fresh start */
        lin_fault(fx->lm, LIN_F, faults[k].kind, 2);
        assert_int_equal(dss_search_start(fx->search, fx->z0), faults[k].status);
        assert_int_equal(dss_search_center(fx->search, z), DSS_ESTATE);
    }
    start_both(fx);
    take(fx->search, N, &snap);
    for (size_t k = 0; k < sizeof faults / sizeof faults[0]; k++) {
        lin_fault(fx->lm, LIN_F, faults[k].kind, 2);
        assert_int_equal(dss_search_commit(fx->search, 0.1), faults[k].status);
        assert_unchanged(fx, &snap, "a finite-difference commit whose f failed");
        lin_fault(fx->lm, LIN_F, faults[k].kind, 3);
        assert_int_equal(dss_search_start(fx->search, fx->z1), faults[k].status);
        assert_unchanged(fx, &snap, "a finite-difference restart whose f failed");
    }
    assert_int_equal(fx->lm->faults_fired, 9);
    support_snapshot_free(&snap);
    assert_twins(fx);
}

/* ROWS mode draws rows from the session's random stream before calling the Jacobian: a failed
 * commit must not advance the stream, so the twin's next rows and draws are the same. */
static void failing_jacobian_in_rows_mode_leaves_the_random_stream_unchanged(void **state)
{
    fixture *fx = *state;
    size_t rows_a[3], rows_b[3];
    rebuild(fx, 40, N, LIN_WITH_JACOBIAN);
    set_both(fx, DSS_SEARCH_JACOBIAN, DSS_JACOBIAN_ROWS);
    set_both(fx, DSS_SEARCH_JACOBIAN_ROWS, 3);
    set_both(fx, DSS_SEARCH_SEED, 4);
    start_both(fx);
    for (size_t k = 0; k < sizeof faults / sizeof faults[0]; k++) {
        lin_fault(fx->lm, LIN_JACOBIAN, faults[k].kind, 1);
        assert_int_equal(dss_search_commit(fx->search, 0.9), faults[k].status);
    }
    for (int k = 0; k < 3; k++) {
        assert_int_equal(dss_search_commit(fx->search, 0.2), DSS_OK);
        memcpy(rows_a, fx->lm->jac_last_rows, sizeof rows_a);
        assert_int_equal(dss_search_commit(fx->twin, 0.2), DSS_OK);
        memcpy(rows_b, fx->lm->jac_last_rows, sizeof rows_b);
        assert_memory_equal(rows_a, rows_b, sizeof rows_a);
    }
    assert_int_equal(fx->lm->protocol_errors, 0);
    assert_twins(fx);
}

static void full_and_rows_modes_without_a_jacobian_callback_are_unsupported(void **state)
{
    fixture *fx = *state;
    const int modes[2] = {DSS_JACOBIAN_FULL, DSS_JACOBIAN_ROWS};
    support_snapshot snap;
    double z[N];
    rebuild(fx, M, N, 0);
    for (int k = 0; k < 2; k++) {
        assert_int_equal(dss_search_set(fx->search, DSS_SEARCH_JACOBIAN, modes[k]), DSS_OK);
        assert_int_equal(dss_search_start(fx->search, fx->z0), DSS_EUNSUPPORTED);
        assert_int_equal(dss_search_center(fx->search, z), DSS_ESTATE);
    }
    /* started with finite differences, then switched: the next recomputation is unsupported */
    set_both(fx, DSS_SEARCH_JACOBIAN, DSS_JACOBIAN_FINITE_DIFF);
    start_both(fx);
    take(fx->search, N, &snap);
    for (int k = 0; k < 2; k++) {
        assert_int_equal(dss_search_set(fx->search, DSS_SEARCH_JACOBIAN, modes[k]), DSS_OK);
        assert_int_equal(dss_search_commit(fx->search, 0.99), DSS_EUNSUPPORTED);
        assert_int_equal(dss_search_start(fx->search, fx->z1), DSS_EUNSUPPORTED);
    }
    assert_int_equal(dss_search_set(fx->search, DSS_SEARCH_JACOBIAN, DSS_JACOBIAN_FINITE_DIFF), DSS_OK);
    assert_unchanged(fx, &snap, "unsupported Jacobian modes");
    support_snapshot_free(&snap);
    assert_twins(fx);
}

static void randomized_mode_without_a_vjp_callback_is_unsupported(void **state)
{
    fixture *fx = *state;
    support_snapshot snap;
    double z[N];
    rebuild(fx, M, N, LIN_WITH_JACOBIAN | LIN_WITH_JVP); /* everything but the required VJP */
    assert_int_equal(dss_search_set(fx->search, DSS_SEARCH_JACOBIAN, DSS_JACOBIAN_RANDOMIZED), DSS_OK);
    assert_int_equal(dss_search_start(fx->search, fx->z0), DSS_EUNSUPPORTED);
    assert_int_equal(dss_search_center(fx->search, z), DSS_ESTATE);
    assert_int_equal(dss_search_set(fx->search, DSS_SEARCH_JACOBIAN, DSS_JACOBIAN_AUTO), DSS_OK);
    start_both(fx);
    take(fx->search, N, &snap);
    assert_int_equal(dss_search_set(fx->search, DSS_SEARCH_JACOBIAN, DSS_JACOBIAN_RANDOMIZED), DSS_OK);
    assert_int_equal(dss_search_commit(fx->search, 0.0), DSS_EUNSUPPORTED);
    assert_int_equal(dss_search_start(fx->search, fx->z1), DSS_EUNSUPPORTED);
    assert_int_equal(dss_search_set(fx->search, DSS_SEARCH_JACOBIAN, DSS_JACOBIAN_AUTO), DSS_OK);
    assert_unchanged(fx, &snap, "a commit in RANDOMIZED mode without a VJP");
    support_snapshot_free(&snap);
    assert_twins(fx);
}

/* A near-centre commit and a resample compute no Jacobian, so they work in a mode the model
 * cannot serve (RANDOMIZED without a VJP). */
static void near_center_commit_and_resample_work_in_an_unsupported_mode(void **state)
{
    fixture *fx = *state;
    start_both(fx);
    set_both(fx, DSS_SEARCH_JACOBIAN, DSS_JACOBIAN_RANDOMIZED);
    assert_int_equal(dss_search_resample(fx->search), DSS_OK);
    assert_int_equal(dss_search_commit(fx->search, 0.5), DSS_OK);
    assert_int_equal(dss_search_resample(fx->twin), DSS_OK);
    assert_int_equal(dss_search_commit(fx->twin, 0.5), DSS_OK);
    set_both(fx, DSS_SEARCH_JACOBIAN, DSS_JACOBIAN_AUTO);
    assert_twins(fx);
}

/* Issue 8, bug 6: callbacks that call back into the session running them. A nested commit used
   to mix two calls silently, and a nested SUBSPACE_DIM change plus commit overflowed a heap
   buffer in dssi_history_push. Every call that would change the session returns DSS_EBUSY from
   inside any of its callbacks (Jacobian, f, progress); reading it is allowed. */
typedef struct nest {
    lin_model *lm;
    dss_search *search;
    const double *z;      /* a start point for the nested start */
    unsigned char *save;  /* a saved string for the nested load */
    size_t save_len;
    int armed, calls;
    int rc[10];
} nest;

static void nest_try(nest *ns)
{
    double w = 0.3, c[NMAX];
    if (!ns->armed)
        return;
    ns->armed = 0;
    ns->calls++;
    ns->rc[0] = dss_search_commit(ns->search, 0.9);
    ns->rc[1] = dss_search_set(ns->search, DSS_SEARCH_SUBSPACE_DIM, 2);
    ns->rc[2] = dss_search_commit_w(ns->search, &w);
    ns->rc[3] = dss_search_resample(ns->search);
    ns->rc[4] = dss_search_undo(ns->search);
    ns->rc[5] = dss_search_start(ns->search, ns->z);
    ns->rc[6] = dss_search_load(ns->search, ns->save, ns->save_len);
    ns->rc[7] = dss_search_set_progress(ns->search, NULL, NULL);
    ns->rc[8] = dss_search_set(ns->search, DSS_SEARCH_SEED, 99);
    ns->rc[9] = dss_search_center(ns->search, c) == DSS_OK ? 0 : -1; /* reading is fine */
}

static int nest_f(void *user, size_t k, const double *z, double *x)
{
    nest *ns = user;
    nest_try(ns);
    return lin_f(ns->lm, k, z, x);
}

static int nest_jacobian(void *user, const double *z, size_t nrows, const size_t *rows,
                         double *out)
{
    nest *ns = user;
    nest_try(ns);
    return lin_jacobian(ns->lm, z, nrows, rows, out);
}

static int nest_progress(void *user, int stage, size_t done, size_t total)
{
    (void)stage, (void)done, (void)total;
    nest_try(user);
    return 0;
}

static void assert_all_busy(const nest *ns, const char *where)
{
    if (ns->calls != 1)
        fail_msg("%s: the nested calls ran %d times", where, ns->calls);
    for (int i = 0; i < 9; i++)
        if (ns->rc[i] != DSS_EBUSY)
            fail_msg("%s: nested call %d returned %d, expected DSS_EBUSY", where, i, ns->rc[i]);
    if (ns->rc[9] != 0)
        fail_msg("%s: reading the session from a callback failed", where);
}

static void calls_from_inside_a_callback_that_would_change_the_session_return_ebusy(void **state)
{
    fixture *fx = *state;
    nest ns = { .lm = fx->lm, .z = fx->z1 };
    dss_model *model = NULL;
    dss_search *s = NULL;
    assert_int_equal(dss_model_create(&model, N, M, nest_f, &ns), DSS_OK);
    assert_int_equal(dss_model_set_jacobian(model, nest_jacobian), DSS_OK);
    assert_int_equal(dss_search_create(&s, model), DSS_OK);
    ns.search = s;
    /* the twin (fx->search, on the plain model) makes the same outer calls */
    assert_int_equal(dss_search_start(s, fx->z0), DSS_OK);
    start_both(fx);
    assert_int_equal(dss_search_save(s, NULL, 0, &ns.save_len), DSS_OK);
    ns.save = malloc(ns.save_len);
    assert_non_null(ns.save);
    assert_int_equal(dss_search_save(s, ns.save, ns.save_len, &ns.save_len), DSS_OK);

    ns.armed = 1; /* from the Jacobian callback of a moved commit */
    assert_int_equal(dss_search_commit(s, 0.1), DSS_OK);
    assert_int_equal(dss_search_commit(fx->search, 0.1), DSS_OK);
    assert_all_busy(&ns, "jacobian callback");

    ns.calls = 0, ns.armed = 1; /* from the progress callback */
    assert_int_equal(dss_search_set_progress(s, nest_progress, &ns), DSS_OK);
    assert_int_equal(dss_search_commit(s, 0.95), DSS_OK);
    assert_int_equal(dss_search_commit(fx->search, 0.95), DSS_OK);
    assert_all_busy(&ns, "progress callback");
    assert_int_equal(dss_search_set_progress(s, NULL, NULL), DSS_OK);

    ns.calls = 0, ns.armed = 1; /* from f, in FINITE_DIFF mode */
    assert_int_equal(dss_search_set(s, DSS_SEARCH_JACOBIAN, DSS_JACOBIAN_FINITE_DIFF), DSS_OK);
    assert_int_equal(dss_search_set(fx->search, DSS_SEARCH_JACOBIAN, DSS_JACOBIAN_FINITE_DIFF),
                     DSS_OK);
    assert_int_equal(dss_search_commit(s, 0.05), DSS_OK);
    assert_int_equal(dss_search_commit(fx->search, 0.05), DSS_OK);
    assert_all_busy(&ns, "generator (finite differences)");

    /* the session is its twin: nothing nested took effect */
    support_snapshot a, b;
    take(s, N, &a);
    take(fx->search, N, &b);
    assert_true(support_snapshot_equal(&a, &b));
    support_snapshot_free(&a);
    support_snapshot_free(&b);
    assert_true(support_same_draws(s, fx->search, N, 3));
    dss_search_destroy(s);
    dss_model_destroy(model);
    free(ns.save);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(create_rejects_null_out_and_null_model),
        T(destroy_accepts_null),
        T(defaults_are_as_documented),
        T(set_and_get_reject_null_search_null_value_and_unknown_params),
        T(set_rejects_out_of_range_values_and_changes_nothing),
        T(set_rejects_out_of_range_values_before_start),
        T(set_accepts_boundary_values_and_get_returns_them),
        T(param_bounds_are_the_ranges_the_setter_enforces),
        T(subspace_dim_above_n_is_rejected_at_once),
        T(calls_before_start_return_estate),
        T(accessors_reject_null_pointers),
        T(start_rejects_nonfinite_start_points_and_changes_nothing),
        T(point_rejects_t_outside_the_unit_interval),
        T(point_w_rejects_w_outside_the_unit_box),
        T(commit_rejects_t_outside_the_unit_interval_and_changes_nothing),
        T(commit_w_rejects_w_outside_the_unit_box_and_changes_nothing),
        T(slider_ends_needs_at_least_one_output),
        T(subspace_dim_above_the_rank_makes_start_fail_and_change_nothing),
        T(subspace_dim_above_the_rank_makes_resample_and_commits_fail_and_change_nothing),
        T(same_seed_and_calls_give_bit_identical_sessions),
        T(same_seed_in_rows_and_finite_difference_modes_gives_bit_identical_sessions),
        T(different_seeds_give_different_draws),
        T(setting_the_seed_restarts_the_random_stream_at_once),
        T(start_restarts_the_stream_from_the_seed),
        T(identical_sessions_save_identical_byte_strings),
        T(point_maps_t_along_the_first_basis_row),
        T(point_w_maps_w_through_the_basis),
        T(slider_ends_equal_point_at_0_and_1),
        T(default_radius_for_the_gaussian_prior_is_a_fifth_of_the_mean_distance),
        T(box_quadrature_reproduces_known_mean_distances),
        T(default_radius_for_the_box_prior_in_one_dimension_is_exact),
        T(default_radius_for_the_box_prior_is_within_half_a_percent),
        T(default_radius_for_the_box_prior_agrees_with_monte_carlo),
        T(radius_parameter_overrides_the_default_at_once),
        T(default_radius_follows_prior_changes_until_radius_is_set),
        T(commit_inside_the_tolerance_keeps_the_jacobian_and_moves_the_center),
        T(commit_outside_the_tolerance_recomputes_the_jacobian_once_at_the_new_center),
        T(center_tolerance_boundary_is_inclusive),
        T(commit_w_recomputes_only_when_max_abs_w_exceeds_twice_the_tolerance),
        T(recomputation_makes_every_vector_available_again_with_top),
        T(recomputation_makes_every_vector_available_again_with_singular),
        T(failing_jacobian_during_start_leaves_a_fresh_session_unstarted),
        T(failing_jacobian_during_restart_changes_nothing),
        T(failing_jacobian_during_commit_changes_nothing),
        T(failing_generator_during_finite_differences_changes_nothing),
        T(failing_jacobian_in_rows_mode_leaves_the_random_stream_unchanged),
        T(full_and_rows_modes_without_a_jacobian_callback_are_unsupported),
        T(randomized_mode_without_a_vjp_callback_is_unsupported),
        T(near_center_commit_and_resample_work_in_an_unsupported_mode),
        T(calls_from_inside_a_callback_that_would_change_the_session_return_ebusy),
    };
    return support_leak_exit(cmocka_run_group_tests_name("search", tests, NULL, NULL));
}
