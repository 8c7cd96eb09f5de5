/* Version and status codes. */
#include <dss/dss.h>

#define STR2(x) #x
#define STR(x) STR2(x)

DSS_API unsigned dss_version_number(void) { return DSS_VERSION_NUMBER; }

DSS_API const char *dss_version_string(void)
{
    return STR(DSS_VERSION_MAJOR) "." STR(DSS_VERSION_MINOR) "." STR(DSS_VERSION_PATCH);
}

DSS_API const char *dss_strerror(int status)
{
    switch (status) {
    case DSS_OK:           return "Success.";
    case DSS_EINVAL:       return "Invalid argument: a NULL pointer, a zero or overflowing size, or a value out of range.";
    case DSS_ENOMEM:       return "Out of memory.";
    case DSS_ECALLBACK:    return "A host callback reported an error.";
    case DSS_ENONFINITE:   return "NaN or infinity in an input or in a callback's output.";
    case DSS_ELAPACK:      return "The linear-algebra backend (LAPACK) reported a failure.";
    case DSS_ESTATE:       return "The call is not valid in the object's current state.";
    case DSS_EFORMAT:      return "Malformed or incompatible saved state.";
    case DSS_ECANCELLED:   return "Cancelled by the progress callback.";
    case DSS_EUNSUPPORTED: return "The requested mode needs a callback the model does not have.";
    case DSS_EBUSY:        return "The handle is busy: a callback called it back to change it during one of its own calls.";
    default:               return "Unknown libdss status code.";
    }
}
