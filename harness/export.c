/* export.c — `hotpath export DIR --latex`: DIR/tables/<suite>.tex (one
 * booktabs table per case: variant, param, threads, median, 95% interval of
 * the median, ratio to the reference where the work is equal) and
 * DIR/tables/macros.tex (one macro per benchmark's median and equal-work
 * ratio), from the figures report.c computes, so the HTML report, the
 * tables and summary.md never disagree.
 *
 * The tables need \usepackage{booktabs,dcolumn} (both in texlive-latex-base
 * / -recommended; no siunitx): the median and ratio columns are dcolumn
 * D{.}{.}{-1} columns, aligned on the decimal point. Every string from the
 * folder is LaTeX-escaped (tex_put). */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"

/* Text for LaTeX: the special characters as commands, '-' kept from
 * forming dashes, '"' as typewriter char 34 (OT1 has no \textquotedbl),
 * control bytes and each non-ASCII character (pdflatex's default fonts
 * have no glyph for most) as '?'. */
static void tex_put(FILE *f, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		switch (c) {
		case '\\': fputs("\\textbackslash{}", f); break;
		case '{': case '}': case '$': case '&': case '#': case '%': case '_':
			fputc('\\', f);
			fputc(c, f);
			break;
		case '^': fputs("\\textasciicircum{}", f); break;
		case '~': fputs("\\textasciitilde{}", f); break;
		case '<': fputs("\\textless{}", f); break;
		case '>': fputs("\\textgreater{}", f); break;
		case '|': fputs("\\textbar{}", f); break;
		case '"': fputs("{\\ttfamily\\char34}", f); break;
		case '-': fputs("-{}", f); break;
		default:
			if (c >= 0x80) {
				/* one '?' per character: skip its continuation bytes */
				while (((unsigned char)s[1] & 0xc0) == 0x80)
					s++;
				fputc('?', f);
			} else if (c < 0x20 || c == 0x7f) {
				fputc('?', f);
			} else {
				fputc(c, f);
			}
		}
	}
}

static const char *const digit_word[10] = {
	"Zero", "One", "Two", "Three", "Four", "Five", "Six", "Seven", "Eight", "Nine",
};

/* Appends s to name in TeX's letters only: words capitalised, a digit as
 * its English word, '.' as "Pt", '+' as "Plus", other punctuation a word
 * break, any other byte "X" and two letters a..p for its nibbles. */
static void camel(char *name, size_t len, const char *s)
{
	size_t o = strlen(name);
	int up = 1;

	for (; *s && o + 8 < len; s++) {
		unsigned char c = (unsigned char)*s;

		if (isalpha(c) && c < 0x80) {
			name[o++] = (char)(up ? toupper(c) : c);
			up = 0;
		} else if (isdigit(c)) {
			o += (size_t)snprintf(name + o, len - o, "%s", digit_word[c - '0']);
			up = 1;
		} else if (c == '.') {
			o += (size_t)snprintf(name + o, len - o, "Pt");
			up = 1;
		} else if (c == '+') {
			o += (size_t)snprintf(name + o, len - o, "Plus");
			up = 1;
		} else if (c == '-' || c == '_' || c == ' ' || c == '/' || c == ':' || c == ',') {
			up = 1;
		} else {
			o += (size_t)snprintf(name + o, len - o, "X%c%c", 'a' + (c >> 4), 'a' + (c & 15));
			up = 1;
		}
	}
	name[o] = '\0';
}

/* A macro name not given out before: base, or base + "Dup" + letters. -1
 * when out of memory. */
static int unique_name(keymap_t *used, char *name, size_t len)
{
	size_t base = strlen(name);

	for (unsigned k = 0;; k++) {
		if (k) {
			char suf[16];
			unsigned x = k, o = 0;

			while (x && o < sizeof(suf) - 1) {
				suf[o++] = (char)('A' + (x - 1) % 26);
				x = (x - 1) / 26;
			}
			suf[o] = '\0';
			snprintf(name + base, len - base, "Dup%s", suf);
		}
		if (keymap_find(used, name) == KEYMAP_NONE)
			return keymap_id(used, name) == KEYMAP_NONE ? -1 : 0;
	}
}

/* The stem of a benchmark's macros: hp, suite, case, variant, the param
 * when it has one, the threads when more than one, the unit's quantity. */
static void macro_stem(char *name, size_t len, const hp_rep_bench_t *b)
{
	char unit[24], *slash;

	snprintf(name, len, "hp");
	camel(name, len, b->vals->suite);
	camel(name, len, b->vals->case_);
	camel(name, len, b->vals->variant);
	if (b->vals->param[0] && strcmp(b->vals->param, "-"))
		camel(name, len, b->vals->param);
	if (b->vals->threads != 1) {
		char t[16];

		snprintf(t, sizeof(t), "%d", b->vals->threads);
		camel(name, len, "threads");
		camel(name, len, t);
	}
	hp_strlcpy(unit, b->vals->unit, sizeof(unit));
	slash = strchr(unit, '/');
	if (slash)
		*slash = '\0';
	camel(name, len, unit[0] ? unit : "value");
}

