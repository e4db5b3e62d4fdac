/* backend_callgrind.c — instructions per operation, counted by callgrind,
 * and with --metric cache its cache simulator's misses per operation.
 * The parent starts the benchmark as `hotpath __child` under valgrind
 * (backend_child.c); in there hp_callgrind_count counts n and 2n
 * iterations into two dumps, and the parent takes the difference, so the
 * fixed cost of starting and stopping the count cancels out. Cache misses
 * (--metric cache) are the 2n run's misses over 2n: a difference of misses
 * can go below zero (the few misses of starting a count depend on what the
 * run before left in the simulated caches), so they are taken whole, with
 * those few misses spread over 2n operations (docs/metrics.md). */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hp_config.h"
#include "hp_time.h"
#include "backend.h"
#include "metrics.h"

static void cg_pause(hp_state_t *st) { (void)st; hp_cg_pause(); }
static void cg_resume(hp_state_t *st) { (void)st; hp_cg_resume(); }

static const hp_state_ops_t cg_ops = {
	.pause = cg_pause, .resume = cg_resume, .set_iteration_time = hp_nop_time,
	.counter = hp_nop_counter, .skip = hp_drop_skip,
};

/* In the valgrind child: warm up (lazy binding, first touch), then count. */
int hp_callgrind_count(const hp_runenv_t *re, const hp_job_t *j, char *msg, size_t len)
{
	hp_ctx_t ctx;
	hp_job_ctx(re, j, &ctx);
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
	hp_state_t st = { .ops = &hp_nop_ops, .threads = 1 };
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

/* The dump folder holds only callgrind's flat files. */
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

/* --metric cache: callgrind's events summed into the CSV metrics. */
#define CG_NEV 7
static const char *const cg_events[CG_NEV] = { "Ir", "I1mr", "D1mr", "D1mw", "ILmr", "DLmr", "DLmw" };

static int read_cache(const char *path, uint64_t v[CG_NEV], char *err, size_t errlen)
{
	return hp_cg_read_events(path, cg_events, CG_NEV, v, err, errlen);
}

/* The cache run's counts: instructions, and I1, D1 (read + write) and LL
 * (instruction + data) misses, per operation. */
static void record_cache(const hp_runenv_t *re, const hp_job_t *j, const char *p1, const char *p2,
			 double secs, hp_results_t *out)
{
	uint64_t a[CG_NEV], b[CG_NEV];
	char e1[256] = "", e2[256] = "", cpu[16];
	double n = (double)re->prof->count_iters, d[CG_NEV];
	const char *unit = hp_job_op_unit(j);

	if (read_cache(p1, a, e1, sizeof e1) != 0 || read_cache(p2, b, e2, sizeof e2) != 0) {
		hp_set_status(out, j, re->metric, HP_ST_FAILED, secs, "callgrind output: %s%s", e1, e2);
		return;
	}
	d[0] = ((double)b[0] - (double)a[0]) / n;
	for (int k = 1; k < CG_NEV; k++)
		d[k] = (double)b[k] / (2 * n);
	snprintf(cpu, sizeof cpu, "%d", re->cpus[0]);
	hp_emit(out, j, cpu, "cache_d1_misses", "misses", unit, 0, d[2] + d[3]);
	hp_emit(out, j, cpu, "cache_i1_misses", "misses", unit, 0, d[1]);
	hp_emit(out, j, cpu, "cache_ll_misses", "misses", unit, 0, d[4] + d[5] + d[6]);
	hp_emit(out, j, cpu, "instructions", "instr", unit, 0, d[0]);
	hp_emit(out, j, cpu, "iterations", "iters", NULL, 0, n);
	hp_set_status(out, j, re->metric, HP_ST_OK, secs, NULL);
}

/* The child reported ok: read its two dumps and record the difference. */
static void record_counts(const hp_runenv_t *re, const hp_job_t *j, const char *cgdir, int pid,
			  double secs, hp_results_t *out)
{
	char p1[PATH_MAX], p2[PATH_MAX], e1[256] = "", e2[256] = "";
	uint64_t i1 = 0, i2 = 0;
	snprintf(p1, sizeof p1, "%s/cg.%d.1", cgdir, pid);
	snprintf(p2, sizeof p2, "%s/cg.%d.2", cgdir, pid);
	if (re->metric == HP_METRIC_CACHE) {
		record_cache(re, j, p1, p2, secs, out);
		return;
	}
	if (hp_cg_read_total(p1, &i1, e1, sizeof e1) != 0 ||
	    hp_cg_read_total(p2, &i2, e2, sizeof e2) != 0) {
		hp_set_status(out, j, re->metric, HP_ST_FAILED, secs, "callgrind output: %s%s", e1, e2);
		return;
	}
	double n = (double)re->prof->count_iters;
	char cpu[16];
	snprintf(cpu, sizeof cpu, "%d", re->cpus[0]);
	hp_emit(out, j, cpu, "instructions", "instr", hp_job_op_unit(j), 0, ((double)i2 - (double)i1) / n);
	hp_emit(out, j, cpu, "iterations", "iters", NULL, 0, n);
	hp_set_status(out, j, re->metric, HP_ST_OK, secs, NULL);
}

void hp_backend_callgrind(const hp_runenv_t *re, const hp_job_t *j, hp_results_t *out)
{
	double t0 = hp_mono_s();
	char cgdir[] = "/tmp/hotpath-cg-XXXXXX", cgout[PATH_MAX];
	if (!mkdtemp(cgdir)) {
		hp_set_status(out, j, re->metric, HP_ST_FAILED, 0, "mkdtemp: %s", strerror(errno));
		return;
	}
	snprintf(cgout, sizeof cgout, "--callgrind-out-file=%s/cg.%%p", cgdir);
	const char *wrapper[12] = {
		HP_VALGRIND, "--tool=callgrind", "-q", "--collect-atstart=no",
		"--instr-atstart=yes", cgout, NULL,
	};
	char geo[HP_NCACHES][96];
	if (re->metric == HP_METRIC_CACHE)
		hp_topo_cachesim_args(re->topo, re->cpus[0], wrapper + 6, geo);
	hp_results_t got;
	hp_results_init(&got);
	int pid, ws;
	/* hwloc's x86 backend cannot run under valgrind and says so on stderr;
	 * the Linux backend gives the same topology */
	int nst = hp_child_spawn(re, j, wrapper, "HWLOC_COMPONENTS=-x86", &got, &pid, &ws, out);
	if (nst >= 0) {
		double secs = hp_mono_s() - t0;
		for (size_t i = 0; i < got.nrec; i++)
			hp_results_add(out, &got.rec[i]);
		if (!hp_child_ended_badly(re, j, nst, ws, secs, out)) {
			if (got.st[0].status != HP_ST_OK)
				hp_results_add_status(out, &got.st[0]);
			else
				record_counts(re, j, cgdir, pid, secs, out);
		}
	}
	rm_rf_flat(cgdir);
	hp_results_free(&got);
}
