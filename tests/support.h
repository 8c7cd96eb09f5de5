/*
 * Shared test helpers for the libdss cmocka suite.
 *
 * 1. lin_model: a linear generator f(z) = J z whose SVD is known by construction,
 *    J = U diag(s) V^T with U (m x r) and V (n x r) orthonormal, r = min(m, n), for any shape.
 *    It counts every callback invocation, checks that the library honours the callback
 *    conventions, logs f's inputs on request, and injects faults (an error status, a NaN or an
 *    infinity) into the k-th call of a chosen callback.
 * 2. support_rng: a tiny deterministic generator (splitmix64), independent of libdss and of rand().
 * 3. Small numerical helpers: distances, "equal up to sign", orthonormality, singular values of a
 *    small matrix (one-sided Jacobi), chi-square statistic and its upper-tail probability.
 * 4. Session snapshots: everything the public API shows of a dss_search, to check the strong
 *    guarantee ("a failed call changes nothing") bit for bit, and twin comparison of future draws.
 *
 * None of these helpers uses cmocka: they return values and the tests assert on them.
 * The names and signatures below are stable; other test files may rely on them.
 */
#ifndef DSS_TESTS_SUPPORT_H
#define DSS_TESTS_SUPPORT_H

#include <stddef.h>
#include <stdint.h>

#include <dss/dss.h>

/* ==============================================================================================
 * 1. The linear model with a known SVD
 * ============================================================================================ */

/** Callbacks of a lin_model, to name the target of a fault. */
enum lin_callback { LIN_F = 0, LIN_JACOBIAN = 1, LIN_VJP = 2, LIN_JVP = 3, LIN_NCALLBACKS = 4 };

/** Faults that lin_fault can inject. */
enum lin_fault_kind {
    LIN_FAULT_NONE  = 0, /**< no fault (clears a pending one) */
    LIN_FAULT_ERROR = 1, /**< the callback returns LIN_FAULT_STATUS without writing its output */
    LIN_FAULT_NAN   = 2, /**< the callback computes its output, then writes NaN in its last element */
    LIN_FAULT_INF   = 3, /**< the same with +infinity */
    LIN_FAULT_REPEAT = 0x100 /**< OR-ed into the kind: fail the nth call and every later one */
};

/** The non-zero status a callback returns under LIN_FAULT_ERROR. */
#define LIN_FAULT_STATUS 42

/** Flags for lin_dss_model: which derivative callbacks the dss_model gets. */
enum { LIN_WITH_JACOBIAN = 1, LIN_WITH_VJP = 2, LIN_WITH_JVP = 4 };

/**
 * The model. Every field is public so that tests read the counters directly; only lin_* functions
 * should write them. The `user` pointer of every callback is the lin_model itself.
 */
typedef struct lin_model {
    size_t m, n, r;      /**< output dim, latent dim, r = min(m, n) */
    double *u;           /**< m x r row-major: column i is the left singular vector u_i */
    double *v;           /**< n x r row-major: column i is the right singular vector v_i */
    double *s;           /**< r singular values, non-increasing, >= 0 */
    double *j;           /**< m x n row-major: J = U diag(s) V^T as stored (the exact operator f uses) */

    /* counters (reset by lin_reset_counters) */
    size_t f_calls;          /**< calls of lin_f */
    size_t f_points;         /**< total k over all calls of lin_f */
    size_t f_max_k;          /**< the largest k lin_f has seen */
    size_t jac_calls;        /**< calls of lin_jacobian */
    size_t jac_last_nrows;   /**< nrows of the last lin_jacobian call */
    int    jac_last_rows_null; /**< 1 when the last lin_jacobian call had rows == NULL */
    size_t *jac_last_rows;   /**< m slots: the rows[] of the last call (0..m-1 when rows == NULL) */
    double *jac_last_z;      /**< n values: the z of the last lin_jacobian call */
    size_t vjp_calls;        /**< calls of lin_vjp */
    size_t jvp_calls;        /**< calls of lin_jvp */
    /** Number of callback calls whose arguments broke the documented conventions: k == 0,
     *  nrows == 0 or > m, rows == NULL with nrows != m, rows not strictly ascending or >= m, NULL
     *  arrays. Such a call returns -1 without writing. A correct library keeps this at 0. */
    size_t protocol_errors;

    /* fault injection (set with lin_fault) */
    int    fault_kind[LIN_NCALLBACKS];   /**< enum lin_fault_kind, possibly | LIN_FAULT_REPEAT */
    size_t fault_after[LIN_NCALLBACKS];  /**< calls still to pass before the faulty one; 0 = this one */
    size_t faults_fired;                 /**< number of faults injected so far */

    /* optional log of f's inputs (lin_log_f_inputs) */
    double *f_log;            /**< f_log_cap x n: the points f received, in call order */
    size_t  f_log_cap;        /**< capacity in points */
    size_t  f_log_count;      /**< points logged (stops growing at f_log_cap) */

    size_t *jac_row_count;    /**< m counters: how often each row was asked for (all calls) */
    size_t  jac_rows_total;   /**< rows asked for over all calls (nrows summed) */
} lin_model;

