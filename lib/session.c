/* The transaction module: the one place that changes what a session shows.
 *
 * A session is `cur` (a struct search_state) and the decomposition slot it names; an undo
 * entry is another state naming its own. Every call that changes a session (start, commit,
 * commit_w, resample in search.c; undo in history.c; load in persist.c) is a transaction:
 *
 *   1. dssi_session_txn_begin: a copy of the statistics to count into;
 *   2. prepare: dssi_session_begin (next := cur, with room for the subspace to draw), then compute
 *      into `next` and into the scratch slot (dssi_search_scratch_slot), or name an undo entry; the
 *      session is untouched, so any failure returns with nothing to undo;
 *   3. dssi_session_publish, which cannot fail: record or drop history, swap `next` in (or copy the
 *      undo entry), give a new decomposition its id and rotate the slots, adopt the statistics.
 *
 * The states' buffers, the slots and their ids are managed here and nowhere else.
 */
#include <string.h>

#include "search.h"

#define SWAP(type, a, b) do { type swap_tmp_ = (a); (a) = (b); (b) = swap_tmp_; } while (0)

/* ---- the session's own state ------------------------------------------------------------- */

int dssi_session_init(dss_search *search)
{
    const size_t n = search->model->n, r = dssi_search_max_rank(search);
    /* O(n) up front: bases grow with the subspace dimension and decompositions with their
       route, when a step first needs them (docs/design.md, "Memory") */
    for (int k = 0; k < DEC_SLOTS; k++)
        dssi_svd_dec_init(&search->slot[k].dec, n);
    if (dssi_state_alloc(&search->cur, &search->alloc, n, r, 1) != DSS_OK
        || dssi_state_alloc(&search->next, &search->alloc, n, r, 1) != DSS_OK)
        return DSS_ENOMEM;
    dssi_params_default(&search->cur.p, n);
    dssi_radius_start(&search->cur.range);
    dssi_rng_seed(&search->cur.rng, 0);
    return DSS_OK;
}

void dssi_session_set_params(dss_search *search, const struct search_params *p, int param)
{
    struct search_state *cur = &search->cur;
    const param_desc *d = dssi_param_search(param);
    switch (d != NULL ? d->effect : PARAM_EFFECT_NONE) {
    case PARAM_EFFECT_RESEED: /* the stream restarts at once, also for the same seed */
        dssi_rng_seed(&cur->rng, (uint64_t)p->seed);
        break;
    case PARAM_EFFECT_NEW_POLICY:
        if (p->range.policy != cur->p.range.policy)
            dssi_radius_policy_changed(&cur->range);
        break;
    case PARAM_EFFECT_FORGET: /* the oldest steps are forgotten at once */
        if (search->hist_len > p->history)
            search->hist_len = p->history;
        break;
    default:
        break;
    }
    cur->p = *p;
}

int dssi_session_reserve_cur(dss_search *search, size_t l)
{
    return dssi_state_reserve_basis(&search->cur, &search->alloc, search->model->n, l);
}

int dssi_search_slot_of(const dss_search *search, uint64_t id)
{
    for (int k = 0; k < DEC_SLOTS; k++)
        if (id != 0 && search->slot[k].id == id)
            return k;
    return -1;
}

int dssi_search_scratch_slot(const dss_search *search)
{
    for (int k = 0; k < DEC_SLOTS; k++)
        if (k != search->cur_slot && k != search->prev_slot)
            return k;
    return -1; /* unreachable with DEC_SLOTS == 3 */
}

int dssi_session_claim_scratch(dss_search *search)
{
    const int k = dssi_search_scratch_slot(search);
    search->slot[k].id = 0; /* its old contents (an evicted decomposition) are overwritten */
    return k;
}

/* ---- transactions ----------------------------------------------------------------------- */

int dssi_session_begin(dss_search *search)
{
    const size_t l = search->cur.l > search->cur.p.l ? search->cur.l : search->cur.p.l;
    int rc = dssi_state_reserve_basis(&search->next, &search->alloc, search->model->n, l);
    if (rc != DSS_OK)
        return rc;
    dssi_state_copy(&search->next, &search->cur, search->model->n, dssi_search_max_rank(search));
    return DSS_OK;
}

