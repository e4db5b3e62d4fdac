/* softirq.h — Linux 6.6 softirqs and tasklets (kernel/softirq.c) in user space.
 *
 * Kernel version followed: Linux 6.6 (LTS), non-PREEMPT_RT. Where 6.6
 * differs from its neighbours it says so below.
 *
 * A "CPU" here is a context that at most one thread owns at a time, as at
 * most one task runs on a CPU. A thread attaches to CPU n
 * (hp_softirq_cpu_attach), runs its work there, and all the per-CPU calls
 * below act on the CPU the calling thread owns (kept in a thread-local
 * pointer, as the kernel's per-CPU accesses use the CPU the task runs on).
 * Each CPU has a ksoftirqd thread; when no thread is attached, ksoftirqd
 * owns the CPU whenever it has work (it also stands in for the idle task:
 * it takes the interrupts of an unowned CPU).
 *
 *   here                              kernel (6.6)
 *   --------------------------------  -----------------------------------------
 *   HP_*_SOFTIRQ, HP_NR_SOFTIRQS      enum { HI_SOFTIRQ=0, ... NR_SOFTIRQS }
 *   hp_open_softirq()                 open_softirq(): softirq_vec[nr].action
 *   hp_raise_softirq[_irqoff]()       raise_softirq[_irqoff](): set the pending
 *                                     bit; outside interrupt context also
 *                                     wakeup_softirqd()
 *   hp___raise_softirq_irqoff()       __raise_softirq_irqoff(): the bit only
 *   hp_softirq_pending()              local_softirq_pending()
 *   hp_do_softirq()                   do_softirq()
 *   (internal) __do_softirq           __do_softirq(): MAX_SOFTIRQ_RESTART 10,
 *                                     MAX_SOFTIRQ_TIME 2 ms, need_resched()
 *   hp_irq_enter() / hp_irq_exit()    irq_enter() / irq_exit(): HARDIRQ_OFFSET,
 *                                     invoke_softirq() when !in_interrupt()
 *   hp_local_bh_disable/enable()      local_bh_disable() / local_bh_enable()
 *   hp_local_irq_disable/enable/      local_irq_*(): soft masking, see below
 *     save/restore()
 *   hp_preempt_count(), hp_in_*()     preempt_count(), in_interrupt(),
 *                                     in_softirq(), in_serving_softirq(),
 *                                     in_hardirq(), irqs_disabled()
 *   hp_need_resched(),                need_resched() / TIF_NEED_RESCHED: a
 *     hp_softirq_set_need_resched()   per-CPU flag the user sets
 *   hp_softirq_cond_resched()         cond_resched(): lets a woken ksoftirqd run
 *   hp_softirq_irq()                  a hardirq arriving on this CPU, now
 *   hp_softirq_send_irq()             a hardirq for CPU n from anywhere (an
 *                                     IPI: smp_call_function_single_async)
 *   ksoftirqd/N threads               ksoftirqd (smpboot thread), run_ksoftirqd()
 *   hp_softirq_stats()                /proc/softirqs plus the counters below
 *   hp_tasklet_*                      tasklet_init/setup/schedule/hi_schedule/
 *                                     disable[_nosync]/enable/kill/unlock_wait,
 *                                     tasklet_action[_common]() on per-CPU
 *                                     tasklet_vec / tasklet_hi_vec
 *
 * __do_softirq, as 6.6: take the pending mask, add SOFTIRQ_OFFSET, then per
 * pass: clear pending, enable irqs, call the action of each set bit from low
 * to high (counting it as /proc/softirqs does, repairing a preempt_count the
 * action leaked), disable irqs, re-read pending. If something is pending
 * again, restart while time is left && !need_resched() && --max_restart;
 * otherwise wake ksoftirqd. 6.5 reverted "softirq: Let ksoftirqd do its job",
 * so 6.6 has no ksoftirqd_running() check: irq_exit and local_bh_enable run
 * softirqs even while ksoftirqd is runnable. This file follows 6.6; the
 * kernels before 6.5 that carried that commit would leave the work to a
 * runnable ksoftirqd instead.
 *
 * The time limit. The kernel writes `end = jiffies + MAX_SOFTIRQ_TIME` with
 * MAX_SOFTIRQ_TIME = msecs_to_jiffies(2), which rounds up to whole ticks: 1
 * jiffy at HZ 100/250/300, 2 at HZ 1000. Since `end` counts ticks, the real
 * limit is "until the next tick" (0..4 ms at HZ 250, wherever in the tick the
 * softirq started). Two clocks:
 *  - HP_SOFTIRQ_CLOCK_NS (default): an exact limit, time_limit_ns after
 *    __do_softirq started (CLOCK_MONOTONIC). What the kernel means.
 *  - HP_SOFTIRQ_CLOCK_JIFFIES: jiffies = CLOCK_MONOTONIC / (1e9 / hz), the
 *    limit rounded up to whole jiffies as msecs_to_jiffies() does, compared
 *    with time_before(): what the kernel does, tick-granular.
 *
 * User-space stand-ins and why:
 *  - Interrupt masking. A thread cannot mask interrupts cheaply (a
 *    sigprocmask is a system call), so masking is soft, as powerpc's lazy
 *    irq masking: local_irq_disable sets a per-CPU flag; an interrupt that
 *    arrives while it is set only leaves its request queued and returns;
 *    local_irq_enable / local_irq_restore (and the thread that next gains
 *    the CPU) replay it. An interrupt request is never lost and never runs
 *    while masked. Hardirq handlers run masked, softirq actions unmasked.
 *  - Hardirqs. Synchronous (hp_softirq_irq): the owning thread calls
 *    irq_enter + handler + irq_exit right there; what benchmarks use to time
 *    raise + dispatch without signal delivery. Asynchronous
 *    (hp_softirq_send_irq): any thread queues (handler, arg) on CPU n's
 *    lock-free bounded queue (the kernel's call_single_queue of IPIs) and,
 *    if the queue was not already kicked, sends a real-time signal (tgkill)
 *    to the thread that owns CPU n, or wakes ksoftirqd/n if nobody does.
 *    The signal handler is hardirq context: irq_enter, every queued
 *    handler, irq_exit, which may run softirqs in the signal handler, as
 *    the kernel runs them on irq exit. Like the IPI, one signal serves every
 *    request queued before it is taken. Nested delivery is allowed
 *    (SA_NODEFER) so a hardirq can interrupt a softirq action, as in the
 *    kernel. The handler stays installed after hp_softirq_destroy (a late
 *    signal finds no owned CPU and returns).
 *  - ksoftirqd. One thread per CPU (optionally pinned to an OS CPU), woken
 *    through a futex. It is a SCHED_NORMAL task of that CPU in the kernel,
 *    so it runs only when it owns the CPU: when no thread is attached, or
 *    when the attached thread reaches a scheduling point
 *    (hp_softirq_cond_resched, and the waits of tasklet_kill /
 *    tasklet_disable / tasklet_unlock_wait), which hands it the CPU and
 *    takes it back after one run_ksoftirqd (one __do_softirq), counting a
 *    switch. A thread that blocks while attached keeps ksoftirqd off its
 *    CPU; detach before blocking.
 *  - need_resched() is a per-CPU flag set by the user (stand-in for the
 *    scheduler's TIF_NEED_RESCHED); cond_resched clears it when it switches.
 *
 * Costs (gcc 12 -O2, x86_64, 2-vCPU KVM guest; instruction counts from
 * callgrind, times from a quick loop, not a benchmark):
 *  - hp_raise_softirq in softirq or hardirq context: ~28 instructions (a TLS
 *    load, the mask save/restore with its replay check, an OR), ~4 ns;
 *    hp_raise_softirq_irqoff ~18.
 *  - hp_softirq_irq with a handler that raises one vector whose action is
 *    empty: ~190 instructions (irq entry/exit ~60, raise ~20, __do_softirq
 *    with one pass ~90, of which the counters are a good part) plus one
 *    vDSO clock_gettime for the time limit; ~37 ns in all. Each further
 *    pass: ~110 instructions (the softirq suite's restart case: 208 per
 *    event at 1 pass, 1198 at 10, the action's own re-raise and a clock
 *    read included), ~29 ns.
 *  - from task context a raise also wakes ksoftirqd: an atomic exchange
 *    and a futex_wake system call, 2-8 us here (only the first raise after
 *    ksoftirqd ran; later ones see it woken). A cond_resched round trip to
 *    ksoftirqd is two futex handoffs: 5 us on one OS CPU, up to 45 us across
 *    two (the idle vCPU's wakeup).
 *  - an asynchronous interrupt costs a tgkill and a signal delivery, a few
 *    microseconds; requests queued before the signal is taken share it.
 *
 * Thread safety. Functions without a sys argument act on the calling
 * thread's CPU and return -EPERM when it owns none (the predicates return
 * false). Those meant for handlers and actions (raise, bh and irq
 * disable/enable, irq_enter/exit, hp_softirq_irq, hp_softirq_send_irq,
 * the predicates, tasklet_schedule) are async-signal-safe: atomics, futex,
 * clock_gettime and tgkill, no malloc, no locks. attach, detach,
 * cond_resched and the tasklet waits (kill, disable, unlock_wait) are for
 * task context only. hp_softirq_send_irq, hp_softirq_set_need_resched,
 * hp_softirq_stats and the tasklet calls are safe from any thread.
 * hp_open_softirq must not race with a raise of the same vector.
 * hp_softirq_destroy is quiescent: no thread attached, no sender running.
 * Under ThreadSanitizer everything is visible to it (atomics and futexes,
 * handlers on the owning thread), but TSan delays asynchronous signals to
 * its own safe points and may hold one back indefinitely; the request
 * then waits in the queue until the next unmask or change of owner.
 *
 * Errors: -EINVAL for bad arguments (NULL, a vector >= HP_NR_SOFTIRQS, a CPU
 * >= ncpus, a bad config field, unbalanced enable/exit), -EPERM when the
 * caller owns no CPU or is in a context where the call is not allowed
 * (said per function), -EBUSY for an ownership conflict, -EAGAIN when an
 * interrupt queue is full, -ENOMEM, and a negated errno from pthreads or
 * sched_setaffinity at create.
 */
