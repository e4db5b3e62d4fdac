/* sim.h — the simulator behind `hotpath sim` (sched's CLI verb, bench/sched.c): a deterministic discrete-event simulation of fair-class tasks from an rt-app JSON file, built on impl/sched.
 *
 * Scenarios are the subset of rt-app's JSON grammar that describes
 * fair-class work (rt-app 1.0, the Debian package):
 *   { "global": { "duration": S, "default_policy": "SCHED_OTHER" },
 *     "tasks": { "<name>": { "instance": N, "loop": L, "priority": NICE,
 *                            "policy": "SCHED_OTHER", "cpus": [c, ...], "slice": US,
 *                            <events> | "phases": { "<p>": { "loop": L, <events> }, ... } } } }
 * with events run (µs of CPU work), runtime (µs of wall time spent
 * running or runnable), sleep (µs) and timer ({ "ref": name, "period": µs,
 * "mode": "relative" | "absolute" }), in key order; like rt-app, an event
 * key may carry a suffix to keep keys unique ("run0", "sleep1"). One key is
 * hotpath's, not rt-app's: "slice", the task's custom slice in µs
 * (sched_attr.sched_runtime of a SCHED_OTHER task, Linux 6.12+;
 * HP_SCN_SLICE_MIN_US..HP_SCN_SLICE_MAX_US, the kernel's clamp; the models
 * from eevdf-6.12 use it through hp_se_set_slice(), cfs-6.1 and eevdf-6.6
 * ignore it as those kernels would). Anything
 * else is an error naming the key; a bad value names the task and field.
 *
 * The simulation runs in virtual time (ns) on `ncpus` CPUs, each with an
 * hp_cfs_rq_t of the chosen policy: a tick every 1/HZ (every CPU's at the
 * same instants, as without skew_tick), wake-ups from sleep and timer
 * events, wake-up preemption, optionally update_curr() on the running
 * task's CPU-clock reads (clock_poll_ns), and the switch itself costing
 * nothing. Same scenario and options, same output, byte for byte.
 *
 * More than one CPU (sim_engine.c; a documented subset of Linux 6.6's
 * kernel/sched/fair.c over one flat scheduling domain, each CPU a group):
 * - wake-up placement, select_idle_sibling(): the previous CPU if idle,
 *   else the recently used one if idle, else the first idle CPU after the
 *   previous one, else the previous one; a new thread: an idle CPU, else
 *   the least loaded (fork balancing);
 * - periodic load balancing from the tick, every balance_interval (the
 *   CPU count in ms, x16 on a busy CPU, doubled up to twice the CPU count
 *   while balanced): the busiest (overloaded: 2+ runnable) CPU, an
 *   imbalance_pct of 117, tasks moved by count to an idle CPU and by load
 *   (weight) up to the imbalance to a busy one, cache-hot tasks (ran in
 *   the last 0.5 ms) kept until balancing has failed twice, active
 *   balancing of the running task after four failures;
 * - newly-idle balancing: a CPU with nothing to run pulls first when some
 *   CPU has 2+ runnable tasks.
 * - loads are PELT averages (sim_engine.c: each task's load_avg, decayed
 *   over 1024 µs periods with y^32 = 1/2, a CPU's the sum over the tasks
 *   attached to it, blocked ones included).
 * Not modelled: NUMA and SMT domains (one flat domain), CPU capacity and
 * asymmetry, PELT's util_avg and runnable_avg (utilization is not tracked:
 * one runnable task makes a CPU fully busy),
 * uclamp, misfit tasks, NOHZ (idle CPUs keep ticking and balance every
 * interval instead of being kicked), the avg_idle cut-off of newly-idle
 * balancing, SIS_UTIL's limit on the idle scan, wake_affine() towards a
 * waker's CPU (wakers here are timers), RT/DL/stop classes (the active
 * balance is instant), migration costs. Migrations (at wake-up and by
 * balancing) are counted per task.
 */
#ifndef HP_SIM_H
#define HP_SIM_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <json-c/json.h>

#include "fair.h"
#include "sim_hist.h"

#define HP_SIM_MAX_CPUS 64
/* Hard limits, so that no scenario runs away (issue 12): threads after
 * expanding instances (the parser refuses more), and the events a run may
 * simulate: hp_sim_run() estimates them before it starts and refuses a run
 * above the limit (bad input, -1), and stops one whose events or
 * task-program steps get there anyway (-1 too). At the engine's 10^6 to
 * 10^7 events/s on one core, 2*10^9 events are minutes. */
#define HP_SIM_MAX_THREADS 100000
#define HP_SIM_MAX_EVENTS UINT64_C(2000000000)

typedef struct hp_scn hp_scn_t;

/* Parse a scenario. NULL with a message naming the file, key or task and
 * field on bad input. `name` labels messages (the file name). */
hp_scn_t *hp_scn_load(const char *path, char *err, size_t errlen);
hp_scn_t *hp_scn_parse(const char *text, const char *name, char *err, size_t errlen);
void hp_scn_free(hp_scn_t *s);

uint64_t hp_scn_duration_ns(const hp_scn_t *s);
/* Threads after expanding instances, in rt-app's order (task keys in file
 * order, instances in turn). Thread names: the key, or key-i with
 * several instances. */
