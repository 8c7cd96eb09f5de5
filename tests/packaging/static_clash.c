/* A host with functions named like libdss's internals (mem_alloc, rng_next, ...), linked
 * against the static archive: the link must succeed, each call must reach the host's own
 * function, and libdss must still work (it uses its own, now local, copies). */
#include <dss/dss.h>
#include <stdio.h>
#include <stdlib.h>

/* Deliberately clashing names with other signatures: a duplicate global would fail the link. */
int mem_alloc(int x);
unsigned rng_next(void);
int call_f(int x);
int all_finite(int x);
double clock_seconds(void);
int mem_default;

int mem_alloc(int x) { return x + 1; }
unsigned rng_next(void) { return 42u; }
int call_f(int x) { return 2 * x; }
int all_finite(int x) { return -x; }
double clock_seconds(void) { return 7.0; }

int main(void)
{
    if (mem_alloc(1) != 2 || rng_next() != 42u || call_f(3) != 6 || all_finite(4) != -4 ||
        clock_seconds() != 7.0 || mem_default != 0) {
        fprintf(stderr, "static_clash: a host function was replaced by libdss's\n");
        return 1;
    }
    dss_synthetic *p = NULL;
    dss_search *s = NULL;
    double z0[8];
    int rc = dss_synthetic_create(&p, 8, 32, 2.0, 1);
    if (rc == DSS_OK) rc = dss_search_create(&s, dss_synthetic_model(p));
    if (rc == DSS_OK) rc = dss_synthetic_initial_point(p, z0);
    if (rc == DSS_OK) rc = dss_search_start(s, z0);
    if (rc == DSS_OK) rc = dss_search_commit(s, 0.25);
    size_t rank = s ? dss_search_rank(s) : 0;
    dss_search_destroy(s);
    dss_synthetic_destroy(p);
    if (rc != DSS_OK || rank == 0) {
        fprintf(stderr, "static_clash: libdss failed: %s (rank %zu)\n", dss_strerror(rc), rank);
        return 1;
    }
    printf("static_clash: host's mem_alloc/rng_next/call_f/all_finite/clock_seconds kept, "
           "libdss ran (rank %zu)\n", rank);
    return 0;
}
