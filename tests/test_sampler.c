/*
 * How subspaces are drawn, seen through the public API: the importance-sampling law
 * p_i ~ s_i + 1e-6 (chi-square goodness of fit over many seeded starts), sampling without
 * replacement and its reset, the TOP sampler's order, the RANDOM baseline, and orthonormal bases
 * for l > 1.
 *
 * Statistical tests use fixed seeds (deterministic) and reject at p < 1e-4: a correct library
 * fails one of them with probability 1e-4 per test before the seeds are fixed, and never after.
 * The sample sizes are chosen so that the plausible wrong laws (uniform, p ~ s^2, p ~ s without
 * the 1e-6, with replacement) give statistics far beyond the critical values.
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

#define NMAX 8
#define P_REJECT 1e-4 /* reject a goodness-of-fit test when its p-value is below this */

typedef struct fixture {
    lin_model  *lm;
    dss_model  *model;
    dss_search *search;
    double      z0[NMAX];
} fixture;

static void fixture_clear(fixture *fx)
{
    dss_search_destroy(fx->search);
    dss_model_destroy(fx->model);
    lin_destroy(fx->lm);
    memset(fx, 0, sizeof *fx);
}

/* lm (m x n, singular values s or r, r-1, ..., 1) with a Jacobian callback, a search on it and a
 * start point z0. Returns 0 or -1. */
static int fixture_make(fixture *fx, size_t m, size_t n, const double *s)
{
    fixture_clear(fx);
    if (n > NMAX)
        return -1;
    fx->lm = lin_create(m, n, s, 77 * m + n);
    if (!fx->lm || lin_dss_model(fx->lm, LIN_WITH_JACOBIAN, &fx->model) != DSS_OK
        || dss_search_create(&fx->search, fx->model) != DSS_OK)
        return -1;
    support_rng r;
    support_rng_seed(&r, 5);
    support_fill_uniform(&r, fx->z0, n, -1.0, 1.0);
    return 0;
}

static void rebuild(fixture *fx, size_t m, size_t n, const double *s)
{
    assert_int_equal(fixture_make(fx, m, n, s), 0);
}

/* Default handles: a 6 x 4 model with singular values 4, 3, 2, 1. */
static int setup(void **state)
{
    fixture *fx = calloc(1, sizeof *fx);
    if (!fx)
        return -1;
    *state = fx;
    return fixture_make(fx, 6, 4, NULL);
}

static int teardown(void **state)
{
    fixture *fx = *state;
    fixture_clear(fx);
    free(fx);
    return 0;
}

/* Entry tolerance between a basis row and v_i up to sign: the exact-Jacobian SVD bound of
 * test_decompose.c (32 max(m, n) eps s_1 on ||E||_2) over the smallest gap between the
 * singular values used in this file, with a factor 4 for the sin-theta-to-entries step. */
static double vec_tol(const lin_model *lm, double gap)
{
    double e = 32.0 * (double)(lm->m > lm->n ? lm->m : lm->n) * DBL_EPSILON * lm->s[0];
    return 4.0 * e / gap;
}

/* The l basis rows and their indices; each row is checked to be +-v_idx. */
static void current_indices(const fixture *fx, size_t l, size_t *idx, double gap)
{
    double b[NMAX * NMAX], v[NMAX];
    size_t n = fx->lm->n;
    assert_int_equal(dss_search_subspace_dim(fx->search), l);
    assert_int_equal(dss_search_basis(fx->search, b), DSS_OK);
    assert_int_equal(dss_search_basis_indices(fx->search, idx), DSS_OK);
    for (size_t i = 0; i < l; i++) {
        assert_true(idx[i] < fx->lm->r);
        lin_right_vector(fx->lm, idx[i], v);
        double d = support_sign_diff(b + i * n, v, n);
        if (!(d <= vec_tol(fx->lm, gap)))
            fail_msg("basis row %zu is %.3g away from v_%zu", i, d, idx[i]);
    }
}

/* The single index of an l = 1 basis. */
static size_t current_index(const fixture *fx, double gap)
{
    size_t idx;
    current_indices(fx, 1, &idx, gap);
    return idx;
}

