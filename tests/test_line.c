/* dss_line: parameters, the grid search (against an independent brute force), batching, the
 * bracketed refinement, errors, and dss_search_find_optimal.
 *
 * The generator is the affine map x0 = z0 + z1, x1 = z0 - z1 / 2 (n = m = 2). Segment ends are
 * dyadic and most grids have 2^k + 1 points, so t_i = i / 2^k and every z(t_i) and x are exact in
 * binary whatever formula the library uses for the segment (z_lo + t (z_hi - z_lo) or
 * (1 - t) z_lo + t z_hi): the brute force below then sees bit-identical scores, and ties are
 * real ties. */
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

#define N 2
#define M 2

/* ---- the generator ---------------------------------------------------------------------------- */

typedef struct probe {
    size_t calls, max_k, total_k;
    size_t fail_on_call; /* 1-based; 0 never */
    size_t bad_on_call;  /* 1-based call whose last output becomes NaN; 0 never */
    size_t *seen;        /* when non-NULL: seen[i] counts visits of grid index i */
    size_t seen_den;     /* samples - 1 of that grid */
} probe;

static void affine(const double *z, double *x)
{
    x[0] = z[0] + z[1];
    x[1] = z[0] - 0.5 * z[1];
}

static int probe_f(void *user, size_t k, const double *z, double *x)
{
    probe *p = user;
    p->calls++;
    p->total_k += k;
    p->max_k = k > p->max_k ? k : p->max_k;
    if (p->fail_on_call == p->calls)
        return 9;
    for (size_t r = 0; r < k; r++) {
        affine(z + r * N, x + r * M);
        if (p->seen != NULL) {
            /* On the segment (0,0)-(1,0), z0 is t: recover the grid index. */
            double u = z[r * N] * (double)p->seen_den;
            double i = floor(u + 0.5);
            if (z[r * N + 1] == 0.0 && fabs(u - i) <= 1e-9 && i >= 0 && i <= (double)p->seen_den)
                p->seen[(size_t)i]++;
        }
    }
    if (p->bad_on_call == p->calls)
        x[k * M - 1] = NAN;
    return 0;
}

/* Jacobian of the affine map (for the dss_search tests). */
static int affine_jacobian(void *user, const double *z, size_t nrows, const size_t *rows,
                           double *out)
{
    static const double J[M][N] = { { 1.0, 1.0 }, { 1.0, -0.5 } };
    (void)user; (void)z;
    for (size_t r = 0; r < nrows; r++) {
        size_t row = rows != NULL ? rows[r] : r;
        out[r * N] = J[row][0];
        out[r * N + 1] = J[row][1];
    }
    return 0;
}

/* ---- the scores ---------------------------------------------------------------------------- */

enum score_kind {
    S_MULTI,     /* sin(5 x0) + 0.3 cos(11 x1) + 0.1 x0: several local maxima and minima */
    S_PLATEAU,   /* sign * |floor(8 x0) - 3|: extreme value 0 on the plateau x0 in [3/8, 1/2) */
    S_TWO_PEAKS, /* -(|x0 - 1/2| - 1/4)^2: two equal maxima, at x0 = 1/4 and x0 = 3/4 */
    S_CONST,     /* 3 everywhere */
    S_QUAD,      /* sign * (x0 - target)^2 */
    S_NARROW     /* a broad peak 1 at x0 = 0.25 and a narrow, higher one 1.5 at x0 = 0.71 */
};

typedef struct scorer {
    int kind;
    double sign, target;
    size_t calls;
    size_t fail_on_call;    /* 1-based; 0 never */
    size_t bad_on_point;    /* 1-based global point index that gets bad_value; 0 never */
    double bad_value;
    size_t points;
    int bad_off_grid;       /* 1: every point whose x0 is not on the grid of bad_den gets NaN */
    double bad_den;
} scorer;

static double score_of(const scorer *s, const double *x)
{
    switch (s->kind) {
    case S_MULTI:
        return sin(5.0 * x[0]) + 0.3 * cos(11.0 * x[1]) + 0.1 * x[0];
    case S_PLATEAU:
        return s->sign * fabs(floor(8.0 * x[0]) - 3.0);
    case S_TWO_PEAKS: {
        double d = fabs(x[0] - 0.5) - 0.25;
        return -d * d;
    }
    case S_CONST:
        return 3.0;
    case S_NARROW: {
        double b = (x[0] - 0.25) / 0.2, n = (x[0] - 0.71) / 0.03;
        return exp(-b * b) + 1.5 * exp(-n * n);
    }
    default: {
        double d = x[0] - s->target;
        return s->sign * d * d;
    }
    }
}

static int score_g(void *user, size_t k, const double *x, double *score)
{
    scorer *s = user;
    s->calls++;
    if (s->fail_on_call == s->calls)
        return -2;
    for (size_t r = 0; r < k; r++) {
        s->points++;
        score[r] = score_of(s, x + r * M);
        if (s->bad_on_point == s->points)
            score[r] = s->bad_value;
        if (s->bad_off_grid) {
            double u = x[r * M] * s->bad_den;
            if (u != floor(u))
                score[r] = NAN;
        }
    }
    return 0;
}

/* The independent brute force: the grid t_i = i / (samples - 1), z(t) = lo + t (hi - lo), scored
   through the same f and g, first best wins. Also returns the gap to the best score reached at
   any other index, so that tests on non-exact grids can check their answer is unambiguous. */
static size_t brute_force(size_t samples, int goal, const double *lo, const double *hi,
                          const scorer *s, double *t_out, double *score_out, double *gap)
{
    size_t best = 0;
    double best_score = 0.0, second = goal == DSS_MAXIMIZE ? -INFINITY : INFINITY;
    for (size_t i = 0; i < samples; i++) {
        double t = (double)i / (double)(samples - 1), z[N], x[M];
        for (size_t d = 0; d < N; d++)
            z[d] = lo[d] + t * (hi[d] - lo[d]);
        affine(z, x);
        double v = score_of(s, x);
        int better = goal == DSS_MAXIMIZE ? v > best_score : v < best_score;
        if (i == 0 || better) {
            if (i > 0)
                second = best_score;
            best = i;
            best_score = v;
        } else if (goal == DSS_MAXIMIZE ? v > second : v < second) {
            second = v;
        }
    }
    *t_out = (double)best / (double)(samples - 1);
    *score_out = best_score;
    if (gap != NULL)
        *gap = fabs(best_score - second);
    return best;
}

/* ---- fixture ------------------------------------------------------------------------------- */

typedef struct fixture {
    probe p;
    scorer s;
    dss_model *model;
    dss_line *line;
    dss_search *search; /* created, not started */
} fixture;

