/* cli.c — the `hotpath` command: run, list, env, plot, compare, test, and the commands suites add (hp_suite_t.verbs). */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hp_config.h"
#include "hp.h"
#include "runner.h"
#include "topo.h"
#include "env.h"
#include "gbench.h"
#include "plot.h"
#include "compare.h"
#include "merge.h"
#include "system.h"
#include "metrics.h"
#include "fsutil.h"
#include "report.h"

/* The help, in two parts: the commands the suites add go between them. */
static const char usage_head[] =
	"usage: hotpath <command> [options]\n"
	"\n"
	"commands:\n"
	"  run       run suites and write a results folder\n"
	"  list      suites, cases, variants, and why a variant is unavailable\n"
	"  env       the machine and every noise source found, with advice\n"
	"  plot DIR  (re)draw the plots of a results folder\n"
	"  compare A B   per benchmark: ratio of medians B/A, 95% CI, verdict\n"
	"                (--report: also B/compare.html with both distributions drawn)\n"
	"  report DIR    DIR/report.html: one self-contained page of the run\n"
	"  export DIR --latex   DIR/tables/<suite>.tex and macros.tex for papers\n"
	"  compare M --runs X,Y   the same for two runs of a merged folder M\n"
	"  merge [--label L]... --out M DIR...   folders of several hosts/kernels in one (docs/merge.md)\n"
	"  system show|tune --cpus LIST|reset   host noise settings: show, tune (root), restore (docs/system.md)\n";
static const char usage_tail[] =
	"  test      run the test suite (meson test)\n"
	"\n"
	"run options:\n"
	"  --suite S,..        suites to run (default: all; see hotpath list)\n"
	"  --filter REGEX      only benchmarks whose suite/case/variant/param matches\n"
	"  --cpus LIST|auto    CPUs to pin to, e.g. 0-3,8 (default auto: one per core, CPU 0 last)\n"
	"  --profile P         smoke | quick | full (default quick)\n"
	"  --reps N            repetitions (default: the profile's)\n"
	"  --seed N            workload seed (default 1)\n"
	"  --metric M          time | instructions | perf | cache (default time)\n"
	"  --out DIR           parent folder of the run folder (default: results/ of the checkout)\n"
	"  --no-plots          do not draw plots\n"
	"  --quiet             no progress, only the run folder on stdout\n"
	"  --report            also write report.html in the run folder (hotpath report)\n"
	"\n"
	"exit codes: 0 ok, 1 a benchmark or test failed, 2 bad usage or input,\n"
	"77 skipped (tests), 99 internal error, 130 interrupted\n";

static void print_usage(void)
{
	fputs(usage_head, stdout);
	for (int i = 0; hp_suites[i]; i++)
		for (int k = 0; hp_suites[i]->verbs && hp_suites[i]->verbs[k]; k++)
			printf("  %s\n", hp_suites[i]->verbs[k]->usage);
	fputs(usage_tail, stdout);
}

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("hotpath: ", stderr);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\n(see hotpath --help)\n", stderr);
	return HP_EXIT_USAGE;
}

/* malloc that ends the program with a message when memory is out: the
 * CLI has nothing to fall back on. */
static void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p) {
		fprintf(stderr, "hotpath: out of memory (%zu bytes)\n", n);
		exit(HP_EXIT_INTERNAL);
	}
	return p;
}

/* "run, list, env, plot, compare, <the suites' commands>, test", for the
 * messages that name the valid commands; the caller frees it. */
static char *valid_commands(void)
{
	static const char head[] = "run, list, env, plot, compare, report, export, merge, system, ", tail[] = "test";
	size_t len = sizeof head + sizeof tail;
	for (int i = 0; hp_suites[i]; i++)
		for (int k = 0; hp_suites[i]->verbs && hp_suites[i]->verbs[k]; k++)
			len += strlen(hp_suites[i]->verbs[k]->name) + 2;
	char *s = xmalloc(len), *o = s;
	o = stpcpy(o, head);
	for (int i = 0; hp_suites[i]; i++)
		for (int k = 0; hp_suites[i]->verbs && hp_suites[i]->verbs[k]; k++)
			o = stpcpy(stpcpy(o, hp_suites[i]->verbs[k]->name), ", ");
	stpcpy(o, tail);
	return s;
}

/* The command line, as env.json records it. */
static char *join_args(int argc, char **argv)
{
	size_t len = 1;
	for (int i = 0; i < argc; i++)
		len += strlen(argv[i]) + 1;
	char *s = xmalloc(len), *o = s;
	for (int i = 0; i < argc; i++) {
		size_t l = strlen(argv[i]);
		if (i)
			*o++ = ' ';
		memcpy(o, argv[i], l);
		o += l;
	}
	*o = 0;
	return s;
}

