/* test_plot.c — bar and thread-sweep plots: files in every format, medians in the .dat files, errors. */
#include <dirent.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "plot.h"
#include "record.h"
#include "t_util.h"

static void add(hp_results_t *r, const char *suite, const char *case_, const char *variant,
		const char *param, int threads, const char *metric, const char *unit,
		int rep, double value)
{
	hp_record_t rec;
	memset(&rec, 0, sizeof rec);
	hp_strlcpy(rec.suite, suite, sizeof rec.suite);
	hp_strlcpy(rec.case_, case_, sizeof rec.case_);
	hp_strlcpy(rec.variant, variant, sizeof rec.variant);
	hp_strlcpy(rec.kind, !strcmp(variant, "impl") ? "impl" :
		   !strcmp(variant, "kernel") ? "kernel" : "baseline", sizeof rec.kind);
	hp_strlcpy(rec.param, param, sizeof rec.param);
	rec.threads = threads;
	hp_strlcpy(rec.cpus, threads == 1 ? "0" : "0+1", sizeof rec.cpus);
	hp_strlcpy(rec.metric, metric, sizeof rec.metric);
	hp_strlcpy(rec.unit, unit, sizeof rec.unit);
	rec.rep = rep;
	rec.value = value;
	T_CHECK(hp_results_add(r, &rec) != NULL);
}

#define ODD_PARAM "it's \"odd\", p"

/* The suite table hp_plot_results draws with (hotpath passes hp_suites):
 * page_alloc's axis name comes from its descriptor, and each suite's own
 * plots run after the standard ones, only for suites in the results. */
static int own_calls;
static char own_plotdir[4096], own_templates[4096];

static int own_plot(const char *plotdir, const struct hp_bench_set *r, const char *templates,
		    char *err, size_t errlen)
{
	(void)r, (void)err, (void)errlen;
	own_calls++;
	snprintf(own_plotdir, sizeof own_plotdir, "%s", plotdir);
	snprintf(own_templates, sizeof own_templates, "%s", templates);
	return 1;
}

static int absent_plot(const char *plotdir, const struct hp_bench_set *r, const char *templates,
		       char *err, size_t errlen)
{
	(void)plotdir, (void)r, (void)templates;
	snprintf(err, errlen, "the own plot of a suite without records ran");
	return -1;
}

static const hp_case_t t_page_alloc = { .name = "page_alloc", .param_name = "order" };
static const hp_plot_fn t_kernel_plots[] = { own_plot, NULL };
static const hp_plot_fn t_absent_plots[] = { absent_plot, NULL };
static const hp_suite_t t_kernel = {
	.name = "kernel", .cases = (const hp_case_t *const[]){ &t_page_alloc, NULL },
	.plots = t_kernel_plots,
};
static const hp_suite_t t_absent = { .name = "absent", .plots = t_absent_plots };
static const hp_suite_t *const t_suites[] = { &t_absent, &t_kernel, NULL };