/* Start the session afresh with a seed. */
static void start_with_seed(fixture *fx, double seed)
{
    assert_int_equal(dss_search_set(fx->search, DSS_SEARCH_SEED, seed), DSS_OK);
    assert_int_equal(dss_search_start(fx->search, fx->z0), DSS_OK);
}

/* Assert that a chi-square statistic with df degrees of freedom is not significant at P_REJECT. */
static void assert_fits(const char *what, const size_t *observed, const double *p, size_t cells,
                        double df)
{
    double stat = support_chi_square(observed, p, cells);
    double pval = support_chi_square_sf(stat, df);
    if (!(pval >= P_REJECT))
        fail_msg("%s: chi-square %.2f with %.0f degrees of freedom, p = %.3g < %g", what, stat, df,
                 pval, P_REJECT);
}

/* p_i = (s_i + 1e-6) / sum_j (s_j + 1e-6) over the indices with avail[i] (NULL: all). */
static void law(const double *s, size_t r, const int *avail, double *p)
{
    double total = 0.0;
    for (size_t i = 0; i < r; i++)
        total += (!avail || avail[i]) ? s[i] + 1e-6 : 0.0;
    for (size_t i = 0; i < r; i++)
        p[i] = (!avail || avail[i]) ? (s[i] + 1e-6) / total : 0.0;
}

/* ---- the importance-sampling law ------------------------------------------------------------- */

/*
 * 2000 starts with seeds 0..1999 on singular values 4, 3, 2, 1. First draw: 4 cells, 3 degrees of
 * freedom (critical value at p = 1e-4: 21.11). Second draw (one resample) given the first index f
 * for f = 0 and f = 1 (about 800 and 600 cases): 3 cells over j != f, 2 degrees of freedom
 * (critical value 18.42). Ordered pairs (first, second): 12 cells, 11 degrees of freedom
 * (critical value 37.37), p(i, j) = p_i p_j / (1 - p_i).
 * Under p ~ s^2 the first-draw statistic is about 700, under the uniform law about 400.
 */
static void singular_sampler_first_and_second_draws_follow_s_plus_1e6(void **state)
{
    fixture *fx = *state;
    enum { R = 4, TRIALS = 2000 };
    size_t first[R] = {0}, pair[R][R] = {{0}};
    for (size_t t = 0; t < TRIALS; t++) {
        start_with_seed(fx, (double)t);
        size_t a = current_index(fx, 1.0);
        assert_int_equal(dss_search_resample(fx->search), DSS_OK);
        size_t b = current_index(fx, 1.0);
        assert_true(a != b);
        first[a]++;
        pair[a][b]++;
    }
    double p[R];
    law(fx->lm->s, R, NULL, p);
    assert_fits("first draw", first, p, R, R - 1);

    for (size_t f = 0; f < 2; f++) {
        int avail[R] = {1, 1, 1, 1};
        double q[R];
        avail[f] = 0;
        law(fx->lm->s, R, avail, q);
        assert_fits(f == 0 ? "second draw given first 0" : "second draw given first 1", pair[f], q,
                    R, R - 2);
    }

    size_t obs[R * R];
    double pp[R * R];
    for (size_t i = 0; i < R; i++) {
        for (size_t j = 0; j < R; j++) {
            obs[i * R + j] = pair[i][j];
            pp[i * R + j] = i == j ? 0.0 : p[i] * p[j] / (1.0 - p[i]);
        }
    }
    assert_fits("ordered pairs", obs, pp, R * R, R * (R - 1) - 1);
}

/*
 * The 1e-6 is added to every singular value: with s = (3, 2, 1) * 1e-6 the law is (4, 3, 2) / 9,
 * not (3, 2, 1) / 6. 4000 starts, 3 cells, 2 degrees of freedom (critical value 18.42 at
 * p = 1e-4); the law without the 1e-6 would give a statistic near 85.
 */
