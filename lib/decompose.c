/* Singular values and right-singular vectors of the Jacobian, computing only S and V. */
#include <limits.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include <dss/dss.h>

#include "decompose.h"
#include "lapack.h"

#define SYRK_BLOCK ((size_t)1 << 30) /* rows per dsyrk call: its K is a Fortran int */

/* ---- buffers ---------------------------------------------------------------------------- */

void dssi_svd_dec_init(svd_dec *dec, size_t n)
{
    *dec = (svd_dec){ .n = n };
}

size_t dssi_svd_dec_bytes(size_t n, size_t rank, int gram)
{
    const size_t d = sizeof(double);
    size_t bytes = dssi_sat_add(dssi_sat_mul(rank, 2 * d + 1),
                                dssi_sat_mul(dssi_sat_mul(rank, n), d));
    if (gram)
        bytes = dssi_sat_add(bytes, dssi_sat_mul(dssi_sat_add(dssi_sat_mul(n, n),
                                                              dssi_sat_mul(3, n)), d));
    return bytes;
}

int dssi_svd_dec_reserve(svd_dec *dec, const mem_allocator *a, size_t rank, int gram)
{
    const size_t n = dec->n;
    if (dec->rank_cap < rank) {
        double *s = dssi_mem_array(a, rank, sizeof(double));
        double *v = dssi_mem_array(a, rank * n, sizeof(double));
        unsigned char *have = dssi_mem_zeros(a, rank, 1);
        if (!s || !v || !have) {
            dssi_mem_free(a, s);
            dssi_mem_free(a, v);
            dssi_mem_free(a, have);
            return DSS_ENOMEM;
        }
        dssi_mem_free(a, dec->s);
        dssi_mem_free(a, dec->v);
        dssi_mem_free(a, dec->have);
        dec->s = s;
        dec->v = v;
        dec->have = have;
        dec->rank_cap = rank;
    }
    if (gram && !dec->gram_ready) {
        /* zeroed: dsyrk and dsytrd fill only G's lower triangle and n - 1 entries of tau and
           e (svd_gram zeroes the rest after each use too), and a saved session must not carry
           uninitialised bytes */
        double *G = dssi_mem_zeros(a, n * n, sizeof(double));
        double *tau = dssi_mem_zeros(a, n, sizeof(double));
        double *d = dssi_mem_zeros(a, n, sizeof(double));
        double *e = dssi_mem_zeros(a, n, sizeof(double));
        if (!G || !tau || !d || !e) {
            dssi_mem_free(a, G);
            dssi_mem_free(a, tau);
            dssi_mem_free(a, d);
            dssi_mem_free(a, e);
            return DSS_ENOMEM;
        }
        dec->G = G;
        dec->tau = tau;
        dec->d = d;
        dec->e = e;
        dec->gram_ready = 1;
    }
    return DSS_OK;
}

void dssi_svd_dec_free(svd_dec *dec, const mem_allocator *a)
{
    dssi_mem_free(a, dec->s);
    dssi_mem_free(a, dec->v);
    dssi_mem_free(a, dec->have);
    dssi_mem_free(a, dec->G);
    dssi_mem_free(a, dec->tau);
    dssi_mem_free(a, dec->d);
    dssi_mem_free(a, dec->e);
    *dec = (svd_dec){ .n = dec->n };
}

void dssi_svd_work_free(svd_work *w, const mem_allocator *a)
{
    dssi_mem_free(a, w->work);
    dssi_mem_free(a, w->iwork);
    dssi_mem_free(a, w->dcopy);
    dssi_mem_free(a, w->ecopy);
    dssi_mem_free(a, w->eig);
    dssi_mem_free(a, w->z);
    dssi_mem_free(a, w->isuppz);
    *w = (svd_work){ 0 };
}

/* ---- the wide route: dgesvd ------------------------------------------------------------- */

/*
 * The row-major J (rows x n) is, to LAPACK, the column-major A = J^T (n x rows, lda = n).
 * A = J^T = V S U^T, so the LEFT singular vectors of A are the right-singular vectors V of J.
 * dgesvd with JOBU = 'S' writes the first min(n, rows) of them, column-major with ldu = n:
 * column j is v_j, contiguous, which is exactly the row-major (k x n) block we want.
 * JOBVT = 'N' skips U of J (rows x rows), which the reference implementation wastes time on.
 */
