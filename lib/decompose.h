/* Singular values and right-singular vectors of a row-major Jacobian block, never U.
 *
 * Two routes, chosen by shape:
 *  - rows >= n (tall or square J): the Gram route. G = J^T J (dsyrk), reduced once to
 *    tridiagonal form T = Q^T G Q (dsytrd); all eigenvalues of T (dsterf) give every singular
 *    value, and a right-singular vector is computed only when the sampler draws it (dstemr on T
 *    for that index, together with any eigenvalues clustered around it, then the kept
 *    reflectors of Q applied to it). The tridiagonal form and the reflectors are kept with the
 *    decomposition for that purpose.
 *  - rows < n (wide J, e.g. the 50-row stochastic Jacobian): dgesvd on J^T computing only the
 *    left singular vectors of J^T, which are V; all vectors are then present at once.
 */
#ifndef DSS_DECOMPOSE_H
#define DSS_DECOMPOSE_H

#include <stddef.h>

#include "mem.h"

/* A decomposition: s and the rows of V, some computed lazily (Gram route). */
typedef struct svd_dec {
    size_t n, rank;
    int lazy;               /* Gram route: vectors on demand from the kept tridiagonal form */
    double *s;              /* rank values, descending */
    double *v;              /* rank x n: row i valid when have[i] */
    unsigned char *have;    /* rank flags */
    double *G;              /* n x n: dsytrd's reflectors (Gram route) */
    double *tau, *d, *e;    /* n each: reflector scales, diagonal and off-diagonal of T */
    size_t rank_cap;        /* s, have and v hold this many values / rows */
    int gram_ready;         /* G, tau, d and e are allocated */
} svd_dec;

/* LAPACK workspace, sized once per shape and kept. */
typedef struct svd_work {
    size_t rows, n;         /* dgesvd: shape its workspace was queried for */
    double *work;  size_t work_cap;   /* doubles */
    int *iwork;    size_t iwork_cap;
    double *dcopy; size_t dcopy_cap;  /* n each: dsterf and dstemr destroy their input */
    double *ecopy; size_t ecopy_cap;
    double *eig;   size_t eig_cap;    /* n: dstemr's eigenvalue array (it needs all n) */
    double *z;     size_t z_cap;      /* n x n: dstemr's vectors of one cluster */
    int *isuppz;   size_t isuppz_cap; /* 2n: their supports */
    int lwork_svd;          /* dgesvd's optimal lwork for (rows, n) */
    int lwork_trd;          /* the most of dsytrd's and dormtr's optimal lwork for n and
                               dstemr's 18n */
    size_t trd_n;           /* n lwork_trd was queried for */
} svd_work;

/* An empty decomposition for latent dimension n: its buffers are allocated by the route that
   first fills it (dssi_svd_dec_reserve), never up front, so that a session holds only what its
   route needs (a wide Jacobian never needs the n x n Gram buffers). */
void dssi_svd_dec_init(svd_dec *dec, size_t n);
/* Make dec able to hold rank values and vectors, and the Gram route's n x n buffers when
   gram. Contents are lost when a buffer grows (only an unused slot is reserved). DSS_OK or
   DSS_ENOMEM (dec then still valid, maybe partly grown). */
int  dssi_svd_dec_reserve(svd_dec *dec, const mem_allocator *a, size_t rank, int gram);
void dssi_svd_dec_free(svd_dec *dec, const mem_allocator *a);
/* Bytes dssi_svd_dec_reserve holds for these sizes (dss_search_estimate_bytes). */
size_t dssi_svd_dec_bytes(size_t n, size_t rank, int gram);
/* Bytes the LAPACK workspace of a route holds at most for rows x n (a workspace query, no
   allocation); 0 when LAPACK's query fails. */
size_t dssi_svd_work_bytes(size_t rows, size_t n);

/* Decompose J (rows x n, row-major, destroyed) into dec (allocated for n and a rank of at least
   min(rows, n)). J is scaled by a power of two first when its entries would under- or overflow
   J^T J (Gram route). Returns DSS_OK, DSS_EINVAL (too large for LAPACK's int), DSS_ENOMEM,
   DSS_ELAPACK, or DSS_ENONFINITE (s_1 above DBL_MAX). */
int  dssi_svd_compute(svd_work *w, const mem_allocator *a, size_t rows, size_t n, double *J,
                 svd_dec *dec);

/* Make row i of dec->v valid (a no-op when it is), and with it the rows of the other indices of
   its cluster (decompose.c). DSS_OK, DSS_ENOMEM (only the first time a workspace meets this n)
   or DSS_ELAPACK; on failure dec is unchanged. */
int  dssi_svd_vector(svd_work *w, const mem_allocator *a, svd_dec *dec, size_t i);

/* For a Gram-route decomposition from elsewhere (a loaded session): whether the eigenvalues of
   its tridiagonal form are the squares of its singular values, to 1e-10 s_1^2, as every
   decomposition dssi_svd_compute makes has them. *match receives 1 or 0. DSS_OK, DSS_ENOMEM (only
   the first time a workspace meets this n), DSS_EINVAL or DSS_ELAPACK. */
int  dssi_svd_check_lazy(svd_work *w, const mem_allocator *a, const svd_dec *dec, int *match);

void dssi_svd_work_free(svd_work *w, const mem_allocator *a);

#endif
