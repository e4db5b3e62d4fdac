/* sched.c — suite "sched": CFS and EEVDF run-queue operations against nr_running, their baselines, and the simulator's fidelity to the running kernel.
 *
 * Cases pick_next, enqueue_dequeue and tick over hp_rq_ops_t (cfs, eevdf
 * and the baselines' run queues) against nr_running, and fidelity (rt-app,
 * or hotpath's own load generator for custom slices, under this kernel
 * against `hotpath sim`'s prediction).
 * Documented in docs/suites/sched.md.
 */
#include "hp.h"
#include "hp_config.h"
#include "hp_time.h"
#include "plot.h"
#include "probes.h"
#include "rq_baselines.h"
#include "fair.h"
#include "loadgen.h"
#include "sim.h"
#include "sim_closest.h"
#include "sim_dist.h"
#include "sim_hist.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <sched.h>
#include <sys/prctl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#if HP_HAVE_CALLGRIND
#include <valgrind/valgrind.h>
#else
#define RUNNING_ON_VALGRIND 0
#endif

/* ================================================================== */
/* Run-queue cases                                                     */
/* ================================================================== */

#define NR(n, s) { .label = s, .value = n }
/* Four points over five decades: each costs about a second per variant in
 * the quick profile, and the default run must stay near five minutes, so
 * the quick profile takes the ends (1 and 10000) and --profile full (or a
 * --filter) the middle and the top. */
static const hp_param_t nr_points[] = {
	NR(1, "1"), { .label = "100", .value = 100, .full_only = 1 }, NR(10000, "10000"),
	{ .label = "100000", .value = 100000, .full_only = 1 },   /* --profile full or --filter */
	{ .label = NULL },
};
#undef NR

#define SLIST_MAX 1000          /* the sorted list's O(n) insertion: measured up to here */
#define IDX_N 65536             /* seeded entity choices, cycled */
#define DELTA_N 4096            /* seeded run lengths, cycled */

typedef struct rqbench {
	const hp_rq_ops_t *ops;
	void *rq;
	char *mem;              /* n entities of ops->se_size (rounded up), contiguous */
	size_t stride, n;
	uint64_t clock;
	uint32_t idx[IDX_N];
	uint64_t delta[DELTA_N];
	size_t pos;
} rqbench_t;

static inline hp_sched_entity_t *ent(const rqbench_t *b, size_t i)
{
	return (hp_sched_entity_t *)(b->mem + i * b->stride);
}

static const char *rq_available(const hp_ctx_t *ctx)
{
	const hp_rq_ops_t *ops = ctx->v->ops;
	static char why[160];

	if (ops->available && ops->available())
		return ops->available();
	if (ops == &hp_sched_slist_ops && ctx->p->value > SLIST_MAX) {
		snprintf(why, sizeof why, "a sorted list inserts in O(n): measured up to %d tasks, not %" PRId64,
			 SLIST_MAX, ctx->p->value);
		return why;
	}
	return NULL;
}

/* The queue of nr_running tasks, the same for every variant, enqueued as
 * wake-ups at seeded positions (CFS: vruntimes over 6 ms; EEVDF: lags of up
 * to +-3 ms). `running` (pick_next, tick): CPU-bound tasks of nice 0 taking
 * turns, each running about a slice (0.75 ms plus up to 50 µs), so that
 * the task put back goes near the right end, as it does in the kernel; one
 * is picked to run. Otherwise (enqueue_dequeue): seeded nice values
 * -10..10 and no task running. */
static rqbench_t *rq_setup(hp_ctx_t *ctx, int running)
{
	const hp_rq_ops_t *ops = ctx->v->ops;
	size_t n = (size_t)ctx->p->value;
	uint64_t rng = ctx->seed * 1000003u + n;
	hp_sched_tunables_t tun;
	rqbench_t *b = calloc(1, sizeof(*b));

	if (!b)
		return NULL;
	b->ops = ops;
	b->n = n;
	b->stride = (ops->se_size + 7) & ~(size_t)7;
	b->mem = calloc(n, b->stride);
	hp_sched_tunables_init(&tun, 1, 250);
	b->rq = ops->create(&tun, n);
	if (!b->mem || !b->rq) {
		if (b->rq)
			ops->destroy(b->rq);
		free(b->mem);
		free(b);
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		hp_sched_entity_t *se = ent(b, i);
		int nice = (int)(hp_splitmix64(&rng) % 21) - 10;

		hp_se_init(se, running ? 0 : nice, (uint32_t)i);
		se->vruntime = (uint64_t)-(INT64_C(1) << 20) + hp_splitmix64(&rng) % 6000000;
		se->vlag = (int64_t)(hp_splitmix64(&rng) % 6000000) - 3000000;
		ops->enqueue(b->rq, se, HP_ENQUEUE_WAKEUP);
	}
	for (size_t i = 0; i < IDX_N; i++)
		b->idx[i] = (uint32_t)(hp_splitmix64(&rng) % n);
	for (size_t i = 0; i < DELTA_N; i++)
		b->delta[i] = 750000 + hp_splitmix64(&rng) % 50000;
	if (running)
		ops->pick_next(b->rq);
	return b;
}

static void *pick_setup(hp_ctx_t *ctx) { return rq_setup(ctx, 1); }
static void *enq_setup(hp_ctx_t *ctx) { return rq_setup(ctx, 0); }

static void rq_teardown(hp_ctx_t *ctx, void *data)
{
	rqbench_t *b = data;

	(void)ctx;
	if (!b)
		return;
	b->ops->destroy(b->rq);
	free(b->mem);
	free(b);
}

static void pick_run(hp_state_t *st, uint64_t n, hp_ctx_t *ctx)
{
	rqbench_t *b = ctx->data;
	const hp_rq_ops_t *ops = b->ops;

	for (uint64_t i = 0; i < n; i++) {
		b->clock += b->delta[b->pos++ & (DELTA_N - 1)];
		ops->set_clock(b->rq, b->clock);
		hp_sched_entity_t *se = ops->pick_next(b->rq);
		hp_do_not_optimize_ptr(se);
	}
	hp_add_items(st, (double)n);
}

static void enq_run(hp_state_t *st, uint64_t n, hp_ctx_t *ctx)
{
	rqbench_t *b = ctx->data;
	const hp_rq_ops_t *ops = b->ops;

	for (uint64_t i = 0; i < n; i++) {
		hp_sched_entity_t *se = ent(b, b->idx[b->pos++ & (IDX_N - 1)]);

		ops->dequeue(b->rq, se, HP_DEQUEUE_SLEEP);
		ops->enqueue(b->rq, se, HP_ENQUEUE_WAKEUP);
	}
	(void)st;
}

static void tick_run(hp_state_t *st, uint64_t n, hp_ctx_t *ctx)
{
	rqbench_t *b = ctx->data;
	const hp_rq_ops_t *ops = b->ops;
	int r = 0;

	/* one tick of HZ=250 each time */
	for (uint64_t i = 0; i < n; i++) {
		b->clock += 4000000;
		ops->set_clock(b->rq, b->clock);
		r += ops->tick(b->rq);
	}
	hp_do_not_optimize(r);
	(void)st;
}

#define RQ_VARIANT(id, nm, kind_, ops_) \
	static const hp_variant_t id = { .name = nm, .kind = kind_, .available = rq_available, .ops = &ops_ }
RQ_VARIANT(v_cfs, "cfs", HP_KIND_IMPL, hp_sched_cfs_ops);
RQ_VARIANT(v_eevdf, "eevdf", HP_KIND_IMPL, hp_sched_eevdf_ops);
RQ_VARIANT(v_heap, "heap", HP_KIND_BASELINE, hp_sched_heap_ops);
RQ_VARIANT(v_slist, "sorted_list", HP_KIND_BASELINE, hp_sched_slist_ops);
RQ_VARIANT(v_bsd, "bsd_rbtree", HP_KIND_BASELINE, hp_sched_bsd_ops);
#undef RQ_VARIANT

/* ------------------------------------------------------------------ */
/* The real kernel's switch, beside pick_next                          */
/* ------------------------------------------------------------------ */

typedef struct kswitch {
	hp_kp_pingpong_t pp;
	int started;
	char err[160];
} kswitch_t;

static const char *kswitch_available(const hp_ctx_t *ctx)
{
	if (ctx->p->value != nr_points[0].value)
		return "the real kernel's switch (a pipe ping-pong of two tasks on one CPU) is measured at the first point only";
	return hp_kp_kernel_ops.available();
}

static void *kswitch_setup(hp_ctx_t *ctx)
{
	kswitch_t *k = calloc(1, sizeof(*k));
	int err;

	if (!k)
		return NULL;
	err = hp_kp_kernel_ops.pingpong_start(&k->pp, ctx->cpus[0], ctx->bind_cpu);
	if (err)
		snprintf(k->err, sizeof k->err, "pipe partner on CPU %d: %s", ctx->cpus[0], strerror(-err));
	else
		k->started = 1;
	return k;
}

static void kswitch_teardown(hp_ctx_t *ctx, void *data)
{
	kswitch_t *k = data;

	(void)ctx;
	if (k && k->started)
		hp_kp_kernel_ops.pingpong_stop(&k->pp);
	free(k);
}

/* A round trip is two switches; one iteration is one switch. */
static void kswitch_run(hp_state_t *st, uint64_t n, hp_ctx_t *ctx)
{
	kswitch_t *k = ctx->data;
	int err;

	if (!k->started) {
		hp_skip(st, k->err);
		return;
	}
	err = hp_kp_kernel_ops.pingpong(&k->pp, (n + 1) / 2);
	if (err) {
		snprintf(k->err, sizeof k->err, "pipe ping-pong: %s", strerror(-err));
		hp_skip(st, k->err);
		return;
	}
	hp_add_items(st, (double)n);
}

static const hp_variant_t v_kswitch = {
	.name = "kernel_ctx_switch", .kind = HP_KIND_KERNEL, .available = kswitch_available,
	.ops = &hp_kp_kernel_ops,
};

static void *pick_or_kswitch_setup(hp_ctx_t *ctx)
{
	return ctx->v == &v_kswitch ? kswitch_setup(ctx) : pick_setup(ctx);
}

