/*
 * The Jacobian and its SVD, seen through the public API: singular values and right-singular
 * vectors against a linear model whose SVD is known by construction (FULL, ROWS and
 * FINITE_DIFF modes, tall, square and wide shapes), the rows the ROWS mode asks for, and the
 * points and batches finite differences send through f.
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

#define NMAX 32   /* largest latent dimension used here */
#define MMAX 96   /* largest output dimension used here */

typedef struct fixture {
    lin_model  *lm;
    dss_model  *model;
    dss_search *search;
} fixture;

static void fixture_clear(fixture *fx)
{
    dss_search_destroy(fx->search);
    dss_model_destroy(fx->model);
    lin_destroy(fx->lm);
    memset(fx, 0, sizeof *fx);
}

/* Build lm (m x n, singular values s or the default r, r-1, ..., 1), its dss_model with the
 * derivative callbacks in flags, and a search on it. Returns 0 or -1. */
static int fixture_make(fixture *fx, size_t m, size_t n, const double *s, unsigned flags)
{
    fixture_clear(fx);
    fx->lm = lin_create(m, n, s, 1000 * m + n);
    if (!fx->lm || lin_dss_model(fx->lm, flags, &fx->model) != DSS_OK
        || dss_search_create(&fx->search, fx->model) != DSS_OK)
        return -1;
    return 0;
}

static void rebuild(fixture *fx, size_t m, size_t n, const double *s, unsigned flags)
{
    assert_true(m <= MMAX && n <= NMAX);
    assert_int_equal(fixture_make(fx, m, n, s, flags), 0);
}

/* Default handles: a tall 9 x 5 model with a Jacobian callback. */
static int setup(void **state)
{
    fixture *fx = calloc(1, sizeof *fx);
    if (!fx)
        return -1;
    *state = fx;
    return fixture_make(fx, 9, 5, NULL, LIN_WITH_JACOBIAN);
}

static int teardown(void **state)
{
    fixture *fx = *state;
    fixture_clear(fx);
    free(fx);
    return support_leak_teardown(NULL); /* every block of the test's model and search freed */
}

/* A deterministic start point with entries in [-2, 2] (some |c_i| > 1, so that the
 * finite-difference step rule max(1, |c_i|) is exercised). */
static void make_z0(double *z, size_t n, uint64_t seed)
{
    support_rng r;
    support_rng_seed(&r, seed);
    support_fill_uniform(&r, z, n, -2.0, 2.0);
}

static size_t max_size(size_t a, size_t b) { return a > b ? a : b; }
static size_t min_size(size_t a, size_t b) { return a < b ? a : b; }

/*
 * Tolerance for singular values from an exact Jacobian (FULL and ROWS modes). LAPACK's SVD is
 * backward stable: the computed values are the exact ones of J + E with ||E||_2 <= p(m, n) eps
 * ||J||_2 for a modest p(m, n), and by Weyl's inequality |s_hat_i - s_i| <= ||E||_2. J itself was
 * rounded when the helper formed U diag(s) V^T (about r eps s_1 more). 32 max(m, n) eps s_1
 * covers both with a margin of about 10 over what is observed.
 */
static double exact_sv_tol(const lin_model *lm)
{
    return 32.0 * (double)max_size(lm->m, lm->n) * DBL_EPSILON * lm->s[0];
}

/* Smallest distance between s_i and the other singular values (the gap in Wedin's theorem). */
static double sv_gap(const lin_model *lm, size_t i)
{
    double gap = INFINITY;
    for (size_t j = 0; j < lm->r; j++) {
        if (j != i && fabs(lm->s[i] - lm->s[j]) < gap)
            gap = fabs(lm->s[i] - lm->s[j]);
    }
    return gap;
}

/*
 * Tolerance for a right-singular vector given a bound e on ||E||_2: by Wedin's sin-theta theorem
 * sin(angle) <= e / (gap - e), and the entries of a unit vector rotated by that angle move by at
 * most 2 sin(angle / 2) <= sqrt(2) sin(angle) (sign fixed). Factor 2 for margin.
 */
static double vector_tol(const lin_model *lm, size_t i, double e)
{
    double gap = sv_gap(lm, i);
    return 2.0 * sqrt(2.0) * e / (gap - e);
}

/*
 * Bound on ||E||_2 for the finite-difference Jacobian of the linear model at c with steps
 * h_i >= h_min. Each computed output f_a(z) = sum_b J_ab z_b carries an error of at most about
 * n eps ||J||_2 ||z||_2; a difference quotient divides the error of two such values by h (2h for
 * central differences), and the rounding of c_i + h_i changes the step by up to eps |c_i| when the
 * library divides by the nominal step. Per entry: (2 n (||c||_2 + h) + ||c||_inf) eps s_1 / h_min;
 * ||E||_2 <= ||E||_F <= sqrt(m n) times that. For a linear map the truncation error is zero.
 */
static double fd_error_bound(const lin_model *lm, const double *c, double h_min)
{
    double cn = support_norm2(c, lm->n), ci = support_max_abs(c, lm->n);
    double entry = (2.0 * (double)lm->n * (cn + 1.0) + ci) * DBL_EPSILON * lm->s[0] / h_min;
    return sqrt((double)(lm->m * lm->n)) * entry;
}

/* Check values and vectors from the public API against lm's SVD: the rank, the singular values
 * (within sv_tol) and, walking through all right-singular vectors with the TOP sampler, each basis
 * row against v_i up to sign (within the vector tolerance for the error bound e). */
static void check_known_svd(fixture *fx, size_t rank, double sv_tol, double e)
{
    lin_model *lm = fx->lm;
    double s[NMAX + 1], b[NMAX], v[NMAX];
    size_t idx;

    assert_int_equal(dss_search_rank(fx->search), rank);
    s[rank] = -7.0; /* sentinel: no more than rank values are written */
    assert_int_equal(dss_search_singular_values(fx->search, s, rank + 1), DSS_OK);
    assert_true(s[rank] == -7.0);
    for (size_t i = 0; i < rank; i++) {
        if (fabs(s[i] - lm->s[i]) > sv_tol)
            fail_msg("s[%zu] = %.17g, expected %.17g (tolerance %.3g)", i, s[i], lm->s[i], sv_tol);
        if (i > 0)
            assert_true(s[i] <= s[i - 1]);
    }
    for (size_t i = 0; i < rank; i++) {
        if (i > 0)
            assert_int_equal(dss_search_resample(fx->search), DSS_OK);
        assert_int_equal(dss_search_basis(fx->search, b), DSS_OK);
        assert_int_equal(dss_search_basis_indices(fx->search, &idx), DSS_OK);
        assert_int_equal(idx, i);
        lin_right_vector(lm, i, v);
        double tol = vector_tol(lm, i, e);
        double d = support_sign_diff(b, v, lm->n);
        if (!(d <= tol))
            fail_msg("basis for index %zu differs from v_%zu by %.3g (tolerance %.3g)", i, i, d, tol);
    }
}

