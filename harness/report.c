/* report.c — `hotpath report DIR` and `hotpath compare A B --report`: one
 * self-contained HTML page per folder (or pair of folders). Nothing the page
 * needs lives outside it: the plots are the folder's SVG files inlined, the
 * sorting script and the style sheet are in the page, no font or network.
 *
 * The figures are the ones summary.md and compare print: the primary metric
 * (hp_primary_rank), hp_median / hp_cv (stats.h), ratios to the first impl
 * variant of a (case, param, threads) group only where the work class is
 * equal (hp_work_comparable), 95% intervals of the median from compare's
 * seeded bootstrap (hp_median_ci), and compare's rows (hp_compare) for the
 * comparison page. */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "compare.h"
#include "report.h"

/* ==================================================================== */
/* Reading a folder                                                     */
/* ==================================================================== */

static int is_file(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* A JSON object from path, or NULL after a message (exit 2). */
static struct json_object *load_json(const char *path, const char *cmd)
{
	struct json_object *o = json_object_from_file(path);

	if (!o || !json_object_is_type(o, json_type_object)) {
		const char *e = json_util_get_last_err();

		fprintf(stderr, "hotpath %s: %s: not a JSON object (%s)\n", cmd, path,
			o ? "another JSON value" : e ? e : "unreadable");
		json_object_put(o);
		return NULL;
	}
	return o;
}

static const char *jstr(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (o && json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string))
		return json_object_get_string(v);
	return "";
}

const char *hp_rep_env_str(const hp_rep_t *r, const char *key)
{
	return jstr(r->env, key);
}

/* context.work of results.json into r->work. -1 when out of memory. */
static int load_work(hp_rep_t *r)
{
	struct json_object *ctx, *arr;

	if (!r->results || !json_object_object_get_ex(r->results, "context", &ctx) ||
	    !json_object_object_get_ex(ctx, "work", &arr) || !json_object_is_type(arr, json_type_array))
		return 0;
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		struct json_object *w = json_object_array_get_idx(arr, i);

		/* a field too long for hp_work_t is left out (ENAMETOOLONG):
		 * that variant's ratio then reads "work not stated" */
		if (hp_results_set_work(&r->work, jstr(w, "suite"), jstr(w, "case"), jstr(w, "variant"),
					jstr(w, "work"), jstr(w, "work_class")) < 0 && errno == ENOMEM)
			return -1;
	}
	return 0;
}

typedef struct sortent {
	size_t k[3], order;
} sortent_t;

static sortent_t *sort_keys;

static int cmp_bench(const void *pa, const void *pb)
{
	const sortent_t *a = &sort_keys[((const hp_rep_bench_t *)pa)->vals->order];
	const sortent_t *b = &sort_keys[((const hp_rep_bench_t *)pb)->vals->order];

	for (int i = 0; i < 3; i++)
		if (a->k[i] != b->k[i])
			return a->k[i] < b->k[i] ? -1 : 1;
	return a->order < b->order ? -1 : a->order > b->order;
}

/* Sorts r->b by suite, case, (param, threads) in first-seen order and
 * builds the groups. -1 when out of memory. */
static int sort_and_group(hp_rep_t *r)
{
	keymap_t m[3];
	char key[HP_BENCH_KEY_MAX];
	int rc = 0;

	sort_keys = calloc(r->n + 1, sizeof(*sort_keys));
	r->g = calloc(r->n + 1, sizeof(*r->g));
	if (!sort_keys || !r->g)
		rc = -1;
	for (int i = 0; i < 3; i++)
		keymap_init(&m[i]);
	for (size_t i = 0; i < r->n && !rc; i++) {
		const hp_rep_bench_t *b = &r->b[i];

		snprintf(key, sizeof(key), "%s", b->vals->suite);
		sort_keys[b->vals->order].k[0] = keymap_id(&m[0], key);
		snprintf(key, sizeof(key), "%s\x1f%s", b->vals->suite, b->vals->case_);
		sort_keys[b->vals->order].k[1] = keymap_id(&m[1], key);
		snprintf(key, sizeof(key), "%s\x1f%s\x1f%s\x1f%d", b->vals->suite, b->vals->case_,
			 b->vals->param, b->vals->threads);
		sort_keys[b->vals->order].k[2] = keymap_id(&m[2], key);
		sort_keys[b->vals->order].order = b->vals->order;
		for (int k = 0; k < 3; k++)
			if (sort_keys[b->vals->order].k[k] == KEYMAP_NONE)
				rc = -1;
	}
	if (!rc) {
		qsort(r->b, r->n, sizeof(*r->b), cmp_bench);
		for (size_t i = 0; i < r->n;) {
			size_t j = i;
			hp_rep_group_t *g = &r->g[r->ng++];

			while (j < r->n && sort_keys[r->b[j].vals->order].k[2] == sort_keys[r->b[i].vals->order].k[2])
				j++;
			g->first = i;
			g->n = j - i;
			g->ref = -1;
			for (size_t k = i; k < j; k++)
				if (r->b[k].vals->n && !strcmp(r->b[k].vals->kind, "impl")) {
					g->ref = (long)k;
					break;
				}
			i = j;
		}
	}
	for (int i = 0; i < 3; i++)
		keymap_free(&m[i]);
	free(sort_keys);
	sort_keys = NULL;
	return rc;
}

