/*
 * bench/gallery.c - the 1-D slider against 2-D galleries (issue 20) on the paper's synthetic
 * problem (dss_synthetic: m = 1024, gamma = 2, box [-2.5, 2.5]^n, the authors' initial point,
 * the true Jacobian, DSS_SAMPLER_SINGULAR, the box prior's radius; see bench/paper.c).
 *
 *   slider       l = 1: dss_search_find_optimal (65-point grid + DSS_LINE_REFINE = 2, bench/paper's
 *                default simulated user), then dss_search_commit
 *   gallery GxG  l = 2: dss_search_find_optimal_w on G x G weights (DSS_LINE_GRID = G), with
 *                DSS_LINE_REFINE = 0 (grid only), 1 (coordinate-wise Brent from the best grid
 *                point) or 2 (the same from the grid's 3 best local maxima), then
 *                dss_search_commit_w (9x9 only with refinement: beyond the sizes, to
 *                see where a finer gallery stands)
 *
 * One iteration is one choice of the (simulated) person. For each n, the slider's median gap
 * to the optimum (-best score so far, median over cases: the mean is dominated by the cases
 * that stall at gaps of 1e4) at iterations 25 and 50 are the targets; each method reports the
 * first iteration at which its own median gap is at or below each target, and the mean
 * generator points it evaluated up to then. Targets below GAP_FLOOR = 1e-6 are raised to it.
 *
 *     build/bench/gallery [--dims LIST] [--cases K] [--iters N] [--policy paper|adaptive]
 *
 * Default: n = 8, 32 and 128, 10 cases (seeds 1..10), 50 iterations, the paper's policy (fixed
 * slider radius, no stall escape). --policy adaptive sets bench/paper's escape and adaptive
 * range (DSS_SEARCH_STALL_COMMITS = 4, DSS_SEARCH_RADIUS_POLICY = DSS_RADIUS_ADAPTIVE).
 *
 * Copyright (c) 2026 the libdss authors. MIT licence, see LICENSE.
 */
#include "common.h" /* first: it sets _POSIX_C_SOURCE */

#include <dss/dss.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OUTPUT_DIM 1024
#define GAMMA      2.0
#define MAX_DIMS   8
#define SLIDER_SAMPLES 65
#define SLIDER_REFINE  2
#define GAP_FLOOR 1e-6 /* targets below are raised to it: smaller gaps measure the refinement's
                          tolerance (Brent stops at ~1.3e-7 in t or w), not progress */

typedef struct method { const char *name; int grid, refine; } method;
static const method methods[] = {
    { "slider (65 pts + refine 2)", 0, SLIDER_REFINE },
    { "gallery 3x3", 3, 0 }, { "gallery 3x3 + refine 1", 3, 1 }, { "gallery 3x3 + refine 2", 3, 2 },
    { "gallery 5x5", 5, 0 }, { "gallery 5x5 + refine 1", 5, 1 }, { "gallery 5x5 + refine 2", 5, 2 },
    { "gallery 7x7", 7, 0 }, { "gallery 7x7 + refine 1", 7, 1 }, { "gallery 7x7 + refine 2", 7, 2 },
    { "gallery 9x9 + refine 1", 9, 1 }, { "gallery 9x9 + refine 2", 9, 2 },
};
#define METHODS ((int)(sizeof methods / sizeof *methods))

#define CHECK(call) BENCH_CHECK("gallery", call)

/* One run: iters choices from the authors' initial point; best[i] and points[i] (cumulative)
   after i choices. */
