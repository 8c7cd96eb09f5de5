/*
 * Undo (dss_search_undo, DSS_SEARCH_HISTORY): after commits that moved or kept the Jacobian,
 * commit_w and resamples, undo goes back to the state before the step bit for bit (everything
 * the API shows, the parameters in force then, and the random stream: the same calls after the
 * undo give the same results as the first time), in every Jacobian mode and with l > 1.
 * Undoing far enough back recomputes decompositions the session no longer holds; a callback
 * that fails during that recomputation makes undo fail without damage to the session or to the
 * history.
 *
 * "Bit for bit" is a support_snapshot comparison (memcmp of centre, basis, basis indices,
 * singular values and parameters).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <dss/dss.h>

#include "support.h"

#define NMAX 40           /* largest latent dimension used here */
#define MAX_STEPS 16      /* longest script */

/* ---- session configurations ------------------------------------------------------------------ */

typedef struct mode_cfg {
    const char *name;
    size_t m, n;
    unsigned flags;       /* LIN_WITH_* */
    int jacobian;         /* DSS_JACOBIAN_* */
    size_t l;             /* 1 or 2 */
    size_t rows;          /* ROWS mode: rows drawn */
    size_t rank, oversample; /* RANDOMIZED mode */
    int sampler;
} mode_cfg;

static const mode_cfg MODES[] = {
    { "full, tall (Gram route, lazy vectors)", 20, 6, LIN_WITH_JACOBIAN, DSS_JACOBIAN_FULL, 1, 0, 0, 0,
      DSS_SAMPLER_SINGULAR },
    { "full, tall, l = 2", 20, 6, LIN_WITH_JACOBIAN, DSS_JACOBIAN_FULL, 2, 0, 0, 0,
      DSS_SAMPLER_SINGULAR },
    { "full, wide (dgesvd route)", 5, 8, LIN_WITH_JACOBIAN, DSS_JACOBIAN_FULL, 1, 0, 0, 0,
      DSS_SAMPLER_SINGULAR },
    { "rows (random rows from the stream)", 30, 8, LIN_WITH_JACOBIAN, DSS_JACOBIAN_ROWS, 1, 5, 0, 0,
      DSS_SAMPLER_SINGULAR },
    { "rows, l = 2", 30, 8, LIN_WITH_JACOBIAN, DSS_JACOBIAN_ROWS, 2, 5, 0, 0,
      DSS_SAMPLER_SINGULAR },
    { "finite differences", 12, 5, 0, DSS_JACOBIAN_FINITE_DIFF, 1, 0, 0, 0, DSS_SAMPLER_SINGULAR },
    { "finite differences, l = 2", 12, 5, 0, DSS_JACOBIAN_FINITE_DIFF, 2, 0, 0, 0,
      DSS_SAMPLER_SINGULAR },
    { "randomized (VJP + JVP)", 20, 8, LIN_WITH_VJP | LIN_WITH_JVP, DSS_JACOBIAN_RANDOMIZED, 1, 0, 4, 2,
      DSS_SAMPLER_SINGULAR },
    { "randomized without JVP, l = 2", 20, 8, LIN_WITH_VJP, DSS_JACOBIAN_RANDOMIZED, 2, 0, 4, 2,
      DSS_SAMPLER_SINGULAR },
    { "random sampler, l = 2", 20, 6, LIN_WITH_JACOBIAN, DSS_JACOBIAN_FULL, 2, 0, 0, 0,
      DSS_SAMPLER_RANDOM },
};
#define NMODES (sizeof MODES / sizeof MODES[0])

typedef struct fixture {
    lin_model  *lm;
    dss_model  *model;
    dss_search *search;
    const mode_cfg *cfg;
    double      z0[NMAX];
} fixture;

static void fixture_clear(fixture *fx)
{
    dss_search_destroy(fx->search);
    dss_model_destroy(fx->model);
    lin_destroy(fx->lm);
    memset(fx, 0, sizeof *fx);
}

static void set_ok(dss_search *s, int param, double value)
{
    assert_int_equal(dss_search_set(s, param, value), DSS_OK);
}

/* A model and a configured (not started) session for cfg. */
static void build(fixture *fx, const mode_cfg *cfg)
{
    fixture_clear(fx);
    fx->cfg = cfg;
    fx->lm = lin_create(cfg->m, cfg->n, NULL, 7 * cfg->m + cfg->n);
    assert_non_null(fx->lm);
    assert_int_equal(lin_dss_model(fx->lm, cfg->flags, &fx->model), DSS_OK);
    assert_int_equal(dss_search_create(&fx->search, fx->model), DSS_OK);
    set_ok(fx->search, DSS_SEARCH_SEED, 11);
    set_ok(fx->search, DSS_SEARCH_JACOBIAN, cfg->jacobian);
    set_ok(fx->search, DSS_SEARCH_SUBSPACE_DIM, (double)cfg->l);
    set_ok(fx->search, DSS_SEARCH_SAMPLER, cfg->sampler);
    if (cfg->rows)
        set_ok(fx->search, DSS_SEARCH_JACOBIAN_ROWS, (double)cfg->rows);
    if (cfg->rank) {
        set_ok(fx->search, DSS_SEARCH_RANK, (double)cfg->rank);
        set_ok(fx->search, DSS_SEARCH_OVERSAMPLE, (double)cfg->oversample);
    }
    support_rng r;
    support_rng_seed(&r, 23);
    support_fill_uniform(&r, fx->z0, cfg->n, -1.0, 1.0);
}