/* ---- clustered and tiny singular values (the Gram route's lazy vectors) ------------------ */

/*
 * All n basis rows at once (TOP sampler, l = n), checked against lm's exact SVD where singular
 * vectors are not unique: the rows are orthonormal (to 1e-12), and the row for index i lies in
 * the span of the exact v_j of i's group (its distance to that span below 1e-10). groups[i] is
 * the first index of i's group; groups are runs of equal or nearly equal values, each separated
 * from the rest by at least 0.01 in s^2, so the Gram route's error (about n eps s_1^2 / 0.01)
 * stays far below the tolerance.
 */
static void check_groups(fixture *fx, const size_t *groups)
{
    lin_model *lm = fx->lm;
    const size_t n = lm->n;
    double basis[NMAX * NMAX], v[NMAX], r[NMAX];
    size_t idx[NMAX];

    assert_int_equal(dss_search_set(fx->search, DSS_SEARCH_SAMPLER, DSS_SAMPLER_TOP), DSS_OK);
    assert_int_equal(dss_search_set(fx->search, DSS_SEARCH_SUBSPACE_DIM, (double)n), DSS_OK);
    double z0[NMAX];
    make_z0(z0, n, 77);
    assert_int_equal(dss_search_start(fx->search, z0), DSS_OK);
    assert_int_equal(dss_search_basis(fx->search, basis), DSS_OK);
    assert_int_equal(dss_search_basis_indices(fx->search, idx), DSS_OK);
    for (size_t a = 0; a < n; a++)
        for (size_t b = 0; b <= a; b++) {
            double dot = support_dot(basis + a * n, basis + b * n, n) - (a == b ? 1.0 : 0.0);
            if (!(fabs(dot) <= 1e-12))
                fail_msg("rows %zu and %zu (indices %zu, %zu): b_a . b_b - delta = %.3g", a, b,
                         idx[a], idx[b], dot);
        }
    for (size_t a = 0; a < n; a++) {
        size_t i = idx[a], first = groups[i];
        memcpy(r, basis + a * n, n * sizeof *r);
        for (size_t j = first; j < n && groups[j] == first; j++) {
            lin_right_vector(lm, j, v);
            double c = support_dot(r, v, n);
            for (size_t k = 0; k < n; k++)
                r[k] -= c * v[k];
        }
        double dist = support_norm2(r, n);
        if (!(dist <= 1e-10))
            fail_msg("the row for index %zu is %.3g away from the span of its group %zu..", i,
                     dist, first);
    }
}

/* Four equal or nearly equal singular values at the top: one dstemr call computes their vectors
   together, which makes them orthonormal (computed one at a time, equal values gave equal
   vectors, and gaps of 1e-9 vectors 1e-7 from orthogonal). */
static void clustered_top_singular_values_give_orthonormal_vectors(void **state)
{
    fixture *fx = *state;
    const double gaps[] = { 0.0, 1e-14, 1e-12, 1e-9, 1e-6, 1e-3 };
    const size_t groups[8] = { 0, 0, 0, 0, 4, 5, 6, 7 };
    for (size_t c = 0; c < sizeof gaps / sizeof gaps[0]; c++) {
        const double g = gaps[c];
        const double s[8] = { 1 + 3 * g, 1 + 2 * g, 1 + g, 1, 0.5, 0.4, 0.3, 0.2 };
        rebuild(fx, 20, 8, s, LIN_WITH_JACOBIAN);
        check_groups(fx, groups);
    }
}

/* A cluster of distinct values that are still well resolved (gaps of 5e-6 in s^2 with s_1 = 1,
   below the 1e-5 that makes them one dstemr call): each index gets its own exact vector, to the
   tolerance check_known_svd derives from the gaps, so the cluster's columns are mapped to the
   right indices. */
static void a_cluster_of_resolvable_values_gives_each_index_its_own_vector(void **state)
{
    fixture *fx = *state;
    const double s[8] = { 1, 0.5, 0.3, 0.2, sqrt(4e-3 + 15e-6), sqrt(4e-3 + 10e-6),
                          sqrt(4e-3 + 5e-6), sqrt(4e-3) };
    double z0[8];
    rebuild(fx, 20, 8, s, LIN_WITH_JACOBIAN);
    make_z0(z0, 8, 9);
    assert_int_equal(dss_search_set(fx->search, DSS_SEARCH_SAMPLER, DSS_SAMPLER_TOP), DSS_OK);
    assert_int_equal(dss_search_start(fx->search, z0), DSS_OK);
    double tol = exact_sv_tol(fx->lm);
    check_known_svd(fx, 8, tol, tol);
}

/* A decaying tail of tiny values (absolute gaps far below eps s_1^2 / 1e-10 in s^2): their
   vectors are computed together and span the exact tail subspace. */
static void tiny_singular_values_give_orthonormal_vectors(void **state)
{
    fixture *fx = *state;
    const double tails[] = { 1e-4, 1e-5, 1e-6, 1e-7, 1e-8, 0.0 };
    const size_t groups[8] = { 0, 1, 2, 3, 4, 4, 4, 4 };
    for (size_t c = 0; c < sizeof tails / sizeof tails[0]; c++) {
        const double t = tails[c];
        const double s[8] = { 1, 0.5, 0.3, 0.2, 4 * t, 3 * t, 2 * t, t };
        rebuild(fx, 20, 8, s, LIN_WITH_JACOBIAN);
        check_groups(fx, groups);
    }
}

/* A lazy vector does not depend on which vectors were computed before it: all n drawn in the
   TOP order and in the SINGULAR sampler's random order agree bit for bit, index by index. */
