/* test_cache_slub.c — --metric cache's simulator on impl/slub: the counts
 * are equal from run to run, and a freelist walk over objects spread across
 * 1024 pages misses in D1 where a walk over one page does not (1024 object
 * lines, 64 KiB, do not fit a 48 KiB or 32 KiB D1; 32 objects of one page
 * do). The test runs itself under valgrind's callgrind with the cache
 * simulator sized as `hotpath run --metric cache` sizes it
 * (hp_topo_cachesim_args), twice, and reads the dumps with the reader the
 * harness uses (hp_cg_read_events), which fails when the simulator was off.
 * Built with -DHP_TEST_NO_CACHESIM it leaves the simulator off: that build
 * must fail (tests/meson.build, cache_slub_nosim). Skips (77) without
 * valgrind. */
#include "hp_config.h"
#include "metrics.h"
#include "slub.h"
#include "topo.h"

#include <sched.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define SPREAD_PAGES 1024
#define ONE_OBJS 32
#define ROUNDS 8
#define OBJ 64

/* Allocates and frees `n` objects of `objs` ROUNDS times (after one
 * warm-up round), counted between the client requests as dump `label`. */
static void walk(hp_kmem_cache_t *s, void **objs, int n, const char *label)
{
	for (int r = 0; r <= ROUNDS; r++) {
		if (r == 1)
			hp_cg_start();
		for (int i = 0; i < n; i++)
			objs[i] = hp_kmem_cache_alloc(s);
		for (int i = 0; i < n; i++)
			hp_kmem_cache_free(s, objs[i]);
	}
	hp_cg_stop();
	hp_cg_dump(label);
}

/* Under valgrind: dump 1 = one page, dump 2 = spread over SPREAD_PAGES. */
static int child(void)
{
	char err[256];
	hp_kmem_cache_t *one = hp_kmem_cache_create("cache-one", OBJ, 0, 0, NULL, err, sizeof err);
	hp_kmem_cache_t *spr = hp_kmem_cache_create("cache-spread", OBJ, 0, 0, NULL, err, sizeof err);
	static void *objs[SPREAD_PAGES], *all[SPREAD_PAGES * 128];
	uintptr_t last = 0;
	int n = 0;

	if (!one || !spr) {
		fprintf(stderr, "kmem_cache_create: %s\n", err);
		return 1;
	}
	walk(one, objs, ONE_OBJS, "one");
	/* fill SPREAD_PAGES pages, then free the first object of each page:
	 * the free objects lie one per page, on that many slabs' freelists */
	for (size_t i = 0; i < sizeof all / sizeof all[0] && n < SPREAD_PAGES; i++) {
		all[i] = hp_kmem_cache_alloc(spr);
		if (!all[i]) {
			fprintf(stderr, "out of memory after %zu objects\n", i);
			return 1;
		}
		if ((uintptr_t)all[i] >> 12 != last) {
			last = (uintptr_t)all[i] >> 12;
			objs[n++] = all[i];
		}
	}
	if (n < SPREAD_PAGES) {
		fprintf(stderr, "objects spanned only %d pages\n", n);
		return 1;
	}
	for (int i = 0; i < n; i++)
		hp_kmem_cache_free(spr, objs[i]);
	walk(spr, objs, n, "spread");
	return 0;
}

/* One run under callgrind; its two dumps' events into ev[2][NEV]. */
#define NEV 4
static const char *const evn[NEV] = { "Ir", "D1mr", "D1mw", "I1mr" };

static int run_once(const char *self, uint64_t ev[2][NEV])
{
	char dir[] = "/tmp/hotpath-cachetest-XXXXXX", out[PATH_MAX], geo[HP_NCACHES][96], err[512];
	const char *argv[24] = { HP_VALGRIND, "--tool=callgrind", "-q", "--collect-atstart=no" };
	int a = 4, pid, ws, rc = 0;

	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return -1;
	}
	snprintf(out, sizeof out, "--callgrind-out-file=%s/cg.%%p", dir);
	argv[a++] = out;
