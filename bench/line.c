/*
 * bench/line.c - economical line search: a coarse grid plus DSS_LINE_REFINE against the
 * authors' 10001-point grid, and the library's own overhead per grid point.
 *
 * Part 1 (issue 3, section 3). On dss_synthetic (m = 1024, gamma = 2, n = 32 and n = 128) a
 * DSS session (DSS_SAMPLER_SINGULAR, box prior of half-width DSS_SYNTHETIC_BOX, so the slider
 * radius is 0.2 x the mean distance of two box points) walks from the authors' initial point:
 * at every step its current slider is one test line, the authors' 10001-point grid finds that
 * line's reference score, and the session commits at the reference optimum, so that the centres
 * vary (from the start to well inside the basin). Lines come from several problem seeds. Each
 * line is then searched by a coarse grid of S points alone (DSS_LINE_REFINE = 0), with
 * DSS_LINE_REFINE = 1 (Brent's method in the best grid point's bracket) and with
 * DSS_LINE_REFINE = 2 (the same in the brackets of the grid's 3 best local maxima). A line is a
 * success when the refined score is >= the reference score - 1e-9. For every S and refinement
 * the program prints the success rate (all lines, and the lines whose reference optimum is off
 * the slider's centre), the generator points per line (dss_line_evaluations), the calls of f,
 * and, for the failures, how often the 10001-grid optimum lies outside every bracket the
 * refinement searched ("outside the brackets": the grid pointed the refinement at the wrong
 * peaks). The brackets are recomputed here from the grid's scores with the library's rule
 * (docs/algorithm.md, "Refinement"); the local maxima of each reference grid are counted with
 * the same rule. The target lines at the end name the cheapest setting that reaches 95 % at
 * both n and the best one within 100 points per line.
 *
 * Part 2 (issue 3, section 3, second target). Library overhead per grid point: a no-op
 * generator (m = 1, writes a zero) and a no-op score at n = 512, 10001 points, batches of 500.
 * dss_find_optimal's time against the time of writing 10001 x 512 doubles to memory (memset,
 * and a loop writing the segment's points), medians of repeated runs in the same process.
 *
 *     build/bench/line [--lines L] [--seeds K] [--dims LIST] [--reps R] [--quick] [--overhead]
 *                      [--help]
 *
 * Copyright (c) 2026 the libdss authors. MIT licence, see LICENSE.
 */
#include "common.h" /* first: it sets _POSIX_C_SOURCE */

#include <dss/dss.h>

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OUTPUT_DIM   1024
#define GAMMA        2.0
#define REF_SAMPLES  10001
#define TOLERANCE    1e-9
#define OVERHEAD_N   512
#define OVERHEAD_PTS 10001

#define MAX_DIMS 4 /* latent dimensions per run (--dims) */
static const int coarse[] = { 5, 9, 17, 33, 49, 65, 101, 201 };
#define N_COARSE ((int)(sizeof coarse / sizeof coarse[0]))

typedef struct options {
    int lines; /* test lines per latent dimension */
    int seeds; /* problem seeds the lines are spread over */
    int reps;  /* timing repetitions for part 2 */
    int parts; /* bit 0: part 1, bit 1: part 2 */
    int ndims; /* latent dimensions of part 1, default 32 and 128 */
    size_t dims[MAX_DIMS];
} options;

#define REFINES     2 /* DSS_LINE_REFINE = 1 and 2 */
#define GRID_PEAKS  3 /* local maxima of the grid that DSS_LINE_REFINE = 2 refines */
#define MAX_COARSE  201

/* One refinement setting at one coarse-grid size: totals over the lines of one n. */
typedef struct refined {
    int ok, ok_moving;
    int outside;           /* failures whose reference optimum lies outside every bracket */
    double evals, calls;   /* generator points (dss_line_evaluations) and calls of f */
    double shortfall_sum;  /* sum of (reference - refined) over failures */
    double seconds;        /* wall time of the refined searches */
} refined;

