/* softirq.c — impl/softirq: pending mask, __do_softirq, irq entry/exit, soft irq masking, CPU ownership and ksoftirqd (Linux 6.6). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE     /* CPU_SET, pthread_setaffinity_np, pthread_setname_np */
#endif
#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "softirq_int.h"
#include "hp_futex.h"
#include "hp_time.h"

__thread hp_softirq_cpu_t *hp_softirq_cur_ IE;
static __thread uint32_t tls_tid IE;

#define cur hp_softirq_cur_

static const char *const vec_names[HP_NR_SOFTIRQS] = {
	"HI", "TIMER", "NET_TX", "NET_RX", "BLOCK",
	"IRQ_POLL", "TASKLET", "SCHED", "HRTIMER", "RCU",
};

/* ================================================================== */
/* Small helpers                                                       */
/* ================================================================== */

static uint32_t self_tid(void)
{
	if (!tls_tid)
		tls_tid = (uint32_t)syscall(SYS_gettid);
	return tls_tid;
}

static inline uint32_t pc(hp_softirq_cpu_t *c)
{
	return LD(c->preempt_count);
}

/* preempt_count_add/sub: owner-only, so a plain read-modify-write; the
 * signal fence keeps it ordered against an interrupt on this thread. */
static inline void pc_add(hp_softirq_cpu_t *c, uint32_t v)
{
	ST(c->preempt_count, pc(c) + v);
	SIGFENCE();
}

static inline void pc_sub(hp_softirq_cpu_t *c, uint32_t v)
{
	SIGFENCE();
	ST(c->preempt_count, pc(c) - v);
	SIGFENCE();
}

static inline int interrupt_ctx(uint32_t p)
{
	return (p & (HP_HARDIRQ_MASK | HP_SOFTIRQ_MASK | HP_NMI_MASK)) != 0;
}

/* ================================================================== */
/* Interrupt requests: per-CPU bounded queue                           */
/* ================================================================== */

/* Producers (any thread, also handlers): claim a cell by advancing
 * irq_enq, fill it, publish it with a release store of its sequence. */
static int irq_enqueue(hp_softirq_cpu_t *c, hp_irq_handler_t fn, void *arg)
{
	uint64_t pos = __atomic_load_n(&c->irq_enq, __ATOMIC_RELAXED);
	irq_cell_t *cell;

	for (;;) {
		cell = &c->cells[pos & c->qmask];
		uint64_t seq = __atomic_load_n(&cell->seq, __ATOMIC_ACQUIRE);
		int64_t dif = (int64_t)(seq - pos);

		if (dif == 0) {
			if (__atomic_compare_exchange_n(&c->irq_enq, &pos, pos + 1, true,
							__ATOMIC_RELAXED, __ATOMIC_RELAXED))
				break;
		} else if (dif < 0) {
			return -EAGAIN;         /* full: the consumer is a lap behind */
		} else {
			pos = __atomic_load_n(&c->irq_enq, __ATOMIC_RELAXED);
		}
	}
	cell->fn = fn;
	cell->arg = arg;
	__atomic_store_n(&cell->seq, pos + 1, __ATOMIC_RELEASE);
	return 0;
}

/* Consumer: the owner, in hardirq context (irqs masked, so never nested).
 * Stops at the first cell not yet published: its producer kicks again. */
static int irq_dequeue(hp_softirq_cpu_t *c, hp_irq_handler_t *fn, void **arg)
{
	uint64_t pos = c->irq_deq;
	irq_cell_t *cell = &c->cells[pos & c->qmask];

	if (__atomic_load_n(&cell->seq, __ATOMIC_ACQUIRE) != pos + 1)
		return 0;
	*fn = cell->fn;
	*arg = cell->arg;
	__atomic_store_n(&cell->seq, pos + c->qmask + 1, __ATOMIC_RELEASE);
	c->irq_deq = pos + 1;
	return 1;
}

/* ================================================================== */
/* ksoftirqd wakeup                                                    */
/* ================================================================== */

