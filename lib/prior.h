/* Expected distance between two independent draws of the latent prior (sets the default
 * slider radius: 0.2 times this, the authors' choice). */
#ifndef DSS_PRIOR_H
#define DSS_PRIOR_H

#include <stddef.h>

/* prior: DSS_PRIOR_GAUSSIAN (scale = sigma) or DSS_PRIOR_BOX (scale = R of [-R, R]^n). */
double dssi_prior_mean_distance(int prior, double scale, size_t n);

#endif
