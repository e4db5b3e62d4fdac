/* compare.c — `hotpath compare A B`: ratio of medians B/A per benchmark, a seeded bootstrap CI and a verdict. */
#include <errno.h>
#include <stdarg.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "hp_rand.h"
#include "compare.h"
#include "keymap.h"
#include "merge.h"
#include "record.h"

/*
 * Method.  For each benchmark (suite, case, variant, param, threads) the
 * primary metric is the one summary.md uses: real_time if the run measured
 * time, else instructions, else perf_cycles, else the first metric seen.
 * The ratio is median(B) / median(A); every primary metric is "lower is
 * better", so a ratio below 1 means B is faster.
 *
 * The 95% confidence interval is a percentile bootstrap of that ratio:
 * CMP_RESAMPLES times, A and B are each resampled with replacement and the
 * ratio of the two resampled medians is kept; the CI is the 2.5th..97.5th
 * percentile of those ratios.  The generator is xoshiro256** seeded from the
 * caller's seed and the benchmark's key, so a row's CI depends neither on
 * the machine nor on which other benchmarks are in the folders.
 *
 * Verdict: FASTER when the whole CI is below 1, SLOWER when it is wholly
 * above 1, SAME otherwise.  A bootstrap of one or two values says nothing,
 * so with fewer than CMP_MIN_REPS values on either side the CI collapses to
 * the point ratio and the verdict is SAME -- except for instruction counts,
 * which callgrind makes deterministic: there a single run per side is
 * already the answer, and any difference is a real one.
 *
 * Coarseness: the median of a resample of n values can only be one of a
 * handful of the original values (or a midpoint of two), so with the usual
 * 5 repetitions the CI moves in big steps and tends to be wide; it cannot
 * resolve differences smaller than the spread between repetitions.  Run
 * 10 or more repetitions (--reps) for differences of a few percent.
 */

#define CMP_RESAMPLES 2000
#define CMP_MIN_REPS HP_CMP_MIN_REPS
#define CMP_DIRS_SEED HP_CMP_DIRS_SEED   /* fixed: the same folders always give the same verdicts */

/* Uniform in [0, n) from xoshiro256** (hp_rand.h): the high half of a
 * 64x64 product (bias < n / 2^64). Not hp_xoshiro_below's modulo: the
 * bootstrap draws, and so every published CI, depend on this reduction. */
static size_t rng_below(hp_xoshiro_t *r, size_t n)
{
	return (size_t)(((unsigned __int128)hp_xoshiro_next(r) * n) >> 64);
}

/* ==================================================================== */
/* One side: each benchmark's primary metric and its values             */
/* ==================================================================== */

/* A side is an hp_bench_set_t in HP_BSET_PRIMARY mode (record.h): one
 * metric's values per benchmark, never the file. */

static void side_init(hp_bench_set_t *s)
{
	hp_bench_set_init(s, HP_BSET_PRIMARY);
}

static int side_build(const hp_results_t *r, hp_bench_set_t *s)
{
	side_init(s);
	if (hp_bench_set_from_results(s, r) < 0) {
		hp_bench_set_free(s);
		errno = ENOMEM;
		return -1;
	}
	return 0;
}

/* ==================================================================== */
/* Ratio, bootstrap, verdict                                            */
/* ==================================================================== */

static double ratio_of(double mb, double ma)
{
	if (ma == 0)
		return mb == 0 ? 1 : INFINITY;
	return mb / ma;
}

