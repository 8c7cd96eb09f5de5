/*
 * What a hostile or careless host does to a running call (issue 17's findings), each checked
 * against the documented outcome:
 * - a callback that removes the model's own callbacks (dss_model_set_jacobian(model, NULL),
 *   set_vjp) while a search on that model runs: the running call keeps the callbacks it started
 *   with (it crashed on a NULL Jacobian), the next call sees the change;
 * - an allocator that calls back into the session whose call is allocating (a commit that
 *   grows the basis, a load): DSS_EBUSY, and the outer call ends as a twin's without re-entry
 *   (the session was marked busy only after its first allocation, and load never);
 * - reads of the session from inside a callback of its running call, one failing: the running
 *   call's message still names it (the read took over the message's function name);
 * - a valid radius at either end of its range under a policy that scales it: it stays finite
 *   and positive (ADAPTIVE made 1e308 infinite, ZOOM made 5e-324 zero);
 * - a session of subnormal singular values on the Gram route loads its own save (the check of
 *   the kept tridiagonal form asked more precision than a subnormal s holds);
 * - a policy switched from ADAPTIVE to FIXED: the scale in force and the one saved are 1 (the
 *   stale ADAPTIVE scale was saved and came back with the next switch);
 * - prior scales near DBL_MAX: the default radius is computed without overflowing an
 *   intermediate (2 R), and a valid string loads whatever the loading session's prior scale;
 * - a failed load: later undos cost what they cost without it (the load emptied the spare
 *   decomposition slot before it validated the string, and three undos then made an extra
 *   Jacobian call);
 * - the test build's invariant checker (DSS_CHECK_INVARIANTS) notices a session whose slot id
 *   was written behind session.c's back, as history.c and search.c used to;
 * - byte bounds of huge shapes (dss_search_estimate_bytes): SIZE_MAX, never a wrapped number.
 *   A session whose bound overflows size_t cannot be created on a 64-bit machine without
 *   holding gigabytes (create holds O(n)), so the terms the estimate adds with saturation
 *   are checked one by one;
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <dss/dss.h>

#include "decompose.h"
#include "jacobian.h"
#include "mem.h"
#include "model.h"
#include "search.h"
#include "support.h"

#define M 6
#define N 4

/* ---- a Jacobian callback that removes itself ---------------------------------------------- */

typedef struct remover {
    lin_model *lm;
    dss_model *model;
    int removals;       /* times the callback removed the model's derivatives */
} remover;

static int remover_f(void *user, size_t k, const double *z, double *x)
{
    return lin_f(((remover *)user)->lm, k, z, x);
}

static int removing_jacobian(void *user, const double *z, size_t nrows, const size_t *rows,
                             double *out)
{
    remover *r = user;
    if (dss_model_set_jacobian(r->model, NULL) == DSS_OK
        && dss_model_set_vjp(r->model, NULL) == DSS_OK)
        r->removals++;
    return lin_jacobian(r->lm, z, nrows, rows, out);
}

static void removing_callbacks_from_a_callback_changes_the_next_call(void **state)
{
    remover r = { 0 };
    dss_search *s;
    double z0[N] = { 0.1, -0.2, 0.3, 0.05 }, sv[N];
    (void)state;
    r.lm = lin_create(M, N, NULL, 5);
    assert_non_null(r.lm);
    assert_int_equal(dss_model_create(&r.model, N, M, remover_f, &r), DSS_OK);
    assert_int_equal(dss_model_set_jacobian(r.model, removing_jacobian), DSS_OK);
    assert_int_equal(dss_model_set_vjp(r.model, lin_vjp), DSS_OK);
    assert_int_equal(dss_search_create(&s, r.model), DSS_OK);
    /* three Jacobian requests of 2 rows per decomposition: the 2nd and 3rd come after the first
       removed the callback */
    assert_int_equal(dss_search_set(s, DSS_SEARCH_JACOBIAN_CHUNK, 2), DSS_OK);
    assert_int_equal(dss_search_start(s, z0), DSS_OK);
    assert_int_equal(r.lm->jac_calls, 3);
    assert_true(r.removals >= 1);
    /* the decomposition is the exact one: s = 4, 3, 2, 1 (lin_create's default) */
    assert_int_equal(dss_search_singular_values(s, sv, N), DSS_OK);
    for (int i = 0; i < N; i++)
        assert_true(fabs(sv[i] - (double)(N - i)) <= 1e-12 * N);
    /* the next recomputing commit sees a model without derivatives: AUTO falls back to finite
       differences, and the removed callback is never called again */
    assert_int_equal(dss_search_commit(s, 0.9), DSS_OK);
    assert_int_equal(dss_search_jacobian_route(s), DSS_JACOBIAN_FINITE_DIFF);
    assert_int_equal(r.lm->jac_calls, 3);
    /* and FULL says what is missing, changing nothing */
    assert_int_equal(dss_search_set(s, DSS_SEARCH_JACOBIAN, DSS_JACOBIAN_FULL), DSS_OK);
    assert_int_equal(dss_search_commit(s, 0.9), DSS_EUNSUPPORTED);
    dss_search_destroy(s);
    dss_model_destroy(r.model);
    lin_destroy(r.lm);
}

