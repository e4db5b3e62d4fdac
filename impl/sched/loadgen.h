/* loadgen.h — hotpath's own load generator: plays a scenario (sim.h's grammar) on the running kernel with real threads, custom slices included.
 *
 * rt-app (1.0, Debian) cannot give a SCHED_OTHER task a custom slice
 * (sched_attr.sched_runtime, Linux 6.12+): it passes sched_runtime only for
 * SCHED_DEADLINE. This generator plays the same scenarios itself, so that
 * the fidelity case (bench/sched.c) can measure what the models predict
 * for custom slices. It is a measuring tool, not a kernel mirror: no
 * kernel counterpart, and its costs are those of the syscalls it makes.
 *
 * One thread per scenario thread, created one after another in the
 * scenario's order (as rt-app does, so /proc lists them by tid in that
 * order) and named after the task's key (the kernel keeps 15 characters).
 * Each thread, before its program:
 *   - sched_setattr(SCHED_OTHER, sched_nice = "priority",
 *     sched_runtime = "slice" in ns or 0), then, with a slice, reads
 *     `se.slice` back from /proc/self/task/<tid>/sched: a kernel that
 *     ignored it (before 6.12, or a field missing) makes the whole run
 *     fail with the reason, which callers report as "unavailable: <reason>";
 *   - pins itself to the CPUs given (else to the task's "cpus", else any).
 * Then its events, with rt-app's meaning (as the simulator plays them):
 *   run      CPU work: spins until its CLOCK_THREAD_CPUTIME_ID has advanced
 *            by the time given (preemption does not count);
 *   runtime  wall time: spins until CLOCK_MONOTONIC has advanced by it;
 *   sleep    clock_nanosleep(TIMER_ABSTIME) to now + the time;
 *   timer    clock_nanosleep(TIMER_ABSTIME) to the timer's next expiry (the
 *            thread's start plus a period the first time, then a period
 *            on); a late thread does not sleep, and a relative timer then
 *            restarts from now; "unique..." refs are per thread, others
 *            shared by every thread that names them (under a lock).
 * Every sleep and timer wait that sleeps records one activation: its due
 * time (from the run's start) and its wake-up latency, the time read on
 * return minus the time it was due (rt-app's wu_lat). A thread stops at
 * the scenario's duration (or when its loops are done); a wait due after
 * the end is not made.
 */
#ifndef HP_LOADGEN_H
#define HP_LOADGEN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "sim.h"

typedef struct hp_lg_opts {
	const int *cpus;        /* every thread allowed on these CPUs; NULL: the task's "cpus", else all */
	int ncpus;
	uint64_t duration_ns;   /* 0: the scenario's */
} hp_lg_opts_t;

typedef struct hp_lg_thread {
	char name[80];          /* hp_scn_thread_name() */
	pid_t tid;
	int nice;
	uint64_t slice_req_ns;  /* the scenario's "slice", 0 = none */
	uint64_t slice_seen_ns; /* se.slice read back after sched_setattr, 0 when not shown */
	uint64_t cpu_ns;        /* the thread's CPU time over its life (CLOCK_THREAD_CPUTIME_ID) */
	uint64_t loops;         /* whole passes through its phases */
	uint64_t runs;          /* run/runtime events completed */
	size_t nact;            /* activations: sleeps and timer waits that slept */
	uint64_t *due_ns;       /* per activation: when it was due, from the run's start */
	int64_t *lat_ns;        /* per activation: woken minus due */
	size_t capact;
} hp_lg_thread_t;

typedef struct hp_lg_res {
	int nthr;
	hp_lg_thread_t *thr;
	uint64_t wall_ns;       /* from the start to the last thread's end */
} hp_lg_res_t;

/* Plays the scenario; returns when every thread has stopped. 0; -1 with
 * err when this kernel or process cannot do what it asks (a slice the
 * kernel ignored, a nice value not permitted, a CPU not allowed: report
 * it as unavailable); -2 with err on an internal error. r is filled (and
 * must be freed) whenever it returns 0. O(threads) setup, then real time. */
int hp_lg_run(const hp_scn_t *s, const hp_lg_opts_t *o, hp_lg_res_t *r, char *err, size_t errlen);
void hp_lg_res_free(hp_lg_res_t *r);

/* Whether this kernel honours a custom slice of ns for a SCHED_OTHER
 * thread: sets it on a short-lived thread and reads se.slice back. 0, or
 * -1 with the reason in why. A few syscalls and a thread creation. */
int hp_lg_slice_probe(uint64_t ns, char *why, size_t len);

/* Writes the activations of thread i to path, a line each:
 * `due_ns lat_ns` (due time from the run's start). 0 or -1 (errno). */
int hp_lg_write_log(const hp_lg_res_t *r, int i, const char *path);

#endif
