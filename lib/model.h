/* The generator handle, shared by the library's files. */
#ifndef DSS_MODEL_H
#define DSS_MODEL_H

#include <dss/dss.h>

#include "errmsg.h"
#include "mem.h"

struct dss_model {
    size_t n, m;
    size_t max_batch;            /* SIZE_MAX: unlimited */
    double precision;            /* relative rounding of f (DBL_EPSILON; FLT_EPSILON for float32) */
    dss_generate_fn f;
    dss_jacobian_fn jacobian;
    dss_vjp_fn vjp;
    dss_jvp_fn jvp;
    void *user;
    mem_allocator alloc;
    errmsg err;                  /* dss_model_errmsg: written only by the calls that change the
                                    model (dss_model_generate may run on many threads at once) */
};

/* 1 when all count values are finite. */
int dssi_all_finite(const double *v, size_t count);

#endif
