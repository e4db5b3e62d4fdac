/* runner.c — turns a selection into a plan of benchmarks, runs each on
 * pinned CPUs through one of the measuring backends, and keeps the results
 * folder up to date after every benchmark so nothing finished is lost. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <regex.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <dirent.h>
#include <sched.h>

#include "hp_config.h"
#include "hp.h"
#include "runner.h"
#include "gbench.h"
#include "topo.h"
#include "env.h"
#include "record.h"
#include "metrics.h"
#include "plot.h"

/* ================================================================== */
/* Profiles, metrics, suite selection                                  */
/* ================================================================== */

const hp_profile_t hp_profiles[] = {
	/* smoke: seconds for the whole kernel suite; for tests, not numbers */
	{ .name = "smoke", .reps = 2, .min_time_s = 0.002, .warmup_s = 0.0, .count_iters = 200 },
	/* quick: the default; every suite in a few minutes on 2 cores */
	{ .name = "quick", .reps = 5, .min_time_s = 0.1, .warmup_s = 0.05, .count_iters = 1000 },
	/* full: bare metal, minutes per suite */
	{ .name = "full", .reps = 15, .min_time_s = 0.5, .warmup_s = 0.2, .count_iters = 10000 },
	{ .name = NULL },
};

const hp_profile_t *hp_profile_find(const char *name)
{
	for (int i = 0; hp_profiles[i].name; i++)
		if (strcmp(hp_profiles[i].name, name) == 0)
			return &hp_profiles[i];
	return NULL;
}

static const char *const metric_names[] = { "time", "instructions", "perf" };

const char *hp_metric_name(hp_metric_t m) { return metric_names[m]; }

int hp_metric_parse(const char *s, hp_metric_t *m)
{
	for (int i = 0; i < 3; i++)
		if (strcmp(s, metric_names[i]) == 0) {
			*m = (hp_metric_t)i;
			return 0;
		}
	return -1;
}

