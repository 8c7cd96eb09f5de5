/* dss_model: creation and validation, accessors, callback setters, and dss_model_generate
 * (batching, finiteness checks, callback failures).
 *
 * The generator used here is a small affine map with dyadic coefficients (exact in binary), so
 * the library's outputs can be compared bit for bit with a direct evaluation. It counts its
 * calls and the largest batch it was given, and can be told to fail or to emit a non-finite
 * value on a chosen call. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <dss/dss.h>

#include "support.h"

#define N 3 /* latent dimension */
#define M 2 /* output dimension */
#define KMAX 64

typedef struct probe {
    size_t calls;        /* number of calls of f */
    size_t max_k;        /* largest k seen */
    size_t total_k;      /* sum of the k seen */
    void *seen_user;     /* user pointer of the last call */
    size_t fail_on_call; /* 1-based call that returns fail_value; 0: never */
    int fail_value;
    size_t bad_on_call;  /* 1-based call that writes bad_value into its last output; 0: never */
    double bad_value;
} probe;

typedef struct fixture {
    probe p;
    dss_model *model;
} fixture;

/* x = W z + b, with W[j][i] = (j + 1) - 0.5 i and b[j] = 0.25 (j + 1). */
static void affine(const double *z, double *x)
{
    for (size_t j = 0; j < M; j++) {
        double acc = 0.25 * (double)(j + 1);
        for (size_t i = 0; i < N; i++)
            acc += ((double)(j + 1) - 0.5 * (double)i) * z[i];
        x[j] = acc;
    }
}

static int probe_f(void *user, size_t k, const double *z, double *x)
{
    probe *p = user;
    p->calls++;
    p->total_k += k;
    p->max_k = k > p->max_k ? k : p->max_k;
    p->seen_user = user;
    if (p->fail_on_call == p->calls)
        return p->fail_value;
    for (size_t r = 0; r < k; r++)
        affine(z + r * N, x + r * M);
    if (p->bad_on_call == p->calls)
        x[k * M - 1] = p->bad_value;
    return 0;
}

static int stub_jacobian(void *user, const double *z, size_t nrows, const size_t *rows,
                         double *out)
{
    (void)user; (void)z; (void)nrows; (void)rows; (void)out;
    return 0;
}

static int stub_vjp(void *user, const double *z, size_t k, const double *u, double *out)
{
    (void)user; (void)z; (void)k; (void)u; (void)out;
    return 0;
}

static int stub_jvp(void *user, const double *z, size_t k, const double *v, double *out)
{
    (void)user; (void)z; (void)k; (void)v; (void)out;
    return 0;
}

static int setup(void **state)
{
    fixture *fx = calloc(1, sizeof *fx);
    if (fx == NULL)
        return -1;
    if (dss_model_create(&fx->model, N, M, probe_f, &fx->p) != DSS_OK) {
        free(fx);
        return -1;
    }
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    fixture *fx = *state;
    dss_model_destroy(fx->model);
    free(fx);
    return 0;
}

/* k latent points with distinct, exactly representable coordinates. */
static void fill_points(size_t k, double *z)
{
    for (size_t r = 0; r < k; r++)
        for (size_t i = 0; i < N; i++)
            z[r * N + i] = 0.125 * (double)((r * 7 + i * 3) % 17) - 1.0;
}

static void reset(probe *p)
{
    memset(p, 0, sizeof *p);
}

/* A non-NULL value that no allocator returns, to see whether a failed create clears *out. */
static dss_model *sentinel_model(void)
{
    static double cell;
    return (dss_model *)(void *)&cell;
}

/* ---- creation ------------------------------------------------------------------------------- */

static void create_rejects_a_null_out_pointer(void **state)
{
    (void)state;
    probe p = { 0 };
    assert_int_equal(dss_model_create(NULL, N, M, probe_f, &p), DSS_EINVAL);
}

static void create_rejects_a_null_generator_and_clears_out(void **state)
{
    (void)state;
    dss_model *model = sentinel_model();
    assert_int_equal(dss_model_create(&model, N, M, NULL, NULL), DSS_EINVAL);
    assert_null(model);
}

