/* backend_child.c — a benchmark in a child process: `hotpath __child`
 * started with the variant's own environment (LD_PRELOAD=...) or under a
 * wrapper (valgrind, for the callgrind backend). The child measures with
 * the in-process backends and writes its records and status as JSON lines
 * to a pipe; a crash of the child is then a failed status here, not the
 * end of the run. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <json-c/json.h>

#include "hp_time.h"
#include "backend.h"

/* The process's CPU set before the runner bound anything. */
static cpu_set_t g_orig_mask;
static int g_have_orig_mask;

void hp_child_save_affinity(void)
{
	if (!g_have_orig_mask && sched_getaffinity(0, sizeof g_orig_mask, &g_orig_mask) == 0)
		g_have_orig_mask = 1;
}

static const char *self_exe(void)
{
	static char exe[PATH_MAX];
	if (!exe[0]) {
		ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
		if (n <= 0)
			hp_strlcpy(exe, "hotpath", sizeof exe);
		else
			exe[n] = '\0';
	}
	return exe;
}

/* Reads JSON lines of records and statuses from fd into out. Returns the
 * number of statuses read. */
static int read_child_lines(int fd, hp_results_t *out)
{
	FILE *f = fdopen(fd, "r");
	if (!f) {
		close(fd);
		return 0;
	}
	char *line = NULL;
	size_t cap = 0;
	int nst = 0;
	while (getline(&line, &cap, f) > 0) {
		struct json_object *o = json_tokener_parse(line), *x;
		if (!o)
			continue;
		if (json_object_object_get_ex(o, "record", &x)) {
			hp_record_t r;
			if (hp_record_from_json(x, &r) == 0)
				hp_results_add(out, &r);
		} else if (json_object_object_get_ex(o, "status", &x)) {
			hp_status_t s;
			if (hp_status_from_json(x, &s) == 0) {
				hp_results_add_status(out, &s);
				nst++;
			}
		}
		json_object_put(o);
	}
	free(line);
	fclose(f);
	return nst;
}

/* The arguments of `hotpath __child` as text, kept for the exec. cpus
 * holds any list of HP_MAX_CPUS CPUs (at most 5 digits and a comma each). */
typedef struct child_args {
	char cpus[HP_MAX_CPUS * 6], seed[32], threads[16], reps[16], fd[16];
} child_args_t;

/* The command line: wrapper..., self, "__child", options; malloc'd, or
 * NULL when out of memory. */
static char **child_argv(const hp_runenv_t *re, const hp_job_t *j, const char *const *wrapper,
			 child_args_t *ca)
{
	size_t nw = 0;
	while (wrapper && wrapper[nw])
		nw++;
	enum { NOPTS = 11, NFIXED = 2 + 2 * NOPTS + 1 };   /* self, __child, options with values, NULL */
	char **argv = malloc((nw + NFIXED) * sizeof *argv);
	if (!argv)
		return NULL;
	size_t a = 0;
	for (size_t i = 0; i < nw; i++)
		argv[a++] = (char *)wrapper[i];
	argv[a++] = (char *)self_exe();
	argv[a++] = "__child";
	argv[a++] = "--suite"; argv[a++] = (char *)j->s->name;
	argv[a++] = "--case"; argv[a++] = (char *)j->c->name;
	argv[a++] = "--variant"; argv[a++] = (char *)j->v->name;
	argv[a++] = "--param"; argv[a++] = (char *)j->p->label;
	argv[a++] = "--threads"; argv[a++] = ca->threads;
	argv[a++] = "--cpus"; argv[a++] = ca->cpus;
	argv[a++] = "--seed"; argv[a++] = ca->seed;
	argv[a++] = "--metric"; argv[a++] = (char *)hp_metric_name(re->metric);
	argv[a++] = "--profile"; argv[a++] = (char *)re->prof->name;
	argv[a++] = "--reps"; argv[a++] = ca->reps;
	argv[a++] = "--fd"; argv[a++] = ca->fd;
	if (a + 1 != nw + NFIXED) {     /* NOPTS must count the options above */
		fprintf(stderr, "hotpath: internal error: child argv holds %zu, sized for %zu\n",
			a + 1, nw + (size_t)NFIXED);
		abort();
	}
	argv[a] = NULL;
	return argv;
}

