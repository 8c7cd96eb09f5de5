/* dss_search: the subspace-search session's API: parameters, the steps (start, commit,
 * commit_w, resample), the read-only views, progress and statistics.
 *
 * Everything a session is lives in `cur` (a struct search_state) and the decomposition slot it
 * names, owned by the transaction module (session.c): every mutating call works in `next`, a
 * copy, and in a scratch decomposition slot, and ends in dssi_session_publish, which cannot fail: a
 * failing call leaves the session untouched (the strong guarantee). Undo (history.c) and load
 * (persist.c) end in the same publish step.
 */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "model.h"
#include "params.h"
#include "prior.h"
#include "sampler.h"
#include "search.h"


void dssi_search_ctx(call_ctx *cx, const dss_search *search, call_stats *stats)
{
    dssi_call_ctx_init(cx, search->model);
    cx->stats = stats;
    cx->progress = search->progress;
    cx->progress_user = search->progress_user;
    cx->err = SEARCH_ERR(search);
    cx->job = search->job;
}

const dss_model *dssi_search_model(const dss_search *search) { return search->model; }

/* ---- create / destroy ------------------------------------------------------------------- */

static void search_free(dss_search *search)
{
    mem_allocator a = search->alloc;
    dssi_history_free(search);
    dssi_state_free(&search->cur, &a);
    dssi_state_free(&search->next, &a);
    for (int k = 0; k < DEC_SLOTS; k++)
        dssi_svd_dec_free(&search->slot[k].dec, &a);
    dssi_jac_scratch_free(&search->jac, &a);
    dssi_svd_work_free(&search->svd, &a);
    a.meter = NULL; /* the meter lives in the struct being freed */
    dssi_mem_free(&a, search);
}

DSS_API int dss_search_create(dss_search **out, const dss_model *model)
{
    dss_search *search;
    int rc;

    if (out != NULL)
        *out = NULL;
    if (out == NULL || model == NULL)
        return DSS_EINVAL;
    search = dssi_mem_alloc(&model->alloc, sizeof *search);
    if (search == NULL)
        return DSS_ENOMEM;
    *search = (dss_search){ .model = model, .alloc = model->alloc, .cur_slot = 0, .prev_slot = 1 };
    search->alloc.meter = &search->meter;
    search->meter.held = search->meter.peak = sizeof *search;
    if ((rc = dssi_session_init(search)) != DSS_OK) {
        search_free(search);
        return rc;
    }
    *out = search;
    return DSS_OK;
}

DSS_API void dss_search_destroy(dss_search *search)
{
    if (search != NULL)
        search_free(search);
}

/* ---- parameters ------------------------------------------------------------------------- */

static int search_set_impl(dss_search *search, int param, double value)
{
    struct search_params p;
    char range[96];
    if (search == NULL)
        return DSS_EINVAL;
    p = search->cur.p;
    if (dssi_params_set(&p, search->model->n, param, value) != DSS_OK)
        return dssi_err_detail(SEARCH_ERR(search), DSS_EINVAL, "%s = %.17g is out of range (%s)",
                          dssi_err_search_param_name(param), value,
                          dssi_params_range(param, range, sizeof range));
    dssi_session_set_params(search, &p, param);
    return DSS_OK;
}

DSS_API int dss_search_set(dss_search *search, int param, double value)
{
    if (search == NULL)
        return DSS_EINVAL;
    return ERR_CALL(SEARCH_ERR(search), SEARCH_MUTATION(search, search_set_impl(search, param, value)));
}

double dssi_search_base_radius(const dss_search *search)
{
    const struct search_params *p = &search->cur.p;
    return p->radius > 0.0 ? p->radius : p->radius_default;
}

/* The slider's half-length: the base radius times the policy's scale (exactly the base radius
   under DSS_RADIUS_FIXED, whose scale is 1: the paper's method bit for bit). */
