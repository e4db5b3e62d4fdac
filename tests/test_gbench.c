/* test_gbench.c — the C wrapper of Google Benchmark: batches, repetitions, threads, binding, manual time, counters, skips, silence. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gbench.h"
#include "hp.h"
#include "hp_config.h"
#include "t_util.h"

/* ------------------------------------------------------------------ */
/* What the callbacks saw                                              */
/* ------------------------------------------------------------------ */

#define MAX_RUNS 16
#define MAX_COUNTERS 8
#define MAX_CALLS 64

typedef struct {
	char name[64];
	int repetition_index, repetitions, threads;
	uint64_t iterations;
	double real_time_ns, cpu_time_ns;
	int skipped;
	char skip_message[160];
	int ncounters;
	char cname[MAX_COUNTERS][32];
	double cval[MAX_COUNTERS];
} rec_t;

static rec_t runs[MAX_RUNS];
static int nruns;

/* Benchmark threads write these; slots are per call, claimed atomically. */
static atomic_int ncalls;
static struct { int thread; uint64_t n; uint64_t max_iters; int threads; } calls[MAX_CALLS];
static atomic_int bind_mask;      /* bit i: bind called with thread index i */
static atomic_int bind_calls;

static void reset(void)
{
	memset(runs, 0, sizeof(runs));
	nruns = 0;
	atomic_store(&ncalls, 0);
	memset(calls, 0, sizeof(calls));
	atomic_store(&bind_mask, 0);
	atomic_store(&bind_calls, 0);
}

static void note_call(hp_gb_state_t *st, uint64_t n)
{
	int i = atomic_fetch_add(&ncalls, 1);
	if (i < MAX_CALLS) {
		calls[i].thread = hp_gb_thread_index(st);
		calls[i].n = n;
		calls[i].max_iters = hp_gb_max_iterations(st);
		calls[i].threads = hp_gb_threads(st);
	}
}

static void record(const hp_gb_run_t *r, void *arg)
{
	(void)arg;
	if (nruns >= MAX_RUNS)
		return;
	rec_t *o = &runs[nruns++];
	snprintf(o->name, sizeof(o->name), "%s", r->name);
	o->repetition_index = r->repetition_index;
	o->repetitions = r->repetitions;
	o->threads = r->threads;
	o->iterations = r->iterations;
	o->real_time_ns = r->real_time_ns;
	o->cpu_time_ns = r->cpu_time_ns;
	o->skipped = r->skipped;
	snprintf(o->skip_message, sizeof(o->skip_message), "%s", r->skip_message);
	o->ncounters = r->ncounters;
	for (int i = 0; i < r->ncounters && i < MAX_COUNTERS; i++) {
		snprintf(o->cname[i], sizeof(o->cname[i]), "%s", r->counters[i].name);
		o->cval[i] = r->counters[i].value;
	}
}

/* NAN when the counter is missing, so comparisons fail. */
static double counter(const rec_t *r, const char *name)
{
	for (int i = 0; i < r->ncounters && i < MAX_COUNTERS; i++)
		if (strcmp(r->cname[i], name) == 0)
			return r->cval[i];
	return NAN;
}

static int near(double a, double b)
{
	return fabs(a - b) <= 1e-9 * fabs(b) + 1e-12;
}

/* ------------------------------------------------------------------ */
/* Benchmark functions                                                 */
/* ------------------------------------------------------------------ */

/* Real work the compiler must keep: the harness's barriers from C. */
static void work(hp_gb_state_t *st, uint64_t n, void *arg)
{
	(void)arg;
	note_call(st, n);
	uint64_t acc = 0;
	for (uint64_t i = 0; i < n; i++) {
		acc += i;
		hp_do_not_optimize(acc);
	}
	hp_clobber_memory();
}

