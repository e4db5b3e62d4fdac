/* jsonout.c — records as JSON: one object per line from a child process to
 * the runner, and results.json in Google Benchmark's shape (so compare.py
 * and other Google Benchmark tools read it). */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>

#include "keymap.h"
#include "record.h"
#include "record_int.h"

/* ---- records and statuses (child -> runner) --------------------------- */

/* Doubles go out as their shortest exact text, so the runner reads back
 * the very bits the child measured. */
static struct json_object *json_exact_double(double v)
{
	char num[HP_EXACT_MAX];

	if (!isfinite(v))
		return json_object_new_double(v);
	hp_fmt_exact(num, sizeof(num), v);
	return json_object_new_double_s(v, num);
}

static void jadd_str(struct json_object *o, const char *k, const char *v)
{
	json_object_object_add(o, k, json_object_new_string(v));
}

static void jadd_int(struct json_object *o, const char *k, int64_t v)
{
	json_object_object_add(o, k, json_object_new_int64(v));
}

struct json_object *hp_record_to_json(const hp_record_t *rec)
{
	struct json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	jadd_str(o, "suite", rec->suite);
	jadd_str(o, "case", rec->case_);
	jadd_str(o, "variant", rec->variant);
	jadd_str(o, "kind", rec->kind);
	jadd_str(o, "param", rec->param);
	jadd_int(o, "threads", rec->threads);
	jadd_str(o, "cpus", rec->cpus);
	jadd_str(o, "metric", rec->metric);
	jadd_str(o, "unit", rec->unit);
	jadd_int(o, "rep", rec->rep);
	json_object_object_add(o, "value", json_exact_double(rec->value));
	return o;
}

static int jget_str(struct json_object *o, const char *k, char *dst, size_t size)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, k, &v) || !json_object_is_type(v, json_type_string))
		return -1;
	/* the writer's fields are as small as ours: a longer value is not
	 * one of our records, and cutting it short would change its key */
	if ((size_t)json_object_get_string_len(v) >= size)
		return -1;
	hp_strlcpy(dst, json_object_get_string(v), size);
	return 0;
}

static int jget_int(struct json_object *o, const char *k, int *dst)
{
	struct json_object *v;
	int64_t x;

	if (!json_object_object_get_ex(o, k, &v) || !json_object_is_type(v, json_type_int))
		return -1;
	x = json_object_get_int64(v);
	if (x < INT_MIN || x > INT_MAX)
		return -1;
	*dst = (int)x;
	return 0;
}

static int jget_double(struct json_object *o, const char *k, double *dst)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, k, &v) ||
	    !(json_object_is_type(v, json_type_double) || json_object_is_type(v, json_type_int)))
		return -1;
	*dst = json_object_get_double(v);
	return 0;
}

int hp_record_from_json(struct json_object *o, hp_record_t *rec)
{
	hp_record_t x;

	memset(&x, 0, sizeof(x));
	if (!o || !json_object_is_type(o, json_type_object) ||
	    jget_str(o, "suite", x.suite, sizeof(x.suite)) ||
	    jget_str(o, "case", x.case_, sizeof(x.case_)) ||
	    jget_str(o, "variant", x.variant, sizeof(x.variant)) ||
	    jget_str(o, "kind", x.kind, sizeof(x.kind)) ||
	    jget_str(o, "param", x.param, sizeof(x.param)) ||
	    jget_int(o, "threads", &x.threads) ||
	    jget_str(o, "cpus", x.cpus, sizeof(x.cpus)) ||
	    jget_str(o, "metric", x.metric, sizeof(x.metric)) ||
	    jget_str(o, "unit", x.unit, sizeof(x.unit)) ||
	    jget_int(o, "rep", &x.rep) ||
	    jget_double(o, "value", &x.value)) {
		errno = EINVAL;
		return -1;
	}
	*rec = x;
	return 0;
}

struct json_object *hp_status_to_json(const hp_status_t *st)
{
	struct json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	jadd_str(o, "suite", st->suite);
	jadd_str(o, "case", st->case_);
	jadd_str(o, "variant", st->variant);
	jadd_str(o, "kind", st->kind);
	jadd_str(o, "param", st->param);
	jadd_int(o, "threads", st->threads);
	jadd_str(o, "metric", st->metric);
	jadd_str(o, "status", hp_status_name(st->status));
	jadd_str(o, "message", st->message);
	json_object_object_add(o, "seconds", json_exact_double(st->seconds));
	return o;
}

