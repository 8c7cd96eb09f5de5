/* Host-driven calls (dss_job, job.c): the running call's side. A call context whose job is set
 * (call_ctx.job) asks the job instead of calling the host: the request shows the library's own
 * buffers, the job switches back to the host, and the answer is checked when the host resumes
 * it. Everything else in the call is the callback call's code. */
#ifndef DSS_JOB_H
#define DSS_JOB_H

#include <stddef.h>

#include "errmsg.h"

struct dss_job;

/* Ask the host for a request of kind DSS_REQUEST_* (k items; point, in, rows as the request
   shows them; out and its length where the answer goes). DSS_OK when answered with out_count
   values; DSS_ECALLBACK (the host failed it, or answered another count) or DSS_ECANCELLED, with
   the detail in err. */
int  dssi_job_ask(struct dss_job *job, errmsg *err, int kind, size_t k, const double *point,
                  const double *in, size_t in_count, const size_t *rows, size_t nrows,
                  double *out, size_t out_count);
/* Record the progress a dss_progress_fn would receive (dss_job_progress shows it). */
void dssi_job_progress(struct dss_job *job, int stage, size_t done, size_t total);

#endif
