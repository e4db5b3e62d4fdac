/* test_softirq_tasklet_mt.c — impl/softirq: tasklets across CPUs: never run concurrently, re-run when scheduled elsewhere while running, tasklet_kill waits for the last run. */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <unistd.h>

#include "softirq.h"
#include "t_util.h"

static hp_softirq_sys_t *sys;

/* ---- concurrency ---- */
static hp_tasklet_t shared;
static int inside, overlap, shared_runs, cpu_of_run[2];

static void shared_cb(hp_tasklet_t *t)
{
	(void)t;
	if (__atomic_fetch_add(&inside, 1, __ATOMIC_ACQ_REL) != 0)
		__atomic_fetch_add(&overlap, 1, __ATOMIC_RELAXED);
	for (volatile int i = 0; i < 300; i++)
		;
	shared_runs++;          /* plain: the RUN bit serialises the callback */
	cpu_of_run[hp_softirq_cpu_id(hp_softirq_this_cpu())]++;
	__atomic_fetch_sub(&inside, 1, __ATOMIC_ACQ_REL);
}

static void sched_irq(hp_softirq_cpu_t *c, void *arg)
{
	(void)c;
	hp_tasklet_schedule(arg);
}

static void *hammer(void *arg)
{
	unsigned cpu = (unsigned)(long)arg;

	T_CHECK(hp_softirq_cpu_attach(sys, cpu) == 0);
	for (int i = 0; i < 20000; i++) {
		T_CHECK(hp_softirq_irq(sched_irq, &shared) == 0);
		if (i % 64 == 0)
			hp_softirq_cond_resched();
	}
	T_CHECK(hp_softirq_cpu_detach() == 0);
	return NULL;
}

/* ---- rescheduled on another CPU while running ---- */
static hp_tasklet_t slow;
static int slow_running, slow_go, slow_runs;
static unsigned slow_cpu[4];

static void slow_cb(hp_tasklet_t *t)
{
	(void)t;
	slow_cpu[slow_runs < 4 ? slow_runs : 3] = hp_softirq_cpu_id(hp_softirq_this_cpu());
	__atomic_add_fetch(&slow_runs, 1, __ATOMIC_RELEASE);
	if (slow_runs == 1) {
		__atomic_store_n(&slow_running, 1, __ATOMIC_RELEASE);
		while (!__atomic_load_n(&slow_go, __ATOMIC_ACQUIRE))
			usleep(100);
	}
}

static void *cpu0_runner(void *arg)
{
	(void)arg;
	T_CHECK(hp_softirq_cpu_attach(sys, 0) == 0);
	hp_local_bh_disable();
	hp_tasklet_schedule(&slow);
	hp_local_bh_enable();           /* runs slow_cb here, blocks in it */
	T_CHECK(hp_softirq_cpu_detach() == 0);
	return NULL;
}

/* ---- kill waits for the run in progress ---- */
static hp_tasklet_t longt;
static int long_started, long_done;

static void long_cb(hp_tasklet_t *t)
{
	(void)t;
	__atomic_store_n(&long_started, 1, __ATOMIC_RELEASE);
	usleep(50000);
	__atomic_store_n(&long_done, 1, __ATOMIC_RELEASE);
}

int main(void)
{
	hp_softirq_config_t cfg;
	hp_softirq_stats_t st0, st1;
	pthread_t a, b;
	alarm(10);      /* a corrupted tasklet list loops forever: fail, do not hang */

	hp_softirq_config_init(&cfg);
	cfg.time_limit_ns = 10000000000ull;   /* exact counts: no 2 ms deferral if the VM preempts us */
	cfg.ncpus = 2;
	T_CHECK(hp_softirq_create(&cfg, &sys) == 0);

	/* two CPUs schedule the same tasklet from hardirqs, 20000 times each */
	hp_tasklet_setup(&shared, shared_cb);
	pthread_create(&a, NULL, hammer, (void *)0L);
	pthread_create(&b, NULL, hammer, (void *)1L);
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	T_CHECK(hp_tasklet_kill(&shared) == 0);         /* ksoftirqds finish it */
	T_CHECK(shared.state == 0);
	T_CHECK_MSG(overlap == 0, "%d overlapping runs", overlap);
	T_CHECK(shared_runs >= 1 && shared_runs <= 40000);
	hp_softirq_stats(sys, 0, &st0);
	hp_softirq_stats(sys, 1, &st1);
	T_CHECK(st0.tasklet_runs + st1.tasklet_runs == (uint64_t)shared_runs);
	T_CHECK(cpu_of_run[0] + cpu_of_run[1] == shared_runs);
	printf("shared: %d runs (cpu0 %d, cpu1 %d), requeues %llu + %llu\n", shared_runs,
	       cpu_of_run[0], cpu_of_run[1], (unsigned long long)st0.tasklet_requeues,
	       (unsigned long long)st1.tasklet_requeues);

	/* running on CPU 0, scheduled on CPU 1: CPU 1 finds RUN taken,
	 * re-queues and re-raises (10 passes, then its ksoftirqd); it runs
	 * again on CPU 1 once CPU 0's run is over */
	hp_tasklet_setup(&slow, slow_cb);
	pthread_create(&a, NULL, cpu0_runner, NULL);
	while (!__atomic_load_n(&slow_running, __ATOMIC_ACQUIRE))
		usleep(100);
	T_CHECK(hp_softirq_cpu_attach(sys, 1) == 0);
	hp_softirq_stats(sys, 1, &st1);
	uint64_t rq = st1.tasklet_requeues, dr = st1.defer_restart;
	hp_local_bh_disable();
	T_CHECK(hp_tasklet_schedule(&slow) == 0);
	T_CHECK(slow.state == (HP_TASKLET_STATE_SCHED | HP_TASKLET_STATE_RUN));
	hp_local_bh_enable();
	hp_softirq_stats(sys, 1, &st1);
	T_CHECK(__atomic_load_n(&slow_runs, __ATOMIC_ACQUIRE) == 1);
	T_CHECK(st1.tasklet_requeues - rq == HP_MAX_SOFTIRQ_RESTART);
	T_CHECK(st1.defer_restart - dr == 1);
	__atomic_store_n(&slow_go, 1, __ATOMIC_RELEASE);
	pthread_join(a, NULL);
	T_CHECK(hp_tasklet_unlock_wait(&slow) == 0);
	T_CHECK(hp_softirq_cond_resched() == 1);        /* ksoftirqd/1 runs it */
	T_CHECK(slow_runs == 2 && slow_cpu[0] == 0 && slow_cpu[1] == 1);
	T_CHECK(slow.state == 0);
	T_CHECK(hp_softirq_cpu_detach() == 0);

	/* tasklet_kill while the callback runs: returns after it finished */
	hp_tasklet_setup(&longt, long_cb);
	T_CHECK(hp_softirq_cpu_attach(sys, 0) == 0);
	T_CHECK(hp_tasklet_schedule(&longt) == 0);      /* task context: ksoftirqd/0 */
	T_CHECK(hp_softirq_cpu_detach() == 0);          /* ... which now runs it */
	while (!__atomic_load_n(&long_started, __ATOMIC_ACQUIRE))
		usleep(100);
	T_CHECK(hp_tasklet_kill(&longt) == 0);
	T_CHECK(__atomic_load_n(&long_done, __ATOMIC_ACQUIRE) == 1);
	T_CHECK(__atomic_load_n(&longt.state, __ATOMIC_ACQUIRE) == 0);

	T_CHECK(hp_softirq_destroy(sys) == 0);
	return t_done("softirq_tasklet_mt");
}
