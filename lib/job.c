/* dss_job: host-driven calls (reverse communication).
 *
 * A job runs the very call the callback API runs (dss_search_commit, dss_find_optimal, ...) on
 * a stack of its own, a coroutine switched with ucontext. Where the callback call would call
 * the host, dssi_call_* see the context's job and call dssi_job_ask instead, which shows the
 * request (the library's own buffers, no copy) and switches back to the host; dss_job_next
 * switches in again once the host answered. So both interfaces share every line of the step
 * code and give the same bits. A cancelled or abandoned job is resumed with a cancellation,
 * which the call sees as a cancelled progress callback and unwinds through its ordinary failure
 * path: the strong guarantee of every call covers jobs too.
 *
 * The handle is busy from the job's opening (its mutators return DSS_EBUSY); inside the
 * coroutine the call marks it busy itself (SEARCH_MUTATION), so the opener hands the flag over
 * just before the call starts. The coroutine itself is jobport.c's.
 */
#include <string.h>

#include <dss/dss.h>

#include "jobport.h"
#include "line.h"
#include "mem.h"
#include "search.h"

enum job_op { OP_START, OP_COMMIT, OP_COMMIT_W, OP_RESAMPLE, OP_UNDO, OP_SEARCH_LINE,
              OP_SEGMENT_LINE, OP_SEARCH_GALLERY };

/* A placeholder score for line jobs: never called, the job answers score requests. */
static int job_score(void *user, size_t k, const double *x, double *score)
{
    (void)user; (void)k; (void)x; (void)score;
    return -1;
}

/* ---- the call, run on the job's stack ------------------------------------------------------ */

static int run_call(dss_job *job)
{
    int rc;
    switch (job->op) {
    case OP_START:
        job->search->busy = 0; /* handed over: the call marks the session busy itself */
        rc = dss_search_start(job->search, job->vec);
        break;
    case OP_COMMIT:
        job->search->busy = 0;
        rc = dss_search_commit(job->search, job->t);
        break;
    case OP_COMMIT_W:
        job->search->busy = 0;
        rc = dss_search_commit_w(job->search, job->vec);
        break;
    case OP_RESAMPLE:
        job->search->busy = 0;
        rc = dss_search_resample(job->search);
        break;
    case OP_UNDO:
        job->search->busy = 0;
        rc = dss_search_undo(job->search);
        break;
    case OP_SEARCH_LINE:
        job->line->busy = 0;
        rc = dss_search_find_optimal(job->line, job->reads, job_score, NULL, &job->t_best,
                                     &job->score_best);
        break;
    case OP_SEARCH_GALLERY:
        job->line->busy = 0;
        /* vec holds n >= l doubles; l as the call reads it, for dss_job_w_result */
        job->w_len = dss_search_subspace_dim(job->reads);
        rc = dss_search_find_optimal_w(job->line, job->reads, job_score, NULL, job->vec,
                                       &job->score_best);
        break;
    default:
        job->line->busy = 0;
        rc = dss_find_optimal(job->line, job->model, job->vec, job->vec + job->model->n,
                              job_score, NULL, &job->t_best, &job->score_best);
        break;
    }
    /* the call is over: the handle's later calls are its own, not this job's */
    if (job->search != NULL)
        job->search->job = NULL;
    if (job->line != NULL)
        job->line->job = NULL;
    return rc;
}

/* ---- opening ------------------------------------------------------------------------------- */

/* A job of op for search or line, with count doubles copied from vec (zeros when vec is NULL).
   The handle is marked busy and driven by the job. */
static int job_open(dss_job **out, const mem_allocator *a, int op, dss_search *search,
                    dss_line *line, const double *vec, size_t count)
{
    dss_job *job = dssi_mem_alloc(a, sizeof *job);
    int rc;
    if (job == NULL)
        return DSS_ENOMEM;
    memset(job, 0, sizeof *job);
    job->alloc = *a;
    job->run = run_call;
    job->op = op;
    job->search = search;
    job->line = line;
    if (count > 0) {
        job->vec = dssi_mem_array(a, count, sizeof *job->vec);
        if (job->vec == NULL) {
            dssi_mem_free(a, job);
            return DSS_ENOMEM;
        }
        if (vec != NULL)
            memcpy(job->vec, vec, count * sizeof *vec);
        else
            memset(job->vec, 0, count * sizeof *job->vec);
    }
    if ((rc = dssi_job_stack_create(job)) != DSS_OK) {
        dssi_mem_free(a, job->vec);
        dssi_mem_free(a, job);
        return rc;
    }
    if (search != NULL) {
        search->busy = 1;
        search->job = job;
    }
    if (line != NULL) {
        line->busy = 1;
        line->job = job;
    }
    *out = job;
    return DSS_OK;
}