#ifndef HP_TEST_NO_CACHESIM
	{
		char e[128];
		hp_topo_t *t = hp_topo_load(e, sizeof e);

		a += hp_topo_cachesim_args(t, -1, argv + a, geo);
		hp_topo_free(t);
	}
#else
	(void)geo;
#endif
	argv[a++] = self;
	argv[a++] = "child";
	argv[a] = NULL;
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		/* one CPU, as the runner binds its child: impl/slub's per-CPU
		 * slabs would otherwise change with the CPU the child runs on */
		cpu_set_t set, one;

		if (sched_getaffinity(0, sizeof set, &set) == 0)
			for (int c = 0; c < CPU_SETSIZE; c++)
				if (CPU_ISSET(c, &set)) {
					CPU_ZERO(&one);
					CPU_SET(c, &one);
					sched_setaffinity(0, sizeof one, &one);
					break;
				}
		setenv("HWLOC_COMPONENTS", "-x86", 1);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &ws, 0) != pid || !WIFEXITED(ws) || WEXITSTATUS(ws)) {
		fprintf(stderr, "valgrind run failed (status 0x%x)\n", ws);
		rc = -1;
	}
	for (int k = 0; k < 2 && !rc; k++) {
		char p[PATH_MAX];

		snprintf(p, sizeof p, "%s/cg.%d.%d", dir, pid, k + 1);
		if (hp_cg_read_events(p, evn, NEV, ev[k], err, sizeof err) != 0) {
			fprintf(stderr, "FAIL: %s\n", err);
			rc = -1;
		}
	}
	for (int k = 1; k <= 2; k++) {
		char p[PATH_MAX];

		snprintf(p, sizeof p, "%s/cg.%d.%d", dir, pid, k);
		unlink(p);
		snprintf(p, sizeof p, "%s/cg.%d", dir, pid);
		unlink(p);
	}
	rmdir(dir);
	return rc;
}

int main(int argc, char **argv)
{
	uint64_t a[2][NEV], b[2][NEV];
	const char *why;
	int fail = 0;

	if (argc > 1 && !strcmp(argv[1], "child"))
		return child();
	if ((why = hp_cg_unavailable())) {
		printf("SKIP: %s\n", why);
		return 77;
	}
	char self[PATH_MAX];
	ssize_t sl = readlink("/proc/self/exe", self, sizeof self - 1);

	if (sl <= 0) {
		perror("readlink /proc/self/exe");
		return 1;
	}
	self[sl] = '\0';
	if (run_once(self, a) != 0 || run_once(self, b) != 0)
		return 1;
	for (int k = 0; k < 2; k++)
		for (int e = 0; e < NEV; e++)
			if (a[k][e] != b[k][e]) {
				fprintf(stderr, "FAIL: %s %s: %llu then %llu\n", k ? "spread" : "one", evn[e],
					(unsigned long long)a[k][e], (unsigned long long)b[k][e]);
				fail = 1;
			}
	double ops1 = 2.0 * ONE_OBJS * ROUNDS, ops2 = 2.0 * SPREAD_PAGES * ROUNDS;
	double d1 = (double)(a[0][1] + a[0][2]) / ops1, d2 = (double)(a[1][1] + a[1][2]) / ops2;

	printf("D1 misses per alloc or free: one page %.4f, %d pages %.4f (Ir %.1f, %.1f)\n", d1,
	       SPREAD_PAGES, d2, (double)a[0][0] / ops1, (double)a[1][0] / ops2);
	/* one page stays in D1; the spread walk misses about once per object */
	if (!(d1 < 0.05)) {
		fprintf(stderr, "FAIL: a walk over one page missed %.4f per op (expected ~0)\n", d1);
		fail = 1;
	}
	if (!(d2 > 0.5)) {
		fprintf(stderr, "FAIL: a walk over %d pages missed only %.4f per op (expected > 0.5)\n",
			SPREAD_PAGES, d2);
		fail = 1;
	}
	return fail;
}