static void create_rejects_a_zero_latent_dimension(void **state)
{
    (void)state;
    probe p = { 0 };
    dss_model *model = sentinel_model();
    assert_int_equal(dss_model_create(&model, 0, M, probe_f, &p), DSS_EINVAL);
    assert_null(model);
}

static void create_rejects_a_zero_output_dimension(void **state)
{
    (void)state;
    probe p = { 0 };
    dss_model *model = sentinel_model();
    assert_int_equal(dss_model_create(&model, N, 0, probe_f, &p), DSS_EINVAL);
    assert_null(model);
}

static void create_rejects_sizes_whose_byte_count_overflows(void **state)
{
    (void)state;
    probe p = { 0 };
    const size_t big = SIZE_MAX / sizeof(double) + 1; /* big * sizeof(double) overflows */
    const size_t half = ((size_t)1 << (sizeof(size_t) * 4)); /* half * half == 2^(bits) */
    const size_t dims[][2] = {
        { SIZE_MAX, 2 }, { 2, SIZE_MAX },     /* n * m overflows */
        { half, half },                       /* n * m is exactly 2^bits: wraps to 0 */
        { big, 1 }, { 1, big },               /* n * m fits, the byte count does not */
        { big / 2 + 1, 2 }, { 3, big / 3 + 1 }
    };
    for (size_t c = 0; c < sizeof dims / sizeof dims[0]; c++) {
        dss_model *model = sentinel_model();
        int rc = dss_model_create(&model, dims[c][0], dims[c][1], probe_f, &p);
        if (rc != DSS_EINVAL)
            fail_msg("n = %zu, m = %zu: got %d, want DSS_EINVAL", dims[c][0], dims[c][1], rc);
        assert_null(model);
    }
    assert_int_equal(p.calls, 0);
}

static void create_accepts_the_smallest_dimensions(void **state)
{
    (void)state;
    probe p = { 0 };
    dss_model *model = NULL;
    assert_int_equal(dss_model_create(&model, 1, 1, probe_f, &p), DSS_OK);
    assert_non_null(model);
    assert_int_equal(dss_model_latent_dim(model), 1);
    assert_int_equal(dss_model_output_dim(model), 1);
    dss_model_destroy(model);
    assert_int_equal(p.calls, 0);
}

static void create_records_the_dimensions(void **state)
{
    fixture *fx = *state;
    assert_int_equal(dss_model_latent_dim(fx->model), N);
    assert_int_equal(dss_model_output_dim(fx->model), M);
}

static void create_does_not_call_the_generator(void **state)
{
    fixture *fx = *state;
    assert_int_equal(fx->p.calls, 0);
}

static void dimensions_of_a_null_model_are_zero(void **state)
{
    (void)state;
    assert_int_equal(dss_model_latent_dim(NULL), 0);
    assert_int_equal(dss_model_output_dim(NULL), 0);
}

static void destroy_of_null_is_a_no_op(void **state)
{
    fixture *fx = *state;
    /* Must not crash; the fixture's model stays usable. */
    dss_model_destroy(NULL);
    double z[N] = { 0.5, -1.0, 2.0 }, x[M], want[M];
    assert_int_equal(dss_model_generate(fx->model, 1, z, x), DSS_OK);
    affine(z, want);
    assert_memory_equal(x, want, sizeof x);
}

/* ---- setters ---------------------------------------------------------------------------------- */

static void setters_reject_a_null_model(void **state)
{
    (void)state;
    assert_int_equal(dss_model_set_jacobian(NULL, stub_jacobian), DSS_EINVAL);
    assert_int_equal(dss_model_set_vjp(NULL, stub_vjp), DSS_EINVAL);
    assert_int_equal(dss_model_set_jvp(NULL, stub_jvp), DSS_EINVAL);
    assert_int_equal(dss_model_set_max_batch(NULL, 4), DSS_EINVAL);
}