static int setup(void **state)
{
    fixture *fx = calloc(1, sizeof *fx);
    if (fx == NULL)
        return -1;
    if (dss_model_create(&fx->model, N, M, probe_f, &fx->p) != DSS_OK
        || dss_model_set_jacobian(fx->model, affine_jacobian) != DSS_OK
        || dss_line_create(&fx->line) != DSS_OK
        || dss_search_create(&fx->search, fx->model) != DSS_OK) {
        dss_search_destroy(fx->search);
        dss_line_destroy(fx->line);
        dss_model_destroy(fx->model);
        free(fx);
        return -1;
    }
    fx->s.sign = 1.0;
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    fixture *fx = *state;
    dss_search_destroy(fx->search);
    dss_line_destroy(fx->line);
    dss_model_destroy(fx->model);
    free(fx->p.seen);
    free(fx);
    return 0;
}

static void reset_counts(fixture *fx)
{
    fx->p.calls = fx->p.max_k = fx->p.total_k = 0;
    fx->s.calls = fx->s.points = 0;
}

/* The four parameters, to check that a rejected set changes nothing. */
static void snapshot(const dss_line *line, double v[4])
{
    for (int p = 0; p < 4; p++)
        assert_int_equal(dss_line_get(line, DSS_LINE_SAMPLES + p, &v[p]), DSS_OK);
}

static void assert_unchanged(const dss_line *line, const double before[4])
{
    double now[4];
    snapshot(line, now);
    for (int p = 0; p < 4; p++)
        if (!(now[p] == before[p]))
            fail_msg("parameter %d changed from %g to %g", p + 1, before[p], now[p]);
}

/* Dyadic segment over which S_MULTI has several local extrema: x0 runs over [-0.5, 1.75]. */
static const double seg_lo[N] = { -1.0, 0.5 };
static const double seg_hi[N] = { 1.5, 0.25 };
/* The unit segment: x0 = t exactly. */
static const double unit_lo[N] = { 0.0, 0.0 };
static const double unit_hi[N] = { 1.0, 0.0 };

/* Sentinels that a failed call must leave in place. */
#define T_SENTINEL 12345.0
#define S_SENTINEL -6789.0

/* ---- handle and parameters --------------------------------------------------------------- */

static void create_rejects_a_null_out_pointer(void **state)
{
    (void)state;
    assert_int_equal(dss_line_create(NULL), DSS_EINVAL);
}

static void create_gives_the_authors_defaults(void **state)
{
    fixture *fx = *state;
    double v;
    assert_int_equal(dss_line_get(fx->line, DSS_LINE_SAMPLES, &v), DSS_OK);
    assert_true(v == 10001.0);
    assert_int_equal(dss_line_get(fx->line, DSS_LINE_BATCH, &v), DSS_OK);
    assert_true(v == 500.0);
    assert_int_equal(dss_line_get(fx->line, DSS_LINE_GOAL, &v), DSS_OK);
    assert_true(v == DSS_MAXIMIZE);
    assert_int_equal(dss_line_get(fx->line, DSS_LINE_REFINE, &v), DSS_OK);
    assert_true(v == 0.0);
}

static void evaluations_are_zero_before_the_first_search_and_for_null(void **state)
{
    fixture *fx = *state;
    assert_int_equal(dss_line_evaluations(fx->line), 0);
    assert_int_equal(dss_line_evaluations(NULL), 0);
}

static void destroy_of_null_is_a_no_op(void **state)
{
    fixture *fx = *state;
    dss_line_destroy(NULL); /* must not crash; the fixture's handle stays usable */
    double v;
    assert_int_equal(dss_line_get(fx->line, DSS_LINE_SAMPLES, &v), DSS_OK);
    assert_true(v == 10001.0);
}

static void set_stores_valid_values(void **state)
{
    fixture *fx = *state;
    static const struct { int param; double value; } cases[] = {
        { DSS_LINE_SAMPLES, 2 }, { DSS_LINE_SAMPLES, 101 }, { DSS_LINE_SAMPLES, 1e6 },
        { DSS_LINE_BATCH, 1 }, { DSS_LINE_BATCH, 7 }, { DSS_LINE_BATCH, 100000 },
        { DSS_LINE_GOAL, DSS_MINIMIZE }, { DSS_LINE_GOAL, DSS_MAXIMIZE },
        { DSS_LINE_REFINE, 1 }, { DSS_LINE_REFINE, 0 }
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        double v = -1.0;
        assert_int_equal(dss_line_set(fx->line, cases[c].param, cases[c].value), DSS_OK);
        assert_int_equal(dss_line_get(fx->line, cases[c].param, &v), DSS_OK);
        assert_true(v == cases[c].value);
    }
}

/* Each (param, value) must be rejected with DSS_EINVAL and leave all four parameters as they
   were, from the defaults and from non-default values. */
static void check_rejected(fixture *fx, const int *params, const double *values, size_t count)
{
    for (int round = 0; round < 2; round++) {
        if (round == 1) {
            assert_int_equal(dss_line_set(fx->line, DSS_LINE_SAMPLES, 33), DSS_OK);
            assert_int_equal(dss_line_set(fx->line, DSS_LINE_BATCH, 5), DSS_OK);
            assert_int_equal(dss_line_set(fx->line, DSS_LINE_GOAL, DSS_MINIMIZE), DSS_OK);
            assert_int_equal(dss_line_set(fx->line, DSS_LINE_REFINE, 1), DSS_OK);
        }
        for (size_t c = 0; c < count; c++) {
            double before[4];
            snapshot(fx->line, before);
            int rc = dss_line_set(fx->line, params[c], values[c]);
            if (rc != DSS_EINVAL)
                fail_msg("param %d, value %g: got %d, want DSS_EINVAL", params[c], values[c], rc);
            assert_unchanged(fx->line, before);
        }
    }
}

static void set_rejects_fewer_than_two_samples(void **state)
{
    const int p[] = { DSS_LINE_SAMPLES, DSS_LINE_SAMPLES, DSS_LINE_SAMPLES, DSS_LINE_SAMPLES };
    const double v[] = { 1, 0, -3, 1.999 };
    check_rejected(*state, p, v, 4);
}

static void set_rejects_non_integer_values(void **state)
{
    const int p[] = { DSS_LINE_SAMPLES, DSS_LINE_BATCH, DSS_LINE_GOAL, DSS_LINE_REFINE,
                      DSS_LINE_SAMPLES };
    const double v[] = { 100.5, 2.5, 0.5, 0.25, 10001.0 + 1e-9 };
    check_rejected(*state, p, v, 5);
}

static void set_rejects_a_batch_below_one(void **state)
{
    const int p[] = { DSS_LINE_BATCH, DSS_LINE_BATCH, DSS_LINE_BATCH };
    const double v[] = { 0, -1, -500 };
    check_rejected(*state, p, v, 3);
}

static void set_rejects_goal_and_refine_out_of_range(void **state)
{
    const int p[] = { DSS_LINE_GOAL, DSS_LINE_GOAL, DSS_LINE_REFINE, DSS_LINE_REFINE };
    const double v[] = { 2, -1, 3, -1 };
    check_rejected(*state, p, v, 4);
}