int hp_select_suites(const char *list, const hp_suite_t **out, int max,
		     char *err, size_t errlen)
{
	int n = 0;
	if (!list || !*list) {
		for (int i = 0; hp_suites[i] && n < max - 1; i++)
			out[n++] = hp_suites[i];
		out[n] = NULL;
		return n;
	}
	char *dup = strdup(list), *save = NULL;
	for (char *tok = strtok_r(dup, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		const hp_suite_t *s = hp_suite_find(tok);
		if (!s) {
			char valid[256] = "";
			for (int i = 0; hp_suites[i]; i++) {
				if (i) strncat(valid, ", ", sizeof valid - strlen(valid) - 1);
				strncat(valid, hp_suites[i]->name, sizeof valid - strlen(valid) - 1);
			}
			snprintf(err, errlen, "--suite: unknown suite '%s' (valid: %s)", tok, valid);
			free(dup);
			return -1;
		}
		int seen = 0;
		for (int i = 0; i < n; i++)
			seen |= out[i] == s;
		if (!seen && n < max - 1)
			out[n++] = s;
	}
	free(dup);
	if (n == 0) {
		snprintf(err, errlen, "--suite: empty suite list");
		return -1;
	}
	out[n] = NULL;
	return n;
}

/* ================================================================== */
/* Jobs: one (suite, case, variant, param, threads)                    */
/* ================================================================== */

static const hp_param_t no_param = { .label = "-", .value = 0 };

typedef struct job {
	const hp_suite_t *s;
	const hp_case_t *c;
	const hp_variant_t *v;
	const hp_param_t *p;
	int threads;
} job_t;

static int nparams(const hp_case_t *c)
{
	int n = 0;
	if (c->params)
		while (c->params[n].label)
			n++;
	return n;
}

static const hp_param_t *param_at(const hp_case_t *c, int i)
{
	return c->params ? &c->params[i] : &no_param;
}

static void job_name(const job_t *j, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s/%s/%s", j->s->name, j->c->name, j->v->name, j->p->label);
}

/* The CPUs of the whole run. */
typedef struct runenv {
	hp_topo_t *topo;
	int cpus[HP_MAX_CPUS];
	int ncpus;
	uint64_t seed;
	const hp_profile_t *prof;
	int reps;
	hp_metric_t metric;
} runenv_t;

static hp_topo_t *g_topo;   /* for ctx.bind_cpu, which takes no context */

static int ctx_bind_cpu(int cpu)
{
	char err[256];
	return hp_topo_bind_thread(g_topo, cpu, err, sizeof err);
}

static void job_ctx(const runenv_t *re, const job_t *j, hp_ctx_t *ctx)
{
	memset(ctx, 0, sizeof *ctx);
	ctx->s = j->s;
	ctx->c = j->c;
	ctx->v = j->v;
	ctx->p = j->p;
	ctx->seed = re->seed;
	ctx->metric = hp_metric_name(re->metric);
	ctx->threads = j->threads;
	ctx->cpus = re->cpus;
	ctx->ncpus = re->ncpus;
	ctx->all_cpus = re->cpus;
	ctx->bind_cpu = ctx_bind_cpu;
}

/* NULL when the job can run here with this metric, else why not. */
static const char *job_unavailable(const runenv_t *re, const job_t *j, const hp_ctx_t *ctx,
				   char *buf, size_t len)
{
	int need = j->p->min_cpus > j->threads ? j->p->min_cpus : j->threads;
	if (need > re->ncpus) {
		snprintf(buf, len, "needs %d CPUs, --cpus gave %d", need, re->ncpus);
		return buf;
	}
	if (j->v->available) {
		const char *why = j->v->available(ctx);
		if (why)
			return why;
	}
	if (re->metric == HP_METRIC_INSTRUCTIONS) {
		const char *why = hp_cg_unavailable();
		if (why)
			return why;
	}
	if (re->metric == HP_METRIC_PERF) {
		const char *why = hp_perf_unavailable();
		if (why)
			return why;
	}
	return NULL;
}

/* ================================================================== */
/* Records                                                             */
/* ================================================================== */

static void fill_key(hp_record_t *r, const job_t *j, const char *cpus)
{
	hp_strlcpy(r->suite, j->s->name, sizeof r->suite);
	hp_strlcpy(r->case_, j->c->name, sizeof r->case_);
	hp_strlcpy(r->variant, j->v->name, sizeof r->variant);
	hp_strlcpy(r->kind, hp_kind_name(j->v->kind), sizeof r->kind);
	hp_strlcpy(r->param, j->p->label, sizeof r->param);
	r->threads = j->threads;
	hp_strlcpy(r->cpus, cpus, sizeof r->cpus);
}

static void emit(hp_results_t *out, const job_t *j, const char *cpus, const char *metric,
		 const char *unit_prefix, const char *per, int rep, double value)
{
	hp_record_t r;
	memset(&r, 0, sizeof r);
	fill_key(&r, j, cpus);
	hp_strlcpy(r.metric, metric, sizeof r.metric);
	if (per)
		snprintf(r.unit, sizeof r.unit, "%s/%s", unit_prefix, per);
	else
		hp_strlcpy(r.unit, unit_prefix, sizeof r.unit);
	r.rep = rep;
	r.value = value;
	hp_results_add(out, &r);
}

static void set_status(hp_results_t *out, const job_t *j, hp_metric_t m,
		       hp_status_kind_t st, double secs, const char *fmt, ...)
{
	hp_status_t s;
	memset(&s, 0, sizeof s);
	hp_strlcpy(s.suite, j->s->name, sizeof s.suite);
	hp_strlcpy(s.case_, j->c->name, sizeof s.case_);
	hp_strlcpy(s.variant, j->v->name, sizeof s.variant);
	hp_strlcpy(s.kind, hp_kind_name(j->v->kind), sizeof s.kind);
	hp_strlcpy(s.param, j->p->label, sizeof s.param);
	hp_strlcpy(s.metric, hp_metric_name(m), sizeof s.metric);
	s.threads = j->threads;
	s.status = st;
	s.seconds = secs;
	if (fmt) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(s.message, sizeof s.message, fmt, ap);
		va_end(ap);
	}
	hp_results_add_status(out, &s);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* ================================================================== */
/* Backend: none (warm-up, calibration)                                */
/* ================================================================== */

static void nop_st(hp_state_t *st) { (void)st; }
static void nop_time(hp_state_t *st, double s) { (void)st; (void)s; }
static void nop_counter(hp_state_t *st, const char *n, double v) { (void)st; (void)n; (void)v; }
/* For backends whose skip keeps nothing (st->skipped is set by hp_skip). */
static void drop_skip(hp_state_t *st, const char *m) { (void)st; (void)m; }

/* With a backend, it is a char[256] that keeps the reason of a skip. */
static void nop_skip(hp_state_t *st, const char *m)
{
	if (st->backend && m)
		hp_strlcpy(st->backend, m, 256);
}

static const hp_state_ops_t nop_ops = {
	.pause = nop_st, .resume = nop_st, .set_iteration_time = nop_time,
	.counter = nop_counter, .skip = nop_skip,
};

/* Runs the case untimed for about `seconds` (at least once). Returns 0, or
 * -1 when the case skipped itself (msg filled). */
static int warm_up(const job_t *j, hp_ctx_t *ctx, double seconds, uint64_t *n_out,
		   char *msg, size_t msglen)
{
	char why[256] = "";
	hp_state_t st = { .ops = &nop_ops, .backend = why, .threads = 1 };
	uint64_t n = 1;
	double t0 = now_s();
	for (;;) {
		double t1 = now_s();
		j->c->run(&st, n, ctx);
		if (st.skipped) {
			snprintf(msg, msglen, "%s", why[0] ? why : "the case skipped itself during warm-up");
			return -1;
		}
		double dt = now_s() - t1;
		if (n_out)
			*n_out = n;
		if (now_s() - t0 >= seconds || n >= (1ull << 40))
			break;
		/* grow towards the time left, at most 10x per step */
		double left = seconds - (now_s() - t0);
		uint64_t want = dt > 0 ? (uint64_t)(n * (left / dt)) + 1 : n * 10;
		if (want > n * 10)
			want = n * 10;
		if (want < n + 1)
			want = n + 1;
		n = want;
	}
	return 0;
}

/* ================================================================== */
/* Backend: Google Benchmark (time)                                    */
/* ================================================================== */

typedef struct gbrun {
	const runenv_t *re;
	const job_t *j;
	hp_ctx_t ctx;
	hp_results_t *out;
	int actual_cpu[HP_MAX_CPUS];
	int nreported;
	char skip_msg[256];
	int skipped;
} gbrun_t;

static void gbo_pause(hp_state_t *st)
{
	st->tsc_total += hp_rdtsc() - st->tsc_start;
	hp_gb_pause(st->backend);
}

static void gbo_resume(hp_state_t *st)
{
	hp_gb_resume(st->backend);
	st->tsc_start = hp_rdtsc();
}

static void gbo_time(hp_state_t *st, double s) { hp_gb_set_iteration_time(st->backend, s); }
static void gbo_counter(hp_state_t *st, const char *name, double v)
{
	hp_gb_counter(st->backend, name, v, HP_GB_COUNTER_AVG_THREADS);
}
static void gbo_skip(hp_state_t *st, const char *msg) { hp_gb_skip(st->backend, msg); }

static const hp_state_ops_t gb_ops = {
	.pause = gbo_pause, .resume = gbo_resume, .set_iteration_time = gbo_time,
	.counter = gbo_counter, .skip = gbo_skip,
};

static int gb_bind(int thread_index, void *arg)
{
	gbrun_t *g = arg;
	char err[256];
	return hp_topo_bind_thread(g->re->topo, g->ctx.cpus[thread_index], err, sizeof err);
}

static void gb_entry(hp_gb_state_t *gst, uint64_t n, void *arg)
{
	gbrun_t *g = arg;
	hp_state_t st = {
		.ops = &gb_ops, .backend = gst,
		.thread_index = hp_gb_thread_index(gst),
		.threads = hp_gb_threads(gst),
	};
	st.tsc_start = hp_rdtsc();
	g->j->c->run(&st, n, &g->ctx);
	st.tsc_total += hp_rdtsc() - st.tsc_start;
	/* internal counters: per-thread TSC ticks (averaged over threads) and
	 * items (summed over threads) */
	hp_gb_counter(gst, "hp_tsc", (double)st.tsc_total, HP_GB_COUNTER_AVG_THREADS);
	hp_gb_counter(gst, "hp_items", st.items, HP_GB_COUNTER_DEFAULT);
	if (st.thread_index < HP_MAX_CPUS)
		g->actual_cpu[st.thread_index] = hp_topo_last_cpu(g->re->topo);
}

static void cpus_string(const int *cpus, int n, char *buf, size_t len)
{
	size_t off = 0;
	buf[0] = '\0';
	for (int i = 0; i < n && off < len; i++)
		off += snprintf(buf + off, len - off, "%s%d", i ? "+" : "", cpus[i]);
}

static void gb_report(const hp_gb_run_t *run, void *arg)
{
	gbrun_t *g = arg;
	const job_t *j = g->j;
	if (run->skipped) {
		g->skipped = 1;
		hp_strlcpy(g->skip_msg, run->skip_message, sizeof g->skip_msg);
		return;
	}
	char cpus[96];
	cpus_string(g->actual_cpu, j->threads, cpus, sizeof cpus);
	int rep = run->repetition_index;
	/* Google Benchmark (1.7, see gbench.h) sums iterations over threads and
	 * divides the thread-averaged wall time by that sum. hotpath records
	 * time per op as one thread sees it (latency), so scale by threads:
	 * throughput over all threads is then threads * 1e9 / real_time. CPU
	 * time stays the CPU cost of one op. */
	double iters_total = (double)run->iterations;
	double iters = iters_total / j->threads;        /* per thread */
	double real = run->real_time_ns * j->threads;
	double tsc = 0, items = 0;
	const char *op = j->c->op_unit ? j->c->op_unit : "op";
	emit(g->out, j, cpus, "real_time", "ns", op, rep, real);
	emit(g->out, j, cpus, "cpu_time", "ns", op, rep, run->cpu_time_ns);
	for (int i = 0; i < run->ncounters; i++) {
		const hp_gb_counter_val_t *c = &run->counters[i];
		if (strcmp(c->name, "hp_tsc") == 0)
			tsc = c->value;
		else if (strcmp(c->name, "hp_items") == 0)
			items = c->value;
		else
			emit(g->out, j, cpus, c->name, c->name, NULL, rep, c->value);
	}
	/* hp_tsc: one thread's ticks (averaged over threads) */
	if (!j->c->manual_time && hp_tsc_invariant() && iters > 0)
		emit(g->out, j, cpus, "tsc_cycles", "cycles", op, rep, tsc / iters);
	if (items > 0 && iters_total > 0 && j->c->item_unit) {
		/* hp_items: summed over threads */
		double per_iter = items / iters_total;
		emit(g->out, j, cpus, "real_time_per_item", "ns", j->c->item_unit, rep, real / per_iter);
	}
	emit(g->out, j, cpus, "iterations", "iters", NULL, rep, iters);
	g->nreported++;
}

/* Runs one job in this process through Google Benchmark. */
static void run_time_inproc(const runenv_t *re, const job_t *j, hp_results_t *out)
{
	gbrun_t g;
	memset(&g, 0, sizeof g);
	g.re = re;
	g.j = j;
	g.out = out;
	job_ctx(re, j, &g.ctx);
	double t0 = now_s();
	char err[256], name[256];

	/* setup and warm-up run on the first measured CPU, so memory is first
	 * touched on its NUMA node */
	if (hp_topo_bind_thread(re->topo, re->cpus[0], err, sizeof err) != 0) {
		set_status(out, j, re->metric, HP_ST_FAILED, 0, "cannot bind to CPU %d: %s", re->cpus[0], err);
		return;
	}
	if (j->c->setup) {
		g.ctx.data = j->c->setup(&g.ctx);
		if (!g.ctx.data) {
			set_status(out, j, re->metric, HP_ST_FAILED, now_s() - t0, "setup failed");
			return;
		}
	}
	if (re->prof->warmup_s > 0 &&
	    warm_up(j, &g.ctx, re->prof->warmup_s, NULL, err, sizeof err) != 0) {
		if (j->c->teardown)
			j->c->teardown(&g.ctx, g.ctx.data);
		set_status(out, j, re->metric, HP_ST_SKIPPED, now_s() - t0, "%s", err);
		return;
	}
	job_name(j, name, sizeof name);
	hp_gb_bench_t *b = hp_gb_register(name, gb_entry, &g);
	hp_gb_set_threads(b, j->threads);
	hp_gb_set_repetitions(b, re->reps);
	hp_gb_set_min_time(b, re->prof->min_time_s);
	hp_gb_set_bind(b, gb_bind, &g);
	if (j->c->manual_time)
		hp_gb_use_manual_time(b);
	else
		hp_gb_use_real_time(b);
	hp_gb_run_all(gb_report, &g);
	if (j->c->teardown)
		j->c->teardown(&g.ctx, g.ctx.data);
	double secs = now_s() - t0;
	if (g.skipped)
		set_status(out, j, re->metric, HP_ST_SKIPPED, secs, "%s", g.skip_msg);
	else if (g.nreported != re->reps)
		set_status(out, j, re->metric, HP_ST_FAILED, secs, "%d of %d repetitions reported",
			   g.nreported, re->reps);
	else
		set_status(out, j, re->metric, HP_ST_OK, secs, NULL);
}

/* ================================================================== */
/* Backend: perf_event_open (hardware counters, one thread)            */
/* ================================================================== */

static void pf_pause(hp_state_t *st) { hp_perf_disable(st->backend); }
static void pf_resume(hp_state_t *st) { hp_perf_enable(st->backend); }

static const hp_state_ops_t perf_ops = {
	.pause = pf_pause, .resume = pf_resume, .set_iteration_time = nop_time,
	.counter = nop_counter, .skip = drop_skip,
};

static void run_perf_inproc(const runenv_t *re, const job_t *j, hp_results_t *out)
{
	hp_ctx_t ctx;
	job_ctx(re, j, &ctx);
	double t0 = now_s();
	char err[256], cpus[32];
	if (j->threads != 1) {
		set_status(out, j, re->metric, HP_ST_SKIPPED, 0,
			   "hardware counters are read with one thread; run --metric time for the sweep");
		return;
	}
	if (hp_topo_bind_thread(re->topo, re->cpus[0], err, sizeof err) != 0) {
		set_status(out, j, re->metric, HP_ST_FAILED, 0, "cannot bind to CPU %d: %s", re->cpus[0], err);
		return;
	}
	hp_perf_t pf;
	if (hp_perf_open(&pf, err, sizeof err) != 0) {
		set_status(out, j, re->metric, HP_ST_UNAVAILABLE, 0, "%s", err);
		return;
	}
	if (j->c->setup && !(ctx.data = j->c->setup(&ctx))) {
		hp_perf_close(&pf);
		set_status(out, j, re->metric, HP_ST_FAILED, 0, "setup failed");
		return;
	}
	uint64_t n = 1;
	double wt = re->prof->min_time_s > re->prof->warmup_s ? re->prof->min_time_s : re->prof->warmup_s;
	if (warm_up(j, &ctx, wt, &n, err, sizeof err) != 0) {
		set_status(out, j, re->metric, HP_ST_SKIPPED, now_s() - t0, "%s", err);
		goto done;
	}
	snprintf(cpus, sizeof cpus, "%d", hp_topo_last_cpu(re->topo));
	const char *op = j->c->op_unit ? j->c->op_unit : "op";
	for (int rep = 0; rep < re->reps; rep++) {
		uint64_t v[HP_PERF_NEVENTS];
		hp_state_t st = { .ops = &perf_ops, .backend = &pf, .threads = 1 };
		hp_perf_reset(&pf);
		hp_perf_enable(&pf);
		j->c->run(&st, n, &ctx);
		hp_perf_disable(&pf);
		if (st.skipped || hp_perf_read(&pf, v) != 0) {
			set_status(out, j, re->metric, HP_ST_FAILED, now_s() - t0,
				   st.skipped ? "the case skipped itself" : "reading the counters failed");
			goto done;
		}
		for (int e = 0; e < HP_PERF_NEVENTS; e++)
			emit(out, j, cpus, hp_perf_event_names[e], hp_perf_event_units[e], op, rep,
			     (double)v[e] / (double)n);
		emit(out, j, cpus, "iterations", "iters", NULL, rep, (double)n);
	}
	set_status(out, j, re->metric, HP_ST_OK, now_s() - t0, NULL);
done:
	if (j->c->teardown)
		j->c->teardown(&ctx, ctx.data);
	hp_perf_close(&pf);
}

/* ================================================================== */
/* Backend: callgrind (instructions; runs inside valgrind, in a child)  */
/* ================================================================== */

static void cg_pause(hp_state_t *st) { (void)st; hp_cg_pause(); }
static void cg_resume(hp_state_t *st) { (void)st; hp_cg_resume(); }

static const hp_state_ops_t cg_ops = {
	.pause = cg_pause, .resume = cg_resume, .set_iteration_time = nop_time,
	.counter = nop_counter, .skip = drop_skip,
};

/* In the valgrind child: warm up (lazy binding, first touch), then count
 * n and 2n iterations in two dumps; the parent takes the difference, so
 * the fixed cost of starting and stopping the count cancels out. */
static int count_instructions_child(const runenv_t *re, const job_t *j, char *msg, size_t len)
{
	hp_ctx_t ctx;
	job_ctx(re, j, &ctx);
	char err[256];
	if (hp_topo_bind_thread(re->topo, re->cpus[0], err, sizeof err) != 0) {
		snprintf(msg, len, "cannot bind to CPU %d: %s", re->cpus[0], err);
		return -1;
	}
	if (j->c->setup && !(ctx.data = j->c->setup(&ctx))) {
		snprintf(msg, len, "setup failed");
		return -1;
	}
	uint64_t n = re->prof->count_iters;
	hp_state_t st = { .ops = &nop_ops, .threads = 1 };
	j->c->run(&st, n, &ctx);
	int rc = 0;
	for (int k = 1; k <= 2 && rc == 0; k++) {
		hp_state_t cs = { .ops = &cg_ops, .threads = 1 };
		hp_cg_start();
		j->c->run(&cs, n * (uint64_t)k, &ctx);
		hp_cg_stop();
		hp_cg_dump(k == 1 ? "n" : "2n");
		if (cs.skipped) {
			snprintf(msg, len, "the case skipped itself under callgrind");
			rc = -2;
		}
	}
	if (j->c->teardown)
		j->c->teardown(&ctx, ctx.data);
	return rc;
}

/* ================================================================== */
/* Child processes                                                     */
/* ================================================================== */

static char g_self_exe[PATH_MAX];
/* The process's CPU set before the runner bound anything: a child starts
 * from it, so it sees the same allowed CPUs as the runner did. */
static cpu_set_t g_orig_mask;
static int g_have_orig_mask;

static void save_orig_mask(void)
{
	if (!g_have_orig_mask && sched_getaffinity(0, sizeof g_orig_mask, &g_orig_mask) == 0)
		g_have_orig_mask = 1;
}

static const char *self_exe(void)
{
	if (!g_self_exe[0]) {
		ssize_t n = readlink("/proc/self/exe", g_self_exe, sizeof g_self_exe - 1);
		if (n <= 0)
			hp_strlcpy(g_self_exe, "hotpath", sizeof g_self_exe);
		else
			g_self_exe[n] = '\0';
	}
	return g_self_exe;
}

/* Reads JSON lines of records and statuses from fd into out. Returns the
 * number of statuses read. */
static int read_child_lines(int fd, hp_results_t *out)
{
	FILE *f = fdopen(fd, "r");
	if (!f) {
		close(fd);
		return 0;
	}
	char *line = NULL;
	size_t cap = 0;
	int nst = 0;
	while (getline(&line, &cap, f) > 0) {
		struct json_object *o = json_tokener_parse(line), *x;
		if (!o)
			continue;
		if (json_object_object_get_ex(o, "record", &x)) {
			hp_record_t r;
			if (hp_record_from_json(x, &r) == 0)
				hp_results_add(out, &r);
		} else if (json_object_object_get_ex(o, "status", &x)) {
			hp_status_t s;
			if (hp_status_from_json(x, &s) == 0) {
				hp_results_add_status(out, &s);
				nst++;
			}
		}
		json_object_put(o);
	}
	free(line);
	fclose(f);
	return nst;
}

static int rm_rf_flat(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return -1;
	struct dirent *e;
	char p[PATH_MAX];
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
		unlink(p);
	}
	closedir(d);
	return rmdir(dir);
}

