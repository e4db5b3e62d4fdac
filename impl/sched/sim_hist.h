/* sim_hist.h — a fixed-size log-linear histogram of non-negative 64-bit values (ns), for the simulator's wake-up latencies.
 *
 * The simulator used to keep every latency in a growing array (issue 12:
 * 2.9 GB after 60 s of a 1 µs run/sleep loop). This keeps counts instead,
 * in the layout of HdrHistogram with 6 significant bits:
 * - values 0..63 each have their own bucket (exact);
 * - every power of two [2^k, 2^(k+1)) from 64 up is split into 64 buckets
 *   of width 2^(k-6).
 * A quantile is the midpoint of the bucket that holds the value of that
 * rank, clamped to the smallest and largest value seen, so it is within
 * HP_HIST_REL_ERR (1/128, 0.79%) of the exact order statistic, and exact
 * below 64 ns. The minimum, maximum and count are exact.
 *
 * Memory is bounded whatever the number of values: a group of 64 counts
 * (512 bytes) is allocated the first time a value falls in its power of
 * two, so at most HP_HIST_GROUPS groups (59, 30 KiB) per histogram, and in
 * practice a few (a task's latencies span a few powers of two). Adding is
 * O(1): a count-leading-zeros, a shift and an increment. No kernel
 * counterpart (the kernel keeps no latency distributions; schedstats and
 * perf sched latency are the nearest).
 */
#ifndef HP_SIM_HIST_H
#define HP_SIM_HIST_H

#include <stddef.h>
#include <stdint.h>

#define HP_HIST_SUB_BITS 6
#define HP_HIST_SUB (1u << HP_HIST_SUB_BITS)              /* buckets per group */
#define HP_HIST_GROUPS (64 - HP_HIST_SUB_BITS + 1)        /* group 0: 0..63; group g: [2^(g+5), 2^(g+6)) */
#define HP_HIST_REL_ERR (1.0 / (2 * HP_HIST_SUB))         /* bound on |quantile - exact| / exact */

typedef struct hp_hist {
	uint64_t n;                     /* values added */
	uint64_t min, max;              /* exact; min is UINT64_MAX while empty */
	uint64_t *grp[HP_HIST_GROUPS];  /* HP_HIST_SUB counts each, or NULL before the first value in it */
} hp_hist_t;

/* An empty histogram (no allocation). */
void hp_hist_init(hp_hist_t *h);
/* Frees the groups; the histogram is empty again. */
void hp_hist_free(hp_hist_t *h);
/* Counts v. 0, or -1 when a new group cannot be allocated (v not counted). */
int hp_hist_add(hp_hist_t *h, uint64_t v);
/* Adds every count of src to dst. 0 or -1 (out of memory). */
int hp_hist_merge(hp_hist_t *dst, const hp_hist_t *src);

/* The value of rank r (1..n) in ascending order, within HP_HIST_REL_ERR;
 * -1 when r is 0 or beyond n. O(HP_HIST_GROUPS * HP_HIST_SUB). */
int64_t hp_hist_rank(const hp_hist_t *h, uint64_t r);
/* The nearest-rank percentile p (0..100): rank ceil(n * p / 100), at least
 * 1, the same rule as hp_sim_pct(); -1 when empty. */
int64_t hp_hist_pct(const hp_hist_t *h, unsigned p);
/* The same for p in basis points (0..10000: 9990 is p99.9). */
int64_t hp_hist_pct_bp(const hp_hist_t *h, unsigned bp);

/* Bytes held by the groups (what it costs beyond the struct). */
size_t hp_hist_bytes(const hp_hist_t *h);

/* The bucket of a value and the range a bucket covers (tests, exporters). */
unsigned hp_hist_bucket(uint64_t v);
void hp_hist_bucket_range(unsigned b, uint64_t *lo, uint64_t *hi);

#endif