static void set_rejects_nan_and_infinities(void **state)
{
    int p[12];
    double v[12];
    for (int i = 0; i < 4; i++) {
        p[3 * i] = p[3 * i + 1] = p[3 * i + 2] = DSS_LINE_SAMPLES + i;
        v[3 * i] = NAN;
        v[3 * i + 1] = INFINITY;
        v[3 * i + 2] = -INFINITY;
    }
    check_rejected(*state, p, v, 12);
}

static void set_rejects_counts_too_large_for_the_address_space(void **state)
{
    /* 1e300 is an integer-valued double, but no size_t holds it. */
    const int p[] = { DSS_LINE_SAMPLES, DSS_LINE_BATCH, DSS_LINE_SAMPLES };
    const double v[] = { 1e300, 1e300, DBL_MAX };
    check_rejected(*state, p, v, 3);
}

static void set_and_get_reject_an_unknown_parameter(void **state)
{
    fixture *fx = *state;
    /* DSS_LINE_GRID + 1: the first id after the table (1.2: 1..5) */
    const int unknown[] = { 0, DSS_LINE_GRID + 1, -1, 99 };
    const int p[] = { 0, DSS_LINE_GRID + 1, -1, 99 };
    const double v[] = { 1, 1, 1, 1 };
    check_rejected(fx, p, v, 4);
    for (size_t i = 0; i < 4; i++) {
        double out = T_SENTINEL;
        assert_int_equal(dss_line_get(fx->line, unknown[i], &out), DSS_EINVAL);
    }
}

static void set_and_get_reject_null_pointers(void **state)
{
    fixture *fx = *state;
    double v;
    assert_int_equal(dss_line_set(NULL, DSS_LINE_SAMPLES, 11), DSS_EINVAL);
    assert_int_equal(dss_line_get(NULL, DSS_LINE_SAMPLES, &v), DSS_EINVAL);
    assert_int_equal(dss_line_get(fx->line, DSS_LINE_SAMPLES, NULL), DSS_EINVAL);
}

/* ---- the grid ---------------------------------------------------------------------------------- */

/* Run find_optimal with the given settings and compare with the brute force, exactly. */
static void expect_brute_force(fixture *fx, size_t samples, int goal, const double *lo,
                               const double *hi)
{
    double t = T_SENTINEL, score = S_SENTINEL, want_t, want_score;
    brute_force(samples, goal, lo, hi, &fx->s, &want_t, &want_score, NULL);
    assert_int_equal(dss_line_set(fx->line, DSS_LINE_SAMPLES, (double)samples), DSS_OK);
    assert_int_equal(dss_line_set(fx->line, DSS_LINE_GOAL, goal), DSS_OK);
    assert_int_equal(dss_find_optimal(fx->line, fx->model, lo, hi, score_g, &fx->s, &t, &score),
                     DSS_OK);
    if (t != want_t || score != want_score)
        fail_msg("samples %zu, goal %d: got t = %.17g (score %.17g), want t = %.17g (score %.17g)",
                 samples, goal, t, score, want_t, want_score);
}

static void grid_search_finds_the_brute_force_maximum(void **state)
{
    fixture *fx = *state;
    fx->s.kind = S_MULTI;
    expect_brute_force(fx, 1025, DSS_MAXIMIZE, seg_lo, seg_hi);
    expect_brute_force(fx, 1025, DSS_MAXIMIZE, seg_hi, seg_lo); /* reversed segment */
    expect_brute_force(fx, 17, DSS_MAXIMIZE, seg_lo, seg_hi);
    expect_brute_force(fx, 3, DSS_MAXIMIZE, seg_lo, seg_hi);
}

static void grid_search_finds_the_brute_force_minimum(void **state)
{
    fixture *fx = *state;
    fx->s.kind = S_MULTI;
    expect_brute_force(fx, 1025, DSS_MINIMIZE, seg_lo, seg_hi);
    expect_brute_force(fx, 1025, DSS_MINIMIZE, seg_hi, seg_lo);
    expect_brute_force(fx, 9, DSS_MINIMIZE, seg_lo, seg_hi);
}

static void grid_search_with_the_default_samples_matches_the_brute_force(void **state)
{
    fixture *fx = *state;
    /* 10001 points: t_i = i / 10000 is not exact in binary, so the library's z(t) may differ
       from ours by an ulp or two of |z| <= 1.5 (about 7e-16). The score's Lipschitz constant is
       at most 5 * 2 + 0.3 * 11 * 1.5 + 0.1 * 2 < 15 per unit of z, so the scores agree to
       15 * 7e-16 + a few ulps of |score| <= 1.4: 1e-13 covers it with margin. The argmax is the
       same as long as the best score beats every other grid point by more than that: the brute
       force reports the gap, and we check it first. */
    fx->s.kind = S_MULTI;
    for (int goal = 0; goal < 2; goal++) {
        double t = T_SENTINEL, score = S_SENTINEL, want_t, want_score, gap;
        size_t i = brute_force(10001, goal, seg_lo, seg_hi, &fx->s, &want_t, &want_score, &gap);
        assert_true(gap > 1e-12);
        assert_int_equal(dss_line_set(fx->line, DSS_LINE_GOAL, goal), DSS_OK);
        assert_int_equal(dss_find_optimal(fx->line, fx->model, seg_lo, seg_hi, score_g, &fx->s,
                                          &t, &score), DSS_OK);
        /* t is i / 10000 computed by the library: equal to ours within an ulp of 1. */
        assert_true(fabs(t - (double)i / 10000.0) <= DBL_EPSILON);
        assert_true(fabs(score - want_score) <= 1e-13);
        assert_int_equal(dss_line_evaluations(fx->line), 10001);
    }
}

static void grid_ties_go_to_the_lowest_index(void **state)
{
    fixture *fx = *state;
    double t, score;

    /* A plateau: x0 = t on the unit segment, the best value 0 holds on [3/8, 1/2); the first grid
       point on it is t = 3/8 = 384 / 1024. The same with the negated score and MINIMIZE. */
    fx->s.kind = S_PLATEAU;
    fx->s.sign = -1.0;
    expect_brute_force(fx, 1025, DSS_MAXIMIZE, unit_lo, unit_hi);
    assert_int_equal(dss_find_optimal(fx->line, fx->model, unit_lo, unit_hi, score_g, &fx->s, &t,
                                      &score), DSS_OK);
    assert_true(t == 0.375);
    assert_true(score == 0.0);
    fx->s.sign = 1.0;
    expect_brute_force(fx, 1025, DSS_MINIMIZE, unit_lo, unit_hi);
    assert_int_equal(dss_find_optimal(fx->line, fx->model, unit_lo, unit_hi, score_g, &fx->s, &t,
                                      &score), DSS_OK);
    assert_true(t == 0.375);
    assert_true(score == 0.0);

    /* Two equal peaks at t = 1/4 and t = 3/4: the first. */
    fx->s.kind = S_TWO_PEAKS;
    assert_int_equal(dss_line_set(fx->line, DSS_LINE_GOAL, DSS_MAXIMIZE), DSS_OK);
    assert_int_equal(dss_find_optimal(fx->line, fx->model, unit_lo, unit_hi, score_g, &fx->s, &t,
                                      &score), DSS_OK);
    assert_true(t == 0.25);
    assert_true(score == 0.0);

    /* A constant score: every point ties, t = 0, for both goals. */
    fx->s.kind = S_CONST;
    for (int goal = 0; goal < 2; goal++) {
        assert_int_equal(dss_line_set(fx->line, DSS_LINE_GOAL, goal), DSS_OK);
        t = T_SENTINEL;
        assert_int_equal(dss_find_optimal(fx->line, fx->model, seg_lo, seg_hi, score_g, &fx->s,
                                          &t, &score), DSS_OK);
        assert_true(t == 0.0);
        assert_true(score == 3.0);
    }
}

