/* plot.c — turns a results set into bar and thread-sweep plots with gnuplot. */
#include "plot.h"
#include "keymap.h"
#include "merge.h"
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

/* Appends n raw bytes (a child's output may hold anything). */
static void sb_append(sb_t *b, const char *p, size_t n)
{
	if (b->oom)
		return;
	if (b->n + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < b->n + n + 1)
			cap *= 2;
		char *s = realloc(b->s, cap);
		if (!s) {
			b->oom = 1;
			return;
		}
		b->s = s;
		b->cap = cap;
	}
	memcpy(b->s + b->n, p, n);
	b->n += n;
	b->s[b->n] = 0;
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

/* Reads fd to its end into out (grown as needed, always terminated).
 * 0, or -1 when out of memory (the rest is drained so the child can exit). */
static int read_all(int fd, sb_t *out)
{
	char buf[4096];
	sb_append(out, "", 0);
	for (;;) {
		ssize_t k = read(fd, buf, sizeof buf);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		sb_append(out, buf, (size_t)k);
	}
	return out->oom ? -1 : 0;
}

/* Runs argv with stdin from /dev/null and stdout+stderr captured into out,
 * all of it. Returns the exit status (>= 0), or -1 with errno when it
 * could not be started, did not exit normally, or its output did not fit
 * in memory (ENOMEM). */
static int run_capture(char *const argv[], sb_t *out)
{
	int fd[2];
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
	int oom = read_all(fd[0], out);
	close(fd[0]);
	int status;
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR)
			return -1;
	}
	if (oom) {
		errno = ENOMEM;
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

	sb_t out = { 0 };
	char *argv[] = { (char *)prog, "-d", "-e", "set terminal", NULL };
	int st = run_capture(argv, &out);
	if (st < 0) {
		int e = errno;
		free(out.s);
		if (e == ENOENT)
			snprintf(reason, sizeof reason,
				 "%s not found%s (install gnuplot-nox, or set HP_GNUPLOT to its path)",
				 prog, strchr(prog, '/') ? "" : " in PATH");
		else
			snprintf(reason, sizeof reason, "cannot run %s: %s", prog, strerror(e));
		return reason;
	}
	if (st != 0) {
		char msg[256];
		one_line(out.s, msg, sizeof msg);
		free(out.s);
		snprintf(reason, sizeof reason, "%s -e 'set terminal' failed (exit %d): %s",
			 prog, st, msg);
		return reason;
	}
	char missing[64] = "";
	for (size_t i = 0; i < sizeof terms / sizeof terms[0]; i++) {
		if (!has_terminal(out.s, terms[i].term)) {
			if (missing[0])
				strcat(missing, ", ");
			strcat(missing, terms[i].term);
		}
	}
	free(out.s);
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
	const hp_bench_vals_t *r;       /* its entry: names the benchmark */
	double *v;                      /* the finite values, sorted */
	size_t n;
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

/* The best-ranked primary metric (hp_primary_rank, the choice summary.md
 * makes) the suite has; NULL when it has none of them. */
static const char *primary_metric(const hp_bench_set_t *s, const char *suite)
{
	const char *best = NULL;
	int rank = HP_NPRIMARY;

	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->b[i].suite, suite) && s->b[i].prio < rank) {
			rank = s->b[i].prio;
			best = s->b[i].metric;
		}
	return best;
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

/* One bench per entry of the suite's metric that has a finite value, in
 * the set's order, each with its median and range. */