static int bootstrap(const double *a, size_t na, const double *b, size_t nb, uint64_t seed,
		     double *lo, double *hi)
{
	double *ra = malloc(na * sizeof(*ra)), *rb = malloc(nb * sizeof(*rb));
	double *q = malloc(CMP_RESAMPLES * sizeof(*q));
	hp_xoshiro_t g;

	if (!ra || !rb || !q) {
		free(ra);
		free(rb);
		free(q);
		errno = ENOMEM;
		return -1;
	}
	hp_xoshiro_seed(&g, seed);
	for (size_t k = 0; k < CMP_RESAMPLES; k++) {
		for (size_t i = 0; i < na; i++)
			ra[i] = a[rng_below(&g, na)];
		for (size_t i = 0; i < nb; i++)
			rb[i] = b[rng_below(&g, nb)];
		q[k] = ratio_of(hp_median(rb, nb), hp_median(ra, na));
	}
	qsort(q, CMP_RESAMPLES, sizeof(*q), hp_cmp_double);
	*lo = hp_percentile(q, CMP_RESAMPLES, 0.025);
	*hi = hp_percentile(q, CMP_RESAMPLES, 0.975);
	free(ra);
	free(rb);
	free(q);
	return 0;
}

int hp_median_ci(const double *v, size_t n, const char *key, double *lo, double *hi)
{
	double *one = malloc((n ? n : 1) * sizeof(*one));
	uint64_t h = 1469598103934665603ull;

	if (!one) {
		errno = ENOMEM;
		return -1;
	}
	/* the bootstrap of a ratio whose denominator is the constant 1 */
	for (size_t i = 0; i < n; i++)
		one[i] = 1;
	if (n < CMP_MIN_REPS) {
		free(one);
		return 1;
	}
	for (const char *c = key; *c; c++) {
		h ^= (unsigned char)*c;
		h *= 1099511628211ull;
	}
	if (bootstrap(one, n, v, n, CMP_DIRS_SEED ^ h, lo, hi) < 0) {
		free(one);
		return -1;
	}
	free(one);
	return 0;
}

/* Counts callgrind makes identical from run to run (docs/metrics.md,
 * determinism). */
static int is_deterministic(const char *metric)
{
	return strcmp(metric, "instructions") == 0 || strncmp(metric, "cache_", 6) == 0;
}

static int compare_one(const hp_bench_vals_t *A, const hp_bench_vals_t *B, uint64_t seed,
		       hp_cmp_row_t *row)
{
	double *tmp = malloc((A->n > B->n ? A->n : B->n) * sizeof(*tmp) + 1);
	uint64_t h = 1469598103934665603ull;

	if (!tmp) {
		errno = ENOMEM;
		return -1;
	}
	memset(row, 0, sizeof(*row));
	/* a name and a metric field always fit (compare.h) */
	hp_bench_vals_key(row->key, sizeof(row->key), A);
	row->na = A->n;
	row->nb = B->n;
	/* hp_median sorts, and the bootstrap wants the original values */
	memcpy(tmp, A->v, A->n * sizeof(*tmp));
	row->median_a = hp_median(tmp, A->n);
	memcpy(tmp, B->v, B->n * sizeof(*tmp));
	row->median_b = hp_median(tmp, B->n);
	free(tmp);
	row->ratio = ratio_of(row->median_b, row->median_a);
	row->lo = row->hi = row->ratio;
	row->verdict = HP_CMP_SAME;

	if (A->n < CMP_MIN_REPS || B->n < CMP_MIN_REPS) {
		if (is_deterministic(A->metric) && !isnan(row->ratio))
			row->verdict = row->ratio < 1 ? HP_CMP_FASTER :
				       row->ratio > 1 ? HP_CMP_SLOWER : HP_CMP_SAME;
		return 0;
	}
	for (const char *c = row->key; *c; c++) {
		h ^= (unsigned char)*c;
		h *= 1099511628211ull;
	}
	if (bootstrap(A->v, A->n, B->v, B->n, seed ^ h, &row->lo, &row->hi) < 0)
		return -1;
	if (row->hi < 1)
		row->verdict = HP_CMP_FASTER;
	else if (row->lo > 1)
		row->verdict = HP_CMP_SLOWER;
	return 0;
}

/* Rows for benchmarks in both sides with the same primary metric, in A's
 * order; aidx (optional) gets each row's benchmark index in A. */
