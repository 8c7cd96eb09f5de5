/* Undo: a ring of the session's past states (struct search_state), newest at hist_top.
 *
 * The ring (up to EAGER_ENTRIES entries of it) is allocated when it is first needed or resized,
 * so that steady-state steps allocate nothing. An entry names its decomposition by id; when that decomposition has left
 * the session's slots, undo computes it again from the recorded centre, RNG and settings,
 * which gives the same bits with the same callbacks.
 */
#include <math.h>
#include <string.h>

#include "search.h"

/* Entries allocated with the ring, so that steady-state steps allocate nothing; a longer
   history allocates its further entries as it first fills them. */
#define EAGER_ENTRIES 256

#define SWAP(type, a, b) do { type swap_tmp_ = (a); (a) = (b); (b) = swap_tmp_; } while (0)

/* Entry i steps back from the newest (0 = newest). */
static struct search_state *entry(dss_search *search, size_t back)
{
    return &search->hist[(search->hist_top + search->hist_cap - back) % search->hist_cap];
}

static void free_ring(struct search_state *ring, size_t count, const mem_allocator *a)
{
    for (size_t i = 0; i < count; i++)
        dssi_state_free(&ring[i], a);
    dssi_mem_free(a, ring);
}

/* A new ring of `cap` entries, each able to hold l basis rows, keeping the newest entries of
   the old ring (their buffers move over; the rest are freed). */
static int resize(dss_search *search, size_t cap, size_t l)
{
    const size_t n = search->model->n, r = dssi_search_max_rank(search);
    const size_t keep = search->hist_len < cap ? search->hist_len : cap;
    struct search_state *ring = dssi_mem_zeros(&search->alloc, cap, sizeof *ring);
    if (ring == NULL)
        return DSS_ENOMEM;
    /* kept entries go to ring[0..keep), oldest first, the newest at keep - 1; the first
       EAGER_ENTRIES others are allocated now, any beyond when first used */
    for (size_t i = keep; i < cap && i < EAGER_ENTRIES; i++) {
        if (dssi_state_alloc(&ring[i], &search->alloc, n, r, l) != DSS_OK) {
            free_ring(ring, cap, &search->alloc);
            return DSS_ENOMEM;
        }
    }
    for (size_t i = 0; i < keep; i++)
        SWAP(struct search_state, ring[keep - 1 - i], *entry(search, i));
    free_ring(search->hist, search->hist_cap, &search->alloc);
    search->hist = ring;
    search->hist_cap = cap;
    search->hist_len = keep;
    search->hist_top = keep > 0 ? keep - 1 : cap - 1;
    return DSS_OK;
}

int dssi_history_reserve(dss_search *search)
{
    const size_t cap = search->cur.p.history, l = search->cur.l;
    const struct search_state *slot;
    int rc;

    if (cap == 0) {
        if (search->hist_cap > 0 && (rc = resize(search, 0, 1)) != DSS_OK)
            return rc;
        return DSS_OK;
    }
    if (search->hist_cap != cap && (rc = resize(search, cap, l > 0 ? l : 1)) != DSS_OK)
        return rc;
    slot = &search->hist[(search->hist_top + 1) % cap];
    if (slot->center == NULL || slot->l_cap < l) { /* new, or a subspace larger than it held */
        /* The slot may still hold the oldest live entry, which the step can fail after this:
           the new buffers wait in `spare` and replace it only when dssi_history_push publishes. */
        if (search->spare.center != NULL && search->spare.l_cap >= l)
            return DSS_OK;
        dssi_state_free(&search->spare, &search->alloc);
        return dssi_state_alloc(&search->spare, &search->alloc, search->model->n,
                           dssi_search_max_rank(search), l);
    }
    return DSS_OK;
}

void dssi_history_push(dss_search *search)
{
    const size_t cap = search->hist_cap;
    struct search_state *slot;
    if (cap == 0)
        return;
    search->hist_top = (search->hist_top + 1) % cap;
    slot = &search->hist[search->hist_top];
    if (slot->center == NULL || slot->l_cap < search->cur.l) {
        SWAP(struct search_state, *slot, search->spare); /* dssi_history_reserve prepared it */
        dssi_state_free(&search->spare, &search->alloc);
    }
    dssi_state_copy(slot, &search->cur, search->model->n, dssi_search_max_rank(search));
    if (search->hist_len < cap)
        search->hist_len++;
}