/* A kernel-suite-like run (times) plus an instructions-only suite. */
static void build(hp_results_t *r)
{
	static const double sys1[] = { 100, 130, 90, 110, 500 };   /* median 110 */
	static const double sys2[] = { 200, 210, 190 };            /* median 200 */
	for (int i = 0; i < 5; i++) {
		add(r, "kernel", "syscall", "kernel", "-", 1, "real_time", "ns/call", i, sys1[i]);
		add(r, "kernel", "syscall", "kernel", "-", 1, "cpu_time", "ns/call", i, sys1[i] - 5);
	}
	for (int i = 0; i < 3; i++)
		add(r, "kernel", "syscall", "kernel", "-", 2, "real_time", "ns/call", i, sys2[i]);
	/* orders 0..10 over three decades: base 250 * 2^o, reps base+0, +2, +1 */
	for (int o = 0; o <= 10; o++) {
		char p[8];
		snprintf(p, sizeof p, "%d", o);
		for (int i = 0; i < 3; i++) {
			double base = 250.0 * (double)(1 << o);
			add(r, "kernel", "page_alloc", "kernel", p, 1, "real_time", "ns/alloc", i,
			    base + (i == 1 ? 2 : i == 2 ? 1 : 0));
			add(r, "kernel", "page_alloc", "kernel", p, 1, "real_time_per_item", "ns/page",
			    i, base / (double)(1 << o));
		}
	}
	for (int i = 0; i < 3; i++)
		add(r, "kernel", "page_fault", "kernel", "-", 1, "real_time", "ns/fault", i, 700 + i);
	/* two variants, two params, one of them with quotes and a comma */
	const char *params[] = { "same_cpu", ODD_PARAM };
	for (int p = 0; p < 2; p++)
		for (int i = 0; i < 3; i++) {
			add(r, "kernel", "ctx_switch", "pipe", params[p], 1, "real_time", "ns/switch",
			    i, 1500 + 500 * p + i);
			add(r, "kernel", "ctx_switch", "futex", params[p], 1, "real_time", "ns/switch",
			    i, 1200 + 400 * p + i);
			add(r, "kernel", "ctx_switch", "futex", params[p], 2, "real_time", "ns/switch",
			    i, 1300 + 400 * p + i);
		}
	/* instructions only: bars, never a throughput plot */
	const char *vars[] = { "impl", "glibc", "jemalloc" };
	for (int v = 0; v < 3; v++)
		for (int t = 1; t <= 2; t++)
			for (int i = 0; i < 2; i++)
				add(r, "slub", "alloc", vars[v], "64", t, "instructions", "instr/alloc",
				    i, 40.0 * (v + 1) + i * 2);
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	size_t cap = 4096, n = 0;
	char *s = malloc(cap + 1);
	size_t k;
	while (s && (k = fread(s + n, 1, cap - n, f)) > 0) {
		n += k;
		if (n == cap) {
			char *p = realloc(s, cap * 2 + 1);
			if (!p) {
				free(s);
				s = NULL;
				break;
			}
			s = p;
			cap *= 2;
		}
	}
	fclose(f);
	if (s)
		s[n] = 0;
	if (len)
		*len = n;
	return s;
}

static void check_formats(const char *plots, const char *name)
{
	static const struct { const char *ext, *magic, *magic2; } fmt[] = {
		{ "svg", "<?xml", "<svg" }, { "png", "\x89PNG", NULL }, { "pdf", "%PDF", NULL },
		{ "dat", "# hotpath", NULL },
	};
	for (size_t i = 0; i < sizeof fmt / sizeof fmt[0]; i++) {
		char path[4096];
		size_t len = 0;
		snprintf(path, sizeof path, "%s/%s.%s", plots, name, fmt[i].ext);
		char *s = slurp(path, &len);
		T_CHECK_MSG(s && len > 16, "%s missing or empty", path);
		if (s && len > 16)
			T_CHECK_MSG(!memcmp(s, fmt[i].magic, strlen(fmt[i].magic)) ||
				    (fmt[i].magic2 && !memcmp(s, fmt[i].magic2, strlen(fmt[i].magic2))),
				    "%s does not start like a .%s file", path, fmt[i].ext);
		free(s);
	}
}

static int exists(const char *plots, const char *name)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/%s", plots, name);
	return access(path, F_OK) == 0;
}

static int count_tmp(const char *plots)
{
	int n = 0;
	DIR *d = opendir(plots);
	if (!d)
		return -1;
	struct dirent *e;
	while ((e = readdir(d)))
		if (strstr(e->d_name, ".tmp")) {
			fprintf(stderr, "left behind: %s\n", e->d_name);
			n++;
		}
	closedir(d);
	return n;
}

/* The data line of a .dat whose last field is "label": x med min max reps. */
static int bar_row(const char *dat, const char *label, double *med, double *lo,
		   double *hi, int *reps)
{
	char want[256];
	snprintf(want, sizeof want, " \"%s\"\n", label);
	for (const char *p = strstr(dat, want); p; p = strstr(p + 1, want)) {
		const char *ls = p;
		while (ls > dat && ls[-1] != '\n')
			ls--;
		double x;
		if (ls[0] != '"' && ls[0] != '#' &&
		    sscanf(ls, "%lf %lf %lf %lf %d", &x, med, lo, hi, reps) == 5)
			return 0;
	}
	return -1;
}

