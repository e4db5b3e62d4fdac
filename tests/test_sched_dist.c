/* test_sched_dist.c — predictions as distributions (impl/sched/sim_dist.h): the summary's arithmetic on known samples, the seeds loop against runs made one seed at a time, determinism for the same seed list, the tick phase drawn from the seed, bad seed counts, and the policy the running kernel maps to. */
#include <math.h>
#include <string.h>
#include <sys/utsname.h>

#include "sim.h"
#include "sim_dist.h"
#include "sim_hist.h"
#include "t_util.h"

static int near(double a, double b)
{
	return fabs(a - b) < 1e-9 * (1 + fabs(b));
}

static void test_arithmetic(void)
{
	double a[] = { 5, 1, 4, 2, 3 }, b[] = { 40, 10, 30, 20 }, c[] = { 7 };
	hp_dist_t d;

	/* linear interpolation between closest ranks: h = (n - 1) q */
	hp_dist_of(a, 5, &d);
	T_CHECK_MSG(d.n == 5 && near(d.median, 3) && near(d.lo, 1.1) && near(d.hi, 4.9),
		    "{1..5}: median %g lo %g hi %g", d.median, d.lo, d.hi);
	T_CHECK(a[0] == 1 && a[4] == 5); /* sorted in place */
	hp_dist_of(b, 4, &d);
	T_CHECK_MSG(near(d.median, 25) && near(d.lo, 10.75) && near(d.hi, 39.25),
		    "{10,20,30,40}: median %g lo %g hi %g", d.median, d.lo, d.hi);
	hp_dist_of(c, 1, &d);
	T_CHECK(d.n == 1 && d.median == 7 && d.lo == 7 && d.hi == 7);
	hp_dist_of(c, 0, &d);
	T_CHECK(d.n == 0 && isnan(d.median) && isnan(d.lo) && isnan(d.hi));
	double s[] = { 0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100 };
	T_CHECK(near(hp_dist_quantile(s, 11, 0.5), 50) && near(hp_dist_quantile(s, 11, 0.95), 95) &&
		near(hp_dist_quantile(s, 11, 0), 0) && near(hp_dist_quantile(s, 11, 1), 100));
	T_CHECK(!strcmp(hp_sim_metric_name(HP_SIM_M_P99), "p99_ns") && hp_sim_metric_pct(HP_SIM_M_P90) == 90 &&
		hp_sim_metric_pct(HP_SIM_M_SHARE) == -1);
}

/* Two hogs and a task that works 1.5 ms every 6 ms: its latencies depend on
 * where the ticks fall, which the seed decides. */
static const char scn_json[] =
	"{\"global\": {\"duration\": 2}, \"tasks\": {"
	" \"hog\": {\"instance\": 2, \"run\": 100000},"
	" \"burst\": {\"runtime\": 1500, \"timer\": {\"ref\": \"unique\", \"period\": 6000}}}}";

static int same_dist(const hp_dist_t *x, const hp_dist_t *y)
{
	return x->n == y->n && (x->n == 0 || (x->median == y->median && x->lo == y->lo && x->hi == y->hi));
}

