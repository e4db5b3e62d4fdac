/* rcu_v_impl.h — suite rcu: impl/rcu's flavours as the primitives of
 * rcu_case.h (-DRCU_V_IMPL_QSBR, _MEMB or _PREEMPT). The primitives every
 * variant header defines:
 *
 *   V_NAME, V_HAS_GP        name; 1 when grace periods exist
 *   v_head_t                the callback head embedded in a node
 *   v_lock_t, v_lock_init/destroy   the structure's lock (RCU: update side)
 *   v_thread_enter/exit()   register / unregister the calling thread
 *   v_quiescent()           qsbr: a quiescent state; else nothing
 *   v_offline()/v_online()  qsbr: around blocking; else nothing
 *   V_READ(lk, body...)     a read-side section around body (seqlock: retried)
 *   v_deref(p)              load a pointer inside V_READ
 *   v_write_lock/unlock(lk) the update side
 *   v_publish(p, v)         store a pointer inside the update side
 *   v_retire(h, fn)         after v_write_unlock: fn(h) now (locks) or after
 *                           a grace period (call_rcu)
 *   v_synchronize(), v_barrier()   synchronize_rcu, rcu_barrier
 *   V_HAS_EXP, v_synchronize_exp()   1 and synchronize_rcu_expedited where
 *                           the variant has one (impl); else 0 and nothing
 *   V_HAS_KFREE, v_kfree_rcu(p), v_kfree_barrier()   kvfree_call_rcu and
 *                           kvfree_rcu_barrier (impl RCU flavours only)
 *   v_membarrier()          1/0: the writer orders readers with membarrier(2);
 *                           -1: does not apply
 */
#ifndef HP_RCU_V_IMPL_H
#define HP_RCU_V_IMPL_H

#include <pthread.h>
#include <string.h>

#if defined(RCU_V_IMPL_QSBR)
#include "rcu_qsbr.h"
#define V_NAME "qsbr"
#elif defined(RCU_V_IMPL_MEMB)
#include "rcu_memb.h"
#define V_NAME "memb"
#elif defined(RCU_V_IMPL_PREEMPT)
#include "rcu_preempt.h"
#define V_NAME "preempt"
#else
#error "rcu_v_impl.h: define RCU_V_IMPL_QSBR, _MEMB or _PREEMPT"
#endif

#define V_HAS_GP 1

typedef hp_rcu_head_t v_head_t;
typedef struct { pthread_mutex_t m; } v_lock_t;

static inline void v_lock_init(v_lock_t *lk) { pthread_mutex_init(&lk->m, NULL); }
static inline void v_lock_destroy(v_lock_t *lk) { pthread_mutex_destroy(&lk->m); }
static inline void v_thread_enter(void) { hp_rcu_register_thread(); }
static inline void v_thread_exit(void) { hp_rcu_unregister_thread(); }
static inline void v_quiescent(void) { hp_rcu_quiescent_state(); }
static inline void v_offline(void) { hp_rcu_thread_offline(); }
static inline void v_online(void) { hp_rcu_thread_online(); }

#define V_READ(lk, ...) do { \
	(void)(lk); \
	hp_rcu_read_lock(); \
	__VA_ARGS__; \
	hp_rcu_read_unlock(); \
} while (0)
#define v_deref(p) hp_rcu_dereference(p)

/* qsbr: a thread blocked on the update-side mutex must not hold up grace
 * periods (the holder may be waiting for one), so it waits offline. */
static inline void v_write_lock(v_lock_t *lk)
{
	if (pthread_mutex_trylock(&lk->m) == 0)
		return;
	v_offline();
	pthread_mutex_lock(&lk->m);
	v_online();
}
static inline void v_write_unlock(v_lock_t *lk) { pthread_mutex_unlock(&lk->m); }
#define v_publish(p, v) hp_rcu_assign_pointer(p, v)
static inline void v_retire(v_head_t *h, void (*fn)(v_head_t *)) { hp_call_rcu(h, fn); }
static inline void v_synchronize(void) { hp_synchronize_rcu(); }
#define V_HAS_EXP 1
#define V_HAS_KFREE 1
static inline void v_kfree_rcu(void *p) { hp_kvfree_call_rcu(p); }
static inline void v_kfree_barrier(void) { hp_kvfree_rcu_barrier(); }
static inline void v_synchronize_exp(void) { hp_synchronize_rcu_expedited(); }
static inline void v_barrier(void) { hp_rcu_barrier(); }

static inline int v_membarrier(void)
{
	hp_rcu_stats_t s;

	hp_rcu_stats(&s);
	return strcmp(s.mb, "none") == 0 ? -1 : strcmp(s.mb, "membarrier") == 0;
}

#endif
