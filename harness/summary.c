/* summary.md — per suite, case and (param, threads): each variant's median,
 * min, max and CV of the primary metric and its ratio to impl; then every
 * benchmark that did not run, with its reason.
 *
 * Equal work: when the reference (the first impl variant of a group) has a
 * work class (hp_variant_t.work_class, kept in hp_results_t.work), a ratio
 * is printed only for variants of the same class; the others get the reason
 * instead ("— (call+size-lookup+ptr-free vs inline-fixed-cache: not equal
 * work)"). A case whose variants state their work lists it under its
 * heading. Cases without work classes print as they always did. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hp.h"
#include "keymap.h"
#include "record.h"
#include "record_int.h"

/* Table cells and headings: a '|' would split a cell, a newline a row. */
static void md_put(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '|')
			fputs("\\|", f);
		else if (*s == '\n' || *s == '\r')
			fputc(' ', f);
		else
			fputc(*s, f);
	}
}

/* Four significant digits, but never exponents for everyday sizes:
 * 12345.6 ns reads better as 12346 than as 1.235e+04. */
static void fmt_num(char *buf, size_t len, double v)
{
	if (isfinite(v) && fabs(v) >= 1000 && fabs(v) < 1e15)
		snprintf(buf, len, "%.0f", v);
	else
		snprintf(buf, len, "%.4g", v);
}

static void fmt_ratio(char *buf, size_t len, double q)
{
	if (!isfinite(q))
		snprintf(buf, len, "—");
	else if (fabs(q) >= 0.01)
		snprintf(buf, len, "%.2fx", q);
	else
		snprintf(buf, len, "%.3gx", q);
}

typedef struct sum_var {
	const hp_record_t *x;   /* first record of the variant */
	const hp_work_t *w;     /* its stated work, or NULL */
	const char *unit;
	size_t n;
	double med, min, max, cv;
} sum_var_t;

/* Sort keys of summary.md: suite, case, (param, threads) and benchmark ids,
 * each in first-seen order, so sections come in the order the run made them. */
enum { K_SUITE, K_CASE, K_GROUP, K_BENCH, NMAPS };

/* One variant per run of equal K_BENCH in sidx[a..e): its statistics over
 * the values of `prim`. Returns the number of variants; *ref gets the first
 * impl variant with values (NULL if none). */
static size_t group_stats(const hp_results_t *r, const size_t *sidx, size_t a, size_t e,
			  hp_sortkey_t *keys, const char *prim, const char *unit, sum_var_t *vs,
			  double *vals, const sum_var_t **ref)
{
	size_t nv = 0;

	*ref = NULL;
	for (size_t i = a; i < e;) {
		size_t j = i, n = 0;
		sum_var_t *v = &vs[nv++];

		v->x = &r->rec[sidx[i]];
		v->w = hp_results_find_work(r, v->x->suite, v->x->case_, v->x->variant);
		v->unit = unit;
		for (; j < e && keys[sidx[j]][K_BENCH] == keys[sidx[i]][K_BENCH]; j++) {
			const hp_record_t *x = &r->rec[sidx[j]];

			if (strcmp(x->metric, prim))
				continue;
			if (!n)
				v->unit = x->unit;
			vals[n++] = x->value;
		}
		v->n = n;
		if (n) {
			v->cv = hp_cv(vals, n);
			v->med = hp_median(vals, n);
			v->min = vals[0];
			v->max = vals[n - 1];
			if (!*ref && !strcmp(v->x->kind, "impl"))
				*ref = v;
		}
		i = j;
	}
	return nv;
}

static const char *work_class(const sum_var_t *v)
{
	return v->w ? v->w->work_class : "";
}

/* Whether v may be put in a ratio to ref: always when ref states no work
 * class (cases that do not classify their variants), else only when the
 * classes are equal. */
int hp_work_comparable(const hp_work_t *v, const hp_work_t *ref)
{
	const char *cv = v ? v->work_class : "", *cr = ref ? ref->work_class : "";

	return !cr[0] || !strcmp(cv, cr);
}

static int equal_work(const sum_var_t *v, const sum_var_t *ref)
{
	return hp_work_comparable(v->w, ref->w);
}

/* The "vs impl" cell: the ratio of medians, "—" without a reference, or
 * why there is no ratio when the work differs. */
static void ratio_cell(FILE *f, const sum_var_t *v, const sum_var_t *ref)
{
	char b[64];

	if (!ref || ref->med == 0) {
		fputs("—", f);
		return;
	}
	if (!equal_work(v, ref)) {
		fputs("— (", f);
		md_put(f, work_class(v)[0] ? work_class(v) : "work not stated");
		fputs(" vs ", f);
		md_put(f, work_class(ref));
		fputs(": not equal work)", f);
		return;
	}
	fmt_ratio(b, sizeof(b), v->med / ref->med);
	fputs(b, f);
}

