/* Save and load a session as a versioned, self-checking byte string (docs/format.md).
 *
 * Everything is little-endian whatever the host: integers as unsigned 64-bit (32-bit in the
 * header), doubles as their IEEE-754 binary64 bit patterns, flags as bytes. The string ends
 * with the CRC-32 (IEEE 802.3) of everything before it. Loading validates every field before
 * it touches the session, so a malformed string is DSS_EFORMAT and changes nothing.
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "codec.h"
#include "errmsg.h"
#include "params.h"
#include "radius.h"
#include "sampler.h"
#include "search.h"

static const unsigned char MAGIC[8] = { 'D', 'S', 'S', 'S', 'T', 'A', 'T', 'E' };
#define FORMAT_VERSION 2u    /* 2 (libdss 1.1): the slider-range policy's block before the CRC */
#define FORMAT_VERSION_1 1u  /* libdss 1.0's, still loaded: the policy at its defaults */
#define BYTE_ORDER_MARK 0x01020304u

/* ---- CRC-32 (reflected polynomial 0xEDB88320), a nibble at a time ------------------------- */

static uint32_t crc32(const unsigned char *p, size_t len)
{
    static const uint32_t table[16] = {
        0x00000000u, 0x1DB71064u, 0x3B6E20C8u, 0x26D930ACu, 0x76DC4190u, 0x6B6B51F4u,
        0x4DB26158u, 0x5005713Cu, 0xEDB88320u, 0xF00F9344u, 0xD6D6A3E8u, 0xCB61B38Cu,
        0x9B64C2B0u, 0x86D3D2D4u, 0xA00AE278u, 0xBDBDF21Cu
    };
    uint32_t crc = 0xFFFFFFFFu;
    for (size_t i = 0; i < len; i++) {
        crc ^= p[i];
        crc = (crc >> 4) ^ table[crc & 15];
        crc = (crc >> 4) ^ table[crc & 15];
    }
    return crc ^ 0xFFFFFFFFu;
}

/* ---- a cursor over the byte string ------------------------------------------------------- */

typedef struct cursor {
    unsigned char *out;        /* writing: destination, or NULL to measure */
    const unsigned char *in;   /* reading */
    size_t pos, len;
    int bad;                   /* reading ran past the end */
    int nomem;                 /* reading: no memory for the decomposition's buffers */
} cursor;

static void put_bytes(cursor *c, const void *p, size_t count)
{
    if (c->out != NULL)
        memcpy(c->out + c->pos, p, count);
    c->pos += count;
}

static void put_u(cursor *c, uint64_t v, int bytes)
{
    unsigned char b[8];
    codec_put_le(b, v, (unsigned)bytes);
    put_bytes(c, b, (size_t)bytes);
}

static void put_u64(cursor *c, uint64_t v) { put_u(c, v, 8); }

/* A basis index; SAMPLER_NO_INDEX is UINT64_MAX in the string whatever the width of size_t, so
   that a session saved on a 32-bit machine loads on a 64-bit one and the other way. */
static void put_index(cursor *c, size_t i)
{
    put_u64(c, i == SAMPLER_NO_INDEX ? UINT64_MAX : (uint64_t)i);
}

static void put_f64(cursor *c, double v)
{
    unsigned char b[8];
    codec_put_f64(b, v);
    put_bytes(c, b, sizeof b);
}

static void put_f64s(cursor *c, const double *v, size_t count)
{
    for (size_t i = 0; i < count; i++)
        put_f64(c, v[i]);
}

static const unsigned char *take(cursor *c, size_t count)
{
    const unsigned char *p;
    if (c->bad || count > c->len - c->pos) {
        c->bad = 1;
        return NULL;
    }
    p = c->in + c->pos;
    c->pos += count;
    return p;
}

static uint64_t get_u(cursor *c, int bytes)
{
    const unsigned char *p = take(c, (size_t)bytes);
    return p != NULL ? codec_get_le(p, (unsigned)bytes) : 0;
}

static uint64_t get_u64(cursor *c) { return get_u(c, 8); }

/* A count: a value beyond this machine's size_t (a 64-bit session's 2^40 on i386) cannot be
   held and makes the string invalid, rather than being cut to its low bits. */
static size_t get_size(cursor *c)
{
    uint64_t v = get_u64(c);
    if (v > SIZE_MAX) {
        c->bad = 1;
        return 0;
    }
    return (size_t)v;
}