#ifndef HP_SOFTIRQ_H
#define HP_SOFTIRQ_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ================================================================== */
/* Constants (Linux 6.6 include/linux/interrupt.h, preempt.h)          */
/* ================================================================== */

enum {
	HP_HI_SOFTIRQ = 0,
	HP_TIMER_SOFTIRQ,
	HP_NET_TX_SOFTIRQ,
	HP_NET_RX_SOFTIRQ,
	HP_BLOCK_SOFTIRQ,
	HP_IRQ_POLL_SOFTIRQ,
	HP_TASKLET_SOFTIRQ,
	HP_SCHED_SOFTIRQ,
	HP_HRTIMER_SOFTIRQ,
	HP_RCU_SOFTIRQ,
	HP_NR_SOFTIRQS              /* 10 */
};

/* preempt_count layout: PREEMPT bits 0-7, SOFTIRQ 8-15, HARDIRQ 16-19, NMI 20-23 */
#define HP_PREEMPT_OFFSET 0x1u
#define HP_SOFTIRQ_OFFSET 0x100u            /* serving a softirq */
#define HP_SOFTIRQ_DISABLE_OFFSET 0x200u    /* one local_bh_disable level */
#define HP_HARDIRQ_OFFSET 0x10000u
#define HP_NMI_OFFSET 0x100000u
#define HP_PREEMPT_MASK 0x000000ffu
#define HP_SOFTIRQ_MASK 0x0000ff00u
#define HP_HARDIRQ_MASK 0x000f0000u
#define HP_NMI_MASK 0x00f00000u

