/*
 * bench/gallery.c - the 1-D slider against 2-D galleries (issue 20) on the paper's synthetic
 * problem (dss_synthetic: m = 1024, gamma = 2, box [-2.5, 2.5]^n, the authors' initial point,
 * DSS_SAMPLER_SINGULAR, the box prior's radius; the same problems and seeds as bench/paper).
 *
 *   slider       l = 1: dss_search_find_optimal (65-point grid + DSS_LINE_REFINE = 2, bench/paper's
 *                default simulated user), then dss_search_commit
 *   GxG, GxGrR   l = 2: dss_search_find_optimal_w on G x G weights (DSS_LINE_GRID = G), with
 *                DSS_LINE_REFINE = R: 0 (grid only, no suffix), 1 (coordinate-wise Brent from
 *                the best grid point) or 2 (the same from the grid's 3 best local maxima), then
 *                dss_search_commit_w
 *
 * One iteration is one choice of the (simulated) person. For each n, the slider's median gap
 * to the optimum (-best score so far, median over cases: the mean is dominated by the cases
 * that stall at gaps of 1e4) at iterations 25, 50 and 100 (those within --iters) are the
 * targets; each method reports the first iteration at which its own median gap is at or below
 * each target, the mean generator points it evaluated up to then, and their ratio to the
 * slider's points at its own first iteration there. Targets below GAP_FLOOR = 1e-6 are raised
 * to it.
 *
 *     build/bench/gallery [--dims LIST] [--cases K] [--iters N] [--policy paper|adaptive]
 *                         [--jacobian true|authors] [--methods LIST] [--curves FILE] [--trace]
 *
 * Default: n = 8, 32 and 128, 10 cases (seeds 1..10), 100 iterations, the paper's policy
 * (fixed slider radius, no stall escape), the true Jacobian, every method but the fine
 * galleries (17x17r1, 33x33r1, 65x65r1).
 * --policy adaptive sets bench/paper's escape and adaptive range (DSS_SEARCH_STALL_COMMITS = 4,
 * DSS_SEARCH_RADIUS_POLICY = DSS_RADIUS_ADAPTIVE); --jacobian authors the authors' Jacobian
 * (A_d + A_d^T)(z - s) (bench/paper's dss-authors methods). --methods picks methods by name
 * (comma-separated: slider, 3x3, 3x3r1, 3x3r2, ..., 9x9r2, and the fine 17x17r1, 33x33r1 and
 * 65x65r1 that run only when named; the slider always runs: it sets the targets). --curves FILE writes, per n, a gnuplot block (blocks separated by two blank lines,
 * each opened by a comment and a header line naming its columns: iter, then per method
 * NAME:gap, the median gap, and NAME:points, the mean cumulative generator points); bench/gallery.gp
 * plots them. --trace prints, after each run, where it stands and why (a line per run, "trace":
 * its distance rho to the optimum, how many choices found the centre best on the grid alone,
 * how many commits were centred and how many recomputed the Jacobian, how the basis and a
 * fresh Jacobian's top direction point, and whether each grid has a weight in the optimum's
 * basin; the diagnosis of docs/algorithm.md section 11). It scores the grid alone beside each
 * choice (points not counted) and so takes longer.
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
#define SOLVED     0.01 /* a run "solved" its case when its gap ends below (bench/paper's) */
#define GAP_FLOOR 1e-6 /* targets below are raised to it: smaller gaps measure the refinement's
                          tolerance (Brent stops at ~1.3e-7 in t or w), not progress */
#define NTARGETS 3
static const int target_iter[NTARGETS] = { 25, 50, 100 };