/* One hp_rep_bench_t per benchmark of the set, in the run's order. */
static int rep_benches(hp_rep_t *r)
{
	r->b = calloc(r->set.n + 1, sizeof(*r->b));
	if (!r->b)
		return -1;
	for (size_t i = 0; i < r->set.n; i++)
		r->b[i].vals = &r->set.b[i];
	r->n = r->set.n;
	return 0;
}

/* Median, min, max, CV and the interval of each benchmark. */
static int bench_figures(hp_rep_t *r)
{
	for (size_t i = 0; i < r->n; i++) {
		hp_rep_bench_t *b = &r->b[i];
		double *tmp = malloc((b->vals->n ? b->vals->n : 1) * sizeof(*tmp));
		char key[HP_BENCH_KEY_MAX + 64];
		int c;

		if (!tmp)
			return -1;
		b->work = hp_results_find_work(&r->work, b->vals->suite, b->vals->case_, b->vals->variant);
		if (!b->vals->n) {
			free(tmp);
			b->med = b->min = b->max = NAN;
			continue;
		}
		b->cv = hp_cv(b->vals->v, b->vals->n);
		memcpy(tmp, b->vals->v, b->vals->n * sizeof(*tmp));
		b->med = hp_median(tmp, b->vals->n);          /* sorts tmp */
		b->min = tmp[0];
		b->max = tmp[b->vals->n - 1];
		free(tmp);
		hp_bench_vals_key(key, sizeof(key), b->vals);
		c = hp_median_ci(b->vals->v, b->vals->n, key, &b->lo, &b->hi);
		if (c < 0)
			return -1;
		b->has_ci = c == 0;
	}
	return 0;
}

int hp_rep_load(const char *dir, hp_rep_t *r, const char *cmd)
{
	char *csv = NULL, *env = NULL, *res = NULL, err[1024];
	struct stat st;
	int rc = 2;

	memset(r, 0, sizeof(*r));
	hp_bench_set_init(&r->set, HP_BSET_PRIMARY);
	hp_results_init(&r->work);
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		fprintf(stderr, "hotpath %s: %s is not a results folder (%s)\n", cmd, dir,
			stat(dir, &st) != 0 ? strerror(errno) : "not a folder");
		return 2;
	}
	if (asprintf(&csv, "%s/results.csv", dir) < 0 || asprintf(&env, "%s/env.json", dir) < 0 ||
	    asprintf(&res, "%s/results.json", dir) < 0) {
		rc = 99;
		goto oom;
	}
	if (!is_file(csv) || !is_file(env)) {
		fprintf(stderr, "hotpath %s: %s is not a results folder (no %s)\n", cmd, dir,
			!is_file(csv) ? "results.csv" : "env.json");
		goto out;
	}
	r->env = load_json(env, cmd);
	if (!r->env)
		goto out;
	/* results.json holds the work and what did not run; a folder
	 * without it (made by hand) still gets its tables */
	if (is_file(res)) {
		r->results = load_json(res, cmd);
		if (!r->results)
			goto out;
	}
	if (hp_read_csv_each(csv, hp_bench_set_add_cb, &r->set, err, sizeof(err)) < 0) {
		if (strstr(err, "out of memory")) {
			rc = 99;
			goto oom;
		}
		fprintf(stderr, "hotpath %s: %s\n", cmd, err);
		goto out;
	}
	if (rep_benches(r) < 0 || load_work(r) < 0 || bench_figures(r) < 0 || sort_and_group(r) < 0) {
		rc = 99;
		goto oom;
	}
	rc = 0;
	goto out;
oom:
	fprintf(stderr, "hotpath %s: out of memory\n", cmd);
out:
	free(csv);
	free(env);
	free(res);
	if (rc)
		hp_rep_free(r);
	return rc;
}

void hp_rep_free(hp_rep_t *r)
{
	free(r->b);
	free(r->g);
	hp_bench_set_free(&r->set);
	hp_results_free(&r->work);
	json_object_put(r->env);
	json_object_put(r->results);
	memset(r, 0, sizeof(*r));
}

int hp_rep_ratio(const hp_rep_t *r, const hp_rep_group_t *g, const hp_rep_bench_t *b,
		 double *ratio, char *why, size_t whylen)
{
	const hp_rep_bench_t *ref = g->ref >= 0 ? &r->b[g->ref] : NULL;

	why[0] = '\0';
	if (!ref || !b->vals->n || ref->med == 0 || strcmp(b->vals->metric, ref->vals->metric) ||
	    strcmp(b->vals->unit, ref->vals->unit))
		return 0;
	if (!hp_work_comparable(b->work, ref->work)) {
		snprintf(why, whylen, "%s vs %s: not equal work",
			 b->work && b->work->work_class[0] ? b->work->work_class : "work not stated",
			 ref->work->work_class);
		return 0;
	}
	*ratio = b->med / ref->med;
	return 1;
}

