/*
 * The slider-range policy (DSS_SEARCH_RADIUS_POLICY, lib/radius.c) and stall escapes.
 *
 * - The default (DSS_RADIUS_FIXED) is the paper's method: a scripted session
 *   (tests/golden/scripted.c) takes the decisions libdss 1.0's code took and stays within a
 *   derived rounding tolerance of its centres (tests/golden/paper_v1.h, generated from commit
 *   151d868 by tests/golden/make-golden.sh, not by this library); FIXED sessions whose other
 *   policy parameters were changed give the default's bits (two runs in one process).
 * - A version-1 string (libdss 1.0's format) still loads, as a FIXED session, and continues as
 *   its own save/load twin does, and as the session that saved it would have (within the
 *   tolerance: that session ran on another machine's arithmetic).
 * - The update rules, step by step, on the pure functions: ZOOM's zoom-in ladder and escape,
 *   ADAPTIVE's growth at the ends and shrinking inside, the bounds, k-commit escapes.
 * - Through the API: the slider radius in force, the points it maps, undo, save and load,
 *   bad parameter values (EINVAL, session unchanged), malformed policy state (EFORMAT).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <dss/dss.h>

#include "radius.h"
#include "support.h"

#define SCRIPTED_NO_MAIN
#include "golden/scripted.c"
#include "golden/paper_v1.h"

/* version 2's block: the pair count, 6 (id, value) pairs, the state (radius.c's 32 bytes) */
#define EXT_BYTES (8 + 6 * 16 + 32)
#define STATE_AT(len) ((len) - 4 - 32) /* the state block's offset in a string of len bytes */

static unsigned char *save(dss_search *s, size_t *len)
{
    unsigned char *buf;
    assert_int_equal(dss_search_save(s, NULL, 0, len), DSS_OK);
    buf = malloc(*len);
    assert_non_null(buf);
    assert_int_equal(dss_search_save(s, buf, *len, len), DSS_OK);
    return buf;
}

static uint64_t le64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static double lef64(const unsigned char *p)
{
    uint64_t bits = le64(p);
    double v;
    memcpy(&v, &bits, sizeof v);
    return v;
}

/* The v2 string of a FIXED session with default policy: libdss 1.0's v1 bytes, with version 2,
   the length 112 bytes longer, and the default block before the CRC. */
static void assert_is_golden_plus_default_block(const unsigned char *v2, size_t len)
{
    const size_t len1 = sizeof golden_v1;
    static const double defaults[6] = { DSS_RADIUS_FIXED, 2.0, 0.5, 0.0625, 2.0, 0.0 };
    assert_int_equal(len, len1 + EXT_BYTES);
    assert_memory_equal(v2, golden_v1, 8);                    /* magic */
    assert_int_equal(v2[8], 2);                               /* version 2 */
    assert_memory_equal(v2 + 12, golden_v1 + 12, 4);          /* byte-order mark */
    assert_int_equal(le64(v2 + 16), len);
    assert_memory_equal(v2 + 24, golden_v1 + 24, len1 - 4 - 24); /* every field of 1.0's */
    assert_int_equal(le64(v2 + len1 - 4), 6);                 /* policy parameters */
    for (int k = 0; k < 6; k++) {
        assert_int_equal(le64(v2 + len1 + 4 + 16 * k), (uint64_t)(17 + k));
        assert_true(lef64(v2 + len1 + 4 + 16 * k + 8) == defaults[k]);
    }
    assert_true(lef64(v2 + STATE_AT(len)) == 1.0);            /* scale */
    assert_int_equal(le64(v2 + STATE_AT(len) + 8), 0);        /* centred commits */
    for (int k = 16; k < 32; k++)
        assert_int_equal(v2[STATE_AT(len) + k], 0);           /* reserved */
}

/* ---- the paper's method, against libdss 1.0's run ---------------------------------------
   tests/golden/paper_v1.h records what libdss 1.0's code did on the script (built from commit
   151d868, not from this library): each iteration's basis index, the chosen slider position
   and the new centre. Another CPU, BLAS build or thread count rounds differently, so today's
   run is compared with it the way the arithmetic allows, not bit for bit:
   - the discrete decisions (which direction was shown; whether the commit was centred) exactly:
     the script is far from their ties (script_is_far_from_ties checks the margins);
   - the centres within GOLDEN_TOL. Derivation: rounding moves the scores of the refinement's
     points by ~1e-16 relative, which can change which point of its final bracket the
     refinement returns, so one commit's t may differ by up to the bracket width
     DSS_LINE_REFINE_TOL = 1e-6, i.e. the centre by 2 r 1e-6 (r the slider radius); a Jacobian
     or line search computed at such a shifted centre does not amplify it (the method converges
     to local optima), so the drift is at most the sum over the script's commits,
     2 r 1e-6 * SCRIPT_ITERS. Measured: at most 1e-7 between the reference LAPACK and OpenBLAS
     (1 or 2 threads, Haswell, SkylakeX, Cooperlake, Prescott kernels), against ~1e-4 here.
   Breaking the method moves a centre by a fraction of r and changes decisions: both fail. */
