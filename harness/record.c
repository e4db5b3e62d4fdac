/* record.c — the result set, its statistics, and its writers and readers (CSV, JSON, summary.md). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <json-c/json.h>

#include "keymap.h"
#include "record.h"

/* ==================================================================== */
/* Names, the container, strings                                        */
/* ==================================================================== */

static const char *const status_names[] = {
	[HP_ST_OK] = "ok",
	[HP_ST_UNAVAILABLE] = "unavailable",
	[HP_ST_SKIPPED] = "skipped",
	[HP_ST_FAILED] = "failed",
};

const char *hp_status_name(hp_status_kind_t s)
{
	if ((unsigned)s >= sizeof(status_names) / sizeof(status_names[0]))
		return "unknown";
	return status_names[s];
}

void hp_results_init(hp_results_t *r)
{
	memset(r, 0, sizeof(*r));
}

void hp_results_free(hp_results_t *r)
{
	free(r->rec);
	free(r->st);
	memset(r, 0, sizeof(*r));
}

/* Doubling growth; NULL with ENOMEM (and the array untouched) on failure. */
static void *grow(void *arr, size_t *cap, size_t need, size_t elem)
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
	hp_record_t *p = grow(r->rec, &r->caprec, r->nrec + 1, sizeof(*p));

	if (!p)
		return NULL;
	r->rec = p;
	p[r->nrec] = *rec;
	return &p[r->nrec++];
}

hp_status_t *hp_results_add_status(hp_results_t *r, const hp_status_t *st)
{
	hp_status_t *p = grow(r->st, &r->capst, r->nst + 1, sizeof(*p));

	if (!p)
		return NULL;
	r->st = p;
	p[r->nst] = *st;
	return &p[r->nst++];
}

void hp_strlcpy(char *dst, const char *src, size_t len)
{
	size_t n;

	if (!len)
		return;
	if (!src)
		src = "";
	n = strnlen(src, len - 1);
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* The shortest of %.15g/%.16g/%.17g that reads back as the same double:
 * exact like %.17g, but 0.1 stays "0.1" in files people read. */
static void fmt_exact(char *buf, size_t len, double v)
{
	for (int prec = 15; prec <= 17; prec++) {
		snprintf(buf, len, "%.*g", prec, v);
		if (!isfinite(v) || strtod(buf, NULL) == v)
			return;
	}
}

/* Benchmark identity used to group records: (suite, case, variant, param, threads). */
static void bench_key(char *buf, size_t len, const char *suite, const char *case_,
		      const char *variant, const char *param, int threads)
{
	snprintf(buf, len, "%s\x1f%s\x1f%s\x1f%s\x1f%d", suite, case_, variant, param, threads);
}

/* Google Benchmark style name: suite/case/variant[/param]/threads:N. */
static void bench_name(char *buf, size_t len, const char *suite, const char *case_,
		       const char *variant, const char *param, int threads)
{
	if (!param[0] || strcmp(param, "-") == 0)
		snprintf(buf, len, "%s/%s/%s/threads:%d", suite, case_, variant, threads);
	else
		snprintf(buf, len, "%s/%s/%s/%s/threads:%d", suite, case_, variant, param, threads);
}

/* ==================================================================== */
/* Statistics                                                           */
/* ==================================================================== */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	/* NaNs sort last so they cannot scramble the order of the rest */
	if (isnan(x) || isnan(y))
		return isnan(x) - isnan(y);
	return (x > y) - (x < y);
}

double hp_median(double *v, size_t n)
{
	if (!n)
		return NAN;
	qsort(v, n, sizeof(*v), cmp_double);
	if (n % 2)
		return v[n / 2];
	return v[n / 2 - 1] + (v[n / 2] - v[n / 2 - 1]) / 2;
}

double hp_cv(const double *v, size_t n)
{
	double mean = 0, ss = 0;

	if (n < 2)
		return 0;
	for (size_t i = 0; i < n; i++)
		mean += v[i];
	mean /= (double)n;
	/* two passes: the sum-of-squares shortcut loses everything on
	 * values like 1e9 +- 1 */
	for (size_t i = 0; i < n; i++)
		ss += (v[i] - mean) * (v[i] - mean);
	if (mean == 0)
		return 0;
	return sqrt(ss / (double)(n - 1)) / fabs(mean);
}

/* ==================================================================== */
/* Atomic files                                                         */
/* ==================================================================== */