void hp_rep_fmt(char *buf, size_t len, double v)
{
	if (isfinite(v) && fabs(v) >= 1000 && fabs(v) < 1e15)
		snprintf(buf, len, "%.0f", v);
	else
		snprintf(buf, len, "%.4g", v);
}

/* ==================================================================== */
/* HTML                                                                 */
/* ==================================================================== */

/* Text and attribute values: the five markup characters as entities, a
 * control byte (never valid in a page) as U+FFFD. */
static void esc(FILE *f, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		switch (c) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&#39;", f); break;
		default:
			if ((c < 0x20 && c != '\t' && c != '\n') || c == 0x7f)
				fputs("&#xFFFD;", f);
			else
				fputc(c, f);
		}
	}
}

static const char page_css[] =
	"body{font:15px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;color:#222;"
	"max-width:72rem;margin:0 auto;padding:0 1rem 3rem}\n"
	"h1{font-size:1.6rem}h2{border-bottom:2px solid #ccd;padding-bottom:.2rem;margin-top:2.2rem}"
	"h3{margin:1.6rem 0 .4rem}\n"
	"table{border-collapse:collapse;margin:.4rem 0 1rem;font-variant-numeric:tabular-nums}\n"
	"th,td{padding:.2rem .6rem;border-bottom:1px solid #dde;text-align:left;vertical-align:top}\n"
	"td.n{text-align:right;white-space:nowrap}\n"
	"table.sortable th{cursor:pointer;background:#f2f3f8;user-select:none}\n"
	"table.sortable th[data-dir=a]::after{content:' \\25B2'}"
	"table.sortable th[data-dir=d]::after{content:' \\25BC'}\n"
	"caption{text-align:left;font-weight:600;padding:.2rem 0}\n"
	".wrap{overflow-x:auto}\n"
	".plots{display:grid;grid-template-columns:repeat(auto-fill,minmax(24rem,1fr));gap:.5rem 1.5rem}\n"
	"figure.plot{margin:.5rem 0}figure.plot svg{width:100%;height:auto;display:block}\n"
	"figcaption{font-size:.85rem;color:#555}\n"
	".why{color:#666;font-size:.85rem}.warn li{color:#8a4b00}\n"
	"table.id th{background:none;width:9rem}table.id td{word-break:break-all}\n"
	"nav a{margin-right:.8rem}\n"
	".faster{color:#05701f;font-weight:600}.slower{color:#a0141e;font-weight:600}\n"
	"@media print{body{max-width:none;font-size:10pt}nav{display:none}"
	"table.sortable th::after{content:''!important}"
	"h2{break-after:avoid}table,figure.plot{break-inside:avoid}"
	".plots{grid-template-columns:1fr 1fr}.wrap{overflow:visible}a{color:inherit;text-decoration:none}}\n";

/* The sorting script: a click on a heading sorts the rows by that column,
 * numbers by their data-v value, text otherwise; a second click reverses.
 * It marks <body data-sortable="ready"> once it has run. */
static const char page_js[] =
	"(function(){\n"
	"function key(c){var v=parseFloat(c.getAttribute('data-v'));return isNaN(v)?null:v;}\n"
	"var hs=document.querySelectorAll('table.sortable th');\n"
	"for(var i=0;i<hs.length;i++)hs[i].addEventListener('click',function(){\n"
	" var th=this,t=th.closest('table'),b=t.tBodies[0],ci=th.cellIndex;\n"
	" var d=th.getAttribute('data-dir')==='a'?'d':'a',all=t.querySelectorAll('th');\n"
	" for(var k=0;k<all.length;k++)all[k].removeAttribute('data-dir');\n"
	" th.setAttribute('data-dir',d);\n"
	" var rows=Array.prototype.slice.call(b.rows);\n"
	" rows.sort(function(x,y){var p=x.cells[ci],q=y.cells[ci],u=key(p),w=key(q),c;\n"
	"  if(u!==null&&w!==null)c=u-w;else if(u!==null)c=-1;else if(w!==null)c=1;\n"
	"  else c=p.textContent.localeCompare(q.textContent);return d==='a'?c:-c;});\n"
	" for(var j=0;j<rows.length;j++)b.appendChild(rows[j]);});\n"
	"document.body.setAttribute('data-sortable','ready');\n"
	"})();\n";

static void page_head(FILE *f, const char *title)
{
	fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
	      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>", f);
	esc(f, title);
	fprintf(f, "</title>\n<style>\n%s</style>\n</head>\n<body>\n", page_css);
}

static void page_tail(FILE *f)
{
	fprintf(f, "<script>\n%s</script>\n</body>\n</html>\n", page_js);
}

