/* rcu_v_locks.h — suite rcu: the locks people use instead of RCU, as the
 * primitives of bench/rcu_case.h (-DRCU_V_RWLOCK, _MUTEX, _SEQLOCK or
 * _BRLOCK; the list of primitives is in impl/rcu/rcu_v_impl.h).
 *
 * - rwlock: pthread_rwlock_t, glibc's default (readers preferred). Every
 *   reader does an atomic RMW on the one lock word: the line bounces.
 * - mutex: pthread_mutex_t for readers and writers alike.
 * - seqlock: seqlock_t (include/linux/seqlock.h, Linux 6.6): a sequence
 *   count and a writer spinlock. Readers write nothing and retry when a
 *   writer ran meanwhile; the data they read must stay mapped (the case's
 *   nodes come from a type-stable pool, as with SLAB_TYPESAFE_BY_RCU) and
 *   every field is read atomically (relaxed), so a torn read is retried,
 *   never undefined. C11 form of the ordering after Boehm, "Can seqlocks
 *   get along with programming language memory models?" (MSPC 2012).
 * - brlock: the big-reader lock (the kernel's old br_read_lock / lglock,
 *   removed in 4.x): a spinlock per CPU; a reader takes its own CPU's (the
 *   measured threads are pinned, so the CPU at registration stands in for
 *   preempt_disable + this_cpu), a writer takes them all in order.
 *
 * Spinners yield after a while: in user space the holder can be preempted,
 * which the kernel's spinlocks forbid.
 */
#ifndef HP_RCU_V_LOCKS_H
#define HP_RCU_V_LOCKS_H

#include <pthread.h>
#include <sched.h>
#include <sys/sysinfo.h>

#include "hp_compiler.h"

#define V_HAS_GP 0

/* TSan ignores fences (and gcc warns): there a seq_cst RMW on a private
 * word stands in (the seqlock's data are atomics, TSan checks nothing on
 * them anyway). */
#if defined(__SANITIZE_THREAD__)
static __thread int v_tsan_fence_ __attribute__((unused));
#define v_fence_acq() ((void)__atomic_fetch_add(&v_tsan_fence_, 0, __ATOMIC_SEQ_CST))
#define v_fence_rel() v_fence_acq()
#else
#define v_fence_acq() __atomic_thread_fence(__ATOMIC_ACQUIRE)
#define v_fence_rel() __atomic_thread_fence(__ATOMIC_RELEASE)
#endif

typedef struct v_head {
	struct v_head *next;
	void (*func)(struct v_head *h);
} v_head_t;

static inline void v_relax(unsigned *spins)
{
	if (++*spins < 1000) {
		hp_cpu_relax();
	} else {
		sched_yield();
	}
}

/* A test-and-test-and-set spinlock (arch_spin_lock stands in). */
static inline void v_spin_lock(int *l)
{
	unsigned spins = 0;

	while (__atomic_exchange_n(l, 1, __ATOMIC_ACQUIRE))
		while (__atomic_load_n(l, __ATOMIC_RELAXED))
			v_relax(&spins);
}

static inline void v_spin_unlock(int *l)
{
	__atomic_store_n(l, 0, __ATOMIC_RELEASE);
}

static inline void v_quiescent(void) {}
static inline void v_offline(void) {}
static inline void v_online(void) {}
static inline void v_synchronize(void) {}
static inline void v_barrier(void) {}
static inline int v_membarrier(void) { return -1; }
/* no reader can hold the node once the write lock is dropped */
static inline void v_retire(v_head_t *h, void (*fn)(v_head_t *)) { fn(h); }
#define v_deref(p) __atomic_load_n(&(p), __ATOMIC_RELAXED)
#define v_publish(p, v) __atomic_store_n(&(p), (v), __ATOMIC_RELAXED)

#if defined(RCU_V_RWLOCK)
/* ------------------------------------------------------------------ */
#define V_NAME "rwlock"
typedef struct { pthread_rwlock_t rw; } v_lock_t;
static inline void v_lock_init(v_lock_t *lk) { pthread_rwlock_init(&lk->rw, NULL); }
static inline void v_lock_destroy(v_lock_t *lk) { pthread_rwlock_destroy(&lk->rw); }
static inline void v_thread_enter(void) {}
static inline void v_thread_exit(void) {}
#define V_READ(lk, ...) do { \
	pthread_rwlock_rdlock(&(lk)->rw); \
	__VA_ARGS__; \
	pthread_rwlock_unlock(&(lk)->rw); \
} while (0)
static inline void v_write_lock(v_lock_t *lk) { pthread_rwlock_wrlock(&lk->rw); }
static inline void v_write_unlock(v_lock_t *lk) { pthread_rwlock_unlock(&lk->rw); }