double dssi_search_radius(const dss_search *search)
{
    const double base = dssi_search_base_radius(search);
    const double r = base * dssi_radius_scale(&search->cur.p.range, &search->cur.range);
    /* the policy's scale never takes a valid radius out of (0, DBL_MAX]: near either end it
       stays at the end (ADAPTIVE made 1e308 infinite, ZOOM made 5e-324 zero) */
    if (r > DBL_MAX)
        return DBL_MAX;
    return r > 0.0 || !(base > 0.0) ? r : DBL_TRUE_MIN;
}

static int search_slider_radius_impl(const dss_search *search, double *radius)
{
    if (search == NULL)
        return DSS_EINVAL;
    if (radius == NULL)
        return dssi_err_detail(SEARCH_ERR(search), DSS_EINVAL, "argument radius is NULL");
    *radius = dssi_search_radius(search);
    return DSS_OK;
}

DSS_API int dss_search_slider_radius(const dss_search *search, double *radius)
{
    if (search == NULL)
        return DSS_EINVAL;
    return ERR_CALL(SEARCH_ERR(search), search_slider_radius_impl(search, radius));
}

static int search_get_impl(const dss_search *search, int param, double *value)
{
    const param_desc *d = dssi_param_search(param);
    if (search == NULL)
        return DSS_EINVAL;
    if (value == NULL)
        return dssi_err_detail(SEARCH_ERR(search), DSS_EINVAL, "argument value is NULL");
    if (d == NULL)
        return dssi_err_detail(SEARCH_ERR(search), DSS_EINVAL, "no parameter %d", param);
    *value = dssi_params_read(d, &search->cur.p);
    return DSS_OK;
}

DSS_API int dss_search_get(const dss_search *search, int param, double *value)
{
    if (search == NULL)
        return DSS_EINVAL;
    return ERR_CALL(SEARCH_ERR(search), search_get_impl(search, param, value));
}

/* Bytes of one state whose basis holds l rows (dssi_state_alloc). */
static size_t state_bytes(size_t n, size_t r, size_t l)
{
    const size_t doubles = dssi_sat_add(dssi_sat_add(dssi_sat_mul(2, n), dssi_sat_mul(l, n)), r);
    return dssi_sat_add(dssi_sat_add(dssi_sat_mul(doubles, sizeof(double)),
                                     dssi_sat_mul(l, sizeof(size_t))), r);
}

/*
 * The bound documented with dss_search_estimate_bytes, term by term as the session allocates:
 * the handle; cur, next, the ring's spare and `history` ring entries (each a state with l basis
 * rows); the ring's array twice (a resize holds the old and the new one); DEC_SLOTS
 * decompositions of the route and a load's own; the route's scratch buffers and LAPACK workspace. Each term is
 * the most its allocation reaches, so their sum bounds every moment's total.
 */
static int search_estimate_bytes_impl(const dss_search *search, size_t *bytes)
{
    const struct search_params *p;
    size_t n, r, l, total;
    if (search == NULL)
        return DSS_EINVAL;
    if (bytes == NULL)
        return dssi_err_detail(SEARCH_ERR(search), DSS_EINVAL, "argument bytes is NULL");
    p = &search->cur.p;
    n = search->model->n;
    r = dssi_search_max_rank(search);
    l = p->l > search->cur.l ? p->l : search->cur.l;
    /* saturating: a bound beyond size_t is SIZE_MAX, not a wrapped small number */
    total = dssi_sat_add(sizeof *search, dssi_sat_mul(p->history + 3, state_bytes(n, r, l)));
    total = dssi_sat_add(total, 2 * p->history * sizeof(struct search_state));
    /* the slots, and the one a load decodes into before it replaces the scratch slot's */
    total = dssi_sat_add(total, dssi_sat_mul(DEC_SLOTS + 1,
                                             dssi_jac_dec_bytes(search->model, &p->jac)));
    total = dssi_sat_add(total, dssi_jac_scratch_bytes(search->model, &p->jac));
    *bytes = total;
    return DSS_OK;
}

DSS_API int dss_search_estimate_bytes(const dss_search *search, size_t *bytes)
{
    if (search == NULL)
        return DSS_EINVAL;
    return ERR_CALL(SEARCH_ERR(search), search_estimate_bytes_impl(search, bytes));
}

