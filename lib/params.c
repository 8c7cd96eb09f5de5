/* The parameter descriptor tables (see params.h). */
#include <float.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <dss/dss.h>

#include "line.h"
#include "params.h"
#include "prior.h"
#include "radius.h"
#include "search.h"

#define TWO53 9007199254740992.0   /* 2^53: every integer up to it is exact in a double */
/* Counts (size_t fields) stop at 2^53, or at SIZE_MAX where size_t is narrower (32-bit
   machines: 2^32 - 1, exact in a double); (double)SIZE_MAX of a 64-bit size_t would round
   to 2^64. */
#define COUNT_MAX (SIZE_MAX < UINT64_C(9007199254740992) ? (double)SIZE_MAX : TWO53)
#define SP(field) offsetof(struct search_params, field)

/* One row per parameter: id, name, kind, lo, hi, lo_open, hi_open, hi_is_n, saved, default,
   field type, field offset. saved: 1 in the parameter block (ids 1..16, format version 1), 2 in
   version 2's policy block (persist.c). */
static const param_desc SEARCH[] = {
    { DSS_SEARCH_SUBSPACE_DIM, "DSS_SEARCH_SUBSPACE_DIM", PARAM_INT, 1, COUNT_MAX, 0, 0, 1, 1, 1,
      FIELD_SIZE, SP(l) },
    { DSS_SEARCH_RADIUS, "DSS_SEARCH_RADIUS", PARAM_REAL, 0, DBL_MAX, 1, 0, 0, 1, 0,
      FIELD_DOUBLE, SP(radius) },  /* default 0: the prior's radius */
    { DSS_SEARCH_CENTER_TOLERANCE, "DSS_SEARCH_CENTER_TOLERANCE", PARAM_REAL, 0, 0.5, 0, 0, 0, 1,
      0.05, FIELD_DOUBLE, SP(tol) },
    { DSS_SEARCH_SEED, "DSS_SEARCH_SEED", PARAM_INT, 0, TWO53, 0, 0, 0, 1, 0,
      FIELD_DOUBLE, SP(seed) },
    { DSS_SEARCH_JACOBIAN, "DSS_SEARCH_JACOBIAN", PARAM_INT, DSS_JACOBIAN_AUTO,
      DSS_JACOBIAN_RANDOMIZED, 0, 0, 0, 1, DSS_JACOBIAN_AUTO, FIELD_INT, SP(jac.mode) },
    { DSS_SEARCH_JACOBIAN_ROWS, "DSS_SEARCH_JACOBIAN_ROWS", PARAM_INT, 1, COUNT_MAX, 0, 0, 0, 1, 50,
      FIELD_SIZE, SP(jac.rows) },
    { DSS_SEARCH_RANK, "DSS_SEARCH_RANK", PARAM_INT, 1, COUNT_MAX, 0, 0, 0, 1, 32,
      FIELD_SIZE, SP(jac.rank) },
    { DSS_SEARCH_SAMPLER, "DSS_SEARCH_SAMPLER", PARAM_INT, DSS_SAMPLER_SINGULAR, DSS_SAMPLER_TOP,
      0, 0, 0, 1, DSS_SAMPLER_SINGULAR, FIELD_INT, SP(sampler) },
    { DSS_SEARCH_PRIOR, "DSS_SEARCH_PRIOR", PARAM_INT, DSS_PRIOR_GAUSSIAN, DSS_PRIOR_BOX, 0, 0, 0,
      1, DSS_PRIOR_GAUSSIAN, FIELD_INT, SP(prior) },
    { DSS_SEARCH_PRIOR_SCALE, "DSS_SEARCH_PRIOR_SCALE", PARAM_REAL, 0, DBL_MAX, 1, 0, 0, 1, 1,
      FIELD_DOUBLE, SP(prior_scale) },
    { DSS_SEARCH_HISTORY, "DSS_SEARCH_HISTORY", PARAM_INT, 0, 65536, 0, 0, 0, 1, 64,
      FIELD_SIZE, SP(history) },
    { DSS_SEARCH_DIFF_SCHEME, "DSS_SEARCH_DIFF_SCHEME", PARAM_INT, DSS_DIFF_FORWARD,
      DSS_DIFF_CENTRAL, 0, 0, 0, 1, DSS_DIFF_FORWARD, FIELD_INT, SP(jac.diff_scheme) },
    { DSS_SEARCH_DIFF_STEP, "DSS_SEARCH_DIFF_STEP", PARAM_REAL, 0, 1, 0, 1, 0, 1, 0,
      FIELD_DOUBLE, SP(jac.diff_step) },
    { DSS_SEARCH_OVERSAMPLE, "DSS_SEARCH_OVERSAMPLE", PARAM_INT, 0, COUNT_MAX, 0, 0, 0, 1, 10,
      FIELD_SIZE, SP(jac.oversample) },
    { DSS_SEARCH_POWER_ITERATIONS, "DSS_SEARCH_POWER_ITERATIONS", PARAM_INT, 0, 16, 0, 0, 0, 1,
      1, FIELD_SIZE, SP(jac.power) },
    { DSS_SEARCH_JACOBIAN_CHUNK, "DSS_SEARCH_JACOBIAN_CHUNK", PARAM_INT, 0, COUNT_MAX, 0, 0, 0, 1,
      0, FIELD_SIZE, SP(jac.chunk) },
    /* the slider-range policy (radius.c), saved in format version 2's policy block; the two
       bounds' ranges meet at 1, which keeps RADIUS_MIN <= 1 <= RADIUS_MAX */
    { DSS_SEARCH_RADIUS_POLICY, "DSS_SEARCH_RADIUS_POLICY", PARAM_INT, DSS_RADIUS_FIXED,
      DSS_RADIUS_ADAPTIVE, 0, 0, 0, 2, DSS_RADIUS_FIXED, FIELD_INT, SP(range.policy) },
    { DSS_SEARCH_RADIUS_GROW, "DSS_SEARCH_RADIUS_GROW", PARAM_REAL, 1, RADIUS_GROW_MAX, 1, 0, 0,
      2, 2, FIELD_DOUBLE, SP(range.grow) },
    { DSS_SEARCH_RADIUS_SHRINK, "DSS_SEARCH_RADIUS_SHRINK", PARAM_REAL, 0, 1, 1, 1, 0, 2, 0.5,
      FIELD_DOUBLE, SP(range.shrink) },
    { DSS_SEARCH_RADIUS_MIN, "DSS_SEARCH_RADIUS_MIN", PARAM_REAL, 0, 1, 1, 0, 0, 2, 0.0625,
      FIELD_DOUBLE, SP(range.scale_min) },
    { DSS_SEARCH_RADIUS_MAX, "DSS_SEARCH_RADIUS_MAX", PARAM_REAL, 1, RADIUS_SCALE_MAX, 0, 0, 0,
      2, 2, FIELD_DOUBLE, SP(range.scale_max) },
    { DSS_SEARCH_STALL_COMMITS, "DSS_SEARCH_STALL_COMMITS", PARAM_INT, 0, RADIUS_STALL_MAX, 0, 0,
      0, 2, 0, FIELD_SIZE, SP(range.stall) },
};