/* Per coarse-grid size: totals over the lines of one n. */
typedef struct tally {
    int ok_grid;
    int moving;            /* lines whose reference optimum is off the centre t = 0.5 */
    double evals_grid;
    refined r[REFINES];    /* r[k]: DSS_LINE_REFINE = k + 1 */
} tally;

static void usage(FILE *out, const char *prog)
{
    fprintf(out,
            "usage: %s [--lines L] [--seeds K] [--dims LIST] [--reps R] [--quick] [--overhead]\n"
            "          [--help]\n"
            "Coarse grid + DSS_LINE_REFINE = 1 and 2 against the authors' %d-point grid on\n"
            "dss_synthetic (m = %d, gamma = %g, n = 32 and 128), then the library's overhead\n"
            "per grid point.\n"
            "  --lines L    test lines per latent dimension, default 200\n"
            "  --seeds K    problem seeds the lines are spread over, default 4\n"
            "  --dims LIST  comma-separated latent dimensions (at most %d), default 32,128\n"
            "  --reps R     timing repetitions of the overhead measurement (median), default 31\n"
            "  --quick      40 lines, 2 seeds, 7 repetitions\n"
            "  --overhead   only the overhead measurement (part 2)\n",
            prog, REF_SAMPLES, OUTPUT_DIM, GAMMA, MAX_DIMS);
}

static int parse_count(const char *s, int lo)
{
    char *end;
    long v;
    errno = 0;
    v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < lo || v > INT_MAX / 4)
        return -1;
    return (int)v;
}

/* A comma-separated list of 1 to MAX_DIMS latent dimensions. */
static int parse_dims(const char *s, options *o)
{
    return bench_parse_sizes(s, o->dims, MAX_DIMS, 4096, &o->ndims);
}

#define CHECK(call) BENCH_CHECK("line", call)

/* ---- part 1: coarse grid + refinement against the 10001-point grid ------------------------ */

/*
 * The synthetic score, counting the local maxima of the sequence of scores it returns (one line's
 * grid, in order, over several batches) by the library's rule: a point strictly better than its
 * left neighbour and at least as good as its right one; an end needs only its one neighbour.
 */
typedef struct peak_counter {
    const dss_synthetic *problem;
    size_t index, peaks;
    double prev;
    int rising; /* is the previous point strictly better than the one before it (or the first)? */
} peak_counter;

static int counting_score(void *user, size_t k, const double *x, double *score)
{
    peak_counter *pc = user;
    int rc = dss_synthetic_score((void *)pc->problem, k, x, score);
    if (rc != 0)
        return rc;
    for (size_t i = 0; i < k; i++, pc->index++) {
        if (pc->index > 0) {
            pc->peaks += pc->rising && !(score[i] > pc->prev);
            pc->rising = score[i] > pc->prev;
        }
        pc->prev = score[i];
    }
    return 0;
}

/*
 * Collect `count` lines for one problem: the slider ends of a DSS session that commits at the
 * reference optimum after each line. ends receives count x 2n doubles (lo then hi), ref_t and
 * ref_s the reference optimum of each line; *peaks is increased by the number of local maxima
 * of each line's reference grid.
 */
static int collect_lines(const dss_synthetic *problem, unsigned seed, int count, dss_line *ref,
                         double *ends, double *ref_t, double *ref_s, double *peaks)
{
    const dss_model *model = dss_synthetic_model(problem);
    const size_t n = dss_model_latent_dim(model);
    dss_search *search = NULL;
    double *z0 = malloc(n * sizeof *z0);
    int status = -1;

    if (z0 == NULL) {
        fprintf(stderr, "line: out of memory\n");
        return -1;
    }
    CHECK(dss_search_create(&search, model));
    CHECK(dss_search_set(search, DSS_SEARCH_PRIOR, DSS_PRIOR_BOX));
    CHECK(dss_search_set(search, DSS_SEARCH_PRIOR_SCALE, DSS_SYNTHETIC_BOX));
    CHECK(dss_search_set(search, DSS_SEARCH_SAMPLER, DSS_SAMPLER_SINGULAR));
    CHECK(dss_search_set(search, DSS_SEARCH_SEED, seed));
    CHECK(dss_synthetic_initial_point(problem, z0));
    CHECK(dss_search_start(search, z0));
    for (int i = 0; i < count; i++) {
        double *lo = ends + (size_t)i * 2 * n, *hi = lo + n;
        peak_counter pc = { problem, 0, 0, 0.0, 1 };
        CHECK(dss_search_slider_ends(search, lo, hi));
        CHECK(dss_find_optimal(ref, model, lo, hi, counting_score, &pc, &ref_t[i], &ref_s[i]));
        *peaks += (double)(pc.peaks + (pc.index > 0 && pc.rising)); /* the last point */
        CHECK(dss_search_commit(search, ref_t[i]));
    }
    status = 0;
done:
    dss_search_destroy(search);
    free(z0);
    return status;
}