static void build_and_start(fixture *fx, const mode_cfg *cfg)
{
    build(fx, cfg);
    assert_int_equal(dss_search_start(fx->search, fx->z0), DSS_OK);
}

static int setup(void **state)
{
    fixture *fx = calloc(1, sizeof *fx);
    if (!fx)
        return -1;
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    fixture *fx = *state;
    fixture_clear(fx);
    free(fx);
    return support_leak_teardown(NULL); /* every block of the test's model and search freed */
}

static void take(const fixture *fx, support_snapshot *snap)
{
    assert_int_equal(support_snapshot_take(fx->search, fx->cfg->n, snap), 0);
}

static void free_snaps(support_snapshot *snaps, size_t count)
{
    for (size_t i = 0; i < count; i++)
        support_snapshot_free(&snaps[i]);
}

/* The session shows exactly what snap recorded (statistics aside: they are cumulative and undo
   does not take them back); `what` names the check in the failure. */
static void assert_shows(const fixture *fx, const support_snapshot *snap, const char *what, size_t i)
{
    support_snapshot now;
    take(fx, &now);
    int same = support_snapshot_equal(&now, snap);
    support_snapshot_free(&now);
    if (!same)
        fail_msg("[%s] session differs from the recorded state: %s %zu", fx->cfg->name, what, i);
}

/* A failed call changed nothing: the snapshot matches, statistics included. */
static void assert_unchanged(const fixture *fx, const support_snapshot *snap, const char *what,
                             size_t i)
{
    if (!support_snapshot_matches(fx->search, fx->cfg->n, snap))
        fail_msg("[%s] a failed call changed the session: %s %zu", fx->cfg->name, what, i);
}

static double stat(const dss_search *s, int key)
{
    double v = -1.0;
    assert_int_equal(dss_search_stat(s, key, &v), DSS_OK);
    return v;
}

/* Every callback call the model has seen. */
static size_t host_calls(const lin_model *lm)
{
    return lm->f_calls + lm->jac_calls + lm->vjp_calls + lm->jvp_calls;
}

/* ---- scripts: steps with the parameter changes made before them ------------------------------ */

enum { ACT_COMMIT = 0, ACT_COMMIT_W = 1, ACT_RESAMPLE = 2 };

/* Markers for DSS_SEARCH_SUBSPACE_DIM: the configuration's other l (1 <-> 2), or its own. */
#define L_OTHER (-1.0)
#define L_OWN   (-2.0)

typedef struct step {
    int nsets;
    int param[3];
    double value[3];
    int action;
    double t;        /* ACT_COMMIT */
    double w[2];     /* ACT_COMMIT_W: the first l of them */
} step;

/* Commits far from the centre (recompute) and near it (keep), commit_w both ways, resamples,
 * and parameter changes between steps (radius, tolerance, l, seed, sampler). */
static const step SCRIPT[] = {
    { 0, { 0 }, { 0 }, ACT_COMMIT, 0.9, { 0 } },
    { 0, { 0 }, { 0 }, ACT_RESAMPLE, 0, { 0 } },
    { 1, { DSS_SEARCH_RADIUS }, { 0.35 }, ACT_COMMIT, 0.53, { 0 } },
    { 0, { 0 }, { 0 }, ACT_COMMIT_W, 0, { 0.7, -0.4 } },
    { 2, { DSS_SEARCH_CENTER_TOLERANCE, DSS_SEARCH_SUBSPACE_DIM }, { 0.2, L_OTHER }, ACT_RESAMPLE, 0,
      { 0 } },
    { 0, { 0 }, { 0 }, ACT_COMMIT, 0.62, { 0 } },
    { 0, { 0 }, { 0 }, ACT_COMMIT_W, 0, { 0.05, 0.02 } },
    { 2, { DSS_SEARCH_SEED, DSS_SEARCH_SAMPLER }, { 7, DSS_SAMPLER_TOP }, ACT_RESAMPLE, 0, { 0 } },
    { 2, { DSS_SEARCH_SUBSPACE_DIM, DSS_SEARCH_CENTER_TOLERANCE }, { L_OWN, 0.05 }, ACT_COMMIT, 0.1,
      { 0 } },
    { 1, { DSS_SEARCH_RADIUS }, { 0.5 }, ACT_COMMIT_W, 0, { -0.9, 0.3 } },
};
#define SCRIPT_LEN (sizeof SCRIPT / sizeof SCRIPT[0])

