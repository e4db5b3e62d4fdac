/* merge.c — `hotpath merge [--label L]... --out M DIR...`: several results
 * folders (hosts, kernels, commits) in one merged folder.
 *
 * M holds (docs/merge.md):
 *   merged.json        the manifest: results_format 2, the runs sorted by
 *                      name with their host, kernel, commit, status, rows
 *   results.csv        HP_CSV_HEADER_RUN: every source row, a run column last
 *   results.json       Google Benchmark shape: context.runs (each run's
 *                      env), benchmarks named <run>/suite/case/...
 *   summary.md         the runs, then per benchmark the median of its
 *                      primary metric in each run
 *   runs/<run>/env.json  each source's env.json, byte for byte
 * A run is named by its --label, else <host>_<kernel release>_<commit>,
 * with _<source folder name> added to names two folders share.
 * The runs are sorted by name and nothing in M depends on the order of the
 * arguments or where the folders lie (a source is named by its folder's last
 * component), so any order of the same folders gives the same bytes. All is
 * written into a temporary sibling folder renamed to M at the end; on any
 * error that folder is removed and M is untouched.
 */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <ftw.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "hp.h"
#include "keymap.h"
#include "merge.h"
#include "record.h"

#define MERGE_MAX_RUNS 4096

typedef struct mrun {
	char name[HP_RUN_NAME_MAX + 1];
	const char *dir;                /* as given */
	char *real;                     /* realpath, to refuse a folder given twice */
	char source[256];               /* the folder's last path component */
	char host[128], kernel[128], commit[64], status[32];
	int format;
	char *env_text;                 /* env.json, byte for byte */
	size_t env_len;
	struct json_object *env;
	size_t rows;
} mrun_t;

/* One benchmark:metric of the summary: its median in each run (NAN where
 * the run lacks it). */
typedef struct mrow {
	char unit[24];
	double *med;
} mrow_t;

typedef struct merge {
	mrun_t *runs;
	size_t n;
	keymap_t keys;                  /* "suite/case/variant[/param]/threads:N:metric" */
	mrow_t *rows;
	size_t rcap;
	/* per run while streaming: the primary values of each key */
	keymap_t cur;
	double **cv;
	size_t *cn, *ccap, curcap;
	char (*cunit)[24];
	FILE *csv;
	const char *run;
	int oom;
} merge_t;

int hp_is_merged_dir(const char *dir)
{
	char p[PATH_MAX];
	struct stat st;

	if ((size_t)snprintf(p, sizeof p, "%s/merged.json", dir) >= sizeof p)
		return 0;
	return stat(p, &st) == 0;
}

static int is_file(const char *dir, const char *name)
{
	char p[PATH_MAX];
	struct stat st;

	snprintf(p, sizeof p, "%s/%s", dir, name);
	return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

static int bad(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int bad(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("hotpath merge: ", stderr);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return HP_EXIT_USAGE;
}

/* Bytes of s outside a run name's alphabet become '_'; appended to dst. */
static void name_part(char *dst, size_t len, const char *s)
{
	size_t o = strlen(dst);

	for (; *s && o + 1 < len; s++) {
		char c = *s;

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '+' || c == '-'))
			c = '_';
		dst[o++] = c;
	}
	dst[o] = '\0';
}

static const char *jstr(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (o && json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string))
		return json_object_get_string(v);
	return NULL;
}

/* Reads what merge needs of one source folder. 0, or an exit code after a
 * message. */
