/*
 * Fault injection over a scripted session: "a failing call changes nothing", proved by failing
 * every allocation and every host callback call that a whole session makes.
 *
 * The script (steps[] below) creates a model with a counting allocator, a session and a line
 * search on it, starts, commits moved and kept, resamples, draws a 2-D subspace and commits it
 * with commit_w, undoes seven steps (the last one recomputes an evicted decomposition), saves,
 * runs grid and refined line searches, loads the saved string back, restores it into a second
 * session and goes on there. It runs in every Jacobian mode (FULL, ROWS, FINITE_DIFF,
 * RANDOMIZED with a JVP, and RANDOMIZED through differences of f).
 *
 * 1. A reference run without faults records, per step, a digest of everything the API shows
 *    (support_snapshot of the session, line-search outputs, the saved bytes), the number of
 *    allocations, and the number of calls of each callback.
 * 2. Allocation failures: for every k up to the reference's allocation count, a fresh run fails
 *    the k-th allocation. The call that meets it must return DSS_ENOMEM, leave every handle as it
 *    was (snapshots, work statistics, line parameters and evaluation count, outputs unwritten,
 *    created handles NULL), then the same call must succeed; every later step must give the
 *    reference's digest, and at the end allocations and frees balance.
 * 3. Callback faults: in one run per mode, before each step, each call index i of each
 *    callback (f, Jacobian, VJP, JVP, the score g; and the progress callback) is made to fail in
 *    turn: an error status (DSS_ECALLBACK), a NaN or an infinity in its output (DSS_ENONFINITE),
 *    a cancellation (DSS_ECANCELLED), with the same checks; then the step runs cleanly and must
 *    match the reference. A callback's calls in a step are deterministic (the step starts from
 *    the same state every time), so the reference's counts name every call index.
 *
 * The numbers of points exercised are printed. Models are small (40 x 12) so that the whole
 * file runs in seconds, also under valgrind.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dss/dss.h>

#include "support.h"

#define M 40            /* outputs */
#define N 12            /* latent dimension */
#define MAX_BATCH 8     /* f sees at most 8 points: finite differences take two calls */
#define SAVE_CAP 16384  /* bytes: a saved 40 x 12 session takes about 4 KB */
#define SENTINEL -12345.5
#define NSTATS 10       /* DSS_STAT_POINTS .. DSS_STAT_UNDO_RECOMPUTES: the work counters */

/* ==============================================================================================
 * Host side: a counting allocator, a score and a progress callback that can fail on demand
 * ============================================================================================ */

typedef struct counting {
    size_t attempts;    /* calls of alloc */
    size_t allocs;      /* successful ones */
    size_t frees;
    size_t fail_at;     /* the attempt number that fails (1-based); 0 = none */
    size_t failed;      /* failures injected */
    size_t misuse;      /* alloc(0) or free(NULL): the library promises neither */
} counting;

static void *counting_alloc(void *user, size_t size)
{
    counting *c = user;
    c->attempts++;
    if (size == 0)
        c->misuse++;
    if (c->attempts == c->fail_at) {
        c->failed++;
        return NULL;
    }
    c->allocs++;
    return malloc(size ? size : 1);
}

static void counting_free(void *user, void *ptr)
{
    counting *c = user;
    if (ptr == NULL) {
        c->misuse++;
        return;
    }
    c->frees++;
    free(ptr);
}

/* The callbacks that can be made to fail: lin_model's four, the score and the progress. */
enum { CB_F, CB_JACOBIAN, CB_VJP, CB_JVP, CB_G, CB_PROGRESS, NCB };
static const char *const cb_names[NCB] = { "f", "jacobian", "vjp", "jvp", "g", "progress" };

/* A host callback of ours (g or progress) with a one-shot fault at a call index. */
typedef struct host_cb {
    size_t calls;
    int fault;          /* LIN_FAULT_* (progress: any non-zero kind cancels) */
    size_t fault_at;    /* the call number (1-based, counted from arming) that misbehaves */
    size_t armed_at;    /* calls when armed */
    size_t fired;
} host_cb;

static int host_cb_fault(host_cb *h)
{
    h->calls++;
    if (h->fault == LIN_FAULT_NONE || h->calls - h->armed_at != h->fault_at)
        return LIN_FAULT_NONE;
    h->fired++;
    int kind = h->fault;
    h->fault = LIN_FAULT_NONE;
    return kind;
}

/* ==============================================================================================
 * The run: handles, configuration and what each step leaves behind
 * ============================================================================================ */

typedef struct config {
    const char *name;
    int mode;           /* DSS_JACOBIAN_* */
    unsigned flags;     /* LIN_WITH_* callbacks the model gets */
} config;

static const config configs[] = {
    { "FULL", DSS_JACOBIAN_FULL, LIN_WITH_JACOBIAN },
    { "ROWS", DSS_JACOBIAN_ROWS, LIN_WITH_JACOBIAN },
    { "FINITE_DIFF", DSS_JACOBIAN_FINITE_DIFF, 0 },
    { "RANDOMIZED", DSS_JACOBIAN_RANDOMIZED, LIN_WITH_VJP | LIN_WITH_JVP },
    { "RANDOMIZED without JVP", DSS_JACOBIAN_RANDOMIZED, LIN_WITH_VJP },
};
#define NCONFIGS (sizeof configs / sizeof configs[0])

typedef struct run {
    const config *cfg;
    int fresh_restore;          /* restore into a session that was never started */
    lin_model *lm;
    counting count;
    dss_allocator allocator;
    dss_model *model;
    dss_search *search;         /* the session */
    dss_search *other;          /* the session the saved string is restored into */
    dss_line *line;
    unsigned char saved[SAVE_CAP];
    size_t saved_len;
    double t, score;            /* the last line search's outputs */
    double w[2];                /* the last gallery's weights */
    host_cb g, progress;
    double z0[N], z1[N], seg_lo[N], seg_hi[N];
} run;