/* Five moved commits with resamples between them: more decompositions than a session keeps. */
static const step FAR_SCRIPT[] = {
    { 0, { 0 }, { 0 }, ACT_COMMIT, 0.9, { 0 } },
    { 0, { 0 }, { 0 }, ACT_RESAMPLE, 0, { 0 } },
    { 0, { 0 }, { 0 }, ACT_COMMIT, 0.15, { 0 } },
    { 0, { 0 }, { 0 }, ACT_RESAMPLE, 0, { 0 } },
    { 0, { 0 }, { 0 }, ACT_COMMIT_W, 0, { 0.8, -0.6 } },
    { 0, { 0 }, { 0 }, ACT_RESAMPLE, 0, { 0 } },
    { 0, { 0 }, { 0 }, ACT_COMMIT, 0.2, { 0 } },
    { 0, { 0 }, { 0 }, ACT_RESAMPLE, 0, { 0 } },
    { 0, { 0 }, { 0 }, ACT_COMMIT, 0.95, { 0 } },
    { 0, { 0 }, { 0 }, ACT_RESAMPLE, 0, { 0 } },
};
#define FAR_LEN (sizeof FAR_SCRIPT / sizeof FAR_SCRIPT[0])

/* Make the parameter changes of st (not a step: nothing for undo to record). */
static void apply_sets(fixture *fx, const step *st)
{
    for (int i = 0; i < st->nsets; i++) {
        double v = st->value[i];
        if (st->param[i] == DSS_SEARCH_SUBSPACE_DIM)
            v = v == L_OTHER ? (double)(3 - fx->cfg->l) : (double)fx->cfg->l;
        set_ok(fx->search, st->param[i], v);
    }
}

/* The step's action; its status. */
static int act(fixture *fx, const step *st)
{
    switch (st->action) {
    case ACT_COMMIT:
        return dss_search_commit(fx->search, st->t);
    case ACT_COMMIT_W:
        return dss_search_commit_w(fx->search, st->w);
    default:
        return dss_search_resample(fx->search);
    }
}

/*
 * Run steps [from, to) of script: parameter changes, then the action, which must succeed.
 * before[i] (when not NULL) receives a snapshot taken just before step i's action (after its
 * parameter changes: the state undo must return to); after[i] one taken right after it.
 */
static void run(fixture *fx, const step *script, size_t from, size_t to, support_snapshot *before,
                support_snapshot *after)
{
    for (size_t i = from; i < to; i++) {
        apply_sets(fx, &script[i]);
        if (before)
            take(fx, &before[i]);
        int st = act(fx, &script[i]);
        if (st != DSS_OK)
            fail_msg("[%s] step %zu returned %d", fx->cfg->name, i, st);
        if (after)
            take(fx, &after[i]);
    }
}

/* Run steps [from, to) again and check that each gives what after[] recorded the first time. */
static void replay(fixture *fx, const step *script, size_t from, size_t to,
                   const support_snapshot *after)
{
    for (size_t i = from; i < to; i++) {
        apply_sets(fx, &script[i]);
        assert_int_equal(act(fx, &script[i]), DSS_OK);
        assert_shows(fx, &after[i], "replayed step", i);
    }
}

/* Undo steps to-1 down to from, checking each lands on before[i]. */
static void undo_back(fixture *fx, size_t from, size_t to, const support_snapshot *before)
{
    for (size_t i = to; i-- > from;) {
        int st = dss_search_undo(fx->search);
        if (st != DSS_OK)
            fail_msg("[%s] undo of step %zu returned %d", fx->cfg->name, i, st);
        assert_shows(fx, &before[i], "state before step", i);
    }
}

/* ---- tests ------------------------------------------------------------------------------------ */

static void undo_rejects_a_null_search(void **state)
{
    (void)state;
    assert_int_equal(dss_search_undo(NULL), DSS_EINVAL);
}

static void undo_before_start_is_estate_and_changes_nothing(void **state)
{
    fixture *fx = *state;
    build(fx, &MODES[0]);
    support_snapshot snap;
    take(fx, &snap);
    assert_int_equal(snap.started, 0);
    assert_int_equal(dss_search_undo(fx->search), DSS_ESTATE);
    assert_unchanged(fx, &snap, "undo before start", 0);
    /* a start is not a step: still nothing to undo */
    assert_int_equal(dss_search_start(fx->search, fx->z0), DSS_OK);
    support_snapshot started;
    take(fx, &started);
    assert_int_equal(dss_search_undo(fx->search), DSS_ESTATE);
    assert_unchanged(fx, &started, "undo right after start", 0);
    support_snapshot_free(&snap);
    support_snapshot_free(&started);
}

static void start_clears_the_history(void **state)
{
    fixture *fx = *state;
    build_and_start(fx, &MODES[0]);
    run(fx, SCRIPT, 0, 4, NULL, NULL);
    assert_int_equal(dss_search_start(fx->search, fx->z0), DSS_OK);
    support_snapshot snap;
    take(fx, &snap);
    assert_int_equal(dss_search_undo(fx->search), DSS_ESTATE);
    assert_unchanged(fx, &snap, "undo after restart", 0);
    /* history starts again from the new start */
    support_snapshot before[SCRIPT_LEN], after[SCRIPT_LEN];
    run(fx, SCRIPT, 0, 2, before, after);
    undo_back(fx, 0, 2, before);
    assert_shows(fx, &snap, "back at the restart", 0);
    assert_int_equal(dss_search_undo(fx->search), DSS_ESTATE);
    free_snaps(before, 2);
    free_snaps(after, 2);
    support_snapshot_free(&snap);
}

