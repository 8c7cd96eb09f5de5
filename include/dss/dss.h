/*
 * libdss: differential subspace search in the latent space of generative models.
 * Copyright (c) 2026 the libdss authors. MIT licence, see LICENSE.
 *
 * This header is the manual. Read it top to bottom:
 *   1. version and status codes
 *   2. host callbacks (your generator, its derivatives, your score)
 *   3. dss_model     - wraps your generator f: R^n -> R^m
 *   4. dss_search    - a subspace-search session: centre, Jacobian SVD, slider
 *   5. dss_line      - the simulated user: a batched 1-D line search ("find_optimal")
 *   6. dss_synthetic - the authors' synthetic test problem, ready to use
 *
 * Conventions that hold everywhere:
 *   - Every fallible function returns DSS_OK (0) or a negative DSS_E* code. libdss never aborts,
 *     exits or prints.
 *   - A function that fails leaves its handle exactly as it was before the call.
 *   - Matrices are dense, row-major, contiguous doubles. A batch of k vectors of length n is a
 *     k x n block. n is the latent dimension, m the output dimension.
 *   - Caller buffers stay owned by the caller; libdss never keeps a pointer to them after the call
 *     returns (the model keeps only the callback pointers and the user pointer you give it).
 *   - Distinct handles may be used from distinct threads at once; one handle is not thread-safe.
 *     A dss_model is only read by searches and line searches, so several threads may share it.
 */
#ifndef DSS_DSS_H
#define DSS_DSS_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Marks the exported API. The library is built with hidden visibility and DSS_BUILDING. */
#if defined(_WIN32) && defined(DSS_BUILDING_DLL)
#  define DSS_API __declspec(dllexport)
#elif defined(__GNUC__) && __GNUC__ >= 4
#  define DSS_API __attribute__((visibility("default")))
#else
#  define DSS_API
#endif

/* ============================================================================================
 * 1. Version and status codes
 * ========================================================================================== */

#define DSS_VERSION_MAJOR 1
#define DSS_VERSION_MINOR 2
#define DSS_VERSION_PATCH 0
#define DSS_VERSION_NUMBER (DSS_VERSION_MAJOR * 10000 + DSS_VERSION_MINOR * 100 + DSS_VERSION_PATCH)

/**
 * @return the runtime value of DSS_VERSION_NUMBER (compare it with the header you compiled with).
 * @since 1.0
 */
DSS_API unsigned dss_version_number(void);

/**
 * @return the library version as a static string, e.g. "1.0.0".
 * @since 1.0
 */
DSS_API const char *dss_version_string(void);

/** Status codes. Values are part of the ABI and never change. */
enum {
    DSS_OK           =  0, /**< success */
    DSS_EINVAL       = -1, /**< bad argument: NULL, zero or overflowing size, out-of-range value */
    DSS_ENOMEM       = -2, /**< allocation failed */
    DSS_ECALLBACK    = -3, /**< a host callback returned non-zero */
    DSS_ENONFINITE   = -4, /**< NaN or infinity in an input or in a callback's output */
    DSS_ELAPACK      = -5, /**< the linear-algebra backend reported failure */
    DSS_ESTATE       = -6, /**< call not valid now, e.g. dss_search_point before dss_search_start */
    DSS_EFORMAT      = -7, /**< malformed or incompatible saved state */
    DSS_ECANCELLED   = -8, /**< the progress callback asked to stop */
    DSS_EUNSUPPORTED = -9, /**< the requested mode needs a callback the model does not have */
    DSS_EBUSY        = -10 /**< the handle was called, to change it, from inside one of its own
                                calls (a callback re-entering it); nothing was done (@since 1.1) */
};

/**
 * Describe a status code.
 * @param status a DSS_* status code (any int is accepted).
 * @return a static English sentence; an unknown code gives a generic message. Never NULL.
 * @since 1.0
 */
DSS_API const char *dss_strerror(int status);

/* ============================================================================================
 * 2. Host callbacks
 *
 * Each callback returns 0 on success; any other value aborts the library call, which then
 * returns DSS_ECALLBACK and changes nothing. A callback may read the handle whose call is running
 * it (dss_search_center, dss_search_save, ...: they see the state before the call), but every
 * call that would change that handle (dss_search_set, _set_progress, _start, _commit,
 * _commit_w, _resample, _undo, _load; dss_line_set, _set_progress, dss_find_optimal,
 * dss_search_find_optimal and dss_search_find_optimal_w on the running line) returns DSS_EBUSY and does nothing (since 1.1;
 * destroying it there is still undefined). Other handles may be used freely. Outputs are
 * checked for NaN and infinity
 * (DSS_ENONFINITE). The `user` pointer is the one given to dss_model_create (or to the call that
 * takes the score). Input arrays are valid only during the call; do not keep them.
 * ========================================================================================== */

/** f: decode k latent vectors z (k x n) into k outputs x (k x m). */
typedef int (*dss_generate_fn)(void *user, size_t k, const double *z, double *x);

/**
 * Jacobian rows of f at z (n values). rows == NULL means all m rows in order (nrows == m);
 * otherwise rows[] holds nrows distinct row indices (ascending). out: nrows x n, row i is the
 * gradient of output rows[i].
 */
typedef int (*dss_jacobian_fn)(void *user, const double *z, size_t nrows,
                               const size_t *rows, double *out);

/** out (k x n) = U (k x m) * J(z): k vector-Jacobian products. */
typedef int (*dss_vjp_fn)(void *user, const double *z, size_t k, const double *u, double *out);

/** out (k x m): row i = J(z) * v_i for the rows v_i of V (k x n). */
typedef int (*dss_jvp_fn)(void *user, const double *z, size_t k, const double *v, double *out);

/** g: score k outputs x (k x m) into score[k]. */
typedef int (*dss_score_fn)(void *user, size_t k, const double *x, double *score);

/**
 * Progress of long work: `done` of `total` units of `stage` (one of DSS_STAGE_*) are finished.
 * Asked before the first piece of each stage (done = 0; since 1.1) and after every piece, so a
 * Cancel pressed before or during slow work is heard before the next host callback. Return 0 to
 * go on, non-zero to cancel: the library call then returns DSS_ECANCELLED and changes nothing.
 */
typedef int (*dss_progress_fn)(void *user, int stage, size_t done, size_t total);

/** Stages reported to a dss_progress_fn. Values never change. */
enum {
    DSS_STAGE_JACOBIAN    = 1, /**< host Jacobian rows fetched (per DSS_SEARCH_JACOBIAN_CHUNK) */
    DSS_STAGE_FINITE_DIFF = 2, /**< finite-difference points evaluated (per batch) */
    DSS_STAGE_RANDOMIZED  = 3, /**< randomized-SVD passes (VJP or JVP batches) finished */
    DSS_STAGE_LINE_GRID   = 4, /**< line-search grid points scored (per batch) */
    DSS_STAGE_LINE_REFINE = 5, /**< line-search refinement steps (total is an upper bound) */
    DSS_STAGE_DECOMPOSE   = 6  /**< the SVD of a Jacobian block (FULL, ROWS, FINITE_DIFF): 0 of 1
                                    before, 1 of 1 after (@since 1.1) */
};

/* ============================================================================================
 * 3. dss_model: your generator
 *
 * A model wraps the host's generator f: R^n -> R^m and, optionally, its derivatives. Create it
 * with the generator, add what derivatives you have, then hand it to any number of searches and
 * line searches (it must outlive them). A model is never modified by the objects that use it.
 *
 *     dss_model *model;
 *     dss_model_create(&model, n, m, my_f, my_state);
 *     dss_model_set_jacobian(model, my_jacobian);   // optional
 *     dss_model_set_max_batch(model, 64);            // optional: f sees at most 64 points
 *     ...
 *     dss_model_destroy(model);
 * ========================================================================================== */

typedef struct dss_model dss_model;

