/* Orthonormal rows by modified Gram-Schmidt, applied twice ("twice is enough"). */
#ifndef DSS_ORTHO_H
#define DSS_ORTHO_H

#include <stddef.h>

#include "rng.h"

/* Orthonormalise the rows of Y (rows x n, rows <= n) in order. A row that (numerically) lies in
   the span of the previous ones is replaced by a Gaussian direction from r, so the result
   always has `rows` orthonormal rows. */
void dssi_ortho_rows(rng *r, double *Y, size_t rows, size_t n);

#endif