static void grid_with_two_samples_scores_only_the_ends(void **state)
{
    fixture *fx = *state;
    double t, score;
    fx->s.kind = S_QUAD;
    fx->s.sign = -1.0;
    fx->s.target = 0.9; /* nearer to t = 1 */
    assert_int_equal(dss_line_set(fx->line, DSS_LINE_SAMPLES, 2), DSS_OK);
    assert_int_equal(dss_find_optimal(fx->line, fx->model, unit_lo, unit_hi, score_g, &fx->s, &t,
                                      &score), DSS_OK);
    assert_true(t == 1.0);
    /* the score the callback gives the end x = (1, 0): its own arithmetic, not a literal
       expression, which x87 (FLT_EVAL_METHOD 2) would evaluate in long double */
    assert_true(score == score_of(&fx->s, unit_hi));
    assert_int_equal(fx->p.total_k, 2);
    assert_int_equal(dss_line_evaluations(fx->line), 2);
}

static void grid_evaluates_every_grid_point_exactly_once(void **state)
{
    fixture *fx = *state;
    enum { SAMPLES = 257 };
    fx->p.seen = calloc(SAMPLES, sizeof *fx->p.seen);
    assert_non_null(fx->p.seen);
    fx->p.seen_den = SAMPLES - 1;
    fx->s.kind = S_MULTI;
    double t, score;
    assert_int_equal(dss_line_set(fx->line, DSS_LINE_SAMPLES, SAMPLES), DSS_OK);
    assert_int_equal(dss_line_set(fx->line, DSS_LINE_BATCH, 10), DSS_OK);
    assert_int_equal(dss_find_optimal(fx->line, fx->model, unit_lo, unit_hi, score_g, &fx->s, &t,
                                      &score), DSS_OK);
    assert_int_equal(fx->p.total_k, SAMPLES);
    for (size_t i = 0; i < SAMPLES; i++)
        if (fx->p.seen[i] != 1)
            fail_msg("grid point %zu (t = %g) evaluated %zu times", i, (double)i / (SAMPLES - 1),
                     fx->p.seen[i]);
}

static void score_best_may_be_null(void **state)
{
    fixture *fx = *state;
    double t = T_SENTINEL, want_t, want_score;
    fx->s.kind = S_MULTI;
    assert_int_equal(dss_line_set(fx->line, DSS_LINE_SAMPLES, 1025), DSS_OK);
    brute_force(1025, DSS_MAXIMIZE, seg_lo, seg_hi, &fx->s, &want_t, &want_score, NULL);
    assert_int_equal(dss_find_optimal(fx->line, fx->model, seg_lo, seg_hi, score_g, &fx->s, &t,
                                      NULL), DSS_OK);
    assert_true(t == want_t);
}

/* ---- batches ------------------------------------------------------------------------------------ */

/* Run a grid search and check f's batches: at most `cap` points, ceil(samples / cap) calls. */
static void expect_batches(fixture *fx, size_t samples, size_t cap)
{
    double t, score;
    reset_counts(fx);
    assert_int_equal(dss_line_set(fx->line, DSS_LINE_SAMPLES, (double)samples), DSS_OK);
    assert_int_equal(dss_find_optimal(fx->line, fx->model, seg_lo, seg_hi, score_g, &fx->s, &t,
                                      &score), DSS_OK);
    if (fx->p.max_k > cap)
        fail_msg("samples %zu: f saw %zu points at once, cap %zu", samples, fx->p.max_k, cap);
    assert_int_equal(fx->p.calls, (samples + cap - 1) / cap);
    assert_int_equal(fx->p.total_k, samples);
    assert_int_equal(dss_line_evaluations(fx->line), samples);
}

static void default_batches_hold_500_points(void **state)
{
    fixture *fx = *state;
    fx->s.kind = S_MULTI;
    expect_batches(fx, 10001, 500); /* 21 calls */
    assert_int_equal(fx->p.max_k, 500);
}

static void batches_never_exceed_the_line_batch(void **state)
{
    fixture *fx = *state;
    fx->s.kind = S_MULTI;
    assert_int_equal(dss_line_set(fx->line, DSS_LINE_BATCH, 64), DSS_OK);
    expect_batches(fx, 1000, 64);  /* 16 calls */
    expect_batches(fx, 64, 64);    /* 1 call */
    expect_batches(fx, 65, 64);    /* 2 calls */
    assert_int_equal(dss_line_set(fx->line, DSS_LINE_BATCH, 1), DSS_OK);
    expect_batches(fx, 9, 1);      /* 9 calls of 1 point */
}

static void batches_are_also_capped_by_the_model_max_batch(void **state)
{
    fixture *fx = *state;
    fx->s.kind = S_MULTI;
    assert_int_equal(dss_line_set(fx->line, DSS_LINE_BATCH, 64), DSS_OK);
    assert_int_equal(dss_model_set_max_batch(fx->model, 10), DSS_OK);
    expect_batches(fx, 105, 10);   /* the model's limit wins: 11 calls */
    assert_int_equal(dss_model_set_max_batch(fx->model, 100), DSS_OK);
    expect_batches(fx, 100, 64);   /* the line's batch wins: 2 calls */
}

static void evaluations_equal_the_samples_without_refine(void **state)
{
    fixture *fx = *state;
    double t, score;
    fx->s.kind = S_MULTI;
    static const size_t samples[] = { 2, 3, 11, 1025 };
    for (size_t c = 0; c < 4; c++) {
        assert_int_equal(dss_line_set(fx->line, DSS_LINE_SAMPLES, (double)samples[c]), DSS_OK);
        assert_int_equal(dss_find_optimal(fx->line, fx->model, seg_lo, seg_hi, score_g, &fx->s,
                                          &t, &score), DSS_OK);
        assert_int_equal(dss_line_evaluations(fx->line), samples[c]);
    }
}

/* ---- refinement ------------------------------------------------------------------------------ */