/* In the forked child: never returns. */
static void child_exec(const hp_job_t *j, char **argv, child_args_t *ca, int wfd_cloexec,
		       const char *extra_env)
{
	int wfd = dup(wfd_cloexec);    /* without O_CLOEXEC */
	if (g_have_orig_mask)
		sched_setaffinity(0, sizeof g_orig_mask, &g_orig_mask);
	/* Ctrl-C is the runner's to handle: it lets this benchmark finish */
	signal(SIGINT, SIG_IGN);
	snprintf(ca->fd, sizeof ca->fd, "%d", wfd);
	if (j->v->child_env) {
		/* one NAME=VALUE, or several separated by '\n' (a static copy:
		 * putenv keeps the pointers until the exec) */
		static char envs[1024];
		char *e = envs, *nl;

		snprintf(envs, sizeof envs, "%s", j->v->child_env);
		for (; (nl = strchr(e, '\n')) != NULL; e = nl + 1) {
			*nl = '\0';
			putenv(e);
		}
		putenv(e);
	}
	if (extra_env)
		putenv((char *)extra_env);
	execv(argv[0], argv);
	fprintf(stderr, "hotpath: cannot start %s: %s\n", argv[0], strerror(errno));
	_exit(HP_EXIT_INTERNAL);
}

int hp_child_spawn(const hp_runenv_t *re, const hp_job_t *j, const char *const *wrapper,
		   const char *extra_env, hp_results_t *got, int *pid_out, int *wait_status,
		   hp_results_t *out)
{
	child_args_t ca;
	hp_cpulist_format(re->cpus, re->ncpus, ca.cpus, sizeof ca.cpus);
	snprintf(ca.seed, sizeof ca.seed, "%" PRIu64, re->seed);
	snprintf(ca.threads, sizeof ca.threads, "%d", j->threads);
	snprintf(ca.reps, sizeof ca.reps, "%d", re->reps);
	char **argv = child_argv(re, j, wrapper, &ca);
	if (!argv) {
		hp_set_status(out, j, re->metric, HP_ST_FAILED, 0, "out of memory for a child's command line");
		return -1;
	}
	int pfd[2];
	if (pipe2(pfd, O_CLOEXEC) != 0) {
		hp_set_status(out, j, re->metric, HP_ST_FAILED, 0, "pipe: %s", strerror(errno));
		free(argv);
		return -1;
	}
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		hp_set_status(out, j, re->metric, HP_ST_FAILED, 0, "fork: %s", strerror(errno));
		close(pfd[0]);
		close(pfd[1]);
		free(argv);
		return -1;
	}
	if (pid == 0) {
		close(pfd[0]);
		child_exec(j, argv, &ca, pfd[1], extra_env);
	}
	free(argv);
	close(pfd[1]);
	int nst = read_child_lines(pfd[0], got);
	int ws = 0;
	while (waitpid(pid, &ws, 0) < 0 && errno == EINTR)
		;
	*pid_out = (int)pid;
	*wait_status = ws;
	return nst;
}

int hp_child_ended_badly(const hp_runenv_t *re, const hp_job_t *j, int nst, int ws,
			 double secs, hp_results_t *out)
{
	if (WIFSIGNALED(ws)) {
		hp_set_status(out, j, re->metric, HP_ST_FAILED, secs, "child process killed by signal %d (%s)",
			      WTERMSIG(ws), strsignal(WTERMSIG(ws)));
		return 1;
	}
	if (nst == 0) {
		hp_set_status(out, j, re->metric, HP_ST_FAILED, secs,
			      "child process exited with %d and no status", WEXITSTATUS(ws));
		return 1;
	}
	return 0;
}

static void add_records(hp_results_t *out, const hp_results_t *got)
{
	for (size_t i = 0; i < got->nrec; i++)
		hp_results_add(out, &got->rec[i]);
}

static void add_statuses(hp_results_t *out, const hp_results_t *got)
{
	for (size_t i = 0; i < got->nst; i++)
		hp_results_add_status(out, &got->st[i]);
}

void hp_backend_child(const hp_runenv_t *re, const hp_job_t *j, hp_results_t *out)
{
	double t0 = hp_mono_s();
	hp_results_t got;
	hp_results_init(&got);
	int pid, ws;
	int nst = hp_child_spawn(re, j, NULL, NULL, &got, &pid, &ws, out);
	if (nst >= 0) {
		double secs = hp_mono_s() - t0;
		/* the records of a child that crashed later are kept; its
		 * statuses only when it ended well (else ended_badly set one) */
		add_records(out, &got);
		if (!hp_child_ended_badly(re, j, nst, ws, secs, out))
			add_statuses(out, &got);
	}
	hp_results_free(&got);
}

/* ================================================================== */
/* The other end: `hotpath __child`                                    */
/* ================================================================== */

typedef struct child_opts {
	const char *suite, *cas, *var, *param, *cpus, *metric, *profile;
	int threads, reps, fd;
	uint64_t seed;
} child_opts_t;

