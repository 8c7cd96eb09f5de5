/*
 * Host-driven calls (dss_job): every call that may call the host, driven through its requests,
 * gives the bits the callback call gives; a job cancelled or abandoned at any request leaves the
 * session exactly as before; wrong answers fail the job as failing callbacks fail the call;
 * mutators are refused while a job is open, reads are not.
 *
 * The host here answers each request with the linear model's own callbacks (support.c), so a
 * job session and a callback session of the same model are twins: after every operation their
 * saved strings must be equal, byte for byte (one process, one BLAS: bit-identical promised).
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

#define M 9
#define N 5

/* ---- a host that answers requests ------------------------------------------------------------ */

typedef struct host {
    lin_model *lm;
    dss_synthetic *problem;  /* for scores, when set */
    size_t requests;         /* answered so far */
    size_t cancel_at;        /* 1-based request to cancel at (0: never) */
    size_t abandon_at;       /* 1-based request to abandon the job at (destroy it) */
    size_t fail_at;          /* 1-based request to fail with status 7 */
    size_t short_at;         /* 1-based request to answer with one value too few */
    size_t kinds[6];         /* requests per kind */
} host;

/* A score for line searches: minus the squared distance of x to a target (index-wise). */
static int lin_score(void *user, size_t k, const double *x, double *score)
{
    const lin_model *lm = user;
    for (size_t i = 0; i < k; i++) {
        double s = 0.0;
        for (size_t d = 0; d < lm->m; d++) {
            double e = x[i * lm->m + d] - 0.3 * (double)(d % 3);
            s -= e * e;
        }
        score[i] = s;
    }
    return 0;
}

/* Answer one pending request; returns 1 when the job was abandoned (destroyed). */
static int answer(host *h, dss_job **jobp, int kind)
{
    dss_job *job = *jobp;
    size_t count, in_count, nrows, k = dss_job_count(job);
    double *out = dss_job_output(job, &count);
    const double *in = dss_job_input(job, &in_count);
    const double *z = dss_job_point(job);
    const size_t *rows = dss_job_rows(job, &nrows);
    int rc = 0;
    h->requests++;
    assert_true(kind >= 1 && kind <= 5);
    h->kinds[kind]++;
    assert_non_null(out);
    if (h->abandon_at == h->requests) {
        dss_job_destroy(job);
        *jobp = NULL;
        return 1;
    }
    if (h->cancel_at == h->requests) {
        assert_int_equal(dss_job_cancel(job), DSS_OK);
        assert_int_equal(dss_job_answer(job, count), DSS_EINVAL); /* settled already */
        return 0;
    }
    if (h->fail_at == h->requests) {
        assert_int_equal(dss_job_fail(job, 7), DSS_OK);
        return 0;
    }
    switch (kind) {
    case DSS_REQUEST_F:
        assert_int_equal(in_count, k * h->lm->n);
        assert_int_equal(count, k * h->lm->m);
        rc = lin_f(h->lm, k, in, out);
        break;
    case DSS_REQUEST_JACOBIAN:
        assert_null(in);
        assert_int_equal(nrows, k);
        rc = lin_jacobian(h->lm, z, nrows, rows, out);
        break;
    case DSS_REQUEST_VJP:
        rc = lin_vjp(h->lm, z, k, in, out);
        break;
    case DSS_REQUEST_JVP:
        rc = lin_jvp(h->lm, z, k, in, out);
        break;
    default:
        assert_int_equal(in_count, k * h->lm->m);
        assert_int_equal(count, k);
        rc = lin_score(h->lm, k, in, out);
        break;
    }
    assert_int_equal(rc, 0);
    assert_int_equal(dss_job_answer(job, h->short_at == h->requests ? count - 1 : count), DSS_OK);
    return 0;
}

/* Drive a job to its end; returns its status (DSS_ECANCELLED when abandoned). */
static int drive(host *h, dss_job *job)
{
    int kind;
    while ((kind = dss_job_next(job)) > 0)
        if (answer(h, &job, kind))
            return DSS_ECANCELLED;
    assert_int_equal(dss_job_next(job), kind); /* the end repeats */
    dss_job_destroy(job);
    return kind;
}

/* ---- operations, through callbacks or through jobs ------------------------------------------- */

enum { OP_START, OP_COMMIT, OP_COMMIT_W, OP_RESAMPLE, OP_UNDO, OP_LINE, OP_SEGMENT, OPS };

typedef struct session {
    dss_model *model;
    dss_search *search;
    dss_line *line;
    double t, score;      /* the last line search's result */
} session;

