/* rcu_broken_exp.h — impl/rcu, flavour broken_exp: deliberately wrong, for
 * tests only. memb in every respect but one: synchronize_rcu_expedited()
 * orders the readers (both barriers) and bumps the epoch, then does not
 * wait for the readers still inside. The torture test must catch it
 * through its expedited writes (tests build it; nothing else links it).
 */
#ifndef HP_RCU_BROKEN_EXP_H
#define HP_RCU_BROKEN_EXP_H

#define HP_RCU_PFX broken_exp
#define HP_RCU_PFX_STR "broken_exp"
#define HP_RCU_READ_KIND 2
#include "rcu_flavour.h"
#undef HP_RCU_PFX
#undef HP_RCU_PFX_STR
#undef HP_RCU_READ_KIND

#ifndef HP_RCU_NO_MAP
#ifdef HP_RCU_MAPPED
#error "two impl/rcu flavours mapped in one file: define HP_RCU_NO_MAP and use hp_rcu_<flavour>_ names"
#endif
#define HP_RCU_MAPPED broken_exp
#include "rcu_map.h"
#endif

#endif