int hp_scn_nthreads(const hp_scn_t *s);
const char *hp_scn_thread_name(const hp_scn_t *s, int i);
const char *hp_scn_thread_key(const hp_scn_t *s, int i);
int hp_scn_thread_nice(const hp_scn_t *s, int i);
/* The thread's "slice" in ns, 0 when it has none (the base slice). */
uint64_t hp_scn_thread_slice_ns(const hp_scn_t *s, int i);
#define HP_SCN_SLICE_MIN_US 100
#define HP_SCN_SLICE_MAX_US 100000
/* Highest CPU any task names in "cpus", or -1. */
int hp_scn_max_cpu(const hp_scn_t *s);

typedef struct hp_sim_opts {
	hp_sched_policy_t policy;
	uint64_t seed;          /* jitters each thread's start within its first 100 µs */
	int ncpus;              /* simulated CPUs, 1..HP_SIM_MAX_CPUS */
	int hz;                 /* tick rate */
	int scale_cpus;         /* CPUs the tunables scale with (the kernel's online CPUs); 0 = ncpus */
	uint64_t window_start_ns, window_end_ns; /* measure in [start, end); end 0 = the whole run */
	int ignore_affinity;    /* run every task on any simulated CPU, whatever its "cpus" says */
	int no_balance;         /* no periodic or newly-idle load balancing (wake-up placement stays) */
	uint64_t wake_delay_ns; /* a sleep or timer wakes its task this long after it is due (the
	                         * hrtimer's slack, 50 µs for SCHED_OTHER, plus the interrupt and
	                         * try_to_wake_up()); counted in the wake-up latency; default 0 */
	uint64_t clock_poll_ns; /* while a task executes a "run" event it reads its CPU clock this
	                         * often, and each read runs update_curr() with its preemption
	                         * checks (hotpath's load generator measures "run" with
	                         * CLOCK_THREAD_CPUTIME_ID, and task_sched_runtime() calls
	                         * update_curr(); rt-app's calibrated loop does not); 0 = never */
	uint64_t max_events;    /* refuse runs estimated above this many events; 0 = HP_SIM_MAX_EVENTS */
	int check;              /* verify every invariant after every event (tests; O(tasks) each) */
	FILE *trace;            /* every switch as CSV, or NULL */
} hp_sim_opts_t;

typedef struct hp_sim_task_res {
	char name[80];
	int nice;
	uint32_t weight;
	uint64_t runtime_ns;    /* CPU time in the window */
	double share;           /* runtime_ns / window length: fraction of one CPU */
	uint64_t switches;      /* times switched in */
	uint64_t wakeups;       /* wake-ups from sleep or timer */
	int64_t wakeup_p50_ns, wakeup_p99_ns, wakeup_max_ns; /* wake to run; -1 without wake-ups */
	int64_t wakeup_p90_ns;
	uint64_t migrations;    /* moves to another CPU: at wake-up or by load balancing */
	hp_hist_t lat;          /* every wake-up latency in the window (sim_hist.h: quantiles within 0.79%) */
} hp_sim_task_res_t;

typedef struct hp_sim_res {
	int ntasks;
	hp_sim_task_res_t *task;
	double jain;            /* Jain's index of runtime/weight over all tasks */
	uint64_t window_ns;
	uint64_t events;
} hp_sim_res_t;

/* Latencies the way the simulator reports them, for measurements compared
 * with it (bench/sched.c's fidelity case): sorted ascending, then the
 * nearest-rank percentile p (0..100) of sorted v, or -1 when n is 0. */
void hp_sim_sort_ns(int64_t *v, size_t n);
int64_t hp_sim_pct(const int64_t *v, size_t n, unsigned p);

void hp_sim_opts_default(hp_sim_opts_t *o);
/* An estimate of the events hp_sim_run() would simulate (its
 * HP_SIM_MAX_EVENTS check before it starts): per thread the loops that fit
 * the duration times the events of a loop, plus the ticks. O(scenario size). */
uint64_t hp_sim_estimate_events(const hp_scn_t *s, const hp_sim_opts_t *o);
/* Runs the scenario. 0; -1 with err when the options do not fit it (e.g.
 * a task pinned to a CPU that is not simulated: bad input); -2 with err on
 * an internal error (out of memory, a task that never advances). */
int hp_sim_run(const hp_scn_t *s, const hp_sim_opts_t *o, hp_sim_res_t *r, char *err, size_t errlen);
void hp_sim_res_free(hp_sim_res_t *r);
/* The CSV of `hotpath sim`: header, one row per task, a final comment line
 * with Jain's index and the options. */
void hp_sim_write_csv(FILE *f, const hp_sim_res_t *r, const hp_sim_opts_t *o);

/* Exit codes of hp_sim_main: the values of hotpath's own (0 ok, 2 bad usage
 * or input, 99 internal error), kept here so that this library needs
 * nothing from the harness. */
enum {
	HP_SIM_EXIT_OK = 0,
	HP_SIM_EXIT_USAGE = 2,
	HP_SIM_EXIT_INTERNAL = 99,
};

/* `hotpath sim FILE.json [--policy cfs|eevdf] [--seed N] [--cpus N] [--hz N]
 * [--scale-cpus N] [--trace FILE]`; argv[0] is "sim". Returns the exit code. */
int hp_sim_main(int argc, char **argv);

#endif
