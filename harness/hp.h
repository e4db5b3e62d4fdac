/* hp.h — the types every bench case and the harness share.
 *
 * A suite is one descriptor (hp_suite_t): its cases, its own plots, the
 * commands it adds to the CLI and its docs page. A case is one function
 * written once against a subsystem's ops table and run for every variant
 * (impl | baseline | kernel). The runner owns threads, processes, CPU
 * binding and timing; a case only does the work and hands values back
 * through hp_state_t. docs/adding-a-hot-path.md walks through a suite.
 */
#ifndef HP_HP_H
#define HP_HP_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "hp_rand.h"    /* hp_splitmix64, hp_xoshiro_t: the seeded PRNGs */

/* Exit codes of the CLI and the tests (README.md, "Exit codes"). */
enum {
	HP_EXIT_OK = 0,
	HP_EXIT_FAIL = 1,     /* a case or test failed */
	HP_EXIT_USAGE = 2,    /* bad usage or input */
	HP_EXIT_SKIP = 77,    /* test skipped: the machine cannot do this */
	HP_EXIT_INTERNAL = 99,
};

typedef enum { HP_KIND_IMPL, HP_KIND_BASELINE, HP_KIND_KERNEL } hp_kind_t;
const char *hp_kind_name(hp_kind_t k);

/* ------------------------------------------------------------------ */
/* Measuring state handed to a case's run function                    */
/* ------------------------------------------------------------------ */

typedef struct hp_state hp_state_t;

/* Backends: Google Benchmark (time), callgrind (instructions), perf
 * counters, and a no-op one used for warm-up and correctness checks. */
typedef struct hp_state_ops {
	void (*pause)(hp_state_t *st);
	void (*resume)(hp_state_t *st);
	void (*set_iteration_time)(hp_state_t *st, double seconds);
	void (*counter)(hp_state_t *st, const char *name, double value);
	void (*skip)(hp_state_t *st, const char *msg);
} hp_state_ops_t;

struct hp_state {
	const hp_state_ops_t *ops;
	void *backend;          /* the backend's own state */
	int thread_index;       /* 0 .. threads-1 */
	int threads;
	int skipped;            /* set by hp_skip() */
	uint64_t tsc_start;     /* TSC accounting, excluding paused spans */
	uint64_t tsc_total;
	double items;           /* items processed (e.g. pages), set by cases */
};

/* Pause/resume the clock around per-batch set-up the case must not count. */
static inline void hp_pause(hp_state_t *st) { st->ops->pause(st); }
static inline void hp_resume(hp_state_t *st) { st->ops->resume(st); }
/* Manual timing (cases with hp_case_t.manual_time): seconds for this batch. */
static inline void hp_set_iteration_time(hp_state_t *st, double s) { st->ops->set_iteration_time(st, s); }
/* A user counter, recorded per repetition as a CSV row (metric = name).
 * With several measured threads the row is the mean over the threads, so
 * every thread must report it (a value from thread 0 alone is divided by
 * the thread count). */
static inline void hp_counter(hp_state_t *st, const char *name, double v) { st->ops->counter(st, name, v); }
/* A case found the variant's work wrong (a lost event, bad data): prints
 * "hotpath <suite>: <case>/<variant>: <message>" to stderr and aborts, so
 * the runner records a crash naming the benchmark, never a number. */
struct hp_ctx;
void hp_fatal(const struct hp_ctx *ctx, const char *fmt, ...)
	__attribute__((noreturn, format(printf, 2, 3)));
/* Give up on this run with a reason; recorded as "skipped: <msg>". */
static inline void hp_skip(hp_state_t *st, const char *msg) { st->skipped = 1; st->ops->skip(st, msg); }
/* Items (pages, bytes, ...) processed in this batch, for per-item metrics. */
static inline void hp_add_items(hp_state_t *st, double n) { st->items += n; }

/* Keep the compiler from deleting or reordering the measured work
 * (Google Benchmark's DoNotOptimize / ClobberMemory, in C). */
#define hp_do_not_optimize(x) __asm__ volatile("" : : "r,m"(x) : "memory")
#define hp_do_not_optimize_ptr(p) __asm__ volatile("" : "+r"(p) : : "memory")
#define hp_clobber_memory() __asm__ volatile("" : : : "memory")

/* 1 when the run counts under valgrind's callgrind (--metric instructions
 * or cache), which serialises threads: cases whose work needs a second
 * running thread say they are unavailable then. */
static inline int hp_metric_is_callgrind(const char *metric)
{
	return metric && (!__builtin_strcmp(metric, "instructions") || !__builtin_strcmp(metric, "cache"));
}

/* ------------------------------------------------------------------ */
/* Registry: suite -> case -> variant                                  */
/* ------------------------------------------------------------------ */

struct hp_case;
struct hp_variant;
struct hp_suite;
struct hp_results;

/* One point of a case's parameter axis (an order, a size, a placement). */
typedef struct hp_param {
	const char *label;      /* CSV "param" column, e.g. "3" or "same_cpu" */
	int64_t value;
	double items;           /* items per iteration (e.g. 2^order pages), 0 = none */
	int min_cpus;           /* CPUs this point needs (0 or 1 = one) */
	int full_only;          /* a long sweep's extra point: run by --profile full, or
	                         * when a --filter is given (which then decides), else
	                         * left out, to keep the default run short */
} hp_param_t;

