/* rcu_v_srcu.h — suite rcu: impl/rcu's SRCU (srcu.h) as the primitives of
 * rcu_case.h (-DRCU_V_IMPL_SRCU; the list of primitives is in
 * rcu_v_impl.h). One domain for the variant's cases; the read side is
 * srcu_read_lock/unlock on it, the grace periods synchronize_srcu and its
 * expedited kind. impl has no call_srcu: v_retire waits for a grace period
 * and frees, so the variant stays out of the cases that retire nodes
 * (read_mostly, call_rcu). V_SRCU compiles the srcu_domains case.
 */
#ifndef HP_RCU_V_SRCU_H
#define HP_RCU_V_SRCU_H

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "srcu.h"

#define V_NAME "srcu"
#define V_HAS_GP 1
#define V_HAS_EXP 1
#define V_SRCU 1

typedef hp_rcu_head_t v_head_t;
typedef struct { pthread_mutex_t m; } v_lock_t;

static hp_srcu_struct_t v_dom;
static pthread_once_t v_dom_once = PTHREAD_ONCE_INIT;

static void v_dom_init(void)
{
	if (hp_init_srcu_struct(&v_dom) != 0) {
		fprintf(stderr, "rcu: srcu: out of memory for the domain\n");
		abort();
	}
}

static inline hp_srcu_struct_t *v_domain(void)
{
	pthread_once(&v_dom_once, v_dom_init);
	return &v_dom;
}

static inline void v_lock_init(v_lock_t *lk) { pthread_mutex_init(&lk->m, NULL); }
static inline void v_lock_destroy(v_lock_t *lk) { pthread_mutex_destroy(&lk->m); }
static inline void v_thread_enter(void) { (void)v_domain(); }
static inline void v_thread_exit(void) {}
static inline void v_quiescent(void) {}
static inline void v_offline(void) {}
static inline void v_online(void) {}

#define V_READ(lk, ...) do { \
	(void)(lk); \
	int v_idx_ = hp_srcu_read_lock(&v_dom); \
	__VA_ARGS__; \
	hp_srcu_read_unlock(&v_dom, v_idx_); \
} while (0)
#define v_deref(p) hp_rcu_dereference(p)

static inline void v_write_lock(v_lock_t *lk) { pthread_mutex_lock(&lk->m); }
static inline void v_write_unlock(v_lock_t *lk) { pthread_mutex_unlock(&lk->m); }
#define v_publish(p, v) hp_rcu_assign_pointer(p, v)
static inline void v_synchronize(void) { hp_synchronize_srcu(v_domain()); }
static inline void v_synchronize_exp(void) { hp_synchronize_srcu_expedited(v_domain()); }
static inline void v_retire(v_head_t *h, void (*fn)(v_head_t *))
{
	v_synchronize();
	fn(h);
}
static inline void v_barrier(void) {}
static inline int v_membarrier(void) { return -1; }

#endif
