/*
 * quickstart.c - the smallest useful libdss host program.
 *
 * A host owns a generator f: R^n -> R^m (here a tiny fixed nonlinear map, n = 8, m = 16) and,
 * ideally, its Jacobian. libdss decides which 1-D slice of the latent space to show next and
 * where a slider position lands. A real host shows the slider to a person; this program
 * simulates the person with dss_line, which scans the slider and keeps the position that scores
 * best under a preference the "user" has in mind (closeness to a hidden target output).
 *
 * Build against an installed libdss:
 *     cc -std=c11 quickstart.c -o quickstart $(pkg-config --cflags --libs dss) -lm
 * Run:
 *     ./quickstart            20 iterations
 *     ./quickstart --smoke    3 iterations (what `make check` runs)
 *
 * Copyright (c) 2026 the libdss authors. MIT licence, see LICENSE.
 */
#include <dss/dss.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#define N 8   /* latent dimension */
#define M 16  /* output dimension */

/* ---- the host's generator: x_i = tanh(sum_j W_ij z_j), W fixed ---------------------------- */

typedef struct toy {
    double w[M][N];
} toy;

static void toy_init(toy *t)
{
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++)
            t->w[i][j] = 0.6 * sin(1.0 + 0.37 * i * i + 1.91 * j + 0.53 * i * j); /* full rank */
}

/* dss_generate_fn: k latent vectors (k x N) -> k outputs (k x M). */
static int toy_generate(void *user, size_t k, const double *z, double *x)
{
    const toy *t = user;
    for (size_t p = 0; p < k; p++)
        for (int i = 0; i < M; i++) {
            double a = 0.0;
            for (int j = 0; j < N; j++)
                a += t->w[i][j] * z[p * N + (size_t)j];
            x[p * M + (size_t)i] = tanh(a);
        }
    return 0;
}

/* dss_jacobian_fn: rows of J = df/dz at z; rows == NULL means all M rows in order. */
static int toy_jacobian(void *user, const double *z, size_t nrows, const size_t *rows,
                        double *out)
{
    const toy *t = user;
    for (size_t r = 0; r < nrows; r++) {
        size_t i = rows ? rows[r] : r;
        double a = 0.0;
        for (int j = 0; j < N; j++)
            a += t->w[i][j] * z[j];
        double d = 1.0 - tanh(a) * tanh(a); /* tanh' */
        for (int j = 0; j < N; j++)
            out[r * N + (size_t)j] = d * t->w[i][j];
    }
    return 0;
}

/* ---- the simulated user's preference: be close to a target output (maximum 0) ------------- */

typedef struct preference {
    double target[M];
} preference;

/* dss_score_fn: k outputs (k x M) -> k scores. */
static int closeness(void *user, size_t k, const double *x, double *score)
{
    const preference *p = user;
    for (size_t q = 0; q < k; q++) {
        double s = 0.0;
        for (int i = 0; i < M; i++) {
            double d = x[q * M + (size_t)i] - p->target[i];
            s += d * d;
        }
        score[q] = -s;
    }
    return 0;
}

/* Print the failing call and dss_strerror's sentence, then go to the cleanup path. */
#define CHECK(call)                                                                     \
    do {                                                                                \
        int rc_ = (call);                                                               \
        if (rc_ != DSS_OK) {                                                            \
            fprintf(stderr, "quickstart: %s failed: %s (%d)\n", #call, dss_strerror(rc_), \
                    rc_);                                                               \
            goto done;                                                                  \
        }                                                                               \
    } while (0)

int main(int argc, char **argv)
{
    int iterations = 20;
    for (int a = 1; a < argc; a++) {
        if (strcmp(argv[a], "--smoke") == 0) {
            iterations = 3;
        } else {
            fprintf(stderr, "usage: %s [--smoke]\n", argv[0]);
            return 2;
        }
    }

    int status = 1;
    toy gen;
    preference user;
    dss_model *model = NULL;
    dss_search *search = NULL;
    dss_line *line = NULL;
    double z[N], x[M], score = 0.0, t = 0.5;

    toy_init(&gen);
    /* The hidden target: what the generator makes at some latent point the user cannot see. */
    for (int j = 0; j < N; j++)
        z[j] = 0.8 * cos(2.0 * j);
    if (toy_generate(&gen, 1, z, user.target) != 0)
        return 1;

    printf("libdss %s: n = %d latent dims, m = %d outputs\n", dss_version_string(), N, M);

    /* 1. Wrap the generator and its Jacobian in a model. */
    CHECK(dss_model_create(&model, N, M, toy_generate, &gen));
    CHECK(dss_model_set_jacobian(model, toy_jacobian));

    /* 2. A search session: the default prior is N(0, I), which sets the slider's radius. */
    CHECK(dss_search_create(&search, model));
    CHECK(dss_search_set(search, DSS_SEARCH_SEED, 1));
    for (int j = 0; j < N; j++)
        z[j] = 0.0; /* start at the origin */
    CHECK(dss_search_start(search, z));

    /* What the session computed: the singular values of J at the start (strong directions
       first); slider directions are drawn with probability proportional to them. */
    double sv[N];
    CHECK(dss_search_singular_values(search, sv, N));
    printf("singular values of J at the start:");
    for (size_t i = 0; i < dss_search_rank(search); i++)
        printf(" %.2f", sv[i]);
    printf("\n");

    /* 3. The simulated user: a coarse grid of 51 slider positions, refined around the best. */
    CHECK(dss_line_create(&line));
    CHECK(dss_line_set(line, DSS_LINE_SAMPLES, 51));
    CHECK(dss_line_set(line, DSS_LINE_REFINE, 1));

    CHECK(dss_model_generate(model, 1, z, x));
    (void)closeness(&user, 1, x, &score); /* our own score: it cannot fail */
    printf("start     score %10.6f   (best possible: 0)\n", score);

    /* 4. The loop a host runs: show the slider, let the user pick t, commit it. A real UI calls
       dss_search_point(search, t, z) as the slider moves and shows f(z); here dss_line scans
       the slider and picks the best t for the simulated user. */
    for (int it = 1; it <= iterations; it++) {
        size_t dir; /* which right-singular vector the slider follows (0 = strongest) */
        CHECK(dss_search_basis_indices(search, &dir));
        CHECK(dss_search_find_optimal(line, search, closeness, &user, &t, &score));
        CHECK(dss_search_commit(search, t));  /* move the centre, draw a new direction */
        printf("iter %3d  score %10.6f   slider along v_%zu, released at t = %.3f\n", it, score,
               dir, t);
    }

    /* The centre is the user's current favourite. */
    CHECK(dss_search_center(search, z));
    CHECK(dss_model_generate(model, 1, z, x));
    (void)closeness(&user, 1, x, &score); /* our own score: it cannot fail */
    printf("final     score %10.6f   at z = (%.2f, %.2f, ...)\n", score, z[0], z[1]);
    status = 0;

done:
    dss_line_destroy(line);
    dss_search_destroy(search);
    dss_model_destroy(model);
    return status;
}