typedef struct method { const char *name; int grid, refine, dflt; } method;
static const method methods[] = {
    { "slider", 0, SLIDER_REFINE, 1 },
    { "3x3", 3, 0, 1 }, { "3x3r1", 3, 1, 1 }, { "3x3r2", 3, 2, 1 },
    { "5x5", 5, 0, 1 }, { "5x5r1", 5, 1, 1 }, { "5x5r2", 5, 2, 1 },
    { "7x7", 7, 0, 1 }, { "7x7r1", 7, 1, 1 }, { "7x7r2", 7, 2, 1 },
    { "9x9", 9, 0, 1 }, { "9x9r1", 9, 1, 1 }, { "9x9r2", 9, 2, 1 },
    /* far beyond the budget (289 to 4225 points per choice), not in the default set:
       to check docs/algorithm.md section 11's resolution argument (a grid as fine as the
       optimum's basin is wide needs about 16, 32 and 63 points per axis at n = 8, 32, 128) */
    { "17x17r1", 17, 1, 0 }, { "33x33r1", 33, 1, 0 }, { "65x65r1", 65, 1, 0 },
};
#define METHODS ((int)(sizeof methods / sizeof *methods))

#define CHECK(call) BENCH_CHECK("gallery", call)

/* --trace: what a run did, for docs/algorithm.md section 11's diagnosis of stalled runs. */
typedef struct trace {
    dss_line *probe;           /* the grid alone (DSS_LINE_REFINE = 0), scored beside the run */
    int grid_centre;           /* choices whose grid's best point was the centre */
    int centred;               /* commits within the centre tolerance (|w_i| <= 2 x 0.05) */
    int recomputes;            /* commits that recomputed the Jacobian */
} trace;

static int run_trace_end(dss_synthetic *problem, const method *me, int authors, unsigned seed,
                         int iters, dss_search *search, const trace *tr);

/* One run: iters choices from the authors' initial point; best[i] and points[i] (cumulative)
   after i choices. With tr, also the trace (its probe's points are not counted). */
static int run(dss_synthetic *problem, const method *me, int adaptive, int authors,
               unsigned seed, int iters, dss_line *line, double *best, double *points,
               trace *tr)
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
    CHECK(dss_synthetic_set_jacobian(problem, authors ? DSS_SYNTHETIC_JACOBIAN_AUTHORS
                                                      : DSS_SYNTHETIC_JACOBIAN_TRUE));
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
    if (tr != NULL) {
        tr->grid_centre = tr->centred = tr->recomputes = 0;
        CHECK(dss_line_set(tr->probe, DSS_LINE_REFINE, 0));
        CHECK(dss_line_set(tr->probe, DSS_LINE_SAMPLES, SLIDER_SAMPLES));
        if (me->grid > 0)
            CHECK(dss_line_set(tr->probe, DSS_LINE_GRID, me->grid));
    }
    for (int i = 1; i <= iters; i++) {
        double s, reach = 0.0, dec0 = 0.0, dec1 = 0.0;
        if (tr != NULL) { /* the grid's own best point, before the run's user refines it */
            double wg[2] = { 0.0, 0.0 }, sg;
            if (me->grid > 0)
                CHECK(dss_search_find_optimal_w(tr->probe, search, dss_synthetic_score, problem,
                                                wg, &sg));
            else
                CHECK(dss_search_find_optimal(tr->probe, search, dss_synthetic_score, problem,
                                              wg, &sg));
            tr->grid_centre += me->grid > 0 ? wg[0] == 0.0 && wg[1] == 0.0 : wg[0] == 0.5;
            CHECK(dss_search_stat(search, DSS_STAT_DECOMPOSITIONS, &dec0));
        }
        if (me->grid > 0) {
            double w[2];
            CHECK(dss_search_find_optimal_w(line, search, dss_synthetic_score, problem, w, &s));
            CHECK(dss_search_commit_w(search, w));
            reach = fmax(fabs(w[0]), fabs(w[1]));
        } else {
            double t;
            CHECK(dss_search_find_optimal(line, search, dss_synthetic_score, problem, &t, &s));
            CHECK(dss_search_commit(search, t));
            reach = fabs(2.0 * t - 1.0);
        }
        points[i] = points[i - 1] + (double)dss_line_evaluations(line);
        best[i] = s > best[i - 1] ? s : best[i - 1];
        if (tr != NULL) {
            CHECK(dss_search_stat(search, DSS_STAT_DECOMPOSITIONS, &dec1));
            tr->recomputes += dec1 > dec0;
            tr->centred += reach <= 0.1;
        }
    }
    if (tr != NULL && run_trace_end(problem, me, authors, seed, iters, search, tr) != 0)
        goto done;
    status = 0;
