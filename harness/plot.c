/* plot.c — turns a results set into bar and thread-sweep plots with gnuplot. */
#include "plot.h"

const char *(*hp_plot_param_namer)(const char *suite, const char *case_name);
#include "hp_config.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* A case with more params than this gets a bar chart of its own (x =
 * param) instead of crowding the suite overview. */
#define SPLIT_PARAMS 3
/* Palette size in the templates (Okabe-Ito's 8 and 4 of Tol's muted);
 * indexes wrap after 12 variants. */
#define NCOLORS 12
#define NPOINTS 6

/* The three outputs of every plot: gnuplot terminal and file extension. */
static const struct { const char *term, *ext; } terms[] = {
	{ "svg", "svg" }, { "pngcairo", "png" }, { "pdfcairo", "pdf" },
};

/* ================================================================== */
/* Growable string                                                     */
/* ================================================================== */

typedef struct sb {
	char *s;
	size_t n, cap;
	int oom;
} sb_t;

static void sb_vprintf(sb_t *b, const char *fmt, va_list ap)
{
	va_list ap2;
	va_copy(ap2, ap);
	int need = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (need < 0 || b->oom) {
		b->oom = 1;
		return;
	}
	if (b->n + (size_t)need + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < b->n + (size_t)need + 1)
			cap *= 2;
		char *s = realloc(b->s, cap);
		if (!s) {
			b->oom = 1;
			return;
		}
		b->s = s;
		b->cap = cap;
	}
	vsnprintf(b->s + b->n, b->cap - b->n, fmt, ap);
	b->n += (size_t)need;
}

__attribute__((format(printf, 2, 3)))
static void sb_printf(sb_t *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	sb_vprintf(b, fmt, ap);
	va_end(ap);
}

/* A gnuplot single-quoted string literal: inside one, only a doubled quote
 * is special; control characters would end the -e command, so they become
 * spaces. */
static void sb_gpstr(sb_t *b, const char *s)
{
	sb_printf(b, "'");
	for (; *s; s++) {
		if (*s == '\'')
			sb_printf(b, "''");
		else
			sb_printf(b, "%c", (unsigned char)*s < 0x20 ? ' ' : *s);
	}
	sb_printf(b, "'");
}

/* A quoted string in a .dat file: gnuplot has no escape for '"' there. */
static void sb_datstr(sb_t *b, const char *s)
{
	sb_printf(b, "\"");
	for (; *s; s++) {
		char c = *s;
		if (c == '"')
			c = '\'';
		else if ((unsigned char)c < 0x20)
			c = ' ';
		sb_printf(b, "%c", c);
	}
	sb_printf(b, "\"");
}

/* ================================================================== */
/* Running gnuplot                                                     */
/* ================================================================== */

static const char *gp_prog(void)
{
	const char *e = getenv("HP_GNUPLOT");
	return e && *e ? e : HP_GNUPLOT;
}

/* Runs argv with stdin from /dev/null and stdout+stderr captured into out
 * (truncated, always terminated). Returns the exit status (>= 0), or -1
 * with errno when it could not be started or did not exit normally. */
static int run_capture(char *const argv[], char *out, size_t outlen)
{
	int fd[2];
	if (outlen)
		out[0] = 0;
	if (pipe2(fd, O_CLOEXEC) < 0)
		return -1;
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, fd[1], 1);
	posix_spawn_file_actions_adddup2(&fa, fd[1], 2);
	pid_t pid;
	int rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(fd[1]);
	if (rc != 0) {
		close(fd[0]);
		errno = rc;
		return -1;
	}
	size_t got = 0;
	char buf[4096];
	for (;;) {
		ssize_t k = read(fd[0], buf, sizeof buf);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		/* keep the start (gnuplot's first error), drain the rest */
		size_t take = outlen > got + 1 ? outlen - got - 1 : 0;
		if (take > (size_t)k)
			take = (size_t)k;
		memcpy(out + got, buf, take);
		got += take;
	}
	if (outlen)
		out[got] = 0;
	close(fd[0]);
	int status;
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR)
			return -1;
	}
	if (!WIFEXITED(status)) {
		errno = ECHILD;
		return -1;
	}
	return WEXITSTATUS(status);
}

/* Trims trailing blank space and turns inner newlines into " | " so that a
 * multi-line gnuplot message fits one err line. */
static void one_line(const char *in, char *out, size_t outlen)
{
	size_t o = 0;
	int pend = 0;
	if (!outlen)
		return;
	while (*in == '\n' || *in == ' ' || *in == '\r' || *in == '\t')
		in++;
	for (; *in && o + 1 < outlen; in++) {
		if (*in == '\n' || *in == '\r') {
			pend = 1;
			continue;
		}
		if (pend) {
			const char *sep = " | ";
			for (; *sep && o + 1 < outlen; sep++)
				out[o++] = *sep;
			pend = 0;
		}
		if (o + 1 < outlen)
			out[o++] = *in;
	}
	while (o && (out[o - 1] == ' ' || out[o - 1] == '|'))
		o--;
	out[o] = 0;
}

/* Whether the terminal list printed by `set terminal` names `t` (each line
 * is "  <name>  <description>"). */
