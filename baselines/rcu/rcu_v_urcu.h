/* rcu_v_urcu.h — suite rcu: liburcu's flavours as the primitives of
 * bench/rcu_case.h (-DRCU_V_URCU_QSBR, _MEMB, _SIGNAL, _MB or _BP; the list of
 * primitives is in impl/rcu/rcu_v_impl.h).
 *
 * _LGPL_SOURCE inlines liburcu's read side, as impl/rcu's is inlined. Each
 * flavour is included through its own header without URCU_API_MAP, so only
 * the prefixed names (urcu_memb_read_lock, urcu_memb_call_rcu, ...) exist:
 * the four flavours link into one program (each case file includes one).
 * liburcu 0.13: memb, mb and bp order readers with membarrier(2) where the
 * kernel has it, with smp_mb() on the read side otherwise (memb tests a flag
 * for that on every lock/unlock); mb always uses smp_mb() on the read side;
 * bp registers threads on their first read_lock. signal never fences on the
 * read side: its writer sends SIGUSR1 to every registered thread and waits
 * for each handler's smp_mb() (impl memb's design, without membarrier);
 * the library installs that handler from a constructor, and a registered
 * thread must not block the signal.
 */
#ifndef HP_RCU_V_URCU_H
#define HP_RCU_V_URCU_H

#define _LGPL_SOURCE
#include <pthread.h>

#if defined(RCU_V_URCU_QSBR)
#include <urcu/urcu-qsbr.h>
#define V_NAME "urcu-qsbr"
#define U(x) urcu_qsbr_##x
#elif defined(RCU_V_URCU_MEMB)
#include <urcu/urcu-memb.h>
#define V_NAME "urcu-memb"
#define U(x) urcu_memb_##x
#elif defined(RCU_V_URCU_SIGNAL)
#include <urcu/urcu-signal.h>
#define V_NAME "urcu-signal"
#define U(x) urcu_signal_##x
#elif defined(RCU_V_URCU_MB)
#include <urcu/urcu-mb.h>
#define V_NAME "urcu-mb"
#define U(x) urcu_mb_##x
#elif defined(RCU_V_URCU_BP)
#include <urcu/urcu-bp.h>
#define V_NAME "urcu-bp"
#define U(x) urcu_bp_##x
#else
#error "rcu_v_urcu.h: define RCU_V_URCU_QSBR, _MEMB, _SIGNAL, _MB or _BP"
#endif

#define V_HAS_GP 1
#define V_LIBURCU 1

typedef struct rcu_head v_head_t;
typedef struct { pthread_mutex_t m; } v_lock_t;

static inline void v_lock_init(v_lock_t *lk) { pthread_mutex_init(&lk->m, NULL); }
static inline void v_lock_destroy(v_lock_t *lk) { pthread_mutex_destroy(&lk->m); }

#if defined(RCU_V_URCU_BP)
/* bp registers a thread at its first read_lock; do it outside the timing.
 * Its thread-exit hook unregisters. */
static inline void v_thread_enter(void)
{
	urcu_bp_read_lock();
	urcu_bp_read_unlock();
}
static inline void v_thread_exit(void) {}
#else
static inline void v_thread_enter(void) { U(register_thread)(); }
static inline void v_thread_exit(void) { U(unregister_thread)(); }
#endif

static inline void v_quiescent(void) { U(quiescent_state)(); }
static inline void v_offline(void) { U(thread_offline)(); }
static inline void v_online(void) { U(thread_online)(); }

#define V_READ(lk, ...) do { \
	(void)(lk); \
	U(read_lock)(); \
	__VA_ARGS__; \
	U(read_unlock)(); \
} while (0)
#define v_deref(p) rcu_dereference(p)

static inline void v_write_lock(v_lock_t *lk)
{
	if (pthread_mutex_trylock(&lk->m) == 0)
		return;
	v_offline();
	pthread_mutex_lock(&lk->m);
	v_online();
}
static inline void v_write_unlock(v_lock_t *lk) { pthread_mutex_unlock(&lk->m); }
#define v_publish(p, v) rcu_assign_pointer(p, v)
static inline void v_retire(v_head_t *h, void (*fn)(v_head_t *)) { U(call_rcu)(h, fn); }
static inline void v_synchronize(void) { U(synchronize_rcu)(); }
static inline void v_barrier(void) { U(barrier)(); }

/* liburcu decides at its init; read after a grace period has run. */
static inline int v_membarrier(void)
{
#if defined(RCU_V_URCU_MEMB)
	return urcu_memb_has_sys_membarrier != 0;
#elif defined(RCU_V_URCU_BP)
	return urcu_bp_has_sys_membarrier != 0;
#elif defined(RCU_V_URCU_MB) || defined(RCU_V_URCU_SIGNAL)
	return 0;
#else
	return -1;
#endif
}

#endif