/* Runs one job in a child process: with the variant's environment entry
 * (LD_PRELOAD, ...) and/or under valgrind for instruction counts. */
static void run_in_child(const runenv_t *re, const job_t *j, hp_results_t *out, int valgrind)
{
	double t0 = now_s();
	char cpus[512], seed[32], threads[16], reps[16], fdarg[16];
	hp_cpulist_format(re->cpus, re->ncpus, cpus, sizeof cpus);
	snprintf(seed, sizeof seed, "%" PRIu64, re->seed);
	snprintf(threads, sizeof threads, "%d", j->threads);
	snprintf(reps, sizeof reps, "%d", re->reps);
	char cgdir[] = "/tmp/hotpath-cg-XXXXXX", cgout[PATH_MAX];
	if (valgrind) {
		if (!mkdtemp(cgdir)) {
			set_status(out, j, re->metric, HP_ST_FAILED, 0, "mkdtemp: %s", strerror(errno));
			return;
		}
		snprintf(cgout, sizeof cgout, "--callgrind-out-file=%s/cg.%%p", cgdir);
	}
	int pfd[2];
	if (pipe2(pfd, O_CLOEXEC) != 0) {
		set_status(out, j, re->metric, HP_ST_FAILED, 0, "pipe: %s", strerror(errno));
		return;
	}
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		set_status(out, j, re->metric, HP_ST_FAILED, 0, "fork: %s", strerror(errno));
		close(pfd[0]);
		close(pfd[1]);
		return;
	}
	if (pid == 0) {
		close(pfd[0]);
		int wfd = dup(pfd[1]);    /* without O_CLOEXEC */
		if (g_have_orig_mask)
			sched_setaffinity(0, sizeof g_orig_mask, &g_orig_mask);
		/* Ctrl-C is the runner's to handle: it lets this benchmark finish */
		signal(SIGINT, SIG_IGN);
		snprintf(fdarg, sizeof fdarg, "%d", wfd);
		if (j->v->child_env)
			putenv((char *)j->v->child_env);
		/* hwloc's x86 backend cannot run under valgrind and says so on
		 * stderr; the Linux backend gives the same topology */
		if (valgrind)
			putenv("HWLOC_COMPONENTS=-x86");
		char *argv[40];
		int a = 0;
		if (valgrind) {
			argv[a++] = (char *)HP_VALGRIND;
			argv[a++] = "--tool=callgrind";
			argv[a++] = "-q";
			argv[a++] = "--collect-atstart=no";
			argv[a++] = "--instr-atstart=yes";
			argv[a++] = cgout;
		}
		argv[a++] = (char *)self_exe();
		argv[a++] = "__child";
		argv[a++] = "--suite"; argv[a++] = (char *)j->s->name;
		argv[a++] = "--case"; argv[a++] = (char *)j->c->name;
		argv[a++] = "--variant"; argv[a++] = (char *)j->v->name;
		argv[a++] = "--param"; argv[a++] = (char *)j->p->label;
		argv[a++] = "--threads"; argv[a++] = threads;
		argv[a++] = "--cpus"; argv[a++] = cpus;
		argv[a++] = "--seed"; argv[a++] = seed;
		argv[a++] = "--metric"; argv[a++] = (char *)hp_metric_name(re->metric);
		argv[a++] = "--profile"; argv[a++] = (char *)re->prof->name;
		argv[a++] = "--reps"; argv[a++] = reps;
		argv[a++] = "--fd"; argv[a++] = fdarg;
		argv[a] = NULL;
		execv(argv[0], argv);
		fprintf(stderr, "hotpath: cannot start %s: %s\n", argv[0], strerror(errno));
		_exit(HP_EXIT_INTERNAL);
	}
	close(pfd[1]);
	hp_results_t tmp;
	hp_results_init(&tmp);
	int nst = read_child_lines(pfd[0], &tmp);
	int ws = 0;
	while (waitpid(pid, &ws, 0) < 0 && errno == EINTR)
		;
	double secs = now_s() - t0;
	for (size_t i = 0; i < tmp.nrec; i++)
		hp_results_add(out, &tmp.rec[i]);
	if (WIFSIGNALED(ws)) {
		set_status(out, j, re->metric, HP_ST_FAILED, secs, "child process killed by signal %d (%s)",
			   WTERMSIG(ws), strsignal(WTERMSIG(ws)));
	} else if (nst == 0) {
		set_status(out, j, re->metric, HP_ST_FAILED, secs, "child process exited with %d and no status",
			   WEXITSTATUS(ws));
	} else if (!valgrind) {
		for (size_t i = 0; i < tmp.nst; i++)
			hp_results_add_status(out, &tmp.st[i]);
	} else {
		/* the child reported ok: read the two dumps and take the difference */
		hp_status_t *cs = &tmp.st[0];
		if (cs->status != HP_ST_OK) {
			hp_results_add_status(out, cs);
		} else {
			char p1[PATH_MAX], p2[PATH_MAX], e1[256] = "", e2[256] = "";
			uint64_t i1 = 0, i2 = 0;
			snprintf(p1, sizeof p1, "%s/cg.%d.1", cgdir, (int)pid);
			snprintf(p2, sizeof p2, "%s/cg.%d.2", cgdir, (int)pid);
			if (hp_cg_read_total(p1, &i1, e1, sizeof e1) != 0 ||
			    hp_cg_read_total(p2, &i2, e2, sizeof e2) != 0) {
				set_status(out, j, re->metric, HP_ST_FAILED, secs, "callgrind output: %s%s", e1, e2);
			} else {
				double n = (double)re->prof->count_iters;
				const char *op = j->c->op_unit ? j->c->op_unit : "op";
				char cpu[16];
				snprintf(cpu, sizeof cpu, "%d", re->cpus[0]);
				emit(out, j, cpu, "instructions", "instr", op, 0, ((double)i2 - (double)i1) / n);
				emit(out, j, cpu, "iterations", "iters", NULL, 0, n);
				set_status(out, j, re->metric, HP_ST_OK, secs, NULL);
			}
		}
	}
	if (valgrind)
		rm_rf_flat(cgdir);
	hp_results_free(&tmp);
}