static long compare_sides(const hp_bench_set_t *sa, const hp_bench_set_t *sb, uint64_t seed,
			  hp_cmp_row_t **rows,
			  size_t **aidx)
{
	hp_cmp_row_t *out = malloc((sa->n ? sa->n : 1) * sizeof(*out));
	size_t *ai = malloc((sa->n ? sa->n : 1) * sizeof(*ai));
	long n = 0;

	*rows = NULL;
	if (!out || !ai) {
		free(out);
		free(ai);
		errno = ENOMEM;
		return -1;
	}
	for (size_t i = 0; i < sa->n; i++) {
		const hp_bench_vals_t *A = &sa->b[i];
		size_t j = keymap_find(&sb->ids, sa->ids.keys[i]);

		if (j == KEYMAP_NONE || strcmp(A->metric, sb->b[j].metric) || !A->n || !sb->b[j].n)
			continue;
		if (compare_one(A, &sb->b[j], seed, &out[n]) < 0) {
			free(out);
			free(ai);
			return -1;
		}
		ai[n++] = i;
	}
	*rows = out;
	if (aidx)
		*aidx = ai;
	else
		free(ai);
	return n;
}

long hp_compare_sets(const hp_bench_set_t *a, const hp_bench_set_t *b, uint64_t seed,
		     hp_cmp_row_t **rows)
{
	if (!rows) {
		errno = EINVAL;
		return -1;
	}
	return compare_sides(a, b, seed, rows, NULL);
}

long hp_compare(const hp_results_t *a, const hp_results_t *b, uint64_t seed,
		hp_cmp_row_t **rows)
{
	hp_bench_set_t sa, sb;
	long n;

	if (!rows) {
		errno = EINVAL;
		return -1;
	}
	*rows = NULL;
	if (side_build(a, &sa) < 0)
		return -1;
	if (side_build(b, &sb) < 0) {
		hp_bench_set_free(&sa);
		return -1;
	}
	n = compare_sides(&sa, &sb, seed, rows, NULL);
	hp_bench_set_free(&sa);
	hp_bench_set_free(&sb);
	return n;
}

/* ==================================================================== */
/* hotpath compare A B                                                  */
/* ==================================================================== */

static const char *verdict_name(hp_verdict_t v)
{
	return v == HP_CMP_FASTER ? "faster" : v == HP_CMP_SLOWER ? "slower" : "same";
}

/* "dir/name" in a new string; NULL (with a message) when out of memory. */
static char *dir_file(const char *dir, const char *name)
{
	char *p;

	if (asprintf(&p, "%s/%s", dir, name) < 0) {
		fprintf(stderr, "hotpath compare: out of memory\n");
		return NULL;
	}
	return p;
}