static void wake_ksoftirqd(hp_softirq_cpu_t *c, uint64_t *counter)
{
	if (__atomic_load_n(&c->ksd_wake, __ATOMIC_RELAXED))
		return;                 /* already woken: wake_up_process is a no-op */
	if (__atomic_exchange_n(&c->ksd_wake, 1, __ATOMIC_SEQ_CST) == 0) {
		ADD(*counter);
		hp_futex_wake(&c->ksd_wake, 1);
	}
}

static inline void wakeup_softirqd(hp_softirq_cpu_t *c)
{
	wake_ksoftirqd(c, &c->st.ksoftirqd_wakeups);
}

/* ================================================================== */
/* __do_softirq (kernel/softirq.c, 6.6)                                */
/* ================================================================== */

static void run_irqs(hp_softirq_cpu_t *c);

static inline void irq_off(hp_softirq_cpu_t *c)
{
	ST(c->irqs_off, 1);
	SIGFENCE();
}

/* Unmask, then replay whatever was kicked while masked. */
static inline void irq_on(hp_softirq_cpu_t *c)
{
	SIGFENCE();
	ST(c->irqs_off, 0);
	SIGFENCE();
	if (__atomic_load_n(&c->kick, __ATOMIC_RELAXED)) {
		ADD(c->st.irq_replays);         /* can nest: an interrupt may replay too */
		run_irqs(c);
	}
}

/* Called with irqs off and !in_interrupt(). */
static void do_softirq_core(hp_softirq_cpu_t *c)
{
	hp_softirq_sys_t *sys = c->sys;
	unsigned restart = sys->cfg.max_restart;
	uint64_t end;
	uint32_t pending;

	if (sys->cfg.clock == HP_SOFTIRQ_CLOCK_JIFFIES)
		end = hp_now_ns() / sys->tick_ns + sys->limit_jiffies;
	else
		end = hp_now_ns() + sys->cfg.time_limit_ns;

	pending = LD(c->pending);
	pc_add(c, HP_SOFTIRQ_OFFSET);           /* softirq_handle_begin() */
	BUMP(c->st.do_softirq);
	for (;;) {
		ST(c->pending, 0);
		irq_on(c);
		BUMP(c->st.passes);
		while (pending) {
			unsigned nr = (unsigned)__builtin_ctz(pending);
			hp_softirq_action_t fn = __atomic_load_n(&sys->vec[nr].fn, __ATOMIC_ACQUIRE);
			uint32_t prev = pc(c);

			pending &= pending - 1;
			BUMP(c->st.vec_runs[nr]);   /* kstat_incr_softirqs_this_cpu() */
			if (fn)
				fn(c, sys->vec[nr].arg);
			if (pc(c) != prev) {        /* the kernel's "preempt leak" repair */
				ST(c->preempt_count, prev);
				BUMP(c->st.preempt_leaks);
			}
		}
		irq_off(c);
		pending = LD(c->pending);
		if (!pending)
			break;
		/* Same order as the kernel's condition: time, need_resched,
		 * restart count; the first that fails names the deferral. */
		if (sys->cfg.clock == HP_SOFTIRQ_CLOCK_JIFFIES) {
			if ((int64_t)(hp_now_ns() / sys->tick_ns - end) >= 0) {
				BUMP(c->st.defer_time);
				wakeup_softirqd(c);
				break;
			}
		} else if (hp_now_ns() >= end) {
			BUMP(c->st.defer_time);
			wakeup_softirqd(c);
			break;
		}
		if (__atomic_load_n(&c->need_resched, __ATOMIC_RELAXED)) {
			BUMP(c->st.defer_resched);
			wakeup_softirqd(c);
			break;
		}
		if (--restart == 0) {
			BUMP(c->st.defer_restart);
			wakeup_softirqd(c);
			break;
		}
		BUMP(c->st.restarts);
	}
	pc_sub(c, HP_SOFTIRQ_OFFSET);           /* softirq_handle_end() */
}

/* ================================================================== */
/* Hardirq entry and exit                                              */
/* ================================================================== */

static inline void irq_enter_(hp_softirq_cpu_t *c)
{
	unsigned depth = (pc(c) & HP_HARDIRQ_MASK) >> 16;
	uint32_t bit = 1u << depth;

	ST(c->irq_prev, LD(c->irqs_off) ? (LD(c->irq_prev) | bit) : (LD(c->irq_prev) & ~bit));
	irq_off(c);
	pc_add(c, HP_HARDIRQ_OFFSET);
}