static void lazy_vectors_do_not_depend_on_the_order_they_are_drawn_in(void **state)
{
    fixture *fx = *state;
    const double s[8] = { 1, 1, 0.5 + 1e-9, 0.5, 0.3, 2e-6, 1e-6, 0 };
    double z0[8], top[8 * 8], any[8 * 8];
    size_t top_idx[8], any_idx[8];
    dss_search *other;

    rebuild(fx, 20, 8, s, LIN_WITH_JACOBIAN);
    make_z0(z0, 8, 5);
    assert_int_equal(dss_search_create(&other, fx->model), DSS_OK);
    assert_int_equal(dss_search_set(fx->search, DSS_SEARCH_SAMPLER, DSS_SAMPLER_TOP), DSS_OK);
    for (int seed = 1; seed <= 5; seed++) {
        int moved = 0;
        assert_int_equal(dss_search_set(fx->search, DSS_SEARCH_SUBSPACE_DIM, 8), DSS_OK);
        assert_int_equal(dss_search_start(fx->search, z0), DSS_OK);
        assert_int_equal(dss_search_basis(fx->search, top), DSS_OK);
        assert_int_equal(dss_search_basis_indices(fx->search, top_idx), DSS_OK);
        assert_int_equal(dss_search_set(other, DSS_SEARCH_SUBSPACE_DIM, 8), DSS_OK);
        assert_int_equal(dss_search_set(other, DSS_SEARCH_SEED, seed), DSS_OK);
        assert_int_equal(dss_search_start(other, z0), DSS_OK);
        assert_int_equal(dss_search_basis(other, any), DSS_OK);
        assert_int_equal(dss_search_basis_indices(other, any_idx), DSS_OK);
        for (size_t a = 0; a < 8; a++) {
            assert_int_equal(top_idx[a], a);
            moved += any_idx[a] != a;
            assert_memory_equal(any + a * 8, top + any_idx[a] * 8, 8 * sizeof *top);
        }
        assert_true(moved > 0); /* the random order is not the TOP order */
    }
    dss_search_destroy(other);
}

/* FULL mode on an m x n model: rank min(m, n), the known values and vectors. */
static void full_jacobian_case(fixture *fx, size_t m, size_t n)
{
    double z0[NMAX];
    rebuild(fx, m, n, NULL, LIN_WITH_JACOBIAN);
    make_z0(z0, n, 7);
    assert_int_equal(dss_search_set(fx->search, DSS_SEARCH_JACOBIAN, DSS_JACOBIAN_FULL), DSS_OK);
    assert_int_equal(dss_search_set(fx->search, DSS_SEARCH_SAMPLER, DSS_SAMPLER_TOP), DSS_OK);
    assert_int_equal(dss_search_start(fx->search, z0), DSS_OK);
    double tol = exact_sv_tol(fx->lm);
    check_known_svd(fx, min_size(m, n), tol, tol);
    assert_int_equal(fx->lm->protocol_errors, 0);
}

static void full_jacobian_matches_known_svd_for_tall_model(void **state)
{
    full_jacobian_case(*state, 12, 5);
}

static void full_jacobian_matches_known_svd_for_square_model(void **state)
{
    full_jacobian_case(*state, 6, 6);
}

static void full_jacobian_matches_known_svd_for_wide_model(void **state)
{
    full_jacobian_case(*state, 4, 9);
}

static void full_jacobian_matches_known_svd_for_larger_tall_model(void **state)
{
    full_jacobian_case(*state, 80, 24);
}

/* Singular values that are not integers and not evenly spaced (one tight gap). */
static void full_jacobian_matches_known_svd_with_uneven_singular_values(void **state)
{
    fixture *fx = *state;
    const double s[5] = {7.25, 3.5, 3.375, 0.8, 0.03125};
    double z0[5];
    rebuild(fx, 8, 5, s, LIN_WITH_JACOBIAN);
    make_z0(z0, 5, 3);
    assert_int_equal(dss_search_set(fx->search, DSS_SEARCH_SAMPLER, DSS_SAMPLER_TOP), DSS_OK);
    assert_int_equal(dss_search_start(fx->search, z0), DSS_OK);
    double tol = exact_sv_tol(fx->lm);
    check_known_svd(fx, 5, tol, tol);
}

/* Issue 8, bug 4: extreme but valid Jacobians. The Gram route squared J: entries ~1e-162 gave
   all-zero singular values and coordinate axes as directions, entries ~1e160 gave DSS_ELAPACK.
   Both routes (tall: Gram, wide: dgesvd) now give the known SVD to the same relative accuracy
   as at scale 1, and the tall session saves and loads. */
static void extreme_case(fixture *fx, size_t m, size_t n, double scale)
{
    double s[NMAX], z0[NMAX];
    const size_t r = min_size(m, n);
    for (size_t i = 0; i < r; i++)
        s[i] = scale * (double)(r - i);
    rebuild(fx, m, n, s, LIN_WITH_JACOBIAN);
    make_z0(z0, n, 5);
    assert_int_equal(dss_search_set(fx->search, DSS_SEARCH_SAMPLER, DSS_SAMPLER_TOP), DSS_OK);
    assert_int_equal(dss_search_start(fx->search, z0), DSS_OK);
    double tol = exact_sv_tol(fx->lm);
    check_known_svd(fx, r, tol, tol);
    /* its save loads into another session, which then shows the same values */
    size_t len = 0;
    dss_search *other = NULL;
    double a[NMAX], b[NMAX];
    assert_int_equal(dss_search_save(fx->search, NULL, 0, &len), DSS_OK);
    unsigned char *buf = malloc(len);
    assert_non_null(buf);
    assert_int_equal(dss_search_save(fx->search, buf, len, &len), DSS_OK);
    assert_int_equal(dss_search_create(&other, fx->model), DSS_OK);
    assert_int_equal(dss_search_load(other, buf, len), DSS_OK);
    assert_int_equal(dss_search_singular_values(fx->search, a, r), DSS_OK);
    assert_int_equal(dss_search_singular_values(other, b, r), DSS_OK);
    assert_memory_equal(a, b, r * sizeof *a);
    assert_true(support_same_draws(fx->search, other, n, 3));
    dss_search_destroy(other);
    free(buf);
}

static void tiny_jacobians_keep_their_singular_values_on_both_routes(void **state)
{
    extreme_case(*state, 12, 5, 1e-162);
    extreme_case(*state, 4, 9, 1e-162);
    extreme_case(*state, 12, 5, 1e-300);
}

static void huge_jacobians_keep_their_singular_values_on_both_routes(void **state)
{
    extreme_case(*state, 12, 5, 1e160);
    extreme_case(*state, 4, 9, 1e160);
    extreme_case(*state, 12, 5, 1e300);
}