static void pick_or_kswitch_teardown(hp_ctx_t *ctx, void *data)
{
	if (ctx->v == &v_kswitch)
		kswitch_teardown(ctx, data);
	else
		rq_teardown(ctx, data);
}

static void pick_or_kswitch_run(hp_state_t *st, uint64_t n, hp_ctx_t *ctx)
{
	if (ctx->v == &v_kswitch)
		kswitch_run(st, n, ctx);
	else
		pick_run(st, n, ctx);
}

static const hp_case_t case_pick = {
	.name = "pick_next",
	.desc = "put_prev + pick_next + set_next on a busy queue, against nr_running",
	.op_unit = "switch",
	.param_name = "nr_running",
	.params = nr_points,
	.setup = pick_or_kswitch_setup,
	.teardown = pick_or_kswitch_teardown,
	.run = pick_or_kswitch_run,
	.variants = (const hp_variant_t *const[]){ &v_cfs, &v_eevdf, &v_heap, &v_slist, &v_bsd,
						   &v_kswitch, NULL },
};

static const hp_case_t case_enq = {
	.name = "enqueue_dequeue",
	.desc = "a queued task sleeps and wakes (dequeue + enqueue with placement), against nr_running",
	.op_unit = "pair",
	.param_name = "nr_running",
	.params = nr_points,
	.setup = enq_setup,
	.teardown = rq_teardown,
	.run = enq_run,
	.variants = (const hp_variant_t *const[]){ &v_cfs, &v_eevdf, &v_heap, &v_slist, &v_bsd, NULL },
};

static const hp_case_t case_tick = {
	.name = "tick",
	.desc = "scheduler tick of the running task (update_curr + preemption check), against nr_running",
	.op_unit = "tick",
	.param_name = "nr_running",
	.params = nr_points,
	.setup = pick_setup,
	.teardown = rq_teardown,
	.run = tick_run,
	.variants = (const hp_variant_t *const[]){ &v_cfs, &v_eevdf, NULL },
};

/* ================================================================== */
/* Fidelity: the simulator against the running kernel, with rt-app     */
/* ================================================================== */

/* Each shipped scenario is one param; its focus is the task whose
 * latencies and share the table and plot compare (a periodic task where
 * there is one). */
typedef struct fid_point {
	const char *scenario;   /* scripts/scenarios/<scenario>.json */
	const char *focus;      /* a thread name as `hotpath sim` prints it */
	int ncpus;              /* CPUs the scenario runs on (simulated and under rt-app) */
	int loadgen;            /* measured with impl/sched/loadgen.c instead of rt-app (custom slices) */
} fid_point_t;

static const fid_point_t fid_points[] = {
	{ "nice_mix", "nice7", 1, 0 }, { "interactive", "ui", 1, 0 },
	{ "periodic_nice", "periodic", 1, 0 }, { "lag_burst", "burst", 1, 0 },
	/* two CPUs: every thread's share and migrations (load balancing) */
	{ "hog3_2cpu", "hog-0", 2, 0 }, { "nice_mix_2cpu", "nm3", 2, 0 },
	/* a custom slice (sched_attr.sched_runtime), which rt-app cannot set */
	{ "custom_slice", "short", 1, 1 },
};

#define FP(i, s) { .label = s, .value = i }
static const hp_param_t fid_params[] = {
	/* the two scenarios that separate the models run in every profile;
	 * nice_mix and interactive in --profile full or with a --filter */
	{ .label = "nice_mix", .value = 0, .full_only = 1 },
	{ .label = "interactive", .value = 1, .full_only = 1 },
	FP(2, "periodic_nice"), FP(3, "lag_burst"),
	/* 2 CPUs, 20 s scenarios run 3 times: --profile full or a --filter */
	{ .label = "hog3_2cpu", .value = 4, .min_cpus = 2, .full_only = 1 },
	{ .label = "nice_mix_2cpu", .value = 5, .min_cpus = 2, .full_only = 1 },
	/* hotpath's load generator: --profile full or a --filter */
	{ .label = "custom_slice", .value = 6, .full_only = 1 },
	{ .label = NULL },
};
#undef FP

#define FID_SKIP_HEAD_NS 300000000ull   /* start-up left out of the window */
#define FID_SKIP_TAIL_NS 200000000ull   /* and the end, before rt-app stops its threads */
#define FID_MAX_THREADS 32
#define FID_MAX_OTHER 0.10              /* CPU share other work may take before the run is void */
#define FID_CLOCK_POLL_NS 10000ull      /* the load generator's clock reads, as simulated */
#define FID_RUNS 3                      /* rt-app runs per scenario */
#define FID_SEEDS 20                    /* simulator seeds per model */

/* The models compared, oldest first. */
static const hp_sched_policy_t fid_models[] = {
	HP_SCHED_CFS_6_1, HP_SCHED_EEVDF_6_6, HP_SCHED_EEVDF_6_12, HP_SCHED_EEVDF_6_17,
};
#define FID_NMODELS ((int)(sizeof fid_models / sizeof fid_models[0]))

/* The latency quantiles compared: the metrics of sim_dist.h. */
static const int fid_q[] = { HP_SIM_M_P10, HP_SIM_M_P25, HP_SIM_M_P50, HP_SIM_M_P75, HP_SIM_M_P90, HP_SIM_M_P99 };
#define FID_NQ ((int)(sizeof fid_q / sizeof fid_q[0]))

/* One thread of one rt-app run. */
typedef struct fid_thread {
	char name[80];
	double share_meas;
	double q_meas[FID_NQ];  /* wake-up latency quantiles, ns; NAN: no samples */
	size_t nlat_meas;
	double migr_meas;       /* se.nr_migrations in the window, per second */
} fid_thread_t;

/* One rt-app run of a scenario. */
typedef struct fid_run {
	char err[512];          /* non-empty: the measurement failed, why */
	int nthr;
	fid_thread_t thr[FID_MAX_THREADS];
	double tasks_share;     /* sum of the measured shares: the CPU the scenario got */
	double pred_total;      /* the same, predicted (the newest model's median) */
	double window_s;
} fid_run_t;

/* What the case reports for one scenario's focus task. */
typedef struct fid_scn {
	char scenario[32];
	int cpu, done, focus, nruns;
	char err[512];
	hp_sched_policy_t auto_model;
	int auto_known;
	double window_s;
	/* measured: median, min and max over the runs */
	double share[3], q[FID_NQ][3], nlat;
	/* predicted, per model: median and 95% interval over the seeds */
	hp_dist_t pshare[FID_NMODELS], pq[FID_NMODELS][FID_NQ];
	double dist_us[FID_NMODELS];    /* mean |predicted median - measured| over the quantiles */
	double run_dist_us[FID_NMODELS][FID_RUNS]; /* the same against each run alone */
	int closest_runs[FID_NMODELS];  /* runs in which the model is (tied) closest */
	int closest;                    /* index into fid_models, -1 without latencies */
	int in_closest_set[FID_NMODELS]; /* beaten by no model in every run (sim_closest.h) */
	int closest_set_size;
	/* every thread (2-CPU points): measured share (raw, and scaled so
	 * that the threads' sum is the predicted sum: other work on a shared
	 * machine takes from all alike) and migrations per second, medians
	 * over the runs; predicted medians per model */
	int ncpus, nthr;
	double thr_share[FID_MAX_THREADS], thr_share_norm[FID_MAX_THREADS], thr_migr[FID_MAX_THREADS];
	double pthr_share[FID_NMODELS][FID_MAX_THREADS], pthr_migr[FID_NMODELS][FID_MAX_THREADS];
} fid_scn_t;

static fid_scn_t fid_cache[8];

typedef struct fid_data {
	fid_scn_t *scn;
	char err[512];
} fid_data_t;

/* Searches PATH like execvp; fills path. 0 or -1. */
static int find_in_path(const char *prog, char *path, size_t len)
{
	const char *p = getenv("PATH");

	if (!p || !*p)
		p = "/usr/local/bin:/usr/bin:/bin";
	while (*p) {
		const char *e = strchr(p, ':');
		size_t l = e ? (size_t)(e - p) : strlen(p);

		snprintf(path, len, "%.*s/%s", (int)l, l ? p : ".", prog);
		if (access(path, X_OK) == 0)
			return 0;
		p += l + (e ? 1 : 0);
	}
	return -1;
}

static const char *fid_available(const hp_ctx_t *ctx)
{
	static char why[400];
	char path[4096], w[300];

	if (ctx->metric && strcmp(ctx->metric, "time") != 0)
		return "the fidelity check measures CPU shares and latencies, not instructions or"
		       " hardware counters (run it with --metric time)";
	if (fid_points[ctx->p->value].loadgen) {
		/* the shortest slice the kernel takes: any would tell */
		if (hp_lg_slice_probe((uint64_t)HP_SCN_SLICE_MIN_US * 1000, w, sizeof w) != 0) {
			snprintf(why, sizeof why, "custom slices: %s", w);
			return why;
		}
		return NULL;
	}
	if (find_in_path("rt-app", path, sizeof path) != 0)
		return "rt-app not found in PATH (Debian: apt-get install rt-app)";
	if (access("/proc/self/task", R_OK) != 0)
		return "no /proc/<pid>/task (procfs) to read the threads' CPU time from";
	return NULL;
}

/* CONFIG_HZ of the running kernel (/boot/config-*, else /proc/config.gz
 * through gzip), or 250 (the Debian default) when neither says. */
static int kernel_hz(void)
{
	struct utsname u;
	char path[512], line[256];
	FILE *f = NULL;
	int hz = 0, piped = 0;

	if (uname(&u) == 0) {
		snprintf(path, sizeof path, "/boot/config-%s", u.release);
		f = fopen(path, "r");
	}
	if (!f && access("/proc/config.gz", R_OK) == 0) {
		f = popen("gzip -dc /proc/config.gz 2>/dev/null", "r");
		piped = f != NULL;
	}
	if (!f)
		return 250;
	while (fgets(line, sizeof line, f))
		if (sscanf(line, "CONFIG_HZ=%d", &hz) == 1)
			break;
	if (piped)
		pclose(f);
	else
		fclose(f);
	return hz >= 10 && hz <= 10000 ? hz : 250;
}

