/* dss_line: the simulated user's batched 1-D line search (the authors' find_optimal), with an
 * optional refinement by Brent's method: of the best grid point's bracket (DSS_LINE_REFINE = 1),
 * or of the brackets of the grid's REFINE_PEAKS best local maxima (DSS_LINE_REFINE = 2), which
 * the many-peaked scores of real sliders reward. */
#include <math.h>
#include <stdint.h>

#include "calls.h"
#include "errmsg.h"
#include "line.h"
#include "params.h"
#include "model.h"
#include "search.h"

#define REFINE_TOL   1e-7  /* Brent's absolute tolerance in t (final bracket ~ 1.3e-7 wide) */
#define REFINE_PEAKS 3     /* local maxima of the grid refined, best first */


/* One evaluation context: the segment, the model and the score. */
struct segment {
    const dss_model *model;
    const double *lo, *hi;
    const double *dir;  /* hi - lo, computed once per search (the line's buffer) */
    dss_score_fn g;
    void *user;
    call_ctx cx;
};

DSS_API int dss_line_create_with_allocator(dss_line **out, const dss_allocator *allocator)
{
    dss_line *line;
    mem_allocator a;
    if (out != NULL)
        *out = NULL;
    if (out == NULL || dssi_mem_from_host(&a, allocator) != 0)
        return DSS_EINVAL;
    line = dssi_mem_alloc(&a, sizeof *line);
    if (line == NULL)
        return DSS_ENOMEM;
    *line = (dss_line){ .alloc = a };
    {
        size_t count;
        const param_desc *rows = dssi_param_line_rows(&count);
        for (size_t i = 0; i < count; i++)
            dssi_param_store(&rows[i], line, rows[i].def);
    }
    *out = line;
    return DSS_OK;
}

DSS_API int dss_line_create(dss_line **out)
{
    return dss_line_create_with_allocator(out, NULL);
}

DSS_API void dss_line_destroy(dss_line *line)
{
    mem_allocator a;
    if (line == NULL)
        return;
    a = line->alloc;
    dssi_mem_free(&a, line->z);
    dssi_mem_free(&a, line->x);
    dssi_mem_free(&a, line->score);
    dssi_mem_free(&a, line->t);
    dssi_mem_free(&a, line->ends);
    dssi_mem_free(&a, line->dir);
    dssi_mem_free(&a, line->w);
    dssi_mem_free(&a, line->frame);
    dssi_mem_free(&a, line->grid_s);
    dssi_mem_free(&a, line);
}

static int line_set_impl(dss_line *line, int param, double value)
{
    const param_desc *d = dssi_param_line(param);
    char range[96];
    if (line == NULL)
        return DSS_EINVAL;
    if (line->busy)
        return dssi_err_detail(&line->err, DSS_EBUSY,
                          "called from inside a callback of this line search's running call");
    if (d == NULL)
        return dssi_err_detail(&line->err, DSS_EINVAL, "no parameter %d", param);
    if (!dssi_param_valid(d, value, 0))
        return dssi_err_detail(&line->err, DSS_EINVAL, "%s = %.17g is out of range (%s)", d->name,
                          value, dssi_param_range_text(d, range, sizeof range));
    dssi_param_store(d, line, value);
    return DSS_OK;
}

DSS_API int dss_line_set(dss_line *line, int param, double value)
{
    if (line == NULL)
        return DSS_EINVAL;
    return ERR_CALL((errmsg *)&line->err, line_set_impl(line, param, value));
}

static int line_get_impl(const dss_line *line, int param, double *value)
{
    const param_desc *d = dssi_param_line(param);
    if (line == NULL || value == NULL)
        return DSS_EINVAL;
    if (d == NULL)
        return dssi_err_detail((errmsg *)&line->err, DSS_EINVAL, "no parameter %d", param);
    *value = dssi_param_load(d, line);
    return DSS_OK;
}

DSS_API int dss_line_get(const dss_line *line, int param, double *value)
{
    if (line == NULL)
        return DSS_EINVAL;
    return ERR_CALL((errmsg *)&line->err, line_get_impl(line, param, value));
}

static int line_set_progress_impl(dss_line *line, dss_progress_fn fn, void *user)
{
    if (line == NULL)
        return DSS_EINVAL;
    if (line->busy)
        return dssi_err_detail(&line->err, DSS_EBUSY,
                          "called from inside a callback of this line search's running call");
    line->progress = fn;
    line->progress_user = user;
    return DSS_OK;
}

DSS_API int dss_line_set_progress(dss_line *line, dss_progress_fn fn, void *user)
{
    if (line == NULL)
        return DSS_EINVAL;
    return ERR_CALL((errmsg *)&line->err, line_set_progress_impl(line, fn, user));
}