static void test_seeds(void)
{
	char err[512];
	hp_scn_t *scn = hp_scn_parse(scn_json, "burst", err, sizeof err);
	hp_sim_opts_t o;
	hp_sim_dist_t d1, d2;
	enum { K = 7 };

	T_CHECK_MSG(scn != NULL, "%s", err);
	if (!scn)
		return;
	hp_sim_opts_default(&o);
	o.scale_cpus = 2;
	o.seed = 11;
	for (int p = 0; p < HP_SCHED_NPOLICIES; p++) {
		o.policy = (hp_sched_policy_t)p;
		T_CHECK(hp_sim_run_seeds(scn, &o, K, &d1, err, sizeof err) == 0);
		T_CHECK(hp_sim_run_seeds(scn, &o, K, &d2, err, sizeof err) == 0);
		T_CHECK(d1.ntasks == 3 && d1.nseeds == K && d1.first_seed == 11 && !strcmp(d1.task[2].name, "burst"));
		/* the same seed list, the same distribution */
		for (int i = 0; i < d1.ntasks; i++)
			for (int m = 0; m < HP_SIM_NMETRICS; m++)
				T_CHECK_MSG(same_dist(&d1.task[i].m[m], &d2.task[i].m[m]), "%s: task %d metric %s differs",
					    hp_sched_policy_name(o.policy), i, hp_sim_metric_name(m));
		/* the loop runs seeds 11..17: summarise them by hand */
		double p99[K], share[K];
		int np = 0;

		for (int k = 0; k < K; k++) {
			hp_sim_opts_t one = o;
			hp_sim_res_t r;

			one.seed = o.seed + (uint64_t)k;
			T_CHECK(hp_sim_run(scn, &one, &r, err, sizeof err) == 0);
			share[k] = r.task[2].share;
			if (r.task[2].wakeup_p99_ns >= 0)
				p99[np++] = (double)r.task[2].wakeup_p99_ns;
			hp_sim_res_free(&r);
		}
		hp_dist_t hs, hp;
		hp_dist_of(share, K, &hs);
		hp_dist_of(p99, (size_t)np, &hp);
		T_CHECK_MSG(same_dist(&hs, &d1.task[2].m[HP_SIM_M_SHARE]) && same_dist(&hp, &d1.task[2].m[HP_SIM_M_P99]),
			    "%s: the seeds loop is not the summary of seeds 11..17", hp_sched_policy_name(o.policy));
		/* under EEVDF the task waits for slices to end at ticks: the tick's
		 * phase (from the seed) spreads its p50 over the seeds */
		if (p >= HP_SCHED_EEVDF_6_12)
			T_CHECK_MSG(d1.task[2].m[HP_SIM_M_P50].hi > d1.task[2].m[HP_SIM_M_P50].lo,
				    "%s: p50 the same for every seed", hp_sched_policy_name(o.policy));
		printf("%-10s burst p50 %.0f [%.0f, %.0f] p99 %.0f [%.0f, %.0f] ns, share %.4f\n",
		       hp_sched_policy_name(o.policy), d1.task[2].m[HP_SIM_M_P50].median, d1.task[2].m[HP_SIM_M_P50].lo,
		       d1.task[2].m[HP_SIM_M_P50].hi, d1.task[2].m[HP_SIM_M_P99].median, d1.task[2].m[HP_SIM_M_P99].lo,
		       d1.task[2].m[HP_SIM_M_P99].hi, d1.task[2].m[HP_SIM_M_SHARE].median);
		hp_sim_dist_free(&d1);
		hp_sim_dist_free(&d2);
	}
	/* bad seed counts name the value and the valid range */
	err[0] = 0;
	T_CHECK(hp_sim_run_seeds(scn, &o, 0, &d1, err, sizeof err) == -1 && strstr(err, "0 seeds (valid: 1..10000)"));
	T_CHECK(hp_sim_run_seeds(scn, &o, HP_SIM_MAX_SEEDS + 1, &d1, err, sizeof err) == -1);
	hp_scn_free(scn);
}

/* The migrations metric (the fidelity case's 2-CPU points use it): three
 * hogs on two CPUs, the seeds loop against seed-by-seed runs summarised by
 * hand, and balancing does move them (a median of 0 would mean the metric
 * reads the wrong field). */
static void test_migrations(void)
{
	static const char hogs[] = "{\"global\": {\"duration\": 2}, \"tasks\": {\"hog\":"
				   " {\"instance\": 3, \"run\": 100000}}}";
	char err[512];
	hp_scn_t *scn = hp_scn_parse(hogs, "hogs", err, sizeof err);
	hp_sim_opts_t o;
	hp_sim_dist_t d;
	enum { K = 5 };
	double mig[K];

	T_CHECK_MSG(scn != NULL, "%s", err);
	if (!scn)
		return;
	hp_sim_opts_default(&o);
	o.ncpus = 2;
	o.seed = 3;
	T_CHECK(hp_sim_run_seeds(scn, &o, K, &d, err, sizeof err) == 0);
	for (int i = 0; i < 3; i++) {
		hp_dist_t h;

		for (int k = 0; k < K; k++) {
			hp_sim_opts_t one = o;
			hp_sim_res_t r;

			one.seed = o.seed + (uint64_t)k;
			T_CHECK(hp_sim_run(scn, &one, &r, err, sizeof err) == 0);
			mig[k] = (double)r.task[i].migrations;
			hp_sim_res_free(&r);
		}
		hp_dist_of(mig, K, &h);
		T_CHECK_MSG(same_dist(&h, &d.task[i].m[HP_SIM_M_MIGRATIONS]), "hog %d: migrations %g, by hand %g", i,
			    d.task[i].m[HP_SIM_M_MIGRATIONS].median, h.median);
	}
	T_CHECK(d.task[0].m[HP_SIM_M_MIGRATIONS].hi + d.task[1].m[HP_SIM_M_MIGRATIONS].hi +
		d.task[2].m[HP_SIM_M_MIGRATIONS].hi > 0);
	T_CHECK(!strcmp(hp_sim_metric_name(HP_SIM_M_MIGRATIONS), "migrations"));
	hp_sim_dist_free(&d);
	hp_scn_free(scn);
}

static void test_auto(void)
{
	struct utsname u;
	hp_sched_policy_t a, b;
	char rel[256];

	T_CHECK(uname(&u) == 0);
	T_CHECK(hp_sched_policy_auto(&a, rel, sizeof rel) == 0 && !strcmp(rel, u.release));
	T_CHECK(hp_sched_policy_for_release(u.release, &b) == 0 && a == b);
	printf("running kernel %s: --policy auto is %s\n", rel, hp_sched_policy_name(a));
}

int main(void)
{
	test_arithmetic();
	test_seeds();
	test_migrations();
	test_auto();
	return t_done("test_sched_dist");
}