/**
 * Create a model.
 * @param out   receives the new model; set to NULL on failure.
 * @param n     latent dimension, >= 1.
 * @param m     output dimension, >= 1; n * m and n * n doubles must fit in memory's address
 *              range (size_t: on a 32-bit machine n stays below 23171).
 * @param f     the generator; required.
 * @param user  passed unchanged to every callback of this model; may be NULL.
 * @retval DSS_OK      success.
 * @retval DSS_EINVAL  out or f NULL, n or m zero, or n * m * sizeof(double) or
 *                     n * n * sizeof(double) overflows size_t.
 * @retval DSS_ENOMEM  allocation failed.
 * @since 1.0
 */
DSS_API int dss_model_create(dss_model **out, size_t n, size_t m, dss_generate_fn f, void *user);

/**
 * Custom allocation. Every byte a handle holds (and the scratch its calls use) goes through its
 * allocator; there is no global state. alloc returns NULL on failure (the call then returns
 * DSS_ENOMEM and changes nothing); free(user, NULL) is never called. Both must be thread-safe
 * only if handles sharing the allocator are used from several threads.
 */
typedef struct dss_allocator {
    void *(*alloc)(void *user, size_t size); /**< like malloc; size is never 0 */
    void  (*free)(void *user, void *ptr);    /**< like free */
    void   *user;                            /**< passed to both */
} dss_allocator;

/**
 * As dss_model_create, with an allocator (copied) used by the model and by every dss_search
 * created on it. allocator == NULL means malloc and free.
 * @retval DSS_EINVAL also when allocator has a NULL alloc or free.
 * @since 1.0
 */
DSS_API int dss_model_create_with_allocator(dss_model **out, size_t n, size_t m,
                                            dss_generate_fn f, void *user,
                                            const dss_allocator *allocator);

/**
 * Destroy a model. NULL is a no-op. Searches using it must be destroyed first.
 * @since 1.0
 */
DSS_API void dss_model_destroy(dss_model *model);

/**
 * Set (or, with NULL, remove) the full/row Jacobian callback. Enables DSS_JACOBIAN_FULL and
 * DSS_JACOBIAN_ROWS, and makes DSS_JACOBIAN_AUTO use it.
 *
 * This and the other dss_model_set_* functions may be called at any time, also from inside a
 * callback of a call running on the model: a library call takes the model's callbacks and max
 * batch as they are when it begins and keeps them to its end, so a change takes effect at the
 * next call.
 * @retval DSS_OK success. @retval DSS_EINVAL model is NULL.
 * @since 1.0
 */
DSS_API int dss_model_set_jacobian(dss_model *model, dss_jacobian_fn jacobian);

/**
 * Set (or, with NULL, remove) the vector-Jacobian-product callback (for the matrix-free mode).
 * @retval DSS_OK success. @retval DSS_EINVAL model is NULL.
 * @since 1.0
 */
DSS_API int dss_model_set_vjp(dss_model *model, dss_vjp_fn vjp);

/**
 * Set (or, with NULL, remove) the Jacobian-vector-product callback (for the matrix-free mode).
 * @retval DSS_OK success. @retval DSS_EINVAL model is NULL.
 * @since 1.0
 */
DSS_API int dss_model_set_jvp(dss_model *model, dss_jvp_fn jvp);

/**
 * Limit the number of points per call of f. Every library call that evaluates f (finite
 * differences, line searches, dss_model_generate) splits its work into batches of at most k.
 * The default is unlimited.
 * @retval DSS_OK success. @retval DSS_EINVAL model NULL or k == 0.
 * @since 1.0
 */
DSS_API int dss_model_set_max_batch(dss_model *model, size_t k);

/**
 * Declare the relative precision of f's outputs: DBL_EPSILON (the default) for a generator
 * computed in double, FLT_EPSILON (about 1.2e-7) for one computed in float32 (most neural
 * networks, GPUs, DCC tools and games), or a measured noise level. Finite differences then take
 * the step that balances truncation against that rounding, h_i = step * max(1, |c_i|) with
 * step = sqrt(eps) (forward) or cbrt(eps) (central), unless DSS_SEARCH_DIFF_STEP sets one: a
 * forward difference errs by about h |f''| / 2 + 2 eps |f| / h, so by about 2 sqrt(eps) times
 * the scale of f (and f''), a central one by about eps^(2/3). With the double-precision step a
 * float32 generator's differences are rounding noise (errors of about eps_32 / sqrt(eps_64),
 * ten times the Jacobian itself, or exact zeros where z_i + h rounds back to z_i).
 * Like the other setters, it takes effect at the next call that uses the model; an undo that
 * recomputes an older decomposition uses the precision in force then.
 * @param model the model.
 * @param eps in [DBL_EPSILON, 1).
 * @retval DSS_OK success. @retval DSS_EINVAL model NULL or eps out of range (unchanged).
 * @since 1.2
 */
DSS_API int dss_model_set_precision(dss_model *model, double eps);

/** The precision dss_model_set_precision declared (DBL_EPSILON by default); 0 for NULL.
 *  @since 1.2 */
DSS_API double dss_model_precision(const dss_model *model);

/**
 * Evaluate f on k latent vectors, split into calls of at most the max batch.
 * @param model the model. @param k number of points, >= 1.
 * @param z k x n inputs (checked for NaN/infinity). @param x k x m outputs (caller-owned).
 * @retval DSS_OK success.
 * @retval DSS_EINVAL     model, z or x NULL, k zero or k * m overflowing.
 * @retval DSS_ENONFINITE z or f's output holds NaN or infinity (x is then unspecified).
 * @retval DSS_ECALLBACK  f returned non-zero (x is then unspecified).
 * @since 1.0
 */
DSS_API int dss_model_generate(const dss_model *model, size_t k, const double *z, double *x);

/** @return the latent dimension n, or 0 for NULL. @since 1.0 */
DSS_API size_t dss_model_latent_dim(const dss_model *model);

/**
 * The last failed call that changes this model (dss_model_set_*), as "function: detail"; ""
 * before any failure. dss_model_generate does not write it: it may run on several threads at
 * once (its failures are reported by the search or line that called the generator).
 * @since 1.1
 */
DSS_API const char *dss_model_errmsg(const dss_model *model);

/** @return the output dimension m, or 0 for NULL. @since 1.0 */
DSS_API size_t dss_model_output_dim(const dss_model *model);

/* ============================================================================================
 * 4. dss_search: a subspace-search session
 *
 * The session holds a centre c in latent space, the singular values s and right-singular vectors
 * V of the generator's Jacobian J = df/dz(c), and the current l-dimensional subspace (l rows of
 * V drawn with probability proportional to s_i + 1e-6, without replacement). The host shows a
 * slider t in [0,1] that maps to c + (2t - 1) * radius * b and, when the user releases it,
 * commits the position: the centre moves there, the Jacobian is recomputed unless the slider was
 * left near the middle, and a new direction is drawn.
 *
 *     dss_search *s;
 *     dss_search_create(&s, model);
 *     dss_search_set(s, DSS_SEARCH_SEED, 42);
 *     dss_search_start(s, z0);                    // Jacobian, SVD, first direction
 *     for (;;) {
 *         dss_search_point(s, t, z);              // on every slider move: show f(z)
 *         dss_search_commit(s, t);                // on release
 *         dss_search_resample(s);                 // on "show me another direction"
 *     }
 *     dss_search_destroy(s);
 *
 * Transactions. Every call that changes a session (start, commit, commit_w, resample, undo,
 * load) is one transaction: it computes into scratch state (a copy of the session and a spare
 * decomposition) and then publishes in one step that cannot fail, the same step for all six
 * (lib/session.c; docs/design.md section 4). A call that fails therefore leaves the session,
 * its random stream, its undo history and its statistics exactly as they were; what it may
 * leave behind is memory (workspaces grown, vectors cached) that changes no result. Undo never
 * takes a recomputed decomposition that differs from the one it recorded (DSS_ESTATE), and load
 * refuses a model that cannot continue the session (DSS_EUNSUPPORTED).
 * ========================================================================================== */

typedef struct dss_search dss_search;

/**
 * Create a session on a model (which must outlive it). Nothing is computed until
 * dss_search_start.
 * @param out receives the session; set to NULL on failure.
 * @param model the generator; it must outlive the session (not copied).
 * @retval DSS_OK success. @retval DSS_EINVAL out or model NULL. @retval DSS_ENOMEM no memory.
 * @since 1.0
 */
