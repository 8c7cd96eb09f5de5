/*
 * demo.c - differential subspace search against random directions on the authors' synthetic
 * problem (Chiu et al., SIGGRAPH 2020, section 4.2).
 *
 * For each case (a random problem instance): n = 32 latent dimensions, m = 1024 outputs,
 * gamma = 2 (a Rastrigin-like, many-peaked score), the latent box [-2.5, 2.5]^n, the slider radius
 * 0.2 x the mean distance between two points of the box, and the authors' initial point. Both
 * methods run the same loop from the same start:
 *
 *     dss_search_find_optimal   the simulated user scans the slider and picks the best t
 *     dss_search_commit(t)      the centre moves there; a new direction is drawn
 *
 * and differ only in how the slider's direction is drawn: DSS_SAMPLER_SINGULAR (right-singular
 * vectors of the Jacobian, importance-sampled by singular value: the paper's method) or
 * DSS_SAMPLER_RANDOM (uniform random unit directions). A third run, "dss+", is the setting
 * libdss recommends for rugged scores like this one: the paper's directions with
 * DSS_RADIUS_ADAPTIVE and DSS_SEARCH_STALL_COMMITS = 4. The score of the centre is tracked;
 * the best so far is reported per iteration (maximise; the optimum is 0).
 *
 *     demo [--csv FILE] [--cases K] [--iters N] [--samples S] [--refine 0|1|2] [--smoke] [--help]
 *
 * `make demo` runs `build/examples/demo --csv build/demo.csv`.
 *
 * Copyright (c) 2026 the libdss authors. MIT licence, see LICENSE.
 */
#include <dss/dss.h>

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define LATENT_DIM 32
#define OUTPUT_DIM 1024
#define GAMMA      2.0
#define SOLVED     0.01 /* a run "reached the optimum" when its best score is above -SOLVED */

/* The paper's method, random directions, and the setting libdss recommends for rugged scores
   that stall (not for image generators, where it is no better than the paper's method): the
   paper's directions with the adaptive slider and the stall escape after 4 centred commits in a
   row (docs/algorithm.md section 10, "Across generators"). */
enum { METHOD_DSS = 0, METHOD_RANDOM = 1, METHOD_RECOMMENDED = 2, METHODS = 3 };
static const char *const method_name[METHODS] = { "dss", "random", "dss+" };
static const int method_sampler[METHODS] = { DSS_SAMPLER_SINGULAR, DSS_SAMPLER_RANDOM,
                                             DSS_SAMPLER_SINGULAR };
static const int method_recommended[METHODS] = { 0, 0, 1 };
#define STALL_COMMITS 4

typedef struct options {
    const char *csv;  /* NULL: no CSV */
    int cases;
    int iters;
    int samples;
    int refine;
} options;

/* Per-method totals, for the closing lines. */
typedef struct tally {
    double seconds;
    double evaluations; /* generator points evaluated by the line searches */
} tally;

static double now_seconds(void)
{
    struct timespec ts;
    if (timespec_get(&ts, TIME_UTC) != TIME_UTC)
        return (double)clock() / CLOCKS_PER_SEC;
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void usage(FILE *out, const char *prog)
{
    fprintf(out,
            "usage: %s [--csv FILE] [--cases K] [--iters N] [--samples S] [--refine 0|1|2]\n"
            "          [--smoke] [--help]\n"
            "Differential subspace search (DSS) against random directions on the authors'\n"
            "synthetic problem: n = %d, m = %d, gamma = %g, box [-%g, %g]^n.\n"
            "  --csv FILE    write every iteration's best score (iteration,method,case,best_score)\n"
            "  --cases K     problem instances (seeds 1..K), default 10\n"
            "  --iters N     slider commits per run, default 100\n"
            "  --samples S   slider grid points per line search, default 101\n"
            "  --refine 0|1|2  Brent refinement of the best grid point (1, default) or of the 3 best local maxima (2)\n"
            "  --smoke       a tiny, fast run (1 case, 3 iterations, 21 samples)\n",
            prog, LATENT_DIM, OUTPUT_DIM, GAMMA, DSS_SYNTHETIC_BOX, DSS_SYNTHETIC_BOX);
}

/* A positive int from argv, or -1. */
static int parse_count(const char *s, int lo)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < lo || v > INT_MAX / 4)
        return -1;
    return (int)v;
}

static void report(const char *what, int status)
{
    fprintf(stderr, "demo: %s failed: %s (%d)\n", what, dss_strerror(status), status);
}

/* Score of one latent point: g(f(z)). x is m scratch doubles. */
static int score_point(const dss_synthetic *problem, const double *z, double *x, double *score)
{
    int rc = dss_model_generate(dss_synthetic_model(problem), 1, z, x);
    if (rc != DSS_OK)
        return rc;
    return dss_synthetic_score((void *)problem, 1, x, score);
}

