/* Expected distance between two independent draws of the latent prior (sets the default
 * slider radius: 0.2 times this, the authors' choice). */
#ifndef DSS_PRIOR_H
#define DSS_PRIOR_H

#include <stddef.h>

/* The distance at scale 1 (it is linear in the scale): prior DSS_PRIOR_GAUSSIAN (scale =
   sigma) or DSS_PRIOR_BOX (scale = R of [-R, R]^n). A caller multiplies by the scale last, so
   that a radius (0.2 times the distance) near DBL_MAX does not overflow on the way. */
double dssi_prior_unit_distance(int prior, size_t n);

#endif
