/* dss_synthetic: the authors' synthetic problem (paper sections 4.2-4.5) as a ready model.
 *
 * Generation order from the seed (one xoshiro256** stream), so that the problem is the same on
 * every platform: the n x n uniform matrix whose QR gives Q (row-major, element by element);
 * then for each output d: alpha_d, then D_d's n entries; then the shift s; then the initial
 * point's draws (Gaussian n x 6 matrices until accepted, then the uniform point u). Q comes from
 * libdss's own Gram-Schmidt, not LAPACK, for the same reason. Evaluating f and the Jacobian uses
 * BLAS (dgemm), whose last bits may differ between BLAS builds.
 */
#include <float.h>
#include <math.h>
#include <string.h>

#include "lapack.h"
#include "model.h"
#include "rng.h"

#define SYN_PI 3.14159265358979323846
#define SHIFT_HALF_WIDTH 1.25       /* s uniform in [-1.25, 1.25]^n */
#define INIT_DIM 6                  /* the initial point lies in a random 6-D subspace */
#define INIT_ATTEMPTS 1000          /* redraws of that subspace before accepting the last one */

struct dss_synthetic {
    dss_model *model;
    mem_allocator alloc;
    size_t n, m;
    int variant;        /* DSS_SYNTHETIC_JACOBIAN_* */
    double *Q;          /* n x n orthogonal, row-major */
    double *D;          /* m x n diagonals of D_d */
    double *a;          /* m coefficients gamma * alpha_d^2 */
    double *shift;      /* n: the optimum s */
    double *z0;         /* n: the authors' initial point */
};

/* ---- small dense helpers (own arithmetic: reproducible) -------------------------------- */

/* Orthonormalise the columns of the row-major rows x cols matrix A in place by modified
   Gram-Schmidt applied twice; R (cols x cols, upper, row-major) receives the factor of the
   first pass combined with the second, so A_in = Q R. Returns 0, or -1 on a rank deficiency. */
static int gram_schmidt(double *A, size_t rows, size_t cols, double *R)
{
    memset(R, 0, cols * cols * sizeof *R);
    for (size_t j = 0; j < cols; j++) {
        double norm = 0.0;
        for (int pass = 0; pass < 2; pass++) {
            for (size_t k = 0; k < j; k++) {
                double dot = 0.0;
                for (size_t i = 0; i < rows; i++)
                    dot += A[i * cols + k] * A[i * cols + j];
                for (size_t i = 0; i < rows; i++)
                    A[i * cols + j] -= dot * A[i * cols + k];
                R[k * cols + j] += dot;
            }
        }
        for (size_t i = 0; i < rows; i++)
            norm += A[i * cols + j] * A[i * cols + j];
        norm = sqrt(norm);
        if (!(norm > 0.0))
            return -1;
        for (size_t i = 0; i < rows; i++)
            A[i * cols + j] /= norm;
        R[j * cols + j] = norm;
    }
    return 0;
}

/* Row-major C (M x N) = A (M x K) * op(B), op(B) = B (K x N) or, with transb, B^T for a
   row-major N x K matrix B. To column-major BLAS this is C^T = op(B)^T A^T, and every row-major
   matrix already is its own transpose in column-major, so only the operand order swaps. */
static void gemm_rowmajor(int transb, size_t M, size_t N, size_t K, const double *A,
                          const double *B, double *C)
{
    const int m = (int)N, n = (int)M, k = (int)K;
    const int ldb = transb ? (int)K : (int)N, lda = (int)K, ldc = (int)N;
    const double one = 1.0, zero = 0.0;
    dgemm_(transb ? "T" : "N", "N", &m, &n, &k, &one, B, &ldb, A, &lda, &zero, C, &ldc);
}

/* ---- the initial point ----------------------------------------------------------------- */

/* z0 = A pinv(A) u: the projection of a uniform point u of the box onto the column space of a
   Gaussian n x 6 matrix A, redrawn until pinv(A) s (the 6-D preimage of the optimum) lies in
   the box. For n <= 6 the column space is all of R^n and z0 = u. */
