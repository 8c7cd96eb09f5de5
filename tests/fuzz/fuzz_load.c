/*
 * libFuzzer target: dss_search_load and the parameter setters, then steps that use them.
 *
 * Build and run with `make fuzz FUZZ_SECONDS=60` (clang -fsanitize=fuzzer,address,undefined).
 * The same file built with -DFUZZ_MAKE_CORPUS is a program that writes the seed corpus
 * (`make fuzz-corpus` regenerates tests/fuzz/corpus/).
 *
 * Input layout (every part may be short or missing):
 *   byte 0       configuration: bits 0-1 the model shape when the string's header names none of
 *                ours, bits 2-3 the Jacobian mode the search starts with, bit 4 set: do not start
 *                the search before loading, bits 5-7 which steps run after the load
 *   byte 1       bits 0-6: the number of setter records that follow; bit 7 set: before loading,
 *                write the string's own length into its length field and its CRC-32 into its
 *                last 4 bytes, so that mutations reach the body instead of stopping at the
 *                checksum
 *   records      10 bytes each: [flags][id][8 value bytes]; flags bit 0: dss_line_set, else
 *                dss_search_set; bit 1: the value is the raw IEEE-754 double of the 8 bytes
 *                (little-endian), else the small integer (int16) in the first two of them; the
 *                id byte is taken as a signed char, so unknown and negative ids occur
 *   the rest     the string given to dss_search_load
 *
 * What is checked, besides the sanitizers: every call that fails leaves the session exactly as
 * it was and names itself in dss_search_errmsg (centre, basis, indices, singular values, parameters, work statistics) and a line
 * search's parameters too; a string that loads saves again, and that save loads and saves to
 * the same bytes.
 *
 * Resources: the library does what the host asks, so the target bounds the two parameters
 * whose cost grows with their value after the setters ran: DSS_LINE_SAMPLES (at most 2049
 * points per line search) and DSS_SEARCH_HISTORY (at most 256 steps).
 *
 * tests/fuzz/regress/ keeps the inputs of past findings (run with the corpus by `make fuzz`):
 *   saved-basis-not-orthonormal  a string whose right-singular vectors are orthonormal only to
 *                                ~4e-8 loads; a 2-D basis drawn from them is saved, and that
 *                                save does not load (the load checks the basis to 1e-8 but not V)
 *   failed-load-leaves-nan-in-a-later-save  a load that fails on a non-finite double has already
 *                                written into the spare decomposition slot; a moved commit reuses
 *                                the slot, and entries LAPACK does not write (e[n-1]) keep the
 *                                NaN, which the session's next save contains: it does not load
 *   loaded-tridiagonal-disagrees-with-s  a Gram-route string with d_0 = -5.5e14 loads (s, V and
 *                                the reflectors are valid); the lazy vectors later drawn from
 *                                that T are 2.6e-3 from orthogonal, and the save of that basis
 *                                does not load. The load now checks that T's eigenvalues are s^2
 *                                (and lazy vectors of close eigenvalues are computed together)
 *   count-parameter-of-2-to-the-64  (issue 8, bug 2) dss_search_set(JACOBIAN_ROWS, 2^64) passed
 *                                the bound (double)SIZE_MAX, which rounds up to 2^64; the
 *                                conversion to size_t was undefined (UBSan aborted here)
 *   prior-scale-with-infinite-radius  (issue 8, bug 7) PRIOR_SCALE 1e308 was accepted and the
 *                                default radius became infinite
 *   auto-set-after-the-last-decomposition  a session whose decomposition took FINITE_DIFF and
 *                                whose mode was then set to AUTO (FULL on this model) saved a
 *                                string that the first 1.1 load check (AUTO must resolve to the
 *                                saved route) refused: found while writing that check
 *
 * The model is a small linear map f(z) = J z (J fixed per shape from splitmix64), with a full
 * Jacobian, VJP and JVP: no cmocka, no test support code.
 */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dss/dss.h>

#define MAXN 8
#define MAXM 12
#define NSHAPES 4
#define SAVE_CAP 16384
#define NPARAMS 22   /* search parameter ids 1..22 (17..22: the slider-range policy, 1.1) */
#define NSTATS 10    /* the deterministic statistics, keys 1..10 */

/* ---- the model ------------------------------------------------------------------------------ */

typedef struct fz_model {
    size_t n, m;
    double J[MAXM * MAXN];
} fz_model;

static const size_t shapes[NSHAPES][2] = { { 4, 7 }, { 6, 3 }, { 5, 12 }, { 8, 8 } }; /* n, m */

