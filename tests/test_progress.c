/*
 * Progress, cancellation and statistics.
 *
 * - The progress callback sees the documented stages with done counting up to total:
 *   DSS_STAGE_FINITE_DIFF per batch of f (total n + 1 forward, 2n central),
 *   DSS_STAGE_JACOBIAN per DSS_SEARCH_JACOBIAN_CHUNK rows, DSS_STAGE_RANDOMIZED per pass
 *   (2 (power + 1) of them), DSS_STAGE_LINE_GRID per grid batch and DSS_STAGE_LINE_REFINE per
 *   refinement step of a line search. At each call, `done` is checked against the work the
 *   model has actually seen by then.
 * - Returning non-zero at each call index in turn cancels with DSS_ECANCELLED, no further
 *   progress call is made, and the search (snapshot, statistics included) or the line search's
 *   outputs are unchanged; the same call without cancelling then succeeds and matches a twin
 *   that was never cancelled.
 * - Statistics: the work counters match the model's own counters over a scripted session in
 *   every mode; failed and cancelled calls do not count; seconds are >= 0 and grow; bytes held
 *   are positive, never above the peak, and really held through the model's allocator; an
 *   unknown key is DSS_EINVAL.
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <dss/dss.h>

#include "support.h"

#define NMAX 16
#define LOG_MAX 256
#define NEVER SIZE_MAX
#define SENTINEL (-12345.5)
#define NWORK 10 /* DSS_STAT_POINTS .. DSS_STAT_UNDO_RECOMPUTES */

/* ---- a counted model: lin_model's callbacks behind wrappers that count products ---------------- */

typedef struct counted {
    lin_model *lm;
    size_t vjp_products, jvp_products;
    double callback_delay;  /* seconds each callback spends at least (busy wait), 0: none */
} counted;

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void delay(const counted *c)
{
    if (c->callback_delay > 0) {
        double t0 = now_seconds();
        while (now_seconds() - t0 < c->callback_delay) {
        }
    }
}

static int c_f(void *user, size_t k, const double *z, double *x)
{
    counted *c = user;
    delay(c);
    return lin_f(c->lm, k, z, x);
}

static int c_jacobian(void *user, const double *z, size_t nrows, const size_t *rows, double *out)
{
    counted *c = user;
    delay(c);
    return lin_jacobian(c->lm, z, nrows, rows, out);
}

static int c_vjp(void *user, const double *z, size_t k, const double *u, double *out)
{
    counted *c = user;
    delay(c);
    c->vjp_products += k;
    return lin_vjp(c->lm, z, k, u, out);
}

static int c_jvp(void *user, const double *z, size_t k, const double *v, double *out)
{
    counted *c = user;
    delay(c);
    c->jvp_products += k;
    return lin_jvp(c->lm, z, k, v, out);
}

/* ---- a progress recorder that can cancel at a call index -------------------------------------- */

typedef struct progress_log {
    size_t calls;
    int stage[LOG_MAX];
    size_t done[LOG_MAX], total[LOG_MAX];
    size_t work[LOG_MAX];   /* the model's work when the call came (what depends on the test) */
    size_t cancel_at;       /* the call index (0-based) that returns non-zero; NEVER: none */
    const lin_model *lm;
    int work_kind;          /* which lin_model counter `work` records */
    size_t after_cancel;    /* calls made after the one that cancelled (must stay 0) */
} progress_log;

enum { WORK_F_POINTS, WORK_JAC_ROWS, WORK_PRODUCT_CALLS };

static int record(void *user, int stage, size_t done, size_t total)
{
    progress_log *p = user;
    if (p->cancel_at != NEVER && p->calls > p->cancel_at)
        p->after_cancel++;
    if (p->calls < LOG_MAX) {
        p->stage[p->calls] = stage;
        p->done[p->calls] = done;
        p->total[p->calls] = total;
        if (p->lm)
            p->work[p->calls] = p->work_kind == WORK_F_POINTS ? p->lm->f_points
                              : p->work_kind == WORK_JAC_ROWS ? p->lm->jac_rows_total
                                                               : p->lm->vjp_calls + p->lm->jvp_calls;
    }
    return p->calls++ == p->cancel_at;
}

static void log_reset(progress_log *p, size_t cancel_at)
{
    const lin_model *lm = p->lm;
    int kind = p->work_kind;
    memset(p, 0, sizeof *p);
    p->lm = lm;
    p->work_kind = kind;
    p->cancel_at = cancel_at;
}

/* ---- fixture ------------------------------------------------------------------------------------- */

typedef struct fixture {
    counted     c;
    dss_model  *model;
    dss_search *search;
    dss_search *twin;
    size_t      n, m;
    double      z0[NMAX];
    progress_log log;
} fixture;

static void fixture_clear(fixture *fx)
{
    dss_search_destroy(fx->search);
    dss_search_destroy(fx->twin);
    dss_model_destroy(fx->model);
    lin_destroy(fx->c.lm);
    memset(fx, 0, sizeof *fx);
}

static void set_ok(dss_search *s, int param, double value)
{
    assert_int_equal(dss_search_set(s, param, value), DSS_OK);
}

/* An m x n counted model with the callbacks in flags, a session and its twin (not started),
   both in Jacobian mode `mode`. */
static void build(fixture *fx, size_t m, size_t n, unsigned flags, int mode)
{
    fixture_clear(fx);
    fx->n = n;
    fx->m = m;
    fx->c.lm = lin_create(m, n, NULL, 3 * m + n);
    assert_non_null(fx->c.lm);
    assert_int_equal(dss_model_create(&fx->model, n, m, c_f, &fx->c), DSS_OK);
    if (flags & LIN_WITH_JACOBIAN)
        assert_int_equal(dss_model_set_jacobian(fx->model, c_jacobian), DSS_OK);
    if (flags & LIN_WITH_VJP)
        assert_int_equal(dss_model_set_vjp(fx->model, c_vjp), DSS_OK);
    if (flags & LIN_WITH_JVP)
        assert_int_equal(dss_model_set_jvp(fx->model, c_jvp), DSS_OK);
    assert_int_equal(dss_search_create(&fx->search, fx->model), DSS_OK);
    assert_int_equal(dss_search_create(&fx->twin, fx->model), DSS_OK);
    set_ok(fx->search, DSS_SEARCH_JACOBIAN, mode);
    set_ok(fx->twin, DSS_SEARCH_JACOBIAN, mode);
    set_ok(fx->search, DSS_SEARCH_SEED, 3);
    set_ok(fx->twin, DSS_SEARCH_SEED, 3);
    support_rng r;
    support_rng_seed(&r, 99);
    support_fill_uniform(&r, fx->z0, n, -1.0, 1.0);
    fx->log.lm = fx->c.lm;
}

