/* test_metrics.c — callgrind output parsing, perf counters (or a precise reason why not), and real callgrind counts of a fixed loop. */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hp_config.h"
#include "metrics.h"
#include "t_util.h"

static volatile uint64_t sink;

/* A loop whose instruction count is a fixed function of n. */
static __attribute__((noinline)) void work(long n)
{
	uint64_t x = 1;

	for (long i = 0; i < n; i++) {
		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
		sink = x;
	}
}

/* ------------------------------------------------------------------ */
/* hp_cg_read_total                                                    */
/* ------------------------------------------------------------------ */

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (!f) {
		perror(path);
		exit(1);
	}
	fputs(text, f);
	fclose(f);
}

static void test_cg_parse(const char *dir)
{
	char path[512], err[512] = "";
	uint64_t ir = 0;

	/* Shaped like callgrind 3.19 output: "summary:" in the header wins
	 * over "totals:" at the end. */
	snprintf(path, sizeof path, "%s/sum.out", dir);
	write_file(path,
		   "# callgrind format\nversion: 1\ncreator: callgrind-3.19.0\n"
		   "pid: 42\ncmd:  ./x\npart: 1\n\n\ndesc: I1 cache: \n"
		   "positions: line\nevents: Ir\nsummary: 1234567\n\n\n"
		   "ob=(1) /bin/x\nfl=(1) ???\nfn=(1) work\n0 1234500\n"
		   "fn=(2) main\n0 67\n\ntotals: 99\n");
	T_CHECK(hp_cg_read_total(path, &ir, err, sizeof err) == 0);
	T_CHECK_MSG(ir == 1234567, "ir=%" PRIu64, ir);

	/* No summary: totals is used, first number only (more events). */
	snprintf(path, sizeof path, "%s/tot.out", dir);
	write_file(path, "version: 1\nevents: Ir Dr Dw\nfn=(1) f\n3 10 2 1\n"
			 "totals: 18446744073709551615 7 8\n");
	ir = 0;
	T_CHECK(hp_cg_read_total(path, &ir, err, sizeof err) == 0);
	T_CHECK_MSG(ir == UINT64_MAX, "ir=%" PRIu64, ir);

	/* Not a callgrind file. */
	snprintf(path, sizeof path, "%s/junk.out", dir);
	write_file(path, "hello\nworld\n");
	err[0] = 0;
	T_CHECK(hp_cg_read_total(path, &ir, err, sizeof err) == -1);
	T_CHECK_MSG(strstr(err, "junk.out") != NULL, "err=%s", err);

	/* A totals line with no number. */
	snprintf(path, sizeof path, "%s/bad.out", dir);
	write_file(path, "events: Ir\ntotals: lots\n");
	err[0] = 0;
	T_CHECK(hp_cg_read_total(path, &ir, err, sizeof err) == -1);
	T_CHECK_MSG(strstr(err, "bad.out:2") != NULL, "err=%s", err);

	/* Ir is found by its name, wherever the events line puts it. */
	snprintf(path, sizeof path, "%s/dr.out", dir);
	write_file(path, "events: Dr Ir\nsummary: 5 6\n");
	ir = 0;
	T_CHECK(hp_cg_read_total(path, &ir, err, sizeof err) == 0);
	T_CHECK_MSG(ir == 6, "ir=%" PRIu64, ir);

	/* No Ir event at all: refused, naming it, never a zero. */
	snprintf(path, sizeof path, "%s/noir.out", dir);
	write_file(path, "events: Dr Dw\nsummary: 5 6\n");
	err[0] = 0;
	T_CHECK(hp_cg_read_total(path, &ir, err, sizeof err) == -1);
	T_CHECK_MSG(strstr(err, "no Ir event") != NULL, "err=%s", err);

	/* Missing file: -1, and the message names the file and the errno. */
	snprintf(path, sizeof path, "%s/does-not-exist.out", dir);
	err[0] = 0;
	T_CHECK(hp_cg_read_total(path, &ir, err, sizeof err) == -1);
	T_CHECK_MSG(strstr(err, "does-not-exist.out") && strstr(err, "No such file"),
		    "err=%s", err);
}

/* ------------------------------------------------------------------ */
/* perf                                                                */
/* ------------------------------------------------------------------ */

static void test_perf(void)
{
	const char *why = hp_perf_unavailable();
	hp_perf_t p;
	char err[512] = "";

	T_CHECK(hp_perf_unavailable() == why);   /* cached */
	T_CHECK_STR(hp_perf_event_names[1], "perf_instructions");
	T_CHECK_STR(hp_perf_event_units[0], "cycles");
	if (why) {
		printf("perf unavailable: %s\n", why);
		T_CHECK(why[0] != 0);
		T_CHECK_MSG(strstr(why, "perf_event_open") != NULL, "why=%s", why);
		/* Opening may succeed only on a PMU that does not count. */
		if (hp_perf_open(&p, err, sizeof err) < 0) {
			T_CHECK(err[0] != 0);
			for (int i = 0; i < HP_PERF_NEVENTS; i++)
				T_CHECK(p.fd[i] == -1);
			/* Closing a failed group is harmless. */
			hp_perf_close(&p);
			uint64_t v[HP_PERF_NEVENTS];
			T_CHECK(hp_perf_read(&p, v) == -1);
		} else {
			hp_perf_close(&p);
		}
		return;
	}
	const long n = 1000000;
	uint64_t v[HP_PERF_NEVENTS] = {0};

	T_CHECK_MSG(hp_perf_open(&p, err, sizeof err) == 0, "%s", err);
	hp_perf_reset(&p);
	hp_perf_enable(&p);
	work(n);
	hp_perf_disable(&p);
	T_CHECK(hp_perf_read(&p, v) == 0);
	printf("perf: cycles %" PRIu64 " instructions %" PRIu64 "\n", v[0], v[1]);
	T_CHECK_MSG(v[1] > (uint64_t)n, "instructions %" PRIu64 " <= loop count %ld", v[1], n);
	T_CHECK(v[0] > 0);
	hp_perf_close(&p);
}

