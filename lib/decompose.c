/* SVD of the Jacobian through LAPACK dgesvd, computing only S and V. */
#include <limits.h>
#include <math.h>

#include <dss/dss.h>

#include "decompose.h"
#include "lapack.h"

/*
 * The row-major J (rows x n) is, to LAPACK, the column-major A = J^T (n x rows, lda = n).
 * A = J^T = V S U^T, so the LEFT singular vectors of A are the right-singular vectors V of J.
 * dgesvd with JOBU = 'S' writes the first min(n, rows) columns of them, column-major with
 * ldu = n: column j is v_j, contiguous, which is exactly the row-major (k x n) block we want.
 * JOBVT = 'N' skips U of J (rows x rows), which the reference implementation wastes time on.
 */
static int ensure_work(svd_work *w, const mem_allocator *a, int M, int N)
{
    int lwork = -1, info = 0, ldu = M;
    double query = 0.0, dummy = 0.0;
    double *work;

    if (w->work != NULL && w->rows == (size_t)N && w->cols == (size_t)M)
        return DSS_OK;
    dgesvd_("S", "N", &M, &N, &dummy, &M, &dummy, &dummy, &ldu, &dummy, &ldu,
            &query, &lwork, &info);
    if (info != 0 || !(query >= 1.0) || query > (double)INT_MAX)
        return DSS_ELAPACK;
    lwork = (int)query;
    work = mem_array(a, (size_t)lwork, sizeof(double));
    if (work == NULL)
        return DSS_ENOMEM;
    mem_free(a, w->work);
    w->work = work;
    w->lwork = lwork;
    w->rows = (size_t)N;
    w->cols = (size_t)M;
    return DSS_OK;
}

int svd_right(svd_work *w, const mem_allocator *a, size_t rows, size_t n, double *J,
              double *s, double *v)
{
    int M, N, info = 0, rc;
    double dummy = 0.0;
    int ldvt = 1;

    if (rows == 0 || n == 0 || rows > INT_MAX || n > INT_MAX)
        return DSS_EINVAL;
    M = (int)n;
    N = (int)rows;
    rc = ensure_work(w, a, M, N);
    if (rc != DSS_OK)
        return rc;
    dgesvd_("S", "N", &M, &N, J, &M, s, v, &M, &dummy, &ldvt, w->work, &w->lwork, &info);
    if (info != 0)
        return DSS_ELAPACK;
    return DSS_OK;
}

void svd_work_free(svd_work *w, const mem_allocator *a)
{
    mem_free(a, w->work);
    *w = (svd_work){ 0 };
}
