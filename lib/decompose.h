/* Singular values and right-singular vectors of a row-major Jacobian block, never U. */
#ifndef DSS_DECOMPOSE_H
#define DSS_DECOMPOSE_H

#include <stddef.h>

#include "mem.h"

/* LAPACK workspace, queried once per shape and kept. */
typedef struct svd_work {
    size_t rows, cols;     /* shape the workspace was sized for; 0 = none */
    double *work;
    int lwork;
} svd_work;

/* J: rows x n, row-major, destroyed. On success s (min(rows, n) values, descending) and
   v (min(rows, n) x n, orthonormal rows: the right-singular vectors) are written.
   Returns DSS_OK, DSS_EINVAL (too large for LAPACK's int), DSS_ENOMEM or DSS_ELAPACK. */
int  svd_right(svd_work *w, const mem_allocator *a, size_t rows, size_t n, double *J,
               double *s, double *v);
void svd_work_free(svd_work *w, const mem_allocator *a);

#endif