static int score_fn(void *user, size_t k, const double *x, double *score)
{
    run *r = user;
    int fault = host_cb_fault(&r->g);
    if (fault == LIN_FAULT_ERROR)
        return LIN_FAULT_STATUS;
    for (size_t i = 0; i < k; i++) {
        double acc = 0.0;
        for (size_t d = 0; d < M; d++) {
            double e = x[i * M + d] - 0.25 * (double)(d % 5);
            acc -= e * e;
        }
        score[i] = acc;
    }
    if (fault == LIN_FAULT_NAN)
        score[k - 1] = NAN;
    else if (fault == LIN_FAULT_INF)
        score[k - 1] = -INFINITY;
    return 0;
}

static int progress_fn(void *user, int stage, size_t done, size_t total)
{
    run *r = user;
    (void)stage;
    (void)done;
    (void)total;
    return host_cb_fault(&r->progress) != LIN_FAULT_NONE;
}

/* ==============================================================================================
 * The script
 * ============================================================================================ */

enum kind {
    K_SETUP,    /* infallible configuration (setters, destroy): never a fault point */
    K_CREATE,   /* creates a handle: on failure the out pointer is NULL, nothing leaks */
    K_SEARCH,   /* a session call: on failure every handle is unchanged */
    K_LINE      /* a line search: also its outputs are not written */
};

typedef int (*op_fn)(run *r);

static int set_search_params(run *r, dss_search *s)
{
    const double params[][2] = {
        { DSS_SEARCH_JACOBIAN, r->cfg->mode }, { DSS_SEARCH_SEED, 7 },
        { DSS_SEARCH_HISTORY, 8 }, { DSS_SEARCH_JACOBIAN_ROWS, 20 },
        { DSS_SEARCH_JACOBIAN_CHUNK, 16 }, { DSS_SEARCH_RANK, 6 },
        { DSS_SEARCH_OVERSAMPLE, 2 }, { DSS_SEARCH_POWER_ITERATIONS, 1 },
    };
    for (size_t i = 0; i < sizeof params / sizeof params[0]; i++)
        if (dss_search_set(s, (int)params[i][0], params[i][1]) != DSS_OK)
            return -100 - (int)i;
    return dss_search_set_progress(s, progress_fn, r);
}

static int op_model_create(run *r)
{
    int rc = dss_model_create_with_allocator(&r->model, N, M, lin_f, r->lm, &r->allocator);
    if (rc != DSS_OK)
        return rc;
    if ((r->cfg->flags & LIN_WITH_JACOBIAN) && dss_model_set_jacobian(r->model, lin_jacobian))
        return -100;
    if ((r->cfg->flags & LIN_WITH_VJP) && dss_model_set_vjp(r->model, lin_vjp))
        return -100;
    if ((r->cfg->flags & LIN_WITH_JVP) && dss_model_set_jvp(r->model, lin_jvp))
        return -100;
    return dss_model_set_max_batch(r->model, MAX_BATCH);
}

static int op_search_create(run *r) { return dss_search_create(&r->search, r->model); }
static int op_other_create(run *r) { return dss_search_create(&r->other, r->model); }
static int op_search_setup(run *r) { return set_search_params(r, r->search); }
static int op_other_setup(run *r) { return set_search_params(r, r->other); }

static int op_line_create(run *r)
{
    return dss_line_create_with_allocator(&r->line, &r->allocator);
}

static int op_line_setup(run *r)
{
    if (dss_line_set(r->line, DSS_LINE_SAMPLES, 9) || dss_line_set(r->line, DSS_LINE_BATCH, 4))
        return -100;
    return dss_line_set_progress(r->line, progress_fn, r);
}

static int op_line_refine(run *r) { return dss_line_set(r->line, DSS_LINE_REFINE, 1); }
static int op_line_grid(run *r) { return dss_line_set(r->line, DSS_LINE_REFINE, 0); }
static int op_line_refine_peaks(run *r) { return dss_line_set(r->line, DSS_LINE_REFINE, 2); }
static int op_start(run *r) { return dss_search_start(r->search, r->z0); }
static int op_commit_far(run *r) { return dss_search_commit(r->search, 0.9); }
static int op_commit_near(run *r) { return dss_search_commit(r->search, 0.5); }
static int op_commit_low(run *r) { return dss_search_commit(r->search, 0.1); }
static int op_commit_high(run *r) { return dss_search_commit(r->search, 0.8); }
static int op_commit_t(run *r) { return dss_search_commit(r->search, r->t); }
static int op_resample(run *r) { return dss_search_resample(r->search); }
static int op_set_l2(run *r) { return dss_search_set(r->search, DSS_SEARCH_SUBSPACE_DIM, 2); }
static int op_undo(run *r) { return dss_search_undo(r->search); }

static int op_commit_w_far(run *r)
{
    const double w[2] = { 0.6, -0.4 };
    return dss_search_commit_w(r->search, w);
}

static int op_commit_w_near(run *r)
{
    const double w[2] = { 0.02, -0.03 };
    return dss_search_commit_w(r->search, w);
}

static int op_save(run *r)
{
    size_t len = 0;
    int rc = dss_search_save(r->search, NULL, 0, &len);
    if (rc != DSS_OK)
        return rc;
    if (len > SAVE_CAP)
        return -100;
    memset(r->saved, 0, sizeof r->saved);
    rc = dss_search_save(r->search, r->saved, sizeof r->saved, &r->saved_len);
    return rc == DSS_OK && r->saved_len != len ? -101 : rc;
}