/* invoke_softirq() of 6.6: run them here unless force_irqthreads. */
static inline void irq_exit_(hp_softirq_cpu_t *c, int replay)
{
	unsigned depth;

	pc_sub(c, HP_HARDIRQ_OFFSET);
	if (!interrupt_ctx(pc(c)) && LD(c->pending)) {
		if (c->sys->cfg.force_irqthreads)
			wakeup_softirqd(c);
		else
			do_softirq_core(c);
	}
	depth = (pc(c) & HP_HARDIRQ_MASK) >> 16;
	if (!(LD(c->irq_prev) & (1u << depth))) {
		if (replay)
			irq_on(c);
		else {
			SIGFENCE();
			ST(c->irqs_off, 0);
			SIGFENCE();
		}
	}
}

/* Takes every queued request in hardirq context; loops while requests
 * were kicked during the run (their signals were coalesced). Called by
 * the owner with irqs enabled. */
static void run_irqs(hp_softirq_cpu_t *c)
{
	hp_irq_handler_t fn;
	void *arg;

	do {
		irq_enter_(c);
		(void)__atomic_exchange_n(&c->kick, 0, __ATOMIC_SEQ_CST);
		while (irq_dequeue(c, &fn, &arg)) {
			BUMP(c->st.irqs);
			fn(c, arg);
		}
		irq_exit_(c, 0);
	} while (__atomic_load_n(&c->kick, __ATOMIC_SEQ_CST));
}

/* The irq signal: hardirq context if this thread owns a CPU whose irqs
 * are on; otherwise the request stays queued (kick set) for whoever
 * unmasks or gains the CPU. Async-signal-safe: atomics, futex, clock. */
static void irq_signal_handler(int sig, siginfo_t *si, void *uc)
{
	int saved = errno;
	hp_softirq_cpu_t *c = cur;

	(void)sig; (void)si; (void)uc;
	if (c) {
		if (LD(c->irqs_off))
			ADD(c->st.irqs_masked);
		else
			run_irqs(c);
	}
	errno = saved;
}

int hp_irq_enter(void)
{
	hp_softirq_cpu_t *c = cur;

	if (!c)
		return -EPERM;
	if ((pc(c) & HP_HARDIRQ_MASK) == HP_HARDIRQ_MASK)
		return -EBUSY;
	irq_enter_(c);
	return 0;
}

int hp_irq_exit(void)
{
	hp_softirq_cpu_t *c = cur;

	if (!c)
		return -EPERM;
	if (!(pc(c) & HP_HARDIRQ_MASK))
		return -EINVAL;
	irq_exit_(c, 1);
	return 0;
}

int hp_softirq_irq(hp_irq_handler_t handler, void *arg)
{
	hp_softirq_cpu_t *c = cur;

	if (!c)
		return -EPERM;
	if (!handler)
		return -EINVAL;
	if (LD(c->irqs_off)) {
		/* Masked: the interrupt stays pending until unmask. */
		if (irq_enqueue(c, handler, arg))
			return -EAGAIN;
		__atomic_store_n(&c->kick, 1, __ATOMIC_SEQ_CST);
		return 1;
	}
	irq_enter_(c);
	BUMP(c->st.irqs);
	handler(c, arg);
	irq_exit_(c, 1);
	return 0;
}

int hp_softirq_send_irq(hp_softirq_sys_t *sys, unsigned cpu, hp_irq_handler_t handler, void *arg)
{
	hp_softirq_cpu_t *c;

	if (!sys || !handler || cpu >= sys->cfg.ncpus)
		return -EINVAL;
	c = &sys->cpus[cpu];
	if (irq_enqueue(c, handler, arg))
		return -EAGAIN;
	/* Only the request that finds the queue un-kicked signals (as an IPI
	 * is sent only when call_single_queue was empty). kick before owner,
	 * both seq_cst, pairs with the owner side's store of owner before
	 * its load of kick: one of the two sees the other. */
	if (__atomic_exchange_n(&c->kick, 1, __ATOMIC_SEQ_CST) == 0) {
		uint32_t o = __atomic_load_n(&c->owner, __ATOMIC_SEQ_CST);

		if (o) {
			ADD(c->st.irq_signals);
			syscall(SYS_tgkill, getpid(), (pid_t)o, c->sys->cfg.signal);
		} else {
			wake_ksoftirqd(c, &c->st.idle_irq_wakeups);
		}
	}
	return 0;
}