static void set_both(fixture *fx, int param, double value)
{
    set_ok(fx->search, param, value);
    set_ok(fx->twin, param, value);
}

static void start_both(fixture *fx)
{
    assert_int_equal(dss_search_start(fx->search, fx->z0), DSS_OK);
    assert_int_equal(dss_search_start(fx->twin, fx->z0), DSS_OK);
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
    return 0;
}

static double stat(const dss_search *s, int key)
{
    double v = SENTINEL;
    assert_int_equal(dss_search_stat(s, key, &v), DSS_OK);
    return v;
}

/* Every call of the log has this stage and total: the first asked before any work (done = 0,
   since 1.1), then done strictly increasing and ending at total. */
static void assert_counts_up(const progress_log *p, size_t first, size_t count, int stage,
                             size_t total)
{
    assert_true(count > 1);
    assert_int_equal(p->done[first], 0);
    for (size_t i = first; i < first + count; i++) {
        assert_int_equal(p->stage[i], stage);
        assert_int_equal(p->total[i], total);
        assert_true(p->done[i] <= total);
        if (i > first)
            assert_true(p->done[i] > p->done[i - 1]);
    }
    assert_int_equal(p->done[first + count - 1], total);
}

/* The decomposition's own stage: 0 of 1 before the SVD, 1 of 1 after, at calls first, first+1. */
static void assert_decompose(const progress_log *p, size_t first)
{
    assert_int_equal(p->stage[first], DSS_STAGE_DECOMPOSE);
    assert_int_equal(p->stage[first + 1], DSS_STAGE_DECOMPOSE);
    assert_int_equal(p->done[first], 0);
    assert_int_equal(p->done[first + 1], 1);
    assert_int_equal(p->total[first], 1);
    assert_int_equal(p->total[first + 1], 1);
}

/* ---- stages ------------------------------------------------------------------------------------ */

static void set_progress_rejects_null_handles(void **state)
{
    fixture *fx = *state;
    build(fx, 10, 6, LIN_WITH_JACOBIAN, DSS_JACOBIAN_FULL);
    assert_int_equal(dss_search_set_progress(NULL, record, &fx->log), DSS_EINVAL);
    assert_int_equal(dss_line_set_progress(NULL, record, &fx->log), DSS_EINVAL);
    /* NULL removes: no call is made */
    set_ok(fx->search, DSS_SEARCH_JACOBIAN_CHUNK, 2);
    assert_int_equal(dss_search_set_progress(fx->search, record, &fx->log), DSS_OK);
    assert_int_equal(dss_search_set_progress(fx->search, NULL, NULL), DSS_OK);
    log_reset(&fx->log, NEVER);
    assert_int_equal(dss_search_start(fx->search, fx->z0), DSS_OK);
    assert_int_equal(fx->log.calls, 0);
}

/* Forward differences: n + 1 points in batches of the model's max batch, one call per batch,
   done = points evaluated so far; central: 2n points. */
static void finite_differences_report_each_batch(void **state)
{
    fixture *fx = *state;
    static const struct { int scheme; size_t batch; } cases[] = {
        { DSS_DIFF_FORWARD, 3 }, { DSS_DIFF_FORWARD, 7 }, { DSS_DIFF_FORWARD, 100 },
        { DSS_DIFF_CENTRAL, 5 }, { DSS_DIFF_CENTRAL, 1 },
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        build(fx, 10, 6, 0, DSS_JACOBIAN_FINITE_DIFF);
        const size_t total = cases[k].scheme == DSS_DIFF_CENTRAL ? 2 * fx->n : fx->n + 1;
        assert_int_equal(dss_model_set_max_batch(fx->model, cases[k].batch), DSS_OK);
        set_ok(fx->search, DSS_SEARCH_DIFF_SCHEME, cases[k].scheme);
        fx->log.work_kind = WORK_F_POINTS;
        log_reset(&fx->log, NEVER);
        assert_int_equal(dss_search_set_progress(fx->search, record, &fx->log), DSS_OK);
        lin_reset_counters(fx->c.lm);
        assert_int_equal(dss_search_start(fx->search, fx->z0), DSS_OK);
        const size_t batches = (total + cases[k].batch - 1) / cases[k].batch;
        /* one call before the first batch, one after each, then the decomposition's two */
        assert_int_equal(fx->log.calls, batches + 3);
        assert_int_equal(fx->c.lm->f_calls, batches);
        assert_counts_up(&fx->log, 0, batches + 1, DSS_STAGE_FINITE_DIFF, total);
        for (size_t i = 0; i < batches + 1; i++) /* done = points evaluated by then */
            assert_int_equal(fx->log.done[i], fx->log.work[i]);
        assert_decompose(&fx->log, batches + 1);
        /* a far commit reports the same again */
        log_reset(&fx->log, NEVER);
        assert_int_equal(dss_search_commit(fx->search, 0.9), DSS_OK);
        assert_int_equal(fx->log.calls, batches + 3);
        assert_counts_up(&fx->log, 0, batches + 1, DSS_STAGE_FINITE_DIFF, total);
        assert_decompose(&fx->log, batches + 1);
        /* a near commit and a resample do no long work */
        log_reset(&fx->log, NEVER);
        assert_int_equal(dss_search_commit(fx->search, 0.5), DSS_OK);
        assert_int_equal(dss_search_resample(fx->search), DSS_OK);
        assert_int_equal(fx->log.calls, 0);
    }
}

/* With DSS_SEARCH_JACOBIAN_CHUNK, one call per chunk of rows (FULL names its rows explicitly),
   done = rows fetched so far. */
