/* rcu_map.h — short names (hp_rcu_read_lock, hp_synchronize_rcu, ...) for
 * the one flavour a file uses; included by the flavour headers unless
 * HP_RCU_NO_MAP is defined. HP_RCU_MAPPED names that flavour. */
#ifndef HP_RCU_MAP_H
#define HP_RCU_MAP_H

#ifndef HP_RCU_MAPPED
#error "rcu_map.h: include a flavour header (rcu_qsbr.h, rcu_memb.h, rcu_preempt.h)"
#endif

#define HP_RCU_MCAT_(a, b, c) a##b##c
#define HP_RCU_MCAT(a, b, c) HP_RCU_MCAT_(a, b, c)
#define HP_RCU_MNAME(x) HP_RCU_MCAT(hp_rcu_, HP_RCU_MAPPED, _##x)

#define hp_rcu_register_thread HP_RCU_MNAME(register_thread)
#define hp_rcu_unregister_thread HP_RCU_MNAME(unregister_thread)
#define hp_rcu_read_lock HP_RCU_MNAME(read_lock)
#define hp_rcu_read_unlock HP_RCU_MNAME(read_unlock)
#define hp_rcu_read_ongoing HP_RCU_MNAME(read_ongoing)
#define hp_rcu_quiescent_state HP_RCU_MNAME(quiescent_state)
#define hp_rcu_thread_offline HP_RCU_MNAME(thread_offline)
#define hp_rcu_thread_online HP_RCU_MNAME(thread_online)
#define hp_synchronize_rcu HP_RCU_MNAME(synchronize_rcu)
#define hp_synchronize_rcu_expedited HP_RCU_MNAME(synchronize_rcu_expedited)
#define hp_call_rcu HP_RCU_MNAME(call_rcu)
#define hp_rcu_barrier HP_RCU_MNAME(rcu_barrier)
#define hp_kvfree_call_rcu HP_RCU_MNAME(kvfree_call_rcu)
#define hp_kvfree_rcu_barrier HP_RCU_MNAME(kvfree_rcu_barrier)
#define hp_get_state_synchronize_rcu HP_RCU_MNAME(get_state_synchronize_rcu)
#define hp_start_poll_synchronize_rcu HP_RCU_MNAME(start_poll_synchronize_rcu)
#define hp_poll_state_synchronize_rcu HP_RCU_MNAME(poll_state_synchronize_rcu)
#define hp_cond_synchronize_rcu HP_RCU_MNAME(cond_synchronize_rcu)
#define hp_rcu_flavour HP_RCU_MNAME(flavour)
#define hp_rcu_stats HP_RCU_MNAME(stats)

#endif