/* ================================================================== */
/* Masking                                                             */
/* ================================================================== */

int hp_local_irq_disable(void)
{
	hp_softirq_cpu_t *c = cur;

	if (!c)
		return -EPERM;
	irq_off(c);
	return 0;
}

int hp_local_irq_enable(void)
{
	hp_softirq_cpu_t *c = cur;

	if (!c)
		return -EPERM;
	irq_on(c);
	return 0;
}

long hp_local_irq_save(void)
{
	hp_softirq_cpu_t *c = cur;
	long was;

	if (!c)
		return -EPERM;
	was = (long)LD(c->irqs_off);
	irq_off(c);
	return was;
}

int hp_local_irq_restore(long flags)
{
	hp_softirq_cpu_t *c = cur;

	if (!c)
		return -EPERM;
	if (!flags)
		irq_on(c);
	return 0;
}

/* ================================================================== */
/* Raising and running softirqs                                        */
/* ================================================================== */

static inline void raise_irqoff(hp_softirq_cpu_t *c, unsigned nr)
{
	ST(c->pending, LD(c->pending) | (1u << nr));
	if (!interrupt_ctx(pc(c)))
		wakeup_softirqd(c);
}

int hp___raise_softirq_irqoff(unsigned nr)
{
	hp_softirq_cpu_t *c = cur;

	if (nr >= HP_NR_SOFTIRQS)
		return -EINVAL;
	if (!c || !LD(c->irqs_off))
		return -EPERM;
	ST(c->pending, LD(c->pending) | (1u << nr));
	return 0;
}

int hp_raise_softirq_irqoff(unsigned nr)
{
	hp_softirq_cpu_t *c = cur;

	if (nr >= HP_NR_SOFTIRQS)
		return -EINVAL;
	if (!c || !LD(c->irqs_off))
		return -EPERM;
	raise_irqoff(c, nr);
	return 0;
}

int hp_raise_softirq(unsigned nr)
{
	hp_softirq_cpu_t *c = cur;
	uint32_t was;

	if (nr >= HP_NR_SOFTIRQS)
		return -EINVAL;
	if (!c)
		return -EPERM;
	was = LD(c->irqs_off);
	irq_off(c);
	raise_irqoff(c, nr);
	if (!was)
		irq_on(c);
	return 0;
}

uint32_t hp_softirq_pending(void)
{
	hp_softirq_cpu_t *c = cur;

	return c ? LD(c->pending) : 0;
}

int hp_do_softirq(void)
{
	hp_softirq_cpu_t *c = cur;
	uint32_t was;

	if (!c)
		return -EPERM;
	if (interrupt_ctx(pc(c)))
		return 0;
	was = LD(c->irqs_off);
	irq_off(c);
	if (LD(c->pending))
		do_softirq_core(c);
	if (!was)
		irq_on(c);
	return 0;
}

int hp_local_bh_disable(void)
{
	hp_softirq_cpu_t *c = cur;

	if (!c)
		return -EPERM;
	pc_add(c, HP_SOFTIRQ_DISABLE_OFFSET);
	return 0;
}

/* __local_bh_enable_ip(): drop the bh level but keep preemption off
 * (cnt - 1), run softirqs if that left us outside interrupt context,
 * then drop the last preempt count. */
int hp_local_bh_enable(void)
{
	hp_softirq_cpu_t *c = cur;

	if (!c)
		return -EPERM;
	if ((pc(c) & HP_SOFTIRQ_MASK) < HP_SOFTIRQ_DISABLE_OFFSET)
		return -EINVAL;
	if ((pc(c) & HP_HARDIRQ_MASK) || LD(c->irqs_off))
		return -EPERM;
	pc_sub(c, HP_SOFTIRQ_DISABLE_OFFSET - 1);
	if (!interrupt_ctx(pc(c)) && LD(c->pending)) {
		irq_off(c);
		if (LD(c->pending))
			do_softirq_core(c);
		irq_on(c);
	}
	pc_sub(c, 1);
	return 0;
}

