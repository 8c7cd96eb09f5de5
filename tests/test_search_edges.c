/* dss_search at its edges: a negative progress return, RANDOMIZED with more directions than
 * RANK, an undo history resized while it holds steps, the exact centre test of a commit
 * (the Fast2Sum tie), undo back to a ROWS-mode restart whose decomposition was evicted, the byte
 * meter against the allocator's own count, and workspaces regrown without a leak.
 *
 * Every model comes from lin_dss_model (support.c), whose allocator counts blocks: the teardown
 * of each test checks that everything was freed. */
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

typedef struct fixture {
    lin_model *lm;
    dss_model *model;
    dss_search *search;
} fixture;

static void open_fixture(fixture *fx, size_t m, size_t n, unsigned flags, uint64_t seed)
{
    fx->lm = lin_create(m, n, NULL, seed);
    assert_non_null(fx->lm);
    assert_int_equal(lin_dss_model(fx->lm, flags, &fx->model), DSS_OK);
    assert_int_equal(dss_search_create(&fx->search, fx->model), DSS_OK);
}

static void close_fixture(fixture *fx)
{
    dss_search_destroy(fx->search);
    dss_model_destroy(fx->model);
    lin_destroy(fx->lm);
}

static double stat(const dss_search *search, int key)
{
    double v = -1.0;
    assert_int_equal(dss_search_stat(search, key, &v), DSS_OK);
    return v;
}

static void start_at(fixture *fx, double value)
{
    double z0[16];
    assert_true(fx->lm->n <= 16);
    for (size_t i = 0; i < fx->lm->n; i++)
        z0[i] = value + 0.25 * (double)i;
    assert_int_equal(dss_search_start(fx->search, z0), DSS_OK);
}

/* ---- progress ---------------------------------------------------------------------------- */

static int negative_progress(void *user, int stage, size_t done, size_t total)
{
    (void)stage, (void)done, (void)total;
    ++*(int *)user;
    return -1;
}

static void a_negative_progress_return_cancels_start_and_changes_nothing(void **state)
{
    fixture fx;
    support_snapshot before;
    int calls = 0;
    double z0[4] = { 0.5, -0.5, 1.0, 0.0 };
    (void)state;
    open_fixture(&fx, 6, 4, LIN_WITH_JACOBIAN, 11);
    assert_int_equal(support_snapshot_take(fx.search, 4, &before), 0);
    assert_int_equal(dss_search_set_progress(fx.search, negative_progress, &calls), DSS_OK);
    assert_int_equal(dss_search_start(fx.search, z0), DSS_ECANCELLED);
    assert_true(calls >= 1);
    assert_true(support_snapshot_matches(fx.search, 4, &before));
    support_snapshot_free(&before);
    close_fixture(&fx);
}

/* ---- RANDOMIZED: the rank is RANK, and l may not exceed it -------------------------------- */

static void randomized_rejects_more_directions_than_rank(void **state)
{
    fixture fx;
    support_snapshot before;
    double z0[8] = { 0 };
    (void)state;
    open_fixture(&fx, 10, 8, LIN_WITH_VJP | LIN_WITH_JVP, 12);
    assert_int_equal(dss_search_set(fx.search, DSS_SEARCH_JACOBIAN, DSS_JACOBIAN_RANDOMIZED),
                     DSS_OK);
    assert_int_equal(dss_search_set(fx.search, DSS_SEARCH_RANK, 2), DSS_OK);
    assert_int_equal(dss_search_set(fx.search, DSS_SEARCH_SUBSPACE_DIM, 3), DSS_OK);
    assert_int_equal(support_snapshot_take(fx.search, 8, &before), 0);
    assert_int_equal(dss_search_start(fx.search, z0), DSS_EINVAL);
    assert_true(support_snapshot_matches(fx.search, 8, &before));
    support_snapshot_free(&before);

    assert_int_equal(dss_search_set(fx.search, DSS_SEARCH_SUBSPACE_DIM, 2), DSS_OK);
    assert_int_equal(dss_search_start(fx.search, z0), DSS_OK);
    assert_int_equal(dss_search_rank(fx.search), 2);
    /* and a later step that asks for 3 again fails too */
    assert_int_equal(dss_search_set(fx.search, DSS_SEARCH_SUBSPACE_DIM, 3), DSS_OK);
    assert_int_equal(dss_search_resample(fx.search), DSS_EINVAL);
    close_fixture(&fx);
}