static void run(fixture *fx, size_t samples, int goal, int refine, const double *lo,
                const double *hi, double *t, double *score)
{
    assert_int_equal(dss_line_set(fx->line, DSS_LINE_SAMPLES, (double)samples), DSS_OK);
    assert_int_equal(dss_line_set(fx->line, DSS_LINE_GOAL, goal), DSS_OK);
    assert_int_equal(dss_line_set(fx->line, DSS_LINE_REFINE, refine), DSS_OK);
    reset_counts(fx);
    assert_int_equal(dss_find_optimal(fx->line, fx->model, lo, hi, score_g, &fx->s, t, score),
                     DSS_OK);
}

static void refine_is_never_worse_than_the_grid_and_stays_near_its_best_cell(void **state)
{
    fixture *fx = *state;
    fx->s.kind = S_MULTI;
    static const size_t samples[] = { 2, 3, 6, 11, 21, 50 };
    for (int goal = 0; goal < 2; goal++) {
        for (size_t c = 0; c < sizeof samples / sizeof samples[0]; c++) {
            for (int dir = 0; dir < 2; dir++) {
                const double *lo = dir ? seg_hi : seg_lo, *hi = dir ? seg_lo : seg_hi;
                double tg, sg, tr, sr;
                size_t S = samples[c];
                run(fx, S, goal, 0, lo, hi, &tg, &sg);
                run(fx, S, goal, 1, lo, hi, &tr, &sr);
                int worse = goal == DSS_MAXIMIZE ? sr < sg : sr > sg;
                if (worse)
                    fail_msg("samples %zu goal %d: refined score %.17g worse than grid %.17g", S,
                             goal, sr, sg);
                /* The refinement works inside the bracket of the best grid point's neighbours. */
                double i = floor(tg * (double)(S - 1) + 0.5);
                double a = i > 0 ? (i - 1) / (double)(S - 1) : 0.0;
                double b = i < (double)(S - 1) ? (i + 1) / (double)(S - 1) : 1.0;
                if (!(tr >= a && tr <= b))
                    fail_msg("samples %zu goal %d: refined t %.17g outside [%.17g, %.17g]", S,
                             goal, tr, a, b);
                /* The score returned is the score of the t returned. */
                double z[N], x[M];
                for (size_t d = 0; d < N; d++)
                    z[d] = lo[d] + tr * (hi[d] - lo[d]);
                affine(z, x);
                assert_true(fabs(score_of(&fx->s, x) - sr) <= 1e-13);
            }
        }
    }
}

/* On the grid t = 0, 1/4, ..., 1 the broad peak's point (1.0) is the best and the narrow peak
   shows only as a lower local maximum at t = 3/4 (0.256). Refining the best point's bracket
   stays on the broad peak; refining the 3 best local maxima (DSS_LINE_REFINE = 2) finds the
   narrow one, 1.5 at t = 0.71. */
static void refine_2_refines_the_best_local_maxima_of_the_grid(void **state)
{
    fixture *fx = *state;
    const double lo[N] = { 0.0, 0.0 }, hi[N] = { 1.0, 0.0 };
    double t1, s1, t2, s2;
    fx->s.kind = S_NARROW;
    run(fx, 5, DSS_MAXIMIZE, 1, lo, hi, &t1, &s1);
    assert_true(fabs(t1 - 0.25) < 1e-3 && fabs(s1 - 1.0) < 1e-6);
    run(fx, 5, DSS_MAXIMIZE, 2, lo, hi, &t2, &s2);
    assert_true(fabs(t2 - 0.71) < 1e-3);
    assert_true(s2 > 1.5 - 1e-9);
    /* and, like REFINE = 1, never worse than the grid, on the many-peaked score too */
    fx->s.kind = S_MULTI;
    for (size_t S = 3; S <= 65; S = 2 * S - 1) {
        double tg, sg;
        run(fx, S, DSS_MAXIMIZE, 0, seg_lo, seg_hi, &tg, &sg);
        run(fx, S, DSS_MAXIMIZE, 1, seg_lo, seg_hi, &t1, &s1);
        run(fx, S, DSS_MAXIMIZE, 2, seg_lo, seg_hi, &t2, &s2);
        assert_true(s2 >= s1 && s1 >= sg);
        assert_true(t2 >= 0.0 && t2 <= 1.0);
    }
}

static void refine_finds_a_smooth_maximum_to_1e_6_with_few_evaluations(void **state)
{
    fixture *fx = *state;
    /* score = -(t - t*)^2 on the unit segment (x0 = t), t* between grid points. The bracket
       ends at most 1e-6 wide and holds t* (the score is unimodal and, at 1e-6 from t*, still
       differs from its maximum by 1e-12, far above rounding), so |t - t*| <= 1e-6.
       Cost: golden-section search shrinks the bracket [t* cell's neighbours] of width 0.2 by
       0.618 per evaluation, 0.2 * 0.618^n <= 1e-6 for n = 26; we allow 11 grid points plus
       twice that (63 evaluations), against the 10001 of the authors' grid, whose best point is
       up to 5e-5 away from t* (score -2.5e-9) where the refined one scores above -1e-12. */
    const double tstar = 0.31415926535897931;
    fx->s.kind = S_QUAD;
    fx->s.sign = -1.0;
    fx->s.target = tstar;
    double t, score, tf, sf;
    run(fx, 11, DSS_MAXIMIZE, 1, unit_lo, unit_hi, &t, &score);
    if (!(fabs(t - tstar) <= 1e-6))
        fail_msg("refined t %.17g, want %.17g within 1e-6", t, tstar);
    size_t evals = dss_line_evaluations(fx->line);
    assert_true(evals > 11);
    assert_true(evals <= 11 + 2 * 26);
    assert_int_equal(evals, fx->p.total_k);
    run(fx, 10001, DSS_MAXIMIZE, 0, unit_lo, unit_hi, &tf, &sf);
    assert_true(score >= sf);
}

static void refine_finds_a_smooth_minimum_too(void **state)
{
    fixture *fx = *state;
    const double tstar = 0.7071067811865476;
    fx->s.kind = S_QUAD;
    fx->s.sign = 1.0;
    fx->s.target = tstar;
    double t, score;
    run(fx, 11, DSS_MINIMIZE, 1, unit_lo, unit_hi, &t, &score);
    if (!(fabs(t - tstar) <= 1e-6))
        fail_msg("refined t %.17g, want %.17g within 1e-6", t, tstar);
    assert_true(score <= 1e-12);
    assert_true(dss_line_evaluations(fx->line) <= 11 + 2 * 26);
}