static void sleep_until(double t)
{
	for (;;) {
		double d = t - hp_mono_s();
		struct timespec ts;

		if (d <= 0)
			return;
		ts.tv_sec = (time_t)d;
		ts.tv_nsec = (long)((d - (double)ts.tv_sec) * 1e9);
		nanosleep(&ts, NULL);
	}
}

typedef struct tsample {
	pid_t tid;
	uint64_t cpu_ns;
	uint64_t migrations;    /* se.nr_migrations, 0 when /proc does not show it */
	char comm[32];
} tsample_t;

static int cmp_tid(const void *a, const void *b)
{
	const tsample_t *x = a, *y = b;

	return (x->tid > y->tid) - (x->tid < y->tid);
}

/* Each thread of pid but the main one, by tid (creation order): its name
 * and CPU time so far (/proc/<pid>/task/<tid>/schedstat, first field). */
static int sample_threads(pid_t pid, tsample_t *out, int max)
{
	char path[128];
	DIR *d;
	struct dirent *e;
	int n = 0;

	snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
	d = opendir(path);
	if (!d)
		return -1;
	while ((e = readdir(d)) != NULL && n < max) {
		pid_t tid = (pid_t)atoi(e->d_name);
		FILE *f;
		unsigned long long ns;

		if (tid <= 0 || tid == pid)
			continue;
		snprintf(path, sizeof path, "/proc/%d/task/%d/schedstat", (int)pid, (int)tid);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fscanf(f, "%llu", &ns) != 1) {
			fclose(f);
			continue;
		}
		fclose(f);
		out[n].tid = tid;
		out[n].cpu_ns = ns;
		out[n].migrations = 0;
		out[n].comm[0] = 0;
		snprintf(path, sizeof path, "/proc/%d/task/%d/sched", (int)pid, (int)tid);
		f = fopen(path, "r");
		if (f) {
			char line[256];
			unsigned long long m;

			while (fgets(line, sizeof line, f))
				if (sscanf(line, " se.nr_migrations : %llu", &m) == 1)
					out[n].migrations = m;
			fclose(f);
		}
		snprintf(path, sizeof path, "/proc/%d/task/%d/comm", (int)pid, (int)tid);
		f = fopen(path, "r");
		if (f) {
			if (fgets(out[n].comm, sizeof out[n].comm, f))
				out[n].comm[strcspn(out[n].comm, "\n")] = 0;
			fclose(f);
		}
		n++;
	}
	closedir(d);
	qsort(out, (size_t)n, sizeof(*out), cmp_tid);
	return n;
}

/* Timer wake-up latencies of one thread from its rt-app log, in ns, for
 * loops that started inside the window and did sleep (a late loop has
 * negative slack and does not wait for its timer). */
static size_t read_latencies(const char *path, double w0_us, double w1_us, int64_t **out)
{
	FILE *f = fopen(path, "r");
	char line[512];
	int64_t *v = NULL;
	size_t n = 0, cap = 0;

	*out = NULL;
	if (!f)
		return 0;
	while (fgets(line, sizeof line, f)) {
		long long idx, perf, run, period, start, end, rel_st, slack, c_dur, c_per, wu;

		if (line[0] == '#')
			continue;
		if (sscanf(line, "%lld %lld %lld %lld %lld %lld %lld %lld %lld %lld %lld", &idx, &perf, &run,
			   &period, &start, &end, &rel_st, &slack, &c_dur, &c_per, &wu) != 11)
			continue;
		if (c_per <= 0 || slack < 0 || rel_st < w0_us || rel_st >= w1_us)
			continue;
		if (n == cap) {
			int64_t *p = realloc(v, (cap = cap ? cap * 2 : 256) * sizeof(*v));

			if (!p)
				break;
			v = p;
		}
		v[n++] = (int64_t)wu * 1000;
	}
	fclose(f);
	if (n)
		hp_sim_sort_ns(v, n);
	*out = v;
	return n;
}

/* The same from the load generator's log (hp_lg_write_log(): `due_ns
 * lat_ns` a line): activations due inside [w0, w1) ns from its start. */
static size_t read_lg_latencies(const char *path, uint64_t w0, uint64_t w1, int64_t **out)
{
	FILE *f = fopen(path, "r");
	int64_t *v = NULL;
	size_t n = 0, cap = 0;
	unsigned long long due;
	long long lat;

	*out = NULL;
	if (!f)
		return 0;
	while (fscanf(f, "%llu %lld", &due, &lat) == 2) {
		if (due < w0 || due >= w1)
			continue;
		if (n == cap) {
			int64_t *p = realloc(v, (cap = cap ? cap * 2 : 256) * sizeof(*v));

			if (!p)
				break;
			v = p;
		}
		v[n++] = lat;
	}
	fclose(f);
	if (n)
		hp_sim_sort_ns(v, n);
	*out = v;
	return n;
}

static void rm_tree(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[4096];

	if (d) {
		while ((e = readdir(d)) != NULL) {
			if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
				continue;
			snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
			unlink(path);
		}
		closedir(d);
	}
	rmdir(dir);
}

/* The scenario as rt-app gets it: the same tasks, each allowed on the ncpu CPUs `cpu`,
 * plus what rt-app needs to log (not part of the simulated subset). */
static int write_rtapp_json(const char *src, const char *dst, const char *logdir, const int *cpu,
			    int ncpu, char *err, size_t errlen)
{
	struct json_object *root = json_object_from_file(src), *global, *tasks;

	if (!root) {
		snprintf(err, errlen, "%s: %s", src, json_util_get_last_err());
		return -1;
	}
	if (!json_object_object_get_ex(root, "global", &global) ||
	    !json_object_object_get_ex(root, "tasks", &tasks)) {
		snprintf(err, errlen, "%s: no global or tasks", src);
		json_object_put(root);
		return -1;
	}
	/* a fixed ns-per-loop skips rt-app's calibration (seconds long); the
	 * shipped scenarios use run only for endless CPU hogs and runtime
	 * (wall-clock) for timed work, so the value does not matter */
	json_object_object_add(global, "calibration", json_object_new_int(20));
	json_object_object_add(global, "logdir", json_object_new_string(logdir));
	json_object_object_add(global, "log_basename", json_object_new_string("rt"));
	json_object_object_add(global, "log_size", json_object_new_int(16));
	json_object_object_foreach(tasks, k, t) {
		struct json_object *cpus = json_object_new_array();

		(void)k;
		for (int c = 0; c < ncpu; c++)
			json_object_array_add(cpus, json_object_new_int(cpu[c]));
		json_object_object_add(t, "cpus", cpus);
	}
	if (json_object_to_file_ext(dst, root, JSON_C_TO_STRING_PRETTY) != 0) {
		snprintf(err, errlen, "cannot write %s: %s", dst, json_util_get_last_err());
		json_object_put(root);
		return -1;
	}
	json_object_put(root);
	return 0;
}

static const char *scenario_dir(void)
{
	const char *e = getenv("HP_SCENARIOS");

	return e && *e ? e : HP_SOURCE_ROOT "/scripts/scenarios";
}

/* The simulator's prediction for the scenario over the measured window,
 * per model: the focus task's share and latency quantiles over FID_SEEDS
 * seeds, and every thread's predicted share (the newest model) for the
 * busy-CPU check. 0, or -1 with f->err. */
static int fid_predict(fid_scn_t *f, const hp_scn_t *scn, const char *src, const char *focus, int ncpus, int loadgen,
		       double *pred_total)
{
	char err[512] = "";
	hp_sim_opts_t o;

	f->focus = -1;
	for (int i = 0; i < hp_scn_nthreads(scn); i++)
		if (!strcmp(hp_scn_thread_name(scn, i), focus))
			f->focus = i;
	if (f->focus < 0) {
		snprintf(f->err, sizeof f->err, "%s has no thread '%s'", src, focus);
		return -1;
	}
	hp_sim_opts_default(&o);
	o.seed = 1;
	o.ncpus = ncpus;
	o.hz = kernel_hz();
	o.scale_cpus = (int)sysconf(_SC_NPROCESSORS_ONLN);
	o.ignore_affinity = 1;
	/* rt-app's timers and sleeps fire up to the timer slack late (50 µs
	 * for SCHED_OTHER, inherited by rt-app from here); the rest of the
	 * wake path (interrupt, try_to_wake_up(), about 30 µs here) is left out */
	{
		int slack = prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0);

		o.wake_delay_ns = slack > 0 ? (uint64_t)slack : 0;
	}
	/* the load generator's "run" reads CLOCK_THREAD_CPUTIME_ID in its loop
	 * (sub-µs apart), and each read runs update_curr() with its
	 * preemption checks; rt-app's calibrated loop makes no system call */
	if (loadgen)
		o.clock_poll_ns = FID_CLOCK_POLL_NS;
	o.window_start_ns = FID_SKIP_HEAD_NS;
	o.window_end_ns = hp_scn_duration_ns(scn) - FID_SKIP_TAIL_NS;
	for (int m = 0; m < FID_NMODELS; m++) {
		hp_sim_dist_t d;

		o.policy = fid_models[m];
		if (hp_sim_run_seeds(scn, &o, FID_SEEDS, &d, err, sizeof err) != 0) {
			snprintf(f->err, sizeof f->err, "simulating %s under %s: %s", src,
				 hp_sched_policy_name(o.policy), err);
			return -1;
		}
		f->pshare[m] = d.task[f->focus].m[HP_SIM_M_SHARE];
		/* migrations over the whole run, per second */
		for (int i = 0; i < d.ntasks && i < FID_MAX_THREADS; i++) {
			f->pthr_share[m][i] = d.task[i].m[HP_SIM_M_SHARE].median;
			f->pthr_migr[m][i] = d.task[i].m[HP_SIM_M_MIGRATIONS].median * 1e9 /
					     (double)hp_scn_duration_ns(scn);
		}
		for (int k = 0; k < FID_NQ; k++)
			f->pq[m][k] = d.task[f->focus].m[fid_q[k]];
		if (m == FID_NMODELS - 1) {
			*pred_total = 0;
			for (int i = 0; i < d.ntasks; i++)
				*pred_total += d.task[i].m[HP_SIM_M_SHARE].median;
		}
		hp_sim_dist_free(&d);
	}
	return 0;
}