static void setters_accept_a_callback_and_its_removal(void **state)
{
    fixture *fx = *state;
    assert_int_equal(dss_model_set_jacobian(fx->model, stub_jacobian), DSS_OK);
    assert_int_equal(dss_model_set_jacobian(fx->model, NULL), DSS_OK);
    assert_int_equal(dss_model_set_vjp(fx->model, stub_vjp), DSS_OK);
    assert_int_equal(dss_model_set_vjp(fx->model, NULL), DSS_OK);
    assert_int_equal(dss_model_set_jvp(fx->model, stub_jvp), DSS_OK);
    assert_int_equal(dss_model_set_jvp(fx->model, NULL), DSS_OK);
    assert_int_equal(dss_model_set_max_batch(fx->model, 1), DSS_OK);
    assert_int_equal(dss_model_set_max_batch(fx->model, SIZE_MAX), DSS_OK);
    /* None of this calls f or changes the dimensions. */
    assert_int_equal(fx->p.calls, 0);
    assert_int_equal(dss_model_latent_dim(fx->model), N);
    assert_int_equal(dss_model_output_dim(fx->model), M);
}

static void max_batch_of_zero_is_rejected_and_the_old_limit_stays(void **state)
{
    fixture *fx = *state;
    double z[10 * N], x[10 * M];
    fill_points(10, z);
    assert_int_equal(dss_model_set_max_batch(fx->model, 3), DSS_OK);
    assert_int_equal(dss_model_set_max_batch(fx->model, 0), DSS_EINVAL);
    assert_int_equal(dss_model_generate(fx->model, 10, z, x), DSS_OK);
    assert_int_equal(fx->p.max_k, 3);
    assert_int_equal(fx->p.calls, 4);
}

/* ---- generate: batching ------------------------------------------------------------------------ */

static void generate_matches_a_direct_evaluation(void **state)
{
    fixture *fx = *state;
    double z[7 * N], x[7 * M], want[7 * M];
    fill_points(7, z);
    for (size_t r = 0; r < 7; r++)
        affine(z + r * N, want + r * M);
    assert_int_equal(dss_model_generate(fx->model, 7, z, x), DSS_OK);
    assert_memory_equal(x, want, sizeof x);
}

static void generate_without_a_limit_makes_one_call(void **state)
{
    fixture *fx = *state;
    double z[KMAX * N], x[KMAX * M];
    fill_points(KMAX, z);
    assert_int_equal(dss_model_generate(fx->model, KMAX, z, x), DSS_OK);
    assert_int_equal(fx->p.calls, 1);
    assert_int_equal(fx->p.max_k, KMAX);
}

static void generate_passes_the_user_pointer_to_f(void **state)
{
    fixture *fx = *state;
    double z[N] = { 1.0, 2.0, 3.0 }, x[M];
    assert_int_equal(dss_model_generate(fx->model, 1, z, x), DSS_OK);
    assert_ptr_equal(fx->p.seen_user, &fx->p);
}

static void generate_splits_work_into_batches_of_at_most_the_max_batch(void **state)
{
    fixture *fx = *state;
    /* (max batch, k): f must see at most max batch points per call, ceil(k / max) calls (the
       fewest that respect the limit), k points in all, and the outputs must be those of a
       direct evaluation, in order. */
    static const size_t cases[][2] = {
        { 1, 4 }, { 2, 4 }, { 4, 4 }, { 5, 4 }, { 3, 10 }, { 10, 10 }, { 7, 20 }, { 9, KMAX }
    };
    double z[KMAX * N], x[KMAX * M], want[KMAX * M];
    fill_points(KMAX, z);
    for (size_t r = 0; r < KMAX; r++)
        affine(z + r * N, want + r * M);
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        size_t maxb = cases[c][0], k = cases[c][1];
        reset(&fx->p);
        memset(x, 0, sizeof x);
        assert_int_equal(dss_model_set_max_batch(fx->model, maxb), DSS_OK);
        assert_int_equal(dss_model_generate(fx->model, k, z, x), DSS_OK);
        if (fx->p.max_k > maxb)
            fail_msg("max batch %zu, k %zu: f saw %zu points", maxb, k, fx->p.max_k);
        assert_int_equal(fx->p.calls, (k + maxb - 1) / maxb);
        assert_int_equal(fx->p.total_k, k);
        assert_memory_equal(x, want, k * M * sizeof(double));
    }
}