static int collect(const hp_bench_set_t *s, const char *suite, const char *metric, benches_t *bs)
{
	for (size_t i = 0; i < s->n; i++) {
		const hp_bench_vals_t *e = &s->b[i];
		bench_t b = { .r = e };

		if (strcmp(e->suite, suite) || strcmp(e->metric, metric))
			continue;
		b.v = malloc((e->n ? e->n : 1) * sizeof *b.v);
		if (!b.v)
			return -1;
		for (size_t k = 0; k < e->n; k++)
			if (isfinite(e->v[k]))
				b.v[b.n++] = e->v[k];
		if (!b.n) {
			free(b.v);
			continue;
		}
		if (bs->n == bs->cap) {
			size_t cap = bs->cap ? bs->cap * 2 : 32;
			bench_t *p = realloc(bs->b, cap * sizeof *p);
			if (!p) {
				free(b.v);
				return -1;
			}
			bs->b = p;
			bs->cap = cap;
		}
		b.med = hp_median(b.v, b.n);   /* sorts v */
		b.lo = b.v[0];
		b.hi = b.v[b.n - 1];
		bs->b[bs->n++] = b;
	}
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

/* The gnuplot -e assignments of one image: term, outfile, datafile, then
 * the template's own settings. NULL when out of memory. */
static char *gp_assignments(const char *term, const char *outfile, const char *datafile,
			    const char *vars)
{
	sb_t e = { 0 };
	sb_printf(&e, "term=");
	sb_gpstr(&e, term);
	sb_printf(&e, "; outfile=");
	sb_gpstr(&e, outfile);
	sb_printf(&e, "; datafile=");
	sb_gpstr(&e, datafile);
	sb_printf(&e, "; %s", vars);
	if (e.oom) {
		free(e.s);
		return NULL;
	}
	return e.s;
}

/* Passes on what gnuplot said about an image it drew anyway. */
static void gp_warn(const char *name, const char *ext, const char *said)
{
	char msg[1024];
	one_line(said, msg, sizeof msg);
	/* a series with no points (e.g. an extfrag index that is "not
	 * applicable" all along) is expected, not worth a warning */
	if (msg[0] && !strstr(msg, "Skipping data file with no valid points"))
		fprintf(stderr, "hotpath plot: gnuplot on %s.%s: %s\n", name, ext, msg);
}

/* NULL when the image file ends as a complete one of its kind does (gnuplot
 * exits 0 on a full disk with the file cut short), else what is wrong. */
static const char *image_incomplete(const char *path, const char *ext)
{
	static const char png_end[12] = { 0, 0, 0, 0, 'I', 'E', 'N', 'D', (char)0xae, 0x42, 0x60, (char)0x82 };
	char tail[1024];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return "cannot be read back";
	off_t end = lseek(fd, 0, SEEK_END);
	off_t from = end > (off_t)sizeof tail ? end - (off_t)sizeof tail : 0;
	ssize_t n = end > 0 ? pread(fd, tail, (size_t)(end - from), from) : 0;
	close(fd);
	if (n <= 0)
		return "is empty";
	/* the last non-blank bytes */
	while (n > 0 && (tail[n - 1] == '\n' || tail[n - 1] == '\r' || tail[n - 1] == ' '))
		n--;
	if (!strcmp(ext, "svg"))
		return n >= 6 && !memcmp(tail + n - 6, "</svg>", 6) ? NULL : "is cut short (no closing </svg>)";
	if (!strcmp(ext, "png"))
		return n >= 12 && !memcmp(tail + n - 12, png_end, 12) ? NULL : "is cut short (no IEND chunk)";
	if (!strcmp(ext, "pdf"))
		return n >= 5 && !memcmp(tail + n - 5, "%%EOF", 5) ? NULL : "is cut short (no %%EOF)";
	return NULL;
}

/* Draws one image of a plot to tmp with gnuplot. 0, or -1 with err (and
 * no tmp left behind). On success *said holds gnuplot's output. */
static int render_one(const char *name, const char *tmpl, size_t t, const char *dat,
		      const char *tmp, const char *vars, sb_t *said, char *err, size_t errlen)
{
	char *e = gp_assignments(terms[t].term, tmp, dat, vars);
	if (!e) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	char *argv[] = { (char *)gp_prog(), "-d", "-e", e, (char *)tmpl, NULL };
	int st = run_capture(argv, said);
	int saved = errno;
	free(e);
	struct stat sst;
	if (st == 0 && stat(tmp, &sst) == 0 && sst.st_size > 0) {
		const char *cut = image_incomplete(tmp, terms[t].ext);
		if (!cut)
			return 0;
		snprintf(err, errlen, "gnuplot's %s.%s %s (a full disk?)", name, terms[t].ext, cut);
		unlink(tmp);
		return -1;
	}
	char msg[1024];
	one_line(said->s ? said->s : "", msg, sizeof msg);
	if (st < 0)
		snprintf(err, errlen, "cannot run %s for %s.%s: %s", gp_prog(),
			 name, terms[t].ext, strerror(saved));
	else
		snprintf(err, errlen, "gnuplot failed on %s for %s.%s (exit %d): %s",
			 tmpl, name, terms[t].ext, st, msg[0] ? msg : "no image written");
	unlink(tmp);
	return -1;
}

/* Draws plotdir/name.{svg,png,pdf} from plotdir/name.dat with one template.
 * `vars` holds the template's other settings as gnuplot assignments. Each
 * image is drawn to name.tmp.<ext> and renamed only when gnuplot succeeded,
 * so a failed or killed run leaves no half-written image. */
static int render(const char *plotdir, const char *name, const char *tmpl,
		  const char *vars, char *err, size_t errlen)
{
	char dat[4096], tmp[4096], fin[4096];
	snprintf(dat, sizeof dat, "%s/%s.dat", plotdir, name);
	for (size_t t = 0; t < sizeof terms / sizeof terms[0]; t++) {
		snprintf(tmp, sizeof tmp, "%s/%s.tmp.%s", plotdir, name, terms[t].ext);
		snprintf(fin, sizeof fin, "%s/%s.%s", plotdir, name, terms[t].ext);
		sb_t said = { 0 };
		if (render_one(name, tmpl, t, dat, tmp, vars, &said, err, errlen) != 0) {
			free(said.s);
			return -1;
		}
		int fd = open(tmp, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || fsync(fd) != 0) {
			snprintf(err, errlen, "cannot sync %s: %s", tmp, strerror(errno));
			if (fd >= 0)
				close(fd);
			unlink(tmp);
			free(said.s);
			return -1;
		}
		close(fd);
		if (rename(tmp, fin) != 0) {
			snprintf(err, errlen, "cannot rename %s to %s: %s", tmp, fin, strerror(errno));
			unlink(tmp);
			free(said.s);
			return -1;
		}
		if (said.s && said.s[0])
			gp_warn(name, terms[t].ext, said.s);
		free(said.s);
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
	if (!strcmp(metric, "cache_d1_misses"))
		return "D1 misses per operation (callgrind)";
	return "cycles per operation";
}

static const bench_t *find_bench(const benches_t *bs, const char *case_, const char *variant,
				 const char *param, int threads)
{
	for (size_t i = 0; i < bs->n; i++) {
		const hp_bench_vals_t *r = bs->b[i].r;
		if (r->threads == threads && !strcmp(r->case_, case_) &&
		    !strcmp(r->variant, variant) && !strcmp(r->param, param))
			return &bs->b[i];
	}
	return NULL;
}

/* Bar width: the busiest group fills 80% of its slot, at most 0.6. */
static double bar_width(const chart_t *c, const benches_t *bs, const names_t *variants)
{
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
	return bw > 0.6 ? 0.6 : bw;
}

/* What the layout of a bar chart depends on, gathered while writing it. */
typedef struct bars_stat {
	size_t maxline, maxlabel;   /* longest tick label line, longest label */
	int two_lines;
	double medmin, medmax, lomin;
	int nvar;                   /* variants with at least one bar */
	const char *only_variant;   /* the last of them (the only one when nvar == 1) */
} bars_stat_t;

/* Block 0 of the .dat: x and the two lines of each tick label. */
static void bars_ticks(sb_t *d, const chart_t *c, bars_stat_t *st)
{
	for (size_t g = 0; g < c->ng; g++) {
		const group_t *gr = &c->g[g];
		sb_printf(d, "%zu ", g);
		sb_datstr(d, gr->l1);
		sb_printf(d, " ");
		sb_datstr(d, gr->l2);
		sb_printf(d, "\n");
		size_t a = strlen(gr->l1), b = strlen(gr->l2), l = strlen(gr->label);
		if (a > st->maxline)
			st->maxline = a;
		if (b > st->maxline)
			st->maxline = b;
		if (b)
			st->two_lines = 1;
		if (l > st->maxlabel)
			st->maxlabel = l;
	}
}

/* The slot of variant v among the variants present in group gr, and how
 * many are present. */
static size_t bar_slot(const benches_t *bs, const names_t *variants, const group_t *gr,
		       size_t v, size_t *present)
{
	size_t k = 0, m = 0;
	for (size_t u = 0; u < variants->n; u++) {
		if (!find_bench(bs, gr->case_, variants->s[u], gr->param, gr->threads))
			continue;
		if (u < v)
			k++;
		m++;
	}
	*present = m;
	return k;
}

/* One block per variant with bars: x median min max reps label. Its
 * colour (its place in the suite's order) goes to cols. */
static void bars_variants(sb_t *d, sb_t *cols, const chart_t *c, const benches_t *bs,
			  const names_t *variants, double bw, bars_stat_t *st)
{
	for (size_t v = 0; v < variants->n; v++) {
		int any = 0;
		for (size_t g = 0; g < c->ng; g++) {
			const group_t *gr = &c->g[g];
			const bench_t *b = find_bench(bs, gr->case_, variants->s[v], gr->param, gr->threads);
			if (!b)
				continue;
			size_t m, k = bar_slot(bs, variants, gr, v, &m);
			if (!any) {
				sb_printf(d, "\n\n");
				sb_datstr(d, variants->s[v]);
				sb_printf(d, " \"median\" \"min\" \"max\" \"reps\" \"label\"\n");
				sb_printf(cols, "%s%zu", st->nvar ? " " : "", v % NCOLORS);
				st->only_variant = variants->s[v];
				st->nvar++;
				any = 1;
			}
			double x = (double)g + ((double)k - (double)(m - 1) / 2.0) * bw;
			sb_printf(d, "%.4f %.9g %.9g %.9g %zu ", x, b->med, b->lo, b->hi, b->n);
			sb_datstr(d, gr->label);
			sb_printf(d, "\n");
			if (b->med < st->medmin)
				st->medmin = b->med;
			if (b->med > st->medmax)
				st->medmax = b->med;
			if (b->lo < st->lomin)
				st->lomin = b->lo;
		}
	}
}

/* The template's settings of a bar chart: title, labels, log scale, the
 * rotation of tick labels and the margins they need. */
static void bars_vars(sb_t *vars, const chart_t *c, const bars_stat_t *st, const char *metric,
		      const char *cols, double bw)
{
	/* log scale when the medians span more than two decades */
	int logy = st->lomin > 0 && st->medmax / st->medmin > 100.0;
	double ymin = logy ? pow(10.0, floor(log10(st->lomin))) : (st->lomin < 0 ? st->lomin * 1.1 : 0.0);
	/* About 56 characters fit across a column-wide plot at 6 pt. Labels
	 * that do not fit on two lines are rotated. gnuplot sizes the bottom
	 * margin for neither (it leaves a gap under rotated labels and cuts
	 * the second line), so it is set here, in lines: a label rotated by
	 * 45° takes about 0.32 of a line per character (measured). */
	int xrot = (st->maxline + 1) * c->ng > 56 ? 45 : 0;
	double bmarg = (xrot ? 0.32 * (double)st->maxlabel + 1.5 : st->two_lines ? 3.2 : 2.0) +
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
	sb_printf(vars, "title=");
	if (st->nvar == 1) {
		sb_t t = { 0 };
		sb_printf(&t, "%s (%s)", c->title, st->only_variant);
		sb_gpstr(vars, t.oom ? "" : t.s);
		vars->oom |= t.oom;
		free(t.s);
	} else {
		sb_gpstr(vars, c->title);
	}
	sb_printf(vars, "; xlabel=");
	sb_gpstr(vars, c->xlabel);
	sb_printf(vars, "; ylabel=");
	sb_gpstr(vars, metric_ylabel(metric));
	sb_printf(vars, "; nvar=%d; colors='%s'; logy=%d; ymin=%.9g; xmin=%.3f; xmax=%.3f;"
		  " bw=%.4f; xrot=%d; bmarg=%.1f", st->nvar, cols, logy, ymin,
		  xmin, (double)c->ng - 0.5, bw, xrot, bmarg);
}

/* Writes the chart's .dat and draws it. Block 0 of the .dat holds the x
 * tick labels; then one block per variant (its name as the block's column
 * header): x, median, min, max, reps, label. Returns 1 when drawn, 0 when
 * no variant has a bar, -1 with err. */
static int draw_bars(const char *plotdir, const char *tmpl, const chart_t *c,
		     const benches_t *bs, const names_t *variants, const char *metric,
		     char *err, size_t errlen)
{
	double bw = bar_width(c, bs, variants);
	bars_stat_t st = { .medmin = INFINITY, .lomin = INFINITY, .only_variant = "" };
	sb_t d = { 0 }, cols = { 0 }, vars = { 0 };
	sb_printf(&d, "# hotpath bar chart %s: %s\n", c->name, c->title);
	sb_printf(&d, "# metric %s; bar = median over reps, whiskers = min..max; threads = 1"
		  " unless the label says otherwise\n", metric);
	sb_printf(&d, "# block 0: x, tick label line 1, line 2; then one block per variant:"
		  " x median min max reps label\n");
	bars_ticks(&d, c, &st);
	bars_variants(&d, &cols, c, bs, variants, bw, &st);
	int rc = 0;
	if (!st.nvar)
		goto out;
	bars_vars(&vars, c, &st, metric, cols.s ? cols.s : "", bw);
	sb_printf(&d, "\n# drawn by %s with gnuplot -e \"term=...; outfile=...; datafile=...; %s\"\n",
		  tmpl, vars.s ? vars.s : "");
	rc = -1;
	if (vars.oom || cols.oom)
		snprintf(err, errlen, "out of memory");
	else if (write_dat(plotdir, c->name, &d, err, errlen) == 0 &&
		 render(plotdir, c->name, tmpl, vars.s, err, errlen) == 0)
		rc = 1;
out:
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
		const hp_bench_vals_t *r = bs->b[i].r;
		if (strcmp(r->case_, case_) || strcmp(r->param, param))
			continue;
		if (!t || r->threads < t)
			t = r->threads;
	}
	return t;
}

/* The descriptor of a suite or a case, by name, from the table given to
 * hp_plot_results (plot.c is linked without the registry); NULL when the
 * table has none. */
static const hp_suite_t *desc_suite(const hp_suite_t *const *suites, const char *name)
{
	for (size_t i = 0; suites && suites[i]; i++)
		if (!strcmp(suites[i]->name, name))
			return suites[i];
	return NULL;
}

static const char *case_param_name(const hp_suite_t *s, const char *case_)
{
	for (size_t i = 0; s && s->cases && s->cases[i]; i++)
		if (!strcmp(s->cases[i]->name, case_))
			return s->cases[i]->param_name;
	return NULL;
}

/* The params a case ran with, in the order first seen. -1 out of memory. */
static int case_params(const benches_t *bs, const char *case_, names_t *params)
{
	for (size_t i = 0; i < bs->n; i++)
		if (!strcmp(bs->b[i].r->case_, case_) && names_add(params, bs->b[i].r->param) < 0)
			return -1;
	return 0;
}

/* A case with more than SPLIT_PARAMS params gets a chart of its own, x =
 * param, labelled with the case's param_name from its descriptor. Returns
 * 1 drawn, 0 nothing to draw, -1 with err. The fixed sizes of the chart
 * hold any name a record can carry (record.h). */
static int case_bars(const char *plotdir, const char *tmpl, const hp_suite_t *desc,
		     const char *suite, const char *case_, const names_t *params,
		     const benches_t *bs, const names_t *variants, const char *metric,
		     char *err, size_t errlen)
{
	chart_t one = { 0 };
	char ssafe[64], csafe[64];
	safe_name(ssafe, sizeof ssafe, suite);
	safe_name(csafe, sizeof csafe, case_);
	snprintf(one.name, sizeof one.name, "%s-%s-bars", ssafe, csafe);
	snprintf(one.title, sizeof one.title, "%s suite: %s", suite, case_);
	const char *pn = case_param_name(desc, case_);
	snprintf(one.xlabel, sizeof one.xlabel, "%s", pn ? pn : "param");
	for (size_t p = 0; p < params->n; p++) {
		int t = bar_threads(bs, case_, params->s[p]);
		char l2[32] = "";
		if (t != 1)
			snprintf(l2, sizeof l2, "(%d thr)", t);
		if (chart_add(&one, case_, params->s[p], t, params->s[p], l2) < 0) {
			free(one.g);
			snprintf(err, errlen, "out of memory");
			return -1;
		}
	}
	int rc = draw_bars(plotdir, tmpl, &one, bs, variants, metric, err, errlen);
	free(one.g);
	return rc;
}

/* Adds a case with few params to the suite's overview chart: x = case,
 * the param (and threads, when not 1) on the second line. */
static int overview_add(chart_t *over, const benches_t *bs, const char *case_, const names_t *params)
{
	for (size_t p = 0; p < params->n; p++) {
		int t = bar_threads(bs, case_, params->s[p]);
		char l2[128];
		const char *pl = no_param(params->s[p]) && params->n == 1 ? "" : params->s[p];
		if (t != 1)
			snprintf(l2, sizeof l2, "%s%s(%d thr)", pl, pl[0] ? " " : "", t);
		else
			snprintf(l2, sizeof l2, "%s", pl);
		if (chart_add(over, case_, params->s[p], t, case_, l2) < 0)
			return -1;
	}
	return 0;
}

/* Per suite: an overview chart of every case with at most SPLIT_PARAMS
 * params, and one chart per case with more (x = param). Returns the number
 * of charts drawn or -1. */
static int suite_bars(const char *plotdir, const char *tmpl, const hp_suite_t *desc,
		      const char *suite, const benches_t *bs, const names_t *variants,
		      const char *metric, char *err, size_t errlen)
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
			rc = -2;
	for (size_t c = 0; c < cases.n && rc == 0; c++) {
		names_t params = { 0 };
		if (case_params(bs, cases.s[c], &params) < 0)
			rc = -2;
		else if (params.n > SPLIT_PARAMS)
			rc = case_bars(plotdir, tmpl, desc, suite, cases.s[c], &params, bs, variants,
				       metric, err, errlen);
		else if (overview_add(&over, bs, cases.s[c], &params) < 0)
			rc = -2;
		if (rc > 0)
			drawn++, rc = 0;
		free(params.s);
	}
	if (rc == 0 && over.ng) {
		rc = draw_bars(plotdir, tmpl, &over, bs, variants, metric, err, errlen);
		if (rc > 0)
			drawn++, rc = 0;
	}
	if (rc == -2)
		snprintf(err, errlen, "out of memory");
	free(cases.s);
	free(over.g);
	return rc < 0 ? -1 : drawn;
}

