/* test_writers.c — the hp_record library: results.csv/json, summary.md, atomic writes and
 * mkdir -p (fsutil.c), statistics (stats.c) and record JSON. */
#include <errno.h>
#include <fcntl.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <json-c/json.h>

#include "record.h"
#include "rundir.h"
#include "t_util.h"

static char tmpdir[256];

static void path_in(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", tmpdir, name);
}

static char *read_all(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = calloc(1, (size_t)n + 1);
	if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

static void write_file(const char *path, const char *s)
{
	FILE *f = fopen(path, "wb");

	if (!f) {
		perror(path);
		exit(99);
	}
	fputs(s, f);
	fclose(f);
}

static int exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

static hp_record_t mk(const char *suite, const char *case_, const char *variant, const char *kind,
		      const char *param, int threads, const char *metric, const char *unit, int rep,
		      double value)
{
	hp_record_t r;

	memset(&r, 0, sizeof(r));
	hp_strlcpy(r.suite, suite, sizeof(r.suite));
	hp_strlcpy(r.case_, case_, sizeof(r.case_));
	hp_strlcpy(r.variant, variant, sizeof(r.variant));
	hp_strlcpy(r.kind, kind, sizeof(r.kind));
	hp_strlcpy(r.param, param, sizeof(r.param));
	r.threads = threads;
	hp_strlcpy(r.cpus, threads > 1 ? "0+1" : "1", sizeof(r.cpus));
	hp_strlcpy(r.metric, metric, sizeof(r.metric));
	hp_strlcpy(r.unit, unit, sizeof(r.unit));
	r.rep = rep;
	r.value = value;
	return r;
}

static hp_status_t mkst(const char *variant, const char *kind, const char *param,
			hp_status_kind_t s, const char *msg)
{
	hp_status_t st;

	memset(&st, 0, sizeof(st));
	hp_strlcpy(st.suite, "slub", sizeof(st.suite));
	hp_strlcpy(st.case_, "alloc", sizeof(st.case_));
	hp_strlcpy(st.variant, variant, sizeof(st.variant));
	hp_strlcpy(st.kind, kind, sizeof(st.kind));
	hp_strlcpy(st.param, param, sizeof(st.param));
	st.threads = 1;
	hp_strlcpy(st.metric, "time", sizeof(st.metric));
	st.status = s;
	hp_strlcpy(st.message, msg, sizeof(st.message));
	st.seconds = 0.25;
	return st;
}

static int same_record(const hp_record_t *a, const hp_record_t *b)
{
	return !strcmp(a->suite, b->suite) && !strcmp(a->case_, b->case_) &&
	       !strcmp(a->variant, b->variant) && !strcmp(a->kind, b->kind) &&
	       !strcmp(a->param, b->param) && a->threads == b->threads &&
	       !strcmp(a->cpus, b->cpus) && !strcmp(a->metric, b->metric) &&
	       !strcmp(a->unit, b->unit) && a->rep == b->rep &&
	       memcmp(&a->value, &b->value, sizeof(double)) == 0;
}

/* The data set of the summary and JSON checks: impl 10,11,12 and a
 * baseline exactly twice as slow, one instructions-only benchmark and
 * three statuses. */
static void known_set(hp_results_t *r)
{
	static const double impl[] = { 10, 11, 12 }, base[] = { 20, 22, 24 };

	hp_results_init(r);
	for (int i = 0; i < 3; i++) {
		hp_record_t x = mk("slub", "alloc", "impl", "impl", "64", 1, "real_time", "ns/call", i, impl[i]);

		hp_results_add(r, &x);
		x = mk("slub", "alloc", "impl", "impl", "64", 1, "cpu_time", "ns/call", i, impl[i] - 0.5);
		hp_results_add(r, &x);
		x = mk("slub", "alloc", "impl", "impl", "64", 1, "iterations", "", i, 1000000);
		hp_results_add(r, &x);
		x = mk("slub", "alloc", "impl", "impl", "64", 1, "tsc_cycles", "cycles/call", i, 30 + i);
		hp_results_add(r, &x);
		x = mk("slub", "alloc", "impl", "impl", "64", 1, "name", "", i, 7); /* clashes with a GB key */
		hp_results_add(r, &x);
		x = mk("slub", "alloc", "glibc", "baseline", "64", 1, "real_time", "ns/call", i, base[i]);
		hp_results_add(r, &x);
		x = mk("slub", "alloc", "glibc", "baseline", "64", 1, "cpu_time", "ns/call", i, base[i]);
		hp_results_add(r, &x);
	}
	for (int i = 0; i < 2; i++) {
		hp_record_t x = mk("sched", "switch", "impl", "impl", "-", 2, "instructions", "instr/switch", i, 412);

		hp_results_add(r, &x);
	}
	hp_status_t st = mkst("impl", "impl", "64", HP_ST_OK, "");
	hp_results_add_status(r, &st);
	st = mkst("urcu", "baseline", "64", HP_ST_UNAVAILABLE, "liburcu not found at build time");
	hp_results_add_status(r, &st);
	st = mkst("kmalloc", "kernel", "-", HP_ST_FAILED, "child exited with status 3");
	hp_results_add_status(r, &st);
}

/* ------------------------------------------------------------------ */

static void test_stats(void)
{
	double odd[] = { 3, 1, 2 }, even[] = { 4, 1, 3, 2 }, one[] = { 5 };
	double cvd[] = { 2, 4, 4, 4, 5, 5, 7, 9 }, same[] = { 1e9 + 1, 1e9 + 1, 1e9 + 1 };
	double big[] = { 1e9 - 1, 1e9, 1e9 + 1 };

	T_CHECK(hp_median(odd, 3) == 2);
	T_CHECK(odd[0] == 1 && odd[2] == 3);   /* sorted in place */
	T_CHECK(hp_median(even, 4) == 2.5);
	T_CHECK(hp_median(one, 1) == 5);
	T_CHECK(isnan(hp_median(one, 0)));
	/* mean 5, sum of squared deviations 32, sample variance 32/7 */
	T_CHECK_MSG(fabs(hp_cv(cvd, 8) - sqrt(32.0 / 7) / 5) < 1e-12, "cv %.17g", hp_cv(cvd, 8));
	T_CHECK(hp_cv(cvd, 1) == 0);
	T_CHECK(hp_cv(same, 3) == 0);
	T_CHECK_MSG(fabs(hp_cv(big, 3) - 1e-9) < 1e-15, "cv %.17g", hp_cv(big, 3));

	/* NaNs sort last and leave the rest in order */
	double withnan[] = { 3, NAN, 1, 2 }, q[] = { 10, 20, 30, 40, 50 };

	qsort(withnan, 4, sizeof(double), hp_cmp_double);
	T_CHECK(withnan[0] == 1 && withnan[1] == 2 && withnan[2] == 3 && isnan(withnan[3]));
	T_CHECK(hp_percentile(q, 5, 0) == 10);
	T_CHECK(hp_percentile(q, 5, 1) == 50);
	T_CHECK(hp_percentile(q, 5, 0.5) == 30);
	T_CHECK_MSG(fabs(hp_percentile(q, 5, 0.025) - 11) < 1e-12, "p2.5 %.17g",
		    hp_percentile(q, 5, 0.025));
	T_CHECK(hp_percentile(q, 1, 0.975) == 10);
}

static void test_mkdir_p(void)
{
	char p[512], f[600];
	struct stat st;

	snprintf(p, sizeof(p), "%s/a/b/c", tmpdir);
	T_CHECK(hp_mkdir_p(p) == 0);
	T_CHECK(stat(p, &st) == 0 && S_ISDIR(st.st_mode));
	T_CHECK(hp_mkdir_p(p) == 0);            /* already there: fine */
	snprintf(f, sizeof(f), "%s/file", p);
	T_CHECK(hp_write_atomic(f, "x", 1) == 0);
	snprintf(f, sizeof(f), "%s/file/sub", p);
	T_CHECK(hp_mkdir_p(f) == -1);           /* a file in the way */
	T_CHECK(hp_mkdir_p("") == -1);
}

static void test_strlcpy(void)
{
	char b[4];

	hp_strlcpy(b, "abcdef", sizeof(b));
	T_CHECK_STR(b, "abc");
	hp_strlcpy(b, "x", sizeof(b));
	T_CHECK_STR(b, "x");
	hp_strlcpy(b, NULL, sizeof(b));
	T_CHECK_STR(b, "");
	T_CHECK_STR(hp_status_name(HP_ST_UNAVAILABLE), "unavailable");
	T_CHECK_STR(hp_status_name(HP_ST_FAILED), "failed");
}

static void test_atomic(void)
{
	char p[512], tmp[520], dirp[512];
	char *s;

	path_in(p, sizeof(p), "atomic.txt");
	snprintf(tmp, sizeof(tmp), "%s.tmp", p);
	T_CHECK(hp_write_atomic(p, "a long first version\n", 21) == 0);
	T_CHECK(!exists(tmp));
	T_CHECK(hp_write_atomic(p, "short", 5) == 0);
	s = read_all(p);
	T_CHECK_STR(s, "short");   /* replaced whole, no tail of the old one */
	free(s);
	T_CHECK(!exists(tmp));

	/* a missing folder: nothing created, errno kept */
	path_in(p, sizeof(p), "no/such/dir/file.txt");
	errno = 0;
	T_CHECK(hp_write_atomic(p, "x", 1) == -1);
	T_CHECK_MSG(errno == ENOENT, "errno %d", errno);
	T_CHECK(!exists(p));

	/* the final rename fails (target is a folder): the .tmp is cleaned up */
	path_in(dirp, sizeof(dirp), "adir");
	T_CHECK(mkdir(dirp, 0755) == 0);
	snprintf(tmp, sizeof(tmp), "%s.tmp", dirp);
	errno = 0;
	T_CHECK(hp_write_atomic(dirp, "x", 1) == -1);
	T_CHECK_MSG(errno == EISDIR, "errno %d", errno);
	T_CHECK(!exists(tmp));
	rmdir(dirp);

	/* json: pretty, slashes not escaped, newline at the end */
	{
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "path", json_object_new_string("a/b"));
		path_in(p, sizeof(p), "x.json");
		T_CHECK(hp_write_json_atomic(p, o) == 0);
		json_object_put(o);
		s = read_all(p);
		T_CHECK(s && strstr(s, "\"a/b\""));
		T_CHECK(s && s[strlen(s) - 1] == '\n');
		T_CHECK(s && strchr(s, '\n') != strrchr(s, '\n'));   /* pretty: several lines */
		free(s);
	}
}

