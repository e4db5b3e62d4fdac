/* record.c — the result set (records and statuses in run order), the names
 * and keys records are grouped by, and the exact text of a value. */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "record.h"
#include "record_int.h"

static const char *const status_names[] = {
	[HP_ST_OK] = "ok",
	[HP_ST_UNAVAILABLE] = "unavailable",
	[HP_ST_SKIPPED] = "skipped",
	[HP_ST_FAILED] = "failed",
};
#define NSTATUS (sizeof(status_names) / sizeof(status_names[0]))

const char *hp_status_name(hp_status_kind_t s)
{
	if ((unsigned)s >= NSTATUS)
		return "unknown";
	return status_names[s];
}

int hp_status_parse(const char *name, hp_status_kind_t *out)
{
	for (size_t i = 0; i < NSTATUS; i++) {
		if (strcmp(name, status_names[i]) == 0) {
			*out = (hp_status_kind_t)i;
			return 0;
		}
	}
	return -1;
}

/* ---- the container ---------------------------------------------------- */

void hp_results_init(hp_results_t *r)
{
	memset(r, 0, sizeof(*r));
}

void hp_results_free(hp_results_t *r)
{
	free(r->rec);
	free(r->st);
	free(r->work);
	memset(r, 0, sizeof(*r));
}

void *hp_grow(void *arr, size_t *cap, size_t need, size_t elem)
{
	size_t ncap;
	void *p;

	if (need <= *cap)
		return arr;
	ncap = *cap ? *cap : 64;
	while (ncap < need) {
		if (ncap > SIZE_MAX / 2 / elem) {
			errno = ENOMEM;
			return NULL;
		}
		ncap *= 2;
	}
	p = realloc(arr, ncap * elem);
	if (!p) {
		errno = ENOMEM;
		return NULL;
	}
	*cap = ncap;
	return p;
}

hp_record_t *hp_results_add(hp_results_t *r, const hp_record_t *rec)
{
	hp_record_t *p = hp_grow(r->rec, &r->caprec, r->nrec + 1, sizeof(*p));

	if (!p)
		return NULL;
	r->rec = p;
	p[r->nrec] = *rec;
	return &p[r->nrec++];
}

hp_status_t *hp_results_add_status(hp_results_t *r, const hp_status_t *st)
{
	hp_status_t *p = hp_grow(r->st, &r->capst, r->nst + 1, sizeof(*p));

	if (!p)
		return NULL;
	r->st = p;
	p[r->nst] = *st;
	return &p[r->nst++];
}

/* ---- values, keys and names ------------------------------------------ */

/* Exact like %.17g, but 0.1 stays "0.1" in files people read. */
void hp_fmt_exact(char *buf, size_t len, double v)
{
	for (int prec = 15; prec <= 17; prec++) {
		snprintf(buf, len, "%.*g", prec, v);
		if (!isfinite(v) || strtod(buf, NULL) == v)
			return;
	}
}

void hp_bench_key(char *buf, size_t len, const char *suite, const char *case_,
		  const char *variant, const char *param, int threads)
{
	snprintf(buf, len, "%s\x1f%s\x1f%s\x1f%s\x1f%d", suite, case_, variant, param, threads);
}

void hp_bench_name(char *buf, size_t len, const char *suite, const char *case_,
		   const char *variant, const char *param, int threads)
{
	if (!param[0] || strcmp(param, "-") == 0)
		snprintf(buf, len, "%s/%s/%s/threads:%d", suite, case_, variant, threads);
	else
		snprintf(buf, len, "%s/%s/%s/%s/threads:%d", suite, case_, variant, param, threads);
}

/* ---- grouping --------------------------------------------------------- */

static const char *const primary_order[HP_NPRIMARY] = { "real_time", "cache_d1_misses", "instructions",
								 "perf_cycles" };

int hp_primary_rank(const char *metric)
{
	for (int p = 0; p < HP_NPRIMARY; p++)
		if (strcmp(metric, primary_order[p]) == 0)
			return p;
	return HP_NPRIMARY;
}

const char *hp_pick_primary(const hp_results_t *r, const size_t *idx, size_t n)
{
	int best = HP_NPRIMARY;

	for (size_t i = 0; i < n; i++) {
		int p = hp_primary_rank(r->rec[idx[i]].metric);

		if (p < best)
			best = p;
	}
	if (best < HP_NPRIMARY)
		return primary_order[best];
	return n ? r->rec[idx[0]].metric : NULL;
}

size_t *hp_index_alloc(size_t n)
{
	size_t *idx = malloc((n ? n : 1) * sizeof(*idx));

	if (idx)
		for (size_t i = 0; i < n; i++)
			idx[i] = i;
	return idx;
}

static int cmp_keys(const void *a, const void *b, void *arg)
{
	hp_sortkey_t *key = arg;
	size_t x = *(const size_t *)a, y = *(const size_t *)b;

	for (int k = 0; k < HP_NKEYS; k++)
		if (key[x][k] != key[y][k])
			return key[x][k] < key[y][k] ? -1 : 1;
	return (x > y) - (x < y);
}

void hp_sort_by_keys(size_t *idx, size_t n, hp_sortkey_t *keys)
{
	qsort_r(idx, n, sizeof(*idx), cmp_keys, keys);
}

/* ---- the work variants state ------------------------------------------ */

const hp_work_t *hp_results_find_work(const hp_results_t *r, const char *suite, const char *case_,
				      const char *variant)
{
	for (size_t i = 0; i < r->nwork; i++) {
		const hp_work_t *w = &r->work[i];

		if (!strcmp(w->suite, suite) && !strcmp(w->case_, case_) && !strcmp(w->variant, variant))
			return w;
	}
	return NULL;
}

int hp_results_set_work(hp_results_t *r, const char *suite, const char *case_, const char *variant,
			const char *work, const char *work_class)
{
	hp_work_t w, *slot;

	work = work ? work : "";
	work_class = work_class ? work_class : "";
	if (!work[0] && !work_class[0])
		return 0;
	if (strlen(suite) >= sizeof w.suite || strlen(case_) >= sizeof w.case_ ||
	    strlen(variant) >= sizeof w.variant || strlen(work) >= sizeof w.work ||
	    strlen(work_class) >= sizeof w.work_class) {
		errno = ENAMETOOLONG;
		return -1;
	}
	hp_strlcpy(w.suite, suite, sizeof w.suite);
	hp_strlcpy(w.case_, case_, sizeof w.case_);
	hp_strlcpy(w.variant, variant, sizeof w.variant);
	hp_strlcpy(w.work, work, sizeof w.work);
	hp_strlcpy(w.work_class, work_class, sizeof w.work_class);
	slot = (hp_work_t *)hp_results_find_work(r, suite, case_, variant);
	if (!slot) {
		hp_work_t *p = hp_grow(r->work, &r->capwork, r->nwork + 1, sizeof(*p));

		if (!p)
			return -1;
		r->work = p;
		slot = &r->work[r->nwork++];
	}
	*slot = w;
	return 0;
}