static void generate_does_not_modify_its_input(void **state)
{
    fixture *fx = *state;
    double z[5 * N], copy[5 * N], x[5 * M];
    fill_points(5, z);
    memcpy(copy, z, sizeof z);
    assert_int_equal(dss_model_set_max_batch(fx->model, 2), DSS_OK);
    assert_int_equal(dss_model_generate(fx->model, 5, z, x), DSS_OK);
    assert_memory_equal(z, copy, sizeof z);
}

/* ---- generate: validation ---------------------------------------------------------------------- */

static void generate_rejects_a_zero_count(void **state)
{
    fixture *fx = *state;
    double z[N] = { 0 }, x[M];
    assert_int_equal(dss_model_generate(fx->model, 0, z, x), DSS_EINVAL);
    assert_int_equal(fx->p.calls, 0);
}

static void generate_rejects_null_arguments(void **state)
{
    fixture *fx = *state;
    double z[N] = { 0 }, x[M];
    assert_int_equal(dss_model_generate(NULL, 1, z, x), DSS_EINVAL);
    assert_int_equal(dss_model_generate(fx->model, 1, NULL, x), DSS_EINVAL);
    assert_int_equal(dss_model_generate(fx->model, 1, z, NULL), DSS_EINVAL);
    assert_int_equal(fx->p.calls, 0);
}

static void generate_rejects_a_count_whose_size_overflows(void **state)
{
    fixture *fx = *state;
    /* The buffers are small: the library must reject the count before touching them. */
    double z[N] = { 0 }, x[M];
    const size_t counts[] = {
        SIZE_MAX / M + 1,                        /* k * m overflows */
        SIZE_MAX / N + 1,                        /* k * n overflows */
        SIZE_MAX / (N * sizeof(double)) + 1,     /* k * n * sizeof(double) overflows */
        SIZE_MAX
    };
    for (size_t c = 0; c < sizeof counts / sizeof counts[0]; c++) {
        int rc = dss_model_generate(fx->model, counts[c], z, x);
        if (rc != DSS_EINVAL)
            fail_msg("k = %zu: got %d, want DSS_EINVAL", counts[c], rc);
    }
    assert_int_equal(fx->p.calls, 0);
}

static void generate_rejects_a_nonfinite_input_without_calling_f(void **state)
{
    fixture *fx = *state;
    const double bad[] = { NAN, INFINITY, -INFINITY };
    double z[6 * N], x[6 * M];
    for (size_t limit = 0; limit < 2; limit++) {
        /* First without a batch limit, then with batches of 2: the bad value sits in the last
           point, so a library that checked batch by batch would already have called f. */
        if (limit)
            assert_int_equal(dss_model_set_max_batch(fx->model, 2), DSS_OK);
        for (size_t b = 0; b < sizeof bad / sizeof bad[0]; b++) {
            fill_points(6, z);
            z[6 * N - 1] = bad[b];
            reset(&fx->p);
            assert_int_equal(dss_model_generate(fx->model, 6, z, x), DSS_ENONFINITE);
            assert_int_equal(fx->p.calls, 0);
        }
    }
}

/* ---- generate: callback failures ---------------------------------------------------------------- */

static void generate_reports_a_nonfinite_output(void **state)
{
    fixture *fx = *state;
    const double bad[] = { NAN, INFINITY, -INFINITY };
    double z[6 * N], x[6 * M];
    fill_points(6, z);
    for (size_t b = 0; b < sizeof bad / sizeof bad[0]; b++) {
        /* In the only call, and in the last of three calls of 2 points. */
        assert_int_equal(dss_model_set_max_batch(fx->model, SIZE_MAX), DSS_OK);
        reset(&fx->p);
        fx->p.bad_on_call = 1;
        fx->p.bad_value = bad[b];
        assert_int_equal(dss_model_generate(fx->model, 6, z, x), DSS_ENONFINITE);

        assert_int_equal(dss_model_set_max_batch(fx->model, 2), DSS_OK);
        reset(&fx->p);
        fx->p.bad_on_call = 3;
        fx->p.bad_value = bad[b];
        assert_int_equal(dss_model_generate(fx->model, 6, z, x), DSS_ENONFINITE);
    }
}

