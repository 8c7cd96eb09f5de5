/* dss_search_find_optimal_w: the simulated user of an l-dimensional subspace (a "gallery" of
 * G^l previews), the counterpart of line.c's find_optimal for dss_search_commit_w. A grid over
 * the square [-1, 1]^l of weights, scored in batches, then optionally a coordinate-wise
 * refinement with line.c's Brent: of the best grid point (DSS_LINE_REFINE = 1), or of the
 * grid's PEAKS best local maxima (DSS_LINE_REFINE = 2), as the line refines its peaks.
 *
 * Layering: this file calls search.c (the session's mapping, read through a snapshot) and line.c
 * (the handle, its parameters and Brent); neither calls back here. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "calls.h"
#include "errmsg.h"
#include "line.h"
#include "mem.h"
#include "model.h"
#include "search.h"

#define SWEEPS_MAX 16      /* coordinate sweeps of the refinement, at most */
#define PEAKS      3       /* DSS_LINE_REFINE = 2: local maxima of the grid refined, best first */
#define SWEEP_MOVE 1e-6    /* another sweep while the last one moved a weight by more */

/* One call's context: a snapshot of the session's mapping (centre, basis and radius as the
   call began, in the line's buffers), the model and the score. */
struct gallery {
    const dss_model *model;
    size_t n, m, l;
    const double *center, *basis;
    double radius;
    double *best_w, *probe_w;   /* l each: the best point so far, the point being scored */
    double *cur_w;              /* l: the refinement's current point (a peak, then improved) */
    size_t axis;                /* the axis being refined */
    double best_score, cur_score;
    size_t npeaks;              /* DSS_LINE_REFINE = 2: the grid's best local maxima */
    size_t peak_i[PEAKS];
    double peak_s[PEAKS];
    dss_line *line;
    dss_score_fn g;
    void *user;
    call_ctx cx;
};

/* Is score a strictly better than b for the line's goal? */
static int better(const dss_line *line, double a, double b)
{
    return line->goal == DSS_MINIMIZE ? a < b : a > b;
}

/* Score count weight vectors w (count x l, count <= the buffers' batch): one f call (split by
   the model's max batch), one g call; the scores land in line->score. */
static int score_weights(struct gallery *gl, const double *w, size_t count)
{
    dss_line *line = gl->line;
    int rc;
    for (size_t i = 0; i < count; i++)
        dssi_map_weights(gl->center, gl->basis, gl->radius, gl->n, w + i * gl->l, gl->l,
                         line->z + i * gl->n);
    if (!dssi_all_finite(line->z, count * gl->n))
        return dssi_err_detail(&line->err, DSS_ENONFINITE,
                               "a gallery point is not finite (centre + radius x basis overflows)");
    if ((rc = dssi_call_f(&gl->cx, count, line->z, line->x)) != DSS_OK)
        return rc;
    if (!dssi_all_finite(line->x, count * gl->m))
        return DSS_ENONFINITE;
    if ((rc = dssi_call_g(&gl->cx, gl->g, gl->user, count, line->x, line->score)) != DSS_OK)
        return rc;
    line->evaluations += count;
    return DSS_OK;
}

/* The weights of grid point idx (row-major, last axis fastest) of G points per axis. */
static void grid_weights(size_t idx, size_t G, size_t l, double *w)
{
    const double den = (double)(G - 1);
    for (size_t i = l; i-- > 0;) {
        const size_t k = idx % G;
        idx /= G;
        /* (2k - (G - 1)) / (G - 1): exact integers over one rounding, symmetric about 0 */
        w[i] = ((double)(2 * k) - den) / den;
    }
}

static int grid_search(struct gallery *gl, size_t total, size_t batch)
{
    dss_line *line = gl->line;
    int rc;
    if ((rc = dssi_call_progress(&gl->cx, DSS_STAGE_LINE_GRID, 0, total)) != DSS_OK)
        return rc;
    for (size_t first = 0; first < total; first += batch) {
        const size_t count = total - first < batch ? total - first : batch;
        for (size_t i = 0; i < count; i++)
            grid_weights(first + i, line->grid, gl->l, line->w + i * gl->l);
        if ((rc = score_weights(gl, line->w, count)) != DSS_OK)
            return rc;
        if (line->refine == 2)
            memcpy(line->grid_s + first, line->score, count * sizeof *line->score);
        for (size_t i = 0; i < count; i++) {
            if (first + i == 0 || better(line, line->score[i], gl->best_score)) {
                gl->best_score = line->score[i];
                memcpy(gl->best_w, line->w + i * gl->l, gl->l * sizeof *gl->best_w);
            }
        }
        if ((rc = dssi_call_progress(&gl->cx, DSS_STAGE_LINE_GRID, first + count, total)) != DSS_OK)
            return rc;
    }
    return DSS_OK;
}