/* Every step of the script undone in turn, in every mode; then the same calls give the same
   bits; and with nothing left, undo is DSS_ESTATE and changes nothing. */
static void undo_restores_the_state_before_each_step_in_every_mode(void **state)
{
    fixture *fx = *state;
    for (size_t k = 0; k < NMODES; k++) {
        support_snapshot before[SCRIPT_LEN], after[SCRIPT_LEN], start;
        build_and_start(fx, &MODES[k]);
        take(fx, &start);
        run(fx, SCRIPT, 0, SCRIPT_LEN, before, after);
        undo_back(fx, 0, SCRIPT_LEN, before);
        assert_shows(fx, &start, "state after start", 0);
        support_snapshot bottom;
        take(fx, &bottom);
        assert_int_equal(dss_search_undo(fx->search), DSS_ESTATE);
        assert_unchanged(fx, &bottom, "after undo with nothing left", 0);
        support_snapshot_free(&bottom);
        /* the random stream and the parameters came back too: the same future */
        replay(fx, SCRIPT, 0, SCRIPT_LEN, after);
        free_snaps(before, SCRIPT_LEN);
        free_snaps(after, SCRIPT_LEN);
        support_snapshot_free(&start);
    }
}

/* Go back part of the way and replay from there, twice over, in every mode. */
static void partial_undo_then_replay_gives_bit_identical_results(void **state)
{
    fixture *fx = *state;
    for (size_t k = 0; k < NMODES; k++) {
        support_snapshot before[SCRIPT_LEN], after[SCRIPT_LEN];
        build_and_start(fx, &MODES[k]);
        run(fx, SCRIPT, 0, SCRIPT_LEN, before, after);
        undo_back(fx, 6, SCRIPT_LEN, before);
        replay(fx, SCRIPT, 6, SCRIPT_LEN, after);
        undo_back(fx, 2, SCRIPT_LEN, before);
        replay(fx, SCRIPT, 2, SCRIPT_LEN, after);
        free_snaps(before, SCRIPT_LEN);
        free_snaps(after, SCRIPT_LEN);
    }
}

/* The centres, bases and indices of a sequence, recorded as raw arrays, come back byte for byte
   after undoing the whole sequence and making the same calls. */
static void replay_after_undo_reproduces_centres_and_bases_byte_for_byte(void **state)
{
    fixture *fx = *state;
    const mode_cfg *cfg = &MODES[1]; /* l = 2, lazy vectors */
    enum { STEPS = 8 };
    double centre[2][STEPS][NMAX], basis[2][STEPS][2 * NMAX];
    size_t idx[2][STEPS][2];
    build_and_start(fx, cfg);
    memset(centre, 0, sizeof centre);
    memset(basis, 0, sizeof basis);
    memset(idx, 0, sizeof idx);
    for (int pass = 0; pass < 2; pass++) {
        for (int i = 0; i < STEPS; i++) {
            int st = i % 3 == 0 ? dss_search_commit(fx->search, i % 2 ? 0.8 : 0.3)
                   : i % 3 == 1 ? dss_search_resample(fx->search)
                                : dss_search_commit(fx->search, 0.51);
            assert_int_equal(st, DSS_OK);
            assert_int_equal(dss_search_subspace_dim(fx->search), 2);
            assert_int_equal(dss_search_center(fx->search, centre[pass][i]), DSS_OK);
            assert_int_equal(dss_search_basis(fx->search, basis[pass][i]), DSS_OK);
            assert_int_equal(dss_search_basis_indices(fx->search, idx[pass][i]), DSS_OK);
        }
        if (pass == 0)
            for (int i = 0; i < STEPS; i++)
                assert_int_equal(dss_search_undo(fx->search), DSS_OK);
    }
    assert_memory_equal(centre[0], centre[1], sizeof centre[0]);
    assert_memory_equal(basis[0], basis[1], sizeof basis[0]);
    assert_memory_equal(idx[0], idx[1], sizeof idx[0]);
}

