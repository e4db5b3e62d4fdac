/* softirq_int.h — impl/softirq internals shared by softirq.c and tasklet.c (not installed). */
#ifndef HP_SOFTIRQ_INT_H
#define HP_SOFTIRQ_INT_H

#include <pthread.h>
#include <stdint.h>

#include "softirq.h"

#define LD(p) __atomic_load_n(&(p), __ATOMIC_RELAXED)
#define ST(p, v) __atomic_store_n(&(p), (v), __ATOMIC_RELAXED)
/* Single-writer counter bump: the owner of the CPU is the only writer
 * (and never from a nested context), so a load and a store suffice; other
 * threads read it with LD. */
#define BUMP(p) ST(p, LD(p) + 1)
#define ADD(p) ((void)__atomic_fetch_add(&(p), 1, __ATOMIC_RELAXED))
/* Keeps the compiler from moving per-CPU accesses across a mask change: the
 * only other party is a signal handler on this thread. */
#define SIGFENCE() __atomic_signal_fence(__ATOMIC_SEQ_CST)

#define IE __attribute__((tls_model("initial-exec")))

/* One queued hardirq request: a cell of a bounded MPMC ring (sequence
 * numbers per cell, used here with one consumer: the CPU's owner). */
typedef struct irq_cell {
	uint64_t seq;
	hp_irq_handler_t fn;
	void *arg;
} irq_cell_t;

/* tasklet_vec / tasklet_hi_vec: a singly linked list with a tail pointer. */
typedef struct tl_head {
	hp_tasklet_t *head;
	hp_tasklet_t **tail;
} tl_head_t;

enum { TL_NORMAL = 0, TL_HI = 1 };

/* One CPU (kernel: the per-CPU irq_stat, softirq pending word, preempt
 * count, tasklet lists, ksoftirqd pointer and kstat softirq counts). */
struct hp_softirq_cpu {
	/* Owner-only: the thread that owns the CPU and its signal handler.
	 * Passed between owners by the acquire/release on `owner`. */
	uint32_t preempt_count;
	uint32_t pending;               /* local_softirq_pending() */
	uint32_t irqs_off;              /* soft irq mask */
	uint32_t irq_prev;              /* bit d: irqs were off at irq_enter depth d */
	uint64_t irq_deq;               /* irq ring consumer position */
	tl_head_t tl[2];
	hp_softirq_sys_t *sys;
	unsigned id;
	hp_softirq_stats_t st;          /* owner writes, anyone reads (relaxed) */

	/* Shared with other threads. */
	uint32_t owner __attribute__((aligned(64))); /* tid running on it, 0 free */
	uint32_t attached;              /* tid of the attached thread, 0 none */
	uint32_t ksd_wake;              /* ksoftirqd woken, not yet run */
	uint32_t need_resched;
	uint32_t kick;                  /* irq requests queued, not yet taken */
	uint32_t ksd_tid;
	uint64_t irq_enq __attribute__((aligned(64))); /* producers' position */
	irq_cell_t *cells;
	uint64_t qmask;
	pthread_t ksd_thread;
	int ksd_started;
};

struct hp_softirq_sys {
	hp_softirq_config_t cfg;
	uint64_t tick_ns;               /* jiffies clock: 1e9 / hz */
	uint64_t limit_jiffies;         /* msecs_to_jiffies(time limit) */
	struct {
		hp_softirq_action_t fn;
		void *arg;
	} vec[HP_NR_SOFTIRQS];          /* softirq_vec[] */
	uint32_t stop;
	hp_softirq_cpu_t *cpus;
};

extern __thread hp_softirq_cpu_t *hp_softirq_cur_ IE;

void hp_softirq_tasklet_action_(hp_softirq_cpu_t *c, void *arg);
void hp_softirq_tasklet_hi_action_(hp_softirq_cpu_t *c, void *arg);

#endif
