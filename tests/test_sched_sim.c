/* test_sched_sim.c — the simulator: CPU shares follow the weights, rt-app event semantics, determinism, and clear errors for bad scenarios. */
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hp_config.h"
#include "sim.h"
#include "t_util.h"

static const hp_sched_policy_t policies[] = { HP_SCHED_CFS, HP_SCHED_EEVDF };
static const char *const pname[] = { "cfs", "eevdf" };

/* Runs a scenario given as text; fails the test on any error. */
static int sim(const char *json, hp_sched_policy_t pol, int ncpus, hp_sim_res_t *r)
{
	char err[512];
	hp_sim_opts_t o;
	hp_scn_t *s = hp_scn_parse(json, "test", err, sizeof err);

	if (!s) {
		fprintf(stderr, "parse: %s\n", err);
		t_failures++;
		return -1;
	}
	hp_sim_opts_default(&o);
	o.policy = pol;
	o.ncpus = ncpus;
	if (hp_sim_run(s, &o, r, err, sizeof err) != 0) {
		fprintf(stderr, "run: %s\n", err);
		t_failures++;
		hp_scn_free(s);
		return -1;
	}
	hp_scn_free(s);
	return 0;
}

static const hp_sim_task_res_t *task(const hp_sim_res_t *r, const char *name)
{
	for (int i = 0; i < r->ntasks; i++)
		if (!strcmp(r->task[i].name, name))
			return &r->task[i];
	fprintf(stderr, "no task %s\n", name);
	exit(1);
}

/* ------------------------------------------------------------------ */
/* Shares                                                              */
/* ------------------------------------------------------------------ */

static void test_nice_pair(void)
{
	static const char *j =
		"{\"global\": {\"duration\": 10, \"default_policy\": \"SCHED_OTHER\"},"
		" \"tasks\": {\"a\": {\"priority\": 0, \"run\": 100000},"
		"             \"b\": {\"priority\": 1, \"run\": 100000}}}";
	for (int p = 0; p < 2; p++) {
		hp_sim_res_t r;

		if (sim(j, policies[p], 1, &r))
			continue;
		double ratio = (double)task(&r, "a")->runtime_ns / (double)task(&r, "b")->runtime_ns;
		double want = 1024.0 / 820.0;

		printf("%s: nice 0 : nice 1 = %.4f (1024:820 = %.4f), shares %.4f %.4f\n", pname[p], ratio,
		       want, task(&r, "a")->share, task(&r, "b")->share);
		T_CHECK_MSG(fabs(ratio / want - 1) < 0.01, "%s: ratio %.4f", pname[p], ratio);
		/* only the threads' start-up (< 100 µs) is idle */
		T_CHECK(fabs(task(&r, "a")->share + task(&r, "b")->share - 1) < 1e-4);
		hp_sim_res_free(&r);
	}
}

static void test_mixed_nice(void)
{
	static const char *j =
		"{\"global\": {\"duration\": 10},"
		" \"tasks\": {\"a\": {\"priority\": -3, \"run\": 50000},"
		"             \"b\": {\"priority\": 2, \"run\": 50000},"
		"             \"c\": {\"priority\": 9, \"run\": 50000}}}";
	const double w[3] = { 1991, 655, 137 };

	for (int p = 0; p < 2; p++) {
		hp_sim_res_t r;

		if (sim(j, policies[p], 1, &r))
			continue;
		for (int i = 0; i < 3; i++) {
			double want = w[i] / (w[0] + w[1] + w[2]);

			T_CHECK_MSG(fabs(r.task[i].share / want - 1) < 0.01, "%s: task %s share %.4f, weights say %.4f",
				    pname[p], r.task[i].name, r.task[i].share, want);
			T_CHECK(r.task[i].weight == (uint32_t)w[i]);
		}
		T_CHECK_MSG(r.jain > 0.9999, "%s: Jain %.6f", pname[p], r.jain);
		hp_sim_res_free(&r);
	}
}

/* ------------------------------------------------------------------ */
/* rt-app semantics                                                    */
/* ------------------------------------------------------------------ */