/* A Jacobian of finite entries whose norm exceeds DBL_MAX: never an infinite singular value. */
static int huge_jacobian(void *user, const double *z, size_t nrows, const size_t *rows,
                         double *out)
{
    const size_t *n = user;
    (void)z, (void)rows;
    for (size_t i = 0; i < nrows * *n; i++)
        out[i] = (i % 2 ? -1.0 : 1.0) * 1e308;
    return 0;
}

static int zero_f(void *user, size_t k, const double *z, double *x)
{
    (void)user, (void)z, (void)x, (void)k;
    return 0;
}

static void a_singular_value_above_dbl_max_is_rejected_on_both_routes(void **state)
{
    (void)state;
    static const size_t shapes[2][2] = { { 6, 3 }, { 2, 5 } }; /* m, n: tall, wide */
    for (int k = 0; k < 2; k++) {
        size_t n = shapes[k][1];
        double z0[5] = { 0 };
        dss_model *model = NULL;
        dss_search *s = NULL;
        assert_int_equal(dss_model_create(&model, n, shapes[k][0], zero_f, &n), DSS_OK);
        assert_int_equal(dss_model_set_jacobian(model, huge_jacobian), DSS_OK);
        assert_int_equal(dss_search_create(&s, model), DSS_OK);
        assert_int_equal(dss_search_start(s, z0), DSS_ENONFINITE);
        assert_int_equal(dss_search_rank(s), 0);
        dss_search_destroy(s);
        dss_model_destroy(model);
    }
}

static void rank_is_min_of_m_and_n_in_full_mode(void **state)
{
    fixture *fx = *state;
    const size_t shapes[][2] = {{9, 5}, {5, 9}, {7, 7}, {1, 6}, {6, 1}, {1, 1}};
    double z0[NMAX];
    for (size_t k = 0; k < sizeof shapes / sizeof shapes[0]; k++) {
        rebuild(fx, shapes[k][0], shapes[k][1], NULL, LIN_WITH_JACOBIAN);
        assert_int_equal(dss_search_rank(fx->search), 0); /* not started */
        make_z0(z0, shapes[k][1], k);
        assert_int_equal(dss_search_start(fx->search, z0), DSS_OK);
        assert_int_equal(dss_search_rank(fx->search), min_size(shapes[k][0], shapes[k][1]));
    }
}

static void singular_values_writes_only_the_first_cap_values(void **state)
{
    fixture *fx = *state; /* 9 x 5: rank 5, singular values 5, 4, 3, 2, 1 */
    double z0[5], s[8];
    make_z0(z0, 5, 1);
    assert_int_equal(dss_search_start(fx->search, z0), DSS_OK);
    for (size_t i = 0; i < 8; i++)
        s[i] = -1.0;
    assert_int_equal(dss_search_singular_values(fx->search, s, 2), DSS_OK);
    assert_true(fabs(s[0] - 5.0) <= exact_sv_tol(fx->lm));
    assert_true(fabs(s[1] - 4.0) <= exact_sv_tol(fx->lm));
    for (size_t i = 2; i < 8; i++)
        assert_true(s[i] == -1.0);
    assert_int_equal(dss_search_singular_values(fx->search, s, 8), DSS_OK);
    for (size_t i = 0; i < 5; i++)
        assert_true(fabs(s[i] - (double)(5 - i)) <= exact_sv_tol(fx->lm));
    for (size_t i = 5; i < 8; i++)
        assert_true(s[i] == -1.0);
    assert_int_equal(dss_search_singular_values(fx->search, NULL, 0), DSS_OK);
}

/* With m < n, J has an (n - m)-dimensional null space; its directions are never proposed: every
 * basis row is one of the m right-singular vectors with non-zero singular value. */
static void wide_jacobian_never_proposes_null_space_directions(void **state)
{
    fixture *fx = *state;
    double z0[8], b[8], v[8], jb[3];
    rebuild(fx, 3, 8, NULL, LIN_WITH_JACOBIAN);
    make_z0(z0, 8, 2);
    double tol = vector_tol(fx->lm, 0, exact_sv_tol(fx->lm));
    assert_int_equal(dss_search_start(fx->search, z0), DSS_OK);
    for (int draw = 0; draw < 30; draw++) {
        size_t idx;
        assert_int_equal(dss_search_basis(fx->search, b), DSS_OK);
        assert_int_equal(dss_search_basis_indices(fx->search, &idx), DSS_OK);
        assert_true(idx < 3);
        lin_right_vector(fx->lm, idx, v);
        assert_true(support_equal_up_to_sign(b, v, 8, tol));
        lin_apply(fx->lm, b, jb); /* ||J b|| = s_idx: b is not in the null space */
        assert_true(fabs(support_norm2(jb, 3) - fx->lm->s[idx]) <= 8 * exact_sv_tol(fx->lm));
        assert_int_equal(dss_search_resample(fx->search), DSS_OK);
    }
}

static void auto_mode_uses_the_jacobian_callback_when_the_model_has_one(void **state)
{
    fixture *fx = *state;
    double z0[5];
    make_z0(z0, 5, 4);
    double mode;
    assert_int_equal(dss_search_get(fx->search, DSS_SEARCH_JACOBIAN, &mode), DSS_OK);
    assert_true(mode == DSS_JACOBIAN_AUTO);
    lin_reset_counters(fx->lm);
    assert_int_equal(dss_search_start(fx->search, z0), DSS_OK);
    assert_int_equal(fx->lm->jac_calls, 1);
    assert_int_equal(fx->lm->jac_last_nrows, 9);
    assert_int_equal(dss_search_rank(fx->search), 5);
}

/* FULL mode: one call for all m rows (rows == NULL, or every row in order), at z0. */
static void full_mode_asks_for_all_rows_at_the_start_point(void **state)
{
    fixture *fx = *state;
    double z0[5];
    make_z0(z0, 5, 5);
    assert_int_equal(dss_search_set(fx->search, DSS_SEARCH_JACOBIAN, DSS_JACOBIAN_FULL), DSS_OK);
    lin_reset_counters(fx->lm);
    assert_int_equal(dss_search_start(fx->search, z0), DSS_OK);
    assert_int_equal(fx->lm->jac_calls, 1);
    assert_int_equal(fx->lm->jac_last_nrows, 9);
    for (size_t i = 0; i < 9; i++)
        assert_int_equal(fx->lm->jac_last_rows[i], i);
    assert_memory_equal(fx->lm->jac_last_z, z0, sizeof z0);
    assert_int_equal(fx->lm->protocol_errors, 0);
}