static int run_op(host *h, session *s, int op, int jobs, const double *arg)
{
    dss_job *job = NULL;
    double lo[N], hi[N];
    int rc;
    for (int j = 0; j < N; j++) {
        lo[j] = -0.5 + 0.1 * j;
        hi[j] = 0.4 - 0.05 * j;
    }
    if (!jobs) {
        switch (op) {
        case OP_START: return dss_search_start(s->search, arg);
        case OP_COMMIT: return dss_search_commit(s->search, arg[0]);
        case OP_COMMIT_W: return dss_search_commit_w(s->search, arg);
        case OP_RESAMPLE: return dss_search_resample(s->search);
        case OP_UNDO: return dss_search_undo(s->search);
        case OP_LINE:
            return dss_search_find_optimal(s->line, s->search, lin_score, h->lm, &s->t, &s->score);
        default:
            return dss_find_optimal(s->line, s->model, lo, hi, lin_score, h->lm, &s->t, &s->score);
        }
    }
    switch (op) {
    case OP_START: rc = dss_search_start_job(s->search, arg, &job); break;
    case OP_COMMIT: rc = dss_search_commit_job(s->search, arg[0], &job); break;
    case OP_COMMIT_W: rc = dss_search_commit_w_job(s->search, arg, &job); break;
    case OP_RESAMPLE: rc = dss_search_resample_job(s->search, &job); break;
    case OP_UNDO: rc = dss_search_undo_job(s->search, &job); break;
    case OP_LINE: rc = dss_search_find_optimal_job(s->line, s->search, &job); break;
    default: rc = dss_find_optimal_job(s->line, s->model, lo, hi, &job); break;
    }
    if (rc != DSS_OK)
        return rc;
    if (op == OP_LINE || op == OP_SEGMENT) {
        int kind;
        while ((kind = dss_job_next(job)) > 0)
            if (answer(h, &job, kind))
                return DSS_ECANCELLED;
        if (kind == DSS_OK)
            assert_int_equal(dss_job_line_result(job, &s->t, &s->score), DSS_OK);
        else
            assert_int_equal(dss_job_line_result(job, &s->t, &s->score), DSS_ESTATE);
        dss_job_destroy(job);
        return kind;
    }
    return drive(h, job);
}

static unsigned char *saved(const dss_search *s, size_t *len)
{
    unsigned char *buf;
    assert_int_equal(dss_search_save(s, NULL, 0, len), DSS_OK);
    buf = malloc(*len);
    assert_non_null(buf);
    assert_int_equal(dss_search_save(s, buf, *len, len), DSS_OK);
    return buf;
}

static void assert_same_saves(const dss_search *a, const dss_search *b)
{
    size_t la, lb;
    unsigned char *x = saved(a, &la), *y = saved(b, &lb);
    assert_int_equal(la, lb);
    assert_memory_equal(x, y, la);
    free(x);
    free(y);
}

/* A Jacobian route's configuration: 0 FULL, 1 FULL chunked, 2 ROWS, 3 FINITE_DIFF (central,
   max batch 4), 4 RANDOMIZED with a JVP, 5 RANDOMIZED without one (forward differences). */
enum { ROUTES = 6 };
static unsigned route_flags(int route)
{
    return route <= 2 ? LIN_WITH_JACOBIAN : route == 3 ? 0 : route == 4 ? LIN_WITH_VJP | LIN_WITH_JVP
                                                                         : LIN_WITH_VJP;
}

