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

int hp_write_csv(const char *path, const hp_results_t *r)
{
	char *buf = NULL, num[HP_EXACT_MAX];
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return -1;
	fputs(HP_CSV_HEADER "\n", f);
	for (size_t i = 0; i < r->nrec; i++) {
		const hp_record_t *x = &r->rec[i];

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
		fprintf(f, "%d,%s\n", x->rep, num);
	}
	return hp_memstream_commit(f, &buf, &len, path);
}

/* ---- reader ---------------------------------------------------------- */

#define CSV_NCOL 11

static const char *const csv_cols[CSV_NCOL] = {
	"suite", "case", "variant", "kind", "param", "threads",
	"cpus", "metric", "unit", "rep", "value",
};

typedef struct csv_row {
	char *buf;              /* fields, each '\0'-terminated */
	size_t len, cap;
	size_t off[CSV_NCOL + 1];
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
		if (row->nf < CSV_NCOL + 1)
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
		"perf_branch_misses",
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(m, names[i]))
			return 1;
	return 0;
}

/* What the writers can produce (docs/results-format.md, "What the readers
 * accept"): a finite value of magnitude at most HP_VALUE_MAX; for a time or
 * a count, not negative; real time and iterations above 0 (no operation
 * takes no time). strtod reads "nan", "inf" and 1e308 as numbers. */
static int csv_value_ok(const hp_record_t *x, const char *path, long line, char *err,
			size_t errlen)
{
	double v = x->value;
	const char *why = NULL;

	if (isnan(v))
		why = "is not a number (NaN)";
	else if (isinf(v))
		why = "is infinite";
	else if (fabs(v) > HP_VALUE_MAX)
		why = "is beyond any measurable value (|value| > 1e15)";
	else if (v < 0 && is_count_metric(x->metric))
		why = "is negative (a time or a count)";
	else if (v == 0 && (!strcmp(x->metric, "real_time") || !strcmp(x->metric, "real_time_per_item") ||
			    !strcmp(x->metric, "iterations")))
		why = "is zero (no operation takes no time)";
	if (!why)
		return 0;
	set_err(err, errlen, path, line, "value \"%.17g\" of metric %s %s", v, x->metric, why);
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
	return csv_value_ok(x, path, line, err, errlen);
}


/* The header is parsed like any row, so a wrong one can be shown back as
 * it is. 0 when it is HP_CSV_HEADER. */
static int csv_header(const char *s, size_t n, size_t *pos, long *line, csv_row_t *row,
		      const char *path, char *err, size_t errlen)
{
	const char *why = NULL;
	long start = *line;
	int k = csv_next(s, n, pos, line, row, &why), ok;

	if (k <= 0) {
		set_err(err, errlen, path, start, k == 0 ? "empty file, expected the header \"%s\""
			: "bad header (%s), expected \"%s\"", k == 0 ? HP_CSV_HEADER : why, HP_CSV_HEADER);
		return -1;
	}
	ok = row->nf == CSV_NCOL;
	for (int c = 0; ok && c < CSV_NCOL; c++)
		ok = strcmp(row->buf + row->off[c], csv_cols[c]) == 0;
	if (ok)
		return 0;
	for (size_t i = 0; i + 1 < row->len; i++)
		if (!row->buf[i])
			row->buf[i] = ',';
	set_err(err, errlen, path, start, "header is \"%.200s\", expected \"%s\"",
		row->len ? row->buf : "", HP_CSV_HEADER);
	return -1;
}

int hp_read_csv(const char *path, hp_results_t *r, char *err, size_t errlen)
{
	size_t n = 0, pos = 0, nrec0 = r->nrec;
	csv_row_t row = { 0 };
	const char *why = NULL;
	long line = 1, start;
	char *s;
	int k, rc = -1;

	if (err && errlen)
		err[0] = '\0';
	s = hp_slurp(path, &n);
	if (!s) {
		set_err(err, errlen, path, 0, "cannot read: %s", strerror(errno));
		return -1;
	}
	if (csv_header(s, n, &pos, &line, &row, path, err, errlen) < 0)
		goto out;
	/* the writer ends every line with a newline: a file without one was
	 * cut (a full disk, a copy stopped half-way), maybe inside a value */
	if (s[n - 1] != '\n') {
		long last = 1;
		for (size_t i = 0; i < n; i++)
			last += s[i] == '\n';
		set_err(err, errlen, path, last, "the last line has no terminating newline: the file "
			"is cut short (damaged); its last value cannot be trusted");
		goto out;
	}

	for (;;) {
		hp_record_t x;

		/* blank lines carry nothing; tolerate them rather than fail */
		while (pos < n && (s[pos] == '\n' || (s[pos] == '\r' && pos + 1 < n && s[pos + 1] == '\n'))) {
			pos += s[pos] == '\r' ? 2 : 1;
			line++;
		}
		start = line;
		k = csv_next(s, n, &pos, &line, &row, &why);
		if (k == 0)
			break;
		if (k < 0) {
			set_err(err, errlen, path, start, "%s", why);
			goto out;
		}
		if (row.nf != CSV_NCOL) {
			set_err(err, errlen, path, start, "%d fields, expected %d (%s)", row.nf, CSV_NCOL,
				HP_CSV_HEADER);
			goto out;
		}
		if (csv_to_record(&row, &x, path, start, err, errlen) < 0)
			goto out;
		if (!hp_results_add(r, &x)) {
			set_err(err, errlen, path, start, "out of memory");
			goto out;
		}
	}
	rc = 0;
out:
	if (rc < 0)
		r->nrec = nrec0;    /* all or nothing */
	free(row.buf);
	free(s);
	return rc;
}