static int load_run(mrun_t *r)
{
	char p[PATH_MAX];
	struct stat st;
	struct json_object *v, *git;
	const char *s;

	if (stat(r->dir, &st) != 0)
		return bad("%s: %s (expected a results folder)", r->dir, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return bad("%s is not a folder (expected a results folder)", r->dir);
	if (hp_is_merged_dir(r->dir))
		return bad("%s is itself a merged folder (results format %d, it has merged.json): merge "
			   "the run folders it was made from instead", r->dir, HP_RESULTS_FORMAT_MERGED);
	if (!is_file(r->dir, "results.csv") || !is_file(r->dir, "env.json") ||
	    !is_file(r->dir, "results.json"))
		return bad("%s is not a results folder (it needs results.csv, results.json and env.json)",
			   r->dir);
	r->real = realpath(r->dir, NULL);
	if (!r->real)
		return bad("%s: %s", r->dir, strerror(errno));
	s = strrchr(r->real, '/');
	hp_strlcpy(r->source, s && s[1] ? s + 1 : r->real, sizeof r->source);
	snprintf(p, sizeof p, "%s/env.json", r->dir);
	r->env_text = hp_slurp(p, &r->env_len);
	if (!r->env_text)
		return bad("%s: cannot read: %s", p, strerror(errno));
	{
		struct json_tokener *tok = json_tokener_new();

		if (!tok)
			return HP_EXIT_INTERNAL;
		r->env = json_tokener_parse_ex(tok, r->env_text, (int)r->env_len);
		if (!r->env || json_tokener_get_error(tok) != json_tokener_success ||
		    tok->char_offset != (int)r->env_len || !json_object_is_type(r->env, json_type_object)) {
			/* trailing whitespace is what the writer leaves */
			int tail_ok = r->env && json_object_is_type(r->env, json_type_object);

			for (size_t i = (size_t)tok->char_offset; tail_ok && i < r->env_len; i++)
				tail_ok = r->env_text[i] == '\n' || r->env_text[i] == ' ';
			if (!tail_ok) {
				enum json_tokener_error e = json_tokener_get_error(tok);

				json_tokener_free(tok);
				return bad("%s: damaged: not one JSON object (%s)", p,
					   e == json_tokener_continue ? "cut short" :
					   e == json_tokener_success ? "another JSON value, or text after it" :
					   json_tokener_error_desc(e));
			}
		}
		json_tokener_free(tok);
	}
	r->format = HP_RESULTS_FORMAT;
	if (json_object_object_get_ex(r->env, "results_format", &v)) {
		if (!json_object_is_type(v, json_type_int))
			return bad("%s: results_format is not an integer", p);
		r->format = json_object_get_int(v);
	}
	hp_strlcpy(r->host, (s = jstr(r->env, "host")) ? s : "unknown-host", sizeof r->host);
	hp_strlcpy(r->kernel, (s = jstr(r->env, "kernel_release")) ? s : "unknown-kernel", sizeof r->kernel);
	s = json_object_object_get_ex(r->env, "git", &git) ? jstr(git, "revision") : NULL;
	hp_strlcpy(r->commit, s ? s : "unknown", 13);
	hp_strlcpy(r->status, (s = jstr(r->env, "status")) ? s : "", sizeof r->status);
	return 0;
}

static int cmp_run(const void *a, const void *b)
{
	return strcmp(((const mrun_t *)a)->name, ((const mrun_t *)b)->name);
}

/* ---- streaming the rows --------------------------------------------- */

static int row_cb(const hp_record_t *x, void *arg)
{
	merge_t *m = arg;
	char key[HP_BENCH_KEY_MAX + 64], name[HP_BENCH_KEY_MAX];
	size_t id;

	hp_csv_write_row(m->csv, x, m->run);
	if (hp_primary_rank(x->metric) >= HP_NPRIMARY)
		return 0;
	hp_bench_name(name, sizeof name, x->suite, x->case_, x->variant, x->param, x->threads);
	snprintf(key, sizeof key, "%s:%s", name, x->metric);
	id = keymap_id(&m->cur, key);
	if (id == KEYMAP_NONE)
		return -1;
	if (id >= m->curcap) {
		size_t nc = m->curcap ? 2 * m->curcap : 64;
		double **cv = realloc(m->cv, nc * sizeof *cv);
		size_t *cn, *cc;
		char (*cu)[24];

		if (!cv)
			return -1;
		m->cv = cv;
		if (!(cn = realloc(m->cn, nc * sizeof *cn)))
			return -1;
		m->cn = cn;
		if (!(cc = realloc(m->ccap, nc * sizeof *cc)))
			return -1;
		m->ccap = cc;
		if (!(cu = realloc(m->cunit, nc * sizeof *cu)))
			return -1;
		m->cunit = cu;
		for (size_t i = m->curcap; i < nc; i++) {
			m->cv[i] = NULL;
			m->cn[i] = m->ccap[i] = 0;
		}
		m->curcap = nc;
	}
	if (m->cn[id] == m->ccap[id]) {
		size_t nc = m->ccap[id] ? 2 * m->ccap[id] : 8;
		double *v = realloc(m->cv[id], nc * sizeof *v);

		if (!v)
			return -1;
		m->cv[id] = v;
		m->ccap[id] = nc;
	}
	if (m->cn[id] == 0)
		hp_strlcpy(m->cunit[id], x->unit, sizeof m->cunit[id]);
	m->cv[id][m->cn[id]++] = x->value;
	return 0;
}

/* The medians of run `ri` into the summary's rows; resets the per-run
 * state. 0, or -1 out of memory. */
static int run_done(merge_t *m, size_t ri)
{
	int rc = 0;

	for (size_t k = 0; k < m->cur.n; k++) {
		size_t id = keymap_id(&m->keys, m->cur.keys[k]);

		if (id == KEYMAP_NONE) {
			rc = -1;
			break;
		}
		if (id >= m->rcap) {
			size_t nc = m->rcap ? 2 * m->rcap : 64;
			mrow_t *r = realloc(m->rows, nc * sizeof *r);

			if (!r) {
				rc = -1;
				break;
			}
			memset(r + m->rcap, 0, (nc - m->rcap) * sizeof *r);
			m->rows = r;
			m->rcap = nc;
		}
		if (!m->rows[id].med) {
			m->rows[id].med = malloc(m->n * sizeof(double));
			if (!m->rows[id].med) {
				rc = -1;
				break;
			}
			for (size_t i = 0; i < m->n; i++)
				m->rows[id].med[i] = NAN;
			hp_strlcpy(m->rows[id].unit, m->cunit[k], sizeof m->rows[id].unit);
		}
		m->rows[id].med[ri] = hp_median(m->cv[k], m->cn[k]);
	}
	for (size_t k = 0; k < m->curcap; k++) {
		free(m->cv[k]);
		m->cv[k] = NULL;
		m->cn[k] = m->ccap[k] = 0;
	}
	keymap_free(&m->cur);
	keymap_init(&m->cur);
	return rc;
}

static int count_cb(const hp_record_t *x, void *arg)
{
	merge_t *m = arg;

	m->runs[0].rows++;      /* runs points at the run being read */
	return row_cb(x, arg);
}

/* ---- the output files ----------------------------------------------- */

/* results.csv goes straight into the temporary folder (renamed whole at
 * the end), so neither the sources nor the output are held in memory. */
static int write_csv(merge_t *m, const char *tmp)
{
	char p[PATH_MAX], src[PATH_MAX], err[1024];
	int rc = 0;
	mrun_t *all = m->runs;

	snprintf(p, sizeof p, "%s/results.csv", tmp);
	m->csv = fopen(p, "w");
	if (!m->csv)
		return bad("cannot write %s: %s", p, strerror(errno)) ? HP_EXIT_FAIL : 0;
	fputs(HP_CSV_HEADER_RUN "\n", m->csv);
	for (size_t i = 0; i < m->n && !rc; i++) {
		snprintf(src, sizeof src, "%s/results.csv", all[i].dir);
		m->run = all[i].name;
		m->runs = &all[i];
		if (hp_read_csv_each(src, count_cb, m, err, sizeof err) < 0)
			rc = strstr(err, "out of memory") ? HP_EXIT_INTERNAL : bad("%s (a damaged folder is never merged)", err);
		m->runs = all;
		if (!rc && run_done(m, i) < 0)
			rc = HP_EXIT_INTERNAL;
	}
	if (fflush(m->csv) != 0 || ferror(m->csv) || fsync(fileno(m->csv)) != 0) {
		if (!rc)
			rc = bad("cannot write %s: %s", p, strerror(errno)) ? HP_EXIT_FAIL : 0;
	}
	if (fclose(m->csv) != 0 && !rc)
		rc = bad("cannot write %s: %s", p, strerror(errno)) ? HP_EXIT_FAIL : 0;
	m->csv = NULL;
	return rc;
}

static int write_env_copies(merge_t *m, const char *tmp)
{
	char p[PATH_MAX];

	snprintf(p, sizeof p, "%s/runs", tmp);
	if (mkdir(p, 0755) < 0)
		return bad("cannot create %s: %s", p, strerror(errno)) ? HP_EXIT_FAIL : 0;
	for (size_t i = 0; i < m->n; i++) {
		snprintf(p, sizeof p, "%s/runs/%s", tmp, m->runs[i].name);
		if (mkdir(p, 0755) < 0)
			return bad("cannot create %s: %s", p, strerror(errno)) ? HP_EXIT_FAIL : 0;
		snprintf(p, sizeof p, "%s/runs/%s/env.json", tmp, m->runs[i].name);
		if (hp_write_atomic(p, m->runs[i].env_text, m->runs[i].env_len) < 0)
			return bad("cannot write %s: %s", p, strerror(errno)) ? HP_EXIT_FAIL : 0;
	}
	return 0;
}

static int write_manifest(merge_t *m, const char *tmp)
{
	char p[PATH_MAX];
	struct json_object *o = json_object_new_object(), *a = json_object_new_array();

	json_object_object_add(o, "results_format", json_object_new_int(HP_RESULTS_FORMAT_MERGED));
	json_object_object_add(o, "source_format", json_object_new_int(HP_RESULTS_FORMAT));
	json_object_object_add(o, "columns", json_object_new_string(HP_CSV_HEADER_RUN));
	for (size_t i = 0; i < m->n; i++) {
		const mrun_t *r = &m->runs[i];
		struct json_object *x = json_object_new_object();

		json_object_object_add(x, "run", json_object_new_string(r->name));
		json_object_object_add(x, "source", json_object_new_string(r->source));
		json_object_object_add(x, "host", json_object_new_string(r->host));
		json_object_object_add(x, "kernel", json_object_new_string(r->kernel));
		json_object_object_add(x, "commit", json_object_new_string(r->commit));
		json_object_object_add(x, "status", json_object_new_string(r->status));
		json_object_object_add(x, "rows", json_object_new_int64((int64_t)r->rows));
		{
			char e[HP_RUN_NAME_MAX + 32];

			snprintf(e, sizeof e, "runs/%s/env.json", r->name);
			json_object_object_add(x, "env", json_object_new_string(e));
		}
		json_object_array_add(a, x);
	}
	json_object_object_add(o, "runs", a);
	snprintf(p, sizeof p, "%s/merged.json", tmp);
	int rc = hp_write_json_atomic(p, o);
	json_object_put(o);
	if (rc < 0)
		return bad("cannot write %s: %s", p, strerror(errno)) ? HP_EXIT_FAIL : 0;
	return 0;
}

static int write_json(merge_t *m, const char *tmp)
{
	char p[PATH_MAX];
	struct json_object *o = json_object_new_object(), *ctx = json_object_new_object(),
			   *runs = json_object_new_array(), *benches = json_object_new_array();
	int rc = 0;

	json_object_object_add(ctx, "results_format", json_object_new_int(HP_RESULTS_FORMAT_MERGED));
	for (size_t i = 0; i < m->n && !rc; i++) {
		const mrun_t *r = &m->runs[i];
		struct json_object *x = json_object_new_object(), *src, *b, *env = NULL;

		json_object_object_add(x, "run", json_object_new_string(r->name));
		json_object_deep_copy(r->env, &env, NULL);
		json_object_object_add(x, "env", env);
		json_object_array_add(runs, x);
		snprintf(p, sizeof p, "%s/results.json", r->dir);
		src = json_object_from_file(p);
		if (!src || !json_object_is_type(src, json_type_object) ||
		    !json_object_object_get_ex(src, "benchmarks", &b) || !json_object_is_type(b, json_type_array)) {
			rc = bad("%s: damaged: not a JSON object with a \"benchmarks\" array (a damaged "
				 "folder is never merged)", p);
			json_object_put(src);
			break;
		}
		for (size_t k = 0; k < json_object_array_length(b); k++) {
			struct json_object *e = json_object_array_get_idx(b, k), *c = NULL, *nm;
			char *full;

			if (!json_object_is_type(e, json_type_object) ||
			    !json_object_object_get_ex(e, "name", &nm) || !json_object_is_type(nm, json_type_string)) {
				rc = bad("%s: damaged: benchmark %zu has no name", p, k);
				break;
			}
			json_object_deep_copy(e, &c, NULL);
			if (!c || asprintf(&full, "%s/%s", r->name, json_object_get_string(nm)) < 0) {
				json_object_put(c);
				rc = HP_EXIT_INTERNAL;
				break;
			}
			json_object_object_add(c, "name", json_object_new_string(full));
			json_object_object_add(c, "run", json_object_new_string(r->name));
			free(full);
			json_object_array_add(benches, c);
		}
		json_object_put(src);
	}
	json_object_object_add(ctx, "runs", runs);
	json_object_object_add(o, "context", ctx);
	json_object_object_add(o, "benchmarks", benches);
	if (!rc) {
		snprintf(p, sizeof p, "%s/results.json", tmp);
		if (hp_write_json_atomic(p, o) < 0)
			rc = bad("cannot write %s: %s", p, strerror(errno)) ? HP_EXIT_FAIL : 0;
	}
	json_object_put(o);
	return rc;
}

static void md_cell(FILE *f, const char *s)
{
	for (; *s; s++)
		if (*s == '|')
			fputs("\\|", f);
		else if (*s == '\n' || *s == '\r')
			fputc(' ', f);
		else
			fputc(*s, f);
}

static int write_summary(merge_t *m, const char *tmp)
{
	char p[PATH_MAX], *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return HP_EXIT_INTERNAL;
	fprintf(f, "# hotpath: %zu merged run%s\n\n", m->n, m->n == 1 ? "" : "s");
	fprintf(f, "Results format %d: results.csv has a `run` column; each run's env.json is "
		"runs/<run>/env.json. Ratios with confidence intervals between two runs: "
		"`hotpath compare <this folder> --runs A,B`.\n\n", HP_RESULTS_FORMAT_MERGED);
	fputs("| run | host | kernel | commit | status | rows | source folder |\n"
	      "| --- | --- | --- | --- | --- | ---: | --- |\n", f);
	for (size_t i = 0; i < m->n; i++) {
		const mrun_t *r = &m->runs[i];

		fputs("| ", f); md_cell(f, r->name);
		fputs(" | ", f); md_cell(f, r->host);
		fputs(" | ", f); md_cell(f, r->kernel);
		fputs(" | ", f); md_cell(f, r->commit);
		fputs(" | ", f); md_cell(f, r->status[0] ? r->status : "?");
		fprintf(f, " | %zu | ", r->rows);
		md_cell(f, r->source);
		fputs(" |\n", f);
	}
	fputs("\n## Median of the primary metric, per run\n\n"
	      "One row per benchmark and primary metric (real_time, instructions, perf_cycles); "
	      "`—` where the run has no such rows.\n\n| benchmark:metric | unit |", f);
	for (size_t i = 0; i < m->n; i++) {
		fputc(' ', f);
		md_cell(f, m->runs[i].name);
		fputs(" |", f);
	}
	fputs("\n| --- | --- |", f);
	for (size_t i = 0; i < m->n; i++)
		fputs(" ---: |", f);
	fputc('\n', f);
	for (size_t k = 0; k < m->keys.n; k++) {
		fputs("| ", f);
		md_cell(f, m->keys.keys[k]);
		fputs(" | ", f);
		md_cell(f, m->rows[k].unit);
		fputs(" |", f);
		for (size_t i = 0; i < m->n; i++) {
			double v = m->rows[k].med[i];

			if (isnan(v))
				fputs(" — |", f);
			else
				fprintf(f, " %.4g |", v);
		}
		fputc('\n', f);
	}
	if (!m->keys.n)
		fputs("| (no real_time, instructions or perf_cycles rows) | | \n", f);
	snprintf(p, sizeof p, "%s/summary.md", tmp);
	if (hp_memstream_commit(f, &buf, &len, p) < 0)
		return bad("cannot write %s: %s", p, strerror(errno)) ? HP_EXIT_FAIL : 0;
	return 0;
}

static int rm_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st; (void)type; (void)ftw;
	return remove(path);
}