static int op_load(run *r) { return dss_search_load(r->search, r->saved, r->saved_len); }
static int op_other_load(run *r) { return dss_search_load(r->other, r->saved, r->saved_len); }
static int op_other_start(run *r)
{
    return r->fresh_restore ? DSS_OK : dss_search_start(r->other, r->z1);
}

static int op_switch(run *r)
{
    dss_search_destroy(r->search);
    r->search = r->other;
    r->other = NULL;
    return DSS_OK;
}

static int op_find(run *r)
{
    r->t = r->score = SENTINEL;
    return dss_search_find_optimal(r->line, r->search, score_fn, r, &r->t, &r->score);
}

static int op_find_segment(run *r)
{
    r->t = r->score = SENTINEL;
    return dss_find_optimal(r->line, r->model, r->seg_lo, r->seg_hi, score_fn, r, &r->t, &r->score);
}

/* The gallery: a failing call must not write w either (a distinct status says it did). */
static int op_find_w(run *r)
{
    double w[2] = { SENTINEL, SENTINEL };
    int rc;
    r->t = r->score = SENTINEL;
    rc = dss_search_find_optimal_w(r->line, r->search, score_fn, r, w, &r->score);
    if (rc != DSS_OK && (w[0] != SENTINEL || w[1] != SENTINEL))
        return -200;
    if (rc == DSS_OK) {
        r->w[0] = w[0];
        r->w[1] = w[1];
        r->t = 0.5; /* commit_t is not used after a gallery */
    }
    return rc;
}

static int op_commit_w_best(run *r) { return dss_search_commit_w(r->search, r->w); }

typedef struct step {
    const char *name;
    enum kind kind;
    op_fn op;
    int expect;         /* the status without faults */
    int same_as;        /* >= 0: the session must then show what it showed after that step */
} step;

/* Step numbers that others refer to. */
enum {
    S_SAVE = 23, S_AFTER_SAVE_1 = 24, S_AFTER_SAVE_2 = 25, S_SECOND_CREATE = 36,
    S_SECOND_START = 38, S_RESTORED_1 = 41
};

static const step steps[] = {
    /*  0 */ { "model_create_with_allocator", K_CREATE, op_model_create, DSS_OK, -1 },
    /*  1 */ { "search_create", K_CREATE, op_search_create, DSS_OK, -1 },
    /*  2 */ { "search parameters", K_SETUP, op_search_setup, DSS_OK, -1 },
    /*  3 */ { "line_create_with_allocator", K_CREATE, op_line_create, DSS_OK, -1 },
    /*  4 */ { "line parameters", K_SETUP, op_line_setup, DSS_OK, -1 },
    /*  5 */ { "start", K_SEARCH, op_start, DSS_OK, -1 },
    /*  6 */ { "commit(0.9), moved", K_SEARCH, op_commit_far, DSS_OK, -1 },
    /*  7 */ { "commit(0.5), kept", K_SEARCH, op_commit_near, DSS_OK, -1 },
    /*  8 */ { "resample", K_SEARCH, op_resample, DSS_OK, -1 },
    /*  9 */ { "commit(0.1), moved", K_SEARCH, op_commit_low, DSS_OK, -1 },
    /* 10 */ { "set l = 2", K_SETUP, op_set_l2, DSS_OK, -1 },
    /* 11 */ { "resample, l = 2", K_SEARCH, op_resample, DSS_OK, -1 },
    /* 12 */ { "commit_w, moved", K_SEARCH, op_commit_w_far, DSS_OK, -1 },
    /* 13 */ { "commit_w, kept", K_SEARCH, op_commit_w_near, DSS_OK, -1 },
    /* 14 */ { "undo 1", K_SEARCH, op_undo, DSS_OK, 12 },
    /* 15 */ { "undo 2", K_SEARCH, op_undo, DSS_OK, 11 },
    /* 16 */ { "undo 3", K_SEARCH, op_undo, DSS_OK, 10 },
    /* 17 */ { "undo 4", K_SEARCH, op_undo, DSS_OK, 8 },
    /* 18 */ { "undo 5", K_SEARCH, op_undo, DSS_OK, 7 },
    /* 19 */ { "undo 6", K_SEARCH, op_undo, DSS_OK, 6 },
    /* 20 */ { "undo 7, recomputes the evicted start decomposition", K_SEARCH, op_undo, DSS_OK, 5 },
    /* 21 */ { "undo with nothing left", K_SEARCH, op_undo, DSS_ESTATE, 5 },
    /* 22 */ { "commit(0.9) again", K_SEARCH, op_commit_far, DSS_OK, 6 },
    /* 23 */ { "save", K_SEARCH, op_save, DSS_OK, -1 },
    /* 24 */ { "resample after save", K_SEARCH, op_resample, DSS_OK, -1 },
    /* 25 */ { "commit(0.8) after save", K_SEARCH, op_commit_high, DSS_OK, -1 },
    /* 26 */ { "search_find_optimal", K_LINE, op_find, DSS_OK, -1 },
    /* 27 */ { "commit(t)", K_SEARCH, op_commit_t, DSS_OK, -1 },
    /* 28 */ { "line refine = 1", K_SETUP, op_line_refine, DSS_OK, -1 },
    /* 29 */ { "search_find_optimal, refined", K_LINE, op_find, DSS_OK, -1 },
    /* 30 */ { "commit(t), refined", K_SEARCH, op_commit_t, DSS_OK, -1 },
    /* 31 */ { "line refine = 0", K_SETUP, op_line_grid, DSS_OK, -1 },
    /* 32 */ { "find_optimal on a segment", K_LINE, op_find_segment, DSS_OK, -1 },
    /* 33 */ { "load", K_SEARCH, op_load, DSS_OK, S_SAVE },
    /* 34 */ { "resample after load", K_SEARCH, op_resample, DSS_OK, S_AFTER_SAVE_1 },
    /* 35 */ { "commit(0.8) after load", K_SEARCH, op_commit_high, DSS_OK, S_AFTER_SAVE_2 },
    /* 36 */ { "second search_create", K_CREATE, op_other_create, DSS_OK, -1 },
    /* 37 */ { "second search parameters", K_SETUP, op_other_setup, DSS_OK, -1 },
    /* 38 */ { "second start", K_SEARCH, op_other_start, DSS_OK, -1 },
    /* 39 */ { "load into the second search", K_SEARCH, op_other_load, DSS_OK, -1 },
    /* 40 */ { "destroy the first search", K_SETUP, op_switch, DSS_OK, S_SAVE },
    /* 41 */ { "resample after restore", K_SEARCH, op_resample, DSS_OK, S_AFTER_SAVE_1 },
    /* 42 */ { "commit(0.8) after restore", K_SEARCH, op_commit_high, DSS_OK, S_AFTER_SAVE_2 },
    /* 43 */ { "undo after restore", K_SEARCH, op_undo, DSS_OK, S_RESTORED_1 },
    /* 44 */ { "search_find_optimal after restore", K_LINE, op_find, DSS_OK, -1 },
    /* 45 */ { "commit(t) after restore", K_SEARCH, op_commit_t, DSS_OK, -1 },
    /* 46 */ { "set l = 2 after restore", K_SETUP, op_set_l2, DSS_OK, -1 },
    /* 47 */ { "resample, l = 2 after restore", K_SEARCH, op_resample, DSS_OK, -1 },
    /* 48 */ { "search_find_optimal_w", K_LINE, op_find_w, DSS_OK, -1 },
    /* 49 */ { "commit_w(w)", K_SEARCH, op_commit_w_best, DSS_OK, -1 },
    /* 50 */ { "line refine = 1 again", K_SETUP, op_line_refine, DSS_OK, -1 },
    /* 51 */ { "search_find_optimal_w, refined", K_LINE, op_find_w, DSS_OK, -1 },
    /* 52 */ { "commit_w(w), refined", K_SEARCH, op_commit_w_best, DSS_OK, -1 },
    /* 53 */ { "line refine = 2", K_SETUP, op_line_refine_peaks, DSS_OK, -1 },
    /* 54 */ { "search_find_optimal_w, 3 peaks refined", K_LINE, op_find_w, DSS_OK, -1 },
    /* 55 */ { "commit_w(w), 3 peaks refined", K_SEARCH, op_commit_w_best, DSS_OK, -1 },
};
#define NSTEPS (sizeof steps / sizeof steps[0])

