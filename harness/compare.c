/* compare.c — `hotpath compare A B`: ratio of medians B/A per benchmark, a seeded bootstrap CI and a verdict. */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "compare.h"
#include "keymap.h"
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
#define CMP_MIN_REPS 3
#define CMP_DIRS_SEED 0x686f74706174680aull   /* fixed: the same folders always give the same verdicts */

/* ==================================================================== */
/* PRNG: splitmix64 to seed, xoshiro256** to draw                       */
/* ==================================================================== */

typedef struct rng {
	uint64_t s[4];
} rng_t;

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static uint64_t rng_next(rng_t *r)
{
	uint64_t res = rotl(r->s[1] * 5, 7) * 9, t = r->s[1] << 17;

	r->s[2] ^= r->s[0];
	r->s[3] ^= r->s[1];
	r->s[1] ^= r->s[2];
	r->s[0] ^= r->s[3];
	r->s[2] ^= t;
	r->s[3] = rotl(r->s[3], 45);
	return res;
}

static void rng_seed(rng_t *r, uint64_t seed)
{
	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&seed);
}

/* Uniform in [0, n): the high half of a 64x64 product (bias < n / 2^64). */
static size_t rng_below(rng_t *r, size_t n)
{
	return (size_t)(((unsigned __int128)rng_next(r) * n) >> 64);
}

/* ==================================================================== */
/* One side: each benchmark's primary metric and its values             */
/* ==================================================================== */

typedef struct side_bench {
	char name[224];         /* suite/case/variant[/param]/threads:N */
	char metric[48], unit[24];
	int prio;               /* index into primary_order, or NPRIO for "first seen" */
	double *v;
	size_t n;
} side_bench_t;

typedef struct side {
	keymap_t ids;           /* bench key -> index into b */
	side_bench_t *b;
	size_t n;
} side_t;

static const char *const primary_order[] = { "real_time", "instructions", "perf_cycles" };
#define NPRIO ((int)(sizeof(primary_order) / sizeof(primary_order[0])))

static int metric_prio(const char *m)
{
	for (int p = 0; p < NPRIO; p++)
		if (strcmp(m, primary_order[p]) == 0)
			return p;
	return NPRIO;
}

static void side_free(side_t *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->b[i].v);
	free(s->b);
	keymap_free(&s->ids);
	memset(s, 0, sizeof(*s));
}

static void bench_key(char *buf, size_t len, const hp_record_t *x)
{
	snprintf(buf, len, "%s\x1f%s\x1f%s\x1f%s\x1f%d", x->suite, x->case_, x->variant, x->param,
		 x->threads);
}

static void bench_name(char *buf, size_t len, const hp_record_t *x)
{
	if (!x->param[0] || strcmp(x->param, "-") == 0)
		snprintf(buf, len, "%s/%s/%s/threads:%d", x->suite, x->case_, x->variant, x->threads);
	else
		snprintf(buf, len, "%s/%s/%s/%s/threads:%d", x->suite, x->case_, x->variant, x->param,
			 x->threads);
}

