/* Mean distance between two prior draws, in closed form (Gaussian) or by quadrature (box). */
#include <math.h>

#include <dss/dss.h>

#include "prior.h"

#define DSS_PI 3.14159265358979323846

/* Gamma((n+1)/2) / Gamma(n/2) by its recurrence r(n+2) = r(n) (n+1)/n: exact to rounding, and
   free of lgamma, whose use of the global signgam is a data race between threads. */
static double gamma_ratio(size_t n)
{
    double r = (n % 2) ? 1.0 / sqrt(DSS_PI) : sqrt(DSS_PI) / 2.0;
    for (size_t k = (n % 2) ? 1 : 2; k + 2 <= n; k += 2)
        r *= (double)(k + 1) / (double)k;
    return r;
}

/* phi(u) - 1 where phi(u) = E exp(-u W^2), W triangular on [-1, 1] (the difference of two
   uniforms on [-1/2, 1/2] scaled by 2):
   phi(u) = sqrt(pi/u) erf(sqrt(u)) - (1 - exp(-u)) / u. Near 0, its series
   -u/6 + u^2/30 - u^3/168 + u^4/1080 avoids the cancellation (moments E W^2k = 2/((2k+1)(2k+2))). */
static double phi_minus_one(double u)
{
    if (u < 1e-2)
        return u * (-1.0 / 6 + u * (1.0 / 30 + u * (-1.0 / 168 + u / 1080)));
    return sqrt(DSS_PI / u) * erf(sqrt(u)) + expm1(-u) / u - 1.0;
}

/*
 * X, Y uniform in [-R, R]^n (here R = 1): X - Y = 2R W with W_i i.i.d. triangular, T = sum W_i^2, and
 * E sqrt(T) = 1/(2 sqrt(pi)) * int_0^inf (1 - E exp(-uT)) u^(-3/2) du, E exp(-uT) = phi(u)^n.
 * With u = e^x the integrand (1 - phi^n) e^(-x/2) is smooth and decays like e^(-|x|/2) on both
 * sides, so the trapezoidal rule on [-70, 70] converges geometrically; step 1/32 is far below
 * 1e-10 relative error.
 */
static double box_mean_distance(size_t n)
{
    const double lo = -70.0, hi = 70.0, h = 1.0 / 32;
    const size_t steps = (size_t)((hi - lo) / h);
    double sum = 0.0;
    for (size_t i = 0; i <= steps; i++) {
        double x = lo + (double)i * h;
        double u = exp(x);
        double one_minus = -expm1((double)n * log1p(phi_minus_one(u)));
        double w = (i == 0 || i == steps) ? 0.5 : 1.0;
        sum += w * one_minus * exp(-0.5 * x);
    }
    return 2.0 * sum * h / (2.0 * sqrt(DSS_PI));
}

double dssi_prior_unit_distance(int prior, size_t n)
{
    if (prior == DSS_PRIOR_BOX)
        return box_mean_distance(n);
    /* X - Y ~ N(0, 2 sigma^2 I): E|X - Y| = sigma sqrt(2) E chi_n = 2 sigma Gamma((n+1)/2) / Gamma(n/2) */
    return 2.0 * gamma_ratio(n);
}
