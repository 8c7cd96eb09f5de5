/* Per-handle messages beyond test_status.c's: a failure that has no detail of its own (an
 * allocation failure) gets "function: <dss_strerror>", never the text an earlier failed call
 * left; an unknown parameter id is named as such ("an unknown parameter" by dss_search_set,
 * "no parameter <id>" by dss_line_set); the range a rejected value is measured against
 * shows which ends are open, for every kind of bound of the parameter table. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dss/dss.h>

#include "support.h"

/* ---- an allocator that fails on demand (around support_allocator, for the leak checks) ---- */

typedef struct failing {
    int fail;   /* non-zero: every allocation fails */
} failing;

static void *f_alloc(void *user, size_t size)
{
    const dss_allocator *base = support_allocator();
    if (((failing *)user)->fail)
        return NULL;
    return base->alloc(base->user, size);
}

static void f_free(void *user, void *ptr)
{
    const dss_allocator *base = support_allocator();
    (void)user;
    base->free(base->user, ptr);
}

static void expect_text(const char *got, const char *want)
{
    if (strcmp(got, want) != 0)
        fail_msg("message \"%s\", expected \"%s\"", got, want);
}

static void expect_contains(const char *got, const char *part)
{
    if (strstr(got, part) == NULL)
        fail_msg("message \"%s\" lacks \"%s\"", got, part);
}

static int sum_score(void *user, size_t k, const double *x, double *score)
{
    (void)user;
    for (size_t i = 0; i < k; i++)
        score[i] = x[2 * i] + x[2 * i + 1];
    return 0;
}

static void generic(char *buf, size_t cap, const char *fn, int status)
{
    snprintf(buf, cap, "%s: %s", fn, dss_strerror(status));
}

/* Each handle: a failed call with a detail, then an allocation failure (no detail): the message
   is the generic one of the second call, not the first call's detail. */
static void a_failure_without_detail_replaces_an_earlier_message(void **state)
{
    failing fl = { 0 };
    const dss_allocator alloc = { f_alloc, f_free, &fl };
    lin_model *lm = lin_create(2, 4, NULL, 11);
    dss_model *model = NULL;
    dss_search *s = NULL;
    dss_line *line = NULL;
    const double z[4] = { 0.1, -0.2, 0.3, 0.4 }, lo[4] = { 0 }, hi[4] = { 1, 1, 1, 1 };
    double t = -1;
    char want[200];
    (void)state;
    assert_non_null(lm);
    assert_int_equal(dss_model_create_with_allocator(&model, 4, 2, lin_f, lm, &alloc), DSS_OK);
    assert_int_equal(dss_model_set_jacobian(model, lin_jacobian), DSS_OK);
    assert_int_equal(dss_search_create(&s, model), DSS_OK);
    assert_int_equal(dss_line_create_with_allocator(&line, &alloc), DSS_OK);

    assert_int_equal(dss_search_set(s, DSS_SEARCH_RANK, 0), DSS_EINVAL);
    expect_contains(dss_search_errmsg(s), "DSS_SEARCH_RANK");
    fl.fail = 1;
    assert_int_equal(dss_search_start(s, z), DSS_ENOMEM);
    generic(want, sizeof want, "dss_search_start", DSS_ENOMEM);
    expect_text(dss_search_errmsg(s), want);
    /* a second failure without detail, in another function: its own name */
    assert_int_equal(dss_search_start(s, z), DSS_ENOMEM);
    expect_text(dss_search_errmsg(s), want);
    fl.fail = 0;

    assert_int_equal(dss_line_set(line, DSS_LINE_SAMPLES, 1), DSS_EINVAL);
    expect_contains(dss_line_errmsg(line), "DSS_LINE_SAMPLES");
    fl.fail = 1;
    assert_int_equal(dss_find_optimal(line, model, lo, hi, sum_score, NULL, &t, NULL),
                     DSS_ENOMEM);
    generic(want, sizeof want, "dss_find_optimal", DSS_ENOMEM);
    expect_text(dss_line_errmsg(line), want);
    fl.fail = 0;

    dss_line_destroy(line);
    dss_search_destroy(s);
    dss_model_destroy(model);
    lin_destroy(lm);
}