/* A model that forwards to the synthetic one and counts the calls of f. */
typedef struct counted {
    const dss_model *inner;
    size_t calls;
} counted;

static int counted_generate(void *user, size_t k, const double *z, double *x)
{
    counted *c = user;
    c->calls++;
    return dss_model_generate(c->inner, k, z, x) == DSS_OK ? 0 : -1;
}

/* The synthetic score, recording the scores it returns (in call order) while rec != NULL. */
typedef struct recorder {
    const dss_synthetic *problem;
    double *rec;
    size_t len, cap;
} recorder;

static int recording_score(void *user, size_t k, const double *x, double *score)
{
    recorder *r = user;
    int rc = dss_synthetic_score((void *)r->problem, k, x, score);
    if (rc == 0 && r->rec != NULL)
        for (size_t i = 0; i < k && r->len < r->cap; i++)
            r->rec[r->len++] = score[i];
    return rc;
}

/*
 * The grid points whose brackets DSS_LINE_REFINE = 2 refines, by the library's rule
 * (lib/line.c, docs/algorithm.md): the GRID_PEAKS best local maxima of the grid scores s[0..S-1]
 * (strictly better than the left neighbour, at least as good as the right one; an end needs only
 * its one neighbour), best first, ties to the lowest index. Returns their count.
 */
static int grid_peaks(const double *s, int count, int *peak)
{
    double ps[GRID_PEAKS];
    int np = 0;
    for (int i = 0; i < count; i++) {
        int pos;
        if ((i > 0 && !(s[i] > s[i - 1])) || (i + 1 < count && s[i] < s[i + 1]))
            continue;
        for (pos = np; pos > 0 && s[i] > ps[pos - 1]; pos--)
            ;
        if (pos >= GRID_PEAKS)
            continue;
        if (np < GRID_PEAKS)
            np++;
        for (int k = np - 1; k > pos; k--) {
            peak[k] = peak[k - 1];
            ps[k] = ps[k - 1];
        }
        peak[pos] = i;
        ps[pos] = s[i];
    }
    return np;
}