DSS_API const char *dss_line_errmsg(const dss_line *line)
{
    return line != NULL ? line->err.text : "dss_line_errmsg: line is NULL";
}

DSS_API size_t dss_line_evaluations(const dss_line *line)
{
    return line != NULL ? line->evaluations : 0;
}

/* Is score a strictly better than b for the line's goal? */
static int better(const dss_line *line, double a, double b)
{
    return line->goal == DSS_MINIMIZE ? a < b : a > b;
}

/* Score the points z(t) for count values of t (count <= the buffers' batch): one f call, one g
   call. */
static int score_points(dss_line *line, struct segment *sg, const double *t, size_t count)
{
    const size_t n = sg->model->n, m = sg->model->m;
    int rc;
    const double *restrict lo = sg->lo, *restrict dir = sg->dir;
    for (size_t i = 0; i < count; i++) {
        /* locals and restrict: t_i stays in a register and the compiler need not assume that z
           overlaps the segment (it cannot: z is the line's own buffer) */
        double *restrict z = line->z + i * n;
        const double ti = t[i];
        for (size_t j = 0; j < n; j++)
            z[j] = lo[j] + ti * dir[j];
    }
    if ((rc = dssi_call_f(&sg->cx, count, line->z, line->x)) != DSS_OK)
        return rc;
    if (!dssi_all_finite(line->x, count * m))
        return DSS_ENONFINITE;
    if ((rc = dssi_call_g(&sg->cx, sg->g, sg->user, count, line->x, line->score)) != DSS_OK)
        return rc;
    line->evaluations += count;
    return DSS_OK;
}

/* The REFINE_PEAKS best local maxima of the grid, best first (ties: lowest index first). */
struct peaks {
    size_t count;
    size_t i[REFINE_PEAKS];
    double s[REFINE_PEAKS];
};

static void peaks_add(const dss_line *line, struct peaks *pk, size_t i, double s)
{
    size_t pos = pk->count;
    while (pos > 0 && better(line, s, pk->s[pos - 1]))
        pos--;
    if (pos >= REFINE_PEAKS)
        return;
    if (pk->count < REFINE_PEAKS)
        pk->count++;
    for (size_t k = pk->count - 1; k > pos; k--) {
        pk->i[k] = pk->i[k - 1];
        pk->s[k] = pk->s[k - 1];
    }
    pk->i[pos] = i;
    pk->s[pos] = s;
}

/* The grid t_i = i / (samples - 1) in batches; the first best index wins ties. A grid point is
   a local maximum ("peak") when strictly better than its left neighbour and at least as good as
   its right one (an end needs only its one neighbour), so a plateau counts once and the grid's
   best point is always the first peak. */
static int grid_search(dss_line *line, struct segment *sg, size_t batch, size_t *best_i,
                       double *best_score, struct peaks *pk)
{
    const double last = (double)(line->samples - 1);
    double prev = 0.0;
    int rising = 1; /* is point i-1 strictly better than point i-2 (or the first point)? */
    int rc0;
    pk->count = 0;
    /* asked before the first batch too: a Cancel already pressed costs no generator call */
    if ((rc0 = dssi_call_progress(&sg->cx, DSS_STAGE_LINE_GRID, 0, line->samples)) != DSS_OK)
        return rc0;
    for (size_t first = 0; first < line->samples; first += batch) {
        size_t count = line->samples - first < batch ? line->samples - first : batch;
        int rc;
        for (size_t i = 0; i < count; i++)
            line->t[i] = (double)(first + i) / last;
        if ((rc = score_points(line, sg, line->t, count)) != DSS_OK)
            return rc;
        for (size_t i = 0; i < count; i++) {
            const double s = line->score[i];
            if (first + i == 0 || better(line, s, *best_score)) {
                *best_i = first + i;
                *best_score = s;
            }
            if (first + i > 0) {
                if (rising && !better(line, s, prev))
                    peaks_add(line, pk, first + i - 1, prev);
                rising = better(line, s, prev);
            }
            prev = s;
        }
        if ((rc = dssi_call_progress(&sg->cx, DSS_STAGE_LINE_GRID, first + count, line->samples)) != DSS_OK)
            return rc;
    }
    if (rising)
        peaks_add(line, pk, line->samples - 1, prev);
    return DSS_OK;
}

/* Score one point t; keep it when strictly better than the best so far. */
struct probe_ctx {
    dss_line *line;
    struct segment *sg;
    double *best_t, *best_score;
};

