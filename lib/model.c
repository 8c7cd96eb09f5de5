/* dss_model: the host's generator and its optional derivatives. */
#include <math.h>
#include <float.h>
#include <stdint.h>

#include "calls.h"
#include "model.h"

int dssi_all_finite(const double *v, size_t count)
{
    size_t i = 0;
    /* x * 0 is 0 for finite x and NaN otherwise: four independent sums per block of 256 values
       vectorise, and any NaN or infinity survives to the block's test (about 3x faster than
       isfinite on every value; Jacobians of millions of entries are checked on every update) */
    for (; i + 256 <= count; i += 256) {
        double a0 = 0.0, a1 = 0.0, a2 = 0.0, a3 = 0.0;
        for (size_t k = 0; k < 256; k += 4) {
            a0 += v[i + k] * 0.0;
            a1 += v[i + k + 1] * 0.0;
            a2 += v[i + k + 2] * 0.0;
            a3 += v[i + k + 3] * 0.0;
        }
        if (!(a0 + a1 + a2 + a3 == 0.0))
            return 0;
    }
    for (; i < count; i++)
        if (!isfinite(v[i]))
            return 0;
    return 1;
}

DSS_API int dss_model_create_with_allocator(dss_model **out, size_t n, size_t m,
                                            dss_generate_fn f, void *user,
                                            const dss_allocator *allocator)
{
    size_t bytes;
    dss_model *model;
    mem_allocator a;

    if (out != NULL)
        *out = NULL;
    if (out == NULL || f == NULL || n == 0 || m == 0 || dssi_mem_from_host(&a, allocator) != 0)
        return DSS_EINVAL;
    /* the library holds n x m Jacobians and n x n factors: both must be addressable */
    if (dssi_mem_mul(n, m, &bytes) != 0 || dssi_mem_mul(bytes, sizeof(double), &bytes) != 0
        || dssi_mem_mul(n, n, &bytes) != 0 || dssi_mem_mul(bytes, sizeof(double), &bytes) != 0)
        return DSS_EINVAL;
    model = dssi_mem_alloc(&a, sizeof *model);
    if (model == NULL)
        return DSS_ENOMEM;
    *model = (dss_model){ .n = n, .m = m, .max_batch = SIZE_MAX, .precision = DBL_EPSILON,
                          .f = f, .user = user,
                          .alloc = a };
    *out = model;
    return DSS_OK;
}

DSS_API int dss_model_create(dss_model **out, size_t n, size_t m, dss_generate_fn f, void *user)
{
    return dss_model_create_with_allocator(out, n, m, f, user, NULL);
}

DSS_API void dss_model_destroy(dss_model *model)
{
    if (model != NULL) {
        mem_allocator a = model->alloc;
        dssi_mem_free(&a, model);
    }
}

DSS_API int dss_model_set_jacobian(dss_model *model, dss_jacobian_fn jacobian)
{
    if (model == NULL)
        return DSS_EINVAL;
    model->jacobian = jacobian;
    return DSS_OK;
}

DSS_API int dss_model_set_vjp(dss_model *model, dss_vjp_fn vjp)
{
    if (model == NULL)
        return DSS_EINVAL;
    model->vjp = vjp;
    return DSS_OK;
}

DSS_API int dss_model_set_jvp(dss_model *model, dss_jvp_fn jvp)
{
    if (model == NULL)
        return DSS_EINVAL;
    model->jvp = jvp;
    return DSS_OK;
}

static int model_set_max_batch_impl(dss_model *model, size_t k)
{
    if (k == 0)
        return dssi_err_detail(&model->err, DSS_EINVAL, "k = 0: a batch holds at least one point");
    model->max_batch = k;
    return DSS_OK;
}

DSS_API int dss_model_set_max_batch(dss_model *model, size_t k)
{
    if (model == NULL)
        return DSS_EINVAL;
    return ERR_CALL(&model->err, model_set_max_batch_impl(model, k));
}

static int model_set_precision_impl(dss_model *model, double eps)
{
    if (!(eps >= DBL_EPSILON && eps < 1.0))
        return dssi_err_detail(&model->err, DSS_EINVAL, "eps = %.17g is outside [DBL_EPSILON, 1)",
                               eps);
    model->precision = eps;
    return DSS_OK;
}

DSS_API int dss_model_set_precision(dss_model *model, double eps)
{
    if (model == NULL)
        return DSS_EINVAL;
    return ERR_CALL(&model->err, model_set_precision_impl(model, eps));
}

DSS_API double dss_model_precision(const dss_model *model)
{
    return model != NULL ? model->precision : 0.0;
}

DSS_API int dss_model_generate(const dss_model *model, size_t k, const double *z, double *x)
{
    size_t zlen, xlen, bytes;
    int rc;

    /* both blocks must be addressable: their byte counts may not overflow */
    if (model == NULL || z == NULL || x == NULL || k == 0
        || dssi_mem_mul(k, model->n, &zlen) != 0 || dssi_mem_mul(zlen, sizeof(double), &bytes) != 0
        || dssi_mem_mul(k, model->m, &xlen) != 0 || dssi_mem_mul(xlen, sizeof(double), &bytes) != 0)
        return DSS_EINVAL;
    if (!dssi_all_finite(z, zlen))
        return DSS_ENONFINITE;
    {
        call_ctx cx;
        dssi_call_ctx_init(&cx, model);
        rc = dssi_call_f(&cx, k, z, x);
    }
    if (rc != DSS_OK)
        return rc;
    return dssi_all_finite(x, xlen) ? DSS_OK : DSS_ENONFINITE;
}

DSS_API const char *dss_model_errmsg(const dss_model *model)
{
    return model != NULL ? model->err.text : "dss_model_errmsg: model is NULL";
}

DSS_API size_t dss_model_latent_dim(const dss_model *model) { return model ? model->n : 0; }

DSS_API size_t dss_model_output_dim(const dss_model *model) { return model ? model->m : 0; }