done:
    dss_search_destroy(search);
    free(z0);
    free(x);
    return status;
}

/* The gap (0 - score) at latent point z. */
static int gap_at(dss_synthetic *problem, const double *z, double *x, double *gap)
{
    double score;
    CHECK(dss_model_generate(dss_synthetic_model(problem), 1, z, x));
    CHECK(dss_synthetic_score(problem, 1, x, &score));
    *gap = -score;
    return 0;
done:
    return -1;
}

/* --trace, at the end of a run: where the session stands (rho = |s - c| from the optimum s, the
   gap there), what the run did (trace), how its basis and a Jacobian taken afresh at c point
   (cosines with s - c), the optimum's basin along s - c (the distance from s within which the
   gap is below the gap at c), rho / r (the weight that would reach s along a direction pointing
   at it, r the slider radius), and whether each G x G grid has a weight w != 0 whose point
   c + r w v1 along the fresh top direction v1 is in that basin (its gap below the gap at c). */
static int run_trace_end(dss_synthetic *problem, const method *me, int authors, unsigned seed,
                         int iters, dss_search *search, const trace *tr)
{
    const dss_model *model = dss_synthetic_model(problem);
    const size_t n = dss_model_latent_dim(model), l = dss_search_subspace_dim(search);
    double *c = malloc(6 * n * sizeof *c), *opt = c + n, *d = opt + n, *z = d + n, *b = z + n;
    double *v1 = b + n, x[OUTPUT_DIM], rho = 0.0, r, gap_c, half = 0.0, cos_b[2] = { 0, 0 };
    double cos_v = 0.0;
    dss_search *fresh = NULL;
    int status = -1;
    if (c == NULL) {
        fprintf(stderr, "gallery: out of memory\n");
        return -1;
    }
    CHECK(dss_search_center(search, c));
    CHECK(dss_synthetic_optimum(problem, opt));
    CHECK(dss_search_slider_radius(search, &r));
    for (size_t j = 0; j < n; j++) {
        d[j] = opt[j] - c[j];
        rho += d[j] * d[j];
    }
    rho = sqrt(rho);
    if (gap_at(problem, c, x, &gap_c) != 0)
        goto done;
    for (size_t i = 0; i < l && i < 2 && rho > 0.0; i++) {
        double *basis = malloc(l * n * sizeof *basis);
        if (basis == NULL)
            goto done;
        CHECK(dss_search_basis(search, basis));
        for (size_t j = 0; j < n; j++)
            cos_b[i] += basis[i * n + j] * d[j] / rho;
        free(basis);
    }
    /* a Jacobian taken afresh at c: its top right-singular vector (sign towards s) */
    CHECK(dss_search_create(&fresh, model));
    CHECK(dss_search_set(fresh, DSS_SEARCH_SAMPLER, DSS_SAMPLER_TOP));
    CHECK(dss_search_set(fresh, DSS_SEARCH_JACOBIAN, DSS_JACOBIAN_FULL));
    CHECK(dss_synthetic_set_jacobian(problem, authors ? DSS_SYNTHETIC_JACOBIAN_AUTHORS
                                                      : DSS_SYNTHETIC_JACOBIAN_TRUE));
    CHECK(dss_search_start(fresh, c));
    CHECK(dss_search_basis(fresh, v1));
    for (size_t j = 0; j < n && rho > 0.0; j++)
        cos_v += v1[j] * d[j] / rho;
    if (cos_v < 0.0) {
        cos_v = -cos_v;
        for (size_t j = 0; j < n; j++)
            v1[j] = -v1[j];
    }
    /* the basin along s - c, in steps of 0.001 latent units */
    for (int k = 1; k <= 500 && rho > 0.0; k++) {
        double g;
        for (size_t j = 0; j < n; j++)
            z[j] = opt[j] - 0.001 * k * d[j] / rho;
        if (gap_at(problem, z, x, &g) != 0)
            goto done;
        if (!(g < gap_c))
            break;
        half = 0.001 * k;
    }
    printf("trace n = %zu %s case %u after %d: gap %.4g, rho %.4f, r %.4f, rho/r %.3f; grid's best "
           "= centre %d, centred commits %d, Jacobians recomputed %d; cos(basis, s - c) %+.3f %+.3f,"
           " cos(fresh v1, s - c) %.4f; basin half-width %.3f (%.3f r); grid weights in it along "
           "fresh v1:", n, me->name, seed, iters, gap_c, rho, r, rho / r, tr->grid_centre,
           tr->centred, tr->recomputes, cos_b[0], cos_b[1], cos_v, half, half / r);
    for (int G = 3; G <= 9; G += 2) {
        double best = INFINITY;
        for (int k = 0; k < G; k++) {
            const double w = (double)(2 * k - (G - 1)) / (double)(G - 1);
            double g;
            if (k == (G - 1) / 2)
                continue;
            for (size_t j = 0; j < n; j++)
                z[j] = c[j] + r * w * v1[j];
            if (gap_at(problem, z, x, &g) != 0)
                goto done;
            best = fmin(best, g);
        }
        printf(" %dx%d %s", G, G, best < gap_c ? "yes" : "no");
    }
    printf("\n");
    status = 0;
done:
    dss_search_destroy(fresh);
    free(c);
    return status;
}