static int probe(void *ctx, double t, double *score)
{
    struct probe_ctx *pc = ctx;
    int rc = score_points(pc->line, pc->sg, &t, 1);
    if (rc != DSS_OK)
        return rc;
    *score = pc->line->score[0];
    if (better(pc->line, *score, *pc->best_score)) {
        *pc->best_t = t;
        *pc->best_score = *score;
    }
    return DSS_OK;
}

/*
 * Brent's method (Forsythe, Malcolm and Moler's fmin: parabolic interpolation safeguarded by
 * golden-section steps) on [a, b], a grid peak's neighbours, started at the peak x0 whose score
 * f0 is known. Stops when the bracket around the best point is about 4 REFINE_TOL / 3 wide.
 * Every point goes through the caller's probe, which keeps the best, so the result is never
 * worse than the grid's. gallery.c refines each axis of a 2-D grid with it.
 */
int dssi_line_brent(int goal, double a, double b, double x0, double f0, dssi_probe_fn probe_fn,
                    void *ctx, call_ctx *cx, size_t *steps, size_t total)
{
    const double cgold = 0.3819660112501051; /* (3 - sqrt(5)) / 2 */
    const double sign = goal == DSS_MINIMIZE ? 1.0 : -1.0; /* minimise sign * score */
    double x = x0, w = x0, v = x0, fx = sign * f0, fw = fx, fv = fx, d = 0.0, e = 0.0;
    int rc;

    for (int it = 0; it < DSSI_REFINE_ITERS; it++) {
        const double xm = 0.5 * (a + b), tol1 = 1e-10 * fabs(x) + REFINE_TOL / 3.0;
        const double tol2 = 2.0 * tol1;
        double u, fu, score;
        int golden = 1;
        if (fabs(x - xm) <= tol2 - 0.5 * (b - a))
            break;
        if (fabs(e) > tol1) { /* try the parabola through x, w, v */
            double r = (x - w) * (fx - fv), q = (x - v) * (fx - fw), p = (x - v) * q - (x - w) * r;
            const double e_prev = e;
            q = 2.0 * (q - r);
            if (q > 0.0)
                p = -p;
            else
                q = -q;
            e = d;
            if (fabs(p) < fabs(0.5 * q * e_prev) && p > q * (a - x) && p < q * (b - x)) {
                d = p / q;
                u = x + d;
                if (u - a < tol2 || b - u < tol2)
                    d = xm >= x ? tol1 : -tol1;
                golden = 0;
            }
        }
        if (golden) {
            e = x >= xm ? a - x : b - x;
            d = cgold * e;
        }
        u = fabs(d) >= tol1 ? x + d : x + (d > 0.0 ? tol1 : -tol1);
        if ((rc = probe_fn(ctx, u, &score)) != DSS_OK
            || (rc = dssi_call_progress(cx, DSS_STAGE_LINE_REFINE, ++*steps, total)) != DSS_OK)
            return rc;
        fu = sign * score;
        if (fu <= fx) {
            if (u >= x)
                a = x;
            else
                b = x;
            v = w; fv = fw;
            w = x; fw = fx;
            x = u; fx = fu;
        } else {
            if (u < x)
                a = u;
            else
                b = u;
            if (fu <= fw || w == x) {
                v = w; fv = fw;
                w = u; fw = fu;
            } else if (fu <= fv || v == x || v == w) {
                v = u; fv = fu;
            }
        }
    }
    return DSS_OK;
}

static int reserve_buffers(dss_line *line, const dss_model *model, size_t batch)
{
    size_t zn, xm;
    if (dssi_mem_mul(batch, model->n, &zn) != 0 || dssi_mem_mul(batch, model->m, &xm) != 0)
        return DSS_EINVAL;
    if (MEM_GROW(&line->alloc, line, z, zn) != DSS_OK || MEM_GROW(&line->alloc, line, x, xm) != DSS_OK
        || MEM_GROW(&line->alloc, line, score, batch) != DSS_OK
        || MEM_GROW(&line->alloc, line, t, batch) != DSS_OK
        || MEM_GROW(&line->alloc, line, dir, model->n) != DSS_OK)
        return DSS_ENOMEM;
    return DSS_OK;
}

