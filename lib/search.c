/* dss_search: the subspace-search session.
 *
 * Everything a session is lives in `cur` (a struct search_state). Every mutating call works in
 * `next`, a second state with the same capacity, and publishes it by swapping buffers only once
 * nothing can fail any more: a failing call leaves `cur` untouched (the strong guarantee).
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "decompose.h"
#include "jacobian.h"
#include "model.h"
#include "prior.h"
#include "rng.h"
#include "sampler.h"
#include "search.h"

struct search_params {
    size_t l;               /* subspace dimension for the next draw */
    double radius;          /* host-set radius, or 0 for the prior's default */
    double radius_default;  /* 0.2 x mean distance of two prior draws */
    double tol;             /* centre tolerance on t */
    double seed;            /* integer in [0, 2^53] */
    int sampler;            /* DSS_SAMPLER_* */
    int prior;              /* DSS_PRIOR_* */
    double prior_scale;
    jac_config jac;         /* Jacobian strategy and its settings */
};

struct search_state {
    int started;
    rng rng;
    size_t l;               /* rows of basis */
    double *center;         /* n */
    svd_dec dec;            /* singular values and (lazily) vectors at the centre's Jacobian */
    unsigned char *avail;   /* dec.rank flags: still available to the sampler */
    double *basis;          /* l x n, orthonormal rows */
    size_t *basis_idx;      /* l singular indices (SAMPLER_NO_INDEX for random rows) */
};

struct dss_search {
    const dss_model *model;
    mem_allocator alloc;
    struct search_params p;
    struct search_state cur, next;
    jac_scratch jac;
    svd_work svd;
};

#define RADIUS_FACTOR 0.2         /* the authors' slider half-length: 0.2 x mean distance */
#define SEED_MAX 9007199254740992.0 /* 2^53: every integer up to it is a double */

/* ---- state buffers ---------------------------------------------------------------------- */

static void state_free(struct search_state *st, const mem_allocator *a)
{
    mem_free(a, st->center);
    svd_dec_free(&st->dec, a);
    mem_free(a, st->avail);
    mem_free(a, st->basis);
    mem_free(a, st->basis_idx);
    *st = (struct search_state){ 0 };
}

static int state_alloc(struct search_state *st, const mem_allocator *a, size_t n, size_t r)
{
    *st = (struct search_state){ 0 };
    st->center = mem_array(a, n, sizeof(double));
    st->avail = mem_zeros(a, r, 1);
    st->basis = mem_array(a, n * n, sizeof(double));
    st->basis_idx = mem_array(a, n, sizeof(size_t));
    if (!st->center || !st->avail || !st->basis || !st->basis_idx
        || svd_dec_alloc(&st->dec, a, n, r) != DSS_OK) {
        state_free(st, a);
        return DSS_ENOMEM;
    }
    return DSS_OK;
}

#define SWAP(type, a, b) do { type swap_tmp_ = (a); (a) = (b); (b) = swap_tmp_; } while (0)

/* ---- create / destroy ------------------------------------------------------------------- */

static size_t max_rank(const dss_model *model)
{
    return model->m < model->n ? model->m : model->n;
}

DSS_API int dss_search_create(dss_search **out, const dss_model *model)
{
    dss_search *search;

    if (out != NULL)
        *out = NULL;
    if (out == NULL || model == NULL)
        return DSS_EINVAL;
    search = mem_alloc(&model->alloc, sizeof *search);
    if (search == NULL)
        return DSS_ENOMEM;
    *search = (dss_search){ .model = model, .alloc = model->alloc };
    if (state_alloc(&search->cur, &search->alloc, model->n, max_rank(model)) != DSS_OK
        || state_alloc(&search->next, &search->alloc, model->n, max_rank(model)) != DSS_OK) {
        state_free(&search->cur, &search->alloc);
        mem_free(&model->alloc, search);
        return DSS_ENOMEM;
    }
    search->p = (struct search_params){
        .l = 1, .radius = 0.0, .tol = 0.05, .seed = 0.0, .sampler = DSS_SAMPLER_SINGULAR,
        .prior = DSS_PRIOR_GAUSSIAN, .prior_scale = 1.0,
        .jac = { .mode = DSS_JACOBIAN_AUTO, .rows = 50, .diff_scheme = DSS_DIFF_FORWARD,
                 .diff_step = 0.0, .rank = 32, .oversample = 10, .power = 1 },
    };
    search->p.radius_default = RADIUS_FACTOR * prior_mean_distance(DSS_PRIOR_GAUSSIAN, 1.0, model->n);
    rng_seed(&search->cur.rng, 0);
    *out = search;
    return DSS_OK;
}

