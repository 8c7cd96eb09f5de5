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

/* One row per parameter, with everything the library does differently for it: its range, its
   default, its field, where a save writes it (saved: PARAM_SAVED_V1 the parameter block, ids
   1..16; PARAM_SAVED_V2 version 2's policy block), a note for messages, a check-and-store of
   its own (apply), a value that means "unset" (unset_zero), a reading of its own (read), and
   what the session does when it changes (effect, session.c). No other file names a parameter. */
#define ROW(param) .id = param, .name = #param

static int apply_prior(void *obj, size_t n, double value);
static int apply_prior_scale(void *obj, size_t n, double value);
static double read_radius(const void *obj);

static const param_desc SEARCH[] = {
    { ROW(DSS_SEARCH_SUBSPACE_DIM), .kind = PARAM_INT, .lo = 1, .hi = COUNT_MAX, .hi_is_n = 1,
      .saved = PARAM_SAVED_V1, .def = 1, .field = FIELD_SIZE, .offset = SP(l) },
    /* default 0, "unset": the prior's radius, which is what a read shows */
    { ROW(DSS_SEARCH_RADIUS), .kind = PARAM_REAL, .lo = 0, .lo_open = 1, .hi = DBL_MAX,
      .saved = PARAM_SAVED_V1, .def = 0, .unset_zero = 1, .read = read_radius,
      .field = FIELD_DOUBLE, .offset = SP(radius) },
    { ROW(DSS_SEARCH_CENTER_TOLERANCE), .kind = PARAM_REAL, .lo = 0, .hi = 0.5,
      .saved = PARAM_SAVED_V1, .def = 0.05, .field = FIELD_DOUBLE, .offset = SP(tol) },
    { ROW(DSS_SEARCH_SEED), .kind = PARAM_INT, .lo = 0, .hi = TWO53, .saved = PARAM_SAVED_V1,
      .def = 0, .effect = PARAM_EFFECT_RESEED, .field = FIELD_DOUBLE, .offset = SP(seed) },
    { ROW(DSS_SEARCH_JACOBIAN), .kind = PARAM_INT, .lo = DSS_JACOBIAN_AUTO,
      .hi = DSS_JACOBIAN_RANDOMIZED, .saved = PARAM_SAVED_V1, .def = DSS_JACOBIAN_AUTO,
      .field = FIELD_INT, .offset = SP(jac.mode) },
    { ROW(DSS_SEARCH_JACOBIAN_ROWS), .kind = PARAM_INT, .lo = 1, .hi = COUNT_MAX,
      .saved = PARAM_SAVED_V1, .def = 50, .field = FIELD_SIZE, .offset = SP(jac.rows) },
    { ROW(DSS_SEARCH_RANK), .kind = PARAM_INT, .lo = 1, .hi = COUNT_MAX, .saved = PARAM_SAVED_V1,
      .def = 32, .field = FIELD_SIZE, .offset = SP(jac.rank) },
    { ROW(DSS_SEARCH_SAMPLER), .kind = PARAM_INT, .lo = DSS_SAMPLER_SINGULAR,
      .hi = DSS_SAMPLER_TOP, .saved = PARAM_SAVED_V1, .def = DSS_SAMPLER_SINGULAR,
      .field = FIELD_INT, .offset = SP(sampler) },
    /* the prior and its scale set the default radius, which must be finite and positive */
    { ROW(DSS_SEARCH_PRIOR), .kind = PARAM_INT, .lo = DSS_PRIOR_GAUSSIAN, .hi = DSS_PRIOR_BOX,
      .saved = PARAM_SAVED_V1, .def = DSS_PRIOR_GAUSSIAN, .apply = apply_prior,
      .note = ", with a finite, positive default radius", .field = FIELD_INT,
      .offset = SP(prior) },
    { ROW(DSS_SEARCH_PRIOR_SCALE), .kind = PARAM_REAL, .lo = 0, .lo_open = 1, .hi = DBL_MAX,
      .saved = PARAM_SAVED_V1, .def = 1, .apply = apply_prior_scale,
      .note = ", with a finite, positive default radius", .field = FIELD_DOUBLE,
      .offset = SP(prior_scale) },
    { ROW(DSS_SEARCH_HISTORY), .kind = PARAM_INT, .lo = 0, .hi = 65536, .saved = PARAM_SAVED_V1,
      .def = 64, .effect = PARAM_EFFECT_FORGET, .field = FIELD_SIZE, .offset = SP(history) },
    { ROW(DSS_SEARCH_DIFF_SCHEME), .kind = PARAM_INT, .lo = DSS_DIFF_FORWARD,
      .hi = DSS_DIFF_CENTRAL, .saved = PARAM_SAVED_V1, .def = DSS_DIFF_FORWARD,
      .field = FIELD_INT, .offset = SP(jac.diff_scheme) },
    { ROW(DSS_SEARCH_DIFF_STEP), .kind = PARAM_REAL, .lo = 0, .hi = 1, .hi_open = 1,
      .saved = PARAM_SAVED_V1, .def = 0, .field = FIELD_DOUBLE, .offset = SP(jac.diff_step) },
    { ROW(DSS_SEARCH_OVERSAMPLE), .kind = PARAM_INT, .lo = 0, .hi = COUNT_MAX,
      .saved = PARAM_SAVED_V1, .def = 10, .field = FIELD_SIZE, .offset = SP(jac.oversample) },
    { ROW(DSS_SEARCH_POWER_ITERATIONS), .kind = PARAM_INT, .lo = 0, .hi = 16,
      .saved = PARAM_SAVED_V1, .def = 1, .field = FIELD_SIZE, .offset = SP(jac.power) },
    { ROW(DSS_SEARCH_JACOBIAN_CHUNK), .kind = PARAM_INT, .lo = 0, .hi = COUNT_MAX,
      .saved = PARAM_SAVED_V1, .def = 0, .field = FIELD_SIZE, .offset = SP(jac.chunk) },
    /* the slider-range policy (radius.c), saved in format version 2's policy block; the two
       bounds' ranges meet at 1, which keeps RADIUS_MIN <= 1 <= RADIUS_MAX */
    { ROW(DSS_SEARCH_RADIUS_POLICY), .kind = PARAM_INT, .lo = DSS_RADIUS_FIXED,
      .hi = DSS_RADIUS_ADAPTIVE, .saved = PARAM_SAVED_V2, .def = DSS_RADIUS_FIXED,
      .effect = PARAM_EFFECT_NEW_POLICY, .field = FIELD_INT, .offset = SP(range.policy) },
    { ROW(DSS_SEARCH_RADIUS_GROW), .kind = PARAM_REAL, .lo = 1, .lo_open = 1,
      .hi = RADIUS_GROW_MAX, .saved = PARAM_SAVED_V2, .def = 2, .field = FIELD_DOUBLE,
      .offset = SP(range.grow) },
    { ROW(DSS_SEARCH_RADIUS_SHRINK), .kind = PARAM_REAL, .lo = 0, .lo_open = 1, .hi = 1,
      .hi_open = 1, .saved = PARAM_SAVED_V2, .def = 0.5, .field = FIELD_DOUBLE,
      .offset = SP(range.shrink) },
    { ROW(DSS_SEARCH_RADIUS_MIN), .kind = PARAM_REAL, .lo = 0, .lo_open = 1, .hi = 1,
      .saved = PARAM_SAVED_V2, .def = 0.0625,
      .note = ": the scale's bounds keep RADIUS_MIN <= 1 <= RADIUS_MAX", .field = FIELD_DOUBLE,
      .offset = SP(range.scale_min) },
    { ROW(DSS_SEARCH_RADIUS_MAX), .kind = PARAM_REAL, .lo = 1, .hi = RADIUS_SCALE_MAX,
      .saved = PARAM_SAVED_V2, .def = 2,
      .note = ": the scale's bounds keep RADIUS_MIN <= 1 <= RADIUS_MAX", .field = FIELD_DOUBLE,
      .offset = SP(range.scale_max) },
    { ROW(DSS_SEARCH_STALL_COMMITS), .kind = PARAM_INT, .lo = 0, .hi = RADIUS_STALL_MAX,
      .saved = PARAM_SAVED_V2, .def = 0, .field = FIELD_SIZE, .offset = SP(range.stall) },
    { ROW(DSS_SEARCH_KEEP_SHOWN), .kind = PARAM_INT, .lo = 0, .hi = 1, .saved = PARAM_SAVED_V2,
      .saved_if_set = 1, .def = 0, .field = FIELD_INT, .offset = SP(keep_shown) },
};