static int search_set_progress_impl(dss_search *search, dss_progress_fn fn, void *user)
{
    if (search == NULL)
        return DSS_EINVAL;
    search->progress = fn;
    search->progress_user = user;
    return DSS_OK;
}

DSS_API int dss_search_set_progress(dss_search *search, dss_progress_fn fn, void *user)
{
    if (search == NULL)
        return DSS_EINVAL;
    return ERR_CALL(SEARCH_ERR(search), SEARCH_MUTATION(search, search_set_progress_impl(search, fn, user)));
}

static int search_stat_impl(const dss_search *search, int key, double *value)
{
    if (search == NULL)
        return DSS_EINVAL;
    if (value == NULL)
        return dssi_err_detail(SEARCH_ERR(search), DSS_EINVAL, "argument value is NULL");
    switch (key) {
    case DSS_STAT_POINTS:            *value = search->stats.v[STAT_POINTS]; break;
    case DSS_STAT_F_CALLS:           *value = search->stats.v[STAT_F_CALLS]; break;
    case DSS_STAT_JACOBIAN_CALLS:    *value = search->stats.v[STAT_JACOBIAN_CALLS]; break;
    case DSS_STAT_JACOBIAN_ROWS:     *value = search->stats.v[STAT_JACOBIAN_ROWS]; break;
    case DSS_STAT_VJP_CALLS:         *value = search->stats.v[STAT_VJP_CALLS]; break;
    case DSS_STAT_VJP_PRODUCTS:      *value = search->stats.v[STAT_VJP_PRODUCTS]; break;
    case DSS_STAT_JVP_CALLS:         *value = search->stats.v[STAT_JVP_CALLS]; break;
    case DSS_STAT_JVP_PRODUCTS:      *value = search->stats.v[STAT_JVP_PRODUCTS]; break;
    case DSS_STAT_DECOMPOSITIONS:    *value = search->stats.v[STAT_SVDS]; break;
    case DSS_STAT_UNDO_RECOMPUTES:   *value = search->stats.v[STAT_UNDO_RECOMPUTES]; break;
    case DSS_STAT_SECONDS_LIBRARY:   *value = search->stats.v[STAT_SECONDS_LIBRARY]; break;
    case DSS_STAT_SECONDS_CALLBACKS: *value = search->stats.v[STAT_SECONDS_CALLBACKS]; break;
    case DSS_STAT_BYTES_HELD:        *value = (double)search->meter.held; break;
    case DSS_STAT_PEAK_BYTES:        *value = (double)search->meter.peak; break;
    default: return dssi_err_detail(SEARCH_ERR(search), DSS_EINVAL, "no statistic %d", key);
    }
    return DSS_OK;
}

DSS_API int dss_search_stat(const dss_search *search, int key, double *value)
{
    if (search == NULL)
        return DSS_EINVAL;
    return ERR_CALL(SEARCH_ERR(search), search_stat_impl(search, key, value));
}

/* ---- a step: the common path of start, commit, commit_w and resample --------------------- */

/* Can a draw take l directions out of `rank` singular vectors? */
static int check_draw(dss_search *search, const struct search_state *st, size_t rank)
{
    if (st->p.sampler != DSS_SAMPLER_RANDOM && st->p.l > rank)
        return dssi_err_detail(SEARCH_ERR(search), DSS_EINVAL,
                          "DSS_SEARCH_SUBSPACE_DIM = %zu exceeds the %zu singular values this "
                          "Jacobian mode gives", st->p.l, rank);
    return DSS_OK;
}

/* Draw next's subspace from dec; next.avail holds the availability to start from. Drawn
   vectors not yet computed are computed now: a cache fill of dec, invisible to the host (the
   same vectors whenever they are computed). */