static void generate_reports_a_failing_generator(void **state)
{
    fixture *fx = *state;
    const int codes[] = { 1, -1, 42, INT32_MIN };
    double z[6 * N], x[6 * M];
    fill_points(6, z);
    for (size_t c = 0; c < sizeof codes / sizeof codes[0]; c++) {
        reset(&fx->p);
        fx->p.fail_on_call = 1;
        fx->p.fail_value = codes[c];
        assert_int_equal(dss_model_generate(fx->model, 6, z, x), DSS_ECALLBACK);
        assert_int_equal(fx->p.calls, 1);
    }
}

static void generate_stops_at_the_first_failing_batch(void **state)
{
    fixture *fx = *state;
    double z[10 * N], x[10 * M];
    fill_points(10, z);
    assert_int_equal(dss_model_set_max_batch(fx->model, 3), DSS_OK);
    fx->p.fail_on_call = 2;
    fx->p.fail_value = 5;
    assert_int_equal(dss_model_generate(fx->model, 10, z, x), DSS_ECALLBACK);
    /* "Any other value aborts the library call": no batch after the failing one. */
    assert_int_equal(fx->p.calls, 2);
}

static void generate_works_again_after_a_failure(void **state)
{
    fixture *fx = *state;
    double z[4 * N], x[4 * M], want[4 * M];
    fill_points(4, z);
    for (size_t r = 0; r < 4; r++)
        affine(z + r * N, want + r * M);
    fx->p.fail_on_call = 1;
    fx->p.fail_value = 1;
    assert_int_equal(dss_model_generate(fx->model, 4, z, x), DSS_ECALLBACK);
    assert_int_equal(dss_model_generate(fx->model, 4, z, x), DSS_OK);
    assert_memory_equal(x, want, sizeof x);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

/* ---- a float32 generator (dss_model_set_precision) ----------------------------------------- */

enum { FM = 7, FN = 4 };

/* f(z) = A z computed in float32, as a GPU network would; its exact Jacobian is A. */
static int float32_f(void *user, size_t k, const double *z, double *x)
{
    const double *A = user;
    for (size_t p = 0; p < k; p++)
        for (size_t i = 0; i < FM; i++) {
            float acc = 0.0f;
            for (size_t j = 0; j < FN; j++)
                acc += (float)A[i * FN + j] * (float)z[p * FN + j];
            x[p * FM + i] = acc;
        }
    return 0;
}

/* The FD singular values of a float32 generator, forward differences, under a declared
   precision (0: the default). */
static void float32_fd_values(const double *A, const double *z0, double eps, double *s)
{
    dss_model *model;
    dss_search *search;
    assert_int_equal(dss_model_create(&model, FN, FM, float32_f, (void *)A), DSS_OK);
    if (eps > 0.0)
        assert_int_equal(dss_model_set_precision(model, eps), DSS_OK);
    assert_int_equal(dss_search_create(&search, model), DSS_OK);
    assert_int_equal(dss_search_set(search, DSS_SEARCH_JACOBIAN, DSS_JACOBIAN_FINITE_DIFF),
                     DSS_OK);
    assert_int_equal(dss_search_start(search, z0), DSS_OK);
    assert_int_equal(dss_search_singular_values(search, s, FN), DSS_OK);
    dss_search_destroy(search);
    dss_model_destroy(model);
}

/* Declared FLT_EPSILON, forward differences of A z in float32 match A's singular values within
   the bound dss.h states, derived here for this f: f is linear, so only rounding errs; each
   output, a float sum of FN products, is off by at most gamma = (FN + 1) FLT_EPSILON times
   S = max_i sum_j |A_ij| (|z_j| + h) (Higham's bound, rounding z too), so each entry of the
   difference quotient by at most 2 gamma S / h and the singular values (Weyl) by the Frobenius
   norm of those, sqrt(FM FN) 2 gamma S / h, with h = sqrt(FLT_EPSILON) max(1, |z_j|). The
   double-precision default step is far outside it (columns of exact zeros: z_j + h rounds back
   to z_j in float). */
static void a_declared_float32_precision_gives_an_accurate_jacobian(void **state)
{
    double A[FM * FN], exact[FN], got[FN], noisy[FN], z0[FN] = { 0.3, -0.7, 1.1, 0.05 };
    double S = 0.0, h = sqrt(FLT_EPSILON) * 1.1, bound, worst = 0.0, worst_default = 0.0;
    const double gamma = (FN + 1) * FLT_EPSILON;
    (void)state;
    assert_true(dss_model_precision(NULL) == 0.0);
    for (size_t i = 0; i < FM * FN; i++)
        A[i] = (double)(float)(0.25 * (double)((i * 7) % 11) - 1.1); /* representable in float */
    assert_int_equal(support_singular_values(A, FM, FN, exact), 0);
    for (size_t i = 0; i < FM; i++) {
        double row = 0.0;
        for (size_t j = 0; j < FN; j++)
            row += fabs(A[i * FN + j]) * (fabs(z0[j]) + h);
        S = fmax(S, row);
    }
    bound = sqrt((double)(FM * FN)) * 2.0 * gamma * S / sqrt(FLT_EPSILON); /* h >= sqrt(eps) */
    float32_fd_values(A, z0, FLT_EPSILON, got);
    float32_fd_values(A, z0, 0.0, noisy);
    for (size_t k = 0; k < FN; k++) {
        worst = fmax(worst, fabs(got[k] - exact[k]));
        worst_default = fmax(worst_default, fabs(noisy[k] - exact[k]));
    }
    if (!(worst <= bound))
        fail_msg("declared FLT_EPSILON: singular values off by %g > bound %g", worst, bound);
    if (!(worst_default > 10.0 * bound))
        fail_msg("the default step was expected far off: %g against bound %g", worst_default,
                 bound);
}

static void set_precision_rejects_bad_values_and_keeps_the_old(void **state)
{
    dss_model *model;
    double A[FM * FN] = { 0 };
    (void)state;
    assert_int_equal(dss_model_create(&model, FN, FM, float32_f, A), DSS_OK);
    assert_true(dss_model_precision(model) == DBL_EPSILON);
    assert_int_equal(dss_model_set_precision(model, FLT_EPSILON), DSS_OK);
    static const double bad[] = { 0.0, -1.0, 1.0, 1e-20, NAN, INFINITY };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(dss_model_set_precision(model, bad[i]), DSS_EINVAL);
        assert_true(dss_model_precision(model) == FLT_EPSILON);
    }
    assert_true(strstr(dss_model_errmsg(model), "dss_model_set_precision") != NULL);
    assert_int_equal(dss_model_set_precision(NULL, FLT_EPSILON), DSS_EINVAL);
    dss_model_destroy(model);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(create_rejects_a_null_out_pointer),
        cmocka_unit_test(a_declared_float32_precision_gives_an_accurate_jacobian),
        cmocka_unit_test(set_precision_rejects_bad_values_and_keeps_the_old),
        cmocka_unit_test(create_rejects_a_null_generator_and_clears_out),
        cmocka_unit_test(create_rejects_a_zero_latent_dimension),
        cmocka_unit_test(create_rejects_a_zero_output_dimension),
        cmocka_unit_test(create_rejects_sizes_whose_byte_count_overflows),
        cmocka_unit_test(create_accepts_the_smallest_dimensions),
        T(create_records_the_dimensions),
        T(create_does_not_call_the_generator),
        cmocka_unit_test(dimensions_of_a_null_model_are_zero),
        T(destroy_of_null_is_a_no_op),
        cmocka_unit_test(setters_reject_a_null_model),
        T(setters_accept_a_callback_and_its_removal),
        T(max_batch_of_zero_is_rejected_and_the_old_limit_stays),
        T(generate_matches_a_direct_evaluation),
        T(generate_without_a_limit_makes_one_call),
        T(generate_passes_the_user_pointer_to_f),
        T(generate_splits_work_into_batches_of_at_most_the_max_batch),
        T(generate_does_not_modify_its_input),
        T(generate_rejects_a_zero_count),
        T(generate_rejects_null_arguments),
        T(generate_rejects_a_count_whose_size_overflows),
        T(generate_rejects_a_nonfinite_input_without_calling_f),
        T(generate_reports_a_nonfinite_output),
        T(generate_reports_a_failing_generator),
        T(generate_stops_at_the_first_failing_batch),
        T(generate_works_again_after_a_failure),
    };
    return support_leak_exit(cmocka_run_group_tests_name("model", tests, NULL, NULL));
}