static void session_open(session *s, lin_model *lm, int route, int l, int policy)
{
    memset(s, 0, sizeof *s);
    assert_int_equal(lin_dss_model(lm, route_flags(route), &s->model), DSS_OK);
    if (route == 3)
        assert_int_equal(dss_model_set_max_batch(s->model, 4), DSS_OK);
    assert_int_equal(dss_search_create(&s->search, s->model), DSS_OK);
    assert_int_equal(dss_line_create(&s->line), DSS_OK);
    assert_int_equal(dss_line_set(s->line, DSS_LINE_SAMPLES, 17), DSS_OK);
    assert_int_equal(dss_line_set(s->line, DSS_LINE_BATCH, 5), DSS_OK);
    assert_int_equal(dss_line_set(s->line, DSS_LINE_REFINE, 1), DSS_OK);
    static const int modes[ROUTES] = { DSS_JACOBIAN_FULL, DSS_JACOBIAN_FULL, DSS_JACOBIAN_ROWS,
                                       DSS_JACOBIAN_FINITE_DIFF, DSS_JACOBIAN_RANDOMIZED,
                                       DSS_JACOBIAN_RANDOMIZED };
    assert_int_equal(dss_search_set(s->search, DSS_SEARCH_JACOBIAN, modes[route]), DSS_OK);
    if (route == 1)
        assert_int_equal(dss_search_set(s->search, DSS_SEARCH_JACOBIAN_CHUNK, 2), DSS_OK);
    if (route == 2)
        assert_int_equal(dss_search_set(s->search, DSS_SEARCH_JACOBIAN_ROWS, 4), DSS_OK);
    if (route == 3)
        assert_int_equal(dss_search_set(s->search, DSS_SEARCH_DIFF_SCHEME, DSS_DIFF_CENTRAL),
                         DSS_OK);
    if (route >= 4)
        assert_int_equal(dss_search_set(s->search, DSS_SEARCH_RANK, 3), DSS_OK);
    assert_int_equal(dss_search_set(s->search, DSS_SEARCH_SUBSPACE_DIM, l), DSS_OK);
    assert_int_equal(dss_search_set(s->search, DSS_SEARCH_RADIUS_POLICY, policy), DSS_OK);
    if (policy != DSS_RADIUS_FIXED)
        assert_int_equal(dss_search_set(s->search, DSS_SEARCH_STALL_COMMITS, 2), DSS_OK);
    assert_int_equal(dss_search_set(s->search, DSS_SEARCH_SEED, 3 + route), DSS_OK);
}

static void session_close(session *s)
{
    dss_line_destroy(s->line);
    dss_search_destroy(s->search);
    dss_model_destroy(s->model);
}

/* ---- the differential test ------------------------------------------------------------------- */

/* A random session, the same through callbacks and through jobs: start, then 24 operations
   drawn from commit (far and near the centre), commit_w, resample, undo, both line searches and
   a save/load round trip; the saved strings agree after every one, and so do line results. */
static void jobs_and_callbacks_give_the_same_bits(void **state)
{
    (void)state;
    for (int route = 0; route < ROUTES; route++)
        for (int variant = 0; variant < 2; variant++) {
            const int l = variant ? 2 : 1;
            const int policy = variant ? DSS_RADIUS_ADAPTIVE : DSS_RADIUS_FIXED;
            lin_model *lm = lin_create(M, N, NULL, 40 + (uint64_t)route);
            host h = { .lm = lm };
            session cb, jb;
            support_rng r;
            double z0[N] = { 0.1, -0.2, 0.3, 0.0, 0.2 };
            assert_non_null(lm);
            support_rng_seed(&r, (uint64_t)(route * 2 + variant + 1));
            session_open(&cb, lm, route, l, policy);
            session_open(&jb, lm, route, l, policy);
            assert_int_equal(run_op(&h, &cb, OP_START, 0, z0), DSS_OK);
            assert_int_equal(run_op(&h, &jb, OP_START, 1, z0), DSS_OK);
            assert_same_saves(cb.search, jb.search);
            for (int step = 0; step < 24; step++) {
                int op = 1 + (int)(support_rng_next(&r) % 7);
                double arg[2];
                int ra, rb;
                if (op == OPS) { /* a save/load round trip of the job session */
                    size_t len;
                    unsigned char *b = saved(jb.search, &len);
                    assert_int_equal(dss_search_load(jb.search, b, len), DSS_OK);
                    assert_int_equal(dss_search_load(cb.search, b, len), DSS_OK);
                    free(b);
                    continue;
                }
                arg[0] = support_rng_next(&r) % 2 ? 0.9 : 0.52;
                arg[1] = -0.7;
                if (op == OP_COMMIT_W && l == 1)
                    arg[0] = 2.0 * arg[0] - 1.0;
                ra = run_op(&h, &cb, op, 0, arg);
                rb = run_op(&h, &jb, op, 1, arg);
                if (ra != rb)
                    fail_msg("route %d variant %d step %d op %d: callbacks %d, jobs %d", route,
                             variant, step, op, ra, rb);
                assert_same_saves(cb.search, jb.search);
                if (op == OP_LINE || op == OP_SEGMENT) {
                    assert_memory_equal(&cb.t, &jb.t, sizeof cb.t);
                    assert_memory_equal(&cb.score, &jb.score, sizeof cb.score);
                }
            }
            session_close(&cb);
            session_close(&jb);
            lin_destroy(lm);
        }
}

/* ---- cancelled, abandoned, failed and short-answered at every request ---------------------- */

/* A started session of route, committed far once (so that undo has a step), whose next
   operation op is then run as a job stopped at request i in the way `how` says (1 cancel,
   2 abandon, 3 fail, 4 a short answer): the status is the documented one and the session is
   exactly as before (its saved string, its snapshot, and its future against a twin). Returns
   the number of requests of the uninterrupted job. */
