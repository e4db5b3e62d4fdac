/* test_sched_loadgen.c — hotpath's load generator (impl/sched/loadgen.c) and the scenario key "slice".
 *
 * `test_sched_loadgen [NAME]` runs one test or all:
 *   parse  the "slice" key: µs into ns per thread (instances too), values
 *          outside 100..100000 µs and non-integers refused naming the task
 *          and the key;
 *   play   a tiny scenario played with real threads: a run event is CPU
 *          time (a thread's CPU time is at least its runs' sum), loops and
 *          activations counted exactly, a relative timer's activations at
 *          least a period apart, an absolute timer's exactly on its grid
 *          (due times differ by whole periods), every wake-up latency >= 0;
 *   stop   an endless hog stops at the duration;
 *   slice  on Linux 6.12+, each thread's se.slice read back equals its
 *          "slice" (100 µs and 100 ms, the kernel's bounds) and the probe
 *          agrees; before 6.12 the run fails saying so (run alone, the
 *          test is then skipped: 77).
 * No timing is checked: counts, CPU time against what was asked, and the
 * arithmetic of due times. The mutant build HP_LG_MUTATE_NO_SLICE (the
 * generator never passes sched_runtime) must fail `slice`.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "loadgen.h"
#include "sim.h"
#include "t_util.h"

static hp_scn_t *parse(const char *json, char *err, size_t len)
{
	return hp_scn_parse(json, "test", err, len);
}

static void test_parse(void)
{
	static const char ok[] = "{\"global\": {\"duration\": 1}, \"tasks\": {"
				 "\"a\": {\"instance\": 2, \"slice\": 300, \"run\": 100, \"sleep\": 100},"
				 "\"b\": {\"run\": 100, \"sleep\": 100},"
				 "\"c\": {\"slice\": 100000, \"phases\": {\"p\": {\"run\": 10}}}}}";
	static const char *const bad[] = { "99", "100001", "-1", "0", "\"300\"", "1.5" };
	char err[512], json[512];
	hp_scn_t *s = parse(ok, err, sizeof err);

	T_CHECK_MSG(s != NULL, "%s", err);
	if (s) {
		T_CHECK(hp_scn_nthreads(s) == 4);
		T_CHECK(hp_scn_thread_slice_ns(s, 0) == 300000 && hp_scn_thread_slice_ns(s, 1) == 300000);
		T_CHECK(hp_scn_thread_slice_ns(s, 2) == 0);
		T_CHECK(hp_scn_thread_slice_ns(s, 3) == 100000000);
		hp_scn_free(s);
	}
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		snprintf(json, sizeof json, "{\"global\": {\"duration\": 1}, \"tasks\": {\"ui\":"
			 " {\"slice\": %s, \"run\": 100, \"sleep\": 100}}}", bad[i]);
		err[0] = 0;
		s = parse(json, err, sizeof err);
		T_CHECK_MSG(s == NULL && strstr(err, "task 'ui'") && strstr(err, "slice"), "slice %s: %s", bad[i],
			    s ? "accepted" : err);
		hp_scn_free(s);
	}
}

static void test_play(void)
{
	static const char json[] = "{\"global\": {\"duration\": 3}, \"tasks\": {"
		"\"w\": {\"loop\": 5, \"run\": 3000, \"sleep\": 7000},"
		"\"p\": {\"loop\": 8, \"runtime\": 1000, \"timer\": {\"ref\": \"unique\", \"period\": 20000}},"
		"\"a\": {\"loop\": 6, \"priority\": 3, \"run\": 500,"
		" \"timer\": {\"ref\": \"tick\", \"period\": 15000, \"mode\": \"absolute\"}}}}";
	char err[512];
	hp_scn_t *s = parse(json, err, sizeof err);
	hp_lg_opts_t o = { 0 };
	hp_lg_res_t r;
	int rc;

	T_CHECK_MSG(s != NULL, "%s", err);
	if (!s)
		return;
	rc = hp_lg_run(s, &o, &r, err, sizeof err);
	T_CHECK_MSG(rc == 0, "%s", err);
	if (rc == 0) {
		const hp_lg_thread_t *w = &r.thr[0], *p = &r.thr[1], *a = &r.thr[2];

		T_CHECK(r.nthr == 3 && !strcmp(w->name, "w") && !strcmp(p->name, "p") && !strcmp(a->name, "a"));
		T_CHECK(w->tid > 0 && p->tid > 0 && a->tid > 0 && w->tid != p->tid && p->tid != a->tid);
		T_CHECK(a->nice == 3 && w->slice_req_ns == 0);
		/* w: 5 loops of 3 ms of CPU then a 7 ms sleep, all done */
		T_CHECK_MSG(w->loops == 5 && w->runs == 5 && w->nact == 5, "w: loops %" PRIu64 " runs %" PRIu64
			    " activations %zu", w->loops, w->runs, w->nact);
		T_CHECK_MSG(w->cpu_ns >= 15000000, "w: cpu %" PRIu64 " ns < 5 x 3 ms of run", w->cpu_ns);
		for (size_t k = 0; k < w->nact; k++) {
			T_CHECK(w->lat_ns[k] >= 0);
			/* a sleep starts after the run before it: 3 ms + 7 ms apart at least */
			if (k)
				T_CHECK(w->due_ns[k] - w->due_ns[k - 1] >= 10000000);
		}
		/* p: 8 loops; relative timer: each wait at least a period after the last */
		T_CHECK(p->loops == 8 && p->runs == 8 && p->nact >= 1 && p->nact <= 8);
		for (size_t k = 0; k < p->nact; k++) {
			T_CHECK(p->lat_ns[k] >= 0);
			T_CHECK(p->due_ns[k] >= 20000000);
			if (k)
				T_CHECK(p->due_ns[k] - p->due_ns[k - 1] >= 20000000);
		}
		/* a: absolute timer: due times on the grid of its start + k periods */
		T_CHECK(a->loops == 6 && a->nact >= 1 && a->nact <= 6);
		T_CHECK(a->cpu_ns >= a->runs * 500000);
		for (size_t k = 1; k < a->nact; k++) {
			uint64_t d = a->due_ns[k] - a->due_ns[k - 1];

			T_CHECK_MSG(d % 15000000 == 0 && d > 0, "a: due times %" PRIu64 " ns apart", d);
			T_CHECK(a->lat_ns[k] >= 0);
		}
		hp_lg_res_free(&r);
	}
	hp_scn_free(s);
}

