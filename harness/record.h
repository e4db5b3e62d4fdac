/* record.h — measured values and their writers.
 *
 * The hp_record library, one job per file: record.c (the container, the
 * grouping helpers), csvio.c (results.csv writer and reader), jsonout.c
 * (results.json and the child's JSON lines), summary.c (summary.md),
 * stats.c (stats.h: median, CV, percentile), fsutil.c (fsutil.h: atomic
 * files, hp_strlcpy). This header is the one users include.
 *
 * One hp_record_t is one row of results.csv:
 *   suite,case,variant,kind,param,threads,cpus,metric,unit,rep,value
 * One hp_status_t is one benchmark (suite, case, variant, param, threads):
 * ok, or why it produced no rows (unavailable, skipped, failed).
 */
#ifndef HP_RECORD_H
#define HP_RECORD_H

#include <stddef.h>
#include <stdio.h>
#include <json-c/json.h>

#include "fsutil.h"
#include "keymap.h"
#include "stats.h"

/* The largest magnitude a reader accepts for a value (1e15 ns is 11 days
 * per operation): anything past it is a damaged file. */
#define HP_VALUE_MAX 1e15
#define HP_CSV_HEADER "suite,case,variant,kind,param,threads,cpus,metric,unit,rep,value"
/* Results format versions (docs/results-format.md): 1 is a run's folder
 * (HP_CSV_HEADER; env.json without "results_format" is 1), 2 a folder
 * written by `hotpath merge` (merged.json; results.csv with a trailing run
 * column). A run name: 1..HP_RUN_NAME_MAX of [A-Za-z0-9._+-], not starting
 * with '.' or '-' (hp_run_name_ok). */
#define HP_RESULTS_FORMAT 1
#define HP_RESULTS_FORMAT_MERGED 2
#define HP_CSV_HEADER_RUN HP_CSV_HEADER ",run"
#define HP_RUN_NAME_MAX 64

typedef struct hp_record {
	char suite[32];
	char case_[48];
	char variant[48];
	char kind[16];          /* impl | baseline | kernel */
	char param[48];
	int threads;
	char cpus[1024];        /* CPUs the threads actually ran on, '+'-joined: "1+0";
	                         * a run whose CPU list does not fit is refused at
	                         * start (runner.c), never cut */
	char metric[48];        /* real_time, cpu_time, tsc_cycles, instructions, ... */
	char unit[24];          /* ns/call, cycles/switch, instr/call, ns/page ... */
	int rep;
	double value;
} hp_record_t;

typedef enum {
	HP_ST_OK, HP_ST_UNAVAILABLE, HP_ST_SKIPPED, HP_ST_FAILED
} hp_status_kind_t;

typedef struct hp_status {
	char suite[32], case_[48], variant[48], kind[16], param[48];
	int threads;
	char metric[16];        /* the --metric of the run: time | instructions | perf */
	hp_status_kind_t status;
	char message[256];      /* reason for anything but OK */
	double seconds;         /* wall time spent on it */
} hp_status_t;

const char *hp_status_name(hp_status_kind_t s);  /* "ok", "unavailable", ... */

/* The work a variant of a case states (hp_variant_t.work, .work_class):
 * summary.md prints it and gives "vs impl" ratios only between variants of
 * equal class; results.json's context keeps it ("work"). */
typedef struct hp_work {
	char suite[32], case_[48], variant[48];
	char work[512];         /* one line; "" = not stated */
	char work_class[64];    /* "" = not classified */
} hp_work_t;

/* A growable set of records and statuses (the whole run, in order), and
 * the work of each variant that has stated it. */
typedef struct hp_results {
	hp_record_t *rec;
	size_t nrec, caprec;
	hp_status_t *st;
	size_t nst, capst;
	hp_work_t *work;
	size_t nwork, capwork;
} hp_results_t;

void hp_results_init(hp_results_t *r);
void hp_results_free(hp_results_t *r);
hp_record_t *hp_results_add(hp_results_t *r, const hp_record_t *rec);
hp_status_t *hp_results_add_status(hp_results_t *r, const hp_status_t *st);

