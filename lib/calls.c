/* Counting, timing and checking host callbacks. */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */
#include <math.h>
#include <time.h>

#include "calls.h"
#include "errmsg.h"
#include "job.h"

void dssi_call_ctx_init(call_ctx *cx, const dss_model *model)
{
    *cx = (call_ctx){ .snapshot = *model };
    cx->model = &cx->snapshot;
}

double dssi_clock_seconds(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
        return 0.0;
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void count(call_ctx *cx, int key, double amount)
{
    if (cx->stats != NULL)
        cx->stats->v[key] += amount;
}

static void count_time(call_ctx *cx, double since)
{
    if (cx->stats != NULL)
        cx->stats->v[STAT_SECONDS_CALLBACKS] += dssi_clock_seconds() - since;
}

int dssi_call_f(call_ctx *cx, size_t k, const double *z, double *x)
{
    const dss_model *model = cx->model;
    size_t done = 0;
    while (done < k) {
        size_t chunk = k - done < model->max_batch ? k - done : model->max_batch;
        double t0 = dssi_clock_seconds();
        int rc;
        if (cx->job != NULL) {
            rc = dssi_job_ask(cx->job, cx->err, DSS_REQUEST_F, chunk, NULL, z + done * model->n,
                              chunk * model->n, NULL, 0, x + done * model->m, chunk * model->m);
            count_time(cx, t0);
            if (rc != DSS_OK)
                return rc;
        } else {
            rc = model->f(model->user, chunk, z + done * model->n, x + done * model->m);
            count_time(cx, t0);
        }
        count(cx, STAT_F_CALLS, 1);
        if (rc != 0)
            return dssi_err_detail(cx->err, DSS_ECALLBACK,
                              "the generator f returned %d (a batch of %zu points)", rc, chunk);
        count(cx, STAT_POINTS, (double)chunk);
        done += chunk;
    }
    return DSS_OK;
}

/* The common tail of a derivative callback: count the call, then its products (rows) and
   check its output when it succeeded. */
static int finish(call_ctx *cx, const char *name, int rc, int calls_key, int items_key,
                  size_t items, const double *out, size_t len)
{
    count(cx, calls_key, 1);
    if (rc != 0)
        return dssi_err_detail(cx->err, DSS_ECALLBACK, "the %s callback returned %d (%zu rows)", name,
                          rc, items);
    count(cx, items_key, (double)items);
    for (size_t i = 0; i < len; i++)
        if (!isfinite(out[i]))
            return dssi_err_detail(cx->err, DSS_ENONFINITE,
                              "the %s callback's output holds %g at index %zu of %zu", name,
                              out[i], i, len);
    return DSS_OK;
}

int dssi_call_jacobian(call_ctx *cx, const double *c, size_t nrows, const size_t *rows, double *out)
{
    const dss_model *model = cx->model;
    double t0 = dssi_clock_seconds();
    int rc;
    if (cx->job != NULL) {
        rc = dssi_job_ask(cx->job, cx->err, DSS_REQUEST_JACOBIAN, nrows, c, NULL, 0, rows,
                          nrows, out, nrows * model->n);
        count_time(cx, t0);
        if (rc != DSS_OK)
            return rc;
    } else {
        rc = model->jacobian(model->user, c, nrows, rows, out);
        count_time(cx, t0);
    }
    return finish(cx, "Jacobian", rc, STAT_JACOBIAN_CALLS, STAT_JACOBIAN_ROWS, nrows, out,
                  nrows * model->n);
}

int dssi_call_vjp(call_ctx *cx, const double *c, size_t k, const double *U, double *out)
{
    const dss_model *model = cx->model;
    double t0 = dssi_clock_seconds();
    int rc;
    if (cx->job != NULL) {
        rc = dssi_job_ask(cx->job, cx->err, DSS_REQUEST_VJP, k, c, U, k * model->m, NULL, 0, out,
                          k * model->n);
        count_time(cx, t0);
        if (rc != DSS_OK)
            return rc;
    } else {
        rc = model->vjp(model->user, c, k, U, out);
        count_time(cx, t0);
    }
    return finish(cx, "VJP", rc, STAT_VJP_CALLS, STAT_VJP_PRODUCTS, k, out, k * model->n);
}

int dssi_call_jvp(call_ctx *cx, const double *c, size_t k, const double *V, double *out)
{
    const dss_model *model = cx->model;
    double t0 = dssi_clock_seconds();
    int rc;
    if (cx->job != NULL) {
        rc = dssi_job_ask(cx->job, cx->err, DSS_REQUEST_JVP, k, c, V, k * model->n, NULL, 0, out,
                          k * model->m);
        count_time(cx, t0);
        if (rc != DSS_OK)
            return rc;
    } else {
        rc = model->jvp(model->user, c, k, V, out);
        count_time(cx, t0);
    }
    return finish(cx, "JVP", rc, STAT_JVP_CALLS, STAT_JVP_PRODUCTS, k, out, k * model->m);
}

int dssi_call_g(call_ctx *cx, dss_score_fn g, void *user, size_t k, const double *x, double *score)
{
    double t0 = dssi_clock_seconds();
    int rc;
    if (cx->job != NULL) {
        rc = dssi_job_ask(cx->job, cx->err, DSS_REQUEST_SCORE, k, NULL, x, k * cx->model->m, NULL,
                          0, score, k);
        count_time(cx, t0);
        if (rc != DSS_OK)
            return rc;
    } else {
        rc = g(user, k, x, score);
        count_time(cx, t0);
    }
    if (rc != 0)
        return dssi_err_detail(cx->err, DSS_ECALLBACK, "the score g returned %d (%zu points)", rc, k);
    for (size_t i = 0; i < k; i++)
        if (!isfinite(score[i]))
            return dssi_err_detail(cx->err, DSS_ENONFINITE, "the score g gave %g for point %zu of %zu",
                              score[i], i, k);
    return DSS_OK;
}

int dssi_call_progress(call_ctx *cx, int stage, size_t done, size_t total)
{
    int rc;
    double t0;
    if (cx->job != NULL)
        dssi_job_progress(cx->job, stage, done, total);
    if (cx->progress == NULL)
        return DSS_OK;
    t0 = dssi_clock_seconds();
    rc = cx->progress(cx->progress_user, stage, done, total);
    count_time(cx, t0);
    if (rc != 0)
        return dssi_err_detail(cx->err, DSS_ECANCELLED,
                          "the progress callback returned %d at stage %d (%zu of %zu done)", rc,
                          stage, done, total);
    return DSS_OK;
}