#define HP_MAX_SOFTIRQ_RESTART 10           /* kernel/softirq.c, 6.6 */
#define HP_MAX_SOFTIRQ_TIME_NS 2000000u     /* MAX_SOFTIRQ_TIME: msecs_to_jiffies(2) */
#define HP_SOFTIRQ_MAX_CPUS 256

/* ================================================================== */
/* Types                                                               */
/* ================================================================== */

typedef struct hp_softirq_sys hp_softirq_sys_t;   /* one "machine" */
typedef struct hp_softirq_cpu hp_softirq_cpu_t;   /* one of its CPUs */

/* A softirq action (struct softirq_action's action) and a hardirq
 * handler: both get the CPU they run on and the user's argument. */
typedef void (*hp_softirq_action_t)(hp_softirq_cpu_t *cpu, void *arg);
typedef void (*hp_irq_handler_t)(hp_softirq_cpu_t *cpu, void *arg);

typedef enum {
	HP_SOFTIRQ_CLOCK_NS = 0,        /* exact limit in ns (default) */
	HP_SOFTIRQ_CLOCK_JIFFIES = 1,   /* tick-granular, as the kernel */
} hp_softirq_clock_t;

/* Fill with hp_softirq_config_init(), then change fields. */
typedef struct hp_softirq_config {
	unsigned ncpus;                 /* 1..HP_SOFTIRQ_MAX_CPUS (default 1) */
	int signal;                     /* SIGRTMIN..SIGRTMAX (default SIGRTMIN+6) */
	unsigned max_restart;           /* >= 1 (default 10: MAX_SOFTIRQ_RESTART) */
	uint64_t time_limit_ns;         /* default 2 ms (MAX_SOFTIRQ_TIME) */
	hp_softirq_clock_t clock;       /* default HP_SOFTIRQ_CLOCK_NS */
	unsigned hz;                    /* jiffies clock: 1..10000 (default 250) */
	bool force_irqthreads;          /* irq_exit wakes ksoftirqd (threadirqs) */
	unsigned irq_queue_len;         /* per-CPU irq queue, power of 2, 2..65536
					   (default 256) */
	const int *ksoftirqd_os_cpu;    /* NULL, or ncpus entries: OS CPU to pin
					   ksoftirqd/n to, -1 for none */
} hp_softirq_config_t;

