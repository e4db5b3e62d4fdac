/* rcu_bench.h — suite rcu: what each variant's compilation of rcu_case.h
 * exports to bench/rcu.c (one table per variant), and the parameters the
 * cases share.
 *
 * The read side is inlined, so it cannot sit behind a function pointer:
 * bench/rcu_variant.c is compiled once per variant with -DRCU_V_<NAME>,
 * each time including the very same case code (rcu_case.h) over that
 * variant's primitives (rcu_v_impl.h, baselines/rcu/rcu_v_urcu.h,
 * baselines/rcu/rcu_v_locks.h). What remains indirect is one call per batch
 * of n operations, the same for every variant.
 */
#ifndef HP_RCU_BENCH_H
#define HP_RCU_BENCH_H

#include "hp.h"

/* One case as compiled for one variant. */
typedef struct hp_rcu_vcase {
	void *(*setup)(hp_ctx_t *ctx);
	void (*teardown)(hp_ctx_t *ctx, void *data);
	void (*run)(hp_state_t *st, uint64_t n, hp_ctx_t *ctx);
} hp_rcu_vcase_t;

/* hp_variant_t.ops of suite rcu. */
typedef struct hp_rcu_vtable {
	const char *name;
	int has_gp;                     /* grace periods: synchronize_rcu, call_rcu */
	int (*membarrier)(void);        /* 1/0: writer uses membarrier(2); -1: n/a */
	hp_rcu_vcase_t read_side, read_scaling, read_mostly, gp_latency, call_rcu;
} hp_rcu_vtable_t;

/* read_mostly params (hp_param_t.value): the background updater, or the
 * update fraction of each thread's operations in parts per million. */
#define HP_RCU_MODE_UPDATER (-1)

/* gp_latency param: a busy reader on every other selected CPU. */
#define HP_RCU_GP_READERS 1

/* Period of the background updater of read_mostly/upd. */
#define HP_RCU_UPDATER_PERIOD_NS 100000

#define HP_RCU_DECLARE(v) extern const hp_rcu_vtable_t hp_rcu_bench_##v
HP_RCU_DECLARE(impl_qsbr);
HP_RCU_DECLARE(impl_memb);
HP_RCU_DECLARE(impl_preempt);
HP_RCU_DECLARE(urcu_qsbr);
HP_RCU_DECLARE(urcu_memb);
HP_RCU_DECLARE(urcu_mb);
HP_RCU_DECLARE(urcu_bp);
HP_RCU_DECLARE(rwlock);
HP_RCU_DECLARE(mutex);
HP_RCU_DECLARE(seqlock);
HP_RCU_DECLARE(brlock);
#undef HP_RCU_DECLARE

#endif