static int is_file(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* What env.json says about a run that compare reports on. */
typedef struct run_info {
	char status[32];        /* "" when env.json has none */
	char metric[32];
} run_info_t;

/* env.json must be a JSON object (what the runner writes); its status and
 * metric are kept when present. 0, or -1 after a message. */
static int load_env(const char *path, run_info_t *ri)
{
	struct json_object *o = json_object_from_file(path), *v;

	memset(ri, 0, sizeof(*ri));
	if (!o || !json_object_is_type(o, json_type_object)) {
		fprintf(stderr, "hotpath compare: %s: not a JSON object (%s)\n", path,
			o ? "another JSON value" : json_util_get_last_err() ? json_util_get_last_err() : "unreadable");
		json_object_put(o);
		return -1;
	}
	if (json_object_object_get_ex(o, "status", &v) && json_object_is_type(v, json_type_string))
		hp_strlcpy(ri->status, json_object_get_string(v), sizeof(ri->status));
	if (json_object_object_get_ex(o, "metric", &v) && json_object_is_type(v, json_type_string))
		hp_strlcpy(ri->metric, json_object_get_string(v), sizeof(ri->metric));
	json_object_put(o);
	return 0;
}

/* Reads a folder's results.csv straight into s (its benchmarks and their
 * primary values: memory grows with the benchmarks, not the rows).
 * 0, or -1 after a message naming the folder (errno ENOMEM when out of
 * memory). */
static int load_dir(const char *dir, hp_bench_set_t *s, run_info_t *ri)
{
	char *csv = dir_file(dir, "results.csv"), *env = dir_file(dir, "env.json"), err[1024];
	int rc = -1;

	if (!csv || !env)
		goto out;
	if (!is_file(csv)) {
		fprintf(stderr, "hotpath compare: %s is not a results folder (no results.csv)\n", dir);
		goto out;
	}
	if (hp_is_merged_dir(dir)) {
		fprintf(stderr, "hotpath compare: %s is a merged folder (hotpath merge): compare two of "
			"its runs with hotpath compare %s --runs X,Y (its runs are listed in "
			"merged.json and summary.md)\n", dir, dir);
		goto out;
	}
	if (!is_file(env)) {
		fprintf(stderr, "hotpath compare: %s is not a results folder (no env.json)\n", dir);
		goto out;
	}
	if (load_env(env, ri) < 0)
		goto out;
	/* err holds a path, a line number and a reason; a longer path is
	 * cut in the message only, never in what is read */
	if (hp_read_csv_each(csv, hp_bench_set_add_cb, s, err, sizeof(err)) < 0) {
		fprintf(stderr, "hotpath compare: %s\n", err);
		goto out;
	}
	rc = 0;
out:
	free(csv);
	free(env);
	return rc;
}

#define NCOL 6

/* The printed table: NCOL cells a row, row 0 the heading; every cell is
 * its own string, so nothing is cut to fit. */
typedef struct table {
	char *(*cell)[NCOL];
	size_t nrows;
	int oom;                /* a cell could not be made: report, exit 99 */
} table_t;

static void cellf(table_t *t, size_t row, int col, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void cellf(table_t *t, size_t row, int col, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&t->cell[row][col], fmt, ap) < 0) {
		t->cell[row][col] = NULL;
		t->oom = 1;
	}
	va_end(ap);
}

static void table_free(table_t *t)
{
	for (size_t i = 0; t->cell && i < t->nrows; i++)
		for (int c = 0; c < NCOL; c++)
			free(t->cell[i][c]);
	free(t->cell);
}

static void fmt_val(table_t *t, size_t row, int col, double v, const char *unit)
{
	if (isfinite(v) && fabs(v) >= 1000 && fabs(v) < 1e15)
		cellf(t, row, col, "%.0f %s", v, unit);
	else
		cellf(t, row, col, "%.4g %s", v, unit);
}

/* A param may hold anything, newlines included; one row stays one line.
 * Returns a new string, NULL when out of memory. */
static char *key_cell(const char *key)
{
	char *dst = malloc(2 * strlen(key) + 1);
	size_t o = 0;

	if (!dst)
		return NULL;
	for (; *key; key++) {
		if (*key == '\n' || *key == '\r') {
			dst[o++] = '\\';
			dst[o++] = *key == '\n' ? 'n' : 'r';
		} else {
			dst[o++] = (unsigned char)*key < 0x20 ? '?' : *key;
		}
	}
	dst[o] = '\0';
	return dst;
}

static void print_table(FILE *out, const table_t *t)
{
	int w[NCOL] = { 0 };

	for (size_t i = 0; i < t->nrows; i++)
		for (int c = 0; c < NCOL; c++) {
			int l = (int)strlen(t->cell[i][c]);

			if (l > w[c])
				w[c] = l;
		}
	for (size_t i = 0; i < t->nrows; i++)
		for (int c = 0; c < NCOL; c++) {
			/* text left, numbers right, the last column unpadded */
			if (c == NCOL - 1)
				fprintf(out, "%s\n", t->cell[i][c]);
			else if (c == 0)
				fprintf(out, "%-*s  ", w[c], t->cell[i][c]);
			else
				fprintf(out, "%*s  ", w[c], t->cell[i][c]);
		}
}

/* What the closing line counts. */
typedef struct tally {
	size_t cnt[3], undecided, only_a, only_b, min_n;
} tally_t;

static const char *ratio_fmt(double r)
{
	return isfinite(r) && r >= 1e-3 && r < 1e6 ? "%.3f" : "%.4g";
}