/* Makes the rename itself durable; a failure here is not worth failing a
 * write whose data is already safely in place. */
static void fsync_parent(const char *path)
{
	char dir[4096];
	const char *slash = strrchr(path, '/');
	int fd;

	if (!slash)
		hp_strlcpy(dir, ".", sizeof(dir));
	else if (slash == path)
		hp_strlcpy(dir, "/", sizeof(dir));
	else if ((size_t)(slash - path) < sizeof(dir))
		hp_strlcpy(dir, path, (size_t)(slash - path) + 1);
	else
		return;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		(void)fsync(fd);
		close(fd);
	}
}

int hp_write_atomic(const char *path, const void *data, size_t len)
{
	const char *p = data;
	char *tmp;
	size_t plen;
	int fd, saved;

	if (!path || (!data && len)) {
		errno = EINVAL;
		return -1;
	}
	plen = strlen(path);
	tmp = malloc(plen + 5);
	if (!tmp)
		return -1;
	memcpy(tmp, path, plen);
	memcpy(tmp + plen, ".tmp", 5);

	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		goto fail_noclose;
	while (len) {
		ssize_t w = write(fd, p, len);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		p += w;
		len -= (size_t)w;
	}
	if (fsync(fd) < 0)
		goto fail;
	if (close(fd) < 0) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) < 0)
		goto fail;
	free(tmp);
	fsync_parent(path);
	return 0;

fail:
	saved = errno;
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	errno = saved;
fail_noclose:
	saved = errno;
	free(tmp);
	errno = saved;
	return -1;
}

int hp_write_json_atomic(const char *path, struct json_object *obj)
{
	const char *s;
	char *buf;
	size_t n;
	int rc, saved;

	s = json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
	if (!s) {
		errno = ENOMEM;
		return -1;
	}
	n = strlen(s);
	buf = malloc(n + 1);
	if (!buf)
		return -1;
	memcpy(buf, s, n);
	buf[n] = '\n';          /* a text file ends with a newline */
	rc = hp_write_atomic(path, buf, n + 1);
	saved = errno;
	free(buf);
	errno = saved;
	return rc;
}

/* A memory stream whose contents go to disk atomically at the end. */
static int finish_stream(FILE *f, char **buf, size_t *len, const char *path)
{
	int rc, saved;

	if (fflush(f) != 0 || ferror(f)) {
		saved = errno ? errno : EIO;
		fclose(f);
		free(*buf);
		errno = saved;
		return -1;
	}
	fclose(f);
	rc = hp_write_atomic(path, *buf, *len);
	saved = errno;
	free(*buf);
	errno = saved;
	return rc;
}

