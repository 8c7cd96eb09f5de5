/* Status codes and version: dss_strerror, dss_version_number, dss_version_string; the
 * per-handle messages dss_search_errmsg, dss_line_errmsg, dss_model_errmsg (issue 8). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dss/dss.h>

#include "support.h"

/* Every status code of the 1.0 contract, and DSS_EBUSY (1.1). */
static const int known_codes[] = {
    DSS_OK, DSS_EINVAL, DSS_ENOMEM, DSS_ECALLBACK, DSS_ENONFINITE,
    DSS_ELAPACK, DSS_ESTATE, DSS_EFORMAT, DSS_ECANCELLED, DSS_EUNSUPPORTED, DSS_EBUSY
};
#define N_KNOWN (sizeof known_codes / sizeof known_codes[0])

/* Codes that are not DSS_* values: positive, just past the last one, far out, the extremes. */
static const int unknown_codes[] = { 1, 2, -11, -100, 12345, INT_MIN, INT_MAX };
#define N_UNKNOWN (sizeof unknown_codes / sizeof unknown_codes[0])

static void status_codes_have_their_contract_values(void **state)
{
    (void)state;
    /* The values are ABI: they must never change. */
    assert_int_equal(DSS_OK, 0);
    assert_int_equal(DSS_EINVAL, -1);
    assert_int_equal(DSS_ENOMEM, -2);
    assert_int_equal(DSS_ECALLBACK, -3);
    assert_int_equal(DSS_ENONFINITE, -4);
    assert_int_equal(DSS_ELAPACK, -5);
    assert_int_equal(DSS_ESTATE, -6);
    assert_int_equal(DSS_EFORMAT, -7);
    assert_int_equal(DSS_ECANCELLED, -8);
    assert_int_equal(DSS_EUNSUPPORTED, -9);
    assert_int_equal(DSS_EBUSY, -10);
}

static void strerror_gives_a_nonempty_sentence_for_every_code(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_KNOWN; i++) {
        const char *msg = dss_strerror(known_codes[i]);
        assert_non_null(msg);
        assert_true(strlen(msg) > 0);
    }
}

static void strerror_gives_distinct_messages_for_distinct_codes(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_KNOWN; i++) {
        for (size_t j = i + 1; j < N_KNOWN; j++) {
            const char *a = dss_strerror(known_codes[i]);
            const char *b = dss_strerror(known_codes[j]);
            assert_non_null(a);
            assert_non_null(b);
            if (strcmp(a, b) == 0)
                fail_msg("codes %d and %d share the message \"%s\"", known_codes[i],
                         known_codes[j], a);
        }
    }
}

static void strerror_is_stable_across_calls(void **state)
{
    (void)state;
    /* A static sentence: the same text (and no buffer reused between codes). */
    const char *first = dss_strerror(DSS_EINVAL);
    assert_non_null(first);
    char copy[512];
    snprintf(copy, sizeof copy, "%s", first);
    (void)dss_strerror(DSS_ENOMEM);
    (void)dss_strerror(INT_MIN);
    assert_string_equal(dss_strerror(DSS_EINVAL), copy);
    assert_string_equal(first, copy);
}

static void strerror_of_an_unknown_code_is_a_generic_message(void **state)
{
    (void)state;
    for (size_t u = 0; u < N_UNKNOWN; u++) {
        const char *msg = dss_strerror(unknown_codes[u]);
        assert_non_null(msg);
        assert_true(strlen(msg) > 0);
        /* Generic: it must not claim to be one of the known errors (or success). */
        for (size_t i = 0; i < N_KNOWN; i++) {
            if (strcmp(msg, dss_strerror(known_codes[i])) == 0)
                fail_msg("unknown code %d is described as code %d: \"%s\"", unknown_codes[u],
                         known_codes[i], msg);
        }
    }
}

static void version_number_matches_the_header(void **state)
{
    (void)state;
    assert_int_equal(dss_version_number(), DSS_VERSION_NUMBER);
    assert_int_equal(DSS_VERSION_NUMBER,
                     DSS_VERSION_MAJOR * 10000 + DSS_VERSION_MINOR * 100 + DSS_VERSION_PATCH);
}

static void version_string_matches_the_header_macros(void **state)
{
    (void)state;
    char expect[64];
    snprintf(expect, sizeof expect, "%d.%d.%d", DSS_VERSION_MAJOR, DSS_VERSION_MINOR,
             DSS_VERSION_PATCH);
    assert_non_null(dss_version_string());
    assert_string_equal(dss_version_string(), expect);
}

static void version_is_one_two_zero(void **state)
{
    (void)state;
    assert_int_equal(DSS_VERSION_MAJOR, 1);
    assert_int_equal(DSS_VERSION_MINOR, 2);
    assert_int_equal(DSS_VERSION_PATCH, 0);
    assert_int_equal(dss_version_number(), 10200);
    assert_string_equal(dss_version_string(), "1.2.0");
}

