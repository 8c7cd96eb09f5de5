/* The slider-range policy (DSS_SEARCH_RADIUS_POLICY) and the stall escape
 * (DSS_SEARCH_STALL_COMMITS): a step control on the slider's half-length, in the spirit of
 * trust-region methods, and a rule for leaving a local maximum.
 *
 * The session's slider spans c +- scale * radius * b. After each commit the policy sees only
 * where the host committed: how far along the slider (|w| = |2t - 1|) and whether the centre
 * stayed in place (|t - 1/2| <= the centre tolerance, the commits that keep the Jacobian). That
 * is all a person's choices reveal. From it the scale is updated:
 *
 *   FIXED     scale 1 for ever: the paper's method, bit for bit (x * 1.0 == x).
 *   ADAPTIVE  a commit at an end of the slider (|w| >= RADIUS_EDGE: the best point may lie
 *             beyond) or at its centre (nothing better nearby: look farther) multiplies the
 *             scale by `grow`; any other commit restores scale 1 (the slider was the right
 *             size). Ahead of FIXED on the synthetic benchmark at n = 32; on image
 *             generators never behind, not always ahead (docs/algorithm.md section 10).
 *   ZOOM      a commit that moves the centre restores scale 1; each centred commit multiplies
 *             the scale by `shrink`, and one that finds it at `scale_min` jumps to `scale_max`
 *             (a ladder of finer and finer sliders). Measured and kept for comparison: it
 *             loses to ADAPTIVE (docs/algorithm.md section 10).
 *
 * The scale always stays within [scale_min, scale_max].
 *
 * Stall escape (any policy, when stall = k > 0): the k-th centred commit in a row escapes. A
 * centred commit keeps the Jacobian of an older centre, so after a few of them the session's
 * directions describe a point it has left: the escape recomputes the Jacobian at the new
 * centre and shows its top singular direction, at scale 1. An escape whose next commit is
 * centred again doubles the count the next escape needs (up to RADIUS_BACKOFF_MAX k), so that a
 * search that has converged does not pay for a Jacobian every k commits; a commit that moves
 * the centre restores k.
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include <dss/dss.h>

#include "codec.h"
#include "radius.h"

void dssi_radius_start(struct radius_state *rs)
{
    *rs = (struct radius_state){ .scale = 1.0 };
}

void dssi_radius_policy_changed(struct radius_state *rs)
{
    rs->scale = 1.0;
}

static double clamp(double v, double lo, double hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* The stall count: 1 when this commit escapes. Untouched when k = 0. */
static int stall_after_commit(size_t k, struct radius_state *rs, int centred)
{
    const size_t most = k * RADIUS_BACKOFF_MAX;
    size_t need;
    if (k == 0)
        return 0;
    if (!centred) {
        rs->centred = 0;
        rs->need = 0;
        rs->escaped = 0;
        return 0;
    }
    need = rs->need < k ? k : rs->need; /* k may have been raised since */
    if (rs->escaped) /* the last escape found nothing better either: wait longer */
        need *= 2;
    if (need > most) /* the ceiling (k may also have been lowered) */
        need = most;
    rs->escaped = 0;
    rs->need = need;
    if (++rs->centred < need)
        return 0;
    rs->centred = 0;
    rs->escaped = 1;
    return 1;
}

static void zoom_after_commit(const struct radius_params *rp, struct radius_state *rs,
                              int centred)
{
    if (!centred)
        rs->scale = 1.0;
    else if (rs->scale <= rp->scale_min)
        rs->scale = rp->scale_max;
    else
        rs->scale *= rp->shrink;
}

static void adaptive_after_commit(const struct radius_params *rp, struct radius_state *rs,
                                  const struct radius_commit *c)
{
    rs->scale = c->centred || c->reach >= RADIUS_EDGE ? rs->scale * rp->grow : 1.0;
}

int dssi_radius_after_commit(const struct radius_params *rp, struct radius_state *rs,
                        const struct radius_commit *c)
{
    const int escape = stall_after_commit(rp->stall, rs, c->centred);
    if (rp->policy == DSS_RADIUS_FIXED)
        return escape;
    rs->scale = clamp(rs->scale, rp->scale_min, rp->scale_max); /* bounds set since */
    if (rp->policy == DSS_RADIUS_ZOOM)
        zoom_after_commit(rp, rs, c->centred);
    else
        adaptive_after_commit(rp, rs, c);
    if (escape)
        rs->scale = 1.0;
    rs->scale = clamp(rs->scale, rp->scale_min, rp->scale_max);
    return escape;
}

double dssi_radius_scale(const struct radius_params *rp, const struct radius_state *rs)
{
    if (rp->policy == DSS_RADIUS_FIXED)
        return 1.0;
    return clamp(rs->scale, rp->scale_min, rp->scale_max); /* the bounds may have been reset */
}

/* ---- the saved block (format version 2, docs/format.md) --------------------------------- */

void dssi_radius_state_write(const struct radius_state *rs, unsigned char out[RADIUS_STATE_BYTES])
{
    memset(out, 0, RADIUS_STATE_BYTES);
    codec_put_f64(out, rs->scale);
    codec_put_le(out + 8, (uint64_t)rs->centred, 8);
    codec_put_le(out + 16, (uint64_t)rs->need, 8);
    out[24] = (unsigned char)(rs->escaped != 0);
}

int dssi_radius_state_read(struct radius_state *rs, const unsigned char in[RADIUS_STATE_BYTES])
{
    const double scale = codec_get_f64(in);
    const uint64_t centred = codec_get_le(in + 8, 8), need = codec_get_le(in + 16, 8);
    if (!isfinite(scale) || !(scale > 0.0) || scale > RADIUS_SCALE_MAX
        || centred > RADIUS_NEED_MAX || need > RADIUS_NEED_MAX || in[24] > 1)
        return 0;
    for (size_t i = 25; i < RADIUS_STATE_BYTES; i++)
        if (in[i] != 0)
            return 0;
    rs->scale = scale;
    rs->centred = (size_t)centred;
    rs->need = (size_t)need;
    rs->escaped = in[24];
    return 1;
}