static void singular_sampler_adds_1e6_to_every_singular_value(void **state)
{
    fixture *fx = *state;
    const double s[3] = {3e-6, 2e-6, 1e-6};
    enum { TRIALS = 4000 };
    size_t count[3] = {0};
    rebuild(fx, 3, 3, s);
    for (size_t t = 0; t < TRIALS; t++) {
        start_with_seed(fx, (double)t + 1e6);
        count[current_index(fx, 1e-6)]++;
    }
    const double p[3] = {4.0 / 9.0, 3.0 / 9.0, 2.0 / 9.0};
    assert_fits("first draw with tiny singular values", count, p, 3, 2);
}

/*
 * l = 2: the two indices of a subspace are drawn one after another without replacement, so the
 * unordered pair {i, j} has probability p_i p_j / (1 - p_i) + p_j p_i / (1 - p_j). 2000 starts,
 * 6 cells, 5 degrees of freedom (critical value 25.74 at p = 1e-4).
 */
static void two_dimensional_subspaces_follow_the_sequential_law(void **state)
{
    fixture *fx = *state;
    enum { R = 4, TRIALS = 2000 };
    size_t count[R * R] = {0};
    double p[R], pp[R * R] = {0};
    assert_int_equal(dss_search_set(fx->search, DSS_SEARCH_SUBSPACE_DIM, 2), DSS_OK);
    for (size_t t = 0; t < TRIALS; t++) {
        size_t idx[2];
        start_with_seed(fx, (double)t + 5000);
        current_indices(fx, 2, idx, 1.0);
        assert_true(idx[0] != idx[1]);
        size_t lo = idx[0] < idx[1] ? idx[0] : idx[1], hi = idx[0] ^ idx[1] ^ lo;
        count[lo * R + hi]++;
    }
    law(fx->lm->s, R, NULL, p);
    for (size_t i = 0; i < R; i++) {
        for (size_t j = i + 1; j < R; j++)
            pp[i * R + j] = p[i] * p[j] / (1.0 - p[i]) + p[j] * p[i] / (1.0 - p[j]);
    }
    assert_fits("unordered pairs", count, pp, R * R, 5);
}

/* ---- without replacement --------------------------------------------------------------------- */

/* Rank 4, l = 1: every block of 4 successive draws (start + resamples) is a permutation of
 * 0..3, for 30 seeds and 3 blocks. */
static void resamples_draw_every_index_once_before_any_repeats(void **state)
{
    fixture *fx = *state;
    for (int seed = 0; seed < 30; seed++) {
        start_with_seed(fx, seed);
        for (int block = 0; block < 3; block++) {
            int seen[4] = {0};
            for (int k = 0; k < 4; k++) {
                if (block > 0 || k > 0)
                    assert_int_equal(dss_search_resample(fx->search), DSS_OK);
                size_t i = current_index(fx, 1.0);
                if (seen[i])
                    fail_msg("seed %d block %d: index %zu drawn twice", seed, block, i);
                seen[i] = 1;
            }
        }
    }
}

/*
 * After the r-th draw all indices are available again: the (r+1)-th draw follows the full law
 * (chi-square over 1000 seeds, 4 cells, 3 degrees of freedom, critical value 21.11 at p = 1e-4),
 * and in particular it can repeat the r-th draw.
 */
static void draw_after_the_last_index_starts_over_with_the_full_law(void **state)
{
    fixture *fx = *state;
    enum { TRIALS = 1000 };
    size_t count[4] = {0}, repeats = 0;
    for (size_t t = 0; t < TRIALS; t++) {
        size_t last = 0;
        start_with_seed(fx, (double)t + 20000);
        for (int k = 0; k < 3; k++)
            assert_int_equal(dss_search_resample(fx->search), DSS_OK);
        last = current_index(fx, 1.0);
        assert_int_equal(dss_search_resample(fx->search), DSS_OK);
        size_t next = current_index(fx, 1.0);
        count[next]++;
        repeats += next == last;
    }
    double p[4];
    law(fx->lm->s, 4, NULL, p);
    assert_fits("draw after a full cycle", count, p, 4, 3);
    assert_true(repeats > 0);
}

/*
 * Rank 5, l = 2: two disjoint pairs leave one index; fewer than l remain, so all five become
 * available before the third pair is drawn. That pair is sometimes free of the left-over index
 * (an implementation that first takes the left-over would always include it) and sometimes holds
 * it; the fourth pair is disjoint from the third.
 */
