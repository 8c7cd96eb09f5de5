/* Jacobian strategies behind one interface, dssi_jac_decompose: the singular values and right-singular
 * vectors of the generator's Jacobian at a point, from the host Jacobian (all rows or a random
 * subset of rows), finite differences of f, or a matrix-free randomized SVD (VJP, and JVP or
 * finite differences). Scratch buffers persist across calls (grown when a shape needs more,
 * never shrunk), so a steady-state update allocates nothing. */
#ifndef DSS_JACOBIAN_H
#define DSS_JACOBIAN_H

#include <stddef.h>

#include "calls.h"
#include "decompose.h"
#include "rng.h"

typedef struct jac_config {
    int mode;            /* DSS_JACOBIAN_*; AUTO is resolved here */
    size_t rows;         /* ROWS mode: rows requested */
    size_t chunk;        /* FULL/ROWS: rows per Jacobian callback, 0 = all at once */
    int diff_scheme;     /* DSS_DIFF_FORWARD or DSS_DIFF_CENTRAL */
    double diff_step;    /* 0: default */
    size_t rank;         /* RANDOMIZED: singular pairs kept */
    size_t oversample;   /* RANDOMIZED: extra probe directions */
    size_t power;        /* RANDOMIZED: power iterations */
} jac_config;

typedef struct jac_scratch {
    double *J;      size_t J_cap;      /* the Jacobian block, rows x n */
    size_t *rows;   size_t rows_cap;   /* row indices (ROWS mode, chunked FULL mode) */
    double *z;      size_t z_cap;      /* finite differences: points */
    double *x;      size_t x_cap;      /* finite differences: outputs */
    double *f0;     size_t f0_cap;     /* finite differences: f(c) */
    double *probe;  size_t probe_cap;  /* randomized: r x m probes, then J Q (r x m) */
    double *sketch; size_t sketch_cap; /* randomized: r x n sketch / orthonormal basis */
    double *small;  size_t small_cap;  /* randomized: r x r Gram matrix, eigenvalues, work */
} jac_scratch;

/* Decompose the Jacobian at c into dec. The RNG is used (ROWS and RANDOMIZED modes) and
   advanced. Returns DSS_OK or DSS_EUNSUPPORTED, DSS_ENOMEM, DSS_ECALLBACK, DSS_ENONFINITE,
   DSS_ELAPACK, DSS_ECANCELLED, DSS_EINVAL (a shape too large for LAPACK). */
int  dssi_jac_decompose(call_ctx *cx, const jac_config *cfg, const double *c, rng *r,
                   jac_scratch *s, svd_work *w, const mem_allocator *a, svd_dec *dec);
void dssi_jac_scratch_free(jac_scratch *s, const mem_allocator *a);

/* The mode that runs for `mode` on this model: AUTO resolved (FULL with a Jacobian callback,
   else RANDOMIZED with a VJP, else FINITE_DIFF), any other mode itself. */
int    dssi_jac_route(const dss_model *model, int mode);
/* Make dec (an unused decomposition) able to hold what this mode's route computes: the
   buffers a route needs are allocated when it first runs, not up front. */
int    dssi_jac_dec_reserve(const dss_model *model, const jac_config *cfg, svd_dec *dec,
                       const mem_allocator *a);
/* The most bytes this mode's route holds for one decomposition: its scratch buffers and LAPACK
   workspace (dssi_jac_scratch_bytes), and one decomposition slot (dssi_jac_dec_bytes). */
size_t dssi_jac_scratch_bytes(const dss_model *model, const jac_config *cfg);
size_t dssi_jac_dec_bytes(const dss_model *model, const jac_config *cfg);
/* DSS_EUNSUPPORTED when the mode cannot run on this model, else DSS_OK. */
int    dssi_jac_check(const dss_model *model, const jac_config *cfg);
/* Which callback the mode lacks on this model, as a sentence (after dssi_jac_check failed). */
const char *dssi_jac_missing(const dss_model *model, const jac_config *cfg);
/* The number of singular values a decomposition of this mode's Jacobian holds. */
size_t dssi_jac_rank(const dss_model *model, const jac_config *cfg);

/* ---- shared with randomized.c --------------------------------------------------------- */

/* Bytes of jac_scratch the randomized route holds at most (dss_search_estimate_bytes). */
size_t dssi_rsvd_scratch_bytes(const dss_model *model, const jac_config *cfg);

/* Randomized SVD: the top cfg->rank singular pairs. Same returns as dssi_jac_decompose. */
int  dssi_rsvd_decompose(call_ctx *cx, const jac_config *cfg, const double *c, rng *r,
                    jac_scratch *s, const mem_allocator *a, svd_dec *dec);

/* FULL and ROWS without DSS_SEARCH_JACOBIAN_CHUNK, when a progress callback is set: blocks of
   at least JAC_SPLIT_ROWS rows are requested in JAC_SPLIT_PIECES pieces. */
#define JAC_SPLIT_ROWS 1024
#define JAC_SPLIT_PIECES 4

#endif