/* One table row: a variant's figures, or "no <metric>" when it has none. */
static void variant_row(FILE *f, const sum_var_t *v, const char *prim, const char *unit,
			const sum_var_t *ref)
{
	char b1[64], b2[64], b3[64], b4[64];

	fputs("| ", f);
	md_put(f, v->x->variant);
	fputs(" | ", f);
	md_put(f, v->x->kind);
	if (!v->n) {
		fputs(" | no ", f);
		md_put(f, prim);
		fputs(" | — | — | — | — |\n", f);
		return;
	}
	fmt_num(b1, sizeof(b1), v->med);
	fmt_num(b2, sizeof(b2), v->min);
	fmt_num(b3, sizeof(b3), v->max);
	if (v->cv * 100 >= 10)
		snprintf(b4, sizeof(b4), "%.0f%%", v->cv * 100);
	else
		snprintf(b4, sizeof(b4), "%.2g%%", v->cv * 100);
	fprintf(f, " | %s", b1);
	if (strcmp(v->unit, unit)) {   /* never silently mix units in a column */
		fputc(' ', f);
		md_put(f, v->unit);
	}
	fprintf(f, " | %s | %s | %s | ", b2, b3, b4);
	ratio_cell(f, v, ref);
	fputs(" |\n", f);
}

/* One (param, threads) group, records sidx[a..e): its heading and table. */
static int summary_group(FILE *f, const hp_results_t *r, const size_t *sidx, size_t a, size_t e,
			 hp_sortkey_t *keys)
{
	const char *prim = hp_pick_primary(r, sidx + a, e - a), *unit = "";
	const hp_record_t *x0 = &r->rec[sidx[a]];
	sum_var_t *vs = calloc(e - a, sizeof(*vs));
	double *vals = malloc((e - a) * sizeof(*vals));
	const sum_var_t *ref;
	size_t nv;

	if (!vs || !vals) {
		free(vs);
		free(vals);
		errno = ENOMEM;
		return -1;
	}
	for (size_t i = a; i < e; i++)
		if (!strcmp(r->rec[sidx[i]].metric, prim)) {
			unit = r->rec[sidx[i]].unit;
			break;
		}
	nv = group_stats(r, sidx, a, e, keys, prim, unit, vs, vals, &ref);

	fputs("#### ", f);
	if (x0->param[0] && strcmp(x0->param, "-")) {
		fputs("param ", f);
		md_put(f, x0->param);
		fputs(", ", f);
	}
	fprintf(f, "%d thread%s: ", x0->threads, x0->threads == 1 ? "" : "s");
	md_put(f, prim);
	fputs("\n\n| variant | kind | median (", f);
	md_put(f, unit);
	fputs(") | min | max | CV | vs impl |\n|:--|:--|--:|--:|--:|--:|--:|\n", f);
	for (size_t k = 0; k < nv; k++)
		variant_row(f, &vs[k], prim, unit, ref);
	fputc('\n', f);
	free(vs);
	free(vals);
	return 0;
}

/* keys[i][K_*] for every record; -1 with ENOMEM. */
static int summary_keys(const hp_results_t *r, hp_sortkey_t *keys)
{
	keymap_t maps[NMAPS];
	char key[HP_BENCH_KEY_MAX];
	int rc = 0;

	for (int m = 0; m < NMAPS; m++)
		keymap_init(&maps[m]);
	for (size_t i = 0; i < r->nrec && !rc; i++) {
		const hp_record_t *x = &r->rec[i];

		snprintf(key, sizeof(key), "%s", x->suite);
		keys[i][K_SUITE] = keymap_id(&maps[K_SUITE], key);
		snprintf(key, sizeof(key), "%s\x1f%s", x->suite, x->case_);
		keys[i][K_CASE] = keymap_id(&maps[K_CASE], key);
		snprintf(key, sizeof(key), "%s\x1f%s\x1f%s\x1f%d", x->suite, x->case_, x->param, x->threads);
		keys[i][K_GROUP] = keymap_id(&maps[K_GROUP], key);
		hp_bench_key(key, sizeof(key), x->suite, x->case_, x->variant, x->param, x->threads);
		keys[i][K_BENCH] = keymap_id(&maps[K_BENCH], key);
		for (int m = 0; m < NMAPS; m++)
			if (keys[i][m] == KEYMAP_NONE)
				rc = -1;
	}
	for (int m = 0; m < NMAPS; m++)
		keymap_free(&maps[m]);
	if (rc)
		errno = ENOMEM;
	return rc;
}

/* Under a case heading: "work per op" with one line per variant of the
 * case (records sidx[a..e)) that stated its work, in order of appearance;
 * nothing when none did. */
static void case_work(FILE *f, const hp_results_t *r, const size_t *sidx, size_t a, size_t e)
{
	int any = 0;

	for (size_t i = a; i < e; i++) {
		const hp_record_t *x = &r->rec[sidx[i]];
		const hp_work_t *w = hp_results_find_work(r, x->suite, x->case_, x->variant);
		size_t k;

		if (!w)
			continue;
		for (k = a; k < i && strcmp(r->rec[sidx[k]].variant, x->variant); k++)
			;
		if (k < i)
			continue;   /* listed already */
		if (!any)
			fputs("Work per op (\"vs impl\" only between equal classes):\n\n", f);
		any = 1;
		fputs("- ", f);
		md_put(f, x->variant);
		if (w->work_class[0]) {
			fputs(" [", f);
			md_put(f, w->work_class);
			fputc(']', f);
		}
		fputs(": ", f);
		md_put(f, w->work[0] ? w->work : "(not described)");
		fputc('\n', f);
	}
	if (any)
		fputc('\n', f);
}