int hp_status_from_json(struct json_object *o, hp_status_t *st)
{
	hp_status_t x;
	char name[32];

	memset(&x, 0, sizeof(x));
	if (!o || !json_object_is_type(o, json_type_object) ||
	    jget_str(o, "suite", x.suite, sizeof(x.suite)) ||
	    jget_str(o, "case", x.case_, sizeof(x.case_)) ||
	    jget_str(o, "variant", x.variant, sizeof(x.variant)) ||
	    jget_str(o, "kind", x.kind, sizeof(x.kind)) ||
	    jget_str(o, "param", x.param, sizeof(x.param)) ||
	    jget_int(o, "threads", &x.threads) ||
	    jget_str(o, "metric", x.metric, sizeof(x.metric)) ||
	    jget_str(o, "status", name, sizeof(name)) ||
	    jget_str(o, "message", x.message, sizeof(x.message)) ||
	    jget_double(o, "seconds", &x.seconds))
		goto bad;
	if (hp_status_parse(name, &x.status) < 0)
		goto bad;
	*st = x;
	return 0;
bad:
	errno = EINVAL;
	return -1;
}

/* ---- results.json ----------------------------------------------------- */

static const char *const gb_reserved[] = {
	"name", "family_index", "per_family_instance_index", "run_name", "run_type",
	"repetitions", "repetition_index", "threads", "iterations", "real_time",
	"cpu_time", "time_unit", "label", "error_occurred", "error_message",
	"aggregate_name", "aggregate_unit",
};

static int is_reserved(const char *k)
{
	for (size_t i = 0; i < sizeof(gb_reserved) / sizeof(gb_reserved[0]); i++)
		if (strcmp(k, gb_reserved[i]) == 0)
			return 1;
	return 0;
}

typedef struct gb_bench {
	size_t family, instance;
	size_t first, end;      /* range in the sorted index */
	int nreps;
	const char *suite, *case_, *variant, *param;
	int threads;
} gb_bench_t;

static struct json_object *gb_entry(const gb_bench_t *b, int rep)
{
	struct json_object *e = json_object_new_object();
	char name[HP_BENCH_KEY_MAX];

	hp_bench_name(name, sizeof(name), b->suite, b->case_, b->variant, b->param, b->threads);
	jadd_str(e, "name", name);
	jadd_int(e, "family_index", (int64_t)b->family);
	jadd_int(e, "per_family_instance_index", (int64_t)b->instance);
	jadd_str(e, "run_name", name);
	jadd_str(e, "run_type", "iteration");
	jadd_int(e, "repetitions", b->nreps);
	jadd_int(e, "repetition_index", rep);
	jadd_int(e, "threads", b->threads);
	return e;
}

/* Assigns benchmark ids (first-seen order over records, then statuses) and
 * Google Benchmark's family / per-family instance indices. */
static int gb_index(const hp_results_t *r, size_t *rec_b, size_t *st_b, gb_bench_t **out,
		    size_t *nout)
{
	keymap_t bm, fm;
	gb_bench_t *bs = NULL;
	size_t cap = 0, nb = 0, *fam_n = NULL, fcap = 0;
	char key[HP_BENCH_KEY_MAX];
	int rc = -1;

	keymap_init(&bm);
	keymap_init(&fm);
	for (size_t i = 0; i < r->nrec + r->nst; i++) {
		const char *su, *ca, *va, *pa;
		size_t id, fid, nfam;
		int th;

		if (i < r->nrec) {
			const hp_record_t *x = &r->rec[i];

			su = x->suite; ca = x->case_; va = x->variant; pa = x->param; th = x->threads;
		} else {
			const hp_status_t *x = &r->st[i - r->nrec];

			su = x->suite; ca = x->case_; va = x->variant; pa = x->param; th = x->threads;
		}
		hp_bench_key(key, sizeof(key), su, ca, va, pa, th);
		id = keymap_id(&bm, key);
		if (id == KEYMAP_NONE)
			goto out;
		if (i < r->nrec)
			rec_b[i] = id;
		else
			st_b[i - r->nrec] = id;
		if (id < nb)
			continue;

		snprintf(key, sizeof(key), "%s\x1f%s\x1f%s", su, ca, va);
		nfam = fm.n;
		fid = keymap_id(&fm, key);
		if (fid == KEYMAP_NONE)
			goto out;
		{
			gb_bench_t *p = hp_grow(bs, &cap, nb + 1, sizeof(*bs));

			if (!p)
				goto out;
			bs = p;
		}
		{
			size_t *q = hp_grow(fam_n, &fcap, fm.n, sizeof(*fam_n));

			if (!q)
				goto out;
			fam_n = q;
		}
		if (fm.n > nfam)
			fam_n[fid] = 0;
		memset(&bs[nb], 0, sizeof(bs[nb]));
		bs[nb].family = fid;
		bs[nb].instance = fam_n[fid]++;
		bs[nb].suite = su; bs[nb].case_ = ca; bs[nb].variant = va; bs[nb].param = pa;
		bs[nb].threads = th;
		nb++;
	}
	rc = 0;
out:
	keymap_free(&bm);
	keymap_free(&fm);
	free(fam_n);
	if (rc < 0) {
		free(bs);
		errno = ENOMEM;
		return -1;
	}
	*out = bs;
	*nout = nb;
	return 0;
}