#define DSS_LINE_REFINE_TOL 1e-6
#define GOLDEN_TOL(r) (2.0 * (r) * DSS_LINE_REFINE_TOL * SCRIPT_ITERS)
/* a decision this far (in t) from its tie cannot flip under a difference of GOLDEN_TOL */
#define TIE_MARGIN 1e-3

static double script_radius(void)
{
    dss_synthetic *p;
    dss_search *s;
    double z0[SCRIPT_N], r = NAN;
    assert_int_equal(dss_synthetic_create(&p, SCRIPT_N, SCRIPT_M, 2.0, 3), DSS_OK);
    assert_int_equal(dss_search_create(&s, dss_synthetic_model(p)), DSS_OK);
    assert_int_equal(dss_search_set(s, DSS_SEARCH_PRIOR, DSS_PRIOR_BOX), DSS_OK);
    assert_int_equal(dss_search_set(s, DSS_SEARCH_PRIOR_SCALE, DSS_SYNTHETIC_BOX), DSS_OK);
    assert_int_equal(dss_synthetic_initial_point(p, z0), DSS_OK);
    assert_int_equal(dss_search_start(s, z0), DSS_OK);
    assert_int_equal(dss_search_slider_radius(s, &r), DSS_OK);
    dss_search_destroy(s);
    dss_synthetic_destroy(p);
    return r;
}

static int is_centred(double t) { return fabs(t - 0.5) <= 0.05; }

static double max_abs_diff(const double *a, const double *b, size_t len)
{
    double d = 0.0;
    for (size_t j = 0; j < len; j++)
        d = fmax(d, fabs(a[j] - b[j]));
    return d;
}

/* The recorded run is far from the ties of its decisions: no chosen t lies within TIE_MARGIN
   of the centring tolerance's edge, and each run shows at least one centred and one moving
   commit (else the decisions compared below would say little). */
static void script_is_far_from_ties(void **state)
{
    int centred = 0;
    (void)state;
    for (int i = 0; i < SCRIPT_ITERS; i++) {
        assert_true(fabs(fabs(golden_steps[i].t - 0.5) - 0.05) > TIE_MARGIN);
        centred += is_centred(golden_steps[i].t);
    }
    assert_true(centred > 0 && centred < SCRIPT_ITERS);
    assert_true(GOLDEN_TOL(script_radius()) < TIE_MARGIN * script_radius());
}

/* Today's steps against another run's: decisions exactly, centres within tol. */
static void assert_same_path(const struct scripted_step *a, const struct scripted_step *b,
                             double tol)
{
    for (int i = 0; i < SCRIPT_ITERS; i++) {
        assert_int_equal(a[i].index, b[i].index);
        assert_int_equal(is_centred(a[i].t), is_centred(b[i].t));
        assert_true(max_abs_diff(a[i].center, b[i].center, SCRIPT_N) <= tol);
    }
}

static int paths_differ(const struct scripted_step *a, const struct scripted_step *b, double tol)
{
    for (int i = 0; i < SCRIPT_ITERS; i++)
        if (a[i].index != b[i].index || max_abs_diff(a[i].center, b[i].center, SCRIPT_N) > tol)
            return 1;
    return 0;
}

/* Runs the script (configured) and returns its centres' hash; steps filled when not NULL. */
static uint64_t run_script(int (*configure)(dss_search *), struct scripted_step *steps)
{
    dss_synthetic *p = NULL;
    dss_search *s = NULL;
    uint64_t hash;
    double c[SCRIPT_N];
    assert_int_equal(scripted_run(configure, &p, &s, &hash, c, steps), DSS_OK);
    dss_search_destroy(s);
    dss_synthetic_destroy(p);
    return hash;
}

/* The default (FIXED, no escape) takes 1.0's decisions and stays within GOLDEN_TOL of its
   centres; its saved string is 1.0's layout plus the default policy block. */
static void default_follows_the_papers_method(void **state)
{
    struct scripted_step steps[SCRIPT_ITERS];
    dss_synthetic *p;
    dss_search *s;
    uint64_t hash;
    double c[SCRIPT_N];
    size_t len;
    (void)state;
    assert_int_equal(scripted_run(NULL, &p, &s, &hash, c, steps), DSS_OK);
    assert_same_path(steps, golden_steps, GOLDEN_TOL(script_radius()));
    unsigned char *buf = save(s, &len);
    assert_int_equal(len, sizeof golden_v1 + EXT_BYTES);
    free(buf);
    dss_search_destroy(s);
    dss_synthetic_destroy(p);
}

static int fixed_with_other_settings(dss_search *s)
{
    int rc = dss_search_set(s, DSS_SEARCH_RADIUS_POLICY, DSS_RADIUS_FIXED);
    if (rc == DSS_OK) rc = dss_search_set(s, DSS_SEARCH_RADIUS_GROW, 3.0);
    if (rc == DSS_OK) rc = dss_search_set(s, DSS_SEARCH_RADIUS_SHRINK, 0.25);
    if (rc == DSS_OK) rc = dss_search_set(s, DSS_SEARCH_RADIUS_MIN, 0.5);
    if (rc == DSS_OK) rc = dss_search_set(s, DSS_SEARCH_RADIUS_MAX, 5.0);
    if (rc == DSS_OK) rc = dss_search_set(s, DSS_SEARCH_STALL_COMMITS, 0);
    return rc;
}

