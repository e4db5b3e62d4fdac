/* backend_gbench.c — time per operation, measured in this process by
 * Google Benchmark (through the C wrapper gbench.h), threads pinned. */
#include <string.h>

#include "hp_time.h"
#include "backend.h"
#include "gbench.h"
#include "env.h"
#include "metrics.h"

typedef struct gbrun {
	const hp_runenv_t *re;
	const hp_job_t *j;
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

static void gb_report(const hp_gb_run_t *run, void *arg)
{
	gbrun_t *g = arg;
	const hp_job_t *j = g->j;
	if (run->skipped) {
		g->skipped = 1;
		hp_strlcpy(g->skip_msg, run->skip_message, sizeof g->skip_msg);
		return;
	}
	char cpus[sizeof ((hp_record_t *)0)->cpus];
	hp_cpus_string(g->actual_cpu, j->threads, cpus, sizeof cpus);   /* fits: checked at run start */
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
	const char *op = hp_job_op_unit(j);
	hp_emit(g->out, j, cpus, "real_time", "ns", op, rep, real);
	hp_emit(g->out, j, cpus, "cpu_time", "ns", op, rep, run->cpu_time_ns);
	for (int i = 0; i < run->ncounters; i++) {
		const hp_gb_counter_val_t *c = &run->counters[i];
		if (strcmp(c->name, "hp_tsc") == 0)
			tsc = c->value;
		else if (strcmp(c->name, "hp_items") == 0)
			items = c->value;
		else
			hp_emit(g->out, j, cpus, c->name, c->name, NULL, rep, c->value);
	}
	/* hp_tsc: one thread's ticks (averaged over threads) */
	if (!j->c->manual_time && hp_tsc_invariant() && iters > 0)
		hp_emit(g->out, j, cpus, "tsc_cycles", "cycles", op, rep, tsc / iters);
	if (items > 0 && iters_total > 0 && j->c->item_unit) {
		/* hp_items: summed over threads */
		double per_iter = items / iters_total;
		hp_emit(g->out, j, cpus, "real_time_per_item", "ns", j->c->item_unit, rep, real / per_iter);
	}
	hp_emit(g->out, j, cpus, "iterations", "iters", NULL, rep, iters);
	g->nreported++;
}

/* Setup and warm-up run on the first measured CPU, so memory is first
 * touched on its NUMA node. Returns 0, or -1 with the status set. */
static int gb_prepare(gbrun_t *g, double t0)
{
	const hp_runenv_t *re = g->re;
	const hp_job_t *j = g->j;
	char err[256];
	if (hp_topo_bind_thread(re->topo, re->cpus[0], err, sizeof err) != 0) {
		hp_set_status(g->out, j, re->metric, HP_ST_FAILED, 0, "cannot bind to CPU %d: %s",
			      re->cpus[0], err);
		return -1;
	}
	if (j->c->setup) {
		g->ctx.data = j->c->setup(&g->ctx);
		if (!g->ctx.data) {
			hp_set_status(g->out, j, re->metric, HP_ST_FAILED, hp_mono_s() - t0, "setup failed");
			return -1;
		}
	}
	if (re->prof->warmup_s > 0 &&
	    hp_warm_up(j, &g->ctx, re->prof->warmup_s, NULL, err, sizeof err) != 0) {
		if (j->c->teardown)
			j->c->teardown(&g->ctx, g->ctx.data);
		hp_set_status(g->out, j, re->metric, HP_ST_SKIPPED, hp_mono_s() - t0, "%s", err);
		return -1;
	}
	return 0;
}

void hp_backend_gbench(const hp_runenv_t *re, const hp_job_t *j, hp_results_t *out)
{
	gbrun_t g;
	memset(&g, 0, sizeof g);
	g.re = re;
	g.j = j;
	g.out = out;
	hp_job_ctx(re, j, &g.ctx);
	double t0 = hp_mono_s();
	if (gb_prepare(&g, t0) != 0)
		return;
	char name[HP_JOB_NAME_MAX];
	hp_job_name(j, name, sizeof name);   /* fits: the planner checked */
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
	double secs = hp_mono_s() - t0;
	if (g.skipped)
		hp_set_status(out, j, re->metric, HP_ST_SKIPPED, secs, "%s", g.skip_msg);
	else if (g.nreported != re->reps)
		hp_set_status(out, j, re->metric, HP_ST_FAILED, secs, "%d of %d repetitions reported",
			      g.nreported, re->reps);
	else
		hp_set_status(out, j, re->metric, HP_ST_OK, secs, NULL);
}