uint32_t hp_preempt_count(void)
{
	hp_softirq_cpu_t *c = cur;

	return c ? pc(c) : 0;
}

bool hp_in_interrupt(void)
{
	return interrupt_ctx(hp_preempt_count());
}

bool hp_in_softirq(void)
{
	return (hp_preempt_count() & HP_SOFTIRQ_MASK) != 0;
}

bool hp_in_serving_softirq(void)
{
	return (hp_preempt_count() & HP_SOFTIRQ_OFFSET) != 0;
}

bool hp_in_hardirq(void)
{
	return (hp_preempt_count() & HP_HARDIRQ_MASK) != 0;
}

bool hp_irqs_disabled(void)
{
	hp_softirq_cpu_t *c = cur;

	return c && LD(c->irqs_off);
}

bool hp_need_resched(void)
{
	hp_softirq_cpu_t *c = cur;

	return c && __atomic_load_n(&c->need_resched, __ATOMIC_RELAXED);
}

int hp_softirq_set_need_resched(hp_softirq_sys_t *sys, unsigned cpu, bool on)
{
	if (!sys || cpu >= sys->cfg.ncpus)
		return -EINVAL;
	__atomic_store_n(&sys->cpus[cpu].need_resched, on ? 1u : 0u, __ATOMIC_RELAXED);
	return 0;
}

int hp_open_softirq(hp_softirq_sys_t *sys, unsigned nr, hp_softirq_action_t action, void *arg)
{
	if (!sys || nr >= HP_NR_SOFTIRQS)
		return -EINVAL;
	sys->vec[nr].arg = arg;
	__atomic_store_n(&sys->vec[nr].fn, action, __ATOMIC_RELEASE);
	return 0;
}

const char *hp_softirq_name(unsigned nr)
{
	return nr < HP_NR_SOFTIRQS ? vec_names[nr] : NULL;
}

/* ================================================================== */
/* CPU ownership                                                       */
/* ================================================================== */

/* Every change of owner happens with the CPU's irqs masked and the
 * thread-local pointer cleared, so a signal that reaches a thread which
 * does not own the CPU (any more) does nothing; the gaining side unmasks
 * and so replays what is queued. */

static void gain(hp_softirq_cpu_t *c)
{
	cur = c;
	SIGFENCE();
	ST(c->irqs_off, 0);
	SIGFENCE();
	/* A seq_cst load after the seq_cst owner update: see send_irq. */
	if (__atomic_load_n(&c->kick, __ATOMIC_SEQ_CST)) {
		ADD(c->st.irq_replays);
		run_irqs(c);
	}
}

static void lose(hp_softirq_cpu_t *c)
{
	irq_off(c);
	cur = NULL;
	SIGFENCE();
}

/* Waits until `owner` is me (handed over) or free (taken). */
static void acquire_owner(hp_softirq_cpu_t *c, uint32_t me)
{
	for (;;) {
		uint32_t o = __atomic_load_n(&c->owner, __ATOMIC_ACQUIRE);

		if (o == me)
			return;
		if (o == 0 && __atomic_compare_exchange_n(&c->owner, &o, me, false,
							  __ATOMIC_SEQ_CST, __ATOMIC_RELAXED))
			return;
		hp_futex_wait(&c->owner, o, NULL);
	}
}

int hp_softirq_cpu_attach(hp_softirq_sys_t *sys, unsigned cpu)
{
	hp_softirq_cpu_t *c;
	uint32_t me = self_tid(), zero = 0;
	sigset_t set;

	if (!sys || cpu >= sys->cfg.ncpus)
		return -EINVAL;
	if (cur)
		return -EBUSY;
	c = &sys->cpus[cpu];
	if (!__atomic_compare_exchange_n(&c->attached, &zero, me, false,
					 __ATOMIC_SEQ_CST, __ATOMIC_RELAXED))
		return -EBUSY;
	sigemptyset(&set);
	sigaddset(&set, sys->cfg.signal);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	acquire_owner(c, me);
	gain(c);
	return 0;
}

