/* report.h — results folders for people: `hotpath report DIR` (one
 * self-contained DIR/report.html), `hotpath compare A B --report` (a
 * comparison page) and `hotpath export DIR --latex` (DIR/tables/<suite>.tex
 * and macros.tex). report.c reads a folder into the figures both use;
 * export.c writes the LaTeX. */
#ifndef HP_REPORT_H
#define HP_REPORT_H

#include <stddef.h>

#include <json-c/json.h>

#include "keymap.h"
#include "record.h"

/* One benchmark (suite, case, variant, param, threads) of a folder: its
 * primary metric's values (vals: the entry of hp_rep_t.set, read as compare
 * reads them, record.h's hp_bench_set_t) and the figures every page
 * prints. */
typedef struct hp_rep_bench {
	const hp_bench_vals_t *vals;
	/* filled by hp_rep_load */
	double med, min, max, cv, lo, hi;
	int has_ci;             /* lo/hi valid (enough repetitions) */
	const hp_work_t *work;  /* stated work, or NULL */
} hp_rep_bench_t;

/* A (suite, case, param, threads) group: benchmarks b[first..first+n) of
 * the sorted list, the reference (first impl variant) ref or -1. */
typedef struct hp_rep_group {
	size_t first, n;
	long ref;
} hp_rep_group_t;

typedef struct hp_rep {
	hp_bench_set_t set;     /* the values, in the run's order (HP_BSET_PRIMARY) */
	hp_rep_bench_t *b;      /* sorted: suite, case, group, then the run's order */
	size_t n;
	hp_rep_group_t *g;
	size_t ng;
	hp_results_t work;      /* only .work: results.json's context.work */
	struct json_object *env;        /* env.json */
	struct json_object *results;    /* results.json */
} hp_rep_t;

/* Reads DIR (results.csv through the streaming reader, env.json,
 * results.json) and computes every figure. `cmd` names the command in
 * messages. 0, or an exit code after a message on stderr: 2 when DIR is not
 * a readable results folder (naming the file and what is wrong), 99 when
 * out of memory. */
int hp_rep_load(const char *dir, hp_rep_t *r, const char *cmd);
void hp_rep_free(hp_rep_t *r);

/* The ratio of b to its group's reference, when there is one and the work
 * is equal (hp_work_comparable): 1 with *ratio set; 0 with `why` holding the
 * reason there is none ("" when the group has no reference). */
int hp_rep_ratio(const hp_rep_t *r, const hp_rep_group_t *g, const hp_rep_bench_t *b,
		 double *ratio, char *why, size_t whylen);

/* A string field of env.json ("" when absent or not a string). */
const char *hp_rep_env_str(const hp_rep_t *r, const char *key);

/* Numbers as summary.md prints them: four significant digits, no exponent
 * for everyday sizes. */
void hp_rep_fmt(char *buf, size_t len, double v);

/* `hotpath report DIR`: DIR/report.html (nothing printed). 0, 1 when the file cannot be
 * written (named), 2 for a bad folder, 99 out of memory. */
int hp_report_dir(const char *dir);
/* `hotpath compare A B --report`: B/compare.html, the comparison of A and B
 * with both distributions drawn per benchmark. Same exit codes. */
int hp_report_compare(const char *a, const char *b);
/* `hotpath export DIR --latex`: DIR/tables/<suite>.tex and macros.tex.
 * Same exit codes. */
int hp_export_latex(const char *dir);

#endif
