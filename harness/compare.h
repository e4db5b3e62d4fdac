/* compare.h — `hotpath compare A B`: per case and variant, the ratio of
 * medians B/A with a 95% bootstrap confidence interval (seeded, so the
 * verdict is reproducible) and a verdict: faster, slower or same. */
#ifndef HP_COMPARE_H
#define HP_COMPARE_H

#include <stdint.h>
#include <stdio.h>
#include "record.h"

/* The seed `hotpath compare` draws its bootstrap with (fixed: the same
 * folders always give the same intervals and verdicts), and the fewest
 * repetitions per side that get an interval. */
#define HP_CMP_DIRS_SEED 0x686f74706174680aull
#define HP_CMP_MIN_REPS 3

typedef enum { HP_CMP_SAME, HP_CMP_FASTER, HP_CMP_SLOWER } hp_verdict_t;

typedef struct hp_cmp_row {
	char key[HP_BENCH_KEY_MAX + 48];        /* suite/case/variant/param/threads:metric */
	double median_a, median_b, ratio, lo, hi;
	size_t na, nb;
	hp_verdict_t verdict;   /* faster: B takes less (ratio CI entirely < 1) */
} hp_cmp_row_t;

/* Compares the primary metric of every benchmark present in both sets.
 * Returns the number of rows (allocated into *rows), -1 on error. */
long hp_compare(const hp_results_t *a, const hp_results_t *b, uint64_t seed,
		hp_cmp_row_t **rows);
/* The same for two sets already read (HP_BSET_PRIMARY, record.h), in a's
 * order. */
long hp_compare_sets(const hp_bench_set_t *a, const hp_bench_set_t *b, uint64_t seed,
		     hp_cmp_row_t **rows);
/* A seeded 95% bootstrap interval of the median of v[0..n), drawn as
 * compare draws its intervals (same resamples, generator and fixed seed,
 * mixed with `key`, so the same values under the same key always give the
 * same interval). 0 with *lo, *hi set; 1 when n is below compare's
 * minimum of repetitions (no interval); -1 with ENOMEM. */
int hp_median_ci(const double *v, size_t n, const char *key, double *lo, double *hi);
/* `hotpath compare A B`: reads both folders, prints a table. Exit code:
 * 0, or 2 when a folder is not a results folder (named in the message). */
int hp_compare_dirs(const char *a, const char *b, FILE *out);
/* `hotpath compare M --runs X,Y`: the same for runs X (as A) and Y (as B)
 * of the merged folder M (hotpath merge). 2 when M is not merged, a run is
 * not in it (the message lists its runs) or --runs is not "X,Y". A merged
 * folder given to hp_compare_dirs is refused with exit 2 pointing here. */
int hp_compare_runs(const char *m, const char *runs, FILE *out);

#endif
