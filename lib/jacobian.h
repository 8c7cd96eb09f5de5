/* Jacobian strategies behind one interface: host Jacobian (all rows or a random subset of rows)
 * and finite differences of f. Each fills a row-major block J (rows x n) in scratch buffers that
 * persist across calls (grown when a shape needs more, never shrunk). */
#ifndef DSS_JACOBIAN_H
#define DSS_JACOBIAN_H

#include <stddef.h>

#include "model.h"
#include "rng.h"

typedef struct jac_config {
    int mode;            /* DSS_JACOBIAN_*; AUTO is resolved by jac_compute */
    size_t rows;         /* ROWS mode: rows requested */
    int diff_scheme;     /* DSS_DIFF_FORWARD or DSS_DIFF_CENTRAL */
    double diff_step;    /* 0: default */
} jac_config;

typedef struct jac_scratch {
    double *J;      size_t J_cap;     /* doubles */
    size_t *rows;   size_t rows_cap;  /* row indices (ROWS mode) */
    double *z;      size_t z_cap;     /* finite differences: points */
    double *x;      size_t x_cap;     /* finite differences: outputs */
    double *f0;     size_t f0_cap;    /* finite differences: f(c) */
} jac_scratch;

/* Compute the Jacobian of the model at c into s->J; *nrows receives its row count.
   The RNG is used (ROWS mode only) and advanced. Returns DSS_OK or DSS_EUNSUPPORTED, DSS_ENOMEM,
   DSS_ECALLBACK, DSS_ENONFINITE. */
int  jac_compute(const dss_model *model, const jac_config *cfg, const double *c, rng *r,
                 jac_scratch *s, const mem_allocator *a, size_t *nrows);
void jac_scratch_free(jac_scratch *s, const mem_allocator *a);

/* Largest number of doubles finite differences hold for outputs at once (chunking bound). */
#define JAC_FD_MAX_DOUBLES ((size_t)1 << 22)

/* DSS_EUNSUPPORTED when the mode cannot run on this model, else DSS_OK. */
int    jac_check(const dss_model *model, const jac_config *cfg);
/* The number of singular values a decomposition of this mode's Jacobian holds. */
size_t jac_rank(const dss_model *model, const jac_config *cfg);

#endif