/*
 * One run: start at z0, iters x (line search, commit). best[i] receives the best centre score
 * after i commits (best[0] is the start's). Returns a DSS status; `what` names the failing call.
 */
static int run(const dss_synthetic *problem, const double *z0, int method, unsigned seed,
               const options *opt, dss_line *line, double *best, double *evaluations,
               const char **what)
{
    const dss_model *model = dss_synthetic_model(problem);
    dss_search *search = NULL;
    double z[LATENT_DIM];
    double *x = malloc(OUTPUT_DIM * sizeof *x);
    double t = 0.0, line_score = 0.0, centre_score = 0.0;
    int rc = DSS_ENOMEM;

    *what = "malloc";
    if (x == NULL)
        goto done;

#define TRY(call)                    \
    do {                             \
        *what = #call;               \
        if ((rc = (call)) != DSS_OK) \
            goto done;               \
    } while (0)

    TRY(dss_search_create(&search, model));
    /* The box prior makes the default radius 0.2 x the mean distance between two box points. */
    TRY(dss_search_set(search, DSS_SEARCH_PRIOR, DSS_PRIOR_BOX));
    TRY(dss_search_set(search, DSS_SEARCH_PRIOR_SCALE, DSS_SYNTHETIC_BOX));
    TRY(dss_search_set(search, DSS_SEARCH_SAMPLER, method_sampler[method]));
    TRY(dss_search_set(search, DSS_SEARCH_SEED, seed));
    if (method_recommended[method]) {
        TRY(dss_search_set(search, DSS_SEARCH_RADIUS_POLICY, DSS_RADIUS_ADAPTIVE));
        TRY(dss_search_set(search, DSS_SEARCH_STALL_COMMITS, STALL_COMMITS));
    }
    TRY(dss_search_start(search, z0));

    TRY(score_point(problem, z0, x, &centre_score));
    best[0] = centre_score;
    for (int i = 1; i <= opt->iters; i++) {
        TRY(dss_search_find_optimal(line, search, dss_synthetic_score, (void *)problem, &t,
                                    &line_score));
        *evaluations += (double)dss_line_evaluations(line);
        TRY(dss_search_commit(search, t));
        /* The score of the new centre itself (one more generator call). */
        TRY(dss_search_center(search, z));
        TRY(score_point(problem, z, x, &centre_score));
        best[i] = centre_score > best[i - 1] ? centre_score : best[i - 1];
    }
#undef TRY
    rc = DSS_OK;
done:
    dss_search_destroy(search);
    free(x);
    return rc;
}

static int compare_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Mean and median of count values spaced stride apart; tmp holds count doubles. */
static void mean_median(const double *v, int count, size_t stride, double *tmp, double *mean,
                        double *median)
{
    double s = 0.0;
    for (int c = 0; c < count; c++) {
        tmp[c] = v[(size_t)c * stride];
        s += tmp[c];
    }
    qsort(tmp, (size_t)count, sizeof *tmp, compare_double);
    *mean = s / count;
    *median = count % 2 ? tmp[count / 2] : 0.5 * (tmp[count / 2 - 1] + tmp[count / 2]);
}

/* Write every run's best scores to f (opened before the runs, so that a bad path fails at
   once) and close it. */
static int write_csv(FILE *f, const char *path, const options *opt, const double *best)
{
    int bad = fprintf(f, "iteration,method,case,best_score\n") < 0;
    size_t per_run = (size_t)opt->iters + 1;
    for (int me = 0; me < METHODS && !bad; me++)
        for (int c = 0; c < opt->cases && !bad; c++)
            for (int i = 0; i <= opt->iters && !bad; i++)
                bad = fprintf(f, "%d,%s,%d,%.17g\n", i, method_name[me], c + 1,
                              best[((size_t)me * (size_t)opt->cases + (size_t)c) * per_run
                                   + (size_t)i]) < 0;
    if (fclose(f) != 0)
        bad = 1;
    if (bad) {
        fprintf(stderr, "demo: writing %s failed\n", path);
        return -1;
    }
    return 0;
}

/* Table rows: 0, 5, 10, 20, ..., 50, 75, 100, 150, 200, 300, ... and the final iteration. */
static int next_row(int i)
{
    if (i < 5)
        return 5;
    if (i < 50)
        return i < 10 ? 10 : (i / 10 + 1) * 10;
    if (i < 100)
        return i < 75 ? 75 : 100;
    if (i < 200)
        return i < 150 ? 150 : 200;
    return (i / 100 + 1) * 100;
}

