/* The slider-range policy (DSS_SEARCH_RADIUS_POLICY): a step control on the slider's
 * half-length, in the spirit of trust-region methods.
 *
 * The session's slider spans c +- scale * radius * b. After each commit the policy sees only
 * where the host committed: how far along the slider (|w| = |2t - 1|) and whether the centre
 * stayed in place (|t - 1/2| <= the centre tolerance, the commits that keep the Jacobian). That
 * is all a person's choices reveal. From it the scale is updated:
 *
 *   FIXED     scale 1 for ever: the paper's method, bit for bit (x * 1.0 == x).
 *   ZOOM      a commit that moves the centre restores scale 1 (the paper's slider while the
 *             search progresses). A stall zooms in: each centred commit multiplies the scale by
 *             `shrink`, so that the next sliders look closer around a centre that no direction
 *             improved at the coarser scale; when the scale is at `scale_min`, or after `stall`
 *             centred commits in a row (if stall > 0), the stall escapes: the scale jumps to
 *             `scale_max`, and the ladder starts again from there.
 *   ADAPTIVE  trust-region-like: a commit that moves the centre to an end of the slider
 *             (|w| >= RADIUS_EDGE) multiplies the scale by `grow`, one well inside it
 *             (|w| <= RADIUS_INNER) by `shrink`; centred commits follow ZOOM's stall rule.
 *
 * The scale always stays within [scale_min, scale_max].
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include <dss/dss.h>

#include "radius.h"

void radius_start(struct radius_state *rs)
{
    *rs = (struct radius_state){ .scale = 1.0, .centred = 0 };
}

static double clamp(double v, double lo, double hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* A centred commit: zoom in, or escape when zoomed in all the way (or stalled k times). */
static void stalled(const struct radius_params *rp, struct radius_state *rs)
{
    rs->centred++;
    if (rs->scale <= rp->scale_min || (rp->stall > 0 && rs->centred >= rp->stall)) {
        rs->scale = rp->scale_max;
        rs->centred = 0;
        return;
    }
    rs->scale = clamp(rs->scale * rp->shrink, rp->scale_min, rp->scale_max);
}

void radius_after_commit(const struct radius_params *rp, struct radius_state *rs,
                         const struct radius_commit *c)
{
    if (rp->policy == DSS_RADIUS_FIXED)
        return;
    rs->scale = clamp(rs->scale, rp->scale_min, rp->scale_max); /* bounds set since */
    if (c->centred) {
        stalled(rp, rs);
        return;
    }
    rs->centred = 0;
    if (rp->policy == DSS_RADIUS_ZOOM)
        rs->scale = clamp(1.0, rp->scale_min, rp->scale_max);
    else if (c->reach >= RADIUS_EDGE)
        rs->scale = clamp(rs->scale * rp->grow, rp->scale_min, rp->scale_max);
    else if (c->reach <= RADIUS_INNER)
        rs->scale = clamp(rs->scale * rp->shrink, rp->scale_min, rp->scale_max);
}

double radius_scale(const struct radius_params *rp, const struct radius_state *rs)
{
    if (rp->policy == DSS_RADIUS_FIXED)
        return 1.0;
    return clamp(rs->scale, rp->scale_min, rp->scale_max); /* the bounds may have been reset */
}

/* ---- the saved block (format version 2, docs/format.md) --------------------------------- */

static void put_le64(unsigned char *out, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        out[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t get_le64(const unsigned char *in)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | in[i];
    return v;
}

void radius_state_write(const struct radius_state *rs, unsigned char out[RADIUS_STATE_BYTES])
{
    uint64_t bits;
    memcpy(&bits, &rs->scale, sizeof bits);
    memset(out, 0, RADIUS_STATE_BYTES);
    put_le64(out, bits);
    put_le64(out + 8, (uint64_t)rs->centred);
}

int radius_state_read(struct radius_state *rs, const unsigned char in[RADIUS_STATE_BYTES])
{
    uint64_t bits = get_le64(in), centred = get_le64(in + 8);
    double scale;
    memcpy(&scale, &bits, sizeof scale);
    if (!isfinite(scale) || !(scale > 0.0) || scale > RADIUS_SCALE_MAX
        || (uint64_t)(size_t)centred != centred)
        return 0;
    for (size_t i = 16; i < RADIUS_STATE_BYTES; i++)
        if (in[i] != 0)
            return 0;
    rs->scale = scale;
    rs->centred = (size_t)centred;
    return 1;
}