/* ---- the undo ring resized with steps in it ----------------------------------------------- */

#define NH 5

static void centre(const fixture *fx, double *c)
{
    assert_int_equal(dss_search_center(fx->search, c), DSS_OK);
}

static void undo_to(fixture *fx, const double *expected)
{
    double c[NH];
    assert_int_equal(dss_search_undo(fx->search), DSS_OK);
    centre(fx, c);
    assert_memory_equal(c, expected, sizeof c);
}

static void history_grown_or_shrunk_keeps_its_newest_steps_in_order(void **state)
{
    fixture fx;
    double c[8][NH];
    const double ts[] = { 0.9, 0.1, 0.8, 0.7, 0.2, 0.95 };
    (void)state;
    open_fixture(&fx, 7, NH, LIN_WITH_JACOBIAN, 13);
    assert_int_equal(dss_search_set(fx.search, DSS_SEARCH_HISTORY, 4), DSS_OK);
    start_at(&fx, 0.1);
    centre(&fx, c[0]);
    for (int i = 0; i < 3; i++) { /* c[1..3]: three steps in a ring of 4 */
        assert_int_equal(dss_search_commit(fx.search, ts[i]), DSS_OK);
        centre(&fx, c[i + 1]);
    }
    /* grown to 128 with the 3 steps in it: the next commit moves them into the new ring */
    assert_int_equal(dss_search_set(fx.search, DSS_SEARCH_HISTORY, 128), DSS_OK);
    assert_int_equal(dss_search_commit(fx.search, ts[3]), DSS_OK);
    centre(&fx, c[4]);
    for (int i = 3; i >= 0; i--)
        undo_to(&fx, c[i]);
    assert_int_equal(dss_search_undo(fx.search), DSS_ESTATE);

    /* redo 5 steps (c[1..5]), then shrink to 2: only the 2 newest steps stay, in order */
    for (int i = 0; i < 5; i++) {
        assert_int_equal(dss_search_commit(fx.search, ts[i]), DSS_OK);
        centre(&fx, c[i + 1]);
    }
    assert_int_equal(dss_search_set(fx.search, DSS_SEARCH_HISTORY, 3), DSS_OK);
    assert_int_equal(dss_search_commit(fx.search, ts[5]), DSS_OK); /* the ring shrinks here */
    centre(&fx, c[6]);
    undo_to(&fx, c[5]);
    undo_to(&fx, c[4]);
    undo_to(&fx, c[3]);
    assert_int_equal(dss_search_undo(fx.search), DSS_ESTATE);

    /* shrunk below the steps held, undo at once (no step in between) */
    for (int i = 0; i < 3; i++)
        assert_int_equal(dss_search_commit(fx.search, ts[i]), DSS_OK);
    centre(&fx, c[7]);
    assert_int_equal(dss_search_set(fx.search, DSS_SEARCH_HISTORY, 1), DSS_OK);
    assert_int_equal(dss_search_undo(fx.search), DSS_OK);
    assert_int_equal(dss_search_undo(fx.search), DSS_ESTATE);
    close_fixture(&fx);
}

/* Beyond the 256 entries allocated with the ring, entries are allocated as they first fill:
   a ring of 300 used to the full, then undone to its start. */
