/* rcu_types.h — what every flavour of impl/rcu shares: the callback head,
 * the per-thread reader record, rcu_dereference / rcu_assign_pointer and the
 * ThreadSanitizer annotations.
 *
 * Include a flavour header (rcu_qsbr.h, rcu_memb.h, rcu_preempt.h) rather
 * than this one; it is included by them.
 */
#ifndef HP_RCU_TYPES_H
#define HP_RCU_TYPES_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

/* ------------------------------------------------------------------ */
/* Pointers: publication and subscription                              */
/* ------------------------------------------------------------------ */

/* rcu_dereference(p) / rcu_assign_pointer(p, v) (include/linux/rcupdate.h).
 * Acquire and release in the C11 memory model, through the __atomic
 * builtins so that they apply to plain pointer fields (stdatomic.h wants
 * _Atomic objects). On x86 both are a plain mov; on arm64 the acquire is an
 * ldar where the kernel relies on address dependencies (its READ_ONCE),
 * which C11 cannot express (memory_order_consume is promoted to acquire by
 * every compiler). `p` must be an lvalue. */
#define hp_rcu_dereference(p) __atomic_load_n(&(p), __ATOMIC_ACQUIRE)
#define hp_rcu_assign_pointer(p, v) __atomic_store_n(&(p), (v), __ATOMIC_RELEASE)
/* rcu_access_pointer(): the value only, never dereferenced (e.g. a NULL test). */
#define hp_rcu_access_pointer(p) __atomic_load_n(&(p), __ATOMIC_RELAXED)
/* RCU_INIT_POINTER(): no ordering, for NULL or for data no reader can reach yet. */
#define hp_rcu_init_pointer(p, v) __atomic_store_n(&(p), (v), __ATOMIC_RELAXED)
/* rcu_replace_pointer() without the lockdep check: publish v, return the old one. */
#define hp_rcu_replace_pointer(p, v) __atomic_exchange_n(&(p), (v), __ATOMIC_ACQ_REL)

/* ------------------------------------------------------------------ */
/* Callbacks                                                           */
/* ------------------------------------------------------------------ */

/* struct callback_head, alias rcu_head (include/linux/types.h): embedded in
 * the object to free, queued by call_rcu(). */
typedef struct hp_rcu_head {
	struct hp_rcu_head *next;
	void (*func)(struct hp_rcu_head *head);
} hp_rcu_head_t;

typedef void (*hp_rcu_callback_t)(hp_rcu_head_t *head);

/* What a flavour has done so far (hp_rcu_<flavour>_stats()). */
typedef struct hp_rcu_stats {
	const char *flavour;     /* "qsbr", "memb", "preempt", "broken" */
	const char *mb;          /* how the writer orders readers: "membarrier",
				    "signal" (fallback), "none" (qsbr, broken) */
	const char *mb_normal;   /* what a normal (non-expedited) grace period
				    uses: "membarrier-global" (the kernel's own
				    normal grace period, no IPIs), else as mb */
	uint64_t gp_seq;         /* rcu_seq-style counter: odd while a GP runs */
	uint64_t gps;            /* grace periods completed (both kinds) */
	uint64_t exp_gps;        /* of which expedited */
	uint64_t cbs_invoked;    /* call_rcu callbacks invoked */
	uint64_t cb_batches;     /* batches the grace-period thread ran */
	uint64_t kfree_queued;   /* objects given to kvfree_call_rcu */
	uint64_t kfree_freed;    /* of which freed */
	uint64_t kfree_pages;    /* bulk pages queued (one call_rcu each) */
} hp_rcu_stats_t;

/* ------------------------------------------------------------------ */
/* Reader state (one per registered thread and flavour)                */
/* ------------------------------------------------------------------ */

/* memb keeps nesting and the epoch of its grace-period counter in one word:
 * the low 16 bits count nesting, the high 48 bits are the epoch loaded at
 * the outermost rcu_read_lock(). 2^48 grace periods do not wrap in the life
 * of any machine, so one scan per grace period suffices (liburcu's one-bit
 * phase needs two). */
