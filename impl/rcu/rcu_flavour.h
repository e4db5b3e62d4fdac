/* rcu_flavour.h — the API of one impl/rcu flavour, stamped out per flavour
 * (a template: rcu_qsbr.h, rcu_memb.h, rcu_preempt.h and rcu_broken.h
 * include it with HP_RCU_PFX and HP_RCU_READ_KIND set; no include guard).
 *
 * Every function is named hp_rcu_<flavour>_<name>, so all flavours link
 * into one program (as liburcu maps its flavours' names); a flavour header
 * also maps the short names below (hp_rcu_read_lock, hp_synchronize_rcu,
 * ...) unless HP_RCU_NO_MAP is defined. The functions, with the kernel's
 * names (include/linux/rcupdate.h, Linux 6.6):
 *
 * register_thread()      a thread must register before its first read-side
 *                        critical section, and unregister before it exits
 *                        (a thread-exit destructor unregisters a forgotten
 *                        one). Registration takes a mutex: not a hot path.
 * unregister_thread()    outside any critical section.
 * read_lock()            rcu_read_lock(): inline, nests, signal-handler safe.
 * read_unlock()          rcu_read_unlock().
 * read_ongoing()         nonzero inside a critical section (qsbr: online).
 * quiescent_state()      qsbr: this thread holds no reference (the kernel's
 *                        context switch); no-op in the other flavours.
 * thread_offline()       qsbr: an extended quiescent state (the kernel's idle
 * thread_online()        or user mode) around blocking; no-op elsewhere.
 * synchronize_rcu()      waits for every critical section that began before
 *                        it: one grace period. Never inside a critical
 *                        section (reported and aborted: it would deadlock).
 *                        Callers that overlap share a grace period. The
 *                        normal kind, as the kernel's: cheap for the readers'
 *                        CPUs, slow to finish. memb and preempt order the
 *                        readers with membarrier(MEMBARRIER_CMD_GLOBAL),
 *                        which the kernel implements with its own normal
 *                        synchronize_rcu() (no IPI; about a millisecond or
 *                        more), and the writer backs off to sleeps while it
 *                        waits; where that command is missing (nohz_full,
 *                        old kernels) or the signal fallback runs, the
 *                        normal grace period orders readers as the
 *                        expedited one does.
 * synchronize_rcu_expedited()   synchronize_rcu_expedited()
 *                        (kernel/rcu/tree_exp.h, Linux 6.6): the same
 *                        guarantee, forced now: memb and preempt IPI every
 *                        CPU running a thread of the process
 *                        (MEMBARRIER_CMD_PRIVATE_EXPEDITED) or signal every
 *                        registered thread, as the kernel IPIs every CPU;
 *                        the writer then polls without sleeping (spin, then
 *                        sched_yield). qsbr cannot force a reader (its read
 *                        side records nothing a barrier could expose), so
 *                        its expedited grace period differs only in never
 *                        sleeping while it waits for the readers' reports.
 *                        A caller arriving while a normal grace period
 *                        runs waits for it first (one lock serialises
 *                        grace periods). Cost: two membarrier calls (a few
 *                        microseconds) and CPU time spent polling.
 * call_rcu(head, fn)     fn(head) runs on the grace-period thread after a
 *                        grace period. Lock-free push onto the list of the
 *                        CPU the caller runs on (sched_getcpu()).
 * rcu_barrier()          waits until every callback queued before it has
 *                        run. Not from a callback (aborted: deadlock).
 * kvfree_call_rcu(ptr)   kfree_rcu_mightsleep(ptr) / kvfree_call_rcu()
 *                        (kernel/rcu/tree.c, Linux 6.6), head-less: free(ptr)
 *                        after a grace period. The pointer goes into the
 *                        calling CPU's bulk page (a 4 KiB array of 509
 *                        pointers, struct kvfree_rcu_bulk_data) under that
 *                        CPU's lock; a full page is queued with one
 *                        call_rcu, and its callback frees every pointer
 *                        in it: one grace period and one callback per 509
 *                        objects. No page (malloc failed): synchronize_rcu
 *                        and free now, as the kernel's head-less fallback.
 *                        Where user space differs: the kernel's monitor
 *                        drains partly filled pages after a few jiffies;
 *                        here they wait until full or kvfree_rcu_barrier().
 *                        Cost: sched_getcpu, an uncontended mutex, a store;
 *                        a malloc every 509 objects. May sleep (qsbr: not
 *                        from inside a read-side section either).
 * kvfree_rcu_barrier()   kvfree_rcu_barrier() (Linux 6.12): queues every
 *                        partly filled page, then rcu_barrier(): every
 *                        pointer given before it has been freed.
 * get_state_synchronize_rcu()   a cookie (rcu_seq_snap, kernel/rcu/rcu.h):
 *                        complete once a full grace period has elapsed
 *                        after this call. Starts nothing.
 * start_poll_synchronize_rcu()  the same cookie, and makes sure a grace
 *                        period will run to complete it.
 * poll_state_synchronize_rcu(c) true once cookie c is complete, with a full
 *                        barrier after, so the caller may free.
 * cond_synchronize_rcu(c)       synchronize_rcu() unless c is complete.
 * flavour()              "qsbr", "memb", "preempt" or "broken".
 * stats(&s)              counters and which barrier scheme runs (memb,
 *                        preempt: "membarrier" or the "signal" fallback).
 *
 * Callbacks run in the grace-period thread (created at the first
 * call_rcu, rcu_barrier or start_poll, with every signal blocked; it
 * inherits the CPU binding of the thread that created it), in queueing
 * order per CPU list. The per-CPU lists
 * are those of the kernel's rcu_data->cblist, minus the segments: a batch
 * is whatever was queued when the thread took the lists, and it waits for
 * one grace period that started after that.
 */
