/* sim_cli.c — the command line of `hotpath sim`: options, the policy (by kernel version, or the running kernel's), one seed's CSV or the distribution over --seeds K. */
#include "sim.h"
#include "sim_dist.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

int hp_sched_policy_auto(hp_sched_policy_t *p, char *release, size_t len)
{
	struct utsname u;

	if (uname(&u) != 0) {
		snprintf(release, len, "uname: %s", strerror(errno));
		return -1;
	}
	snprintf(release, len, "%s", u.release);
	return hp_sched_policy_for_release(u.release, p);
}

static const char sim_usage[] =
	"usage: hotpath sim FILE.json [--policy P] [--seed N] [--seeds K] [--cpus N] [--hz N]\n"
	"                   [--scale-cpus N] [--wake-delay US] [--clock-poll US] [--trace FILE]\n"
	"\n"
	"Simulates the fair-class tasks of an rt-app scenario in virtual time. With one seed\n"
	"it prints one CSV row per task: task,nice,weight,runtime_ns,share,switches,wakeups,\n"
	"wakeup_p50_ns,wakeup_p99_ns,wakeup_max_ns,migrations; then Jain's index as a comment.\n"
	"With --seeds K it runs seeds N..N+K-1 and prints, per task and metric (p50_ns,\n"
	"p90_ns, p99_ns of the wake-up latency, share, switches), the median over the seeds\n"
	"and the central 95% interval of the per-seed values: task,metric,median,lo95,hi95,n.\n"
	"A task may carry \"slice\": US (100..100000), its custom slice (sched_attr.sched_runtime,\n"
	"Linux 6.12+; the 6.12 and 6.17 models use it, cfs-6.1 and eevdf-6.6 ignore it).\n"
	"\n"
	"  --policy P       the model by kernel version: cfs-6.1, eevdf-6.6, eevdf-6.12,\n"
	"                   eevdf-6.17; cfs and eevdf name the newest of each (eevdf, the\n"
	"                   default, is eevdf-6.17); auto: the model of the running kernel\n"
	"                   (uname -r), named on stderr\n"
	"  --seed N         the first seed (default 1): the tick's phase and the threads'\n"
	"                   start offsets are drawn from it\n"
	"  --seeds K        run K seeds, 1..10000, and print the distribution\n"
	"  --cpus N         simulated CPUs, 1..64 (default 1)\n"
	"  --hz N           tick rate, 10..10000 (default 250)\n"
	"  --scale-cpus N   CPUs the tunables scale with, as the kernel's online CPUs (default --cpus)\n"
	"  --wake-delay US  a sleep or timer wakes its task US µs after it is due, 0..10000\n"
	"                   (default 0; the kernel's timer slack, 50 µs, plus the wake path),\n"
	"                   counted in the wake-up latency\n"
	"  --clock-poll US  a task executing a \"run\" event reads its CPU clock every US µs,\n"
	"                   1..10000, and each read runs update_curr() and its preemption\n"
	"                   checks at once (hotpath's load generator measures \"run\" with\n"
	"                   CLOCK_THREAD_CPUTIME_ID; rt-app does not; default: never)\n"
	"  --trace FILE     write every switch as CSV: time_ns,cpu,prev,next,reason (one seed only)\n";

static int sim_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sim_usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("hotpath sim: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\n(see hotpath sim --help)\n", stderr);
	return HP_SIM_EXIT_USAGE;
}

