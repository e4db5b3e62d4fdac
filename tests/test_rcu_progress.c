/* test_rcu_progress.c — forward progress of one impl/rcu flavour (built per flavour with -D): grace periods (normal and expedited) under continuous reading, an expedited one waits for an older reader, a call_rcu flood drains, kfree_rcu's batched pages wait for older readers and its barrier frees them all, rcu_barrier waits for exactly the callbacks queued before it, polled cookies wait for older readers. */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#if defined(T_RCU_QSBR)
#include "rcu_qsbr.h"
#elif defined(T_RCU_MEMB)
#include "rcu_memb.h"
#elif defined(T_RCU_PREEMPT)
#include "rcu_preempt.h"
#else
#error "build with -DT_RCU_QSBR, -DT_RCU_MEMB or -DT_RCU_PREEMPT"
#endif

#include "hp_time.h"
#include "t_util.h"

/* ThreadSanitizer delivers an asynchronous signal only when the thread
 * reaches an intercepted call; the signal fallback's readers, busy in
 * plain loops, would never answer. */
static void skip_signal_fallback_under_tsan(void)
{
#if defined(HP_RCU_TSAN)
	const char *f = getenv("HP_RCU_FORCE_SIGNAL");

	if (f && strcmp(f, "1") == 0)
		t_skip("the signal fallback cannot run under ThreadSanitizer (signals wait for intercepted calls)");
#endif
}

#define LD(x) __atomic_load_n(&(x), __ATOMIC_ACQUIRE)
#define ST(x, v) __atomic_store_n(&(x), (v), __ATOMIC_RELEASE)

/* ================================================================== */
/* Grace periods complete while readers never stop reading             */
/* ================================================================== */

static int stop;
static int shared_val = 1;
static int *shared = &shared_val;

/* Back-to-back critical sections with no gap between them, nested once in
 * three: the writer must not need a moment with no reader inside. */
static void *busy_reader(void *arg)
{
	uint64_t n = 0, sum = 0;

	(void)arg;
	hp_rcu_register_thread();
	while (!LD(stop)) {
		hp_rcu_read_lock();
		if (n % 3 == 0)
			hp_rcu_read_lock();
		sum += (uint64_t)*hp_rcu_dereference(shared);
		if (n % 3 == 0)
			hp_rcu_read_unlock();
		hp_rcu_read_unlock();
		if (++n % 64 == 0)
			hp_rcu_quiescent_state();
	}
	hp_rcu_unregister_thread();
	return (void *)(uintptr_t)sum;
}

static void test_gp_under_reading(void)
{
	pthread_t th[3];
	hp_rcu_stats_t s0, s1;
	double t0;

	ST(stop, 0);
	for (int i = 0; i < 3; i++)
		T_CHECK(pthread_create(&th[i], NULL, busy_reader, NULL) == 0);
	hp_rcu_stats(&s0);
	t0 = hp_mono_s();
	/* normal grace periods of memb and preempt each wait for two of the
	 * kernel's (membarrier global): milliseconds, far more on a loaded
	 * machine, so fewer of them */
	for (int i = 0; i < 20; i++)
		hp_synchronize_rcu();
	hp_rcu_stats(&s1);
	T_CHECK_MSG(s1.gps - s0.gps >= 1, "no grace period completed");
	printf("gp_under_reading: 20 synchronize_rcu in %.3f s with 3 busy readers (%llu grace periods)\n",
	       hp_mono_s() - t0, (unsigned long long)(s1.gps - s0.gps));
	s0 = s1;
	t0 = hp_mono_s();
	for (int i = 0; i < 50; i++)
		hp_synchronize_rcu_expedited();
	hp_rcu_stats(&s1);
	ST(stop, 1);
	for (int i = 0; i < 3; i++)
		pthread_join(th[i], NULL);
	T_CHECK_MSG(s1.exp_gps - s0.exp_gps >= 1, "no expedited grace period completed");
	T_CHECK(s1.exp_gps - s0.exp_gps <= s1.gps - s0.gps);
	printf("gp_under_reading: 50 synchronize_rcu_expedited in %.3f s (%llu grace periods)\n",
	       hp_mono_s() - t0, (unsigned long long)(s1.exp_gps - s0.exp_gps));
}