#define LP(field) offsetof(struct dss_line, field)
static const param_desc LINE[] = {
    { DSS_LINE_SAMPLES, "DSS_LINE_SAMPLES", PARAM_INT, 2, COUNT_MAX, 0, 0, 0, 0, 10001,
      FIELD_SIZE, LP(samples) },
    { DSS_LINE_BATCH, "DSS_LINE_BATCH", PARAM_INT, 1, COUNT_MAX, 0, 0, 0, 0, 500, FIELD_SIZE,
      LP(batch) },
    { DSS_LINE_GOAL, "DSS_LINE_GOAL", PARAM_INT, DSS_MAXIMIZE, DSS_MINIMIZE, 0, 0, 0, 0,
      DSS_MAXIMIZE, FIELD_INT, LP(goal) },
    { DSS_LINE_REFINE, "DSS_LINE_REFINE", PARAM_INT, 0, 2, 0, 0, 0, 0, 0, FIELD_INT,
      LP(refine) },
};

#define COUNT(a) (sizeof (a) / sizeof (a)[0])

static const param_desc *find(const param_desc *rows, size_t count, int id)
{
    for (size_t i = 0; i < count; i++)
        if (rows[i].id == id)
            return &rows[i];
    return NULL;
}

const param_desc *dssi_param_search(int id) { return find(SEARCH, COUNT(SEARCH), id); }
const param_desc *dssi_param_line(int id) { return find(LINE, COUNT(LINE), id); }

const param_desc *dssi_param_search_rows(size_t *count)
{
    *count = COUNT(SEARCH);
    return SEARCH;
}

const param_desc *dssi_param_line_rows(size_t *count)
{
    *count = COUNT(LINE);
    return LINE;
}

int dssi_param_valid(const param_desc *d, double value, size_t n)
{
    const double hi = d->hi_is_n && (double)n < d->hi ? (double)n : d->hi;
    if (!isfinite(value) || (d->kind == PARAM_INT && value != floor(value)))
        return 0;
    if (d->lo_open ? !(value > d->lo) : !(value >= d->lo))
        return 0;
    return d->hi_open ? value < hi : value <= hi;
}

