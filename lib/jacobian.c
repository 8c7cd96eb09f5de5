/* Jacobian strategies: FULL, ROWS (the authors' stochastic Jacobian), and the dispatch to
 * FINITE_DIFF (fdiff.c) and RANDOMIZED (randomized.c). */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "fdiff.h"
#include "jacobian.h"

static int compare_size(const void *x, const void *y)
{
    size_t a = *(const size_t *)x, b = *(const size_t *)y;
    return (a > b) - (a < b);
}

/* k distinct indices in [0, m), ascending: Floyd's algorithm (k draws). Membership is checked
   on the sorted prefix with a binary search; insertion keeps it sorted. */
static void draw_rows(rng *r, size_t m, size_t k, size_t *rows)
{
    size_t count = 0;
    for (size_t j = m - k; j < m; j++) {
        size_t t = dssi_rng_below(r, j + 1);
        size_t pick = bsearch(&t, rows, count, sizeof *rows, compare_size) ? j : t;
        size_t pos = count; /* pick is absent from rows[0..count) */
        while (pos > 0 && rows[pos - 1] > pick) {
            rows[pos] = rows[pos - 1];
            pos--;
        }
        rows[pos] = pick;
        count++;
    }
}

/* AUTO: the host Jacobian when there is one, else the matrix-free mode when a VJP exists, else
   finite differences. */
int dssi_jac_route(const dss_model *model, int mode)
{
    if (mode != DSS_JACOBIAN_AUTO)
        return mode;
    if (model->jacobian != NULL)
        return DSS_JACOBIAN_FULL;
    return model->vjp != NULL ? DSS_JACOBIAN_RANDOMIZED : DSS_JACOBIAN_FINITE_DIFF;
}

int dssi_jac_check(const dss_model *model, const jac_config *cfg)
{
    int mode = dssi_jac_route(model, cfg->mode);
    if (mode == DSS_JACOBIAN_RANDOMIZED && model->vjp == NULL)
        return DSS_EUNSUPPORTED;
    if ((mode == DSS_JACOBIAN_FULL || mode == DSS_JACOBIAN_ROWS) && model->jacobian == NULL)
        return DSS_EUNSUPPORTED;
    return DSS_OK;
}

const char *dssi_jac_missing(const dss_model *model, const jac_config *cfg)
{
    switch (dssi_jac_route(model, cfg->mode)) {
    case DSS_JACOBIAN_RANDOMIZED:
        return "DSS_JACOBIAN_RANDOMIZED needs a VJP callback (dss_model_set_vjp), which the "
               "model lacks";
    case DSS_JACOBIAN_ROWS:
        return "DSS_JACOBIAN_ROWS needs a Jacobian callback (dss_model_set_jacobian), which "
               "the model lacks";
    default:
        return "DSS_JACOBIAN_FULL needs a Jacobian callback (dss_model_set_jacobian), which "
               "the model lacks";
    }
}

size_t dssi_jac_rank(const dss_model *model, const jac_config *cfg)
{
    size_t rows = model->m;
    int mode = dssi_jac_route(model, cfg->mode);
    if (mode == DSS_JACOBIAN_ROWS && cfg->rows < rows)
        rows = cfg->rows;
    if (mode == DSS_JACOBIAN_RANDOMIZED && cfg->rank < rows)
        rows = cfg->rank;
    return rows < model->n ? rows : model->n;
}

/* The host Jacobian's rows (all of them when rows == NULL) into J, in chunks of cfg->chunk rows
   with the progress callback asked after each (one call, rows as given, when not chunked). */
static int host_rows(call_ctx *cx, const jac_config *cfg, const double *c, size_t k,
                     size_t *rows, jac_scratch *s, const mem_allocator *a)
{
    const size_t n = cx->model->n;
    size_t chunk = cfg->chunk > 0 && cfg->chunk < k ? cfg->chunk : k;
    int rc;

    /* unchunked with a progress callback and many rows: a few requests, so that Cancel is
       heard while a slow (neural) Jacobian runs */
    if (cfg->chunk == 0 && cx->progress != NULL && k >= JAC_SPLIT_ROWS)
        chunk = (k + JAC_SPLIT_PIECES - 1) / JAC_SPLIT_PIECES;
    /* asked before the first request too: a Cancel already pressed costs no Jacobian */
    if ((rc = dssi_call_progress(cx, DSS_STAGE_JACOBIAN, 0, k)) != DSS_OK)
        return rc;
    if (chunk == k) {
        if ((rc = dssi_call_jacobian(cx, c, k, rows, s->J)) != DSS_OK)
            return rc;
        return dssi_call_progress(cx, DSS_STAGE_JACOBIAN, k, k);
    }
    if (rows == NULL) { /* a chunk of FULL mode names its rows explicitly */
        if ((rc = MEM_GROW(a, s, rows, k)) != DSS_OK)
            return rc;
        rows = s->rows;
        for (size_t i = 0; i < k; i++)
            rows[i] = i;
    }
    for (size_t first = 0; first < k; first += chunk) {
        size_t count = k - first < chunk ? k - first : chunk;
        if ((rc = dssi_call_jacobian(cx, c, count, rows + first, s->J + first * n)) != DSS_OK
            || (rc = dssi_call_progress(cx, DSS_STAGE_JACOBIAN, first + count, k)) != DSS_OK)
            return rc;
    }
    return DSS_OK;
}

