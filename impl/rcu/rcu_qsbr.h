/* rcu_qsbr.h — impl/rcu, flavour qsbr: quiescent-state-based RCU, a read
 * side that costs nothing.
 *
 * Kernel counterpart: RCU in a non-preemptible kernel (CONFIG_PREEMPT_NONE,
 * Linux 6.6 kernel/rcu/tree.c): rcu_read_lock() is preempt_disable(), which
 * compiles to nothing, and a CPU reports a quiescent state when it context
 * switches, idles or runs in user mode (rcu_note_context_switch(), the
 * scheduling-clock tick, the dynticks counter).
 *
 * Where user space differs: there is no scheduler to see a thread pass a
 * quiescent state, so each reader thread announces it itself:
 * hp_rcu_qsbr_quiescent_state() between critical sections (the kernel's
 * context switch), hp_rcu_qsbr_thread_offline()/online() around blocking or
 * long stretches without RCU (the kernel's idle and user mode). A thread
 * that is online and never announces one stalls every grace period (the
 * kernel would print an RCU CPU stall warning). Registration puts a thread
 * online.
 *
 * Cost (x86-64, gcc 12 -O2):
 * - hp_rcu_qsbr_read_lock/unlock: no instruction (a compiler barrier).
 * - hp_rcu_qsbr_quiescent_state: a load and a compare when no grace period
 *   is waiting; when one is, a store between two full barriers (mfence).
 *   Call it every few hundred critical sections, not after each.
 * - hp_rcu_dereference: a plain load (acquire on x86).
 * - synchronize_rcu: one increment of the grace-period counter and a scan of
 *   the registered threads, polling (spin, yield, then sleeps from 5 us up
 *   to 1 ms) until each is offline or has reported; no system call when the
 *   readers report promptly. The caller, if online, is taken offline for
 *   the wait (as liburcu does).
 * - synchronize_rcu_expedited: the same, but the writer never sleeps while
 *   it waits (spins, then yields). Nothing can force a qsbr reader: its
 *   read side records nothing, so a signal or barrier could not tell
 *   whether it is inside a critical section (the kernel's non-preemptible
 *   expedited IPI reads the preempt count instead).
 *
 * Mechanism: a 64-bit grace-period counter (never wraps). A reader's word
 * holds the counter value at its last quiescent state, 0 when offline; a
 * grace period increments the counter and waits until every online reader
 * holds the new value. One scan per grace period.
 *
 * The whole API (register, call_rcu, rcu_barrier, the polled API) is
 * described in rcu_flavour.h.
 */
#ifndef HP_RCU_QSBR_H
#define HP_RCU_QSBR_H

#define HP_RCU_PFX qsbr
#define HP_RCU_PFX_STR "qsbr"
#define HP_RCU_READ_KIND 1
#include "rcu_flavour.h"
#undef HP_RCU_PFX
#undef HP_RCU_PFX_STR
#undef HP_RCU_READ_KIND

#ifndef HP_RCU_NO_MAP
#ifdef HP_RCU_MAPPED
#error "two impl/rcu flavours mapped in one file: define HP_RCU_NO_MAP and use hp_rcu_<flavour>_ names"
#endif
#define HP_RCU_MAPPED qsbr
#include "rcu_map.h"
#endif

#endif
