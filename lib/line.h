/* The line-search handle, shared by line.c and the parameter table (params.c). */
#ifndef DSS_LINE_H
#define DSS_LINE_H

#include <dss/dss.h>

#include "calls.h"
#include "errmsg.h"
#include "mem.h"

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
    double *dir;    size_t dir_cap;    /* n: the segment's direction hi - lo */
    size_t grid;            /* gallery points per axis (DSS_LINE_GRID) */
    double *w;      size_t w_cap;      /* gallery: batch x l weights */
    double *frame;  size_t frame_cap;  /* gallery: centre (n), basis (l x n), best, probe and
                                          current w (l each) */
    double *grid_s; size_t grid_s_cap; /* gallery, DSS_LINE_REFINE = 2: every grid score */
    dss_progress_fn progress;
    void *progress_user;
    int busy;               /* a find_optimal is under way: calls changing the line fail */
    struct dss_job *job;    /* the open job driving this line's find_optimal, or NULL */
    errmsg err;             /* dss_line_errmsg */
};

/* Brent's method (line.c) on [a, b] from x0 (score f0 known) for the goal DSS_MAXIMIZE or
   DSS_MINIMIZE; every point is scored by probe(ctx, u, &score), which keeps the best. Asks the
   progress callback of cx (DSS_STAGE_LINE_REFINE, ++*steps of total) after each point. At most
   DSSI_REFINE_ITERS points. */
#define DSSI_REFINE_ITERS 100
typedef int (*dssi_probe_fn)(void *ctx, double u, double *score);
int dssi_line_brent(int goal, double a, double b, double x0, double f0, dssi_probe_fn probe,
                    void *ctx, call_ctx *cx, size_t *steps, size_t total);

#endif