static void undo_restores_the_parameters_in_force_at_that_state(void **state)
{
    fixture *fx = *state;
    build_and_start(fx, &MODES[0]);
    double v;
    set_ok(fx->search, DSS_SEARCH_RADIUS, 0.7);
    set_ok(fx->search, DSS_SEARCH_JACOBIAN_CHUNK, 4);
    support_snapshot before;
    take(fx, &before);
    assert_int_equal(dss_search_commit(fx->search, 0.9), DSS_OK);
    /* changed after the step: undo takes them back to what they were before it */
    set_ok(fx->search, DSS_SEARCH_RADIUS, 0.3);
    set_ok(fx->search, DSS_SEARCH_CENTER_TOLERANCE, 0.2);
    set_ok(fx->search, DSS_SEARCH_SAMPLER, DSS_SAMPLER_TOP);
    set_ok(fx->search, DSS_SEARCH_JACOBIAN_CHUNK, 0);
    set_ok(fx->search, DSS_SEARCH_PRIOR, DSS_PRIOR_BOX);
    assert_int_equal(dss_search_undo(fx->search), DSS_OK);
    assert_shows(fx, &before, "state before the commit", 0);
    assert_int_equal(dss_search_get(fx->search, DSS_SEARCH_RADIUS, &v), DSS_OK);
    assert_true(v == (double)0.7); /* (double): x87 evaluates literals in long double */
    assert_int_equal(dss_search_get(fx->search, DSS_SEARCH_CENTER_TOLERANCE, &v), DSS_OK);
    assert_true(v == (double)0.05);
    assert_int_equal(dss_search_get(fx->search, DSS_SEARCH_SAMPLER, &v), DSS_OK);
    assert_true(v == DSS_SAMPLER_SINGULAR);
    assert_int_equal(dss_search_get(fx->search, DSS_SEARCH_JACOBIAN_CHUNK, &v), DSS_OK);
    assert_true(v == 4);
    assert_int_equal(dss_search_get(fx->search, DSS_SEARCH_PRIOR, &v), DSS_OK);
    assert_true(v == DSS_PRIOR_GAUSSIAN);
    support_snapshot_free(&before);
}

/* A seed set after a step restarts the stream at once; undo brings back the stream as it was
   before the step, so the step done again draws what it drew the first time. */
static void undo_restores_the_random_stream_even_after_a_seed_change(void **state)
{
    fixture *fx = *state;
    for (size_t k = 0; k < NMODES; k++) {
        build_and_start(fx, &MODES[k]);
        support_snapshot after_commit, after_resample;
        assert_int_equal(dss_search_commit(fx->search, 0.85), DSS_OK);
        take(fx, &after_commit);
        assert_int_equal(dss_search_resample(fx->search), DSS_OK);
        take(fx, &after_resample);
        set_ok(fx->search, DSS_SEARCH_SEED, 99);
        assert_int_equal(dss_search_undo(fx->search), DSS_OK);
        assert_shows(fx, &after_commit, "undo of the resample", 0);
        set_ok(fx->search, DSS_SEARCH_SEED, 12345);
        assert_int_equal(dss_search_undo(fx->search), DSS_OK);
        assert_int_equal(dss_search_commit(fx->search, 0.85), DSS_OK);
        assert_shows(fx, &after_commit, "commit redone", 0);
        assert_int_equal(dss_search_resample(fx->search), DSS_OK);
        assert_shows(fx, &after_resample, "resample redone", 0);
        support_snapshot_free(&after_commit);
        support_snapshot_free(&after_resample);
    }
}

static void history_parameter_limits_the_depth(void **state)
{
    fixture *fx = *state;
    static const double depths[] = { 1, 3 };
    for (size_t d = 0; d < 2; d++) {
        const size_t depth = (size_t)depths[d], steps = 5;
        support_snapshot before[SCRIPT_LEN], after[SCRIPT_LEN], last;
        build_and_start(fx, &MODES[0]);
        set_ok(fx->search, DSS_SEARCH_HISTORY, depths[d]);
        run(fx, SCRIPT, 0, steps, before, after);
        undo_back(fx, steps - depth, steps, before); /* exactly `depth` undos succeed */
        take(fx, &last);
        assert_int_equal(dss_search_undo(fx->search), DSS_ESTATE);
        assert_unchanged(fx, &last, "undo beyond the history depth", depth);
        free_snaps(before, steps);
        free_snaps(after, steps);
        support_snapshot_free(&last);
    }
}

static void history_zero_disables_undo(void **state)
{
    fixture *fx = *state;
    double v = -1;
    build_and_start(fx, &MODES[0]);
    set_ok(fx->search, DSS_SEARCH_HISTORY, 0);
    assert_int_equal(dss_search_get(fx->search, DSS_SEARCH_HISTORY, &v), DSS_OK);
    assert_true(v == 0);
    run(fx, SCRIPT, 0, 4, NULL, NULL);
    support_snapshot snap;
    take(fx, &snap);
    assert_int_equal(dss_search_undo(fx->search), DSS_ESTATE);
    assert_unchanged(fx, &snap, "undo with HISTORY 0", 0);
    support_snapshot_free(&snap);
}

/* Shrinking the history takes effect at the next step ("the others at the next start, commit or
   resample") and forgets the oldest steps. */