/* Two runs in one process: the same binary and BLAS, so the same bits. */
static void fixed_ignores_the_other_policy_parameters(void **state)
{
    (void)state;
    assert_true(run_script(fixed_with_other_settings, NULL) == run_script(NULL, NULL));
}

static int zoom(dss_search *s) { return dss_search_set(s, DSS_SEARCH_RADIUS_POLICY, DSS_RADIUS_ZOOM); }
static int escape(dss_search *s) { return dss_search_set(s, DSS_SEARCH_STALL_COMMITS, 2); }

/* The script stalls (centred commits, two in a row) at least once, so ZOOM and the stall escape
   must leave the paper's path, by more than the rounding tolerance, compared in this process:
   this keeps the comparison above from passing for a policy that does nothing. */
static void zoom_and_escape_leave_the_papers_path(void **state)
{
    struct scripted_step paper[SCRIPT_ITERS], other[SCRIPT_ITERS];
    double tol = GOLDEN_TOL(script_radius());
    (void)state;
    (void)run_script(NULL, paper);
    (void)run_script(zoom, other);
    assert_true(paths_differ(paper, other, tol));
    (void)run_script(escape, other);
    assert_true(paths_differ(paper, other, tol));
}

/* libdss 1.0's string loads as FIXED with scale 1 (whatever the loading session's policy),
   holds 1.0's centre and saves again as 1.0's bytes plus the default block (no arithmetic);
   it continues exactly as its own save/load twin does, and within GOLDEN_TOL of today's
   uninterrupted run with the same decisions. */
static void version_1_strings_still_load(void **state)
{
    const double *last = golden_steps[SCRIPT_ITERS - 1].center;
    dss_synthetic *p, *q;
    dss_search *s, *fresh, *twin;
    uint64_t hash;
    double c[SCRIPT_N], v, r = NAN;
    size_t len_a, len_b;
    (void)state;
    assert_int_equal(scripted_run(NULL, &p, &s, &hash, c, NULL), DSS_OK);
    assert_int_equal(dss_synthetic_create(&q, SCRIPT_N, SCRIPT_M, 2.0, 3), DSS_OK);
    assert_int_equal(dss_search_create(&fresh, dss_synthetic_model(q)), DSS_OK);
    assert_int_equal(dss_search_create(&twin, dss_synthetic_model(q)), DSS_OK);
    assert_int_equal(dss_search_set(fresh, DSS_SEARCH_RADIUS_POLICY, DSS_RADIUS_ADAPTIVE), DSS_OK);
    assert_int_equal(dss_search_set(fresh, DSS_SEARCH_RADIUS_MAX, 7.0), DSS_OK);
    assert_int_equal(dss_search_load(fresh, golden_v1, sizeof golden_v1), DSS_OK);
    assert_int_equal(dss_search_center(fresh, c), DSS_OK);
    assert_memory_equal(c, last, sizeof c);
    /* the policy a fresh session has, not the loading session's */
    assert_int_equal(dss_search_get(fresh, DSS_SEARCH_RADIUS_POLICY, &v), DSS_OK);
    assert_true(v == DSS_RADIUS_FIXED);
    assert_int_equal(dss_search_get(fresh, DSS_SEARCH_RADIUS_MAX, &v), DSS_OK);
    assert_true(v == 2.0);
    assert_int_equal(dss_search_slider_radius(fresh, &r), DSS_OK);
    assert_int_equal(dss_search_get(fresh, DSS_SEARCH_RADIUS, &v), DSS_OK);
    assert_true(r == v);
    /* saved again: 1.0's bytes and the default block */
    unsigned char *a = save(s, &len_a), *b = save(fresh, &len_b);
    assert_is_golden_plus_default_block(b, len_b);
    assert_int_equal(len_a, len_b);
    assert_int_equal(dss_search_load(twin, b, len_b), DSS_OK);
    /* the next steps: the loaded string and its twin bit for bit, today's run within tol */
    for (int i = 0; i < 3; i++) {
        double ca[SCRIPT_N], cb[SCRIPT_N], ct[SCRIPT_N];
        size_t ia, ib, it;
        assert_int_equal(dss_search_commit(s, 0.8), DSS_OK);
        assert_int_equal(dss_search_commit(fresh, 0.8), DSS_OK);
        assert_int_equal(dss_search_commit(twin, 0.8), DSS_OK);
        assert_int_equal(dss_search_center(s, ca), DSS_OK);
        assert_int_equal(dss_search_center(fresh, cb), DSS_OK);
        assert_int_equal(dss_search_center(twin, ct), DSS_OK);
        assert_memory_equal(cb, ct, sizeof cb);
        assert_true(max_abs_diff(ca, cb, SCRIPT_N) <= GOLDEN_TOL(r));
        assert_int_equal(dss_search_basis_indices(s, &ia), DSS_OK);
        assert_int_equal(dss_search_basis_indices(fresh, &ib), DSS_OK);
        assert_int_equal(dss_search_basis_indices(twin, &it), DSS_OK);
        assert_int_equal(ia, ib);
        assert_int_equal(ib, it);
    }
    free(a);
    free(b);
    dss_search_destroy(s);
    dss_search_destroy(fresh);
    dss_search_destroy(twin);
    dss_synthetic_destroy(p);
    dss_synthetic_destroy(q);
}