/* What one rt-app run saw: its threads' CPU time at the start and the end
 * of the window, and how it ended. */
typedef struct fid_obs {
	tsample_t a[FID_MAX_THREADS + 4], b[FID_MAX_THREADS + 4];
	int na, nb;
	double ta, tb;
	int status;
} fid_obs_t;

/* Runs rt-app on json (output to out) for dur_s seconds, sampling its
 * threads at the window's ends. 0; -1 with r->err; -2 with r->err when
 * rt-app had to be killed (its folder is kept for the output). */
/* The load generator's part of a run (fid_point_t.loadgen): the scenario
 * on the CPUs, each thread's activations into logdir/lg-<i>.log. */
typedef struct fid_lg {
	const hp_scn_t *scn;
	const int *cpu;
	int ncpu;
	const char *logdir;
} fid_lg_t;

/* In the forked child: plays the scenario (loadgen.h) and writes the logs.
 * The exit status: 0, 3 when the kernel refused what the scenario asks,
 * 99 otherwise; the reason on stderr as "<error> ...", which
 * fid_rtapp_failed() reports. */
static int fid_lg_child(const fid_lg_t *lg)
{
	hp_lg_opts_t o = { .cpus = lg->cpu, .ncpus = lg->ncpu };
	hp_lg_res_t res;
	char err[512] = "", path[4400];
	int rc = hp_lg_run(lg->scn, &o, &res, err, sizeof err);

	if (rc) {
		fprintf(stderr, "<error> hotpath load generator: %s\n", err);
		return rc == -1 ? 3 : 99;
	}
	for (int i = 0; i < res.nthr; i++) {
		const hp_lg_thread_t *t = &res.thr[i];

		snprintf(path, sizeof path, "%s/lg-%d.log", lg->logdir, i);
		if (hp_lg_write_log(&res, i, path) != 0) {
			fprintf(stderr, "<error> cannot write %s: %s\n", path, strerror(errno));
			rc = 99;
		}
		printf("%s tid %d nice %d slice %" PRIu64 " se.slice %" PRIu64 " cpu_ns %" PRIu64
		       " activations %zu loops %" PRIu64 "\n", t->name, (int)t->tid, t->nice, t->slice_req_ns,
		       t->slice_seen_ns, t->cpu_ns, t->nact, t->loops);
	}
	hp_lg_res_free(&res);
	fflush(stdout);
	return rc;
}

/* lg non-NULL: the load generator instead of rt-app (rtapp and json unused). */
static int fid_rtapp(fid_run_t *r, const char *rtapp, const char *json, const char *out, double dur_s,
		     fid_obs_t *ob, const fid_lg_t *lg)
{
	double t0 = hp_mono_s();
	pid_t pid = fork();
	int exited = 0;

	if (pid < 0) {
		snprintf(r->err, sizeof r->err, "fork: %s", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		int ag;

		/* A session of its own is an autogroup of its own; at nice -20
		 * (root only; otherwise it stays at 0 and the busy-CPU check
		 * below decides) other work on the CPU takes little from it.
		 * Within the group the tasks meet as on a flat queue, as modelled. */
		setsid();
		ag = open("/proc/self/autogroup", O_WRONLY | O_CLOEXEC);
		if (ag >= 0) {
			if (write(ag, "-20", 3) < 0) {
				/* not root: measured at nice 0 */
			}
			close(ag);
		}

		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		if (lg)
			_exit(fid_lg_child(lg));
		execl(rtapp, rtapp, json, (char *)NULL);
		_exit(127);
	}
	sleep_until(t0 + FID_SKIP_HEAD_NS * 1e-9);
	ob->ta = hp_mono_s();
	ob->na = sample_threads(pid, ob->a, FID_MAX_THREADS + 4);
	sleep_until(t0 + dur_s - FID_SKIP_TAIL_NS * 1e-9);
	ob->tb = hp_mono_s();
	ob->nb = sample_threads(pid, ob->b, FID_MAX_THREADS + 4);

	/* rt-app stops after its duration; give it a few seconds more */
	for (double until = hp_mono_s() + FID_SKIP_TAIL_NS * 1e-9 + 5.0; hp_mono_s() < until;) {
		pid_t w = waitpid(pid, &ob->status, WNOHANG);

		if (w == pid) {
			exited = 1;
			break;
		}
		usleep(20000);
	}
	if (!exited) {
		kill(pid, SIGKILL);
		waitpid(pid, &ob->status, 0);
		snprintf(r->err, sizeof r->err, "%s did not stop after its %.0f s (killed; output in %s)",
			 lg ? "the load generator" : "rt-app", dur_s, out);
		return -2;
	}
	return 0;
}

/* fid_rtapp() with this thread off the measured CPU meanwhile: rt-app's
 * autogroup at nice -20 would starve the sampler there and make it sample
 * late. Back on its CPUs afterwards. */
static int fid_rtapp_off_cpu(fid_run_t *r, const char *rtapp, const char *json, const char *out,
			     double dur_s, fid_obs_t *ob, const int *cpu, int ncpu, const fid_lg_t *lg)
{
	cpu_set_t saved, others;
	struct sched_param prio = { .sched_priority = 1 };
	int moved = 0, fifo = 0, rc;

	if (sched_getaffinity(0, sizeof saved, &saved) == 0) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);

		CPU_ZERO(&others);
		for (long c = 0; c < n && c < CPU_SETSIZE; c++)
			CPU_SET((int)c, &others);
		for (int k = 0; k < ncpu; k++)
			if (cpu[k] >= 0 && cpu[k] < CPU_SETSIZE)
				CPU_CLR(cpu[k], &others);
		moved = CPU_COUNT(&others) > 0 && sched_setaffinity(0, sizeof others, &others) == 0;
	}
	/* no other CPU (rt-app on every one, 2-CPU points on a 2-CPU
	 * machine): the sampler takes SCHED_FIFO for the few ms it samples,
	 * else the autogroup at nice -20 starves it past rt-app's end (root
	 * only; rt-app, forked meanwhile, starts as SCHED_OTHER again) */
	if (!moved)
		fifo = sched_setscheduler(0, SCHED_FIFO | SCHED_RESET_ON_FORK, &prio) == 0;
	rc = fid_rtapp(r, rtapp, json, out, dur_s, ob, lg);
	if (fifo) {
		prio.sched_priority = 0;
		sched_setscheduler(0, SCHED_OTHER, &prio);
	}
	if (moved)
		sched_setaffinity(0, sizeof saved, &saved);
	return rc;
}

/* rt-app failed or did not show all its threads: r->err says how, with
 * the first error line of its output. */
static void fid_rtapp_failed(fid_run_t *r, const char *out, const fid_obs_t *ob, int nthr, int lg)
{
	FILE *f = fopen(out, "r");
	char msg[200] = "";
	int st = ob->status;

	if (f) {
		char line[256];

		while (fgets(line, sizeof line, f))
			if (strstr(line, "<crit>") || strstr(line, "<error>")) {
				line[strcspn(line, "\n")] = 0;
				snprintf(msg, sizeof msg, ": %s", line);
				break;
			}
		fclose(f);
	}
	snprintf(r->err, sizeof r->err, "%s %s (status %d) with %d/%d of %d threads seen%s",
		 lg ? "the load generator" : "rt-app",
		 WIFEXITED(st) && WEXITSTATUS(st) == 127 ? "could not start" : "failed",
		 WIFEXITED(st) ? WEXITSTATUS(st) : -1, ob->na, ob->nb, nthr, msg);
}

/* Each thread's measured share and timer wake-up percentiles (its rt-app
 * log in logdir) into r. 0, or -1 with r->err. */
static int fid_compare(fid_run_t *r, const hp_scn_t *scn, const char *logdir, const fid_obs_t *ob,
		       double dur_s, int lg)
{
	r->window_s = ob->tb - ob->ta;
	r->tasks_share = 0;
	for (int i = 0; i < r->nthr; i++) {
		const char *key = hp_scn_thread_key(scn, i);
		char logp[4400];
		int64_t *lat;
		size_t nl;

		/* the kernel truncates thread names to 15 characters */
		if (ob->a[i].tid != ob->b[i].tid || strncmp(ob->a[i].comm, key, 15) != 0) {
			snprintf(r->err, sizeof r->err, "thread %d of rt-app is '%s', expected '%.15s'", i,
				 ob->a[i].comm, key);
			return -1;
		}
		r->thr[i].share_meas = (double)(ob->b[i].cpu_ns - ob->a[i].cpu_ns) * 1e-9 / r->window_s;
		r->thr[i].migr_meas = (double)(ob->b[i].migrations - ob->a[i].migrations) / r->window_s;
		r->tasks_share += r->thr[i].share_meas;
		if (lg) {
			snprintf(logp, sizeof logp, "%s/lg-%d.log", logdir, i);
			nl = read_lg_latencies(logp, FID_SKIP_HEAD_NS, (uint64_t)(dur_s * 1e9) - FID_SKIP_TAIL_NS, &lat);
		} else {
			snprintf(logp, sizeof logp, "%s/rt-%s-%d.log", logdir, key, i);
			nl = read_latencies(logp, FID_SKIP_HEAD_NS * 1e-3, (dur_s * 1e9 - FID_SKIP_TAIL_NS) * 1e-3,
					    &lat);
		}
		r->thr[i].nlat_meas = nl;
		for (int k = 0; k < FID_NQ; k++) {
			int64_t v = hp_sim_pct(lat, nl, (unsigned)hp_sim_metric_pct(fid_q[k]));

			r->thr[i].q_meas[k] = v < 0 ? NAN : (double)v;
		}
		free(lat);
	}
	return 0;
}

/* rt-app's part: the scenario pinned to the ncpu CPUs cpu in a temporary folder, run,
 * compared. 0, or -1 with r->err. */
