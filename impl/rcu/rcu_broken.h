/* rcu_broken.h — impl/rcu, flavour broken: deliberately wrong, for tests
 * only. The read side is memb's; synchronize_rcu() returns at once,
 * call_rcu() runs the callback at once, rcu_barrier() does nothing and every
 * polled cookie is complete. A torture test must catch it (tests build it;
 * nothing else links it).
 */
#ifndef HP_RCU_BROKEN_H
#define HP_RCU_BROKEN_H

#define HP_RCU_PFX broken
#define HP_RCU_PFX_STR "broken"
#define HP_RCU_READ_KIND 2
#include "rcu_flavour.h"
#undef HP_RCU_PFX
#undef HP_RCU_PFX_STR
#undef HP_RCU_READ_KIND

#ifndef HP_RCU_NO_MAP
#ifdef HP_RCU_MAPPED
#error "two impl/rcu flavours mapped in one file: define HP_RCU_NO_MAP and use hp_rcu_<flavour>_ names"
#endif
#define HP_RCU_MAPPED broken
#include "rcu_map.h"
#endif

#endif