DSS_API int dss_search_create(dss_search **out, const dss_model *model);

/** Destroy a session. NULL is a no-op. @since 1.0 */
DSS_API void dss_search_destroy(dss_search *search);

/** Parameters of a session, for dss_search_set / dss_search_get. Values never change. */
enum dss_search_param {
    DSS_SEARCH_SUBSPACE_DIM     = 1,  /**< l >= 1 (integer, <= n), default 1 */
    DSS_SEARCH_RADIUS           = 2,  /**< slider half-length in latent units (finite, > 0); default from the prior;
                                           the policy (17) scales it */
    DSS_SEARCH_CENTER_TOLERANCE = 3,  /**< in [0, 0.5], default 0.05: |t - 0.5| <= tol keeps the Jacobian,
                                           decided exactly on the doubles given (the double nearest
                                           0.55 lies above 0.55, so t = 0.55 recomputes) */
    DSS_SEARCH_SEED             = 4,  /**< RNG seed, integer in [0, 2^53], default 0 */
    DSS_SEARCH_JACOBIAN         = 5,  /**< one of DSS_JACOBIAN_*, default DSS_JACOBIAN_AUTO */
    DSS_SEARCH_JACOBIAN_ROWS    = 6,  /**< rows drawn in DSS_JACOBIAN_ROWS mode (integer in [1, 2^53]), default 50 */
    DSS_SEARCH_RANK             = 7,  /**< k kept by DSS_JACOBIAN_RANDOMIZED (integer in [1, 2^53]), default 32 */
    DSS_SEARCH_SAMPLER          = 8,  /**< one of DSS_SAMPLER_*, default DSS_SAMPLER_SINGULAR */
    DSS_SEARCH_PRIOR            = 9,  /**< DSS_PRIOR_GAUSSIAN (default) or DSS_PRIOR_BOX */
    DSS_SEARCH_PRIOR_SCALE      = 10, /**< sigma of N(0, sigma^2 I), or R of the box [-R, R]^n (finite, > 0,
                                           and giving a finite, positive default radius); default 1 */
    DSS_SEARCH_HISTORY          = 11, /**< steps dss_search_undo can go back (integer in [0, 65536]), default
                                           64; shrinking it forgets the oldest steps. Up to 256 steps
                                           are allocated at once, so that steps allocate nothing. */
    DSS_SEARCH_DIFF_SCHEME      = 12, /**< DSS_DIFF_FORWARD (default, n+1 points) or DSS_DIFF_CENTRAL (2n) */
    DSS_SEARCH_DIFF_STEP        = 13, /**< finite-difference step h_i = step * max(1, |c_i|), step in [0, 1);
                                           0 (default) picks sqrt(eps) for forward and cbrt(eps) for
                                           central differences, eps the model's precision
                                           (dss_model_set_precision) */
    DSS_SEARCH_OVERSAMPLE       = 14, /**< RANDOMIZED: extra probe directions beyond the rank (integer in
                                           [0, 2^53]), default 10 */
    DSS_SEARCH_POWER_ITERATIONS = 15, /**< RANDOMIZED: power iterations (integer in [0, 16]), default 1 */
    DSS_SEARCH_JACOBIAN_CHUNK   = 16, /**< FULL and ROWS: rows per Jacobian callback (integer in [0, 2^53]); 0
                                           (default) asks for all rows at once, except that with
                                           a progress callback set a block of 1024 rows or more
                                           is asked in 4 pieces (since 1.1). With chunks, FULL mode
                                           names its rows explicitly, and the progress callback is
                                           asked after each chunk. */
    /* The slider-range policy (docs/algorithm.md, "Beyond the paper"): the slider spans
       c +- scale * radius * b, and the policy updates the scale after every commit from where
       the host committed. Under DSS_RADIUS_FIXED (the default) the scale is 1 for ever and
       parameters 18..21 have no effect; with DSS_SEARCH_STALL_COMMITS = 0 too (the default),
       the session is the paper's method, bit for bit. The measured recommendation for rugged
       scores whose sessions stall: DSS_RADIUS_ADAPTIVE with DSS_SEARCH_STALL_COMMITS = 4; on
       image generators it is no better than the default (docs/algorithm.md section 10,
       "Across generators"). */
    DSS_SEARCH_RADIUS_POLICY    = 17, /**< one of DSS_RADIUS_*, default DSS_RADIUS_FIXED. @since 1.1 */
    DSS_SEARCH_RADIUS_GROW      = 18, /**< ADAPTIVE: scale factor after a commit at an end of the slider
                                           (|2t - 1| >= 0.9) or at its centre (|t - 0.5| <=
                                           DSS_SEARCH_CENTER_TOLERANCE), in (1, 16], default 2. @since 1.1 */
    DSS_SEARCH_RADIUS_SHRINK    = 19, /**< ZOOM: scale factor after each commit that leaves the centre
                                           in place; in (0, 1), default 0.5. @since 1.1 */
    DSS_SEARCH_RADIUS_MIN       = 20, /**< lower bound of the scale, in (0, 1], default 1/16. @since 1.1 */
    DSS_SEARCH_RADIUS_MAX       = 21, /**< upper bound of the scale, in [1, 1e6], default 2. @since 1.1 */
    DSS_SEARCH_STALL_COMMITS    = 22, /**< k, the stall escape (any policy; 0, the default: never): the
                                           k-th commit in a row that leaves the centre in place
                                           recomputes the Jacobian at the new centre and shows its top
                                           singular direction(s), at scale 1. An escape followed by
                                           another centred commit doubles the count the next escape
                                           needs, up to 16 k; a commit that moves the centre restores
                                           k. Integer in [0, 1e6]; 4 is the measured choice
                                           (docs/algorithm.md section 10). @since 1.1 */
    DSS_SEARCH_KEEP_SHOWN       = 23  /**< 1: a commit that recomputes the Jacobian and finds the
                                           singular values it had (within 1e-6 s_1: a linear
                                           generator, such as shape keys) keeps which directions
                                           have been shown, so that each is shown once before any
                                           is shown again; 0 (the default, the paper's method):
                                           every recomputation makes all of them available
                                           again. dss_search_start always does (a restart is
                                           a new session). Saved only when 1. @since 1.2 */
};

/** Slider-range policies (DSS_SEARCH_RADIUS_POLICY); docs/algorithm.md section 10. @since 1.1 */
enum {
    DSS_RADIUS_FIXED    = 0, /**< the paper's fixed half-length: scale 1 for ever */
    DSS_RADIUS_ZOOM     = 1, /**< scale 1 while commits move the centre; a commit that leaves it in
                                  place zooms in (x RADIUS_SHRINK) down to RADIUS_MIN, and the next
                                  one jumps to RADIUS_MAX (then zooming in again). Kept for
                                  comparison: it loses to ADAPTIVE on both benchmarks */
    DSS_RADIUS_ADAPTIVE = 2  /**< a commit at an end of the slider (the best point may lie beyond)
                                  or at its centre (nothing better nearby) grows the scale
                                  (x RADIUS_GROW); any other commit restores scale 1 */
};

/** How the Jacobian is obtained (DSS_SEARCH_JACOBIAN). */
enum {
    DSS_JACOBIAN_AUTO        = 0, /**< FULL when the model has a Jacobian callback, else RANDOMIZED
                                       when it has a VJP callback, else FINITE_DIFF */
    DSS_JACOBIAN_FULL        = 1, /**< all m rows from the Jacobian callback */
    DSS_JACOBIAN_ROWS        = 2, /**< DSS_SEARCH_JACOBIAN_ROWS distinct random rows (the authors'
                                       "stochastic Jacobian"); min(rows, m) rows are used */
    DSS_JACOBIAN_FINITE_DIFF = 3, /**< finite differences of f, issued as batched calls */
    DSS_JACOBIAN_RANDOMIZED  = 4  /**< matrix-free randomized SVD (Halko, Martinsson, Tropp 2011) of
                                       the top DSS_SEARCH_RANK singular pairs, through the VJP
                                       callback (required) and the JVP callback or, without one,
                                       forward differences of f; (power + 1) * (rank + oversample)
                                       VJPs and as many JVPs per update, whatever m is. Only the
                                       kept directions are ever proposed at a centre. */
};

