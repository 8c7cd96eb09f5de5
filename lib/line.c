/* dss_line: the simulated user's batched 1-D line search (the authors' find_optimal), with an
 * optional golden-section refinement of the best grid cell. */
#include <math.h>
#include <stdint.h>

#include "calls.h"
#include "model.h"
#include "search.h"

#define REFINE_WIDTH 1e-6  /* refinement stops when the bracket is at most this wide in t */

struct dss_line {
    mem_allocator alloc;
    size_t samples, batch;
    int goal, refine;
    size_t evaluations;     /* points evaluated by the last successful search */
    double *z;      size_t z_cap;      /* batch x n points */
    double *x;      size_t x_cap;      /* batch x m outputs */
    double *score;  size_t score_cap;  /* batch scores */
    double *t;      size_t t_cap;      /* batch slider positions */
    double *ends;   size_t ends_cap;   /* 2n: a search's slider ends */
    dss_progress_fn progress;
    void *progress_user;
};

/* One evaluation context: the segment, the model and the score. */
struct segment {
    const dss_model *model;
    const double *lo, *hi;
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
    if (out == NULL || mem_from_host(&a, allocator) != 0)
        return DSS_EINVAL;
    line = mem_alloc(&a, sizeof *line);
    if (line == NULL)
        return DSS_ENOMEM;
    *line = (dss_line){ .alloc = a, .samples = 10001, .batch = 500, .goal = DSS_MAXIMIZE,
                        .refine = 0 };
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
    mem_free(&a, line->z);
    mem_free(&a, line->x);
    mem_free(&a, line->score);
    mem_free(&a, line->t);
    mem_free(&a, line->ends);
    mem_free(&a, line);
}

static int is_integer_in(double v, double lo, double hi)
{
    return isfinite(v) && v == floor(v) && v >= lo && v <= hi;
}

DSS_API int dss_line_set(dss_line *line, int param, double value)
{
    /* sample counts are kept exactly representable and far from size_t overflow */
    const double count_max = 9007199254740992.0 < (double)SIZE_MAX ? 9007199254740992.0
                                                                     : (double)SIZE_MAX;
    if (line == NULL)
        return DSS_EINVAL;
    switch (param) {
    case DSS_LINE_SAMPLES:
        if (!is_integer_in(value, 2, count_max))
            return DSS_EINVAL;
        line->samples = (size_t)value;
        return DSS_OK;
    case DSS_LINE_BATCH:
        if (!is_integer_in(value, 1, count_max))
            return DSS_EINVAL;
        line->batch = (size_t)value;
        return DSS_OK;
    case DSS_LINE_GOAL:
        if (!is_integer_in(value, DSS_MAXIMIZE, DSS_MINIMIZE))
            return DSS_EINVAL;
        line->goal = (int)value;
        return DSS_OK;
    case DSS_LINE_REFINE:
        if (!is_integer_in(value, 0, 1))
            return DSS_EINVAL;
        line->refine = (int)value;
        return DSS_OK;
    default:
        return DSS_EINVAL;
    }
}

DSS_API int dss_line_get(const dss_line *line, int param, double *value)
{
    if (line == NULL || value == NULL)
        return DSS_EINVAL;
    switch (param) {
    case DSS_LINE_SAMPLES: *value = (double)line->samples; return DSS_OK;
    case DSS_LINE_BATCH:   *value = (double)line->batch; return DSS_OK;
    case DSS_LINE_GOAL:    *value = line->goal; return DSS_OK;
    case DSS_LINE_REFINE:  *value = line->refine; return DSS_OK;
    default:               return DSS_EINVAL;
    }
}

DSS_API int dss_line_set_progress(dss_line *line, dss_progress_fn fn, void *user)
{
    if (line == NULL)
        return DSS_EINVAL;
    line->progress = fn;
    line->progress_user = user;
    return DSS_OK;
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
    for (size_t i = 0; i < count; i++) {
        double *z = line->z + i * n;
        for (size_t j = 0; j < n; j++)
            z[j] = sg->lo[j] + t[i] * (sg->hi[j] - sg->lo[j]);
    }
    if ((rc = call_f(&sg->cx, count, line->z, line->x)) != DSS_OK)
        return rc;
    if (!all_finite(line->x, count * m))
        return DSS_ENONFINITE;
    if ((rc = call_g(&sg->cx, sg->g, sg->user, count, line->x, line->score)) != DSS_OK)
        return rc;
    line->evaluations += count;
    return DSS_OK;
}

/* The grid t_i = i / (samples - 1) in batches; the first best index wins ties. */
static int grid_search(dss_line *line, struct segment *sg, size_t batch, size_t *best_i,
                       double *best_score)
{
    const double last = (double)(line->samples - 1);
    for (size_t first = 0; first < line->samples; first += batch) {
        size_t count = line->samples - first < batch ? line->samples - first : batch;
        int rc;
        for (size_t i = 0; i < count; i++)
            line->t[i] = (double)(first + i) / last;
        if ((rc = score_points(line, sg, line->t, count)) != DSS_OK)
            return rc;
        for (size_t i = 0; i < count; i++) {
            if (first + i == 0 || better(line, line->score[i], *best_score)) {
                *best_i = first + i;
                *best_score = line->score[i];
            }
        }
        if ((rc = call_progress(&sg->cx, DSS_STAGE_LINE_GRID, first + count, line->samples)) != DSS_OK)
            return rc;
    }
    return DSS_OK;
}

