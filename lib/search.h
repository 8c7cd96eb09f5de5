/* The session's insides, shared by session.c (the transaction module: states, decomposition
 * slots, the publish step), search.c (the session's API), history.c (undo) and persist.c (save
 * and load). */
#ifndef DSS_SEARCH_H
#define DSS_SEARCH_H

#include <stdint.h>

#include <dss/dss.h>

#include "calls.h"
#include "errmsg.h"
#include "decompose.h"
#include "jacobian.h"
#include "params.h"
#include "radius.h"
#include "rng.h"

struct search_params {
    size_t l;               /* subspace dimension for the next draw */
    double radius;          /* host-set radius, or 0 for the prior's default */
    double radius_default;  /* 0.2 x mean distance of two prior draws */
    double tol;             /* centre tolerance on t */
    double seed;            /* integer in [0, 2^53] */
    int sampler;            /* DSS_SAMPLER_* */
    int prior;              /* DSS_PRIOR_* */
    double prior_scale;
    size_t history;         /* undo steps kept */
    int keep_shown;         /* DSS_SEARCH_KEEP_SHOWN */
    jac_config jac;         /* Jacobian strategy and its settings */
    struct radius_params range;  /* the slider-range policy's settings (radius.c) */
};

/* One step of a session: what the host sees and what the next calls depend on. The live
   session is one; every undo entry is another, with its own buffers. */
struct search_state {
    int started;
    rng rng;
    struct search_params p;
    struct radius_state range;   /* the slider-range policy's scale and stall count (radius.c) */
    double *center;         /* n */
    size_t l, l_cap;        /* rows of basis, rows it can hold */
    double *basis;          /* l x n, orthonormal rows */
    size_t *basis_idx;      /* l singular indices (SAMPLER_NO_INDEX for random rows) */
    unsigned char *avail;   /* rank flags (capacity min(m, n)): still available to the sampler */
    /* the decomposition in use, and how to compute it again: at dec_center, with the RNG as
       it was before (ROWS and RANDOMIZED draw from it) and the Jacobian settings of then */
    uint64_t dec_id;
    size_t rank;
    double *dec_center;     /* n */
    rng dec_rng;
    jac_config dec_cfg;     /* its mode is the route taken (never AUTO, except in a 1.0 save) */
    double *dec_s;          /* the decomposition's rank singular values (capacity min(m, n)):
                               undo checks a recomputation against them */
};

/* Decompositions are large (n x n and more) and shared by every step that kept the Jacobian;
   the session keeps three: the current one, the previous one (so that undoing a moved commit
   is free) and a scratch one that a recomputation fills before it is published. */
#define DEC_SLOTS 3
struct dec_slot { svd_dec dec; uint64_t id; /* 0: empty */ };

struct dss_search {
    const dss_model *model;
    mem_allocator alloc;              /* the model's, metered into `meter` */
    mem_meter meter;
    struct search_state cur, next;    /* the session, and a transaction's scratch */
    struct dec_slot slot[DEC_SLOTS];
    int cur_slot, prev_slot;
    uint64_t last_id;
    struct search_state *hist;        /* undo ring: hist_cap entries, hist_len in use */
    size_t hist_cap, hist_len, hist_top;  /* hist_top: index of the most recent entry */
    struct search_state spare;        /* buffers for the next entry, when its slot is too small:
                                         swapped in by dssi_history_push, never before the step
                                         cannot fail any more */
    jac_scratch jac;
    svd_work svd;
    call_stats stats;
    dss_progress_fn progress;
    void *progress_user;
    struct dss_job *job;              /* the open job driving this session's calls, or NULL */
    int busy;                         /* a call that changes the session is under way (from its
                                         first allocation to its end): every other such call,
                                         from its callbacks or its allocator, is DSS_EBUSY */
    errmsg err;                       /* dss_search_errmsg: written by const calls too (one
                                         handle is used by one thread at a time) */
};

/* The message of a session, also from a const one (the message is not part of its state). */
#define SEARCH_ERR(search) ((errmsg *)&(search)->err)

/* ---- session.c: the transaction module ---------------------------------------------------- */
/* Every call that changes a session prepares in `next` (or names an undo entry) and in the
   scratch slot, where a failure leaves no trace, and ends in dssi_session_publish, which cannot fail.
   Nothing else writes cur, the slots' ids, cur_slot, prev_slot or the statistics. */

/* A transaction's accounting: the statistics it counts into, adopted only by publish. */
typedef struct session_txn { call_stats stats; double t0, callbacks0; } session_txn;
void dssi_session_txn_begin(const dss_search *search, session_txn *txn);
/* next := cur, with room for the subspace a step draws. DSS_OK or DSS_ENOMEM (nothing visible
   changed). */
int  dssi_session_begin(dss_search *search);

enum { PUBLISH_NEXT, PUBLISH_UNDO };                   /* where the new state is */
enum { PUBLISH_PUSH, PUBLISH_CLEAR, PUBLISH_KEEP };    /* what happens to the history (PUSH and
                                                          CLEAR with PUBLISH_NEXT only) */
