/* stats.c — median, CV, percentile and the double ordering they share. */
#include <math.h>
#include <stdlib.h>

#include "stats.h"

int hp_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	if (isnan(x) || isnan(y))
		return isnan(x) - isnan(y);
	return (x > y) - (x < y);
}

double hp_median(double *v, size_t n)
{
	if (!n)
		return NAN;
	qsort(v, n, sizeof(*v), hp_cmp_double);
	if (n % 2)
		return v[n / 2];
	/* a + (b - a) / 2 cannot overflow where (a + b) / 2 would */
	return v[n / 2 - 1] + (v[n / 2] - v[n / 2 - 1]) / 2;
}

double hp_cv(const double *v, size_t n)
{
	double mean = 0, ss = 0;

	if (n < 2)
		return 0;
	for (size_t i = 0; i < n; i++)
		mean += v[i];
	mean /= (double)n;
	/* two passes: the sum-of-squares shortcut loses everything on
	 * values like 1e9 +- 1 */
	for (size_t i = 0; i < n; i++)
		ss += (v[i] - mean) * (v[i] - mean);
	if (mean == 0)
		return 0;
	return sqrt(ss / (double)(n - 1)) / fabs(mean);
}

double hp_percentile(const double *q, size_t n, double p)
{
	double pos = p * (double)(n - 1), fl = floor(pos);
	size_t i = (size_t)fl;

	if (i + 1 >= n)
		return q[n - 1];
	return q[i] + (pos - fl) * (q[i + 1] - q[i]);
}