static int svd_wide(svd_work *w, const mem_allocator *a, size_t rows, size_t n, double *J,
                    svd_dec *dec)
{
    int M = (int)n, N = (int)rows, info = 0, ldvt = 1, rc;
    double dummy = 0.0;

    if (w->rows != rows || w->n != n) {
        int query_lwork = -1;
        double query = 0.0;
        dgesvd_("S", "N", &M, &N, &dummy, &M, &dummy, &dummy, &M, &dummy, &ldvt, &query,
                &query_lwork, &info);
        if (info != 0 || !(query >= 1.0) || query > (double)INT_MAX)
            return DSS_ELAPACK;
        if ((rc = MEM_GROW(a, w, work, (size_t)query)) != DSS_OK)
            return rc;
        w->lwork_svd = (int)query;
        w->rows = rows;
        w->n = n;
    }
    dgesvd_("S", "N", &M, &N, J, &M, dec->s, dec->v, &M, &dummy, &ldvt, w->work, &w->lwork_svd,
            &info);
    if (info != 0)
        return DSS_ELAPACK;
    if (!isfinite(dec->s[0]))
        return DSS_ENONFINITE; /* s_1 > DBL_MAX: every entry finite, their norm is not */
    dec->rank = rows < n ? rows : n;
    dec->lazy = 0;
    memset(dec->have, 1, dec->rank);
    return DSS_OK;
}

/* ---- the Gram route: dsyrk, dsytrd, dsterf; vectors by dstemr + reflectors on demand ---- */

/* Workspace for everything the Gram route and its lazy vectors need, so that dssi_svd_vector never
   allocates: dsytrd's optimal lwork, dstemr's 18n doubles and 10n ints, room for the vectors of
   a cluster as large as the whole spectrum and dormtr's optimal lwork for them. */
static int reserve_gram(svd_work *w, const mem_allocator *a, size_t n)
{
    int N = (int)n, info = 0, query_lwork = -1, rc;
    double query = 0.0, query_ormtr = 0.0, dummy = 0.0;
    size_t lwork;

    if (w->trd_n != n) {
        dsytrd_("L", &N, &dummy, &N, &dummy, &dummy, &dummy, &query, &query_lwork, &info);
        if (info != 0 || query > (double)INT_MAX)
            return DSS_ELAPACK;
        dormtr_("L", "L", "N", &N, &N, &dummy, &N, &dummy, &dummy, &N, &query_ormtr,
                &query_lwork, &info);
        if (info != 0 || query_ormtr > (double)INT_MAX)
            return DSS_ELAPACK;
        lwork = (size_t)fmax(query, query_ormtr);
        if (lwork < 18 * n)
            lwork = 18 * n;
        if (lwork > INT_MAX)
            return DSS_EINVAL;
        if ((rc = MEM_GROW(a, w, work, lwork)) != DSS_OK || (rc = MEM_GROW(a, w, iwork, 10 * n)) != DSS_OK)
            return rc;
        w->lwork_trd = (int)lwork;
        w->trd_n = n;
    }
    if ((rc = MEM_GROW(a, w, dcopy, n)) != DSS_OK || (rc = MEM_GROW(a, w, ecopy, n)) != DSS_OK
        || (rc = MEM_GROW(a, w, eig, n)) != DSS_OK || (rc = MEM_GROW(a, w, z, n * n)) != DSS_OK
        || (rc = MEM_GROW(a, w, isuppz, 2 * n)) != DSS_OK)
        return rc;
    return DSS_OK;
}

/*
 * Scaling. J^T J squares J's range: entries below about 1e-154 underflow in G (all singular
 * values came out 0) and entries above about 1e154 overflow. Like LAPACK's drivers (dgesvd's
 * anrm tests), J is scaled by a power of two (exact) when its largest entry leaves
 * [2^-GRAM_SAFE_EXP, 2^GRAM_SAFE_EXP], so that this route covers dgesvd's range. The kept
 * tridiagonal form T (d, e) is stored for the singular values divided by 2^k, where
 * k = gram_exponent(s_1) depends on s_1 alone: a loaded decomposition finds the same k, and
 * k = 0 for every Jacobian whose s_1 is in [2^-GRAM_SAFE_EXP, 2^GRAM_SAFE_EXP], which keeps
 * those decompositions (and saved strings) bit-identical to unscaled ones.
 */
#define GRAM_SAFE_EXP 400

static int outside_safe_range(double x)
{
    return x != 0.0 && (x < ldexp(1.0, -GRAM_SAFE_EXP) || x > ldexp(1.0, GRAM_SAFE_EXP));
}

static int gram_exponent(double s1)
{
    int e = 0;
    if (!outside_safe_range(s1))
        return 0;
    frexp(s1, &e);
    return e;
}