/* Row i + 1 of the table from comparison row x. */
static void table_row(table_t *t, size_t i, const hp_cmp_row_t *x, const hp_bench_vals_t *A,
		      tally_t *ty)
{
	int det = is_deterministic(A->metric);
	char lo[64], hi[64];

	t->cell[i + 1][0] = key_cell(x->key);
	if (!t->cell[i + 1][0])
		t->oom = 1;
	fmt_val(t, i + 1, 1, x->median_a, A->unit);
	fmt_val(t, i + 1, 2, x->median_b, A->unit);
	/* %.3f of a ratio of 1e15 would print 16 digits and more: far from 1,
	 * four significant digits */
	cellf(t, i + 1, 3, ratio_fmt(x->ratio), x->ratio);
	snprintf(lo, sizeof(lo), ratio_fmt(x->lo), x->lo);
	snprintf(hi, sizeof(hi), ratio_fmt(x->hi), x->hi);
	cellf(t, i + 1, 4, "[%s, %s]", lo, hi);
	/* with too few repetitions no verdict is given: printing "same"
	 * would read as "no difference" next to a ratio of 0.66 */
	if (!det && (x->na < CMP_MIN_REPS || x->nb < CMP_MIN_REPS)) {
		cellf(t, i + 1, 5, "undecided (too few reps)");
		ty->undecided++;
	} else {
		cellf(t, i + 1, 5, "%s", verdict_name(x->verdict));
		ty->cnt[x->verdict]++;
	}
	if (!det && x->na < ty->min_n)
		ty->min_n = x->na;
	if (!det && x->nb < ty->min_n)
		ty->min_n = x->nb;
}

/* The table of rows[0..n): 0, or -1 when out of memory. */
static int print_rows(FILE *out, const hp_cmp_row_t *rows, const size_t *aidx, size_t n,
		      const hp_bench_set_t *sa, tally_t *ty)
{
	table_t t = { .nrows = n + 1 };
	int rc = -1;

	t.cell = calloc(n + 1, sizeof(*t.cell));
	if (!t.cell)
		return -1;
	cellf(&t, 0, 0, "benchmark:metric");
	cellf(&t, 0, 1, "A median");
	cellf(&t, 0, 2, "B median");
	cellf(&t, 0, 3, "ratio");
	cellf(&t, 0, 4, "95%% CI");
	cellf(&t, 0, 5, "verdict");
	for (size_t i = 0; i < n; i++)
		table_row(&t, i, &rows[i], &sa->b[aidx[i]], ty);
	if (!t.oom) {
		print_table(out, &t);
		rc = 0;
	}
	table_free(&t);
	return rc;
}

/* Benchmarks of `a` that `b` lacks (or judges by another metric), one line
 * each; returns how many, or -1 when out of memory. */
static long print_only(FILE *out, const hp_bench_set_t *a, const hp_bench_set_t *b, const char *label)
{
	long n = 0;

	for (size_t i = 0; i < a->n; i++) {
		size_t j = keymap_find(&b->ids, a->ids.keys[i]);
		char k[HP_BENCH_KEY_MAX + 48], *shown;

		if (j != KEYMAP_NONE && !strcmp(a->b[i].metric, b->b[j].metric))
			continue;
		hp_bench_vals_key(k, sizeof(k), &a->b[i]);
		shown = key_cell(k);
		if (!shown)
			return -1;
		fprintf(out, "only in %s: %s\n", label, shown);
		free(shown);
		n++;
	}
	return n;
}

/* Everything printed after the folders are read: the table, what only one
 * side has, the counts. 0, or -1 when out of memory. */
