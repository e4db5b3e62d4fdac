/* sched.c — suite "sched": CFS and EEVDF run-queue operations against nr_running, their baselines, and the simulator's fidelity to the running kernel.
 *
 * Cases pick_next, enqueue_dequeue and tick over hp_rq_ops_t (cfs, eevdf
 * and the baselines' run queues) against nr_running, and fidelity (rt-app
 * under this kernel against `hotpath sim`'s prediction).
 * Documented in docs/suites/sched.md.
 */
#include "hp.h"
#include "hp_config.h"
#include "hp_time.h"
#include "plot.h"
#include "probes.h"
#include "rq_baselines.h"
#include "fair.h"
#include "sim.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
 * the quick profile, and the suite must stay well under a minute. */
static const hp_param_t nr_points[] = {
	NR(1, "1"), NR(100, "100"), NR(10000, "10000"), NR(100000, "100000"), { .label = NULL },
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

/* Each task of each shipped scenario is one param: "scenario/thread". */
typedef struct fid_point {
	const char *scenario;   /* scripts/scenarios/<scenario>.json */
	const char *thread;     /* a thread name as `hotpath sim` prints it */
} fid_point_t;

static const fid_point_t fid_points[] = {
	{ "nice_pair", "nice0" }, { "nice_pair", "nice1" },
	{ "nice_mix", "nice0" }, { "nice_mix", "nice3" }, { "nice_mix", "nice7" },
	{ "interactive", "hog-0" }, { "interactive", "hog-1" }, { "interactive", "ui" },
};

#define FP(i, s) { .label = s, .value = i }
static const hp_param_t fid_params[] = {
	FP(0, "nice_pair/nice0"), FP(1, "nice_pair/nice1"),
	FP(2, "nice_mix/nice0"), FP(3, "nice_mix/nice3"), FP(4, "nice_mix/nice7"),
	FP(5, "interactive/hog-0"), FP(6, "interactive/hog-1"), FP(7, "interactive/ui"),
	{ .label = NULL },
};
#undef FP

#define FID_SKIP_HEAD_NS 300000000ull   /* start-up left out of the window */
#define FID_SKIP_TAIL_NS 200000000ull   /* and the end, before rt-app stops its threads */
#define FID_MAX_THREADS 32
#define FID_MAX_OTHER 0.10              /* CPU share other work may take before the run is void */

typedef struct fid_thread {
	char name[80];
	double share_meas, share_pred;
	int64_t p50_meas, p99_meas, p50_pred, p99_pred;   /* -1: no samples */
	size_t nlat_meas;
} fid_thread_t;

/* One rt-app run of a scenario, kept for the scenario's other params. */
typedef struct fid_run {
	char scenario[32];
	int cpu;
	uint64_t seed;
	int done;
	char err[512];          /* non-empty: the measurement failed, why */
	int nthr;
	fid_thread_t thr[FID_MAX_THREADS];
	double tasks_share;     /* sum of the measured shares: the CPU the scenario got */
	double pred_total;      /* the same, predicted */
	double window_s;
	char policy[8];
} fid_run_t;

static fid_run_t fid_cache[4];

typedef struct fid_data {
	fid_run_t *run;
	int thread;             /* index into run->thr, or -1 */
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
	char path[4096];

	if (ctx->metric && strcmp(ctx->metric, "time") != 0)
		return "the fidelity check measures CPU shares and latencies, not instructions or"
		       " hardware counters (run it with --metric time)";
	if (find_in_path("rt-app", path, sizeof path) != 0)
		return "rt-app not found in PATH (Debian: apt-get install rt-app)";
	if (access("/proc/self/task", R_OK) != 0)
		return "no /proc/<pid>/task (procfs) to read the threads' CPU time from";
	return NULL;
}

/* The running kernel's fair class: EEVDF from Linux 6.6 on. */
static hp_sched_policy_t kernel_policy(void)
{
	struct utsname u;
	int major = 0, minor = 0;

	if (uname(&u) == 0)
		sscanf(u.release, "%d.%d", &major, &minor);
	return major > 6 || (major == 6 && minor >= 6) ? HP_SCHED_EEVDF : HP_SCHED_CFS;
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
		out[n].comm[0] = 0;
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

/* The scenario as rt-app gets it: the same tasks, each pinned to `cpu`,
 * plus what rt-app needs to log (not part of the simulated subset). */
static int write_rtapp_json(const char *src, const char *dst, const char *logdir, int cpu,
			    char *err, size_t errlen)
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
		json_object_array_add(cpus, json_object_new_int(cpu));
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

/* The simulator's prediction for the scenario over the measured window:
 * each thread's name, share and wake-up percentiles into r. 0, or -1 with
 * r->err. */
static int fid_predict(fid_run_t *r, const hp_scn_t *scn, const char *src, uint64_t seed)
{
	char err[512] = "";
	hp_sim_opts_t o;
	hp_sim_res_t res;

	r->nthr = hp_scn_nthreads(scn);
	for (int i = 0; i < r->nthr; i++)
		snprintf(r->thr[i].name, sizeof r->thr[i].name, "%s", hp_scn_thread_name(scn, i));
	hp_sim_opts_default(&o);
	o.policy = kernel_policy();
	o.seed = seed;
	o.ncpus = 1;
	o.hz = kernel_hz();
	o.scale_cpus = (int)sysconf(_SC_NPROCESSORS_ONLN);
	o.ignore_affinity = 1;
	o.window_start_ns = FID_SKIP_HEAD_NS;
	o.window_end_ns = hp_scn_duration_ns(scn) - FID_SKIP_TAIL_NS;
	snprintf(r->policy, sizeof r->policy, "%s", o.policy == HP_SCHED_EEVDF ? "eevdf" : "cfs");
	if (hp_sim_run(scn, &o, &res, err, sizeof err) != 0) {
		snprintf(r->err, sizeof r->err, "simulating %s: %s", src, err);
		return -1;
	}
	for (int i = 0; i < r->nthr; i++) {
		r->thr[i].share_pred = res.task[i].share;
		r->thr[i].p50_pred = res.task[i].wakeup_p50_ns;
		r->thr[i].p99_pred = res.task[i].wakeup_p99_ns;
	}
	hp_sim_res_free(&res);
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
static int fid_rtapp(fid_run_t *r, const char *rtapp, const char *json, const char *out, double dur_s,
		     fid_obs_t *ob)
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

		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
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
		snprintf(r->err, sizeof r->err, "rt-app did not stop after its %.0f s (killed; output in %s)",
			 dur_s, out);
		return -2;
	}
	return 0;
}

/* rt-app failed or did not show all its threads: r->err says how, with
 * the first error line of its output. */
static void fid_rtapp_failed(fid_run_t *r, const char *out, const fid_obs_t *ob, int nthr)
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
	snprintf(r->err, sizeof r->err, "rt-app %s (status %d) with %d/%d of %d threads seen%s",
		 WIFEXITED(st) && WEXITSTATUS(st) == 127 ? "could not start" : "failed",
		 WIFEXITED(st) ? WEXITSTATUS(st) : -1, ob->na, ob->nb, nthr, msg);
}

