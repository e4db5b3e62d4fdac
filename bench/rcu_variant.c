/* rcu_variant.c — suite rcu: the case code (rcu_case.h) compiled for one variant.
 *
 * Per-variant compilation (the one mechanism, also used by slub_variant.c):
 * a fast path that must stay inline cannot sit behind a function pointer,
 * so this file is compiled once per variant by a meson foreach in
 * bench/meson.build, each time with -DRCU_V_<VARIANT> (e.g.
 * -DRCU_V_IMPL_QSBR, -DRCU_V_URCU_MEMB, -DRCU_V_SEQLOCK). The define picks
 * the variant's inline primitives (impl/rcu/rcu_v_impl.h,
 * baselines/rcu/rcu_v_urcu.h, baselines/rcu/rcu_v_locks.h); the case code
 * is compiled over them and exports one ops table, hp_rcu_ops_<variant>
 * (type in impl/rcu/rcu_bench_ops.h), which the variant in bench/rcu.c
 * points at. Only one call per batch of n operations is indirect.
 */
#if defined(RCU_V_IMPL_QSBR)
#define V_SYM impl_qsbr
#include "rcu_v_impl.h"
#elif defined(RCU_V_IMPL_MEMB)
#define V_SYM impl_memb
#include "rcu_v_impl.h"
#elif defined(RCU_V_IMPL_PREEMPT)
#define V_SYM impl_preempt
#include "rcu_v_impl.h"
#elif defined(RCU_V_IMPL_SRCU)
#define V_SYM impl_srcu
#include "rcu_v_srcu.h"
#elif defined(RCU_V_URCU_QSBR)
#define V_SYM urcu_qsbr
#include "rcu_v_urcu.h"
#elif defined(RCU_V_URCU_MEMB)
#define V_SYM urcu_memb
#include "rcu_v_urcu.h"
#elif defined(RCU_V_URCU_SIGNAL)
#define V_SYM urcu_signal
#include "rcu_v_urcu.h"
#elif defined(RCU_V_URCU_MB)
#define V_SYM urcu_mb
#include "rcu_v_urcu.h"
#elif defined(RCU_V_URCU_BP)
#define V_SYM urcu_bp
#include "rcu_v_urcu.h"
#elif defined(RCU_V_RWLOCK)
#define V_SYM rwlock
#include "rcu_v_locks.h"
#elif defined(RCU_V_MUTEX)
#define V_SYM mutex
#include "rcu_v_locks.h"
#elif defined(RCU_V_SEQLOCK)
#define V_SYM seqlock
#include "rcu_v_locks.h"
#elif defined(RCU_V_BRLOCK)
#define V_SYM brlock
#include "rcu_v_locks.h"
#else
#error "rcu_variant.c: build with -DRCU_V_<variant>"
#endif

#include "rcu_case.h"