/**
 * Build a linear model of shape m x n (any of m > n, m == n, m < n).
 * @param s     r = min(m, n) singular values, non-increasing and >= 0 (copied); NULL gives the
 *              default s_i = r - i (r, r-1, ..., 1: distinct, gaps of 1).
 * @param seed  seeds the pseudo-random matrices whose Gram-Schmidt orthonormalisation (done
 *              twice, for orthonormality to machine precision) gives U and V.
 * @return the model, or NULL when m or n is 0, s is not non-increasing and >= 0, or memory fails.
 */
lin_model *lin_create(size_t m, size_t n, const double *s, uint64_t seed);

/** Free a model (NULL is a no-op). Destroy the dss_model made from it first. */
void lin_destroy(lin_model *lm);

/** dss_generate_fn: x (k x m) = z (k x n) J^T, i.e. x_i = J z_i. Counts, logs, injects faults. */
int lin_f(void *user, size_t k, const double *z, double *x);

/** dss_jacobian_fn: rows of J (all m in order when rows == NULL). Records nrows, rows and z. */
int lin_jacobian(void *user, const double *z, size_t nrows, const size_t *rows, double *out);

/** dss_vjp_fn: out (k x n) = U (k x m) J. */
int lin_vjp(void *user, const double *z, size_t k, const double *u, double *out);

/** dss_jvp_fn: out (k x m), row i = J v_i. */
int lin_jvp(void *user, const double *z, size_t k, const double *v, double *out);

/**
 * Create a dss_model for lm: n, m and lin_f with lm as user pointer, plus the derivative
 * callbacks selected by flags (LIN_WITH_JACOBIAN | LIN_WITH_VJP | LIN_WITH_JVP).
 * @return the status of the dss_model_* calls; *out is NULL on failure.
 */
int lin_dss_model(lin_model *lm, unsigned flags, dss_model **out);

/** Zero every counter (row counts included), the recorded rows/z, the f log count and
 *  faults_fired (not pending faults). */
void lin_reset_counters(lin_model *lm);

/**
 * Arm a fault: the nth call of `callback` from now on (nth >= 1; 1 = the next call) misbehaves as
 * `kind` says; with LIN_FAULT_REPEAT in kind every call from the nth on does. One pending fault
 * per callback; LIN_FAULT_NONE disarms.
 */
void lin_fault(lin_model *lm, int callback, int kind, size_t nth);

/** Log the inputs of f from now on, up to max_points points (replaces an earlier log).
 *  @return 0, or -1 when memory fails. */
int lin_log_f_inputs(lin_model *lm, size_t max_points);

/** Copy the right singular vector v_i (n values) into out. */
void lin_right_vector(const lin_model *lm, size_t i, double *out);

/** x (m values) = J z, without counting or faults. */
void lin_apply(const lin_model *lm, const double *z, double *x);

/* ==============================================================================================
 * 2. A deterministic generator for test data (splitmix64)
 * ============================================================================================ */

typedef struct support_rng { uint64_t state; } support_rng;