static uint64_t splitmix(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

/* Entries uniform in [-1, 1), column j scaled by 1 / (j + 1): distinct singular values. */
static void fz_model_init(fz_model *fm, size_t shape)
{
    uint64_t seed = 12345 + shape;
    fm->n = shapes[shape][0];
    fm->m = shapes[shape][1];
    for (size_t d = 0; d < fm->m; d++)
        for (size_t j = 0; j < fm->n; j++)
            fm->J[d * fm->n + j] = ((double)(splitmix(&seed) >> 11) * 0x1.0p-52 - 1.0)
                                   / (double)(j + 1);
}

static int fz_f(void *user, size_t k, const double *z, double *x)
{
    const fz_model *fm = user;
    for (size_t i = 0; i < k; i++)
        for (size_t d = 0; d < fm->m; d++) {
            double acc = 0.0;
            for (size_t j = 0; j < fm->n; j++)
                acc += fm->J[d * fm->n + j] * z[i * fm->n + j];
            x[i * fm->m + d] = acc;
        }
    return 0;
}

static int fz_jacobian(void *user, const double *z, size_t nrows, const size_t *rows, double *out)
{
    const fz_model *fm = user;
    (void)z;
    for (size_t r = 0; r < nrows; r++) {
        size_t d = rows != NULL ? rows[r] : r;
        if (d >= fm->m)
            abort(); /* the library broke the callback convention */
        memcpy(out + r * fm->n, fm->J + d * fm->n, fm->n * sizeof *out);
    }
    return 0;
}

static int fz_vjp(void *user, const double *z, size_t k, const double *u, double *out)
{
    const fz_model *fm = user;
    (void)z;
    for (size_t i = 0; i < k; i++)
        for (size_t j = 0; j < fm->n; j++) {
            double acc = 0.0;
            for (size_t d = 0; d < fm->m; d++)
                acc += u[i * fm->m + d] * fm->J[d * fm->n + j];
            out[i * fm->n + j] = acc;
        }
    return 0;
}

static int fz_jvp(void *user, const double *z, size_t k, const double *v, double *out)
{
    (void)z;
    return fz_f(user, k, v, out);
}

static int fz_score(void *user, size_t k, const double *x, double *score)
{
    const fz_model *fm = user;
    for (size_t i = 0; i < k; i++) {
        double acc = 0.0;
        for (size_t d = 0; d < fm->m; d++)
            acc -= (x[i * fm->m + d] - 0.3) * (x[i * fm->m + d] - 0.3);
        score[i] = acc;
    }
    return 0;
}

static int make_model(fz_model *fm, size_t shape, dss_model **out)
{
    fz_model_init(fm, shape);
    if (dss_model_create(out, fm->n, fm->m, fz_f, fm) != DSS_OK)
        return -1;
    if (dss_model_set_jacobian(*out, fz_jacobian) != DSS_OK
        || dss_model_set_vjp(*out, fz_vjp) != DSS_OK || dss_model_set_jvp(*out, fz_jvp) != DSS_OK
        || dss_model_set_max_batch(*out, 16) != DSS_OK) {
        dss_model_destroy(*out);
        return -1;
    }
    return 0;
}

/* ---- "a failing call changes nothing" ------------------------------------------------------- */

typedef struct snap {
    size_t l, rank;
    int started;
    double center[MAXN], basis[MAXN * MAXN], sv[MAXN];
    size_t idx[MAXN];
    double params[NPARAMS + 1];
    int param_status[NPARAMS + 1];
    double stats[NSTATS + 1];
    double slider_radius;   /* the policy's scale in force (format version 2) */
} snap;

static void take(const dss_search *s, snap *o)
{
    memset(o, 0, sizeof *o);
    o->l = dss_search_subspace_dim(s);
    o->rank = dss_search_rank(s);
    o->started = dss_search_center(s, o->center) == DSS_OK;
    if (o->started) {
        if (o->l > MAXN || o->rank > MAXN || dss_search_basis(s, o->basis) != DSS_OK
            || dss_search_basis_indices(s, o->idx) != DSS_OK
            || dss_search_singular_values(s, o->sv, MAXN) != DSS_OK)
            abort();
    }
    for (int p = 1; p <= NPARAMS; p++)
        o->param_status[p] = dss_search_get(s, p, &o->params[p]);
    if (dss_search_slider_radius(s, &o->slider_radius) != DSS_OK)
        abort();
    for (int k = 1; k <= NSTATS; k++)
        if (dss_search_stat(s, k, &o->stats[k]) != DSS_OK)
            abort();
}

static void fail(const char *what, int rc)
{
    fprintf(stderr, "fuzz_load: %s (status %d: %s)\n", what, rc, dss_strerror(rc));
    abort();
}

/* Run a session call; on failure the session must be as it was. */
#define GUARDED(search, call)                                                                    \
    do {                                                                                         \
        snap before_, after_;                                                                    \
        take((search), &before_);                                                                \
        int guarded_rc_ = (call);                                                                \
        if (guarded_rc_ != DSS_OK) {                                                             \
            take((search), &after_);                                                             \
            if (memcmp(&before_, &after_, sizeof before_) != 0)                                  \
                fail("the failing call " #call " changed the session", guarded_rc_);             \
            if (strncmp(dss_search_errmsg(search), "dss_search_", 11) != 0)                      \
                fail("the failing call " #call " left no message", guarded_rc_);                 \
        }                                                                                        \
    } while (0)

/* ---- one input ------------------------------------------------------------------------------ */

/* CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320), bit by bit: the checksum the format
   ends with (docs/format.md). */
static uint32_t crc32_ieee(const uint8_t *p, size_t len)
{
    uint32_t crc = 0xFFFFFFFFu;
    for (size_t i = 0; i < len; i++) {
        crc ^= p[i];
        for (int b = 0; b < 8; b++)
            crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
    }
    return crc ^ 0xFFFFFFFFu;
}

/* The string with a correct length field (offset 16) and CRC (its last 4 bytes). */
static void fix_checksum(uint8_t *buf, size_t len)
{
    uint32_t crc;
    if (len < 28)
        return;
    for (int i = 0; i < 8; i++)
        buf[16 + i] = (uint8_t)((uint64_t)len >> (8 * i));
    crc = crc32_ieee(buf, len - 4);
    for (int i = 0; i < 4; i++)
        buf[len - 4 + i] = (uint8_t)(crc >> (8 * i));
}

static uint64_t le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static void apply_setter(dss_search *search, dss_line *line, const uint8_t *rec)
{
    const int on_line = rec[0] & 1, raw = rec[0] & 2;
    const int id = (int)(signed char)rec[1];
    double value;
    if (raw) {
        uint64_t bits = le64(rec + 2);
        memcpy(&value, &bits, sizeof value);
    } else {
        value = (double)(int16_t)(uint16_t)(rec[2] | (unsigned)rec[3] << 8);
    }
    if (on_line) {
        double before[5], after[5];
        for (int p = 1; p <= 4; p++)
            dss_line_get(line, p, &before[p]);
        if (dss_line_set(line, id, value) != DSS_OK) {
            for (int p = 1; p <= 4; p++)
                dss_line_get(line, p, &after[p]);
            if (memcmp(before + 1, after + 1, 4 * sizeof *before) != 0)
                fail("a failing dss_line_set changed the line search", DSS_EINVAL);
        }
    } else {
        GUARDED(search, dss_search_set(search, id, value));
    }
}

/* Keep the work of one input bounded (see the header comment). */
static void bound_costs(dss_search *search, dss_line *line)
{
    double v;
    if (dss_line_get(line, DSS_LINE_SAMPLES, &v) == DSS_OK && v > 2049)
        dss_line_set(line, DSS_LINE_SAMPLES, 2049);
    if (dss_search_get(search, DSS_SEARCH_HISTORY, &v) == DSS_OK && v > 256)
        dss_search_set(search, DSS_SEARCH_HISTORY, 256);
}

/* Save, load the save into a fresh search, save again: the same bytes. */
static void round_trip(const dss_model *model, dss_search *search)
{
    static unsigned char a[SAVE_CAP], b[SAVE_CAP];
    size_t la = 0, lb = 0;
    dss_search *copy;
    int rc = dss_search_save(search, a, sizeof a, &la);
    if (rc == DSS_ESTATE)
        return;
    if (rc != DSS_OK)
        fail("dss_search_save failed on a started session", rc);
    if (dss_search_create(&copy, model) != DSS_OK)
        abort();
    if ((rc = dss_search_load(copy, a, la)) != DSS_OK)
        fail("a string just saved does not load", rc);
    if ((rc = dss_search_save(copy, b, sizeof b, &lb)) != DSS_OK)
        fail("a loaded session does not save", rc);
    if (la != lb || memcmp(a, b, la) != 0)
        fail("save -> load -> save changed the bytes", DSS_OK);
    dss_search_destroy(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static fz_model fm;
    static uint8_t fixed[SAVE_CAP];
    const uint8_t config = size > 0 ? data[0] : 0;
    const int fix = size > 1 && (data[1] & 0x80);
    size_t nrec = size > 1 ? data[1] & 0x7F : 0, shape = config & 3, pos;
    const uint8_t *str;
    size_t len;
    dss_model *model = NULL;
    dss_search *search = NULL;
    dss_line *line = NULL;
    double z0[MAXN], t = 0.5, score;
    int rc = DSS_OK;

    if (nrec * 10 > (size > 2 ? size - 2 : 0))
        nrec = (size > 2 ? size - 2 : 0) / 10;
    pos = 2 + nrec * 10;
    str = data + (pos < size ? pos : size);
    len = pos < size ? size - pos : 0;
    if (fix && len <= sizeof fixed) {
        memcpy(fixed, str, len);
        fix_checksum(fixed, len);
        str = fixed;
    }
    /* the model whose shape the string's header names, when it is one of ours */
    if (len >= 40) {
        uint64_t n = le64(str + 24), m = le64(str + 32);
        for (size_t s = 0; s < NSHAPES; s++)
            if (n == shapes[s][0] && m == shapes[s][1])
                shape = s;
    }
    if (make_model(&fm, shape, &model) != 0 || dss_search_create(&search, model) != DSS_OK
        || dss_line_create(&line) != DSS_OK)
        abort();
    dss_line_set(line, DSS_LINE_SAMPLES, 17);
    dss_line_set(line, DSS_LINE_BATCH, 5);
    for (size_t j = 0; j < fm.n; j++)
        z0[j] = 0.1 * (double)j - 0.2;
    if (!(config & 0x10)) {
        if (dss_search_set(search, DSS_SEARCH_JACOBIAN, 1 + ((config >> 2) & 3)) != DSS_OK
            || dss_search_set(search, DSS_SEARCH_RANK, 3) != DSS_OK
            || (rc = dss_search_start(search, z0)) != DSS_OK)
            fail("dss_search_start on a fresh search", rc);
    }

    GUARDED(search, dss_search_load(search, str, len));

    for (size_t i = 0; i < nrec; i++)
        apply_setter(search, line, data + 2 + 10 * i);
    bound_costs(search, line);

    /* steps that use the parameters (and the loaded state) */
    {
        const unsigned steps = config >> 5;
        double w[MAXN], z[MAXN], lo[MAXN], hi[MAXN];
        for (size_t i = 0; i < MAXN; i++)
            w[i] = (i % 2 ? -0.3 : 0.45);
        GUARDED(search, dss_search_point(search, 0.25, z));
        GUARDED(search, dss_search_point_w(search, w, z));
        GUARDED(search, dss_search_slider_ends(search, lo, hi));
        GUARDED(search, dss_search_resample(search));
        if (steps & 1)
            GUARDED(search, dss_search_find_optimal(line, search, fz_score, &fm, &t, &score));
        GUARDED(search, dss_search_commit(search, t));
        if (steps & 2) {
            GUARDED(search, dss_search_commit_w(search, w));
            GUARDED(search, dss_search_commit(search, 0.5));
        }
        if (steps & 4) {
            GUARDED(search, dss_search_undo(search));
            GUARDED(search, dss_search_undo(search));
        }
        GUARDED(search, dss_search_resample(search));
    }
    round_trip(model, search);

    dss_line_destroy(line);
    dss_search_destroy(search);
    dss_model_destroy(model);
    return 0;
}

/* ---- the seed corpus ------------------------------------------------------------------------ */
#ifdef FUZZ_MAKE_CORPUS

/* Write [config][nrec | fix][records][saved string of a short session] to dir/name. */
static int write_seed(const char *dir, size_t shape, int mode, int l, int steps, uint8_t config,
                      const uint8_t *records, size_t nrec, int fix)
{
    static unsigned char buf[SAVE_CAP];
    fz_model fm;
    dss_model *model;
    dss_search *search;
    dss_line *line;
    double z0[MAXN], t, w[MAXN] = { 0.5, -0.5, 0.25, 0.1, 0.0, 0.0, 0.0, 0.0 };
    size_t len = 0;
    char path[512];
    FILE *out;
    int rc = 0;

    if (make_model(&fm, shape, &model) != 0 || dss_search_create(&search, model) != DSS_OK
        || dss_line_create(&line) != DSS_OK)
        return -1;
    for (size_t j = 0; j < fm.n; j++)
        z0[j] = 0.2 * (double)j - 0.5;
    dss_line_set(line, DSS_LINE_SAMPLES, 33);
    if (dss_search_set(search, DSS_SEARCH_JACOBIAN, mode) != DSS_OK
        || dss_search_set(search, DSS_SEARCH_RANK, 3) != DSS_OK
        || dss_search_set(search, DSS_SEARCH_SEED, 11 + steps) != DSS_OK
        || dss_search_set(search, DSS_SEARCH_JACOBIAN_ROWS, 4) != DSS_OK
        /* the three slider-range policies (1.1), so that seeds carry scales other than 1 */
        || dss_search_set(search, DSS_SEARCH_RADIUS_POLICY, (mode + steps) % 3) != DSS_OK
        || dss_search_start(search, z0) != DSS_OK)
        rc = -1;
    for (int i = 0; i < steps && rc == 0; i++) {
        if (dss_search_find_optimal(line, search, fz_score, &fm, &t, NULL) != DSS_OK
            || dss_search_commit(search, t) != DSS_OK || dss_search_resample(search) != DSS_OK)
            rc = -1;
    }
    if (rc == 0 && l > 1) {
        if (dss_search_set(search, DSS_SEARCH_SUBSPACE_DIM, l) != DSS_OK
            || dss_search_resample(search) != DSS_OK || dss_search_commit_w(search, w) != DSS_OK)
            rc = -1;
    }
    if (rc == 0 && dss_search_save(search, buf, sizeof buf, &len) != DSS_OK)
        rc = -1;
    if (rc == 0) { /* the target's checksum repair must leave a valid string as it is */
        static uint8_t copy[SAVE_CAP];
        memcpy(copy, buf, len);
        fix_checksum(copy, len);
        if (memcmp(copy, buf, len) != 0) {
            fprintf(stderr, "fuzz corpus: fix_checksum disagrees with dss_search_save\n");
            rc = -1;
        }
    }
    if (rc == 0) {
        uint8_t head[2] = { config, (uint8_t)(nrec | (fix ? 0x80u : 0u)) };
        snprintf(path, sizeof path, "%s/n%zu-m%zu-mode%d-l%d-steps%d-c%02x", dir,
                 shapes[shape][0], shapes[shape][1], mode, l, steps, config);
        out = fopen(path, "wb");
        if (out == NULL || fwrite(head, 1, 2, out) != 2
            || fwrite(records, 10, nrec, out) != nrec || fwrite(buf, 1, len, out) != len)
            rc = -1;
        if (out != NULL && fclose(out) != 0)
            rc = -1;
    }
    dss_line_destroy(line);
    dss_search_destroy(search);
    dss_model_destroy(model);
    return rc;
}

int main(int argc, char **argv)
{
    /* a few setter records: l = 2 on the search, radius 0.5 (raw double), refine on the line,
       an unknown id */
    static const uint8_t records[4][10] = {
        { 0, DSS_SEARCH_SUBSPACE_DIM, 2, 0, 0, 0, 0, 0, 0, 0 },
        { 2, DSS_SEARCH_RADIUS, 0, 0, 0, 0, 0, 0, 0xE0, 0x3F },
        { 1, DSS_LINE_REFINE, 1, 0, 0, 0, 0, 0, 0, 0 },
        { 0, 99, 1, 0, 0, 0, 0, 0, 0, 0 },
    };
    const char *dir = argc > 1 ? argv[1] : "tests/fuzz/corpus";
    int failures = 0, written = 0;
    for (size_t shape = 0; shape < NSHAPES; shape++) {
        for (int mode = DSS_JACOBIAN_FULL; mode <= DSS_JACOBIAN_RANDOMIZED; mode++) {
            uint8_t config = (uint8_t)((shape & 3) | (unsigned)(mode - 1) << 2
                                       | (unsigned)((shape + (size_t)mode) % 8) << 5);
            int l = (shape + (size_t)mode) % 3 == 0 ? 2 : 1;
            size_t nrec = (shape + (size_t)mode) % 2 ? 4 : 0;
            int steps = (int)((shape + (size_t)mode) % 3);
            if (write_seed(dir, shape, mode, l, steps, config, &records[0][0], nrec, 1) != 0)
                failures++;
            else
                written++;
        }
        /* restored into a search that was never started */
        if (write_seed(dir, shape, DSS_JACOBIAN_FULL, 1, 1, (uint8_t)(shape | 0x10 | 0xE0),
                       &records[0][0], 0, 0) != 0)
            failures++;
        else
            written++;
    }
    printf("fuzz corpus: %d seeds written to %s, %d failed\n", written, dir, failures);
    return failures != 0;
}
#endif