static size_t get_index(cursor *c)
{
    uint64_t v = get_u64(c);
    return v == UINT64_MAX ? SAMPLER_NO_INDEX : v > SIZE_MAX ? (c->bad = 1, 0) : (size_t)v;
}

static double get_f64(cursor *c)
{
    const unsigned char *p = take(c, 8);
    return p != NULL ? codec_get_f64(p) : 0.0;
}

/* count doubles, all finite (else the cursor goes bad) */
static void get_f64s(cursor *c, double *v, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        v[i] = get_f64(c);
        if (!isfinite(v[i]))
            c->bad = 1;
    }
}

/* count flags, each 0 or 1 */
static void get_flags(cursor *c, unsigned char *v, size_t count)
{
    const unsigned char *p = take(c, count);
    if (p == NULL)
        return;
    for (size_t i = 0; i < count; i++) {
        if (p[i] > 1)
            c->bad = 1;
        v[i] = p[i];
    }
}

/* ---- the layout, written once for both measuring and writing ----------------------------- */

static void put_rng(cursor *c, const rng *r)
{
    for (int i = 0; i < 4; i++)
        put_u64(c, r->s[i]);
}

static void put_jac(cursor *c, const jac_config *j)
{
    put_u64(c, (uint64_t)j->mode);
    put_u64(c, j->rows);
    put_u64(c, j->chunk);
    put_u64(c, (uint64_t)j->diff_scheme);
    put_f64(c, j->diff_step);
    put_u64(c, j->rank);
    put_u64(c, j->oversample);
    put_u64(c, j->power);
}

/* The table's rows saved in one block (PARAM_SAVED_V1: ids 1..16, or PARAM_SAVED_V2: the
   policy's), in id order, as (id, value) pairs; the radius is its raw setting (0: the
   prior's). */
/* Whether row d is written for p: a row saved only when set is left out at its default. */
static int written(const param_desc *d, const struct search_params *p, int block)
{
    return d->saved == block && !(d->saved_if_set && dssi_param_load(d, p) == d->def);
}

static void put_params(cursor *c, const struct search_params *p, int block)
{
    size_t count;
    const param_desc *rows = dssi_param_search_rows(&count);
    for (size_t i = 0; i < count; i++) {
        if (!written(&rows[i], p, block))
            continue;
        put_u64(c, (uint64_t)rows[i].id);
        put_f64(c, dssi_param_load(&rows[i], p));
    }
}

/* The pairs written for p in block, or (p NULL) the most a block may hold. */
static size_t rows_saved_in(int block, const struct search_params *p)
{
    size_t count, k = 0;
    const param_desc *rows = dssi_param_search_rows(&count);
    for (size_t i = 0; i < count; i++)
        k += p != NULL ? written(&rows[i], p, block) : rows[i].saved == block;
    return k;
}

/* Version 2's block: the number of policy parameters, their (id, value) pairs, and the
   policy's state as radius.c writes it. */
static void put_policy(cursor *c, const struct search_state *st)
{
    unsigned char block[RADIUS_STATE_BYTES];
    put_u64(c, rows_saved_in(PARAM_SAVED_V2, &st->p));
    put_params(c, &st->p, PARAM_SAVED_V2);
    dssi_radius_state_write(&st->range, block);
    put_bytes(c, block, sizeof block);
}

static void put_session(cursor *c, const dss_search *search)
{
    const struct search_state *st = &search->cur;
    const svd_dec *dec = &search->slot[search->cur_slot].dec;
    const size_t n = search->model->n;

    put_bytes(c, MAGIC, sizeof MAGIC);
    put_u(c, FORMAT_VERSION, 4);
    put_u(c, BYTE_ORDER_MARK, 4);
    put_u64(c, 0); /* total length: patched by the writer */
    put_u64(c, n);
    put_u64(c, search->model->m);
    put_u64(c, st->l);
    put_params(c, &st->p, PARAM_SAVED_V1);
    put_rng(c, &st->rng);
    put_f64s(c, st->center, n);
    put_f64s(c, st->basis, st->l * n);
    for (size_t i = 0; i < st->l; i++)
        put_index(c, st->basis_idx[i]);
    put_u64(c, st->rank);
    put_bytes(c, st->avail, st->rank);
    put_f64s(c, st->dec_center, n);
    put_rng(c, &st->dec_rng);
    put_jac(c, &st->dec_cfg);
    put_u(c, (uint64_t)dec->lazy, 1);
    put_f64s(c, dec->s, dec->rank);
    /* The Gram route's vectors follow from its tridiagonal form, so none is written (flags 0,
       rows of zeros): the string does not depend on which vectors happen to be cached, and
       the loaded session computes the same bits on demand. */
    for (size_t i = 0; i < dec->rank; i++)
        put_u(c, dec->lazy ? 0 : 1, 1);
    for (size_t i = 0; i < dec->rank; i++)
        for (size_t j = 0; j < n; j++)
            put_f64(c, dec->lazy ? 0.0 : dec->v[i * n + j]);
    if (dec->lazy) {
        put_f64s(c, dec->G, n * n);
        put_f64s(c, dec->tau, n);
        put_f64s(c, dec->d, n);
        put_f64s(c, dec->e, n);
    }
    put_policy(c, st);
}

