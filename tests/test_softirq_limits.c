/* test_softirq_limits.c — impl/softirq: MAX_SOFTIRQ_RESTART, the 2 ms limit (ns and jiffies clocks) and need_resched end __do_softirq and defer to ksoftirqd. */
#include <errno.h>
#include <time.h>

#include "hp_time.h"
#include "softirq.h"
#include "t_util.h"

static int runs, stop_at;
static int spin_us;

/* TIMER action: busy for spin_us, then raise itself again until stop_at */
static void self_raise(hp_softirq_cpu_t *c, void *arg)
{
	(void)c; (void)arg;
	runs++;
	if (spin_us) {
		uint64_t end = hp_now_ns() + (uint64_t)spin_us * 1000;
		while (hp_now_ns() < end)
			;
	}
	if (runs < stop_at)
		hp_raise_softirq(HP_TIMER_SOFTIRQ);
}

static void kick(hp_softirq_cpu_t *c, void *arg)
{
	(void)c; (void)arg;
	hp_raise_softirq_irqoff(HP_TIMER_SOFTIRQ);
}

static hp_softirq_sys_t *mk(hp_softirq_config_t *cfg)
{
	hp_softirq_sys_t *sys = NULL;

	T_CHECK(hp_softirq_create(cfg, &sys) == 0);
	hp_open_softirq(sys, HP_TIMER_SOFTIRQ, self_raise, NULL);
	T_CHECK(hp_softirq_cpu_attach(sys, 0) == 0);
	runs = 0;
	return sys;
}

static void done(hp_softirq_sys_t *sys)
{
	T_CHECK(hp_softirq_cpu_detach() == 0);
	T_CHECK(hp_softirq_destroy(sys) == 0);
}