static int draw(dss_search *search, svd_dec *dec, int top)
{
    struct search_state *nx = &search->next;
    const size_t n = search->model->n;
    const int kind = top && nx->p.sampler != DSS_SAMPLER_RANDOM ? DSS_SAMPLER_TOP : nx->p.sampler;
    nx->l = nx->p.l;
    dssi_sampler_draw(kind, &nx->rng, n, dec->s, dec->rank, nx->avail, nx->l, nx->basis,
                 nx->basis_idx);
    if (nx->p.sampler == DSS_SAMPLER_RANDOM)
        return DSS_OK;
    for (size_t i = 0; i < nx->l; i++) {
        size_t k = nx->basis_idx[i];
        int rc = dssi_svd_vector(&search->svd, &search->alloc, dec, k);
        if (rc != DSS_OK)
            return rc;
        memcpy(nx->basis + i * n, dec->v + k * n, n * sizeof *nx->basis);
    }
    return DSS_OK;
}

/* Whether dec's singular values are those st records, within 1e-6 s_1 (a linear generator's
   Jacobian recomputed elsewhere: bit for bit with an exact Jacobian, to finite differences'
   accuracy otherwise). */
#define SAME_SPECTRUM_TOL 1e-6
static int same_spectrum(const svd_dec *dec, const struct search_state *st)
{
    if (!st->started || dec->rank != st->rank)
        return 0;
    for (size_t i = 0; i < st->rank; i++)
        if (!(fabs(dec->s[i] - st->dec_s[i]) <= SAME_SPECTRUM_TOL * st->dec_s[0]))
            return 0;
    return 1;
}

/* Jacobian and SVD at next.center into the scratch slot; next records how to redo it. A restart
   (dss_search_start) is a new session: every direction is available again, KEEP_SHOWN or not. */
static int decompose_next(dss_search *search, call_ctx *cx, int restart)
{
    struct search_state *nx = &search->next;
    struct dec_slot *slot = &search->slot[dssi_session_claim_scratch(search)];
    int rc;

    /* the route's buffers in this slot and in every slot still empty, so that the steps after
       the first allocate nothing (slots holding a decomposition are never touched) */
    for (int k = 0; k < DEC_SLOTS; k++)
        if (search->slot[k].id == 0
            && (rc = dssi_jac_dec_reserve(search->model, &nx->p.jac, &search->slot[k].dec,
                                     &search->alloc)) != DSS_OK)
            return rc;
    nx->dec_rng = nx->rng;
    nx->dec_cfg = nx->p.jac;
    /* the route, not AUTO: undo recomputes with it, and fails rather than take another route
       when the host has since removed a callback */
    nx->dec_cfg.mode = dssi_jac_route(search->model, nx->p.jac.mode);
    memcpy(nx->dec_center, nx->center, search->model->n * sizeof *nx->center);
    rc = dssi_jac_decompose(cx, &nx->p.jac, nx->center, &nx->rng, &search->jac, &search->svd,
                       &search->alloc, &slot->dec);
    if (rc != DSS_OK)
        return rc;
    /* every direction available again, unless DSS_SEARCH_KEEP_SHOWN and the spectrum is the
       one nx still records (the Jacobian did not change) in the same session: then those shown
       stay shown */
    if (restart || !(nx->p.keep_shown && same_spectrum(&slot->dec, nx)))
        memset(nx->avail, 1, slot->dec.rank);
    nx->rank = slot->dec.rank;
    memcpy(nx->dec_s, slot->dec.s, nx->rank * sizeof *nx->dec_s);
    return DSS_OK;
}

/* what a step does with the decomposition: keep cur's, recompute it, or (a stall escape,
   lib/radius.c) recompute it and draw its top singular directions */
enum { STEP_KEEP = 0, STEP_RECOMPUTE = 1, STEP_ESCAPE = 2 };
enum { STEP_PUSH = 0, STEP_RESTART = 1 };

/*
 * Finish a transaction prepared in next (centre, RNG, parameters): recompute the decomposition
 * or keep cur's, draw the subspace, then publish (session.c): record cur in the history (or
 * clear it on a restart), swap next in, rotate the decomposition slots, and account the work.
 */
