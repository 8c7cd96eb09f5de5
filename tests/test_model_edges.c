/* The finiteness checks of dss_model_generate at every position: a NaN or an infinity in any
 * lane of the 256-value blocks the check sums four lanes at a time, in a block's last values,
 * and in the tail after the last full block, in the output and in the input. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <dss/dss.h>

#include "support.h"

#define M 600 /* two full blocks of 256 and a tail of 88 */

typedef struct poison {
    size_t at;   /* output index to spoil, or M for none */
    double bad;
} poison;

static int poisoned_f(void *user, size_t k, const double *z, double *x)
{
    const poison *p = user;
    for (size_t i = 0; i < k * M; i++)
        x[i] = z[i % 2] + (double)i; /* finite, and not all zero */
    if (p->at < k * M)
        x[p->at] = p->bad;
    return 0;
}

static void generate_rejects_a_non_finite_output_at_every_position(void **state)
{
    dss_model *model;
    poison p = { M, 0.0 };
    const double z[2] = { 0.5, -1.5 }, bads[3] = { NAN, INFINITY, -INFINITY };
    double *x = malloc(M * sizeof *x);
    (void)state;
    assert_non_null(x);
    assert_int_equal(dss_model_create_with_allocator(&model, 2, M, poisoned_f, &p,
                                                     support_allocator()), DSS_OK);
    assert_int_equal(dss_model_generate(model, 1, z, x), DSS_OK);
    for (size_t b = 0; b < 3; b++)
        for (p.at = 0; p.at < M; p.at++) {
            p.bad = bads[b];
            if (dss_model_generate(model, 1, z, x) != DSS_ENONFINITE)
                fail_msg("%g at output %zu (lane %zu of its block of 4) not reported", p.bad,
                         p.at, p.at % 4);
        }
    dss_model_destroy(model);
    free(x);
}

static int copy_f(void *user, size_t k, const double *z, double *x)
{
    (void)user;
    memcpy(x, z, k * M * sizeof *x);
    return 0;
}

static void generate_rejects_a_non_finite_input_at_every_position(void **state)
{
    dss_model *model;
    double *z = malloc(M * sizeof *z), *x = malloc(M * sizeof *x);
    (void)state;
    assert_non_null(z);
    assert_non_null(x);
    assert_int_equal(dss_model_create_with_allocator(&model, M, M, copy_f, NULL,
                                                     support_allocator()), DSS_OK);
    for (size_t i = 0; i < M; i++)
        z[i] = 1.0 / (1.0 + (double)i);
    assert_int_equal(dss_model_generate(model, 1, z, x), DSS_OK);
    for (size_t at = 0; at < M; at++) {
        double keep = z[at];
        z[at] = at % 2 ? NAN : INFINITY;
        if (dss_model_generate(model, 1, z, x) != DSS_ENONFINITE)
            fail_msg("non-finite input %zu not reported", at);
        z[at] = keep;
    }
    dss_model_destroy(model);
    free(z);
    free(x);
}

#define T(name) cmocka_unit_test_setup_teardown(name, support_leak_setup, support_leak_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(generate_rejects_a_non_finite_output_at_every_position),
        T(generate_rejects_a_non_finite_input_at_every_position),
    };
    return support_leak_exit(cmocka_run_group_tests_name("model_edges", tests, NULL, NULL));
}