static void an_unknown_parameter_is_named_as_unknown(void **state)
{
    lin_model *lm = lin_create(5, 3, NULL, 12);
    dss_model *model = NULL;
    dss_search *s = NULL;
    dss_line *line = NULL;
    (void)state;
    assert_non_null(lm);
    assert_int_equal(lin_dss_model(lm, LIN_WITH_JACOBIAN, &model), DSS_OK);
    assert_int_equal(dss_search_create(&s, model), DSS_OK);
    assert_int_equal(dss_line_create_with_allocator(&line, support_allocator()), DSS_OK);
    const int bad_ids[] = { 0, 24, 1000, -1 }; /* 24: the first id after the table (1.2: 1..23) */
    for (size_t i = 0; i < sizeof bad_ids / sizeof *bad_ids; i++) {
        assert_int_equal(dss_search_set(s, bad_ids[i], 1.0), DSS_EINVAL);
        expect_contains(dss_search_errmsg(s), "dss_search_set");
        expect_contains(dss_search_errmsg(s), "an unknown parameter");
        if (strstr(dss_search_errmsg(s), "DSS_SEARCH_") != NULL)
            fail_msg("id %d named as a known parameter: \"%s\"", bad_ids[i], dss_search_errmsg(s));
        const int line_id = bad_ids[i] == 24 ? DSS_LINE_GRID + 1 : bad_ids[i];
        char want[40];
        snprintf(want, sizeof want, "dss_line_set: no parameter %d", line_id);
        assert_int_equal(dss_line_set(line, line_id, 1.0), DSS_EINVAL);
        expect_text(dss_line_errmsg(line), want);
    }
    dss_line_destroy(line);
    dss_search_destroy(s);
    dss_model_destroy(model);
    lin_destroy(lm);
}

/* The range in the message of a rejected value, for each kind of row of the table: open lower
   end, open upper end, both closed (real and integer), the n bound, a count up to 2^53, and
   the prior's extra condition. Expected texts from the header's documented ranges. */
static void rejected_values_show_their_range_with_open_and_closed_ends(void **state)
{
    static const struct {
        int param;
        double value;
        const char *range;
    } CASES[] = {
        { DSS_SEARCH_RADIUS, 0.0, "(in (0, DBL_MAX])" },
        { DSS_SEARCH_DIFF_STEP, 1.0, "(in [0, 1))" },
        { DSS_SEARCH_CENTER_TOLERANCE, 0.75, "(in [0, 0.5])" },
        { DSS_SEARCH_SUBSPACE_DIM, 4.0, "(an integer in [1, n])" },
        { DSS_SEARCH_SEED, 0.5, "(an integer in [0, 2^53])" },
        { DSS_SEARCH_POWER_ITERATIONS, 17.0, "(an integer in [0, 16])" },
        { DSS_SEARCH_PRIOR_SCALE, 0.0,
          "(in (0, DBL_MAX], with a finite, positive default radius)" },
    };
    lin_model *lm = lin_create(5, 3, NULL, 13);
    dss_model *model = NULL;
    dss_search *s = NULL;
    dss_line *line = NULL;
    (void)state;
    assert_non_null(lm);
    assert_int_equal(lin_dss_model(lm, LIN_WITH_JACOBIAN, &model), DSS_OK);
    assert_int_equal(dss_search_create(&s, model), DSS_OK);
    for (size_t i = 0; i < sizeof CASES / sizeof *CASES; i++) {
        assert_int_equal(dss_search_set(s, CASES[i].param, CASES[i].value), DSS_EINVAL);
        expect_contains(dss_search_errmsg(s), CASES[i].range);
    }
    assert_int_equal(dss_line_create_with_allocator(&line, support_allocator()), DSS_OK);
    assert_int_equal(dss_line_set(line, DSS_LINE_REFINE, 3), DSS_EINVAL);
    expect_contains(dss_line_errmsg(line), "an integer in [0, 2]");
    dss_line_destroy(line);
    dss_search_destroy(s);
    dss_model_destroy(model);
    lin_destroy(lm);
}

#define T(name) cmocka_unit_test_setup_teardown(name, support_leak_setup, support_leak_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(a_failure_without_detail_replaces_an_earlier_message),
        T(an_unknown_parameter_is_named_as_unknown),
        T(rejected_values_show_their_range_with_open_and_closed_ends),
    };
    return support_leak_exit(cmocka_run_group_tests_name("errmsg_edges", tests, NULL, NULL));
}