static void shrinking_the_history_forgets_the_oldest_steps(void **state)
{
    fixture *fx = *state;
    support_snapshot before[SCRIPT_LEN], after[SCRIPT_LEN], last;
    build_and_start(fx, &MODES[0]);
    run(fx, SCRIPT, 0, 5, before, after);
    set_ok(fx->search, DSS_SEARCH_HISTORY, 2);
    run(fx, SCRIPT, 5, 6, before, after);
    undo_back(fx, 4, 6, before);
    take(fx, &last);
    assert_int_equal(dss_search_undo(fx->search), DSS_ESTATE);
    assert_unchanged(fx, &last, "undo beyond the shrunk history", 0);
    free_snaps(before, 6);
    free_snaps(after, 6);
    support_snapshot_free(&last);

    /* shrinking takes effect at once, before any further step */
    build_and_start(fx, &MODES[0]);
    run(fx, SCRIPT, 0, 3, NULL, NULL);
    set_ok(fx->search, DSS_SEARCH_HISTORY, 1);
    assert_int_equal(dss_search_undo(fx->search), DSS_OK);
    take(fx, &last);
    assert_int_equal(dss_search_undo(fx->search), DSS_ESTATE);
    assert_unchanged(fx, &last, "undo beyond a history shrunk without a step", 0);
    support_snapshot_free(&last);

    /* shrunk to 0 after steps: the next step leaves nothing to undo */
    build_and_start(fx, &MODES[0]);
    run(fx, SCRIPT, 0, 3, NULL, NULL);
    set_ok(fx->search, DSS_SEARCH_HISTORY, 0);
    run(fx, SCRIPT, 3, 4, NULL, NULL);
    take(fx, &last);
    assert_int_equal(dss_search_undo(fx->search), DSS_ESTATE);
    assert_unchanged(fx, &last, "undo after shrinking to 0", 0);
    support_snapshot_free(&last);
}

/* After an undo a new step is recorded on top of what is left; undoing it returns to the
   branching point, and the older history is intact below it. */
static void a_step_after_undo_is_undone_to_the_branch_point(void **state)
{
    fixture *fx = *state;
    support_snapshot before[SCRIPT_LEN], after[SCRIPT_LEN], branch;
    build_and_start(fx, &MODES[3]);
    run(fx, SCRIPT, 0, 5, before, after);
    undo_back(fx, 3, 5, before);
    take(fx, &branch);
    assert_int_equal(dss_search_commit(fx->search, 0.05), DSS_OK);
    assert_false(support_snapshot_matches(fx->search, fx->cfg->n, &after[3]));
    assert_int_equal(dss_search_undo(fx->search), DSS_OK);
    assert_shows(fx, &branch, "branch point", 0);
    undo_back(fx, 0, 3, before);
    assert_int_equal(dss_search_undo(fx->search), DSS_ESTATE);
    free_snaps(before, 5);
    free_snaps(after, 5);
    support_snapshot_free(&branch);
}

/* A step that fails is not recorded: undo goes back past the last successful step. */
static void a_failed_step_is_not_recorded(void **state)
{
    fixture *fx = *state;
    support_snapshot before[SCRIPT_LEN], after[SCRIPT_LEN], now;
    build_and_start(fx, &MODES[0]);
    run(fx, SCRIPT, 0, 2, before, after);
    take(fx, &now);
    lin_fault(fx->lm, LIN_JACOBIAN, LIN_FAULT_ERROR, 1);
    assert_int_equal(dss_search_commit(fx->search, 0.95), DSS_ECALLBACK);
    assert_int_equal(fx->lm->faults_fired, 1);
    assert_unchanged(fx, &now, "failed commit", 0);
    assert_int_equal(dss_search_set(fx->search, DSS_SEARCH_SUBSPACE_DIM, 7), DSS_EINVAL); /* l > n */
    assert_int_equal(dss_search_commit(fx->search, 1.5), DSS_EINVAL);
    undo_back(fx, 0, 2, before);
    assert_int_equal(dss_search_undo(fx->search), DSS_ESTATE);
    free_snaps(before, 2);
    free_snaps(after, 2);
    support_snapshot_free(&now);
}

/* Issue 8, bug 1: with a full ring and a subspace grown since its oldest entry was recorded,
   making room for the next entry freed that entry before the step could fail; a step that then
   failed left it zeroed, and undoing to it gave DSS_OK and an un-started session. */
static void a_failed_step_with_a_full_ring_and_a_grown_subspace_keeps_every_entry(void **state)
{
    fixture *fx = *state;
    support_snapshot snap[3];
    build_and_start(fx, &MODES[0]);
    set_ok(fx->search, DSS_SEARCH_HISTORY, 2);
    take(fx, &snap[0]);
    assert_int_equal(dss_search_commit(fx->search, 0.9), DSS_OK);
    take(fx, &snap[1]);
    assert_int_equal(dss_search_commit(fx->search, 0.8), DSS_OK);
    set_ok(fx->search, DSS_SEARCH_SUBSPACE_DIM, 2);
    take(fx, &snap[2]);
    assert_int_equal(dss_search_resample(fx->search), DSS_OK);
    lin_fault(fx->lm, LIN_JACOBIAN, LIN_FAULT_ERROR, 1);
    assert_int_equal(dss_search_commit(fx->search, 0.95), DSS_ECALLBACK);
    assert_int_equal(fx->lm->faults_fired, 1);
    /* the ring holds the states before the resample and before the second commit */
    assert_int_equal(dss_search_undo(fx->search), DSS_OK);
    assert_shows(fx, &snap[2], "undo after a failed step", 1);
    assert_int_equal(dss_search_undo(fx->search), DSS_OK);
    assert_shows(fx, &snap[1], "undo after a failed step", 2);
    assert_int_equal(dss_search_undo(fx->search), DSS_ESTATE);
    assert_shows(fx, &snap[1], "undo past the ring", 3);
    assert_int_equal(fx->lm->protocol_errors, 0);
    free_snaps(snap, 3);
}