/* What the reference run recorded per step. */
typedef struct reference {
    uint64_t state[NSTEPS];     /* digest of the session's snapshot after the step */
    uint64_t extra[NSTEPS];     /* digest of the line outputs and the saved string */
    size_t allocs[NSTEPS];      /* allocation attempts the step made */
    size_t calls[NSTEPS][NCB];  /* callback calls the step made */
    size_t total_allocs;
} reference;

/* ==============================================================================================
 * Observation: digests and "nothing changed"
 * ============================================================================================ */

static uint64_t fnv(uint64_t h, const void *p, size_t len)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < len; i++)
        h = (h ^ b[i]) * 0x100000001b3ULL;
    return h;
}

static uint64_t snapshot_digest(const support_snapshot *s)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    h = fnv(h, &s->started, sizeof s->started);
    h = fnv(h, &s->l, sizeof s->l);
    h = fnv(h, &s->rank, sizeof s->rank);
    h = fnv(h, s->params, sizeof s->params);
    h = fnv(h, s->param_status, sizeof s->param_status);
    if (s->started) {
        h = fnv(h, s->center, s->n * sizeof *s->center);
        h = fnv(h, s->basis, s->l * s->n * sizeof *s->basis);
        h = fnv(h, s->indices, s->l * sizeof *s->indices);
        h = fnv(h, s->sv, s->rank * sizeof *s->sv);
    }
    return h;
}

/* The session a step works on: the second one while it exists. */
static const dss_search *target(const run *r)
{
    return r->other != NULL ? r->other : r->search;
}

static uint64_t state_digest(const run *r)
{
    support_snapshot s;
    uint64_t h;
    if (target(r) == NULL)
        return 0;
    assert_int_equal(support_snapshot_take(target(r), N, &s), 0);
    h = snapshot_digest(&s);
    support_snapshot_free(&s);
    return h;
}

static uint64_t extra_digest(const run *r)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    size_t evals = dss_line_evaluations(r->line);
    h = fnv(h, &r->t, sizeof r->t);
    h = fnv(h, &r->score, sizeof r->score);
    h = fnv(h, r->w, sizeof r->w);
    h = fnv(h, &evals, sizeof evals);
    h = fnv(h, &r->saved_len, sizeof r->saved_len);
    return fnv(h, r->saved, r->saved_len);
}

/* Everything a failing call must leave as it was. */
typedef struct observed {
    const void *handles[4];
    int have[2];
    support_snapshot snap[2];
    double stats[2][NSTATS];
    double line_params[5];
    size_t line_evals;
    double t, score;
} observed;

