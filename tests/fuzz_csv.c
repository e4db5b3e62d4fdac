/* fuzz_csv.c — libFuzzer harness for the results.csv reader (harness/csvio.c: hp_read_csv, hp_read_csv_each).
 *
 * Each input is written to a file in a folder under $TMPDIR and read back.
 * Besides what ASan and UBSan catch, a file the reader accepts must hold
 * only what the writers produce (finite values; times and counts >= 0 and
 * at most HP_VALUE_MAX; threads >= 1, rep >= 0), and writing its records
 * with hp_write_csv and reading that again must give the same records.
 * Built and run by tests/test_fuzz.sh (clang, -fsanitize=fuzzer); seeds in
 * tests/corpus/csv/. The run-column reader (hp_read_csv_runs_each) reads
 * each input too: it never accepts what hp_read_csv accepts, and passes on
 * only valid run names. Replay a saved input: fuzz_csv crash-<hash>.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "record.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char in_path[256], out_path[256];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *tmp = getenv("TMPDIR");
	char dir[200];

	(void)argc;
	(void)argv;
	snprintf(dir, sizeof dir, "%s/hotpath-fuzz-csv.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir))
		abort();
	snprintf(in_path, sizeof in_path, "%s/in.csv", dir);
	snprintf(out_path, sizeof out_path, "%s/out.csv", dir);
	return 0;
}

static void die(const char *why, const char *err)
{
	fprintf(stderr, "fuzz_csv: %s%s%s\n", why, err ? ": " : "", err ? err : "");
	abort();
}

static int count(const hp_record_t *x, void *arg)
{
	(void)x;
	++*(size_t *)arg;
	return 0;
}

/* the run-column reader (a merged folder's results.csv) */
static int count_run(const hp_record_t *x, const char *run, void *arg)
{
	(void)x;
	if (!hp_run_name_ok(run))
		die("hp_read_csv_runs_each passed on a bad run name", run);
	++*(size_t *)arg;
	return 0;
}

static int same(const hp_record_t *a, const hp_record_t *b)
{
	return !strcmp(a->suite, b->suite) && !strcmp(a->case_, b->case_) && !strcmp(a->variant, b->variant) &&
	       !strcmp(a->kind, b->kind) && !strcmp(a->param, b->param) && a->threads == b->threads &&
	       !strcmp(a->cpus, b->cpus) && !strcmp(a->metric, b->metric) && !strcmp(a->unit, b->unit) &&
	       a->rep == b->rep && a->value == b->value;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	hp_results_t r, back;
	char err[512];
	size_t n_each = 0;
	FILE *f = fopen(in_path, "wb");

	if (!f || (size && fwrite(data, 1, size, f) != size) || fclose(f))
		die("cannot write the input file", NULL);
	hp_results_init(&r);
	int rc = hp_read_csv(in_path, &r, err, sizeof err);
	int rc_each = hp_read_csv_each(in_path, count, &n_each, err, sizeof err);

	size_t n_runs = 0;
	char err_runs[512];
	int rc_runs = hp_read_csv_runs_each(in_path, count_run, &n_runs, err_runs, sizeof err_runs);

	if (rc != rc_each)
		die("hp_read_csv and hp_read_csv_each disagree", NULL);
	/* the two headers differ: no file is both a run's and a merged one */
	if (rc == 0 && rc_runs == 0)
		die("a file both readers accept (a single run's and a merged results.csv)", NULL);
	if (rc_runs != 0 && (!err_runs[0] || !strstr(err_runs, "in.csv")))
		die("a refused merged file without a message naming it", err_runs);
	if (rc != 0) {
		if (!err[0] || !strstr(err, "in.csv"))
			die("a refused file without a message naming it", err);
		hp_results_free(&r);
		return 0;
	}
	if (n_each != r.nrec)
		die("hp_read_csv_each saw another number of records", NULL);
	for (size_t i = 0; i < r.nrec; i++) {
		const hp_record_t *x = &r.rec[i];

		if (!isfinite(x->value))
			die("accepted a value that is not finite", x->metric);
		if (x->threads < 1 || x->rep < 0)
			die("accepted threads < 1 or rep < 0", x->metric);
		if (!strcmp(x->metric, "real_time") && !(x->value > 0 && x->value <= HP_VALUE_MAX))
			die("accepted a real_time out of (0, 1e15]", NULL);
	}
	/* what was read, written and read again, is the same */
	if (hp_write_csv(out_path, &r) != 0)
		die("hp_write_csv failed on records the reader accepted", NULL);
	hp_results_init(&back);
	if (hp_read_csv(out_path, &back, err, sizeof err) != 0)
		die("the reader refuses what the writer wrote", err);
	if (back.nrec != r.nrec)
		die("a round trip changed the number of records", NULL);
	for (size_t i = 0; i < r.nrec; i++)
		if (!same(&r.rec[i], &back.rec[i]))
			die("a round trip changed a record", r.rec[i].case_);
	hp_results_free(&back);
	hp_results_free(&r);
	return 0;
}
