/* metrics.h — counting backends other than time: hardware counters through
 * perf_event_open, and instruction counts under valgrind's callgrind. */
#ifndef HP_METRICS_H
#define HP_METRICS_H

#include <stddef.h>
#include <stdint.h>

/* ---- perf_event_open ---- */
#define HP_PERF_NEVENTS 4
/* Event names in order: perf_cycles, perf_instructions, perf_cache_misses,
 * perf_branch_misses (CSV metric names), units "cycles", "instr",
 * "misses", "misses" (per op is appended by the runner). */
extern const char *const hp_perf_event_names[HP_PERF_NEVENTS];
extern const char *const hp_perf_event_units[HP_PERF_NEVENTS];

typedef struct hp_perf {
	int fd[HP_PERF_NEVENTS];   /* group leader is fd[0]; -1 if not opened */
} hp_perf_t;

/* NULL when the calling thread can count all four events (user+kernel
 * where perf_event_paranoid allows, else user only), else a static reason,
 * e.g. "perf_event_open(cycles): No such file or directory: no hardware
 * PMU (virtual machine without vPMU?)". Cached after the first call. */
const char *hp_perf_unavailable(void);
/* Opens the group for the calling thread, disabled. 0 or -1 with err. */
int hp_perf_open(hp_perf_t *p, char *err, size_t errlen);
void hp_perf_enable(hp_perf_t *p);
void hp_perf_disable(hp_perf_t *p);
void hp_perf_reset(hp_perf_t *p);
/* Reads the 4 counts (scaled if multiplexed). 0 or -1. */
int hp_perf_read(hp_perf_t *p, uint64_t out[HP_PERF_NEVENTS]);
void hp_perf_close(hp_perf_t *p);

/* ---- callgrind ---- */
/* 1 when this process runs under valgrind (RUNNING_ON_VALGRIND). */
int hp_on_valgrind(void);
/* In the measured process: the client requests, no-ops when not under
 * valgrind or built without callgrind.h. */
void hp_cg_start(void);      /* zero stats, start collecting */
void hp_cg_stop(void);       /* stop collecting */
/* Stop / restart collecting inside a counted region without zeroing (the
 * runner maps hp_pause/hp_resume to these). */
void hp_cg_pause(void);
void hp_cg_resume(void);
void hp_cg_dump(const char *label);  /* CALLGRIND_DUMP_STATS_AT(label) */
/* Reads the instruction total (the "summary:" or "totals:" Ir value) of
 * one callgrind output file: hp_cg_read_events of "Ir". Returns 0 or -1
 * with err. */
int hp_cg_read_total(const char *path, uint64_t *ir, char *err, size_t errlen);
/* Reads the totals of the named events (callgrind's names: "Ir", "I1mr",
 * "D1mr", "D1mw", "ILmr", "DLmr", "DLmw") from one callgrind output file
 * into out[0..n). An event the file does not list is an error naming it
 * ("no D1mr event: was the cache simulator on (--cache-sim=yes)?"), never
 * a zero. Returns 0 or -1 with err. */
int hp_cg_read_events(const char *path, const char *const *names, int n, uint64_t *out,
		      char *err, size_t errlen);
/* NULL when instruction counting can run (valgrind found at build time and
 * present now), else a reason. */
const char *hp_cg_unavailable(void);

#endif