/* Issue 8, bug 3: n = 40, AUTO with a Jacobian and a VJP (the FULL route), four moved commits,
   then the host removes the Jacobian callback (AUTO would now mean RANDOMIZED, rank 32). Undo
   must not recompute an evicted decomposition by another route: it fails with DSS_EUNSUPPORTED
   and changes nothing, and works again bit for bit once the callback is back. A Jacobian that
   changed under the session (J doubled) gives other singular values: DSS_ESTATE. */
static void undo_never_recomputes_by_another_route_or_from_another_jacobian(void **state)
{
    fixture *fx = *state;
    static const mode_cfg auto40 = { "auto, n = 40", 50, 40, LIN_WITH_JACOBIAN | LIN_WITH_VJP,
                                     DSS_JACOBIAN_AUTO, 1, 0, 0, 0, DSS_SAMPLER_SINGULAR };
    static const double ts[4] = { 0.9, 0.1, 0.85, 0.15 };
    support_snapshot snap[4], now;
    build_and_start(fx, &auto40);
    for (size_t i = 0; i < 4; i++) {
        take(fx, &snap[i]);
        assert_int_equal(dss_search_commit(fx->search, ts[i]), DSS_OK);
    }
    assert_int_equal(dss_search_jacobian_route(fx->search), DSS_JACOBIAN_FULL);
    assert_int_equal(dss_model_set_jacobian(fx->model, NULL), DSS_OK);
    /* the two decompositions still held need no callback */
    assert_int_equal(dss_search_undo(fx->search), DSS_OK);
    assert_shows(fx, &snap[3], "undo", 3);
    assert_int_equal(dss_search_undo(fx->search), DSS_OK);
    assert_shows(fx, &snap[2], "undo", 2);
    take(fx, &now);
    assert_int_equal(dss_search_undo(fx->search), DSS_EUNSUPPORTED);
    assert_unchanged(fx, &now, "undo without the Jacobian callback", 1);
    assert_int_equal(dss_search_rank(fx->search), 40);
    /* a changed Jacobian: another decomposition, refused */
    for (size_t i = 0; i < fx->lm->m * fx->lm->n; i++)
        fx->lm->j[i] *= 2.0;
    assert_int_equal(dss_model_set_jacobian(fx->model, lin_jacobian), DSS_OK);
    assert_int_equal(dss_search_undo(fx->search), DSS_ESTATE);
    assert_unchanged(fx, &now, "undo with a changed Jacobian", 1);
    for (size_t i = 0; i < fx->lm->m * fx->lm->n; i++)
        fx->lm->j[i] *= 0.5; /* exact: a power of two */
    assert_int_equal(dss_search_undo(fx->search), DSS_OK);
    assert_shows(fx, &snap[1], "undo", 1);
    assert_int_equal(dss_search_undo(fx->search), DSS_OK);
    assert_shows(fx, &snap[0], "undo", 0);
    support_snapshot_free(&now);
    free_snaps(snap, 4);
}

/* Five moved commits: the session keeps only its current and previous decompositions, so
   undoing all the way back recomputes evicted ones (callbacks called again, counted in
   DSS_STAT_UNDO_RECOMPUTES and DSS_STAT_DECOMPOSITIONS) and still lands on the same bits, and
   the future replays identically. */
static void undoing_far_back_recomputes_evicted_decompositions_bit_identically(void **state)
{
    fixture *fx = *state;
    for (size_t k = 0; k < NMODES; k++) {
        support_snapshot before[FAR_LEN], after[FAR_LEN];
        build_and_start(fx, &MODES[k]);
        run(fx, FAR_SCRIPT, 0, FAR_LEN, before, after);
        const double rec0 = stat(fx->search, DSS_STAT_UNDO_RECOMPUTES);
        const double dec0 = stat(fx->search, DSS_STAT_DECOMPOSITIONS);
        const double jac0 = stat(fx->search, DSS_STAT_JACOBIAN_CALLS);
        const size_t calls0 = host_calls(fx->lm), jac_calls0 = fx->lm->jac_calls;
        assert_true(rec0 == 0);
        undo_back(fx, 0, FAR_LEN, before);
        const double rec = stat(fx->search, DSS_STAT_UNDO_RECOMPUTES) - rec0;
        if (!(rec >= 1))
            fail_msg("[%s] no decomposition was recomputed", fx->cfg->name);
        assert_true(stat(fx->search, DSS_STAT_DECOMPOSITIONS) - dec0 == rec);
        assert_true(host_calls(fx->lm) > calls0);
        if (MODES[k].jacobian == DSS_JACOBIAN_FULL || MODES[k].jacobian == DSS_JACOBIAN_ROWS) {
            /* unchunked: one Jacobian call per decomposition */
            assert_true((double)(fx->lm->jac_calls - jac_calls0) == rec);
            assert_true(stat(fx->search, DSS_STAT_JACOBIAN_CALLS) - jac0 == rec);
        }
        assert_int_equal(fx->lm->protocol_errors, 0);
        replay(fx, FAR_SCRIPT, 0, FAR_LEN, after);
        free_snaps(before, FAR_LEN);
        free_snaps(after, FAR_LEN);
    }
}