/* An argument for a message: its first 200 bytes, control bytes as \xNN
 * (a raw one would garble the terminal). Overwritten by the next call. */
static const char *printable_arg(const char *a)
{
	static char buf[4 * 200 + 4];
	size_t o = 0, i = 0;
	for (; a[i] && i < 200; i++) {
		unsigned char c = (unsigned char)a[i];
		if (c < 0x20 || c == 0x7f)
			o += (size_t)snprintf(buf + o, sizeof buf - o, "\\x%02x", c);
		else
			buf[o++] = (char)c;
	}
	if (a[i])
		o += (size_t)snprintf(buf + o, sizeof buf - o, "...");
	buf[o] = 0;
	return buf;
}

/* Options shared by run, list and env. */
enum { O_SUITE = 1, O_FILTER, O_CPUS, O_PROFILE, O_REPS, O_SEED, O_METRIC, O_OUT, O_NOPLOTS, O_QUIET, O_JSON, O_REPORT, O_HELP };
static const struct option run_opts[] = {
	{ "suite", required_argument, 0, O_SUITE },
	{ "filter", required_argument, 0, O_FILTER },
	{ "cpus", required_argument, 0, O_CPUS },
	{ "profile", required_argument, 0, O_PROFILE },
	{ "reps", required_argument, 0, O_REPS },
	{ "seed", required_argument, 0, O_SEED },
	{ "metric", required_argument, 0, O_METRIC },
	{ "out", required_argument, 0, O_OUT },
	{ "no-plots", no_argument, 0, O_NOPLOTS },
	{ "quiet", no_argument, 0, O_QUIET },
	{ "json", no_argument, 0, O_JSON },
	{ "report", no_argument, 0, O_REPORT },
	{ "help", no_argument, 0, O_HELP },
	{ 0, 0, 0, 0 },
};

static const char *opt_name(int val)
{
	for (int i = 0; run_opts[i].name; i++)
		if (run_opts[i].val == val)
			return run_opts[i].name;
	return "?";
}

/* Which options each command takes. */
static int allowed(const char *cmd, int opt)
{
	if (opt == O_HELP)
		return 1;
	if (!strcmp(cmd, "run"))
		return opt != O_JSON;
	if (!strcmp(cmd, "list"))
		return opt == O_SUITE || opt == O_CPUS;
	if (!strcmp(cmd, "env"))
		return opt == O_CPUS || opt == O_JSON;
	return 0;
}

/* Decimal, or hex with 0x; never octal: "010" is ten, "09" is nine. */
static int parse_u64(const char *s, uint64_t *v)
{
	if (!s || !*s || *s < '0' || *s > '9')
		return -1;
	int hex = s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
	if (hex && !s[2])
		return -1;
	char *end;
	errno = 0;
	unsigned long long x = strtoull(hex ? s + 2 : s, &end, hex ? 16 : 10);
	if (hex && (s[2] == '-' || s[2] == '+' || s[2] == ' '))
		return -1;
	if (errno || *end)
		return -1;
	*v = x;
	return 0;
}

typedef struct cli {
	hp_run_opts_t run;
	int json;
	int report;
} cli_t;