/** How subspaces are drawn (DSS_SEARCH_SAMPLER). */
enum {
    DSS_SAMPLER_SINGULAR = 0, /**< importance sampling, p ~ s_i + 1e-6, without replacement */
    DSS_SAMPLER_RANDOM   = 1, /**< uniformly random unit directions (baseline) */
    DSS_SAMPLER_TOP      = 2  /**< largest singular values first (deterministic) */
};

/** The latent prior that sets the default radius (DSS_SEARCH_PRIOR). */
enum { DSS_PRIOR_GAUSSIAN = 0, DSS_PRIOR_BOX = 1 };

/** Finite-difference schemes (DSS_SEARCH_DIFF_SCHEME). */
enum { DSS_DIFF_FORWARD = 0, DSS_DIFF_CENTRAL = 1 };

/**
 * Set a parameter. Parameters may be changed at any time and take effect at the next call that
 * uses them: DSS_SEARCH_RADIUS at once for point, point_w and slider_ends; DSS_SEARCH_SEED
 * restarts the random stream at once (and dss_search_start restarts it from the seed again);
 * the others at the next start, commit or resample.
 * @param search the session.
 * @param param one of enum dss_search_param. @param value see the enum; integer parameters must
 *              hold integer values.
 * @retval DSS_OK success.
 * @retval DSS_EINVAL search NULL, unknown param, or value out of range (NaN included); the
 *                    session is unchanged.
 * @since 1.0
 */
DSS_API int dss_search_set(dss_search *search, int param, double value);

/**
 * The range of a search parameter, from the descriptor table the setter uses: *lo and *hi
 * receive its bounds. Integer parameters take the integers in [lo, hi]; DSS_SEARCH_RADIUS,
 * DSS_SEARCH_PRIOR_SCALE, DSS_SEARCH_RADIUS_GROW and DSS_SEARCH_RADIUS_MIN exclude lo,
 * DSS_SEARCH_DIFF_STEP excludes hi (1), and DSS_SEARCH_RADIUS_SHRINK excludes both;
 * DSS_SEARCH_SUBSPACE_DIM is further bounded by the model's n, and DSS_SEARCH_PRIOR /
 * DSS_SEARCH_PRIOR_SCALE by a finite default radius. Needs no handle.
 * @retval DSS_OK success. @retval DSS_EINVAL unknown param, or lo or hi NULL.
 * @since 1.1
 */
DSS_API int dss_search_param_bounds(int param, double *lo, double *hi);

/**
 * Read a parameter. DSS_SEARCH_RADIUS gives the base radius in force (the prior's default until
 * set); dss_search_slider_radius gives it times the radius policy's scale.
 * @retval DSS_OK success. @retval DSS_EINVAL search or value NULL, or unknown param.
 * @since 1.0
 */
DSS_API int dss_search_get(const dss_search *search, int param, double *value);

/**
 * The slider's half-length in force: DSS_SEARCH_RADIUS times the scale that the radius policy
 * (DSS_SEARCH_RADIUS_POLICY) has reached; equal to DSS_SEARCH_RADIUS under DSS_RADIUS_FIXED.
 * dss_search_point, point_w, slider_ends and commit map t through it.
 * @retval DSS_OK success. @retval DSS_EINVAL search or radius NULL.
 * @since 1.1
 */
DSS_API int dss_search_slider_radius(const dss_search *search, double *radius);

/**
 * Start (or restart) the session at z0: reseed the random stream from DSS_SEARCH_SEED, compute
 * the Jacobian and its SVD at z0, make every singular vector available and draw the first
 * subspace.
 * @param search the session. @param z0 n values (copied).
 * @retval DSS_OK success.
 * @retval DSS_EINVAL       search or z0 NULL, or l larger than the number of singular values.
 * @retval DSS_ENONFINITE   z0, or the Jacobian (callback or finite differences), not finite.
 * @retval DSS_ECALLBACK    a callback failed.
 * @retval DSS_EUNSUPPORTED the Jacobian mode needs a callback the model lacks (FULL and ROWS a
 *                          Jacobian, RANDOMIZED a VJP).
 * @retval DSS_ELAPACK      the SVD failed to converge.
 * @retval DSS_ENOMEM       allocation failed.
 * On failure the session is unchanged (a started session stays started where it was).
 * @since 1.0
 */
DSS_API int dss_search_start(dss_search *search, const double *z0);

/**
 * Map a slider position to a latent point: z = c + (2t - 1) * radius * b, where b is the first
 * basis row.
 * @param search a started session. @param t in [0, 1]. @param z receives n values.
 * @retval DSS_OK success. @retval DSS_EINVAL NULL pointer or t outside [0,1] (or NaN).
 * @retval DSS_ESTATE not started. @retval DSS_ENONFINITE the point overflows (a huge radius).
 * @since 1.0
 */
DSS_API int dss_search_point(const dss_search *search, double t, double *z);

/**
 * Map subspace coordinates to a latent point: z = c + radius * B^T w.
 * @param search a started session.
 * @param w l values in [-1, 1] (l = dss_search_subspace_dim). @param z receives n values.
 * @retval DSS_OK success. @retval DSS_EINVAL NULL pointer or some |w_i| > 1 (or NaN).
 * @retval DSS_ESTATE not started.
 * @since 1.0
 */
DSS_API int dss_search_point_w(const dss_search *search, const double *w, double *z);

/**
 * The slider's ends, point(0) and point(1). Either pointer may be NULL to skip it, not both.
 * @retval DSS_OK success. @retval DSS_EINVAL search NULL or both outputs NULL.
 * @retval DSS_ESTATE not started.
 * @since 1.0
 */
DSS_API int dss_search_slider_ends(const dss_search *search, double *z_lo, double *z_hi);

/**
 * The user released the slider at t: move the centre to point(t). If |t - 0.5| > tolerance the
 * Jacobian and its SVD are recomputed at the new centre and every singular vector becomes
 * available again; otherwise the old SVD is kept. Then a new subspace is drawn.
 * @retval DSS_OK success.
 * @retval DSS_EINVAL   search NULL, t outside [0,1], or l larger than the number of singular
 *                      values.
 * @retval DSS_ESTATE   not started.
 * @retval DSS_ENONFINITE the new centre overflows (a huge radius).
 * @retval others       as dss_search_start when the Jacobian is recomputed.
 * On failure the session is unchanged.
 * @since 1.0
 */
DSS_API int dss_search_commit(dss_search *search, double t);

/**
 * As dss_search_commit for subspace coordinates w (l values in [-1,1]): the centre moves to
 * point_w(w); the Jacobian is recomputed when max_i |w_i| > 2 * tolerance.
 * @since 1.0
 */
DSS_API int dss_search_commit_w(dss_search *search, const double *w);

/**
 * Draw a new subspace with the same centre and Jacobian ("not this direction").
 * @retval DSS_OK success. @retval DSS_EINVAL search NULL, or l larger than the number of singular
 * values. @retval DSS_ESTATE not started. On failure the session is unchanged.
 * @since 1.0
 */
DSS_API int dss_search_resample(dss_search *search);

/**
 * Copy the centre (n values) to z.
 * @retval DSS_OK success. @retval DSS_EINVAL NULL pointer. @retval DSS_ESTATE not started.
 * @since 1.0
 */
DSS_API int dss_search_center(const dss_search *search, double *z);

/**
 * Copy the current basis (l x n, orthonormal rows, l = dss_search_subspace_dim) to basis.
 * @retval DSS_OK success. @retval DSS_EINVAL NULL pointer. @retval DSS_ESTATE not started.
 * @since 1.0
 */
DSS_API int dss_search_basis(const dss_search *search, double *basis);

/**
 * The number l of rows of the current basis (which may differ from DSS_SEARCH_SUBSPACE_DIM until
 * the next draw after that parameter changed).
 * @return l, or 0 when search is NULL or not started.
 * @since 1.0
 */
DSS_API size_t dss_search_subspace_dim(const dss_search *search);

/**
 * For each basis row, the index of the singular value it was drawn from (0 = largest), so that
 * a host can show "strength" of a direction. Rows from DSS_SAMPLER_RANDOM get (size_t)-1.
 * @param search a started session. @param idx receives l values.
 * @retval DSS_OK success. @retval DSS_EINVAL NULL pointer. @retval DSS_ESTATE not started.
 * @since 1.0
 */