#elif defined(RCU_V_MUTEX)
/* ------------------------------------------------------------------ */
#define V_NAME "mutex"
typedef struct { pthread_mutex_t m; } v_lock_t;
static inline void v_lock_init(v_lock_t *lk) { pthread_mutex_init(&lk->m, NULL); }
static inline void v_lock_destroy(v_lock_t *lk) { pthread_mutex_destroy(&lk->m); }
static inline void v_thread_enter(void) {}
static inline void v_thread_exit(void) {}
#define V_READ(lk, ...) do { \
	pthread_mutex_lock(&(lk)->m); \
	__VA_ARGS__; \
	pthread_mutex_unlock(&(lk)->m); \
} while (0)
static inline void v_write_lock(v_lock_t *lk) { pthread_mutex_lock(&lk->m); }
static inline void v_write_unlock(v_lock_t *lk) { pthread_mutex_unlock(&lk->m); }

#elif defined(RCU_V_SEQLOCK)
/* ------------------------------------------------------------------ */
#define V_NAME "seqlock"
typedef struct {
	unsigned seq;           /* seqcount_t.sequence: odd while a writer runs */
	int lock;               /* seqlock_t.lock */
} v_lock_t;
static inline void v_lock_init(v_lock_t *lk) { lk->seq = 0; lk->lock = 0; }
static inline void v_lock_destroy(v_lock_t *lk) { (void)lk; }
static inline void v_thread_enter(void) {}
static inline void v_thread_exit(void) {}

/* read_seqbegin(): wait out a writer, then acquire the count. */
static inline unsigned v_seq_begin(v_lock_t *lk)
{
	unsigned s, spins = 0;

	while ((s = __atomic_load_n(&lk->seq, __ATOMIC_ACQUIRE)) & 1)
		v_relax(&spins);
	return s;
}

/* read_seqretry(): the reads before it are ordered before the reload. */
static inline int v_seq_retry(v_lock_t *lk, unsigned s)
{
	v_fence_acq();
	return __atomic_load_n(&lk->seq, __ATOMIC_RELAXED) != s;
}

#define V_READ(lk, ...) do { \
	unsigned v_s_; \
	do { \
		v_s_ = v_seq_begin(lk); \
		__VA_ARGS__; \
	} while (v_seq_retry(lk, v_s_)); \
} while (0)

/* write_seqlock(): the odd count is ordered before the data stores. */
static inline void v_write_lock(v_lock_t *lk)
{
	v_spin_lock(&lk->lock);
	__atomic_store_n(&lk->seq, lk->seq + 1, __ATOMIC_RELAXED);
	v_fence_rel();
}

static inline void v_write_unlock(v_lock_t *lk)
{
	__atomic_store_n(&lk->seq, lk->seq + 1, __ATOMIC_RELEASE);
	v_spin_unlock(&lk->lock);
}

#elif defined(RCU_V_BRLOCK)
/* ------------------------------------------------------------------ */
#define V_NAME "brlock"
#define V_BR_SLOTS 64

typedef struct {
	struct { int lock; } __attribute__((aligned(64))) slot[V_BR_SLOTS];
	int nslots;             /* the possible CPUs, at most V_BR_SLOTS */
} v_lock_t;

static __thread int v_br_slot;  /* this thread's CPU, fixed at registration */

static inline void v_lock_init(v_lock_t *lk)
{
	int n = get_nprocs_conf();

	for (int i = 0; i < V_BR_SLOTS; i++)
		lk->slot[i].lock = 0;
	lk->nslots = n < 1 ? 1 : n > V_BR_SLOTS ? V_BR_SLOTS : n;
}
static inline void v_lock_destroy(v_lock_t *lk) { (void)lk; }

static inline void v_thread_enter(void)
{
	int cpu = sched_getcpu();

	v_br_slot = cpu < 0 ? 0 : cpu;
}
static inline void v_thread_exit(void) {}

/* br_read_lock(): this CPU's lock only; nslots is read per call, so the
 * slot is reduced modulo it then. */
#define V_READ(lk, ...) do { \
	int *v_l_ = &(lk)->slot[v_br_slot % (lk)->nslots].lock; \
	v_spin_lock(v_l_); \
	__VA_ARGS__; \
	v_spin_unlock(v_l_); \
} while (0)

/* br_write_lock(): every CPU's, in order (which also serialises writers). */
static inline void v_write_lock(v_lock_t *lk)
{
	for (int i = 0; i < lk->nslots; i++)
		v_spin_lock(&lk->slot[i].lock);
}

static inline void v_write_unlock(v_lock_t *lk)
{
	for (int i = lk->nslots - 1; i >= 0; i--)
		v_spin_unlock(&lk->slot[i].lock);
}

#else
#error "rcu_v_locks.h: define RCU_V_RWLOCK, _MUTEX, _SEQLOCK or _BRLOCK"
#endif

#endif