/* `hotpath __child`: one job, results as JSON lines on --fd. */
int hp_child_main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "suite", 1, 0, 's' }, { "case", 1, 0, 'c' }, { "variant", 1, 0, 'v' },
		{ "param", 1, 0, 'p' }, { "threads", 1, 0, 't' }, { "cpus", 1, 0, 'C' },
		{ "seed", 1, 0, 'S' }, { "metric", 1, 0, 'm' }, { "profile", 1, 0, 'P' },
		{ "reps", 1, 0, 'r' }, { "fd", 1, 0, 'f' }, { 0, 0, 0, 0 },
	};
	const char *suite = NULL, *cas = NULL, *var = NULL, *param = NULL, *cpus = NULL;
	const char *metric = "time", *profile = "quick";
	int threads = 1, reps = 0, fd = -1;
	uint64_t seed = 0;
	int o;
	optind = 1;
	while ((o = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (o) {
		case 's': suite = optarg; break;
		case 'c': cas = optarg; break;
		case 'v': var = optarg; break;
		case 'p': param = optarg; break;
		case 't': threads = atoi(optarg); break;
		case 'C': cpus = optarg; break;
		case 'S': seed = strtoull(optarg, NULL, 0); break;
		case 'm': metric = optarg; break;
		case 'P': profile = optarg; break;
		case 'r': reps = atoi(optarg); break;
		case 'f': fd = atoi(optarg); break;
		default: return HP_EXIT_USAGE;
		}
	}
	if (!suite || !cas || !var || !param || !cpus || fd < 0) {
		fprintf(stderr, "hotpath __child: missing arguments\n");
		return HP_EXIT_USAGE;
	}
	const hp_suite_t *s = hp_suite_find(suite);
	const hp_case_t *c = s ? hp_case_find(s, cas) : NULL;
	const hp_variant_t *v = c ? hp_variant_find(c, var) : NULL;
	const hp_param_t *p = NULL;
	if (c) {
		if (!c->params)
			p = &no_param;
		for (int i = 0; i < nparams(c); i++)
			if (strcmp(c->params[i].label, param) == 0)
				p = &c->params[i];
	}
	runenv_t re;
	memset(&re, 0, sizeof re);
	char err[512];
	re.prof = hp_profile_find(profile);
	if (!v || !p || !re.prof || hp_metric_parse(metric, &re.metric) != 0) {
		fprintf(stderr, "hotpath __child: unknown benchmark %s/%s/%s/%s\n", suite, cas, var, param);
		return HP_EXIT_USAGE;
	}
	re.topo = g_topo = hp_topo_load(err, sizeof err);
	if (!re.topo) {
		fprintf(stderr, "hotpath __child: %s\n", err);
		return HP_EXIT_INTERNAL;
	}
	re.ncpus = hp_cpulist_parse(re.topo, cpus, re.cpus, HP_MAX_CPUS, err, sizeof err);
	if (re.ncpus <= 0) {
		fprintf(stderr, "hotpath __child: %s\n", err);
		return HP_EXIT_USAGE;
	}
	re.seed = seed;
	re.reps = reps > 0 ? reps : re.prof->reps;
	job_t j = { .s = s, .c = c, .v = v, .p = p, .threads = threads };
	hp_results_t out;
	hp_results_init(&out);
	if (re.metric == HP_METRIC_INSTRUCTIONS) {
		char msg[256];
		int crc = count_instructions_child(&re, &j, msg, sizeof msg);
		if (crc != 0)
			set_status(&out, &j, re.metric, crc == -2 ? HP_ST_SKIPPED : HP_ST_FAILED, 0, "%s", msg);
		else
			set_status(&out, &j, re.metric, HP_ST_OK, 0, NULL);
	} else if (re.metric == HP_METRIC_PERF) {
		run_perf_inproc(&re, &j, &out);
	} else {
		run_time_inproc(&re, &j, &out);
	}
	FILE *f = fdopen(fd, "w");
	if (!f)
		return HP_EXIT_INTERNAL;
	for (size_t i = 0; i < out.nrec; i++) {
		struct json_object *w = json_object_new_object();
		json_object_object_add(w, "record", hp_record_to_json(&out.rec[i]));
		fprintf(f, "%s\n", json_object_to_json_string_ext(w, JSON_C_TO_STRING_PLAIN));
		json_object_put(w);
	}
	for (size_t i = 0; i < out.nst; i++) {
		struct json_object *w = json_object_new_object();
		json_object_object_add(w, "status", hp_status_to_json(&out.st[i]));
		fprintf(f, "%s\n", json_object_to_json_string_ext(w, JSON_C_TO_STRING_PLAIN));
		json_object_put(w);
	}
	fclose(f);
	hp_results_free(&out);
	hp_topo_free(re.topo);
	return 0;
}

