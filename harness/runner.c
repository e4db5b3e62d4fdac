/* runner.c — turns a selection into a plan of benchmarks, hands each to a
 * measuring backend (backend.h) on pinned CPUs, and keeps the results
 * folder up to date after every benchmark so nothing finished is lost. */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <regex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hp_config.h"
#include "hp_time.h"
#include "hp.h"
#include "runner.h"
#include "backend.h"
#include "gbench.h"
#include "topo.h"
#include "env.h"
#include "record.h"
#include "metrics.h"
#include "plot.h"
#include "rundir.h"

/* The harness gives up on an allocation failure: nothing sensible is left
 * to measure with, and a partial plan would be a silent truncation. */
static void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (!q) {
		fprintf(stderr, "hotpath: out of memory (%zu bytes)\n", n);
		exit(HP_EXIT_INTERNAL);
	}
	return q;
}

/* ================================================================== */
/* Profiles, metrics, suite selection                                  */
/* ================================================================== */

const hp_profile_t hp_profiles[] = {
	/* smoke: seconds for the whole kernel suite; for tests, not numbers */
	{ .name = "smoke", .reps = 2, .min_time_s = 0.002, .warmup_s = 0.0, .count_iters = 200 },
	/* quick: the default; every suite in a few minutes on 2 cores */
	{ .name = "quick", .reps = 5, .min_time_s = 0.1, .warmup_s = 0.05, .count_iters = 1000 },
	/* full: bare metal, minutes per suite */
	{ .name = "full", .reps = 15, .min_time_s = 0.5, .warmup_s = 0.2, .count_iters = 10000 },
	{ .name = NULL },
};

const hp_profile_t *hp_profile_find(const char *name)
{
	for (int i = 0; hp_profiles[i].name; i++)
		if (strcmp(hp_profiles[i].name, name) == 0)
			return &hp_profiles[i];
	return NULL;
}

static const char *const metric_names[] = { "time", "instructions", "perf", "cache" };

const char *hp_metric_name(hp_metric_t m) { return metric_names[m]; }

int hp_metric_parse(const char *s, hp_metric_t *m)
{
	for (int i = 0; i < (int)(sizeof metric_names / sizeof metric_names[0]); i++)
		if (strcmp(s, metric_names[i]) == 0) {
			*m = (hp_metric_t)i;
			return 0;
		}
	return -1;
}

static int count_suites(void)
{
	int n = 0;
	while (hp_suites[n])
		n++;
	return n;
}

/* The message for an unknown suite, with the whole list of valid ones. */
static void unknown_suite(const char *name, char *err, size_t errlen)
{
	int n = snprintf(err, errlen, "--suite: unknown suite '%s' (valid: ", name);
	for (int i = 0; hp_suites[i] && n >= 0 && (size_t)n < errlen; i++)
		n += snprintf(err + n, errlen - (size_t)n, "%s%s", i ? ", " : "", hp_suites[i]->name);
	if (n >= 0 && (size_t)n < errlen)
		snprintf(err + n, errlen - (size_t)n, ")");
}

static int too_many_suites(int max, char *err, size_t errlen)
{
	snprintf(err, errlen, "--suite: more than %d suites selected (the caller's limit)", max - 1);
	return -1;
}