static void observe(const run *r, observed *o)
{
    const dss_search *s[2] = { r->search, r->other };
    memset(o, 0, sizeof *o);
    o->handles[0] = r->model;
    o->handles[1] = r->search;
    o->handles[2] = r->other;
    o->handles[3] = r->line;
    for (int i = 0; i < 2; i++) {
        if (s[i] == NULL)
            continue;
        o->have[i] = 1;
        assert_int_equal(support_snapshot_take(s[i], N, &o->snap[i]), 0);
        for (int k = 0; k < NSTATS; k++)
            assert_int_equal(dss_search_stat(s[i], k + 1, &o->stats[i][k]), DSS_OK);
    }
    if (r->line != NULL) {
        for (int p = 0; p < 5; p++)
            assert_int_equal(dss_line_get(r->line, p + 1, &o->line_params[p]), DSS_OK);
        o->line_evals = dss_line_evaluations(r->line);
    }
    o->t = r->t;
    o->score = r->score;
}

static void observed_free(observed *o)
{
    for (int i = 0; i < 2; i++)
        support_snapshot_free(&o->snap[i]);
}

/* Fail the test unless the failed call `what` left everything as observed in o. */
static void assert_unchanged(const run *r, const observed *o, const step *st, const char *what)
{
    const dss_search *s[2] = { r->search, r->other };
    const void *handles[4] = { r->model, r->search, r->other, r->line };
    if (memcmp(handles, o->handles, sizeof handles) != 0)
        fail_msg("%s, step '%s' (%s): a handle was created or replaced by a failing call",
                 r->cfg->name, st->name, what);
    for (int i = 0; i < 2; i++) {
        if (!o->have[i])
            continue;
        if (!support_snapshot_matches(s[i], N, &o->snap[i]))
            fail_msg("%s, step '%s' (%s): the session changed", r->cfg->name, st->name, what);
        for (int k = 0; k < NSTATS; k++) {
            double v;
            assert_int_equal(dss_search_stat(s[i], k + 1, &v), DSS_OK);
            if (memcmp(&v, &o->stats[i][k], sizeof v) != 0)
                fail_msg("%s, step '%s' (%s): statistic %d changed (%g -> %g)", r->cfg->name,
                         st->name, what, k + 1, o->stats[i][k], v);
        }
    }
    if (r->line != NULL) {
        for (int p = 0; p < 5; p++) {
            double v;
            assert_int_equal(dss_line_get(r->line, p + 1, &v), DSS_OK);
            if (v != o->line_params[p])
                fail_msg("%s, step '%s' (%s): line parameter %d changed", r->cfg->name, st->name,
                         what, p + 1);
        }
        if (dss_line_evaluations(r->line) != o->line_evals)
            fail_msg("%s, step '%s' (%s): dss_line_evaluations changed", r->cfg->name, st->name,
                     what);
    }
    if (st->kind == K_LINE && (r->t != SENTINEL || r->score != SENTINEL))
        fail_msg("%s, step '%s' (%s): a failing line search wrote its outputs", r->cfg->name,
                 st->name, what);
}

/* ==============================================================================================
 * Running the script
 * ============================================================================================ */

static void run_init(run *r, const config *cfg, int fresh_restore)
{
    support_rng rng;
    memset(r, 0, sizeof *r);
    r->cfg = cfg;
    r->fresh_restore = fresh_restore;
    r->lm = lin_create(M, N, NULL, 2024);
    assert_non_null(r->lm);
    r->allocator = (dss_allocator){ counting_alloc, counting_free, &r->count };
    support_rng_seed(&rng, 99);
    support_fill_uniform(&rng, r->z0, N, -1.0, 1.0);
    support_fill_uniform(&rng, r->z1, N, -1.0, 1.0);
    for (size_t j = 0; j < N; j++) {
        r->seg_lo[j] = r->z0[j] - 0.5;
        r->seg_hi[j] = r->z0[j] + 0.5;
    }
}

/* Destroy every handle and check that the allocator balances and saw no misuse. */
static void run_finish(run *r)
{
    dss_line_destroy(r->line);
    dss_search_destroy(r->other);
    dss_search_destroy(r->search);
    dss_model_destroy(r->model);
    if (r->count.allocs != r->count.frees)
        fail_msg("%s: %zu allocations, %zu frees", r->cfg->name, r->count.allocs, r->count.frees);
    assert_int_equal(r->count.misuse, 0);
    assert_int_equal(r->lm->protocol_errors, 0);
    lin_destroy(r->lm);
    r->lm = NULL;
}

static void callback_counts(const run *r, size_t out[NCB])
{
    out[CB_F] = r->lm->f_calls;
    out[CB_JACOBIAN] = r->lm->jac_calls;
    out[CB_VJP] = r->lm->vjp_calls;
    out[CB_JVP] = r->lm->jvp_calls;
    out[CB_G] = r->g.calls;
    out[CB_PROGRESS] = r->progress.calls;
}

static size_t faults_fired(const run *r)
{
    return r->count.failed + r->lm->faults_fired + r->g.fired + r->progress.fired;
}

/* Run step s cleanly and compare it with the reference (or, with rec, record it). */
static void run_step_clean(run *r, size_t s, reference *ref, int record)
{
    const step *st = &steps[s];
    size_t before_allocs = r->count.attempts, before_calls[NCB], after_calls[NCB];
    int rc;
    callback_counts(r, before_calls);
    rc = st->op(r);
    if (rc != st->expect)
        fail_msg("%s, step %zu '%s': status %d (%s), expected %d", r->cfg->name, s, st->name, rc,
                 dss_strerror(rc), st->expect);
    callback_counts(r, after_calls);
    if (record) {
        ref->allocs[s] = r->count.attempts - before_allocs;
        for (int c = 0; c < NCB; c++)
            ref->calls[s][c] = after_calls[c] - before_calls[c];
        ref->state[s] = state_digest(r);
        ref->extra[s] = extra_digest(r);
        if (st->same_as >= 0 && ref->state[s] != ref->state[st->same_as])
            fail_msg("%s, step %zu '%s': the session differs from step %d's", r->cfg->name, s,
                     st->name, st->same_as);
        return;
    }
    if (state_digest(r) != ref->state[s] || extra_digest(r) != ref->extra[s])
        fail_msg("%s, step %zu '%s': results differ from the run without faults", r->cfg->name,
                 s, st->name);
}

