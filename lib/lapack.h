/* The Fortran LAPACK/BLAS routines libdss calls, declared once.
 *
 * Fortran is column-major: a row-major C matrix A (rows x cols) is, to LAPACK, the column-major
 * matrix A^T (cols x rows) with leading dimension cols. Every call site says which view it uses.
 * Integers are the LP64 Fortran INTEGER (int), LOGICAL is int too; sizes are checked against
 * INT_MAX before calls.
 */
#ifndef DSS_LAPACK_H
#define DSS_LAPACK_H

void dgesvd_(const char *jobu, const char *jobvt, const int *m, const int *n, double *a,
             const int *lda, double *s, double *u, const int *ldu, double *vt, const int *ldvt,
             double *work, const int *lwork, int *info);

void dgemm_(const char *transa, const char *transb, const int *m, const int *n, const int *k,
            const double *alpha, const double *a, const int *lda, const double *b,
            const int *ldb, const double *beta, double *c, const int *ldc);

void dsyrk_(const char *uplo, const char *trans, const int *n, const int *k, const double *alpha,
            const double *a, const int *lda, const double *beta, double *c, const int *ldc);

void dsytrd_(const char *uplo, const int *n, double *a, const int *lda, double *d, double *e,
             double *tau, double *work, const int *lwork, int *info);

void dsterf_(const int *n, double *d, double *e, int *info);

/* a is not const: the reference dorm2r writes 1 into each reflector's diagonal entry while it
   applies it, and restores it afterwards */
void dormtr_(const char *side, const char *uplo, const char *trans, const int *m, const int *n,
             double *a, const int *lda, const double *tau, double *c, const int *ldc,
             double *work, const int *lwork, int *info);

void dstemr_(const char *jobz, const char *range, const int *n, double *d, double *e,
             const double *vl, const double *vu, const int *il, const int *iu, int *m,
             double *w, double *z, const int *ldz, const int *nzc, int *isuppz, int *tryrac,
             double *work, const int *lwork, int *iwork, const int *liwork, int *info);

void dsyev_(const char *jobz, const char *uplo, const int *n, double *a, const int *lda,
            double *w, double *work, const int *lwork, int *info);

#endif