/* ---- an allocator that re-enters ----------------------------------------------------------- */

typedef struct reentrant {
    dss_search *target;     /* the session to call back into, or NULL */
    int calls, busy;        /* re-entries made, and how many were refused with DSS_EBUSY */
} reentrant;

static void *reentrant_alloc(void *user, size_t size)
{
    reentrant *r = user;
    if (r->target != NULL) {
        dss_search *s = r->target;
        r->target = NULL;   /* one re-entry per arming: the nested call allocates too */
        r->calls++;
        r->busy += dss_search_commit(s, 0.9) == DSS_EBUSY;
        r->target = s;
    }
    return malloc(size);
}

static void reentrant_free(void *user, void *ptr)
{
    (void)user;
    free(ptr);
}

static void an_allocator_cannot_reenter_a_running_call(void **state)
{
    reentrant r = { 0 };
    const dss_allocator a = { reentrant_alloc, reentrant_free, &r };
    lin_model *lm = lin_create(M, N, NULL, 7);
    dss_model *model, *plain;
    dss_search *s, *twin;
    support_snapshot want, got;
    double z0[N] = { 0.3, 0.1, -0.4, 0.2 };
    unsigned char buf[4096];
    size_t len;
    (void)state;
    assert_non_null(lm);
    assert_int_equal(dss_model_create_with_allocator(&model, N, M, lin_f, lm, &a), DSS_OK);
    assert_int_equal(dss_model_set_jacobian(model, lin_jacobian), DSS_OK);
    assert_int_equal(lin_dss_model(lm, LIN_WITH_JACOBIAN, &plain), DSS_OK);
    assert_int_equal(dss_search_create(&s, model), DSS_OK);
    assert_int_equal(dss_search_create(&twin, plain), DSS_OK);
    assert_int_equal(dss_search_start(s, z0), DSS_OK);
    assert_int_equal(dss_search_start(twin, z0), DSS_OK);
    /* a commit that grows the basis to l = 2 allocates before it computes */
    assert_int_equal(dss_search_set(s, DSS_SEARCH_SUBSPACE_DIM, 2), DSS_OK);
    assert_int_equal(dss_search_set(twin, DSS_SEARCH_SUBSPACE_DIM, 2), DSS_OK);
    r.target = s;
    assert_int_equal(dss_search_commit(s, 0.9), DSS_OK);
    r.target = NULL;
    assert_true(r.calls >= 1);
    assert_int_equal(r.busy, r.calls);
    assert_int_equal(dss_search_commit(twin, 0.9), DSS_OK);
    assert_int_equal(support_snapshot_take(twin, N, &want), 0);
    assert_int_equal(support_snapshot_take(s, N, &got), 0);
    assert_true(support_snapshot_equal(&want, &got));
    support_snapshot_free(&got);
    /* a load into a fresh session allocates its states and decomposition */
    assert_int_equal(dss_search_save(twin, buf, sizeof buf, &len), DSS_OK);
    dss_search_destroy(s);
    assert_int_equal(dss_search_create(&s, model), DSS_OK);
    r.calls = r.busy = 0;
    r.target = s;
    assert_int_equal(dss_search_load(s, buf, len), DSS_OK);
    r.target = NULL;
    assert_true(r.calls >= 1);
    assert_int_equal(r.busy, r.calls);
    assert_int_equal(support_snapshot_take(s, N, &got), 0);
    assert_true(support_snapshot_equal(&want, &got));
    support_snapshot_free(&got);
    support_snapshot_free(&want);
    dss_search_destroy(s);
    dss_search_destroy(twin);
    dss_model_destroy(model);
    dss_model_destroy(plain);
    lin_destroy(lm);
}

