/* Saved sessions at their edges: the CRC against an independent CRC-32, and strings whose one
 * edited field (CRC recomputed, so only the field's own check can catch it) must not load: l = 0,
 * a decomposition RANK of 0, a basis index equal to the rank, an all-zero RNG, trailing bytes,
 * a non-zero unused reflector, vector flags that contradict the route, unsorted or inconsistent
 * singular values, a rank above min(n, m), a basis slightly off orthonormal. Also: a save into a
 * buffer one byte short, and undo after a failed load whose body overwrote a decomposition slot.
 *
 * The layout below is docs/format.md's, computed independently of lib/persist.c; every test
 * first checks that it accounts for every byte of the string. */
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

/* ---- the format, independently ------------------------------------------------------------ */

static uint64_t rd64(const unsigned char *p, size_t off)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[off + (size_t)i];
    return v;
}

static void wr64(unsigned char *p, size_t off, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[off + (size_t)i] = (unsigned char)(v >> (8 * i));
}

static double rdf(const unsigned char *p, size_t off)
{
    uint64_t bits = rd64(p, off);
    double v;
    memcpy(&v, &bits, sizeof v);
    return v;
}

static void wrf(unsigned char *p, size_t off, double v)
{
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    wr64(p, off, bits);
}

/* Write the total length and the CRC of a (possibly edited) string of len bytes. */
static void reseal(unsigned char *p, size_t len)
{
    uint32_t crc;
    wr64(p, 16, len);
    crc = support_crc32(p, len - 4);
    for (int i = 0; i < 4; i++)
        p[len - 4 + (size_t)i] = (unsigned char)(crc >> (8 * i));
}

typedef struct layout {
    size_t n, m, l, rank, lazy;
    size_t rng, center, basis, idx, rank_at, avail, dec_center, dec_rng, jac, lazy_at, s, have, v;
    size_t G, tau, d, e, policy, end;
} layout;

static layout layout_of(const unsigned char *p, size_t len)
{
    layout L;
    L.n = rd64(p, 24);
    L.m = rd64(p, 32);
    L.l = rd64(p, 40);
    L.rng = 48 + 16 * 16;              /* 16 (id, value) parameter pairs */
    L.center = L.rng + 32;
    L.basis = L.center + 8 * L.n;
    L.idx = L.basis + 8 * L.l * L.n;
    L.rank_at = L.idx + 8 * L.l;
    L.rank = rd64(p, L.rank_at);
    L.avail = L.rank_at + 8;
    L.dec_center = L.avail + L.rank;
    L.dec_rng = L.dec_center + 8 * L.n;
    L.jac = L.dec_rng + 32;            /* mode, rows, chunk, scheme, step, rank, oversample, power */
    L.lazy_at = L.jac + 64;
    L.lazy = p[L.lazy_at];
    L.s = L.lazy_at + 1;
    L.have = L.s + 8 * L.rank;
    L.v = L.have + L.rank;
    L.G = L.v + 8 * L.rank * L.n;
    L.tau = L.G + (L.lazy ? 8 * L.n * L.n : 0);
    L.d = L.tau + (L.lazy ? 8 * L.n : 0);
    L.e = L.d + (L.lazy ? 8 * L.n : 0);
    L.policy = L.e + (L.lazy ? 8 * L.n : 0);
    L.end = L.policy + 8 + 6 * 16 + 32; /* version 2: pair count, 6 policy pairs, the state */
    assert_int_equal(L.end + 4, len);
    return L;
}

/* ---- sessions ------------------------------------------------------------------------------ */

typedef struct fixture {
    lin_model *lm;
    dss_model *model;
    dss_search *search;
    unsigned char *buf;
    size_t len;
} fixture;

/* A started session of an m x n linear model (FULL mode; the Gram route when m >= n, the wide
   route when m < n), saved into fx->buf. */
static void open_saved(fixture *fx, size_t m, size_t n, const double *s, uint64_t seed)
{
    double z0[8];
    fx->lm = lin_create(m, n, s, seed);
    assert_non_null(fx->lm);
    assert_int_equal(lin_dss_model(fx->lm, LIN_WITH_JACOBIAN, &fx->model), DSS_OK);
    assert_int_equal(dss_search_create(&fx->search, fx->model), DSS_OK);
    assert_int_equal(dss_search_set(fx->search, DSS_SEARCH_SUBSPACE_DIM, 2), DSS_OK);
    for (size_t i = 0; i < n; i++)
        z0[i] = 0.3 - 0.2 * (double)i;
    assert_int_equal(dss_search_start(fx->search, z0), DSS_OK);
    assert_int_equal(dss_search_commit(fx->search, 0.8), DSS_OK);
    assert_int_equal(dss_search_save(fx->search, NULL, 0, &fx->len), DSS_OK);
    fx->buf = malloc(fx->len + 64);
    assert_non_null(fx->buf);
    assert_int_equal(dss_search_save(fx->search, fx->buf, fx->len, &fx->len), DSS_OK);
}