/* ================================================================== */
/* The run: plan, progress, signals, outputs                           */
/* ================================================================== */

static volatile sig_atomic_t g_interrupted;
static char g_crash_msg[1024];
static size_t g_crash_len;

static void on_interrupt(int sig)
{
	(void)sig;
	if (g_interrupted) {
		static const char m[] = "\nhotpath: interrupted twice, stopping now\n";
		ssize_t rc = write(2, m, sizeof m - 1);
		(void)rc;
		_exit(130);
	}
	g_interrupted = 1;
	static const char m[] = "\nhotpath: interrupted; finishing the current benchmark, then writing results (Ctrl-C again to stop now)\n";
	ssize_t rc = write(2, m, sizeof m - 1);
	(void)rc;
}

static void on_crash(int sig)
{
	ssize_t rc = write(2, g_crash_msg, g_crash_len);
	(void)rc;
	signal(sig, SIG_DFL);
	raise(sig);
}

static void install_signals(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_interrupt;
	sa.sa_flags = SA_RESTART;   /* reads from a child's pipe go on */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sa.sa_handler = on_crash;
	sa.sa_flags = SA_RESETHAND;
	int fatal[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT };
	for (size_t i = 0; i < sizeof fatal / sizeof fatal[0]; i++)
		sigaction(fatal[i], &sa, NULL);
}