static void fewer_than_l_remaining_makes_all_available_before_drawing(void **state)
{
    fixture *fx = *state;
    size_t with_leftover = 0, without_leftover = 0;
    rebuild(fx, 7, 5, NULL);
    assert_int_equal(dss_search_set(fx->search, DSS_SEARCH_SUBSPACE_DIM, 2), DSS_OK);
    for (int seed = 0; seed < 200; seed++) {
        size_t a[2], b[2], c[2], d[2];
        start_with_seed(fx, seed);
        current_indices(fx, 2, a, 1.0);
        assert_int_equal(dss_search_resample(fx->search), DSS_OK);
        current_indices(fx, 2, b, 1.0);
        assert_int_equal(dss_search_resample(fx->search), DSS_OK);
        current_indices(fx, 2, c, 1.0);
        assert_int_equal(dss_search_resample(fx->search), DSS_OK);
        current_indices(fx, 2, d, 1.0);
        int used[5] = {0};
        used[a[0]]++, used[a[1]]++, used[b[0]]++, used[b[1]]++;
        size_t leftover = 5;
        for (size_t i = 0; i < 5; i++) {
            assert_true(used[i] <= 1);
            if (!used[i])
                leftover = i;
        }
        assert_true(leftover < 5);
        assert_true(c[0] != c[1] && d[0] != d[1]);
        assert_true(c[0] != d[0] && c[0] != d[1] && c[1] != d[0] && c[1] != d[1]);
        if (c[0] == leftover || c[1] == leftover)
            with_leftover++;
        else
            without_leftover++;
    }
    assert_true(without_leftover > 0);
    assert_true(with_leftover > 0);
}

/* Near-centre commits draw from the remaining indices like resample does. */
static void near_center_commits_also_draw_without_replacement(void **state)
{
    fixture *fx = *state;
    for (int seed = 0; seed < 20; seed++) {
        int seen[4] = {0};
        start_with_seed(fx, seed);
        seen[current_index(fx, 1.0)]++;
        assert_int_equal(dss_search_commit(fx->search, 0.5), DSS_OK);
        seen[current_index(fx, 1.0)]++;
        assert_int_equal(dss_search_resample(fx->search), DSS_OK);
        seen[current_index(fx, 1.0)]++;
        assert_int_equal(dss_search_commit(fx->search, 0.52), DSS_OK);
        seen[current_index(fx, 1.0)]++;
        for (int i = 0; i < 4; i++)
            assert_int_equal(seen[i], 1);
    }
}

/* ---- TOP ------------------------------------------------------------------------------------- */

static void top_sampler_proposes_indices_in_descending_order_and_cycles(void **state)
{
    fixture *fx = *state;
    size_t seq[2][10];
    assert_int_equal(dss_search_set(fx->search, DSS_SEARCH_SAMPLER, DSS_SAMPLER_TOP), DSS_OK);
    for (int run = 0; run < 2; run++) {
        start_with_seed(fx, run == 0 ? 0 : 987654321); /* the seed does not matter */
        for (size_t k = 0; k < 10; k++) {
            if (k > 0)
                assert_int_equal(dss_search_resample(fx->search), DSS_OK);
            seq[run][k] = current_index(fx, 1.0);
            assert_int_equal(seq[run][k], k % 4);
        }
    }
    assert_memory_equal(seq[0], seq[1], sizeof seq[0]);
}

/* Rank 5, l = 2: {0, 1}, {2, 3}, then only index 4 is left (fewer than l), so all return:
 * {0, 1}, {2, 3} again. */
