/* The undo ring: the session's past states (struct search_state), newest at hist_top.
 *
 * The ring (up to EAGER_ENTRIES entries of it) is allocated when it is first needed or resized,
 * so that steady-state steps allocate nothing. An entry names its decomposition by id; undo.c
 * finds it in a slot, or computes it again. session.c pushes, pops and clears the ring.
 */
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
