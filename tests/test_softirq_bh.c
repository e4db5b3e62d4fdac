/* test_softirq_bh.c — impl/softirq: local_bh_disable nests; a raise inside runs at the outermost local_bh_enable, not before. */
#include <errno.h>

#include "softirq.h"
#include "t_util.h"

static int runs;
static uint32_t pc_in_action;

static void act(hp_softirq_cpu_t *c, void *arg)
{
	(void)c; (void)arg;
	runs++;
	pc_in_action = hp_preempt_count();
}

static void raise_net(hp_softirq_cpu_t *c, void *arg)
{
	(void)c; (void)arg;
	hp_raise_softirq_irqoff(HP_NET_TX_SOFTIRQ);
}

int main(void)
{
	hp_softirq_config_t cfg;
	hp_softirq_sys_t *sys;
	hp_softirq_stats_t st;

	hp_softirq_config_init(&cfg);
	cfg.time_limit_ns = 10000000000ull;   /* exact counts: no 2 ms deferral if the VM preempts us */
	T_CHECK(hp_softirq_create(&cfg, &sys) == 0);
	hp_open_softirq(sys, HP_NET_TX_SOFTIRQ, act, NULL);
	T_CHECK(hp_softirq_cpu_attach(sys, 0) == 0);

	/* raise in task context with bh disabled twice */
	T_CHECK(hp_local_bh_disable() == 0);
	T_CHECK(hp_local_bh_disable() == 0);
	T_CHECK(hp_preempt_count() == 2 * HP_SOFTIRQ_DISABLE_OFFSET);
	T_CHECK(hp_raise_softirq(HP_NET_TX_SOFTIRQ) == 0);
	T_CHECK(runs == 0 && hp_softirq_pending() == 1u << HP_NET_TX_SOFTIRQ);
	T_CHECK(hp_local_bh_enable() == 0);
	T_CHECK(runs == 0);                     /* inner enable: still disabled */
	T_CHECK(hp_preempt_count() == HP_SOFTIRQ_DISABLE_OFFSET);
	/* a hardirq meanwhile: irq_exit sees in_interrupt() (bh off) and leaves it */
	T_CHECK(hp_softirq_irq(raise_net, NULL) == 0);
	T_CHECK(runs == 0);
	T_CHECK(hp_local_bh_enable() == 0);
	T_CHECK(runs == 1);                     /* both raises: one pending bit, one run */
	/* __local_bh_enable_ip keeps preempt disabled (+1) while it runs them */
	T_CHECK_MSG(pc_in_action == HP_SOFTIRQ_OFFSET + 1, "pc %#x", pc_in_action);
	T_CHECK(hp_preempt_count() == 0 && hp_softirq_pending() == 0);
	hp_softirq_stats(sys, 0, &st);
	/* in_interrupt() (bh disabled) at the raise: ksoftirqd not woken */
	T_CHECK(st.ksoftirqd_wakeups == 0 && st.do_softirq == 1 && st.ksoftirqd_runs == 0);
	T_CHECK(hp_softirq_cond_resched() == 0);

	/* local_bh_enable with nothing pending runs nothing */
	hp_local_bh_disable();
	hp_local_bh_enable();
	hp_softirq_stats(sys, 0, &st);
	T_CHECK(st.do_softirq == 1 && runs == 1);

	/* do_softirq() does nothing inside a bh-disabled section */
	hp_local_bh_disable();
	hp_raise_softirq(HP_NET_TX_SOFTIRQ);
	T_CHECK(hp_do_softirq() == 0 && runs == 1);
	hp_local_bh_enable();
	T_CHECK(runs == 2);

	T_CHECK(hp_softirq_cpu_detach() == 0);
	T_CHECK(hp_softirq_destroy(sys) == 0);
	return t_done("softirq_bh");
}