/* The data line of a threads .dat for `threads` in the block titled `line`. */
static int thr_row(const char *dat, const char *line, int threads, double *ops, double *ns)
{
	char hdr[256];
	snprintf(hdr, sizeof hdr, "\"%s\" \"ops_per_s\"", line);
	const char *p = strstr(dat, hdr);
	if (!p)
		return -1;
	for (p = strchr(p, '\n'); p && p[1] && p[1] != '\n'; p = strchr(p + 1, '\n')) {
		int t;
		double lo, hi;
		if (sscanf(p + 1, "%d %lf %lf %lf %lf", &t, ops, &lo, &hi, ns) == 5 && t == threads)
			return 0;
	}
	return -1;
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb, (void)flag, (void)ftw;
	return remove(path);
}

static char *read_in(const char *plots, const char *name)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/%s", plots, name);
	return slurp(path, NULL);
}

int main(void)
{
	const char *why = hp_plot_unavailable();
	if (why)
		t_skip(why);
	const char *tmpl = getenv("HP_TEMPLATES");
	if (!tmpl)
		tmpl = "scripts";

	/* a quote and a space in the path: every path goes into gnuplot strings */
	char dir[] = "/tmp/hp plot's XXXXXX";
	T_CHECK(mkdtemp(dir) != NULL);
	char plots[4096], err[2048] = "";
	snprintf(plots, sizeof plots, "%s/plots", dir);

	hp_results_t r;
	hp_results_init(&r);
	build(&r);
	int n = hp_plot_results(dir, &r, t_suites, tmpl, err, sizeof err);
	T_CHECK_MSG(n == 6, "hp_plot_results returned %d: %s", n, err);
	/* kernel's own plot: once, into dir/plots, with the templates folder */
	T_CHECK_MSG(own_calls == 1, "own plot ran %d times", own_calls);
	T_CHECK_MSG(!strcmp(own_plotdir, plots), "own plot got %s", own_plotdir);
	T_CHECK_MSG(!strcmp(own_templates, tmpl), "own plot got templates %s", own_templates);

	static const char *const names[] = {
		"kernel-bars", "kernel-page_alloc-bars", "kernel-syscall-threads",
		"kernel-ctx_switch-threads", "slub-bars",
	};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		check_formats(plots, names[i]);
	T_CHECK(!exists(plots, "slub-alloc-threads.dat"));
	T_CHECK(!exists(plots, "slub-alloc-threads.png"));
	T_CHECK(!exists(plots, "kernel-page_fault-threads.png"));
	T_CHECK(count_tmp(plots) == 0);

	/* medians, min and max over reps, threads == 1 only */
	double med, lo, hi, ops, ns;
	int reps;
	char *d = read_in(plots, "kernel-bars.dat");
	T_CHECK(d != NULL);
	if (d) {
		T_CHECK(bar_row(d, "syscall", &med, &lo, &hi, &reps) == 0);
		T_CHECK(med == 110 && lo == 90 && hi == 500 && reps == 5);
		T_CHECK(bar_row(d, "page_fault", &med, &lo, &hi, &reps) == 0);
		T_CHECK(med == 701 && lo == 700 && hi == 702 && reps == 3);
		T_CHECK(bar_row(d, "ctx_switch same_cpu", &med, &lo, &hi, &reps) == 0);
		T_CHECK(med == 1501 || med == 1201);
		/* the '"' of a param becomes ' in the .dat (no escape there) */
		T_CHECK(bar_row(d, "ctx_switch it's 'odd', p", &med, &lo, &hi, &reps) == 0);
		T_CHECK(strstr(d, "\"pipe\" \"median\"") && strstr(d, "\"futex\" \"median\""));
		/* page_alloc has 11 orders: it has a chart of its own */
		T_CHECK(!strstr(d, "page_alloc"));
		T_CHECK(strstr(d, "ylabel='time per operation (ns)'") != NULL);
		T_CHECK(strstr(d, "logy=0") != NULL);
		free(d);
	}
	d = read_in(plots, "kernel-page_alloc-bars.dat");
	T_CHECK(d != NULL);
	if (d) {
		T_CHECK(bar_row(d, "0", &med, &lo, &hi, &reps) == 0);
		T_CHECK(med == 251 && lo == 250 && hi == 252 && reps == 3);
		T_CHECK(bar_row(d, "10", &med, &lo, &hi, &reps) == 0);
		T_CHECK(med == 256001 && lo == 256000 && hi == 256002);
		T_CHECK(strstr(d, "logy=1") != NULL);   /* three decades */
		T_CHECK(!strstr(d, "ns/page") && !strstr(d, "\n1 250 "));  /* per-item rows ignored */
		T_CHECK(strstr(d, "xlabel='order'") != NULL);   /* param_name of the descriptor */
		free(d);
	}
	d = read_in(plots, "kernel-syscall-threads.dat");
	T_CHECK(d != NULL);
	if (d) {
		/* ops/s of all threads = threads * 1e9 / median ns */
		T_CHECK(thr_row(d, "kernel", 2, &ops, &ns) == 0);
		T_CHECK_MSG(ops == 1e7 && ns == 200, "ops %g ns %g", ops, ns);
		T_CHECK(thr_row(d, "kernel", 1, &ops, &ns) == 0);
		T_CHECK_MSG(ops > 9090909 && ops < 9090910 && ns == 110, "ops %g ns %g", ops, ns);
		free(d);
	}
	d = read_in(plots, "kernel-ctx_switch-threads.dat");
	T_CHECK(d != NULL);
	if (d) {
		T_CHECK(thr_row(d, "futex same_cpu", 2, &ops, &ns) == 0);
		T_CHECK(ns == 1301);
		T_CHECK(thr_row(d, "pipe same_cpu", 1, &ops, &ns) == 0);
		T_CHECK(thr_row(d, "pipe same_cpu", 2, &ops, &ns) != 0);
		free(d);
	}
	d = read_in(plots, "slub-bars.dat");
	T_CHECK(d != NULL);
	if (d) {
		T_CHECK(strstr(d, "ylabel='instructions per operation'") != NULL);
		T_CHECK(strstr(d, "\"jemalloc\" \"median\"") != NULL);
		T_CHECK(bar_row(d, "alloc 64", &med, &lo, &hi, &reps) == 0 ||
			bar_row(d, "alloc", &med, &lo, &hi, &reps) == 0);
		free(d);
	}

	/* twelve variants, twelve colours: none repeats within a chart */
	{
		hp_results_t m;
		char mdir[] = "/tmp/hp-plot-many.XXXXXX", mplots[4096], *md;

		T_CHECK(mkdtemp(mdir) != NULL);
		hp_results_init(&m);
		for (int v = 0; v < 12; v++) {
			char name[16];

			snprintf(name, sizeof name, v ? "base%02d" : "impl", v);
			for (int i = 0; i < 3; i++)
				add(&m, "many", "op", name, "-", 1, "real_time", "ns/op", i, 10.0 + v + i);
		}
		/* a case run at one thread count (HP_THREADS_ALL) draws no sweep */
		for (int i = 0; i < 3; i++)
			add(&m, "many", "all", "impl", "-", 2, "real_time", "ns/op", i, 20.0 + i);
		/* no suite table: standard plots only, axes named "param" */
		n = hp_plot_results(mdir, &m, NULL, tmpl, err, sizeof err);
		T_CHECK_MSG(n >= 1, "hp_plot_results (12 variants) returned %d: %s", n, err);
		snprintf(mplots, sizeof mplots, "%s/plots", mdir);
		md = read_in(mplots, "many-bars.dat");
		T_CHECK(md != NULL);
		if (md) {
			const char *c = strstr(md, "colors='");
			int seen[64] = {0}, k = 0, distinct = 1;

			T_CHECK(c != NULL);
			for (c = c ? c + 8 : ""; *c && *c != '\''; ) {
				int x = (int)strtol(c, (char **)&c, 10);

				if (x < 0 || x >= 64 || seen[x]++)
					distinct = 0;
				k++;
				while (*c == ' ')
					c++;
			}
			T_CHECK_MSG(k == 12 && distinct, "%d colours, distinct %d", k, distinct);
			free(md);
		}
		check_formats(mplots, "many-bars");
		T_CHECK(!exists(mplots, "many-all-threads.dat"));
		hp_results_free(&m);
		nftw(mdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	}

	/* a broken template: -1 with gnuplot's message, no image, no .tmp */
	char bad[4096];
	snprintf(bad, sizeof bad, "%s/badtmpl", dir);
	T_CHECK(mkdir(bad, 0755) == 0);
	char path[8300];
	snprintf(path, sizeof path, "%s/bars.gp", bad);
	FILE *f = fopen(path, "w");
	T_CHECK(f != NULL);
	if (f) {
		fputs("set output outfile\nplot datafile using 1:2 with nosuchstyle\n", f);
		fclose(f);
	}
	snprintf(path, sizeof path, "%s/threads.gp", bad);
	f = fopen(path, "w");
	if (f)
		fclose(f);
	char dir2[4200];
	snprintf(dir2, sizeof dir2, "%s/second", dir);
	T_CHECK(mkdir(dir2, 0755) == 0);
	err[0] = 0;
	T_CHECK(hp_plot_results(dir2, &r, t_suites, bad, err, sizeof err) == -1);
	T_CHECK_MSG(strstr(err, "gnuplot failed") && strstr(err, "nosuchstyle"), "err: %s", err);
	snprintf(path, sizeof path, "%s/plots", dir2);
	T_CHECK(count_tmp(path) == 0);
	T_CHECK(!exists(path, "kernel-bars.svg"));

	/* missing templates are named */
	err[0] = 0;
	T_CHECK(hp_plot_results(dir2, &r, t_suites, "/nonexistent-hp-templates", err, sizeof err) == -1);
	T_CHECK_MSG(strstr(err, "/nonexistent-hp-templates/bars.gp") != NULL, "err: %s", err);

	/* hotpath plot DIR: not a results folder -> 2; a results folder -> 0 */
	T_CHECK(hp_plot_dir(plots, t_suites, tmpl) == 2);
	char dir3[4200], csv[4300];
	snprintf(dir3, sizeof dir3, "%s/run", dir);
	T_CHECK(mkdir(dir3, 0755) == 0);
	snprintf(csv, sizeof csv, "%s/results.csv", dir3);
	T_CHECK(hp_write_csv(csv, &r) == 0);
	T_CHECK(hp_plot_dir(dir3, t_suites, tmpl) == 0);
	snprintf(path, sizeof path, "%s/plots", dir3);
	check_formats(path, "kernel-ctx_switch-threads");
	d = read_in(path, "kernel-bars.dat");
	T_CHECK(d && bar_row(d, "ctx_switch it's 'odd', p", &med, &lo, &hi, &reps) == 0);
	free(d);

	/* gnuplot missing: a reason, and hp_plot_dir says so with exit 1 */
	setenv("HP_GNUPLOT", "/nonexistent/gnuplot", 1);
	why = hp_plot_unavailable();
	T_CHECK_MSG(why && strstr(why, "not found"), "why: %s", why ? why : "(null)");
	T_CHECK(hp_plot_dir(dir3, t_suites, tmpl) == 1);
	unsetenv("HP_GNUPLOT");
	T_CHECK(hp_plot_unavailable() == NULL);

	hp_results_free(&r);
	if (getenv("T_KEEP"))
		printf("kept %s\n", dir);
	else
		nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return t_done("test_plot");
}