/* The reference run: no faults; records digests, allocation and callback counts. */
static void run_reference(const config *cfg, int fresh_restore, reference *ref)
{
    run *r = calloc(1, sizeof *r);
    assert_non_null(r);
    memset(ref, 0, sizeof *ref);
    run_init(r, cfg, fresh_restore);
    for (size_t s = 0; s < NSTEPS; s++)
        run_step_clean(r, s, ref, 1);
    ref->total_allocs = r->count.attempts;
    run_finish(r);
    free(r);
}

/* Run step s where a fault is armed (or may be, for allocations): when it fires, the call must
   return `expect_fault` and change nothing. Returns 1 when a fault fired. */
static int run_step_faulty(run *r, size_t s, int expect_fault, const char *what)
{
    const step *st = &steps[s];
    observed o;
    size_t fired_before = faults_fired(r);
    int rc, fired;
    observe(r, &o);
    rc = st->op(r);
    fired = faults_fired(r) != fired_before;
    if (fired) {
        if (st->kind == K_SETUP)
            fail_msg("%s, step '%s': an infallible step met a fault (%s)", r->cfg->name,
                     st->name, what);
        if (rc != expect_fault)
            fail_msg("%s, step %zu '%s' (%s): status %d (%s), expected %d (%s)", r->cfg->name, s,
                     st->name, what, rc, dss_strerror(rc), expect_fault,
                     dss_strerror(expect_fault));
        assert_unchanged(r, &o, st, what);
    } else if (rc != st->expect) {
        fail_msg("%s, step %zu '%s' (%s, not fired): status %d (%s)", r->cfg->name, s, st->name,
                 what, rc, dss_strerror(rc));
    }
    observed_free(&o);
    return fired;
}

/* One run of the script failing allocation number k; returns 1 when it fired. The steps before
   the one that makes allocation k run as in the reference (nothing can differ there). */
static int run_alloc_fault(const config *cfg, int fresh_restore, reference *ref, size_t k)
{
    run *r = calloc(1, sizeof *r);
    char what[64];
    size_t at = 0, seen = ref->allocs[0];
    int fired = 0;
    assert_non_null(r);
    while (seen < k && at + 1 < NSTEPS)
        seen += ref->allocs[++at];
    run_init(r, cfg, fresh_restore);
    r->count.fail_at = k;
    snprintf(what, sizeof what, "allocation %zu fails", k);
    for (size_t s = 0; s < NSTEPS; s++) {
        if (s < at) {
            int rc = steps[s].op(r);
            if (rc != steps[s].expect || r->count.failed != 0)
                fail_msg("%s, step %zu '%s' (%s): status %d before the fault", cfg->name, s,
                         steps[s].name, what, rc);
        } else if (s == at) {
            fired = run_step_faulty(r, s, DSS_ENOMEM, what);
            if (fired)
                run_step_clean(r, s, ref, 0); /* the same call now succeeds */
        } else {
            run_step_clean(r, s, ref, 0);
        }
    }
    run_finish(r);
    free(r);
    return fired;
}

static size_t total_alloc_points, total_callback_points;

/* Every allocation of the script from step `first` on fails once, in its own run. */
static size_t allocation_faults(const config *cfg, int fresh_restore, size_t first)
{
    reference *ref = calloc(1, sizeof *ref);
    size_t points = 0, k0 = 1;
    assert_non_null(ref);
    run_reference(cfg, fresh_restore, ref);
    for (size_t s = 0; s < first; s++)
        k0 += ref->allocs[s];
    for (size_t k = k0; k <= ref->total_allocs; k++) {
        if (!run_alloc_fault(cfg, fresh_restore, ref, k))
            fail_msg("%s: allocation %zu of %zu was never reached", cfg->name, k,
                     ref->total_allocs);
        points++;
    }
    free(ref);
    return points;
}

/* Arm callback cb to misbehave as `kind` on its i-th call from now. */
static void arm(run *r, int cb, int kind, size_t i)
{
    host_cb *h = cb == CB_G ? &r->g : cb == CB_PROGRESS ? &r->progress : NULL;
    if (h == NULL) {
        lin_fault(r->lm, cb, kind, i);
        return;
    }
    h->fault = kind;
    h->fault_at = i;
    h->armed_at = h->calls;
}

static void disarm(run *r)
{
    for (int cb = CB_F; cb <= CB_JVP; cb++)
        lin_fault(r->lm, cb, LIN_FAULT_NONE, 0);
    r->g.fault = r->progress.fault = LIN_FAULT_NONE;
}

/* One run in which, before each step from `first` on runs cleanly, every call index of every
   callback fails in every way. */
