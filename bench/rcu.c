/* rcu.c — suite "rcu": RCU read sides in impl/rcu's flavours against
 * liburcu's flavours and the locks used instead of RCU.
 *
 * Cases read_side, read_scaling, read_mostly (with its update-fraction
 * sweep and plot), gp_latency (normal and expedited), call_rcu,
 * srcu_domains (SRCU only) and kfree_rcu (batched against one call_rcu per
 * object). Every variant runs the same
 * case code, rcu_case.h compiled once per variant (rcu_variant.c).
 * Documented in docs/suites/rcu.md.
 */
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hp.h"
#include "plot.h"
#include "rcu_bench.h"

#if defined(__SANITIZE_THREAD__)
#define RCU_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define RCU_TSAN 1
#endif
#endif
#ifndef RCU_TSAN
#define RCU_TSAN 0
#endif

#define VT(ctx) ((const hp_rcu_ops_t *)(ctx)->v->ops)

/* ------------------------------------------------------------------ */
/* Variants                                                            */
/* ------------------------------------------------------------------ */

static const char *rcu_available(const hp_ctx_t *ctx)
{
	/* liburcu's tables are weak references (rcu_baselines.h) */
	if (!ctx->v->ops)
		return "liburcu (this flavour) not found by pkg-config at build time";
#if RCU_TSAN
	/* its shared library is not instrumented and its accessors are volatile,
	 * not C11 atomics: TSan reports liburcu's own synchronisation */
	if (VT(ctx)->liburcu)
		return "liburcu is not ThreadSanitizer-aware: its variants are off in TSan builds";
#endif
	if (!strcmp(ctx->c->name, "gp_latency") && (ctx->p->value & HP_RCU_GP_EXP) && !VT(ctx)->has_exp)
		return "liburcu has no synchronize_rcu_expedited (one kind of grace period;"
		       " memb's and signal's already force the readers' barriers)";
	return NULL;
}

#define VARIANT(id, vname, k, table) \
	static const hp_variant_t id = { .name = vname, .kind = k, \
		.available = rcu_available, .ops = table }
VARIANT(v_qsbr, "qsbr", HP_KIND_IMPL, &hp_rcu_ops_impl_qsbr);
VARIANT(v_memb, "memb", HP_KIND_IMPL, &hp_rcu_ops_impl_memb);
VARIANT(v_preempt, "preempt", HP_KIND_IMPL, &hp_rcu_ops_impl_preempt);
VARIANT(v_srcu, "srcu", HP_KIND_IMPL, &hp_rcu_ops_impl_srcu);
VARIANT(v_urcu_qsbr, "urcu-qsbr", HP_KIND_BASELINE, &hp_rcu_ops_urcu_qsbr);
VARIANT(v_urcu_memb, "urcu-memb", HP_KIND_BASELINE, &hp_rcu_ops_urcu_memb);
VARIANT(v_urcu_signal, "urcu-signal", HP_KIND_BASELINE, &hp_rcu_ops_urcu_signal);
VARIANT(v_urcu_mb, "urcu-mb", HP_KIND_BASELINE, &hp_rcu_ops_urcu_mb);
VARIANT(v_urcu_bp, "urcu-bp", HP_KIND_BASELINE, &hp_rcu_ops_urcu_bp);
VARIANT(v_rwlock, "rwlock", HP_KIND_BASELINE, &hp_rcu_ops_rwlock);
VARIANT(v_mutex, "mutex", HP_KIND_BASELINE, &hp_rcu_ops_mutex);
VARIANT(v_seqlock, "seqlock", HP_KIND_BASELINE, &hp_rcu_ops_seqlock);
VARIANT(v_brlock, "brlock", HP_KIND_BASELINE, &hp_rcu_ops_brlock);
#undef VARIANT

static const hp_variant_t *const all_variants[] = {
	&v_qsbr, &v_memb, &v_preempt, &v_srcu, &v_urcu_qsbr, &v_urcu_memb, &v_urcu_signal, &v_urcu_mb, &v_urcu_bp,
	&v_rwlock, &v_mutex, &v_seqlock, &v_brlock, NULL,
};

/* Fewer variants where a quick run of the suite would otherwise take more
 * than a minute on a 2-CPU machine. read_side compares every read side;
 * read_scaling sets the impl flavours against the locks that do not scale
 * (and brlock, which does); read_mostly sets qsbr, memb and liburcu's memb
 * against rwlock and seqlock (preempt's update path is memb's; a mutex
 * serialises reads and updates alike, so the fraction hardly moves it:
 * read_scaling shows it); gp_latency and call_rcu compare the
 * grace-period machinery with liburcu's (preempt's call_rcu path is memb's,
 * only its grace period differs). */
