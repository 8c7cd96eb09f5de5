/*
 * Distinct handles from distinct threads (dss.h: "Distinct handles may be used from distinct
 * threads at once; one handle is not thread-safe. A dss_model is only read by searches and line
 * searches, so several threads may share it").
 *
 * Eight sessions, each with its own model (a lin_model or a dss_synthetic problem), search and
 * line search, in every Jacobian mode, run a scripted session: start, line searches (grid and
 * refined) and their commits, kept commits, resamples, a 2-D subspace with commit_w, undo,
 * save and load into a new search. Each session's results are reduced to a digest of every
 * output bit. The sessions run once one after the other, then twice at once on eight threads
 * released together by a barrier; every concurrent digest must equal its sequential one.
 * A second group of eight threads shares one dss_synthetic model.
 *
 * The interesting run is `make check-tsan` (ThreadSanitizer); under `make check` it is a
 * quick determinism test. OPENBLAS_NUM_THREADS=1 keeps OpenBLAS from starting threads of its
 * own, which ThreadSanitizer cannot see into.
 */
#define _POSIX_C_SOURCE 200809L /* pthread barriers */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dss/dss.h>

#include "support.h"

#define THREADS 8
#define ITERATIONS 12
#define NMAX 16
#define SAVE_CAP 65536

typedef struct task {
    int id;
    int mode;                   /* DSS_JACOBIAN_* */
    int synthetic;              /* 1: a dss_synthetic problem, 0: a lin_model */
    const dss_model *shared;    /* a model shared with other threads (synthetic problems) */
    dss_synthetic *shared_problem;
    size_t n, m;
    pthread_barrier_t *barrier; /* NULL: run at once */
    /* results */
    int status;                 /* the first unexpected status, or DSS_OK */
    const char *failed_at;      /* the call that gave it */
    uint64_t digest;
} task;

static uint64_t fnv(uint64_t h, const void *p, size_t len)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < len; i++)
        h = (h ^ b[i]) * 0x100000001b3ULL;
    return h;
}

/* Score for lin_model outputs: a concave quadratic with its peak off the origin. */
static int lin_score(void *user, size_t k, const double *x, double *score)
{
    const size_t m = *(const size_t *)user;
    for (size_t i = 0; i < k; i++) {
        double acc = 0.0;
        for (size_t d = 0; d < m; d++) {
            double e = x[i * m + d] - 0.1 * (double)(d % 7);
            acc -= e * e;
        }
        score[i] = acc;
    }
    return 0;
}

/* Fold everything the session shows into the digest. */
static uint64_t digest_session(uint64_t h, const dss_search *s, size_t n)
{
    double c[NMAX], b[2 * NMAX], sv[NMAX];
    size_t idx[2], l = dss_search_subspace_dim(s), rank = dss_search_rank(s);
    if (dss_search_center(s, c) != DSS_OK || dss_search_basis(s, b) != DSS_OK
        || dss_search_basis_indices(s, idx) != DSS_OK
        || dss_search_singular_values(s, sv, NMAX) != DSS_OK)
        return h ^ 0xdeadULL;
    h = fnv(h, &l, sizeof l);
    h = fnv(h, &rank, sizeof rank);
    h = fnv(h, c, n * sizeof *c);
    h = fnv(h, b, l * n * sizeof *b);
    h = fnv(h, idx, l * sizeof *idx);
    return fnv(h, sv, (rank < NMAX ? rank : NMAX) * sizeof *sv);
}

#define CHECK(call)                                                                              \
    do {                                                                                         \
        int check_rc_ = (call);                                                                  \
        if (check_rc_ != DSS_OK && tk->status == DSS_OK) {                                       \
            tk->status = check_rc_;                                                              \
            tk->failed_at = #call;                                                               \
        }                                                                                        \
        if (check_rc_ != DSS_OK)                                                                 \
            goto done;                                                                           \
    } while (0)