static void jacobian_chunks_report_each_chunk(void **state)
{
    fixture *fx = *state;
    static const struct { int mode; size_t chunk, rows; } cases[] = {
        { DSS_JACOBIAN_FULL, 4, 0 }, { DSS_JACOBIAN_FULL, 1, 0 }, { DSS_JACOBIAN_FULL, 9, 0 },
        { DSS_JACOBIAN_ROWS, 3, 7 }, { DSS_JACOBIAN_ROWS, 7, 7 },
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        build(fx, 10, 6, LIN_WITH_JACOBIAN, cases[k].mode);
        const size_t rows = cases[k].rows ? cases[k].rows : fx->m;
        set_ok(fx->search, DSS_SEARCH_JACOBIAN_CHUNK, (double)cases[k].chunk);
        if (cases[k].rows)
            set_ok(fx->search, DSS_SEARCH_JACOBIAN_ROWS, (double)cases[k].rows);
        fx->log.work_kind = WORK_JAC_ROWS;
        log_reset(&fx->log, NEVER);
        assert_int_equal(dss_search_set_progress(fx->search, record, &fx->log), DSS_OK);
        lin_reset_counters(fx->c.lm);
        assert_int_equal(dss_search_start(fx->search, fx->z0), DSS_OK);
        const size_t chunks = (rows + cases[k].chunk - 1) / cases[k].chunk;
        assert_int_equal(fx->c.lm->jac_calls, chunks);
        assert_int_equal(fx->log.calls, chunks + 3);
        assert_counts_up(&fx->log, 0, chunks + 1, DSS_STAGE_JACOBIAN, rows);
        for (size_t i = 0; i < chunks + 1; i++)
            assert_int_equal(fx->log.done[i], fx->log.work[i]);
        assert_decompose(&fx->log, chunks + 1);
        if (chunks > 1)
            assert_int_equal(fx->c.lm->jac_last_rows_null, 0);
        assert_int_equal(fx->c.lm->protocol_errors, 0);
    }
    /* unchunked: asked before and after the one request, then the decomposition */
    build(fx, 10, 6, LIN_WITH_JACOBIAN, DSS_JACOBIAN_FULL);
    log_reset(&fx->log, NEVER);
    assert_int_equal(dss_search_set_progress(fx->search, record, &fx->log), DSS_OK);
    assert_int_equal(dss_search_start(fx->search, fx->z0), DSS_OK);
    assert_int_equal(fx->log.calls, 4);
    assert_counts_up(&fx->log, 0, 2, DSS_STAGE_JACOBIAN, fx->m);
    assert_decompose(&fx->log, 2);
}

/* Issue 8: with default settings a large FULL Jacobian was one request and one progress call
   after it, so a Cancel could not stop a slow neural Jacobian. With a progress callback and
   m >= 1024 rows, the default asks in 4 pieces (rows named explicitly), asking before each;
   a Cancel at the first call costs no Jacobian at all. */
static void a_large_full_jacobian_is_asked_in_pieces_and_cancels_before_the_first(void **state)
{
    fixture *fx = *state;
    build(fx, 2048, 4, LIN_WITH_JACOBIAN, DSS_JACOBIAN_FULL);
    fx->log.work_kind = WORK_JAC_ROWS;
    log_reset(&fx->log, NEVER);
    assert_int_equal(dss_search_set_progress(fx->search, record, &fx->log), DSS_OK);
    lin_reset_counters(fx->c.lm);
    assert_int_equal(dss_search_start(fx->search, fx->z0), DSS_OK);
    assert_int_equal(fx->c.lm->jac_calls, 4);
    assert_int_equal(fx->log.calls, 4 + 1 + 2);
    assert_counts_up(&fx->log, 0, 5, DSS_STAGE_JACOBIAN, 2048);
    for (size_t i = 0; i < 5; i++)
        assert_int_equal(fx->log.done[i], 512 * i);
    assert_decompose(&fx->log, 5);
    assert_int_equal(fx->c.lm->protocol_errors, 0);
    /* without a progress callback: one request, as in 1.0 */
    assert_int_equal(dss_search_set_progress(fx->search, NULL, NULL), DSS_OK);
    lin_reset_counters(fx->c.lm);
    assert_int_equal(dss_search_commit(fx->search, 0.9), DSS_OK);
    assert_int_equal(fx->c.lm->jac_calls, 1);
    /* cancelled before the first piece: no Jacobian row is fetched, nothing changes */
    support_snapshot snap;
    assert_int_equal(support_snapshot_take(fx->search, fx->n, &snap), 0);
    log_reset(&fx->log, 0);
    assert_int_equal(dss_search_set_progress(fx->search, record, &fx->log), DSS_OK);
    lin_reset_counters(fx->c.lm);
    assert_int_equal(dss_search_commit(fx->search, 0.1), DSS_ECANCELLED);
    assert_int_equal(fx->c.lm->jac_calls, 0);
    assert_int_equal(fx->log.calls, 1);
    assert_true(support_snapshot_matches(fx->search, fx->n, &snap));
    support_snapshot_free(&snap);
}

/* Randomized SVD: 2 (power + 1) passes (VJP batches and JVP batches), reported one by one;
   with a JVP callback, done = product calls made by then. */
static void randomized_reports_each_pass(void **state)
{
    fixture *fx = *state;
    for (int jvp = 0; jvp < 2; jvp++) {
        for (size_t power = 0; power <= 2; power++) {
            build(fx, 20, 8, LIN_WITH_VJP | (jvp ? LIN_WITH_JVP : 0), DSS_JACOBIAN_RANDOMIZED);
            set_ok(fx->search, DSS_SEARCH_RANK, 3);
            set_ok(fx->search, DSS_SEARCH_OVERSAMPLE, 2);
            set_ok(fx->search, DSS_SEARCH_POWER_ITERATIONS, (double)power);
            fx->log.work_kind = WORK_PRODUCT_CALLS;
            log_reset(&fx->log, NEVER);
            assert_int_equal(dss_search_set_progress(fx->search, record, &fx->log), DSS_OK);
            lin_reset_counters(fx->c.lm);
            assert_int_equal(dss_search_start(fx->search, fx->z0), DSS_OK);
            const size_t passes = 2 * (power + 1);
            assert_int_equal(fx->log.calls, passes + 1);
            assert_counts_up(&fx->log, 0, passes + 1, DSS_STAGE_RANDOMIZED, passes);
            assert_int_equal(fx->c.lm->vjp_calls, power + 1);
            if (jvp) {
                assert_int_equal(fx->c.lm->jvp_calls, power + 1);
                for (size_t i = 0; i < passes + 1; i++)
                    assert_int_equal(fx->log.done[i], fx->log.work[i]);
            }
        }
    }
}

typedef struct line_case { int refine; size_t samples, batch; } line_case;

static int score(void *user, size_t k, const double *x, double *out)
{
    const size_t m = *(const size_t *)user;
    for (size_t i = 0; i < k; i++) {
        double acc = 0.0;
        for (size_t d = 0; d < m; d++)
            acc += (x[i * m + d] - 0.05 * (double)d) * (x[i * m + d] - 0.05 * (double)d);
        out[i] = -acc;
    }
    return 0;
}