/* ==================================================================== */
/* results.csv                                                          */
/* ==================================================================== */

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
	char *buf = NULL, num[40];
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
		fmt_exact(num, sizeof(num), x->value);
		fprintf(f, "%d,%s\n", x->rep, num);
	}
	return finish_stream(f, &buf, &len, path);
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
	char *p = grow(row->buf, &row->cap, row->len + 1, 1);

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
	return 0;
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL, *p;
	size_t cap = 0, n = 0, got;

	if (!f)
		return NULL;
	do {
		p = grow(buf, &cap, n + 65536, 1);
		if (!p) {
			free(buf);
			fclose(f);
			errno = ENOMEM;
			return NULL;
		}
		buf = p;
		got = fread(buf + n, 1, cap - n, f);
		n += got;
	} while (got);
	if (ferror(f)) {
		free(buf);
		fclose(f);
		errno = EIO;
		return NULL;
	}
	fclose(f);
	*len = n;
	return buf;
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
	s = slurp(path, &n);
	if (!s) {
		set_err(err, errlen, path, 0, "cannot read: %s", strerror(errno));
		return -1;
	}

	/* the header is parsed like any row, so a wrong one can be shown
	 * back as it is */
	start = line;
	k = csv_next(s, n, &pos, &line, &row, &why);
	if (k <= 0) {
		set_err(err, errlen, path, start, k == 0 ? "empty file, expected the header \"%s\""
			: "bad header (%s), expected \"%s\"", k == 0 ? HP_CSV_HEADER : why, HP_CSV_HEADER);
		goto out;
	}
	{
		int ok = row.nf == CSV_NCOL;

		for (int c = 0; ok && c < CSV_NCOL; c++)
			ok = strcmp(row.buf + row.off[c], csv_cols[c]) == 0;
		if (!ok) {
			for (size_t i = 0; i + 1 < row.len; i++)
				if (!row.buf[i])
					row.buf[i] = ',';
			set_err(err, errlen, path, start, "header is \"%.200s\", expected \"%s\"",
				row.len ? row.buf : "", HP_CSV_HEADER);
			goto out;
		}
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

/* ==================================================================== */
/* Records and statuses as JSON (child -> runner)                       */
/* ==================================================================== */

/* Doubles go out as their shortest exact text, so the runner reads back
 * the very bits the child measured. */
static struct json_object *json_exact_double(double v)
{
	char num[40];

	if (!isfinite(v))
		return json_object_new_double(v);
	fmt_exact(num, sizeof(num), v);
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
	int found = 0;

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
	for (size_t i = 0; i < sizeof(status_names) / sizeof(status_names[0]); i++) {
		if (strcmp(name, status_names[i]) == 0) {
			x.status = (hp_status_kind_t)i;
			found = 1;
		}
	}
	if (!found)
		goto bad;
	*st = x;
	return 0;
bad:
	errno = EINVAL;
	return -1;
}

/* ==================================================================== */
/* Grouping shared by results.json and summary.md                       */
/* ==================================================================== */

/* Priority of the metric a benchmark is judged by: time when the run
 * measured time, else the counts of the instructions/perf runs. */
static const char *const primary_order[] = { "real_time", "instructions", "perf_cycles" };

/* Picks the primary metric among records idx[0..n) of r. */
static const char *pick_primary(const hp_results_t *r, const size_t *idx, size_t n)
{
	for (size_t p = 0; p < sizeof(primary_order) / sizeof(primary_order[0]); p++)
		for (size_t i = 0; i < n; i++)
			if (strcmp(r->rec[idx[i]].metric, primary_order[p]) == 0)
				return primary_order[p];
	return n ? r->rec[idx[0]].metric : NULL;
}

/* Sort keys: several dense ids per record, compared in order, then the
 * record's own position so ties keep the run's order. */
#define NKEYS 5
typedef struct sort_ctx {
	size_t (*key)[NKEYS];
} sort_ctx_t;

static int cmp_keys(const void *a, const void *b, void *arg)
{
	const sort_ctx_t *c = arg;
	size_t x = *(const size_t *)a, y = *(const size_t *)b;

	for (int k = 0; k < NKEYS; k++)
		if (c->key[x][k] != c->key[y][k])
			return c->key[x][k] < c->key[y][k] ? -1 : 1;
	return (x > y) - (x < y);
}

/* ==================================================================== */
/* results.json (Google Benchmark's shape)                              */
/* ==================================================================== */

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
	char name[256];

	bench_name(name, sizeof(name), b->suite, b->case_, b->variant, b->param, b->threads);
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
	char key[320];
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
		bench_key(key, sizeof(key), su, ca, va, pa, th);
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
			gb_bench_t *p = grow(bs, &cap, nb + 1, sizeof(*bs));

			if (!p)
				goto out;
			bs = p;
		}
		{
			size_t *q = grow(fam_n, &fcap, fm.n, sizeof(*fam_n));

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

static size_t *alloc_index(size_t n)
{
	size_t *idx = malloc((n ? n : 1) * sizeof(*idx));

	if (idx)
		for (size_t i = 0; i < n; i++)
			idx[i] = i;
	return idx;
}

/* One repetition of one benchmark: records sidx[a..e) (same bench, same rep). */
static struct json_object *gb_rep_entry(const hp_results_t *r, const gb_bench_t *b,
					const size_t *sidx, size_t a, size_t e, int has_time,
					const char *prim)
{
	const hp_record_t *x0 = &r->rec[sidx[a]];
	struct json_object *ent = gb_entry(b, x0->rep);
	double real = NAN, cpu = NAN, iters = 0;
	char key[80];

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

int hp_write_results_json(const char *path, const hp_results_t *r,
			  struct json_object *context)
{
	size_t *rec_b = NULL, *st_b = NULL, *sidx = NULL, (*keys)[NKEYS] = NULL, nb = 0;
	struct json_object *root = json_object_new_object(), *arr = json_object_new_array();
	gb_bench_t *bs = NULL;
	sort_ctx_t ctx;
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

	rec_b = calloc(r->nrec + 1, sizeof(*rec_b));
	st_b = calloc(r->nst + 1, sizeof(*st_b));
	keys = calloc(r->nrec + 1, sizeof(*keys));
	sidx = alloc_index(r->nrec);
	if (!rec_b || !st_b || !keys || !sidx) {
		errno = ENOMEM;
		goto out;
	}
	if (gb_index(r, rec_b, st_b, &bs, &nb) < 0)
		goto out;
	for (size_t i = 0; i < r->nrec; i++) {
		keys[i][0] = rec_b[i];
		/* negative reps (never written by the runner) sort after the rest */
		keys[i][1] = (size_t)(unsigned)r->rec[i].rep;
	}
	ctx.key = keys;
	qsort_r(sidx, r->nrec, sizeof(*sidx), cmp_keys, &ctx);
	for (size_t i = 0; i < r->nrec;) {
		size_t b = rec_b[sidx[i]], j = i;

		bs[b].first = i;
		while (j < r->nrec && rec_b[sidx[j]] == b) {
			if (j == i || r->rec[sidx[j]].rep != r->rec[sidx[j - 1]].rep)
				bs[b].nreps++;
			j++;
		}
		bs[b].end = j;
		i = j;
	}

	for (size_t b = 0; b < nb; b++) {
		const gb_bench_t *B = &bs[b];
		int has_time = 0;
		const char *prim = NULL;

		for (size_t i = B->first; i < B->end; i++)
			if (!strcmp(r->rec[sidx[i]].metric, "real_time") ||
			    !strcmp(r->rec[sidx[i]].metric, "cpu_time"))
				has_time = 1;
		if (!has_time)
			prim = pick_primary(r, sidx + B->first, B->end - B->first);
		for (size_t i = B->first; i < B->end;) {
			size_t j = i + 1;

			while (j < B->end && r->rec[sidx[j]].rep == r->rec[sidx[i]].rep)
				j++;
			json_object_array_add(arr, gb_rep_entry(r, B, sidx, i, j, has_time, prim));
			i = j;
		}
		for (size_t s = 0; s < r->nst; s++) {
			const hp_status_t *st = &r->st[s];
			struct json_object *ent;
			char msg[300];

			if (st_b[s] != b || st->status == HP_ST_OK)
				continue;
			ent = gb_entry(B, 0);
			jadd_int(ent, "iterations", 0);
			json_object_object_add(ent, "real_time", json_object_new_double(0));
			json_object_object_add(ent, "cpu_time", json_object_new_double(0));
			jadd_str(ent, "time_unit", "ns");
			json_object_object_add(ent, "error_occurred", json_object_new_boolean(1));
			snprintf(msg, sizeof(msg), "%s: %s", hp_status_name(st->status), st->message);
			jadd_str(ent, "error_message", msg);
			json_object_array_add(arr, ent);
		}
	}
	rc = hp_write_json_atomic(path, root);
out:
	saved = errno;
	json_object_put(root);
	free(bs);
	free(rec_b);
	free(st_b);
	free(keys);
	free(sidx);
	errno = saved;
	return rc;
}

/* ==================================================================== */
/* summary.md                                                           */
/* ==================================================================== */

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
	const char *unit;
	size_t n;
	double med, min, max, cv;
} sum_var_t;

static int summary_group(FILE *f, const hp_results_t *r, const size_t *sidx, size_t a, size_t e,
			 size_t (*keys)[NKEYS])
{
	const char *prim = pick_primary(r, sidx + a, e - a), *unit = "";
	const hp_record_t *x0 = &r->rec[sidx[a]];
	sum_var_t *vs = calloc(e - a, sizeof(*vs));
	double *vals = malloc((e - a) * sizeof(*vals)), impl = NAN;
	size_t nv = 0;
	char b1[64], b2[64], b3[64], b4[64], b5[64];

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
	for (size_t i = a; i < e;) {
		size_t j = i, n = 0;
		sum_var_t *v = &vs[nv++];

		v->x = &r->rec[sidx[i]];
		v->unit = unit;
		for (; j < e && keys[sidx[j]][3] == keys[sidx[i]][3]; j++) {
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
			if (isnan(impl) && !strcmp(v->x->kind, "impl"))
				impl = v->med;
		}
		i = j;
	}

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
	for (size_t k = 0; k < nv; k++) {
		const sum_var_t *v = &vs[k];

		fputs("| ", f);
		md_put(f, v->x->variant);
		fputs(" | ", f);
		md_put(f, v->x->kind);
		if (!v->n) {
			fputs(" | no ", f);
			md_put(f, prim);
			fputs(" | — | — | — | — |\n", f);
			continue;
		}
		fmt_num(b1, sizeof(b1), v->med);
		fmt_num(b2, sizeof(b2), v->min);
		fmt_num(b3, sizeof(b3), v->max);
		if (v->cv * 100 >= 10)
			snprintf(b4, sizeof(b4), "%.0f%%", v->cv * 100);
		else
			snprintf(b4, sizeof(b4), "%.2g%%", v->cv * 100);
		if (isnan(impl) || impl == 0)
			snprintf(b5, sizeof(b5), "—");
		else
			fmt_ratio(b5, sizeof(b5), v->med / impl);
		fprintf(f, " | %s", b1);
		if (strcmp(v->unit, unit)) {   /* never silently mix units in a column */
			fputc(' ', f);
			md_put(f, v->unit);
		}
		fprintf(f, " | %s | %s | %s | %s |\n", b2, b3, b4, b5);
	}
	fputc('\n', f);
	free(vs);
	free(vals);
	return 0;
}

int hp_write_summary(const char *path, const hp_results_t *r, const char *title_note)
{
	keymap_t maps[4];
	size_t (*keys)[NKEYS] = calloc(r->nrec + 1, sizeof(*keys)), *sidx = alloc_index(r->nrec);
	char *buf = NULL, key[320];
	size_t len = 0, ndone = 0;
	FILE *f = NULL;
	sort_ctx_t ctx;
	int saved;

	for (int m = 0; m < 4; m++)
		keymap_init(&maps[m]);
	if (!keys || !sidx)
		goto nomem;
	/* suite, case, (param, threads) and variant ids, each in first-seen order */
	for (size_t i = 0; i < r->nrec; i++) {
		const hp_record_t *x = &r->rec[i];

		snprintf(key, sizeof(key), "%s", x->suite);
		keys[i][0] = keymap_id(&maps[0], key);
		snprintf(key, sizeof(key), "%s\x1f%s", x->suite, x->case_);
		keys[i][1] = keymap_id(&maps[1], key);
		snprintf(key, sizeof(key), "%s\x1f%s\x1f%s\x1f%d", x->suite, x->case_, x->param, x->threads);
		keys[i][2] = keymap_id(&maps[2], key);
		bench_key(key, sizeof(key), x->suite, x->case_, x->variant, x->param, x->threads);
		keys[i][3] = keymap_id(&maps[3], key);
		for (int m = 0; m < 4; m++)
			if (keys[i][m] == KEYMAP_NONE)
				goto nomem;
	}
	ctx.key = keys;
	qsort_r(sidx, r->nrec, sizeof(*sidx), cmp_keys, &ctx);

	f = open_memstream(&buf, &len);
	if (!f)
		goto fail;
	fputs("# hotpath results\n\n", f);
	if (title_note && *title_note)
		fprintf(f, "%s\n\n", title_note);
	for (size_t i = 0; i < r->nrec;) {
		const hp_record_t *x = &r->rec[sidx[i]];
		size_t j = i;

		if (i == 0 || keys[sidx[i]][0] != keys[sidx[i - 1]][0]) {
			fputs("## ", f);
			md_put(f, x->suite);
			fputs("\n\n", f);
		}
		if (i == 0 || keys[sidx[i]][1] != keys[sidx[i - 1]][1]) {
			fputs("### ", f);
			md_put(f, x->case_);
			fputs("\n\n", f);
		}
		while (j < r->nrec && keys[sidx[j]][2] == keys[sidx[i]][2])
			j++;
		if (summary_group(f, r, sidx, i, j, keys) < 0)
			goto fail;
		i = j;
	}

	fputs("## Did not run\n\n", f);
	for (size_t s = 0; s < r->nst; s++) {
		const hp_status_t *st = &r->st[s];

		if (st->status == HP_ST_OK)
			continue;
		bench_name(key, sizeof(key), st->suite, st->case_, st->variant, st->param, st->threads);
		fputs("- ", f);
		md_put(f, key);
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
	if (!ndone)
		fputs("Every benchmark ran.\n", f);

	for (int m = 0; m < 4; m++)
		keymap_free(&maps[m]);
	free(keys);
	free(sidx);
	return finish_stream(f, &buf, &len, path);

nomem:
	errno = ENOMEM;
fail:
	saved = errno;
	if (f) {
		fclose(f);
		free(buf);
	}
	for (int m = 0; m < 4; m++)
		keymap_free(&maps[m]);
	free(keys);
	free(sidx);
	errno = saved;
	return -1;
}
