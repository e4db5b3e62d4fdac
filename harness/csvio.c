/* csvio.c — results.csv: the writer (RFC 4180 quoting, exact values) and the
 * reader that checks the header and names the file and line of any error. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "record.h"
#include "record_int.h"

/* ---- writer ----------------------------------------------------------- */

static void csv_field(FILE *f, const char *s)
{
	if (!strpbrk(s, ",\"\r\n")) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

void hp_csv_write_row(FILE *f, const hp_record_t *x, const char *run)
{
	char num[HP_EXACT_MAX];

	csv_field(f, x->suite); fputc(',', f);
	csv_field(f, x->case_); fputc(',', f);
	csv_field(f, x->variant); fputc(',', f);
	csv_field(f, x->kind); fputc(',', f);
	csv_field(f, x->param); fputc(',', f);
	fprintf(f, "%d,", x->threads);
	csv_field(f, x->cpus); fputc(',', f);
	csv_field(f, x->metric); fputc(',', f);
	csv_field(f, x->unit); fputc(',', f);
	hp_fmt_exact(num, sizeof(num), x->value);
	fprintf(f, "%d,%s", x->rep, num);
	if (run) {
		fputc(',', f);
		csv_field(f, run);
	}
	fputc('\n', f);
}

int hp_write_csv(const char *path, const hp_results_t *r)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return -1;
	fputs(HP_CSV_HEADER "\n", f);
	for (size_t i = 0; i < r->nrec; i++)
		hp_csv_write_row(f, &r->rec[i], NULL);
	return hp_memstream_commit(f, &buf, &len, path);
}

/* ---- reader ---------------------------------------------------------- */

#define CSV_NCOL 11

/* the 12th, "run", only in a merged folder's results.csv (HP_CSV_HEADER_RUN) */
static const char *const csv_cols[CSV_NCOL + 1] = {
	"suite", "case", "variant", "kind", "param", "threads",
	"cpus", "metric", "unit", "rep", "value", "run",
};

typedef struct csv_row {
	char *buf;              /* fields, each '\0'-terminated */
	size_t len, cap;
	size_t off[CSV_NCOL + 2];
	int nf;                 /* fields seen (may exceed CSV_NCOL) */
} csv_row_t;

static int row_putc(csv_row_t *row, char c)
{
	char *p = hp_grow(row->buf, &row->cap, row->len + 1, 1);

	if (!p)
		return -1;
	row->buf = p;
	row->buf[row->len++] = c;
	return 0;
}


static void set_err(char *err, size_t errlen, const char *path, long line, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* the reason comes first in importance: a path too long for err loses
	 * its middle, never the message */
	size_t plen = strlen(path), room = strlen(msg) + 32 < errlen ? errlen - strlen(msg) - 32 : 0;
	if (plen > room && room >= 16)
		snprintf(err, errlen, "%.*s...%s:%ld: %s", (int)(room / 2 - 2), path,
			 path + plen - (room / 2 - 2), line, msg);
	else
		snprintf(err, errlen, "%s:%ld: %s", path, line, msg);
}

/* Parses one record starting at *pos; *line counts physical lines.
 * Returns 1 for a record, 0 at end of input, -1 on a syntax error. */