struct publish {
    int source;             /* PUBLISH_NEXT: swap next in; PUBLISH_UNDO: the newest entry,
                               which leaves the history */
    int history;            /* PUBLISH_NEXT: record cur (PUSH), forget all (CLEAR) or KEEP */
    int slot;               /* the slot of the new state's decomposition, or -1: cur's. With
                               PUBLISH_NEXT a slot holds a new decomposition and gets its id */
    int recomputed;         /* PUBLISH_UNDO: slot holds the entry's decomposition computed
                               again (into a slot claimed with dssi_session_claim_scratch), and
                               takes the entry's id */
    session_txn *txn;       /* statistics to adopt, or NULL */
};
void dssi_session_publish(dss_search *search, const struct publish *pub);

/* ---- state.c --------------------------------------------------------------------------- */
int  dssi_state_alloc(struct search_state *st, const mem_allocator *a, size_t n, size_t max_rank,
                 size_t l_cap);
void dssi_state_free(struct search_state *st, const mem_allocator *a);
/* Make st's basis hold l rows, keeping its st->l rows. DSS_OK or DSS_ENOMEM (st unchanged). */
int  dssi_state_reserve_basis(struct search_state *st, const mem_allocator *a, size_t n, size_t l);
/* Copy src into dst, whose basis must hold src->l rows. */
void dssi_state_copy(struct search_state *dst, const struct search_state *src, size_t n,
                size_t max_rank);
size_t dssi_search_max_rank(const dss_search *search);

/* ---- session.c ------------------------------------------------------------------------- */
int  dssi_search_slot_of(const dss_search *search, uint64_t id);  /* -1: evicted */
/* The scratch slot: neither the current nor the previous decomposition. */
int  dssi_search_scratch_slot(const dss_search *search);
/* The scratch slot, emptied (its id cleared) for a decomposition about to be computed into it;
   a transaction that fails leaves it empty, which the session does not show. */
int  dssi_session_claim_scratch(dss_search *search);
/* A new session's states, at the default parameters (dss_search_create). */
int  dssi_session_init(dss_search *search);
/* The parameters in force become p, after dss_search_set validated the change of param; the
   seed restarts the stream, a new policy its scale, a smaller history forgets old steps. */
void dssi_session_set_params(dss_search *search, const struct search_params *p, int param);
/* Make cur's basis hold l rows (before an undo publishes an entry with l rows). */
int  dssi_session_reserve_cur(dss_search *search, size_t l);
/* The test build's checker (DSS_CHECK_INVARIANTS, after every call that changes a session):
   counts every session whose state breaks an invariant this module keeps (the slot ids, the
   current decomposition, the basis, the history's bounds); dssi_session_violations returns the
   count and restarts it (0 in other builds). */
void dssi_session_check(const dss_search *search);
unsigned long dssi_session_violations(void);

/* ---- search.c -------------------------------------------------------------------------- */
/* A call that changes the session (start, commit, commit_w, resample, undo, load, set,
   set_progress) runs as SEARCH_MUTATION(search, impl(...)): DSS_EBUSY, with a message, when one
   is already under way (this is a call from inside its callbacks or its allocator), else impl
   with the session busy throughout. search must not be NULL. */
int dssi_search_enter(dss_search *search);
int dssi_search_leave(dss_search *search, int status);
#define SEARCH_MUTATION(search, call) \
    (dssi_search_enter(search) != DSS_OK ? DSS_EBUSY : dssi_search_leave((search), (call)))
/* A call context counting into stats (a transaction's copy of search->stats). */
void dssi_search_ctx(call_ctx *cx, const dss_search *search, call_stats *stats);
double dssi_search_radius(const dss_search *search);       /* the slider's: base x policy scale */
double dssi_search_base_radius(const dss_search *search);  /* DSS_SEARCH_RADIUS in force */
const dss_model *dssi_search_model(const dss_search *search);
/* z (n) = center + r B^T w for the l rows of basis: dss_search_point_w's arithmetic, which
   gallery.c uses on a snapshot of the session so that a commit_w lands where it scored. */
void dssi_map_weights(const double *center, const double *basis, double r, size_t n,
                      const double *w, size_t l, double *z);

/* ---- params.c (the search's parameters as a whole) -------------------------------------- */
int  dssi_params_set(struct search_params *p, size_t n, int param, double value);
/* Every parameter at its default (the table's), and the prior's default radius. */
void dssi_params_default(struct search_params *p, size_t n);
/* The documented range of a parameter, for messages (written into buf of cap bytes). */
const char *dssi_params_range(int param, char *buf, size_t cap);
/* A value from a saved string through its row ("unset" where the row has one). */
int  dssi_params_restore(struct search_params *p, size_t n, int param, double value);
/* The value dss_search_get shows (the row's own reading, or the field). */
double dssi_params_read(const param_desc *d, const struct search_params *p);

/* ---- history.c ------------------------------------------------------------------------- */
/* Make room for one more entry (allocating if needed) before a step publishes: DSS_OK or
   DSS_ENOMEM, nothing changed. */
int  dssi_history_reserve(dss_search *search);
/* Record cur as the newest entry (after dssi_history_reserve succeeded). */
void dssi_history_push(dss_search *search);
void dssi_history_clear(dss_search *search);
/* The newest entry (hist_len > 0), and dropping it. */
struct search_state *dssi_history_newest(dss_search *search);
void dssi_history_pop(dss_search *search);
void dssi_history_free(dss_search *search);

#endif
