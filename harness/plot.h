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
 * The primary metric is real_time, else instructions, else perf_cycles (per
 * suite). A variant keeps its colour (its place in the suite's run order)
 * in every plot of the suite. Images are drawn to <name>.tmp.<ext> and
 * renamed, so none is ever half-written. gnuplot is HP_GNUPLOT from
 * hp_config.h, or the environment variable HP_GNUPLOT.
 */
#ifndef HP_PLOT_H
#define HP_PLOT_H

#include <stddef.h>
#include "record.h"

/* Optional: names a case's parameter axis ("order") for the x label of its
 * own bar chart; the CSV does not carry it. NULL, or returning NULL, gives
 * "param". hotpath sets it from the registry. */
extern const char *(*hp_plot_param_namer)(const char *suite, const char *case_name);

/* NULL when gnuplot with svg, pngcairo and pdfcairo terminals is usable,
 * else a reason ("gnuplot not found in PATH"). Checked once per gnuplot
 * program and cached. */
const char *hp_plot_unavailable(void);
/* Draws all plots of `r` into dir/plots. Returns the number of plots
 * drawn, or -1 with err (gnuplot's own message when it failed). `templates`
 * is the folder of the .gp files; NULL means $HP_TEMPLATES, else the
 * source tree's scripts/. */
int hp_plot_results(const char *dir, const hp_results_t *r,
		    const char *templates, char *err, size_t errlen);
/* Plots a suite draws itself from the same results (sched: time against
 * nr_running on a log axis, predicted against measured CPU shares), after
 * the standard ones, in hp_plot_results. `templates` is the folder of the
 * .gp files. Returns the number drawn, or -1 with err. Register from a
 * constructor; at most 8. Returns 0, or -1 when the list is full. */
typedef int (*hp_plot_extra_fn)(const char *plotdir, const hp_results_t *r,
				const char *templates, char *err, size_t errlen);
int hp_plot_add_extra(hp_plot_extra_fn fn);
/* Draws plotdir/name.{svg,png,pdf} from plotdir/name.dat with the template
 * `tmpl` (a path), which gets term, outfile and datafile and the gnuplot
 * assignments in `vars`: what the standard plots use, for extra plotters.
 * Returns 0, or -1 with err. */
int hp_plot_render(const char *plotdir, const char *name, const char *tmpl,
		   const char *vars, char *err, size_t errlen);

/* `hotpath plot DIR`: reads DIR/results.csv and (re)draws. Exit code: 0
 * (prints how many plots and where), 2 when DIR is not a results folder or
 * its results.csv is bad, 1 when gnuplot is unavailable or fails. */
int hp_plot_dir(const char *dir, const char *templates);

#endif
