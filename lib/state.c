/* The session's states (struct search_state): their buffers, allocated, grown, copied and
 * freed. Which state is the session's (cur), and which decomposition slot it names, is
 * session.c's business alone; this file only manages buffers. */
#include <string.h>

#include "search.h"

size_t dssi_search_max_rank(const dss_search *search)
{
    return search->model->m < search->model->n ? search->model->m : search->model->n;
}

void dssi_state_free(struct search_state *st, const mem_allocator *a)
{
    dssi_mem_free(a, st->center);
    dssi_mem_free(a, st->basis);
    dssi_mem_free(a, st->basis_idx);
    dssi_mem_free(a, st->avail);
    dssi_mem_free(a, st->dec_center);
    dssi_mem_free(a, st->dec_s);
    *st = (struct search_state){ 0 };
}

int dssi_state_alloc(struct search_state *st, const mem_allocator *a, size_t n, size_t max_rank,
                size_t l_cap)
{
    *st = (struct search_state){ 0 };
    st->center = dssi_mem_array(a, n, sizeof(double));
    st->basis = dssi_mem_array(a, l_cap * n, sizeof(double));
    st->basis_idx = dssi_mem_array(a, l_cap, sizeof(size_t));
    st->avail = dssi_mem_zeros(a, max_rank, 1);
    st->dec_center = dssi_mem_array(a, n, sizeof(double));
    st->dec_s = dssi_mem_array(a, max_rank, sizeof(double));
    if (!st->center || !st->basis || !st->basis_idx || !st->avail || !st->dec_center
        || !st->dec_s) {
        dssi_state_free(st, a);
        return DSS_ENOMEM;
    }
    st->l_cap = l_cap;
    return DSS_OK;
}

int dssi_state_reserve_basis(struct search_state *st, const mem_allocator *a, size_t n, size_t l)
{
    double *basis;
    size_t *idx;
    if (st->l_cap >= l)
        return DSS_OK;
    basis = dssi_mem_array(a, l * n, sizeof(double));
    idx = dssi_mem_array(a, l, sizeof(size_t));
    if (basis == NULL || idx == NULL) {
        dssi_mem_free(a, basis);
        dssi_mem_free(a, idx);
        return DSS_ENOMEM;
    }
    memcpy(basis, st->basis, st->l * n * sizeof *basis);
    memcpy(idx, st->basis_idx, st->l * sizeof *idx);
    dssi_mem_free(a, st->basis);
    dssi_mem_free(a, st->basis_idx);
    st->basis = basis;
    st->basis_idx = idx;
    st->l_cap = l;
    return DSS_OK;
}

void dssi_state_copy(struct search_state *dst, const struct search_state *src, size_t n,
                size_t max_rank)
{
    dst->started = src->started;
    dst->rng = src->rng;
    dst->p = src->p;
    dst->range = src->range;
    memcpy(dst->center, src->center, n * sizeof *dst->center);
    dst->l = src->l;
    memcpy(dst->basis, src->basis, src->l * n * sizeof *dst->basis);
    memcpy(dst->basis_idx, src->basis_idx, src->l * sizeof *dst->basis_idx);
    memcpy(dst->avail, src->avail, max_rank);
    dst->dec_id = src->dec_id;
    dst->rank = src->rank;
    memcpy(dst->dec_center, src->dec_center, n * sizeof *dst->dec_center);
    dst->dec_rng = src->dec_rng;
    dst->dec_cfg = src->dec_cfg;
    memcpy(dst->dec_s, src->dec_s, src->rank * sizeof *dst->dec_s);
}