/* Run every coarse size on one line, grid alone and with both refinements; add to the tallies. */
static int score_line(const dss_synthetic *problem, const double *lo, const double *hi,
                      double t_ref, double s_ref, dss_line *line, tally *tl)
{
    counted cnt = { dss_synthetic_model(problem), 0 };
    double grid_scores[MAX_COARSE];
    recorder rs = { problem, NULL, 0, MAX_COARSE };
    dss_model *model = NULL;
    int status = -1;
    CHECK(dss_model_create(&model, dss_model_latent_dim(cnt.inner),
                           dss_model_output_dim(cnt.inner), counted_generate, &cnt));
    for (int k = 0; k < N_COARSE; k++) {
        const double cell = 1.0 / (double)(coarse[k] - 1);
        double t_grid, s_grid;
        int peak[GRID_PEAKS], npeaks;
        CHECK(dss_line_set(line, DSS_LINE_SAMPLES, coarse[k]));
        CHECK(dss_line_set(line, DSS_LINE_REFINE, 0));
        /* the grid alone (one batch: S <= 500), its scores recorded in grid order */
        rs.rec = grid_scores;
        rs.len = 0;
        CHECK(dss_find_optimal(line, model, lo, hi, recording_score, &rs, &t_grid, &s_grid));
        rs.rec = NULL;
        if (rs.len != (size_t)coarse[k]) {
            fprintf(stderr, "line: the grid scored %zu points, expected %d\n", rs.len, coarse[k]);
            goto done;
        }
        npeaks = grid_peaks(grid_scores, coarse[k], peak);
        if (npeaks < 1 || fabs((double)peak[0] * cell - t_grid) > 1e-12) {
            fprintf(stderr, "line: the grid's best point is not its first peak\n");
            goto done;
        }
        tl[k].evals_grid += (double)dss_line_evaluations(line);
        tl[k].ok_grid += s_grid >= s_ref - TOLERANCE;
        tl[k].moving += t_ref != 0.5;
        for (int r = 0; r < REFINES; r++) {
            refined *rf = &tl[k].r[r];
            const int brackets = r == 0 ? 1 : npeaks;
            double t_refine, s_refine, t0;
            int inside = 0;
            CHECK(dss_line_set(line, DSS_LINE_REFINE, r + 1));
            cnt.calls = 0;
            t0 = bench_now();
            CHECK(dss_find_optimal(line, model, lo, hi, recording_score, &rs, &t_refine,
                                   &s_refine));
            rf->seconds += bench_now() - t0;
            rf->calls += (double)cnt.calls;
            rf->evals += (double)dss_line_evaluations(line);
            if (s_refine >= s_ref - TOLERANCE) {
                rf->ok++;
                rf->ok_moving += t_ref != 0.5;
                continue;
            }
            rf->shortfall_sum += s_ref - s_refine;
            /* the refinement searched [t_p - cell, t_p + cell] for each refined peak t_p */
            for (int p = 0; p < brackets; p++)
                inside |= fabs(t_ref - (double)peak[p] * cell) <= cell * (1.0 + 1e-12);
            rf->outside += !inside;
        }
    }
    status = 0;
done:
    dss_model_destroy(model);
    return status;
}

/* One table: the coarse grid with DSS_LINE_REFINE = r + 1, all sizes, at one n. */
static void print_table(const tally *tl, int r, int lines)
{
    printf("DSS_LINE_REFINE = %d (%s):\n\n", r + 1,
           r == 0 ? "Brent's method in the best grid point's bracket"
                  : "Brent's method in the brackets of the grid's 3 best local maxima");
    printf("| S (grid) | points/line | %% of 10001 | f calls/line | success "
           "| success, lines off centre | success, grid only | failures outside the bracket%s "
           "| mean shortfall | ms/line |\n"
           "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n", r == 0 ? "" : "s");
    for (int k = 0; k < N_COARSE; k++) {
        const refined *rf = &tl[k].r[r];
        const int fail = lines - rf->ok;
        const double per_line = rf->evals / lines;
        printf("| %d | %.1f | %.2f %% | %.1f | %.1f %% | %.1f %% (%d) | %.1f %% | %d/%d "
               "| %.3g | %.2f |\n",
               coarse[k], per_line, 100.0 * per_line / REF_SAMPLES, rf->calls / lines,
               100.0 * rf->ok / lines,
               tl[k].moving > 0 ? 100.0 * rf->ok_moving / tl[k].moving : 100.0, tl[k].moving,
               100.0 * tl[k].ok_grid / lines, rf->outside, fail,
               fail > 0 ? rf->shortfall_sum / fail : 0.0, 1e3 * rf->seconds / lines);
    }
    printf("\n");
}

/* The target (>= 95 % success with <= 100 generator points per line) for every setting, the
   cheapest setting that meets it (on all lines, and also on the lines off centre) and the best
   one (highest worst-case success within 100 points, then the fewest points). Success and
   points are the worst over the n. */
