/* The Fortran LAPACK/BLAS routines libdss calls, declared once.
 *
 * Fortran is column-major: a row-major C matrix A (rows x cols) is, to LAPACK, the column-major
 * matrix A^T (cols x rows) with leading dimension cols. Every call site says which view it uses.
 * Integers are the LP64 Fortran INTEGER (int); sizes are checked against INT_MAX before calls.
 */
#ifndef DSS_LAPACK_H
#define DSS_LAPACK_H

void dgesvd_(const char *jobu, const char *jobvt, const int *m, const int *n, double *a,
             const int *lda, double *s, double *u, const int *ldu, double *vt, const int *ldvt,
             double *work, const int *lwork, int *info);

void dgemm_(const char *transa, const char *transb, const int *m, const int *n, const int *k,
            const double *alpha, const double *a, const int *lda, const double *b,
            const int *ldb, const double *beta, double *c, const int *ldc);

#endif
