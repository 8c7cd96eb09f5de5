/*
 * bench/paper.c - the paper's synthetic global experiment (Chiu et al., SIGGRAPH 2020,
 * sections 4.2-4.5), reproduced with dss_synthetic.
 *
 * Problem: m = 1024 outputs, n in {8, 32, 128, 512}, gamma = 2 (Rastrigin-like score, maximise,
 * optimum 0), latent box [-2.5, 2.5]^n, the authors' initial point, slider radius 0.2 x the mean
 * distance between two points of the box (DSS_PRIOR_BOX with scale DSS_SYNTHETIC_BOX).
 * Every method runs the authors' loop from the same start: find_optimal on the current slider
 * (the simulated user), then commit there; the best score so far is tracked per iteration.
 *
 *   dss-authors      DSS_SAMPLER_SINGULAR, the authors' Jacobian (A_d + A_d^T)(z - s)
 *                    (dss_synthetic_set_jacobian(p, DSS_SYNTHETIC_JACOBIAN_AUTHORS))
 *   dss-true         DSS_SAMPLER_SINGULAR, the true Jacobian A_d (z - s) / f_d(z)
 *   random-gauss     DSS_SAMPLER_RANDOM: uniformly distributed unit directions (normalised
 *                    Gaussians); the Jacobian is not used, so the session computes a 1-row one
 *                    (DSS_JACOBIAN_ROWS, 1 row) to save time
 *   random-positive  the authors' baseline: d = rand(n) / |rand(n)| (uniform [0,1) components,
 *                    all positive), segment c +- radius d driven by dss_find_optimal in this
 *                    program, the centre moving to the best point
 *
 * Outputs: tables on stdout and in docs/bench/paper.md (mean +- std and min/max of the best
 * score over cases at selected iterations), every value in build/bench/paper.csv
 * (iteration,n,method,case,best_score), the mean curves in build/bench/paper-mean.dat and a plot
 * docs/bench/paper.png drawn by gnuplot with bench/plot.gp (skipped, with a message, when
 * gnuplot is absent). It also measures the synthetic generator's speed (dss_model_generate,
 * n = 512, m = 1024, batches of 500).
 *
 * Methods also include libdss 1.1's options, on the same problems and users: the stall escape
 * (dss-{authors,true}-escape, DSS_SEARCH_STALL_COMMITS) and the escape with the adaptive slider
 * range (dss-{authors,true}-adaptive, DSS_SEARCH_RADIUS_POLICY).
 * --shard i/N --out FILE runs a part of the problems and --merge FILE... reports on the parts
 * exactly as one process would (bench/paper_dask.py runs the shards on a Dask cluster).
 *
 *     build/bench/paper [--full] [--cases K] [--iters N] [--samples S] [--refine 0|1|2]
 *                       [--compare S,R ... | --no-compare] [--dims LIST] [--csv FILE] [--md FILE]
 *                       [--mean FILE] [--png FILE] [--no-plot]
 *
 * Default: 5 cases, 200 iterations, line search = 65-point grid + DSS_LINE_REFINE = 2 (Brent's
 * method around the grid's 3 best local maxima: about 88 generator points per line instead of
 * 10001; bench/line measures how often that reaches the 10001-point grid's score). The default
 * run repeats the experiment with two other simulated users (--compare: 65 points +
 * DSS_LINE_REFINE = 1, the previous default, and 33 points + DSS_LINE_REFINE = 2, the cheaper
 * one) and prints them side by side, so that the choice of the simulated user is checked in
 * every run. --full runs the paper's protocol: 10 cases, 200 iterations, the 10001-point grid,
 * no comparison (hours: about 8000 line searches of 10001 points per n). Run from the
 * repository root (as `make bench` does).
 *
 * Copyright (c) 2026 the libdss authors. MIT licence, see LICENSE.
 */
#include "common.h" /* first: it sets _POSIX_C_SOURCE */

#include <dss/dss.h>

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define OUTPUT_DIM 1024
#define GAMMA      2.0
#define MAX_DIMS   8
#define SOLVED     0.01 /* a run "solved" the problem when its gap to the optimum is below */
#define MAX_ALT    3    /* simulated users compared with this run's (--compare) */

enum { M_DSS_AUTHORS, M_DSS_TRUE, M_RANDOM_GAUSS, M_RANDOM_POSITIVE, M_AUTHORS_ESCAPE,
       M_TRUE_ESCAPE, M_AUTHORS_ADAPTIVE, M_TRUE_ADAPTIVE, METHODS };
static const char *const method_name[METHODS] = { "dss-authors", "dss-true", "random-gauss",
                                                  "random-positive", "dss-authors-escape",
                                                  "dss-true-escape", "dss-authors-adaptive",
                                                  "dss-true-adaptive" };

/* libdss 1.1's options (docs/algorithm.md section 10): the escape methods set
   DSS_SEARCH_STALL_COMMITS = STALL_COMMITS with the paper's fixed slider, the adaptive ones
   also DSS_SEARCH_RADIUS_POLICY = DSS_RADIUS_ADAPTIVE (default factors and bounds). */
#define STALL_COMMITS 4

static int method_policy(int me)
{
    return me == M_AUTHORS_ADAPTIVE || me == M_TRUE_ADAPTIVE ? DSS_RADIUS_ADAPTIVE
                                                             : DSS_RADIUS_FIXED;
}

static int method_escapes(int me) /* the escape and adaptive methods end the enum */
{
    return me >= M_AUTHORS_ESCAPE;
}

static int method_authors_jacobian(int me)
{
    return me == M_DSS_AUTHORS || me == M_AUTHORS_ADAPTIVE || me == M_AUTHORS_ESCAPE;
}

#define MAX_MERGE 256 /* shard files one --merge reads */

typedef struct options {
    int cases, iters, samples, refine, plot, full;
    int shard, shards;                     /* --shard i/N: this process runs shard i of N */
    const char *shard_out;                 /* where a shard writes its runs (--out) */
    const char *merge[MAX_MERGE];          /* --merge FILE...: shard files to report on */
    int nmerge;
    const char *tables;                    /* --tables FILE: the score tables alone */
    int nalt, alt_given;                   /* other simulated users (--compare S,R) */
    int alt_samples[MAX_ALT], alt_refine[MAX_ALT];
    size_t dims[MAX_DIMS];
    int ndims;
    const char *csv, *mean, *md, *png, *script;
} options;

/* best[((d * METHODS + me) * cases + c) * (iters + 1) + i] */
typedef struct results {
    double *best;
    double seconds[MAX_DIMS][METHODS];
    double points[MAX_DIMS][METHODS]; /* generator points evaluated by the line searches */
    double jacobians[MAX_DIMS][METHODS]; /* Jacobians decomposed (DSS_STAT_DECOMPOSITIONS) */
    double *run;   /* per run (d, me, c): seconds, points and Jacobians, for shard files */
    unsigned char *have; /* per run: computed here or read from a shard file */
} results;

static size_t run_index(const options *o, int d, int me, int c)
{
    return ((size_t)d * METHODS + (size_t)me) * (size_t)o->cases + (size_t)c;
}

/* A unit of work is one problem (n, case) with every method on it; shard i of N (1-based)
   takes the units u = d * cases + c with u mod N = i - 1, which interleaves the dimensions. */
static int in_shard(const options *o, int d, int c)
{
    return o->shards == 0 || (d * o->cases + c) % o->shards == o->shard - 1;
}

static double *cell(const options *o, const results *r, int d, int me, int c)
{
    return r->best + (((size_t)d * METHODS + (size_t)me) * (size_t)o->cases + (size_t)c)
                         * ((size_t)o->iters + 1);
}

