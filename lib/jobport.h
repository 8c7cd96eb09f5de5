/* The job's machinery (jobport.c): its state, its stack and the switches between the host
 * and the call running on that stack. The low half of dss_job: calls.c asks through it and
 * job.c (the API, on top of search.c and line.c) drives it; it calls neither, the call to run
 * being a function pointer that job.c sets. */
#ifndef DSS_JOBPORT_H
#define DSS_JOBPORT_H

#include <stddef.h>

#include <dss/dss.h>

#include "job.h"
#include "mem.h"

#if defined(__linux__) && !defined(DSS_NO_UCONTEXT)
#define JOB_COROUTINES 1
#include <ucontext.h>
#endif

#if defined(__SANITIZE_ADDRESS__)
#define JOB_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define JOB_ASAN 1
#endif
#endif

#define JOB_STACK_BYTES ((size_t)4 << 20) /* LAPACK runs on it; mapped lazily, 4 MiB */

enum job_answer { ANSWER_NONE, ANSWER_VALUES, ANSWER_FAIL, ANSWER_CANCEL };

struct dss_job {
    mem_allocator alloc;
    int (*run)(struct dss_job *job); /* the call (job.c), run on the job's stack */
    int op;
    dss_search *search;         /* the session a session job changes */
    const dss_search *reads;    /* OP_SEARCH_LINE, OP_SEARCH_GALLERY: the session it reads */
    dss_line *line;             /* a line job's line */
    const dss_model *model;     /* OP_SEGMENT_LINE */
    double t;                   /* OP_COMMIT */
    double *vec;                /* z0, w, or lo | hi (2n), copied at opening */
    double t_best, score_best;  /* a line job's result */
    size_t w_len;               /* OP_SEARCH_GALLERY: l, its result's weights in vec (n held) */
    int started, finished, status;
    /* the pending request */
    int kind;
    size_t k, in_count, nrows, out_count;
    const double *point, *in;
    const size_t *rows;
    double *out;
    int answer, host_status;
    size_t answered;
    /* the last progress */
    int stage;
    size_t done, total;
#ifdef JOB_COROUTINES
    ucontext_t host, body;
    unsigned char *map;         /* guard page + stack */
    size_t map_bytes;
#ifdef JOB_ASAN
    void *fake_host, *fake_body;
    const void *host_bottom;
    size_t host_size;
#endif
#ifdef DSS_HAVE_VALGRIND_H
    unsigned valgrind_id;
#endif
#endif
};

/* Map the job's stack and prepare the call's context: DSS_OK, DSS_ENOMEM, or DSS_EUNSUPPORTED
   without ucontext. */
int  dssi_job_stack_create(struct dss_job *job);
void dssi_job_stack_free(struct dss_job *job);
/* Switch to the call until it asks or ends (job->finished). */
void dssi_job_resume(struct dss_job *job);

#endif