/* ================================================================== */
/* A call_rcu flood drains                                             */
/* ================================================================== */

#define FLOOD_THREADS 3
#define FLOOD_PER_THREAD 100000

static uint64_t cb_count;

static void count_cb(hp_rcu_head_t *h)
{
	(void)h;
	__atomic_fetch_add(&cb_count, 1, __ATOMIC_RELAXED);
}

static void *flooder(void *arg)
{
	hp_rcu_head_t *heads = arg;

	hp_rcu_register_thread();
	for (int i = 0; i < FLOOD_PER_THREAD; i++) {
		hp_call_rcu(&heads[i], count_cb);
		if (i % 64 == 0)
			hp_rcu_quiescent_state();
	}
	hp_rcu_unregister_thread();
	return NULL;
}

static void test_flood_drains(void)
{
	pthread_t th[FLOOD_THREADS], rd;
	hp_rcu_head_t *heads = calloc((size_t)FLOOD_THREADS * FLOOD_PER_THREAD, sizeof(*heads));
	uint64_t before = LD(cb_count);
	double t0 = hp_mono_s();

	T_CHECK(heads != NULL);
	if (!heads)
		return;
	ST(stop, 0);
	T_CHECK(pthread_create(&rd, NULL, busy_reader, NULL) == 0);
	for (int i = 0; i < FLOOD_THREADS; i++)
		T_CHECK(pthread_create(&th[i], NULL, flooder, heads + (size_t)i * FLOOD_PER_THREAD) == 0);
	for (int i = 0; i < FLOOD_THREADS; i++)
		pthread_join(th[i], NULL);
	/* drains by itself, without rcu_barrier, while a reader keeps reading */
	while (LD(cb_count) - before < (uint64_t)FLOOD_THREADS * FLOOD_PER_THREAD && hp_mono_s() - t0 < 20)
		t_sleep_us(1000);
	ST(stop, 1);
	pthread_join(rd, NULL);
	T_CHECK_MSG(LD(cb_count) - before == (uint64_t)FLOOD_THREADS * FLOOD_PER_THREAD,
		    "%llu of %d callbacks ran", (unsigned long long)(LD(cb_count) - before),
		    FLOOD_THREADS * FLOOD_PER_THREAD);
	printf("flood_drains: %d callbacks drained in %.3f s\n", FLOOD_THREADS * FLOOD_PER_THREAD,
	       hp_mono_s() - t0);
	free(heads);
}

/* ================================================================== */
/* rcu_barrier waits for the callbacks queued before it, and only them */
/* ================================================================== */

static int slow_done;

static void slow_cb(hp_rcu_head_t *h)
{
	(void)h;
	t_sleep_us(200000);
	ST(slow_done, 1);
}

/* Requeues itself until told to stop: a callback stream that never ends. */
static int chain_stop, chain_live;
static uint64_t chain_runs;

static void chain_cb(hp_rcu_head_t *h)
{
	__atomic_fetch_add(&chain_runs, 1, __ATOMIC_RELAXED);
	if (LD(chain_stop))
		ST(chain_live, 0);
	else
		hp_call_rcu(h, chain_cb);
}

static void test_barrier(void)
{
	enum { N = 5000 };
	static hp_rcu_head_t heads[N], slow, chain;
	uint64_t before = LD(cb_count);
	double t0;

	/* nothing queued: returns */
	hp_rcu_barrier();

	/* every callback queued before it has run when it returns, including
	 * one that takes 200 ms */
	for (int i = 0; i < N; i++)
		hp_call_rcu(&heads[i], count_cb);
	hp_call_rcu(&slow, slow_cb);
	hp_rcu_barrier();
	T_CHECK_MSG(LD(cb_count) - before == N, "rcu_barrier returned with %llu of %d callbacks run",
		    (unsigned long long)(LD(cb_count) - before), N);
	T_CHECK_MSG(LD(slow_done) == 1, "rcu_barrier returned before a slow callback finished");

	/* it does not wait for callbacks queued after it: an endless chain */
	ST(chain_live, 1);
	hp_call_rcu(&chain, chain_cb);
	t0 = hp_mono_s();
	for (int i = 0; i < 5; i++)
		hp_rcu_barrier();
	T_CHECK_MSG(hp_mono_s() - t0 < 10, "rcu_barrier waited %.1f s behind a self-requeuing callback",
		    hp_mono_s() - t0);
	T_CHECK(LD(chain_runs) >= 5);
	ST(chain_stop, 1);
	hp_rcu_barrier();
	hp_rcu_barrier();
	T_CHECK_MSG(LD(chain_live) == 0, "the self-requeuing callback is still queued after two barriers");
	printf("barrier: %d + 1 slow callbacks waited for; 5 barriers beside an endless chain in %.3f s\n",
	       N, hp_mono_s() - t0);
}