/* ------------------------------------------------------------------ */
/* callgrind for real                                                  */
/* ------------------------------------------------------------------ */

#define CG_N 100000L

/* Under valgrind: three regions of N, 2N and 3N iterations, one dump each. */
static int cg_child(long n)
{
	if (!hp_on_valgrind()) {
		fprintf(stderr, "child mode must run under valgrind\n");
		return 1;
	}
	for (int k = 1; k <= 3; k++) {
		char label[32];

		work(1000);     /* outside any region: must not count */
		hp_cg_start();
		hp_cg_start();  /* repeated start must not toggle collection off */
		work(k * n);
		hp_cg_stop();
		hp_cg_stop();
		work(1000);
		snprintf(label, sizeof label, "region-%d", k);
		hp_cg_dump(label);
	}
	return 0;
}

static int run_child(const char *dir, const char *tag, uint64_t ir[3])
{
	char exe[4096], out[600], nbuf[32];
	ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
	pid_t pid;
	int st;

	if (len < 0)
		return -1;
	exe[len] = 0;
	snprintf(out, sizeof out, "--callgrind-out-file=%s/%s.cg", dir, tag);
	snprintf(nbuf, sizeof nbuf, "%ld", CG_N);
	pid = fork();
	if (pid == 0) {
		execl(HP_VALGRIND, "valgrind", "-q", "--tool=callgrind",
		      "--collect-atstart=no", "--instr-atstart=yes", out,
		      exe, "--cg-child", nbuf, (char *)NULL);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &st, 0) < 0)
		return -1;
	T_CHECK_MSG(WIFEXITED(st) && WEXITSTATUS(st) == 0, "valgrind child status 0x%x", st);
	for (int k = 0; k < 3; k++) {
		char path[640], err[512];

		/* Each dump goes to <out>.<n>, numbered from 1. */
		snprintf(path, sizeof path, "%s/%s.cg.%d", dir, tag, k + 1);
		if (hp_cg_read_total(path, &ir[k], err, sizeof err) < 0) {
			fprintf(stderr, "%s\n", err);
			return -1;
		}
	}
	return 0;
}

/* Returns 1 when the machine cannot run valgrind (the test then skips). */
static int test_callgrind(const char *dir)
{
	uint64_t a[3] = {0}, b[3] = {0};

	if (strcmp(HP_SANITIZE, "none") != 0) {
		printf("callgrind part skipped: built with b_sanitize=%s "
		       "(valgrind cannot run sanitized binaries)\n", HP_SANITIZE);
		T_CHECK(hp_cg_unavailable() != NULL);
		return 0;
	}
	if (!HP_HAVE_CALLGRIND || !HP_VALGRIND[0] || access(HP_VALGRIND, X_OK) < 0) {
		T_CHECK(hp_cg_unavailable() != NULL);
		printf("valgrind unavailable: %s\n", hp_cg_unavailable());
		return 1;
	}
	T_CHECK(hp_cg_unavailable() == NULL);
	T_CHECK(!hp_on_valgrind());
	/* Outside valgrind the client requests are no-ops. */
	hp_cg_start();
	hp_cg_stop();
	hp_cg_dump("x");

	int ok_a = run_child(dir, "a", a) == 0, ok_b = ok_a && run_child(dir, "b", b) == 0;
	T_CHECK(ok_a && ok_b);
	if (!ok_a || !ok_b)
		return 0;
	printf("callgrind: N %" PRIu64 ", 2N %" PRIu64 ", 3N %" PRIu64 " (N=%ld)\n",
	       a[0], a[1], a[2], CG_N);
	for (int k = 0; k < 3; k++)
		T_CHECK_MSG(a[k] == b[k], "run-to-run difference in region %d: %" PRIu64
			    " vs %" PRIu64, k + 1, a[k], b[k]);
	/* Each extra N iterations costs the same, at least one instruction
	 * each; what does not scale (call, toggle) is small. */
	T_CHECK(a[1] > a[0] && a[2] > a[1]);
	uint64_t d = a[1] - a[0];
	T_CHECK_MSG(a[2] - a[1] == d, "2N-N %" PRIu64 " != 3N-2N %" PRIu64, d, a[2] - a[1]);
	T_CHECK_MSG(d >= (uint64_t)CG_N, "N iterations cost %" PRIu64 " instructions", d);
	T_CHECK_MSG(d <= 20 * (uint64_t)CG_N, "N iterations cost %" PRIu64 " instructions", d);
	T_CHECK_MSG(a[0] >= d && a[0] - d < 1000, "fixed cost %" PRIu64, a[0] - d);
	return 0;
}

static void rm_rf(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char p[1024];

	if (!d)
		return;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
		unlink(p);
	}
	closedir(d);
	rmdir(dir);
}

int main(int argc, char **argv)
{
	char dir[] = "/tmp/hp-test-metrics-XXXXXX";

	if (argc == 3 && !strcmp(argv[1], "--cg-child"))
		return cg_child(atol(argv[2]));
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	test_cg_parse(dir);
	test_perf();
	int no_valgrind = test_callgrind(dir);
	rm_rf(dir);
	if (no_valgrind && !t_failures)
		t_skip("valgrind/callgrind not available for the instruction-count part");
	return t_done("test_metrics");
}