struct search_state *dssi_history_newest(dss_search *search) { return entry(search, 0); }

void dssi_history_pop(dss_search *search)
{
    search->hist_top = (search->hist_top + search->hist_cap - 1) % search->hist_cap;
    search->hist_len--;
}

void dssi_history_clear(dss_search *search)
{
    search->hist_len = 0;
}

void dssi_history_free(dss_search *search)
{
    dssi_state_free(&search->spare, &search->alloc);
    free_ring(search->hist, search->hist_cap, &search->alloc);
    search->hist = NULL;
    search->hist_cap = search->hist_len = search->hist_top = 0;
}

/* Whether a recomputed decomposition is the one e recorded: the same number of singular values,
   each within RECOMPUTE_TOL s_1 of its record. A host whose callbacks changed since (another
   Jacobian, a removed callback that AUTO resolved to), or a loaded string whose recipe was
   edited, gives another decomposition, which would pair e's basis and availability flags with
   foreign singular values. The tolerance lets through what a generator that is not bit-for-bit
   deterministic (GPU reductions) changes. */
#define RECOMPUTE_TOL 1e-6
static int same_decomposition(const svd_dec *dec, const struct search_state *e)
{
    if (dec->rank != e->rank)
        return 0;
    for (size_t i = 0; i < e->rank; i++)
        if (!(fabs(dec->s[i] - e->dec_s[i]) <= RECOMPUTE_TOL * e->dec_s[0]))
            return 0;
    return 1;
}

/* The slot holding the decomposition of state e, recomputing it into the scratch slot when it
   was evicted. */
static int find_or_recompute(dss_search *search, const struct search_state *e, call_stats *stats,
                             int *slot_out)
{
    int k = dssi_search_slot_of(search, e->dec_id), rc;
    call_ctx cx;
    rng r;

    if (k >= 0) {
        *slot_out = k;
        return DSS_OK;
    }
    k = dssi_search_scratch_slot(search);
    search->slot[k].id = 0;
    dssi_search_ctx(&cx, search, stats);
    r = e->dec_rng;
    if ((rc = dssi_jac_check(search->model, &e->dec_cfg)) != DSS_OK)
        return dssi_err_detail(SEARCH_ERR(search), rc, "recomputing that step's decomposition: %s",
                          dssi_jac_missing(search->model, &e->dec_cfg));
    rc = dssi_jac_decompose(&cx, &e->dec_cfg, e->dec_center, &r, &search->jac, &search->svd,
                       &search->alloc, &search->slot[k].dec);
    if (rc != DSS_OK)
        return rc;
    if (!same_decomposition(&search->slot[k].dec, e))
        return dssi_err_detail(SEARCH_ERR(search), DSS_ESTATE,
                          "recomputing the decomposition of that step gave other singular values "
                          "(rank %zu, s_1 = %.17g; recorded rank %zu, s_1 = %.17g): the "
                          "callbacks changed since", search->slot[k].dec.rank,
                          search->slot[k].dec.s[0], e->rank, e->dec_s[0]);
    search->slot[k].id = e->dec_id;
    stats->v[STAT_UNDO_RECOMPUTES] += 1;
    *slot_out = k;
    return DSS_OK;
}

static int search_undo_impl(dss_search *search)
{
    struct search_state *e;
    session_txn txn;
    int k = -1, rc;

    if (search == NULL)
        return DSS_EINVAL;
    if (!search->cur.started || search->hist_len == 0)
        return dssi_err_detail(SEARCH_ERR(search), DSS_ESTATE, "nothing to undo (%s)",
                          search->cur.started ? "no step recorded since start, load or a "
                                                "DSS_SEARCH_HISTORY of 0"
                                              : "the session is not started");
    e = entry(search, 0);
    dssi_session_txn_begin(search, &txn);
    if ((rc = dssi_state_reserve_basis(&search->cur, &search->alloc, search->model->n, e->l)) != DSS_OK)
        return rc;
    rc = find_or_recompute(search, e, &txn.stats, &k);
    if (rc != DSS_OK)
        return rc;
    dssi_session_publish(search, &(struct publish){ .source = PUBLISH_UNDO, .slot = k, .txn = &txn });
    return DSS_OK;
}

DSS_API int dss_search_undo(dss_search *search)
{
    if (search == NULL)
        return DSS_EINVAL;
    return ERR_CALL(SEARCH_ERR(search), SEARCH_MUTATION(search, search_undo_impl(search)));
}