static void test_events(void)
{
	hp_sim_res_t r;

	/* run 1 ms + sleep 9 ms, alone: 10% of the CPU, woken at once */
	if (!sim("{\"global\": {\"duration\": 2}, \"tasks\": {\"t\": {\"run\": 1000, \"sleep\": 9000}}}",
		 HP_SCHED_EEVDF, 1, &r)) {
		T_CHECK_MSG(fabs(r.task[0].share - 0.1) < 0.001, "sleep: share %.4f", r.task[0].share);
		T_CHECK(r.task[0].wakeups >= 198 && r.task[0].wakeups <= 200);
		T_CHECK(r.task[0].wakeup_max_ns == 0);
		hp_sim_res_free(&r);
	}
	/* a 10 ms timer keeps the period whatever the run length */
	if (!sim("{\"global\": {\"duration\": 2}, \"tasks\": {\"t\": {\"run\": 3000,"
		 " \"timer\": {\"ref\": \"unique\", \"period\": 10000}}}}", HP_SCHED_CFS, 1, &r)) {
		T_CHECK_MSG(fabs(r.task[0].share - 0.3) < 0.002, "timer: share %.4f", r.task[0].share);
		T_CHECK_MSG(r.task[0].wakeups >= 198 && r.task[0].wakeups <= 200, "timer: %" PRIu64 " wakeups",
			    r.task[0].wakeups);
		hp_sim_res_free(&r);
	}
	/* loop counts: 5 loops of 10 ms of work, then the task exits */
	if (!sim("{\"global\": {\"duration\": 1}, \"tasks\": {\"t\": {\"loop\": 5, \"run\": 10000}}}",
		 HP_SCHED_EEVDF, 1, &r)) {
		T_CHECK_MSG(r.task[0].runtime_ns == 50000000, "loop: %" PRIu64 " ns", r.task[0].runtime_ns);
		hp_sim_res_free(&r);
	}
	/* phases with their own loops: 3 x 1 ms, then 5 ms, once */
	if (!sim("{\"global\": {\"duration\": 1}, \"tasks\": {\"t\": {\"loop\": 1, \"phases\": {"
		 "\"p1\": {\"loop\": 3, \"run0\": 1000, \"sleep0\": 1000}, \"p2\": {\"run\": 5000}}}}}",
		 HP_SCHED_CFS, 1, &r)) {
		T_CHECK_MSG(r.task[0].runtime_ns == 8000000, "phases: %" PRIu64 " ns", r.task[0].runtime_ns);
		T_CHECK(r.task[0].wakeups == 3);
		hp_sim_res_free(&r);
	}
	/* runtime is wall time: beside a hog it gets done with less CPU */
	if (!sim("{\"global\": {\"duration\": 2}, \"tasks\": {\"hog\": {\"run\": 100000},"
		 " \"rt\": {\"loop\": 1, \"runtime\": 100000}}}", HP_SCHED_EEVDF, 1, &r)) {
		T_CHECK_MSG(task(&r, "rt")->runtime_ns < 75000000 && task(&r, "rt")->runtime_ns > 25000000,
			    "runtime: %" PRIu64 " ns of CPU for 100 ms of wall time", task(&r, "rt")->runtime_ns);
		hp_sim_res_free(&r);
	}
	/* instances are numbered; two CPUs run two hogs in full */
	if (!sim("{\"global\": {\"duration\": 1}, \"tasks\": {\"h\": {\"instance\": 2, \"run\": 100000}}}",
		 HP_SCHED_EEVDF, 2, &r)) {
		T_CHECK(r.ntasks == 2);
		T_CHECK(task(&r, "h-0")->share > 0.999 && task(&r, "h-1")->share > 0.999);
		hp_sim_res_free(&r);
	}
	/* ... unless pinned to one of them */
	if (!sim("{\"global\": {\"duration\": 1}, \"tasks\": {\"h\": {\"instance\": 2, \"cpus\": [1],"
		 " \"run\": 100000}}}", HP_SCHED_CFS, 2, &r)) {
		T_CHECK(fabs(task(&r, "h-0")->share - 0.5) < 0.01 && fabs(task(&r, "h-1")->share - 0.5) < 0.01);
		hp_sim_res_free(&r);
	}
}

/* A periodic task among hogs: CFS's sleeper credit makes it preempt at
 * once; EEVDF (RUN_TO_PARITY) lets the running hog finish its slice, to
 * the next tick at most. */
static void test_interactive(void)
{
	static const char *j =
		"{\"global\": {\"duration\": 3}, \"tasks\": {\"hog\": {\"instance\": 2, \"run\": 100000},"
		" \"ui\": {\"runtime\": 1000, \"timer\": {\"ref\": \"unique\", \"period\": 10000}}}}";
	hp_sim_res_t r;

	if (!sim(j, HP_SCHED_CFS, 1, &r)) {
		const hp_sim_task_res_t *ui = task(&r, "ui");

		T_CHECK_MSG(fabs(ui->share - 0.1) < 0.002, "cfs ui share %.4f", ui->share);
		T_CHECK_MSG(ui->wakeup_p50_ns == 0 && ui->wakeup_p99_ns == 0, "cfs ui latency %" PRId64 " %" PRId64,
			    ui->wakeup_p50_ns, ui->wakeup_p99_ns);
		T_CHECK(task(&r, "hog-0")->wakeup_p50_ns == -1 && task(&r, "hog-0")->wakeups == 0);
		hp_sim_res_free(&r);
	}
	if (!sim(j, HP_SCHED_EEVDF, 1, &r)) {
		const hp_sim_task_res_t *ui = task(&r, "ui");

		T_CHECK_MSG(fabs(ui->share - 0.1) < 0.002, "eevdf ui share %.4f", ui->share);
		T_CHECK_MSG(ui->wakeup_max_ns > 0 && ui->wakeup_max_ns <= 8000000,
			    "eevdf ui latency max %" PRId64, ui->wakeup_max_ns);
		hp_sim_res_free(&r);
	}
}