/* Records the work of (suite, case, variant); NULL work and class are "".
 * Nothing is stored when both are empty; a second call replaces the first.
 * 0, or -1 with errno ENAMETOOLONG (a field does not fit hp_work_t: nothing
 * stored) or ENOMEM. */
int hp_results_set_work(hp_results_t *r, const char *suite, const char *case_, const char *variant,
			const char *work, const char *work_class);
/* The work stated for (suite, case, variant), or NULL. */
const hp_work_t *hp_results_find_work(const hp_results_t *r, const char *suite, const char *case_,
				      const char *variant);

/* Whether a variant whose stated work is v may be put in a ratio to the
 * reference whose work is ref (either NULL when not stated): always when
 * the reference states no work class, else only for equal classes. The
 * rule summary.md, the HTML report and the LaTeX tables share. */
int hp_work_comparable(const hp_work_t *v, const hp_work_t *ref);

/* Benchmark identity used to group records: "suite\x1fcase\x1fvariant\x1fparam\x1fthreads". */
void hp_bench_key(char *buf, size_t len, const char *suite, const char *case_,
		  const char *variant, const char *param, int threads);
/* Google Benchmark style name: suite/case/variant[/param]/threads:N
 * (no param part when it is empty or "-"). */
void hp_bench_name(char *buf, size_t len, const char *suite, const char *case_,
		   const char *variant, const char *param, int threads);
/* Room a key or name of record fields always fits in (the fields are fixed
 * size, so nothing built from them is ever cut short). */
#define HP_BENCH_KEY_MAX 320

/* The metric a benchmark is judged by: real_time when the run measured
 * time, else cache_d1_misses (a --metric cache run, which also records
 * instructions), else instructions, else perf_cycles, else the first one
 * seen. hp_primary_rank gives a metric's place in that order, HP_NPRIMARY
 * for any other metric. */
#define HP_NPRIMARY 4
int hp_primary_rank(const char *metric);

/* ---- values per benchmark (record.c) ---------------------------------- */
/* One benchmark's values of one metric, in file order: what compare, report,
 * export and plot read a results folder into, so that their memory grows
 * with the benchmarks and their values (8 bytes each), never with the rows
 * (an hp_record_t is about 1.3 KiB). */
typedef struct hp_bench_vals {
	char suite[32], case_[48], variant[48], kind[16], param[48];
	int threads;
	char metric[48], unit[24];
	int prio;               /* hp_primary_rank(metric) */
	double *v;              /* values in file order */
	size_t n, cap;
	size_t order;           /* its place when added: the run's order */
} hp_bench_vals_t;

/* HP_BSET_PRIMARY: one entry per benchmark holding its primary metric (the
 * best hp_primary_rank seen; among other metrics the first seen); a better
 * metric arriving later drops the values kept so far (compare, report,
 * export). HP_BSET_ALL: one entry per benchmark and metric (the plots). */
typedef enum { HP_BSET_PRIMARY, HP_BSET_ALL } hp_bset_mode_t;

typedef struct hp_bench_set {
	hp_bset_mode_t mode;
	hp_bench_vals_t *b;     /* in the order first seen */
	size_t n, cap;
	keymap_t ids;           /* hp_bench_key (ALL: then "\x1f" metric) -> index */
} hp_bench_set_t;

void hp_bench_set_init(hp_bench_set_t *s, hp_bset_mode_t mode);
void hp_bench_set_free(hp_bench_set_t *s);
/* Adds record x's value (and its entry when new). 0, or -1 when out of
 * memory (errno ENOMEM). hp_bench_set_add_cb is the same as an
 * hp_read_csv_each callback (arg: the set). */
int hp_bench_set_add(hp_bench_set_t *s, const hp_record_t *x);
int hp_bench_set_add_cb(const hp_record_t *x, void *arg);
/* Every record of r, in order. 0, or -1 (ENOMEM). */
int hp_bench_set_from_results(hp_bench_set_t *s, const hp_results_t *r);
/* Puts the entries in the order perm gives (perm[k]: the entry to stand at
 * k; a permutation of 0..n-1) and renumbers `order`. 0, or -1 (ENOMEM). */