/** Seed the generator; the same seed gives the same stream on every platform. */
void     support_rng_seed(support_rng *r, uint64_t seed);
/** The next 64 random bits. */
uint64_t support_rng_next(support_rng *r);
/** Uniform in [0, 1), 53 random bits. */
double   support_rng_uniform(support_rng *r);
/** Uniform in [lo, hi). */
double   support_rng_range(support_rng *r, double lo, double hi);
/** Standard normal (Box-Muller). */
double   support_rng_gaussian(support_rng *r);
/** Fill x[0..count) with uniform values in [lo, hi). */
void     support_fill_uniform(support_rng *r, double *x, size_t count, double lo, double hi);

/* ==============================================================================================
 * 3. Numerical helpers
 * ============================================================================================ */

/** max_i |a_i - b_i| (0 for count 0; NaN anywhere gives NaN). */
double support_max_abs_diff(const double *a, const double *b, size_t count);
/** max_i |a_i| */
double support_max_abs(const double *a, size_t count);
/** Euclidean norm. */
double support_norm2(const double *a, size_t count);
/** Dot product. */
double support_dot(const double *a, const double *b, size_t count);
/** min(max_i |a_i - b_i|, max_i |a_i + b_i|): distance between a and b up to a sign flip. */
double support_sign_diff(const double *a, const double *b, size_t count);
/** 1 when support_sign_diff(a, b, count) <= tol, else 0. */
int    support_equal_up_to_sign(const double *a, const double *b, size_t count, double tol);
/** max |B B^T - I| over the entries, for B l x n row-major (how far its rows are from orthonormal). */
double support_orthonormality_error(const double *rows, size_t l, size_t n);
/** 1 when every value is finite. */
int    support_all_finite(const double *a, size_t count);

/**
 * Singular values of a (rows x cols, row-major; not modified), min(rows, cols) of them written to
 * s in descending order. One-sided Jacobi on a copy of the shorter side: each value has a relative
 * error of a few machine epsilons times the number of sweeps (small matrices only: O(p^2 q) per
 * sweep). @return 0, or -1 when memory fails.
 */
int    support_singular_values(const double *a, size_t rows, size_t cols, double *s);

/** Pearson's statistic sum_i (O_i - N p_i)^2 / (N p_i), N = sum_i O_i; cells with p_i == 0 must
 *  have O_i == 0 (else +infinity). */
double support_chi_square(const size_t *observed, const double *p, size_t cells);

/** Upper tail P(X >= x) of the chi-square distribution with df degrees of freedom (regularised
 *  incomplete gamma Q(df/2, x/2), series or continued fraction, ~1e-12 accurate). */
double support_chi_square_sf(double x, double df);

/* ==============================================================================================
 * 4. Session snapshots and twins
 * ============================================================================================ */

/** Largest parameter id and statistics key a snapshot records. */
#define SUPPORT_MAX_PARAM 31
#define SUPPORT_MAX_STAT 15

/** Everything the public API shows of a session. Fill with support_snapshot_take. */
typedef struct support_snapshot {
    int     started;        /**< dss_search_center returned DSS_OK (else it returned DSS_ESTATE) */
    size_t  n;              /**< latent dimension */
    size_t  l;              /**< dss_search_subspace_dim */
    size_t  rank;           /**< dss_search_rank */
    double *center;         /**< n values (when started) */
    double *basis;          /**< l x n (when started) */
    size_t *indices;        /**< l (when started) */
    double *sv;             /**< rank singular values (when started) */
    double  params[SUPPORT_MAX_PARAM + 1];     /**< dss_search_get of every documented parameter,
                                                    indexed by its id */
    int     param_status[SUPPORT_MAX_PARAM + 1]; /**< the status of each of those gets */
    double  stats[SUPPORT_MAX_STAT + 1];       /**< dss_search_stat of the deterministic counters
                                                    (DSS_STAT_POINTS .. DSS_STAT_UNDO_RECOMPUTES),
                                                    indexed by key; cumulative over successful
                                                    calls, so a failed call leaves them alone */
    double  slider_radius;  /**< dss_search_slider_radius: the radius policy's scale in force */
} support_snapshot;

/**
 * Record what the public API shows of search (n = the model's latent dimension).
 * @return 0, or -1 when memory fails or an accessor returns an unexpected status.
 */
