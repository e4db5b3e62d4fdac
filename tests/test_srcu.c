/* test_srcu.c — impl/rcu's SRCU beyond the torture test: a reader blocked in one domain holds that domain's grace periods and no other's; nesting whose two locks straddle a flip balances; grace periods finish while readers of the same domain never stop entering (some asleep inside); the counts say when a reader is inside. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "srcu.h"
#include "hp_time.h"
#include "t_util.h"

#define LD(x) __atomic_load_n(&(x), __ATOMIC_ACQUIRE)
#define ST(x, v) __atomic_store_n(&(x), (v), __ATOMIC_RELEASE)

static hp_srcu_struct_t a, b;
static int in_cs, leave_cs, sync_done, stop;

/* Enters domain b and sleeps inside until told to leave. */
static void *blocked_reader(void *arg)
{
	int idx = hp_srcu_read_lock(&b);

	(void)arg;
	ST(in_cs, 1);
	while (!LD(leave_cs))
		t_sleep_us(1000);
	hp_srcu_read_unlock(&b, idx);
	return NULL;
}

static void *sync_b(void *arg)
{
	(void)arg;
	hp_synchronize_srcu(&b);
	ST(sync_done, 1);
	return NULL;
}

static void test_domains_independent(void)
{
	pthread_t rd, wr;
	double t0, dt;

	ST(in_cs, 0);
	ST(leave_cs, 0);
	ST(sync_done, 0);
	T_CHECK(pthread_create(&rd, NULL, blocked_reader, NULL) == 0);
	while (!LD(in_cs))
		t_sleep_us(100);
	/* b's reader sleeps inside: a's grace periods do not wait for it */
	t0 = hp_mono_s();
	for (int i = 0; i < 100; i++)
		hp_synchronize_srcu(&a);
	for (int i = 0; i < 100; i++)
		hp_synchronize_srcu_expedited(&a);
	dt = hp_mono_s() - t0;
	T_CHECK_MSG(dt < 5, "200 grace periods of domain a took %.1f s while a reader slept in b", dt);
	T_CHECK(a.gps >= 200);
	/* b's own grace period waits for it */
	T_CHECK(pthread_create(&wr, NULL, sync_b, NULL) == 0);
	t_sleep_us(200000);
	T_CHECK_MSG(!LD(sync_done), "synchronize_srcu(b) returned while b's reader was inside");
	T_CHECK(hp_srcu_readers_active(&b));
	ST(leave_cs, 1);
	pthread_join(wr, NULL);
	pthread_join(rd, NULL);
	T_CHECK(LD(sync_done));
	T_CHECK(!hp_srcu_readers_active(&b));
	printf("domains: 200 grace periods of a in %.3f s with a reader asleep in b; b's waited for it\n", dt);
}

/* The outer lock takes one index, a grace period flips it, the inner lock
 * takes the other: both unlocks must go to the slot of their own lock. */
static void test_nesting_across_flip(void)
{
	int i0, i1;

	i0 = hp_srcu_read_lock(&a);
	/* a grace period from here would wait for this thread: flip by hand
	 * the way srcu_flip does (no other thread uses domain a now) */
	__atomic_store_n(&a.idx, a.idx + 1, __ATOMIC_SEQ_CST);
	i1 = hp_srcu_read_lock(&a);
	T_CHECK_MSG(i0 != i1, "the index did not change across the flip (%d, %d)", i0, i1);
	T_CHECK(hp_srcu_readers_active(&a));
	hp_srcu_read_unlock(&a, i1);
	T_CHECK(hp_srcu_readers_active(&a));
	hp_srcu_read_unlock(&a, i0);
	T_CHECK(!hp_srcu_readers_active(&a));
	hp_synchronize_srcu(&a);
	printf("nesting: locks on both indexes balance\n");
}

/* Back-to-back readers of the same domain, some sleeping inside: without
 * the two slots the count would never reach zero. */
static void *busy_reader(void *arg)
{
	uint64_t n = 0;

	(void)arg;
	while (!LD(stop)) {
		int idx = hp_srcu_read_lock(&a);

		if (++n % 1000 == 0)
			t_sleep_us(50);
		hp_srcu_read_unlock(&a, idx);
	}
	return NULL;
}

static void test_gp_under_reading(void)
{
	pthread_t th[3];
	uint64_t g0 = a.gps;
	double t0 = hp_mono_s();

	ST(stop, 0);
	for (int i = 0; i < 3; i++)
		T_CHECK(pthread_create(&th[i], NULL, busy_reader, NULL) == 0);
	for (int i = 0; i < 100; i++)
		hp_synchronize_srcu(&a);
	ST(stop, 1);
	for (int i = 0; i < 3; i++)
		pthread_join(th[i], NULL);
	T_CHECK(a.gps - g0 == 100);
	T_CHECK(!hp_srcu_readers_active(&a));
	printf("gp_under_reading: 100 grace periods in %.3f s with 3 readers always entering\n",
	       hp_mono_s() - t0);
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	alarm(50);      /* a hang fails the test rather than the test run */
	T_CHECK(hp_init_srcu_struct(&a) == 0);
	T_CHECK(hp_init_srcu_struct(&b) == 0);
	test_domains_independent();
	test_nesting_across_flip();
	test_gp_under_reading();
	hp_cleanup_srcu_struct(&a);
	hp_cleanup_srcu_struct(&b);
	return t_done("srcu");
}