static void a_history_longer_than_its_eager_entries_undoes_every_step(void **state)
{
    fixture fx;
    enum { STEPS = 300 };
    double (*c)[NH] = malloc((STEPS + 1) * sizeof *c);
    (void)state;
    assert_non_null(c);
    open_fixture(&fx, 7, NH, LIN_WITH_JACOBIAN, 18);
    assert_int_equal(dss_search_set(fx.search, DSS_SEARCH_HISTORY, STEPS), DSS_OK);
    assert_int_equal(dss_search_set(fx.search, DSS_SEARCH_CENTER_TOLERANCE, 0.5), DSS_OK);
    start_at(&fx, 0.0);
    centre(&fx, c[0]);
    for (int i = 1; i <= STEPS; i++) { /* commits that keep the Jacobian: cheap */
        assert_int_equal(dss_search_commit(fx.search, i % 2 ? 0.6 : 0.45), DSS_OK);
        centre(&fx, c[i]);
    }
    for (int i = STEPS - 1; i >= 0; i--)
        undo_to(&fx, c[i]);
    assert_int_equal(dss_search_undo(fx.search), DSS_ESTATE);
    close_fixture(&fx);
    free(c);
}

/* ---- the centre test of a commit, exactly -------------------------------------------------- */

static void commit_decides_the_centre_tolerance_exactly_at_a_rounding_tie(void **state)
{
    fixture fx;
    /* tol = 1/2 - 2^-54 is a double. For t = 3 * 2^-56, 1/2 - t = 1/2 - 0.75 * 2^-54 rounds to
       tol itself, but the exact distance is 2^-56 more than tol: the Jacobian is recomputed.
       For t = 2^-54 the distance is exactly tol: kept. */
    const double tol = 0.5 - 0x1p-54;
    double svds;
    (void)state;
    open_fixture(&fx, 6, 4, LIN_WITH_JACOBIAN, 14);
    assert_int_equal(dss_search_set(fx.search, DSS_SEARCH_CENTER_TOLERANCE, tol), DSS_OK);
    start_at(&fx, 0.0);
    svds = stat(fx.search, DSS_STAT_DECOMPOSITIONS);
    assert_int_equal(dss_search_commit(fx.search, 0x1p-54), DSS_OK);
    assert_true(stat(fx.search, DSS_STAT_DECOMPOSITIONS) == svds);
    assert_int_equal(dss_search_commit(fx.search, 3 * 0x1p-56), DSS_OK);
    assert_true(stat(fx.search, DSS_STAT_DECOMPOSITIONS) == svds + 1);
    /* above the centre: 1 - 2^-53 (the largest double below 1) is 2^-54 closer than tol
       (kept), 1 is 2^-54 farther (recomputed) */
    assert_int_equal(dss_search_commit(fx.search, 1.0 - 0x1p-53), DSS_OK);
    assert_true(stat(fx.search, DSS_STAT_DECOMPOSITIONS) == svds + 1);
    assert_int_equal(dss_search_commit(fx.search, 1.0), DSS_OK);
    assert_true(stat(fx.search, DSS_STAT_DECOMPOSITIONS) == svds + 2);
    close_fixture(&fx);
}

/* ---- undo to a ROWS-mode restart ---------------------------------------------------------- */

static void undo_to_a_rows_mode_restart_recomputes_the_same_decomposition(void **state)
{
    fixture fx;
    support_snapshot restart;
    (void)state;
    open_fixture(&fx, 12, 5, LIN_WITH_JACOBIAN, 15);
    assert_int_equal(dss_search_set(fx.search, DSS_SEARCH_JACOBIAN, DSS_JACOBIAN_ROWS), DSS_OK);
    assert_int_equal(dss_search_set(fx.search, DSS_SEARCH_JACOBIAN_ROWS, 3), DSS_OK);
    assert_int_equal(dss_search_set(fx.search, DSS_SEARCH_SEED, 77), DSS_OK);
    start_at(&fx, 0.3);
    assert_int_equal(dss_search_commit(fx.search, 0.9), DSS_OK);
    assert_int_equal(dss_search_resample(fx.search), DSS_OK);
    start_at(&fx, -0.2); /* the restart: history cleared, the stream reseeded */
    assert_int_equal(support_snapshot_take(fx.search, 5, &restart), 0);
    /* three recomputations evict the restart's decomposition from the three slots */
    assert_int_equal(dss_search_commit(fx.search, 0.95), DSS_OK);
    assert_int_equal(dss_search_commit(fx.search, 0.05), DSS_OK);
    assert_int_equal(dss_search_commit(fx.search, 0.9), DSS_OK);
    assert_int_equal(dss_search_undo(fx.search), DSS_OK);
    assert_int_equal(dss_search_undo(fx.search), DSS_OK);
    assert_true(stat(fx.search, DSS_STAT_UNDO_RECOMPUTES) == 0);
    assert_int_equal(dss_search_undo(fx.search), DSS_OK);
    assert_true(stat(fx.search, DSS_STAT_UNDO_RECOMPUTES) == 1);
    /* the same rows drawn again: the same singular values and basis, bit for bit */
    {
        support_snapshot now;
        assert_int_equal(support_snapshot_take(fx.search, 5, &now), 0);
        assert_true(support_snapshot_equal(&restart, &now));
        support_snapshot_free(&now);
    }
    assert_int_equal(dss_search_undo(fx.search), DSS_ESTATE);
    support_snapshot_free(&restart);
    close_fixture(&fx);
}