/* ---- the rules on the pure functions ----------------------------------------------------- */

static const struct radius_commit *centred(void)
{
    static const double w0 = 0.0;
    static const struct radius_commit c = { .reach = 0.0, .centred = 1, .t = 0.5, .w = &w0, .l = 1 };
    return &c;
}

static const struct radius_commit *moved(double reach)
{
    static double w;
    static struct radius_commit c;
    w = reach;
    c = (struct radius_commit){ .reach = reach, .centred = 0, .t = (reach + 1.0) / 2.0, .w = &w,
                                .l = 1 };
    return &c;
}

/* The documented defaults (dss.h), written out: grow 2, shrink 1/2, scale in [1/16, 2], k = 0. */
static struct radius_params defaults_with(int policy)
{
    return (struct radius_params){ .policy = policy, .grow = 2.0, .shrink = 0.5,
                                   .scale_min = 0.0625, .scale_max = 2.0, .stall = 0 };
}

static void zoom_ladder(void **state)
{
    struct radius_params rp;
    struct radius_state rs;
    (void)state;
    rp = defaults_with(DSS_RADIUS_ZOOM);
    dssi_radius_start(&rs);
    assert_true(rs.scale == 1.0 && rs.centred == 0 && rs.need == 0 && rs.escaped == 0);
    /* 1 -> 1/2 -> 1/4 -> 1/8 -> 1/16 (the minimum), then the jump to the maximum, 2 */
    static const double ladder[] = { 0.5, 0.25, 0.125, 0.0625, 2.0, 1.0, 0.5 };
    for (size_t i = 0; i < sizeof ladder / sizeof ladder[0]; i++) {
        assert_int_equal(dssi_radius_after_commit(&rp, &rs, centred()), 0); /* k = 0: no escape */
        assert_true(rs.scale == ladder[i]);
        assert_true(rs.centred == 0); /* the stall count is the escape's, off with k = 0 */
    }
    dssi_radius_after_commit(&rp, &rs, moved(1.0)); /* progress: the paper's slider again */
    assert_true(rs.scale == 1.0);
    dssi_radius_after_commit(&rp, &rs, moved(0.1));
    assert_true(rs.scale == 1.0);
    /* FIXED without the escape: nothing moves, ever */
    rp.policy = DSS_RADIUS_FIXED;
    dssi_radius_start(&rs);
    for (int i = 0; i < 10; i++)
        assert_int_equal(dssi_radius_after_commit(&rp, &rs, i % 2 ? centred() : moved(1.0)), 0);
    assert_true(rs.scale == 1.0 && rs.centred == 0 && rs.need == 0 && rs.escaped == 0);
    assert_true(dssi_radius_scale(&rp, &(struct radius_state){ .scale = 0.25 }) == 1.0);
}

static void adaptive_grows_at_the_ends_and_the_centre(void **state)
{
    struct radius_params rp;
    struct radius_state rs;
    (void)state;
    rp = defaults_with(DSS_RADIUS_ADAPTIVE);
    rp.scale_max = 4.0;
    dssi_radius_start(&rs);
    dssi_radius_after_commit(&rp, &rs, moved(RADIUS_EDGE));       /* an end: x2 */
    assert_true(rs.scale == 2.0);
    dssi_radius_after_commit(&rp, &rs, moved(1.0));
    assert_true(rs.scale == 4.0);
    dssi_radius_after_commit(&rp, &rs, moved(1.0));               /* capped */
    assert_true(rs.scale == 4.0);
    dssi_radius_after_commit(&rp, &rs, moved(0.5));               /* inside: the paper's slider */
    assert_true(rs.scale == 1.0);
    dssi_radius_after_commit(&rp, &rs, centred());                /* nothing better nearby: x2 */
    assert_true(rs.scale == 2.0);
    dssi_radius_after_commit(&rp, &rs, moved(RADIUS_EDGE - 1e-9)); /* just inside */
    assert_true(rs.scale == 1.0);
    rp.grow = 3.0;
    dssi_radius_after_commit(&rp, &rs, centred());
    assert_true(rs.scale == 3.0);
    dssi_radius_after_commit(&rp, &rs, centred());
    assert_true(rs.scale == 4.0);
    /* bounds set after the fact are applied */
    rp.scale_max = 3.0;
    assert_true(dssi_radius_scale(&rp, &rs) == 3.0);
    rp.scale_min = 0.5;
    assert_true(dssi_radius_scale(&rp, &(struct radius_state){ .scale = 0.25 }) == 0.5);
    /* a grown scale never passes the maximum in force */
    dssi_radius_after_commit(&rp, &rs, centred());
    assert_true(rs.scale == 3.0);
}