/* Reports 1 us per iteration of manual time, plus one counter per flag. */
static void manual(hp_gb_state_t *st, uint64_t n, void *arg)
{
	(void)arg;
	note_call(st, n);
	hp_gb_set_iteration_time(st, 1e-6 * (double)n);
	hp_gb_counter(st, "plain", 10, HP_GB_COUNTER_DEFAULT);
	hp_gb_counter(st, "rate", 10, HP_GB_COUNTER_RATE);
	hp_gb_counter(st, "avg_threads", 10, HP_GB_COUNTER_AVG_THREADS);
	hp_gb_counter(st, "avg_iters", 10, HP_GB_COUNTER_AVG_ITERATIONS);
	hp_gb_counter(st, "rate_avg_iters", 10, HP_GB_COUNTER_RATE | HP_GB_COUNTER_AVG_ITERATIONS);
	hp_gb_set_items_processed(st, (int64_t)n);
	hp_gb_set_bytes_processed(st, 4 * (int64_t)n);
}

/* Thread i reports (i + 1) us per iteration. */
static void manual_uneven(hp_gb_state_t *st, uint64_t n, void *arg)
{
	(void)arg;
	note_call(st, n);
	hp_gb_set_iteration_time(st, 1e-6 * (double)n * (hp_gb_thread_index(st) + 1));
}

static void skipper(hp_gb_state_t *st, uint64_t n, void *arg)
{
	(void)arg;
	note_call(st, n);
	hp_gb_skip(st, "no such device here");
	/* Misuse after a skip must not abort the process. */
	hp_gb_pause(st);
	hp_gb_resume(st);
	hp_gb_skip(st, "second reason is dropped");
}

/* Pauses twice, and leaves the clock paused. */
static void pauser(hp_gb_state_t *st, uint64_t n, void *arg)
{
	(void)arg;
	note_call(st, n);
	hp_gb_pause(st);
	hp_gb_pause(st);
	hp_gb_resume(st);
	hp_gb_resume(st);
	hp_gb_pause(st);
}

static void bad_counter(hp_gb_state_t *st, uint64_t n, void *arg)
{
	(void)arg;
	note_call(st, n);
	hp_gb_counter(st, "x", 1, 16);
}

static int bind_ok(int thread_index, void *arg)
{
	(void)arg;
	atomic_fetch_add(&bind_calls, 1);
	atomic_fetch_or(&bind_mask, 1 << thread_index);
	/* Pin the caller's thread 0 somewhere, to check it is put back. */
	if (thread_index == 0) {
		cpu_set_t set;
		if (sched_getaffinity(0, sizeof(set), &set) == 0) {
			int last = -1;
			for (int c = 0; c < CPU_SETSIZE; c++)
				if (CPU_ISSET(c, &set))
					last = c;
			CPU_ZERO(&set);
			CPU_SET(last, &set);
			(void)sched_setaffinity(0, sizeof(set), &set);
		}
	}
	return 0;
}