static void print_target(tally (*tl)[N_COARSE], const int *lines, int ndims)
{
    int cheap_r = -1, cheap_k = -1, off_r = -1, off_k = -1, best_r = -1, best_k = -1;
    double cheap_pts = INFINITY, off_pts = INFINITY, best_ok = -1.0, best_pts = INFINITY;
    printf("target: >= 95 %% success (at every n) with <= 100 generator points per line:\n");
    for (int r = 0; r < REFINES; r++) {
        for (int k = 0; k < N_COARSE; k++) {
            double worst = 100.0, worst_off = 100.0, pts = 0.0;
            int met;
            for (int d = 0; d < ndims; d++) {
                const refined *rf = &tl[d][k].r[r];
                const double ok = 100.0 * rf->ok / lines[d];
                const double off = tl[d][k].moving > 0
                                       ? 100.0 * rf->ok_moving / tl[d][k].moving : 100.0;
                const double p = rf->evals / lines[d];
                worst = ok < worst ? ok : worst;
                worst_off = off < worst_off ? off : worst_off;
                pts = p > pts ? p : pts;
            }
            met = worst >= 95.0 && pts <= 100.0;
            printf("  REFINE = %d, S = %3d: worst success %5.1f %% (off centre %5.1f %%), "
                   "at most %5.1f points/line -> %s\n",
                   r + 1, coarse[k], worst, worst_off, pts,
                   !met ? (pts > 100.0 ? "missed (points)" : "missed (success)")
                        : worst_off >= 95.0 ? "met (also off centre)"
                                            : "met (not off centre)");
            if (met && pts < cheap_pts) {
                cheap_pts = pts;
                cheap_r = r;
                cheap_k = k;
            }
            if (met && worst_off >= 95.0 && pts < off_pts) {
                off_pts = pts;
                off_r = r;
                off_k = k;
            }
            if (pts <= 100.0
                && (worst > best_ok + 1e-9 || (fabs(worst - best_ok) <= 1e-9 && pts < best_pts))) {
                best_ok = worst;
                best_pts = pts;
                best_r = r;
                best_k = k;
            }
        }
    }
    if (cheap_r >= 0)
        printf("cheapest setting that meets it: S = %d with DSS_LINE_REFINE = %d "
               "(%.1f points/line)\n", coarse[cheap_k], cheap_r + 1, cheap_pts);
    if (off_r >= 0)
        printf("cheapest that also reaches 95 %% on the lines off centre: S = %d with "
               "DSS_LINE_REFINE = %d (%.1f points/line)\n", coarse[off_k], off_r + 1, off_pts);
    if (best_r >= 0)
        printf("best setting within 100 points: S = %d with DSS_LINE_REFINE = %d: worst success "
               "%.1f %% with at most %.1f points/line -> target %s\n\n",
               coarse[best_k], best_r + 1, best_ok, best_pts, best_ok >= 95.0 ? "MET" : "MISSED");
    else
        printf("no setting within 100 points -> target MISSED\n\n");
}