/* The k-th centred commit in a row escapes; an escape followed by a centred commit doubles
   the count the next escape needs, up to 16 k; a moved commit restores k. */
static void stall_escape_and_its_backoff(void **state)
{
    struct radius_params rp = defaults_with(DSS_RADIUS_FIXED);
    struct radius_state rs;
    static const size_t needs[] = { 3, 6, 12, 24, 48, 48, 48 };
    (void)state;
    rp.stall = 3;
    dssi_radius_start(&rs);
    for (size_t e = 0; e < sizeof needs / sizeof needs[0]; e++) {
        for (size_t i = 1; i < needs[e]; i++)
            assert_int_equal(dssi_radius_after_commit(&rp, &rs, centred()), 0);
        assert_int_equal(dssi_radius_after_commit(&rp, &rs, centred()), 1);
        assert_true(rs.centred == 0 && rs.escaped == 1 && rs.need == needs[e]);
    }
    /* a commit that moves the centre: k again */
    assert_int_equal(dssi_radius_after_commit(&rp, &rs, moved(0.5)), 0);
    assert_true(rs.centred == 0 && rs.escaped == 0 && rs.need == 0);
    assert_int_equal(dssi_radius_after_commit(&rp, &rs, centred()), 0);
    assert_int_equal(dssi_radius_after_commit(&rp, &rs, centred()), 0);
    assert_int_equal(dssi_radius_after_commit(&rp, &rs, moved(0.2)), 0); /* interrupted */
    assert_int_equal(dssi_radius_after_commit(&rp, &rs, centred()), 0);
    assert_int_equal(dssi_radius_after_commit(&rp, &rs, centred()), 0);
    assert_int_equal(dssi_radius_after_commit(&rp, &rs, centred()), 1);
    /* an escape that moved the centre resets the backoff too */
    assert_int_equal(dssi_radius_after_commit(&rp, &rs, moved(1.0)), 0);
    assert_true(rs.need == 0 && rs.escaped == 0);
    /* a k lowered since: the count needed is clamped to 16 k at once */
    rs = (struct radius_state){ .scale = 1.0, .need = 48 };
    rp.stall = 1;
    assert_int_equal(dssi_radius_after_commit(&rp, &rs, centred()), 0);
    assert_true(rs.need == 16);
    /* under ADAPTIVE the escape's slider is the paper's: scale 1 */
    rp = defaults_with(DSS_RADIUS_ADAPTIVE);
    rp.stall = 2;
    dssi_radius_start(&rs);
    assert_int_equal(dssi_radius_after_commit(&rp, &rs, centred()), 0);
    assert_true(rs.scale == 2.0);
    assert_int_equal(dssi_radius_after_commit(&rp, &rs, centred()), 1);
    assert_true(rs.scale == 1.0);
    /* and under ZOOM too, wherever the ladder was */
    rp.policy = DSS_RADIUS_ZOOM;
    dssi_radius_start(&rs);
    assert_int_equal(dssi_radius_after_commit(&rp, &rs, centred()), 0);
    assert_true(rs.scale == 0.5);
    assert_int_equal(dssi_radius_after_commit(&rp, &rs, centred()), 1);
    assert_true(rs.scale == 1.0);
}

/* ---- through the API ---------------------------------------------------------------------- */

typedef struct fx { dss_synthetic *p; dss_search *s; } fx;

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    double z0[SCRIPT_N];
    assert_non_null(f);
    assert_int_equal(dss_synthetic_create(&f->p, SCRIPT_N, SCRIPT_M, 2.0, 3), DSS_OK);
    assert_int_equal(dss_search_create(&f->s, dss_synthetic_model(f->p)), DSS_OK);
    assert_int_equal(dss_search_set(f->s, DSS_SEARCH_RADIUS_POLICY, DSS_RADIUS_ADAPTIVE), DSS_OK);
    assert_int_equal(dss_synthetic_initial_point(f->p, z0), DSS_OK);
    assert_int_equal(dss_search_start(f->s, z0), DSS_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    dss_search_destroy(f->s);
    dss_synthetic_destroy(f->p);
    free(f);
    return 0;
}

static double slider(const dss_search *s)
{
    double r = NAN; /* NAN if the call did not write it: the caller's checks fail */
    assert_int_equal(dss_search_slider_radius(s, &r), DSS_OK);
    return r;
}