static int bind_fail_1(int thread_index, void *arg)
{
	(void)arg;
	atomic_fetch_or(&bind_mask, 1 << thread_index);
	if (thread_index == 1) {
		errno = EINVAL;
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Tests                                                               */
/* ------------------------------------------------------------------ */

static void test_version(void)
{
	const char *v = hp_gb_version();
	char want[64];
	T_CHECK(v && v[0] >= '1' && v[0] <= '9' && strchr(v, '.'));
	snprintf(want, sizeof(want), "benchmark=%s;", v);
	T_CHECK_MSG(strstr(HP_LIBVERSIONS, want) != NULL, "version %s not in %s", v, HP_LIBVERSIONS);
}

static void test_bad_registration(void)
{
	T_CHECK(hp_gb_register("", work, NULL) == NULL);
	T_CHECK(hp_gb_register(NULL, work, NULL) == NULL);
	T_CHECK(hp_gb_register("nofn", NULL, NULL) == NULL);
	/* Setters accept the NULL a failed registration returns. */
	hp_gb_set_threads(NULL, 2);
	reset();
	T_CHECK(hp_gb_run_all(record, NULL) == 0);
	T_CHECK(nruns == 0);
}

/* Fixed count: fn once per repetition with exactly that count. */
static void test_fixed_repetitions(void)
{
	reset();
	hp_gb_bench_t *b = hp_gb_register("fixed", work, NULL);
	T_CHECK(b != NULL);
	hp_gb_set_iterations(b, 1000);
	hp_gb_set_repetitions(b, 3);
	int n = hp_gb_run_all(record, NULL);
	T_CHECK(n == 3);
	T_CHECK(nruns == 3);
	T_CHECK(atomic_load(&ncalls) == 3);
	for (int i = 0; i < 3 && i < atomic_load(&ncalls); i++) {
		T_CHECK(calls[i].n == 1000);
		T_CHECK(calls[i].max_iters == 1000);
		T_CHECK(calls[i].thread == 0 && calls[i].threads == 1);
	}
	for (int i = 0; i < nruns; i++) {
		T_CHECK_STR(runs[i].name, "fixed");
		T_CHECK(runs[i].repetition_index == i);
		T_CHECK(runs[i].repetitions == 3);
		T_CHECK(runs[i].threads == 1);
		T_CHECK(runs[i].iterations == 1000);
		T_CHECK(!runs[i].skipped);
		T_CHECK_STR(runs[i].skip_message, "");
		T_CHECK(runs[i].real_time_ns > 0);
		T_CHECK(runs[i].cpu_time_ns >= 0);
	}
}

/* Two threads: both bound and run, each with the per-thread count. */
static void test_threads_bind(void)
{
	cpu_set_t before, after;
	T_CHECK(sched_getaffinity(0, sizeof(before), &before) == 0);
	reset();
	hp_gb_bench_t *b = hp_gb_register("threads", work, NULL);
	hp_gb_set_threads(b, 2);
	hp_gb_set_iterations(b, 500);
	hp_gb_set_bind(b, bind_ok, NULL);
	T_CHECK(hp_gb_run_all(record, NULL) == 1);
	T_CHECK(atomic_load(&bind_mask) == 3);
	T_CHECK(atomic_load(&bind_calls) == 2);
	T_CHECK(atomic_load(&ncalls) == 2);
	int seen = 0;
	for (int i = 0; i < 2; i++) {
		seen |= 1 << calls[i].thread;
		T_CHECK(calls[i].n == 500);
		T_CHECK(calls[i].threads == 2);
	}
	T_CHECK(seen == 3);
	T_CHECK(nruns == 1);
	T_CHECK_STR(runs[0].name, "threads");
	T_CHECK(runs[0].threads == 2);
	/* Google Benchmark reports the iterations of all threads together. */
	T_CHECK(runs[0].iterations == 1000);
	T_CHECK(!runs[0].skipped);
	/* Thread 0 ran on this thread; its binding was undone. */
	T_CHECK(sched_getaffinity(0, sizeof(after), &after) == 0);
	T_CHECK(CPU_EQUAL(&before, &after));
}

static void test_bind_failure(void)
{
	reset();
	hp_gb_bench_t *b = hp_gb_register("bindfail", work, NULL);
	hp_gb_set_threads(b, 2);
	hp_gb_set_iterations(b, 100);
	hp_gb_set_bind(b, bind_fail_1, NULL);
	T_CHECK(hp_gb_run_all(record, NULL) == 1);
	T_CHECK(atomic_load(&bind_mask) == 3);
	T_CHECK(nruns == 1);
	T_CHECK(runs[0].skipped);
	T_CHECK_MSG(strstr(runs[0].skip_message, "cannot bind thread 1") != NULL, "message: %s",
		    runs[0].skip_message);
	T_CHECK(runs[0].real_time_ns == 0);
	/* The thread that could not bind never ran the work. */
	for (int i = 0; i < atomic_load(&ncalls) && i < MAX_CALLS; i++)
		T_CHECK(calls[i].thread != 1);
}

/* Manual time and counters, where Google Benchmark's arithmetic is exact. */
static void test_manual_counters(void)
{
	reset();
	hp_gb_bench_t *b = hp_gb_register("manual", manual, NULL);
	hp_gb_set_iterations(b, 1000);
	hp_gb_use_manual_time(b);
	hp_gb_use_real_time(b);   /* manual wins, no abort */
	T_CHECK(hp_gb_run_all(record, NULL) == 1);
	T_CHECK(nruns == 1);
	const rec_t *r = &runs[0];
	T_CHECK(!r->skipped);
	T_CHECK(r->iterations == 1000);
	T_CHECK_MSG(near(r->real_time_ns, 1000), "real_time_ns %.17g", r->real_time_ns);
	/* The run lasted 1e-3 s of manual time. */
	T_CHECK(near(counter(r, "plain"), 10));
	T_CHECK(near(counter(r, "rate"), 10 / 1e-3));
	T_CHECK(near(counter(r, "avg_threads"), 10));
	T_CHECK(near(counter(r, "avg_iters"), 10.0 / 1000));
	T_CHECK(near(counter(r, "rate_avg_iters"), 10 / 1e-3 / 1000));
	T_CHECK(near(counter(r, "items_per_second"), 1000 / 1e-3));
	T_CHECK(near(counter(r, "bytes_per_second"), 4000 / 1e-3));
	T_CHECK(r->ncounters == 7);
}

/* Two threads: values are summed over threads, times averaged over threads
 * and divided by the iterations of all threads (see gbench.h). */
static void test_manual_threads(void)
{
	reset();
	hp_gb_bench_t *b = hp_gb_register("manual2", manual, NULL);
	hp_gb_set_threads(b, 2);
	hp_gb_set_iterations(b, 1000);
	hp_gb_use_manual_time(b);
	T_CHECK(hp_gb_run_all(record, NULL) == 1);
	T_CHECK(nruns == 1);
	const rec_t *r = &runs[0];
	T_CHECK(r->iterations == 2000);
	T_CHECK_MSG(near(r->real_time_ns, 500), "real_time_ns %.17g", r->real_time_ns);
	T_CHECK(near(counter(r, "plain"), 20));
	T_CHECK(near(counter(r, "rate"), 20 / 1e-3));
	T_CHECK(near(counter(r, "avg_threads"), 10));
	T_CHECK(near(counter(r, "avg_iters"), 20.0 / 2000));
	T_CHECK(near(counter(r, "items_per_second"), 2000 / 1e-3));

	reset();
	b = hp_gb_register("uneven", manual_uneven, NULL);
	hp_gb_set_threads(b, 2);
	hp_gb_set_iterations(b, 1000);
	hp_gb_use_manual_time(b);
	T_CHECK(hp_gb_run_all(record, NULL) == 1);
	/* (1 ms + 2 ms) / 2 threads / 2000 iterations: the mean, not the max. */
	T_CHECK_MSG(nruns == 1 && near(runs[0].real_time_ns, 750), "real_time_ns %.17g", runs[0].real_time_ns);
}

static void test_skip(void)
{
	reset();
	hp_gb_bench_t *b = hp_gb_register("skipper", skipper, NULL);
	hp_gb_set_iterations(b, 10);
	hp_gb_set_repetitions(b, 2);
	T_CHECK(hp_gb_run_all(record, NULL) == 2);
	T_CHECK(nruns == 2);
	for (int i = 0; i < nruns; i++) {
		T_CHECK(runs[i].skipped);
		T_CHECK_STR(runs[i].skip_message, "no such device here");
		T_CHECK(runs[i].real_time_ns == 0 && runs[i].cpu_time_ns == 0);
	}

	reset();
	b = hp_gb_register("badcounter", bad_counter, NULL);
	hp_gb_set_iterations(b, 10);
	T_CHECK(hp_gb_run_all(record, NULL) == 1);
	T_CHECK(nruns == 1 && runs[0].skipped);
	T_CHECK_MSG(strstr(runs[0].skip_message, "flags 0x10") != NULL, "message: %s", runs[0].skip_message);
}

static void test_pause_misuse(void)
{
	reset();
	hp_gb_bench_t *b = hp_gb_register("pauser", pauser, NULL);
	hp_gb_set_iterations(b, 10);
	T_CHECK(hp_gb_run_all(record, NULL) == 1);
	T_CHECK(nruns == 1 && !runs[0].skipped && runs[0].iterations == 10);
}

static void test_bad_settings(void)
{
	static const struct { const char *name; const char *want; } cases[] = {
		{"t0", "threads 0"}, {"r0", "repetitions 0"}, {"i0", "iterations 0"}, {"m0", "min_time -1"},
	};
	reset();
	hp_gb_set_threads(hp_gb_register("t0", work, NULL), 0);
	hp_gb_set_repetitions(hp_gb_register("r0", work, NULL), 0);
	hp_gb_set_iterations(hp_gb_register("i0", work, NULL), 0);
	hp_gb_set_min_time(hp_gb_register("m0", work, NULL), -1);
	T_CHECK(hp_gb_run_all(record, NULL) == 4);
	T_CHECK(nruns == 4);
	T_CHECK(atomic_load(&ncalls) == 0);
	for (int i = 0; i < nruns && i < 4; i++) {
		/* Run in registration order. */
		T_CHECK_STR(runs[i].name, cases[i].name);
		T_CHECK(runs[i].skipped);
		T_CHECK_MSG(strstr(runs[i].skip_message, cases[i].want) != NULL, "message: %s",
			    runs[i].skip_message);
	}
}

/* No fixed count: the library grows the count; the last call's count is
 * the one reported. Timing itself is not asserted. */
static void test_min_time(void)
{
	reset();
	hp_gb_bench_t *b = hp_gb_register("mintime", work, NULL);
	hp_gb_set_min_time(b, 0.01);
	T_CHECK(hp_gb_run_all(record, NULL) == 1);
	int nc = atomic_load(&ncalls);
	T_CHECK(nruns == 1);
	T_CHECK(nc >= 2);
	T_CHECK(nc >= 1 && nc <= MAX_CALLS && calls[0].n == 1);
	if (nc >= 1 && nc <= MAX_CALLS) {
		for (int i = 1; i < nc; i++)
			T_CHECK(calls[i].n > calls[i - 1].n);
		T_CHECK(runs[0].iterations == calls[nc - 1].n);
	}
	T_CHECK(runs[0].iterations > 1);
}

static void test_clear_and_rerun(void)
{
	reset();
	hp_gb_register("cleared", work, NULL);
	hp_gb_clear();
	T_CHECK(hp_gb_run_all(record, NULL) == 0);
	T_CHECK(nruns == 0 && atomic_load(&ncalls) == 0);

	/* run_all clears what it ran. */
	hp_gb_set_iterations(hp_gb_register("once", work, NULL), 5);
	T_CHECK(hp_gb_run_all(record, NULL) == 1);
	T_CHECK(hp_gb_run_all(record, NULL) == 0);
	T_CHECK(nruns == 1 && atomic_load(&ncalls) == 1);

	/* Two registrations in one call, and a NULL callback still counts. */
	reset();
	hp_gb_set_iterations(hp_gb_register("a", work, NULL), 5);
	hp_gb_set_iterations(hp_gb_register("b", work, NULL), 7);
	T_CHECK(hp_gb_run_all(NULL, NULL) == 2);
	T_CHECK(atomic_load(&ncalls) == 2);
	T_CHECK(calls[0].n == 5 && calls[1].n == 7);
}

/* Runs the first tests with stdout and stderr pointing at a file: Google
 * Benchmark must print nothing of its own (no table, no CPU warnings). */
static void quiet(void (*fn)(void), off_t *printed)
{
	char path[] = "/tmp/test_gbench.XXXXXX";
	int fd = mkstemp(path);
	if (fd < 0) {
		fn();
		return;
	}
	unlink(path);
	fflush(stdout);
	fflush(stderr);
	int o1 = dup(1), o2 = dup(2);
	dup2(fd, 1);
	dup2(fd, 2);
	fn();
	fflush(stdout);
	fflush(stderr);
	dup2(o1, 1);
	dup2(o2, 2);
	close(o1);
	close(o2);
	*printed = lseek(fd, 0, SEEK_END);
	if (*printed > 0) {
		char buf[512];
		ssize_t k = pread(fd, buf, sizeof(buf) - 1, 0);
		buf[k > 0 ? k : 0] = 0;
		fprintf(stderr, "printed while quiet:\n%s\n", buf);
	}
	close(fd);
}

static int quiet_failures;
static void quiet_body(void)
{
	/* Failed checks print too; count them apart. */
	int before = t_failures;
	test_fixed_repetitions();
	test_bind_failure();
	test_skip();
	quiet_failures = t_failures - before;
}

/* Google Benchmark takes its flag defaults from BENCHMARK_* variables when
 * the library loads; the test re-runs itself once under hostile ones (list
 * instead of run, filter everything out, write a file, more repetitions,
 * aggregates only...), which the wrapper must override. */
static char out_path[] = "/tmp/test_gbench_out.XXXXXX";

static void hostile_env(char **argv)
{
	if (getenv("HP_T_GBENCH_HOSTILE"))
		return;
	int fd = mkstemp(out_path);
	if (fd < 0)
		return;
	close(fd);
	unlink(out_path);
	setenv("HP_T_GBENCH_HOSTILE", out_path, 1);
	setenv("BENCHMARK_OUT", out_path, 1);
	setenv("BENCHMARK_LIST_TESTS", "true", 1);
	setenv("BENCHMARK_FILTER", "nothing_matches_this", 1);
	setenv("BENCHMARK_REPETITIONS", "4", 1);
	setenv("BENCHMARK_MIN_TIME", "3", 1);
	setenv("BENCHMARK_MIN_WARMUP_TIME", "1", 1);
	setenv("BENCHMARK_ENABLE_RANDOM_INTERLEAVING", "true", 1);
	setenv("BENCHMARK_REPORT_AGGREGATES_ONLY", "true", 1);
	setenv("BENCHMARK_DISPLAY_AGGREGATES_ONLY", "true", 1);
	setenv("BENCHMARK_FORMAT", "json", 1);
	setenv("BENCHMARK_TIME_UNIT", "s", 1);
	setenv("BENCHMARK_DRY_RUN", "true", 1);
	execv("/proc/self/exe", argv);
	/* Could not re-execute: test the plain environment. */
	unsetenv("HP_T_GBENCH_HOSTILE");
}

int main(int argc, char **argv)
{
	off_t printed = 0;
	(void)argc;
	hostile_env(argv);
	quiet(quiet_body, &printed);
	T_CHECK_MSG(quiet_failures > 0 || printed == 0, "%lld bytes printed", (long long)printed);
	test_version();
	test_bad_registration();
	test_threads_bind();
	test_manual_counters();
	test_manual_threads();
	test_pause_misuse();
	test_bad_settings();
	test_min_time();
	test_clear_and_rerun();
	const char *out = getenv("HP_T_GBENCH_HOSTILE");
	if (out && access(out, F_OK) == 0) {
		T_CHECK_MSG(0, "Google Benchmark wrote %s", out);
		unlink(out);
	}
	return t_done("test_gbench");
}
