/* sim_scn.h — the parsed rt-app scenario, shared by the parser (sim.c) and the engine (sim_engine.c); internal to impl/sched, not an API. */
#ifndef HP_SIM_SCN_H
#define HP_SIM_SCN_H

#include <stdint.h>
#include <stdio.h>

#include "sim.h"

/* ================================================================== */
/* Scenario model                                                      */
/* ================================================================== */

typedef enum { EV_RUN, EV_RUNTIME, EV_SLEEP, EV_TIMER } ev_kind_t;

typedef struct scn_ev {
	ev_kind_t kind;
	uint64_t ns;            /* run/runtime/sleep length, timer period */
	int timer;              /* EV_TIMER: index into hp_scn_t.timers */
	int absolute;           /* EV_TIMER: "mode": "absolute" */
	int slot;               /* EV_TIMER: shared timers: index among them; "unique" ones: index among the task's */
} scn_ev_t;

typedef struct scn_phase {
	long loop;              /* >= 1 */
	scn_ev_t *ev;
	int nev, capev;
} scn_phase_t;

typedef struct scn_task {
	char key[64];
	int instance;
	long loop;              /* -1 = forever */
	int nice;
	uint64_t cpus;          /* allowed CPUs as a bit mask, 0 = all */
	uint64_t slice_ns;      /* "slice": custom slice (sched_attr.sched_runtime), 0 = the base slice */
	scn_phase_t *ph;
	int nph;
	int nunique;            /* "unique" timers of each of its threads */
} scn_task_t;

typedef struct scn_timer {
	char ref[64];
	int unique;             /* "unique..." refs: one timer per thread */
	int slot;               /* shared timers: index among the shared ones */
} scn_timer_t;

typedef struct scn_thread {
	int task;
	int inst;
	char name[80];
} scn_thread_t;

struct hp_scn {
	uint64_t duration_ns;
	scn_task_t *task;
	int ntask;
	scn_timer_t *timers;
	int ntimers, captimers;
	int nshared;            /* timers that are not "unique" */
	int *thash;             /* while parsing: open-addressing index of timers by ref, thcap slots */
	size_t thcap;
	scn_thread_t *thr;
	int nthr;
};

/* PELT of one task (sim_engine.c, the balancer's load; kernel
 * struct sched_avg's load_sum and period_contrib, Linux 6.6 pelt.c). Time
 * in units of 1024 ns, 1024 of them a period, y^32 = 1/2. */
/* LOAD_AVG_MAX, the sum of 1024 * y^n: exact here (1024 / (1 - y), y =
 * 2^(-1/32) = 0.9785720620877001), 47742 in the kernel, whose integer
 * tables round each step; exact, the three segments of an update add up
 * to what any split of the interval gives */
#define HP_PELT_LOAD_AVG_MAX (1024.0 / (1.0 - 0.9785720620877001))
#define HP_PELT_PERIOD 1024u

typedef struct hp_pelt {
	double sum;             /* load_sum: decayed runnable time */
	uint32_t contrib;       /* period_contrib: the current period's part already in sum */
	uint64_t last;          /* last_update_time, ns (a multiple of 1024 past the start) */
} hp_pelt_t;

/* init_entity_runnable_average(): a new task at its full weight. O(1). */
void hp_pelt_init(hp_pelt_t *p, uint64_t now);
/* ___update_load_avg()'s accumulate_sum(): the interval up to now,
 * runnable throughout or not. O(1) (one exp2). */
void hp_pelt_update(hp_pelt_t *p, uint64_t now, int runnable);
/* load_avg = weight * load_sum / (LOAD_AVG_MAX - 1024 + period_contrib). O(1). */
double hp_pelt_load(const hp_pelt_t *p, uint32_t weight);

/* A CSV field, quoted when it holds a comma, quote or line break (RFC 4180). */
void hp_sim_csv_field(FILE *f, const char *v);

#endif
