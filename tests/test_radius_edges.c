/* The slider-range policy at its edges, in the style of the other *_edges files: every test runs
 * under the counting allocator's leak check (support_leak_setup / teardown), on a linear model
 * whose callbacks can fail on demand.
 *
 * - A rejected policy value is DSS_EINVAL with a message naming the parameter and its range (the
 *   scale's bounds also say that they keep RADIUS_MIN <= 1 <= RADIUS_MAX), and changes nothing.
 * - A failed commit, commit_w or load leaves the scale where it was (the support snapshot holds
 *   parameters 17..22 and the slider radius); undo restores it; start resets it.
 * - commit_w reports the largest |w_i| as the reach; a version-2 string with fewer policy pairs
 *   loads with the others at their defaults (docs/format.md).
 * Expected values come from the documented rules (dss.h, docs/algorithm.md section 10). */
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

#define N 5
#define M 8

typedef struct fx {
    lin_model *lm;
    dss_model *model;
    dss_search *s;
    double base;   /* DSS_SEARCH_RADIUS in force */
} fx;

/* A started session under `policy`, l = 2, default policy parameters. */
static void open_fx(fx *f, int policy)
{
    double z0[N];
    f->lm = lin_create(M, N, NULL, 31);
    assert_non_null(f->lm);
    assert_int_equal(lin_dss_model(f->lm, LIN_WITH_JACOBIAN, &f->model), DSS_OK);
    assert_int_equal(dss_search_create(&f->s, f->model), DSS_OK);
    assert_int_equal(dss_search_set(f->s, DSS_SEARCH_RADIUS_POLICY, policy), DSS_OK);
    assert_int_equal(dss_search_set(f->s, DSS_SEARCH_SUBSPACE_DIM, 2), DSS_OK);
    for (size_t i = 0; i < N; i++)
        z0[i] = 0.1 * (double)i - 0.2;
    assert_int_equal(dss_search_start(f->s, z0), DSS_OK);
    assert_int_equal(dss_search_get(f->s, DSS_SEARCH_RADIUS, &f->base), DSS_OK);
}

static void close_fx(fx *f)
{
    dss_search_destroy(f->s);
    dss_model_destroy(f->model);
    lin_destroy(f->lm);
}

static double slider(const dss_search *s)
{
    double r = -1.0;
    assert_int_equal(dss_search_slider_radius(s, &r), DSS_OK);
    return r;
}

static void expect_contains(const char *text, const char *part)
{
    if (strstr(text, part) == NULL)
        fail_msg("\"%s\" does not contain \"%s\"", text, part);
}

static void rejected_values_name_their_range_and_change_nothing(void **state)
{
    static const struct { int param; double value; const char *name, *range; } CASES[] = {
        { DSS_SEARCH_RADIUS_POLICY, 3, "DSS_SEARCH_RADIUS_POLICY", "(an integer in [0, 2])" },
        { DSS_SEARCH_RADIUS_GROW, 1.0, "DSS_SEARCH_RADIUS_GROW", "(in (1, 16])" },
        { DSS_SEARCH_RADIUS_SHRINK, 0.0, "DSS_SEARCH_RADIUS_SHRINK", "(in (0, 1))" },
        { DSS_SEARCH_RADIUS_MIN, 1.5, "DSS_SEARCH_RADIUS_MIN",
          "(in (0, 1]: the scale's bounds keep RADIUS_MIN <= 1 <= RADIUS_MAX)" },
        { DSS_SEARCH_RADIUS_MAX, 0.5, "DSS_SEARCH_RADIUS_MAX",
          "(in [1, 1000000]: the scale's bounds keep RADIUS_MIN <= 1 <= RADIUS_MAX)" },
        { DSS_SEARCH_STALL_COMMITS, 2.5, "DSS_SEARCH_STALL_COMMITS",
          "(an integer in [0, 1000000])" },
        { DSS_SEARCH_RADIUS_MAX, NAN, "DSS_SEARCH_RADIUS_MAX", "[1, 1000000]" },
    };
    fx f;
    (void)state;
    open_fx(&f, DSS_RADIUS_ZOOM);
    assert_int_equal(dss_search_commit(f.s, 0.5), DSS_OK);    /* zoomed in: scale 1/2 */
    assert_true(slider(f.s) == f.base / 2);
    for (size_t i = 0; i < sizeof CASES / sizeof *CASES; i++) {
        support_snapshot before;
        assert_int_equal(support_snapshot_take(f.s, N, &before), 0);
        assert_int_equal(dss_search_set(f.s, CASES[i].param, CASES[i].value), DSS_EINVAL);
        expect_contains(dss_search_errmsg(f.s), "dss_search_set: ");
        expect_contains(dss_search_errmsg(f.s), CASES[i].name);
        expect_contains(dss_search_errmsg(f.s), CASES[i].range);
        assert_true(support_snapshot_matches(f.s, N, &before));
        support_snapshot_free(&before);
    }
    close_fx(&f);
}

