/* test_slub_rseq.c — the rseq stand-in (c) under migration: threads flip
 * their affinity between two CPUs in a loop while allocating and freeing
 * through the rseq fast paths (inline hp_kmem_cache_*_rseq, the rseq
 * kmalloc sets of both configs, bulk), so that critical sections are
 * preempted, migrated and aborted. Each live object carries its owner's
 * tag, set with an atomic exchange at allocation: finding another live
 * tag there is a double allocation. At the end every cache must be empty
 * (kmem_cache_destroy succeeds: object conservation). Exits 77 when rseq
 * is unavailable (valgrind, GLIBC_TUNABLES=glibc.pthread.rseq=0, an old
 * glibc) or fewer than two CPUs are usable. */
#include "t_util.h"
#include "slub.h"

#include <pthread.h>
#include <sched.h>
#include <stdint.h>

#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
#define ROUNDS 400
#else
#define ROUNDS 4000
#endif
#define NT 4
#define LIVE 64
#define LIVE_BIT (1ull << 63)

static hp_kmem_cache_t *cache, *dcache;
static int cpus[2];
static long double_allocs, bad_frees, total_allocs, total_frees;

static void take(void *p, uint64_t tag)
{
	uint64_t old = __atomic_exchange_n((uint64_t *)p, tag, __ATOMIC_RELAXED);

	if (old & LIVE_BIT)
		__atomic_fetch_add(&double_allocs, 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&total_allocs, 1, __ATOMIC_RELAXED);
}

static void give(void *p, uint64_t tag)
{
	uint64_t old = __atomic_exchange_n((uint64_t *)p, 0, __ATOMIC_RELAXED);

	if (old != tag)
		__atomic_fetch_add(&bad_frees, 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&total_frees, 1, __ATOMIC_RELAXED);
}

static void *worker(void *arg)
{
	long id = (long)arg;
	void *live[LIVE];
	int kind[LIVE];
	uint64_t rng = 0x9e3779b97f4a7c15ull * (uint64_t)(id + 1);

	for (int r = 0; r < ROUNDS; r++) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(cpus[(r + id) & 1], &set);
		(void)sched_setaffinity(0, sizeof set, &set);
		for (int i = 0; i < LIVE; i++) {
			uint64_t tag = LIVE_BIT | ((uint64_t)id << 40) | ((uint64_t)r << 8) | (uint64_t)i;

			rng = rng * 6364136223846793005ull + 1442695040888963407ull;
			kind[i] = (int)((rng >> 33) % 4);
			switch (kind[i]) {
			case 0: live[i] = hp_kmem_cache_alloc_rseq(cache); break;
			case 1: live[i] = hp_kmem_cache_alloc_ool(dcache); break;
			case 2: live[i] = hp_kmalloc_set(HP_KMALLOC_SET_RSEQ, 64); break;
			default: live[i] = hp_kmalloc_set(HP_KMALLOC_SET_RSEQ + HP_KMALLOC_SET_DISTRO, 64); break;
			}
			if (!live[i]) {
				fprintf(stderr, "out of memory\n");
				exit(1);
			}
			take(live[i], tag);
			if ((i & 7) == 7)
				sched_yield();   /* preempt the thread on this CPU now and then */
		}
		for (int i = 0; i < LIVE; i++) {
			uint64_t tag = LIVE_BIT | ((uint64_t)id << 40) | ((uint64_t)r << 8) | (uint64_t)i;

			give(live[i], tag);
			switch (kind[i]) {
			case 0: hp_kmem_cache_free_rseq(cache, live[i]); break;
			case 1: hp_kmem_cache_free_ool(dcache, live[i]); break;
			default: hp_kfree(live[i]); break;
			}
		}
		if ((r & 63) == 0) {   /* bulk through the rseq hold */
			void *b[16];

			if (hp_kmem_cache_alloc_bulk(cache, 16, b) == 16) {
				for (int i = 0; i < 16; i++)
					take(b[i], LIVE_BIT | 1);
				for (int i = 0; i < 16; i++)
					give(b[i], LIVE_BIT | 1);
				hp_kmem_cache_free_bulk(cache, 16, b);
			}
		}
	}
	return NULL;
}

int main(void)
{
	cpu_set_t set;
	pthread_t th[NT];
	char err[256];
	int n = 0;

	if (hp_slub_ensure_init() != 0) {
		fprintf(stderr, "slab allocator set-up failed\n");
		return 1;
	}
	if (!hp_slub_rseq_available())
		t_skip("rseq is not registered in this process (valgrind, GLIBC_TUNABLES=glibc.pthread.rseq=0, glibc < 2.35 or not x86_64): the rseq stand-in falls back to cmpxchg");
	if (sched_getaffinity(0, sizeof set, &set) == 0)
		for (int c = 0; c < CPU_SETSIZE && n < 2; c++)
			if (CPU_ISSET(c, &set))
				cpus[n++] = c;
	if (n < 2)
		t_skip("fewer than two usable CPUs: threads cannot migrate");
	cache = hp_kmem_cache_create("rseq-min", 64, 0, HP_SLAB_PCPU_RSEQ, NULL, err, sizeof err);
	dcache = hp_kmem_cache_create("rseq-distro", 64, 0, HP_SLAB_PCPU_RSEQ | HP_SLAB_KCONFIG_DISTRO, NULL, err, sizeof err);
	T_CHECK_MSG(cache && dcache, "%s", err);
	if (!cache || !dcache)
		return t_done("test_slub_rseq");
	for (long i = 0; i < NT; i++)
		pthread_create(&th[i], NULL, worker, (void *)i);
	for (int i = 0; i < NT; i++)
		pthread_join(th[i], NULL);
	T_CHECK_MSG(double_allocs == 0, "%ld objects allocated twice", double_allocs);
	T_CHECK_MSG(bad_frees == 0, "%ld objects changed hands while live", bad_frees);
	T_CHECK(total_allocs == total_frees);
	T_CHECK_MSG(hp_kmem_cache_destroy(cache) == 0, "objects remain in rseq-min");
	T_CHECK_MSG(hp_kmem_cache_destroy(dcache) == 0, "objects remain in rseq-distro");
	printf("%ld allocations, %ld frees on CPUs %d and %d\n", total_allocs, total_frees, cpus[0], cpus[1]);
	return t_done("test_slub_rseq");
}