/* Where raised softirqs are dispatched, as a benchmark variant: at
 * irq_exit (6.6's invoke_softirq) or, with force_irqthreads (the
 * threadirqs boot option), in ksoftirqd. One table per mode, defined in
 * softirq.c; set hp_softirq_config_t.force_irqthreads from it. */
typedef struct hp_softirq_mode_ops {
	const char *name;               /* "irq_exit", "threadirqs" */
	bool force_irqthreads;
} hp_softirq_mode_ops_t;

extern const hp_softirq_mode_ops_t hp_softirq_ops_irq_exit, hp_softirq_ops_threadirqs;

/* Per-CPU counters (hp_softirq_stats). Exact when the CPU is quiescent,
 * a recent snapshot while it runs. */
typedef struct hp_softirq_stats {
	uint64_t vec_runs[HP_NR_SOFTIRQS]; /* /proc/softirqs: action invocations */
	uint64_t do_softirq;            /* __do_softirq calls */
	uint64_t passes;                /* walks of the pending mask (1 + restarts) */
	uint64_t restarts;              /* goto restart */
	uint64_t defer_restart;         /* ended with work left: max_restart used up */
	uint64_t defer_time;            /*   ... time limit reached */
	uint64_t defer_resched;         /*   ... need_resched() set */
	uint64_t ksoftirqd_wakeups;     /* wakeup_softirqd() that woke it (0 -> 1) */
	uint64_t ksoftirqd_runs;        /* __do_softirq runs by ksoftirqd */
	uint64_t ksoftirqd_switches;    /* cond_resched handoffs to ksoftirqd */
	uint64_t idle_irq_wakeups;      /* ksoftirqd woken to take irqs of an unowned CPU */
	uint64_t irqs;                  /* hardirq handlers run (sync + async) */
	uint64_t irq_signals;           /* signals sent for this CPU */
	uint64_t irqs_masked;           /* signals that found irqs masked (replayed later) */
	uint64_t irq_replays;           /* irq runs started by unmask/ownership gain */
	uint64_t tasklet_runs;          /* tasklet callbacks run */
	uint64_t tasklet_requeues;      /* locked elsewhere or disabled: re-queued */
	uint64_t preempt_leaks;         /* actions that changed preempt_count (repaired) */
} hp_softirq_stats_t;