static void top_sampler_with_l_2_takes_consecutive_pairs_and_starts_over(void **state)
{
    fixture *fx = *state;
    rebuild(fx, 7, 5, NULL);
    assert_int_equal(dss_search_set(fx->search, DSS_SEARCH_SAMPLER, DSS_SAMPLER_TOP), DSS_OK);
    assert_int_equal(dss_search_set(fx->search, DSS_SEARCH_SUBSPACE_DIM, 2), DSS_OK);
    start_with_seed(fx, 3);
    for (size_t k = 0; k < 5; k++) {
        size_t idx[2];
        if (k > 0)
            assert_int_equal(dss_search_resample(fx->search), DSS_OK);
        current_indices(fx, 2, idx, 1.0);
        size_t lo = idx[0] < idx[1] ? idx[0] : idx[1], hi = idx[0] ^ idx[1] ^ lo;
        assert_int_equal(lo, (k % 2) * 2);
        assert_int_equal(hi, (k % 2) * 2 + 1);
    }
}

/* ---- bases with l > 1 and the RANDOM baseline ------------------------------------------------ */

/*
 * Orthonormality tolerance: rows taken from LAPACK's V are orthonormal to O(n eps); RANDOM rows
 * come from orthonormalising Gaussian vectors (O(n eps) for Householder QR or Gram-Schmidt done
 * twice). 64 n eps leaves a wide margin.
 */
static void basis_rows_are_orthonormal_for_every_sampler_with_l_3(void **state)
{
    fixture *fx = *state;
    const int samplers[3] = {DSS_SAMPLER_SINGULAR, DSS_SAMPLER_TOP, DSS_SAMPLER_RANDOM};
    double b[3 * 6];
    rebuild(fx, 8, 6, NULL);
    double tol = 64.0 * 6 * DBL_EPSILON;
    assert_int_equal(dss_search_set(fx->search, DSS_SEARCH_SUBSPACE_DIM, 3), DSS_OK);
    for (int k = 0; k < 3; k++) {
        assert_int_equal(dss_search_set(fx->search, DSS_SEARCH_SAMPLER, samplers[k]), DSS_OK);
        start_with_seed(fx, 40 + k);
        for (int draw = 0; draw < 12; draw++) {
            if (draw > 0)
                assert_int_equal(dss_search_resample(fx->search), DSS_OK);
            assert_int_equal(dss_search_subspace_dim(fx->search), 3);
            assert_int_equal(dss_search_basis(fx->search, b), DSS_OK);
            double err = support_orthonormality_error(b, 3, 6);
            if (!(err <= tol))
                fail_msg("sampler %d draw %d: |B B^T - I| = %.3g", samplers[k], draw, err);
            if (samplers[k] != DSS_SAMPLER_RANDOM) {
                size_t idx[3];
                current_indices(fx, 3, idx, 1.0);
                assert_true(idx[0] != idx[1] && idx[0] != idx[2] && idx[1] != idx[2]);
            }
        }
    }
}

static void random_sampler_gives_unit_vectors_without_singular_index(void **state)
{
    fixture *fx = *state;
    double b[2 * 4];
    size_t idx[2];
    assert_int_equal(dss_search_set(fx->search, DSS_SEARCH_SAMPLER, DSS_SAMPLER_RANDOM), DSS_OK);
    start_with_seed(fx, 8);
    for (int draw = 0; draw < 10; draw++) {
        assert_int_equal(dss_search_basis(fx->search, b), DSS_OK);
        assert_true(fabs(support_norm2(b, 4) - 1.0) <= 16 * 4 * DBL_EPSILON);
        assert_int_equal(dss_search_basis_indices(fx->search, idx), DSS_OK);
        assert_true(idx[0] == (size_t)-1);
        assert_int_equal(dss_search_resample(fx->search), DSS_OK);
    }
    assert_int_equal(dss_search_set(fx->search, DSS_SEARCH_SUBSPACE_DIM, 2), DSS_OK);
    assert_int_equal(dss_search_resample(fx->search), DSS_OK);
    assert_int_equal(dss_search_basis_indices(fx->search, idx), DSS_OK);
    assert_true(idx[0] == (size_t)-1 && idx[1] == (size_t)-1);
}

/*
 * Uniform unit directions in R^n have E[b] = 0 and E[b b^T] = I / n. Over N = 4000 draws in n = 4:
 * the mean of b_j has standard deviation sqrt(1/(n N)) = 0.0079; the mean of b_j^2 has
 * sd sqrt((3/(n(n+2)) - 1/n^2) / N) = 0.0040; the mean of b_i b_j (i != j) has sd
 * sqrt(1/(n(n+2)) / N) = 0.0032. Each is checked within 5 sd (two-sided p < 6e-7 each). The
 * authors' rand(n) directions (positive components only) have E[b_j] near 0.48 and fail.
 */
