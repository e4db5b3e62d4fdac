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

/* ---- values per benchmark -------------------------------------------- */

void hp_bench_set_init(hp_bench_set_t *s, hp_bset_mode_t mode)
{
	memset(s, 0, sizeof(*s));
	s->mode = mode;
	keymap_init(&s->ids);
}

void hp_bench_set_free(hp_bench_set_t *s)
{
	for (size_t i = 0; s->b && i < s->n; i++)
		free(s->b[i].v);
	free(s->b);
	keymap_free(&s->ids);
	memset(s, 0, sizeof(*s));
}

static void bench_set_key(char *key, size_t len, hp_bset_mode_t mode, const char *suite,
			  const char *case_, const char *variant, const char *param, int threads,
			  const char *metric)
{
	hp_bench_key(key, len, suite, case_, variant, param, threads);
	if (mode == HP_BSET_ALL) {
		size_t o = strlen(key);

		snprintf(key + o, len - o, "\x1f%s", metric);
	}
}

/* The entry of x, added (with no values) when new; NULL out of memory. */
static hp_bench_vals_t *bench_set_entry(hp_bench_set_t *s, const hp_record_t *x)
{
	char key[HP_BENCH_KEY_MAX + 64];
	size_t id;
	hp_bench_vals_t *b;

	bench_set_key(key, sizeof(key), s->mode, x->suite, x->case_, x->variant, x->param,
		      x->threads, x->metric);
	id = keymap_id(&s->ids, key);
	if (id == KEYMAP_NONE)
		return NULL;
	if (id < s->n)
		return &s->b[id];
	b = hp_grow(s->b, &s->cap, s->n + 1, sizeof(*b));
	if (!b)
		return NULL;
	s->b = b;
	b = &s->b[s->n];
	memset(b, 0, sizeof(*b));
	hp_strlcpy(b->suite, x->suite, sizeof(b->suite));
	hp_strlcpy(b->case_, x->case_, sizeof(b->case_));
	hp_strlcpy(b->variant, x->variant, sizeof(b->variant));
	hp_strlcpy(b->kind, x->kind, sizeof(b->kind));
	hp_strlcpy(b->param, x->param, sizeof(b->param));
	b->threads = x->threads;
	/* above any rank: the first metric seen is taken */
	b->prio = HP_NPRIMARY + 1;
	b->order = s->n++;
	return b;
}

int hp_bench_set_add(hp_bench_set_t *s, const hp_record_t *x)
{
	hp_bench_vals_t *b = bench_set_entry(s, x);
	int p = hp_primary_rank(x->metric);
	double *v;

	if (!b) {
		errno = ENOMEM;
		return -1;
	}
	if (p < b->prio) {
		b->prio = p;
		b->n = 0;
		hp_strlcpy(b->metric, x->metric, sizeof(b->metric));
		hp_strlcpy(b->unit, x->unit, sizeof(b->unit));
	}
	if (strcmp(x->metric, b->metric))
		return 0;
	v = hp_grow(b->v, &b->cap, b->n + 1, sizeof(*v));
	if (!v)
		return -1;
	b->v = v;
	b->v[b->n++] = x->value;
	return 0;
}

int hp_bench_set_add_cb(const hp_record_t *x, void *arg)
{
	return hp_bench_set_add(arg, x);
}

int hp_bench_set_from_results(hp_bench_set_t *s, const hp_results_t *r)
{
	for (size_t i = 0; i < r->nrec; i++)
		if (hp_bench_set_add(s, &r->rec[i]) < 0)
			return -1;
	return 0;
}

int hp_bench_set_reorder(hp_bench_set_t *s, const size_t *perm)
{
	char key[HP_BENCH_KEY_MAX + 64];
	hp_bench_vals_t *nb = malloc((s->n ? s->n : 1) * sizeof(*nb));
	keymap_t ids;

	if (!nb) {
		errno = ENOMEM;
		return -1;
	}
	keymap_init(&ids);
	for (size_t k = 0; k < s->n; k++) {
		nb[k] = s->b[perm[k]];
		nb[k].order = k;
		bench_set_key(key, sizeof(key), s->mode, nb[k].suite, nb[k].case_, nb[k].variant,
			      nb[k].param, nb[k].threads, nb[k].metric);
		if (keymap_id(&ids, key) == KEYMAP_NONE) {
			keymap_free(&ids);
			free(nb);
			errno = ENOMEM;
			return -1;
		}
	}
	free(s->b);
	keymap_free(&s->ids);
	s->b = nb;
	s->cap = s->n ? s->n : 1;
	s->ids = ids;
	return 0;
}

void hp_bench_vals_key(char *buf, size_t len, const hp_bench_vals_t *b)
{
	size_t o;

	hp_bench_name(buf, len, b->suite, b->case_, b->variant, b->param, b->threads);
	o = strlen(buf);
	snprintf(buf + o, len > o ? len - o : 0, ":%s", b->metric);
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