static int fid_observe(fid_run_t *r, const hp_scn_t *scn, const char *src, const int *cpu, int ncpu,
		       double dur_s, int use_lg)
{
	char tmpl[] = "/tmp/hotpath-rtapp-XXXXXXXX", json[4200], out[4200], rtapp[4096], err[512] = "";
	fid_obs_t *ob;
	fid_lg_t lg = { .scn = scn, .cpu = cpu, .ncpu = ncpu, .logdir = tmpl };
	int rc = -1;

	if (!use_lg && find_in_path("rt-app", rtapp, sizeof rtapp) != 0) {
		snprintf(r->err, sizeof r->err, "rt-app not found in PATH");
		return -1;
	}
	if (!mkdtemp(tmpl)) {
		snprintf(r->err, sizeof r->err, "mkdtemp: %s", strerror(errno));
		return -1;
	}
	ob = calloc(1, sizeof(*ob));
	snprintf(json, sizeof json, "%s/scenario.json", tmpl);
	snprintf(out, sizeof out, "%s/rt-app.out", tmpl);
	if (!ob)
		snprintf(r->err, sizeof r->err, "out of memory");
	else if (!use_lg && write_rtapp_json(src, json, tmpl, cpu, ncpu, err, sizeof err) != 0)
		snprintf(r->err, sizeof r->err, "%s", err);
	else if ((rc = fid_rtapp_off_cpu(r, use_lg ? NULL : rtapp, json, out, dur_s, ob, cpu, ncpu,
					 use_lg ? &lg : NULL)) == -2) {
		free(ob);
		return -1;      /* keep the folder for its output */
	} else if (rc == 0 && (!WIFEXITED(ob->status) || WEXITSTATUS(ob->status) != 0 ||
			       ob->na != r->nthr || ob->nb != r->nthr)) {
		fid_rtapp_failed(r, out, ob, r->nthr, use_lg);
		rc = -1;
	} else if (rc == 0) {
		rc = fid_compare(r, scn, tmpl, ob, dur_s, use_lg);
	}
	free(ob);
	rm_tree(tmpl);
	return rc;
}

/* Median, min and max of n values (NANs left out) into out[3]. */
static void med_min_max(double *v, int n, double out[3])
{
	int k = 0;

	for (int i = 0; i < n; i++)
		if (!isnan(v[i]))
			v[k++] = v[i];
	if (!k) {
		out[0] = out[1] = out[2] = NAN;
		return;
	}
	out[0] = hp_median(v, (size_t)k);       /* sorts v */
	out[1] = v[0];
	out[2] = v[k - 1];
}

/* The scenario through the simulator (every model, FID_SEEDS seeds) and
 * FID_RUNS times under rt-app; fills f (or f->err). Takes FID_RUNS times
 * the scenario's duration. */
static void fid_measure(fid_scn_t *f, const fid_point_t *pt, const int *cpu)
{
	char src[4096], err[512] = "", rel[256];
	fid_run_t *runs = calloc(FID_RUNS, sizeof(*runs));
	hp_scn_t *scn;
	double dur_s, pred_total = 0, v[FID_RUNS];

	snprintf(src, sizeof src, "%s/%s.json", scenario_dir(), pt->scenario);
	scn = hp_scn_load(src, err, sizeof err);
	if (!scn || !runs) {
		snprintf(f->err, sizeof f->err, "%s", scn ? "out of memory" : err);
		goto out;
	}
	f->auto_known = hp_sched_policy_auto(&f->auto_model, rel, sizeof rel) == 0;
	dur_s = (double)hp_scn_duration_ns(scn) * 1e-9;
	if (hp_scn_nthreads(scn) > FID_MAX_THREADS || dur_s * 1e9 <= FID_SKIP_HEAD_NS + FID_SKIP_TAIL_NS + 5e8) {
		snprintf(f->err, sizeof f->err, "%s: needs 1..%d threads and a duration of at least 1 s",
			 src, FID_MAX_THREADS);
		goto out;
	}
	f->ncpus = pt->ncpus;
	f->nthr = hp_scn_nthreads(scn);
	if (fid_predict(f, scn, src, pt->focus, pt->ncpus, pt->loadgen, &pred_total) != 0)
		goto out;
	for (int k = 0; k < FID_RUNS; k++) {
		fid_run_t *r = &runs[k];

		r->nthr = hp_scn_nthreads(scn);
		for (int i = 0; i < r->nthr; i++)
			snprintf(r->thr[i].name, sizeof r->thr[i].name, "%s", hp_scn_thread_name(scn, i));
		if (fid_observe(r, scn, src, cpu, pt->ncpus, dur_s, pt->loadgen) != 0) {
			snprintf(f->err, sizeof f->err, "run %d: %s", k + 1, r->err);
			goto out;
		}
		/* Other work on the CPU (other processes, a hypervisor's steal)
		 * takes its time from the scenario, which the model does not see:
		 * it is a measurement of something else then, and says so. */
		if (r->tasks_share < pred_total - FID_MAX_OTHER * pt->ncpus) {
			snprintf(f->err, sizeof f->err, "run %d: CPU %d%s was busy with other work: the scenario's"
				 " tasks got %.0f%% of a CPU, the model expects %.0f%%; measure on idle CPUs (--cpus)",
				 k + 1, cpu[0], pt->ncpus > 1 ? " and others" : "", 100 * r->tasks_share,
				 100 * pred_total);
			goto out;
		}
		f->window_s = r->window_s;
	}
	f->nruns = FID_RUNS;
	for (int k = 0; k < FID_RUNS; k++)
		v[k] = runs[k].thr[f->focus].share_meas;
	med_min_max(v, FID_RUNS, f->share);
	for (int q = 0; q < FID_NQ; q++) {
		for (int k = 0; k < FID_RUNS; k++)
			v[k] = runs[k].thr[f->focus].q_meas[q];
		med_min_max(v, FID_RUNS, f->q[q]);
	}
	for (int k = 0; k < FID_RUNS; k++)
		v[k] = (double)runs[k].thr[f->focus].nlat_meas;
	f->nlat = hp_median(v, FID_RUNS);
	for (int i = 0; i < f->nthr && i < FID_MAX_THREADS; i++) {
		double tmp[3];

		for (int k = 0; k < FID_RUNS; k++)
			v[k] = runs[k].thr[i].share_meas;
		med_min_max(v, FID_RUNS, tmp);
		f->thr_share[i] = tmp[0];
		for (int k = 0; k < FID_RUNS; k++)
			v[k] = runs[k].tasks_share > 0 ? runs[k].thr[i].share_meas * pred_total / runs[k].tasks_share
						       : NAN;
		med_min_max(v, FID_RUNS, tmp);
		f->thr_share_norm[i] = tmp[0];
		for (int k = 0; k < FID_RUNS; k++)
			v[k] = runs[k].thr[i].migr_meas;
		med_min_max(v, FID_RUNS, tmp);
		f->thr_migr[i] = tmp[0];
	}
	/* the distance of each model's latency quantiles from the measured ones */
	f->closest = -1;
	for (int m = 0; m < FID_NMODELS; m++) {
		double sum = 0;
		int n = 0;

		for (int q = 0; q < FID_NQ; q++)
			if (!isnan(f->q[q][0]) && f->pq[m][q].n) {
				sum += fabs(f->pq[m][q].median - f->q[q][0]);
				n++;
			}
		f->dist_us[m] = n ? sum / n * 1e-3 : NAN;
		if (n && (f->closest < 0 || f->dist_us[m] < f->dist_us[f->closest]))
			f->closest = m;
		/* per run: how much the ranking owes to one run's draw */
		for (int k = 0; k < FID_RUNS; k++) {
			sum = 0;
			n = 0;
			for (int q = 0; q < FID_NQ; q++)
				if (!isnan(runs[k].thr[f->focus].q_meas[q]) && f->pq[m][q].n) {
					sum += fabs(f->pq[m][q].median - runs[k].thr[f->focus].q_meas[q]);
					n++;
				}
			f->run_dist_us[m][k] = n ? sum / n * 1e-3 : NAN;
		}
	}
	for (int k = 0; k < FID_RUNS; k++) {
		double best = NAN;

		for (int m = 0; m < FID_NMODELS; m++)
			if (!isnan(f->run_dist_us[m][k]) && (isnan(best) || f->run_dist_us[m][k] < best))
				best = f->run_dist_us[m][k];
		for (int m = 0; m < FID_NMODELS; m++)
			if (!isnan(best) && f->run_dist_us[m][k] <= best)
				f->closest_runs[m]++;
	}
	/* the models the runs cannot tell apart: paired over the same runs */
	f->closest_set_size = hp_closest_set(&f->run_dist_us[0][0], FID_NMODELS, FID_RUNS, f->in_closest_set);
	f->done = 1;
out:
	hp_scn_free(scn);
	free(runs);
}

static void *fid_setup(hp_ctx_t *ctx)
{
	fid_data_t *d = calloc(1, sizeof(*d));
	const fid_point_t *pt = &fid_points[ctx->p->value];
	fid_scn_t *f = NULL;

	if (!d)
		return NULL;
	if (RUNNING_ON_VALGRIND) {
		snprintf(d->err, sizeof d->err, "the fidelity check measures CPU shares, not instructions"
			 " (run it with --metric time)");
		return d;
	}
	int cpus[2] = { ctx->cpus[0], -1 };

	if (pt->ncpus > 1) {
		if (ctx->ncpus < 2) {
			snprintf(d->err, sizeof d->err, "needs 2 CPUs, --cpus gave %d", ctx->ncpus);
			return d;
		}
		cpus[0] = ctx->all_cpus[0];     /* rt-app's tasks allowed on the first two */
		cpus[1] = ctx->all_cpus[1];
	}
	/* the repetitions of a scenario report its FID_RUNS runs again */
	for (size_t i = 0; i < sizeof fid_cache / sizeof fid_cache[0]; i++)
		if (!strcmp(fid_cache[i].scenario, pt->scenario) && fid_cache[i].cpu == ctx->cpus[0])
			f = &fid_cache[i];
	if (!f) {
		static unsigned next;

		f = &fid_cache[next++ % (sizeof fid_cache / sizeof fid_cache[0])];
		memset(f, 0, sizeof(*f));
		snprintf(f->scenario, sizeof f->scenario, "%s", pt->scenario);
		f->cpu = ctx->cpus[0];
		fid_measure(f, pt, cpus);
	}
	d->scn = f;
	if (!f->done)
		snprintf(d->err, sizeof d->err, "%s", f->err);
	return d;
}

