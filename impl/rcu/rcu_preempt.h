/* rcu_preempt.h — impl/rcu, flavour preempt: the kernel's PREEMPT_RCU read
 * side, a per-thread nesting counter and a "special" word checked when
 * leaving the outermost critical section.
 *
 * Kernel counterpart (Linux 6.6, kernel/rcu/tree_plugin.h, CONFIG_PREEMPT_RCU):
 * - hp_rcu_preempt_reader.nesting is task_struct.rcu_read_lock_nesting:
 *   __rcu_read_lock() increments it; __rcu_read_unlock() decrements it and,
 *   at zero, tests rcu_read_unlock_special and calls
 *   rcu_read_unlock_special() when it is set.
 * - .special is rcu_read_unlock_special (here: the number of the grace period
 *   that asked this thread for a report); the slow path reports the
 *   quiescent state, as rcu_read_unlock_special() -> rcu_report_exp_rdp() /
 *   rcu_preempt_deferred_qs() do.
 * - the writer is synchronize_rcu_expedited(): sync_rcu_exp_select_cpus()
 *   IPIs every CPU; the handler (rcu_exp_handler()) reports at once when the
 *   CPU is not in a critical section, else sets the special bit so that the
 *   outermost unlock reports.
 *
 * Where user space has to differ:
 * - no IPI handler runs on the reader's CPU: the writer sets every
 *   registered thread's special word, issues membarrier(2) (or the signal
 *   fallback, see rcu_memb.h; hp_rcu_preempt_stats().mb tells which), and
 *   then reads each thread's nesting itself. The barrier on each CPU is what
 *   makes the remote read valid: a reader either finished its section before
 *   it, or will see the special word at its outermost unlock.
 * - a preempted reader is not queued on a blocked-tasks list and cannot be
 *   priority-boosted: it holds the grace period until it runs and unlocks.
 * - no tick and no context-switch reporting: both kinds of grace period
 *   ask every reader and scan; hp_rcu_preempt_synchronize_rcu_expedited()
 *   orders them with MEMBARRIER_CMD_PRIVATE_EXPEDITED (IPIs, as the
 *   kernel's), hp_rcu_preempt_synchronize_rcu() with MEMBARRIER_CMD_GLOBAL
 *   (the kernel's own normal grace period, no IPI, about 1 ms) where the
 *   kernel has it, and backs off to sleeps while it polls.
 *
 * Cost (x86-64, gcc 12 -O2):
 * - hp_rcu_preempt_read_lock: a TLS load, an increment and a store.
 * - hp_rcu_preempt_read_unlock: a TLS load, decrement, store, and at zero a
 *   load and test of the special word (one predictable branch); the slow
 *   path (once per grace period per thread, at most) is a full barrier and
 *   two stores.
 * - synchronize_rcu(_expedited): a store per registered thread, two
 *   membarrier calls (global / private expedited) and
 *   one scan polling each thread's nesting and report.
 *
 * Signal safety: as the kernel's nesting counter is interrupt-safe, read
 * lock/unlock may nest in a signal handler.
 *
 * The whole API (register, call_rcu, rcu_barrier, the polled API) is
 * described in rcu_flavour.h.
 */
#ifndef HP_RCU_PREEMPT_H
#define HP_RCU_PREEMPT_H

#define HP_RCU_PFX preempt
#define HP_RCU_PFX_STR "preempt"
#define HP_RCU_READ_KIND 3
#include "rcu_flavour.h"
#undef HP_RCU_PFX
#undef HP_RCU_PFX_STR
#undef HP_RCU_READ_KIND

#ifndef HP_RCU_NO_MAP
#ifdef HP_RCU_MAPPED
#error "two impl/rcu flavours mapped in one file: define HP_RCU_NO_MAP and use hp_rcu_<flavour>_ names"
#endif
#define HP_RCU_MAPPED preempt
#include "rcu_map.h"
#endif

#endif
