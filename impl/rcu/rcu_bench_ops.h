/* rcu_bench_ops.h — the ops table through which the rcu suite runs one
 * variant (hp_variant_t.ops of suite rcu), and impl/rcu's three tables.
 *
 * The read side must stay inline, so a variant cannot be a table of
 * primitives called through pointers: bench/rcu_variant.c (the case code,
 * bench/rcu_case.h) is compiled once per variant with -DRCU_V_<VARIANT>
 * over that variant's inline primitives (impl flavours: rcu_v_impl.h here;
 * liburcu and the locks: baselines/rcu/), and each compilation exports one
 * of these tables. What stays indirect is one call per batch of n
 * operations, the same for every variant. The baselines' tables are
 * declared in baselines/rcu/rcu_baselines.h.
 *
 * The harness's types are only named here (struct hp_ctx, struct
 * hp_state): impl/rcu does not depend on the harness.
 */
#ifndef HP_RCU_BENCH_OPS_H
#define HP_RCU_BENCH_OPS_H

#include <stdint.h>

struct hp_ctx;
struct hp_state;

/* One case as compiled for one variant. */
typedef struct hp_rcu_vcase {
	void *(*setup)(struct hp_ctx *ctx);
	void (*teardown)(struct hp_ctx *ctx, void *data);
	void (*run)(struct hp_state *st, uint64_t n, struct hp_ctx *ctx);
} hp_rcu_vcase_t;

typedef struct hp_rcu_ops {
	const char *name;
	int has_gp;                     /* grace periods: synchronize_rcu, call_rcu */
	int has_exp;                    /* synchronize_rcu_expedited */
	int liburcu;                    /* liburcu's code (not ThreadSanitizer-aware) */
	int (*membarrier)(void);        /* 1/0: writer uses membarrier(2); -1: n/a */
	hp_rcu_vcase_t read_side, read_scaling, read_mostly, gp_latency, call_rcu;
	hp_rcu_vcase_t srcu_domains;    /* srcu only; zero elsewhere */
	hp_rcu_vcase_t kfree_rcu;       /* impl RCU flavours only; zero elsewhere */
} hp_rcu_ops_t;

/* impl/rcu's flavours and SRCU, compiled from bench/rcu_variant.c with
 * -DRCU_V_IMPL_QSBR, _MEMB, _PREEMPT, _SRCU */
extern const hp_rcu_ops_t hp_rcu_ops_impl_qsbr, hp_rcu_ops_impl_memb, hp_rcu_ops_impl_preempt;
extern const hp_rcu_ops_t hp_rcu_ops_impl_srcu;

#endif