static void test_stop(void)
{
	static const char json[] = "{\"global\": {\"duration\": 1}, \"tasks\": {\"hog\": {\"run\": 100000},"
				   " \"z\": {\"sleep\": 5000000}}}";
	char err[512];
	hp_scn_t *s = parse(json, err, sizeof err);
	hp_lg_opts_t o = { .duration_ns = 200000000 };
	hp_lg_res_t r;

	if (!s) {
		T_CHECK_MSG(0, "%s", err);
		return;
	}
	T_CHECK_MSG(hp_lg_run(s, &o, &r, err, sizeof err) == 0, "%s", err);
	if (r.thr) {
		/* the hog stops in the middle of a 100 ms run (it can finish two at
		 * most in 200 ms); the sleeper's wait is due after the end */
		T_CHECK(r.wall_ns >= 200000000);
		T_CHECK(r.thr[0].loops <= 2 && r.thr[0].cpu_ns <= r.wall_ns);
		T_CHECK(r.thr[1].nact == 0 && r.thr[1].loops == 0);
		hp_lg_res_free(&r);
	}
	hp_scn_free(s);
}

/* Linux 6.12 or later (per-task slices)? */
static int kernel_has_slices(void)
{
	struct utsname u;
	int maj = 0, min = 0;

	if (uname(&u) != 0 || sscanf(u.release, "%d.%d", &maj, &min) != 2)
		return 0;
	return maj > 6 || (maj == 6 && min >= 12);
}

/* set when `slice` could only check the refusal (a kernel without
 * per-task slices) or could not call sched_setattr at all: run alone (the
 * mutant's way) the test is then skipped, not passed */
static int slice_untested;

static void test_slice(void)
{
	static const char json[] = "{\"global\": {\"duration\": 2}, \"tasks\": {"
		"\"s\": {\"loop\": 3, \"slice\": 100, \"run\": 500, \"sleep\": 1000},"
		"\"t\": {\"loop\": 3, \"slice\": 100000, \"run\": 500, \"sleep\": 1000},"
		"\"u\": {\"loop\": 3, \"run\": 500, \"sleep\": 1000}}}";
	char err[512] = "", why[512] = "";
	hp_scn_t *s = parse(json, err, sizeof err);
	hp_lg_opts_t o = { 0 };
	hp_lg_res_t r;
	int rc, probe;

	if (!s) {
		T_CHECK_MSG(0, "%s", err);
		return;
	}
	rc = hp_lg_run(s, &o, &r, err, sizeof err);
	probe = hp_lg_slice_probe(300000, why, sizeof why);
	if (kernel_has_slices() && rc == -1 && strstr(err, "sched_setattr(SCHED_OTHER")) {
		printf("slice: sched_setattr refused here (%s)\n", err);
		slice_untested = 1;
	} else if (kernel_has_slices()) {
		T_CHECK_MSG(rc == 0, "Linux 6.12+ must take custom slices: %s", err);
		T_CHECK_MSG(probe == 0, "probe: %s", why);
		if (rc == 0) {
			T_CHECK_MSG(r.thr[0].slice_seen_ns == 100000, "s: se.slice %" PRIu64, r.thr[0].slice_seen_ns);
			T_CHECK_MSG(r.thr[1].slice_seen_ns == 100000000, "t: se.slice %" PRIu64,
				    r.thr[1].slice_seen_ns);
			/* no slice: the base slice, whatever it is here */
			T_CHECK(r.thr[2].slice_req_ns == 0 && r.thr[2].slice_seen_ns != 100000 &&
				r.thr[2].slice_seen_ns != 100000000);
			T_CHECK(r.thr[0].loops == 3 && r.thr[1].loops == 3 && r.thr[2].loops == 3);
			hp_lg_res_free(&r);
		}
	} else {
		T_CHECK_MSG(rc == -1 && strstr(err, "6.12"), "before 6.12 the run must fail naming it: rc %d, %s",
			    rc, err);
		T_CHECK(probe == -1 && strstr(why, "6.12"));
		if (rc == 0)
			hp_lg_res_free(&r);
		slice_untested = 1;
	}
	hp_scn_free(s);
}

int main(int argc, char **argv)
{
	static const struct { const char *name; void (*fn)(void); } tests[] = {
		{ "parse", test_parse }, { "play", test_play }, { "stop", test_stop }, { "slice", test_slice },
	};
	int ran = 0;

	for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++)
		if (argc < 2 || !strcmp(argv[1], tests[i].name)) {
			tests[i].fn();
			ran++;
		}
	if (!ran) {
		fprintf(stderr, "unknown test '%s'\n", argv[1]);
		return 2;
	}
	if (t_failures) {
		fprintf(stderr, "%d check(s) failed\n", t_failures);
		return 1;
	}
	if (ran == 1 && slice_untested)
		t_skip("no per-task slices on this kernel (Linux 6.12+) or no sched_setattr: only the refusal checked");
	printf("ok\n");
	return 0;
}