static void merge_free(merge_t *m)
{
	for (size_t i = 0; i < m->n; i++) {
		free(m->runs[i].real);
		free(m->runs[i].env_text);
		json_object_put(m->runs[i].env);
	}
	/* after a failed allocation keys may hold an id rows has no room for */
	for (size_t k = 0; k < m->keys.n && k < m->rcap; k++)
		free(m->rows[k].med);
	free(m->rows);
	keymap_free(&m->keys);
	for (size_t k = 0; k < m->curcap; k++)
		free(m->cv[k]);
	free(m->cv);
	free(m->cn);
	free(m->ccap);
	free(m->cunit);
	keymap_free(&m->cur);
	free(m->runs);
}

static const char usage[] =
	"usage: hotpath merge [--label NAME]... --out M DIR...\n"
	"  combines results folders into the new folder M (results format 2: a run column);\n"
	"  --label names the runs in the order of the DIRs (one per DIR, or none:\n"
	"  each run is then named <host>_<kernel release>_<commit>)\n";

/* --out M: absent (created), or an empty folder (replaced). 0 or exit code. */
static int check_out(const char *out)
{
	struct stat st;

	if (!*out)
		return bad("--out: empty folder name");
	for (const char *q = out; *q; q++)
		if ((unsigned char)*q < 0x20 || *q == 0x7f)
			return bad("--out: the folder name holds control character 0x%02x", (unsigned char)*q);
	if (stat(out, &st) != 0)
		return errno == ENOENT ? 0 : bad("--out: %s: %s", out, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return bad("--out: %s exists and is not a folder (merge writes a new folder)", out);
	/* an empty folder is replaced by the rename at the end (rename(2)
	 * replaces an empty directory); anything in it is refused */
	DIR *d = opendir(out);
	struct dirent *e;
	int n = 0;

	if (!d)
		return bad("--out: %s: %s", out, strerror(errno));
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	if (n)
		return bad("--out: %s exists and is not empty (merge never overwrites: name a new "
			   "folder or remove it)", out);
	return 0;
}

int hp_merge_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "out", required_argument, 0, 'o' },
		{ "label", required_argument, 0, 'l' },
		{ "help", no_argument, 0, 'h' },
		{ 0, 0, 0, 0 },
	};
	const char *out = NULL, **labels = calloc((size_t)argc + 1, sizeof *labels);
	size_t nlabels = 0;
	merge_t m;
	char tmp[PATH_MAX];
	int o, rc = 0, made = 0;

	memset(&m, 0, sizeof m);
	keymap_init(&m.keys);
	keymap_init(&m.cur);
	if (!labels)
		return HP_EXIT_INTERNAL;
	opterr = 0;
	optind = 1;
	while ((o = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (o) {
		case 'o':
			if (out) {
				free(labels);
				return bad("--out given twice");
			}
			out = optarg;
			break;
		case 'l': labels[nlabels++] = optarg; break;
		case 'h':
			fputs(usage, stdout);
			free(labels);
			return 0;
		case ':':
			free(labels);
			return bad("option '%s' needs a value\n%s", argv[optind - 1], usage);
		default:
			free(labels);
			return bad("unknown option '%s'\n%s", argv[optind - 1], usage);
		}
	}
	m.n = (size_t)(argc - optind);
	if (!out)
		rc = bad("--out M is required (the merged folder to create)\n%s", usage);
	else if (m.n == 0)
		rc = bad("no results folder given\n%s", usage);
	else if (m.n > MERGE_MAX_RUNS)
		rc = bad("%zu folders: at most %d can be merged", m.n, MERGE_MAX_RUNS);
	else if (nlabels && nlabels != m.n)
		rc = bad("%zu --label for %zu folders: give one label per folder, in the order of the "
			 "folders, or none", nlabels, m.n);
	if (rc) {
		free(labels);
		return rc;
	}
	m.runs = calloc(m.n, sizeof *m.runs);
	if (!m.runs) {
		free(labels);
		return HP_EXIT_INTERNAL;
	}
	for (size_t i = 0; i < m.n && !rc; i++) {
		m.runs[i].dir = argv[optind + (int)i];
		if (nlabels && !hp_run_name_ok(labels[i]))
			rc = bad("--label '%s' is not a run name (1 to %d of A-Z a-z 0-9 . _ + -, not "
				 "starting with . or -)", labels[i], HP_RUN_NAME_MAX);
	}
	for (size_t i = 0; i < m.n && !rc; i++)
		rc = load_run(&m.runs[i]);
	/* every folder in one results format, the one this hotpath reads */
	for (size_t i = 0; i < m.n && !rc; i++)
		if (m.runs[i].format != m.runs[0].format)
			rc = bad("different results-format versions: %s is version %d, %s is version %d "
				 "(merge folders of one version)", m.runs[0].dir, m.runs[0].format,
				 m.runs[i].dir, m.runs[i].format);
	if (!rc && m.runs[0].format != HP_RESULTS_FORMAT)
		rc = bad("%s: results-format version %d: this hotpath merges version %d only",
			 m.runs[0].dir, m.runs[0].format, HP_RESULTS_FORMAT);
	for (size_t i = 0; i < m.n && !rc; i++) {
		mrun_t *r = &m.runs[i];

		for (size_t j = 0; j < i && !rc; j++)
			if (!strcmp(m.runs[j].real, r->real))
				rc = bad("%s and %s are the same folder", m.runs[j].dir, r->dir);
		if (nlabels) {
			hp_strlcpy(r->name, labels[i], sizeof r->name);
		} else {
			char nm[3 * HP_RUN_NAME_MAX] = "";

			name_part(nm, sizeof nm, r->host);
			name_part(nm, sizeof nm, "_");
			name_part(nm, sizeof nm, r->kernel);
			name_part(nm, sizeof nm, "_");
			name_part(nm, sizeof nm, r->commit);
			hp_strlcpy(r->name, nm[0] == '.' || nm[0] == '-' ? "_" : "", sizeof r->name);
			name_part(r->name, sizeof r->name, nm);
		}
	}
	free(labels);
	/* names from env.json that two folders share (two runs of one machine,
	 * kernel and commit: a job array on one node) take their folder's name
	 * as a suffix; which ones do depends on the set, not on the order */
	if (!rc && !nlabels) {
		unsigned char *dup = calloc(m.n, 1);

		if (!dup)
			rc = HP_EXIT_INTERNAL;
		for (size_t i = 0; dup && i < m.n; i++)
			for (size_t j = 0; j < m.n; j++)
				if (i != j && !strcmp(m.runs[i].name, m.runs[j].name))
					dup[i] = 1;
		for (size_t i = 0; dup && i < m.n; i++) {
			char sfx[HP_RUN_NAME_MAX + 2] = "_";
			size_t keep;

			if (!dup[i])
				continue;
			name_part(sfx, sizeof sfx, m.runs[i].source);
			keep = strlen(sfx) < HP_RUN_NAME_MAX ? HP_RUN_NAME_MAX - strlen(sfx) : 0;
			if (strlen(m.runs[i].name) > keep)
				m.runs[i].name[keep] = '\0';
			name_part(m.runs[i].name, sizeof m.runs[i].name, sfx);
		}
		free(dup);
	}
	if (!rc) {
		qsort(m.runs, m.n, sizeof *m.runs, cmp_run);
		for (size_t i = 1; i < m.n && !rc; i++)
			if (!strcmp(m.runs[i - 1].name, m.runs[i].name))
				rc = bad("duplicate run name '%s' (%s and %s): %s", m.runs[i].name,
					 m.runs[i - 1].dir, m.runs[i].dir, nlabels ? "give each folder "
					 "its own --label" : "they share host, kernel, commit and folder "
					 "name; name them with one --label per folder");
	}
	if (!rc)
		rc = check_out(out);
	if (!rc) {
		char *slash;
		size_t ol = strlen(out);

		while (ol > 1 && out[ol - 1] == '/')
			ol--;
		if (snprintf(tmp, sizeof tmp, "%.*s.merge-XXXXXX", (int)ol, out) >= (int)sizeof tmp)
			rc = bad("--out: %s is too long", out);
		slash = strrchr(tmp, '/');
		if (!rc && slash && slash != tmp) {
			*slash = '\0';
			if (hp_mkdir_p(tmp) < 0)
				rc = bad("--out: cannot create %s: %s", tmp, strerror(errno)) ? HP_EXIT_FAIL : 0;
			*slash = '/';
		}
		if (!rc && !mkdtemp(tmp))
			rc = bad("--out: cannot create %s: %s", tmp, strerror(errno)) ? HP_EXIT_FAIL : 0;
		made = !rc;
	}
	if (!rc)
		rc = write_csv(&m, tmp);
	if (!rc)
		rc = write_env_copies(&m, tmp);
	if (!rc)
		rc = write_json(&m, tmp);
	if (!rc)
		rc = write_summary(&m, tmp);
	if (!rc)
		rc = write_manifest(&m, tmp);
	if (!rc && chmod(tmp, 0755) < 0)
		rc = bad("cannot chmod %s: %s", tmp, strerror(errno)) ? HP_EXIT_FAIL : 0;
	if (!rc && rename(tmp, out) < 0) {
		/* --out was filled by someone else since it was checked */
		int e = errno;

		bad("cannot rename %s to %s: %s", tmp, out, strerror(e));
		rc = e == ENOTEMPTY || e == EEXIST ? HP_EXIT_USAGE : HP_EXIT_FAIL;
	}
	if (rc && made)
		nftw(tmp, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	if (!rc) {
		for (size_t i = 0; i < m.n; i++)
			if (strcmp(m.runs[i].status, "complete"))
				fprintf(stderr, "hotpath merge: note: run %s (%s) did not finish: env.json says "
					"status \"%s\"; its rows are merged as they are\n", m.runs[i].name,
					m.runs[i].dir, m.runs[i].status[0] ? m.runs[i].status : "(none)");
		printf("hotpath merge: %zu run%s into %s:", m.n, m.n == 1 ? "" : "s", out);
		for (size_t i = 0; i < m.n; i++)
			printf(" %s", m.runs[i].name);
		putchar('\n');
	}
	if (rc == HP_EXIT_INTERNAL)
		fputs("hotpath merge: out of memory\n", stderr);
	merge_free(&m);
	return rc;
}