/* ---- reads from inside a callback ------------------------------------------------------- */

typedef struct reader {
    lin_model *lm;
    dss_search *search;
    int reads_ok;       /* reads that returned what dss.h says */
} reader;

static int reader_f(void *user, size_t k, const double *z, double *x)
{
    return lin_f(((reader *)user)->lm, k, z, x);
}

static int reader_jacobian(void *user, const double *z, size_t nrows, const size_t *rows,
                           double *out)
{
    return lin_jacobian(((reader *)user)->lm, z, nrows, rows, out);
}

/* Reads the session (one read fails), then fails itself. */
static int reading_failing_jacobian(void *user, const double *z, size_t nrows,
                                    const size_t *rows, double *out)
{
    reader *r = user;
    double c[N], v;
    (void)z; (void)nrows; (void)rows; (void)out;
    r->reads_ok += dss_search_center(r->search, c) == DSS_OK;
    r->reads_ok += dss_search_get(r->search, 999, &v) == DSS_EINVAL;
    r->reads_ok += dss_search_get(r->search, DSS_SEARCH_RANK, &v) == DSS_OK;
    return 7;
}

static void reads_inside_a_callback_keep_the_running_calls_message(void **state)
{
    reader r = { 0 };
    dss_model *model;
    double z0[N] = { 0.3, 0.1, -0.4, 0.2 };
    const char *msg;
    (void)state;
    r.lm = lin_create(M, N, NULL, 9);
    assert_non_null(r.lm);
    assert_int_equal(dss_model_create(&model, N, M, reader_f, &r), DSS_OK);
    assert_int_equal(dss_model_set_jacobian(model, reader_jacobian), DSS_OK);
    assert_int_equal(dss_search_create(&r.search, model), DSS_OK);
    assert_int_equal(dss_search_start(r.search, z0), DSS_OK);
    assert_int_equal(dss_model_set_jacobian(model, reading_failing_jacobian), DSS_OK);
    assert_int_equal(dss_search_commit(r.search, 0.9), DSS_ECALLBACK);
    assert_int_equal(r.reads_ok, 3);
    msg = dss_search_errmsg(r.search);
    if (strncmp(msg, "dss_search_commit: ", 19) != 0 || strstr(msg, "returned 7") == NULL)
        fail_msg("the commit's message is \"%s\"", msg);
    /* and a failing read alone still gets its own message */
    double v;
    assert_int_equal(dss_search_get(r.search, 999, &v), DSS_EINVAL);
    assert_true(strncmp(dss_search_errmsg(r.search), "dss_search_get: ", 16) == 0);
    dss_search_destroy(r.search);
    dss_model_destroy(model);
    lin_destroy(r.lm);
}

/* ---- radii at the ends of their range ---------------------------------------------------- */

