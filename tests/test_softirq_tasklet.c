/* test_softirq_tasklet.c — impl/softirq: tasklet semantics on one CPU: SCHED dedup, rescheduled while running, disable/enable, HI before normal, kill. */
#include <errno.h>
#include <unistd.h>

#include "softirq.h"
#include "t_util.h"

static hp_softirq_sys_t *sys;
static int runs, resched_once, order[8], norder;
static unsigned long seen_data;
static int kill_ret = 1;

static void cb(hp_tasklet_t *t)
{
	runs++;
	if (resched_once) {
		resched_once = 0;
		/* SCHED is clear while it runs: this queues it again */
		T_CHECK(hp_tasklet_schedule(t) == 0);
	}
}

static void cb_hi(hp_tasklet_t *t) { (void)t; order[norder++] = 'H'; }
static void cb_lo(hp_tasklet_t *t) { (void)t; order[norder++] = 'N'; }
static void old_style(unsigned long data) { seen_data = data; }

static hp_tasklet_t victim;
static void cb_kill(hp_tasklet_t *t)
{
	(void)t;
	kill_ret = hp_tasklet_kill(&victim);   /* in softirq context: refused */
}

static void bh_section_schedule(hp_tasklet_t *t, int times)
{
	hp_local_bh_disable();
	for (int i = 0; i < times; i++)
		T_CHECK(hp_tasklet_schedule(t) == 0);
	hp_local_bh_enable();
}

int main(void)
{
	hp_softirq_config_t cfg;
	hp_softirq_stats_t st;
	hp_tasklet_t t, th, tn, to, tk;
	alarm(10);      /* a tasklet queued twice links to itself and tasklet_action
			 * loops forever: fail (SIGALRM), do not hang */

	T_CHECK(hp_tasklet_setup(NULL, cb) == -EINVAL);
	T_CHECK(hp_tasklet_setup(&t, NULL) == -EINVAL);
	T_CHECK(hp_tasklet_schedule(NULL) == -EINVAL);
	hp_softirq_config_init(&cfg);
	cfg.time_limit_ns = 10000000000ull;   /* exact counts: no 2 ms deferral if the VM preempts us */
	T_CHECK(hp_softirq_create(&cfg, &sys) == 0);
	T_CHECK(hp_tasklet_setup(&t, cb) == 0);
	T_CHECK(hp_tasklet_schedule(&t) == -EPERM);      /* no CPU */
	T_CHECK(t.state == 0);
	T_CHECK(hp_softirq_cpu_attach(sys, 0) == 0);

	/* scheduled three times before it runs: runs once */
	bh_section_schedule(&t, 3);
	T_CHECK(runs == 1 && t.state == 0);
	hp_softirq_stats(sys, 0, &st);
	T_CHECK(st.tasklet_runs == 1 && st.vec_runs[HP_TASKLET_SOFTIRQ] == 1);

	/* scheduled while running: runs again, in the same __do_softirq */
	resched_once = 1;
	bh_section_schedule(&t, 1);
	hp_softirq_stats(sys, 0, &st);
	T_CHECK_MSG(runs == 3, "runs %d", runs);
	T_CHECK(st.do_softirq == 2 && st.passes == 3);

	/* disabled: not run (re-queued, the restart loop gives up and leaves
	 * it to ksoftirqd); after enable it runs */
	T_CHECK(hp_tasklet_disable(&t) == 0);
	bh_section_schedule(&t, 1);
	hp_softirq_stats(sys, 0, &st);
	T_CHECK(runs == 3 && (t.state & HP_TASKLET_STATE_SCHED));
	T_CHECK(st.tasklet_requeues == HP_MAX_SOFTIRQ_RESTART && st.defer_restart == 1);
	T_CHECK(hp_tasklet_enable(&t) == 0);
	T_CHECK(hp_tasklet_enable(&t) == -EINVAL);       /* not disabled */
	T_CHECK(hp_softirq_cond_resched() == 1);         /* ksoftirqd runs it */
	T_CHECK(runs == 4 && t.state == 0);
	/* disable_nosync counts as well */
	hp_tasklet_disable_nosync(&t);
	hp_tasklet_disable_nosync(&t);
	hp_tasklet_enable(&t);
	bh_section_schedule(&t, 1);
	T_CHECK(runs == 4);
	hp_tasklet_enable(&t);
	hp_softirq_cond_resched();
	T_CHECK(runs == 5);

	/* HI_SOFTIRQ (0) runs before TASKLET_SOFTIRQ (6), whatever the order */
	hp_tasklet_setup(&th, cb_hi);
	hp_tasklet_setup(&tn, cb_lo);
	hp_local_bh_disable();
	hp_tasklet_schedule(&tn);
	hp_tasklet_hi_schedule(&th);
	hp_local_bh_enable();
	T_CHECK(norder == 2 && order[0] == 'H' && order[1] == 'N');

	/* tasklet_init with func + data */
	hp_tasklet_init(&to, old_style, 0xabcdUL);
	bh_section_schedule(&to, 1);
	T_CHECK(seen_data == 0xabcd);

	/* kill: scheduled from task context (ksoftirqd woken), kill waits and
	 * lets ksoftirqd run on our CPU, returns with it run and idle */
	int before = runs;
	T_CHECK(hp_tasklet_schedule(&t) == 0);
	T_CHECK(runs == before);
	T_CHECK(hp_tasklet_kill(&t) == 0);
	T_CHECK(runs == before + 1 && t.state == 0);
	/* kill of an idle tasklet returns at once; it can be used again */
	T_CHECK(hp_tasklet_kill(&t) == 0 && t.state == 0);
	bh_section_schedule(&t, 1);
	T_CHECK(runs == before + 2);

	/* kill from interrupt context: -EPERM */
	hp_tasklet_setup(&victim, cb);
	hp_tasklet_setup(&tk, cb_kill);
	bh_section_schedule(&tk, 1);
	T_CHECK(kill_ret == -EPERM);

	T_CHECK(hp_softirq_cpu_detach() == 0);
	T_CHECK(hp_softirq_destroy(sys) == 0);
	return t_done("softirq_tasklet");
}
