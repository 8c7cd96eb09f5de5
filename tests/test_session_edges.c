/* The transaction module's promise that a cancelled call changes nothing, where it is hardest:
 * a cancel at the end of DSS_STAGE_DECOMPOSE (done 1 of 1) comes after the new decomposition has
 * been written into the scratch slot, which may still hold an older step's decomposition that
 * the undo history refers to (by id). A session that meets such cancels in commits and in undo
 * recomputes must go on exactly like a twin that never made the cancelled calls: same snapshots
 * and the same draws after every step (near commits draw from the current slot's decomposition),
 * over a long random script of far and near commits and runs of undos. The model is nonlinear (dss_synthetic), so a decomposition taken
 * at another centre gives other draws. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>

#include <dss/dss.h>

#include "support.h"

#define N 6
#define M 9
#define STEPS 160

typedef struct canceller {
    int armed;      /* cancel at DSS_STAGE_DECOMPOSE, done 1 of 1 */
    size_t fired;
} canceller;

static int cancel_after_decompose(void *user, int stage, size_t done, size_t total)
{
    canceller *c = user;
    if (c->armed && stage == DSS_STAGE_DECOMPOSE && done == 1 && total == 1) {
        c->fired++;
        return 1;
    }
    return 0;
}

static void assert_twins(dss_search *a, dss_search *b, size_t step)
{
    support_snapshot sa, sb;
    assert_int_equal(support_snapshot_take(a, N, &sa), 0);
    assert_int_equal(support_snapshot_take(b, N, &sb), 0);
    if (!support_snapshot_equal(&sa, &sb))
        fail_msg("step %zu: the sessions show different states", step);
    support_snapshot_free(&sa);
    support_snapshot_free(&sb);
}

static void decompositions_cancelled_after_they_were_written_change_nothing(void **state)
{
    dss_synthetic *problem = NULL;
    dss_search *s = NULL, *twin = NULL;
    canceller c = { 0, 0 };
    support_rng r;
    double z0[N];
    size_t cancelled_commits = 0, cancelled_undos = 0;
    (void)state;
    assert_int_equal(dss_synthetic_create(&problem, N, M, 0.0, 7), DSS_OK);
    assert_int_equal(dss_synthetic_initial_point(problem, z0), DSS_OK);
    assert_int_equal(dss_search_create(&s, dss_synthetic_model(problem)), DSS_OK);
    assert_int_equal(dss_search_create(&twin, dss_synthetic_model(problem)), DSS_OK);
    assert_int_equal(dss_search_set(s, DSS_SEARCH_SUBSPACE_DIM, 2), DSS_OK);
    assert_int_equal(dss_search_set(twin, DSS_SEARCH_SUBSPACE_DIM, 2), DSS_OK);
    assert_int_equal(dss_search_set_progress(s, cancel_after_decompose, &c), DSS_OK);
    assert_int_equal(dss_search_start(s, z0), DSS_OK);
    assert_int_equal(dss_search_start(twin, z0), DSS_OK);
    support_rng_seed(&r, 2026);

    for (size_t step = 0; step < STEPS; step++) {
        const double u = support_rng_uniform(&r);
        const double far = support_rng_uniform(&r) < 0.5 ? 0.05 : 0.95;
        int rs, rt;
        if (u < 0.2) {          /* a commit far from the centre, cancelled after its SVD */
            c.armed = 1;
            assert_int_equal(dss_search_commit(s, far), DSS_ECANCELLED);
            c.armed = 0;
            cancelled_commits++;
        } else if (u < 0.45) {  /* a commit far from the centre: a new decomposition */
            assert_int_equal(dss_search_commit(s, far), DSS_OK);
            assert_int_equal(dss_search_commit(twin, far), DSS_OK);
        } else if (u < 0.55) {  /* near the centre: draws from the current decomposition */
            assert_int_equal(dss_search_commit(s, 0.5), DSS_OK);
            assert_int_equal(dss_search_commit(twin, 0.5), DSS_OK);
        } else {                /* 1 to 4 undos; a recompute one needs is cancelled once, then
                                   redone; then, half the time, a near commit (draws) */
            const size_t undos = 1 + (size_t)(4 * support_rng_uniform(&r));
            for (size_t k = 0; k < undos; k++) {
                c.armed = 1;
                rs = dss_search_undo(s);
                c.armed = 0;
                if (rs == DSS_ECANCELLED) {
                    cancelled_undos++;
                    rs = dss_search_undo(s);
                }
                rt = dss_search_undo(twin);
                assert_int_equal(rs, rt);
                assert_twins(s, twin, step);
            }
            if (support_rng_uniform(&r) < 0.5) {
                assert_int_equal(dss_search_commit(s, 0.5), DSS_OK);
                assert_int_equal(dss_search_commit(twin, 0.5), DSS_OK);
            }
        }
        assert_twins(s, twin, step);
    }
    /* the script really exercised both kinds of cancel */
    printf("session_edges: %zu cancelled commits, %zu cancelled undo recomputes\n",
           cancelled_commits, cancelled_undos);
    assert_true(cancelled_commits >= 20);
    assert_true(cancelled_undos >= 3);
    assert_int_equal(c.fired, cancelled_commits + cancelled_undos);
    dss_search_destroy(twin);
    dss_search_destroy(s);
    dss_synthetic_destroy(problem);
}

#define T(name) cmocka_unit_test_setup_teardown(name, support_leak_setup, support_leak_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(decompositions_cancelled_after_they_were_written_change_nothing),
    };
    return support_leak_exit(cmocka_run_group_tests_name("session_edges", tests, NULL, NULL));
}