static void usage(FILE *out, const char *prog)
{
    fprintf(out,
            "usage: %s [--full] [--cases K] [--iters N] [--samples S] [--refine 0|1|2]\n"
            "          [--compare S,R ... | --no-compare] [--dims LIST] [--csv FILE]\n"
            "          [--md FILE] [--mean FILE] [--png FILE] [--no-plot] [--tables FILE]\n"
            "          [--shard i/N --out FILE | --merge FILE...] [--help]\n"
            "The paper's synthetic experiment: DSS (authors' and true Jacobian) against random\n"
            "directions (Gaussian, and the authors' positive-only rand(n)) on dss_synthetic,\n"
            "m = %d, gamma = %g, box [-%g, %g]^n.\n"
            "  --full        the paper's protocol: 10 cases, 200 iterations, 10001 samples,\n"
            "                no refinement, no comparison (takes hours)\n"
            "  --cases K     problem instances (seeds 1..K), default 5\n"
            "  --iters N     iterations (line search + commit), default 200\n"
            "  --samples S   slider grid points per line search, default 65\n"
            "  --refine R    DSS_LINE_REFINE: 0 grid only, 1 refine the best grid point's\n"
            "                bracket, 2 the brackets of the grid's 3 best peaks; default 2\n"
            "  --compare S,R run everything again with S samples and DSS_LINE_REFINE = R and\n"
            "                compare the simulated users; up to %d times; default 65,1 and 33,2\n"
            "  --no-compare  do not (a third of the time)\n"
            "  --dims LIST   comma-separated latent dimensions, default 8,32,128,512\n"
            "  --csv FILE    default build/bench/paper.csv\n"
            "  --md FILE     default docs/bench/paper.md\n"
            "  --mean FILE   the mean curves (gnuplot data), default build/bench/paper-mean.dat\n"
            "  --png FILE    default docs/bench/paper.png\n"
            "  --no-plot     do not run gnuplot\n"
            "  --tables FILE also write the verdict and score tables alone (no times)\n"
            "  --shard i/N   run only shard i of N (1 <= i <= N): the problems (n, case) with\n"
            "                index d * cases + c = i - 1 mod N, every method; with --out FILE,\n"
            "                which receives their scores; no reports, no comparison\n"
            "  --merge FILE...  report on shard files (the protocol comes from them) exactly\n"
            "                as one process would have\n",
            prog, OUTPUT_DIM, GAMMA, DSS_SYNTHETIC_BOX, DSS_SYNTHETIC_BOX, MAX_ALT);
}

static int parse_count(const char *s, int lo, int hi)
{
    char *end;
    long v;
    errno = 0;
    v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi)
        return -1;
    return (int)v;
}

/* A comma-separated list of 1 to MAX_DIMS latent dimensions. */
static int parse_dims(const char *s, options *o)
{
    return bench_parse_sizes(s, o->dims, MAX_DIMS, 1 << 16, &o->ndims);
}

#define CHECK(call) BENCH_CHECK("paper", call)

/* ---- the authors' positive-only random directions: a small seeded generator ---------------- */

static uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

/* uniform [0, 1) with 53 random bits */
static double uniform01(uint64_t *state)
{
    return (double)(splitmix64(state) >> 11) * 0x1.0p-53;
}

/* ---- one run ----------------------------------------------------------------------------- */

static int score_point(const dss_synthetic *problem, const double *z, double *x, double *score)
{
    int rc = dss_model_generate(dss_synthetic_model(problem), 1, z, x);
    return rc != DSS_OK ? rc : dss_synthetic_score((void *)problem, 1, x, score);
}

/* The session-driven methods: find_optimal on the slider, commit, iters times. */
static int run_session(dss_synthetic *problem, int method, unsigned seed, const options *o,
                       dss_line *line, double *best, double *points, double *jacobians)
{
    const dss_model *model = dss_synthetic_model(problem);
    const size_t n = dss_model_latent_dim(model);
    dss_search *search = NULL;
    double *z0 = malloc(n * sizeof *z0), *x = malloc(OUTPUT_DIM * sizeof *x);
    int status = -1;

    if (z0 == NULL || x == NULL) {
        fprintf(stderr, "paper: out of memory\n");
        goto done;
    }
    CHECK(dss_synthetic_set_jacobian(problem, method_authors_jacobian(method)
                                                  ? DSS_SYNTHETIC_JACOBIAN_AUTHORS
                                                  : DSS_SYNTHETIC_JACOBIAN_TRUE));
    CHECK(dss_search_create(&search, model));
    CHECK(dss_search_set(search, DSS_SEARCH_PRIOR, DSS_PRIOR_BOX));
    CHECK(dss_search_set(search, DSS_SEARCH_PRIOR_SCALE, DSS_SYNTHETIC_BOX));
    CHECK(dss_search_set(search, DSS_SEARCH_SEED, seed));
    if (method == M_RANDOM_GAUSS) {
        CHECK(dss_search_set(search, DSS_SEARCH_SAMPLER, DSS_SAMPLER_RANDOM));
        CHECK(dss_search_set(search, DSS_SEARCH_JACOBIAN, DSS_JACOBIAN_ROWS));
        CHECK(dss_search_set(search, DSS_SEARCH_JACOBIAN_ROWS, 1));
    } else {
        CHECK(dss_search_set(search, DSS_SEARCH_SAMPLER, DSS_SAMPLER_SINGULAR));
        CHECK(dss_search_set(search, DSS_SEARCH_JACOBIAN, DSS_JACOBIAN_FULL));
    }
    if (method_escapes(method)) {
        CHECK(dss_search_set(search, DSS_SEARCH_RADIUS_POLICY, method_policy(method)));
        CHECK(dss_search_set(search, DSS_SEARCH_STALL_COMMITS, STALL_COMMITS));
    }
    CHECK(dss_synthetic_initial_point(problem, z0));
    CHECK(dss_search_start(search, z0));
    CHECK(score_point(problem, z0, x, &best[0]));
    for (int i = 1; i <= o->iters; i++) {
        double t, s;
        CHECK(dss_search_find_optimal(line, search, dss_synthetic_score, problem, &t, &s));
        *points += (double)dss_line_evaluations(line);
        CHECK(dss_search_commit(search, t));
        best[i] = s > best[i - 1] ? s : best[i - 1];
    }
    CHECK(dss_search_stat(search, DSS_STAT_DECOMPOSITIONS, jacobians));
    status = 0;
done:
    dss_search_destroy(search);
    free(z0);
    free(x);
    return status;
}

/* The authors' random baseline, driven here: segment c +- radius d, d = rand(n) normalised. */
static int run_positive(const dss_synthetic *problem, unsigned seed, double radius,
                        const options *o, dss_line *line, double *best, double *points)
{
    const dss_model *model = dss_synthetic_model(problem);
    const size_t n = dss_model_latent_dim(model);
    double *c = malloc(4 * n * sizeof *c), *lo = c + n, *hi = lo + n, *d = hi + n;
    double *x = malloc(OUTPUT_DIM * sizeof *x);
    uint64_t state = 0x5eed0000u + seed;
    int status = -1;

    if (c == NULL || x == NULL) {
        fprintf(stderr, "paper: out of memory\n");
        goto done;
    }
    CHECK(dss_synthetic_initial_point(problem, c));
    CHECK(score_point(problem, c, x, &best[0]));
    for (int i = 1; i <= o->iters; i++) {
        double norm = 0.0, t, s;
        for (size_t j = 0; j < n; j++) {
            d[j] = uniform01(&state);
            norm += d[j] * d[j];
        }
        norm = sqrt(norm);
        for (size_t j = 0; j < n; j++) {
            lo[j] = c[j] - radius * d[j] / norm;
            hi[j] = c[j] + radius * d[j] / norm;
        }
        CHECK(dss_find_optimal(line, model, lo, hi, dss_synthetic_score, (void *)problem, &t, &s));
        *points += (double)dss_line_evaluations(line);
        for (size_t j = 0; j < n; j++)
            c[j] = lo[j] + t * (hi[j] - lo[j]);
        best[i] = s > best[i - 1] ? s : best[i - 1];
    }
    status = 0;
done:
    free(c);
    free(x);
    return status;
}

/* The slider radius of the box prior for dimension n, as the library computes it. */
static int box_radius(const dss_model *model, double *radius)
{
    dss_search *search = NULL;
    int rc = dss_search_create(&search, model);
    if (rc == DSS_OK)
        rc = dss_search_set(search, DSS_SEARCH_PRIOR, DSS_PRIOR_BOX);
    if (rc == DSS_OK)
        rc = dss_search_set(search, DSS_SEARCH_PRIOR_SCALE, DSS_SYNTHETIC_BOX);
    if (rc == DSS_OK)
        rc = dss_search_get(search, DSS_SEARCH_RADIUS, radius);
    dss_search_destroy(search);
    return rc;
}

