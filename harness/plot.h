/* plot.h — draws the plots of a results folder with gnuplot.
 *
 * Per suite: a bar chart of the primary metric per op by case (x) and
 * variant (bars) with min–max whiskers, log scale when values span more
 * than two decades; per case with a thread sweep: throughput (ops/s, all
 * threads) against threads, one line per variant. Each plot in SVG, PNG and
 * PDF under DIR/plots/, with its data file (.dat) beside it. Templates are
 * scripts/bars.gp and scripts/threads.gp.
 */
#ifndef HP_PLOT_H
#define HP_PLOT_H

#include <stddef.h>
#include "record.h"

/* NULL when gnuplot with svg, pngcairo and pdfcairo terminals is usable,
 * else a reason ("gnuplot not found in PATH"). */
const char *hp_plot_unavailable(void);
/* Draws all plots of `r` into dir/plots. Returns the number of plots
 * drawn, or -1 with err. `templates` is the folder of the .gp files. */
int hp_plot_results(const char *dir, const hp_results_t *r,
		    const char *templates, char *err, size_t errlen);
/* `hotpath plot DIR`: reads DIR/results.csv and (re)draws. Exit code. */
int hp_plot_dir(const char *dir, const char *templates);

#endif
