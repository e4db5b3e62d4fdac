/* test_softirq_mask.c — impl/softirq: an interrupt that arrives while irqs are masked runs at local_irq_enable/restore, never before, and is not lost when nobody owns the CPU. */
#include <errno.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "softirq.h"
#include "t_util.h"

/* TSan delays asynchronous signals to its own safe points and may never
 * deliver one to a thread that sleeps in usleep or pthread_join
 * (llvm/llvm-project#83561): the cases that wait for a signal to arrive
 * are left out under TSan, the others run. */
#if defined(__SANITIZE_THREAD__)
#define SIGNALS_RELIABLE 0
#else
#define SIGNALS_RELIABLE 1
#endif

static hp_softirq_sys_t *sys;
static int hard, soft, bad_ctx;
static long hard_tid;

static void act(hp_softirq_cpu_t *c, void *arg)
{
	(void)c; (void)arg;
	__atomic_fetch_add(&soft, 1, __ATOMIC_RELEASE);
}

static void handler(hp_softirq_cpu_t *c, void *arg)
{
	(void)c; (void)arg;
	if (!hp_in_hardirq() || !hp_irqs_disabled())
		bad_ctx = 1;
	__atomic_store_n(&hard_tid, syscall(SYS_gettid), __ATOMIC_RELAXED);
	hp_raise_softirq_irqoff(HP_NET_RX_SOFTIRQ);
	__atomic_fetch_add(&hard, 1, __ATOMIC_RELEASE);
}

static void *sender(void *arg)
{
	(void)arg;
	T_CHECK(hp_softirq_send_irq(sys, 0, handler, NULL) == 0);
	return NULL;
}

static void send_from_thread(void)
{
	pthread_t th;

	pthread_create(&th, NULL, sender, NULL);
	pthread_join(th, NULL);
}

/* waits until the signal reached us and found irqs masked */
static int wait_masked(uint64_t want)
{
	hp_softirq_stats_t st;

	for (int i = 0; i < 5000; i++) {
		hp_softirq_stats(sys, 0, &st);
		if (st.irqs_masked >= want)
			return 1;
		usleep(1000);
	}
	return 0;
}

int main(void)
{
	hp_softirq_config_t cfg;
	hp_softirq_stats_t st;
	long me = syscall(SYS_gettid);

	hp_softirq_config_init(&cfg);
	cfg.time_limit_ns = 10000000000ull;   /* exact counts: no 2 ms deferral if the VM preempts us */
	T_CHECK(hp_softirq_create(&cfg, &sys) == 0);
	hp_open_softirq(sys, HP_NET_RX_SOFTIRQ, act, NULL);
	T_CHECK(hp_softirq_cpu_attach(sys, 0) == 0);

	if (!SIGNALS_RELIABLE)
		goto no_signals;
	/* unmasked: the signal runs the handler and the softirq on this thread */
	send_from_thread();
	T_CHECK(t_wait_at_least(&soft, 1));
	T_CHECK(hard == 1 && hard_tid == me);

	/* masked: recorded, not run; local_irq_enable replays it */
	T_CHECK(hp_local_irq_disable() == 0);
	send_from_thread();
	T_CHECK(wait_masked(1));
	T_CHECK(__atomic_load_n(&hard, __ATOMIC_ACQUIRE) == 1 && soft == 1);
	T_CHECK(hp_local_irq_enable() == 0);
	T_CHECK_MSG(hard == 2 && soft == 2, "hard %d soft %d", hard, soft);

	/* nested save/restore: only the outermost restore replays */
	long f1 = hp_local_irq_save();
	long f2 = hp_local_irq_save();
	send_from_thread();
	T_CHECK(wait_masked(2));
	hp_local_irq_restore(f2);
	T_CHECK(__atomic_load_n(&hard, __ATOMIC_ACQUIRE) == 2);
	hp_local_irq_restore(f1);
	T_CHECK(hard == 3 && soft == 3);

no_signals:
	/* a synchronous interrupt while masked is queued, run at enable */
	hard = soft = 3;
	hp_local_irq_disable();
	T_CHECK(hp_softirq_irq(handler, NULL) == 1);
	T_CHECK(hard == 3);
	hp_local_irq_enable();
	T_CHECK(hard == 4 && soft == 4);

	/* queue full while masked: -EAGAIN, and nothing lost of what fit */
	hp_local_irq_disable();
	int queued = 0, r;
	while ((r = hp_softirq_irq(handler, NULL)) == 1)
		queued++;
	T_CHECK(r == -EAGAIN && queued == (int)cfg.irq_queue_len);
	hp_local_irq_enable();
	T_CHECK(hard == 4 + queued);
	T_CHECK(soft == 5);     /* one softirq pass took all the raises */

	/* nobody owns the CPU: ksoftirqd takes the interrupt (idle task) */
	T_CHECK(hp_softirq_cpu_detach() == 0);
	send_from_thread();
	T_CHECK(t_wait_at_least(&soft, 6));
	T_CHECK(__atomic_load_n(&hard_tid, __ATOMIC_RELAXED) != me);
	hp_softirq_stats(sys, 0, &st);
	T_CHECK(st.idle_irq_wakeups >= 1);

	T_CHECK(hp_softirq_cpu_attach(sys, 0) == 0);
	if (!SIGNALS_RELIABLE)
		goto out;
	/* recorded while masked, it waits through the refused handoffs
	 * (atomic context) and runs exactly once at enable */
	int h0 = __atomic_load_n(&hard, __ATOMIC_ACQUIRE);
	hp_local_irq_disable();
	send_from_thread();
	T_CHECK(wait_masked(3));
	T_CHECK(__atomic_load_n(&hard, __ATOMIC_ACQUIRE) == h0);
	T_CHECK(hp_softirq_cpu_detach() == -EBUSY);
	T_CHECK(hp_softirq_cond_resched() == 0);
	hp_local_irq_enable();
	T_CHECK(__atomic_load_n(&hard, __ATOMIC_ACQUIRE) == h0 + 1);
out:
	T_CHECK(!bad_ctx);
	T_CHECK(hp_softirq_cpu_detach() == 0);
	T_CHECK(hp_softirq_destroy(sys) == 0);
	if (!SIGNALS_RELIABLE && !t_failures)
		t_skip("signal-delivery cases left out under TSan (llvm/llvm-project#83561); the rest passed");
	return t_done("softirq_mask");
}
