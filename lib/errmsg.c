/* Per-handle error messages. */
#include <stdarg.h>
#include <stdio.h>

#include <dss/dss.h>

#include "errmsg.h"
#include "params.h"

void dssi_err_enter(errmsg *e, const char *fn)
{
    if (e->depth < ERRMSG_DEPTH) {
        e->outer_fn[e->depth] = e->fn;
        e->outer_fresh[e->depth] = e->fresh;
    }
    e->depth++;
    e->fn = fn;
    e->fresh = 0;
}

int dssi_err_detail(errmsg *e, int status, const char *fmt, ...)
{
    va_list ap;
    int k;
    if (e == NULL)
        return status;
    k = snprintf(e->text, sizeof e->text, "%s: ", e->fn != NULL ? e->fn : "libdss");
    if (k < 0 || (size_t)k >= sizeof e->text)
        k = 0;
    va_start(ap, fmt);
    vsnprintf(e->text + k, sizeof e->text - (size_t)k, fmt, ap);
    va_end(ap);
    e->fresh = 1;
    return status;
}

int dssi_err_leave(errmsg *e, int status)
{
    if (status < 0 && !e->fresh)
        dssi_err_detail(e, status, "%s", dss_strerror(status));
    if (e->depth > 0)
        e->depth--;
    if (e->depth < ERRMSG_DEPTH) {   /* back to the running call's function, if any */
        e->fn = e->outer_fn[e->depth];
        e->fresh = e->outer_fresh[e->depth];
    } else {
        e->fn = NULL;
    }
    return status;
}

const char *dssi_err_search_param_name(int param)
{
    const param_desc *d = dssi_param_search(param);
    return d != NULL ? d->name : "an unknown parameter";
}