static int child_parse(int argc, char **argv, child_opts_t *co)
{
	static const struct option lo[] = {
		{ "suite", 1, 0, 's' }, { "case", 1, 0, 'c' }, { "variant", 1, 0, 'v' },
		{ "param", 1, 0, 'p' }, { "threads", 1, 0, 't' }, { "cpus", 1, 0, 'C' },
		{ "seed", 1, 0, 'S' }, { "metric", 1, 0, 'm' }, { "profile", 1, 0, 'P' },
		{ "reps", 1, 0, 'r' }, { "fd", 1, 0, 'f' }, { 0, 0, 0, 0 },
	};
	*co = (child_opts_t){ .metric = "time", .profile = "quick", .threads = 1, .fd = -1 };
	int o;
	optind = 1;
	while ((o = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (o) {
		case 's': co->suite = optarg; break;
		case 'c': co->cas = optarg; break;
		case 'v': co->var = optarg; break;
		case 'p': co->param = optarg; break;
		case 't': co->threads = atoi(optarg); break;
		case 'C': co->cpus = optarg; break;
		case 'S': co->seed = strtoull(optarg, NULL, 0); break;
		case 'm': co->metric = optarg; break;
		case 'P': co->profile = optarg; break;
		case 'r': co->reps = atoi(optarg); break;
		case 'f': co->fd = atoi(optarg); break;
		default: return HP_EXIT_USAGE;
		}
	}
	if (!co->suite || !co->cas || !co->var || !co->param || !co->cpus || co->fd < 0) {
		fprintf(stderr, "hotpath __child: missing arguments\n");
		return HP_EXIT_USAGE;
	}
	return 0;
}

/* The job and run environment the options name; 0 or an exit code. */
static int child_job(const child_opts_t *co, hp_job_t *j, hp_runenv_t *re)
{
	const hp_suite_t *s = hp_suite_find(co->suite);
	const hp_case_t *c = s ? hp_case_find(s, co->cas) : NULL;
	const hp_variant_t *v = c ? hp_variant_find(c, co->var) : NULL;
	const hp_param_t *p = NULL;
	if (c) {
		if (!c->params)
			p = &hp_param_none;
		for (int i = 0; i < hp_case_nparams(c); i++)
			if (strcmp(c->params[i].label, co->param) == 0)
				p = &c->params[i];
	}
	char err[512];
	memset(re, 0, sizeof *re);
	re->prof = hp_profile_find(co->profile);
	if (!v || !p || !re->prof || hp_metric_parse(co->metric, &re->metric) != 0) {
		fprintf(stderr, "hotpath __child: unknown benchmark %s/%s/%s/%s\n",
			co->suite, co->cas, co->var, co->param);
		return HP_EXIT_USAGE;
	}
	re->topo = hp_topo_load(err, sizeof err);
	if (!re->topo) {
		fprintf(stderr, "hotpath __child: %s\n", err);
		return HP_EXIT_INTERNAL;
	}
	re->ncpus = hp_cpulist_parse(re->topo, co->cpus, re->cpus, HP_MAX_CPUS, err, sizeof err);
	if (re->ncpus <= 0) {
		fprintf(stderr, "hotpath __child: %s\n", err);
		hp_topo_free(re->topo);
		return HP_EXIT_USAGE;
	}
	re->seed = co->seed;
	re->reps = co->reps > 0 ? co->reps : re->prof->reps;
	*j = (hp_job_t){ .s = s, .c = c, .v = v, .p = p, .threads = co->threads };
	return 0;
}

static void write_line(FILE *f, const char *key, struct json_object *val)
{
	struct json_object *w = json_object_new_object();
	json_object_object_add(w, key, val);
	fprintf(f, "%s\n", json_object_to_json_string_ext(w, JSON_C_TO_STRING_PLAIN));
	json_object_put(w);
}

int hp_child_main(int argc, char **argv)
{
	child_opts_t co;
	hp_job_t j;
	hp_runenv_t re;
	int rc = child_parse(argc, argv, &co);
	if (rc == 0)
		rc = child_job(&co, &j, &re);
	if (rc != 0)
		return rc;
	hp_results_t out;
	hp_results_init(&out);
	if (HP_METRIC_CALLGRIND(re.metric)) {
		char msg[256];
		int crc = hp_callgrind_count(&re, &j, msg, sizeof msg);
		if (crc != 0)
			hp_set_status(&out, &j, re.metric, crc == -2 ? HP_ST_SKIPPED : HP_ST_FAILED, 0, "%s", msg);
		else
			hp_set_status(&out, &j, re.metric, HP_ST_OK, 0, NULL);
	} else if (re.metric == HP_METRIC_PERF) {
		hp_backend_perf(&re, &j, &out);
	} else {
		hp_backend_gbench(&re, &j, &out);
	}
	FILE *f = fdopen(co.fd, "w");
	if (!f)
		return HP_EXIT_INTERNAL;
	for (size_t i = 0; i < out.nrec; i++)
		write_line(f, "record", hp_record_to_json(&out.rec[i]));
	for (size_t i = 0; i < out.nst; i++)
		write_line(f, "status", hp_status_to_json(&out.st[i]));
	fclose(f);
	hp_results_free(&out);
	hp_topo_free(re.topo);
	return 0;
}
