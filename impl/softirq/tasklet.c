/* tasklet.c — impl/softirq: tasklets on per-CPU lists, run by TASKLET_SOFTIRQ and HI_SOFTIRQ (Linux 6.6 kernel/softirq.c). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE     /* CPU_SET, pthread_setaffinity_np, pthread_setname_np */
#endif
#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <time.h>
#include <unistd.h>

#include "hp_futex.h"
#include "softirq_int.h"

/* Not in the kernel's state word: set by a thread sleeping in
 * wait_var_event() stand-ins, so that the hot paths call futex_wake only
 * when somebody waits (the kernel's wake_up_var checks a hashed wait
 * queue instead). */
#define TL_WAITERS 0x80000000u

/* ================================================================== */
/* State bits                                                          */
/* ================================================================== */

static void state_wake(hp_tasklet_t *t, uint32_t old)
{
	if (old & TL_WAITERS)
		hp_futex_wake(&t->state, INT_MAX);
}

/* tasklet_trylock(): test_and_set_bit(TASKLET_STATE_RUN). */
static int tl_trylock(hp_tasklet_t *t)
{
	return !(__atomic_fetch_or(&t->state, HP_TASKLET_STATE_RUN, __ATOMIC_ACQUIRE) &
		 HP_TASKLET_STATE_RUN);
}

/* tasklet_unlock(): clear RUN (release: the callback's writes precede it)
 * and wake_up_var(). */
static void tl_unlock(hp_tasklet_t *t)
{
	state_wake(t, __atomic_fetch_and(&t->state, ~(HP_TASKLET_STATE_RUN | TL_WAITERS),
					 __ATOMIC_SEQ_CST));
}

/* tasklet_clear_sched(): true if SCHED was set (the kernel WARNs if not). */
static int tl_clear_sched(hp_tasklet_t *t)
{
	uint32_t old = __atomic_fetch_and(&t->state, ~(HP_TASKLET_STATE_SCHED | TL_WAITERS),
					  __ATOMIC_SEQ_CST);

	state_wake(t, old);
	return (old & HP_TASKLET_STATE_SCHED) != 0;
}

/* wait_var_event(&t->state, !(state & bits)). An attached caller is the
 * task on its CPU: it lets ksoftirqd run there (the tasklet may sit on
 * this CPU's list) and sleeps at most 1 ms at a time, since a thread
 * asleep while attached keeps ksoftirqd off the CPU. */
static void wait_clear(hp_tasklet_t *t, uint32_t bits)
{
	static const struct timespec ms = { 0, 1000000 };

	for (;;) {
		uint32_t s = __atomic_load_n(&t->state, __ATOMIC_ACQUIRE);
		int attached = hp_softirq_cur_ != NULL;

		if (!(s & bits))
			return;
		if (attached && hp_softirq_cond_resched() > 0)
			continue;
		if (!(s & TL_WAITERS)) {
			if (!__atomic_compare_exchange_n(&t->state, &s, s | TL_WAITERS, false,
							 __ATOMIC_SEQ_CST, __ATOMIC_RELAXED))
				continue;
			s |= TL_WAITERS;
		}
		hp_futex_wait(&t->state, s, attached ? &ms : NULL);
	}
}

/* ================================================================== */
/* Scheduling                                                          */
/* ================================================================== */

int hp_tasklet_init(hp_tasklet_t *t, void (*func)(unsigned long), unsigned long data)
{
	if (!t || !func)
		return -EINVAL;
	t->next = NULL;
	t->state = 0;
	t->count = 0;
	t->use_callback = false;
	t->func = func;
	t->data = data;
	return 0;
}

int hp_tasklet_setup(hp_tasklet_t *t, void (*callback)(hp_tasklet_t *))
{
	if (!t || !callback)
		return -EINVAL;
	t->next = NULL;
	t->state = 0;
	t->count = 0;
	t->use_callback = true;
	t->callback = callback;
	t->data = 0;
	return 0;
}

/* __tasklet_schedule_common(): append at the tail of this CPU's list and
 * raise the vector, irqs off. */