static void refine_at_an_end_of_the_segment_stays_in_the_unit_interval(void **state)
{
    fixture *fx = *state;
    double t, score;
    fx->s.kind = S_QUAD;
    fx->s.sign = -1.0;

    /* The optimum inside the first cell: the grid's best is t = 0, whose only neighbour is
       t = 0.1; the refinement must still find t* = 0.02 to 1e-6. The same at the other end. */
    fx->s.target = 0.02;
    run(fx, 11, DSS_MAXIMIZE, 1, unit_lo, unit_hi, &t, &score);
    assert_true(fabs(t - 0.02) <= 1e-6);
    fx->s.target = 0.98;
    run(fx, 11, DSS_MAXIMIZE, 1, unit_lo, unit_hi, &t, &score);
    assert_true(fabs(t - 0.98) <= 1e-6);

    /* The optimum beyond the segment: only the end itself scores the grid's best, so "never
       worse than the grid" leaves exactly t = 0 (or t = 1) with the end's score. */
    fx->s.target = -0.3;
    run(fx, 11, DSS_MAXIMIZE, 1, unit_lo, unit_hi, &t, &score);
    assert_true(t == 0.0);
    assert_true(score == score_of(&fx->s, unit_lo));
    fx->s.target = 1.4;
    run(fx, 11, DSS_MAXIMIZE, 1, unit_lo, unit_hi, &t, &score);
    assert_true(t == 1.0);
    assert_true(score == score_of(&fx->s, unit_hi));
}

static void refine_counts_its_points_and_respects_the_batch_limits(void **state)
{
    fixture *fx = *state;
    double t, score;
    fx->s.kind = S_MULTI;
    assert_int_equal(dss_model_set_max_batch(fx->model, 4), DSS_OK);
    run(fx, 21, DSS_MAXIMIZE, 1, seg_lo, seg_hi, &t, &score);
    assert_true(fx->p.max_k <= 4);
    assert_true(dss_line_evaluations(fx->line) > 21);
    assert_int_equal(dss_line_evaluations(fx->line), fx->p.total_k);
}

/* ---- errors ----------------------------------------------------------------------------------- */

static void expect_failure(fixture *fx, const double *lo, const double *hi, int want)
{
    double t = T_SENTINEL, score = S_SENTINEL;
    int rc = dss_find_optimal(fx->line, fx->model, lo, hi, score_g, &fx->s, &t, &score);
    if (rc != want)
        fail_msg("got status %d, want %d", rc, want);
    assert_true(t == T_SENTINEL);
    assert_true(score == S_SENTINEL);
}

static void nonfinite_scores_are_reported_without_writing_the_outputs(void **state)
{
    fixture *fx = *state;
    const double bad[] = { NAN, INFINITY, -INFINITY };
    fx->s.kind = S_MULTI;
    assert_int_equal(dss_line_set(fx->line, DSS_LINE_SAMPLES, 101), DSS_OK);
    assert_int_equal(dss_line_set(fx->line, DSS_LINE_BATCH, 10), DSS_OK);
    for (size_t b = 0; b < 3; b++) {
        for (int where = 0; where < 3; where++) {
            /* the first point, one in a middle batch, the last */
            static const size_t at[] = { 1, 57, 101 };
            reset_counts(fx);
            fx->s.bad_on_point = at[where];
            fx->s.bad_value = bad[b];
            expect_failure(fx, seg_lo, seg_hi, DSS_ENONFINITE);
        }
    }
}

static void a_nonfinite_score_during_refinement_is_reported(void **state)
{
    fixture *fx = *state;
    fx->s.kind = S_MULTI;
    /* x0 runs over [-0.5, 1.75] on seg: grid points of 9 samples have x0 = -0.5 + i * 2.25 / 8,
       all multiples of 1/32; a refinement point almost surely is not. */
    fx->s.bad_off_grid = 1;
    fx->s.bad_den = 32.0;
    assert_int_equal(dss_line_set(fx->line, DSS_LINE_SAMPLES, 9), DSS_OK);
    assert_int_equal(dss_line_set(fx->line, DSS_LINE_REFINE, 1), DSS_OK);
    expect_failure(fx, seg_lo, seg_hi, DSS_ENONFINITE);
}

static void a_failing_score_is_reported(void **state)
{
    fixture *fx = *state;
    fx->s.kind = S_MULTI;
    assert_int_equal(dss_line_set(fx->line, DSS_LINE_SAMPLES, 101), DSS_OK);
    assert_int_equal(dss_line_set(fx->line, DSS_LINE_BATCH, 10), DSS_OK);
    for (size_t call = 1; call <= 11; call += 5) {
        reset_counts(fx);
        fx->s.fail_on_call = call;
        expect_failure(fx, seg_lo, seg_hi, DSS_ECALLBACK);
    }
    /* during refinement: the grid scores 101 points in 11 calls */
    assert_int_equal(dss_line_set(fx->line, DSS_LINE_REFINE, 1), DSS_OK);
    reset_counts(fx);
    fx->s.fail_on_call = 12; /* the first call after the grid's 11 */
    expect_failure(fx, seg_lo, seg_hi, DSS_ECALLBACK);
}

static void a_failing_generator_is_reported(void **state)
{
    fixture *fx = *state;
    fx->s.kind = S_MULTI;
    assert_int_equal(dss_line_set(fx->line, DSS_LINE_SAMPLES, 101), DSS_OK);
    assert_int_equal(dss_line_set(fx->line, DSS_LINE_BATCH, 10), DSS_OK);
    for (size_t call = 1; call <= 11; call += 5) {
        reset_counts(fx);
        fx->p.fail_on_call = call;
        expect_failure(fx, seg_lo, seg_hi, DSS_ECALLBACK);
        assert_int_equal(fx->p.calls, call); /* aborted at once */
    }
    assert_int_equal(dss_line_set(fx->line, DSS_LINE_REFINE, 1), DSS_OK);
    reset_counts(fx);
    fx->p.fail_on_call = 12; /* the first call after the grid's 11 */
    expect_failure(fx, seg_lo, seg_hi, DSS_ECALLBACK);
}

static void a_nonfinite_generator_output_is_reported(void **state)
{
    fixture *fx = *state;
    /* The constant score hides the NaN from g: the library must catch it in f's output. */
    fx->s.kind = S_CONST;
    assert_int_equal(dss_line_set(fx->line, DSS_LINE_SAMPLES, 101), DSS_OK);
    assert_int_equal(dss_line_set(fx->line, DSS_LINE_BATCH, 10), DSS_OK);
    fx->p.bad_on_call = 4;
    expect_failure(fx, seg_lo, seg_hi, DSS_ENONFINITE);
}

static void nonfinite_segment_ends_are_rejected_without_calling_f(void **state)
{
    fixture *fx = *state;
    const double bad[] = { NAN, INFINITY, -INFINITY };
    fx->s.kind = S_MULTI;
    for (size_t b = 0; b < 3; b++) {
        for (size_t d = 0; d < N; d++) {
            double lo[N] = { seg_lo[0], seg_lo[1] }, hi[N] = { seg_hi[0], seg_hi[1] };
            lo[d] = bad[b];
            expect_failure(fx, lo, seg_hi, DSS_ENONFINITE);
            hi[d] = bad[b];
            expect_failure(fx, seg_lo, hi, DSS_ENONFINITE);
        }
    }
    assert_int_equal(fx->p.calls, 0);
    assert_int_equal(fx->s.calls, 0);
}