static size_t callback_faults(const config *cfg, int fresh_restore, size_t first)
{
    static const struct { int kind, status; const char *name; } kinds[] = {
        { LIN_FAULT_ERROR, DSS_ECALLBACK, "error" },
        { LIN_FAULT_NAN, DSS_ENONFINITE, "NaN" },
        { LIN_FAULT_INF, DSS_ENONFINITE, "infinity" },
    };
    reference *ref = calloc(1, sizeof *ref);
    run *r = calloc(1, sizeof *r);
    size_t points = 0;
    assert_non_null(ref);
    assert_non_null(r);
    run_reference(cfg, fresh_restore, ref);
    run_init(r, cfg, fresh_restore);
    for (size_t s = 0; s < NSTEPS; s++) {
        for (int cb = 0; cb < NCB; cb++) {
            for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
                if (cb == CB_PROGRESS && k > 0)
                    break; /* progress has one way to fail: cancel */
                for (size_t i = 1; s >= first && i <= ref->calls[s][cb]; i++) {
                    char what[80];
                    int status = cb == CB_PROGRESS ? DSS_ECANCELLED : kinds[k].status;
                    snprintf(what, sizeof what, "%s call %zu: %s", cb_names[cb], i,
                             cb == CB_PROGRESS ? "cancel" : kinds[k].name);
                    arm(r, cb, kinds[k].kind, i);
                    if (!run_step_faulty(r, s, status, what))
                        fail_msg("%s, step %zu '%s': %s never fired", cfg->name, s,
                                 steps[s].name, what);
                    disarm(r);
                    points++;
                }
            }
        }
        run_step_clean(r, s, ref, 0);
    }
    run_finish(r);
    free(r);
    free(ref);
    return points;
}

/* ==============================================================================================
 * Tests
 * ============================================================================================ */

static void every_allocation_failure_returns_enomem_and_changes_nothing(void **state)
{
    (void)state;
    for (size_t c = 0; c < NCONFIGS; c++) {
        size_t points = allocation_faults(&configs[c], 0, 0);
        print_message("faults: %-24s %4zu allocation-failure points\n", configs[c].name, points);
        total_alloc_points += points;
    }
}

static void every_callback_fault_returns_its_status_and_changes_nothing(void **state)
{
    (void)state;
    for (size_t c = 0; c < NCONFIGS; c++) {
        size_t points = callback_faults(&configs[c], 0, 0);
        print_message("faults: %-24s %4zu callback-fault points\n", configs[c].name, points);
        total_callback_points += points;
    }
}

/* The "save, destroy, create, load": the session is restored into a search that was
   created and never started, and goes on bit for bit, also under faults (injected from the
   second search's creation on: the steps before are those of the tests above). */
static void a_saved_session_restores_into_a_search_never_started(void **state)
{
    (void)state;
    for (size_t c = 0; c < NCONFIGS; c++) {
        reference ref_started, *ref_fresh = calloc(1, sizeof *ref_fresh);
        size_t apoints, cpoints;
        assert_non_null(ref_fresh);
        run_reference(&configs[c], 0, &ref_started);
        run_reference(&configs[c], 1, ref_fresh);
        for (size_t s = 0; s < NSTEPS; s++)
            if (ref_fresh->state[s] != ref_started.state[s] && s != S_SECOND_START)
                fail_msg("%s, step %zu '%s': a restored never-started session differs",
                         configs[c].name, s, steps[s].name);
        free(ref_fresh);
        apoints = allocation_faults(&configs[c], 1, S_SECOND_CREATE);
        cpoints = callback_faults(&configs[c], 1, S_SECOND_CREATE);
        print_message("faults: %-24s %4zu + %zu points, restored into a new search\n",
                      configs[c].name, apoints, cpoints);
        total_alloc_points += apoints;
        total_callback_points += cpoints;
    }
}

/* A commit whose target is not representable (a finite radius so large that the centre
   overflows) must not publish a non-finite centre: DSS_ENONFINITE, and nothing changes. */
static void a_commit_that_would_make_the_centre_infinite_changes_nothing(void **state)
{
    lin_model *lm = lin_create(M, N, NULL, 5);
    dss_model *model;
    dss_search *search;
    double z0[N] = { 0 }, c[N];
    (void)state;
    assert_non_null(lm);
    assert_int_equal(lin_dss_model(lm, LIN_WITH_JACOBIAN, &model), DSS_OK);
    assert_int_equal(dss_search_create(&search, model), DSS_OK);
    assert_int_equal(dss_search_start(search, z0), DSS_OK);
    assert_int_equal(dss_search_set(search, DSS_SEARCH_RADIUS, DBL_MAX), DSS_OK);
    for (int i = 0; i < 8; i++) {
        support_snapshot snap;
        int rc;
        assert_int_equal(support_snapshot_take(search, N, &snap), 0);
        rc = dss_search_commit(search, i % 2 ? 0.5 + 0.5 * DBL_EPSILON : 1.0);
        assert_int_equal(dss_search_center(search, c), DSS_OK);
        if (!support_all_finite(c, N))
            fail_msg("commit %d returned %d (%s) and left a non-finite centre", i, rc,
                     dss_strerror(rc));
        if (rc != DSS_OK) {
            assert_int_equal(rc, DSS_ENONFINITE);
            assert_true(support_snapshot_matches(search, N, &snap));
        }
        support_snapshot_free(&snap);
    }
    dss_search_destroy(search);
    dss_model_destroy(model);
    lin_destroy(lm);
}

/* A string altered behind the checksum's back (a bug elsewhere, or a tool that "repairs" the
   CRC) either fails to load, or loads into a session whose own saves load again: a session
   the library accepted and let the user work on must never become impossible to restore.
   Here the right-singular vectors of a (non-lazy) decomposition are moved by 3e-8, so that a
   2-D basis drawn from them is orthonormal only to about 3e-8. (Found by tests/fuzz/fuzz_load.c;
   the input is kept in tests/fuzz/regress/.) */
