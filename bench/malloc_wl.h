/* malloc_wl.h — what the malloc-workloads cases share: checked blocks, the
 * peak-RSS counter, the thread count, and the cases each file defines.
 *
 * Every block is at least 8 bytes: its first 8 bytes hold a cookie made
 * from its size, its last byte the size's low byte. wl_block_free() checks
 * both before freeing, so an allocator that hands out overlapping memory
 * aborts the run (recorded as a crash, never as a number).
 */
#ifndef HP_BENCH_MALLOC_WL_H
#define HP_BENCH_MALLOC_WL_H

#include "hp.h"
#include "malloc_variants.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>
#include <time.h>

#define WL_OPS(ctx) ((const hp_mem_ops_t *)(ctx)->v->ops)
#define WL_MAX_THREADS 256

static inline uint64_t wl_cookie(uint32_t size)
{
	return ((uint64_t)size << 32) | ((size * 0x9e3779b1u) ^ 0x5a17c0deu);
}

/* malloc(size) (size >= 8) with its cookie and last byte written; aborts on NULL. */
static inline void *wl_block_new(const hp_mem_ops_t *ops, uint32_t size)
{
	unsigned char *b = ops->alloc(size);

	if (!b) {
		fprintf(stderr, "malloc-workloads: malloc(%u) returned NULL\n", size);
		abort();
	}
	memcpy(b, &(uint64_t){ wl_cookie(size) }, 8);
	if (size > 8)
		b[size - 1] = (unsigned char)size;
	return b;
}

/* Returns the block's size after checking it; aborts on a bad block. */
static inline uint32_t wl_block_check(const void *p, const char *where)
{
	const unsigned char *b = p;
	uint64_t h;
	uint32_t size;

	memcpy(&h, b, 8);
	size = (uint32_t)(h >> 32);
	if (h != wl_cookie(size) || size < 8 || (size > 8 && b[size - 1] != (unsigned char)size)) {
		fprintf(stderr, "malloc-workloads: %s: block %p corrupted (header %#llx)\n",
			where, p, (unsigned long long)h);
		abort();
	}
	return size;
}

/* Checks and frees; returns the size the header recorded (summed as a
 * checksum that must not depend on the allocator). */
static inline uint32_t wl_block_free(const hp_mem_ops_t *ops, void *p, const char *where)
{
	uint32_t size = wl_block_check(p, where);

	ops->free(p, size);
	return size;
}

static inline void wl_rss_counter(hp_state_t *st)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru) == 0)
		hp_counter(st, "peak_rss_kib", (double)ru.ru_maxrss);
}

/* The process's CPU time (all threads), in seconds. */
static inline double wl_cpu_s(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts) != 0)
		return 0;
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Counter "cpu_ns_per_op": the CPU time all the process's threads spent
 * since cpu0 (wl_cpu_s()), per op of `ops`. The cases that start their own
 * threads report wall-clock time; on a loaded machine that time includes
 * stretches in which the threads were runnable but not running (an
 * allocator's cost does not change then, the wall clock does: 10-20x on a
 * 2-vCPU guest shared with other jobs, docs/suites/malloc-workloads.md,
 * "Noise"), so this counter says whether a slow repetition was the
 * allocator or the machine. */
static inline void wl_cpu_counter(hp_state_t *st, double cpu0, double ops)
{
	if (ops > 0)
		hp_counter(st, "cpu_ns_per_op", (wl_cpu_s() - cpu0) * 1e9 / ops);
}

/* The cases that start their own threads run them as the programs run:
 * on every CPU of the run (--cpus), not on the one CPU the harness pins
 * its measured thread to. Threads inherit the affinity of the thread that
 * starts them, so setup() and run() widen the calling thread's to all the
 * run's CPUs before starting any (their successors inherit it in turn).
 * Without this every worker of a 2-thread point shared one CPU. */
static inline void wl_unpin(const hp_ctx_t *ctx)
{
	cpu_set_t set;

#ifdef WL_MUTATE_PINNED
	return;         /* the test's mutant: the threads stay on the harness's CPU */
#endif
	if (!ctx || !ctx->all_cpus || ctx->ncpus < 1)
		return;
	CPU_ZERO(&set);
	for (int i = 0; i < ctx->ncpus; i++)
		if (ctx->all_cpus[i] >= 0 && ctx->all_cpus[i] < CPU_SETSIZE)
			CPU_SET(ctx->all_cpus[i], &set);
	if (CPU_COUNT(&set) > 0)
		pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

static inline int wl_threads(const hp_ctx_t *ctx)
{
	int t = ctx->threads > 0 ? ctx->threads : 1;

	return t > WL_MAX_THREADS ? WL_MAX_THREADS : t;
}

/* The variants every case runs under (malloc_workloads.c). */
extern const hp_variant_t *const wl_variants[];

/* The published programs' workloads (malloc_wl_orig.c). */
extern const hp_case_t wl_case_larson, wl_case_xmalloc, wl_case_cache_scratch, wl_case_cache_thrash;

/* glibc's malloc benchmarks (malloc_wl_glibc.c). */
extern const hp_case_t wl_case_glibc_simple, wl_case_glibc_thread;

/* mimalloc-bench's mstress (malloc_wl_mstress.c). */
extern const hp_case_t wl_case_mstress;

/* rpmalloc's rptest (malloc_wl_rptest.c) and OLogN's alloc-test (malloc_wl_alloctest.c). */
extern const hp_case_t wl_case_rptest, wl_case_alloc_test;

#endif