/* ================================================================== */
/* Polled cookies                                                      */
/* ================================================================== */

static int in_cs, leave_cs;

/* Holds one critical section open until told to leave. qsbr: being online
 * without announcing a quiescent state is the critical section. */
static void *holding_reader(void *arg)
{
	(void)arg;
	hp_rcu_register_thread();
	hp_rcu_read_lock();
	ST(in_cs, 1);
	while (!LD(leave_cs))
		t_sleep_us(1000);
	hp_rcu_read_unlock();
	hp_rcu_quiescent_state();
	ST(in_cs, 0);
	hp_rcu_unregister_thread();
	return NULL;
}

static void test_polled(void)
{
	pthread_t th;
	unsigned long c1, c2, c3;
	double t0;
	int done;

	/* with no reader, a started cookie completes by itself */
	c1 = hp_start_poll_synchronize_rcu();
	t0 = hp_mono_s();
	while (!(done = hp_poll_state_synchronize_rcu(c1)) && hp_mono_s() - t0 < 10)
		t_sleep_us(100);
	T_CHECK_MSG(done, "a start_poll cookie did not complete in 10 s with no reader");

	/* synchronize_rcu completes an earlier cookie */
	c1 = hp_get_state_synchronize_rcu();
	hp_synchronize_rcu();
	T_CHECK(hp_poll_state_synchronize_rcu(c1));

	/* a cookie taken while a reader is inside is not complete until it
	 * leaves, however long the grace-period machinery runs meanwhile */
	ST(in_cs, 0);
	ST(leave_cs, 0);
	T_CHECK(pthread_create(&th, NULL, holding_reader, NULL) == 0);
	while (!LD(in_cs))
		t_sleep_us(100);
	c2 = hp_start_poll_synchronize_rcu();
	c3 = hp_get_state_synchronize_rcu();
	t_sleep_us(200000);
	T_CHECK_MSG(!hp_poll_state_synchronize_rcu(c2),
		    "a cookie completed while a reader that started before it was still inside");
	T_CHECK(!hp_poll_state_synchronize_rcu(c3));
	ST(leave_cs, 1);
	t0 = hp_mono_s();
	while (!(done = hp_poll_state_synchronize_rcu(c2)) && hp_mono_s() - t0 < 10)
		t_sleep_us(100);
	T_CHECK_MSG(done, "the cookie did not complete in 10 s after the reader left");
	pthread_join(th, NULL);
	hp_cond_synchronize_rcu(c3);
	T_CHECK(hp_poll_state_synchronize_rcu(c3));
	printf("polled: cookies wait for older readers, then complete\n");
}

/* ================================================================== */
/* An expedited grace period waits for a reader already inside         */
/* ================================================================== */

static int exp_done;

static void *exp_writer(void *arg)
{
	(void)arg;
	hp_synchronize_rcu_expedited();
	ST(exp_done, 1);
	return NULL;
}

static void test_expedited_waits(void)
{
	pthread_t rd, wr;

	ST(in_cs, 0);
	ST(leave_cs, 0);
	ST(exp_done, 0);
	T_CHECK(pthread_create(&rd, NULL, holding_reader, NULL) == 0);
	while (!LD(in_cs))
		t_sleep_us(100);
	T_CHECK(pthread_create(&wr, NULL, exp_writer, NULL) == 0);
	t_sleep_us(100000);
	T_CHECK_MSG(!LD(exp_done), "synchronize_rcu_expedited returned while an older reader was inside");
	ST(leave_cs, 1);
	pthread_join(wr, NULL);
	pthread_join(rd, NULL);
	T_CHECK(LD(exp_done));
	printf("expedited: waits for a reader already inside, then returns\n");
}