static int csv_next(const char *s, size_t n, size_t *pos, long *line, csv_row_t *row,
		    const char **why)
{
	size_t i = *pos;

	row->len = 0;
	row->nf = 0;
	if (i >= n)
		return 0;
	for (;;) {
		if (row->nf < CSV_NCOL + 2)
			row->off[row->nf] = row->len;
		row->nf++;
		if (i < n && s[i] == '"') {
			for (i++;; i++) {
				if (i >= n) {
					*why = "unterminated quoted field (no closing \")";
					return -1;
				}
				if (s[i] == '"') {
					if (i + 1 < n && s[i + 1] == '"') {
						i++;
					} else {
						i++;
						break;
					}
				}
				if (s[i] == '\n')
					(*line)++;
				if (row_putc(row, s[i]) < 0) {
					*why = "out of memory";
					return -1;
				}
			}
			if (i < n && s[i] != ',' && s[i] != '\n' &&
			    !(s[i] == '\r' && i + 1 < n && s[i + 1] == '\n')) {
				*why = "unexpected character after a closing quote (a quote inside a field must be doubled)";
				return -1;
			}
		} else {
			for (; i < n && s[i] != ',' && s[i] != '\n'; i++) {
				if (s[i] == '\r' && i + 1 < n && s[i + 1] == '\n')
					break;
				if (s[i] == '"') {
					*why = "a quote inside an unquoted field (fields with quotes must be quoted)";
					return -1;
				}
				if (row_putc(row, s[i]) < 0) {
					*why = "out of memory";
					return -1;
				}
			}
		}
		if (row_putc(row, '\0') < 0) {
			*why = "out of memory";
			return -1;
		}
		if (i < n && s[i] == ',') {
			i++;
			continue;
		}
		if (i < n && s[i] == '\r')
			i++;
		if (i < n && s[i] == '\n') {
			i++;
			(*line)++;
		}
		break;
	}
	*pos = i;
	return 1;
}

static int csv_str(char *dst, size_t size, const char *v, int col, const char *path,
		   long line, char *err, size_t errlen)
{
	if (strlen(v) >= size) {
		set_err(err, errlen, path, line, "%s \"%.40s...\" is too long (at most %zu characters)",
			csv_cols[col], v, size - 1);
		return -1;
	}
	memcpy(dst, v, strlen(v) + 1);
	return 0;
}

static int csv_int(int *dst, const char *v, int col, int min, const char *path, long line,
		   char *err, size_t errlen)
{
	char *end;
	long x;

	errno = 0;
	x = strtol(v, &end, 10);
	if (!*v || *end || errno || x < min || x > INT_MAX) {
		set_err(err, errlen, path, line, "%s \"%.40s\" is not an integer >= %d",
			csv_cols[col], v, min);
		return -1;
	}
	*dst = (int)x;
	return 0;
}

/* Metrics that count or time something: never negative. */
static int is_count_metric(const char *m)
{
	static const char *const names[] = {
		"real_time", "cpu_time", "tsc_cycles", "real_time_per_item", "iterations",
		"instructions", "perf_cycles", "perf_instructions", "perf_cache_misses",
		"perf_branch_misses", "cache_i1_misses", "cache_d1_misses", "cache_ll_misses",
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(m, names[i]))
			return 1;
	return 0;
}

/* The unit every standard metric is written with (its part before '/');
 * NULL for a name that is not a standard metric (a case's own counter). */
static const char *standard_unit(const char *m)
{
	static const char *const tab[][2] = {
		{ "real_time", "ns" }, { "cpu_time", "ns" }, { "real_time_per_item", "ns" },
		{ "tsc_cycles", "cycles" }, { "iterations", "iters" }, { "instructions", "instr" },
		{ "perf_cycles", "cycles" }, { "perf_instructions", "instr" },
		{ "perf_cache_misses", "misses" }, { "perf_branch_misses", "misses" },
		{ "cache_i1_misses", "misses" }, { "cache_d1_misses", "misses" },
		{ "cache_ll_misses", "misses" },
	};
	for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
		if (!strcmp(m, tab[i][0]))
			return tab[i][1];
	return NULL;
}

/* A metric the writers can produce: a standard metric with its own unit,
 * or a case's counter, whose name is a letter followed by letters, digits
 * and _ . + - (counters carry model names such as eevdf-6.17). */
static int csv_metric_ok(const hp_record_t *x, const char *path, long line, char *err, size_t errlen)
{
	const char *u = standard_unit(x->metric), *m = x->metric;
	size_t n;

	if (u) {
		n = strlen(u);
		if (strncmp(x->unit, u, n) || (x->unit[n] && x->unit[n] != '/')) {
			set_err(err, errlen, path, line, "unit \"%.40s\" of metric %s is not %s or %s/<op>",
				x->unit, m, u, u);
			return -1;
		}
		return 0;
	}
	if (!((*m >= 'a' && *m <= 'z') || (*m >= 'A' && *m <= 'Z')))
		goto bad;
	for (; *m; m++)
		if (!((*m >= 'a' && *m <= 'z') || (*m >= 'A' && *m <= 'Z') || (*m >= '0' && *m <= '9') ||
		      *m == '_' || *m == '.' || *m == '+' || *m == '-'))
			goto bad;
	return 0;
bad:
	set_err(err, errlen, path, line, "metric \"%.40s\" is neither a known metric nor a counter name "
		"(a letter, then letters, digits, _ . + -)", x->metric);
	return -1;
}

