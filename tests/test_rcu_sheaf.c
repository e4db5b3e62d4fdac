/* test_rcu_sheaf.c — kfree_rcu through a slab sheaf (impl/slub's
 * hp_kfree_rcu_sheaf, Linux 6.18/7.0 __kfree_rcu_sheaf) over impl/rcu's memb
 * flavour: while a reader older than the objects is inside its critical
 * section, none of them comes back (an allocation burst that drains every
 * CPU's sheaves and the barn never returns one, and no sheaf callback has
 * run); after the reader leaves, hp_kfree_rcu_sheaf_flush + rcu_barrier
 * bring every object back (conservation by hp_kmem_cache_sheaves_check with
 * nothing held). With -DT_MUTANT, against impl/slub built with
 * -DHP_SLUB_MUTATE_RCU_SHEAF_NOWAIT (a full sheaf goes back without a grace
 * period), the test passes only when that early return is found. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rcu_memb.h"
#include "slub.h"
#include "t_util.h"

#define LD(x) __atomic_load_n(&(x), __ATOMIC_ACQUIRE)
#define ST(x, v) __atomic_store_n(&(x), (v), __ATOMIC_RELEASE)

_Static_assert(sizeof(hp_rcu_head_t) <= HP_SLUB_RCU_HEAD_BYTES, "an rcu head fits in a sheaf's rcu_head");

static int in_cs, leave_cs;
static unsigned long sheaf_cbs;   /* sheaf callbacks run after a grace period */

static void sheaf_cb(hp_rcu_head_t *h)
{
	__atomic_fetch_add(&sheaf_cbs, 1, __ATOMIC_RELAXED);
	hp_kfree_rcu_sheaf_done(h);
}

/* the call_rcu impl/slub is given: the sheaf's head, this flavour's call_rcu */
static void sheaf_call_rcu(void *head)
{
	hp_call_rcu((hp_rcu_head_t *)head, sheaf_cb);
}

static void *holding_reader(void *arg)
{
	(void)arg;
	hp_rcu_register_thread();
	hp_rcu_read_lock();
	ST(in_cs, 1);
	while (!LD(leave_cs))
		t_sleep_us(1000);
	hp_rcu_read_unlock();
	hp_rcu_quiescent_state();
	hp_rcu_unregister_thread();
	return NULL;
}

static int cmp_ptr(const void *a, const void *b)
{
	uintptr_t x = *(const uintptr_t *)a, y = *(const uintptr_t *)b;

	return x < y ? -1 : x > y;
}

int main(void)
{
	char err[256];
	hp_kmem_cache_t *s = hp_kmem_cache_create("rcu-sheaf", 64, 0, HP_SLAB_SHEAVES, NULL, err, sizeof err);
	hp_sheaves_info_t info;
	pthread_t rd;
	unsigned cap, nq, nburst, early = 0;
	void **q, **burst;
	long bad;

	T_CHECK_MSG(s != NULL, "kmem_cache_create: %s", err);
	cap = hp_kmem_cache_sheaf_capacity(s);
	T_CHECK(cap > 0);
	nq = 3 * cap + 5;                                /* three full sheaves and a partial one */
	nburst = (unsigned)(2 * (hp_slub_nr_cpus() + 1) + HP_SLAB_SHEAVES_MAX_FULL + 4) * cap;
	q = calloc(nq, sizeof *q);
	burst = calloc(nburst, sizeof *burst);
	T_CHECK(q && burst);
	for (unsigned i = 0; i < nq; i++) {
		q[i] = hp_kmem_cache_alloc(s);
		T_CHECK(q[i] != NULL);
		memset(q[i], 0x5a, 64);
	}

	ST(in_cs, 0);
	ST(leave_cs, 0);
	T_CHECK(pthread_create(&rd, NULL, holding_reader, NULL) == 0);
	while (!LD(in_cs))
		t_sleep_us(100);
	/* the reader is older than every object queued now; half the calls
	 * name the cache, half let it be found from the object's slab */
	for (unsigned i = 0; i < nq; i++)
		T_CHECK_MSG(hp_kfree_rcu_sheaf(i % 2 ? s : NULL, q[i], sheaf_call_rcu) == 1,
			    "hp_kfree_rcu_sheaf refused object %u", i);
	t_sleep_us(200000);   /* time for a wrong grace period to end */
	T_CHECK_MSG(LD(sheaf_cbs) == 0, "%lu sheaf callbacks ran while an older reader was inside", LD(sheaf_cbs));
	bad = hp_kmem_cache_sheaves_check(s, -1, &info, err, sizeof err);
	T_CHECK_MSG(bad == 0, "sheaves check with the reader inside: %s", err);
	T_CHECK_MSG(info.in_rcu == nq % cap, "%lu objects in rcu_free sheaves, want %u", info.in_rcu, nq % cap);
	/* everything queued but not in an rcu_free sheaf is with call_rcu: still in use */
	bad = hp_kmem_cache_sheaves_check(s, (long)(nq - info.in_rcu), &info, err, sizeof err);
	if (bad)
		early++;
#ifndef T_MUTANT
	T_CHECK_MSG(bad == 0, "objects came back before the grace period: %s", err);
#endif
	/* drain every CPU's sheaves and the barn: none of the queued objects
	 * may be handed out while the reader is inside */
	qsort(q, nq, sizeof *q, cmp_ptr);
	for (unsigned i = 0; i < nburst; i++) {
		burst[i] = hp_kmem_cache_alloc(s);
		T_CHECK(burst[i] != NULL);
		if (bsearch(&burst[i], q, nq, sizeof *q, cmp_ptr))
			early++;
	}
#ifndef T_MUTANT
	T_CHECK_MSG(early == 0, "%u objects freed with kfree_rcu were reallocated while an older reader was inside",
		    early);
#endif
	for (unsigned i = 0; i < nburst; i++)
		hp_kmem_cache_free(s, burst[i]);

	ST(leave_cs, 1);
	pthread_join(rd, NULL);
	T_CHECK_MSG(hp_kfree_rcu_sheaf_flush(s, sheaf_call_rcu) == (nq % cap ? 1u : 0u),
		    "flush handed a wrong number of partial sheaves");
	hp_rcu_barrier();
#ifndef T_MUTANT
	T_CHECK_MSG(LD(sheaf_cbs) == nq / cap + 1, "%lu sheaf callbacks, want %u", LD(sheaf_cbs), nq / cap + 1);
#endif
	bad = hp_kmem_cache_sheaves_check(s, 0, &info, err, sizeof err);
	T_CHECK_MSG(bad == 0, "after the flush and rcu_barrier: %s", err);
	T_CHECK(info.in_rcu == 0);
	T_CHECK_MSG(hp_kmem_cache_destroy(s) == 0, "destroy found objects left");
	free(q);
	free(burst);
#ifdef T_MUTANT
	T_CHECK_MSG(early > 0, "the mutant (a sheaf returned without a grace period) was not caught");
	printf("mutant caught: %u early returns found\n", early);
	return t_done("rcu_sheaf_mutant");
#else
	if (!t_failures)
		printf("rcu sheaf: %u objects (capacity %u) waited for an older reader; all back after flush + rcu_barrier\n",
		       nq, cap);
	return t_done("rcu_sheaf");
#endif
}