/* ================================================================== */
/* Thread sweeps                                                       */
/* ================================================================== */

static int cmp_threads(const void *a, const void *b)
{
	const bench_t *x = *(const bench_t *const *)a, *y = *(const bench_t *const *)b;
	return (x->r->threads > y->r->threads) - (x->r->threads < y->r->threads);
}

/* One thread-sweep plot being built: the case's variants (in the suite's
 * order) and params, the .dat and the per-line colours and point types. */
typedef struct sweep {
	const char *case_;
	names_t cv, cp;
	int tmin, tmax;
	int factored;           /* several variants and several params */
	int nlines, nkeyv, nkeyp;
	double ymin, ymax;
	sb_t d, cols, ptys;
} sweep_t;

static void sweep_free(sweep_t *w)
{
	free(w->cv.s);
	free(w->cp.s);
	free(w->d.s);
	free(w->cols.s);
	free(w->ptys.s);
}

/* The case's params, thread range and variants. 1 when it has a sweep
 * (more than one thread count, some above 1), 0 when not, -1 out of memory. */
static int sweep_scan(sweep_t *w, const benches_t *bs, const names_t *variants)
{
	int sweep = 0;
	for (size_t i = 0; i < bs->n; i++) {
		const hp_bench_vals_t *r = bs->b[i].r;
		if (strcmp(r->case_, w->case_))
			continue;
		if (r->threads > 1)
			sweep = 1;
		if (!w->tmin || r->threads < w->tmin)
			w->tmin = r->threads;
		if (r->threads > w->tmax)
			w->tmax = r->threads;
		if (names_add(&w->cp, r->param) < 0)
			return -1;
	}
	/* one thread count (a case run on all CPUs only) is no sweep */
	if (!sweep || w->tmin == w->tmax)
		return 0;
	/* variants in the suite's order, so colours match the bar charts */
	for (size_t v = 0; v < variants->n; v++)
		for (size_t i = 0; i < bs->n; i++)
			if (!strcmp(bs->b[i].r->case_, w->case_) &&
			    !strcmp(bs->b[i].r->variant, variants->s[v])) {
				if (names_add(&w->cv, variants->s[v]) < 0)
					return -1;
				break;
			}
	w->factored = w->cv.n > 1 && w->cp.n > 1;
	return 1;
}

