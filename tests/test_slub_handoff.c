/* test_slub_handoff.c — the slub suite's remote_free handoff (bench/slub_bench.h): the bench's own producer loop and consumer thread (bench/slub_variant.c compiled here for the libc family) run batches of every length; the consumer must free exactly the objects the producer handed over (conservation), the lockstep must leave no batch pending, and the per-side counters must be reported.
 *
 * Built twice (tests/meson.build): as is, where every check holds, and
 * with -DHP_SLUB_MUTATE_HANDOFF_SHORT (a consumer that leaves the last
 * object of each batch behind), where the producer's conservation check
 * (hp_fatal, defined here to exit 1) must fire: the mutant is expected to
 * fail.
 */
#include "t_util.h"
#include "hp.h"
#include "slub_bench.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static int counters_seen, skips_seen;

static void st_nop(hp_state_t *st) { (void)st; }
static void st_time(hp_state_t *st, double s) { (void)st; (void)s; }

static void st_counter(hp_state_t *st, const char *name, double v)
{
	(void)st;
	if (!strcmp(name, "alloc_ns_per_object") || !strcmp(name, "free_ns_per_object")) {
		T_CHECK_MSG(v >= 0, "%s = %g", name, v);
		counters_seen++;
	}
}

static void st_skip(hp_state_t *st, const char *msg)
{
	(void)st;
	fprintf(stderr, "skip: %s\n", msg);
	skips_seen++;
}

/* the harness's hp_fatal: here, the conservation check's failure ends the test */
void hp_fatal(const hp_ctx_t *ctx, const char *fmt, ...)
{
	va_list ap;

	(void)ctx;
	fprintf(stderr, "hp_fatal: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static int bind_any(int cpu)
{
	(void)cpu;
	return 0;
}

int main(void)
{
	static const hp_state_ops_t ops = { st_nop, st_nop, st_time, st_counter, st_skip };
	hp_state_t st = { .ops = &ops, .threads = 1 };
	slub_job_t j = { .loops = &hp_slub_loops_libc, .size = 64, .bind_cpu = bind_any, .consumer_cpu = 1 };
	hp_ctx_t ctx = { .data = &j, .threads = 1 };
	/* full batches, a partial last batch, a single batch, one object */
	static const uint64_t runs[] = { 1000, 64, 63, 65, 2 * REMOTE_BATCH, 1, 4096 + 17 };
	uint64_t total = 0;

	if (posix_memalign((void **)&j.handoff, 64, sizeof(handoff_t)) != 0)
		return 99;
	memset(j.handoff, 0, sizeof(handoff_t));
	if (pthread_create(&j.consumer, NULL, j.loops->consumer, &j) != 0)
		return 99;
	T_CHECK(t_wait_at_least(&j.consumer_state, 1));
	for (size_t r = 0; r < sizeof runs / sizeof runs[0]; r++) {
		const int seen = counters_seen;

		j.loops->remote_run(&st, runs[r], &ctx);
		total += runs[r];
		/* malloc never fails here: every object is handed over and freed */
		T_CHECK_MSG(j.allocated == total, "run %zu: %llu handed over, %llu allocated", r,
			    (unsigned long long)j.allocated, (unsigned long long)total);
		T_CHECK_MSG(j.handoff->freed == j.allocated, "run %zu: consumer freed %llu of %llu", r,
			    (unsigned long long)j.handoff->freed, (unsigned long long)j.allocated);
		T_CHECK_MSG(j.handoff->done == j.handoff->posted, "run %zu: %llu batches posted, %llu freed", r,
			    (unsigned long long)j.handoff->posted, (unsigned long long)j.handoff->done);
		T_CHECK_MSG(counters_seen == seen + 2, "run %zu: alloc/free ns counters not reported", r);
	}
	/* batches of at most REMOTE_BATCH: one post per started batch */
	{
		uint64_t want = 0;

		for (size_t r = 0; r < sizeof runs / sizeof runs[0]; r++)
			want += (runs[r] + REMOTE_BATCH - 1) / REMOTE_BATCH;
		T_CHECK_MSG(j.handoff->posted == want, "%llu batches posted, want %llu",
			    (unsigned long long)j.handoff->posted, (unsigned long long)want);
	}
	T_CHECK(skips_seen == 0);
	__atomic_store_n(&j.stop, 1, __ATOMIC_RELEASE);
	pthread_join(j.consumer, NULL);
	free(j.handoff);
	return t_done("slub_handoff");
}
