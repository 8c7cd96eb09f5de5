/* Finite differences of the generator (fdiff.c), for jacobian.c and randomized.c. */
#ifndef DSS_FDIFF_H
#define DSS_FDIFF_H

#include <stddef.h>

#include "jacobian.h"

/* Largest number of doubles finite differences hold for one batch's points and outputs
   (chunking bound: 32 MB). */
#define JAC_FD_MAX_DOUBLES ((size_t)1 << 22)

/* Points per f call of the FINITE_DIFF route for this model and configuration. */
size_t dssi_fd_chunk(const dss_model *model, const jac_config *cfg);

/* The whole Jacobian (m x n) into s->J: n + 1 points (forward) or 2n (central), in batches of
   dssi_fd_chunk, the progress callback asked after each. DSS_OK, DSS_ENOMEM, DSS_ECALLBACK,
   DSS_ENONFINITE or DSS_ECANCELLED. */
int dssi_fd_jacobian(call_ctx *cx, const jac_config *cfg, const double *c, jac_scratch *s,
                     const mem_allocator *a);

/* Forward differences of f at c along the count unit rows of dirs (count x n): out (count x m)
   holds J d_i, from count + 1 batched evaluations of f. */
int dssi_fd_directional(call_ctx *cx, const jac_config *cfg, const double *c,
                        const double *dirs, size_t count, jac_scratch *s,
                        const mem_allocator *a, double *out);

#endif