static int initial_point(struct dss_synthetic *p, rng *r)
{
    const size_t n = p->n, k = INIT_DIM;
    double *A = NULL, R[INIT_DIM * INIT_DIM], y[INIT_DIM], u_coef[INIT_DIM];
    int rc = DSS_ENOMEM;

    if (n <= k) {
        for (size_t j = 0; j < n; j++)
            p->z0[j] = DSS_SYNTHETIC_BOX * (2.0 * dssi_rng_uniform(r) - 1.0);
        return DSS_OK;
    }
    A = dssi_mem_array(&p->alloc, n * k, sizeof *A);
    if (A == NULL)
        return rc;
    for (int attempt = 0; attempt < INIT_ATTEMPTS; attempt++) {
        int inside = 1;
        for (size_t i = 0; i < n * k; i++)
            A[i] = dssi_rng_gaussian(r);
        if (gram_schmidt(A, n, k, R) != 0)
            continue;
        /* y = R^{-1} Q^T s by back substitution */
        for (size_t j = 0; j < k; j++) {
            y[j] = 0.0;
            for (size_t i = 0; i < n; i++)
                y[j] += A[i * k + j] * p->shift[i];
        }
        for (size_t j = k; j-- > 0;) {
            for (size_t l = j + 1; l < k; l++)
                y[j] -= R[j * k + l] * y[l];
            y[j] /= R[j * k + j];
            inside = inside && fabs(y[j]) <= DSS_SYNTHETIC_BOX;
        }
        if (inside)
            break;
    }
    /* z0 = Q Q^T u */
    for (size_t i = 0; i < n; i++)
        p->z0[i] = DSS_SYNTHETIC_BOX * (2.0 * dssi_rng_uniform(r) - 1.0);
    for (size_t j = 0; j < k; j++) {
        u_coef[j] = 0.0;
        for (size_t i = 0; i < n; i++)
            u_coef[j] += A[i * k + j] * p->z0[i];
    }
    for (size_t i = 0; i < n; i++) {
        p->z0[i] = 0.0;
        for (size_t j = 0; j < k; j++)
            p->z0[i] += A[i * k + j] * u_coef[j];
    }
    rc = DSS_OK;
    dssi_mem_free(&p->alloc, A);
    return rc;
}

/* ---- the generator and its Jacobian ---------------------------------------------------- */

/* Y (k x n) = (Z - s) Q^T, i.e. y_i = Q (z_i - s). */
static void rotate(const struct dss_synthetic *p, size_t k, const double *z, double *Y)
{
    const size_t n = p->n;
    for (size_t i = 0; i < k; i++)
        for (size_t j = 0; j < n; j++)
            Y[k * n + i * n + j] = z[i * n + j] - p->shift[j];
    gemm_rowmajor(1, k, n, n, Y + k * n, p->Q, Y);
}

/* f_d(z) = sqrt(sum_j D_dj y_j^2) for all k points: F = sqrt((Y o Y) D^T), one dgemm. */
static int synthetic_f(void *user, size_t k, const double *z, double *x)
{
    const struct dss_synthetic *p = user;
    const size_t n = p->n, m = p->m;
    double *Y = dssi_mem_array(&p->alloc, 2 * k, n * sizeof *Y);
    if (Y == NULL)
        return -1;
    rotate(p, k, z, Y);
    for (size_t i = 0; i < k * n; i++)
        Y[k * n + i] = Y[i] * Y[i];
    gemm_rowmajor(1, k, m, n, Y + k * n, p->D, x);
    for (size_t i = 0; i < k * m; i++)
        x[i] = sqrt(fmax(x[i], 0.0));
    dssi_mem_free(&p->alloc, Y);
    return 0;
}

/* Row d of A_d (z - s) is (D_d o y)^T Q with y = Q (z - s): W = D_rows o y, J = W Q (dgemm).
   True derivative: divide by f_d (0 where f_d = 0); authors' variant: times 2. */
static int synthetic_jacobian(void *user, const double *z, size_t nrows, const size_t *rows,
                              double *out)
{
    const struct dss_synthetic *p = user;
    const size_t n = p->n;
    double *Y = dssi_mem_array(&p->alloc, 2 + nrows, n * sizeof *Y);
    double *W;
    if (Y == NULL)
        return -1;
    W = Y + 2 * n;
    rotate(p, 1, z, Y);
    for (size_t r = 0; r < nrows; r++) {
        const double *Dd = p->D + (rows != NULL ? rows[r] : r) * n;
        for (size_t j = 0; j < n; j++)
            W[r * n + j] = Dd[j] * Y[j];
    }
    gemm_rowmajor(0, nrows, n, n, W, p->Q, out);
    for (size_t r = 0; r < nrows; r++) {
        double scale = 2.0;
        if (p->variant == DSS_SYNTHETIC_JACOBIAN_TRUE) {
            double fd = 0.0;
            for (size_t j = 0; j < n; j++)
                fd += W[r * n + j] * Y[j];
            fd = sqrt(fmax(fd, 0.0));
            scale = fd > 0.0 ? 1.0 / fd : 0.0;
        }
        for (size_t j = 0; j < n; j++)
            out[r * n + j] *= scale;
    }
    dssi_mem_free(&p->alloc, Y);
    return 0;
}

/* ---- public API ------------------------------------------------------------------------ */

DSS_API void dss_synthetic_destroy(dss_synthetic *problem)
{
    mem_allocator a;
    if (problem == NULL)
        return;
    a = problem->alloc;
    dss_model_destroy(problem->model);
    dssi_mem_free(&a, problem->Q);
    dssi_mem_free(&a, problem->D);
    dssi_mem_free(&a, problem->a);
    dssi_mem_free(&a, problem->shift);
    dssi_mem_free(&a, problem->z0);
    dssi_mem_free(&a, problem);
}