DSS_API void dss_search_destroy(dss_search *search)
{
    mem_allocator a;
    if (search == NULL)
        return;
    a = search->alloc;
    state_free(&search->cur, &a);
    state_free(&search->next, &a);
    jac_scratch_free(&search->jac, &a);
    svd_work_free(&search->svd, &a);
    mem_free(&a, search);
}

/* ---- parameters ------------------------------------------------------------------------- */

static int is_integer_in(double v, double lo, double hi)
{
    return isfinite(v) && v == floor(v) && v >= lo && v <= hi;
}

static double radius_in_force(const dss_search *search)
{
    return search->p.radius > 0.0 ? search->p.radius : search->p.radius_default;
}

DSS_API int dss_search_set(dss_search *search, int param, double value)
{
    struct search_params *p;
    const double size_max = (double)SIZE_MAX;

    if (search == NULL)
        return DSS_EINVAL;
    p = &search->p;
    switch (param) {
    case DSS_SEARCH_SUBSPACE_DIM:
        if (!is_integer_in(value, 1, (double)search->model->n))
            return DSS_EINVAL;
        p->l = (size_t)value;
        return DSS_OK;
    case DSS_SEARCH_RADIUS:
        if (!isfinite(value) || !(value > 0.0))
            return DSS_EINVAL;
        p->radius = value;
        return DSS_OK;
    case DSS_SEARCH_CENTER_TOLERANCE:
        if (!(value >= 0.0 && value <= 0.5))
            return DSS_EINVAL;
        p->tol = value;
        return DSS_OK;
    case DSS_SEARCH_SEED:
        if (!is_integer_in(value, 0, SEED_MAX))
            return DSS_EINVAL;
        p->seed = value;
        rng_seed(&search->cur.rng, (uint64_t)value);
        return DSS_OK;
    case DSS_SEARCH_JACOBIAN:
        if (!is_integer_in(value, DSS_JACOBIAN_AUTO, DSS_JACOBIAN_RANDOMIZED))
            return DSS_EINVAL;
        p->jac.mode = (int)value;
        return DSS_OK;
    case DSS_SEARCH_JACOBIAN_ROWS:
        if (!is_integer_in(value, 1, size_max))
            return DSS_EINVAL;
        p->jac.rows = (size_t)value;
        return DSS_OK;
    case DSS_SEARCH_RANK:
        if (!is_integer_in(value, 1, size_max))
            return DSS_EINVAL;
        p->jac.rank = (size_t)value;
        return DSS_OK;
    case DSS_SEARCH_OVERSAMPLE:
        if (!is_integer_in(value, 0, size_max))
            return DSS_EINVAL;
        p->jac.oversample = (size_t)value;
        return DSS_OK;
    case DSS_SEARCH_POWER_ITERATIONS:
        if (!is_integer_in(value, 0, 16))
            return DSS_EINVAL;
        p->jac.power = (size_t)value;
        return DSS_OK;
    case DSS_SEARCH_SAMPLER:
        if (!is_integer_in(value, DSS_SAMPLER_SINGULAR, DSS_SAMPLER_TOP))
            return DSS_EINVAL;
        p->sampler = (int)value;
        return DSS_OK;
    case DSS_SEARCH_PRIOR:
        if (!is_integer_in(value, DSS_PRIOR_GAUSSIAN, DSS_PRIOR_BOX))
            return DSS_EINVAL;
        p->prior = (int)value;
        p->radius_default = RADIUS_FACTOR * prior_mean_distance(p->prior, p->prior_scale, search->model->n);
        return DSS_OK;
    case DSS_SEARCH_PRIOR_SCALE:
        if (!isfinite(value) || !(value > 0.0))
            return DSS_EINVAL;
        p->prior_scale = value;
        p->radius_default = RADIUS_FACTOR * prior_mean_distance(p->prior, value, search->model->n);
        return DSS_OK;
    case DSS_SEARCH_DIFF_SCHEME:
        if (!is_integer_in(value, DSS_DIFF_FORWARD, DSS_DIFF_CENTRAL))
            return DSS_EINVAL;
        p->jac.diff_scheme = (int)value;
        return DSS_OK;
    case DSS_SEARCH_DIFF_STEP:
        if (!isfinite(value) || value < 0.0 || value >= 1.0)
            return DSS_EINVAL;
        p->jac.diff_step = value;
        return DSS_OK;
    default:
        return DSS_EINVAL;
    }
}

