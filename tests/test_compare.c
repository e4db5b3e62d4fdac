/* test_compare.c — `hotpath compare`: ratio of medians, seeded bootstrap CI, verdicts and folder checks. */
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "compare.h"
#include "record.h"
#include "t_util.h"

static char tmpdir[256];

static void add(hp_results_t *r, const char *variant, const char *param, const char *metric,
		const char *unit, int rep, double v)
{
	hp_record_t x;

	memset(&x, 0, sizeof(x));
	hp_strlcpy(x.suite, "slub", sizeof(x.suite));
	hp_strlcpy(x.case_, "alloc", sizeof(x.case_));
	hp_strlcpy(x.variant, variant, sizeof(x.variant));
	hp_strlcpy(x.kind, strcmp(variant, "impl") ? "baseline" : "impl", sizeof(x.kind));
	hp_strlcpy(x.param, param, sizeof(x.param));
	x.threads = 1;
	hp_strlcpy(x.cpus, "1", sizeof(x.cpus));
	hp_strlcpy(x.metric, metric, sizeof(x.metric));
	hp_strlcpy(x.unit, unit, sizeof(x.unit));
	x.rep = rep;
	x.value = v;
	if (!hp_results_add(r, &x)) {
		perror("hp_results_add");
		exit(99);
	}
}

/* n noisy-looking but fixed times around `base` (+-3%), plus cpu_time rows
 * that must not be picked over real_time. */
static void add_times(hp_results_t *r, const char *variant, const char *param, double base, int n)
{
	static const double wiggle[] = { 0.00, 0.02, -0.01, 0.03, -0.03, 0.01, -0.02, 0.015, -0.015, 0.005 };

	for (int i = 0; i < n; i++) {
		add(r, variant, param, "cpu_time", "ns/call", i, base * 10);
		add(r, variant, param, "real_time", "ns/call", i, base * (1 + wiggle[i % 10]));
	}
}

static const hp_cmp_row_t *find(const hp_cmp_row_t *rows, long n, const char *key)
{
	for (long i = 0; i < n; i++)
		if (!strcmp(rows[i].key, key))
			return &rows[i];
	return NULL;
}

