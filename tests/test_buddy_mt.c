/* test_buddy_mt.c — threads on both per-CPU stand-ins at once (locked sched_getcpu path and pinned per-index path), cookies checked, pages handed between threads; on a 6.6 zone, then on a 6.7 zone with a vmstat-like thread decaying the locked pcps' high meanwhile. */
#include "t_util.h"
#include "buddy.h"
#include "hp_rand.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

enum { LOCKED = 3, PINNED = 3, NTH = LOCKED + PINNED, OPS = 20000, KEEP = 48 };

static hp_buddy_zone_t *z;
static atomic_int errors;

/* a one-slot mailbox per thread: pages allocated by one thread are freed by
 * the next (the remote-free pattern of page caches and network buffers) */
static _Atomic(uintptr_t) box[NTH];   /* page address | order (pages are 4 KiB aligned) */

typedef struct { void *addr; unsigned order; uint64_t cookie; } held_t;

static void stamp(held_t *h)
{
	uint64_t *w = h->addr;
	for (size_t i = 0; i < ((size_t)1 << h->order); i++)
		w[i * 512] = w[i * 512 + 511] = h->cookie ^ i;
}

static int intact(const held_t *h)
{
	const uint64_t *w = h->addr;
	for (size_t i = 0; i < ((size_t)1 << h->order); i++)
		if (w[i * 512] != (h->cookie ^ i) || w[i * 512 + 511] != (h->cookie ^ i))
			return 0;
	return 1;
}

static void *worker(void *arg)
{
	int id = (int)(intptr_t)arg;
	int pinned = id >= LOCKED;
	int cpu = 8 + id;    /* pinned threads own pcp 11..13; locked ones use 0..ncpu-1 */
	uint64_t seed = 0xabcdef + (uint64_t)id;
	held_t held[KEEP];
	int nh = 0;

	for (int op = 0; op < OPS; op++) {
		uint64_t r = hp_splitmix64(&seed);
		if ((r & 1) && nh < KEEP) {
			unsigned order = (r >> 8) % 8 ? (unsigned)((r >> 16) % 4) : (unsigned)((r >> 16) % 6);
			unsigned gfp = (r >> 24) % 2 ? HP_GFP_MOVABLE : HP_GFP_KERNEL;
			void *a = pinned ? hp_buddy_get_free_pages_cpu(z, cpu, gfp, order) :
					   hp_buddy_get_free_pages(z, gfp, order);
			if (a) {
				held[nh] = (held_t){ a, order, r };
				stamp(&held[nh++]);
			}
		} else if (nh) {
			int i = (int)((r >> 32) % (unsigned)nh);
			if (!intact(&held[i]))
				atomic_fetch_add(&errors, 1);
			/* every so often hand it to the next thread instead */
			void *mine = held[i].addr;
			if ((r >> 40) % 4 == 0) {
				int to = (id + 1) % NTH;
				uintptr_t expect = 0;
				if (atomic_compare_exchange_strong(&box[to], &expect, (uintptr_t)mine | held[i].order))
					mine = NULL;
			}
			if (mine) {
				if (pinned)
					hp_buddy_free_pages_addr_cpu(z, cpu, mine, held[i].order);
				else
					hp_buddy_free_pages_addr(z, mine, held[i].order);
			}
			held[i] = held[--nh];
		}
		uintptr_t m = atomic_exchange(&box[id], 0);
		if (m) {
			void *got = (void *)(m & ~(uintptr_t)4095);
			unsigned order = (unsigned)(m & 4095);
			if (pinned)
				hp_buddy_free_pages_addr_cpu(z, cpu, got, order);
			else
				hp_buddy_free_pages_addr(z, got, order);
		}
	}
	for (int i = 0; i < nh; i++) {
		if (!intact(&held[i]))
			atomic_fetch_add(&errors, 1);
		hp_buddy_free_pages_addr(z, held[i].addr, held[i].order);
	}
	return NULL;
}

static atomic_int stop;

/* the vmstat worker of 6.7: decays the pcps the locked threads use (it
 * takes their lock; the pinned ones' pcps are their threads' alone) */
static void *decayer(void *arg)
{
	(void)arg;
	while (!atomic_load(&stop))
		for (int c = 0; c < 8; c++)
			hp_buddy_pcp_decay(z, c);
	return NULL;
}

static void run(hp_buddy_pcp_gen_t gen)
{
	/* 4 MiB with watermarks: the threads run it down to them, so some
	 * allocations fail, which must be clean */
	hp_buddy_config_t cfg = { .arena_bytes = 4u << 20, .ncpus = 16, .pcp_mode = HP_BUDDY_PCP_CUSTOM,
				  .pcp_high = 48, .pcp_batch = 8, .pcp_gen = gen,
				  .pcp_high_max = gen == HP_BUDDY_PCP_GEN_6_7 ? 256 : 0 };
	char err[256];
	z = hp_buddy_create(&cfg, err, sizeof err);
	T_CHECK_MSG(z != NULL, "%s", err);
	if (!z)
		return;
	atomic_store(&errors, 0);
	atomic_store(&stop, 0);
	for (int i = 0; i < NTH; i++)
		atomic_store(&box[i], 0);
	pthread_t th[NTH], dt;
	for (int i = 0; i < NTH; i++)
		pthread_create(&th[i], NULL, worker, (void *)(intptr_t)i);
	pthread_create(&dt, NULL, decayer, NULL);
	for (int i = 0; i < NTH; i++)
		pthread_join(th[i], NULL);
	atomic_store(&stop, 1);
	pthread_join(dt, NULL);
	for (int i = 0; i < NTH; i++) {
		uintptr_t m = atomic_load(&box[i]);
		if (m)
			hp_buddy_free_pages_addr(z, (void *)(m & ~(uintptr_t)4095), (unsigned)(m & 4095));
	}
	T_CHECK(atomic_load(&errors) == 0);
	T_CHECK_MSG(hp_buddy_check(z, err, sizeof err) == 0, "%s", err);
	hp_buddy_stats_t s;
	hp_buddy_get_stats(z, &s);
	T_CHECK(s.alloc_pages == 0 && s.bad_frees == 0);
	T_CHECK(s.pcp_hits > 0 && s.pcp_refills > 0 && s.pcp_drains > 0);
	for (int c = 0; c < 16; c++) {
		hp_buddy_pcp_info_t i;
		hp_buddy_get_pcp_info(z, c, &i);
		T_CHECK_MSG(i.high >= i.high_min && i.high <= i.high_max, "cpu %d: high %d out of [%d, %d]", c, i.high,
			    i.high_min, i.high_max);
	}
	printf("%s: allocs %llu, pcp hits %llu, refills %llu, drains %llu, contended %llu, fail_wmark %llu\n",
	       gen == HP_BUDDY_PCP_GEN_6_7 ? "6.7" : "6.6",
	       (unsigned long long)s.allocs, (unsigned long long)s.pcp_hits, (unsigned long long)s.pcp_refills,
	       (unsigned long long)s.pcp_drains, (unsigned long long)s.pcp_contended,
	       (unsigned long long)s.fail_wmark);
	hp_buddy_drain_all(z);
	T_CHECK(hp_buddy_free_pages_count(z) == 1024 && hp_buddy_nr_free(z, HP_MAX_ORDER) == 1);
	T_CHECK_MSG(hp_buddy_check(z, err, sizeof err) == 0, "%s", err);
	hp_buddy_destroy(z);
	z = NULL;
}

int main(void)
{
	run(HP_BUDDY_PCP_GEN_6_6);
	run(HP_BUDDY_PCP_GEN_6_7);
	return t_done("test_buddy_mt");
}