/* What the writers can produce (docs/results-format.md, "What the readers
 * accept"): a finite value; for a time or a count, between 0 and
 * HP_VALUE_MAX; real time and iterations above 0 (no operation takes no
 * time). A case's own counters may be any finite value. strtod reads
 * "nan", "inf" and 1e308 as numbers. */
static int csv_value_ok(const hp_record_t *x, const char *text, const char *path, long line,
			char *err, size_t errlen)
{
	double v = x->value;
	const char *why = NULL;

	if (isnan(v))
		why = "is not a number (NaN)";
	else if (isinf(v))
		why = "is infinite";
	else if (fabs(v) > HP_VALUE_MAX && is_count_metric(x->metric))
		why = "is beyond any measurable time or count (more than 1e15)";
	else if (v < 0 && is_count_metric(x->metric))
		why = "is negative (a time or a count)";
	else if (v == 0 && (!strcmp(x->metric, "real_time") || !strcmp(x->metric, "real_time_per_item") ||
			    !strcmp(x->metric, "iterations")))
		why = "is zero (no operation takes no time)";
	if (!why)
		return 0;
	set_err(err, errlen, path, line, "value \"%.40s\" of metric %s %s", text, x->metric, why);
	return -1;
}

static int csv_to_record(const csv_row_t *row, hp_record_t *x, const char *path, long line,
			 char *err, size_t errlen)
{
	const char *f[CSV_NCOL];
	char *end;

	for (int c = 0; c < CSV_NCOL; c++)
		f[c] = row->buf + row->off[c];
	memset(x, 0, sizeof(*x));
	if (csv_str(x->suite, sizeof(x->suite), f[0], 0, path, line, err, errlen) ||
	    csv_str(x->case_, sizeof(x->case_), f[1], 1, path, line, err, errlen) ||
	    csv_str(x->variant, sizeof(x->variant), f[2], 2, path, line, err, errlen) ||
	    csv_str(x->kind, sizeof(x->kind), f[3], 3, path, line, err, errlen) ||
	    csv_str(x->param, sizeof(x->param), f[4], 4, path, line, err, errlen) ||
	    csv_int(&x->threads, f[5], 5, 1, path, line, err, errlen) ||
	    csv_str(x->cpus, sizeof(x->cpus), f[6], 6, path, line, err, errlen) ||
	    csv_str(x->metric, sizeof(x->metric), f[7], 7, path, line, err, errlen) ||
	    csv_str(x->unit, sizeof(x->unit), f[8], 8, path, line, err, errlen) ||
	    csv_int(&x->rep, f[9], 9, 0, path, line, err, errlen))
		return -1;
	errno = 0;
	x->value = strtod(f[10], &end);
	if (!*f[10] || *end || (errno == ERANGE && isinf(x->value))) {
		set_err(err, errlen, path, line, "value \"%.40s\" is not a number", f[10]);
		return -1;
	}
	if (csv_metric_ok(x, path, line, err, errlen))
		return -1;
	return csv_value_ok(x, f[10], path, line, err, errlen);
}


/* The header is parsed like any row, so a wrong one can be shown back as
 * it is. 0 when it is HP_CSV_HEADER (with_run 0) or HP_CSV_HEADER_RUN
 * (with_run 1). A merged folder's header read as a single run's, or the
 * reverse, gets a message saying so rather than a bare mismatch. */