static void test_csv_roundtrip(void)
{
	static const char *params[] = {
		"a,b", "say \"hi\"", "two\nlines", "cr\r\nlf", "\"", ",", "", "-", "plain",
		"\",\"\n\"\"",
	};
	static const double vals[] = {
		0.1, 1.0 / 3, 5e-324, DBL_MAX, -DBL_MIN, 123456789012345678.0, 12, -0.0,
		2.5e-9, 1e300,
	};
	const size_t n = sizeof(params) / sizeof(params[0]);
	hp_results_t a, b;
	char p[512], err[512];
	char *s;

	hp_results_init(&a);
	hp_results_init(&b);
	for (size_t i = 0; i < n; i++) {
		/* a case's own counter: any finite value (a time is checked, see test_csv_values) */
		hp_record_t x = mk("su,ite", "ca\"se", "var\niant", "impl", params[i], 1 + (int)i,
				   "exact_counter", "ns/call", (int)i, vals[i]);

		T_CHECK(hp_results_add(&a, &x) != NULL);
	}
	path_in(p, sizeof(p), "results.csv");
	T_CHECK(hp_write_csv(p, &a) == 0);
	s = read_all(p);
	T_CHECK(s && strncmp(s, HP_CSV_HEADER "\n", strlen(HP_CSV_HEADER) + 1) == 0);
	T_CHECK(s && strstr(s, "\"say \"\"hi\"\"\""));   /* quotes doubled */
	T_CHECK(s && strstr(s, ",6,12\n"));               /* ints plain */
	T_CHECK(s && strstr(s, ",0,0.1\n"));              /* shortest exact text */
	T_CHECK(s && !strstr(s, "\r\n\""));
	free(s);

	T_CHECK_MSG(hp_read_csv(p, &b, err, sizeof(err)) == 0, "%s", err);
	T_CHECK(b.nrec == a.nrec);
	for (size_t i = 0; i < a.nrec && i < b.nrec; i++)
		T_CHECK_MSG(same_record(&a.rec[i], &b.rec[i]), "row %zu param \"%s\" value %.17g vs %.17g",
			    i, b.rec[i].param, a.rec[i].value, b.rec[i].value);
	/* appends to what is there */
	T_CHECK(hp_read_csv(p, &b, err, sizeof(err)) == 0);
	T_CHECK(b.nrec == 2 * a.nrec);
	hp_results_free(&a);
	hp_results_free(&b);
}

