/* The line-search handle, shared by line.c and the parameter table (params.c). */
#ifndef DSS_LINE_H
#define DSS_LINE_H

#include <dss/dss.h>

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
    dss_progress_fn progress;
    void *progress_user;
    int busy;               /* a find_optimal is under way: calls changing the line fail */
    struct dss_job *job;    /* the open job driving this line's find_optimal, or NULL */
    errmsg err;             /* dss_line_errmsg */
};

#endif