static int search_save_impl(const dss_search *search, void *buf, size_t cap, size_t *len)
{
    cursor c = { 0 };
    size_t size;
    unsigned char *out = buf;

    if (search == NULL)
        return DSS_EINVAL;
    if (len == NULL)
        return dssi_err_detail(SEARCH_ERR(search), DSS_EINVAL, "argument len is NULL");
    if (!search->cur.started)
        return dssi_err_detail(SEARCH_ERR(search), DSS_ESTATE,
                          "the session is not started (dss_search_start comes first)");
    put_session(&c, search);
    size = c.pos + CODEC_CRC_BYTES;
    *len = size;
    if (buf == NULL)
        return DSS_OK;
    if (cap < size)
        return dssi_err_detail(SEARCH_ERR(search), DSS_EINVAL,
                          "cap = %zu bytes is too small: the string needs %zu (in *len)", cap,
                          size);
    c = (cursor){ .out = out };
    put_session(&c, search);
    codec_put_le(out + CODEC_AT_LENGTH, size, 8);  /* known only now */
    codec_put_le(out + size - CODEC_CRC_BYTES, crc32(out, size - CODEC_CRC_BYTES), CODEC_CRC_BYTES);
    return DSS_OK;
}

DSS_API int dss_search_save(const dss_search *search, void *buf, size_t cap, size_t *len)
{
    if (search == NULL)
        return DSS_EINVAL;
    return ERR_CALL(SEARCH_ERR(search), search_save_impl(search, buf, cap, len));
}

/* ---- loading ------------------------------------------------------------------------------ */

static void get_rng(cursor *c, rng *r)
{
    for (int i = 0; i < 4; i++)
        r->s[i] = get_u64(c);
    if ((r->s[0] | r->s[1] | r->s[2] | r->s[3]) == 0) /* xoshiro's one invalid state */
        c->bad = 1;
}

static void get_jac(cursor *c, jac_config *j)
{
    uint64_t mode = get_u64(c), scheme;
    j->rows = get_size(c);
    j->chunk = get_size(c);
    scheme = get_u64(c);
    j->diff_step = get_f64(c);
    j->rank = get_size(c);
    j->oversample = get_size(c);
    j->power = get_size(c);
    if (mode > DSS_JACOBIAN_RANDOMIZED || scheme > DSS_DIFF_CENTRAL || j->rows == 0
        || j->rank == 0 || j->power > 16 || !(j->diff_step >= 0.0 && j->diff_step < 1.0))
        c->bad = 1;
    j->mode = (int)mode;
    j->diff_scheme = (int)scheme;
}

/* One (id, value) pair through the setter's own validation. */
static void get_param(cursor *c, struct search_params *p, size_t n, int id)
{
    if (dssi_params_restore(p, n, id, get_f64(c)) != DSS_OK)
        c->bad = 1;
}

/* The parameter block: every PARAM_SAVED_V1 row, in id order, starting from the session's. */
static void get_params(cursor *c, struct search_params *p, size_t n)
{
    size_t count;
    const param_desc *rows = dssi_param_search_rows(&count);
    for (size_t i = 0; i < count; i++) {
        if (rows[i].saved != PARAM_SAVED_V1)
            continue;
        if (get_u64(c) != (uint64_t)rows[i].id)
            c->bad = 1;
        get_param(c, p, n, rows[i].id);
    }
}

/* The policy: version 2's block (a count, that many pairs of policy parameters in increasing
   id order, the state), or for a version-1 string (libdss 1.0, which had none) what a fresh
   session has: every policy parameter at its default (DSS_RADIUS_FIXED) and scale 1. A pair
   left out keeps its default too. */