static int csv_header(const char *s, size_t n, size_t *pos, long *line, csv_row_t *row,
		      const char *path, int with_run, char *err, size_t errlen)
{
	const char *why = NULL, *want = with_run ? HP_CSV_HEADER_RUN : HP_CSV_HEADER;
	long start = *line;
	int k = csv_next(s, n, pos, line, row, &why), ok, ncol = CSV_NCOL + !!with_run;

	if (k <= 0) {
		set_err(err, errlen, path, start, k == 0 ? "empty file, expected the header \"%s\""
			: "bad header (%s), expected \"%s\"", k == 0 ? want : why, want);
		return -1;
	}
	/* the first 11 columns match: only the run column tells them apart */
	ok = row->nf >= CSV_NCOL;
	for (int c = 0; ok && c < CSV_NCOL; c++)
		ok = strcmp(row->buf + row->off[c], csv_cols[c]) == 0;
	if (ok && row->nf == ncol && (!with_run || !strcmp(row->buf + row->off[CSV_NCOL], "run")))
		return 0;
	if (ok && !with_run && row->nf == CSV_NCOL + 1 && !strcmp(row->buf + row->off[CSV_NCOL], "run")) {
		set_err(err, errlen, path, start, "this is a merged results.csv (a trailing run column, "
			"results format %d, written by hotpath merge), which this command does not read; "
			"see docs/merge.md for the commands that do", HP_RESULTS_FORMAT_MERGED);
		return -1;
	}
	if (ok && with_run && row->nf == CSV_NCOL) {
		set_err(err, errlen, path, start, "this is a single run's results.csv (no run column), "
			"expected a merged one: \"%s\"", HP_CSV_HEADER_RUN);
		return -1;
	}
	for (size_t i = 0; i + 1 < row->len; i++)
		if (!row->buf[i])
			row->buf[i] = ',';
	set_err(err, errlen, path, start, "header is \"%.200s\", expected \"%s\"",
		row->len ? row->buf : "", want);
	return -1;
}

/* The buffer of physical lines the reader holds: one record (a quoted
 * field may span lines), never the whole file. */
typedef struct csv_in {
	FILE *f;
	char *buf, *line;
	size_t len, cap, lcap;
	long next_line;         /* number of the next physical line to read */
	int ended_nl;           /* the last line read ended with '\n' */
	int eof;
} csv_in_t;

/* Appends the next physical line to in->buf. 1, 0 at end of file, -1 on a
 * read error (errno set). */
static int csv_in_line(csv_in_t *in)
{
	ssize_t k;
	char *p;

	if (in->eof)
		return 0;
	errno = 0;
	k = getline(&in->line, &in->lcap, in->f);
	if (k < 0) {
		if (ferror(in->f))
			return -1;
		in->eof = 1;
		return 0;
	}
	p = hp_grow(in->buf, &in->cap, in->len + (size_t)k + 1, 1);
	if (!p) {
		errno = ENOMEM;
		return -1;
	}
	in->buf = p;
	memcpy(in->buf + in->len, in->line, (size_t)k);
	in->len += (size_t)k;
	in->ended_nl = in->line[k - 1] == '\n';
	in->next_line++;
	return 1;
}

/* The next record of the file into row. 1, 0 at end of file, -1 with err.
 * *start gets the record's first line. Blank lines are skipped. */
static int csv_in_record(csv_in_t *in, csv_row_t *row, const char *path, long *start,
			 int skip_blank, char *err, size_t errlen)
{
	for (;;) {
		const char *why = NULL;
		size_t pos = 0;
		long line = 0;
		int k;

		in->len = 0;
		k = csv_in_line(in);
		if (k < 0) {
			set_err(err, errlen, path, in->next_line, "cannot read: %s", strerror(errno));
			return -1;
		}
		if (k == 0)
			return 0;
		*start = in->next_line - 1;
		/* the writer ends every line with a newline: a file without one
		 * was cut (a full disk, a copy stopped half-way), maybe inside a
		 * value */
		for (;;) {
			if (!in->ended_nl) {
				set_err(err, errlen, path, in->next_line - 1, "the last line has no "
					"terminating newline: the file is cut short (damaged); its last "
					"value cannot be trusted");
				return -1;
			}
			pos = 0;
			k = csv_next(in->buf, in->len, &pos, &line, row, &why);
			/* a quoted field with a newline goes on on the next line */
			if (k < 0 && why && !strncmp(why, "unterminated quoted", 19)) {
				int more = csv_in_line(in);

				if (more < 0) {
					set_err(err, errlen, path, in->next_line, "cannot read: %s", strerror(errno));
					return -1;
				}
				if (more > 0)
					continue;
			}
			break;
		}
		if (k < 0) {
			set_err(err, errlen, path, *start, "%s", why);
			return -1;
		}
		if (skip_blank && (in->len == 1 || (in->len == 2 && in->buf[0] == '\r')))
			continue;       /* a blank line carries nothing */
		return 1;
	}
}