static int parse_num(const char *s, long lo, long hi, long *out)
{
	char *end;
	long v;

	if (!s || !*s)
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

typedef struct sim_cli {
	hp_sim_opts_t o;
	const char *trace, *file;
	int nseeds;             /* 0: one seed, the per-task CSV */
} sim_cli_t;

/* One option of `hotpath sim`. -1 to go on, else the exit code (after the message). */
static int sim_opt(int c, const char *arg, const char *opt, sim_cli_t *a)
{
	hp_sim_opts_t *o = &a->o;
	long v;

	switch (c) {
	case 'h':
		fputs(sim_usage, stdout);
		return HP_SIM_EXIT_OK;
	case 'p':
		if (!strcmp(arg, "auto")) {
			char rel[256];

			if (hp_sched_policy_auto(&o->policy, rel, sizeof rel))
				return sim_usage_error("--policy auto: cannot tell the kernel version from '%s'"
						       " (give one of: %s)", rel, hp_sched_policy_names());
			fprintf(stderr, "hotpath sim: --policy auto: %s (running kernel %s)\n",
				hp_sched_policy_name(o->policy), rel);
		} else if (hp_sched_policy_parse(arg, &o->policy)) {
			return sim_usage_error("--policy: unknown policy '%s' (valid: %s, auto)", arg,
					       hp_sched_policy_names());
		}
		return -1;
	case 's': {
		char *end;

		errno = 0;
		o->seed = strtoull(arg, &end, 0);
		if (!*arg || *arg == '-' || errno || *end)
			return sim_usage_error("--seed: '%s' is not an unsigned 64-bit number", arg);
		return -1;
	}
	case 'K':
		if (parse_num(arg, 1, HP_SIM_MAX_SEEDS, &v))
			return sim_usage_error("--seeds: '%s' (valid: 1..%d)", arg, HP_SIM_MAX_SEEDS);
		a->nseeds = (int)v;
		return -1;
	case 'c':
		if (parse_num(arg, 1, HP_SIM_MAX_CPUS, &v))
			return sim_usage_error("--cpus: '%s' (valid: 1..%d)", arg, HP_SIM_MAX_CPUS);
		o->ncpus = (int)v;
		return -1;
	case 'S':
		if (parse_num(arg, 1, 4096, &v))
			return sim_usage_error("--scale-cpus: '%s' (valid: 1..4096)", arg);
		o->scale_cpus = (int)v;
		return -1;
	case 'z':
		if (parse_num(arg, 10, 10000, &v))
			return sim_usage_error("--hz: '%s' (valid: 10..10000; kernels use 100, 250, 300, 1000)",
					       arg);
		o->hz = (int)v;
		return -1;
	case 'w':
		if (parse_num(arg, 0, 10000, &v))
			return sim_usage_error("--wake-delay: '%s' (valid: 0..10000 µs)", arg);
		o->wake_delay_ns = (uint64_t)v * 1000u;
		return -1;
	case 'P':
		if (parse_num(arg, 1, 10000, &v))
			return sim_usage_error("--clock-poll: '%s' (valid: 1..10000 µs)", arg);
		o->clock_poll_ns = (uint64_t)v * 1000u;
		return -1;
	case 't':
		if (!*arg)
			return sim_usage_error("--trace: empty file name");
		a->trace = arg;
		return -1;
	case ':':
		return sim_usage_error("option '%s' needs a value", opt);
	default:
		return sim_usage_error("unknown option '%s'", opt);
	}
}

/* The options and the one scenario file. -1 to go on, else the exit code. */
static int sim_args(int argc, char **argv, sim_cli_t *a)
{
	static const struct option opts[] = {
		{ "policy", required_argument, 0, 'p' }, { "seed", required_argument, 0, 's' },
		{ "seeds", required_argument, 0, 'K' }, { "cpus", required_argument, 0, 'c' },
		{ "hz", required_argument, 0, 'z' }, { "scale-cpus", required_argument, 0, 'S' },
		{ "wake-delay", required_argument, 0, 'w' }, { "clock-poll", required_argument, 0, 'P' },
		{ "trace", required_argument, 0, 't' }, { "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 },
	};
	int c, rc;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		rc = sim_opt(c, optarg, argv[optind - 1], a);
		if (rc >= 0)
			return rc;
	}
	if (optind >= argc)
		return sim_usage_error("no scenario file given (hotpath sim FILE.json)");
	if (optind + 1 < argc)
		return sim_usage_error("unexpected argument '%s' (one scenario file only)", argv[optind + 1]);
	if (a->trace && a->nseeds > 1)
		return sim_usage_error("--trace: one seed only (--seeds %d given)", a->nseeds);
	a->file = argv[optind];
	return -1;
}

int hp_sim_main(int argc, char **argv)
{
	sim_cli_t a = { 0 };
	char err[1024] = "";
	hp_scn_t *scn;
	int rc;

	hp_sim_opts_default(&a.o);
	rc = sim_args(argc, argv, &a);
	if (rc >= 0)
		return rc;
	scn = hp_scn_load(a.file, err, sizeof err);
	if (!scn) {
		fprintf(stderr, "hotpath sim: %s\n", err);
		return HP_SIM_EXIT_USAGE;
	}
	if (a.trace) {
		a.o.trace = fopen(a.trace, "w");
		if (!a.o.trace) {
			fprintf(stderr, "hotpath sim: --trace: cannot write %s: %s\n", a.trace, strerror(errno));
			hp_scn_free(scn);
			return HP_SIM_EXIT_USAGE;
		}
	}
	if (a.nseeds) {
		hp_sim_dist_t d;

		rc = hp_sim_run_seeds(scn, &a.o, a.nseeds, &d, err, sizeof err);
		if (rc == 0) {
			hp_sim_write_dist_csv(stdout, &d, &a.o);
			hp_sim_dist_free(&d);
		}
	} else {
		hp_sim_res_t r;

		rc = hp_sim_run(scn, &a.o, &r, err, sizeof err);
		if (rc == 0) {
			hp_sim_write_csv(stdout, &r, &a.o);
			hp_sim_res_free(&r);
		}
	}
	if (rc == 0) {
		if (fflush(stdout) != 0) {
			fprintf(stderr, "hotpath sim: writing the CSV: %s\n", strerror(errno));
			rc = HP_SIM_EXIT_INTERNAL;
		}
	} else if (rc == -1) {
		fprintf(stderr, "hotpath sim: %s: %s\n", a.file, err);
		rc = HP_SIM_EXIT_USAGE;
	} else {
		fprintf(stderr, "hotpath sim: %s: internal error: %s\n", a.file, err);
		rc = HP_SIM_EXIT_INTERNAL;
	}
	if (a.o.trace && fclose(a.o.trace) != 0 && rc == 0) {
		fprintf(stderr, "hotpath sim: --trace: writing %s: %s\n", a.trace, strerror(errno));
		rc = HP_SIM_EXIT_INTERNAL;
	}
	hp_scn_free(scn);
	return rc;
}