int  support_snapshot_take(const dss_search *search, size_t n, support_snapshot *snap);
/** Free the arrays of a snapshot (the struct itself is the caller's). */
void support_snapshot_free(support_snapshot *snap);
/** 1 when two snapshots are bit-identical (memcmp on every array and parameter), else 0. The
 *  statistics are not compared: twins with different (successful) histories may legitimately
 *  differ there. (The RNG state and availability flags are not visible here: compare futures
 *  with support_same_draws / support_twins_agree.) */
int  support_snapshot_equal(const support_snapshot *a, const support_snapshot *b);
/** 1 when search still shows exactly what snap recorded, statistics included (takes a fresh
 *  snapshot and compares): the check for "a failed call changes nothing". */
int  support_snapshot_matches(const dss_search *search, size_t n, const support_snapshot *snap);

/**
 * Twin check of the future: call dss_search_resample `draws` times on a and on b (both started
 * sessions of models of latent dimension n) and compare the statuses, bases and basis indices
 * bit for bit after each call. Both sessions advance.
 * @return 1 when every step matched, else 0.
 */
int  support_same_draws(dss_search *a, dss_search *b, size_t n, size_t draws);

/**
 * Full twin check: a and b show bit-identical snapshots now, then `draws` resamples match
 * (support_same_draws), then dss_search_commit(., 0.9) (far from the centre: recomputes the
 * Jacobian) and dss_search_commit(., 0.5) (near: keeps it) give equal statuses and snapshots,
 * then draws + 3 calls of dss_search_undo give equal statuses and snapshots (so a failed call
 * must not have left a step in the undo history either).
 * Both sessions advance; disarm injected faults first.
 * @return 1 when everything matched, else 0.
 */
int  support_twins_agree(dss_search *a, dss_search *b, size_t n, size_t draws);

/* ==============================================================================================
 * 5. A counting, guarding allocator (leak checks in every test program)
 * ============================================================================================ */

/**
 * The allocator that lin_dss_model gives every model (and that tests may give dss_line and
 * other models): malloc and free around a block with a header and guard bytes after the
 * payload, which is handed out filled with 0xFF bytes (NaN as a double, a wild pointer), so
 * that a read of memory the library never wrote shows. It counts live blocks and bytes (atomically: test_threads shares it between
 * threads) and, on each free, checks the header and the guard bytes, counting a block that was
 * written past its end or freed twice as a heap error.
 */
const dss_allocator *support_allocator(void);
/** Blocks allocated through support_allocator and not yet freed. */
size_t support_live_blocks(void);
/** Their payload bytes (what the library asked for). */
size_t support_live_bytes(void);
/** Allocations through support_allocator so far (never decreases). */
size_t support_allocations(void);
/** Frees that found a damaged header or guard (overflow, double free) so far. */
size_t support_heap_errors(void);

/**
 * cmocka setup: remember the live block count and heap errors as the baseline of this test.
 * (state is untouched.)
 */
int support_leak_setup(void **state);
/**
 * cmocka teardown (per test, or for a whole group): returns -1, with a message naming the
 * counts, when blocks allocated since the baseline are still live or a heap error occurred; the
 * current counts then become the baseline, so one leaking test does not fail every later one.
 */
int support_leak_teardown(void **state);
/**
 * For a test program's main: `return support_leak_exit(cmocka_run_group_tests(...));`. cmocka
 * does not fail a run whose group teardown fails, so the end-of-program check is this: returns
 * `failed`, or more (with a message) when any block of support_allocator is still live, a heap
 * error occurred, or a call left a session breaking lib/session.c's invariants (the tests link
 * the library built with DSS_CHECK_INVARIANTS, which checks them after every change). Every
 * test program's main ends with it.
 */
int support_leak_exit(int failed);

/* CRC-32 of IEEE 802.3 (zlib's), bit by bit: the tests' own reference for the save format's
   checksum (docs/format.md), independent of lib/persist.c. test_persist checks it against the
   standard check value. */
uint32_t support_crc32(const unsigned char *p, size_t len);

#endif /* DSS_TESTS_SUPPORT_H */