static int schedule_common(hp_tasklet_t *t, int which, unsigned nr)
{
	hp_softirq_cpu_t *c = hp_softirq_cur_;
	tl_head_t *h;
	long flags;

	if (!t)
		return -EINVAL;
	if (!c)
		return -EPERM;
	if (__atomic_fetch_or(&t->state, HP_TASKLET_STATE_SCHED, __ATOMIC_SEQ_CST) &
	    HP_TASKLET_STATE_SCHED)
		return 0;               /* already queued somewhere: runs once */
	flags = hp_local_irq_save();
	h = &c->tl[which];
	t->next = NULL;
	*h->tail = t;
	h->tail = &t->next;
	hp_raise_softirq_irqoff(nr);
	hp_local_irq_restore(flags);
	return 0;
}

int hp_tasklet_schedule(hp_tasklet_t *t)
{
	return schedule_common(t, TL_NORMAL, HP_TASKLET_SOFTIRQ);
}

int hp_tasklet_hi_schedule(hp_tasklet_t *t)
{
	return schedule_common(t, TL_HI, HP_HI_SOFTIRQ);
}

/* ================================================================== */
/* tasklet_action_common()                                             */
/* ================================================================== */

static void action_common(hp_softirq_cpu_t *c, int which, unsigned nr)
{
	tl_head_t *h = &c->tl[which];
	hp_tasklet_t *list;

	hp_local_irq_disable();
	list = h->head;
	h->head = NULL;
	h->tail = &h->head;
	hp_local_irq_enable();

	while (list) {
		hp_tasklet_t *t = list;

		list = list->next;
		if (tl_trylock(t)) {
			if (!__atomic_load_n(&t->count, __ATOMIC_ACQUIRE)) {
				if (tl_clear_sched(t)) {
					BUMP(c->st.tasklet_runs);
					if (t->use_callback)
						t->callback(t);
					else
						t->func(t->data);
				}
				tl_unlock(t);
				continue;
			}
			tl_unlock(t);
		}
		/* Running on another CPU, or disabled: back on our list, and
		 * the vector raised again (no ksoftirqd wakeup: the restart
		 * loop or the deferral takes care of it). */
		hp_local_irq_disable();
		t->next = NULL;
		*h->tail = t;
		h->tail = &t->next;
		hp___raise_softirq_irqoff(nr);
		BUMP(c->st.tasklet_requeues);
		hp_local_irq_enable();
	}
}

void hp_softirq_tasklet_action_(hp_softirq_cpu_t *c, void *arg)
{
	(void)arg;
	action_common(c, TL_NORMAL, HP_TASKLET_SOFTIRQ);
}

void hp_softirq_tasklet_hi_action_(hp_softirq_cpu_t *c, void *arg)
{
	(void)arg;
	action_common(c, TL_HI, HP_HI_SOFTIRQ);
}

/* ================================================================== */
/* Disable, enable, kill                                               */
/* ================================================================== */

int hp_tasklet_disable_nosync(hp_tasklet_t *t)
{
	if (!t)
		return -EINVAL;
	__atomic_fetch_add(&t->count, 1, __ATOMIC_SEQ_CST);
	return 0;
}

int hp_tasklet_unlock_wait(hp_tasklet_t *t)
{
	if (!t)
		return -EINVAL;
	wait_clear(t, HP_TASKLET_STATE_RUN);
	return 0;
}

int hp_tasklet_disable(hp_tasklet_t *t)
{
	if (!t)
		return -EINVAL;
	hp_tasklet_disable_nosync(t);
	hp_tasklet_unlock_wait(t);
	return 0;
}

int hp_tasklet_enable(hp_tasklet_t *t)
{
	int32_t n;

	if (!t)
		return -EINVAL;
	n = __atomic_load_n(&t->count, __ATOMIC_RELAXED);
	do {
		if (n <= 0)
			return -EINVAL;
	} while (!__atomic_compare_exchange_n(&t->count, &n, n - 1, true,
					      __ATOMIC_RELEASE, __ATOMIC_RELAXED));
	return 0;
}

/* tasklet_kill(): take SCHED ourselves once it is free (so that nobody
 * can queue it again meanwhile), wait for a run in progress, drop SCHED. */
int hp_tasklet_kill(hp_tasklet_t *t)
{
	if (!t)
		return -EINVAL;
	if (hp_in_interrupt())
		return -EPERM;
	while (__atomic_fetch_or(&t->state, HP_TASKLET_STATE_SCHED, __ATOMIC_SEQ_CST) &
	       HP_TASKLET_STATE_SCHED)
		wait_clear(t, HP_TASKLET_STATE_SCHED);
	wait_clear(t, HP_TASKLET_STATE_RUN);
	tl_clear_sched(t);
	return 0;
}