/* ---- memory: the meter and regrown workspaces ----------------------------------------------- */

/*
 * The library's allocator adds one fixed-size header to every block it asks the host for, and
 * DSS_STAT_BYTES_HELD counts the payloads: host bytes - held = blocks x header at every moment,
 * with the same header size each time. (The search's blocks are the host's blocks allocated
 * since the model was created.)
 */
typedef struct meter_check {
    size_t bytes0, blocks0;
    long header; /* -1 until the first check */
    double peak_seen;
} meter_check;

static void check_meter(const fixture *fx, meter_check *mc)
{
    const double held = stat(fx->search, DSS_STAT_BYTES_HELD);
    const double peak = stat(fx->search, DSS_STAT_PEAK_BYTES);
    const double host = (double)(support_live_bytes() - mc->bytes0);
    const double blocks = (double)(support_live_blocks() - mc->blocks0);
    const double per_block = (host - held) / blocks;
    assert_true(blocks > 0);
    if (!(per_block == floor(per_block) && per_block >= 0 && per_block <= 256))
        fail_msg("held %.0f bytes, host %.0f bytes in %.0f blocks: not a fixed header", held, host,
                 blocks);
    if (mc->header < 0)
        mc->header = (long)per_block;
    assert_int_equal((long)per_block, mc->header);
    mc->peak_seen = fmax(mc->peak_seen, held);
    assert_true(peak >= mc->peak_seen);
}

static void the_byte_meter_follows_every_allocation_and_free(void **state)
{
    fixture fx;
    meter_check mc = { 0, 0, -1, 0.0 };
    (void)state;
    fx.lm = lin_create(9, 6, NULL, 16);
    assert_non_null(fx.lm);
    assert_int_equal(lin_dss_model(fx.lm, LIN_WITH_JACOBIAN | LIN_WITH_VJP | LIN_WITH_JVP,
                                   &fx.model), DSS_OK);
    mc.bytes0 = support_live_bytes();
    mc.blocks0 = support_live_blocks();
    assert_int_equal(dss_search_create(&fx.search, fx.model), DSS_OK);
    check_meter(&fx, &mc);
    start_at(&fx, 0.2);
    check_meter(&fx, &mc);
    assert_int_equal(dss_search_commit(fx.search, 0.9), DSS_OK);
    assert_int_equal(dss_search_commit(fx.search, 0.1), DSS_OK);
    check_meter(&fx, &mc);
    /* the ring is freed, then regrown; the workspaces of other routes grow */
    assert_int_equal(dss_search_set(fx.search, DSS_SEARCH_HISTORY, 0), DSS_OK);
    assert_int_equal(dss_search_commit(fx.search, 0.8), DSS_OK);
    check_meter(&fx, &mc);
    assert_int_equal(dss_search_set(fx.search, DSS_SEARCH_HISTORY, 3), DSS_OK);
    assert_int_equal(dss_search_set(fx.search, DSS_SEARCH_JACOBIAN, DSS_JACOBIAN_RANDOMIZED),
                     DSS_OK);
    assert_int_equal(dss_search_set(fx.search, DSS_SEARCH_RANK, 3), DSS_OK);
    assert_int_equal(dss_search_commit(fx.search, 0.9), DSS_OK);
    check_meter(&fx, &mc);
    assert_int_equal(dss_search_set(fx.search, DSS_SEARCH_JACOBIAN, DSS_JACOBIAN_FINITE_DIFF),
                     DSS_OK);
    assert_int_equal(dss_search_commit(fx.search, 0.1), DSS_OK);
    check_meter(&fx, &mc);
    close_fixture(&fx);
}