/* One line of the sweep: its points, sorted by threads, as ops/s. */
static void sweep_line(sweep_t *w, const bench_t **pts, size_t np, size_t v, size_t p,
		       size_t color)
{
	char lt[160];
	qsort(pts, np, sizeof *pts, cmp_threads);
	if (w->factored)
		snprintf(lt, sizeof lt, "%s %s", w->cv.s[v], w->cp.s[p]);
	else if (w->cp.n > 1)
		snprintf(lt, sizeof lt, "%s", w->cp.s[p]);
	else
		snprintf(lt, sizeof lt, "%s", w->cv.s[v]);
	sb_printf(&w->d, "%s", w->nlines ? "\n\n" : "");
	sb_datstr(&w->d, lt);
	sb_printf(&w->d, " \"ops_per_s\" \"ops_min\" \"ops_max\" \"real_time_ns\" \"reps\"\n");
	for (size_t k = 0; k < np; k++) {
		const bench_t *b = pts[k];
		double t = b->r->threads;
		double ops = t * 1e9 / b->med;
		double olo = b->hi > 0 ? t * 1e9 / b->hi : ops;
		double ohi = b->lo > 0 ? t * 1e9 / b->lo : ops;
		sb_printf(&w->d, "%d %.9g %.9g %.9g %.9g %zu\n", b->r->threads, ops, olo, ohi, b->med, b->n);
		if (ops < w->ymin)
			w->ymin = ops;
		if (ops > w->ymax)
			w->ymax = ops;
	}
	/* colour tells variants apart; with one variant, params */
	size_t ci = w->cv.n > 1 ? color : (size_t)w->nlines;
	size_t pi = w->factored ? p : (size_t)w->nlines;
	sb_printf(&w->cols, "%s%zu", w->nlines ? " " : "", ci % NCOLORS);
	sb_printf(&w->ptys, "%s%zu", w->nlines ? " " : "", pi % NPOINTS);
	w->nlines++;
}