/* ---- ROWS mode -------------------------------------------------------------------------------- */

/* Start in ROWS mode with `rows` rows on an m x n model; check the callback's arguments (nrows =
 * min(rows, m) distinct ascending indices < m, which lin_jacobian verifies) and the rank. */
static void rows_case(fixture *fx, size_t m, size_t n, size_t rows)
{
    double z0[NMAX];
    rebuild(fx, m, n, NULL, LIN_WITH_JACOBIAN);
    make_z0(z0, n, rows);
    assert_int_equal(dss_search_set(fx->search, DSS_SEARCH_JACOBIAN, DSS_JACOBIAN_ROWS), DSS_OK);
    assert_int_equal(dss_search_set(fx->search, DSS_SEARCH_JACOBIAN_ROWS, (double)rows), DSS_OK);
    lin_reset_counters(fx->lm);
    assert_int_equal(dss_search_start(fx->search, z0), DSS_OK);
    assert_int_equal(fx->lm->protocol_errors, 0);
    assert_int_equal(fx->lm->jac_calls, 1);
    assert_int_equal(fx->lm->jac_last_nrows, min_size(rows, m));
    for (size_t i = 0; i < fx->lm->jac_last_nrows; i++) {
        assert_true(fx->lm->jac_last_rows[i] < m);
        if (i > 0)
            assert_true(fx->lm->jac_last_rows[i] > fx->lm->jac_last_rows[i - 1]);
    }
    assert_int_equal(dss_search_rank(fx->search), min_size(min_size(rows, m), n));
}

static void rows_mode_passes_distinct_ascending_rows_and_rank_is_min_of_rows_m_n(void **state)
{
    fixture *fx = *state;
    rows_case(fx, 40, 6, 3);  /* rows < n < m: rank 3 */
    rows_case(fx, 40, 6, 10); /* n < rows < m: rank 6 */
    rows_case(fx, 40, 6, 39); /* one row left out */
    rows_case(fx, 5, 8, 3);   /* wide: rows < m < n: rank 3 */
}

static void rows_mode_uses_all_m_rows_when_more_are_requested(void **state)
{
    fixture *fx = *state;
    rows_case(fx, 10, 4, 20); /* min(rows, m) = 10 rows, rank 4 */
    for (size_t i = 0; i < 10; i++)
        assert_int_equal(fx->lm->jac_last_rows[i], i);
    rows_case(fx, 3, 6, 50); /* wide: 3 rows, rank 3 */
    rows_case(fx, 7, 7, 7);  /* rows == m */
}

static void rows_mode_draws_50_rows_by_default(void **state)
{
    fixture *fx = *state;
    double z0[6], rows;
    rebuild(fx, 90, 6, NULL, LIN_WITH_JACOBIAN);
    assert_int_equal(dss_search_get(fx->search, DSS_SEARCH_JACOBIAN_ROWS, &rows), DSS_OK);
    assert_true(rows == 50.0);
    make_z0(z0, 6, 8);
    assert_int_equal(dss_search_set(fx->search, DSS_SEARCH_JACOBIAN, DSS_JACOBIAN_ROWS), DSS_OK);
    assert_int_equal(dss_search_start(fx->search, z0), DSS_OK);
    assert_int_equal(fx->lm->jac_last_nrows, 50);
    assert_int_equal(fx->lm->protocol_errors, 0);
}

/* The singular values held are those of the block of rows the library asked for (computed here by
 * one-sided Jacobi from the rows lin_jacobian recorded), not of the full J. */
static void rows_mode_singular_values_are_those_of_the_requested_rows(void **state)
{
    fixture *fx = *state;
    double block[5 * 8], expect[5], got[5];
    rows_case(fx, 30, 8, 5);
    for (size_t i = 0; i < 5; i++)
        memcpy(block + i * 8, fx->lm->j + fx->lm->jac_last_rows[i] * 8, 8 * sizeof *block);
    assert_int_equal(support_singular_values(block, 5, 8, expect), 0);
    assert_int_equal(dss_search_singular_values(fx->search, got, 5), DSS_OK);
    /* both are backward-stable computations on the same 5 x 8 block: the exact-Jacobian bound,
     * doubled (two computations) */
    double tol = 2.0 * exact_sv_tol(fx->lm);
    for (size_t i = 0; i < 5; i++) {
        if (fabs(got[i] - expect[i]) > tol)
            fail_msg("s[%zu] = %.17g, rows' value %.17g", i, got[i], expect[i]);
    }
    /* a 5-row block of a rank-8 J with singular values 8..1 cannot have the full J's values */
    assert_true(fabs(got[0] - 8.0) > tol || fabs(got[4] - 4.0) > tol);
}

/* Each recomputation draws a new random set of rows, and different seeds draw different sets. */
static void rows_mode_draws_different_rows_on_each_recomputation(void **state)
{
    fixture *fx = *state;
    size_t first[4], distinct_sets = 1;
    rows_case(fx, 40, 6, 4);
    memcpy(first, fx->lm->jac_last_rows, sizeof first);
    for (int k = 0; k < 6; k++) {
        size_t before = fx->lm->jac_calls;
        assert_int_equal(dss_search_commit(fx->search, 0.95), DSS_OK); /* far: recomputes */
        assert_int_equal(fx->lm->jac_calls, before + 1);
        assert_int_equal(fx->lm->jac_last_nrows, 4);
        if (memcmp(first, fx->lm->jac_last_rows, sizeof first) != 0)
            distinct_sets++;
    }
    assert_int_equal(fx->lm->protocol_errors, 0);
    /* 4 rows of 40: C(40, 4) = 91390 sets; six repeats of one set would be a fixed draw */
    assert_true(distinct_sets > 1);

    double z0[6];
    make_z0(z0, 6, 4);
    int differs = 0;
    for (int seed = 1; seed <= 4 && !differs; seed++) {
        assert_int_equal(dss_search_set(fx->search, DSS_SEARCH_SEED, seed), DSS_OK);
        assert_int_equal(dss_search_start(fx->search, z0), DSS_OK);
        differs = memcmp(first, fx->lm->jac_last_rows, sizeof first) != 0;
    }
    assert_true(differs);
}