/* Each thread's measured share and timer wake-up percentiles (its rt-app
 * log in logdir) into r. 0, or -1 with r->err. */
static int fid_compare(fid_run_t *r, const hp_scn_t *scn, const char *logdir, const fid_obs_t *ob,
		       double dur_s)
{
	r->window_s = ob->tb - ob->ta;
	r->tasks_share = 0;
	r->pred_total = 0;
	for (int i = 0; i < r->nthr; i++)
		r->pred_total += r->thr[i].share_pred;
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
		r->tasks_share += r->thr[i].share_meas;
		snprintf(logp, sizeof logp, "%s/rt-%s-%d.log", logdir, key, i);
		nl = read_latencies(logp, FID_SKIP_HEAD_NS * 1e-3, (dur_s * 1e9 - FID_SKIP_TAIL_NS) * 1e-3, &lat);
		r->thr[i].nlat_meas = nl;
		r->thr[i].p50_meas = hp_sim_pct(lat, nl, 50);
		r->thr[i].p99_meas = hp_sim_pct(lat, nl, 99);
		free(lat);
	}
	return 0;
}

/* rt-app's part: the scenario pinned to cpu in a temporary folder, run,
 * compared. 0, or -1 with r->err. */
static int fid_observe(fid_run_t *r, const hp_scn_t *scn, const char *src, int cpu, double dur_s)
{
	char tmpl[] = "/tmp/hotpath-rtapp-XXXXXXXX", json[4200], out[4200], rtapp[4096], err[512] = "";
	fid_obs_t *ob;
	int rc = -1;

	if (find_in_path("rt-app", rtapp, sizeof rtapp) != 0) {
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
	else if (write_rtapp_json(src, json, tmpl, cpu, err, sizeof err) != 0)
		snprintf(r->err, sizeof r->err, "%s", err);
	else if ((rc = fid_rtapp(r, rtapp, json, out, dur_s, ob)) == -2) {
		free(ob);
		return -1;      /* keep the folder for its output */
	} else if (rc == 0 && (!WIFEXITED(ob->status) || WEXITSTATUS(ob->status) != 0 ||
			       ob->na != r->nthr || ob->nb != r->nthr)) {
		fid_rtapp_failed(r, out, ob, r->nthr);
		rc = -1;
	} else if (rc == 0) {
		rc = fid_compare(r, scn, tmpl, ob, dur_s);
	}
	free(ob);
	rm_tree(tmpl);
	return rc;
}

/* Runs the scenario under rt-app and through the simulator; fills r (or
 * r->err). Takes the scenario's duration, a few seconds. */
static void fid_measure(fid_run_t *r, const char *scenario, int cpu, uint64_t seed)
{
	char src[4096], err[512] = "";
	hp_scn_t *scn;
	double dur_s;

	snprintf(src, sizeof src, "%s/%s.json", scenario_dir(), scenario);
	scn = hp_scn_load(src, err, sizeof err);
	if (!scn) {
		snprintf(r->err, sizeof r->err, "%s", err);
		return;
	}
	dur_s = (double)hp_scn_duration_ns(scn) * 1e-9;
	if (hp_scn_nthreads(scn) > FID_MAX_THREADS || dur_s * 1e9 <= FID_SKIP_HEAD_NS + FID_SKIP_TAIL_NS + 5e8)
		snprintf(r->err, sizeof r->err, "%s: needs 1..%d threads and a duration of at least 1 s",
			 src, FID_MAX_THREADS);
	else if (fid_predict(r, scn, src, seed) == 0 && fid_observe(r, scn, src, cpu, dur_s) == 0) {
		/* Other work on the CPU (other processes, a hypervisor's steal)
		 * takes its time from the scenario, which the model does not see:
		 * it is a measurement of something else then, and says so. */
		if (r->tasks_share < r->pred_total - FID_MAX_OTHER)
			snprintf(r->err, sizeof r->err, "CPU %d was busy with other work: the scenario's tasks got"
				 " %.0f%% of it, the model expects %.0f%%; measure on an idle CPU (--cpus)", cpu,
				 100 * r->tasks_share, 100 * r->pred_total);
		else
			r->done = 1;
	}
	hp_scn_free(scn);
}

static void *fid_setup(hp_ctx_t *ctx)
{
	fid_data_t *d = calloc(1, sizeof(*d));
	const fid_point_t *pt = &fid_points[ctx->p->value];
	fid_run_t *r = NULL;

	if (!d)
		return NULL;
	d->thread = -1;
	if (RUNNING_ON_VALGRIND) {
		snprintf(d->err, sizeof d->err, "the fidelity check measures CPU shares, not instructions"
			 " (run it with --metric time)");
		return d;
	}
	for (size_t i = 0; i < sizeof fid_cache / sizeof fid_cache[0]; i++)
		if (!strcmp(fid_cache[i].scenario, pt->scenario) && fid_cache[i].cpu == ctx->cpus[0] &&
		    fid_cache[i].seed == ctx->seed)
			r = &fid_cache[i];
	if (!r) {
		static unsigned next;

		r = &fid_cache[next++ % (sizeof fid_cache / sizeof fid_cache[0])];
		memset(r, 0, sizeof(*r));
		snprintf(r->scenario, sizeof r->scenario, "%s", pt->scenario);
		r->cpu = ctx->cpus[0];
		r->seed = ctx->seed;
		fid_measure(r, pt->scenario, ctx->cpus[0], ctx->seed);
	}
	d->run = r;
	if (!r->done) {
		snprintf(d->err, sizeof d->err, "%s", r->err);
		return d;
	}
	for (int i = 0; i < r->nthr; i++)
		if (!strcmp(r->thr[i].name, pt->thread))
			d->thread = i;
	if (d->thread < 0)
		snprintf(d->err, sizeof d->err, "scenario %s has no thread '%s'", pt->scenario, pt->thread);
	return d;
}

static void fid_teardown(hp_ctx_t *ctx, void *data)
{
	(void)ctx;
	free(data);
}

/* Reports the one measurement; its time is the measured window. */
static void fid_run(hp_state_t *st, uint64_t n, hp_ctx_t *ctx)
{
	fid_data_t *d = ctx->data;
	const fid_thread_t *t;

	if (d->err[0]) {
		hp_skip(st, d->err);
		return;
	}
	t = &d->run->thr[d->thread];
	hp_set_iteration_time(st, (double)n * d->run->window_s);
	hp_counter(st, "share_predicted", t->share_pred);
	hp_counter(st, "share_measured", t->share_meas);
	hp_counter(st, "share_diff_pp", 100.0 * (t->share_meas - t->share_pred));
	hp_counter(st, "scenario_cpu_share", d->run->tasks_share);
	if (t->p50_pred >= 0 && t->p50_meas >= 0) {
		hp_counter(st, "wakeup_p50_predicted_ns", (double)t->p50_pred);
		hp_counter(st, "wakeup_p50_measured_ns", (double)t->p50_meas);
		hp_counter(st, "wakeup_p99_predicted_ns", (double)t->p99_pred);
		hp_counter(st, "wakeup_p99_measured_ns", (double)t->p99_meas);
	}
}

static const hp_variant_t v_fid = {
	.name = "kernel", .kind = HP_KIND_KERNEL, .available = fid_available,
};

static const hp_case_t case_fid = {
	.name = "fidelity",
	.desc = "rt-app under this kernel vs hotpath sim: CPU share and wake-up latency per task",
	.op_unit = "window",
	.param_name = "scenario/task",
	.params = fid_params,
	.manual_time = 1,
	.setup = fid_setup,
	.teardown = fid_teardown,
	.run = fid_run,
	.variants = (const hp_variant_t *const[]){ &v_fid, NULL },
};

/* ================================================================== */
/* Plots of our own (the suite's .plots)                               */
/* ================================================================== */

/* Collects the single-thread repetitions of one metric of one case, per
 * (variant, param), in the order the results hold them. 0, or -1 with err
 * when out of memory. */
static int collect(const hp_results_t *r, const char *case_, const char *metric, hp_plot_pts_t *out,
		   char *err, size_t errlen)
{
	for (size_t i = 0; i < r->nrec; i++) {
		const hp_record_t *x = &r->rec[i];

		if (strcmp(x->suite, "sched") || strcmp(x->case_, case_) || strcmp(x->metric, metric) ||
		    x->threads != 1 || !isfinite(x->value))
			continue;
		if (hp_plot_pts_add(out, x->variant, x->param, x->value) != 0) {
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
static int plot_nr(const char *plotdir, const hp_results_t *r, const char *tdir, const char *case_,
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

static int plot_nr_pick(const char *plotdir, const hp_results_t *r, const char *tdir, char *err, size_t errlen)
{
	return plot_nr(plotdir, r, tdir, "pick_next", err, errlen);
}

static int plot_nr_enq(const char *plotdir, const hp_results_t *r, const char *tdir, char *err, size_t errlen)
{
	return plot_nr(plotdir, r, tdir, "enqueue_dequeue", err, errlen);
}

static int plot_nr_tick(const char *plotdir, const hp_results_t *r, const char *tdir, char *err, size_t errlen)
{
	return plot_nr(plotdir, r, tdir, "tick", err, errlen);
}

/* Measured against predicted share, one point per task, with the line of
 * perfect agreement and the +-3 percentage-point band. */
static int plot_fidelity(const char *plotdir, const hp_results_t *r, const char *tdir,
			 char *err, size_t errlen)
{
	hp_plot_pts_t pred = { 0 }, meas = { 0 };
	char tmpl[4096], *buf = NULL;
	size_t len = 0;
	int n = 0, rc = -1;
	FILE *f = NULL;

	if (collect(r, "fidelity", "share_predicted", &pred, err, errlen) != 0 ||
	    collect(r, "fidelity", "share_measured", &meas, err, errlen) != 0)
		goto out;
	f = open_memstream(&buf, &len);
	if (!f) {
		snprintf(err, errlen, "sched plot fidelity: out of memory");
		goto out;
	}
	fprintf(f, "# hotpath sched fidelity: per task, the simulator's predicted CPU share and the"
		" share measured under this kernel with rt-app (median over repetitions)\n");
	fprintf(f, "# predicted measured diff_pp task\n");
	for (size_t i = 0; i < pred.n; i++)
		for (size_t k = 0; k < meas.n; k++) {
			if (strcmp(pred.p[i].param, meas.p[k].param))
				continue;
			double p = hp_median(pred.p[i].v, pred.p[i].n), m = hp_median(meas.p[k].v, meas.p[k].n);

			fprintf(f, "%.6f %.6f %.3f \"%s\"\n", p, m, 100 * (m - p), pred.p[i].param);
			n++;
		}
	if (!n) {
		fclose(f);
		rc = 0;
		goto out;
	}
	if (write_dat(f, &buf, &len, plotdir, "sched-fidelity", err, errlen) != 0)
		goto out;
	snprintf(tmpl, sizeof tmpl, "%s/sched_fidelity.gp", tdir);
	rc = hp_plot_render(plotdir, "sched-fidelity", tmpl,
			    "title='sched suite: simulator against the running kernel'", err, errlen) < 0 ? -1 : 1;
out:
	free(buf);
	hp_plot_pts_free(&pred);
	hp_plot_pts_free(&meas);
	return rc;
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
	.usage = "sim FILE  simulate an rt-app scenario under CFS or EEVDF (hotpath sim --help)",
	.main = sim_verb_main,
};

/* ================================================================== */
/* Suite                                                               */
/* ================================================================== */

const hp_suite_t hp_suite_sched = {
	.name = "sched",
	.desc = "CFS and EEVDF run queues against nr_running, their baselines, and the simulator against the kernel",
	.doc = "docs/suites/sched.md",
	.cases = (const hp_case_t *const[]){ &case_pick, &case_enq, &case_tick, &case_fid, NULL },
	.plots = sched_plots,
	.verbs = (const hp_verb_t *const[]){ &sim_verb, NULL },
};