/* A number for a D column (plain digits and a point). */
static void tex_num(FILE *f, double v)
{
	char b[64];

	if (!isfinite(v)) {
		fputs("\\multicolumn{1}{c}{---}", f);
		return;
	}
	hp_rep_fmt(b, sizeof(b), v);
	fputs(b, f);
}

/* A comment line's text: only letters, digits and / _ - . : + and spaces
 * (a newline would end the comment, ^^ sequences are read even there). */
static void comment_put(FILE *f, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		fputc(isalnum(c) && c < 0x80 ? c : strchr("/_-.:+ ", c) ? c : '?', f);
	}
}

/* The machine, for captions: host, CPU, kernel, date. */
static void machine(FILE *f, const hp_rep_t *r)
{
	fputs("Machine: ", f);
	tex_put(f, hp_rep_env_str(r, "host"));
	fputs(", ", f);
	tex_put(f, hp_rep_env_str(r, "cpu_model"));
	fputs(", Linux ", f);
	tex_put(f, hp_rep_env_str(r, "kernel_release"));
	fputs(", ", f);
	tex_put(f, hp_rep_env_str(r, "date"));
	fputc('.', f);
}

/* One case's table: groups gi..ge of r. */
static void case_table(FILE *f, const hp_rep_t *r, size_t gi, size_t ge, keymap_t *labels)
{
	const hp_rep_bench_t *b0 = &r->b[r->g[gi].first];
	char label[256];

	fputs("\\begin{table}[htbp]\n\\centering\n\\caption{", f);
	tex_put(f, b0->vals->suite);
	fputc('/', f);
	tex_put(f, b0->vals->case_);
	fputs(": median of ", f);
	tex_put(f, b0->vals->metric);
	fputs(" in ", f);
	tex_put(f, b0->vals->unit);
	fputs(" over the repetitions, with the 95\\% bootstrap interval of the median; ratio to the "
	      "table's first impl variant of the same param and threads, only where the work is equal. ", f);
	machine(f, r);
	snprintf(label, sizeof(label), "hp");
	camel(label, sizeof(label), b0->vals->suite);
	camel(label, sizeof(label), b0->vals->case_);
	unique_name(labels, label, sizeof(label));
	fprintf(f, "}\n\\label{tab:%s}\n", label);
	fputs("\\begin{tabular}{@{}llrD{.}{.}{-1}rD{.}{.}{-1}@{}}\n\\toprule\n"
	      "variant & param & threads & \\multicolumn{1}{c}{median (", f);
	tex_put(f, b0->vals->unit);
	fputs(")} & \\multicolumn{1}{c}{95\\% interval} & \\multicolumn{1}{c}{ratio} \\\\\n\\midrule\n", f);
	for (size_t g = gi; g < ge; g++) {
		const hp_rep_group_t *gr = &r->g[g];

		for (size_t k = gr->first; k < gr->first + gr->n; k++) {
			const hp_rep_bench_t *b = &r->b[k];
			char why[256], lo[64], hi[64];
			double q;

			tex_put(f, b->vals->variant);
			fputs(" & ", f);
			if (b->vals->param[0] && strcmp(b->vals->param, "-"))
				tex_put(f, b->vals->param);
			else
				fputs("--", f);
			fprintf(f, " & %d & ", b->vals->threads);
			if (b->vals->n && strcmp(b->vals->unit, b0->vals->unit)) {
				char v[64];

				hp_rep_fmt(v, sizeof(v), b->med);
				fprintf(f, "\\multicolumn{1}{r}{%s ", v);
				tex_put(f, b->vals->unit);
				fputc('}', f);
			} else {
				tex_num(f, b->vals->n ? b->med : NAN);
			}
			fputs(" & ", f);
			if (b->has_ci) {
				hp_rep_fmt(lo, sizeof(lo), b->lo);
				hp_rep_fmt(hi, sizeof(hi), b->hi);
				fprintf(f, "[%s, %s]", lo, hi);
			} else {
				fputs("---", f);
			}
			fputs(" & ", f);
			if (hp_rep_ratio(r, gr, b, &q, why, sizeof(why)))
				fprintf(f, "%.3f", q);
			else
				fputs("\\multicolumn{1}{c}{---}", f);
			fputs(" \\\\\n", f);
		}
	}
	fputs("\\bottomrule\n\\end{tabular}\n\\end{table}\n\n", f);
}