static int report(FILE *out, const char *a, const char *b, const hp_bench_set_t *sa, const hp_bench_set_t *sb)
{
	hp_cmp_row_t *rows = NULL;
	size_t *aidx = NULL;
	tally_t ty = { .min_n = SIZE_MAX };
	long n, oa, ob;
	int rc = -1;

	n = compare_sides(sa, sb, CMP_DIRS_SEED, &rows, &aidx);
	if (n < 0)
		return -1;
	fprintf(out, "A: %s\nB: %s\n", a, b);
	fprintf(out, "ratio = median(B) / median(A), below 1 means B is faster; "
		"95%% bootstrap CI, %d resamples, seed %#llx\n\n",
		CMP_RESAMPLES, (unsigned long long)CMP_DIRS_SEED);
	if (print_rows(out, rows, aidx, (size_t)n, sa, &ty) < 0)
		goto out;
	oa = print_only(out, sa, sb, "A");
	ob = oa < 0 ? -1 : print_only(out, sb, sa, "B");
	if (oa < 0 || ob < 0)
		goto out;
	fprintf(out, "\n%ld compared: %zu faster, %zu slower, %zu same, %zu undecided; %ld only in A, %ld only in B\n",
		n, ty.cnt[HP_CMP_FASTER], ty.cnt[HP_CMP_SLOWER], ty.cnt[HP_CMP_SAME], ty.undecided, oa, ob);
	if (ty.min_n < 10)
		fprintf(out, "note: as few as %zu repetition%s per side: the CI of a median is coarse "
			"(fewer than %d give no verdict at all); use --reps 10 or more to resolve "
			"differences of a few percent\n", ty.min_n, ty.min_n == 1 ? "" : "s", CMP_MIN_REPS);
	rc = 0;
out:
	free(rows);
	free(aidx);
	return rc;
}

/* A side that did not finish: its missing benchmarks are not "only in"
 * the other side by choice. */
static void run_notes(FILE *out, const char *label, const char *dir, const run_info_t *ri)
{
	if (!ri->status[0] || !strcmp(ri->status, "complete"))
		return;
	fprintf(out, "note: %s (%s) did not finish: env.json says status \"%s\"%s\n", label, dir,
		ri->status, !strcmp(ri->status, "running") ? " (the run crashed or is still going)" :
		"; the benchmarks after the ones it holds did not run");
}

int hp_compare_dirs(const char *a, const char *b, FILE *out)
{
	run_info_t ia, ib;
	hp_bench_set_t sa, sb;
	int rc = 2;

	if (!out)
		out = stdout;
	side_init(&sa);
	side_init(&sb);
	if (load_dir(a, &sa, &ia) < 0 || load_dir(b, &sb, &ib) < 0)
		goto out;
	run_notes(out, "A", a, &ia);
	run_notes(out, "B", b, &ib);
	if (ia.metric[0] && ib.metric[0] && strcmp(ia.metric, ib.metric))
		fprintf(out, "note: A was run with --metric %s and B with --metric %s: benchmarks are "
			"compared only where both sides have the same primary metric\n", ia.metric, ib.metric);
	rc = report(out, a, b, &sa, &sb) < 0 ? 99 : 0;
	if (rc != 0)
		fprintf(stderr, "hotpath compare: out of memory\n");
out:
	hp_bench_set_free(&sa);
	hp_bench_set_free(&sb);
	return rc;
}

/* ==================================================================== */
/* hotpath compare M --runs X,Y                                         */
/* ==================================================================== */

typedef struct run_pick {
	const char *run;
	hp_bench_set_t *s;
	size_t rows;
} run_pick_t;

static int run_pick_cb(const hp_record_t *x, const char *run, void *arg)
{
	run_pick_t *p = arg;

	if (strcmp(run, p->run))
		return 0;
	p->rows++;
	return hp_bench_set_add_cb(x, p->s);
}

/* The run names merged.json lists, ", "-joined into buf (for messages). */
static void merged_runs(const char *m, char *buf, size_t len)
{
	char *path = NULL;
	struct json_object *o = NULL, *a, *r, *n;
	size_t o_ = 0;

	buf[0] = '\0';
	if (asprintf(&path, "%s/merged.json", m) < 0)
		return;
	o = json_object_from_file(path);
	free(path);
	if (o && json_object_object_get_ex(o, "runs", &a) && json_object_is_type(a, json_type_array))
		for (size_t i = 0; i < json_object_array_length(a) && o_ + 1 < len; i++) {
			r = json_object_array_get_idx(a, i);
			if (json_object_object_get_ex(r, "run", &n) && json_object_is_type(n, json_type_string))
				o_ += (size_t)snprintf(buf + o_, len - o_, "%s%s", o_ ? ", " : "",
						       json_object_get_string(n));
		}
	if (o_ >= len)
		buf[len - 1] = '\0';
	json_object_put(o);
}

