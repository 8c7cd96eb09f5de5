/* bench/common.h - small timing helpers shared by the benchmark programs.
 * Include it before any system header (it defines _POSIX_C_SOURCE for clock_gettime).
 * Header-only, `static inline` and macros only; no state. */
#ifndef DSS_BENCH_COMMON_H
#define DSS_BENCH_COMMON_H

#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <dss/dss.h>

/* Monotonic clock, in seconds. */
static inline double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* With cpu != 0, the CPU time consumed by the whole process: robust against other jobs on a
   shared machine when the BLAS is single-threaded (reference BLAS, or OPENBLAS_NUM_THREADS=1);
   with a threaded BLAS it adds up every thread, spinning included: do not use it there. */
static inline double bench_clock(int cpu)
{
    struct timespec ts;
    if (!cpu)
        return bench_now();
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* splitmix64: a small deterministic generator for benchmark data. */
static inline unsigned long long bench_splitmix64(unsigned long long *state)
{
    unsigned long long z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
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

/* The machine's load average (Linux), so that a reader can tell a noisy run. */
static inline void bench_print_loadavg(const char *when)
{
    char buf[128];
    FILE *fp = fopen("/proc/loadavg", "r");
    if (fp == NULL)
        return;
    if (fgets(buf, sizeof buf, fp) != NULL)
        printf("load average %s: %s", when, buf);
    fclose(fp);
}

/* A comma-separated list of 1 to cap sizes, each in [1, max], into out; *count receives how
   many. 0, or -1 on a malformed list. */
static inline int bench_parse_sizes(const char *s, size_t *out, int cap, long max, int *count)
{
    *count = 0;
    while (*s != '\0') {
        char *end;
        long v;
        errno = 0;
        v = strtol(s, &end, 10);
        if (errno != 0 || end == s || v < 1 || v > max || *count == cap
            || (*end != ',' && *end != '\0'))
            return -1;
        out[(*count)++] = (size_t)v;
        s = *end == ',' ? end + 1 : end;
    }
    return *count > 0 ? 0 : -1;
}

/* A decimal integer in [lo, hi] into out: 0, or -1 (out unchanged) on anything else. */
static inline int bench_parse_int(const char *s, long lo, long hi, int *out)
{
    char *end;
    long v;
    errno = 0;
    v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi)
        return -1;
    *out = (int)v;
    return 0;
}

/* The arguments of the one-shape programs: [--shape M N] [count_flag K] [--cpu], with
   2 <= N <= M, M <= 20000, N <= n_max and 1 <= K <= count_max. 0, or -1 on a bad argument. */
static inline int bench_parse_shape_args(int argc, char **argv, const char *count_flag,
                                         int count_max, int n_max, int *m, int *n, int *count,
                                         int *cpu)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--shape") == 0 && i + 2 < argc) {
            if (bench_parse_int(argv[i + 1], 2, 20000, m) != 0
                || bench_parse_int(argv[i + 2], 2, n_max, n) != 0 || *m < *n)
                return -1;
            i += 2;
        } else if (strcmp(argv[i], count_flag) == 0 && i + 1 < argc) {
            if (bench_parse_int(argv[++i], 1, count_max, count) != 0)
                return -1;
        } else if (strcmp(argv[i], "--cpu") == 0) {
            *cpu = 1;
        } else {
            return -1;
        }
    }
    return 0;
}

static inline void bench_report(const char *prog, const char *what, int status)
{
    fprintf(stderr, "%s: %s failed: %s (%d)\n", prog, what, dss_strerror(status), status);
}

/* Run a libdss call; on failure report it and jump to the caller's `done` label. */
#define BENCH_CHECK(prog, call)                  \
    do {                                         \
        int rc_ = (call);                        \
        if (rc_ != DSS_OK) {                     \
            bench_report((prog), #call, rc_);    \
            goto done;                           \
        }                                        \
    } while (0)

#endif /* DSS_BENCH_COMMON_H */