/* Grid batches (done = points scored so far, total = samples), then refinement steps (done
   increasing, never above the total, which is an upper bound). */
static void line_search_reports_grid_batches_and_refinement_steps(void **state)
{
    fixture *fx = *state;
    static const line_case cases[] = { { 0, 11, 4 }, { 1, 11, 4 }, { 1, 2, 1 }, { 1, 101, 500 } };
    build(fx, 10, 6, LIN_WITH_JACOBIAN, DSS_JACOBIAN_FULL);
    start_both(fx);
    dss_line *line;
    assert_int_equal(dss_line_create(&line), DSS_OK);
    fx->log.work_kind = WORK_F_POINTS;
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        const line_case *lc = &cases[k];
        assert_int_equal(dss_line_set(line, DSS_LINE_SAMPLES, (double)lc->samples), DSS_OK);
        assert_int_equal(dss_line_set(line, DSS_LINE_BATCH, (double)lc->batch), DSS_OK);
        assert_int_equal(dss_line_set(line, DSS_LINE_REFINE, lc->refine), DSS_OK);
        assert_int_equal(dss_line_set_progress(line, record, &fx->log), DSS_OK);
        for (int direct = 0; direct < 2; direct++) {
            double t = SENTINEL, g = SENTINEL, lo[NMAX], hi[NMAX];
            log_reset(&fx->log, NEVER);
            lin_reset_counters(fx->c.lm);
            if (direct) {
                assert_int_equal(dss_search_slider_ends(fx->search, lo, hi), DSS_OK);
                assert_int_equal(dss_find_optimal(line, fx->model, lo, hi, score, &fx->m, &t, &g),
                                 DSS_OK);
            } else {
                assert_int_equal(dss_search_find_optimal(line, fx->search, score, &fx->m, &t, &g),
                                 DSS_OK);
            }
            const size_t batch = lc->batch < lc->samples ? lc->batch : lc->samples;
            const size_t grid_calls = (lc->samples + batch - 1) / batch + 1; /* + the first */
            assert_true(fx->log.calls >= grid_calls);
            assert_counts_up(&fx->log, 0, grid_calls, DSS_STAGE_LINE_GRID, lc->samples);
            for (size_t i = 0; i < grid_calls; i++)
                assert_int_equal(fx->log.done[i], fx->log.work[i]);
            const size_t refine_calls = fx->log.calls - grid_calls;
            if (!lc->refine) {
                assert_int_equal(refine_calls, 0);
                continue;
            }
            assert_true(refine_calls > 0);
            assert_true(refine_calls <= LOG_MAX - grid_calls);
            for (size_t i = grid_calls; i < fx->log.calls; i++) {
                assert_int_equal(fx->log.stage[i], DSS_STAGE_LINE_REFINE);
                assert_int_equal(fx->log.total[i], fx->log.total[grid_calls]);
                assert_true(fx->log.done[i] <= fx->log.total[i]);
                /* a step is scored before it is reported */
                assert_true(fx->log.done[i] <= fx->log.work[i] - lc->samples);
                if (i > grid_calls)
                    assert_true(fx->log.done[i] > fx->log.done[i - 1]);
            }
            assert_int_equal(dss_line_evaluations(line), fx->c.lm->f_points);
        }
    }
    dss_line_destroy(line);
}

/* ---- cancellation ------------------------------------------------------------------------------ */

enum { OP_START, OP_COMMIT_FAR, OP_COMMIT_W_FAR, OP_UNDO };

static int op(dss_search *s, int which, const double *z0)
{
    static const double w[2] = { -0.8, 0.4 };
    switch (which) {
    case OP_START: return dss_search_start(s, z0);
    case OP_COMMIT_FAR: return dss_search_commit(s, 0.93);
    case OP_COMMIT_W_FAR: return dss_search_commit_w(s, w);
    default: return dss_search_undo(s);
    }
}

typedef struct cancel_case {
    const char *name;
    size_t m, n;
    unsigned flags;
    int mode;
    size_t chunk, max_batch;
    int op;
    int started;     /* start before the operation */
} cancel_case;

static const cancel_case CANCEL_CASES[] = {
    { "finite differences, first start", 10, 6, 0, DSS_JACOBIAN_FINITE_DIFF, 0, 2, OP_START, 0 },
    { "finite differences, restart", 10, 6, 0, DSS_JACOBIAN_FINITE_DIFF, 0, 3, OP_START, 1 },
    { "finite differences, far commit", 10, 6, 0, DSS_JACOBIAN_FINITE_DIFF, 0, 2, OP_COMMIT_FAR, 1 },
    { "full in chunks, far commit", 10, 6, LIN_WITH_JACOBIAN, DSS_JACOBIAN_FULL, 3, 0, OP_COMMIT_FAR, 1 },
    { "full in chunks, far commit_w", 10, 6, LIN_WITH_JACOBIAN, DSS_JACOBIAN_FULL, 2, 0,
      OP_COMMIT_W_FAR, 1 },
    { "rows in chunks, far commit", 30, 8, LIN_WITH_JACOBIAN, DSS_JACOBIAN_ROWS, 2, 0, OP_COMMIT_FAR, 1 },
    { "randomized, far commit", 20, 8, LIN_WITH_VJP | LIN_WITH_JVP, DSS_JACOBIAN_RANDOMIZED, 0, 0,
      OP_COMMIT_FAR, 1 },
    { "randomized without JVP, far commit", 20, 8, LIN_WITH_VJP, DSS_JACOBIAN_RANDOMIZED, 0, 4,
      OP_COMMIT_FAR, 1 },
    { "full in chunks, undo that recomputes", 10, 6, LIN_WITH_JACOBIAN, DSS_JACOBIAN_FULL, 3, 0, OP_UNDO,
      1 },
    { "finite differences, undo that recomputes", 10, 6, 0, DSS_JACOBIAN_FINITE_DIFF, 0, 3, OP_UNDO, 1 },
};

/* Moved commits on both sessions, then undos: the twin (with the recorder) goes back until an
   undo reports progress, i.e. recomputes a decomposition; the session makes the undos before
   that one. fx->log then holds the recomputing undo's calls. */
