/* test_softirq_dispatch.c — impl/softirq: bits run low to high, once per pass, raises from an action restart the same __do_softirq, exact counts. */
#include <errno.h>

#include "softirq.h"
#include "t_util.h"

static int log_[64], nlog;
static int self_raised;
static int ctx_ok = 1;

static void act(hp_softirq_cpu_t *c, void *arg)
{
	int nr = (int)(long)arg;

	(void)c;
	if (nlog < 64)
		log_[nlog++] = nr;
	/* softirq context: serving, irqs on, not hardirq (from irq_exit) */
	if (hp_preempt_count() != HP_SOFTIRQ_OFFSET || !hp_in_serving_softirq() ||
	    hp_in_hardirq() || hp_irqs_disabled())
		ctx_ok = 0;
	if (nr == 3 && !self_raised) {
		self_raised = 1;
		hp_raise_softirq(3);    /* pending again: must wait for pass 2 */
	}
	if (nr == 5) {
		hp_raise_softirq(7);    /* higher than 5 but not in this pass */
		hp_raise_softirq(2);
	}
}

static void raise_set(hp_softirq_cpu_t *c, void *arg)
{
	unsigned mask = (unsigned)(long)arg;

	(void)c;
	for (int nr = 9; nr >= 0; nr--)        /* raise high to low */
		if (mask & (1u << nr))
			T_CHECK(hp_raise_softirq_irqoff((unsigned)nr) == 0);
}

int main(void)
{
	hp_softirq_config_t cfg;
	hp_softirq_sys_t *sys;
	hp_softirq_stats_t st;

	hp_softirq_config_init(&cfg);
	cfg.time_limit_ns = 10000000000ull;   /* exact counts: no 2 ms deferral if the VM preempts us */
	T_CHECK(hp_softirq_create(&cfg, &sys) == 0);
	for (long nr = 1; nr < HP_NR_SOFTIRQS; nr++)
		if (nr != HP_TASKLET_SOFTIRQ)
			hp_open_softirq(sys, (unsigned)nr, act, (void *)nr);
	T_CHECK(hp_softirq_cpu_attach(sys, 0) == 0);

	/* one pass, low to high; raised 8,4,2,1 in that order */
	self_raised = 1;
	T_CHECK(hp_softirq_irq(raise_set, (void *)(long)((1 << 8) | (1 << 4) | (1 << 2) | (1 << 1))) == 0);
	T_CHECK(nlog == 4);
	T_CHECK(log_[0] == 1 && log_[1] == 2 && log_[2] == 4 && log_[3] == 8);
	hp_softirq_stats(sys, 0, &st);
	T_CHECK(st.do_softirq == 1 && st.passes == 1 && st.restarts == 0);
	T_CHECK(st.vec_runs[1] == 1 && st.vec_runs[2] == 1 && st.vec_runs[4] == 1 && st.vec_runs[8] == 1);
	T_CHECK(st.vec_runs[3] == 0 && st.ksoftirqd_wakeups == 0 && st.irqs == 1);

	/* raises from actions: 3 re-raises itself, 5 raises 7 and 2. Pass 1
	 * runs the snapshot {3,5}; pass 2 {2,3,7}, low to high. */
	nlog = 0;
	self_raised = 0;
	T_CHECK(hp_softirq_irq(raise_set, (void *)(long)((1 << 3) | (1 << 5))) == 0);
	T_CHECK_MSG(nlog == 5, "nlog %d", nlog);
	T_CHECK(log_[0] == 3 && log_[1] == 5 && log_[2] == 2 && log_[3] == 3 && log_[4] == 7);
	hp_softirq_stats(sys, 0, &st);
	T_CHECK(st.do_softirq == 2 && st.passes == 3 && st.restarts == 1);
	T_CHECK(st.vec_runs[3] == 2 && st.vec_runs[5] == 1 && st.vec_runs[7] == 1 && st.vec_runs[2] == 2);
	/* raised in interrupt context: no ksoftirqd involved, nothing deferred */
	T_CHECK(st.ksoftirqd_wakeups == 0 && st.ksoftirqd_runs == 0);
	T_CHECK(st.defer_restart + st.defer_time + st.defer_resched == 0);
	T_CHECK(hp_softirq_pending() == 0 && hp_preempt_count() == 0);
	T_CHECK(ctx_ok);

	/* 200 rounds of a random-ish mask: each set bit runs exactly once */
	uint64_t before[HP_NR_SOFTIRQS], expect[HP_NR_SOFTIRQS] = { 0 };
	hp_softirq_stats(sys, 0, &st);
	for (int i = 0; i < HP_NR_SOFTIRQS; i++)
		before[i] = st.vec_runs[i];
	uint32_t x = 12345;
	self_raised = 1;
	for (int r = 0; r < 200; r++) {
		x = x * 1103515245u + 12345u;
		unsigned mask = (x >> 8) & 0x39e;  /* vectors 1,2,3,4,7,8,9 (not 5: it raises) */
		nlog = 0;
		hp_softirq_irq(raise_set, (void *)(long)mask);
		int k = 0, ok = 1;
		for (int nr = 0; nr < HP_NR_SOFTIRQS; nr++)
			if (mask & (1u << nr)) {
				expect[nr]++;
				if (k >= nlog || log_[k++] != nr)
					ok = 0;
			}
		T_CHECK_MSG(ok && k == nlog, "round %d mask %#x", r, mask);
	}
	hp_softirq_stats(sys, 0, &st);
	for (int nr = 0; nr < HP_NR_SOFTIRQS; nr++)
		T_CHECK_MSG(st.vec_runs[nr] - before[nr] == expect[nr], "vec %d", nr);

	T_CHECK(hp_softirq_cpu_detach() == 0);
	T_CHECK(hp_softirq_destroy(sys) == 0);
	return t_done("softirq_dispatch");
}