static void api_maps_through_the_scaled_radius_and_undoes_it(void **state)
{
    fx *f = *state;
    double base, c[SCRIPT_N], b[SCRIPT_N], z[SCRIPT_N];
    assert_int_equal(dss_search_get(f->s, DSS_SEARCH_RADIUS, &base), DSS_OK);
    assert_true(slider(f->s) == base);
    assert_int_equal(dss_search_commit(f->s, 1.0), DSS_OK);   /* an end: the scale doubles */
    assert_true(slider(f->s) == 2.0 * base);
    assert_int_equal(dss_search_get(f->s, DSS_SEARCH_RADIUS, &b[0]), DSS_OK);
    assert_true(b[0] == base);                                /* the base radius is unchanged */
    assert_int_equal(dss_search_center(f->s, c), DSS_OK);
    assert_int_equal(dss_search_basis(f->s, b), DSS_OK);
    assert_int_equal(dss_search_point(f->s, 1.0, z), DSS_OK);
    for (int j = 0; j < SCRIPT_N; j++)
        assert_true(fabs(z[j] - (c[j] + 2.0 * base * b[j])) <= 1e-12 * (1.0 + fabs(z[j])));
    assert_int_equal(dss_search_commit(f->s, 0.75), DSS_OK);  /* inside: the paper's slider */
    assert_true(slider(f->s) == base);
    assert_int_equal(dss_search_commit(f->s, 0.5), DSS_OK);   /* centred: look farther */
    assert_true(slider(f->s) == 2.0 * base);
    assert_int_equal(dss_search_undo(f->s), DSS_OK);
    assert_true(slider(f->s) == base);
    assert_int_equal(dss_search_undo(f->s), DSS_OK);
    assert_true(slider(f->s) == 2.0 * base);
    assert_int_equal(dss_search_undo(f->s), DSS_OK);
    assert_true(slider(f->s) == base);
    /* start resets the policy's state */
    assert_int_equal(dss_search_commit(f->s, 0.0), DSS_OK);
    assert_int_equal(dss_search_start(f->s, c), DSS_OK);
    assert_true(slider(f->s) == base);
}

static void api_saves_and_loads_the_policy_state(void **state)
{
    fx *f = *state;
    dss_search *t;
    size_t len, len2;
    double v;
    assert_int_equal(dss_search_set(f->s, DSS_SEARCH_RADIUS_GROW, 3.0), DSS_OK);
    assert_int_equal(dss_search_set(f->s, DSS_SEARCH_RADIUS_MAX, 9.0), DSS_OK);
    assert_int_equal(dss_search_set(f->s, DSS_SEARCH_STALL_COMMITS, 4), DSS_OK);
    assert_int_equal(dss_search_commit(f->s, 0.0), DSS_OK);
    assert_int_equal(dss_search_commit(f->s, 0.5), DSS_OK);
    unsigned char *buf = save(f->s, &len);
    assert_int_equal(dss_search_create(&t, dss_synthetic_model(f->p)), DSS_OK);
    assert_int_equal(dss_search_load(t, buf, len), DSS_OK);
    assert_true(slider(t) == slider(f->s));
    assert_int_equal(dss_search_get(t, DSS_SEARCH_RADIUS_GROW, &v), DSS_OK);
    assert_true(v == 3.0);
    assert_int_equal(dss_search_get(t, DSS_SEARCH_STALL_COMMITS, &v), DSS_OK);
    assert_true(v == 4.0);
    unsigned char *again = save(t, &len2);
    assert_int_equal(len, len2);
    assert_memory_equal(buf, again, len);
    for (int i = 0; i < 4; i++) { /* the stall count came along: same escapes */
        assert_int_equal(dss_search_commit(f->s, 0.5), DSS_OK);
        assert_int_equal(dss_search_commit(t, 0.5), DSS_OK);
        assert_true(slider(t) == slider(f->s));
    }
    free(again);
    /* a malformed state, CRC fixed: EFORMAT and nothing changes. The fields: the scale (a
       binary64 at offset 0), the stall count (8) and the count the next escape needs (16),
       each at most 16 x 10^6, the escape flag (byte 24, 0 or 1) */
    static const double bad_scales[] = { 0.0, -1.0, NAN, INFINITY, 2e6 };
    static const struct { size_t off; uint64_t value; } bad[] = {
        { 8, 16000001u }, { 16, 16000001u }, { 16, UINT64_MAX }, { 24, 2 }, { 25, 1 },
    };
    const size_t nbad = sizeof bad_scales / sizeof bad_scales[0] + sizeof bad / sizeof bad[0];
    for (size_t k = 0; k < nbad; k++) {
        unsigned char *copy = malloc(len);
        size_t off = 0;
        uint64_t bits;
        uint32_t crc;
        assert_non_null(copy);
        memcpy(copy, buf, len);
        if (k < sizeof bad_scales / sizeof bad_scales[0]) {
            memcpy(&bits, &bad_scales[k], 8);
        } else {
            off = bad[k - sizeof bad_scales / sizeof bad_scales[0]].off;
            bits = bad[k - sizeof bad_scales / sizeof bad_scales[0]].value;
        }
        for (size_t i = 0; i < 8 && off + i < 32; i++)
            copy[STATE_AT(len) + off + i] = (unsigned char)(bits >> (8 * i));
        crc = support_crc32(copy, len - 4);
        for (int i = 0; i < 4; i++)
            copy[len - 4 + i] = (unsigned char)(crc >> (8 * i));
        double before = slider(t);
        assert_int_equal(dss_search_load(t, copy, len), DSS_EFORMAT);
        assert_true(slider(t) == before);
        free(copy);
    }
    /* the largest counts load */
    {
        unsigned char *copy = malloc(len);
        uint32_t crc;
        assert_non_null(copy);
        memcpy(copy, buf, len);
        for (int i = 0; i < 8; i++)
            copy[STATE_AT(len) + 16 + i] = (unsigned char)((uint64_t)16000000u >> (8 * i));
        crc = support_crc32(copy, len - 4);
        for (int i = 0; i < 4; i++)
            copy[len - 4 + i] = (unsigned char)(crc >> (8 * i));
        assert_int_equal(dss_search_load(t, copy, len), DSS_OK);
        free(copy);
    }
    free(buf);
    dss_search_destroy(t);
}