void dssi_param_store(const param_desc *d, void *obj, double value)
{
    char *field = (char *)obj + d->offset;
    if (d->field == FIELD_SIZE) {
        size_t v = (size_t)value;
        memcpy(field, &v, sizeof v);
    } else if (d->field == FIELD_INT) {
        int v = (int)value;
        memcpy(field, &v, sizeof v);
    } else {
        memcpy(field, &value, sizeof value);
    }
}

double dssi_param_load(const param_desc *d, const void *obj)
{
    const char *field = (const char *)obj + d->offset;
    if (d->field == FIELD_SIZE) {
        size_t v;
        memcpy(&v, field, sizeof v);
        return (double)v;
    }
    if (d->field == FIELD_INT) {
        int v;
        memcpy(&v, field, sizeof v);
        return v;
    }
    {
        double v;
        memcpy(&v, field, sizeof v);
        return v;
    }
}

static const char *bound_text(double v, char *buf, size_t cap)
{
    if (v == TWO53)
        return "2^53";
    if (v == COUNT_MAX)
        return "SIZE_MAX";
    if (v == DBL_MAX)
        return "DBL_MAX";
    snprintf(buf, cap, "%.17g", v);
    return buf;
}

const char *dssi_param_range_text(const param_desc *d, char *buf, size_t cap)
{
    char lo[32], hi[32];
    snprintf(buf, cap, "%s %c%s, %s%c", d->kind == PARAM_INT ? "an integer in" : "in",
             d->lo_open ? '(' : '[', bound_text(d->lo, lo, sizeof lo),
             d->hi_is_n ? "n" : bound_text(d->hi, hi, sizeof hi), d->hi_open ? ')' : ']');
    return buf;
}

DSS_API int dss_search_param_bounds(int param, double *lo, double *hi)
{
    const param_desc *d = dssi_param_search(param);
    if (d == NULL || lo == NULL || hi == NULL)
        return DSS_EINVAL;
    *lo = d->lo;
    *hi = d->hi;
    return DSS_OK;
}

DSS_API int dss_line_param_bounds(int param, double *lo, double *hi)
{
    const param_desc *d = dssi_param_line(param);
    if (d == NULL || lo == NULL || hi == NULL)
        return DSS_EINVAL;
    *lo = d->lo;
    *hi = d->hi;
    return DSS_OK;
}

/* ---- the search's parameters as a whole (struct search_params) -------------------------- */

#define RADIUS_FACTOR 0.2             /* the authors' slider half-length: 0.2 x mean distance */

/* The prior and its scale, and the default radius they give, which must be finite and
   positive: a scale near DBL_MAX (or one so small that the radius underflows) would give a
   session whose every point is DSS_ENONFINITE (or the centre itself). */
static int set_prior(struct search_params *p, size_t n, int prior, double scale)
{
    const double radius = scale * (RADIUS_FACTOR * dssi_prior_unit_distance(prior, n));
    if (!isfinite(radius) || !(radius > 0.0))
        return DSS_EINVAL;
    p->prior = prior;
    p->prior_scale = scale;
    p->radius_default = radius;
    return DSS_OK;
}

const char *dssi_params_range(int param, char *buf, size_t cap)
{
    const param_desc *d = dssi_param_search(param);
    if (d == NULL)
        return "no such parameter";
    dssi_param_range_text(d, buf, cap);
    if (param == DSS_SEARCH_PRIOR || param == DSS_SEARCH_PRIOR_SCALE) {
        size_t len = strlen(buf);
        snprintf(buf + len, cap - len, ", with a finite, positive default radius");
    }
    if (param == DSS_SEARCH_RADIUS_MIN || param == DSS_SEARCH_RADIUS_MAX) {
        size_t len = strlen(buf);
        snprintf(buf + len, cap - len, ": the scale's bounds keep RADIUS_MIN <= 1 <= RADIUS_MAX");
    }
    return buf;
}

/* Every parameter through its row of the table (params.c); the prior's two also recompute the
   default radius, which must stay finite. */
int dssi_params_set(struct search_params *p, size_t n, int param, double value)
{
    const param_desc *d = dssi_param_search(param);
    if (d == NULL || !dssi_param_valid(d, value, n))
        return DSS_EINVAL;
    if (param == DSS_SEARCH_PRIOR)
        return set_prior(p, n, (int)value, p->prior_scale);
    if (param == DSS_SEARCH_PRIOR_SCALE)
        return set_prior(p, n, p->prior, value);
    dssi_param_store(d, p, value);
    return DSS_OK;
}

/* The defaults, from the table. */
void dssi_params_default(struct search_params *p, size_t n)
{
    size_t count;
    const param_desc *rows = dssi_param_search_rows(&count);
    *p = (struct search_params){ 0 };
    for (size_t i = 0; i < count; i++)
        dssi_param_store(&rows[i], p, rows[i].def);
    p->radius_default = p->prior_scale * (RADIUS_FACTOR * dssi_prior_unit_distance(p->prior, n));
}
