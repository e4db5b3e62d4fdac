/* test_softirq_flood.c — impl/softirq: a sender floods a CPU with asynchronous interrupts while its owner masks, disables bh, cond_rescheds and hands the CPU to ksoftirqd; each event is handled exactly once, never while masked. */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <unistd.h>

#include "softirq.h"
#include "t_util.h"

#define N 20000

typedef struct ev {
	struct ev *next;
	int hard, soft;
} ev_t;

static hp_softirq_sys_t *sys;
static ev_t *evs;
static ev_t *backlog;           /* CPU 0's queue: touched by its owner only, irqs off */
static int masked;              /* set by the worker inside its masked sections */
static int violations, processed, stop;

/* hardirq: note the event and hand it to NET_RX, as a NIC driver does */
static void nic_irq(hp_softirq_cpu_t *c, void *arg)
{
	ev_t *e = arg;

	(void)c;
	if (__atomic_load_n(&masked, __ATOMIC_RELAXED) || !hp_in_hardirq())
		__atomic_fetch_add(&violations, 1, __ATOMIC_RELAXED);
	e->hard++;
	e->next = backlog;
	backlog = e;
	hp_raise_softirq_irqoff(HP_NET_RX_SOFTIRQ);
}

static void net_rx(hp_softirq_cpu_t *c, void *arg)
{
	ev_t *list;

	(void)c; (void)arg;
	if (__atomic_load_n(&masked, __ATOMIC_RELAXED) || !hp_in_serving_softirq())
		__atomic_fetch_add(&violations, 1, __ATOMIC_RELAXED);
	hp_local_irq_disable();
	list = backlog;
	backlog = NULL;
	hp_local_irq_enable();
	while (list) {
		ev_t *e = list;

		list = e->next;
		e->soft++;
		__atomic_fetch_add(&processed, 1, __ATOMIC_RELEASE);
	}
}

static void *sender(void *arg)
{
	(void)arg;
	for (int i = 0; i < N; i++) {
		int r;

		while ((r = hp_softirq_send_irq(sys, 0, nic_irq, &evs[i])) == -EAGAIN)
			sched_yield();
		T_CHECK(r == 0);
	}
	return NULL;
}

static void work(int n)
{
	static volatile unsigned sink;

	for (int i = 0; i < n; i++)
		sink += (unsigned)i;
}

static void *worker(void *arg)
{
	(void)arg;
	T_CHECK(hp_softirq_cpu_attach(sys, 0) == 0);
	for (unsigned it = 0; !__atomic_load_n(&stop, __ATOMIC_ACQUIRE); it++) {
		work(200);
		if (it % 7 == 0) {
			hp_local_irq_disable();
			__atomic_store_n(&masked, 1, __ATOMIC_RELAXED);
			work(500);
			usleep(1);      /* a system call inside: signals arrive here */
			__atomic_store_n(&masked, 0, __ATOMIC_RELAXED);
			hp_local_irq_enable();
		}
		if (it % 13 == 0) {
			hp_local_bh_disable();
			work(300);
			hp_local_bh_enable();
		}
		if (it % 50 == 0)
			hp_softirq_cond_resched();
		if (it % 400 == 0) {
			T_CHECK(hp_softirq_cpu_detach() == 0);
			usleep(50);     /* ksoftirqd owns the CPU meanwhile */
			T_CHECK(hp_softirq_cpu_attach(sys, 0) == 0);
		}
		if (it % 3 == 0)
			sched_yield();
	}
	T_CHECK(hp_softirq_cpu_detach() == 0);
	return NULL;
}

int main(void)
{
	hp_softirq_config_t cfg;
	hp_softirq_stats_t st;
	pthread_t tw, ts;

	evs = calloc(N, sizeof(*evs));
	hp_softirq_config_init(&cfg);
	cfg.time_limit_ns = 10000000000ull;   /* exact counts: no 2 ms deferral if the VM preempts us */
	cfg.irq_queue_len = 64;         /* small: the sender meets a full queue */
	T_CHECK(hp_softirq_create(&cfg, &sys) == 0);
	hp_open_softirq(sys, HP_NET_RX_SOFTIRQ, net_rx, NULL);
	pthread_create(&tw, NULL, worker, NULL);
	pthread_create(&ts, NULL, sender, NULL);
	pthread_join(ts, NULL);
	for (int i = 0; i < 20000 && __atomic_load_n(&processed, __ATOMIC_ACQUIRE) < N; i++)
		usleep(1000);
	__atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
	pthread_join(tw, NULL);
	/* the worker's last detach leaves any rest to ksoftirqd */
	for (int i = 0; i < 5000 && __atomic_load_n(&processed, __ATOMIC_ACQUIRE) < N; i++)
		usleep(1000);

	T_CHECK_MSG(__atomic_load_n(&processed, __ATOMIC_ACQUIRE) == N, "processed %d of %d",
		    processed, N);
	int bad = 0;
	for (int i = 0; i < N; i++)
		if (evs[i].hard != 1 || evs[i].soft != 1)
			bad++;
	T_CHECK_MSG(bad == 0, "%d events not handled exactly once", bad);
	T_CHECK_MSG(violations == 0, "%d handler runs while masked or out of context", violations);
	hp_softirq_stats(sys, 0, &st);
	T_CHECK(st.irqs == N);
	printf("irqs %llu signals %llu masked %llu replays %llu idle-wakeups %llu switches %llu ksoftirqd runs %llu\n",
	       (unsigned long long)st.irqs, (unsigned long long)st.irq_signals,
	       (unsigned long long)st.irqs_masked, (unsigned long long)st.irq_replays,
	       (unsigned long long)st.idle_irq_wakeups, (unsigned long long)st.ksoftirqd_switches,
	       (unsigned long long)st.ksoftirqd_runs);
	T_CHECK(hp_softirq_destroy(sys) == 0);
	free(evs);
	return t_done("softirq_flood");
}