static int search_job_impl(dss_search *search, dss_job **job, int op, const double *vec,
                           size_t count)
{
    if (search->busy)
        return dssi_err_detail(SEARCH_ERR(search), DSS_EBUSY, "a call or job of this session is "
                               "under way");
    return job_open(job, &search->alloc, op, search, NULL, vec, count);
}

static int search_job(dss_search *search, dss_job **job, int op, const double *vec, size_t count)
{
    if (job != NULL)
        *job = NULL;
    if (search == NULL || job == NULL)
        return DSS_EINVAL;
    return ERR_CALL(SEARCH_ERR(search), search_job_impl(search, job, op, vec, count));
}

DSS_API int dss_search_start_job(dss_search *search, const double *z0, dss_job **job)
{
    if (search != NULL && z0 == NULL)
        return DSS_EINVAL;
    return search_job(search, job, OP_START, z0, search != NULL ? search->model->n : 0);
}

DSS_API int dss_search_commit_job(dss_search *search, double t, dss_job **job)
{
    int rc = search_job(search, job, OP_COMMIT, NULL, 0);
    if (rc == DSS_OK)
        (*job)->t = t; /* checked by the call, as dss_search_commit checks it */
    return rc;
}

DSS_API int dss_search_commit_w_job(dss_search *search, const double *w, dss_job **job)
{
    if (search != NULL && w == NULL)
        return DSS_EINVAL;
    /* the current basis's l weights; an unstarted session has none, and its call then says
       DSS_ESTATE as dss_search_commit_w does, which needs a non-NULL w: one is copied */
    return search_job(search, job, OP_COMMIT_W, w,
                      search != NULL && dss_search_subspace_dim(search) > 0
                          ? dss_search_subspace_dim(search) : 1);
}

DSS_API int dss_search_resample_job(dss_search *search, dss_job **job)
{
    return search_job(search, job, OP_RESAMPLE, NULL, 0);
}

DSS_API int dss_search_undo_job(dss_search *search, dss_job **job)
{
    return search_job(search, job, OP_UNDO, NULL, 0);
}

static int line_job_impl(dss_line *line, dss_job **job, int op, const double *vec, size_t count)
{
    if (line->busy)
        return dssi_err_detail(&line->err, DSS_EBUSY, "a call or job of this line is under way");
    return job_open(job, &line->alloc, op, NULL, line, vec, count);
}

static int line_job(dss_line *line, dss_job **job, int op, const double *vec, size_t count)
{
    return ERR_CALL(&line->err, line_job_impl(line, job, op, vec, count));
}

DSS_API int dss_search_find_optimal_job(dss_line *line, const dss_search *search, dss_job **job)
{
    int rc;
    if (job != NULL)
        *job = NULL;
    if (line == NULL || search == NULL || job == NULL)
        return DSS_EINVAL;
    rc = line_job(line, job, OP_SEARCH_LINE, NULL, 0);
    if (rc == DSS_OK)
        (*job)->reads = search;
    return rc;
}

DSS_API int dss_search_find_optimal_w_job(dss_line *line, const dss_search *search,
                                          dss_job **job)
{
    int rc;
    if (job != NULL)
        *job = NULL;
    if (line == NULL || search == NULL || job == NULL)
        return DSS_EINVAL;
    /* room for the result: l <= n whatever the session's l is when the call runs */
    rc = line_job(line, job, OP_SEARCH_GALLERY, NULL, dssi_search_model(search)->n);
    if (rc == DSS_OK)
        (*job)->reads = search;
    return rc;
}

DSS_API int dss_find_optimal_job(dss_line *line, const dss_model *model, const double *z_lo,
                                 const double *z_hi, dss_job **job)
{
    double *ends;
    int rc;
    if (job != NULL)
        *job = NULL;
    if (line == NULL || model == NULL || z_lo == NULL || z_hi == NULL || job == NULL)
        return DSS_EINVAL;
    ends = dssi_mem_array(&line->alloc, 2 * model->n, sizeof *ends);
    if (ends == NULL)
        return DSS_ENOMEM;
    memcpy(ends, z_lo, model->n * sizeof *ends);
    memcpy(ends + model->n, z_hi, model->n * sizeof *ends);
    rc = line_job(line, job, OP_SEGMENT_LINE, ends, 2 * model->n);
    dssi_mem_free(&line->alloc, ends);
    if (rc == DSS_OK)
        (*job)->model = model;
    return rc;
}