typedef struct fault_case {
    size_t mode;     /* index into MODES */
    int callback;    /* LIN_* */
    int kind;        /* LIN_FAULT_* */
    int expect;      /* status undo returns */
} fault_case;

/* A callback failing during an undo's recomputation: undo fails with the callback's status, the
   session and the statistics are unchanged, and once the fault is cleared the same undo and
   every earlier one succeed and land on the recorded states. */
static void failing_callback_during_undo_recomputation_changes_nothing(void **state)
{
    fixture *fx = *state;
    static const fault_case cases[] = {
        { 0, LIN_JACOBIAN, LIN_FAULT_ERROR, DSS_ECALLBACK },
        { 0, LIN_JACOBIAN, LIN_FAULT_NAN, DSS_ENONFINITE },
        { 3, LIN_JACOBIAN, LIN_FAULT_INF, DSS_ENONFINITE },
        { 5, LIN_F, LIN_FAULT_ERROR, DSS_ECALLBACK },
        { 6, LIN_F, LIN_FAULT_NAN, DSS_ENONFINITE },
        { 7, LIN_VJP, LIN_FAULT_ERROR, DSS_ECALLBACK },
        { 7, LIN_JVP, LIN_FAULT_NAN, DSS_ENONFINITE },
        { 8, LIN_F, LIN_FAULT_ERROR, DSS_ECALLBACK },
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        const fault_case *fc = &cases[c];
        support_snapshot before[FAR_LEN], after[FAR_LEN], now;
        build_and_start(fx, &MODES[fc->mode]);
        run(fx, FAR_SCRIPT, 0, FAR_LEN, before, after);
        lin_fault(fx->lm, fc->callback, fc->kind, 1);
        /* undo until the first one that needs the host: it must fail, changing nothing */
        size_t i = FAR_LEN;
        int st = DSS_OK;
        while (i > 0) {
            double stats0[12];
            for (int key = 1; key <= 12; key++)
                stats0[key - 1] = stat(fx->search, key);
            take(fx, &now);
            st = dss_search_undo(fx->search);
            if (st != DSS_OK) {
                if (st != fc->expect)
                    fail_msg("[%s] case %zu: undo returned %d", fx->cfg->name, c, st);
                assert_int_equal(fx->lm->faults_fired, 1);
                assert_unchanged(fx, &now, "failed undo", i);
                /* failed work is not counted (seconds included: nothing is published) */
                for (int key = 1; key <= 12; key++)
                    assert_true(stat(fx->search, key) == stats0[key - 1]);
                support_snapshot_free(&now);
                break;
            }
            support_snapshot_free(&now);
            i--;
            assert_shows(fx, &before[i], "state before step", i);
        }
        if (st == DSS_OK)
            fail_msg("[%s] case %zu: no undo called the host", fx->cfg->name, c);
        /* the history is intact: clear the fault and go on */
        lin_fault(fx->lm, fc->callback, LIN_FAULT_NONE, 0);
        undo_back(fx, 0, i, before);
        assert_int_equal(dss_search_undo(fx->search), DSS_ESTATE);
        replay(fx, FAR_SCRIPT, 0, FAR_LEN, after);
        free_snaps(before, FAR_LEN);
        free_snaps(after, FAR_LEN);
    }
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(undo_rejects_a_null_search),
        T(undo_before_start_is_estate_and_changes_nothing),
        T(start_clears_the_history),
        T(undo_restores_the_state_before_each_step_in_every_mode),
        T(partial_undo_then_replay_gives_bit_identical_results),
        T(replay_after_undo_reproduces_centres_and_bases_byte_for_byte),
        T(undo_restores_the_parameters_in_force_at_that_state),
        T(undo_restores_the_random_stream_even_after_a_seed_change),
        T(history_parameter_limits_the_depth),
        T(history_zero_disables_undo),
        T(shrinking_the_history_forgets_the_oldest_steps),
        T(a_step_after_undo_is_undone_to_the_branch_point),
        T(a_failed_step_is_not_recorded),
        T(a_failed_step_with_a_full_ring_and_a_grown_subspace_keeps_every_entry),
        T(undo_never_recomputes_by_another_route_or_from_another_jacobian),
        T(undoing_far_back_recomputes_evicted_decompositions_bit_identically),
        T(failing_callback_during_undo_recomputation_changes_nothing),
    };
    return support_leak_exit(cmocka_run_group_tests_name("history", tests, NULL, NULL));
}