static void prepare_undo(fixture *fx)
{
    for (int i = 0; i < 5; i++) {
        double t = i % 2 ? 0.1 : 0.9;
        assert_int_equal(dss_search_commit(fx->search, t), DSS_OK);
        assert_int_equal(dss_search_commit(fx->twin, t), DSS_OK);
    }
    assert_int_equal(dss_search_set_progress(fx->twin, record, &fx->log), DSS_OK);
    for (int i = 0; i < 5; i++) {
        log_reset(&fx->log, NEVER);
        assert_int_equal(dss_search_undo(fx->twin), DSS_OK);
        if (fx->log.calls > 0) {
            for (int j = 0; j < i; j++)
                assert_int_equal(dss_search_undo(fx->search), DSS_OK);
            return;
        }
    }
    fail_msg("no undo recomputed a decomposition");
}

/* Cancel the operation at every progress call index in turn: DSS_ECANCELLED, nothing changed
   (statistics included), no progress call after the cancelling one; then the operation without
   cancelling succeeds and gives what the never-cancelled twin got, and both have the same
   future. */
static void cancelling_at_each_progress_call_changes_nothing(void **state)
{
    fixture *fx = *state;
    for (size_t k = 0; k < sizeof CANCEL_CASES / sizeof CANCEL_CASES[0]; k++) {
        const cancel_case *cc = &CANCEL_CASES[k];
        build(fx, cc->m, cc->n, cc->flags, cc->mode);
        set_both(fx, DSS_SEARCH_JACOBIAN_CHUNK, (double)cc->chunk);
        set_both(fx, DSS_SEARCH_SUBSPACE_DIM, 2);
        set_both(fx, DSS_SEARCH_RANK, 4);
        set_both(fx, DSS_SEARCH_OVERSAMPLE, 2);
        set_both(fx, DSS_SEARCH_JACOBIAN_ROWS, 5);
        if (cc->max_batch)
            assert_int_equal(dss_model_set_max_batch(fx->model, cc->max_batch), DSS_OK);
        if (cc->started)
            start_both(fx);
        support_snapshot twin_after, before;
        size_t calls;
        if (cc->op == OP_UNDO) {
            prepare_undo(fx); /* the twin has done the recomputing undo, the session not yet */
            calls = fx->log.calls;
        } else {
            log_reset(&fx->log, NEVER);
            assert_int_equal(dss_search_set_progress(fx->twin, record, &fx->log), DSS_OK);
            assert_int_equal(op(fx->twin, cc->op, fx->z0), DSS_OK);
            calls = fx->log.calls;
        }
        if (calls == 0)
            fail_msg("[%s] no progress call to cancel", cc->name);
        assert_int_equal(support_snapshot_take(fx->twin, fx->n, &twin_after), 0);
        assert_int_equal(support_snapshot_take(fx->search, fx->n, &before), 0);
        assert_int_equal(dss_search_set_progress(fx->search, record, &fx->log), DSS_OK);
        for (size_t i = 0; i < calls; i++) {
            log_reset(&fx->log, i);
            int st = op(fx->search, cc->op, fx->z0);
            if (st != DSS_ECANCELLED)
                fail_msg("[%s] cancel at call %zu: returned %d", cc->name, i, st);
            assert_int_equal(fx->log.calls, i + 1);
            assert_int_equal(fx->log.after_cancel, 0);
            if (!support_snapshot_matches(fx->search, fx->n, &before))
                fail_msg("[%s] cancel at call %zu changed the session", cc->name, i);
        }
        log_reset(&fx->log, NEVER);
        assert_int_equal(op(fx->search, cc->op, fx->z0), DSS_OK);
        assert_int_equal(fx->log.calls, calls);
        support_snapshot now;
        assert_int_equal(support_snapshot_take(fx->search, fx->n, &now), 0);
        if (!support_snapshot_equal(&now, &twin_after))
            fail_msg("[%s] after the cancellations the session differs from its twin", cc->name);
        support_snapshot_free(&now);
        /* the same work counted on both: cancelled calls left no trace */
        for (int key = 1; key <= NWORK; key++)
            if (cc->op != OP_UNDO)
                assert_true(stat(fx->search, key) == stat(fx->twin, key));
        assert_int_equal(dss_search_set_progress(fx->search, NULL, NULL), DSS_OK);
        if (cc->op != OP_UNDO) /* after an undo the twins' histories differ in length */
            assert_true(support_twins_agree(fx->search, fx->twin, fx->n, 3));
        assert_int_equal(fx->c.lm->protocol_errors, 0);
        support_snapshot_free(&twin_after);
        support_snapshot_free(&before);
    }
}

/* A line search cancelled at each progress call: DSS_ECANCELLED, outputs not written, the
   evaluation count of the last successful search kept; then it succeeds with the same bits. */
static void cancelling_a_line_search_at_each_call_writes_nothing(void **state)
{
    fixture *fx = *state;
    build(fx, 10, 6, LIN_WITH_JACOBIAN, DSS_JACOBIAN_FULL);
    start_both(fx);
    dss_line *line;
    assert_int_equal(dss_line_create(&line), DSS_OK);
    assert_int_equal(dss_line_set(line, DSS_LINE_SAMPLES, 9), DSS_OK);
    assert_int_equal(dss_line_set(line, DSS_LINE_BATCH, 4), DSS_OK);
    assert_int_equal(dss_line_set(line, DSS_LINE_REFINE, 1), DSS_OK);
    assert_int_equal(dss_line_set_progress(line, record, &fx->log), DSS_OK);
    double t_ref, g_ref;
    log_reset(&fx->log, NEVER);
    assert_int_equal(dss_search_find_optimal(line, fx->search, score, &fx->m, &t_ref, &g_ref), DSS_OK);
    const size_t calls = fx->log.calls, evaluations = dss_line_evaluations(line);
    assert_true(calls > 3);
    support_snapshot snap;
    assert_int_equal(support_snapshot_take(fx->search, fx->n, &snap), 0);
    for (int direct = 0; direct < 2; direct++) {
        double lo[NMAX], hi[NMAX];
        assert_int_equal(dss_search_slider_ends(fx->search, lo, hi), DSS_OK);
        for (size_t i = 0; i < calls; i++) {
            double t = SENTINEL, g = SENTINEL;
            log_reset(&fx->log, i);
            int st = direct ? dss_find_optimal(line, fx->model, lo, hi, score, &fx->m, &t, &g)
                            : dss_search_find_optimal(line, fx->search, score, &fx->m, &t, &g);
            assert_int_equal(st, DSS_ECANCELLED);
            assert_int_equal(fx->log.calls, i + 1);
            assert_true(t == SENTINEL);
            assert_true(g == SENTINEL);
            assert_int_equal(dss_line_evaluations(line), evaluations);
            assert_true(support_snapshot_matches(fx->search, fx->n, &snap));
        }
        double t = SENTINEL, g = SENTINEL;
        log_reset(&fx->log, NEVER);
        assert_int_equal(direct ? dss_find_optimal(line, fx->model, lo, hi, score, &fx->m, &t, &g)
                                : dss_search_find_optimal(line, fx->search, score, &fx->m, &t, &g),
                         DSS_OK);
        assert_memory_equal(&t, &t_ref, sizeof t);
        assert_memory_equal(&g, &g_ref, sizeof g);
        assert_int_equal(dss_line_evaluations(line), evaluations);
    }
    support_snapshot_free(&snap);
    dss_line_destroy(line);
}

