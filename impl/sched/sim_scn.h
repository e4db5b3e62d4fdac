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

/* A CSV field, quoted when it holds a comma, quote or line break (RFC 4180). */
void hp_sim_csv_field(FILE *f, const char *v);

#endif
