/* rcu_memb.h — impl/rcu, flavour memb: a per-thread nesting counter and
 * grace-period epoch, with the read side's memory barrier moved to the
 * writer by membarrier(2).
 *
 * Kernel counterpart: none exactly. Readers look like PREEMPT_RCU's
 * (a per-task nesting count, no atomic instruction, no barrier); the writer
 * is either kind of grace period: hp_rcu_memb_synchronize_rcu_expedited()
 * is synchronize_rcu_expedited() (kernel/rcu/tree_exp.h, Linux 6.6), whose
 * IPIs force each CPU through a barrier, here MEMBARRIER_CMD_PRIVATE_EXPEDITED,
 * which IPIs the CPUs running this process's threads;
 * hp_rcu_memb_synchronize_rcu() orders the readers with
 * MEMBARRIER_CMD_GLOBAL, which the kernel implements with its own normal
 * synchronize_rcu(): no IPI, each CPU's barrier is its next context switch,
 * user-mode tick or idle entry (about 1 ms here, against a few us). The
 * algorithm is
 * liburcu's urcu-memb (Desnoyers et al., IEEE TPDS 2012), with a 48-bit
 * epoch in place of its one-bit phase.
 *
 * Where user space differs: the kernel knows which task runs where and
 * tracks preempted readers on rcu_node blocked lists; here the writer sees
 * only the registered threads' words, and a preempted reader simply holds
 * the grace period until it runs again. There is no scheduling-clock tick
 * here: a normal grace period borrows the kernel's (through membarrier),
 * and both kinds poll the readers' words (normal: backing off to sleeps;
 * expedited: spinning, then yielding).
 *
 * Barrier scheme, chosen once at the first registration or grace period
 * (hp_rcu_memb_stats().mb tells which runs):
 * - "membarrier": MEMBARRIER_CMD_PRIVATE_EXPEDITED, registered once with
 *   MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED (Linux 4.14+), for expedited
 *   grace periods; MEMBARRIER_CMD_GLOBAL for normal ones where the kernel
 *   offers it (not with nohz_full; else the expedited command;
 *   hp_rcu_memb_stats().mb_normal tells);
 * - "signal": where membarrier is missing or refused (old kernels, seccomp,
 *   valgrind), the writer sends SIGRTMIN+5 (HP_RCU_SIGNAL) to each registered
 *   thread and waits until each has run a full barrier in the handler
 *   (liburcu's urcu-signal). Registered threads must not block that signal.
 *   Set HP_RCU_FORCE_SIGNAL=1 in the environment to choose it (tests do).
 *   ThreadSanitizer delivers signals only at intercepted calls, so under
 *   TSan the fallback stalls on readers that loop without any.
 * The read side is the same in both: no fence, no flag test.
 *
 * Cost (x86-64, gcc 12 -O2):
 * - hp_rcu_memb_read_lock: a TLS load, a test, a load of the shared epoch
 *   word (a read-mostly line) and a TLS store; no fence, no atomic RMW.
 * - hp_rcu_memb_read_unlock: a TLS load and a store (no wake-up test).
 * - synchronize_rcu_expedited: two membarrier calls (a few microseconds
 *   each, IPIs to the CPUs running this process's threads; more in a VM),
 *   one scan of the registered threads polling until each is outside a
 *   critical section or in one that began after the grace period started.
 * - synchronize_rcu: the same with two MEMBARRIER_CMD_GLOBAL calls (each a
 *   kernel grace period, about a millisecond), no CPU disturbed.
 *
 * Signal safety: read_lock/unlock may run in a signal handler that
 * interrupts a critical section (nesting counts it; the handler restores
 * the word before the interrupted store completes).
 *
 * The whole API (register, call_rcu, rcu_barrier, the polled API) is
 * described in rcu_flavour.h.
 */
#ifndef HP_RCU_MEMB_H
#define HP_RCU_MEMB_H

#define HP_RCU_PFX memb
#define HP_RCU_PFX_STR "memb"
#define HP_RCU_READ_KIND 2
#include "rcu_flavour.h"
#undef HP_RCU_PFX
#undef HP_RCU_PFX_STR
#undef HP_RCU_READ_KIND

#ifndef HP_RCU_NO_MAP
#ifdef HP_RCU_MAPPED
#error "two impl/rcu flavours mapped in one file: define HP_RCU_NO_MAP and use hp_rcu_<flavour>_ names"
#endif
#define HP_RCU_MAPPED memb
#include "rcu_map.h"
#endif

#endif