static void a_loaded_session_saves_a_string_that_loads_again(void **state)
{
    lin_model *lm = lin_create(3, 6, NULL, 5);
    dss_model *model;
    dss_search *a, *b, *c;
    static unsigned char buf[SAVE_CAP], out[SAVE_CAP];
    double z0[6] = { 0 }, v;
    size_t len = 0, len2 = 0, vpos;
    uint32_t crc;
    int rc;
    (void)state;
    assert_non_null(lm);
    assert_int_equal(lin_dss_model(lm, LIN_WITH_VJP | LIN_WITH_JVP, &model), DSS_OK);
    assert_int_equal(dss_search_create(&a, model), DSS_OK);
    assert_int_equal(dss_search_set(a, DSS_SEARCH_JACOBIAN, DSS_JACOBIAN_RANDOMIZED), DSS_OK);
    assert_int_equal(dss_search_set(a, DSS_SEARCH_RANK, 3), DSS_OK);
    assert_int_equal(dss_search_start(a, z0), DSS_OK);
    assert_int_equal(dss_search_save(a, buf, sizeof buf, &len), DSS_OK);
    /* V (rank 3 x n 6 doubles) ends the body of a non-lazy decomposition, before the CRC */
    vpos = len - 4 - 3 * 6 * sizeof(double);
    for (size_t row = 0; row < 2; row++) {
        memcpy(&v, buf + vpos + row * 6 * sizeof v, sizeof v);
        v += 3e-8;
        memcpy(buf + vpos + row * 6 * sizeof v, &v, sizeof v);
    }
    crc = support_crc32(buf, len - 4);
    for (int i = 0; i < 4; i++)
        buf[len - 4 + i] = (unsigned char)(crc >> (8 * i));
    assert_int_equal(dss_search_create(&b, model), DSS_OK);
    assert_int_equal(dss_search_create(&c, model), DSS_OK);
    rc = dss_search_load(b, buf, len);
    if (rc == DSS_OK) {
        /* accepted: then everything the session does from here must stay restorable */
        assert_int_equal(dss_search_set(b, DSS_SEARCH_SUBSPACE_DIM, 2), DSS_OK);
        assert_int_equal(dss_search_resample(b), DSS_OK);
        assert_int_equal(dss_search_save(b, out, sizeof out, &len2), DSS_OK);
        rc = dss_search_load(c, out, len2);
        if (rc != DSS_OK)
            fail_msg("the altered string loaded, but the session's own save then gave %d (%s)",
                     rc, dss_strerror(rc));
    } else {
        assert_int_equal(rc, DSS_EFORMAT);
    }
    dss_search_destroy(c);
    dss_search_destroy(b);
    dss_search_destroy(a);
    dss_model_destroy(model);
    lin_destroy(lm);
}

/* A failing load changes nothing, not even what a later save writes: a string whose last
   double (e[n-1] of the Gram route's tridiagonal form, an entry LAPACK never uses) is a NaN is
   rejected; a moved commit then decomposes into the slot that load had started to fill, and
   the session's next save must still load. (Found by tests/fuzz/fuzz_load.c; the input is kept
   in tests/fuzz/regress/.) */
static void a_failed_load_leaves_nothing_behind_for_a_later_save(void **state)
{
    lin_model *lm = lin_create(7, 4, NULL, 5);
    dss_model *model;
    dss_search *a, *b;
    static unsigned char buf[SAVE_CAP], out[SAVE_CAP];
    double z0[4] = { 0 }, nan = NAN;
    size_t len = 0, len2 = 0;
    uint32_t crc;
    int rc;
    (void)state;
    assert_non_null(lm);
    assert_int_equal(lin_dss_model(lm, LIN_WITH_JACOBIAN, &model), DSS_OK);
    assert_int_equal(dss_search_create(&a, model), DSS_OK);
    assert_int_equal(dss_search_create(&b, model), DSS_OK);
    assert_int_equal(dss_search_start(a, z0), DSS_OK);
    assert_int_equal(dss_search_save(a, buf, sizeof buf, &len), DSS_OK);
    memcpy(buf + len - 4 - sizeof nan, &nan, sizeof nan);
    crc = support_crc32(buf, len - 4);
    for (int i = 0; i < 4; i++)
        buf[len - 4 + i] = (unsigned char)(crc >> (8 * i));
    assert_int_equal(dss_search_load(a, buf, len), DSS_EFORMAT);
    assert_int_equal(dss_search_commit(a, 0.9), DSS_OK);
    assert_int_equal(dss_search_save(a, out, sizeof out, &len2), DSS_OK);
    rc = dss_search_load(b, out, len2);
    if (rc != DSS_OK)
        fail_msg("after a failed load and a moved commit, the session's save gave %d (%s)", rc,
                 dss_strerror(rc));
    dss_search_destroy(b);
    dss_search_destroy(a);
    dss_model_destroy(model);
    lin_destroy(lm);
}

/* OpenBLAS (Debian's default BLAS) hands even these tiny products to worker threads, whose
   hand-offs dominate this file's run time on a busy machine (2 s of CPU became 48 s of wall
   time at a load of 10). The faults tested here do not depend on BLAS threading: ask for one
   thread when the BLAS is OpenBLAS (a weak reference: absent from other BLAS libraries). */
extern void openblas_set_num_threads(int count) __attribute__((weak));

int main(void)
{
    if (openblas_set_num_threads != NULL)
        openblas_set_num_threads(1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_allocation_failure_returns_enomem_and_changes_nothing),
        cmocka_unit_test(every_callback_fault_returns_its_status_and_changes_nothing),
        cmocka_unit_test(a_saved_session_restores_into_a_search_never_started),
        cmocka_unit_test(a_commit_that_would_make_the_centre_infinite_changes_nothing),
        cmocka_unit_test(a_loaded_session_saves_a_string_that_loads_again),
        cmocka_unit_test(a_failed_load_leaves_nothing_behind_for_a_later_save),
    };
    int failed = support_leak_exit(cmocka_run_group_tests_name("faults", tests, NULL, NULL));
    printf("faults: %zu allocation-failure points and %zu callback-fault points exercised\n",
           total_alloc_points, total_callback_points);
    return failed;
}
