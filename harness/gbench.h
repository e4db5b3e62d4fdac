/* gbench.h — Google Benchmark exposed to C (there is no official C API).
 *
 * C code registers a benchmark with a name, a C function and an argument.
 * The function receives batches of iterations: it is called with a count and
 * runs that many iterations itself, so there is no indirect call per
 * iteration. A reporter callback receives every run (one per repetition;
 * Google Benchmark's own aggregates are not passed on, hotpath computes its
 * statistics from the repetitions).
 *
 * Implemented in gbench.cc, the only C++ in hotpath.
 */
#ifndef HP_GBENCH_H
#define HP_GBENCH_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct hp_gb_state hp_gb_state_t;   /* wraps benchmark::State */
typedef struct hp_gb_bench hp_gb_bench_t;   /* wraps benchmark::internal::Benchmark */

/* Runs `iters` iterations of the measured work. Called once per timed run in
 * each benchmark thread; the clock is running when it is entered. */
typedef void (*hp_gb_fn)(hp_gb_state_t *st, uint64_t iters, void *arg);

/* Binds the calling benchmark thread; called in each thread before timing
 * with its thread index. Returns 0 or -1 (the run is then skipped with
 * "cannot bind thread N of T[: strerror(errno)]").
 * Called again for every timed run (Google Benchmark starts fresh threads
 * for each run, including the runs that search for an iteration count).
 * Thread 0 is the thread that called hp_gb_run_all: its CPU affinity is
 * restored when hp_gb_run_all returns, other per-thread state a bind sets
 * (e.g. a memory policy) is not. */
typedef int (*hp_gb_bind_fn)(int thread_index, void *arg);

/* Returns NULL (with a message on stderr) for an empty name or a NULL fn.
 * The handle is valid until hp_gb_run_all or hp_gb_clear; the setters below
 * accept NULL. A bad setting (threads, repetitions or iterations < 1,
 * min_time <= 0) does not abort: the benchmark's runs are reported skipped
 * with a message naming the value. A fixed iteration count overrides
 * min_time; manual time overrides real time. */
hp_gb_bench_t *hp_gb_register(const char *name, hp_gb_fn fn, void *arg);
void hp_gb_set_threads(hp_gb_bench_t *b, int threads);
void hp_gb_set_repetitions(hp_gb_bench_t *b, int reps);
void hp_gb_set_min_time(hp_gb_bench_t *b, double seconds);
void hp_gb_set_iterations(hp_gb_bench_t *b, uint64_t iters);   /* fixed count */
void hp_gb_use_manual_time(hp_gb_bench_t *b);
void hp_gb_use_real_time(hp_gb_bench_t *b);
void hp_gb_set_bind(hp_gb_bench_t *b, hp_gb_bind_fn fn, void *arg);

/* Inside a hp_gb_fn. Pause/resume are no-ops when they would be misuse
 * (already paused, not paused, after a skip) instead of aborting as Google
 * Benchmark does; a clock left paused is resumed when fn returns. */
void hp_gb_pause(hp_gb_state_t *st);
void hp_gb_resume(hp_gb_state_t *st);
/* Adds to this thread's manual time for the batch (seconds). */
void hp_gb_set_iteration_time(hp_gb_state_t *st, double seconds);
void hp_gb_set_items_processed(hp_gb_state_t *st, int64_t items);
void hp_gb_set_bytes_processed(hp_gb_state_t *st, int64_t bytes);
/* flags: HP_GB_COUNTER_* below, combined as Google Benchmark's Counter flags */
enum {
	HP_GB_COUNTER_DEFAULT = 0,
	HP_GB_COUNTER_RATE = 1,            /* divided by the run's time */
	HP_GB_COUNTER_AVG_THREADS = 2,     /* divided by the thread count */
	HP_GB_COUNTER_AVG_ITERATIONS = 4,  /* divided by the iteration count */
};
void hp_gb_counter(hp_gb_state_t *st, const char *name, double value, int flags);
void hp_gb_skip(hp_gb_state_t *st, const char *msg);
int hp_gb_thread_index(const hp_gb_state_t *st);
int hp_gb_threads(const hp_gb_state_t *st);
uint64_t hp_gb_max_iterations(const hp_gb_state_t *st);

/* One measured run as Google Benchmark reports it. Times are per iteration,
 * in nanoseconds (manual time when the benchmark uses it).
 *
 * With threads > 1 (measured with Google Benchmark 1.7.1; tests/test_gbench.c
 * asserts the iteration, manual-time and counter arithmetic, so a library
 * version that computes otherwise fails there):
 * - every thread's fn gets the same count n (hp_gb_max_iterations), and
 *   `iterations` is the sum over threads: threads * n;
 * - real_time_ns is the wall (or manual) time of a thread averaged over the
 *   threads, divided by `iterations` (all threads' iterations). So the
 *   aggregate throughput is 1e9 / real_time_ns operations per second (NOT
 *   threads * 1e9 / real_time_ns), one thread's rate is
 *   1e9 / (threads * real_time_ns) and the wall time of one operation in a
 *   thread is threads * real_time_ns. E.g. 2 threads each taking 1 us per
 *   iteration report real_time_ns = 500. Manual times are averaged over
 *   threads too (not the maximum, whatever Google Benchmark's docs say).
 * - cpu_time_ns is the CPU time summed over threads divided by `iterations`,
 *   i.e. the CPU cost of one operation (1000 in the example above).
 * - counters are summed over threads before their flags apply. RATE divides
 *   by the run's "seconds": the summed CPU time for a default benchmark,
 *   the thread-averaged wall time with hp_gb_use_real_time, the
 *   thread-averaged manual time with hp_gb_use_manual_time. So with threads
 *   > 1, items_per_second of a CPU-timed benchmark is per CPU-second, not
 *   aggregate; use real (or manual) time for aggregate rates.
 *   AVG_ITERATIONS divides by `iterations` (all threads'). */
typedef struct hp_gb_counter_val {
	const char *name;
	double value;                      /* after Google Benchmark's flags */
} hp_gb_counter_val_t;

typedef struct hp_gb_run {
	const char *name;                  /* the registered name, no suffixes */
	int repetition_index;
	int repetitions;
	int threads;
	uint64_t iterations;
	double real_time_ns;               /* per iteration */
	double cpu_time_ns;                /* per iteration */
	int skipped;
	const char *skip_message;          /* "" when not skipped */
	int ncounters;
	const hp_gb_counter_val_t *counters; /* includes items_per_second etc. */
} hp_gb_run_t;

typedef void (*hp_gb_report_fn)(const hp_gb_run_t *run, void *arg);

/* Runs every registered benchmark, reports each run through `cb` (may be
 * NULL; called on the calling thread; the run and its strings are valid
 * during the call only), then clears the registrations. Returns the number
 * of runs reported, or -1 while another run is in progress (called from a
 * benchmark, a callback or another thread). Prints
 * nothing itself: environment variables BENCHMARK_* are overridden. */
int hp_gb_run_all(hp_gb_report_fn cb, void *arg);
/* Drops registrations without running them. */
void hp_gb_clear(void);
/* The Google Benchmark version linked, e.g. "1.7.1" (from pkg-config). */
const char *hp_gb_version(void);
/* "debug" when the linked libbenchmark was built without NDEBUG (it then
 * prints "***WARNING*** Library was built as DEBUG" in its own reports),
 * else "release". */
const char *hp_gb_library_build(void);

#ifdef __cplusplus
}
#endif
#endif