/* One repetition of one benchmark: records sidx[a..e) (same bench, same rep). */
static struct json_object *gb_rep_entry(const hp_results_t *r, const gb_bench_t *b,
					const size_t *sidx, size_t a, size_t e, int has_time,
					const char *prim)
{
	const hp_record_t *x0 = &r->rec[sidx[a]];
	struct json_object *ent = gb_entry(b, x0->rep);
	double real = NAN, cpu = NAN, iters = 0;
	char key[80];         /* a metric field (< 48) and "counter_" or " per op, not time" */

	for (size_t i = a; i < e; i++) {
		const hp_record_t *x = &r->rec[sidx[i]];

		if (strcmp(x->metric, "real_time") == 0)
			real = x->value;
		else if (strcmp(x->metric, "cpu_time") == 0)
			cpu = x->value;
		else if (strcmp(x->metric, "iterations") == 0)
			iters = x->value;
		else if (!has_time && prim && strcmp(x->metric, prim) == 0)
			real = cpu = x->value;
	}
	/* compare.py needs both times; a run timed by hand (or in a child)
	 * may carry only wall time, which then stands for both */
	if (isnan(cpu))
		cpu = real;
	if (isnan(real))
		real = cpu;
	if (isnan(real))
		real = cpu = 0;
	jadd_int(ent, "iterations", (int64_t)llround(iters));
	json_object_object_add(ent, "real_time", json_exact_double(real));
	json_object_object_add(ent, "cpu_time", json_exact_double(cpu));
	jadd_str(ent, "time_unit", "ns");
	if (!has_time && prim) {
		snprintf(key, sizeof(key), "%s per op, not time", prim);
		jadd_str(ent, "label", key);
	}
	for (size_t i = a; i < e; i++) {
		const hp_record_t *x = &r->rec[sidx[i]];

		if (!strcmp(x->metric, "real_time") || !strcmp(x->metric, "cpu_time") ||
		    !strcmp(x->metric, "iterations"))
			continue;
		if (is_reserved(x->metric))
			snprintf(key, sizeof(key), "counter_%s", x->metric);
		else
			hp_strlcpy(key, x->metric, sizeof(key));
		json_object_object_add(ent, key, json_exact_double(x->value));
	}
	return ent;
}

/* The entry of a benchmark that did not run: no times, and why. */
static struct json_object *gb_error_entry(const gb_bench_t *b, const hp_status_t *st)
{
	struct json_object *ent = gb_entry(b, 0);
	char msg[300];          /* a status name and a message field (< 256) */

	jadd_int(ent, "iterations", 0);
	json_object_object_add(ent, "real_time", json_object_new_double(0));
	json_object_object_add(ent, "cpu_time", json_object_new_double(0));
	jadd_str(ent, "time_unit", "ns");
	json_object_object_add(ent, "error_occurred", json_object_new_boolean(1));
	snprintf(msg, sizeof(msg), "%s: %s", hp_status_name(st->status), st->message);
	jadd_str(ent, "error_message", msg);
	return ent;
}

/* The run's records and statuses, indexed by benchmark: which benchmark
 * each belongs to, and the records sorted by (benchmark, rep). */
typedef struct gb_run {
	size_t *rec_b, *st_b, *sidx;
	hp_sortkey_t *keys;
	gb_bench_t *bs;
	size_t nb;
} gb_run_t;

static void gb_run_free(gb_run_t *g)
{
	free(g->bs);
	free(g->rec_b);
	free(g->st_b);
	free(g->keys);
	free(g->sidx);
}

/* Fills g: benchmark ids, the sorted index, and each benchmark's range in
 * it with its number of repetitions. -1 with errno on failure. */