/* Parses the options of run/list/env. Returns -1 to go on, else an exit code. */
static int parse_opts(const char *cmd, int argc, char **argv, cli_t *c)
{
	opterr = 0;
	optind = 1;
	int o, idx;
	while ((o = getopt_long(argc, argv, ":h", run_opts, &idx)) != -1) {
		if (o == 'h')
			o = O_HELP;
		if (o == '?') {
			/* optopt is a long option's value (an enum, not a character)
			 * when it was given a value it does not take: --quiet=1 */
			if (optopt >= O_SUITE && optopt <= O_HELP)
				return usage_error("%s: option '--%s' takes no value", cmd, opt_name(optopt));
			if (optopt > ' ' && optopt < 0x7f)
				return usage_error("%s: unknown option '-%c'", cmd, optopt);
			return usage_error("%s: unknown option '%s'", cmd, printable_arg(argv[optind - 1]));
		}
		if (o == ':')
			return usage_error("%s: option '--%s' needs a value", cmd, opt_name(optopt));
		if (!allowed(cmd, o))
			return usage_error("%s: option '--%s' does not apply to %s", cmd, opt_name(o), cmd);
		uint64_t v;
		switch (o) {
		case O_HELP:
			print_usage();
			return HP_EXIT_OK;
		case O_SUITE:
			/* an empty list is an error, not "all" (an unset shell variable) */
			if (!*optarg)
				return usage_error("--suite: empty suite list (leave --suite out to run every suite)");
			c->run.suites = optarg;
			break;
		case O_FILTER: c->run.filter = optarg; break;
		case O_CPUS: c->run.cpus_spec = optarg; break;
		case O_PROFILE:
			c->run.profile = hp_profile_find(optarg);
			if (!c->run.profile)
				return usage_error("--profile: unknown profile '%s' (valid: smoke, quick, full)", optarg);
			break;
		case O_REPS:
			if (parse_u64(optarg, &v) != 0 || v < 1 || v > 1000)
				return usage_error("--reps: '%s' is not a repetition count (valid: 1 to 1000)", optarg);
			c->run.reps = (int)v;
			break;
		case O_SEED:
			if (parse_u64(optarg, &v) != 0)
				return usage_error("--seed: '%s' is not an unsigned 64-bit number (decimal, or hex with 0x)", optarg);
			c->run.seed = v;
			break;
		case O_METRIC:
			if (hp_metric_parse(optarg, &c->run.metric) != 0)
				return usage_error("--metric: unknown metric '%s' (valid: time, instructions, perf, cache)", optarg);
			break;
		case O_OUT:
			if (!*optarg)
				return usage_error("--out: empty folder name");
			for (const char *q = optarg; *q; q++)
				if ((unsigned char)*q < 0x20 || *q == 0x7f)
					return usage_error("--out: the folder name holds control character 0x%02x at "
							   "byte %zu (valid: a path without control characters)",
							   (unsigned char)*q, (size_t)(q - optarg));
			c->run.out = optarg;
			break;
		case O_NOPLOTS: c->run.no_plots = 1; break;
		case O_QUIET: c->run.quiet = 1; break;
		case O_JSON: c->json = 1; break;
		case O_REPORT: c->report = 1; break;
		}
	}
	if (optind < argc)
		return usage_error("%s: unexpected argument '%s'", cmd, argv[optind]);
	return -1;
}

/* Loads the topology and the --cpus selection for list and env. NULL with
 * *rc set to the exit code (after a message) on failure. */
static hp_topo_t *load_cpus(const char *cmd, const char *spec, int *cpus, int *ncpus, int *rc)
{
	char err[1024];
	hp_topo_t *t = hp_topo_load(err, sizeof err);
	if (!t) {
		fprintf(stderr, "hotpath %s: %s\n", cmd, err);
		*rc = HP_EXIT_INTERNAL;
		return NULL;
	}
	*ncpus = hp_cpulist_parse(t, spec ? spec : "auto", cpus, HP_MAX_CPUS, err, sizeof err);
	if (*ncpus <= 0) {
		fprintf(stderr, "hotpath %s: %s\n", cmd, err);
		hp_topo_free(t);
		*rc = HP_EXIT_USAGE;
		return NULL;
	}
	return t;
}

/* ---- list ---- */

/* One line per variant of a case: available or why not; then the params
 * the selected CPUs are too few for. */
static void list_variants(const hp_case_t *cs, const int *cpus, int ncpus)
{
	static const hp_param_t none = { .label = "-" };
	for (int vi = 0; cs->variants[vi]; vi++) {
		const hp_variant_t *v = cs->variants[vi];
		hp_ctx_t ctx = {
			.c = cs, .v = v, .p = cs->params ? &cs->params[0] : &none,
			.threads = 1, .cpus = cpus, .ncpus = ncpus, .all_cpus = cpus,
		};
		const char *why = v->available ? v->available(&ctx) : NULL;
		printf("      %-22s %-9s %s%s%s\n", v->name, hp_kind_name(v->kind),
		       why ? "unavailable: " : "available", why ? why : "",
		       v->child_env ? " (own process)" : "");
		if (v->work && v->work[0])
			printf("      %-22s work: %s%s%s%s\n", "", v->work,
			       v->work_class && v->work_class[0] ? " [" : "",
			       v->work_class && v->work_class[0] ? v->work_class : "",
			       v->work_class && v->work_class[0] ? "]" : "");
		for (int k = 0; cs->params && cs->params[k].label; k++)
			if (cs->params[k].min_cpus > ncpus)
				printf("      %-22s %-9s %s=%s unavailable: needs %d CPUs, --cpus gives %d\n",
				       "", "", cs->param_name ? cs->param_name : "param",
				       cs->params[k].label, cs->params[k].min_cpus, ncpus);
	}
}

