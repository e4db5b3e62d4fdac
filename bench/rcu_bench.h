/* rcu_bench.h — suite rcu: the parameters its cases share, and the ops
 * tables every variant's compilation of rcu_case.h exports (the type and
 * impl's tables: impl/rcu/rcu_bench_ops.h; the baselines' tables:
 * baselines/rcu/rcu_baselines.h).
 */
#ifndef HP_RCU_BENCH_H
#define HP_RCU_BENCH_H

#include "hp.h"
#include "rcu_baselines.h"
#include "rcu_bench_ops.h"

/* read_mostly params (hp_param_t.value): the background updater, or the
 * update fraction of each thread's operations in parts per million. */
#define HP_RCU_MODE_UPDATER (-1)

/* gp_latency param bits: a busy reader on every other selected CPU; the
 * expedited grace period instead of the normal one. */
#define HP_RCU_GP_READERS 1
#define HP_RCU_GP_EXP 2

/* Period of the background updater of read_mostly/upd. */
#define HP_RCU_UPDATER_PERIOD_NS 100000

#endif
