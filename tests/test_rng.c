/* The private random number generator (lib/rng.h): xoshiro256** seeded through splitmix64.
 *
 * The reference below is written from the published algorithms (Blackman and Vigna,
 * https://prng.di.unimi.it/xoshiro256starstar.c and splitmix64.c), independently of lib/rng.c.
 * The statistical tests use fixed seeds, so they are deterministic; their bounds are chosen so
 * that a correct generator would fail them with probability about 1e-4 or less for a random seed,
 * and a biased one fails them by a wide margin. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>

#include <math.h>

#include "rng.h"
#include "support.h"

/* ---- independent reference --------------------------------------------------------------- */

static uint64_t ref_splitmix64(uint64_t *x)
{
    uint64_t z = (*x += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

static uint64_t ref_rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

typedef struct ref_rng { uint64_t s[4]; } ref_rng;

static void ref_seed(ref_rng *r, uint64_t seed)
{
    uint64_t x = seed;
    for (int i = 0; i < 4; i++)
        r->s[i] = ref_splitmix64(&x);
}

static uint64_t ref_next(ref_rng *r)
{
    uint64_t *s = r->s;
    const uint64_t result = ref_rotl(s[1] * 5, 7) * 9;
    const uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = ref_rotl(s[3], 45);
    return result;
}

static const uint64_t seeds[] = {
    0, 1, 42, UINT64_C(0x0123456789abcdef), UINT64_C(9007199254740992) /* 2^53 */, UINT64_MAX
};
#define N_SEEDS (sizeof seeds / sizeof seeds[0])

/* ---- the reference itself against published values --------------------------------------- */

static void reference_splitmix64_reproduces_published_values(void **state)
{
    (void)state;
    /* splitmix64 from seed 1234567: the test vector used by the reference implementations
       (e.g. the Rust rand_xoshiro and Java SplittableRandom ports). This anchors the reference
       so that the comparisons below do not rest on an unchecked transcription. */
    static const uint64_t expect[] = {
        UINT64_C(6457827717110365317), UINT64_C(3203168211198807973),
        UINT64_C(9817491932198370423), UINT64_C(4593380528125082431),
        UINT64_C(16408922859458223821)
    };
    uint64_t x = 1234567;
    for (size_t i = 0; i < sizeof expect / sizeof expect[0]; i++)
        assert_true(ref_splitmix64(&x) == expect[i]);
}

/* xoshiro256** from the state {1, 2, 3, 4} (not reachable by seeding): the first ten outputs of
   the authors' xoshiro256starstar.c, as published with several ports. */
static const uint64_t xoshiro_1234[] = {
    UINT64_C(11520), UINT64_C(0), UINT64_C(1509978240), UINT64_C(1215971899390074240),
    UINT64_C(1216172134540287360), UINT64_C(607988272756665600),
    UINT64_C(16172922978634559625), UINT64_C(8476171486693032832),
    UINT64_C(10595114339597558777), UINT64_C(2904607092377533576)
};

static void reference_xoshiro256starstar_reproduces_published_values(void **state)
{
    (void)state;
    ref_rng ref = { { 1, 2, 3, 4 } };
    for (size_t i = 0; i < sizeof xoshiro_1234 / sizeof xoshiro_1234[0]; i++)
        assert_true(ref_next(&ref) == xoshiro_1234[i]);
}

/* ---- the library against the reference ---------------------------------------------------- */

static void next_from_a_set_state_reproduces_published_values(void **state)
{
    (void)state;
    rng r = { { 1, 2, 3, 4 } };
    for (size_t i = 0; i < sizeof xoshiro_1234 / sizeof xoshiro_1234[0]; i++)
        assert_true(dssi_rng_next(&r) == xoshiro_1234[i]);
}

static void seed_fills_the_state_with_four_splitmix64_outputs(void **state)
{
    (void)state;
    for (size_t k = 0; k < N_SEEDS; k++) {
        rng r;
        ref_rng ref;
        dssi_rng_seed(&r, seeds[k]);
        ref_seed(&ref, seeds[k]);
        for (int i = 0; i < 4; i++)
            assert_true(r.s[i] == ref.s[i]);
    }
}

static void next_matches_the_reference_xoshiro256starstar(void **state)
{
    (void)state;
    for (size_t k = 0; k < N_SEEDS; k++) {
        rng r;
        ref_rng ref;
        dssi_rng_seed(&r, seeds[k]);
        ref_seed(&ref, seeds[k]);
        for (int i = 0; i < 64; i++) {
            uint64_t got = dssi_rng_next(&r), want = ref_next(&ref);
            if (got != want)
                fail_msg("seed %llu, output %d: got %llu, want %llu",
                         (unsigned long long)seeds[k], i, (unsigned long long)got,
                         (unsigned long long)want);
        }
    }
}

static void same_seed_gives_the_same_stream_and_different_seeds_differ(void **state)
{
    (void)state;
    rng a, b, c;
    dssi_rng_seed(&a, 7);
    dssi_rng_seed(&b, 7);
    dssi_rng_seed(&c, 8);
    int differ = 0;
    for (int i = 0; i < 16; i++) {
        uint64_t xa = dssi_rng_next(&a), xb = dssi_rng_next(&b), xc = dssi_rng_next(&c);
        assert_true(xa == xb);
        differ |= xa != xc;
    }
    assert_true(differ);
}

static void uniform_is_the_top_53_bits_of_next(void **state)
{
    (void)state;
    for (size_t k = 0; k < N_SEEDS; k++) {
        rng r;
        ref_rng ref;
        dssi_rng_seed(&r, seeds[k]);
        ref_seed(&ref, seeds[k]);
        for (int i = 0; i < 64; i++) {
            double want = (double)(ref_next(&ref) >> 11) * 0x1p-53;
            assert_true(dssi_rng_uniform(&r) == want);
        }
    }
}

static void uniform_lies_in_the_half_open_unit_interval(void **state)
{
    (void)state;
    /* N draws: every one in [0, 1). Their mean is within 5 standard errors of 1/2:
       the standard error of the mean of U(0,1) is sqrt(1/12 / N) = 0.000913 for N = 1e5, so
       the bound is 0.00456 (two-sided probability 5.7e-7 of failing by chance). */
    enum { N = 100000 };
    rng r;
    dssi_rng_seed(&r, 2024);
    double sum = 0.0, lo = 1.0, hi = 0.0;
    for (int i = 0; i < N; i++) {
        double u = dssi_rng_uniform(&r);
        assert_true(u >= 0.0 && u < 1.0);
        sum += u;
        lo = u < lo ? u : lo;
        hi = u > hi ? u : hi;
    }
    double mean = sum / N;
    assert_true(fabs(mean - 0.5) <= 5.0 * sqrt(1.0 / 12.0 / N));
    /* The extremes of 1e5 uniforms are within 1e-3 of the ends with probability
       1 - 2 (1 - 1e-3)^1e5 ~ 1 - 1e-43. */
    assert_true(lo < 1e-3);
    assert_true(hi > 1.0 - 1e-3);
}

static void below_stays_below_the_bound(void **state)
{
    (void)state;
    rng r;
    dssi_rng_seed(&r, 99);
    for (int i = 0; i < 1000; i++)
        assert_true(dssi_rng_below(&r, 1) == 0);
    static const size_t bounds[] = { 2, 3, 7, 10, 1000, (size_t)1 << 31, SIZE_MAX / 3 * 2,
                                     SIZE_MAX };
    for (size_t b = 0; b < sizeof bounds / sizeof bounds[0]; b++)
        for (int i = 0; i < 1000; i++)
            assert_true(dssi_rng_below(&r, bounds[b]) < bounds[b]);
}

static void below_ten_passes_a_chi_square_test(void **state)
{
    (void)state;
    /* 100000 draws of dssi_rng_below(10): expected 10000 per value. Pearson's statistic has
       df = 10 - 1 = 9; its upper 1e-4 quantile is 33.72 (chi2.isf(1e-4, 9) = 33.7199). */
    enum { BOUND = 10, N = 100000 };
    rng r;
    dssi_rng_seed(&r, 12345);
    long count[BOUND] = { 0 };
    for (int i = 0; i < N; i++) {
        size_t v = dssi_rng_below(&r, BOUND);
        assert_true(v < BOUND);
        count[v]++;
    }
    const double expect = (double)N / BOUND;
    double chi2 = 0.0;
    for (int v = 0; v < BOUND; v++)
        chi2 += (count[v] - expect) * (count[v] - expect) / expect;
    if (!(chi2 < 33.72))
        fail_msg("chi-square %.3f >= 33.72 (df 9, p = 1e-4)", chi2);
}

static void below_a_large_bound_has_no_modulo_bias(void **state)
{
    (void)state;
    /* bound = 3/4 of 2^w, w the width of size_t (64, or 32 on i386, where a draw cut to size_t
       would be biased the same way). A plain `next % bound` maps [bound, 2^w) back onto
       [0, 2^w - bound) = [0, bound/3), which then gets probability 1/2 instead of 1/3. Split [0, bound) into three
       equal thirds; for an unbiased generator each holds 1/3 of the draws. Pearson's statistic
       has df = 2, whose upper 1e-4 quantile is -2 ln(1e-4) = 18.42 (chi-square with 2 degrees of
       freedom is exponential with mean 2). With the modulo bias the statistic would be about
       N/8 = 3750. */
    enum { N = 30000 };
    const size_t third = (size_t)1 << (sizeof(size_t) * CHAR_BIT - 2);
    const size_t bound = 3 * third;
    rng r;
    dssi_rng_seed(&r, 777);
    long count[3] = { 0 };
    for (int i = 0; i < N; i++) {
        size_t v = dssi_rng_below(&r, bound);
        assert_true(v < bound);
        count[v / third]++;
    }
    const double expect = N / 3.0;
    double chi2 = 0.0;
    for (int b = 0; b < 3; b++)
        chi2 += (count[b] - expect) * (count[b] - expect) / expect;
    if (!(chi2 < 18.42))
        fail_msg("chi-square %.3f >= 18.42 (df 2, p = 1e-4); counts %ld %ld %ld", chi2,
                 count[0], count[1], count[2]);
}

static void gaussian_has_zero_mean_and_unit_variance(void **state)
{
    (void)state;
    /* N = 1e5 draws of N(0,1), fixed seed. Bounds at 5 standard errors each:
       - mean: sd of the sample mean is 1/sqrt(N) = 0.00316 -> |mean| <= 0.0158;
       - variance: sd of the sample variance of normal data is sqrt(2/(N-1)) = 0.00447 ->
         |var - 1| <= 0.0224;
       - P(|X| <= 1) = 0.682689: sd of the observed fraction is sqrt(p(1-p)/N) = 0.00147 ->
         bound 0.00736. This one tells a Gaussian from, e.g., a scaled uniform of unit variance
         (which gives 0.577);
       - the fourth moment E X^4 = 3 (a uniform of unit variance gives 1.8); its sample sd is
         sqrt((E X^8 - 9)/N) = sqrt(96/N) = 0.031 -> |m4 - 3| <= 0.155.
       Each bound fails by chance with probability about 6e-7. */
    enum { N = 100000 };
    rng r;
    dssi_rng_seed(&r, 31337);
    double sum = 0.0, sum2 = 0.0, sum4 = 0.0;
    long inside = 0;
    for (int i = 0; i < N; i++) {
        double x = dssi_rng_gaussian(&r);
        assert_true(isfinite(x));
        sum += x;
        sum2 += x * x;
        sum4 += x * x * x * x;
        inside += fabs(x) <= 1.0;
    }
    double mean = sum / N;
    double var = (sum2 - N * mean * mean) / (N - 1);
    double frac = (double)inside / N;
    double m4 = sum4 / N;
    assert_true(fabs(mean) <= 5.0 / sqrt((double)N));
    assert_true(fabs(var - 1.0) <= 5.0 * sqrt(2.0 / (N - 1)));
    assert_true(fabs(frac - 0.682689492137086) <= 5.0 * sqrt(0.682689 * 0.317311 / N));
    assert_true(fabs(m4 - 3.0) <= 5.0 * sqrt(96.0 / N));
}

static void gaussian_is_deterministic_for_a_seed(void **state)
{
    (void)state;
    rng a, b;
    dssi_rng_seed(&a, 5);
    dssi_rng_seed(&b, 5);
    for (int i = 0; i < 100; i++) {
        double x = dssi_rng_gaussian(&a), y = dssi_rng_gaussian(&b);
        assert_true(x == y);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(reference_splitmix64_reproduces_published_values),
        cmocka_unit_test(reference_xoshiro256starstar_reproduces_published_values),
        cmocka_unit_test(next_from_a_set_state_reproduces_published_values),
        cmocka_unit_test(seed_fills_the_state_with_four_splitmix64_outputs),
        cmocka_unit_test(next_matches_the_reference_xoshiro256starstar),
        cmocka_unit_test(same_seed_gives_the_same_stream_and_different_seeds_differ),
        cmocka_unit_test(uniform_is_the_top_53_bits_of_next),
        cmocka_unit_test(uniform_lies_in_the_half_open_unit_interval),
        cmocka_unit_test(below_stays_below_the_bound),
        cmocka_unit_test(below_ten_passes_a_chi_square_test),
        cmocka_unit_test(below_a_large_bound_has_no_modulo_bias),
        cmocka_unit_test(gaussian_has_zero_mean_and_unit_variance),
        cmocka_unit_test(gaussian_is_deterministic_for_a_seed),
    };
    return support_leak_exit(cmocka_run_group_tests_name("rng", tests, NULL, NULL));
}
