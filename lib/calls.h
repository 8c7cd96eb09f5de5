/* Host callbacks as the library calls them: counted and timed into a handle's statistics,
 * outputs checked for NaN and infinity, and the host's progress callback asked between pieces
 * of long work. */
#ifndef DSS_CALLS_H
#define DSS_CALLS_H

#include <dss/dss.h>

#include "model.h"

/* Work counters; indices are the public DSS_STAT_* keys minus one where they coincide. */
enum {
    STAT_POINTS, STAT_F_CALLS, STAT_JACOBIAN_CALLS, STAT_JACOBIAN_ROWS, STAT_VJP_CALLS,
    STAT_VJP_PRODUCTS, STAT_JVP_CALLS, STAT_JVP_PRODUCTS, STAT_SVDS, STAT_UNDO_RECOMPUTES,
    STAT_SECONDS_LIBRARY, STAT_SECONDS_CALLBACKS, STAT_COUNT
};
typedef struct call_stats { double v[STAT_COUNT]; } call_stats;

typedef struct call_ctx {
    const dss_model *model;         /* &snapshot (dssi_call_ctx_init) */
    /* The model's callbacks, user pointer and batch limit as the call began: a host that
       changes them from inside a callback (dss_model_set_jacobian(model, NULL), ...) changes the
       next call, never the one running, which decided its route from these. */
    dss_model snapshot;
    call_stats *stats;              /* NULL: not counted */
    dss_progress_fn progress;       /* NULL: never asked */
    void *progress_user;
    struct errmsg *err;             /* a failure's detail (which callback, its return), or NULL */
    struct dss_job *job;            /* non-NULL: ask this job (job.h) instead of calling the host */
} call_ctx;

/* A context for one library call on model: its snapshot, no statistics, progress or message
   (the caller sets those). cx must not be copied afterwards (cx->model points into it). */
void dssi_call_ctx_init(call_ctx *cx, const dss_model *model);

/* Monotonic seconds. */
double dssi_clock_seconds(void);

/* f on k points, split into calls of at most the model's max batch (outputs not checked). */
int dssi_call_f(call_ctx *cx, size_t k, const double *z, double *x);
/* Host Jacobian rows (rows == NULL: all m); DSS_ECALLBACK or DSS_ENONFINITE on failure. */
int dssi_call_jacobian(call_ctx *cx, const double *c, size_t nrows, const size_t *rows, double *out);
/* out (k x n) = U J; checked. */
int dssi_call_vjp(call_ctx *cx, const double *c, size_t k, const double *U, double *out);
/* out (k x m) = rows J v_i; checked. */
int dssi_call_jvp(call_ctx *cx, const double *c, size_t k, const double *V, double *out);
/* The score; checked. */
int dssi_call_g(call_ctx *cx, dss_score_fn g, void *user, size_t k, const double *x, double *score);
/* Ask the progress callback: DSS_ECANCELLED when it says stop. */
int dssi_call_progress(call_ctx *cx, int stage, size_t done, size_t total);

#endif