/* ---- statistics ---------------------------------------------------------------------------------- */

static void unknown_statistics_key_is_einval(void **state)
{
    fixture *fx = *state;
    build(fx, 10, 6, LIN_WITH_JACOBIAN, DSS_JACOBIAN_FULL);
    static const int bad[] = { 0, -1, DSS_STAT_PEAK_BYTES + 1, 100, -2147483647 - 1 };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        double v = SENTINEL;
        assert_int_equal(dss_search_stat(fx->search, bad[i], &v), DSS_EINVAL);
        assert_true(v == SENTINEL);
    }
    double v = SENTINEL;
    assert_int_equal(dss_search_stat(NULL, DSS_STAT_POINTS, &v), DSS_EINVAL);
    assert_true(v == SENTINEL);
    assert_int_equal(dss_search_stat(fx->search, DSS_STAT_POINTS, NULL), DSS_EINVAL);
}

static void statistics_of_a_fresh_session_are_zero_but_its_bytes(void **state)
{
    fixture *fx = *state;
    build(fx, 10, 6, LIN_WITH_JACOBIAN, DSS_JACOBIAN_FULL);
    for (int key = DSS_STAT_POINTS; key <= DSS_STAT_SECONDS_CALLBACKS; key++)
        assert_true(stat(fx->search, key) == 0.0);
    assert_true(stat(fx->search, DSS_STAT_BYTES_HELD) > 0);
    assert_true(stat(fx->search, DSS_STAT_PEAK_BYTES) >= stat(fx->search, DSS_STAT_BYTES_HELD));
}

typedef struct stat_case {
    const char *name;
    size_t m, n;
    unsigned flags;
    int mode;
    size_t chunk, max_batch;
    int scheme;
} stat_case;

static const stat_case STAT_CASES[] = {
    { "full", 20, 6, LIN_WITH_JACOBIAN, DSS_JACOBIAN_FULL, 0, 0, 0 },
    { "full in chunks", 20, 6, LIN_WITH_JACOBIAN, DSS_JACOBIAN_FULL, 3, 0, 0 },
    { "rows in chunks", 30, 8, LIN_WITH_JACOBIAN, DSS_JACOBIAN_ROWS, 2, 0, 0 },
    { "finite differences", 12, 5, 0, DSS_JACOBIAN_FINITE_DIFF, 0, 4, DSS_DIFF_FORWARD },
    { "central differences", 12, 5, 0, DSS_JACOBIAN_FINITE_DIFF, 0, 3, DSS_DIFF_CENTRAL },
    { "randomized", 20, 8, LIN_WITH_VJP | LIN_WITH_JVP, DSS_JACOBIAN_RANDOMIZED, 0, 0, 0 },
    { "randomized without JVP", 20, 8, LIN_WITH_VJP, DSS_JACOBIAN_RANDOMIZED, 0, 5, 0 },
};

/* The work counters of the session equal what the model saw, over a scripted session in every
   mode: start, moved and kept commits, commit_w, resamples, undos (some recomputing). Line
   searches are the line handle's work, not the session's: they are left out. */