#if !defined(HP_RCU_PFX) || !defined(HP_RCU_READ_KIND) || !defined(HP_RCU_PFX_STR)
#error "include rcu_qsbr.h, rcu_memb.h or rcu_preempt.h, not rcu_flavour.h"
#endif

#include <stdbool.h>
#include "hp_compiler.h"
#include "rcu_types.h"

#define HP_RCU_READ_QSBR 1      /* nothing on the read side */
#define HP_RCU_READ_EPOCH 2     /* nesting + epoch word (memb, broken) */
#define HP_RCU_READ_NEST 3      /* nesting counter + special word (preempt) */

#define HP_RCU_CAT3_(a, b, c) a##b##c
#define HP_RCU_CAT3(a, b, c) HP_RCU_CAT3_(a, b, c)
#define HP_RCU_F(x) HP_RCU_CAT3(hp_rcu_, HP_RCU_PFX, _##x)

#ifdef __cplusplus
extern "C" {
#endif

extern HP_RCU_TLS hp_rcu_reader_t HP_RCU_F(reader);
extern hp_rcu_gp_t HP_RCU_F(gp);

void HP_RCU_F(register_thread)(void);
void HP_RCU_F(unregister_thread)(void);
void HP_RCU_F(synchronize_rcu)(void);
void HP_RCU_F(synchronize_rcu_expedited)(void);
void HP_RCU_F(call_rcu)(hp_rcu_head_t *head, hp_rcu_callback_t func);
void HP_RCU_F(rcu_barrier)(void);
void HP_RCU_F(kvfree_call_rcu)(void *ptr);
void HP_RCU_F(kvfree_rcu_barrier)(void);
unsigned long HP_RCU_F(get_state_synchronize_rcu)(void);
unsigned long HP_RCU_F(start_poll_synchronize_rcu)(void);
bool HP_RCU_F(poll_state_synchronize_rcu)(unsigned long cookie);
void HP_RCU_F(cond_synchronize_rcu)(unsigned long cookie);
const char *HP_RCU_F(flavour)(void);
void HP_RCU_F(stats)(hp_rcu_stats_t *s);
/* preempt: the slow path of read_unlock (rcu_read_unlock_special). */
void HP_RCU_F(unlock_special)(void);

#if HP_RCU_READ_KIND == HP_RCU_READ_QSBR
/* ------------------------------------------------------------------ */
/* qsbr: readers cost nothing; quiescent states are announced          */
/* ------------------------------------------------------------------ */

static inline void HP_RCU_F(read_lock)(void)
{
	hp_rcu_debug_check(HP_RCU_PFX_STR, HP_RCU_F(reader).ctr != 0,
			   "rcu_read_lock() while offline or unregistered");
	hp_rcu_compiler_barrier();
}

static inline void HP_RCU_F(read_unlock)(void)
{
	hp_rcu_compiler_barrier();
}

static inline int HP_RCU_F(read_ongoing)(void)
{
	return HP_RCU_F(reader).ctr != 0;
}

/* The fast path is one load and a compare: nothing to do unless a grace
 * period started since the last report. The report is ordered both ways
 * with full barriers: the reader's earlier accesses before it (the writer
 * may free after seeing it), its later ones after it. */
static inline void HP_RCU_F(quiescent_state)(void)
{
	hp_rcu_reader_t *r = &HP_RCU_F(reader);
	uint64_t g = __atomic_load_n(&HP_RCU_F(gp).ctr, __ATOMIC_RELAXED);

	hp_rcu_debug_check(HP_RCU_PFX_STR, r->registered && r->ctr != 0,
			   "quiescent_state() while offline or unregistered");
	if (likely(g == r->ctr))
		return;
	hp_rcu_smp_mb();
	__atomic_store_n(&r->ctr, g, __ATOMIC_RELEASE);
	hp_rcu_smp_mb();
}

static inline void HP_RCU_F(thread_offline)(void)
{
	hp_rcu_reader_t *r = &HP_RCU_F(reader);

	hp_rcu_smp_mb();
	__atomic_store_n(&r->ctr, 0, __ATOMIC_RELEASE);
}

/* The store must be visible before any access of the next critical
 * section: a writer that still sees 0 skips this thread. */
static inline void HP_RCU_F(thread_online)(void)
{
	hp_rcu_reader_t *r = &HP_RCU_F(reader);

	__atomic_store_n(&r->ctr, __atomic_load_n(&HP_RCU_F(gp).ctr, __ATOMIC_RELAXED),
			 __ATOMIC_RELAXED);
	hp_rcu_smp_mb();
}

#elif HP_RCU_READ_KIND == HP_RCU_READ_EPOCH
/* ------------------------------------------------------------------ */
/* memb: nesting + epoch in one word; the writer pays for the barriers */
/* ------------------------------------------------------------------ */

/* Outermost: store the grace-period word, which carries the current epoch
 * and a nesting count of 1. Inner: count up. Either way one store to the
 * thread's own line and no fence: membarrier(2) (or the signal fallback)
 * makes the writer's side order it. The owner reads its word with a plain
 * load (nobody else writes it); the stores are atomic because the writer
 * reads them. */
static inline void HP_RCU_F(read_lock)(void)
{
	hp_rcu_reader_t *r = &HP_RCU_F(reader);
	uint64_t t = r->ctr;

	hp_rcu_debug_check(HP_RCU_PFX_STR, r->registered, "rcu_read_lock() by an unregistered thread");
	if (likely(!(t & HP_RCU_NEST_MASK)))
		__atomic_store_n(&r->ctr, __atomic_load_n(&HP_RCU_F(gp).ctr, __ATOMIC_RELAXED),
				 __ATOMIC_RELAXED);
	else
		__atomic_store_n(&r->ctr, t + 1, __ATOMIC_RELAXED);
	hp_rcu_compiler_barrier();
}

/* Count down; at zero the word says "inactive" whatever its epoch. No
 * wake-up test: the writer polls (liburcu tests a futex word here). */
static inline void HP_RCU_F(read_unlock)(void)
{
	hp_rcu_reader_t *r = &HP_RCU_F(reader);
	uint64_t t;

	hp_rcu_compiler_barrier();
	t = r->ctr;
	hp_rcu_debug_check(HP_RCU_PFX_STR, t & HP_RCU_NEST_MASK, "rcu_read_unlock() without rcu_read_lock()");
	hp_rcu_tsan_release(r);
	__atomic_store_n(&r->ctr, t - 1, __ATOMIC_RELAXED);
}

static inline int HP_RCU_F(read_ongoing)(void)
{
	return (HP_RCU_F(reader).ctr & HP_RCU_NEST_MASK) != 0;
}

static inline void HP_RCU_F(quiescent_state)(void) {}
static inline void HP_RCU_F(thread_offline)(void) {}
static inline void HP_RCU_F(thread_online)(void) {}

#elif HP_RCU_READ_KIND == HP_RCU_READ_NEST
/* ------------------------------------------------------------------ */
/* preempt: the kernel's PREEMPT_RCU read side                         */
/* ------------------------------------------------------------------ */

/* __rcu_read_lock(): current->rcu_read_lock_nesting++ (kernel/rcu/tree_plugin.h). */
static inline void HP_RCU_F(read_lock)(void)
{
	hp_rcu_reader_t *r = &HP_RCU_F(reader);

	hp_rcu_debug_check(HP_RCU_PFX_STR, r->registered, "rcu_read_lock() by an unregistered thread");
	__atomic_store_n(&r->nesting, r->nesting + 1, __ATOMIC_RELAXED);
	hp_rcu_compiler_barrier();
}

/* __rcu_read_unlock(): count down; leaving the outermost section with a
 * grace period waiting for this thread (special set) takes the slow path,
 * which reports the quiescent state (rcu_read_unlock_special()). */
static inline void HP_RCU_F(read_unlock)(void)
{
	hp_rcu_reader_t *r = &HP_RCU_F(reader);
	int32_t n;

	hp_rcu_compiler_barrier();
	n = r->nesting - 1;
	hp_rcu_debug_check(HP_RCU_PFX_STR, n >= 0, "rcu_read_unlock() without rcu_read_lock()");
	hp_rcu_tsan_release(r);
	__atomic_store_n(&r->nesting, n, __ATOMIC_RELAXED);
	if (n == 0) {
		hp_rcu_compiler_barrier();
		if (unlikely(__atomic_load_n(&r->special, __ATOMIC_RELAXED) != 0))
			HP_RCU_F(unlock_special)();
	}
}

static inline int HP_RCU_F(read_ongoing)(void)
{
	return HP_RCU_F(reader).nesting != 0;
}

static inline void HP_RCU_F(quiescent_state)(void) {}
static inline void HP_RCU_F(thread_offline)(void) {}
static inline void HP_RCU_F(thread_online)(void) {}

#else
#error "HP_RCU_READ_KIND: unknown read side"
#endif

#ifdef __cplusplus
}
#endif

#undef HP_RCU_F