static void scaled_radii_stay_finite_and_positive(void **state)
{
    lin_model *lm = lin_create(M, N, NULL, 11);
    dss_model *model;
    dss_search *s;
    double z0[N] = { 0 }, z[N], r, w = 1.0;
    (void)state;
    assert_non_null(lm);
    assert_int_equal(lin_dss_model(lm, LIN_WITH_JACOBIAN, &model), DSS_OK);
    /* ADAPTIVE grows the scale to 2 after a commit at the slider's end */
    assert_int_equal(dss_search_create(&s, model), DSS_OK);
    assert_int_equal(dss_search_set(s, DSS_SEARCH_RADIUS_POLICY, DSS_RADIUS_ADAPTIVE), DSS_OK);
    assert_int_equal(dss_search_set(s, DSS_SEARCH_RADIUS, 1e308), DSS_OK);
    assert_int_equal(dss_search_start(s, z0), DSS_OK);
    assert_int_equal(dss_search_commit_w(s, &w), DSS_OK);
    assert_int_equal(dss_search_slider_radius(s, &r), DSS_OK);
    assert_true(r == DBL_MAX);
    assert_int_equal(dss_search_point(s, 0.5, z), DSS_OK);   /* the centre, not 0 * inf */
    dss_search_destroy(s);
    /* ZOOM halves it after centred commits */
    assert_int_equal(dss_search_create(&s, model), DSS_OK);
    assert_int_equal(dss_search_set(s, DSS_SEARCH_RADIUS_POLICY, DSS_RADIUS_ZOOM), DSS_OK);
    assert_int_equal(dss_search_set(s, DSS_SEARCH_RADIUS, DBL_TRUE_MIN), DSS_OK);
    assert_int_equal(dss_search_start(s, z0), DSS_OK);
    for (int i = 0; i < 4; i++)
        assert_int_equal(dss_search_commit(s, 0.5), DSS_OK);
    assert_int_equal(dss_search_slider_radius(s, &r), DSS_OK);
    assert_true(r == DBL_TRUE_MIN);
    dss_search_destroy(s);
    dss_model_destroy(model);
    lin_destroy(lm);
}

/* ---- subnormal spectra ---------------------------------------------------------------------- */

static void a_subnormal_gram_session_loads_its_own_save(void **state)
{
    static const double tops[] = { 1e-300, 1e-310, 1e-318, 1e-321 };
    (void)state;
    for (size_t k = 0; k < sizeof tops / sizeof tops[0]; k++) {
        double s[N] = { 4 * tops[k], 3 * tops[k], 2 * tops[k], tops[k] }, z0[N] = { 0 };
        lin_model *lm = lin_create(M, N, s, 13);
        dss_model *model;
        dss_search *a, *b;
        support_snapshot want, got;
        unsigned char buf[4096];
        size_t len;
        assert_non_null(lm);
        assert_int_equal(lin_dss_model(lm, LIN_WITH_JACOBIAN, &model), DSS_OK);
        assert_int_equal(dss_search_create(&a, model), DSS_OK);
        assert_int_equal(dss_search_create(&b, model), DSS_OK);
        assert_int_equal(dss_search_start(a, z0), DSS_OK);
        assert_int_equal(dss_search_save(a, buf, sizeof buf, &len), DSS_OK);
        if (dss_search_load(b, buf, len) != DSS_OK)
            fail_msg("s1 = %g: %s", s[0], dss_search_errmsg(b));
        assert_int_equal(support_snapshot_take(a, N, &want), 0);
        assert_int_equal(support_snapshot_take(b, N, &got), 0);
        assert_true(support_snapshot_equal(&want, &got));
        /* and the loaded one draws what the saved one draws (lazy vectors included) */
        assert_true(support_same_draws(a, b, N, 6));
        support_snapshot_free(&want);
        support_snapshot_free(&got);
        dss_search_destroy(a);
        dss_search_destroy(b);
        dss_model_destroy(model);
        lin_destroy(lm);
    }
}

/* ---- policy switches ----------------------------------------------------------------------- */

/* The state block's scale: the last 36 bytes of a version-2 string are the 32-byte state and
   the CRC (docs/format.md); the scale is the state's first 8 bytes, little-endian. */
static double saved_scale(const unsigned char *buf, size_t len)
{
    uint64_t bits = 0;
    double v;
    for (int i = 7; i >= 0; i--)
        bits = (bits << 8) | buf[len - 36 + (size_t)i];
    memcpy(&v, &bits, sizeof v);
    return v;
}