DSS_API int dss_search_get(const dss_search *search, int param, double *value)
{
    const struct search_params *p;
    double v;

    if (search == NULL || value == NULL)
        return DSS_EINVAL;
    p = &search->p;
    switch (param) {
    case DSS_SEARCH_SUBSPACE_DIM:     v = (double)p->l; break;
    case DSS_SEARCH_RADIUS:           v = radius_in_force(search); break;
    case DSS_SEARCH_CENTER_TOLERANCE: v = p->tol; break;
    case DSS_SEARCH_SEED:             v = p->seed; break;
    case DSS_SEARCH_JACOBIAN:         v = p->jac.mode; break;
    case DSS_SEARCH_JACOBIAN_ROWS:    v = (double)p->jac.rows; break;
    case DSS_SEARCH_RANK:             v = (double)p->jac.rank; break;
    case DSS_SEARCH_OVERSAMPLE:       v = (double)p->jac.oversample; break;
    case DSS_SEARCH_POWER_ITERATIONS: v = (double)p->jac.power; break;
    case DSS_SEARCH_SAMPLER:          v = p->sampler; break;
    case DSS_SEARCH_PRIOR:            v = p->prior; break;
    case DSS_SEARCH_PRIOR_SCALE:      v = p->prior_scale; break;
    case DSS_SEARCH_DIFF_SCHEME:      v = p->jac.diff_scheme; break;
    case DSS_SEARCH_DIFF_STEP:        v = p->jac.diff_step; break;
    default: return DSS_EINVAL;
    }
    *value = v;
    return DSS_OK;
}

/* ---- the steps of a transaction --------------------------------------------------------- */

/* Can the next draw take l directions out of `rank` singular vectors? */
static int check_draw(const dss_search *search, size_t rank)
{
    if (search->p.sampler != DSS_SAMPLER_RANDOM && search->p.l > rank)
        return DSS_EINVAL;
    return DSS_OK;
}

/* Jacobian and SVD at next.center into next.s / next.v / next.rank, all vectors available. */
static int decompose_at_next_center(dss_search *search)
{
    struct search_state *nx = &search->next;
    int rc;

    rc = jac_decompose(search->model, &search->p.jac, nx->center, &nx->rng, &search->jac,
                       &search->svd, &search->alloc, &nx->dec);
    if (rc != DSS_OK)
        return rc;
    memset(nx->avail, 1, nx->dec.rank);
    return DSS_OK;
}

/* Draw next's subspace from the decomposition in `from` (cur's or next's); next.avail must
   hold the availability to start from. Drawn singular vectors not yet computed are computed
   now (a cache fill of `from`, invisible to the host: the same vectors whenever computed). */
static int draw_into_next(dss_search *search, svd_dec *from)
{
    struct search_state *nx = &search->next;
    const size_t n = search->model->n;
    nx->l = search->p.l;
    sampler_draw(search->p.sampler, &nx->rng, n, from->s, from->rank, nx->avail, nx->l,
                 nx->basis, nx->basis_idx);
    if (search->p.sampler == DSS_SAMPLER_RANDOM)
        return DSS_OK;
    for (size_t i = 0; i < nx->l; i++) {
        size_t k = nx->basis_idx[i];
        int rc = svd_vector(&search->svd, &search->alloc, from, k);
        if (rc != DSS_OK)
            return rc;
        memcpy(nx->basis + i * n, from->v + k * n, n * sizeof *nx->basis);
    }
    return DSS_OK;
}