/* What a case's functions see for one (variant, param, threads) run. */
typedef struct hp_ctx {
	const struct hp_suite *s;
	const struct hp_case *c;
	const struct hp_variant *v;
	const hp_param_t *p;    /* never NULL: cases without params get one "-" */
	uint64_t seed;          /* workload seed: same seed, same operations */
	const char *metric;     /* the run's --metric: "time", "instructions", "perf" or "cache" */
	int threads;            /* measured threads of this run */
	const int *cpus;        /* measured thread i runs on cpus[i] */
	int ncpus;              /* CPUs selected for the whole run (>= threads) */
	const int *all_cpus;    /* all selected CPUs, in order */
	void *data;             /* what setup() returned */
	/* Binds the calling thread, or a process after fork(), to an OS CPU the
	 * way the runner binds measured threads (hwloc, strict where supported).
	 * Returns 0 or -1. Used by cases that start partner processes. */
	int (*bind_cpu)(int cpu);
} hp_ctx_t;

typedef struct hp_variant {
	const char *name;
	hp_kind_t kind;
	/* NULL when the variant can run here, else a reason ("liburcu not found
	 * at build time", "needs 2 CPUs, --cpus gave 1"). May be NULL itself. */
	const char *(*available)(const hp_ctx_t *ctx);
	const void *ops;        /* the subsystem's ops table for this variant */
	/* Non-NULL: run in a child process with this environment entry set
	 * (e.g. "LD_PRELOAD=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2"), or
	 * several entries separated by '\n' (at most 1023 bytes in all). */
	const char *child_env;
	/* The work one operation of this variant does, in one line, as `hotpath
	 * list` and summary.md print it ("out-of-line call, runtime size class,
	 * free finds the slab from the pointer"); NULL or "" = not stated. */
	const char *work;
	/* Variants of a case with equal work_class do the same work, so a ratio
	 * between them is a fair comparison; summary.md prints "vs impl" only
	 * between variants whose class equals the reference's (the first impl
	 * variant), and the reason otherwise. A short key naming the work, e.g.
	 * "inline-fixed-cache", "call+size-lookup+ptr-free" (HP_WORK_* in a
	 * suite's shared header). NULL or "": not classified, and the case's
	 * ratios are printed as before (every variant against the reference). */
	const char *work_class;
} hp_variant_t;

#define HP_THREADS_ALL 2   /* hp_case_t.thread_sweep: one thread per selected CPU */

typedef struct hp_case {
	const char *name;
	const char *desc;       /* one line, shown by `hotpath list` */
	const char *op_unit;    /* what one iteration is: "call", "fault", "switch" */
	const char *item_unit;  /* per-item unit when params set items ("page"), or NULL */
	const char *param_name; /* axis name ("order"), or NULL for a single point */
	const hp_param_t *params; /* NULL-label-terminated list, or NULL */
	int thread_sweep;       /* 1: run 1..ncpus threads (throughput plot);
	                         * HP_THREADS_ALL: ncpus threads only */
	int manual_time;        /* the case reports its own time per batch */
	/* Optional, outside timing, once per (variant, param, threads). */
	void *(*setup)(hp_ctx_t *ctx);
	void (*teardown)(hp_ctx_t *ctx, void *data);
	/* The measured work: n iterations. Called by every measured thread. */
	void (*run)(hp_state_t *st, uint64_t n, hp_ctx_t *ctx);
	const hp_variant_t *const *variants; /* NULL-terminated */
} hp_case_t;

/* A plot a suite draws itself from a results folder, after the standard
 * bar and thread plots (sched: time against nr_running, predicted against
 * measured shares). `s` holds each benchmark's values per metric (an
 * hp_bench_set_t of HP_BSET_ALL, record.h: entries in the run's order, one
 * per benchmark and metric). `plotdir` is DIR/plots, `templates` the folder
 * of the .gp files; draw with hp_plot_render (plot.h). Returns the number
 * of plots drawn (0 when the set holds nothing for it), or -1 with err. */
struct hp_bench_set;
typedef int (*hp_plot_fn)(const char *plotdir, const struct hp_bench_set *s,
			  const char *templates, char *err, size_t errlen);

/* A command a suite adds to the CLI, e.g. sched's `hotpath sim FILE`.
 * main() gets argv[0] = the verb name and returns an exit code (0, 1, 2). */
typedef struct hp_verb {
	const char *name;       /* "sim" */
	const char *usage;      /* one line for `hotpath --help`: "sim FILE  simulate ..." */
	int (*main)(int argc, char **argv);
} hp_verb_t;

/* Everything a suite is. Adding a suite is one descriptor in bench/<s>.c
 * and one line in hp_suites[] (harness/registry.c). */
typedef struct hp_suite {
	const char *name;
	const char *desc;       /* one line, shown by `hotpath list` */
	const char *doc;        /* its docs page, relative to the checkout: "docs/suites/buddy.md" */
	const hp_case_t *const *cases;  /* NULL-terminated */
	const hp_plot_fn *plots;        /* NULL-terminated extra plots, or NULL */
	const hp_verb_t *const *verbs;  /* NULL-terminated CLI commands, or NULL */
	/* Optional: text summary.md prints after the suite's tables (markdown,
	 * e.g. nvme's break-even); writes nothing when r holds nothing for it. */
	void (*summary)(FILE *f, const struct hp_results *r);
} hp_suite_t;

/* The suites compiled in (registry.c); NULL-terminated. */
extern const hp_suite_t *const hp_suites[];
/* A CLI command some suite adds, or NULL. */
const hp_verb_t *hp_verb_find(const char *name);
const hp_suite_t *hp_suite_find(const char *name);
const hp_case_t *hp_case_find(const hp_suite_t *s, const char *name);
const hp_variant_t *hp_variant_find(const hp_case_t *c, const char *name);

#endif