static void top_direction_at(const dss_search *s, const dss_model *model, double *top)
{
    dss_search *fresh;
    double c[SCRIPT_N];
    assert_int_equal(dss_search_center(s, c), DSS_OK);
    assert_int_equal(dss_search_create(&fresh, model), DSS_OK);
    assert_int_equal(dss_search_set(fresh, DSS_SEARCH_SAMPLER, DSS_SAMPLER_TOP), DSS_OK);
    assert_int_equal(dss_search_start(fresh, c), DSS_OK);
    assert_int_equal(dss_search_basis(fresh, top), DSS_OK);
    dss_search_destroy(fresh);
}

/* The k-th centred commit recomputes the Jacobian at the new centre (one more decomposition)
   and shows its top singular direction, which a fresh session started there with the TOP
   sampler shows too; undo goes back to the stale decomposition's slider. */
static void api_escape_recomputes_and_shows_the_top_direction(void **state)
{
    fx *f = *state;
    const dss_model *model = dss_synthetic_model(f->p);
    double d0 = 0.0, d1 = 0.0, b_before[SCRIPT_N], b[SCRIPT_N], top[SCRIPT_N], c_before[SCRIPT_N], c[SCRIPT_N];
    assert_int_equal(dss_search_set(f->s, DSS_SEARCH_RADIUS_POLICY, DSS_RADIUS_FIXED), DSS_OK);
    assert_int_equal(dss_search_set(f->s, DSS_SEARCH_STALL_COMMITS, 2), DSS_OK);
    assert_int_equal(dss_search_stat(f->s, DSS_STAT_DECOMPOSITIONS, &d0), DSS_OK);
    assert_int_equal(dss_search_commit(f->s, 0.52), DSS_OK);  /* centred: Jacobian kept */
    assert_int_equal(dss_search_stat(f->s, DSS_STAT_DECOMPOSITIONS, &d1), DSS_OK);
    assert_true(d1 == d0);
    top_direction_at(f->s, model, top);
    assert_int_equal(dss_search_basis(f->s, b_before), DSS_OK);
    assert_int_equal(dss_search_center(f->s, c_before), DSS_OK);
    double dot = 0.0;
    for (int j = 0; j < SCRIPT_N; j++)
        dot += b_before[j] * top[j];
    assert_true(fabs(dot) < 1.0 - 1e-6); /* the stale slider is not already the top direction */
    assert_int_equal(dss_search_commit(f->s, 0.48), DSS_OK);  /* the second: an escape */
    assert_int_equal(dss_search_stat(f->s, DSS_STAT_DECOMPOSITIONS, &d1), DSS_OK);
    assert_true(d1 == d0 + 1);
    top_direction_at(f->s, model, top);
    assert_int_equal(dss_search_basis(f->s, b), DSS_OK);
    for (int j = 0; j < SCRIPT_N; j++)
        assert_true(fabs(b[j] - top[j]) <= 1e-12);
    assert_int_equal(dss_search_get(f->s, DSS_SEARCH_RADIUS, &d0), DSS_OK);
    assert_true(slider(f->s) == d0);
    /* undo: the centre and slider of before the escape */
    assert_int_equal(dss_search_undo(f->s), DSS_OK);
    assert_int_equal(dss_search_basis(f->s, b), DSS_OK);
    assert_int_equal(dss_search_center(f->s, c), DSS_OK);
    assert_memory_equal(b, b_before, sizeof b);
    assert_memory_equal(c, c_before, sizeof c);
    /* the stall count came back with it: one centred commit escapes again */
    assert_int_equal(dss_search_commit(f->s, 0.48), DSS_OK);
    assert_int_equal(dss_search_basis(f->s, b), DSS_OK);
    for (int j = 0; j < SCRIPT_N; j++)
        assert_true(fabs(b[j] - top[j]) <= 1e-12);
    /* after an escape a centred commit waits for 2 k = 4 (no decomposition until then), in
       this session and in one loaded from its save: the backoff is part of the session */
    size_t len;
    unsigned char *buf = save(f->s, &len);
    dss_search *t;
    assert_int_equal(dss_search_create(&t, model), DSS_OK);
    assert_int_equal(dss_search_load(t, buf, len), DSS_OK);
    free(buf);
    dss_search *both[2] = { f->s, t };
    for (int k = 0; k < 2; k++) {
        assert_int_equal(dss_search_stat(both[k], DSS_STAT_DECOMPOSITIONS, &d0), DSS_OK);
        for (int i = 0; i < 3; i++) {
            assert_int_equal(dss_search_commit(both[k], 0.5), DSS_OK);
            assert_int_equal(dss_search_stat(both[k], DSS_STAT_DECOMPOSITIONS, &d1), DSS_OK);
            assert_true(d1 == d0);
        }
        assert_int_equal(dss_search_commit(both[k], 0.5), DSS_OK);
        assert_int_equal(dss_search_stat(both[k], DSS_STAT_DECOMPOSITIONS, &d1), DSS_OK);
        assert_true(d1 == d0 + 1);
    }
    assert_int_equal(dss_search_center(t, c), DSS_OK);
    assert_int_equal(dss_search_center(f->s, c_before), DSS_OK);
    assert_memory_equal(c, c_before, sizeof c);
    dss_search_destroy(t);
    /* every later escape shows the top direction too, not a sampled one (which would be the
       top one only with probability s_1 / sum s_i at each of them) */
    for (int e = 0; e < 4; e++) {
        assert_int_equal(dss_search_stat(f->s, DSS_STAT_DECOMPOSITIONS, &d0), DSS_OK);
        do {
            assert_int_equal(dss_search_commit(f->s, 0.49), DSS_OK);
            assert_int_equal(dss_search_stat(f->s, DSS_STAT_DECOMPOSITIONS, &d1), DSS_OK);
        } while (d1 == d0);
        top_direction_at(f->s, model, top);
        assert_int_equal(dss_search_basis(f->s, b), DSS_OK);
        for (int j = 0; j < SCRIPT_N; j++)
            assert_true(fabs(b[j] - top[j]) <= 1e-12);
    }
}

