/* test_softirq_api.c — impl/softirq: config validation, error returns, preempt_count layout and names. */
#include <errno.h>
#include <signal.h>

#include "softirq.h"
#include "t_util.h"

static void nop_handler(hp_softirq_cpu_t *c, void *arg) { (void)c; (void)arg; }

int main(void)
{
	hp_softirq_config_t cfg;
	hp_softirq_sys_t *sys = NULL;
	hp_softirq_stats_t st;
	int bad_cpu[1] = { -2 };

	/* kernel numbering and names (include/linux/interrupt.h) */
	T_CHECK(HP_NR_SOFTIRQS == 10 && HP_TASKLET_SOFTIRQ == 6 && HP_RCU_SOFTIRQ == 9);
	T_CHECK_STR(hp_softirq_name(HP_HI_SOFTIRQ), "HI");
	T_CHECK_STR(hp_softirq_name(HP_NET_RX_SOFTIRQ), "NET_RX");
	T_CHECK_STR(hp_softirq_name(HP_RCU_SOFTIRQ), "RCU");
	T_CHECK(hp_softirq_name(HP_NR_SOFTIRQS) == NULL);

	/* bad configs */
	hp_softirq_config_init(&cfg);
	T_CHECK(cfg.max_restart == 10 && cfg.time_limit_ns == 2000000 && cfg.ncpus == 1);
	T_CHECK(hp_softirq_create(NULL, &sys) == -EINVAL);
	T_CHECK(hp_softirq_create(&cfg, NULL) == -EINVAL);
	cfg.ncpus = 0; T_CHECK(hp_softirq_create(&cfg, &sys) == -EINVAL); cfg.ncpus = 1;
	cfg.signal = SIGUSR1; T_CHECK(hp_softirq_create(&cfg, &sys) == -EINVAL); cfg.signal = SIGRTMIN + 6;
	cfg.max_restart = 0; T_CHECK(hp_softirq_create(&cfg, &sys) == -EINVAL); cfg.max_restart = 10;
	cfg.irq_queue_len = 100; T_CHECK(hp_softirq_create(&cfg, &sys) == -EINVAL); cfg.irq_queue_len = 256;
	cfg.hz = 0; T_CHECK(hp_softirq_create(&cfg, &sys) == -EINVAL); cfg.hz = 250;
	cfg.clock = 7; T_CHECK(hp_softirq_create(&cfg, &sys) == -EINVAL); cfg.clock = HP_SOFTIRQ_CLOCK_NS;
	cfg.ksoftirqd_os_cpu = bad_cpu; T_CHECK(hp_softirq_create(&cfg, &sys) == -EINVAL);
	cfg.ksoftirqd_os_cpu = NULL;

	cfg.ncpus = 2;
	T_CHECK(hp_softirq_create(&cfg, &sys) == 0);
	if (!sys)
		return t_done("softirq_api");

	/* no CPU owned */
	T_CHECK(hp_raise_softirq(HP_TIMER_SOFTIRQ) == -EPERM);
	T_CHECK(hp_local_bh_disable() == -EPERM);
	T_CHECK(hp_softirq_irq(nop_handler, NULL) == -EPERM);
	T_CHECK(hp_softirq_cpu_detach() == -EPERM);
	T_CHECK(hp_softirq_cond_resched() == -EPERM);
	T_CHECK(!hp_in_interrupt() && hp_preempt_count() == 0 && hp_softirq_this_cpu() == NULL);

	/* bad arguments */
	T_CHECK(hp_open_softirq(sys, HP_NR_SOFTIRQS, NULL, NULL) == -EINVAL);
	T_CHECK(hp_softirq_cpu_attach(sys, 2) == -EINVAL);
	T_CHECK(hp_softirq_send_irq(sys, 2, nop_handler, NULL) == -EINVAL);
	T_CHECK(hp_softirq_send_irq(sys, 0, NULL, NULL) == -EINVAL);
	T_CHECK(hp_softirq_stats(sys, 2, &st) == -EINVAL);
	T_CHECK(hp_softirq_set_need_resched(sys, 2, true) == -EINVAL);

	T_CHECK(hp_softirq_cpu_attach(sys, 0) == 0);
	T_CHECK(hp_softirq_cpu_id(hp_softirq_this_cpu()) == 0);
	T_CHECK(hp_softirq_cpu_attach(sys, 1) == -EBUSY);   /* one CPU per thread */
	T_CHECK(hp_raise_softirq(HP_NR_SOFTIRQS) == -EINVAL);
	T_CHECK(hp_raise_softirq_irqoff(HP_TIMER_SOFTIRQ) == -EPERM); /* irqs on */
	T_CHECK(hp_local_bh_enable() == -EINVAL);                     /* unbalanced */
	T_CHECK(hp_irq_exit() == -EINVAL);

	/* preempt_count layout (include/linux/preempt.h) */
	T_CHECK(hp_local_bh_disable() == 0);
	T_CHECK(hp_preempt_count() == 0x200 && hp_in_softirq() && !hp_in_serving_softirq());
	T_CHECK(hp_in_interrupt() && !hp_in_hardirq());
	T_CHECK(hp_irq_enter() == 0);
	T_CHECK(hp_preempt_count() == 0x10200 && hp_in_hardirq() && hp_irqs_disabled());
	T_CHECK(hp_local_bh_enable() == -EPERM);                      /* in hardirq */
	T_CHECK(hp_irq_exit() == 0);
	T_CHECK(!hp_irqs_disabled());
	T_CHECK(hp_local_irq_disable() == 0);
	T_CHECK(hp_local_bh_enable() == -EPERM);                      /* irqs off */
	T_CHECK(hp_softirq_cpu_detach() == -EBUSY);
	T_CHECK(hp_local_irq_enable() == 0);
	T_CHECK(hp_softirq_cpu_detach() == -EBUSY);                   /* bh still off */
	T_CHECK(hp_local_bh_enable() == 0);
	T_CHECK(hp_preempt_count() == 0);
	for (int i = 0; i < 15; i++)
		T_CHECK(hp_irq_enter() == 0);
	T_CHECK(hp_irq_enter() == -EBUSY);                            /* HARDIRQ_BITS 4 */
	for (int i = 0; i < 15; i++)
		T_CHECK(hp_irq_exit() == 0);
	T_CHECK(hp_preempt_count() == 0 && !hp_irqs_disabled());
	/* save/restore nest */
	long f1 = hp_local_irq_save(), f2 = hp_local_irq_save();
	T_CHECK(f1 == 0 && f2 == 1 && hp_irqs_disabled());
	hp_local_irq_restore(f2);
	T_CHECK(hp_irqs_disabled());
	hp_local_irq_restore(f1);
	T_CHECK(!hp_irqs_disabled());

	T_CHECK(hp_softirq_destroy(sys) == -EBUSY);                   /* still attached */
	T_CHECK(hp_softirq_cpu_detach() == 0);
	T_CHECK(hp_softirq_destroy(sys) == 0);
	T_CHECK(hp_softirq_destroy(NULL) == -EINVAL);
	return t_done("softirq_api");
}
