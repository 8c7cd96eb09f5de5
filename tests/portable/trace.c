/*
 * tests/portable/trace.c - one program, built for each machine (x86-64, i386, s390x) and run
 * under each LAPACK/BLAS, that records what a session decides, so that scripts/check-portable.sh
 * can compare machines and backends the way docs/reproducibility.md promises:
 *
 *   trace CONFIG ITERS            run ITERS steps of a simulated user from the start; print them
 *   save CONFIG ITERS FILE MORE   run ITERS steps, save the session to FILE, run MORE steps and
 *                                 print those
 *   load CONFIG FILE MORE         load FILE into a fresh session of CONFIG and print MORE steps
 *   compare A B                   compare two printed traces: the decisions (the basis indices
 *                                 shown, whether each commit was centred) exactly, the centres
 *                                 within the bound derived in docs/reproducibility.md
 *
 * One printed line per step: the step number, the basis indices shown (R for a random
 * direction), C or M (a centred commit, or one that moved the slider's centre), the slider
 * radius and the new centre, reals in C99's exact hexadecimal notation. The first line names
 * the library that provides dgemm_, so that a comparison of two backends can check that the
 * two runs really used two.
 *
 * CONFIG: 1 the paper's method (FULL Jacobian, SINGULAR sampler, l = 1);
 *         2 random directions (the format's random-direction marker);
 *         3 l = 2 with commit_w, the adaptive slider and the stall escape (the policy block);
 *         4 finite differences (central), the TOP sampler and the zoom policy.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dss/dss.h>

#define N 8
#define M 64
#define LINE_SAMPLES 33
#define MAX_STEPS 1000
/* The refinement's final bracket in t (dss.h, DSS_LINE_REFINE): two runs whose arithmetic
   rounds differently can stop anywhere in it, so one commit's t may differ by this much. */
#define REFINE_BRACKET 1e-6

typedef struct step {
    size_t idx[2];
    size_t l;
    int centred;
    double radius;
    double center[N];
} step;

typedef struct run {
    dss_synthetic *problem;
    dss_search *search;
    dss_line *line;
    int config;
} run;

static int fail(const char *what, int rc)
{
    fprintf(stderr, "trace: %s: %s\n", what, dss_strerror(rc));
    return 1;
}

static int configure(run *r, int config)
{
    dss_search *s = r->search;
    int rc = DSS_OK;
    r->config = config;
    if (rc == DSS_OK) rc = dss_search_set(s, DSS_SEARCH_PRIOR, DSS_PRIOR_BOX);
    if (rc == DSS_OK) rc = dss_search_set(s, DSS_SEARCH_PRIOR_SCALE, DSS_SYNTHETIC_BOX);
    if (rc == DSS_OK) rc = dss_search_set(s, DSS_SEARCH_SEED, 11);
    switch (config) {
    case 1:
        if (rc == DSS_OK) rc = dss_search_set(s, DSS_SEARCH_JACOBIAN, DSS_JACOBIAN_FULL);
        break;
    case 2:
        if (rc == DSS_OK) rc = dss_search_set(s, DSS_SEARCH_SAMPLER, DSS_SAMPLER_RANDOM);
        break;
    case 3:
        if (rc == DSS_OK) rc = dss_search_set(s, DSS_SEARCH_SUBSPACE_DIM, 2);
        if (rc == DSS_OK) rc = dss_search_set(s, DSS_SEARCH_RADIUS_POLICY, DSS_RADIUS_ADAPTIVE);
        if (rc == DSS_OK) rc = dss_search_set(s, DSS_SEARCH_STALL_COMMITS, 4);
        break;
    case 4:
        if (rc == DSS_OK) rc = dss_search_set(s, DSS_SEARCH_JACOBIAN, DSS_JACOBIAN_FINITE_DIFF);
        if (rc == DSS_OK) rc = dss_search_set(s, DSS_SEARCH_DIFF_SCHEME, DSS_DIFF_CENTRAL);
        if (rc == DSS_OK) rc = dss_search_set(s, DSS_SEARCH_SAMPLER, DSS_SAMPLER_TOP);
        if (rc == DSS_OK) rc = dss_search_set(s, DSS_SEARCH_RADIUS_POLICY, DSS_RADIUS_ZOOM);
        break;
    default:
        return DSS_EINVAL;
    }
    return rc;
}

static int open_run(run *r, int config)
{
    int rc;
    memset(r, 0, sizeof *r);
    if ((rc = dss_synthetic_create(&r->problem, N, M, 2.0, 5)) != DSS_OK
        || (rc = dss_search_create(&r->search, dss_synthetic_model(r->problem))) != DSS_OK
        || (rc = dss_line_create(&r->line)) != DSS_OK
        || (rc = dss_line_set(r->line, DSS_LINE_SAMPLES, LINE_SAMPLES)) != DSS_OK
        || (rc = dss_line_set(r->line, DSS_LINE_REFINE, 2)) != DSS_OK)
        return rc;
    return configure(r, config);
}

static void close_run(run *r)
{
    dss_line_destroy(r->line);
    dss_search_destroy(r->search);
    dss_synthetic_destroy(r->problem);
}