DSS_API int dss_search_basis_indices(const dss_search *search, size_t *idx);

/**
 * The Jacobian route the current decomposition was computed with: DSS_JACOBIAN_FULL, _ROWS,
 * _FINITE_DIFF or _RANDOMIZED, never DSS_JACOBIAN_AUTO (AUTO as resolved for this model).
 * @return the route (a positive DSS_JACOBIAN_* value), DSS_EINVAL for NULL, or DSS_ESTATE
 * before the session is started.
 * @since 1.1
 */
DSS_API int dss_search_jacobian_route(const dss_search *search);

/**
 * The number of singular values held: min(m, n) in FULL and FINITE_DIFF modes, min(rows, m, n)
 * in ROWS mode, min(rank, m, n) in RANDOMIZED mode. 0 before start or for NULL.
 * @since 1.0
 */
DSS_API size_t dss_search_rank(const dss_search *search);

/**
 * Copy the singular values, in descending order. The first min(cap, rank) values are written.
 * @param search a started session.
 * @param s receives the values (may be NULL when cap is 0). @param cap room at s, in values.
 * @retval DSS_OK success. @retval DSS_EINVAL search NULL, or s NULL with cap > 0.
 * @retval DSS_ESTATE not started.
 * @since 1.0
 */
DSS_API int dss_search_singular_values(const dss_search *search, double *s, size_t cap);

/* ---- history, persistence, progress, statistics --------------------------------------- */

/**
 * Go back to the state before the last commit or resample: centre, subspace, availability of
 * singular vectors, parameters and RNG state, so that the same calls then give bit-identical
 * results to the first time. Up to DSS_SEARCH_HISTORY steps are kept (dss_search_start clears
 * them). The session keeps the decompositions of its current and previous centres; undoing
 * further back may recompute an older Jacobian and its SVD (counted in
 * DSS_STAT_UNDO_RECOMPUTES), which calls the host's callbacks again. Whether an older one is
 * still cached depends on the calls since, failed ones included (docs/design.md); the results
 * never do.
 * @retval DSS_OK success. @retval DSS_EINVAL search NULL. @retval DSS_ESTATE nothing to undo,
 * or (since 1.1) a recomputed decomposition differs from the one recorded (another rank, or
 * singular values more than 1e-6 s_1 apart: the host's callbacks changed, or a loaded string's
 * recipe was edited). @retval DSS_EUNSUPPORTED (since 1.1) the route the decomposition took
 * needs a callback the model no longer has (undo never recomputes by another route).
 * @retval others as dss_search_start when a decomposition is recomputed.
 * On failure the session is unchanged.
 * @since 1.0
 */
DSS_API int dss_search_undo(dss_search *search);

/**
 * Save the session (centre, subspace, decomposition, parameters, RNG; not the undo history)
 * as a versioned, self-checking byte string (docs/format.md): little-endian, with a magic, a
 * format version, n, m and l, and a CRC-32.
 * @param search a started session.
 * @param buf  destination, or NULL to ask for the size only.
 * @param cap  bytes available at buf.
 * @param len  receives the size of the string (always, when not NULL).
 * @retval DSS_OK success (or size reported). @retval DSS_EINVAL search or len NULL, or cap too
 * small (len then holds the size needed). @retval DSS_ESTATE not started.
 * @since 1.0
 */
DSS_API int dss_search_save(const dss_search *search, void *buf, size_t cap, size_t *len);

/**
 * Restore a session saved by dss_search_save into a search on a model of the same n and m.
 * The calls that follow give bit-identical results to the saved session's (same callbacks).
 * The undo history is cleared.
 * @retval DSS_OK success. @retval DSS_EINVAL search or buf NULL.
 * @retval DSS_EFORMAT malformed, truncated or altered string, a future format version, or
 * another model's n or m. @retval DSS_ENOMEM no memory. @retval DSS_EUNSUPPORTED (since 1.1)
 * the model lacks a callback that the session's Jacobian mode, or the route its decomposition
 * took (AUTO as resolved when saved), needs. On failure the session is unchanged; see
 * dss_search_errmsg for which check failed.
 * @since 1.0
 */
DSS_API int dss_search_load(dss_search *search, const void *buf, size_t len);

/**
 * Set (or, with fn NULL, remove) the progress callback asked during the session's long work
 * (finite differences, randomized passes, Jacobian chunks).
 * @retval DSS_OK success. @retval DSS_EINVAL search NULL.
 * @since 1.0
 */
DSS_API int dss_search_set_progress(dss_search *search, dss_progress_fn fn, void *user);

/**
 * What went wrong in the last call on this session that failed, as "function: detail": the
 * argument or parameter and the bound it broke ("dss_search_set: DSS_SEARCH_RANK = 0 is out of
 * range (an integer in [1, 2^53])"), which callback failed and the value it returned
 * ("dss_search_commit: the Jacobian callback returned 42 (7 rows)"), why a string does not
 * load (corrupt, another model's n and m, a future version), which callback a mode lacks.
 * Calls that succeed leave it alone; "" before any failure. The string belongs to the session
 * and stays valid until its next call. Only calls given a non-NULL session write it.
 * @since 1.1
 */
DSS_API const char *dss_search_errmsg(const dss_search *search);

/** Statistics keys for dss_search_stat: cumulative over the session's successful calls. */
enum dss_search_stat_key {
    DSS_STAT_POINTS           = 1,  /**< generator points evaluated (finite differences) */
    DSS_STAT_F_CALLS          = 2,  /**< calls of f */
    DSS_STAT_JACOBIAN_CALLS   = 3,  /**< calls of the Jacobian callback */
    DSS_STAT_JACOBIAN_ROWS    = 4,  /**< Jacobian rows fetched */
    DSS_STAT_VJP_CALLS        = 5,  /**< calls of the VJP callback */
    DSS_STAT_VJP_PRODUCTS     = 6,  /**< vector-Jacobian products (rows passed to it) */
    DSS_STAT_JVP_CALLS        = 7,  /**< calls of the JVP callback */
    DSS_STAT_JVP_PRODUCTS     = 8,  /**< Jacobian-vector products */
    DSS_STAT_DECOMPOSITIONS   = 9,  /**< Jacobians decomposed (SVDs) */
    DSS_STAT_UNDO_RECOMPUTES  = 10, /**< decompositions recomputed by undo */
    DSS_STAT_SECONDS_LIBRARY  = 11, /**< seconds spent in the library, callbacks excluded */
    DSS_STAT_SECONDS_CALLBACKS= 12, /**< seconds spent in host callbacks */
    DSS_STAT_BYTES_HELD       = 13, /**< bytes the session holds now */
    DSS_STAT_PEAK_BYTES       = 14  /**< the most bytes it has held at once */
};

/**
 * An upper bound of the bytes the session will hold (DSS_STAT_PEAK_BYTES) with its current
 * parameters, for any sequence of steps and undos, computed without allocating (the model for
 * it is zstd's ZSTD_estimate*Size). Call it after dss_search_create and the dss_search_set
 * calls, before dss_search_start, to decide whether a session fits; parameters set later
 * (another Jacobian mode, a larger DSS_SEARCH_SUBSPACE_DIM or DSS_SEARCH_HISTORY) need a new
 * estimate. Host callbacks' own memory is not included.
 *
 * Memory is sized to the work: dss_search_create holds O(n) bytes, and a route's buffers are
 * allocated when it first runs. With r = min(m, n), l = DSS_SEARCH_SUBSPACE_DIM and
 * H = DSS_SEARCH_HISTORY, the bound is about 8 bytes times
 *   (H + 3)(2n + l n + r)                      the session's states and the undo ring
 * + 4 (r n + 2r)                               four decompositions (singular values, vectors:
 *                                               three slots and the one a load decodes into)
 * + 4 (n^2 + 3n)                               their Gram-route buffers, when rows >= n
 * + rows n + LAPACK's workspace                the Jacobian block (rows = m in FULL and
 *                                               FINITE_DIFF, JACOBIAN_ROWS in ROWS mode), and
 *                                               n^2 more on the Gram route
 * + c (n + m) with c = min(points, max batch,   FINITE_DIFF: one batch's points and outputs
 *   2^22 / (n + m)), points = n + 1 or 2n      (at most 2^22 doubles, 32 MB)
 * + (rank + oversample)(m + n)                 RANDOMIZED, instead of the block
 * The Gram route (a Jacobian block with at least n rows) thus needs about 8 n^2 doubles plus the
 * block: n = 8000 with m >= n needs ~4.1 GB; a wide block (m < n) needs O((H + m) n).
 * Shapes LAPACK cannot index (n^2 > INT_MAX on the Gram route, rows n > INT_MAX on the wide
 * one) are refused by dss_search_start with DSS_EINVAL before anything is allocated.
 * A bound beyond what size_t counts is reported as SIZE_MAX.
 * @param search the session. @param bytes receives the bound.
 * @retval DSS_OK success. @retval DSS_EINVAL search or bytes NULL.
 * @since 1.1
 */