/* Every (variant, param) line with points; pts has room for all benches. */
static void sweep_lines(sweep_t *w, const benches_t *bs, const names_t *variants, const bench_t **pts)
{
	for (size_t v = 0; v < w->cv.n; v++) {
		long gv = names_find(variants, w->cv.s[v]);
		for (size_t p = 0; p < w->cp.n; p++) {
			size_t np = 0;
			for (size_t i = 0; i < bs->n; i++) {
				const hp_bench_vals_t *r = bs->b[i].r;
				if (!strcmp(r->case_, w->case_) && !strcmp(r->variant, w->cv.s[v]) &&
				    !strcmp(r->param, w->cp.s[p]) && bs->b[i].med > 0)
					pts[np++] = &bs->b[i];
			}
			if (np)
				sweep_line(w, pts, np, v, p, (size_t)gv);
		}
	}
}

/* Factored keys: a title and one undefined point for each variant (its
 * colour) and each param (its point type), v + p entries, not v * p. */
static void sweep_keys(sweep_t *w, const names_t *variants)
{
	for (size_t v = 0; w->factored && v < w->cv.n; v++, w->nkeyv++) {
		sb_printf(&w->d, "\n\n");
		sb_datstr(&w->d, w->cv.s[v]);
		sb_printf(&w->d, " \"key\"\n0 NaN\n");
		sb_printf(&w->cols, " %ld", names_find(variants, w->cv.s[v]) % NCOLORS);
		sb_printf(&w->ptys, " 0");
	}
	for (size_t p = 0; w->factored && p < w->cp.n; p++, w->nkeyp++) {
		sb_printf(&w->d, "\n\n");
		sb_datstr(&w->d, w->cp.s[p]);
		sb_printf(&w->d, " \"key\"\n0 NaN\n");
		sb_printf(&w->cols, " 0");
		sb_printf(&w->ptys, " %zu", p % NPOINTS);
	}
}