static int has_terminal(const char *list, const char *t)
{
	size_t tl = strlen(t);
	for (const char *p = list; *p;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (!strncmp(p, t, tl) && (p[tl] == ' ' || p[tl] == '\t'))
			return 1;
		p = strchr(p, '\n');
		if (!p)
			break;
		p++;
	}
	return 0;
}

const char *hp_plot_unavailable(void)
{
	/* Cached per program, since HP_GNUPLOT may change between calls. */
	static char prog_seen[512];
	static char reason[512];
	static int done;
	const char *prog = gp_prog();
	if (done && !strcmp(prog_seen, prog))
		return reason[0] ? reason : NULL;
	hp_strlcpy(prog_seen, prog, sizeof prog_seen);
	done = 1;
	reason[0] = 0;

	static char out[16384];
	char *argv[] = { (char *)prog, "-d", "-e", "set terminal", NULL };
	int st = run_capture(argv, out, sizeof out);
	if (st < 0) {
		if (errno == ENOENT)
			snprintf(reason, sizeof reason,
				 "%s not found%s (install gnuplot-nox, or set HP_GNUPLOT to its path)",
				 prog, strchr(prog, '/') ? "" : " in PATH");
		else
			snprintf(reason, sizeof reason, "cannot run %s: %s", prog, strerror(errno));
		return reason;
	}
	if (st != 0) {
		char msg[256];
		one_line(out, msg, sizeof msg);
		snprintf(reason, sizeof reason, "%s -e 'set terminal' failed (exit %d): %s",
			 prog, st, msg);
		return reason;
	}
	char missing[64] = "";
	for (size_t i = 0; i < sizeof terms / sizeof terms[0]; i++) {
		if (!has_terminal(out, terms[i].term)) {
			if (missing[0])
				strcat(missing, ", ");
			strcat(missing, terms[i].term);
		}
	}
	if (missing[0])
		snprintf(reason, sizeof reason,
			 "%s lacks the %s terminal(s) (Debian: apt-get install gnuplot-nox)",
			 prog, missing);
	return reason[0] ? reason : NULL;
}

/* ================================================================== */
/* Benchmarks: one primary-metric sample per (case, variant, param,   */
/* threads) of a suite                                                 */
/* ================================================================== */

typedef struct bench {
	const hp_record_t *r;   /* first row: names the benchmark */
	double *v;
	size_t n, cap;
	double med, lo, hi;
} bench_t;

typedef struct names {
	const char **s;
	size_t n, cap;
} names_t;

static long names_find(const names_t *a, const char *s)
{
	for (size_t i = 0; i < a->n; i++)
		if (!strcmp(a->s[i], s))
			return (long)i;
	return -1;
}

/* Adds s unless present; returns its index or -1 when out of memory. */
static long names_add(names_t *a, const char *s)
{
	long i = names_find(a, s);
	if (i >= 0)
		return i;
	if (a->n == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 16;
		const char **p = realloc(a->s, cap * sizeof *p);
		if (!p)
			return -1;
		a->s = p;
		a->cap = cap;
	}
	a->s[a->n] = s;
	return (long)a->n++;
}

static int same_bench(const hp_record_t *a, const hp_record_t *b)
{
	return a->threads == b->threads && !strcmp(a->case_, b->case_) &&
	       !strcmp(a->variant, b->variant) && !strcmp(a->param, b->param);
}

/* real_time when the suite has it, else instructions, else perf_cycles
 * (the same choice as summary.md); NULL when it has none of them. */
static const char *primary_metric(const hp_results_t *r, const char *suite)
{
	static const char *const order[] = { "real_time", "instructions", "perf_cycles" };
	int best = 3;
	for (size_t i = 0; i < r->nrec && best > 0; i++) {
		if (strcmp(r->rec[i].suite, suite))
			continue;
		for (int k = 0; k < best; k++)
			if (!strcmp(r->rec[i].metric, order[k]))
				best = k;
	}
	return best < 3 ? order[best] : NULL;
}

typedef struct benches {
	bench_t *b;
	size_t n, cap;
} benches_t;

static void benches_free(benches_t *bs)
{
	for (size_t i = 0; i < bs->n; i++)
		free(bs->b[i].v);
	free(bs->b);
	memset(bs, 0, sizeof *bs);
}

static int collect(const hp_results_t *r, const char *suite, const char *metric, benches_t *bs)
{
	size_t last = 0;
	for (size_t i = 0; i < r->nrec; i++) {
		const hp_record_t *rec = &r->rec[i];
		if (strcmp(rec->suite, suite) || strcmp(rec->metric, metric))
			continue;
		bench_t *b = NULL;
		/* reps of one benchmark are adjacent: try the last one first */
		if (last < bs->n && same_bench(bs->b[last].r, rec))
			b = &bs->b[last];
		for (size_t k = 0; !b && k < bs->n; k++)
			if (same_bench(bs->b[k].r, rec)) {
				b = &bs->b[k];
				last = k;
			}
		if (!b) {
			if (bs->n == bs->cap) {
				size_t cap = bs->cap ? bs->cap * 2 : 32;
				bench_t *p = realloc(bs->b, cap * sizeof *p);
				if (!p)
					return -1;
				bs->b = p;
				bs->cap = cap;
			}
			last = bs->n++;
			b = &bs->b[last];
			memset(b, 0, sizeof *b);
			b->r = rec;
		}
		if (!isfinite(rec->value))
			continue;
		if (b->n == b->cap) {
			size_t cap = b->cap ? b->cap * 2 : 8;
			double *p = realloc(b->v, cap * sizeof *p);
			if (!p)
				return -1;
			b->v = p;
			b->cap = cap;
		}
		b->v[b->n++] = rec->value;
	}
	/* drop benchmarks without a finite value, then summarize */
	size_t w = 0;
	for (size_t i = 0; i < bs->n; i++) {
		bench_t *b = &bs->b[i];
		if (!b->n) {
			free(b->v);
			continue;
		}
		b->med = hp_median(b->v, b->n);   /* sorts v */
		b->lo = b->v[0];
		b->hi = b->v[b->n - 1];
		bs->b[w++] = *b;
	}
	bs->n = w;
	return 0;
}

