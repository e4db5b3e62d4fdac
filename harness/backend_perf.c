/* backend_perf.c — hardware counters (perf_event_open) read around n
 * iterations in this process, one thread, per repetition. */
#include <stdio.h>

#include "hp_time.h"
#include "backend.h"
#include "metrics.h"

static void pf_pause(hp_state_t *st) { hp_perf_disable(st->backend); }
static void pf_resume(hp_state_t *st) { hp_perf_enable(st->backend); }

static const hp_state_ops_t perf_ops = {
	.pause = pf_pause, .resume = pf_resume, .set_iteration_time = hp_nop_time,
	.counter = hp_nop_counter, .skip = hp_drop_skip,
};

/* The repetitions, n iterations each; 0 or -1 with the status set. */
static int perf_reps(const hp_runenv_t *re, const hp_job_t *j, hp_ctx_t *ctx, hp_perf_t *pf,
		     uint64_t n, double t0, hp_results_t *out)
{
	char cpus[32];
	snprintf(cpus, sizeof cpus, "%d", hp_topo_last_cpu(re->topo));
	const char *op = hp_job_op_unit(j);
	for (int rep = 0; rep < re->reps; rep++) {
		uint64_t v[HP_PERF_NEVENTS];
		hp_state_t st = { .ops = &perf_ops, .backend = pf, .threads = 1 };
		hp_perf_reset(pf);
		hp_perf_enable(pf);
		j->c->run(&st, n, ctx);
		hp_perf_disable(pf);
		if (st.skipped || hp_perf_read(pf, v) != 0) {
			hp_set_status(out, j, re->metric, HP_ST_FAILED, hp_mono_s() - t0, "%s",
				      st.skipped ? "the case skipped itself" : "reading the counters failed");
			return -1;
		}
		for (int e = 0; e < HP_PERF_NEVENTS; e++)
			hp_emit(out, j, cpus, hp_perf_event_names[e], hp_perf_event_units[e], op, rep,
				(double)v[e] / (double)n);
		hp_emit(out, j, cpus, "iterations", "iters", NULL, rep, (double)n);
	}
	return 0;
}

void hp_backend_perf(const hp_runenv_t *re, const hp_job_t *j, hp_results_t *out)
{
	hp_ctx_t ctx;
	hp_job_ctx(re, j, &ctx);
	double t0 = hp_mono_s();
	char err[256];
	if (j->threads != 1) {
		hp_set_status(out, j, re->metric, HP_ST_SKIPPED, 0,
			      "hardware counters are read with one thread; run --metric time for the sweep");
		return;
	}
	if (hp_topo_bind_thread(re->topo, re->cpus[0], err, sizeof err) != 0) {
		hp_set_status(out, j, re->metric, HP_ST_FAILED, 0, "cannot bind to CPU %d: %s", re->cpus[0], err);
		return;
	}
	hp_perf_t pf;
	if (hp_perf_open(&pf, err, sizeof err) != 0) {
		hp_set_status(out, j, re->metric, HP_ST_UNAVAILABLE, 0, "%s", err);
		return;
	}
	if (j->c->setup && !(ctx.data = j->c->setup(&ctx))) {
		hp_perf_close(&pf);
		hp_set_status(out, j, re->metric, HP_ST_FAILED, 0, "setup failed");
		return;
	}
	/* the warm-up also finds n: about one minimum time's worth */
	uint64_t n = 1;
	double wt = re->prof->min_time_s > re->prof->warmup_s ? re->prof->min_time_s : re->prof->warmup_s;
	if (hp_warm_up(j, &ctx, wt, &n, err, sizeof err) != 0)
		hp_set_status(out, j, re->metric, HP_ST_SKIPPED, hp_mono_s() - t0, "%s", err);
	else if (perf_reps(re, j, &ctx, &pf, n, t0, out) == 0)
		hp_set_status(out, j, re->metric, HP_ST_OK, hp_mono_s() - t0, NULL);
	if (j->c->teardown)
		j->c->teardown(&ctx, ctx.data);
	hp_perf_close(&pf);
}