static int run(dss_synthetic *problem, const method *me, int adaptive, unsigned seed, int iters,
               dss_line *line, double *best, double *points)
{
    const dss_model *model = dss_synthetic_model(problem);
    const size_t n = dss_model_latent_dim(model);
    dss_search *search = NULL;
    double *z0 = malloc(n * sizeof *z0), *x = malloc(OUTPUT_DIM * sizeof *x);
    int status = -1;

    if (z0 == NULL || x == NULL) {
        fprintf(stderr, "gallery: out of memory\n");
        goto done;
    }
    CHECK(dss_synthetic_set_jacobian(problem, DSS_SYNTHETIC_JACOBIAN_TRUE));
    CHECK(dss_search_create(&search, model));
    CHECK(dss_search_set(search, DSS_SEARCH_PRIOR, DSS_PRIOR_BOX));
    CHECK(dss_search_set(search, DSS_SEARCH_PRIOR_SCALE, DSS_SYNTHETIC_BOX));
    CHECK(dss_search_set(search, DSS_SEARCH_SEED, seed));
    CHECK(dss_search_set(search, DSS_SEARCH_SAMPLER, DSS_SAMPLER_SINGULAR));
    CHECK(dss_search_set(search, DSS_SEARCH_JACOBIAN, DSS_JACOBIAN_FULL));
    CHECK(dss_search_set(search, DSS_SEARCH_SUBSPACE_DIM, me->grid > 0 ? 2 : 1));
    if (adaptive) {
        CHECK(dss_search_set(search, DSS_SEARCH_RADIUS_POLICY, DSS_RADIUS_ADAPTIVE));
        CHECK(dss_search_set(search, DSS_SEARCH_STALL_COMMITS, 4));
    }
    CHECK(dss_line_set(line, DSS_LINE_REFINE, me->refine));
    if (me->grid > 0)
        CHECK(dss_line_set(line, DSS_LINE_GRID, me->grid));
    CHECK(dss_synthetic_initial_point(problem, z0));
    CHECK(dss_search_start(search, z0));
    CHECK(dss_model_generate(model, 1, z0, x));
    CHECK(dss_synthetic_score(problem, 1, x, &best[0]));
    points[0] = 0.0;
    for (int i = 1; i <= iters; i++) {
        double s;
        if (me->grid > 0) {
            double w[2];
            CHECK(dss_search_find_optimal_w(line, search, dss_synthetic_score, problem, w, &s));
            CHECK(dss_search_commit_w(search, w));
        } else {
            double t;
            CHECK(dss_search_find_optimal(line, search, dss_synthetic_score, problem, &t, &s));
            CHECK(dss_search_commit(search, t));
        }
        points[i] = points[i - 1] + (double)dss_line_evaluations(line);
        best[i] = s > best[i - 1] ? s : best[i - 1];
    }
    status = 0;
done:
    dss_search_destroy(search);
    free(z0);
    free(x);
    return status;
}

/* The first iteration whose mean gap is at or below target, or -1. */
static int reach(const double *gap, int iters, double target)
{
    for (int i = 0; i <= iters; i++)
        if (gap[i] <= target)
            return i;
    return -1;
}

static void print_reach(const double *gap, const double *pts, int iters, double target)
{
    const int i = reach(gap, iters, target);
    if (i < 0)
        printf(" | > %d | -", iters);
    else
        printf(" | %d | %.0f", i, pts[i]);
}

/* The median over cases of row i of curves (cases x (iters + 1)), in tmp. */
static double median_at(const double *curves, int cases, int iters, int i, double *tmp)
{
    for (int c = 0; c < cases; c++)
        tmp[c] = curves[(size_t)c * (size_t)(iters + 1) + (size_t)i];
    return bench_median(tmp, (size_t)cases);
}