static void *session(void *arg)
{
    task *tk = arg;
    lin_model *lm = NULL;
    dss_synthetic *problem = NULL;
    dss_model *own = NULL;
    const dss_model *model;
    dss_search *search = NULL, *restored = NULL;
    dss_line *line = NULL;
    dss_score_fn g;
    void *g_user;
    unsigned char *saved = malloc(SAVE_CAP);
    double z0[NMAX] = { 0 }, t = 0.0, score = 0.0;
    const double w[2] = { 0.7, -0.3 };
    size_t len = 0, evals;
    uint64_t h = 0xcbf29ce484222325ULL;

    tk->status = DSS_OK;
    tk->failed_at = NULL;
    if (saved == NULL) {
        tk->status = DSS_ENOMEM;
        tk->failed_at = "malloc";
        return NULL;
    }
    if (tk->barrier != NULL)
        pthread_barrier_wait(tk->barrier);

    /* the model: the thread's own (created here, concurrently) or a shared one */
    if (tk->shared != NULL) {
        model = tk->shared;
        g = dss_synthetic_score;
        g_user = tk->shared_problem;
        CHECK(dss_synthetic_initial_point(tk->shared_problem, z0));
    } else if (tk->synthetic) {
        CHECK(dss_synthetic_create(&problem, tk->n, tk->m, 2.0, 1000u + (unsigned)tk->id));
        model = dss_synthetic_model(problem);
        g = dss_synthetic_score;
        g_user = problem;
        CHECK(dss_synthetic_initial_point(problem, z0));
    } else {
        support_rng r;
        lm = lin_create(tk->m, tk->n, NULL, 77u + (unsigned)tk->id);
        if (lm == NULL) {
            tk->status = DSS_ENOMEM;
            tk->failed_at = "lin_create";
            goto done;
        }
        CHECK(lin_dss_model(lm, LIN_WITH_JACOBIAN | LIN_WITH_VJP | LIN_WITH_JVP, &own));
        CHECK(dss_model_set_max_batch(own, 16));
        model = own;
        g = lin_score;
        g_user = &lm->m;
        support_rng_seed(&r, (uint64_t)tk->id);
        support_fill_uniform(&r, z0, tk->n, -0.5, 0.5);
    }

    CHECK(dss_search_create(&search, model));
    CHECK(dss_search_set(search, DSS_SEARCH_SEED, 31 + tk->id));
    CHECK(dss_search_set(search, DSS_SEARCH_JACOBIAN, tk->mode));
    CHECK(dss_search_set(search, DSS_SEARCH_JACOBIAN_ROWS, (double)(tk->m / 2)));
    CHECK(dss_search_set(search, DSS_SEARCH_RANK, 6));
    CHECK(dss_search_set(search, DSS_SEARCH_OVERSAMPLE, 2));
    CHECK(dss_line_create(&line));
    CHECK(dss_line_set(line, DSS_LINE_SAMPLES, 33));
    CHECK(dss_line_set(line, DSS_LINE_BATCH, 8));
    CHECK(dss_search_start(search, z0));

    for (int it = 0; it < ITERATIONS; it++) {
        CHECK(dss_line_set(line, DSS_LINE_REFINE, it % 3 == 2));
        CHECK(dss_search_find_optimal(line, search, g, g_user, &t, &score));
        evals = dss_line_evaluations(line);
        h = fnv(h, &t, sizeof t);
        h = fnv(h, &score, sizeof score);
        h = fnv(h, &evals, sizeof evals);
        CHECK(dss_search_commit(search, t));
        if (it % 4 == 1)
            CHECK(dss_search_resample(search));
        if (it % 4 == 3) {
            CHECK(dss_search_commit(search, 0.5)); /* kept */
            CHECK(dss_search_undo(search));
        }
        h = digest_session(h, search, tk->n);
    }

    /* a 2-D subspace */
    CHECK(dss_search_set(search, DSS_SEARCH_SUBSPACE_DIM, 2));
    CHECK(dss_search_resample(search));
    CHECK(dss_search_commit_w(search, w));
    h = digest_session(h, search, tk->n);

    /* save, restore into a new search (started, as a host would before loading), go on */
    CHECK(dss_search_save(search, saved, SAVE_CAP, &len));
    h = fnv(h, saved, len);
    CHECK(dss_search_create(&restored, model));
    CHECK(dss_search_start(restored, z0));
    CHECK(dss_search_load(restored, saved, len));
    CHECK(dss_search_resample(restored));
    CHECK(dss_search_commit(restored, 0.8));
    h = digest_session(h, restored, tk->n);
    CHECK(dss_search_find_optimal(line, restored, g, g_user, &t, &score));
    h = fnv(h, &t, sizeof t);
    h = fnv(h, &score, sizeof score);

done:
    tk->digest = h;
    dss_search_destroy(restored);
    dss_search_destroy(search);
    dss_line_destroy(line);
    dss_model_destroy(own);
    dss_synthetic_destroy(problem);
    if (lm != NULL) {
        if (lm->protocol_errors != 0 && tk->status == DSS_OK) {
            tk->status = -100;
            tk->failed_at = "lin_model protocol errors";
        }
        lin_destroy(lm);
    }
    free(saved);
    return NULL;
}