static void set_crash_msg(const char *job, size_t done, const char *dir)
{
	g_crash_len = (size_t)snprintf(g_crash_msg, sizeof g_crash_msg,
		"\nhotpath: crashed while running %s; the results of the %zu benchmark(s) that "
		"finished are kept in %s (results.csv, results.json, summary.md)\n", job, done, dir);
	if (g_crash_len >= sizeof g_crash_msg)
		g_crash_len = sizeof g_crash_msg - 1;
}

static int mkdir_p(const char *path)
{
	char tmp[PATH_MAX];
	hp_strlcpy(tmp, path, sizeof tmp);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
		return -1;
	return 0;
}

/* Creates out/<YYYYmmdd-HHMMSS>-<host>, never reusing an existing folder. */
static int make_run_dir(const char *out, char *dir, size_t len, char *err, size_t errlen)
{
	if (mkdir_p(out) != 0) {
		snprintf(err, errlen, "--out: cannot create '%s': %s", out, strerror(errno));
		return -1;
	}
	char host[128] = "host", stamp[32];
	gethostname(host, sizeof host - 1);
	for (char *p = host; *p; p++)
		if (*p == '/' || *p == ' ')
			*p = '_';
	time_t t = time(NULL);
	struct tm tm;
	localtime_r(&t, &tm);
	strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
	for (int k = 1; k < 1000; k++) {
		if (k == 1)
			snprintf(dir, len, "%s/%s-%s", out, stamp, host);
		else
			snprintf(dir, len, "%s/%s-%s-%d", out, stamp, host, k);
		if (mkdir(dir, 0755) == 0)
			return 0;
		if (errno != EEXIST) {
			snprintf(err, errlen, "--out: cannot create a run folder in '%s': %s", out, strerror(errno));
			return -1;
		}
	}
	snprintf(err, errlen, "--out: too many run folders named %s-%s in '%s'", stamp, host, out);
	return -1;
}

typedef struct progress {
	int on, color;
	size_t total;
	double t0;
} progress_t;

static void progress_show(progress_t *pg, size_t done, const job_t *j)
{
	if (!pg->on)
		return;
	char name[256], eta[32] = "";
	job_name(j, name, sizeof name);
	double el = now_s() - pg->t0;
	if (done > 0) {
		double left = el / done * (pg->total - done);
		snprintf(eta, sizeof eta, " ETA %d:%02d", (int)left / 60, (int)left % 60);
	}
	fprintf(stderr, "\r\033[K%s[%zu/%zu]%s %s t=%d%s", pg->color ? "\033[1m" : "", done + 1, pg->total,
		pg->color ? "\033[0m" : "", name, j->threads, eta);
	fflush(stderr);
}