static void test_verdicts(void)
{
	hp_results_t a, b;
	hp_cmp_row_t *rows = NULL, *rows2 = NULL;
	const hp_cmp_row_t *x;
	long n, n2;

	hp_results_init(&a);
	hp_results_init(&b);
	add_times(&a, "impl", "64", 100, 10);
	add_times(&b, "impl", "64", 200, 10);         /* clearly 2x slower */
	add_times(&a, "glibc", "64", 100, 10);
	add_times(&b, "glibc", "64", 50, 10);         /* clearly 2x faster */
	add_times(&a, "jemalloc", "64", 100, 10);
	add_times(&b, "jemalloc", "64", 100, 10);     /* identical */
	add_times(&a, "tcmalloc", "64", 100, 7);
	add_times(&b, "tcmalloc", "64", 101, 7);      /* 1% apart, inside the +-3% noise */
	add_times(&a, "mimalloc", "64", 100, 2);
	add_times(&b, "mimalloc", "64", 200, 2);      /* too few reps to say */
	add_times(&a, "onlya", "64", 100, 5);         /* absent from B */
	add_times(&b, "onlyb", "64", 100, 5);         /* absent from A */
	add(&a, "impl", "-", "instructions", "instr/call", 0, 400);   /* deterministic: one run is enough */
	add(&b, "impl", "-", "instructions", "instr/call", 0, 420);

	n = hp_compare(&a, &b, 42, &rows);
	T_CHECK_MSG(n == 6, "%ld rows", n);

	x = find(rows, n, "slub/alloc/impl/64/threads:1:real_time");
	T_CHECK(x != NULL);
	if (x) {
		T_CHECK(x->verdict == HP_CMP_SLOWER);
		T_CHECK(x->median_a > 99 && x->median_a < 101);
		T_CHECK_MSG(fabs(x->ratio - 2) < 0.05, "ratio %g", x->ratio);
		T_CHECK_MSG(x->lo > 1.8 && x->lo <= x->ratio && x->ratio <= x->hi && x->hi < 2.2,
			    "CI [%g, %g]", x->lo, x->hi);
		T_CHECK(x->na == 10 && x->nb == 10);
	}
	x = find(rows, n, "slub/alloc/glibc/64/threads:1:real_time");
	T_CHECK(x && x->verdict == HP_CMP_FASTER && fabs(x->ratio - 0.5) < 0.02 && x->hi < 1);
	x = find(rows, n, "slub/alloc/jemalloc/64/threads:1:real_time");
	T_CHECK(x && x->verdict == HP_CMP_SAME && x->ratio == 1 && x->lo <= 1 && x->hi >= 1);
	x = find(rows, n, "slub/alloc/tcmalloc/64/threads:1:real_time");
	T_CHECK_MSG(x && x->verdict == HP_CMP_SAME && x->lo < 1 && x->hi > 1,
		    "CI [%g, %g]", x ? x->lo : 0, x ? x->hi : 0);
	x = find(rows, n, "slub/alloc/mimalloc/64/threads:1:real_time");
	T_CHECK(x && x->verdict == HP_CMP_SAME && x->ratio == 2 && x->lo == 2 && x->hi == 2);
	x = find(rows, n, "slub/alloc/impl/threads:1:instructions");
	T_CHECK(x && x->verdict == HP_CMP_SLOWER && fabs(x->ratio - 1.05) < 1e-12);
	T_CHECK(!find(rows, n, "slub/alloc/onlya/64/threads:1:real_time"));
	T_CHECK(!find(rows, n, "slub/alloc/onlyb/64/threads:1:real_time"));

	/* same seed, same CI to the bit; and in A's order */
	n2 = hp_compare(&a, &b, 42, &rows2);
	T_CHECK(n2 == n);
	for (long i = 0; i < n && i < n2; i++)
		T_CHECK(!strcmp(rows[i].key, rows2[i].key) && rows[i].lo == rows2[i].lo &&
			rows[i].hi == rows2[i].hi && rows[i].verdict == rows2[i].verdict);
	T_CHECK(n > 0 && !strcmp(rows[0].key, "slub/alloc/impl/64/threads:1:real_time"));
	free(rows2);

	/* another seed moves the noisy CI a little, never the clear verdicts */
	n2 = hp_compare(&a, &b, 7, &rows2);
	x = find(rows2, n2, "slub/alloc/impl/64/threads:1:real_time");
	T_CHECK(x && x->verdict == HP_CMP_SLOWER);
	x = find(rows2, n2, "slub/alloc/glibc/64/threads:1:real_time");
	T_CHECK(x && x->verdict == HP_CMP_FASTER);
	free(rows2);
	free(rows);

	/* nothing in common: zero rows, not an error */
	{
		hp_results_t e;

		hp_results_init(&e);
		n = hp_compare(&a, &e, 1, &rows);
		T_CHECK(n == 0);
		free(rows);
	}
	hp_results_free(&a);
	hp_results_free(&b);
}

/* ------------------------------------------------------------------ */

static void mkfolder(const char *name, const hp_results_t *r, int with_env, char *out, size_t len)
{
	char p[600];

	snprintf(out, len, "%s/%s", tmpdir, name);
	if (mkdir(out, 0755) < 0) {
		perror(out);
		exit(99);
	}
	if (r) {
		snprintf(p, sizeof(p), "%s/results.csv", out);
		if (hp_write_csv(p, r) < 0) {
			perror(p);
			exit(99);
		}
	}
	if (with_env) {
		snprintf(p, sizeof(p), "%s/env.json", out);
		if (hp_write_atomic(p, "{}\n", 3) < 0) {
			perror(p);
			exit(99);
		}
	}
}

/* Runs hp_compare_dirs with stdout and stderr captured into files. */
static int run_dirs(const char *a, const char *b, char **out, char **err)
{
	char po[600], pe[600];
	FILE *fo, *fe;
	int saved, rc;
	long n;

	snprintf(po, sizeof(po), "%s/out.txt", tmpdir);
	snprintf(pe, sizeof(pe), "%s/err.txt", tmpdir);
	fo = fopen(po, "w+");
	fe = fopen(pe, "w+");
	if (!fo || !fe)
		exit(99);
	fflush(stderr);
	saved = dup(2);
	dup2(fileno(fe), 2);
	rc = hp_compare_dirs(a, b, fo);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	fflush(fo);
	for (int k = 0; k < 2; k++) {
		FILE *f = k ? fe : fo;
		char **dst = k ? err : out;

		fseek(f, 0, SEEK_END);
		n = ftell(f);
		rewind(f);
		*dst = calloc(1, (size_t)n + 1);
		if (fread(*dst, 1, (size_t)n, f) != (size_t)n)
			exit(99);
		fclose(f);
	}
	return rc;
}

