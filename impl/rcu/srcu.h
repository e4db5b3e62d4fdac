/* srcu.h — impl/rcu, sleepable RCU: independent domains whose readers may
 * block, counted per CPU slot in two index slots.
 *
 * Kernel counterpart: SRCU's tree variant (kernel/rcu/srcutree.c and
 * include/linux/srcutree.h, Linux 6.6), without its rcu_node funnel, its
 * callbacks (call_srcu, srcu_barrier) and its polled API:
 * - hp_srcu_struct_t is struct srcu_struct: ->idx is srcu_idx, ->sda the
 *   per-CPU struct srcu_data with srcu_lock_count[2] and
 *   srcu_unlock_count[2];
 * - hp_srcu_read_lock() is srcu_read_lock(): read the index's low bit,
 *   increment this CPU's lock count of that index, return the index;
 * - hp_srcu_read_unlock(ssp, idx) is srcu_read_unlock(): increment this
 *   CPU's unlock count of the index the lock returned;
 * - hp_synchronize_srcu() is synchronize_srcu(): wait for the slot readers
 *   are no longer told to use to drain (srcu_readers_active_idx_check()),
 *   flip the index (srcu_flip()), wait for the old slot to drain.
 *
 * Where user space differs:
 * - The kernel increments the counts of the CPU the reader runs on
 *   (this_cpu_inc, non-atomic, safe because the CPU cannot change under
 *   it). A user thread can migrate between reading its CPU and the
 *   increment, so the increments are atomic (a locked add), and a thread
 *   keeps the slot of the CPU it ran on at its first read lock (with
 *   pinned threads: its CPU's). Only the sums over slots mean anything, so
 *   any slot is correct; the slot only decides which cache line is shared.
 * - The writer polls the sums (a few quick checks, then sleeps growing to
 *   1 ms; expedited: spins, then yields) where the kernel's grace-period
 *   work item is requeued with delays.
 * - No registration: any thread may read, in any number of domains, and
 *   may sleep inside (that is the point of SRCU).
 *
 * Memory ordering (the kernel's smp_mb() A..E, x86-64 and in general):
 *   A  writer, in the drain check, between summing a slot's unlock counts
 *      and summing its lock counts. Every unlock it counts comes from a
 *      reader whose lock increment came earlier, so that lock is counted
 *      too: the lock sum is at least the unlock sum plus the readers still
 *      inside whose lock it saw. Equal sums mean none is.
 *   B  reader, after the lock increment, before the critical section.
 *      Pairs with A: a reader whose increment the check missed runs B
 *      after A, so its section sees every update the writer made before
 *      the grace period (it cannot hold what the writer removed).
 *   C  reader, after the critical section, before the unlock increment.
 *      Pairs with A: a counted unlock means the section's accesses are
 *      done before the writer goes on to free.
 *   D  writer, around the flip. The flip is stored only after a drain
 *      check succeeded (D before it: the check's loads come first), and
 *      the next check's loads come after it (D after it). A reader that
 *      read the old index just before the flip may still increment the old
 *      slot after the second check began; its B then follows that check's
 *      A, so as in B it sees the updates. Such late increments are bounded
 *      by the number of threads, far from wrapping the counters.
 *   E  writer, after the last check, before returning: the caller's frees
 *      come after every access of the sections the checks saw end.
 *   Two slots are what make the wait finish: readers that arrive during a
 *   grace period count in the other slot, so the one being drained only
 *   ever goes down. Without the flip both checks look at the slot nobody
 *   uses and the grace period waits for no one (tests build that mutation,
 *   -DHP_SRCU_BUILD_BROKEN, and the torture test catches it).
 *   On x86-64 a locked add is a full barrier, so B and C cost no
 *   instruction (smp_mb__after_atomic / smp_mb__before_atomic are compiler
 *   barriers there, as in the kernel); elsewhere they are full fences.
 *
 * Cost (x86-64, gcc 12 -O2):
 * - hp_srcu_read_lock: a TLS load and test of the thread's slot, a load of
 *   the index, the slot's address, one locked add (about 20 cycles: the
 *   atomic is what SRCU pays over RCU's plain stores).
 * - hp_srcu_read_unlock: the slot's address and one locked add.
 * - hp_synchronize_srcu: two drain checks, each two passes over the slots
 *   (one cache line per possible CPU) with a fence between; no system call
 *   while readers leave promptly. Blocked readers of other domains do not
 *   delay it: nothing is shared between domains.
 */