int hp_softirq_cpu_detach(void)
{
	hp_softirq_cpu_t *c = cur;

	if (!c)
		return -EPERM;
	if (pc(c) || LD(c->irqs_off))
		return -EBUSY;
	lose(c);
	/* Work left on the CPU goes to ksoftirqd, now its only runner. Woken
	 * while we still own the CPU: it cannot have cleared its flag yet, so
	 * an already pending wakeup is not counted twice. */
	if (LD(c->pending))
		wakeup_softirqd(c);
	__atomic_store_n(&c->attached, 0, __ATOMIC_SEQ_CST);
	__atomic_store_n(&c->owner, 0, __ATOMIC_SEQ_CST);
	hp_futex_wake(&c->owner, INT_MAX);
	if (__atomic_load_n(&c->kick, __ATOMIC_SEQ_CST))
		wake_ksoftirqd(c, &c->st.idle_irq_wakeups);
	return 0;
}

hp_softirq_cpu_t *hp_softirq_this_cpu(void)
{
	return cur;
}

unsigned hp_softirq_cpu_id(const hp_softirq_cpu_t *cpu)
{
	return cpu ? cpu->id : 0;
}

int hp_softirq_cond_resched(void)
{
	hp_softirq_cpu_t *c = cur;
	uint32_t me = self_tid();

	if (!c)
		return -EPERM;
	if (pc(c) || LD(c->irqs_off))
		return 0;
	if (!__atomic_load_n(&c->ksd_wake, __ATOMIC_ACQUIRE))
		return 0;
	lose(c);
	ADD(c->st.ksoftirqd_switches);
	__atomic_store_n(&c->need_resched, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&c->owner, c->ksd_tid, __ATOMIC_SEQ_CST);
	hp_futex_wake(&c->owner, INT_MAX);
	acquire_owner(c, me);
	gain(c);
	return 1;
}

/* ================================================================== */
/* ksoftirqd (smpboot thread running run_ksoftirqd)                    */
/* ================================================================== */

static void *ksoftirqd_main(void *p)
{
	hp_softirq_cpu_t *c = p;
	hp_softirq_sys_t *sys = c->sys;
	uint32_t me = self_tid();
	sigset_t set;

	sigfillset(&set);
	sigdelset(&set, sys->cfg.signal);
	pthread_sigmask(SIG_SETMASK, &set, NULL);
	__atomic_store_n(&c->ksd_tid, me, __ATOMIC_RELEASE);
	hp_futex_wake(&c->ksd_tid, 1);

	for (;;) {
		uint32_t a;

		while (!__atomic_load_n(&c->ksd_wake, __ATOMIC_ACQUIRE) &&
		       !__atomic_load_n(&sys->stop, __ATOMIC_ACQUIRE))
			hp_futex_wait(&c->ksd_wake, 0, NULL);
		if (__atomic_load_n(&sys->stop, __ATOMIC_ACQUIRE))
			break;
		acquire_owner(c, me);
		/* Cleared before running: a raise from here on wakes it again. */
		__atomic_store_n(&c->ksd_wake, 0, __ATOMIC_SEQ_CST);
		gain(c);
		irq_off(c);
		if (LD(c->pending)) {
			do_softirq_core(c);
			BUMP(c->st.ksoftirqd_runs);
		}
		irq_on(c);
		lose(c);
		/* The attached thread (waiting in cond_resched or attach) gets
		 * the CPU back; otherwise it becomes free. */
		a = __atomic_load_n(&c->attached, __ATOMIC_SEQ_CST);
		__atomic_store_n(&c->owner, a, __ATOMIC_SEQ_CST);
		hp_futex_wake(&c->owner, INT_MAX);
		if (!a && __atomic_load_n(&c->kick, __ATOMIC_SEQ_CST))
			__atomic_store_n(&c->ksd_wake, 1, __ATOMIC_SEQ_CST);
	}
	return NULL;
}

/* ================================================================== */
/* Lifecycle and stats                                                 */
/* ================================================================== */