static void random_sampler_directions_are_isotropic(void **state)
{
    fixture *fx = *state;
    enum { N = 4000, DIM = 4 };
    double mean[DIM] = {0}, second[DIM][DIM] = {{0}}, b[DIM];
    assert_int_equal(dss_search_set(fx->search, DSS_SEARCH_SAMPLER, DSS_SAMPLER_RANDOM), DSS_OK);
    start_with_seed(fx, 9);
    for (int t = 0; t < N; t++) {
        if (t > 0)
            assert_int_equal(dss_search_resample(fx->search), DSS_OK);
        assert_int_equal(dss_search_basis(fx->search, b), DSS_OK);
        for (int i = 0; i < DIM; i++) {
            mean[i] += b[i] / N;
            for (int j = 0; j < DIM; j++)
                second[i][j] += b[i] * b[j] / N;
        }
    }
    double n = DIM;
    double sd_mean = sqrt(1.0 / (n * N));
    double sd_sq = sqrt((3.0 / (n * (n + 2)) - 1.0 / (n * n)) / N);
    double sd_cross = sqrt(1.0 / (n * (n + 2)) / N);
    for (int i = 0; i < DIM; i++) {
        if (fabs(mean[i]) > 5 * sd_mean)
            fail_msg("E[b_%d] = %.4f", i, mean[i]);
        for (int j = 0; j < DIM; j++) {
            double expect = i == j ? 1.0 / n : 0.0, sd = i == j ? sd_sq : sd_cross;
            if (fabs(second[i][j] - expect) > 5 * sd)
                fail_msg("E[b_%d b_%d] = %.4f, expected %.4f", i, j, second[i][j], expect);
        }
    }
}

/* ---- the subspace dimension ------------------------------------------------------------------- */

static void subspace_dim_change_takes_effect_at_the_next_draw(void **state)
{
    fixture *fx = *state;
    size_t idx[3];
    start_with_seed(fx, 1);
    assert_int_equal(dss_search_subspace_dim(fx->search), 1);
    assert_int_equal(dss_search_set(fx->search, DSS_SEARCH_SUBSPACE_DIM, 3), DSS_OK);
    assert_int_equal(dss_search_subspace_dim(fx->search), 1); /* not drawn yet */
    current_indices(fx, 1, idx, 1.0);
    assert_int_equal(dss_search_resample(fx->search), DSS_OK);
    current_indices(fx, 3, idx, 1.0);
    assert_int_equal(dss_search_set(fx->search, DSS_SEARCH_SUBSPACE_DIM, 2), DSS_OK);
    assert_int_equal(dss_search_subspace_dim(fx->search), 3);
    assert_int_equal(dss_search_commit(fx->search, 0.5), DSS_OK);
    current_indices(fx, 2, idx, 1.0);
}

/* ---- DSS_SEARCH_KEEP_SHOWN: a linear generator's directions, each once ---------------------- */

enum { KN = 5, KM = 9 };

/* The basis index shown after start and after each of `commits` far commits (each recomputes the
   Jacobian, which a linear model keeps as it was). */
static void shown_indices(int mode, int keep, uint64_t seed, size_t commits, size_t *idx)
{
    lin_model *lm = lin_create(KM, KN, NULL, 91);
    dss_model *model;
    dss_search *s;
    double z0[KN] = { 0 };
    assert_non_null(lm);
    assert_int_equal(lin_dss_model(lm, mode == DSS_JACOBIAN_FULL ? LIN_WITH_JACOBIAN : 0, &model),
                     DSS_OK);
    assert_int_equal(dss_search_create(&s, model), DSS_OK);
    assert_int_equal(dss_search_set(s, DSS_SEARCH_JACOBIAN, mode), DSS_OK);
    assert_int_equal(dss_search_set(s, DSS_SEARCH_KEEP_SHOWN, keep), DSS_OK);
    assert_int_equal(dss_search_set(s, DSS_SEARCH_SEED, (double)seed), DSS_OK);
    assert_int_equal(dss_search_start(s, z0), DSS_OK);
    for (size_t c = 0; c <= commits; c++) {
        if (c > 0)
            assert_int_equal(dss_search_commit(s, 0.95), DSS_OK);
        assert_int_equal(dss_search_basis_indices(s, &idx[c]), DSS_OK);
    }
    dss_search_destroy(s);
    dss_model_destroy(model);
    lin_destroy(lm);
}