static int step_run(dss_search *search, int recompute, int history)
{
    struct search_state *nx = &search->next;
    session_txn txn;
    call_ctx cx;
    int scratch = dssi_search_scratch_slot(search), rc;

    dssi_session_txn_begin(search, &txn);
    dssi_search_ctx(&cx, search, &txn.stats);

    if ((rc = check_draw(search, nx, recompute ? dssi_jac_rank(search->model, &nx->p.jac) : nx->rank)) != DSS_OK)
        return rc;
    if (recompute && (rc = dssi_jac_check(search->model, &nx->p.jac)) != DSS_OK)
        return dssi_err_detail(SEARCH_ERR(search), rc, "%s", dssi_jac_missing(search->model, &nx->p.jac));
    if (history == STEP_PUSH && (rc = dssi_history_reserve(search)) != DSS_OK)
        return rc;
    if (recompute && (rc = decompose_next(search, &cx, history == STEP_RESTART)) != DSS_OK)
        return rc;
    if ((rc = draw(search, recompute ? &search->slot[scratch].dec
                                     : &search->slot[search->cur_slot].dec,
                   recompute == STEP_ESCAPE)) != DSS_OK)
        return rc;

    dssi_session_publish(search, &(struct publish){
        .source = PUBLISH_NEXT, .history = history == STEP_PUSH ? PUBLISH_PUSH : PUBLISH_CLEAR,
        .slot = recompute ? scratch : -1, .txn = &txn });
    return DSS_OK;
}

int dssi_search_enter(dss_search *search)
{
    if (search->busy)
        return dssi_err_detail(SEARCH_ERR(search), DSS_EBUSY, "called from inside a callback "
                               "(or the allocator) of this session's running call");
    search->busy = 1;
    return DSS_OK;
}

int dssi_search_leave(dss_search *search, int status)
{
    search->busy = 0;
#ifdef DSS_CHECK_INVARIANTS /* the test build: session.c's invariants after every change */
    dssi_session_check(search);
#endif
    return status;
}

/* ---- the session ------------------------------------------------------------------------ */

static int search_start_impl(dss_search *search, const double *z0)
{
    int rc;
    if (search == NULL)
        return DSS_EINVAL;
    if (z0 == NULL)
        return dssi_err_detail(SEARCH_ERR(search), DSS_EINVAL, "argument z0 is NULL");
    for (size_t j = 0; j < search->model->n; j++)
        if (!isfinite(z0[j]))
            return dssi_err_detail(SEARCH_ERR(search), DSS_ENONFINITE, "z0[%zu] = %g is not finite",
                              j, z0[j]);
    if ((rc = dssi_session_begin(search)) != DSS_OK)
        return rc;
    dssi_rng_seed(&search->next.rng, (uint64_t)search->next.p.seed);
    dssi_radius_start(&search->next.range); /* the slider-range policy starts at scale 1 */
    memcpy(search->next.center, z0, search->model->n * sizeof *z0);
    return step_run(search, STEP_RECOMPUTE, STEP_RESTART);
}

DSS_API int dss_search_start(dss_search *search, const double *z0)
{
    if (search == NULL)
        return DSS_EINVAL;
    return ERR_CALL(SEARCH_ERR(search), SEARCH_MUTATION(search, search_start_impl(search, z0)));
}

/* c + radius * sum_i w_i b_i */
void dssi_map_weights(const double *center, const double *basis, double r, size_t n,
                      const double *w, size_t l, double *z)
{
    for (size_t j = 0; j < n; j++)
        z[j] = center[j];
    for (size_t i = 0; i < l; i++) {
        const double *b = basis + i * n;
        const double a = r * w[i];
        for (size_t j = 0; j < n; j++)
            z[j] += a * b[j];
    }
}

static void map_point(const dss_search *search, const double *w, size_t l, double *z)
{
    dssi_map_weights(search->cur.center, search->cur.basis, dssi_search_radius(search),
                     search->model->n, w, l, z);
}

static int valid_t(double t) { return t >= 0.0 && t <= 1.0; }

static int valid_w(const double *w, size_t l)
{
    for (size_t i = 0; i < l; i++)
        if (!(w[i] >= -1.0 && w[i] <= 1.0))
            return 0;
    return 1;
}

/* |t - 1/2| > tol, decided exactly: 1/2 - t may round (t < 1/4) onto tol itself, so its
   rounding error is recovered by Fast2Sum (|a| >= |b|) and breaks the tie. */