/* ================================================================== */
/* Files                                                               */
/* ================================================================== */

/* Keeps file names plain whatever the suite and case are called. */
static void safe_name(char *dst, size_t len, const char *src)
{
	size_t o = 0;
	for (; *src && o + 1 < len; src++) {
		char c = *src;
		int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			 (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.';
		dst[o++] = ok ? c : '_';
	}
	dst[o] = 0;
}

/* Draws plotdir/name.{svg,png,pdf} from plotdir/name.dat with one template.
 * `vars` holds the template's other settings as gnuplot assignments. Each
 * image is drawn to name.tmp.<ext> and renamed only when gnuplot succeeded,
 * so a failed or killed run leaves no half-written image. */
static int render(const char *plotdir, const char *name, const char *tmpl,
		  const char *vars, char *err, size_t errlen)
{
	char dat[4096], tmp[4096], fin[4096];
	static char out[8192];
	snprintf(dat, sizeof dat, "%s/%s.dat", plotdir, name);
	for (size_t t = 0; t < sizeof terms / sizeof terms[0]; t++) {
		snprintf(tmp, sizeof tmp, "%s/%s.tmp.%s", plotdir, name, terms[t].ext);
		snprintf(fin, sizeof fin, "%s/%s.%s", plotdir, name, terms[t].ext);
		sb_t e = { 0 };
		sb_printf(&e, "term=");
		sb_gpstr(&e, terms[t].term);
		sb_printf(&e, "; outfile=");
		sb_gpstr(&e, tmp);
		sb_printf(&e, "; datafile=");
		sb_gpstr(&e, dat);
		sb_printf(&e, "; %s", vars);
		if (e.oom) {
			free(e.s);
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		char *argv[] = { (char *)gp_prog(), "-d", "-e", e.s, (char *)tmpl, NULL };
		int st = run_capture(argv, out, sizeof out);
		int saved = errno;
		free(e.s);
		struct stat sst;
		if (st != 0 || stat(tmp, &sst) != 0 || sst.st_size == 0) {
			char msg[1024];
			one_line(out, msg, sizeof msg);
			if (st < 0)
				snprintf(err, errlen, "cannot run %s for %s.%s: %s", gp_prog(),
					 name, terms[t].ext, strerror(saved));
			else
				snprintf(err, errlen, "gnuplot failed on %s for %s.%s (exit %d): %s",
					 tmpl, name, terms[t].ext, st,
					 msg[0] ? msg : "no image written");
			unlink(tmp);
			return -1;
		}
		int fd = open(tmp, O_RDONLY | O_CLOEXEC);
		if (fd >= 0) {
			fsync(fd);
			close(fd);
		}
		if (rename(tmp, fin) != 0) {
			snprintf(err, errlen, "cannot rename %s to %s: %s", tmp, fin, strerror(errno));
			unlink(tmp);
			return -1;
		}
		if (out[0]) {
			/* drawn, but gnuplot had something to say: pass it on */
			char msg[1024];
			one_line(out, msg, sizeof msg);
			/* a series with no points (e.g. an extfrag index that is "not
			 * applicable" all along) is expected, not worth a warning */
			if (msg[0] && !strstr(msg, "Skipping data file with no valid points"))
				fprintf(stderr, "hotpath plot: gnuplot on %s.%s: %s\n",
					name, terms[t].ext, msg);
		}
	}
	return 0;
}

static int write_dat(const char *plotdir, const char *name, const sb_t *d,
		     char *err, size_t errlen)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/%s.dat", plotdir, name);
	if (d->oom) {
		snprintf(err, errlen, "out of memory writing %s", path);
		return -1;
	}
	if (hp_write_atomic(path, d->s, d->n) != 0) {
		snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* ================================================================== */
/* Bar charts                                                          */
/* ================================================================== */

/* One x position of a bar chart: a case (overview) or a param (per case). */
typedef struct group {
	const char *case_, *param;
	int threads;
	char l1[96], l2[96];    /* tick label: two lines, or one when rotated */
	char label[200];        /* both on one line, for the .dat */
} group_t;

typedef struct chart {
	char name[256];         /* file name without extension */
	char title[256];
	char xlabel[64];
	group_t *g;
	size_t ng, cap;
} chart_t;

static int chart_add(chart_t *c, const char *case_, const char *param, int threads,
		     const char *l1, const char *l2)
{
	if (c->ng == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 16;
		group_t *p = realloc(c->g, cap * sizeof *p);
		if (!p)
			return -1;
		c->g = p;
		c->cap = cap;
	}
	group_t *g = &c->g[c->ng++];
	g->case_ = case_;
	g->param = param;
	g->threads = threads;
	snprintf(g->l1, sizeof g->l1, "%s", l1);
	snprintf(g->l2, sizeof g->l2, "%s", l2);
	snprintf(g->label, sizeof g->label, "%s%s%s", l1, l2[0] ? " " : "", l2);
	return 0;
}

static int no_param(const char *p)
{
	return !p[0] || !strcmp(p, "-");
}

/* The axis title of a metric; "operation" stands for each case's own op. */
static const char *metric_ylabel(const char *metric)
{
	if (!strcmp(metric, "real_time"))
		return "time per operation (ns)";
	if (!strcmp(metric, "instructions"))
		return "instructions per operation";
	return "cycles per operation";
}

static const bench_t *find_bench(const benches_t *bs, const char *case_, const char *variant,
				 const char *param, int threads)
{
	for (size_t i = 0; i < bs->n; i++) {
		const hp_record_t *r = bs->b[i].r;
		if (r->threads == threads && !strcmp(r->case_, case_) &&
		    !strcmp(r->variant, variant) && !strcmp(r->param, param))
			return &bs->b[i];
	}
	return NULL;
}

/* Writes the chart's .dat and draws it. Block 0 of the .dat holds the x
 * tick labels; then one block per variant (its name as the block's column
 * header): x, median, min, max, reps, label. */
static int draw_bars(const char *plotdir, const char *tmpl, const chart_t *c,
		     const benches_t *bs, const names_t *variants, const char *metric,
		     char *err, size_t errlen)
{
	/* bar width: the busiest group fills 80% of its slot */
	size_t maxm = 1;
	for (size_t g = 0; g < c->ng; g++) {
		size_t m = 0;
		for (size_t v = 0; v < variants->n; v++)
			if (find_bench(bs, c->g[g].case_, variants->s[v], c->g[g].param, c->g[g].threads))
				m++;
		if (m > maxm)
			maxm = m;
	}
	double bw = 0.8 / (double)maxm;
	if (bw > 0.6)
		bw = 0.6;

	sb_t d = { 0 }, cols = { 0 }, vars = { 0 };
	sb_printf(&d, "# hotpath bar chart %s: %s\n", c->name, c->title);
	sb_printf(&d, "# metric %s; bar = median over reps, whiskers = min..max; threads = 1"
		  " unless the label says otherwise\n", metric);
	sb_printf(&d, "# block 0: x, tick label line 1, line 2; then one block per variant:"
		  " x median min max reps label\n");
	size_t maxline = 0, maxlabel = 0;
	int two_lines = 0;
	for (size_t g = 0; g < c->ng; g++) {
		const group_t *gr = &c->g[g];
		sb_printf(&d, "%zu ", g);
		sb_datstr(&d, gr->l1);
		sb_printf(&d, " ");
		sb_datstr(&d, gr->l2);
		sb_printf(&d, "\n");
		size_t a = strlen(gr->l1), b = strlen(gr->l2), l = strlen(gr->label);
		if (a > maxline)
			maxline = a;
		if (b > maxline)
			maxline = b;
		if (b)
			two_lines = 1;
		if (l > maxlabel)
			maxlabel = l;
	}
	double medmin = INFINITY, medmax = 0, lomin = INFINITY;
	int nvar = 0;
	const char *only_variant = "";
	for (size_t v = 0; v < variants->n; v++) {
		int any = 0;
		for (size_t g = 0; g < c->ng; g++) {
			const group_t *gr = &c->g[g];
			const bench_t *b = find_bench(bs, gr->case_, variants->s[v], gr->param, gr->threads);
			if (!b)
				continue;
			/* slot of this variant among those present in the group */
			size_t k = 0, m = 0;
			for (size_t u = 0; u < variants->n; u++) {
				if (!find_bench(bs, gr->case_, variants->s[u], gr->param, gr->threads))
					continue;
				if (u < v)
					k++;
				m++;
			}
			if (!any) {
				sb_printf(&d, "\n\n");
				sb_datstr(&d, variants->s[v]);
				sb_printf(&d, " \"median\" \"min\" \"max\" \"reps\" \"label\"\n");
				sb_printf(&cols, "%s%zu", nvar ? " " : "", v % NCOLORS);
				only_variant = variants->s[v];
				nvar++;
				any = 1;
			}
			double x = (double)g + ((double)k - (double)(m - 1) / 2.0) * bw;
			sb_printf(&d, "%.4f %.9g %.9g %.9g %zu ", x, b->med, b->lo, b->hi, b->n);
			sb_datstr(&d, gr->label);
			sb_printf(&d, "\n");
			if (b->med < medmin)
				medmin = b->med;
			if (b->med > medmax)
				medmax = b->med;
			if (b->lo < lomin)
				lomin = b->lo;
		}
	}
	if (!nvar) {
		free(d.s);
		free(cols.s);
		return 0;
	}
	/* log scale when the medians span more than two decades */
	int logy = lomin > 0 && medmax / medmin > 100.0;
	double ymin = logy ? pow(10.0, floor(log10(lomin))) : (lomin < 0 ? lomin * 1.1 : 0.0);
	/* About 56 characters fit across a column-wide plot at 6 pt. Labels
	 * that do not fit on two lines are rotated. gnuplot sizes the bottom
	 * margin for neither (it leaves a gap under rotated labels and cuts
	 * the second line), so it is set here, in lines: a label rotated by
	 * 45° takes about 0.32 of a line per character (measured). */
	int xrot = (maxline + 1) * c->ng > 56 ? 45 : 0;
	double bmarg = (xrot ? 0.32 * (double)maxlabel + 1.5 : two_lines ? 3.2 : 2.0) +
		       (c->xlabel[0] ? 1.5 : 0);
	/* A rotated first label reaches left past the y axis by about 0.37 em
	 * per character; the left margin (tick labels, y label) holds ~3.5 em
	 * of it. Widen the x range until the rest fits in the first slot. */
	double xmin = -0.5;
	if (xrot) {
		const double plot_em = 34.0;   /* plot width in em at 6 pt */
		double slot = plot_em / (double)c->ng;
		double need = 0.37 * (double)strlen(c->g[0].label) - 3.5 - 0.5 * slot;
		if (need > 0)
			xmin -= need / slot;
	}

	/* one variant: its name goes in the title, and no key is needed */
	char title[400];
	if (nvar == 1)
		snprintf(title, sizeof title, "%s (%s)", c->title, only_variant);
	else
		snprintf(title, sizeof title, "%s", c->title);
	sb_printf(&vars, "title=");
	sb_gpstr(&vars, title);
	sb_printf(&vars, "; xlabel=");
	sb_gpstr(&vars, c->xlabel);
	sb_printf(&vars, "; ylabel=");
	sb_gpstr(&vars, metric_ylabel(metric));
	sb_printf(&vars, "; nvar=%d; colors='%s'; logy=%d; ymin=%.9g; xmin=%.3f; xmax=%.3f;"
		  " bw=%.4f; xrot=%d; bmarg=%.1f", nvar, cols.s ? cols.s : "", logy, ymin,
		  xmin, (double)c->ng - 0.5, bw, xrot, bmarg);
	sb_printf(&d, "\n# drawn by %s with gnuplot -e \"term=...; outfile=...; datafile=...; %s\"\n",
		  tmpl, vars.s ? vars.s : "");

	int rc = -1;
	if (vars.oom || cols.oom)
		snprintf(err, errlen, "out of memory");
	else if (write_dat(plotdir, c->name, &d, err, errlen) == 0 &&
		 render(plotdir, c->name, tmpl, vars.s, err, errlen) == 0)
		rc = 1;
	free(d.s);
	free(cols.s);
	free(vars.s);
	return rc;
}

/* The thread count a (case, param) is shown with: 1, or the smallest it
 * ran with when it never ran single-threaded. */
static int bar_threads(const benches_t *bs, const char *case_, const char *param)
{
	int t = 0;
	for (size_t i = 0; i < bs->n; i++) {
		const hp_record_t *r = bs->b[i].r;
		if (strcmp(r->case_, case_) || strcmp(r->param, param))
			continue;
		if (!t || r->threads < t)
			t = r->threads;
	}
	return t;
}

/* Per suite: an overview chart of every case with at most SPLIT_PARAMS
 * params, and one chart per case with more (x = param). Returns the number
 * of charts drawn or -1. */
static int suite_bars(const char *plotdir, const char *tmpl, const char *suite,
		      const benches_t *bs, const names_t *variants, const char *metric,
		      char *err, size_t errlen)
{
	char ssafe[64];
	safe_name(ssafe, sizeof ssafe, suite);
	names_t cases = { 0 };
	chart_t over = { 0 };
	int drawn = 0, rc = 0;
	snprintf(over.name, sizeof over.name, "%s-bars", ssafe);
	snprintf(over.title, sizeof over.title, "%s suite", suite);
	for (size_t i = 0; i < bs->n; i++)
		if (names_add(&cases, bs->b[i].r->case_) < 0)
			goto oom;
	for (size_t c = 0; c < cases.n && rc == 0; c++) {
		names_t params = { 0 };
		for (size_t i = 0; i < bs->n; i++)
			if (!strcmp(bs->b[i].r->case_, cases.s[c]) &&
			    names_add(&params, bs->b[i].r->param) < 0) {
				free(params.s);
				goto oom;
			}
		if (params.n > SPLIT_PARAMS) {
			chart_t one = { 0 };
			char csafe[64];
			safe_name(csafe, sizeof csafe, cases.s[c]);
			snprintf(one.name, sizeof one.name, "%s-%s-bars", ssafe, csafe);
			snprintf(one.title, sizeof one.title, "%s suite: %s", suite, cases.s[c]);
			const char *pn = hp_plot_param_namer ? hp_plot_param_namer(suite, cases.s[c]) : NULL;
			snprintf(one.xlabel, sizeof one.xlabel, "%s", pn ? pn : "param");
			for (size_t p = 0; p < params.n && rc == 0; p++) {
				int t = bar_threads(bs, cases.s[c], params.s[p]);
				char l2[32] = "";
				if (t != 1)
					snprintf(l2, sizeof l2, "(%d thr)", t);
				if (chart_add(&one, cases.s[c], params.s[p], t, params.s[p], l2) < 0)
					rc = -2;
			}
			if (rc == 0) {
				rc = draw_bars(plotdir, tmpl, &one, bs, variants, metric, err, errlen);
				if (rc > 0)
					drawn++, rc = 0;
			}
			free(one.g);
		} else {
			for (size_t p = 0; p < params.n && rc == 0; p++) {
				int t = bar_threads(bs, cases.s[c], params.s[p]);
				char l2[128];
				const char *pl = no_param(params.s[p]) && params.n == 1 ? "" : params.s[p];
				if (t != 1)
					snprintf(l2, sizeof l2, "%s%s(%d thr)", pl, pl[0] ? " " : "", t);
				else
					snprintf(l2, sizeof l2, "%s", pl);
				if (chart_add(&over, cases.s[c], params.s[p], t, cases.s[c], l2) < 0)
					rc = -2;
			}
		}
		free(params.s);
	}
	if (rc == -2)
		goto oom;
	if (rc == 0 && over.ng) {
		rc = draw_bars(plotdir, tmpl, &over, bs, variants, metric, err, errlen);
		if (rc > 0)
			drawn++, rc = 0;
	}
	free(cases.s);
	free(over.g);
	return rc < 0 ? -1 : drawn;
oom:
	free(cases.s);
	free(over.g);
	snprintf(err, errlen, "out of memory");
	return -1;
}

/* ================================================================== */
/* Thread sweeps                                                       */
/* ================================================================== */

static int cmp_threads(const void *a, const void *b)
{
	const bench_t *x = *(const bench_t *const *)a, *y = *(const bench_t *const *)b;
	return (x->r->threads > y->r->threads) - (x->r->threads < y->r->threads);
}

/* Throughput of all threads against threads for one case: one line per
 * variant (and param, when there are several). real_time is the time one
 * thread takes per op, so all threads together do threads * 1e9 / ns ops/s.
 * Returns 1 when drawn, 0 when the case has no sweep, -1 on error. */
static int case_threads(const char *plotdir, const char *tmpl, const char *suite,
			const char *case_, const benches_t *bs, const names_t *variants,
			char *err, size_t errlen)
{
	names_t cv = { 0 }, cp = { 0 };
	int sweep = 0, tmin = 0, tmax = 0, rc = -1;
	const bench_t **pts = calloc(bs->n ? bs->n : 1, sizeof *pts);
	sb_t d = { 0 }, vars = { 0 }, cols = { 0 }, ptys = { 0 };
	if (!pts)
		goto out;
	for (size_t i = 0; i < bs->n; i++) {
		const hp_record_t *r = bs->b[i].r;
		if (strcmp(r->case_, case_))
			continue;
		if (r->threads > 1)
			sweep = 1;
		if (!tmin || r->threads < tmin)
			tmin = r->threads;
		if (r->threads > tmax)
			tmax = r->threads;
		if (names_add(&cp, r->param) < 0)
			goto out;
	}
	/* one thread count (a case run on all CPUs only) is no sweep */
	if (!sweep || tmin == tmax) {
		rc = 0;
		goto out;
	}
	/* variants in the suite's order, so colours match the bar charts */
	for (size_t v = 0; v < variants->n; v++)
		for (size_t i = 0; i < bs->n; i++)
			if (!strcmp(bs->b[i].r->case_, case_) &&
			    !strcmp(bs->b[i].r->variant, variants->s[v])) {
				if (names_add(&cv, variants->s[v]) < 0)
					goto out;
				break;
			}

	char csafe[64], ssafe[64], name[160], title[256];
	safe_name(ssafe, sizeof ssafe, suite);
	safe_name(csafe, sizeof csafe, case_);
	snprintf(name, sizeof name, "%s-%s-threads", ssafe, csafe);
	snprintf(title, sizeof title, "%s suite: %s", suite, case_);
	sb_printf(&d, "# hotpath thread sweep %s: %s\n", name, title);
	sb_printf(&d, "# throughput = threads * 1e9 / real_time (ns per op and thread), in ops/s;"
		  " median over reps, min..max from the slowest and fastest rep\n");
	sb_printf(&d, "# one block per line: threads ops_per_s ops_min ops_max real_time_median_ns reps\n");
	sb_printf(&d, "# (then, when the key lists variants and params apart, one block per entry)\n");

	/* Several variants and several params: colour is the variant, shape
	 * the param, and the key lists each once (v + p entries, not v * p). */
	int factored = cv.n > 1 && cp.n > 1;
	int nlines = 0, nkeyv = 0, nkeyp = 0;
	double ymin = INFINITY, ymax = 0;
	for (size_t v = 0; v < cv.n; v++) {
		long gv = names_find(variants, cv.s[v]);
		for (size_t p = 0; p < cp.n; p++) {
			size_t np = 0;
			for (size_t i = 0; i < bs->n; i++) {
				const hp_record_t *r = bs->b[i].r;
				if (!strcmp(r->case_, case_) && !strcmp(r->variant, cv.s[v]) &&
				    !strcmp(r->param, cp.s[p]) && bs->b[i].med > 0)
					pts[np++] = &bs->b[i];
			}
			if (!np)
				continue;
			qsort(pts, np, sizeof *pts, cmp_threads);
			char lt[160];
			if (factored)
				snprintf(lt, sizeof lt, "%s %s", cv.s[v], cp.s[p]);
			else if (cp.n > 1)
				snprintf(lt, sizeof lt, "%s", cp.s[p]);
			else
				snprintf(lt, sizeof lt, "%s", cv.s[v]);
			sb_printf(&d, "%s", nlines ? "\n\n" : "");
			sb_datstr(&d, lt);
			sb_printf(&d, " \"ops_per_s\" \"ops_min\" \"ops_max\" \"real_time_ns\" \"reps\"\n");
			for (size_t k = 0; k < np; k++) {
				const bench_t *b = pts[k];
				double t = b->r->threads;
				double ops = t * 1e9 / b->med;
				double olo = b->hi > 0 ? t * 1e9 / b->hi : ops;
				double ohi = b->lo > 0 ? t * 1e9 / b->lo : ops;
				sb_printf(&d, "%d %.9g %.9g %.9g %.9g %zu\n", b->r->threads, ops,
					  olo, ohi, b->med, b->n);
				if (ops < ymin)
					ymin = ops;
				if (ops > ymax)
					ymax = ops;
			}
			/* colour tells variants apart; with one variant, params */
			size_t ci = cv.n > 1 ? (size_t)gv : (size_t)nlines;
			size_t pi = factored ? p : (size_t)nlines;
			sb_printf(&cols, "%s%zu", nlines ? " " : "", ci % NCOLORS);
			sb_printf(&ptys, "%s%zu", nlines ? " " : "", pi % NPOINTS);
			nlines++;
		}
	}
	if (!nlines) {
		rc = 0;
		goto out;
	}
	/* key-only blocks: a title and one undefined point each */
	for (size_t v = 0; factored && v < cv.n; v++, nkeyv++) {
		sb_printf(&d, "\n\n");
		sb_datstr(&d, cv.s[v]);
		sb_printf(&d, " \"key\"\n0 NaN\n");
		sb_printf(&cols, " %ld", names_find(variants, cv.s[v]) % NCOLORS);
		sb_printf(&ptys, " 0");
	}
	for (size_t p = 0; factored && p < cp.n; p++, nkeyp++) {
		sb_printf(&d, "\n\n");
		sb_datstr(&d, cp.s[p]);
		sb_printf(&d, " \"key\"\n0 NaN\n");
		sb_printf(&cols, " 0");
		sb_printf(&ptys, " %zu", p % NPOINTS);
	}
	int logy = ymin > 0 && ymax / ymin > 100.0;
	/* A linear axis reads best in plain numbers of a named magnitude
	 * ("1.5" million) rather than in "1.5M" or "1.5e+06". */
	static const struct { double div; const char *label; } mag[] = {
		{ 1e9, "billion ops/s (all threads)" },
		{ 1e6, "million ops/s (all threads)" },
		{ 1e3, "thousand ops/s (all threads)" },
		{ 1, "ops/s (all threads)" },
	};
	size_t m = 0;
	while (!logy && m + 1 < sizeof mag / sizeof mag[0] && ymax < mag[m].div)
		m++;
	if (logy)
		m = sizeof mag / sizeof mag[0] - 1;
	if (nlines == 1) {
		size_t tl = strlen(title);
		snprintf(title + tl, sizeof title - tl, " (%s)", cv.s[0]);
	}
	sb_printf(&vars, "title=");
	sb_gpstr(&vars, title);
	sb_printf(&vars, "; xlabel='threads'; ylabel=");
	sb_gpstr(&vars, mag[m].label);
	sb_printf(&vars, "; yscale=%g; nlines=%d; nkeyv=%d; nkeyp=%d; colors='%s'; ptypes='%s';"
		  " logy=%d; xmin=%.1f; xmax=%.1f", mag[m].div, nlines, nkeyv, nkeyp, cols.s,
		  ptys.s, logy, tmin - 0.5, tmax + 0.5);
	sb_printf(&d, "\n# drawn by %s with gnuplot -e \"term=...; outfile=...; datafile=...; %s\"\n",
		  tmpl, vars.s ? vars.s : "");
	if (vars.oom || cols.oom || ptys.oom) {
		snprintf(err, errlen, "out of memory");
		goto out_err;
	}
	if (write_dat(plotdir, name, &d, err, errlen) == 0 &&
	    render(plotdir, name, tmpl, vars.s, err, errlen) == 0)
		rc = 1;
	goto out_err;
out:
	if (rc < 0)
		snprintf(err, errlen, "out of memory");
out_err:
	free(pts);
	free(cv.s);
	free(cp.s);
	free(d.s);
	free(vars.s);
	free(cols.s);
	free(ptys.s);
	return rc;
}

/* ================================================================== */
/* Entry points                                                        */
/* ================================================================== */

static const char *templates_dir(const char *templates)
{
	if (templates && *templates)
		return templates;
	const char *e = getenv("HP_TEMPLATES");
	return e && *e ? e : HP_SOURCE_ROOT "/scripts";
}

int hp_plot_render(const char *plotdir, const char *name, const char *tmpl,
		   const char *vars, char *err, size_t errlen)
{
	return render(plotdir, name, tmpl, vars, err, errlen);
}

static hp_plot_extra_fn extras[8];
static int nextras;

int hp_plot_add_extra(hp_plot_extra_fn fn)
{
	if (nextras == (int)(sizeof extras / sizeof extras[0]))
		return -1;
	extras[nextras++] = fn;
	return 0;
}

int hp_plot_results(const char *dir, const hp_results_t *r,
		    const char *templates, char *err, size_t errlen)
{
	const char *why = hp_plot_unavailable();
	if (why) {
		snprintf(err, errlen, "cannot draw plots: %s", why);
		return -1;
	}
	char plotdir[4096], tbars[4096], tthreads[4096];
	const char *tdir = templates_dir(templates);
	snprintf(tbars, sizeof tbars, "%s/bars.gp", tdir);
	snprintf(tthreads, sizeof tthreads, "%s/threads.gp", tdir);
	if (access(tbars, R_OK) != 0 || access(tthreads, R_OK) != 0) {
		snprintf(err, errlen, "gnuplot template %s: %s (the templates folder is scripts/"
			 " of the source tree)", access(tbars, R_OK) ? tbars : tthreads,
			 strerror(errno));
		return -1;
	}
	snprintf(plotdir, sizeof plotdir, "%s/plots", dir);
	if (mkdir(plotdir, 0777) != 0 && errno != EEXIST) {
		snprintf(err, errlen, "cannot create %s: %s", plotdir, strerror(errno));
		return -1;
	}

	names_t suites = { 0 }, variants = { 0 };
	int total = 0;
	for (size_t i = 0; i < r->nrec; i++)
		if (names_add(&suites, r->rec[i].suite) < 0)
			goto oom;
	for (size_t s = 0; s < suites.n; s++) {
		const char *metric = primary_metric(r, suites.s[s]);
		if (!metric)
			continue;
		benches_t bs = { 0 };
		if (collect(r, suites.s[s], metric, &bs) < 0) {
			benches_free(&bs);
			goto oom;
		}
		/* A variant's colour is its place in the suite's run order, the
		 * same in every plot of the suite: the first variant (impl, where
		 * a suite has one) is always the first colour. */
		variants.n = 0;
		for (size_t i = 0; i < bs.n; i++)
			if (names_add(&variants, bs.b[i].r->variant) < 0) {
				benches_free(&bs);
				goto oom;
			}
		int n = suite_bars(plotdir, tbars, suites.s[s], &bs, &variants, metric, err, errlen);
		if (n >= 0)
			total += n;
		/* only times give a throughput; instruction counts do not */
		names_t cases = { 0 };
		for (size_t i = 0; n >= 0 && !strcmp(metric, "real_time") && i < bs.n; i++) {
			if (names_find(&cases, bs.b[i].r->case_) >= 0)
				continue;
			if (names_add(&cases, bs.b[i].r->case_) < 0) {
				snprintf(err, errlen, "out of memory");
				n = -1;
				break;
			}
			int k = case_threads(plotdir, tthreads, suites.s[s], bs.b[i].r->case_,
					     &bs, &variants, err, errlen);
			if (k < 0)
				n = -1;
			else
				total += k;
		}
		free(cases.s);
		benches_free(&bs);
		if (n < 0) {
			free(suites.s);
			free(variants.s);
			return -1;
		}
	}
	free(suites.s);
	free(variants.s);
	for (int i = 0; i < nextras; i++) {
		int n = extras[i](plotdir, r, tdir, err, errlen);
		if (n < 0)
			return -1;
		total += n;
	}
	return total;
oom:
	free(suites.s);
	free(variants.s);
	snprintf(err, errlen, "out of memory");
	return -1;
}

int hp_plot_dir(const char *dir, const char *templates)
{
	char csv[4096], err[2048];
	struct stat st;
	snprintf(csv, sizeof csv, "%s/results.csv", dir);
	if (stat(csv, &st) != 0 || !S_ISREG(st.st_mode)) {
		fprintf(stderr, "hotpath plot: %s is not a results folder (no results.csv)\n", dir);
		return 2;
	}
	hp_results_t r;
	hp_results_init(&r);
	if (hp_read_csv(csv, &r, err, sizeof err) != 0) {
		fprintf(stderr, "hotpath plot: %s\n", err);
		hp_results_free(&r);
		return 2;
	}
	const char *why = hp_plot_unavailable();
	if (why) {
		fprintf(stderr, "hotpath plot: cannot draw plots: %s\n", why);
		hp_results_free(&r);
		return 1;
	}
	int n = hp_plot_results(dir, &r, templates, err, sizeof err);
	hp_results_free(&r);
	if (n < 0) {
		fprintf(stderr, "hotpath plot: %s\n", err);
		return 1;
	}
	if (n == 0)
		printf("hotpath plot: nothing to plot in %s (no real_time, instructions or"
		       " perf_cycles rows)\n", csv);
	else
		printf("hotpath plot: %d plot%s (svg, png, pdf) in %s/plots\n", n,
		       n == 1 ? "" : "s", dir);
	return 0;
}
