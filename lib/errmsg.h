/* Per-handle error messages (dss_search_errmsg, dss_line_errmsg, dss_model_errmsg): the last
 * failed call on a handle, as "function: what was wrong". An API function enters (dssi_err_enter:
 * its name), the sites that know what went wrong write the detail (dssi_err_detail), and the
 * function leaves through dssi_err_leave, which writes a generic "function: <dss_strerror>" only when
 * a call failed without a detail. A successful call leaves the message alone. */
#ifndef DSS_ERRMSG_H
#define DSS_ERRMSG_H

#define ERRMSG_CAP 320
#define ERRMSG_DEPTH 4   /* calls on one handle nested inside its own callbacks, remembered */

typedef struct errmsg {
    char text[ERRMSG_CAP];
    const char *fn;     /* the API function running (static storage) */
    int fresh;          /* the running call wrote text */
    /* A call made from inside a callback of a running call on the same handle (a read, which
       dss.h allows) must not change whose message the running call writes: enter saves the
       running call's fn and fresh, leave restores them. */
    int depth;
    const char *outer_fn[ERRMSG_DEPTH];
    int outer_fresh[ERRMSG_DEPTH];
} errmsg;

void dssi_err_enter(errmsg *e, const char *fn);
/* "fn: <detail>" into e (a no-op for NULL), then returns status. */
#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
int  dssi_err_detail(errmsg *e, int status, const char *fmt, ...);
int  dssi_err_leave(errmsg *e, int status);
/* An API function's body: enter e as the calling function, run its implementation, leave with
   the implementation's status. e is evaluated twice; pass a plain expression. */
#define ERR_CALL(e, call) (dssi_err_enter((e), __func__), dssi_err_leave((e), (call)))

/* "DSS_SEARCH_RANK" etc.; "an unknown parameter" for others. */
const char *dssi_err_search_param_name(int param);

#endif