static void a_policy_switch_starts_the_scale_at_one(void **state)
{
    lin_model *lm = lin_create(M, N, NULL, 17);
    dss_model *model;
    dss_search *s, *t;
    double z0[N] = { 0 }, w = 1.0, base, r;
    unsigned char buf[4096];
    size_t len;
    (void)state;
    assert_non_null(lm);
    assert_int_equal(lin_dss_model(lm, LIN_WITH_JACOBIAN, &model), DSS_OK);
    assert_int_equal(dss_search_create(&s, model), DSS_OK);
    assert_int_equal(dss_search_create(&t, model), DSS_OK);
    assert_int_equal(dss_search_set(s, DSS_SEARCH_RADIUS_POLICY, DSS_RADIUS_ADAPTIVE), DSS_OK);
    assert_int_equal(dss_search_start(s, z0), DSS_OK);
    assert_int_equal(dss_search_get(s, DSS_SEARCH_RADIUS, &base), DSS_OK);
    assert_int_equal(dss_search_commit_w(s, &w), DSS_OK);       /* at the end: scale 2 */
    assert_int_equal(dss_search_slider_radius(s, &r), DSS_OK);
    assert_true(r == 2.0 * base);
    assert_int_equal(dss_search_set(s, DSS_SEARCH_RADIUS_POLICY, DSS_RADIUS_FIXED), DSS_OK);
    assert_int_equal(dss_search_slider_radius(s, &r), DSS_OK);
    assert_true(r == base);
    assert_int_equal(dss_search_save(s, buf, sizeof buf, &len), DSS_OK);
    assert_true(saved_scale(buf, len) == 1.0);
    /* back to ADAPTIVE: from scale 1, here and in a session loaded from the FIXED string */
    assert_int_equal(dss_search_load(t, buf, len), DSS_OK);
    assert_int_equal(dss_search_set(s, DSS_SEARCH_RADIUS_POLICY, DSS_RADIUS_ADAPTIVE), DSS_OK);
    assert_int_equal(dss_search_set(t, DSS_SEARCH_RADIUS_POLICY, DSS_RADIUS_ADAPTIVE), DSS_OK);
    assert_int_equal(dss_search_slider_radius(s, &r), DSS_OK);
    assert_true(r == base);
    assert_int_equal(dss_search_slider_radius(t, &r), DSS_OK);
    assert_true(r == base);
    dss_search_destroy(s);
    dss_search_destroy(t);
    dss_model_destroy(model);
    lin_destroy(lm);
}

/* ---- prior scales near DBL_MAX ------------------------------------------------------------ */

/* At n = 64 the default radius is 0.2 E|X - Y| = 2.25 sigma (Gaussian) and 1.30 R (box), so a
   scale of 1e308 gives an infinite Gaussian radius (refused) but a finite box one (accepted;
   2 R and E|X - Y| overflowed on the way, and it was refused). */
static void huge_prior_scales_keep_finite_radii_and_load(void **state)
{
    enum { HN = 64 };
    lin_model *lm = lin_create(HN, HN, NULL, 19);
    dss_model *model;
    dss_search *a, *b;
    double z0[HN] = { 0 }, r1, rbig, v, scale = 1e308;
    unsigned char *buf;
    size_t len;
    (void)state;
    assert_non_null(lm);
    assert_int_equal(lin_dss_model(lm, LIN_WITH_JACOBIAN, &model), DSS_OK);
    assert_int_equal(dss_search_create(&a, model), DSS_OK);
    assert_int_equal(dss_search_create(&b, model), DSS_OK);
    /* the box's radius is linear in R: R = 1e308 gives 1e308 times R = 1's */
    assert_int_equal(dss_search_set(b, DSS_SEARCH_PRIOR, DSS_PRIOR_BOX), DSS_OK);
    assert_int_equal(dss_search_get(b, DSS_SEARCH_RADIUS, &r1), DSS_OK);
    /* 0.2 E|X - Y| <= 0.2 sqrt(E|X - Y|^2) = 0.2 sqrt(64 * 2/3) (Jensen), and within 1 % of
       it, |X - Y|^2 being a sum of 64 independent terms */
    assert_true(r1 <= 0.2 * sqrt(HN * 2.0 / 3.0) && r1 >= 0.99 * 0.2 * sqrt(HN * 2.0 / 3.0));
    assert_int_equal(dss_search_set(b, DSS_SEARCH_PRIOR_SCALE, scale), DSS_OK);
    assert_int_equal(dss_search_get(b, DSS_SEARCH_RADIUS, &rbig), DSS_OK);
    assert_true(isfinite(rbig));
    assert_true(fabs(rbig - scale * r1) <= 1e-12 * rbig);
    /* the Gaussian's is not finite: refused, the session unchanged */
    assert_int_equal(dss_search_set(a, DSS_SEARCH_PRIOR_SCALE, scale), DSS_EINVAL);
    assert_int_equal(dss_search_get(a, DSS_SEARCH_PRIOR_SCALE, &v), DSS_OK);
    assert_true(v == 1.0);
    /* a's string (Gaussian, scale 1) loads into b, whose scale would give a Gaussian prior an
       infinite radius: the string's own prior and scale are what count */
    assert_int_equal(dss_search_start(a, z0), DSS_OK);
    assert_int_equal(dss_search_save(a, NULL, 0, &len), DSS_OK);
    buf = malloc(len);
    assert_non_null(buf);
    assert_int_equal(dss_search_save(a, buf, len, &len), DSS_OK);
    if (dss_search_load(b, buf, len) != DSS_OK)
        fail_msg("%s", dss_search_errmsg(b));
    assert_int_equal(dss_search_get(b, DSS_SEARCH_PRIOR, &v), DSS_OK);
    assert_true(v == DSS_PRIOR_GAUSSIAN);
    assert_int_equal(dss_search_get(b, DSS_SEARCH_PRIOR_SCALE, &v), DSS_OK);
    assert_true(v == 1.0);
    free(buf);
    dss_search_destroy(a);
    dss_search_destroy(b);
    dss_model_destroy(model);
    lin_destroy(lm);
}