static int all_distinct(const size_t *idx, size_t count)
{
    for (size_t i = 0; i < count; i++)
        for (size_t j = i + 1; j < count; j++)
            if (idx[i] == idx[j])
                return 0;
    return 1;
}

/* With KEEP_SHOWN, the first KN directions shown are the KN distinct ones, then all return (the
   sampler's reset), for the exact Jacobian and for finite differences (equal spectra within
   1e-6 s_1); with the paper's rule (0) directions recur before all were shown: over 20 seeds
   at least 15 sessions show a repeat in their first 5 (with s = 5, 4, 3, 2, 1 the chance of 5
   distinct draws, each from all 5 again, is below 0.05 per seed; P(more than 5 of 20 seeds
   without a repeat) < 1e-3 by the binomial tail). */
static void keep_shown_shows_each_direction_once(void **state)
{
    size_t idx[2 * KN];
    int with_repeat = 0;
    (void)state;
    for (uint64_t seed = 1; seed <= 20; seed++) {
        shown_indices(DSS_JACOBIAN_FULL, 1, seed, 2 * KN - 1, idx);
        assert_true(all_distinct(idx, KN));
        assert_true(all_distinct(idx + KN, KN)); /* the second round, after the reset */
        shown_indices(DSS_JACOBIAN_FINITE_DIFF, 1, seed, KN - 1, idx);
        assert_true(all_distinct(idx, KN));
        shown_indices(DSS_JACOBIAN_FULL, 0, seed, KN - 1, idx);
        with_repeat += !all_distinct(idx, KN);
    }
    if (with_repeat < 15)
        fail_msg("the paper's rule repeated a direction in only %d of 20 sessions", with_repeat);
}

/* dss_search_start on a started session is a new session, with KEEP_SHOWN too: the directions
   shown before it are available again, so that the restart shows what a new session with the
   same seed shows (it used to keep them shown: a Reset's first direction was another). */
static void keep_shown_restart_is_a_new_session(void **state)
{
    size_t fresh[KN], again[KN];
    lin_model *lm = lin_create(KM, KN, NULL, 91);
    dss_model *model;
    dss_search *s;
    double z0[KN] = { 0 };
    (void)state;
    assert_non_null(lm);
    assert_int_equal(lin_dss_model(lm, LIN_WITH_JACOBIAN, &model), DSS_OK);
    for (uint64_t seed = 1; seed <= 5; seed++) {
        shown_indices(DSS_JACOBIAN_FULL, 1, seed, KN - 1, fresh);
        assert_int_equal(dss_search_create(&s, model), DSS_OK);
        assert_int_equal(dss_search_set(s, DSS_SEARCH_JACOBIAN, DSS_JACOBIAN_FULL), DSS_OK);
        assert_int_equal(dss_search_set(s, DSS_SEARCH_KEEP_SHOWN, 1), DSS_OK);
        assert_int_equal(dss_search_set(s, DSS_SEARCH_SEED, (double)seed), DSS_OK);
        assert_int_equal(dss_search_start(s, z0), DSS_OK);
        for (int c = 0; c < 3; c++)          /* three directions shown, then a restart */
            assert_int_equal(dss_search_commit(s, 0.95), DSS_OK);
        assert_int_equal(dss_search_start(s, z0), DSS_OK);
        for (size_t c = 0; c < KN; c++) {
            if (c > 0)
                assert_int_equal(dss_search_commit(s, 0.95), DSS_OK);
            assert_int_equal(dss_search_basis_indices(s, &again[c]), DSS_OK);
        }
        for (size_t c = 0; c < KN; c++)
            assert_int_equal(again[c], fresh[c]);
        dss_search_destroy(s);
    }
    dss_model_destroy(model);
    lin_destroy(lm);
}

