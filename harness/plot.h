/* plot.h — draws the plots of a results folder with gnuplot.
 *
 * Per suite: a bar chart of the primary metric per op by case (x) and
 * variant (bars) with min–max whiskers, log scale when values span more
 * than two decades; per case with a thread sweep: throughput (ops/s, all
 * threads) against threads, one line per variant. Each plot in SVG, PNG and
 * PDF under DIR/plots/, with its data file (.dat) beside it. Templates are
 * scripts/bars.gp and scripts/threads.gp.
 *
 * Files under DIR/plots/, each as .svg, .png, .pdf and .dat:
 *   <suite>-bars          cases with at most 3 params, x = case (and param),
 *                         threads == 1 (or the fewest threads it ran with)
 *   <suite>-<case>-bars   a case with more than 3 params (e.g. 11 page
 *                         orders), x = param: it would crowd the overview
 *   <suite>-<case>-threads  a case with rows at threads > 1, time runs only
 *                         (instruction counts give no throughput)
 * The primary metric is real_time, else cache_d1_misses, else
 * instructions, else perf_cycles (per suite). A variant keeps its colour (its place in the suite's run order)
 * in every plot of the suite. Images are drawn to <name>.tmp.<ext> and
 * renamed, so none is ever half-written. gnuplot is HP_GNUPLOT from
 * hp_config.h, or the environment variable HP_GNUPLOT.
 */
#ifndef HP_PLOT_H
#define HP_PLOT_H

#include <stddef.h>
#include "hp.h"
#include "record.h"

/* NULL when gnuplot with svg, pngcairo and pdfcairo terminals is usable,
 * else a reason ("gnuplot not found in PATH"). Checked once per gnuplot
 * program and cached. */
const char *hp_plot_unavailable(void);
/* Draws all plots of `r` into dir/plots: the standard ones, then each
 * suite's own (hp_suite_t.plots) for the suites of `suites` (a
 * NULL-terminated table, e.g. hp_suites) that have records in `r`. The
 * table also names each case's parameter axis (hp_case_t.param_name) for
 * the x label of its own bar chart; a suite or case it lacks gets "param".
 * `suites` may be NULL. Returns the number of plots drawn, or -1 with err
 * (gnuplot's own message when it failed). `templates` is the folder of the
 * .gp files; NULL means $HP_TEMPLATES, else the source tree's scripts/. */
int hp_plot_results(const char *dir, const hp_results_t *r, const hp_suite_t *const *suites,
		    const char *templates, char *err, size_t errlen);
/* The same from each benchmark's values (HP_BSET_ALL, record.h): what
 * `hotpath plot DIR` streams results.csv into, so its memory grows with
 * the benchmarks and their values, not with the rows. hp_plot_results
 * builds the set from r and calls this. */
int hp_plot_set(const char *dir, const hp_bench_set_t *s, const hp_suite_t *const *suites,
		const char *templates, char *err, size_t errlen);
/* Draws plotdir/name.{svg,png,pdf} from plotdir/name.dat with the template
 * `tmpl` (a path), which gets term, outfile and datafile and the gnuplot
 * assignments in `vars`: what the standard plots use, for a suite's own
 * plots (hp_plot_fn, hp.h). Returns 0, or -1 with err. */
int hp_plot_render(const char *plotdir, const char *name, const char *tmpl,
		   const char *vars, char *err, size_t errlen);

/* The values of one metric per (variant, param), in the order first seen:
 * what a suite's own plot gathers from the set before drawing. The names
 * are not copied (they point into the set's entries). */
typedef struct hp_plot_pt {
	const char *variant, *param;
	double *v;
	size_t n, cap;
} hp_plot_pt_t;

typedef struct hp_plot_pts {
	hp_plot_pt_t *p;
	size_t n, cap;
} hp_plot_pts_t;

/* Appends `value` to (variant, param), adding the pair when new. 0, or -1
 * when out of memory. */
int hp_plot_pts_add(hp_plot_pts_t *a, const char *variant, const char *param, double value);
void hp_plot_pts_free(hp_plot_pts_t *a);

/* `hotpath plot DIR`: streams DIR/results.csv into a set and (re)draws with the suites
 * of `suites` (as hp_plot_results). Exit code: 0 (prints how many plots
 * and where), 2 when DIR is not a results folder or its results.csv is
 * bad, 1 when gnuplot is unavailable or fails, 99 out of memory. */
int hp_plot_dir(const char *dir, const hp_suite_t *const *suites, const char *templates);

#endif