/* ---- byte bounds that saturate -------------------------------------------------------------- */

static void byte_bounds_saturate_instead_of_wrapping(void **state)
{
    const size_t big = SIZE_MAX / 4 + 1;   /* 2^62 (2^30 on i386): big * big wraps to 0 */
    dss_model model = { 0 };
    jac_config cfg = { .mode = DSS_JACOBIAN_FULL, .rows = 50, .rank = 32, .oversample = 10,
                       .power = 1 };
    (void)state;
    assert_true(dssi_sat_add(SIZE_MAX - 1, 2) == SIZE_MAX);
    assert_true(dssi_sat_add(3, 4) == 7);
    assert_true(dssi_sat_mul(big, 4) == SIZE_MAX);
    assert_true(dssi_sat_mul(big, 2) == big * 2);
    assert_true(dssi_sat_mul(0, SIZE_MAX) == 0);
    /* a Gram-route decomposition of latent dimension 2^62: n^2 doubles */
    assert_true(dssi_svd_dec_bytes(big, big, 1) == SIZE_MAX);
    assert_true(dssi_svd_dec_bytes(big, 1, 0) == SIZE_MAX);        /* one vector of n doubles */
    /* the route's block, rows x n doubles, and the randomized sketch */
    model.n = big;
    model.m = big;
    model.jacobian = lin_jacobian;
    assert_true(dssi_jac_scratch_bytes(&model, &cfg) == SIZE_MAX);
    cfg.mode = DSS_JACOBIAN_RANDOMIZED;
    model.vjp = lin_vjp;
    assert_true(dssi_jac_scratch_bytes(&model, &cfg) == SIZE_MAX);
    assert_true(dssi_jac_dec_bytes(&model, &cfg) == SIZE_MAX);
}

/* ---- a failed load ---------------------------------------------------------------------- */

static double stat(const dss_search *s, int key)
{
    double v = -1.0;
    assert_int_equal(dss_search_stat(s, key, &v), DSS_OK);
    return v;
}

/* The string of s with one field spoiled and the CRC made right again: a basis index out of
   range (the first index follows the header, the parameter block, the RNG, the centre and the
   basis: 48 + 256 + 32 + 8n + 8ln bytes, docs/format.md). */
static unsigned char *spoiled_string(dss_search *s, size_t *len)
{
    unsigned char *buf;
    size_t at = 48 + 256 + 32 + 8 * N + 8 * N, len0;
    uint32_t crc;
    assert_int_equal(dss_search_save(s, NULL, 0, &len0), DSS_OK);
    buf = malloc(len0);
    assert_non_null(buf);
    assert_int_equal(dss_search_save(s, buf, len0, len), DSS_OK);
    buf[at] = 200; /* index 200 >= rank 4 */
    crc = support_crc32(buf, *len - 4);
    for (int i = 0; i < 4; i++)
        buf[*len - 4 + (size_t)i] = (unsigned char)(crc >> (8 * i));
    return buf;
}