/* ================================================================== */
/* Lifecycle                                                           */
/* ================================================================== */

void hp_softirq_config_init(hp_softirq_config_t *cfg);
/* Creates the CPUs and their ksoftirqd threads, registers the tasklet
 * actions (HI and TASKLET, as softirq_init) and installs the signal
 * handler. 0 and *out, or -EINVAL / -ENOMEM / -errno. */
int hp_softirq_create(const hp_softirq_config_t *cfg, hp_softirq_sys_t **out);
/* Stops the ksoftirqd threads and frees everything. Quiescent; -EBUSY if a
 * thread is still attached. Work still pending is dropped. */
int hp_softirq_destroy(hp_softirq_sys_t *sys);
/* Counters of one CPU. -EINVAL on a bad sys/cpu/out. */
int hp_softirq_stats(hp_softirq_sys_t *sys, unsigned cpu, hp_softirq_stats_t *out);
const char *hp_softirq_name(unsigned nr);   /* "HI".."RCU", NULL if bad */

/* open_softirq(): the action of vector nr for every CPU of sys. */
int hp_open_softirq(hp_softirq_sys_t *sys, unsigned nr, hp_softirq_action_t action, void *arg);

/* ================================================================== */
/* CPUs                                                                */
/* ================================================================== */

/* Makes the calling thread the owner of CPU `cpu` (waits while ksoftirqd
 * runs on it), unblocks the irq signal in the thread, and replays
 * interrupts queued meanwhile. -EBUSY if another thread is attached or the
 * caller already owns a CPU. Not from a signal handler. */
int hp_softirq_cpu_attach(hp_softirq_sys_t *sys, unsigned cpu);
/* Gives the CPU back; ksoftirqd/n takes over pending work. -EPERM if no
 * CPU, -EBUSY if preempt_count != 0 or irqs are disabled. */
int hp_softirq_cpu_detach(void);
hp_softirq_cpu_t *hp_softirq_this_cpu(void);   /* NULL if none */
unsigned hp_softirq_cpu_id(const hp_softirq_cpu_t *cpu);
/* cond_resched(): if ksoftirqd of this CPU has been woken, hand it the CPU
 * for one run and take it back. Returns 1 if it switched, 0 if not (also
 * when preempt_count != 0 or irqs are disabled: atomic context), -EPERM. */
int hp_softirq_cond_resched(void);
/* The scheduler's need_resched flag of a CPU; any thread. */
int hp_softirq_set_need_resched(hp_softirq_sys_t *sys, unsigned cpu, bool on);
bool hp_need_resched(void);

/* ================================================================== */
/* Softirqs                                                            */
/* ================================================================== */

/* raise_softirq(): irq save, raise_softirq_irqoff, irq restore. */
int hp_raise_softirq(unsigned nr);
/* raise_softirq_irqoff(): -EPERM unless irqs are disabled (the kernel's
 * lockdep assertion); wakes ksoftirqd when !in_interrupt(). */
int hp_raise_softirq_irqoff(unsigned nr);
/* __raise_softirq_irqoff(): sets the bit only. -EPERM unless irqs are off. */
int hp___raise_softirq_irqoff(unsigned nr);
uint32_t hp_softirq_pending(void);          /* local_softirq_pending() */
/* do_softirq(): run pending softirqs now unless in_interrupt(). */
int hp_do_softirq(void);

/* local_bh_disable(): preempt_count += SOFTIRQ_DISABLE_OFFSET. */
int hp_local_bh_disable(void);
/* local_bh_enable(): on leaving the last level outside interrupt context
 * runs pending softirqs. -EINVAL without a matching disable; -EPERM in
 * hardirq context or with irqs disabled (the kernel WARNs), nothing done. */
