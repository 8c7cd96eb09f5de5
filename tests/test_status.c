/* Status codes and version: dss_strerror, dss_version_number, dss_version_string. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <dss/dss.h>

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

static void version_is_one_zero_zero(void **state)
{
    (void)state;
    assert_int_equal(DSS_VERSION_MAJOR, 1);
    assert_int_equal(DSS_VERSION_MINOR, 0);
    assert_int_equal(DSS_VERSION_PATCH, 0);
    assert_int_equal(dss_version_number(), 10000);
    assert_string_equal(dss_version_string(), "1.0.0");
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
        cmocka_unit_test(version_is_one_zero_zero),
    };
    return cmocka_run_group_tests_name("status", tests, NULL, NULL);
}