/* Make next the session. With a new decomposition its buffers are swapped in too. */
static void publish(dss_search *search, int new_center, int new_decomposition)
{
    struct search_state *cur = &search->cur, *nx = &search->next;
    if (new_center)
        SWAP(double *, cur->center, nx->center);
    if (new_decomposition)
        SWAP(svd_dec, cur->dec, nx->dec);
    SWAP(unsigned char *, cur->avail, nx->avail);
    SWAP(double *, cur->basis, nx->basis);
    SWAP(size_t *, cur->basis_idx, nx->basis_idx);
    cur->l = nx->l;
    cur->rng = nx->rng;
    cur->started = 1;
}

/* Begin a transaction that keeps the decomposition: next's RNG and availability from cur. */
static void begin_from_cur(dss_search *search)
{
    search->next.rng = search->cur.rng;
    memcpy(search->next.avail, search->cur.avail, search->cur.dec.rank);
}

/* Move the centre to next.center (already written), recomputing when asked, and draw. */
static int move_and_draw(dss_search *search, int recompute)
{
    int rc;
    if ((rc = check_draw(search, recompute ? jac_rank(search->model, &search->p.jac)
                                           : search->cur.dec.rank)) != DSS_OK)
        return rc;
    if (recompute) {
        if ((rc = jac_check(search->model, &search->p.jac)) != DSS_OK)
            return rc;
        if ((rc = decompose_at_next_center(search)) != DSS_OK)
            return rc;
    }
    if ((rc = draw_into_next(search, recompute ? &search->next.dec : &search->cur.dec)) != DSS_OK)
        return rc;
    publish(search, 1, recompute);
    return DSS_OK;
}

/* ---- the session ------------------------------------------------------------------------ */

DSS_API int dss_search_start(dss_search *search, const double *z0)
{
    const dss_model *model;

    if (search == NULL || z0 == NULL)
        return DSS_EINVAL;
    model = search->model;
    if (!all_finite(z0, model->n))
        return DSS_ENONFINITE;
    rng_seed(&search->next.rng, (uint64_t)search->p.seed);
    memcpy(search->next.center, z0, model->n * sizeof *z0);
    return move_and_draw(search, 1);
}

/* c + radius * sum_i w_i b_i */
static void map_point(const dss_search *search, const double *w, size_t l, double *z)
{
    const struct search_state *cur = &search->cur;
    const size_t n = search->model->n;
    const double r = radius_in_force(search);
    for (size_t j = 0; j < n; j++)
        z[j] = cur->center[j];
    for (size_t i = 0; i < l; i++) {
        const double *b = cur->basis + i * n;
        const double a = r * w[i];
        for (size_t j = 0; j < n; j++)
            z[j] += a * b[j];
    }
}

static int valid_t(double t) { return t >= 0.0 && t <= 1.0; }

/* |t - 1/2| > tol, decided exactly: 1/2 - t may round (t < 1/4) onto tol itself, so its
   rounding error is recovered by Fast2Sum (|a| >= |b|) and breaks the tie. */
static int off_center(double t, double tol)
{
    const double a = t >= 0.5 ? t : 0.5, b = t >= 0.5 ? -0.5 : -t;
    const double d = a + b, err = b - (d - a);
    return d > tol || (d == tol && err > 0.0);
}

static int valid_w(const double *w, size_t l)
{
    for (size_t i = 0; i < l; i++)
        if (!(w[i] >= -1.0 && w[i] <= 1.0))
            return 0;
    return 1;
}

DSS_API int dss_search_point(const dss_search *search, double t, double *z)
{
    double w;
    if (search == NULL || z == NULL || !valid_t(t))
        return DSS_EINVAL;
    if (!search->cur.started)
        return DSS_ESTATE;
    w = 2.0 * t - 1.0;
    map_point(search, &w, 1, z);
    return DSS_OK;
}

DSS_API int dss_search_point_w(const dss_search *search, const double *w, double *z)
{
    if (search == NULL || w == NULL || z == NULL)
        return DSS_EINVAL;
    if (!search->cur.started)
        return DSS_ESTATE;
    if (!valid_w(w, search->cur.l))
        return DSS_EINVAL;
    map_point(search, w, search->cur.l, z);
    return DSS_OK;
}