/* l = 2: the best of a 5 x 5 grid of weights, scored through the model (ties: the first). */
static int choose_w(run *r, double *w_best)
{
    const dss_model *model = dss_synthetic_model(r->problem);
    double z[N], x[M], w[2], score, best = -INFINITY;
    int rc;
    for (int i = 0; i < 5; i++)
        for (int j = 0; j < 5; j++) {
            w[0] = -1.0 + 0.5 * i;
            w[1] = -1.0 + 0.5 * j;
            if ((rc = dss_search_point_w(r->search, w, z)) != DSS_OK
                || (rc = dss_model_generate(model, 1, z, x)) != DSS_OK
                || (rc = dss_synthetic_score(r->problem, 1, x, &score)) != DSS_OK)
                return rc;
            if (score > best) {
                best = score;
                w_best[0] = w[0];
                w_best[1] = w[1];
            }
        }
    return DSS_OK;
}

/* One step of the simulated user; *st records it. */
static int one_step(run *r, step *st)
{
    double t, score, w[2];
    int rc;
    st->l = dss_search_subspace_dim(r->search);
    if (st->l > 2)
        return DSS_EINVAL;
    if ((rc = dss_search_basis_indices(r->search, st->idx)) != DSS_OK
        || (rc = dss_search_slider_radius(r->search, &st->radius)) != DSS_OK)
        return rc;
    if (st->l == 1) {
        if ((rc = dss_search_find_optimal(r->line, r->search, dss_synthetic_score, r->problem, &t,
                                          &score)) != DSS_OK)
            return rc;
        st->centred = fabs(t - 0.5) <= 0.05;
        rc = dss_search_commit(r->search, t);
    } else {
        if ((rc = choose_w(r, w)) != DSS_OK)
            return rc;
        st->centred = fmax(fabs(w[0]), fabs(w[1])) <= 0.1;
        rc = dss_search_commit_w(r->search, w);
    }
    if (rc == DSS_OK)
        rc = dss_search_center(r->search, st->center);
    return rc;
}

static const char *blas_library(void)
{
    Dl_info info;
    void *sym = dlsym(RTLD_DEFAULT, "dgemm_");
    if (sym != NULL && dladdr(sym, &info) != 0 && info.dli_fname != NULL)
        return info.dli_fname;
    return "unknown";
}

static void print_step(int i, const step *st)
{
    printf("%d", i);
    for (size_t k = 0; k < st->l; k++) {
        if (st->idx[k] == (size_t)-1)
            printf(" R");
        else
            printf(" %zu", st->idx[k]);
    }
    printf(" %c %a", st->centred ? 'C' : 'M', st->radius);
    for (int j = 0; j < N; j++)
        printf(" %a", st->center[j]);
    printf("\n");
}

static int steps(run *r, int from, int count, int print)
{
    for (int i = from; i < from + count; i++) {
        step st;
        int rc = one_step(r, &st);
        if (rc != DSS_OK)
            return fail("step", rc);
        if (print)
            print_step(i, &st);
    }
    return 0;
}

static int start(run *r)
{
    double z0[N];
    int rc = dss_synthetic_initial_point(r->problem, z0);
    if (rc == DSS_OK)
        rc = dss_search_start(r->search, z0);
    return rc;
}

/* ---- compare ---------------------------------------------------------------------------- */

typedef struct parsed {
    char decision[64]; /* the indices and C/M, as printed */
    double radius;
    double center[N];
} parsed;

static int parse_line(char *line, parsed *p)
{
    char *tok, *save = NULL;
    size_t used = 0;
    int k = 0;
    p->decision[0] = '\0';
    tok = strtok_r(line, " \n", &save); /* the step number */
    while ((tok = strtok_r(NULL, " \n", &save)) != NULL) {
        if (strcmp(tok, "C") == 0 || strcmp(tok, "M") == 0) {
            used += (size_t)snprintf(p->decision + used, sizeof p->decision - used, "%s", tok);
            break;
        }
        used += (size_t)snprintf(p->decision + used, sizeof p->decision - used, "%s ", tok);
    }
    if (tok == NULL || (tok = strtok_r(NULL, " \n", &save)) == NULL)
        return -1;
    p->radius = strtod(tok, NULL);
    while (k < N && (tok = strtok_r(NULL, " \n", &save)) != NULL)
        p->center[k++] = strtod(tok, NULL);
    return k == N ? 0 : -1;
}

/* Decisions exactly; centres within 2 r REFINE_BRACKET per step so far (the derivation is in
   docs/reproducibility.md): a commit's t may differ by the bracket, the centre by 2 r times
   that, and the method does not amplify such differences (measured: it contracts them). */