static int run_all(const options *o, results *r)
{
    dss_line *line = NULL;
    dss_synthetic *problem = NULL;
    int status = -1;

    CHECK(dss_line_create(&line));
    CHECK(dss_line_set(line, DSS_LINE_SAMPLES, o->samples));
    CHECK(dss_line_set(line, DSS_LINE_REFINE, o->refine));
    for (int d = 0; d < o->ndims; d++) {
        const size_t n = o->dims[d];
        double radius = 0.0, t_dim = bench_now();
        for (int c = 0; c < o->cases; c++) {
            if (!in_shard(o, d, c))
                continue;
            CHECK(dss_synthetic_create(&problem, n, OUTPUT_DIM, GAMMA, (unsigned long long)c + 1));
            CHECK(box_radius(dss_synthetic_model(problem), &radius));
            for (int me = 0; me < METHODS; me++) {
                double t0 = bench_now(), pts = 0.0, jacs = 0.0, sec;
                size_t k = run_index(o, d, me, c);
                int rc;
                if (!in_shard(o, d, c))
                    continue;
                rc = me == M_RANDOM_POSITIVE
                         ? run_positive(problem, (unsigned)c + 1, radius, o, line,
                                        cell(o, r, d, me, c), &pts)
                         : run_session(problem, me, (unsigned)c + 1, o, line,
                                       cell(o, r, d, me, c), &pts, &jacs);
                if (rc != 0)
                    goto done;
                sec = bench_now() - t0;
                r->seconds[d][me] += sec;
                r->points[d][me] += pts;
                r->jacobians[d][me] += jacs;
                r->run[3 * k] = sec;
                r->run[3 * k + 1] = pts;
                r->run[3 * k + 2] = jacs;
                r->have[k] = 1;
            }
            dss_synthetic_destroy(problem);
            problem = NULL;
        }
        printf("n = %zu done in %.1f s (slider radius %.4g; line search: %d points, "
               "DSS_LINE_REFINE = %d)\n", n, bench_now() - t_dim, radius, o->samples, o->refine);
        fflush(stdout);
    }
    status = 0;
done:
    dss_synthetic_destroy(problem);
    dss_line_destroy(line);
    return status;
}

static void make_parent(const char *path);

/* ---- shards: one process's runs in a file, and the merge of such files -------------------- */

/* The shard file: a header with the protocol, then one line per run with every best score in
   %.17g (which reads back as the same double), so that a merge reports exactly what a single
   process would have:
     paper-shard 2 <i> <N> <cases> <iters> <samples> <refine> <ndims> <n...>
     run <n> <method> <case> <seconds> <points> <jacobians> <best_0> ... <best_iters>  */
static int write_shard(const options *o, const results *r)
{
    FILE *f;
    int bad;
    make_parent(o->shard_out);
    if ((f = fopen(o->shard_out, "w")) == NULL) {
        fprintf(stderr, "paper: cannot open %s: %s\n", o->shard_out, strerror(errno));
        return -1;
    }
    bad = fprintf(f, "paper-shard 2 %d %d %d %d %d %d %d", o->shard, o->shards, o->cases,
                  o->iters, o->samples, o->refine, o->ndims) < 0;
    for (int d = 0; d < o->ndims; d++)
        bad |= fprintf(f, " %zu", o->dims[d]) < 0;
    bad |= fprintf(f, "\n") < 0;
    for (int d = 0; d < o->ndims && !bad; d++)
        for (int c = 0; c < o->cases && !bad; c++)
            for (int me = 0; me < METHODS && !bad; me++) {
                size_t k = run_index(o, d, me, c);
                if (!r->have[k])
                    continue;
                bad |= fprintf(f, "run %zu %s %d %.17g %.17g %.17g", o->dims[d], method_name[me],
                               c + 1, r->run[3 * k], r->run[3 * k + 1], r->run[3 * k + 2]) < 0;
                for (int i = 0; i <= o->iters; i++)
                    bad |= fprintf(f, " %.17g", cell(o, r, d, me, c)[i]) < 0;
                bad |= fprintf(f, "\n") < 0;
            }
    bad |= ferror(f);
    bad |= fclose(f) != 0;
    if (bad)
        fprintf(stderr, "paper: writing %s failed\n", o->shard_out);
    return bad ? -1 : 0;
}

/* The protocol of a shard file's header into o (the first file) or checked against it. */
static int read_shard_header(FILE *f, const char *path, options *o, int first)
{
    int version, shard, shards, cases, iters, samples, refine, ndims;
    size_t dims[MAX_DIMS];
    if (fscanf(f, "paper-shard %d %d %d %d %d %d %d %d", &version, &shard, &shards, &cases,
               &iters, &samples, &refine, &ndims) != 8 || version != 2 || ndims < 1
        || ndims > MAX_DIMS || cases < 1 || cases > 1000 || iters < 1 || iters > 100000) {
        fprintf(stderr, "paper: %s is not a bench/paper shard file\n", path);
        return -1;
    }
    for (int d = 0; d < ndims; d++)
        if (fscanf(f, "%zu", &dims[d]) != 1) {
            fprintf(stderr, "paper: %s: bad header\n", path);
            return -1;
        }
    if (first) {
        o->cases = cases;
        o->iters = iters;
        o->samples = samples;
        o->refine = refine;
        o->ndims = ndims;
        memcpy(o->dims, dims, sizeof dims);
        return 0;
    }
    if (cases != o->cases || iters != o->iters || samples != o->samples || refine != o->refine
        || ndims != o->ndims || memcmp(dims, o->dims, (size_t)ndims * sizeof dims[0]) != 0) {
        fprintf(stderr, "paper: %s was run with another protocol than %s\n", path, o->merge[0]);
        return -1;
    }
    return 0;
}

static int find_dim(const options *o, size_t n)
{
    for (int d = 0; d < o->ndims; d++)
        if (o->dims[d] == n)
            return d;
    return -1;
}

static int find_method(const char *name)
{
    for (int me = 0; me < METHODS; me++)
        if (strcmp(method_name[me], name) == 0)
            return me;
    return -1;
}

/* The runs of one shard file (header already read) into r; every run at most once. */
static int read_shard_runs(FILE *f, const char *path, const options *o, results *r)
{
    char tag[8], name[64];
    size_t n;
    int c, d, me;
    double sec, pts, jacs;
    while (fscanf(f, "%7s", tag) == 1) {
        size_t k;
        if (strcmp(tag, "run") != 0
            || fscanf(f, "%zu %63s %d %lf %lf %lf", &n, name, &c, &sec, &pts, &jacs) != 6
            || (d = find_dim(o, n)) < 0 || (me = find_method(name)) < 0 || c < 1 || c > o->cases) {
            fprintf(stderr, "paper: %s: bad run line\n", path);
            return -1;
        }
        k = run_index(o, d, me, c - 1);
        if (r->have[k]) {
            fprintf(stderr, "paper: %s: run n = %zu %s case %d appears twice\n", path, n, name, c);
            return -1;
        }
        for (int i = 0; i <= o->iters; i++)
            if (fscanf(f, "%lf", &cell(o, r, d, me, c - 1)[i]) != 1) {
                fprintf(stderr, "paper: %s: short run line\n", path);
                return -1;
            }
        r->have[k] = 1;
        r->run[3 * k] = sec;
        r->run[3 * k + 1] = pts;
        r->run[3 * k + 2] = jacs;
        r->seconds[d][me] += sec;
        r->points[d][me] += pts;
        r->jacobians[d][me] += jacs;
    }
    return 0;
}

static int results_alloc(const options *o, results *r)
{
    const size_t runs = (size_t)o->ndims * METHODS * (size_t)o->cases;
    memset(r, 0, sizeof *r);
    r->best = malloc(runs * ((size_t)o->iters + 1) * sizeof *r->best);
    r->run = calloc(3 * runs, sizeof *r->run);
    r->have = calloc(runs, 1);
    return r->best != NULL && r->run != NULL && r->have != NULL ? 0 : -1;
}

static void results_free(results *r)
{
    free(r->best);
    free(r->run);
    free(r->have);
}

/* --merge: the protocol from the first file's header, then every file's runs; all runs of
   every (n, method, case) must be there. */
static int merge_shards(options *o, results *r)
{
    for (int k = 0; k < o->nmerge; k++) {
        FILE *f = fopen(o->merge[k], "r");
        int rc;
        if (f == NULL) {
            fprintf(stderr, "paper: cannot open %s: %s\n", o->merge[k], strerror(errno));
            return -1;
        }
        rc = read_shard_header(f, o->merge[k], o, k == 0);
        if (rc == 0 && k == 0 && results_alloc(o, r) != 0) {
            fprintf(stderr, "paper: out of memory\n");
            rc = -1;
        }
        if (rc == 0)
            rc = read_shard_runs(f, o->merge[k], o, r);
        fclose(f);
        if (rc != 0)
            return -1;
    }
    o->full = 1; /* the paper's protocol if the shards ran it (main checks the numbers) */
    for (int d = 0; d < o->ndims; d++)
        for (int me = 0; me < METHODS; me++)
            for (int c = 0; c < o->cases; c++)
                if (!r->have[run_index(o, d, me, c)]) {
                    fprintf(stderr, "paper: no shard file has n = %zu %s case %d\n", o->dims[d],
                            method_name[me], c + 1);
                    return -1;
                }
    return 0;
}

