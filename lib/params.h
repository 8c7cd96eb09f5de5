/* The parameter descriptor tables: one row per dss_search and dss_line parameter, read by the
 * setters, the getters, persistence, the defaults, the error messages and
 * dss_search_param_bounds / dss_line_param_bounds (and through them by Python). Adding a
 * parameter is one row (plus its enum value and field). */
#ifndef DSS_PARAMS_H
#define DSS_PARAMS_H

#include <stddef.h>

enum { PARAM_INT, PARAM_REAL };                     /* integer-valued, or any real */
enum { FIELD_SIZE, FIELD_INT, FIELD_DOUBLE };       /* the C type of the field it fills */
enum { PARAM_SAVED_V1 = 1, PARAM_SAVED_V2 = 2 };   /* param_desc.saved */
/* What the session does when a parameter changes (session.c): nothing; restart the random
   stream (also for the same seed); start the new policy's scale at 1; forget the oldest undo
   steps beyond the new history. */
enum { PARAM_EFFECT_NONE = 0, PARAM_EFFECT_RESEED, PARAM_EFFECT_NEW_POLICY, PARAM_EFFECT_FORGET };

typedef struct param_desc {
    int id;                 /* DSS_SEARCH_* / DSS_LINE_* */
    const char *name;       /* "DSS_SEARCH_RANK" */
    int kind;               /* PARAM_INT or PARAM_REAL */
    double lo, hi;          /* the range: [lo, hi], an end excluded when its *_open is set */
    unsigned char lo_open, hi_open;
    unsigned char hi_is_n;  /* the upper bound is the model's n (SUBSPACE_DIM) */
    unsigned char saved;    /* where dss_search_save writes it: 0 nowhere (line parameters),
                               PARAM_SAVED_V1 the parameter block (ids 1..16, format version 1),
                               PARAM_SAVED_V2 version 2's policy block (ids 17..) */
    double def;             /* the default */
    int field;              /* FIELD_* */
    size_t offset;          /* offsetof the field in struct search_params / struct dss_line */
    const char *note;       /* appended to the range in messages, or NULL */
    /* a check and store of its own (after the range check), or NULL for the plain store:
       DSS_OK or DSS_EINVAL, obj unchanged on failure */
    int (*apply)(void *obj, size_t n, double value);
    double (*read)(const void *obj); /* what a get shows, or NULL for the field */
    unsigned char unset_zero;        /* 0 means "unset" (stored, never set by the host) */
    unsigned char effect;            /* PARAM_EFFECT_* */
    unsigned char saved_if_set;      /* saved only when not at its default, so that strings of
                                        sessions that never set it stay readable by 1.1 */
} param_desc;

/* The row of param id, or NULL. */
const param_desc *dssi_param_search(int id);
const param_desc *dssi_param_line(int id);
/* The rows, in id order (for loops over every parameter). */
const param_desc *dssi_param_search_rows(size_t *count);
const param_desc *dssi_param_line_rows(size_t *count);

/* Whether value is in d's range (n: the model's latent dimension, for hi_is_n). */
int    dssi_param_valid(const param_desc *d, double value, size_t n);
/* Store value (valid) into its field of obj / read it back as a double. */
void   dssi_param_store(const param_desc *d, void *obj, double value);
double dssi_param_load(const param_desc *d, const void *obj);
/* The range as text for messages: "an integer in [1, 2^53]", "in (0, DBL_MAX]"; buf of cap. */
const char *dssi_param_range_text(const param_desc *d, char *buf, size_t cap);

#endif