int main(int argc, char **argv)
{
    size_t dims[MAX_DIMS] = { 8, 32, 128 };
    int ndims = 3, cases = 10, iters = 50, adaptive = 0, status = 1;
    double *best = NULL, *pts = NULL, *gap = NULL, *mpts = NULL, *med = NULL, *curves = NULL;
    double *tmp = NULL;
    dss_line *line = NULL;

    for (int a = 1; a < argc; a++) {
        if (strcmp(argv[a], "--dims") == 0 && a + 1 < argc) {
            if (bench_parse_sizes(argv[++a], dims, MAX_DIMS, 4096, &ndims) != 0)
                goto usage;
        } else if (strcmp(argv[a], "--cases") == 0 && a + 1 < argc) {
            if (bench_parse_int(argv[++a], 1, 1000, &cases) != 0)
                goto usage;
        } else if (strcmp(argv[a], "--iters") == 0 && a + 1 < argc) {
            if (bench_parse_int(argv[++a], 50, 100000, &iters) != 0)
                goto usage;
        } else if (strcmp(argv[a], "--policy") == 0 && a + 1 < argc) {
            a++;
            if (strcmp(argv[a], "paper") == 0)
                adaptive = 0;
            else if (strcmp(argv[a], "adaptive") == 0)
                adaptive = 1;
            else
                goto usage;
        } else {
            goto usage;
        }
    }
    {
        const size_t per = (size_t)(iters + 1), all = (size_t)METHODS * per;
        best = malloc(per * sizeof *best);
        pts = malloc(per * sizeof *pts);
        gap = calloc(all, sizeof *gap);
        mpts = calloc(all, sizeof *mpts);
        med = calloc(all, sizeof *med);
        curves = calloc(all * (size_t)cases, sizeof *curves);
        tmp = calloc((size_t)cases, sizeof *tmp);
    }
    if (best == NULL || pts == NULL || gap == NULL || mpts == NULL || med == NULL
        || curves == NULL || tmp == NULL) {
        fprintf(stderr, "gallery: out of memory\n");
        goto done;
    }
    CHECK(dss_line_create(&line));
    CHECK(dss_line_set(line, DSS_LINE_SAMPLES, SLIDER_SAMPLES));
    printf("bench/gallery: m = %d, gamma = %g, %d cases, %d iterations, %s policy\n", OUTPUT_DIM,
           GAMMA, cases, iters, adaptive ? "escape + adaptive" : "the paper's");
    for (int d = 0; d < ndims; d++) {
        const double t0 = bench_now();
        const size_t per = (size_t)(iters + 1);
        memset(gap, 0, (size_t)METHODS * per * sizeof *gap);
        memset(mpts, 0, (size_t)METHODS * per * sizeof *mpts);
        for (int c = 0; c < cases; c++) {
            dss_synthetic *problem = NULL;
            CHECK(dss_synthetic_create(&problem, dims[d], OUTPUT_DIM, GAMMA,
                                       (unsigned long long)c + 1));
            for (int me = 0; me < METHODS; me++) {
                if (run(problem, &methods[me], adaptive, (unsigned)c + 1, iters, line, best, pts)
                    != 0) {
                    dss_synthetic_destroy(problem);
                    goto done;
                }
                for (int i = 0; i <= iters; i++) {
                    gap[(size_t)me * per + (size_t)i] += -best[i] / cases;
                    mpts[(size_t)me * per + (size_t)i] += pts[i] / cases;
                    curves[((size_t)me * (size_t)cases + (size_t)c) * per + (size_t)i] = -best[i];
                }
            }
            dss_synthetic_destroy(problem);
        }
        for (int me = 0; me < METHODS; me++)
            for (int i = 0; i <= iters; i++)
                med[(size_t)me * per + (size_t)i] =
                    median_at(curves + (size_t)me * (size_t)cases * per, cases, iters, i, tmp);
        {
            const double t25 = med[25] > GAP_FLOOR ? med[25] : GAP_FLOOR;
            const double t50 = med[50] > GAP_FLOOR ? med[50] : GAP_FLOOR;
            printf("\nn = %zu (%.0f s): the slider's median gap %.4g at 25 and %.4g at 50 "
                   "iterations (mean %.4g and %.4g); targets %.3g and %.3g (at least %g)\n\n",
                   dims[d], bench_now() - t0, med[25], med[50], gap[25], gap[50], t25, t50,
                   GAP_FLOOR);
            printf("| method | points/iter | median gap @10 | @25 | @50 | mean gap @50 |"
                   " iters to slider@25 | points | iters to slider@50 | points |\n");
            printf("|---|---|---|---|---|---|---|---|---|---|\n");
            for (int me = 0; me < METHODS; me++) {
                const double *g = med + (size_t)me * per, *p = mpts + (size_t)me * per;
                printf("| %s | %.1f | %.3g | %.3g | %.3g | %.3g", methods[me].name,
                       p[iters] / iters, g[10], g[25], g[50], gap[(size_t)me * per + 50]);
                print_reach(g, p, iters, t25);
                print_reach(g, p, iters, t50);
                printf(" |\n");
            }
        }
    }
    status = 0;
done:
    dss_line_destroy(line);
    free(best);
    free(pts);
    free(gap);
    free(mpts);
    free(med);
    free(curves);
    free(tmp);
    return status;
usage:
    fprintf(stderr, "usage: %s [--dims LIST] [--cases K] [--iters N>=50] [--policy paper|adaptive]\n",
            argv[0]);
    return 2;
}