/* One run of merged folder m into s; env info from m/runs/<run>/env.json.
 * 0, or -1 after a message. */
static int load_run(const char *m, const char *run, hp_bench_set_t *s, run_info_t *ri)
{
	char *csv = dir_file(m, "results.csv"), *env = NULL, err[1024], names[1024];
	run_pick_t pick = { .run = run, .s = s };
	int rc = -1;

	if (!csv || asprintf(&env, "%s/runs/%s/env.json", m, run) < 0)
		goto out;
	merged_runs(m, names, sizeof names);
	if (!hp_run_name_ok(run) || !is_file(env)) {
		fprintf(stderr, "hotpath compare: %s has no run '%s' (its runs: %s)\n", m, run,
			names[0] ? names : "none listed in merged.json");
		goto out;
	}
	if (load_env(env, ri) < 0)
		goto out;
	if (hp_read_csv_runs_each(csv, run_pick_cb, &pick, err, sizeof(err)) < 0) {
		fprintf(stderr, "hotpath compare: %s\n", err);
		goto out;
	}
	if (!pick.rows) {
		fprintf(stderr, "hotpath compare: %s: run '%s' has no rows in results.csv (its runs: %s)\n",
			m, run, names);
		goto out;
	}
	rc = 0;
out:
	free(csv);
	free(env);
	return rc;
}

int hp_compare_runs(const char *m, const char *runs, FILE *out)
{
	const char *comma = strchr(runs, ',');
	char x[HP_RUN_NAME_MAX + 1], y[HP_RUN_NAME_MAX + 1], *la = NULL, *lb = NULL;
	run_info_t ia, ib;
	hp_bench_set_t sa, sb;
	int rc = 2;

	if (!out)
		out = stdout;
	if (!comma || comma == runs || !comma[1] || strchr(comma + 1, ',') ||
	    (size_t)(comma - runs) > HP_RUN_NAME_MAX || strlen(comma + 1) > HP_RUN_NAME_MAX) {
		fprintf(stderr, "hotpath compare: --runs '%s': expected two run names X,Y (A is run X, "
			"B is run Y)\n", runs);
		return 2;
	}
	memcpy(x, runs, (size_t)(comma - runs));
	x[comma - runs] = '\0';
	strcpy(y, comma + 1);
	if (!strcmp(x, y)) {
		fprintf(stderr, "hotpath compare: --runs '%s': the same run twice (name two runs)\n", runs);
		return 2;
	}
	if (!hp_is_merged_dir(m)) {
		fprintf(stderr, "hotpath compare: %s is not a merged folder (no merged.json): --runs "
			"picks runs of a folder written by hotpath merge; compare two run folders with "
			"hotpath compare A B\n", m);
		return 2;
	}
	side_init(&sa);
	side_init(&sb);
	if (load_run(m, x, &sa, &ia) < 0 || load_run(m, y, &sb, &ib) < 0)
		goto out;
	if (asprintf(&la, "%s run %s", m, x) < 0 || asprintf(&lb, "%s run %s", m, y) < 0) {
		rc = 99;
		fprintf(stderr, "hotpath compare: out of memory\n");
		goto out;
	}
	run_notes(out, "A", la, &ia);
	run_notes(out, "B", lb, &ib);
	if (ia.metric[0] && ib.metric[0] && strcmp(ia.metric, ib.metric))
		fprintf(out, "note: A was run with --metric %s and B with --metric %s: benchmarks are "
			"compared only where both sides have the same primary metric\n", ia.metric, ib.metric);
	rc = report(out, la, lb, &sa, &sb) < 0 ? 99 : 0;
	if (rc != 0)
		fprintf(stderr, "hotpath compare: out of memory\n");
out:
	free(la);
	free(lb);
	hp_bench_set_free(&sa);
	hp_bench_set_free(&sb);
	return rc;
}