int hp_select_suites(const char *list, const hp_suite_t **out, int max,
		     char *err, size_t errlen)
{
	int n = 0;
	if (!list) {
		for (int i = 0; hp_suites[i]; i++) {
			if (n >= max - 1)
				return too_many_suites(max, err, errlen);
			out[n++] = hp_suites[i];
		}
		out[n] = NULL;
		return n;
	}
	char *dup = strdup(list), *save = NULL;
	if (!dup) {
		snprintf(err, errlen, "--suite: out of memory");
		return -1;
	}
	for (char *tok = strtok_r(dup, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		const hp_suite_t *s = hp_suite_find(tok);
		if (!s) {
			unknown_suite(tok, err, errlen);
			free(dup);
			return -1;
		}
		int seen = 0;
		for (int i = 0; i < n; i++)
			seen |= out[i] == s;
		if (!seen && n >= max - 1) {
			free(dup);
			return too_many_suites(max, err, errlen);
		}
		if (!seen)
			out[n++] = s;
	}
	free(dup);
	if (n == 0) {
		snprintf(err, errlen, "--suite: empty suite list");
		return -1;
	}
	out[n] = NULL;
	return n;
}

/* ================================================================== */
/* The plan: jobs from suites, cases, variants, params and threads      */
/* ================================================================== */

typedef struct plan {
	hp_job_t *jobs;
	size_t n, cap;
	int all_params;         /* include hp_param_t.full_only points */
} plan_t;

/* Adds j unless the filter rejects its name. 0, or -1 with err when the
 * name does not fit (then the filter could not see all of it). */
static int plan_add(plan_t *pl, const hp_job_t *j, const regex_t *filter, char *err, size_t errlen)
{
	char name[HP_JOB_NAME_MAX];
	if (hp_job_name(j, name, sizeof name) != 0) {
		snprintf(err, errlen, "benchmark name %s/%s/%s/%s is longer than %d characters",
			 j->s->name, j->c->name, j->v->name, j->p->label, HP_JOB_NAME_MAX - 1);
		return -1;
	}
	if (filter && regexec(filter, name, 0, NULL, 0) != 0)
		return 0;
	if (pl->n == pl->cap) {
		pl->cap = pl->cap ? pl->cap * 2 : 64;
		pl->jobs = xrealloc(pl->jobs, pl->cap * sizeof *pl->jobs);
	}
	pl->jobs[pl->n++] = *j;
	return 0;
}

/* Every (variant, param, threads) of one case. */
static int plan_case(plan_t *pl, const hp_suite_t *s, const hp_case_t *c, int ncpus,
		     const regex_t *filter, char *err, size_t errlen)
{
	int np = c->params ? hp_case_nparams(c) : 1;
	int maxt = c->thread_sweep ? ncpus : 1;
	int mint = c->thread_sweep == HP_THREADS_ALL ? ncpus : 1;
	for (int vi = 0; c->variants[vi]; vi++)
		for (int pi = 0; pi < np; pi++)
			for (int t = mint; t <= maxt; t++) {
				hp_job_t j = { s, c, c->variants[vi], hp_case_param(c, pi), t };
				if (j.p->full_only && !pl->all_params)
					continue;
				if (plan_add(pl, &j, filter, err, errlen) != 0)
					return -1;
			}
	return 0;
}

/* Saturating: a size estimate past any limit stays past it. */
static unsigned long sat_add(unsigned long a, unsigned long b)
{
	return a > ULONG_MAX - b ? ULONG_MAX : a + b;
}

static unsigned long sat_mul(unsigned long a, unsigned long b)
{
	return b && a > ULONG_MAX / b ? ULONG_MAX : a * b;
}

/* glibc's regcomp recurses once per nested group (20000 of them overflow
 * the stack) and copies a group once per count of a bounded repetition
 * ((a{1,255}){1,255}){1,255} takes gigabytes), so both are bounded before
 * regcomp sees the pattern: the length, the nesting, and an estimate of
 * the compiled size (an atom is 1, a group the sum of its atoms, x{m,n}
 * the size of x times max(m, n)). */
int hp_filter_check(const char *re, char *err, size_t errlen)
{
	size_t len = strlen(re);
	if (len > HP_FILTER_MAX_LEN) {
		snprintf(err, errlen, "the regular expression is %zu characters long (limit %d)",
			 len, HP_FILTER_MAX_LEN);
		return -1;
	}
	unsigned long sum[HP_FILTER_MAX_DEPTH + 1] = { 0 }, last[HP_FILTER_MAX_DEPTH + 1] = { 0 };
	int d = 0;
	for (size_t i = 0; i < len; i++) {
		char c = re[i];
		if (c == '(') {
			if (d == HP_FILTER_MAX_DEPTH) {
				snprintf(err, errlen, "groups nested more than %d deep (at character %zu)",
					 HP_FILTER_MAX_DEPTH, i + 1);
				return -1;
			}
			d++;
			sum[d] = last[d] = 0;
			continue;
		}
		if (c == ')' && d > 0) {
			unsigned long g = sum[d] ? sum[d] : 1;
			d--;
			sum[d] = sat_add(sum[d], g);
			last[d] = g;
			continue;
		}
		if (c == '{' && i + 1 < len && re[i + 1] >= '0' && re[i + 1] <= '9') {
			unsigned long m = 0, n = 0, *cur = &m;
			size_t k = i + 1;
			for (; k < len && re[k] != '}'; k++) {
				if (re[k] == ',' && cur == &m)
					cur = &n;
				else if (re[k] >= '0' && re[k] <= '9')
					*cur = sat_add(sat_mul(*cur, 10), (unsigned long)(re[k] - '0'));
				else
					break;
			}
			if (k < len && re[k] == '}') {
				unsigned long times = m > n ? m : n, rep = sat_mul(last[d], times ? times : 1);
				sum[d] = sat_add(sum[d] - last[d], rep);
				last[d] = rep;
				i = k;
				continue;
			}
		}
		if (c == '*' || c == '+' || c == '?' || c == '|' || c == '^' || c == '$')
			continue;
		last[d] = 1;
		if (c == '\\' && i + 1 < len) {
			i++;
		} else if (c == '[') {
			/* a bracket expression is one atom: [], []...] and [^]...] start with a literal ] */
			size_t k = i + 1;
			if (k < len && re[k] == '^')
				k++;
			if (k < len && re[k] == ']')
				k++;
			while (k < len && re[k] != ']')
				k++;
			i = k < len ? k : len - 1;
		}
		sum[d] = sat_add(sum[d], 1);
	}
	unsigned long total = sum[0];
	for (int k = 1; k <= d; k++)
		total = sat_add(total, sum[k]);
	if (total > HP_FILTER_MAX_SIZE) {
		snprintf(err, errlen, "the regular expression's repetitions expand to more than %d atoms "
			 "(nested {m,n} multiply; limit %d)", HP_FILTER_MAX_SIZE, HP_FILTER_MAX_SIZE);
		return -1;
	}
	return 0;
}

/* The --filter, compiled; 0 or an exit code with a message printed. */
static int filter_compile(const char *filter_re, regex_t *re, int *have)
{
	*have = 0;
	if (!filter_re || !*filter_re)
		return 0;
	char why[256];
	if (hp_filter_check(filter_re, why, sizeof why) != 0) {
		fprintf(stderr, "hotpath run: --filter: %s\n", why);
		return HP_EXIT_USAGE;
	}
	int rc = regcomp(re, filter_re, REG_EXTENDED | REG_NOSUB);
	if (rc != 0) {
		char m[256];
		regerror(rc, re, m, sizeof m);
		fprintf(stderr, "hotpath run: --filter: bad regular expression '%s': %s\n", filter_re, m);
		return HP_EXIT_USAGE;
	}
	*have = 1;
	return 0;
}

/* The jobs of the selected suites that the filter (may be NULL) lets
 * through; may be none. 0, or an exit code with a message printed. */
static int plan_build(plan_t *pl, const hp_suite_t *const *suites, const regex_t *filter, int ncpus)
{
	char err[1024];
	int rc = 0;
	for (int si = 0; suites[si] && rc == 0; si++)
		for (int ci = 0; suites[si]->cases[ci] && rc == 0; ci++)
			rc = plan_case(pl, suites[si], suites[si]->cases[ci], ncpus, filter, err, sizeof err);
	if (rc != 0) {
		fprintf(stderr, "hotpath run: %s\n", err);
		return HP_EXIT_INTERNAL;
	}
	return 0;
}

/* ================================================================== */
/* Availability and the choice of backend                              */
/* ================================================================== */

/* NULL when the job can run here with this metric, else why not. */
static const char *job_unavailable(const hp_runenv_t *re, const hp_job_t *j, const hp_ctx_t *ctx,
				   char *buf, size_t len)
{
	int need = j->p->min_cpus > j->threads ? j->p->min_cpus : j->threads;
	if (need > re->ncpus) {
		snprintf(buf, len, "needs %d CPUs, --cpus gave %d", need, re->ncpus);
		return buf;
	}
	if (j->v->available) {
		const char *why = j->v->available(ctx);
		if (why)
			return why;
	}
	if (HP_METRIC_CALLGRIND(re->metric)) {
		const char *why = hp_cg_unavailable();
		if (why)
			return why;
	}
	if (re->metric == HP_METRIC_PERF) {
		const char *why = hp_perf_unavailable();
		if (why)
			return why;
	}
	return NULL;
}

/* Instructions always need a child (valgrind); a variant with its own
 * environment needs one for any metric. */
static hp_backend_fn job_backend(const hp_runenv_t *re, const hp_job_t *j)
{
	if (HP_METRIC_CALLGRIND(re->metric))
		return hp_backend_callgrind;
	if (j->v->child_env)
		return hp_backend_child;
	if (re->metric == HP_METRIC_PERF)
		return hp_backend_perf;
	return hp_backend_gbench;
}

/* Measures one job, or records why it cannot run. */
static void run_job(const hp_runenv_t *re, const hp_job_t *j, hp_results_t *res)
{
	hp_ctx_t ctx;
	char why_buf[256];
	hp_job_ctx(re, j, &ctx);
	const char *why = job_unavailable(re, j, &ctx, why_buf, sizeof why_buf);
	if (why)
		hp_set_status(res, j, re->metric, HP_ST_UNAVAILABLE, 0, "%s", why);
	else if (HP_METRIC_CALLGRIND(re->metric) && j->threads > 1)
		hp_set_status(res, j, re->metric, HP_ST_SKIPPED, 0,
			      "%s are counted with one thread; the thread sweep needs --metric time",
			      re->metric == HP_METRIC_CACHE ? "cache misses" : "instructions");
	else
		job_backend(re, j)(re, j, res);
}

/* ================================================================== */
/* Signals: Ctrl-C finishes the current benchmark, a crash says what ran */
/* ================================================================== */

static volatile sig_atomic_t g_interrupted;
/* Written before each benchmark, so the handler only has to write(2) it;
 * room for a PATH_MAX folder and a full benchmark name. */
static char g_crash_msg[PATH_MAX + HP_JOB_NAME_MAX + 256];
static size_t g_crash_len;

static void on_interrupt(int sig)
{
	(void)sig;
	if (g_interrupted) {
		static const char m[] = "\nhotpath: interrupted twice, stopping now\n";
		ssize_t rc = write(2, m, sizeof m - 1);
		(void)rc;
		_exit(130);
	}
	g_interrupted = 1;
	static const char m[] = "\nhotpath: interrupted; finishing the current benchmark, then writing results (Ctrl-C again to stop now)\n";
	ssize_t rc = write(2, m, sizeof m - 1);
	(void)rc;
}

static void on_crash(int sig)
{
	ssize_t rc = write(2, g_crash_msg, g_crash_len);
	(void)rc;
	signal(sig, SIG_DFL);
	raise(sig);
}

static void install_signals(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_interrupt;
	sa.sa_flags = SA_RESTART;   /* reads from a child's pipe go on */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sa.sa_handler = on_crash;
	sa.sa_flags = SA_RESETHAND;
	int fatal[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT };
	for (size_t i = 0; i < sizeof fatal / sizeof fatal[0]; i++)
		sigaction(fatal[i], &sa, NULL);
}

static void set_crash_msg(const char *job, size_t done, const char *dir)
{
	g_crash_len = (size_t)snprintf(g_crash_msg, sizeof g_crash_msg,
		"\nhotpath: crashed while running %s; the results of the %zu benchmark(s) that "
		"finished are kept in %s (results.csv, results.json, summary.md)\n", job, done, dir);
	if (g_crash_len >= sizeof g_crash_msg)
		g_crash_len = sizeof g_crash_msg - 1;
}

/* ================================================================== */
/* Progress line and the summary table                                 */
/* ================================================================== */

typedef struct progress {
	int on, color;
	size_t total;
	double t0;
} progress_t;

static void progress_show(progress_t *pg, size_t done, const hp_job_t *j)
{
	if (!pg->on)
		return;
	char name[HP_JOB_NAME_MAX], eta[32] = "";
	hp_job_name(j, name, sizeof name);
	double el = hp_mono_s() - pg->t0;
	if (done > 0) {
		double left = el / done * (pg->total - done);
		snprintf(eta, sizeof eta, " ETA %d:%02d", (int)left / 60, (int)left % 60);
	}
	fprintf(stderr, "\r\033[K%s[%zu/%zu]%s %s t=%d%s", pg->color ? "\033[1m" : "", done + 1, pg->total,
		pg->color ? "\033[0m" : "", name, j->threads, eta);
	fflush(stderr);
}

static void progress_end(progress_t *pg)
{
	if (pg->on)
		fprintf(stderr, "\r\033[K");
}

static int same_bench(const hp_record_t *a, const hp_record_t *b)
{
	return !strcmp(a->suite, b->suite) && !strcmp(a->case_, b->case_) &&
	       !strcmp(a->variant, b->variant) && !strcmp(a->param, b->param) &&
	       a->threads == b->threads;
}

/* One line of the table: the median and CV of metric prim over the
 * records [i, k) of one benchmark. */
static void print_row(const hp_results_t *r, size_t i, size_t k, const char *prim, FILE *out)
{
	double *v = xrealloc(NULL, (k - i) * sizeof *v);
	size_t n = 0;
	const char *unit = "";
	for (size_t q = i; q < k; q++)
		if (!strcmp(r->rec[q].metric, prim)) {
			v[n++] = r->rec[q].value;
			unit = r->rec[q].unit;
		}
	double cv = hp_cv(v, n);
	double med = hp_median(v, n);
	const hp_record_t *a = &r->rec[i];
	char name[HP_BENCH_KEY_MAX];
	snprintf(name, sizeof name, "%s/%s/%s/%s t=%d", a->suite, a->case_, a->variant,
		 a->param, a->threads);
	fprintf(out, "  %-48s %12.4g %-16s CV %5.1f%%\n", name, med, unit, cv * 100);
	free(v);
}

/* Prints the median of the primary metric per benchmark. */
static void print_table(const hp_results_t *r, FILE *out)
{
	size_t i = 0;
	while (i < r->nrec) {
		const char *prim = NULL;
		/* primary metric of this benchmark: the first in hp_primary_rank order */
		size_t k = i;
		for (; k < r->nrec && same_bench(&r->rec[i], &r->rec[k]); k++) {
			const char *m = r->rec[k].metric;
			if (hp_primary_rank(m) < HP_NPRIMARY &&
			    (!prim || hp_primary_rank(m) < hp_primary_rank(prim)))
				prim = m;
		}
		if (prim)
			print_row(r, i, k, prim, out);
		i = k;
	}
}

/* ================================================================== */
/* The run                                                             */
/* ================================================================== */

typedef struct run {
	const hp_run_opts_t *o;
	const hp_suite_t **suites;      /* NULL-terminated */
	hp_runenv_t re;
	regex_t filter;
	int have_filter;
	plan_t plan;
	char dir[PATH_MAX];
	struct json_object *env;
	hp_results_t res;
	progress_t pg;
	size_t done;
	int failed;
	int interrupted;
	int plots;
	int write_failed;               /* a result file could not be written: the run stopped */
	int nby[HP_ST_FAILED + 1];      /* statuses by kind */
	char note[PATH_MAX + 512];
	char write_err[PATH_MAX + 256];
} run_t;

/* Suites, filter, topology, CPUs, run environment (checked in the order
 * the CLI always reported them). 0 or an exit code. */
static int run_setup(run_t *r)
{
	const hp_run_opts_t *o = r->o;
	char err[1024];
	int nsuites = count_suites();
	r->suites = xrealloc(NULL, (size_t)(nsuites + 1) * sizeof *r->suites);
	if (hp_select_suites(o->suites, r->suites, nsuites + 1, err, sizeof err) < 0) {
		fprintf(stderr, "hotpath run: %s\n", err);
		return HP_EXIT_USAGE;
	}
	int rc = filter_compile(o->filter, &r->filter, &r->have_filter);
	if (rc != 0)
		return rc;
	hp_child_save_affinity();
	r->re.topo = hp_topo_load(err, sizeof err);
	if (!r->re.topo) {
		fprintf(stderr, "hotpath run: cannot load the topology: %s\n", err);
		return HP_EXIT_INTERNAL;
	}
	r->re.ncpus = hp_cpulist_parse(r->re.topo, o->cpus_spec ? o->cpus_spec : "auto", r->re.cpus,
				       HP_MAX_CPUS, err, sizeof err);
	if (r->re.ncpus <= 0) {
		fprintf(stderr, "hotpath run: %s\n", err);
		return HP_EXIT_USAGE;
	}
	/* results.csv's cpus column holds the '+'-joined CPUs of the widest
	 * thread count; refuse a selection it cannot hold rather than cut it */
	size_t need = hp_cpus_string(r->re.cpus, r->re.ncpus, NULL, 0);
	if (need >= sizeof ((hp_record_t *)0)->cpus) {
		fprintf(stderr, "hotpath run: --cpus: %d CPUs make a cpus column of %zu characters; "
			"results hold at most %zu: select fewer CPUs\n", r->re.ncpus, need,
			sizeof ((hp_record_t *)0)->cpus - 1);
		return HP_EXIT_USAGE;
	}
	r->re.seed = o->seed;
	r->re.prof = o->profile;
	r->re.reps = o->reps > 0 ? o->reps : o->profile->reps;
	r->re.metric = o->metric;
	return 0;
}

/* The run folder with env.json and topology.xml; the banner. 0 or an exit code. */
static int run_start(run_t *r)
{
	const hp_runenv_t *re = &r->re;
	char err[1024], path[PATH_MAX];
	if (hp_make_run_dir(r->o->out, r->dir, sizeof r->dir, err, sizeof err) != 0) {
		fprintf(stderr, "hotpath run: %s\n", err);
		return HP_EXIT_USAGE;
	}
	hp_env_opts_t eo = {
		.cpus = re->cpus, .ncpus = re->ncpus, .seed = re->seed,
		.command_line = r->o->command_line, .metric = hp_metric_name(re->metric),
		.profile = re->prof->name, .gbench_build = hp_gb_library_build(),
	};
	r->env = hp_env_capture(re->topo, &eo);
	json_object_object_add(r->env, "status", json_object_new_string("running"));
	json_object_object_add(r->env, "repetitions", json_object_new_int(re->reps));
	snprintf(path, sizeof path, "%s/env.json", r->dir);
	if (hp_write_json_atomic(path, r->env) != 0) {
		/* a full disk or a read-only folder: nothing ran, leave no empty run folder */
		fprintf(stderr, "hotpath run: cannot write %s: %s\n", path, strerror(errno));
		rmdir(r->dir);
		return HP_EXIT_FAIL;
	}
	snprintf(path, sizeof path, "%s/topology.xml", r->dir);
	if (hp_topo_export_xml(re->topo, path, err, sizeof err) != 0)
		hp_env_warn(r->env, err);
	if (!r->o->quiet) {
		char cl[HP_MAX_CPUS * 6];   /* any list: at most 5 digits and a comma a CPU */
		hp_cpulist_format(re->cpus, re->ncpus, cl, sizeof cl);
		fprintf(stderr, "hotpath: %zu benchmark(s), profile %s, metric %s, %d repetition(s), CPUs %s, seed %" PRIu64 "\n",
			r->plan.n, re->prof->name, hp_metric_name(re->metric), re->reps, cl, re->seed);
	}
	return 0;
}

/* Runs every job until done or interrupted, rewriting the result files
 * after each one. */
static void run_loop(run_t *r)
{
	r->pg = (progress_t){
		.on = !r->o->quiet && isatty(2), .total = r->plan.n, .t0 = hp_mono_s(),
		.color = getenv("NO_COLOR") == NULL || !*getenv("NO_COLOR"),
	};
	install_signals();
	for (size_t i = 0; i < r->plan.n && !g_interrupted; i++) {
		const hp_job_t *j = &r->plan.jobs[i];
		char name[HP_JOB_NAME_MAX];
		hp_job_name(j, name, sizeof name);
		set_crash_msg(name, r->done, r->dir);
		progress_show(&r->pg, r->done, j);
		size_t before = r->res.nst;
		if (hp_results_set_work(&r->res, j->s->name, j->c->name, j->v->name, j->v->work,
					j->v->work_class) != 0)
			hp_env_warn(r->env, "a variant's work line or class is too long for hp_work_t: not recorded");
		run_job(&r->re, j, &r->res);
		for (size_t k = before; k < r->res.nst; k++)
			if (r->res.st[k].status == HP_ST_FAILED) {
				r->failed++;
				progress_end(&r->pg);
				fprintf(stderr, "hotpath: %s t=%d failed: %s\n", name, j->threads, r->res.st[k].message);
			}
		r->done++;
		snprintf(r->note, sizeof r->note, "Incomplete: %zu of %zu benchmarks done so far.",
			 r->done, r->plan.n);
		if (hp_write_outputs(r->dir, &r->res, r->env, r->note, 0, hp_suites, r->write_err,
				     sizeof r->write_err) != 0) {
			progress_end(&r->pg);
			fprintf(stderr, "hotpath run: %s; stopping after %zu of %zu benchmarks\n",
				r->write_err, r->done, r->plan.n);
			r->write_failed = 1;
			break;
		}
	}
	progress_end(&r->pg);
	r->interrupted = g_interrupted != 0;
}

/* A warning in env.json when threads ran on other CPUs than bound. */
static void warn_cpu_mismatch(run_t *r)
{
	for (size_t k = 0; k < r->res.nrec; k++) {
		const hp_record_t *rec = &r->res.rec[k];
		char want[sizeof rec->cpus];
		hp_cpus_string(r->re.cpus, rec->threads, want, sizeof want);
		if (strcmp(rec->metric, "real_time") == 0 && strcmp(rec->cpus, want) != 0) {
			char m[512];
			snprintf(m, sizeof m, "%s/%s/%s: threads ran on CPUs %s, not %s as bound",
				 rec->suite, rec->case_, rec->variant, rec->cpus, want);
			hp_env_warn(r->env, m);
			break;
		}
	}
}

static void env_status(run_t *r)
{
	json_object_object_add(r->env, "status",
			       json_object_new_string(r->write_failed ? "failed" :
						      r->interrupted ? "interrupted" : "complete"));
}

/* The final fields of env.json: status, duration, counts by status. */
static void env_finish(run_t *r)
{
	struct json_object *env = r->env;
	env_status(r);
	json_object_object_add(env, "duration_s", json_object_new_double(hp_mono_s() - r->pg.t0));
	struct json_object *counts = json_object_new_object();
	for (size_t k = 0; k < r->res.nst; k++)
		if ((unsigned)r->res.st[k].status <= HP_ST_FAILED)   /* a child's JSON is checked, still */
			r->nby[r->res.st[k].status]++;
	for (int k = 0; k <= HP_ST_FAILED; k++)
		json_object_object_add(counts, hp_status_name((hp_status_kind_t)k),
				       json_object_new_int(r->nby[k]));
	json_object_object_add(env, "benchmarks", counts);
	warn_cpu_mismatch(r);
}

static const char *templates_dir(void)
{
	const char *t = getenv("HP_TEMPLATES");
	return t && *t ? t : HP_SOURCE_ROOT "/scripts";
}

/* Plots of a complete run; a reason in env.json when there are none. */
static void run_plots(run_t *r)
{
	if (r->o->no_plots || r->interrupted)
		return;
	char err[1024];
	const char *why = hp_plot_unavailable();
	if (why) {
		char m[300];
		snprintf(m, sizeof m, "plots not drawn: %s", why);
		hp_env_warn(r->env, m);
		if (!r->o->quiet)
			fprintf(stderr, "hotpath: %s\n", m);
		return;
	}
	r->plots = hp_plot_results(r->dir, &r->res, r->suites, templates_dir(), err, sizeof err);
	if (r->plots < 0) {
		char m[1100];
		snprintf(m, sizeof m, "plots failed: %s", err);
		hp_env_warn(r->env, m);
		fprintf(stderr, "hotpath: %s\n", m);
		r->failed++;    /* a plot asked for and not drawn is a failed output: exit 1 */
	}
}

/* The note under summary.md's title and on the closing line: it counts
 * what really ran. */
static void run_note(run_t *r)
{
	size_t njobs = r->plan.n;
	if (r->write_failed)
		snprintf(r->note, sizeof r->note, "Stopped: %zu of %zu benchmarks ran; the run stopped "
			 "because a result file could not be written (%s).", r->done, njobs, r->write_err);
	else if (r->interrupted)
		snprintf(r->note, sizeof r->note, "Interrupted: %zu of %zu benchmarks finished; their results are complete, the rest did not run.",
			 r->done, njobs);
	else
		snprintf(r->note, sizeof r->note, "Complete: %zu benchmarks.", r->done);
}

/* The last version of every file, then the summary on stdout. Result files
 * first: when they cannot be written (a full disk) no plot is drawn and the
 * closing line says the run stopped. */
static void run_finish(run_t *r)
{
	char path[PATH_MAX];
	run_note(r);
	env_finish(r);
	int complete = !r->interrupted && !r->write_failed;
	if (!r->write_failed &&
	    hp_write_outputs(r->dir, &r->res, r->env, r->note, complete, hp_suites, r->write_err, sizeof r->write_err) != 0) {
		fprintf(stderr, "hotpath run: %s\n", r->write_err);
		r->write_failed = 1;
		complete = 0;
		run_note(r);
		env_status(r);
	}
	if (!r->write_failed)
		run_plots(r);
	/* env.json and results.json again: the plots' warnings and the final status */
	snprintf(path, sizeof path, "%s/env.json", r->dir);
	if (hp_write_json_atomic(path, r->env) != 0) {
		if (!r->write_failed)
			fprintf(stderr, "hotpath run: cannot write %s: %s\n", path, strerror(errno));
		r->write_failed = 1;
	} else if (hp_write_outputs(r->dir, &r->res, r->env, r->note, complete, hp_suites, r->write_err,
				    sizeof r->write_err) != 0 && !r->write_failed) {
		fprintf(stderr, "hotpath run: %s\n", r->write_err);
		r->write_failed = 1;
	}
	if (r->write_failed)
		r->failed++;
	if (!r->o->quiet) {
		const int *nby = r->nby;
		printf("hotpath: %s (%d ok, %d unavailable, %d skipped, %d failed)\n", r->note,
		       nby[HP_ST_OK], nby[HP_ST_UNAVAILABLE], nby[HP_ST_SKIPPED], nby[HP_ST_FAILED]);
		print_table(&r->res, stdout);
		for (size_t k = 0; k < r->res.nst; k++) {
			const hp_status_t *s = &r->res.st[k];
			if (s->status != HP_ST_OK)
				printf("  %s/%s/%s/%s t=%d: %s: %s\n", s->suite, s->case_, s->variant, s->param,
				       s->threads, hp_status_name(s->status), s->message);
		}
		if (r->plots > 0)
			printf("hotpath: %d plot(s) in %s/plots\n", r->plots, r->dir);
	}
	printf("%s\n", r->dir);
	fflush(stdout);
}

static void run_free(run_t *r)
{
	if (r->have_filter)
		regfree(&r->filter);
	if (r->env)
		json_object_put(r->env);
	hp_results_free(&r->res);
	free(r->plan.jobs);
	free(r->suites);
	if (r->re.topo)
		hp_topo_free(r->re.topo);
}

int hp_run(const hp_run_opts_t *o)
{
	run_t r;
	memset(&r, 0, sizeof r);
	r.o = o;
	hp_results_init(&r.res);
	int rc = run_setup(&r);
	r.plan.all_params = r.have_filter || strcmp(o->profile->name, "full") == 0;
	if (rc == 0)
		rc = plan_build(&r.plan, r.suites, r.have_filter ? &r.filter : NULL, r.re.ncpus);
	if (rc == 0 && r.plan.n == 0) {
		fprintf(stderr, "hotpath run: --filter '%s' matches no benchmark (names are suite/case/variant/param; see hotpath list)\n",
			o->filter ? o->filter : "");
		rc = HP_EXIT_USAGE;
	}
	if (rc == 0)
		rc = run_start(&r);
	if (rc == 0) {
		if (o->dir_out)
			hp_strlcpy(o->dir_out, r.dir, o->dir_len);
		run_loop(&r);
		run_finish(&r);
		rc = r.interrupted ? 130 : r.failed ? HP_EXIT_FAIL : HP_EXIT_OK;
	}
	run_free(&r);
	return rc;
}
