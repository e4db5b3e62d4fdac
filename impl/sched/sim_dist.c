/* sim_dist.c — the simulator over a list of seeds, and the median and 95% interval of each task's metrics. */
#include "sim_dist.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sim_hist.h"

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

double hp_dist_quantile(const double *sorted, size_t n, double q)
{
	double h, f;
	size_t i;

	if (!n)
		return NAN;
	if (q <= 0)
		return sorted[0];
	if (q >= 1)
		return sorted[n - 1];
	h = (double)(n - 1) * q;
	f = floor(h);
	i = (size_t)f;
	if (i + 1 >= n)
		return sorted[n - 1];
	return sorted[i] + (h - f) * (sorted[i + 1] - sorted[i]);
}

void hp_dist_of(double *v, size_t n, hp_dist_t *d)
{
	if (n)
		qsort(v, n, sizeof(*v), cmp_double);
	d->n = (int)n;
	d->median = hp_dist_quantile(v, n, 0.5);
	d->lo = hp_dist_quantile(v, n, 0.025);
	d->hi = hp_dist_quantile(v, n, 0.975);
}

static const struct { const char *name; int pct; } metrics[HP_SIM_NMETRICS] = {
	[HP_SIM_M_P10] = { "p10_ns", 10 }, [HP_SIM_M_P25] = { "p25_ns", 25 },
	[HP_SIM_M_P50] = { "p50_ns", 50 }, [HP_SIM_M_P75] = { "p75_ns", 75 },
	[HP_SIM_M_P90] = { "p90_ns", 90 }, [HP_SIM_M_P99] = { "p99_ns", 99 },
	[HP_SIM_M_SHARE] = { "share", -1 }, [HP_SIM_M_SWITCHES] = { "switches", -1 },
	[HP_SIM_M_MIGRATIONS] = { "migrations", -1 },
};

const char *hp_sim_metric_name(int m)
{
	return m >= 0 && m < HP_SIM_NMETRICS ? metrics[m].name : "?";
}

int hp_sim_metric_pct(int m)
{
	return m >= 0 && m < HP_SIM_NMETRICS ? metrics[m].pct : -1;
}

/* One seed's value of metric m for task q; NAN when it has none (no
 * wake-up in the window). */
static double metric_of(const hp_sim_task_res_t *q, int m)
{
	int64_t v;

	switch (m) {
	case HP_SIM_M_SHARE:
		return q->share;
	case HP_SIM_M_SWITCHES:
		return (double)q->switches;
	case HP_SIM_M_MIGRATIONS:
		return (double)q->migrations;
	case HP_SIM_M_P50:
		v = q->wakeup_p50_ns;
		break;
	case HP_SIM_M_P90:
		v = q->wakeup_p90_ns;
		break;
	case HP_SIM_M_P99:
		v = q->wakeup_p99_ns;
		break;
	default:
		v = hp_hist_pct(&q->lat, (unsigned)metrics[m].pct);
		break;
	}
	return v < 0 ? NAN : (double)v;
}

int hp_sim_run_seeds(const hp_scn_t *s, const hp_sim_opts_t *o, int nseeds, hp_sim_dist_t *d, char *err,
		     size_t errlen)
{
	hp_sim_opts_t oo = *o;
	double *vals = NULL;
	int nt = hp_scn_nthreads(s), rc = 0;

	memset(d, 0, sizeof(*d));
	if (nseeds < 1 || nseeds > HP_SIM_MAX_SEEDS) {
		snprintf(err, errlen, "%d seeds (valid: 1..%d)", nseeds, HP_SIM_MAX_SEEDS);
		return -1;
	}
	oo.trace = NULL;
	d->ntasks = nt;
	d->nseeds = nseeds;
	d->first_seed = o->seed;
	d->task = calloc((size_t)nt, sizeof(*d->task));
	/* every task's every metric for every seed: [task][metric][seed] */
	vals = malloc((size_t)nt * HP_SIM_NMETRICS * (size_t)nseeds * sizeof(*vals));
	if (!d->task || !vals) {
		snprintf(err, errlen, "out of memory");
		rc = -2;
		goto out;
	}
	for (int k = 0; k < nseeds; k++) {
		hp_sim_res_t r;

		oo.seed = o->seed + (uint64_t)k;
		rc = hp_sim_run(s, &oo, &r, err, errlen);
		if (rc)
			goto out;
		for (int i = 0; i < nt; i++) {
			if (k == 0) {
				snprintf(d->task[i].name, sizeof d->task[i].name, "%s", r.task[i].name);
				d->task[i].nice = r.task[i].nice;
			}
			for (int m = 0; m < HP_SIM_NMETRICS; m++)
				vals[((size_t)i * HP_SIM_NMETRICS + (size_t)m) * (size_t)nseeds + (size_t)k] =
					metric_of(&r.task[i], m);
		}
		hp_sim_res_free(&r);
	}
	for (int i = 0; i < nt; i++)
		for (int m = 0; m < HP_SIM_NMETRICS; m++) {
			double *v = vals + ((size_t)i * HP_SIM_NMETRICS + (size_t)m) * (size_t)nseeds;
			size_t n = 0;

			/* drop the seeds without a value, keep the order */
			for (int k = 0; k < nseeds; k++)
				if (!isnan(v[k]))
					v[n++] = v[k];
			hp_dist_of(v, n, &d->task[i].m[m]);
		}
out:
	free(vals);
	if (rc)
		hp_sim_dist_free(d);
	return rc;
}

void hp_sim_dist_free(hp_sim_dist_t *d)
{
	free(d->task);
	memset(d, 0, sizeof(*d));
}

static void num(FILE *f, double v, int is_share)
{
	if (isnan(v))
		fputc(',', f);
	else if (is_share)
		fprintf(f, ",%.6f", v);
	else
		fprintf(f, ",%.0f", v);
}

void hp_sim_write_dist_csv(FILE *f, const hp_sim_dist_t *d, const hp_sim_opts_t *o)
{
	static const int shown[] = { HP_SIM_M_P50, HP_SIM_M_P90, HP_SIM_M_P99, HP_SIM_M_SHARE, HP_SIM_M_SWITCHES };

	fputs("task,metric,median,lo95,hi95,n\n", f);
	for (int i = 0; i < d->ntasks; i++)
		for (size_t j = 0; j < sizeof shown / sizeof shown[0]; j++) {
			const hp_dist_t *x = &d->task[i].m[shown[j]];
			int is_share = shown[j] == HP_SIM_M_SHARE;

			fprintf(f, "%s,%s", d->task[i].name, hp_sim_metric_name(shown[j]));
			num(f, x->median, is_share);
			num(f, x->lo, is_share);
			num(f, x->hi, is_share);
			fprintf(f, ",%d\n", x->n);
		}
	fprintf(f, "# policy=%s seeds=%" PRIu64 "..%" PRIu64 " (%d) cpus=%d hz=%d interval=central 95%% of the"
		" per-seed values\n", hp_sched_policy_name(o->policy), d->first_seed,
		d->first_seed + (uint64_t)d->nseeds - 1, d->nseeds, o->ncpus, o->hz);
}
