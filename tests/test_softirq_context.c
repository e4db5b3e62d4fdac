/* test_softirq_context.c — impl/softirq: where a raised softirq runs: ksoftirqd from task context, irq_exit from hardirq, never nested in itself. */
#include <errno.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "softirq.h"
#include "t_util.h"

static int runs_a, runs_c, in_b, nested_bad;
static long tid_a;
static uint32_t pc_nested_irq;

static long gettid_(void) { return syscall(SYS_gettid); }

static void act_a(hp_softirq_cpu_t *c, void *arg)
{
	(void)c; (void)arg;
	__atomic_fetch_add(&runs_a, 1, __ATOMIC_RELEASE);
	__atomic_store_n(&tid_a, gettid_(), __ATOMIC_RELEASE);
}

static void raise_a(hp_softirq_cpu_t *c, void *arg)
{
	(void)c; (void)arg;
	hp_raise_softirq_irqoff(HP_TIMER_SOFTIRQ);
}

static void raise_c(hp_softirq_cpu_t *c, void *arg)
{
	(void)c; (void)arg;
	pc_nested_irq = hp_preempt_count();
	hp_raise_softirq_irqoff(HP_SCHED_SOFTIRQ);
}

/* BLOCK: takes an interrupt whose handler raises SCHED */
static void act_b(hp_softirq_cpu_t *c, void *arg)
{
	(void)c; (void)arg;
	in_b = 1;
	T_CHECK(hp_softirq_irq(raise_c, NULL) == 0);
	in_b = 0;
}

static void act_c(hp_softirq_cpu_t *c, void *arg)
{
	(void)c; (void)arg;
	runs_c++;
	if (in_b)
		nested_bad = 1;
}

int main(void)
{
	hp_softirq_config_t cfg;
	hp_softirq_sys_t *sys;
	hp_softirq_stats_t st;
	long me = gettid_();

	hp_softirq_config_init(&cfg);
	cfg.time_limit_ns = 10000000000ull;   /* exact counts: no 2 ms deferral if the VM preempts us */
	T_CHECK(hp_softirq_create(&cfg, &sys) == 0);
	hp_open_softirq(sys, HP_TIMER_SOFTIRQ, act_a, NULL);
	hp_open_softirq(sys, HP_BLOCK_SOFTIRQ, act_b, NULL);
	hp_open_softirq(sys, HP_SCHED_SOFTIRQ, act_c, NULL);
	T_CHECK(hp_softirq_cpu_attach(sys, 0) == 0);

	/* task context: the raise wakes ksoftirqd, which cannot run while
	 * we hold the CPU; it runs at our scheduling point */
	T_CHECK(!hp_in_interrupt());
	T_CHECK(hp_raise_softirq(HP_TIMER_SOFTIRQ) == 0);
	hp_softirq_stats(sys, 0, &st);
	T_CHECK(st.ksoftirqd_wakeups == 1);
	usleep(20000);
	T_CHECK(__atomic_load_n(&runs_a, __ATOMIC_ACQUIRE) == 0);
	T_CHECK(hp_softirq_cond_resched() == 1);
	T_CHECK(runs_a == 1 && tid_a != me);
	hp_softirq_stats(sys, 0, &st);
	T_CHECK(st.ksoftirqd_runs == 1 && st.ksoftirqd_switches == 1);

	/* ... or when the CPU is free */
	T_CHECK(hp_raise_softirq(HP_TIMER_SOFTIRQ) == 0);
	T_CHECK(hp_softirq_cpu_detach() == 0);
	T_CHECK(t_wait_at_least(&runs_a, 2));
	T_CHECK(__atomic_load_n(&tid_a, __ATOMIC_ACQUIRE) != me);
	T_CHECK(hp_softirq_cpu_attach(sys, 0) == 0);
	hp_softirq_stats(sys, 0, &st);
	T_CHECK_MSG(st.ksoftirqd_runs == 2 && st.ksoftirqd_wakeups == 2, "runs %llu wakeups %llu", (unsigned long long)st.ksoftirqd_runs, (unsigned long long)st.ksoftirqd_wakeups);

	/* hardirq context: runs at irq_exit on this thread, no ksoftirqd */
	T_CHECK(hp_softirq_irq(raise_a, NULL) == 0);
	T_CHECK(runs_a == 3 && tid_a == me);
	/* the same through explicit irq_enter / irq_exit */
	T_CHECK(hp_irq_enter() == 0);
	T_CHECK(hp_in_hardirq() && hp_in_interrupt());
	T_CHECK(hp_raise_softirq(HP_TIMER_SOFTIRQ) == 0);
	T_CHECK(runs_a == 3);
	T_CHECK(hp_irq_exit() == 0);
	T_CHECK(runs_a == 4 && tid_a == me);
	hp_softirq_stats(sys, 0, &st);
	T_CHECK(st.ksoftirqd_wakeups == 2 && st.ksoftirqd_runs == 2);
	T_CHECK(hp_softirq_cond_resched() == 0);

	/* irq_exit inside a softirq: in_interrupt(), so no nested
	 * __do_softirq; the raised vector runs in the next pass */
	T_CHECK(hp_local_bh_disable() == 0);
	hp_raise_softirq(HP_BLOCK_SOFTIRQ);
	hp_local_bh_enable();
	hp_softirq_stats(sys, 0, &st);
	T_CHECK(runs_c == 1 && !nested_bad);
	T_CHECK(pc_nested_irq == HP_HARDIRQ_OFFSET + HP_SOFTIRQ_OFFSET + 1);
	T_CHECK(st.vec_runs[HP_BLOCK_SOFTIRQ] == 1 && st.vec_runs[HP_SCHED_SOFTIRQ] == 1);
	T_CHECK(st.do_softirq == 5);   /* 2 by ksoftirqd, 2 irq_exits, this one */
	T_CHECK(st.ksoftirqd_wakeups == 2);
	T_CHECK(hp_softirq_cpu_detach() == 0);
	T_CHECK(hp_softirq_destroy(sys) == 0);

	/* force_irqthreads: irq_exit leaves softirqs to ksoftirqd */
	hp_softirq_config_init(&cfg);
	cfg.time_limit_ns = 10000000000ull;   /* exact counts: no 2 ms deferral if the VM preempts us */
	cfg.force_irqthreads = true;
	T_CHECK(hp_softirq_create(&cfg, &sys) == 0);
	hp_open_softirq(sys, HP_TIMER_SOFTIRQ, act_a, NULL);
	T_CHECK(hp_softirq_cpu_attach(sys, 0) == 0);
	runs_a = 0;
	T_CHECK(hp_softirq_irq(raise_a, NULL) == 0);
	T_CHECK(runs_a == 0);
	hp_softirq_stats(sys, 0, &st);
	T_CHECK(st.ksoftirqd_wakeups == 1 && st.do_softirq == 0);
	T_CHECK(hp_softirq_cond_resched() == 1);
	T_CHECK(runs_a == 1 && tid_a != me);
	T_CHECK(hp_softirq_cpu_detach() == 0);
	T_CHECK(hp_softirq_destroy(sys) == 0);
	return t_done("softirq_context");
}
