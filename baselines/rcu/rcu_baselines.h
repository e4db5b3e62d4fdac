/* rcu_baselines.h — the rcu suite's baseline ops tables (the type is in
 * impl/rcu/rcu_bench_ops.h): liburcu's flavours (rcu_v_urcu.h) and the
 * locks used instead of RCU (rcu_v_locks.h), each compiled from
 * bench/rcu_variant.c with its own -DRCU_V_<VARIANT>.
 *
 * liburcu's flavours are built only where pkg-config found them: their
 * tables are weak references, NULL when missing (the variant says so).
 */
#ifndef HP_RCU_BASELINES_H
#define HP_RCU_BASELINES_H

#include "rcu_bench_ops.h"

extern const hp_rcu_ops_t hp_rcu_ops_urcu_qsbr __attribute__((weak));
extern const hp_rcu_ops_t hp_rcu_ops_urcu_memb __attribute__((weak));
extern const hp_rcu_ops_t hp_rcu_ops_urcu_signal __attribute__((weak));
extern const hp_rcu_ops_t hp_rcu_ops_urcu_mb __attribute__((weak));
extern const hp_rcu_ops_t hp_rcu_ops_urcu_bp __attribute__((weak));

extern const hp_rcu_ops_t hp_rcu_ops_rwlock, hp_rcu_ops_mutex, hp_rcu_ops_seqlock, hp_rcu_ops_brlock;

#endif
