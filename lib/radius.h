/* The slider-range policy (DSS_SEARCH_RADIUS_POLICY): pure functions of the policy's settings,
 * its state, and what a commit tells it. They know nothing of the session: search.c calls
 * dssi_radius_start (dss_search_start), dssi_radius_after_commit (commit, commit_w) and dssi_radius_scale
 * (every point); persist.c writes and reads the state as one opaque block (dssi_radius_state_write,
 * dssi_radius_state_read); session.c and history.c copy the state with the rest of a search_state.
 * The settings are rows of the parameter table (params.c: ids 17..22), which also holds their
 * defaults and ranges. Changing the algorithm stays inside radius.c (and this header). */
#ifndef DSS_RADIUS_H
#define DSS_RADIUS_H

#include <stddef.h>
#include <stdint.h>

/* The policy's settings (parameters 17..22 of enum dss_search_param; a field per table row). */
struct radius_params {
    int policy;        /* DSS_RADIUS_* */
    double grow;       /* factor applied on growth, > 1 */
    double shrink;     /* factor applied on shrinking, in (0, 1) */
    double scale_min;  /* bounds of the scale, scale_min <= 1 <= scale_max */
    double scale_max;
    size_t stall;      /* centred commits in a row that trigger an escape; 0: never */
};

/* The policy's state: the slider half-length is the base radius times `scale`. Saved by
   dssi_radius_state_write into RADIUS_STATE_BYTES bytes (format version 2). */
struct radius_state {
    double scale;
    size_t centred;    /* consecutive centred commits since the last move or escape */
    size_t need;       /* centred commits the next escape needs (0: k); doubled after an escape
                          that the next commit leaves centred, up to RADIUS_BACKOFF_MAX k */
    int escaped;       /* the last commit escaped */
};

/* What a commit tells the policy. reach = |w| in [0, 1] (w = 2t - 1, or the largest |w_i| of
   dss_search_commit_w), and whether the session counts it as the centre (the Jacobian is
   kept). Also the committed position itself: t (dss_search_commit; NaN for commit_w) and the
   l weights w (l = 1, w = 2t - 1 for dss_search_commit). */
struct radius_commit {
    double reach;
    int centred;
    double t;
    const double *w;
    size_t l;
};

#define RADIUS_EDGE  0.9   /* |w| >= this: the point sits at an end of the slider: grow */
#define RADIUS_BACKOFF_MAX 16 /* an unproductive escape doubles the next one's k, up to 16 k */
/* the setters' bounds (rows of params.c) */
#define RADIUS_GROW_MAX  16.0
#define RADIUS_SCALE_MAX 1e6
#define RADIUS_STALL_MAX 1000000
/* what loading accepts for the saved counts (the largest need is RADIUS_BACKOFF_MAX k) */
#define RADIUS_NEED_MAX ((uint64_t)RADIUS_BACKOFF_MAX * RADIUS_STALL_MAX)

/* The saved state: little-endian, fixed size. Bytes 0..7 the scale (binary64), 8..15 the
   centred count (u64), 16..23 `need` (u64), 24 `escaped` (0 or 1), 25..31 reserved (written
   0; this version reads them only as 0). */
#define RADIUS_STATE_BYTES 32

/* The state at dss_search_start (and of a fresh session, or a loaded version-1 string). */
void dssi_radius_start(struct radius_state *rs);
/* The policy was set to another one: its scale starts again at 1 (a FIXED session kept, and
   saved, the scale an ADAPTIVE one had left); the stall counts go on. */
void dssi_radius_policy_changed(struct radius_state *rs);
/* The state after a commit; returns 1 when the commit is a stall escape (the session then
   recomputes the Jacobian at the new centre and shows its top singular directions), else 0.
   FIXED keeps scale 1; with stall = 0 nothing escapes, and FIXED with stall = 0 leaves the
   state as it is (the paper's method). */
int  dssi_radius_after_commit(const struct radius_params *rp, struct radius_state *rs,
                         const struct radius_commit *c);
/* The factor on the base radius in force: 1 under FIXED, else the state's scale within the
   bounds as they are now (the host may change them at any time). */
double dssi_radius_scale(const struct radius_params *rp, const struct radius_state *rs);
/* The state as RADIUS_STATE_BYTES bytes, and back: dssi_radius_state_read returns 1 and fills rs
   for a valid block (finite scale in (0, RADIUS_SCALE_MAX], reserved bytes 0), else 0 and
   leaves rs alone. */
void dssi_radius_state_write(const struct radius_state *rs, unsigned char out[RADIUS_STATE_BYTES]);
int  dssi_radius_state_read(struct radius_state *rs, const unsigned char in[RADIUS_STATE_BYTES]);

#endif