static size_t stop_at_every_request(int route, int op, int how)
{
    lin_model *lm = lin_create(M, N, NULL, 60 + (uint64_t)route);
    double z0[N] = { 0.2, -0.1, 0.05, 0.3, -0.2 }, arg[2] = { 0.9, -0.6 };
    size_t total;
    assert_non_null(lm);
    if (op == OP_COMMIT_W)
        arg[0] = 0.8;
    /* the uninterrupted job: how many requests */
    {
        host h = { .lm = lm };
        session s;
        session_open(&s, lm, route, op == OP_COMMIT_W ? 2 : 1, DSS_RADIUS_FIXED);
        assert_int_equal(run_op(&h, &s, OP_START, 1, z0), DSS_OK);
        assert_int_equal(run_op(&h, &s, OP_COMMIT, 1, arg), DSS_OK);
        h.requests = 0;
        assert_int_equal(run_op(&h, &s, op, 1, op == OP_START ? z0 : arg), DSS_OK);
        total = h.requests;
        session_close(&s);
    }
    for (size_t i = 1; i <= total; i++) {
        static const int want[5] = { 0, DSS_ECANCELLED, DSS_ECANCELLED, DSS_ECALLBACK,
                                     DSS_ECALLBACK };
        host h = { .lm = lm };
        session s, twin;
        support_snapshot before;
        size_t la, lb;
        unsigned char *a, *b;
        session_open(&s, lm, route, op == OP_COMMIT_W ? 2 : 1, DSS_RADIUS_FIXED);
        session_open(&twin, lm, route, op == OP_COMMIT_W ? 2 : 1, DSS_RADIUS_FIXED);
        assert_int_equal(run_op(&h, &s, OP_START, 1, z0), DSS_OK);
        assert_int_equal(run_op(&h, &s, OP_COMMIT, 1, arg), DSS_OK);
        assert_int_equal(run_op(&h, &twin, OP_START, 0, z0), DSS_OK);
        assert_int_equal(run_op(&h, &twin, OP_COMMIT, 0, arg), DSS_OK);
        assert_int_equal(support_snapshot_take(s.search, N, &before), 0);
        a = saved(s.search, &la);
        h.requests = 0;
        h.cancel_at = how == 1 ? i : 0;
        h.abandon_at = how == 2 ? i : 0;
        h.fail_at = how == 3 ? i : 0;
        h.short_at = how == 4 ? i : 0;
        if (run_op(&h, &s, op, 1, op == OP_START ? z0 : arg) != want[how])
            fail_msg("route %d op %d how %d request %zu of %zu: wrong status", route, op, how, i,
                     total);
        assert_int_equal(h.requests, i);
        b = saved(s.search, &lb);
        assert_int_equal(la, lb);
        assert_memory_equal(a, b, la);
        assert_true(support_snapshot_matches(s.search, N, &before));
        /* the session goes on as its twin, which never saw the job */
        assert_true(support_twins_agree(s.search, twin.search, N, 3));
        support_snapshot_free(&before);
        free(a);
        free(b);
        session_close(&s);
        session_close(&twin);
    }
    lin_destroy(lm);
    return total;
}

static void a_job_stopped_at_any_request_changes_nothing(void **state)
{
    static const int ops[] = { OP_START, OP_COMMIT, OP_COMMIT_W, OP_RESAMPLE, OP_UNDO, OP_LINE,
                               OP_SEGMENT };
    (void)state;
    for (int route = 0; route < ROUTES; route++)
        for (size_t o = 0; o < sizeof ops / sizeof ops[0]; o++)
            for (int how = 1; how <= 4; how++) {
                size_t total = stop_at_every_request(route, ops[o], how);
                /* every route's commit asks something; undo of a kept decomposition may not */
                if (ops[o] == OP_START || ops[o] == OP_COMMIT || ops[o] == OP_LINE)
                    assert_true(total > 0);
            }
}

/* ---- what an open job allows --------------------------------------------------------------- */