/* ------------------------------------------------------------------ */
/* Determinism                                                         */
/* ------------------------------------------------------------------ */

static char *run_to_string(const char *json, uint64_t seed, int trace, size_t *len)
{
	char err[512], *buf = NULL;
	hp_sim_opts_t o;
	hp_sim_res_t r;
	hp_scn_t *s = hp_scn_parse(json, "test", err, sizeof err);
	FILE *f = open_memstream(&buf, len);

	hp_sim_opts_default(&o);
	o.seed = seed;
	o.ncpus = 2;
	o.trace = trace ? f : NULL;
	if (!s || hp_sim_run(s, &o, &r, err, sizeof err) != 0) {
		fprintf(stderr, "%s\n", err);
		t_failures++;
	} else {
		hp_sim_write_csv(f, &r, &o);
		hp_sim_res_free(&r);
	}
	hp_scn_free(s);
	fclose(f);
	return buf;
}

static void test_determinism(void)
{
	static const char *j =
		"{\"global\": {\"duration\": 2}, \"tasks\": {"
		" \"hog\": {\"instance\": 3, \"priority\": 2, \"run\": 7000},"
		" \"io\": {\"instance\": 2, \"run\": 300, \"sleep\": 1700},"
		" \"ui\": {\"runtime\": 800, \"timer\": {\"ref\": \"unique\", \"period\": 6000}}}}";
	size_t la, lb;
	int differs = 0;

	for (int trace = 0; trace < 2; trace++) {
		char *a = run_to_string(j, 42, trace, &la), *b = run_to_string(j, 42, trace, &lb);

		T_CHECK_MSG(la == lb && !memcmp(a, b, la), "same seed, different output (trace %d)", trace);
		if (trace)
			T_CHECK(la > 1000 && !strncmp(a, "time_ns,cpu,prev,next,reason\n", 29));
		free(a);
		free(b);
	}
	/* the seed matters (start order and offsets) */
	char *a = run_to_string(j, 1, 0, &la);
	for (uint64_t seed = 2; seed < 6; seed++) {
		char *b = run_to_string(j, seed, 0, &lb);

		differs |= la != lb || memcmp(a, b, la);
		free(b);
	}
	free(a);
	T_CHECK(differs);
}

/* ------------------------------------------------------------------ */
/* Bad input                                                           */
/* ------------------------------------------------------------------ */

static void bad(const char *json, const char *want1, const char *want2)
{
	char err[512] = "";
	hp_scn_t *s = hp_scn_parse(json, "bad.json", err, sizeof err);

	T_CHECK_MSG(s == NULL, "accepted: %s", json);
	T_CHECK_MSG(strstr(err, want1) && (!want2 || strstr(err, want2)),
		    "message '%s' lacks '%s'%s%s", err, want1, want2 ? " / " : "", want2 ? want2 : "");
	T_CHECK_MSG(!strncmp(err, "bad.json: ", 10), "message '%s' does not name the file", err);
	hp_scn_free(s);
}

#define G "{\"global\": {\"duration\": 1}, \"tasks\": "