static void fid_teardown(hp_ctx_t *ctx, void *data)
{
	(void)ctx;
	free(data);
}

/* Counter names of a model: "cfs_6_1_p50_ns" and so on. */
static void model_key(char *buf, size_t len, int m, const char *what)
{
	const char *n = hp_sched_policy_name(fid_models[m]);
	size_t k = 0;

	for (; *n && k + 1 < len; n++)
		buf[k++] = *n == '-' || *n == '.' ? '_' : *n;
	snprintf(buf + k, len - k, "_%s", what);
}

/* Is v inside the predicted interval? Latency quantiles come from the
 * simulator's histogram, within HP_HIST_REL_ERR of the exact value, so the
 * interval is widened by that much (rel_err 0 for shares). */
static int inside(const hp_dist_t *d, double v, double rel_err)
{
	return d->n && !isnan(v) && v >= d->lo * (1 - rel_err) && v <= d->hi * (1 + rel_err);
}

/* The 2-CPU points: every thread's measured share (thr<i>_share, raw;
 * thr<i>_share_norm, scaled so that the threads' sum is the predicted
 * sum) and migrations per second (thr<i>_migr_per_s, se.nr_migrations
 * over the window) beside --policy auto's model (the newest) per thread,
 * and per model the largest |measured share - predicted median| over the
 * threads (<model>_share_maxdiff_pp) and the threads' predicted migrations
 * per second in all (<model>_migr_per_s; the simulator counts the whole
 * run) against meas_migr_per_s. */
static void fid_run_threads(hp_state_t *st, const fid_scn_t *f)
{
	char name[96];
	double sum = 0;
	int n = f->nthr < FID_MAX_THREADS ? f->nthr : FID_MAX_THREADS;

	for (int i = 0; i < n; i++) {
		snprintf(name, sizeof name, "thr%d_share", i);
		hp_counter(st, name, f->thr_share[i]);
		snprintf(name, sizeof name, "thr%d_share_norm", i);
		hp_counter(st, name, f->thr_share_norm[i]);
		snprintf(name, sizeof name, "thr%d_share_pred", i);
		hp_counter(st, name, f->pthr_share[FID_NMODELS - 1][i]);
		snprintf(name, sizeof name, "thr%d_migr_per_s", i);
		hp_counter(st, name, f->thr_migr[i]);
		snprintf(name, sizeof name, "thr%d_migr_per_s_pred", i);
		hp_counter(st, name, f->pthr_migr[FID_NMODELS - 1][i]);
		sum += f->thr_migr[i];
	}
	hp_counter(st, "meas_migr_per_s", sum);
	for (int m = 0; m < FID_NMODELS; m++) {
		double worst = 0, msum = 0;

		for (int i = 0; i < n; i++) {
			double dpp = fabs(100 * (f->thr_share[i] - f->pthr_share[m][i]));

			if (dpp > worst)
				worst = dpp;
			msum += f->pthr_migr[m][i];
		}
		model_key(name, sizeof name, m, "share_maxdiff_pp");
		hp_counter(st, name, worst);
		model_key(name, sizeof name, m, "migr_per_s");
		hp_counter(st, name, msum);
	}
}

/* Reports the scenario: its focus task measured (median, min, max over the
 * runs) and predicted by each model (median and 95% interval over the
 * seeds), whether the measurement falls inside each interval, each
 * model's distance, the closest model and the one --policy auto picks.
 * Model indices: 0 cfs-6.1, 1 eevdf-6.6, 2 eevdf-6.12, 3 eevdf-6.17. */
static void fid_run(hp_state_t *st, uint64_t n, hp_ctx_t *ctx)
{
	fid_data_t *d = ctx->data;
	const fid_scn_t *f;
	char name[96], what[48];
	double v[FID_RUNS];

	if (d->err[0]) {
		hp_skip(st, d->err);
		return;
	}
	f = d->scn;
	hp_set_iteration_time(st, (double)n * f->window_s);
	hp_counter(st, "runs", f->nruns);
	hp_counter(st, "meas_share", f->share[0]);
	hp_counter(st, "meas_share_min", f->share[1]);
	hp_counter(st, "meas_share_max", f->share[2]);
	hp_counter(st, "meas_lat_samples", f->nlat);
	for (int q = 0; q < FID_NQ; q++) {
		if (isnan(f->q[q][0]))
			continue;
		snprintf(name, sizeof name, "meas_%s", hp_sim_metric_name(fid_q[q]));
		hp_counter(st, name, f->q[q][0]);
		snprintf(name, sizeof name, "meas_%s_min", hp_sim_metric_name(fid_q[q]));
		hp_counter(st, name, f->q[q][1]);
		snprintf(name, sizeof name, "meas_%s_max", hp_sim_metric_name(fid_q[q]));
		hp_counter(st, name, f->q[q][2]);
	}
	for (int m = 0; m < FID_NMODELS; m++) {
		model_key(name, sizeof name, m, "share");
		hp_counter(st, name, f->pshare[m].median);
		model_key(name, sizeof name, m, "share_lo");
		hp_counter(st, name, f->pshare[m].lo);
		model_key(name, sizeof name, m, "share_hi");
		hp_counter(st, name, f->pshare[m].hi);
		model_key(name, sizeof name, m, "share_inside");
		hp_counter(st, name, inside(&f->pshare[m], f->share[0], 0));
		model_key(name, sizeof name, m, "share_diff_pp");
		hp_counter(st, name, 100 * (f->share[0] - f->pshare[m].median));
		for (int q = 0; q < FID_NQ; q++) {
			const hp_dist_t *x = &f->pq[m][q];
			const char *qn = hp_sim_metric_name(fid_q[q]);

			if (!x->n)
				continue;
			snprintf(what, sizeof what, "%s", qn);
			model_key(name, sizeof name, m, what);
			hp_counter(st, name, x->median);
			snprintf(what, sizeof what, "%.3s_lo_ns", qn);
			model_key(name, sizeof name, m, what);
			hp_counter(st, name, x->lo);
			snprintf(what, sizeof what, "%.3s_hi_ns", qn);
			model_key(name, sizeof name, m, what);
			hp_counter(st, name, x->hi);
			if (fid_q[q] == HP_SIM_M_P50 || fid_q[q] == HP_SIM_M_P99) {
				snprintf(what, sizeof what, "%.3s_inside", qn);
				model_key(name, sizeof name, m, what);
				hp_counter(st, name, inside(x, f->q[q][0], HP_HIST_REL_ERR));
			}
		}
		if (!isnan(f->dist_us[m])) {
			double r[3];

			model_key(name, sizeof name, m, "dist_us");
			hp_counter(st, name, f->dist_us[m]);
			memcpy(v, f->run_dist_us[m], sizeof v);
			med_min_max(v, FID_RUNS, r);
			model_key(name, sizeof name, m, "dist_us_run_min");
			hp_counter(st, name, r[1]);
			model_key(name, sizeof name, m, "dist_us_run_max");
			hp_counter(st, name, r[2]);
			model_key(name, sizeof name, m, "closest_runs");
			hp_counter(st, name, f->closest_runs[m]);
			model_key(name, sizeof name, m, "in_closest_set");
			hp_counter(st, name, f->in_closest_set[m]);
		}
	}
	if (f->ncpus > 1)
		fid_run_threads(st, f);
	if (f->closest >= 0) {
		hp_counter(st, "closest_model", f->closest);
		hp_counter(st, "closest_set_size", f->closest_set_size);
	}
	if (f->auto_known) {
		int a = -1;

		for (int m = 0; m < FID_NMODELS; m++)
			if (fid_models[m] == f->auto_model)
				a = m;
		hp_counter(st, "auto_model", a);
		/* models that predict the same are equally close: a tie counts */
		if (f->closest >= 0 && a >= 0)
			hp_counter(st, "auto_is_closest", f->dist_us[a] <= f->dist_us[f->closest]);
		if (f->closest >= 0 && a >= 0)
			hp_counter(st, "auto_in_closest_set", f->in_closest_set[a]);
	}
}

static const hp_variant_t v_fid = {
	.name = "kernel", .kind = HP_KIND_KERNEL, .available = fid_available,
};

static const hp_case_t case_fid = {
	.name = "fidelity",
	.desc = "rt-app (custom_slice: hotpath's load generator) under this kernel (3 runs) vs hotpath sim"
		" under cfs-6.1, eevdf-6.6, eevdf-6.12 and eevdf-6.17 (20 seeds each): a scenario's focus task,"
		" latency quantiles and share",
	.op_unit = "window",
	.param_name = "scenario",
	.params = fid_params,
	.manual_time = 1,
	.setup = fid_setup,
	.teardown = fid_teardown,
	.run = fid_run,
	.variants = (const hp_variant_t *const[]){ &v_fid, NULL },
};

/* ================================================================== */
/* Simulator throughput: events per second and memory, by task count   */
/* ================================================================== */

/* N threads, each 200 µs of work then a sleep of N x 200 µs, on one CPU:
 * the CPU is about half busy whatever N, every thread wakes and sleeps,
 * and a simulated second is about 10,000 events. Each iteration simulates
 * TP_SECONDS (about a million events) in a child process, so that the
 * child's peak RSS is the run's own. */
#define TP(n, s) { .label = s, .value = n }
static const hp_param_t tp_params[] = {
	TP(10, "10"), TP(1000, "1000"),
	{ .label = "10000", .value = 10000, .full_only = 1 },   /* --profile full or --filter */
	{ .label = NULL },
};
#undef TP
#define TP_SECONDS 100

typedef struct tp_data {
	hp_scn_t *scn;
	char err[256];
} tp_data_t;