/* DSS_SEARCH_JACOBIAN_CHUNK = k: FULL mode asks for its m rows in ceil(m / k) calls naming the
 * rows explicitly, each row exactly once; ROWS mode splits its drawn rows the same way. The
 * decomposition is the same as with one call. */
static void jacobian_chunk_splits_the_rows_into_calls(void **state)
{
    fixture *fx = *state;
    double z0[5];
    rebuild(fx, 8, 5, NULL, LIN_WITH_JACOBIAN);
    make_z0(z0, 5, 21);
    assert_int_equal(dss_search_set(fx->search, DSS_SEARCH_JACOBIAN, DSS_JACOBIAN_FULL), DSS_OK);
    assert_int_equal(dss_search_set(fx->search, DSS_SEARCH_JACOBIAN_CHUNK, 3), DSS_OK);
    assert_int_equal(dss_search_set(fx->search, DSS_SEARCH_SAMPLER, DSS_SAMPLER_TOP), DSS_OK);
    lin_reset_counters(fx->lm);
    assert_int_equal(dss_search_start(fx->search, z0), DSS_OK);
    assert_int_equal(fx->lm->protocol_errors, 0);
    assert_int_equal(fx->lm->jac_calls, 3);          /* 3 + 3 + 2 rows */
    assert_int_equal(fx->lm->jac_last_rows_null, 0); /* named explicitly */
    assert_int_equal(fx->lm->jac_rows_total, 8);
    for (size_t i = 0; i < 8; i++)
        assert_int_equal(fx->lm->jac_row_count[i], 1);
    double tol = exact_sv_tol(fx->lm);
    check_known_svd(fx, 5, tol, tol);

    rebuild(fx, 40, 5, NULL, LIN_WITH_JACOBIAN);
    assert_int_equal(dss_search_set(fx->search, DSS_SEARCH_JACOBIAN, DSS_JACOBIAN_ROWS), DSS_OK);
    assert_int_equal(dss_search_set(fx->search, DSS_SEARCH_JACOBIAN_ROWS, 7), DSS_OK);
    assert_int_equal(dss_search_set(fx->search, DSS_SEARCH_JACOBIAN_CHUNK, 2), DSS_OK);
    lin_reset_counters(fx->lm);
    assert_int_equal(dss_search_start(fx->search, z0), DSS_OK);
    assert_int_equal(fx->lm->protocol_errors, 0);
    assert_int_equal(fx->lm->jac_calls, 4);          /* 2 + 2 + 2 + 1 rows */
    assert_int_equal(fx->lm->jac_rows_total, 7);
    for (size_t i = 0; i < 40; i++)
        assert_true(fx->lm->jac_row_count[i] <= 1);  /* 7 distinct rows */
    assert_int_equal(dss_search_rank(fx->search), 5);
}

/* A chunk that fails (error, NaN, infinity) fails the whole start or commit, which changes
 * nothing, even when earlier chunks succeeded. */
static void failing_jacobian_chunk_changes_nothing(void **state)
{
    fixture *fx = *state;
    const int kinds[3] = {LIN_FAULT_ERROR, LIN_FAULT_NAN, LIN_FAULT_INF};
    const int status[3] = {DSS_ECALLBACK, DSS_ENONFINITE, DSS_ENONFINITE};
    double z0[5], z[5];
    support_snapshot snap;
    rebuild(fx, 8, 5, NULL, LIN_WITH_JACOBIAN);
    make_z0(z0, 5, 22);
    assert_int_equal(dss_search_set(fx->search, DSS_SEARCH_JACOBIAN_CHUNK, 3), DSS_OK);
    lin_fault(fx->lm, LIN_JACOBIAN, LIN_FAULT_ERROR, 2);
    assert_int_equal(dss_search_start(fx->search, z0), DSS_ECALLBACK);
    assert_int_equal(dss_search_center(fx->search, z), DSS_ESTATE);
    assert_int_equal(dss_search_start(fx->search, z0), DSS_OK);
    assert_int_equal(support_snapshot_take(fx->search, 5, &snap), 0);
    for (int k = 0; k < 3; k++) {
        lin_fault(fx->lm, LIN_JACOBIAN, kinds[k], 3); /* the last chunk */
        assert_int_equal(dss_search_commit(fx->search, 0.9), status[k]);
        int same = support_snapshot_matches(fx->search, 5, &snap);
        if (!same) {
            support_snapshot_free(&snap);
            fail_msg("a commit whose last Jacobian chunk failed changed the session");
        }
    }
    support_snapshot_free(&snap);
    assert_int_equal(fx->lm->faults_fired, 4);
}

/* ---- finite differences ---------------------------------------------------------------------- */

/* Start in finite-difference mode (explicit or AUTO without a Jacobian callback) with a scheme. */
static void fd_case(fixture *fx, size_t m, size_t n, int mode, int scheme)
{
    double z0[NMAX];
    rebuild(fx, m, n, NULL, 0);
    make_z0(z0, n, 11);
    assert_int_equal(dss_search_set(fx->search, DSS_SEARCH_JACOBIAN, mode), DSS_OK);
    assert_int_equal(dss_search_set(fx->search, DSS_SEARCH_DIFF_SCHEME, scheme), DSS_OK);
    assert_int_equal(dss_search_set(fx->search, DSS_SEARCH_SAMPLER, DSS_SAMPLER_TOP), DSS_OK);
    assert_int_equal(dss_search_start(fx->search, z0), DSS_OK);
    /* default steps: sqrt(eps) max(1, |c_i|) forward, cbrt(eps) max(1, |c_i|) central */
    double h_min = scheme == DSS_DIFF_FORWARD ? sqrt(DBL_EPSILON) : cbrt(DBL_EPSILON);
    double e = fd_error_bound(fx->lm, z0, h_min);
    check_known_svd(fx, min_size(m, n), e, e);
    assert_int_equal(fx->lm->jac_calls, 0);
    assert_int_equal(fx->lm->protocol_errors, 0);
}

static void forward_differences_match_known_svd(void **state)
{
    fd_case(*state, 10, 5, DSS_JACOBIAN_FINITE_DIFF, DSS_DIFF_FORWARD);
    fd_case(*state, 6, 6, DSS_JACOBIAN_FINITE_DIFF, DSS_DIFF_FORWARD);
    fd_case(*state, 3, 7, DSS_JACOBIAN_FINITE_DIFF, DSS_DIFF_FORWARD);
}