/* ---- generator speed --------------------------------------------------------------------- */

typedef struct speed {
    double gen_pps, score_pps, gen_gflops;
    int reps;
} speed;

static int measure_speed(speed *sp)
{
    const size_t n = 512, m = OUTPUT_DIM, k = 500;
    const int reps = 9;
    dss_synthetic *problem = NULL;
    double *z = malloc(k * n * sizeof *z), *x = malloc(k * m * sizeof *x);
    double *s = malloc(k * sizeof *s);
    double tg[9], ts[9];
    int status = -1;
    uint64_t state = 12345;

    if (z == NULL || x == NULL || s == NULL) {
        fprintf(stderr, "paper: out of memory\n");
        goto done;
    }
    CHECK(dss_synthetic_create(&problem, n, m, GAMMA, 1));
    for (size_t i = 0; i < k * n; i++)
        z[i] = DSS_SYNTHETIC_BOX * (2.0 * uniform01(&state) - 1.0);
    CHECK(dss_model_generate(dss_synthetic_model(problem), k, z, x)); /* warm up */
    for (int rep = 0; rep < reps; rep++) {
        double t0 = bench_now();
        CHECK(dss_model_generate(dss_synthetic_model(problem), k, z, x));
        tg[rep] = bench_now() - t0;
        t0 = bench_now();
        CHECK(dss_synthetic_score(problem, k, x, s));
        ts[rep] = bench_now() - t0;
    }
    sp->reps = reps;
    sp->gen_pps = (double)k / bench_median(tg, (size_t)reps);
    sp->score_pps = (double)k / bench_median(ts, (size_t)reps);
    /* per point: y = Q (z - s) (2 n^2 flops) and x = D (y o y) (2 m n flops) */
    sp->gen_gflops = sp->gen_pps * 2.0 * ((double)n * (double)n + (double)m * (double)n) / 1e9;
    status = 0;
done:
    dss_synthetic_destroy(problem);
    free(z);
    free(x);
    free(s);
    return status;
}

/* ---- the machine ------------------------------------------------------------------------- */

typedef struct machine {
    long cores;
    char cpu[160];
    char blas[400];
    char date[40];
    char load[64];
} machine;

static void trim_newline(char *s)
{
    size_t len = strlen(s);
    while (len > 0 && (s[len - 1] == '\n' || s[len - 1] == ' '))
        s[--len] = '\0';
}

static void describe_machine(machine *mc)
{
    FILE *f;
    char line[512];
    time_t now = time(NULL);
    struct tm *utc = gmtime(&now);

    mc->cores = sysconf(_SC_NPROCESSORS_ONLN);
    strcpy(mc->load, "unknown");
    if ((f = fopen("/proc/loadavg", "r")) != NULL) {
        if (fgets(line, sizeof line, f) != NULL) {
            char *space = strchr(line, ' '); /* the 1-, 5- and 15-minute averages */
            for (int k = 0; k < 2 && space != NULL; k++)
                space = strchr(space + 1, ' ');
            size_t len;
            if (space != NULL)
                *space = '\0';
            len = strlen(line) < sizeof mc->load - 1 ? strlen(line) : sizeof mc->load - 1;
            memcpy(mc->load, line, len);
            mc->load[len] = '\0';
        }
        fclose(f);
    }
    strcpy(mc->cpu, "unknown");
    strcpy(mc->blas, "unknown");
    if (utc == NULL || strftime(mc->date, sizeof mc->date, "%Y-%m-%d %H:%M UTC", utc) == 0)
        strcpy(mc->date, "unknown");
    if ((f = fopen("/proc/cpuinfo", "r")) != NULL) {
        while (fgets(line, sizeof line, f) != NULL) {
            char *colon = strchr(line, ':');
            if (strncmp(line, "model name", 10) == 0 && colon != NULL) {
                snprintf(mc->cpu, sizeof mc->cpu, "%s", colon + 2);
                trim_newline(mc->cpu);
                break;
            }
        }
        fclose(f);
    }
    /* the shared objects mapped into this process whose names say BLAS or LAPACK */
    if ((f = fopen("/proc/self/maps", "r")) != NULL) {
        size_t used = 0;
        mc->blas[0] = '\0';
        while (fgets(line, sizeof line, f) != NULL) {
            char *path = strchr(line, '/');
            if (path == NULL || (strstr(path, "blas") == NULL && strstr(path, "lapack") == NULL))
                continue;
            trim_newline(path);
            if (strstr(mc->blas, path) != NULL)
                continue;
            if (used + strlen(path) + 3 < sizeof mc->blas) {
                used += (size_t)snprintf(mc->blas + used, sizeof mc->blas - used, "%s%s",
                                         used > 0 ? ", " : "", path);
            }
        }
        fclose(f);
        if (mc->blas[0] == '\0')
            strcpy(mc->blas, "statically linked or unknown");
    }
}

/* Create the directory part of path (one level), ignoring failure: fopen reports it. */
static void make_parent(const char *path)
{
    char dir[512];
    const char *slash = strrchr(path, '/');
    if (slash == NULL || (size_t)(slash - path) >= sizeof dir || slash == path)
        return;
    memcpy(dir, path, (size_t)(slash - path));
    dir[slash - path] = '\0';
    (void)mkdir(dir, 0777);
}

/* ---- reports ------------------------------------------------------------------------------ */

static void stats(const options *o, const results *r, int d, int me, int i, double *mean,
                  double *sd, double *lo, double *hi)
{
    double s = 0.0, s2 = 0.0;
    *lo = INFINITY;
    *hi = -INFINITY;
    for (int c = 0; c < o->cases; c++) {
        double v = cell(o, r, d, me, c)[i];
        s += v;
        *lo = v < *lo ? v : *lo;
        *hi = v > *hi ? v : *hi;
    }
    *mean = s / o->cases;
    for (int c = 0; c < o->cases; c++) {
        double v = cell(o, r, d, me, c)[i] - *mean;
        s2 += v * v;
    }
    *sd = o->cases > 1 ? sqrt(s2 / (o->cases - 1)) : 0.0;
}