static uint32_t sig_installed[_NSIG];

static int install_handler(int sig)
{
	struct sigaction sa;
	uint32_t zero = 0;

	if (__atomic_load_n(&sig_installed[sig], __ATOMIC_ACQUIRE) == 2)
		return 0;
	if (!__atomic_compare_exchange_n(&sig_installed[sig], &zero, 1, false,
					 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
		while (__atomic_load_n(&sig_installed[sig], __ATOMIC_ACQUIRE) != 2)
			sched_yield();
		return 0;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = irq_signal_handler;
	sa.sa_flags = SA_SIGINFO | SA_RESTART | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	if (sigaction(sig, &sa, NULL) != 0) {
		__atomic_store_n(&sig_installed[sig], 0, __ATOMIC_RELEASE);
		return -errno;
	}
	__atomic_store_n(&sig_installed[sig], 2, __ATOMIC_RELEASE);
	return 0;
}

void hp_softirq_config_init(hp_softirq_config_t *cfg)
{
	if (!cfg)
		return;
	memset(cfg, 0, sizeof(*cfg));
	cfg->ncpus = 1;
	cfg->signal = SIGRTMIN + 6;
	cfg->max_restart = HP_MAX_SOFTIRQ_RESTART;
	cfg->time_limit_ns = HP_MAX_SOFTIRQ_TIME_NS;
	cfg->clock = HP_SOFTIRQ_CLOCK_NS;
	cfg->hz = 250;
	cfg->irq_queue_len = 256;
}

static int check_config(const hp_softirq_config_t *cfg)
{
	if (cfg->ncpus < 1 || cfg->ncpus > HP_SOFTIRQ_MAX_CPUS)
		return -EINVAL;
	if (cfg->signal < SIGRTMIN || cfg->signal > SIGRTMAX)
		return -EINVAL;
	if (cfg->max_restart < 1)
		return -EINVAL;
	if (cfg->clock != HP_SOFTIRQ_CLOCK_NS && cfg->clock != HP_SOFTIRQ_CLOCK_JIFFIES)
		return -EINVAL;
	if (cfg->hz < 1 || cfg->hz > 10000)
		return -EINVAL;
	if (cfg->irq_queue_len < 2 || cfg->irq_queue_len > 65536 ||
	    (cfg->irq_queue_len & (cfg->irq_queue_len - 1)))
		return -EINVAL;
	if (cfg->ksoftirqd_os_cpu)
		for (unsigned i = 0; i < cfg->ncpus; i++)
			if (cfg->ksoftirqd_os_cpu[i] < -1 || cfg->ksoftirqd_os_cpu[i] >= CPU_SETSIZE)
				return -EINVAL;
	return 0;
}

static void stop_threads(hp_softirq_sys_t *sys)
{
	__atomic_store_n(&sys->stop, 1, __ATOMIC_SEQ_CST);
	for (unsigned i = 0; i < sys->cfg.ncpus; i++) {
		hp_softirq_cpu_t *c = &sys->cpus[i];

		if (!c->ksd_started)
			continue;
		__atomic_store_n(&c->ksd_wake, 1, __ATOMIC_SEQ_CST);
		hp_futex_wake(&c->ksd_wake, 1);
		pthread_join(c->ksd_thread, NULL);
		c->ksd_started = 0;
	}
}

static void free_sys(hp_softirq_sys_t *sys)
{
	for (unsigned i = 0; i < sys->cfg.ncpus; i++)
		free(sys->cpus[i].cells);
	free(sys->cpus);
	free(sys);
}

int hp_softirq_create(const hp_softirq_config_t *cfg, hp_softirq_sys_t **out)
{
	hp_softirq_sys_t *sys;
	sigset_t all, old;
	int err;

	if (!cfg || !out)
		return -EINVAL;
	if ((err = check_config(cfg)))
		return err;
	if ((err = install_handler(cfg->signal)))
		return err;
	sys = calloc(1, sizeof(*sys));
	if (!sys)
		return -ENOMEM;
	sys->cfg = *cfg;
	sys->cfg.ksoftirqd_os_cpu = NULL;       /* not kept: the caller's array */
	sys->tick_ns = 1000000000u / cfg->hz;
	/* msecs_to_jiffies() rounds up */
	sys->limit_jiffies = (cfg->time_limit_ns + sys->tick_ns - 1) / sys->tick_ns;
	sys->cpus = aligned_alloc(64, sizeof(hp_softirq_cpu_t) * cfg->ncpus);
	if (!sys->cpus) {
		free(sys);
		return -ENOMEM;
	}
	memset(sys->cpus, 0, sizeof(hp_softirq_cpu_t) * cfg->ncpus);
	for (unsigned i = 0; i < cfg->ncpus; i++) {
		hp_softirq_cpu_t *c = &sys->cpus[i];

		c->sys = sys;
		c->id = i;
		c->irqs_off = 1;        /* an unowned CPU is masked: see gain() */
		c->tl[TL_NORMAL].tail = &c->tl[TL_NORMAL].head;
		c->tl[TL_HI].tail = &c->tl[TL_HI].head;
		c->qmask = cfg->irq_queue_len - 1;
		c->cells = calloc(cfg->irq_queue_len, sizeof(irq_cell_t));
		if (!c->cells) {
			free_sys(sys);
			return -ENOMEM;
		}
		for (uint64_t k = 0; k < cfg->irq_queue_len; k++)
			c->cells[k].seq = k;
	}
	/* softirq_init() */
	hp_open_softirq(sys, HP_TASKLET_SOFTIRQ, hp_softirq_tasklet_action_, NULL);
	hp_open_softirq(sys, HP_HI_SOFTIRQ, hp_softirq_tasklet_hi_action_, NULL);

	/* Threads start with every signal blocked; each unblocks the irq signal. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (unsigned i = 0; i < cfg->ncpus; i++) {
		hp_softirq_cpu_t *c = &sys->cpus[i];

		err = -pthread_create(&c->ksd_thread, NULL, ksoftirqd_main, c);
		if (err)
			break;
		c->ksd_started = 1;
		{
			char name[16];

			snprintf(name, sizeof(name), "ksoftirqd/%u", i);
			pthread_setname_np(c->ksd_thread, name);
		}
		if (cfg->ksoftirqd_os_cpu && cfg->ksoftirqd_os_cpu[i] >= 0) {
			cpu_set_t set;

			CPU_ZERO(&set);
			CPU_SET(cfg->ksoftirqd_os_cpu[i], &set);
			err = -pthread_setaffinity_np(c->ksd_thread, sizeof(set), &set);
			if (err)
				break;
		}
		while (!__atomic_load_n(&c->ksd_tid, __ATOMIC_ACQUIRE))
			hp_futex_wait(&c->ksd_tid, 0, NULL);
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err) {
		stop_threads(sys);
		free_sys(sys);
		return err;
	}
	*out = sys;
	return 0;
}

int hp_softirq_destroy(hp_softirq_sys_t *sys)
{
	if (!sys)
		return -EINVAL;
	for (unsigned i = 0; i < sys->cfg.ncpus; i++)
		if (__atomic_load_n(&sys->cpus[i].attached, __ATOMIC_ACQUIRE))
			return -EBUSY;
	stop_threads(sys);
	free_sys(sys);
	return 0;
}

int hp_softirq_stats(hp_softirq_sys_t *sys, unsigned cpu, hp_softirq_stats_t *out)
{
	const uint64_t *src;
	uint64_t *dst;

	if (!sys || !out || cpu >= sys->cfg.ncpus)
		return -EINVAL;
	src = (const uint64_t *)&sys->cpus[cpu].st;
	dst = (uint64_t *)out;
	for (size_t i = 0; i < sizeof(*out) / sizeof(uint64_t); i++)
		dst[i] = __atomic_load_n(&src[i], __ATOMIC_RELAXED);
	return 0;
}

/* The dispatch modes as variant tables (softirq.h). */
const hp_softirq_mode_ops_t hp_softirq_ops_irq_exit = { .name = "irq_exit", .force_irqthreads = false };
const hp_softirq_mode_ops_t hp_softirq_ops_threadirqs = { .name = "threadirqs", .force_irqthreads = true };