static void progress_end(progress_t *pg)
{
	if (pg->on)
		fprintf(stderr, "\r\033[K");
}

static int write_outputs(const char *dir, const hp_results_t *r, struct json_object *env,
			 const char *note)
{
	char p[PATH_MAX];
	int rc = 0;
	snprintf(p, sizeof p, "%s/results.csv", dir);
	rc |= hp_write_csv(p, r);
	snprintf(p, sizeof p, "%s/results.json", dir);
	struct json_object *ctx = NULL;
	json_object_deep_copy(env, &ctx, NULL);
	rc |= hp_write_results_json(p, r, ctx);
	snprintf(p, sizeof p, "%s/summary.md", dir);
	rc |= hp_write_summary(p, r, note);
	return rc;
}

static void env_warn(struct json_object *env, const char *msg)
{
	struct json_object *w;
	if (!json_object_object_get_ex(env, "warnings", &w)) {
		w = json_object_new_array();
		json_object_object_add(env, "warnings", w);
	}
	json_object_array_add(w, json_object_new_string(msg));
}

static const char *templates_dir(void)
{
	const char *t = getenv("HP_TEMPLATES");
	return t && *t ? t : HP_SOURCE_ROOT "/scripts";
}

/* Prints the median of the primary metric per benchmark. */
static void print_table(const hp_results_t *r, FILE *out)
{
	size_t i = 0;
	while (i < r->nrec) {
		const hp_record_t *a = &r->rec[i];
		const char *prim = NULL;
		/* primary metric of this benchmark: the first of real_time, instructions, perf_cycles */
		size_t k = i;
		for (; k < r->nrec; k++) {
			const hp_record_t *b = &r->rec[k];
			if (strcmp(a->suite, b->suite) || strcmp(a->case_, b->case_) ||
			    strcmp(a->variant, b->variant) || strcmp(a->param, b->param) ||
			    a->threads != b->threads)
				break;
			if (!prim && (!strcmp(b->metric, "real_time") || !strcmp(b->metric, "instructions") ||
				      !strcmp(b->metric, "perf_cycles")))
				prim = b->metric;
		}
		if (prim) {
			double v[1024];
			size_t n = 0;
			const char *unit = "";
			for (size_t q = i; q < k && n < 1024; q++)
				if (!strcmp(r->rec[q].metric, prim)) {
					v[n++] = r->rec[q].value;
					unit = r->rec[q].unit;
				}
			double cv = hp_cv(v, n);
			double med = hp_median(v, n);
			char name[256];
			snprintf(name, sizeof name, "%s/%s/%s/%s t=%d", a->suite, a->case_, a->variant,
				 a->param, a->threads);
			fprintf(out, "  %-48s %12.4g %-16s CV %5.1f%%\n", name, med, unit, cv * 100);
		}
		i = k;
	}
}