static int off_center(double t, double tol)
{
    const double a = t >= 0.5 ? t : 0.5, b = t >= 0.5 ? -0.5 : -t;
    const double d = a + b, err = b - (d - a);
    return d > tol || (d == tol && err > 0.0);
}

static int search_point_impl(const dss_search *search, double t, double *z)
{
    double w;
    if (search == NULL)
        return DSS_EINVAL;
    if (z == NULL)
        return dssi_err_detail(SEARCH_ERR(search), DSS_EINVAL, "argument z is NULL");
    if (!valid_t(t))
        return dssi_err_detail(SEARCH_ERR(search), DSS_EINVAL, "t = %.17g is outside [0, 1]", t);
    if (!search->cur.started)
        return dssi_err_detail(SEARCH_ERR(search), DSS_ESTATE,
                          "the session is not started (dss_search_start comes first)");
    w = 2.0 * t - 1.0;
    map_point(search, &w, 1, z);
    return dssi_all_finite(z, search->model->n) ? DSS_OK : DSS_ENONFINITE;
}

DSS_API int dss_search_point(const dss_search *search, double t, double *z)
{
    if (search == NULL)
        return DSS_EINVAL;
    return ERR_CALL(SEARCH_ERR(search), search_point_impl(search, t, z));
}

static int search_point_w_impl(const dss_search *search, const double *w, double *z)
{
    if (search == NULL)
        return DSS_EINVAL;
    if (w == NULL)
        return dssi_err_detail(SEARCH_ERR(search), DSS_EINVAL, "argument w is NULL");
    if (z == NULL)
        return dssi_err_detail(SEARCH_ERR(search), DSS_EINVAL, "argument z is NULL");
    if (!search->cur.started)
        return dssi_err_detail(SEARCH_ERR(search), DSS_ESTATE,
                          "the session is not started (dss_search_start comes first)");
    if (!valid_w(w, search->cur.l))
        return dssi_err_detail(SEARCH_ERR(search), DSS_EINVAL,
                          "a weight w_i is outside [-1, 1] (or NaN); the subspace has l = %zu",
                          search->cur.l);
    map_point(search, w, search->cur.l, z);
    return dssi_all_finite(z, search->model->n) ? DSS_OK : DSS_ENONFINITE;
}

DSS_API int dss_search_point_w(const dss_search *search, const double *w, double *z)
{
    if (search == NULL)
        return DSS_EINVAL;
    return ERR_CALL(SEARCH_ERR(search), search_point_w_impl(search, w, z));
}

static int search_slider_ends_impl(const dss_search *search, double *z_lo, double *z_hi)
{
    const double lo = -1.0, hi = 1.0;
    if (search == NULL)
        return DSS_EINVAL;
    if (z_lo == NULL && z_hi == NULL)
        return dssi_err_detail(SEARCH_ERR(search), DSS_EINVAL, "arguments z_lo and z_hi are both NULL");
    if (!search->cur.started)
        return dssi_err_detail(SEARCH_ERR(search), DSS_ESTATE,
                          "the session is not started (dss_search_start comes first)");
    if (z_lo != NULL)
        map_point(search, &lo, 1, z_lo);
    if (z_hi != NULL)
        map_point(search, &hi, 1, z_hi);
    if ((z_lo != NULL && !dssi_all_finite(z_lo, search->model->n))
        || (z_hi != NULL && !dssi_all_finite(z_hi, search->model->n)))
        return DSS_ENONFINITE;
    return DSS_OK;
}

DSS_API int dss_search_slider_ends(const dss_search *search, double *z_lo, double *z_hi)
{
    if (search == NULL)
        return DSS_EINVAL;
    return ERR_CALL(SEARCH_ERR(search), search_slider_ends_impl(search, z_lo, z_hi));
}