static void statistics_match_the_models_own_counters(void **state)
{
    fixture *fx = *state;
    for (size_t k = 0; k < sizeof STAT_CASES / sizeof STAT_CASES[0]; k++) {
        const stat_case *sc = &STAT_CASES[k];
        build(fx, sc->m, sc->n, sc->flags, sc->mode);
        set_ok(fx->search, DSS_SEARCH_JACOBIAN_CHUNK, (double)sc->chunk);
        set_ok(fx->search, DSS_SEARCH_DIFF_SCHEME, sc->scheme);
        set_ok(fx->search, DSS_SEARCH_JACOBIAN_ROWS, 5);
        set_ok(fx->search, DSS_SEARCH_RANK, 3);
        set_ok(fx->search, DSS_SEARCH_OVERSAMPLE, 1);
        set_ok(fx->search, DSS_SEARCH_SUBSPACE_DIM, 2);
        if (sc->max_batch)
            assert_int_equal(dss_model_set_max_batch(fx->model, sc->max_batch), DSS_OK);
        lin_reset_counters(fx->c.lm);
        fx->c.vjp_products = fx->c.jvp_products = 0;
        static const double w_far[2] = { 0.9, -0.2 }, w_near[2] = { 0.05, 0.05 };
        const size_t decompositions = 5; /* the start and the four moved steps */
        assert_int_equal(dss_search_start(fx->search, fx->z0), DSS_OK);
        assert_int_equal(dss_search_commit(fx->search, 0.9), DSS_OK);
        assert_int_equal(dss_search_commit(fx->search, 0.52), DSS_OK);
        assert_int_equal(dss_search_resample(fx->search), DSS_OK);
        assert_int_equal(dss_search_commit_w(fx->search, w_far), DSS_OK);
        assert_int_equal(dss_search_commit_w(fx->search, w_near), DSS_OK);
        assert_int_equal(dss_search_commit(fx->search, 0.1), DSS_OK);
        assert_int_equal(dss_search_commit(fx->search, 0.85), DSS_OK);
        /* a line search on the model does not count in the session */
        {
            dss_line *line;
            double t, g;
            const lin_model before = *fx->c.lm;
            const size_t vp = fx->c.vjp_products, jp = fx->c.jvp_products;
            assert_int_equal(dss_line_create(&line), DSS_OK);
            assert_int_equal(dss_line_set(line, DSS_LINE_SAMPLES, 7), DSS_OK);
            assert_int_equal(dss_search_find_optimal(line, fx->search, score, &fx->m, &t, &g), DSS_OK);
            dss_line_destroy(line);
            /* restore the counters to what the session did */
            fx->c.lm->f_calls = before.f_calls;
            fx->c.lm->f_points = before.f_points;
            assert_int_equal(fx->c.lm->jac_calls, before.jac_calls);
            assert_int_equal(fx->c.vjp_products, vp);
            assert_int_equal(fx->c.jvp_products, jp);
        }
        for (int i = 0; i < 7; i++) /* every step */
            assert_int_equal(dss_search_undo(fx->search), DSS_OK);
        assert_int_equal(dss_search_undo(fx->search), DSS_ESTATE);
        const lin_model *lm = fx->c.lm;
        const double rec = stat(fx->search, DSS_STAT_UNDO_RECOMPUTES);
        assert_true(rec >= 1); /* four moved steps undone: at least one recomputed */
        assert_true(stat(fx->search, DSS_STAT_DECOMPOSITIONS) == (double)decompositions + rec);
        assert_true(stat(fx->search, DSS_STAT_F_CALLS) == (double)lm->f_calls);
        assert_true(stat(fx->search, DSS_STAT_POINTS) == (double)lm->f_points);
        assert_true(stat(fx->search, DSS_STAT_JACOBIAN_CALLS) == (double)lm->jac_calls);
        assert_true(stat(fx->search, DSS_STAT_JACOBIAN_ROWS) == (double)lm->jac_rows_total);
        assert_true(stat(fx->search, DSS_STAT_VJP_CALLS) == (double)lm->vjp_calls);
        assert_true(stat(fx->search, DSS_STAT_VJP_PRODUCTS) == (double)fx->c.vjp_products);
        assert_true(stat(fx->search, DSS_STAT_JVP_CALLS) == (double)lm->jvp_calls);
        assert_true(stat(fx->search, DSS_STAT_JVP_PRODUCTS) == (double)fx->c.jvp_products);
        /* and the work is where the mode says it is */
        const double d = (double)decompositions + rec;
        if (sc->mode == DSS_JACOBIAN_FULL) {
            assert_true(stat(fx->search, DSS_STAT_JACOBIAN_ROWS) == d * (double)sc->m);
            assert_true(stat(fx->search, DSS_STAT_POINTS) == 0);
        } else if (sc->mode == DSS_JACOBIAN_ROWS) {
            assert_true(stat(fx->search, DSS_STAT_JACOBIAN_ROWS) == d * 5);
        } else if (sc->mode == DSS_JACOBIAN_FINITE_DIFF) {
            const double per = sc->scheme == DSS_DIFF_CENTRAL ? 2.0 * (double)sc->n : (double)sc->n + 1;
            assert_true(stat(fx->search, DSS_STAT_POINTS) == d * per);
            assert_true(stat(fx->search, DSS_STAT_F_CALLS) == d * ceil(per / (double)sc->max_batch));
        } else {
            assert_true(stat(fx->search, DSS_STAT_VJP_CALLS) == d * 2); /* power 1: 2 VJP batches */
            assert_true(stat(fx->search, DSS_STAT_VJP_PRODUCTS) == d * 2 * (3 + 1));
        }
        assert_int_equal(lm->protocol_errors, 0);
    }
}

static void read_work(const dss_search *s, double *v)
{
    for (int key = 1; key <= DSS_STAT_SECONDS_CALLBACKS; key++)
        v[key - 1] = stat(s, key);
}

/* Failed calls (callback errors, NaN, cancellation, invalid arguments, a failing undo) leave
   every counter and both times alone, although the host was called. */
static void failed_calls_are_not_counted(void **state)
{
    fixture *fx = *state;
    double before[DSS_STAT_SECONDS_CALLBACKS], after[DSS_STAT_SECONDS_CALLBACKS];
    for (int mode = 0; mode < 3; mode++) {
        if (mode == 0)
            build(fx, 10, 6, LIN_WITH_JACOBIAN, DSS_JACOBIAN_FULL);
        else if (mode == 1)
            build(fx, 10, 6, 0, DSS_JACOBIAN_FINITE_DIFF);
        else
            build(fx, 20, 8, LIN_WITH_VJP | LIN_WITH_JVP, DSS_JACOBIAN_RANDOMIZED);
        set_ok(fx->search, DSS_SEARCH_RANK, 3);
        set_ok(fx->search, DSS_SEARCH_JACOBIAN_CHUNK, 4); /* FULL: progress per chunk */
        const int cb = mode == 0 ? LIN_JACOBIAN : mode == 1 ? LIN_F : LIN_VJP;
        /* a failing first start: still all zero */
        lin_fault(fx->c.lm, cb, LIN_FAULT_ERROR, 1);
        assert_int_equal(dss_search_start(fx->search, fx->z0), DSS_ECALLBACK);
        for (int key = 1; key <= DSS_STAT_SECONDS_CALLBACKS; key++)
            assert_true(stat(fx->search, key) == 0);
        assert_int_equal(dss_search_start(fx->search, fx->z0), DSS_OK);
        for (int i = 0; i < 4; i++)
            assert_int_equal(dss_search_commit(fx->search, i % 2 ? 0.05 : 0.95), DSS_OK);
        static const int kinds[] = { LIN_FAULT_ERROR, LIN_FAULT_NAN, LIN_FAULT_INF };
        for (size_t f = 0; f < 3; f++) {
            read_work(fx->search, before);
            size_t fired = fx->c.lm->faults_fired;
            lin_fault(fx->c.lm, cb, kinds[f], 1);
            assert_int_not_equal(dss_search_commit(fx->search, 0.97), DSS_OK);
            assert_int_equal(fx->c.lm->faults_fired, fired + 1);
            read_work(fx->search, after);
            assert_memory_equal(before, after, sizeof before);
        }
        /* a cancelled far commit */
        read_work(fx->search, before);
        log_reset(&fx->log, 0);
        assert_int_equal(dss_search_set_progress(fx->search, record, &fx->log), DSS_OK);
        assert_int_equal(dss_search_commit(fx->search, 0.97), DSS_ECANCELLED);
        assert_int_equal(dss_search_set_progress(fx->search, NULL, NULL), DSS_OK);
        read_work(fx->search, after);
        assert_memory_equal(before, after, sizeof before);
        /* invalid arguments, and undos: a failing recomputation */
        assert_int_equal(dss_search_commit(fx->search, -0.5), DSS_EINVAL);
        assert_int_equal(dss_search_undo(fx->search), DSS_OK);
        assert_int_equal(dss_search_undo(fx->search), DSS_OK);
        lin_fault(fx->c.lm, cb, LIN_FAULT_ERROR | LIN_FAULT_REPEAT, 1);
        int st = DSS_OK;
        while (st == DSS_OK) {
            read_work(fx->search, before);
            st = dss_search_undo(fx->search);
        }
        assert_int_equal(st, DSS_ECALLBACK);
        read_work(fx->search, after);
        assert_memory_equal(before, after, sizeof before);
        lin_fault(fx->c.lm, cb, LIN_FAULT_NONE, 0);
        assert_int_equal(dss_search_undo(fx->search), DSS_OK);
        read_work(fx->search, after);
        assert_true(after[DSS_STAT_UNDO_RECOMPUTES - 1] == before[DSS_STAT_UNDO_RECOMPUTES - 1] + 1);
    }
}