int main(void)
{
	hp_softirq_config_t cfg;
	hp_softirq_sys_t *sys;
	hp_softirq_stats_t st;

	/* restart limit: 10 passes, then ksoftirqd; it runs 10 more per run.
	 * The time limit is set out of reach in the cases that count exact
	 * passes: a VM that preempts us for 2 ms would end them early. */
	hp_softirq_config_init(&cfg);
	cfg.time_limit_ns = 10000000000ull;
	sys = mk(&cfg);
	stop_at = 25;
	spin_us = 0;
	T_CHECK(hp_softirq_irq(kick, NULL) == 0);
	hp_softirq_stats(sys, 0, &st);
	T_CHECK_MSG(runs == 10, "runs %d", runs);
	T_CHECK(st.passes == 10 && st.restarts == 9 && st.defer_restart == 1);
	T_CHECK(st.defer_time == 0 && st.defer_resched == 0);
	T_CHECK(st.ksoftirqd_wakeups == 1 && st.ksoftirqd_runs == 0);
	T_CHECK(hp_softirq_pending() == 1u << HP_TIMER_SOFTIRQ);
	/* ksoftirqd waits for the CPU: the owner's scheduling point */
	T_CHECK(hp_softirq_cond_resched() == 1);
	hp_softirq_stats(sys, 0, &st);
	T_CHECK_MSG(runs == 20, "runs %d", runs);
	T_CHECK(st.ksoftirqd_runs == 1 && st.defer_restart == 2 && st.ksoftirqd_switches == 1);
	T_CHECK(hp_softirq_cond_resched() == 1);
	hp_softirq_stats(sys, 0, &st);
	T_CHECK_MSG(runs == 25, "runs %d", runs);
	T_CHECK(st.ksoftirqd_runs == 2 && st.defer_restart == 2 && st.passes == 25);
	T_CHECK(st.vec_runs[HP_TIMER_SOFTIRQ] == 25 && st.do_softirq == 3);
	T_CHECK(hp_softirq_cond_resched() == 0);          /* nothing left */
	T_CHECK(hp_softirq_pending() == 0);
	done(sys);

	/* a smaller configured limit */
	hp_softirq_config_init(&cfg);
	cfg.max_restart = 3;
	cfg.time_limit_ns = 10000000000ull;
	sys = mk(&cfg);
	stop_at = 5;
	hp_softirq_irq(kick, NULL);
	hp_softirq_stats(sys, 0, &st);
	T_CHECK(runs == 3 && st.passes == 3 && st.defer_restart == 1);
	hp_softirq_cond_resched();
	T_CHECK(runs == 5);
	done(sys);

	/* time limit, exact clock: each pass takes >= 0.5 ms, so 2 ms are
	 * used up after at most 4 passes, long before 10 */
	hp_softirq_config_init(&cfg);
	sys = mk(&cfg);
	stop_at = 1000000;
	spin_us = 500;
	hp_softirq_irq(kick, NULL);
	hp_softirq_stats(sys, 0, &st);
	T_CHECK_MSG(st.defer_time == 1 && st.defer_restart == 0, "time %llu restart %llu",
		    (unsigned long long)st.defer_time, (unsigned long long)st.defer_restart);
	T_CHECK_MSG(st.passes >= 1 && st.passes <= 4, "passes %llu", (unsigned long long)st.passes);
	T_CHECK(st.ksoftirqd_wakeups == 1);
	stop_at = 0;                                      /* next run ends it */
	T_CHECK(hp_softirq_cond_resched() == 1);
	T_CHECK(hp_softirq_pending() == 0);
	done(sys);

	/* time limit, jiffies clock at HZ 250: msecs_to_jiffies(2) = 1, the
	 * limit is the next tick (<= 4 ms): at most 8 passes of 0.5 ms */
	hp_softirq_config_init(&cfg);
	cfg.clock = HP_SOFTIRQ_CLOCK_JIFFIES;
	cfg.hz = 250;
	sys = mk(&cfg);
	stop_at = 1000000;
	spin_us = 500;
	hp_softirq_irq(kick, NULL);
	hp_softirq_stats(sys, 0, &st);
	T_CHECK(st.defer_time == 1 && st.defer_restart == 0);
	T_CHECK_MSG(st.passes >= 1 && st.passes <= 8, "passes %llu", (unsigned long long)st.passes);
	stop_at = 0;
	hp_softirq_cond_resched();
	done(sys);

	/* a zero limit ends after the first pass on either clock */
	for (int clk = 0; clk < 2; clk++) {
		hp_softirq_config_init(&cfg);
		cfg.clock = clk ? HP_SOFTIRQ_CLOCK_JIFFIES : HP_SOFTIRQ_CLOCK_NS;
		cfg.time_limit_ns = 0;
		sys = mk(&cfg);
		stop_at = 3;
		spin_us = 0;
		hp_softirq_irq(kick, NULL);
		hp_softirq_stats(sys, 0, &st);
		T_CHECK(runs == 1 && st.passes == 1 && st.defer_time == 1);
		hp_softirq_cond_resched();
		T_CHECK(runs == 2);
		hp_softirq_cond_resched();
		T_CHECK(runs == 3);
		done(sys);
	}

	/* need_resched: deferral after the first pass; cond_resched clears it */
	hp_softirq_config_init(&cfg);
	cfg.time_limit_ns = 10000000000ull;
	sys = mk(&cfg);
	stop_at = 3;
	spin_us = 0;
	T_CHECK(hp_softirq_set_need_resched(sys, 0, true) == 0);
	T_CHECK(hp_need_resched());
	hp_softirq_irq(kick, NULL);
	hp_softirq_stats(sys, 0, &st);
	T_CHECK(runs == 1 && st.passes == 1 && st.defer_resched == 1 && st.defer_restart == 0);
	T_CHECK(hp_softirq_cond_resched() == 1);
	T_CHECK(!hp_need_resched());
	T_CHECK(runs == 3);                               /* ksoftirqd: flag now clear */
	done(sys);
	return t_done("softirq_limits");
}