static void expect_csv_error(const char *content, const char *want_line, const char *want_text)
{
	hp_results_t r;
	hp_record_t x = mk("s", "c", "v", "impl", "-", 1, "real_time", "ns/call", 0, 1);
	char p[512], err[512], where[600];

	hp_results_init(&r);
	hp_results_add(&r, &x);
	path_in(p, sizeof(p), "bad.csv");
	write_file(p, content);
	snprintf(where, sizeof(where), "%s:%s:", p, want_line);
	err[0] = '\0';
	T_CHECK_MSG(hp_read_csv(p, &r, err, sizeof(err)) == -1, "accepted: %s", content);
	T_CHECK_MSG(strncmp(err, where, strlen(where)) == 0, "message \"%s\", want it to start \"%s\"", err, where);
	T_CHECK_MSG(strstr(err, want_text) != NULL, "message \"%s\" lacks \"%s\"", err, want_text);
	T_CHECK(r.nrec == 1);   /* nothing half-added */
	hp_results_free(&r);
}

static void test_csv_errors(void)
{
	const char *row = "s,c,v,impl,-,1,0,real_time,ns/call,0,1.5\n";
	char buf[1024];
	hp_results_t r;
	char err[512], p[512];

	expect_csv_error("suite,case,variant\n", "1", "expected \"" HP_CSV_HEADER "\"");
	expect_csv_error("", "1", "empty file");
	expect_csv_error("suite,case,variant,kind,param,threads,cpus,metric,unit,rep,value,extra\n", "1",
			 "header is");
	snprintf(buf, sizeof(buf), HP_CSV_HEADER "\n%ss,c,v,impl,-,1,0,real_time,ns/call,0,abc\n", row);
	expect_csv_error(buf, "3", "value \"abc\"");
	/* metrics: a standard metric with another unit, a name no writer makes */
	snprintf(buf, sizeof(buf), HP_CSV_HEADER "\n%ss,c,v,impl,-,1,0,real_time,instr/call,0,1\n", row);
	expect_csv_error(buf, "3", "unit \"instr/call\" of metric real_time");
	snprintf(buf, sizeof(buf), HP_CSV_HEADER "\n%ss,c,v,impl,-,1,0,instructions,nsx/call,0,1\n", row);
	expect_csv_error(buf, "3", "of metric instructions");
	snprintf(buf, sizeof(buf), HP_CSV_HEADER "\n%ss,c,v,impl,-,1,0,real time!,ns/call,0,1\n", row);
	expect_csv_error(buf, "3", "neither a known metric");
	snprintf(buf, sizeof(buf), HP_CSV_HEADER "\n%ss,c,v,impl,-,1,0,9lives,u,0,1\n", row);
	expect_csv_error(buf, "3", "neither a known metric");
	snprintf(buf, sizeof(buf), HP_CSV_HEADER "\n%ss,c,v,impl,-,x,0,real_time,ns/call,0,1\n", row);
	expect_csv_error(buf, "3", "threads \"x\"");
	snprintf(buf, sizeof(buf), HP_CSV_HEADER "\n%ss,c,v,impl,-,1,0,real_time\n", row);
	expect_csv_error(buf, "3", "8 fields, expected 11");
	/* a quoted field spanning lines moves the line count on */
	snprintf(buf, sizeof(buf), HP_CSV_HEADER "\ns,c,v,impl,\"a\nb\nc\",1,0,m,u,0,1\n%s\"open,c\n", row);
	expect_csv_error(buf, "6", "unterminated");
	snprintf(buf, sizeof(buf), HP_CSV_HEADER "\n%ss,\"c\"x,v,impl,-,1,0,m,u,0,1\n", row);
	expect_csv_error(buf, "3", "closing quote");
	snprintf(buf, sizeof(buf), HP_CSV_HEADER "\n%ss,c\"c,v,impl,-,1,0,m,u,0,1\n", row);
	expect_csv_error(buf, "3", "quote inside");

	/* issue 12: a file cut inside its last value, and values no writer makes */
	snprintf(buf, sizeof(buf), HP_CSV_HEADER "\n%ss,c,v,impl,-,1,0,real_time,ns/call,1,4", row);
	expect_csv_error(buf, "3", "no terminating newline");
	snprintf(buf, sizeof(buf), HP_CSV_HEADER "\n%ss,\"c\nd", row);
	expect_csv_error(buf, "4", "no terminating newline");
	static const struct { const char *metric, *unit, *value, *why; } bad[] = {
		{ "real_time", "ns/call", "nan", "(NaN)" }, { "real_time", "ns/call", "NAN", "(NaN)" },
		{ "cpu_time", "ns/call", "-nan", "(NaN)" }, { "real_time", "ns/call", "inf", "infinite" },
		{ "my_counter", "x", "-inf", "infinite" }, { "my_counter", "x", "1e999", "not a number" },
		{ "real_time", "ns/call", "-5", "negative" }, { "instructions", "instr/call", "-1e-9", "negative" },
		{ "real_time", "ns/call", "0", "zero" }, { "iterations", "iters", "0", "zero" },
		{ "real_time", "ns/call", "1e308", "more than 1e15" },
		{ "perf_cycles", "cycles/call", "2e15", "more than 1e15" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(buf, sizeof(buf), HP_CSV_HEADER "\n%ss,c,v,impl,-,1,0,%s,%s,1,%s\n", row,
			 bad[i].metric, bad[i].unit, bad[i].value);
		expect_csv_error(buf, "3", bad[i].why);
	}
	/* a counter of the case's own may be zero or negative, an instruction count zero */
	path_in(p, sizeof(p), "counters.csv");
	write_file(p, HP_CSV_HEADER "\ns,c,v,impl,-,1,0,my_counter,x,0,-3\ns,c,v,impl,-,1,0,instructions,instr,0,0\n");
	hp_results_init(&r);
	T_CHECK_MSG(hp_read_csv(p, &r, err, sizeof(err)) == 0, "%s", err);
	T_CHECK(r.nrec == 2 && r.rec[0].value == -3);
	hp_results_free(&r);
	/* a path longer than the message keeps the reason (its middle is cut) */
	{
		char longp[1500], big[1100];

		memset(big, 'd', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		snprintf(longp, sizeof(longp), "/nonexistent/%s/results.csv", big);
		hp_results_init(&r);
		T_CHECK(hp_read_csv(longp, &r, err, sizeof(err)) == -1);
		T_CHECK_MSG(strstr(err, "No such file or directory") && strstr(err, "/results.csv:0:"),
			    "%s", err);
	}

	/* missing file: named */
	hp_results_init(&r);
	path_in(p, sizeof(p), "none.csv");
	T_CHECK(hp_read_csv(p, &r, err, sizeof(err)) == -1);
	T_CHECK_MSG(strstr(err, p) != NULL, "%s", err);

	/* CRLF line ends and a blank line are read */
	path_in(p, sizeof(p), "crlf.csv");
	write_file(p, HP_CSV_HEADER "\r\ns,c,v,impl,-,1,0,m,u,0,1.5\r\n\r\ns,c,v,impl,-,1,0,m,u,1,2\r\n");
	T_CHECK_MSG(hp_read_csv(p, &r, err, sizeof(err)) == 0, "%s", err);
	T_CHECK(r.nrec == 2 && r.rec[0].value == 1.5 && r.rec[1].rep == 1 && !strcmp(r.rec[1].unit, "u"));
	hp_results_free(&r);
}

static struct json_object *find_entry(struct json_object *arr, const char *name, int rep, int error)
{
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		struct json_object *e = json_object_array_get_idx(arr, i), *v;
		int is_err = json_object_object_get_ex(e, "error_occurred", &v) && json_object_get_boolean(v);

		if (!json_object_object_get_ex(e, "name", &v) || strcmp(json_object_get_string(v), name))
			continue;
		if (is_err != error)
			continue;
		if (!error && (!json_object_object_get_ex(e, "repetition_index", &v) ||
			       json_object_get_int(v) != rep))
			continue;
		return e;
	}
	return NULL;
}

static double jnum(struct json_object *o, const char *k)
{
	struct json_object *v;

	if (!o || !json_object_object_get_ex(o, k, &v))
		return NAN;
	return json_object_get_double(v);
}

static const char *jstr(struct json_object *o, const char *k)
{
	struct json_object *v;

	if (!o || !json_object_object_get_ex(o, k, &v))
		return NULL;
	return json_object_get_string(v);
}

static void test_results_json(void)
{
	hp_results_t r;
	struct json_object *ctx = json_object_new_object(), *root, *arr, *e, *v;
	char p[512];
	size_t nerr = 0;

	known_set(&r);
	{
		/* a second instance of the impl family */
		hp_record_t x = mk("slub", "alloc", "impl", "impl", "128", 1, "real_time", "ns/call", 0, 15);

		hp_results_add(&r, &x);
	}
	json_object_object_add(ctx, "host_name", json_object_new_string("testhost"));
	path_in(p, sizeof(p), "results.json");
	T_CHECK(hp_write_results_json(p, &r, ctx) == 0);   /* ctx is taken over */
	root = json_object_from_file(p);
	T_CHECK(root != NULL);
	if (!root) {
		hp_results_free(&r);
		return;
	}
	T_CHECK(json_object_object_get_ex(root, "context", &v) && !strcmp(jstr(v, "host_name"), "testhost"));
	T_CHECK(json_object_object_get_ex(root, "benchmarks", &arr) && json_object_is_type(arr, json_type_array));
	/* 3 + 3 + 1 + 2 repetitions, 2 errors (the ok status adds nothing) */
	T_CHECK_MSG(json_object_array_length(arr) == 11, "%zu entries", json_object_array_length(arr));

	e = find_entry(arr, "slub/alloc/impl/64/threads:1", 1, 0);
	T_CHECK(e != NULL);
	T_CHECK_STR(jstr(e, "run_name"), "slub/alloc/impl/64/threads:1");
	T_CHECK_STR(jstr(e, "run_type"), "iteration");
	T_CHECK_STR(jstr(e, "time_unit"), "ns");
	T_CHECK(jnum(e, "real_time") == 11);
	T_CHECK(jnum(e, "cpu_time") == 10.5);
	T_CHECK(jnum(e, "iterations") == 1000000);
	T_CHECK(json_object_object_get_ex(e, "iterations", &v) && json_object_is_type(v, json_type_int));
	T_CHECK(jnum(e, "repetitions") == 3);
	T_CHECK(jnum(e, "repetition_index") == 1);
	T_CHECK(jnum(e, "threads") == 1);
	T_CHECK(jnum(e, "family_index") == 0);
	T_CHECK(jnum(e, "per_family_instance_index") == 0);
	T_CHECK(jnum(e, "tsc_cycles") == 31);
	T_CHECK(jnum(e, "counter_name") == 7);
	T_CHECK(!json_object_object_get_ex(e, "label", NULL));

	e = find_entry(arr, "slub/alloc/impl/128/threads:1", 0, 0);
	T_CHECK(jnum(e, "family_index") == 0 && jnum(e, "per_family_instance_index") == 1 &&
		jnum(e, "real_time") == 15 && jnum(e, "cpu_time") == 15 && jnum(e, "repetitions") == 1);
	e = find_entry(arr, "slub/alloc/glibc/64/threads:1", 2, 0);
	T_CHECK(jnum(e, "real_time") == 24 && jnum(e, "family_index") == 1 && jnum(e, "iterations") == 0);

	/* no time measured: the count stands in, and says so */
	e = find_entry(arr, "sched/switch/impl/threads:2", 0, 0);
	T_CHECK(e != NULL);
	T_CHECK(jnum(e, "real_time") == 412 && jnum(e, "cpu_time") == 412);
	T_CHECK(jnum(e, "repetitions") == 2 && jnum(e, "threads") == 2);
	T_CHECK_STR(jstr(e, "label"), "instructions per op, not time");

	e = find_entry(arr, "slub/alloc/urcu/64/threads:1", 0, 1);
	T_CHECK(e != NULL);
	T_CHECK_STR(jstr(e, "error_message"), "unavailable: liburcu not found at build time");
	e = find_entry(arr, "slub/alloc/kmalloc/threads:1", 0, 1);
	T_CHECK_STR(jstr(e, "error_message"), "failed: child exited with status 3");
	for (size_t i = 0; i < json_object_array_length(arr); i++)
		if (json_object_object_get_ex(json_object_array_get_idx(arr, i), "error_occurred", &v))
			nerr++;
	T_CHECK(nerr == 2);
	json_object_put(root);

	/* NULL context still gives a context object */
	T_CHECK(hp_write_results_json(p, &r, NULL) == 0);
	root = json_object_from_file(p);
	T_CHECK(root && json_object_object_get_ex(root, "context", &v) && json_object_is_type(v, json_type_object));
	json_object_put(root);
	hp_results_free(&r);
}

static void test_summary(void)
{
	hp_results_t r;
	char p[512];
	char *s;

	known_set(&r);
	path_in(p, sizeof(p), "summary.md");
	T_CHECK(hp_write_summary(p, &r, "profile quick, seed 42") == 0);
	s = read_all(p);
	T_CHECK(s != NULL);
	if (!s) {
		hp_results_free(&r);
		return;
	}
	T_CHECK(strncmp(s, "# hotpath results\n\nprofile quick, seed 42\n", 42) == 0);
	T_CHECK(strstr(s, "\n## slub\n") && strstr(s, "\n### alloc\n") && strstr(s, "\n## sched\n"));
	T_CHECK(strstr(s, "median (ns/call)"));
	/* CV of 10,11,12 is 1/11 */
	T_CHECK_MSG(strstr(s, "| impl | impl | 11 | 10 | 12 | 9.1% | 1.00x |"), "%s", s);
	T_CHECK_MSG(strstr(s, "| glibc | baseline | 22 | 20 | 24 | 9.1% | 2.00x |"), "%s", s);
	/* a group with only the impl: its own ratio, 1.00x */
	T_CHECK_MSG(strstr(s, "instructions") && strstr(s, "median (instr/switch)") &&
		    strstr(s, "| impl | impl | 412 | 412 | 412 | 0% | 1.00x |"), "%s", s);
	T_CHECK(strstr(s, "## Did not run"));
	T_CHECK(strstr(s, "slub/alloc/urcu/64/threads:1") && strstr(s, "**unavailable**: liburcu not found at build time"));
	T_CHECK(strstr(s, "**failed**: child exited with status 3"));
	T_CHECK(strstr(s, "slub/alloc/impl/64/threads:1 (") == NULL);   /* ok is not listed */
	/* slub comes before sched: the order of the run */
	T_CHECK(strstr(s, "## slub") < strstr(s, "## sched"));
	free(s);
	hp_results_free(&r);

	/* no impl in a group: the ratio is a dash, and a '|' cannot break the table */
	hp_results_init(&r);
	for (int i = 0; i < 3; i++) {
		hp_record_t x = mk("k", "syscall", "kernel|raw", "kernel", "-", 1, "real_time", "ns/call", i, 100 + i);

		hp_results_add(&r, &x);
	}
	T_CHECK(hp_write_summary(p, &r, NULL) == 0);
	s = read_all(p);
	T_CHECK_MSG(s && strstr(s, "| kernel\\|raw | kernel | 101 | 100 | 102 |") && strstr(s, "| —"), "%s", s);
	T_CHECK(s && strstr(s, "Every benchmark ran."));
	free(s);
	hp_results_free(&r);
}

/* Equal work: with classes stated, "vs impl" is a ratio only between
 * variants whose class equals the reference's (the first impl variant);
 * any other variant gets the reason. The work lines are listed under the
 * case, and results.json's context keeps them. A case without classes
 * keeps its ratios (test_summary). */
static void test_summary_work(void)
{
	hp_results_t r;
	struct json_object *root, *ctx, *arr, *o, *v;
	char p[512], big[sizeof(((hp_work_t *)0)->work) + 100];
	char *s;

	hp_results_init(&r);
	for (int i = 0; i < 3; i++) {
		static const char *const var[] = { "impl-inline", "impl-call", "malloc", "other" };
		static const char *const kind[] = { "impl", "impl", "baseline", "baseline" };
		static const double med[] = { 2, 40, 50, 80 };

		for (int k = 0; k < 4; k++) {
			hp_record_t x = mk("slub", "pair", var[k], kind[k], "64", 1, "instructions", "instr/pair", i,
					   med[k] + i - 1);

			hp_results_add(&r, &x);
			/* a second case whose reference is the call variant */
			if (k > 0) {
				x = mk("slub", "kpair", var[k], kind[k], "64", 1, "instructions", "instr/pair", i,
				       med[k] + i - 1);
				hp_results_add(&r, &x);
			}
		}
	}
	T_CHECK(hp_results_set_work(&r, "slub", "pair", "impl-inline", "inline, cache fixed", "inline") == 0);
	T_CHECK(hp_results_set_work(&r, "slub", "pair", "impl-call", "a call, size class", "call") == 0);
	T_CHECK(hp_results_set_work(&r, "slub", "pair", "malloc", "malloc+free", "call") == 0);
	/* "other" states nothing in pair */
	T_CHECK(hp_results_set_work(&r, "slub", "kpair", "impl-call", "a call, size class", "call") == 0);
	T_CHECK(hp_results_set_work(&r, "slub", "kpair", "malloc", "malloc+free", "call") == 0);
	T_CHECK(hp_results_set_work(&r, "slub", "kpair", "other", "a|pipe", "call|fixed") == 0);
	/* empty work is not stored; a second call replaces; too long is refused */
	T_CHECK(hp_results_set_work(&r, "slub", "kpair", "none", NULL, "") == 0);
	T_CHECK(hp_results_find_work(&r, "slub", "kpair", "none") == NULL);
	T_CHECK(hp_results_set_work(&r, "slub", "kpair", "other", "fixed size", "fixed") == 0);
	T_CHECK(r.nwork == 6);
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = 0;
	errno = 0;
	T_CHECK(hp_results_set_work(&r, "slub", "kpair", "long", big, "c") == -1 && errno == ENAMETOOLONG);
	T_CHECK(hp_results_find_work(&r, "slub", "kpair", "long") == NULL);

	path_in(p, sizeof(p), "summary-work.md");
	T_CHECK(hp_write_summary(p, &r, NULL) == 0);
	s = read_all(p);
	T_CHECK(s != NULL);
	if (s) {
		const char *pair = strstr(s, "### pair"), *kpair = strstr(s, "### kpair");

		T_CHECK_MSG(pair && kpair && pair < kpair, "%s", s);
		/* pair: the reference is impl-inline [inline]; nothing else is inline */
		T_CHECK_MSG(strstr(s, "| impl-inline | impl | 2 | 1 | 3 | 50% | 1.00x |"), "%s", s);
		T_CHECK_MSG(strstr(s, "| impl-call | impl | 40 | 39 | 41 | 2.5% | — (call vs inline: not equal work) |"),
			    "%s", s);
		T_CHECK_MSG(strstr(s, "| malloc | baseline | 50 | 49 | 51 | 2% | — (call vs inline: not equal work) |"),
			    "%s", s);
		T_CHECK_MSG(strstr(s, "| other | baseline | 80 | 79 | 81 | 1.2% | — (work not stated vs inline: not equal work) |"),
			    "%s", s);
		/* kpair: the reference is impl-call [call]: malloc has a ratio, the fixed-size one not */
		T_CHECK_MSG(kpair && strstr(kpair, "| impl-call | impl | 40 | 39 | 41 | 2.5% | 1.00x |"), "%s", s);
		T_CHECK_MSG(kpair && strstr(kpair, "| malloc | baseline | 50 | 49 | 51 | 2% | 1.25x |"), "%s", s);
		T_CHECK_MSG(kpair && strstr(kpair, "| other | baseline | 80 | 79 | 81 | 1.2% | — (fixed vs call: not equal work) |"),
			    "%s", s);
		/* the work lines, once per variant, under their case */
		T_CHECK_MSG(pair && strstr(pair, "- impl-inline [inline]: inline, cache fixed\n") &&
			    strstr(pair, "- malloc [call]: malloc+free\n"), "%s", s);
		T_CHECK_MSG(kpair && strstr(kpair, "- other [fixed]: fixed size\n"), "%s", s);
		T_CHECK(pair && kpair && strstr(pair, "- malloc [call]") < kpair);
		/* impl-inline ran in pair only */
		T_CHECK(kpair && strstr(kpair, "- impl-inline") == NULL);
		free(s);
	}

	path_in(p, sizeof(p), "results-work.json");
	T_CHECK(hp_write_results_json(p, &r, NULL) == 0);
	root = json_object_from_file(p);
	T_CHECK(root && json_object_object_get_ex(root, "context", &ctx) &&
		json_object_object_get_ex(ctx, "work", &arr) && json_object_array_length(arr) == 6);
	if (root && json_object_object_get_ex(root, "context", &ctx) && json_object_object_get_ex(ctx, "work", &arr) &&
	    json_object_array_length(arr) == 6) {
		o = json_object_array_get_idx(arr, 5);
		T_CHECK(json_object_object_get_ex(o, "variant", &v) && !strcmp(json_object_get_string(v), "other"));
		T_CHECK(json_object_object_get_ex(o, "case", &v) && !strcmp(json_object_get_string(v), "kpair"));
		T_CHECK(json_object_object_get_ex(o, "work_class", &v) && !strcmp(json_object_get_string(v), "fixed"));
		T_CHECK(json_object_object_get_ex(o, "work", &v) && !strcmp(json_object_get_string(v), "fixed size"));
	}
	json_object_put(root);
	hp_results_free(&r);
}

static void test_record_json(void)
{
	static const double vals[] = { 0.1, 1.0 / 3, 5e-324, 1e300, 123456789.125, -7, 1e-9 * 3 };
	hp_status_t st = mkst("urcu", "baseline", "a,\"b\"\n", HP_ST_SKIPPED, "no \"quotes\" / slashes");
	hp_status_t st2;
	struct json_object *o, *back;

	for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		hp_record_t x = mk("s", "c", "v", "impl", "p\"\n", 3, "perf_cycles", "cycles/call", 4, vals[i]), y;
		const char *txt;

		o = hp_record_to_json(&x);
		txt = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
		back = json_tokener_parse(txt);
		memset(&y, 0x55, sizeof(y));
		T_CHECK(back && hp_record_from_json(back, &y) == 0);
		T_CHECK_MSG(same_record(&x, &y), "%.17g -> %s", vals[i], txt);
		json_object_put(o);
		json_object_put(back);
	}
	st.seconds = 1.0 / 7;
	o = hp_status_to_json(&st);
	back = json_tokener_parse(json_object_to_json_string(o));
	T_CHECK(back && hp_status_from_json(back, &st2) == 0);
	T_CHECK(!strcmp(st.param, st2.param) && !strcmp(st.message, st2.message) &&
		!strcmp(st.metric, st2.metric) && st2.status == HP_ST_SKIPPED &&
		st2.seconds == st.seconds && st2.threads == 1);
	json_object_put(back);

	/* a bad status name or a missing field is refused */
	json_object_object_add(o, "status", json_object_new_string("exploded"));
	T_CHECK(hp_status_from_json(o, &st2) == -1);
	json_object_put(o);
	{
		hp_record_t x = mk("s", "c", "v", "impl", "-", 1, "m", "u", 0, 1), y;

		o = hp_record_to_json(&x);
		json_object_object_del(o, "value");
		T_CHECK(hp_record_from_json(o, &y) == -1);
		json_object_object_add(o, "value", json_object_new_string("1"));
		T_CHECK(hp_record_from_json(o, &y) == -1);
		json_object_put(o);
	}
}