static void *tp_setup(hp_ctx_t *ctx)
{
	tp_data_t *d = calloc(1, sizeof(*d));
	int n = (int)ctx->p->value, per = n < 1000 ? n : 1000;
	size_t cap = 256 + (size_t)(n / per + 1) * 96, len;
	char *json;

	if (!d)
		return NULL;
	json = malloc(cap);
	if (!json) {
		snprintf(d->err, sizeof d->err, "out of memory");
		return d;
	}
	len = (size_t)snprintf(json, cap, "{\"global\": {\"duration\": %d}, \"tasks\": {", TP_SECONDS);
	for (int k = 0; k * per < n; k++)
		len += (size_t)snprintf(json + len, cap - len, "%s\"t%d\": {\"instance\": %d, \"run\": 200, \"sleep\": %d}",
					k ? ", " : "", k, per, 200 * n);
	snprintf(json + len, cap - len, "}}");
	d->scn = hp_scn_parse(json, "sim_throughput", d->err, sizeof d->err);
	free(json);
	return d;
}

static void tp_teardown(hp_ctx_t *ctx, void *data)
{
	tp_data_t *d = data;

	(void)ctx;
	if (d)
		hp_scn_free(d->scn);
	free(d);
}

static long rss_kib(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	long pages = 0, res = 0;

	if (f) {
		if (fscanf(f, "%ld %ld", &pages, &res) != 2)
			res = 0;
		fclose(f);
	}
	return res * (sysconf(_SC_PAGESIZE) / 1024);
}

/* What the child reports through its pipe. */
typedef struct tp_out {
	double seconds;
	uint64_t events;
	long rss_start_kib;
	int rc;
	char err[200];
} tp_out_t;