static void test_dirs(void)
{
	hp_results_t a, b;
	char da[512], db[512], dnocsv[512], dnoenv[512], dbad[512], p[700], want[800];
	char *out, *err;
	int rc;

	hp_results_init(&a);
	hp_results_init(&b);
	add_times(&a, "impl", "64", 100, 5);
	add_times(&b, "impl", "64", 200, 5);
	add_times(&a, "glibc", "64", 100, 5);
	add_times(&b, "glibc", "64", 100, 5);
	add_times(&a, "onlya", "-", 100, 5);
	add_times(&b, "onlyb", "-", 100, 5);
	/* twice as slow, but two repetitions a side: no verdict, not "same" */
	add_times(&a, "few", "64", 100, 2);
	add_times(&b, "few", "64", 200, 2);
	mkfolder("A", &a, 1, da, sizeof(da));
	mkfolder("B", &b, 1, db, sizeof(db));
	mkfolder("nocsv", NULL, 1, dnocsv, sizeof(dnocsv));
	mkfolder("noenv", &a, 0, dnoenv, sizeof(dnoenv));
	mkfolder("bad", NULL, 1, dbad, sizeof(dbad));
	snprintf(p, sizeof(p), "%s/results.csv", dbad);
	hp_write_atomic(p, "wrong,header\n", 13);

	rc = run_dirs(dnocsv, db, &out, &err);
	T_CHECK(rc == 2);
	snprintf(want, sizeof(want), "hotpath compare: %s is not a results folder (no results.csv)\n", dnocsv);
	T_CHECK_STR(err, want);
	free(out);
	free(err);

	rc = run_dirs(da, dnoenv, &out, &err);
	T_CHECK(rc == 2);
	T_CHECK_MSG(strstr(err, dnoenv) && strstr(err, "no env.json"), "%s", err);
	free(out);
	free(err);

	rc = run_dirs(da, "/nonexistent/hp", &out, &err);
	T_CHECK(rc == 2 && strstr(err, "/nonexistent/hp is not a results folder"));
	free(out);
	free(err);

	rc = run_dirs(da, dbad, &out, &err);
	T_CHECK(rc == 2);
	T_CHECK_MSG(strstr(err, "results.csv:1:") && strstr(err, "header"), "%s", err);
	free(out);
	free(err);

	rc = run_dirs(da, db, &out, &err);
	T_CHECK_MSG(rc == 0, "rc %d: %s", rc, err);
	T_CHECK_MSG(strstr(out, "slub/alloc/impl/64/threads:1:real_time") && strstr(out, "slower"), "%s", out);
	T_CHECK(strstr(out, "2.000"));
	T_CHECK(strstr(out, "only in A: slub/alloc/onlya/threads:1:real_time"));
	T_CHECK(strstr(out, "only in B: slub/alloc/onlyb/threads:1:real_time"));
	T_CHECK_MSG(strstr(out, "3 compared: 0 faster, 1 slower, 1 same, 1 undecided; 1 only in A, 1 only in B"),
		    "%s", out);
	{
		const char *r = strstr(out, "\nslub/alloc/few/");
		const char *e = r ? strchr(r + 1, '\n') : NULL;

		T_CHECK_MSG(r && e && memmem(r, (size_t)(e - r), "undecided (too few reps)", 24) &&
			    !memmem(r, (size_t)(e - r), "same", 4), "%s", out);
	}
	T_CHECK(strstr(out, "coarse"));   /* 5 repetitions: warned */
	T_CHECK(err[0] == '\0');
	/* the table is aligned: the header and both rows put "ratio" values at one column */
	{
		const char *h = strstr(out, "benchmark:metric"), *r1, *r2;
		const char *hcol, *c1, *c2;

		r1 = h ? strstr(h, "\nslub/alloc/impl/") : NULL;
		r2 = h ? strstr(h, "\nslub/alloc/glibc/") : NULL;
		hcol = h ? strstr(h, "verdict") : NULL;
		c1 = r1 ? strstr(r1, "slower") : NULL;
		c2 = r2 ? strstr(r2, "same") : NULL;
		T_CHECK(h && r1 && r2 && hcol && c1 && c2 &&
			hcol - h == c1 - (r1 + 1) && c1 - (r1 + 1) == c2 - (r2 + 1));
	}
	free(out);
	free(err);

	hp_results_free(&a);
	hp_results_free(&b);
}

int main(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/hp_test_compare.XXXXXX");
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 99;
	}
	test_verdicts();
	test_dirs();
	{
		char cmd[300];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", tmpdir);
	}
	return t_done("test_compare");
}