static void get_policy(cursor *c, struct search_state *nx, size_t n, uint64_t version)
{
    size_t count, k;
    const param_desc *rows = dssi_param_search_rows(&count);
    const unsigned char *block;
    uint64_t pairs, last = 0;
    for (size_t i = 0; i < count; i++)
        if (rows[i].saved == PARAM_SAVED_V2)
            dssi_param_store(&rows[i], &nx->p, rows[i].def);
    dssi_radius_start(&nx->range);
    if (version == FORMAT_VERSION_1)
        return;
    pairs = get_u64(c);
    if (pairs > rows_saved_in(PARAM_SAVED_V2, NULL)) {
        c->bad = 1;
        return;
    }
    for (k = 0; k < pairs && !c->bad; k++) {
        uint64_t id = get_u64(c);
        const param_desc *d = id <= (uint64_t)INT32_MAX ? dssi_param_search((int)id) : NULL;
        if (d == NULL || d->saved != PARAM_SAVED_V2 || id <= last) {
            c->bad = 1;
            return;
        }
        last = id;
        get_param(c, &nx->p, n, d->id);
    }
    block = take(c, RADIUS_STATE_BYTES);
    if (block == NULL || !dssi_radius_state_read(&nx->range, block))
        c->bad = 1;
}

/* The header: DSS_EFORMAT for anything but this format version for this model. */
static int check_header(cursor *c, const dss_search *search, size_t len, size_t *l,
                        uint64_t *version)
{
    errmsg *e = SEARCH_ERR(search);
    const unsigned char *magic = take(c, sizeof MAGIC);
    uint64_t bom, total, n, m, l64;
    uint32_t crc;
    if (magic == NULL || memcmp(magic, MAGIC, sizeof MAGIC) != 0)
        return dssi_err_detail(e, DSS_EFORMAT, "not a libdss session (no DSSSTATE magic; %zu bytes)",
                          len);
    *version = get_u(c, 4);
    bom = get_u(c, 4);
    total = get_u64(c);
    n = get_u64(c);
    m = get_u64(c);
    l64 = get_u64(c);
    if (c->bad || len < CODEC_HEADER_BYTES + CODEC_CRC_BYTES)
        return dssi_err_detail(e, DSS_EFORMAT, "truncated: %zu bytes, the header alone is %u", len,
                          CODEC_HEADER_BYTES + CODEC_CRC_BYTES);
    if (*version != FORMAT_VERSION && *version != FORMAT_VERSION_1)
        return dssi_err_detail(e, DSS_EFORMAT, "format version %llu; this libdss reads versions "
                          "%u and %u", (unsigned long long)*version, FORMAT_VERSION_1,
                          FORMAT_VERSION);
    if (bom != BYTE_ORDER_MARK || total != len)
        return dssi_err_detail(e, DSS_EFORMAT, "corrupt header (byte-order mark or length field: "
                          "%llu bytes recorded, %zu given)", (unsigned long long)total, len);
    crc = (uint32_t)codec_get_le(c->in + len - CODEC_CRC_BYTES, CODEC_CRC_BYTES);
    if (crc != crc32(c->in, len - CODEC_CRC_BYTES))
        return dssi_err_detail(e, DSS_EFORMAT, "corrupt: the CRC-32 does not match the contents");
    if (n != search->model->n || m != search->model->m)
        return dssi_err_detail(e, DSS_EFORMAT, "saved for another model: n = %llu, m = %llu; this "
                          "model has n = %zu, m = %zu", (unsigned long long)n,
                          (unsigned long long)m, search->model->n, search->model->m);
    if (l64 == 0 || l64 > search->model->n) /* compared before the cast: size_t may be narrower */
        return dssi_err_detail(e, DSS_EFORMAT, "corrupt: subspace dimension %llu (n = %zu)",
                               (unsigned long long)l64, search->model->n);
    *l = (size_t)l64;
    c->len = len - CODEC_CRC_BYTES; /* the body ends before the CRC */
    return DSS_OK;
}

/* Rows orthonormal to well within what any decomposition delivers (1e-8). */
static int orthonormal_rows(const double *B, size_t l, size_t n)
{
    for (size_t i = 0; i < l; i++)
        for (size_t k = 0; k <= i; k++) {
            double dot = 0.0;
            for (size_t j = 0; j < n; j++)
                dot += B[i * n + j] * B[k * n + j];
            if (!(fabs(dot - (i == k ? 1.0 : 0.0)) <= 1e-8))
                return 0;
        }
    return 1;
}