/* A case: its description, units, params and threads, then its variants. */
static void list_case(const hp_case_t *cs, const int *cpus, int ncpus)
{
	printf("  %s — %s\n", cs->name, cs->desc);
	printf("      per %s", cs->op_unit ? cs->op_unit : "op");
	if (cs->item_unit)
		printf(" and per %s", cs->item_unit);
	if (cs->params) {
		printf("; %s:", cs->param_name ? cs->param_name : "param");
		for (int k = 0; cs->params[k].label; k++)
			printf(" %s%s", cs->params[k].label, cs->params[k].full_only ? "*" : "");
	}
	for (int k = 0; cs->params && cs->params[k].label; k++)
		if (cs->params[k].full_only) {
			printf(" (* --profile full or --filter only)");
			break;
		}
	if (cs->thread_sweep == HP_THREADS_ALL)
		printf("; threads %d (one per selected CPU)", ncpus);
	else if (cs->thread_sweep)
		printf("; threads 1..%d", ncpus);
	printf("\n");
	list_variants(cs, cpus, ncpus);
}

static int cmd_list(cli_t *c)
{
	/* room for every suite once, selftest and the terminating NULL */
	int max = 2;
	for (int i = 0; hp_suites[i]; i++)
		max++;
	const hp_suite_t **suites = xmalloc((size_t)max * sizeof *suites);
	char err[1024];
	if (hp_select_suites(c->run.suites, suites, max, err, sizeof err) < 0) {
		fprintf(stderr, "hotpath list: %s\n", err);
		free(suites);
		return HP_EXIT_USAGE;
	}
	int cpus[HP_MAX_CPUS], ncpus, rc;
	hp_topo_t *t = load_cpus("list", c->run.cpus_spec, cpus, &ncpus, &rc);
	if (!t) {
		free(suites);
		return rc;
	}
	const char *cg = hp_cg_unavailable(), *pf = hp_perf_unavailable(), *pl = hp_plot_unavailable();
	printf("metrics: time: available; instructions: %s%s; cache: %s%s; perf: %s%s; plots: %s%s\n",
	       cg ? "unavailable: " : "available", cg ? cg : "",
	       cg ? "unavailable: " : "available (callgrind's cache simulator)", cg ? cg : "",
	       pf ? "unavailable: " : "available", pf ? pf : "",
	       pl ? "unavailable: " : "available", pl ? pl : "");
	for (int si = 0; suites[si]; si++) {
		printf("\n%s — %s\n", suites[si]->name, suites[si]->desc);
		for (int ci = 0; suites[si]->cases[ci]; ci++)
			list_case(suites[si]->cases[ci], cpus, ncpus);
	}
	hp_topo_free(t);
	free(suites);
	return HP_EXIT_OK;
}

/* ---- env ---- */

static int cmd_env(cli_t *c, const char *cmdline)
{
	int cpus[HP_MAX_CPUS], ncpus, rc;
	hp_topo_t *t = load_cpus("env", c->run.cpus_spec, cpus, &ncpus, &rc);
	if (!t)
		return rc;
	hp_env_opts_t eo = { .cpus = cpus, .ncpus = ncpus, .seed = c->run.seed,
			     .command_line = cmdline, .metric = "time", .profile = "quick",
			     .gbench_build = hp_gb_library_build() };
	struct json_object *env = hp_env_capture(t, &eo);
	if (c->json) {
		size_t len;
		char *text = hp_json_text(env, &len);
		if (!text) {
			fprintf(stderr, "hotpath env: out of memory\n");
			json_object_put(env);
			hp_topo_free(t);
			return HP_EXIT_INTERNAL;
		}
		fwrite(text, 1, len, stdout);
		free(text);
	} else
		hp_env_print(env, stdout);
	json_object_put(env);
	hp_topo_free(t);
	return HP_EXIT_OK;
}

/* ---- test ---- */

static int cmd_test(int argc, char **argv)
{
	char **args = xmalloc((size_t)(argc + 5) * sizeof *args);
	int a = 0;
	args[a++] = "meson";
	args[a++] = "test";
	args[a++] = "-C";
	args[a++] = HP_BUILD_ROOT;
	args[a++] = "--print-errorlogs";
	for (int i = 1; i < argc; i++)
		args[a++] = argv[i];
	args[a] = NULL;
	execvp("meson", args);
	fprintf(stderr, "hotpath test: cannot run meson: %s (install it: apt-get install meson)\n", strerror(errno));
	free(args);
	return HP_EXIT_INTERNAL;
}

/* A command no suite adds and hotpath does not know: exit 2 naming the valid ones. */
static int unknown_command(const char *cmd)
{
	char *valid = valid_commands();
	int rc = cmd ? usage_error("unknown command '%s' (valid: %s)", cmd, valid)
		     : usage_error("no command given (valid: %s)", valid);
	free(valid);
	return rc;
}