/* s_i / 2^k with k = gram_exponent(s_1): the scale T's eigenvalues are the squares of. */
static double scaled_s(const svd_dec *dec, size_t i)
{
    return ldexp(dec->s[i], -gram_exponent(dec->s[0]));
}

/* Scale J (count doubles) by 2^-j so that its largest entry is near 1 when it is outside the
   safe range; returns j (0: J untouched). */
static int scale_block(double *J, size_t count)
{
    double amax = 0.0;
    int j = 0;
    for (size_t i = 0; i < count; i++)
        amax = fmax(amax, fabs(J[i]));
    if (!outside_safe_range(amax))
        return 0;
    frexp(amax, &j);
    for (size_t i = 0; i < count; i++)
        J[i] = ldexp(J[i], -j);
    return j;
}

/*
 * G = J^T J: the row-major J (rows x n) is the column-major A = J^T (n x rows, lda = n), and
 * dsyrk('L', 'N') forms A A^T = J^T J in G's lower triangle (column-major, n x n). dsytrd('L')
 * reduces it to T = Q^T G Q, keeping Q as reflectors in G and tau. The eigenvalues of T
 * (ascending, from dsterf on copies of d and e) are the squared singular values.
 *
 * Accuracy: eigenvalues carry an absolute error of order eps * s_1^2, so s_i has an error of
 * order eps * s_1^2 / s_i: relative to s_1 that is below 1e-10 for s_i >= 1e-5 s_1, while
 * singular values below about sqrt(eps) s_1 ~ 1.5e-8 s_1 are not resolved (they come out as
 * rounding noise of that size, or 0). Their vectors still span the near-null space.
 */
static int svd_gram(svd_work *w, const mem_allocator *a, size_t rows, size_t n, double *J,
                    svd_dec *dec)
{
    int N = (int)n, K, info = 0, rc, jexp, k;
    const double one = 1.0, zero = 0.0;

    if ((rc = reserve_gram(w, a, n)) != DSS_OK)
        return rc;
    jexp = scale_block(J, rows * n);
    /* K is an int: accumulate very tall Jacobians in blocks of rows */
    for (size_t first = 0; first < rows; first += SYRK_BLOCK) {
        size_t count = rows - first < SYRK_BLOCK ? rows - first : SYRK_BLOCK;
        K = (int)count;
        dsyrk_("L", "N", &N, &K, &one, J + first * n, &N, first ? &one : &zero, dec->G, &N);
    }
    dsytrd_("L", &N, dec->G, &N, dec->d, dec->e, dec->tau, w->work, &w->lwork_trd, &info);
    if (info != 0)
        return DSS_ELAPACK;
    /* what LAPACK leaves untouched is zeroed, so that the decomposition (which persist.c
       saves whole) never carries bytes of whatever used this slot before */
    for (size_t col = 1; col < n; col++)
        memset(dec->G + col * n, 0, col * sizeof *dec->G);
    dec->e[n - 1] = 0.0;
    dec->tau[n - 1] = 0.0;
    memcpy(w->dcopy, dec->d, n * sizeof *dec->d);
    memcpy(w->ecopy, dec->e, (n - 1) * sizeof *dec->e);
    dsterf_(&N, w->dcopy, w->ecopy, &info);
    if (info != 0)
        return DSS_ELAPACK;
    for (size_t i = 0; i < n; i++) /* descending singular values from ascending eigenvalues */
        dec->s[i] = ldexp(sqrt(fmax(w->dcopy[n - 1 - i], 0.0)), jexp);
    if (!isfinite(dec->s[0]))
        return DSS_ENONFINITE; /* s_1 > DBL_MAX: no double holds it */
    /* T for s / 2^k (see gram_exponent): d and e scale as s^2 */
    k = gram_exponent(dec->s[0]);
    if (k != jexp) {
        for (size_t i = 0; i < n; i++) {
            dec->d[i] = ldexp(dec->d[i], 2 * (jexp - k));
            dec->e[i] = ldexp(dec->e[i], 2 * (jexp - k));
        }
    }
    dec->rank = n;
    dec->lazy = 1;
    memset(dec->have, 0, n);
    return DSS_OK;
}

/*
 * Vectors whose eigenvalues lie closer together than this fraction of the largest are computed
 * in one dstemr call. MRRR makes the vectors of one call orthogonal to working accuracy, but a
 * vector from a call of its own is accurate only to about eps ||T|| / gap, where gap is the
 * distance to the nearest other eigenvalue: for tight clusters (repeated or nearly repeated
 * singular values) and for the tiny eigenvalues of a decaying spectrum, two vectors computed one
 * at a time can be far from orthogonal, or even equal. With clusters of gap 1e-5 ||T||, vectors
 * of different calls are orthogonal to about eps / 1e-5 ~ 2e-11.
 */