int hp_run(const hp_run_opts_t *o)
{
	char err[1024];
	const hp_suite_t *suites[64];
	if (hp_select_suites(o->suites, suites, 64, err, sizeof err) < 0) {
		fprintf(stderr, "hotpath run: %s\n", err);
		return HP_EXIT_USAGE;
	}
	regex_t re_filter;
	int have_filter = o->filter && *o->filter;
	if (have_filter) {
		int rc = regcomp(&re_filter, o->filter, REG_EXTENDED | REG_NOSUB);
		if (rc != 0) {
			char m[256];
			regerror(rc, &re_filter, m, sizeof m);
			fprintf(stderr, "hotpath run: --filter: bad regular expression '%s': %s\n", o->filter, m);
			return HP_EXIT_USAGE;
		}
	}
	runenv_t re;
	memset(&re, 0, sizeof re);
	save_orig_mask();
	re.topo = g_topo = hp_topo_load(err, sizeof err);
	if (!re.topo) {
		fprintf(stderr, "hotpath run: cannot load the topology: %s\n", err);
		return HP_EXIT_INTERNAL;
	}
	re.ncpus = hp_cpulist_parse(re.topo, o->cpus_spec ? o->cpus_spec : "auto", re.cpus, HP_MAX_CPUS,
				    err, sizeof err);
	if (re.ncpus <= 0) {
		fprintf(stderr, "hotpath run: %s\n", err);
		return HP_EXIT_USAGE;
	}
	re.seed = o->seed;
	re.prof = o->profile;
	re.reps = o->reps > 0 ? o->reps : o->profile->reps;
	re.metric = o->metric;

	/* the plan */
	size_t njobs = 0, cap = 64;
	job_t *jobs = malloc(cap * sizeof *jobs);
	for (int si = 0; suites[si]; si++) {
		const hp_suite_t *s = suites[si];
		for (int ci = 0; s->cases[ci]; ci++) {
			const hp_case_t *c = s->cases[ci];
			int np = c->params ? nparams(c) : 1;
			for (int vi = 0; c->variants[vi]; vi++)
				for (int pi = 0; pi < np; pi++) {
					int maxt = c->thread_sweep ? re.ncpus : 1;
					int mint = c->thread_sweep == HP_THREADS_ALL ? re.ncpus : 1;
					for (int t = mint; t <= maxt; t++) {
						job_t j = { s, c, c->variants[vi], param_at(c, pi), t };
						if (have_filter) {
							char name[256];
							job_name(&j, name, sizeof name);
							if (regexec(&re_filter, name, 0, NULL, 0) != 0)
								continue;
						}
						if (njobs == cap)
							jobs = realloc(jobs, (cap *= 2) * sizeof *jobs);
						jobs[njobs++] = j;
					}
				}
		}
	}
	if (have_filter)
		regfree(&re_filter);
	if (njobs == 0) {
		fprintf(stderr, "hotpath run: --filter '%s' matches no benchmark (names are suite/case/variant/param; see hotpath list)\n",
			o->filter ? o->filter : "");
		free(jobs);
		hp_topo_free(re.topo);
		return HP_EXIT_USAGE;
	}

	char dir[PATH_MAX], path[PATH_MAX];
	if (make_run_dir(o->out, dir, sizeof dir, err, sizeof err) != 0) {
		fprintf(stderr, "hotpath run: %s\n", err);
		free(jobs);
		hp_topo_free(re.topo);
		return HP_EXIT_USAGE;
	}

	hp_env_opts_t eo = {
		.cpus = re.cpus, .ncpus = re.ncpus, .seed = re.seed,
		.command_line = o->command_line, .metric = hp_metric_name(re.metric),
		.profile = re.prof->name, .gbench_build = hp_gb_library_build(),
	};
	struct json_object *env = hp_env_capture(re.topo, &eo);
	json_object_object_add(env, "status", json_object_new_string("running"));
	json_object_object_add(env, "repetitions", json_object_new_int(re.reps));
	snprintf(path, sizeof path, "%s/env.json", dir);
	if (hp_write_json_atomic(path, env) != 0) {
		fprintf(stderr, "hotpath run: cannot write %s: %s\n", path, strerror(errno));
		json_object_put(env);
		free(jobs);
		hp_topo_free(re.topo);
		return HP_EXIT_USAGE;
	}
	snprintf(path, sizeof path, "%s/topology.xml", dir);
	if (hp_topo_export_xml(re.topo, path, err, sizeof err) != 0)
		env_warn(env, err);

	if (!o->quiet) {
		char cl[512];
		hp_cpulist_format(re.cpus, re.ncpus, cl, sizeof cl);
		fprintf(stderr, "hotpath: %zu benchmark(s), profile %s, metric %s, %d repetition(s), CPUs %s, seed %" PRIu64 "\n",
			njobs, re.prof->name, hp_metric_name(re.metric), re.reps, cl, re.seed);
	}

	progress_t pg = {
		.on = !o->quiet && isatty(2), .total = njobs, .t0 = now_s(),
		.color = getenv("NO_COLOR") == NULL || !*getenv("NO_COLOR"),
	};
	install_signals();
	hp_results_t res;
	hp_results_init(&res);
	size_t done = 0;
	int failed = 0;
	char note[256];
	for (size_t i = 0; i < njobs && !g_interrupted; i++) {
		job_t *j = &jobs[i];
		char name[256], why_buf[256];
		job_name(j, name, sizeof name);
		set_crash_msg(name, done, dir);
		progress_show(&pg, done, j);
		hp_ctx_t ctx;
		job_ctx(&re, j, &ctx);
		const char *why = job_unavailable(&re, j, &ctx, why_buf, sizeof why_buf);
		size_t before = res.nst;
		if (why)
			set_status(&res, j, re.metric, HP_ST_UNAVAILABLE, 0, "%s", why);
		else if (re.metric == HP_METRIC_INSTRUCTIONS && j->threads > 1)
			set_status(&res, j, re.metric, HP_ST_SKIPPED, 0,
				   "instructions are counted with one thread; the thread sweep needs --metric time");
		else if (re.metric == HP_METRIC_INSTRUCTIONS)
			run_in_child(&re, j, &res, 1);
		else if (j->v->child_env)
			run_in_child(&re, j, &res, 0);
		else if (re.metric == HP_METRIC_PERF)
			run_perf_inproc(&re, j, &res);
		else
			run_time_inproc(&re, j, &res);
		for (size_t k = before; k < res.nst; k++)
			if (res.st[k].status == HP_ST_FAILED) {
				failed++;
				progress_end(&pg);
				fprintf(stderr, "hotpath: %s t=%d failed: %s\n", name, j->threads, res.st[k].message);
			}
		done++;
		snprintf(note, sizeof note, "Incomplete: %zu of %zu benchmarks done so far.", done, njobs);
		if (write_outputs(dir, &res, env, note) != 0) {
			progress_end(&pg);
			fprintf(stderr, "hotpath run: cannot write results in %s: %s\n", dir, strerror(errno));
			failed++;
			break;
		}
	}
	progress_end(&pg);

	/* final files */
	int interrupted = g_interrupted != 0;
	if (interrupted)
		snprintf(note, sizeof note, "Interrupted: %zu of %zu benchmarks finished; their results are complete, the rest did not run.",
			 done, njobs);
	else
		snprintf(note, sizeof note, "Complete: %zu benchmarks.", njobs);
	json_object_object_add(env, "status", json_object_new_string(interrupted ? "interrupted" : "complete"));
	json_object_object_add(env, "duration_s", json_object_new_double(now_s() - pg.t0));
	struct json_object *counts = json_object_new_object();
	int nby[4] = { 0 };
	for (size_t k = 0; k < res.nst; k++)
		nby[res.st[k].status]++;
	for (int k = 0; k < 4; k++)
		json_object_object_add(counts, hp_status_name((hp_status_kind_t)k), json_object_new_int(nby[k]));
	json_object_object_add(env, "benchmarks", counts);
	/* CPUs the threads actually ran on versus the ones asked for */
	for (size_t k = 0; k < res.nrec; k++) {
		char want[96];
		cpus_string(re.cpus, res.rec[k].threads, want, sizeof want);
		if (strcmp(res.rec[k].metric, "real_time") == 0 && strcmp(res.rec[k].cpus, want) != 0) {
			char m[256];
			snprintf(m, sizeof m, "%s/%s/%s: threads ran on CPUs %s, not %s as bound",
				 res.rec[k].suite, res.rec[k].case_, res.rec[k].variant, res.rec[k].cpus, want);
			env_warn(env, m);
			break;
		}
	}
	int plots = 0;
	if (!o->no_plots && !interrupted) {
		const char *why = hp_plot_unavailable();
		if (why) {
			char m[300];
			snprintf(m, sizeof m, "plots not drawn: %s", why);
			env_warn(env, m);
			if (!o->quiet)
				fprintf(stderr, "hotpath: %s\n", m);
		} else {
			plots = hp_plot_results(dir, &res, templates_dir(), err, sizeof err);
			if (plots < 0) {
				char m[1100];
				snprintf(m, sizeof m, "plots failed: %s", err);
				env_warn(env, m);
				fprintf(stderr, "hotpath: %s\n", m);
			}
		}
	}
	snprintf(path, sizeof path, "%s/env.json", dir);
	int wrc = hp_write_json_atomic(path, env);
	wrc |= write_outputs(dir, &res, env, note);
	if (wrc != 0) {
		fprintf(stderr, "hotpath run: cannot write results in %s: %s\n", dir, strerror(errno));
		failed++;
	}
	if (!o->quiet) {
		printf("hotpath: %s (%d ok, %d unavailable, %d skipped, %d failed)\n", note, nby[0], nby[1], nby[2], nby[3]);
		print_table(&res, stdout);
		for (size_t k = 0; k < res.nst; k++)
			if (res.st[k].status != HP_ST_OK)
				printf("  %s/%s/%s/%s t=%d: %s: %s\n", res.st[k].suite, res.st[k].case_,
				       res.st[k].variant, res.st[k].param, res.st[k].threads,
				       hp_status_name(res.st[k].status), res.st[k].message);
		if (plots > 0)
			printf("hotpath: %d plot(s) in %s/plots\n", plots, dir);
	}
	printf("%s\n", dir);
	fflush(stdout);
	json_object_put(env);
	hp_results_free(&res);
	free(jobs);
	hp_topo_free(re.topo);
	if (interrupted)
		return 130;
	return failed ? HP_EXIT_FAIL : HP_EXIT_OK;
}