static const hp_variant_t *const scaling_variants[] = {
	&v_qsbr, &v_memb, &v_preempt, &v_rwlock, &v_mutex, &v_brlock, NULL,
};

static const hp_variant_t *const mostly_variants[] = {
	&v_qsbr, &v_memb, &v_urcu_memb, &v_urcu_signal, &v_rwlock, &v_seqlock, NULL,
};

static const hp_variant_t *const gp_variants[] = {
	&v_qsbr, &v_memb, &v_preempt, &v_srcu, &v_urcu_qsbr, &v_urcu_memb, &v_urcu_signal, NULL,
};

static const hp_variant_t *const srcu_variants[] = { &v_srcu, NULL };

/* preempt's call_rcu and kfree_rcu paths are memb's */
static const hp_variant_t *const kfree_variants[] = { &v_qsbr, &v_memb, NULL };

static const hp_variant_t *const cb_variants[] = {
	&v_qsbr, &v_memb, &v_urcu_qsbr, &v_urcu_memb, &v_urcu_signal, NULL,
};

/* ------------------------------------------------------------------ */
/* Dispatch to the variant's compilation of the case                   */
/* ------------------------------------------------------------------ */

#define DISPATCH(c) \
	static void *c##_setup(hp_ctx_t *ctx) { return VT(ctx)->c.setup(ctx); } \
	static void c##_teardown(hp_ctx_t *ctx, void *d) { VT(ctx)->c.teardown(ctx, d); } \
	static void c##_run(hp_state_t *st, uint64_t n, hp_ctx_t *ctx) { VT(ctx)->c.run(st, n, ctx); }
DISPATCH(read_side)
DISPATCH(read_scaling)
DISPATCH(read_mostly)
DISPATCH(gp_latency)
DISPATCH(call_rcu)
DISPATCH(srcu_domains)
DISPATCH(kfree_rcu)
#undef DISPATCH

/* ------------------------------------------------------------------ */
/* Cases                                                               */
/* ------------------------------------------------------------------ */

static const hp_case_t c_read_side = {
	.name = "read_side",
	.desc = "rcu_read_lock + rcu_dereference + one load + rcu_read_unlock, one thread",
	.op_unit = "read",
	.setup = read_side_setup, .teardown = read_side_teardown, .run = read_side_run,
	.variants = all_variants,
};

static const hp_case_t c_read_scaling = {
	.name = "read_scaling",
	.desc = "hash-table lookups (64 buckets, 256 keys) by 1..N reader threads, no updater",
	.op_unit = "lookup",
	.thread_sweep = 1,
	.setup = read_scaling_setup, .teardown = read_scaling_teardown, .run = read_scaling_run,
	.variants = scaling_variants,
};

static const hp_param_t mostly_params[] = {
	{ .label = "upd", .value = HP_RCU_MODE_UPDATER },
	/* the update-fraction sweep, in parts per million of each thread's ops;
	 * the ends (0% and 50%) in every profile, 0.1%, 1% and 10% in
	 * --profile full (or with a --filter) only */
	{ .label = "0%", .value = 0 },
	{ .label = "0.1%", .value = 1000, .full_only = 1 },
	{ .label = "1%", .value = 10000, .full_only = 1 },
	{ .label = "10%", .value = 100000, .full_only = 1 },
	{ .label = "50%", .value = 500000 },
	{ .label = NULL },
};

static const hp_case_t c_read_mostly = {
	.name = "read_mostly",
	.desc = "hash table on all CPUs: readers + one updater (every 100 us), or 0-50% updates per thread",
	.op_unit = "op",
	.param_name = "updates",
	.params = mostly_params,
	.thread_sweep = HP_THREADS_ALL,
	.setup = read_mostly_setup, .teardown = read_mostly_teardown, .run = read_mostly_run,
	.variants = mostly_variants,
};

static const hp_param_t gp_params[] = {
	{ .label = "readers", .value = HP_RCU_GP_READERS, .min_cpus = 2 },
	{ .label = "readers_exp", .value = HP_RCU_GP_READERS | HP_RCU_GP_EXP, .min_cpus = 2 },
	{ .label = NULL },
};

static const hp_case_t c_gp_latency = {
	.name = "gp_latency",
	.desc = "synchronize_rcu (readers) or synchronize_rcu_expedited (readers_exp), a busy reader on every other CPU",
	.op_unit = "gp",
	.param_name = "readers",
	.params = gp_params,
	.setup = gp_latency_setup, .teardown = gp_latency_teardown, .run = gp_latency_run,
	.variants = gp_variants,
};

static const hp_case_t c_call_rcu = {
	.name = "call_rcu",
	.desc = "call_rcu throughput, callbacks invoked (rcu_barrier) within the timing",
	.op_unit = "callback",
	.setup = call_rcu_setup, .teardown = call_rcu_teardown, .run = call_rcu_run,
	.variants = cb_variants,
};

