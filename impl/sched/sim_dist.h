/* sim_dist.h — predictions as distributions: the simulator run over a list of seeds, and per task and metric the median and a central 95% interval of the per-seed values (`hotpath sim --seeds K`, bench/sched.c's fidelity case).
 *
 * What the kernel leaves to chance (the tick's phase on each CPU, the start
 * offsets of the threads) the simulator draws from its seed
 * (hp_sim_opts_t.seed); one seed is one possible run. K seeds are K runs,
 * seeds first..first+K-1, each deterministic, so the same seed list gives
 * the same distribution byte for byte.
 *
 * Summary arithmetic (hp_dist_of): the K per-seed values sorted; the
 * quantile q is interpolated linearly between the closest ranks
 * (x[floor(h)] + (h - floor(h)) * (x[floor(h)+1] - x[floor(h)]) with
 * h = (K - 1) * q, "type 7"); median q = 0.5, interval q = 0.025 and 0.975.
 * With fewer than about 40 seeds the interval is close to the range of the
 * values: it is the spread over seeds, not a confidence interval of the
 * median. A latency metric of a seed whose task had no wake-up in the
 * window is left out of that metric's sample (n says how many counted).
 * No kernel counterpart. Costs K simulator runs; the summary is O(K log K)
 * per task and metric.
 */
#ifndef HP_SIM_DIST_H
#define HP_SIM_DIST_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "sim.h"

typedef struct hp_dist {
	double median, lo, hi;  /* the median and the central 95% interval [lo, hi] */
	int n;                  /* values summarised; 0: all three are NAN */
} hp_dist_t;

/* Quantile q (0..1) of n sorted values, interpolated as above; NAN when n is 0. */
double hp_dist_quantile(const double *sorted, size_t n, double q);
/* Sorts v (n values, in place) and summarises it into d. */
void hp_dist_of(double *v, size_t n, hp_dist_t *d);

/* The metrics, per task: wake-up latency quantiles (ns), share of one CPU
 * in the window, switches in the window, migrations over the whole run. `hotpath sim --seeds` prints
 * p50, p90, p99, share and switches; the fidelity case also compares p10,
 * p25 and p75. */
enum {
	HP_SIM_M_P10, HP_SIM_M_P25, HP_SIM_M_P50, HP_SIM_M_P75, HP_SIM_M_P90, HP_SIM_M_P99,
	HP_SIM_M_SHARE, HP_SIM_M_SWITCHES,
	HP_SIM_M_MIGRATIONS,    /* moves to another CPU over the whole run (not the window) */
	HP_SIM_NMETRICS
};
/* "p50_ns", "share", ...; the quantile (0..100) of a latency metric, or -1. */
const char *hp_sim_metric_name(int m);
int hp_sim_metric_pct(int m);

typedef struct hp_sim_task_dist {
	char name[80];
	int nice;
	hp_dist_t m[HP_SIM_NMETRICS];
} hp_sim_task_dist_t;

typedef struct hp_sim_dist {
	int ntasks, nseeds;
	uint64_t first_seed;
	hp_sim_task_dist_t *task;
} hp_sim_dist_t;

/* Runs the scenario once per seed o->seed .. o->seed + nseeds - 1 (nseeds
 * 1..HP_SIM_MAX_SEEDS, o->trace must be NULL) and summarises. The return
 * values of hp_sim_run(): 0, -1 bad input, -2 internal error, with err. */
#define HP_SIM_MAX_SEEDS 10000
int hp_sim_run_seeds(const hp_scn_t *s, const hp_sim_opts_t *o, int nseeds, hp_sim_dist_t *d, char *err,
		     size_t errlen);
void hp_sim_dist_free(hp_sim_dist_t *d);

/* The CSV of `hotpath sim --seeds K`: task,metric,median,lo95,hi95,n, one
 * row per task and printed metric (p50_ns, p90_ns, p99_ns, share,
 * switches), then a comment line with the policy, seeds and options. */
void hp_sim_write_dist_csv(FILE *f, const hp_sim_dist_t *d, const hp_sim_opts_t *o);

/* --policy auto: the model of the running kernel (uname -r, written to
 * release). 0, or -1 when the release does not parse (release then says
 * what was read). */
int hp_sched_policy_auto(hp_sched_policy_t *p, char *release, size_t len);

#endif