#ifndef HP_SRCU_H
#define HP_SRCU_H

#include <pthread.h>
#include <stdint.h>

#include "hp_compiler.h"
#include "rcu_types.h"

#ifdef __cplusplus
extern "C" {
#endif

/* struct srcu_data: one per CPU slot, on its own cache line. */
typedef struct hp_srcu_data {
	unsigned long lock_count[2];
	unsigned long unlock_count[2];
} __attribute__((aligned(64))) hp_srcu_data_t;

/* struct srcu_struct: one SRCU domain. */
typedef struct hp_srcu_struct {
	unsigned long idx;              /* srcu_idx: readers use idx & 1 */
	hp_srcu_data_t *sda;            /* nslots of them */
	int nslots;
	pthread_mutex_t gp_mutex;       /* one grace period at a time */
	uint64_t seq;                   /* rcu_seq: odd while a grace period runs */
	uint64_t gps, exp_gps;          /* grace periods completed, expedited among them */
} hp_srcu_struct_t;

/* init_srcu_struct(): 0, or -1 with errno ENOMEM. */
int hp_init_srcu_struct(hp_srcu_struct_t *ssp);
/* cleanup_srcu_struct(): aborts with a message when a reader is inside. */
void hp_cleanup_srcu_struct(hp_srcu_struct_t *ssp);
/* synchronize_srcu(): waits for every reader of this domain that entered
 * before the call; overlapping callers share a grace period. Never from
 * inside a read-side section of the same domain (it would wait for
 * itself; undetected). */
void hp_synchronize_srcu(hp_srcu_struct_t *ssp);
/* synchronize_srcu_expedited(): the same, polling without sleeping. */
void hp_synchronize_srcu_expedited(hp_srcu_struct_t *ssp);
/* srcu_readers_active(): nonzero while any reader is inside (a snapshot). */
int hp_srcu_readers_active(hp_srcu_struct_t *ssp);

/* The calling thread's slot as a byte offset into ->sda, plus one slot's
 * size (0: not chosen yet), and its chooser, which returns the same. */
extern HP_RCU_TLS unsigned long hp_srcu_slot_end_;
unsigned long hp_srcu_pick_slot_(void);

/* smp_mb__after_atomic() / smp_mb__before_atomic(): a locked RMW is a full
 * barrier on x86-64 (not under TSan, which needs to see the fence's stand-in). */
#if (defined(__x86_64__) || defined(__i386__)) && !defined(HP_RCU_TSAN)
#define hp_srcu_mb_around_atomic() hp_rcu_compiler_barrier()
#else
#define hp_srcu_mb_around_atomic() hp_rcu_smp_mb()
#endif

static inline hp_srcu_data_t *hp_srcu_slot_at_(hp_srcu_struct_t *ssp, unsigned long end)
{
	return (hp_srcu_data_t *)(void *)((char *)ssp->sda + end) - 1;
}

/* The lock chooses the thread's slot on first use; an unlock always
 * follows a lock of the same thread, so the slot is chosen by then. */
static inline hp_srcu_data_t *hp_srcu_this_slot_(hp_srcu_struct_t *ssp)
{
	unsigned long end = hp_srcu_slot_end_;

	if (unlikely(!end))
		end = hp_srcu_pick_slot_();
	return hp_srcu_slot_at_(ssp, end);
}

/* srcu_read_lock(): returns the index to hand to hp_srcu_read_unlock. Nests,
 * may sleep inside, signal-handler safe. */
static inline int hp_srcu_read_lock(hp_srcu_struct_t *ssp)
{
	unsigned long idx = __atomic_load_n(&ssp->idx, __ATOMIC_RELAXED) & 1;

	__atomic_fetch_add(&hp_srcu_this_slot_(ssp)->lock_count[idx], 1, __ATOMIC_SEQ_CST);
	hp_srcu_mb_around_atomic();     /* B */
	return (int)idx;
}

/* srcu_read_unlock(): idx is what the matching hp_srcu_read_lock returned. */
static inline void hp_srcu_read_unlock(hp_srcu_struct_t *ssp, int idx)
{
	hp_srcu_mb_around_atomic();     /* C */
	__atomic_fetch_add(&hp_srcu_slot_at_(ssp, hp_srcu_slot_end_)->unlock_count[(unsigned)idx & 1u], 1,
			   __ATOMIC_SEQ_CST);
}

#ifdef __cplusplus
}
#endif

#endif