/* Seconds are >= 0 from the start and never decrease; callbacks that each take at least 20 us
   add at least that per call to DSS_STAT_SECONDS_CALLBACKS, and that time is not counted as
   the library's. */
static void seconds_are_non_negative_and_grow(void **state)
{
    fixture *fx = *state;
    build(fx, 12, 6, 0, DSS_JACOBIAN_FINITE_DIFF);
    const double delay_s = 20e-6;
    fx->c.callback_delay = delay_s;
    assert_int_equal(dss_model_set_max_batch(fx->model, 2), DSS_OK);
    double lib = stat(fx->search, DSS_STAT_SECONDS_LIBRARY);
    double cbs = stat(fx->search, DSS_STAT_SECONDS_CALLBACKS);
    assert_true(lib == 0 && cbs == 0);
    double wall0 = now_seconds();
    for (int i = 0; i < 6; i++) {
        size_t calls0 = fx->c.lm->f_calls;
        int st = i == 0 ? dss_search_start(fx->search, fx->z0)
               : i % 2 ? dss_search_commit(fx->search, 0.9) : dss_search_resample(fx->search);
        assert_int_equal(st, DSS_OK);
        double l2 = stat(fx->search, DSS_STAT_SECONDS_LIBRARY);
        double c2 = stat(fx->search, DSS_STAT_SECONDS_CALLBACKS);
        assert_true(l2 >= lib);
        assert_true(c2 >= cbs);
        size_t calls = fx->c.lm->f_calls - calls0;
        assert_true(c2 - cbs >= (double)calls * delay_s);
        if (calls > 0)
            assert_true(l2 > lib); /* a decomposition is library work */
        lib = l2;
        cbs = c2;
    }
    /* together never more than the wall time that passed */
    assert_true(lib + cbs <= now_seconds() - wall0);
}

/* A counting allocator that tracks the bytes it hands out. */
typedef struct bytes_alloc { size_t outstanding, blocks; } bytes_alloc;

#define BLOCK_HEADER 32 /* our own size prefix, a multiple of every alignment */

static void *b_alloc(void *user, size_t size)
{
    bytes_alloc *b = user;
    unsigned char *p = malloc(size + BLOCK_HEADER);
    if (!p)
        return NULL;
    memcpy(p, &size, sizeof size);
    b->outstanding += size;
    b->blocks++;
    return p + BLOCK_HEADER;
}

static void b_free(void *user, void *ptr)
{
    bytes_alloc *b = user;
    unsigned char *p = (unsigned char *)ptr - BLOCK_HEADER;
    size_t size;
    memcpy(&size, p, sizeof size);
    b->outstanding -= size;
    b->blocks--;
    free(p);
}

/* Bytes held are positive and never above the peak, the peak never decreases, and they are
   bytes the session really holds through the model's allocator: at most what it has out, and
   all of it comes back when the session is destroyed. */
static void bytes_held_are_positive_below_the_peak_and_really_held(void **state)
{
    (void)state;
    bytes_alloc ba = { 0, 0 };
    dss_allocator al = { b_alloc, b_free, &ba };
    lin_model *lm = lin_create(30, 10, NULL, 4);
    assert_non_null(lm);
    dss_model *model;
    dss_search *s;
    assert_int_equal(dss_model_create_with_allocator(&model, 10, 30, lin_f, lm, &al), DSS_OK);
    assert_int_equal(dss_model_set_jacobian(model, lin_jacobian), DSS_OK);
    const size_t model_bytes = ba.outstanding;
    assert_int_equal(dss_search_create(&s, model), DSS_OK);
    double z0[10] = { 0.1, -0.2, 0.3, 0.0, 0.5, -0.6, 0.7, 0.1, -0.1, 0.2 };
    double peak = 0;
    for (int i = 0; i < 12; i++) {
        int st = i == 0 ? DSS_OK
               : i == 1 ? dss_search_start(s, z0)
               : i == 6 ? dss_search_set(s, DSS_SEARCH_SUBSPACE_DIM, 4)
               : i == 9 ? dss_search_undo(s)
               : i % 2 ? dss_search_commit(s, 0.9) : dss_search_resample(s);
        assert_int_equal(st, DSS_OK);
        double held = stat(s, DSS_STAT_BYTES_HELD), p = stat(s, DSS_STAT_PEAK_BYTES);
        assert_true(held > 0);
        assert_true(p >= held);
        assert_true(p >= peak);
        peak = p;
        assert_true(held <= (double)(ba.outstanding - model_bytes));
    }
    const double held = stat(s, DSS_STAT_BYTES_HELD);
    const size_t out_before = ba.outstanding;
    dss_search_destroy(s);
    assert_true((double)(out_before - ba.outstanding) >= held);
    assert_int_equal(ba.outstanding, model_bytes);
    dss_model_destroy(model);
    assert_int_equal(ba.outstanding, 0);
    assert_int_equal(ba.blocks, 0);
    lin_destroy(lm);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(set_progress_rejects_null_handles),
        T(finite_differences_report_each_batch),
        T(jacobian_chunks_report_each_chunk),
        T(a_large_full_jacobian_is_asked_in_pieces_and_cancels_before_the_first),
        T(randomized_reports_each_pass),
        T(line_search_reports_grid_batches_and_refinement_steps),
        T(cancelling_at_each_progress_call_changes_nothing),
        T(cancelling_a_line_search_at_each_call_writes_nothing),
        T(unknown_statistics_key_is_einval),
        T(statistics_of_a_fresh_session_are_zero_but_its_bytes),
        T(statistics_match_the_models_own_counters),
        T(failed_calls_are_not_counted),
        T(seconds_are_non_negative_and_grow),
        T(bytes_held_are_positive_below_the_peak_and_really_held),
    };
    return support_leak_exit(cmocka_run_group_tests_name("progress", tests, NULL, NULL));
}