static int generate(struct dss_synthetic *p, double gamma, unsigned long long seed)
{
    const size_t n = p->n, m = p->m;
    double *R = dssi_mem_array(&p->alloc, n * n, sizeof *R);
    rng r;
    int rc;

    if (R == NULL)
        return DSS_ENOMEM;
    dssi_rng_seed(&r, seed);
    do {
        for (size_t i = 0; i < n * n; i++)
            p->Q[i] = dssi_rng_uniform(&r);
    } while (gram_schmidt(p->Q, n, n, R) != 0); /* singular with probability zero */
    dssi_mem_free(&p->alloc, R);
    for (size_t d = 0; d < m; d++) {
        double alpha = 0.01 + (10.0 - 0.01) * dssi_rng_uniform(&r);
        p->a[d] = gamma * alpha * alpha;
        for (size_t j = 0; j < n; j++)
            p->D[d * n + j] = alpha * (0.01 + 0.99 * dssi_rng_uniform(&r));
    }
    for (size_t j = 0; j < n; j++)
        p->shift[j] = SHIFT_HALF_WIDTH * (2.0 * dssi_rng_uniform(&r) - 1.0);
    rc = initial_point(p, &r);
    return rc;
}

DSS_API int dss_synthetic_create(dss_synthetic **out, size_t n, size_t m, double gamma,
                                 unsigned long long seed)
{
    struct dss_synthetic *p;
    int rc;

    if (out != NULL)
        *out = NULL;
    /* a_d <= 100 gamma and g sums 2 m such terms: 400 m gamma <= DBL_MAX leaves the other half
       of the range to the outputs' squares, so that no gamma gives an infinite score */
    if (out == NULL || n == 0 || m == 0 || !isfinite(gamma) || gamma < 0.0
        || gamma > DBL_MAX / (400.0 * (double)m) || n > 0x7fffffff || m > 0x7fffffff)
        return DSS_EINVAL;
    p = dssi_mem_alloc(&dssi_mem_default, sizeof *p);
    if (p == NULL)
        return DSS_ENOMEM;
    *p = (struct dss_synthetic){ .alloc = dssi_mem_default, .n = n, .m = m,
                                 .variant = DSS_SYNTHETIC_JACOBIAN_TRUE };
    rc = dss_model_create(&p->model, n, m, synthetic_f, p);
    if (rc == DSS_OK) {
        p->Q = dssi_mem_array(&p->alloc, n * n, sizeof(double));
        p->D = dssi_mem_array(&p->alloc, m * n, sizeof(double));
        p->a = dssi_mem_array(&p->alloc, m, sizeof(double));
        p->shift = dssi_mem_array(&p->alloc, n, sizeof(double));
        p->z0 = dssi_mem_array(&p->alloc, n, sizeof(double));
        rc = p->Q && p->D && p->a && p->shift && p->z0 ? DSS_OK : DSS_ENOMEM;
    }
    if (rc == DSS_OK)
        rc = dss_model_set_jacobian(p->model, synthetic_jacobian);
    if (rc == DSS_OK)
        rc = generate(p, gamma, seed);
    if (rc != DSS_OK) {
        dss_synthetic_destroy(p);
        return rc;
    }
    *out = p;
    return DSS_OK;
}

DSS_API const dss_model *dss_synthetic_model(const dss_synthetic *problem)
{
    return problem != NULL ? problem->model : NULL;
}

DSS_API int dss_synthetic_set_jacobian(dss_synthetic *problem, int variant)
{
    if (problem == NULL
        || (variant != DSS_SYNTHETIC_JACOBIAN_TRUE && variant != DSS_SYNTHETIC_JACOBIAN_AUTHORS))
        return DSS_EINVAL;
    problem->variant = variant;
    return DSS_OK;
}

/* g(x) = -sum_d a_d - sum_d (x_d^2 - a_d cos(2 pi x_d)): 0 at x = 0, negative elsewhere. */
DSS_API int dss_synthetic_score(void *problem, size_t k, const double *x, double *score)
{
    const struct dss_synthetic *p = problem;
    if (p == NULL || x == NULL || score == NULL || k == 0)
        return DSS_EINVAL;
    for (size_t i = 0; i < k; i++) {
        const double *xi = x + i * p->m;
        double g = 0.0;
        for (size_t d = 0; d < p->m; d++)
            g -= p->a[d] + xi[d] * xi[d] - p->a[d] * cos(2.0 * SYN_PI * xi[d]);
        score[i] = g;
    }
    return DSS_OK;
}

DSS_API int dss_synthetic_initial_point(const dss_synthetic *problem, double *z0)
{
    if (problem == NULL || z0 == NULL)
        return DSS_EINVAL;
    memcpy(z0, problem->z0, problem->n * sizeof *z0);
    return DSS_OK;
}

DSS_API int dss_synthetic_optimum(const dss_synthetic *problem, double *z_star)
{
    if (problem == NULL || z_star == NULL)
        return DSS_EINVAL;
    memcpy(z_star, problem->shift, problem->n * sizeof *z_star);
    return DSS_OK;
}