/* The first iteration whose median gap is at or below target, or -1. */
static int reach(const double *gap, int iters, double target)
{
    for (int i = 0; i <= iters; i++)
        if (gap[i] <= target)
            return i;
    return -1;
}

/* The median over cases of row i of curves (cases x (iters + 1)), in tmp. */
static double median_at(const double *curves, int cases, int iters, int i, double *tmp)
{
    for (int c = 0; c < cases; c++)
        tmp[c] = curves[(size_t)c * (size_t)(iters + 1) + (size_t)i];
    return bench_median(tmp, (size_t)cases);
}

/* --methods LIST: sel[me] = 1 for each name in LIST (and the slider); 0 on success. */
static int parse_methods(const char *list, int *sel)
{
    char buf[256];
    if (strlen(list) >= sizeof buf)
        return -1;
    strcpy(buf, list);
    memset(sel, 0, METHODS * sizeof *sel);
    sel[0] = 1;
    for (char *tok = strtok(buf, ","); tok != NULL; tok = strtok(NULL, ",")) {
        int found = 0;
        for (int me = 0; me < METHODS; me++)
            if (strcmp(tok, methods[me].name) == 0)
                sel[me] = found = 1;
        if (!found)
            return -1;
    }
    return 0;
}

static const char *policy_name(int adaptive)
{
    return adaptive ? "escape + adaptive" : "the paper's";
}