static int part1(const options *opt)
{
    dss_line *ref = NULL, *line = NULL;
    dss_synthetic *problem = NULL;
    double *ends = NULL, *ref_t = NULL, *ref_s = NULL;
    tally tl[MAX_DIMS][N_COARSE];
    int lines[MAX_DIMS];
    int status = -1;

    printf("== Part 1: coarse grid + the library's refinement (DSS_LINE_REFINE = 1 and 2)\n"
           "   against the authors' %d-point grid. dss_synthetic, m = %d, gamma = %g; %d lines\n"
           "   per n from %d problem seed%s: DSS-sampled sliders (box prior, radius 0.2 x mean\n"
           "   box distance) along a session that commits at each line's %d-grid optimum.\n"
           "   success: refined score >= %d-grid score - %g.\n\n",
           REF_SAMPLES, OUTPUT_DIM, GAMMA, opt->lines, opt->seeds, opt->seeds == 1 ? "" : "s",
           REF_SAMPLES, REF_SAMPLES, TOLERANCE);
    memset(tl, 0, sizeof tl);
    CHECK(dss_line_create(&ref));
    CHECK(dss_line_create(&line));
    CHECK(dss_line_set(ref, DSS_LINE_SAMPLES, REF_SAMPLES));

    for (int di = 0; di < opt->ndims; di++) {
        const size_t n = opt->dims[di];
        double t_ref_total = 0.0, ref_peaks = 0.0, t0;
        int done_lines = 0;

        for (int s = 0; s < opt->seeds; s++) {
            /* split the lines as evenly as possible over the seeds */
            int count = opt->lines / opt->seeds + (s < opt->lines % opt->seeds);
            if (count == 0)
                continue;
            ends = malloc((size_t)count * 2 * n * sizeof *ends);
            ref_t = malloc((size_t)count * sizeof *ref_t);
            ref_s = malloc((size_t)count * sizeof *ref_s);
            if (ends == NULL || ref_t == NULL || ref_s == NULL) {
                fprintf(stderr, "line: out of memory\n");
                goto done;
            }
            CHECK(dss_synthetic_create(&problem, n, OUTPUT_DIM, GAMMA,
                                       1000u * n + (unsigned)s + 1));
            t0 = bench_now();
            if (collect_lines(problem, (unsigned)s + 1, count, ref, ends, ref_t, ref_s,
                              &ref_peaks) != 0)
                goto done;
            t_ref_total += bench_now() - t0;
            for (int i = 0; i < count; i++) {
                const double *lo = ends + (size_t)i * 2 * n;
                if (score_line(problem, lo, lo + n, ref_t[i], ref_s[i], line, tl[di]) != 0)
                    goto done;
            }
            done_lines += count;
            dss_synthetic_destroy(problem);
            problem = NULL;
            free(ends);
            free(ref_t);
            free(ref_s);
            ends = ref_t = ref_s = NULL;
        }
        lines[di] = done_lines;

        printf("n = %zu: %d lines, %d with the reference optimum off the centre; reference "
               "%d-point grid: %d generator points per line, %.1f ms per line; %.1f local maxima "
               "per line on that grid\n\n",
               n, done_lines, tl[di][0].moving, REF_SAMPLES, REF_SAMPLES,
               1e3 * t_ref_total / done_lines, ref_peaks / done_lines);
        for (int r = 0; r < REFINES; r++)
            print_table(tl[di], r, done_lines);
        fflush(stdout);
    }
    print_target(tl, lines, opt->ndims);
    status = 0;
done:
    dss_synthetic_destroy(problem);
    dss_line_destroy(ref);
    dss_line_destroy(line);
    free(ends);
    free(ref_t);
    free(ref_s);
    return status;
}

/* ---- part 2: overhead per grid point ------------------------------------------------------ */

static int noop_generate(void *user, size_t k, const double *z, double *x)
{
    (void)user;
    (void)z;
    memset(x, 0, k * sizeof *x); /* m = 1 */
    return 0;
}

static int noop_score(void *user, size_t k, const double *x, double *score)
{
    (void)user;
    (void)x;
    memset(score, 0, k * sizeof *score);
    return 0;
}

/* Keeps the compiler from discarding the baseline loops. */
static volatile double sink;

/* The baseline: write points first .. first + count - 1 of the pts-point grid on the segment
   lo + t dir into z (count x n), the way a careful host would (t_i hoisted, no aliasing). */
static void write_points(double *restrict z, const double *restrict lo,
                         const double *restrict dir, size_t first, size_t count, size_t pts,
                         size_t n)
{
    for (size_t i = 0; i < count; i++) {
        const double t = (double)(first + i) / (double)(pts - 1);
        double *restrict zi = z + i * n;
        for (size_t j = 0; j < n; j++)
            zi[j] = lo[j] + t * dir[j];
    }
}

#define LAYOUTS 8 /* placements of the segment ends: 0, 512, ..., 3584 bytes modulo 4096 */