DSS_API int dss_search_estimate_bytes(const dss_search *search, size_t *bytes);

/**
 * Read a statistic.
 * @retval DSS_OK success. @retval DSS_EINVAL search or value NULL, or unknown key.
 * @since 1.0
 */
DSS_API int dss_search_stat(const dss_search *search, int key, double *value);

/* ============================================================================================
 * 5. dss_line: the simulated user (find_optimal)
 *
 * Samples a segment z(t) = z_lo + t (z_hi - z_lo) on the grid t_i = i / (samples - 1), scores
 * g(f(z(t_i))) in batches, and returns the best t (ties go to the lowest i). With
 * DSS_LINE_REFINE = 1 the best grid point and its two neighbours bracket a 1-D search (Brent's
 * method: parabolic steps safeguarded by golden sections) that stops when the bracket is at
 * most 1e-6 wide in t; DSS_LINE_REFINE = 2 does the same around each of the grid's 3 best local
 * maxima. Either way the result is never worse than the grid's best. A coarse grid plus
 * refinement reaches the 10001-point grid's score with a small fraction of the generator calls:
 * 33 samples with DSS_LINE_REFINE = 2 matched the 10001-point grid on every benchmark line up to
 * n = 128 (98 % at n = 512, where 65 samples did); see docs/benchmarks.md.
 *
 *     dss_line *line;
 *     dss_line_create(&line);
 *     dss_line_set(line, DSS_LINE_SAMPLES, 101);
 *     dss_search_find_optimal(line, search, my_g, my_state, &t, &score);
 *     dss_search_commit(search, t);
 *     dss_line_destroy(line);
 *
 * The same handle is the simulated user of an l-dimensional subspace (since 1.2): a "gallery"
 * of DSS_LINE_GRID points per axis over the weights, for dss_search_commit_w
 * (dss_search_find_optimal_w; docs/algorithm.md section 11 measures it against the slider).
 * ========================================================================================== */

typedef struct dss_line dss_line;

/**
 * Create a line search with the authors' defaults (10001 samples, batches of 500, maximize).
 * @param out receives the handle; set to NULL on failure.
 * @retval DSS_OK success. @retval DSS_EINVAL out NULL. @retval DSS_ENOMEM no memory.
 * @since 1.0
 */
DSS_API int dss_line_create(dss_line **out);

/**
 * As dss_line_create, with an allocator (copied; see dss_allocator). NULL means malloc and free.
 * @retval DSS_EINVAL also when allocator has a NULL alloc or free.
 * @since 1.0
 */
DSS_API int dss_line_create_with_allocator(dss_line **out, const dss_allocator *allocator);

/** Destroy a line search. NULL is a no-op. @since 1.0 */
DSS_API void dss_line_destroy(dss_line *line);

/** Parameters of a line search. Values never change. */
enum dss_line_param {
    DSS_LINE_SAMPLES = 1, /**< grid points, integer >= 2, default 10001 */
    DSS_LINE_BATCH   = 2, /**< points per f call, integer >= 1, default 500 (also capped by the
                               model's max batch) */
    DSS_LINE_GOAL    = 3, /**< DSS_MAXIMIZE (default) or DSS_MINIMIZE */
    DSS_LINE_REFINE  = 4, /**< 0 (default): grid only; 1: refine the best grid point's bracket;
                               2: refine the brackets of the grid's 3 best local maxima (fewer
                               misses on many-peaked scores, about 2x the refinement's points);
                               the same for the gallery (dss_search_find_optimal_w) */
    DSS_LINE_GRID    = 5  /**< gallery points per axis (dss_search_find_optimal_w), integer
                               >= 2, default 5 (5 x 5 previews for l = 2) (since 1.2) */
};

/** Optimisation goal (DSS_LINE_GOAL). */
enum { DSS_MAXIMIZE = 0, DSS_MINIMIZE = 1 };

/**
 * Set a parameter.
 * @retval DSS_OK success. @retval DSS_EINVAL line NULL, unknown param or value out of range
 * (the handle is unchanged).
 * @since 1.0
 */
DSS_API int dss_line_set(dss_line *line, int param, double value);

/**
 * The range of a line-search parameter (integers in [lo, hi]), from the table dss_line_set
 * uses. @retval DSS_OK success. @retval DSS_EINVAL unknown param, or lo or hi NULL.
 * @since 1.1
 */
DSS_API int dss_line_param_bounds(int param, double *lo, double *hi);

/**
 * Read a parameter.
 * @retval DSS_OK success. @retval DSS_EINVAL line or value NULL, or unknown param.
 * @since 1.0
 */
DSS_API int dss_line_get(const dss_line *line, int param, double *value);

/**
 * Set (or, with fn NULL, remove) the progress callback asked after each grid batch and
 * refinement step of this line search's calls (DSS_STAGE_LINE_GRID, DSS_STAGE_LINE_REFINE).
 * Cancelling makes find_optimal return DSS_ECANCELLED without writing its outputs.
 * @retval DSS_OK success. @retval DSS_EINVAL line NULL.
 * @since 1.0
 */
DSS_API int dss_line_set_progress(dss_line *line, dss_progress_fn fn, void *user);

/**
 * Best t in [0,1] on the segment z(t) = z_lo + t (z_hi - z_lo), scoring g(f(z(t))).
 * @param line        the line search (its scratch buffers grow as needed).
 * @param model       the generator.
 * @param z_lo, z_hi  segment ends, n values each (model's latent dimension).
 * @param g, user     the score and its user pointer.
 * @param t_best      receives the best t (required).
 * @param score_best  receives its score (may be NULL).
 * @retval DSS_OK success.
 * @retval DSS_EINVAL     a required pointer is NULL, or sizes overflow.
 * @retval DSS_ENONFINITE z_lo or z_hi not finite, or g returned NaN or infinity.
 * @retval DSS_ECALLBACK  f or g returned non-zero.
 * @retval DSS_ENOMEM     allocation failed.
 * @retval DSS_ECANCELLED the progress callback asked to stop.
 * On failure *t_best and *score_best are not written.
 * @since 1.0
 */
DSS_API int dss_find_optimal(dss_line *line, const dss_model *model, const double *z_lo,
                             const double *z_hi, dss_score_fn g, void *user, double *t_best,
                             double *score_best);

/**
 * The same on the search's current slider (z_lo = point(0), z_hi = point(1)). The session is not
 * modified: commit the result with dss_search_commit.
 * @retval DSS_ESTATE the search is not started; otherwise as dss_find_optimal.
 * @since 1.0
 */
DSS_API int dss_search_find_optimal(dss_line *line, const dss_search *search, dss_score_fn g,
                                    void *user, double *t_best, double *score_best);