static const hp_param_t srcu_params[] = {
	{ .label = "idle", .value = 0 },
	{ .label = "blocked_other", .value = 1 },
	{ .label = NULL },
};

static const hp_case_t c_srcu_domains = {
	.name = "srcu_domains",
	.desc = "synchronize_srcu on one domain, alone or with a reader asleep inside each of 4 other domains",
	.op_unit = "gp",
	.param_name = "others",
	.params = srcu_params,
	.setup = srcu_domains_setup, .teardown = srcu_domains_teardown, .run = srcu_domains_run,
	.variants = srcu_variants,
};

static const hp_param_t kfree_params[] = {
	{ .label = "per_object", .value = 0 },
	{ .label = "batched", .value = 1 },
	{ .label = "sheaf", .value = 2 },
	{ .label = NULL },
};

static const hp_case_t c_kfree_rcu = {
	.name = "kfree_rcu",
	.desc = "free 64-byte objects after a grace period: malloc'd, one call_rcu each or kvfree_call_rcu (batched); "
		"sheaf: from a slab sheaves cache, freed through its rcu sheaf (another allocator: not equal work)",
	.op_unit = "object",
	.param_name = "retire",
	.params = kfree_params,
	.setup = kfree_rcu_setup, .teardown = kfree_rcu_teardown, .run = kfree_rcu_run,
	.variants = kfree_variants,
};

/* ------------------------------------------------------------------ */
/* Plot: operations per second against the update fraction            */
/* ------------------------------------------------------------------ */

/* The rcu variants in the order the results name them (the suite's run
 * order, which gives each its colour in the standard plots), and the
 * largest thread count read_mostly ran with. -1 when out of memory. */
static int rcu_order(const hp_bench_set_t *r, const char ***order, int *norder, int *maxthr)
{
	int cap = 0;

	*order = NULL;
	*norder = 0;
	*maxthr = 0;
	for (size_t i = 0; i < r->n; i++) {
		const hp_bench_vals_t *x = &r->b[i];
		int k;

		if (strcmp(x->suite, "rcu") || strcmp(x->metric, "real_time"))
			continue;
		for (k = 0; k < *norder && strcmp((*order)[k], x->variant); k++)
			;
		if (k == *norder) {
			if (*norder == cap) {
				const char **p = realloc(*order, (size_t)(cap = cap ? cap * 2 : 16) * sizeof(*p));

				if (!p)
					return -1;
				*order = p;
			}
			(*order)[(*norder)++] = x->variant;
		}
		if (!strcmp(x->case_, "read_mostly") && x->threads > *maxthr)
			*maxthr = x->threads;
	}
	return 0;
}

/* Repetitions of read_mostly's real_time per (variant, param) at maxthr. */
static int rcu_points(const hp_bench_set_t *r, int maxthr, hp_plot_pts_t *pts)
{
	for (size_t i = 0; i < r->n; i++) {
		const hp_bench_vals_t *x = &r->b[i];

		if (strcmp(x->suite, "rcu") || strcmp(x->case_, "read_mostly") ||
		    strcmp(x->metric, "real_time") || x->threads != maxthr)
			continue;
		for (size_t k = 0; k < x->n; k++)
			if (x->v[k] > 0 && hp_plot_pts_add(pts, x->variant, x->param, x->v[k]) != 0)
				return -1;
	}
	return 0;
}

/* The ranges the plot's settings are drawn from. */
typedef struct rcu_range {
	double lo, hi;          /* medians */
	double ymin, ymax;      /* whiskers */
} rcu_range_t;

/* One block per variant in `order`: x_index fraction ops_s_median min max.
 * Each variant's colour goes to colors, as in the suite's other plots (12
 * colours; a clash moves to the next free one until all 12 are taken).
 * Returns the blocks written. */
static int rcu_blocks(FILE *f, FILE *colors, const char **order, int norder, hp_plot_pts_t *pts,
		      int maxthr, rcu_range_t *rg)
{
	unsigned used = 0;
	int nvar = 0;

	for (int o = 0; o < norder; o++) {
		int any = 0;

		for (int p = 0, xi = -1; mostly_params[p].label; p++) {
			if (mostly_params[p].value < 0)
				continue;
			xi++;
			for (size_t k = 0; k < pts->n; k++) {
				if (strcmp(pts->p[k].variant, order[o]) || strcmp(pts->p[k].param, mostly_params[p].label))
					continue;
				double *v = pts->p[k].v, med, t = maxthr * 1e9;
				size_t n = pts->p[k].n;

				med = hp_median(v, n);    /* sorts v */
				if (!any) {
					fprintf(f, "%s\"%s\"\n", nvar ? "\n\n" : "", order[o]);
					int c = o % 12;

					if (used == 0xfff)
						used = 0;
					while (used & (1u << c))
						c = (c + 1) % 12;
					used |= 1u << c;
					fprintf(colors, "%s%d", nvar ? " " : "", c);
					nvar++;
					any = 1;
				}
				/* the slowest repetition gives the fewest ops/s */
				fprintf(f, "%d \"%s\" %.9g %.9g %.9g\n", xi, mostly_params[p].label,
					t / med, t / v[n - 1], t / v[0]);
				rg->ymin = fmin(rg->ymin, t / v[n - 1]);
				rg->ymax = fmax(rg->ymax, t / v[0]);
				rg->lo = fmin(rg->lo, t / med);
				rg->hi = fmax(rg->hi, t / med);
			}
		}
	}
	return nvar;
}