static void a_failed_load_leaves_later_undos_as_they_were(void **state)
{
    lin_model *lm = lin_create(M, N, NULL, 23);
    dss_model *model;
    dss_search *s, *twin;
    double z0[N] = { 0.1, 0.2, -0.1, 0.3 };
    unsigned char *bad;
    size_t len;
    (void)state;
    assert_non_null(lm);
    assert_int_equal(lin_dss_model(lm, LIN_WITH_JACOBIAN, &model), DSS_OK);
    assert_int_equal(dss_search_create(&s, model), DSS_OK);
    assert_int_equal(dss_search_create(&twin, model), DSS_OK);
    assert_int_equal(dss_search_start(s, z0), DSS_OK);
    assert_int_equal(dss_search_start(twin, z0), DSS_OK);
    for (int i = 0; i < 3; i++) { /* three recomputing steps: every slot holds one */
        assert_int_equal(dss_search_commit(s, 0.9), DSS_OK);
        assert_int_equal(dss_search_commit(twin, 0.9), DSS_OK);
    }
    bad = spoiled_string(s, &len);
    assert_int_equal(dss_search_load(s, bad, len), DSS_EFORMAT);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(dss_search_undo(s), DSS_OK);
        assert_int_equal(dss_search_undo(twin), DSS_OK);
        assert_true(stat(s, DSS_STAT_JACOBIAN_CALLS) == stat(twin, DSS_STAT_JACOBIAN_CALLS));
        assert_true(stat(s, DSS_STAT_UNDO_RECOMPUTES) == stat(twin, DSS_STAT_UNDO_RECOMPUTES));
    }
    free(bad);
    dss_search_destroy(s);
    dss_search_destroy(twin);
    dss_model_destroy(model);
    lin_destroy(lm);
}

/* ---- the invariant checker ---------------------------------------------------------------- */

static void the_invariant_checker_notices_a_foreign_write(void **state)
{
    lin_model *lm = lin_create(M, N, NULL, 29);
    dss_model *model;
    dss_search *s;
    double z0[N] = { 0 };
    (void)state;
    assert_non_null(lm);
    assert_int_equal(lin_dss_model(lm, LIN_WITH_JACOBIAN, &model), DSS_OK);
    assert_int_equal(dss_search_create(&s, model), DSS_OK);
    assert_int_equal(dss_search_start(s, z0), DSS_OK);
    assert_int_equal(dss_search_commit(s, 0.9), DSS_OK);
    assert_true(dssi_session_violations() == 0);
    s->slot[s->cur_slot].id += 1000;                      /* what no file but session.c may do */
    assert_int_equal(dss_search_set(s, DSS_SEARCH_SEED, 3), DSS_OK);
    assert_true(dssi_session_violations() == 1);          /* counted once, and the count reset */
    s->slot[s->cur_slot].id -= 1000;
    assert_int_equal(dss_search_commit(s, 0.9), DSS_OK);
    assert_true(dssi_session_violations() == 0);
    dss_search_destroy(s);
    dss_model_destroy(model);
    lin_destroy(lm);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(removing_callbacks_from_a_callback_changes_the_next_call),
        cmocka_unit_test(an_allocator_cannot_reenter_a_running_call),
        cmocka_unit_test(reads_inside_a_callback_keep_the_running_calls_message),
        cmocka_unit_test(scaled_radii_stay_finite_and_positive),
        cmocka_unit_test(a_subnormal_gram_session_loads_its_own_save),
        cmocka_unit_test(a_policy_switch_starts_the_scale_at_one),
        cmocka_unit_test(huge_prior_scales_keep_finite_radii_and_load),
        cmocka_unit_test(a_failed_load_leaves_later_undos_as_they_were),
        cmocka_unit_test(byte_bounds_saturate_instead_of_wrapping),
        cmocka_unit_test(the_invariant_checker_notices_a_foreign_write),
    };
    return support_leak_exit(cmocka_run_group_tests(tests, NULL, NULL));
}
