/* dss_line at its edges: which grid peaks REFINE 2 refines (a two-point plateau counts once,
 * the right end is a peak), the refinement's promised accuracy on a flat (quartic) maximum, a
 * negative progress return, and buffers regrown without a leak.
 *
 * The generator is the identity on R^1 (n = m = 1) and the segment is [0, 1], so the score
 * sees t itself. Grids of 2^k + 1 points make every t_i = i / 2^k exact, so the score's grid
 * values below are exact and its ties are real ties. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include <dss/dss.h>

#include "support.h"

static int identity_f(void *user, size_t k, const double *z, double *x)
{
    (void)user;
    memcpy(x, z, k * sizeof *x);
    return 0;
}

typedef struct fixture {
    dss_model *model;
    dss_line *line;
} fixture;

static const double LO[1] = { 0.0 }, HI[1] = { 1.0 };

static void open_fixture(fixture *fx)
{
    assert_int_equal(dss_model_create_with_allocator(&fx->model, 1, 1, identity_f, NULL,
                                                     support_allocator()), DSS_OK);
    assert_int_equal(dss_line_create_with_allocator(&fx->line, support_allocator()), DSS_OK);
}

static void close_fixture(fixture *fx)
{
    dss_line_destroy(fx->line);
    dss_model_destroy(fx->model);
}

/* ---- scores ----------------------------------------------------------------------------- */

static double tent(double x, double centre, double height, double slope)
{
    return height - slope * fabs(x - centre);
}

/*
 * Three grid peaks on the 9-point grid t = k/8 (exact values at k = 0..8):
 *   1, 7, 5, 7, 9, 9, 8, 8.5, 8
 * - a narrow spike of height 20 at 5/32 whose grid value (k = 1) is only 7: the third best peak;
 * - a tent of height 10 at 9/16, between k = 4 and k = 5, both exactly 9: a two-point plateau,
 *   one peak (index 4);
 * - a tent of height 8.5 at k = 7.
 * REFINE 2 refines the three best peaks, so it must find the spike; counting the plateau twice
 * would push the spike out. REFINE 1 refines the grid's best point only: the plateau's 10.
 */
static int three_peaks(void *user, size_t k, const double *x, double *score)
{
    (void)user;
    for (size_t i = 0; i < k; i++) {
        double t = x[i];
        double s = fmax(0.0, tent(t, 5.0 / 32, 20.0, 416.0));
        s = fmax(s, tent(t, 9.0 / 16, 10.0, 16.0));
        s = fmax(s, tent(t, 7.0 / 8, 8.5, 4.0));
        score[i] = s;
    }
    return 0;
}

static void refine_2_refines_a_two_point_plateau_once_and_the_third_peak(void **state)
{
    fixture fx;
    double t, s;
    (void)state;
    open_fixture(&fx);
    assert_int_equal(dss_line_set(fx.line, DSS_LINE_SAMPLES, 9), DSS_OK);
    assert_int_equal(dss_line_set(fx.line, DSS_LINE_REFINE, 2), DSS_OK);
    assert_int_equal(dss_find_optimal(fx.line, fx.model, LO, HI, three_peaks, NULL, &t, &s),
                     DSS_OK);
    /* the spike's bracket [0, 1/4] refined to 1e-6 in t: the score is within 416e-6 of 20 */
    assert_true(fabs(t - 5.0 / 32) <= 1e-6);
    assert_true(s >= 20.0 - 416e-6);

    /* REFINE 1: only the grid's best point (index 4 of the plateau) and its bracket [3/8, 5/8] */
    assert_int_equal(dss_line_set(fx.line, DSS_LINE_REFINE, 1), DSS_OK);
    assert_int_equal(dss_find_optimal(fx.line, fx.model, LO, HI, three_peaks, NULL, &t, &s),
                     DSS_OK);
    assert_true(fabs(t - 9.0 / 16) <= 1e-6);
    assert_true(s >= 10.0 - 16e-6 && s <= 10.0);

    /* REFINE 0: the first of the tied best grid points */
    assert_int_equal(dss_line_set(fx.line, DSS_LINE_REFINE, 0), DSS_OK);
    assert_int_equal(dss_find_optimal(fx.line, fx.model, LO, HI, three_peaks, NULL, &t, &s),
                     DSS_OK);
    assert_true(t == 0.5 && s == 9.0);
    close_fixture(&fx);
}

/*
 * Four grid peaks, all scores negative, on the 17-point grid t = k/16: tents of height -80 at
 * 2.3/16 (grid value -83 at k = 2), -85 at k = 6, -86 at k = 10 and -90 at k = 14, over a floor of
 * -100. The fourth and worst peak comes last and must be dropped without disturbing the best
 * one, whose refinement then finds -80 at 2.3/16.
 */
static int four_peaks(void *user, size_t k, const double *x, double *score)
{
    (void)user;
    for (size_t i = 0; i < k; i++) {
        double t = x[i], s = -100.0;
        s = fmax(s, tent(t, 2.3 / 16, -80.0, 160.0));
        s = fmax(s, tent(t, 6.0 / 16, -85.0, 160.0));
        s = fmax(s, tent(t, 10.0 / 16, -86.0, 160.0));
        s = fmax(s, tent(t, 14.0 / 16, -90.0, 160.0));
        score[i] = s;
    }
    return 0;
}

