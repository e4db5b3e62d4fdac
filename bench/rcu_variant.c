/* rcu_variant.c — suite rcu: the case code (rcu_case.h) compiled for one variant, chosen with -DRCU_V_<NAME>; meson builds it once per variant, as liburcu builds test_urcu once per flavour. */
#if defined(RCU_V_IMPL_QSBR)
#define V_SYM impl_qsbr
#include "rcu_v_impl.h"
#elif defined(RCU_V_IMPL_MEMB)
#define V_SYM impl_memb
#include "rcu_v_impl.h"
#elif defined(RCU_V_IMPL_PREEMPT)
#define V_SYM impl_preempt
#include "rcu_v_impl.h"
#elif defined(RCU_V_URCU_QSBR)
#define V_SYM urcu_qsbr
#include "rcu_v_urcu.h"
#elif defined(RCU_V_URCU_MEMB)
#define V_SYM urcu_memb
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