/* ADAPTIVE: a commit at an end would double the scale; when the Jacobian at the new centre
   fails, nothing changes, and the next successful commit grows it from where it was. */
static void a_failed_commit_keeps_the_scale(void **state)
{
    fx f;
    support_snapshot before;
    const double w_end[2] = { 0.25, -1.0 };
    (void)state;
    open_fx(&f, DSS_RADIUS_ADAPTIVE);
    assert_int_equal(support_snapshot_take(f.s, N, &before), 0);
    lin_fault(f.lm, LIN_JACOBIAN, LIN_FAULT_ERROR, 1);
    assert_int_equal(dss_search_commit(f.s, 1.0), DSS_ECALLBACK);
    assert_true(support_snapshot_matches(f.s, N, &before));
    lin_fault(f.lm, LIN_JACOBIAN, LIN_FAULT_NAN, 1);
    assert_int_equal(dss_search_commit_w(f.s, w_end), DSS_ENONFINITE);
    assert_true(support_snapshot_matches(f.s, N, &before));
    support_snapshot_free(&before);
    assert_true(slider(f.s) == f.base);
    /* commit_w's reach is the largest |w_i|: 1.0 here, an end: x2 */
    assert_int_equal(dss_search_commit_w(f.s, w_end), DSS_OK);
    assert_true(slider(f.s) == 2.0 * f.base);
    close_fx(&f);
}

static void undo_restores_the_scale_and_start_resets_it(void **state)
{
    fx f;
    double c[N];
    (void)state;
    open_fx(&f, DSS_RADIUS_ZOOM);
    assert_int_equal(dss_search_set(f.s, DSS_SEARCH_STALL_COMMITS, 3), DSS_OK);
    assert_int_equal(dss_search_commit(f.s, 0.5), DSS_OK);     /* 1/2, one centred */
    assert_int_equal(dss_search_commit(f.s, 0.52), DSS_OK);    /* 1/4, two */
    assert_true(slider(f.s) == f.base / 4);
    assert_int_equal(dss_search_undo(f.s), DSS_OK);
    assert_true(slider(f.s) == f.base / 2);
    /* the stall count came back too: two more centred commits make the third, an escape at
       scale 1 (without it the ladder would be at 1/8) */
    assert_int_equal(dss_search_commit(f.s, 0.5), DSS_OK);
    assert_true(slider(f.s) == f.base / 4);
    assert_int_equal(dss_search_commit(f.s, 0.5), DSS_OK);
    assert_true(slider(f.s) == f.base);
    /* start: scale 1 and no stall (two centred commits do not escape) */
    assert_int_equal(dss_search_commit(f.s, 0.5), DSS_OK);
    assert_int_equal(dss_search_center(f.s, c), DSS_OK);
    assert_int_equal(dss_search_start(f.s, c), DSS_OK);
    assert_true(slider(f.s) == f.base);
    assert_int_equal(dss_search_commit(f.s, 0.5), DSS_OK);
    assert_int_equal(dss_search_commit(f.s, 0.5), DSS_OK);
    assert_true(slider(f.s) == f.base / 4);
    close_fx(&f);
}

static void put_u64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

