/* stats.h — the statistics every report agrees on: one ordering of doubles,
 * one median, one coefficient of variation, one percentile. summary.md,
 * `hotpath compare`, the plots, env's TSC calibration, the benches and the
 * tests all use these, so two reports of the same values never disagree. */
#ifndef HP_STATS_H
#define HP_STATS_H

#include <stddef.h>

/* qsort comparator for doubles: ascending, NaNs last (so one NaN cannot
 * scramble the order of the rest). */
int hp_cmp_double(const void *a, const void *b);
/* Sorts v in place; median of n values (mean of the middle two if even),
 * NaN if n is 0. */
double hp_median(double *v, size_t n);
/* Coefficient of variation (stddev/mean, sample stddev), 0 if n < 2 or the
 * mean is 0. */
double hp_cv(const double *v, size_t n);
/* The p-quantile (0 <= p <= 1) of sorted q[0..n), n > 0, by linear
 * interpolation between the order statistics around it. */
double hp_percentile(const double *q, size_t n, double p);

#endif