/* Finite ends whose difference overflows would send infinite points to f. */
static void segments_whose_length_overflows_are_rejected_without_calling_f(void **state)
{
    fixture *fx = *state;
    double lo[N] = { seg_lo[0], seg_lo[1] }, hi[N] = { seg_hi[0], seg_hi[1] };
    fx->s.kind = S_MULTI;
    lo[0] = -DBL_MAX;
    hi[0] = DBL_MAX;
    expect_failure(fx, lo, hi, DSS_ENONFINITE);
    assert_int_equal(fx->p.calls, 0);
    assert_int_equal(fx->s.calls, 0);
}

static void null_arguments_are_rejected(void **state)
{
    fixture *fx = *state;
    double t = T_SENTINEL, score = S_SENTINEL;
    fx->s.kind = S_MULTI;
    dss_line *L = fx->line;
    const dss_model *Mo = fx->model;
    void *u = &fx->s;
    assert_int_equal(dss_find_optimal(NULL, Mo, seg_lo, seg_hi, score_g, u, &t, &score), DSS_EINVAL);
    assert_int_equal(dss_find_optimal(L, NULL, seg_lo, seg_hi, score_g, u, &t, &score), DSS_EINVAL);
    assert_int_equal(dss_find_optimal(L, Mo, NULL, seg_hi, score_g, u, &t, &score), DSS_EINVAL);
    assert_int_equal(dss_find_optimal(L, Mo, seg_lo, NULL, score_g, u, &t, &score), DSS_EINVAL);
    assert_int_equal(dss_find_optimal(L, Mo, seg_lo, seg_hi, NULL, u, &t, &score), DSS_EINVAL);
    assert_int_equal(dss_find_optimal(L, Mo, seg_lo, seg_hi, score_g, u, NULL, &score), DSS_EINVAL);
    assert_true(t == T_SENTINEL);
    assert_true(score == S_SENTINEL);
    assert_int_equal(fx->p.calls, 0);
}

static void a_failure_leaves_the_handle_unchanged(void **state)
{
    fixture *fx = *state;
    double t, score, before[4];
    fx->s.kind = S_MULTI;
    assert_int_equal(dss_line_set(fx->line, DSS_LINE_SAMPLES, 17), DSS_OK);
    assert_int_equal(dss_find_optimal(fx->line, fx->model, seg_lo, seg_hi, score_g, &fx->s, &t,
                                      &score), DSS_OK);
    assert_int_equal(dss_line_evaluations(fx->line), 17);
    snapshot(fx->line, before);
    /* "the last successful find_optimal": a failed one does not count. */
    assert_int_equal(dss_line_set(fx->line, DSS_LINE_SAMPLES, 17), DSS_OK);
    fx->p.fail_on_call = fx->p.calls + 1;
    expect_failure(fx, seg_lo, seg_hi, DSS_ECALLBACK);
    assert_int_equal(dss_line_evaluations(fx->line), 17);
    assert_unchanged(fx->line, before);
    /* and the handle still works */
    double t2, s2;
    assert_int_equal(dss_find_optimal(fx->line, fx->model, seg_lo, seg_hi, score_g, &fx->s, &t2,
                                      &s2), DSS_OK);
    assert_true(t2 == t);
    assert_true(s2 == score);
}

/* ---- dss_search_find_optimal ------------------------------------------------------------------ */

static void start_search(fixture *fx)
{
    const double z0[N] = { 0.1, -0.2 };
    assert_int_equal(dss_search_set(fx->search, DSS_SEARCH_SEED, 7), DSS_OK);
    assert_int_equal(dss_search_start(fx->search, z0), DSS_OK);
}

static void search_find_optimal_equals_find_optimal_on_the_slider_ends(void **state)
{
    fixture *fx = *state;
    double lo[N], hi[N];
    fx->s.kind = S_MULTI;
    start_search(fx);
    assert_int_equal(dss_search_slider_ends(fx->search, lo, hi), DSS_OK);
    for (int refine = 0; refine < 2; refine++) {
        for (int goal = 0; goal < 2; goal++) {
            double t1, s1, t2, s2;
            run(fx, 101, goal, refine, lo, hi, &t1, &s1);
            size_t e1 = dss_line_evaluations(fx->line);
            assert_int_equal(dss_search_find_optimal(fx->line, fx->search, score_g, &fx->s, &t2,
                                                     &s2), DSS_OK);
            /* The same segment: the same t and score. If the library rebuilt the ends with
               another formula they may differ by an ulp of |z| (< 4), and S_MULTI's Lipschitz
               constant is below 15 per unit of z: 1e-13 bounds the score difference. */
            if (t1 != t2)
                fail_msg("refine %d goal %d: search gives t = %.17g, segment t = %.17g", refine,
                         goal, t2, t1);
            assert_true(fabs(s1 - s2) <= 1e-13);
            assert_int_equal(dss_line_evaluations(fx->line), e1);
        }
    }
}

static void search_find_optimal_does_not_change_the_session(void **state)
{
    fixture *fx = *state;
    support_snapshot before;
    double t, score;
    fx->s.kind = S_MULTI;
    start_search(fx);
    assert_int_equal(support_snapshot_take(fx->search, N, &before), 0);
    assert_int_equal(dss_line_set(fx->line, DSS_LINE_SAMPLES, 101), DSS_OK);
    assert_int_equal(dss_search_find_optimal(fx->line, fx->search, score_g, &fx->s, &t, &score),
                     DSS_OK);
    int same = support_snapshot_matches(fx->search, N, &before);
    support_snapshot_free(&before);
    assert_true(same);
}

static void search_find_optimal_needs_a_started_search(void **state)
{
    fixture *fx = *state;
    double t = T_SENTINEL, score = S_SENTINEL;
    fx->s.kind = S_MULTI;
    assert_int_equal(dss_search_find_optimal(fx->line, fx->search, score_g, &fx->s, &t, &score),
                     DSS_ESTATE);
    assert_true(t == T_SENTINEL);
    assert_true(score == S_SENTINEL);
    assert_int_equal(fx->p.calls, 0);
}

static void search_find_optimal_rejects_null_arguments(void **state)
{
    fixture *fx = *state;
    double t = T_SENTINEL, score = S_SENTINEL;
    fx->s.kind = S_MULTI;
    start_search(fx);
    reset_counts(fx);
    assert_int_equal(dss_search_find_optimal(NULL, fx->search, score_g, &fx->s, &t, &score),
                     DSS_EINVAL);
    assert_int_equal(dss_search_find_optimal(fx->line, NULL, score_g, &fx->s, &t, &score),
                     DSS_EINVAL);
    assert_int_equal(dss_search_find_optimal(fx->line, fx->search, NULL, &fx->s, &t, &score),
                     DSS_EINVAL);
    assert_int_equal(dss_search_find_optimal(fx->line, fx->search, score_g, &fx->s, NULL, &score),
                     DSS_EINVAL);
    assert_true(t == T_SENTINEL);
    assert_true(score == S_SENTINEL);
    assert_int_equal(fx->p.calls, 0);
}