void dssi_session_txn_begin(const dss_search *search, session_txn *txn)
{
    txn->stats = search->stats;
    txn->t0 = dssi_clock_seconds();
    txn->callbacks0 = txn->stats.v[STAT_SECONDS_CALLBACKS];
}

void dssi_session_publish(dss_search *search, const struct publish *pub)
{
    if (pub->source == PUBLISH_NEXT) {
        if (pub->history == PUBLISH_PUSH)
            dssi_history_push(search);
        else if (pub->history == PUBLISH_CLEAR)
            dssi_history_clear(search);
        if (pub->slot >= 0) /* a new decomposition: its id, recorded by the state using it */
            search->slot[pub->slot].id = search->next.dec_id = ++search->last_id;
        search->next.started = 1;
        SWAP(struct search_state, search->cur, search->next);
    } else {
        if (pub->recomputed) /* the entry's decomposition, computed again into the slot */
            search->slot[pub->slot].id = dssi_history_newest(search)->dec_id;
        /* copied, not swapped: cur keeps its buffers (grown beforehand to hold the entry) */
        dssi_state_copy(&search->cur, dssi_history_newest(search), search->model->n,
                   dssi_search_max_rank(search));
        dssi_history_pop(search);
    }
    if (pub->slot >= 0 && pub->slot != search->cur_slot) {
        search->prev_slot = search->cur_slot;
        search->cur_slot = pub->slot;
    }
    if (pub->txn != NULL) {
        call_stats *st = &pub->txn->stats;
        st->v[STAT_SECONDS_LIBRARY] += (dssi_clock_seconds() - pub->txn->t0)
                                       - (st->v[STAT_SECONDS_CALLBACKS] - pub->txn->callbacks0);
        search->stats = *st;
    }
}

/* ---- the invariants, checked in the test build --------------------------------------------- */

#ifdef DSS_CHECK_INVARIANTS
#include <stdatomic.h>
static atomic_ulong violations;
#endif

/* 1 when search keeps what this module promises: slot ids are unique (or 0: empty), the two
   slots in use are distinct, a started session's decomposition is the current slot's, with its
   rank and singular values, its basis holds l <= l_cap rows whose indices are below the rank or
   the random marker, and the history ring's length is within its capacity and the parameter. */
static int consistent(const dss_search *search)
{
    const struct search_state *cur = &search->cur;
    const struct dec_slot *slot = &search->slot[search->cur_slot];
    if (search->cur_slot == search->prev_slot || search->cur_slot < 0
        || search->cur_slot >= DEC_SLOTS || search->prev_slot < 0
        || search->prev_slot >= DEC_SLOTS)
        return 0;
    for (int k = 0; k < DEC_SLOTS; k++)
        for (int j = k + 1; j < DEC_SLOTS; j++)
            if (search->slot[k].id != 0 && search->slot[k].id == search->slot[j].id)
                return 0;
    if (search->hist_len > search->hist_cap || search->hist_len > cur->p.history)
        return 0;
    if (!cur->started)
        return 1;
    if (cur->dec_id == 0 || slot->id != cur->dec_id || slot->dec.rank != cur->rank
        || cur->l == 0 || cur->l > cur->l_cap)
        return 0;
    for (size_t i = 0; i < cur->rank; i++)
        if (memcmp(&slot->dec.s[i], &cur->dec_s[i], sizeof cur->dec_s[i]) != 0)
            return 0;
    for (size_t i = 0; i < cur->l; i++)
        if (cur->basis_idx[i] >= cur->rank && cur->basis_idx[i] != (size_t)-1)
            return 0;
    return 1;
}

void dssi_session_check(const dss_search *search)
{
#ifdef DSS_CHECK_INVARIANTS
    if (!consistent(search))
        atomic_fetch_add(&violations, 1);
#else
    (void)consistent(search);
#endif
}

unsigned long dssi_session_violations(void)
{
#ifdef DSS_CHECK_INVARIANTS
    return atomic_exchange(&violations, 0);
#else
    return 0;
#endif
}
