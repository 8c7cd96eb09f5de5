/*
 * Save and load (dss_search_save, dss_search_load) and the byte format of docs/format.md.
 *
 * - The size query, a too small buffer, an unstarted session.
 * - Save, destroy, create a fresh session on the same model, load: the calls that follow
 *   (resamples, commits near and far, commit_w, find_optimal) give bit-identical results to an
 *   uninterrupted twin, in every Jacobian mode, with l > 1, and with singular vectors the saved
 *   session had not computed yet (the Gram route computes them lazily).
 * - The string is deterministic: saving twice, or saving twins, gives the same bytes, whatever
 *   the memory the allocator handed out held before.
 * - Rejections, each DSS_EFORMAT with the session unchanged (snapshot, statistics included):
 *   another n or m, every truncation, every single-byte change, a future format version, and
 *   strings whose CRC is valid but whose fields are not.
 *
 * The CRC-32 here is an independent bit-at-a-time implementation (IEEE 802.3, reflected
 * polynomial 0xEDB88320, as zlib's crc32), checked against the standard test vector.
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

#include "support.h"

#define NMAX 16

/* ---- an independent CRC-32 and little-endian field access ------------------------------------- */

static uint64_t get_le(const unsigned char *p, int bytes)
{
    uint64_t v = 0;
    for (int i = bytes - 1; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static void put_le(unsigned char *p, uint64_t v, int bytes)
{
    for (int i = 0; i < bytes; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static double get_f64(const unsigned char *p)
{
    uint64_t bits = get_le(p, 8);
    double v;
    memcpy(&v, &bits, sizeof v);
    return v;
}

static void put_f64(unsigned char *p, double v)
{
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    put_le(p, bits, 8);
}

/* Recompute the trailing CRC of a string of len bytes. */
static void fix_crc(unsigned char *buf, size_t len)
{
    put_le(buf + len - 4, support_crc32(buf, len - 4), 4);
}

/* ---- the documented layout --------------------------------------------------------------------- */

#define HEADER_BYTES 48
#define PARAM_BYTES 16   /* (u64 id, f64 value) */
#define NPARAMS 16
#define POLICY_PARAMS 6  /* version 2's policy block: ids 17..22 */
#define POLICY_STATE_BYTES 32

typedef struct layout {
    size_t n, m, l, rank;
    int lazy;
    size_t params, rng, center, basis, idx, rank_at, avail, dec_center, dec_rng, jac, lazy_at, s,
           have, v, g, tau, d, e, policy, policy_state, crc, total;
} layout;

/* Offsets of every field of the string buf (len bytes), from docs/format.md; the sizes it reads
   (n, m, l, rank, the lazy flag) are taken from the string itself. */
static void layout_of(const unsigned char *buf, size_t len, layout *lo)
{
    memset(lo, 0, sizeof *lo);
    assert_true(len >= HEADER_BYTES + 4);
    lo->n = (size_t)get_le(buf + 24, 8);
    lo->m = (size_t)get_le(buf + 32, 8);
    lo->l = (size_t)get_le(buf + 40, 8);
    lo->params = HEADER_BYTES;
    lo->rng = lo->params + NPARAMS * PARAM_BYTES;
    lo->center = lo->rng + 32;
    lo->basis = lo->center + 8 * lo->n;
    lo->idx = lo->basis + 8 * lo->l * lo->n;
    lo->rank_at = lo->idx + 8 * lo->l;
    assert_true(lo->rank_at + 8 <= len);
    lo->rank = (size_t)get_le(buf + lo->rank_at, 8);
    lo->avail = lo->rank_at + 8;
    lo->dec_center = lo->avail + lo->rank;
    lo->dec_rng = lo->dec_center + 8 * lo->n;
    lo->jac = lo->dec_rng + 32;
    lo->lazy_at = lo->jac + 8 * 8;
    assert_true(lo->lazy_at < len);
    lo->lazy = buf[lo->lazy_at];
    lo->s = lo->lazy_at + 1;
    lo->have = lo->s + 8 * lo->rank;
    lo->v = lo->have + lo->rank;
    lo->g = lo->v + 8 * lo->rank * lo->n;
    lo->tau = lo->g + (lo->lazy ? 8 * lo->n * lo->n : 0);
    lo->d = lo->tau + (lo->lazy ? 8 * lo->n : 0);
    lo->e = lo->d + (lo->lazy ? 8 * lo->n : 0);
    lo->policy = lo->e + (lo->lazy ? 8 * lo->n : 0); /* version 2: the slider-range policy */
    lo->policy_state = lo->policy + 8 + POLICY_PARAMS * PARAM_BYTES;
    lo->crc = lo->policy_state + POLICY_STATE_BYTES;
    lo->total = lo->crc + 4;
}

/* Offset of parameter id's value. */
static size_t param_at(const layout *lo, int id)
{
    return lo->params + (size_t)(id - 1) * PARAM_BYTES + 8;
}

/* Offset of policy parameter id's value (ids 17..22, after the block's pair count). */
static size_t policy_at(const layout *lo, int id)
{
    return lo->policy + 8 + (size_t)(id - DSS_SEARCH_RADIUS_POLICY) * PARAM_BYTES + 8;
}

/* ---- configurations and fixture ---------------------------------------------------------------- */

typedef struct mode_cfg {
    const char *name;
    size_t m, n;
    unsigned flags;
    int jacobian;
    size_t l;
    size_t rows;
    size_t rank, oversample;
    int sampler;
} mode_cfg;

static const mode_cfg MODES[] = {
    { "full, tall (Gram route, lazy vectors)", 20, 6, LIN_WITH_JACOBIAN, DSS_JACOBIAN_FULL, 1, 0, 0, 0,
      DSS_SAMPLER_SINGULAR },
    { "full, tall, l = 3", 20, 6, LIN_WITH_JACOBIAN, DSS_JACOBIAN_FULL, 3, 0, 0, 0,
      DSS_SAMPLER_SINGULAR },
    { "full, wide (dgesvd route)", 5, 8, LIN_WITH_JACOBIAN, DSS_JACOBIAN_FULL, 1, 0, 0, 0,
      DSS_SAMPLER_SINGULAR },
    { "rows", 30, 8, LIN_WITH_JACOBIAN, DSS_JACOBIAN_ROWS, 1, 5, 0, 0, DSS_SAMPLER_SINGULAR },
    { "rows, l = 2", 30, 8, LIN_WITH_JACOBIAN, DSS_JACOBIAN_ROWS, 2, 5, 0, 0, DSS_SAMPLER_SINGULAR },
    { "finite differences", 12, 5, 0, DSS_JACOBIAN_FINITE_DIFF, 1, 0, 0, 0, DSS_SAMPLER_SINGULAR },
    { "finite differences, l = 2", 12, 5, 0, DSS_JACOBIAN_FINITE_DIFF, 2, 0, 0, 0,
      DSS_SAMPLER_SINGULAR },
    { "randomized (VJP + JVP)", 20, 8, LIN_WITH_VJP | LIN_WITH_JVP, DSS_JACOBIAN_RANDOMIZED, 1, 0, 4, 2,
      DSS_SAMPLER_SINGULAR },
    { "randomized without JVP, l = 2", 20, 8, LIN_WITH_VJP, DSS_JACOBIAN_RANDOMIZED, 2, 0, 4, 2,
      DSS_SAMPLER_SINGULAR },
    { "top sampler, l = 2", 20, 6, LIN_WITH_JACOBIAN, DSS_JACOBIAN_FULL, 2, 0, 0, 0,
      DSS_SAMPLER_TOP },
    { "random sampler, l = 2", 20, 6, LIN_WITH_JACOBIAN, DSS_JACOBIAN_FULL, 2, 0, 0, 0,
      DSS_SAMPLER_RANDOM },
};
#define NMODES (sizeof MODES / sizeof MODES[0])

typedef struct fixture {
    const mode_cfg *cfg;
    lin_model  *lm;
    dss_model  *model;
    dss_search *a;      /* the uninterrupted session */
    dss_search *b;      /* saved, destroyed, re-created, loaded */
    double      z0[NMAX];
    unsigned char *buf; /* a saved string */
    size_t      len;
} fixture;

static void fixture_clear(fixture *fx)
{
    dss_search_destroy(fx->a);
    dss_search_destroy(fx->b);
    dss_model_destroy(fx->model);
    lin_destroy(fx->lm);
    free(fx->buf);
    memset(fx, 0, sizeof *fx);
}

static void set_ok(dss_search *s, int param, double value)
{
    assert_int_equal(dss_search_set(s, param, value), DSS_OK);
}

/* The configuration's parameters on s. */
static void configure(dss_search *s, const mode_cfg *cfg)
{
    set_ok(s, DSS_SEARCH_SEED, 5);
    set_ok(s, DSS_SEARCH_JACOBIAN, cfg->jacobian);
    set_ok(s, DSS_SEARCH_SUBSPACE_DIM, (double)cfg->l);
    set_ok(s, DSS_SEARCH_SAMPLER, cfg->sampler);
    if (cfg->rows)
        set_ok(s, DSS_SEARCH_JACOBIAN_ROWS, (double)cfg->rows);
    if (cfg->rank) {
        set_ok(s, DSS_SEARCH_RANK, (double)cfg->rank);
        set_ok(s, DSS_SEARCH_OVERSAMPLE, (double)cfg->oversample);
    }
}

/* Model, two configured sessions started at z0. */
static void build(fixture *fx, const mode_cfg *cfg)
{
    fixture_clear(fx);
    fx->cfg = cfg;
    fx->lm = lin_create(cfg->m, cfg->n, NULL, 13 * cfg->m + cfg->n);
    assert_non_null(fx->lm);
    assert_int_equal(lin_dss_model(fx->lm, cfg->flags, &fx->model), DSS_OK);
    assert_int_equal(dss_search_create(&fx->a, fx->model), DSS_OK);
    assert_int_equal(dss_search_create(&fx->b, fx->model), DSS_OK);
    configure(fx->a, cfg);
    configure(fx->b, cfg);
    support_rng r;
    support_rng_seed(&r, 41);
    support_fill_uniform(&r, fx->z0, cfg->n, -1.0, 1.0);
    assert_int_equal(dss_search_start(fx->a, fx->z0), DSS_OK);
    assert_int_equal(dss_search_start(fx->b, fx->z0), DSS_OK);
}

static int setup(void **state)
{
    fixture *fx = calloc(1, sizeof *fx);
    if (!fx)
        return -1;
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    fixture *fx = *state;
    fixture_clear(fx);
    free(fx);
    return 0;
}

/* Save s into a fresh malloc'ed buffer; *len receives its size. */
static unsigned char *save(const dss_search *s, size_t *len)
{
    size_t need = 0, got = 0;
    assert_int_equal(dss_search_save(s, NULL, 0, &need), DSS_OK);
    assert_true(need > HEADER_BYTES + 4);
    unsigned char *buf = malloc(need);
    assert_non_null(buf);
    assert_int_equal(dss_search_save(s, buf, need, &got), DSS_OK);
    assert_int_equal(got, need);
    *len = need;
    return buf;
}

static void take(const dss_search *s, size_t n, support_snapshot *snap)
{
    assert_int_equal(support_snapshot_take(s, n, snap), 0);
}

/* Two sessions show bit-identical snapshots (statistics aside). */
static void assert_same(const fixture *fx, const dss_search *x, const dss_search *y,
                        const char *what, size_t i)
{
    support_snapshot p, q;
    take(x, fx->cfg->n, &p);
    take(y, fx->cfg->n, &q);
    int same = support_snapshot_equal(&p, &q);
    support_snapshot_free(&p);
    support_snapshot_free(&q);
    if (!same)
        fail_msg("[%s] sessions differ: %s %zu", fx->cfg->name, what, i);
}

/* A score with a maximum inside the slider range: -(sum_d (x_d - 0.1 d)^2). */
static int score(void *user, size_t k, const double *x, double *out)
{
    const size_t m = *(const size_t *)user;
    for (size_t i = 0; i < k; i++) {
        double acc = 0.0;
        for (size_t d = 0; d < m; d++) {
            double r = x[i * m + d] - 0.1 * (double)d;
            acc += r * r;
        }
        out[i] = -acc;
    }
    return 0;
}

/* The same calls on both sessions, comparing after each: resamples, a near commit, a far
   commit, commit_w both ways, and a line search whose result is committed. */
static void same_future(fixture *fx, dss_search *x, dss_search *y)
{
    static const double w_far[3] = { 0.6, -0.5, 0.3 }, w_near[3] = { 0.02, -0.03, 0.01 };
    dss_line *line;
    assert_int_equal(dss_line_create(&line), DSS_OK);
    assert_int_equal(dss_line_set(line, DSS_LINE_SAMPLES, 21), DSS_OK);
    assert_int_equal(dss_line_set(line, DSS_LINE_REFINE, 1), DSS_OK);
    size_t m = fx->cfg->m;
    for (size_t i = 0; i < 9; i++) {
        int sx, sy;
        switch (i % 9) {
        case 0: case 1: case 4:
            sx = dss_search_resample(x);
            sy = dss_search_resample(y);
            break;
        case 2:
            sx = dss_search_commit(x, 0.52);
            sy = dss_search_commit(y, 0.52);
            break;
        case 3:
            sx = dss_search_commit(x, 0.15);
            sy = dss_search_commit(y, 0.15);
            break;
        case 5:
            sx = dss_search_commit_w(x, w_far);
            sy = dss_search_commit_w(y, w_far);
            break;
        case 6:
            sx = dss_search_commit_w(x, w_near);
            sy = dss_search_commit_w(y, w_near);
            break;
        default: {
            double tx = -1, ty = -2, gx = -1, gy = -2;
            assert_int_equal(dss_search_find_optimal(line, x, score, &m, &tx, &gx), DSS_OK);
            assert_int_equal(dss_search_find_optimal(line, y, score, &m, &ty, &gy), DSS_OK);
            assert_memory_equal(&tx, &ty, sizeof tx);
            assert_memory_equal(&gx, &gy, sizeof gx);
            sx = dss_search_commit(x, tx);
            sy = dss_search_commit(y, ty);
            break;
        }
        }
        assert_int_equal(sx, DSS_OK);
        assert_int_equal(sy, DSS_OK);
        assert_same(fx, x, y, "after call", i);
    }
    dss_line_destroy(line);
}

/* Save b, destroy it, create a fresh default session on the same model and load the string. */
static void save_destroy_create_load(fixture *fx)
{
    free(fx->buf);
    fx->buf = save(fx->b, &fx->len);
    dss_search_destroy(fx->b);
    fx->b = NULL;
    assert_int_equal(dss_search_create(&fx->b, fx->model), DSS_OK);
    assert_int_equal(dss_search_load(fx->b, fx->buf, fx->len), DSS_OK);
}

/* ---- tests: saving ----------------------------------------------------------------------------- */

static void reference_crc32_matches_the_standard_check_value(void **state)
{
    (void)state;
    const char *check = "123456789";
    assert_int_equal(support_crc32((const unsigned char *)check, 9), 0xCBF43926u);
    assert_int_equal(support_crc32(NULL, 0), 0u);
}

static void save_rejects_null_arguments(void **state)
{
    fixture *fx = *state;
    build(fx, &MODES[0]);
    unsigned char buf[8];
    size_t len = 0;
    assert_int_equal(dss_search_save(NULL, NULL, 0, &len), DSS_EINVAL);
    assert_int_equal(dss_search_save(fx->a, NULL, 0, NULL), DSS_EINVAL);
    assert_int_equal(dss_search_save(fx->a, buf, sizeof buf, NULL), DSS_EINVAL);
}

static void save_before_start_is_estate(void **state)
{
    fixture *fx = *state;
    build(fx, &MODES[0]);
    dss_search *fresh;
    unsigned char buf[4096];
    size_t len = 12345;
    assert_int_equal(dss_search_create(&fresh, fx->model), DSS_OK);
    assert_int_equal(dss_search_save(fresh, NULL, 0, &len), DSS_ESTATE);
    assert_int_equal(dss_search_save(fresh, buf, sizeof buf, &len), DSS_ESTATE);
    dss_search_destroy(fresh);
}

/* buf NULL reports the size; exactly that many bytes are written; a smaller cap is DSS_EINVAL
   with the needed size reported. */
static void save_reports_its_size_and_rejects_a_small_buffer(void **state)
{
    fixture *fx = *state;
    for (size_t k = 0; k < NMODES; k++) {
        build(fx, &MODES[k]);
        size_t need = 0, len = 0;
        assert_int_equal(dss_search_save(fx->a, NULL, 0, &need), DSS_OK);
        assert_int_equal(dss_search_save(fx->a, NULL, 999999, &len), DSS_OK); /* cap ignored */
        assert_int_equal(len, need);
        unsigned char *buf = malloc(need + 64);
        assert_non_null(buf);
        memset(buf, 0xA5, need + 64);
        len = 0;
        assert_int_equal(dss_search_save(fx->a, buf, need - 1, &len), DSS_EINVAL);
        assert_int_equal(len, need);
        len = 0;
        assert_int_equal(dss_search_save(fx->a, buf, 0, &len), DSS_EINVAL);
        assert_int_equal(len, need);
        len = 0;
        assert_int_equal(dss_search_save(fx->a, buf, need + 64, &len), DSS_OK);
        assert_int_equal(len, need);
        for (size_t i = need; i < need + 64; i++)
            assert_int_equal(buf[i], 0xA5); /* nothing written past the string */
        layout lo;
        layout_of(buf, len, &lo);
        assert_int_equal(lo.total, len);
        free(buf);
    }
}

/* The header and framing as docs/format.md describes them. */
static void saved_string_has_the_documented_layout(void **state)
{
    fixture *fx = *state;
    for (size_t k = 0; k < NMODES; k++) {
        const mode_cfg *cfg = &MODES[k];
        build(fx, cfg);
        assert_int_equal(dss_search_resample(fx->a), DSS_OK);
        size_t len;
        unsigned char *buf = save(fx->a, &len);
        layout lo;
        assert_memory_equal(buf, "DSSSTATE", 8);
        assert_int_equal(get_le(buf + 8, 4), 2);                  /* format version */
        static const unsigned char bom[4] = { 0x04, 0x03, 0x02, 0x01 };
        assert_memory_equal(buf + 12, bom, 4);                    /* 0x01020304, little-endian */
        assert_int_equal(get_le(buf + 16, 8), len);               /* total length */
        assert_int_equal(get_le(buf + 24, 8), cfg->n);
        assert_int_equal(get_le(buf + 32, 8), cfg->m);
        assert_int_equal(get_le(buf + 40, 8), dss_search_subspace_dim(fx->a));
        layout_of(buf, len, &lo);
        assert_int_equal(lo.total, len);
        assert_int_equal(get_le(buf + len - 4, 4), support_crc32(buf, len - 4));
        for (int id = 1; id <= NPARAMS; id++)
            assert_int_equal(get_le(buf + param_at(&lo, id) - 8, 8), (uint64_t)id);
        /* parameter values: those in force; the radius as set (0: the prior's default) */
        for (int id = 1; id <= NPARAMS; id++) {
            double v;
            assert_int_equal(dss_search_get(fx->a, id, &v), DSS_OK);
            double saved = get_f64(buf + param_at(&lo, id));
            if (id == DSS_SEARCH_RADIUS)
                assert_true(saved == 0.0);
            else
                assert_true(saved == v);
        }
        /* the state as the API shows it */
        double centre[NMAX], basis[3 * NMAX], sv[NMAX];
        size_t idx[3];
        assert_int_equal(dss_search_center(fx->a, centre), DSS_OK);
        assert_int_equal(dss_search_basis(fx->a, basis), DSS_OK);
        assert_int_equal(dss_search_basis_indices(fx->a, idx), DSS_OK);
        assert_int_equal(dss_search_singular_values(fx->a, sv, NMAX), DSS_OK);
        for (size_t j = 0; j < cfg->n; j++)
            assert_true(get_f64(buf + lo.center + 8 * j) == centre[j]);
        for (size_t j = 0; j < lo.l * cfg->n; j++)
            assert_true(get_f64(buf + lo.basis + 8 * j) == basis[j]);
        for (size_t i = 0; i < lo.l; i++)
            assert_int_equal(get_le(buf + lo.idx + 8 * i, 8), /* the random marker is 2^64 - 1 */
                             idx[i] == (size_t)-1 ? UINT64_MAX : (uint64_t)idx[i]);
        assert_int_equal(lo.rank, dss_search_rank(fx->a));
        for (size_t i = 0; i < lo.rank; i++)
            assert_true(get_f64(buf + lo.s + 8 * i) == sv[i]);
        /* the Gram route is the lazy one: tall FULL and finite differences */
        int tall = cfg->m >= cfg->n && cfg->n > 1
                   && (cfg->jacobian == DSS_JACOBIAN_FULL || cfg->jacobian == DSS_JACOBIAN_FINITE_DIFF);
        assert_int_equal(lo.lazy, tall);
        for (size_t i = 0; i < lo.rank; i++) {
            assert_true(buf[lo.have + i] <= 1);
            assert_true(buf[lo.avail + i] <= 1);
            if (!lo.lazy)
                assert_int_equal(buf[lo.have + i], 1);
            if (!buf[lo.have + i]) /* rows not computed are written as zeros */
                for (size_t j = 0; j < cfg->n; j++)
                    assert_int_equal(get_le(buf + lo.v + 8 * (i * cfg->n + j), 8), 0);
        }
        if (lo.lazy) /* canonical: the Gram route writes no vectors, whichever are cached */
            for (size_t i = 0; i < lo.rank; i++)
                assert_int_equal(buf[lo.have + i], 0);
        free(buf);
    }
}

static void saving_twice_gives_identical_bytes(void **state)
{
    fixture *fx = *state;
    for (size_t k = 0; k < NMODES; k++) {
        build(fx, &MODES[k]);
        assert_int_equal(dss_search_commit(fx->a, 0.8), DSS_OK);
        size_t l1, l2;
        unsigned char *s1 = save(fx->a, &l1), *s2 = save(fx->a, &l2);
        assert_int_equal(l1, l2);
        assert_memory_equal(s1, s2, l1);
        free(s1);
        free(s2);
    }
}

/* An allocator whose blocks start filled with a byte pattern, as memory handed out again may
   be: the string must not depend on it (no byte of it is left unwritten by the library). */
static void *pattern_alloc(void *user, size_t size)
{
    void *p = malloc(size);
    if (p)
        memset(p, *(const unsigned char *)user, size);
    return p;
}

static void pattern_free(void *user, void *ptr)
{
    (void)user;
    free(ptr);
}

static void twins_save_identical_bytes_whatever_their_memory_held(void **state)
{
    fixture *fx = *state;
    static const unsigned char patterns[2] = { 0x00, 0xFF }; /* 0xFF..: a NaN in every double */
    for (size_t k = 0; k < NMODES; k++) {
        const mode_cfg *cfg = &MODES[k];
        build(fx, cfg);
        unsigned char *str[2];
        size_t len[2];
        dss_model *model[2];
        dss_search *s[2];
        for (int p = 0; p < 2; p++) {
            dss_allocator al = { pattern_alloc, pattern_free, (void *)&patterns[p] };
            assert_int_equal(dss_model_create_with_allocator(&model[p], cfg->n, cfg->m, lin_f, fx->lm,
                                                             &al), DSS_OK);
            if (cfg->flags & LIN_WITH_JACOBIAN)
                assert_int_equal(dss_model_set_jacobian(model[p], lin_jacobian), DSS_OK);
            if (cfg->flags & LIN_WITH_VJP)
                assert_int_equal(dss_model_set_vjp(model[p], lin_vjp), DSS_OK);
            if (cfg->flags & LIN_WITH_JVP)
                assert_int_equal(dss_model_set_jvp(model[p], lin_jvp), DSS_OK);
            assert_int_equal(dss_search_create(&s[p], model[p]), DSS_OK);
            configure(s[p], cfg);
            assert_int_equal(dss_search_start(s[p], fx->z0), DSS_OK);
            assert_int_equal(dss_search_commit(s[p], 0.9), DSS_OK);
            assert_int_equal(dss_search_resample(s[p]), DSS_OK);
            str[p] = save(s[p], &len[p]);
        }
        assert_int_equal(len[0], len[1]);
        for (size_t i = 0; i < len[0]; i++)
            if (str[0][i] != str[1][i])
                fail_msg("[%s] twins' strings differ first at byte %zu of %zu", cfg->name, i, len[0]);
        /* both strings load (no NaN where the allocator's pattern showed through) */
        for (int p = 0; p < 2; p++) {
            dss_search *fresh;
            assert_int_equal(dss_search_create(&fresh, fx->model), DSS_OK);
            int st = dss_search_load(fresh, str[p], len[p]);
            if (st != DSS_OK)
                fail_msg("[%s] the string of the session on pattern 0x%02X does not load: %d",
                         cfg->name, patterns[p], st);
            dss_search_destroy(fresh);
        }
        for (int p = 0; p < 2; p++) {
            free(str[p]);
            dss_search_destroy(s[p]);
            dss_model_destroy(model[p]);
        }
    }
}

/* ---- tests: loading ---------------------------------------------------------------------------- */

static void load_rejects_null_arguments(void **state)
{
    fixture *fx = *state;
    build(fx, &MODES[0]);
    fx->buf = save(fx->a, &fx->len);
    support_snapshot snap;
    take(fx->b, fx->cfg->n, &snap);
    assert_int_equal(dss_search_load(NULL, fx->buf, fx->len), DSS_EINVAL);
    assert_int_equal(dss_search_load(fx->b, NULL, fx->len), DSS_EINVAL);
    assert_true(support_snapshot_matches(fx->b, fx->cfg->n, &snap));
    support_snapshot_free(&snap);
}

/* Save, destroy, create, load: the same future as the uninterrupted session, in every mode,
   saved right after start (most lazy vectors not computed) and later. */
static void loaded_session_continues_bit_identically_in_every_mode(void **state)
{
    fixture *fx = *state;
    for (size_t k = 0; k < NMODES; k++) {
        for (int later = 0; later < 2; later++) {
            build(fx, &MODES[k]);
            if (later) {
                assert_int_equal(dss_search_commit(fx->a, 0.85), DSS_OK);
                assert_int_equal(dss_search_commit(fx->b, 0.85), DSS_OK);
                assert_int_equal(dss_search_commit(fx->a, 0.53), DSS_OK);
                assert_int_equal(dss_search_commit(fx->b, 0.53), DSS_OK);
                set_ok(fx->a, DSS_SEARCH_RADIUS, 0.4);
                set_ok(fx->b, DSS_SEARCH_RADIUS, 0.4);
                set_ok(fx->a, DSS_SEARCH_CENTER_TOLERANCE, 0.1);
                set_ok(fx->b, DSS_SEARCH_CENTER_TOLERANCE, 0.1);
            }
            save_destroy_create_load(fx);
            assert_same(fx, fx->a, fx->b, "right after load, later =", (size_t)later);
            /* the parameters not in the snapshot came back too */
            for (int id = 1; id <= NPARAMS; id++) {
                double va, vb;
                assert_int_equal(dss_search_get(fx->a, id, &va), DSS_OK);
                assert_int_equal(dss_search_get(fx->b, id, &vb), DSS_OK);
                assert_memory_equal(&va, &vb, sizeof va);
            }
            /* and saving the loaded session gives the string back */
            size_t len2;
            unsigned char *again = save(fx->b, &len2);
            assert_int_equal(len2, fx->len);
            assert_memory_equal(again, fx->buf, fx->len);
            free(again);
            same_future(fx, fx->a, fx->b);
            assert_int_equal(fx->lm->protocol_errors, 0);
        }
    }
}

/* Loading replaces a started session with other parameters and another state. */
static void load_replaces_a_started_session(void **state)
{
    fixture *fx = *state;
    for (size_t k = 0; k < NMODES; k++) {
        build(fx, &MODES[k]);
        assert_int_equal(dss_search_commit(fx->a, 0.2), DSS_OK);
        fx->buf = save(fx->a, &fx->len);
        /* b: other seed, l, radius, prior, tolerance and state */
        set_ok(fx->b, DSS_SEARCH_SEED, 77);
        set_ok(fx->b, DSS_SEARCH_SUBSPACE_DIM, 1);
        set_ok(fx->b, DSS_SEARCH_RADIUS, 3.0);
        set_ok(fx->b, DSS_SEARCH_PRIOR, DSS_PRIOR_BOX);
        set_ok(fx->b, DSS_SEARCH_PRIOR_SCALE, 2.5);
        set_ok(fx->b, DSS_SEARCH_CENTER_TOLERANCE, 0.3);
        set_ok(fx->b, DSS_SEARCH_HISTORY, 5);
        assert_int_equal(dss_search_commit(fx->b, 0.99), DSS_OK);
        assert_int_equal(dss_search_resample(fx->b), DSS_OK);
        assert_int_equal(dss_search_load(fx->b, fx->buf, fx->len), DSS_OK);
        assert_same(fx, fx->a, fx->b, "after loading over a started session", k);
        same_future(fx, fx->a, fx->b);
        free(fx->buf);
        fx->buf = NULL;
    }
}

/* The radius is saved as set: 0 means the prior's default, which the loaded prior gives back,
   not the radius the loading session had. */
static void load_restores_a_default_radius_and_an_explicit_one(void **state)
{
    fixture *fx = *state;
    build(fx, &MODES[0]);
    double ra, rb;
    fx->buf = save(fx->a, &fx->len);
    set_ok(fx->b, DSS_SEARCH_RADIUS, 3.0);
    set_ok(fx->b, DSS_SEARCH_PRIOR_SCALE, 2.0);
    assert_int_equal(dss_search_load(fx->b, fx->buf, fx->len), DSS_OK);
    assert_int_equal(dss_search_get(fx->a, DSS_SEARCH_RADIUS, &ra), DSS_OK);
    assert_int_equal(dss_search_get(fx->b, DSS_SEARCH_RADIUS, &rb), DSS_OK);
    assert_true(ra == rb);
    assert_true(rb != 3.0);
    /* still the default: a prior change moves it in both */
    set_ok(fx->a, DSS_SEARCH_PRIOR_SCALE, 4.0);
    set_ok(fx->b, DSS_SEARCH_PRIOR_SCALE, 4.0);
    assert_int_equal(dss_search_get(fx->a, DSS_SEARCH_RADIUS, &ra), DSS_OK);
    assert_int_equal(dss_search_get(fx->b, DSS_SEARCH_RADIUS, &rb), DSS_OK);
    assert_true(ra == rb);
    assert_true(ra != 3.0);
    /* an explicit radius is saved as such */
    set_ok(fx->a, DSS_SEARCH_RADIUS, 0.4);
    free(fx->buf);
    fx->buf = save(fx->a, &fx->len);
    layout lo;
    layout_of(fx->buf, fx->len, &lo);
    assert_true(get_f64(fx->buf + param_at(&lo, DSS_SEARCH_RADIUS)) == (double)0.4);
    assert_int_equal(dss_search_load(fx->b, fx->buf, fx->len), DSS_OK);
    assert_int_equal(dss_search_get(fx->b, DSS_SEARCH_RADIUS, &rb), DSS_OK);
    assert_true(rb == (double)0.4);
}

static void load_clears_the_undo_history(void **state)
{
    fixture *fx = *state;
    build(fx, &MODES[0]);
    fx->buf = save(fx->a, &fx->len);
    assert_int_equal(dss_search_commit(fx->b, 0.9), DSS_OK);
    assert_int_equal(dss_search_resample(fx->b), DSS_OK);
    assert_int_equal(dss_search_load(fx->b, fx->buf, fx->len), DSS_OK);
    support_snapshot snap;
    take(fx->b, fx->cfg->n, &snap);
    assert_int_equal(dss_search_undo(fx->b), DSS_ESTATE);
    assert_true(support_snapshot_matches(fx->b, fx->cfg->n, &snap));
    support_snapshot_free(&snap);
    /* steps after the load are recorded as usual */
    assert_int_equal(dss_search_resample(fx->b), DSS_OK);
    assert_int_equal(dss_search_undo(fx->b), DSS_OK);
    assert_same(fx, fx->a, fx->b, "undo after load", 0);
}

/* Issue 8, bug 3: a ROWS-mode string whose decomposition recipe (the RNG state the rows were
   drawn with) was edited, CRC recomputed, loads (nothing tells the edit apart before the
   Jacobian is fetched again), but undoing to it later recomputes another decomposition: undo
   must refuse (DSS_ESTATE) and change nothing, not pair the loaded basis with foreign values. */
static void undo_refuses_a_recomputation_that_differs_from_the_loaded_decomposition(void **state)
{
    fixture *fx = *state;
    layout lo;
    build(fx, &MODES[3]);
    fx->buf = save(fx->a, &fx->len);
    layout_of(fx->buf, fx->len, &lo);
    fx->buf[lo.dec_rng] ^= 0x5a;
    fix_crc(fx->buf, fx->len);
    assert_int_equal(dss_search_load(fx->b, fx->buf, fx->len), DSS_OK);
    support_snapshot snap;
    take(fx->b, fx->cfg->n, &snap);
    /* three moved commits evict the loaded decomposition from the session's three slots */
    assert_int_equal(dss_search_commit(fx->b, 0.9), DSS_OK);
    assert_int_equal(dss_search_commit(fx->b, 0.1), DSS_OK);
    assert_int_equal(dss_search_commit(fx->b, 0.9), DSS_OK);
    assert_int_equal(dss_search_undo(fx->b), DSS_OK);
    assert_int_equal(dss_search_undo(fx->b), DSS_OK);
    support_snapshot_free(&snap);
    take(fx->b, fx->cfg->n, &snap);
    assert_int_equal(dss_search_undo(fx->b), DSS_ESTATE);
    if (!support_snapshot_matches(fx->b, fx->cfg->n, &snap))
        fail_msg("a refused undo changed the session");
    support_snapshot_free(&snap);
}

/* Issue 8, bug 8: a session saved in FULL mode (or in AUTO mode, which took the FULL route)
   loads only into a model that can continue it; otherwise DSS_EUNSUPPORTED, nothing changed. */
static void load_rejects_a_model_that_cannot_continue_the_session(void **state)
{
    fixture *fx = *state;
    static const struct { int mode; unsigned flags; const char *what; } cases[] = {
        { DSS_JACOBIAN_FULL, 0, "FULL into a model without callbacks" },
        { DSS_JACOBIAN_FULL, LIN_WITH_VJP, "FULL into a model with only a VJP" },
        { DSS_JACOBIAN_AUTO, LIN_WITH_VJP, "AUTO (FULL route) into a model with only a VJP" },
        { DSS_JACOBIAN_AUTO, 0, "AUTO (FULL route) into a model without callbacks" },
    };
    build(fx, &MODES[0]);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        dss_model *other = NULL;
        dss_search *s = NULL;
        unsigned char *buf;
        size_t len;
        support_snapshot snap;
        set_ok(fx->a, DSS_SEARCH_JACOBIAN, cases[i].mode);
        assert_int_equal(dss_search_start(fx->a, fx->z0), DSS_OK);
        assert_int_equal(dss_search_jacobian_route(fx->a), DSS_JACOBIAN_FULL);
        buf = save(fx->a, &len);
        assert_int_equal(lin_dss_model(fx->lm, cases[i].flags, &other), DSS_OK);
        assert_int_equal(dss_search_create(&s, other), DSS_OK);
        take(s, fx->cfg->n, &snap);
        if (dss_search_load(s, buf, len) != DSS_EUNSUPPORTED)
            fail_msg("%s: not DSS_EUNSUPPORTED", cases[i].what);
        if (!support_snapshot_matches(s, fx->cfg->n, &snap))
            fail_msg("%s: the failed load changed the session", cases[i].what);
        support_snapshot_free(&snap);
        dss_search_destroy(s);
        dss_model_destroy(other);
        free(buf);
    }
    /* the same strings load where the callbacks are */
    fx->buf = save(fx->a, &fx->len);
    assert_int_equal(dss_search_load(fx->b, fx->buf, fx->len), DSS_OK);
    assert_int_equal(dss_search_jacobian_route(fx->b), DSS_JACOBIAN_FULL);
}

/* dss_search_jacobian_route: the route AUTO took on each kind of model. */
static void jacobian_route_names_the_route_auto_took(void **state)
{
    fixture *fx = *state;
    static const struct { unsigned flags; int route; } cases[] = {
        { LIN_WITH_JACOBIAN | LIN_WITH_VJP, DSS_JACOBIAN_FULL },
        { LIN_WITH_VJP | LIN_WITH_JVP, DSS_JACOBIAN_RANDOMIZED },
        { 0, DSS_JACOBIAN_FINITE_DIFF },
    };
    build(fx, &MODES[0]);
    assert_int_equal(dss_search_jacobian_route(NULL), DSS_EINVAL);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        dss_model *other = NULL;
        dss_search *s = NULL;
        assert_int_equal(lin_dss_model(fx->lm, cases[i].flags, &other), DSS_OK);
        assert_int_equal(dss_search_create(&s, other), DSS_OK);
        assert_int_equal(dss_search_jacobian_route(s), DSS_ESTATE);
        assert_int_equal(dss_search_start(s, fx->z0), DSS_OK);
        assert_int_equal(dss_search_jacobian_route(s), cases[i].route);
        set_ok(s, DSS_SEARCH_JACOBIAN, DSS_JACOBIAN_FINITE_DIFF); /* takes effect at the next */
        assert_int_equal(dss_search_jacobian_route(s), cases[i].route);
        dss_search_destroy(s);
        dss_model_destroy(other);
    }
}

/* Load a string, expect DSS_EFORMAT and no change (snapshot with statistics). */
static void expect_rejected(const fixture *fx, dss_search *s, const support_snapshot *snap,
                            const unsigned char *buf, size_t len, const char *what, size_t i)
{
    int st = dss_search_load(s, buf, len);
    if (st != DSS_EFORMAT)
        fail_msg("[%s] %s %zu: load returned %d, not DSS_EFORMAT", fx->cfg->name, what, i, st);
    if (!support_snapshot_matches(s, fx->cfg->n, snap))
        fail_msg("[%s] %s %zu: the failed load changed the session", fx->cfg->name, what, i);
}

static void load_rejects_another_models_n_or_m(void **state)
{
    fixture *fx = *state;
    build(fx, &MODES[0]);
    fx->buf = save(fx->a, &fx->len);
    const size_t n = fx->cfg->n, m = fx->cfg->m;
    const size_t shapes[4][2] = { { n + 1, m }, { n, m + 1 }, { n - 1, m }, { m, n } };
    for (size_t k = 0; k < 4; k++) {
        lin_model *other = lin_create(shapes[k][1], shapes[k][0], NULL, 3);
        dss_model *om;
        dss_search *s;
        assert_non_null(other);
        assert_int_equal(lin_dss_model(other, LIN_WITH_JACOBIAN, &om), DSS_OK);
        assert_int_equal(dss_search_create(&s, om), DSS_OK);
        for (int started = 0; started < 2; started++) {
            support_snapshot snap;
            if (started) {
                double z[NMAX + 20] = { 0.25 };
                assert_int_equal(dss_search_start(s, z), DSS_OK);
            }
            assert_int_equal(support_snapshot_take(s, shapes[k][0], &snap), 0);
            int st = dss_search_load(s, fx->buf, fx->len);
            if (st != DSS_EFORMAT)
                fail_msg("shape %zu x %zu: load returned %d", shapes[k][1], shapes[k][0], st);
            assert_true(support_snapshot_matches(s, shapes[k][0], &snap));
            support_snapshot_free(&snap);
        }
        dss_search_destroy(s);
        dss_model_destroy(om);
        lin_destroy(other);
    }
}

/* Every proper prefix, into a started and an unstarted session. */
static void load_rejects_every_truncation(void **state)
{
    fixture *fx = *state;
    for (size_t k = 0; k < NMODES; k += 5) { /* tall lazy, finite differences, random sampler */
        build(fx, &MODES[k]);
        fx->buf = save(fx->a, &fx->len);
        dss_search *fresh;
        assert_int_equal(dss_search_create(&fresh, fx->model), DSS_OK);
        support_snapshot started, unstarted;
        take(fx->b, fx->cfg->n, &started);
        take(fresh, fx->cfg->n, &unstarted);
        for (size_t len = 0; len < fx->len; len++) {
            /* a copy of exactly len bytes, so that reading past it is a memory error */
            unsigned char *cut = malloc(len ? len : 1);
            assert_non_null(cut);
            memcpy(cut, fx->buf, len);
            expect_rejected(fx, fx->b, &started, cut, len, "truncated to", len);
            expect_rejected(fx, fresh, &unstarted, cut, len, "truncated to", len);
            free(cut);
        }
        support_snapshot_free(&started);
        support_snapshot_free(&unstarted);
        dss_search_destroy(fresh);
        free(fx->buf);
        fx->buf = NULL;
    }
}

/* Every byte changed in three ways: the lowest bit, the highest bit, all bits. */
static void load_rejects_every_single_byte_change(void **state)
{
    fixture *fx = *state;
    static const unsigned char flips[3] = { 0x01, 0x80, 0xFF };
    for (size_t k = 0; k < NMODES; k += 5) {
        build(fx, &MODES[k]);
        assert_int_equal(dss_search_commit(fx->a, 0.7), DSS_OK);
        fx->buf = save(fx->a, &fx->len);
        support_snapshot snap;
        take(fx->b, fx->cfg->n, &snap);
        unsigned char *copy = malloc(fx->len);
        assert_non_null(copy);
        for (size_t i = 0; i < fx->len; i++) {
            for (int f = 0; f < 3; f++) {
                memcpy(copy, fx->buf, fx->len);
                copy[i] ^= flips[f];
                expect_rejected(fx, fx->b, &snap, copy, fx->len, "byte changed at", i);
            }
        }
        /* the untouched string still loads */
        assert_int_equal(dss_search_load(fx->b, fx->buf, fx->len), DSS_OK);
        free(copy);
        support_snapshot_free(&snap);
        free(fx->buf);
        fx->buf = NULL;
    }
}

static void load_rejects_a_future_format_version(void **state)
{
    fixture *fx = *state;
    build(fx, &MODES[0]);
    fx->buf = save(fx->a, &fx->len);
    support_snapshot snap;
    take(fx->b, fx->cfg->n, &snap);
    unsigned char *copy = malloc(fx->len);
    assert_non_null(copy);
    /* control: re-writing the CRC of an unchanged string is harmless */
    memcpy(copy, fx->buf, fx->len);
    fix_crc(copy, fx->len);
    assert_memory_equal(copy, fx->buf, fx->len);
    /* 1: a version-1 string has no policy block, so this body has bytes too many */
    static const uint32_t versions[] = { 1, 3, 4, 0x100, 0xFFFFFFFFu, 0 };
    for (size_t i = 0; i < sizeof versions / sizeof versions[0]; i++) {
        memcpy(copy, fx->buf, fx->len);
        put_le(copy + 8, versions[i], 4);
        fix_crc(copy, fx->len);
        expect_rejected(fx, fx->b, &snap, copy, fx->len, "format version", versions[i]);
    }
    free(copy);
    support_snapshot_free(&snap);
}

/* Patches that keep the CRC valid but make a field invalid. */
enum patch {
    P_MAGIC, P_BOM, P_TOTAL_LONGER, P_TOTAL_SHORTER, P_N, P_M, P_L_ZERO, P_L_ABOVE_N, P_PARAM_ID,
    P_PARAM_ID_ORDER, P_L_PARAM_ZERO, P_L_PARAM_ABOVE_N, P_L_PARAM_FRACTION, P_RADIUS_NEGATIVE,
    P_RADIUS_NAN, P_RADIUS_INF, P_TOLERANCE, P_SEED_NEGATIVE, P_SEED_FRACTION, P_SEED_HUGE,
    P_JACOBIAN_MODE, P_ROWS_ZERO, P_RANK_ZERO, P_SAMPLER, P_PRIOR, P_PRIOR_SCALE, P_HISTORY,
    P_DIFF_SCHEME, P_DIFF_STEP, P_POWER, P_CHUNK_FRACTION, P_RNG_ZERO, P_CENTER_NAN,
    P_CENTER_INF, P_BASIS_NAN, P_INDEX_AT_RANK, P_INDEX_HUGE, P_RANK_FIELD_ZERO, P_AVAIL_TWO,
    P_DEC_CENTER_NAN, P_DEC_RNG_ZERO, P_DEC_MODE, P_DEC_SCHEME, P_DEC_ROWS_ZERO, P_DEC_RANK_ZERO,
    P_DEC_POWER, P_DEC_STEP_NAN, P_LAZY_TWO, P_LAZY_OFF, P_S_NEGATIVE, P_S_NAN, P_HAVE_TWO,
    P_V_NAN, P_G_NAN, P_TAU_INF, P_D_NAN, P_E_NAN, P_TRAILING_BYTE, P_MISSING_BYTE,
    P_TAU_NOT_REFLECTOR, P_V_NOT_ORTHONORMAL, P_POLICY_COUNT, P_POLICY_ID, P_POLICY_ID_ORDER,
    P_POLICY_ID_REPEATED, P_POLICY_VALUE, P_GROW_ONE, P_SHRINK_ONE, P_SCALE_MIN_ABOVE_ONE,
    P_SCALE_MAX_BELOW_ONE, P_STALL_FRACTION, P_SCALE_ZERO, P_SCALE_NAN, P_SCALE_HUGE, P_RESERVED_BYTE, P_COUNT
};

static const char *const patch_names[P_COUNT] = {
    "magic", "byte-order mark", "total length longer", "total length shorter", "n", "m", "l = 0",
    "l > n", "parameter id", "parameter ids swapped", "DSS_SEARCH_SUBSPACE_DIM 0",
    "DSS_SEARCH_SUBSPACE_DIM n + 1", "DSS_SEARCH_SUBSPACE_DIM 1.5", "radius -1", "radius NaN",
    "radius infinity", "tolerance 0.7", "seed -1", "seed 0.5", "seed 2^53 + 2", "Jacobian mode 5",
    "Jacobian rows 0", "rank 0", "sampler 3", "prior 2", "prior scale 0", "history 2^40",
    "diff scheme 2", "diff step 1", "power iterations 17", "Jacobian chunk 2.5",
    "RNG all zero", "centre NaN", "centre infinity", "basis NaN", "basis index = rank",
    "basis index 2^40", "rank field 0", "availability flag 2", "decomposition centre NaN",
    "decomposition RNG all zero", "decomposition mode 9", "decomposition diff scheme 5",
    "decomposition rows 0", "decomposition rank 0", "decomposition power 17",
    "decomposition diff step NaN", "lazy flag 2", "lazy flag 0 on the Gram route",
    "singular value -1", "singular value NaN", "have flag 2", "V NaN in a computed row",
    "G NaN", "tau infinity", "d NaN", "e NaN", "a trailing byte", "a missing byte",
    "tau doubled (Q no longer orthogonal)", "a stored V row scaled by 1 + 1e-6",
    "policy pair count 7", "policy parameter id 16", "policy ids 17 and 18 swapped",
    "policy id 17 twice",
    "radius policy 3", "radius grow 1", "radius shrink 1", "radius min 1.5", "radius max 0.5",
    "stall commits 2.5", "policy scale 0", "policy scale NaN", "policy scale 2e6",
    "a reserved policy byte 1",
};

/* Apply patch p to a copy of the string (len may change); returns the new length, or 0 when
   the patch does not apply to this string (e.g. G without the Gram route). */
static size_t apply_patch(int p, const unsigned char *src, size_t len, unsigned char *dst,
                          const layout *lo)
{
    memcpy(dst, src, len);
    size_t out = len;
    switch (p) {
    case P_MAGIC: dst[3] = 'X'; break;
    case P_BOM: put_le(dst + 12, 0x04030201u, 4); break;
    case P_TOTAL_LONGER: put_le(dst + 16, len + 1, 8); break;
    case P_TOTAL_SHORTER: put_le(dst + 16, len - 1, 8); break;
    case P_N: put_le(dst + 24, lo->n + 1, 8); break;
    case P_M: put_le(dst + 32, lo->m + 1, 8); break;
    case P_L_ZERO: put_le(dst + 40, 0, 8); break;
    case P_L_ABOVE_N: put_le(dst + 40, lo->n + 1, 8); break;
    case P_PARAM_ID: put_le(dst + param_at(lo, 3) - 8, 99, 8); break;
    case P_PARAM_ID_ORDER: /* swap the pairs of ids 2 and 3, values included */
        memcpy(dst + lo->params + PARAM_BYTES, src + lo->params + 2 * PARAM_BYTES, PARAM_BYTES);
        memcpy(dst + lo->params + 2 * PARAM_BYTES, src + lo->params + PARAM_BYTES, PARAM_BYTES);
        break;
    case P_L_PARAM_ZERO: put_f64(dst + param_at(lo, DSS_SEARCH_SUBSPACE_DIM), 0.0); break;
    case P_L_PARAM_ABOVE_N:
        put_f64(dst + param_at(lo, DSS_SEARCH_SUBSPACE_DIM), (double)lo->n + 1);
        break;
    case P_L_PARAM_FRACTION: put_f64(dst + param_at(lo, DSS_SEARCH_SUBSPACE_DIM), 1.5); break;
    case P_RADIUS_NEGATIVE: put_f64(dst + param_at(lo, DSS_SEARCH_RADIUS), -1.0); break;
    case P_RADIUS_NAN: put_f64(dst + param_at(lo, DSS_SEARCH_RADIUS), NAN); break;
    case P_RADIUS_INF: put_f64(dst + param_at(lo, DSS_SEARCH_RADIUS), INFINITY); break;
    case P_TOLERANCE: put_f64(dst + param_at(lo, DSS_SEARCH_CENTER_TOLERANCE), 0.7); break;
    case P_SEED_NEGATIVE: put_f64(dst + param_at(lo, DSS_SEARCH_SEED), -1.0); break;
    case P_SEED_FRACTION: put_f64(dst + param_at(lo, DSS_SEARCH_SEED), 0.5); break;
    case P_SEED_HUGE: put_f64(dst + param_at(lo, DSS_SEARCH_SEED), 9007199254740994.0); break;
    case P_JACOBIAN_MODE: put_f64(dst + param_at(lo, DSS_SEARCH_JACOBIAN), 5.0); break;
    case P_ROWS_ZERO: put_f64(dst + param_at(lo, DSS_SEARCH_JACOBIAN_ROWS), 0.0); break;
    case P_RANK_ZERO: put_f64(dst + param_at(lo, DSS_SEARCH_RANK), 0.0); break;
    case P_SAMPLER: put_f64(dst + param_at(lo, DSS_SEARCH_SAMPLER), 3.0); break;
    case P_PRIOR: put_f64(dst + param_at(lo, DSS_SEARCH_PRIOR), 2.0); break;
    case P_PRIOR_SCALE: put_f64(dst + param_at(lo, DSS_SEARCH_PRIOR_SCALE), 0.0); break;
    case P_HISTORY: put_f64(dst + param_at(lo, DSS_SEARCH_HISTORY), 1099511627776.0); break;
    case P_DIFF_SCHEME: put_f64(dst + param_at(lo, DSS_SEARCH_DIFF_SCHEME), 2.0); break;
    case P_DIFF_STEP: put_f64(dst + param_at(lo, DSS_SEARCH_DIFF_STEP), 1.0); break;
    case P_POWER: put_f64(dst + param_at(lo, DSS_SEARCH_POWER_ITERATIONS), 17.0); break;
    case P_CHUNK_FRACTION: put_f64(dst + param_at(lo, DSS_SEARCH_JACOBIAN_CHUNK), 2.5); break;
    case P_RNG_ZERO: memset(dst + lo->rng, 0, 32); break;
    case P_CENTER_NAN: put_f64(dst + lo->center, NAN); break;
    case P_CENTER_INF: put_f64(dst + lo->center + 8 * (lo->n - 1), -INFINITY); break;
    case P_BASIS_NAN: put_f64(dst + lo->basis + 8, NAN); break;
    case P_INDEX_AT_RANK: put_le(dst + lo->idx, lo->rank, 8); break;
    case P_INDEX_HUGE: put_le(dst + lo->idx, (uint64_t)1 << 40, 8); break;
    case P_RANK_FIELD_ZERO: put_le(dst + lo->rank_at, 0, 8); break;
    case P_AVAIL_TWO: dst[lo->avail] = 2; break;
    case P_DEC_CENTER_NAN: put_f64(dst + lo->dec_center + 8, NAN); break;
    case P_DEC_RNG_ZERO: memset(dst + lo->dec_rng, 0, 32); break;
    case P_DEC_MODE: put_le(dst + lo->jac, 9, 8); break;
    case P_DEC_ROWS_ZERO: put_le(dst + lo->jac + 8, 0, 8); break;
    case P_DEC_SCHEME: put_le(dst + lo->jac + 24, 5, 8); break;
    case P_DEC_STEP_NAN: put_f64(dst + lo->jac + 32, NAN); break;
    case P_DEC_RANK_ZERO: put_le(dst + lo->jac + 40, 0, 8); break;
    case P_DEC_POWER: put_le(dst + lo->jac + 56, 17, 8); break;
    case P_LAZY_TWO: dst[lo->lazy_at] = 2; break;
    case P_LAZY_OFF: /* claims the dgesvd route while some vectors are missing */
        if (!lo->lazy)
            return 0;
        /* drop G, tau, d and e so that the length matches the claim */
        dst[lo->lazy_at] = 0;
        memcpy(dst + lo->g, src + lo->policy, lo->total - lo->policy);
        out = lo->g + (lo->total - lo->policy);
        put_le(dst + 16, out, 8);
        break;
    case P_S_NEGATIVE: put_f64(dst + lo->s + 8 * (lo->rank - 1), -1.0); break;
    case P_S_NAN: put_f64(dst + lo->s, NAN); break;
    case P_HAVE_TWO: dst[lo->have] = 2; break;
    case P_V_NAN: { /* a computed row: the first with its flag set */
        size_t i = 0;
        while (i < lo->rank && !src[lo->have + i])
            i++;
        if (i == lo->rank)
            return 0;
        put_f64(dst + lo->v + 8 * (i * lo->n + 1), NAN);
        break;
    }
    case P_G_NAN: if (!lo->lazy) return 0; put_f64(dst + lo->g + 8 * (lo->n + 1), NAN); break;
    case P_TAU_INF: if (!lo->lazy) return 0; put_f64(dst + lo->tau, INFINITY); break;
    case P_D_NAN: if (!lo->lazy) return 0; put_f64(dst + lo->d + 8, NAN); break;
    case P_E_NAN: if (!lo->lazy) return 0; put_f64(dst + lo->e, NAN); break;
    case P_TAU_NOT_REFLECTOR: { /* the first non-zero tau, doubled: H(i) stops being orthogonal */
        size_t i = 0;
        if (!lo->lazy)
            return 0;
        while (i + 1 < lo->n && get_f64(src + lo->tau + 8 * i) == 0.0)
            i++;
        if (i + 1 == lo->n)
            return 0;
        put_f64(dst + lo->tau + 8 * i, 2.0 * get_f64(src + lo->tau + 8 * i));
        break;
    }
    case P_V_NOT_ORTHONORMAL: /* every stored row may be drawn into a basis later */
        if (lo->lazy)
            return 0;
        for (size_t j = 0; j < lo->n; j++)
            put_f64(dst + lo->v + 8 * j, get_f64(src + lo->v + 8 * j) * (1.0 + 1e-6));
        break;
    case P_POLICY_COUNT: put_le(dst + lo->policy, POLICY_PARAMS + 1, 8); break;
    case P_POLICY_ID: put_le(dst + lo->policy + 8, 16, 8); break;
    case P_POLICY_ID_ORDER: /* the pairs of ids 17 and 18, values included */
        memcpy(dst + lo->policy + 8, src + lo->policy + 8 + PARAM_BYTES, PARAM_BYTES);
        memcpy(dst + lo->policy + 8 + PARAM_BYTES, src + lo->policy + 8, PARAM_BYTES);
        break;
    case P_POLICY_ID_REPEATED: put_le(dst + lo->policy + 8 + PARAM_BYTES, 17, 8); break;
    case P_POLICY_VALUE: put_f64(dst + policy_at(lo, DSS_SEARCH_RADIUS_POLICY), 3.0); break;
    case P_GROW_ONE: put_f64(dst + policy_at(lo, DSS_SEARCH_RADIUS_GROW), 1.0); break;
    case P_SHRINK_ONE: put_f64(dst + policy_at(lo, DSS_SEARCH_RADIUS_SHRINK), 1.0); break;
    case P_SCALE_MIN_ABOVE_ONE: put_f64(dst + policy_at(lo, DSS_SEARCH_RADIUS_MIN), 1.5); break;
    case P_SCALE_MAX_BELOW_ONE: put_f64(dst + policy_at(lo, DSS_SEARCH_RADIUS_MAX), 0.5); break;
    case P_STALL_FRACTION: put_f64(dst + policy_at(lo, DSS_SEARCH_STALL_COMMITS), 2.5); break;
    case P_SCALE_ZERO: put_f64(dst + lo->policy_state, 0.0); break;
    case P_SCALE_NAN: put_f64(dst + lo->policy_state, NAN); break;
    case P_SCALE_HUGE: put_f64(dst + lo->policy_state, 2e6); break;
    case P_RESERVED_BYTE: dst[lo->policy_state + 16 + 15] = 1; break;
    case P_TRAILING_BYTE: /* one more byte before the CRC, the length field telling so */
        memcpy(dst + lo->crc + 1, src + lo->crc, 4);
        dst[lo->crc] = 0;
        out = len + 1;
        put_le(dst + 16, out, 8);
        break;
    case P_MISSING_BYTE: /* the last body byte gone, the length field telling so */
        memcpy(dst + lo->crc - 1, src + lo->crc, 4);
        out = len - 1;
        put_le(dst + 16, out, 8);
        break;
    default:
        fail_msg("unknown patch %d", p);
    }
    fix_crc(dst, out);
    return out;
}

/* A valid CRC over invalid fields is DSS_EFORMAT, changing nothing; in the lazy and the eager
   layouts, with l > 1. A valid patch made the same way (a control) loads. */
static void load_rejects_a_valid_checksum_over_invalid_fields(void **state)
{
    fixture *fx = *state;
    static const size_t modes[] = { 0, 1, 2, 4, 7 };
    for (size_t mi = 0; mi < sizeof modes / sizeof modes[0]; mi++) {
        build(fx, &MODES[modes[mi]]);
        assert_int_equal(dss_search_commit(fx->a, 0.7), DSS_OK);
        fx->buf = save(fx->a, &fx->len);
        layout lo;
        layout_of(fx->buf, fx->len, &lo);
        assert_int_equal(lo.total, fx->len);
        unsigned char *copy = malloc(fx->len + 1);
        assert_non_null(copy);
        support_snapshot snap;
        take(fx->b, fx->cfg->n, &snap);
        for (int p = 0; p < P_COUNT; p++) {
            size_t len = apply_patch(p, fx->buf, fx->len, copy, &lo);
            if (len == 0)
                continue;
            int st = dss_search_load(fx->b, copy, len);
            if (st != DSS_EFORMAT)
                fail_msg("[%s] %s: load returned %d, not DSS_EFORMAT", fx->cfg->name,
                         patch_names[p], st);
            if (!support_snapshot_matches(fx->b, fx->cfg->n, &snap))
                fail_msg("[%s] %s: the failed load changed the session", fx->cfg->name,
                         patch_names[p]);
        }
        /* controls: valid values written the same way load, and show up */
        memcpy(copy, fx->buf, fx->len);
        put_f64(copy + param_at(&lo, DSS_SEARCH_CENTER_TOLERANCE), 0.25);
        put_f64(copy + lo.center, 0.125);
        fix_crc(copy, fx->len);
        assert_int_equal(dss_search_load(fx->b, copy, fx->len), DSS_OK);
        double v, c[NMAX];
        assert_int_equal(dss_search_get(fx->b, DSS_SEARCH_CENTER_TOLERANCE, &v), DSS_OK);
        assert_true(v == 0.25);
        assert_int_equal(dss_search_center(fx->b, c), DSS_OK);
        assert_true(c[0] == 0.125);
        free(copy);
        support_snapshot_free(&snap);
        free(fx->buf);
        fx->buf = NULL;
    }
}

/* Strings that no session can save: singular values out of order, a basis row that is not of
   unit length, a tridiagonal form (which later vectors come from) whose eigenvalues are not the
   squared singular values. They break what the API promises of a session (descending singular
   values, orthonormal basis rows and singular vectors), so a loader that validates its input
   rejects them. Every case is tried, and the test lists every one that was accepted. */
static void load_rejects_fields_that_break_documented_invariants(void **state)
{
    fixture *fx = *state;
    build(fx, &MODES[1]); /* l = 3 */
    fx->buf = save(fx->a, &fx->len);
    layout lo;
    layout_of(fx->buf, fx->len, &lo);
    unsigned char *copy = malloc(fx->len);
    assert_non_null(copy);
    static const char *const what[] = {
        "singular values out of order", "a basis row of length 2",
        "a tridiagonal form whose spectrum is not s^2 (d_0 = -1e6 s_1^2)",
        "a tridiagonal form whose spectrum is not s^2 (e_0 changed by 1e-6 s_1^2)",
        "s_1 = 1e200, whose square overflows (no Gram matrix has it)",
    };
    const double s1 = get_f64(fx->buf + lo.s);
    int accepted = 0;
    assert_true(lo.lazy); /* the Gram route keeps d and e */
    for (int c = 0; c < 5; c++) {
        memcpy(copy, fx->buf, fx->len);
        if (c == 0) { /* s_0 and s_last swapped: ascending at both ends */
            memcpy(copy + lo.s, fx->buf + lo.s + 8 * (lo.rank - 1), 8);
            memcpy(copy + lo.s + 8 * (lo.rank - 1), fx->buf + lo.s, 8);
        } else if (c == 1) { /* the first basis row doubled */
            for (size_t j = 0; j < lo.n; j++)
                put_f64(copy + lo.basis + 8 * j, 2.0 * get_f64(fx->buf + lo.basis + 8 * j));
        } else if (c == 2) { /* what the fuzzer found: lazy vectors from a T unrelated to s */
            put_f64(copy + lo.d, -1e6 * s1 * s1);
        } else if (c == 3) {
            put_f64(copy + lo.e, get_f64(fx->buf + lo.e) + 1e-6 * s1 * s1);
        } else {
            put_f64(copy + lo.s, 1e200);
        }
        fix_crc(copy, fx->len);
        dss_search *s;
        support_snapshot snap;
        assert_int_equal(dss_search_create(&s, fx->model), DSS_OK);
        take(s, fx->cfg->n, &snap);
        if (dss_search_load(s, copy, fx->len) == DSS_EFORMAT) {
            assert_true(support_snapshot_matches(s, fx->cfg->n, &snap));
        } else {
            print_message("accepted: %s\n", what[c]);
            accepted++;
        }
        support_snapshot_free(&snap);
        dss_search_destroy(s);
    }
    free(copy);
    assert_int_equal(accepted, 0);
}

/* A failed load keeps the undo history: the steps before it can still be undone. */
static void a_failed_load_keeps_the_undo_history(void **state)
{
    fixture *fx = *state;
    build(fx, &MODES[0]);
    fx->buf = save(fx->a, &fx->len);
    support_snapshot before[3], now;
    for (int i = 0; i < 3; i++) {
        take(fx->b, fx->cfg->n, &before[i]);
        assert_int_equal(i == 1 ? dss_search_resample(fx->b) : dss_search_commit(fx->b, 0.9 - 0.3 * i),
                         DSS_OK);
    }
    take(fx->b, fx->cfg->n, &now);
    fx->buf[fx->len / 2] ^= 0x10;
    expect_rejected(fx, fx->b, &now, fx->buf, fx->len, "corrupted string", 0);
    for (int i = 3; i-- > 0;) {
        assert_int_equal(dss_search_undo(fx->b), DSS_OK);
        support_snapshot got;
        take(fx->b, fx->cfg->n, &got);
        assert_true(support_snapshot_equal(&got, &before[i]));
        support_snapshot_free(&got);
        support_snapshot_free(&before[i]);
    }
    assert_int_equal(dss_search_undo(fx->b), DSS_ESTATE);
    support_snapshot_free(&now);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(reference_crc32_matches_the_standard_check_value),
        T(save_rejects_null_arguments),
        T(save_before_start_is_estate),
        T(save_reports_its_size_and_rejects_a_small_buffer),
        T(saved_string_has_the_documented_layout),
        T(saving_twice_gives_identical_bytes),
        T(twins_save_identical_bytes_whatever_their_memory_held),
        T(load_rejects_null_arguments),
        T(loaded_session_continues_bit_identically_in_every_mode),
        T(load_replaces_a_started_session),
        T(load_restores_a_default_radius_and_an_explicit_one),
        T(load_clears_the_undo_history),
        T(undo_refuses_a_recomputation_that_differs_from_the_loaded_decomposition),
        T(load_rejects_a_model_that_cannot_continue_the_session),
        T(jacobian_route_names_the_route_auto_took),
        T(load_rejects_another_models_n_or_m),
        T(load_rejects_every_truncation),
        T(load_rejects_every_single_byte_change),
        T(load_rejects_a_future_format_version),
        T(load_rejects_a_valid_checksum_over_invalid_fields),
        T(load_rejects_fields_that_break_documented_invariants),
        T(a_failed_load_keeps_the_undo_history),
    };
    return support_leak_exit(cmocka_run_group_tests_name("persist", tests, NULL, NULL));
}
