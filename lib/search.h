/* What other library files need from a dss_search. */
#ifndef DSS_SEARCH_H
#define DSS_SEARCH_H

#include <dss/dss.h>

const dss_model *search_model(const dss_search *search);

#endif