/* dsytrd('L') keeps Q = H(1) ... H(n-1), H(i) = I - tau_i v v^T with v = (0, .., 0, 1,
   G(i+2:n, i)) (1-based, column-major). H(i) is orthogonal only when tau_i = 0 or
   tau_i v^T v = 2, which dlarfg's reflectors satisfy to rounding; the unused tau_n is 0. */
static int orthogonal_reflectors(const double *G, const double *tau, size_t n)
{
    for (size_t i = 0; i + 1 < n; i++) {
        double vv = 1.0;
        for (size_t r = i + 2; r < n; r++)
            vv += G[i * n + r] * G[i * n + r];
        if (tau[i] != 0.0 && !(fabs(tau[i] * vv - 2.0) <= 1e-10))
            return 0;
    }
    return tau[n - 1] == 0.0;
}

/* The body into next and the scratch slot's decomposition; c->bad on any invalid field. */
static void get_session(cursor *c, dss_search *search, size_t l, svd_dec *dec,
                        uint64_t version)
{
    struct search_state *nx = &search->next;
    const size_t n = search->model->n, max_rank = dssi_search_max_rank(search);
    size_t rank;

    /* from the defaults, not the loading session's parameters: the saved prior is set before
       its scale, and with the loading session's scale it could give an infinite radius and
       refuse a valid string */
    dssi_params_default(&nx->p, n);
    get_params(c, &nx->p, n);
    get_rng(c, &nx->rng);
    get_f64s(c, nx->center, n);
    nx->l = l;
    get_f64s(c, nx->basis, l * n);
    for (size_t i = 0; i < l; i++)
        nx->basis_idx[i] = get_index(c);
    rank = get_size(c);
    if (c->bad || rank == 0 || rank > max_rank) {
        c->bad = 1;
        return;
    }
    for (size_t i = 0; i < l; i++)
        if (nx->basis_idx[i] >= rank && nx->basis_idx[i] != SAMPLER_NO_INDEX)
            c->bad = 1;
    nx->rank = rank;
    get_flags(c, nx->avail, rank);
    get_f64s(c, nx->dec_center, n);
    get_rng(c, &nx->dec_rng);
    get_jac(c, &nx->dec_cfg);

    dec->lazy = (int)get_u(c, 1);
    if (c->bad || dec->lazy > 1) {
        c->bad = 1;
        return;
    }
    if (dssi_svd_dec_reserve(dec, &search->alloc, rank, dec->lazy) != DSS_OK) {
        c->bad = c->nomem = 1;
        return;
    }
    dec->rank = rank;
    get_f64s(c, dec->s, rank);
    get_flags(c, dec->have, rank);
    get_f64s(c, dec->v, rank * n);
    if (dec->lazy > 1 || (dec->lazy && rank != n))
        c->bad = 1;
    for (size_t i = 0; i < rank && !c->bad; i++)
        if (dec->s[i] < 0.0 || (i > 0 && dec->s[i] > dec->s[i - 1]) || dec->have[i] == dec->lazy)
            c->bad = 1;
    /* what loads must stay valid under every later call: bases are drawn from V's rows (or
       from G's reflectors), so those are held to the same orthonormality as the basis */
    if (!c->bad && !orthonormal_rows(nx->basis, l, n))
        c->bad = 1;
    if (!c->bad && !dec->lazy && !orthonormal_rows(dec->v, rank, n))
        c->bad = 1;
    if (dec->lazy && !c->bad) {
        get_f64s(c, dec->G, n * n);
        get_f64s(c, dec->tau, n);
        get_f64s(c, dec->d, n);
        get_f64s(c, dec->e, n);
        if (!c->bad && !orthogonal_reflectors(dec->G, dec->tau, n))
            c->bad = 1;
    }
    if (!c->bad)
        get_policy(c, nx, n, version);
    if (c->pos != c->len)
        c->bad = 1; /* trailing bytes */
}

/*
 * Whether this model can continue the loaded session: the Jacobian mode of its next steps and
 * the route its decomposition took (which undo may recompute; AUTO as it was resolved) must both
 * run on it. An AUTO session that took the FULL route thus does not load into a model without a
 * Jacobian callback (it would otherwise continue in RANDOMIZED mode, with another rank). A
 * route AUTO would take differently on this model is not refused by itself: the saving session
 * may have set AUTO after its last decomposition. DSS_EUNSUPPORTED when the model cannot;
 * DSS_EFORMAT when the decomposition has another rank than its route gives.
 */