static void search_find_optimal_reports_callback_failures(void **state)
{
    fixture *fx = *state;
    double t = T_SENTINEL, score = S_SENTINEL;
    fx->s.kind = S_MULTI;
    start_search(fx);
    assert_int_equal(dss_line_set(fx->line, DSS_LINE_SAMPLES, 101), DSS_OK);
    fx->s.fail_on_call = 1;
    fx->s.calls = 0;
    assert_int_equal(dss_search_find_optimal(fx->line, fx->search, score_g, &fx->s, &t, &score),
                     DSS_ECALLBACK);
    fx->s.fail_on_call = 0;
    fx->s.bad_on_point = fx->s.points + 5;
    fx->s.bad_value = NAN;
    assert_int_equal(dss_search_find_optimal(fx->line, fx->search, score_g, &fx->s, &t, &score),
                     DSS_ENONFINITE);
    assert_true(t == T_SENTINEL);
    assert_true(score == S_SENTINEL);
}

/* Issue 8, bug 6: a score that calls back into the line search running it. Every call that
   would change the line (another search on it, which rewrites its buffers; a parameter; the
   progress callback) returns DSS_EBUSY, and the outer search ends as if nothing happened. */
typedef struct reentrant {
    scorer s;
    fixture *fx;
    int tried;
    int rc[5];
} reentrant;

static int reentrant_g(void *user, size_t k, const double *x, double *score)
{
    reentrant *r = user;
    if (!r->tried) {
        static const double lo[N] = { 0.0, 0.0 }, hi[N] = { 1.0, 0.0 };
        double t = -1.0, v = -1.0;
        r->tried = 1;
        r->rc[0] = dss_find_optimal(r->fx->line, r->fx->model, lo, hi, score_g, &r->s, &t, &v);
        r->rc[1] = dss_search_find_optimal(r->fx->line, r->fx->search, score_g, &r->s, &t, &v);
        r->rc[2] = dss_line_set(r->fx->line, DSS_LINE_SAMPLES, 3);
        r->rc[3] = dss_line_set_progress(r->fx->line, NULL, NULL);
        r->rc[4] = dss_line_get(r->fx->line, DSS_LINE_SAMPLES, &v) == DSS_OK && v == 101 ? 0 : -1;
    }
    return score_g(&r->s, k, x, score);
}

static void a_line_search_reentered_from_its_own_callback_returns_ebusy(void **state)
{
    fixture *fx = *state;
    static const double lo[N] = { -1.0, 0.5 }, hi[N] = { 2.0, -0.25 };
    reentrant r = { .fx = fx };
    double t = -1.0, score = -1.0, t_ref = -2.0, score_ref = -2.0;
    r.s.sign = 1.0;
    assert_int_equal(dss_search_start(fx->search, lo), DSS_OK);
    assert_int_equal(dss_line_set(fx->line, DSS_LINE_SAMPLES, 101), DSS_OK);
    assert_int_equal(dss_line_set(fx->line, DSS_LINE_BATCH, 7), DSS_OK);
    assert_int_equal(dss_find_optimal(fx->line, fx->model, lo, hi, reentrant_g, &r, &t, &score),
                     DSS_OK);
    assert_true(r.tried);
    for (int i = 0; i < 4; i++)
        if (r.rc[i] != DSS_EBUSY)
            fail_msg("nested call %d returned %d, expected DSS_EBUSY", i, r.rc[i]);
    assert_int_equal(r.rc[4], 0); /* reading is allowed, and saw the parameters in force */
    assert_int_equal(dss_line_evaluations(fx->line), 101);
    assert_int_equal(dss_find_optimal(fx->line, fx->model, lo, hi, score_g, &fx->s, &t_ref,
                                      &score_ref), DSS_OK);
    assert_true(t == t_ref && score == score_ref);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(create_rejects_a_null_out_pointer),
        T(create_gives_the_authors_defaults),
        T(a_line_search_reentered_from_its_own_callback_returns_ebusy),
        T(evaluations_are_zero_before_the_first_search_and_for_null),
        T(destroy_of_null_is_a_no_op),
        T(set_stores_valid_values),
        T(set_rejects_fewer_than_two_samples),
        T(set_rejects_non_integer_values),
        T(set_rejects_a_batch_below_one),
        T(set_rejects_goal_and_refine_out_of_range),
        T(set_rejects_nan_and_infinities),
        T(set_rejects_counts_too_large_for_the_address_space),
        T(set_and_get_reject_an_unknown_parameter),
        T(set_and_get_reject_null_pointers),
        T(grid_search_finds_the_brute_force_maximum),
        T(grid_search_finds_the_brute_force_minimum),
        T(grid_search_with_the_default_samples_matches_the_brute_force),
        T(grid_ties_go_to_the_lowest_index),
        T(grid_with_two_samples_scores_only_the_ends),
        T(grid_evaluates_every_grid_point_exactly_once),
        T(score_best_may_be_null),
        T(default_batches_hold_500_points),
        T(batches_never_exceed_the_line_batch),
        T(batches_are_also_capped_by_the_model_max_batch),
        T(evaluations_equal_the_samples_without_refine),
        T(refine_is_never_worse_than_the_grid_and_stays_near_its_best_cell),
        T(refine_finds_a_smooth_maximum_to_1e_6_with_few_evaluations),
        T(refine_2_refines_the_best_local_maxima_of_the_grid),
        T(refine_finds_a_smooth_minimum_too),
        T(refine_at_an_end_of_the_segment_stays_in_the_unit_interval),
        T(refine_counts_its_points_and_respects_the_batch_limits),
        T(nonfinite_scores_are_reported_without_writing_the_outputs),
        T(a_nonfinite_score_during_refinement_is_reported),
        T(a_failing_score_is_reported),
        T(a_failing_generator_is_reported),
        T(a_nonfinite_generator_output_is_reported),
        T(nonfinite_segment_ends_are_rejected_without_calling_f),
        T(segments_whose_length_overflows_are_rejected_without_calling_f),
        T(null_arguments_are_rejected),
        T(a_failure_leaves_the_handle_unchanged),
        T(search_find_optimal_equals_find_optimal_on_the_slider_ends),
        T(search_find_optimal_does_not_change_the_session),
        T(search_find_optimal_needs_a_started_search),
        T(search_find_optimal_rejects_null_arguments),
        T(search_find_optimal_reports_callback_failures),
    };
    return support_leak_exit(cmocka_run_group_tests_name("line", tests, NULL, NULL));
}