DSS_API int dss_search_slider_ends(const dss_search *search, double *z_lo, double *z_hi)
{
    const double lo = -1.0, hi = 1.0;
    if (search == NULL || (z_lo == NULL && z_hi == NULL))
        return DSS_EINVAL;
    if (!search->cur.started)
        return DSS_ESTATE;
    if (z_lo != NULL)
        map_point(search, &lo, 1, z_lo);
    if (z_hi != NULL)
        map_point(search, &hi, 1, z_hi);
    return DSS_OK;
}

DSS_API int dss_search_commit(dss_search *search, double t)
{
    double w;
    if (search == NULL || !valid_t(t))
        return DSS_EINVAL;
    if (!search->cur.started)
        return DSS_ESTATE;
    w = 2.0 * t - 1.0;
    begin_from_cur(search);
    map_point(search, &w, 1, search->next.center);
    return move_and_draw(search, off_center(t, search->p.tol));
}

DSS_API int dss_search_commit_w(dss_search *search, const double *w)
{
    double wmax = 0.0;
    if (search == NULL || w == NULL)
        return DSS_EINVAL;
    if (!search->cur.started)
        return DSS_ESTATE;
    if (!valid_w(w, search->cur.l))
        return DSS_EINVAL;
    for (size_t i = 0; i < search->cur.l; i++)
        wmax = fmax(wmax, fabs(w[i]));
    begin_from_cur(search);
    map_point(search, w, search->cur.l, search->next.center);
    return move_and_draw(search, wmax > 2.0 * search->p.tol);
}

DSS_API int dss_search_resample(dss_search *search)
{
    int rc;
    if (search == NULL)
        return DSS_EINVAL;
    if (!search->cur.started)
        return DSS_ESTATE;
    if ((rc = check_draw(search, search->cur.dec.rank)) != DSS_OK)
        return rc;
    begin_from_cur(search);
    if ((rc = draw_into_next(search, &search->cur.dec)) != DSS_OK)
        return rc;
    publish(search, 0, 0);
    return DSS_OK;
}

/* ---- read-only views -------------------------------------------------------------------- */

DSS_API int dss_search_center(const dss_search *search, double *z)
{
    if (search == NULL || z == NULL)
        return DSS_EINVAL;
    if (!search->cur.started)
        return DSS_ESTATE;
    memcpy(z, search->cur.center, search->model->n * sizeof *z);
    return DSS_OK;
}

DSS_API int dss_search_basis(const dss_search *search, double *basis)
{
    if (search == NULL || basis == NULL)
        return DSS_EINVAL;
    if (!search->cur.started)
        return DSS_ESTATE;
    memcpy(basis, search->cur.basis, search->cur.l * search->model->n * sizeof *basis);
    return DSS_OK;
}

DSS_API size_t dss_search_subspace_dim(const dss_search *search)
{
    return search != NULL && search->cur.started ? search->cur.l : 0;
}

DSS_API int dss_search_basis_indices(const dss_search *search, size_t *idx)
{
    if (search == NULL || idx == NULL)
        return DSS_EINVAL;
    if (!search->cur.started)
        return DSS_ESTATE;
    memcpy(idx, search->cur.basis_idx, search->cur.l * sizeof *idx);
    return DSS_OK;
}

DSS_API size_t dss_search_rank(const dss_search *search)
{
    return search != NULL && search->cur.started ? search->cur.dec.rank : 0;
}

DSS_API int dss_search_singular_values(const dss_search *search, double *s, size_t cap)
{
    size_t count;
    if (search == NULL || (s == NULL && cap > 0))
        return DSS_EINVAL;
    if (!search->cur.started)
        return DSS_ESTATE;
    count = cap < search->cur.dec.rank ? cap : search->cur.dec.rank;
    if (count > 0)
        memcpy(s, search->cur.dec.s, count * sizeof *s);
    return DSS_OK;
}

/* ---- for dss_search_find_optimal -------------------------------------------------------- */

const dss_model *search_model(const dss_search *search) { return search->model; }