/* Task i: modes cycle through FULL, ROWS, FINITE_DIFF, RANDOMIZED; odd tasks are synthetic. */
static void make_tasks(task *tasks, const dss_synthetic *shared)
{
    static const int modes[] = { DSS_JACOBIAN_FULL, DSS_JACOBIAN_ROWS, DSS_JACOBIAN_FINITE_DIFF,
                                 DSS_JACOBIAN_RANDOMIZED };
    for (int i = 0; i < THREADS; i++) {
        task *tk = &tasks[i];
        memset(tk, 0, sizeof *tk);
        tk->id = i;
        tk->synthetic = shared != NULL || i % 2 == 1;
        tk->mode = modes[(i / 2 + i) % 4];
        if (tk->synthetic && tk->mode == DSS_JACOBIAN_RANDOMIZED)
            tk->mode = DSS_JACOBIAN_FINITE_DIFF; /* the synthetic model has no VJP */
        tk->shared = shared != NULL ? dss_synthetic_model(shared) : NULL;
        tk->n = tk->shared != NULL ? dss_model_latent_dim(tk->shared) : 6 + (size_t)i;
        tk->m = tk->shared != NULL ? dss_model_output_dim(tk->shared) : 24 + 2 * (size_t)i;
        tk->shared_problem = (dss_synthetic *)shared;
    }
}

static void check_task(const task *tk, const char *phase)
{
    if (tk->status != DSS_OK)
        fail_msg("%s, session %d: %s returned %d (%s)", phase, tk->id,
                 tk->failed_at ? tk->failed_at : "?", tk->status, dss_strerror(tk->status));
}

/* Sequential digests, then two rounds of all sessions at once. */
static void run_phases(const dss_synthetic *shared)
{
    task seq[THREADS], par[THREADS];
    pthread_t threads[THREADS];
    pthread_barrier_t barrier;

    make_tasks(seq, shared);
    for (int i = 0; i < THREADS; i++) {
        session(&seq[i]);
        check_task(&seq[i], "sequential");
    }
    for (int round = 0; round < 2; round++) {
        make_tasks(par, shared);
        assert_int_equal(pthread_barrier_init(&barrier, NULL, THREADS), 0);
        for (int i = 0; i < THREADS; i++) {
            par[i].barrier = &barrier;
            assert_int_equal(pthread_create(&threads[i], NULL, session, &par[i]), 0);
        }
        for (int i = 0; i < THREADS; i++)
            assert_int_equal(pthread_join(threads[i], NULL), 0);
        pthread_barrier_destroy(&barrier);
        for (int i = 0; i < THREADS; i++) {
            check_task(&par[i], "concurrent");
            if (par[i].digest != seq[i].digest)
                fail_msg("round %d, session %d: the concurrent run differs from the sequential one",
                         round, i);
        }
    }
}

static void eight_sessions_with_their_own_models_run_concurrently_as_they_run_alone(void **state)
{
    (void)state;
    run_phases(NULL);
}

static void eight_sessions_sharing_one_model_run_concurrently_as_they_run_alone(void **state)
{
    dss_synthetic *problem;
    (void)state;
    assert_int_equal(dss_synthetic_create(&problem, 10, 40, 2.0, 4242), DSS_OK);
    run_phases(problem);
    dss_synthetic_destroy(problem);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(eight_sessions_with_their_own_models_run_concurrently_as_they_run_alone),
        cmocka_unit_test(eight_sessions_sharing_one_model_run_concurrently_as_they_run_alone),
    };
    return support_leak_exit(cmocka_run_group_tests_name("threads", tests, NULL, NULL));
}