int hp_bench_set_reorder(hp_bench_set_t *s, const size_t *perm);
/* "suite/case/variant[/param]/threads:N:metric" (compare's row key, the
 * report's interval seed); always fits HP_BENCH_KEY_MAX + 48. */
void hp_bench_vals_key(char *buf, size_t len, const hp_bench_vals_t *b);

/* ---- writers (all atomic; csvio.c, jsonout.c, summary.c) ------------- */
/* results.csv: the header above, one row per record, RFC 4180 quoting
 * (fields with , " CR LF are quoted, quotes doubled), values in their
 * shortest exact form (%.15g..%.17g, whichever reads back the same double). */
int hp_write_csv(const char *path, const hp_results_t *r);
/* results.json in Google Benchmark's shape: {"context": {...},
 * "benchmarks": [...]} with one entry per repetition (run_type
 * "iteration") named suite/case/variant/param/threads:N, and one entry per
 * benchmark that did not run with error_occurred/error_message. `context`
 * is taken over (the caller builds it from env). */
int hp_write_results_json(const char *path, const hp_results_t *r,
			  struct json_object *context);
/* summary.md: per suite and case, each variant's median, min, max, CV of
 * the primary metric (real_time, or instructions / perf_cycles) and its
 * ratio to the impl variant; then every benchmark that did not run, with
 * its reason. `title_note` is printed under the title (may be NULL). */
int hp_write_summary(const char *path, const hp_results_t *r, const char *title_note);
/* The same for a run that may not have finished: with complete 0 (Ctrl-C,
 * a failed write, the run still going) the closing line says the rest did
 * not start instead of "Every benchmark ran.". */
int hp_write_summary_run(const char *path, const hp_results_t *r, const char *title_note,
			 int complete);
/* The same, with the text each suite of `suites` (NULL-terminated, may be
 * NULL) adds after its tables (hp_suite_t.summary, e.g. nvme's break-even). */
struct hp_suite;
int hp_write_summary_suites(const char *path, const hp_results_t *r, const char *title_note,
			    int complete, const struct hp_suite *const *suites);

/* ---- readers (csvio.c) ------------------------------------------------ */
/* Reads a results.csv written by hp_write_csv (header checked). Returns 0,
 * or -1 with a message naming the file and line. */
int hp_read_csv(const char *path, hp_results_t *r, char *err, size_t errlen);
/* The same checks, streaming: fn gets each record in file order (nonzero
 * from fn stops with "out of memory"); the reader holds one record, not the
 * file. 0, or -1 with err (records before the bad line were passed on). */
int hp_read_csv_each(const char *path, int (*fn)(const hp_record_t *x, void *arg), void *arg,
		     char *err, size_t errlen);

/* A merged folder's results.csv (HP_CSV_HEADER_RUN), streamed as above;
 * fn also gets the row's run (checked with hp_run_name_ok). A single
 * run's results.csv is refused, and hp_read_csv_each refuses a merged one,
 * each with a message saying which it is. */
int hp_read_csv_runs_each(const char *path,
			  int (*fn)(const hp_record_t *x, const char *run, void *arg), void *arg,
			  char *err, size_t errlen);
int hp_run_name_ok(const char *name);
/* One results.csv row (with a trailing run column when run is not NULL),
 * quoted and formatted as hp_write_csv writes it. */
void hp_csv_write_row(FILE *f, const hp_record_t *x, const char *run);

/* ---- records as JSON (jsonout.c; child process -> runner, one object per line) */
struct json_object *hp_record_to_json(const hp_record_t *rec);
int hp_record_from_json(struct json_object *o, hp_record_t *rec);
struct json_object *hp_status_to_json(const hp_status_t *st);
int hp_status_from_json(struct json_object *o, hp_status_t *st);

#endif