static void refine_2_keeps_the_three_best_of_four_peaks(void **state)
{
    fixture fx;
    double t, s;
    (void)state;
    open_fixture(&fx);
    assert_int_equal(dss_line_set(fx.line, DSS_LINE_SAMPLES, 17), DSS_OK);
    assert_int_equal(dss_line_set(fx.line, DSS_LINE_REFINE, 2), DSS_OK);
    assert_int_equal(dss_find_optimal(fx.line, fx.model, LO, HI, four_peaks, NULL, &t, &s),
                     DSS_OK);
    assert_true(fabs(t - 2.3 / 16) <= 1e-6);
    assert_true(s >= -80.0 - 160e-6 && s <= -80.0);
    close_fixture(&fx);
}

/* A quartic maximum -(t - c)^4: so flat that a loose stopping rule stops early. The header
   promises the refined t within 1e-6 of the maximum. (No constant is added: 1 - d^4 would be
   exactly 1 for every |d| < 1e-4, a plateau no method can resolve.) */
static int quartic(void *user, size_t k, const double *x, double *score)
{
    const double c = *(const double *)user;
    for (size_t i = 0; i < k; i++) {
        double d = x[i] - c;
        score[i] = -(d * d) * (d * d);
    }
    return 0;
}

static void check_quartic(fixture *fx, double c, int refine)
{
    double t, s;
    assert_int_equal(dss_line_set(fx->line, DSS_LINE_REFINE, refine), DSS_OK);
    assert_int_equal(dss_find_optimal(fx->line, fx->model, LO, HI, quartic, &c, &t, &s), DSS_OK);
    if (!(fabs(t - c) <= 1e-6))
        fail_msg("refine %d, maximum at %.17g: t = %.17g (|t - c| = %.3g > 1e-6)", refine, c, t,
                 fabs(t - c));
    assert_true(s <= 0.0 && s >= -1e-24); /* (1e-6)^4 */
}

static void refinement_finds_a_quartic_maximum_to_1e_6(void **state)
{
    fixture fx;
    const double step = 1.0 / 16;
    (void)state;
    open_fixture(&fx);
    assert_int_equal(dss_line_set(fx.line, DSS_LINE_SAMPLES, 17), DSS_OK);
    /* left of its nearest grid point, right of it, and between the last point and the end */
    const double centres[] = { 5 * step - 0.37 * step, 11 * step + 0.29 * step, 1.0 - 0.3 * step,
                               0.21 * step };
    for (size_t i = 0; i < sizeof centres / sizeof *centres; i++) {
        check_quartic(&fx, centres[i], 1);
        check_quartic(&fx, centres[i], 2);
    }
    close_fixture(&fx);
}

/* ---- progress and buffers ------------------------------------------------------------------ */

static int negative_progress(void *user, int stage, size_t done, size_t total)
{
    (void)stage, (void)done, (void)total;
    ++*(int *)user;
    return -1;
}

static void a_negative_progress_return_cancels_the_search(void **state)
{
    fixture fx;
    int calls = 0;
    double t = -7.0, s = -7.0, c = 0.3;
    (void)state;
    open_fixture(&fx);
    assert_int_equal(dss_line_set(fx.line, DSS_LINE_SAMPLES, 65), DSS_OK);
    assert_int_equal(dss_line_set(fx.line, DSS_LINE_BATCH, 8), DSS_OK);
    assert_int_equal(dss_line_set_progress(fx.line, negative_progress, &calls), DSS_OK);
    assert_int_equal(dss_find_optimal(fx.line, fx.model, LO, HI, quartic, &c, &t, &s),
                     DSS_ECANCELLED);
    assert_int_equal(calls, 1);                   /* cancelled at the first report */
    assert_true(t == -7.0 && s == -7.0);          /* outputs untouched */
    assert_int_equal(dss_line_evaluations(fx.line), 0);
    close_fixture(&fx);
}

static void regrown_buffers_free_the_old_ones(void **state)
{
    fixture fx;
    double t, s, c = 0.6;
    size_t blocks;
    (void)state;
    open_fixture(&fx);
    assert_int_equal(dss_line_set(fx.line, DSS_LINE_SAMPLES, 33), DSS_OK);
    assert_int_equal(dss_line_set(fx.line, DSS_LINE_BATCH, 2), DSS_OK);
    assert_int_equal(dss_find_optimal(fx.line, fx.model, LO, HI, quartic, &c, &t, &s), DSS_OK);
    blocks = support_live_blocks();
    /* a larger batch regrows every per-point buffer; a wider model the per-coordinate ones */
    for (double batch = 3; batch <= 33; batch += 10) {
        assert_int_equal(dss_line_set(fx.line, DSS_LINE_BATCH, batch), DSS_OK);
        assert_int_equal(dss_find_optimal(fx.line, fx.model, LO, HI, quartic, &c, &t, &s), DSS_OK);
        assert_int_equal(support_live_blocks(), blocks);
    }
    assert_int_equal(dss_line_evaluations(fx.line), 33);
    close_fixture(&fx); /* the teardown checks that every block is freed */
}

#define T(name) cmocka_unit_test_setup_teardown(name, support_leak_setup, support_leak_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(refine_2_refines_a_two_point_plateau_once_and_the_third_peak),
        T(refine_2_keeps_the_three_best_of_four_peaks),
        T(refinement_finds_a_quartic_maximum_to_1e_6),
        T(a_negative_progress_return_cancels_the_search),
        T(regrown_buffers_free_the_old_ones),
    };
    return support_leak_exit(cmocka_run_group_tests_name("line_edges", tests, NULL, NULL));
}