int hp_local_bh_enable(void);

/* Interrupt entry/exit stand-ins (irq_enter / irq_exit): enter masks irqs
 * and adds HARDIRQ_OFFSET; exit subtracts it, runs pending softirqs when
 * !in_interrupt() (or wakes ksoftirqd with force_irqthreads), restores the
 * irq state saved by enter and replays queued interrupts. Up to 15
 * nested levels (-EBUSY beyond); -EINVAL for an exit without enter. */
int hp_irq_enter(void);
int hp_irq_exit(void);
/* A hardirq on the caller's CPU: irq_enter, handler(cpu, arg), irq_exit.
 * If irqs are disabled the request is queued and replayed when they are
 * enabled: returns 1 then (-EAGAIN if the queue is full), 0 if it ran. */
int hp_softirq_irq(hp_irq_handler_t handler, void *arg);
/* A hardirq for CPU `cpu` from any thread (also from a handler). Returns 0
 * once queued; the handler runs in hardirq context of that CPU on whichever
 * thread owns it. -EAGAIN if the queue is full (retry later). */
int hp_softirq_send_irq(hp_softirq_sys_t *sys, unsigned cpu, hp_irq_handler_t handler, void *arg);

/* Soft interrupt masking (see the top of this file). save returns the
 * previous state (nonzero: was disabled), or -EPERM without a CPU. */
int hp_local_irq_disable(void);
int hp_local_irq_enable(void);
long hp_local_irq_save(void);
int hp_local_irq_restore(long flags);

uint32_t hp_preempt_count(void);
bool hp_in_interrupt(void);        /* hardirq, softirq or bh-disabled, NMI */
bool hp_in_softirq(void);          /* serving a softirq or bh disabled */
bool hp_in_serving_softirq(void);
bool hp_in_hardirq(void);
bool hp_irqs_disabled(void);

/* ================================================================== */
/* Tasklets (6.6: struct tasklet_struct, kernel/softirq.c)             */
/* ================================================================== */

#define HP_TASKLET_STATE_SCHED 0x1u     /* 1 << TASKLET_STATE_SCHED */
#define HP_TASKLET_STATE_RUN 0x2u       /* 1 << TASKLET_STATE_RUN */

typedef struct hp_tasklet {
	struct hp_tasklet *next;        /* per-CPU list link */
	uint32_t state;                 /* SCHED | RUN (| internal waiter bit) */
	int32_t count;                  /* disable depth; runs only at 0 */
	bool use_callback;
	union {
		void (*func)(unsigned long data);
		void (*callback)(struct hp_tasklet *t);
	};
	unsigned long data;
} hp_tasklet_t;

int hp_tasklet_init(hp_tasklet_t *t, void (*func)(unsigned long), unsigned long data);
int hp_tasklet_setup(hp_tasklet_t *t, void (*callback)(hp_tasklet_t *));
/* Queue on this CPU's list unless already scheduled (TASKLET_STATE_SCHED
 * test-and-set) and raise TASKLET_SOFTIRQ / HI_SOFTIRQ. 0, -EINVAL, -EPERM
 * (no CPU). The tasklet runs once however often it is scheduled before it
 * runs; scheduled while it runs, it runs again; never on two CPUs at once. */
int hp_tasklet_schedule(hp_tasklet_t *t);
int hp_tasklet_hi_schedule(hp_tasklet_t *t);
int hp_tasklet_disable_nosync(hp_tasklet_t *t);
/* disable_nosync + unlock_wait: returns once a running callback is done. */
int hp_tasklet_disable(hp_tasklet_t *t);
int hp_tasklet_enable(hp_tasklet_t *t);     /* -EINVAL if not disabled */
/* Waits until the tasklet is neither scheduled nor running and leaves it
 * unscheduled. -EPERM in interrupt context (the kernel only complains; here
 * it would deadlock). An attached caller cond_rescheds while it waits. */
int hp_tasklet_kill(hp_tasklet_t *t);
int hp_tasklet_unlock_wait(hp_tasklet_t *t);

#ifdef __cplusplus
}
#endif

#endif