/* Score one point t; keep it when strictly better than the best so far. */
static int probe(dss_line *line, struct segment *sg, double t, double *score,
                 double *best_t, double *best_score)
{
    int rc = score_points(line, sg, &t, 1);
    if (rc != DSS_OK)
        return rc;
    *score = line->score[0];
    if (better(line, *score, *best_score)) {
        *best_t = t;
        *best_score = *score;
    }
    return DSS_OK;
}

/*
 * Golden-section search on [a, b], the best grid point's neighbours: keeps the better of two
 * interior points and shrinks by 1/phi per evaluation until b - a <= REFINE_WIDTH. The best
 * point seen (grid point included) is returned, so the result is never worse than the grid's.
 */
static int refine(dss_line *line, struct segment *sg, double a, double b, double *best_t,
                  double *best_score)
{
    const double inv_phi = 0.6180339887498949; /* (sqrt(5) - 1) / 2 */
    double c = b - inv_phi * (b - a), d = a + inv_phi * (b - a);
    double fc, fd;
    /* steps until the bracket is REFINE_WIDTH wide: an upper bound for the progress callback */
    size_t steps = 0, total = 2 + (size_t)ceil(log(fmax((b - a) / REFINE_WIDTH, 1.0)) / log(1.0 / inv_phi));
    int rc;

    if ((rc = probe(line, sg, c, &fc, best_t, best_score)) != DSS_OK
        || (rc = probe(line, sg, d, &fd, best_t, best_score)) != DSS_OK)
        return rc;
    while (b - a > REFINE_WIDTH) {
        if (!better(line, fd, fc)) { /* c at least as good: the peak is left of d */
            b = d; d = c; fd = fc;
            c = b - inv_phi * (b - a);
            rc = probe(line, sg, c, &fc, best_t, best_score);
        } else {
            a = c; c = d; fc = fd;
            d = a + inv_phi * (b - a);
            rc = probe(line, sg, d, &fd, best_t, best_score);
        }
        if (rc != DSS_OK
            || (rc = call_progress(&sg->cx, DSS_STAGE_LINE_REFINE, ++steps + 2, total)) != DSS_OK)
            return rc;
    }
    return DSS_OK;
}

static int reserve_buffers(dss_line *line, const dss_model *model, size_t batch)
{
    size_t zn, xm;
    if (mem_mul(batch, model->n, &zn) != 0 || mem_mul(batch, model->m, &xm) != 0)
        return DSS_EINVAL;
    if (MEM_GROW(&line->alloc, line, z, zn) != DSS_OK || MEM_GROW(&line->alloc, line, x, xm) != DSS_OK
        || MEM_GROW(&line->alloc, line, score, batch) != DSS_OK
        || MEM_GROW(&line->alloc, line, t, batch) != DSS_OK)
        return DSS_ENOMEM;
    return DSS_OK;
}

static int find_on_segment(dss_line *line, struct segment *sg, double *t_best,
                           double *score_best)
{
    const dss_model *model = sg->model;
    size_t batch = line->batch, best_i = 0;
    double best_t, best_score = 0.0;
    int rc;

    if (batch > model->max_batch)
        batch = model->max_batch;
    if (batch > line->samples)
        batch = line->samples;
    if (!all_finite(sg->lo, model->n) || !all_finite(sg->hi, model->n))
        return DSS_ENONFINITE;
    for (size_t j = 0; j < model->n; j++) /* hi - lo may overflow although both are finite */
        if (!isfinite(sg->hi[j] - sg->lo[j]))
            return DSS_ENONFINITE;
    if ((rc = reserve_buffers(line, model, batch)) != DSS_OK)
        return rc;
    line->evaluations = 0;
    if ((rc = grid_search(line, sg, batch, &best_i, &best_score)) != DSS_OK)
        return rc;
    best_t = (double)best_i / (double)(line->samples - 1);
    if (line->refine) {
        const double step = 1.0 / (double)(line->samples - 1);
        double a = best_i > 0 ? (double)(best_i - 1) * step : 0.0;
        double b = best_i + 1 < line->samples ? (double)(best_i + 1) * step : 1.0;
        if ((rc = refine(line, sg, a, b, &best_t, &best_score)) != DSS_OK)
            return rc;
    }
    *t_best = best_t;
    if (score_best != NULL)
        *score_best = best_score;
    return DSS_OK;
}

DSS_API int dss_find_optimal(dss_line *line, const dss_model *model, const double *z_lo,
                             const double *z_hi, dss_score_fn g, void *user, double *t_best,
                             double *score_best)
{
    struct segment sg = { model, z_lo, z_hi, g, user,
                          { .model = model, .progress = line ? line->progress : NULL,
                            .progress_user = line ? line->progress_user : NULL } };
    size_t before;
    int rc;
    if (line == NULL || model == NULL || z_lo == NULL || z_hi == NULL || g == NULL
        || t_best == NULL)
        return DSS_EINVAL;
    before = line->evaluations;
    rc = find_on_segment(line, &sg, t_best, score_best);
    if (rc != DSS_OK)
        line->evaluations = before;
    return rc;
}

DSS_API int dss_search_find_optimal(dss_line *line, const dss_search *search, dss_score_fn g,
                                    void *user, double *t_best, double *score_best)
{
    const dss_model *model;
    int rc;
    if (line == NULL || search == NULL || g == NULL || t_best == NULL)
        return DSS_EINVAL;
    model = search_model(search);
    if (MEM_GROW(&line->alloc, line, ends, 2 * model->n) != DSS_OK)
        return DSS_ENOMEM;
    rc = dss_search_slider_ends(search, line->ends, line->ends + model->n);
    if (rc != DSS_OK)
        return rc;
    return dss_find_optimal(line, model, line->ends, line->ends + model->n, g, user, t_best,
                            score_best);
}