static int gb_run_index(const hp_results_t *r, gb_run_t *g)
{
	memset(g, 0, sizeof(*g));
	g->rec_b = calloc(r->nrec + 1, sizeof(*g->rec_b));
	g->st_b = calloc(r->nst + 1, sizeof(*g->st_b));
	g->keys = calloc(r->nrec + 1, sizeof(*g->keys));
	g->sidx = hp_index_alloc(r->nrec);
	if (!g->rec_b || !g->st_b || !g->keys || !g->sidx) {
		errno = ENOMEM;
		return -1;
	}
	if (gb_index(r, g->rec_b, g->st_b, &g->bs, &g->nb) < 0)
		return -1;
	for (size_t i = 0; i < r->nrec; i++) {
		g->keys[i][0] = g->rec_b[i];
		/* negative reps (never written by the runner) sort after the rest */
		g->keys[i][1] = (size_t)(unsigned)r->rec[i].rep;
	}
	hp_sort_by_keys(g->sidx, r->nrec, g->keys);
	for (size_t i = 0; i < r->nrec;) {
		size_t b = g->rec_b[g->sidx[i]], j = i;

		g->bs[b].first = i;
		while (j < r->nrec && g->rec_b[g->sidx[j]] == b) {
			if (j == i || r->rec[g->sidx[j]].rep != r->rec[g->sidx[j - 1]].rep)
				g->bs[b].nreps++;
			j++;
		}
		g->bs[b].end = j;
		i = j;
	}
	return 0;
}

/* Benchmark b's entries: one per repetition, then one per status that is
 * not OK. */
static void gb_emit_bench(struct json_object *arr, const hp_results_t *r, const gb_run_t *g,
			  size_t b)
{
	const gb_bench_t *B = &g->bs[b];
	const size_t *sidx = g->sidx;
	int has_time = 0;
	const char *prim = NULL;

	for (size_t i = B->first; i < B->end; i++)
		if (!strcmp(r->rec[sidx[i]].metric, "real_time") ||
		    !strcmp(r->rec[sidx[i]].metric, "cpu_time"))
			has_time = 1;
	if (!has_time)
		prim = hp_pick_primary(r, sidx + B->first, B->end - B->first);
	for (size_t i = B->first; i < B->end;) {
		size_t j = i + 1;

		while (j < B->end && r->rec[sidx[j]].rep == r->rec[sidx[i]].rep)
			j++;
		json_object_array_add(arr, gb_rep_entry(r, B, sidx, i, j, has_time, prim));
		i = j;
	}
	for (size_t s = 0; s < r->nst; s++)
		if (g->st_b[s] == b && r->st[s].status != HP_ST_OK)
			json_object_array_add(arr, gb_error_entry(B, &r->st[s]));
}

/* context.work: one object per variant that stated its work:
 * {"suite", "case", "variant", "work", "work_class"}. -1 when out of memory. */
static int context_work(struct json_object *context, const hp_results_t *r)
{
	struct json_object *arr;

	if (!r->nwork)
		return 0;
	arr = json_object_new_array();
	if (!arr)
		return -1;
	json_object_object_add(context, "work", arr);
	for (size_t i = 0; i < r->nwork; i++) {
		const hp_work_t *w = &r->work[i];
		struct json_object *o = json_object_new_object();

		if (!o)
			return -1;
		json_object_object_add(o, "suite", json_object_new_string(w->suite));
		json_object_object_add(o, "case", json_object_new_string(w->case_));
		json_object_object_add(o, "variant", json_object_new_string(w->variant));
		json_object_object_add(o, "work", json_object_new_string(w->work));
		json_object_object_add(o, "work_class", json_object_new_string(w->work_class));
		json_object_array_add(arr, o);
	}
	return 0;
}

int hp_write_results_json(const char *path, const hp_results_t *r,
			  struct json_object *context)
{
	struct json_object *root = json_object_new_object(), *arr = json_object_new_array();
	gb_run_t g = { 0 };
	int rc = -1, saved;

	if (!context)
		context = json_object_new_object();
	if (!root || !arr || !context) {
		json_object_put(context);
		json_object_put(arr);
		errno = ENOMEM;
		goto out;
	}
	json_object_object_add(root, "context", context);
	json_object_object_add(root, "benchmarks", arr);
	if (context_work(context, r) < 0) {
		errno = ENOMEM;
		goto out;
	}
	if (gb_run_index(r, &g) < 0)
		goto out;
	for (size_t b = 0; b < g.nb; b++)
		gb_emit_bench(arr, r, &g, b);
	rc = hp_write_json_atomic(path, root);
out:
	saved = errno;
	json_object_put(root);
	gb_run_free(&g);
	errno = saved;
	return rc;
}