#define CLUSTER_GAP 1e-5

/* The cluster lo..hi (descending indices) that singular index i belongs to: the run of
   neighbours whose eigenvalues s^2 differ by at most CLUSTER_GAP s_1^2. It depends on s alone,
   so every index of a cluster names the same dstemr call, whatever was computed before. */
static void cluster_of(const svd_dec *dec, size_t i, size_t *lo, size_t *hi)
{
    const double s1 = scaled_s(dec, 0), gap = CLUSTER_GAP * s1 * s1;
    size_t a = i, b = i;
    /* on the scale of T, where s^2 neither overflows nor underflows */
#define SQ(j) (scaled_s(dec, (j)) * scaled_s(dec, (j)))
    while (a > 0 && SQ(a - 1) - SQ(a) <= gap)
        a--;
    while (b + 1 < dec->n && SQ(b) - SQ(b + 1) <= gap)
        b++;
#undef SQ
    *lo = a;
    *hi = b;
}

/* z <- Q z for one vector, Q = H(1) ... H(n-1), H(k) = I - tau_k u u^T with u = (0..0, 1,
   G(k+2:n, k)): for one vector this loop is several times faster than dormtr's blocked
   machinery. */
static void apply_q(const svd_dec *dec, double *z)
{
    const size_t n = dec->n;
    for (size_t k = n - 1; k-- > 0;) {
        const double *u = dec->G + k * n, t = dec->tau[k];
        double dot = z[k + 1];
        if (t == 0.0)
            continue;
        for (size_t j = k + 2; j < n; j++)
            dot += u[j] * z[j];
        dot *= t;
        z[k + 1] -= dot;
        for (size_t j = k + 2; j < n; j++)
            z[j] -= dot * u[j];
    }
}

/* Right-singular vectors of J for i's cluster into their rows of v: the eigenvectors of T by
   MRRR (dstemr, range 'I'; descending index j is ascending index n - j, 1-based), then Q applied
   to them (the loop for one vector, dormtr for a cluster). The whole cluster is kept: its other
   vectors would need the same dstemr call again. */
static int gram_vectors(svd_work *w, svd_dec *dec, size_t i)
{
    const size_t n = dec->n;
    size_t lo, hi;
    int N = (int)n, il, iu, count, found = 0, tryrac = 1, info = 0;
    int liwork = (int)(10 * n);
    double vl = 0.0, vu = 0.0;

    cluster_of(dec, i, &lo, &hi);
    il = (int)(n - hi);
    iu = (int)(n - lo);
    count = iu - il + 1;
    memcpy(w->dcopy, dec->d, n * sizeof *dec->d);
    memcpy(w->ecopy, dec->e, (n - 1) * sizeof *dec->e);
    w->ecopy[n - 1] = 0.0;
    dstemr_("V", "I", &N, w->dcopy, w->ecopy, &vl, &vu, &il, &iu, &found, w->eig, w->z, &N,
            &count, w->isuppz, &tryrac, w->work, &w->lwork_trd, w->iwork, &liwork, &info);
    if (info != 0 || found != count)
        return DSS_ELAPACK;
    if (count == 1) {
        apply_q(dec, w->z);
    } else {
        dormtr_("L", "L", "N", &N, &count, dec->G, &N, dec->tau, w->z, &N, w->work,
                &w->lwork_trd, &info);
        if (info != 0)
            return DSS_ELAPACK;
    }
    for (size_t j = lo; j <= hi; j++) { /* columns ascend: j's is hi - j */
        memcpy(dec->v + j * n, w->z + (hi - j) * n, n * sizeof *dec->v);
        dec->have[j] = 1;
    }
    return DSS_OK;
}

/* ---- interface -------------------------------------------------------------------------- */

/* LAPACK indexes an array of lda x cols with Fortran (32-bit) integers: each route's largest
   array must have at most INT_MAX entries (J^T for the wide route, G for the Gram route). */
static int fits_lapack(size_t a, size_t b)
{
    return a > 0 && b > 0 && a <= INT_MAX && b <= INT_MAX / a;
}

