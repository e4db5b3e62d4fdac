/* srcu.c — impl/rcu's SRCU (srcu.h documents it). Built twice: as is, and
 * with -DHP_SRCU_BUILD_BROKEN, a mutation without the index flip that the
 * torture test must catch (tests link it; nothing else does). */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysinfo.h>
#include <time.h>

#include "srcu.h"

#define MAX_SLOTS 1024

HP_RCU_TLS unsigned long hp_srcu_slot_end_;

static int nslots;
static pthread_once_t slots_once = PTHREAD_ONCE_INIT;

static void slots_init(void)
{
	int n = get_nprocs_conf();

	nslots = n < 1 ? 1 : n > MAX_SLOTS ? MAX_SLOTS : n;
}

/* The CPU this thread runs on now; the thread keeps it as its slot. */
unsigned long hp_srcu_pick_slot_(void)
{
	int cpu = sched_getcpu();

	pthread_once(&slots_once, slots_init);
	if (cpu < 0)
		cpu = 0;
	cpu %= nslots;
	hp_srcu_slot_end_ = ((unsigned long)cpu + 1) * sizeof(hp_srcu_data_t);
	return hp_srcu_slot_end_;
}

int hp_init_srcu_struct(hp_srcu_struct_t *ssp)
{
	pthread_once(&slots_once, slots_init);
	memset(ssp, 0, sizeof *ssp);
	ssp->sda = aligned_alloc(64, sizeof(hp_srcu_data_t) * (size_t)nslots);
	if (!ssp->sda) {
		errno = ENOMEM;
		return -1;
	}
	memset(ssp->sda, 0, sizeof(hp_srcu_data_t) * (size_t)nslots);
	ssp->nslots = nslots;
	pthread_mutex_init(&ssp->gp_mutex, NULL);
	return 0;
}

/* srcu_readers_active_idx_check(): no reader inside on slot idx. */
static int idx_drained(hp_srcu_struct_t *ssp, int idx)
{
	unsigned long locks = 0, unlocks = 0;

	for (int i = 0; i < ssp->nslots; i++)
		unlocks += __atomic_load_n(&ssp->sda[i].unlock_count[idx], __ATOMIC_ACQUIRE);
	hp_rcu_smp_mb();        /* A */
	for (int i = 0; i < ssp->nslots; i++)
		locks += __atomic_load_n(&ssp->sda[i].lock_count[idx], __ATOMIC_RELAXED);
	return locks == unlocks;
}

int hp_srcu_readers_active(hp_srcu_struct_t *ssp)
{
	return !idx_drained(ssp, 0) || !idx_drained(ssp, 1);
}

void hp_cleanup_srcu_struct(hp_srcu_struct_t *ssp)
{
	if (hp_srcu_readers_active(ssp)) {
		fprintf(stderr, "hp_srcu: cleanup_srcu_struct with a reader inside\n");
		abort();
	}
	pthread_mutex_destroy(&ssp->gp_mutex);
	free(ssp->sda);
	ssp->sda = NULL;
}

/* Polls until slot idx drains: a few checks 5 us apart (the kernel's
 * SRCU_RETRY_CHECK_DELAY), then sleeps doubling up to 1 ms; expedited
 * spins, then yields. */
static void wait_drained(hp_srcu_struct_t *ssp, int idx, int exp)
{
	for (unsigned tries = 0; !idx_drained(ssp, idx); tries++) {
		if (tries < 100) {
			hp_cpu_relax();
		} else if (exp) {
			sched_yield();
		} else {
			unsigned k = tries - 100;
			long ns = k < 4 ? 5000L : 5000L << (k - 4 < 8 ? k - 4 : 8);
			struct timespec ts = { 0, ns > 1000000 ? 1000000 : ns };

			nanosleep(&ts, NULL);
		}
	}
}

/* The slot readers are not told to use now. */
static int other_idx(hp_srcu_struct_t *ssp)
{
	return (int)((__atomic_load_n(&ssp->idx, __ATOMIC_RELAXED) & 1) ^ 1);
}

static void gp_run_locked(hp_srcu_struct_t *ssp, int exp)
{
	uint64_t s = ssp->seq;

	__atomic_store_n(&ssp->seq, s + 1, __ATOMIC_SEQ_CST);
	hp_rcu_smp_mb();        /* the caller's updates before the checks */
	/* readers that read the index before the last flip and counted late */
	wait_drained(ssp, other_idx(ssp), exp);
#if !defined(HP_SRCU_BUILD_BROKEN)
	/* srcu_flip() */
	hp_rcu_smp_mb();        /* D */
	__atomic_store_n(&ssp->idx, ssp->idx + 1, __ATOMIC_RELAXED);
	hp_rcu_smp_mb();        /* D */
#endif
	/* the readers of the index before the flip */
	wait_drained(ssp, other_idx(ssp), exp);
	hp_rcu_smp_mb();        /* E */
	__atomic_store_n(&ssp->gps, ssp->gps + 1, __ATOMIC_RELAXED);
	if (exp)
		__atomic_store_n(&ssp->exp_gps, ssp->exp_gps + 1, __ATOMIC_RELAXED);
	__atomic_store_n(&ssp->seq, s + 2, __ATOMIC_RELEASE);
}

static void synchronize(hp_srcu_struct_t *ssp, int exp)
{
	uint64_t snap, cur;

	/* rcu_seq_snap(): the end of the first grace period starting after now */
	hp_rcu_smp_mb();
	snap = (__atomic_load_n(&ssp->seq, __ATOMIC_ACQUIRE) + 3) & ~UINT64_C(1);
	pthread_mutex_lock(&ssp->gp_mutex);
	cur = __atomic_load_n(&ssp->seq, __ATOMIC_ACQUIRE);
	/* callers that queued on the mutex share the grace period that ran */
	if ((int64_t)(cur - snap) < 0)
		gp_run_locked(ssp, exp);
	pthread_mutex_unlock(&ssp->gp_mutex);
	hp_rcu_smp_mb();
}

void hp_synchronize_srcu(hp_srcu_struct_t *ssp)
{
	synchronize(ssp, 0);
}

void hp_synchronize_srcu_expedited(hp_srcu_struct_t *ssp)
{
	synchronize(ssp, 1);
}
