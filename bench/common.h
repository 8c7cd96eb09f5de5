/* bench/common.h - small timing helpers shared by the benchmark programs.
 * Include it before any system header (it defines _POSIX_C_SOURCE for clock_gettime).
 * Header-only, `static inline` only; no state. */
#ifndef DSS_BENCH_COMMON_H
#define DSS_BENCH_COMMON_H

#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Monotonic clock, in seconds. */
static inline double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static inline int bench_cmp_double_(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median of v[0..n-1]; v is left unchanged (sorted on a copy, up to 1024 values on the
 * stack, heap beyond). Returns 0.0 for n == 0. */
static inline double bench_median(const double *v, size_t n)
{
    double stackbuf[1024];
    double *w = stackbuf;
    double med;
    if (n == 0)
        return 0.0;
    if (n > sizeof stackbuf / sizeof stackbuf[0]) {
        w = malloc(n * sizeof *w);
        if (!w)
            return 0.0;
    }
    memcpy(w, v, n * sizeof *w);
    qsort(w, n, sizeof *w, bench_cmp_double_);
    med = (n % 2) ? w[n / 2] : 0.5 * (w[n / 2 - 1] + w[n / 2]);
    if (w != stackbuf)
        free(w);
    return med;
}

#endif /* DSS_BENCH_COMMON_H */