int main(int argc, char **argv)
{
    size_t dims[MAX_DIMS] = { 8, 32, 128 };
    int ndims = 3, cases = 10, iters = 100, adaptive = 0, authors = 0, tracing = 0, status = 1;
    trace tr = { 0 };
    int sel[METHODS];
    const char *curves_path = NULL;
    FILE *curves_file = NULL;
    double *best = NULL, *pts = NULL, *mpts = NULL, *med = NULL, *curves = NULL, *tmp = NULL;
    dss_line *line = NULL;

    for (int me = 0; me < METHODS; me++)
        sel[me] = methods[me].dflt;
    for (int a = 1; a < argc; a++) {
        if (strcmp(argv[a], "--dims") == 0 && a + 1 < argc) {
            if (bench_parse_sizes(argv[++a], dims, MAX_DIMS, 4096, &ndims) != 0)
                goto usage;
        } else if (strcmp(argv[a], "--cases") == 0 && a + 1 < argc) {
            if (bench_parse_int(argv[++a], 1, 1000, &cases) != 0)
                goto usage;
        } else if (strcmp(argv[a], "--iters") == 0 && a + 1 < argc) {
            if (bench_parse_int(argv[++a], target_iter[0], 100000, &iters) != 0)
                goto usage;
        } else if (strcmp(argv[a], "--policy") == 0 && a + 1 < argc) {
            a++;
            if (strcmp(argv[a], "paper") == 0)
                adaptive = 0;
            else if (strcmp(argv[a], "adaptive") == 0)
                adaptive = 1;
            else
                goto usage;
        } else if (strcmp(argv[a], "--jacobian") == 0 && a + 1 < argc) {
            a++;
            if (strcmp(argv[a], "true") == 0)
                authors = 0;
            else if (strcmp(argv[a], "authors") == 0)
                authors = 1;
            else
                goto usage;
        } else if (strcmp(argv[a], "--methods") == 0 && a + 1 < argc) {
            if (parse_methods(argv[++a], sel) != 0)
                goto usage;
        } else if (strcmp(argv[a], "--trace") == 0) {
            tracing = 1;
        } else if (strcmp(argv[a], "--curves") == 0 && a + 1 < argc) {
            curves_path = argv[++a];
        } else {
            goto usage;
        }
    }
    {
        const size_t per = (size_t)(iters + 1), all = (size_t)METHODS * per;
        best = malloc(per * sizeof *best);
        pts = malloc(per * sizeof *pts);
        mpts = calloc(all, sizeof *mpts);
        med = calloc(all, sizeof *med);
        curves = calloc(all * (size_t)cases, sizeof *curves);
        tmp = calloc((size_t)cases, sizeof *tmp);
    }
    if (best == NULL || pts == NULL || mpts == NULL || med == NULL || curves == NULL
        || tmp == NULL) {
        fprintf(stderr, "gallery: out of memory\n");
        goto done;
    }
    if (curves_path != NULL && (curves_file = fopen(curves_path, "w")) == NULL) {
        fprintf(stderr, "gallery: cannot write %s: %s\n", curves_path, strerror(errno));
        goto done;
    }
    CHECK(dss_line_create(&line));
    CHECK(dss_line_set(line, DSS_LINE_SAMPLES, SLIDER_SAMPLES));
    if (tracing)
        CHECK(dss_line_create(&tr.probe));
    printf("bench/gallery: m = %d, gamma = %g, %d cases, %d iterations, %s policy, %s Jacobian\n",
           OUTPUT_DIM, GAMMA, cases, iters, policy_name(adaptive), authors ? "the authors'" : "the true");
    for (int d = 0; d < ndims; d++) {
        const double t0 = bench_now();
        const size_t per = (size_t)(iters + 1);
        double target[NTARGETS];
        int ntargets = 0, slider_reach[NTARGETS];
        memset(mpts, 0, (size_t)METHODS * per * sizeof *mpts);
        for (int c = 0; c < cases; c++) {
            dss_synthetic *problem = NULL;
            CHECK(dss_synthetic_create(&problem, dims[d], OUTPUT_DIM, GAMMA,
                                       (unsigned long long)c + 1));
            for (int me = 0; me < METHODS; me++) {
                if (!sel[me])
                    continue;
                if (run(problem, &methods[me], adaptive, authors, (unsigned)c + 1, iters, line,
                        best, pts, tracing ? &tr : NULL) != 0) {
                    dss_synthetic_destroy(problem);
                    goto done;
                }
                for (int i = 0; i <= iters; i++) {
                    mpts[(size_t)me * per + (size_t)i] += pts[i] / cases;
                    curves[((size_t)me * (size_t)cases + (size_t)c) * per + (size_t)i] = -best[i];
                }
            }
            dss_synthetic_destroy(problem);
        }
        for (int me = 0; me < METHODS; me++)
            for (int i = 0; sel[me] && i <= iters; i++)
                med[(size_t)me * per + (size_t)i] =
                    median_at(curves + (size_t)me * (size_t)cases * per, cases, iters, i, tmp);
        printf("\nn = %zu (%.0f s): the slider's median gap", dims[d], bench_now() - t0);
        for (int k = 0; k < NTARGETS && target_iter[k] <= iters; k++) {
            const double g = med[target_iter[k]];
            target[k] = g > GAP_FLOOR ? g : GAP_FLOOR;
            slider_reach[k] = reach(med, iters, target[k]);
            printf("%s %.4g at %d", k > 0 ? "," : "", g, target_iter[k]);
            ntargets = k + 1;
        }
        printf(" iterations; targets");
        for (int k = 0; k < ntargets; k++)
            printf("%s %.3g", k > 0 ? "," : "", target[k]);
        printf(" (at least %g)\n\n", GAP_FLOOR);
        printf("| method | points/iter | median gap @10 | @25 | @50 | @%d | solved @%d |", iters,
               iters);
        for (int k = 0; k < ntargets; k++)
            printf(" iters to slider@%d | points | x slider |", target_iter[k]);
        printf("\n|---|---|---|---|---|---|---|");
        for (int k = 0; k < ntargets; k++)
            printf("---|---|---|");
        printf("\n");
        for (int me = 0; me < METHODS; me++) {
            const double *g = med + (size_t)me * per, *p = mpts + (size_t)me * per;
            int solved = 0;
            if (!sel[me])
                continue;
            for (int c = 0; c < cases; c++)
                solved += curves[((size_t)me * (size_t)cases + (size_t)c) * per + (size_t)iters]
                          < SOLVED;
            printf("| %s | %.1f | %.3g | %.3g | %.3g | %.3g | %d/%d |", methods[me].name,
                   p[iters] / iters, g[10], g[25], iters >= 50 ? g[50] : NAN, g[iters], solved,
                   cases);
            for (int k = 0; k < ntargets; k++) {
                const int i = reach(g, iters, target[k]);
                if (i < 0)
                    printf(" > %d | - | - |", iters);
                else
                    printf(" %d | %.0f | %.2f |", i, p[i], p[i] / mpts[slider_reach[k]]);
            }
            printf("\n");
        }
        fflush(stdout);
        if (curves_file != NULL) {
            fprintf(curves_file, "%s# n = %zu, %d cases, %s policy, %s Jacobian; iteration, then "
                    "per method the median gap and the mean cumulative generator points\niter",
                    d > 0 ? "\n\n" : "", dims[d], cases, policy_name(adaptive),
                    authors ? "the authors'" : "the true");
            for (int me = 0; me < METHODS; me++)
                if (sel[me])
                    fprintf(curves_file, " %s:gap %s:points", methods[me].name, methods[me].name);
            fprintf(curves_file, "\n");
            for (int i = 0; i <= iters; i++) {
                fprintf(curves_file, "%d", i);
                for (int me = 0; me < METHODS; me++)
                    if (sel[me])
                        fprintf(curves_file, " %.6g %.1f", med[(size_t)me * per + (size_t)i],
                                mpts[(size_t)me * per + (size_t)i]);
                fprintf(curves_file, "\n");
            }
            fflush(curves_file);
        }
    }
    status = 0;
done:
    if (curves_file != NULL && fclose(curves_file) != 0) {
        fprintf(stderr, "gallery: writing %s failed\n", curves_path);
        status = 1;
    }
    dss_line_destroy(line);
    dss_line_destroy(tr.probe);
    free(best);
    free(pts);
    free(mpts);
    free(med);
    free(curves);
    free(tmp);
    return status;
usage:
    fprintf(stderr, "usage: %s [--dims LIST] [--cases K] [--iters N>=25] [--policy paper|adaptive]\n"
                    "          [--jacobian true|authors] [--methods slider,3x3,3x3r1,...,9x9r2]\n"
                    "          [--curves FILE] [--trace]\n", argv[0]);
    return 2;
}