/* ---- driving ------------------------------------------------------------------------------- */

DSS_API int dss_job_next(dss_job *job)
{
    if (job == NULL)
        return DSS_EINVAL;
    if (job->finished)
        return job->status;
    if (job->kind != 0 && job->answer == ANSWER_NONE)
        return job->kind; /* still waiting for its answer */
    dssi_job_resume(job);
    return job->finished ? job->status : job->kind;
}

DSS_API size_t dss_job_count(const dss_job *job)
{
    return job != NULL && job->kind != 0 ? job->k : 0;
}

DSS_API const double *dss_job_input(const dss_job *job, size_t *count)
{
    const int pending = job != NULL && job->kind != 0 && job->in != NULL;
    if (count != NULL)
        *count = pending ? job->in_count : 0;
    return pending ? job->in : NULL;
}

DSS_API const double *dss_job_point(const dss_job *job)
{
    return job != NULL && job->kind != 0 ? job->point : NULL;
}

DSS_API const size_t *dss_job_rows(const dss_job *job, size_t *nrows)
{
    const int jac = job != NULL && job->kind == DSS_REQUEST_JACOBIAN;
    if (nrows != NULL)
        *nrows = jac ? job->nrows : 0;
    return jac ? job->rows : NULL;
}

DSS_API double *dss_job_output(dss_job *job, size_t *count)
{
    const int pending = job != NULL && job->kind != 0;
    if (count != NULL)
        *count = pending ? job->out_count : 0;
    return pending ? job->out : NULL;
}

static int settle(dss_job *job, int answer, size_t count, int status)
{
    if (job == NULL || job->kind == 0 || job->answer != ANSWER_NONE)
        return DSS_EINVAL;
    job->answer = answer;
    job->answered = count;
    job->host_status = status;
    return DSS_OK;
}

DSS_API int dss_job_answer(dss_job *job, size_t count)
{
    return settle(job, ANSWER_VALUES, count, 0);
}

DSS_API int dss_job_fail(dss_job *job, int status)
{
    if (status == 0)
        return DSS_EINVAL;
    return settle(job, ANSWER_FAIL, 0, status);
}

DSS_API int dss_job_cancel(dss_job *job)
{
    return settle(job, ANSWER_CANCEL, 0, 0);
}

DSS_API int dss_job_progress(const dss_job *job, int *stage, size_t *done, size_t *total)
{
    if (job == NULL || stage == NULL || done == NULL || total == NULL)
        return DSS_EINVAL;
    *stage = job->stage;
    *done = job->done;
    *total = job->total;
    return DSS_OK;
}

DSS_API int dss_job_line_result(const dss_job *job, double *t_best, double *score_best)
{
    if (job == NULL)
        return DSS_EINVAL;
    if ((job->op != OP_SEARCH_LINE && job->op != OP_SEGMENT_LINE) || !job->finished
        || job->status != DSS_OK)
        return DSS_ESTATE;
    if (t_best != NULL)
        *t_best = job->t_best;
    if (score_best != NULL)
        *score_best = job->score_best;
    return DSS_OK;
}

DSS_API int dss_job_w_result(const dss_job *job, double *w_best, double *score_best)
{
    if (job == NULL)
        return DSS_EINVAL;
    if (job->op != OP_SEARCH_GALLERY || !job->finished || job->status != DSS_OK)
        return DSS_ESTATE;
    if (w_best != NULL)
        memcpy(w_best, job->vec, job->w_len * sizeof *w_best);
    if (score_best != NULL)
        *score_best = job->score_best;
    return DSS_OK;
}

DSS_API void dss_job_destroy(dss_job *job)
{
    mem_allocator a;
    if (job == NULL)
        return;
    /* abandoned at a request: cancelled there, so that the call unwinds as a cancelled call
       does and leaves its handle as it was (a call asks nothing more once a request failed) */
    while (job->started && !job->finished) {
        job->answer = ANSWER_CANCEL;
        dssi_job_resume(job);
    }
    if (!job->started) { /* never run: the handle was only marked */
        if (job->search != NULL) {
            job->search->busy = 0;
            job->search->job = NULL;
        }
        if (job->line != NULL) {
            job->line->busy = 0;
            job->line->job = NULL;
        }
    }
    dssi_job_stack_free(job);
    a = job->alloc;
    dssi_mem_free(&a, job->vec);
    dssi_mem_free(&a, job);
}