/* A number cell: the shown text and its exact value for sorting. */
static void num_cell(FILE *f, double v, const char *suffix)
{
	char b[64];

	if (!isfinite(v)) {
		fputs("<td class=\"n\">—</td>", f);
		return;
	}
	hp_rep_fmt(b, sizeof(b), v);
	fprintf(f, "<td class=\"n\" data-v=\"%.17g\">%s", v, b);
	if (suffix && *suffix) {
		fputc(' ', f);
		esc(f, suffix);
	}
	fputs("</td>", f);
}

static void id_row(FILE *f, const char *label, const char *value)
{
	fprintf(f, "<tr><th scope=\"row\">%s</th><td>", label);
	esc(f, value && *value ? value : "unknown");
	fputs("</td></tr>\n", f);
}

/* The run's identity from env.json. */
static void identity(FILE *f, const hp_rep_t *r, const char *dir)
{
	struct json_object *git, *v;
	char buf[160], kern[512];

	fputs("<table class=\"id\" id=\"identity\">\n", f);
	id_row(f, "folder", dir);
	id_row(f, "date", hp_rep_env_str(r, "date"));
	id_row(f, "host", hp_rep_env_str(r, "host"));
	snprintf(kern, sizeof(kern), "%s %s", hp_rep_env_str(r, "kernel_release"),
		 hp_rep_env_str(r, "kernel_version"));
	id_row(f, "kernel", kern);
	id_row(f, "CPU", hp_rep_env_str(r, "cpu_model"));
	buf[0] = '\0';
	if (json_object_object_get_ex(r->env, "git", &git)) {
		struct json_object *d;
		int dirty = json_object_object_get_ex(git, "dirty", &d) && json_object_get_boolean(d);

		snprintf(buf, sizeof(buf), "%s%s", jstr(git, "revision"), dirty ? " (dirty)" : "");
	}
	id_row(f, "commit", buf);
	id_row(f, "command line", hp_rep_env_str(r, "command_line"));
	buf[0] = '\0';
	if (json_object_object_get_ex(r->env, "seed", &v) && json_object_is_type(v, json_type_int))
		snprintf(buf, sizeof(buf), "%llu", (unsigned long long)json_object_get_uint64(v));
	id_row(f, "seed", buf);
	id_row(f, "profile", hp_rep_env_str(r, "profile"));
	id_row(f, "metric", hp_rep_env_str(r, "metric"));
	buf[0] = '\0';
	if (json_object_object_get_ex(r->env, "repetitions", &v) && json_object_is_type(v, json_type_int))
		snprintf(buf, sizeof(buf), "%d", json_object_get_int(v));
	id_row(f, "repetitions", buf);
	id_row(f, "status", hp_rep_env_str(r, "status"));
	fputs("</table>\n", f);
}

static void warnings(FILE *f, const hp_rep_t *r)
{
	struct json_object *w;
	size_t n = 0;

	fputs("<section id=\"warnings\">\n<h2>Noise warnings</h2>\n", f);
	if (json_object_object_get_ex(r->env, "warnings", &w) && json_object_is_type(w, json_type_array))
		n = json_object_array_length(w);
	if (!n)
		fputs("<p>env.json lists no noise source.</p>\n", f);
	else {
		fputs("<ul class=\"warn\">\n", f);
		for (size_t i = 0; i < n; i++) {
			struct json_object *x = json_object_array_get_idx(w, i);

			fputs("<li>", f);
			esc(f, json_object_is_type(x, json_type_string) ? json_object_get_string(x) :
			    json_object_to_json_string(x));
			fputs("</li>\n", f);
		}
		fputs("</ul>\n", f);
	}
	fputs("</section>\n", f);
}