static int search_commit_impl(dss_search *search, double t)
{
    double w;
    int rc, moved, escape;
    if (search == NULL)
        return DSS_EINVAL;
    if (!valid_t(t))
        return dssi_err_detail(SEARCH_ERR(search), DSS_EINVAL, "t = %.17g is outside [0, 1]", t);
    if (!search->cur.started)
        return dssi_err_detail(SEARCH_ERR(search), DSS_ESTATE,
                          "the session is not started (dss_search_start comes first)");
    w = 2.0 * t - 1.0;
    if ((rc = dssi_session_begin(search)) != DSS_OK)
        return rc;
    map_point(search, &w, 1, search->next.center);
    if (!dssi_all_finite(search->next.center, search->model->n))
        return dssi_err_detail(SEARCH_ERR(search), DSS_ENONFINITE,
                          "the new centre overflows (radius %g)", dssi_search_radius(search));
    moved = off_center(t, search->cur.p.tol);
    escape = dssi_radius_after_commit(&search->next.p.range, &search->next.range,
                                 &(struct radius_commit){ .reach = fabs(w), .centred = !moved,
                                                          .t = t, .w = &w, .l = 1 });
    return step_run(search, escape ? STEP_ESCAPE : moved ? STEP_RECOMPUTE : STEP_KEEP, STEP_PUSH);
}

DSS_API int dss_search_commit(dss_search *search, double t)
{
    if (search == NULL)
        return DSS_EINVAL;
    return ERR_CALL(SEARCH_ERR(search), SEARCH_MUTATION(search, search_commit_impl(search, t)));
}

static int search_commit_w_impl(dss_search *search, const double *w)
{
    double wmax = 0.0;
    int rc, moved, escape;
    if (search == NULL)
        return DSS_EINVAL;
    if (w == NULL)
        return dssi_err_detail(SEARCH_ERR(search), DSS_EINVAL, "argument w is NULL");
    if (!search->cur.started)
        return dssi_err_detail(SEARCH_ERR(search), DSS_ESTATE,
                          "the session is not started (dss_search_start comes first)");
    if (!valid_w(w, search->cur.l))
        return dssi_err_detail(SEARCH_ERR(search), DSS_EINVAL,
                          "a weight w_i is outside [-1, 1] (or NaN); the subspace has l = %zu",
                          search->cur.l);
    for (size_t i = 0; i < search->cur.l; i++)
        wmax = fmax(wmax, fabs(w[i]));
    if ((rc = dssi_session_begin(search)) != DSS_OK)
        return rc;
    map_point(search, w, search->cur.l, search->next.center);
    if (!dssi_all_finite(search->next.center, search->model->n))
        return dssi_err_detail(SEARCH_ERR(search), DSS_ENONFINITE,
                          "the new centre overflows (radius %g)", dssi_search_radius(search));
    moved = wmax > 2.0 * search->cur.p.tol;
    escape = dssi_radius_after_commit(&search->next.p.range, &search->next.range,
                                 &(struct radius_commit){ .reach = wmax, .centred = !moved,
                                                          .t = NAN, .w = w, .l = search->cur.l });
    return step_run(search, escape ? STEP_ESCAPE : moved ? STEP_RECOMPUTE : STEP_KEEP, STEP_PUSH);
}

DSS_API int dss_search_commit_w(dss_search *search, const double *w)
{
    if (search == NULL)
        return DSS_EINVAL;
    return ERR_CALL(SEARCH_ERR(search), SEARCH_MUTATION(search, search_commit_w_impl(search, w)));
}

static int search_resample_impl(dss_search *search)
{
    int rc;
    if (search == NULL)
        return DSS_EINVAL;
    if (!search->cur.started)
        return dssi_err_detail(SEARCH_ERR(search), DSS_ESTATE,
                          "the session is not started (dss_search_start comes first)");
    if ((rc = dssi_session_begin(search)) != DSS_OK)
        return rc;
    return step_run(search, STEP_KEEP, STEP_PUSH);
}

DSS_API int dss_search_resample(dss_search *search)
{
    if (search == NULL)
        return DSS_EINVAL;
    return ERR_CALL(SEARCH_ERR(search), SEARCH_MUTATION(search, search_resample_impl(search)));
}

/* ---- read-only views -------------------------------------------------------------------- */