static int check_continuable(const dss_search *search, const struct search_state *st)
{
    const dss_model *model = search->model;
    const int saved_route = st->dec_cfg.mode; /* AUTO only in a libdss 1.0 string */
    errmsg *e = SEARCH_ERR(search);
    if (dssi_jac_check(model, &st->p.jac) != DSS_OK)
        return dssi_err_detail(e, DSS_EUNSUPPORTED, "this model cannot continue the session: %s",
                          dssi_jac_missing(model, &st->p.jac));
    if (dssi_jac_check(model, &st->dec_cfg) != DSS_OK)
        return dssi_err_detail(e, DSS_EUNSUPPORTED, "this model cannot recompute the session's "
                          "decomposition: %s", dssi_jac_missing(model, &st->dec_cfg));
    if (dssi_jac_rank(model, &st->dec_cfg) != st->rank)
        return dssi_err_detail(e, saved_route == DSS_JACOBIAN_AUTO ? DSS_EUNSUPPORTED : DSS_EFORMAT,
                          "the decomposition holds %zu singular values; its route gives %zu on "
                          "this model", st->rank, dssi_jac_rank(model, &st->dec_cfg));
    return DSS_OK;
}

/* The string's session into next and dec (a decomposition of the load's own), validated. */
static int decode(dss_search *search, cursor *c, size_t l, uint64_t version, svd_dec *dec)
{
    int rc;
    get_session(c, search, l, dec, version);
    if (c->nomem)
        return DSS_ENOMEM;
    if (c->bad)
        return dssi_err_detail(SEARCH_ERR(search), DSS_EFORMAT, "corrupt or inconsistent field near "
                          "byte %zu (the CRC matched: written so, or edited and re-checksummed)",
                          c->pos);
    if ((rc = check_continuable(search, &search->next)) != DSS_OK)
        return rc;
    memcpy(search->next.dec_s, dec->s, search->next.rank * sizeof *search->next.dec_s);
    if (dec->lazy) {
        /* lazy vectors come from d and e, and their clusters from s: the two must agree, or a
           vector drawn later could be wrong, or not orthogonal to the others */
        int match = 0;
        if ((rc = dssi_svd_check_lazy(&search->svd, &search->alloc, dec, &match)) != DSS_OK)
            return rc == DSS_ENOMEM ? rc : DSS_EFORMAT;
        if (!match)
            return dssi_err_detail(SEARCH_ERR(search), DSS_EFORMAT, "corrupt: the kept tridiagonal "
                              "form's eigenvalues are not the squared singular values");
    }
    return DSS_OK;
}

/* The decomposition is decoded into one of the load's own and swapped into the scratch slot
   only when the whole string is valid: a failed load leaves the slot, and the undo entry whose
   decomposition it may cache, as they were (it was emptied first, and three undos later made
   an extra Jacobian call). */
static int search_load_impl(dss_search *search, const void *buf, size_t len)
{
    cursor c;
    size_t l = 0;
    uint64_t version = 0;
    svd_dec dec, swap;
    int scratch, rc;

    if (search == NULL)
        return DSS_EINVAL;
    if (buf == NULL)
        return dssi_err_detail(SEARCH_ERR(search), DSS_EINVAL, "argument buf is NULL");
    c = (cursor){ .in = buf, .len = len };
    if ((rc = check_header(&c, search, len, &l, &version)) != DSS_OK)
        return rc;
    if ((rc = dssi_state_reserve_basis(&search->next, &search->alloc, search->model->n, l)) != DSS_OK)
        return rc;
    dssi_svd_dec_init(&dec, search->model->n);
    if ((rc = decode(search, &c, l, version, &dec)) != DSS_OK) {
        dssi_svd_dec_free(&dec, &search->alloc);
        return rc;
    }
    scratch = dssi_search_scratch_slot(search);
    swap = search->slot[scratch].dec;
    search->slot[scratch].dec = dec;
    dssi_svd_dec_free(&swap, &search->alloc);
    /* the loaded state and decomposition become the session's, with no history */
    dssi_session_publish(search, &(struct publish){ .source = PUBLISH_NEXT,
                                               .history = PUBLISH_CLEAR, .slot = scratch });
    return DSS_OK;
}

DSS_API int dss_search_load(dss_search *search, const void *buf, size_t len)
{
    if (search == NULL)
        return DSS_EINVAL;
    return ERR_CALL(SEARCH_ERR(search), SEARCH_MUTATION(search, search_load_impl(search, buf, len)));
}