static void tp_run(hp_state_t *st, uint64_t n, hp_ctx_t *ctx)
{
	tp_data_t *d = ctx->data;
	double secs = 0, cpu = 0, events = 0, peak = 0, grow = 0;

	if (!d || !d->scn) {
		hp_skip(st, d ? d->err : "out of memory");
		return;
	}
	for (uint64_t i = 0; i < n; i++) {
		int fds[2], status = 0;
		struct rusage ru;
		tp_out_t out;
		pid_t pid;

		memset(&out, 0, sizeof out);
		if (pipe(fds) != 0 || (pid = fork()) < 0) {
			hp_skip(st, "pipe/fork failed");
			return;
		}
		if (pid == 0) {
			hp_sim_opts_t o;
			hp_sim_res_t r;
			double t0;

			close(fds[0]);
			hp_sim_opts_default(&o);
			o.seed = ctx->seed;
			out.rss_start_kib = rss_kib();
			t0 = hp_mono_s();
			out.rc = hp_sim_run(d->scn, &o, &r, out.err, sizeof out.err);
			out.seconds = hp_mono_s() - t0;
			if (!out.rc) {
				out.events = r.events;
				hp_sim_res_free(&r);
			}
			_exit(write(fds[1], &out, sizeof out) == (ssize_t)sizeof out ? 0 : 1);
		}
		close(fds[1]);
		if (read(fds[0], &out, sizeof out) != (ssize_t)sizeof out)
			snprintf(out.err, sizeof out.err, "the simulation's child died"), out.rc = -2;
		close(fds[0]);
		if (wait4(pid, &status, 0, &ru) < 0 || out.rc) {
			hp_skip(st, out.err[0] ? out.err : "the simulation's child failed");
			return;
		}
		secs += out.seconds;
		cpu += (double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec +
		       1e-6 * (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
		events += (double)out.events;
		if ((double)ru.ru_maxrss > peak)
			peak = (double)ru.ru_maxrss;
		if ((double)(ru.ru_maxrss - out.rss_start_kib) > grow)
			grow = (double)(ru.ru_maxrss - out.rss_start_kib);
	}
	hp_set_iteration_time(st, secs);
	hp_add_items(st, events);
	hp_counter(st, "events_per_s", secs > 0 ? events / secs : 0);
	/* per second of the child's CPU time (set-up included): what one core
	 * gives when the machine is shared */
	hp_counter(st, "events_per_cpu_s", cpu > 0 ? events / cpu : 0);
	hp_counter(st, "events_per_run", n ? events / (double)n : 0);
	hp_counter(st, "peak_rss_kib", peak);           /* the child's, inherited pages included */
	hp_counter(st, "sim_rss_kib", grow);            /* what the simulation added to it */
}

static const hp_variant_t v_tp = { .name = "sim", .kind = HP_KIND_IMPL };

static const hp_case_t case_tp = {
	.name = "sim_throughput",
	.desc = "hotpath sim's engine: simulated events per second and peak RSS, against the task count"
		" (100 simulated seconds of run/sleep threads on one CPU, one child process per run)",
	.op_unit = "run",
	.item_unit = "event",
	.param_name = "tasks",
	.params = tp_params,
	.manual_time = 1,
	.setup = tp_setup,
	.teardown = tp_teardown,
	.run = tp_run,
	.variants = (const hp_variant_t *const[]){ &v_tp, NULL },
};

/* ================================================================== */
/* Plots of our own (the suite's .plots)                               */
/* ================================================================== */

/* Collects the single-thread repetitions of one metric of one case, per
 * (variant, param), in the order the results hold them. 0, or -1 with err
 * when out of memory. */
static int collect(const hp_bench_set_t *r, const char *case_, const char *metric, hp_plot_pts_t *out,
		   char *err, size_t errlen)
{
	for (size_t i = 0; i < r->n; i++) {
		const hp_bench_vals_t *x = &r->b[i];

		if (strcmp(x->suite, "sched") || strcmp(x->case_, case_) || strcmp(x->metric, metric) ||
		    x->threads != 1)
			continue;
		for (size_t k = 0; k < x->n; k++)
			if (isfinite(x->v[k]) && hp_plot_pts_add(out, x->variant, x->param, x->v[k]) != 0) {
				snprintf(err, errlen, "sched plot %s: out of memory", case_);
				return -1;
			}
	}
	return 0;
}

/* Closes the memory stream f and writes what it holds to plotdir/name.dat. */
static int write_dat(FILE *f, char **buf, size_t *len, const char *plotdir, const char *name,
		     char *err, size_t errlen)
{
	char path[4096];

	if (fclose(f) != 0 || !*buf) {
		snprintf(err, errlen, "sched plot %s: out of memory", name);
		return -1;
	}
	snprintf(path, sizeof path, "%s/%s.dat", plotdir, name);
	if (hp_write_atomic(path, *buf, *len) != 0) {
		snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* Whether pts[k] is the first entry of its variant: variants come out in
 * the order the results first name them. */
static int first_of_variant(const hp_plot_pts_t *pts, size_t k)
{
	for (size_t j = 0; j < k; j++)
		if (!strcmp(pts->p[j].variant, pts->p[k].variant))
			return 0;
	return 1;
}

/* One block per variant of the nr_running plot: nr_running median min max,
 * along nr_points. Widens [*lo, *hi] to the medians. Returns the blocks. */
static int nr_blocks(FILE *f, hp_plot_pts_t *pts, double *lo, double *hi)
{
	int nvar = 0;

	for (size_t v = 0; v < pts->n; v++) {
		const char *var = pts->p[v].variant;

		if (!first_of_variant(pts, v))
			continue;
		fprintf(f, "%s\"%s\" \"median\" \"min\" \"max\"\n", nvar++ ? "\n\n" : "", var);
		for (size_t p = 0; nr_points[p].label; p++)
			for (size_t k = 0; k < pts->n; k++) {
				hp_plot_pt_t *pt = &pts->p[k];

				if (strcmp(pt->variant, var) || strcmp(pt->param, nr_points[p].label))
					continue;
				double med = hp_median(pt->v, pt->n);   /* sorts v */

				fprintf(f, "%s %.9g %.9g %.9g\n", nr_points[p].label, med, pt->v[0],
					pt->v[pt->n - 1]);
				if (med > 0 && med < *lo)
					*lo = med;
				if (med > *hi)
					*hi = med;
			}
	}
	return nvar;
}

/* Time (or instructions) per operation against nr_running, log x: one
 * line per variant. */
static int plot_nr(const char *plotdir, const hp_bench_set_t *r, const char *tdir, const char *case_,
		   char *err, size_t errlen)
{
	const char *metric = "real_time";
	hp_plot_pts_t pts = { 0 };
	char tmpl[4096], name[64], gv[512], *buf = NULL;
	size_t len = 0;
	double lo = INFINITY, hi = 0;
	int nvar, rc = -1;
	FILE *f;

	if (collect(r, case_, metric, &pts, err, errlen) != 0)
		goto out;
	if (!pts.n) {
		metric = "instructions";
		if (collect(r, case_, metric, &pts, err, errlen) != 0)
			goto out;
	}
	rc = 0;
	if (!pts.n)
		goto out;
	rc = -1;
	f = open_memstream(&buf, &len);
	if (!f) {
		snprintf(err, errlen, "sched plot %s: out of memory", case_);
		goto out;
	}
	fprintf(f, "# hotpath sched: %s, %s per operation (median over repetitions) against nr_running\n",
		case_, metric);
	fprintf(f, "# one block per variant: nr_running median min max\n");
	nvar = nr_blocks(f, &pts, &lo, &hi);
	snprintf(name, sizeof name, "sched-%s-nr", case_);
	if (write_dat(f, &buf, &len, plotdir, name, err, errlen) != 0)
		goto out;
	snprintf(tmpl, sizeof tmpl, "%s/sched_nr.gp", tdir);
	snprintf(gv, sizeof gv, "title='sched suite: %s'; ylabel='%s per operation%s'; nvar=%d; logy=%d",
		 case_, !strcmp(metric, "real_time") ? "time" : "instructions",
		 !strcmp(metric, "real_time") ? " (ns)" : "", nvar, lo > 0 && hi / lo > 30);
	rc = hp_plot_render(plotdir, name, tmpl, gv, err, errlen) < 0 ? -1 : 1;
out:
	free(buf);
	hp_plot_pts_free(&pts);
	return rc;
}

static int plot_nr_pick(const char *plotdir, const hp_bench_set_t *r, const char *tdir, char *err, size_t errlen)
{
	return plot_nr(plotdir, r, tdir, "pick_next", err, errlen);
}

static int plot_nr_enq(const char *plotdir, const hp_bench_set_t *r, const char *tdir, char *err, size_t errlen)
{
	return plot_nr(plotdir, r, tdir, "enqueue_dequeue", err, errlen);
}

static int plot_nr_tick(const char *plotdir, const hp_bench_set_t *r, const char *tdir, char *err, size_t errlen)
{
	return plot_nr(plotdir, r, tdir, "tick", err, errlen);
}

/* The median over repetitions of one fidelity counter of one scenario, or NAN. */
static double fid_value(const hp_bench_set_t *r, const char *param, const char *metric)
{
	double v[64];
	size_t n = 0;

	for (size_t i = 0; i < r->n && n < 64; i++) {
		const hp_bench_vals_t *x = &r->b[i];

		if (!strcmp(x->suite, "sched") && !strcmp(x->case_, "fidelity") && !strcmp(x->param, param) &&
		    !strcmp(x->metric, metric))
			for (size_t k = 0; k < x->n && n < 64; k++)
				if (isfinite(x->v[k]))
					v[n++] = x->v[k];
	}
	return n ? hp_median(v, n) : NAN;
}

static void cat(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void cat(char *buf, size_t len, const char *fmt, ...)
{
	size_t k = strlen(buf);
	va_list ap;

	if (k + 1 >= len)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + k, len - k, fmt, ap);
	va_end(ap);
}

/* The verdict of one scenario, as the plot title and summary.md print it:
 * "closest: eevdf-6.6 (pooled); indistinguishable over 3 runs: eevdf-6.12,
 * eevdf-6.17". Pooled: every model at the smallest pooled distance (models
 * that predict the same tie). The closest set (sim_closest.h) is named
 * when it holds a model the pooled verdict does not. "closest: -" without
 * distances. */
static void fid_verdict(const hp_bench_set_t *r, const char *param, char *buf, size_t len)
{
	char key[96];
	double best = INFINITY, dist[FID_NMODELS];
	int pooled[FID_NMODELS], set[FID_NMODELS], others = 0, pooled_in_set = 1;
	double runs = fid_value(r, param, "runs");

	snprintf(buf, len, "closest: ");
	for (int m = 0; m < FID_NMODELS; m++) {
		model_key(key, sizeof key, m, "dist_us");
		dist[m] = fid_value(r, param, key);
		if (dist[m] < best)
			best = dist[m];
		model_key(key, sizeof key, m, "in_closest_set");
		set[m] = fid_value(r, param, key) >= 0.5; /* NAN (older results): not known */
	}
	if (isinf(best)) {
		cat(buf, len, "-");
		return;
	}
	for (int m = 0; m < FID_NMODELS; m++) {
		pooled[m] = dist[m] <= best;
		if (pooled[m])
			cat(buf, len, "%s%s", buf[strlen("closest: ")] ? " = " : "",
			    hp_sched_policy_name(fid_models[m]));
		if (pooled[m] && !set[m])
			pooled_in_set = 0;
		others += set[m] && !pooled[m];
	}
	cat(buf, len, " (pooled)");
	if (!others)
		return;
	if (pooled_in_set)
		cat(buf, len, "; indistinguishable over %.0f runs: ", runs);
	else /* the pooled verdict beaten in every run: name the whole set */
		cat(buf, len, "; closest set over %.0f runs: ", runs);
	for (int m = 0, first = 1; m < FID_NMODELS; m++)
		if (set[m] && (!pooled[m] || !pooled_in_set)) {
			cat(buf, len, "%s%s", first ? "" : ", ", hp_sched_policy_name(fid_models[m]));
			first = 0;
		}
}

/* sched's part of summary.md: the fidelity verdict of each scenario. */
static void sched_summary(FILE *f, const hp_results_t *r)
{
	hp_bench_set_t set;
	char v[320];
	int head = 0;

	hp_bench_set_init(&set, HP_BSET_ALL);
	if (hp_bench_set_from_results(&set, r) < 0) {
		hp_bench_set_free(&set);
		fprintf(f, "### sched fidelity: the closest models\n\n- not computed: out of memory\n\n");
		return;
	}
	for (int p = 0; fid_params[p].label; p++) {
		const char *param = fid_params[p].label;
		double a, in;

		if (isnan(fid_value(&set, param, "runs")))
			continue;
		if (!head++)
			fprintf(f, "### sched fidelity: the closest models\n\n");
		fid_verdict(&set, param, v, sizeof v);
		a = fid_value(&set, param, "auto_model");
		fprintf(f, "- %s: %s", param, v);
		in = fid_value(&set, param, "auto_in_closest_set");
		if (a >= 0 && a < FID_NMODELS && !isnan(in))
			fprintf(f, "; --policy auto (%s) %s the closest set",
				hp_sched_policy_name(fid_models[(int)a]), in >= 0.5 ? "in" : "not in");
		fputc('\n', f);
	}
	hp_bench_set_free(&set);
	if (head)
		fputc('\n', f);
}

/* One plot per scenario: the focus task's wake-up latency quantiles
 * measured under this kernel (median over the rt-app runs, bars from the
 * fastest to the slowest run) beside each model's prediction (median over
 * seeds, bars the 95% interval), the closest model named in the title. */
static int plot_fidelity(const char *plotdir, const hp_bench_set_t *r, const char *tdir,
			 char *err, size_t errlen)
{
	char tmpl[4096], name[96], key[96], gv[1024];
	int made = 0;

	snprintf(tmpl, sizeof tmpl, "%s/sched_fidelity.gp", tdir);
	for (int p = 0; fid_params[p].label; p++) {
		const char *param = fid_params[p].label;
		char *buf = NULL;
		size_t len = 0;
		int rows = 0, automodel;
		FILE *f;

		if (isnan(fid_value(r, param, "runs")))
			continue;
		f = open_memstream(&buf, &len);
		if (!f) {
			snprintf(err, errlen, "sched plot fidelity: out of memory");
			return -1;
		}
		fprintf(f, "# hotpath sched fidelity, %s: the focus task's wake-up latency quantiles in ms;"
			" measured (rt-app, median min max over runs) and per model (median lo95 hi95 over seeds)\n",
			param);
		fprintf(f, "# x quantile meas meas_min meas_max");
		for (int m = 0; m < FID_NMODELS; m++)
			fprintf(f, " %s lo hi", hp_sched_policy_name(fid_models[m]));
		fputc('\n', f);
		for (int q = 0; q < FID_NQ; q++) {
			const char *qn = hp_sim_metric_name(fid_q[q]);
			double v;

			snprintf(key, sizeof key, "meas_%s", qn);
			v = fid_value(r, param, key);
			if (isnan(v))
				continue;
			fprintf(f, "%d %.3s %.4f", q, qn, v * 1e-6);
			snprintf(key, sizeof key, "meas_%s_min", qn);
			fprintf(f, " %.4f", fid_value(r, param, key) * 1e-6);
			snprintf(key, sizeof key, "meas_%s_max", qn);
			fprintf(f, " %.4f", fid_value(r, param, key) * 1e-6);
			for (int m = 0; m < FID_NMODELS; m++) {
				char what[48];

				model_key(key, sizeof key, m, qn);
				fprintf(f, " %.4f", fid_value(r, param, key) * 1e-6);
				snprintf(what, sizeof what, "%.3s_lo_ns", qn);
				model_key(key, sizeof key, m, what);
				fprintf(f, " %.4f", fid_value(r, param, key) * 1e-6);
				snprintf(what, sizeof what, "%.3s_hi_ns", qn);
				model_key(key, sizeof key, m, what);
				fprintf(f, " %.4f", fid_value(r, param, key) * 1e-6);
			}
			fputc('\n', f);
			rows++;
		}
		snprintf(name, sizeof name, "sched-fidelity-%s", param);
		if (write_dat(f, &buf, &len, plotdir, name, err, errlen) != 0) {
			free(buf);
			return -1;
		}
		free(buf);
		if (!rows)
			continue;
		char closest_s[320];

		fid_verdict(r, param, closest_s, sizeof closest_s);
		automodel = (int)fid_value(r, param, "auto_model");
		/* two lines (gnuplot's "\n" in double quotes): the verdict is long */
		snprintf(gv, sizeof gv, "title=\"sched fidelity, %s; --policy auto: %s\\n%s\";"
			 " models='%s %s %s %s'", param,
			 automodel >= 0 && automodel < FID_NMODELS ? hp_sched_policy_name(fid_models[automodel]) : "-",
			 closest_s,
			 hp_sched_policy_name(fid_models[0]), hp_sched_policy_name(fid_models[1]),
			 hp_sched_policy_name(fid_models[2]), hp_sched_policy_name(fid_models[3]));
		if (hp_plot_render(plotdir, name, tmpl, gv, err, errlen) < 0)
			return -1;
		made++;
	}
	return made;   /* one per scenario drawn (hp_plot_fn returns the count) */
}

static const hp_plot_fn sched_plots[] = { plot_nr_pick, plot_nr_enq, plot_nr_tick, plot_fidelity, NULL };

/* ================================================================== */
/* The `sim` verb: the simulator (impl/sched/sim.h) on the command line */
/* ================================================================== */

static int sim_verb_main(int argc, char **argv)
{
	return hp_sim_main(argc, argv);
}

static const hp_verb_t sim_verb = {
	.name = "sim",
	.usage = "sim FILE  simulate an rt-app scenario under CFS or EEVDF by kernel version, over seeds (hotpath sim --help)",
	.main = sim_verb_main,
};

/* ================================================================== */
/* Suite                                                               */
/* ================================================================== */

const hp_suite_t hp_suite_sched = {
	.name = "sched",
	.desc = "CFS and EEVDF run queues against nr_running, their baselines, and the simulator against the kernel",
	.doc = "docs/suites/sched.md",
	.cases = (const hp_case_t *const[]){ &case_pick, &case_enq, &case_tick, &case_fid, &case_tp, NULL },
	.plots = sched_plots,
	.verbs = (const hp_verb_t *const[]){ &sim_verb, NULL },
	.summary = sched_summary,
};