/* The parameter is saved only when set: a default session's string keeps 1.1's six policy
   pairs (readable by 1.1), a set one carries it, and both load and go on as their twins. */
static void keep_shown_is_saved_only_when_set(void **state)
{
    lin_model *lm = lin_create(KM, KN, NULL, 92);
    dss_model *model;
    dss_search *a, *b;
    double z0[KN] = { 0 }, v = -1.0;
    unsigned char buf[8192];
    size_t len_off, len_on;
    (void)state;
    assert_non_null(lm);
    assert_int_equal(lin_dss_model(lm, LIN_WITH_JACOBIAN, &model), DSS_OK);
    assert_int_equal(dss_search_create(&a, model), DSS_OK);
    assert_int_equal(dss_search_create(&b, model), DSS_OK);
    assert_int_equal(dss_search_start(a, z0), DSS_OK);
    assert_int_equal(dss_search_save(a, buf, sizeof buf, &len_off), DSS_OK);
    assert_int_equal(dss_search_set(a, DSS_SEARCH_KEEP_SHOWN, 1), DSS_OK);
    assert_int_equal(dss_search_save(a, buf, sizeof buf, &len_on), DSS_OK);
    assert_int_equal(len_on, len_off + 16);                  /* one more (id, value) pair */
    assert_int_equal(dss_search_load(b, buf, len_on), DSS_OK);
    assert_int_equal(dss_search_get(b, DSS_SEARCH_KEEP_SHOWN, &v), DSS_OK);
    assert_true(v == 1.0);
    assert_true(support_twins_agree(a, b, KN, 3));
    assert_int_equal(dss_search_set(a, DSS_SEARCH_KEEP_SHOWN, 2), DSS_EINVAL);
    assert_int_equal(dss_search_set(a, DSS_SEARCH_KEEP_SHOWN, 0.5), DSS_EINVAL);
    dss_search_destroy(a);
    dss_search_destroy(b);
    dss_model_destroy(model);
    lin_destroy(lm);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(singular_sampler_first_and_second_draws_follow_s_plus_1e6, setup, teardown),
        cmocka_unit_test_setup_teardown(singular_sampler_adds_1e6_to_every_singular_value, setup, teardown),
        cmocka_unit_test_setup_teardown(two_dimensional_subspaces_follow_the_sequential_law, setup, teardown),
        cmocka_unit_test_setup_teardown(resamples_draw_every_index_once_before_any_repeats, setup, teardown),
        cmocka_unit_test_setup_teardown(draw_after_the_last_index_starts_over_with_the_full_law, setup, teardown),
        cmocka_unit_test_setup_teardown(fewer_than_l_remaining_makes_all_available_before_drawing, setup, teardown),
        cmocka_unit_test_setup_teardown(near_center_commits_also_draw_without_replacement, setup, teardown),
        cmocka_unit_test_setup_teardown(top_sampler_proposes_indices_in_descending_order_and_cycles, setup, teardown),
        cmocka_unit_test_setup_teardown(top_sampler_with_l_2_takes_consecutive_pairs_and_starts_over, setup, teardown),
        cmocka_unit_test_setup_teardown(basis_rows_are_orthonormal_for_every_sampler_with_l_3, setup, teardown),
        cmocka_unit_test_setup_teardown(random_sampler_gives_unit_vectors_without_singular_index, setup, teardown),
        cmocka_unit_test_setup_teardown(random_sampler_directions_are_isotropic, setup, teardown),
        cmocka_unit_test_setup_teardown(subspace_dim_change_takes_effect_at_the_next_draw, setup, teardown),
        cmocka_unit_test(keep_shown_shows_each_direction_once),
        cmocka_unit_test(keep_shown_restart_is_a_new_session),
        cmocka_unit_test(keep_shown_is_saved_only_when_set),
    };
    return support_leak_exit(cmocka_run_group_tests_name("sampler", tests, NULL, NULL));
}