/* The template's settings: title, y axis in a named magnitude, lines. */
static void sweep_vars(sb_t *vars, const sweep_t *w, const char *title)
{
	int logy = w->ymin > 0 && w->ymax / w->ymin > 100.0;
	/* A linear axis reads best in plain numbers of a named magnitude
	 * ("1.5" million) rather than in "1.5M" or "1.5e+06". */
	static const struct { double div; const char *label; } mag[] = {
		{ 1e9, "billion ops/s (all threads)" },
		{ 1e6, "million ops/s (all threads)" },
		{ 1e3, "thousand ops/s (all threads)" },
		{ 1, "ops/s (all threads)" },
	};
	size_t m = 0;
	while (!logy && m + 1 < sizeof mag / sizeof mag[0] && w->ymax < mag[m].div)
		m++;
	if (logy)
		m = sizeof mag / sizeof mag[0] - 1;
	sb_printf(vars, "title=");
	if (w->nlines == 1) {
		sb_t t = { 0 };
		sb_printf(&t, "%s (%s)", title, w->cv.s[0]);
		sb_gpstr(vars, t.oom ? "" : t.s);
		vars->oom |= t.oom;
		free(t.s);
	} else {
		sb_gpstr(vars, title);
	}
	sb_printf(vars, "; xlabel='threads'; ylabel=");
	sb_gpstr(vars, mag[m].label);
	sb_printf(vars, "; yscale=%g; nlines=%d; nkeyv=%d; nkeyp=%d; colors='%s'; ptypes='%s';"
		  " logy=%d; xmin=%.1f; xmax=%.1f", mag[m].div, w->nlines, w->nkeyv, w->nkeyp,
		  w->cols.s, w->ptys.s, logy, w->tmin - 0.5, w->tmax + 0.5);
}

/* Throughput of all threads against threads for one case: one line per
 * variant (and param, when there are several). real_time is the time one
 * thread takes per op, so all threads together do threads * 1e9 / ns ops/s.
 * Returns 1 when drawn, 0 when the case has no sweep, -1 on error. */