static void workspaces_regrown_by_mode_changes_are_freed(void **state)
{
    fixture fx;
    size_t blocks;
    (void)state;
    open_fixture(&fx, 10, 6, LIN_WITH_JACOBIAN | LIN_WITH_VJP | LIN_WITH_JVP, 17);
    assert_int_equal(dss_search_set(fx.search, DSS_SEARCH_JACOBIAN, DSS_JACOBIAN_ROWS), DSS_OK);
    assert_int_equal(dss_search_set(fx.search, DSS_SEARCH_JACOBIAN_ROWS, 2), DSS_OK);
    start_at(&fx, 0.0);
    /* ROWS 2 -> 4 -> 8 grows the Jacobian block and the row list; FULL grows it to m rows */
    for (double rows = 4; rows <= 8; rows *= 2) {
        assert_int_equal(dss_search_set(fx.search, DSS_SEARCH_JACOBIAN_ROWS, rows), DSS_OK);
        assert_int_equal(dss_search_commit(fx.search, 0.9), DSS_OK);
    }
    assert_int_equal(dss_search_set(fx.search, DSS_SEARCH_JACOBIAN, DSS_JACOBIAN_FULL), DSS_OK);
    assert_int_equal(dss_search_commit(fx.search, 0.1), DSS_OK);
    assert_int_equal(dss_search_set(fx.search, DSS_SEARCH_JACOBIAN, DSS_JACOBIAN_RANDOMIZED),
                     DSS_OK);
    for (double rank = 1; rank <= 5; rank += 2) {
        assert_int_equal(dss_search_set(fx.search, DSS_SEARCH_RANK, rank), DSS_OK);
        assert_int_equal(dss_search_commit(fx.search, 0.9), DSS_OK);
    }
    /* Decomposition slots get a route's buffers when that route first runs in them (issue 8,
     * bug 5), so a few more moved commits let every slot meet rank 5; once grown, the same
     * steps allocate nothing more, not even a block of the same size */
    for (int i = 0; i < 3; i++)
        assert_int_equal(dss_search_commit(fx.search, i % 2 ? 0.1 : 0.9), DSS_OK);
    blocks = support_allocations();
    assert_int_equal(dss_search_commit(fx.search, 0.1), DSS_OK);
    assert_int_equal(dss_search_commit(fx.search, 0.9), DSS_OK);
    assert_int_equal(dss_search_resample(fx.search), DSS_OK);
    assert_int_equal(support_allocations(), blocks);
    close_fixture(&fx); /* the teardown checks that every block was freed */
}

#define T(name) cmocka_unit_test_setup_teardown(name, support_leak_setup, support_leak_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(a_negative_progress_return_cancels_start_and_changes_nothing),
        T(randomized_rejects_more_directions_than_rank),
        T(history_grown_or_shrunk_keeps_its_newest_steps_in_order),
        T(a_history_longer_than_its_eager_entries_undoes_every_step),
        T(commit_decides_the_centre_tolerance_exactly_at_a_rounding_tie),
        T(undo_to_a_rows_mode_restart_recomputes_the_same_decomposition),
        T(the_byte_meter_follows_every_allocation_and_free),
        T(workspaces_regrown_by_mode_changes_are_freed),
    };
    return support_leak_exit(cmocka_run_group_tests_name("search_edges", tests, NULL, NULL));
}