static int search_center_impl(const dss_search *search, double *z)
{
    if (search == NULL)
        return DSS_EINVAL;
    if (z == NULL)
        return dssi_err_detail(SEARCH_ERR(search), DSS_EINVAL, "argument z is NULL");
    if (!search->cur.started)
        return dssi_err_detail(SEARCH_ERR(search), DSS_ESTATE,
                          "the session is not started (dss_search_start comes first)");
    memcpy(z, search->cur.center, search->model->n * sizeof *z);
    return DSS_OK;
}

DSS_API int dss_search_center(const dss_search *search, double *z)
{
    if (search == NULL)
        return DSS_EINVAL;
    return ERR_CALL(SEARCH_ERR(search), search_center_impl(search, z));
}

static int search_basis_impl(const dss_search *search, double *basis)
{
    if (search == NULL)
        return DSS_EINVAL;
    if (basis == NULL)
        return dssi_err_detail(SEARCH_ERR(search), DSS_EINVAL, "argument basis is NULL");
    if (!search->cur.started)
        return dssi_err_detail(SEARCH_ERR(search), DSS_ESTATE,
                          "the session is not started (dss_search_start comes first)");
    memcpy(basis, search->cur.basis, search->cur.l * search->model->n * sizeof *basis);
    return DSS_OK;
}

DSS_API int dss_search_basis(const dss_search *search, double *basis)
{
    if (search == NULL)
        return DSS_EINVAL;
    return ERR_CALL(SEARCH_ERR(search), search_basis_impl(search, basis));
}

DSS_API size_t dss_search_subspace_dim(const dss_search *search)
{
    return search != NULL && search->cur.started ? search->cur.l : 0;
}

static int search_basis_indices_impl(const dss_search *search, size_t *idx)
{
    if (search == NULL)
        return DSS_EINVAL;
    if (idx == NULL)
        return dssi_err_detail(SEARCH_ERR(search), DSS_EINVAL, "argument idx is NULL");
    if (!search->cur.started)
        return dssi_err_detail(SEARCH_ERR(search), DSS_ESTATE,
                          "the session is not started (dss_search_start comes first)");
    memcpy(idx, search->cur.basis_idx, search->cur.l * sizeof *idx);
    return DSS_OK;
}

DSS_API int dss_search_basis_indices(const dss_search *search, size_t *idx)
{
    if (search == NULL)
        return DSS_EINVAL;
    return ERR_CALL(SEARCH_ERR(search), search_basis_indices_impl(search, idx));
}

static int search_jacobian_route_impl(const dss_search *search)
{
    if (search == NULL)
        return DSS_EINVAL;
    if (!search->cur.started)
        return dssi_err_detail(SEARCH_ERR(search), DSS_ESTATE,
                          "the session is not started (dss_search_start comes first)");
    return dssi_jac_route(search->model, search->cur.dec_cfg.mode);
}

DSS_API int dss_search_jacobian_route(const dss_search *search)
{
    if (search == NULL)
        return DSS_EINVAL;
    return ERR_CALL(SEARCH_ERR(search), search_jacobian_route_impl(search));
}

DSS_API const char *dss_search_errmsg(const dss_search *search)
{
    return search != NULL ? search->err.text : "dss_search_errmsg: search is NULL";
}

DSS_API size_t dss_search_rank(const dss_search *search)
{
    return search != NULL && search->cur.started ? search->cur.rank : 0;
}

static int search_singular_values_impl(const dss_search *search, double *s, size_t cap)
{
    size_t count;
    if (search == NULL)
        return DSS_EINVAL;
    if (s == NULL && cap > 0)
        return dssi_err_detail(SEARCH_ERR(search), DSS_EINVAL, "argument s is NULL with cap = %zu", cap);
    if (!search->cur.started)
        return dssi_err_detail(SEARCH_ERR(search), DSS_ESTATE,
                          "the session is not started (dss_search_start comes first)");
    count = cap < search->cur.rank ? cap : search->cur.rank;
    if (count > 0)
        memcpy(s, search->slot[search->cur_slot].dec.s, count * sizeof *s);
    return DSS_OK;
}

DSS_API int dss_search_singular_values(const dss_search *search, double *s, size_t cap)
{
    if (search == NULL)
        return DSS_EINVAL;
    return ERR_CALL(SEARCH_ERR(search), search_singular_values_impl(search, s, cap));
}