static int case_threads(const char *plotdir, const char *tmpl, const char *suite,
			const char *case_, const benches_t *bs, const names_t *variants,
			char *err, size_t errlen)
{
	sweep_t w = { .case_ = case_, .ymin = INFINITY };
	sb_t vars = { 0 };
	const bench_t **pts = calloc(bs->n ? bs->n : 1, sizeof *pts);
	int rc = pts ? sweep_scan(&w, bs, variants) : -1;
	if (rc <= 0)
		goto out;

	char csafe[64], ssafe[64], name[160], title[256];
	safe_name(ssafe, sizeof ssafe, suite);
	safe_name(csafe, sizeof csafe, case_);
	snprintf(name, sizeof name, "%s-%s-threads", ssafe, csafe);
	snprintf(title, sizeof title, "%s suite: %s", suite, case_);
	sb_printf(&w.d, "# hotpath thread sweep %s: %s\n", name, title);
	sb_printf(&w.d, "# throughput = threads * 1e9 / real_time (ns per op and thread), in ops/s;"
		  " median over reps, min..max from the slowest and fastest rep\n");
	sb_printf(&w.d, "# one block per line: threads ops_per_s ops_min ops_max real_time_median_ns reps\n");
	sb_printf(&w.d, "# (then, when the key lists variants and params apart, one block per entry)\n");
	sweep_lines(&w, bs, variants, pts);
	rc = 0;
	if (!w.nlines)
		goto out;
	sweep_keys(&w, variants);
	rc = -1;
	if (w.cols.oom || w.ptys.oom)
		goto out;
	sweep_vars(&vars, &w, title);
	sb_printf(&w.d, "\n# drawn by %s with gnuplot -e \"term=...; outfile=...; datafile=...; %s\"\n",
		  tmpl, vars.s ? vars.s : "");
	if (vars.oom)
		goto out;
	if (write_dat(plotdir, name, &w.d, err, errlen) == 0 &&
	    render(plotdir, name, tmpl, vars.s, err, errlen) == 0)
		rc = 1;
	goto out_err;
out:
	if (rc < 0)
		snprintf(err, errlen, "out of memory");
out_err:
	free(pts);
	free(vars.s);
	sweep_free(&w);
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

/* The values of one metric per (variant, param), for a suite's own plots. */
int hp_plot_pts_add(hp_plot_pts_t *a, const char *variant, const char *param, double value)
{
	hp_plot_pt_t *pt = NULL;
	for (size_t k = 0; k < a->n && !pt; k++)
		if (!strcmp(a->p[k].variant, variant) && !strcmp(a->p[k].param, param))
			pt = &a->p[k];
	if (!pt) {
		if (a->n == a->cap) {
			size_t cap = a->cap ? a->cap * 2 : 32;
			hp_plot_pt_t *p = realloc(a->p, cap * sizeof *p);
			if (!p)
				return -1;
			a->p = p;
			a->cap = cap;
		}
		pt = &a->p[a->n++];
		*pt = (hp_plot_pt_t){ .variant = variant, .param = param };
	}
	if (pt->n == pt->cap) {
		size_t cap = pt->cap ? pt->cap * 2 : 16;
		double *v = realloc(pt->v, cap * sizeof *v);
		if (!v)
			return -1;
		pt->v = v;
		pt->cap = cap;
	}
	pt->v[pt->n++] = value;
	return 0;
}

void hp_plot_pts_free(hp_plot_pts_t *a)
{
	for (size_t i = 0; i < a->n; i++)
		free(a->p[i].v);
	free(a->p);
	memset(a, 0, sizeof *a);
}

/* The folders hp_plot_results needs: the templates (checked readable) and
 * dir/plots (created). 0, or -1 with err. */
static int plot_dirs(const char *dir, const char *tdir, char *plotdir, size_t plen,
		     char *tbars, char *tthreads, size_t tlen, char *err, size_t errlen)
{
	snprintf(tbars, tlen, "%s/bars.gp", tdir);
	snprintf(tthreads, tlen, "%s/threads.gp", tdir);
	if (access(tbars, R_OK) != 0 || access(tthreads, R_OK) != 0) {
		snprintf(err, errlen, "gnuplot template %s: %s (the templates folder is scripts/"
			 " of the source tree)", access(tbars, R_OK) ? tbars : tthreads,
			 strerror(errno));
		return -1;
	}
	snprintf(plotdir, plen, "%s/plots", dir);
	if (mkdir(plotdir, 0777) != 0 && errno != EEXIST) {
		snprintf(err, errlen, "cannot create %s: %s", plotdir, strerror(errno));
		return -1;
	}
	return 0;
}

/* A thread sweep for each case of the suite: only times give a throughput
 * (instruction counts do not). Returns the number drawn or -1 with err. */
static int suite_threads(const char *plotdir, const char *tmpl, const char *suite,
			 const benches_t *bs, const names_t *variants, char *err, size_t errlen)
{
	names_t cases = { 0 };
	int total = 0;
	for (size_t i = 0; i < bs->n; i++) {
		if (names_find(&cases, bs->b[i].r->case_) >= 0)
			continue;
		if (names_add(&cases, bs->b[i].r->case_) < 0) {
			snprintf(err, errlen, "out of memory");
			total = -1;
			break;
		}
		int k = case_threads(plotdir, tmpl, suite, bs->b[i].r->case_, bs, variants, err, errlen);
		if (k < 0) {
			total = -1;
			break;
		}
		total += k;
	}
	free(cases.s);
	return total;
}

/* The standard plots of one suite of the results: its bar charts, then
 * its thread sweeps. Returns the number drawn or -1 with err. */
static int suite_standard(const char *plotdir, const char *tbars, const char *tthreads,
			  const hp_suite_t *desc, const hp_bench_set_t *r, const char *suite,
			  char *err, size_t errlen)
{
	const char *metric = primary_metric(r, suite);
	if (!metric)
		return 0;
	benches_t bs = { 0 };
	names_t variants = { 0 };
	int n = -1;
	if (collect(r, suite, metric, &bs) < 0)
		goto oom;
	/* A variant's colour is its place in the suite's run order, the same
	 * in every plot of the suite: the first variant (impl, where a suite
	 * has one) is always the first colour. */
	for (size_t i = 0; i < bs.n; i++)
		if (names_add(&variants, bs.b[i].r->variant) < 0)
			goto oom;
	n = suite_bars(plotdir, tbars, desc, suite, &bs, &variants, metric, err, errlen);
	if (n >= 0 && !strcmp(metric, "real_time")) {
		int k = suite_threads(plotdir, tthreads, suite, &bs, &variants, err, errlen);
		n = k < 0 ? -1 : n + k;
	}
	goto out;
oom:
	snprintf(err, errlen, "out of memory");
out:
	benches_free(&bs);
	free(variants.s);
	return n;
}

/* The suite's own plots (hp_suite_t.plots), in the order it lists them.
 * Returns the number drawn or -1 with err. */
static int suite_own(const char *plotdir, const char *tdir, const hp_suite_t *desc,
		     const hp_bench_set_t *r, char *err, size_t errlen)
{
	int total = 0;
	for (size_t i = 0; desc && desc->plots && desc->plots[i]; i++) {
		int n = desc->plots[i](plotdir, r, tdir, err, errlen);
		if (n < 0)
			return -1;
		total += n;
	}
	return total;
}

int hp_plot_set(const char *dir, const hp_bench_set_t *r, const hp_suite_t *const *suites,
		const char *templates, char *err, size_t errlen)
{
	const char *why = hp_plot_unavailable();
	if (why) {
		snprintf(err, errlen, "cannot draw plots: %s", why);
		return -1;
	}
	char plotdir[4096], tbars[4096], tthreads[4096];
	const char *tdir = templates_dir(templates);
	if (plot_dirs(dir, tdir, plotdir, sizeof plotdir, tbars, tthreads, sizeof tbars,
		      err, errlen) != 0)
		return -1;

	names_t names = { 0 };
	int total = 0;
	for (size_t i = 0; i < r->n; i++)
		if (names_add(&names, r->b[i].suite) < 0) {
			free(names.s);
			snprintf(err, errlen, "out of memory");
			return -1;
		}
	for (size_t s = 0; s < names.n && total >= 0; s++) {
		int n = suite_standard(plotdir, tbars, tthreads, desc_suite(suites, names.s[s]), r,
				       names.s[s], err, errlen);
		total = n < 0 ? -1 : total + n;
	}
	/* then each suite's own plots, after all the standard ones */
	for (size_t s = 0; s < names.n && total >= 0; s++) {
		int n = suite_own(plotdir, tdir, desc_suite(suites, names.s[s]), r, err, errlen);
		total = n < 0 ? -1 : total + n;
	}
	free(names.s);
	return total;
}

int hp_plot_results(const char *dir, const hp_results_t *r, const hp_suite_t *const *suites,
		    const char *templates, char *err, size_t errlen)
{
	hp_bench_set_t set;
	int n = -1;

	hp_bench_set_init(&set, HP_BSET_ALL);
	if (hp_bench_set_from_results(&set, r) < 0)
		snprintf(err, errlen, "out of memory");
	else
		n = hp_plot_set(dir, &set, suites, templates, err, errlen);
	hp_bench_set_free(&set);
	return n;
}

/* ---- a merged folder (hotpath merge): the runs side by side ---------- */

/* Reading a merged results.csv: each row goes into the set with its
 * variant renamed "<variant>@<run>" ("<variant>@#k" when that does not fit
 * a variant field, k the run's place in the file, printed as a legend);
 * var and run (first-seen ids of suite/variant and of the run) of each new
 * entry are kept to put the runs of a variant side by side afterwards. */
typedef struct mread {
	hp_bench_set_t *set;
	keymap_t vars, runs;
	size_t *var, *run;      /* per entry */
	size_t cap;
	int legend;
} mread_t;

static int mread_cb(const hp_record_t *x, const char *run, void *arg)
{
	mread_t *m = arg;
	char vk[sizeof x->suite + sizeof x->variant + 2];
	char lab[sizeof x->variant + HP_RUN_NAME_MAX + 2], k[24];
	size_t had = m->set->n, var, rid;
	hp_record_t y = *x;

	snprintf(vk, sizeof vk, "%s/%s", x->suite, x->variant);
	var = keymap_id(&m->vars, vk);
	rid = keymap_id(&m->runs, run);
	if (var == KEYMAP_NONE || rid == KEYMAP_NONE)
		return -1;
	snprintf(lab, sizeof lab, "%s@%s", x->variant, run);
	if (strlen(lab) >= sizeof y.variant) {
		snprintf(k, sizeof k, "@#%zu", rid + 1);
		snprintf(lab, sizeof lab, "%.*s%s", (int)(sizeof y.variant - 1 - strlen(k)), x->variant, k);
		m->legend = 1;
	}
	hp_strlcpy(y.variant, lab, sizeof y.variant);
	if (hp_bench_set_add(m->set, &y) < 0)
		return -1;
	if (m->set->n == had)
		return 0;
	if (m->set->n > m->cap) {
		size_t nc = m->cap ? 2 * m->cap : 256;
		size_t *nv = realloc(m->var, nc * sizeof *nv), *nr;

		if (!nv)
			return -1;
		m->var = nv;
		nr = realloc(m->run, nc * sizeof *nr);
		if (!nr)
			return -1;
		m->run = nr;
		m->cap = nc;
	}
	m->var[had] = var;
	m->run[had] = rid;
	return 0;
}

static const mread_t *mread_sorting;

/* a variant's entries of every run next to each other, then the next
 * variant; in each, the order of the file */
static int mentry_cmp(const void *pa, const void *pb)
{
	size_t a = *(const size_t *)pa, b = *(const size_t *)pb;
	const mread_t *m = mread_sorting;

	if (m->var[a] != m->var[b])
		return m->var[a] < m->var[b] ? -1 : 1;
	if (m->run[a] != m->run[b])
		return m->run[a] < m->run[b] ? -1 : 1;
	return a < b ? -1 : a > b;
}

/* Streams a merged results.csv into set (HP_BSET_ALL), the runs of each
 * variant side by side. 0, or -1 with err. */
static int read_merged(const char *csv, hp_bench_set_t *set, char *err, size_t errlen)
{
	mread_t m = { .set = set };
	size_t *perm = NULL;
	int rc = -1;

	keymap_init(&m.vars);
	keymap_init(&m.runs);
	if (hp_read_csv_runs_each(csv, mread_cb, &m, err, errlen) < 0)
		goto out;
	perm = malloc((set->n ? set->n : 1) * sizeof *perm);
	if (!perm) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < set->n; i++)
		perm[i] = i;
	mread_sorting = &m;
	qsort(perm, set->n, sizeof *perm, mentry_cmp);
	mread_sorting = NULL;
	if (hp_bench_set_reorder(set, perm) < 0) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	if (m.legend)
		for (size_t k = 0; k < m.runs.n; k++)
			printf("hotpath plot: run #%zu is %s\n", k + 1, m.runs.keys[k]);
	rc = 0;
out:
	free(perm);
	free(m.var);
	free(m.run);
	keymap_free(&m.vars);
	keymap_free(&m.runs);
	return rc;
}