/* Best score of run (method, case) after iteration i. */
static double at(const options *opt, const double *best, int method, int c, int i)
{
    return best[((size_t)method * (size_t)opt->cases + (size_t)c) * ((size_t)opt->iters + 1)
                + (size_t)i];
}

/* The convergence table and the verdict. Returns -1 when out of memory. */
static int print_results(const options *opt, const double *best)
{
    const size_t per_run = (size_t)opt->iters + 1;
    double *tmp = malloc((size_t)opt->cases * sizeof *tmp);
    double mean[METHODS], median[METHODS];
    int solved[METHODS] = { 0, 0, 0 }, ahead = 0, ahead_rec = 0, reach = -1;

    if (tmp == NULL)
        return -1;
    printf("%5s  %12s %12s  %12s %12s  %9s  %12s %12s\n", "iter", "DSS mean", "DSS median",
           "random mean", "random med.", "DSS ahead", "DSS+ mean", "DSS+ median");
    for (int i = 0;; i = next_row(i)) {
        if (i > opt->iters)
            i = opt->iters;
        ahead = ahead_rec = 0;
        for (int me = 0; me < METHODS; me++)
            mean_median(best + (size_t)me * (size_t)opt->cases * per_run + (size_t)i,
                        opt->cases, per_run, tmp, &mean[me], &median[me]);
        for (int c = 0; c < opt->cases; c++) {
            ahead += at(opt, best, METHOD_DSS, c, i) > at(opt, best, METHOD_RANDOM, c, i);
            ahead_rec += at(opt, best, METHOD_RECOMMENDED, c, i) > at(opt, best, METHOD_DSS, c, i);
        }
        printf("%5d  %12.6g %12.6g  %12.6g %12.6g  %6d/%-2d  %12.6g %12.6g\n", i,
               mean[METHOD_DSS], median[METHOD_DSS], mean[METHOD_RANDOM], median[METHOD_RANDOM],
               ahead, opt->cases, mean[METHOD_RECOMMENDED], median[METHOD_RECOMMENDED]);
        if (i == opt->iters)
            break;
    }
    /* mean[] and ahead now hold the final iteration's values. When does DSS's mean first reach
       random directions' final mean? How many runs end within SOLVED of the optimum 0? */
    for (int i = 0; i <= opt->iters && reach < 0; i++) {
        double m_i, med_i;
        mean_median(best + (size_t)i, opt->cases, per_run, tmp, &m_i, &med_i);
        if (m_i >= mean[METHOD_RANDOM])
            reach = i;
    }
    for (int me = 0; me < METHODS; me++)
        for (int c = 0; c < opt->cases; c++)
            solved[me] += at(opt, best, me, c, opt->iters) > -SOLVED;
    free(tmp);

    printf("\n");
    if (mean[METHOD_DSS] > mean[METHOD_RANDOM])
        printf("verdict: DSS beats random directions: mean best score %.6g against %.6g after %d "
               "iterations,\n         ahead in %d of %d cases; DSS matched random's final mean "
               "after %d iterations.\n",
               mean[METHOD_DSS], mean[METHOD_RANDOM], opt->iters, ahead, opt->cases, reach);
    else
        printf("verdict: DSS does NOT beat random directions here: mean best score %.6g against "
               "%.6g after %d iterations.\n",
               mean[METHOD_DSS], mean[METHOD_RANDOM], opt->iters);
    printf("         Runs ending within %g of the optimum: DSS %d/%d, random %d/%d.\n", SOLVED,
           solved[METHOD_DSS], opt->cases, solved[METHOD_RANDOM], opt->cases);
    printf("DSS+ (libdss's setting for rugged scores: the paper's directions, DSS_RADIUS_ADAPTIVE and\n"
           "         DSS_SEARCH_STALL_COMMITS = %d): mean best score %.6g against the paper's %.6g,\n"
           "         ahead of it in %d of %d cases; within %g of the optimum: %d/%d.\n",
           STALL_COMMITS, mean[METHOD_RECOMMENDED], mean[METHOD_DSS], ahead_rec, opt->cases,
           SOLVED, solved[METHOD_RECOMMENDED], opt->cases);
    return 0;
}