static int compare(const char *fa, const char *fb)
{
    FILE *a = fopen(fa, "r"), *b = fopen(fb, "r");
    char la[4096], lb[4096];
    double worst = 0.0, bound = 0.0;
    int steps_seen = 0, rc = 1;
    if (a == NULL || b == NULL) {
        fprintf(stderr, "trace: cannot open %s\n", a == NULL ? fa : fb);
        goto done;
    }
    if (fgets(la, sizeof la, a) == NULL || fgets(lb, sizeof lb, b) == NULL) { /* library lines */
        fprintf(stderr, "trace: empty trace\n");
        goto done;
    }
    for (;;) {
        char *ra = fgets(la, sizeof la, a), *rb = fgets(lb, sizeof lb, b);
        parsed pa, pb;
        if (ra == NULL || rb == NULL) {
            if (ra != rb) {
                fprintf(stderr, "trace: %s and %s have different lengths\n", fa, fb);
                goto done;
            }
            break;
        }
        if (parse_line(la, &pa) != 0 || parse_line(lb, &pb) != 0) {
            fprintf(stderr, "trace: malformed line %d\n", steps_seen);
            goto done;
        }
        if (strcmp(pa.decision, pb.decision) != 0) {
            fprintf(stderr, "trace: step %d: decisions differ: %s | %s\n", steps_seen,
                    pa.decision, pb.decision);
            goto done;
        }
        bound += 2.0 * pa.radius * REFINE_BRACKET;
        for (int j = 0; j < N; j++) {
            double d = fabs(pa.center[j] - pb.center[j]);
            if (!(d <= bound)) {
                fprintf(stderr, "trace: step %d: centres differ by %.3g > bound %.3g\n",
                        steps_seen, d, bound);
                goto done;
            }
            worst = fmax(worst, d / pa.radius);
        }
        steps_seen++;
    }
    if (steps_seen == 0) {
        fprintf(stderr, "trace: no steps to compare\n");
        goto done;
    }
    printf("%d steps, same decisions, largest centre difference %.2g r (bound %.2g r after "
           "%d steps)\n", steps_seen, worst, 2.0 * REFINE_BRACKET * steps_seen, steps_seen);
    rc = 0;
done:
    if (a != NULL) fclose(a);
    if (b != NULL) fclose(b);
    return rc;
}

/* ---- main ------------------------------------------------------------------------------- */

static int usage(void)
{
    fprintf(stderr, "usage: trace trace CONFIG ITERS | save CONFIG ITERS FILE MORE | "
                    "load CONFIG FILE MORE | compare A B\n");
    return 2;
}

static int count_arg(const char *s, int *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (*end != '\0' || v < 0 || v > MAX_STEPS)
        return -1;
    *out = (int)v;
    return 0;
}

static int write_file(const char *path, const void *buf, size_t len)
{
    FILE *f = fopen(path, "wb");
    int ok = f != NULL && fwrite(buf, 1, len, f) == len;
    if (f != NULL && fclose(f) != 0)
        ok = 0;
    return ok ? 0 : -1;
}

static unsigned char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    unsigned char *buf = NULL;
    long size;
    if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0
        || fseek(f, 0, SEEK_SET) != 0 || (buf = malloc((size_t)size + 1)) == NULL
        || fread(buf, 1, (size_t)size, f) != (size_t)size) {
        free(buf);
        buf = NULL;
    }
    if (f != NULL)
        fclose(f);
    *len = (size_t)(size > 0 ? size : 0);
    return buf;
}

int main(int argc, char **argv)
{
    run r;
    int config, iters, more, rc;
    if (argc == 4 && strcmp(argv[1], "compare") == 0)
        return compare(argv[2], argv[3]);
    if (argc < 4 || count_arg(argv[2], &config) != 0)
        return usage();
    if ((rc = open_run(&r, config)) != DSS_OK) {
        close_run(&r);
        return fail("configure", rc);
    }
    printf("# %s\n", blas_library());
    if (strcmp(argv[1], "trace") == 0 && argc == 4 && count_arg(argv[3], &iters) == 0) {
        rc = start(&r) != DSS_OK ? fail("start", DSS_EINVAL) : steps(&r, 0, iters, 1);
    } else if (strcmp(argv[1], "save") == 0 && argc == 6 && count_arg(argv[3], &iters) == 0
               && count_arg(argv[5], &more) == 0) {
        size_t len;
        unsigned char *buf = NULL;
        rc = start(&r) != DSS_OK || steps(&r, 0, iters, 0) != 0
             || dss_search_save(r.search, NULL, 0, &len) != DSS_OK
             || (buf = malloc(len)) == NULL
             || dss_search_save(r.search, buf, len, &len) != DSS_OK
             || write_file(argv[4], buf, len) != 0;
        free(buf);
        if (rc)
            fprintf(stderr, "trace: could not run and save to %s\n", argv[4]);
        else
            rc = steps(&r, iters, more, 1);
    } else if (strcmp(argv[1], "load") == 0 && argc == 5 && count_arg(argv[4], &more) == 0) {
        size_t len;
        unsigned char *buf = read_file(argv[3], &len);
        int lrc = buf == NULL ? DSS_EINVAL : dss_search_load(r.search, buf, len);
        free(buf);
        rc = lrc != DSS_OK ? fail("load", lrc) : steps(&r, 0, more, 1);
    } else {
        rc = usage();
    }
    close_run(&r);
    return rc;
}