#define LP(field) offsetof(struct dss_line, field)
static const param_desc LINE[] = {
    { ROW(DSS_LINE_SAMPLES), .kind = PARAM_INT, .lo = 2, .hi = COUNT_MAX, .def = 10001,
      .field = FIELD_SIZE, .offset = LP(samples) },
    { ROW(DSS_LINE_BATCH), .kind = PARAM_INT, .lo = 1, .hi = COUNT_MAX, .def = 500,
      .field = FIELD_SIZE, .offset = LP(batch) },
    { ROW(DSS_LINE_GOAL), .kind = PARAM_INT, .lo = DSS_MAXIMIZE, .hi = DSS_MINIMIZE,
      .def = DSS_MAXIMIZE, .field = FIELD_INT, .offset = LP(goal) },
    { ROW(DSS_LINE_REFINE), .kind = PARAM_INT, .lo = 0, .hi = 2, .def = 0, .field = FIELD_INT,
      .offset = LP(refine) },
    { ROW(DSS_LINE_GRID), .kind = PARAM_INT, .lo = 2, .hi = COUNT_MAX, .def = 5,
      .field = FIELD_SIZE, .offset = LP(grid) },
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

static int apply_prior(void *obj, size_t n, double value)
{
    struct search_params *p = obj;
    return set_prior(p, n, (int)value, p->prior_scale);
}

static int apply_prior_scale(void *obj, size_t n, double value)
{
    struct search_params *p = obj;
    return set_prior(p, n, p->prior, value);
}

/* the radius in force: the one set, or the prior's when unset */
static double read_radius(const void *obj)
{
    const struct search_params *p = obj;
    return p->radius > 0.0 ? p->radius : p->radius_default;
}

const char *dssi_params_range(int param, char *buf, size_t cap)
{
    const param_desc *d = dssi_param_search(param);
    if (d == NULL)
        return "no such parameter";
    dssi_param_range_text(d, buf, cap);
    if (d->note != NULL) {
        size_t len = strlen(buf);
        snprintf(buf + len, cap - len, "%s", d->note);
    }
    return buf;
}

/* Every parameter through its row of the table: its range, then its own check-and-store or the
   plain one. */
int dssi_params_set(struct search_params *p, size_t n, int param, double value)
{
    const param_desc *d = dssi_param_search(param);
    if (d == NULL || !dssi_param_valid(d, value, n))
        return DSS_EINVAL;
    if (d->apply != NULL)
        return d->apply(p, n, value);
    dssi_param_store(d, p, value);
    return DSS_OK;
}

/* A saved value through its row: "unset" where the row has one, else the setter's check. */
int dssi_params_restore(struct search_params *p, size_t n, int param, double value)
{
    const param_desc *d = dssi_param_search(param);
    if (d != NULL && d->unset_zero && value == 0.0) {
        dssi_param_store(d, p, 0.0);
        return DSS_OK;
    }
    return dssi_params_set(p, n, param, value);
}

/* The value a read shows: the row's own reading, or the field. */
double dssi_params_read(const param_desc *d, const struct search_params *p)
{
    return d->read != NULL ? d->read(p) : dssi_param_load(d, p);
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