int hp_plot_dir(const char *dir, const hp_suite_t *const *suites, const char *templates)
{
	char csv[4096], err[2048];
	struct stat st;
	snprintf(csv, sizeof csv, "%s/results.csv", dir);
	if (stat(csv, &st) != 0 || !S_ISREG(st.st_mode)) {
		fprintf(stderr, "hotpath plot: %s is not a results folder (no results.csv)\n", dir);
		return 2;
	}
	hp_bench_set_t r;
	hp_bench_set_init(&r, HP_BSET_ALL);
	/* a merged folder: one bar (or line) per variant and run; a suite's own
	 * plots know its variants by name, so only the standard ones are drawn */
	int merged = hp_is_merged_dir(dir);
	hp_suite_t *plain = NULL;
	const hp_suite_t **ptab = NULL;
	if (merged) {
		size_t ns = 0;
		while (suites && suites[ns])
			ns++;
		plain = calloc(ns + 1, sizeof *plain);
		ptab = calloc(ns + 1, sizeof *ptab);
		if (!plain || !ptab) {
			free(plain);
			free(ptab);
			fprintf(stderr, "hotpath plot: out of memory\n");
			return 99;
		}
		for (size_t i = 0; i < ns; i++) {
			plain[i] = *suites[i];
			plain[i].plots = NULL;
			ptab[i] = &plain[i];
		}
		suites = ptab;
	}
	/* streamed: what is kept is each benchmark's values, not the rows */
	if ((merged ? read_merged(csv, &r, err, sizeof err) :
		      hp_read_csv_each(csv, hp_bench_set_add_cb, &r, err, sizeof err)) != 0) {
		fprintf(stderr, "hotpath plot: %s\n", err);
		hp_bench_set_free(&r);
		free(plain);
		free(ptab);
		return strstr(err, "out of memory") ? 99 : 2;
	}
	const char *why = hp_plot_unavailable();
	if (why) {
		fprintf(stderr, "hotpath plot: cannot draw plots: %s\n", why);
		hp_bench_set_free(&r);
		free(plain);
		free(ptab);
		return 1;
	}
	int n = hp_plot_set(dir, &r, suites, templates, err, sizeof err);
	hp_bench_set_free(&r);
	free(plain);
	free(ptab);
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