/* Every benchmark's median and (where equal work gives one) its ratio. */
static int macros(FILE *f, const hp_rep_t *r)
{
	keymap_t used;
	int rc = 0;

	keymap_init(&used);
	fputs("% hotpath export --latex: one macro per benchmark's median (and its ratio to the\n"
	      "% reference variant where the work is equal). Written by hotpath; do not edit.\n", f);
	for (size_t g = 0; g < r->ng && !rc; g++)
		for (size_t k = r->g[g].first; k < r->g[g].first + r->g[g].n && !rc; k++) {
			const hp_rep_bench_t *b = &r->b[k];
			char name[512], ratio[600], why[256], num[64], bn[HP_BENCH_KEY_MAX];
			double q;

			if (!b->vals->n)
				continue;
			macro_stem(name, sizeof(name), b);
			if (unique_name(&used, name, sizeof(name)) < 0) {
				rc = -1;
				break;
			}
			hp_bench_name(bn, sizeof(bn), b->vals->suite, b->vals->case_, b->vals->variant,
				      b->vals->param, b->vals->threads);
			fputs("% ", f);
			comment_put(f, bn);
			fputs(" (", f);
			comment_put(f, b->vals->metric);
			fputs(")\n", f);
			hp_rep_fmt(num, sizeof(num), b->med);
			fprintf(f, "\\newcommand{\\%s}{%s}\n", name, num);
			if (hp_rep_ratio(r, &r->g[g], b, &q, why, sizeof(why))) {
				snprintf(ratio, sizeof(ratio), "%sRatio", name);
				if (unique_name(&used, ratio, sizeof(ratio)) < 0) {
					rc = -1;
					break;
				}
				fprintf(f, "\\newcommand{\\%s}{%.3f}\n", ratio, q);
			}
		}
	keymap_free(&used);
	return rc;
}

/* The file name of a suite's table: the suite with anything but letters,
 * digits, '-' and '_' as '_' (a suite name from a hand-made results.csv
 * must not reach outside tables/). */
static void suite_file(char *buf, size_t len, const char *tables, const char *suite)
{
	char s[40];
	size_t o = 0;

	for (; *suite && o < sizeof(s) - 1; suite++)
		s[o++] = (char)(isalnum((unsigned char)*suite) || *suite == '-' || *suite == '_' ? *suite : '_');
	s[o] = '\0';
	snprintf(buf, len, "%s/%s.tex", tables, s[0] ? s : "_");
}

static int write_suites(const hp_rep_t *r, const char *tables)
{
	keymap_t labels;
	int rc = 0;

	keymap_init(&labels);
	for (size_t gi = 0; gi < r->ng && !rc;) {
		const char *suite = r->b[r->g[gi].first].vals->suite;
		char path[4200];
		char *buf = NULL;
		size_t len = 0, ge = gi;
		FILE *f = open_memstream(&buf, &len);

		if (!f) {
			fprintf(stderr, "hotpath export: out of memory\n");
			rc = 99;
			break;
		}
		suite_file(path, sizeof(path), tables, suite);
		fputs("% hotpath export --latex: the ", f);
		comment_put(f, suite);
		fputs(" suite. Needs \\usepackage{booktabs,dcolumn}. Written by hotpath; do not edit.\n\n", f);
		while (ge < r->ng && !strcmp(r->b[r->g[ge].first].vals->suite, suite))
			ge++;
		for (size_t ci = gi; ci < ge;) {
			size_t ce = ci;

			while (ce < ge && !strcmp(r->b[r->g[ce].first].vals->case_, r->b[r->g[ci].first].vals->case_))
				ce++;
			case_table(f, r, ci, ce, &labels);
			ci = ce;
		}
		if (hp_memstream_commit(f, &buf, &len, path) < 0) {
			fprintf(stderr, "hotpath export: cannot write %s: %s\n", path, strerror(errno));
			rc = 1;
		} else {
			printf("%s\n", path);
		}
		gi = ge;
	}
	keymap_free(&labels);
	return rc;
}

int hp_export_latex(const char *dir)
{
	hp_rep_t r;
	char *tables = NULL, *mpath = NULL, *buf = NULL;
	size_t len = 0;
	FILE *f;
	int rc = hp_rep_load(dir, &r, "export");

	if (rc)
		return rc;
	if (asprintf(&tables, "%s/tables", dir) < 0 || asprintf(&mpath, "%s/macros.tex", tables) < 0) {
		fprintf(stderr, "hotpath export: out of memory\n");
		rc = 99;
		goto out;
	}
	if (hp_mkdir_p(tables) < 0) {
		fprintf(stderr, "hotpath export: cannot create %s: %s\n", tables, strerror(errno));
		rc = 1;
		goto out;
	}
	rc = write_suites(&r, tables);
	if (rc)
		goto out;
	f = open_memstream(&buf, &len);
	if (!f || macros(f, &r) < 0) {
		if (f)
			fclose(f);
		free(buf);
		fprintf(stderr, "hotpath export: out of memory\n");
		rc = 99;
		goto out;
	}
	if (hp_memstream_commit(f, &buf, &len, mpath) < 0) {
		fprintf(stderr, "hotpath export: cannot write %s: %s\n", mpath, strerror(errno));
		rc = 1;
		goto out;
	}
	printf("%s\n", mpath);
out:
	free(tables);
	free(mpath);
	hp_rep_free(&r);
	return rc;
}