/* The Jacobian block (rows x n) of the FULL, ROWS and FINITE_DIFF modes into s->J. */
static int jacobian_block(call_ctx *cx, const jac_config *cfg, int mode, const double *c,
                          rng *r, jac_scratch *s, const mem_allocator *a, size_t *nrows)
{
    const size_t n = cx->model->n, m = cx->model->m;
    size_t k = mode == DSS_JACOBIAN_ROWS ? (cfg->rows < m ? cfg->rows : m) : m;
    int rc;

    *nrows = k;
    if (mode == DSS_JACOBIAN_FINITE_DIFF)
        return dssi_fd_jacobian(cx, cfg, c, s, a);
    if ((rc = MEM_GROW(a, s, J, k * n)) != DSS_OK)
        return rc;
    if (mode == DSS_JACOBIAN_FULL)
        return host_rows(cx, cfg, c, m, NULL, s, a);
    if ((rc = MEM_GROW(a, s, rows, k)) != DSS_OK)
        return rc;
    draw_rows(r, m, k, s->rows);
    return host_rows(cx, cfg, c, k, s->rows, s, a);
}

/* Rows of the Jacobian block a route decomposes (0 for RANDOMIZED, which forms none). */
static size_t block_rows(const dss_model *model, const jac_config *cfg)
{
    const int route = dssi_jac_route(model, cfg->mode);
    if (route == DSS_JACOBIAN_RANDOMIZED)
        return 0;
    if (route == DSS_JACOBIAN_ROWS && cfg->rows < model->m)
        return cfg->rows;
    return model->m;
}

static int gram_route(const dss_model *model, const jac_config *cfg)
{
    const size_t rows = block_rows(model, cfg);
    return rows > 0 && model->n > 1 && rows >= model->n;
}

size_t dssi_jac_dec_bytes(const dss_model *model, const jac_config *cfg)
{
    const int gram = gram_route(model, cfg);
    return dssi_svd_dec_bytes(model->n, gram ? model->n : dssi_jac_rank(model, cfg), gram);
}

size_t dssi_jac_scratch_bytes(const dss_model *model, const jac_config *cfg)
{
    const size_t n = model->n, m = model->m, rows = block_rows(model, cfg);
    const int route = dssi_jac_route(model, cfg->mode);
    size_t bytes;
    if (route == DSS_JACOBIAN_RANDOMIZED)
        return dssi_rsvd_scratch_bytes(model, cfg);
    bytes = dssi_sat_add(dssi_sat_add(dssi_sat_mul(dssi_sat_mul(rows, n), sizeof(double)),
                                      dssi_sat_mul(rows, sizeof(size_t))),
                         dssi_svd_work_bytes(rows, n));
    if (route == DSS_JACOBIAN_FINITE_DIFF) /* a batch is at most JAC_FD_MAX_DOUBLES: no wrap */
        bytes = dssi_sat_add(bytes, (dssi_fd_chunk(model, cfg) * (n + m) + m) * sizeof(double));
    return bytes;
}

int dssi_jac_dec_reserve(const dss_model *model, const jac_config *cfg, svd_dec *dec,
                    const mem_allocator *a)
{
    if (gram_route(model, cfg))
        return dssi_svd_dec_reserve(dec, a, model->n, 1);
    return dssi_svd_dec_reserve(dec, a, dssi_jac_rank(model, cfg), 0);
}

int dssi_jac_decompose(call_ctx *cx, const jac_config *cfg, const double *c, rng *r,
                  jac_scratch *s, svd_work *w, const mem_allocator *a, svd_dec *dec)
{
    int mode = dssi_jac_route(cx->model, cfg->mode);
    size_t rows = 0;
    int rc;

    if ((rc = dssi_jac_check(cx->model, cfg)) != DSS_OK)
        return rc;
    if (mode == DSS_JACOBIAN_RANDOMIZED)
        rc = dssi_rsvd_decompose(cx, cfg, c, r, s, a, dec);
    else if ((rc = jacobian_block(cx, cfg, mode, c, r, s, a, &rows)) == DSS_OK
             && (rc = dssi_call_progress(cx, DSS_STAGE_DECOMPOSE, 0, 1)) == DSS_OK
             && (rc = dssi_svd_compute(w, a, rows, cx->model->n, s->J, dec)) == DSS_OK)
        rc = dssi_call_progress(cx, DSS_STAGE_DECOMPOSE, 1, 1);
    if (rc == DSS_OK && !isfinite(dec->s[0]))
        rc = DSS_ENONFINITE; /* never publish an infinite singular value, whatever the route */
    if (rc == DSS_OK && cx->stats != NULL)
        cx->stats->v[STAT_SVDS] += 1;
    return rc;
}

void dssi_jac_scratch_free(jac_scratch *s, const mem_allocator *a)
{
    dssi_mem_free(a, s->J);
    dssi_mem_free(a, s->rows);
    dssi_mem_free(a, s->z);
    dssi_mem_free(a, s->x);
    dssi_mem_free(a, s->f0);
    dssi_mem_free(a, s->probe);
    dssi_mem_free(a, s->sketch);
    dssi_mem_free(a, s->small);
    *s = (jac_scratch){ 0 };
}
