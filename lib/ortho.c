/* Modified Gram-Schmidt twice over rows, for random frames and randomized sketches. */
#include <math.h>

#include "ortho.h"

/* Remove from y its components along the first k rows of Q (orthonormal), twice. */
static void project_out(const double *Q, size_t k, size_t n, double *y)
{
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < k; i++) {
            const double *q = Q + i * n;
            double dot = 0.0;
            for (size_t j = 0; j < n; j++)
                dot += q[j] * y[j];
            for (size_t j = 0; j < n; j++)
                y[j] -= dot * q[j];
        }
    }
}

/* Scale y by the power of two that brings its largest entry into [0.5, 1): exact (no bits are
   lost but in subnormals), and it keeps the sums of squares below from under- or overflowing
   for rows of any magnitude (a randomized sketch of a Jacobian near 1e-120 squares to 1e-240
   per entry and its products to 1e-480). A zero or non-finite row is left alone. */
static void normalize_exponent(double *y, size_t n)
{
    double big = 0.0;
    int e;
    for (size_t j = 0; j < n; j++)
        big = fmax(big, fabs(y[j]));
    if (!(big > 0.0) || !isfinite(big))
        return;
    (void)frexp(big, &e);
    for (size_t j = 0; j < n; j++)
        y[j] = ldexp(y[j], -e);
}

static double sum_squares(const double *y, size_t n)
{
    double s = 0.0;
    for (size_t j = 0; j < n; j++)
        s += y[j] * y[j];
    return s;
}

void dssi_ortho_rows(rng *r, double *Y, size_t rows, size_t n)
{
    for (size_t i = 0; i < rows; i++) {
        double *y = Y + i * n;
        for (;;) {
            double before, after;
            normalize_exponent(y, n);
            before = sum_squares(y, n);
            project_out(Y, i, n, y);
            after = sum_squares(y, n);
            /* what is left must be more than rounding noise of what was there */
            if (after > 0.0 && after > 1e-24 * before) {
                double inv = 1.0 / sqrt(after);
                for (size_t j = 0; j < n; j++)
                    y[j] *= inv;
                break;
            }
            for (size_t j = 0; j < n; j++)
                y[j] = dssi_rng_gaussian(r);
        }
    }
}