int dssi_svd_compute(svd_work *w, const mem_allocator *a, size_t rows, size_t n, double *J,
                svd_dec *dec)
{
    int rc;
    if (rows == 0 || n == 0)
        return DSS_EINVAL;
    if (n == 1 || rows < n) {
        if (!fits_lapack(rows, n))
            return DSS_EINVAL;
        if ((rc = dssi_svd_dec_reserve(dec, a, rows < n ? rows : n, 0)) != DSS_OK)
            return rc;
        return svd_wide(w, a, rows, n, J, dec);
    }
    if (!fits_lapack(n, n))
        return DSS_EINVAL;
    if ((rc = dssi_svd_dec_reserve(dec, a, n, 1)) != DSS_OK)
        return rc;
    return svd_gram(w, a, rows, n, J, dec);
}

/* A workspace size LAPACK reported (a double), as a count: saturated, never converted out of
   size_t's range (undefined). */
static size_t lwork_count(double query)
{
    return query >= (double)SIZE_MAX ? SIZE_MAX : query > 0.0 ? (size_t)query : 0;
}

size_t dssi_svd_work_bytes(size_t rows, size_t n)
{
    int M = (int)n, N = (int)rows, info = 0, ldvt = 1, query_lwork = -1;
    double dummy = 0.0, query = 0.0, query_ormtr = 0.0;
    if (!fits_lapack(rows, n) && !fits_lapack(n, n))
        return 0;
    if (n == 1 || rows < n) {
        dgesvd_("S", "N", &M, &N, &dummy, &M, &dummy, &dummy, &M, &dummy, &ldvt, &query,
                &query_lwork, &info);
        return info == 0 ? dssi_sat_mul(lwork_count(query), sizeof(double)) : 0;
    }
    dsytrd_("L", &M, &dummy, &M, &dummy, &dummy, &dummy, &query, &query_lwork, &info);
    if (info != 0)
        return 0;
    dormtr_("L", "L", "N", &M, &M, &dummy, &M, &dummy, &dummy, &M, &query_ormtr, &query_lwork,
            &info);
    if (info != 0)
        return 0;
    query = fmax(fmax(query, query_ormtr), 18.0 * (double)n);
    /* work, iwork (10n ints), dcopy, ecopy, eig (n each), z (n x n), isuppz (2n ints) */
    return dssi_sat_add(dssi_sat_add(dssi_sat_mul(lwork_count(query), sizeof(double)),
                                     dssi_sat_mul(12 * sizeof(int), n)),
                        dssi_sat_mul(dssi_sat_add(dssi_sat_mul(3, n), dssi_sat_mul(n, n)),
                                     sizeof(double)));
}

int dssi_svd_check_lazy(svd_work *w, const mem_allocator *a, const svd_dec *dec, int *match)
{
    const size_t n = dec->n;
    int N = (int)n, info = 0, rc;
    double tol, q;

    *match = 0;
    if (n == 0 || n > INT_MAX || n * n > INT_MAX)
        return DSS_EINVAL;
    if ((rc = reserve_gram(w, a, n)) != DSS_OK)
        return rc;
    memcpy(w->dcopy, dec->d, n * sizeof *dec->d);
    memcpy(w->ecopy, dec->e, n * sizeof *dec->e);
    dsterf_(&N, w->dcopy, w->ecopy, &info);
    if (info != 0)
        return DSS_OK; /* no spectrum: no match */
    /* the Gram route's own error is of order n eps s_1^2 (svd_gram); an s_1^2 that overflows
       comes from no Gram matrix (it would have overflowed too) and would make every test pass.
       A subnormal s_i holds fewer bits: it may be off by half the subnormal spacing
       DBL_TRUE_MIN, so its square (on T's scale, spacing q) by 2 s_i q + q^2 more. */
    tol = 1e-10 * scaled_s(dec, 0) * scaled_s(dec, 0);
    if (!isfinite(tol))
        return DSS_OK;
    q = ldexp(DBL_TRUE_MIN, -gram_exponent(dec->s[0]));
    for (size_t i = 0; i < n; i++) {
        const double si = scaled_s(dec, i);
        const double slack = dec->s[i] < DBL_MIN ? 2.0 * si * q + q * q : 0.0;
        if (!(fabs(w->dcopy[n - 1 - i] - si * si) <= tol + slack))
            return DSS_OK;
    }
    *match = 1;
    return DSS_OK;
}

int dssi_svd_vector(svd_work *w, const mem_allocator *a, svd_dec *dec, size_t i)
{
    int rc;
    if (dec->have[i])
        return DSS_OK;
    /* a no-op once sized; needed when dec came from elsewhere (a loaded session) */
    if ((rc = reserve_gram(w, a, dec->n)) != DSS_OK)
        return rc;
    return gram_vectors(w, dec, i);
}