static void api_rejects_bad_values(void **state)
{
    fx *f = *state;
    static const struct { int param; double value; } bad[] = {
        { DSS_SEARCH_RADIUS_POLICY, 3 }, { DSS_SEARCH_RADIUS_POLICY, -1 },
        { DSS_SEARCH_RADIUS_POLICY, 0.5 }, { DSS_SEARCH_RADIUS_GROW, 1.0 },
        { DSS_SEARCH_RADIUS_GROW, 17.0 }, { DSS_SEARCH_RADIUS_GROW, NAN },
        { DSS_SEARCH_RADIUS_SHRINK, 1.0 }, { DSS_SEARCH_RADIUS_SHRINK, 0.0 },
        { DSS_SEARCH_RADIUS_MIN, 0.0 }, { DSS_SEARCH_RADIUS_MIN, 1.5 },
        { DSS_SEARCH_RADIUS_MAX, 0.5 }, { DSS_SEARCH_RADIUS_MAX, INFINITY },
        { DSS_SEARCH_STALL_COMMITS, -1 }, { DSS_SEARCH_STALL_COMMITS, 1.5 },
        { DSS_SEARCH_STALL_COMMITS, 2e6 }, { 24, 1.0 },
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        double before[6], after;
        for (int id = 17; id <= 22; id++)
            assert_int_equal(dss_search_get(f->s, id, &before[id - 17]), DSS_OK);
        assert_int_equal(dss_search_set(f->s, bad[k].param, bad[k].value), DSS_EINVAL);
        for (int id = 17; id <= 22; id++) {
            assert_int_equal(dss_search_get(f->s, id, &after), DSS_OK);
            assert_true(after == before[id - 17]);
        }
    }
    assert_int_equal(dss_search_get(f->s, 24, &(double){ 0 }), DSS_EINVAL);
    assert_int_equal(dss_search_slider_radius(NULL, &(double){ 0 }), DSS_EINVAL);
    assert_int_equal(dss_search_slider_radius(f->s, NULL), DSS_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(script_is_far_from_ties),
        cmocka_unit_test(default_follows_the_papers_method),
        cmocka_unit_test(fixed_ignores_the_other_policy_parameters),
        cmocka_unit_test(zoom_and_escape_leave_the_papers_path),
        cmocka_unit_test(version_1_strings_still_load),
        cmocka_unit_test(zoom_ladder),
        cmocka_unit_test(adaptive_grows_at_the_ends_and_the_centre),
        cmocka_unit_test(stall_escape_and_its_backoff),
        cmocka_unit_test_setup_teardown(api_maps_through_the_scaled_radius_and_undoes_it, setup, teardown),
        cmocka_unit_test_setup_teardown(api_saves_and_loads_the_policy_state, setup, teardown),
        cmocka_unit_test_setup_teardown(api_escape_recomputes_and_shows_the_top_direction, setup, teardown),
        cmocka_unit_test_setup_teardown(api_rejects_bad_values, setup, teardown),
    };
    return support_leak_exit(cmocka_run_group_tests_name("radius", tests, NULL, NULL));
}