/* A run name as a merged folder accepts it: 1..HP_RUN_NAME_MAX
 * bytes of [A-Za-z0-9._+-], not starting with '.' or '-'. */
int hp_run_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > HP_RUN_NAME_MAX || s[0] == '.' || s[0] == '-')
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
		      *s == '.' || *s == '_' || *s == '+' || *s == '-'))
			return 0;
	return 1;
}

static int csv_each(const char *path, int with_run,
		    int (*fn)(const hp_record_t *x, void *arg),
		    int (*fnrun)(const hp_record_t *x, const char *run, void *arg), void *arg,
		    char *err, size_t errlen)
{
	csv_in_t in = { .next_line = 1 };
	csv_row_t row = { 0 };
	long start = 1;
	int k, rc = -1, ncol = CSV_NCOL + !!with_run;

	if (err && errlen)
		err[0] = '\0';
	in.f = fopen(path, "rb");
	if (!in.f) {
		set_err(err, errlen, path, 0, "cannot read: %s", strerror(errno));
		return -1;
	}
	/* the header: parsed like any row, so a wrong one can be shown back */
	k = csv_in_record(&in, &row, path, &start, 0, err, errlen);
	if (k <= 0) {
		if (k == 0)
			set_err(err, errlen, path, 1, "empty file, expected the header \"%s\"",
				with_run ? HP_CSV_HEADER_RUN : HP_CSV_HEADER);
		goto out;
	}
	{
		long line = 1;
		size_t pos = 0;

		if (csv_header(in.buf, in.len, &pos, &line, &row, path, with_run, err, errlen) < 0)
			goto out;
	}
	for (;;) {
		hp_record_t x;

		k = csv_in_record(&in, &row, path, &start, 1, err, errlen);
		if (k < 0)
			goto out;
		if (k == 0)
			break;
		if (row.nf != ncol) {
			set_err(err, errlen, path, start, "%d fields, expected %d (%s)", row.nf, ncol,
				with_run ? HP_CSV_HEADER_RUN : HP_CSV_HEADER);
			goto out;
		}
		if (csv_to_record(&row, &x, path, start, err, errlen) < 0)
			goto out;
		if (with_run && !hp_run_name_ok(row.buf + row.off[CSV_NCOL])) {
			set_err(err, errlen, path, start, "run \"%.60s\" is not a run name (1 to %d of "
				"A-Z a-z 0-9 . _ + -, not starting with . or -)", row.buf + row.off[CSV_NCOL],
				HP_RUN_NAME_MAX);
			goto out;
		}
		if (with_run ? fnrun(&x, row.buf + row.off[CSV_NCOL], arg) != 0 : fn(&x, arg) != 0) {
			set_err(err, errlen, path, start, "out of memory");
			goto out;
		}
	}
	rc = 0;
out:
	free(row.buf);
	free(in.buf);
	free(in.line);
	fclose(in.f);
	return rc;
}

int hp_read_csv_each(const char *path, int (*fn)(const hp_record_t *x, void *arg), void *arg,
		     char *err, size_t errlen)
{
	return csv_each(path, 0, fn, NULL, arg, err, errlen);
}

int hp_read_csv_runs_each(const char *path,
			  int (*fn)(const hp_record_t *x, const char *run, void *arg), void *arg,
			  char *err, size_t errlen)
{
	return csv_each(path, 1, NULL, fn, arg, err, errlen);
}

static int add_record(const hp_record_t *x, void *arg)
{
	return hp_results_add(arg, x) ? 0 : -1;
}

int hp_read_csv(const char *path, hp_results_t *r, char *err, size_t errlen)
{
	size_t nrec0 = r->nrec;
	int rc = hp_read_csv_each(path, add_record, r, err, errlen);

	if (rc < 0)
		r->nrec = nrec0;    /* all or nothing */
	return rc;
}