#define HP_RCU_NEST_BITS 16
#define HP_RCU_NEST_MASK ((UINT64_C(1) << HP_RCU_NEST_BITS) - 1)

/* Per-thread reader record, in TLS. The thread owns it; the writer reads
 * it through the registry. Which fields a flavour uses: */
typedef struct hp_rcu_reader {
	uint64_t ctr;            /* qsbr: gp ctr at the last quiescent state, 0 = offline;
				    memb: epoch << 16 | nesting */
	int32_t nesting;         /* preempt: task_struct.rcu_read_lock_nesting */
	uint32_t need_mb;        /* signal fallback: writer waits for this to clear */
	uint64_t special;        /* preempt: number of the GP that wants a report
				    (rcu_read_unlock_special), 0 = none */
	uint64_t qs;             /* preempt: last GP number this thread reported */
	struct hp_rcu_reader *reg_next, *reg_prev;  /* registry, under its lock */
	pthread_t thread;
	int registered;
} __attribute__((aligned(64))) hp_rcu_reader_t;

/* The grace-period counter readers load (qsbr, memb); its own cache line
 * since every reader reads it and only a grace period writes it. */
typedef struct hp_rcu_gp {
	uint64_t ctr;
} __attribute__((aligned(64))) hp_rcu_gp_t;

/* The TLS model of the reader records: initial-exec, so the read side is a
 * %fs-relative access (the linker turns it into local-exec in executables)
 * rather than a __tls_get_addr call. impl/rcu is a static library; a shared
 * library build is fine when loaded at start-up, not with dlopen. */
#define HP_RCU_TLS __thread __attribute__((tls_model("initial-exec")))

/* ------------------------------------------------------------------ */
/* ThreadSanitizer                                                     */
/* ------------------------------------------------------------------ */

/* memb and preempt order readers with a compiler barrier, the writer with
 * membarrier(2) or a signal: TSan cannot see either. Readers announce the
 * end of a critical section with hp_rcu_tsan_release() on their record,
 * the writer takes hp_rcu_tsan_acquire() on it once it has seen the reader
 * quiescent: the happens-before edge the real ordering provides. No code
 * outside TSan builds. */
#if defined(__SANITIZE_THREAD__)
#define HP_RCU_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define HP_RCU_TSAN 1
#endif
#endif

#ifdef HP_RCU_TSAN
void __tsan_acquire(void *addr);
void __tsan_release(void *addr);
#define hp_rcu_tsan_acquire(a) __tsan_acquire((void *)(a))
#define hp_rcu_tsan_release(a) __tsan_release((void *)(a))
#else
#define hp_rcu_tsan_acquire(a) ((void)0)
#define hp_rcu_tsan_release(a) ((void)0)
#endif

/* smp_mb(). TSan does not model fences (gcc warns that it ignores them):
 * under TSan a seq_cst RMW on a thread-private word stands in, a full
 * barrier on x86 that creates no happens-before edge TSan would believe;
 * the edges it should see are the annotations above and the release /
 * acquire accesses. */
#ifdef HP_RCU_TSAN
static __thread int hp_rcu_tsan_fence_ __attribute__((unused));
#define hp_rcu_smp_mb() ((void)__atomic_fetch_add(&hp_rcu_tsan_fence_, 0, __ATOMIC_SEQ_CST))
#else
#define hp_rcu_smp_mb() __atomic_thread_fence(__ATOMIC_SEQ_CST)
#endif

/* The read side's barrier: the compiler may not move memory accesses
 * across it; it emits no instruction (barrier() in the kernel). */
#define hp_rcu_compiler_barrier() __atomic_signal_fence(__ATOMIC_SEQ_CST)

/* HP_RCU_DEBUG: read-side checks (registered, nesting balance), off by
 * default so the read side is exactly what is measured. */
#ifdef HP_RCU_DEBUG
#include <stdio.h>
#include <stdlib.h>
#define hp_rcu_debug_check(fl, cond, what) do { \
	if (!(cond)) { \
		fprintf(stderr, "hp_rcu_%s: %s\n", fl, what); \
		abort(); \
	} \
} while (0)
#else
#define hp_rcu_debug_check(fl, cond, what) ((void)0)
#endif

#endif
