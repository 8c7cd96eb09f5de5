/* The job's machinery (see jobport.h and job.c): a coroutine switched with ucontext. The stack
 * is mapped (not taken from the handle's allocator), with a guard page, and registered with
 * AddressSanitizer's fiber interface and valgrind where they are present. */
#define _GNU_SOURCE /* ucontext, MAP_ANONYMOUS */
#include <stdint.h>
#include <string.h>

#include "jobport.h"

#ifdef JOB_COROUTINES
#include <sys/mman.h>
#include <unistd.h>
#endif
#ifdef JOB_ASAN
#include <sanitizer/common_interface_defs.h>
#endif
#ifdef DSS_HAVE_VALGRIND_H
#include <valgrind/valgrind.h>
#endif

#ifdef JOB_COROUTINES

/* Switches, with AddressSanitizer told which stack runs next (its fake stacks would otherwise
   be taken for the host's). */
static void switch_to_body(dss_job *job)
{
#ifdef JOB_ASAN
    __sanitizer_start_switch_fiber(&job->fake_host, job->map + sysconf(_SC_PAGESIZE),
                                   job->map_bytes - (size_t)sysconf(_SC_PAGESIZE));
#endif
    swapcontext(&job->host, &job->body);
#ifdef JOB_ASAN
    __sanitizer_finish_switch_fiber(job->fake_host, NULL, NULL);
#endif
}

static void switch_to_host(dss_job *job, int last)
{
#ifdef JOB_ASAN
    __sanitizer_start_switch_fiber(last ? NULL : &job->fake_body, job->host_bottom,
                                   job->host_size);
#else
    (void)last;
#endif
    swapcontext(&job->body, &job->host);
#ifdef JOB_ASAN
    __sanitizer_finish_switch_fiber(job->fake_body, &job->host_bottom, &job->host_size);
#endif
}

/* makecontext passes ints: the job's address in two halves. */
static void body_entry(unsigned hi, unsigned lo)
{
    dss_job *job = (dss_job *)(((uintptr_t)hi << 16 << 16) | (uintptr_t)lo);
#ifdef JOB_ASAN
    __sanitizer_finish_switch_fiber(NULL, &job->host_bottom, &job->host_size);
#endif
    job->status = job->run(job);
    job->finished = 1;
    job->kind = 0;
    switch_to_host(job, 1);
}

int dssi_job_stack_create(dss_job *job)
{
    const size_t page = (size_t)sysconf(_SC_PAGESIZE);
    void *map;
    job->map_bytes = JOB_STACK_BYTES + page;
    map = mmap(NULL, job->map_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (map == MAP_FAILED)
        return DSS_ENOMEM;
    job->map = map;
    if (mprotect(job->map, page, PROT_NONE) != 0) { /* overflow faults, never corrupts */
        munmap(job->map, job->map_bytes);
        job->map = NULL;
        return DSS_ENOMEM;
    }
    if (getcontext(&job->body) != 0) {
        munmap(job->map, job->map_bytes);
        job->map = NULL;
        return DSS_ENOMEM;
    }
    job->body.uc_stack.ss_sp = job->map + page;
    job->body.uc_stack.ss_size = JOB_STACK_BYTES;
    job->body.uc_link = NULL;
    makecontext(&job->body, (void (*)(void))body_entry, 2,
                (unsigned)((uintptr_t)job >> 16 >> 16), (unsigned)((uintptr_t)job & 0xffffffffu));
#ifdef DSS_HAVE_VALGRIND_H
    job->valgrind_id = VALGRIND_STACK_REGISTER(job->map + page, job->map + job->map_bytes);
#endif
    return DSS_OK;
}

void dssi_job_stack_free(dss_job *job)
{
    if (job->map == NULL)
        return;
#ifdef DSS_HAVE_VALGRIND_H
    VALGRIND_STACK_DEREGISTER(job->valgrind_id);
#endif
    munmap(job->map, job->map_bytes);
    job->map = NULL;
}

void dssi_job_resume(dss_job *job)
{
    job->started = 1;
    switch_to_body(job);
}

int dssi_job_ask(dss_job *job, errmsg *err, int kind, size_t k, const double *point,
                 const double *in, size_t in_count, const size_t *rows, size_t nrows,
                 double *out, size_t out_count)
{
    static const char *const names[] = { "", "f", "Jacobian", "VJP", "JVP", "score" };
    int answer;
    size_t answered;
    job->kind = kind;
    job->k = k;
    job->point = point;
    job->in = in;
    job->in_count = in_count;
    job->rows = rows;
    job->nrows = nrows;
    job->out = out;
    job->out_count = out_count;
    job->answer = ANSWER_NONE;
    switch_to_host(job, 0);
    answer = job->answer;
    answered = job->answered;
    job->kind = 0;
    if (answer == ANSWER_CANCEL)
        return dssi_err_detail(err, DSS_ECANCELLED, "the job was cancelled at a %s request of %zu",
                               names[kind], k);
    if (answer == ANSWER_FAIL)
        return dssi_err_detail(err, DSS_ECALLBACK, "the host failed the job's %s request of %zu "
                               "with %d", names[kind], k, job->host_status);
    if (answered != out_count)
        return dssi_err_detail(err, DSS_ECALLBACK, "the host answered the job's %s request of "
                               "%zu with %zu values; it needs %zu", names[kind], k, answered,
                               out_count);
    return DSS_OK;
}

#else /* no coroutines: the openers say so */

int dssi_job_stack_create(dss_job *job) { (void)job; return DSS_EUNSUPPORTED; }
void dssi_job_stack_free(dss_job *job) { (void)job; }
void dssi_job_resume(dss_job *job) { (void)job; }

int dssi_job_ask(dss_job *job, errmsg *err, int kind, size_t k, const double *point,
                 const double *in, size_t in_count, const size_t *rows, size_t nrows,
                 double *out, size_t out_count)
{
    (void)job; (void)kind; (void)k; (void)point; (void)in; (void)in_count; (void)rows;
    (void)nrows; (void)out; (void)out_count;
    return dssi_err_detail(err, DSS_EUNSUPPORTED, "jobs need ucontext");
}

#endif

void dssi_job_progress(dss_job *job, int stage, size_t done, size_t total)
{
    job->stage = stage;
    job->done = done;
    job->total = total;
}