static void an_open_job_refuses_mutators_and_allows_reads(void **state)
{
    lin_model *lm = lin_create(M, N, NULL, 77);
    host h = { .lm = lm };
    session s;
    dss_job *job, *other;
    double z0[N] = { 0 }, c[N], v;
    int kind;
    (void)state;
    assert_non_null(lm);
    session_open(&s, lm, 1, 1, DSS_RADIUS_FIXED); /* chunked: (M + 1) / 2 requests */
    assert_int_equal(run_op(&h, &s, OP_START, 0, z0), DSS_OK);
    assert_int_equal(dss_search_commit_job(s.search, 0.9, &job), DSS_OK);
    /* opened, not yet run: already busy */
    assert_int_equal(dss_search_commit(s.search, 0.9), DSS_EBUSY);
    assert_int_equal(dss_search_undo_job(s.search, &other), DSS_EBUSY);
    assert_null(other);
    kind = dss_job_next(job);
    assert_int_equal(kind, DSS_REQUEST_JACOBIAN);
    assert_int_equal(dss_job_next(job), kind);                 /* unanswered: the same again */
    /* between requests: reads work, mutators do not */
    assert_int_equal(dss_search_center(s.search, c), DSS_OK);
    assert_int_equal(dss_search_get(s.search, DSS_SEARCH_RANK, &v), DSS_OK);
    assert_int_equal(dss_search_set(s.search, DSS_SEARCH_SEED, 5), DSS_EBUSY);
    assert_int_equal(dss_search_resample(s.search), DSS_EBUSY);
    assert_int_equal(dss_search_load(s.search, "x", 1), DSS_EBUSY);
    /* the wrong calls on the job itself */
    assert_int_equal(dss_job_fail(job, 0), DSS_EINVAL);
    assert_int_equal(dss_job_line_result(job, &v, &v), DSS_ESTATE);
    assert_int_equal(drive(&h, job), DSS_OK);  /* answers this and the rest, destroys */
    assert_true(h.kinds[DSS_REQUEST_JACOBIAN] == (M + 1) / 2); /* chunks of 2 rows */
    /* ended: the session is free again */
    assert_int_equal(dss_search_commit(s.search, 0.5), DSS_OK);
    /* a job opened and destroyed unrun leaves it free too */
    assert_int_equal(dss_search_resample_job(s.search, &job), DSS_OK);
    dss_job_destroy(job);
    assert_int_equal(dss_search_resample(s.search), DSS_OK);
    /* a job reports what its call reports: commit_w on an unstarted session is DSS_ESTATE */
    {
        dss_search *fresh;
        double w = 0.5;
        assert_int_equal(dss_search_create(&fresh, s.model), DSS_OK);
        assert_int_equal(dss_search_commit_w(fresh, &w), DSS_ESTATE);
        assert_int_equal(dss_search_commit_w_job(fresh, &w, &job), DSS_OK);
        assert_int_equal(dss_job_next(job), DSS_ESTATE);
        dss_job_destroy(job);
        dss_search_destroy(fresh);
    }
    /* NULLs */
    assert_int_equal(dss_job_next(NULL), DSS_EINVAL);
    assert_int_equal(dss_job_answer(NULL, 1), DSS_EINVAL);
    assert_int_equal(dss_job_cancel(NULL), DSS_EINVAL);
    assert_int_equal(dss_search_commit_job(NULL, 0.5, &job), DSS_EINVAL);
    assert_null(job);
    assert_int_equal(dss_search_start_job(s.search, NULL, &job), DSS_EINVAL);
    dss_job_destroy(NULL);
    session_close(&s);
    lin_destroy(lm);
}

/* A non-finite answer fails the job as a callback's NaN fails the call. */
static void a_non_finite_answer_is_enonfinite(void **state)
{
    lin_model *lm = lin_create(M, N, NULL, 78);
    host h = { .lm = lm };
    session s;
    dss_job *job;
    double z0[N] = { 0 }, *out;
    size_t count;
    (void)state;
    assert_non_null(lm);
    session_open(&s, lm, 0, 1, DSS_RADIUS_FIXED);
    assert_int_equal(run_op(&h, &s, OP_START, 0, z0), DSS_OK);
    assert_int_equal(dss_search_commit_job(s.search, 0.9, &job), DSS_OK);
    assert_int_equal(dss_job_next(job), DSS_REQUEST_JACOBIAN);
    out = dss_job_output(job, &count);
    for (size_t i = 0; i < count; i++)
        out[i] = 1.0;
    out[count - 1] = NAN;
    assert_int_equal(dss_job_answer(job, count), DSS_OK);
    assert_int_equal(dss_job_next(job), DSS_ENONFINITE);
    dss_job_destroy(job);
    assert_int_equal(dss_search_commit(s.search, 0.9), DSS_OK);
    session_close(&s);
    lin_destroy(lm);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(jobs_and_callbacks_give_the_same_bits),
        cmocka_unit_test(a_job_stopped_at_any_request_changes_nothing),
        cmocka_unit_test(an_open_job_refuses_mutators_and_allows_reads),
        cmocka_unit_test(a_non_finite_answer_is_enonfinite),
    };
    return support_leak_exit(cmocka_run_group_tests(tests, NULL, NULL));
}