int main(int argc, char **argv)
{
    options opt = { NULL, 10, 100, 101, 1 };
    for (int a = 1; a < argc; a++) {
        const char *arg = argv[a];
        const char *val = a + 1 < argc ? argv[a + 1] : NULL;
        int *target = NULL, lo = 1;
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            usage(stdout, argv[0]);
            return 0;
        } else if (strcmp(arg, "--smoke") == 0) {
            opt.cases = 1;
            opt.iters = 3;
            opt.samples = 21;
            continue;
        } else if (strcmp(arg, "--csv") == 0 && val != NULL) {
            opt.csv = val;
            a++;
            continue;
        } else if (strcmp(arg, "--cases") == 0) {
            target = &opt.cases;
        } else if (strcmp(arg, "--iters") == 0) {
            target = &opt.iters;
        } else if (strcmp(arg, "--samples") == 0) {
            target = &opt.samples;
            lo = 2;
        } else if (strcmp(arg, "--refine") == 0) {
            target = &opt.refine;
            lo = 0;
        }
        if (target == NULL || val == NULL || (*target = parse_count(val, lo)) < 0
            || (target == &opt.refine && opt.refine > 2)) {
            fprintf(stderr, "demo: bad argument '%s'%s%s\n", arg, val ? " " : "", val ? val : "");
            usage(stderr, argv[0]);
            return 2;
        }
        a++;
    }

    size_t per_run = (size_t)opt.iters + 1;
    double *best = malloc((size_t)METHODS * (size_t)opt.cases * per_run * sizeof *best);
    dss_line *line = NULL;
    dss_synthetic *problem = NULL;
    FILE *csv = NULL;
    tally tallies[METHODS] = { { 0, 0 }, { 0, 0 }, { 0, 0 } };
    int status = 1, rc;
    const char *what = "malloc";
    double z0[LATENT_DIM];
    double start = now_seconds();
    clock_t cpu_start = clock();

    printf("libdss %s demo: DSS against random directions (and DSS+, libdss's setting for\n"
           "rugged scores) on the synthetic problem\n"
           "n = %d, m = %d, gamma = %g, box [-%g, %g]^n, %d case%s, %d iterations,\n"
           "line search: %d grid points%s; best centre score so far (maximise, optimum 0)\n\n",
           dss_version_string(), LATENT_DIM, OUTPUT_DIM, GAMMA, DSS_SYNTHETIC_BOX,
           DSS_SYNTHETIC_BOX, opt.cases, opt.cases == 1 ? "" : "s", opt.iters, opt.samples,
           opt.refine ? " + refinement" : "");
    fflush(stdout);

    if (best == NULL) {
        fprintf(stderr, "demo: out of memory\n");
        return 1;
    }
    if (opt.csv != NULL && (csv = fopen(opt.csv, "w")) == NULL) {
        fprintf(stderr, "demo: cannot open %s: %s\n", opt.csv, strerror(errno));
        free(best);
        return 1;
    }
#define CHECK(call)                     \
    do {                                \
        what = #call;                   \
        if ((rc = (call)) != DSS_OK) {  \
            report(what, rc);           \
            goto done;                  \
        }                               \
    } while (0)

    CHECK(dss_line_create(&line));
    CHECK(dss_line_set(line, DSS_LINE_SAMPLES, opt.samples));
    CHECK(dss_line_set(line, DSS_LINE_REFINE, opt.refine));

    for (int c = 0; c < opt.cases; c++) {
        CHECK(dss_synthetic_create(&problem, LATENT_DIM, OUTPUT_DIM, GAMMA,
                                   (unsigned long long)c + 1));
        CHECK(dss_synthetic_initial_point(problem, z0));
        for (int me = 0; me < METHODS; me++) {
            double *b = best + ((size_t)me * (size_t)opt.cases + (size_t)c) * per_run;
            double t0 = now_seconds();
            rc = run(problem, z0, me, (unsigned)c + 1, &opt, line, b,
                     &tallies[me].evaluations, &what);
            if (rc != DSS_OK) {
                report(what, rc);
                goto done;
            }
            tallies[me].seconds += now_seconds() - t0;
        }
        dss_synthetic_destroy(problem);
        problem = NULL;
    }
#undef CHECK

    if (print_results(&opt, best) != 0) {
        fprintf(stderr, "demo: out of memory\n");
        goto done;
    }
    for (int me = 0; me < METHODS; me++)
        printf("%-7s %6.2f s, %.0f generator points in line searches (%.0f per iteration)\n",
               method_name[me], tallies[me].seconds, tallies[me].evaluations,
               tallies[me].evaluations / ((double)opt.cases * opt.iters));

    if (opt.csv != NULL) {
        FILE *f = csv;
        csv = NULL; /* closed by write_csv */
        if (write_csv(f, opt.csv, &opt, best) != 0)
            goto done;
        printf("per-iteration values written to %s\n", opt.csv);
    }
    printf("total time %.2f s wall clock, %.2f s CPU\n", now_seconds() - start,
           (double)(clock() - cpu_start) / CLOCKS_PER_SEC);
    status = 0;

done:
    if (csv != NULL)
        fclose(csv);
    dss_synthetic_destroy(problem);
    dss_line_destroy(line);
    free(best);
    return status;
}