/* ================================================================== */
/* kfree_rcu: a full page waits for an older reader; the barrier frees  */
/* ================================================================== */

#define KF_PAGE_OBJS 509        /* pointers in one bulk page (rcu.c) */

static void test_kfree_rcu(void)
{
	pthread_t rd;
	hp_rcu_stats_t s0, s1;

	hp_kvfree_rcu_barrier();        /* nothing left over from before */
	hp_rcu_stats(&s0);
	ST(in_cs, 0);
	ST(leave_cs, 0);
	T_CHECK(pthread_create(&rd, NULL, holding_reader, NULL) == 0);
	while (!LD(in_cs))
		t_sleep_us(100);
	/* a full page, queued for one grace period, and a partial one */
	for (int i = 0; i < KF_PAGE_OBJS + 10; i++) {
		char *p = malloc(32);

		T_CHECK(p != NULL);
		p[0] = (char)i;
		hp_kvfree_call_rcu(p);
	}
	t_sleep_us(200000);
	hp_rcu_stats(&s1);
	T_CHECK_MSG(s1.kfree_queued - s0.kfree_queued == KF_PAGE_OBJS + 10, "%llu queued",
		    (unsigned long long)(s1.kfree_queued - s0.kfree_queued));
	T_CHECK_MSG(s1.kfree_pages - s0.kfree_pages == 1, "%llu pages queued, want the one full page",
		    (unsigned long long)(s1.kfree_pages - s0.kfree_pages));
	T_CHECK_MSG(s1.kfree_freed == s0.kfree_freed,
		    "kfree_rcu freed %llu objects while a reader older than them was inside",
		    (unsigned long long)(s1.kfree_freed - s0.kfree_freed));
	ST(leave_cs, 1);
	pthread_join(rd, NULL);
	hp_kvfree_rcu_barrier();
	hp_rcu_stats(&s1);
	T_CHECK_MSG(s1.kfree_freed - s0.kfree_freed == KF_PAGE_OBJS + 10,
		    "kvfree_rcu_barrier returned with %llu of %d objects freed",
		    (unsigned long long)(s1.kfree_freed - s0.kfree_freed), KF_PAGE_OBJS + 10);
	T_CHECK(s1.kfree_pages - s0.kfree_pages == 2);
	printf("kfree_rcu: a full page of %d waited for the reader; the barrier freed all %d in 2 pages\n",
	       KF_PAGE_OBJS, KF_PAGE_OBJS + 10);
}

int main(void)
{
	hp_rcu_stats_t s;

	skip_signal_fallback_under_tsan();
	setvbuf(stdout, NULL, _IOLBF, 0);
	alarm(110);     /* a hang fails the test rather than the test run (timeout 120) */
	hp_rcu_stats(&s);
	printf("flavour %s, barrier %s\n", s.flavour, s.mb);
#if defined(T_RCU_QSBR)
	T_CHECK_STR(s.mb, "none");
#else
	{
		const char *f = getenv("HP_RCU_FORCE_SIGNAL");

		if (f && strcmp(f, "1") == 0)
			T_CHECK_STR(s.mb, "signal");
		else
			T_CHECK(strcmp(s.mb, "membarrier") == 0 || strcmp(s.mb, "signal") == 0);
		/* normal grace periods: the kernel's own (global) where there is
		 * membarrier and the command, else the expedited barrier */
		if (strcmp(s.mb, "membarrier") == 0)
			T_CHECK(strcmp(s.mb_normal, "membarrier-global") == 0 ||
				strcmp(s.mb_normal, "membarrier") == 0);
		else
			T_CHECK_STR(s.mb_normal, s.mb);
	}
#endif
	test_gp_under_reading();
	test_flood_drains();
	test_barrier();
	test_polled();
	test_expedited_waits();
	test_kfree_rcu();
	return t_done("rcu_progress");
}