static void close_saved(fixture *fx)
{
    free(fx->buf);
    dss_search_destroy(fx->search);
    dss_model_destroy(fx->model);
    lin_destroy(fx->lm);
}

/* load must fail with DSS_EFORMAT and leave the session as it was */
static void expect_rejected(fixture *fx, const unsigned char *buf, size_t len, const char *what)
{
    support_snapshot before;
    int rc;
    assert_int_equal(support_snapshot_take(fx->search, fx->lm->n, &before), 0);
    rc = dss_search_load(fx->search, buf, len);
    if (rc != DSS_EFORMAT)
        fail_msg("%s: load returned %d, not DSS_EFORMAT", what, rc);
    assert_true(support_snapshot_matches(fx->search, fx->lm->n, &before));
    support_snapshot_free(&before);
}

/* ---- tests ---------------------------------------------------------------------------------- */

static void a_saved_string_ends_with_the_crc32_of_the_rest(void **state)
{
    fixture fx;
    const unsigned char check[] = "123456789";
    uint32_t stored = 0;
    (void)state;
    assert_int_equal(support_crc32(check, 9), 0xCBF43926u); /* the standard check value */
    open_saved(&fx, 7, 5, NULL, 21);
    (void)layout_of(fx.buf, fx.len);
    for (int i = 3; i >= 0; i--)
        stored = (stored << 8) | fx.buf[fx.len - 4 + (size_t)i];
    assert_int_equal(stored, support_crc32(fx.buf, fx.len - 4));
    close_saved(&fx);
}

static void a_string_with_an_empty_subspace_is_rejected(void **state)
{
    fixture fx;
    layout L;
    unsigned char *cut;
    size_t gap, len;
    (void)state;
    open_saved(&fx, 7, 5, NULL, 22);
    L = layout_of(fx.buf, fx.len);
    /* the same string without its basis rows and indices, l = 0: consistent but empty */
    gap = L.rank_at - L.basis;
    len = fx.len - gap;
    cut = malloc(len);
    assert_non_null(cut);
    memcpy(cut, fx.buf, L.basis);
    memcpy(cut + L.basis, fx.buf + L.rank_at, fx.len - L.rank_at);
    wr64(cut, 40, 0);
    reseal(cut, len);
    expect_rejected(&fx, cut, len, "l = 0");
    free(cut);
    close_saved(&fx);
}

typedef void (*edit_fn)(unsigned char *p, const layout *L);

static void edit_jac_rank_0(unsigned char *p, const layout *L) { wr64(p, L->jac + 40, 0); }
static void edit_index_is_rank(unsigned char *p, const layout *L) { wr64(p, L->idx, L->rank); }
static void edit_rng_zero(unsigned char *p, const layout *L)
{
    memset(p + L->rng, 0, 32);
}
static void edit_tau_last(unsigned char *p, const layout *L)
{
    wrf(p, L->tau + 8 * (L->n - 1), 0.5);
}
static void edit_have_0(unsigned char *p, const layout *L) { p[L->have] = 0; }
static void edit_swap_s(unsigned char *p, const layout *L)
{
    double a = rdf(p, L->s), b = rdf(p, L->s + 8);
    wrf(p, L->s, b);
    wrf(p, L->s + 8, a);
}
static void edit_basis_off(unsigned char *p, const layout *L)
{
    wrf(p, L->basis, rdf(p, L->basis) + 1e-6);
}
static void edit_s0_relative(unsigned char *p, const layout *L)
{
    wrf(p, L->s, rdf(p, L->s) * (1.0 + 1e-6));
}
static void edit_s0_huge(unsigned char *p, const layout *L) { wrf(p, L->s, 1e200); }

struct edit {
    const char *what;
    edit_fn fn;
    int lazy; /* applies to the Gram route (1), the wide route (0), or both (-1) */
};