static void central_differences_match_known_svd(void **state)
{
    fd_case(*state, 10, 5, DSS_JACOBIAN_FINITE_DIFF, DSS_DIFF_CENTRAL);
    fd_case(*state, 6, 6, DSS_JACOBIAN_FINITE_DIFF, DSS_DIFF_CENTRAL);
    fd_case(*state, 3, 7, DSS_JACOBIAN_FINITE_DIFF, DSS_DIFF_CENTRAL);
}

static void auto_mode_without_derivative_callbacks_uses_finite_differences(void **state)
{
    fixture *fx = *state;
    fd_case(fx, 8, 4, DSS_JACOBIAN_AUTO, DSS_DIFF_FORWARD);
    assert_true(fx->lm->f_points >= 5);
    fd_case(fx, 8, 4, DSS_JACOBIAN_AUTO, DSS_DIFF_CENTRAL);
    assert_true(fx->lm->f_points >= 8);
}

/* Points and calls of f during one start in finite-difference mode, with max batch `batch`
 * (0: unlimited). */
static void fd_batches(fixture *fx, size_t n, int scheme, size_t batch)
{
    double z0[NMAX];
    size_t points = scheme == DSS_DIFF_FORWARD ? n + 1 : 2 * n;
    rebuild(fx, 7, n, NULL, 0);
    if (batch > 0)
        assert_int_equal(dss_model_set_max_batch(fx->model, batch), DSS_OK);
    make_z0(z0, n, 12);
    assert_int_equal(dss_search_set(fx->search, DSS_SEARCH_JACOBIAN, DSS_JACOBIAN_FINITE_DIFF), DSS_OK);
    assert_int_equal(dss_search_set(fx->search, DSS_SEARCH_DIFF_SCHEME, scheme), DSS_OK);
    lin_reset_counters(fx->lm);
    assert_int_equal(dss_search_start(fx->search, z0), DSS_OK);
    size_t cap = batch > 0 ? batch : points;
    size_t calls = (points + cap - 1) / cap;
    if (fx->lm->f_points != points || fx->lm->f_calls != calls || fx->lm->f_max_k != min_size(cap, points))
        fail_msg("n %zu scheme %d max batch %zu: %zu points in %zu calls (max k %zu), expected %zu "
                 "in %zu calls (max k %zu)", n, scheme, batch, fx->lm->f_points, fx->lm->f_calls,
                 fx->lm->f_max_k, points, calls, min_size(cap, points));
    assert_int_equal(fx->lm->protocol_errors, 0);
}

static void forward_differences_send_n_plus_1_points_in_one_call_when_unlimited(void **state)
{
    fd_batches(*state, 6, DSS_DIFF_FORWARD, 0);
    fd_batches(*state, 1, DSS_DIFF_FORWARD, 0);
}

static void central_differences_send_2n_points_in_one_call_when_unlimited(void **state)
{
    fd_batches(*state, 6, DSS_DIFF_CENTRAL, 0);
    fd_batches(*state, 1, DSS_DIFF_CENTRAL, 0);
}

/* ceil(points / max_batch) calls, none larger than the max batch, and full batches. */
static void finite_differences_respect_the_models_max_batch(void **state)
{
    const size_t batches[] = {1, 2, 3, 4, 6, 7, 8, 100};
    for (size_t i = 0; i < sizeof batches / sizeof batches[0]; i++) {
        fd_batches(*state, 6, DSS_DIFF_FORWARD, batches[i]);  /* 7 points */
        fd_batches(*state, 6, DSS_DIFF_CENTRAL, batches[i]);  /* 12 points */
    }
}

/* The logged inputs of f for one finite-difference Jacobian at c: forward differences use c and
 * c + h_i e_i, central ones c + h_i e_i and c - h_i e_i, with h_i = step max(1, |c_i|). Checked as
 * a set (the order of points is the library's). The computed point c_i + h_i is rounded, so the
 * step seen is h_i within 2 ulps of c_i + h_i. */
static void check_fd_points(const lin_model *lm, const double *c, int scheme, double step)
{
    size_t n = lm->n, points = scheme == DSS_DIFF_FORWARD ? n + 1 : 2 * n;
    int seen_center = 0, seen_plus[NMAX] = {0}, seen_minus[NMAX] = {0};
    assert_int_equal(lm->f_log_count, points);
    for (size_t p = 0; p < points; p++) {
        const double *z = lm->f_log + p * n;
        size_t moved = n, nmoved = 0;
        for (size_t i = 0; i < n; i++) {
            if (z[i] != c[i]) {
                moved = i;
                nmoved++;
            }
        }
        if (nmoved == 0) {
            assert_int_equal(scheme, DSS_DIFF_FORWARD);
            seen_center++;
            continue;
        }
        assert_int_equal(nmoved, 1);
        double h = step * fmax(1.0, fabs(c[moved]));
        double d = z[moved] - c[moved];
        double slack = 2.0 * DBL_EPSILON * (fabs(c[moved]) + h);
        if (fabs(fabs(d) - h) > slack)
            fail_msg("coordinate %zu moved by %.17g, expected a step of %.17g", moved, d, h);
        if (scheme == DSS_DIFF_CENTRAL && d < 0)
            seen_minus[moved]++;
        else
            seen_plus[moved]++;
    }
    if (scheme == DSS_DIFF_FORWARD)
        assert_int_equal(seen_center, 1);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(seen_plus[i], 1);
        assert_int_equal(seen_minus[i], scheme == DSS_DIFF_CENTRAL ? 1 : 0);
    }
}

static void fd_points_case(fixture *fx, int scheme, double step_param, double step)
{
    double z0[6];
    rebuild(fx, 5, 6, NULL, 0);
    make_z0(z0, 6, 13);
    z0[2] = 0.0; /* max(1, |c_i|) = 1 */
    assert_int_equal(lin_log_f_inputs(fx->lm, 64), 0);
    assert_int_equal(dss_search_set(fx->search, DSS_SEARCH_JACOBIAN, DSS_JACOBIAN_FINITE_DIFF), DSS_OK);
    assert_int_equal(dss_search_set(fx->search, DSS_SEARCH_DIFF_SCHEME, scheme), DSS_OK);
    assert_int_equal(dss_search_set(fx->search, DSS_SEARCH_DIFF_STEP, step_param), DSS_OK);
    assert_int_equal(dss_search_start(fx->search, z0), DSS_OK);
    check_fd_points(fx->lm, z0, scheme, step);
}