/* The grid's local maxima (DSS_LINE_REFINE = 2): a point at least as good as its 2l axis
   neighbours and strictly better than those of lower index (a plateau counts once); the PEAKS
   best, best first, ties to the lowest index. The grid's best point is always the first. */
static void find_peaks(struct gallery *gl, size_t total)
{
    const dss_line *line = gl->line;
    const double *sc = line->grid_s;
    gl->npeaks = 0;
    for (size_t idx = 0; idx < total; idx++) {
        size_t stride = 1, rest = idx, pos;
        int peak = 1;
        for (size_t i = gl->l; i-- > 0 && peak; stride *= line->grid) {
            const size_t k = rest % line->grid;
            rest /= line->grid;
            if (k > 0 && !better(line, sc[idx], sc[idx - stride]))
                peak = 0; /* an earlier neighbour as good */
            if (k + 1 < line->grid && better(line, sc[idx + stride], sc[idx]))
                peak = 0;
        }
        if (!peak)
            continue;
        pos = gl->npeaks;
        while (pos > 0 && better(line, sc[idx], gl->peak_s[pos - 1]))
            pos--;
        if (pos >= PEAKS)
            continue;
        if (gl->npeaks < PEAKS)
            gl->npeaks++;
        for (size_t k = gl->npeaks - 1; k > pos; k--) {
            gl->peak_i[k] = gl->peak_i[k - 1];
            gl->peak_s[k] = gl->peak_s[k - 1];
        }
        gl->peak_i[pos] = idx;
        gl->peak_s[pos] = sc[idx];
    }
}

/* Brent's probe: the current point with its current axis set to u; it becomes the current
   point when strictly better, and the best when strictly better than the best. */
static int probe_axis(void *ctx, double u, double *score)
{
    struct gallery *gl = ctx;
    int rc;
    memcpy(gl->probe_w, gl->cur_w, gl->l * sizeof *gl->probe_w);
    gl->probe_w[gl->axis] = u;
    if ((rc = score_weights(gl, gl->probe_w, 1)) != DSS_OK)
        return rc;
    *score = gl->line->score[0];
    if (better(gl->line, *score, gl->cur_score)) {
        gl->cur_score = *score;
        gl->cur_w[gl->axis] = u;
    }
    if (better(gl->line, *score, gl->best_score)) {
        gl->best_score = *score;
        memcpy(gl->best_w, gl->probe_w, gl->l * sizeof *gl->best_w);
    }
    return DSS_OK;
}

/* Coordinate sweeps from the current point: each axis in turn, Brent within one grid step. */
static int refine_from(struct gallery *gl, size_t *steps, size_t total)
{
    const double step = 2.0 / (double)(gl->line->grid - 1);
    int rc;
    for (int sweep = 0; sweep < SWEEPS_MAX; sweep++) {
        double moved = 0.0;
        for (gl->axis = 0; gl->axis < gl->l; gl->axis++) {
            const double x0 = gl->cur_w[gl->axis];
            const double a = x0 - step > -1.0 ? x0 - step : -1.0;
            const double b = x0 + step < 1.0 ? x0 + step : 1.0;
            if ((rc = dssi_line_brent(gl->line->goal, a, b, x0, gl->cur_score, probe_axis, gl,
                                      &gl->cx, steps, total)) != DSS_OK)
                return rc;
            if (fabs(gl->cur_w[gl->axis] - x0) > moved)
                moved = fabs(gl->cur_w[gl->axis] - x0);
        }
        if (gl->l == 1 || !(moved > SWEEP_MOVE))
            break;
    }
    return DSS_OK;
}

/* DSS_LINE_REFINE = 1: from the grid's best point; 2: from each of its PEAKS best peaks. */
static int refine(struct gallery *gl, size_t total_grid)
{
    size_t starts = 1, steps = 0, total;
    int rc;
    if (gl->line->refine == 2) {
        find_peaks(gl, total_grid);
        starts = gl->npeaks;
    }
    total = starts * SWEEPS_MAX * gl->l * DSSI_REFINE_ITERS; /* an upper bound for progress */
    if (gl->l > SIZE_MAX / (PEAKS * SWEEPS_MAX * DSSI_REFINE_ITERS))
        total = SIZE_MAX;
    for (size_t p = 0; p < starts; p++) {
        if (gl->line->refine == 2) {
            grid_weights(gl->peak_i[p], gl->line->grid, gl->l, gl->cur_w);
            gl->cur_score = gl->peak_s[p];
        } else {
            memcpy(gl->cur_w, gl->best_w, gl->l * sizeof *gl->cur_w);
            gl->cur_score = gl->best_score;
        }
        if ((rc = refine_from(gl, &steps, total)) != DSS_OK)
            return rc;
    }
    return DSS_OK;
}

/* The line's buffers for batch points of an l-dimensional gallery of model (and the total
   grid scores, for DSS_LINE_REFINE = 2's peaks). */