static int part2(const options *opt)
{
    const size_t n = OVERHEAD_N, pts = OVERHEAD_PTS, batch = 500;
    const size_t reps = (size_t)opt->reps;
    dss_model *model = NULL;
    dss_line *line = NULL;
    /* the segment ends (2n doubles) at LAYOUTS offsets inside a page-aligned block */
    unsigned char *ends = aligned_alloc(4096, 4 * 4096);
    double *dir = malloc(n * sizeof *dir);
    double *buf = malloc(pts * n * sizeof *buf);
    double *tlib = malloc(reps * (LAYOUTS + 3) * sizeof *tlib);
    double *tset, *tloop, *tbatch, layout_med[LAYOUTS];
    double med_lib, med_set, med_loop, med_batch, lay_lo, lay_hi, t_best, s_best;
    int status = -1;

    if (ends == NULL || dir == NULL || buf == NULL || tlib == NULL) {
        fprintf(stderr, "line: out of memory\n");
        goto done;
    }
    tset = tlib + reps * LAYOUTS;
    tloop = tset + reps;
    tbatch = tloop + reps;
    for (int k = 0; k < LAYOUTS; k++) {
        double *lo = (double *)(void *)(ends + 512 * k), *hi = lo + n;
        for (size_t j = 0; j < n; j++) {
            lo[j] = -1.0 + 0.001 * (double)j;
            hi[j] = 1.0 - 0.002 * (double)j;
            dir[j] = hi[j] - lo[j];
        }
    }
    memset(buf, 0, pts * n * sizeof *buf); /* fault the pages in before timing */
    CHECK(dss_model_create(&model, n, 1, noop_generate, NULL));
    CHECK(dss_line_create(&line));
    CHECK(dss_line_set(line, DSS_LINE_SAMPLES, (double)pts));
    CHECK(dss_line_set(line, DSS_LINE_BATCH, (double)batch));

    for (size_t r = 0; r < reps; r++) {
        double t0;
        const double *lo0 = (const double *)(void *)ends;
        for (int k = 0; k < LAYOUTS; k++) {
            const double *lo = (const double *)(void *)(ends + 512 * k), *hi = lo + n;
            if (r == 0) /* warm-up */
                CHECK(dss_find_optimal(line, model, lo, hi, noop_score, NULL, &t_best, &s_best));
            t0 = bench_now();
            CHECK(dss_find_optimal(line, model, lo, hi, noop_score, NULL, &t_best, &s_best));
            tlib[(size_t)k * reps + r] = bench_now() - t0;
        }

        t0 = bench_now();
        memset(buf, 0, pts * n * sizeof *buf);
        tset[r] = bench_now() - t0;
        sink = buf[r % (pts * n)];

        /* the points themselves, z_i = lo + t_i (hi - lo), into one pts x n block */
        t0 = bench_now();
        write_points(buf, lo0, dir, 0, pts, pts, n);
        tloop[r] = bench_now() - t0;
        sink = buf[r * 7 % (pts * n)];

        /* the same points into a reused batch x n block (what a batched caller writes) */
        t0 = bench_now();
        for (size_t first = 0; first < pts; first += batch) {
            write_points(buf, lo0, dir, first, pts - first < batch ? pts - first : batch, pts, n);
            sink = buf[first % (batch * n)];
        }
        tbatch[r] = bench_now() - t0;
    }
    med_lib = bench_median(tlib, reps * LAYOUTS);
    lay_lo = INFINITY;
    lay_hi = 0.0;
    for (int k = 0; k < LAYOUTS; k++) {
        layout_med[k] = bench_median(tlib + (size_t)k * reps, reps);
        lay_lo = layout_med[k] < lay_lo ? layout_med[k] : lay_lo;
        lay_hi = layout_med[k] > lay_hi ? layout_med[k] : lay_hi;
    }
    med_set = bench_median(tset, reps);
    med_loop = bench_median(tloop, reps);
    med_batch = bench_median(tbatch, reps);

    printf("== Part 2: library overhead per grid point: no-op generator (m = 1) and no-op score,\n"
           "   n = %zu, %zu points, batches of %zu; medians of %zu runs in this process, the\n"
           "   library's over %d placements of the segment ends (offsets 0, 512, ..., 3584 bytes\n"
           "   modulo 4096: its speed depends on them).\n\n",
           n, pts, batch, reps, LAYOUTS);
    printf("| what | median time | ns per point | ratio library / this |\n"
           "|---|---:|---:|---:|\n");
    printf("| dss_find_optimal (library, callbacks no-op), all placements | %.3f ms | %.1f "
           "| 1.00 |\n", 1e3 * med_lib, 1e9 * med_lib / (double)pts);
    printf("| memset of %zu x %zu doubles (%.1f MB) | %.3f ms | %.1f | %.2f |\n", pts, n,
           (double)(pts * n * sizeof(double)) / 1e6, 1e3 * med_set, 1e9 * med_set / (double)pts,
           med_lib / med_set);
    printf("| loop writing the %zu points into one %zu x %zu block | %.3f ms | %.1f | %.2f |\n",
           pts, pts, n, 1e3 * med_loop, 1e9 * med_loop / (double)pts, med_lib / med_loop);
    printf("| loop writing them into a reused %zu x %zu batch block | %.3f ms | %.1f | %.2f |\n",
           batch, n, 1e3 * med_batch, 1e9 * med_batch / (double)pts, med_lib / med_batch);
    printf("\nlibrary per placement (ms):");
    for (int k = 0; k < LAYOUTS; k++)
        printf(" %.2f", 1e3 * layout_med[k]);
    printf("; best %.2f, worst %.2f (%.2fx the memset)\n", 1e3 * lay_lo, 1e3 * lay_hi,
           lay_hi / med_set);
    printf("\ntarget: library <= 2x the time of writing the points to memory:\n"
           "  against the loop writing the points into one block: %.2fx -> %s\n"
           "  against a memset of the same bytes (a bandwidth floor, no arithmetic): %.2fx -> %s\n"
           "  (against the cache-resident batch loop, the library's own floor: %.2fx)\n",
           med_lib / med_loop, med_lib <= 2.0 * med_loop ? "MET" : "MISSED", med_lib / med_set,
           med_lib <= 2.0 * med_set ? "MET" : "MISSED", med_lib / med_batch);
    status = 0;
done:
    dss_line_destroy(line);
    dss_model_destroy(model);
    free(ends);
    free(dir);
    free(buf);
    free(tlib);
    return status;
}