/* The text suite `name` of `suites` adds after its tables (hp_suite_t.summary). */
static void suite_text(FILE *f, const hp_results_t *r, const hp_suite_t *const *suites, const char *name)
{
	for (int i = 0; suites && suites[i]; i++)
		if (!strcmp(suites[i]->name, name) && suites[i]->summary)
			suites[i]->summary(f, r);
}

/* Suite and case headings, then a table per (param, threads) group. */
static int summary_results(FILE *f, const hp_results_t *r, const size_t *sidx, hp_sortkey_t *keys,
			   const hp_suite_t *const *suites)
{
	for (size_t i = 0; i < r->nrec;) {
		const hp_record_t *x = &r->rec[sidx[i]];
		size_t j = i;

		if (i == 0 || keys[sidx[i]][K_SUITE] != keys[sidx[i - 1]][K_SUITE]) {
			fputs("## ", f);
			md_put(f, x->suite);
			fputs("\n\n", f);
		}
		if (i == 0 || keys[sidx[i]][K_CASE] != keys[sidx[i - 1]][K_CASE]) {
			size_t ce = i;

			fputs("### ", f);
			md_put(f, x->case_);
			fputs("\n\n", f);
			while (ce < r->nrec && keys[sidx[ce]][K_CASE] == keys[sidx[i]][K_CASE])
				ce++;
			case_work(f, r, sidx, i, ce);
		}
		while (j < r->nrec && keys[sidx[j]][K_GROUP] == keys[sidx[i]][K_GROUP])
			j++;
		if (summary_group(f, r, sidx, i, j, keys) < 0)
			return -1;
		if (j == r->nrec || keys[sidx[j]][K_SUITE] != keys[sidx[i]][K_SUITE])
			suite_text(f, r, suites, x->suite);
		i = j;
	}
	return 0;
}

static void summary_not_run(FILE *f, const hp_results_t *r, int complete)
{
	char name[HP_BENCH_KEY_MAX];
	size_t ndone = 0;

	fputs("## Did not run\n\n", f);
	for (size_t s = 0; s < r->nst; s++) {
		const hp_status_t *st = &r->st[s];

		if (st->status == HP_ST_OK)
			continue;
		hp_bench_name(name, sizeof(name), st->suite, st->case_, st->variant, st->param, st->threads);
		fputs("- ", f);
		md_put(f, name);
		fputs(" (", f);
		md_put(f, st->kind);
		if (st->metric[0]) {
			fputs(", --metric ", f);
			md_put(f, st->metric);
		}
		fprintf(f, "): **%s**", hp_status_name(st->status));
		if (st->message[0]) {
			fputs(": ", f);
			md_put(f, st->message);
		}
		fputc('\n', f);
		ndone++;
	}
	/* after Ctrl-C or a failed write the rest never started: "every
	 * benchmark ran" would contradict the note under the title */
	if (!complete)
		fputs("The run did not finish (see the note under the title): the benchmarks "
		      "after the last one above did not start.\n", f);
	else if (!ndone)
		fputs("Every benchmark ran.\n", f);
}

int hp_write_summary(const char *path, const hp_results_t *r, const char *title_note)
{
	return hp_write_summary_run(path, r, title_note, 1);
}

int hp_write_summary_run(const char *path, const hp_results_t *r, const char *title_note,
			 int complete)
{
	return hp_write_summary_suites(path, r, title_note, complete, NULL);
}

int hp_write_summary_suites(const char *path, const hp_results_t *r, const char *title_note,
			    int complete, const hp_suite_t *const *suites)
{
	hp_sortkey_t *keys = calloc(r->nrec + 1, sizeof(*keys));
	size_t *sidx = hp_index_alloc(r->nrec), len = 0;
	char *buf = NULL;
	FILE *f = NULL;
	int rc = -1, saved;

	if (!keys || !sidx) {
		errno = ENOMEM;
		goto out;
	}
	if (summary_keys(r, keys) < 0)
		goto out;
	hp_sort_by_keys(sidx, r->nrec, keys);
	f = open_memstream(&buf, &len);
	if (!f)
		goto out;
	fputs("# hotpath results\n\n", f);
	if (title_note && *title_note)
		fprintf(f, "%s\n\n", title_note);
	if (summary_results(f, r, sidx, keys, suites) < 0) {
		saved = errno;
		fclose(f);
		free(buf);
		errno = saved;
		goto out;
	}
	summary_not_run(f, r, complete);
	rc = hp_memstream_commit(f, &buf, &len, path);
out:
	saved = errno;
	free(keys);
	free(sidx);
	errno = saved;
	return rc;
}