/**
 * The simulated user of an l-dimensional subspace (a "gallery"): the counterpart of
 * dss_search_find_optimal for dss_search_commit_w. Scores g(f(point_w(w))) on the grid of
 * DSS_LINE_GRID = G points per axis over the square [-1, 1]^l of weights,
 * w_i = (2 k_i - (G - 1)) / (G - 1), k_i = 0..G-1 (G^l points; for odd G the centre cell is the
 * current centre), in row-major order (the last axis fastest), in batches of at most
 * DSS_LINE_BATCH points (and the model's max batch). Ties go to the lowest row-major index.
 * The points are mapped exactly as dss_search_point_w maps them, so committing the result moves
 * the centre to the point that was scored. With DSS_LINE_REFINE = 1 the best grid point is
 * refined coordinate by coordinate: Brent's method on each axis within one grid step of the
 * current point (clipped to [-1, 1], stopping at a bracket about 1.3e-7 wide), sweeping all
 * axes again while a sweep moves the point by more than 1e-6 (at most 16 sweeps). With
 * DSS_LINE_REFINE = 2 the same runs from each of the grid's 3 best local maxima (a point at
 * least as good as its 2l axis neighbours and strictly better than those of lower index), best
 * first. Either way the result is never worse than the grid's best. Progress: DSS_STAGE_LINE_GRID per batch (done of G^l), then
 * DSS_STAGE_LINE_REFINE per refinement point (total an upper bound). dss_line_evaluations gives
 * the points scored. The search is only read (it must not change while the call runs).
 * @param line        the line search (its parameters; its scratch buffers grow as needed).
 * @param search      a started search; l = dss_search_subspace_dim(search).
 * @param g, user     the score and its user pointer.
 * @param w_best      receives the best weights, l values in [-1, 1] (required).
 * @param score_best  receives its score (may be NULL).
 * @retval DSS_OK success.
 * @retval DSS_EINVAL     line, search, g or w_best NULL, or G^l (or a buffer size) overflows.
 * @retval DSS_ESTATE     the search is not started.
 * @retval DSS_EBUSY      called from inside a callback of this line's running call, or a job
 *                        of this line is open.
 * @retval DSS_ENONFINITE a mapped point, an output of f or a score is NaN or infinite.
 * @retval DSS_ECALLBACK  f or g returned non-zero.
 * @retval DSS_ENOMEM     allocation failed.
 * @retval DSS_ECANCELLED the progress callback asked to stop.
 * On failure *w_best and *score_best are not written, the line's parameters and
 * dss_line_evaluations are unchanged, and dss_line_errmsg says why.
 * @since 1.2
 */
DSS_API int dss_search_find_optimal_w(dss_line *line, const dss_search *search, dss_score_fn g,
                                      void *user, double *w_best, double *score_best);

/**
 * The last failed call on this line search, as "function: detail" (as dss_search_errmsg): a
 * parameter out of range, a score or generator that failed and its return value, re-entry.
 * "" before any failure.
 * @since 1.1
 */
DSS_API const char *dss_line_errmsg(const dss_line *line);

/**
 * The number of generator points the last successful find_optimal on this handle evaluated
 * (grid plus refinement); 0 before the first, or for NULL.
 * @since 1.0
 */
DSS_API size_t dss_line_evaluations(const dss_line *line);

/* ============================================================================================
 * 6. dss_job: host-driven calls (reverse communication)
 *
 * Every call that may call the host (start, commit, commit_w, resample, undo, find_optimal on a
 * search or on a segment, find_optimal_w) can also run as a job, for hosts that cannot be called
 * back: Python that must run on one thread (Blender), a server that batches decoder work from
 * many users, a frame budget. The host opens the job (dss_search_commit_job, ...), then loops:
 *
 *     while ((kind = dss_job_next(job)) > 0) {        // DSS_REQUEST_*: what is needed now
 *         double *out = dss_job_output(job, &count);   // the job's buffer, count values
 *         ... compute from dss_job_input / dss_job_point / dss_job_rows, write out ...
 *         dss_job_answer(job, count);                  // or dss_job_fail(job, code)
 *     }
 *     // kind == DSS_OK: done, the session changed as the call would have; kind < 0: the
 *     // call's status (the session unchanged); then dss_job_destroy(job)
 *
 * The requests are those the callbacks would have received, in the same order and with the same
 * sizes (f in batches of at most the model's max batch), and the results are bit for bit the
 * callback call's: both interfaces run the same code (docs/design.md section 10). Answers are
 * checked as callback outputs are (a non-finite value is DSS_ENONFINITE); an answer of the wrong
 * length, or dss_job_fail, fails the job with DSS_ECALLBACK. The host may cancel at any request
 * (dss_job_cancel: DSS_ECANCELLED) or destroy an unfinished job: either leaves the session
 * exactly as before the job. From its opening to its end, calls that would change the job's
 * search or line return DSS_EBUSY; reads are allowed, also between requests. The buffers a request
 * shows belong to the job and stay valid until the next dss_job_* call on it. A job may move
 * between threads between calls, as a handle may; one job is not thread-safe.
 *
 * The model's callbacks still declare which requests the host can answer (a Jacobian callback
 * enables DSS_JACOBIAN_FULL and ROWS, a VJP callback the randomized route): a job asks for what
 * they declare and never calls them. Jobs need the platform's ucontext (glibc on every Linux
 * architecture); where it is missing the openers return DSS_EUNSUPPORTED.
 * ========================================================================================== */

typedef struct dss_job dss_job;

/** What a request needs (dss_job_next's positive returns). Values never change. */
enum {
    DSS_REQUEST_F        = 1, /**< f at k points: input k x n (dss_job_input), output k x m */
    DSS_REQUEST_JACOBIAN = 2, /**< k Jacobian rows at dss_job_point: dss_job_rows names them
                                   (NULL: all m, in order); output k x n */
    DSS_REQUEST_VJP      = 3, /**< k products U J at dss_job_point: input U (k x m), output k x n */
    DSS_REQUEST_JVP      = 4, /**< k products J v_i at dss_job_point: input V (k x n), output
                                   k x m */
    DSS_REQUEST_SCORE    = 5  /**< the score g of k outputs: input k x m, output k */
};

/**
 * Open a job that runs dss_search_start(search, z0) when driven (z0 is copied). The search is
 * busy (DSS_EBUSY for its mutators) until the job ends (dss_job_next returned 0 or a status)
 * or is destroyed.
 * @param search the session. @param z0 the starting point (n values, copied).
 * @param job receives the job (NULL on failure).
 * @retval DSS_OK opened. @retval DSS_EINVAL a NULL argument. @retval DSS_EBUSY the search is
 * busy (a call or job of its own is under way). @retval DSS_ENOMEM allocation failed.
 * @retval DSS_EUNSUPPORTED no ucontext on this platform.
 * @since 1.2
 */
DSS_API int dss_search_start_job(dss_search *search, const double *z0, dss_job **job);
/** As dss_search_start_job, for dss_search_commit(search, t). @since 1.2 */
DSS_API int dss_search_commit_job(dss_search *search, double t, dss_job **job);
/** As dss_search_start_job, for dss_search_commit_w(search, w) (w copied). @since 1.2 */
DSS_API int dss_search_commit_w_job(dss_search *search, const double *w, dss_job **job);
/** As dss_search_start_job, for dss_search_resample(search). @since 1.2 */
DSS_API int dss_search_resample_job(dss_search *search, dss_job **job);
/** As dss_search_start_job, for dss_search_undo(search). @since 1.2 */
DSS_API int dss_search_undo_job(dss_search *search, dss_job **job);
/**
 * A job for dss_search_find_optimal(line, search, g, ...): the scores come as
 * DSS_REQUEST_SCORE requests, the generator's outputs as DSS_REQUEST_F. The line is busy until
 * the job ends or is destroyed; the search is only read (the slider's ends when the job starts).
 * dss_job_line_result gives t and the score. @since 1.2
 */
DSS_API int dss_search_find_optimal_job(dss_line *line, const dss_search *search, dss_job **job);
/** As dss_search_find_optimal_job, for dss_search_find_optimal_w(line, search, g, ...) (the
 *  gallery); dss_job_w_result gives the weights and the score. @since 1.2 */
DSS_API int dss_search_find_optimal_w_job(dss_line *line, const dss_search *search,
                                          dss_job **job);
/** As dss_search_find_optimal_job, for dss_find_optimal on the segment z_lo .. z_hi of model
 *  (both copied). @since 1.2 */
DSS_API int dss_find_optimal_job(dss_line *line, const dss_model *model, const double *z_lo,
                                 const double *z_hi, dss_job **job);