static int reserve(dss_line *line, const dss_model *model, size_t l, size_t batch, size_t total)
{
    size_t zn, xm, wl, frame;
    if (dssi_mem_mul(batch, model->n, &zn) != 0 || dssi_mem_mul(batch, model->m, &xm) != 0
        || dssi_mem_mul(batch, l, &wl) != 0 || dssi_mem_mul(l + 1, model->n, &frame) != 0
        || l > SIZE_MAX / 3 || frame > SIZE_MAX - 3 * l)
        return dssi_err_detail(&line->err, DSS_EINVAL, "the gallery's buffers overflow size_t");
    frame += 3 * l;
    if (line->refine == 2 && MEM_GROW(&line->alloc, line, grid_s, total) != DSS_OK)
        return DSS_ENOMEM;
    if (MEM_GROW(&line->alloc, line, z, zn) != DSS_OK || MEM_GROW(&line->alloc, line, x, xm) != DSS_OK
        || MEM_GROW(&line->alloc, line, score, batch) != DSS_OK
        || MEM_GROW(&line->alloc, line, w, wl) != DSS_OK
        || MEM_GROW(&line->alloc, line, frame, frame) != DSS_OK)
        return DSS_ENOMEM;
    return DSS_OK;
}

static int gallery_run(dss_line *line, const dss_search *search, struct gallery *gl,
                       double *w_best, double *score_best)
{
    const dss_model *model = gl->model;
    size_t total = 1, batch = line->batch;
    int rc;
    for (size_t i = 0; i < gl->l; i++)
        if (dssi_mem_mul(total, line->grid, &total) != 0)
            return dssi_err_detail(&line->err, DSS_EINVAL,
                                   "DSS_LINE_GRID = %zu points per axis ^ l = %zu overflows size_t",
                                   line->grid, gl->l);
    if (batch > model->max_batch)
        batch = model->max_batch;
    if (batch > total)
        batch = total;
    if ((rc = reserve(line, model, gl->l, batch, total)) != DSS_OK)
        return rc;
    /* the snapshot: centre, basis, then the best and probe weights */
    if ((rc = dss_search_center(search, line->frame)) != DSS_OK
        || (rc = dss_search_basis(search, line->frame + gl->n)) != DSS_OK
        || (rc = dss_search_slider_radius(search, &gl->radius)) != DSS_OK)
        return dssi_err_detail(&line->err, rc, "%s", dss_search_errmsg(search));
    gl->center = line->frame;
    gl->basis = line->frame + gl->n;
    gl->best_w = line->frame + (gl->l + 1) * gl->n;
    gl->probe_w = gl->best_w + gl->l;
    gl->cur_w = gl->probe_w + gl->l;
    line->evaluations = 0;
    if ((rc = grid_search(gl, total, batch)) != DSS_OK)
        return rc;
    if (line->refine && (rc = refine(gl, total)) != DSS_OK)
        return rc;
    memcpy(w_best, gl->best_w, gl->l * sizeof *w_best);
    if (score_best != NULL)
        *score_best = gl->best_score;
    return DSS_OK;
}

static int find_optimal_w_impl(dss_line *line, const dss_search *search, dss_score_fn g,
                               void *user, double *w_best, double *score_best)
{
    struct gallery gl = { .line = line, .g = g, .user = user };
    size_t before;
    int rc;
    if (search == NULL)
        return dssi_err_detail(&line->err, DSS_EINVAL, "argument search is NULL");
    if (g == NULL)
        return dssi_err_detail(&line->err, DSS_EINVAL, "argument g is NULL");
    if (w_best == NULL)
        return dssi_err_detail(&line->err, DSS_EINVAL, "argument w_best is NULL");
    if (line->busy)
        return dssi_err_detail(&line->err, DSS_EBUSY,
                               "called from inside a callback of this line search's running call");
    if (dss_search_subspace_dim(search) == 0)
        return dssi_err_detail(&line->err, DSS_ESTATE,
                               "the session is not started (dss_search_start comes first)");
    dssi_call_ctx_init(&gl.cx, dssi_search_model(search));
    gl.cx.progress = line->progress;
    gl.cx.progress_user = line->progress_user;
    gl.cx.err = &line->err;
    gl.cx.job = line->job;
    gl.model = gl.cx.model; /* the snapshot: the model as this call began */
    gl.n = gl.model->n;
    gl.m = gl.model->m;
    gl.l = dss_search_subspace_dim(search);
    before = line->evaluations;
    line->busy = 1;
    rc = gallery_run(line, search, &gl, w_best, score_best);
    line->busy = 0;
    if (rc != DSS_OK)
        line->evaluations = before;
    return rc;
}

DSS_API int dss_search_find_optimal_w(dss_line *line, const dss_search *search, dss_score_fn g,
                                      void *user, double *w_best, double *score_best)
{
    if (line == NULL)
        return DSS_EINVAL;
    return ERR_CALL(&line->err, find_optimal_w_impl(line, search, g, user, w_best, score_best));
}