static void forward_differences_step_by_sqrt_eps_times_max_1_abs_c(void **state)
{
    fd_points_case(*state, DSS_DIFF_FORWARD, 0.0, sqrt(DBL_EPSILON));
}

static void central_differences_step_by_cbrt_eps_times_max_1_abs_c(void **state)
{
    fd_points_case(*state, DSS_DIFF_CENTRAL, 0.0, cbrt(DBL_EPSILON));
}

static void diff_step_parameter_sets_the_step(void **state)
{
    fd_points_case(*state, DSS_DIFF_FORWARD, 1e-3, 1e-3);
    fd_points_case(*state, DSS_DIFF_CENTRAL, 0.25, 0.25);
    /* for a linear map any step is exact up to rounding: a large step still gives the SVD */
    fixture *fx = *state; /* 5 x 6, central differences with step 0.25 */
    double z0[6];
    make_z0(z0, 6, 15);
    double e = fd_error_bound(fx->lm, z0, 0.25);
    assert_int_equal(dss_search_set(fx->search, DSS_SEARCH_SAMPLER, DSS_SAMPLER_TOP), DSS_OK);
    assert_int_equal(dss_search_start(fx->search, z0), DSS_OK);
    check_known_svd(fx, 5, e, e);
}

/* A far commit differentiates at the new centre. */
static void finite_differences_after_commit_are_taken_at_the_new_center(void **state)
{
    fixture *fx = *state;
    double z0[6], c[6];
    rebuild(fx, 5, 6, NULL, 0);
    make_z0(z0, 6, 14);
    assert_int_equal(dss_search_set(fx->search, DSS_SEARCH_JACOBIAN, DSS_JACOBIAN_FINITE_DIFF), DSS_OK);
    assert_int_equal(dss_search_start(fx->search, z0), DSS_OK);
    assert_int_equal(lin_log_f_inputs(fx->lm, 64), 0);
    assert_int_equal(dss_search_commit(fx->search, 0.1), DSS_OK);
    assert_int_equal(dss_search_center(fx->search, c), DSS_OK);
    assert_true(support_max_abs_diff(c, z0, 6) > 0.0);
    check_fd_points(fx->lm, c, DSS_DIFF_FORWARD, sqrt(DBL_EPSILON));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(full_jacobian_matches_known_svd_for_tall_model, setup, teardown),
        cmocka_unit_test_setup_teardown(full_jacobian_matches_known_svd_for_square_model, setup, teardown),
        cmocka_unit_test_setup_teardown(full_jacobian_matches_known_svd_for_wide_model, setup, teardown),
        cmocka_unit_test_setup_teardown(full_jacobian_matches_known_svd_for_larger_tall_model, setup, teardown),
        cmocka_unit_test_setup_teardown(full_jacobian_matches_known_svd_with_uneven_singular_values, setup, teardown),
        cmocka_unit_test_setup_teardown(tiny_jacobians_keep_their_singular_values_on_both_routes, setup, teardown),
        cmocka_unit_test_setup_teardown(huge_jacobians_keep_their_singular_values_on_both_routes, setup, teardown),
        cmocka_unit_test_setup_teardown(a_singular_value_above_dbl_max_is_rejected_on_both_routes, setup, teardown),
        cmocka_unit_test_setup_teardown(rank_is_min_of_m_and_n_in_full_mode, setup, teardown),
        cmocka_unit_test_setup_teardown(clustered_top_singular_values_give_orthonormal_vectors, setup, teardown),
        cmocka_unit_test_setup_teardown(a_cluster_of_resolvable_values_gives_each_index_its_own_vector, setup, teardown),
        cmocka_unit_test_setup_teardown(tiny_singular_values_give_orthonormal_vectors, setup, teardown),
        cmocka_unit_test_setup_teardown(lazy_vectors_do_not_depend_on_the_order_they_are_drawn_in, setup, teardown),
        cmocka_unit_test_setup_teardown(singular_values_writes_only_the_first_cap_values, setup, teardown),
        cmocka_unit_test_setup_teardown(wide_jacobian_never_proposes_null_space_directions, setup, teardown),
        cmocka_unit_test_setup_teardown(auto_mode_uses_the_jacobian_callback_when_the_model_has_one, setup, teardown),
        cmocka_unit_test_setup_teardown(full_mode_asks_for_all_rows_at_the_start_point, setup, teardown),
        cmocka_unit_test_setup_teardown(rows_mode_passes_distinct_ascending_rows_and_rank_is_min_of_rows_m_n, setup, teardown),
        cmocka_unit_test_setup_teardown(rows_mode_uses_all_m_rows_when_more_are_requested, setup, teardown),
        cmocka_unit_test_setup_teardown(rows_mode_draws_50_rows_by_default, setup, teardown),
        cmocka_unit_test_setup_teardown(rows_mode_singular_values_are_those_of_the_requested_rows, setup, teardown),
        cmocka_unit_test_setup_teardown(rows_mode_draws_different_rows_on_each_recomputation, setup, teardown),
        cmocka_unit_test_setup_teardown(jacobian_chunk_splits_the_rows_into_calls, setup, teardown),
        cmocka_unit_test_setup_teardown(failing_jacobian_chunk_changes_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(forward_differences_match_known_svd, setup, teardown),
        cmocka_unit_test_setup_teardown(central_differences_match_known_svd, setup, teardown),
        cmocka_unit_test_setup_teardown(auto_mode_without_derivative_callbacks_uses_finite_differences, setup, teardown),
        cmocka_unit_test_setup_teardown(forward_differences_send_n_plus_1_points_in_one_call_when_unlimited, setup, teardown),
        cmocka_unit_test_setup_teardown(central_differences_send_2n_points_in_one_call_when_unlimited, setup, teardown),
        cmocka_unit_test_setup_teardown(finite_differences_respect_the_models_max_batch, setup, teardown),
        cmocka_unit_test_setup_teardown(forward_differences_step_by_sqrt_eps_times_max_1_abs_c, setup, teardown),
        cmocka_unit_test_setup_teardown(central_differences_step_by_cbrt_eps_times_max_1_abs_c, setup, teardown),
        cmocka_unit_test_setup_teardown(diff_step_parameter_sets_the_step, setup, teardown),
        cmocka_unit_test_setup_teardown(finite_differences_after_commit_are_taken_at_the_new_center, setup, teardown),
    };
    return support_leak_exit(cmocka_run_group_tests_name("decompose", tests, NULL, NULL));
}