/* The iterations shown in the tables: 0, 10, 25, 50, 100, 200, ... and the last. */
static int table_iterations(const options *o, int *out)
{
    static const int marks[] = { 0, 10, 25, 50, 100, 200, 500, 1000 };
    int count = 0;
    for (size_t k = 0; k < sizeof marks / sizeof marks[0]; k++)
        if (marks[k] < o->iters)
            out[count++] = marks[k];
    out[count++] = o->iters;
    return count;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median of the best scores of (d, me) at iteration i over the cases. */
static double median_at(const options *o, const results *r, int d, int me, int i)
{
    double v[1000];
    for (int c = 0; c < o->cases; c++)
        v[c] = cell(o, r, d, me, c)[i];
    qsort(v, (size_t)o->cases, sizeof v[0], cmp_double);
    return o->cases % 2 ? v[o->cases / 2] : 0.5 * (v[o->cases / 2 - 1] + v[o->cases / 2]);
}

/* "33-point grid + DSS_LINE_REFINE = 2" */
static const char *user_desc(char *buf, size_t size, int samples, int refine)
{
    if (refine)
        snprintf(buf, size, "%d-point grid + DSS_LINE_REFINE = %d", samples, refine);
    else
        snprintf(buf, size, "%d-point grid, no refinement", samples);
    return buf;
}

static void print_tables(FILE *f, const options *o, const results *r)
{
    int its[16], nits = table_iterations(o, its);
    for (int d = 0; d < o->ndims; d++) {
        fprintf(f, "\n#### n = %zu\n\nBest score so far, mean +- std over %d case%s "
                   "(maximise; optimum 0):\n\n| method |",
                o->dims[d], o->cases, o->cases == 1 ? "" : "s");
        for (int k = 0; k < nits; k++)
            fprintf(f, " iter %d |", its[k]);
        fprintf(f, "\n|---|");
        for (int k = 0; k < nits; k++)
            fprintf(f, "---:|");
        fprintf(f, "\n");
        for (int me = 0; me < METHODS; me++) {
            fprintf(f, "| %s |", method_name[me]);
            for (int k = 0; k < nits; k++) {
                double mean, sd, lo, hi;
                stats(o, r, d, me, its[k], &mean, &sd, &lo, &hi);
                fprintf(f, " %.4g +- %.2g |", mean, sd);
            }
            fprintf(f, "\n");
        }
        fprintf(f, "\nAfter %d iterations, gap to the optimum (0 - best score) over the cases; "
                   "\"solved\": gap < %g; \"ahead\": cases where this method's best score beats "
                   "random-gauss's:\n\n"
                   "| method | mean gap | median gap | min gap | max gap | solved | ahead of "
                   "random-gauss |\n|---|---:|---:|---:|---:|---:|---:|\n",
                o->iters, SOLVED);
        for (int me = 0; me < METHODS; me++) {
            double mean, sd, lo, hi;
            int solved = 0, ahead = 0;
            stats(o, r, d, me, o->iters, &mean, &sd, &lo, &hi);
            for (int c = 0; c < o->cases; c++) {
                double v = cell(o, r, d, me, c)[o->iters];
                solved += -v < SOLVED;
                ahead += v > cell(o, r, d, M_RANDOM_GAUSS, c)[o->iters];
            }
            fprintf(f, "| %s | %.4g | %.4g | %.4g | %.4g | %d/%d | ", method_name[me], -mean,
                    -median_at(o, r, d, me, o->iters), -hi, -lo, solved, o->cases);
            if (me == M_RANDOM_GAUSS)
                fprintf(f, "- |\n");
            else
                fprintf(f, "%d/%d |\n", ahead, o->cases);
        }
    }
}

/* The radius policies against the paper's fixed slider, per Jacobian and n, and the issue's
   targets: at n <= 128 at least 9 of 10 cases solved where the paper's method solves fewer, at
   n = 512 a mean gap at least 10x smaller; no more generator points per line search. */
static void print_policies(FILE *f, const options *o, const results *r)
{
    static const int fixed[2] = { M_DSS_AUTHORS, M_DSS_TRUE };
    static const int policy[2][2] = { { M_AUTHORS_ESCAPE, M_AUTHORS_ADAPTIVE },
                                      { M_TRUE_ESCAPE, M_TRUE_ADAPTIVE } };
    static const char *const jac[2] = { "authors'", "true" };
    const double lines = (double)o->cases * o->iters;
    fprintf(f, "\n## libdss 1.1's options against the paper's method\n\n"
               "After %d iterations, %d cases; \"solved\": gap < %g; points: generator points "
               "per line search (the simulated user's cost per iteration); Jacobians: Jacobians "
               "evaluated and decomposed per iteration (DSS_STAT_DECOMPOSITIONS / iterations). "
               "Target (issue 12): at n <= 128 at least %d of %d cases solved where the paper's "
               "method solves fewer; at n >= 512 a mean gap at least 10x smaller.\n\n"
               "| n | Jacobian | paper: solved | mean gap | points | Jacobians | escape: solved "
               "| mean gap | points | Jacobians | target | adaptive: solved | mean gap | points "
               "| Jacobians | target |\n"
               "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|:---:|---:|---:|---:|---:|:---:|\n",
            o->iters, o->cases, SOLVED, (9 * o->cases + 9) / 10, o->cases);
    for (int d = 0; d < o->ndims; d++)
        for (int j = 0; j < 2; j++) {
            int me0 = fixed[j], solved0 = 0;
            double mean0, sd, lo, hi;
            stats(o, r, d, me0, o->iters, &mean0, &sd, &lo, &hi);
            for (int c = 0; c < o->cases; c++)
                solved0 += -cell(o, r, d, me0, c)[o->iters] < SOLVED;
            fprintf(f, "| %zu | %s | %d/%d | %.3g | %.1f | %.3f |", o->dims[d], jac[j], solved0,
                    o->cases, -mean0, r->points[d][me0] / lines, r->jacobians[d][me0] / lines);
            for (int k = 0; k < 2; k++) {
                int me = policy[j][k], solved = 0;
                const char *verdict;
                double mean;
                stats(o, r, d, me, o->iters, &mean, &sd, &lo, &hi);
                for (int c = 0; c < o->cases; c++)
                    solved += -cell(o, r, d, me, c)[o->iters] < SOLVED;
                if (o->dims[d] <= 128)
                    verdict = solved0 == o->cases ? (solved == o->cases ? "met (both all)" : "lost")
                              : 10 * solved >= 9 * o->cases ? "**met**" : "missed";
                else
                    verdict = -mean * 10.0 <= -mean0 ? "**met**" : "missed";
                fprintf(f, " %d/%d | %.3g | %.1f | %.3f | %s |", solved, o->cases, -mean,
                        r->points[d][me] / lines, r->jacobians[d][me] / lines, verdict);
            }
            fprintf(f, "\n");
        }
}

/* Does DSS (each variant) end with a better mean best score than both random baselines? */
static void print_verdict(FILE *f, const options *o, const results *r)
{
    fprintf(f, "\nVerdict after %d iterations (mean best score over the cases):\n\n", o->iters);
    for (int d = 0; d < o->ndims; d++) {
        double m[METHODS], sd, lo, hi;
        int ok;
        for (int me = 0; me < METHODS; me++)
            stats(o, r, d, me, o->iters, &m[me], &sd, &lo, &hi);
        ok = m[M_DSS_AUTHORS] > m[M_RANDOM_GAUSS] && m[M_DSS_AUTHORS] > m[M_RANDOM_POSITIVE]
             && m[M_DSS_TRUE] > m[M_RANDOM_GAUSS] && m[M_DSS_TRUE] > m[M_RANDOM_POSITIVE];
        fprintf(f, "- n = %zu: %s (gap: DSS %.3g / %.3g for the authors' / true Jacobian, random "
                   "%.3g / %.3g for Gaussian / positive directions)\n",
                o->dims[d], ok ? "DSS beats both random baselines" : "DSS does NOT beat both "
                "random baselines", -m[M_DSS_AUTHORS], -m[M_DSS_TRUE], -m[M_RANDOM_GAUSS],
                -m[M_RANDOM_POSITIVE]);
    }
}

static void print_costs(FILE *f, const options *o, const results *r)
{
    fprintf(f, "\n| n | method | seconds (all cases) | generator points per line search |\n"
               "|---:|---|---:|---:|\n");
    for (int d = 0; d < o->ndims; d++)
        for (int me = 0; me < METHODS; me++)
            fprintf(f, "| %zu | %s | %.1f | %.0f |\n", o->dims[d], method_name[me],
                    r->seconds[d][me], r->points[d][me] / ((double)o->cases * o->iters));
}

/* One row per simulated user: points per line search, time, and the DSS methods' mean gaps. */
static void print_users(FILE *f, const options *o, const results *r, int nalt,
                        const options *oa, const results *ra)
{
    fprintf(f, "\nMean gap to the optimum after %d iterations over %d cases, dss-authors / "
               "dss-true (lower is better), generator points per line search and the seconds "
               "of all line searches and commits (all n and methods):\n\n| simulated user |",
            o->iters, o->cases);
    for (int d = 0; d < o->ndims; d++)
        fprintf(f, " n = %zu |", o->dims[d]);
    fprintf(f, " points per line search | seconds |\n|---|");
    for (int d = 0; d < o->ndims; d++)
        fprintf(f, "---:|");
    fprintf(f, "---:|---:|\n");
    for (int k = -1; k < nalt; k++) {
        const options *ou = k < 0 ? o : &oa[k];
        const results *ru = k < 0 ? r : &ra[k];
        char user[96];
        double pts = 0.0, sec = 0.0;
        fprintf(f, "| %s%s |", user_desc(user, sizeof user, ou->samples, ou->refine),
                k < 0 ? " (this run's tables)" : "");
        for (int d = 0; d < o->ndims; d++) {
            double ma, mt, sd, lo, hi;
            stats(ou, ru, d, M_DSS_AUTHORS, ou->iters, &ma, &sd, &lo, &hi);
            stats(ou, ru, d, M_DSS_TRUE, ou->iters, &mt, &sd, &lo, &hi);
            fprintf(f, " %.3g / %.3g |", -ma, -mt);
            for (int me = 0; me < METHODS; me++) {
                pts += ru->points[d][me];
                sec += ru->seconds[d][me];
            }
        }
        fprintf(f, " %.1f | %.0f |\n", pts / ((double)o->ndims * METHODS * o->cases * o->iters),
                sec);
    }
}

/*
 * The two simulated users side by side: o/r this run's (A), oa/ra the --compare one (B), same
 * problems and seeds. Per n and method: the mean gap after the last iteration, the cases solved,
 * the cases where A ends higher than B, level with it (relative difference <= TIE) or lower,
 * the generator points per line search and the time.
 */
#define TIE 1e-6
static void print_compare(FILE *f, const options *o, const results *r, const options *oa,
                          const results *ra)
{
    char ua[96], ub[96];
    double pts_a = 0.0, pts_b = 0.0, sec_a = 0.0, sec_b = 0.0;
    int wins = 0, ties = 0, losses = 0, ok_a = 1, ok_b = 1;
    user_desc(ua, sizeof ua, o->samples, o->refine);
    user_desc(ub, sizeof ub, oa->samples, oa->refine);
    fprintf(f, "\nA = %s (this run's tables), B = %s; after %d iterations, mean over %d cases:\n"
               "\n| n | method | mean gap A | mean gap B | solved A | solved B "
               "| cases A higher / level / lower | points per line search A | B | seconds A "
               "| B |\n|---:|---|---:|---:|---:|---:|:---:|---:|---:|---:|---:|\n",
            ua, ub, o->iters, o->cases);
    for (int d = 0; d < o->ndims; d++) {
        double ma[METHODS], mb[METHODS], sd, lo, hi;
        for (int me = 0; me < METHODS; me++) {
            const double lines = (double)o->cases * o->iters;
            int sa = 0, sb = 0, hi_a = 0, level = 0;
            stats(o, r, d, me, o->iters, &ma[me], &sd, &lo, &hi);
            stats(oa, ra, d, me, oa->iters, &mb[me], &sd, &lo, &hi);
            for (int c = 0; c < o->cases; c++) {
                const double va = cell(o, r, d, me, c)[o->iters];
                const double vb = cell(oa, ra, d, me, c)[oa->iters];
                sa += -va < SOLVED;
                sb += -vb < SOLVED;
                if (fabs(va - vb) <= TIE * fmax(fabs(va), fabs(vb)))
                    level++;
                else
                    hi_a += va > vb;
            }
            wins += hi_a;
            ties += level;
            losses += o->cases - hi_a - level;
            pts_a += r->points[d][me];
            pts_b += ra->points[d][me];
            sec_a += r->seconds[d][me];
            sec_b += ra->seconds[d][me];
            fprintf(f, "| %zu | %s | %.4g | %.4g | %d/%d | %d/%d | %d / %d / %d | %.1f | %.1f "
                       "| %.1f | %.1f |\n",
                    o->dims[d], method_name[me], -ma[me], -mb[me], sa, o->cases, sb, o->cases,
                    hi_a, level, o->cases - hi_a - level, r->points[d][me] / lines,
                    ra->points[d][me] / lines,
                    r->seconds[d][me], ra->seconds[d][me]);
        }
        for (int dss = M_DSS_AUTHORS; dss <= M_DSS_TRUE; dss++) {
            ok_a &= ma[dss] > ma[M_RANDOM_GAUSS] && ma[dss] > ma[M_RANDOM_POSITIVE];
            ok_b &= mb[dss] > mb[M_RANDOM_GAUSS] && mb[dss] > mb[M_RANDOM_POSITIVE];
        }
    }
    fprintf(f, "\nOver all n, methods and cases: A ends higher than B in %d runs, level (relative "
               "difference <= %g) in %d, lower in %d; A evaluates %.1f generator points per "
               "line search, B %.1f (A/B = %.2f); line searches and commits took %.0f s with A "
               "and %.0f s with B. DSS beats both random baselines at every n with A: %s; with "
               "B: %s.\n",
            wins, TIE, ties, losses, pts_a / ((double)o->ndims * METHODS * o->cases * o->iters),
            pts_b / ((double)o->ndims * METHODS * o->cases * o->iters), pts_a / pts_b, sec_a,
            sec_b, ok_a ? "yes" : "no", ok_b ? "yes" : "no");
}

static int write_csv(const options *o, const results *r)
{
    FILE *f;
    int bad;
    make_parent(o->csv);
    f = fopen(o->csv, "w");
    if (f == NULL) {
        fprintf(stderr, "paper: cannot open %s: %s\n", o->csv, strerror(errno));
        return -1;
    }
    bad = fprintf(f, "iteration,n,method,case,best_score\n") < 0;
    for (int d = 0; d < o->ndims && !bad; d++)
        for (int me = 0; me < METHODS && !bad; me++)
            for (int c = 0; c < o->cases && !bad; c++)
                for (int i = 0; i <= o->iters && !bad; i++)
                    bad = fprintf(f, "%d,%zu,%s,%d,%.17g\n", i, o->dims[d], method_name[me], c + 1,
                                  cell(o, r, d, me, c)[i]) < 0;
    bad |= fclose(f) != 0;
    if (bad)
        fprintf(stderr, "paper: writing %s failed\n", o->csv);
    return bad ? -1 : 0;
}

/* --tables: the verdict and the score tables alone, which depend on nothing but the runs'
   scores (no times, no date): a merge of shards gives the same bytes as one process. */
static int write_tables(const options *o, const results *r)
{
    FILE *f;
    int bad;
    if (o->tables == NULL)
        return 0;
    make_parent(o->tables);
    if ((f = fopen(o->tables, "w")) == NULL) {
        fprintf(stderr, "paper: cannot open %s: %s\n", o->tables, strerror(errno));
        return -1;
    }
    print_verdict(f, o, r);
    print_policies(f, o, r);
    print_tables(f, o, r);
    bad = ferror(f);
    bad |= fclose(f) != 0;
    if (bad)
        fprintf(stderr, "paper: writing %s failed\n", o->tables);
    return bad ? -1 : 0;
}

/* Mean gap to the optimum (-best score) per iteration: one gnuplot data block per n. */
static int write_mean(const options *o, const results *r)
{
    FILE *f;
    int bad;
    make_parent(o->mean);
    f = fopen(o->mean, "w");
    if (f == NULL) {
        fprintf(stderr, "paper: cannot open %s: %s\n", o->mean, strerror(errno));
        return -1;
    }
    bad = fprintf(f, "# mean over %d cases of the gap to the optimum (0 - best score so far)\n"
                     "# one block per n; columns: iteration", o->cases) < 0;
    for (int me = 0; me < METHODS; me++)
        bad |= fprintf(f, " %s", method_name[me]) < 0;
    for (int d = 0; d < o->ndims && !bad; d++) {
        bad |= fprintf(f, "%s# n = %zu\n", d == 0 ? "\n" : "\n\n", o->dims[d]) < 0;
        for (int i = 0; i <= o->iters && !bad; i++) {
            bad |= fprintf(f, "%d", i) < 0;
            for (int me = 0; me < METHODS; me++) {
                double mean, sd, lo, hi;
                stats(o, r, d, me, i, &mean, &sd, &lo, &hi);
                bad |= fprintf(f, " %.10g", -mean) < 0;
            }
            bad |= fprintf(f, "\n") < 0;
        }
    }
    bad |= fclose(f) != 0;
    if (bad)
        fprintf(stderr, "paper: writing %s failed\n", o->mean);
    return bad ? -1 : 0;
}

/* gnuplot, when installed. Returns 1 when the PNG was written, 0 when skipped. */
static int plot(const options *o)
{
    char cmd[2048], dims[256] = "";
    size_t used = 0;
    FILE *probe;

    if (!o->plot) {
        printf("plot: skipped (--no-plot)\n");
        return 0;
    }
    if ((probe = fopen(o->script, "r")) == NULL) {
        printf("plot: skipped: %s not found (run from the repository root)\n", o->script);
        return 0;
    }
    fclose(probe);
    if (system(NULL) == 0 || system("command -v gnuplot >/dev/null 2>&1") != 0) {
        printf("plot: skipped: gnuplot is not installed (Debian: apt-get install gnuplot-nox); "
               "the data are in %s\n", o->mean);
        return 0;
    }
    for (int d = 0; d < o->ndims; d++)
        used += (size_t)snprintf(dims + used, sizeof dims - used, "%s%zu", d ? " " : "",
                                 o->dims[d]);
    snprintf(cmd, sizeof cmd,
             "gnuplot -e \"datafile='%s'; outfile='%s'; dims='%s'; "
             "subtitle='%d cases, %d iterations, %d samples, refine %d'\" %s",
             o->mean, o->png, dims, o->cases, o->iters, o->samples, o->refine, o->script);
    if (system(cmd) != 0) {
        printf("plot: gnuplot failed (command: %s); continuing without the plot\n", cmd);
        return 0;
    }
    printf("plot: %s\n", o->png);
    return 1;
}

/* The PNG as the markdown file links it: its base name when both are in the same directory. */
static const char *image_link(const options *o)
{
    const char *ps = strrchr(o->png, '/'), *ms = strrchr(o->md, '/');
    size_t pd = ps != NULL ? (size_t)(ps - o->png) : 0, md = ms != NULL ? (size_t)(ms - o->md) : 0;
    if (pd == md && strncmp(o->png, o->md, pd) == 0)
        return ps != NULL ? ps + 1 : o->png;
    return o->png;
}

static int write_md(const options *o, const results *r, int nalt, const options *oa,
                    const results *ra, const speed *sp, const machine *mc, const char *command,
                    double total, int plotted)
{
    char user[96];
    FILE *f;
    int bad;
    make_parent(o->md);
    f = fopen(o->md, "w");
    if (f == NULL) {
        fprintf(stderr, "paper: cannot open %s: %s\n", o->md, strerror(errno));
        return -1;
    }
    fprintf(f, "# The paper's synthetic benchmark, reproduced\n\n"
               "Generated by `bench/paper.c` (do not edit by hand: rerun it).\n\n"
               "- Command: `%s` (from the repository root; `make bench` runs it without "
               "arguments)\n"
               "- Machine: %ld cores, %s; BLAS/LAPACK: %s\n"
               "- Date: %s; libdss %s; total time %.0f s\n\n",
            command, mc->cores, mc->cpu, mc->blas, mc->date, dss_version_string(), total);
    if (o->nmerge > 0)
        fprintf(f, "Merged from %d shard file%s, each written by `build/bench/paper --shard i/N "
                   "--out FILE` with the protocol below (the scores are exactly a single "
                   "process's; seconds are the shards' own, and the total time above is the "
                   "merge's).\n\n", o->nmerge, o->nmerge == 1 ? "" : "s");
    fprintf(f, "## Protocol\n\n"
               "Chiu et al. (SIGGRAPH 2020), sections 4.2-4.5, with `dss_synthetic`: m = %d, "
               "gamma = %g (Rastrigin-like, maximise, optimum 0), latent box [-%g, %g]^n, the "
               "authors' initial point, slider radius 0.2 x the mean distance between two points "
               "of the box. Every method runs the authors' loop: line search on the slider "
               "(find_optimal, %s), then commit there; the table gives the best "
               "score so far. Problem seeds 1..%d (the same problems for every method).\n\n",
            OUTPUT_DIM, GAMMA, DSS_SYNTHETIC_BOX, DSS_SYNTHETIC_BOX,
            user_desc(user, sizeof user, o->samples, o->refine), o->cases);
    if (!o->full)
        fprintf(f, "**Reduced protocol** so that `make bench` finishes in minutes: %d cases, %d "
                   "iterations, line search on a %s (the paper: 10 cases, 200 "
                   "iterations, a 10001-point grid; `build/bench/paper --full`, which takes "
                   "hours). "
                   "`docs/bench/line.md` measures how often a refined coarse grid reaches the "
                   "10001-point grid's score.\n\n",
                o->cases, o->iters, user_desc(user, sizeof user, o->samples, o->refine));
    fprintf(f, "Methods:\n\n"
               "- `dss-authors`: DSS (importance-sampled right-singular vectors), the authors' "
               "Jacobian (A_d + A_d^T)(z - s), as in the paper's figures;\n"
               "- `dss-true`: DSS with the true Jacobian A_d (z - s) / f_d(z) (libdss's default);\n"
               "- `random-gauss`: uniformly distributed unit directions (DSS_SAMPLER_RANDOM; the "
               "session computes a 1-row Jacobian, which the sampler ignores, to save time);\n"
               "- `random-positive`: the authors' random baseline, d = rand(n) / |rand(n)| (all "
               "components positive), driven by the benchmark with dss_find_optimal;\n"
               "- `dss-authors-escape`, `dss-true-escape`: as dss-authors and dss-true with "
               "libdss 1.1's stall escape, DSS_SEARCH_STALL_COMMITS = %d: the %dth commit in a "
               "row that leaves the centre in place recomputes the Jacobian there and shows its "
               "top singular direction (docs/algorithm.md section 10);\n"
               "- `dss-authors-adaptive`, `dss-true-adaptive`: the same with "
               "DSS_SEARCH_RADIUS_POLICY = DSS_RADIUS_ADAPTIVE (default factor 2 and bounds "
               "[1/16, 2]): the slider grows after a commit at its end or at its centre and "
               "returns to the paper's length after any other.\n", STALL_COMMITS, STALL_COMMITS);
    fprintf(f, "\n## Best score per iteration\n");
    print_verdict(f, o, r);
    print_policies(f, o, r);
    print_tables(f, o, r);
    if (plotted)
        fprintf(f, "\n![mean gap to the optimum against iteration](%s)\n\n"
                   "The plot shows the mean over cases of the gap to the optimum, 0 - best score "
                   "(log scale, lower is better); the data are in `%s`, every run in `%s`.\n",
                image_link(o), o->mean, o->csv);
    if (nalt > 0) {
        fprintf(f, "\n## The simulated user\n\n");
        if (o->samples == 65 && o->refine == 2)
            fprintf(f, "The default simulated user is a 65-point grid + DSS_LINE_REFINE = 2 "
                       "(Brent's method in the brackets of the grid's 3 best local maxima), "
                       "chosen as the closest stand-in for the authors' 10001-point grid within "
                       "100 generator points per line at every n of this benchmark: `bench/line` "
                       "(docs/bench/line.md) finds it as good as the 10001-point grid on every "
                       "one of its test lines at n = 8, 32, 128 and 512 (`build/bench/line` and "
                       "`build/bench/line --dims 8,512`), with about 88 points per line. "
                       "33 points + DSS_LINE_REFINE = 2 (about 57 points) does as well at n <= "
                       "128 but misses some lines at n = 512, and a single bracket "
                       "(DSS_LINE_REFINE = 1, the previous default with 65 points) misses the "
                       "lines whose best peak is not in the best grid point's cell. ");
        fprintf(f, "This run repeated the whole experiment with %d other simulated user%s "
                   "(`--compare S,R`, `--no-compare` skips them) on the same problems and "
                   "seeds. The sessions diverge at the first line search where two users stop "
                   "at different points, and then end in different local maxima: with %d "
                   "cases, differences between users are mostly which basins the runs reach, "
                   "not line-search accuracy.\n",
                nalt, nalt == 1 ? "" : "s", o->cases);
        print_users(f, o, r, nalt, oa, ra);
        for (int k = 0; k < nalt; k++)
            print_compare(f, o, r, &oa[k], &ra[k]);
    }
    fprintf(f, "\n## Cost\n\nWall-clock seconds on this machine (load average %s when the run "
               "ended: other jobs shared the cores, so times are upper bounds).\n", mc->load);
    print_costs(f, o, r);
    fprintf(f, "\n## Synthetic generator speed\n\n"
               "`dss_model_generate` on `dss_synthetic` at n = 512, m = %d, batches of 500 points "
               "(two dgemm calls per batch), median of %d batches: **%.0f points/s** (%.1f GFLOP/s "
               "counting 2n^2 + 2mn flops per point). The score g (1024 cosines per point): %.0f "
               "points/s.\n",
            OUTPUT_DIM, sp->reps, sp->gen_pps, sp->gen_gflops, sp->score_pps);
    bad = ferror(f);
    bad |= fclose(f) != 0;
    if (bad)
        fprintf(stderr, "paper: writing %s failed\n", o->md);
    return bad ? -1 : 0;
}

int main(int argc, char **argv)
{
    options o = { .cases = 5, .iters = 200, .samples = 65, .refine = 2, .plot = 1, .full = 0,
                  .nalt = 2, .alt_given = 0, .alt_samples = { 65, 33 }, .alt_refine = { 1, 2 },
                  .dims = { 8, 32, 128, 512 }, .ndims = 4,
                  .csv = "build/bench/paper.csv", .mean = "build/bench/paper-mean.dat",
                  .md = "docs/bench/paper.md", .png = "docs/bench/paper.png",
                  .script = "bench/plot.gp" };
    options oa[MAX_ALT];
    results r = { 0 }, ra[MAX_ALT];
    speed sp;
    machine mc;
    char command[1024], user[96];
    size_t used = 0;
    int status = 1, plotted, oom;
    double start = bench_now();

    for (int a = 1; a < argc; a++) {
        const char *arg = argv[a], *val = a + 1 < argc ? argv[a + 1] : NULL;
        int bad = 0;
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            usage(stdout, argv[0]);
            return 0;
        } else if (strcmp(arg, "--full") == 0) {
            o.cases = 10;
            o.iters = 200;
            o.samples = 10001;
            o.refine = 0;
            o.full = 1;
            o.nalt = 0;
            o.alt_given = 1;
            continue;
        } else if (strcmp(arg, "--no-plot") == 0) {
            o.plot = 0;
            continue;
        } else if (strcmp(arg, "--merge") == 0) {
            while (a + 1 < argc && strncmp(argv[a + 1], "--", 2) != 0 && o.nmerge < MAX_MERGE)
                o.merge[o.nmerge++] = argv[++a];
            if (o.nmerge == 0 || (a + 1 < argc && strncmp(argv[a + 1], "--", 2) != 0)) {
                fprintf(stderr, "paper: --merge needs 1 to %d shard files\n", MAX_MERGE);
                return 2;
            }
            continue;
        } else if (strcmp(arg, "--no-compare") == 0) {
            o.nalt = 0;
            o.alt_given = 1;
            continue;
        } else if (val == NULL) {
            bad = 1;
        } else if (strcmp(arg, "--cases") == 0) {
            bad = (o.cases = parse_count(val, 1, 1000)) < 0; /* median_at's bound */
        } else if (strcmp(arg, "--iters") == 0) {
            bad = (o.iters = parse_count(val, 1, 100000)) < 0;
        } else if (strcmp(arg, "--samples") == 0) {
            bad = (o.samples = parse_count(val, 2, 10000001)) < 0;
        } else if (strcmp(arg, "--refine") == 0) {
            bad = (o.refine = parse_count(val, 0, 2)) < 0;
        } else if (strcmp(arg, "--compare") == 0) {
            const char *comma = strchr(val, ',');
            char head[16];
            size_t len = comma != NULL ? (size_t)(comma - val) : 0;
            if (!o.alt_given) { /* the first --compare replaces the defaults */
                o.nalt = 0;
                o.alt_given = 1;
            }
            bad = comma == NULL || len == 0 || len >= sizeof head || o.nalt == MAX_ALT;
            if (!bad) {
                memcpy(head, val, len);
                head[len] = '\0';
                bad = (o.alt_samples[o.nalt] = parse_count(head, 2, 10000001)) < 0
                      || (o.alt_refine[o.nalt] = parse_count(comma + 1, 0, 2)) < 0;
                o.nalt++;
            }
        } else if (strcmp(arg, "--dims") == 0) {
            bad = parse_dims(val, &o) != 0;
        } else if (strcmp(arg, "--shard") == 0) {
            const char *slash = strchr(val, '/');
            char head[16];
            size_t len = slash != NULL ? (size_t)(slash - val) : 0;
            bad = slash == NULL || len == 0 || len >= sizeof head;
            if (!bad) {
                memcpy(head, val, len);
                head[len] = '\0';
                o.shards = parse_count(slash + 1, 1, 100000);
                o.shard = parse_count(head, 1, 100000);
                bad = o.shards < 0 || o.shard < 0 || o.shard > o.shards;
            }
        } else if (strcmp(arg, "--out") == 0) {
            o.shard_out = val;
        } else if (strcmp(arg, "--tables") == 0) {
            o.tables = val;
        } else if (strcmp(arg, "--csv") == 0) {
            o.csv = val;
        } else if (strcmp(arg, "--md") == 0) {
            o.md = val;
        } else if (strcmp(arg, "--mean") == 0) {
            o.mean = val;
        } else if (strcmp(arg, "--png") == 0) {
            o.png = val;
        } else {
            bad = 1;
        }
        if (bad) {
            fprintf(stderr, "paper: bad argument '%s'%s%s\n", arg, val ? " " : "", val ? val : "");
            usage(stderr, argv[0]);
            return 2;
        }
        a++;
    }
    if ((o.shards > 0) != (o.shard_out != NULL) || (o.shards > 0 && o.nmerge > 0)) {
        fprintf(stderr, "paper: --shard i/N and --out FILE go together, and not with --merge\n");
        return 2;
    }
    if (o.shards > 0 || o.nmerge > 0)
        o.nalt = 0; /* shards run this simulated user only */
    if (o.nmerge > 0 && merge_shards(&o, &r) != 0) {
        results_free(&r);
        return 1;
    }
    o.full = o.full && o.cases == 10 && o.iters == 200 && o.samples == 10001 && !o.refine;
    for (int a = 0; a < argc; a++)
        used += (size_t)snprintf(command + used, sizeof command - used, "%s%s", a ? " " : "",
                                 a == 0 ? "build/bench/paper" : argv[a]);

    memset(ra, 0, sizeof ra);
    oom = o.nmerge == 0 && results_alloc(&o, &r) != 0;
    for (int k = 0; k < o.nalt; k++) {
        oa[k] = o;
        oa[k].samples = o.alt_samples[k];
        oa[k].refine = o.alt_refine[k];
        oom |= results_alloc(&oa[k], &ra[k]) != 0;
    }
    if (oom) {
        results_free(&r);
        for (int k = 0; k < o.nalt; k++)
            results_free(&ra[k]);
        fprintf(stderr, "paper: out of memory\n");
        return 1;
    }
    describe_machine(&mc);
    printf("libdss %s: the paper's synthetic benchmark (Chiu et al. 2020, sections 4.2-4.5)\n"
           "m = %d, gamma = %g, box [-%g, %g]^n; %d case%s, %d iterations, line search: %s\n"
           "%s\n"
           "machine: %ld cores, %s; BLAS/LAPACK: %s\n\n",
           dss_version_string(), OUTPUT_DIM, GAMMA, DSS_SYNTHETIC_BOX, DSS_SYNTHETIC_BOX, o.cases,
           o.cases == 1 ? "" : "s", o.iters, user_desc(user, sizeof user, o.samples, o.refine),
           o.full ? "the paper's protocol (--full)"
                  : "REDUCED protocol (the paper: 10 cases, 200 iterations, 10001 samples, no "
                    "refinement: --full, hours)",
           mc.cores, mc.cpu, mc.blas);
    fflush(stdout);

    if (o.shards > 0) { /* a shard: its runs into its file, the reports come from --merge */
        printf("shard %d/%d -> %s\n", o.shard, o.shards, o.shard_out);
        fflush(stdout);
        if (run_all(&o, &r) != 0 || write_shard(&o, &r) != 0)
            goto done;
        printf("shard %d/%d written to %s in %.1f s\n", o.shard, o.shards, o.shard_out,
               bench_now() - start);
        status = 0;
        goto done;
    }
    if (measure_speed(&sp) != 0)
        goto done;
    printf("synthetic generator, n = 512, m = %d, batches of 500: %.0f points/s (%.1f GFLOP/s); "
           "score: %.0f points/s\n\n",
           OUTPUT_DIM, sp.gen_pps, sp.gen_gflops, sp.score_pps);
    fflush(stdout);

    if (o.nmerge > 0)
        printf("merged %d shard file%s\n", o.nmerge, o.nmerge == 1 ? "" : "s");
    else if (run_all(&o, &r) != 0)
        goto done;
    for (int k = 0; k < o.nalt; k++) {
        printf("\nagain with another simulated user (--compare): %s\n",
               user_desc(user, sizeof user, oa[k].samples, oa[k].refine));
        fflush(stdout);
        if (run_all(&oa[k], &ra[k]) != 0)
            goto done;
    }
    print_tables(stdout, &o, &r);
    print_verdict(stdout, &o, &r);
    print_policies(stdout, &o, &r);
    print_costs(stdout, &o, &r);
    if (o.nalt > 0)
        print_users(stdout, &o, &r, o.nalt, oa, ra);
    for (int k = 0; k < o.nalt; k++)
        print_compare(stdout, &o, &r, &oa[k], &ra[k]);
    printf("\n");
    if (write_csv(&o, &r) != 0 || write_mean(&o, &r) != 0 || write_tables(&o, &r) != 0)
        goto done;
    printf("per-iteration values: %s; mean curves: %s\n", o.csv, o.mean);
    plotted = plot(&o);
    describe_machine(&mc); /* again: the date and load average at the end */
    if (write_md(&o, &r, o.nalt, oa, ra, &sp, &mc, command, bench_now() - start, plotted) != 0)
        goto done;
    printf("tables: %s\ntotal time %.1f s\n", o.md, bench_now() - start);
    status = 0;
done:
    results_free(&r);
    for (int k = 0; k < o.nalt; k++)
        results_free(&ra[k]);
    return status;
}
