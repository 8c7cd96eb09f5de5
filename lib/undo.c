/* dss_search_undo: back to the newest entry of the undo ring (history.c), whose decomposition
 * is still in a slot or is computed again from its recorded centre, RNG and settings, which
 * gives the same bits with the same callbacks. */
#include <math.h>

#include "search.h"

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
                             int *slot_out, int *recomputed)
{
    int k = dssi_search_slot_of(search, e->dec_id), rc;
    call_ctx cx;
    rng r;

    if (k >= 0) {
        *slot_out = k;
        return DSS_OK;
    }
    k = dssi_session_claim_scratch(search);
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
    stats->v[STAT_UNDO_RECOMPUTES] += 1;
    *slot_out = k;
    *recomputed = 1;
    return DSS_OK;
}

static int search_undo_impl(dss_search *search)
{
    struct search_state *e;
    session_txn txn;
    int k = -1, recomputed = 0, rc;

    if (search == NULL)
        return DSS_EINVAL;
    if (!search->cur.started || search->hist_len == 0)
        return dssi_err_detail(SEARCH_ERR(search), DSS_ESTATE, "nothing to undo (%s)",
                          search->cur.started ? "no step recorded since start, load or a "
                                                "DSS_SEARCH_HISTORY of 0"
                                              : "the session is not started");
    e = dssi_history_newest(search);
    dssi_session_txn_begin(search, &txn);
    if ((rc = dssi_session_reserve_cur(search, e->l)) != DSS_OK)
        return rc;
    rc = find_or_recompute(search, e, &txn.stats, &k, &recomputed);
    if (rc != DSS_OK)
        return rc;
    dssi_session_publish(search, &(struct publish){ .source = PUBLISH_UNDO, .slot = k,
                                                    .recomputed = recomputed, .txn = &txn });
    return DSS_OK;
}

DSS_API int dss_search_undo(dss_search *search)
{
    if (search == NULL)
        return DSS_EINVAL;
    return ERR_CALL(SEARCH_ERR(search), SEARCH_MUTATION(search, search_undo_impl(search)));
}