static int find_on_segment(dss_line *line, struct segment *sg, double *t_best,
                           double *score_best)
{
    const dss_model *model = sg->model;
    size_t batch = line->batch, best_i = 0;
    double best_t, best_score = 0.0;
    struct peaks pk;
    int rc;

    if (batch > model->max_batch)
        batch = model->max_batch;
    if (batch > line->samples)
        batch = line->samples;
    if (!dssi_all_finite(sg->lo, model->n) || !dssi_all_finite(sg->hi, model->n))
        return DSS_ENONFINITE;
    for (size_t j = 0; j < model->n; j++) /* hi - lo may overflow although both are finite */
        if (!isfinite(sg->hi[j] - sg->lo[j]))
            return DSS_ENONFINITE;
    if ((rc = reserve_buffers(line, model, batch)) != DSS_OK)
        return rc;
    for (size_t j = 0; j < model->n; j++)
        line->dir[j] = sg->hi[j] - sg->lo[j];
    sg->dir = line->dir;
    line->evaluations = 0;
    if ((rc = grid_search(line, sg, batch, &best_i, &best_score, &pk)) != DSS_OK)
        return rc;
    best_t = (double)best_i / (double)(line->samples - 1);
    if (line->refine == 1) { /* the contract's refinement: the best grid point's bracket */
        pk.count = 1;
        pk.i[0] = best_i;
        pk.s[0] = best_score;
    }
    if (line->refine) {
        /* each kept grid peak, between its neighbours */
        const double step = 1.0 / (double)(line->samples - 1);
        size_t steps = 0, total = pk.count * DSSI_REFINE_ITERS; /* an upper bound for progress */
        for (size_t k = 0; k < pk.count; k++) {
            const size_t i = pk.i[k];
            double a = i > 0 ? (double)(i - 1) * step : 0.0;
            double b = i + 1 < line->samples ? (double)(i + 1) * step : 1.0;
            struct probe_ctx pc = { line, sg, &best_t, &best_score };
            if ((rc = dssi_line_brent(line->goal, a, b, (double)i * step, pk.s[k], probe, &pc,
                                      &sg->cx, &steps, total)) != DSS_OK)
                return rc;
        }
    }
    *t_best = best_t;
    if (score_best != NULL)
        *score_best = best_score;
    return DSS_OK;
}

static int find_optimal_impl(dss_line *line, const dss_model *model, const double *z_lo,
                             const double *z_hi, dss_score_fn g, void *user, double *t_best,
                             double *score_best)
{
    struct segment sg = { .lo = z_lo, .hi = z_hi, .g = g, .user = user };
    size_t before;
    int rc;
    if (line == NULL || model == NULL || z_lo == NULL || z_hi == NULL || g == NULL
        || t_best == NULL)
        return DSS_EINVAL;
    if (line->busy)
        return dssi_err_detail(&line->err, DSS_EBUSY,
                          "called from inside a callback of this line search's running call");
    dssi_call_ctx_init(&sg.cx, model);
    sg.cx.progress = line->progress;
    sg.cx.progress_user = line->progress_user;
    sg.cx.err = &line->err;
    sg.cx.job = line->job;
    sg.model = sg.cx.model; /* the snapshot: the model as this call began */
    before = line->evaluations;
    line->busy = 1;
    rc = find_on_segment(line, &sg, t_best, score_best);
    line->busy = 0;
    if (rc != DSS_OK)
        line->evaluations = before;
    return rc;
}

DSS_API int dss_find_optimal(dss_line *line, const dss_model *model, const double *z_lo,
                             const double *z_hi, dss_score_fn g, void *user, double *t_best,
                             double *score_best)
{
    if (line == NULL)
        return DSS_EINVAL;
    return ERR_CALL((errmsg *)&line->err, find_optimal_impl(line, model, z_lo, z_hi, g, user, t_best, score_best));
}

static int search_find_optimal_impl(dss_line *line, const dss_search *search, dss_score_fn g,
                                    void *user, double *t_best, double *score_best)
{
    const dss_model *model;
    int rc;
    if (line == NULL || search == NULL || g == NULL || t_best == NULL)
        return DSS_EINVAL;
    if (line->busy) /* before line->ends, which the running search reads, is rewritten */
        return dssi_err_detail(&line->err, DSS_EBUSY,
                          "called from inside a callback of this line search's running call");
    model = dssi_search_model(search);
    if (MEM_GROW(&line->alloc, line, ends, 2 * model->n) != DSS_OK)
        return DSS_ENOMEM;
    rc = dss_search_slider_ends(search, line->ends, line->ends + model->n);
    if (rc != DSS_OK) /* the search's own message says why */
        return dssi_err_detail(&line->err, rc, "%s", dss_search_errmsg(search));
    return find_optimal_impl(line, model, line->ends, line->ends + model->n, g, user, t_best,
                            score_best);
}

DSS_API int dss_search_find_optimal(dss_line *line, const dss_search *search, dss_score_fn g,
                                    void *user, double *t_best, double *score_best)
{
    if (line == NULL)
        return DSS_EINVAL;
    return ERR_CALL((errmsg *)&line->err, search_find_optimal_impl(line, search, g, user, t_best, score_best));
}