static int cli_main(int argc, char **argv)
{
	if (argc < 2)
		return unknown_command(NULL);
	const char *cmd = argv[1];
	if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
		print_usage();
		return HP_EXIT_OK;
	}
	if (!strcmp(cmd, "--version")) {
		printf("hotpath %s\n", HP_VERSION);
		return HP_EXIT_OK;
	}
	if (!strcmp(cmd, "__child"))
		return hp_child_main(argc - 1, argv + 1);
	if (!strcmp(cmd, "test"))
		return cmd_test(argc - 1, argv + 1);
	if (!strcmp(cmd, "plot")) {
		if (argc != 3)
			return usage_error("plot: expected one results folder (hotpath plot DIR)");
		return hp_plot_dir(argv[2], hp_suites, getenv("HP_TEMPLATES") && *getenv("HP_TEMPLATES")
			? getenv("HP_TEMPLATES") : HP_SOURCE_ROOT "/scripts");
	}
	if (!strcmp(cmd, "merge"))
		return hp_merge_main(argc - 1, argv + 1);
	if (!strcmp(cmd, "system"))
		return hp_system_main(argc - 1, argv + 1);
	if (!strcmp(cmd, "compare") && argc == 5 && !strcmp(argv[3], "--runs"))
		return hp_compare_runs(argv[2], argv[4], stdout);
	if (!strcmp(cmd, "compare")) {
		int rep = argc == 5 && !strcmp(argv[4], "--report");
		if (argc != 4 && !rep)
			return usage_error("compare: expected two results folders (hotpath compare A B [--report])");
		int crc = hp_compare_dirs(argv[2], argv[3], stdout);
		return crc == 0 && rep ? hp_report_compare(argv[2], argv[3]) : crc;
	}
	if (!strcmp(cmd, "report")) {
		if (argc != 3 || argv[2][0] == '-')
			return usage_error("report: expected one results folder (hotpath report DIR)");
		int rrc = hp_report_dir(argv[2]);
		if (rrc == 0)
			printf("%s/report.html\n", argv[2]);
		return rrc;
	}
	if (!strcmp(cmd, "export")) {
		if (argc != 4 || strcmp(argv[3], "--latex"))
			return usage_error("export: expected a results folder and a format (hotpath export DIR --latex; "
					   "valid formats: --latex)");
		return hp_export_latex(argv[2]);
	}
	if (strcmp(cmd, "run") && strcmp(cmd, "list") && strcmp(cmd, "env")) {
		/* a command some suite adds (sched: sim); argv[0] is its name */
		const hp_verb_t *verb = hp_verb_find(cmd);
		return verb ? verb->main(argc - 1, argv + 1) : unknown_command(cmd);
	}

	cli_t c;
	memset(&c, 0, sizeof c);
	c.run.profile = hp_profile_find("quick");
	c.run.seed = 1;
	c.run.metric = HP_METRIC_TIME;
	c.run.out = HP_SOURCE_ROOT "/results";
	int rc = parse_opts(cmd, argc - 1, argv + 1, &c);
	if (rc >= 0)
		return rc;
	char *cl = join_args(argc, argv);
	c.run.command_line = cl;
	if (!strcmp(cmd, "list"))
		rc = cmd_list(&c);
	else if (!strcmp(cmd, "env"))
		rc = cmd_env(&c, cl);
	else {
		char dir[4096] = "";
		c.run.dir_out = dir;
		c.run.dir_len = sizeof dir;
		rc = hp_run(&c.run);
		/* a run with a failed benchmark still has a folder worth a page */
		if (c.report && dir[0] && (rc == HP_EXIT_OK || rc == HP_EXIT_FAIL)) {
			int rrc = hp_report_dir(dir);
			if (rrc != 0)
				rc = rrc == HP_EXIT_USAGE ? HP_EXIT_FAIL : rrc;
		}
	}
	free(cl);
	return rc;
}

/* What a command printed must have reached stdout: `hotpath list > /dev/full`
 * is a failure (exit 1), not a success with nothing written. */
int main(int argc, char **argv)
{
	int rc = cli_main(argc, argv);
	errno = 0;
	int bad = fflush(stdout) != 0;
	int e = errno;
	bad |= ferror(stdout) != 0;
	if (bad) {
		fprintf(stderr, "hotpath%s%s: cannot write to standard output: %s\n", argc > 1 ? " " : "",
			argc > 1 ? printable_arg(argv[1]) : "", e ? strerror(e) : "write error");
		if (rc == HP_EXIT_OK)
			rc = HP_EXIT_FAIL;
	}
	return rc;
}