static int side_build(const hp_results_t *r, side_t *s)
{
	size_t *bid = malloc((r->nrec ? r->nrec : 1) * sizeof(*bid));
	char key[320];

	memset(s, 0, sizeof(*s));
	keymap_init(&s->ids);
	if (!bid)
		goto nomem;
	/* first pass: benchmarks and, for each, its best metric */
	for (size_t i = 0; i < r->nrec; i++) {
		const hp_record_t *x = &r->rec[i];
		size_t id;
		int p = metric_prio(x->metric);

		bench_key(key, sizeof(key), x);
		id = keymap_id(&s->ids, key);
		if (id == KEYMAP_NONE)
			goto nomem;
		bid[i] = id;
		if (id == s->n) {
			side_bench_t *nb = realloc(s->b, (s->n + 1) * sizeof(*nb));

			if (!nb)
				goto nomem;
			s->b = nb;
			memset(&s->b[s->n], 0, sizeof(s->b[s->n]));
			bench_name(s->b[s->n].name, sizeof(s->b[s->n].name), x);
			s->b[s->n].prio = NPRIO + 1;
			s->n++;
		}
		if (p < s->b[id].prio) {
			s->b[id].prio = p;
			hp_strlcpy(s->b[id].metric, x->metric, sizeof(s->b[id].metric));
			hp_strlcpy(s->b[id].unit, x->unit, sizeof(s->b[id].unit));
		}
	}
	/* second pass: the values of that metric */
	for (size_t i = 0; i < r->nrec; i++) {
		side_bench_t *b = &s->b[bid[i]];
		double *nv;

		if (strcmp(r->rec[i].metric, b->metric))
			continue;
		nv = realloc(b->v, (b->n + 1) * sizeof(*nv));
		if (!nv)
			goto nomem;
		b->v = nv;
		b->v[b->n++] = r->rec[i].value;
	}
	free(bid);
	return 0;
nomem:
	free(bid);
	side_free(s);
	errno = ENOMEM;
	return -1;
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

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	if (isnan(x) || isnan(y))
		return isnan(x) - isnan(y);
	return (x > y) - (x < y);
}

/* Linear interpolation between order statistics of sorted q[0..n). */
static double percentile(const double *q, size_t n, double p)
{
	double pos = p * (double)(n - 1), fl = floor(pos);
	size_t i = (size_t)fl;

	if (i + 1 >= n)
		return q[n - 1];
	return q[i] + (pos - fl) * (q[i + 1] - q[i]);
}

static int bootstrap(const double *a, size_t na, const double *b, size_t nb, uint64_t seed,
		     double *lo, double *hi)
{
	double *ra = malloc(na * sizeof(*ra)), *rb = malloc(nb * sizeof(*rb));
	double *q = malloc(CMP_RESAMPLES * sizeof(*q));
	rng_t g;

	if (!ra || !rb || !q) {
		free(ra);
		free(rb);
		free(q);
		errno = ENOMEM;
		return -1;
	}
	rng_seed(&g, seed);
	for (size_t k = 0; k < CMP_RESAMPLES; k++) {
		for (size_t i = 0; i < na; i++)
			ra[i] = a[rng_below(&g, na)];
		for (size_t i = 0; i < nb; i++)
			rb[i] = b[rng_below(&g, nb)];
		q[k] = ratio_of(hp_median(rb, nb), hp_median(ra, na));
	}
	qsort(q, CMP_RESAMPLES, sizeof(*q), cmp_double);
	*lo = percentile(q, CMP_RESAMPLES, 0.025);
	*hi = percentile(q, CMP_RESAMPLES, 0.975);
	free(ra);
	free(rb);
	free(q);
	return 0;
}

/* Counts callgrind makes identical from run to run (design.md, Determinism). */
static int is_deterministic(const char *metric)
{
	return strcmp(metric, "instructions") == 0;
}