/* Writes rcu-read_mostly-updates.dat and draws it. */
static int rcu_draw(const char *plotdir, const char *tdir, const char *dat, size_t len,
		    int maxthr, int nvar, const char *colors, const rcu_range_t *rg,
		    char *err, size_t errlen)
{
	char path[4096], tmpl[4096], *gv;
	int rc;

	snprintf(path, sizeof path, "%s/rcu-read_mostly-updates.dat", plotdir);
	if (hp_write_atomic(path, dat, len) != 0) {
		snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
		return -1;
	}
	snprintf(tmpl, sizeof tmpl, "%s/rcu_update.gp", tdir);
	/* y range from the whiskers with a margin, not rounded out to decades */
	if (asprintf(&gv, "title='rcu read_mostly, %d threads'; nvar=%d; colors='%s'; logy=%d;"
		     " ymin=%.9g; ymax=%.9g", maxthr, nvar, colors, rg->lo > 0 && rg->hi / rg->lo > 30,
		     rg->ymin / 1.4 / 1e6, rg->ymax * 1.4 / 1e6) < 0) {
		snprintf(err, errlen, "rcu plot: out of memory");
		return -1;
	}
	rc = hp_plot_render(plotdir, "rcu-read_mostly-updates", tmpl, gv, err, errlen) < 0 ? -1 : 1;
	free(gv);
	return rc;
}

/* One line per variant (colour: its place in the suite's run order, as in
 * the standard plots), x = the sweep's params in their order (categorical:
 * 0% has no place on a log axis), y = threads * 1e9 / median ns per op. */
static int rcu_plot_updates(const char *plotdir, const hp_bench_set_t *r, const char *tdir,
			    char *err, size_t errlen)
{
	const char **order = NULL;
	hp_plot_pts_t pts = { 0 };
	rcu_range_t rg = { INFINITY, 0, INFINITY, 0 };
	int norder, nvar = 0, maxthr, rc = -1;
	char *buf = NULL, *colors = NULL;
	size_t len = 0, clen = 0;
	FILE *f = NULL, *fc = NULL;

	if (rcu_order(r, &order, &norder, &maxthr) != 0 || rcu_points(r, maxthr, &pts) != 0 ||
	    !(f = open_memstream(&buf, &len)) || !(fc = open_memstream(&colors, &clen)))
		goto oom;
	fprintf(f, "# hotpath rcu: read_mostly at %d threads, operations per second of all threads"
		" (threads * 1e9 / median ns per op) against each thread's update fraction\n", maxthr);
	fprintf(f, "# one block per variant: x_index fraction ops_s_median ops_s_min ops_s_max\n");
	nvar = rcu_blocks(f, fc, order, norder, &pts, maxthr, &rg);
	int bad = fclose(f) != 0 || !buf;

	bad |= fclose(fc) != 0 || !colors;
	f = fc = NULL;
	if (bad)
		goto oom;
	rc = nvar ? rcu_draw(plotdir, tdir, buf, len, maxthr, nvar, colors, &rg, err, errlen) : 0;
	goto out;
oom:
	snprintf(err, errlen, "out of memory");
out:
	if (f)
		fclose(f);
	if (fc)
		fclose(fc);
	free(buf);
	free(colors);
	free(order);
	hp_plot_pts_free(&pts);
	return rc;
}

static const hp_plot_fn rcu_plots[] = { rcu_plot_updates, NULL };

/* ------------------------------------------------------------------ */
/* Suite                                                               */
/* ------------------------------------------------------------------ */

const hp_suite_t hp_suite_rcu = {
	.name = "rcu",
	.desc = "RCU read sides, grace periods and call_rcu: impl flavours vs liburcu and locks",
	.doc = "docs/suites/rcu.md",
	.cases = (const hp_case_t *const[]){
		&c_read_side, &c_read_scaling, &c_read_mostly, &c_gp_latency, &c_call_rcu,
		&c_srcu_domains, &c_kfree_rcu, NULL,
	},
	.plots = rcu_plots,
};