static void test_bad_input(void)
{
	bad(G "{\"a\": {\"priority\": 20, \"run\": 1}}}", "task 'a'", "priority: 20");
	bad(G "{\"a\": {\"priority\": -21, \"run\": 1}}}", "task 'a'", "-20..19");
	bad(G "{\"a\": {\"run\": -1}}}", "task 'a': run: -1", "negative");
	bad(G "{\"a\": {\"run\": 10, \"sleep1\": -4}}}", "task 'a': sleep1: -4", NULL);
	bad(G "{\"a\": {\"run\": 10, \"timer\": {\"ref\": \"t\", \"period\": -10}}}}", "timer.period: -10", NULL);
	bad(G "{\"a\": {\"run\": 10, \"timer\": {\"ref\": \"t\", \"period\": 10, \"slack\": 1}}}}",
	    "unknown key 'slack'", NULL);
	/* a timer name too long to keep whole is refused, never cut short */
	bad(G "{\"a\": {\"run\": 10, \"timer\": {\"ref\": \"t123456789012345678901234567890123456789"
	    "01234567890123456789012345\", \"period\": 10}}}}", "timer.ref", "longer than 63");
	bad(G "{\"a\": {\"run\": 10, \"lock\": \"m\"}}}", "task 'a': unknown key 'lock'", NULL);
	bad(G "{\"a\": {\"running\": 10}}}", "unknown key 'running'", NULL);
	bad(G "{\"a\": {\"phases\": {\"p\": {\"run\": 5, \"barrier\": \"b\"}}}}}", "phase 'p': unknown key 'barrier'", NULL);
	bad(G "{\"a\": {\"run\": \"fast\"}}}", "task 'a': run: expected an integer", NULL);
	bad(G "{\"a\": {\"run\": 0, \"sleep\": 0}}}", "task 'a'", "0 µs");
	bad(G "{\"a\": {\"policy\": \"SCHED_FIFO\", \"run\": 5}}}", "task 'a': policy: 'SCHED_FIFO'", NULL);
	bad(G "{\"a\": {\"instance\": 0, \"run\": 5}}}", "task 'a': instance: 0", NULL);
	bad(G "{\"a\": {\"cpus\": [-1], \"run\": 5}}}", "task 'a': cpus: CPU -1", NULL);
	bad(G "{}}", "tasks", NULL);
	bad("{\"global\": {\"duration\": -1}, \"tasks\": {\"a\": {\"run\": 5}}}", "global: duration: -1", NULL);
	bad("{\"global\": {\"duration\": 1, \"logdir\": \"/tmp\"}, \"tasks\": {\"a\": {\"run\": 5}}}",
	    "global: unknown key 'logdir'", NULL);
	bad("{\"global\": {\"duration\": 1, \"default_policy\": \"SCHED_RR\"}, \"tasks\": {\"a\": {\"run\": 5}}}",
	    "default_policy: 'SCHED_RR'", NULL);
	bad("{\"global\": {\"duration\": 1}, \"resources\": {}, \"tasks\": {\"a\": {\"run\": 5}}}",
	    "unknown key 'resources'", NULL);
	bad("{\"tasks\": {\"a\": {\"run\": 5}}}", "global", NULL);
	bad("{\"global\": {\"duration\": 1},\n \"tasks\": {\"a\": {\"run\" 5}}}", "line 2", "JSON");
	bad("[1, 2]", "JSON object", NULL);

	/* valid, but not for these options */
	char err[512];
	hp_sim_opts_t o;
	hp_sim_res_t r;
	hp_scn_t *s = hp_scn_parse(G "{\"a\": {\"cpus\": [0, 3], \"run\": 5}}}", "x", err, sizeof err);

	T_CHECK(s != NULL);
	hp_sim_opts_default(&o);
	o.ncpus = 2;
	T_CHECK(s && hp_sim_run(s, &o, &r, err, sizeof err) == -1 && strstr(err, "task 'a': cpus: CPU 3"));
	hp_scn_free(s);
}

/* ------------------------------------------------------------------ */
/* Shipped scenarios                                                   */
/* ------------------------------------------------------------------ */

static void test_shipped(void)
{
	static const struct { const char *file; const char *threads[4]; } sc[] = {
		{ "nice_pair", { "nice0", "nice1", NULL } },
		{ "nice_mix", { "nice0", "nice3", "nice7", NULL } },
		{ "interactive", { "hog-0", "hog-1", "ui", NULL } },
		{ "custom_slice", { "hog-0", "hog-1", "short", NULL } },
	};
	for (size_t i = 0; i < sizeof sc / sizeof sc[0]; i++) {
		char path[4096], err[512];
		hp_scn_t *s;
		int n = 0;

		snprintf(path, sizeof path, "%s/scripts/scenarios/%s.json", HP_SOURCE_ROOT, sc[i].file);
		s = hp_scn_load(path, err, sizeof err);
		T_CHECK_MSG(s != NULL, "%s", err);
		if (!s)
			continue;
		while (sc[i].threads[n])
			n++;
		T_CHECK(hp_scn_nthreads(s) == n);
		for (int k = 0; k < n && k < hp_scn_nthreads(s); k++)
			T_CHECK_STR(hp_scn_thread_name(s, k), sc[i].threads[k]);
		/* rt-app sets nice without privileges only upwards */
		for (int k = 0; k < hp_scn_nthreads(s); k++)
			T_CHECK(hp_scn_thread_nice(s, k) >= 0);
		T_CHECK(hp_scn_max_cpu(s) == -1);
		/* only custom_slice has a slice: its short task's 100 µs */
		for (int k = 0; k < hp_scn_nthreads(s); k++)
			T_CHECK(hp_scn_thread_slice_ns(s, k) ==
				(!strcmp(sc[i].file, "custom_slice") && !strcmp(hp_scn_thread_name(s, k), "short")
					 ? 100000u : 0u));
		hp_scn_free(s);
	}
}

int main(void)
{
	test_nice_pair();
	test_mixed_nice();
	test_events();
	test_interactive();
	test_determinism();
	test_bad_input();
	test_shipped();
	return t_done("test_sched_sim");
}