static int compare_one(const side_bench_t *A, const side_bench_t *B, uint64_t seed,
		       hp_cmp_row_t *row)
{
	double *tmp = malloc((A->n > B->n ? A->n : B->n) * sizeof(*tmp) + 1);
	uint64_t h = 1469598103934665603ull;

	if (!tmp) {
		errno = ENOMEM;
		return -1;
	}
	memset(row, 0, sizeof(*row));
	snprintf(row->key, sizeof(row->key), "%s:%s", A->name, A->metric);
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
static long compare_sides(const side_t *sa, const side_t *sb, uint64_t seed, hp_cmp_row_t **rows,
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
		const side_bench_t *A = &sa->b[i];
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

long hp_compare(const hp_results_t *a, const hp_results_t *b, uint64_t seed,
		hp_cmp_row_t **rows)
{
	side_t sa, sb;
	long n;

	if (!rows) {
		errno = EINVAL;
		return -1;
	}
	*rows = NULL;
	if (side_build(a, &sa) < 0)
		return -1;
	if (side_build(b, &sb) < 0) {
		side_free(&sa);
		return -1;
	}
	n = compare_sides(&sa, &sb, seed, rows, NULL);
	side_free(&sa);
	side_free(&sb);
	return n;
}

/* ==================================================================== */
/* hotpath compare A B                                                  */
/* ==================================================================== */

static const char *verdict_name(hp_verdict_t v)
{
	return v == HP_CMP_FASTER ? "faster" : v == HP_CMP_SLOWER ? "slower" : "same";
}

static int is_file(const char *dir, const char *name)
{
	char path[4096];
	struct stat st;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path))
		return 0;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static int load_dir(const char *dir, hp_results_t *r)
{
	char path[4096], err[1024];

	if (!is_file(dir, "results.csv")) {
		fprintf(stderr, "hotpath compare: %s is not a results folder (no results.csv)\n", dir);
		return -1;
	}
	if (!is_file(dir, "env.json")) {
		fprintf(stderr, "hotpath compare: %s is not a results folder (no env.json)\n", dir);
		return -1;
	}
	snprintf(path, sizeof(path), "%s/results.csv", dir);
	if (hp_read_csv(path, r, err, sizeof(err)) < 0) {
		fprintf(stderr, "hotpath compare: %s\n", err);
		return -1;
	}
	return 0;
}

static void fmt_val(char *buf, size_t len, double v, const char *unit)
{
	if (isfinite(v) && fabs(v) >= 1000 && fabs(v) < 1e15)
		snprintf(buf, len, "%.0f %s", v, unit);
	else
		snprintf(buf, len, "%.4g %s", v, unit);
}

/* A param may hold anything, newlines included; one row stays one line. */
static void key_cell(char *dst, size_t len, const char *key)
{
	size_t o = 0;

	for (; *key && o + 3 < len; key++) {
		if (*key == '\n' || *key == '\r') {
			dst[o++] = '\\';
			dst[o++] = *key == '\n' ? 'n' : 'r';
		} else {
			dst[o++] = (unsigned char)*key < 0x20 ? '?' : *key;
		}
	}
	dst[o] = '\0';
}

#define NCOL 6

static void print_row(FILE *out, char cells[NCOL][256], const int *w)
{
	for (int c = 0; c < NCOL; c++) {
		/* text left, numbers right, the last column unpadded */
		if (c == NCOL - 1)
			fprintf(out, "%s\n", cells[c]);
		else if (c == 0)
			fprintf(out, "%-*s  ", w[c], cells[c]);
		else
			fprintf(out, "%*s  ", w[c], cells[c]);
	}
}

int hp_compare_dirs(const char *a, const char *b, FILE *out)
{
	hp_results_t ra, rb;
	side_t sa, sb;
	hp_cmp_row_t *rows = NULL;
	size_t *aidx = NULL;
	long n;
	size_t only_a = 0, only_b = 0, cnt[3] = { 0 }, undecided = 0, min_n = SIZE_MAX;
	int w[NCOL] = { 0 }, rc = 2;
	char (*cells)[NCOL][256] = NULL;

	if (!out)
		out = stdout;
	hp_results_init(&ra);
	hp_results_init(&rb);
	if (load_dir(a, &ra) < 0 || load_dir(b, &rb) < 0)
		goto out_res;
	if (side_build(&ra, &sa) < 0)
		goto oom_res;
	if (side_build(&rb, &sb) < 0) {
		side_free(&sa);
		goto oom_res;
	}
	n = compare_sides(&sa, &sb, CMP_DIRS_SEED, &rows, &aidx);
	if (n < 0)
		goto oom;
	cells = calloc((size_t)n + 1, sizeof(*cells));
	if (!cells)
		goto oom;

	fprintf(out, "A: %s\nB: %s\n", a, b);
	fprintf(out, "ratio = median(B) / median(A), below 1 means B is faster; "
		"95%% bootstrap CI, %d resamples, seed %#llx\n\n",
		CMP_RESAMPLES, (unsigned long long)CMP_DIRS_SEED);

	snprintf(cells[0][0], 256, "benchmark:metric");
	snprintf(cells[0][1], 256, "A median");
	snprintf(cells[0][2], 256, "B median");
	snprintf(cells[0][3], 256, "ratio");
	snprintf(cells[0][4], 256, "95%% CI");
	snprintf(cells[0][5], 256, "verdict");
	for (long i = 0; i < n; i++) {
		const hp_cmp_row_t *x = &rows[i];
		const char *unit = sa.b[aidx[i]].unit;
		int det;

		key_cell(cells[i + 1][0], 256, x->key);
		fmt_val(cells[i + 1][1], 256, x->median_a, unit);
		fmt_val(cells[i + 1][2], 256, x->median_b, unit);
		snprintf(cells[i + 1][3], 256, "%.3f", x->ratio);
		snprintf(cells[i + 1][4], 256, "[%.3f, %.3f]", x->lo, x->hi);
		det = is_deterministic(sa.b[aidx[i]].metric);
		/* with too few repetitions no verdict is given: printing "same"
		 * would read as "no difference" next to a ratio of 0.66 */
		if (!det && (x->na < CMP_MIN_REPS || x->nb < CMP_MIN_REPS)) {
			snprintf(cells[i + 1][5], 256, "undecided (too few reps)");
			undecided++;
		} else {
			snprintf(cells[i + 1][5], 256, "%s", verdict_name(x->verdict));
			cnt[x->verdict]++;
		}
		if (!det && x->na < min_n)
			min_n = x->na;
		if (!det && x->nb < min_n)
			min_n = x->nb;
	}
	for (long i = 0; i <= n; i++)
		for (int c = 0; c < NCOL; c++) {
			int l = (int)strlen(cells[i][c]);

			if (l > w[c])
				w[c] = l;
		}
	for (long i = 0; i <= n; i++)
		print_row(out, cells[i], w);

	for (size_t i = 0; i < sa.n; i++) {
		size_t j = keymap_find(&sb.ids, sa.ids.keys[i]);

		if (j == KEYMAP_NONE || strcmp(sa.b[i].metric, sb.b[j].metric)) {
			char k[256], shown[256];

			snprintf(k, sizeof(k), "%s:%s", sa.b[i].name, sa.b[i].metric);
			key_cell(shown, sizeof(shown), k);
			fprintf(out, "only in A: %s\n", shown);
			only_a++;
		}
	}
	for (size_t i = 0; i < sb.n; i++) {
		size_t j = keymap_find(&sa.ids, sb.ids.keys[i]);

		if (j == KEYMAP_NONE || strcmp(sb.b[i].metric, sa.b[j].metric)) {
			char k[256], shown[256];

			snprintf(k, sizeof(k), "%s:%s", sb.b[i].name, sb.b[i].metric);
			key_cell(shown, sizeof(shown), k);
			fprintf(out, "only in B: %s\n", shown);
			only_b++;
		}
	}
	fprintf(out, "\n%ld compared: %zu faster, %zu slower, %zu same, %zu undecided; %zu only in A, %zu only in B\n",
		n, cnt[HP_CMP_FASTER], cnt[HP_CMP_SLOWER], cnt[HP_CMP_SAME], undecided, only_a, only_b);
	if (min_n < 10)
		fprintf(out, "note: as few as %zu repetition%s per side: the CI of a median is coarse "
			"(fewer than %d give no verdict at all); use --reps 10 or more to resolve "
			"differences of a few percent\n", min_n, min_n == 1 ? "" : "s", CMP_MIN_REPS);
	rc = 0;
	goto out_all;

oom:
	fprintf(stderr, "hotpath compare: out of memory\n");
	rc = 99;
out_all:
	free(cells);
	free(rows);
	free(aidx);
	side_free(&sa);
	side_free(&sb);
out_res:
	hp_results_free(&ra);
	hp_results_free(&rb);
	return rc;
oom_res:
	fprintf(stderr, "hotpath compare: out of memory\n");
	rc = 99;
	goto out_res;
}