int main(int argc, char **argv)
{
    options opt = { 200, 4, 31, 3, 2, { 32, 128 } };
    double start = bench_now();

    for (int a = 1; a < argc; a++) {
        const char *arg = argv[a], *val = a + 1 < argc ? argv[a + 1] : NULL;
        int *target = NULL;
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            usage(stdout, argv[0]);
            return 0;
        } else if (strcmp(arg, "--quick") == 0) {
            opt.lines = 40;
            opt.seeds = 2;
            opt.reps = 7;
            continue;
        } else if (strcmp(arg, "--dims") == 0 && val != NULL) {
            if (parse_dims(val, &opt) != 0) {
                fprintf(stderr, "line: bad argument '%s %s'\n", arg, val);
                usage(stderr, argv[0]);
                return 2;
            }
            a++;
            continue;
        } else if (strcmp(arg, "--overhead") == 0) {
            opt.parts = 2;
            continue;
        } else if (strcmp(arg, "--lines") == 0) {
            target = &opt.lines;
        } else if (strcmp(arg, "--seeds") == 0) {
            target = &opt.seeds;
        } else if (strcmp(arg, "--reps") == 0) {
            target = &opt.reps;
        }
        if (target == NULL || val == NULL || (*target = parse_count(val, 1)) < 0) {
            fprintf(stderr, "line: bad argument '%s'%s%s\n", arg, val ? " " : "", val ? val : "");
            usage(stderr, argv[0]);
            return 2;
        }
        a++;
    }
    if (opt.seeds > opt.lines)
        opt.seeds = opt.lines;

    printf("libdss %s line-search benchmark\n\n", dss_version_string());
    fflush(stdout);
    if (((opt.parts & 1) && part1(&opt) != 0) || ((opt.parts & 2) && part2(&opt) != 0))
        return 1;
    printf("\ntotal time %.1f s\n", bench_now() - start);
    return 0;
}