static const struct edit EDITS[] = {
    { "decomposition RANK 0", edit_jac_rank_0, -1 },
    { "basis index == rank", edit_index_is_rank, -1 },
    { "all-zero RNG state", edit_rng_zero, -1 },
    { "basis row off by 1e-6", edit_basis_off, -1 },
    { "unused tau non-zero", edit_tau_last, 1 },
    { "s_1 off by 1e-6 relative", edit_s0_relative, 1 },
    { "s_1 = 1e200 (s_1^2 overflows)", edit_s0_huge, 1 },
    { "vector flag 0 on the wide route", edit_have_0, 0 },
    { "singular values unsorted", edit_swap_s, 0 },
};

static void check_edits(size_t m, size_t n, int lazy, const double *s, uint64_t seed)
{
    fixture fx;
    layout L;
    unsigned char *copy;
    open_saved(&fx, m, n, s, seed);
    L = layout_of(fx.buf, fx.len);
    assert_int_equal(L.lazy, lazy);
    copy = malloc(fx.len);
    assert_non_null(copy);
    for (size_t i = 0; i < sizeof EDITS / sizeof *EDITS; i++) {
        if (EDITS[i].lazy != -1 && EDITS[i].lazy != lazy)
            continue;
        memcpy(copy, fx.buf, fx.len);
        EDITS[i].fn(copy, &L);
        reseal(copy, fx.len);
        expect_rejected(&fx, copy, fx.len, EDITS[i].what);
    }
    /* the unedited string, resealed, still loads: the edits alone were caught */
    memcpy(copy, fx.buf, fx.len);
    reseal(copy, fx.len);
    assert_int_equal(dss_search_load(fx.search, copy, fx.len), DSS_OK);
    free(copy);
    close_saved(&fx);
}

static void every_edited_field_is_rejected(void **state)
{
    const double s_wide[3] = { 3.0, 2.0, 0.5 };
    (void)state;
    check_edits(7, 5, 1, NULL, 23);   /* Gram route: lazy vectors, rank n */
    check_edits(3, 5, 0, s_wide, 24); /* wide route: vectors stored, rank m */
}

static void trailing_bytes_and_a_rank_above_min_n_m_are_rejected(void **state)
{
    fixture fx;
    layout L;
    unsigned char *longer;
    (void)state;
    open_saved(&fx, 3, 5, NULL, 25);
    L = layout_of(fx.buf, fx.len);
    longer = calloc(1, fx.len + 8);
    assert_non_null(longer);
    /* 8 zero bytes before the CRC */
    memcpy(longer, fx.buf, fx.len - 4);
    reseal(longer, fx.len + 8);
    expect_rejected(&fx, longer, fx.len + 8, "8 trailing bytes");
    /* rank 4 > min(n, m) = 3, with one more availability flag so that the rest still lines up
       up to the singular values (the allocator's guard bytes catch a write past avail) */
    memcpy(longer, fx.buf, L.avail + L.rank);
    longer[L.avail + L.rank] = 1;
    memcpy(longer + L.avail + L.rank + 1, fx.buf + L.avail + L.rank, fx.len - L.avail - L.rank);
    wr64(longer, L.rank_at, L.rank + 1);
    reseal(longer, fx.len + 1);
    expect_rejected(&fx, longer, fx.len + 1, "rank above min(n, m)");
    free(longer);
    close_saved(&fx);
}

/*
 * A lazy (Gram route) decomposition always has rank n. The string of a lazy session with its
 * last singular triple cut out (rank n - 1, one availability flag, value, vector flag and vector
 * row fewer) is consistent in every other respect; the session it loads into has the same
 * singular values in its scratch slot (a linear model: every Jacobian is the same), so only the
 * rank rule can reject it.
 */
static void a_lazy_decomposition_of_rank_below_n_is_rejected(void **state)
{
    fixture fx;
    layout L;
    unsigned char *cut;
    size_t len, at = 0;
    (void)state;
    open_saved(&fx, 7, 5, NULL, 29);
    assert_int_equal(dss_search_set(fx.search, DSS_SEARCH_SAMPLER, DSS_SAMPLER_TOP), DSS_OK);
    assert_int_equal(dss_search_commit(fx.search, 0.1), DSS_OK); /* indices 0, 1 */
    assert_int_equal(dss_search_save(fx.search, fx.buf, fx.len, &fx.len), DSS_OK);
    L = layout_of(fx.buf, fx.len);
    assert_int_equal(L.lazy, 1);
    assert_int_equal(L.rank, L.n);
    len = fx.len - 1 - 8 - 1 - 8 * L.n;
    cut = malloc(len);
    assert_non_null(cut);
    /* copy [from, to) of the original */
#define COPY(from, to) (memcpy(cut + at, fx.buf + (from), (to) - (from)), at += (to) - (from))
    COPY(0, L.avail + L.n - 1);
    COPY(L.avail + L.n, L.s + 8 * (L.n - 1));
    COPY(L.s + 8 * L.n, L.have + L.n - 1);
    COPY(L.have + L.n, L.v + 8 * L.n * (L.n - 1));
    COPY(L.v + 8 * L.n * L.n, fx.len);
#undef COPY
    assert_int_equal(at, len);
    wr64(cut, L.rank_at, L.n - 1);
    reseal(cut, len);
    expect_rejected(&fx, cut, len, "lazy decomposition of rank n - 1");
    free(cut);
    close_saved(&fx);
}