/* ---- per-handle messages ------------------------------------------------------------------- */

/* The message contains every one of the fragments. */
static void expect_msg(const char *msg, const char *const *parts, size_t count)
{
    assert_non_null(msg);
    for (size_t i = 0; i < count; i++)
        if (strstr(msg, parts[i]) == NULL)
            fail_msg("message \"%s\" lacks \"%s\"", msg, parts[i]);
}
#define EXPECT(msg, ...) do { static const char *const parts_[] = { __VA_ARGS__ }; \
                              expect_msg((msg), parts_, sizeof parts_ / sizeof *parts_); } while (0)

static int score_fails_with_7(void *user, size_t k, const double *x, double *score)
{
    (void)user, (void)k, (void)x, (void)score;
    return 7;
}

static void search_messages_name_the_function_the_argument_and_the_bound(void **state)
{
    (void)state;
    lin_model *lm = lin_create(7, 4, NULL, 3);
    dss_model *model = NULL, *bare = NULL;
    dss_search *s = NULL, *t = NULL;
    double z[4] = { 0.1, -0.2, 0.3, 0.4 };
    assert_non_null(lm);
    assert_int_equal(lin_dss_model(lm, LIN_WITH_JACOBIAN, &model), DSS_OK);
    assert_int_equal(dss_search_create(&s, model), DSS_OK);
    assert_string_equal(dss_search_errmsg(s), "");

    assert_int_equal(dss_search_set(s, DSS_SEARCH_RANK, 0), DSS_EINVAL);
    /* counts stop at 2^53, or at SIZE_MAX where size_t is narrower (32-bit machines) */
    EXPECT(dss_search_errmsg(s), "dss_search_set", "DSS_SEARCH_RANK", "= 0",
           SIZE_MAX < UINT64_C(9007199254740992) ? "[1, SIZE_MAX]" : "[1, 2^53]");
    assert_int_equal(dss_search_set(s, DSS_SEARCH_SEED, 3), DSS_OK); /* success: kept */
    EXPECT(dss_search_errmsg(s), "DSS_SEARCH_RANK");
    assert_int_equal(dss_search_commit(s, 0.2), DSS_ESTATE);
    EXPECT(dss_search_errmsg(s), "dss_search_commit", "not started");
    assert_int_equal(dss_search_start(s, NULL), DSS_EINVAL);
    EXPECT(dss_search_errmsg(s), "dss_search_start", "z0 is NULL");

    assert_int_equal(dss_search_start(s, z), DSS_OK);
    assert_int_equal(dss_search_commit(s, 1.5), DSS_EINVAL);
    EXPECT(dss_search_errmsg(s), "dss_search_commit", "t = 1.5", "[0, 1]");
    lin_fault(lm, LIN_JACOBIAN, LIN_FAULT_ERROR, 1);
    assert_int_equal(dss_search_commit(s, 0.9), DSS_ECALLBACK);
    EXPECT(dss_search_errmsg(s), "dss_search_commit", "Jacobian callback returned 42");
    lin_fault(lm, LIN_JACOBIAN, LIN_FAULT_NAN, 1);
    assert_int_equal(dss_search_commit(s, 0.9), DSS_ENONFINITE);
    EXPECT(dss_search_errmsg(s), "Jacobian callback's output holds nan");
    assert_int_equal(dss_search_set(s, DSS_SEARCH_JACOBIAN, DSS_JACOBIAN_RANDOMIZED), DSS_OK);
    assert_int_equal(dss_search_commit(s, 0.9), DSS_EUNSUPPORTED);
    EXPECT(dss_search_errmsg(s), "dss_search_commit", "DSS_JACOBIAN_RANDOMIZED", "VJP callback");
    assert_int_equal(dss_search_undo(s), DSS_ESTATE);
    EXPECT(dss_search_errmsg(s), "dss_search_undo", "nothing to undo");

    /* load: another model's string, a corrupt one, a model that cannot continue */
    size_t len = 0;
    assert_int_equal(dss_search_set(s, DSS_SEARCH_JACOBIAN, DSS_JACOBIAN_FULL), DSS_OK);
    assert_int_equal(dss_search_save(s, NULL, 0, &len), DSS_OK);
    unsigned char *buf = malloc(len);
    assert_non_null(buf);
    assert_int_equal(dss_search_save(s, buf, 10, &len), DSS_EINVAL);
    EXPECT(dss_search_errmsg(s), "dss_search_save", "cap = 10");
    assert_int_equal(dss_search_save(s, buf, len, &len), DSS_OK);
    lin_model *other = lin_create(7, 5, NULL, 4);
    dss_model *other_model = NULL;
    assert_non_null(other);
    assert_int_equal(lin_dss_model(other, LIN_WITH_JACOBIAN, &other_model), DSS_OK);
    assert_int_equal(dss_search_create(&t, other_model), DSS_OK);
    assert_int_equal(dss_search_load(t, buf, len), DSS_EFORMAT);
    EXPECT(dss_search_errmsg(t), "dss_search_load", "another model", "n = 4, m = 7",
           "n = 5, m = 7");
    dss_search_destroy(t);
    buf[len / 2] ^= 1;
    assert_int_equal(dss_search_load(s, buf, len), DSS_EFORMAT);
    EXPECT(dss_search_errmsg(s), "dss_search_load", "CRC");
    buf[len / 2] ^= 1;
    assert_int_equal(lin_dss_model(lm, 0, &bare), DSS_OK);
    assert_int_equal(dss_search_create(&t, bare), DSS_OK);
    assert_int_equal(dss_search_load(t, buf, len), DSS_EUNSUPPORTED);
    EXPECT(dss_search_errmsg(t), "dss_search_load", "Jacobian callback");

    free(buf);
    dss_search_destroy(t);
    dss_search_destroy(s);
    dss_model_destroy(bare);
    dss_model_destroy(other_model);
    dss_model_destroy(model);
    lin_destroy(other);
    lin_destroy(lm);
}