/* One group's table: a row per variant. */
static void group_table(FILE *f, const hp_rep_t *r, const hp_rep_group_t *g)
{
	const hp_rep_bench_t *b0 = &r->b[g->first];
	const hp_rep_bench_t *ref = g->ref >= 0 ? &r->b[g->ref] : NULL;
	const hp_bench_vals_t *head = ref ? ref->vals : b0->vals;
	const char *unit = head->unit, *metric = head->metric;

	fputs("<div class=\"wrap\"><table class=\"bench sortable\" data-case=\"", f);
	esc(f, b0->vals->case_);
	fputs("\" data-param=\"", f);
	esc(f, b0->vals->param);
	fprintf(f, "\" data-threads=\"%d\">\n<caption>", b0->vals->threads);
	if (b0->vals->param[0] && strcmp(b0->vals->param, "-")) {
		fputs("param ", f);
		esc(f, b0->vals->param);
		fputs(", ", f);
	}
	fprintf(f, "%d thread%s: ", b0->vals->threads, b0->vals->threads == 1 ? "" : "s");
	esc(f, metric);
	fputs(" (", f);
	esc(f, unit);
	fputs(")</caption>\n<thead><tr><th>variant</th><th>kind</th><th>n</th><th>median</th>"
	      "<th>min</th><th>max</th><th>CV</th><th>95% interval of the median</th>"
	      "<th>ratio to ", f);
	esc(f, ref ? ref->vals->variant : "impl");
	fputs("</th></tr></thead>\n<tbody>\n", f);
	for (size_t k = g->first; k < g->first + g->n; k++) {
		const hp_rep_bench_t *b = &r->b[k];
		const char *sfx = strcmp(b->vals->unit, unit) ? b->vals->unit : NULL;
		char why[256], lo[64], hi[64];
		double q;

		fputs("<tr data-variant=\"", f);
		esc(f, b->vals->variant);
		fputs("\"><td>", f);
		esc(f, b->vals->variant);
		if (b->work && b->work->work_class[0]) {
			fputs(" <span class=\"why\">[", f);
			esc(f, b->work->work_class);
			fputs("]</span>", f);
		}
		fputs("</td><td>", f);
		esc(f, b->vals->kind);
		fprintf(f, "</td><td class=\"n\" data-v=\"%zu\">%zu</td>", b->vals->n, b->vals->n);
		num_cell(f, b->med, sfx);
		num_cell(f, b->min, NULL);
		num_cell(f, b->max, NULL);
		if (b->vals->n)
			fprintf(f, "<td class=\"n\" data-v=\"%.17g\">%.2g%%</td>", b->cv * 100, b->cv * 100);
		else
			fputs("<td class=\"n\">—</td>", f);
		if (b->has_ci) {
			hp_rep_fmt(lo, sizeof(lo), b->lo);
			hp_rep_fmt(hi, sizeof(hi), b->hi);
			fprintf(f, "<td class=\"n\" data-v=\"%.17g\">[%s, %s]</td>", b->lo, lo, hi);
		} else {
			fprintf(f, "<td class=\"n\">— <span class=\"why\">(%zu rep%s, %d needed)</span></td>",
				b->vals->n, b->vals->n == 1 ? "" : "s", HP_CMP_MIN_REPS);
		}
		if (hp_rep_ratio(r, g, b, &q, why, sizeof(why))) {
			fprintf(f, "<td class=\"n\" data-v=\"%.17g\">%.3gx</td>", q, q);
		} else {
			fputs("<td>—", f);
			if (why[0]) {
				fputs(" <span class=\"why\">(", f);
				esc(f, why);
				fputs(")</span>", f);
			}
			fputs("</td>", f);
		}
		fputs("</tr>\n", f);
	}
	fputs("</tbody></table></div>\n", f);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names of the SVG files in DIR/plots, sorted; NULL-terminated (NULL
 * on ENOMEM). */
static char **list_svgs(const char *dir, size_t *count)
{
	char *pd = NULL, **v = calloc(1, sizeof(*v));
	size_t n = 0;
	DIR *d;
	struct dirent *e;

	*count = 0;
	if (!v || asprintf(&pd, "%s/plots", dir) < 0) {
		free(v);
		return NULL;
	}
	d = opendir(pd);
	free(pd);
	while (d && (e = readdir(d))) {
		size_t l = strlen(e->d_name);
		char **nv;

		if (l < 5 || strcmp(e->d_name + l - 4, ".svg") || e->d_name[0] == '.')
			continue;
		nv = realloc(v, (n + 2) * sizeof(*v));
		if (!nv)
			break;
		v = nv;
		v[n] = strdup(e->d_name);
		if (!v[n])
			break;
		v[++n] = NULL;
	}
	if (d)
		closedir(d);
	qsort(v, n, sizeof(*v), cmp_str);
	*count = n;
	return v;
}

/* The suite a plot belongs to: the longest suite name that, followed by
 * '-', begins the file name. */
static const char *plot_suite(const hp_rep_t *r, const char *file)
{
	const char *best = NULL;

	for (size_t i = 0; i < r->n; i++) {
		size_t l = strlen(r->b[i].vals->suite);

		if (!strncmp(file, r->b[i].vals->suite, l) && file[l] == '-' && (!best || l > strlen(best)))
			best = r->b[i].vals->suite;
	}
	return best;
}

/* One plot, its <svg> element copied in (the XML prolog left out). A file
 * that is not an SVG drawing, or that carries a script, is named instead. */
static void inline_plot(FILE *f, const char *dir, const char *file)
{
	char *path = NULL, *data = NULL, *svg = NULL;
	size_t len = 0;
	const char *why = NULL;

	if (asprintf(&path, "%s/plots/%s", dir, file) < 0)
		path = NULL;
	if (path)
		data = hp_slurp(path, &len);
	if (!data) {
		why = "unreadable";
	} else {
		char *z = realloc(data, len + 1);

		if (!z) {
			why = "out of memory";
		} else {
			data = z;
			data[len] = '\0';
			svg = strstr(data, "<svg");
			if (!svg || strlen(data) != len)
				why = "not an SVG drawing";
			else if (strcasestr(data, "<script") || strcasestr(data, "<foreignObject"))
				why = "holds a script or foreign content; not inlined";
		}
	}
	fputs("<figure class=\"plot\" data-plot=\"", f);
	esc(f, file);
	fputs("\">\n", f);
	if (!why && svg)
		fwrite(svg, 1, len - (size_t)(svg - data), f);
	fputs("\n<figcaption>plots/", f);
	esc(f, file);
	if (why) {
		fputs(": ", f);
		esc(f, why);
	}
	fputs("</figcaption>\n</figure>\n", f);
	free(data);
	free(path);
}

/* What did not run: results.json's entries with error_occurred. */
static void not_run(FILE *f, const hp_rep_t *r)
{
	struct json_object *arr;
	size_t n = 0;

	fputs("<section id=\"not-run\">\n<h2>Did not run</h2>\n", f);
	if (!r->results) {
		fputs("<p>The folder has no results.json: what did not run is unknown.</p>\n</section>\n", f);
		return;
	}
	if (json_object_object_get_ex(r->results, "benchmarks", &arr) &&
	    json_object_is_type(arr, json_type_array))
		for (size_t i = 0; i < json_object_array_length(arr); i++) {
			struct json_object *e = json_object_array_get_idx(arr, i), *x;

			if (!json_object_object_get_ex(e, "error_occurred", &x) || !json_object_get_boolean(x))
				continue;
			if (!n++)
				fputs("<div class=\"wrap\"><table class=\"sortable\" id=\"not-run-table\">\n"
				      "<thead><tr><th>benchmark</th><th>why</th></tr></thead>\n<tbody>\n", f);
			fputs("<tr><td>", f);
			esc(f, jstr(e, "name"));
			fputs("</td><td>", f);
			esc(f, jstr(e, "error_message"));
			fputs("</td></tr>\n", f);
		}
	if (n)
		fputs("</tbody></table></div>\n", f);
	else
		fputs("<p>Every benchmark ran.</p>\n", f);
	fputs("</section>\n", f);
}

/* The work lines of a case (groups gi..ge), as summary.md lists them. */
static void case_work(FILE *f, const hp_rep_t *r, size_t gi, size_t ge)
{
	int any = 0;

	for (size_t k = r->g[gi].first; k < r->g[ge - 1].first + r->g[ge - 1].n; k++) {
		const hp_rep_bench_t *b = &r->b[k];
		size_t p;

		if (!b->work)
			continue;
		for (p = r->g[gi].first; p < k && strcmp(r->b[p].vals->variant, b->vals->variant); p++)
			;
		if (p < k)
			continue;
		if (!any)
			fputs("<ul class=\"work\">\n", f);
		any = 1;
		fputs("<li><b>", f);
		esc(f, b->vals->variant);
		fputs("</b>", f);
		if (b->work->work_class[0]) {
			fputs(" [", f);
			esc(f, b->work->work_class);
			fputc(']', f);
		}
		fputs(": ", f);
		esc(f, b->work->work[0] ? b->work->work : "(not described)");
		fputs("</li>\n", f);
	}
	if (any)
		fputs("</ul>\n<p class=\"why\">Ratios only between variants of equal work class.</p>\n", f);
}

static int same_case(const hp_rep_bench_t *a, const hp_rep_bench_t *b)
{
	return !strcmp(a->vals->suite, b->vals->suite) && !strcmp(a->vals->case_, b->vals->case_);
}

static void report_body(FILE *f, const hp_rep_t *r, const char *dir)
{
	size_t nsvg, nsuite = 0;
	char **svgs = list_svgs(dir, &nsvg);

	fputs("<header>\n<h1>hotpath report</h1>\n", f);
	identity(f, r, dir);
	fputs("</header>\n<nav>", f);
	for (size_t i = 0; i < r->n; i++)
		if (!i || strcmp(r->b[i].vals->suite, r->b[i - 1].vals->suite)) {
			fprintf(f, "<a href=\"#suite-%zu\">", nsuite++);
			esc(f, r->b[i].vals->suite);
			fputs("</a>", f);
		}
	fputs("<a href=\"#not-run\">did not run</a></nav>\n", f);
	warnings(f, r);
	nsuite = 0;
	for (size_t gi = 0; gi < r->ng;) {
		const hp_rep_bench_t *s = &r->b[r->g[gi].first];
		size_t ge = gi;

		while (ge < r->ng && !strcmp(r->b[r->g[ge].first].vals->suite, s->vals->suite))
			ge++;
		fprintf(f, "<section class=\"suite\" id=\"suite-%zu\" data-suite=\"", nsuite++);
		esc(f, s->vals->suite);
		fputs("\">\n<h2>", f);
		esc(f, s->vals->suite);
		fputs("</h2>\n", f);
		fputs("<div class=\"plots\">\n", f);
		for (size_t p = 0; svgs && p < nsvg; p++) {
			const char *ps = plot_suite(r, svgs[p]);

			if (ps && !strcmp(ps, s->vals->suite))
				inline_plot(f, dir, svgs[p]);
		}
		fputs("</div>\n", f);
		for (size_t ci = gi; ci < ge;) {
			size_t ce = ci;

			while (ce < ge && same_case(&r->b[r->g[ce].first], &r->b[r->g[ci].first]))
				ce++;
			fputs("<section class=\"case\" data-case=\"", f);
			esc(f, r->b[r->g[ci].first].vals->case_);
			fputs("\">\n<h3>", f);
			esc(f, r->b[r->g[ci].first].vals->case_);
			fputs("</h3>\n", f);
			case_work(f, r, ci, ce);
			for (size_t k = ci; k < ce; k++)
				group_table(f, r, &r->g[k]);
			fputs("</section>\n", f);
			ci = ce;
		}
		fputs("</section>\n", f);
		gi = ge;
	}
	/* plots of no suite in the folder (a suite with no rows left) */
	for (size_t p = 0, any = 0; svgs && p < nsvg; p++) {
		if (!plot_suite(r, svgs[p])) {
			if (!any++)
				fputs("<section id=\"other-plots\">\n<h2>Other plots</h2>\n<div class=\"plots\">\n", f);
			inline_plot(f, dir, svgs[p]);
		}
		if (p + 1 == nsvg && any)
			fputs("</div>\n</section>\n", f);
	}
	not_run(f, r);
	fputs("<footer><p class=\"why\">Median, min, max and CV of each benchmark's primary metric "
	      "over its repetitions; the 95% interval of the median is a seeded percentile bootstrap "
	      "(as hotpath compare draws it); a ratio is the median over the reference's (the first "
	      "impl variant of the table), given only where both do equal work.</p></footer>\n", f);
	for (size_t p = 0; svgs && p < nsvg; p++)
		free(svgs[p]);
	free(svgs);
}

/* Commits the page to path: 0, or 1 after a message naming the file. */
static int commit_page(FILE *f, char **buf, size_t *len, const char *path, const char *cmd)
{
	if (hp_memstream_commit(f, buf, len, path) < 0) {
		fprintf(stderr, "hotpath %s: cannot write %s: %s\n", cmd, path, strerror(errno));
		return 1;
	}
	return 0;
}

int hp_report_dir(const char *dir)
{
	hp_rep_t r;
	char *path = NULL, *buf = NULL, title[256];
	size_t len = 0;
	FILE *f;
	int rc = hp_rep_load(dir, &r, "report");

	if (rc)
		return rc;
	if (asprintf(&path, "%s/report.html", dir) < 0 || !(f = open_memstream(&buf, &len))) {
		fprintf(stderr, "hotpath report: out of memory\n");
		free(path);
		hp_rep_free(&r);
		return 99;
	}
	snprintf(title, sizeof(title), "hotpath report: %s %s", hp_rep_env_str(&r, "host"),
		 hp_rep_env_str(&r, "date"));
	page_head(f, title);
	report_body(f, &r, dir);
	page_tail(f);
	rc = commit_page(f, &buf, &len, path, "report");
	free(path);
	hp_rep_free(&r);
	return rc;
}

/* ==================================================================== */
/* The comparison page                                                  */
/* ==================================================================== */

static const hp_rep_bench_t *find_bench(const hp_rep_t *r, const char *key)
{
	char k[HP_BENCH_KEY_MAX + 64];

	for (size_t i = 0; i < r->n; i++) {
		const hp_rep_bench_t *b = &r->b[i];

		hp_bench_vals_key(k, sizeof(k), b->vals);
		if (!strcmp(k, key))
			return b;
	}
	return NULL;
}

/* Both sides' values as dots on one axis, medians as bars: A above, B
 * below. */
static void strip_svg(FILE *f, const hp_rep_bench_t *a, const hp_rep_bench_t *b)
{
	const double W = 320, H = 46, L = 18, R = 302;
	double lo = INFINITY, hi = -INFINITY;
	const hp_rep_bench_t *s[2] = { a, b };
	static const char *col[2] = { "#1f5fbf", "#d9661f" };

	for (int k = 0; k < 2; k++)
		for (size_t i = 0; i < s[k]->vals->n; i++) {
			lo = fmin(lo, s[k]->vals->v[i]);
			hi = fmax(hi, s[k]->vals->v[i]);
		}
	if (!(hi > lo)) {
		lo -= 1;
		hi += 1;
	}
	fprintf(f, "<svg class=\"dist\" width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" "
		"role=\"img\" xmlns=\"http://www.w3.org/2000/svg\">"
		"<line x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\" stroke=\"#999\"/>",
		W, H, W, H, L, H / 2, R, H / 2);
	for (int k = 0; k < 2; k++) {
		double y = k ? 32 : 14;

		fprintf(f, "<text x=\"2\" y=\"%.0f\" font-size=\"10\" fill=\"%s\">%c</text>", y + 4, col[k],
			k ? 'B' : 'A');
		for (size_t i = 0; i < s[k]->vals->n; i++)
			fprintf(f, "<circle cx=\"%.1f\" cy=\"%.0f\" r=\"3\" fill=\"%s\" fill-opacity=\"0.6\"/>",
				L + (R - L) * (s[k]->vals->v[i] - lo) / (hi - lo), y, col[k]);
		if (isfinite(s[k]->med))
			fprintf(f, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.0f\" y2=\"%.0f\" stroke=\"%s\" "
				"stroke-width=\"2\"/>", L + (R - L) * (s[k]->med - lo) / (hi - lo),
				L + (R - L) * (s[k]->med - lo) / (hi - lo), y - 7, y + 7, col[k]);
	}
	fputs("</svg>", f);
}

static void compare_body(FILE *f, const char *a, const char *b, const hp_rep_t *ra,
			 const hp_rep_t *rb, const hp_cmp_row_t *rows, long n)
{
	size_t cnt[3] = { 0 }, und = 0;

	fputs("<header>\n<h1>hotpath compare</h1>\n<table class=\"id\" id=\"identity\">\n", f);
	id_row(f, "A", a);
	id_row(f, "A host", hp_rep_env_str(ra, "host"));
	id_row(f, "A date", hp_rep_env_str(ra, "date"));
	id_row(f, "A command line", hp_rep_env_str(ra, "command_line"));
	id_row(f, "B", b);
	id_row(f, "B host", hp_rep_env_str(rb, "host"));
	id_row(f, "B date", hp_rep_env_str(rb, "date"));
	id_row(f, "B command line", hp_rep_env_str(rb, "command_line"));
	fputs("</table>\n</header>\n", f);
	fprintf(f, "<p>ratio = median(B) / median(A) of the primary metric; below 1 means B is faster. "
		"95%% percentile bootstrap interval, seed %#llx (the numbers <code>hotpath compare</code> "
		"prints). Dots: each repetition; bars: medians.</p>\n",
		(unsigned long long)HP_CMP_DIRS_SEED);
	fputs("<div class=\"wrap\"><table class=\"sortable\" id=\"compare\">\n<thead><tr><th>benchmark"
	      "</th><th>A median</th><th>B median</th><th>ratio</th><th>95% interval</th><th>verdict"
	      "</th><th>distributions</th></tr></thead>\n<tbody>\n", f);
	for (long i = 0; i < n; i++) {
		const hp_cmp_row_t *x = &rows[i];
		const hp_rep_bench_t *ba = find_bench(ra, x->key), *bb = find_bench(rb, x->key);
		int few = x->na < HP_CMP_MIN_REPS || x->nb < HP_CMP_MIN_REPS;
		int det = ba && !strcmp(ba->vals->metric, "instructions");
		const char *verdict = x->verdict == HP_CMP_FASTER ? "faster" :
				      x->verdict == HP_CMP_SLOWER ? "slower" : "same";

		if (few && !det) {
			verdict = "undecided (too few reps)";
			und++;
		} else {
			cnt[x->verdict]++;
		}
		fputs("<tr><td>", f);
		esc(f, x->key);
		fputs("</td>", f);
		num_cell(f, x->median_a, ba ? ba->vals->unit : "");
		num_cell(f, x->median_b, bb ? bb->vals->unit : "");
		fprintf(f, "<td class=\"n\" data-v=\"%.17g\">%.3f</td>", x->ratio, x->ratio);
		fprintf(f, "<td class=\"n\" data-v=\"%.17g\">[%.3f, %.3f]</td>", x->lo, x->lo, x->hi);
		fprintf(f, "<td class=\"%s\">%s</td><td>", verdict, verdict);
		if (ba && bb)
			strip_svg(f, ba, bb);
		fputs("</td></tr>\n", f);
	}
	fprintf(f, "</tbody></table></div>\n<p id=\"tally\">%ld compared: %zu faster, %zu slower, "
		"%zu same, %zu undecided.</p>\n", n, cnt[HP_CMP_FASTER], cnt[HP_CMP_SLOWER],
		cnt[HP_CMP_SAME], und);
}

int hp_report_compare(const char *a, const char *b)
{
	hp_rep_t ra, rb;
	hp_cmp_row_t *rows = NULL;
	char *path = NULL, *buf = NULL;
	size_t len = 0;
	long n = -1;
	FILE *f = NULL;
	int rc = hp_rep_load(a, &ra, "compare");

	if (rc)
		return rc;
	rc = hp_rep_load(b, &rb, "compare");
	if (rc) {
		hp_rep_free(&ra);
		return rc;
	}
	n = hp_compare_sets(&ra.set, &rb.set, HP_CMP_DIRS_SEED, &rows);
	if (n < 0 || asprintf(&path, "%s/compare.html", b) < 0 || !(f = open_memstream(&buf, &len))) {
		fprintf(stderr, "hotpath compare: out of memory\n");
		rc = 99;
		goto out;
	}
	page_head(f, "hotpath compare");
	compare_body(f, a, b, &ra, &rb, rows, n);
	page_tail(f);
	rc = commit_page(f, &buf, &len, path, "compare");
	if (!rc)
		fprintf(stderr, "hotpath compare: wrote %s\n", path);
out:
	free(rows);
	free(path);
	hp_rep_free(&ra);
	hp_rep_free(&rb);
	return rc;
}