/**
 * Run the job until it needs the host or ends.
 * @return a DSS_REQUEST_* value (> 0) when a request is pending; DSS_OK (0) when the call
 * finished and succeeded; a negative DSS_E* status when it failed (then the handle is as before
 * the job, and dss_search_errmsg / dss_line_errmsg say why). After the end it returns the same
 * value again, and a pending request not yet answered (dss_job_answer, dss_job_fail or
 * dss_job_cancel) is returned again. DSS_EINVAL for a NULL job.
 * @since 1.2
 */
DSS_API int dss_job_next(dss_job *job);
/** The pending request's count k (points, rows or products); 0 when none is pending. @since 1.2 */
DSS_API size_t dss_job_count(const dss_job *job);
/** The pending request's input block and its length in doubles (see DSS_REQUEST_*); NULL for a
 *  Jacobian request or when none is pending. Read-only. @since 1.2 */
DSS_API const double *dss_job_input(const dss_job *job, size_t *count);
/** The latent point (n values) of a Jacobian, VJP or JVP request; else NULL. @since 1.2 */
DSS_API const double *dss_job_point(const dss_job *job);
/** A Jacobian request's row indices (ascending) and their number; NULL with *nrows = m for
 *  all rows in order, NULL with 0 for other requests. @since 1.2 */
DSS_API const size_t *dss_job_rows(const dss_job *job, size_t *nrows);
/** Where the answer goes, and how many doubles it holds; NULL when no request is pending.
 *  @since 1.2 */
DSS_API double *dss_job_output(dss_job *job, size_t *count);
/**
 * The host wrote count values into dss_job_output: the next dss_job_next goes on.
 * @retval DSS_OK accepted (a count other than the request's fails the job at the next
 * dss_job_next with DSS_ECALLBACK, as a failing callback would). @retval DSS_EINVAL NULL, or no
 * request pending. @since 1.2
 */
DSS_API int dss_job_answer(dss_job *job, size_t count);
/** The host could not answer (status non-zero, as a callback's): the job fails with
 *  DSS_ECALLBACK at the next dss_job_next.
 *  @retval DSS_OK accepted.
 *  @retval DSS_EINVAL as for dss_job_answer, or status 0.
 *  @since 1.2 */
DSS_API int dss_job_fail(dss_job *job, int status);
/** Stop at the pending request: the next dss_job_next returns DSS_ECANCELLED and the handle is
 *  as before the job.
 *  @retval DSS_OK accepted.
 *  @retval DSS_EINVAL NULL or no request pending.
 *  @since 1.2 */
DSS_API int dss_job_cancel(dss_job *job);
/** The last progress the job reported: a DSS_STAGE_* value and done of total, as a
 *  dss_progress_fn receives them (0, 0, 0 before the first). @since 1.2 */
DSS_API int dss_job_progress(const dss_job *job, int *stage, size_t *done, size_t *total);
/** A finished find_optimal job's result: t and the score (either may be NULL).
 *  @retval DSS_OK the result.
 *  @retval DSS_ESTATE not a find_optimal job, or not finished with DSS_OK.
 *  @since 1.2 */
DSS_API int dss_job_line_result(const dss_job *job, double *t_best, double *score_best);
/** A finished dss_search_find_optimal_w_job's result: the l weights (w_best, l values, l the
 *  search's subspace dimension) and the score (either may be NULL).
 *  @retval DSS_OK success.
 *  @retval DSS_EINVAL job NULL.
 *  @retval DSS_ESTATE not a gallery job, or not finished with DSS_OK.
 *  @since 1.2 */
DSS_API int dss_job_w_result(const dss_job *job, double *w_best, double *score_best);
/** Destroy a job; an unfinished one is cancelled first (the handle as before the job). NULL is
 *  a no-op. @since 1.2 */
DSS_API void dss_job_destroy(dss_job *job);

/* ============================================================================================
 * 7. dss_synthetic: the authors' synthetic test problem
 *
 * f_d(z) = sqrt((z - s)^T A_d (z - s)), d = 1..m, with A_d = Q^T D_d Q (Q one random orthogonal
 * n x n matrix, D_d diagonal with entries alpha_d (0.01 + 0.99 u), alpha_d uniform in
 * [0.01, 10]), s uniform in [-1.25, 1.25]^n; the score to maximise is the Rastrigin-like
 * g(x) = -sum_d a_d - sum_d (x_d^2 - a_d cos(2 pi x_d)), a_d = gamma alpha_d^2, whose maximum 0
 * is reached at z = s. The latent box is [-2.5, 2.5]^n (DSS_SYNTHETIC_BOX).
 *
 * The model has f and the analytic Jacobian set. By default the Jacobian is the true derivative
 * A_d (z - s) / f_d(z) (row d is 0 where f_d(z) = 0, where the derivative is undefined);
 * dss_synthetic_set_jacobian selects the authors' variant (A_d + A_d^T)(z - s) instead.
 * The same seed gives the same problem on every platform (libdss's own RNG and arithmetic).
 * ========================================================================================== */

typedef struct dss_synthetic dss_synthetic;

/** Half-width R of the synthetic problem's latent box [-R, R]^n. */
#define DSS_SYNTHETIC_BOX 2.5

/** Jacobian variants of the synthetic model (dss_synthetic_set_jacobian). */
enum { DSS_SYNTHETIC_JACOBIAN_TRUE = 0, DSS_SYNTHETIC_JACOBIAN_AUTHORS = 1 };

/**
 * Create a synthetic problem.
 * @param out receives the problem; set to NULL on failure.
 * @param n latent dimension >= 1. @param m outputs >= 1. @param gamma in [0, DBL_MAX / (400 m)]
 * (2 in the paper; 0 gives a smooth problem; the bound keeps every score finite).
 * @param seed any value.
 * @retval DSS_OK success. @retval DSS_EINVAL out NULL, n or m zero, sizes overflowing, gamma
 * negative, not finite or above DBL_MAX / (400 m). @retval DSS_ENOMEM no memory.
 * @since 1.0
 */
DSS_API int dss_synthetic_create(dss_synthetic **out, size_t n, size_t m, double gamma,
                                 unsigned long long seed);

/** Destroy a problem and its model. NULL is a no-op. @since 1.0 */
DSS_API void dss_synthetic_destroy(dss_synthetic *problem);

/**
 * The problem's generator, with f and the Jacobian callback set. Owned by the problem; valid
 * until dss_synthetic_destroy. @return NULL for NULL. @since 1.0
 */
DSS_API const dss_model *dss_synthetic_model(const dss_synthetic *problem);

/**
 * Choose the Jacobian variant: DSS_SYNTHETIC_JACOBIAN_TRUE (default) or
 * DSS_SYNTHETIC_JACOBIAN_AUTHORS (the reference code's (A_d + A_d^T)(z - s), without the
 * 1/(2 f_d) factor; the paper's figures used it).
 * @retval DSS_OK success. @retval DSS_EINVAL NULL or unknown variant.
 * @since 1.0
 */
DSS_API int dss_synthetic_set_jacobian(dss_synthetic *problem, int variant);

/**
 * The score g, usable as a dss_score_fn with the problem as user pointer.
 * @param problem a dss_synthetic *. @param k outputs. @param x k x m. @param score k values.
 * @retval DSS_OK success. @retval DSS_EINVAL a NULL pointer or k zero.
 * @since 1.0
 */
DSS_API int dss_synthetic_score(void *problem, size_t k, const double *x, double *score);

/**
 * The authors' initial point (a point of a random 6-D subspace through the box; the same on
 * every call). @param problem the problem. @param z0 receives n values.
 * @retval DSS_OK success. @retval DSS_EINVAL a NULL pointer.
 * @since 1.0
 */
DSS_API int dss_synthetic_initial_point(const dss_synthetic *problem, double *z0);

/**
 * The optimum: the shift s, where every output is 0 and the score its maximum 0.
 * @param problem the problem. @param z_star receives n values.
 * @retval DSS_OK success. @retval DSS_EINVAL a NULL pointer.
 * @since 1.0
 */
DSS_API int dss_synthetic_optimum(const dss_synthetic *problem, double *z_star);

#ifdef __cplusplus
}
#endif

#endif /* DSS_DSS_H */