static void line_and_model_messages_name_the_function_and_the_callbacks_return(void **state)
{
    (void)state;
    lin_model *lm = lin_create(3, 2, NULL, 5);
    dss_model *model = NULL;
    dss_line *line = NULL;
    double lo[2] = { 0, 0 }, hi[2] = { 1, 1 }, t = -1;
    assert_non_null(lm);
    assert_int_equal(lin_dss_model(lm, 0, &model), DSS_OK);
    assert_string_equal(dss_model_errmsg(model), "");
    assert_int_equal(dss_model_set_max_batch(model, 0), DSS_EINVAL);
    EXPECT(dss_model_errmsg(model), "dss_model_set_max_batch", "k = 0");
    assert_int_equal(dss_line_create(&line), DSS_OK);
    assert_string_equal(dss_line_errmsg(line), "");
    assert_int_equal(dss_line_set(line, DSS_LINE_SAMPLES, 1), DSS_EINVAL);
    EXPECT(dss_line_errmsg(line), "dss_line_set", "DSS_LINE_SAMPLES", "= 1");
    assert_int_equal(dss_line_set(line, DSS_LINE_SAMPLES, 11), DSS_OK);
    assert_int_equal(dss_find_optimal(line, model, lo, hi, score_fails_with_7, NULL, &t, NULL),
                     DSS_ECALLBACK);
    EXPECT(dss_line_errmsg(line), "dss_find_optimal", "score g returned 7");
    lin_fault(lm, LIN_F, LIN_FAULT_ERROR, 1);
    assert_int_equal(dss_find_optimal(line, model, lo, hi, score_fails_with_7, NULL, &t, NULL),
                     DSS_ECALLBACK);
    EXPECT(dss_line_errmsg(line), "dss_find_optimal", "generator f returned 42");
    assert_string_equal(dss_search_errmsg(NULL), "dss_search_errmsg: search is NULL");
    /* a search that cannot give a slider: the line's message carries the search's */
    dss_search *s = NULL;
    assert_int_equal(dss_search_create(&s, model), DSS_OK);
    assert_int_equal(dss_search_find_optimal(line, s, score_fails_with_7, NULL, &t, NULL),
                     DSS_ESTATE);
    EXPECT(dss_line_errmsg(line), "dss_search_find_optimal", "dss_search_slider_ends",
           "not started");
    dss_search_destroy(s);
    dss_line_destroy(line);
    dss_model_destroy(model);
    lin_destroy(lm);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(status_codes_have_their_contract_values),
        cmocka_unit_test(strerror_gives_a_nonempty_sentence_for_every_code),
        cmocka_unit_test(strerror_gives_distinct_messages_for_distinct_codes),
        cmocka_unit_test(strerror_is_stable_across_calls),
        cmocka_unit_test(strerror_of_an_unknown_code_is_a_generic_message),
        cmocka_unit_test(version_number_matches_the_header),
        cmocka_unit_test(version_string_matches_the_header_macros),
        cmocka_unit_test(version_is_one_two_zero),
        cmocka_unit_test(search_messages_name_the_function_the_argument_and_the_bound),
        cmocka_unit_test(line_and_model_messages_name_the_function_and_the_callbacks_return),
    };
    return support_leak_exit(cmocka_run_group_tests_name("status", tests, NULL, NULL));
}