static void save_into_a_buffer_one_byte_short_writes_nothing(void **state)
{
    fixture fx;
    unsigned char *out;
    size_t len = 0;
    (void)state;
    open_saved(&fx, 7, 5, NULL, 26);
    out = malloc(fx.len);
    assert_non_null(out);
    memset(out, 0xEE, fx.len);
    assert_int_equal(dss_search_save(fx.search, out, fx.len - 1, &len), DSS_EINVAL);
    for (size_t i = 0; i < fx.len; i++)
        assert_int_equal(out[i], 0xEE);
    free(out);
    close_saved(&fx);
}

/*
 * A failed load parses its body into the scratch decomposition slot before it finds the fault
 * (here: trailing bytes). When that slot held the decomposition of a step in the undo history,
 * undo must not take what the load left there for it: it recomputes it.
 */
static void undo_after_a_failed_load_recomputes_the_overwritten_decomposition(void **state)
{
    fixture a, b;
    support_snapshot start;
    unsigned char *longer;
    double z0[5] = { 0.1, -0.2, 0.3, 0.0, 0.5 };
    const double other_s[5] = { 9.0, 7.0, 5.0, 3.0, 1.0 };
    (void)state;
    a.lm = lin_create(7, 5, NULL, 27);
    assert_non_null(a.lm);
    assert_int_equal(lin_dss_model(a.lm, LIN_WITH_JACOBIAN, &a.model), DSS_OK);
    assert_int_equal(dss_search_create(&a.search, a.model), DSS_OK);
    assert_int_equal(dss_search_start(a.search, z0), DSS_OK);
    assert_int_equal(support_snapshot_take(a.search, 5, &start), 0);
    /* two recomputations: the start's decomposition now sits in the scratch slot */
    assert_int_equal(dss_search_commit(a.search, 0.9), DSS_OK);
    assert_int_equal(dss_search_commit(a.search, 0.1), DSS_OK);

    open_saved(&b, 7, 5, other_s, 28); /* same shape, other singular values */
    longer = calloc(1, b.len + 8);
    assert_non_null(longer);
    memcpy(longer, b.buf, b.len - 4);
    reseal(longer, b.len + 8);
    assert_int_equal(dss_search_load(a.search, longer, b.len + 8), DSS_EFORMAT);

    assert_int_equal(dss_search_undo(a.search), DSS_OK);
    assert_int_equal(dss_search_undo(a.search), DSS_OK);
    {
        support_snapshot now;
        double sv[5];
        assert_int_equal(support_snapshot_take(a.search, 5, &now), 0);
        assert_true(support_snapshot_equal(&start, &now));
        support_snapshot_free(&now);
        assert_int_equal(dss_search_singular_values(a.search, sv, 5), DSS_OK);
        assert_true(fabs(sv[0] - a.lm->s[0]) <= 1e-10 * a.lm->s[0]);
    }
    free(longer);
    support_snapshot_free(&start);
    close_saved(&b);
    dss_search_destroy(a.search);
    dss_model_destroy(a.model);
    lin_destroy(a.lm);
}

#define T(name) cmocka_unit_test_setup_teardown(name, support_leak_setup, support_leak_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(a_saved_string_ends_with_the_crc32_of_the_rest),
        T(a_string_with_an_empty_subspace_is_rejected),
        T(every_edited_field_is_rejected),
        T(trailing_bytes_and_a_rank_above_min_n_m_are_rejected),
        T(a_lazy_decomposition_of_rank_below_n_is_rejected),
        T(save_into_a_buffer_one_byte_short_writes_nothing),
        T(undo_after_a_failed_load_recomputes_the_overwritten_decomposition),
    };
    return support_leak_exit(cmocka_run_group_tests_name("persist_edges", tests, NULL, NULL));
}