/* hp_write_outputs keeps the three files in step: when results.json
 * cannot be written, results.csv and summary.md keep the previous
 * benchmarks too (a run interrupted by a full disk must not leave a CSV
 * with one benchmark more than its JSON), and nothing staged is left. */
static void test_outputs_in_step(void)
{
	char dir[600], p[700], err[1024];
	hp_results_t r;
	struct json_object *env = json_object_new_object();
	char *csv1, *sum1, *json1, *s;
	hp_record_t x = mk("slub", "alloc", "impl", "impl", "64", 1, "real_time", "ns/call", 0, 10);

	snprintf(dir, sizeof dir, "%s/outputs", tmpdir);
	T_CHECK(mkdir(dir, 0755) == 0);
	hp_results_init(&r);
	hp_results_add(&r, &x);
	T_CHECK_MSG(hp_write_outputs(dir, &r, env, NULL, 0, NULL, err, sizeof err) == 0, "%s", err);
	snprintf(p, sizeof p, "%s/results.csv", dir);
	csv1 = read_all(p);
	snprintf(p, sizeof p, "%s/summary.md", dir);
	sum1 = read_all(p);
	snprintf(p, sizeof p, "%s/results.json", dir);
	json1 = read_all(p);
	T_CHECK(csv1 && sum1 && json1 && strstr(csv1, "slub,alloc,impl"));

	/* a second benchmark; results.json's staging name is taken by a
	 * non-empty folder, so writing it fails (as a full disk would) */
	x = mk("slub", "free", "impl", "impl", "64", 1, "real_time", "ns/call", 0, 12);
	hp_results_add(&r, &x);
	snprintf(p, sizeof p, "%s/.results.json.new", dir);
	T_CHECK(mkdir(p, 0755) == 0);
	snprintf(p, sizeof p, "%s/.results.json.new/x", dir);
	T_CHECK(close(open(p, O_CREAT | O_WRONLY, 0644)) == 0);
	T_CHECK(hp_write_outputs(dir, &r, env, NULL, 0, NULL, err, sizeof err) == -1);
	T_CHECK_MSG(strstr(err, "results.json") && !strstr(err, ".new"), "%s", err);
	snprintf(p, sizeof p, "%s/results.csv", dir);
	s = read_all(p);
	T_CHECK_MSG(s && csv1 && !strcmp(s, csv1), "results.csv moved on without results.json: %s", s);
	free(s);
	snprintf(p, sizeof p, "%s/summary.md", dir);
	s = read_all(p);
	T_CHECK(s && sum1 && !strcmp(s, sum1));
	free(s);
	snprintf(p, sizeof p, "%s/.results.csv.new", dir);
	T_CHECK_MSG(access(p, F_OK) != 0, "staging file %s left behind", p);
	snprintf(p, sizeof p, "%s/.summary.md.new", dir);
	T_CHECK(access(p, F_OK) != 0);

	/* once it can be written, all three move on together */
	snprintf(p, sizeof p, "rm -rf '%s/.results.json.new'", dir);
	T_CHECK(system(p) == 0);
	T_CHECK_MSG(hp_write_outputs(dir, &r, env, NULL, 0, NULL, err, sizeof err) == 0, "%s", err);
	snprintf(p, sizeof p, "%s/results.csv", dir);
	s = read_all(p);
	T_CHECK(s && strstr(s, "slub,free,impl"));
	free(s);
	snprintf(p, sizeof p, "%s/results.json", dir);
	s = read_all(p);
	T_CHECK(s && strstr(s, "slub/free/impl"));
	free(s);
	free(csv1);
	free(sum1);
	free(json1);
	json_object_put(env);
	hp_results_free(&r);
}

int main(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/hp_test_writers.XXXXXX");
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 99;
	}
	test_stats();
	test_strlcpy();
	test_atomic();
	test_mkdir_p();
	test_csv_roundtrip();
	test_csv_errors();
	test_results_json();
	test_summary();
	test_summary_work();
	test_record_json();
	test_outputs_in_step();

	{
		char cmd[300];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", tmpdir);
	}
	return t_done("test_writers");
}