/* Drop the last `drop` policy pairs of a version-2 string (count and length fields follow). */
static size_t drop_policy_pairs(const unsigned char *src, size_t len, unsigned char *dst,
                                size_t drop)
{
    const size_t state = len - 4 - 32, pairs_end = state, count_at = state - 6 * 16 - 8;
    const size_t out = len - 16 * drop;
    uint32_t crc;
    memcpy(dst, src, pairs_end - 16 * drop);
    memcpy(dst + pairs_end - 16 * drop, src + state, 32);
    put_u64(dst + count_at, 6 - drop);
    put_u64(dst + 16, out);
    crc = support_crc32(dst, out - 4);
    for (int i = 0; i < 4; i++)
        dst[out - 4 + (size_t)i] = (unsigned char)(crc >> (8 * i));
    return out;
}

/* A string with pairs 17..19 only: MIN, MAX and STALL take their defaults (1/16, 2, 0) in the
   loading session whatever it had; the scale comes along. A failed load keeps the scale. */
static void fewer_policy_pairs_load_with_defaults_and_a_failed_load_keeps_the_scale(void **state)
{
    fx a, b;
    size_t len, len3;
    unsigned char *buf, *three;
    double v;
    support_snapshot before;
    (void)state;
    open_fx(&a, DSS_RADIUS_ZOOM);
    open_fx(&b, DSS_RADIUS_ADAPTIVE);
    assert_int_equal(dss_search_set(a.s, DSS_SEARCH_RADIUS_MAX, 4.0), DSS_OK);
    assert_int_equal(dss_search_set(a.s, DSS_SEARCH_STALL_COMMITS, 9), DSS_OK);
    assert_int_equal(dss_search_commit(a.s, 0.5), DSS_OK);     /* scale 1/2 */
    assert_int_equal(dss_search_set(b.s, DSS_SEARCH_RADIUS_MIN, 0.5), DSS_OK);
    assert_int_equal(dss_search_set(b.s, DSS_SEARCH_RADIUS_MAX, 8.0), DSS_OK);
    assert_int_equal(dss_search_save(a.s, NULL, 0, &len), DSS_OK);
    buf = malloc(len);
    three = malloc(len);
    assert_true(buf != NULL && three != NULL);
    assert_int_equal(dss_search_save(a.s, buf, len, &len), DSS_OK);
    len3 = drop_policy_pairs(buf, len, three, 3);
    /* a failed load first: the CRC off by one bit */
    three[len3 - 1] ^= 1;
    assert_int_equal(support_snapshot_take(b.s, N, &before), 0);
    assert_int_equal(dss_search_load(b.s, three, len3), DSS_EFORMAT);
    assert_true(support_snapshot_matches(b.s, N, &before));
    support_snapshot_free(&before);
    three[len3 - 1] ^= 1;
    assert_int_equal(dss_search_load(b.s, three, len3), DSS_OK);
    assert_int_equal(dss_search_get(b.s, DSS_SEARCH_RADIUS_POLICY, &v), DSS_OK);
    assert_true(v == DSS_RADIUS_ZOOM);
    assert_int_equal(dss_search_get(b.s, DSS_SEARCH_RADIUS_MIN, &v), DSS_OK);
    assert_true(v == 0.0625);
    assert_int_equal(dss_search_get(b.s, DSS_SEARCH_RADIUS_MAX, &v), DSS_OK);
    assert_true(v == 2.0);
    assert_int_equal(dss_search_get(b.s, DSS_SEARCH_STALL_COMMITS, &v), DSS_OK);
    assert_true(v == 0.0);
    assert_true(slider(b.s) == b.base / 2);
    free(buf);
    free(three);
    close_fx(&a);
    close_fx(&b);
}

#define T(name) cmocka_unit_test_setup_teardown(name, support_leak_setup, support_leak_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(rejected_values_name_their_range_and_change_nothing),
        T(a_failed_commit_keeps_the_scale),
        T(undo_restores_the_scale_and_start_resets_it),
        T(fewer_policy_pairs_load_with_defaults_and_a_failed_load_keeps_the_scale),
    };
    return support_leak_exit(cmocka_run_group_tests_name("radius_edges", tests, NULL, NULL));
}
